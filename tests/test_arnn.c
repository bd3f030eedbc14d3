/*
 * Specification of the autoregressive network: exact normalisation over all configurations,
 * the autoregressive property, the receptive field, agreement with the independent numpy
 * reference in data/ref/, prefix evaluation, and LeCun-normal initialisation; in a fixed
 * total-Sz sector, exact normalisation over the sector and -inf outside it; symmetrised states
 * normalised and invariant; gradients against finite differences with masks and symmetries.
 */
#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "nn/arnn.h"
#include "core/ars_common.h"
#include "io/checkpoint.h"

/* A spread of architectures: spin-1/2 and spin-1 (and 3/2), several kernel sizes, single and
 * per-layer dilations, feature groups, with and without bias, both inputs, every activation,
 * with and without sublattice channels (sub, 0: none). */
typedef struct arch_case {
    int size, two_s, layers, features, kernel_size, dil[4], groups, bias;
    ars_activation act;
    ars_input input;
    int sub;
} arch_case;

static const arch_case cases[] = {
    {8, 1, 3, 5, 3, {1, 1, 1}, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE, 0},
    {8, 1, 2, 4, 2, {1, 1}, 1, 0, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE, 0},
    {9, 1, 4, 6, 3, {2, 2, 2, 2}, 2, 1, ARS_ACTIVATION_GELU, ARS_INPUT_ONEHOT, 0},
    {10, 1, 3, 4, 3, {1, 2, 4}, 1, 1, ARS_ACTIVATION_RELU, ARS_INPUT_VALUE, 0},
    {6, 2, 3, 6, 2, {1, 2, 1}, 3, 0, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE, 0},
    {6, 2, 3, 4, 4, {1, 1, 1}, 1, 1, ARS_ACTIVATION_IDENTITY, ARS_INPUT_ONEHOT, 0},
    {5, 2, 4, 4, 5, {3, 1, 2, 1}, 2, 1, ARS_ACTIVATION_GELU, ARS_INPUT_VALUE, 0},
    {4, 3, 2, 3, 3, {1, 1}, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_ONEHOT, 0},
    {7, 1, 1, 2, 6, {2}, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE, 0},
    {9, 1, 3, 5, 3, {1, 2, 1}, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE, 2},
    {7, 2, 3, 4, 2, {1, 2, 2}, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_ONEHOT, 3},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static ars_arch case_arch(const arch_case *c) {
    ars_arch a = ars_test_arch(c->size, c->two_s, c->layers, c->features, c->kernel_size, c->dil,
                               c->groups, c->bias, c->act, c->input);
    if (c->sub > 0) {
        a.sublattice = c->sub;
    }
    return a;
}

static void test_probabilities_sum_to_one_over_all_configurations(void **state) {
    (void)state;
    for (size_t i = 0; i < N_CASES; i++) {
        ars_arch arch = case_arch(&cases[i]);
        ars_arnn *net = ars_test_random_net(&arch, 100 + i, 0.9);
        size_t n;
        double *lp = ars_test_enumerate_log_prob(net, &n);
        double sum = 0.0;
        for (size_t k = 0; k < n; k++) {
            sum += exp(lp[k]);
        }
        if (fabs(sum - 1.0) > 1e-12) {
            fail_msg("case %zu: sum of p over %zu configurations = %.17g", i, n, sum);
        }
        free(lp);
        ars_arnn_free(net);
    }
}

static void test_random_init_is_normalised_too(void **state) {
    (void)state;
    ars_arch arch = case_arch(&cases[0]);
    ars_arnn *net = ars_arnn_alloc(&arch);
    ars_arnn_init_random(net, 1234);
    size_t n;
    double *lp = ars_test_enumerate_log_prob(net, &n);
    double sum = 0.0;
    for (size_t k = 0; k < n; k++) {
        sum += exp(lp[k]);
    }
    assert_true(fabs(sum - 1.0) <= 1e-12);
    free(lp);
    ars_arnn_free(net);
}

/* Weights so large that the logits reach +-1e4 (exp overflows at 710): the log-softmax is
 * computed stably, so every log-probability is finite and p still sums to one. */
static void test_extreme_weights_keep_probabilities_finite_and_normalised(void **state) {
    (void)state;
    const double scales[] = {30.0, 300.0, 3000.0};
    for (size_t i = 0; i < N_CASES; i++) {
        for (int s = 0; s < 3; s++) {
            ars_arch arch = case_arch(&cases[i]);
            ars_arnn *net = ars_test_random_net(&arch, 500 + i, scales[s]);
            size_t n;
            double *lp = ars_test_enumerate_log_prob(net, &n);
            double sum = 0.0;
            for (size_t k = 0; k < n; k++) {
                if (!isfinite(lp[k])) {
                    fail_msg("case %zu scale %g: log p = %g", i, scales[s], lp[k]);
                }
                sum += exp(lp[k]);
            }
            if (fabs(sum - 1.0) > 1e-12) {
                fail_msg("case %zu scale %g: sum of p = %.17g", i, scales[s], sum);
            }
            free(lp);
            ars_arnn_free(net);
        }
    }
}

/* Changing site j never changes the conditionals of sites <= j (bitwise). */
static void test_changing_site_j_leaves_conditionals_up_to_j_unchanged(void **state) {
    (void)state;
    for (size_t i = 0; i < N_CASES; i++) {
        ars_arch arch = case_arch(&cases[i]);
        ars_arnn *net = ars_test_random_net(&arch, 200 + i, 0.9);
        const int L = arch.hilbert.size, D = arch.hilbert.local_size;
        ars_arnn_ws *ws = ars_arnn_ws_alloc(net, 1);
        uint8_t cfg[16];
        double *a = malloc((size_t)L * D * sizeof(double));
        double *b = malloc((size_t)L * D * sizeof(double));
        for (int t = 0; t < L; t++) {
            cfg[t] = (uint8_t)((3 * t + 1) % D);
        }
        ars_arnn_conditionals(a, cfg, net, ws, 1, L);
        for (int j = 0; j < L; j++) {
            for (int v = 1; v < D; v++) {
                uint8_t saved = cfg[j];
                cfg[j] = (uint8_t)((saved + v) % D);
                ars_arnn_conditionals(b, cfg, net, ws, 1, L);
                cfg[j] = saved;
                assert_memory_equal(a, b, (size_t)(j + 1) * D * sizeof(double));
            }
        }
        free(a);
        free(b);
        ars_arnn_ws_free(ws);
        ars_arnn_free(net);
    }
}

/* The computed receptive field is exactly the set of sites the last conditional depends on. */
static void test_receptive_field_matches_actual_dependence(void **state) {
    (void)state;
    const int dil_sets[][3] = {{1, 1, 1}, {2, 2, 2}, {1, 2, 4}, {3, 1, 1}, {1, 3, 9}};
    for (size_t s = 0; s < sizeof dil_sets / sizeof dil_sets[0]; s++) {
        const int L = 24;
        ars_arch arch =
            ars_test_arch(L, 1, 3, 3, 3, dil_sets[s], 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
        ars_arnn *net = ars_test_random_net(&arch, 300 + s, 1.0);
        uint8_t dep[2 * 24];
        long reach = ars_arch_receptive_field(&arch, dep);
        long want_reach = 2L * dil_sets[s][0] + 2L * dil_sets[s][1] + 2L * dil_sets[s][2];
        assert_int_equal(reach, want_reach);
        ars_arnn_ws *ws = ars_arnn_ws_alloc(net, 1);
        uint8_t cfg[24] = {0};
        double a[24 * 2], b[24 * 2];
        for (int t = 0; t < L; t++) {
            cfg[t] = (uint8_t)((t * 7 + 3) % 5 % 2);
        }
        ars_arnn_conditionals(a, cfg, net, ws, 1, L);
        assert_int_equal(dep[0], 0);
        for (int r = 1; r < L; r++) {
            int j = L - 1 - r;
            cfg[j] ^= 1;
            ars_arnn_conditionals(b, cfg, net, ws, 1, L);
            cfg[j] ^= 1;
            int changed = 0;
            for (int i = 0; i < 2; i++) {
                changed |= !ars_test_same_bits(a[(L - 1) * 2 + i], b[(L - 1) * 2 + i]);
            }
            if (changed != dep[r]) {
                fail_msg("dilations %d,%d,%d: offset %d: network %s, receptive field says %d",
                         dil_sets[s][0], dil_sets[s][1], dil_sets[s][2], r,
                         changed ? "depends" : "does not depend", dep[r]);
            }
        }
        ars_arnn_ws_free(ws);
        ars_arnn_free(net);
    }
}

static void test_prefix_evaluation_equals_full_pass_bitwise(void **state) {
    (void)state;
    ars_arch arch = case_arch(&cases[2]);
    ars_arnn *net = ars_test_random_net(&arch, 400, 0.9);
    const int L = arch.hilbert.size, D = arch.hilbert.local_size, B = 3;
    ars_arnn_ws *ws = ars_arnn_ws_alloc(net, B);
    uint8_t cfg[3 * 9];
    for (int i = 0; i < B * L; i++) {
        cfg[i] = (uint8_t)(i * 5 % 7 % D);
    }
    double *full = malloc((size_t)B * L * D * sizeof(double));
    double *part = malloc((size_t)B * L * D * sizeof(double));
    ars_arnn_conditionals(full, cfg, net, ws, B, L);
    for (int Lc = 1; Lc <= L; Lc++) {
        ars_arnn_conditionals(part, cfg, net, ws, B, Lc);
        for (int b = 0; b < B; b++) {
            assert_memory_equal(part + (size_t)b * L * D, full + (size_t)b * L * D,
                                (size_t)Lc * D * sizeof(double));
        }
    }
    free(full);
    free(part);
    ars_arnn_ws_free(ws);
    ars_arnn_free(net);
}

/* Reads a float64 or int8 dataset of a reference file into a malloc'd buffer. */
static void *read_ref(hid_t file, const char *name, hid_t mtype, size_t elem, size_t *count) {
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    void *buf = malloc((size_t)n * elem);
    assert_non_null(buf);
    assert_true(H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Sclose(sp);
    H5Dclose(d);
    *count = (size_t)n;
    return buf;
}

/* The files data/ref/NAME.h5 were written by scripts/make_ref_data.py, an independent numpy
 * implementation of NetKet's MaskedConv1D / ARNNConv1D; they pin the forward pass numerically. */
static void test_forward_matches_independent_numpy_reference(void **state) {
    (void)state;
    const char *names[] = {"spin_half_basic", "spin_one_onehot_dilations",
                           "spin_half_groups_dilation2", "spin_three_halves_relu",
                           "spin_half_single_layer"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "data/ref/%s.h5", names[i]);
        const char *path = ars_test_source_path(rel);
        ars_arch arch;
        assert_int_equal(ars_io_read_arch(path, &arch), ARS_OK);
        ars_arnn *net = ars_arnn_alloc(&arch);
        assert_int_equal(ars_io_load_variables(path, net, NULL), ARS_OK);
        hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        assert_true(file >= 0);
        size_t n_cfg, n_cond, n_lp;
        int8_t *values = read_ref(file, "/ref/configs", H5T_NATIVE_INT8, 1, &n_cfg);
        double *cond = read_ref(file, "/ref/conditionals", H5T_NATIVE_DOUBLE, 8, &n_cond);
        double *logpsi = read_ref(file, "/ref/log_psi", H5T_NATIVE_DOUBLE, 8, &n_lp);
        H5Fclose(file);
        const int L = arch.hilbert.size, D = arch.hilbert.local_size;
        const int B = (int)(n_cfg / (size_t)L);
        assert_int_equal(n_cond, (size_t)B * L * D);
        assert_int_equal(n_lp, (size_t)B);
        uint8_t *cfg = malloc(n_cfg);
        for (size_t k = 0; k < n_cfg; k++) {
            int idx = ars_hilbert_index(&arch.hilbert, values[k]);
            assert_true(idx >= 0);
            cfg[k] = (uint8_t)idx;
        }
        ars_arnn_ws *ws = ars_arnn_ws_alloc(net, B);
        double *lpsi = malloc(n_cond * sizeof(double));
        double *lps = malloc((size_t)B * sizeof(double));
        ars_arnn_conditionals(lpsi, cfg, net, ws, B, L);
        assert_allclose(lpsi, cond, n_cond, 1e-12, 1e-12);
        ars_arnn_log_psi(lps, cfg, net, ws, B);
        assert_allclose(lps, logpsi, (size_t)B, 1e-12, 1e-12);
        free(values);
        free(cond);
        free(logpsi);
        free(cfg);
        free(lpsi);
        free(lps);
        ars_arnn_ws_free(ws);
        ars_arnn_free(net);
    }
}

/* LeCun normal: truncated at 2 raw standard deviations, corrected so the std is sqrt(1/fan_in);
 * zero biases; reproducible from the seed. */
static void test_lecun_normal_initialisation(void **state) {
    (void)state;
    const int dil[3] = {1, 1, 1};
    ars_arch arch = ars_test_arch(8, 1, 3, 64, 5, dil, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE);
    ars_arnn *net = ars_arnn_alloc(&arch);
    ars_arnn *again = ars_arnn_alloc(&arch);
    ars_arnn *other = ars_arnn_alloc(&arch);
    ars_arnn_init_random(net, 42);
    ars_arnn_init_random(again, 42);
    ars_arnn_init_random(other, 43);
    assert_memory_equal(net->params, again->params, net->n_params * sizeof(double));
    assert_memory_not_equal(net->params, other->params, net->n_params * sizeof(double));
    const ars_conv *c = &net->layer[1]; /* (5, 64, 64): 20480 weights */
    size_t nk = (size_t)c->taps * c->cin * c->cout;
    double fan_in = (double)c->taps * c->cin, sd = sqrt(1.0 / fan_in);
    double sum = 0.0, sum2 = 0.0, maxabs = 0.0;
    for (size_t i = 0; i < nk; i++) {
        sum += c->kernel[i];
        sum2 += c->kernel[i] * c->kernel[i];
        maxabs = fmax(maxabs, fabs(c->kernel[i]));
    }
    double mean = sum / (double)nk, std = sqrt(sum2 / (double)nk - mean * mean);
    /* The sample std of 20480 draws has a relative error of about 0.5%; allow 5 sigma. */
    assert_true(fabs(std / sd - 1.0) < 0.025);
    assert_true(fabs(mean) < 5.0 * sd / sqrt((double)nk));
    assert_true(maxabs <= 2.0 * sd / 0.87962566103423978 + 1e-15);
    assert_true(maxabs > 1.9 * sd / 0.87962566103423978); /* the tails are reached */
    for (int l = 0; l < arch.layers; l++) {
        for (int f = 0; f < net->layer[l].cout; f++) {
            assert_true(net->layer[l].bias[f] == 0.0);
        }
    }
    ars_arnn_free(net);
    ars_arnn_free(again);
    ars_arnn_free(other);
}

/* The worst relative error, over every parameter k and sample b < B (B <= 8), of grad[k * B + b]
 * against the central finite difference (eps = 1e-5) of ars_arnn_log_psi; absolute differences
 * below 1e-9 count as 0. *worst_k is the parameter where it occurs. */
static double fd_worst_error(ars_arnn *net, const uint8_t *cfg, int B, const double *grad,
                             ars_arnn_ws *ws, size_t *worst_k) {
    const double eps = 1e-5;
    double lp_plus[8], lp_minus[8], worst = 0.0;
    assert_true(B <= 8);
    for (size_t k = 0; k < net->n_params; k++) {
        const double saved = net->params[k];
        net->params[k] = saved + eps;
        ars_arnn_log_psi(lp_plus, cfg, net, ws, B);
        net->params[k] = saved - eps;
        ars_arnn_log_psi(lp_minus, cfg, net, ws, B);
        net->params[k] = saved;
        for (int b = 0; b < B; b++) {
            const double fd = (lp_plus[b] - lp_minus[b]) / (2.0 * eps);
            const double g = grad[k * B + (size_t)b];
            const double err = fabs(fd - g) <= 1e-9 ? 0.0 : fabs(fd - g) / fmax(fabs(g), 1e-3);
            if (err > worst) {
                worst = err;
                *worst_k = k;
            }
        }
    }
    return worst;
}

/* Every parameter's per-sample gradient d log psi / d theta_k against a central finite
 * difference (eps = 1e-5): relative error below 1e-6 (absolute 1e-9 for tiny gradients). */
static void test_gradients_match_central_finite_differences(void **state) {
    (void)state;
    for (size_t i = 0; i < N_CASES; i++) {
        ars_arch arch = case_arch(&cases[i]);
        ars_arnn *net = ars_test_random_net(&arch, 900 + i, 0.7);
        const int L = arch.hilbert.size, D = arch.hilbert.local_size, B = 3;
        const size_t P = net->n_params;
        uint8_t cfg[3 * 16];
        for (int k = 0; k < B * L; k++) {
            cfg[k] = (uint8_t)((k * 7 + 3 + (int)i) % D);
        }
        ars_arnn_ws *ws = ars_arnn_ws_alloc_grad(net, B);
        double *grad = calloc(P * B, sizeof(double));
        ars_arnn_forward(cfg, net, ws, B, L);
        ars_arnn_backward(grad, (size_t)B, cfg, net, ws, B, NULL, 1);
        size_t worst_k = 0;
        const double worst = fd_worst_error(net, cfg, B, grad, ws, &worst_k);
        if (worst > 1e-6) {
            fail_msg("case %zu: parameter %zu: relative error %.3g", i, worst_k, worst);
        }
        free(grad);
        ars_arnn_ws_free(ws);
        ars_arnn_free(net);
    }
}

/* Sectors and symmetries over the architectures: spin 1/2, 1 and 3/2, several sectors (M = 2
 * total_sz, M = 0 and not), every symmetrisation the sector allows. */
typedef struct sector_case {
    int arch;  /* index into cases[] */
    int two_m; /* the sector, or ARS_TEST_NO_SECTOR */
    ars_sym sym;
} sector_case;

#define ARS_TEST_NO_SECTOR (-1000)

static const sector_case sector_cases[] = {
    {0, 0, ARS_SYM_NONE},
    {0, 2, ARS_SYM_NONE},
    {0, -4, ARS_SYM_REFLECTION},
    {1, 0, ARS_SYM_BOTH},
    {2, 1, ARS_SYM_NONE},
    {2, -3, ARS_SYM_REFLECTION},
    {3, 0, ARS_SYM_SPIN_FLIP},
    {4, 0, ARS_SYM_BOTH},
    {4, 4, ARS_SYM_NONE},
    {5, -2, ARS_SYM_REFLECTION},
    {6, 2, ARS_SYM_NONE},
    {7, 2, ARS_SYM_NONE},
    {7, 0, ARS_SYM_BOTH},
    {8, 1, ARS_SYM_NONE},
    {0, ARS_TEST_NO_SECTOR, ARS_SYM_SPIN_FLIP},
    {2, ARS_TEST_NO_SECTOR, ARS_SYM_BOTH},
    {5, ARS_TEST_NO_SECTOR, ARS_SYM_REFLECTION},
    {7, ARS_TEST_NO_SECTOR, ARS_SYM_BOTH},
    /* translations of the ring, alone and with the others */
    {0, 0, ARS_SYM_TRANSLATION},
    {1, ARS_TEST_NO_SECTOR, ARS_SYM_ALL},
    {2, 1, (ars_sym)(ARS_SYM_TRANSLATION | ARS_SYM_REFLECTION)},
    {4, 0, ARS_SYM_ALL},
    {5, ARS_TEST_NO_SECTOR, (ars_sym)(ARS_SYM_TRANSLATION | ARS_SYM_SPIN_FLIP)},
    {7, 2, ARS_SYM_TRANSLATION},
};
#define N_SECTOR_CASES (sizeof sector_cases / sizeof sector_cases[0])

static ars_arch sector_arch(const sector_case *c) {
    ars_arch arch = case_arch(&cases[c->arch]);
    if (c->two_m != ARS_TEST_NO_SECTOR) {
        ars_hilbert_set_sector(&arch.hilbert, c->two_m);
    }
    arch.symmetry = c->sym;
    char why[256];
    if (ars_arch_check(&arch, why, sizeof why) != 0) {
        fail_msg("sector case invalid: %s", why);
    }
    return arch;
}

/* Whether configuration k (lexicographic) of h lies in h's sector. */
static int config_in_sector(const ars_hilbert *h, size_t k) {
    uint8_t cfg[16];
    ars_hilbert_config(h, cfg, k);
    return ars_hilbert_in_sector(h, cfg);
}

/* In a sector the masked conditionals make p a distribution over the sector: the sum over it is
 * 1 to 1e-12, and every configuration outside it has log p = -inf (never NaN). The same for
 * the symmetrised states, which must also be invariant: p_sym(g s) = p_sym(s). */
static void test_sector_and_symmetrised_states_are_normalised(void **state) {
    (void)state;
    for (size_t i = 0; i < N_SECTOR_CASES; i++) {
        ars_arch arch = sector_arch(&sector_cases[i]);
        ars_arnn *net = ars_test_random_net(&arch, 1300 + i, 0.9);
        const ars_hilbert *h = &arch.hilbert;
        size_t n;
        double *lp = ars_test_enumerate_log_prob(net, &n);
        double sum = 0.0;
        size_t inside = 0;
        for (size_t k = 0; k < n; k++) {
            if (config_in_sector(h, k)) {
                if (!isfinite(lp[k])) {
                    fail_msg("case %zu: configuration %zu of the sector has log p = %g", i, k,
                             lp[k]);
                }
                sum += exp(lp[k]);
                inside++;
            } else if (!(isinf(lp[k]) && lp[k] < 0)) {
                fail_msg("case %zu: configuration %zu outside the sector has log p = %g", i, k,
                         lp[k]);
            }
        }
        if (fabs(sum - 1.0) > 1e-12) {
            fail_msg("case %zu: sum of p over the %zu configurations of the sector = %.17g", i,
                     inside, sum);
        }
        /* Invariance: the configuration g s has the same log p_sym as s. */
        const int L = h->size, D = h->local_size;
        for (int e = 1; e < ars_sym_order(arch.symmetry, L); e++) {
            const unsigned g = ars_sym_element(arch.symmetry, L, e);
            for (size_t k = 0; k < n; k++) {
                uint8_t s[16], gs[16];
                ars_hilbert_config(h, s, k);
                ars_sym_apply(gs, s, 1, L, D, g);
                size_t kg = 0;
                for (int t = 0; t < L; t++) {
                    kg = kg * (size_t)D + gs[t];
                }
                if (!(lp[kg] == lp[k] || fabs(lp[kg] - lp[k]) <= 1e-12 * fmax(1.0, fabs(lp[k])))) {
                    fail_msg("case %zu: log p_sym(g s) = %.17g but log p_sym(s) = %.17g", i, lp[kg],
                             lp[k]);
                }
            }
        }
        free(lp);
        ars_arnn_free(net);
    }
}

/* [model] init_output_scale: the last layer times c makes every conditional p^c renormalised
 * over the values the sector allows, at every site of every configuration (plain networks and
 * sectors; a symmetrised state is the group mean of such a network). c = 0 gives uniform
 * conditionals; c = 1 changes no bit. */
static void test_scaled_last_layer_raises_each_conditional_to_the_power_c(void **state) {
    (void)state;
    const double scales[] = {0.0, 1.0, 1.3, 2.5};
    for (size_t i = 0; i < N_SECTOR_CASES; i++) {
        ars_arch arch = sector_arch(&sector_cases[i]);
        arch.symmetry = ARS_SYM_NONE;
        const ars_hilbert *h = &arch.hilbert;
        const int L = h->size, D = h->local_size;
        ars_arnn *net = ars_test_random_net(&arch, 1700 + i, 0.9);
        ars_arnn *scaled = ars_test_random_net(&arch, 1700 + i, 0.9);
        ars_arnn_ws *ws = ars_arnn_ws_alloc(net, 1);
        double *a = malloc((size_t)L * D * sizeof(double));
        double *b = malloc((size_t)L * D * sizeof(double));
        size_t n = 1;
        for (int t = 0; t < L; t++) {
            n *= (size_t)D;
        }
        for (size_t ci = 0; ci < sizeof scales / sizeof scales[0]; ci++) {
            const double c = scales[ci];
            memcpy(scaled->params, net->params, net->n_params * sizeof(double));
            ars_arnn_scale_last_layer(scaled, c);
            for (size_t k = 0; k < n; k++) {
                uint8_t cfg[16];
                ars_hilbert_config(h, cfg, k);
                if (!ars_hilbert_in_sector(h, cfg)) {
                    continue;
                }
                ars_arnn_conditionals(a, cfg, net, ws, 1, L);
                ars_arnn_conditionals(b, cfg, scaled, ws, 1, L);
                if (c == 1.0) {
                    assert_memory_equal(a, b, (size_t)L * D * sizeof(double));
                    continue;
                }
                for (int t = 0; t < L; t++) {
                    /* log psi = log p / 2, so log p_c = c log p - log sum_v p_v^c. */
                    double z = 0.0;
                    for (int v = 0; v < D; v++) {
                        z += isinf(a[t * D + v]) ? 0.0 : exp(2.0 * c * a[t * D + v]);
                    }
                    for (int v = 0; v < D; v++) {
                        const double want =
                            isinf(a[t * D + v]) ? a[t * D + v] : c * a[t * D + v] - 0.5 * log(z);
                        const double got = b[t * D + v];
                        if (!(got == want || fabs(got - want) <= 1e-12 * fmax(1.0, fabs(want)))) {
                            fail_msg("case %zu, c = %g, configuration %zu, site %d, value %d: "
                                     "log psi_c = %.17g, want %.17g",
                                     i, c, k, t, v, got, want);
                        }
                    }
                }
            }
        }
        free(a);
        free(b);
        ars_arnn_ws_free(ws);
        ars_arnn_free(scaled);
        ars_arnn_free(net);
    }
}

/* A symmetrised state is the mean of the transformed plain distributions, checked against an
 * independent evaluation: p_sym(s) = (1/|G|) sum_g p(g s) with the plain network. */
static void test_symmetrised_probability_is_the_group_mean(void **state) {
    (void)state;
    for (size_t i = 0; i < N_SECTOR_CASES; i++) {
        if (sector_cases[i].sym == ARS_SYM_NONE) {
            continue;
        }
        ars_arch arch = sector_arch(&sector_cases[i]);
        ars_arch plain_arch = arch;
        plain_arch.symmetry = ARS_SYM_NONE;
        ars_arnn *net = ars_test_random_net(&arch, 1400 + i, 0.9);
        ars_arnn *plain = ars_test_random_net(&plain_arch, 1400 + i, 0.9);
        size_t n, n2;
        double *lp = ars_test_enumerate_log_prob(net, &n);
        double *lp_plain = ars_test_enumerate_log_prob(plain, &n2);
        const ars_hilbert *h = &arch.hilbert;
        const int L = h->size, D = h->local_size, G = ars_sym_order(arch.symmetry, L);
        for (size_t k = 0; k < n; k++) {
            uint8_t s[16], gs[16];
            ars_hilbert_config(h, s, k);
            double mean = 0.0;
            for (int e = 0; e < G; e++) {
                ars_sym_apply(gs, s, 1, L, D, ars_sym_element(arch.symmetry, L, e));
                size_t kg = 0;
                for (int t = 0; t < L; t++) {
                    kg = kg * (size_t)D + gs[t];
                }
                mean += exp(lp_plain[kg]) / G;
            }
            if (fabs(exp(lp[k]) - mean) > 1e-14 + 1e-12 * mean) {
                fail_msg("case %zu, configuration %zu: p_sym = %.17g, group mean %.17g", i, k,
                         exp(lp[k]), mean);
            }
        }
        free(lp);
        free(lp_plain);
        ars_arnn_free(net);
        ars_arnn_free(plain);
    }
}

/* Every parameter's gradient of the state's log psi (masked, symmetrised) against central
 * finite differences of ars_arnn_log_psi, on configurations of the sector that include sites
 * where the mask binds: relative error below 1e-6. */
static void test_masked_symmetrised_gradients_match_finite_differences(void **state) {
    (void)state;
    for (size_t i = 0; i < N_SECTOR_CASES; i++) {
        ars_arch arch = sector_arch(&sector_cases[i]);
        ars_arnn *net = ars_test_random_net(&arch, 1500 + i, 0.7);
        const ars_hilbert *h = &arch.hilbert;
        const int L = h->size, B = 4;
        const size_t P = net->n_params;
        /* B configurations of the sector, spread over the enumeration: the first (where the
         * mask binds at the end of the chain), the last, and two between. */
        size_t n_all = ars_hilbert_n_configs(h, (size_t)1 << 22), found = 0, inside = 0;
        for (size_t k = 0; k < n_all; k++) {
            inside += config_in_sector(h, k);
        }
        uint8_t cfg[4 * 16];
        const size_t want[4] = {0, inside / 3, (2 * inside) / 3, inside - 1};
        for (size_t k = 0, j = 0; k < n_all && found < 4; k++) {
            if (!config_in_sector(h, k)) {
                continue;
            }
            if (j == want[found]) {
                ars_hilbert_config(h, cfg + found * (size_t)L, k);
                found++;
            }
            j++;
        }
        assert_int_equal(found, 4);
        ars_arnn_ws *ws = ars_arnn_ws_alloc_grad(net, B);
        double *grad = calloc(P * B, sizeof(double));
        double lp[4], lp_again[4];
        ars_arnn_grad_log_psi(grad, (size_t)B, lp, cfg, net, ws, B);
        ars_arnn_log_psi(lp_again, cfg, net, ws, B);
        assert_memory_equal(lp, lp_again, sizeof lp); /* the same log psi, bit for bit */
        size_t worst_k = 0;
        const double worst = fd_worst_error(net, cfg, B, grad, ws, &worst_k);
        if (worst > 1e-6) {
            fail_msg("sector case %zu: parameter %zu: relative error %.3g", i, worst_k, worst);
        }
        free(grad);
        ars_arnn_ws_free(ws);
        ars_arnn_free(net);
    }
}

/* The weighted backward pass is the plain one times the weight, per sample. */
static void test_weighted_backward_scales_each_sample(void **state) {
    (void)state;
    ars_arch arch = case_arch(&cases[3]);
    ars_arnn *net = ars_test_random_net(&arch, 1600, 0.7);
    const int L = arch.hilbert.size, B = 3;
    const size_t P = net->n_params;
    uint8_t cfg[3 * 16];
    for (int k = 0; k < B * L; k++) {
        cfg[k] = (uint8_t)((k * 5 + 1) % 2);
    }
    const double w[3] = {0.5, -2.0, 0.25}; /* powers of two: exact */
    ars_arnn_ws *ws = ars_arnn_ws_alloc_grad(net, B);
    double *g1 = calloc(P * B, sizeof(double)), *gw = calloc(P * B, sizeof(double));
    ars_arnn_forward(cfg, net, ws, B, L);
    ars_arnn_backward(g1, (size_t)B, cfg, net, ws, B, NULL, 1);
    ars_arnn_backward(gw, (size_t)B, cfg, net, ws, B, w, 1);
    for (size_t k = 0; k < P; k++) {
        for (int b = 0; b < B; b++) {
            assert_true(gw[k * B + b] == w[b] * g1[k * B + b]);
        }
    }
    free(g1);
    free(gw);
    ars_arnn_ws_free(ws);
    ars_arnn_free(net);
}

/* The backward pass gives each sample the same bits alone (B = 1: the kernels' remainder paths)
 * as within a batch of 37 (two full register tiles of 16 samples, then 5), for every
 * architecture (feature groups, channel counts that do not fill a tile) and one wide enough to
 * fill the input gradient's tile of 8 channels. */
static void test_backward_bits_do_not_depend_on_the_batch(void **state) {
    (void)state;
    enum { B = 37 };
    const arch_case wide = {12, 1, 3, 16, 3, {1, 2, 4}, 2, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE,
                            0};
    for (size_t i = 0; i <= N_CASES; i++) {
        ars_arch arch = case_arch(i < N_CASES ? &cases[i] : &wide);
        ars_arnn *net = ars_test_random_net(&arch, 1700 + i, 0.7);
        const int L = arch.hilbert.size, D = arch.hilbert.local_size;
        const size_t P = net->n_params;
        uint8_t cfg[B * 16];
        for (int k = 0; k < B * L; k++) {
            cfg[k] = (uint8_t)((k * 7 + 3 + (int)i + k / 5) % D);
        }
        ars_arnn_ws *ws = ars_arnn_ws_alloc_grad(net, B);
        double *gb = calloc(P * B, sizeof(double)), *g1 = calloc(P, sizeof(double));
        ars_arnn_forward(cfg, net, ws, B, L);
        ars_arnn_backward(gb, (size_t)B, cfg, net, ws, B, NULL, 1);
        for (int b = 0; b < B; b++) {
            memset(g1, 0, P * sizeof(double));
            ars_arnn_forward(cfg + (size_t)b * L, net, ws, 1, L);
            ars_arnn_backward(g1, 1, cfg + (size_t)b * L, net, ws, 1, NULL, 1);
            for (size_t k = 0; k < P; k++) {
                if (!ars_test_same_bits(g1[k], gb[k * B + (size_t)b])) {
                    fail_msg("case %zu, sample %d, parameter %zu: %.17g alone, %.17g in the batch",
                             i, b, k, g1[k], gb[k * B + (size_t)b]);
                }
            }
        }
        free(gb);
        free(g1);
        ars_arnn_ws_free(ws);
        ars_arnn_free(net);
    }
}

/* The spin flip maps total_sz to -total_sz: only the zero sector can be spin-flip symmetrised. */
static void test_spin_flip_needs_the_zero_sector(void **state) {
    (void)state;
    ars_arch a = case_arch(&cases[0]);
    char why[256];
    ars_hilbert_set_sector(&a.hilbert, 2);
    a.symmetry = ARS_SYM_REFLECTION;
    assert_int_equal(ars_arch_check(&a, why, sizeof why), 0);
    a.symmetry = ARS_SYM_SPIN_FLIP;
    assert_int_equal(ars_arch_check(&a, why, sizeof why), -1);
    assert_non_null(strstr(why, "total_sz"));
    a.symmetry = ARS_SYM_BOTH;
    assert_int_equal(ars_arch_check(&a, why, sizeof why), -1);
    ars_hilbert_set_sector(&a.hilbert, 0);
    assert_int_equal(ars_arch_check(&a, why, sizeof why), 0);
}

/* B feasible configurations (B, L) of h (every configuration when h has no sector): s_t drawn
 * from the feasible range [lo, hi] after the prefix, with a fixed LCG. */
static void feasible_configs(uint8_t *cfg, const ars_hilbert *h, int B, unsigned seed) {
    const int L = h->size;
    for (int b = 0; b < B; b++) {
        int m = 0;
        for (int t = 0; t < L; t++) {
            int lo, hi;
            ars_hilbert_feasible(h, t, m, &lo, &hi);
            assert_true(lo <= hi);
            seed = seed * 1103515245u + 12345u;
            cfg[(size_t)b * L + t] = (uint8_t)(lo + (int)((seed >> 16) % (unsigned)(hi - lo + 1)));
            m += ars_hilbert_value(h, cfg[(size_t)b * L + t]);
        }
    }
}

/* Shortest buffers for ars_arnn_site (float64 into io, float32 into io_f): layer l's input a
 * ring of min(s_0 + 1, L) sites, one site of each z_l and of the head, row stride ld. */
static void site_buffers_alloc(ars_arnn_site_io *io, ars_arnn_site_io_f *io_f, const ars_arnn *net,
                               size_t ld) {
    const int L = net->arch.hilbert.size, D = net->arch.hilbert.local_size;
    memset(io, 0, sizeof *io);
    memset(io_f, 0, sizeof *io_f);
    for (int l = 0; l < net->arch.layers; l++) {
        const ars_conv *c = &net->layer[l];
        const int sh = ars_conv_shift(c, 0);
        const int R = sh + 1 < L ? sh + 1 : L;
        io->in_len[l] = io_f->in_len[l] = R;
        io->z_len[l] = io_f->z_len[l] = 1;
        io->in[l] = malloc((size_t)R * c->cin * ld * sizeof(double));
        io->z[l] = malloc((size_t)c->cout * ld * sizeof(double));
        io_f->in[l] = malloc((size_t)R * c->cin * ld * sizeof(float));
        io_f->z[l] = malloc((size_t)c->cout * ld * sizeof(float));
    }
    io->lpsi = malloc((size_t)D * ld * sizeof(double));
    io_f->lpsi = malloc((size_t)D * ld * sizeof(float));
    io->lpsi_len = io_f->lpsi_len = 1;
    io->ld = io_f->ld = ld;
}

static void site_buffers_free(ars_arnn_site_io *io, ars_arnn_site_io_f *io_f) {
    for (int l = 0; l < ARS_MAX_LAYERS; l++) {
        free(io->in[l]);
        free(io->z[l]);
        free(io_f->in[l]);
        free(io_f->z[l]);
    }
    free(io->lpsi);
    free(io_f->lpsi);
}

/* The site function called site by site, the way the cached sampler calls it (shortest rings,
 * encoding site t after its head), gives exactly the full pass's z_{n-1} and lpsi bits at every
 * site, with a row stride ld >= B, with and without a sector; the float32 variant agrees to
 * 1e-4 (-inf where float64 has -inf). */
static void check_site_by_site(const ars_arnn *net, const uint8_t *cfg, int B, size_t ld) {
    const ars_arch *arch = &net->arch;
    const int L = arch->hilbert.size, D = arch->hilbert.local_size, n = arch->layers;
    const int C0 = ars_arch_input_channels(arch);
    ars_arnn_ws *ws = ars_arnn_ws_alloc(net, B);
    ars_arnn_forward(cfg, net, ws, B, L);
    ars_arnn_site_io io;
    ars_arnn_site_io_f io_f;
    site_buffers_alloc(&io, &io_f, net, ld);
    float *params_f = malloc(net->n_params * sizeof(float));
    for (size_t k = 0; k < net->n_params; k++) {
        params_f[k] = (float)net->params[k];
    }
    double *x = malloc((size_t)C0 * B * sizeof(double));
    float *x_f = malloc((size_t)C0 * B * sizeof(float));
    int m[8] = {0};
    assert_true(B <= 8);
    const int R0 = io.in_len[0]; /* layer 0's ring */
    ARS_ASSERT(R0 >= 1, "ring of %d sites", R0);
    for (int t = 0; t < L; t++) {
        ars_arnn_site(&io, net, net->params, &arch->hilbert, NULL, m, t, B);
        ars_arnn_site_f(&io_f, net, params_f, &arch->hilbert, NULL, m, t, B);
        for (int i = 0; i < D; i++) {
            for (int b = 0; b < B; b++) {
                const size_t full = ((size_t)t * D + i) * B + b, site = (size_t)i * ld + b;
                const double got = io.lpsi[site], ref = ws->lpsi[full];
                if (!ars_test_same_bits(got, ref) ||
                    !ars_test_same_bits(io.z[n - 1][site], ws->z[n - 1][full])) {
                    fail_msg("site %d, state %d, sample %d: lpsi %.17g (site) vs %.17g (full)", t,
                             i, b, got, ref);
                }
                const double gf = (double)io_f.lpsi[site];
                if (isinf(ref) ? gf != ref : !(fabs(gf - ref) <= 1e-4)) {
                    fail_msg("site %d, state %d, sample %d: lpsi %.9g (float32) vs %.17g", t, i, b,
                             gf, ref);
                }
            }
        }
        /* Then s_t is known: its value for the mask, its encoding into the ring of layer 0. */
        ars_arnn_encode_site(x, cfg, (size_t)L, arch, t, NULL, B);
        ars_arnn_encode_site_f(x_f, cfg, (size_t)L, arch, t, NULL, B);
        const size_t slot = (size_t)(t % R0) * C0 * ld;
        for (int c = 0; c < C0; c++) {
            memcpy(io.in[0] + slot + (size_t)c * ld, x + (size_t)c * B, (size_t)B * sizeof(double));
            memcpy(io_f.in[0] + slot + (size_t)c * ld, x_f + (size_t)c * B,
                   (size_t)B * sizeof(float));
        }
        for (int b = 0; b < B; b++) {
            m[b] += ars_hilbert_value(&arch->hilbert, cfg[(size_t)b * L + t]);
        }
    }
    free(x);
    free(x_f);
    free(params_f);
    site_buffers_free(&io, &io_f);
    ars_arnn_ws_free(ws);
}

static void test_site_function_with_shortest_rings_equals_full_pass_bitwise(void **state) {
    (void)state;
    const int B = 5;
    uint8_t cfg[5 * 16];
    for (size_t i = 0; i < N_CASES; i++) {
        ars_arch arch = case_arch(&cases[i]);
        ars_arnn *net = ars_test_random_net(&arch, 2100 + i, 0.9);
        feasible_configs(cfg, &arch.hilbert, B, 7u + (unsigned)i);
        check_site_by_site(net, cfg, B, (size_t)B + (i % 2) * 3);
        ars_arnn_free(net);
    }
    for (size_t i = 0; i < N_SECTOR_CASES; i++) {
        if (sector_cases[i].two_m == ARS_TEST_NO_SECTOR) {
            continue;
        }
        ars_arch arch = sector_arch(&sector_cases[i]);
        ars_arnn *net = ars_test_random_net(&arch, 2200 + i, 0.9);
        feasible_configs(cfg, &arch.hilbert, B, 11u + (unsigned)i);
        check_site_by_site(net, cfg, B, (size_t)B + (i % 2) * 2);
        ars_arnn_free(net);
    }
}

/* The ratio windows' case: a network of W sites run on windows of a chain of L sites in a
 * sector, window b starting at chain site offset[b] after values summing to m0[b]. At window
 * site t the head is the unmasked head with ars_arnn_mask_site applied to each sample at its
 * own chain site offset[b] + t and prefix m0[b] + (its values before t). */
static void test_site_function_masks_each_sample_at_its_own_chain_position(void **state) {
    (void)state;
    const int dil[3] = {1, 2, 1};
    ars_arch chain = ars_test_arch(9, 2, 3, 4, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
    ars_hilbert_set_sector(&chain.hilbert, 2);
    const int L = chain.hilbert.size, D = chain.hilbert.local_size, W = 5, B = 7;
    ars_arch win = ars_test_arch(W, 2, 3, 4, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
    ars_arnn *net = ars_test_random_net(&win, 2300, 0.9);
    uint8_t cfg[7 * 9];
    feasible_configs(cfg, &chain.hilbert, B, 3u);
    int offset[7], m[7], m_none[7] = {0};
    uint8_t wcfg[7 * 5];
    for (int b = 0; b < B; b++) {
        offset[b] = (3 * b) % (L - W + 1);
        m[b] = 0;
        for (int t = 0; t < offset[b]; t++) {
            m[b] += ars_hilbert_value(&chain.hilbert, cfg[(size_t)b * L + t]);
        }
        memcpy(wcfg + (size_t)b * W, cfg + (size_t)b * L + offset[b], (size_t)W);
    }
    /* Full-length rings: masked and unmasked heads of the same inputs. */
    ars_arnn_ws *ws = ars_arnn_ws_alloc(net, B), *ws0 = ars_arnn_ws_alloc(net, B);
    ars_arnn_site_io io, io0;
    memset(&io, 0, sizeof io);
    io.in[0] = ws->x;
    for (int l = 0; l < win.layers; l++) {
        io.in_len[l] = io.z_len[l] = W;
        io.z[l] = ws->z[l];
        if (l + 1 < win.layers) {
            io.in[l + 1] = ws->a[l];
        }
    }
    io.lpsi = ws->lpsi;
    io.lpsi_len = W;
    io.ld = (size_t)B;
    io0 = io;
    io0.lpsi = ws0->lpsi;
    int masked = 0;
    for (int t = 0; t < W; t++) {
        ars_arnn_site(&io0, net, net->params, NULL, NULL, m_none, t, B);
        ars_arnn_site(&io, net, net->params, &chain.hilbert, offset, m, t, B);
        for (int b = 0; b < B; b++) {
            double want[3 * 7]; /* (D, B): column 0 */
            const double *z = ws->z[win.layers - 1] + (size_t)t * D * B + b;
            int lo, hi;
            ars_hilbert_feasible(&chain.hilbert, offset[b] + t, m[b], &lo, &hi);
            if (lo > 0 || hi < D - 1) {
                ars_arnn_mask_site(want, z, (size_t)B, D, lo, hi);
                masked++;
            } else {
                for (int i = 0; i < D; i++) {
                    want[i * B] = ws0->lpsi[((size_t)t * D + i) * B + b];
                }
            }
            for (int i = 0; i < D; i++) {
                const double got = ws->lpsi[((size_t)t * D + i) * B + b];
                if (!ars_test_same_bits(got, want[i * B])) {
                    fail_msg("window %d (chain site %d), state %d: %.17g, want %.17g", b,
                             offset[b] + t, i, got, want[i * B]);
                }
            }
            m[b] += ars_hilbert_value(&chain.hilbert, wcfg[(size_t)b * W + t]);
        }
        ars_arnn_encode_site(ws->x + (size_t)t * B, wcfg, (size_t)W, &win, t, NULL, B);
    }
    assert_true(masked > 0); /* the sector restricted some sites */
    ars_arnn_ws_free(ws);
    ars_arnn_ws_free(ws0);
    ars_arnn_free(net);
}

static void test_architecture_checks_reject_inconsistent_shapes(void **state) {
    (void)state;
    const int dil[3] = {1, 1, 1};
    ars_arch a = ars_test_arch(8, 1, 3, 4, 3, dil, 2, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE);
    char why[256];
    assert_int_equal(ars_arch_check(&a, why, sizeof why), 0);
    a.features[1] = 5; /* groups 2 do not divide 5 */
    assert_int_equal(ars_arch_check(&a, why, sizeof why), -1);
    a.features[1] = 4;
    a.features[2] = 3; /* last layer must have local_size = 2 */
    assert_int_equal(ars_arch_check(&a, why, sizeof why), -1);
    a.features[2] = 2;
    a.kernel_size = 1; /* the exclusive layer would have no taps */
    assert_int_equal(ars_arch_check(&a, why, sizeof why), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probabilities_sum_to_one_over_all_configurations),
        cmocka_unit_test(test_random_init_is_normalised_too),
        cmocka_unit_test(test_changing_site_j_leaves_conditionals_up_to_j_unchanged),
        cmocka_unit_test(test_receptive_field_matches_actual_dependence),
        cmocka_unit_test(test_prefix_evaluation_equals_full_pass_bitwise),
        cmocka_unit_test(test_forward_matches_independent_numpy_reference),
        cmocka_unit_test(test_lecun_normal_initialisation),
        cmocka_unit_test(test_gradients_match_central_finite_differences),
        cmocka_unit_test(test_architecture_checks_reject_inconsistent_shapes),
        cmocka_unit_test(test_extreme_weights_keep_probabilities_finite_and_normalised),
        cmocka_unit_test(test_sector_and_symmetrised_states_are_normalised),
        cmocka_unit_test(test_symmetrised_probability_is_the_group_mean),
        cmocka_unit_test(test_scaled_last_layer_raises_each_conditional_to_the_power_c),
        cmocka_unit_test(test_masked_symmetrised_gradients_match_finite_differences),
        cmocka_unit_test(test_weighted_backward_scales_each_sample),
        cmocka_unit_test(test_backward_bits_do_not_depend_on_the_batch),
        cmocka_unit_test(test_spin_flip_needs_the_zero_sector),
        cmocka_unit_test(test_site_function_with_shortest_rings_equals_full_pass_bitwise),
        cmocka_unit_test(test_site_function_masks_each_sample_at_its_own_chain_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
