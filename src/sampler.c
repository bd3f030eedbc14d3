/*
 * sampler: exact ancestral sampling, OpenMP-parallel over independently seeded chunks; see
 * sampler.h for the stream layout that makes the samples independent of the thread count.
 */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "ars_common.h"

ars_sampler *ars_sampler_alloc(const ars_arnn *net, int chunk_size, int n_threads) {
    ARS_ASSERT(chunk_size >= 1, "chunk_size %d", chunk_size);
    ars_sampler *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return NULL;
    }
    s->net = net;
    s->chunk_size = chunk_size;
    s->n_slots = n_threads > 0 ? n_threads : omp_get_max_threads();
    s->ws = calloc((size_t)s->n_slots, sizeof(ars_arnn_ws *));
    s->lpsi = calloc((size_t)s->n_slots, sizeof(double *));
    s->rng = calloc((size_t)s->n_slots, sizeof(gsl_rng *));
    if (s->ws == NULL || s->lpsi == NULL || s->rng == NULL) {
        goto fail;
    }
    const size_t lpsi_len =
        (size_t)chunk_size * (size_t)net->arch.hilbert.size * (size_t)net->arch.hilbert.local_size;
    for (int i = 0; i < s->n_slots; i++) {
        s->ws[i] = ars_arnn_ws_alloc(net, chunk_size);
        s->lpsi[i] = malloc(lpsi_len * sizeof(double));
        s->rng[i] = ars_rng_alloc();
        if (s->ws[i] == NULL || s->lpsi[i] == NULL || s->rng[i] == NULL) {
            goto fail;
        }
    }
    return s;
fail:
    ars_sampler_free(s);
    return NULL;
}

void ars_sampler_free(ars_sampler *s) {
    if (s == NULL) {
        return;
    }
    for (int i = 0; i < s->n_slots; i++) {
        if (s->ws != NULL) {
            ars_arnn_ws_free(s->ws[i]);
        }
        if (s->lpsi != NULL) {
            free(s->lpsi[i]);
        }
        if (s->rng != NULL && s->rng[i] != NULL) {
            gsl_rng_free(s->rng[i]);
        }
    }
    free(s->ws);
    free(s->lpsi);
    free(s->rng);
    free(s);
}

int ars_sampler_draw_chunk(ars_sampler *s, int slot, uint8_t *cfg, double *log_prob, size_t n,
                           size_t chunk, uint64_t seed, uint64_t iteration) {
    const ars_arnn *net = s->net;
    const int L = net->arch.hilbert.size, D = net->arch.hilbert.local_size;
    const double mp = ARS_MACHINE_POW;
    const size_t start = chunk * (size_t)s->chunk_size;
    ARS_ASSERT(start < n, "chunk %zu starts past %zu samples", chunk, n);
    const int B = (int)(n - start < (size_t)s->chunk_size ? n - start : (size_t)s->chunk_size);
    uint8_t *c = cfg + start * (size_t)L;
    double *lp = log_prob + start;
    double *lpsi = s->lpsi[slot];
    gsl_rng *r = s->rng[slot];
    int n_bad = 0;

    ars_rng_seed(r, ars_stream_key(seed, ARS_STREAM_SAMPLE, iteration, chunk));
    memset(c, 0, (size_t)B * (size_t)L);
    for (int b = 0; b < B; b++) {
        lp[b] = 0.0;
    }
    for (int t = 0; t < L; t++) {
        /* The conditionals of site t need the sites drawn so far only. */
        ars_arnn_conditionals(lpsi, c, net, s->ws[slot], B, t + 1);
        for (int b = 0; b < B; b++) {
            const double *q = lpsi + ((size_t)b * L + t) * D;
            const double u = gsl_rng_uniform(r);
            double cum = 0.0;
            int pick = -1, last_nonzero = 0;
            for (int i = 0; i < D; i++) {
                double p = exp(mp * q[i]);
                if (!isfinite(p)) {
                    n_bad++;
                }
                if (p > 0.0) {
                    last_nonzero = i;
                }
                cum += p;
                if (pick < 0 && u < cum) {
                    pick = i;
                }
            }
            /* Rounding can leave cum slightly below 1; u then falls in the last state. */
            if (pick < 0) {
                pick = last_nonzero;
            }
            c[(size_t)b * L + t] = (uint8_t)pick;
            lp[b] += mp * q[pick];
        }
    }
    return n_bad;
}

int ars_sampler_draw(ars_sampler *s, uint8_t *cfg, double *log_prob, size_t n, uint64_t seed,
                     uint64_t iteration, ars_progress *prog) {
    const size_t n_chunks = (n + (size_t)s->chunk_size - 1) / (size_t)s->chunk_size;
    size_t done = 0;
    int n_bad = 0;
    /* One parallel region; chunks are independent, so the schedule cannot change the bits. */
#pragma omp parallel num_threads(s->n_slots) default(none)                                            \
    shared(s, cfg, log_prob, n, seed, iteration, prog, done, n_chunks) reduction(+ : n_bad)
    {
        const int slot = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for (size_t chunk = 0; chunk < n_chunks; chunk++) {
            n_bad += ars_sampler_draw_chunk(s, slot, cfg, log_prob, n, chunk, seed, iteration);
            size_t now;
#pragma omp atomic capture
            now = done += (n - chunk * (size_t)s->chunk_size < (size_t)s->chunk_size
                               ? n - chunk * (size_t)s->chunk_size
                               : (size_t)s->chunk_size);
            if (prog != NULL && slot == 0) {
                ars_progress_update(prog, now, n);
            }
        }
    }
    if (n_bad > 0) {
        return ARS_ERR(ARS_STATUS_ENONFINITE,
                       "the network produced %d non-finite conditional probabilities while "
                       "sampling (are the variables finite and of moderate size?)",
                       n_bad);
    }
    return ARS_OK;
}
