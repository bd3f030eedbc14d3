/*
 * Specification of the observables: with every configuration weighted by its exact probability
 * the estimators give the exact expectation values, computed here independently by enumeration
 * (diagonal ones from p(s), off-diagonal ones from psi(s) psi(s'), the energy from the matrix
 * elements, S2 from the reduced density matrix of the state vector) to 1e-12; estimates from
 * exact samples agree with the exact values within their standard errors, and those errors
 * match sqrt(Var/n) of the exact distribution; the results do not depend on the thread count.
 */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"
#include "ops/hamiltonian.h"
#include "ops/user_ops.h"
#include "vmc/observables.h"
#include "sample/sampler.h"

#define PI 3.14159265358979323846

/* A small chain, enumerated: every configuration, its probability and amplitude. */
typedef struct chain {
    ars_arnn *net;
    int L, D, two_s;
    size_t dim;
    uint8_t *cfg; /* (dim, L) lexicographic, site 0 most significant */
    double *p;    /* (dim) */
} chain;

static chain chain_of(const ars_arch *a, uint64_t seed) {
    const int L = a->hilbert.size, two_s = a->hilbert.two_s;
    chain c;
    c.net = ars_test_random_net(a, seed, 0.6);
    c.L = L;
    c.D = two_s + 1;
    c.two_s = two_s;
    double *lp = ars_test_enumerate_log_prob(c.net, &c.dim);
    c.cfg = malloc(c.dim * (size_t)L);
    c.p = malloc(c.dim * sizeof(double));
    assert_non_null(c.cfg);
    assert_non_null(c.p);
    for (size_t k = 0; k < c.dim; k++) {
        ars_hilbert_config(&c.net->arch.hilbert, c.cfg + k * (size_t)L, k);
        c.p[k] = exp(lp[k]);
    }
    free(lp);
    return c;
}

static chain chain_make(int L, int two_s, int layers, int features, uint64_t seed) {
    const int dil[4] = {1, 2, 1, 1};
    ars_arch a = ars_test_arch(L, two_s, layers, features, 3, dil, 1, 1, ARS_ACTIVATION_TANH,
                               ARS_INPUT_VALUE);
    return chain_of(&a, seed);
}

static void chain_free(chain *c) {
    ars_arnn_free(c->net);
    free(c->cfg);
    free(c->p);
}

static double zval(const chain *c, size_t k, int i) {
    return 2.0 * c->cfg[k * (size_t)c->L + i] - c->two_s;
}

/* Index of configuration k with sites i (and j >= 0) flipped (spin 1/2). */
static size_t flipped(const chain *c, size_t k, int i, int j) {
    ARS_ASSERT(i >= 0 && i < c->L && j < c->L, "sites %d, %d of %d", i, j, c->L);
    size_t m = k ^ ((size_t)1 << (c->L - 1 - i));
    if (j >= 0) {
        m ^= (size_t)1 << (c->L - 1 - j);
    }
    return m;
}

/* (-1)^(up spins on odd sites) of configuration k. */
static double marshall(const chain *c, size_t k) {
    int n = 0;
    for (int i = 1; i < c->L; i += 2) {
        n += c->cfg[k * (size_t)c->L + i];
    }
    return (n & 1) ? -1.0 : 1.0;
}

static ars_obs_spec spec_of(unsigned mask, int pbc, int chunk, int threads) {
    ars_obs_spec s;
    memset(&s, 0, sizeof s);
    s.mask = mask;
    s.pbc = pbc;
    s.chunk_size = chunk;
    s.n_threads = threads;
    return s;
}

/* ---- exact values by enumeration --------------------------------------------------------- */

/* <z_i z_j> of the chain. */
static double exact_zz(const chain *c, int i, int j) {
    double acc = 0.0;
    for (size_t k = 0; k < c->dim; k++) {
        acc += c->p[k] * zval(c, k, i) * zval(c, k, j);
    }
    return acc;
}

static double exact_z(const chain *c, int i) {
    double acc = 0.0;
    for (size_t k = 0; k < c->dim; k++) {
        acc += c->p[k] * zval(c, k, i);
    }
    return acc;
}

/* <psi| sx_i sx_j |psi> (j < 0: sx_i) with psi = sign sqrt(p). */
static double exact_sx(const chain *c, int i, int j, int msign) {
    double acc = 0.0;
    for (size_t k = 0; k < c->dim; k++) {
        const size_t m = flipped(c, k, i, j);
        double s = msign ? marshall(c, k) * marshall(c, m) : 1.0;
        acc += s * sqrt(c->p[k] * c->p[m]);
    }
    return acc;
}

