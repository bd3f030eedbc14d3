/*
 * The per-chunk loops of the sampler, written once for both precisions: sampler.c includes this
 * file twice with REAL = double / float and NAME(x) = x / x##_f. The forward pass of a site is
 * arnn's site function (ars_arnn_site, arnn.h); the sampler keeps each layer's input in a ring
 * of the last R_l sites, one site of pre-activations and one head.
 */

/* Draws site t of B samples from lpsi (D, B): cfg[b*stride + t] = the first i with
 * u_b < p_0 + ... + p_i, p_i = exp(mp lpsi[i, b]), one uniform per sample in batch order;
 * lp[b] += mp lpsi[pick, b]. p (D, B) and u (B) are scratch. Returns the number of non-finite
 * p met. The uniforms come first (GSL is scalar); the pick is branch-free and vectorised: the
 * first i with u < cum_i is the number of i < D-1 with cum_i <= u (cum is non-decreasing). */
static int NAME(draw_site)(uint8_t *cfg, size_t stride, int t, double *lp, const REAL *lpsi,
                           REAL *p, double *u, int D, int B, gsl_rng *r) {
    const REAL mp = (REAL)ARS_MACHINE_POW;
    const size_t DB = (size_t)D * B;
    for (size_t i = 0; i < DB; i++) {
        p[i] = mp * lpsi[i];
    }
    NAME(ars_vexp)(p, p, DB);
    int bad = 0;
    for (size_t i = 0; i < DB; i++) {
        bad += !isfinite(p[i]);
    }
    for (int b = 0; b < B; b++) {
        u[b] = gsl_rng_uniform(r);
    }
    int fix = 0;
#pragma omp simd reduction(+ : fix)
    for (int b = 0; b < B; b++) {
        double cum = 0.0;
        int pick = 0;
        for (int i = 0; i < D - 1; i++) {
            cum += (double)p[(size_t)i * B + b];
            pick += cum <= u[b];
        }
        fix += p[(size_t)pick * B + b] == 0; /* rounding put u in an empty last interval */
        cfg[(size_t)b * stride + t] = (uint8_t)pick;
        lp[b] += (double)mp * (double)lpsi[(size_t)pick * B + b];
    }
    for (int b = 0; fix > 0 && b < B; b++) {
        int pick = cfg[(size_t)b * stride + t];
        if (p[(size_t)pick * B + b] != 0) {
            continue;
        }
        /* Move to the last state with non-zero probability, undoing the accumulated term. */
        lp[b] -= (double)mp * (double)lpsi[(size_t)pick * B + b];
        while (pick > 0 && p[(size_t)pick * B + b] == 0) {
            pick--;
        }
        cfg[(size_t)b * stride + t] = (uint8_t)pick;
        lp[b] += (double)mp * (double)lpsi[(size_t)pick * B + b];
    }
    return bad;
}

/* Teacher forcing at site t: lp[b] += mp lpsi[s_t, b] and, if lpsi_out is not NULL, the
 * conditionals go to lpsi_out (B, L, D). */
static void NAME(take_site)(const uint8_t *cfg, int L, int t, double *lp, double *lpsi_out,
                            const REAL *lpsi, int D, int B) {
    const double mp = ARS_MACHINE_POW;
    for (int b = 0; b < B; b++) {
        lp[b] += mp * (double)lpsi[(size_t)cfg[(size_t)b * L + t] * B + b];
        if (lpsi_out != NULL) {
            for (int i = 0; i < D; i++) {
                lpsi_out[((size_t)b * L + t) * D + i] = (double)lpsi[(size_t)i * B + b];
            }
        }
    }
}

/* The cached algorithm over one chunk of B samples: draws them into out when r != NULL (cfg
 * is then out), else evaluates cfg. params (P) are the network's parameters in this precision.
 * Returns the number of non-finite probabilities met. */
static int NAME(cached_chunk)(const ars_sampler *s, ars_sampler_slot *sl, const REAL *params,
                              uint8_t *out, const uint8_t *cfg, double *lp, double *lpsi_out, int B,
                              gsl_rng *r) {
    const ars_arnn *net = s->net;
    const ars_arch *arch = &net->arch;
    const int L = arch->hilbert.size, D = arch->hilbert.local_size, n = arch->layers;
    const int constrained = arch->hilbert.constrained;
    int *m = sl->msum; /* (B) prefix sums of the values, for the sector mask */
    int bad = 0;
    /* Layer l's input: a ring of the last R_l sites; one site of z (shared by the layers) and
     * of the head. */
    NAME(ars_arnn_site_io) io;
    memset(&io, 0, sizeof io);
    for (int l = 0; l < n; l++) {
        io.in[l] = sl->ring[l];
        io.in_len[l] = s->ring_len[l];
        io.z[l] = sl->z;
        io.z_len[l] = 1;
    }
    io.lpsi = sl->lpsi;
    io.lpsi_len = 1;
    io.ld = (size_t)B;
    const REAL *lpsi = sl->lpsi;
    for (int b = 0; b < B; b++) {
        lp[b] = 0.0;
        m[b] = 0;
    }
    for (int t = 0; t < L; t++) {
        NAME(ars_arnn_site)(&io, net, params, &arch->hilbert, NULL, m, t, B);
        if (r != NULL) {
            bad += NAME(draw_site)(out, (size_t)L, t, lp, lpsi, sl->p, sl->u, D, B, r);
        } else {
            NAME(take_site)(cfg, L, t, lp, lpsi_out, lpsi, D, B);
        }
        for (int b = 0; constrained && b < B; b++) {
            m[b] += ars_hilbert_value(&arch->hilbert, cfg[(size_t)b * L + t]);
        }
        /* s_t is known now: encode it into layer 0's ring. */
        REAL *x_t = io.in[0] + (size_t)(t % s->ring_len[0]) * net->layer[0].cin * B;
        NAME(ars_arnn_encode_site)(x_t, cfg, (size_t)L, arch, t, NULL, B);
    }
    return bad;
}
