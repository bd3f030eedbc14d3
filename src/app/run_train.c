/*
 * run_train: mode = train (see run_train.h), in three parts that share one train_run:
 *   setup   train_setup (Hamiltonian, network, exact energy, training state), train_resume
 *           (--resume: the state of the output file) and train_start (summary, signals);
 *   loop    train_loop: one ars_vmc_step per iteration, the progress line and the checkpoints;
 *           a stop signal ends it after the current iteration with a checkpoint;
 *   finish  train_finish: the final estimate from fresh samples, [observables], the output.
 * Every rank runs every part; the ranks agree on each failure before the next collective
 * (agree.h), and rank 0 alone speaks and writes.
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
#include "app/run_train.h"
#include "app/setup.h"
#include "app/stop_signals.h"
#include "config/config_key.h"
#include "core/ars_common.h"
#include "vmc/stall.h"

/* One training run. The Hamiltonian and the network outlive the training state that points to
 * them; train and meta describe the output file of every checkpoint. */
typedef struct train_run {
    const ars_config *cfg;
    ars_run_ctx *ctx;
    ars_arch arch;
    ars_ham H;
    ars_arnn *net;    /* owned */
    ars_phase *phase; /* owned; NULL for [phase] type = none */
    ars_vmc *vmc;     /* owned */
    double exact;     /* the exact energy (NaN if unknown), the same on every rank */
    const char *method;
    int threads;
    double memory;       /* ars_vmc_bytes: a lower bound on the training arrays' bytes */
    double memory_share; /* what a process may use (ars_setup_check_memory), 0 if unknown */
    ars_io_train train;
    ars_io_meta meta;
    int64_t first;  /* the iteration this process started from (not 0 after --resume) */
    double t_start; /* when it started, and when it last printed a progress line */
    double t_last;
    double io_seconds; /* the checkpoints written by this process: wall seconds and count */
    int io_writes;
    uint8_t *samples;     /* (nf, L) the final samples, owned */
    double *log_prob;     /* (nf) owned */
    double *eloc;         /* (2 nf) owned: real parts, then imaginary parts */
    double *sample_phase; /* (nf) owned, with a phase network */
    ars_obs_result obs;
    ars_user_ops ops; /* [observables] operators, read before training (a file may change) */
} train_run;

/* The training settings of the config. */
static ars_vmc_settings vmc_settings(const ars_config *cfg, double exact, const ars_comm *comm,
                                     ars_phase *phase) {
    ars_vmc_settings set = {
        .n_samples = (size_t)cfg->n_samples,
        .chunk_size = cfg->chunk_size,
        .seed = cfg->seed,
        .algorithm = (ars_sampler_algorithm)cfg->algorithm,
        .dtype = (ars_dtype)cfg->dtype,
        .optimizer = ars_opt_types[cfg->optimizer],
        .learning_rate = cfg->learning_rate,
        .lr_decay = cfg->lr_decay,
        .lr_min = cfg->lr_min,
        .lr_exponential = cfg->lr_schedule == ARS_SCHEDULE_EXPONENTIAL,
        .sr = cfg->sr,
        .diag_shift = cfg->diag_shift,
        .ds_decay = cfg->ds_decay,
        .ds_min = cfg->ds_min,
        .ds_exponential = cfg->ds_schedule == ARS_SCHEDULE_EXPONENTIAL,
        .sr_float32 = cfg->sr_dtype == ARS_DTYPE_FLOAT32,
        .eloc_float32 = cfg->eloc_dtype == ARS_DTYPE_FLOAT32,
        .max_step = cfg->max_step,
        .phase_lr_factor = cfg->phase_lr_factor,
        .sym_penalty = cfg->sym_penalty,
        .penalty_group = (ars_sym)cfg->sym_penalty_group,
        .projected_group = (ars_sym)cfg->projected_group,
        .projection = cfg->projection,
        .exact_energy = exact,
        .phase = phase,
        .comm = comm,
    };
    memcpy(set.hyper, cfg->opt_hyper, sizeof set.hyper); /* every hyperparameter, in order */
    return set;
}

/* The Hamiltonian, the network (without variables under --resume: they come with the training
 * state), the exact energy (rank 0 computes it) and the training state. */
