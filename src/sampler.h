/*
 * sampler: exact autoregressive (ancestral) sampling of an ars_arnn.
 *
 * The n requested samples are cut into chunks of chunk_size consecutive samples (the last one
 * may be shorter). Chunk c draws from its own MT19937 stream keyed by (seed, ARS_STREAM_SAMPLE,
 * iteration, c), one uniform per sample and site, site-major within the chunk: for t = 0..L-1,
 * for b in the chunk, s[b,t] = the first local index i with u < p_0 + ... + p_i, where
 * p_i = exp(mp lpsi[b,t,i]). Chunks are independent, so OpenMP may run them on any thread in
 * any order and the samples are bitwise the same for every thread count.
 *
 * This is the simple sampler: drawing site t runs the network over sites 0..t (the outputs at
 * sites <= t do not depend on later inputs), O(L^2) work per sample.
 */
#ifndef ARS_SAMPLER_H
#define ARS_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "arnn.h"
#include "ars_common.h"

typedef struct ars_sampler {
    const ars_arnn *net; /* not owned */
    int chunk_size;
    int n_slots;      /* workspaces, one per thread */
    ars_arnn_ws **ws; /* (n_slots) */
    double **lpsi;    /* (n_slots) x (chunk_size, L, D) */
    gsl_rng **rng;    /* (n_slots) */
} ars_sampler;

/* Allocates a sampler for `net` with workspaces for `n_threads` threads (<= 0: the OpenMP
 * maximum). NULL on allocation failure. */
ars_sampler *ars_sampler_alloc(const ars_arnn *net, int chunk_size, int n_threads);
void ars_sampler_free(ars_sampler *s);

/* Draws n samples: cfg (n, L) local indices and log_prob (n) = mp * log psi. `prog` may be
 * NULL. Returns ARS_OK or ARS_STATUS_ENONFINITE if the network produced a non-finite
 * conditional. */
int ars_sampler_draw(ars_sampler *s, uint8_t *cfg, double *log_prob, size_t n, uint64_t seed,
                     uint64_t iteration, ars_progress *prog);

/* Draws chunk `chunk` (samples [chunk*chunk_size, ...)) alone into cfg/log_prob rows of that
 * chunk, with workspace slot `slot`. Returns the number of non-finite conditionals met. */
int ars_sampler_draw_chunk(ars_sampler *s, int slot, uint8_t *cfg, double *log_prob, size_t n,
                           size_t chunk, uint64_t seed, uint64_t iteration);

#endif
