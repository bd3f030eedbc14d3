/*
 * hamiltonian: the Hamiltonian of [hamiltonian]: a preset (tfim, xxz, heisenberg, j1j2, blbq)
 * or a list of terms (type = terms, ops/terms.h), validated and built as a term list of the
 * generic operator (ops/operator.h). Conventions in docs/hamiltonians.md.
 *
 * Units: for spin 1/2 the presets are written in Pauli matrices (X, Y, Z with eigenvalues +-1),
 * as arsampler always has; for spin S >= 1 in spin matrices (Sx, Sy, Sz with eigenvalues
 * -S..S). Write sigma for the Pauli vector (spin 1/2) or S (spin >= 1). A configuration is a
 * row of L local indices s_t = 0..2S (value m_t = s_t - S). Bonds: nearest neighbours (i, i+1),
 * i = 0..L-2, plus (L-1, 0) when pbc; next-nearest neighbours (i, i+2) likewise.
 *
 *   tfim        H = -J sum_nn Z_i Z_j - h sum_i X_i                       (spin 1/2)
 *   xxz         H =  J sum_nn ((1 + gamma) x_i x_j + (1 - gamma) y_i y_j + Delta z_i z_j)
 *                 + dm sum_nn (x_i y_j - y_i x_j) + F                    (dm:
 * Dzyaloshinskii-Moriya) heisenberg  xxz with Delta = 1 j1j2        H =  J sum_nn s_i.s_j + J2
 * sum_nnn s_i.s_j + F blbq        H =  J sum_nn S_i.S_j + J_bq sum_nn (S_i.S_j)^2 + F      (spin >=
 * 1; AKLT at J_bq = J/3) F           = D sum_i z_i z_i - hz sum_i z_i - hx sum_i x_i   (each only
 * when non-zero) with (x, y, z) = (X, Y, Z) for spin 1/2, (Sx, Sy, Sz) for spin >= 1. The first
 * terms of each preset are the elements, in the order, that arsampler has always used, so results
 * keep their bits.
 *
 * Marshall sign (marshall_sign = 1): psi(s) = sign(s) |psi_net(s)| with
 * sign(s) = (-1)^(sum over odd sites t of (S - m_t)) (the same ratios as (-1)^(sum_odd (S + m_t)),
 * for spin 1/2 the up spins on odd sites: the two differ by a global sign), a fixed phase of the
 * wavefunction (wf/wavefunction.h; ratio in space/change.h). With pbc the wrap bond (L-1, 0) joins
 * two sites of the same parity when L is odd, so ars_ham_init rejects pbc + odd L + marshall_sign.
 *
 * Local energies of any operator are est/local_energy.h; amplitude ratios are wf/ratio.h.
 */
#ifndef ARS_HAMILTONIAN_H
#define ARS_HAMILTONIAN_H

#include <stddef.h>
#include <stdint.h>

#include "ops/operator.h"
#include "ops/terms.h"

typedef enum {
    ARS_HAM_TFIM,
    ARS_HAM_XXZ,
    ARS_HAM_HEISENBERG,
    ARS_HAM_J1J2,
    ARS_HAM_BLBQ,
    ARS_HAM_TERMS,
    ARS_HAM_N_TYPES,
} ars_ham_type;

/* A preset as the config gives it: the type and every coupling (those it does not use are
 * ignored); terms: the list of type = terms (borrowed, copied by ars_ham_init). */
typedef struct ars_ham_preset {
    ars_ham_type type;
    double J, h, Delta, J2;
    int pbc, marshall_sign;
    double D, hz, hx, J_bq;
    const ars_terms *terms;
    double dm;    /* xxz and heisenberg: the Dzyaloshinskii-Moriya coupling */
    double gamma; /* xxz: the XY anisotropy */
} ars_ham_preset;

typedef struct ars_ham {
    ars_ham_type type;
    int size;     /* L */
    int two_s;    /* 2S */
    double J;     /* tfim: the sz sz coupling; others: the nearest-neighbour coupling (J1) */
    double h;     /* tfim transverse field; 0 for the other types */
    double Delta; /* xxz anisotropy; 1 for heisenberg and j1j2, 0 for tfim */
    double J2;    /* j1j2 next-nearest coupling; 0 for the other types */
    int pbc;
    int marshall_sign;
    double D, hz, hx; /* single-ion anisotropy and fields (xxz, heisenberg, j1j2, blbq); else 0 */
    double J_bq;      /* blbq biquadratic coupling; else 0 */
    double dm;        /* xxz, heisenberg: dm (x_i y_j - y_i x_j) per bond; else 0 */
    double gamma;     /* xxz: x x and y y bonds J (1 + gamma), J (1 - gamma); else 0 */
    ars_terms *terms; /* type = terms: the list (owned); NULL for the presets */
} ars_ham;

