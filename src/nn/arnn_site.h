/*
 * The per-site kernels of arnn, written once for both precisions: arnn.c includes this file
 * twice, with REAL = double / float and NAME(x) = x / x##_f. See arnn.h for the math and the
 * shapes: ars_arnn_encode_site (the input x_0 of one site), ars_arnn_mask_site (the masked head
 * of one sample), ars_arnn_mask_batch (the sector mask of one site for a batch) and
 * ars_arnn_site (every layer and the head of one site for a batch: the forward pass, which the
 * full pass, the cached sampler and the ratio windows all call).
 */

void NAME(ars_arnn_encode_site)(REAL *x_t, const uint8_t *cfg, size_t cfg_stride,
                                const ars_arch *arch, int t, const int *offset, int B) {
    const int K = ars_arch_sublattice(arch);
    const int Cs = ars_arch_input_channels(arch) - (K > 1 ? K : 0); /* the spin's channels */
    if (arch->input == ARS_INPUT_VALUE) {
        for (int b = 0; b < B; b++) {
            x_t[b] = (REAL)ars_hilbert_value(&arch->hilbert, cfg[(size_t)b * cfg_stride + t]);
        }
    } else {
        for (int i = 0; i < Cs; i++) {
            for (int b = 0; b < B; b++) {
                x_t[(size_t)i * B + b] = cfg[(size_t)b * cfg_stride + t] == i ? (REAL)1 : (REAL)0;
            }
        }
    }
    /* Sublattice channels Cs .. Cs + K - 1: 1 at the row's chain site mod K. */
    for (int b = 0; K > 1 && b < B; b++) {
        const int r = (t + (offset != NULL ? offset[b] : 0)) % K;
        for (int i = 0; i < K; i++) {
            x_t[(size_t)(Cs + i) * B + b] = i == r ? (REAL)1 : (REAL)0;
        }
    }
}

/* The sums run in double in both precisions. */
void NAME(ars_arnn_mask_site)(REAL *lpsi, const REAL *z, size_t ld, int D, int lo, int hi) {
    const double mp = ARS_MACHINE_POW;
    if (lo > hi) { /* the prefix left the sector: nothing is feasible */
        for (int i = 0; i < D; i++) {
            lpsi[(size_t)i * ld] = (REAL)(-(double)INFINITY);
        }
        return;
    }
    double mx = -(double)INFINITY;
    for (int i = lo; i <= hi; i++) {
        mx = mp * (double)z[(size_t)i * ld] > mx ? mp * (double)z[(size_t)i * ld] : mx;
    }
    double sum = exp(mp * (double)z[(size_t)lo * ld] - mx); /* lo <= hi: at least one */
    for (int i = lo + 1; i <= hi; i++) {
        sum += exp(mp * (double)z[(size_t)i * ld] - mx);
    }
    const double norm = (mx + log(sum)) / mp;
    for (int i = 0; i < D; i++) {
        lpsi[(size_t)i * ld] = i >= lo && i <= hi ? (REAL)((double)z[(size_t)i * ld] - norm)
                                                  : (REAL)(-(double)INFINITY);
    }
}

void NAME(ars_arnn_mask_batch)(REAL *lpsi, const REAL *z, size_t ld, const ars_hilbert *hil, int t,
                               const int *offset, const int *m, int B) {
    const int D = hil->local_size;
    for (int b = 0; b < B; b++) {
        int lo, hi;
        ars_hilbert_feasible(hil, t + (offset != NULL ? offset[b] : 0), m[b], &lo, &hi);
        if (lo > 0 || hi < D - 1) {
            NAME(ars_arnn_mask_site)(lpsi + b, z + b, ld, D, lo, hi);
        }
    }
}

