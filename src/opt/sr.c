/*
 * sr: the update direction of a VMC step -- the energy gradient, or the natural gradient of
 * stochastic reconfiguration; the formulas are in sr.h.
 */
#include "opt/sr.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cblas.h> /* declares the CBLAS that OpenBLAS provides at link time */

#include "core/ars_common.h"

/* Rows and columns of a block of the Gram matrix: its lower triangle is cut into SR_TILE x
 * SR_TILE blocks, each one single-threaded BLAS call (dsyrk on the diagonal, dgemm below). With
 * float32 products the blocks are SR_TILE32 wide: OpenBLAS packs both operands of every block
 * again, and that packing was 40% of sgemm's own time with blocks of 256 (docs/performance.md,
 * step 11). */
#define SR_TILE 256
#define SR_TILE32 512

/* Rows and columns of a block of the Cholesky factorisation. */
#ifndef SR_CHOL_BLOCK
#define SR_CHOL_BLOCK 128
#endif

/* Samples per block of the spectral regularisation's projections (parameter space). */
#define SR_SNR_BLOCK 512

/* LAPACK's Cholesky factorisation and symmetric eigensolver (OpenBLAS provides them; Debian ships
 * no LAPACKE header). The trailing lengths are gfortran's hidden arguments of the character
 * arguments. */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);
void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a,
             const int *lda, const double *vl, const double *vu, const int *il, const int *iu,
             const double *abstol, int *m, double *w, double *z, const int *ldz, int *isuppz,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t range_len, size_t uplo_len);

/* Length of the block starting at i0 of an m-long side cut into blocks of `block`. */
static size_t block_len(size_t m, size_t i0, size_t block) {
    return m - i0 < block ? m - i0 : block;
}

/* Row i and column j <= i of entry t of a lower triangle numbered row by row (diagonal
 * included): row i holds entries i (i + 1) / 2 .. i (i + 1) / 2 + i. */
static void lower_triangle_entry(long t, long *i, long *j) {
    long r = 0;
    while ((r + 1) * (r + 2) / 2 <= t) {
        r++;
    }
    *i = r;
    *j = t - r * (r + 1) / 2;
}

