/*
 * Specification of one masked convolution layer: it equals NetKet's literal formulation
 * (drop, pad, VALID dilated cross-correlation, feature groups) on random shapes, computes
 * site ranges independently, and is causal; its register-tiled site kernel and backward pass
 * give the bits of plain loops.
 */
#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "core/ars_common.h"
#include "nn/maskedconv1d.h"

/* NetKet's MaskedConv1D written literally: x (B, L, C) -> y (B, L, F). If exclusive, drop the
 * last d sites and left-pad with K'*d zeros, else left-pad with (K'-1)*d zeros; then
 * y[b,t,f] = bias[f] + sum_k sum_c xpad[b, t + k*d, g(f)*Cg + c] * W[k, c, f]. */
static void conv_forward_naive(double *y, const double *x, const ars_conv *c, int B, int L) {
    const int K = c->taps, d = c->dilation, C = c->cin, F = c->cout;
    const int Cg = C / c->groups, Fg = F / c->groups;
    const int keep = c->exclusive ? L - d : L; /* sites kept before padding */
    const int pad = c->exclusive ? K * d : (K - 1) * d;
    const int Lp = (keep > 0 ? keep : 0) + pad;
    double *xp = calloc((size_t)B * Lp * C, sizeof(double));
    assert_non_null(xp);
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < keep; t++) {
            for (int ch = 0; ch < C; ch++) {
                xp[((size_t)b * Lp + pad + t) * C + ch] = x[((size_t)b * L + t) * C + ch];
            }
        }
    }
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < L; t++) {
            for (int f = 0; f < F; f++) {
                int gidx = f / Fg;
                double acc = c->bias != NULL ? c->bias[f] : 0.0;
                for (int k = 0; k < K; k++) {
                    int tp = t + k * d;
                    if (tp >= Lp) {
                        continue; /* only when the dropped part exceeds the chain */
                    }
                    for (int ch = 0; ch < Cg; ch++) {
                        acc += xp[((size_t)b * Lp + tp) * C + gidx * Cg + ch] *
                               c->kernel[((size_t)k * Cg + ch) * F + f];
                    }
                }
                y[((size_t)b * L + t) * F + f] = acc;
            }
        }
    }
    free(xp);
}

typedef struct layer_case {
    ars_conv c;
    double *params;
} layer_case;

static layer_case make_layer(gsl_rng *r, int cin, int cout, int K, int d, int exclusive, int g,
                             int bias) {
    layer_case lc;
    memset(&lc, 0, sizeof lc);
    lc.c.cin = cin;
    lc.c.cout = cout;
    lc.c.taps = K - exclusive;
    lc.c.dilation = d;
    lc.c.exclusive = exclusive;
    lc.c.groups = g;
    size_t nk = (size_t)lc.c.taps * (cin / g) * cout;
    lc.params = malloc((nk + (size_t)cout) * sizeof(double));
    assert_non_null(lc.params);
    for (size_t i = 0; i < nk + (size_t)cout; i++) {
        lc.params[i] = 2.0 * gsl_rng_uniform(r) - 1.0;
    }
    lc.c.kernel = lc.params;
    lc.c.bias = bias ? lc.params + nk : NULL;
    assert_int_equal(ars_conv_n_params(&lc.c), nk + (bias ? (size_t)cout : 0));
    return lc;
}

static double *random_input(gsl_rng *r, size_t n) {
    double *x = malloc(n * sizeof(double));
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) {
        x[i] = 2.0 * gsl_rng_uniform(r) - 1.0;
    }
    return x;
}

/* (B, L, C) sample-major <-> (L, C, B) batch-contiguous. */
static double *to_lcb(const double *x, int B, int L, int C) {
    double *y = malloc((size_t)B * L * C * sizeof(double));
    assert_non_null(y);
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < L; t++) {
            for (int c = 0; c < C; c++) {
                y[((size_t)t * C + c) * B + b] = x[((size_t)b * L + t) * C + c];
            }
        }
    }
    return y;
}

