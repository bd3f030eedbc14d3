/*
 * maskedconv1d: forward pass of one masked (causal) 1D convolution; see the header for shapes
 * and the formula, and maskedconv1d_site.h for the register-tiled site kernel.
 */
#include "maskedconv1d.h"

#include <math.h>
#include <string.h>

#include "ars_common.h"

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
#include "maskedconv1d_site.h"
#undef REAL
#undef FMA
#undef NAME
#undef TILE_NB

/* float32: tiles of up to 8 features x 32 batch entries. */
#define REAL float
#define FMA fmaf
#define NAME(x) x##_f
#define TILE_NB 32
#include "maskedconv1d_site.h"
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
