/*
 * test_ratio: amplitude ratios of general changes (wf/ratio.h) and local energies of general
 * operators (est/local_energy.h) against full recomputation and dense expectations: spin 1 and
 * 3/2, changes of 1 to 4 sites at any distance (merged and separate windows), in sectors and
 * for symmetrised states.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "core/ars_common.h"
#include "est/local_energy.h"
#include "ops/operator.h"
#include "ops/terms.h"
#include "space/hilbert.h"
#include "wf/ratio.h"
#include "wf/wavefunction.h"

#define M_PI_VALUE 3.14159265358979323846

/* A random change of n distinct sites of s (new values differ from the old ones). */
static ars_change random_change(gsl_rng *r, const uint8_t *s, int L, int D, int n) {
    ars_change c = {0};
    while (c.n < n) {
        const int t = (int)gsl_rng_uniform_int(r, (unsigned long)L);
        int seen = 0;
        for (int k = 0; k < c.n; k++) {
            seen |= c.site[k] == t;
        }
        if (seen) {
            continue;
        }
        int j = c.n++;
        for (; j > 0 && c.site[j - 1] > t; j--) {
            c.site[j] = c.site[j - 1];
            c.value[j] = c.value[j - 1];
        }
        c.site[j] = t;
        c.value[j] = (uint8_t)((s[t] + 1 + gsl_rng_uniform_int(r, (unsigned long)(D - 1))) % D);
    }
    return c;
}

/* A change that keeps the total Sz: value +1 at one site, -1 at another (n = 2), or that
 * shifts two pairs (n = 4); NULL-like (n = 0) when the configuration does not allow it. */
static ars_change sector_change(gsl_rng *r, const uint8_t *s, int L, int D, int pairs) {
    for (int tries = 0; tries < 100; tries++) {
        ars_change c = random_change(r, s, L, D, 2 * pairs);
        int dm = 0;
        for (int k = 0; k < c.n; k++) {
            dm += (int)c.value[k] - (int)s[c.site[k]];
        }
        if (dm == 0) {
            return c;
        }
    }
    ars_change none = {0};
    return none;
}

/* Checks the ratios dlog (B, NC) of the changes ch (B, NC) of cfg (B, L) against full passes:
 * both -inf, or within tol * max(1, |want|). `what` names the case in a failure. Returns the
 * worst |got - want| / max(1, |want|). */
static double check_against_full_passes(const ars_arnn *net, const uint8_t *cfg,
                                        const ars_change *ch, const double *dlog, int B, int NC,
                                        double tol, const char *what) {
    const int L = net->arch.hilbert.size;
    assert_true(L <= 64);
    ars_arnn_ws *aws = ars_arnn_ws_alloc(net, 1);
    double worst = 0.0;
    for (int b = 0; b < B; b++) {
        const uint8_t *s = cfg + (size_t)b * L;
        double lp0;
        ars_arnn_log_psi(&lp0, s, net, aws, 1);
        for (int k = 0; k < NC; k++) {
            const ars_change *c = &ch[b * NC + k];
            uint8_t x[64];
            memcpy(x, s, (size_t)L);
            for (int j = 0; j < c->n; j++) {
                x[c->site[j]] = c->value[j];
            }
            double lp1;
            ars_arnn_log_psi(&lp1, x, net, aws, 1);
            const double want = lp1 - lp0, got = dlog[b * NC + k];
            if (isinf(want) || isinf(got)) {
                if (!(isinf(want) && isinf(got) && want < 0 && got < 0)) {
                    fail_msg("%s: sample %d change %d: %g vs %g", what, b, k, got, want);
                }
                continue;
            }
            const double dev = fabs(got - want) / fmax(1.0, fabs(want));
            if (!(dev <= tol)) {
                fail_msg("%s: sample %d change %d (%d sites, first %d): %.17g vs %.17g", what, b, k,
                         c->n, c->site[0], got, want);
            }
            worst = fmax(worst, dev);
        }
    }
    ars_arnn_ws_free(aws);
    return worst;
}

