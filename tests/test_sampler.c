/*
 * Specification of the exact ancestral sampler: the returned log_prob is the network's, the
 * histogram of samples fits the exact distribution (chi-square at a fixed seed), and the bits
 * do not depend on the thread count; the same inside a fixed total-Sz sector (every sample in
 * it) and for symmetrised states.
 */
#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "sample/sampler.h"

typedef struct drawn {
    uint8_t *cfg;
    double *log_prob;
} drawn;

static drawn draw_with(const ars_arnn *net, size_t n, int chunk, int threads, uint64_t seed,
                       ars_sampler_algorithm alg, ars_dtype dtype) {
    drawn d;
    d.cfg = malloc(n * (size_t)net->arch.hilbert.size);
    d.log_prob = malloc(n * sizeof(double));
    assert_non_null(d.cfg);
    assert_non_null(d.log_prob);
    ars_sampler *s = ars_sampler_alloc(net, chunk, threads, alg, dtype);
    assert_non_null(s);
    assert_int_equal(ars_sampler_draw(s, d.cfg, d.log_prob, n, seed, 0, NULL), ARS_OK);
    ars_sampler_free(s);
    return d;
}

/* The default sampler: cached, float64. */
static drawn draw(const ars_arnn *net, size_t n, int chunk, int threads, uint64_t seed) {
    return draw_with(net, n, chunk, threads, seed, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT64);
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
    double *lp = malloc(n * sizeof(double));
    ars_arnn_log_psi(lp, d.cfg, net, ws, (int)n);
    for (size_t i = 0; i < n; i++) {
        lp[i] *= ARS_MACHINE_POW;
    }
    /* Same operations in the same order: equal to the last bit. */
    assert_memory_equal(lp, d.log_prob, n * sizeof(double));
    for (size_t i = 0; i < n * (size_t)L; i++) {
        assert_true(d.cfg[i] < D);
    }
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

static void check_histogram_with(const ars_arch *arch, uint64_t net_seed, size_t n,
                                 ars_dtype dtype) {
    ars_arnn *net = ars_test_random_net(arch, net_seed, 0.7);
    size_t n_cfg;
    double *lp = ars_test_enumerate_log_prob(net, &n_cfg);
    double *p = malloc(n_cfg * sizeof(double));
    for (size_t k = 0; k < n_cfg; k++) {
        p[k] = exp(lp[k]);
    }
    drawn d = draw_with(net, n, 1000, 2, 2385, ARS_SAMPLER_CACHED, dtype);
    const int L = arch->hilbert.size, D = arch->hilbert.local_size;
    double chi2;
    int dof;
    double pv = chi_square_p_value(d.cfg, n, p, n_cfg, L, D, &chi2, &dof);
    /* Fixed seed, so deterministic; a correct sampler fails this with probability 1e-4. */
    if (pv < 1e-4) {
        fail_msg("chi2 = %.2f with %d dof, p-value %.3g", chi2, dof, pv);
    }
    /* Power check: the same histogram against a slightly wrong distribution (each non-zero p
     * scaled by 1 +- 10% alternately, renormalised) must be rejected, so this test can fail.
     * Alternating over the non-zero entries, not over k: in a sector of spin 1 every k has the
     * same parity, and a factor by k % 2 would renormalise away. */
    double norm = 0.0;
    size_t nonzero = 0;
    for (size_t k = 0; k < n_cfg; k++) {
        if (p[k] > 0.0) {
            p[k] *= (nonzero++ % 2) ? 0.9 : 1.1;
        }
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

static void check_histogram(const ars_arch *arch, uint64_t net_seed, size_t n) {
    check_histogram_with(arch, net_seed, n, ARS_DTYPE_FLOAT64);
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
    for (int alg = 0; alg < 2; alg++) {
        ars_sampler *s =
            ars_sampler_alloc(net, 2, 1, (ars_sampler_algorithm)alg, ARS_DTYPE_FLOAT64);
        assert_int_equal(ars_sampler_draw(s, cfg, lp, 4, 1, 0, NULL), ARS_STATUS_ENONFINITE);
        ars_sampler_free(s);
    }
    ars_arnn_free(net);
}

/* Architectures for the cached-vs-full comparisons: spin-1/2 and spin-1, groups, single and
 * per-layer dilations (some longer than the chain), bias on and off, both inputs. */
typedef struct cache_case {
    int size, two_s, layers, features, K, dil[4], groups, bias;
    ars_activation act;
    ars_input input;
    int sub; /* sublattice channels (0: none) */
} cache_case;

static const cache_case cache_cases[] = {
    {12, 1, 3, 5, 3, {1, 1, 1}, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE, 0},
    {15, 1, 4, 6, 3, {2, 2, 2, 2}, 2, 1, ARS_ACTIVATION_GELU, ARS_INPUT_ONEHOT, 0},
    {10, 2, 3, 6, 2, {1, 2, 4}, 3, 0, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE, 0},
    {9, 2, 4, 4, 4, {3, 1, 2, 1}, 2, 1, ARS_ACTIVATION_RELU, ARS_INPUT_ONEHOT, 0},
    {7, 3, 2, 9, 3, {1, 20}, 1, 0, ARS_ACTIVATION_IDENTITY, ARS_INPUT_VALUE, 0},
    {20, 1, 1, 2, 5, {3}, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_ONEHOT, 0},
    {11, 1, 3, 5, 3, {1, 2, 4}, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE, 2},
};

static ars_arnn *cache_case_net(const cache_case *c, uint64_t seed) {
    ars_arch a = ars_test_arch(c->size, c->two_s, c->layers, c->features, c->K, c->dil, c->groups,
                               c->bias, c->act, c->input);
    if (c->sub > 0) {
        a.sublattice = c->sub;
    }
    return ars_test_random_net(&a, seed, 0.8);
}

/* The cached forward (ring buffers, one site at a time) gives the full pass's conditionals --
 * to the last bit, hence within the required 1e-12. */
static void test_cached_conditionals_equal_the_full_forward_pass(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cache_cases / sizeof cache_cases[0]; i++) {
        ars_arnn *net = cache_case_net(&cache_cases[i], 500 + i);
        const int L = net->arch.hilbert.size, D = net->arch.hilbert.local_size;
        const size_t n = 45; /* chunks of 16: a partial chunk and a batch tail */
        drawn d = draw(net, n, 16, 2, 8);
        double *full = malloc(n * L * D * sizeof(double));
        double *cached = malloc(n * L * D * sizeof(double));
        double *lp = malloc(n * sizeof(double));
        ars_arnn_ws *ws = ars_arnn_ws_alloc(net, (int)n);
        ars_arnn_conditionals(full, d.cfg, net, ws, (int)n, L);
        ars_sampler *s = ars_sampler_alloc(net, 16, 2, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT64);
        ars_sampler_evaluate(s, cached, lp, d.cfg, n);
        assert_allclose(cached, full, n * L * D, 1e-12, 0.0);
        assert_memory_equal(cached, full, n * L * D * sizeof(double));
        assert_memory_equal(lp, d.log_prob, n * sizeof(double));
        ars_sampler_free(s);
        ars_arnn_ws_free(ws);
        free(full);
        free(cached);
        free(lp);
        drawn_free(&d);
        ars_arnn_free(net);
    }
}

static void test_cached_sampler_draws_the_samples_of_the_full_sampler(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cache_cases / sizeof cache_cases[0]; i++) {
        ars_arnn *net = cache_case_net(&cache_cases[i], 600 + i);
        const size_t n = 70, L = (size_t)net->arch.hilbert.size;
        drawn full = draw_with(net, n, 24, 2, 77, ARS_SAMPLER_FULL, ARS_DTYPE_FLOAT64);
        drawn cached = draw_with(net, n, 24, 1, 77, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT64);
        assert_memory_equal(full.cfg, cached.cfg, n * L);
        assert_memory_equal(full.log_prob, cached.log_prob, n * sizeof(double));
        drawn_free(&full);
        drawn_free(&cached);
        ars_arnn_free(net);
    }
}

/* float32: conditionals within 1e-5 of float64; the float32 samples fit the exact
 * distribution (chi-square below); log_prob within 1e-5 per site of the float64 value. */
static void test_float32_conditionals_agree_with_float64_to_1e_5(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cache_cases / sizeof cache_cases[0]; i++) {
        ars_arnn *net = cache_case_net(&cache_cases[i], 700 + i);
        const int L = net->arch.hilbert.size, D = net->arch.hilbert.local_size;
        const size_t n = 100;
        drawn d = draw_with(net, n, 32, 2, 9, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT32);
        double *f64 = malloc(n * L * D * sizeof(double));
        double *f32 = malloc(n * L * D * sizeof(double));
        double *lp64 = malloc(n * sizeof(double));
        double *lp32 = malloc(n * sizeof(double));
        ars_sampler *s64 = ars_sampler_alloc(net, 32, 2, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT64);
        ars_sampler *s32 = ars_sampler_alloc(net, 32, 2, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT32);
        ars_sampler_evaluate(s64, f64, lp64, d.cfg, n);
        ars_sampler_evaluate(s32, f32, lp32, d.cfg, n);
        assert_allclose(f32, f64, n * L * D, 1e-5, 0.0);
        assert_allclose(lp32, lp64, n, 1e-5 * L, 0.0);
        assert_memory_equal(lp32, d.log_prob, n * sizeof(double)); /* the draw's own value */
        ars_sampler_free(s64);
        ars_sampler_free(s32);
        free(f64);
        free(f32);
        free(lp64);
        free(lp32);
        drawn_free(&d);
        ars_arnn_free(net);
    }
}

