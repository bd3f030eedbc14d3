/*
 * Specification of time evolution (evolve/integrator.h, vmc.h's ars_vmc_tdvp,
 * evolve/evolve.h):
 *   - each Runge-Kutta type converges with its order on a nonlinear equation, and its error
 *     estimate has the order it claims;
 *   - the step-size controller grows the step below the tolerance and shrinks it above;
 *   - the TDVP derivative moves the state as the Schrodinger equation says: on a 4-site chain,
 *     with every configuration enumerated, d log psi / dt of the new parameters matches
 *     -i (E_loc - E) (real time) or -(E_loc - E) (imaginary time) up to a small residual, and
 *     the opposite sign does not;
 *   - imaginary-time evolution by the adaptive stepper reaches the TFIM ground state.
 */
#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "core/ars_common.h"
#include "evolve/evolve.h"
#include "evolve/integrator.h"
#include "ops/exact.h"
#include "vmc/vmc.h"

/* y' = -y^2, y(0) = 1: y(t) = 1 / (1 + t). */
static double f_quad(double y) {
    return -y * y;
}

/* One step of type T from y with size h; *err receives the error estimate e. */
static double rk_step(const ars_integrator_type *T, double y, double h, double *err) {
    double k[ARS_INTEGRATOR_MAX_STAGES + 1];
    const int s = T->stages;
    for (int i = 0; i < s; i++) {
        double yi = y;
        for (int j = 0; j < i; j++) {
            yi += h * T->a[i * s + j] * k[j];
        }
        k[i] = f_quad(yi);
    }
    double y1 = y;
    for (int i = 0; i < s; i++) {
        y1 += h * T->b[i] * k[i];
    }
    k[s] = f_quad(y1);
    double e = 0.0;
    for (int i = 0; i <= s; i++) {
        e += h * T->e[i] * k[i];
    }
    *err = e;
    return y1;
}

static double global_error(const ars_integrator_type *T, int steps) {
    double y = 1.0, e;
    const double h = 1.0 / steps;
    for (int n = 0; n < steps; n++) {
        y = rk_step(T, y, h, &e);
    }
    return fabs(y - 0.5);
}

static void test_each_integrator_converges_with_its_order(void **state) {
    (void)state;
    for (int i = 0; ars_integrator_types[i] != NULL; i++) {
        const ars_integrator_type *T = ars_integrator_types[i];
        /* the nodes are the row sums of a (the stages are consistent) */
        for (int r = 0; r < T->stages; r++) {
            double sum = 0.0;
            for (int j = 0; j < T->stages; j++) {
                sum += T->a[r * T->stages + j];
            }
            assert_true(fabs(sum - T->c[r]) < 1e-15);
        }
        const double order = log2(global_error(T, 40) / global_error(T, 80));
        assert_true(fabs(order - T->order) < 0.15);
        double e1, e2;
        (void)rk_step(T, 1.0, 0.02, &e1);
        (void)rk_step(T, 1.0, 0.01, &e2);
        const double err_order = log2(fabs(e1) / fabs(e2));
        assert_true(fabs(err_order - (T->err_order + 1)) < 0.15);
    }
    assert_ptr_equal(ars_integrator_type_find("rk4"), ars_integrator_types[2]);
    assert_null(ars_integrator_type_find("rk45"));
}

static void test_controller_grows_below_and_shrinks_above_the_tolerance(void **state) {
    (void)state;
    const ars_integrator_type *T = ars_integrator_type_find("heun");
    assert_true(ars_integrator_next_dt(T, 0.1, 1e-6, 1e-4) > 0.1);
    assert_true(ars_integrator_next_dt(T, 0.1, 0.0, 1e-4) <= 0.5 + 1e-12);
    assert_true(ars_integrator_next_dt(T, 0.1, 4e-4, 1e-4) < 0.1);
    assert_true(ars_integrator_next_dt(T, 0.1, 1.0, 1e-4) >= 0.02 - 1e-12);
    /* err = tol: the safety factor */
    assert_true(fabs(ars_integrator_next_dt(T, 0.1, 1e-4, 1e-4) - 0.09) < 1e-12);
}

typedef struct tdvp_case {
    ars_arnn *net;
    ars_phase *phase;
    ars_ham H;
    ars_vmc *v;
} tdvp_case;

