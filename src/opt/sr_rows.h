/*
 * The products of sr.c with the centred O (P x n, ld n), written once for both precisions of
 * O: sr.c includes this file twice, with REAL = double / float and NAME(x) = x / x##_f. Every
 * sum runs in double, in a fixed order, so the bits do not depend on the thread count.
 */

/* row_dots[r] = sum_b rows[r][b] w[b] (w == NULL: sum_b rows[r][b]) for rows r < nr, each
 * summed in sample order. */
static inline __attribute__((always_inline)) void
NAME(row_dots)(double *out, const REAL *O, size_t n, const double *w, int nr) {
    double s[SR_ROWS] = {0.0};
    for (size_t b = 0; b < n; b++) {
        const double e = w != NULL ? w[b] : 1.0;
#pragma GCC unroll 8
        for (int r = 0; r < SR_ROWS; r++) {
            if (r < nr) {
                s[r] += w != NULL ? (double)O[(size_t)r * n + b] * e : (double)O[(size_t)r * n + b];
            }
        }
    }
    for (int r = 0; r < nr; r++) {
        out[r] = s[r];
    }
}

/* row_dots on block kb of SR_ROWS rows of O (P x n), with constant bounds where the block is
 * full (so that the sums stay in registers); returns the block's first row. */
static size_t NAME(block_dots)(double *out, const REAL *O, size_t P, size_t n, const double *w,
                               long kb) {
    const size_t k0 = (size_t)kb * SR_ROWS;
    if (P - k0 >= SR_ROWS) {
        NAME(row_dots)(out, O + k0 * n, n, w, SR_ROWS);
    } else {
        NAME(row_dots)(out, O + k0 * n, n, w, (int)(P - k0));
    }
    return k0;
}

/* x = Oc eps for Oc (P x n, ld n): x[k] = sum_b Oc[k, b] eps[b], in sample order. Returns
 * |x|^2, summed in parameter order. */
static double NAME(times_columns)(double *x, const REAL *O, const double *eps, size_t P, size_t n) {
    const long nblocks = (long)((P + SR_ROWS - 1) / SR_ROWS);
#pragma omp parallel for schedule(static) default(none) shared(x, O, eps, P, n, nblocks)
    for (long kb = 0; kb < nblocks; kb++) {
        (void)NAME(block_dots)(x + (size_t)kb * SR_ROWS, O, P, n, eps, kb);
    }
    double norm2 = 0.0;
    for (size_t k = 0; k < P; k++) {
        norm2 += x[k] * x[k];
    }
    return norm2;
}

/* x^T S x = |Oc^T x|^2 / n, straight from O (P x n, centred), with d (n) as scratch: each
 * sample's dot product in parameter order (blocks of samples over the threads), the squares
 * summed in sample order. */
static double NAME(metric_direct)(double *d, const REAL *O, const double *x, size_t P, size_t n) {
    const long nblocks = (long)((n + 255) / 256);
#pragma omp parallel for schedule(static) default(none) shared(d, O, x, P, n, nblocks)
    for (long jb = 0; jb < nblocks; jb++) {
        const size_t b0 = (size_t)jb * 256, b1 = b0 + 256 < n ? b0 + 256 : n;
        for (size_t b = b0; b < b1; b++) {
            d[b] = 0.0;
        }
        for (size_t k = 0; k < P; k++) {
            const REAL *row = O + k * n;
            for (size_t b = b0; b < b1; b++) {
                d[b] += (double)row[b] * x[k];
            }
        }
    }
    double sum = 0.0;
    for (size_t b = 0; b < n; b++) {
        sum += d[b] * d[b];
    }
    return sum / (double)n;
}

/* y = Oc^T p: y[b] = sum_k Oc[k, b] p[k], in parameter order. */
static void NAME(times_rows)(double *y, const REAL *O, const double *p, size_t P, size_t n) {
    memset(y, 0, n * sizeof(double));
    for (size_t k = 0; k < P; k++) {
        const REAL *row = O + k * n;
        for (size_t b = 0; b < n; b++) {
            y[b] += (double)row[b] * p[k];
        }
    }
}
