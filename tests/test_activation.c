/*
 * Specification of the vectorised exponentials and activations: within a few ulp of libm over
 * their whole domains (dense grids plus random points), right special values (inf, NaN,
 * subnormal results), and the activation formulas of jax.nn.
 */
#include "test_util.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "nn/activation.h"
#include "core/ars_common.h"

/* Distance in units in the last place between two finite doubles of any sign. */
static double ulp_diff(double a, double b) {
    if (a == b) {
        return 0.0;
    }
    int64_t ia, ib;
    memcpy(&ia, &a, 8);
    memcpy(&ib, &b, 8);
    if (ia < 0) {
        ia = INT64_MIN - ia;
    }
    if (ib < 0) {
        ib = INT64_MIN - ib;
    }
    if ((ia < 0) != (ib < 0)) {
        return 1e300; /* opposite signs: far apart */
    }
    /* Subtract as integers: converting each to double first would round to 1024 ulp. */
    int64_t d = ia - ib;
    return d < 0 ? -(double)d : (double)d;
}

static double ulp_diff_f(float a, float b) {
    if (a == b) {
        return 0.0;
    }
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    if (ia < 0) {
        ia = INT32_MIN - ia;
    }
    if (ib < 0) {
        ib = INT32_MIN - ib;
    }
    return fabs((double)ia - (double)ib); /* exact: int32 values fit a double */
}

/* Grid of n points on [lo, hi] plus n uniform random points on it. */
static double *points(double lo, double hi, size_t n) {
    double *x = malloc(2 * n * sizeof(double));
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 31);
    for (size_t i = 0; i < n; i++) {
        x[i] = lo + (hi - lo) * (double)i / (double)(n - 1);
        x[n + i] = lo + (hi - lo) * gsl_rng_uniform(r);
    }
    gsl_rng_free(r);
    return x;
}

typedef void (*vfun)(double *, const double *, size_t);
typedef void (*vfun_f)(float *, const float *, size_t);

static void check_double(vfun f, double (*ref)(double), double lo, double hi, double max_ulp,
                         const char *name) {
    const size_t n = 200000;
    double *x = points(lo, hi, n);
    double *y = malloc(2 * n * sizeof(double));
    f(y, x, 2 * n);
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < 2 * n; i++) {
        double d = ulp_diff(y[i], ref(x[i]));
        if (d > worst) {
            worst = d;
            at = i;
        }
    }
    if (worst > max_ulp) {
        fail_msg("%s(%.17g) = %.17g, libm %.17g: %.0f ulp", name, x[at], y[at], ref(x[at]), worst);
    }
    free(x);
    free(y);
}

static void check_float(vfun_f f, double (*ref)(double), double lo, double hi, double max_ulp,
                        const char *name) {
    const size_t n = 200000;
    double *xd = points(lo, hi, n);
    float *x = malloc(2 * n * sizeof(float));
    float *y = malloc(2 * n * sizeof(float));
    for (size_t i = 0; i < 2 * n; i++) {
        x[i] = (float)xd[i];
    }
    f(y, x, 2 * n);
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < 2 * n; i++) {
        double d = ulp_diff_f(y[i], (float)ref((double)x[i]));
        if (d > worst) {
            worst = d;
            at = i;
        }
    }
    if (worst > max_ulp) {
        fail_msg("%s(%.9g) = %.9g, libm %.9g: %.0f ulp", name, (double)x[at], (double)y[at],
                 ref((double)x[at]), worst);
    }
    free(xd);
    free(x);
    free(y);
}

static void test_exp_is_within_2_ulp_of_libm_including_subnormals(void **state) {
    (void)state;
    check_double(ars_vexp, exp, -745.0, 709.7, 2.0, "exp");
    check_double(ars_vexp, exp, -2.0, 2.0, 2.0, "exp");
    check_float(ars_vexp_f, exp, -103.0, 88.7, 2.0, "expf");
}

static void test_expm1_is_within_2_ulp_of_libm(void **state) {
    (void)state;
    check_double(ars_vexpm1, expm1, -60.0, 0.0, 2.0, "expm1");
    check_double(ars_vexpm1, expm1, -1e-3, 1e-3, 2.0, "expm1");
    check_double(ars_vexpm1, expm1, 0.0, 700.0, 3.0, "expm1");
    check_float(ars_vexpm1_f, expm1, -30.0, 0.0, 2.0, "expm1f");
    check_float(ars_vexpm1_f, expm1, -1e-3f, 1e-3f, 2.0, "expm1f");
    check_float(ars_vexpm1_f, expm1, 0.0, 88.0, 3.0, "expm1f");
}

