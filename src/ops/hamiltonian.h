/*
 * hamiltonian: the preset spin-1/2 chain Hamiltonians of [hamiltonian] type = tfim | xxz |
 * heisenberg | j1j2, validated and built as term lists of the generic operator
 * (ops/operator.h). Conventions in docs/hamiltonians.md.
 *
 * Pauli matrices throughout (X, Y, Z with eigenvalues +-1). A configuration is a row of L
 * local indices s_t (0 = value -1 = down, 1 = value +1 = up); z_t = 2 s_t - 1.
 * Bonds: nearest neighbours (i, i+1), i = 0..L-2, plus (L-1, 0) when pbc; next-nearest
 * neighbours (i, i+2), i = 0..L-3, plus (L-2, 0) and (L-1, 1) when pbc.
 *
 *   tfim        H = -J sum_nn Z_i Z_j - h sum_i X_i
 *   xxz         H =  J sum_nn (X_i X_j + Y_i Y_j + Delta Z_i Z_j)
 *   heisenberg  xxz with Delta = 1
 *   j1j2        H =  J sum_nn S_ij + J2 sum_nnn S_ij,  S_ij = X_i X_j + Y_i Y_j + Z_i Z_j
 *
 * As operators (ars_ham_operator) the diagonal is H(s,s) = -J sum_nn z_i z_j (tfim),
 * J Delta sum_nn z_i z_j (xxz), J sum_nn z_i z_j + J2 sum_nnn z_i z_j (j1j2), each sum exact;
 * X_i flips site i with element -h (tfim); X_i X_j + Y_i Y_j merge into one exchange element 2J
 * (2 J2 on next-nearest bonds) on antiparallel bonds and cancel on parallel ones. These are the
 * elements, in the order, that arsampler has always used, so results keep their bits.
 *
 * Marshall sign (marshall_sign = 1): the wavefunction is psi(s) = sign(s) |psi_net(s)| with
 * sign(s) = (-1)^(number of up spins on odd sites), a fixed phase of the wavefunction
 * (wf/wavefunction.h; ratio in space/change.h). With pbc the wrap bond (L-1, 0) joins two sites
 * of the same parity when L is odd, so ars_ham_init rejects pbc + odd L + marshall_sign.
 *
 * Local energies of any operator are est/local_energy.h; amplitude ratios are wf/ratio.h.
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

/* The preset's closed-form ground-state energy, with *method naming it, or NaN when it has none
 * here: tfim by free fermions (ars_exact_tfim; NaN on the frustrated odd ring). */
double ars_ham_closed_form(const ars_ham *H, const char **method);

/* The preset as an operator (ops/operator.h), in Pauli matrices:
 *   tfim        (-J) Z(i) Z(i+1),  (-h) X(i)
 *   xxz         J X(i) X(i+1),  J Y(i) Y(i+1),  (J Delta) Z(i) Z(i+1)
 *   j1j2        J X X, J Y Y, J Z Z on (i, i+1), then J2 X X, J2 Y Y, J2 Z Z on (i, i+2)
 * The caller owns it (ars_op_free). NULL with a message when out of memory. */
ars_op *ars_ham_operator(const ars_ham *H);

#endif
