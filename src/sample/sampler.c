/*
 * sampler: exact ancestral sampling, OpenMP-parallel over independently seeded chunks; see
 * sampler.h for the stream layout that makes the samples independent of the thread count, and
 * for the two algorithms (cached O(L), full O(L^2) reference).
 */
#include "sample/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "nn/activation.h"
#include "core/ars_common.h"
#include "nn/maskedconv1d.h"

/* Ring length of layer l: the largest input offset it reads, plus the current site. */
static int ring_length(const ars_arnn *net, int l) {
    const ars_conv *c = &net->layer[l];
    long need = (long)ars_conv_shift(c, 0) + 1; /* tap 0 reads the farthest site */
    return need < net->arch.hilbert.size ? (int)need : net->arch.hilbert.size;
}

size_t ars_sampler_slot_bytes(const ars_arch *arch, int chunk_size, ars_sampler_algorithm algorithm,
                              ars_dtype dtype) {
    const size_t real = dtype == ARS_DTYPE_FLOAT32 ? sizeof(float) : sizeof(double);
    const size_t B = (size_t)chunk_size, D = (size_t)arch->hilbert.local_size;
    /* The uniforms, the prefix sums of the sector mask, and the group's scratch. */
    size_t common = B * (sizeof(double) + sizeof(int));
    if (arch->symmetry != ARS_SYM_NONE) {
        const size_t G = (size_t)ars_sym_order(arch->symmetry, arch->hilbert.size);
        common += B * ((size_t)arch->hilbert.size + G * sizeof(double)) + G * sizeof(double);
    }
    if (algorithm == ARS_SAMPLER_FULL) {
        return ars_arnn_ws_bytes(arch, chunk_size) + D * B * real + common;
    }
    size_t fmax = 0, per_b = 0;
    int cin = ars_arch_input_channels(arch);
    for (int l = 0; l < arch->layers; l++) {
        long reach = (long)(arch->kernel_size - 1) * arch->dilation[l] + 1;
        size_t R = reach < arch->hilbert.size ? (size_t)reach : (size_t)arch->hilbert.size;
        per_b += R * (size_t)cin;
        cin = arch->features[l];
        fmax = (size_t)cin > fmax ? (size_t)cin : fmax;
    }
    return (per_b + fmax + 2 * D) * B * real + common;
}

ars_sampler *ars_sampler_alloc(const ars_arnn *net, int chunk_size, int n_threads,
                               ars_sampler_algorithm algorithm, ars_dtype dtype) {
    ARS_ASSERT(chunk_size >= 1, "chunk_size %d", chunk_size);
    ARS_ASSERT(algorithm == ARS_SAMPLER_CACHED || dtype == ARS_DTYPE_FLOAT64,
               "the full-forward sampler is float64 only");
    ars_sampler *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return NULL;
    }
    const ars_arch *arch = &net->arch;
    const size_t B = (size_t)chunk_size, D = (size_t)arch->hilbert.local_size;
    const size_t real = dtype == ARS_DTYPE_FLOAT32 ? sizeof(float) : sizeof(double);
    s->net = net;
    s->chunk_size = chunk_size;
    s->algorithm = algorithm;
    s->dtype = dtype;
    s->n_slots = n_threads > 0 ? n_threads : omp_get_max_threads();
    size_t fmax = 1;
    for (int l = 0; l < arch->layers; l++) {
        s->ring_len[l] = ring_length(net, l);
        fmax = (size_t)arch->features[l] > fmax ? (size_t)arch->features[l] : fmax;
    }
    if (dtype == ARS_DTYPE_FLOAT32) {
        s->params_f = malloc(net->n_params * sizeof(float));
        if (s->params_f == NULL) {
            goto fail;
        }
    }
    s->slot = calloc((size_t)s->n_slots, sizeof(ars_sampler_slot));
    if (s->slot == NULL) {
        goto fail;
    }
    for (int i = 0; i < s->n_slots; i++) {
        ars_sampler_slot *sl = &s->slot[i];
        sl->rng = ars_rng_alloc();
        sl->p = malloc(D * B * real);
        sl->u = malloc(B * sizeof(double));
        sl->msum = malloc(B * sizeof(int));
        if (sl->rng == NULL || sl->p == NULL || sl->u == NULL || sl->msum == NULL) {
            goto fail;
        }
        if (arch->symmetry != ARS_SYM_NONE) {
            sl->gcfg = malloc(B * (size_t)arch->hilbert.size);
            const size_t G = (size_t)ars_sym_order(arch->symmetry, arch->hilbert.size);
            sl->glp = malloc(G * B * sizeof(double));
            sl->gx = malloc(G * sizeof(double));
            if (sl->gcfg == NULL || sl->glp == NULL || sl->gx == NULL) {
                goto fail;
            }
        }
        if (algorithm == ARS_SAMPLER_FULL) {
            sl->ws = ars_arnn_ws_alloc(net, chunk_size);
            if (sl->ws == NULL) {
                goto fail;
            }
            continue;
        }
        sl->z = malloc(fmax * B * real);
        sl->lpsi = malloc(D * B * real);
        if (sl->z == NULL || sl->lpsi == NULL) {
            goto fail;
        }
        for (int l = 0; l < arch->layers; l++) {
            sl->ring[l] = malloc((size_t)s->ring_len[l] * (size_t)net->layer[l].cin * B * real);
            if (sl->ring[l] == NULL) {
                goto fail;
            }
        }
    }
    ars_sampler_sync(s);
    return s;
