/* Rate terms for training (see likelihood.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "entropy/cdf.h"
#include "learn/likelihood.h"

#define LN2 0.69314718055994530942
#define INV_SQRT2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794

/* ---- Gaussian conditional ------------------------------------------------ */

/* Phi(x) through erfc: accurate relative precision for x << 0, which is
 * where both terms of a tail likelihood live (|v-mu| >= 0.5 makes both
 * arguments negative). */
static double std_cdf(double x) { return 0.5 * erfc(-x * INV_SQRT2); }
static double std_pdf(double x) { return INV_SQRT_2PI * exp(-0.5 * x * x); }

double lwc_gauss_likelihood(double v, double mu, double sigma)
{
    double a = fabs(v - mu);
    return std_cdf((0.5 - a) / sigma) - std_cdf((-0.5 - a) / sigma);
}

/* Bits of one value and their derivatives wrt v and log_sigma (d/dmu is
 * -d/dv). With a = |v-mu|, u = (0.5-a)/s, l = (-0.5-a)/s, p = Phi(u)-Phi(l):
 * dp/da = (phi(l)-phi(u))/s and s*dp/ds = l*phi(l) - u*phi(u). */
static double gauss_one(double v, double mu, double log_sigma, double *dv, double *dls)
{
    double s = exp(log_sigma);
    int clamped = !(s >= LWC_GAUSS_SCALE_MIN && s <= LWC_GAUSS_SCALE_MAX);
    s = LWC_CLAMP(s, LWC_GAUSS_SCALE_MIN, LWC_GAUSS_SCALE_MAX);
    double d = v - mu, a = fabs(d);
    double u = (0.5 - a) / s, l = (-0.5 - a) / s;
    double p = std_cdf(u) - std_cdf(l);
    double pc = p < LWC_LIKELIHOOD_MIN ? LWC_LIKELIHOOD_MIN : p; /* NaN stays NaN */
    /* Gradient passes through the likelihood bound (CompressAI LowerBound). */
    double g = -1.0 / (pc * LN2);
    double pu = std_pdf(u), pl = std_pdf(l);
    double da = g * (pl - pu) / s;
    /* sign(0) = 0 is right: dp/da vanishes at a = 0 by symmetry. */
    *dv = d > 0 ? da : d < 0 ? -da : 0.0;
    *dls = clamped ? 0.0 : g * (l * pl - u * pu);
    return -log(pc) / LN2;
}

double lwc_gauss_rate_fwd_bwd(const float *v, const float *mu, const float *log_sigma,
                              size_t n, float *dv, float *dmu, float *dlog_sigma)
{
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        double gv, gls;
        total += gauss_one(v[i], mu[i], log_sigma[i], &gv, &gls);
        if (dv) dv[i] = (float)gv;
        if (dmu) dmu[i] = (float)-gv;
        if (dlog_sigma) dlog_sigma[i] = (float)gls;
    }
    return total;
}

/* Expected bits of a discretised N(0, s^2) value coded with the discretised
 * N(0, t^2) of half width rt (pt, escape last): the mass beyond rt costs
 * the escape. */
static double cross_bits(double s, const double *pt, int rt)
{
    double sq = s * sqrt(2.0), bits = 0, mass = 0;
    for (int v = -rt; v <= rt; v++) {
        double p = v == 0 ? erf(0.5 / sq) : 0.5 * (erfc((abs(v) - 0.5) / sq) - erfc((abs(v) + 0.5) / sq));
        bits -= p * log2(fmax(pt[v + rt], 1e-300));
        mass += p;
    }
    return bits - fmax(1 - mass, 0) * log2(fmax(pt[2 * rt + 1], 1e-300));
}