static void test_tanh_is_within_4_ulp_of_libm(void **state) {
    (void)state;
    check_double(ars_vtanh, tanh, -25.0, 25.0, 4.0, "tanh");
    check_double(ars_vtanh, tanh, -1e-4, 1e-4, 4.0, "tanh");
    check_float(ars_vtanh_f, tanh, -12.0, 12.0, 4.0, "tanhf");
}

static void test_special_values(void **state) {
    (void)state;
    double x[8] = {INFINITY, -INFINITY, NAN, 0.0, -0.0, 800.0, -800.0, -745.1};
    double y[8];
    ars_vexp(y, x, 8);
    assert_true(isinf(y[0]) && y[0] > 0);
    assert_true(y[1] == 0.0);
    assert_true(isnan(y[2]));
    assert_true(y[3] == 1.0 && y[4] == 1.0);
    assert_true(isinf(y[5]));
    assert_true(y[6] == 0.0);
    assert_true(y[7] > 0.0 && y[7] < DBL_MIN); /* subnormal, as exp(-745.1) = 4.9e-324 */
    ars_vexpm1(y, x, 8);
    assert_true(y[1] == -1.0);
    assert_true(isnan(y[2]));
    assert_true(y[3] == 0.0);
    assert_true(y[6] == -1.0);
    ars_vtanh(y, x, 8);
    assert_true(y[0] == 1.0 && y[1] == -1.0 && isnan(y[2]) && y[3] == 0.0);
    /* A NaN never turns into a number: a diverged network must stay visible. */
    for (int a = 0; a <= ARS_ACTIVATION_IDENTITY; a++) {
        double nan_in = NAN, out;
        float nan_f = NAN, out_f;
        ars_activation_apply(&out, &nan_in, 1, (ars_activation)a);
        ars_activation_apply_f(&out_f, &nan_f, 1, (ars_activation)a);
        assert_true(isnan(out));
        assert_true(isnan(out_f));
    }
}

static double selu_ref(double x) {
    return x > 0 ? 1.0507009873554805 * x : 1.0507009873554805 * 1.6732632423543772 * expm1(x);
}
static double gelu_ref(double x) {
    return 0.5 * x * (1.0 + tanh(0.79788456080286535587989211986876 * (x + 0.044715 * x * x * x)));
}
static double relu_ref(double x) {
    return x > 0 ? x : 0.0;
}
static double identity_ref(double x) {
    return x;
}

static void test_activations_follow_the_jax_formulas(void **state) {
    (void)state;
    const ars_activation acts[5] = {ARS_ACTIVATION_SELU, ARS_ACTIVATION_TANH, ARS_ACTIVATION_RELU,
                                    ARS_ACTIVATION_GELU, ARS_ACTIVATION_IDENTITY};
    double (*refs[5])(double) = {selu_ref, tanh, relu_ref, gelu_ref, identity_ref};
    const size_t n = 20001;
    double *x = points(-12.0, 12.0, n);
    double *y = malloc(2 * n * sizeof(double));
    double *ref = malloc(2 * n * sizeof(double));
    float *xf = malloc(2 * n * sizeof(float));
    float *yf = malloc(2 * n * sizeof(float));
    double *yfd = malloc(2 * n * sizeof(double));
    for (int a = 0; a < 5; a++) {
        for (size_t i = 0; i < 2 * n; i++) {
            ref[i] = refs[a](x[i]);
            xf[i] = (float)x[i];
        }
        ars_activation_apply(y, x, 2 * n, acts[a]);
        assert_allclose(y, ref, 2 * n, 1e-15, 1e-14);
        ars_activation_apply_f(yf, xf, 2 * n, acts[a]);
        for (size_t i = 0; i < 2 * n; i++) {
            yfd[i] = yf[i];
            ref[i] = refs[a]((double)xf[i]);
        }
        assert_allclose(yfd, ref, 2 * n, 1e-6, 1e-6);
        /* In place works too. */
        memcpy(y, x, 2 * n * sizeof(double));
        ars_activation_apply(y, y, 2 * n, acts[a]);
        for (size_t i = 0; i < 2 * n; i++) {
            ref[i] = refs[a](x[i]);
        }
        assert_allclose(y, ref, 2 * n, 1e-15, 1e-14);
    }
    free(x);
    free(y);
    free(ref);
    free(xf);
    free(yf);
    free(yfd);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp_is_within_2_ulp_of_libm_including_subnormals),
        cmocka_unit_test(test_expm1_is_within_2_ulp_of_libm),
        cmocka_unit_test(test_tanh_is_within_4_ulp_of_libm),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_activations_follow_the_jax_formulas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
