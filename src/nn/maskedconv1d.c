/*
 * maskedconv1d: forward pass of one masked (causal) 1D convolution; see the header for shapes
 * and the formula, and maskedconv1d_site.h for the register-tiled site kernel.
 */
#include "nn/maskedconv1d.h"

#include <math.h>
#include <string.h>

#include "core/ars_common.h"

size_t ars_conv_n_params(const ars_conv *layer) {
    size_t nk = (size_t)layer->taps * (size_t)(layer->cin / layer->groups) * (size_t)layer->cout;
    return nk + (layer->bias != NULL ? (size_t)layer->cout : 0);
}

int ars_conv_shift(const ars_conv *layer, int k) {
    return (layer->taps - 1 - k) * layer->dilation + layer->exclusive * layer->dilation;
}

/* float64: tiles of up to 8 features x 16 batch entries (16 AVX-512 accumulators). */
#define REAL double
#define FMA fma
#define NAME(x) x
#define TILE_NB 16
#include "nn/maskedconv1d_site.h"
#undef REAL
#undef FMA
#undef NAME
#undef TILE_NB

/* float32: tiles of up to 8 features x 32 batch entries. */
#define REAL float
#define FMA fmaf
#define NAME(x) x##_f
#define TILE_NB 32
#include "nn/maskedconv1d_site.h"
#undef REAL
#undef FMA
#undef NAME
#undef TILE_NB

void ars_conv_forward(double *out, const double *inp, const ars_conv *layer, int B, int L, int t0,
                      int t1) {
    ARS_ASSERT(0 <= t0 && t0 <= t1 && t1 <= L, "site range [%d, %d) of %d", t0, t1, L);
    const size_t in_site = (size_t)layer->cin * B, out_site = (size_t)layer->cout * B;
    const double *taps[ARS_MAX_TAPS];
    for (int t = t0; t < t1; t++) {
        for (int k = 0; k < layer->taps; k++) {
            int s = t - ars_conv_shift(layer, k);
            taps[k] = s >= 0 ? inp + (size_t)s * in_site : NULL;
        }
        ars_conv_site(out + (size_t)t * out_site, (size_t)B, taps, (size_t)B, layer, layer->kernel,
                      layer->bias, B);
    }
}

/* Per-sample parameter gradients: each (k, c, f) row is a sum over sites accumulated in
 * registers for a block of nb <= 16 samples, so the gradient matrix is written once. The tile of
 * PT_F features x PT_C channels reuses every loaded row PT_C (or PT_F) times; each accumulator
 * still sums its products over t in ascending order from 0, so the bits do not depend on the
 * tiling. */
#define PT_F 4
#define PT_C 2
static inline __attribute__((always_inline)) void
params_tile(double *dgrad, size_t ld, const double *dy, const double *x, int sh, int L, size_t xs,
            size_t ys, size_t B, int k, int Cg, int F, int f0, int c0, int cx0, int b0, int nb,
            int tf, int tc, int accumulate) {
    double acc[PT_F][PT_C][16] = {{{0}}};
    for (int t = sh; t < L; t++) {
        const double *xr = x + (size_t)(t - sh) * xs + (size_t)cx0 * B + b0;
        const double *yr = dy + (size_t)t * ys + (size_t)f0 * B + b0;
        for (int i = 0; i < tf; i++) {
            for (int c = 0; c < tc; c++) {
#pragma omp simd
                for (int v = 0; v < nb; v++) {
                    acc[i][c][v] = fma(xr[(size_t)c * B + v], yr[(size_t)i * B + v], acc[i][c][v]);
                }
            }
        }
    }
    for (int i = 0; i < tf; i++) {
        for (int c = 0; c < tc; c++) {
            double *g = dgrad + ((size_t)(k * Cg + c0 + c) * F + f0 + i) * ld + b0;
            for (int v = 0; v < nb; v++) {
                g[v] = accumulate ? g[v] + acc[i][c][v] : acc[i][c][v];
            }
        }
    }
}

