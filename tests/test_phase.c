/*
 * test_phase: the phase network (nn/phase.h) and the complex wavefunction it makes
 * (wf/wavefunction.h): gradients against finite differences, local phase differences against
 * full recomputation, complex local energies against brute force, the energy gradient of a
 * complex state against finite differences of its exact energy, and the split SR step against
 * a dense complex reference.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_linalg.h>

#include "core/ars_common.h"
#include "nn/phase.h"
#include "opt/sr.h"
#include "ops/terms.h"
#include "space/symmetry.h"
#include "test_util.h"

static double phi_of(const uint8_t *s, const ars_phase *ph, ars_phase_ws *ws) {
    double phi;
    ars_phase_phi(&phi, s, ph, ws, 1);
    return phi;
}

/* d phi / d theta by backpropagation equals central finite differences, for every parameter,
 * on open and periodic chains, spins 1/2 and 1, odd and even kernels, with and without the
 * site term and the Jastrow term. */
static void test_phase_gradient_matches_finite_differences(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 17);
    double worst = 0.0;
    int cases = 0;
    for (int pbc = 0; pbc <= 1; pbc++) {
        for (int D = 2; D <= 3; D++) {
            for (int K = 3; K <= 4; K++) {
                const int L = 7, dil[3] = {1, 2, 1};
                /* 11 features with kernel 4: a block of eight and three single ones in the
                 * forward tiles, and eight channels and three in the backward pass. */
                ars_phase *ph = ars_test_random_phase(
                    L, D, pbc, 3, K == 4 ? 11 : 3, K, dil, K == 3, D == 3 || pbc,
                    K == 3 ? ARS_ACTIVATION_TANH : ARS_ACTIVATION_SELU, 100 + (uint64_t)cases, 0.7);
                ars_phase_ws *ws = ars_phase_ws_alloc(ph, 1);
                assert_non_null(ws);
                const size_t P = ph->n_params;
                double *g = calloc(P, sizeof *g);
                assert_non_null(g);
                uint8_t s[7];
                for (int t = 0; t < L; t++) {
                    s[t] = (uint8_t)gsl_rng_uniform_int(r, (unsigned long)D);
                }
                ars_phase_grad(g, 1, s, ph, ws, 1.0);
                for (size_t k = 0; k < P; k++) {
                    const double h = 1e-5, keep = ph->params[k];
                    ph->params[k] = keep + h;
                    const double up = phi_of(s, ph, ws);
                    ph->params[k] = keep - h;
                    const double down = phi_of(s, ph, ws);
                    ph->params[k] = keep;
                    const double fd = (up - down) / (2 * h);
                    const double err = fabs(fd - g[k]) / fmax(1.0, fabs(fd));
                    worst = fmax(worst, err);
                    if (!(err < 1e-8)) {
                        fail_msg("pbc %d D %d K %d: parameter %zu: backprop %.12g, finite "
                                 "differences %.12g",
                                 pbc, D, K, k, g[k], fd);
                    }
                }
                free(g);
                ars_phase_ws_free(ws);
                ars_phase_free(ph);
                cases++;
            }
        }
    }
    gsl_rng_free(r);
    print_message("phase gradients vs finite differences, %d networks: max rel diff %.1e\n", cases,
                  worst);
}

/* phi(s') - phi(s) from the windows equals the difference of two full passes, for changes of
 * 1 to 4 sites anywhere (neighbours and pairs at the Jastrow range among them), across the ends
 * of a ring, with a receptive field shorter and longer than the chain, spin 1/2 without and
 * spin 1 with the Jastrow term (where a pair of changed sites changes its term); a change back
 * to the same values gives exactly 0. */