static int train_setup(train_run *t) {
    const ars_config *cfg = t->cfg;
    const ars_comm *comm = t->ctx->comm;
    int rc = ars_setup_hamiltonian(cfg, &t->H);
    if (rc == ARS_OK) {
        rc = ars_setup_check_projection(cfg, &t->H);
    }
    if (rc == ARS_OK) {
        rc = ars_obs_config_operators(cfg, &t->ops); /* checked when the config was read */
    }
    if (rc != ARS_OK) {
        return rc;
    }
    rc = ars_setup_network(cfg, comm, &t->arch, &t->net, &t->phase, t->ctx->resume);
    if (rc != ARS_OK) {
        return rc;
    }
    /* The memory check before the exact reference (which may run Lanczos). */
    t->threads = omp_get_max_threads();
    const ars_vmc_settings sized = vmc_settings(cfg, (double)NAN, comm, t->phase);
    t->memory = ars_vmc_bytes(t->net, &sized, t->threads);
    rc = ars_setup_check_memory(cfg, comm, t->memory, "training", &t->memory_share);
    if (rc != ARS_OK) {
        return rc;
    }
    t->exact =
        comm->rank == 0
            ? ars_setup_exact_reference(cfg, &t->H, ARS_SETUP_REFERENCE_MAX_STATES, &t->method)
            : (double)NAN;
    ars_comm_bcast(comm, &t->exact, sizeof t->exact);
    const ars_vmc_settings set = vmc_settings(cfg, t->exact, comm, t->phase);
    t->vmc = ars_vmc_alloc(t->net, &t->H, &set, cfg->iterations, t->threads);
    if (t->vmc == NULL) {
        rc = ARS_ERR(ARS_STATUS_ENOMEM,
                     "out of memory for training (%zu samples x %zu parameters of gradients)",
                     set.n_samples, t->net->n_params + (t->phase != NULL ? t->phase->n_params : 0));
    }
    rc = ars_agree(comm, rc, "training");
    if (rc == ARS_OK && t->vmc == NULL) {
        rc = ARS_STATUS_ENOMEM; /* (only tells the analyzer what ars_agree() implies) */
    }
    return rc;
}

/* --resume: rank 0 loads the optimiser state, the training log and the variables of the output
 * file (after checking that it holds this network), and every rank gets them. */
static int train_resume(train_run *t) {
    const ars_config *cfg = t->cfg;
    const ars_comm *comm = t->ctx->comm;
    ars_vmc *vmc = t->vmc;
    int rc = ARS_OK;
    if (comm->rank == 0) {
        rc = ars_io_check_resume(cfg->file, &t->arch);
        if (rc == ARS_OK) {
            rc = ars_io_load_train(cfg->file, vmc->opt, &vmc->log);
        }
        if (rc == ARS_OK) {
            rc = ars_io_load_variables(cfg->file, t->net, NULL);
        }
        if (rc == ARS_OK && t->phase != NULL) {
            rc = ars_io_load_phase(cfg->file, t->phase);
        } else if (rc == ARS_OK && ars_io_has_phase(cfg->file) != 0) {
            rc = ARS_ERR(ARS_STATUS_EINPUT,
                         "--resume: '%s' holds a phase network but [phase] type = none; resume "
                         "with the same [phase]",
                         cfg->file);
        }
        vmc->iteration = (int64_t)vmc->log.len;
    }
    ars_comm_bcast(comm, &rc, sizeof rc);
    if (rc == ARS_OK) {
        rc = ars_vmc_share(vmc);
    }
    return rc;
}

/* The summary, the receptive field, the description of the output file, the clock and the
 * stop signals. */
