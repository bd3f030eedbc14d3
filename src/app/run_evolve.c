/*
 * run_evolve: mode = evolve (see run_evolve.h). Every rank runs every part; the ranks agree on
 * each failure before the next collective (agree.h), and rank 0 alone speaks and writes.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "app/agree.h"
#include "app/measure.h"
#include "app/print.h"
#include "app/run_evolve.h"
#include "app/setup.h"
#include "app/stop_signals.h"
#include "config/config_key.h"
#include "core/ars_common.h"

typedef struct evolve_run {
    const ars_config *cfg;
    ars_run_ctx *ctx;
    ars_arch arch;
    ars_ham H;
    ars_arnn *net;    /* owned */
    ars_phase *phase; /* owned; NULL for [phase] type = none (imaginary time) */
    ars_vmc *vmc;     /* owned: samples, local energies, gradients, SR */
    ars_evolve *evo;  /* owned */
    ars_evolve_record rec;
    ars_user_ops ops; /* [observables] operators, read once */
    ars_io_meta meta;
    int threads;
    double memory;       /* ars_vmc_bytes: a lower bound on the evolution arrays' bytes */
    double memory_share; /* what a process may use (ars_setup_check_memory), 0 if unknown */
    size_t nm;           /* samples per measurement */
    uint8_t *samples;    /* (nm, L) */
    double *log_prob;    /* (nm) */
    double *eloc;        /* (2 nm) real parts, then imaginary parts */
    double t_first;      /* the time this process started from */
    double t_start;      /* the wall clock then */
} evolve_run;

/* The number of measurement times: m * measure_every below t_end, then t_end. */
static size_t grid_points(const ars_config *cfg) {
    const double q = cfg->evo_t_end / cfg->evo_measure_every;
    return (size_t)ceil(q - 1e-9) + 1;
}

static double grid_time(const ars_config *cfg, size_t m) {
    const double t = (double)m * cfg->evo_measure_every;
    return m + 1 >= grid_points(cfg) || t > cfg->evo_t_end ? cfg->evo_t_end : t;
}

static int evolve_setup(evolve_run *r) {
    const ars_config *cfg = r->cfg;
    const ars_comm *comm = r->ctx->comm;
    int rc = ars_setup_hamiltonian(cfg, &r->H);
    if (rc == ARS_OK) {
        rc = ars_obs_config_operators(cfg, &r->ops); /* checked when the config was read */
    }
    /* The record's operator slots are named before a resume reads them. */
    r->rec.n_ops = r->ops.n;
    for (int k = 0; k < r->ops.n; k++) {
        memcpy(r->rec.op_name[k], r->ops.op[k].name, sizeof r->rec.op_name[k]);
    }
    if (rc == ARS_OK) {
        rc = ars_setup_network(cfg, comm, &r->arch, &r->net, &r->phase, r->ctx->resume);
    }
    if (rc != ARS_OK) {
        return rc;
    }
    const ars_vmc_settings vs = {
        .n_samples = (size_t)cfg->n_samples,
        .chunk_size = cfg->chunk_size,
        .seed = cfg->seed,
        .algorithm = (ars_sampler_algorithm)cfg->algorithm,
        .dtype = (ars_dtype)cfg->dtype,
        .optimizer = ars_opt_sgd, /* unused: the integrator moves the parameters */
        .phase_lr_factor = 1.0,
        .sr = 1,
        .exact_energy = NAN,
        .phase = r->phase,
        .comm = comm,
    };
    const ars_evolve_settings es = {
        .integrator = ars_integrator_types[cfg->evo_integrator],
        .t_end = cfg->evo_t_end,
        .dt = cfg->evo_dt,
        .tolerance = cfg->evo_tolerance,
        .adaptive = cfg->evo_adaptive,
        .common_samples = cfg->evo_common_samples,
        .reweight = cfg->evo_reweight,
        .imaginary = cfg->evo_imaginary,
        .diag_shift = cfg->evo_diag_shift,
        .snr = cfg->evo_regularization == 1,
        .snr_tolerance = cfg->evo_snr_tolerance,
        .pinv_tolerance = cfg->evo_pinv_tolerance,
        .dt_min = cfg->evo_dt_min,
        .dt_max = isnan(cfg->evo_dt_max) ? cfg->evo_measure_every : cfg->evo_dt_max,
    };
    r->threads = omp_get_max_threads();
    r->memory = ars_vmc_bytes(r->net, &vs, r->threads);
    rc = ars_setup_check_memory(cfg, comm, r->memory, "the evolution", &r->memory_share);
    if (rc != ARS_OK) {
        return rc;
    }
    r->nm =
        cfg->evo_measure_samples > 0 ? (size_t)cfg->evo_measure_samples : (size_t)cfg->n_samples;
    r->vmc = ars_vmc_alloc(r->net, &r->H, &vs, 1, r->threads);
    r->evo = r->vmc != NULL ? ars_evolve_alloc(r->vmc, &es) : NULL;
    r->samples = malloc(r->nm * (size_t)r->arch.hilbert.size);
    r->log_prob = malloc(r->nm * sizeof(double));
    r->eloc = malloc(2 * r->nm * sizeof(double));
    if (r->evo == NULL || r->samples == NULL || r->log_prob == NULL || r->eloc == NULL) {
        rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the evolution (%zu samples)",
                     vs.n_samples);
    }
    rc = ars_agree(comm, rc, "the evolution");
    if (rc == ARS_OK && (r->evo == NULL || r->samples == NULL)) {
        rc = ARS_STATUS_ENOMEM; /* (only tells the analyzer what ars_agree() implies) */
    }
    return rc;
}

