/*
 * projector: the local estimator of the projector onto the symmetric states of a group G
 * (space/symmetry.h), the quantity behind [vmc] symmetry_penalty:
 *
 *   P_G = (1/|G|) sum_g U_g,   (U_g psi)(s) = psi(g^-1 s),
 *   P_loc(s) = (P_G psi)(s) / psi(s) = (1/|G|) sum_g psi(g s) / psi(s)
 *
 * (the sum over g^-1 is the sum over g). P_G is an orthogonal projector (U_g is a permutation of
 * the basis, possibly with the spin flip, and G is a group), so <P_loc> over |psi|^2 is
 * <psi|P_G|psi> / <psi|psi>, real and in [0, 1]: 1 exactly for a state of the trivial
 * representation (psi(g s) = psi(s)), 0 for a state orthogonal to all of them. Each image needs
 * a full forward pass of the modulus and of the phase network: |G| - 1 passes per sample (the
 * identity's ratio is 1).
 *
 * For an H invariant under G (ars_proj_op_invariant), P_G H = H P_G, and the projected state
 * P_G psi has the energy
 *   E_P = <psi|P_G H|psi> / <psi|P_G|psi> = Re <P_loc^* E_loc> / <P_loc>
 * (means over |psi|^2): a variational energy of the projected state measured on psi's own
 * exact samples, with no reweighting ([vmc] projected_estimate).
 */
#ifndef ARS_PROJECTOR_H
#define ARS_PROJECTOR_H

#include <stdint.h>

#include "ops/operator.h"
#include "space/symmetry.h"
#include "wf/wavefunction.h"

typedef struct ars_proj_ws ars_proj_ws;

/* Scratch for chunks of at most B samples of the wavefunction wf and the group of `group` on
 * wf's chain. NULL on allocation failure. */
ars_proj_ws *ars_proj_ws_alloc(const ars_wf *wf, ars_sym group, int B);
void ars_proj_ws_free(ars_proj_ws *ws);

/* P_loc = re + i im (B) of configurations cfg (B, L), summed over the group in element order
 * (space/symmetry.h), so the bits do not depend on who computes them; im may be NULL for a real
 * wf (its P_loc is real). Serial; reentrant for distinct workspaces. Returns the number of
 * non-finite values. */
int ars_proj_local(double *re, double *im, const uint8_t *cfg, const ars_wf *wf, ars_proj_ws *ws,
                   int B);

/* 1 if op is invariant under the group, H(g s, g s') = H(s, s') to rounding, checked for its
 * generators (the spin flip, the reflection, the translation by one site) on a fixed set of
 * configurations (all equal, Neel, and pseudo-random ones); else 0 with the first generator that
 * fails named in *bad. Then P_G commutes with H, and <psi|P_G H|psi> = <P_G psi|H|P_G psi> is what
 * a projected estimate measures. A numerical check: an operator that breaks the symmetry only on
 * configurations outside the set passes. -1 when out of memory. */
int ars_proj_op_invariant(const ars_op *op, ars_sym group, const char **bad);

#endif
