/*
 * exact: free-fermion TFIM energies, matrix-free restarted Lanczos and blocked dense
 * diagonalisation; the formulas and algorithms are described in exact.h.
 */
#include "ops/exact.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
 * the calling thread alone (ars_blas_serial_begin / _end). */

/* ---- TFIM free fermions ------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ars_exact_xx_dm(int N, double J, double dm, double hz, int pbc, int n) {
    ARS_ASSERT(N >= 2 && N <= 1000000 && n <= N, "%d sites, %d fermions", N, n);
    const double Jp = hypot(J, dm), a = atan2(dm, J), pi = 3.14159265358979323846;
    double *lev = malloc((size_t)N * sizeof *lev);
    if (lev == NULL) {
        return NAN;
    }
    double best = INFINITY;
    for (int parity = 0; parity < 2; parity++) {
        /* Open chains: one set of levels for every n; rings: by the parity of n. */
        for (int m = 0; m < N; m++) {
            lev[m] = pbc ? 4.0 * Jp * cos((2.0 * pi * m + (parity == 0 ? pi : 0.0)) / N + a)
                         : 4.0 * Jp * cos(pi * (m + 1) / (N + 1.0));
            lev[m] -= 2.0 * hz;
        }
        qsort(lev, (size_t)N, sizeof *lev, cmp_double);
        double e = hz * N;
        for (int k = 0; k <= N; k++) {
            if ((!pbc || k % 2 == parity) && (n < 0 || k == n)) {
                best = fmin(best, e);
            }
            if (k < N) {
                e += lev[k];
            }
        }
        if (!pbc) {
            break;
        }
    }
    free(lev);
    return best;
}

/* The 2N x 2N symmetric matrix [[0, M], [M^T, 0]] of a free-fermion chain (its eigenvalues are
 * +- the singular values of the N x N matrix M), zeroed; NULL (reported) if memory runs out. */
static gsl_matrix *bdg_alloc(int N) {
    gsl_matrix *A = gsl_matrix_calloc(2 * (size_t)N, 2 * (size_t)N);
    if (A == NULL) {
        ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the free-fermion matrix of %d sites", N);
    }
    return A;
}

/* M_ij = m in the matrix of bdg_alloc. */
static void bdg_set(gsl_matrix *A, int N, size_t i, size_t j, double m) {
    gsl_matrix_set(A, i, (size_t)N + j, m);
    gsl_matrix_set(A, (size_t)N + j, i, m);
}

/* Sum of |eigenvalues| of A (gsl_eigen_symm, to absolute accuracy eps |M|); frees A. NaN
 * (reported) if memory runs out. */
static double bdg_abs_eigen_sum(gsl_matrix *A, int N) {
    const size_t n2 = A->size1;
    gsl_vector *ev = gsl_vector_alloc(n2);
    gsl_eigen_symm_workspace *w = gsl_eigen_symm_alloc(n2);
    double sum = NAN;
    if (ev == NULL || w == NULL) {
        ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the free-fermion matrix of %d sites", N);
    } else {
        const int threads = ars_blas_serial_begin();
        gsl_eigen_symm(A, ev, w);
        ars_blas_serial_end(threads);
        sum = 0.0;
        for (size_t i = 0; i < n2; i++) {
            sum += fabs(gsl_vector_get(ev, i));
        }
    }
    gsl_eigen_symm_free(w);
    gsl_vector_free(ev);
    gsl_matrix_free(A);
    return sum;
}

/* One parity sector of the XY ring: momenta k = (2 m + shift) pi / N, m = 0..N-1 (shift 1:
 * antiperiodic, even parity; 0: periodic, odd parity); the lowest energy with that parity. */
