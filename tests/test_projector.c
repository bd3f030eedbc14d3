/*
 * test_projector: the local estimator of the symmetry projector (est/projector.h), the
 * quantity behind [vmc] symmetry_penalty: its values against the definition on every
 * configuration of small rings, its expectation against the norm of the projected state, the
 * value 1 of an invariant state, the penalised energy's gradient against finite differences
 * of its exact value, and the projected estimate E_P = Re <P_loc^* E_loc> / <P_loc> against the
 * energy of the projected state itself, with the check of the Hamiltonian's invariance it needs;
 * and the projected state's own weights, local energies and gradients (vmc/projected.h) against
 * its exact energy and finite differences of it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"
#include "est/projector.h"
#include "vmc/projected.h"
#include "ops/terms.h"
#include "space/symmetry.h"
#include "test_util.h"

enum { L6 = 6, N6 = 64 }; /* every configuration of 6 spins 1/2, index sum_t s_t 2^t */

static void all_configs(uint8_t *all) {
    for (size_t i = 0; i < N6; i++) {
        for (int t = 0; t < L6; t++) {
            all[i * L6 + t] = (uint8_t)((i >> t) & 1);
        }
    }
}

static size_t index_of(const uint8_t *s) {
    size_t i = 0;
    for (int t = 0; t < L6; t++) {
        i |= (size_t)s[t] << t;
    }
    return i;
}

/* psi(s) = exp(log|psi| + i phi) of every configuration, by the wavefunction's full pass. */
static void psi_table(double *re, double *im, const uint8_t *all, const ars_wf *wf) {
    double la[N6], ph[N6];
    ars_arnn_ws *aws = ars_arnn_ws_alloc(wf->net, N6);
    ars_wf_ws *pws = ars_wf_is_real(wf) ? NULL : ars_wf_ws_alloc(wf, N6);
    assert_non_null(aws);
    ars_wf_log_psi(la, ph, all, wf, aws, pws, N6);
    for (size_t i = 0; i < N6; i++) {
        re[i] = exp(la[i]) * cos(ph[i]);
        im[i] = exp(la[i]) * sin(ph[i]);
    }
    ars_wf_ws_free(pws);
    ars_arnn_ws_free(aws);
}

/* P_loc(s) of every configuration, from the table of psi and the group's elements applied one
 * by one: (1/|G|) sum_g psi(g s) / psi(s). */
static void definition(double *pr, double *pi, const uint8_t *all, const double *re,
                       const double *im, ars_sym G) {
    const int order = ars_sym_order(G, L6);
    for (size_t i = 0; i < N6; i++) {
        double sr = 0.0, si = 0.0;
        for (int k = 0; k < order; k++) {
            uint8_t gs[L6];
            ars_sym_apply(gs, all + i * L6, 1, L6, 2, ars_sym_element(G, L6, k));
            const size_t j = index_of(gs);
            sr += re[j];
            si += im[j];
        }
        const double d = re[i] * re[i] + im[i] * im[i];
        /* (sr + i si) / (re + i im) */
        pr[i] = (sr * re[i] + si * im[i]) / d / order;
        pi[i] = (si * re[i] - sr * im[i]) / d / order;
    }
}

static const ars_sym groups[] = {ARS_SYM_TRANSLATION, ARS_SYM_REFLECTION, ARS_SYM_SPIN_FLIP,
                                 ARS_SYM_ALL};

/* For random networks with and without a phase network and the Marshall sign, P_loc equals its
 * definition on every configuration of a 6-site ring, and its mean over |psi|^2 is real, in
 * [0, 1], and equals |P_G psi|^2 / |psi|^2 (P_G is an orthogonal projector). */
