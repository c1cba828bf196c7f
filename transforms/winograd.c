/* Winograd F(4x4, 3x3): see winograd.h. The matrices are Lavin & Gray's
 * (points 0, +-1, +-2, infinity):
 *
 *   B^T = [4  0 -5  0  1  0]   G = [ 1/4     0     0 ]   A^T = [1 1  1 1  1 0]
 *         [0 -4 -4  1  1  0]       [-1/6  -1/6  -1/6 ]         [0 1 -1 2 -2 0]
 *         [0  4 -4 -1  1  0]       [-1/6   1/6  -1/6 ]         [0 1  1 4  4 0]
 *         [0 -2 -1  2  1  0]       [1/24  1/12   1/6 ]         [0 1 -1 8 -8 1]
 *         [0  2 -1 -2  1  0]       [1/24 -1/12   1/6 ]
 *         [0  4  0 -5  0  1]       [ 0      0     1  ]
 *
 * Transforms run a row of tiles at a time on contiguous arrays (vertical
 * pass on whole rows, horizontal pass on the four column phases), so the
 * compiler vectorises them; the 36 products are OpenBLAS/reference GEMMs. */
#include <assert.h>
#include <float.h>
#include <string.h>

#include "common/common.h"
#include "common/cpu.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define LWC_WINO_X86 1
#else
#define LWC_WINO_X86 0
#endif
#include "transforms/gemm.h"
#include "transforms/winograd.h"

#define T 6  /* input tile */
#define E 36 /* Winograd-domain elements */

static const double G[T][3] = {
    { 1.0 / 4, 0, 0 },
    { -1.0 / 6, -1.0 / 6, -1.0 / 6 },
    { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
    { 1.0 / 24, 1.0 / 12, 1.0 / 6 },
    { 1.0 / 24, -1.0 / 12, 1.0 / 6 },
    { 0, 0, 1 },
};

size_t lwc_wino_weight_floats(int cin, int cout) { return (size_t)E * cin * cout; }

void lwc_wino_weight_coefs(float c[36][9])
{
    for (int i = 0; i < T; i++)
        for (int l = 0; l < T; l++)
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++) c[i * T + l][a * 3 + b] = (float)(G[i][a] * G[l][b]);
}

void lwc_wino_weights(const float *wt, int cin, int cout, float *u)
{
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++) {
            const float *g = wt + ((size_t)co * cin + ci) * 9;
            double gg[T][3]; /* G g */
            for (int i = 0; i < T; i++)
                for (int b = 0; b < 3; b++)
                    gg[i][b] = G[i][0] * g[b] + G[i][1] * g[3 + b] + G[i][2] * g[6 + b];
            for (int i = 0; i < T; i++)
                for (int l = 0; l < T; l++) { /* (G g) G^T */
                    double s = gg[i][0] * G[l][0] + gg[i][1] * G[l][1] + gg[i][2] * G[l][2];
                    s = s > FLT_MAX ? FLT_MAX : s < -FLT_MAX ? -FLT_MAX : s; /* NaN stays */
                    u[((size_t)(i * T + l) * cout + co) * cin + ci] = (float)s;
                }
        }
}

/* Tiles per GEMM (at least; whole rows of tiles): 48 keeps a group's
 * operands (36 x (cin + cout) x 48 floats, ~1.5 MB at 96 + 128 channels)
 * near L2; 96, 192 and 384 were 4%, 25% and 47% slower per layer at
 * 768x512 (tools/bench, AMD EPYC, OpenBLAS 0.3.21). */
#define LWC_WINO_GROUP_TILES 48

static int tiles_across(int w) { return (w + LWC_WINO_TILE - 1) / LWC_WINO_TILE; }

/* Row temporaries: the input transform's padded row and 2 x 6 phase-major
 * rows (4 phases of ntw + 1 values), or the output's 24 + 16 rows of tiles. */