static double xy_ring_sector(int N, double J, double gamma, double hz, int odd) {
    double e = hz * N, lam_min = INFINITY;
    double unpaired[2];
    int n_unpaired = 0;
    for (int m = 0; m < N; m++) {
        const int twice = 2 * m + (odd ? 0 : 1); /* k = twice * pi / N */
        const double k = twice * PI / N;
        const double a = 4.0 * J * cos(k) - 2.0 * hz;
        if (twice % N == 0) { /* k = 0 or pi: its own partner */
            unpaired[n_unpaired++] = a;
            continue;
        }
        /* Each pair once: the member with k < pi. */
        if (2 * twice < 2 * N) {
            const double d = 4.0 * J * gamma * sin(k);
            const double lam = sqrt(a * a + d * d);
            e += a - lam;
            lam_min = fmin(lam_min, lam);
        }
    }
    /* Unpaired modes occupied or not, at most one pair singly occupied (energy +Lambda), with
     * the sector's parity. */
    double best = INFINITY;
    for (unsigned occ = 0; occ < (1u << n_unpaired); occ++) {
        double add = 0.0;
        int count = 0;
        for (int u = 0; u < n_unpaired; u++) {
            if (occ & (1u << u)) {
                add += unpaired[u];
                count++;
            }
        }
        if ((count % 2) != odd) {
            add += lam_min; /* one pair broken to fix the parity */
        }
        best = fmin(best, add);
    }
    return e + best;
}

double ars_exact_xy(int N, double J, double gamma, double hz, int pbc) {
    ARS_ASSERT(N >= 2, "N %d", N);
    if (pbc) {
        return fmin(xy_ring_sector(N, J, gamma, hz, 0), xy_ring_sector(N, J, gamma, hz, 1));
    }
    /* M = A - B: diagonal -2 hz, (i, i+1): 2J - 2J gamma, (i+1, i): 2J + 2J gamma. */
    gsl_matrix *A = bdg_alloc(N);
    if (A == NULL) {
        return NAN;
    }
    for (size_t n = 0; n < (size_t)N; n++) {
        bdg_set(A, N, n, n, -2.0 * hz);
        if (n + 1 < (size_t)N) {
            bdg_set(A, N, n, n + 1, 2.0 * J * (1.0 - gamma));
            bdg_set(A, N, n + 1, n, 2.0 * J * (1.0 + gamma));
        }
    }
    return -0.25 * bdg_abs_eigen_sum(A, N); /* each Lambda twice, +- */
}

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
    /* [[0, M], [M^T, 0]], M_nn = h, M_{n,n+1} = J. */
    gsl_matrix *A = bdg_alloc(N);
    if (A == NULL) {
        return NAN;
    }
    for (size_t n = 0; n < (size_t)N; n++) {
        bdg_set(A, N, n, n, h);
        if (n + 1 < (size_t)N) {
            bdg_set(A, N, n, n + 1, J);
        }
    }
    return -0.5 * bdg_abs_eigen_sum(A, N);
}

/* ---- spaces: states and their O(1) ranks ------------------------------------------------- */

/* Most sites of a space (D^L must fit the index; 2^24 states at most anyway). */
#define EXACT_MAX_SITES 64

typedef struct space {
    int L, D;
    int n;      /* digit sum of the sector; -1: the full D^L space, rank = index */
    int parity; /* spin 1/2 without S^z conservation, commuting with the flip P: the block of
                 * P = parity (+-1) in the basis (|x> + parity |Px>)/sqrt(2) of the
                 * representatives x < 2^(L-1) (site L-1 down); 0: none */
    int half;   /* sites in the low part */
    size_t dim;
    uint64_t pw[EXACT_MAX_SITES + 1]; /* D^t */
    uint64_t *states;                 /* (dim) indices, increasing; NULL for the full space */
    uint32_t *low_rank;               /* (D^half) rank among the low parts of the same digit sum */
    uint64_t *high_off; /* (D^(L-half)) the sector's states with a smaller high part */
} space;

static void space_free(space *s) {
    free(s->states);
    free(s->low_rank);
    free(s->high_off);
    s->states = NULL;
    s->low_rank = NULL;
    s->high_off = NULL;
}

static int digit_sum(uint64_t x, int D, int sites) {
    int sum = 0;
    for (int t = 0; t < sites; t++, x /= (uint64_t)D) {
        sum += (int)(x % (uint64_t)D);
    }
    return sum;
}

static inline size_t space_rank(const space *s, uint64_t x) {
    if (s->n < 0) {
        return (size_t)x;
    }
    const uint64_t base = s->pw[s->half];
    return (size_t)(s->high_off[x / base] + s->low_rank[x % base]);
}

static inline uint64_t space_state(const space *s, size_t r) {
    return s->states != NULL ? s->states[r] : (uint64_t)r;
}

/* The row of the state with index x, and the sign of its representative (*sign, times the
 * parity when x is not a representative). */
