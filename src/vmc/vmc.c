/*
 * vmc: the variational Monte Carlo step; see vmc.h for the algorithm and its reproducibility.
 */
#include "vmc/vmc.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "core/ars_common.h"
#include "wf/ratio.h"

static int projected_values(ars_vmc *v, const uint8_t *cfg, size_t n, double *w, double *er,
                            double *ei, int grads);
static double normalise_weights(double *w, size_t n);
static void weighted_estimate(ars_vmc_estimate *est, const double *eloc, const double *eloc_im,
                              const double *w, size_t n, double ess, int L, double exact);

#define LOG_COLUMN(f)                                                                              \
    { #f, offsetof(ars_vmc_log, f), 0 }
#define LOG_COLUMN_OPTIONAL(f)                                                                     \
    { #f, offsetof(ars_vmc_log, f), 1 }
const ars_vmc_log_column ars_vmc_log_columns[] = {LOG_COLUMN(energy),
                                                  LOG_COLUMN(energy_error),
                                                  LOG_COLUMN(energy_variance),
                                                  LOG_COLUMN(vscore),
                                                  LOG_COLUMN(relative_error),
                                                  LOG_COLUMN(grad_norm),
                                                  LOG_COLUMN(distinct_fraction),
                                                  LOG_COLUMN(seconds),
                                                  LOG_COLUMN(learning_rate),
                                                  LOG_COLUMN(diag_shift),
                                                  LOG_COLUMN_OPTIONAL(energy_imag),
                                                  LOG_COLUMN_OPTIONAL(energy_imag_error),
                                                  LOG_COLUMN_OPTIONAL(step_length),
                                                  LOG_COLUMN_OPTIONAL(symmetry_penalty)};
#undef LOG_COLUMN
#undef LOG_COLUMN_OPTIONAL
static_assert(sizeof ars_vmc_log_columns / sizeof ars_vmc_log_columns[0] == ARS_VMC_LOG_COLUMNS,
              "ars_vmc_log_columns: one row per double column of ars_vmc_log");
/* A column added to ars_vmc_log without a row (or a count) here fails the build. */
static_assert(sizeof(ars_vmc_log) ==
                  2 * sizeof(size_t) + sizeof(int64_t *) + ARS_VMC_LOG_COLUMNS * sizeof(double *),
              "ars_vmc_log: every double column needs a row in ars_vmc_log_columns");

/* The address of column i's pointer inside the log. */
static double **log_field(ars_vmc_log *log, int i) {
    return (double **)((char *)log + ars_vmc_log_columns[i].offset);
}

double *ars_vmc_log_data(const ars_vmc_log *log, int i) {
    return *(double *const *)((const char *)log + ars_vmc_log_columns[i].offset);
}

int ars_vmc_log_reserve(ars_vmc_log *log, size_t cap) {
    if (cap <= log->cap) {
        return ARS_OK;
    }
    int64_t *it = realloc(log->iteration, cap * sizeof(int64_t));
    if (it == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the training log");
    }
    log->iteration = it;
    for (int i = 0; i < ARS_VMC_LOG_COLUMNS; i++) {
        double **f = log_field(log, i);
        double *p = realloc(*f, cap * sizeof(double));
        if (p == NULL) {
            return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the training log");
        }
        *f = p;
    }
    log->cap = cap;
    return ARS_OK;
}

void ars_vmc_log_free(ars_vmc_log *log) {
    free(log->iteration);
    for (int i = 0; i < ARS_VMC_LOG_COLUMNS; i++) {
        free(*log_field(log, i));
    }
    memset(log, 0, sizeof *log);
}

int ars_vmc_share(ars_vmc *v) {
    const ars_comm *c = &v->comm;
    if (c->size == 1) {
        return ARS_OK;
    }
    const size_t P = v->P;
    uint64_t head[3] = {(uint64_t)v->log.len, (uint64_t)v->opt->step, (uint64_t)v->iteration};
    ars_comm_bcast(c, head, sizeof head);
    if (ars_comm_max_int(c, ars_vmc_log_reserve(&v->log, (size_t)head[0] + 1) != ARS_OK)) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the training log");
    }
    v->log.len = (size_t)head[0];
    v->opt->step = (long)head[1];
    v->iteration = (int64_t)head[2];
    ars_comm_bcast(c, v->net->params, v->P_mod * sizeof(double));
    if (v->phase != NULL) {
        ars_comm_bcast(c, v->phase->params, v->phase->n_params * sizeof(double));
    }
    for (int k = 0; k < v->opt->type->n_vectors; k++) {
        ars_comm_bcast(c, v->opt->vec[k], P * sizeof(double));
    }
    ars_comm_bcast(c, v->log.iteration, v->log.len * sizeof(int64_t));
    for (int i = 0; i < ARS_VMC_LOG_COLUMNS; i++) {
        ars_comm_bcast(c, *log_field(&v->log, i), v->log.len * sizeof(double));
    }
    return ARS_OK;
}

/* The SR block of P parameters over n samples: its matrix and, with ranks, its exchange buffer. */
static double sr_block_bytes(size_t P, size_t n, int n_ranks) {
    const double m = (double)(n < P ? n : P);
    return 8.0 * m * m * (n_ranks > 1 ? 1.5 : 1.0);
}

double ars_vmc_bytes(const ars_arnn *net, const ars_vmc_settings *set, int n_threads) {
    const ars_arch *arch = &net->arch;
    const int L = arch->hilbert.size, ranks = set->comm != NULL ? set->comm->size : 1;
    const size_t P_mod = net->n_params, P_phase = set->phase != NULL ? set->phase->n_params : 0;
    const double n = (double)set->n_samples, P = (double)(P_mod + P_phase);
    double bytes = 8.0 * P * n;                              /* O */
    bytes += set->sr && set->sr_float32 ? 4.0 * P * n : 0.0; /* its float32 copies */
    bytes += ranks > 1 ? 8.0 * P * n : 0.0;                  /* the gather */
    if (set->sr) {
        bytes += sr_block_bytes(P_mod, set->n_samples, ranks);
        bytes += P_phase > 0 ? sr_block_bytes(P_phase, set->n_samples, ranks) : 0.0;
    }
    if (set->projection) {
        /* Im O_P, the 2 n rows of SR and their block (for the one of P_mod above) */
        bytes += 8.0 * P * n * 3.0 +
                 (set->sr ? sr_block_bytes((size_t)P, 2 * set->n_samples, ranks) : 0.0);
    }
    if (arch->symmetry != ARS_SYM_NONE && set->dtype == ARS_DTYPE_FLOAT64) {
        bytes += 8.0 * (double)ars_sym_order(arch->symmetry, L) * n; /* the images */
    }
    /* The samples (a byte a site), log p, E_loc (twice with a phase), the hashes and the five
     * TDVP vectors. */
    bytes += n * ((double)L + 8.0 * (8.0 + (P_phase > 0 ? 1.0 : 0.0)));
    bytes += (double)(n_threads > 0 ? n_threads : omp_get_max_threads()) *
             (double)ars_sampler_slot_bytes(arch, set->chunk_size, set->algorithm, set->dtype);
    return bytes;
}

ars_vmc *ars_vmc_alloc(ars_arnn *net, const ars_ham *H, const ars_vmc_settings *set, int iterations,
                       int n_threads) {
    ars_vmc *v = calloc(1, sizeof *v);
    if (v == NULL) {
        return NULL;
    }
    const size_t n = set->n_samples, L = (size_t)net->arch.hilbert.size;
    v->net = net;
    v->phase = set->phase;
    v->P_mod = net->n_params;
    v->P = v->P_mod + (set->phase != NULL ? set->phase->n_params : 0);
    const size_t P = v->P;
    v->H = H;
    v->set = *set;
    v->n_slots = n_threads > 0 ? n_threads : omp_get_max_threads();
    v->sampler = ars_sampler_alloc(net, set->chunk_size, v->n_slots, set->algorithm, set->dtype);
    v->opt = ars_opt_alloc(set->optimizer, P, set->hyper);
    v->sr = ars_sr_alloc(v->P_mod, n);
    if (v->phase != NULL) {
        v->sr_phase = ars_sr_alloc(v->phase->n_params, n);
        v->eloc_im = malloc(n * sizeof(double));
        v->pws = calloc((size_t)v->n_slots, sizeof(ars_wf_ws *));
        if (v->sr_phase == NULL || v->eloc_im == NULL || v->pws == NULL) {
            goto fail;
        }
    }
    /* sr_dtype = float32: both SR blocks build their matrices from float32 products. */
    if (set->sr && set->sr_float32 &&
        (v->sr == NULL || ars_sr_set_float32(v->sr) != ARS_OK ||
         (v->sr_phase != NULL && ars_sr_set_float32(v->sr_phase) != ARS_OK))) {
        goto fail;
    }
    v->theta = malloc(P * sizeof(double));
    v->cfg = malloc(n * L);
    v->log_prob = malloc(n * sizeof(double));
    v->eloc = malloc(n * sizeof(double));
    v->O = malloc(P * n * sizeof(double));
    v->x = malloc(P * sizeof(double));
    if (set->optimizer->prior != NULL && (v->prior = malloc(P * sizeof(double))) == NULL) {
        goto fail;
    }
    v->undo = malloc((1 + (size_t)set->optimizer->n_vectors) * P * sizeof(double));
    v->comm.rank = 0;
    v->comm.size = 1;
    if (set->comm != NULL) {
        v->comm = *set->comm;
    }
    if (v->comm.size > 1) {
        v->gather = malloc(P * n * sizeof(double));
        if (v->gather == NULL || v->sr == NULL || ars_sr_share(v->sr, &v->comm) != ARS_OK ||
            (v->sr_phase != NULL && ars_sr_share(v->sr_phase, &v->comm) != ARS_OK)) {
            goto fail;
        }
    }
    v->hash = malloc(n * sizeof(uint64_t));
    /* A symmetrised state's gradients take its images' log psi from the draw (float64 only:
     * the same bits as computing them again). */
    if (net->arch.symmetry != ARS_SYM_NONE && set->dtype == ARS_DTYPE_FLOAT64) {
        const size_t G = (size_t)ars_sym_order(net->arch.symmetry, (int)L);
        if ((v->images = malloc(G * n * sizeof(double))) == NULL) {
            goto fail;
        }
    }
    v->tdvp_ws = malloc(5 * n * sizeof(double));
    v->log_psi = v->tdvp_ws != NULL ? v->tdvp_ws + 2 * n : NULL;
    v->log_psi_ref = v->tdvp_ws != NULL ? v->tdvp_ws + 3 * n : NULL;
    v->weights = v->tdvp_ws != NULL ? v->tdvp_ws + 4 * n : NULL;
    v->gws = calloc((size_t)v->n_slots, sizeof(ars_arnn_ws *));
    v->ews = calloc((size_t)v->n_slots, sizeof(ars_eloc_ws *));
    if (set->sym_penalty > 0.0 &&
        ((v->jws = calloc((size_t)v->n_slots, sizeof(ars_proj_ws *))) == NULL ||
         (v->proj = malloc(4 * n * sizeof(double))) == NULL)) {
        goto fail;
    }
    if (set->projected_group != ARS_SYM_NONE &&
        (v->fws = calloc((size_t)v->n_slots, sizeof(ars_proj_ws *))) == NULL) {
        goto fail;
    }
    if (set->projection) {
        ARS_ASSERT(net->arch.symmetry != ARS_SYM_NONE, "a projection needs a group");
        v->xws = calloc((size_t)v->n_slots, sizeof(ars_projected_ws *));
        v->O_im = malloc(P * n * sizeof(double));
        v->O2 = malloc(2 * P * n * sizeof(double));
        v->wproj = malloc(5 * n * sizeof(double));
        v->sr2 = ars_sr_alloc(P, 2 * n);
        if (v->eloc_im == NULL) {
            v->eloc_im = malloc(n * sizeof(double));
        }
        if (v->xws == NULL || v->O_im == NULL || v->O2 == NULL || v->wproj == NULL ||
            v->sr2 == NULL || v->eloc_im == NULL ||
            (set->sr && set->sr_float32 && ars_sr_set_float32(v->sr2) != ARS_OK) ||
            (v->comm.size > 1 && ars_sr_share(v->sr2, &v->comm) != ARS_OK)) {
            goto fail;
        }
    }
    v->op = ars_ham_operator(H);
    if (v->sampler == NULL || v->opt == NULL || v->sr == NULL || v->cfg == NULL ||
        v->log_prob == NULL || v->eloc == NULL || v->O == NULL || v->x == NULL ||
        v->theta == NULL || v->hash == NULL || v->tdvp_ws == NULL || v->undo == NULL ||
        v->gws == NULL || v->ews == NULL || v->op == NULL ||
        ars_vmc_log_reserve(&v->log, iterations > 0 ? (size_t)iterations : 1) != ARS_OK) {
        goto fail;
    }
    const ars_wf wf = ars_vmc_wf(v);
    for (int i = 0; i < v->n_slots; i++) {
        v->gws[i] = ars_arnn_ws_alloc_grad(net, set->chunk_size);
        v->ews[i] = ars_eloc_ws_alloc(v->op, &wf, set->chunk_size);
        if (v->gws[i] == NULL || v->ews[i] == NULL) {
            goto fail;
        }
        /* Allocates the float32 windows now, so that local_energies' switches cannot fail. */
        if (set->eloc_float32 &&
            ars_eloc_ws_set_dtype(v->ews[i], &wf, ARS_DTYPE_FLOAT32) != ARS_OK) {
            goto fail;
        }
        if (v->pws != NULL && (v->pws[i] = ars_wf_ws_alloc(&wf, 1)) == NULL) {
            goto fail;
        }
        if (v->jws != NULL &&
            (v->jws[i] = ars_proj_ws_alloc(&wf, set->penalty_group, set->chunk_size)) == NULL) {
            goto fail;
        }
        if (v->fws != NULL &&
            (v->fws[i] = ars_proj_ws_alloc(&wf, set->projected_group, set->chunk_size)) == NULL) {
            goto fail;
        }
        if (v->xws != NULL &&
            (v->xws[i] = ars_projected_ws_alloc(net, H->marshall_sign, v->phase, v->op,
                                                set->chunk_size)) == NULL) {
            goto fail;
        }
    }
    return v;
fail:
    ars_vmc_free(v);
    return NULL;
}

void ars_vmc_free(ars_vmc *v) {
    if (v == NULL) {
        return;
    }
    for (int i = 0; i < v->n_slots; i++) {
        if (v->gws != NULL) {
            ars_arnn_ws_free(v->gws[i]);
        }
        if (v->ews != NULL) {
            ars_eloc_ws_free(v->ews[i]);
        }
        if (v->pws != NULL) {
            ars_wf_ws_free(v->pws[i]);
        }
        if (v->jws != NULL) {
            ars_proj_ws_free(v->jws[i]);
        }
        if (v->fws != NULL) {
            ars_proj_ws_free(v->fws[i]);
        }
        if (v->xws != NULL) {
            ars_projected_ws_free(v->xws[i]);
        }
    }
    free(v->xws);
    free(v->O_im);
    free(v->O2);
    free(v->wproj);
    ars_sr_free(v->sr2);
    free(v->jws);
    free(v->fws);
    free(v->proj);
    free(v->pws);
    free(v->gws);
    free(v->ews);
    ars_op_free(v->op);
    ars_sampler_free(v->sampler);
    ars_opt_free(v->opt);
    ars_sr_free(v->sr);
    ars_sr_free(v->sr_phase);
    free(v->cfg);
    free(v->log_prob);
    free(v->eloc);
    free(v->eloc_im);
    free(v->theta);
    free(v->O);
    free(v->x);
    free(v->prior);
    free(v->undo);
    free(v->gather);
    free(v->hash);
    free(v->images);
    free(v->tdvp_ws);
    ars_vmc_log_free(&v->log);
    free(v);
}

/* FNV-1a over a configuration's bytes: equal rows hash equally; collisions are negligible for
 * counting distinct samples. */
static uint64_t row_hash(const uint8_t *row, size_t L) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < L; i++) {
        h = (h ^ row[i]) * 1099511628211ULL;
    }
    return h;
}