static double *from_lcb(const double *y, int B, int L, int C) {
    double *x = malloc((size_t)B * L * C * sizeof(double));
    assert_non_null(x);
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < L; t++) {
            for (int c = 0; c < C; c++) {
                x[((size_t)b * L + t) * C + c] = y[((size_t)t * C + c) * B + b];
            }
        }
    }
    return x;
}

/* The backward pass written as plain loops, in the order that fixes its bits: each kernel row
 * sums x dy over t ascending from 0 and is then added to dgrad; each dx entry adds
 * W dy over t ascending (the taps from the last), then f ascending, to its value. */
static void conv_backward_plain(double *dx, double *dgrad, size_t ld, const double *dy,
                                const double *x, const ars_conv *c, int B, int L) {
    const int G = c->groups, K = c->taps, F = c->cout, C = c->cin, Cg = C / G, Fg = F / G;
    const size_t xs = (size_t)C * B, ys = (size_t)F * B;
    for (int b = 0; b < B; b++) {
        for (int k = 0; k < K; k++) {
            const int sh = ars_conv_shift(c, k);
            for (int f = 0; f < F; f++) {
                for (int ch = 0; ch < Cg; ch++) {
                    double acc = 0.0;
                    for (int t = sh; t < L; t++) {
                        acc = fma(x[(size_t)(t - sh) * xs + (size_t)((f / Fg) * Cg + ch) * B + b],
                                  dy[(size_t)t * ys + (size_t)f * B + b], acc);
                    }
                    dgrad[((size_t)(k * Cg + ch) * F + f) * ld + b] += acc;
                }
            }
        }
        for (int f = 0; f < F && c->bias != NULL; f++) {
            double acc = 0.0;
            for (int t = 0; t < L; t++) {
                acc += dy[(size_t)t * ys + (size_t)f * B + b];
            }
            dgrad[((size_t)K * Cg * F + f) * ld + b] += acc;
        }
    }
    for (int t = 0; dx != NULL && t < L; t++) {
        for (int k = 0; k < K; k++) {
            const int s = t - ars_conv_shift(c, k);
            for (int f = 0; f < F && s >= 0; f++) {
                const int j = f / Fg;
                for (int ch = 0; ch < Cg; ch++) {
                    for (int b = 0; b < B; b++) {
                        double *d = dx + (size_t)s * xs + (size_t)(j * Cg + ch) * B + b;
                        *d = fma(c->kernel[((size_t)k * Cg + ch) * F + f],
                                 dy[(size_t)t * ys + (size_t)f * B + b], *d);
                    }
                }
            }
        }
    }
}

/* The register-tiled backward kernels give the plain loops' bits, on shapes that fill their
 * tiles (16 features in 2 groups, 37 samples) and shapes that do not, accumulating into the
 * gradients or writing them. */
static void test_backward_equals_plain_loops_bit_for_bit(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 77);
    const int shapes[][7] = {/* cin, cout, K, d, exclusive, groups, bias */
                             {16, 16, 3, 2, 0, 2, 1}, {16, 16, 4, 1, 0, 1, 0},
                             {5, 6, 3, 1, 0, 1, 1},   {9, 12, 2, 3, 0, 3, 1},
                             {1, 16, 3, 1, 1, 1, 1},  {2, 2, 5, 1, 0, 1, 1}};
    const int L = 11;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int *s = shapes[i];
        for (int B = 1; B <= 37; B += 18) {
            layer_case lc = make_layer(r, s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
            const size_t P = ars_conv_n_params(&lc.c), nx = (size_t)L * s[0] * B;
            double *x = random_input(r, nx), *dy = random_input(r, (size_t)L * s[1] * B);
            double *dx1 = random_input(r, nx), *dx2 = malloc(nx * sizeof(double));
            double *g1 = random_input(r, P * (size_t)B),
                   *g2 = malloc(P * (size_t)B * sizeof(double));
            memcpy(dx2, dx1, nx * sizeof(double));
            memcpy(g2, g1, P * (size_t)B * sizeof(double));
            ars_conv_backward(dx1, g1, (size_t)B, dy, x, &lc.c, B, L, 1);
            conv_backward_plain(dx2, g2, (size_t)B, dy, x, &lc.c, B, L);
            assert_memory_equal(g1, g2, P * (size_t)B * sizeof(double));
            assert_memory_equal(dx1, dx2, nx * sizeof(double));
            /* Written instead of accumulated: whatever was there, the bits of += on zeros. */
            double *g3 = random_input(r, P * (size_t)B),
                   *g4 = calloc(P * (size_t)B, sizeof(double));
            ars_conv_backward(NULL, g3, (size_t)B, dy, x, &lc.c, B, L, 0);
            conv_backward_plain(NULL, g4, (size_t)B, dy, x, &lc.c, B, L);
            assert_memory_equal(g3, g4, P * (size_t)B * sizeof(double));
            free(g3);
            free(g4);
            free(x);
            free(dy);
            free(dx1);
            free(dx2);
            free(g1);
            free(g2);
            free(lc.params);
        }
    }
    gsl_rng_free(r);
}

