/*
 * Specification of the symmetry groups of symmetrize (spin flip, reflection, translations):
 * names, orders and element indices, the action on configurations against its definition,
 * composition and closure, the map of changed sites, and a log-sum-exp that never gives NaN.
 */
#include "test_util.h"

#include <math.h>
#include <string.h>

#include "space/symmetry.h"

static const char *const canonical[] = {"none",
                                        "spin_flip",
                                        "reflection",
                                        "both",
                                        "translation",
                                        "spin_flip, translation",
                                        "reflection, translation",
                                        "spin_flip, reflection, translation"};

/* g s by the definition: (g s)_{sigma_g(t)} = value_g(s_t), sigma_g(t) = (r ? L-1-t : t) + k. */
static void apply_by_definition(uint8_t *out, const uint8_t *s, int L, int D, unsigned g) {
    const int k = (int)(g >> 2);
    for (int t = 0; t < L; t++) {
        const int u = (g & 2u) ? L - 1 - t : t;
        out[(u + k) % L] = (uint8_t)((g & 1u) ? D - 1 - s[t] : s[t]);
    }
}

/* The eight settings have their canonical names (the config dump's) and orders 1, 2, 2, 4, L,
 * 2L, 2L, 4L; element 0 is the identity, and index and element are inverse. The settings
 * without translation keep the elements they always had (bit masks, shift 0). */
static void test_names_orders_and_elements(void **state) {
    (void)state;
    const int L = 6;
    const int orders[] = {1, 2, 2, 4, L, 2 * L, 2 * L, 4 * L};
    for (int k = 0; k <= ARS_SYM_ALL; k++) {
        ars_sym sym;
        assert_int_equal(ars_sym_parse(canonical[k], &sym), 0);
        assert_int_equal(sym, k);
        assert_string_equal(ars_sym_name(sym), canonical[k]);
        assert_int_equal(ars_sym_order(sym, L), orders[k]);
        assert_int_equal(ars_sym_element(sym, L, 0), 0); /* element 0 is the identity */
        for (int e = 0; e < orders[k]; e++) {
            const unsigned g = ars_sym_element(sym, L, e);
            assert_int_equal(g & 3u & ~(unsigned)sym, 0);
            assert_int_equal(ars_sym_index(sym, L, g), e);
            if (!(sym & ARS_SYM_TRANSLATION)) {
                assert_int_equal(g, (unsigned)e == 0 ? 0u : g & 3u);
            }
        }
    }
    ars_sym sym;
    assert_int_equal(ars_sym_parse("rotation", &sym), -1);
    assert_int_equal(ars_sym_parse("translation, spin_flip", &sym), -1); /* not canonical */
    assert_null(ars_sym_name((ars_sym)8));
    assert_int_equal(ars_sym_element(ARS_SYM_SPIN_FLIP, L, 1), 1u);
    assert_int_equal(ars_sym_element(ARS_SYM_REFLECTION, L, 1), 2u);
    assert_int_equal(ars_sym_element(ARS_SYM_BOTH, L, 3), 3u);
    assert_int_equal(ars_sym_element(ARS_SYM_ALL, L, 4 * 2 + 3), 3u | 2u << 2);
}

/* Every element acts as its definition says, in place and out of place; applying h then g is
 * applying ars_sym_compose(g, h), which is again in the group (closure), for every setting and
 * chains of 1..7 sites. */
static void test_group_action_and_composition(void **state) {
    (void)state;
    const int D = 3;
    for (int L = 1; L <= 7; L++) {
        uint8_t s[2 * 7], a[2 * 7], b[2 * 7], c[2 * 7];
        for (int t = 0; t < 2 * L; t++) {
            s[t] = (uint8_t)((t * 5 + 1 + t * t) % D);
        }
        for (int sym = 0; sym <= ARS_SYM_ALL; sym++) {
            const int G = ars_sym_order((ars_sym)sym, L);
            for (int e = 0; e < G; e++) {
                const unsigned g = ars_sym_element((ars_sym)sym, L, e);
                ars_sym_apply(a, s, 2, L, D, g);
                for (int r = 0; r < 2; r++) {
                    apply_by_definition(c, s + r * L, L, D, g);
                    assert_memory_equal(a + r * L, c, (size_t)L);
                    for (int t = 0; t < L; t++) {
                        assert_int_equal(a[r * L + ars_sym_site(g, L, t)],
                                         ars_sym_value(g, D, s[r * L + t]));
                    }
                }
                memcpy(b, s, (size_t)2 * L);
                ars_sym_apply(b, b, 2, L, D, g); /* in place */
                assert_memory_equal(a, b, (size_t)2 * L);
                for (int f = 0; f < G; f++) {
                    const unsigned h = ars_sym_element((ars_sym)sym, L, f);
                    const unsigned gh = ars_sym_compose(g, h, L);
                    const int idx = ars_sym_index((ars_sym)sym, L, gh); /* asserts membership */
                    assert_true(idx >= 0 && idx < G);
                    ars_sym_apply(b, s, 2, L, D, h);
                    ars_sym_apply(b, b, 2, L, D, g);
                    ars_sym_apply(c, s, 2, L, D, gh);
                    assert_memory_equal(b, c, (size_t)2 * L);
                }
            }
        }
    }
    /* The translation by one site: (T s)_t = s_{t-1 mod L}. */
    const uint8_t s5[5] = {0, 1, 1, 0, 1}, t5[5] = {1, 0, 1, 1, 0};
    uint8_t o[5];
    ars_sym_apply(o, s5, 1, 5, 2, 1u << 2);
    assert_memory_equal(o, t5, 5);
}

/* Changing sites of s and then applying g equals applying g and changing the mapped sites, with
 * the mapped values (ars_sym_change, sites kept ascending), for every element of the largest
 * group. */
static void test_flipped_sites_map_with_the_element(void **state) {
    (void)state;
    const int L = 9;
    uint8_t s[9] = {0, 1, 1, 0, 1, 0, 0, 0, 1}, x[9], gx[9], gs[9];
    for (int e = 0; e < ars_sym_order(ARS_SYM_ALL, L); e++) {
        const unsigned g = ars_sym_element(ARS_SYM_ALL, L, e);
        for (int i = 0; i < L; i++) {
            for (int j = i + 1; j < L; j++) {
                memcpy(x, s, sizeof s);
                x[i] ^= 1;
                x[j] ^= 1;
                ars_change c = {.n = 2};
                c.site[0] = i;
                c.site[1] = j;
                c.value[0] = x[i];
                c.value[1] = x[j];
                ars_change gc;
                ars_sym_change(&gc, &c, g, L, 2);
                ars_sym_apply(gx, x, 1, L, 2, g);
                ars_sym_apply(gs, s, 1, L, 2, g);
                assert_int_equal(gc.n, 2);
                assert_true(gc.site[0] < gc.site[1]);
                for (int q = 0; q < 2; q++) {
                    gs[gc.site[q]] = gc.value[q];
                }
                assert_memory_equal(gx, gs, sizeof s);
            }
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
    /* The scaled form gives the bits of the unscaled form on scaled values. */
    const double half[3] = {500.0, 500.0, 499.5};
    assert_true(ars_logsumexp_scaled(half, 3, 1, 2.0) == ars_logsumexp(big, 3, 1));
    assert_true(ars_logsumexp_scaled(some, 2, 2, 2.0) == 14.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_orders_and_elements),
        cmocka_unit_test(test_group_action_and_composition),
        cmocka_unit_test(test_flipped_sites_map_with_the_element),
        cmocka_unit_test(test_logsumexp_is_stable_and_never_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