static void test_projector_values_are_the_definition(void **state) {
    (void)state;
    uint8_t all[N6 * L6];
    all_configs(all);
    const int dil[2] = {1, 2};
    double worst = 0.0, smallest = 1.0, largest = 0.0;
    int cases = 0;
    for (size_t gi = 0; gi < sizeof groups / sizeof groups[0]; gi++) {
        for (int with_phase = 0; with_phase <= 1; with_phase++) {
            for (int marshall = 0; marshall <= 1; marshall++) {
                const ars_sym G = groups[gi];
                ars_arch a =
                    ars_test_arch(L6, 1, 2, 3, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
                ars_arnn *net = ars_test_random_net(&a, 300 + (uint64_t)cases, 0.7);
                ars_phase *ph = with_phase ? ars_test_random_phase(L6, 2, 1, 2, 3, 3, dil, 1, 0,
                                                                   ARS_ACTIVATION_TANH,
                                                                   400 + (uint64_t)cases, 0.8)
                                           : NULL;
                const ars_wf wf = ars_wf_make(net, marshall, ph);
                double re[N6], im[N6], dr[N6], di[N6], got[2 * N6];
                psi_table(re, im, all, &wf);
                definition(dr, di, all, re, im, G);
                ars_proj_ws *ws = ars_proj_ws_alloc(&wf, G, N6);
                assert_non_null(ws);
                assert_int_equal(
                    ars_proj_local(got, with_phase ? got + N6 : NULL, all, &wf, ws, N6), 0);
                double mean_r = 0.0, mean_i = 0.0, norm = 0.0, proj_norm = 0.0;
                for (size_t i = 0; i < N6; i++) {
                    const double gi_im = with_phase ? got[N6 + i] : 0.0;
                    const double err = fabs(got[i] - dr[i]) + fabs(gi_im - di[i]);
                    const double scale = fmax(1.0, fabs(dr[i]) + fabs(di[i]));
                    worst = fmax(worst, err / scale);
                    if (!(err <= 1e-12 * scale)) {
                        fail_msg("group %s phase %d marshall %d config %zu: %.17g%+.17gi, the "
                                 "definition %.17g%+.17gi",
                                 ars_sym_name(G), with_phase, marshall, i, got[i], gi_im, dr[i],
                                 di[i]);
                    }
                    const double p = re[i] * re[i] + im[i] * im[i];
                    mean_r += p * got[i];
                    mean_i += p * gi_im;
                    norm += p;
                    /* (P_G psi)(s) = P_loc(s) psi(s) */
                    proj_norm += p * (dr[i] * dr[i] + di[i] * di[i]);
                }
                mean_r /= norm;
                mean_i /= norm;
                proj_norm /= norm;
                assert_true(fabs(mean_i) < 1e-12);
                assert_true(mean_r > -1e-12 && mean_r < 1.0 + 1e-12);
                if (!(fabs(mean_r - proj_norm) < 1e-12)) {
                    fail_msg("group %s: <P_loc> %.17g but |P psi|^2 / |psi|^2 %.17g",
                             ars_sym_name(G), mean_r, proj_norm);
                }
                smallest = fmin(smallest, mean_r);
                largest = fmax(largest, mean_r);
                ars_proj_ws_free(ws);
                ars_phase_free(ph);
                ars_arnn_free(net);
                cases++;
            }
        }
    }
    print_message("projector, %d cases: max rel diff to the definition %.1e; <P_G> from %.3f to "
                  "%.3f\n",
                  cases, worst, smallest, largest);
    /* The check is not vacuous: random states are neither symmetric nor orthogonal to it. */
    assert_true(smallest > 0.01 && largest < 0.99);
}

/* A state symmetrised over G ([model] symmetrize, its phase averaged over G) is invariant:
 * P_loc = 1 on every configuration, in the sector S^z = 0 too; symmetrised over a smaller group
 * it is not. */
static void test_invariant_state_has_projector_one(void **state) {
    (void)state;
    uint8_t all[N6 * L6];
    all_configs(all);
    const int dil[2] = {1, 2};
    for (size_t gi = 0; gi < sizeof groups / sizeof groups[0]; gi++) {
        for (int sector = 0; sector <= 1; sector++) {
            const ars_sym G = groups[gi];
            ars_arch a =
                ars_test_arch(L6, 1, 2, 3, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
            a.symmetry = G;
            if (sector) {
                ars_hilbert_set_sector(&a.hilbert, 0);
            }
            ars_arnn *net = ars_test_random_net(&a, 500 + gi, 0.7);
            ars_phase *ph = ars_test_random_phase(L6, 2, 1, 2, 3, 3, dil, 1, 0, ARS_ACTIVATION_TANH,
                                                  600 + gi, 0.8);
            const ars_wf wf = ars_wf_make(net, 0, ph);
            /* The sector's configurations only (psi vanishes elsewhere). */
            uint8_t cfg[N6 * L6];
            int n = 0;
            for (size_t i = 0; i < N6; i++) {
                if (ars_hilbert_in_sector(&a.hilbert, all + i * L6)) {
                    memcpy(cfg + (size_t)n * L6, all + i * L6, L6);
                    n++;
                }
            }
            double got[2 * N6];
            ars_proj_ws *ws = ars_proj_ws_alloc(&wf, G, n);
            assert_non_null(ws);
            assert_int_equal(ars_proj_local(got, got + N6, cfg, &wf, ws, n), 0);
            for (int b = 0; b < n; b++) {
                if (!(fabs(got[b] - 1.0) < 1e-12 && fabs(got[N6 + b]) < 1e-12)) {
                    fail_msg("%s, sector %d, config %d: P_loc %.17g%+.17gi, not 1", ars_sym_name(G),
                             sector, b, got[b], got[N6 + b]);
                }
            }
            ars_proj_ws_free(ws);
            if (G == ARS_SYM_ALL) {
                /* The translations alone leave the reflection's and the flip's part. */
                ars_proj_ws *ws2 = ars_proj_ws_alloc(&wf, ARS_SYM_TRANSLATION, n);
                assert_non_null(ws2);
                assert_int_equal(ars_proj_local(got, got + N6, cfg, &wf, ws2, n), 0);
                ars_proj_ws_free(ws2);
                a.symmetry = ARS_SYM_TRANSLATION;
                ars_arnn *net2 = ars_arnn_alloc(&a);
                assert_non_null(net2);
                memcpy(net2->params, net->params, net->n_params * sizeof(double));
                const ars_wf wf2 = ars_wf_make(net2, 0, ph);
                ars_proj_ws *ws3 = ars_proj_ws_alloc(&wf2, ARS_SYM_ALL, n);
                assert_non_null(ws3);
                assert_int_equal(ars_proj_local(got, got + N6, cfg, &wf2, ws3, n), 0);
                int far = 0;
                for (int b = 0; b < n; b++) {
                    far += fabs(got[b] - 1.0) > 1e-3;
                }
                assert_true(far > 0);
                ars_proj_ws_free(ws3);
                ars_arnn_free(net2);
            }
            ars_phase_free(ph);
            ars_arnn_free(net);
        }
    }
}

/* The exact penalised energy E' = sum_s p(s) Re[E_loc(s) + lambda (1 - P_loc(s))] of the 6-site
 * ring, and its local values (er, ei). */
static double penalised_energy(const ars_op *op, const ars_wf *wf, ars_sym G, double lambda,
                               const uint8_t *all, double *p, double *er, double *ei) {
    ars_arnn_ws *aws = ars_arnn_ws_alloc(wf->net, N6);
    assert_non_null(aws);
    ars_arnn_log_psi(p, all, wf->net, aws, N6);
    ars_arnn_ws_free(aws);
    assert_int_equal(ars_eloc_compute_slow(er, ei, all, op, wf, N6), ARS_OK);
    double pr[N6], pi[N6];
    ars_proj_ws *ws = ars_proj_ws_alloc(wf, G, N6);
    assert_non_null(ws);
    assert_int_equal(ars_proj_local(pr, pi, all, wf, ws, N6), 0);
    ars_proj_ws_free(ws);
    double E = 0.0;
    for (size_t i = 0; i < N6; i++) {
        p[i] = exp(2.0 * p[i]);
        er[i] += lambda * (1.0 - pr[i]);
        ei[i] -= lambda * pi[i];
        E += p[i] * er[i];
    }
    return E;
}

/* What SR descends with a penalty, F_k = 2 Re <(E'_loc - E')^* O_k>_c with E'_loc = E_loc +
 * lambda (1 - P_loc) (vmc.c), is the gradient of the exact E' = <H + lambda (1 - P_G)>: it
 * equals finite differences of E' for the modulus's and the phase's parameters. This holds only
 * because P_loc is the local estimator of a Hermitian operator. */
static void test_penalised_gradient_matches_finite_differences(void **state) {
    (void)state;
    ars_ham H;
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_HEISENBERG, 1.0, 0, 1.0, 0, 1, 0), L6, 1), ARS_OK);
    ars_op *op = ars_ham_operator(&H);
    const int dil[2] = {1, 2};
    ars_arch a = ars_test_arch(L6, 1, 2, 3, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
    ars_arnn *net = ars_test_random_net(&a, 21, 0.5);
    ars_phase *ph =
        ars_test_random_phase(L6, 2, 1, 2, 3, 3, dil, 1, 1, ARS_ACTIVATION_TANH, 22, 0.8);
    const ars_wf wf = ars_wf_make(net, 0, ph);
    const ars_sym G = ARS_SYM_TRANSLATION | ARS_SYM_REFLECTION;
    const double lambda = 0.7;
    uint8_t all[N6 * L6];
    all_configs(all);
    double p[N6], er[N6], ei[N6], tmp[3 * N6];
    const double E = penalised_energy(op, &wf, G, lambda, all, p, er, ei);
    const size_t Pm = net->n_params, Pp = ph->n_params;
    double *O = calloc((Pm + Pp) * N6, sizeof *O);
    assert_non_null(O);
    ars_arnn_ws *gws = ars_arnn_ws_alloc_grad(net, N6);
    ars_wf_ws *pws = ars_wf_ws_alloc(&wf, 1);
    assert_non_null(gws);
    assert_non_null(pws);
    ars_arnn_grad_log_psi(O, N6, NULL, all, net, gws, N6);
    for (size_t i = 0; i < N6; i++) {
        ars_wf_phase_grad(O + Pm * N6 + i, N6, all + i * L6, &wf, pws);
    }
    double worst = 0.0, largest = 0.0;
    for (size_t k = 0; k < Pm + Pp; k += 2) {
        const double *row = O + k * N6;
        double mean = 0.0;
        for (size_t i = 0; i < N6; i++) {
            mean += p[i] * row[i];
        }
        double F = 0.0;
        for (size_t i = 0; i < N6; i++) {
            F += 2.0 * p[i] * (k < Pm ? er[i] - E : ei[i]) * (row[i] - mean);
        }
        double *theta = k < Pm ? net->params + k : ph->params + (k - Pm);
        const double h = 1e-5, keep = *theta;
        *theta = keep + h;
        const double up = penalised_energy(op, &wf, G, lambda, all, tmp, tmp + N6, tmp + 2 * N6);
        *theta = keep - h;
        const double down = penalised_energy(op, &wf, G, lambda, all, tmp, tmp + N6, tmp + 2 * N6);
        *theta = keep;
        const double fd = (up - down) / (2 * h);
        const double err = fabs(F - fd) / fmax(1e-3, fabs(fd));
        worst = fmax(worst, err);
        largest = fmax(largest, fabs(fd));
        if (!(err < 1e-6)) {
            fail_msg("%s parameter %zu: F %.12g, finite differences %.12g",
                     k < Pm ? "modulus" : "phase", k, F, fd);
        }
    }
    print_message("penalised energy gradient vs finite differences: max rel diff %.1e (largest "
                  "|dE'/dtheta| %.2f)\n",
                  worst, largest);
    assert_true(largest > 0.05);
    ars_wf_ws_free(pws);
    ars_arnn_ws_free(gws);
    free(O);
    ars_phase_free(ph);
    ars_arnn_free(net);
    ars_op_free(op);
    ars_ham_free(&H);
}

