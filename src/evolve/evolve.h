/*
 * evolve: time evolution of the variational state by the time-dependent variational principle
 * (TDVP) on exact samples (GSL-style: alloc, step, free; the caller runs the loop, measures,
 * writes checkpoints and prints progress; app/run_evolve.c).
 *
 * The parameters theta (P: the modulus network's, then the phase network's) follow
 *   thetadot = f(theta),   f = the TDVP solution on n fresh samples (vmc.h, ars_vmc_tdvp),
 * real time (|psi(t)> = exp(-i H t) |psi(0)>) or imaginary time (exp(-H tau), a ground-state
 * method), integrated by an explicit Runge-Kutta type (integrator.h). With adaptive control the
 * error of a step is measured in the state's own metric, |e|_S = sqrt(e^T S e) (the distance the
 * error moves the normalised state), with the S of the step's last evaluation; it contains the
 * Monte Carlo noise of the stages as well as the truncation error, so the controller bounds
 * both. Steps are cut to end exactly on the caller's stop times (the measurement grid); a step
 * cut short does not shrink the next proposal.
 *
 * Common random numbers (common_samples): all the evaluations of one step -- f(theta) at its
 * start, its stages, f(y_new) of the error estimate, and the same again for a rejected step's
 * retries -- draw from one stream, so their samples are the same uniforms pushed through
 * slightly different conditionals and mostly the same configurations. Their Monte Carlo noise
 * is then strongly correlated, and it cancels in the error estimate (a combination whose
 * weights sum to zero), which then measures the truncation error; each stage's estimate stays
 * exact and unbiased, and the next step draws fresh numbers, so the noise does not freeze. The
 * price: f(y_new) is not carried into the next step (FSAL), one more evaluation per step.
 *
 * Reweighted stages (reweight): only a step's first evaluation draws samples; its stages, f(y_new)
 * and the retries of a rejected step evaluate the equation at their own parameters on the same
 * configurations with importance weights |psi_stage / psi_start|^2 (vmc.h,
 * ars_vmc_tdvp_reweighted), so for those samples f is a smooth function of theta and the error
 * estimate is the truncation error's. A step whose stages' effective sample size falls below
 * ARS_EVOLVE_MIN_ESS n is retried with half the step. f(y_new) is not carried over (as above),
 * and a resumed run evaluates f(theta) again (its samples are not in the checkpoint). Adaptive
 * steps only; not with common_samples or snr.
 *
 * Reproducibility: evaluation number j (counted over the whole run, rejected steps included)
 * draws its samples from the streams (seed, SAMPLE, ARS_EVOLVE_STREAM | j, chunk) (with
 * common_samples, step i from ARS_EVOLVE_STEP_STREAM | i), so the run
 * is the same bits for any thread and rank count, and a run resumed from a checkpoint (t, dt,
 * the counters, the FSAL derivative k0 and its estimate, the logs) continues it exactly.
 */
#ifndef ARS_EVOLVE_H
#define ARS_EVOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "evolve/integrator.h"
#include "vmc/observables.h"
#include "vmc/vmc.h"

/* The sample streams of the equation's evaluations, and of the measurements (| m). */
#define ARS_EVOLVE_STREAM (UINT64_C(1) << 61)
#define ARS_EVOLVE_MEASURE_STREAM (UINT64_C(1) << 62)
/* With common_samples: every evaluation of step i (its retries included) | i. */
#define ARS_EVOLVE_STEP_STREAM (ARS_EVOLVE_STREAM | (UINT64_C(1) << 60))
/* With reweight: a step whose stages' effective sample size falls below this fraction of the
 * samples is rejected and retried with half the step. */
#define ARS_EVOLVE_MIN_ESS 0.5

typedef struct ars_evolve_settings {
    const ars_integrator_type *integrator;
    double t_end;
    double dt;        /* the first step (every step without adaptive control) */
    double tolerance; /* the error norm |e|_S allowed per step */
    int adaptive;
    int common_samples; /* every evaluation of a step from the step's stream (n_accepted) */
    int reweight;       /* a step's stages reweight the samples of its first evaluation */
    int imaginary;
    double diag_shift; /* added to S */
    int snr;           /* regularization = snr: S inverted in its eigenbasis (opt/sr.h) */
    double snr_tolerance, pinv_tolerance;
    double dt_min, dt_max;
} ars_evolve_settings;