static size_t temp_floats(int ntw)
{
    size_t np = (size_t)ntw + 1;
    return LWC_MAX(4 * np + 2 * T * 4 * np, 40 * (size_t)ntw);
}

size_t lwc_wino_work_floats(int cin, int cout, int w, int tile_rows)
{
    int ntw = tiles_across(w);
    return (size_t)E * (cin + cout) * ntw * tile_rows + temp_floats(ntw);
}

int lwc_wino_group_rows(int w)
{
    int ntw = tiles_across(w);
    return LWC_MAX(1, (LWC_WINO_GROUP_TILES + ntw - 1) / ntw);
}

/* --- kernel table (LwcWinoDsp, winograd.h) ---------------------------- */

#define WK(name) name##_c
#define WK_FN
#include "winograd_tmpl.h"
#undef WK
#undef WK_FN
static const LwcWinoDsp k_dsp_c = { "c", bt6_c, at6_c, phases_c, store_row_c };

#if LWC_WINO_X86
#define WK(name) name##_avx2
#define WK_FN __attribute__((target("avx2")))
#include "winograd_tmpl.h"
#undef WK
#undef WK_FN
static const LwcWinoDsp k_dsp_avx2 = { "avx2", bt6_avx2, at6_avx2, phases_avx2, store_row_avx2 };
#endif

const LwcWinoDsp *lwc_wino_dsp(unsigned flags)
{
    const LwcWinoDsp *d = &k_dsp_c;
#if LWC_WINO_X86
    if (lwc_cpu_has(flags, LWC_CPU_LEVEL_AVX2)) d = &k_dsp_avx2;
#endif
    return d;
}

const char *lwc_wino_kernel_name(void) { return lwc_wino_dsp(lwc_cpu_flags())->name; }

/* --- input transform ---------------------------------------------------- */

/* V[e][c][tile] for one row of tiles (origin row ty) of channel plane xc.
 * Each input row is padded (one zero column before, zeros after) and split
 * into its 4 column phases (ph[q][j] = column 4j + q - 1), so both passes
 * run on contiguous arrays: the vertical over the 6 rows, the horizontal
 * over columns 4j-1 .. 4j+4 = ph[0..3][j], ph[0][j+1], ph[1][j+1]. */
static void input_row(const LwcWinoDsp *dsp, const float *xc, int h, int w, int ty, int ntw,
                      float *tmp, float *v, size_t estride)
{
    size_t np = (size_t)ntw + 1, rl = 4 * np;
    float *lin = tmp, *rows = lin + rl, *vert = rows + T * rl;
    for (int k = 0; k < T; k++) {
        int y = ty - 1 + k;
        float *r = rows + k * rl;
        if (y < 0 || y >= h) {
            memset(r, 0, rl * sizeof(float));
            continue;
        }
        memset(lin, 0, rl * sizeof(float));
        memcpy(lin + 1, xc + (size_t)y * w, (size_t)w * sizeof(float));
        dsp->phases(lin, r, np);
    }
    dsp->bt6(vert, vert + rl, vert + 2 * rl, vert + 3 * rl, vert + 4 * rl, vert + 5 * rl, rows,
             rows + rl, rows + 2 * rl, rows + 3 * rl, rows + 4 * rl, rows + 5 * rl, rl);
    for (int i = 0; i < T; i++) {
        const float *p = vert + i * rl;
        float *o = v + (size_t)i * T * estride;
        dsp->bt6(o, o + estride, o + 2 * estride, o + 3 * estride, o + 4 * estride, o + 5 * estride,
                 p, p + np, p + 2 * np, p + 3 * np, p + 1, p + np + 1, (size_t)ntw);
    }
}

/* --- output transform --------------------------------------------------- */

typedef struct OutRow {
    const LwcWinoDsp *dsp;
    int w, ntw, ty, oy0, oy1, relu;
    float bias;
    float *y; /* row oy0 of this output channel */
    float *tmp;
} OutRow;