/* The exact value of every component of observable k, in the layout of ars_obs_value. */
static void exact_values(const chain *c, int k, int pbc, int msign, const ars_ham *H, double *out) {
    const int L = c->L;
    int nr, c0;
    ars_obs_geometry(L, pbc, &nr, &c0);
    switch (k) {
        case ARS_OBS_SZ:
            for (int i = 0; i < L; i++) {
                out[i] = exact_z(c, i);
            }
            break;
        case ARS_OBS_MAGNETIZATION:
        case ARS_OBS_ABS_MAGNETIZATION:
        case ARS_OBS_STAGGERED_MAGNETIZATION: {
            double acc = 0.0;
            for (size_t s = 0; s < c->dim; s++) {
                double M = 0.0;
                for (int i = 0; i < L; i++) {
                    M += (k == ARS_OBS_STAGGERED_MAGNETIZATION && (i % 2 == 1) ? -1.0 : 1.0) *
                         zval(c, s, i);
                }
                acc += c->p[s] * (k == ARS_OBS_MAGNETIZATION ? M : fabs(M)) / L;
            }
            out[0] = acc;
            break;
        }
        case ARS_OBS_ZZ_CORRELATION:
        case ARS_OBS_ZZ_CONNECTED:
        case ARS_OBS_XX_CORRELATION:
            for (int r = 0; r < nr; r++) {
                const int n_i = c0 < 0 ? L : 1;
                double acc = 0.0;
                for (int t = 0; t < n_i; t++) {
                    const int i = c0 < 0 ? t : c0, j = (i + r) % L;
                    if (k == ARS_OBS_XX_CORRELATION) {
                        acc += r == 0 ? 1.0 : exact_sx(c, i < j ? i : j, i < j ? j : i, msign);
                    } else {
                        acc += exact_zz(c, i, j) -
                               (k == ARS_OBS_ZZ_CONNECTED ? exact_z(c, i) * exact_z(c, j) : 0.0);
                    }
                }
                out[r] = acc / n_i;
            }
            break;
        case ARS_OBS_STRING_ORDER:
            /* sum_s p(s) m_i (-1)^(m_{i+1} + ... + m_{j-1}) m_j, m = z / 2, from the definition. */
            for (int r = 0; r < nr; r++) {
                const int n_i = c0 < 0 ? L : 1;
                double acc = 0.0;
                for (int t = 0; t < n_i; t++) {
                    const int i = c0 < 0 ? t : c0;
                    for (size_t s = 0; s < c->dim; s++) {
                        int msum = 0;
                        for (int q = 1; q < r; q++) {
                            msum += (int)lrint(zval(c, s, (i + q) % L) / 2.0);
                        }
                        acc += c->p[s] * (zval(c, s, i) / 2.0) * (zval(c, s, (i + r) % L) / 2.0) *
                               (msum % 2 != 0 ? -1.0 : 1.0);
                    }
                }
                out[r] = acc / n_i;
            }
            break;
        case ARS_OBS_STRUCTURE_FACTOR:
            /* The textbook double sum, not the estimator's |sum_j z_j e^{ikj}|^2. */
            for (int q = 0; q < L; q++) {
                const double kq = 2.0 * PI * q / L;
                double acc = 0.0;
                for (int i = 0; i < L; i++) {
                    for (int j = 0; j < L; j++) {
                        acc += cos(kq * (i - j)) * exact_zz(c, i, j);
                    }
                }
                out[q] = acc / L;
            }
            break;
        case ARS_OBS_SX:
            for (int i = 0; i < L; i++) {
                out[i] = exact_sx(c, i, -1, msign);
            }
            break;
        case ARS_OBS_ENERGY: {
            /* sum_s psi(s) sum_s' H(s, s') psi(s'), elements from ars_ham (Marshall included). */
            ars_change fl[128];
            double mel[128], diag;
            double acc = 0.0;
            for (size_t s = 0; s < c->dim; s++) {
                const uint8_t *cs = c->cfg + s * (size_t)L;
                const int n = ars_test_ham_connections(H, cs, &diag, fl, mel, 128);
                double hs = diag * sqrt(c->p[s]);
                for (int f = 0; f < n; f++) {
                    const int j = fl[f].n > 1 ? fl[f].site[1] : -1;
                    hs += mel[f] * sqrt(c->p[flipped(c, s, fl[f].site[0], j)]);
                }
                acc += sqrt(c->p[s]) * hs;
            }
            out[0] = acc;
            break;
        }
        default:
            fail_msg("no exact value for %d", k);
    }
}

static int n_values(const ars_obs_value *v) {
    return v->len > 0 ? v->len : 1;
}

