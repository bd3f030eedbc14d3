/*
 * Specification of the optimisers: the SR natural gradient equals a dense solve written out in
 * the test (in both the parameter-space and the sample-space forms, with and without SPRING's
 * prior), SPRING with momentum 0 is SR with sgd, Adam follows Kingma & Ba
 * step by step, the results do not depend on the thread count, and a singular S is reported.
 */
#include "test_util.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_rng.h>

#include "core/ars_common.h"
#include "opt/optimizer.h"
#include "opt/sr.h"

static double *random_matrix(size_t n, uint64_t seed) {
    double *a = malloc(n * sizeof(double));
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, seed);
    for (size_t i = 0; i < n; i++) {
        a[i] = 2.0 * gsl_rng_uniform(r) - 1.0;
    }
    gsl_rng_free(r);
    return a;
}

/* O (P x n) centred over the samples (a new array), and the mean of e (n) in *emean. */
static double *centred(const double *O, const double *e, size_t P, size_t n, double *emean) {
    *emean = 0.0;
    for (size_t b = 0; b < n; b++) {
        *emean += e[b] / (double)n;
    }
    double *Oc = malloc((P * n > 0 ? P * n : 1) * sizeof(double));
    for (size_t k = 0; k < P; k++) {
        double m = 0.0;
        for (size_t b = 0; b < n; b++) {
            m += O[k * n + b] / (double)n;
        }
        for (size_t b = 0; b < n; b++) {
            Oc[k * n + b] = O[k * n + b] - m;
        }
    }
    return Oc;
}

/* x = (S + shift I)^-1 (F + shift p) with S and F built directly from the definitions (LU
 * solve): the minimiser of |Y x - eps|^2 + shift |x - p|^2 (p = NULL: zero). */
static void reference_direction(double *x, const double *O, const double *e, size_t P, size_t n,
                                double shift, const double *p) {
    double emean;
    double *Oc = centred(O, e, P, n, &emean);
    gsl_matrix *S = gsl_matrix_alloc(P, P);
    gsl_vector *F = gsl_vector_alloc(P), *xv = gsl_vector_alloc(P);
    for (size_t i = 0; i < P; i++) {
        double f = 0.0;
        for (size_t b = 0; b < n; b++) {
            f += 2.0 / (double)n * Oc[i * n + b] * (e[b] - emean);
        }
        gsl_vector_set(F, i, f + (p != NULL ? shift * p[i] : 0.0));
        for (size_t j = 0; j < P; j++) {
            double s = 0.0;
            for (size_t b = 0; b < n; b++) {
                s += Oc[i * n + b] * Oc[j * n + b] / (double)n;
            }
            gsl_matrix_set(S, i, j, s + (i == j ? shift : 0.0));
        }
    }
    gsl_permutation *perm = gsl_permutation_alloc(P);
    int sign;
    gsl_linalg_LU_decomp(S, perm, &sign);
    gsl_linalg_LU_solve(S, perm, F, xv);
    for (size_t i = 0; i < P; i++) {
        x[i] = gsl_vector_get(xv, i);
    }
    gsl_permutation_free(perm);
    gsl_vector_free(F);
    gsl_vector_free(xv);
    gsl_matrix_free(S);
    free(Oc);
}

/* The SR direction x (P) of random O and energies, and the dense reference ref (P); with
 * float32, from float32 Gram products. */
static void sr_against_reference(double *x, double *ref, size_t P, size_t n, double shift,
                                 const double *prior, int float32) {
    double *O = random_matrix(P * n, 11 + P), *e = random_matrix(n, 12 + n);
    reference_direction(ref, O, e, P, n, shift, prior);
    double emean = 0.0;
    for (size_t b = 0; b < n; b++) {
        emean += e[b] / (double)n;
    }
    ars_sr *sr = ars_sr_alloc(P, n);
    assert_int_equal(sr->sample_space, n < P);
    if (float32) {
        assert_int_equal(ars_sr_set_float32(sr), ARS_OK);
    }
    double gnorm;
    assert_int_equal(ars_sr_direction(sr, x, &gnorm, O, e, emean, shift, 1, prior), ARS_OK);
    ars_sr_free(sr);
    free(O);
    free(e);
}