/* Ratios of random changes of 1..4 sites equal log psi(s') - log psi(s) from full passes, for
 * spin 1 and 3/2 networks of several reaches, with and without sublattice input channels, plain,
 * in a sector and symmetrised: to rounding in
 * float64, and within RATIO_F32_TOL in float32 arithmetic (ars_ratio_ws_set_dtype), whose
 * conditionals carry float32's rounding (2^-24 = 6e-8 per operation; here up to 3 layers and
 * 8 sites of terms, |dlog| up to about 5). */
#define RATIO_F32_TOL 1e-5
static void test_ratios_of_general_changes_equal_full_recomputation(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 77);
    const ars_sym syms[] = {ARS_SYM_NONE, ARS_SYM_SPIN_FLIP, ARS_SYM_BOTH,
                            (ars_sym)(ARS_SYM_TRANSLATION | ARS_SYM_REFLECTION)};
    int cases = 0;
    double worst_f32 = 0.0;
    for (int f32 = 0; f32 <= 1; f32++) {
        for (int two_s = 2; two_s <= 3; two_s++) {
            const int L = 8, D = two_s + 1;
            for (int shape = 0; shape < 2; shape++) {
                const int dil[3] = {1, 2, 1};
                for (size_t yi = 0; yi < sizeof syms / sizeof syms[0]; yi++) {
                    for (int sector = 0; sector <= 1; sector++) {
                        ars_arch a = ars_test_arch(L, two_s, shape == 0 ? 2 : 3, 5, 2 + shape, dil,
                                                   1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_ONEHOT);
                        a.symmetry = syms[yi];
                        /* Sublattice channels 1 (none), 2 and 3: windows at odd offsets. */
                        a.sublattice = 1 + shape * (1 + sector);
                        if (sector) {
                            ars_hilbert_set_sector(&a.hilbert, 0); /* M = 0 */
                        }
                        ars_arnn *net = ars_test_random_net(&a, 31 + (uint64_t)cases, 0.7);
                        enum { B = 6, NC = 12 };
                        uint8_t cfg[B * 8];
                        /* Configurations in the sector: draw, then keep those that fit. */
                        for (int b = 0; b < B;) {
                            uint8_t *s = cfg + (size_t)b * L;
                            for (int t = 0; t < L; t++) {
                                s[t] = (uint8_t)gsl_rng_uniform_int(r, (unsigned long)D);
                            }
                            b += ars_hilbert_in_sector(&a.hilbert, s);
                        }
                        ars_change ch[B * NC];
                        int n[B];
                        for (int b = 0; b < B; b++) {
                            const uint8_t *s = cfg + (size_t)b * L;
                            for (int k = 0; k < NC; k++) {
                                const int sites = 1 + k % 4;
                                ch[b * NC + k] = sector && k % 2 == 0
                                                     ? sector_change(r, s, L, D, 1 + (k / 2) % 2)
                                                     : random_change(r, s, L, D, sites);
                            }
                            n[b] = NC;
                        }
                        ars_ratio_ws *ws = ars_ratio_ws_alloc(net, B, NC, 4);
                        assert_non_null(ws);
                        assert_int_equal(ars_ratio_ws_set_dtype(
                                             ws, net, f32 ? ARS_DTYPE_FLOAT32 : ARS_DTYPE_FLOAT64),
                                         ARS_OK);
                        const double tol = f32 ? RATIO_F32_TOL : 1e-12;
                        double dlog[B * NC];
                        ars_ratio_log(dlog, cfg, ch, n, NC, net, ws, B);
                        char what[96];
                        snprintf(what, sizeof what, "f32 %d 2S %d sym %d sector %d", f32, two_s,
                                 (int)syms[yi], sector);
                        const double worst =
                            check_against_full_passes(net, cfg, ch, dlog, B, NC, tol, what);
                        if (f32) {
                            worst_f32 = fmax(worst_f32, worst);
                        }
                        ars_ratio_ws_free(ws);
                        ars_arnn_free(net);
                        cases++;
                    }
                }
            }
        }
    }
    gsl_rng_free(r);
    assert_int_equal(cases, 64);
    print_message("float32 windows: worst |d dlog| / max(1, |dlog|) = %.2e\n", worst_f32);
    /* float32 arithmetic really ran: float64 would agree to 1e-12. */
    assert_true(worst_f32 > 1e-9);
}

