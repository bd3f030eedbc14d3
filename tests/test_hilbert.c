/* Specification of the spin-chain Hilbert space: local states, index maps, enumeration, and the
 * feasible states of a fixed total-Sz sector. */
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

#include "space/hilbert.h"

static void test_local_states_are_twice_sz_ascending(void **state) {
    (void)state;
    ars_hilbert h;
    ars_hilbert_init(&h, 4, 1); /* spin-1/2 */
    assert_int_equal(h.local_size, 2);
    assert_int_equal(ars_hilbert_value(&h, 0), -1);
    assert_int_equal(ars_hilbert_value(&h, 1), 1);
    ars_hilbert_init(&h, 4, 2); /* spin-1 */
    assert_int_equal(h.local_size, 3);
    assert_int_equal(ars_hilbert_value(&h, 0), -2);
    assert_int_equal(ars_hilbert_value(&h, 1), 0);
    assert_int_equal(ars_hilbert_value(&h, 2), 2);
    ars_hilbert_init(&h, 4, 3); /* spin-3/2 */
    int want[4] = {-3, -1, 1, 3};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ars_hilbert_value(&h, i), want[i]);
    }
}

static void test_index_inverts_value_and_rejects_non_states(void **state) {
    (void)state;
    for (int two_s = 1; two_s <= 9; two_s++) {
        ars_hilbert h;
        ars_hilbert_init(&h, 3, two_s);
        for (int i = 0; i < h.local_size; i++) {
            assert_int_equal(ars_hilbert_index(&h, ars_hilbert_value(&h, i)), i);
        }
        assert_int_equal(ars_hilbert_index(&h, two_s + 2), -1);
        assert_int_equal(ars_hilbert_index(&h, -two_s - 2), -1);
        assert_int_equal(ars_hilbert_index(&h, two_s - 1), -1); /* wrong parity */
    }
}

static void test_enumeration_is_lexicographic_with_site0_most_significant(void **state) {
    (void)state;
    ars_hilbert h;
    ars_hilbert_init(&h, 3, 2);
    assert_int_equal(ars_hilbert_n_configs(&h, 1000), 27);
    uint8_t cfg[3];
    ars_hilbert_config(&h, cfg, 0);
    assert_memory_equal(cfg, ((uint8_t[]){0, 0, 0}), 3);
    ars_hilbert_config(&h, cfg, 1);
    assert_memory_equal(cfg, ((uint8_t[]){0, 0, 1}), 3);
    ars_hilbert_config(&h, cfg, 9 * 2 + 3 * 1 + 2);
    assert_memory_equal(cfg, ((uint8_t[]){2, 1, 2}), 3);
}

static void test_configuration_count_reports_overflow_as_zero(void **state) {
    (void)state;
    ars_hilbert h;
    ars_hilbert_init(&h, 70, 1);
    assert_int_equal(ars_hilbert_n_configs(&h, SIZE_MAX), 0); /* 2^70 does not fit */
    ars_hilbert_init(&h, 20, 1);
    assert_int_equal(ars_hilbert_n_configs(&h, 1000), 0);
    assert_int_equal(ars_hilbert_n_configs(&h, (size_t)1 << 20), (size_t)1 << 20);
}

static void test_indices_convert_to_int8_values(void **state) {
    (void)state;
    ars_hilbert h;
    ars_hilbert_init(&h, 3, 2);
    uint8_t idx[6] = {0, 1, 2, 2, 1, 0};
    int8_t val[6];
    ars_hilbert_to_values(&h, val, idx, 2);
    assert_memory_equal(val, ((int8_t[]){-2, 0, 2, 2, 0, -2}), 6);
}

/* Whether the values of sites t..L-1 can still sum to `need` (brute force over the remaining
 * sites). */
static int completable(const ars_hilbert *h, int t, int need) {
    if (t == h->size) {
        return need == 0;
    }
    for (int i = 0; i < h->local_size; i++) {
        if (completable(h, t + 1, need - ars_hilbert_value(h, i))) {
            return 1;
        }
    }
    return 0;
}

/* The feasible range at every site after every prefix is exactly the set of local states from
 * which the sector can still be completed (brute force), for spins 1/2 to 2, every reachable
 * sector; and a prefix that left the sector gets an empty range. */
static void test_feasible_states_are_those_that_can_complete_the_sector(void **state) {
    (void)state;
    int checked = 0;
    for (int two_s = 1; two_s <= 4; two_s++) {
        for (int L = 1; L <= 5; L++) {
            ars_hilbert h;
            ars_hilbert_init(&h, L, two_s);
            for (int M = -L * two_s - 2; M <= L * two_s + 2; M++) {
                const int ok = ars_hilbert_sector_reachable(&h, M);
                assert_int_equal(ok, abs(M) <= L * two_s && (L * two_s - M) % 2 == 0);
                if (!ok) {
                    continue;
                }
                ars_hilbert_set_sector(&h, M);
                const size_t n = ars_hilbert_n_configs(&h, 100000);
                for (size_t k = 0; k < n; k++) {
                    uint8_t cfg[8];
                    ars_hilbert_config(&h, cfg, k);
                    int m = 0;
                    for (int t = 0; t < L; t++) {
                        int lo, hi;
                        ars_hilbert_feasible(&h, t, m, &lo, &hi);
                        for (int i = 0; i < h.local_size; i++) {
                            const int want =
                                completable(&h, t + 1, M - m - ars_hilbert_value(&h, i));
                            if (want != (i >= lo && i <= hi)) {
                                fail_msg("spin %d/2, L %d, M %d, site %d, prefix sum %d: state %d "
                                         "is %sfeasible but the range is [%d, %d]",
                                         two_s, L, M, t, m, i, want ? "" : "not ", lo, hi);
                            }
                        }
                        checked++;
                        m += ars_hilbert_value(&h, cfg[t]);
                    }
                    /* In the sector exactly when its sum is M. */
                    assert_int_equal(ars_hilbert_in_sector(&h, cfg), m == M);
                }
                h.constrained = 0;
            }
        }
    }
    assert_true(checked > 10000);
}

static void test_unconstrained_spaces_allow_every_state(void **state) {
    (void)state;
    ars_hilbert h;
    ars_hilbert_init(&h, 6, 3);
    int lo, hi;
    ars_hilbert_feasible(&h, 2, 1000, &lo, &hi);
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 3);
    const uint8_t cfg[6] = {0, 0, 0, 0, 0, 0};
    assert_true(ars_hilbert_in_sector(&h, cfg));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_states_are_twice_sz_ascending),
        cmocka_unit_test(test_index_inverts_value_and_rejects_non_states),
        cmocka_unit_test(test_enumeration_is_lexicographic_with_site0_most_significant),
        cmocka_unit_test(test_configuration_count_reports_overflow_as_zero),
        cmocka_unit_test(test_indices_convert_to_int8_values),
        cmocka_unit_test(test_feasible_states_are_those_that_can_complete_the_sector),
        cmocka_unit_test(test_unconstrained_spaces_allow_every_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