static void test_phase_windows_equal_full_recomputation(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 29);
    double worst = 0.0;
    for (int pbc = 0; pbc <= 1; pbc++) {
        for (int shape = 0; shape < 4; shape++) {
            const int L = shape % 2 == 0 ? 16 : 6, D = shape >= 2 ? 3 : 2;
            const int dil[2] = {1, shape % 2 == 0 ? 2 : 3};
            /* 11 features in two shapes: the forward tiles' block of eight and single ones. */
            const int F = shape == 0 || shape == 3 ? 11 : 4;
            ars_phase *ph =
                ars_test_random_phase(L, D, pbc, 2, F, 3, dil, 1, shape >= 2, ARS_ACTIVATION_TANH,
                                      300 + (uint64_t)(4 * pbc + shape), 0.8);
            enum { B = 8 };
            ars_phase_ws *ws = ars_phase_ws_alloc(ph, B);
            ars_phase_ws *full = ars_phase_ws_alloc(ph, 1);
            assert_non_null(ws);
            assert_non_null(full);
            uint8_t cfg[B * 16];
            for (int i = 0; i < B * L; i++) {
                cfg[i] = (uint8_t)gsl_rng_uniform_int(r, D);
            }
            double phi[B];
            ars_phase_phi(phi, cfg, ph, ws, B);
            for (int b = 0; b < B; b++) {
                for (int trial = 0; trial < 20; trial++) {
                    ars_change c = {0};
                    uint8_t s1[16];
                    memcpy(s1, cfg + (size_t)b * L, (size_t)L);
                    const int n = 1 + (int)gsl_rng_uniform_int(r, 4);
                    for (int t = 0; t < L && c.n < n; t++) {
                        if (gsl_rng_uniform(r) < (double)n / L || L - t <= n - c.n) {
                            c.site[c.n] = t;
                            c.value[c.n] =
                                trial == 0
                                    ? s1[t]
                                    : (uint8_t)((s1[t] + 1 +
                                                 gsl_rng_uniform_int(r, (unsigned long)D - 1)) %
                                                (unsigned)D);
                            c.n++;
                        }
                    }
                    for (int k = 0; k < c.n; k++) {
                        s1[c.site[k]] = c.value[k];
                    }
                    const double d = ars_phase_dphi(ph, ws, b, &c);
                    if (trial == 0) {
                        assert_true(d == 0.0); /* nothing changed: the same bits */
                        continue;
                    }
                    const double ref = phi_of(s1, ph, full) - phi[b];
                    const double err = fabs(d - ref) / fmax(1.0, fabs(ref));
                    worst = fmax(worst, err);
                    if (!(err < 1e-12)) {
                        fail_msg("pbc %d L %d sample %d: window %.17g, full %.17g", pbc, L, b, d,
                                 ref);
                    }
                }
            }
            ars_phase_ws_free(full);
            ars_phase_ws_free(ws);
            ars_phase_free(ph);
        }
    }
    gsl_rng_free(r);
    print_message("phase windows vs full passes: max rel diff %.1e\n", worst);
}

/* A workspace too large to keep its configurations' full passes (over 64 MB) recomputes the
 * windows' layers instead of copying them: the same phi and the same bits of every phi(s') -
 * phi(s) as a small workspace that keeps them, on an open and a periodic ring with register
 * tiles of eight features and single ones. */
