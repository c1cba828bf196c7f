#include <dirent.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imageio/imageio.h"
#include "common/common.h"
#include "tools/train/data.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int has_image_ext(const char *n)
{
    const char *e = strrchr(n, '.');
    return e && (!strcasecmp(e, ".png") || !strcasecmp(e, ".jpg") || !strcasecmp(e, ".jpeg") || !strcasecmp(e, ".ppm"));
}

/* Sorted list of image file names in dir. */
static int list_dir(const char *dir, char ***names, int *n)
{
    DIR *d = opendir(dir);
    LWC_RET_IF(!d, LWC_ERR_IO);
    int cap = 1024, cnt = 0;
    char **v = lwc_malloc_array((size_t)cap, sizeof(char *));
    struct dirent *e;
    while (v && (e = readdir(d))) {
        if (!has_image_ext(e->d_name) || cnt == cap) continue;
        size_t len = strlen(e->d_name) + 1;
        if (!(v[cnt] = lwc_malloc(len))) break;
        memcpy(v[cnt++], e->d_name, len);
    }
    closedir(d);
    LWC_RET_IF(!v, LWC_ERR_NOMEM);
    qsort(v, (size_t)cnt, sizeof(char *), cmp_str);
    *names = v;
    *n = cnt;
    return LWC_OK;
}

static int to_rgb(const LwcImage *img, LwcTrainImage *t)
{
    t->w = img->width; t->h = img->height;
    t->rgb = lwc_malloc_array((size_t)t->w * t->h, 3);
    LWC_RET_IF(!t->rgb, LWC_ERR_NOMEM);
    for (int y = 0; y < t->h; y++)
        for (int x = 0; x < t->w; x++)
            for (int c = 0; c < 3; c++) {
                int sc = img->channels >= 3 ? c : 0;
                const uint8_t *row = img->data + (size_t)y * img->stride;
                size_t k = (size_t)x * img->channels + sc;
                int v = img->bit_depth == 16 ? ((const uint16_t *)row)[k] >> 8 : row[k];
                t->rgb[((size_t)y * t->w + x) * 3 + c] = (uint8_t)v;
            }
    return LWC_OK;
}

int lwc_dataset_load(LwcDataset *d, const char *dir, int min_side, int val_every, int max_images)
{
    memset(d, 0, sizeof(*d));
    char **names;
    int n;
    LWC_FWD(list_dir(dir, &names, &n));
    if (max_images > 0 && n > max_images) n = max_images;
    d->train = lwc_calloc((size_t)n + 1, sizeof(LwcTrainImage));
    d->val = lwc_calloc((size_t)n + 1, sizeof(LwcTrainImage));
    int r = (d->train && d->val) ? LWC_OK : LWC_ERR_NOMEM;
    for (int i = 0; i < n && r == LWC_OK; i++) {
        char path[4096], err[256];
        LwcImage img;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (lwc_image_read_file(path, &img, err, sizeof(err)) < 0) {
            fprintf(stderr, "lwc train: skipping %s: %s\n", path, err);
            continue;
        }
        int is_val = val_every > 0 && i % val_every == val_every / 2;
        LwcTrainImage *t = is_val ? &d->val[d->nval] : &d->train[d->ntrain];
        if (img.width >= min_side && img.height >= min_side) {
            r = to_rgb(&img, t);
            snprintf(t->name, sizeof(t->name), "%s", names[i]);
            if (r == LWC_OK) { if (is_val) d->nval++; else d->ntrain++; }
        }
        lwc_image_free(&img);
    }
    for (int i = 0; i < n; i++) lwc_free(names[i]);
    lwc_free(names);
    if (r == LWC_OK && d->ntrain == 0) r = LWC_ERR_INVAL;
    if (r < 0) lwc_dataset_free(d);
    return r;
}

void lwc_dataset_free(LwcDataset *d)
{
    for (int i = 0; d->train && i < d->ntrain; i++) lwc_free(d->train[i].rgb);
    for (int i = 0; d->val && i < d->nval; i++) lwc_free(d->val[i].rgb);
    lwc_free(d->train);
    lwc_free(d->val);
    memset(d, 0, sizeof(*d));
}

static void crop(const LwcTrainImage *t, int x0, int y0, int size, int flip, float *out)
{
    size_t plane = (size_t)size * size;
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            int sx = x0 + (flip ? size - 1 - x : x);
            const uint8_t *p = t->rgb + ((size_t)(y0 + y) * t->w + sx) * 3;
            for (int c = 0; c < 3; c++) out[c * plane + (size_t)y * size + x] = p[c] / 255.0f - 0.5f;
        }
}

void lwc_dataset_crop(const LwcDataset *d, int size, uint64_t *rng, float *out)
{
    const LwcTrainImage *t = &d->train[lwc_rng_next(rng) % (uint64_t)d->ntrain];
    int x0 = (int)(lwc_rng_next(rng) % (uint64_t)(t->w - size + 1));
    int y0 = (int)(lwc_rng_next(rng) % (uint64_t)(t->h - size + 1));
    crop(t, x0, y0, size, (int)(lwc_rng_next(rng) & 1), out);
}

int lwc_dataset_val_count(const LwcDataset *d, int min_crops, int max_crops)
{
    if (d->nval <= 0) return 0;
    int rounds = (LWC_MAX(min_crops, 1) + d->nval - 1) / d->nval;
    return LWC_MIN(rounds * d->nval, LWC_MAX(max_crops, 1));
}

void lwc_dataset_val_crop(const LwcDataset *d, int i, int size, float *out)
{
    static const int corner[4][2] = { { 0, 0 }, { 1, 1 }, { 1, 0 }, { 0, 1 } };
    const LwcTrainImage *t = &d->val[i % d->nval];
    int round = i / d->nval, fx = t->w - size, fy = t->h - size, x0 = fx / 2, y0 = fy / 2;
    if (round >= 1 && round <= 4) {
        x0 = corner[round - 1][0] * fx;
        y0 = corner[round - 1][1] * fy;
    } else if (round > 4) {
        uint64_t rng = 0x5EEDull * (uint64_t)(i + 1);
        x0 = (int)(lwc_rng_next(&rng) % (uint64_t)(fx + 1));
        y0 = (int)(lwc_rng_next(&rng) % (uint64_t)(fy + 1));
    }
    crop(t, x0, y0, size, 0, out);
}