/* Rank 0's stepper state and measurements to every rank. */
static int share(evolve_run *r) {
    const ars_comm *c = r->ctx->comm;
    ars_evolve *e = r->evo;
    if (c->size == 1) {
        return ARS_OK;
    }
    ars_comm_bcast(c, r->net->params, r->net->n_params * sizeof(double));
    if (r->phase != NULL) {
        ars_comm_bcast(c, r->phase->params, r->phase->n_params * sizeof(double));
    }
    double f[5] = {e->t, e->dt, e->k0_info.estimate.energy, e->k0_info.estimate.energy_error,
                   e->k0_info.residual};
    int64_t n[6] = {e->n_eval,  e->n_accepted,         e->n_rejected,
                    e->have_k0, (int64_t)e->steps.len, (int64_t)r->rec.len};
    int width[ARS_OBS_SLOTS];
    for (int k = 0; k < ARS_OBS_SLOTS; k++) {
        width[k] = r->rec.width[k];
    }
    ars_comm_bcast(c, f, sizeof f);
    ars_comm_bcast(c, n, sizeof n);
    ars_comm_bcast(c, width, sizeof width);
    ars_comm_bcast(c, r->rec.scalar, sizeof r->rec.scalar);
    const size_t S = (size_t)n[4], M = (size_t)n[5];
    const int ok =
        ars_evolve_steps_reserve(&e->steps, S + 1) == ARS_OK &&
        ars_evolve_record_reserve(&r->rec, ars_obs_config_mask(r->cfg), width, M + 1) == ARS_OK;
    if (ars_comm_max_int(c, !ok)) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the evolution's log");
    }
    e->t = f[0];
    e->dt = f[1];
    e->k0_info.estimate.energy = f[2];
    e->k0_info.estimate.energy_error = f[3];
    e->k0_info.residual = f[4];
    e->n_eval = n[0];
    e->n_accepted = n[1];
    e->n_rejected = n[2];
    e->have_k0 = (int)n[3];
    e->steps.len = S;
    r->rec.len = M;
    ars_comm_bcast(c, e->k, e->P * sizeof(double));
    for (int i = 0; i < ARS_EVOLVE_STEP_COLUMNS; i++) {
        ars_comm_bcast(c, ars_evolve_steps_data(&e->steps, i), S * sizeof(double));
    }
    for (int i = 0; i < ARS_EVOLVE_RECORD_COLUMNS; i++) {
        ars_comm_bcast(c, ars_evolve_record_data(&r->rec, i), M * sizeof(double));
    }
    for (int k = 0; k < ARS_OBS_SLOTS; k++) {
        if (width[k] > 0) {
            ars_comm_bcast(c, r->rec.mean[k], M * (size_t)width[k] * sizeof(double));
            ars_comm_bcast(c, r->rec.error[k], M * (size_t)width[k] * sizeof(double));
        }
    }
    return ARS_OK;
}

