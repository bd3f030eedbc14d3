/*
 * exact: free-fermion TFIM energies, matrix-free restarted Lanczos and blocked dense
 * diagonalisation; the formulas and algorithms are described in exact.h.
 */
#include "ops/exact.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_vector.h>

#include "core/ars_common.h"
#include "space/change.h"

/* LAPACK (OpenBLAS): eigenvalues of a symmetric matrix, divide and conquer. The two trailing
 * arguments are gfortran's hidden lengths of the character arguments. */
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);

#define PI 3.14159265358979323846
/* Most bytes the Lanczos basis may take; fewer steps per restart for larger spaces. */
#define LANCZOS_BASIS_BYTES ((size_t)256 << 20)
#define LANCZOS_MAX_STEPS 50
#define LANCZOS_MIN_STEPS 12
/* Fixed key of the start vector (any value: the result does not depend on it beyond tol). */
#define LANCZOS_START_KEY 0x4c414e43u
/* OpenBLAS's OpenMP build (called through GSL and LAPACK) uses omp_get_max_threads() threads
 * outside a parallel region. Waking a team costs more than these problems gain from it, and on
 * a loaded machine (ctest -j, another run beside) it costs seconds, so exact computations run on
 * the calling thread alone: its thread count is set to 1 for the call and restored after. */
static int exact_threads_begin(void) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    return saved;
}

static void exact_threads_end(int saved) {
    omp_set_num_threads(saved);
}

/* ---- TFIM free fermions ------------------------------------------------------------------ */

double ars_exact_tfim(int N, double J, double h, int pbc) {
    ARS_ASSERT(N >= 2, "N %d", N);
    if (pbc) {
        if (N % 2 != 0 && J < 0.0) {
            return NAN; /* frustrated odd ring: the ground state is not in this sector */
        }
        /* prod sz (h -> -h) and, for even N, sz on every other site (J -> -J) are unitary. */
        J = fabs(J);
        h = fabs(h);
        double e = 0.0;
        for (int n = 0; n < N; n++) {
            double k = (2.0 * n + 1.0) * PI / N;
            e -= sqrt(fmax(J * J + h * h - 2.0 * J * h * cos(k), 0.0));
        }
        return e;
    }
    const size_t n2 = 2 * (size_t)N;
    gsl_matrix *A = gsl_matrix_calloc(n2, n2);
    gsl_vector *ev = gsl_vector_alloc(n2);
    gsl_eigen_symm_workspace *w = gsl_eigen_symm_alloc(n2);
    if (A == NULL || ev == NULL || w == NULL) {
        gsl_eigen_symm_free(w);
        gsl_vector_free(ev);
        gsl_matrix_free(A);
        ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the free-fermion matrix of %d sites", N);
        return NAN;
    }
    /* [[0, M], [M^T, 0]], M_nn = h, M_{n,n+1} = J. */
    for (size_t n = 0; n < (size_t)N; n++) {
        gsl_matrix_set(A, n, N + n, h);
        gsl_matrix_set(A, N + n, n, h);
        if (n + 1 < (size_t)N) {
            gsl_matrix_set(A, n, N + n + 1, J);
            gsl_matrix_set(A, N + n + 1, n, J);
        }
    }
    const int threads = exact_threads_begin();
    gsl_eigen_symm(A, ev, w);
    exact_threads_end(threads);
    double e = 0.0;
    for (size_t i = 0; i < n2; i++) {
        e -= 0.5 * fabs(gsl_vector_get(ev, i));
    }
    gsl_eigen_symm_free(w);
    gsl_vector_free(ev);
    gsl_matrix_free(A);
    return e;
}

/* ---- sectors: states and their O(1) ranks ------------------------------------------------ */

typedef struct sector {
    int L, n_up; /* n_up < 0: the full 2^L space, rank = mask */
    int half;    /* bits in the low table */
    size_t dim;
    uint32_t *states; /* (dim) masks in increasing order; NULL for the full space */
    uint32_t *low;    /* (2^half) colex rank of the low bits */
    uint32_t *high;   /* (2^(L-half), half+1) rank of the high bits after nl low ones */
} sector;

static double binom(int n, int k) {
    if (k < 0 || k > n) {
        return 0.0;
    }
    double c = 1.0;
    for (int i = 1; i <= k; i++) {
        c = c * (n - k + i) / i;
    }
    return round(c);
}