static void tdvp_case_init(tdvp_case *c, const ars_ham_preset *preset, int L, size_t n,
                           int with_phase) {
    const int dil[3] = {1, 1, 2};
    ars_arch arch = ars_test_arch(L, 1, 3, 8, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
    c->net = ars_test_random_net(&arch, 11, 0.5);
    c->phase = NULL;
    if (with_phase) {
        ars_phase_arch pa = {.size = L,
                             .local_size = 2,
                             .pbc = preset->pbc,
                             .layers = 2,
                             .features = 8,
                             .kernel_size = 5,
                             .dilation = {1, 1},
                             .activation = ARS_ACTIVATION_TANH,
                             .site_phase = 1};
        c->phase = ars_phase_alloc(ars_phase_conv, &pa);
        assert_non_null(c->phase);
        assert_int_equal(ars_phase_init_random(c->phase, 7), ARS_OK);
    }
    assert_int_equal(ars_ham_init(&c->H, preset, L, 1), ARS_OK);
    ars_vmc_settings s;
    memset(&s, 0, sizeof s);
    s.n_samples = n;
    s.chunk_size = 256;
    s.seed = 77;
    s.algorithm = ARS_SAMPLER_CACHED;
    s.optimizer = ars_opt_sgd;
    s.sr = 1;
    s.exact_energy = NAN;
    s.phase = c->phase;
    c->v = ars_vmc_alloc(c->net, &c->H, &s, 1, 0);
    assert_non_null(c->v);
}

static void tdvp_case_free(tdvp_case *c) {
    ars_vmc_free(c->v);
    ars_ham_free(&c->H);
    ars_phase_free(c->phase);
    ars_arnn_free(c->net);
}

/* log psi (log_abs, phi) of every configuration (n = 2^L) at the parameters theta. */
static void enumerate_log_psi(tdvp_case *c, const double *theta, const uint8_t *cfg, size_t n,
                              double *log_abs, double *phi) {
    ars_vmc_set_params(c->v, theta);
    const ars_wf wf = ars_vmc_wf(c->v);
    ars_arnn_ws *ws = ars_arnn_ws_alloc(c->net, (int)n);
    ars_wf_ws *pws = c->phase != NULL ? ars_wf_ws_alloc(&wf, (int)n) : NULL;
    assert_non_null(ws);
    ars_wf_log_psi(log_abs, phi, cfg, &wf, ws, pws, (int)n);
    ars_wf_ws_free(pws);
    ars_arnn_ws_free(ws);
}

/* The exact residual of thetadot over every configuration: sum_s p |dlog - target|^2 /
 * sum_s p |target|^2 with target = -i dE (real time) or -dE (imaginary) times `sign`, both sides
 * centred. dlog psi / dt comes from central differences of log psi along thetadot. */
static double exact_residual(tdvp_case *c, const double *theta, const double *thetadot,
                             int imaginary, double sign) {
    const int L = c->net->arch.hilbert.size;
    const size_t n = (size_t)1 << L, P = c->v->P;
    uint8_t *cfg = malloc(n * (size_t)L);
    double *la = malloc(4 * n * sizeof(double)), *ph = malloc(4 * n * sizeof(double));
    double *er = malloc(n * sizeof(double)), *ei = malloc(n * sizeof(double));
    double *tp = malloc(P * sizeof(double));
    assert_true(cfg && la && ph && er && ei && tp);
    for (size_t k = 0; k < n; k++) {
        ars_hilbert_config(&c->net->arch.hilbert, cfg + k * (size_t)L, k);
    }
    const double eps = 1e-5;
    for (int q = 0; q < 2; q++) {
        for (size_t k = 0; k < P; k++) {
            tp[k] = theta[k] + (q == 0 ? eps : -eps) * thetadot[k];
        }
        enumerate_log_psi(c, tp, cfg, n, la + (size_t)q * n, ph + (size_t)q * n);
    }
    enumerate_log_psi(c, theta, cfg, n, la + 2 * n, ph + 2 * n);
    const ars_wf wf = ars_vmc_wf(c->v);
    ars_eloc_ws *ews = ars_eloc_ws_alloc(c->v->op, &wf, (int)n);
    assert_non_null(ews);
    assert_int_equal(ars_eloc_compute(er, ei, cfg, c->v->op, &wf, ews, (int)n), 0);
    ars_eloc_ws_free(ews);
    double E = 0.0, Ei = 0.0, dr = 0.0, di = 0.0;
    for (size_t s = 0; s < n; s++) {
        const double p = exp(2.0 * la[2 * n + s]);
        E += p * er[s];
        Ei += p * ei[s];
        dr += p * (la[s] - la[n + s]) / (2.0 * eps);
        di += p * (ph[s] - ph[n + s]) / (2.0 * eps);
    }
    double num = 0.0, den = 0.0;
    for (size_t s = 0; s < n; s++) {
        const double p = exp(2.0 * la[2 * n + s]);
        const double a = (la[s] - la[n + s]) / (2.0 * eps) - dr;
        const double b = (ph[s] - ph[n + s]) / (2.0 * eps) - di;
        const double xr = er[s] - E, xi = ei[s] - Ei;
        /* target: -i (xr + i xi) = xi - i xr, or -(xr + i xi) */
        const double tr = sign * (imaginary ? -xr : xi), ti = sign * (imaginary ? -xi : -xr);
        num += p * ((a - tr) * (a - tr) + (b - ti) * (b - ti));
        den += p * (xr * xr + xi * xi);
    }
    enumerate_log_psi(c, theta, cfg, n, la, ph); /* leave the network at theta */
    free(cfg);
    free(la);
    free(ph);
    free(er);
    free(ei);
    free(tp);
    return num / den;
}

static void check_tdvp_direction(const ars_ham_preset *preset, int with_phase, int imaginary) {
    tdvp_case c;
    tdvp_case_init(&c, preset, 4, ARS_TEST_SHORT ? 2048 : 16384, with_phase);
    const size_t P = c.v->P;
    double *theta = malloc(P * sizeof(double)), *dot = malloc(P * sizeof(double));
    assert_true(theta && dot);
    ars_vmc_get_params(c.v, theta);
    ars_vmc_tdvp_info info;
    assert_int_equal(ars_vmc_tdvp(c.v, 5, imaginary, 1e-6, dot, &info), ARS_OK);
    const double r2 = exact_residual(&c, theta, dot, imaginary, 1.0);
    const double r2_wrong = exact_residual(&c, theta, dot, imaginary, -1.0);
    /* 16 configurations and hundreds of parameters: the tangent space holds the exact
     * direction, so only the samples' noise and the shift remain. */
    assert_true(r2 < 0.01);
    assert_true(r2_wrong > 3.0);
    assert_true(info.residual < 0.01);
    free(theta);
    free(dot);
    tdvp_case_free(&c);
}

static void test_real_time_derivative_follows_the_schrodinger_equation(void **state) {
    (void)state;
    check_tdvp_direction(ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 0.8, 0.0, 0.0, 1, 0), 1, 0);
    /* XX + Dzyaloshinskii-Moriya: a complex Hamiltonian */
    ars_ham_preset dm = *ARS_TEST_PRESET(ARS_HAM_XXZ, 1.0, 0.0, 0.0, 0.0, 0, 0);
    dm.dm = 0.7;
    check_tdvp_direction(&dm, 1, 0);
}