/* Every requested observable of res against its exact value. */
static void check_exact(const chain *c, const ars_obs_result *res, unsigned mask, int pbc,
                        int msign, const ars_ham *H, double atol) {
    double ref[64];
    for (int k = 0; k < ARS_OBS_COUNT; k++) {
        if (k == ARS_OBS_RENYI2 || !(mask & (1u << k))) {
            continue;
        }
        const ars_obs_value *v = &res->v[k];
        assert_true(n_values(v) <= 64);
        exact_values(c, k, pbc, msign, H, ref);
        printf("  %-24s L=%d pbc=%d: %d values, first %.12f (exact %.12f)\n", ars_obs_names[k],
               c->L, pbc, n_values(v), v->mean[0], ref[0]);
        assert_allclose(v->mean, ref, (size_t)n_values(v), atol, 0.0);
    }
}

/* Weighted by p(s), the estimators are exact expectation values. */
static void test_weighted_enumeration_gives_exact_values(void **state) {
    (void)state;
    const unsigned diag = (1u << ARS_OBS_SZ) | (1u << ARS_OBS_MAGNETIZATION) |
                          (1u << ARS_OBS_ABS_MAGNETIZATION) |
                          (1u << ARS_OBS_STAGGERED_MAGNETIZATION) | (1u << ARS_OBS_ZZ_CORRELATION) |
                          (1u << ARS_OBS_ZZ_CONNECTED) | (1u << ARS_OBS_STRUCTURE_FACTOR);
    const unsigned ratio =
        (1u << ARS_OBS_SX) | (1u << ARS_OBS_XX_CORRELATION) | (1u << ARS_OBS_ENERGY);
    /* Spin 1/2, every observable, odd and even sizes, both geometries, with and without the
     * Marshall sign (xxz: an off-diagonal sign that matters). */
    const int sizes[] = {8, 7};
    for (int si = 0; si < 2; si++) {
        chain c = chain_make(sizes[si], 1, 3, 4, 11 + (uint64_t)si);
        for (int pbc = 0; pbc <= 1; pbc++) {
            for (int msign = 0; msign <= 1; msign++) {
                if (msign && pbc && c.L % 2 == 1) {
                    continue;
                }
                ars_ham H;
                assert_int_equal(ars_ham_init(&H,
                                              ARS_TEST_PRESET(msign ? ARS_HAM_XXZ : ARS_HAM_TFIM,
                                                              0.9, 0.7, 1.3, 0.0, pbc, msign),
                                              c.L, 1),
                                 ARS_OK);
                ars_obs_spec sp = spec_of(diag | ratio, pbc, 37, 2);
                sp.marshall_sign = msign;
                sp.H = &H;
                ars_obs_result res;
                assert_int_equal(ars_obs_measure(&res, &sp, c.net, c.cfg, (int64_t)c.dim, c.p),
                                 ARS_OK);
                check_exact(&c, &res, diag | ratio, pbc, msign, &H, 1e-12);
                ars_obs_result_free(&res);
            }
        }
        chain_free(&c);
    }
    /* Spin 1: the diagonal observables (z in {-2, 0, 2}) and the string order, on an odd and
     * an even chain. */
    const unsigned diag1 = diag | (1u << ARS_OBS_STRING_ORDER);
    for (int L = 5; L <= 6; L++) {
        chain c = chain_make(L, 2, 2, 4, 21 + (uint64_t)L);
        for (int pbc = 0; pbc <= 1; pbc++) {
            ars_obs_spec sp = spec_of(diag1, pbc, 16, 2);
            ars_obs_result res;
            assert_int_equal(ars_obs_measure(&res, &sp, c.net, c.cfg, (int64_t)c.dim, c.p), ARS_OK);
            check_exact(&c, &res, diag1, pbc, 0, NULL, 1e-12);
            ars_obs_result_free(&res);
        }
        chain_free(&c);
    }
}

/* Tr(rho_A^2) of A = sites [0, l) from the state vector sqrt(p) (signs are products of
 * single-site phases: they do not change it). */
static double exact_purity(const chain *c, int l) {
    const size_t na = (size_t)1 << l, nb = (size_t)1 << (c->L - l);
    double acc = 0.0;
    for (size_t a = 0; a < na; a++) {
        for (size_t a2 = 0; a2 < na; a2++) {
            double rho = 0.0; /* rho_A[a, a2] = sum_b psi(a b) psi(a2 b) */
            for (size_t b = 0; b < nb; b++) {
                rho += sqrt(c->p[a * nb + b] * c->p[a2 * nb + b]);
            }
            acc += rho * rho;
        }
    }
    return acc;
}