static void sector_free(sector *s) {
    free(s->states);
    free(s->low);
    free(s->high);
    memset(s, 0, sizeof *s);
}

static inline size_t sector_rank(const sector *s, uint32_t m) {
    if (s->n_up < 0) {
        return m;
    }
    const uint32_t lowmask = ((uint32_t)1 << s->half) - 1;
    const uint32_t lo = m & lowmask;
    return (size_t)s->low[lo] + (size_t)s->high[(size_t)(m >> s->half) * (size_t)(s->half + 1) +
                                                (size_t)__builtin_popcount(lo)];
}

static inline uint32_t sector_state(const sector *s, size_t r) {
    return s->states != NULL ? s->states[r] : (uint32_t)r;
}

/* n_up < 0: the full space. Returns ARS_OK or ARS_STATUS_ENOMEM. */
static int sector_init(sector *s, int L, int n_up) {
    memset(s, 0, sizeof *s);
    ARS_ASSERT(L >= 1 && L <= 30, "L %d", L);
    s->L = L;
    s->n_up = n_up;
    if (n_up < 0) {
        s->dim = (size_t)1 << L;
        return ARS_OK;
    }
    ARS_ASSERT(n_up <= L, "n_up %d of %d", n_up, L);
    s->dim = (size_t)binom(L, n_up);
    s->half = L / 2;
    const size_t nlow = (size_t)1 << s->half, nhigh = (size_t)1 << (L - s->half);
    s->states = malloc(s->dim * sizeof *s->states);
    s->low = malloc(nlow * sizeof *s->low);
    s->high = malloc(nhigh * (size_t)(s->half + 1) * sizeof *s->high);
    if (s->states == NULL || s->low == NULL || s->high == NULL) {
        sector_free(s);
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for a sector of %d sites", L);
    }
    for (size_t m = 0; m < nlow; m++) {
        double r = 0.0;
        int k = 0;
        for (int p = 0; p < s->half; p++) {
            if (m >> p & 1) {
                r += binom(p, ++k);
            }
        }
        s->low[m] = (uint32_t)r;
    }
    for (size_t m = 0; m < nhigh; m++) {
        for (int nl = 0; nl <= s->half; nl++) {
            double r = 0.0;
            int k = nl;
            for (int q = 0; q < L - s->half; q++) {
                if (m >> q & 1) {
                    r += binom(s->half + q, ++k);
                }
            }
            s->high[m * (size_t)(s->half + 1) + (size_t)nl] = (uint32_t)r;
        }
    }
    /* Masks with n_up bits in increasing order (Gosper's hack); that order is the colex rank. */
    uint64_t m = ((uint64_t)1 << n_up) - 1;
    for (size_t r = 0; r < s->dim; r++) {
        s->states[r] = (uint32_t)m;
        ARS_ASSERT(sector_rank(s, (uint32_t)m) == r, "rank of state %zu", r);
        if (r + 1 < s->dim) { /* the next mask with n_up >= 1 bits */
            ARS_ASSERT(m != 0, "no next mask of %d bits", n_up);
            uint64_t c = m & (~m + 1), nx = m + c;
            m = (((nx ^ m) >> 2) / c) | nx;
        }
    }
    return ARS_OK;
}

static void mask_to_cfg(uint8_t *cfg, uint32_t m, int L) {
    for (int t = 0; t < L; t++) {
        cfg[t] = (uint8_t)(m >> t & 1);
    }
}

/* The sites a spin-1/2 change flips, as a bit mask. */
static uint32_t flip_mask(const ars_change *c) {
    uint32_t x = 0;
    for (int k = 0; k < c->n; k++) {
        x ^= (uint32_t)1 << c->site[k];
    }
    return x;
}

/* The operator of a preset with the scratch of its connections; elements times the Marshall
 * sign ratio when the preset has it (S H S, S = diag(sign): the same spectrum, and the
 * elements that the local energies use). */
typedef struct exact_op {
    ars_op *op;
    int marshall;
    ars_change *ch; /* (max connections) */
    double *mel;    /* (max connections) */
    /* The off-diagonal part in the sector, built once for Lanczos when it fits in memory
     * (row r: entries row[r] .. row[r+1] of col and val, in connection order); NULL: the
     * connections are enumerated at every product. */
    size_t *row;
    uint32_t *col;
    double *val;
} exact_op;

