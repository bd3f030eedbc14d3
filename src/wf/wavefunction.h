/*
 * wavefunction: the state psi(s) = exp(log|psi(s)| + i phi(s)) that the rest of arsampler
 * samples, differentiates and measures.
 *
 *   log|psi(s)|  the autoregressive modulus (nn/arnn.h): masked to the sector and symmetrised
 *                as its architecture says; |psi|^2 is what the sampler draws from;
 *   phi(s)       the fixed Marshall sign, pi * sum_{odd t} s_t (s_t the local index; for spin
 *                1/2 (-1)^(up spins on odd sites), for spin S (-1)^sum_odd (S + m_t)), when
 *                set, plus a learnt phase network (nn/phase.h, [phase]) when there is one.
 *                With a symmetrised modulus the network's phase is averaged over the group:
 *                  phi_net,sym(s) = (1/|G|) sum_g phi_net(g s)     (element order),
 *                invariant, phi_net,sym(g s) = phi_net,sym(s), so psi_sym is an invariant state
 *                whose |psi_sym|^2 is still sampled exactly (docs/phase.md).
 *
 * log psi is the pair (log|psi|, phi). Ratios for a change s -> s' (space/change.h) are
 * exp(dlog) * exp(i dphi), dlog from the ratio windows (wf/ratio.h) and dphi from the Marshall
 * sign (exactly +-1) and the phase network's windows. The gradient of log psi is real,
 * d log|psi| / d theta, for the modulus's parameters and imaginary, i d phi / d theta, for the
 * phase network's.
 */
#ifndef ARS_WAVEFUNCTION_H
#define ARS_WAVEFUNCTION_H

#include <stddef.h>
#include <stdint.h>

#include "nn/arnn.h"
#include "nn/phase.h"
#include "space/change.h"

typedef struct ars_wf {
    const ars_arnn *net;    /* the modulus; not owned */
    int marshall;           /* the Marshall sign */
    const ars_phase *phase; /* the learnt phase, NULL for none; not owned */
} ars_wf;

/* The wavefunction of net with the Marshall sign (marshall_sign != 0) and the phase network
 * phase (NULL: none). */
ars_wf ars_wf_make(const ars_arnn *net, int marshall_sign, const ars_phase *phase);

/* 1 if psi is real up to the fixed signs (no phase network): ratios are then +-1 exp(dlog). */
int ars_wf_is_real(const ars_wf *wf);

/* The phase network's scratch for chunks of at most B samples (the images of a symmetrised
 * state included). NULL without a phase network or on allocation failure: check
 * ars_wf_is_real first. */
typedef struct ars_wf_ws ars_wf_ws;
ars_wf_ws *ars_wf_ws_alloc(const ars_wf *wf, int B);
void ars_wf_ws_free(ars_wf_ws *ws);

/* phi (B) of configurations cfg (B, L), keeping what ars_wf_phase_ratio needs in ws (NULL for
 * a real wf). */
void ars_wf_phase(double *phi, const uint8_t *cfg, const ars_wf *wf, ars_wf_ws *ws, int B);

/* log psi = (log|psi|, phi) of B configurations cfg (B, L); ws from ars_arnn_ws_alloc, pws from
 * ars_wf_ws_alloc (NULL for a real wf). */
void ars_wf_log_psi(double *log_abs, double *phi, const uint8_t *cfg, const ars_wf *wf,
                    ars_arnn_ws *ws, ars_wf_ws *pws, int B);

/* exp(i (phi(s') - phi(s))) = *re + i *im for the change c of configuration s, sample b of the
 * last ars_wf_phase on pws: exactly +-1 + 0i for a real wf (pws may then be NULL). */
void ars_wf_phase_ratio(double *re, double *im, const ars_wf *wf, ars_wf_ws *pws, const uint8_t *s,
                        int b, const ars_change *c);

/* grad[k * ld] += d phi(row) / d theta_k for the phase network's parameters k (its own
 * numbering), averaged over the group of a symmetrised state. Replaces what ars_wf_phase kept
 * in pws. */
void ars_wf_phase_grad(double *grad, size_t ld, const uint8_t *row, const ars_wf *wf,
                       ars_wf_ws *pws);

#endif
