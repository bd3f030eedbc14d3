/*
 * run: from argv to an exit status (see run.h): the command line, the config, and the dispatch
 * on [run] mode.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_errno.h>
#include <omp.h>

#include "app/agree.h"
#include "app/cli.h"
#include "app/run.h"
#include "app/run_evolve.h"
#include "app/run_exact.h"
#include "app/run_sample.h"
#include "app/run_train.h"
#include "config/config.h"
#include "core/ars_common.h"

/* Runs a checked config: the part of ars_run_main after the parsing. Returns the exit code. */
static int run_config(const ars_comm *comm, const ars_config *cfg, const ars_cli *args) {
    int rc;
    char *text = ars_config_dump(cfg);
    if (text == NULL) {
        return ars_exit_code(ARS_ERR(ARS_STATUS_ENOMEM, "out of memory"));
    }
    if (args->print_config) {
        fputs(text, stdout);
        free(text);
        return 0;
    }
    if (cfg->threads > 0) {
        omp_set_num_threads(cfg->threads);
    }
    if (args->resume && cfg->mode != ARS_MODE_TRAIN && cfg->mode != ARS_MODE_EVOLVE) {
        free(text);
        return ars_exit_code(
            ARS_ERR(ARS_STATUS_ECONFIG, "--resume needs [run] mode = train or evolve"));
    }
    if (args->resume && args->force) {
        free(text);
        return ars_exit_code(ARS_ERR(ARS_STATUS_ECONFIG,
                                     "--resume continues the output file in place; --force "
                                     "(replace it) contradicts it"));
    }
    ars_run_ctx ctx = {.comm = comm,
                       .quiet = args->quiet || comm->rank != 0,
                       .resume = args->resume,
                       .force = args->force};
    int stopped_by = 0;
    if (cfg->mode == ARS_MODE_TRAIN) {
        rc = ars_run_train(cfg, text, &ctx, &stopped_by);
    } else if (cfg->mode == ARS_MODE_EVOLVE) {
        rc = ars_run_evolve(cfg, text, &ctx, &stopped_by);
    } else if (cfg->mode == ARS_MODE_EXACT) {
        rc = comm->rank == 0 ? ars_run_exact(cfg, text, &ctx) : ARS_OK;
        ars_comm_bcast(comm, &rc, sizeof rc); /* every rank exits with rank 0's status */
    } else {
        rc = ars_run_sample(cfg, text, &ctx);
    }
    free(text);
    if (rc == ARS_OK && stopped_by != 0) {
        return 128 + stopped_by; /* 130 for SIGINT, 143 for SIGTERM, as a shell reports */
    }
    return ars_exit_code(rc);
}

int ars_run_main(const ars_comm *comm, int argc, char **argv) {
    ars_cli args;
    int done = 0;
    /* Every rank reads and checks the config; rank 0 alone speaks. */
    if (comm->rank != 0 && freopen("/dev/null", "w", stdout) == NULL) {
        return 1;
    }
    int muted = ars_agree_mute(comm);
    gsl_set_error_handler_off();
    /* A file-size limit (ulimit -f) then makes writes fail with EFBIG, reported like a full
     * disk, instead of killing the process half-way through a file. */
    signal(SIGXFSZ, SIG_IGN);
    int rc = ars_cli_parse(&args, argc, argv, &done);
    if (rc != ARS_OK || done) {
        ars_agree_unmute(muted);
        return ars_exit_code(rc);
    }
    ars_config cfg;
    ars_config_defaults(&cfg);
    if (args.config != NULL) {
        rc = ars_config_parse_file(&cfg, args.config);
    }
    for (int i = 0; rc == ARS_OK && i < args.n_sets; i++) {
        rc = ars_config_set(&cfg, args.sets[i]);
    }
    if (rc == ARS_OK) {
        rc = ars_config_finalize(&cfg);
    }
    /* The other ranks stay muted: they compute what rank 0 computes, so rank 0's messages speak
     * for all; a failure of their own (memory) is named by rank 0 (ars_agree()). */
    if (rc != ARS_OK) {
        ars_agree_unmute(muted);
        return ars_exit_code(rc);
    }
    rc = run_config(comm, &cfg, &args);
    ars_agree_unmute(muted);
    return rc;
}