/* With every pair of configurations weighted by p(s1) p(s2), the swap estimator gives the exact
 * S2 of each cut. */
static void test_renyi2_over_all_pairs_is_exact(void **state) {
    (void)state;
    chain c = chain_make(6, 1, 3, 4, 31);
    const size_t dim = c.dim, L = (size_t)c.L;
    /* Samples k < dim^2: pair (k, k + dim^2) = (configuration k / dim, configuration k % dim). */
    const size_t n = 2 * dim * dim;
    uint8_t *cfg = malloc(n * L);
    double *w = malloc(n * sizeof(double));
    for (size_t k = 0; k < dim * dim; k++) {
        memcpy(cfg + k * L, c.cfg + (k / dim) * L, L);
        memcpy(cfg + (dim * dim + k) * L, c.cfg + (k % dim) * L, L);
        w[k] = c.p[k / dim];
        w[dim * dim + k] = c.p[k % dim];
    }
    ars_obs_spec sp = spec_of(1u << ARS_OBS_RENYI2, 1, 100, 2);
    sp.n_cuts = 5;
    for (int l = 1; l <= 5; l++) {
        sp.cuts[l - 1] = l;
    }
    ars_obs_result res;
    assert_int_equal(ars_obs_measure(&res, &sp, c.net, cfg, (int64_t)n, w), ARS_OK);
    double ref[5];
    for (int l = 1; l <= 5; l++) {
        ref[l - 1] = -log(exact_purity(&c, l));
        printf("  S2(%d) = %.12f (exact %.12f)\n", l, res.v[ARS_OBS_RENYI2].mean[l - 1],
               ref[l - 1]);
        assert_int_equal(res.v[ARS_OBS_RENYI2].coord[l - 1], l);
    }
    assert_allclose(res.v[ARS_OBS_RENYI2].mean, ref, 5, 1e-12, 0.0);
    assert_int_equal(res.v[ARS_OBS_RENYI2].n_samples, (int64_t)(dim * dim));
    ars_obs_result_free(&res);
    free(cfg);
    free(w);
    chain_free(&c);
}

/* The in-sector rows of a chain (psi = 0 elsewhere): what a sampler of the state can return. */
static size_t sector_rows(const chain *c, uint8_t *cfg, double *w) {
    size_t n = 0;
    for (size_t k = 0; k < c->dim; k++) {
        if (ars_hilbert_in_sector(&c->net->arch.hilbert, c->cfg + k * (size_t)c->L)) {
            memcpy(cfg + n * (size_t)c->L, c->cfg + k * (size_t)c->L, (size_t)c->L);
            w[n++] = c->p[k];
        }
    }
    return n;
}

/* The observables of symmetrised states and of states in a sector (weighted by p over the
 * sector's configurations) are their exact expectation values: the ratios come from the
 * symmetrised, masked amplitudes (sx = 0 in a sector), the energy is <psi|H|psi>. Includes a
 * network whose reach R = 2 is short of the chain (L = 10), where the pair flips of
 * xx_correlation at distance <= R + 1 need windows longer than the bonds of H do. */
static void test_sector_and_symmetrised_states_give_exact_values(void **state) {
    (void)state;
    const unsigned all = ((1u << ARS_OBS_RENYI2) - 1u);
    const struct {
        int L, K, dil0, dil1, two_m;
        ars_sym sym;
    } cases[] = {{8, 3, 1, 2, 0, ARS_SYM_BOTH},
                 {8, 3, 1, 2, 2, ARS_SYM_REFLECTION},
                 {8, 3, 1, 2, -1000, ARS_SYM_SPIN_FLIP},
                 {10, 2, 1, 1, 0, ARS_SYM_NONE},
                 {10, 2, 1, 1, -1000, ARS_SYM_REFLECTION},
                 {7, 3, 1, 2, 1, ARS_SYM_REFLECTION},
                 {8, 3, 1, 2, 0, ARS_SYM_ALL},
                 {7, 3, 1, 2, 1, ARS_SYM_TRANSLATION}};
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const int dil[2] = {cases[ci].dil0, cases[ci].dil1};
        ars_arch a = ars_test_arch(cases[ci].L, 1, 2, 4, cases[ci].K, dil, 1, 1,
                                   ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
        if (cases[ci].two_m != -1000) {
            ars_hilbert_set_sector(&a.hilbert, cases[ci].two_m);
        }
        a.symmetry = cases[ci].sym;
        chain c = chain_of(&a, 60 + ci);
        uint8_t *cfg = malloc(c.dim * (size_t)c.L);
        double *w = malloc(c.dim * sizeof(double));
        const size_t n = sector_rows(&c, cfg, w);
        for (int pbc = 0; pbc <= 1; pbc++) {
            const int msign = !(pbc && c.L % 2 == 1);
            ars_ham H;
            assert_int_equal(
                ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_XXZ, 0.9, 0.0, 1.3, 0.0, pbc, msign), c.L,
                             1),
                ARS_OK);
            ars_obs_spec sp = spec_of(all, pbc, 37, 2);
            sp.marshall_sign = msign;
            sp.H = &H;
            ars_obs_result res;
            assert_int_equal(ars_obs_measure(&res, &sp, c.net, cfg, (int64_t)n, w), ARS_OK);
            check_exact(&c, &res, all, pbc, msign, &H, 1e-12);
            if (cases[ci].two_m != -1000) {
                for (int i = 0; i < c.L; i++) {
                    assert_true(res.v[ARS_OBS_SX].mean[i] == 0.0); /* sx leaves the sector */
                }
            }
            ars_obs_result_free(&res);
        }
        free(cfg);
        free(w);
        chain_free(&c);
    }
}

