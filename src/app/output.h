/*
 * output: how a run treats its output file ([output] file). Rank 0 alone writes. Before the
 * first write of a run, an existing file of an earlier run is kept as a numbered backup
 * FILE.~N~ (not with --force, which replaces it, and not with --resume, which continues it in
 * place); a run that fails before its first write changes nothing, and one whose first write
 * fails moves the backup back.
 *
 * This header is the app's one door to the io module (io/checkpoint.h, io/atomic_file.h): the
 * run_* files that read and write files reach the io API through it.
 */
#ifndef ARS_APP_OUTPUT_H
#define ARS_APP_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/comm.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "nn/arnn.h"

/* One run of a checked config: who speaks and how it treats its output file. Filled by the
 * caller (comm, quiet, resume, force; the rest zero) and updated by ars_output_keep_earlier. */
typedef struct ars_run_ctx {
    const ars_comm *comm;
    int quiet;                      /* no summary and no progress (--quiet, and ranks but 0) */
    int resume;                     /* --resume */
    int force;                      /* --force */
    int backed_up;                  /* the earlier run's file has been dealt with */
    char backup[ARS_PATH_MAX + 32]; /* where it went ("" if nowhere) */
} ars_run_ctx;

/* Whether the output file can be written (ARS_STATUS_ECONFIG otherwise); the message names
 * where [output] file was set. */
int ars_output_check(const ars_config *cfg);

/* Before the first write of a run: keeps an existing output file of an earlier run as a
 * numbered backup and says so on stderr (on rank 0 only, and neither with --force nor with
 * --resume). Done at the first write rather than at start, so a run that fails early changes
 * nothing. Does nothing after the first call. */
int ars_output_keep_earlier(const ars_config *cfg, ars_run_ctx *ctx);

/* Writes the output file (ars_io_write) on rank 0; nothing on the other ranks. The first write
 * of the run keeps the earlier file first (ars_output_keep_earlier) and moves it back if the
 * write fails. With several ranks a failure ends them all (ars_comm_abort): the others would
 * wait for rank 0 in the next collective. */
int ars_output_write(const ars_config *cfg, ars_run_ctx *ctx, const ars_io_meta *meta,
                     const ars_arnn *net, const uint8_t *samples, const double *log_prob, size_t n,
                     const ars_io_train *train);

#endif