static inline size_t space_locate(const space *s, uint64_t x, double *sign) {
    if (s->parity != 0 && x >= s->pw[s->L - 1]) {
        *sign *= (double)s->parity;
        return (size_t)(s->pw[s->L] - 1 - x);
    }
    return space_rank(s, x);
}

/* Number of strings of `sites` digits 0..D-1 with digit sum n (0 outside the range; a double,
 * exact below 2^53, which is all that matters here). */
static double count_strings(int sites, int D, int n) {
    if (n < 0 || n > sites * (D - 1)) {
        return 0.0;
    }
    double *c = calloc((size_t)sites * (size_t)(D - 1) + 1, sizeof *c);
    if (c == NULL) {
        return INFINITY;
    }
    c[0] = 1.0;
    for (int t = 0; t < sites; t++) {
        for (int k = (t + 1) * (D - 1); k >= 0; k--) {
            double v = 0.0;
            for (int d = 0; d < D && d <= k; d++) {
                v += c[k - d];
            }
            c[k] = v;
        }
    }
    const double r = c[n];
    free(c);
    return r;
}

/* Is two_m a total S^z of L sites of spin (D-1)/2? */
static int sector_exists(int L, int D, int two_m) {
    const long twice = (long)two_m + (long)L * (D - 1);
    return twice >= 0 && twice % 2 == 0 && twice / 2 <= (long)L * (D - 1);
}

/* The space of L sites with D states: the sector of total S^z = two_m/2 (an existing one) or
 * the full space (ARS_EXACT_ANY_SECTOR), with only its size (tables == 0: dim SIZE_MAX when
 * the indices would not fit) or ready to use. Returns ARS_OK or ARS_STATUS_ENOMEM. */
/* Pseudo-sectors of sectors_of: the two spin-flip parity blocks of a spin-1/2 operator. */
#define EXACT_PARITY_EVEN (INT_MIN + 1)
#define EXACT_PARITY_ODD (INT_MIN + 2)

static int space_init(space *s, int L, int D, int two_m, int tables) {
    memset(s, 0, sizeof *s);
    ARS_ASSERT(L >= 1 && L <= EXACT_MAX_SITES && D >= 2, "L %d, D %d", L, D);
    s->L = L;
    s->D = D;
    s->half = L / 2;
    s->pw[0] = 1;
    for (int t = 1; t <= L; t++) {
        s->pw[t] = s->pw[t - 1] <= UINT64_MAX / (uint64_t)D ? s->pw[t - 1] * (uint64_t)D : 0;
    }
    if (two_m == ARS_EXACT_ANY_SECTOR || two_m == EXACT_PARITY_EVEN || two_m == EXACT_PARITY_ODD) {
        s->n = -1;
        s->dim = s->pw[L] != 0 ? (size_t)s->pw[L] : SIZE_MAX;
        if (two_m != ARS_EXACT_ANY_SECTOR) {
            ARS_ASSERT(D == 2, "parity blocks of spin %d/2", D - 1);
            s->parity = two_m == EXACT_PARITY_EVEN ? 1 : -1;
            s->dim = s->pw[L] != 0 ? (size_t)s->pw[L - 1] : SIZE_MAX;
        }
        return ARS_OK;
    }
    ARS_ASSERT(sector_exists(L, D, two_m), "2 S^z = %d of %d sites of spin %d/2", two_m, L, D - 1);
    s->n = (two_m + L * (D - 1)) / 2;
    const double dim = count_strings(L, D, s->n);
    s->dim = dim < (double)SIZE_MAX && s->pw[L] != 0 ? (size_t)dim : SIZE_MAX;
    if (!tables) {
        return ARS_OK;
    }
    ARS_ASSERT(s->pw[L] != 0 && s->dim <= ARS_EXACT_LANCZOS_MAX_STATES, "a space of %zu states",
               s->dim);
    const uint64_t nlow = s->pw[s->half], nhigh = s->pw[L - s->half];
    s->states = malloc(s->dim * sizeof *s->states);
    s->low_rank = malloc(nlow * sizeof *s->low_rank);
    s->high_off = malloc(nhigh * sizeof *s->high_off);
    uint64_t *seen = calloc((size_t)s->half * (size_t)(D - 1) + 1, sizeof *seen);
    if (s->states == NULL || s->low_rank == NULL || s->high_off == NULL || seen == NULL) {
        free(seen);
        space_free(s);
        (void)ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for a sector of %d sites", L);
        return ARS_STATUS_ENOMEM;
    }
    for (uint64_t lo = 0; lo < nlow; lo++) {
        s->low_rank[lo] = (uint32_t)seen[digit_sum(lo, D, s->half)]++;
    }
    /* seen[a] is now the number of low parts with digit sum a. */
    uint64_t off = 0;
    size_t r = 0;
    for (uint64_t hi = 0; hi < nhigh; hi++) {
        s->high_off[hi] = off;
        const int a = s->n - digit_sum(hi, D, L - s->half);
        if (a < 0 || a > s->half * (D - 1)) {
            continue;
        }
        off += seen[a];
        for (uint64_t lo = 0; lo < nlow; lo++) {
            if (digit_sum(lo, D, s->half) == a) {
                s->states[r++] = hi * nlow + lo;
            }
        }
    }
    free(seen);
    ARS_ASSERT(r == s->dim && off == s->dim, "sector of %zu states enumerated as %zu", s->dim, r);
    return ARS_OK;
}