static void test_float32_histogram_fits_exact_distribution(void **state) {
    (void)state;
    const int dil[3] = {1, 2, 1};
    ars_arch arch = ars_test_arch(8, 1, 3, 4, 3, dil, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE);
    check_histogram_with(&arch, 23, 200000, ARS_DTYPE_FLOAT32);
}

/* A network of `arch` restricted to the sector two_m and symmetrised with sym. */
static ars_arch with_sector(ars_arch arch, int two_m, ars_sym sym) {
    ars_hilbert_set_sector(&arch.hilbert, two_m);
    arch.symmetry = sym;
    return arch;
}

/* A cache case (cache_cases[cc]) in the sector 2 M = two_m, symmetrised by sym, with random
 * weights from seed. */
typedef struct sector_case {
    int cc, two_m;
    ars_sym sym;
} sector_case;

static ars_arnn *sector_case_net(const sector_case *sc, uint64_t seed) {
    const cache_case *c = &cache_cases[sc->cc];
    ars_arch a = ars_test_arch(c->size, c->two_s, c->layers, c->features, c->K, c->dil, c->groups,
                               c->bias, c->act, c->input);
    if (c->sub > 0) {
        a.sublattice = c->sub;
    }
    a = with_sector(a, sc->two_m, sc->sym);
    return ars_test_random_net(&a, seed, 0.8);
}