int ars_sr_share(ars_sr *sr, const ars_comm *comm) {
    sr->comm = comm;
    if (comm == NULL || comm->size == 1 || sr->exch != NULL) {
        return ARS_OK;
    }
    const size_t m = sr->sample_space ? sr->n : sr->P;
    sr->exch = malloc((m * (m + SR_TILE) / 2 + SR_TILE) * sizeof(double)); /* >= the blocks */
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
    sr->wscale = malloc((n > 0 ? n : 1) * sizeof(double));
    const size_t nb = (m + SR_TILE - 1) / SR_TILE, n_tiles = nb * (nb + 1) / 2;
    sr->tile_owner = malloc((n_tiles > 0 ? n_tiles : 1) * sizeof *sr->tile_owner);
    if (sr->mat == NULL || sr->rhs == NULL || sr->yp == NULL || sr->wscale == NULL ||
        sr->tile_owner == NULL) {
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
    free(sr->wscale);
    free(sr->o32);
    free(sr->tile32);
    free(sr->exch);
    free(sr->tile_owner);
    free(sr->rank_work);
    free(sr->eig);
    free(sr->vecs);
    free(sr->work);
    free(sr->iwork);
    free(sr->proj);
    free(sr->noise);
    free(sr->isuppz);
    free(sr);
}

int ars_sr_set_float32(ars_sr *sr) {
    if (sr->o32 == NULL) {
        sr->o32 = malloc((sr->P * sr->n > 0 ? sr->P * sr->n : 1) * sizeof(float));
        sr->tile32_slots = omp_get_max_threads();
        sr->tile32 = malloc((size_t)sr->tile32_slots * SR_TILE32 * SR_TILE32 * sizeof(float));
    }
    return sr->o32 != NULL && sr->tile32 != NULL ? ARS_OK : ARS_STATUS_ENOMEM;
}

/* The lower triangle of an m x m Gram matrix in blocks: nb = ceil(m / tile) block rows and
 * nb (nb + 1) / 2 blocks, numbered with the nb (nb - 1) / 2 full dgemm blocks first (row by
 * row) and the nb half-cost diagonal ones last, so that a dynamic schedule ends on small work.
 * Block t covers rows [i0, i0 + h) and columns [j0, j0 + w). */
typedef struct {
    size_t i0, j0, h, w;
} gram_block;

static gram_block block_of(size_t m, long t, size_t tile) {
    const long nb = (long)((m + tile - 1) / tile), n_off = nb * (nb - 1) / 2;
    long bi = 0, bj = 0;
    if (t < n_off) {
        /* The strict lower triangle: row bi holds blocks (bi, 0) .. (bi, bi - 1). */
        lower_triangle_entry(t, &bi, &bj);
        bi++;
    } else {
        bi = bj = t - n_off;
    }
    gram_block k;
    k.i0 = (size_t)bi * tile;
    k.j0 = (size_t)bj * tile;
    k.h = block_len(m, k.i0, tile);
    k.w = block_len(m, k.j0, tile);
    return k;
}

/* G = alpha A^T A for A (r x m, ld m) if transa, else G = alpha A A^T for A (m x r, ld r):
 * G is m x m. Only the lower triangle is computed, block by block (one single-threaded BLAS
 * call each, so a block's bits do not depend on which thread or rank computes it; the OpenMP
 * build of OpenBLAS runs single-threaded inside a parallel region); gram() mirrors it into the
 * upper triangle for the eigensolver. With A32 (A in float32) a block is computed in float32
 * into its thread's scratch tile (tile32, SR_TILE32^2 floats per thread, `slots` threads) and
 * widened into G, times alpha. */
static void gram_tiles(double *G, const double *A, const float *A32, float *tile32, int slots,
                       size_t r, size_t m, double alpha, int transa, const int *owner, int rank) {
    const size_t tile = A32 != NULL ? SR_TILE32 : SR_TILE;
    const long nb = (long)((m + tile - 1) / tile), n_tiles = nb * (nb + 1) / 2;
#pragma omp parallel for num_threads(slots) schedule(dynamic, 1) default(none)                     \
    shared(G, A, A32, tile32, r, m, alpha, transa, n_tiles, owner, rank, tile)
    for (long t = 0; t < n_tiles; t++) {
        if (owner != NULL && owner[t] != rank) {
            continue;
        }
        const gram_block k = block_of(m, t, tile);
        double *g = G + k.i0 * m + k.j0;
        /* A's columns (transa) or rows [i0, i0 + h) and [j0, j0 + w). */
        const size_t oi = transa ? k.i0 : k.i0 * r, oj = transa ? k.j0 : k.j0 * r;
        const int lda = transa ? (int)m : (int)r;
        const enum CBLAS_TRANSPOSE ta = transa ? CblasTrans : CblasNoTrans;
        const enum CBLAS_TRANSPOSE tb = transa ? CblasNoTrans : CblasTrans;
        const int diag = k.i0 == k.j0;
        if (A32 == NULL && diag) {
            cblas_dsyrk(CblasRowMajor, CblasLower, ta, (int)k.h, (int)r, alpha, A + oi, lda, 0.0, g,
                        (int)m);
        } else if (A32 == NULL) {
            cblas_dgemm(CblasRowMajor, ta, tb, (int)k.h, (int)k.w, (int)r, alpha, A + oi, lda,
                        A + oj, lda, 0.0, g, (int)m);
        } else {
            float *buf = tile32 + (size_t)omp_get_thread_num() * SR_TILE32 * SR_TILE32;
            if (diag) {
                cblas_ssyrk(CblasRowMajor, CblasLower, ta, (int)k.h, (int)r, 1.0f, A32 + oi, lda,
                            0.0f, buf, SR_TILE32);
            } else {
                cblas_sgemm(CblasRowMajor, ta, tb, (int)k.h, (int)k.w, (int)r, 1.0f, A32 + oi, lda,
                            A32 + oj, lda, 0.0f, buf, SR_TILE32);
            }
            for (size_t i = 0; i < k.h; i++) {
                const size_t len = diag ? i + 1 : k.w;
                for (size_t j = 0; j < len; j++) {
                    g[i * m + j] = alpha * (double)buf[i * SR_TILE32 + j];
                }
            }
        }
    }
}

/* Entries of block k that are computed: a diagonal block's lower triangle. */
static size_t block_size(gram_block k) {
    return k.i0 == k.j0 ? k.h * (k.h + 1) / 2 : k.h * k.w;
}

/* Block t of G (a diagonal block's lower triangle) copied to (to_buf) or from a packed
 * buffer; returns its size. */
static size_t tile_copy(double *G, double *buf, size_t m, long t, size_t tile, int to_buf) {
    const gram_block k = block_of(m, t, tile);
    double *p = buf;
    for (size_t i = 0; i < k.h; i++) {
        double *g = G + (k.i0 + i) * m + k.j0;
        const size_t len = k.i0 == k.j0 ? i + 1 : k.w;
        memcpy(to_buf ? p : g, to_buf ? g : p, len * sizeof(double));
        p += len;
    }
    return block_size(k);
}

static void gram(ars_sr *sr, double *G, const double *A, size_t r, size_t m, double alpha,
                 int transa) {
    const float *A32 = sr->o32;
    const int slots = A32 != NULL ? sr->tile32_slots : omp_get_max_threads();
    const ars_comm *c = sr->comm;
    const size_t tile = A32 != NULL ? SR_TILE32 : SR_TILE;
    const long nb = (long)((m + tile - 1) / tile), n_tiles = nb * (nb + 1) / 2;
    if (c == NULL || c->size == 1) {
        gram_tiles(G, A, A32, sr->tile32, slots, r, m, alpha, transa, NULL, 0);
    } else {
        /* Blocks to ranks, in block order to the least loaded (the same on every rank). */
        size_t *load = sr->rank_work, *counts = load + c->size, *pos = counts + c->size;
        memset(load, 0, 2 * (size_t)c->size * sizeof *load);
        for (long t = 0; t < n_tiles; t++) {
            int best = 0;
            for (int q = 1; q < c->size; q++) {
                best = load[q] < load[best] ? q : best;
            }
            const size_t size = block_size(block_of(m, t, tile));
            sr->tile_owner[t] = best;
            load[best] += size;
            counts[best] += size;
        }
        gram_tiles(G, A, A32, sr->tile32, slots, r, m, alpha, transa, sr->tile_owner, c->rank);
        /* Pack mine, exchange, unpack everyone's in rank order. */
        size_t off = 0;
        size_t mine_off = 0;
        for (int q = 0; q < c->rank; q++) {
            mine_off += counts[q];
        }
        for (long t = 0; t < n_tiles; t++) {
            if (sr->tile_owner[t] == c->rank) {
                off += tile_copy(G, sr->exch + mine_off + off, m, t, tile, 1);
            }
        }
        ars_comm_allgatherv_doubles(c, sr->exch + mine_off, sr->exch, counts);
        pos[0] = 0;
        for (int q = 1; q < c->size; q++) {
            pos[q] = pos[q - 1] + counts[q - 1];
        }
        for (long t = 0; t < n_tiles; t++) {
            const int q = sr->tile_owner[t];
            pos[q] += tile_copy(G, sr->exch + pos[q], m, t, tile, 0);
        }
    }
    if (!sr->snr) {
        return; /* the Cholesky reads the lower triangle only */
    }
    /* The eigensolver reads the upper one. */
    for (size_t i = 0; i < m; i++) {
        for (size_t j = i + 1; j < m; j++) {
            G[i * m + j] = G[j * m + i];
        }
    }
}

/* Solves (G + shift I) y = b in place (b becomes y) by Cholesky, G + shift I = L L^T, reading
 * G's lower triangle. Right-looking and blocked in SR_CHOL_BLOCK blocks, every step
 * one single-threaded LAPACK or BLAS call on fixed blocks, so that the bits do not depend on the
 * thread count: for each block column k, the diagonal block's dpotrf (one thread), the blocks
 * below it times L_kk^-T (dtrsm, in parallel), then the trailing blocks minus L_ik L_jk^T
 * (dsyrk on the diagonal, dgemm below, in parallel). The two triangular solves follow (dtrsv).
 * One parallel region; OpenBLAS's OpenMP build runs single-threaded inside it. */
static int cholesky_solve(double *G, size_t m, double shift, double *b, int float32) {
    for (size_t i = 0; i < m; i++) {
        G[i * m + i] += shift;
    }
    const long nb = (long)((m + SR_CHOL_BLOCK - 1) / SR_CHOL_BLOCK);
    int failed = 0;
#pragma omp parallel default(none) shared(G, m, b, nb, failed)
    for (long k = 0; k < nb; k++) {
        const size_t k0 = (size_t)k * SR_CHOL_BLOCK, wk = block_len(m, k0, SR_CHOL_BLOCK);
        double *Akk = G + k0 * m + k0;
#pragma omp single
        {
            /* Column-major "U" on the row-major lower triangle: L = U^T. */
            const int nk = (int)wk, lda = (int)m;
            int info = 0;
            dpotrf_("U", &nk, Akk, &lda, &info, 1);
            failed = failed || info != 0;
        } /* implicit barrier: every thread sees failed */
        if (failed) {
            break;
        }
#pragma omp for schedule(dynamic, 1)
        for (long i = k + 1; i < nb; i++) {
            const size_t i0 = (size_t)i * SR_CHOL_BLOCK, hi = block_len(m, i0, SR_CHOL_BLOCK);
            cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)hi,
                        (int)wk, 1.0, Akk, (int)m, G + i0 * m + k0, (int)m);
        }
        /* Trailing blocks (i, j), k < j <= i, numbered row by row. */
        const long nt = nb - k - 1, n_upd = nt * (nt + 1) / 2;
#pragma omp for schedule(dynamic, 1)
        for (long t = 0; t < n_upd; t++) {
            long bi = 0, bj = 0;
            lower_triangle_entry(t, &bi, &bj);
            const size_t i0 = (size_t)(k + 1 + bi) * SR_CHOL_BLOCK,
                         j0 = (size_t)(k + 1 + bj) * SR_CHOL_BLOCK;
            const size_t hi = block_len(m, i0, SR_CHOL_BLOCK), wj = block_len(m, j0, SR_CHOL_BLOCK);
            const double *Lik = G + i0 * m + k0, *Ljk = G + j0 * m + k0;
            if (bi == bj) {
                cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)hi, (int)wk, -1.0, Lik,
                            (int)m, 1.0, G + i0 * m + i0, (int)m);
            } else {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)hi, (int)wj, (int)wk,
                            -1.0, Lik, (int)m, Ljk, (int)m, 1.0, G + i0 * m + j0, (int)m);
            }
        }
    }
    if (failed) {
        return ARS_ERR(ARS_STATUS_ENONFINITE,
                       "stochastic reconfiguration: S + diag_shift I is not positive definite "
                       "(or not finite); increase [vmc] diag_shift%s",
                       float32 ? ", or set sr_dtype = float64 (float32 products err by about "
                                 "1e-7 of S's largest entries, which outweighs a small shift)"
                               : "");
    }
    /* L z = b, L^T y = z. */
    const int saved_threads = ars_blas_serial_begin();
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)m, G, (int)m, b, 1);
    cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (int)m, G, (int)m, b, 1);
    ars_blas_serial_end(saved_threads);
    for (size_t i = 0; i < m; i++) {
        if (!isfinite(b[i])) {
            return ARS_ERR(ARS_STATUS_ENONFINITE,
                           "stochastic reconfiguration: the SR solution is not finite; increase "
                           "[vmc] diag_shift");
        }
    }
    return ARS_OK;
}