static void index_to_cfg(uint8_t *cfg, uint64_t x, const space *s) {
    for (int t = 0; t < s->L; t++, x /= (uint64_t)s->D) {
        cfg[t] = (uint8_t)(x % (uint64_t)s->D);
    }
}

/* The index of cfg changed by c. */
static uint64_t changed_index(uint64_t x, const uint8_t *cfg, const ars_change *c, const space *s) {
    for (int k = 0; k < c->n; k++) {
        const int t = c->site[k];
        x = x - (uint64_t)cfg[t] * s->pw[t] + (uint64_t)c->value[k] * s->pw[t];
    }
    return x;
}

/* The operator with the scratch of its connections. */
typedef struct exact_op {
    const ars_op *op;
    int cplx;       /* a complex operator: vectors are (real parts, imaginary parts) */
    ars_change *ch; /* (max connections) */
    double *mel;    /* (max connections) */
    double *mel_im; /* (max connections) */
    /* The off-diagonal part in the space, built once for Lanczos when it fits in memory
     * (row r: entries row[r] .. row[r+1] of col and val, in connection order); NULL: the
     * connections are enumerated at every product. */
    size_t *row;
    uint32_t *col;
    double *val;
    double *val_im; /* complex operators */
} exact_op;

static void exact_csr_free(exact_op *xo) {
    free(xo->row);
    free(xo->col);
    free(xo->val);
    free(xo->val_im);
    xo->row = NULL;
    xo->col = NULL;
    xo->val = NULL;
    xo->val_im = NULL;
}

static void exact_op_free(exact_op *xo) {
    free(xo->ch);
    free(xo->mel);
    free(xo->mel_im);
    exact_csr_free(xo);
    xo->ch = NULL;
    xo->mel = NULL;
    xo->mel_im = NULL;
}

static int exact_op_init(exact_op *xo, const ars_op *op) {
    memset(xo, 0, sizeof *xo);
    xo->op = op;
    xo->cplx = ars_op_is_complex(op);
    const size_t n = (size_t)ars_op_max_connections(op) + 1;
    xo->ch = malloc(n * sizeof *xo->ch);
    xo->mel = malloc(n * sizeof *xo->mel);
    xo->mel_im = malloc(n * sizeof *xo->mel_im);
    if (xo->ch == NULL || xo->mel == NULL || xo->mel_im == NULL) {
        exact_op_free(xo);
        (void)ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the exact solver");
        return ARS_STATUS_ENOMEM;
    }
    return ARS_OK;
}

/* The connections of cfg with their elements in xo->ch, xo->mel; returns their number (the
 * diagonal comes from ars_op_diagonal, once per state). */
static int exact_connections(exact_op *xo, const uint8_t *cfg) {
    return ars_op_apply_complex(xo->op, cfg, NULL, xo->ch, xo->mel, xo->mel_im);
}

/* Builds the space's off-diagonal part once (two passes: count, then fill), so that every
 * Lanczos product is a sparse product with the same elements in the same order. Leaves
 * xo->row NULL (products then enumerate) when it does not fit in memory. */
