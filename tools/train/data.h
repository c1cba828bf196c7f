/* Training data: every image decoded into memory once (8-bit RGB), a
 * validation split chosen by file name (never Kodak: the caller passes the
 * training folder), random crops with flips. */
#ifndef LWC_TRAIN_DATA_H
#define LWC_TRAIN_DATA_H

#include <stdint.h>

#include "learn/rng.h"

typedef struct LwcTrainImage {
    int w, h;
    uint8_t *rgb; /* w*h*3 */
    char name[128];
} LwcTrainImage;

typedef struct LwcDataset {
    LwcTrainImage *train, *val;
    int ntrain, nval;
} LwcDataset;

/* Load every PNG/JPEG/PPM of dir whose sides are >= min_side. Every
 * val_every-th file (sorted by name) goes to validation (0: none). At most
 * max_images files (0: all). Prints skipped files to stderr. */
int lwc_dataset_load(LwcDataset *d, const char *dir, int min_side, int val_every, int max_images);
void lwc_dataset_free(LwcDataset *d);

/* Fill planar [3][size][size] floats in [-0.5, 0.5] with a random crop of a
 * random training image, randomly flipped horizontally. *rng advances. */
void lwc_dataset_crop(const LwcDataset *d, int size, uint64_t *rng, float *out);
/* The number of fixed validation crops: whole rounds over the validation
 * images (each round one crop per image) until there are at least
 * min_crops, at most max_crops; 0 without validation images. */
int lwc_dataset_val_count(const LwcDataset *d, int min_crops, int max_crops);
/* Validation crop i (size x size): image i % nval, at the position of round
 * i / nval: round 0 the centre (the crop older trainers used), rounds 1-4
 * the corners of the free range, then fixed pseudo-random places. */
void lwc_dataset_val_crop(const LwcDataset *d, int i, int size, float *out);


#endif