/* Rows of O per block of the row loops of sr_rows.h. Each row's sum runs over the samples in
 * order (a serial chain of adds, 4 cycles each); 8 rows at once run 8 chains side by side. The
 * blocks are independent, so the bits do not depend on the thread count. */
#define SR_ROWS 8

/* The products with the centred O, written once for O in float64 and for its float32 copy
 * (sr_rows.h: row_dots, block_dots, times_columns, metric_direct, times_rows). */
#define REAL double
#define NAME(x) x
#include "opt/sr_rows.h"
#undef REAL
#undef NAME
#define REAL float
#define NAME(x) x##_f
#include "opt/sr_rows.h"
#undef REAL
#undef NAME

/* Centres each row of O (P x n) over the samples: row -= its mean, in place; with o32, only the
 * float32 copy of the centred rows is written and O is left as it was (every product after the
 * centring then reads the copy: half the bytes, and O is not written back). With weights w (n,
 * summing to 1) the mean is sum_b w_b O[k, b] and column b is also scaled by scale[b] =
 * sqrt(n w_b) (sr.h). */
static void centre_rows(double *O, float *o32, const double *w, const double *scale, size_t P,
                        size_t n) {
    const long nblocks = (long)((P + SR_ROWS - 1) / SR_ROWS);
#pragma omp parallel for schedule(static) default(none) shared(O, o32, w, scale, P, n, nblocks)
    for (long kb = 0; kb < nblocks; kb++) {
        double sum[SR_ROWS];
        const size_t k0 = block_dots(sum, O, P, n, w, kb);
        const int nr = (int)block_len(P, k0, SR_ROWS);
        for (int r = 0; r < nr; r++) {
            double *row = O + (k0 + (size_t)r) * n;
            const double mean = w != NULL ? sum[r] : sum[r] / (double)n;
            float *rowf = o32 != NULL ? o32 + (k0 + (size_t)r) * n : NULL;
            if (w != NULL) {
                for (size_t b = 0; b < n; b++) {
                    const double c = scale[b] * (row[b] - mean);
                    if (rowf != NULL) {
                        rowf[b] = (float)c;
                    } else {
                        row[b] = c;
                    }
                }
            } else if (rowf != NULL) {
                for (size_t b = 0; b < n; b++) {
                    rowf[b] = (float)(row[b] - mean);
                }
            } else {
                for (size_t b = 0; b < n; b++) {
                    row[b] -= mean;
                }
            }
        }
    }
}

