/*
 * sr: the update direction of a VMC step -- the energy gradient, or the natural gradient of
 * stochastic reconfiguration; the formulas are in sr.h.
 */
#include "opt/sr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cblas.h> /* declares the CBLAS that OpenBLAS provides at link time */
#include <omp.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>

#include "core/ars_common.h"

/* Columns per tile of the Gram-matrix products (each tile is one single-threaded dgemm). */
#define SR_TILE 128

int ars_sr_share(ars_sr *sr, const ars_comm *comm) {
    sr->comm = comm;
    if (comm == NULL || comm->size == 1 || sr->exch != NULL) {
        return ARS_OK;
    }
    const size_t m = sr->sample_space ? sr->n : sr->P;
    sr->exch = malloc((m * (m + SR_TILE) / 2 + SR_TILE) * sizeof(double));
    sr->rank_work = malloc(3 * (size_t)comm->size * sizeof *sr->rank_work);
    return sr->exch != NULL && sr->rank_work != NULL ? ARS_OK : ARS_STATUS_ENOMEM;
}

ars_sr *ars_sr_alloc(size_t P, size_t n) {
    ars_sr *sr = calloc(1, sizeof *sr);
    if (sr == NULL) {
        return NULL;
    }
    sr->P = P;
    sr->n = n;
    sr->sample_space = n < P;
    const size_t m = sr->sample_space ? n : P;
    sr->mat = malloc(m * m * sizeof(double));
    sr->rhs = malloc((n > P ? n : P) * sizeof(double));
    sr->yp = malloc((n > 0 ? n : 1) * sizeof(double));
    const size_t n_tiles = (m + SR_TILE - 1) / SR_TILE;
    sr->tile_owner = malloc((n_tiles > 0 ? n_tiles : 1) * sizeof *sr->tile_owner);
    if (sr->mat == NULL || sr->rhs == NULL || sr->yp == NULL || sr->tile_owner == NULL) {
        ars_sr_free(sr);
        return NULL;
    }
    return sr;
}

void ars_sr_free(ars_sr *sr) {
    if (sr == NULL) {
        return;
    }
    free(sr->mat);
    free(sr->rhs);
    free(sr->yp);
    free(sr->exch);
    free(sr->tile_owner);
    free(sr->rank_work);
    free(sr);
}

/* G = alpha A^T A for A (r x m, ld m) if transa, else G = alpha A A^T for A (m x r, ld r):
 * G is m x m. Only the lower triangle is computed, in column tiles of SR_TILE (one
 * single-threaded dgemm each: rows j0.. of columns j0..j0+w), then mirrored: half the flops. */
static void gram_tiles(double *G, const double *A, size_t r, size_t m, double alpha, int transa,
                       const int *owner, int rank) {
    const long n_tiles = (long)((m + SR_TILE - 1) / SR_TILE);
#pragma omp parallel for schedule(dynamic, 1) default(none)                                        \
    shared(G, A, r, m, alpha, transa, n_tiles, owner, rank)
    for (long tile = 0; tile < n_tiles; tile++) {
        if (owner != NULL && owner[tile] != rank) {
            continue;
        }
        const size_t j0 = (size_t)tile * SR_TILE;
        const size_t w = m - j0 < SR_TILE ? m - j0 : SR_TILE;
        const int rows = (int)(m - j0);
        if (transa) {
            /* G[j0:, j0:j0+w] = alpha A[:, j0:]^T A[:, j0:j0+w] */
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rows, (int)w, (int)r, alpha,
                        A + j0, (int)m, A + j0, (int)m, 0.0, G + j0 * m + j0, (int)m);
        } else {
            /* G[j0:, j0:j0+w] = alpha A[j0:, :] A[j0:j0+w, :]^T */
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, (int)w, (int)r, alpha,
                        A + j0 * r, (int)r, A + j0 * r, (int)r, 0.0, G + j0 * m + j0, (int)m);
        }
    }
}

/* Tile t's block G[j0:, j0:j0+w] copied to (to_buf) or from a packed buffer. */
static size_t tile_copy(double *G, double *buf, size_t m, long t, int to_buf) {
    const size_t j0 = (size_t)t * SR_TILE, w = m - j0 < SR_TILE ? m - j0 : SR_TILE;
    for (size_t i = j0; i < m; i++) {
        double *g = G + i * m + j0, *p = buf + (i - j0) * w;
        memcpy(to_buf ? p : g, to_buf ? g : p, w * sizeof(double));
    }
    return (m - j0) * w;
}

