/*
 * ratio: amplitude ratios log|psi(s')| - log|psi(s)| of the autoregressive network for changes
 * s -> s' (space/change.h: new local indices at up to ARS_CHANGE_MAX_SITES sites at any
 * distance), by the window method, O(L R) per sample instead of O(L^2).
 *
 * log|psi(s)| = sum_t lpsi[t, s_t]. The network is causal with reach R (ars_arch_receptive_field):
 * the conditional at site t reads input sites t-R..t-1 only. A change at sites c_0 < c_1 < ...
 * therefore changes the terms t in the union of [c_k, c_k + R] (clipped to the chain) and no
 * others. Each segment [p, e] of that union (intervals merged when they touch) is re-evaluated
 * on the WINDOW of sites [a, e], a = max(0, p - R): window outputs at sites >= p read only window
 * inputs, and a window starting at site 0 has the chain's own zero padding, so they equal the
 * full network's (bit for bit: same operations in the same order). Moreover every layer's input
 * at sites < p is unchanged, so only sites [p, e] of the window are computed: the layer inputs
 * they read before p (at most span_l = (K' - 1 + e_l) d_l sites for layer l) are copied from
 * the sample's own forward pass. And a change at sites <= q moves layer l's outputs only up to
 * q + reach_l, reach_l = sum_{j <= l} (K - 1) d_j: layer l is computed up to there, and the
 * sample's own activations are copied where the next layer reads beyond. Windows of all
 * changes of a chunk run as batches (48 windows)
 * through a copy of the network's architecture with W sites. A batch computes every window from
 * its least first site on, so the windows are sorted by (first, last) site in groups of a few
 * samples' windows before they are cut into batches; each window's sum is then added to its
 * change in the order of the changes, so the bits do not depend on the batching.
 * W <= min(L, (n - 1)(R + 1) + 2R + 1)
 * for changes of at most n >= 2 sites merged into one segment plus context, shorter windows
 * padded at the end (never read, by causality). Then
 *   log|psi(s')| - log|psi(s)| = sum_segments sum_{t=p..e} (lpsi'[t, s'_t] - lpsi[t, s_t]).
 * Cost per sample: one forward pass plus <= n windows per change of <= (n-1)(R+1) + R + 1
 * computed sites.
 *
 * Sector ([system] total_sz, hilbert.h): psi is 0 outside it, so a change of the total Sz gives
 * -inf without any window. The windows apply the chain's mask: site a + u after the prefix sum
 * of the changed configuration (the sample's prefix at a, plus the changes before a). Separate
 * segments also move the prefix sums of the sites between them by the changes before: their
 * network outputs are the sample's own, but their masks may change where the sector binds,
 * which is added term by term.
 *
 * Symmetrised networks (symmetry.h): log psi_sym(s') - log psi_sym(s) =
 *   (1/2) [logsumexp_g 2 log psi(g s') - logsumexp_g 2 log psi(g s)],
 * with log psi(g s') = log psi(g s) + the plain ratio of the change mapped by g (sites g(c),
 * values flipped with the spin flip) on g s: the window method once per group element.
 */
#ifndef ARS_RATIO_H
#define ARS_RATIO_H

#include <stddef.h>
#include <stdint.h>

#include "nn/arnn.h"
#include "space/change.h"

typedef struct ars_ratio_ws ars_ratio_ws;

/* Scratch for chunks of at most B samples of `net`'s architecture with at most max_changes
 * changes per sample, each of at most max_sites sites. NULL on allocation failure. */
ars_ratio_ws *ars_ratio_ws_alloc(const ars_arnn *net, int B, int max_changes, int max_sites);
void ars_ratio_ws_free(ars_ratio_ws *ws);

/* The arithmetic of the network passes (the samples' own and the windows'): float64 (the
 * default, the reference) or float32, the site kernels' float32 variants with the parameters
 * rounded to float32 at every call. The windows' method, their sums and dlog stay float64; in
 * float32 a ratio carries the rounding of its window's conditionals (|d dlog| about 1e-6;
 * test_ratio states the bound). Allocates the float32 scratch at the first switch:
 * ARS_STATUS_ENOMEM (the workspace stays float64) or ARS_OK. */
int ars_ratio_ws_set_dtype(ars_ratio_ws *ws, const ars_arnn *net, ars_dtype dtype);

/* The reach R the workspace uses (min(receptive field, L)) and its window length W. */
int ars_ratio_ws_reach(const ars_ratio_ws *ws);
int ars_ratio_ws_window(const ars_ratio_ws *ws);

/* Conv flops of the network since the allocation: useful (the samples' own passes, and each
 * layer of every segment at the sites its change moves) and computed (what the batched windows
 * ran); for the training benchmark's flop count. Whole numbers, so that sums over workspaces do
 * not depend on which workspace ran which chunk. */
void ars_ratio_ws_flops(const ars_ratio_ws *ws, uint64_t *useful, uint64_t *computed);

/* The conv flops of every layer at one site of one configuration (the unit of a site
 * evaluation). */
uint64_t ars_ratio_ws_site_flops(const ars_ratio_ws *ws);

/* dlog[b * stride + k] = log|psi(s'_bk)| - log|psi(s_b)| of the state of `net` (symmetrised when
 * its architecture is) for the changes ch[b * stride + k], k < n[b] <= max_changes, of the
 * configurations cfg (B, L); -inf for a change that leaves the sector. Runs its own forward
 * pass of cfg; after it, ars_ratio_log_psi gives the samples' log|psi|. Serial; reentrant for
 * distinct workspaces. `net` must have the workspace's architecture (asserted). */
void ars_ratio_log(double *dlog, const uint8_t *cfg, const ars_change *ch, const int *n,
                   size_t stride, const ars_arnn *net, ars_ratio_ws *ws, int B);

#endif