static void test_forward_equals_netket_formulation_on_random_shapes(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 2385);
    /* cin, cout, K, d, exclusive, groups, bias, L: includes K > L, C_in != C_out, d > L. */
    const int cases[][8] = {
        {1, 4, 3, 1, 1, 1, 1, 8}, {4, 4, 3, 1, 0, 1, 1, 8},  {3, 5, 2, 2, 0, 1, 0, 7},
        {6, 4, 3, 2, 0, 2, 1, 9}, {6, 9, 4, 1, 0, 3, 0, 6},  {2, 3, 5, 1, 1, 1, 1, 3},
        {2, 3, 7, 3, 0, 1, 1, 5}, {3, 2, 3, 4, 1, 1, 1, 10}, {4, 2, 2, 9, 1, 1, 1, 6},
        {8, 8, 3, 1, 0, 8, 1, 5}, {5, 7, 6, 2, 1, 1, 0, 12}, {1, 1, 2, 1, 1, 1, 1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *p = cases[i];
        /* Batches below, at and above the tile widths (16 float64, 32 float32). */
        const int B = (int)(1 + 7 * i), L = p[7];
        layer_case lc = make_layer(r, p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
        double *x = random_input(r, (size_t)B * L * p[0]);
        double *xt = to_lcb(x, B, L, p[0]);
        double *yt = calloc((size_t)B * L * p[1], sizeof(double));
        double *ref = calloc((size_t)B * L * p[1], sizeof(double));
        ars_conv_forward(yt, xt, &lc.c, B, L, 0, L);
        double *y = from_lcb(yt, B, L, p[1]);
        conv_forward_naive(ref, x, &lc.c, B, L);
        assert_allclose(y, ref, (size_t)B * L * p[1], 1e-14, 1e-13);
        free(x);
        free(xt);
        free(y);
        free(yt);
        free(ref);
        free(lc.params);
    }
    gsl_rng_free(r);
}

static void test_site_range_is_computed_alone_and_others_untouched(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 77);
    const int B = 2, L = 11, C = 3, F = 4;
    layer_case lc = make_layer(r, C, F, 3, 2, 0, 1, 1);
    double *x = random_input(r, (size_t)B * L * C);
    double *full = malloc((size_t)B * L * F * sizeof(double));
    double *part = malloc((size_t)B * L * F * sizeof(double));
    ars_conv_forward(full, x, &lc.c, B, L, 0, L);
    for (size_t i = 0; i < (size_t)B * L * F; i++) {
        part[i] = 2.385; /* sentinel */
    }
    ars_conv_forward(part, x, &lc.c, B, L, 4, 9);
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < L; t++) {
            for (int f = 0; f < F; f++) {
                size_t i = ((size_t)t * F + f) * B + b; /* (L, F, B) */
                if (t >= 4 && t < 9) {
                    assert_true(part[i] == full[i]); /* bitwise: the same operations */
                } else {
                    assert_true(part[i] == 2.385);
                }
            }
        }
    }
    free(x);
    free(full);
    free(part);
    free(lc.params);
    gsl_rng_free(r);
}

/* Output site t of an exclusive layer must not change when inputs at sites >= t change; a
 * non-exclusive layer may read site t but nothing later. */