/* With sublattice channels the input depends on the chain site, so a window that starts at
 * site a must encode its position u as site a + u: on a chain much longer than the network's
 * reach (windows start all along it), ratios of random changes equal full recomputation for
 * sublattices 2 and 3, in float64 and in a sector. */
static void test_sublattice_windows_encode_their_chain_sites(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 91);
    enum { L = 24, B = 5, NC = 10 };
    const int dil[3] = {1, 1, 1};
    for (int K = 2; K <= 3; K++) {
        for (int sector = 0; sector <= 1; sector++) {
            ars_arch a =
                ars_test_arch(L, 1, 3, 4, 2, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
            a.sublattice = K;
            if (sector) {
                ars_hilbert_set_sector(&a.hilbert, 0);
            }
            ars_arnn *net = ars_test_random_net(&a, 400 + (uint64_t)(2 * K + sector), 0.9);
            uint8_t cfg[B * L];
            for (int b = 0; b < B;) {
                uint8_t *s = cfg + (size_t)b * L;
                for (int t = 0; t < L; t++) {
                    s[t] = (uint8_t)gsl_rng_uniform_int(r, 2);
                }
                b += ars_hilbert_in_sector(&a.hilbert, s);
            }
            ars_change ch[B * NC];
            int n[B];
            for (int b = 0; b < B; b++) {
                for (int k = 0; k < NC; k++) {
                    ch[b * NC + k] = sector
                                         ? sector_change(r, cfg + (size_t)b * L, L, 2, 1)
                                         : random_change(r, cfg + (size_t)b * L, L, 2, 1 + k % 2);
                }
                n[b] = NC;
            }
            ars_ratio_ws *ws = ars_ratio_ws_alloc(net, B, NC, 2);
            assert_non_null(ws);
            double dlog[B * NC];
            ars_ratio_log(dlog, cfg, ch, n, NC, net, ws, B);
            char what[32];
            snprintf(what, sizeof what, "K %d sector %d", K, sector);
            check_against_full_passes(net, cfg, ch, dlog, B, NC, 1e-12, what);
            ars_ratio_ws_free(ws);
            ars_arnn_free(net);
        }
    }
    gsl_rng_free(r);
}

/* The windows of a call are sorted and batched across its samples (ratio.h), and each window's
 * sum is added to its change in the order of the changes: a sample's ratios are the same bits
 * whichever samples share the call. Here 48 samples of 48 sites with 48 changes each (several
 * groups of sorted batches) against each sample alone, plain, in a sector and symmetrised, in
 * float64 and in float32 arithmetic (what makes training's results independent of threads and
 * ranks in both). */
