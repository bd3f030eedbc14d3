/*
 * vmc: variational Monte Carlo with exact autoregressive samples (GSL-style: alloc, step, free;
 * the caller runs the loop, writes checkpoints and prints progress).
 *
 * One step at iteration it (0-based), with parameters theta:
 *   1. draw n exact samples s_b from |psi_theta|^2, streams (seed, SAMPLE, it, chunk);
 *   2. local energies E_b = E_loc(s_b) (hamiltonian.h) and per-sample gradients
 *      O[k, b] = d log psi(s_b) / d theta_k (arnn backward), OpenMP-parallel over the same chunks;
 *   3. E = mean Re E_b, Var = sum (Re E_b - E)^2 / (n - 1), standard error sqrt(Var / n),
 *      V-score = L Var / E^2 (L sites), fraction of distinct samples; Im <E_b> and its error;
 *   4. direction x = F or the SR natural gradient (optimizer.h) with diag_shift(it);
 *   5. theta -= lr(it) * update(x) (sgd or adam).
 * With a phase network (settings.phase) theta = (modulus parameters, phase parameters), in that
 * order, and
 * log psi is complex: O_k is real for the modulus's parameters and i g_k, g_k = d phi / d theta_k,
 * for the phase's. Then F_k = 2 Re <(E_loc - E)^* O_k>_c is 2 <(Re E_loc - E) O_k>_c for the
 * modulus and 2 <Im E_loc g_k>_c for the phase, and S_kl = Re <O_k^* O_l>_c has no modulus-phase
 * block (Re(i O_k g_l) = 0): SR solves the two blocks apart, each as sr.h says (docs/phase.md). The
 * matrix O below then holds g_k in the phase rows. The statistics of step `it` describe the
 * parameters before its update. Every reduction runs in a fixed order and all random streams depend
 * on (seed, it, chunk) only, so a run gives the same bits for any thread count, and resuming from a
 * checkpoint at iteration it gives exactly the continuation of an uninterrupted run (no random
 * state to save).
 * With settings.projection the state is P_G psi (vmc/projected.h): steps 1-3 take p_sym's samples
 * with importance weights, E_P,loc and the complex O_P, and SR solves one block of 2n real rows.
 * With settings.sym_penalty SR descends E_loc + lambda (1 - P_loc) (est/projector.h); the log keeps
 * <H>.
 */
#ifndef ARS_VMC_H
#define ARS_VMC_H

#include <stddef.h>
#include <stdint.h>

#include "nn/arnn.h"
#include "core/comm.h"
#include "est/local_energy.h"
#include "est/projector.h"
#include "vmc/projected.h"
#include "nn/phase.h"
#include "wf/wavefunction.h"
#include "ops/hamiltonian.h"
#include "opt/optimizer.h"
#include "opt/sr.h"
#include "sample/sampler.h"

typedef struct ars_vmc_settings {
    size_t n_samples;
    int chunk_size;
    uint64_t seed;
    ars_sampler_algorithm algorithm;
    ars_dtype dtype; /* of sampling; energies and gradients are float64 */
    const ars_opt_type *optimizer;
    double learning_rate, lr_decay, lr_min;
    int lr_exponential;
    int sr;
    double diag_shift, ds_decay, ds_min;
    int ds_exponential;
    int sr_float32;   /* the SR Gram matrix from float32 products (opt/sr.h, ars_sr_set_float32) */
    int eloc_float32; /* the training iterations' ratio windows in float32 (wf/ratio.h); the
                       * final estimate (ars_vmc_evaluate) and evolution stay float64 */
    double max_step;  /* > 0: each step's Fubini-Study length is scaled down to at most this */
    double phase_lr_factor;  /* the phase parameters' step is this times the optimizer's */
    double sym_penalty;      /* lambda > 0: train on <H> + lambda (1 - <P_G>) (est/projector.h) */
    ars_sym penalty_group;   /* G of that projector */
    ars_sym projected_group; /* != none: ars_vmc_evaluate also measures P_G psi (projector.h) */
    int projection; /* the state is P_G psi, G the network's symmetry (vmc/projected.h): samples of
                     * p_sym with weights; SR on the complex O_P (2n real rows) */
    double hyper[ARS_OPT_N_HYPER]; /* the optimizers' hyperparameters (optimizer.h) */
    double exact_energy;           /* NaN if unknown */
    ars_phase *phase;     /* the learnt phase network (nn/phase.h), updated in place; NULL: none */
    const ars_comm *comm; /* the ranks sharing the work (comm.h); NULL: this process alone */
} ars_vmc_settings;

