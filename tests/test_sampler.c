/*
 * Specification of the exact ancestral sampler: the returned log_prob is the network's, the
 * histogram of samples fits the exact distribution (chi-square at a fixed seed), and the bits
 * do not depend on the thread count.
 */
#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "sampler.h"

typedef struct drawn {
    uint8_t *cfg;
    double *log_prob;
} drawn;

static drawn draw(const ars_arnn *net, size_t n, int chunk, int threads, uint64_t seed) {
    drawn d;
    d.cfg = malloc(n * (size_t)net->arch.hilbert.size);
    d.log_prob = malloc(n * sizeof(double));
    assert_non_null(d.cfg);
    assert_non_null(d.log_prob);
    ars_sampler *s = ars_sampler_alloc(net, chunk, threads);
    assert_non_null(s);
    assert_int_equal(ars_sampler_draw(s, d.cfg, d.log_prob, n, seed, 0, NULL), ARS_OK);
    ars_sampler_free(s);
    return d;
}

static void drawn_free(drawn *d) {
    free(d->cfg);
    free(d->log_prob);
}

static void test_log_prob_equals_a_fresh_forward_pass(void **state) {
    (void)state;
    const int dil[3] = {1, 2, 1};
    ars_arch arch = ars_test_arch(12, 2, 3, 6, 3, dil, 1, 1, ARS_ACTIVATION_GELU, ARS_INPUT_ONEHOT);
    ars_arnn *net = ars_test_random_net(&arch, 11, 0.8);
    const size_t n = 300;
    drawn d = draw(net, n, 64, 2, 99);
    const int L = arch.hilbert.size, D = arch.hilbert.local_size;
    ars_arnn_ws *ws = ars_arnn_ws_alloc(net, (int)n);
    double *lpsi = malloc(n * L * D * sizeof(double));
    double *lp = malloc(n * sizeof(double));
    ars_arnn_log_psi(lp, lpsi, d.cfg, net, ws, (int)n);
    for (size_t i = 0; i < n; i++) {
        lp[i] *= ARS_MACHINE_POW;
    }
    /* Same operations in the same order: equal to the last bit. */
    assert_memory_equal(lp, d.log_prob, n * sizeof(double));
    for (size_t i = 0; i < n * (size_t)L; i++) {
        assert_true(d.cfg[i] < D);
    }
    free(lpsi);
    free(lp);
    ars_arnn_ws_free(ws);
    drawn_free(&d);
    ars_arnn_free(net);
}

/* Pearson's chi-square of the sampled histogram against p, pooling bins with expected count
 * below 5 into one; returns the p-value (upper tail). */
static double chi_square_p_value(const uint8_t *cfg, size_t n, const double *p, size_t n_cfg, int L,
                                 int D, double *chi2_out, int *dof_out) {
    double *counts = calloc(n_cfg, sizeof(double));
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        for (int t = 0; t < L; t++) {
            k = k * (size_t)D + cfg[i * (size_t)L + (size_t)t];
        }
        counts[k] += 1.0;
    }
    double chi2 = 0.0, pool_obs = 0.0, pool_exp = 0.0;
    int bins = 0;
    for (size_t k = 0; k < n_cfg; k++) {
        double e = p[k] * (double)n;
        if (e < 5.0) {
            pool_obs += counts[k];
            pool_exp += e;
        } else {
            chi2 += (counts[k] - e) * (counts[k] - e) / e;
            bins++;
        }
    }
    if (pool_exp >= 5.0) {
        chi2 += (pool_obs - pool_exp) * (pool_obs - pool_exp) / pool_exp;
        bins++;
    }
    free(counts);
    *chi2_out = chi2;
    *dof_out = bins - 1;
    return gsl_cdf_chisq_Q(chi2, bins - 1);
}

