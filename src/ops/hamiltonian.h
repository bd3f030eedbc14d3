/*
 * hamiltonian: spin-1/2 chain Hamiltonians, their matrix elements, and fast local energies of an
 * ars_arnn wavefunction. Conventions in docs/hamiltonians.md.
 *
 * Pauli matrices throughout (sx, sy, sz with eigenvalues +-1). A configuration is a row of L
 * local indices s_t (0 = value -1 = down, 1 = value +1 = up); z_t = 2 s_t - 1.
 * Bonds: nearest neighbours (i, i+1), i = 0..L-2, plus (L-1, 0) when pbc; next-nearest
 * neighbours (i, i+2), i = 0..L-3, plus (L-2, 0) and (L-1, 1) when pbc.
 *
 *   tfim        H = -J sum_nn sz_i sz_j - h sum_i sx_i
 *   xxz         H =  J sum_nn (sx_i sx_j + sy_i sy_j + Delta sz_i sz_j)
 *   heisenberg  xxz with Delta = 1
 *   j1j2        H =  J sum_nn S_ij + J2 sum_nnn S_ij,  S_ij = sx_i sx_j + sy_i sy_j + sz_i sz_j
 *
 * Diagonal: H(s,s) = -J sum_nn z_i z_j (tfim), J Delta sum_nn z_i z_j (xxz),
 * J sum_nn z_i z_j + J2 sum_nnn z_i z_j (j1j2). Off-diagonal: sx_i flips site i with element -h
 * (tfim); (sx_i sx_j + sy_i sy_j)|..u_i..d_j..> = 2 |..d_i..u_j..>, so every antiparallel bond
 * flips both its spins with element 2J (2 J2 on next-nearest bonds); parallel bonds give nothing.
 *
 * Marshall sign (marshall_sign = 1): the wavefunction is psi(s) = sign(s) |psi_net(s)| with
 * sign(s) = (-1)^(number of up spins on odd sites). Flipping the set F of sites multiplies the
 * sign by (-1)^(number of odd sites in F): -1 for a nearest-neighbour pair, +1 for a
 * next-nearest pair. ars_ham_offdiag returns the element times that ratio, i.e. the elements of
 * S H S with S = diag(sign): a diagonal unitary, same spectrum. With pbc the wrap bond (L-1, 0)
 * joins two sites of the same parity when L is odd, so ars_ham_init rejects pbc + odd L +
 * marshall_sign.
 *
 * Local energies: E_loc(s) = sum_s' H(s,s') psi(s')/psi(s)
 *                          = H(s,s) + sum_flips mel * exp(log_psi(s') - log_psi(s)),
 * log_psi(s) = sum_t lpsi[t, s_t]. The network is causal with reach R (ars_arch_receptive_field):
 * the conditional at site t reads input sites t-R..t-1 only. A flip of sites {i, j} therefore
 * changes the terms t in [i, i+R] U [j, j+R] (clipped to the chain) and no others. Each such
 * segment [p, e] (the two intervals merged when they touch) is re-evaluated on the WINDOW of
 * sites [a, e], a = max(0, p - R): window outputs at sites >= p read only window inputs, and a
 * window starting at site 0 has the chain's own zero padding, so they equal the full network's
 * (bit for bit: same operations in the same order). Moreover every layer's input at sites < p
 * is unchanged, so only sites [p, e] of the window are computed: the layer inputs they read
 * before p (span_l = (K' - 1 + e_l) d_l sites for layer l) are copied from the sample's own
 * forward pass. Windows of all flips of a chunk run as batches (240 windows) through a shallow
 * copy of the network whose hilbert.size is the longest window W <= min(L, 3R + 2) (a merged
 * pair at distance <= R + 1 plus context; 2R + 3 suffices for the bonds of H), shorter
 * windows padded at the end (never read, by causality). Then
 *   log_psi(s') - log_psi(s) = sum_segments sum_{t=p..e} (lpsi'[t, s'_t] - lpsi[t, s_t]).
 * Cost per sample: one forward pass plus <= 2L + 2 windows of <= R + 3 computed sites:
 * O(L R), not O(L^2). Memory: the activations of a forward pass of B samples, their layer
 * inputs again in sample-major order (the windows' context), and the activations of 240
 * windows of W sites (ars_ham_ws_bytes).
 *
 * Sector ([system] total_sz, hilbert.h): psi is 0 outside it, so a flip that changes the total
 * Sz gives ratio 0 without any window (XXZ and J1-J2 flips never do; tfim is not allowed in a
 * sector). The windows apply the chain's mask: site a + u after the prefix sum of the flipped
 * configuration (the sample's prefix at a, plus the flips before a). A pair flip (i, j) with
 * separate segments also moves the prefix sums of the sites between them, e1 < t < j, by the
 * change at i: their network outputs are the sample's own, but their masks may change where
 * the sector binds, which is added term by term (O(j - i), only for the periodic bonds).
 *
 * Symmetrised networks (symmetry.h): log psi_sym(s') - log psi_sym(s) =
 *   (1/2) [logsumexp_g 2 log psi(g s') - logsumexp_g 2 log psi(g s)],
 * with log psi(g s') = log psi(g s) + the plain ratio of the flip mapped by g (sites g(i),
 * g(j)) on g s: the window method once per group element, |G| times the cost.
 */