static void test_imaginary_time_derivative_descends(void **state) {
    (void)state;
    check_tdvp_direction(ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 0.8, 0.0, 0.0, 1, 0), 0, 1);
    check_tdvp_direction(ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 0.8, 0.0, 0.0, 1, 0), 1, 1);
}

static void test_imaginary_time_reaches_the_tfim_ground_state(void **state) {
    (void)state;
    if (ARS_TEST_SHORT) {
        skip(); /* an accuracy check: the normal build runs it (the sanitizers check memory) */
    }
    const int L = 6;
    const ars_ham_preset *preset = ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 1.0, 0.0, 0.0, 1, 0);
    tdvp_case c;
    tdvp_case_init(&c, preset, L, 1024, 0);
    const ars_evolve_settings es = {.integrator = ars_integrator_type_find("heun"),
                                    .t_end = 3.0,
                                    .dt = 0.05,
                                    .tolerance = 1e-2,
                                    .adaptive = 1,
                                    .imaginary = 1,
                                    .diag_shift = 1e-4,
                                    .dt_min = 1e-6,
                                    .dt_max = 0.2};
    ars_evolve *e = ars_evolve_alloc(c.v, &es);
    assert_non_null(e);
    while (e->t < es.t_end) {
        assert_int_equal(ars_evolve_step(e, es.t_end), ARS_OK);
    }
    assert_true(e->t == es.t_end);
    assert_true(e->n_accepted > 5);
    assert_int_equal(e->steps.len, (size_t)(e->n_accepted + e->n_rejected));
    const double E0 = ars_exact_tfim(L, 1.0, 1.0, 1);
    /* the energy of the last step's samples */
    const double E = e->k0_info.estimate.energy;
    assert_true(fabs((E - E0) / E0) < 2e-3);
    ars_evolve_free(e);
    tdvp_case_free(&c);
}