static void check_sr(size_t P, size_t n, double shift, const double *prior) {
    double *ref = malloc(P * sizeof(double)), *x = malloc(P * sizeof(double));
    sr_against_reference(x, ref, P, n, shift, prior, 0);
    assert_allclose(x, ref, P, 1e-10, 1e-9);
    free(ref);
    free(x);
}

static void test_sr_in_parameter_space_equals_a_dense_solve(void **state) {
    (void)state;
    check_sr(40, 300, 0.01, NULL);  /* n >= P */
    check_sr(600, 700, 0.01, NULL); /* 3 x 3 blocks of the Gram matrix, the last partial */
}

static void test_sr_in_sample_space_equals_a_dense_solve(void **state) {
    (void)state;
    check_sr(300, 50, 0.02, NULL);  /* n < P: the push-through identity */
    check_sr(257, 129, 1e-3, NULL); /* sizes that are not multiples of the block */
    check_sr(900, 600, 1e-3, NULL); /* 3 x 3 blocks of the Gram matrix, the last partial */
}

/* The Gram matrix from float32 products (ars_sr_set_float32): the direction stays within 1e-4
 * of the dense float64 solve (relative, Euclidean), and it is not the float64 one: the float32
 * products are in use. Both spaces, with a prior, and with blocks of the Gram matrix. */
static void check_sr_float32(size_t P, size_t n, double shift, const double *prior) {
    double *ref = malloc(P * sizeof(double)), *x = malloc(P * sizeof(double));
    sr_against_reference(x, ref, P, n, shift, prior, 1);
    double d2 = 0.0, r2 = 0.0;
    for (size_t k = 0; k < P; k++) {
        d2 += (x[k] - ref[k]) * (x[k] - ref[k]);
        r2 += ref[k] * ref[k];
    }
    const double rel = sqrt(d2 / r2);
    assert_true(rel < 1e-4);
    assert_true(rel > 1e-10);
    free(ref);
    free(x);
}

static void test_sr_with_a_float32_gram_matrix_stays_within_1e_4_of_the_dense_solve(void **state) {
    (void)state;
    double *p = random_matrix(300, 99);
    check_sr_float32(40, 300, 0.01, NULL);  /* parameter space */
    check_sr_float32(600, 700, 1e-3, NULL); /* 2 x 2 blocks of 512, the last partial */
    check_sr_float32(300, 50, 0.02, NULL);  /* sample space */
    check_sr_float32(900, 600, 1e-3, NULL); /* 2 x 2 blocks of 512, the last partial */
    check_sr_float32(257, 129, 0.5, p);     /* with a prior */
    free(p);
}

/* SPRING's solve (a prior p): both spaces give the minimiser of |Y x - eps|^2 + shift |x - p|^2,
 * the dense solution of (S + shift) x = F + shift p. The prior is of the size of SR's own
 * directions, so that a wrong sign or scale of either term shows. */
static void test_sr_with_a_prior_equals_a_dense_solve_in_both_spaces(void **state) {
    (void)state;
    double *p = random_matrix(300, 99);
    check_sr(40, 300, 0.01, p); /* parameter space */
    check_sr(300, 50, 0.02, p); /* sample space */
    check_sr(257, 129, 0.5, p); /* a large shift: x is mostly the prior */
    free(p);
}

/* step_metric is x^T S x of the direction just computed: compared with |Oc^T x|^2 / n built
 * directly from the definition (Oc from the original O). Sample space (with and without a
 * prior: the closed form from the solve's vectors), parameter space and the plain gradient (one
 * pass over Oc). */