/* eps_b = 2 (E_b - E) / n, or with weights 2 sqrt(n w_b) (E_b - E) / n, so that F = Oc eps. */
static double eps_of(const ars_sr *sr, const double *eloc, double eloc_mean, size_t b) {
    const double d = 2.0 * (eloc[b] - eloc_mean) / (double)sr->n;
    return sr->weights != NULL ? sr->wscale[b] * d : d;
}

/* dsyevr on the m x m matrix a (destroyed): eigenvalues w ascending, eigenvectors as the rows
 * of z (LAPACK's column-major columns). lwork < 0: a workspace query into work[0], iwork[0].
 * Serial (as cholesky_solve) so that the bits do not depend on the thread count. */
static int eigensolve(double *a, int m, double *w, double *z, double *work, int lwork, int *iwork,
                      int liwork, int *isuppz) {
    const int lda = m > 1 ? m : 1, il = 0, iu = 0;
    const double vl = 0.0, vu = 0.0, abstol = 0.0;
    int found = 0, info = 0;
    const int saved_threads = ars_blas_serial_begin();
    dsyevr_("V", "A", "L", &m, a, &lda, &vl, &vu, &il, &iu, &abstol, &found, w, z, &lda, isuppz,
            work, &lwork, iwork, &liwork, &info, 1, 1, 1);
    ars_blas_serial_end(saved_threads);
    return info;
}

