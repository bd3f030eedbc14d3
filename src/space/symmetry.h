/*
 * symmetry: the global spin flip and the reflection of the chain, and the symmetrised
 * distribution that keeps sampling exact ([model] symmetrize).
 *
 * Group elements are bit masks: bit 0 the spin flip F, (F s)_t = D - 1 - s_t (value v -> -v),
 * bit 1 the reflection R, (R s)_t = s_{L-1-t}. F and R commute and square to the identity, so
 * the group G of a setting (none {e}, spin_flip {e, F}, reflection {e, R}, both {e, F, R, FR})
 * composes by XOR. Element k of G (k = 0 .. |G|-1, k = 0 the identity) spreads the bits of k
 * over the generators the setting has.
 *
 * The symmetrised state of a network with distribution p:
 *   p_sym(s) = (1/|G|) sum_g p(g s),
 *   log p_sym(s) = logsumexp_g log p(g s) - log |G|,   log psi_sym(s) = log p_sym(s) / 2,
 * summed over g in element order (so the bits do not depend on who computes them). p_sym is
 * normalised and invariant, p_sym(g s) = p_sym(s), and it is sampled exactly by drawing s from p
 * and applying a uniformly drawn element g. Its gradient is
 *   d log psi_sym(s) / d theta = sum_g w_g(s) d log psi(g s) / d theta,   w_g = p(g s) / sum p.
 * A flip of the sites {i, j} of s is a flip of the sites {g(i), g(j)} of g s: F keeps every
 * site, R maps t to L - 1 - t (ars_sym_site).
 */
#ifndef ARS_SYMMETRY_H
#define ARS_SYMMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "space/change.h"

typedef enum ars_sym {
    ARS_SYM_NONE = 0,
    ARS_SYM_SPIN_FLIP = 1,
    ARS_SYM_REFLECTION = 2,
    ARS_SYM_BOTH = 3,
} ars_sym;

#define ARS_SYM_MAX_ORDER 4

/* The settings' config-file names, indexed by ars_sym, NULL-terminated. */
extern const char *const ars_sym_names[];

/* Config-file name ("none", "spin_flip", "reflection", "both"); NULL if invalid. */
const char *ars_sym_name(ars_sym sym);

/* The setting named `name` into *sym; 0, or -1 if no setting has that name. */
int ars_sym_parse(const char *name, ars_sym *sym);

/* |G|: 1, 2 or 4. */
int ars_sym_order(ars_sym sym);

/* The bit mask of element k of G (0 <= k < |G|). */
unsigned ars_sym_element(ars_sym sym, int k);

/* The index k of the element with bit mask g (g must be in G). */
int ars_sym_index(ars_sym sym, unsigned g);

/* out = g applied to each of n configurations in (n, L) of local indices (D local states);
 * out may be in. */
void ars_sym_apply(uint8_t *out, const uint8_t *in, size_t n, int L, int D, unsigned g);

/* The site that site t of s becomes in g s. */
int ars_sym_site(unsigned g, int L, int t);

/* The local index that index v (of D) becomes under g: D - 1 - v with the spin flip. */
int ars_sym_value(unsigned g, int D, int v);

/* The change c of s as a change of g s: sites g(c_k) in ascending order, values mapped by g. */
void ars_sym_change(ars_change *gc, const ars_change *c, unsigned g, int L, int D);

/* log sum_k exp(x[k * stride]) over k < n, in index order; -inf when every term is -inf (never
 * NaN for inputs that are finite or -inf). */
double ars_logsumexp(const double *x, int n, size_t stride);

#endif