void NAME(ars_arnn_layer_site)(const NAME(ars_arnn_site_io) * io, const ars_arnn *net,
                               const REAL *params, int l, int t, int B) {
    const ars_arch *arch = &net->arch;
    const int L = arch->hilbert.size, n = arch->layers;
    const size_t ld = io->ld;
    ARS_ASSERT(l >= 0 && l < n && t >= 0 && t < L, "layer %d of %d, site %d of %d", l, n, t, L);
    ARS_ASSERT(B >= 1 && (size_t)B <= ld, "batch %d with row stride %zu", B, ld);
    const ars_conv *c = &net->layer[l];
    const int shift0 = ars_conv_shift(c, 0); /* tap 0 reads the farthest site */
    ARS_ASSERT(io->in[l] != NULL && io->in_len[l] >= (shift0 < L ? shift0 + 1 : L),
               "layer %d: the input ring of %d sites cannot hold the %d sites it reads", l,
               io->in_len[l], shift0 < L ? shift0 + 1 : L);
    ARS_ASSERT(io->z[l] != NULL && io->z_len[l] >= 1, "layer %d: no output buffer", l);
    /* Layer l's input (C_l, B) at site t - s_k, or zero padding before the chain. */
    const REAL *taps[ARS_MAX_TAPS];
    const size_t in_site = (size_t)c->cin * ld;
    for (int k = 0; k < c->taps; k++) {
        const int s = t - ars_conv_shift(c, k);
        taps[k] = s >= 0 ? io->in[l] + (size_t)(s % io->in_len[l]) * in_site : NULL;
    }
    REAL *z = io->z[l] + (size_t)(t % io->z_len[l]) * c->cout * ld;
    const REAL *kernel = params + (c->kernel - net->params);
    const REAL *bias = c->bias != NULL ? params + (c->bias - net->params) : NULL;
    NAME(ars_conv_site)(z, ld, taps, ld, c, kernel, bias, B);
    if (l < n - 1) {
        /* a_l = act(z_l): the next layer's input at site t. */
        ARS_ASSERT(io->in[l + 1] != NULL && io->in_len[l + 1] >= 1, "layer %d: no input", l + 1);
        REAL *next = io->in[l + 1] + (size_t)(t % io->in_len[l + 1]) * c->cout * ld;
        if (ld == (size_t)B) {
            NAME(ars_activation_apply)(next, z, (size_t)c->cout * ld, arch->activation);
        } else {
            for (int f = 0; f < c->cout; f++) {
                NAME(ars_activation_apply)
                (next + (size_t)f * ld, z + (size_t)f * ld, (size_t)B, arch->activation);
            }
        }
    }
}

void NAME(ars_arnn_head_site)(const NAME(ars_arnn_site_io) * io, const ars_arnn *net,
                              const ars_hilbert *hil, const int *offset, const int *m, int t,
                              int B) {
    const ars_arch *arch = &net->arch;
    const int D = arch->hilbert.local_size, n = arch->layers;
    const size_t ld = io->ld;
    const int masked = hil != NULL && hil->constrained;
    ARS_ASSERT(io->lpsi != NULL && io->lpsi_len >= 1, "no head buffer");
    ARS_ASSERT(!masked || (m != NULL && hil->local_size == D),
               "the sector mask needs the prefix sums and %d local states", D);
    const REAL *zl = io->z[n - 1] + (size_t)(t % io->z_len[n - 1]) * D * ld;
    /* The head: log-softmax of z_{n-1}, then the sector mask where it restricts the site. */
    REAL *lpsi = io->lpsi + (size_t)(t % io->lpsi_len) * D * ld;
    NAME(ars_log_softmax)(lpsi, zl, D, B, ld, (REAL)ARS_MACHINE_POW);
    if (masked) {
        NAME(ars_arnn_mask_batch)(lpsi, zl, ld, hil, t, offset, m, B);
    }
}

void NAME(ars_arnn_site)(const NAME(ars_arnn_site_io) * io, const ars_arnn *net, const REAL *params,
                         const ars_hilbert *hil, const int *offset, const int *m, int t, int B) {
    for (int l = 0; l < net->arch.layers; l++) {
        NAME(ars_arnn_layer_site)(io, net, params, l, t, B);
    }
    NAME(ars_arnn_head_site)(io, net, hil, offset, m, t, B);
}

/* The full forward pass (ars_arnn_forward) with the parameters params in this precision, into
 * the activations of ws (ars_arnn_ws or ars_arnn_ws_f: the same fields). */
