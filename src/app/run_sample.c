/*
 * run_sample: mode = sample (see run_sample.h). The samples are (n, L) local indices and their
 * log-probabilities (n); rank r draws the chunks [c0, c1) of its share (ars_comm_chunks) and
 * every rank then holds all of them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "app/agree.h"
#include "app/measure.h"
#include "app/print.h"
#include "app/run_sample.h"
#include "app/setup.h"
#include "config/config_key.h"
#include "core/ars_common.h"
#include "sample/sampler.h"

/* Draws this rank's chunks of the n = [sampler] n_samples samples (L sites each), then gathers
 * every rank's; a progress line unless quiet. A collective. */
static int draw(const ars_config *cfg, const ars_comm *comm, ars_sampler *sampler, uint8_t *samples,
                double *log_prob, int L, int quiet) {
    const size_t n = (size_t)cfg->n_samples;
    ars_progress prog;
    ars_progress_start(&prog, "sampling", "samples", !quiet);
    /* This rank's chunks; then every rank's, gathered. */
    size_t c0, c1;
    const size_t cs = (size_t)cfg->chunk_size;
    ars_comm_chunks(comm, (n + cs - 1) / cs, &c0, &c1);
    int rc = ars_sampler_draw_chunks(sampler, samples, log_prob, n, c0, c1, cfg->seed, 0, &prog);
    if (ars_comm_max_int(comm, rc != ARS_OK)) {
        return rc != ARS_OK ? rc : ARS_STATUS_ENONFINITE;
    }
    ars_comm_allgather_rows(comm, samples, n, cs, (size_t)L);
    ars_comm_allgather_rows(comm, log_prob, n, cs, sizeof(double));
    ars_progress_finish(&prog, n);
    return ARS_OK;
}

/* Measures [observables] on the samples into *obs (every rank its chunks), then rank 0 writes
 * the output file. */
static int measure_and_write(const ars_config *cfg, const char *config_text, ars_run_ctx *ctx,
                             const ars_arnn *net, const ars_phase *phase, const uint8_t *samples,
                             const double *log_prob, const double *sample_phase,
                             ars_obs_result *obs) {
    const size_t n = (size_t)cfg->n_samples;
    int rc = ARS_OK;
    ars_io_meta meta = {.config_text = config_text,
                        .seed = cfg->seed,
                        .dtype = cfg->dtype == ARS_DTYPE_FLOAT32 ? "float32" : "float64",
                        .exact_energy = NAN,
                        .phase = phase,
                        .sample_phase = sample_phase};
    ars_ham H = {0};
    ars_user_ops ops;
    ars_user_ops_init(&ops);
    if (ars_obs_config_any(cfg)) {
        /* Every rank measures its chunks (observables.h); rank 0 alone speaks and writes. */
        if (ars_obs_config_mask(cfg) & (1u << ARS_OBS_ENERGY)) {
            rc = ars_setup_hamiltonian(cfg, &H);
            if (rc != ARS_OK) {
                return rc;
            }
            const char *method = "";
            meta.H = &H;
            meta.exact_energy =
                ctx->comm->rank == 0
                    ? ars_setup_exact_reference(cfg, &H, ARS_SETUP_REFERENCE_MAX_STATES, &method)
                    : (double)NAN;
        }
        rc = ars_obs_config_operators(cfg, &ops); /* checked when the config was read */
        if (rc == ARS_OK) {
            rc = ars_app_measure(cfg, ctx->comm, net, phase, meta.H, &ops, samples, n,
                                 meta.exact_energy, ctx->quiet, obs);
        }
        meta.obs = obs;
        meta.obs_source = "samples";
    }
    if (rc == ARS_OK && ctx->comm->rank == 0) { /* rank 0 writes */
        rc = ars_output_write(cfg, ctx, &meta, net, samples, log_prob, n, NULL);
        if (rc == ARS_OK && !ctx->quiet) {
            printf("wrote %s\n", cfg->file);
        }
    }
    ars_ham_free(&H);
    ars_user_ops_free(&ops);
    return rc;
}

int ars_run_sample(const ars_config *cfg, const char *config_text, ars_run_ctx *ctx) {
    ars_arch arch;
    ars_arnn *net = NULL;
    ars_phase *phase = NULL;
    ars_sampler *sampler = NULL;
    uint8_t *samples = NULL;
    double *log_prob = NULL;
    double *sample_phase = NULL;
    ars_obs_result obs;
    memset(&obs, 0, sizeof obs);
    const size_t n = (size_t)cfg->n_samples;

    int rc = ars_setup_network(cfg, ctx->comm, &arch, &net, &phase, 0);
    if (rc != ARS_OK) {
        goto done;
    }
    const int threads = omp_get_max_threads();
    if (!ctx->quiet) {
        ars_print_sample_header(cfg, &arch, net, phase, threads);
    }
    if (ctx->comm->rank == 0) {
        rc = ars_print_receptive_field(&arch, ctx->quiet);
    }
    fflush(stdout);

    samples = malloc(n * (size_t)arch.hilbert.size);
    log_prob = malloc(n * sizeof(double));
    sampler = ars_sampler_alloc(net, cfg->chunk_size, threads,
                                (ars_sampler_algorithm)cfg->algorithm, (ars_dtype)cfg->dtype);
    if (rc == ARS_OK && (samples == NULL || log_prob == NULL || sampler == NULL)) {
        rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for %zu samples of %d sites", n,
                     arch.hilbert.size);
    }
    rc = ars_agree(ctx->comm, rc, "the samples");
    if (rc != ARS_OK || samples == NULL || log_prob == NULL || sampler == NULL) {
        goto done; /* (the second part only tells the analyzer what ars_agree() implies) */
    }
    rc = draw(cfg, ctx->comm, sampler, samples, log_prob, arch.hilbert.size, ctx->quiet);
    if (rc == ARS_OK && phase != NULL && ctx->comm->rank == 0) {
        const ars_wf wf = ars_wf_make(net, cfg->ham_marshall, phase);
        sample_phase = malloc(n * sizeof(double));
        rc = sample_phase == NULL
                 ? ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the samples' phases")
                 : ars_setup_sample_phases(sample_phase, samples, n, &wf, cfg->chunk_size);
    }
    rc = ars_agree(ctx->comm, rc, "the samples' phases");
    if (rc == ARS_OK) {
        rc = measure_and_write(cfg, config_text, ctx, net, phase, samples, log_prob, sample_phase,
                               &obs);
    }
done:
    ars_obs_result_free(&obs);
    ars_sampler_free(sampler);
    free(samples);
    free(log_prob);
    free(sample_phase);
    ars_arnn_free(net);
    ars_phase_free(phase);
    return rc;
}
