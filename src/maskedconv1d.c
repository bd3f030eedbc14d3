/*
 * maskedconv1d: forward pass of one masked (causal) 1D convolution; see the header for shapes
 * and the formula. The loops run site by site, tap by tap, with the output features innermost
 * so that the kernel row W[k, c, :] is read contiguously and the compiler can vectorise.
 */
#include "maskedconv1d.h"

#include <string.h>

#include "ars_common.h"

size_t ars_conv_n_params(const ars_conv *layer) {
    size_t nk = (size_t)layer->taps * (size_t)(layer->cin / layer->groups) * (size_t)layer->cout;
    return nk + (layer->bias != NULL ? (size_t)layer->cout : 0);
}

int ars_conv_shift(const ars_conv *layer, int k) {
    return (layer->taps - 1 - k) * layer->dilation + layer->exclusive * layer->dilation;
}

void ars_conv_forward(double *out, const double *inp, const ars_conv *layer, int B, int L, int t0,
                      int t1) {
    ARS_ASSERT(0 <= t0 && t0 <= t1 && t1 <= L, "site range [%d, %d) of %d", t0, t1, L);
    ARS_ASSERT(layer->cin % layer->groups == 0 && layer->cout % layer->groups == 0,
               "groups %d do not divide %d -> %d", layer->groups, layer->cin, layer->cout);
    const int C = layer->cin, F = layer->cout, G = layer->groups;
    const int Cg = C / G, Fg = F / G;
    const double *W = layer->kernel;
    for (int b = 0; b < B; b++) {
        const double *xb = inp + (size_t)b * L * C;
        double *yb = out + (size_t)b * L * F;
        for (int t = t0; t < t1; t++) {
            double *y = yb + (size_t)t * F;
            if (layer->bias != NULL) {
                memcpy(y, layer->bias, (size_t)F * sizeof(double));
            } else {
                memset(y, 0, (size_t)F * sizeof(double));
            }
            for (int k = 0; k < layer->taps; k++) {
                int s = t - ars_conv_shift(layer, k);
                if (s < 0) {
                    continue; /* zero padding before the chain */
                }
                const double *x = xb + (size_t)s * C;
                for (int j = 0; j < G; j++) {
                    double *yj = y + (size_t)j * Fg;
                    for (int c = 0; c < Cg; c++) {
                        const double xv = x[j * Cg + c];
                        const double *w = W + ((size_t)k * Cg + c) * F + (size_t)j * Fg;
                        for (int f = 0; f < Fg; f++) {
                            yj[f] += xv * w[f];
                        }
                    }
                }
            }
        }
    }
}