fail:
    ars_sampler_free(s);
    return NULL;
}

void ars_sampler_free(ars_sampler *s) {
    if (s == NULL) {
        return;
    }
    for (int i = 0; s->slot != NULL && i < s->n_slots; i++) {
        ars_sampler_slot *sl = &s->slot[i];
        ars_arnn_ws_free(sl->ws);
        for (int l = 0; l < ARS_MAX_LAYERS; l++) {
            free(sl->ring[l]);
        }
        free(sl->z);
        free(sl->lpsi);
        free(sl->p);
        free(sl->u);
        free(sl->msum);
        free(sl->gcfg);
        free(sl->glp);
        free(sl->gx);
        if (sl->rng != NULL) {
            gsl_rng_free(sl->rng);
        }
    }
    free(s->slot);
    free(s->params_f);
    free(s);
}

void ars_sampler_keep_images(ars_sampler *s, double *images, size_t ld) {
    s->images = images;
    s->images_ld = images != NULL ? ld : 0;
}

void ars_sampler_sync(ars_sampler *s) {
    if (s->params_f != NULL) {
        for (size_t i = 0; i < s->net->n_params; i++) {
            s->params_f[i] = (float)s->net->params[i];
        }
    }
}

/* ---- the chunk loops, once per precision ------------------------------------------------- */

#define REAL double
#define NAME(x) x
#include "sample/sampler_chunk.h"
#undef REAL
#undef NAME

#define REAL float
#define NAME(x) x##_f
#include "sample/sampler_chunk.h"
#undef REAL
#undef NAME

/* The full-forward reference over one chunk (float64): site t is drawn from a forward pass over
 * sites 0..t; evaluation needs one pass over all sites. */
static int full_chunk(const ars_sampler *s, ars_sampler_slot *sl, uint8_t *out, const uint8_t *cfg,
                      double *lp, double *lpsi_out, int B, gsl_rng *r) {
    const ars_arnn *net = s->net;
    const int L = net->arch.hilbert.size, D = net->arch.hilbert.local_size;
    int bad = 0;
    for (int b = 0; b < B; b++) {
        lp[b] = 0.0;
    }
    if (r == NULL) {
        ars_arnn_forward(cfg, net, sl->ws, B, L);
    }
    for (int t = 0; t < L; t++) {
        if (r != NULL) {
            ars_arnn_forward(cfg, net, sl->ws, B, t + 1);
        }
        const double *lpsi = sl->ws->lpsi + (size_t)t * D * B;
        if (r != NULL) {
            bad += draw_site(out, (size_t)L, t, lp, lpsi, sl->p, sl->u, D, B, r);
        } else {
            take_site(cfg, L, t, lp, lpsi_out, lpsi, D, B);
        }
    }
    return bad;
}