static void exact_csr_build(exact_op *xo, const space *s) {
    uint8_t cfg[EXACT_MAX_SITES];
    size_t nnz = 0;
    xo->row = malloc((s->dim + 1) * sizeof *xo->row);
    if (xo->row == NULL) {
        return;
    }
    for (size_t r = 0; r < s->dim; r++) {
        index_to_cfg(cfg, space_state(s, r), s);
        xo->row[r] = nnz;
        nnz += (size_t)exact_connections(xo, cfg);
    }
    xo->row[s->dim] = nnz;
    xo->col = malloc((nnz > 0 ? nnz : 1) * sizeof *xo->col);
    xo->val = malloc((nnz > 0 ? nnz : 1) * sizeof *xo->val);
    xo->val_im = xo->cplx ? malloc((nnz > 0 ? nnz : 1) * sizeof *xo->val_im) : NULL;
    if (xo->col == NULL || xo->val == NULL || (xo->cplx && xo->val_im == NULL)) {
        exact_csr_free(xo);
        return;
    }
    for (size_t r = 0; r < s->dim; r++) {
        const uint64_t x = space_state(s, r);
        index_to_cfg(cfg, x, s);
        const int n = exact_connections(xo, cfg);
        for (int k = 0; k < n; k++) {
            double sign = 1.0;
            xo->col[xo->row[r] + (size_t)k] =
                (uint32_t)space_locate(s, changed_index(x, cfg, &xo->ch[k], s), &sign);
            xo->val[xo->row[r] + (size_t)k] = sign * xo->mel[k];
            if (xo->cplx) {
                xo->val_im[xo->row[r] + (size_t)k] = sign * xo->mel_im[k];
            }
        }
    }
}

/* y = H x within the space, row by row: y[r] = diag[r] x[r] + sum_connections mel x[rank'].
 * For a complex operator x and y hold 2 dim numbers, the real parts then the imaginary parts:
 * the real form [[A, -B], [B, A]] of H = A + i B, real symmetric (A symmetric, B
 * antisymmetric), with every eigenvalue of H twice. */
