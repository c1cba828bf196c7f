/* Initialisation of the linear path from data: g_a starts as the top-M
 * principal directions of the wavelet packet coefficients (per 8x8 block,
 * 192 values) and the synthesis skip as its transpose, so an untrained model
 * is already a KLT transform coder and training starts from there. */
#ifndef LWC_TRAIN_PCA_H
#define LWC_TRAIN_PCA_H

#include <stdint.h>

#include "tools/train/data.h"
#include "learn/net.h"

/* Eigen-decomposition of a symmetric n x n matrix (cyclic Jacobi): a is
 * destroyed; evals[n] in descending order, evecs[n][n] row i = eigenvector i. */
void lwc_sym_eigen(double *a, int n, double *evals, double *evecs);

/* Set g_a and the synthesis skip from `ncrops` random crops of the data. */
int lwc_net_init_pca(LwcNet *n, const LwcDataset *d, int crop, int ncrops, uint64_t *rng);

#endif