#ifndef ARS_HAMILTONIAN_H
#define ARS_HAMILTONIAN_H

#include <stddef.h>
#include <stdint.h>

#include "ops/operator.h"

typedef enum { ARS_HAM_TFIM, ARS_HAM_XXZ, ARS_HAM_HEISENBERG, ARS_HAM_J1J2 } ars_ham_type;

/* A preset as the config gives it: the type and every coupling (those it does not use are
 * ignored). */
typedef struct ars_ham_preset {
    ars_ham_type type;
    double J, h, Delta, J2;
    int pbc, marshall_sign;
} ars_ham_preset;

typedef struct ars_ham {
    ars_ham_type type;
    int size;     /* L */
    double J;     /* tfim: the sz sz coupling; others: the nearest-neighbour coupling (J1) */
    double h;     /* tfim transverse field; 0 for the other types */
    double Delta; /* xxz anisotropy; 1 for heisenberg and j1j2, 0 for tfim */
    double J2;    /* j1j2 next-nearest coupling; 0 for the other types */
    int pbc;
    int marshall_sign;
} ars_ham;

/* Config-file name of a type ("tfim", "xxz", "heisenberg", "j1j2"); NULL if invalid. */
const char *ars_ham_type_name(ars_ham_type type);

/* The type named `name` into *type; returns 0, or -1 if no type has that name. */
int ars_ham_type_parse(const char *name, ars_ham_type *type);

/* Fills and validates H from a preset for `size` sites of spin two_s/2. Couplings that a type does
 * not use are stored as 0 (h, J2) or 1 (Delta of heisenberg and j1j2). Returns ARS_OK, or
 * ARS_STATUS_ECONFIG with one message: spin other than 1/2, size < 2, pbc with size < 3 (the wrap
 * bond would repeat a bond), j1j2 with size < 3 or pbc with size < 5 (next-nearest bonds would
 * repeat), pbc + odd size + marshall_sign, non-finite couplings, an unknown type. */
int ars_ham_init(ars_ham *H, const ars_ham_preset *preset, int size, int two_s);

/* The preset as an operator (ops/operator.h), in Pauli matrices:
 *   tfim        (-J) Z(i) Z(i+1),  (-h) X(i)
 *   xxz         J X(i) X(i+1),  J Y(i) Y(i+1),  (J Delta) Z(i) Z(i+1)
 *   j1j2        J X X, J Y Y, J Z Z on (i, i+1), then J2 X X, J2 Y Y, J2 Z Z on (i, i+2)
 * The caller owns it (ars_op_free). NULL with a message when out of memory. */
ars_op *ars_ham_operator(const ars_ham *H);

#endif