static void check_causal(int exclusive) {
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 5 + (uint64_t)exclusive);
    const int L = 9, C = 2, F = 3;
    layer_case lc = make_layer(r, C, F, 3, 1, exclusive, 1, 1);
    double *x = random_input(r, (size_t)L * C);
    double *y0 = malloc((size_t)L * F * sizeof(double));
    double *y1 = malloc((size_t)L * F * sizeof(double));
    ars_conv_forward(y0, x, &lc.c, 1, L, 0, L);
    for (int j = 0; j < L; j++) {
        const double saved = x[(size_t)j * C];
        x[(size_t)j * C] += 0.731;
        ars_conv_forward(y1, x, &lc.c, 1, L, 0, L);
        x[(size_t)j * C] = saved;
        int last_unchanged = exclusive ? j : j - 1; /* sites <= this must be identical */
        for (int t = 0; t < L; t++) {
            /* The bits, not the values: a masked input must not touch an output at all. */
            // NOLINTNEXTLINE(bugprone-suspicious-memory-comparison)
            int same = memcmp(y0 + (size_t)t * F, y1 + (size_t)t * F, F * sizeof(double)) == 0;
            if (t <= last_unchanged) {
                assert_true(same);
            } else if (t == j + (exclusive ? 1 : 0)) {
                assert_false(same); /* the nearest tap does see the change */
            }
        }
    }
    free(x);
    free(y0);
    free(y1);
    free(lc.params);
    gsl_rng_free(r);
}

static void test_exclusive_layer_is_strictly_causal(void **state) {
    (void)state;
    check_causal(1);
}

static void test_inclusive_layer_reads_no_later_site(void **state) {
    (void)state;
    check_causal(0);
}

/* The float32 site kernel agrees with the float64 one to single precision, site by site. */
static void test_float32_site_kernel_agrees_with_float64(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 99);
    const int B = 77, C = 12, F = 10, K = 3;
    layer_case lc = make_layer(r, C, F, K, 1, 0, 2, 1);
    const size_t nk = (size_t)K * (C / 2) * F;
    double *x = random_input(r, (size_t)K * C * B);
    float *xf = malloc((size_t)K * C * B * sizeof(float));
    float *wf = malloc((nk + F) * sizeof(float));
    for (size_t i = 0; i < (size_t)K * C * B; i++) {
        xf[i] = (float)x[i];
    }
    for (size_t i = 0; i < nk + F; i++) {
        wf[i] = (float)lc.params[i];
    }
    const double *taps[3] = {x, NULL, x + 2 * (size_t)C * B}; /* a padded tap in the middle */
    const float *taps_f[3] = {xf, NULL, xf + 2 * (size_t)C * B};
    double *y = malloc((size_t)F * B * sizeof(double));
    float *yf = malloc((size_t)F * B * sizeof(float));
    double *yfd = malloc((size_t)F * B * sizeof(double));
    ars_conv_site(y, (size_t)B, taps, (size_t)B, &lc.c, lc.c.kernel, lc.c.bias, B);
    ars_conv_site_f(yf, (size_t)B, taps_f, (size_t)B, &lc.c, wf, wf + nk, B);
    for (size_t i = 0; i < (size_t)F * B; i++) {
        yfd[i] = yf[i];
    }
    assert_allclose(yfd, y, (size_t)F * B, 1e-5, 1e-5);
    free(x);
    free(xf);
    free(wf);
    free(y);
    free(yf);
    free(yfd);
    free(lc.params);
    gsl_rng_free(r);
}

/* Each output of the site kernel is fma(W, x, .) over (tap, channel) from the bias, written as
 * plain loops in REAL; the tile widths (8 features x 16 or 32 entries, and the narrower tiles of
 * the features left over, up to 128 or 256 entries) must not change a bit. */
