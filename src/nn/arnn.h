/*
 * arnn: the autoregressive network ARNNConv1D, a stack of masked 1D convolutions that gives the
 * conditional amplitudes of a spin chain (NetKet's ARNNConv1D semantics, extended with per-layer
 * dilations, feature groups and one-hot input; output channels in ascending 2*Sz order).
 *
 * Dimensions: B batch, L sites (size), D local states (local_size), n layers, F_l features of
 * layer l (F_{n-1} = D), C_0 input channels (1 for `value` input, D for `onehot`, plus K for
 * a sublattice input).
 *
 *   x_0 = encode(s)                      (B, L, C_0): the value 2*Sz, or a one-hot of the index;
 *                                         with sublattice K > 1, then the one-hot of t mod K
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
 * Site by site (ars_arnn_site): the layers are causal, so output site t needs every layer's
 * input at sites t - s_k <= t only (maskedconv1d.h). The forward pass is therefore one site
 * function, evaluated for t = 0, 1, ... for a batch: at site t, for l = 0..n-1,
 *   z_l[t] = conv_l(inputs of layer l at sites t - s_k),  input of layer l+1 at t = act(z_l[t]),
 * then lpsi[t] = the (masked) head of z_{n-1}[t]. Each layer keeps only the input sites it
 * still reads: the full pass keeps all L sites (for the backward pass), the cached sampler a
 * ring of the last (K-1) d_l + 1, the ratio windows W. The full pass, the cached sampler (both
 * precisions) and the ratio windows all call it, so the three give the same bits by
 * construction. Encoding the input x_0 at site t (once s_t is known) is the caller's.
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
#define ARS_MAX_SUBLATTICE 64

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
    int sublattice;   /* K: the input also holds the one-hot of t mod K (1: no such channels) */
    ars_sym symmetry; /* the symmetrised state (symmetry.h); ARS_SYM_NONE: the network's own */
} ars_arch;

typedef struct ars_arnn {
    ars_arch arch;
    ars_conv layer[ARS_MAX_LAYERS];
    size_t n_params; /* P */
    double *params;  /* (P) owned when owns_params (ars_arnn_alloc), else a view of another
                      * network's block (a copy with another chain size: the ratio windows) */
    int owns_params;
    int max_channels;
} ars_arnn;

/* Input encoding names as in the config file ("value", "onehot"). */
const char *ars_input_name(ars_input in);

/* The sublattice K of the input (1 when arch->sublattice is 0 or 1: no sublattice channels). */
int ars_arch_sublattice(const ars_arch *arch);

/* Number of input channels C_0 of the first layer. */
int ars_arch_input_channels(const ars_arch *arch);

/* Feature groups of layer l (g for hidden-to-hidden layers, else 1). */
int ars_arch_groups(const ars_arch *arch, int l);

/* Checks internal consistency; returns 0 or writes a reason into `why` and returns -1. */
int ars_arch_check(const ars_arch *arch, char *why, size_t why_len);

/* [model] kernel_dilation = auto: layer l's dilation 1 (l = 0), then (K-1) K^(l-1), capped at
 * the chain size L (at least 1). Layer 0's K-1 taps reach offsets 1..K-1, and each later layer's
 * K taps at that dilation extend them without gaps: the receptive field is (K-1) K^(layers-1)
 * sites, contiguous (issue 14: the old default, dilation 1, reached 6 sites with 3 layers of
 * kernel 3, and a 16-site Heisenberg chain stalled at relative error 3e-2). */
int ars_arch_auto_dilation(int l, int K, int L);

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

/* Zeroes the last layer (kernel and bias): every conditional is uniform over the feasible local
 * states, so |psi(s)|^2 is uniform (|+x>^N for spin 1/2 without a sector or sign). */
void ars_arnn_zero_last_layer(ars_arnn *net);

/* Multiplies the last layer's kernel and bias by c: every logit times c, so each conditional
 * becomes p^c renormalised (over the values a sector allows). c > 1 sharpens the conditionals:
 * a state whose near-certain choices are 1 - eps becomes one with 1 - O(eps^c). */
void ars_arnn_scale_last_layer(ars_arnn *net, double c);