/* The swap estimator over all pairs of a symmetrised state in the zero sector is its exact S2
 * (swapped configurations outside the sector have psi = 0). */
static void test_renyi2_of_a_sector_state_over_all_pairs_is_exact(void **state) {
    (void)state;
    const int dil[3] = {1, 2, 1};
    ars_arch a = ars_test_arch(6, 1, 3, 4, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
    ars_hilbert_set_sector(&a.hilbert, 0);
    a.symmetry = ARS_SYM_BOTH;
    chain c = chain_of(&a, 71);
    uint8_t *rows = malloc(c.dim * (size_t)c.L);
    double *pr = malloc(c.dim * sizeof(double));
    const size_t m = sector_rows(&c, rows, pr), L = (size_t)c.L;
    assert_true(m > 0);
    const size_t n = 2 * m * m;
    /* (n > 0, but the analyzer does not know that cmocka's failed assertion leaves) */
    uint8_t *cfg = malloc(n > 0 ? n * L : 1);
    double *w = malloc(n > 0 ? n * sizeof(double) : 1);
    for (size_t k = 0; k < m * m; k++) {
        memcpy(cfg + k * L, rows + (k / m) * L, L);
        memcpy(cfg + (m * m + k) * L, rows + (k % m) * L, L);
        w[k] = pr[k / m];
        w[m * m + k] = pr[k % m];
    }
    ars_obs_spec sp = spec_of(1u << ARS_OBS_RENYI2, 1, 100, 2);
    sp.n_cuts = 5;
    double ref[5];
    for (int l = 1; l <= 5; l++) {
        sp.cuts[l - 1] = l;
        ref[l - 1] = -log(exact_purity(&c, l));
    }
    ars_obs_result res;
    assert_int_equal(ars_obs_measure(&res, &sp, c.net, cfg, (int64_t)n, w), ARS_OK);
    assert_allclose(res.v[ARS_OBS_RENYI2].mean, ref, 5, 1e-12, 0.0);
    ars_obs_result_free(&res);
    free(rows);
    free(pr);
    free(cfg);
    free(w);
    chain_free(&c);
}

/* Exact samples: every estimate lies within 5 standard errors of the exact value, and the
 * standard errors of the scalars are sqrt(Var/n) of the exact distribution to 5%. */
static void test_sampled_estimates_agree_with_exact_values_within_errors(void **state) {
    (void)state;
    const int n = ARS_TEST_SHORT ? 10000 : 40000; /* the sanitizers: the same code, shorter */
    chain c = chain_make(10, 1, 3, 6, 41);
    ars_ham H;
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 0.8, 0.0, 0.0, 1, 0), c.L, 1), ARS_OK);
    ars_sampler *smp = ars_sampler_alloc(c.net, 256, 2, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT64);
    uint8_t *cfg = malloc((size_t)n * (size_t)c.L);
    double *lp = malloc((size_t)n * sizeof(double));
    assert_int_equal(ars_sampler_draw(smp, cfg, lp, (size_t)n, 99, 0, NULL), ARS_OK);
    ars_sampler_free(smp);
    for (int pbc = 0; pbc <= 1; pbc++) {
        ars_obs_spec sp = spec_of(ARS_OBS_ALL & ~ARS_OBS_NEEDS_INTEGER_SPIN, pbc, 256, 2);
        sp.H = &H;
        sp.n_cuts = 3;
        sp.cuts[0] = 2;
        sp.cuts[1] = 5;
        sp.cuts[2] = 7;
        ars_obs_result res;
        assert_int_equal(ars_obs_measure(&res, &sp, c.net, cfg, n, NULL), ARS_OK);
        double ref[64] = {0};
        for (int k = 0; k < ARS_OBS_COUNT; k++) {
            const ars_obs_value *v = &res.v[k];
            if (!(sp.mask & (1u << k))) {
                continue; /* string_order: integer spin */
            }
            if (k == ARS_OBS_RENYI2) {
                for (int i = 0; i < 3; i++) {
                    ref[i] = -log(exact_purity(&c, sp.cuts[i]));
                }
            } else {
                exact_values(&c, k, pbc, 0, &H, ref);
            }
            double worst = 0.0;
            for (int i = 0; i < n_values(v); i++) {
                /* A value with no spread (C(0) = 1) is exact: its error is 0. */
                const double z = fabs(v->mean[i] - ref[i]) / (v->error[i] + 1e-12);
                worst = z > worst ? z : worst;
            }
            printf("  %-24s pbc=%d: worst |est - exact| / error = %.2f\n", ars_obs_names[k], pbc,
                   worst);
            assert_true(worst < 5.0);
        }
        /* Scalars: the standard error is the exact sqrt(Var/n). */
        const int scalars[] = {ARS_OBS_MAGNETIZATION, ARS_OBS_ABS_MAGNETIZATION,
                               ARS_OBS_STAGGERED_MAGNETIZATION, ARS_OBS_ENERGY};
        for (int s = 0; s < 4; s++) {
            const int k = scalars[s];
            double mean, sq = 0.0;
            exact_values(&c, k, pbc, 0, &H, &mean);
            /* Var of the per-sample value, by enumeration. */
            for (size_t m = 0; m < c.dim; m++) {
                double x;
                if (k == ARS_OBS_ENERGY) {
                    ars_test_ham_local_energy_slow(&x, c.cfg + m * (size_t)c.L, &H, c.net, 1);
                } else {
                    double M = 0.0;
                    for (int i = 0; i < c.L; i++) {
                        M += (k == ARS_OBS_STAGGERED_MAGNETIZATION && i % 2 ? -1.0 : 1.0) *
                             zval(&c, m, i);
                    }
                    x = (k == ARS_OBS_MAGNETIZATION ? M : fabs(M)) / c.L;
                }
                sq += c.p[m] * (x - mean) * (x - mean);
            }
            const double err = sqrt(sq / n);
            printf("  %-24s error %.3e, exact sqrt(Var/n) %.3e\n", ars_obs_names[k],
                   res.v[k].error[0], err);
            assert_true(fabs(res.v[k].error[0] / err - 1.0) < 0.05);
            if (k == ARS_OBS_ENERGY) {
                assert_true(fabs(res.v[k].variance / sq - 1.0) < 0.05);
            }
        }
        assert_int_equal(res.v[ARS_OBS_SZ].n_samples, n);
        assert_int_equal(res.v[ARS_OBS_RENYI2].n_samples, n / 2);
        ars_obs_result_free(&res);
    }
    free(cfg);
    free(lp);
    chain_free(&c);
}