static void space_apply(double *y, const double *x, const double *diag, exact_op *xo,
                        const space *s) {
    if (xo->cplx) {
        const size_t dim = s->dim;
        const double *xr = x, *xi = x + dim;
        uint8_t cfg[EXACT_MAX_SITES];
        for (size_t r = 0; r < dim; r++) {
            double ar = diag[r] * xr[r], ai = diag[r] * xi[r];
            if (xo->row != NULL) {
                for (size_t e = xo->row[r]; e < xo->row[r + 1]; e++) {
                    const size_t c = xo->col[e];
                    ar += xo->val[e] * xr[c] - xo->val_im[e] * xi[c];
                    ai += xo->val[e] * xi[c] + xo->val_im[e] * xr[c];
                }
            } else {
                const uint64_t xs = space_state(s, r);
                index_to_cfg(cfg, xs, s);
                const int n = exact_connections(xo, cfg);
                for (int k = 0; k < n; k++) {
                    double sign = 1.0;
                    const size_t c = space_locate(s, changed_index(xs, cfg, &xo->ch[k], s), &sign);
                    const double vr = sign * xo->mel[k], vi = sign * xo->mel_im[k];
                    ar += vr * xr[c] - vi * xi[c];
                    ai += vr * xi[c] + vi * xr[c];
                }
            }
            y[r] = ar;
            y[dim + r] = ai;
        }
        return;
    }
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
    uint8_t cfg[EXACT_MAX_SITES];
    for (size_t r = 0; r < s->dim; r++) {
        const uint64_t xi = space_state(s, r);
        index_to_cfg(cfg, xi, s);
        const int n = exact_connections(xo, cfg);
        double acc = diag[r] * x[r];
        for (int k = 0; k < n; k++) {
            double sign = 1.0;
            const size_t c = space_locate(s, changed_index(xi, cfg, &xo->ch[k], s), &sign);
            acc += sign * xo->mel[k] * x[c];
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

static int lanczos(exact_op *xo, const space *s, double *e0, int max_iter, double tol) {
    const size_t dim = s->dim * (xo->cplx ? 2 : 1); /* the vectors' length */
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
    uint8_t cfg[EXACT_MAX_SITES];
    for (size_t r = 0; r < s->dim; r++) {
        index_to_cfg(cfg, space_state(s, r), s);
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
            space_apply(w, V + k * dim, diag, xo, s);
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

/* The sectors to search for two_m, smallest |S^z| first (positive before negative; the
 * negative ones only when the operator does not commute with the global flip, which maps the
 * sector M onto -M), into two_ms; returns their number, 0 when two_m is a sector the operator
 * does not have. A single ARS_EXACT_ANY_SECTOR stands for the full space. */
static int sectors_of(const ars_op *op, int two_m, int *two_ms, int cap) {
    const int L = ars_op_size(op), two_s = ars_op_two_s(op);
    if (!ars_op_conserves_sz(op)) {
        if (two_m != ARS_EXACT_ANY_SECTOR) {
            return 0;
        }
        if (two_s == 1 && L >= 2 && ars_op_commutes_with_flip(op) && cap >= 2) {
            /* The two parity blocks: gapped where the full space has a near-degenerate pair
             * (an ordered Ising chain), which Lanczos resolves slowly. */
            two_ms[0] = EXACT_PARITY_EVEN;
            two_ms[1] = EXACT_PARITY_ODD;
            return 2;
        }
        two_ms[0] = ARS_EXACT_ANY_SECTOR;
        return 1;
    }
    if (two_m != ARS_EXACT_ANY_SECTOR) {
        two_ms[0] = two_m;
        return sector_exists(L, two_s + 1, two_m);
    }
    const int top = L * two_s, both = !ars_op_commutes_with_flip(op);
    int n = 0;
    for (int m = top % 2; m <= top && n < cap; m += 2) {
        two_ms[n++] = m;
        if (both && m > 0 && n < cap) {
            two_ms[n++] = -m;
        }
    }
    return n;
}

#define EXACT_MAX_SECTORS (2 * EXACT_MAX_SITES * 255 + 2)

size_t ars_exact_lanczos_states(const ars_op *op, int two_m, size_t *largest) {
    const int L = ars_op_size(op), D = ars_op_two_s(op) + 1;
    size_t total = 0, most = 0;
    if (L > EXACT_MAX_SITES) {
        total = most = SIZE_MAX;
    }
    int *two_ms = L <= EXACT_MAX_SITES ? malloc(EXACT_MAX_SECTORS * sizeof *two_ms) : NULL;
    const int n = two_ms != NULL ? sectors_of(op, two_m, two_ms, EXACT_MAX_SECTORS) : 0;
    for (int k = 0; k < n; k++) {
        space s;
        (void)space_init(&s, L, D, two_ms[k], 0);
        total = total + s.dim < total ? SIZE_MAX : total + s.dim;
        most = s.dim > most ? s.dim : most;
    }
    free(two_ms);
    if (largest != NULL) {
        *largest = most;
    }
    return total;
}

int ars_exact_lanczos(const ars_op *op, int two_m, int max_iter, double tol,
                      ars_exact_result *res) {
    if (max_iter < 1 || !(tol > 0.0)) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "Lanczos needs max_iter >= 1 and tol > 0 (got %d, %g)",
                       max_iter, tol);
    }
    const int L = ars_op_size(op), D = ars_op_two_s(op) + 1;
    if (two_m != ARS_EXACT_ANY_SECTOR && !ars_op_conserves_sz(op)) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "the operator does not conserve total S^z: it has no S^z sector");
    }
    if (two_m != ARS_EXACT_ANY_SECTOR && !sector_exists(L, D, two_m)) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "total S^z = %d/2 is not a sector of %d sites of spin %d/2", two_m, L,
                       D - 1);
    }
    size_t largest = 0;
    (void)ars_exact_lanczos_states(op, two_m, &largest);
    if (largest > ARS_EXACT_LANCZOS_MAX_STATES) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "Lanczos is limited to %zu states in one space (spin 1/2: 24 sites, spin "
                       "1: 15); %d sites of spin %d/2 have more%s",
                       ARS_EXACT_LANCZOS_MAX_STATES, L, D - 1,
                       ars_op_conserves_sz(op) ? " in the largest S^z sector" : "");
    }
    int *two_ms = malloc(EXACT_MAX_SECTORS * sizeof *two_ms);
    if (two_ms == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the exact solver");
    }
    exact_op xo = {0};
    int status = exact_op_init(&xo, op);
    if (status != ARS_OK) {
        free(two_ms);
        return status;
    }
    const int n = sectors_of(op, two_m, two_ms, EXACT_MAX_SECTORS);
    const int threads = ars_blas_serial_begin();
    *res = (ars_exact_result){.energy = INFINITY};
    for (int k = 0; k < n && status == ARS_OK; k++) {
        space s;
        status = space_init(&s, L, D, two_ms[k], 1);
        if (status != ARS_OK) {
            break;
        }
        double e = NAN;
        status = lanczos(&xo, &s, &e, max_iter, tol);
        exact_csr_free(&xo);
        res->states += s.dim;
        space_free(&s);
        if (status == ARS_OK && e < res->energy) {
            res->energy = e;
            res->in_sector = two_ms[k] != ARS_EXACT_ANY_SECTOR && two_ms[k] != EXACT_PARITY_EVEN &&
                             two_ms[k] != EXACT_PARITY_ODD;
            res->two_m = res->in_sector ? two_ms[k] : 0;
        }
    }
    ars_blas_serial_end(threads);
    exact_op_free(&xo);
    free(two_ms);
    return status;
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

