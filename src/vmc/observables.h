/*
 * observables: expectation values with standard errors from exact (independent) samples.
 *
 * Pauli units: z_t = 2 Sz_t = 2 s_t - 2S for local index s_t (+-1 for spin 1/2). Every estimate
 * is the mean of one value x(s) per sample (per PAIR of samples for renyi2), its standard error
 * sqrt(Var(x) / n) with Var normalised by n - 1: exact samples are independent, so no
 * autocorrelation correction is needed. Names (also the HDF5 group names, docs/analysis.md):
 *
 *   sz                     [L]    x_i = z_i
 *   magnetization          scalar M / L,           M = sum_i z_i
 *   abs_magnetization      scalar |M| / L
 *   staggered_magnetization scalar |sum_i (-1)^i z_i| / L
 *   zz_correlation         [nr]   C(r) = <z_i z_{i+r}>: with pbc averaged over i (indices mod L),
 *                                 r = 0..L/2; open chains from the centre c = (L-1)/2,
 *                                 r = 0..L-1-c
 *   zz_connected           [nr]   C(r) - <z_i><z_{i+r}> (same geometry); the error is the delta
 *                                 method's: per sample x = z_i z_j - m_j z_i - m_i z_j + m_i m_j
 *                                 with the measured means m (a second pass)
 *   structure_factor       [L]    S(k) = |sum_j z_j e^{i k j}|^2 / L, k = 2 pi n / L, n = 0..L-1
 *   sx                     [L]    <sx_i> = <psi(s with site i flipped) / psi(s)>
 *   xx_correlation         [nr]   <sx_i sx_{i+r}> (geometry of C(r)), = 1 at r = 0
 *   energy                 scalar <E_loc> of a Hamiltonian (any spin), with its variance
 *   renyi2                 [cuts] S2(l) = -ln Tr rho_A^2 of A = sites [0, l): the swap
 *                                 estimator on pairs (s1, s2) = (sample k, sample k + n/2):
 *                                 x = psi(a1 b2) psi(a2 b1) / (psi(a1 b1) psi(a2 b2)),
 *                                 S2 = -ln <x>, error = err(<x>) / <x>
 *   string_order           [nr]   O(r) = <Sz_i exp(i pi sum_{i<k<i+r} Sz_k) Sz_{i+r}> in S units
 *                                 (Sz, not 2 Sz: the Haldane-chain convention, -4/9 for AKLT),
 *                                 geometry of C(r); integer spin only: exp(i pi m) = (-1)^m
 *   (user operators)       scalar <O> of each named operator of ops/user_ops.h: the mean of the
 *                                 local value O_loc(s) = sum_s' O(s, s') psi(s') / psi(s) (its
 *                                 real part), with its variance, like the energy
 *
 * Amplitude ratios come from the ratio windows (O(R) windows); with the Marshall sign a flip of
 * the sites F multiplies the ratio by (-1)^(odd sites in F). The swap ratio needs no sign: the
 * Marshall sign is a product over sites, so it cancels. With a phase network (spec->phase) the
 * ratios are complex, and the value of a sample is the real part of its ratio (the expectation
 * of a Hermitian observable is real: the imaginary parts average to 0); the swap ratio takes
 * the phases of its four configurations.
 *
 * Reproducibility: the samples are cut into chunks of chunk_size (renyi2: pairs); each chunk's
 * weight, mean and sum of squared deviations are combined in chunk order (Chan et al.), so the
 * results are bitwise the same for any number of threads. With several ranks (spec->comm, every
 * rank holding all n samples) each rank computes the chunks comm.h gives it, the chunks' rows
 * are gathered to every rank, and every rank merges them in the same order: the same bits for
 * any number of ranks, and every rank holds the result.
 *
 * Weights (tests, exact values): with weight != NULL every mean is sum_b w_b x_b / sum_b w_b (a
 * pair's weight is the product of its samples'), so passing every configuration with weight
 * p(s) gives exact expectation values; the errors are then not meaningful.
 */
#ifndef ARS_OBSERVABLES_H
#define ARS_OBSERVABLES_H

#include <stdint.h>

#include "nn/arnn.h"
#include "nn/phase.h"
#include "core/comm.h"
#include "ops/hamiltonian.h"
#include "ops/user_ops.h"

typedef enum ars_obs_kind {
    ARS_OBS_SZ = 0,
    ARS_OBS_MAGNETIZATION,
    ARS_OBS_ABS_MAGNETIZATION,
    ARS_OBS_STAGGERED_MAGNETIZATION,
    ARS_OBS_ZZ_CORRELATION,
    ARS_OBS_ZZ_CONNECTED,
    ARS_OBS_STRUCTURE_FACTOR,
    ARS_OBS_SX,
    ARS_OBS_XX_CORRELATION,
    ARS_OBS_ENERGY,
    ARS_OBS_RENYI2,
    ARS_OBS_STRING_ORDER,
    ARS_OBS_COUNT
} ars_obs_kind;

