/*
 * maskedconv1d: one causal ("masked") 1D convolution layer, NetKet's MaskedConv1D.
 *
 * Dimensions: B batch, L sites, C input channels, F output features, g feature groups
 * (Cg = C/g input and Fg = F/g output channels per group), d dilation, e = 1 for an exclusive
 * layer (else 0), K' = K - e taps.
 *
 *   kernel W (K', Cg, F)     bias b (F)     input x (B, L, C)     output y (B, L, F)
 *
 *   y[b,t,f] = b[f] + sum_{k<K'} sum_{c<Cg} x[b, t - s_k, j*Cg + c] * W[k, c, f],
 *              s_k = (K'-1-k)*d + e*d,  j = f / Fg (the group of f),  x[b, t<0, .] = 0.
 *
 * NetKet's formulation (drop the last d inputs when exclusive, left-pad with K'*d zeros, or with
 * (K-1)*d zeros when not exclusive, then a VALID dilated cross-correlation) is the same map: site t
 * sees inputs t-d, ..., t-K'd when exclusive and t, t-d, ..., t-(K-1)d otherwise. The kernel
 * layout (K', C/g, F) is Flax's, so variables move between NetKet and arsampler unchanged.
 */
#ifndef ARS_MASKEDCONV1D_H
#define ARS_MASKEDCONV1D_H

#include <stddef.h>

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

/* Computes y[b, t, :] for every b < B and sites t0 <= t < t1 (other sites of `out` are left
 * untouched). out (B, L, F), inp (B, L, C). Serial and reentrant. */
void ars_conv_forward(double *out, const double *inp, const ars_conv *layer, int B, int L, int t0,
                      int t1);

#endif
