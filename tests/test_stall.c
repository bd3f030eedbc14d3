/*
 * Specification of the stall signs (vmc/stall.h) on synthetic training logs: a flat energy far
 * above the reference is a plateau, a steadily improving one is not, nor is a flat one close to
 * the reference; without a reference the V-score decides; a collapse of distinct samples is
 * judged against the largest fraction possible; nothing is judged before 2 * window iterations,
 * and a zero threshold turns a sign off. A final state on a spike shows against the mean
 * variance of the last iterations.
 */
#include "test_util.h"

#include <math.h>
#include <stdlib.h>

#include "vmc/stall.h"

#define N_ITER 400
#define E0 (-10.0)

/* A log of n iterations with energy E0 + gap(t) + noise (deterministic), relative error,
 * V-score and distinct fraction as given. */
typedef struct fake_log {
    ars_vmc_log log;
    int64_t it[N_ITER];
    double e[N_ITER], rel[N_ITER], vs[N_ITER], df[N_ITER], var[N_ITER];
} fake_log;

static void fill(fake_log *f, size_t n, double gap0, double rate, double vscore, double distinct) {
    f->log = (ars_vmc_log){.len = n,
                           .cap = N_ITER,
                           .iteration = f->it,
                           .energy = f->e,
                           .relative_error = f->rel,
                           .vscore = f->vs,
                           .distinct_fraction = f->df,
                           .energy_variance = f->var};
    for (size_t t = 0; t < n; t++) {
        const double noise = 1e-3 * sin(1.7 * (double)t); /* bounded, zero-mean-ish scatter */
        f->it[t] = (int64_t)t;
        f->e[t] = E0 + gap0 * exp(-rate * (double)t) + noise;
        f->rel[t] = fabs((f->e[t] - E0) / E0);
        f->vs[t] = vscore;
        f->df[t] = distinct;
        f->var[t] = 0.01 * (1.0 + 0.1 * sin(0.9 * (double)t));
    }
}

/* The final state's variance against the mean of the last 50 iterations': iterations before the
 * window do not count, a short log says nothing, and heavy tails (most batches far below the
 * state's variance, a few far above) do not make a normal final state look like a spike. */
static void a_final_state_on_a_spike_shows_against_the_mean_variance(void **state) {
    (void)state;
    fake_log f;
    fill(&f, 200, 0.3, 0.05, 0.1, 1.0); /* variances 0.009 to 0.011, mean 0.01 */
    for (size_t t = 0; t < 150; t++) {
        f.var[t] = 5.0; /* early training: ignored */
    }
    const double r = ars_stall_final_ratio(&f.log, 50, 1.0);
    assert_true(r > 95.0 && r < 105.0);
    assert_true(ars_stall_final_ratio(&f.log, 50, 0.012) < 1.5);
    /* Heavy tails: 45 batches at 0.003, 5 at 0.4: the mean is 0.043, as the state's variance
     * that a final estimate of many samples sees (0.041); the median (0.003) is not. */
    for (size_t t = 150; t < 200; t++) {
        f.var[t] = (t % 10 == 0) ? 0.4 : 0.003;
    }
    assert_true(ars_stall_final_ratio(&f.log, 50, 0.041) < 1.0);
    assert_true(ars_stall_final_ratio(&f.log, 50, 2.05) > 40.0);
    f.log.len = 9;
    assert_true(isnan(ars_stall_final_ratio(&f.log, 50, 1.0)));
    f.log.len = 10; /* the 10 first iterations: all at 5.0 */
    assert_true(fabs(ars_stall_final_ratio(&f.log, 50, 1.0) - 0.2) < 1e-12);
}

static void plateau_far_above_the_reference_is_a_stall(void **state) {
    (void)state;
    fake_log f;
    fill(&f, 120, 0.3, 0.0, 0.1, 1.0); /* flat at relative error 3e-2 */
    const ars_stall_settings s = ars_stall_defaults(5e-3, 0.05, 1.0);
    ars_stall_report r;
    assert_int_equal(ars_stall_check(&f.log, E0, &s, &r), ARS_STALL_PLATEAU);
    assert_int_equal(r.iteration, 119);
    assert_true(fabs(r.level - 0.03) < 1e-3);
    assert_true(fabs(r.gap - 0.3) < 1e-2);
}

static void nothing_is_judged_before_two_windows(void **state) {
    (void)state;
    fake_log f;
    fill(&f, 99, 0.3, 0.0, 0.1, 1.0);
    const ars_stall_settings s = ars_stall_defaults(5e-3, 0.05, 1.0);
    ars_stall_report r;
    assert_int_equal(ars_stall_check(&f.log, E0, &s, &r), ARS_STALL_NONE);
}

