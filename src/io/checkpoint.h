/*
 * checkpoint: the layout of arsampler's HDF5 files (format_version 1; the contract is
 * docs/hdf5-format.md). Writer in checkpoint.c, validating readers in checkpoint_read.c.
 *
 *   /                      attrs format="arsampler", format_version=1, arsampler_version,
 *                          config (effective INI text), seed, blas (OpenBLAS's kernels)
 *   /hilbert               attrs size, local_size, spin; dataset local_states f64 [D]
 *   /model                 attrs layers, features[layers], kernel_size, kernel_dilation[layers],
 *                          activation, input, use_bias, feature_group_count, machine_pow
 *   /variables/params/layers_{i}/kernel   f64 [K - exclusive_i, C_i/g_i, F_i]
 *   /variables/params/layers_{i}/bias     f64 [F_i]   (absent without bias)
 *   /samples               int8 [n, L] local state values (2*Sz); /log_prob f64 [n]
 * A phase network ([phase] type != none, nn/phase.h) adds:
 *   /phase                 f64 [n]: the phase phi(s) of each sample (Marshall sign included;
 *                          length 0 in checkpoints without samples), with the phase network's
 *                          architecture as its attributes: type, layers, features, kernel_size,
 *                          kernel_dilation[layers], activation, site_phase, pbc
 *   /variables/phase/layers_{i}/kernel   f64 [K, C_i, F_i];  .../bias  f64 [F_i]
 *   /variables/phase/beta  f64 [L, D]  (site_phase only)
 * Training (mode = train) adds:
 *   /hamiltonian           attrs type, J, h, Delta, J2, pbc, marshall_sign
 *   /reference/energy      f64 scalar, the exact ground-state energy (when known)
 *   /optimizer             attrs type, step, beta1, beta2, epsilon; datasets m, v [P] (adam)
 *   /vmc                   attrs iterations_done and, at the end, final_energy, final_energy_error,
 *                          final_energy_variance, final_vscore, final_relative_error,
 *                          final_samples, seconds_<phase> (vmc.h's phases, per iteration),
 *                          with a phase network final_energy_imag, final_energy_imag_error;
 *                          datasets [iterations_done]: iteration, energy,
 *                          energy_error, energy_variance, vscore, relative_error, grad_norm,
 *                          distinct_fraction, seconds, learning_rate, diag_shift,
 *                          energy_imag, energy_imag_error (0 for a real wavefunction)
 * Time evolution (mode = evolve) adds /hamiltonian and
 *   /evolution             attrs integrator, imaginary, t_end, tolerance and the stepper's state:
 *                          t, dt (the next step's), n_evaluations, steps_accepted,
 *                          steps_rejected, k0_energy, k0_energy_error, k0_residual;
 *                          datasets k0 [P or 0] (the FSAL derivative at t), and on the
 *                          measurement grid [M]: time, energy, energy_error, energy_variance,
 *                          energy_imag, energy_imag_error
 *   /evolution/observables/NAME   mean, error [M] (scalars) or [M, len]; attr description
 *   /evolution/steps       [S] per attempted step: t, dt, accepted, error, residual, energy,
 *                          energy_error, seconds
 * Observables ([observables] names) add:
 *   /observables           attrs n_samples, source; one group per name with datasets mean,
 *                          error, n_samples (and variance, distance, k or cuts) and attributes
 *                          description (and centre)
 *
 * Files are built in memory (h5_image.h) and committed atomically (atomic_file.h): written to
 * "<path>.tmp.<pid>" in the same folder, flushed and renamed into place only when complete, so an
 * interrupted run or a full disk never leaves a half-written file where a good one was (and the
 * temporary file is removed on failure).
 * HDF5's own error stack is silenced; every failure is reported once through ARS_ERR, naming
 * the file and the object. While an input file is read, a crash inside HDF5 (which trusts some
 * sizes in the file) ends the program with one such message and exit status 2 (crash_guard.h).
 */
#ifndef ARS_IO_CHECKPOINT_H
#define ARS_IO_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "evolve/evolve.h"
#include "nn/arnn.h"
#include "nn/phase.h"
#include "ops/hamiltonian.h"
#include "vmc/observables.h"
#include "opt/optimizer.h"
#include "vmc/vmc.h"

#define ARS_FORMAT_NAME "arsampler"
#define ARS_FORMAT_VERSION 1

/* What the root attributes record besides the network. */
typedef struct ars_io_meta {
    const char *config_text; /* effective config (INI) */
    uint64_t seed;
    const char *dtype;          /* arithmetic of the samples ("float64"/"float32"), or NULL */
    const ars_obs_result *obs;  /* measured observables for /observables, or NULL */
    const char *obs_source;     /* "samples" or "final_samples" */
    const ars_ham *H;           /* without training: a Hamiltonian to record (energy), or NULL */
    double exact_energy;        /* with H: written to /reference/energy unless NaN */
    const ars_phase *phase;     /* the phase network, or NULL */
    const double *sample_phase; /* with phase and samples: their phases (n) */
    /* With samples, or NULL: their local energies, real parts then imaginary parts (2n), for
     * /local_energy (and /local_energy_imag with a phase network). */
    const double *sample_eloc;
    /* With samples of a projected state ([model] projection), or NULL: their importance weights
     * (n), for /importance_weight. */
    const double *sample_weight;
    const ars_evolve *evolve;        /* mode = evolve: the stepper for /evolution, or NULL */
    const ars_evolve_record *record; /* with evolve: its measurements */
} ars_io_meta;

