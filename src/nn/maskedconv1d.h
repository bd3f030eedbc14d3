/*
 * maskedconv1d: one causal ("masked") 1D convolution layer, NetKet's MaskedConv1D.
 *
 * Dimensions: B batch, L sites, C input channels, F output features, g feature groups
 * (Cg = C/g input and Fg = F/g output channels per group), d dilation, e = 1 for an exclusive
 * layer (else 0), K' = K - e taps.
 *
 *   kernel W (K', Cg, F)   bias b (F)   input x (L, C, B)   output y (L, F, B)
 *
 *   y[t,f,b] = b[f] + sum_{k<K'} sum_{c<Cg} W[k, c, f] * x[t - s_k, j*Cg + c, b],
 *              s_k = (K'-1-k)*d + e*d,  j = f / Fg (the group of f),  x[t<0, ., .] = 0.
 *
 * NetKet's formulation (drop the last d inputs when exclusive, left-pad with K'*d zeros, or with
 * (K-1)*d zeros when not exclusive, then a VALID dilated cross-correlation) is the same map: site t
 * sees inputs t-d, ..., t-K'd when exclusive and t, t-d, ..., t-(K-1)d otherwise. The kernel
 * layout (K', C/g, F) is Flax's. NetKet's ARNNConv1D weights still need scripts/netket-convert:
 * its layer names and its local-state order differ.
 *
 * Activations are stored batch-contiguous, (site, channel, batch), so one site of one layer for
 * a whole batch is a small matrix product vectorised over the batch. Every output element is
 * accumulated in one fixed order -- bias, then taps k ascending, then channels c ascending, each
 * step one fma() -- whatever the batch size, tile or instruction set, so the full forward pass
 * and the cached (one site at a time) sampler give the same bits.
 */
#ifndef ARS_MASKEDCONV1D_H
#define ARS_MASKEDCONV1D_H

#include <stddef.h>

#define ARS_MAX_TAPS 1024

typedef struct ars_conv {
    int cin;        /* C */
    int cout;       /* F */
    int taps;       /* K' = K - exclusive, at least 1 */
    int dilation;   /* d >= 1 */
    int exclusive;  /* e: 1 for the first layer of a network */
    int groups;     /* g divides C and F */
    double *kernel; /* (K', C/g, F), a view into the network's parameter block */
    double *bias;   /* (F), a view, or NULL without bias */
} ars_conv;

/* Number of parameters of a layer with these dimensions (kernel plus bias). */
size_t ars_conv_n_params(const ars_conv *layer);

/* The input offset s_k read by tap k (see the formula above). */
int ars_conv_shift(const ars_conv *layer, int k);

/* One site for a batch: y[f, b] = bias[f] + sum_k sum_c W[k, c, f] * tap_k[(j*Cg + c)*ld + b]
 * for f < F, b < B. taps[k] points at the input (C, B) block read by tap k (row stride ld), or
 * is NULL for zero padding (the tap is skipped). out (F, B) with row stride ldo. `kernel` and
 * `bias` (NULL: none) have the layer's shapes. Serial and reentrant. */
void ars_conv_site(double *out, size_t ldo, const double *const *taps, size_t ld,
                   const ars_conv *layer, const double *kernel, const double *bias, int B);
void ars_conv_site_f(float *out, size_t ldo, const float *const *taps, size_t ld,
                     const ars_conv *layer, const float *kernel, const float *bias, int B);

/* Full layer over sites t0 <= t < t1: out (L, F, B), inp (L, C, B); other sites of `out` are
 * left untouched. Uses the layer's own kernel and bias. */
void ars_conv_forward(double *out, const double *inp, const ars_conv *layer, int B, int L, int t0,
                      int t1);

/* Backward of ars_conv_forward over all L sites, per sample. dx ACCUMULATES (+=); dgrad too
 * when accumulate is set, else it is written (=: the bits of += on zeros, without the zeros).
 * In the forward pass this was y[t,f,b] = b[f] + sum_k sum_c W[k,c,f] x[t - s_k, j*Cg + c, b].
 *   dgrad[(k*Cg + c)*F + f, b] += sum_t x[t - s_k, j*Cg + c, b] dy[t, f, b]   (kernel rows)
 *   dgrad[K'*Cg*F + f, b]      += sum_t dy[t, f, b]                          (bias rows)
 *   dx[t - s_k, j*Cg + c, b]   += sum_{f in group j} W[k, c, f] dy[t, f, b]  (if dx != NULL)
 * dgrad holds one column per sample: row r of the layer's parameters (kernel, then bias, the
 * order of the parameter block) at dgrad[r*ld + b]. dy (L, F, B), x and dx (L, C, B). */
void ars_conv_backward(double *dx, double *dgrad, size_t ld, const double *dy, const double *x,
                       const ars_conv *layer, int B, int L, int accumulate);

#endif