static void test_ratios_do_not_depend_on_the_samples_sharing_the_call(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 5);
    enum { L = 48, B = 48, NC = 48, D = 2 };
    const int dil[4] = {1, 2, 1, 2}; /* reach 12: changes far apart take several windows */
    const ars_sym syms[] = {ARS_SYM_NONE, ARS_SYM_NONE, ARS_SYM_BOTH};
    for (int vf = 0; vf < 6; vf++) {
        const int v = vf % 3;
        const ars_dtype dtype = vf < 3 ? ARS_DTYPE_FLOAT64 : ARS_DTYPE_FLOAT32;
        ars_arch a = ars_test_arch(L, 1, 4, 6, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_ONEHOT);
        a.symmetry = syms[v];
        if (v == 1) {
            ars_hilbert_set_sector(&a.hilbert, 0);
        }
        ars_arnn *net = ars_test_random_net(&a, 400 + (uint64_t)v, 0.7);
        uint8_t *cfg = malloc((size_t)B * L);
        ars_change *ch = malloc((size_t)B * NC * sizeof *ch);
        double *all = malloc((size_t)B * NC * sizeof *all);
        int n[B];
        for (int b = 0; b < B;) {
            uint8_t *s = cfg + (size_t)b * L;
            for (int t = 0; t < L; t++) {
                s[t] = (uint8_t)gsl_rng_uniform_int(r, D);
            }
            b += ars_hilbert_in_sector(&a.hilbert, s);
        }
        for (int b = 0; b < B; b++) {
            const uint8_t *s = cfg + (size_t)b * L;
            for (int k = 0; k < NC; k++) {
                ch[b * NC + k] = v == 1 ? sector_change(r, s, L, D, 1 + k % 2)
                                        : random_change(r, s, L, D, 1 + k % 4);
            }
            n[b] = NC;
        }
        ars_ratio_ws *ws = ars_ratio_ws_alloc(net, B, NC, 4);
        ars_ratio_ws *one = ars_ratio_ws_alloc(net, 1, NC, 4);
        assert_non_null(ws);
        assert_non_null(one);
        assert_int_equal(ars_ratio_ws_set_dtype(ws, net, dtype), ARS_OK);
        assert_int_equal(ars_ratio_ws_set_dtype(one, net, dtype), ARS_OK);
        ars_ratio_log(all, cfg, ch, n, NC, net, ws, B);
        uint64_t useful, computed;
        ars_ratio_ws_flops(ws, &useful, &computed);
        computed /= ars_ratio_ws_site_flops(ws);
        assert_true(computed - (uint64_t)B * L > 2000); /* several groups of 32 x 48 windows */
        for (int b = 0; b < B; b++) {
            double alone[NC];
            ars_ratio_log(alone, cfg + (size_t)b * L, ch + (size_t)b * NC, &n[b], NC, net, one, 1);
            for (int k = 0; k < NC; k++) {
                if (!ars_test_same_bits(alone[k], all[b * NC + k])) {
                    fail_msg("variant %d (float32 %d), sample %d, change %d: %.17g alone, %.17g in "
                             "the call",
                             v, vf >= 3, b, k, alone[k], all[b * NC + k]);
                }
            }
        }
        ars_ratio_ws_free(one);
        ars_ratio_ws_free(ws);
        free(all);
        free(ch);
        free(cfg);
        ars_arnn_free(net);
    }
    gsl_rng_free(r);
}

/* Spin-1 chain: Heisenberg bonds, a single-ion anisotropy, a three-site term and a long-range
 * exchange, with the Marshall sign. sum_s p(s) E_loc(s) equals <psi|H|psi> / <psi|psi> from the
 * dense operator, and the fast local energies equal the brute-force ones. */
