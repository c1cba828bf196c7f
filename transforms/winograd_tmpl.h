/* Winograd transform kernels, compiled once per instruction set: included
 * by winograd.c (no include guard: once per set) with WK(name) and WK_FN
 * (a target attribute) defined. The code is the same plain C each time, so
 * every instance performs the same float operations per value (no FMA:
 * -ffp-contract=off) and gives the same bits; only the vector width the
 * compiler picks differs. The restrict parameters (outputs never alias
 * inputs) let it vectorise without checks. */

/* 1-D B^T on six arrays of n values. */
WK_FN static void WK(bt6)(float *restrict t0, float *restrict t1, float *restrict t2,
                          float *restrict t3, float *restrict t4, float *restrict t5,
                          const float *d0, const float *d1, const float *d2, const float *d3,
                          const float *d4, const float *d5, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float a = d1[i] + d2[i], b = d1[i] - d2[i], c = d3[i] - d1[i], e = d4[i] - d2[i];
        t0[i] = 4.0f * d0[i] - 5.0f * d2[i] + d4[i];
        t1[i] = (d3[i] + d4[i]) - 4.0f * a;
        t2[i] = (d4[i] - d3[i]) + 4.0f * b;
        t3[i] = e + 2.0f * c;
        t4[i] = e - 2.0f * c;
        t5[i] = 4.0f * d1[i] - 5.0f * d3[i] + d5[i];
    }
}

/* 1-D A^T: four arrays of n values from six. */
WK_FN static void WK(at6)(float *restrict o0, float *restrict o1, float *restrict o2,
                          float *restrict o3, const float *m0, const float *m1, const float *m2,
                          const float *m3, const float *m4, const float *m5, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float a = m1[i] + m2[i], b = m1[i] - m2[i], c = m3[i] + m4[i], e = m3[i] - m4[i];
        o0[i] = m0[i] + a + c;
        o1[i] = b + 2.0f * e;
        o2[i] = a + 4.0f * c;
        o3[i] = b + 8.0f * e + m5[i];
    }
}

/* r[q][j] = lin[4j + q]: the 4 column phases of a padded row (np each). */
WK_FN static void WK(phases)(const float *restrict lin, float *restrict r, size_t np)
{
    for (size_t j = 0; j < np; j++) {
        r[j] = lin[4 * j];
        r[np + j] = lin[4 * j + 1];
        r[2 * np + j] = lin[4 * j + 2];
        r[3 * np + j] = lin[4 * j + 3];
    }
}

/* out[4j + q] = src[q][j] + bias (clamped at 0 with relu) for w columns. */
WK_FN static void WK(store_row)(float *restrict out, const float *restrict src, size_t n, int w,
                                float bias, int relu)
{
    size_t full = (size_t)w / 4;
    for (size_t j = 0; j < full; j++)
        for (int q = 0; q < 4; q++) out[4 * j + q] = src[q * n + j] + bias;
    for (int col = (int)full * 4; col < w; col++) out[col] = src[(col & 3) * n + full] + bias;
    if (relu)
        for (int col = 0; col < w; col++) out[col] = out[col] > 0.0f ? out[col] : 0.0f;
}
