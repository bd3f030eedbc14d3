/*
 * setup: the objects of a run, built from its checked config: the Hamiltonian of
 * [hamiltonian] with its exact reference energy and its summary line, and the network of
 * [model]. Everything the app asks of the Hamiltonian module (ops/hamiltonian.h,
 * ops/exact.h) is here.
 */
#ifndef ARS_APP_SETUP_H
#define ARS_APP_SETUP_H

#include "config/config.h"
#include "core/comm.h"
#include "nn/arnn.h"
#include "nn/phase.h"
#include "wf/wavefunction.h"
#include "ops/exact.h"
#include "ops/hamiltonian.h"

/* The Hamiltonian of [hamiltonian] for the chain of [system]. */
int ars_setup_hamiltonian(const ars_config *cfg, ars_ham *H);

/* Most states the automatic reference of a training or sampling run diagonalises (about 2 s
 * of Lanczos on one core): spin 1/2 up to 20 sites. mode = exact goes up to
 * ARS_EXACT_LANCZOS_MAX_STATES. */
#define ARS_SETUP_REFERENCE_MAX_STATES ((size_t)1 << 20)

/* The exact ground-state energy when it is given, has a closed form (ars_ham_closed_form), or
 * Lanczos takes at most max_states states (ars_exact_lanczos_states): in the [system] total_sz
 * sector when the operator conserves S^z and one is set, else the lowest over every sector (or
 * the full space); else NaN. *method names how it was found ("unknown" for NaN). */
double ars_setup_exact_reference(const ars_config *cfg, const ars_ham *H, size_t max_states,
                                 const char **method);

/* mode = exact: the exact energy as ars_setup_exact_reference into *e0 and *method, or
 * ARS_STATUS_ECONFIG with a message when there is no exact method for this Hamiltonian. */
int ars_setup_exact_energy(const ars_config *cfg, const ars_ham *H, double *e0,
                           const char **method);

/* Prints the summary line of a Hamiltonian to stdout: "hamiltonian: tfim, J 1, h 1, open; exact
 * energy ... (method)". */
void ars_setup_print_hamiltonian(const ars_ham *H, double exact, const char *method);

/* Prints what the operator is, as it was understood (unless quiet): its term count, the first
 * expanded terms of type = terms, whether it conserves total S^z and whether it is stoquastic
 * (with the Marshall sign when set); and, for training, warns when it conserves S^z but
 * total_sz is none, and when it is not stoquastic (a positive network cannot carry its signs).
 * Returns ARS_OK or ARS_STATUS_ENOMEM. */
int ars_setup_check_operator(const ars_config *cfg, const ars_ham *H, int quiet);

/* [vmc] projected_estimate needs H invariant under its group (est/projector.h,
 * ars_proj_op_invariant): ARS_OK, or a config error naming the key (before anything is printed
 * or written). */
int ars_setup_check_projection(const ars_config *cfg, const ars_ham *H);

/* Warns when training an integer spin with [model] input = value, whose m = 0 is the zero
 * padding (use onehot). */
void ars_setup_check_model(const ars_config *cfg);

/* Refuses (ARS_STATUS_ECONFIG, naming [sampler] n_samples) a run whose arrays need more than
 * a process may use: `need` bytes per process (a lower bound from ars_vmc_bytes) for `what`
 * ("training", "the evolution") against ars_memory_bytes shared by the ranks on one machine,
 * the tightest machine's share deciding for every rank (so all agree, and rank 0 speaks).
 * *share: that share in bytes (0 when unknown), for the header. A collective. */
int ars_setup_check_memory(const ars_config *cfg, const ars_comm *comm, double need,
                           const char *what, double *share);

/* The network of [model] and the phase network of [phase] (*phase NULL for type = none): the
 * architecture, a writable output, and their variables (random, from [model] init, or none
 * yet when `later` is set, for --resume). An init file's phase network must match [phase]; a
 * file without one leaves the phase network at its initialisation (phase 0: a quench from a
 * real state), and a file with one is refused when [phase] type = none. Rank 0 checks the
 * output and reads files; the other ranks get its status and its variables. A collective. On
 * failure *net and *phase may still be allocated: the caller frees them. */
int ars_setup_network(const ars_config *cfg, const ars_comm *comm, ars_arch *arch, ars_arnn **net,
                      ars_phase **phase, int later);

/* The phases phi(s) (n) of n configurations cfg (n, L) of the wavefunction wf, in chunks of
 * chunk_size. ARS_OK or ARS_STATUS_ENOMEM. */
int ars_setup_sample_phases(double *phi, const uint8_t *cfg, size_t n, const ars_wf *wf,
                            int chunk_size);

#endif
