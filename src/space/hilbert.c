/* hilbert: local states of a spin-S chain, index <-> value maps and exact enumeration. */
#include "space/hilbert.h"

#include "core/ars_common.h"

void ars_hilbert_init(ars_hilbert *h, int size, int two_s) {
    ARS_ASSERT(size >= 1, "size %d", size);
    ARS_ASSERT(two_s >= 1 && two_s <= ARS_HILBERT_MAX_TWO_S, "two_s %d", two_s);
    h->size = size;
    h->two_s = two_s;
    h->local_size = two_s + 1;
    h->constrained = 0;
    h->two_m = 0;
}

int ars_hilbert_sector_reachable(const ars_hilbert *h, long two_m) {
    const long span = (long)h->size * h->two_s;
    return two_m >= -span && two_m <= span && (span - two_m) % 2 == 0;
}

void ars_hilbert_set_sector(ars_hilbert *h, int two_m) {
    ARS_ASSERT(ars_hilbert_sector_reachable(h, two_m), "sector %d/2 of %d sites of spin %d/2",
               two_m, h->size, h->two_s);
    h->constrained = 1;
    h->two_m = two_m;
}

void ars_hilbert_feasible(const ars_hilbert *h, int t, int m, int *lo, int *hi) {
    if (!h->constrained) {
        *lo = 0;
        *hi = h->local_size - 1;
        return;
    }
    /* v = 2i - 2S must satisfy |M - m - v| <= r 2S: i in [(M - m - (r-1) 2S)/2,
     * (M - m + (r+1) 2S)/2], both integers on a prefix of a reachable sector (parity). */
    const long r = (long)h->size - 1 - t, M = h->two_m;
    const long a = M - m - (r - 1) * h->two_s, b = M - m + (r + 1) * h->two_s;
    long l = a >= 0 ? (a + 1) / 2 : -((-a) / 2); /* ceil(a / 2) */
    long u = b >= 0 ? b / 2 : -((-b + 1) / 2);   /* floor(b / 2) */
    *lo = l > 0 ? (int)l : 0;
    *hi = u < h->local_size - 1 ? (int)u : h->local_size - 1;
}

int ars_hilbert_in_sector(const ars_hilbert *h, const uint8_t *cfg) {
    if (!h->constrained) {
        return 1;
    }
    long m = 0;
    for (int t = 0; t < h->size; t++) {
        m += ars_hilbert_value(h, cfg[t]);
    }
    return m == h->two_m;
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
