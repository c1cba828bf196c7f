/* Rate terms for training: the Gaussian conditional for the latent y and the
 * factorized density (Balle et al. 2018, appendix 6.1) for the hyper-latent z,
 * each with forward (total bits) and backward (gradients) in one call.
 *
 * Conventions follow CompressAI so that its published behaviour is a guide:
 * - a value v is coded as the integer bin [v-0.5, v+0.5] around it (v is y or
 *   z plus uniform noise while training, the rounded value at evaluation);
 * - every likelihood is lower-bounded at LWC_LIKELIHOOD_MIN. Like CompressAI's
 *   LowerBound, the bound only clamps the value: the gradient still flows from
 *   the unclamped likelihood, scaled by 1/LWC_LIKELIHOOD_MIN, because the loss
 *   always wants a larger likelihood. This keeps a small pull on outliers
 *   instead of a dead zone. Finite differences therefore match the gradient
 *   only where the likelihood is above the bound.
 * Storage is float32; everything is computed in double. All functions are
 * pure (no hidden state) and safe to call from several threads. */
#ifndef LWC_TRAIN_LIKELIHOOD_H
#define LWC_TRAIN_LIKELIHOOD_H

#include <stddef.h>

#define LWC_LIKELIHOOD_MIN 1e-9
#define LWC_GAUSS_SCALE_MIN 0.11  /* matches the smallest coded scale level */
#define LWC_GAUSS_SCALE_MAX 256.0 /* matches the largest coded scale level */

/* ---- Gaussian conditional ------------------------------------------------ */

/* Likelihood of the unit bin around v under N(mu, sigma^2), sigma used as
 * given (no clamp), before the lower bound: Phi((0.5-|v-mu|)/sigma) -
 * Phi((-0.5-|v-mu|)/sigma), both terms through erfc so tails keep their
 * relative precision. */
double lwc_gauss_likelihood(double v, double mu, double sigma);

/* Total rate in bits of n values: sum of -log2(max(p, LWC_LIKELIHOOD_MIN))
 * with sigma = clamp(exp(log_sigma), LWC_GAUSS_SCALE_MIN, LWC_GAUSS_SCALE_MAX).
 * Writes (=, not +=) d(total bits)/d(input) into dv, dmu, dlog_sigma; any of
 * them may be NULL. Where sigma is clamped, dlog_sigma is 0. n == 0 returns 0;
 * a NaN input makes the total NaN (it is not hidden by the bound). */
double lwc_gauss_rate_fwd_bwd(const float *v, const float *mu, const float *log_sigma,
                              size_t n, float *dv, float *dmu, float *dlog_sigma);

/* The coder's choice among its scale levels (entropy/cdf.h): bounds[i] is
 * the scale at which coding a zero-mean discretised Gaussian with the
 * table of level i and with that of level i + 1 cost the same expected
 * bits (bisection on the two cross-entropies), so scales in
 * (bounds[i-1], bounds[i]] take level i; bounds[n-1] = the last level.
 * n <= LWC_SCALE_LEVELS. LWC_ERR_NOMEM, else 0. */
int lwc_gauss_table_bounds(const double *levels, int n, double *bounds);

/* ---- Factorized density --------------------------------------------------- */

/* One univariate density per channel, c(x) = sigmoid(f(x)) with f a tiny
 * monotone MLP of widths 1-3-3-3-1: per layer k, h = softplus(R_k) x + b_k,
 * and for the first three layers x' = h + tanh(a_k) * tanh(h).
 *
 * Parameter layout in `params` (raw, trainable values), layer after layer:
 *   R_k at matrix_off[k]: channels x out_k x in_k (row-major [c][out][in])
 *   b_k at bias_off[k]:   channels x out_k
 *   a_k at factor_off[k]: channels x out_k        (k = 0..2 only)
 * with (in_k, out_k) = (1,3), (3,3), (3,3), (3,1): 43 values per channel.
 *
 * CompressAI also trains "quantiles" with an auxiliary loss to find where the
 * density has mass; we do not: lwc_factorized_pmf searches the tails of c
 * directly by bisection when the model is exported. */
#define LWC_FACT_LAYERS 4

typedef struct LwcFactorized {
    int channels;
    float *params;  /* owned: nparams floats, layout above */
    size_t nparams;
    size_t matrix_off[LWC_FACT_LAYERS];
    size_t bias_off[LWC_FACT_LAYERS];
    size_t factor_off[LWC_FACT_LAYERS - 1];
} LwcFactorized;

/* Allocate and initialise like CompressAI's EntropyBottleneck: with
 * s = init_scale^(1/4), R_k = log(expm1(1/s/out_k)), a_k = 0, b_k uniform in
 * [-0.5, 0.5] from a fixed-seed generator (same parameters every call), so
 * the initial density is a smooth bump about init_scale wide. init_scale = 10
 * is the usual value. Returns 0, LWC_ERR_INVAL (channels < 1 or
 * init_scale <= 0) or LWC_ERR_NOMEM; on failure *f is zeroed. */
int lwc_factorized_init(LwcFactorized *f, int channels, double init_scale);

/* Free the parameters and zero the struct. NULL-safe. */
void lwc_factorized_free(LwcFactorized *f);

/* Total rate in bits of z (NCHW: n images, `channels` planes of hw values):
 * sum of -log2(max(c(z+0.5) - c(z-0.5), LWC_LIKELIHOOD_MIN)), the difference
 * taken on the side of the sigmoid that is not saturated. Writes (=) the
 * gradient wrt z into dz and accumulates (+=) the gradient wrt params into
 * dparams (nparams floats); either may be NULL. Returns a negative value
 * (LWC_ERR_INVAL) if channels != f->channels or a size is negative. */
double lwc_factorized_rate_fwd_bwd(const LwcFactorized *f, const float *z, int n,
                                   int channels, int hw, float *dz, float *dparams);

/* The same for `channels` planes coded with channels c0 .. c0+channels-1
 * of f (a per-level density holds L sets of channels); dparams is laid out
 * as f's whole parameter vector. LWC_ERR_INVAL if they are not in f. */
double lwc_factorized_rate_at(const LwcFactorized *f, int c0, const float *z, int n, int channels, int hw,
                              float *dz, float *dparams);

/* Copies of src's channels into dst (dst->channels a multiple of
 * src->channels): dst channel c takes src channel c % src->channels, from
 * the arrays sp (laid out as src's params) into dp (as dst's). Grows a
 * shared density into one per rate level, for the parameters and for their
 * Adam moments alike. */
void lwc_factorized_tile(const LwcFactorized *src, const float *sp, const LwcFactorized *dst, float *dp);

/* The cumulative c(x) of one channel in double precision. */
double lwc_factorized_cdf(const LwcFactorized *f, int channel, double x);

/* Integer pmf of one channel for building the coder's tables. Finds [lo, hi],
 * the integers whose bins hold all but about LWC_LIKELIHOOD_MIN of the mass on
 * each side, narrowed to at most max_half_width around the rounded median.
 * Writes pmf[i] = c(lo+i+0.5) - c(lo+i-0.5) for i = 0..hi-lo, then one escape
 * slot pmf[hi-lo+1] with the mass outside [lo-0.5, hi+0.5]; *offset = -lo and
 * *n = hi-lo+2. pmf must hold 2*max_half_width+2 doubles (the caller owns it).
 * Returns 0, or LWC_ERR_INVAL for a bad channel or max_half_width < 0 or a
 * density whose median cannot be found (non-finite parameters). */
int lwc_factorized_pmf(const LwcFactorized *f, int channel, int max_half_width,
                       int *offset, double *pmf, int *n);

#endif