/* The operator of term lines on the 6-site ring. */
static ars_op *ring_operator(const char *const *lines, int n) {
    ars_terms T;
    ars_terms_init(&T);
    for (int k = 0; k < n; k++) {
        assert_int_equal(ars_terms_parse(&T, lines[k], "test"), ARS_OK);
    }
    int status = ARS_OK;
    ars_op *op = ars_terms_operator(&T, L6, 1, 1, &status);
    assert_non_null(op);
    ars_terms_free(&T);
    return op;
}

/* <v|H|v> / <v|v> of a vector v = vr + i vi on every configuration, H applied row by row. */
static double dense_energy(const ars_op *op, const double *vr, const double *vi,
                           const uint8_t *all) {
    const int M = ars_op_max_connections(op);
    ars_change *ch = malloc((size_t)M * sizeof *ch);
    double *mel = malloc(2 * (size_t)M * sizeof *mel);
    assert_non_null(ch);
    assert_non_null(mel);
    double num = 0.0, norm = 0.0;
    for (size_t i = 0; i < N6; i++) {
        double d;
        const int n = ars_op_apply_complex(op, all + i * L6, &d, ch, mel, mel + M);
        /* (H v)(s) = H(s, s) v(s) + sum_k H(s, s'_k) v(s'_k) */
        double hr = d * vr[i], hi = d * vi[i];
        for (int k = 0; k < n; k++) {
            uint8_t s2[L6];
            memcpy(s2, all + i * L6, L6);
            for (int j = 0; j < ch[k].n; j++) {
                s2[ch[k].site[j]] = ch[k].value[j];
            }
            const size_t t = index_of(s2);
            hr += mel[k] * vr[t] - mel[M + k] * vi[t];
            hi += mel[k] * vi[t] + mel[M + k] * vr[t];
        }
        num += vr[i] * hr + vi[i] * hi; /* Re conj(v) (H v) */
        norm += vr[i] * vr[i] + vi[i] * vi[i];
    }
    free(ch);
    free(mel);
    return num / norm;
}