static int train_start(train_run *t, const char *config_text) {
    const ars_config *cfg = t->cfg;
    const ars_run_ctx *ctx = t->ctx;
    if (!ctx->quiet) {
        ars_print_train_header(cfg, &t->arch, t->net, t->phase, &t->H, t->exact, t->method,
                               t->threads, ctx->resume ? t->vmc->iteration : -1);
        ars_print_memory(t->memory, t->memory_share, "training");
    }
    int rc = ctx->comm->rank == 0 ? ars_setup_check_operator(cfg, &t->H, ctx->quiet) : ARS_OK;
    if (ctx->comm->rank == 0) {
        ars_setup_check_model(cfg);
    }
    if (rc == ARS_OK && ctx->comm->rank == 0) {
        rc = ars_print_receptive_field(&t->arch, ctx->quiet);
    }
    fflush(stdout);
    ars_comm_bcast(ctx->comm, &rc, sizeof rc); /* rank 0's status (it printed the message) */
    if (rc != ARS_OK) {
        return rc;
    }
    t->train = (ars_io_train){.H = &t->H,
                              .opt = t->vmc->opt,
                              .log = &t->vmc->log,
                              .exact_energy = t->exact,
                              .complex_wf = t->phase != NULL};
    t->meta = (ars_io_meta){.config_text = config_text,
                            .seed = cfg->seed,
                            .dtype = cfg->dtype == ARS_DTYPE_FLOAT32 ? "float32" : "float64",
                            .exact_energy = NAN,
                            .phase = t->phase};
    t->t_start = ars_wtime();
    t->t_last = t->t_start;
    t->first = t->vmc->iteration;
    char tmp_name[ARS_PATH_MAX + 32];
    ars_io_temporary_name(tmp_name, sizeof tmp_name, cfg->file);
    ars_stop_signals_catch(tmp_name);
    return ARS_OK;
}

/* After a failed step, which changed nothing: saves the last good state for --resume (with
 * other settings, e.g. --resume --set vmc.learning_rate=...). */
static void save_last_good_state(train_run *t) {
    const ars_config *cfg = t->cfg;
    const long long done = (long long)t->vmc->iteration;
    if (ars_output_write(cfg, t->ctx, &t->meta, t->net, NULL, NULL, 0, &t->train) == ARS_OK &&
        t->ctx->comm->rank == 0) {
        fprintf(stderr,
                "arsampler: training stopped at iteration %lld (see above); the last "
                "good state (%lld iterations done) is in %s: continue it with --resume "
                "and other settings (a smaller [vmc] learning_rate, a larger "
                "diag_shift)\n",
                done, done, cfg->file);
    }
}

/* The largest possible fraction of distinct samples: min(1, D^L / n_samples). */
static double max_distinct(const ars_config *cfg) {
    const double log_states = cfg->size * log((double)(cfg->two_s + 1));
    const double log_n = log((double)cfg->n_samples);
    return log_states >= log_n ? 1.0 : exp(log_states - log_n);
}

/* What helped the stalled chains of the defaults matrix (docs/results.md). */
#define STALL_ADVICE                                                                               \
    "The run goes on unchanged. What usually helps: the start-up warnings, if any (receptive "     \
    "field, total_sz, marshall_sign); sgd rather than adam; a decaying diag_shift "                \
    "(learning_rate = 0.02, diag_shift = 0.1, diag_shift_schedule = exponential, "                 \
    "diag_shift_decay = 0.98, diag_shift_min = 0.001: slower, but it solved the hardest chains "   \
    "of the matrix); more features or samples. Continue with --resume --set vmc.KEY=VALUE "        \
    "(docs/results.md)"

/* Warns (rank 0) the first time the log shows each sign of a stall (stall.h), saying what
 * usually helps (docs/results.md, "Choosing the defaults"); the run goes on unchanged. */
static void warn_stall(const train_run *t, int warned[3]) {
    const ars_config *cfg = t->cfg;
    const ars_stall_settings s =
        ars_stall_defaults(cfg->stall_warn, cfg->distinct_warn, max_distinct(cfg));
    ars_stall_report r;
    const ars_stall_kind kind = ars_stall_check(&t->vmc->log, t->exact, &s, &r);
    if (kind == ARS_STALL_NONE || warned[kind] || t->ctx->comm->rank != 0) {
        return;
    }
    warned[kind] = 1;
    if (kind == ARS_STALL_COLLAPSE) {
        ars_warn("iteration %lld: only %.1f%% of the samples are distinct (at most %.1f%% are "
                 "possible); the state is collapsing onto few configurations, which stalls SR "
                 "(larger n_samples, diag_shift or a smaller learning_rate help)",
                 (long long)r.iteration, 100.0 * r.level, 100.0 * s.max_distinct);
    } else if (isfinite(r.gap)) {
        ars_warn("iteration %lld: the training has stalled: over the last %d iterations the "
                 "energy fell by %.3g, %.1f%% of its distance %.3g to the reference (relative "
                 "error %.2e). %s",
                 (long long)r.iteration, s.window, r.drop, 100.0 * r.drop / r.gap, r.gap, r.level,
                 STALL_ADVICE);
    } else {
        ars_warn("iteration %lld: the training has stalled: over the last %d iterations the "
                 "energy fell by %.3g, within its noise, at a V-score of %.2e. %s",
                 (long long)r.iteration, s.window, r.drop, r.level, STALL_ADVICE);
    }
}