/* The training log: one entry per completed iteration. */
typedef struct ars_vmc_log {
    size_t len, cap;
    int64_t *iteration;
    double *energy, *energy_error, *energy_variance, *vscore, *relative_error;
    double *grad_norm, *distinct_fraction, *seconds, *learning_rate, *diag_shift;
    double *energy_imag, *energy_imag_error; /* Im <E_loc> and its standard error: 0 for a real
                                              * wavefunction, a check (it must vanish) else */
    double *step_length;      /* lr sqrt(x^T S x) of the step taken (after max_step's scaling) */
    double *symmetry_penalty; /* lambda (1 - Re <P_loc>): what settings.sym_penalty added to the
                               * loss (0 without one); energy is <H> alone */
} ars_vmc_log;

/* The training log's double columns, in the order they are written to /vmc (after
 * "iteration"): the one list that the log's allocation, ars_vmc_share and io's /vmc writer and
 * reader iterate over. `offset` is offsetof(ars_vmc_log, <the column's pointer>). */
typedef struct ars_vmc_log_column {
    const char *name; /* the field's name and its /vmc dataset's name */
    size_t offset;
    int optional; /* absent from files written before it existed: read as 0 */
} ars_vmc_log_column;

#define ARS_VMC_LOG_COLUMNS 14
extern const ars_vmc_log_column ars_vmc_log_columns[ARS_VMC_LOG_COLUMNS];

/* Column i (0 <= i < ARS_VMC_LOG_COLUMNS) of the log: its first entry (NULL before allocation). */
double *ars_vmc_log_data(const ars_vmc_log *log, int i);

/* The phases of a step, timed apart (wall seconds) for the training benchmark: drawing the
 * samples, their local energies, the per-sample gradients (and their gather), the SR build
 * (centring, energy gradient, Gram matrix), the SR solve, the optimizer update. */
typedef enum ars_vmc_phase {
    ARS_VMC_PHASE_SAMPLE,
    ARS_VMC_PHASE_ELOC,
    ARS_VMC_PHASE_GRAD,
    ARS_VMC_PHASE_SR_BUILD,
    ARS_VMC_PHASE_SR_SOLVE,
    ARS_VMC_PHASE_UPDATE,
    ARS_VMC_N_PHASES
} ars_vmc_phase;
extern const char *const ars_vmc_phase_names[ARS_VMC_N_PHASES];