/* E_P = sum_s p Re(P_loc^* E_loc) / sum_s p Re P_loc, the projected estimate by enumeration. */
static double projected_by_estimator(const ars_op *op, const ars_wf *wf, ars_sym G,
                                     const uint8_t *all) {
    double la[N6], ph[N6], er[N6], ei[N6], pr[N6], pi[N6];
    ars_arnn_ws *aws = ars_arnn_ws_alloc(wf->net, N6);
    ars_wf_ws *pws = ars_wf_ws_alloc(wf, N6);
    assert_non_null(aws);
    ars_wf_log_psi(la, ph, all, wf, aws, pws, N6);
    ars_wf_ws_free(pws);
    ars_arnn_ws_free(aws);
    assert_int_equal(ars_eloc_compute_slow(er, ei, all, op, wf, N6), ARS_OK);
    ars_proj_ws *ws = ars_proj_ws_alloc(wf, G, N6);
    assert_non_null(ws);
    assert_int_equal(ars_proj_local(pr, pi, all, wf, ws, N6), 0);
    ars_proj_ws_free(ws);
    double x = 0.0, y = 0.0;
    for (size_t i = 0; i < N6; i++) {
        const double p = exp(2.0 * la[i]);
        x += p * (pr[i] * er[i] + pi[i] * ei[i]);
        y += p * pr[i];
    }
    return x / y;
}