static void check_step_metric(size_t P, size_t n, double shift, const double *prior, int use_sr,
                              int float32) {
    double *O = random_matrix(P * n, 21 + P), *e = random_matrix(n, 22 + n);
    double emean;
    double *Oc = centred(O, e, P, n, &emean);
    double *x = malloc(P * sizeof(double));
    ars_sr *sr = ars_sr_alloc(P, n);
    if (float32) {
        assert_int_equal(ars_sr_set_float32(sr), ARS_OK);
    }
    double gnorm;
    assert_int_equal(ars_sr_direction(sr, x, &gnorm, O, e, emean, shift, use_sr, prior), ARS_OK);
    double want = 0.0;
    for (size_t b = 0; b < n; b++) {
        double d = 0.0;
        for (size_t k = 0; k < P; k++) {
            d += Oc[k * n + b] * x[k];
        }
        want += d * d / (double)n;
    }
    assert_true(want > 0.0);
    /* float32: Oc and the Gram matrix in float32, so x^T S x to about 1e-6 (measured). */
    assert_true(fabs(sr->step_metric - want) <= (float32 ? 1e-5 : 1e-10) * want);
    ars_sr_free(sr);
    free(x);
    free(Oc);
    free(O);
    free(e);
}

static void test_step_metric_is_x_s_x_of_the_direction(void **state) {
    (void)state;
    double *p = random_matrix(300, 99);
    check_step_metric(300, 50, 0.02, NULL, 1, 0); /* sample space */
    check_step_metric(900, 600, 1e-3, NULL, 1, 0);
    check_step_metric(257, 129, 0.5, p, 1, 0);    /* sample space with a prior */
    check_step_metric(40, 300, 0.01, NULL, 1, 0); /* parameter space */
    check_step_metric(40, 300, 0.01, p, 1, 0);
    check_step_metric(300, 50, 0.02, NULL, 0, 0);  /* the plain gradient */
    check_step_metric(900, 600, 1e-3, NULL, 1, 1); /* float32 products: sample space */
    check_step_metric(257, 129, 0.5, p, 1, 1);
    check_step_metric(40, 300, 0.01, p, 1, 1); /* parameter space */
    free(p);
}

/* Weighted samples (sr->weights): the direction with weights w_b = m_b / sum m equals the
 * unweighted direction on the samples repeated m_b times (m_b in 1..3), and so does x^T S x,
 * in parameter space, in sample space and with blocks of the Gram matrix; with float32
 * products to 1e-4. */
static void check_weighted_sr(size_t P, size_t n, double shift, int float32) {
    double *O = random_matrix(P * n, 31 + P), *e = random_matrix(n, 32 + n);
    size_t *m = malloc(n * sizeof(size_t));
    size_t N = 0;
    for (size_t b = 0; b < n; b++) {
        m[b] = 1 + (b * 7 + 3) % 3;
        N += m[b];
    }
    double *Ox = malloc(P * N * sizeof(double)), *ex = malloc(N * sizeof(double));
    double *w = malloc(n * sizeof(double));
    double mean_w = 0.0, mean_x = 0.0;
    for (size_t b = 0, j = 0; b < n; b++) {
        w[b] = (double)m[b] / (double)N;
        mean_w += w[b] * e[b];
        for (size_t r = 0; r < m[b]; r++, j++) {
            ex[j] = e[b];
            mean_x += e[b] / (double)N;
            for (size_t k = 0; k < P; k++) {
                Ox[k * N + j] = O[k * n + b];
            }
        }
    }
    ars_sr *sw = ars_sr_alloc(P, n), *sx = ars_sr_alloc(P, N);
    if (float32) {
        assert_int_equal(ars_sr_set_float32(sw), ARS_OK);
        assert_int_equal(ars_sr_set_float32(sx), ARS_OK);
    }
    sw->weights = w;
    double *xw = malloc(P * sizeof(double)), *xx = malloc(P * sizeof(double)), gw, gx;
    assert_int_equal(ars_sr_direction(sw, xw, &gw, O, e, mean_w, shift, 1, NULL), ARS_OK);
    assert_int_equal(ars_sr_direction(sx, xx, &gx, Ox, ex, mean_x, shift, 1, NULL), ARS_OK);
    const double tol = float32 ? 1e-4 : 1e-9;
    assert_allclose(xw, xx, P, tol, tol);
    assert_true(fabs(gw - gx) <= tol * gx);
    assert_true(fabs(sw->step_metric - sx->step_metric) <= tol * sx->step_metric);
    ars_sr_free(sw);
    ars_sr_free(sx);
    free(xw);
    free(xx);
    free(w);
    free(Ox);
    free(ex);
    free(m);
    free(O);
    free(e);
}

