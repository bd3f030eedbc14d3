/*
 * print: what a run tells its user on stdout (the summary at start, the observables, the final
 * estimate) and on stderr (the progress line of training, warnings about the receptive field).
 * The caller decides who speaks: these functions print unconditionally, except where a `quiet`
 * argument says otherwise. The Hamiltonian's line is ars_setup_print_hamiltonian (setup.h).
 */
#ifndef ARS_APP_PRINT_H
#define ARS_APP_PRINT_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "nn/arnn.h"
#include "ops/hamiltonian.h"
#include "vmc/observables.h"
#include "evolve/evolve.h"
#include "vmc/vmc.h"

/* The sector and symmetry of a network for the start-up lines, e.g. ", total_sz 0, symmetrised
 * (both)", or "". Writes into buf (len bytes) and returns it. */
const char *ars_print_sector_text(const ars_arch *a, char *buf, size_t len);

/* Prints the receptive field (unless quiet) and warns (always) about gaps or a short reach.
 * ARS_STATUS_ENOMEM if out of memory. */
int ars_print_receptive_field(const ars_arch *arch, int quiet);

/* The start-up summary of mode = sample: system, model (and phase network, NULL for none) and
 * sampling settings. */
void ars_print_sample_header(const ars_config *cfg, const ars_arch *arch, const ars_arnn *net,
                             const ars_phase *phase, int threads);

/* The start-up summary of mode = train: system, model, Hamiltonian, training settings, and
 * with resumed_after >= 0 the iteration a --resume continues after. */
void ars_print_train_header(const ars_config *cfg, const ars_arch *arch, const ars_arnn *net,
                            const ars_phase *phase, const ars_ham *H, double exact,
                            const char *method, int threads, int64_t resumed_after);

/* The progress line of training on stderr: one line per iteration on a terminal (redrawn),
 * every 10 s otherwise, and always when `force` is set (a final line). `first` is the iteration
 * this process started from and t_start its time (ars_wtime); *t_last is the time of the last
 * line, updated. */
void ars_print_train_progress(const ars_vmc *v, int total, int64_t first, double t_start,
                              double *t_last, int force);

/* mode = evolve: the header (system, network, phase network, Hamiltonian, integrator), and one
 * progress line per measurement time on stderr: t, the next dt, the energy and its drift from
 * t = 0 (real time) with their errors, the residual r^2 of the last step, the step counts, and
 * the ETA. */
void ars_print_evolve_header(const ars_config *cfg, const ars_arch *arch, const ars_arnn *net,
                             const ars_phase *phase, const ars_ham *H, int threads,
                             double resumed_at);
void ars_print_evolve_progress(const ars_evolve *e, const ars_evolve_record *r, double t_first,
                               double seconds);

/* The line of the final estimate of training, from n fresh samples (with complex_wf, the mean
 * of Im E_loc too: it must vanish within its error). */
void ars_print_train_final(const ars_vmc_estimate *est, size_t n, int complex_wf);

/* The memory line of a header: at least `need` bytes per process (ars_vmc_bytes) for `what`,
 * and the share of memory a process may use (ars_setup_check_memory) unless it is 0. */
void ars_print_memory(double need, double share, const char *what);

/* Where an iteration's time went: seconds per iteration of each phase (vmc.h), and its share;
 * then the checkpoints' seconds per write (io_writes of them, io_seconds in all). */
void ars_print_train_phases(const ars_vmc *v, double io_seconds, int io_writes);

/* The summary of measured observables: one line per observable, from n samples measured in
 * `seconds`; the energy's line adds the relative error to `exact` unless it is NaN. */
void ars_print_observables(const ars_obs_result *res, size_t n, double seconds, double exact);

#endif