int lwc_gauss_table_bounds(const double *levels, int n, double *bounds)
{
    int cap = 2 * (int)ceil(levels[n - 1] * LWC_GAUSS_Z) + 4;
    double *pa = lwc_malloc_array((size_t)cap, sizeof(double)), *pb = lwc_malloc_array((size_t)cap, sizeof(double));
    int r = pa && pb ? LWC_OK : LWC_ERR_NOMEM;
    for (int i = 0; i + 1 < n && r == LWC_OK; i++) {
        int ra, rb;
        lwc_gaussian_pmf(levels[i], &ra, pa, cap);
        lwc_gaussian_pmf(levels[i + 1], &rb, pb, cap);
        double lo = levels[i], hi = levels[i + 1];
        for (int it = 0; it < 50; it++) {
            double mid = sqrt(lo * hi);
            if (cross_bits(mid, pa, ra) <= cross_bits(mid, pb, rb)) lo = mid;
            else hi = mid;
        }
        bounds[i] = sqrt(lo * hi);
    }
    if (r == LWC_OK) bounds[n - 1] = levels[n - 1];
    lwc_free(pa);
    lwc_free(pb);
    return r;
}

/* ---- Factorized density --------------------------------------------------- */

static const int fact_dims[LWC_FACT_LAYERS + 1] = { 1, 3, 3, 3, 1 };
#define FW 3 /* widest layer */
#define FACT_PER_CHANNEL 43

/* One channel's parameters after the fixed reparametrisations, in double. */
typedef struct {
    double H[LWC_FACT_LAYERS][FW][FW];  /* softplus(R) */
    double b[LWC_FACT_LAYERS][FW];
    double ta[LWC_FACT_LAYERS - 1][FW]; /* tanh(a) */
} FactChan;

/* What the backward pass needs from one forward evaluation. */
typedef struct {
    double in[LWC_FACT_LAYERS][FW];    /* input of layer k */
    double t[LWC_FACT_LAYERS - 1][FW]; /* tanh(h) of layer k */
} FactTrace;