static void steady_progress_is_not_a_stall(void **state) {
    (void)state;
    fake_log f;
    /* The gap shrinks 1% per iteration: 22% per half window, more than the 5% threshold. */
    fill(&f, 200, 3.0, 0.01, 0.1, 1.0);
    const ars_stall_settings s = ars_stall_defaults(5e-3, 0.05, 1.0);
    ars_stall_report r;
    assert_true(f.rel[199] > 5e-3);
    assert_int_equal(ars_stall_check(&f.log, E0, &s, &r), ARS_STALL_NONE);
    /* ... but 0.1% per iteration (2.5% per half window) is a stall. */
    fill(&f, 200, 3.0, 0.001, 0.1, 1.0);
    assert_int_equal(ars_stall_check(&f.log, E0, &s, &r), ARS_STALL_PLATEAU);
}

static void flat_close_to_the_reference_is_not_a_stall(void **state) {
    (void)state;
    fake_log f;
    fill(&f, 200, 0.02, 0.0, 0.1, 1.0); /* relative error 2e-3 < 5e-3 */
    ars_stall_settings s = ars_stall_defaults(5e-3, 0.05, 1.0);
    ars_stall_report r;
    assert_int_equal(ars_stall_check(&f.log, E0, &s, &r), ARS_STALL_NONE);
    s.rel_error = 1e-3; /* a stricter threshold sees it */
    assert_int_equal(ars_stall_check(&f.log, E0, &s, &r), ARS_STALL_PLATEAU);
    s.rel_error = 0.0; /* off */
    assert_int_equal(ars_stall_check(&f.log, E0, &s, &r), ARS_STALL_NONE);
}

static void without_a_reference_the_vscore_decides(void **state) {
    (void)state;
    fake_log f;
    const ars_stall_settings s = ars_stall_defaults(5e-3, 0.05, 1.0);
    ars_stall_report r;
    fill(&f, 200, 0.3, 0.0, 0.2, 1.0);
    assert_int_equal(ars_stall_check(&f.log, NAN, &s, &r), ARS_STALL_PLATEAU);
    assert_true(isnan(r.gap));
    assert_true(fabs(r.level - 0.2) < 1e-12);
    fill(&f, 200, 0.3, 0.0, 0.01, 1.0); /* a good V-score: converged, not stalled */
    assert_int_equal(ars_stall_check(&f.log, NAN, &s, &r), ARS_STALL_NONE);
    /* Without a reference only a drop within the noise is flat: slow progress is not. */
    fill(&f, 200, 3.0, 0.001, 0.2, 1.0);
    assert_int_equal(ars_stall_check(&f.log, NAN, &s, &r), ARS_STALL_NONE);
}

static void collapse_is_judged_against_the_largest_possible_fraction(void **state) {
    (void)state;
    fake_log f;
    ars_stall_report r;
    fill(&f, 10, 0.3, 0.0, 0.1, 0.01);
    ars_stall_settings s = ars_stall_defaults(5e-3, 0.05, 1.0);
    assert_int_equal(ars_stall_check(&f.log, E0, &s, &r), ARS_STALL_COLLAPSE);
    assert_true(fabs(r.level - 0.01) < 1e-15);
    /* An 8-site chain with 4096 samples: at most 256 / 4096 distinct; 1% is then 16% of it. */
    s = ars_stall_defaults(5e-3, 0.05, 256.0 / 4096.0);
    assert_int_equal(ars_stall_check(&f.log, E0, &s, &r), ARS_STALL_NONE);
    fill(&f, 10, 0.3, 0.0, 0.1, 0.002); /* 13 states of 256 */
    assert_int_equal(ars_stall_check(&f.log, E0, &s, &r), ARS_STALL_COLLAPSE);
    s.distinct = 0.0;
    assert_int_equal(ars_stall_check(&f.log, E0, &s, &r), ARS_STALL_NONE);
}

static void an_empty_log_shows_nothing(void **state) {
    (void)state;
    const ars_vmc_log log = {0};
    const ars_stall_settings s = ars_stall_defaults(5e-3, 0.05, 1.0);
    ars_stall_report r;
    assert_int_equal(ars_stall_check(&log, E0, &s, &r), ARS_STALL_NONE);
    assert_string_equal(ars_stall_name(ARS_STALL_PLATEAU), "plateau");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plateau_far_above_the_reference_is_a_stall),
        cmocka_unit_test(nothing_is_judged_before_two_windows),
        cmocka_unit_test(steady_progress_is_not_a_stall),
        cmocka_unit_test(flat_close_to_the_reference_is_not_a_stall),
        cmocka_unit_test(without_a_reference_the_vscore_decides),
        cmocka_unit_test(collapse_is_judged_against_the_largest_possible_fraction),
        cmocka_unit_test(an_empty_log_shows_nothing),
        cmocka_unit_test(a_final_state_on_a_spike_shows_against_the_mean_variance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