static void test_phase_windows_without_cache_same_bits(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 61);
    enum { L = 16, B = 8, BIG = 20000 };
    uint8_t *cfg = malloc((size_t)BIG * L);
    double *phi_big = malloc(BIG * sizeof(double));
    assert_non_null(cfg);
    assert_non_null(phi_big);
    for (int pbc = 0; pbc <= 1; pbc++) {
        const int dil[2] = {1, 2};
        ars_phase *ph = ars_test_random_phase(L, 2, pbc, 2, 11, 3, dil, 1, 0, ARS_ACTIVATION_TANH,
                                              800 + (uint64_t)pbc, 0.8);
        ars_phase_ws *small = ars_phase_ws_alloc(ph, B), *big = ars_phase_ws_alloc(ph, BIG);
        assert_non_null(small);
        assert_non_null(big);
        assert_true(ars_phase_ws_cached(small));
        assert_false(ars_phase_ws_cached(big));
        for (size_t i = 0; i < (size_t)BIG * L; i++) {
            cfg[i] = (uint8_t)gsl_rng_uniform_int(r, 2);
        }
        double phi[B];
        ars_phase_phi(phi, cfg, ph, small, B);
        ars_phase_phi(phi_big, cfg, ph, big, BIG);
        for (int b = 0; b < B; b++) {
            assert_true(phi[b] == phi_big[b]);
            for (int trial = 0; trial < 20; trial++) {
                ars_change c = {0};
                c.n = 1 + (int)gsl_rng_uniform_int(r, 3);
                const int first = (int)gsl_rng_uniform_int(r, L - 2 * c.n);
                for (int k = 0; k < c.n; k++) {
                    c.site[k] = first + 2 * k;
                    c.value[k] = (uint8_t)(1 - cfg[(size_t)b * L + c.site[k]]);
                }
                const double d = ars_phase_dphi(ph, small, b, &c),
                             d_big = ars_phase_dphi(ph, big, b, &c);
                if (!(d == d_big)) {
                    fail_msg("pbc %d sample %d: cached window %.17g, recomputed %.17g", pbc, b, d,
                             d_big);
                }
            }
        }
        ars_phase_ws_free(big);
        ars_phase_ws_free(small);
        ars_phase_free(ph);
    }
    free(phi_big);
    free(cfg);
    gsl_rng_free(r);
}

/* phi(s) is the formula at the top of phase.h, written out here one output at a time with
 * libm's tanh: layer widths of 1 to 16 features (the forward pass's register tiles take eight
 * features and eight positions at a time), odd and even kernels, dilations longer than the
 * chain, open and periodic chains. */
static void test_phase_phi_is_the_formula(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 53);
    enum { L = 13, FMAX = 16 };
    const int widths[4] = {1, 8, 11, 16};
    double worst = 0.0;
    for (int pbc = 0; pbc <= 1; pbc++) {
        for (int w = 0; w < 4; w++) {
            const int F = widths[w], K = 3 + w % 3, dil[3] = {1, 2 + w, 14};
            ars_phase *ph =
                ars_test_random_phase(L, 2, pbc, 3, F, K, dil, 0, 0, ARS_ACTIVATION_TANH,
                                      700 + (uint64_t)(4 * pbc + w), 0.6);
            ars_phase_ws *ws = ars_phase_ws_alloc(ph, 1);
            assert_non_null(ws);
            for (int trial = 0; trial < 5; trial++) {
                uint8_t s[L];
                /* a[t][c]: the layer's input at site t; x_0 one-hot. */
                double a[L][FMAX], z[L][FMAX];
                for (int t = 0; t < L; t++) {
                    s[t] = (uint8_t)gsl_rng_uniform_int(r, 2);
                    a[t][0] = s[t] == 0;
                    a[t][1] = s[t] == 1;
                }
                const int cK = (K - 1) / 2;
                for (int l = 0; l < 3; l++) {
                    const int C = ars_phase_arch_cin(&ph->arch, l),
                              Fl = ars_phase_arch_cout(&ph->arch, l);
                    for (int t = 0; t < L; t++) {
                        for (int f = 0; f < Fl; f++) {
                            double acc = ph->bias[l][f];
                            for (int k = 0; k < K; k++) {
                                int q = t + (k - cK) * dil[l];
                                if (pbc) {
                                    q = ((q % L) + L) % L;
                                } else if (q < 0 || q >= L) {
                                    continue;
                                }
                                for (int c = 0; c < C; c++) {
                                    acc += ph->kernel[l][((size_t)k * C + c) * Fl + f] * a[q][c];
                                }
                            }
                            z[t][f] = acc;
                        }
                    }
                    for (int t = 0; t < L; t++) {
                        for (int f = 0; f < Fl; f++) {
                            a[t][f] = l < 2 ? tanh(z[t][f]) : z[t][f];
                        }
                    }
                }
                double ref = 0.0;
                for (int t = 0; t < L; t++) {
                    ref += a[t][0];
                }
                const double phi = phi_of(s, ph, ws), err = fabs(phi - ref) / fmax(1.0, fabs(ref));
                worst = fmax(worst, err);
                if (!(err < 1e-12)) {
                    fail_msg("pbc %d F %d K %d: phi %.17g, formula %.17g", pbc, F, K, phi, ref);
                }
            }
            ars_phase_ws_free(ws);
            ars_phase_free(ph);
        }
    }
    gsl_rng_free(r);
    print_message("phase network vs its formula: max rel diff %.1e\n", worst);
}

