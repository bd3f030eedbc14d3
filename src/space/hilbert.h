/*
 * hilbert: the Hilbert space of a chain of `size` spins of spin S.
 *
 * Local states are the values 2*Sz in ascending order (NetKet's Spin with
 * inverted_ordering=True orders its values so, but there index 0 is up): spin-1/2 has
 * [-1, +1], spin-1 [-2, 0, 2], spin-3/2 [-3, -1, 1, 3]; local_size D = 2S + 1. Inside arsampler
 * a configuration is stored as local INDICES (uint8, 0..D-1, index i has value 2i - (D-1));
 * values appear only at the boundaries (network input encoding, HDF5 output).
 *
 * Configurations are enumerated in lexicographic order with site 0 the most significant digit.
 *
 * Sector (optional, [system] total_sz): the configurations whose values sum to a fixed
 * M = 2 * total_sz. A sector is reachable when |M| <= L * 2S and M has the parity of L * 2S.
 * Autoregressive networks stay exactly normalised inside it by prefix-feasibility masking: with
 * m_t = sum_{u<t} v_u the prefix sum before site t and r_t = L - 1 - t the sites after it, the
 * value v is feasible at site t iff |M - m_t - v| <= r_t * 2S (the remaining sites can still
 * make up the difference). The feasible values form a contiguous range of local indices
 * [lo, hi] (ars_hilbert_feasible), never empty on a prefix of a sector configuration; every
 * prefix of feasible choices extends to a configuration of the sector, and every configuration
 * of the sector is reached that way.
 */
#ifndef ARS_HILBERT_H
#define ARS_HILBERT_H

#include <stddef.h>
#include <stdint.h>

/* Largest 2S accepted: values must fit in int8. */
#define ARS_HILBERT_MAX_TWO_S 126

typedef struct ars_hilbert {
    int size;        /* number of sites L */
    int two_s;       /* 2S, at least 1 */
    int local_size;  /* D = 2S + 1 */
    int constrained; /* 1: only the sector sum_t v_t = two_m */
    int two_m;       /* M = 2 * total_sz (when constrained) */
} ars_hilbert;

/* Fills `h` for `size` sites of spin two_s/2, unconstrained. */
void ars_hilbert_init(ars_hilbert *h, int size, int two_s);

/* Whether M = two_m is a reachable sector of h (|M| <= L 2S, parity of L 2S): 1 or 0. */
int ars_hilbert_sector_reachable(const ars_hilbert *h, long two_m);

/* Restricts h to the sector M = two_m (asserted reachable). */
void ars_hilbert_set_sector(ars_hilbert *h, int two_m);

/* The feasible local indices [*lo, *hi] at site t after a prefix with value sum m (see above);
 * [0, D-1] when h is unconstrained. *lo > *hi when the prefix already left the sector. */
void ars_hilbert_feasible(const ars_hilbert *h, int t, int m, int *lo, int *hi);

/* Whether a configuration (L local indices) lies in h's sector (always 1 if unconstrained). */
int ars_hilbert_in_sector(const ars_hilbert *h, const uint8_t *cfg);

/* The value 2*Sz of local index i. */
int ars_hilbert_value(const ars_hilbert *h, int index);

/* The local index of value v, or -1 if v is not a local state. */
int ars_hilbert_index(const ars_hilbert *h, int value);

/* Number of configurations D^L, or 0 if it exceeds `limit` (use for exact enumeration). */
size_t ars_hilbert_n_configs(const ars_hilbert *h, size_t limit);

/* Writes configuration number k (lexicographic, site 0 most significant) as local indices. */
void ars_hilbert_config(const ars_hilbert *h, uint8_t *cfg, size_t k);

/* Converts n configurations of local indices (n, L) to int8 values (n, L). */
void ars_hilbert_to_values(const ars_hilbert *h, int8_t *values, const uint8_t *indices, size_t n);

#endif