static void check_histogram(const ars_arch *arch, uint64_t net_seed, size_t n) {
    ars_arnn *net = ars_test_random_net(arch, net_seed, 0.7);
    size_t n_cfg;
    double *lp = ars_test_enumerate_log_prob(net, &n_cfg);
    double *p = malloc(n_cfg * sizeof(double));
    for (size_t k = 0; k < n_cfg; k++) {
        p[k] = exp(lp[k]);
    }
    drawn d = draw(net, n, 1000, 2, 2385);
    const int L = arch->hilbert.size, D = arch->hilbert.local_size;
    double chi2;
    int dof;
    double pv = chi_square_p_value(d.cfg, n, p, n_cfg, L, D, &chi2, &dof);
    /* Fixed seed, so deterministic; a correct sampler fails this with probability 1e-4. */
    if (pv < 1e-4) {
        fail_msg("chi2 = %.2f with %d dof, p-value %.3g", chi2, dof, pv);
    }
    /* Power check: the same histogram against a slightly wrong distribution (each p scaled by
     * 1 +- 10% alternately, renormalised) must be rejected, so this test can fail. */
    double norm = 0.0;
    for (size_t k = 0; k < n_cfg; k++) {
        p[k] *= (k % 2) ? 0.9 : 1.1;
        norm += p[k];
    }
    for (size_t k = 0; k < n_cfg; k++) {
        p[k] /= norm;
    }
    double pv_wrong = chi_square_p_value(d.cfg, n, p, n_cfg, L, D, &chi2, &dof);
    if (pv_wrong > 1e-6) {
        fail_msg("the test cannot tell a 10%% error: p-value %.3g", pv_wrong);
    }
    drawn_free(&d);
    free(p);
    free(lp);
    ars_arnn_free(net);
}

static void test_spin_half_histogram_fits_exact_distribution(void **state) {
    (void)state;
    const int dil[3] = {1, 2, 1};
    ars_arch arch = ars_test_arch(8, 1, 3, 4, 3, dil, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE);
    check_histogram(&arch, 21, 200000);
}

static void test_spin_one_histogram_fits_exact_distribution(void **state) {
    (void)state;
    const int dil[3] = {1, 1, 1};
    ars_arch arch = ars_test_arch(5, 2, 3, 6, 2, dil, 2, 1, ARS_ACTIVATION_TANH, ARS_INPUT_ONEHOT);
    check_histogram(&arch, 22, 200000);
}

static void test_samples_are_bitwise_identical_for_1_2_and_3_threads(void **state) {
    (void)state;
    const int dil[3] = {1, 2, 4};
    ars_arch arch = ars_test_arch(20, 1, 3, 8, 3, dil, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE);
    ars_arnn *net = ars_arnn_alloc(&arch);
    ars_arnn_init_random(net, 7);
    const size_t n = 1000; /* 16 chunks of 64, the last one partial */
    drawn one = draw(net, n, 64, 1, 5);
    drawn two = draw(net, n, 64, 2, 5);
    drawn three = draw(net, n, 64, 3, 5);
    assert_memory_equal(one.cfg, two.cfg, n * 20);
    assert_memory_equal(one.cfg, three.cfg, n * 20);
    assert_memory_equal(one.log_prob, two.log_prob, n * sizeof(double));
    assert_memory_equal(one.log_prob, three.log_prob, n * sizeof(double));
    /* Another seed gives other samples; chunks are not copies of each other. */
    drawn other = draw(net, n, 64, 2, 6);
    assert_memory_not_equal(one.cfg, other.cfg, n * 20);
    assert_memory_not_equal(one.cfg, one.cfg + 64 * 20, 64 * 20);
    drawn_free(&one);
    drawn_free(&two);
    drawn_free(&three);
    drawn_free(&other);
    ars_arnn_free(net);
}

static void test_non_finite_network_is_reported(void **state) {
    (void)state;
    const int dil[2] = {1, 1};
    ars_arch arch = ars_test_arch(4, 1, 2, 3, 2, dil, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE);
    ars_arnn *net = ars_test_random_net(&arch, 3, 0.5);
    net->params[0] = NAN;
    uint8_t cfg[4 * 4];
    double lp[4];
    ars_sampler *s = ars_sampler_alloc(net, 2, 1);
    assert_int_equal(ars_sampler_draw(s, cfg, lp, 4, 1, 0, NULL), ARS_STATUS_ENONFINITE);
    ars_sampler_free(s);
    ars_arnn_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_prob_equals_a_fresh_forward_pass),
        cmocka_unit_test(test_spin_half_histogram_fits_exact_distribution),
        cmocka_unit_test(test_spin_one_histogram_fits_exact_distribution),
        cmocka_unit_test(test_samples_are_bitwise_identical_for_1_2_and_3_threads),
        cmocka_unit_test(test_non_finite_network_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