/* The plain network over B samples of one chunk with the chosen algorithm and precision: draws
 * into out with r (in == out), or evaluates in (r == NULL). */
static int chunk_pass(const ars_sampler *s, ars_sampler_slot *sl, uint8_t *out, const uint8_t *in,
                      double *lp, double *lo, int B, gsl_rng *r) {
    const ars_arnn *net = s->net;
    if (s->algorithm == ARS_SAMPLER_FULL) {
        return full_chunk(s, sl, out, in, lp, lo, B, r);
    }
    if (s->dtype == ARS_DTYPE_FLOAT32) {
        return cached_chunk_f(s, sl, s->params_f, out, in, lp, lo, B, r);
    }
    return cached_chunk(s, sl, net->params, out, in, lp, lo, B, r);
}

/* Symmetrisation of a chunk whose plain log p is in lp (sampler.h): log p(g s) for the other
 * elements of the rows cfg (B, L), then, when drawing (out == cfg, r != NULL), a random element
 * applied to each sample; lp = log p_sym. */
static int symmetrize_chunk(const ars_sampler *s, ars_sampler_slot *sl, uint8_t *out,
                            const uint8_t *cfg, double *lp, int B, gsl_rng *r, uint64_t key,
                            double *images) {
    const ars_arch *arch = &s->net->arch;
    const int L = arch->hilbert.size, D = arch->hilbert.local_size;
    const int G = ars_sym_order(arch->symmetry, L);
    int bad = 0;
    memcpy(sl->glp, lp, (size_t)B * sizeof(double));
    for (int k = 1; k < G; k++) {
        ars_sym_apply(sl->gcfg, cfg, (size_t)B, L, D, ars_sym_element(arch->symmetry, L, k));
        bad += chunk_pass(s, sl, NULL, sl->gcfg, sl->glp + (size_t)k * B, NULL, B, NULL);
    }
    if (r != NULL) {
        ars_rng_seed(r, key);
    }
    for (int b = 0; b < B; b++) {
        unsigned gb = 0;
        if (r != NULL) {
            gb = ars_sym_element(arch->symmetry, L, (int)gsl_rng_uniform_int(r, (unsigned long)G));
            ars_sym_apply(out + (size_t)b * L, out + (size_t)b * L, 1, L, D, gb);
        }
        /* log p(g' g_b s) = glp[index of g' g_b], summed in the order of g'. */
        for (int k = 0; k < G; k++) {
            const unsigned g = ars_sym_compose(ars_sym_element(arch->symmetry, L, k), gb, L);
            sl->gx[k] = sl->glp[(size_t)ars_sym_index(arch->symmetry, L, g) * B + b];
            if (images != NULL) {
                images[(size_t)k * s->images_ld + (size_t)b] = sl->gx[k];
            }
        }
        lp[b] = ars_logsumexp(sl->gx, G, 1) - log((double)G);
    }
    return bad;
}

/* One chunk with slot `sl`: rows [chunk*chunk_size, ...) of cfg, log_prob and lpsi_out.
 * Draws into cfg_out when it is not NULL, else evaluates cfg_in. */