static void exact_csr_free(exact_op *xo) {
    free(xo->row);
    free(xo->col);
    free(xo->val);
    xo->row = NULL;
    xo->col = NULL;
    xo->val = NULL;
}

static void exact_op_free(exact_op *xo) {
    ars_op_free(xo->op);
    free(xo->ch);
    free(xo->mel);
    exact_csr_free(xo);
    xo->op = NULL;
    xo->ch = NULL;
    xo->mel = NULL;
}

static int exact_op_init(exact_op *xo, const ars_ham *H) {
    xo->op = ars_ham_operator(H);
    xo->marshall = H->marshall_sign;
    xo->ch = NULL;
    xo->mel = NULL;
    xo->row = NULL;
    xo->col = NULL;
    xo->val = NULL;
    if (xo->op == NULL) {
        return ARS_STATUS_ENOMEM;
    }
    const size_t n = (size_t)ars_op_max_connections(xo->op) + 1;
    xo->ch = malloc(n * sizeof *xo->ch);
    xo->mel = malloc(n * sizeof *xo->mel);
    if (xo->ch == NULL || xo->mel == NULL) {
        exact_op_free(xo);
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the exact solver");
    }
    return ARS_OK;
}

/* The connections of cfg with their (signed) elements in xo->ch, xo->mel; returns their number. */
static int exact_connections(exact_op *xo, const uint8_t *cfg) {
    /* The diagonal comes from ars_op_diagonal, once per state. */
    const int n = ars_op_apply(xo->op, cfg, NULL, xo->ch, xo->mel);
    for (int k = 0; xo->marshall && k < n; k++) {
        xo->mel[k] *= ars_change_marshall_ratio(cfg, &xo->ch[k]);
    }
    return n;
}

/* Builds the sector's off-diagonal part once (two passes: count, then fill), so that every
 * Lanczos product is a sparse product with the same elements in the same order. Leaves
 * xo->row NULL (products then enumerate) when it does not fit in memory. */
static void exact_csr_build(exact_op *xo, const sector *s) {
    uint8_t cfg[32];
    size_t nnz = 0;
    xo->row = malloc((s->dim + 1) * sizeof *xo->row);
    if (xo->row == NULL) {
        return;
    }
    for (size_t r = 0; r < s->dim; r++) {
        mask_to_cfg(cfg, sector_state(s, r), s->L);
        xo->row[r] = nnz;
        nnz += (size_t)exact_connections(xo, cfg);
    }
    xo->row[s->dim] = nnz;
    xo->col = malloc((nnz > 0 ? nnz : 1) * sizeof *xo->col);
    xo->val = malloc((nnz > 0 ? nnz : 1) * sizeof *xo->val);
    if (xo->col == NULL || xo->val == NULL) {
        exact_csr_free(xo);
        return;
    }
    for (size_t r = 0; r < s->dim; r++) {
        const uint32_t m = sector_state(s, r);
        mask_to_cfg(cfg, m, s->L);
        const int n = exact_connections(xo, cfg);
        for (int k = 0; k < n; k++) {
            xo->col[xo->row[r] + (size_t)k] = (uint32_t)sector_rank(s, m ^ flip_mask(&xo->ch[k]));
            xo->val[xo->row[r] + (size_t)k] = xo->mel[k];
        }
    }
}

/* y = H x within the sector, row by row: y[r] = diag[r] x[r] + sum_flips mel x[rank(flipped)]. */
static void sector_apply(double *y, const double *x, const double *diag, exact_op *xo,
                         const sector *s) {
    if (xo->row != NULL) {
        for (size_t r = 0; r < s->dim; r++) {
            double acc = diag[r] * x[r];
            for (size_t e = xo->row[r]; e < xo->row[r + 1]; e++) {
                acc += xo->val[e] * x[xo->col[e]];
            }
            y[r] = acc;
        }
        return;
    }
    uint8_t cfg[32];
    for (size_t r = 0; r < s->dim; r++) {
        const uint32_t m = sector_state(s, r);
        mask_to_cfg(cfg, m, s->L);
        const int n = exact_connections(xo, cfg);
        double acc = diag[r] * x[r];
        for (int k = 0; k < n; k++) {
            acc += xo->mel[k] * x[sector_rank(s, m ^ flip_mask(&xo->ch[k]))];
        }
        y[r] = acc;
    }
}

/* ---- Lanczos ----------------------------------------------------------------------------- */

