/*
 * hilbert: the Hilbert space of a chain of `size` spins of spin S.
 *
 * Local states are the values 2*Sz in ascending order, as in NetKet's Spin: spin-1/2 has
 * [-1, +1], spin-1 [-2, 0, 2], spin-3/2 [-3, -1, 1, 3]; local_size D = 2S + 1. Inside arsampler
 * a configuration is stored as local INDICES (uint8, 0..D-1, index i has value 2i - (D-1));
 * values appear only at the boundaries (network input encoding, HDF5 output).
 *
 * Configurations are enumerated in lexicographic order with site 0 the most significant digit.
 */
#ifndef ARS_HILBERT_H
#define ARS_HILBERT_H

#include <stddef.h>
#include <stdint.h>

/* Largest 2S accepted: values must fit in int8. */
#define ARS_HILBERT_MAX_TWO_S 126

typedef struct ars_hilbert {
    int size;       /* number of sites L */
    int two_s;      /* 2S, at least 1 */
    int local_size; /* D = 2S + 1 */
} ars_hilbert;

/* Fills `h` for `size` sites of spin two_s/2. */
void ars_hilbert_init(ars_hilbert *h, int size, int two_s);

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
