/*
 * The ratio windows' arithmetic, written once for both precisions: ratio.c includes this file
 * twice, with REAL = double / float, NAME(x) = x / x##_f and RATIO_PARAMS(ws) the network's
 * parameters in that precision. The window method itself (which windows, their segments and
 * batches, the sums) is ratio.c's; here are the passes that produce the conditionals: the
 * samples' own pass and its context, the windows' forward pass, and a batch's new terms.
 */

/* Every layer's input of the full pass, (site, channel, batch) -> ctx (B, L, Cs): the context
 * of a window before its first changed site, and the activations past each layer's reach. */
static void NAME(ratio_context)(ars_ratio_ws *ws, int B) {
    const NAME(ars_arnn_ws) *full = ws->NAME(full);
    const int L = ws->L, Cs = ws->ctx_width;
    for (int l = 0; l < ws->arch.layers; l++) {
        const int C = ws->net_win.layer[l].cin;
        const REAL *src = l == 0 ? full->x : full->a[l - 1];
        for (int t = 0; t < L; t++) {
            for (int b = 0; b < B; b++) {
                REAL *d = ws->NAME(ctx) + ((size_t)b * L + t) * Cs + ws->ctx_off[l];
                for (int ch = 0; ch < C; ch++) {
                    d[ch] = src[((size_t)t * C + ch) * B + b];
                }
            }
        }
    }
}

/* Layer l's input channels of window r at its position u (chain site r->a + u < L) in the
 * sample's own pass. */
static const REAL *NAME(context_at)(const ars_ratio_ws *ws, const ratio_window *r, int u, int l) {
    return ws->NAME(ctx) + ((size_t)r->b * ws->L + r->a + u) * ws->ctx_width + ws->ctx_off[l];
}

/* Layer l's input (C channels) at window positions u0 <= u < u1 from the samples' own pass
 * (ws->ctx: sample r->b, chain site r->a + u; zero past the chain's end, which only positions
 * after a window's segment read) into dst (W, C, nw). Position by position, window by window:
 * one position's block (C, nw) stays in L1 while the windows fill it (window by window, the
 * strided stores of a whole window's span missed the cache and took a quarter of the local
 * energies). */
ARS_CLONES static void NAME(ratio_copy_context)(const ars_ratio_ws *ws, const ratio_batch *q,
                                                REAL *dst, int l, int C, int u0, int u1) {
    const int nw = q->n, L = ws->L;
    for (int u = u0; u < u1; u++) {
        REAL *dp = dst + (size_t)u * C * nw;
        int w = 0;
        /* Eight windows at a time: one vector store per channel instead of eight scalar ones
         * (the stores bound this copy). */
        for (; w + 8 <= nw; w += 8) {
            const REAL *sp[8];
            int inside = 1;
            for (int i = 0; i < 8; i++) {
                const ratio_window *r = &q->rec[w + i];
                inside &= r->a + u < L;
                sp[i] = r->a + u < L ? NAME(context_at)(ws, r, u, l) : NULL;
            }
            if (!inside) {
                break;
            }
            for (int ch = 0; ch < C; ch++) {
                REAL *d = dp + (size_t)ch * nw + w;
#pragma omp simd
                for (int i = 0; i < 8; i++) {
                    d[i] = sp[i][ch];
                }
            }
        }
        for (; w < nw; w++) {
            const ratio_window *r = &q->rec[w];
            if (r->a + u >= L) {
                for (int ch = 0; ch < C; ch++) {
                    dp[(size_t)ch * nw + w] = 0.0;
                }
                continue;
            }
            const REAL *sp = NAME(context_at)(ws, r, u, l);
            for (int ch = 0; ch < C; ch++) {
                dp[(size_t)ch * nw + w] = sp[ch];
            }
        }
    }
}

/* The network on nw windows (W, ., nw) at positions t0 <= u < Lc only, and layer l only up to
 * end[l] = the batch's last changed position + reach[l] (clipped to Lc): a change at sites
 * <= q moves layer l's outputs at sites <= q + reach[l] only. The layer inputs the computed
 * positions read elsewhere are the sample's own and are copied from its full pass (ws->ctx):
 * before t0 (those that layer l's taps read, at most span_l = (K' - 1 + e) d_l sites back) and
 * in [end[l - 1], end[l]). Outputs at u >= t0 are then those of ars_arnn_forward on the window,
 * which this follows step by step (encode, conv, activation, head; same kernels, same order): a
 * position computed past a window's own reach gives the bits of its full pass. end (n) receives
 * the ends. */
