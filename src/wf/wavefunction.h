/*
 * wavefunction: the state psi(s) = exp(log|psi(s)| + i phi(s)) that the rest of arsampler
 * samples, differentiates and measures.
 *
 *   log|psi(s)|  the autoregressive modulus (nn/arnn.h): masked to the sector and symmetrised
 *                as its architecture says; |psi|^2 is what the sampler draws from;
 *   phi(s)       a phase component. Today's components are fixed phases: none (phi = 0) and
 *                the Marshall sign, phi(s) = pi * sum_{odd t} s_t (s_t the local index; for
 *                spin 1/2 (-1)^(up spins on odd sites), for spin S (-1)^sum_odd (S + m_t)).
 *
 * log psi is the pair (log|psi|, phi). Ratios for a change s -> s' (space/change.h) are
 * exp(dlog) * exp(i dphi), dlog from the ratio windows (wf/ratio.h) and dphi from the phase
 * component; for the fixed phases exp(i dphi) = +-1 exactly.
 */
#ifndef ARS_WAVEFUNCTION_H
#define ARS_WAVEFUNCTION_H

#include <stdint.h>

#include "nn/arnn.h"
#include "space/change.h"

typedef enum ars_wf_phase {
    ARS_WF_PHASE_NONE = 0,
    ARS_WF_PHASE_MARSHALL,
    ARS_WF_PHASE_COUNT,
} ars_wf_phase;

typedef struct ars_wf {
    const ars_arnn *net; /* the modulus; not owned */
    ars_wf_phase phase;
} ars_wf;

/* The wavefunction of net with the Marshall sign (marshall_sign != 0) or no phase. */
ars_wf ars_wf_make(const ars_arnn *net, int marshall_sign);

/* Name of a phase component ("none", "marshall"). */
const char *ars_wf_phase_name(ars_wf_phase phase);

/* log psi = (log|psi|, phi) of B configurations cfg (B, L); ws from ars_arnn_ws_alloc. */
void ars_wf_log_psi(double *log_abs, double *phi, const uint8_t *cfg, const ars_wf *wf,
                    ars_arnn_ws *ws, int B);

/* exp(i (phi(s') - phi(s))) for the change c of configuration s: +1 or -1 for the fixed phases. */
double ars_wf_phase_ratio(const ars_wf *wf, const uint8_t *s, const ars_change *c);

#endif