typedef struct ars_vmc {
    ars_arnn *net;    /* not owned; updated in place */
    ars_phase *phase; /* settings.phase */
    size_t P_mod, P;  /* the modulus's parameters, and all (with the phase's) */
    const ars_ham *H; /* not owned */
    ars_vmc_settings set;
    int n_slots;
    ars_sampler *sampler;
    ars_opt *opt;
    ars_sr *sr;
    ars_sr *sr_phase;    /* the phase block's SR (phase network only) */
    uint8_t *cfg;        /* (n, L) the current samples */
    double *log_prob;    /* (n) */
    double *eloc;        /* (n) */
    double *eloc_im;     /* (n) Im E_loc (phase network only) */
    double *theta;       /* (P) the parameters in one block for the optimizer */
    double *O;           /* (P, n) per-sample gradients */
    double *x;           /* (P) update direction */
    double *prior;       /* (P) the optimizer's SR prior (spring), or NULL */
    double *undo;        /* ((1 + optimizer vectors) P) parameters and optimizer state before
                          * the update */
    ars_comm comm;       /* a copy of set.comm, or rank 0 of 1 */
    double *gather;      /* (P, n) scratch for gathering gradient columns (more than one rank) */
    uint64_t *hash;      /* (n) for counting distinct samples */
    double *images;      /* (|G|, n) the draw's mp log psi(g_k s_b) (symmetrised, float64
                          * sampling only; ars_sampler_keep_images), else NULL */
    double *tdvp_ws;     /* (5 n) ars_vmc_tdvp's tangent vectors (2 n), then the three below */
    double *log_psi;     /* (n) log|psi| of the samples at the parameters of their gradients */
    double *log_psi_ref; /* (n) ... at the parameters they were drawn at (ars_vmc_tdvp) */
    double *weights;     /* (n) their importance weights (ars_vmc_tdvp_reweighted) */
    ars_arnn_ws **gws;   /* (n_slots) forward + backward scratch */
    ars_wf_ws **pws;     /* (n_slots) phase-gradient scratch (phase network only) */
    ars_op *op;          /* the operator of H (owned) */
    ars_eloc_ws **ews;   /* (n_slots) local-energy scratch */
    ars_proj_ws **jws;   /* (n_slots) the penalty's projector scratch (sym_penalty > 0 only) */
    ars_proj_ws **fws;   /* (n_slots) the projected estimate's (projected_group only) */
    /* settings.projection only: */
    ars_projected_ws **xws; /* (n_slots) the projected state's scratch */
    double *O_im;           /* (P, n) Im O_P (O holds Re O_P) */
    double *O2;             /* (P, 2 n) the centred Re O_P, then Im O_P: SR's real rows */
    double *wproj;          /* (5 n) the samples' weights w (n), then SR's residuals (2 n) and
                             * row weights (2 n) */
    ars_sr *sr2;            /* SR over the 2 n rows */
    double *proj;           /* (4 n) P_loc (re, im) of the samples, then E_loc + lambda (1 - P_loc)
                             * (re, im): what SR descends with a penalty (sym_penalty > 0 only) */
    int64_t iteration;      /* iterations completed */
    ars_vmc_log log;
    double phase_seconds[ARS_VMC_N_PHASES]; /* summed over this process's steps */
    int64_t timed_steps;                    /* the steps summed there */
    /* Network site evaluations of the local energies in those steps, useful and computed
     * (ratio.h's ars_ratio_ws_flops over ars_ratio_ws_site_flops), this process's chunks. */
    uint64_t eloc_sites_useful, eloc_sites_computed;
} ars_vmc;

/* Makes every rank's state rank 0's: parameters, optimiser state, log and iteration (after rank
 * 0 alone loaded a checkpoint). A no-op for one process. */
int ars_vmc_share(ars_vmc *v);

/* A lower bound on the bytes ars_vmc_alloc(net, ., set, ., n_threads) takes, from its arrays
 * that grow with the samples and the parameters: the per-sample gradients O (8 P n), their
 * float32 copies (4 P n with sr_float32), the gather of several ranks (8 P n), the SR matrices
 * (8 m^2 each, m = min(n, P) of the block, and half as much again to share them between ranks),
 * a symmetrised state's images (8 |G| n), the samples and their per-sample vectors, and the
 * sampler's per-thread workspaces. Not counted: the local-energy and gradient workspaces, which
 * grow with the chunk and the chain but not with n (docs/performance.md, "Memory of a training
 * run"). */
double ars_vmc_bytes(const ars_arnn *net, const ars_vmc_settings *set, int n_threads);

/* Allocates the driver for `iterations` total iterations (the log's capacity) with scratch for
 * n_threads threads (<= 0: the OpenMP maximum). NULL on allocation failure. */
ars_vmc *ars_vmc_alloc(ars_arnn *net, const ars_ham *H, const ars_vmc_settings *set, int iterations,
                       int n_threads);
void ars_vmc_free(ars_vmc *v);

/* One iteration (see above); appends to v->log. Returns ARS_OK, or ARS_STATUS_ENONFINITE (with a
 * message naming the iteration) when energies, gradients or parameters are not finite; the
 * parameters are then left as they were before the step. */
int ars_vmc_step(ars_vmc *v);

/* An energy estimate from exact samples: mean of Re E_loc, standard error sqrt(Var/n), Var
 * (n - 1 normalisation), V-score L Var / E^2, the relative error to the exact energy (NaN if
 * unknown), and the mean of Im E_loc with its standard error (0 for a real wavefunction). */
typedef struct ars_vmc_estimate {
    size_t n_samples;
    double energy, energy_error, energy_variance, vscore, relative_error;
    double energy_imag, energy_imag_error;
    /* settings.projected_group != none: the projected state's energy E_P = Re <P_loc^* E_loc> /
     * <P_loc> with its error (delta method) and relative error, and <P_G> with its error; NaN
     * otherwise */
    double projected_energy, projected_energy_error, projected_relative_error;
    double overlap, overlap_error;
} ars_vmc_estimate;