static void test_weighted_sr_is_sr_on_the_samples_repeated_by_their_weights(void **state) {
    (void)state;
    check_weighted_sr(40, 300, 0.01, 0);  /* parameter space */
    check_weighted_sr(300, 50, 0.02, 0);  /* sample space (n and the repeated 100 < P) */
    check_weighted_sr(900, 600, 1e-3, 0); /* blocks; weighted in sample space, repeated not */
    check_weighted_sr(257, 129, 1e-3, 1); /* float32 products */
}

/* With momentum 0 the prior is zero: spring's steps are SR with sgd, bit for bit. With
 * momentum mu its state is the last direction, and the next solve is drawn to mu times it. */
static void test_spring_with_zero_momentum_is_sr_with_sgd(void **state) {
    (void)state;
    const size_t P = 60, n = 24;
    ars_opt *sg = ars_opt_alloc(ars_opt_sgd, P, (const double[]){0.9, 0.999, 1e-8, 0.0});
    ars_opt *sp = ars_opt_alloc(ars_opt_spring, P, (const double[]){0.9, 0.999, 1e-8, 0.0});
    double *prior = malloc(P * sizeof(double)), xa[60], xb[60], pa[60] = {0}, pb[60] = {0}, g;
    ars_sr *sr = ars_sr_alloc(P, n);
    for (int step = 0; step < 3; step++) {
        double *e = random_matrix(n, 40 + (uint64_t)step);
        double *Oa = random_matrix(P * n, 50 + (uint64_t)step);
        double *Ob = malloc(P * n * sizeof(double));
        memcpy(Ob, Oa, P * n * sizeof(double));
        assert_int_equal(ars_sr_direction(sr, xa, &g, Oa, e, 0.1, 0.01, 1, NULL), ARS_OK);
        ars_opt_spring->prior(sp, prior);
        assert_int_equal(ars_sr_direction(sr, xb, &g, Ob, e, 0.1, 0.01, 1, prior), ARS_OK);
        ars_opt_step(sg, pa, xa, 0.05);
        ars_opt_step(sp, pb, xb, 0.05);
        assert_memory_equal(pa, pb, sizeof pa);
        assert_memory_equal(sp->vec[0], xb, sizeof xb); /* the state: the last direction */
        free(e);
        free(Oa);
        free(Ob);
    }
    sp->hyper[ARS_OPT_MOMENTUM] = 0.75;
    ars_opt_spring->prior(sp, prior);
    for (size_t k = 0; k < P; k++) {
        assert_true(prior[k] == 0.75 * xb[k]);
    }
    ars_sr_free(sr);
    ars_opt_free(sg);
    ars_opt_free(sp);
    free(prior);
}