static int run_chunk(const ars_sampler *s, ars_sampler_slot *sl, uint8_t *cfg_out,
                     const uint8_t *cfg_in, double *log_prob, double *lpsi_out, size_t n,
                     size_t chunk, uint64_t seed, uint64_t iteration) {
    const ars_arnn *net = s->net;
    const int L = net->arch.hilbert.size, D = net->arch.hilbert.local_size;
    const size_t start = chunk * (size_t)s->chunk_size;
    const int B = (int)(n - start < (size_t)s->chunk_size ? n - start : (size_t)s->chunk_size);
    uint8_t *out = cfg_out != NULL ? cfg_out + start * (size_t)L : NULL;
    const uint8_t *in = out != NULL ? out : cfg_in + start * (size_t)L;
    double *lp = log_prob + start;
    double *lo = lpsi_out != NULL ? lpsi_out + start * (size_t)L * D : NULL;
    gsl_rng *r = NULL;
    if (out != NULL) {
        r = sl->rng;
        ars_rng_seed(r, ars_stream_key(seed, ARS_STREAM_SAMPLE, iteration, chunk));
        memset(out, 0, (size_t)B * (size_t)L);
    }
    int bad = chunk_pass(s, sl, out, in, lp, lo, B, r);
    if (net->arch.symmetry != ARS_SYM_NONE) {
        ARS_ASSERT(s->images == NULL || start + (size_t)B <= s->images_ld,
                   "rows up to %zu, images kept for %zu", start + (size_t)B, s->images_ld);
        bad += symmetrize_chunk(s, sl, out, in, lp, B, r,
                                ars_stream_key(seed, ARS_STREAM_SYMMETRY, iteration, chunk),
                                s->images != NULL && out != NULL ? s->images + start : NULL);
    }
    return bad;
}

/* Runs every chunk once, in parallel (drawing into cfg_out, or evaluating cfg_in); returns the
 * number of non-finite probabilities. */
static int run_all(ars_sampler *s, uint8_t *cfg_out, const uint8_t *cfg_in, double *log_prob,
                   double *lpsi_out, size_t n, size_t c0, size_t c1, uint64_t seed,
                   uint64_t iteration, ars_progress *prog) {
    const size_t cs = (size_t)s->chunk_size;
    const size_t first = c0 * cs < n ? c0 * cs : n, end = c1 * cs < n ? c1 * cs : n;
    size_t done = 0;
    int n_bad = 0;
    /* One parallel region; chunks are independent, so the schedule cannot change the bits. */
#pragma omp parallel num_threads(s->n_slots) default(none)                                         \
    shared(s, cfg_out, cfg_in, log_prob, lpsi_out, n, seed, iteration, prog, done, c0, c1, cs,      \
               first, end) reduction(+ : n_bad)
    {
        const int slot = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for (size_t chunk = c0; chunk < c1; chunk++) {
            n_bad += run_chunk(s, &s->slot[slot], cfg_out, cfg_in, log_prob, lpsi_out, n, chunk,
                               seed, iteration);
            const size_t rows = n - chunk * cs < cs ? n - chunk * cs : cs;
            size_t now;
#pragma omp atomic capture
            now = done += rows;
            if (prog != NULL && slot == 0) {
                ars_progress_update(prog, now, end - first);
            }
        }
    }
    return n_bad;
}

int ars_sampler_draw(ars_sampler *s, uint8_t *cfg, double *log_prob, size_t n, uint64_t seed,
                     uint64_t iteration, ars_progress *prog) {
    const size_t cs = (size_t)s->chunk_size;
    return ars_sampler_draw_chunks(s, cfg, log_prob, n, 0, (n + cs - 1) / cs, seed, iteration,
                                   prog);
}

int ars_sampler_draw_chunks(ars_sampler *s, uint8_t *cfg, double *log_prob, size_t n, size_t c0,
                            size_t c1, uint64_t seed, uint64_t iteration, ars_progress *prog) {
    int n_bad = run_all(s, cfg, NULL, log_prob, NULL, n, c0, c1, seed, iteration, prog);
    if (n_bad > 0) {
        return ARS_ERR(ARS_STATUS_ENONFINITE,
                       "the network produced %d non-finite conditional probabilities while "
                       "sampling (are the variables finite and of moderate size?)",
                       n_bad);
    }
    return ARS_OK;
}

void ars_sampler_evaluate(ars_sampler *s, double *lpsi, double *log_prob, const uint8_t *cfg,
                          size_t n) {
    const size_t cs = (size_t)s->chunk_size;
    run_all(s, NULL, cfg, log_prob, lpsi, n, 0, (n + cs - 1) / cs, 0, 0, NULL);
}