static void assert_all_in_sector(const drawn *d, const ars_hilbert *h, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (!ars_hilbert_in_sector(h, d->cfg + i * (size_t)h->size)) {
            fail_msg("sample %zu is outside the sector", i);
        }
    }
}

/* Inside the sector total_sz = 0 of 8 spins 1/2 (70 of 256 configurations), the histogram fits
 * the masked distribution, which is 0 outside (a sample there would land in a pooled bin of
 * expected count 0 and fail the test). */
static void test_spin_half_sector_histogram_fits_the_masked_distribution(void **state) {
    (void)state;
    const int dil[3] = {1, 2, 1};
    ars_arch arch = ars_test_arch(8, 1, 3, 4, 3, dil, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE);
    ars_arch sector = with_sector(arch, 0, ARS_SYM_NONE);
    check_histogram(&sector, 31, 200000);
    ars_arnn *net = ars_test_random_net(&sector, 31, 0.7);
    drawn d = draw(net, 5000, 256, 2, 4);
    assert_all_in_sector(&d, &sector.hilbert, 5000);
    drawn_free(&d);
    ars_arnn_free(net);
}

/* Spin 1, 5 sites, total_sz = 1 (M = 2): the mask keeps a sub-range of three states. */
static void test_spin_one_sector_histogram_fits_the_masked_distribution(void **state) {
    (void)state;
    const int dil[3] = {1, 1, 1};
    ars_arch arch = ars_test_arch(5, 2, 3, 6, 2, dil, 2, 1, ARS_ACTIVATION_TANH, ARS_INPUT_ONEHOT);
    ars_arch sector = with_sector(arch, 2, ARS_SYM_NONE);
    check_histogram(&sector, 32, 200000);
    ars_arch zero = with_sector(arch, 0, ARS_SYM_NONE);
    check_histogram(&zero, 33, 200000);
}