/* Lowest eigenpair of the (n x n) tridiagonal (alpha, beta): value and eigenvector y. */
static int tridiag_lowest(const double *alpha, const double *beta, int n, double *theta,
                          double *y) {
    gsl_matrix *T = gsl_matrix_calloc((size_t)n, (size_t)n);
    gsl_matrix *Z = gsl_matrix_alloc((size_t)n, (size_t)n);
    gsl_vector *ev = gsl_vector_alloc((size_t)n);
    gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc((size_t)n);
    int status = ARS_OK;
    *theta = NAN;
    memset(y, 0, (size_t)n * sizeof *y);
    if (T == NULL || Z == NULL || ev == NULL || w == NULL) {
        status = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory in Lanczos");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        gsl_matrix_set(T, (size_t)i, (size_t)i, alpha[i]);
        if (i + 1 < n) {
            gsl_matrix_set(T, (size_t)i, (size_t)i + 1, beta[i]);
            gsl_matrix_set(T, (size_t)i + 1, (size_t)i, beta[i]);
        }
    }
    gsl_eigen_symmv(T, ev, Z, w);
    gsl_eigen_symmv_sort(ev, Z, GSL_EIGEN_SORT_VAL_ASC);
    *theta = gsl_vector_get(ev, 0);
    for (int i = 0; i < n; i++) {
        y[i] = gsl_matrix_get(Z, (size_t)i, 0);
    }
done:
    gsl_eigen_symmv_free(w);
    gsl_vector_free(ev);
    gsl_matrix_free(Z);
    gsl_matrix_free(T);
    return status;
}

