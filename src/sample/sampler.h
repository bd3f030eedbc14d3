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
 * Two algorithms give the same bits:
 *  - ARS_SAMPLER_CACHED (the default): O(L) work per sample. Per layer l a ring buffer keeps the
 *    layer's inputs at the last R_l = min((K-1) d_l + 1, L) sites, (R_l, C_l, B) per chunk
 *    (what NetKet's FastMaskedConv1D caches), so drawing site t costs one small product
 *    (B x K'C/g) (K'C/g x F) per layer for the chunk. Memory O(B x sum_l R_l C_l), never
 *    O(B x L x features).
 *  - ARS_SAMPLER_FULL: the simple reference: drawing site t runs the full network over sites
 *    0..t (O(L^2) per sample). float64 only.
 * Both evaluate each conditional with the network's one site function (ars_arnn_site), so the
 * conditionals, the draws and the samples are identical.
 *
 * In a sector (hilbert.h) both draw from the masked conditionals (arnn.h), so every sample lies
 * in the sector. A symmetrised network (symmetry.h) draws s as above, then evaluates log p(g s)
 * for every other group element g (the same pass as ars_sampler_evaluate), then replaces s by
 * g_b s with g_b drawn uniformly from the chunk's stream (seed, ARS_STREAM_SYMMETRY, iteration,
 * chunk), one integer per sample in batch order; log_prob is log p_sym of the returned sample.
 */
#ifndef ARS_SAMPLER_H
#define ARS_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "nn/arnn.h"
#include "core/ars_common.h"

typedef enum ars_sampler_algorithm {
    ARS_SAMPLER_CACHED = 0,
    ARS_SAMPLER_FULL,
} ars_sampler_algorithm;

/* Scratch of one thread (sized for one chunk). */
typedef struct ars_sampler_slot {
    ars_arnn_ws *ws;            /* FULL: the network's activations over all sites */
    void *ring[ARS_MAX_LAYERS]; /* CACHED: (R_l, C_l, B) inputs of layer l, float64/float32 */
    void *z;                    /* CACHED: (F_max, B) one layer's output at the current site */
    void *lpsi;                 /* CACHED: (D, B) conditional log-amplitudes of the site */
    void *p;                    /* (D, B) conditional probabilities of the site */
    double *u;                  /* (B) the site's uniforms */
    int *msum;                  /* (B) prefix sums of the values (sector mask) */
    uint8_t *gcfg;              /* (B, L) g s (symmetrised networks only) */
    double *glp;                /* (|G|, B) log p(g s) (symmetrised networks only) */
    double *gx;                 /* (|G|) one sample's log p(g' g_b s) (symmetrised only) */
    gsl_rng *rng;
} ars_sampler_slot;

typedef struct ars_sampler {
    const ars_arnn *net; /* not owned; call ars_sampler_sync after changing its parameters */
    int chunk_size;
    ars_sampler_algorithm algorithm;
    ars_dtype dtype;
    int ring_len[ARS_MAX_LAYERS]; /* R_l */
    float *params_f;              /* (P) float32 copy of net->params (FLOAT32 only) */
    int n_slots;                  /* one per thread */
    ars_sampler_slot *slot;       /* (n_slots) */
    double *images;               /* symmetrised draws: mp log psi(g_k s_b) -> [k * ld + b] */
    size_t images_ld;             /* (ars_sampler_keep_images); NULL: not kept */
} ars_sampler;

/* Allocates a sampler for `net` with scratch for `n_threads` threads (<= 0: the OpenMP
 * maximum). NULL on allocation failure. FULL requires FLOAT64 (asserted). */
ars_sampler *ars_sampler_alloc(const ars_arnn *net, int chunk_size, int n_threads,
                               ars_sampler_algorithm algorithm, ars_dtype dtype);
void ars_sampler_free(ars_sampler *s);

/* For a symmetrised network, the draws that follow also write each sample's images' log
 * probabilities, mp log psi(g_k s_b) for the group elements k in ars_sym_element's order, to
 * images[k * ld + b] (b < ld, the draw's row; the same values that log_prob's average is taken
 * over, in the sampler's precision). images = NULL stops it. */
void ars_sampler_keep_images(ars_sampler *s, double *images, size_t ld);

/* Refreshes what the sampler derives from the network's parameters (the float32 copy). */
void ars_sampler_sync(ars_sampler *s);

/* Bytes of scratch one thread needs (for messages and the memory check). */
size_t ars_sampler_slot_bytes(const ars_arch *arch, int chunk_size, ars_sampler_algorithm algorithm,
                              ars_dtype dtype);

/* Draws n samples: cfg (n, L) local indices and log_prob (n) = mp * log psi (accumulated in
 * float64 in both precisions). `prog` may be NULL. Returns ARS_OK, or ARS_STATUS_ENONFINITE if
 * the network produced a non-finite conditional. */
int ars_sampler_draw(ars_sampler *s, uint8_t *cfg, double *log_prob, size_t n, uint64_t seed,
                     uint64_t iteration, ars_progress *prog);

/* The same for the chunks [c0, c1) of the n samples only (rows c0 * chunk_size .. of cfg and
 * log_prob; the others are not touched): one MPI rank's share. Chunk k of the n samples has the
 * same stream, hence the same rows, whoever draws it. */
int ars_sampler_draw_chunks(ars_sampler *s, uint8_t *cfg, double *log_prob, size_t n, size_t c0,
                            size_t c1, uint64_t seed, uint64_t iteration, ars_progress *prog);

/* The sampler's own forward pass on given configurations cfg (n, L) ("teacher forcing": the
 * conditionals the sampler would use if it had drawn them): lpsi (n, L, D) (may be NULL; the
 * plain network's conditionals of cfg itself) and log_prob (n) (log p_sym for a symmetrised
 * network; -inf outside the sector). Same algorithm and precision as ars_sampler_draw. */
void ars_sampler_evaluate(ars_sampler *s, double *lpsi, double *log_prob, const uint8_t *cfg,
                          size_t n);

#endif
