/*
 * measure: the [observables] of a run, measured on the samples it drew (mode = sample) or on
 * its final samples (mode = train), with their summary on stdout.
 */
#ifndef ARS_APP_MEASURE_H
#define ARS_APP_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/comm.h"
#include "nn/arnn.h"
#include "ops/hamiltonian.h"
#include "ops/user_ops.h"
#include "vmc/observables.h"

/* Measures [observables] on n samples (n, L) of local indices drawn from `net` (with the phase
 * network `phase`, NULL for none), with the user operators `ops` the caller read once
 * (ars_obs_config_operators; NULL: none), into *res (free
 * with ars_obs_result_free, also after a failure), and prints a summary unless quiet. H is the
 * Hamiltonian for the energy (NULL without it) and `exact` its exact energy (NaN if unknown).
 * Every rank measures its chunks (observables.h): a collective. */
int ars_app_measure(const ars_config *cfg, const ars_comm *comm, const ars_arnn *net,
                    const ars_phase *phase, const ars_ham *H, const ars_user_ops *ops,
                    const uint8_t *samples, size_t n, double exact, int quiet, ars_obs_result *res);

#endif