ARS_CLONES static void conv_backward_params(double *dgrad, size_t ld, const double *dy,
                                            const double *x, const ars_conv *layer, int B, int L,
                                            int accumulate) {
    const int G = layer->groups, K = layer->taps, F = layer->cout, C = layer->cin;
    const int Cg = C / G, Fg = F / G;
    const size_t xs = (size_t)C * B, ys = (size_t)F * B;
    /* The sample blocks innermost: each tile's rows of the gradient matrix (B samples of one
     * parameter, B*8 contiguous bytes in a matrix of many MB) are then written in one sweep
     * rather than in B/16 pieces far apart in time (docs/performance.md, step 9). */
    for (int k = 0; k < K; k++) {
        const int sh = ars_conv_shift(layer, k);
        for (int j = 0; j < G; j++) {
            for (int f0 = j * Fg; f0 < (j + 1) * Fg; f0 += PT_F) {
                const int tf = (j + 1) * Fg - f0 < PT_F ? (j + 1) * Fg - f0 : PT_F;
                for (int c0 = 0; c0 < Cg; c0 += PT_C) {
                    const int tc = Cg - c0 < PT_C ? Cg - c0 : PT_C;
                    for (int b0 = 0; b0 < B; b0 += 16) {
                        const int nb = B - b0 < 16 ? B - b0 : 16;
                        /* The full tile with constant bounds, so that it stays in registers. */
                        if (nb == 16 && tf == PT_F && tc == PT_C) {
                            params_tile(dgrad, ld, dy, x, sh, L, xs, ys, (size_t)B, k, Cg, F, f0,
                                        c0, j * Cg + c0, b0, 16, PT_F, PT_C, accumulate);
                        } else {
                            params_tile(dgrad, ld, dy, x, sh, L, xs, ys, (size_t)B, k, Cg, F, f0,
                                        c0, j * Cg + c0, b0, nb, tf, tc, accumulate);
                        }
                    }
                }
            }
        }
    }
    if (layer->bias != NULL) {
        for (int f = 0; f < F; f++) {
            for (int b0 = 0; b0 < B; b0 += 16) {
                const int nb = B - b0 < 16 ? B - b0 : 16;
                double acc[16] = {0};
                for (int t = 0; t < L; t++) {
                    const double *yr = dy + (size_t)t * ys + (size_t)f * B + b0;
#pragma omp simd
                    for (int v = 0; v < nb; v++) {
                        acc[v] += yr[v];
                    }
                }
                double *g = dgrad + ((size_t)K * Cg * F + f) * ld + b0;
                for (int v = 0; v < nb; v++) {
                    g[v] = accumulate ? g[v] + acc[v] : acc[v];
                }
            }
        }
    }
}

/* Input gradient: the forward's transpose. dx[s, c, b] gathers W[k, c, f] dy[s + s_k, f, b]
 * over the taps and features; a tile of IT_C channels x 16 samples stays in registers over all
 * of them. Each accumulator adds its products in the order of the plain loop over t (ascending,
 * so k descending) then f (ascending), starting from dx's value: the same bits. */
#define IT_C 8
static inline __attribute__((always_inline)) void
input_tile(double *d, size_t B, const double *dy, const double *W, const ars_conv *layer, int s,
           int L, size_t ys, int j, int Cg, int Fg, int F, int c0, int tc, int nb) {
    double acc[IT_C][16];
    for (int c = 0; c < tc; c++) {
        for (int v = 0; v < nb; v++) {
            acc[c][v] = d[(size_t)c * B + v];
        }
    }
    for (int k = layer->taps - 1; k >= 0; k--) {
        const int t = s + ars_conv_shift(layer, k);
        if (t >= L) {
            continue;
        }
        const double *w = W + ((size_t)k * Cg + c0) * F + (size_t)j * Fg;
        const double *yt = dy + (size_t)t * ys + (size_t)(j * Fg) * B;
        for (int f = 0; f < Fg; f++) {
            const double *yr = yt + (size_t)f * B;
            for (int c = 0; c < tc; c++) {
                const double wf = w[(size_t)c * F + f];
#pragma omp simd
                for (int v = 0; v < nb; v++) {
                    acc[c][v] = fma(wf, yr[v], acc[c][v]);
                }
            }
        }
    }
    for (int c = 0; c < tc; c++) {
        for (int v = 0; v < nb; v++) {
            d[(size_t)c * B + v] = acc[c][v];
        }
    }
}

ARS_CLONES static void conv_backward_input(double *dx, const double *dy, const ars_conv *layer,
                                           int B, int L) {
    const int G = layer->groups, F = layer->cout, C = layer->cin;
    const int Cg = C / G, Fg = F / G;
    const size_t xs = (size_t)C * B, ys = (size_t)F * B;
    const double *W = layer->kernel;
    for (int s = 0; s < L; s++) {
        for (int j = 0; j < G; j++) {
            for (int c0 = 0; c0 < Cg; c0 += IT_C) {
                const int tc = Cg - c0 < IT_C ? Cg - c0 : IT_C;
                for (int b0 = 0; b0 < B; b0 += 16) {
                    const int nb = B - b0 < 16 ? B - b0 : 16;
                    double *d = dx + (size_t)s * xs + (size_t)(j * Cg + c0) * B + b0;
                    if (tc == IT_C && nb == 16) {
                        input_tile(d, (size_t)B, dy + b0, W, layer, s, L, ys, j, Cg, Fg, F, c0,
                                   IT_C, 16);
                    } else {
                        input_tile(d, (size_t)B, dy + b0, W, layer, s, L, ys, j, Cg, Fg, F, c0, tc,
                                   nb);
                    }
                }
            }
        }
    }
}

void ars_conv_backward(double *dx, double *dgrad, size_t ld, const double *dy, const double *x,
                       const ars_conv *layer, int B, int L, int accumulate) {
    conv_backward_params(dgrad, ld, dy, x, layer, B, L, accumulate);
    if (dx != NULL) {
        conv_backward_input(dx, dy, layer, B, L);
    }
}
