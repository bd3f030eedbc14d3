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
#include "ops/hamiltonian.h"

/* The Hamiltonian of [hamiltonian] for the chain of [system]. */
int ars_setup_hamiltonian(const ars_config *cfg, ars_ham *H);

/* The exact ground-state energy when it is given or cheap (tfim: free fermions; others: Lanczos
 * in the total-Sz = 0 sector, or in the [system] total_sz sector, up to
 * ARS_EXACT_LANCZOS_MAX_SIZE sites), else NaN. *method names how it was found ("unknown" for
 * NaN). */
double ars_setup_exact_reference(const ars_config *cfg, const ars_ham *H, const char **method);

/* mode = exact: the exact energy as ars_setup_exact_reference into *e0 and *method, or
 * ARS_STATUS_ECONFIG with a message when there is no exact method for this Hamiltonian. */
int ars_setup_exact_energy(const ars_config *cfg, const ars_ham *H, double *e0,
                           const char **method);

/* Prints the summary line of a Hamiltonian to stdout: "hamiltonian: tfim, J 1, h 1, open; exact
 * energy ... (method)". */
void ars_setup_print_hamiltonian(const ars_ham *H, double exact, const char *method);

/* The network of [model]: its architecture, a writable output, and its variables (random, from
 * [model] init, or none yet when `later` is set, for --resume). Rank 0 checks the output and
 * reads files; the other ranks get its status and its variables. A collective. On failure *net
 * may still be allocated: the caller frees it (ars_arnn_free). */
int ars_setup_network(const ars_config *cfg, const ars_comm *comm, ars_arch *arch, ars_arnn **net,
                      int later);

#endif
