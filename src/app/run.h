/*
 * run: one invocation of arsampler, from argv to an exit status. Parses the command line
 * (cli.h), reads and checks the config (every rank alike, rank 0 speaking for all), and runs its
 * [run] mode: run_sample, run_train or run_exact.
 */
#ifndef ARS_APP_RUN_H
#define ARS_APP_RUN_H

#include "core/comm.h"

/* Runs arsampler on argv (after ars_comm_init) and returns the process exit status: 0 success,
 * 2 invalid config, arguments or input file, 1 other failures (ars_exit_code), 128 + the
 * signal (130, 143) when SIGINT or SIGTERM stopped training. */
int ars_run_main(const ars_comm *comm, int argc, char **argv);

#endif