static void test_mean_local_energy_of_a_spin_one_operator_equals_dense_expectation(void **state) {
    (void)state;
    const int L = 5, two_s = 2, D = 3;
    const int dil[2] = {1, 2};
    ars_arch a = ars_test_arch(L, two_s, 2, 4, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
    ars_arnn *net = ars_test_random_net(&a, 5, 0.6);
    ars_op *op = ars_op_alloc(L, two_s, 1);
    const ars_op_factor pm[2] = {{ARS_SITE_OP_SP, 0, 1}, {ARS_SITE_OP_SM, 1, 1}};
    const ars_op_factor mp[2] = {{ARS_SITE_OP_SM, 0, 1}, {ARS_SITE_OP_SP, 1, 1}};
    const ars_op_factor zz[2] = {{ARS_SITE_OP_SZ, 0, 1}, {ARS_SITE_OP_SZ, 1, 1}};
    const ars_op_factor dz[2] = {{ARS_SITE_OP_SZ, 0, 1}, {ARS_SITE_OP_SZ, 0, 1}};
    const ars_op_factor three[3] = {
        {ARS_SITE_OP_SX, 0, 1}, {ARS_SITE_OP_SZ, 1, 1}, {ARS_SITE_OP_SX, 2, 1}};
    const ars_op_factor lr[2] = {{ARS_SITE_OP_SX, 0, 0}, {ARS_SITE_OP_SX, 3, 0}};
    assert_int_equal(ars_op_add_term(op, 0.5, pm, 2, "t"), ARS_OK);
    assert_int_equal(ars_op_add_term(op, 0.5, mp, 2, "t"), ARS_OK);
    assert_int_equal(ars_op_add_term(op, 1.0, zz, 2, "t"), ARS_OK);
    assert_int_equal(ars_op_add_term(op, 0.3, dz, 2, "t"), ARS_OK);
    assert_int_equal(ars_op_add_term(op, -0.4, three, 3, "t"), ARS_OK);
    assert_int_equal(ars_op_add_term(op, 0.25, lr, 2, "t"), ARS_OK);
    size_t dim = 0;
    double *logp = ars_test_enumerate_log_prob(net, &dim);
    assert_int_equal(dim, 243);
    uint8_t *cfg = malloc(dim * (size_t)L);
    double *eloc = malloc(dim * sizeof *eloc), *slow = malloc(dim * sizeof *slow);
    ars_hilbert hil;
    ars_hilbert_init(&hil, L, two_s);
    for (size_t k = 0; k < dim; k++) {
        ars_hilbert_config(&hil, cfg + k * (size_t)L, k);
    }
    const ars_wf wf = ars_wf_make(net, 1, NULL);
    ars_eloc_ws *ws = ars_eloc_ws_alloc(op, &wf, 64);
    assert_non_null(ws);
    for (size_t k0 = 0; k0 < dim; k0 += 64) {
        const int B = dim - k0 < 64 ? (int)(dim - k0) : 64;
        assert_int_equal(ars_eloc_compute(eloc + k0, NULL, cfg + k0 * (size_t)L, op, &wf, ws, B),
                         0);
    }
    assert_int_equal(ars_eloc_compute_slow(slow, NULL, cfg, op, &wf, (int)dim), ARS_OK);
    assert_allclose(eloc, slow, dim, 1e-12, 1e-12);
    /* psi(s) = sign(s) exp(log p / 2); <H> = sum_{s,s'} psi(s) H(s, s') psi(s'). */
    double mean = 0.0, dense = 0.0;
    ars_change ch[256];
    double mel[256], diag;
    for (size_t k = 0; k < dim; k++) {
        const uint8_t *s = cfg + k * (size_t)L;
        mean += exp(logp[k]) * eloc[k];
        const double sign_s = ((s[1] + s[3]) & 1) ? -1.0 : 1.0;
        const double psi = sign_s * exp(0.5 * logp[k]);
        const int n = ars_op_apply(op, s, &diag, ch, mel);
        dense += psi * diag * psi;
        for (int j = 0; j < n; j++) {
            uint8_t x[5];
            memcpy(x, s, (size_t)L);
            for (int q = 0; q < ch[j].n; q++) {
                x[ch[j].site[q]] = ch[j].value[q];
            }
            size_t m = 0;
            for (int t = 0; t < L; t++) {
                m = m * (size_t)D + x[t];
            }
            const double sign_x = ((x[1] + x[3]) & 1) ? -1.0 : 1.0;
            dense += sign_x * exp(0.5 * logp[m]) * mel[j] * psi;
        }
    }
    assert_true(fabs(mean - dense) < 1e-11 * fmax(1.0, fabs(dense)));
    ars_eloc_ws_free(ws);
    ars_op_free(op);
    free(cfg);
    free(eloc);
    free(slow);
    free(logp);
    ars_arnn_free(net);
}

/* Random Hermitian term lists, written as text and parsed (ops/terms.h): for spins 1/2, 1 and
 * 3/2, terms of 1 to 4 sites, i-relative and fixed, at long range, with and without the Marshall
 * sign, plain, in the S^z = 0 sector and symmetrised. The fast local energies equal the
 * brute-force ones (log psi of every s' from a full pass) to 1e-12. */
static void test_local_energies_of_random_term_lists_equal_full_recomputation(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 1505);
    const ars_sym syms[] = {ARS_SYM_NONE, ARS_SYM_BOTH, ARS_SYM_ALL};
    int cases = 0;
    double worst = 0.0;
    for (int two_s = 1; two_s <= 3; two_s++) {
        const int L = 10, D = two_s + 1;
        for (size_t yi = 0; yi < sizeof syms / sizeof syms[0]; yi++) {
            for (int sector = 0; sector <= 1; sector++) {
                /* Conserving terms in the sector (S+ S-, Sz products); any in the full space. */
                ars_terms T;
                ars_terms_init(&T);
                char text[256];
                const char *where = "random";
                for (int k = 0; k < 8; k++) {
                    const double c = gsl_rng_uniform(r) - 0.5;
                    const int d = 1 + (int)gsl_rng_uniform_int(r, 4),
                              e = 1 + (int)gsl_rng_uniform_int(r, 3);
                    const int i0 = (int)gsl_rng_uniform_int(r, (unsigned long)(L - 7));
                    switch (k % 4) {
                        case 0: /* exchange at distance d, both orders */
                            snprintf(text, sizeof text, "%.6f S+(i) S-(i+%d)", c, d);
                            assert_int_equal(ars_terms_parse(&T, text, where), ARS_OK);
                            snprintf(text, sizeof text, "%.6f S-(i) S+(i+%d)", c, d);
                            break;
                        case 1: /* three sites, diagonal, plus a same-site product */
                            snprintf(text, sizeof text, "%.6f Sz(i) Sz(i) Sz(i+%d) Sz(i+%d)", c, e,
                                     e + d);
                            break;
                        case 2: /* four fixed sites, spread over the chain */
                            snprintf(text, sizeof text, "%.6f S+(%d) S-(%d) S-(%d) S+(%d)", c, i0,
                                     i0 + 2, i0 + 5, i0 + 7);
                            assert_int_equal(ars_terms_parse(&T, text, where), ARS_OK);
                            snprintf(text, sizeof text, "%.6f S-(%d) S+(%d) S+(%d) S-(%d)", c, i0,
                                     i0 + 2, i0 + 5, i0 + 7);
                            break;
                        default: /* outside the sector: fields and Sx Sy Sy */
                            snprintf(text, sizeof text,
                                     sector ? "%.6f Sz(i) Sz(i+%d)" : "%.6f Sx(i) Sy(i+%d) Sy(i+1)",
                                     c, d + 1);
                            break;
                    }
                    assert_int_equal(ars_terms_parse(&T, text, where), ARS_OK);
                }
                int status = ARS_OK;
                ars_op *op = ars_terms_operator(&T, L, two_s, sector, &status);
                assert_non_null(op);
                assert_int_equal(ars_op_conserves_sz(op), sector);
                const int dil[3] = {1, 2, 1};
                ars_arch a = ars_test_arch(L, two_s, 3, 5, 3, dil, 1, 1, ARS_ACTIVATION_TANH,
                                           ARS_INPUT_ONEHOT);
                a.symmetry = syms[yi];
                if (sector) {
                    ars_hilbert_set_sector(&a.hilbert, 0); /* S^z = 0 */
                }
                ars_arnn *net = ars_test_random_net(&a, 900 + (uint64_t)cases, 0.6);
                enum { B = 16 };
                uint8_t cfg[B * 10];
                for (int b = 0; b < B;) {
                    uint8_t *sb = cfg + (size_t)b * L;
                    for (int t = 0; t < L; t++) {
                        sb[t] = (uint8_t)gsl_rng_uniform_int(r, (unsigned long)D);
                    }
                    b += ars_hilbert_in_sector(&a.hilbert, sb);
                }
                for (int marshall = 0; marshall <= 1; marshall++) {
                    const ars_wf wf = ars_wf_make(net, marshall, NULL);
                    ars_eloc_ws *ws = ars_eloc_ws_alloc(op, &wf, B);
                    assert_non_null(ws);
                    double fast[B], slow[B];
                    assert_int_equal(ars_eloc_compute(fast, NULL, cfg, op, &wf, ws, B), 0);
                    assert_int_equal(ars_eloc_compute_slow(slow, NULL, cfg, op, &wf, B), ARS_OK);
                    for (int b = 0; b < B; b++) {
                        const double err = fabs(fast[b] - slow[b]) / fmax(1.0, fabs(slow[b]));
                        worst = fmax(worst, err);
                        if (!(err <= 1e-12)) {
                            fail_msg("2S %d sym %d sector %d marshall %d: sample %d: %.17g vs "
                                     "%.17g",
                                     two_s, (int)syms[yi], sector, marshall, b, fast[b], slow[b]);
                        }
                    }
                    ars_eloc_ws_free(ws);
                }
                ars_arnn_free(net);
                ars_op_free(op);
                ars_terms_free(&T);
                cases++;
            }
        }
    }
    gsl_rng_free(r);
    assert_int_equal(cases, 18);
    print_message("random term lists (spins 1/2, 1, 3/2): fast vs full local energies, max "
                  "relative diff %.2e\n",
                  worst);
}