int ars_sr_set_snr(ars_sr *sr, double snr_tolerance, double pinv_tolerance) {
    ARS_ASSERT(snr_tolerance >= 0.0 && pinv_tolerance >= 0.0, "tolerances %g %g", snr_tolerance,
               pinv_tolerance);
    const size_t m = sr->sample_space ? sr->n : sr->P;
    sr->snr = 1;
    sr->snr_tolerance = snr_tolerance;
    sr->pinv_tolerance = pinv_tolerance;
    if (sr->eig != NULL) {
        return ARS_OK;
    }
    sr->eig = malloc((m + 1) * sizeof(double));
    sr->vecs = malloc((m * m + 1) * sizeof(double));
    sr->noise = malloc((2 * m + 1) * sizeof(double));
    sr->proj = malloc((sr->P * SR_SNR_BLOCK + 1) * sizeof(double));
    sr->isuppz = malloc((2 * m + 2) * sizeof(int));
    double wq = 0.0;
    int iq = 0;
    if (sr->eig == NULL || sr->vecs == NULL || sr->noise == NULL || sr->proj == NULL ||
        sr->isuppz == NULL ||
        eigensolve(sr->mat, (int)m, sr->eig, sr->vecs, &wq, -1, &iq, -1, sr->isuppz) != 0) {
        return ARS_STATUS_ENOMEM;
    }
    sr->lwork = (int)wq + 1;
    sr->liwork = iq + 1;
    sr->work = malloc((size_t)sr->lwork * sizeof(double));
    sr->iwork = malloc((size_t)sr->liwork * sizeof(int));
    return sr->work != NULL && sr->iwork != NULL ? ARS_OK : ARS_STATUS_ENOMEM;
}

