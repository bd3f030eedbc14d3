/*
 * output: the output-file policy of a run (see output.h): the writability check, the numbered
 * backup of an earlier file, and the write of rank 0.
 */
#include <stdio.h>

#include "app/output.h"
#include "core/ars_common.h"

int ars_output_check(const ars_config *cfg) {
    char where[ARS_PATH_MAX + 300];
    ars_config_where(cfg, "output", "file", where, sizeof where);
    return ars_io_check_writable(cfg->file, where);
}

int ars_output_keep_earlier(const ars_config *cfg, ars_run_ctx *ctx) {
    if (ctx->backed_up || ctx->force || ctx->resume || ctx->comm->rank != 0) {
        ctx->backed_up = 1;
        return ARS_OK;
    }
    int rc = ars_io_backup(cfg->file, ctx->backup, sizeof ctx->backup);
    if (rc == ARS_OK) {
        ctx->backed_up = 1;
        if (ctx->backup[0] != '\0') {
            fprintf(stderr,
                    "arsampler: note: kept the existing %s as %s (--force replaces it instead)\n",
                    cfg->file, ctx->backup);
        }
    }
    return rc;
}

int ars_output_write(const ars_config *cfg, ars_run_ctx *ctx, const ars_io_meta *meta,
                     const ars_arnn *net, const uint8_t *samples, const double *log_prob, size_t n,
                     const ars_io_train *train) {
    if (ctx->comm->rank != 0) {
        return ARS_OK;
    }
    const int first = !ctx->backed_up;
    int rc = ars_output_keep_earlier(cfg, ctx);
    if (rc == ARS_OK) {
        rc = ars_io_write(cfg->file, meta, net, samples, log_prob, n, train);
        if (rc != ARS_OK && first && ctx->backup[0] != '\0' &&
            rename(ctx->backup, cfg->file) == 0) {
            /* Nothing of this run was written: the earlier file goes back where it was. */
            fprintf(stderr, "arsampler: note: %s moved back to %s\n", ctx->backup, cfg->file);
            ctx->backup[0] = '\0';
            ctx->backed_up = 0;
        }
    }
    if (rc != ARS_OK && ctx->comm->size > 1) {
        fprintf(stderr, "arsampler: rank 0 cannot write its output; ending all %d ranks\n",
                ctx->comm->size);
        ars_comm_abort(ctx->comm, ars_exit_code(rc));
    }
    return rc;
}