/* The Jastrow term alone (every network weight 0) is sum over pairs i < j of w_{d(i,j)} v_i v_j,
 * d the distance along the chain (the shorter way round a ring, where the pairs at L/2 count
 * twice: once from each end), written here pair by pair; ars_phase_zero clears it. */
static void test_jastrow_term_is_the_pair_sum(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 41);
    for (int pbc = 0; pbc <= 1; pbc++) {
        for (int L = 5; L <= 8; L++) {
            for (int D = 2; D <= 3; D++) {
                const int dil[1] = {1};
                ars_phase *ph =
                    ars_test_random_phase(L, D, pbc, 1, 1, 3, dil, 0, 1, ARS_ACTIVATION_TANH,
                                          900 + (uint64_t)(16 * pbc + 2 * L + D), 0.8);
                const int R = ars_phase_jastrow_range(&ph->arch);
                assert_int_equal(R, pbc ? L / 2 : L - 1);
                assert_int_equal((int)(ph->jastrow - ph->params) + R, (int)ph->n_params);
                memset(ph->params, 0, (ph->jastrow - ph->params) * sizeof(double));
                ars_phase_ws *ws = ars_phase_ws_alloc(ph, 1);
                assert_non_null(ws);
                for (int trial = 0; trial < 10; trial++) {
                    uint8_t s[8];
                    double v[8];
                    for (int t = 0; t < L; t++) {
                        s[t] = (uint8_t)gsl_rng_uniform_int(r, (unsigned long)D);
                        v[t] = 2.0 * s[t] - (D - 1);
                    }
                    double ref = 0.0;
                    for (int i = 0; i < L; i++) {
                        for (int j = i + 1; j < L; j++) {
                            const int d = pbc && L - (j - i) < j - i ? L - (j - i) : j - i;
                            const double twice = pbc && 2 * d == L ? 2.0 : 1.0;
                            ref += twice * ph->jastrow[d - 1] * v[i] * v[j];
                        }
                    }
                    const double phi = phi_of(s, ph, ws);
                    if (!(fabs(phi - ref) < 1e-13)) {
                        fail_msg("pbc %d L %d D %d: phi %.17g, pair sum %.17g", pbc, L, D, phi,
                                 ref);
                    }
                }
                ars_phase_zero(ph);
                for (int k = 0; k < R; k++) {
                    assert_true(ph->jastrow[k] == 0.0);
                }
                ars_phase_ws_free(ws);
                ars_phase_free(ph);
            }
        }
    }
    gsl_rng_free(r);
}

