/*
 * run_evolve: [run] mode = evolve. Time evolution of the state by the time-dependent
 * variational principle on exact samples (evolve/evolve.h): setup (Hamiltonian, network and
 * initial state, --resume), the loop over the measurement grid of [evolve] (steps, then the
 * energy and [observables] from fresh samples at each grid time, a checkpoint, a progress
 * line) with its stop signals, and the output file (/evolution).
 */
#ifndef ARS_APP_RUN_EVOLVE_H
#define ARS_APP_RUN_EVOLVE_H

#include "app/output.h"
#include "config/config.h"

/* Runs mode = evolve for a checked config; config_text is its effective INI text. Every rank
 * calls it; rank 0 speaks and writes. *stopped_by is set to the signal that interrupted it
 * (the return value is then ARS_OK and the checkpoint holds every finished step). */
int ars_run_evolve(const ars_config *cfg, const char *config_text, ars_run_ctx *ctx,
                   int *stopped_by);

#endif