/* For a Hamiltonian invariant under G, the projected estimate is the energy of the projected
 * state P_G psi, computed from the vector P_G psi itself; for one that is not (a field along z
 * under the spin flip, a Dzyaloshinskii-Moriya term under the reflection), the invariance check
 * says so and names the symmetry, and the estimate is indeed not that energy. */
static void test_projected_estimate_is_the_projected_states_energy(void **state) {
    (void)state;
    uint8_t all[N6 * L6];
    all_configs(all);
    const int dil[2] = {1, 2};
    static const char *const j1j2[] = {"1.0 X(i) X(i+1)", "1.0 Y(i) Y(i+1)", "1.0 Z(i) Z(i+1)",
                                       "0.4 X(i) X(i+2)", "0.4 Y(i) Y(i+2)", "0.4 Z(i) Z(i+2)"};
    static const char *const field[] = {"1.0 X(i) X(i+1)", "1.0 Y(i) Y(i+1)", "1.0 Z(i) Z(i+1)",
                                        "0.5 Z(i)"};
    static const char *const dm[] = {"1.0 X(i) X(i+1)", "1.0 Y(i) Y(i+1)", "0.8 X(i) Y(i+1)",
                                     "-0.8 Y(i) X(i+1)"};
    struct {
        const char *const *lines;
        int n;
        ars_sym G;
        int invariant;
        const char *bad;
    } cases[] = {{j1j2, 6, ARS_SYM_ALL, 1, NULL},
                 {j1j2, 6, ARS_SYM_TRANSLATION, 1, NULL},
                 {dm, 4, ARS_SYM_TRANSLATION, 1, NULL},
                 {dm, 4, ARS_SYM_SPIN_FLIP, 0, "the spin flip"},
                 {field, 4, ARS_SYM_SPIN_FLIP, 0, "the spin flip"},
                 {dm, 4, ARS_SYM_REFLECTION, 0, "the reflection"}};
    double worst = 0.0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ars_op *op = ring_operator(cases[c].lines, cases[c].n);
        const char *bad = NULL;
        assert_int_equal(ars_proj_op_invariant(op, cases[c].G, &bad), cases[c].invariant);
        if (!cases[c].invariant) {
            assert_string_equal(bad, cases[c].bad);
        }
        ars_arch a = ars_test_arch(L6, 1, 2, 3, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
        ars_arnn *net = ars_test_random_net(&a, 900 + c, 0.7);
        ars_phase *ph =
            ars_test_random_phase(L6, 2, 1, 2, 3, 3, dil, 1, 0, ARS_ACTIVATION_TANH, 950 + c, 0.8);
        const ars_wf wf = ars_wf_make(net, 0, ph);
        double re[N6], im[N6], dr[N6], di[N6], vr[N6], vi[N6];
        psi_table(re, im, all, &wf);
        definition(dr, di, all, re, im, cases[c].G);
        for (size_t i = 0; i < N6; i++) {
            /* (P_G psi)(s) = P_loc(s) psi(s) */
            vr[i] = dr[i] * re[i] - di[i] * im[i];
            vi[i] = dr[i] * im[i] + di[i] * re[i];
        }
        const double exact = dense_energy(op, vr, vi, all);
        const double est = projected_by_estimator(op, &wf, cases[c].G, all);
        const double plain = dense_energy(op, re, im, all);
        if (cases[c].invariant) {
            const double err = fabs(est - exact) / fmax(1.0, fabs(exact));
            worst = fmax(worst, err);
            if (!(err < 1e-10)) {
                fail_msg("case %zu: estimate %.15g, energy of P_G psi %.15g", c, est, exact);
            }
            /* Not vacuous: the projection changes the energy. */
            assert_true(fabs(exact - plain) > 1e-3);
        } else if (!(fabs(est - exact) > 1e-3)) {
            fail_msg("case %zu: a non-invariant H, yet the estimate %.15g is the projected "
                     "energy %.15g",
                     c, est, exact);
        }
        ars_phase_free(ph);
        ars_arnn_free(net);
        ars_op_free(op);
    }
    print_message("projected estimate vs the energy of P_G psi: max rel diff %.1e\n", worst);
}