/* The step log: one entry per attempted step, rejected ones included. */
typedef struct ars_evolve_steps {
    size_t len, cap;
    double *t;        /* the time the step started from */
    double *dt;       /* its size */
    double *accepted; /* 1 or 0 */
    double *error;    /* |e|_S (NaN without adaptive control) */
    double *residual; /* r^2 of the evaluation at its start (vmc.h) */
    double *energy;   /* the energy of that evaluation's samples, and its error */
    double *energy_error;
    double *seconds; /* wall time */
} ars_evolve_steps;

/* The step log's columns in the order /evolution/steps holds them (the io reads this list). */
typedef struct ars_evolve_column {
    const char *name;
    size_t offset;
} ars_evolve_column;
#define ARS_EVOLVE_STEP_COLUMNS 8
extern const ars_evolve_column ars_evolve_step_columns[ARS_EVOLVE_STEP_COLUMNS];
double *ars_evolve_steps_data(const ars_evolve_steps *s, int i);
int ars_evolve_steps_reserve(ars_evolve_steps *s, size_t cap);

/* The measurements: one entry per time of the grid. The energy columns are listed (for io) like
 * the step log's. The observables fill slots (ARS_OBS_SLOTS): the built-in kinds of `mask`, then
 * the n_ops user operators (scalars, named op_name). A slot in use has width[k] values per time
 * (its length, 1 for a scalar; 0: not measured), in mean[k] and error[k] ((cap, width[k])
 * row-major). */
typedef struct ars_evolve_record {
    size_t len, cap;
    double *time, *energy, *energy_error, *energy_variance, *energy_imag, *energy_imag_error;
    unsigned mask;
    int n_ops;
    char op_name[ARS_USER_OPS_MAX][ARS_USER_OP_NAME_MAX];
    int width[ARS_OBS_SLOTS];
    int scalar[ARS_OBS_SLOTS]; /* a scalar observable (written [M], the others [M, width]) */
    double *mean[ARS_OBS_SLOTS], *error[ARS_OBS_SLOTS];
} ars_evolve_record;

/* The name of slot k of r: a built-in observable's, or a user operator's. */
const char *ars_evolve_record_slot_name(const ars_evolve_record *r, int k);
#define ARS_EVOLVE_RECORD_COLUMNS 6
extern const ars_evolve_column ars_evolve_record_columns[ARS_EVOLVE_RECORD_COLUMNS];
double *ars_evolve_record_data(const ars_evolve_record *r, int i);

/* Fixes the observables of the record (the built-in kinds of mask, and the user operators' slots
 * whose width is not 0; widths of all ARS_OBS_SLOTS) and grows it to cap entries. ARS_OK or
 * ARS_STATUS_ENOMEM. */
int ars_evolve_record_reserve(ars_evolve_record *r, unsigned mask, const int *width, size_t cap);

/* Appends a measurement at time t: the energy estimate and the observables of res (NULL when
 * mask is 0). ARS_OK or ARS_STATUS_ENOMEM. */
int ars_evolve_record_append(ars_evolve_record *r, double t, const ars_vmc_estimate *est,
                             const ars_obs_result *res);
void ars_evolve_record_free(ars_evolve_record *r);

typedef struct ars_evolve {
    ars_vmc *vmc; /* not owned: its samples, local energies, gradients and SR solver */
    ars_evolve_settings set;
    size_t P;
    double t;           /* the time reached */
    double dt;          /* the next step's proposed size */
    int64_t n_eval;     /* evaluations so far: the next one's stream */
    int64_t n_accepted; /* steps */
    int64_t n_rejected;
    double min_ess;            /* the smallest effective sample size of the step's stages */
    int have_ref;              /* the vmc holds the samples of a fresh evaluation (reweight) */
    int have_k0;               /* k holds f(theta) at t (kept from the last step's FSAL stage) */
    ars_vmc_tdvp_info k0_info; /* with have_k0: its energy and residual */
    double *theta;             /* (P) the parameters at t */
    double *k;                 /* ((s + 1), P) the stages; row s is f(y_new) */
    double *y;                 /* (P) a stage's parameters, then the candidate */
    double *err;               /* (P) the error vector */
    ars_evolve_steps steps;
} ars_evolve;

/* A driver over the training machinery v (its parameters are the state at t = 0). NULL on
 * allocation failure. */
ars_evolve *ars_evolve_alloc(ars_vmc *v, const ars_evolve_settings *set);
void ars_evolve_free(ars_evolve *e);

/* Takes one accepted step from t towards t_stop > t (rejected attempts before it are logged
 * too) and leaves the network's parameters at the new state. Returns ARS_OK, or with a message
 * ARS_STATUS_ENONFINITE (the parameters are then those at t) when an evaluation is not finite or
 * the step size falls below dt_min without meeting the tolerance. */
int ars_evolve_step(ars_evolve *e, double t_stop);

#endif