static void test_plain_gradient_is_the_covariance_of_energy_and_O(void **state) {
    (void)state;
    const size_t P = 7, n = 20;
    double *O = random_matrix(P * n, 3), *e = random_matrix(n, 4);
    double x[7], want[7], gnorm, emean = 0.0, om[7] = {0};
    for (size_t b = 0; b < n; b++) {
        emean += e[b] / (double)n;
    }
    for (size_t k = 0; k < P; k++) {
        for (size_t b = 0; b < n; b++) {
            om[k] += O[k * n + b] / (double)n;
        }
        want[k] = 0.0;
        for (size_t b = 0; b < n; b++) {
            want[k] += 2.0 / (double)n * (e[b] - emean) * (O[k * n + b] - om[k]);
        }
    }
    ars_sr *sr = ars_sr_alloc(P, n);
    assert_int_equal(ars_sr_direction(sr, x, &gnorm, O, e, emean, 0.0, 0, NULL), ARS_OK);
    assert_allclose(x, want, P, 1e-14, 1e-12);
    double norm = 0.0;
    for (size_t k = 0; k < P; k++) {
        norm += want[k] * want[k];
    }
    assert_true(fabs(gnorm - sqrt(norm)) < 1e-12);
    ars_sr_free(sr);
    free(O);
    free(e);
}

/* The spectral regularisation of sr.h written out: S = Oc Oc^T / n diagonalised (GSL, P x P,
 * in both cases), each eigendirection's force rho_k = v_k . F and the variance of its
 * per-sample forces v_k . f_b, f_b = 2 Oc[:, b] (e_b - <e>), then
 * x = sum_k v_k rho_k r_k / (lambda_k + shift). */
static void reference_spectral(double *x, const double *O, const double *e, size_t P, size_t n,
                               double shift, double snr_tol, double pinv_tol) {
    double emean;
    double *Oc = centred(O, e, P, n, &emean);
    gsl_matrix *S = gsl_matrix_alloc(P, P), *V = gsl_matrix_alloc(P, P);
    gsl_vector *lam = gsl_vector_alloc(P);
    for (size_t i = 0; i < P; i++) {
        for (size_t j = 0; j < P; j++) {
            double s = 0.0;
            for (size_t b = 0; b < n; b++) {
                s += Oc[i * n + b] * Oc[j * n + b] / (double)n;
            }
            gsl_matrix_set(S, i, j, s);
        }
    }
    gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc(P);
    gsl_eigen_symmv(S, lam, V, w);
    gsl_eigen_symmv_free(w);
    double lmax = 0.0;
    for (size_t k = 0; k < P; k++) {
        lmax = fmax(lmax, gsl_vector_get(lam, k));
    }
    memset(x, 0, P * sizeof(double));
    for (size_t k = 0; k < P; k++) {
        const double l = gsl_vector_get(lam, k);
        if (!(l > 1e-12 * lmax)) {
            continue; /* the null space of a rank-deficient S (n <= P) */
        }
        double q[64], rho = 0.0;
        for (size_t b = 0; b < n; b++) {
            q[b] = 0.0;
            for (size_t i = 0; i < P; i++) {
                q[b] += gsl_matrix_get(V, i, k) * 2.0 * Oc[i * n + b] * (e[b] - emean);
            }
            rho += q[b] / (double)n;
        }
        double var = 0.0;
        for (size_t b = 0; b < n; b++) {
            var += (q[b] - rho) * (q[b] - rho) / (double)n;
        }
        const double snr = fabs(rho) / sqrt(var / (double)n);
        const double r = 1.0 / (1.0 + pow(pinv_tol * lmax / l, 6)) / (1.0 + pow(snr_tol / snr, 6));
        for (size_t i = 0; i < P; i++) {
            x[i] += gsl_matrix_get(V, i, k) * rho * r / (l + shift);
        }
    }
    gsl_vector_free(lam);
    gsl_matrix_free(V);
    gsl_matrix_free(S);
    free(Oc);
}

/* The spectral solve (the TDVP's regularization = snr) equals the formula written out with
 * GSL's eigensolver, in parameter space (n > P) and in sample space (n < P, where the n x n
 * eigenproblem replaces the P x P one); some directions are cut by their noise and some kept;
 * with both tolerances 0 it is the Cholesky solve of (S + shift) x = F; and it is the same bits
 * for 1 and 2 threads. */