/* log psi = (log|psi|, phi): log|psi| is the network's, and the phase ratio of a change is
 * exp(i (phi(s') - phi(s))) of the phases ars_wf_log_psi gives, for both fixed phases. */
static void test_log_psi_pair_and_phase_ratios_agree(void **state) {
    (void)state;
    const int L = 7, dil[2] = {1, 2};
    ars_arch a = ars_test_arch(L, 2, 2, 4, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_ONEHOT);
    ars_arnn *net = ars_test_random_net(&a, 8, 0.5);
    ars_arnn_ws *ws = ars_arnn_ws_alloc(net, 2);
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 99);
    for (int marshall = 0; marshall <= 1; marshall++) {
        const ars_wf wf = ars_wf_make(net, marshall, NULL);
        for (int rep = 0; rep < 20; rep++) {
            uint8_t cfg[2 * 7];
            for (int t = 0; t < L; t++) {
                cfg[t] = (uint8_t)gsl_rng_uniform_int(r, 3);
            }
            const ars_change c = random_change(r, cfg, L, 3, 1 + rep % 4);
            memcpy(cfg + L, cfg, (size_t)L);
            for (int j = 0; j < c.n; j++) {
                cfg[L + c.site[j]] = c.value[j];
            }
            double la[2], phi[2], ref[2];
            ars_wf_log_psi(la, phi, cfg, &wf, ws, NULL, 2);
            ars_arnn_log_psi(ref, cfg, net, ws, 2);
            assert_true(la[0] == ref[0] && la[1] == ref[1]);
            assert_true(phi[0] == 0.0 || (marshall && fabs(phi[0] - M_PI_VALUE) < 1e-15));
            double re, im;
            ars_wf_phase_ratio(&re, &im, &wf, NULL, cfg, 0, &c);
            assert_true(fabs(cos(phi[1] - phi[0]) - re) < 1e-12 && im == 0.0);
        }
    }
    gsl_rng_free(r);
    ars_arnn_ws_free(ws);
    ars_arnn_free(net);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratios_of_general_changes_equal_full_recomputation),
        cmocka_unit_test(test_sublattice_windows_encode_their_chain_sites),
        cmocka_unit_test(test_mean_local_energy_of_a_spin_one_operator_equals_dense_expectation),
        cmocka_unit_test(test_log_psi_pair_and_phase_ratios_agree),
        cmocka_unit_test(test_ratios_do_not_depend_on_the_samples_sharing_the_call),
        cmocka_unit_test(test_local_energies_of_random_term_lists_equal_full_recomputation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
