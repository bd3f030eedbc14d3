/* Specification of the spin-chain Hilbert space: local states, index maps, enumeration. */
#include "test_util.h"

#include <string.h>

#include "hilbert.h"

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_states_are_twice_sz_ascending),
        cmocka_unit_test(test_index_inverts_value_and_rejects_non_states),
        cmocka_unit_test(test_enumeration_is_lexicographic_with_site0_most_significant),
        cmocka_unit_test(test_configuration_count_reports_overflow_as_zero),
        cmocka_unit_test(test_indices_convert_to_int8_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