static void NAME(arnn_forward)(const uint8_t *cfg, const ars_arnn *net, const REAL *params,
                               NAME(ars_arnn_ws) * ws, int B, int Lc) {
    const ars_arch *arch = &net->arch;
    const int L = arch->hilbert.size, n = arch->layers;
    const int C0 = ars_arch_input_channels(arch);
    const int constrained = arch->hilbert.constrained;
    ARS_ASSERT(B <= ws->B, "batch %d exceeds workspace %d", B, ws->B);
    ARS_ASSERT(Lc >= 0 && Lc <= L, "Lc %d of %d", Lc, L);
    /* The exclusive first layer makes output site t read input sites < t only, so outputs at
     * sites < Lc need cfg at sites < Lc - 1 alone. */
    for (int t = 0; t < Lc - 1; t++) {
        NAME(ars_arnn_encode_site)(ws->x + (size_t)t * C0 * B, cfg, (size_t)L, arch, t, NULL, B);
    }
    /* Every site of every layer is kept: the backward pass reads them. */
    NAME(ars_arnn_site_io) io;
    memset(&io, 0, sizeof io);
    io.in[0] = ws->x;
    for (int l = 0; l < n; l++) {
        io.z[l] = ws->z[l];
        io.z_len[l] = L;
        io.in_len[l] = L;
        if (l < n - 1) {
            io.in[l + 1] = ws->a[l];
        }
    }
    io.lpsi = ws->lpsi;
    io.lpsi_len = L;
    io.ld = (size_t)B;
    int *m = ws->msum; /* (B) value prefix sums, sectors only */
    for (int b = 0; constrained && b < B; b++) {
        m[b] = 0;
    }
    /* Layer by layer over the sites (every site is kept, so the order is free): one layer's
     * input stays in cache while it is read, which is faster than site by site once the
     * activations of the batch outgrow L2 (measured on 64- and 100-site chains). */
    for (int l = 0; l < n; l++) {
        for (int t = 0; t < Lc; t++) {
            NAME(ars_arnn_layer_site)(&io, net, params, l, t, B);
        }
    }
    for (int t = 0; t < Lc; t++) {
        NAME(ars_arnn_head_site)(&io, net, &arch->hilbert, NULL, m, t, B);
        for (int b = 0; constrained && t < Lc - 1 && b < B; b++) {
            m[b] += ars_hilbert_value(&arch->hilbert, cfg[(size_t)b * L + t]);
        }
    }
}

/* The activations of ws for B samples (x, z, a, lpsi, and msum for a sector): ARS_OK or
 * ARS_STATUS_ENOMEM (the caller frees what was allocated). */
static int NAME(arnn_acts_alloc)(NAME(ars_arnn_ws) * ws, const ars_arnn *net, int B) {
    const size_t BL = (size_t)B * (size_t)net->arch.hilbert.size;
    ws->B = B;
    if (net->arch.hilbert.constrained) {
        ws->msum = malloc((size_t)B * sizeof(int));
        if (ws->msum == NULL) {
            return ARS_STATUS_ENOMEM;
        }
    }
    ws->x = malloc(BL * (size_t)ars_arch_input_channels(&net->arch) * sizeof(REAL));
    ws->lpsi = malloc(BL * (size_t)net->arch.hilbert.local_size * sizeof(REAL));
    if (ws->x == NULL || ws->lpsi == NULL) {
        return ARS_STATUS_ENOMEM;
    }
    for (int l = 0; l < net->arch.layers; l++) {
        ws->z[l] = malloc(BL * (size_t)net->layer[l].cout * sizeof(REAL));
        if (ws->z[l] == NULL) {
            return ARS_STATUS_ENOMEM;
        }
        if (l < net->arch.layers - 1) {
            ws->a[l] = malloc(BL * (size_t)net->layer[l].cout * sizeof(REAL));
            if (ws->a[l] == NULL) {
                return ARS_STATUS_ENOMEM;
            }
        }
    }
    return ARS_OK;
}

/* Frees what arnn_acts_alloc allocated (not ws itself). */
static void NAME(arnn_acts_free)(NAME(ars_arnn_ws) * ws) {
    free(ws->x);
    free(ws->lpsi);
    free(ws->msum);
    for (int l = 0; l < ARS_MAX_LAYERS; l++) {
        free(ws->z[l]);
        free(ws->a[l]);
    }
}
