/*
 * projected: the projected state psi_P = P_G psi = (1/|G|) sum_g psi(g s) of a network's
 * psi = exp(log|psi| + i phi) ([model] projection), trained and measured on exact samples of
 * the network's symmetrised distribution q = p_sym (space/symmetry.h) with importance weights.
 * P_G projects onto the states that every element of G leaves unchanged (est/projector.h);
 * unlike the symmetrised state, psi_P adds the images' amplitudes, so it can be the symmetric
 * superposition of a state that breaks the symmetry (two dimerisations of a ring).
 *
 *   q(s)   = (1/|G|) sum_g |psi(g s)|^2                                   (drawn exactly)
 *   w(s)   = |psi_P(s)|^2 / q(s) = |sum_g psi(g s)|^2 / (|G| sum_g |psi(g s)|^2),  in [0, 1]
 *   a_g(s) = psi(g s) / sum_h psi(h s)                                    (complex)
 *   E_P,loc(s) = (H psi_P)(s) / psi_P(s) = sum_g a_g(s) E_loc(g s)
 *            (H invariant under G: H P_G = P_G H, so (H psi_P)(s) = (1/|G|) sum_g psi(g s)
 *             E_loc(g s), E_loc the network's own local energy)
 *   O_P,k(s)   = d log psi_P(s) / d theta_k = sum_g a_g(s) O_k(g s)       (complex)
 *
 * Expectations over |psi_P|^2 are weighted means over the samples: <X> = sum_b w_b X_b / sum w.
 * Weights are bounded by 1 (Cauchy-Schwarz), so the estimates stay well conditioned wherever
 * <w> = <psi|P_G|psi> / <psi|psi> is not small. Each sample costs |G| local energies and |G|
 * backward passes of the plain network (two forward passes each).
 */
#ifndef ARS_PROJECTED_H
#define ARS_PROJECTED_H

#include <stddef.h>
#include <stdint.h>

#include "est/local_energy.h"
#include "nn/arnn.h"
#include "nn/phase.h"
#include "ops/operator.h"

typedef struct ars_projected_ws ars_projected_ws;

/* Scratch for chunks of at most B samples of the projection of net (symmetrised over the group
 * G = net->arch.symmetry) with the Marshall sign (marshall != 0) and the phase network phase
 * (NULL: none), for the operator op. The plain network is a view of net's parameters. NULL on
 * allocation failure. */
ars_projected_ws *ars_projected_ws_alloc(const ars_arnn *net, int marshall, const ars_phase *phase,
                                         const ars_op *op, int B);
void ars_projected_ws_free(ars_projected_ws *ws);

/* For B configurations cfg (B, L): w (B), E_P,loc = e_re + i e_im (B), and when o_re is not NULL
 * O_P = o_re + i o_im written into rows k < P (the network's parameters, then the phase
 * network's) at o_re[k * ld + b]. A sample with w = 0 gets E_P,loc = 0 and O_P = 0 (it carries
 * no weight). Serial; reentrant for distinct workspaces. Returns the number of samples with a
 * non-finite value. */
int ars_projected_local(double *w, double *e_re, double *e_im, double *o_re, double *o_im,
                        size_t ld, const uint8_t *cfg, ars_projected_ws *ws, int B);

#endif