static void gram(ars_sr *sr, double *G, const double *A, size_t r, size_t m, double alpha,
                 int transa) {
    const ars_comm *c = sr->comm;
    const long n_tiles = (long)((m + SR_TILE - 1) / SR_TILE);
    if (c == NULL || c->size == 1) {
        gram_tiles(G, A, r, m, alpha, transa, NULL, 0);
    } else {
        /* Tiles to ranks, largest first to the least loaded (the same on every rank). */
        size_t *load = sr->rank_work, *counts = load + c->size, *pos = counts + c->size;
        memset(load, 0, 2 * (size_t)c->size * sizeof *load);
        for (long t = 0; t < n_tiles; t++) {
            int best = 0;
            for (int q = 1; q < c->size; q++) {
                best = load[q] < load[best] ? q : best;
            }
            const size_t j0 = (size_t)t * SR_TILE, w = m - j0 < SR_TILE ? m - j0 : SR_TILE;
            sr->tile_owner[t] = best;
            load[best] += (m - j0) * w;
            counts[best] += (m - j0) * w;
        }
        gram_tiles(G, A, r, m, alpha, transa, sr->tile_owner, c->rank);
        /* Pack mine, exchange, unpack everyone's in rank order. */
        size_t off = 0;
        size_t mine_off = 0;
        for (int q = 0; q < c->rank; q++) {
            mine_off += counts[q];
        }
        for (long t = 0; t < n_tiles; t++) {
            if (sr->tile_owner[t] == c->rank) {
                off += tile_copy(G, sr->exch + mine_off + off, m, t, 1);
            }
        }
        ars_comm_allgatherv_doubles(c, sr->exch + mine_off, sr->exch, counts);
        pos[0] = 0;
        for (int q = 1; q < c->size; q++) {
            pos[q] = pos[q - 1] + counts[q - 1];
        }
        for (long t = 0; t < n_tiles; t++) {
            const int q = sr->tile_owner[t];
            pos[q] += tile_copy(G, sr->exch + pos[q], m, t, 0);
        }
    }
    for (size_t i = 0; i < m; i++) {
        for (size_t j = i + 1; j < m; j++) {
            G[i * m + j] = G[j * m + i];
        }
    }
}

/* Solves (G + shift I) y = b in place (b becomes y) by Cholesky. GSL's blocked Cholesky calls
 * BLAS, and OpenBLAS's OpenMP build uses omp_get_max_threads() threads outside a parallel
 * region, so the calling thread's thread count is set to 1 for the call (and restored): the
 * result must not depend on it. */
static int cholesky_solve(double *G, size_t m, double shift, double *b) {
    for (size_t i = 0; i < m; i++) {
        G[i * m + i] += shift;
    }
    gsl_matrix_view Gv = gsl_matrix_view_array(G, m, m);
    gsl_vector_view bv = gsl_vector_view_array(b, m);
    const int saved_threads = omp_get_max_threads();
    omp_set_num_threads(1);
    const int status = gsl_linalg_cholesky_decomp1(&Gv.matrix);
    if (status == GSL_SUCCESS) {
        gsl_linalg_cholesky_svx(&Gv.matrix, &bv.vector);
    }
    omp_set_num_threads(saved_threads);
    if (status != GSL_SUCCESS) {
        return ARS_ERR(ARS_STATUS_ENONFINITE,
                       "stochastic reconfiguration: S + diag_shift I is not positive definite "
                       "(or not finite); increase [vmc] diag_shift");
    }
    return ARS_OK;
}

/* x = Oc eps for Oc (P x n, ld n): x[k] = sum_b Oc[k, b] eps[b], in sample order. Returns
 * |x|^2. */
static double times_columns(double *x, const double *O, const double *eps, size_t P, size_t n) {
    double norm2 = 0.0;
    for (size_t k = 0; k < P; k++) {
        const double *row = O + k * n;
        double s = 0.0;
        for (size_t b = 0; b < n; b++) {
            s += row[b] * eps[b];
        }
        x[k] = s;
        norm2 += s * s;
    }
    return norm2;
}

/* The two phases of ars_sr_direction, timed apart (sr.h). */
static int sr_direction(ars_sr *sr, double *x, double *grad_norm, double *O, const double *eloc,
                        double eloc_mean, double diag_shift, int use_sr, const double *prior,
                        double *t_built);