static void NAME(ratio_window_forward)(ars_ratio_ws *ws, const ratio_batch *q, int t0, int Lc,
                                       int *end) {
    const ars_arnn *net = &ws->net_win;
    const ars_arch *arch = &net->arch;
    const int nw = q->n, W = ws->W, n = arch->layers, D = ws->D;
    NAME(ars_arnn_ws) *win = ws->NAME(win);
    int qmax = 0;
    for (int w = 0; w < nw; w++) {
        qmax = q->rec[w].last > qmax ? q->rec[w].last : qmax;
    }
    for (int l = 0; l < n; l++) {
        end[l] = layer_last(ws, l, qmax, Lc - 1) + 1;
    }
    /* Before t0, only the positions some tap reads from [t0, end[l]) (with a large dilation,
     * far fewer than the span), in runs. */
    for (int l = 0; l < n; l++) {
        const ars_conv *c = &net->layer[l];
        REAL *dst = l == 0 ? win->x : win->a[l - 1];
        const int span = ars_conv_shift(c, 0);
        int run = -1;
        for (int u = t0 - span > 0 ? t0 - span : 0; u <= t0; u++) {
            int needed = 0;
            for (int k = 0; u < t0 && k < c->taps && !needed; k++) {
                const int t = u + ars_conv_shift(c, k);
                needed = t >= t0 && t < end[l];
            }
            if (needed && run < 0) {
                run = u;
            } else if (!needed && run >= 0) {
                NAME(ratio_copy_context)(ws, q, dst, l, c->cin, run, u);
                run = -1;
            }
        }
    }
    const int C0 = ars_arch_input_channels(arch);
    /* Output positions < Lc read inputs at positions < Lc - 1 only. */
    for (int u = t0; u < Lc - 1; u++) {
        NAME(ars_arnn_encode_site)
        (win->x + (size_t)u * C0 * nw, q->cfg, (size_t)W, arch, u, q->a, nw);
    }
    /* The network's own site functions over positions t0..Lc-1 (the windows' rows are the batch,
     * stride nw); the chain's mask is applied below, window by window. */
    NAME(ars_arnn_site_io) io;
    memset(&io, 0, sizeof io);
    for (int l = 0; l < n; l++) {
        io.in[l] = l == 0 ? win->x : win->a[l - 1];
        io.in_len[l] = W;
        io.z[l] = win->z[l];
        io.z_len[l] = W;
    }
    io.lpsi = win->lpsi;
    io.lpsi_len = W;
    io.ld = (size_t)nw;
    /* Layer by layer over the positions: a window batch's layer outputs (W, C, nw) are larger
     * than L2, and running one layer over all positions before the next keeps its input hot
     * (site by site, the conv ran 28% longer at 64 sites and 6 layers). */
    for (int l = 0; l < n; l++) {
        for (int u = t0; u < end[l]; u++) {
            NAME(ars_arnn_layer_site)(&io, net, RATIO_PARAMS(ws), l, u, nw);
        }
        if (l < n - 1) {
            /* Layer l + 1 reads its input up to end[l + 1] - 1 (its outputs past that are
             * copied in turn). */
            NAME(ratio_copy_context)
            (ws, q, win->a[l], l + 1, net->layer[l].cout, end[l], end[l + 1]);
        }
    }
    for (int u = t0; u < Lc; u++) {
        NAME(ars_arnn_head_site)(&io, net, NULL, NULL, NULL, u, nw);
    }
    if (!ws->hil.constrained) {
        return;
    }
    /* The chain's sector mask at the window's segment: site a + u, prefix m0 plus the window's
     * own values before u. */
    for (int w = 0; w < nw; w++) {
        const ratio_window *r = &q->rec[w];
        const uint8_t *row = q->cfg + (size_t)w * W;
        int m = r->m0;
        for (int u = 0; u <= r->hi; u++) {
            if (u >= r->lo) {
                int lo, hi;
                ars_hilbert_feasible(&ws->hil, r->a + u, m, &lo, &hi);
                if (lo > 0 || hi < D - 1) {
                    const size_t off = (size_t)u * D * nw + (size_t)w;
                    NAME(ars_arnn_mask_site)
                    (win->lpsi + off, win->z[n - 1] + off, (size_t)nw, D, lo, hi);
                }
            }
            m += ars_hilbert_value(&ws->hil, row[u]);
        }
    }
}