/* --resume: rank 0 loads the variables and the stepper's state of the output file. */
static int evolve_resume(evolve_run *r) {
    const ars_config *cfg = r->cfg;
    const ars_comm *comm = r->ctx->comm;
    int rc = ARS_OK;
    if (comm->rank == 0) {
        rc = ars_io_load_evolution(cfg->file, &r->arch, r->evo, &r->rec, ars_obs_config_mask(cfg));
        if (rc == ARS_OK) {
            rc = ars_io_load_variables(cfg->file, r->net, NULL);
        }
        if (rc == ARS_OK && r->phase != NULL) {
            rc = ars_io_load_phase(cfg->file, r->phase);
        }
    }
    ars_comm_bcast(comm, &rc, sizeof rc);
    if (rc == ARS_OK) {
        rc = share(r);
    }
    if (rc == ARS_OK) {
        ars_vmc_get_params(r->vmc, r->evo->theta);
    }
    return rc;
}

static int evolve_start(evolve_run *r, const char *config_text) {
    const ars_config *cfg = r->cfg;
    const ars_run_ctx *ctx = r->ctx;
    if (!ctx->quiet) {
        ars_print_evolve_header(cfg, &r->arch, r->net, r->phase, &r->H, r->threads,
                                ctx->resume ? r->evo->t : -1.0);
        ars_print_memory(r->memory, r->memory_share, "the evolution");
    }
    int rc = ctx->comm->rank == 0 ? ars_setup_check_operator(cfg, &r->H, 1) : ARS_OK;
    if (rc == ARS_OK && ctx->comm->rank == 0) {
        rc = ars_print_receptive_field(&r->arch, ctx->quiet);
    }
    fflush(stdout);
    ars_comm_bcast(ctx->comm, &rc, sizeof rc);
    if (rc != ARS_OK) {
        return rc;
    }
    r->meta = (ars_io_meta){.config_text = config_text,
                            .seed = cfg->seed,
                            .dtype = cfg->dtype == ARS_DTYPE_FLOAT32 ? "float32" : "float64",
                            .H = &r->H,
                            .exact_energy = NAN,
                            .phase = r->phase,
                            .evolve = r->evo,
                            .record = &r->rec};
    r->t_first = r->evo->t;
    r->t_start = ars_wtime();
    char tmp_name[ARS_PATH_MAX + 32];
    ars_io_temporary_name(tmp_name, sizeof tmp_name, cfg->file);
    ars_stop_signals_catch(tmp_name);
    return ARS_OK;
}

/* The energy and [observables] at grid time m from fresh samples of their own stream. */
static int measure(evolve_run *r, size_t m) {
    const ars_config *cfg = r->cfg;
    ars_vmc_estimate est;
    int rc = ars_vmc_evaluate(r->vmc, r->samples, r->log_prob, r->eloc, r->eloc + r->nm, r->nm,
                              ARS_EVOLVE_MEASURE_STREAM | (uint64_t)m, &est, NULL);
    ars_obs_result res = {0};
    const int any = ars_obs_config_any(cfg);
    if (rc == ARS_OK && any) {
        rc = ars_app_measure(cfg, r->ctx->comm, r->net, r->phase, &r->H, &r->ops, r->samples, r->nm,
                             (double)NAN, 1, &res);
    }
    if (rc == ARS_OK) {
        rc = ars_evolve_record_append(&r->rec, grid_time(cfg, m), &est, any ? &res : NULL);
    }
    ars_obs_result_free(&res);
    return rc;
}