/* Outputs of one channel's row of tiles from m (36 arrays, estride apart):
 * horizontal pass into r[i][q], vertical into yb[p][q], then rows out. */
static void output_row(const OutRow *o, const float *m, size_t estride)
{
    size_t n = (size_t)o->ntw, es = estride;
    float *r = o->tmp, *yb = r + 24 * n;
    for (int i = 0; i < T; i++) {
        const float *mi = m + (size_t)i * T * es;
        float *ri = r + (size_t)i * 4 * n;
        o->dsp->at6(ri, ri + n, ri + 2 * n, ri + 3 * n, mi, mi + es, mi + 2 * es, mi + 3 * es,
                    mi + 4 * es, mi + 5 * es, n);
    }
    for (int q = 0; q < 4; q++) {
        const float *rq = r + (size_t)q * n;
        float *yq = yb + (size_t)q * n;
        o->dsp->at6(yq, yq + 4 * n, yq + 8 * n, yq + 12 * n, rq, rq + 4 * n, rq + 8 * n,
                    rq + 12 * n, rq + 16 * n, rq + 20 * n, n);
    }
    for (int p = 0; p < 4; p++) {
        int oy = o->ty + p;
        if (oy >= o->oy0 && oy < o->oy1)
            o->dsp->store_row(o->y + (size_t)(oy - o->oy0) * o->w, yb + (size_t)p * 4 * n, n, o->w,
                              o->bias, o->relu);
    }
}

/* ------------------------------------------------------------------------ */

void lwc_wino_conv3x3_rows(const float *x, int cin, int h, int w, const float *u, const float *bias,
                           int cout, int ty0, int tile_rows, int oy0, int oy1, float *y, size_t ldy,
                           int relu, float *work)
{
    int ntw = tiles_across(w), nt = tile_rows * ntw;
    assert(oy0 >= ty0 && oy0 <= oy1 && oy1 <= ty0 + LWC_WINO_TILE * tile_rows && oy1 <= h);
    assert(ldy >= (size_t)(oy1 - oy0) * w);
    if (oy0 == oy1) return;
    float *v = work, *m = v + (size_t)E * cin * nt, *tmp = m + (size_t)E * cout * nt;
    const LwcWinoDsp *dsp = lwc_wino_dsp(lwc_cpu_flags());
    size_t plane = (size_t)h * w;
    for (int tr = 0; tr < tile_rows; tr++) {
        int ty = ty0 + LWC_WINO_TILE * tr;
        if (ty + LWC_WINO_TILE <= oy0 || ty >= oy1) { /* not stored: inputs need not be valid */
            for (size_t r = 0; r < (size_t)E * cin; r++)
                memset(v + r * nt + (size_t)tr * ntw, 0, (size_t)ntw * sizeof(float));
            continue;
        }
        for (int c = 0; c < cin; c++)
            input_row(dsp, x + c * plane, h, w, ty, ntw, tmp, v + (size_t)c * nt + (size_t)tr * ntw,
                      (size_t)cin * nt);
    }
    for (int e = 0; e < E; e++)
        lwc_sgemm(0, 0, cout, nt, cin, 1.0f, u + (size_t)e * cout * cin, cin,
                  v + (size_t)e * cin * nt, nt, 0.0f, m + (size_t)e * cout * nt, nt);
    for (int tr = 0; tr < tile_rows; tr++) {
        int ty = ty0 + LWC_WINO_TILE * tr;
        if (ty + LWC_WINO_TILE <= oy0 || ty >= oy1) continue;
        for (int co = 0; co < cout; co++) {
            OutRow o = {
                dsp, w, ntw, ty, oy0, oy1, relu, bias ? bias[co] : 0.0f, y + co * ldy, tmp
            };
            output_row(&o, m + (size_t)co * nt + (size_t)tr * ntw, (size_t)cout * nt);
        }
    }
}