static void test_spectral_regularisation_equals_the_eigenbasis_formula(void **state) {
    (void)state;
    const size_t shapes[][2] = {{8, 40}, {20, 12}};
    for (int c = 0; c < 2; c++) {
        const size_t P = shapes[c][0], n = shapes[c][1];
        double *O = random_matrix(P * n, 31 + P), *e = random_matrix(n, 32 + n);
        /* a signal: e correlates with the first parameter's O */
        for (size_t b = 0; b < n; b++) {
            e[b] += 3.0 * O[b];
        }
        double *O2 = malloc(P * n * sizeof(double)), *ref = malloc(P * sizeof(double));
        double *x = malloc(P * sizeof(double)), *x2 = malloc(P * sizeof(double));
        double emean = 0.0;
        for (size_t b = 0; b < n; b++) {
            emean += e[b] / (double)n;
        }
        for (int t = 0; t < 3; t++) {
            const double snr_tol = t == 0 ? 2.0 : t == 1 ? 0.5 : 0.0;
            const double pinv_tol = t == 2 ? 0.0 : 1e-2, shift = 1e-3;
            reference_spectral(ref, O, e, P, n, shift, snr_tol, pinv_tol);
            ars_sr *sr = ars_sr_alloc(P, n);
            assert_int_equal(sr->sample_space, n < P);
            assert_int_equal(ars_sr_set_snr(sr, snr_tol, pinv_tol), ARS_OK);
            memcpy(O2, O, P * n * sizeof(double));
            double g;
            assert_int_equal(ars_sr_direction(sr, x, &g, O2, e, emean, shift, 1, NULL), ARS_OK);
            assert_allclose(x, ref, P, 1e-10, 1e-9);
            if (t == 0) { /* the noise cut changes the solution (it is not the identity) */
                double *open = malloc(P * sizeof(double)), diff = 0.0, size = 0.0;
                reference_spectral(open, O, e, P, n, shift, 0.0, pinv_tol);
                for (size_t k = 0; k < P; k++) {
                    diff = fmax(diff, fabs(open[k] - x[k]));
                    size = fmax(size, fabs(open[k]));
                }
                assert_true(diff > 1e-2 * size && size > 0.0);
                free(open);
            }
            if (t == 2) { /* no cut-off: (S + shift)^-1 F (its null space has no force) */
                double *chol = malloc(P * sizeof(double));
                reference_direction(chol, O, e, P, n, shift, NULL);
                assert_allclose(x, chol, P, 1e-10, 1e-9);
                free(chol);
            }
            const int saved = omp_get_max_threads();
            omp_set_num_threads(2);
            memcpy(O2, O, P * n * sizeof(double));
            assert_int_equal(ars_sr_direction(sr, x2, &g, O2, e, emean, shift, 1, NULL), ARS_OK);
            omp_set_num_threads(saved);
            assert_memory_equal(x, x2, P * sizeof(double));
            ars_sr_free(sr);
        }
        free(O);
        free(O2);
        free(e);
        free(ref);
        free(x);
        free(x2);
    }
}

/* P x n with n < P: sample space, n = 1100 gives 3 x 3 blocks of the Gram matrix in float64 (256)
 * and 3 x 3 in float32 (512), the last partial in both. */
static void check_sr_thread_independence(int float32) {
    const size_t P = 1300, n = 1100;
    double *O1 = random_matrix(P * n, 5), *O2 = malloc(P * n * sizeof(double));
    double *e = random_matrix(n, 6), *x1 = malloc(P * sizeof(double)),
           *x2 = malloc(P * sizeof(double)), g1, g2;
    memcpy(O2, O1, P * n * sizeof(double));
    ars_sr *sr = ars_sr_alloc(P, n);
    if (float32) {
        assert_int_equal(ars_sr_set_float32(sr), ARS_OK);
    }
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    assert_int_equal(ars_sr_direction(sr, x1, &g1, O1, e, 0.1, 0.01, 1, NULL), ARS_OK);
    const double metric1 = sr->step_metric;
    omp_set_num_threads(2);
    assert_int_equal(ars_sr_direction(sr, x2, &g2, O2, e, 0.1, 0.01, 1, NULL), ARS_OK);
    omp_set_num_threads(saved);
    assert_memory_equal(x1, x2, P * sizeof(double));
    assert_memory_equal(&metric1, &sr->step_metric, sizeof(double));
    ars_sr_free(sr);
    free(O1);
    free(O2);
    free(e);
    free(x1);
    free(x2);
}