/* Adaptive rk4 steps of h (at most) to t_end whose error never rejects them (tolerance 1e9). */
static ars_evolve_settings loose_rk4(double h, double t_end, int common, int reweight) {
    const ars_evolve_settings es = {.integrator = ars_integrator_type_find("rk4"),
                                    .t_end = t_end,
                                    .dt = h,
                                    .tolerance = 1e9,
                                    .adaptive = 1,
                                    .common_samples = common,
                                    .reweight = reweight,
                                    .diag_shift = 1e-4,
                                    .dt_min = 1e-12,
                                    .dt_max = h};
    return es;
}

/* One real-time rk4 step of size h from the same state: its error estimate, and the number of
 * evaluations two steps take; with common samples, or with reweighted stages. */
static double step_error(int common, int reweight, double h, int64_t *evals_two_steps) {
    const ars_ham_preset *preset = ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 0.8, 0.0, 0.0, 1, 0);
    tdvp_case c;
    tdvp_case_init(&c, preset, 6, 512, 1);
    const ars_evolve_settings es = loose_rk4(h, 1.0, common, reweight);
    ars_evolve *e = ars_evolve_alloc(c.v, &es);
    assert_non_null(e);
    assert_int_equal(ars_evolve_step(e, es.t_end), ARS_OK);
    const double err = e->steps.error[0];
    assert_int_equal(ars_evolve_step(e, es.t_end), ARS_OK);
    *evals_two_steps = e->n_eval;
    ars_evolve_free(e);
    tdvp_case_free(&c);
    return err;
}

static double tiny_step_error(int common, double h, int64_t *evals_two_steps) {
    return step_error(common, 0, h, evals_two_steps);
}

static void test_common_samples_leave_the_error_estimate_only_the_truncation_error(void **state) {
    (void)state;
    /* With fresh samples per stage the estimate of a tiny step is the stages' Monte Carlo noise
     * times h; with the step's samples shared, no configuration changes over h = 1e-6 and only
     * the (h^4) truncation error and rounding are left. */
    int64_t evals_fresh, evals_common;
    const double fresh = tiny_step_error(0, 1e-6, &evals_fresh);
    const double common = tiny_step_error(1, 1e-6, &evals_common);
    assert_true(fresh > 0.0);
    assert_true(common < 1e-4 * fresh);
    /* rk4 (FSAL): 5 evaluations for the first step, then 4 with f(y_new) carried over; common
     * samples evaluate f(theta) again from the next step's numbers. */
    assert_int_equal(evals_fresh, 9);
    assert_int_equal(evals_common, 10);
}

/* Reweighted stages (evolve.h): every stage and the error estimate use the step's first samples
 * with weights |psi_stage / psi_start|^2, so for those samples the right-hand side is a smooth
 * function of the parameters and rk4's embedded estimate falls like h^4 at any step size (not
 * only where no configuration would change), and a step costs as many evaluations as with
 * common samples. */
static void test_reweighted_stages_give_an_error_estimate_of_order_h4(void **state) {
    (void)state;
    int64_t evals;
    const double e1 = step_error(0, 1, 0.02, &evals);
    const double e2 = step_error(0, 1, 0.01, &evals);
    printf("reweighted rk4 error estimate: %.3e at h = 0.02, %.3e at h = 0.01 (order %.2f)\n", e1,
           e2, log2(e1 / e2));
    assert_true(fabs(log2(e1 / e2) - 4.0) < 0.5);
    assert_int_equal(evals, 10);
    /* fresh samples: the estimate is the stages' noise, far above at small h */
    const double e3 = step_error(0, 1, 0.005, &evals);
    const double fresh = step_error(0, 0, 0.005, &evals);
    printf("at h = 0.005: reweighted %.3e, fresh samples %.3e\n", e3, fresh);
    assert_true(fresh > 30.0 * e3);
}

/* A reweighted step that moves the state so far that its stages' weights carry fewer than half
 * the samples (effective sample size) is rejected, whatever its error, and retried with at most
 * half the step. */