/* Chunk statistics are merged in chunk order: 1, 2 and 3 threads give the same bits. */
static void test_results_do_not_depend_on_the_thread_count(void **state) {
    (void)state;
    const int n = 3001;
    chain c = chain_make(9, 1, 2, 4, 51);
    ars_ham H;
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 0.5, 0.0, 0.0, 1, 0), c.L, 1), ARS_OK);
    uint8_t *cfg = malloc((size_t)n * (size_t)c.L);
    for (int k = 0; k < n; k++) {
        memcpy(cfg + (size_t)k * c.L, c.cfg + ((size_t)k * 7919u % c.dim) * c.L, (size_t)c.L);
    }
    ars_obs_result res[3];
    for (int t = 0; t < 3; t++) {
        ars_obs_spec sp = spec_of(ARS_OBS_ALL & ~ARS_OBS_NEEDS_INTEGER_SPIN, 1, 97, t + 1);
        sp.H = &H;
        sp.n_cuts = 2;
        sp.cuts[0] = 3;
        sp.cuts[1] = 4;
        assert_int_equal(ars_obs_measure(&res[t], &sp, c.net, cfg, n, NULL), ARS_OK);
    }
    for (int t = 1; t < 3; t++) {
        for (int k = 0; k < ARS_OBS_COUNT; k++) {
            if (!(res[0].mask & (1u << k))) {
                continue;
            }
            const size_t bytes = (size_t)n_values(&res[0].v[k]) * sizeof(double);
            assert_memory_equal(res[t].v[k].mean, res[0].v[k].mean, bytes);
            assert_memory_equal(res[t].v[k].error, res[0].v[k].error, bytes);
        }
    }
    for (int t = 0; t < 3; t++) {
        ars_obs_result_free(&res[t]);
    }
    free(cfg);
    chain_free(&c);
}