/* The block of one space (a sector, a parity block or the full space) into a (m x m), m = dim,
 * or for a complex operator its real form [[A, -B], [B, A]] (m = 2 dim; space_apply). */
static void dense_block(double *a, size_t dim, exact_op *xo, const space *s) {
    ARS_ASSERT(xo->ch != NULL && xo->mel != NULL, "no connection scratch");
    uint8_t cfg[EXACT_MAX_SITES];
    const size_t m = xo->cplx ? 2 * dim : dim;
    memset(a, 0, m * m * sizeof *a);
    for (size_t c = 0; c < dim; c++) {
        const uint64_t x = space_state(s, c);
        index_to_cfg(cfg, x, s);
        const double d = ars_op_diagonal(xo->op, cfg);
        a[c * m + c] += d;
        if (xo->cplx) {
            a[(dim + c) * m + dim + c] += d;
        }
        const int n = exact_connections(xo, cfg);
        for (int k = 0; k < n; k++) {
            double sign = 1.0;
            const size_t r = space_locate(s, changed_index(x, cfg, &xo->ch[k], s), &sign);
            /* Column c, row r (a is symmetric, so the storage order does not matter). */
            a[c * m + r] += sign * xo->mel[k];
            if (xo->cplx) {
                const double b = sign * xo->mel_im[k];
                a[(dim + c) * m + dim + r] += sign * xo->mel[k];
                a[c * m + dim + r] += b;   /* row dim + r, column c: B */
                a[(dim + c) * m + r] -= b; /* row r, column dim + c: -B */
            }
        }
    }
}

int ars_exact_dense_energy(const ars_op *op, double *e0) {
    const int L = ars_op_size(op), D = ars_op_two_s(op) + 1;
    int *two_ms = malloc(EXACT_MAX_SECTORS * sizeof *two_ms);
    if (two_ms == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for dense diagonalisation");
    }
    size_t most = 0;
    (void)ars_exact_lanczos_states(op, ARS_EXACT_ANY_SECTOR, &most);
    exact_op xo = {0};
    int status = exact_op_init(&xo, op);
    if (status != ARS_OK) {
        free(two_ms);
        return status;
    }
    if (most == 0 || most > ARS_EXACT_DENSE_MAX_STATES) {
        exact_op_free(&xo);
        free(two_ms);
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "dense diagonalisation is limited to blocks of %zu states (%d sites of "
                       "spin %d/2)",
                       ARS_EXACT_DENSE_MAX_STATES, L, D - 1);
    }
    const size_t mm = ars_op_is_complex(op) ? 2 * most : most;
    double *a = malloc(mm * mm * sizeof *a);
    if (a == NULL) {
        exact_op_free(&xo);
        free(two_ms);
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for a dense %zu x %zu matrix", most, most);
    }
    const int nblocks = sectors_of(op, ARS_EXACT_ANY_SECTOR, two_ms, EXACT_MAX_SECTORS);
    double best = INFINITY;
    const int threads = ars_blas_serial_begin();
    for (int blk = 0; blk < nblocks && status == ARS_OK; blk++) {
        space s;
        status = space_init(&s, L, D, two_ms[blk], 1);
        if (status != ARS_OK) {
            break;
        }
        double e = 0.0;
        dense_block(a, s.dim, &xo, &s);
        status = dense_lowest(a, (int)(xo.cplx ? 2 * s.dim : s.dim), &e);
        best = fmin(best, e);
        space_free(&s);
    }
    ars_blas_serial_end(threads);
    exact_op_free(&xo);
    free(a);
    free(two_ms);
    if (status == ARS_OK) {
        *e0 = best;
    }
    return status;
}