static int cmp_u64(const void *a, const void *b) {
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static double distinct_fraction(ars_vmc *v) {
    const size_t n = v->set.n_samples, L = (size_t)v->net->arch.hilbert.size;
    for (size_t b = 0; b < n; b++) {
        v->hash[b] = row_hash(v->cfg + b * L, L);
    }
    qsort(v->hash, n, sizeof(uint64_t), cmp_u64);
    size_t distinct = n > 0;
    for (size_t b = 1; b < n; b++) {
        distinct += v->hash[b] != v->hash[b - 1];
    }
    return (double)distinct / (double)n;
}

/* Draws the n samples of `stream`: this rank's chunks, then everyone's gathered. Every rank
 * returns the same status. */
static int draw(ars_vmc *v, uint8_t *cfg, double *log_prob, size_t n, uint64_t stream,
                int keep_images) {
    const size_t cs = (size_t)v->set.chunk_size, L = (size_t)v->net->arch.hilbert.size;
    size_t c0, c1;
    ars_comm_chunks(&v->comm, (n + cs - 1) / cs, &c0, &c1);
    ars_sampler_sync(v->sampler);
    /* Each rank keeps its own chunks' images: the gradients' chunks are the same. */
    ars_sampler_keep_images(v->sampler, keep_images ? v->images : NULL, n);
    int rc =
        ars_sampler_draw_chunks(v->sampler, cfg, log_prob, n, c0, c1, v->set.seed, stream, NULL);
    ars_sampler_keep_images(v->sampler, NULL, 0);
    if (ars_comm_max_int(&v->comm, rc != ARS_OK) != 0) {
        return rc != ARS_OK ? rc : ARS_STATUS_ENONFINITE;
    }
    ars_comm_allgather_rows(&v->comm, cfg, n, cs, L);
    ars_comm_allgather_rows(&v->comm, log_prob, n, cs, sizeof(double));
    return ARS_OK;
}

ars_wf ars_vmc_wf(const ars_vmc *v) {
    return ars_wf_make(v->net, v->H->marshall_sign, v->phase);
}

/* Local energies of n samples cfg into eloc (+ i eloc_im, NULL for a real wavefunction), in
 * parallel over chunks; returns the number of non-finite values. */
static int local_energies(ars_vmc *v, double *eloc, double *eloc_im, const uint8_t *cfg, size_t n,
                          ars_dtype dtype) {
    const size_t L = (size_t)v->net->arch.hilbert.size, cs = (size_t)v->set.chunk_size;
    size_t c0, c1;
    ars_comm_chunks(&v->comm, (n + cs - 1) / cs, &c0, &c1);
    int n_bad = 0;
    const ars_wf wf = ars_vmc_wf(v);
    for (int s = 0; s < v->n_slots; s++) {
        /* float32 only where ars_vmc_alloc allocated it: cannot fail. */
        const int rc = ars_eloc_ws_set_dtype(v->ews[s], &wf, dtype);
        ARS_ASSERT(rc == ARS_OK, "the float32 windows were not allocated");
    }
#pragma omp parallel num_threads(v->n_slots) default(none)                                         \
    shared(v, eloc, eloc_im, cfg, n, L, cs, c0, c1, wf) reduction(+ : n_bad)
    {
        const int slot = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for (size_t chunk = c0; chunk < c1; chunk++) {
            const size_t start = chunk * cs;
            const int B = (int)(n - start < cs ? n - start : cs);
            n_bad += ars_eloc_compute(eloc + start, eloc_im != NULL ? eloc_im + start : NULL,
                                      cfg + start * L, v->op, &wf, v->ews[slot], B);
        }
    }
    ars_comm_allgather_rows(&v->comm, eloc, n, cs, sizeof(double));
    if (eloc_im != NULL) {
        ars_comm_allgather_rows(&v->comm, eloc_im, n, cs, sizeof(double));
    }
    return ars_comm_sum_int(&v->comm, n_bad);
}

/* P_loc (est/projector.h) of the n samples cfg into re and im (im: with a phase network only),
 * with the workspaces ws (one per slot), in parallel over the chunks of local_energies;
 * returns the number of non-finite values. */
static int projector_values(ars_vmc *v, ars_proj_ws **ws, const uint8_t *cfg, size_t n, double *re,
                            double *im) {
    const size_t L = (size_t)v->net->arch.hilbert.size, cs = (size_t)v->set.chunk_size;
    size_t c0, c1;
    ars_comm_chunks(&v->comm, (n + cs - 1) / cs, &c0, &c1);
    int n_bad = 0;
    const ars_wf wf = ars_vmc_wf(v);
#pragma omp parallel num_threads(v->n_slots) default(none)                                         \
    shared(v, ws, cfg, re, im, n, L, cs, c0, c1, wf) reduction(+ : n_bad)
    {
        const int slot = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for (size_t chunk = c0; chunk < c1; chunk++) {
            const size_t start = chunk * cs;
            const int B = (int)(n - start < cs ? n - start : cs);
            n_bad += ars_proj_local(re + start, v->phase != NULL ? im + start : NULL,
                                    cfg + start * L, &wf, ws[slot], B);
        }
    }
    ars_comm_allgather_rows(&v->comm, re, n, cs, sizeof(double));
    if (v->phase != NULL) {
        ars_comm_allgather_rows(&v->comm, im, n, cs, sizeof(double));
    }
    return ars_comm_sum_int(&v->comm, n_bad);
}

/* The penalised local energies E_loc + lambda (1 - P_loc) into v->proj's second half, their
 * means (in sample order) into *mean and *mean_im, and lambda (1 - Re <P_loc>) into *penalty. */
static void penalise(ars_vmc *v, size_t n, double *mean, double *mean_im, double *penalty) {
    const double lam = v->set.sym_penalty;
    const double *re = v->proj, *im = v->proj + n;
    double *e = v->proj + 2 * n, *e_im = v->proj + 3 * n;
    double s = 0.0, s_im = 0.0, p = 0.0;
    for (size_t b = 0; b < n; b++) {
        e[b] = v->eloc[b] + lam * (1.0 - re[b]);
        s += e[b];
        p += lam * (1.0 - re[b]);
        if (v->phase != NULL) {
            e_im[b] = v->eloc_im[b] - lam * im[b];
            s_im += e_im[b];
        }
    }
    *mean = s / (double)n;
    *mean_im = s_im / (double)n;
    *penalty = p / (double)n;
}

/* The site evaluations of every slot's ratio workspace so far: their conv flops (ratio.h),
 * summed, in units of a whole site. */
static void eloc_sites(const ars_vmc *v, uint64_t *useful, uint64_t *computed) {
    *useful = *computed = 0;
    for (int s = 0; s < v->n_slots; s++) {
        uint64_t u, c;
        ars_ratio_ws_flops(ars_eloc_ws_ratio(v->ews[s]), &u, &c);
        *useful += u;
        *computed += c;
    }
    const uint64_t site = ars_ratio_ws_site_flops(ars_eloc_ws_ratio(v->ews[0]));
    *useful /= site;
    *computed /= site;
}

/* Mean and variance (n - 1 normalisation) of n values, sums in sample order. */
static void mean_var(const double *x, size_t n, double *mean, double *var) {
    double sum = 0.0;
    for (size_t b = 0; b < n; b++) {
        sum += x[b];
    }
    const double m = sum / (double)n;
    double ss = 0.0;
    for (size_t b = 0; b < n; b++) {
        ss += (x[b] - m) * (x[b] - m);
    }
    *mean = m;
    *var = n > 1 ? ss / (double)(n - 1) : 0.0;
}

/* Mean, standard error, variance, V-score and relative error of n local energies (eloc_im:
 * their imaginary parts, or NULL for 0). */
static void estimate(ars_vmc_estimate *est, const double *eloc, const double *eloc_im, size_t n,
                     int L, double exact) {
    double mean, var;
    mean_var(eloc, n, &mean, &var);
    est->n_samples = n;
    est->energy = mean;
    est->energy_error = sqrt(var / (double)n);
    est->energy_variance = var;
    est->vscore = (double)L * var / (mean * mean);
    est->relative_error = isnan(exact) ? (double)NAN : fabs((mean - exact) / exact);
    est->energy_imag = est->energy_imag_error = 0.0;
    est->projected_energy = est->projected_energy_error = est->projected_relative_error = NAN;
    est->overlap = est->overlap_error = NAN;
    if (eloc_im != NULL) {
        double var_im;
        mean_var(eloc_im, n, &est->energy_imag, &var_im);
        est->energy_imag_error = sqrt(var_im / (double)n);
    }
}

/* X_b = Re(P_loc^* E_loc) of sample b (pi NULL: a real P_loc). */
static double projected_numerator(const double *eloc, const double *eloc_im, const double *pr,
                                  const double *pi, size_t b) {
    return pr[b] * eloc[b] + (pi != NULL ? pi[b] * eloc_im[b] : 0.0);
}

/* The projected state's energy E_P = mean X / mean Y, X = Re(P_loc^* E_loc), Y = Re P_loc, with
 * the delta method's error sqrt(Var(X - E_P Y) / n) / |mean Y|, and <P_G> = mean Y (sums in
 * sample order). */
static void projected_estimate(ars_vmc_estimate *est, const double *eloc, const double *eloc_im,
                               const double *pr, const double *pi, size_t n, double exact) {
    double sx = 0.0, sy = 0.0;
    for (size_t b = 0; b < n; b++) {
        sx += projected_numerator(eloc, eloc_im, pr, pi, b);
        sy += pr[b];
    }
    const double mx = sx / (double)n, my = sy / (double)n, ep = mx / my;
    double sr = 0.0;
    for (size_t b = 0; b < n; b++) {
        sr += projected_numerator(eloc, eloc_im, pr, pi, b) - ep * pr[b];
    }
    const double mr = sr / (double)n;
    double vr = 0.0, vy = 0.0;
    for (size_t b = 0; b < n; b++) {
        const double r = projected_numerator(eloc, eloc_im, pr, pi, b) - ep * pr[b];
        vr += (r - mr) * (r - mr);
        vy += (pr[b] - my) * (pr[b] - my);
    }
    const double dn = n > 1 ? (double)(n - 1) : 1.0;
    est->projected_energy = ep;
    est->projected_energy_error = sqrt(vr / dn / (double)n) / fabs(my);
    est->projected_relative_error = isnan(exact) ? (double)NAN : fabs((ep - exact) / exact);
    est->overlap = my;
    est->overlap_error = sqrt(vy / dn / (double)n);
}

int ars_vmc_evaluate(ars_vmc *v, uint8_t *cfg, double *log_prob, double *eloc, double *eloc_im,
                     size_t n, uint64_t stream, ars_vmc_estimate *est, double *weight) {
    ARS_ASSERT(v->phase == NULL || eloc_im != NULL, "a phase network needs eloc_im");
    ARS_ASSERT(v->xws == NULL || (eloc_im != NULL && weight != NULL),
               "a projection needs eloc_im and weight");
    int rc = draw(v, cfg, log_prob, n, stream, 0);
    if (rc != ARS_OK) {
        return rc;
    }
    if (v->xws != NULL) {
        const int bad = projected_values(v, cfg, n, weight, eloc, eloc_im, 0);
        /* The weights as drawn (each <= 1) are what the file keeps; the estimate normalises a
         * copy. */
        double *wn = malloc(n * sizeof(double));
        if (wn == NULL) {
            return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the final weights");
        }
        memcpy(wn, weight, n * sizeof(double));
        const double ess = normalise_weights(wn, n);
        weighted_estimate(est, eloc, v->phase != NULL ? eloc_im : NULL, wn, n, ess,
                          v->net->arch.hilbert.size, v->set.exact_energy);
        free(wn);
        if (bad > 0 || ess == 0.0 || !isfinite(est->energy)) {
            return ARS_ERR(ARS_STATUS_ENONFINITE, "the final projected local energies are not "
                                                  "finite (or every weight is 0)");
        }
        return ARS_OK;
    }
    const int n_bad = local_energies(v, eloc, eloc_im, cfg, n, ARS_DTYPE_FLOAT64);
    estimate(est, eloc, v->phase != NULL ? eloc_im : NULL, n, v->net->arch.hilbert.size,
             v->set.exact_energy);
    if (n_bad > 0 || !isfinite(est->energy)) {
        return ARS_ERR(ARS_STATUS_ENONFINITE, "the final local energies are not finite");
    }
    if (v->fws != NULL) {
        /* Once per run: not a hot loop. */
        double *p = malloc(2 * n * sizeof(double));
        if (p == NULL) {
            return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the projected estimate");
        }
        const double *pi = v->phase != NULL ? p + n : NULL;
        const int bad = projector_values(v, v->fws, cfg, n, p, p + n);
        if (bad == 0) {
            projected_estimate(est, eloc, eloc_im, p, pi, n, v->set.exact_energy);
        }
        free(p);
        if (bad > 0 || !isfinite(est->projected_energy)) {
            return ARS_ERR(ARS_STATUS_ENONFINITE, "the projected estimate is not finite");
        }
    }
    return ARS_OK;
}

const char *const ars_vmc_phase_names[ARS_VMC_N_PHASES] = {"sample",   "local_energy", "gradient",
                                                           "sr_build", "sr_solve",     "update"};

/* The projected state's weights w, local energies E_P,loc = er + i ei and (with grads) O_P into
 * v->O and v->O_im of the n samples cfg (vmc/projected.h), in parallel over the chunks of
 * local_energies, gathered; returns the number of non-finite samples. */
static int projected_values(ars_vmc *v, const uint8_t *cfg, size_t n, double *w, double *er,
                            double *ei, int grads) {
    const size_t L = (size_t)v->net->arch.hilbert.size, cs = (size_t)v->set.chunk_size;
    size_t c0, c1;
    ars_comm_chunks(&v->comm, (n + cs - 1) / cs, &c0, &c1);
    int n_bad = 0;
#pragma omp parallel num_threads(v->n_slots) default(none)                                         \
    shared(v, cfg, w, er, ei, grads, n, L, cs, c0, c1) reduction(+ : n_bad)
    {
        const int slot = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for (size_t chunk = c0; chunk < c1; chunk++) {
            const size_t start = chunk * cs;
            const int B = (int)(n - start < cs ? n - start : cs);
            n_bad += ars_projected_local(
                w + start, er + start, ei + start, grads ? v->O + start : NULL,
                grads ? v->O_im + start : NULL, n, cfg + start * L, v->xws[slot], B);
        }
    }
    ars_comm_allgather_rows(&v->comm, w, n, cs, sizeof(double));
    ars_comm_allgather_rows(&v->comm, er, n, cs, sizeof(double));
    ars_comm_allgather_rows(&v->comm, ei, n, cs, sizeof(double));
    if (grads) {
        ars_comm_allgather_columns(&v->comm, v->O, v->P, n, cs, v->gather);
        ars_comm_allgather_columns(&v->comm, v->O_im, v->P, n, cs, v->gather);
    }
    return ars_comm_sum_int(&v->comm, n_bad);
}

/* Normalises the weights w (n) to sum 1, in sample order; returns the effective sample size
 * 1 / sum w^2 (0 when every weight is 0). */
static double normalise_weights(double *w, size_t n) {
    double sum = 0.0;
    for (size_t b = 0; b < n; b++) {
        sum += w[b];
    }
    if (!(sum > 0.0)) {
        return 0.0;
    }
    double sq = 0.0;
    for (size_t b = 0; b < n; b++) {
        w[b] /= sum;
        sq += w[b] * w[b];
    }
    return 1.0 / sq;
}

/* SR's direction for the projected state: the complex O_P as 2 n real rows (Re O_P, then
 * Im O_P, each centred with the weighted mean), residuals Re E_P,loc - E and Im E_P,loc - Im E,
 * and row weights w_b / 2, so that sr.h's weighted S and F are half of S = Re <O_P^* O_P>_c and
 * F = 2 Re <(E_P,loc - E)^* O_P>_c: the shift is halved to match, and the gradient norm and
 * the step's metric doubled. */
static int projected_direction(ars_vmc *v, const ars_vmc_estimate *est, double ds, double *gnorm,
                               double *metric) {
    const size_t n = v->set.n_samples, P = v->P, n2 = 2 * n;
    const double *w = v->wproj;
    double *eps = v->wproj + n, *w2 = v->wproj + 3 * n;
    for (size_t k = 0; k < P; k++) {
        const double *re = v->O + k * n, *im = v->O_im + k * n;
        double mr = 0.0, mi = 0.0;
        for (size_t b = 0; b < n; b++) {
            mr += w[b] * re[b];
            mi += w[b] * im[b];
        }
        double *row = v->O2 + k * n2;
        for (size_t b = 0; b < n; b++) {
            row[b] = re[b] - mr;
            row[n + b] = im[b] - mi;
        }
    }
    for (size_t b = 0; b < n; b++) {
        eps[b] = v->eloc[b] - est->energy;
        eps[n + b] = v->eloc_im[b] - est->energy_imag;
        w2[b] = w2[n + b] = 0.5 * w[b];
    }
    v->sr2->weights = w2;
    const int rc =
        ars_sr_direction(v->sr2, v->x, gnorm, v->O2, eps, 0.0, 0.5 * ds, v->set.sr, NULL);
    v->sr2->weights = NULL;
    *gnorm *= 2.0;
    *metric = 2.0 * v->sr2->step_metric;
    return rc;
}

/* Steps 1 and 2 of vmc.h on the samples of `stream`: v->cfg, their local energies v->eloc (and
 * v->eloc_im) and per-sample gradients v->O, gathered so that every rank holds all of them. The
 * phases are timed into tp[SAMPLE + 1 .. GRAD + 1] (tp[SAMPLE] is the start). *n_bad receives
 * the number of non-finite local energies. Every rank returns the same status. */
static int differentiate(ars_vmc *v, uint64_t stream, int redraw, ars_dtype eloc_dtype, double *tp,
                         int *n_bad) {
    const size_t n = v->set.n_samples, P = v->P, L = (size_t)v->net->arch.hilbert.size;
    const size_t cs = (size_t)v->set.chunk_size, P_mod = v->P_mod;
    const size_t n_chunks = (n + cs - 1) / cs;
    if (redraw) {
        const int rc = draw(v, v->cfg, v->log_prob, n, stream, 1);
        if (rc != ARS_OK) {
            return rc;
        }
    }
    tp[ARS_VMC_PHASE_ELOC] = ars_wtime();
    if (v->xws != NULL) {
        *n_bad = projected_values(v, v->cfg, n, v->wproj, v->eloc, v->eloc_im, 1);
        tp[ARS_VMC_PHASE_GRAD] = tp[ARS_VMC_PHASE_SR_BUILD] = ars_wtime();
        return ARS_OK;
    }
    uint64_t u0, c0s, u1, c1s;
    eloc_sites(v, &u0, &c0s);
    *n_bad = local_energies(v, v->eloc, v->eloc_im, v->cfg, n, eloc_dtype);
    if (v->jws != NULL) {
        *n_bad += projector_values(v, v->jws, v->cfg, n, v->proj, v->proj + n);
    }
    eloc_sites(v, &u1, &c1s);
    v->eloc_sites_useful += u1 - u0;
    v->eloc_sites_computed += c1s - c0s;
    tp[ARS_VMC_PHASE_GRAD] = ars_wtime();
    /* Per-sample gradients, chunk by chunk; each chunk writes its own columns of O. */
    size_t c0, c1;
    ars_comm_chunks(&v->comm, n_chunks, &c0, &c1);
    const ars_wf wf = ars_vmc_wf(v);
    double *log_psi = v->log_psi;
    /* The images' log psi of this call's draw, if it drew. */
    const double *images = redraw ? v->images : NULL;
#pragma omp parallel num_threads(v->n_slots) default(none)                                         \
    shared(v, n, P, P_mod, L, cs, c0, c1, wf, log_psi, images)
    {
        const int slot = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for (size_t chunk = c0; chunk < c1; chunk++) {
            const size_t start = chunk * cs;
            const int B = (int)(n - start < cs ? n - start : cs);
            const uint8_t *c = v->cfg + start * L;
            /* The network's rows are written whole; the phase network's accumulate. */
            for (size_t k = P_mod; k < P; k++) {
                memset(v->O + k * n + start, 0, (size_t)B * sizeof(double));
            }
            ars_arnn_grad_log_psi_images(v->O + start, n, log_psi + start, c, v->net, v->gws[slot],
                                         B, images != NULL ? images + start : NULL, n);
            for (int b = 0; v->phase != NULL && b < B; b++) {
                ars_wf_phase_grad(v->O + P_mod * n + start + (size_t)b, n, c + (size_t)b * L, &wf,
                                  v->pws[slot]);
            }
        }
    }
    ars_comm_allgather_columns(&v->comm, v->O, P, n, cs, v->gather);
    ars_comm_allgather_rows(&v->comm, log_psi, n, cs, sizeof(double));
    tp[ARS_VMC_PHASE_SR_BUILD] = ars_wtime();
    return ARS_OK;
}

int ars_vmc_step(ars_vmc *v) {
    const double t0 = ars_wtime();
    double tp[ARS_VMC_N_PHASES + 1] = {t0}; /* phase p ran from tp[p] to tp[p + 1] */
    const size_t n = v->set.n_samples, P = v->P, L = (size_t)v->net->arch.hilbert.size;
    const size_t P_mod = v->P_mod;
    const int64_t it = v->iteration;
    int n_bad = 0;
    int rc = differentiate(v, (uint64_t)it, 1,
                           v->set.eloc_float32 ? ARS_DTYPE_FLOAT32 : ARS_DTYPE_FLOAT64, tp, &n_bad);
    if (rc != ARS_OK) {
        return rc;
    }
    /* From here on every rank holds the same data and computes the same bits. */
    ars_vmc_estimate est;
    if (v->xws != NULL) {
        const double ess = normalise_weights(v->wproj, n);
        weighted_estimate(&est, v->eloc, v->phase != NULL ? v->eloc_im : NULL, v->wproj, n, ess,
                          (int)L, v->set.exact_energy);
        if (ess == 0.0) {
            n_bad = n_bad > 0 ? n_bad : 1;
        }
    } else {
        estimate(&est, v->eloc, v->eloc_im, n, (int)L, v->set.exact_energy);
    }
    const double mean = est.energy;
    if (n_bad > 0 || !isfinite(mean) || !isfinite(est.energy_variance)) {
        return ARS_ERR(ARS_STATUS_ENONFINITE,
                       "iteration %lld: the local energies are not finite (%d bad); the "
                       "parameters were kept as they were. Usual fixes: a smaller "
                       "[vmc] learning_rate, a larger [vmc] diag_shift",
                       (long long)it, n_bad);
    }
    const double lr = ars_opt_schedule(v->set.lr_exponential, v->set.learning_rate, v->set.lr_decay,
                                       v->set.lr_min, it);
    const double ds = ars_opt_schedule(v->set.ds_exponential, v->set.diag_shift, v->set.ds_decay,
                                       v->set.ds_min, it);
    double gnorm = 0.0;
    if (v->prior != NULL) {
        v->opt->type->prior(v->opt, v->prior);
    }
    /* With a symmetry penalty SR descends <H> + lambda (1 - <P_G>); the log keeps <H>. */
    const double *e_sr = v->eloc, *e_sr_im = v->eloc_im;
    double mean_sr = mean, mean_sr_im = est.energy_imag, penalty = 0.0;
    if (v->jws != NULL) {
        penalise(v, n, &mean_sr, &mean_sr_im, &penalty);
        e_sr = v->proj + 2 * n;
        e_sr_im = v->proj + 3 * n;
    }
    double metric = 0.0;
    if (v->xws != NULL) {
        rc = projected_direction(v, &est, ds, &gnorm, &metric);
    } else {
        rc = v->phase == NULL
                 ? ars_sr_direction(v->sr, v->x, &gnorm, v->O, e_sr, mean_sr, ds, v->set.sr,
                                    v->prior)
                 : ars_sr_direction_split(v->sr, v->sr_phase, v->x, &gnorm, v->O, e_sr, e_sr_im,
                                          mean_sr, mean_sr_im, ds, v->set.sr, v->prior);
        metric = v->sr->step_metric;
    }
    const ars_sr *sr_used = v->xws != NULL ? v->sr2 : v->sr;
    const double build = sr_used->seconds_build, solve = sr_used->seconds_solve;
    tp[ARS_VMC_PHASE_SR_SOLVE] = tp[ARS_VMC_PHASE_SR_BUILD] + build;
    tp[ARS_VMC_PHASE_UPDATE] = tp[ARS_VMC_PHASE_SR_SOLVE] + solve;
    if (rc != ARS_OK) {
        return ARS_ERR(rc,
                       "iteration %lld: no update direction (see above); the parameters "
                       "were kept as they were",
                       (long long)it);
    }
    for (size_t k = 0; k < P; k++) {
        if (!isfinite(v->x[k])) {
            return ARS_ERR(ARS_STATUS_ENONFINITE,
                           "iteration %lld: the update is not finite; the parameters were kept. "
                           "Usual fixes: a smaller [vmc] learning_rate, a larger diag_shift",
                           (long long)it);
        }
    }
    /* The step theta -= lr x moves the state by lr sqrt(x^T S x) in the Fubini-Study metric (to
     * first order); max_step is a trust region on that length. The scaled direction is also
     * what SPRING remembers. S is block diagonal in (modulus, phase) (sr.h), so a phase step
     * f times as long adds (f^2 - 1) x_phase^T S x_phase. */
    const double f = v->set.phase_lr_factor;
    const int phase_scaled = v->phase != NULL && f != 1.0;
    if (phase_scaled) {
        metric += (f * f - 1.0) * v->sr_phase->step_metric;
    }
    double step_length = lr * sqrt(fmax(metric, 0.0));
    if (v->set.max_step > 0.0 && step_length > v->set.max_step) {
        const double scale = v->set.max_step / step_length;
        for (size_t k = 0; k < P; k++) {
            v->x[k] *= scale;
        }
        step_length = v->set.max_step;
    }
    /* A finite direction can still overflow the parameters: keep what the update replaces. */
    ars_opt *o = v->opt;
    const long step = o->step;
    double *theta = v->theta;
    memcpy(theta, v->net->params, P_mod * sizeof(double));
    if (v->phase != NULL) {
        memcpy(theta + P_mod, v->phase->params, (P - P_mod) * sizeof(double));
    }
    memcpy(v->undo, theta, P * sizeof(double));
    for (int q = 0; q < o->type->n_vectors; q++) {
        memcpy(v->undo + (size_t)(q + 1) * P, o->vec[q], P * sizeof(double));
    }
    ars_opt_step(o, theta, v->x, lr);
    if (phase_scaled) {
        /* A separate time step for the phase: its parameters move f times the optimizer's
         * step (arXiv:2510.02051 for the idea). undo holds theta before the step. */
        for (size_t k = P_mod; k < P; k++) {
            theta[k] = v->undo[k] + f * (theta[k] - v->undo[k]);
        }
    }
    for (size_t k = 0; k < P; k++) {
        if (!isfinite(theta[k])) {
            for (int q = 0; q < o->type->n_vectors; q++) {
                memcpy(o->vec[q], v->undo + (size_t)(q + 1) * P, P * sizeof(double));
            }
            o->step = step;
            return ARS_ERR(ARS_STATUS_ENONFINITE,
                           "iteration %lld: the update makes parameter %zu non-finite; the "
                           "parameters were kept. Usual fixes: a smaller [vmc] learning_rate, a "
                           "larger diag_shift",
                           (long long)it, k);
        }
    }

    memcpy(v->net->params, theta, P_mod * sizeof(double));
    if (v->phase != NULL) {
        memcpy(v->phase->params, theta + P_mod, (P - P_mod) * sizeof(double));
    }

    ars_vmc_log *log = &v->log;
    if (ars_vmc_log_reserve(log, log->len + 1) != ARS_OK) {
        return ARS_STATUS_ENOMEM;
    }
    const size_t i = log->len++;
    log->iteration[i] = it;
    log->energy[i] = est.energy;
    log->energy_error[i] = est.energy_error;
    log->energy_variance[i] = est.energy_variance;
    log->vscore[i] = est.vscore;
    log->relative_error[i] = est.relative_error;
    log->grad_norm[i] = gnorm;
    log->distinct_fraction[i] = distinct_fraction(v);
    log->learning_rate[i] = lr;
    log->diag_shift[i] = ds;
    log->energy_imag[i] = est.energy_imag;
    log->energy_imag_error[i] = est.energy_imag_error;
    log->step_length[i] = step_length;
    log->symmetry_penalty[i] = penalty;
    tp[ARS_VMC_N_PHASES] = ars_wtime();
    log->seconds[i] = tp[ARS_VMC_N_PHASES] - t0;
    for (int p = 0; p < ARS_VMC_N_PHASES; p++) {
        v->phase_seconds[p] += tp[p + 1] - tp[p];
    }
    v->timed_steps++;
    v->iteration++;
    return ARS_OK;
}

void ars_vmc_get_params(const ars_vmc *v, double *theta) {
    memcpy(theta, v->net->params, v->P_mod * sizeof(double));
    if (v->phase != NULL) {
        memcpy(theta + v->P_mod, v->phase->params, (v->P - v->P_mod) * sizeof(double));
    }
}

void ars_vmc_set_params(ars_vmc *v, const double *theta) {
    memcpy(v->net->params, theta, v->P_mod * sizeof(double));
    if (v->phase != NULL) {
        memcpy(v->phase->params, theta + v->P_mod, (v->P - v->P_mod) * sizeof(double));
    }
}

/* The tangent vector of x on the last samples: d log psi(s_b) = a_b + i c_b with
 * a_b = sum_{k < P_mod} Oc[k, b] x_k (the modulus) and c_b = sum_{k >= P_mod} gc[k, b] x_k (the
 * phase; 0 without one), for the centred O of the last ars_vmc_tdvp; sums in a fixed order. */
static void tangent(const ars_vmc *v, const double *x, double *a, double *c) {
    const size_t n = v->set.n_samples;
    memset(a, 0, n * sizeof(double));
    memset(c, 0, n * sizeof(double));
    for (size_t k = 0; k < v->P; k++) {
        const double *row = v->O + k * n;
        double *out = k < v->P_mod ? a : c;
        for (size_t b = 0; b < n; b++) {
            out[b] += row[b] * x[k];
        }
    }
}

double ars_vmc_tdvp_norm(ars_vmc *v, const double *delta) {
    const size_t n = v->set.n_samples;
    double *a = v->tdvp_ws, *c = v->tdvp_ws + n;
    tangent(v, delta, a, c);
    double s = 0.0;
    for (size_t b = 0; b < n; b++) {
        s += a[b] * a[b] + c[b] * c[b];
    }
    return sqrt(s / (double)n);
}

int ars_vmc_set_snr(ars_vmc *v, double snr_tolerance, double pinv_tolerance) {
    int rc = ars_sr_set_snr(v->sr, snr_tolerance, pinv_tolerance);
    if (rc == ARS_OK && v->sr_phase != NULL) {
        rc = ars_sr_set_snr(v->sr_phase, snr_tolerance, pinv_tolerance);
    }
    return rc;
}

/* The weights of the last samples under the current state, |psi(s_b)|^2 / |psi_ref(s_b)|^2
 * normalised to sum to 1 (sums in sample order), into w; returns the effective sample size
 * 1 / sum_b w_b^2. */
static double importance_weights(const ars_vmc *v, double *w) {
    const size_t n = v->set.n_samples;
    const double *log_psi = v->log_psi, *ref = v->log_psi_ref;
    double top = -INFINITY;
    for (size_t b = 0; b < n; b++) {
        w[b] = 2.0 * (log_psi[b] - ref[b]);
        top = fmax(top, w[b]);
    }
    for (size_t b = 0; b < n; b++) {
        w[b] = exp(w[b] - top);
    }
    return normalise_weights(w, n); /* the largest weight is 1 before: the sum is positive */
}

/* ars_vmc_estimate of weighted samples (weights w summing to 1, effective size ess = 1 / sum
 * w^2): weighted means, variances sum_b w_b (X_b - <X>)^2 / (1 - 1 / ess) (for equal weights
 * the n - 1 normalisation of estimate()), standard errors sqrt(Var / ess). */
static void weighted_estimate(ars_vmc_estimate *est, const double *eloc, const double *eloc_im,
                              const double *w, size_t n, double ess, int L, double exact) {
    double mean = 0.0, var = 0.0, mean_im = 0.0, var_im = 0.0;
    for (size_t b = 0; b < n; b++) {
        mean += w[b] * eloc[b];
        mean_im += eloc_im != NULL ? w[b] * eloc_im[b] : 0.0;
    }
    for (size_t b = 0; b < n; b++) {
        var += w[b] * (eloc[b] - mean) * (eloc[b] - mean);
        const double d = eloc_im != NULL ? eloc_im[b] - mean_im : 0.0;
        var_im += w[b] * d * d;
    }
    const double unbias = ess > 1.0 ? 1.0 / (1.0 - 1.0 / ess) : (double)NAN;
    var *= unbias;
    var_im *= unbias;
    est->n_samples = n;
    est->energy = mean;
    est->energy_error = sqrt(var / ess);
    est->energy_variance = var;
    est->vscore = (double)L * var / (mean * mean);
    est->relative_error = isnan(exact) ? (double)NAN : fabs((mean - exact) / exact);
    est->energy_imag = mean_im;
    est->energy_imag_error = sqrt(var_im / ess);
    est->projected_energy = est->projected_energy_error = est->projected_relative_error = NAN;
    est->overlap = est->overlap_error = NAN;
}

static int tdvp(ars_vmc *v, uint64_t stream, int reweight, int imaginary, double diag_shift,
                double *theta_dot, ars_vmc_tdvp_info *info);

int ars_vmc_tdvp(ars_vmc *v, uint64_t stream, int imaginary, double diag_shift, double *theta_dot,
                 ars_vmc_tdvp_info *info) {
    return tdvp(v, stream, 0, imaginary, diag_shift, theta_dot, info);
}

int ars_vmc_tdvp_reweighted(ars_vmc *v, int imaginary, double diag_shift, double *theta_dot,
                            ars_vmc_tdvp_info *info) {
    return tdvp(v, 0, 1, imaginary, diag_shift, theta_dot, info);
}

static int tdvp(ars_vmc *v, uint64_t stream, int reweight, int imaginary, double diag_shift,
                double *theta_dot, ars_vmc_tdvp_info *info) {
    double tp[ARS_VMC_N_PHASES + 1] = {ars_wtime()};
    const size_t n = v->set.n_samples, P_mod = v->P_mod;
    ARS_ASSERT(imaginary || v->phase != NULL, "real-time evolution needs a phase network");
    int n_bad = 0;
    int rc = differentiate(v, stream, !reweight, ARS_DTYPE_FLOAT64, tp, &n_bad);
    if (rc != ARS_OK) {
        return rc;
    }
    double *w = reweight ? v->weights : NULL;
    ars_vmc_estimate *est = &info->estimate;
    if (reweight) {
        info->ess = importance_weights(v, w);
        weighted_estimate(est, v->eloc, v->eloc_im, w, n, info->ess, v->net->arch.hilbert.size,
                          v->set.exact_energy);
    } else {
        /* These samples are the reference of the reweighted evaluations after this one. */
        memcpy(v->log_psi_ref, v->log_psi, n * sizeof(double));
        info->ess = (double)n;
        estimate(est, v->eloc, v->eloc_im, n, v->net->arch.hilbert.size, v->set.exact_energy);
    }
    if (n_bad > 0 || !isfinite(est->energy) || !isfinite(est->energy_variance)) {
        return ARS_ERR(ARS_STATUS_ENONFINITE, "the local energies are not finite (%d bad)", n_bad);
    }
    v->sr->weights = w;
    if (v->sr_phase != NULL) {
        v->sr_phase->weights = w;
    }
    /* Real time, S thetadot = Im <O^* E_loc>_c: the modulus block pairs with Im E_loc (+x/2),
     * the phase block with Re E_loc (-x/2). Imaginary time, S thetadot = -Re <O^* E_loc>_c: the
     * modulus block pairs with Re E_loc, the phase block with Im E_loc (both -x/2): an SR step.
     * ars_sr_direction solves (S + shift) x = 2 <O_c (E - <E>)> (docs/evolution.md). */
    double rhs_norm = 0.0;  /* (not used: the direction is the step) */
    v->sr->skip_metric = 1; /* the steps' length is the integrator's business here */
    if (v->sr_phase != NULL) {
        v->sr_phase->skip_metric = 1;
    }
    const double *e_mod = imaginary ? v->eloc : v->eloc_im;
    const double m_mod = imaginary ? est->energy : est->energy_imag;
    rc = ars_sr_direction(v->sr, theta_dot, &rhs_norm, v->O, e_mod, m_mod, diag_shift, 1, NULL);
    if (rc == ARS_OK && v->phase != NULL) {
        rc = ars_sr_direction(v->sr_phase, theta_dot + P_mod, &rhs_norm, v->O + P_mod * n,
                              imaginary ? v->eloc_im : v->eloc,
                              imaginary ? est->energy_imag : est->energy, diag_shift, 1, NULL);
    }
    v->sr->weights = NULL;
    if (v->sr_phase != NULL) {
        v->sr_phase->weights = NULL;
    }
    if (rc != ARS_OK) {
        return rc;
    }
    const double sign_mod = imaginary ? -0.5 : 0.5;
    for (size_t k = 0; k < v->P; k++) {
        theta_dot[k] *= k < P_mod ? sign_mod : -0.5;
        if (!isfinite(theta_dot[k])) {
            return ARS_ERR(ARS_STATUS_ENONFINITE, "the parameters' time derivative is not finite");
        }
    }
    /* Schmitt & Heyl's residual r^2 = |d psi - d psi_exact|^2 / |d psi_exact|^2 on these
     * samples, with d log psi_exact = -i dE (real time) or -dE (imaginary). */
    double *a = v->tdvp_ws, *c = v->tdvp_ws + n;
    tangent(v, theta_dot, a, c);
    double num = 0.0, den = 0.0;
    for (size_t b = 0; b < n; b++) {
        /* The tangent's columns carry sqrt(n w_b) with weights (sr.h): so does the target. */
        const double sb = reweight ? sqrt((double)n * v->weights[b]) : 1.0;
        const double dr = sb * (v->eloc[b] - est->energy);
        const double di = v->eloc_im != NULL ? sb * (v->eloc_im[b] - est->energy_imag) : 0.0;
        const double re = imaginary ? a[b] + dr : a[b] - di;
        const double im = imaginary ? c[b] + di : c[b] + dr;
        num += re * re + im * im;
        den += dr * dr + di * di;
    }
    info->residual = den > 0.0 ? num / den : 0.0;
    return ARS_OK;
}