/* Symmetrised states: drawing s and applying a random group element samples p_sym exactly. */
static void test_symmetrised_histograms_fit_p_sym(void **state) {
    (void)state;
    const int dil[3] = {1, 2, 1};
    ars_arch arch = ars_test_arch(8, 1, 3, 4, 3, dil, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE);
    ars_arch both = arch;
    both.symmetry = ARS_SYM_BOTH;
    check_histogram(&both, 34, 200000);
    ars_arch refl = arch;
    refl.symmetry = ARS_SYM_REFLECTION;
    check_histogram(&refl, 35, 200000);
    ars_arch sector_flip = with_sector(arch, 0, ARS_SYM_SPIN_FLIP);
    check_histogram(&sector_flip, 36, 200000);
    const int dil1[3] = {1, 1, 1};
    ars_arch one = ars_test_arch(5, 2, 3, 6, 2, dil1, 2, 1, ARS_ACTIVATION_TANH, ARS_INPUT_ONEHOT);
    ars_arch one_sym = with_sector(one, 0, ARS_SYM_BOTH);
    check_histogram(&one_sym, 37, 200000);
    /* Translations of the ring: alone, in a sector, and with both other symmetries (statistics:
     * in the normal build; the sanitizers see the same code in the bitwise tests below). */
    if (ARS_TEST_SHORT) {
        return;
    }
    ars_arch trans = arch;
    trans.symmetry = ARS_SYM_TRANSLATION;
    check_histogram(&trans, 38, 200000);
    ars_arch trans_all = with_sector(arch, 0, ARS_SYM_ALL);
    check_histogram(&trans_all, 39, 200000);
    ars_arch one_trans = with_sector(one, 2, (ars_sym)(ARS_SYM_TRANSLATION | ARS_SYM_REFLECTION));
    check_histogram(&one_trans, 40, 200000);
}

/* With sectors and symmetries the cached and full samplers still draw the same bits, the draw's
 * log_prob is what evaluation gives, and the thread count changes nothing. */
static void test_sector_and_symmetry_keep_samples_bitwise_reproducible(void **state) {
    (void)state;
    const sector_case sc[] = {
        {0, 0, ARS_SYM_NONE},        {0, 2, ARS_SYM_REFLECTION},
        {1, 1, ARS_SYM_NONE},        {2, 0, ARS_SYM_BOTH},
        {3, -4, ARS_SYM_REFLECTION}, {4, 3, ARS_SYM_NONE},
        {5, 0, ARS_SYM_SPIN_FLIP},   {0, 0, ARS_SYM_TRANSLATION},
        {2, 0, ARS_SYM_ALL},         {1, 1, (ars_sym)(ARS_SYM_TRANSLATION | ARS_SYM_REFLECTION)}};
    for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
        ars_arnn *net = sector_case_net(&sc[i], 800 + i);
        const ars_arch a = net->arch;
        const size_t n = 70, L = (size_t)a.hilbert.size;
        drawn full = draw_with(net, n, 24, 2, 77, ARS_SAMPLER_FULL, ARS_DTYPE_FLOAT64);
        drawn one = draw_with(net, n, 24, 1, 77, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT64);
        drawn three = draw_with(net, n, 24, 3, 77, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT64);
        assert_memory_equal(full.cfg, one.cfg, n * L);
        assert_memory_equal(full.log_prob, one.log_prob, n * sizeof(double));
        assert_memory_equal(one.cfg, three.cfg, n * L);
        assert_memory_equal(one.log_prob, three.log_prob, n * sizeof(double));
        assert_all_in_sector(&one, &a.hilbert, n);
        /* Evaluation of the drawn samples: the same log p_sym, and ars_arnn_log_psi's. */
        double *lp = malloc(n * sizeof(double)), *lp_net = malloc(n * sizeof(double));
        ars_sampler *s = ars_sampler_alloc(net, 24, 2, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT64);
        ars_sampler_evaluate(s, NULL, lp, one.cfg, n);
        assert_memory_equal(lp, one.log_prob, n * sizeof(double));
        ars_arnn_ws *ws = ars_arnn_ws_alloc(net, (int)n);
        ars_arnn_log_psi(lp_net, one.cfg, net, ws, (int)n);
        for (size_t k = 0; k < n; k++) {
            lp_net[k] *= ARS_MACHINE_POW;
        }
        assert_allclose(lp, lp_net, n, 1e-12, 1e-12);
        /* float32 draws stay in the sector too, with log_prob close to float64's. */
        drawn f32 = draw_with(net, n, 24, 2, 77, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT32);
        assert_all_in_sector(&f32, &a.hilbert, n);
        ars_sampler_evaluate(s, NULL, lp, f32.cfg, n);
        assert_allclose(f32.log_prob, lp, n, 1e-5 * (double)L, 0.0);
        ars_sampler_free(s);
        ars_arnn_ws_free(ws);
        free(lp);
        free(lp_net);
        drawn_free(&full);
        drawn_free(&one);
        drawn_free(&three);
        drawn_free(&f32);
        ars_arnn_free(net);
    }
}