/* The iterations up to [vmc] iterations, with a checkpoint every [vmc] checkpoint_every and at
 * a stop signal; *stop is set to the signal every rank agreed on (0 if none). */
static int train_loop(train_run *t, int *stop) {
    const ars_config *cfg = t->cfg;
    ars_vmc *vmc = t->vmc;
    int warned[3] = {0, 0, 0};
    *stop = 0;
    while (vmc->iteration < cfg->iterations && *stop == 0) {
        int rc = ars_vmc_step(vmc);
        if (rc != ARS_OK) {
            save_last_good_state(t);
            return rc;
        }
        /* mpirun passes a signal to every rank, not necessarily within one iteration. */
        *stop = ars_comm_max_int(t->ctx->comm, ars_stop_signals_received());
        warn_stall(t, warned);
        if (!t->ctx->quiet) {
            ars_print_train_progress(vmc, cfg->iterations, t->first, t->t_start, &t->t_last, 0);
        }
        if ((vmc->iteration % cfg->checkpoint_every == 0 && vmc->iteration < cfg->iterations) ||
            *stop != 0) {
            const double t0 = ars_wtime();
            rc = ars_output_write(cfg, t->ctx, &t->meta, t->net, NULL, NULL, 0, &t->train);
            t->io_seconds += ars_wtime() - t0;
            t->io_writes++;
            if (rc != ARS_OK) {
                return rc;
            }
        }
    }
    return ARS_OK;
}

/* Interrupted: the checkpoint of the loop holds every finished iteration. (A signal before the
 * first finished iteration leaves the files as they were.) */
static void report_interrupt(train_run *t, int stop) {
    const ars_vmc *vmc = t->vmc;
    if (!t->ctx->quiet && vmc->log.len > 0) {
        ars_print_train_progress(vmc, t->cfg->iterations, t->first, t->t_start, &t->t_last, 1);
    }
    if (t->ctx->comm->rank == 0) {
        fprintf(stderr,
                "arsampler: interrupted by %s after %lld of %d iterations; %s; continue with "
                "--resume\n",
                stop == SIGINT ? "SIGINT" : "SIGTERM", (long long)vmc->iteration,
                t->cfg->iterations,
                vmc->iteration > t->first ? "checkpoint written" : "no new iteration to save");
    }
}

/* The final estimate from [vmc] final_samples fresh samples of the trained state, from their own
 * streams (iteration index with the top bit set, never used by training), [observables] on
 * them, and the output file. */