/* A symmetrised state's phase is the group average: invariant under every group element. */
static void test_symmetrised_phase_is_invariant(void **state) {
    (void)state;
    const int L = 8, dil[2] = {1, 3};
    ars_arch a = ars_test_arch(L, 1, 2, 3, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
    a.symmetry = ARS_SYM_BOTH;
    ars_arnn *net = ars_test_random_net(&a, 5, 0.5);
    ars_phase *ph = ars_test_random_phase(L, 2, 1, 2, 3, 3, dil, 1, 1, ARS_ACTIVATION_TANH, 6, 0.8);
    const ars_wf wf = ars_wf_make(net, 0, ph);
    ars_wf_ws *ws = ars_wf_ws_alloc(&wf, 4);
    assert_non_null(ws);
    uint8_t s[4 * 8] = {0, 1, 1, 0, 1, 0, 0, 0};
    for (int k = 0; k < 4; k++) {
        ars_sym_apply(s + k * L, s, 1, L, 2, ars_sym_element(ARS_SYM_BOTH, L, k));
    }
    double phi[4];
    ars_wf_phase(phi, s, &wf, ws, 4);
    for (int k = 1; k < 4; k++) {
        assert_true(fabs(phi[k] - phi[0]) < 1e-13);
    }
    assert_true(fabs(phi[0]) > 1e-3); /* a non-trivial phase */
    ars_wf_ws_free(ws);
    ars_phase_free(ph);
    ars_arnn_free(net);
}

/* Complex local energies from the windows (modulus and phase) equal brute force, real and
 * imaginary parts, for presets and random term lists, spins 1/2 and 1, with sectors,
 * symmetries and the Marshall sign. */
static void test_complex_local_energies_equal_brute_force(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 41);
    double worst = 0.0;
    int cases = 0;
    for (int two_s = 1; two_s <= 2; two_s++) {
        const int L = 8, D = two_s + 1;
        for (int pbc = 0; pbc <= 1; pbc++) {
            for (int sym = 0; sym <= 1; sym++) {
                for (int sector = 0; sector <= 1; sector++) {
                    ars_terms T;
                    ars_terms_init(&T);
                    /* With a Dzyaloshinskii-Moriya pair (imaginary elements) when sym is on,
                     * and a field that leaves the sector when sector is off. */
                    const char *lines[] = {"1.0 S+(i) S-(i+1)",  "1.0 S-(i) S+(i+1)",
                                           "0.7 Sz(i) Sz(i+1)",  "0.4 S+(i) S-(i+2)",
                                           "0.4 S-(i) S+(i+2)",  "0.6 Sx(i) Sy(i+1)",
                                           "-0.6 Sy(i) Sx(i+1)", "0.3 Sx(i)"};
                    for (int k = 0; k < 8 - sector; k++) {
                        if (!sym && (k == 5 || k == 6)) {
                            continue;
                        }
                        assert_int_equal(ars_terms_parse(&T, lines[k], "test"), ARS_OK);
                    }
                    int status = ARS_OK;
                    ars_op *op = ars_terms_operator(&T, L, two_s, pbc, &status);
                    assert_non_null(op);
                    const int dil[3] = {1, 2, 2};
                    ars_arch a = ars_test_arch(L, two_s, 3, 4, 3, dil, 1, 1, ARS_ACTIVATION_TANH,
                                               ARS_INPUT_ONEHOT);
                    a.symmetry = sym ? ARS_SYM_BOTH : ARS_SYM_NONE;
                    if (sector) {
                        ars_hilbert_set_sector(&a.hilbert, 0);
                    }
                    ars_arnn *net = ars_test_random_net(&a, 700 + (uint64_t)cases, 0.6);
                    const int pdil[2] = {1, 3};
                    ars_phase *ph =
                        ars_test_random_phase(L, D, pbc, 2, 3, 3, pdil, 1, cases % 2,
                                              ARS_ACTIVATION_TANH, 800 + (uint64_t)cases, 0.8);
                    enum { B = 12 };
                    uint8_t cfg[B * 8];
                    for (int b = 0; b < B;) {
                        uint8_t *sb = cfg + (size_t)b * L;
                        for (int t = 0; t < L; t++) {
                            sb[t] = (uint8_t)gsl_rng_uniform_int(r, (unsigned long)D);
                        }
                        b += ars_hilbert_in_sector(&a.hilbert, sb);
                    }
                    for (int marshall = 0; marshall <= 1; marshall++) {
                        const ars_wf wf = ars_wf_make(net, marshall, ph);
                        ars_eloc_ws *ws = ars_eloc_ws_alloc(op, &wf, B);
                        assert_non_null(ws);
                        double fast[2 * B], slow[2 * B];
                        assert_int_equal(ars_eloc_compute(fast, fast + B, cfg, op, &wf, ws, B), 0);
                        assert_int_equal(ars_eloc_compute_slow(slow, slow + B, cfg, op, &wf, B),
                                         ARS_OK);
                        for (int i = 0; i < 2 * B; i++) {
                            const double scale =
                                fmax(1.0, fabs(slow[i % B]) + fabs(slow[B + i % B]));
                            const double err = fabs(fast[i] - slow[i]) / scale;
                            worst = fmax(worst, err);
                            if (!(err <= 1e-12)) {
                                fail_msg("2S %d pbc %d sym %d sector %d marshall %d: %s part of "
                                         "sample %d: %.17g vs %.17g",
                                         two_s, pbc, sym, sector, marshall,
                                         i < B ? "real" : "imaginary", i % B, fast[i], slow[i]);
                            }
                        }
                        ars_eloc_ws_free(ws);
                    }
                    ars_phase_free(ph);
                    ars_arnn_free(net);
                    ars_op_free(op);
                    ars_terms_free(&T);
                    cases++;
                }
            }
        }
    }
    gsl_rng_free(r);
    print_message("complex local energies, %d cases: max rel diff to brute force %.1e\n", cases,
                  worst);
}