static void
test_a_reweighted_step_with_degenerate_weights_is_retried_with_half_the_step(void **state) {
    (void)state;
    tdvp_case c;
    tdvp_case_init(&c, ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 0.8, 0.0, 0.0, 1, 0), 6, 512, 1);
    const double h = 2.0;
    const ars_evolve_settings es = loose_rk4(h, 10.0, 0, 1);
    ars_evolve *e = ars_evolve_alloc(c.v, &es);
    assert_non_null(e);
    assert_int_equal(ars_evolve_step(e, es.t_end), ARS_OK);
    printf("steps: %zu, the first of %g %s, the next %g\n", e->steps.len, e->steps.dt[0],
           e->steps.accepted[0] ? "accepted" : "rejected", e->steps.dt[1]);
    assert_true(e->steps.len >= 2);
    assert_true(e->steps.accepted[0] == 0.0);
    assert_true(e->steps.dt[1] <= 0.5 * e->steps.dt[0]);
    assert_true(e->steps.accepted[e->steps.len - 1] == 1.0);
    assert_true(e->min_ess >= ARS_EVOLVE_MIN_ESS * 512.0);
    ars_evolve_free(e);
    tdvp_case_free(&c);
}

/* ars_vmc_tdvp_reweighted: at the parameters the samples were drawn at it is ars_vmc_tdvp (all
 * weights 1/n); at other parameters it is the TDVP derivative there, checked against every
 * configuration like the fresh one (4 sites), with an effective sample size below n. */
static void test_reweighted_samples_give_the_derivative_at_the_new_parameters(void **state) {
    (void)state;
    tdvp_case c;
    tdvp_case_init(&c, ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 0.8, 0.0, 0.0, 1, 0), 4,
                   ARS_TEST_SHORT ? 2048 : 16384, 1);
    const size_t P = c.v->P, n = c.v->set.n_samples;
    double *theta = malloc(P * sizeof(double)), *dot = malloc(P * sizeof(double));
    double *dot_rw = malloc(P * sizeof(double));
    assert_true(theta && dot && dot_rw);
    ars_vmc_get_params(c.v, theta);
    ars_vmc_tdvp_info info, info_rw;
    assert_int_equal(ars_vmc_tdvp(c.v, 5, 0, 1e-6, dot, &info), ARS_OK);
    assert_int_equal(ars_vmc_tdvp_reweighted(c.v, 0, 1e-6, dot_rw, &info_rw), ARS_OK);
    assert_allclose(dot_rw, dot, P, 1e-9, 1e-9);
    assert_true(fabs(info_rw.ess - (double)n) < 1e-9 * (double)n);
    assert_true(fabs(info_rw.estimate.energy - info.estimate.energy) < 1e-12);
    /* a finite step along the derivative, then the derivative there from the old samples */
    for (size_t k = 0; k < P; k++) {
        theta[k] += 0.05 * dot[k];
    }
    ars_vmc_set_params(c.v, theta);
    assert_int_equal(ars_vmc_tdvp_reweighted(c.v, 0, 1e-6, dot_rw, &info_rw), ARS_OK);
    printf("reweighted after a step of 0.05: ess %.1f of %zu, residual %.2e\n", info_rw.ess, n,
           info_rw.residual);
    assert_true(info_rw.ess < (double)n && info_rw.ess > 0.5 * (double)n);
    assert_true(exact_residual(&c, theta, dot_rw, 0, 1.0) < 0.01);
    assert_true(exact_residual(&c, theta, dot_rw, 0, -1.0) > 3.0);
    /* not the old derivative: that one is wrong at the new parameters */
    assert_true(exact_residual(&c, theta, dot, 0, 1.0) >
                10.0 * exact_residual(&c, theta, dot_rw, 0, 1.0));
    free(theta);
    free(dot);
    free(dot_rw);
    tdvp_case_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_integrator_converges_with_its_order),
        cmocka_unit_test(test_controller_grows_below_and_shrinks_above_the_tolerance),
        cmocka_unit_test(test_real_time_derivative_follows_the_schrodinger_equation),
        cmocka_unit_test(test_imaginary_time_derivative_descends),
        cmocka_unit_test(test_imaginary_time_reaches_the_tfim_ground_state),
        cmocka_unit_test(test_common_samples_leave_the_error_estimate_only_the_truncation_error),
        cmocka_unit_test(test_reweighted_stages_give_an_error_estimate_of_order_h4),
        cmocka_unit_test(test_reweighted_samples_give_the_derivative_at_the_new_parameters),
        cmocka_unit_test(
            test_a_reweighted_step_with_degenerate_weights_is_retried_with_half_the_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