/* Activations of a batch of at most B samples (allocated once, reused; never shared between
 * threads), batch-contiguous: entry (t, c, b) of a (L, C, B) block is at (t*C + c)*B + b. */
typedef struct ars_arnn_ws {
    int B;
    double *x;                 /* (L, C_0, B) encoded input */
    double *z[ARS_MAX_LAYERS]; /* (L, F_l, B) layer outputs before the activation */
    double *a[ARS_MAX_LAYERS]; /* (L, F_l, B) activated outputs, l < n-1 */
    double *lpsi;              /* (L, D, B) conditional log-amplitudes */
    double *g0, *g1;           /* (L, C_max, B) backward scratch (only with _alloc_grad) */
    int *msum;                 /* (B) value prefix sums for the sector mask (sectors only) */
    uint8_t *gcfg;             /* (B, L) g s (symmetrised networks only) */
    double *glp;               /* (|G|, B) log psi(g s), then the weights w_g (symmetrised only) */
} ars_arnn_ws;

/* The forward pass's activations in float32 (the ratio windows' float32 arithmetic, ratio.h):
 * the fields of ars_arnn_ws that ars_arnn_forward_f fills, same shapes. */
typedef struct ars_arnn_ws_f {
    int B;
    float *x;
    float *z[ARS_MAX_LAYERS];
    float *a[ARS_MAX_LAYERS];
    float *lpsi;
    int *msum;
} ars_arnn_ws_f;

ars_arnn_ws *ars_arnn_ws_alloc(const ars_arnn *net, int B);
ars_arnn_ws_f *ars_arnn_ws_alloc_f(const ars_arnn *net, int B);
void ars_arnn_ws_free_f(ars_arnn_ws_f *ws);
/* A workspace that can also run ars_arnn_backward. */
ars_arnn_ws *ars_arnn_ws_alloc_grad(const ars_arnn *net, int B);
void ars_arnn_ws_free(ars_arnn_ws *ws);

/* Bytes ars_arnn_ws_alloc(net, B) would take for this architecture. */
size_t ars_arnn_ws_bytes(const ars_arch *arch, int B);

/* Encodes site t of B configurations cfg (B, L) into x_t (C_0, B): the value 2*Sz, or a one-hot
 * of the local index, then (sublattice K > 1) the one-hot of the chain site mod K. cfg_stride is
 * the distance between consecutive samples in cfg. Row b is chain site t + offset[b] (a ratio
 * window's segment), or t when offset is NULL. */
void ars_arnn_encode_site(double *x_t, const uint8_t *cfg, size_t cfg_stride, const ars_arch *arch,
                          int t, const int *offset, int B);
void ars_arnn_encode_site_f(float *x_t, const uint8_t *cfg, size_t cfg_stride, const ars_arch *arch,
                            int t, const int *offset, int B);

/* The full forward pass over sites t < Lc of configurations cfg (B, L) (local indices): fills
 * ws->z, ws->a and ws->lpsi for those sites (encodes sites < Lc - 1 into ws->x, then
 * ars_arnn_site for t = 0..Lc-1 keeping every site). cfg at sites >= Lc - 1 is never read (so
 * a sampler can ask for the conditional of site Lc - 1 before drawing it). */
void ars_arnn_forward(const uint8_t *cfg, const ars_arnn *net, ars_arnn_ws *ws, int B, int Lc);
/* The same pass in float32, with the parameters params (P) in float32 laid out as net->params. */
void ars_arnn_forward_f(const uint8_t *cfg, const ars_arnn *net, const float *params,
                        ars_arnn_ws_f *ws, int B, int Lc);

/* Conditional log-amplitudes lpsi (B, L, D) at sites t < Lc (sites >= Lc are left untouched):
 * ars_arnn_forward, then transposed to sample-major order. */
void ars_arnn_conditionals(double *lpsi, const uint8_t *cfg, const ars_arnn *net, ars_arnn_ws *ws,
                           int B, int Lc);