static int train_finish(train_run *t) {
    const ars_config *cfg = t->cfg;
    ars_run_ctx *ctx = t->ctx;
    const size_t nf = (size_t)cfg->final_samples;
    int rc = ARS_OK;
    if (!ctx->quiet && t->vmc->log.len > 0) {
        ars_print_train_progress(t->vmc, cfg->iterations, t->first, t->t_start, &t->t_last, 1);
    }
    t->samples = malloc(nf * (size_t)t->arch.hilbert.size);
    t->log_prob = malloc(nf * sizeof(double));
    /* Real parts, then imaginary parts; with a projection the importance weights after them. */
    t->eloc = malloc((cfg->projection ? 3 : 2) * nf * sizeof(double));
    if (t->samples == NULL || t->log_prob == NULL || t->eloc == NULL) {
        rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for %zu final samples", nf);
    }
    rc = ars_agree(ctx->comm, rc, "the final samples");
    if (rc != ARS_OK || t->samples == NULL || t->log_prob == NULL || t->eloc == NULL) {
        return rc; /* (the second part only tells the analyzer what ars_agree() implies) */
    }
    ars_vmc_estimate est;
    rc = ars_vmc_evaluate(t->vmc, t->samples, t->log_prob, t->eloc, t->eloc + nf, nf,
                          (UINT64_C(1) << 63) | (uint64_t)cfg->iterations, &est,
                          cfg->projection ? t->eloc + 2 * nf : NULL);
    if (rc == ARS_OK && ars_obs_config_any(cfg)) {
        /* Every rank measures its chunks (observables.h); rank 0 alone speaks and writes. */
        rc = ars_app_measure(cfg, ctx->comm, t->net, t->phase, &t->H, &t->ops, t->samples, nf,
                             t->exact, ctx->quiet, &t->obs);
        t->meta.obs = &t->obs;
        t->meta.obs_source = "final_samples";
    }
    if (ctx->comm->rank != 0) {
        return rc; /* rank 0 writes */
    }
    if (rc == ARS_OK && t->phase != NULL) {
        const ars_wf wf = ars_vmc_wf(t->vmc);
        t->sample_phase = malloc(nf * sizeof(double));
        rc = t->sample_phase == NULL
                 ? ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the samples' phases")
                 : ars_setup_sample_phases(t->sample_phase, t->samples, nf, &wf, cfg->chunk_size);
        t->meta.sample_phase = t->sample_phase;
    }
    if (rc == ARS_OK) {
        t->train.final = &est;
        t->meta.sample_eloc = t->eloc;
        t->meta.sample_weight = cfg->projection ? t->eloc + 2 * nf : NULL;
        t->train.phase_seconds = t->vmc->phase_seconds;
        t->train.timed_steps = t->vmc->timed_steps;
        t->train.eloc_sites_useful = t->vmc->eloc_sites_useful;
        t->train.eloc_sites_computed = t->vmc->eloc_sites_computed;
        t->train.checkpoint_seconds = t->io_writes > 0 ? t->io_seconds / t->io_writes : (double)NAN;
        rc = ars_output_write(cfg, ctx, &t->meta, t->net, t->samples, t->log_prob, nf, &t->train);
        t->train.final = NULL;
    }
    if (rc == ARS_OK) {
        ars_print_train_final(&est, nf, t->phase != NULL);
        const double spike = ars_stall_final_ratio(&t->vmc->log, 50, est.energy_variance);
        if (spike > 10.0) {
            ars_warn("the final state's variance (%.3g) is %.0f times the mean of the last 50 "
                     "iterations' (%.3g): the last steps left the run's typical state (a spike, "
                     "see /vmc/energy_variance and /vmc/step_length), so this estimate is not "
                     "the run's best. Resuming for a few iterations usually returns to it; a "
                     "smaller [vmc] learning_rate or more samples make spikes rarer",
                     est.energy_variance, spike, est.energy_variance / spike);
        }
    }
    if (rc == ARS_OK && !ctx->quiet && t->vmc->timed_steps > 0) {
        ars_print_train_phases(t->vmc, t->io_seconds, t->io_writes);
    }
    if (rc == ARS_OK && !ctx->quiet) {
        printf("wrote %s\n", cfg->file);
    }
    return rc;
}

int ars_run_train(const ars_config *cfg, const char *config_text, ars_run_ctx *ctx,
                  int *stopped_by) {
    train_run t = {.cfg = cfg, .ctx = ctx, .method = ""};
    int rc = train_setup(&t);
    if (rc == ARS_OK && ctx->resume) {
        rc = train_resume(&t);
    }
    if (rc == ARS_OK) {
        rc = train_start(&t, config_text);
    }
    int stop = 0;
    if (rc == ARS_OK) {
        rc = train_loop(&t, &stop);
    }
    if (rc == ARS_OK && stop != 0) {
        report_interrupt(&t, stop);
        *stopped_by = stop;
    } else if (rc == ARS_OK) {
        rc = train_finish(&t);
    }
    ars_obs_result_free(&t.obs);
    ars_user_ops_free(&t.ops);
    ars_ham_free(&t.H);
    free(t.samples);
    free(t.log_prob);
    free(t.eloc);
    free(t.sample_phase);
    ars_phase_free(t.phase);
    ars_vmc_free(t.vmc);
    ars_arnn_free(t.net);
    return rc;
}