/* A product state (every kernel zero: the same conditional at every site) has S2 = 0 exactly,
 * with zero error, and connected correlations that vanish within their errors. */
static void test_product_state_has_no_entanglement(void **state) {
    (void)state;
    chain c = chain_make(8, 1, 2, 3, 61);
    /* Zero all parameters but the last layer's bias. */
    const ars_conv *last = &c.net->layer[c.net->arch.layers - 1];
    const size_t nb = (size_t)last->cout;
    memset(c.net->params, 0, (c.net->n_params - nb) * sizeof(double));
    c.net->params[c.net->n_params - 1] = 0.4;
    const int n = 2000;
    uint8_t *cfg = malloc((size_t)n * (size_t)c.L);
    double *lp = malloc((size_t)n * sizeof(double));
    ars_sampler *smp = ars_sampler_alloc(c.net, 128, 1, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT64);
    assert_int_equal(ars_sampler_draw(smp, cfg, lp, (size_t)n, 5, 0, NULL), ARS_OK);
    ars_sampler_free(smp);
    ars_obs_spec sp = spec_of((1u << ARS_OBS_RENYI2) | (1u << ARS_OBS_ZZ_CONNECTED), 1, 128, 2);
    sp.n_cuts = 1;
    sp.cuts[0] = 4;
    ars_obs_result res;
    assert_int_equal(ars_obs_measure(&res, &sp, c.net, cfg, n, NULL), ARS_OK);
    assert_true(fabs(res.v[ARS_OBS_RENYI2].mean[0]) < 1e-12);
    assert_true(res.v[ARS_OBS_RENYI2].error[0] < 1e-12);
    for (int r = 1; r < res.v[ARS_OBS_ZZ_CONNECTED].len; r++) {
        const ars_obs_value *v = &res.v[ARS_OBS_ZZ_CONNECTED];
        assert_true(fabs(v->mean[r]) < 5.0 * v->error[r]);
    }
    ars_obs_result_free(&res);
    free(cfg);
    free(lp);
    chain_free(&c);
}

/* The user operators of [observables] (ops/user_ops.h) with exact weights: Pauli operators on
 * spin 1/2 equal the exact values of the enumeration above (sx, zz, the energy), and on spin 1 a
 * bond S_1.S_2 and a same-site product equal values written here from the spin-1 matrices. */
static void user_ops_of(ars_user_ops *u, const char *const *lines, int n) {
    ars_user_ops_init(u);
    for (int k = 0; k < n; k++) {
        assert_int_equal(ars_user_ops_parse(u, lines[k], "test"), ARS_OK);
    }
}

