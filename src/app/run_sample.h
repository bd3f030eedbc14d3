/*
 * run_sample: [run] mode = sample. Builds the network, draws [sampler] n_samples exact samples
 * (every rank its share of the chunks, then gathered), measures [observables] and writes the
 * output file.
 */
#ifndef ARS_APP_RUN_SAMPLE_H
#define ARS_APP_RUN_SAMPLE_H

#include "app/output.h"
#include "config/config.h"

/* Runs mode = sample for a checked config; config_text is its effective INI text (for the
 * output file). Every rank calls it; rank 0 speaks and writes. */
int ars_run_sample(const ars_config *cfg, const char *config_text, ars_run_ctx *ctx);

#endif