/* The energy of P_G psi of the network whose parameters are net's (its plain view's psi), by
 * the dense vector P_G psi. */
static double projected_energy_exact(const ars_op *op, const ars_arnn *net, int marshall,
                                     const ars_phase *ph, ars_sym G, const uint8_t *all,
                                     double *norm) {
    ars_arnn plain = *net;
    plain.owns_params = 0;
    plain.arch.symmetry = ARS_SYM_NONE;
    const ars_wf wf = ars_wf_make(&plain, marshall, ph);
    double re[N6], im[N6], dr[N6], di[N6], vr[N6], vi[N6];
    psi_table(re, im, all, &wf);
    definition(dr, di, all, re, im, G);
    double nn = 0.0;
    for (size_t i = 0; i < N6; i++) {
        vr[i] = dr[i] * re[i] - di[i] * im[i];
        vi[i] = dr[i] * im[i] + di[i] * re[i];
        nn += vr[i] * vr[i] + vi[i] * vi[i];
    }
    *norm = nn;
    return dense_energy(op, vr, vi, all);
}

/* The projected state ([model] projection): with q = p_sym of the symmetrised network, summed
 * over every configuration of a 6-site ring, sum q w = |P_G psi|^2, the weighted mean of
 * E_P,loc is the energy of the vector P_G psi (its imaginary part 0), and the weighted SR force
 * 2 Re <(E_P,loc - E)^* (O_P - <O_P>)> equals finite differences of that energy, for the
 * network's and the phase network's parameters, with and without the Marshall sign. */
