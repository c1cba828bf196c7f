/* The CDF 9/7 lifting programs of the wavelet packet transform and the
 * engine that runs them (wpt.c). wpt.c holds the synthesis (the decoder's
 * direction); wpt_enc.c the analysis and the two adjoints, which only the
 * encoder and the trainer run. Internal to transforms/. */
#ifndef LWC_WPT_PROG_H
#define LWC_WPT_PROG_H

#define W97_ALPHA (-1.586134342)
#define W97_BETA (-0.05298011854)
#define W97_GAMMA 0.8829110762
#define W97_DELTA 0.4435068522
#define W97_K 1.149604398
#define W97_SQRT2 1.4142135623730951
/* Unit-gain output scaling (see wpt.h). */
#define W97_KS (W97_K / W97_SQRT2)
#define W97_KD (1.0 / (W97_K * W97_SQRT2))

/* One lifting step. to_d: d[i] += a (s[i] + s[i+1]), else
 * s[i] += a (d[i-1] + d[i]); an out-of-range neighbour counts as 0, then
 * e0 adds a*u[0] to target[0] and em adds a*u[m-1] to target[m-1] (u is the
 * source). Symmetric extension is em = 1 for d-steps and e0 = 1 for s-steps;
 * the transpose of a step has the other target and the same e0/em. */
typedef struct LwcLift {
    float a;
    unsigned char to_d, e0, em;
} LwcLift;

/* Analysis programs: lift steps[] in order, then s *= ks, d *= kd.
 * Synthesis programs: s *= ks, d *= kd first, then steps[] in order. */
typedef struct LwcWptProg {
    LwcLift step[4];
    float ks, kd;
} LwcWptProg;

#define DSTEP(a, e0, em) { (float)(a), 1, e0, em }
#define SSTEP(a, e0, em) { (float)(a), 0, e0, em }

/* Run program pg over c planes of h x w, `levels` levels: analysis (levels
 * 1..J) or synthesis (J..1); work holds lwc_wpt_work_size(h, w) floats. */
void lwc_wpt_transform(const LwcWptProg *pg, int analysis, const float *in, int c, int h, int w, int levels,
                       float *out, float *work);

#endif
