/*
 * arnn: the autoregressive network ARNNConv1D, a stack of masked 1D convolutions that gives the
 * conditional amplitudes of a spin chain (NetKet's ARNNConv1D semantics).
 *
 * Dimensions: B batch, L sites (size), D local states (local_size), n layers, F_l features of
 * layer l (F_{n-1} = D), C_0 input channels (1 for `value` input, D for `onehot`).
 *
 *   x_0 = encode(s)                      (B, L, C_0): the value 2*Sz, or a one-hot of the index
 *   z_l = conv_l(a_{l-1}),  a_{-1} = x_0 (B, L, F_l): layer 0 exclusive, the others not
 *   a_l = act(z_l)                       (B, L, F_l) for l < n-1: activation before every layer
 *                                         but the first
 *   lpsi[b,t,i] = z[b,t,i] - (1/mp) log sum_j exp(mp z[b,t,j]),   z = z_{n-1}, mp = 2
 *   log psi(s) = sum_t lpsi[t, s_t],  log p(s) = mp log psi(s),  p(s_t | s_<t) = exp(mp lpsi[t,.])
 *
 * Sector ([system] total_sz, hilbert.h): the head is renormalised over the feasible local
 * states [lo, hi] of each site given its prefix, wherever they are not all D states:
 *   lpsi[t,i] = z[t,i] - (1/mp) log sum_{j=lo..hi} exp(mp z[t,j])  for lo <= i <= hi, else -inf,
 * so sampling and log_psi use the same masked conditionals, the distribution is normalised over
 * the sector and log psi = -inf outside it. Unconstrained heads are left as they are (bitwise).
 *
 * Symmetry ([model] symmetrize, symmetry.h): ars_arnn_log_psi and ars_arnn_grad_log_psi give
 * the symmetrised state's log psi_sym and its gradient; the other functions are the plain
 * network's (ars_arnn_forward, _conditionals, _backward).
 *
 * feature_group_count g applies to the hidden-to-hidden layers 0 < l < n-1; layers 0 and n-1
 * use one group. All parameters live in ONE contiguous block `params` (length P), layer by
 * layer, kernel (K', C/g, F) then bias (F); the layers' kernel and bias pointers are views.
 */
#ifndef ARS_ARNN_H
#define ARS_ARNN_H

#include <stddef.h>
#include <stdint.h>

#include "nn/activation.h"
#include "space/hilbert.h"
#include "nn/maskedconv1d.h"
#include "space/symmetry.h"

#define ARS_MAX_LAYERS 64
#define ARS_MACHINE_POW 2

/* Arithmetic of sampling: float64 is the default and the reference everywhere; float32 runs
 * the cached sampler in single precision (twice the vector width), drawing from float32
 * conditionals (checked against float64 to 1e-5 in the tests). */
typedef enum ars_dtype {
    ARS_DTYPE_FLOAT64 = 0,
    ARS_DTYPE_FLOAT32,
} ars_dtype;

typedef enum ars_input {
    ARS_INPUT_VALUE = 0,
    ARS_INPUT_ONEHOT,
} ars_input;

/* Everything that fixes the network's shape; validated by ars_arch_check(). */
typedef struct ars_arch {
    ars_hilbert hilbert;
    int layers;
    int features[ARS_MAX_LAYERS]; /* F_l; the last equals local_size */
    int kernel_size;              /* K >= 2 for every layer */
    int dilation[ARS_MAX_LAYERS]; /* d_l >= 1 */
    int feature_group_count;      /* g for hidden-to-hidden layers */
    int use_bias;
    ars_activation activation;
    ars_input input;
    ars_sym symmetry; /* the symmetrised state (symmetry.h); ARS_SYM_NONE: the network's own */
} ars_arch;

typedef struct ars_arnn {
    ars_arch arch;
    ars_conv layer[ARS_MAX_LAYERS];
    size_t n_params; /* P */
    double *params;  /* (P) owned */
    int max_channels;
} ars_arnn;

/* Input encoding names as in the config file ("value", "onehot"). */
const char *ars_input_name(ars_input in);

/* Number of input channels C_0 of the first layer. */
int ars_arch_input_channels(const ars_arch *arch);

/* Feature groups of layer l (g for hidden-to-hidden layers, else 1). */
int ars_arch_groups(const ars_arch *arch, int l);

/* Checks internal consistency; returns 0 or writes a reason into `why` and returns -1. */
int ars_arch_check(const ars_arch *arch, char *why, size_t why_len);

/* Number of parameters P of this architecture (assumes ars_arch_check passed). */
size_t ars_arch_n_params(const ars_arch *arch);

/* Allocates a network with all parameters zero; NULL on allocation failure. The architecture
 * must pass ars_arch_check (asserted). */
ars_arnn *ars_arnn_alloc(const ars_arch *arch);
void ars_arnn_free(ars_arnn *net);

/* LeCun-normal kernels (truncated normal at +-2 sd, sd = sqrt(1/fan_in)/0.8796..., fan_in =
 * K' * C/g) and zero biases, drawn from the ARS_STREAM_INIT stream of `seed`. Returns ARS_OK or
 * ARS_STATUS_ENOMEM. */
int ars_arnn_init_random(ars_arnn *net, uint64_t seed);

