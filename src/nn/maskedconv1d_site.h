/*
 * The site kernel of maskedconv1d, written once for both precisions: maskedconv1d.c includes
 * this file twice, with REAL = double / float, FMA = fma / fmaf and NAME(x) = x / x##_f.
 *
 * A register tile holds MF output features x NB batch entries; for every (tap, channel) it
 * loads NB inputs (contiguous, batch-major) and broadcasts MF weights: MF*NB fused multiply-adds
 * per MF + NB loads. The tile sizes are compile-time constants at each call, so the compiler
 * keeps the accumulators in vector registers. Tiles of 8 features take TILE_NB entries; the
 * features left over (the head's D outputs, most often) take 8/MF times as many, so that every
 * tile has 8 x TILE_NB independent sums: fewer would wait on the FMA latency. Each sum is the
 * bias, then the products in (tap, channel) order, whatever the tile. The pragmas matter: without
 * them GCC 12 vectorises across features with permutes and runs 10x slower (docs/performance.md).
 */

/* One MF x nb tile at (f0, b0) of one group. nb <= NB; nb == NB is the vectorised case. */
static inline __attribute__((always_inline)) void
NAME(site_tile)(REAL *restrict out, size_t ldo, const REAL *const *taps, size_t ld, const REAL *W,
                int F, int Cg, int K, const REAL *bias, int f0, int b0, int MF, int NB, int nb) {
    REAL acc[8 * TILE_NB]; /* MF x NB, MF * NB <= 8 * TILE_NB */
    for (int i = 0; i < MF; i++) {
        const REAL init = bias != NULL ? bias[f0 + i] : (REAL)0;
        for (int v = 0; v < NB; v++) {
            acc[i * NB + v] = init;
        }
    }
    for (int k = 0; k < K; k++) {
        const REAL *a = taps[k];
        if (a == NULL) {
            continue; /* zero padding before the chain */
        }
        a += b0;
        const REAL *w = W + (size_t)k * Cg * F + f0;
        for (int c = 0; c < Cg; c++) {
            const REAL *ar = a + (size_t)c * ld;
            const REAL *wr = w + (size_t)c * F;
#pragma GCC unroll 8
            for (int i = 0; i < MF; i++) {
                const REAL wi = wr[i];
                if (nb == NB) {
#pragma omp simd
                    for (int v = 0; v < NB; v++) {
                        acc[i * NB + v] = FMA(wi, ar[v], acc[i * NB + v]);
                    }
                } else {
#pragma omp simd
                    for (int v = 0; v < nb; v++) {
                        acc[i * NB + v] = FMA(wi, ar[v], acc[i * NB + v]);
                    }
                }
            }
        }
    }
    /* A full tile stores with a constant trip count, straight from the registers: a loop to nb
     * would spill every accumulator to the stack first. */
    for (int i = 0; i < MF; i++) {
        REAL *o = out + (size_t)(f0 + i) * ldo + b0;
        if (nb == NB) {
#pragma omp simd
            for (int v = 0; v < NB; v++) {
                o[v] = acc[i * NB + v];
            }
        } else {
            for (int v = 0; v < nb; v++) {
                o[v] = acc[i * NB + v];
            }
        }
    }
}

/* The features [f0, Fg) left over after the 8-feature tiles, in MF-feature tiles over the
 * whole batch, NB = 8/MF * TILE_NB entries at a time. */
static inline __attribute__((always_inline)) void
NAME(site_rest)(REAL *restrict out, size_t ldo, const REAL *const *taps, size_t ld, const REAL *W,
                int F, int Cg, int Fg, int K, const REAL *bias, int f0, int MF, int B) {
    const int NB = 8 / MF * TILE_NB;
    for (; f0 + MF <= Fg; f0 += MF) {
        int b0 = 0;
        for (; b0 + NB <= B; b0 += NB) {
            NAME(site_tile)(out, ldo, taps, ld, W, F, Cg, K, bias, f0, b0, MF, NB, NB);
        }
        if (b0 < B) {
            NAME(site_tile)(out, ldo, taps, ld, W, F, Cg, K, bias, f0, b0, MF, NB, B - b0);
        }
    }
}

ARS_CLONES void NAME(ars_conv_site)(REAL *out, size_t ldo, const REAL *const *taps, size_t ld,
                                    const ars_conv *layer, const REAL *kernel, const REAL *bias,
                                    int B) {
    const int G = layer->groups, K = layer->taps, F = layer->cout;
    const int Cg = layer->cin / G, Fg = F / G;
    ARS_ASSERT(K <= ARS_MAX_TAPS, "%d taps", K);
    const REAL *gtaps[ARS_MAX_TAPS];
    for (int j = 0; j < G; j++) {
        /* Group j reads input channels [j*Cg, (j+1)*Cg) and writes features [j*Fg, (j+1)*Fg). */
        for (int k = 0; k < K; k++) {
            gtaps[k] = taps[k] != NULL ? taps[k] + (size_t)j * Cg * ld : NULL;
        }
        const REAL *Wg = kernel + (size_t)j * Fg;
        const REAL *bg = bias != NULL ? bias + (size_t)j * Fg : NULL;
        REAL *og = out + (size_t)j * Fg * ldo;
        const int F8 = Fg / 8 * 8;
        int b0 = 0;
        for (; F8 > 0 && b0 + TILE_NB <= B; b0 += TILE_NB) {
            for (int f0 = 0; f0 < F8; f0 += 8) {
                NAME(site_tile)(og, ldo, gtaps, ld, Wg, F, Cg, K, bg, f0, b0, 8, TILE_NB, TILE_NB);
            }
        }
        for (int f0 = 0; F8 > 0 && b0 < B && f0 < F8; f0 += 8) {
            NAME(site_tile)(og, ldo, gtaps, ld, Wg, F, Cg, K, bg, f0, b0, 8, TILE_NB, B - b0);
        }
        /* At most one tile of each narrower width: Fg - F8 < 8 features are left. */
        const int f4 = F8 + (Fg - F8) / 4 * 4, f2 = f4 + (Fg - f4) / 2 * 2;
        NAME(site_rest)(og, ldo, gtaps, ld, Wg, F, Cg, f4, K, bg, F8, 4, B);
        NAME(site_rest)(og, ldo, gtaps, ld, Wg, F, Cg, f2, K, bg, f4, 2, B);
        NAME(site_rest)(og, ldo, gtaps, ld, Wg, F, Cg, Fg, K, bg, f2, 1, B);
    }
}