/* The exact energy E = sum_s p(s) Re E_loc(s) of a small chain, by enumeration. */
static double exact_energy(const ars_op *op, const ars_wf *wf, const uint8_t *all, size_t n,
                           double *p, double *er, double *ei) {
    const int L = wf->net->arch.hilbert.size;
    ars_arnn_ws *aws = ars_arnn_ws_alloc(wf->net, (int)n);
    assert_non_null(aws);
    ars_arnn_log_psi(p, all, wf->net, aws, (int)n);
    ars_arnn_ws_free(aws);
    for (size_t i = 0; i < n; i++) {
        p[i] = exp(2.0 * p[i]);
    }
    assert_int_equal(ars_eloc_compute_slow(er, ei, all, op, wf, (int)n), ARS_OK);
    double E = 0.0;
    for (size_t i = 0; i < n; i++) {
        E += p[i] * er[i];
    }
    (void)L;
    return E;
}

/* The energy gradient of a complex state, F_k = 2 <(Re E_loc - E) O_k>_c for the modulus and
 * 2 <Im E_loc g_k>_c for the phase (vmc.h), equals finite differences of the exact energy. */
static void test_complex_energy_gradient_matches_finite_differences(void **state) {
    (void)state;
    const int L = 6, D = 2;
    const size_t n = 64;
    ars_ham H;
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_HEISENBERG, 1.0, 0, 1.0, 0, 1, 0), L, 1), ARS_OK);
    ars_op *op = ars_ham_operator(&H);
    const int dil[2] = {1, 2};
    ars_arch a = ars_test_arch(L, 1, 2, 3, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
    a.symmetry = ARS_SYM_SPIN_FLIP;
    ars_arnn *net = ars_test_random_net(&a, 11, 0.5);
    ars_phase *ph =
        ars_test_random_phase(L, D, 1, 2, 3, 3, dil, 1, 1, ARS_ACTIVATION_TANH, 12, 0.8);
    const ars_wf wf = ars_wf_make(net, 0, ph);
    uint8_t all[64 * 6];
    for (size_t i = 0; i < n; i++) {
        for (int t = 0; t < L; t++) {
            all[i * L + t] = (uint8_t)((i >> t) & 1);
        }
    }
    double p[64], er[64], ei[64], tmp[3 * 64];
    const double E = exact_energy(op, &wf, all, n, p, er, ei);
    /* O (modulus) and g (phase) per configuration. */
    const size_t Pm = net->n_params, Pp = ph->n_params;
    double *O = calloc((Pm + Pp) * n, sizeof *O);
    assert_non_null(O);
    ars_arnn_ws *gws = ars_arnn_ws_alloc_grad(net, (int)n);
    ars_wf_ws *pws = ars_wf_ws_alloc(&wf, 1);
    assert_non_null(gws);
    assert_non_null(pws);
    ars_arnn_grad_log_psi(O, n, NULL, all, net, gws, (int)n);
    for (size_t i = 0; i < n; i++) {
        ars_wf_phase_grad(O + Pm * n + i, n, all + i * L, &wf, pws);
    }
    double worst = 0.0;
    for (size_t k = 0; k < Pm + Pp; k += 3) {
        const double *row = O + k * n;
        double mean = 0.0;
        for (size_t i = 0; i < n; i++) {
            mean += p[i] * row[i];
        }
        double F = 0.0;
        for (size_t i = 0; i < n; i++) {
            F += 2.0 * p[i] * (k < Pm ? er[i] - E : ei[i]) * (row[i] - mean);
        }
        double *theta = k < Pm ? net->params + k : ph->params + (k - Pm);
        const double h = 1e-5, keep = *theta;
        *theta = keep + h;
        const double up = exact_energy(op, &wf, all, n, tmp, tmp + n, tmp + 2 * n);
        *theta = keep - h;
        const double down = exact_energy(op, &wf, all, n, tmp, tmp + n, tmp + 2 * n);
        *theta = keep;
        const double fd = (up - down) / (2 * h);
        const double err = fabs(F - fd) / fmax(1e-3, fabs(fd));
        worst = fmax(worst, err);
        if (!(err < 1e-6)) {
            fail_msg("%s parameter %zu: F %.12g, finite differences %.12g",
                     k < Pm ? "modulus" : "phase", k, F, fd);
        }
    }
    print_message("energy gradient of a complex state vs finite differences: max rel diff %.1e\n",
                  worst);
    ars_wf_ws_free(pws);
    ars_arnn_ws_free(gws);
    free(O);
    ars_phase_free(ph);
    ars_arnn_free(net);
    ars_op_free(op);
    ars_ham_free(&H);
}