/* A symmetrised draw can keep each sample's images' log probabilities (ars_sampler_keep_images):
 * they are the plain network's mp log psi(g_k s_b) from full passes, bit for bit, for both
 * algorithms and any thread count; and the gradients that take them
 * (ars_arnn_grad_log_psi_images) are the bits of those that compute them again. */
static void test_kept_images_are_the_full_passes_and_give_the_same_gradients(void **state) {
    (void)state;
    const sector_case sc[] = {
        {2, 0, ARS_SYM_BOTH},        {5, 0, ARS_SYM_SPIN_FLIP},
        {3, -4, ARS_SYM_REFLECTION}, {0, 0, ARS_SYM_TRANSLATION},
        {2, 0, ARS_SYM_ALL},         {1, 1, (ars_sym)(ARS_SYM_TRANSLATION | ARS_SYM_REFLECTION)}};
    for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
        ars_arnn *net = sector_case_net(&sc[i], 900 + i);
        const ars_arch a = net->arch;
        const int L = a.hilbert.size, D = a.hilbert.local_size, G = ars_sym_order(a.symmetry, L);
        const size_t n = 50, P = net->n_params;
        ars_arnn plain = *net; /* a view of the same parameters without the group */
        plain.owns_params = 0;
        plain.arch.symmetry = ARS_SYM_NONE;
        ars_arnn_ws *pws = ars_arnn_ws_alloc(&plain, (int)n);
        ars_arnn_ws *gws = ars_arnn_ws_alloc_grad(net, (int)n);
        uint8_t *cfg = malloc(n * (size_t)L), *gcfg = malloc(n * (size_t)L);
        double *lp = malloc(n * sizeof(double)), *img = malloc((size_t)G * n * sizeof(double));
        double *want = malloc(n * sizeof(double));
        double *o1 = malloc(P * n * sizeof(double)), *o2 = malloc(P * n * sizeof(double));
        double *l1 = malloc(n * sizeof(double)), *l2 = malloc(n * sizeof(double));
        for (int alg = 0; alg < 2; alg++) {
            ars_sampler *s = ars_sampler_alloc(
                net, 16, 1 + alg, alg ? ARS_SAMPLER_FULL : ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT64);
            ars_sampler_keep_images(s, img, n);
            assert_int_equal(ars_sampler_draw(s, cfg, lp, n, 31, 2, NULL), ARS_OK);
            for (int k = 0; k < G; k++) {
                ars_sym_apply(gcfg, cfg, n, L, D, ars_sym_element(a.symmetry, L, k));
                ars_arnn_log_psi(want, gcfg, &plain, pws, (int)n);
                for (size_t b = 0; b < n; b++) {
                    if (!ars_test_same_bits(ARS_MACHINE_POW * want[b], img[(size_t)k * n + b])) {
                        fail_msg("case %zu, algorithm %d, image %d, sample %zu: %.17g kept, %.17g "
                                 "from a full pass",
                                 i, alg, k, b, img[(size_t)k * n + b], ARS_MACHINE_POW * want[b]);
                    }
                }
            }
            ars_arnn_grad_log_psi(o1, n, l1, cfg, net, gws, (int)n);
            ars_arnn_grad_log_psi_images(o2, n, l2, cfg, net, gws, (int)n, img, n);
            assert_memory_equal(o1, o2, P * n * sizeof(double));
            assert_memory_equal(l1, l2, n * sizeof(double));
            ars_sampler_free(s);
        }
        free(cfg);
        free(gcfg);
        free(lp);
        free(img);
        free(want);
        free(o1);
        free(o2);
        free(l1);
        free(l2);
        ars_arnn_ws_free(pws);
        ars_arnn_ws_free(gws);
        ars_arnn_free(net);
    }
}