/* Gradients of one channel wrt H, b and tanh(a), summed over its values. */
typedef struct {
    double H[LWC_FACT_LAYERS][FW][FW];
    double b[LWC_FACT_LAYERS][FW];
    double ta[LWC_FACT_LAYERS - 1][FW];
} FactGrad;

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static double sigmoid(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* sigmoid'(x) = sigmoid(x) * sigmoid(-x), even in x. */
static double sigmoid_grad(double x)
{
    double e = exp(-fabs(x));
    return e / ((1.0 + e) * (1.0 + e));
}

static void fact_load(const LwcFactorized *f, int c, FactChan *ch)
{
    for (int k = 0; k < LWC_FACT_LAYERS; k++) {
        int in = fact_dims[k], out = fact_dims[k + 1];
        const float *R = f->params + f->matrix_off[k] + (size_t)c * out * in;
        const float *b = f->params + f->bias_off[k] + (size_t)c * out;
        for (int o = 0; o < out; o++) {
            for (int j = 0; j < in; j++) ch->H[k][o][j] = softplus(R[o * in + j]);
            ch->b[k][o] = b[o];
            if (k < LWC_FACT_LAYERS - 1)
                ch->ta[k][o] = tanh(f->params[f->factor_off[k] + (size_t)c * out + o]);
        }
    }
}

/* f(x), the logits of c(x); fills tr when it is not NULL. */
static double fact_logits(const FactChan *ch, double x, FactTrace *tr)
{
    double cur[FW] = { x }, nxt[FW];
    for (int k = 0; k < LWC_FACT_LAYERS; k++) {
        int in = fact_dims[k], out = fact_dims[k + 1];
        if (tr) memcpy(tr->in[k], cur, sizeof(cur));
        for (int o = 0; o < out; o++) {
            double h = ch->b[k][o];
            for (int j = 0; j < in; j++) h += ch->H[k][o][j] * cur[j];
            if (k < LWC_FACT_LAYERS - 1) {
                double t = tanh(h);
                if (tr) tr->t[k][o] = t;
                h += ch->ta[k][o] * t;
            }
            nxt[o] = h;
        }
        memcpy(cur, nxt, sizeof(cur));
    }
    return cur[0];
}

/* Backpropagate g = d(loss)/d(logits) through one traced evaluation:
 * accumulates into gr and returns d(loss)/dx. */
static double fact_backward(const FactChan *ch, const FactTrace *tr, double g, FactGrad *gr)
{
    double gout[FW] = { g }, gin[FW];
    for (int k = LWC_FACT_LAYERS - 1; k >= 0; k--) {
        int in = fact_dims[k], out = fact_dims[k + 1];
        memset(gin, 0, sizeof(gin));
        for (int o = 0; o < out; o++) {
            double dh = gout[o];
            if (k < LWC_FACT_LAYERS - 1) {
                double t = tr->t[k][o];
                gr->ta[k][o] += dh * t;
                dh *= 1.0 + ch->ta[k][o] * (1.0 - t * t);
            }
            gr->b[k][o] += dh;
            for (int j = 0; j < in; j++) {
                gr->H[k][o][j] += dh * tr->in[k][j];
                gin[j] += ch->H[k][o][j] * dh;
            }
        }
        memcpy(gout, gin, sizeof(gin));
    }
    return gout[0];
}

/* Add one channel's gradients into dparams through the reparametrisations:
 * dsoftplus(R)/dR = sigmoid(R), dtanh(a)/da = 1 - tanh(a)^2. */
static void fact_store_grad(const LwcFactorized *f, int c, const FactChan *ch,
                            const FactGrad *gr, float *dparams)
{
    for (int k = 0; k < LWC_FACT_LAYERS; k++) {
        int in = fact_dims[k], out = fact_dims[k + 1];
        size_t mo = f->matrix_off[k] + (size_t)c * out * in;
        size_t bo = f->bias_off[k] + (size_t)c * out;
        for (int o = 0; o < out; o++) {
            for (int j = 0; j < in; j++)
                dparams[mo + o * in + j] += (float)(gr->H[k][o][j] * sigmoid(f->params[mo + o * in + j]));
            dparams[bo + o] += (float)gr->b[k][o];
            if (k < LWC_FACT_LAYERS - 1) {
                double ta = ch->ta[k][o];
                dparams[f->factor_off[k] + (size_t)c * out + o] += (float)(gr->ta[k][o] * (1.0 - ta * ta));
            }
        }
    }
}

/* Mass of the bin [x-0.5, x+0.5] from its logits L < U. CompressAI's sign
 * trick: evaluate on the side where the sigmoids are small (far from 1), so
 * the difference keeps its relative precision in either tail. */
static double bin_mass(double L, double U)
{
    double s = (L + U > 0) ? -1.0 : 1.0;
    return s * (sigmoid(s * U) - sigmoid(s * L));
}

/* Bits of one value; with gr != NULL also accumulates parameter gradients
 * and returns d(bits)/dx in *dx. */
static double fact_one(const FactChan *ch, double x, FactGrad *gr, double *dx)
{
    FactTrace tl, tu;
    double L = fact_logits(ch, x - 0.5, gr ? &tl : NULL);
    double U = fact_logits(ch, x + 0.5, gr ? &tu : NULL);
    double p = bin_mass(L, U);
    double pc = p < LWC_LIKELIHOOD_MIN ? LWC_LIKELIHOOD_MIN : p; /* NaN stays NaN */
    if (gr) {
        /* Gradient passes through the likelihood bound (CompressAI LowerBound). */
        double g = -1.0 / (pc * LN2);
        *dx = fact_backward(ch, &tu, g * sigmoid_grad(U), gr)
            + fact_backward(ch, &tl, -g * sigmoid_grad(L), gr);
    }
    return -log(pc) / LN2;
}

double lwc_factorized_rate_at(const LwcFactorized *f, int c0, const float *z, int n, int channels, int hw,
                              float *dz, float *dparams)
{
    if (!f || !f->params || c0 < 0 || channels < 0 || c0 + channels > f->channels || n < 0 || hw < 0)
        return LWC_ERR_INVAL;
    int need_grad = dz || dparams;
    double total = 0.0;
    for (int c = 0; c < channels; c++) {
        FactChan ch;
        FactGrad gr;
        fact_load(f, c0 + c, &ch);
        memset(&gr, 0, sizeof(gr));
        for (int img = 0; img < n; img++) {
            size_t base = ((size_t)img * channels + c) * (size_t)hw;
            for (int i = 0; i < hw; i++) {
                double dx = 0.0;
                total += fact_one(&ch, z[base + i], need_grad ? &gr : NULL, &dx);
                if (dz) dz[base + i] = (float)dx;
            }
        }
        if (dparams) fact_store_grad(f, c0 + c, &ch, &gr, dparams);
    }
    return total;
}

double lwc_factorized_rate_fwd_bwd(const LwcFactorized *f, const float *z, int n,
                                   int channels, int hw, float *dz, float *dparams)
{
    if (!f || channels != f->channels) return LWC_ERR_INVAL;
    return lwc_factorized_rate_at(f, 0, z, n, channels, hw, dz, dparams);
}

/* Fixed-seed generator for the bias initialisation (splitmix64), so that
 * two runs with the same settings start from the same model. */
static double init_uniform(uint64_t *s)
{
    uint64_t x = (*s += 0x9E3779B97F4A7C15ull);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

static void fact_layout(LwcFactorized *f)
{
    size_t off = 0, C = (size_t)f->channels;
    for (int k = 0; k < LWC_FACT_LAYERS; k++) {
        size_t out = (size_t)fact_dims[k + 1];
        f->matrix_off[k] = off;
        off += C * out * (size_t)fact_dims[k];
        f->bias_off[k] = off;
        off += C * out;
        if (k < LWC_FACT_LAYERS - 1) {
            f->factor_off[k] = off;
            off += C * out;
        }
    }
    f->nparams = off;
}

int lwc_factorized_init(LwcFactorized *f, int channels, double init_scale)
{
    memset(f, 0, sizeof(*f));
    LWC_RET_IF(channels < 1 || !(init_scale > 0), LWC_ERR_INVAL);
    f->channels = channels;
    fact_layout(f);
    f->params = lwc_calloc(f->nparams, sizeof(float)); /* factors start at 0 */
    if (!f->params) {
        memset(f, 0, sizeof(*f));
        return LWC_ERR_NOMEM;
    }
    double scale = pow(init_scale, 1.0 / LWC_FACT_LAYERS);
    uint64_t seed = 0x6C7763u;
    for (int k = 0; k < LWC_FACT_LAYERS; k++) {
        size_t out = (size_t)fact_dims[k + 1], nm = (size_t)channels * out * (size_t)fact_dims[k];
        float r = (float)log(expm1(1.0 / scale / (double)out));
        for (size_t i = 0; i < nm; i++) f->params[f->matrix_off[k] + i] = r;
        for (size_t i = 0; i < (size_t)channels * out; i++)
            f->params[f->bias_off[k] + i] = (float)(init_uniform(&seed) - 0.5);
    }
    return LWC_OK;
}

void lwc_factorized_free(LwcFactorized *f)
{
    if (!f) return;
    lwc_free(f->params);
    memset(f, 0, sizeof(*f));
}

void lwc_factorized_tile(const LwcFactorized *src, const float *sp, const LwcFactorized *dst, float *dp)
{
    size_t C = (size_t)src->channels;
    for (int k = 0; k < LWC_FACT_LAYERS; k++) {
        size_t out = (size_t)fact_dims[k + 1], per[3] = { out * (size_t)fact_dims[k], out, out };
        size_t so[3] = { src->matrix_off[k], src->bias_off[k], k < LWC_FACT_LAYERS - 1 ? src->factor_off[k] : 0 };
        size_t dof[3] = { dst->matrix_off[k], dst->bias_off[k], k < LWC_FACT_LAYERS - 1 ? dst->factor_off[k] : 0 };
        for (int a = 0; a < (k < LWC_FACT_LAYERS - 1 ? 3 : 2); a++)
            for (int c = 0; c < dst->channels; c++)
                memcpy(dp + dof[a] + (size_t)c * per[a], sp + so[a] + (c % C) * per[a], per[a] * sizeof(float));
    }
}

double lwc_factorized_cdf(const LwcFactorized *f, int channel, double x)
{
    FactChan ch;
    fact_load(f, channel, &ch);
    return sigmoid(fact_logits(&ch, x, NULL));
}

/* x in [lo, hi] where the logits cross `target`, by bisection; the logits are
 * increasing in x (softplus > 0 and |tanh(a)| < 1 keep every layer monotone). */
static double solve_logit(const FactChan *ch, double target, double lo, double hi)
{
    for (int i = 0; i < 100 && hi - lo > 1e-9; i++) {
        double mid = 0.5 * (lo + hi);
        if (fact_logits(ch, mid, NULL) < target) lo = mid; else hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* The median (logits = 0): bracket by doubling steps from 0, then bisect.
 * Returns 0 and the median, or -1 when no bracket is found. */
static int fact_median(const FactChan *ch, double *median)
{
    double dir = fact_logits(ch, 0.0, NULL) < 0 ? 1.0 : -1.0;
    double near = 0.0;
    for (double step = 1.0; step < 1e9; step *= 2.0) {
        double far = dir * step;
        double lf = fact_logits(ch, far, NULL);
        if (dir > 0 ? lf >= 0 : lf < 0) {
            *median = dir > 0 ? solve_logit(ch, 0.0, near, far) : solve_logit(ch, 0.0, far, near);
            return 0;
        }
        near = far;
    }
    return -1;
}

/* Where c(x) crosses the tail level on one side (dir = -1: lower, +1: upper),
 * searched no further than `limit` from the median; returns the limit when
 * the tail reaches beyond it. */
static double fact_tail(const FactChan *ch, double median, double dir, double limit)
{
    double target = dir * log((1.0 - LWC_LIKELIHOOD_MIN) / LWC_LIKELIHOOD_MIN);
    double near = median;
    for (double step = 1.0;; step *= 2.0) {
        double d = LWC_MIN(step, limit), far = median + dir * d;
        double lf = fact_logits(ch, far, NULL);
        if (dir < 0 ? lf <= target : lf >= target)
            return dir < 0 ? solve_logit(ch, target, far, near) : solve_logit(ch, target, near, far);
        if (d >= limit) return far;
        near = far;
    }
}

int lwc_factorized_pmf(const LwcFactorized *f, int channel, int max_half_width,
                       int *offset, double *pmf, int *n)
{
    LWC_RET_IF(!f || !f->params || channel < 0 || channel >= f->channels, LWC_ERR_INVAL);
    LWC_RET_IF(max_half_width < 0 || max_half_width > (1 << 24), LWC_ERR_INVAL);
    FactChan ch;
    double median;
    fact_load(f, channel, &ch);
    LWC_RET_IF(fact_median(&ch, &median) < 0, LWC_ERR_INVAL);
    double limit = max_half_width + 1.0;
    /* The integer whose bin holds the tail point: at most ~1e-9 lies beyond. */
    long center = lround(median);
    long lo = (long)floor(fact_tail(&ch, median, -1.0, limit) + 0.5);
    long hi = (long)ceil(fact_tail(&ch, median, 1.0, limit) - 0.5);
    lo = LWC_MAX(lo, center - max_half_width);
    hi = LWC_MIN(hi, center + max_half_width);
    if (hi < lo) lo = hi = center;
    double prev = fact_logits(&ch, lo - 0.5, NULL), first = prev;
    for (long v = lo; v <= hi; v++) {
        double next = fact_logits(&ch, v + 0.5, NULL);
        pmf[v - lo] = bin_mass(prev, next);
        prev = next;
    }
    /* Tails: c(lo-0.5) and 1 - c(hi+0.5) = sigmoid(-logits), both accurate. */
    pmf[hi - lo + 1] = sigmoid(first) + sigmoid(-prev);
    *offset = (int)-lo;
    *n = (int)(hi - lo + 2);
    return LWC_OK;
}