static void test_user_operators_give_exact_values(void **state) {
    (void)state;
    static const char *const half[] = {"x3: 1.0 X(3)", "xx: 0.5 X(1) X(4)", "zz: 1 Z(i) Z(i+2)"};
    chain c = chain_make(7, 1, 3, 4, 31);
    assert_int_equal(c.L, 7); /* the sites below are inside */
    for (int pbc = 0; pbc <= 1; pbc++) {
        for (int msign = 0; msign <= 1; msign++) {
            if (msign && pbc) {
                continue; /* 7 sites: the Marshall sign needs an open chain */
            }
            ars_ham H;
            assert_int_equal(
                ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_XXZ, 0.9, 0.7, 1.3, 0.0, pbc, msign), c.L,
                             1),
                ARS_OK);
            /* Operator h: the Hamiltonian's own terms, as text. */
            ars_user_ops u;
            user_ops_of(&u, half, 3);
            ars_terms T;
            ars_terms_init(&T);
            assert_int_equal(ars_ham_term_list(&H, &T), ARS_OK);
            for (int t = 0; t < T.n; t++) {
                char line[440] = "h: ";
                ars_term_format(&T.t[t], line + 3, sizeof line - 3);
                assert_int_equal(ars_user_ops_parse(&u, line, "test"), ARS_OK);
            }
            ars_terms_free(&T);
            assert_int_equal(u.n, 4);
            ars_obs_spec sp = spec_of(1u << ARS_OBS_ENERGY, pbc, 13, 2);
            sp.marshall_sign = msign;
            sp.H = &H;
            sp.ops = &u;
            ars_obs_result res;
            assert_int_equal(ars_obs_measure(&res, &sp, c.net, c.cfg, (int64_t)c.dim, c.p), ARS_OK);
            assert_int_equal(res.n_ops, 4);
            assert_string_equal(res.op_name[2], "zz");
            assert_string_equal(res.op_definition[0], "1 X(3)");
            double zz = 0.0;
            for (int i = 0; i < c.L; i++) {
                zz += pbc || i + 2 < c.L ? exact_zz(&c, i, (i + 2) % c.L) : 0.0;
            }
            double e;
            exact_values(&c, ARS_OBS_ENERGY, pbc, msign, &H, &e);
            const double want[4] = {exact_sx(&c, 3, -1, msign), 0.5 * exact_sx(&c, 1, 4, msign), zz,
                                    e};
            for (int k = 0; k < 4; k++) {
                printf("  operator %-4s L=%d pbc=%d msign=%d: %.12f (exact %.12f)\n",
                       res.op_name[k], c.L, pbc, msign, res.op_v[k].mean[0], want[k]);
                assert_allclose(res.op_v[k].mean, &want[k], 1, 1e-12, 0.0);
                assert_int_equal(res.op_v[k].n_samples, (int64_t)c.dim);
            }
            /* The same operator as the Hamiltonian: the energy's estimator and variance (to
             * rounding: the connections come in another order). */
            assert_allclose(res.op_v[3].mean, res.v[ARS_OBS_ENERGY].mean, 1, 1e-12, 0.0);
            assert_allclose(&res.op_v[3].variance, &res.v[ARS_OBS_ENERGY].variance, 1, 1e-12, 0.0);
            ars_obs_result_free(&res);
            ars_ham_free(&H);
            ars_user_ops_free(&u);
        }
    }
    chain_free(&c);
    ars_user_ops u;

    /* Spin 1, 5 sites: S_1.S_2 = Sz Sz + (S+ S- + S- S+)/2, and (Sz_3)^2 as a product on one
     * site. S+|m> = sqrt(2 - m(m+1)) |m+1>, written out here. */
    static const char *const one[] = {"bond: 1 Sz(1) Sz(2)", "bond: 0.5 S+(1) S-(2)",
                                      "bond: 0.5 S-(1) S+(2)", "d: 1 Sz(3) Sz(3)"};
    user_ops_of(&u, one, 4);
    c = chain_make(5, 2, 2, 4, 41);
    double bond = 0.0, d = 0.0;
    for (size_t k = 0; k < c.dim; k++) {
        const uint8_t *s = c.cfg + k * (size_t)c.L;
        const double m1 = s[1] - 1.0, m2 = s[2] - 1.0, m3 = s[3] - 1.0;
        bond += c.p[k] * m1 * m2;
        d += c.p[k] * m3 * m3;
        for (int dir = -1; dir <= 1; dir += 2) { /* m1 + dir, m2 - dir */
            const double n1 = m1 + dir, n2 = m2 - dir;
            if (fabs(n1) > 1.0 || fabs(n2) > 1.0) {
                continue;
            }
            const double el = sqrt(2.0 - m1 * n1) * sqrt(2.0 - m2 * n2);
            const size_t kk = (size_t)((long)k + dir * 27 - dir * 9); /* sites 1, 2: 3^3, 3^2 */
            bond += 0.5 * el * sqrt(c.p[k] * c.p[kk]);
        }
    }
    ars_obs_spec sp = spec_of(0u, 1, 16, 2);
    sp.ops = &u;
    ars_obs_result res;
    assert_int_equal(ars_obs_measure(&res, &sp, c.net, c.cfg, (int64_t)c.dim, c.p), ARS_OK);
    printf("  spin 1: bond %.12f (exact %.12f), d %.12f (exact %.12f)\n", res.op_v[0].mean[0], bond,
           res.op_v[1].mean[0], d);
    assert_allclose(res.op_v[0].mean, &bond, 1, 1e-12, 0.0);
    assert_allclose(res.op_v[1].mean, &d, 1, 1e-12, 0.0);
    ars_obs_result_free(&res);
    chain_free(&c);
    ars_user_ops_free(&u);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weighted_enumeration_gives_exact_values),
        cmocka_unit_test(test_renyi2_over_all_pairs_is_exact),
        cmocka_unit_test(test_sampled_estimates_agree_with_exact_values_within_errors),
        cmocka_unit_test(test_results_do_not_depend_on_the_thread_count),
        cmocka_unit_test(test_product_state_has_no_entanglement),
        cmocka_unit_test(test_sector_and_symmetrised_states_give_exact_values),
        cmocka_unit_test(test_renyi2_of_a_sector_state_over_all_pairs_is_exact),
        cmocka_unit_test(test_user_operators_give_exact_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