/* r_k / (lambda_k + shift) of sr.h for the eigenvalues in sr->eig and the noise variances
 * in sr->noise (of the per-sample forces, whose mean is rho), in place of rho: rho_k becomes
 * rho_k r_k / (lambda_k + shift). */
static void spectral_filter(const ars_sr *sr, double *rho, size_t m, size_t n, double shift) {
    const double lmax = m > 0 ? sr->eig[m - 1] : 0.0;
    for (size_t k = 0; k < m; k++) {
        const double lam = sr->eig[k];
        if (!(lam > 1e-14 * lmax)) {
            rho[k] = 0.0;
            continue;
        }
        const double se = sqrt(sr->noise[k] / (double)n);
        const double snr = se > 0.0 ? fabs(rho[k]) / se : (double)INFINITY;
        const double cut = sr->pinv_tolerance * lmax / lam;
        const double noise = snr > 0.0 ? sr->snr_tolerance / snr : (double)INFINITY;
        const double r = 1.0 / (1.0 + pow(cut, 6)) / (1.0 + pow(noise, 6));
        rho[k] *= r / (lam + shift);
    }
}

/* The spectral solve of sr.h after the Gram matrix is in sr->mat: x (holding F on entry, P)
 * becomes the direction. O is centred; eps (n) = 2 (E_b - E) / n. */
