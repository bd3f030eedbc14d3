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
 * registers for a block of 16 samples, so the gradient matrix is written once. */
ARS_CLONES static void conv_backward_params(double *dgrad, size_t ld, const double *dy,
                                            const double *x, const ars_conv *layer, int B, int L) {
    const int G = layer->groups, K = layer->taps, F = layer->cout, C = layer->cin;
    const int Cg = C / G, Fg = F / G;
    const size_t xs = (size_t)C * B, ys = (size_t)F * B;
    for (int b0 = 0; b0 < B; b0 += 16) {
        const int nb = B - b0 < 16 ? B - b0 : 16;
        for (int k = 0; k < K; k++) {
            const int sh = ars_conv_shift(layer, k);
            for (int f = 0; f < F; f++) {
                const int j = f / Fg;
                for (int c = 0; c < Cg; c++) {
                    const double *xc = x + (size_t)(j * Cg + c) * B + b0;
                    const double *yf = dy + (size_t)f * B + b0;
                    double acc[16] = {0};
                    for (int t = sh; t < L; t++) {
                        const double *xr = xc + (size_t)(t - sh) * xs;
                        const double *yr = yf + (size_t)t * ys;
#pragma omp simd
                        for (int v = 0; v < nb; v++) {
                            acc[v] = fma(xr[v], yr[v], acc[v]);
                        }
                    }
                    double *g = dgrad + ((size_t)(k * Cg + c) * F + f) * ld + b0;
                    for (int v = 0; v < nb; v++) {
                        g[v] += acc[v];
                    }
                }
            }
        }
        if (layer->bias != NULL) {
            for (int f = 0; f < F; f++) {
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
                    g[v] += acc[v];
                }
            }
        }
    }
}

/* Input gradient: the forward's transpose, site by site. */
ARS_CLONES static void conv_backward_input(double *dx, const double *dy, const ars_conv *layer,
                                           int B, int L) {
    const int G = layer->groups, K = layer->taps, F = layer->cout, C = layer->cin;
    const int Cg = C / G, Fg = F / G;
    const size_t xs = (size_t)C * B, ys = (size_t)F * B;
    const double *W = layer->kernel;
    for (int t = 0; t < L; t++) {
        for (int k = 0; k < K; k++) {
            const int s = t - ars_conv_shift(layer, k);
            if (s < 0) {
                continue;
            }
            for (int j = 0; j < G; j++) {
                for (int c = 0; c < Cg; c++) {
                    double *d = dx + (size_t)s * xs + (size_t)(j * Cg + c) * B;
                    const double *w = W + ((size_t)k * Cg + c) * F + (size_t)j * Fg;
                    for (int f = 0; f < Fg; f++) {
                        const double wf = w[f];
                        const double *yr = dy + (size_t)t * ys + (size_t)(j * Fg + f) * B;
#pragma omp simd
                        for (int b = 0; b < B; b++) {
                            d[b] = fma(wf, yr[b], d[b]);
                        }
                    }
                }
            }
        }
    }
}

void ars_conv_backward(double *dx, double *dgrad, size_t ld, const double *dy, const double *x,
                       const ars_conv *layer, int B, int L) {
    conv_backward_params(dgrad, ld, dy, x, layer, B, L);
    if (dx != NULL) {
        conv_backward_input(dx, dy, layer, B, L);
    }
}