/* What a training run adds to its output file. */
typedef struct ars_io_train {
    const ars_ham *H;
    const ars_opt *opt;
    const ars_vmc_log *log;
    double exact_energy;           /* NaN: unknown, /reference is not written */
    const ars_vmc_estimate *final; /* the final estimate, or NULL (checkpoints) */
    int complex_wf; /* a phase network: the final estimate's imaginary part is written too */
    /* With final: wall seconds of each phase summed over timed_steps iterations of this process
     * (vmc.h), written as /vmc attributes seconds_<phase> per iteration; NULL: not written. */
    const double *phase_seconds;
    int64_t timed_steps;
    /* With phase_seconds: the local energies' network site evaluations over the timed steps
     * (vmc.h), written per iteration as /vmc attributes local_energy_sites_useful, _computed. */
    uint64_t eloc_sites_useful, eloc_sites_computed;
    double checkpoint_seconds; /* with phase_seconds: per checkpoint write before, NaN if none */
} ars_io_train;

/* Writes a complete output file atomically: metadata, variables, when n > 0 the samples cfg
 * (n, L) as values and log_prob (n), and the training state when train != NULL. Creates missing
 * parent folders. ARS_STATUS_EIO on failure (the previous file at `path`, if any, is left
 * untouched). */
int ars_io_write(const char *path, const ars_io_meta *meta, const ars_arnn *net, const uint8_t *cfg,
                 const double *log_prob, size_t n, const ars_io_train *train);

/* Writes the file of mode = exact: root attributes, /hilbert, /hamiltonian and
 * /reference/energy (with attribute method). */
int ars_io_write_exact(const char *path, const ars_io_meta *meta, const ars_hilbert *h,
                       const ars_ham *H, double energy, const char *method);

/* Loads what --resume needs besides the variables: the optimiser state into opt (its type and
 * size must match; Adam's moments finite, v >= 0) and the training log into log (grown as
 * needed; iterations_done, /vmc/iteration = 0, 1, ... and every column of the same length).
 * ARS_STATUS_EINPUT with one message naming the object on failure; opt and log are then
 * unchanged. */
int ars_io_load_train(const char *path, ars_opt *opt, ars_vmc_log *log);

/* For --resume, before anything is loaded: the file's recorded /hilbert and /model must describe
 * exactly `arch`, chain size included (a run continued with another network or chain would not
 * be the same run). ARS_STATUS_EINPUT with one message naming the attribute otherwise. */
int ars_io_check_resume(const char *path, const ars_arch *arch);

/* Reads the architecture recorded in /hilbert and /model. ARS_STATUS_EINPUT on failure. */
int ars_io_read_arch(const char *path, ars_arch *arch);

/* Loads /variables/params into `net`, checking that the file's recorded architecture (when it
 * has /model; the chain size may differ) and every dataset's shape match net->arch, and that
 * every value is finite. A network without sublattice channels loads into one with them: the
 * first layer's kernel gains zero rows for those channels, the same state; *gained (unless
 * NULL) is the number of channels gained, 0 when none. A file holding only the
 * /variables tree is accepted (NetKet's names _layers_{i} are refused with a pointer to
 * scripts/netket-convert). ARS_STATUS_EINPUT with a message naming the dataset on failure;
 * net->params is then unchanged. */
int ars_io_load_variables(const char *path, ars_arnn *net, int *gained);

/* Loads /phase's network into ph: the file's /phase attributes must describe ph->arch exactly
 * (the chain size and boundary included) and every dataset of /variables/phase must have its
 * shape and finite values. ARS_OK, or ARS_STATUS_EINPUT with one message naming the attribute
 * or dataset (ph is then unchanged). From a file of another chain length the site phases repeat
 * with the file's length as period (size transfer; docs/phase.md). */
int ars_io_load_phase(const char *path, ars_phase *ph);

/* For --resume of mode = evolve: the file must hold /evolution, the architecture `arch` (as
 * ars_io_check_resume) and a stepper of e's integrator with e->P parameters; loads its state
 * into e (t, dt, counters, k0, the step log) and its measurements into r (whose observables
 * must be the run's [observables]: the built-in kinds of `mask` and the user operators that r
 * names, r->n_ops and r->op_name, and no others). ARS_STATUS_EINPUT with one message on failure;
 * e and r's measurements are then unchanged. */
int ars_io_load_evolution(const char *path, const ars_arch *arch, ars_evolve *e,
                          ars_evolve_record *r, unsigned mask);

/* 1 if the file has a phase network (/phase), 0 if not, -1 if it cannot be read (reported). */
int ars_io_has_phase(const char *path);

/* The chain length of the file's network (/hilbert size) into *size; ARS_OK, or
 * ARS_STATUS_EINPUT with a message. */
int ars_io_read_size(const char *path, int *size);

/* Reads /samples as local indices into a malloc'd (n, L) array and /log_prob into a malloc'd
 * (n) array (either output pointer may be NULL to skip it). */
int ars_io_read_samples(const char *path, const ars_hilbert *h, uint8_t **cfg, double **log_prob,
                        size_t *n);

#endif