static int spectral_solve(ars_sr *sr, double *x, const double *O, const double *eps, double shift) {
    const size_t P = sr->P, n = sr->n, m = sr->sample_space ? n : P;
    if (eigensolve(sr->mat, (int)m, sr->eig, sr->vecs, sr->work, sr->lwork, sr->iwork, sr->liwork,
                   sr->isuppz) != 0) {
        return ARS_ERR(ARS_STATUS_ENONFINITE,
                       "the TDVP's eigensolver failed on S (not finite?); regularization = snr");
    }
    double *rho = sr->noise + m; /* (m) the forces of the directions */
    if (sr->sample_space) {
        /* rho_k = c_k = u_k . eps = sum_b t_b, t_b = u_k[b] eps_b (proportional to v_k . f_b):
         * SNR_k = |c_k| / sqrt(sum_b (t_b - c_k / n)^2), which spectral_filter's
         * |rho_k| / sqrt(noise_k / n) gives with noise_k = n sum_b (t_b - c_k / n)^2. */
        for (size_t k = 0; k < m; k++) {
            const double *u = sr->vecs + k * m;
            double c = 0.0;
            for (size_t b = 0; b < n; b++) {
                c += u[b] * eps[b];
            }
            const double mean = c / (double)n;
            double var = 0.0;
            for (size_t b = 0; b < n; b++) {
                const double d = u[b] * eps[b] - mean;
                var += d * d;
            }
            sr->noise[k] = var * (double)n;
            rho[k] = c;
        }
        spectral_filter(sr, rho, m, n, shift);
        /* y = U (filtered c), then x = Oc y. */
        double *y = sr->rhs;
        memset(y, 0, n * sizeof(double));
        for (size_t k = 0; k < m; k++) {
            const double *u = sr->vecs + k * m;
            for (size_t b = 0; b < n; b++) {
                y[b] += u[b] * rho[k];
            }
        }
        (void)times_columns(x, O, y, P, n);
        return ARS_OK;
    }
    /* Parameter space: rho = V^T F, the noise from blocks of projections V^T Oc[:, block]. */
    double *vtf = rho;
    for (size_t k = 0; k < P; k++) {
        const double *v = sr->vecs + k * P;
        double s = 0.0;
        for (size_t p = 0; p < P; p++) {
            s += v[p] * x[p];
        }
        vtf[k] = s;
        sr->noise[k] = 0.0;
    }
    const int saved_threads = ars_blas_serial_begin();
    for (size_t b0 = 0; b0 < n; b0 += SR_SNR_BLOCK) {
        const size_t w = n - b0 < SR_SNR_BLOCK ? n - b0 : SR_SNR_BLOCK;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)P, (int)w, (int)P, 1.0,
                    sr->vecs, (int)P, O + b0, (int)n, 0.0, sr->proj, (int)w);
        for (size_t k = 0; k < P; k++) {
            const double *q = sr->proj + k * w;
            for (size_t j = 0; j < w; j++) {
                const double d = q[j] * eps[b0 + j] * (double)n - vtf[k];
                sr->noise[k] += d * d;
            }
        }
    }
    ars_blas_serial_end(saved_threads);
    for (size_t k = 0; k < P; k++) {
        sr->noise[k] /= (double)n;
    }
    spectral_filter(sr, vtf, P, n, shift);
    /* x = V^T (filtered rho) = sum_k v_k rho_k, directions in order. */
    memset(x, 0, P * sizeof(double));
    for (size_t k = 0; k < P; k++) {
        const double *v = sr->vecs + k * P;
        for (size_t p = 0; p < P; p++) {
            x[p] += v[p] * vtf[k];
        }
    }
    return ARS_OK;
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

/* The products with the centred O read its float32 copy o32 when there is one (sr.h), else O. */
static double oc_times_columns(double *x, const double *O, const float *o32, const double *eps,
                               size_t P, size_t n) {
    return o32 != NULL ? times_columns_f(x, o32, eps, P, n) : times_columns(x, O, eps, P, n);
}

/* x^T S x of the direction just solved, from one pass over the centred O; NaN after a failed
 * solve (rc) or with skip_metric. */
static double oc_metric(ars_sr *sr, const double *O, const float *o32, const double *x, int rc) {
    if (rc != ARS_OK || sr->skip_metric) {
        return (double)NAN;
    }
    return o32 != NULL ? metric_direct_f(sr->yp, o32, x, sr->P, sr->n)
                       : metric_direct(sr->yp, O, x, sr->P, sr->n);
}