/* Activations of a batch of at most B samples (allocated once, reused; never shared between
 * threads), batch-contiguous: entry (t, c, b) of a (L, C, B) block is at (t*C + c)*B + b. */
typedef struct ars_arnn_ws {
    int B;
    double *x;                 /* (L, C_0, B) encoded input */
    double *z[ARS_MAX_LAYERS]; /* (L, F_l, B) layer outputs before the activation */
    double *a[ARS_MAX_LAYERS]; /* (L, F_l, B) activated outputs, l < n-1 */
    double *lpsi;              /* (L, D, B) conditional log-amplitudes */
    double *g0, *g1;           /* (L, C_max, B) backward scratch (only with _alloc_grad) */
    uint8_t *gcfg;             /* (B, L) g s (symmetrised networks only) */
    double *glp;               /* (|G|, B) log psi(g s), then the weights w_g (symmetrised only) */
} ars_arnn_ws;

ars_arnn_ws *ars_arnn_ws_alloc(const ars_arnn *net, int B);
/* A workspace that can also run ars_arnn_backward. */
ars_arnn_ws *ars_arnn_ws_alloc_grad(const ars_arnn *net, int B);
void ars_arnn_ws_free(ars_arnn_ws *ws);

/* Bytes ars_arnn_ws_alloc(net, B) would take for this architecture. */
size_t ars_arnn_ws_bytes(const ars_arch *arch, int B);

/* Encodes site t of B configurations cfg (B, L) into x_t (C_0, B): the value 2*Sz, or a one-hot
 * of the local index. cfg_stride is the distance between consecutive samples in cfg. */
void ars_arnn_encode_site(double *x_t, const uint8_t *cfg, size_t cfg_stride, const ars_arch *arch,
                          int t, int B);
void ars_arnn_encode_site_f(float *x_t, const uint8_t *cfg, size_t cfg_stride, const ars_arch *arch,
                            int t, int B);

/* The full forward pass over sites t < Lc of configurations cfg (B, L) (local indices): fills
 * ws->z, ws->a and ws->lpsi for those sites. cfg at sites >= Lc - 1 is never read (so a sampler
 * can ask for the conditional of site Lc - 1 before drawing it). */
void ars_arnn_forward(const uint8_t *cfg, const ars_arnn *net, ars_arnn_ws *ws, int B, int Lc);

/* Conditional log-amplitudes lpsi (B, L, D) at sites t < Lc (sites >= Lc are left untouched):
 * ars_arnn_forward, then transposed to sample-major order. */
void ars_arnn_conditionals(double *lpsi, const uint8_t *cfg, const ars_arnn *net, ars_arnn_ws *ws,
                           int B, int Lc);

/* Per-sample gradients O_k(s_b) = weight_b d log psi(s_b) / d theta_k of the configurations of
 * the last ars_arnn_forward(cfg, net, ws, B, L) (all sites; the plain network's log psi);
 * ACCUMULATES (+=) into grad[k*ld + b] for k < P, b < B (parameter-major: one column per
 * sample, the layout SR needs). weight (B) may be NULL (all 1). ws must come from
 * ars_arnn_ws_alloc_grad. Backward of lpsi[t,i] = z[t,i] - (1/mp) logsumexp(mp z[t,.]) (over
 * the feasible states in a sector): d log psi / d z[t,i] = [i == s_t] - p[t,i],
 * p = exp(mp lpsi) (0 for infeasible states); then the layers in reverse. */
void ars_arnn_backward(double *grad, size_t ld, const uint8_t *cfg, const ars_arnn *net,
                       ars_arnn_ws *ws, int B, const double *weight);

/* log psi(s) (B) of full configurations cfg (B, L): the sum over sites of lpsi[t, s_t], -inf
 * outside the sector; for a symmetrised network log psi_sym(s) (symmetry.h). */
void ars_arnn_log_psi(double *log_psi, const uint8_t *cfg, const ars_arnn *net, ars_arnn_ws *ws,
                      int B);

/* Per-sample gradients of the state's log psi (symmetrised when the network is), ACCUMULATED
 * into grad[k*ld + b] as in ars_arnn_backward, and log psi (B) itself when log_psi is not NULL.
 * The configurations must lie in the sector. ws from ars_arnn_ws_alloc_grad. */
void ars_arnn_grad_log_psi(double *grad, size_t ld, double *log_psi, const uint8_t *cfg,
                           const ars_arnn *net, ars_arnn_ws *ws, int B);

/* The masked head of one site for one sample (see the top of this file): lpsi[i * ld] from
 * z[i * ld], i < D, renormalised over [lo, hi] (all -inf when lo > hi). Float variant: the sums
 * in double. */
void ars_arnn_mask_site(double *lpsi, const double *z, size_t ld, int D, int lo, int hi);
void ars_arnn_mask_site_f(float *lpsi, const float *z, size_t ld, int D, int lo, int hi);

/* Receptive field of a site t >= L-1: depends[r] = 1 if site t depends on site t - r, for
 * 1 <= r < L (depends has length L; depends[0] = 0). Returns the largest offset reached by the
 * architecture (it may exceed L-1). */
long ars_arch_receptive_field(const ars_arch *arch, uint8_t *depends);

#endif
