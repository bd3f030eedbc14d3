/*
 * phase: learnt phase networks phi(s), the second half of psi(s) = exp(log|psi(s)| + i phi(s))
 * (wf/wavefunction.h). The modulus |psi|^2 is the autoregressive network (arnn.h), sampled
 * exactly; the phase is a separate real-valued network that needs no causal structure
 * (docs/phase.md). Phase networks are types in GSL's `_type` pattern: a const ars_phase_type
 * (its name and functions) in a file of its own, listed once in ars_phase_types (phase.c).
 *
 * Dimensions: B batch, L sites, D local states, n layers, F features, K kernel size, P
 * parameters of the phase network.
 *
 *   conv (phase_conv.c): a centred (non-causal) 1D convolution stack over the whole chain,
 *     zero padding on open chains and circular padding on periodic ones,
 *       x_0[t, v] = [s_t == v]                    (L, D) one-hot input
 *       z_l = conv_l(a_{l-1}),  a_{-1} = x_0      (L, F_l), F_{n-1} = 1
 *       a_l = act(z_l)                            l < n-1
 *       conv_l(a)[t, f] = b_l[f] + sum_{k<K} sum_c W_l[k, c, f] a[t + (k - c_K) d_l, c],
 *                          c_K = (K - 1) / 2 (integer division: centred taps)
 *     plus, with site_phase, a position-dependent term beta[t, s_t] (L, D), so that
 *       phi(s) = sum_t (z_{n-1}[t, 0] + beta[t, s_t]).
 *     Output site t reads input sites t - reach_left .. t + reach_right (ars_phase_reach), so a
 *     change of the configuration at site j changes the outputs at j - reach_right ..
 *     j + reach_left only: phase ratios stay local, O(reach) per change.
 *
 * Every type may add, with jastrow, a translation-invariant two-body term of every distance
 * (what a quench's phase needs first: exp(-iHt) gives phase t J z_t z_{t+1} at first order, and
 * longer distances later, which a convolution builds only approximately):
 *   phi(s) += sum_{r=1}^{R} w_r sum_t v_t v_{t+r},    v_t = 2 S^z_t, the value of s_t,
 * over t = 0..L-1 with t + r taken mod L on a ring (R = L/2), t + r < L on an open chain
 * (R = L - 1). It is not a per-site output: a change of sites C moves the terms with an end in C,
 * O(|C| R) work, computed apart from the network's windows.
 *
 * All parameters live in one contiguous block `params` (P): layer by layer, kernel (K, C_l, F_l)
 * then bias (F_l), then beta (L, D) with site_phase, then w (R) with jastrow. The layers'
 * pointers are views.
 * Initialisation: LeCun-normal kernels (as arnn.h) and zero biases for every layer, and beta
 * normal with standard deviation 2 (radians). Not a zero phase: for a real Hamiltonian a real
 * state is a stationary point of the energy in the phase directions (Im E_loc = 0 makes the
 * phase gradient vanish), so a phase that starts at exactly 0 never moves. Not a
 * translation-invariant one either: then the gradient of a staggered sign rule (the Marshall
 * sign, beta[t, up] = pi on odd t) vanishes by symmetry (docs/phase.md, "Finding a sign rule").
 * The Jastrow weights w start at 0 (and draw nothing: the other parameters are the same with or
 * without them). ars_phase_zero gives the zero phase where it is wanted (a real state taken from
 * a file, or a quench).
 */
#ifndef ARS_PHASE_H
#define ARS_PHASE_H

#include <stddef.h>
#include <stdint.h>

#include "nn/activation.h"
#include "nn/arnn.h"
#include "space/change.h"

typedef struct ars_phase ars_phase;
typedef struct ars_phase_ws ars_phase_ws;

/* Everything that fixes a phase network's shape. */
typedef struct ars_phase_arch {
    int size, local_size, pbc; /* the chain: L, D, periodic */
    int layers;                /* n >= 1 */
    int features;              /* F_l of the hidden layers l < n-1 */
    int kernel_size;           /* K >= 1 */
    int dilation[ARS_MAX_LAYERS];
    ars_activation activation;
    int site_phase; /* the position-dependent term beta[t, s_t] */
    int jastrow;    /* the two-body term sum_r w_r sum_t v_t v_{t+r} */
} ars_phase_arch;