static void test_projected_state_weights_energy_and_gradient(void **state) {
    (void)state;
    static const char *const j1j2[] = {"1.0 X(i) X(i+1)", "1.0 Y(i) Y(i+1)", "1.0 Z(i) Z(i+1)",
                                       "0.4 X(i) X(i+2)", "0.4 Y(i) Y(i+2)", "0.4 Z(i) Z(i+2)"};
    ars_op *op = ring_operator(j1j2, 6);
    uint8_t all[N6 * L6];
    all_configs(all);
    const int dil[2] = {1, 2};
    const ars_sym groups2[] = {ARS_SYM_TRANSLATION, ARS_SYM_ALL};
    double worst_e = 0.0, worst_f = 0.0;
    for (int gi = 0; gi < 2; gi++) {
        for (int marshall = 0; marshall <= 1; marshall++) {
            const ars_sym G = groups2[gi];
            ars_arch a =
                ars_test_arch(L6, 1, 2, 3, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
            a.symmetry = G;
            ars_arnn *net = ars_test_random_net(&a, 70 + (uint64_t)(2 * gi + marshall), 0.6);
            ars_phase *ph = ars_test_random_phase(L6, 2, 1, 2, 3, 3, dil, 1, 0, ARS_ACTIVATION_TANH,
                                                  80 + (uint64_t)(2 * gi + marshall), 0.8);
            const size_t Pm = net->n_params, Pp = ph->n_params, P = Pm + Pp;
            ars_projected_ws *ws = ars_projected_ws_alloc(net, marshall, ph, op, N6);
            assert_non_null(ws);
            double w[N6], er[N6], ei[N6], q[N6];
            double *ore = malloc(P * N6 * sizeof(double)), *oim = malloc(P * N6 * sizeof(double));
            assert_non_null(ore);
            assert_non_null(oim);
            assert_int_equal(ars_projected_local(w, er, ei, ore, oim, N6, all, ws, N6), 0);
            ars_arnn_ws *aws = ars_arnn_ws_alloc(net, N6);
            assert_non_null(aws);
            ars_arnn_log_psi(q, all, net, aws, N6);
            ars_arnn_ws_free(aws);
            double sw = 0.0, se = 0.0, sei = 0.0;
            for (size_t i = 0; i < N6; i++) {
                q[i] = exp(2.0 * q[i]);
                assert_true(w[i] >= 0.0 && w[i] <= 1.0 + 1e-12);
                sw += q[i] * w[i];
                se += q[i] * w[i] * er[i];
                sei += q[i] * w[i] * ei[i];
            }
            double norm;
            const double E = projected_energy_exact(op, net, marshall, ph, G, all, &norm);
            assert_true(fabs(sw - norm) < 1e-12);
            const double err = fabs(se / sw - E) / fmax(1.0, fabs(E));
            worst_e = fmax(worst_e, err);
            if (!(err < 1e-11 && fabs(sei / sw) < 1e-11)) {
                fail_msg("%s marshall %d: weighted E_P,loc %.15g%+.3gi, energy of P_G psi %.15g",
                         ars_sym_name(G), marshall, se / sw, sei / sw, E);
            }
            for (size_t k = 0; k < P; k += 3) {
                double mr = 0.0, mi = 0.0;
                for (size_t i = 0; i < N6; i++) {
                    mr += q[i] * w[i] * ore[k * N6 + i];
                    mi += q[i] * w[i] * oim[k * N6 + i];
                }
                mr /= sw;
                mi /= sw;
                double F = 0.0;
                for (size_t i = 0; i < N6; i++) {
                    F += q[i] * w[i] *
                         ((er[i] - E) * (ore[k * N6 + i] - mr) + ei[i] * (oim[k * N6 + i] - mi));
                }
                F *= 2.0 / sw;
                double *theta = k < Pm ? net->params + k : ph->params + (k - Pm);
                const double h = 1e-5, keep = *theta;
                double nn;
                *theta = keep + h;
                const double up = projected_energy_exact(op, net, marshall, ph, G, all, &nn);
                *theta = keep - h;
                const double down = projected_energy_exact(op, net, marshall, ph, G, all, &nn);
                *theta = keep;
                const double fd = (up - down) / (2 * h);
                const double e2 = fabs(F - fd) / fmax(1e-3, fabs(fd));
                worst_f = fmax(worst_f, e2);
                if (!(e2 < 1e-6)) {
                    fail_msg("%s marshall %d, %s parameter %zu: F %.12g, finite differences %.12g",
                             ars_sym_name(G), marshall, k < Pm ? "network" : "phase", k, F, fd);
                }
            }
            free(ore);
            free(oim);
            ars_projected_ws_free(ws);
            ars_phase_free(ph);
            ars_arnn_free(net);
        }
    }
    print_message("projected state: energy vs the vector P_G psi %.1e, force vs finite differences "
                  "%.1e\n",
                  worst_e, worst_f);
    ars_op_free(op);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_projector_values_are_the_definition),
        cmocka_unit_test(test_invariant_state_has_projector_one),
        cmocka_unit_test(test_penalised_gradient_matches_finite_differences),
        cmocka_unit_test(test_projected_estimate_is_the_projected_states_energy),
        cmocka_unit_test(test_projected_state_weights_energy_and_gradient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
