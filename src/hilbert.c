/* hilbert: local states of a spin-S chain, index <-> value maps and exact enumeration. */
#include "hilbert.h"

#include "ars_common.h"

void ars_hilbert_init(ars_hilbert *h, int size, int two_s) {
    ARS_ASSERT(size >= 1, "size %d", size);
    ARS_ASSERT(two_s >= 1 && two_s <= ARS_HILBERT_MAX_TWO_S, "two_s %d", two_s);
    h->size = size;
    h->two_s = two_s;
    h->local_size = two_s + 1;
}

int ars_hilbert_value(const ars_hilbert *h, int index) {
    return 2 * index - h->two_s;
}

int ars_hilbert_index(const ars_hilbert *h, int value) {
    int twice = value + h->two_s;
    if (twice < 0 || twice % 2 != 0 || twice / 2 >= h->local_size) {
        return -1;
    }
    return twice / 2;
}

size_t ars_hilbert_n_configs(const ars_hilbert *h, size_t limit) {
    size_t n = 1;
    for (int t = 0; t < h->size; t++) {
        if (n > limit / (size_t)h->local_size) {
            return 0;
        }
        n *= (size_t)h->local_size;
    }
    return n <= limit ? n : 0;
}

void ars_hilbert_config(const ars_hilbert *h, uint8_t *cfg, size_t k) {
    for (int t = h->size - 1; t >= 0; t--) {
        cfg[t] = (uint8_t)(k % (size_t)h->local_size);
        k /= (size_t)h->local_size;
    }
}

void ars_hilbert_to_values(const ars_hilbert *h, int8_t *values, const uint8_t *indices, size_t n) {
    size_t count = n * (size_t)h->size;
    for (size_t i = 0; i < count; i++) {
        values[i] = (int8_t)(2 * (int)indices[i] - h->two_s);
    }
}