typedef struct ars_phase_type {
    const char *name; /* the [phase] type value */
    /* P of the network, without the beta term (which phase.c adds after it). */
    size_t (*n_params)(const ars_phase_arch *arch);
    /* Points the layers' views of ph into ph->params. */
    void (*views)(ars_phase *ph);
    /* Doubles of scratch for one configuration. */
    size_t (*ws_doubles)(const ars_phase_arch *arch);
    /* Doubles at the start of ws that a full pass (p = 0, e = L - 1, base NULL) leaves for
     * later windows of a changed configuration (the `base` below). */
    size_t (*cache_doubles)(const ars_phase_arch *arch);
    /* out[t - p] = the network's output at sites t = p..e of the configuration row (L local
     * indices); on periodic chains t may run past L - 1 (site t mod L). Keeps every layer's
     * values in ws (ws_doubles) for a backward pass when p = 0 and e = L - 1. With base != NULL
     * (the first cache_doubles of a full pass of base_row) the values whose inputs are those of
     * base_row are taken from it rather than recomputed: the same bits, less work. scratch:
     * ws_doubles - cache_doubles doubles that the call may overwrite (the part of a workspace
     * past cache_doubles; a full pass may keep its values in a cache slot of cache_doubles). */
    void (*outputs)(double *out, const uint8_t *row, int p, int e, const ars_phase *ph, double *ws,
                    double *scratch, const double *base, const uint8_t *base_row);
    /* dparams += weight * d (sum_t out_t) / d theta for the network's parameters (the first
     * n_params of the block), after outputs(row, 0, L - 1) on ws. */
    void (*backward)(double *dparams, const ars_phase *ph, double *ws, double weight);
    /* The farthest input sites an output reads: left (t - left) and right (t + right). */
    void (*reach)(const ars_phase_arch *arch, int *left, int *right);
} ars_phase_type;

/* Every phase network type in config order, NULL-terminated. */
extern const ars_phase_type *const ars_phase_types[];
extern const ars_phase_type *const ars_phase_conv;

/* The type named `name`, or NULL. */
const ars_phase_type *ars_phase_type_find(const char *name);

/* The name of type i in ars_phase_types, NULL past the last (for the config's name table). */
const char *ars_phase_type_name_at(int i);

struct ars_phase {
    const ars_phase_type *type;
    ars_phase_arch arch;
    size_t n_params;                /* P */
    double *params;                 /* (P), owned */
    double *kernel[ARS_MAX_LAYERS]; /* (K, C_l, F_l) views, C_0 = D */
    double *bias[ARS_MAX_LAYERS];   /* (F_l) views */
    double *beta;                   /* (L, D) view, NULL without site_phase */
    double *jastrow;                /* (R) view w_1..w_R, NULL without jastrow */
};

/* Checks an architecture; 0, or -1 with a reason in why. */
int ars_phase_arch_check(const ars_phase_arch *arch, char *why, size_t why_len);

/* R, the distances of the Jastrow term: L/2 on a ring, L - 1 on an open chain (phase.h). */
int ars_phase_jastrow_range(const ars_phase_arch *arch);

/* The input channels C_l and output features F_l of layer l. */
int ars_phase_arch_cin(const ars_phase_arch *arch, int l);
int ars_phase_arch_cout(const ars_phase_arch *arch, int l);

/* A network of `type` with all parameters zero; NULL on allocation failure. The architecture
 * must pass ars_phase_arch_check (asserted). */
ars_phase *ars_phase_alloc(const ars_phase_type *type, const ars_phase_arch *arch);
void ars_phase_free(ars_phase *ph);

/* The initialisation above, from the ARS_STREAM_INIT stream of `seed` (sub-stream 1: the
 * modulus draws from sub-stream 0, so adding a phase leaves it unchanged). ARS_OK or
 * ARS_STATUS_ENOMEM. */
int ars_phase_init_random(ars_phase *ph, uint64_t seed);

/* Zeroes the last layer, beta and w: phi = 0 for every configuration. */
void ars_phase_zero(ars_phase *ph);

/* The farthest sites an output reads (ars_phase_type.reach). */
void ars_phase_reach(const ars_phase *ph, int *left, int *right);

/* Scratch for batches of at most B configurations: the rows and per-site outputs of the last
 * ars_phase_phi, and one configuration's layer values. NULL on allocation failure. */
ars_phase_ws *ars_phase_ws_alloc(const ars_phase *ph, int B);
void ars_phase_ws_free(ars_phase_ws *ws);
/* 1 if ws keeps each configuration's full pass for the windows (it does up to 64 MB; beyond,
 * the windows recompute their layers: the same bits, more work). */
int ars_phase_ws_cached(const ars_phase_ws *ws);

/* phi (B) of configurations cfg (B, L); keeps their rows and per-site outputs in ws for
 * ars_phase_dphi. Serial; allocates nothing. */
void ars_phase_phi(double *phi, const uint8_t *cfg, const ars_phase *ph, ars_phase_ws *ws, int B);

/* phi(s') - phi(s) for the change c of configuration b of the last ars_phase_phi: the outputs
 * at the sites the change reaches, recomputed on a window (the same per-site arithmetic as the
 * full pass, so a change that is undone gives exactly 0), plus the beta terms of the changed
 * sites and the Jastrow terms with an end among them. */
double ars_phase_dphi(const ars_phase *ph, ars_phase_ws *ws, int b, const ars_change *c);

/* grad[k * ld] += weight * d phi(row) / d theta_k for k < P: one column of a parameter-major
 * gradient matrix (a full forward and backward pass of row). */
void ars_phase_grad(double *grad, size_t ld, const uint8_t *row, const ars_phase *ph,
                    ars_phase_ws *ws, double weight);

#endif
