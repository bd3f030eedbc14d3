/*
 * run_exact: [run] mode = exact. The exact ground-state energy of [hamiltonian] (free fermions
 * for tfim, Lanczos for the others), printed on stdout with 12 decimals and written to the
 * output file.
 */
#ifndef ARS_APP_RUN_EXACT_H
#define ARS_APP_RUN_EXACT_H

#include "app/output.h"
#include "config/config.h"

/* Runs mode = exact for a checked config; config_text is its effective INI text. Rank 0 alone
 * calls it. */
int ars_run_exact(const ars_config *cfg, const char *config_text, ars_run_ctx *ctx);

#endif