static int lanczos(exact_op *xo, const sector *s, double *e0, int max_iter, double tol) {
    const size_t dim = s->dim;
    size_t m = LANCZOS_BASIS_BYTES / (dim * sizeof(double));
    m = m < LANCZOS_MIN_STEPS ? LANCZOS_MIN_STEPS : m;
    m = m > LANCZOS_MAX_STEPS ? LANCZOS_MAX_STEPS : m;
    m = m > dim ? dim : m;
    double *V = malloc(m * dim * sizeof *V);
    double *w = malloc(dim * sizeof *w);
    double *diag = malloc(dim * sizeof *diag);
    double *alpha = malloc(m * sizeof *alpha), *beta = malloc(m * sizeof *beta);
    double *y = malloc(m * sizeof *y), *hv = malloc(m * sizeof *hv);
    gsl_rng *rng = ars_rng_alloc();
    int status = ARS_OK;
    if (V == NULL || w == NULL || diag == NULL || alpha == NULL || beta == NULL || y == NULL ||
        hv == NULL || rng == NULL) {
        status = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for Lanczos (%zu states)", dim);
        goto done;
    }
    uint8_t cfg[32];
    for (size_t r = 0; r < dim; r++) {
        mask_to_cfg(cfg, sector_state(s, r), s->L);
        diag[r] = ars_op_diagonal(xo->op, cfg);
    }
    exact_csr_build(xo, s);
    ars_rng_seed(rng, LANCZOS_START_KEY);
    for (size_t r = 0; r < dim; r++) {
        V[r] = 2.0 * gsl_rng_uniform(rng) - 1.0;
    }
    gsl_vector_view v0 = gsl_vector_view_array(V, dim);
    gsl_vector_scale(&v0.vector, 1.0 / gsl_blas_dnrm2(&v0.vector));
    gsl_vector_view wv = gsl_vector_view_array(w, dim);
    int iters = 0;
    double anorm = 0.0;
    for (;;) {
        int nk = 0, invariant = 0;
        for (size_t k = 0; k < m && iters < max_iter; k++) {
            gsl_vector_view vk = gsl_vector_view_array(V + k * dim, dim);
            sector_apply(w, V + k * dim, diag, xo, s);
            iters++;
            gsl_blas_ddot(&wv.vector, &vk.vector, &alpha[k]);
            gsl_blas_daxpy(-alpha[k], &vk.vector, &wv.vector);
            if (k > 0) {
                gsl_vector_view vp = gsl_vector_view_array(V + (k - 1) * dim, dim);
                gsl_blas_daxpy(-beta[k - 1], &vp.vector, &wv.vector);
            }
            /* Full reorthogonalisation against v_0..v_k (classical Gram-Schmidt); a second
             * pass when the first removed much of w ("twice is enough"). */
            gsl_matrix_view Vk = gsl_matrix_view_array(V, k + 1, dim);
            gsl_vector_view hk = gsl_vector_view_array(hv, k + 1);
            double before = gsl_blas_dnrm2(&wv.vector);
            for (int pass = 0; pass < 2; pass++) {
                gsl_blas_dgemv(CblasNoTrans, 1.0, &Vk.matrix, &wv.vector, 0.0, &hk.vector);
                gsl_blas_dgemv(CblasTrans, -1.0, &Vk.matrix, &hk.vector, 1.0, &wv.vector);
                beta[k] = gsl_blas_dnrm2(&wv.vector);
                if (beta[k] > 0.5 * before) {
                    break;
                }
                before = beta[k];
            }
            nk = (int)k + 1;
            anorm = fmax(anorm, fabs(alpha[k]) + beta[k] + (k > 0 ? beta[k - 1] : 0.0));
            if (!isfinite(beta[k])) {
                status = ARS_ERR(ARS_STATUS_ENONFINITE, "Lanczos met a non-finite value");
                goto done;
            }
            if (beta[k] <= 1e-13 * fmax(anorm, 1.0)) {
                invariant = 1; /* the Krylov space is invariant: its eigenvalues are exact */
                break;
            }
            if (k + 1 < m) {
                gsl_vector_view vn = gsl_vector_view_array(V + (k + 1) * dim, dim);
                gsl_blas_dcopy(&wv.vector, &vn.vector);
                gsl_vector_scale(&vn.vector, 1.0 / beta[k]);
            }
        }
        ARS_ASSERT(nk >= 1, "a Lanczos cycle without steps");
        double theta = 0.0;
        status = tridiag_lowest(alpha, beta, nk, &theta, y);
        if (status != ARS_OK) {
            goto done;
        }
        *e0 = theta;
        const double res = beta[nk - 1] * fabs(y[nk - 1]);
        if (invariant || res <= tol * fmax(1.0, fabs(theta))) {
            break;
        }
        if (iters >= max_iter) {
            status = ARS_ERR(ARS_STATUS_ECONFIG,
                             "Lanczos did not converge in %d iterations (residual %.3g, tol %.3g)",
                             max_iter, res, tol);
            goto done;
        }
        /* Restart from the lowest Ritz vector x = V^T y. */
        gsl_matrix_view Vn = gsl_matrix_view_array(V, (size_t)nk, dim);
        gsl_vector_view yv = gsl_vector_view_array(y, (size_t)nk);
        gsl_blas_dgemv(CblasTrans, 1.0, &Vn.matrix, &yv.vector, 0.0, &wv.vector);
        gsl_vector_scale(&wv.vector, 1.0 / gsl_blas_dnrm2(&wv.vector));
        gsl_blas_dcopy(&wv.vector, &v0.vector);
    }
done:
    gsl_rng_free(rng);
    free(hv);
    free(y);
    free(beta);
    free(alpha);
    free(diag);
    free(w);
    free(V);
    return status;
}

int ars_exact_lanczos_sector(const ars_ham *H, int n_up, double *e0, int max_iter, double tol) {
    if (max_iter < 1 || !(tol > 0.0)) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "Lanczos needs max_iter >= 1 and tol > 0 (got %d, %g)",
                       max_iter, tol);
    }
    if (H->size > ARS_EXACT_LANCZOS_MAX_SIZE) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "Lanczos is limited to %d sites (got %d)",
                       ARS_EXACT_LANCZOS_MAX_SIZE, H->size);
    }
    if (H->type == ARS_HAM_TFIM && n_up >= 0) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "tfim does not conserve Sz: no Sz sector");
    }
    if (n_up > H->size) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "sector with %d up spins of %d sites", n_up, H->size);
    }
    sector s;
    int status = sector_init(&s, H->size, n_up);
    if (status != ARS_OK) {
        return status;
    }
    const int threads = exact_threads_begin();
    exact_op xo;
    status = exact_op_init(&xo, H);
    if (status == ARS_OK) {
        status = lanczos(&xo, &s, e0, max_iter, tol);
        exact_op_free(&xo);
    }
    exact_threads_end(threads);
    sector_free(&s);
    return status;
}

int ars_exact_lanczos(const ars_ham *H, double *e0, int max_iter, double tol) {
    return ars_exact_lanczos_sector(H, H->type == ARS_HAM_TFIM ? -1 : H->size / 2, e0, max_iter,
                                    tol);
}

