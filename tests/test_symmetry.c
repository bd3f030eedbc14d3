/*
 * Specification of the symmetry group of symmetrize: elements as bit masks that compose by XOR,
 * their action on configurations, the map of flipped sites, and a log-sum-exp that never gives
 * NaN.
 */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "space/symmetry.h"

static void test_names_orders_and_elements(void **state) {
    (void)state;
    const char *names[] = {"none", "spin_flip", "reflection", "both"};
    const int orders[] = {1, 2, 2, 4};
    for (int k = 0; k < 4; k++) {
        ars_sym sym;
        assert_int_equal(ars_sym_parse(names[k], &sym), 0);
        assert_int_equal(sym, k);
        assert_string_equal(ars_sym_name(sym), names[k]);
        assert_int_equal(ars_sym_order(sym), orders[k]);
        assert_int_equal(ars_sym_element(sym, 0), 0); /* element 0 is the identity */
        for (int e = 0; e < orders[k]; e++) {
            const unsigned g = ars_sym_element(sym, e);
            assert_int_equal(g & ~(unsigned)sym, 0);
            assert_int_equal(ars_sym_index(sym, g), e);
        }
    }
    ars_sym sym;
    assert_int_equal(ars_sym_parse("translation", &sym), -1);
    assert_null(ars_sym_name((ars_sym)7));
    assert_int_equal(ars_sym_element(ARS_SYM_SPIN_FLIP, 1), 1u);
    assert_int_equal(ars_sym_element(ARS_SYM_REFLECTION, 1), 2u);
}

/* F s flips every value, R s reverses the chain; both are involutions, they commute, and
 * applying g then h is applying g XOR h. In place and out of place agree. */
static void test_group_action_on_configurations(void **state) {
    (void)state;
    const int D = 3;
    for (int L = 1; L <= 7; L++) {
        uint8_t s[2 * 7], a[2 * 7], b[2 * 7], c[2 * 7];
        for (int t = 0; t < 2 * L; t++) {
            s[t] = (uint8_t)((t * 5 + 1) % D);
        }
        ars_sym_apply(a, s, 2, L, D, 1u);
        for (int t = 0; t < 2 * L; t++) {
            assert_int_equal(a[t], D - 1 - s[t]);
        }
        ars_sym_apply(a, s, 2, L, D, 2u);
        for (int r = 0; r < 2; r++) {
            for (int t = 0; t < L; t++) {
                assert_int_equal(a[r * L + t], s[r * L + L - 1 - t]);
            }
        }
        for (unsigned g = 0; g < 4; g++) {
            for (unsigned h = 0; h < 4; h++) {
                ars_sym_apply(a, s, 2, L, D, g);
                ars_sym_apply(b, a, 2, L, D, h);
                ars_sym_apply(c, s, 2, L, D, g ^ h);
                assert_memory_equal(b, c, (size_t)2 * L);
            }
            memcpy(b, s, (size_t)2 * L);
            ars_sym_apply(b, b, 2, L, D, g); /* in place */
            ars_sym_apply(a, s, 2, L, D, g);
            assert_memory_equal(a, b, (size_t)2 * L);
        }
    }
}

/* Flipping site i of s and then applying g equals applying g and flipping site g(i). */
static void test_flipped_sites_map_with_the_element(void **state) {
    (void)state;
    const int L = 9;
    uint8_t s[9] = {0, 1, 1, 0, 1, 0, 0, 0, 1}, x[9], gx[9], gs[9];
    for (unsigned g = 0; g < 4; g++) {
        for (int i = 0; i < L; i++) {
            memcpy(x, s, sizeof s);
            x[i] ^= 1;
            ars_sym_apply(gx, x, 1, L, 2, g);
            ars_sym_apply(gs, s, 1, L, 2, g);
            gs[ars_sym_site(g, L, i)] ^= 1;
            assert_memory_equal(gx, gs, sizeof s);
        }
    }
}

static void test_logsumexp_is_stable_and_never_nan(void **state) {
    (void)state;
    const double ninf = -(double)INFINITY;
    const double big[3] = {1000.0, 1000.0, 999.0};
    assert_true(fabs(ars_logsumexp(big, 3, 1) - (1000.0 + log(2.0 + exp(-1.0)))) < 1e-12);
    const double some[4] = {ninf, -2.0, 7.0, ninf};
    assert_true(ars_logsumexp(some, 2, 2) == 7.0); /* -inf and 7 */
    assert_true(fabs(ars_logsumexp(some, 4, 1) - (7.0 + log(1.0 + exp(-9.0)))) < 1e-12);
    const double none[2] = {ninf, ninf};
    const double r = ars_logsumexp(none, 2, 1);
    assert_true(isinf(r) && r < 0);
    assert_true(ars_logsumexp(big, 1, 1) == 1000.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_orders_and_elements),
        cmocka_unit_test(test_group_action_on_configurations),
        cmocka_unit_test(test_flipped_sites_map_with_the_element),
        cmocka_unit_test(test_logsumexp_is_stable_and_never_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