int ars_sr_direction(ars_sr *sr, double *x, double *grad_norm, double *O, const double *eloc,
                     double eloc_mean, double diag_shift, int use_sr, const double *prior) {
    ARS_ASSERT(use_sr || prior == NULL, "a prior needs SR");
    const double t0 = ars_wtime();
    double t1 = NAN;
    const int rc =
        sr_direction(sr, x, grad_norm, O, eloc, eloc_mean, diag_shift, use_sr, prior, &t1);
    const double t2 = ars_wtime();
    if (isnan(t1)) {
        t1 = t2;
    }
    sr->seconds_build = t1 - t0;
    sr->seconds_solve = t2 - t1;
    return rc;
}

static int sr_direction(ars_sr *sr, double *x, double *grad_norm, double *O, const double *eloc,
                        double eloc_mean, double diag_shift, int use_sr, const double *prior,
                        double *t_built) {
    const size_t P = sr->P, n = sr->n;
    /* Centre O over the samples (sums in a fixed order). */
    for (size_t k = 0; k < P; k++) {
        double *row = O + k * n;
        double s = 0.0;
        for (size_t b = 0; b < n; b++) {
            s += row[b];
        }
        const double mean = s / (double)n;
        for (size_t b = 0; b < n; b++) {
            row[b] -= mean;
        }
    }
    /* eps_b = (E_b - E) * 2/n, so that F = Oc eps. */
    double *eps = sr->rhs;
    for (size_t b = 0; b < n; b++) {
        eps[b] = 2.0 * (eloc[b] - eloc_mean) / (double)n;
    }
    *grad_norm = sqrt(times_columns(x, O, eps, P, n));
    if (!isfinite(*grad_norm)) {
        return ARS_ERR(ARS_STATUS_ENONFINITE, "the energy gradient is not finite");
    }
    if (!use_sr) {
        return ARS_OK;
    }
    if (!sr->sample_space) {
        /* S = Oc Oc^T / n (P x P); solve (S + shift) x = F. */
        gram(sr, sr->mat, O, n, P, 1.0 / (double)n, 0);
        *t_built = ars_wtime();
        if (prior != NULL) {
            for (size_t k = 0; k < P; k++) {
                x[k] += diag_shift * prior[k];
            }
        }
        return cholesky_solve(sr->mat, P, diag_shift, x);
    }
    /* Sample space: with A = Oc / sqrt(n), (A A^T + shift)^-1 A = A (A^T A + shift)^-1, so
     * x = (S + shift)^-1 Oc eps = Oc (T + shift)^-1 eps with T = Oc^T Oc / n (n x n). */
    gram(sr, sr->mat, O, P, n, 1.0 / (double)n, 1);
    *t_built = ars_wtime();
    if (prior != NULL) {
        /* With a prior p: x = p + Oc (T + shift)^-1 (eps - Oc^T p / n). */
        double *yp = sr->yp;
        memset(yp, 0, n * sizeof(double));
        for (size_t k = 0; k < P; k++) {
            const double *row = O + k * n;
            for (size_t b = 0; b < n; b++) {
                yp[b] += row[b] * prior[k];
            }
        }
        for (size_t b = 0; b < n; b++) {
            eps[b] -= yp[b] / (double)n;
        }
    }
    int rc = cholesky_solve(sr->mat, n, diag_shift, eps);
    if (rc != ARS_OK) {
        return rc;
    }
    (void)times_columns(x, O, eps, P, n);
    if (prior != NULL) {
        for (size_t k = 0; k < P; k++) {
            x[k] += prior[k];
        }
    }
    return ARS_OK;
}

int ars_sr_direction_split(ars_sr *sr, ars_sr *sr_phase, double *x, double *grad_norm, double *O,
                           const double *eloc, const double *eloc_im, double eloc_mean,
                           double eloc_im_mean, double diag_shift, int use_sr,
                           const double *prior) {
    ARS_ASSERT(sr->n == sr_phase->n, "%zu and %zu samples", sr->n, sr_phase->n);
    double gm = 0.0, gp = 0.0;
    int rc = ars_sr_direction(sr, x, &gm, O, eloc, eloc_mean, diag_shift, use_sr, prior);
    const double build = sr->seconds_build, solve = sr->seconds_solve;
    if (rc == ARS_OK) {
        rc = ars_sr_direction(sr_phase, x + sr->P, &gp, O + sr->P * sr->n, eloc_im, eloc_im_mean,
                              diag_shift, use_sr, prior != NULL ? prior + sr->P : NULL);
    }
    sr->seconds_build = build + sr_phase->seconds_build;
    sr->seconds_solve = solve + sr_phase->seconds_solve;
    *grad_norm = hypot(gm, gp);
    return rc;
}