static void test_sr_is_bitwise_independent_of_the_thread_count(void **state) {
    (void)state;
    check_sr_thread_independence(0);
    check_sr_thread_independence(1); /* float32 Gram products */
}

static void test_singular_s_without_shift_is_reported(void **state) {
    (void)state;
    const size_t P = 30, n = 10; /* centred O has rank <= n - 1: T is singular */
    double *O = random_matrix(P * n, 7), *e = random_matrix(n, 8), x[30], g;
    ars_sr *sr = ars_sr_alloc(P, n);
    assert_int_equal(ars_sr_direction(sr, x, &g, O, e, 0.0, 0.0, 1, NULL), ARS_STATUS_ENONFINITE);
    ars_sr_free(sr);
    free(O);
    free(e);
}

static void test_adam_follows_kingma_and_ba(void **state) {
    (void)state;
    ars_opt *o = ars_opt_alloc(ars_opt_adam, 2, (const double[]){0.9, 0.999, 1e-8, 0.0});
    double p[2] = {1.0, -2.0};
    const double g1[2] = {0.5, -0.25}, g2[2] = {0.1, 0.3};
    ars_opt_step(o, p, g1, 0.01);
    /* Step 1: m_hat = g, v_hat = g^2: each parameter moves by lr * sign(g) (up to eps). */
    assert_true(fabs(p[0] - (1.0 - 0.01 * 0.5 / (0.5 + 1e-8))) < 1e-15);
    assert_true(fabs(p[1] - (-2.0 + 0.01 * 0.25 / (0.25 + 1e-8))) < 1e-15);
    ars_opt_step(o, p, g2, 0.01);
    const double m0 = 0.9 * 0.1 * 0.5 + 0.1 * 0.1, v0 = 0.999 * 0.001 * 0.25 + 0.001 * 0.01;
    const double want0 = 1.0 - 0.01 * 0.5 / (0.5 + 1e-8) -
                         0.01 * (m0 / (1 - 0.81)) / (sqrt(v0 / (1 - 0.999 * 0.999)) + 1e-8);
    assert_true(fabs(p[0] - want0) < 1e-14);
    assert_int_equal(o->step, 2);
    ars_opt_free(o);
    ars_opt *s = ars_opt_alloc(ars_opt_sgd, 2, (const double[]){0, 0, 0, 0});
    double q[2] = {1.0, 1.0};
    ars_opt_step(s, q, g1, 0.1);
    assert_true(q[0] == 1.0 - 0.1 * 0.5 && q[1] == 1.0 + 0.1 * 0.25);
    ars_opt_free(s);
}

static void test_exponential_schedule_decays_to_its_floor(void **state) {
    (void)state;
    assert_true(ars_opt_schedule(0, 0.02, 0.5, 0.0, 10) == 0.02);
    assert_true(fabs(ars_opt_schedule(1, 0.02, 0.5, 0.0, 3) - 0.0025) < 1e-18);
    assert_true(ars_opt_schedule(1, 0.02, 0.5, 0.001, 30) == 0.001);
}

/* The registry: unique names that ars_opt_type_find returns, hyperparameter masks within the
 * table, state vectors within the limit. */