/* The numbers that describe a Hamiltonian in a file (/hamiltonian attributes, beside its type
 * and expanded term list): name, whether it is an int (else a double), offset in ars_ham. A new
 * coupling is a field of ars_ham and a row of this table; io writes whatever it lists. */
typedef struct ars_ham_field {
    const char *name;
    int is_int;
    size_t offset;
} ars_ham_field;
#define ARS_HAM_N_FIELDS 12
extern const ars_ham_field ars_ham_fields[ARS_HAM_N_FIELDS];

/* Config-file name of a type ("tfim", "xxz", "heisenberg", "j1j2", "blbq", "terms"); NULL if
 * invalid. */
const char *ars_ham_type_name(ars_ham_type type);

/* The type named `name` into *type; returns 0, or -1 if no type has that name. */
int ars_ham_type_parse(const char *name, ars_ham_type *type);

/* Fills and validates H from a preset for `size` sites of spin two_s/2. Couplings that a type does
 * not use are stored as 0 (h, J2, D, hz, hx, J_bq) or 1 (Delta of heisenberg and j1j2). Returns
 * ARS_OK, or ARS_STATUS_ECONFIG with one message: tfim for a spin other than 1/2, blbq for spin
 * 1/2, size < 2, pbc with size < 3 (the wrap bond would repeat a bond), j1j2 with size < 3 or
 * pbc with size < 5 (next-nearest bonds would repeat), pbc + odd size + marshall_sign,
 * non-finite couplings, an unknown type, type = terms without terms, and every error of a term
 * (ars_terms_operator: FILE:LINE of the term); ARS_STATUS_ENOMEM. Free with ars_ham_free. */
int ars_ham_init(ars_ham *H, const ars_ham_preset *preset, int size, int two_s);

/* Frees what ars_ham_init allocated (the term list of type = terms; nothing for a preset). */
void ars_ham_free(ars_ham *H);

/* The Hamiltonian as a term list into T (initialised by the caller, ars_terms_init; the caller
 * frees it): the preset's terms with i-relative sites, in this order,
 *   tfim        (-J) Z(i) Z(i+1),  (-h) X(i)
 *   xxz         J x(i) x(i+1),  J y(i) y(i+1),  (J Delta) z(i) z(i+1),
 *               dm x(i) y(i+1), (-dm) y(i) x(i+1) (only when dm != 0), then F
 *   j1j2        J x x, J y y, J z z on (i, i+1), then J2 x x, J2 y y, J2 z z on (i, i+2), then F
 *   blbq        J x x, J y y, J z z on (i, i+1), then J_bq a(i) b(i) a(i+1) b(i+1) for
 *               a, b in (x, y, z), then F
 *   F           D z(i) z(i),  (-hz) z(i),  (-hx) x(i), each only when non-zero
 * or a copy of the list of type = terms. Returns ARS_OK or ARS_STATUS_ENOMEM. */
int ars_ham_term_list(const ars_ham *H, ars_terms *T);

/* The preset's closed-form ground-state energy, with *method naming it, or NaN when it has none
 * here: tfim by free fermions (ars_exact_tfim; NaN on the frustrated odd ring); the spin-1/2
 * xx chain with a DM term and a field hz (xxz with Delta = 0, hx = 0) by free fermions
 * (ars_exact_xx_dm), in the sector two_m (2 S^z) or over all (ARS_EXACT_ANY_SECTOR); the AKLT
 * and Majumdar-Ghosh points (singlets: NaN in another sector than S^z = 0). */
double ars_ham_closed_form(const ars_ham *H, int two_m, const char **method);

/* The Hamiltonian as an operator (ops/operator.h), built from ars_ham_term_list. The caller
 * owns it (ars_op_free). NULL with a message when out of memory. */
ars_op *ars_ham_operator(const ars_ham *H);

#endif