static int sr_direction(ars_sr *sr, double *x, double *grad_norm, double *O, const double *eloc,
                        double eloc_mean, double diag_shift, int use_sr, const double *prior,
                        double *t_built) {
    const size_t P = sr->P, n = sr->n;
    /* With float32 products every product after the centring reads the centred float32 copy,
     * and O itself is left as it was (sr.h). */
    float *o32 = use_sr ? sr->o32 : NULL;
    ARS_ASSERT(o32 == NULL || !sr->snr, "the spectral regularisation reads O in float64");
    /* Centre O over the samples (sums in a fixed order). */
    /* Each column's weight factor sqrt(n w_b), once. */
    for (size_t b = 0; sr->weights != NULL && b < n; b++) {
        sr->wscale[b] = sqrt((double)n * sr->weights[b]);
    }
    centre_rows(O, o32, sr->weights, sr->wscale, P, n);
    double *eps = sr->rhs;
    for (size_t b = 0; b < n; b++) {
        eps[b] = eps_of(sr, eloc, eloc_mean, b);
    }
    *grad_norm = sqrt(oc_times_columns(x, O, o32, eps, P, n));
    if (!isfinite(*grad_norm)) {
        return ARS_ERR(ARS_STATUS_ENONFINITE, "the energy gradient is not finite");
    }
    if (!use_sr) {
        sr->step_metric = oc_metric(sr, O, o32, x, ARS_OK);
        return ARS_OK;
    }
    /* Parameter space: S = Oc Oc^T / n (P x P). Sample space: T = Oc^T Oc / n (n x n). */
    if (sr->sample_space) {
        gram(sr, sr->mat, O, P, n, 1.0 / (double)n, 1);
    } else {
        gram(sr, sr->mat, O, n, P, 1.0 / (double)n, 0);
    }
    *t_built = ars_wtime();
    if (sr->snr) {
        ARS_ASSERT(prior == NULL, "the spectral regularisation takes no prior");
        const int rc = spectral_solve(sr, x, O, eps, diag_shift);
        sr->step_metric = oc_metric(sr, O, o32, x, rc);
        return rc;
    }
    if (!sr->sample_space) {
        /* Solve (S + shift) x = F. */
        if (prior != NULL) {
            for (size_t k = 0; k < P; k++) {
                x[k] += diag_shift * prior[k];
            }
        }
        const int rc = cholesky_solve(sr->mat, P, diag_shift, x, o32 != NULL);
        sr->step_metric = oc_metric(sr, O, o32, x, rc);
        return rc;
    }
    /* Sample space: with A = Oc / sqrt(n), (A A^T + shift)^-1 A = A (A^T A + shift)^-1, so
     * x = (S + shift)^-1 Oc eps = Oc (T + shift)^-1 eps. */
    if (prior != NULL) {
        /* With a prior p: x = p + Oc (T + shift)^-1 (eps - Oc^T p / n). */
        double *yp = sr->yp;
        if (o32 != NULL) {
            times_rows_f(yp, o32, prior, P, n);
        } else {
            times_rows(yp, O, prior, P, n);
        }
        for (size_t b = 0; b < n; b++) {
            eps[b] -= yp[b] / (double)n;
        }
    }
    int rc = cholesky_solve(sr->mat, n, diag_shift, eps, o32 != NULL);
    if (rc != ARS_OK) {
        sr->step_metric = (double)NAN;
        return rc;
    }
    (void)oc_times_columns(x, O, o32, eps, P, n);
    if (prior != NULL) {
        for (size_t k = 0; k < P; k++) {
            x[k] += prior[k];
        }
    }
    /* x^T S x without another pass over O: with z = eps (now (T + shift)^-1 (eps0 - Oc^T p / n))
     * and eps0 the unchanged eps, Oc^T x = Oc^T p + n T z = n (eps0 - shift z). */
    double metric = 0.0;
    for (size_t b = 0; b < n; b++) {
        const double r = eps_of(sr, eloc, eloc_mean, b) - diag_shift * eps[b];
        metric += r * r;
    }
    sr->step_metric = metric * (double)n;
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
    /* S is block-diagonal (sr.h): the blocks' metrics add. */
    sr->step_metric += sr_phase->step_metric;
    *grad_norm = hypot(gm, gp);
    return rc;
}