/* Draws n fresh samples of the current state into cfg (n, L) and log_prob (n) from the streams
 * (seed, SAMPLE, stream, chunk) and estimates the energy from their local energies eloc +
 * i eloc_im (n); the arrays are the caller's (eloc_im NULL: a real wavefunction only). With
 * settings.projection the samples are p_sym's, eloc + i eloc_im their E_P,loc and weight (n, or
 * NULL otherwise) receives their importance weights w (vmc/projected.h); the estimate is the
 * weighted one. Returns ARS_OK or ARS_STATUS_ENONFINITE. */
int ars_vmc_evaluate(ars_vmc *v, uint8_t *cfg, double *log_prob, double *eloc, double *eloc_im,
                     size_t n, uint64_t stream, ars_vmc_estimate *est, double *weight);

/* The wavefunction the driver trains (modulus, Marshall sign, phase). */
ars_wf ars_vmc_wf(const ars_vmc *v);

/* The parameters theta (P): the modulus's, then the phase's; get copies them out, set in. */
void ars_vmc_get_params(const ars_vmc *v, double *theta);
void ars_vmc_set_params(ars_vmc *v, const double *theta);

/* What one evaluation of the TDVP equation measured on its samples. */
typedef struct ars_vmc_tdvp_info {
    ars_vmc_estimate estimate; /* the energy of its samples */
    double residual;           /* Schmitt & Heyl's r^2 (below) */
    double ess;                /* the effective sample size 1 / sum_b w_b^2 (n unweighted) */
} ars_vmc_tdvp_info;

/* The time-dependent variational principle (McLachlan) on n fresh samples of the streams
 * (seed, SAMPLE, stream, chunk): the parameters' time derivative theta_dot (P) that minimises
 * |sum_k O_k thetadot_k - d log psi_exact|^2 over the samples, with d log psi_exact = -i (E_loc
 * - E) (real time) or -(E_loc - E) (imaginary time), that is
 *   (S + diag_shift) thetadot = Im <O^* E_loc>_c   (real),   -Re <O^* E_loc>_c   (imaginary),
 * S_kl = Re <O_k^* O_l>_c. S has no modulus-phase block (vmc.h), so each block is solved apart
 * by ars_sr_direction (parameter or sample space, whichever is smaller). Real time needs a phase
 * network (asserted). info->residual is r^2 = sum_b |dlogpsi_b - dlogpsi_exact_b|^2 / sum_b
 * |E_b - E|^2 (0 when every E_b is equal). Afterwards ars_vmc_tdvp_norm uses these samples.
 * Returns ARS_OK, ARS_STATUS_ENONFINITE (reported) or a sampling failure. */
int ars_vmc_tdvp(ars_vmc *v, uint64_t stream, int imaginary, double diag_shift, double *theta_dot,
                 ars_vmc_tdvp_info *info);

/* ars_vmc_tdvp at the current parameters theta on the samples of the last ars_vmc_tdvp (drawn
 * at theta_0), reweighted instead of redrawn: every mean becomes sum_b w_b X_b with w_b
 * proportional to |psi_theta(s_b)|^2 / |psi_theta0(s_b)|^2, normalised to sum to 1 (sr.h's
 * weights). The estimate is then a smooth function of theta for fixed samples (the TDVP's
 * reweighted stages, evolve.h); info->ess is the effective sample size 1 / sum_b w_b^2 and the
 * energy's error is sqrt(Var / ess). The local energies and gradients are recomputed; the
 * samples are not drawn again. */
int ars_vmc_tdvp_reweighted(ars_vmc *v, int imaginary, double diag_shift, double *theta_dot,
                            ars_vmc_tdvp_info *info);

/* Solves ars_vmc_tdvp's equations with the spectral regularisation of opt/sr.h (both blocks).
 * ARS_OK or ARS_STATUS_ENOMEM. */
int ars_vmc_set_snr(ars_vmc *v, double snr_tolerance, double pinv_tolerance);

/* sqrt(delta^T S delta) with the S of the last ars_vmc_tdvp's samples: the distance that a
 * parameter change delta (P) moves the normalised state, to first order (uses v's scratch). */
double ars_vmc_tdvp_norm(ars_vmc *v, const double *delta);

/* Grows the log to hold `cap` entries (for --resume with more iterations). */
int ars_vmc_log_reserve(ars_vmc_log *log, size_t cap);
void ars_vmc_log_free(ars_vmc_log *log);

#endif