/* Per-sample gradients O_k(s_b) = weight_b d log psi(s_b) / d theta_k of the configurations of
 * the last ars_arnn_forward(cfg, net, ws, B, L) (all sites; the plain network's log psi);
 * ACCUMULATED (+=, with accumulate set) or written (=) into grad[k*ld + b] for k < P, b < B
 * (parameter-major: one column per sample, the layout SR needs). weight (B) may be NULL (all 1). ws
 * must come from ars_arnn_ws_alloc_grad. Backward of lpsi[t,i] = z[t,i] - (1/mp) logsumexp(mp
 * z[t,.]) (over the feasible states in a sector): d log psi / d z[t,i] = [i == s_t] - p[t,i], p =
 * exp(mp lpsi) (0 for infeasible states); then the layers in reverse. */
void ars_arnn_backward(double *grad, size_t ld, const uint8_t *cfg, const ars_arnn *net,
                       ars_arnn_ws *ws, int B, const double *weight, int accumulate);

/* log psi(s) (B) of full configurations cfg (B, L): the sum over sites of lpsi[t, s_t], -inf
 * outside the sector; for a symmetrised network log psi_sym(s) (symmetry.h). */
void ars_arnn_log_psi(double *log_psi, const uint8_t *cfg, const ars_arnn *net, ars_arnn_ws *ws,
                      int B);

/* Per-sample gradients of the state's log psi (symmetrised when the network is), WRITTEN into
 * grad[k*ld + b] (k < P: every row of the network's parameters) as in ars_arnn_backward, and log
 * psi (B) itself when log_psi is not NULL. The configurations must lie in the sector. ws from
 * ars_arnn_ws_alloc_grad. */
void ars_arnn_grad_log_psi(double *grad, size_t ld, double *log_psi, const uint8_t *cfg,
                           const ars_arnn *net, ars_arnn_ws *ws, int B);

/* The same for a symmetrised network whose images' log probabilities are known:
 * images[k * images_ld + b] = mp log psi(g_k s_b) (the sampler's, ars_sampler_keep_images, in
 * float64) replace the forward passes that would compute them; the results are the same bits
 * (the full pass, the sampler and the windows share the site function). */
void ars_arnn_grad_log_psi_images(double *grad, size_t ld, double *log_psi, const uint8_t *cfg,
                                  const ars_arnn *net, ars_arnn_ws *ws, int B, const double *images,
                                  size_t images_ld);

/* The masked head of one site for one sample (see the top of this file): lpsi[i * ld] from
 * z[i * ld], i < D, renormalised over [lo, hi] (all -inf when lo > hi). Float variant: the sums
 * in double. */
void ars_arnn_mask_site(double *lpsi, const double *z, size_t ld, int D, int lo, int hi);
void ars_arnn_mask_site_f(float *lpsi, const float *z, size_t ld, int D, int lo, int hi);

/* Sector mask of site t for a batch: ars_arnn_mask_site on column b of lpsi/z (D, B), row
 * stride ld, with the feasible states [lo, hi] of sample b at chain position
 * t + offset[b] (offset NULL: t) after values summing to m[b] (ars_hilbert_feasible; hil may be
 * the chain's Hilbert space when the network is a window of it), wherever they are not all D
 * states; other columns are left as they are. */
void ars_arnn_mask_batch(double *lpsi, const double *z, size_t ld, const ars_hilbert *hil, int t,
                         const int *offset, const int *m, int B);
void ars_arnn_mask_batch_f(float *lpsi, const float *z, size_t ld, const ars_hilbert *hil, int t,
                           const int *offset, const int *m, int B);

/* Where ars_arnn_site reads and writes, for a batch of B samples with row stride ld >= B
 * (entry (c, b) of a site's (C, B) block at c*ld + b). Each buffer is a ring: site t lives at
 * slot t % len. Length L keeps every site (the (L, C, B) arrays of ars_arnn_ws); a shorter ring
 * keeps the last len sites. */
