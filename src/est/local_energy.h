/*
 * local_energy: E_loc(s) = sum_s' H(s, s') psi(s') / psi(s) of a wavefunction (wf/) for an
 * operator (ops/operator.h):
 *
 *   E_loc(s) = H(s, s) + sum_k mel_k * (exp(i dphi_k) * exp(dlog_k)),
 *
 * over the connections s -> s'_k of ars_op_apply (in its order), dlog_k from the ratio windows
 * (O(L R) per sample, wf/ratio.h) and exp(i dphi_k) from the wavefunction: +-1 for the fixed
 * signs, cos + i sin of the phase network's local difference otherwise. The result is real for
 * a real wavefunction (the imaginary part is then exactly 0) and complex with a phase network.
 */
#ifndef ARS_LOCAL_ENERGY_H
#define ARS_LOCAL_ENERGY_H

#include <stddef.h>
#include <stdint.h>

#include "ops/operator.h"
#include "wf/ratio.h"
#include "wf/wavefunction.h"

typedef struct ars_eloc_ws ars_eloc_ws;

/* Scratch for chunks of at most B samples of op and the wavefunction wf (its architecture and
 * phase network). NULL on allocation failure. */
ars_eloc_ws *ars_eloc_ws_alloc(const ars_op *op, const ars_wf *wf, int B);

/* Scratch for the local values of a set of n_ops operators at once (ars_eloc_compute_set). */
ars_eloc_ws *ars_eloc_ws_alloc_set(const ars_op *const *ops, int n_ops, const ars_wf *wf, int B);
void ars_eloc_ws_free(ars_eloc_ws *ws);

/* The arithmetic of the ratio windows (ars_ratio_ws_set_dtype): ARS_OK, or ARS_STATUS_ENOMEM at
 * the first switch to float32 (the workspace then stays float64). */
int ars_eloc_ws_set_dtype(ars_eloc_ws *ws, const ars_wf *wf, ars_dtype dtype);

/* The ratio workspace inside (its reach and window, for messages and tests). */
const ars_ratio_ws *ars_eloc_ws_ratio(const ars_eloc_ws *ws);

/* Local energies eloc + i eloc_im (B) of configurations cfg (B, L); eloc_im may be NULL for a
 * real wf. Serial; reentrant for distinct workspaces. Returns the number of non-finite values
 * written. */
int ars_eloc_compute(double *eloc, double *eloc_im, const uint8_t *cfg, const ars_op *op,
                     const ars_wf *wf, ars_eloc_ws *ws, int B);

/* The local values of n_ops operators (the set of ars_eloc_ws_alloc_set) in one pass of ratio
 * windows over all their connections: val[q * B + b] (and val_im) for operator q and sample b.
 * With one operator it is ars_eloc_compute, bit for bit. Returns the number of non-finite
 * values written. */
int ars_eloc_compute_set(double *val, double *val_im, const uint8_t *cfg, const ars_op *const *ops,
                         int n_ops, const ars_wf *wf, ars_eloc_ws *ws, int B);

/* The same by brute force, for tests: log psi = (log|psi|, phi) of every connected s' from a
 * full forward pass (O(L^2) per sample). ARS_OK or ARS_STATUS_ENOMEM. */
int ars_eloc_compute_slow(double *eloc, double *eloc_im, const uint8_t *cfg, const ars_op *op,
                          const ars_wf *wf, int B);

#endif