// NOLINTBEGIN(bugprone-macro-parentheses): REAL is a type
#define SITE_REF(NAME, REAL, FMA)                                                                  \
    static void NAME(REAL *y, const REAL *const *taps, const REAL *W, const REAL *bias, int Cg,    \
                     int F, int G, int K, int B) {                                                 \
        const int Fg = F / G;                                                                      \
        for (int f = 0; f < F; f++) {                                                              \
            const int j = f / Fg;                                                                  \
            for (int b = 0; b < B; b++) {                                                          \
                REAL acc = bias != NULL ? bias[f] : (REAL)0;                                       \
                for (int k = 0; k < K; k++) {                                                      \
                    for (int c = 0; taps[k] != NULL && c < Cg; c++) {                              \
                        acc = FMA(W[((size_t)k * Cg + c) * F + f],                                 \
                                  taps[k][(size_t)(j * Cg + c) * B + b], acc);                     \
                    }                                                                              \
                }                                                                                  \
                y[(size_t)f * B + b] = acc;                                                        \
            }                                                                                      \
        }                                                                                          \
    }
SITE_REF(site_ref, double, fma)
SITE_REF(site_ref_f, float, fmaf)
// NOLINTEND(bugprone-macro-parentheses)

static void test_site_kernel_gives_the_bits_of_plain_loops_for_every_tile(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 4321);
    const int batches[] = {1, 15, 16, 17, 33, 63, 64, 65, 127, 128, 129, 200, 256, 257, 300};
    const int K = 3, Cg = 5;
    for (int G = 1; G <= 2; G++) {
        for (int Fg = 1; Fg <= 17; Fg++) {
            const int F = Fg * G, C = Cg * G;
            layer_case lc = make_layer(r, C, F, K, 1, 0, G, Fg % 2);
            const size_t nk = (size_t)K * Cg * F, nw = nk + (size_t)F;
            float *wf = malloc(nw * sizeof(float));
            assert_non_null(wf);
            for (size_t i = 0; i < nw; i++) {
                wf[i] = (float)lc.params[i];
            }
            const float *bias_f = lc.c.bias != NULL ? wf + nk : NULL;
            for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++) {
                const int B = batches[bi];
                const size_t nin = (size_t)K * C * B, nout = (size_t)F * B;
                double *x = random_input(r, nin);
                float *xf = malloc(nin * sizeof(float));
                double *y = malloc(nout * sizeof(double)), *ref = malloc(nout * sizeof(double));
                float *yf = malloc(nout * sizeof(float)), *reff = malloc(nout * sizeof(float));
                assert_true(xf != NULL && y != NULL && ref != NULL && yf != NULL && reff != NULL);
                for (size_t i = 0; i < nin; i++) {
                    xf[i] = (float)x[i];
                }
                const size_t site = (size_t)C * B;
                /* The middle tap is the zero padding before the chain. */
                const double *taps[3] = {x, NULL, x + 2 * site};
                const float *taps_f[3] = {xf, NULL, xf + 2 * site};
                ars_conv_site(y, (size_t)B, taps, (size_t)B, &lc.c, lc.c.kernel, lc.c.bias, B);
                site_ref(ref, taps, lc.c.kernel, lc.c.bias, Cg, F, G, K, B);
                assert_memory_equal(y, ref, nout * sizeof(double));
                ars_conv_site_f(yf, (size_t)B, taps_f, (size_t)B, &lc.c, wf, bias_f, B);
                site_ref_f(reff, taps_f, wf, bias_f, Cg, F, G, K, B);
                assert_memory_equal(yf, reff, nout * sizeof(float));
                free(x);
                free(xf);
                free(y);
                free(ref);
                free(yf);
                free(reff);
            }
            free(wf);
            free(lc.params);
        }
    }
    gsl_rng_free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_equals_netket_formulation_on_random_shapes),
        cmocka_unit_test(test_site_range_is_computed_alone_and_others_untouched),
        cmocka_unit_test(test_exclusive_layer_is_strictly_causal),
        cmocka_unit_test(test_inclusive_layer_reads_no_later_site),
        cmocka_unit_test(test_float32_site_kernel_agrees_with_float64),
        cmocka_unit_test(test_site_kernel_gives_the_bits_of_plain_loops_for_every_tile),
        cmocka_unit_test(test_backward_equals_plain_loops_bit_for_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