typedef struct ars_arnn_site_io {
    double *in[ARS_MAX_LAYERS]; /* (in_len[l], C_l, ld) layer l's input; in[0] holds x_0 (the
                                   caller encodes it), in[l+1] receives act(z_l), l < n-1 */
    double *z[ARS_MAX_LAYERS];  /* (z_len[l], F_l, ld) layer l's output before the activation;
                                   the layers may share one buffer when z_len = 1 */
    double *lpsi;               /* (lpsi_len, D, ld) conditional log-amplitudes */
    int in_len[ARS_MAX_LAYERS]; /* >= min(s_0 + 1, L), s_0 the offset of tap 0 (the farthest) */
    int z_len[ARS_MAX_LAYERS];  /* >= 1 */
    int lpsi_len;               /* >= 1 */
    size_t ld;                  /* row stride >= B */
} ars_arnn_site_io;

/* The same in float32. */
typedef struct ars_arnn_site_io_f {
    float *in[ARS_MAX_LAYERS];
    float *z[ARS_MAX_LAYERS];
    float *lpsi;
    int in_len[ARS_MAX_LAYERS];
    int z_len[ARS_MAX_LAYERS];
    int lpsi_len;
    size_t ld;
} ars_arnn_site_io_f;

/* The forward pass at site t (0 <= t < L) of a batch of B samples (the math at the top of this
 * file), with the network's parameters params (P) in this precision, laid out as net->params
 * (net->params itself in float64):
 *   for l = 0..n-1:  z_l[t] = conv_l(layer l's input at sites t - s_k)   -> io->z[l], slot t
 *                    (ars_conv_site; sites before 0 are zero padding)
 *                    act(z_l[t]), l < n-1                               -> io->in[l+1], slot t
 *   lpsi[t] = z_{n-1}[t] - (1/mp) logsumexp(mp z_{n-1}[t]), mp = 2      -> io->lpsi, slot t
 * then, when hil is a constrained space, the sector mask ars_arnn_mask_batch(hil, t, offset, m):
 * sample b at chain position t + offset[b] (offset NULL: t for all) after values summing to
 * m[b] (m (B) is read only then; offset and m are per sample, so a batch of ratio windows of a
 * W-site window network can pass the chain's hil, each window's first chain site and prefix).
 * On entry the slots of io->in[l] that site t reads (sites t - s_k >= 0) must hold layer l's
 * input there: for layer 0 the caller's encoding (ars_arnn_encode_site), for l > 0 what the
 * calls for earlier sites wrote (or values the caller copied in). Nothing else is touched.
 * Serial, reentrant, allocates nothing; asserts the shapes at entry. Every caller gets the
 * same bits for the same inputs (the full pass, the cached sampler, the ratio windows). */
void ars_arnn_site(const ars_arnn_site_io *io, const ars_arnn *net, const double *params,
                   const ars_hilbert *hil, const int *offset, const int *m, int t, int B);
void ars_arnn_site_f(const ars_arnn_site_io_f *io, const ars_arnn *net, const float *params,
                     const ars_hilbert *hil, const int *offset, const int *m, int t, int B);

/* The two halves of ars_arnn_site, for callers that run the layers in another order (the ratio
 * windows run layer l over all their sites before layer l + 1: the same operations on the same
 * data, so the same bits): layer l at site t (conv, then the activation into in[l + 1]), and
 * the head at site t (log-softmax of z_{n-1}, then the sector mask). */
void ars_arnn_layer_site(const ars_arnn_site_io *io, const ars_arnn *net, const double *params,
                         int l, int t, int B);
void ars_arnn_layer_site_f(const ars_arnn_site_io_f *io, const ars_arnn *net, const float *params,
                           int l, int t, int B);
void ars_arnn_head_site(const ars_arnn_site_io *io, const ars_arnn *net, const ars_hilbert *hil,
                        const int *offset, const int *m, int t, int B);
void ars_arnn_head_site_f(const ars_arnn_site_io_f *io, const ars_arnn *net, const ars_hilbert *hil,
                          const int *offset, const int *m, int t, int B);

/* Receptive field of a site t >= L-1: depends[r] = 1 if site t depends on site t - r, for
 * 1 <= r < L (depends has length 2L: the second half is scratch; depends[0] = 0). Returns the
 * largest offset reached by the architecture (it may exceed L-1). Allocates nothing. */
long ars_arch_receptive_field(const ars_arch *arch, uint8_t *depends);

#endif