static int checkpoint(evolve_run *r) {
    return ars_output_write(r->cfg, r->ctx, &r->meta, r->net, NULL, NULL, 0, NULL);
}

/* Steps to each grid time, measuring and writing a checkpoint there; a stop signal ends it
 * after the current step with a checkpoint (*stop: the signal every rank agreed on). */
static int evolve_loop(evolve_run *r, int *stop) {
    const ars_config *cfg = r->cfg;
    const size_t n_grid = grid_points(cfg);
    *stop = 0;
    while (r->rec.len < n_grid) {
        const size_t m = r->rec.len;
        const double t_next = grid_time(cfg, m);
        while (r->evo->t < t_next && *stop == 0) {
            int rc = ars_evolve_step(r->evo, t_next);
            if (rc != ARS_OK) {
                if (checkpoint(r) == ARS_OK && r->ctx->comm->rank == 0) {
                    fprintf(stderr,
                            "arsampler: the evolution stopped at t = %g (see above); its state "
                            "is in %s: continue it with --resume and other settings\n",
                            r->evo->t, cfg->file);
                }
                return rc;
            }
            *stop = ars_comm_max_int(r->ctx->comm, ars_stop_signals_received());
        }
        if (*stop != 0) {
            return checkpoint(r);
        }
        int rc = measure(r, m);
        if (rc == ARS_OK) {
            rc = checkpoint(r);
        }
        if (rc != ARS_OK) {
            return rc;
        }
        if (!r->ctx->quiet) {
            ars_print_evolve_progress(r->evo, &r->rec, r->t_first, ars_wtime() - r->t_start);
        }
    }
    return ARS_OK;
}

static void evolve_report(const evolve_run *r, int stop) {
    const ars_evolve *e = r->evo;
    const ars_evolve_record *rec = &r->rec;
    if (r->ctx->comm->rank != 0) {
        return;
    }
    if (stop != 0) {
        fprintf(stderr,
                "arsampler: interrupted by %s at t = %g of %g; checkpoint written; "
                "continue with --resume\n",
                stop == SIGINT ? "SIGINT" : "SIGTERM", e->t, e->set.t_end);
        return;
    }
    double drift = 0.0;
    for (size_t i = 1; i < rec->len; i++) {
        const double d = fabs(rec->energy[i] - rec->energy[0]) / fabs(rec->energy[0]);
        drift = d > drift ? d : drift;
    }
    printf("evolution: t = %g in %lld steps (%lld rejected), %lld evaluations of %lld samples, "
           "%.1f s",
           e->t, (long long)e->n_accepted, (long long)e->n_rejected, (long long)e->n_eval,
           (long long)r->cfg->n_samples, ars_wtime() - r->t_start);
    if (!e->set.imaginary && rec->len > 1) {
        printf("; largest energy drift %.2e (relative to t = 0)", drift);
    }
    printf("\nwrote %s\n", r->cfg->file);
}

int ars_run_evolve(const ars_config *cfg, const char *config_text, ars_run_ctx *ctx,
                   int *stopped_by) {
    evolve_run r = {.cfg = cfg, .ctx = ctx};
    int rc = evolve_setup(&r);
    if (rc == ARS_OK && ctx->resume) {
        rc = evolve_resume(&r);
    }
    if (rc == ARS_OK) {
        rc = evolve_start(&r, config_text);
    }
    int stop = 0;
    if (rc == ARS_OK) {
        rc = evolve_loop(&r, &stop);
    }
    if (rc == ARS_OK) {
        evolve_report(&r, stop);
        *stopped_by = stop;
    }
    ars_evolve_record_free(&r.rec);
    ars_user_ops_free(&r.ops);
    ars_evolve_free(r.evo);
    ars_vmc_free(r.vmc);
    ars_ham_free(&r.H);
    free(r.samples);
    free(r.log_prob);
    free(r.eloc);
    ars_phase_free(r.phase);
    ars_arnn_free(r.net);
    return rc;
}