/* ---- dense ------------------------------------------------------------------------------- */

/* Lowest eigenvalue of the symmetric (n x n) matrix a (destroyed), LAPACK dsyevd. */
static int dense_lowest(double *a, int n, double *e) {
    ARS_ASSERT(n >= 1, "matrix of size %d", n);
    double *ev = malloc((size_t)n * sizeof *ev), wq = 0.0;
    int iq = 0, info = 0, lwork = -1, liwork = -1;
    if (ev == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for a dense eigenproblem");
    }
    dsyevd_("N", "L", &n, a, &n, ev, &wq, &lwork, &iq, &liwork, &info, 1, 1);
    lwork = (int)wq;
    liwork = iq;
    double *work = malloc((size_t)(lwork > 1 ? lwork : 1) * sizeof *work);
    int *iwork = malloc((size_t)(liwork > 1 ? liwork : 1) * sizeof *iwork);
    int status = ARS_OK;
    if (work == NULL || iwork == NULL) {
        status = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for a dense eigenproblem");
    } else {
        dsyevd_("N", "L", &n, a, &n, ev, work, &lwork, iwork, &liwork, &info, 1, 1);
        ARS_ASSERT(info == 0, "dsyevd failed (info %d)", info);
        *e = ev[0];
    }
    free(iwork);
    free(work);
    free(ev);
    return status;
}

/* The block of one Sz sector (n_up >= 0), or of one spin-flip parity (tfim: n_up = -1,
 * parity = +-1), into a (dim x dim). */
static void dense_block(double *a, size_t dim, exact_op *xo, const sector *s, int parity) {
    const int L = ars_op_size(xo->op);
    const uint32_t all = (uint32_t)(((uint64_t)1 << L) - 1), top = (uint32_t)1 << (L - 1);
    uint8_t cfg[32];
    memset(a, 0, dim * dim * sizeof *a);
    for (size_t c = 0; c < dim; c++) {
        const uint32_t m = sector_state(s, c);
        mask_to_cfg(cfg, m, L);
        a[c * dim + c] += ars_op_diagonal(xo->op, cfg);
        const int n = exact_connections(xo, cfg);
        for (int k = 0; k < n; k++) {
            uint32_t x = m ^ flip_mask(&xo->ch[k]);
            double v = xo->mel[k];
            if (parity != 0 && (x & top)) {
                x ^= all; /* <P x| with P x a representative */
                v *= parity;
            }
            a[c * dim + sector_rank(s, x)] += v;
        }
    }
}

int ars_exact_dense_energy(const ars_ham *H, double *e0) {
    const int L = H->size;
    if (L > ARS_EXACT_DENSE_MAX_SIZE) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "dense diagonalisation is limited to %d sites (got %d)",
                       ARS_EXACT_DENSE_MAX_SIZE, L);
    }
    const int tfim = H->type == ARS_HAM_TFIM;
    const size_t maxdim = tfim ? (size_t)1 << (L - 1) : (size_t)binom(L, L / 2);
    double *a = malloc(maxdim * maxdim * sizeof *a);
    if (a == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for a dense %zu x %zu matrix", maxdim,
                       maxdim);
    }
    double best = INFINITY;
    exact_op xo;
    int status = exact_op_init(&xo, H);
    if (status != ARS_OK) {
        free(a);
        return status;
    }
    const int threads = exact_threads_begin();
    const int nblocks = tfim ? 2 : L + 1;
    for (int blk = 0; blk < nblocks && status == ARS_OK; blk++) {
        sector s;
        if (tfim) {
            /* Representatives: masks with site L-1 down, i.e. the first 2^(L-1) masks. */
            status = sector_init(&s, L - 1, -1);
            s.L = L;
        } else {
            status = sector_init(&s, L, blk);
        }
        if (status != ARS_OK) {
            break;
        }
        double e = 0.0;
        dense_block(a, s.dim, &xo, &s, tfim ? (blk == 0 ? 1 : -1) : 0);
        status = dense_lowest(a, (int)s.dim, &e);
        best = fmin(best, e);
        sector_free(&s);
    }
    exact_threads_end(threads);
    exact_op_free(&xo);
    free(a);
    if (status == ARS_OK) {
        *e0 = best;
    }
    return status;
}