/* log_prob of a configuration outside the sector is -inf, never NaN. */
static void test_log_prob_outside_the_sector_is_minus_infinity(void **state) {
    (void)state;
    const int dil[3] = {1, 2, 1};
    ars_arch arch = ars_test_arch(6, 1, 3, 4, 3, dil, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE);
    for (int sym = 0; sym < 4; sym++) {
        ars_arch a = with_sector(arch, 0, (ars_sym)sym);
        ars_arnn *net = ars_test_random_net(&a, 41, 0.8);
        const uint8_t cfg[3 * 6] = {1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0};
        double lp[3];
        for (int alg = 0; alg < 2; alg++) {
            ars_sampler *s =
                ars_sampler_alloc(net, 2, 1, (ars_sampler_algorithm)alg, ARS_DTYPE_FLOAT64);
            ars_sampler_evaluate(s, NULL, lp, cfg, 3);
            assert_true(isinf(lp[0]) && lp[0] < 0);
            assert_true(isinf(lp[1]) && lp[1] < 0);
            assert_true(isfinite(lp[2]));
            ars_sampler_free(s);
        }
        ars_arnn_free(net);
    }
}

/* Cached scratch memory depends on the receptive field, not on the chain length. */
static void test_cached_memory_does_not_grow_with_the_chain(void **state) {
    (void)state;
    const int dil[3] = {1, 1, 1};
    ars_arch small =
        ars_test_arch(1000, 1, 3, 16, 3, dil, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE);
    ars_arch big = small;
    big.hilbert.size = 10000;
    size_t b1 = ars_sampler_slot_bytes(&small, 256, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT64);
    size_t b2 = ars_sampler_slot_bytes(&big, 256, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT64);
    assert_int_equal(b1, b2);
    /* Per sample: (3 + 3*16 + 3*16) inputs + 16 outputs + 2*2 head + 1 uniform = 120 doubles,
     * and the prefix sum of the sector mask. */
    assert_int_equal(b1, (size_t)256 * (120 * sizeof(double) + sizeof(int)));
    assert_true(ars_sampler_slot_bytes(&big, 256, ARS_SAMPLER_FULL, ARS_DTYPE_FLOAT64) > 100 * b2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_prob_equals_a_fresh_forward_pass),
        cmocka_unit_test(test_spin_half_histogram_fits_exact_distribution),
        cmocka_unit_test(test_spin_one_histogram_fits_exact_distribution),
        cmocka_unit_test(test_samples_are_bitwise_identical_for_1_2_and_3_threads),
        cmocka_unit_test(test_non_finite_network_is_reported),
        cmocka_unit_test(test_cached_conditionals_equal_the_full_forward_pass),
        cmocka_unit_test(test_cached_sampler_draws_the_samples_of_the_full_sampler),
        cmocka_unit_test(test_float32_conditionals_agree_with_float64_to_1e_5),
        cmocka_unit_test(test_float32_histogram_fits_exact_distribution),
        cmocka_unit_test(test_cached_memory_does_not_grow_with_the_chain),
        cmocka_unit_test(test_spin_half_sector_histogram_fits_the_masked_distribution),
        cmocka_unit_test(test_spin_one_sector_histogram_fits_the_masked_distribution),
        cmocka_unit_test(test_symmetrised_histograms_fit_p_sym),
        cmocka_unit_test(test_sector_and_symmetry_keep_samples_bitwise_reproducible),
        cmocka_unit_test(test_kept_images_are_the_full_passes_and_give_the_same_gradients),
        cmocka_unit_test(test_log_prob_outside_the_sector_is_minus_infinity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
