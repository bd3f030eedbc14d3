/*
 * operator: a spin-chain operator as a sum of terms, each a real coupling times a product of
 * single-site operators (site_op.h) on up to ARS_CHANGE_MAX_SITES distinct sites:
 *
 *   H = sum_terms c_t prod_f O_f(site_f),   site_f = a fixed site, or i + k_f for every i (an
 *   "expanded" term: one instance per site i; with pbc indices wrap, else instances that leave
 *   the chain are dropped).
 *
 * Factors on the same site multiply in order. A term is i^p times a real product (site_op.h):
 * real for an even p (an even number of Sy / Y) and imaginary for an odd one. An operator with
 * an imaginary term is complex (ars_op_is_complex): its connections carry complex elements
 * (ars_op_apply_complex), which a real wavefunction cannot use (config: it needs [phase]). An
 * imaginary term that is diagonal on its own is refused (it cannot belong to a Hermitian sum);
 * the imaginary diagonal elements of off-diagonal groups must cancel (ars_op_hermitian).
 *
 * Evaluation, for one configuration s (L local indices):
 *  - terms whose every site matrix is diagonal give H(s, s) = sum_t c_t * (sum_instances
 *    prod_k M_k[s_k][s_k]), in term order (each inner sum is exact for products of spin-1/2
 *    Pauli entries, so the presets give the bits they always gave);
 *  - the other terms are grouped by their site pattern (first appearance order); for each group
 *    instance (i ascending) every term adds c_t * (sign * prod_k M_k[r_k][s_k]) to the
 *    connection s -> s' (rows r_k), connections of one instance to the same s' are merged (so
 *    X X + Y Y gives one exchange element 2J, or 0 for parallel spins), zero elements are
 *    dropped, and elements with s' = s add to H(s, s) after the diagonal terms.
 * Cost O(L * terms) per configuration; no allocation.
 */
#ifndef ARS_OPERATOR_H
#define ARS_OPERATOR_H

#include <stddef.h>
#include <stdint.h>

#include "ops/site_op.h"
#include "space/change.h"

/* Most factors in one term. */
#define ARS_OP_MAX_FACTORS 16

/* One factor O(site) of a term; relative: the site is i + site. */
typedef struct ars_op_factor {
    ars_site_op op;
    int site;
    int relative;
} ars_op_factor;

typedef struct ars_op ars_op;

/* An empty operator on `size` sites of spin two_s/2; NULL on allocation failure. */
ars_op *ars_op_alloc(int size, int two_s, int pbc);
void ars_op_free(ars_op *op);

/* Adds coupling * prod_f factors. Returns ARS_OK, ARS_STATUS_ENOMEM, or ARS_STATUS_ECONFIG with
 * one message that starts with `what` (where the term came from): no factors or too many, an
 * operator not defined for the spin, a site outside the chain, more than ARS_CHANGE_MAX_SITES
 * distinct sites, an expanded term reaching across the whole chain or mixing i and fixed sites,
 * or a diagonal imaginary term. */
int ars_op_add_term(ars_op *op, double coupling, const ars_op_factor *f, int nf, const char *what);

int ars_op_size(const ars_op *op);
int ars_op_two_s(const ars_op *op);
int ars_op_pbc(const ars_op *op);
int ars_op_n_terms(const ars_op *op);

/* Most connections s -> s' (s' != s) of any configuration: the length of the output arrays of
 * ars_op_apply. */
int ars_op_max_connections(const ars_op *op);

/* 1 if every connection keeps the total S^z (sum of the values): the merged elements of every
 * tabulated group are checked, so X X + Y Y conserves it though X X alone does not. A group too
 * large to tabulate counts as not conserving (a safe answer: the exact solvers then use the
 * full space). */
int ars_op_conserves_sz(const ars_op *op);

/* 1 if the operator commutes with the global flip P (every local index v -> D-1-v, m -> -m):
 * each diagonal term on its own, and each tabulated group's merged elements, column against
 * flipped column (to rounding). Like ars_op_conserves_sz it may answer 0 for an operator that
 * does commute (a field cancelled by another term, a group too large to tabulate): the exact
 * solvers then do more work, never wrong work. Then the S^z sectors M and -M have the same
 * spectrum. */
int ars_op_commutes_with_flip(const ars_op *op);

/* 1 if H is Hermitian (H(s', s) = conj H(s, s') to rounding for every connection, and every
 * diagonal element real, checked on every local column of every site pattern); else 0 and
 * *term is the index (in
 * ars_op_add_term order) of the first term with an element on a connection whose reverse
 * element differs: typically a term whose adjoint is missing. -1 (with a message) when out of
 * memory. */
int ars_op_hermitian(const ars_op *op, int *term);

/* 1 if every off-diagonal element is real and <= 0 (to rounding) in the S^z basis, times the
 * Marshall
 * sign ratio when marshall is set (the sign a Marshall-signed wavefunction sees): then a
 * positive wavefunction can represent the ground state. -1 (with a message) when out of
 * memory. */
int ars_op_stoquastic(const ars_op *op, int marshall);

/* Most distinct sites of one term (the changes' reach, for the ratio windows). */
int ars_op_max_sites(const ars_op *op);

/* 1 if some term is imaginary (an odd number of Sy/Y): the elements are complex. */
int ars_op_is_complex(const ars_op *op);

/* H(s, s) into *diag (diag NULL: not computed, for callers that have it from
 * ars_op_diagonal) and the connections s -> s' != s with their elements H(s, s') = <s|H|s'>
 * (the row of s, what local estimators sum: E_loc(s) = sum_s' H(s, s') psi(s') / psi(s)) into
 * ch and mel (ars_op_max_connections entries at most), in the order above; returns their
 * number. A real operator only (asserted). */
int ars_op_apply(const ars_op *op, const uint8_t *s, double *diag, ars_change *ch, double *mel);

/* The same for any operator: the elements' real parts into mel and imaginary parts into mel_im
 * (mel_im may be NULL for a real operator). The diagonal is real (Hermitian operators). For a
 * complex operator the row differs from the column: H(s, s') = conj(H(s', s)). */
int ars_op_apply_complex(const ars_op *op, const uint8_t *s, double *diag, ars_change *ch,
                         double *mel, double *mel_im);

/* The diagonal H(s, s) alone. */
double ars_op_diagonal(const ars_op *op, const uint8_t *s);

#endif
