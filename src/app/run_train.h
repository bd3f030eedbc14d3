/*
 * run_train: [run] mode = train. Variational Monte Carlo training of the network towards the
 * ground state of [hamiltonian]: setup (Hamiltonian, network, exact reference, training state,
 * --resume), the loop of [vmc] iterations with its checkpoints and its stop signals, and the
 * finish (a final estimate from fresh samples, [observables], the output file).
 */
#ifndef ARS_APP_RUN_TRAIN_H
#define ARS_APP_RUN_TRAIN_H

#include "app/output.h"
#include "config/config.h"

/* Runs mode = train for a checked config; config_text is its effective INI text. Every rank
 * calls it; rank 0 speaks and writes. *stopped_by is set to the signal that interrupted the
 * training (SIGINT or SIGTERM; the return value is then ARS_OK and the last checkpoint holds
 * every finished iteration), and left as it is otherwise. */
int ars_run_train(const ars_config *cfg, const char *config_text, ars_run_ctx *ctx,
                  int *stopped_by);

#endif