/* Runs the windows of batch q, which are the sorted windows order[first ..] of the call, and
 * stores each one's sum_t (lpsi'[t, s'_t] - lpsi[t, s_t]) over its segment in ws->contrib. */
static void NAME(ratio_run_batch)(ars_ratio_ws *ws, const ratio_batch *q, int first) {
    const int nw = q->n, W = ws->W, L = ws->L, D = ws->D;
    int t0 = W, Lc = 0;
    for (int w = 0; w < nw; w++) {
        t0 = q->rec[w].lo < t0 ? q->rec[w].lo : t0;
        Lc = q->rec[w].hi + 1 > Lc ? q->rec[w].hi + 1 : Lc;
    }
    int end[ARS_MAX_LAYERS];
    NAME(ratio_window_forward)(ws, q, t0, Lc, end);
    for (int l = 0; l < ws->arch.layers; l++) {
        ws->flops_computed += (uint64_t)(end[l] - t0) * (uint64_t)nw * ws->flops[l];
    }
    /* New terms, site by site over the batch (contiguous in w). */
    const REAL *lw = ws->NAME(win)->lpsi;
    double *acc = ws->acc;
    for (int w = 0; w < nw; w++) {
        acc[w] = 0.0;
    }
    for (int t = t0; t < Lc; t++) {
        const REAL *lt = lw + (size_t)t * D * nw;
        for (int w = 0; w < nw; w++) {
            const ratio_window *r = &q->rec[w];
            if (t >= r->lo && t <= r->hi) {
                acc[w] += (double)lt[(size_t)q->cfg[(size_t)w * W + t] * nw + w];
            }
        }
    }
    /* Minus the old terms, from the samples' own pass. */
    for (int w = 0; w < nw; w++) {
        const ratio_window *r = &q->rec[w];
        const double *old = ws->lsel + (size_t)r->b * L + r->a;
        double sum = 0.0;
        for (int t = r->lo; t <= r->hi; t++) {
            sum += old[t];
        }
        ws->contrib[ws->order[first + w]] = acc[w] - sum;
    }
}

/* The samples' own forward pass: its layer inputs (ws->ctx) and selected terms (ws->lsel, in
 * double for both precisions). */
static void NAME(ratio_full_pass)(ars_ratio_ws *ws, const uint8_t *cfg, const ars_arnn *net,
                                  int B) {
    const int L = ws->L, D = ws->D;
    NAME(full_forward)(cfg, net, RATIO_PARAMS(ws), ws->NAME(full), B, L);
    NAME(ratio_context)(ws, B);
    for (int t = 0; t < L; t++) {
        const REAL *lt = ws->NAME(full)->lpsi + (size_t)t * D * B;
        for (int b = 0; b < B; b++) {
            ws->lsel[(size_t)b * L + t] = (double)lt[(size_t)cfg[(size_t)b * L + t] * B + b];
        }
    }
}

/* The masked term lpsi[t, s_t] of sample b of the samples' own pass, for the feasible states
 * [lo, hi] (ratio_mask_shift). */
static double NAME(ratio_masked_term)(const ars_ratio_ws *ws, const uint8_t *cfg, int b, int t,
                                      int lo, int hi) {
    const int L = ws->L, B = ws->B_used, D = ws->D;
    const REAL *z = ws->NAME(full)->z[ws->arch.layers - 1];
    REAL zt[RATIO_MAX_D], lp[RATIO_MAX_D];
    for (int i = 0; i < D; i++) {
        zt[i] = z[((size_t)t * D + i) * B + (size_t)b];
    }
    NAME(ars_arnn_mask_site)(lp, zt, 1, D, lo, hi);
    return (double)lp[cfg[(size_t)b * L + t]];
}