/* Observables written for a spin-1/2 network (sx, xx_correlation: Pauli flips); the energy
 * takes any operator and any spin. */
#define ARS_OBS_NEEDS_SPIN_HALF ((1u << ARS_OBS_SX) | (1u << ARS_OBS_XX_CORRELATION))
/* Observables defined for integer spin only (the string's factors (-1)^m). */
#define ARS_OBS_NEEDS_INTEGER_SPIN (1u << ARS_OBS_STRING_ORDER)
#define ARS_OBS_ALL ((1u << ARS_OBS_COUNT) - 1u)
/* The slots of a record of measurements (evolve/evolve.h): the built-in kinds, then the user
 * operators in their order. */
#define ARS_OBS_SLOTS (ARS_OBS_COUNT + ARS_USER_OPS_MAX)
#define ARS_OBS_MAX_CUTS 64

/* Names as in the config file and the HDF5 groups, indexed by ars_obs_kind; NULL-terminated. */
extern const char *const ars_obs_names[ARS_OBS_COUNT + 1];

/* The `description` attribute of a user operator's group. */
#define ARS_OBS_OPERATOR_DESCRIPTION                                                               \
    "<O> of a user operator (its terms in the attribute definition): the mean of the local "       \
    "value O_loc(s) = sum_s' O(s, s') psi(s') / psi(s), with its variance"

/* One line on what an observable is (the HDF5 `description` attribute). */
const char *ars_obs_description(ars_obs_kind kind);

typedef struct ars_obs_spec {
    unsigned mask; /* bit k set: measure observable k */
    int n_cuts;    /* renyi2 cuts l, 1 <= l < L */
    int cuts[ARS_OBS_MAX_CUTS];
    int pbc;                 /* correlation geometry: translation-averaged, or from centre */
    int marshall_sign;       /* the state is (-1)^(up spins on odd sites) |psi_net| */
    const ars_phase *phase;  /* times exp(i phi) of this phase network (NULL: none) */
    const ars_ham *H;        /* for energy (NULL otherwise); its size is the network's */
    const ars_user_ops *ops; /* user operators on the chain (boundary pbc); NULL: none */
    int chunk_size;          /* samples (pairs) per chunk */
    int n_threads;           /* 0: OpenMP's default */
    const ars_comm *comm;    /* ranks sharing the chunks (comm.h); NULL: this process alone */
} ars_obs_spec;

typedef struct ars_obs_value {
    int len;           /* entries of mean and error; 0: a scalar (one entry) */
    double *mean;      /* (max(len, 1)) */
    double *error;     /* standard errors; NaN with fewer than 2 values */
    double variance;   /* energy, user operators: Var of the local values, normalised by n - 1 */
    int64_t n_samples; /* values averaged: samples, or pairs for renyi2 */
    int64_t *coord;    /* (len) distances r (correlations) or cuts (renyi2); else NULL */
    double *k;         /* (len) momenta of structure_factor; else NULL */
    int centre;        /* correlations: -1 translation-averaged, else the centre site */
} ars_obs_value;

typedef struct ars_obs_result {
    unsigned mask;          /* what was measured */
    int pbc, marshall_sign; /* the geometry and sign used (copied from the spec) */
    int64_t n_samples;
    ars_obs_value v[ARS_OBS_COUNT];
    int n_ops;                                            /* user operators measured */
    char op_name[ARS_USER_OPS_MAX][ARS_USER_OP_NAME_MAX]; /* their names, */
    char *op_definition[ARS_USER_OPS_MAX]; /* their terms as text (ars_user_op_definition) */
    ars_obs_value op_v[ARS_USER_OPS_MAX];  /* and their values */
} ars_obs_result;

/* Measures spec->mask on n configurations cfg (n, L) of local indices, drawn from (or, with
 * weights, weighted by) the state of `net`. Fills *res (free with ars_obs_result_free, also
 * after a failure). Returns ARS_OK or ARS_STATUS_ENOMEM (reported). Asserts: spin 1/2 for the
 * ratio observables, H's size = L for energy, cuts inside the chain. */
int ars_obs_measure(ars_obs_result *res, const ars_obs_spec *spec, const ars_arnn *net,
                    const uint8_t *cfg, int64_t n, const double *weight);

void ars_obs_result_free(ars_obs_result *res);

/* Number of correlation distances nr and the centre (-1 with pbc) for L sites. */
void ars_obs_geometry(int L, int pbc, int *nr, int *centre);

#endif