static void test_every_optimizer_type_is_registered_once(void **state) {
    (void)state;
    int n = 0;
    for (int k = 0; ars_opt_types[k] != NULL; k++, n++) {
        const ars_opt_type *t = ars_opt_types[k];
        assert_ptr_equal(ars_opt_type_find(t->name), t);
        assert_true(t->n_vectors >= 0 && t->n_vectors <= ARS_OPT_MAX_VECTORS);
        assert_int_equal(t->hyper_mask >> ARS_OPT_N_HYPER, 0);
        assert_non_null(t->update);
    }
    assert_int_equal(n, 3);
    /* config order: sgd = 0, adam = 1, spring = 2 */
    assert_ptr_equal(ars_opt_types[0], ars_opt_sgd);
    assert_ptr_equal(ars_opt_types[1], ars_opt_adam);
    assert_ptr_equal(ars_opt_types[2], ars_opt_spring);
    assert_non_null(ars_opt_spring->prior);
    assert_null(ars_opt_sgd->prior);
    assert_null(ars_opt_adam->prior);
    assert_null(ars_opt_type_find("adamw"));
}

/* A type defined outside the registry (heavy-ball momentum, one state vector) runs through the
 * generic allocation and step: its vector starts at zero and holds its state. */
static void momentum_update(ars_opt *o, double *params, const double *x, double lr) {
    double *u = o->vec[0];
    for (size_t k = 0; k < o->P; k++) {
        u[k] = o->hyper[ARS_OPT_BETA1] * u[k] + x[k];
        params[k] -= lr * u[k];
    }
}

static void test_a_new_optimizer_type_needs_only_its_own_definition(void **state) {
    (void)state;
    static const ars_opt_vector vecs[1] = {{"velocity", NULL}};
    const ars_opt_type momentum = {"momentum", 1u << ARS_OPT_BETA1, 1, vecs, momentum_update, NULL};
    ars_opt *o = ars_opt_alloc(&momentum, 3, (const double[]){0.5, 0.0, 0.0, 0.0});
    assert_non_null(o);
    double p[3] = {1.0, 2.0, 3.0};
    const double x[3] = {1.0, -1.0, 0.5};
    ars_opt_step(o, p, x, 0.1);
    ars_opt_step(o, p, x, 0.1);
    /* u1 = x, u2 = 1.5 x: p = p0 - 0.1 * 2.5 x */
    for (int k = 0; k < 3; k++) {
        assert_true(fabs(o->vec[0][k] - 1.5 * x[k]) < 1e-15);
        assert_true(fabs(p[k] - ((double)(k + 1) - 0.25 * x[k])) < 1e-15);
    }
    assert_int_equal(o->step, 2);
    ars_opt_free(o);
}

int main(void) {
    gsl_set_error_handler_off(); /* as the program does: GSL reports by return code */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sr_in_parameter_space_equals_a_dense_solve),
        cmocka_unit_test(test_sr_in_sample_space_equals_a_dense_solve),
        cmocka_unit_test(test_sr_with_a_prior_equals_a_dense_solve_in_both_spaces),
        cmocka_unit_test(test_step_metric_is_x_s_x_of_the_direction),
        cmocka_unit_test(test_weighted_sr_is_sr_on_the_samples_repeated_by_their_weights),
        cmocka_unit_test(test_spring_with_zero_momentum_is_sr_with_sgd),
        cmocka_unit_test(test_plain_gradient_is_the_covariance_of_energy_and_O),
        cmocka_unit_test(test_sr_is_bitwise_independent_of_the_thread_count),
        cmocka_unit_test(test_sr_with_a_float32_gram_matrix_stays_within_1e_4_of_the_dense_solve),
        cmocka_unit_test(test_spectral_regularisation_equals_the_eigenbasis_formula),
        cmocka_unit_test(test_singular_s_without_shift_is_reported),
        cmocka_unit_test(test_adam_follows_kingma_and_ba),
        cmocka_unit_test(test_exponential_schedule_decays_to_its_floor),
        cmocka_unit_test(test_every_optimizer_type_is_registered_once),
        cmocka_unit_test(test_a_new_optimizer_type_needs_only_its_own_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