/* The split SR direction (sr.h, ars_sr_direction_split) equals the dense complex one:
 * x = (S + shift)^-1 F with S_kl = Re <(O_k - <O_k>)^* (O_l - <O_l>)> and F_k =
 * 2 Re <(E_loc - E)^* O_k>, O real for the modulus and i g for the phase, in sample space and
 * in parameter space. */
static void test_split_sr_equals_dense_complex_sr(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 53);
    /* n, P_mod, P_phase: sample space for both blocks, for the modulus only, for neither. */
    const size_t shapes[3][3] = {{10, 30, 20}, {24, 30, 20}, {200, 12, 9}};
    for (int sh = 0; sh < 3; sh++) {
        const size_t n = shapes[sh][0], Pm = shapes[sh][1], Pp = shapes[sh][2], P = Pm + Pp;
        const double shift = 1e-3;
        double *O = malloc(P * n * sizeof *O), *Ore = malloc(P * n * sizeof *Ore);
        double *Oim = malloc(P * n * sizeof *Oim), *er = malloc(n * sizeof *er);
        double *ei = malloc(n * sizeof *ei), *x = malloc(P * sizeof *x);
        double *S = malloc(P * P * sizeof *S), *F = malloc(P * sizeof *F);
        double *Ore0 = malloc(P * n * sizeof *Ore0); /* O before centring (g in the phase rows) */
        assert_true(O && Ore && Oim && er && ei && x && S && F && Ore0);
        for (size_t k = 0; k < P; k++) {
            for (size_t b = 0; b < n; b++) {
                O[k * n + b] = gsl_rng_uniform(r) - 0.5 + (k % 3 == 0 ? 0.3 : 0.0);
                Ore[k * n + b] = k < Pm ? O[k * n + b] : 0.0; /* O_k = Ore + i Oim */
                Oim[k * n + b] = k < Pm ? 0.0 : O[k * n + b];
                Ore0[k * n + b] = O[k * n + b];
            }
        }
        double Er = 0.0, Ei = 0.0;
        for (size_t b = 0; b < n; b++) {
            er[b] = -3.0 + gsl_rng_uniform(r);
            ei[b] = gsl_rng_uniform(r) - 0.4;
            Er += er[b] / (double)n;
            Ei += ei[b] / (double)n;
        }
        /* The dense complex reference. */
        for (size_t k = 0; k < P; k++) {
            double mr = 0.0, mi = 0.0;
            for (size_t b = 0; b < n; b++) {
                mr += Ore[k * n + b] / (double)n;
                mi += Oim[k * n + b] / (double)n;
            }
            for (size_t b = 0; b < n; b++) {
                Ore[k * n + b] -= mr;
                Oim[k * n + b] -= mi;
            }
        }
        for (size_t k = 0; k < P; k++) {
            double f = 0.0;
            for (size_t b = 0; b < n; b++) {
                /* Re((er - Er - i (ei - Ei)) (Ore + i Oim)) */
                f += (er[b] - Er) * Ore[k * n + b] + (ei[b] - Ei) * Oim[k * n + b];
            }
            F[k] = 2.0 * f / (double)n;
            for (size_t l = 0; l < P; l++) {
                double s = 0.0;
                for (size_t b = 0; b < n; b++) {
                    /* Re(conj(O_k) O_l) */
                    s += Ore[k * n + b] * Ore[l * n + b] + Oim[k * n + b] * Oim[l * n + b];
                }
                S[k * P + l] = s / (double)n + (k == l ? shift : 0.0);
            }
        }
        gsl_matrix_view Sv = gsl_matrix_view_array(S, P, P);
        gsl_vector_view Fv = gsl_vector_view_array(F, P);
        assert_int_equal(gsl_linalg_cholesky_decomp1(&Sv.matrix), 0);
        assert_int_equal(gsl_linalg_cholesky_svx(&Sv.matrix, &Fv.vector), 0);
        /* arsampler's route. */
        ars_sr *srm = ars_sr_alloc(Pm, n), *srp = ars_sr_alloc(Pp, n);
        assert_non_null(srm);
        assert_non_null(srp);
        assert_int_equal(srm->sample_space, sh < 2);
        assert_int_equal(srp->sample_space, sh == 0);
        double gnorm;
        assert_int_equal(
            ars_sr_direction_split(srm, srp, x, &gnorm, O, er, ei, Er, Ei, shift, 1, NULL), ARS_OK);
        assert_allclose(x, F, P, 1e-9, 1e-8);
        /* For the numpy reference (tests/phase/complex_sr_reference.py, e2e_complex_sr): the
         * inputs and arsampler's direction, one shape per block of lines. */
        const char *dump = getenv("ARS_COMPLEX_SR_DUMP");
        if (dump != NULL) {
            FILE *f = fopen(dump, sh == 0 ? "w" : "a");
            assert_non_null(f);
            fprintf(f, "shape %zu %zu %zu %.17g\n", n, Pm, Pp, shift);
            for (size_t i = 0; i < P * n; i++) {
                fprintf(f, "%.17g\n", Ore0[i]);
            }
            for (size_t b = 0; b < n; b++) {
                fprintf(f, "%.17g %.17g\n", er[b], ei[b]);
            }
            for (size_t k = 0; k < P; k++) {
                fprintf(f, "%.17g\n", x[k]);
            }
            fclose(f);
        }
        ars_sr_free(srm);
        ars_sr_free(srp);
        free(O);
        free(Ore);
        free(Oim);
        free(er);
        free(ei);
        free(x);
        free(S);
        free(F);
        free(Ore0);
    }
    gsl_rng_free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phase_gradient_matches_finite_differences),
        cmocka_unit_test(test_phase_windows_equal_full_recomputation),
        cmocka_unit_test(test_phase_windows_without_cache_same_bits),
        cmocka_unit_test(test_phase_phi_is_the_formula),
        cmocka_unit_test(test_jastrow_term_is_the_pair_sum),
        cmocka_unit_test(test_symmetrised_phase_is_invariant),
        cmocka_unit_test(test_complex_local_energies_equal_brute_force),
        cmocka_unit_test(test_complex_energy_gradient_matches_finite_differences),
        cmocka_unit_test(test_split_sr_equals_dense_complex_sr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
