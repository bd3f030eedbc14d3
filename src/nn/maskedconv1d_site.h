/*
 * The site kernel of maskedconv1d, written once for both precisions: maskedconv1d.c includes
 * this file twice, with REAL = double / float, FMA = fma / fmaf and NAME(x) = x / x##_f.
 *
 * A register tile holds MF output features x NB batch entries; for every (tap, channel) it
 * loads NB inputs (contiguous, batch-major) and broadcasts MF weights: MF*NB fused multiply-adds
 * per MF + NB loads. The tile sizes are compile-time constants at each call, so the compiler
 * keeps the accumulators in vector registers. The pragmas matter: without them GCC 12
 * vectorises across features with permutes and runs 10x slower (docs/performance.md).
 */

/* One MF x nb tile at (f0, b0) of one group. nb <= NB; nb == NB is the vectorised case. */
static inline __attribute__((always_inline)) void
NAME(site_tile)(REAL *restrict out, size_t ldo, const REAL *const *taps, size_t ld, const REAL *W,
                int F, int Cg, int K, const REAL *bias, int f0, int b0, int MF, int NB, int nb) {
    REAL acc[8][TILE_NB];
    for (int i = 0; i < MF; i++) {
        const REAL init = bias != NULL ? bias[f0 + i] : (REAL)0;
        for (int v = 0; v < NB; v++) {
            acc[i][v] = init;
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
                        acc[i][v] = FMA(wi, ar[v], acc[i][v]);
                    }
                } else {
#pragma omp simd
                    for (int v = 0; v < nb; v++) {
                        acc[i][v] = FMA(wi, ar[v], acc[i][v]);
                    }
                }
            }
        }
    }
    for (int i = 0; i < MF; i++) {
        REAL *o = out + (size_t)(f0 + i) * ldo + b0;
        for (int v = 0; v < nb; v++) {
            o[v] = acc[i][v];
        }
    }
}

/* All feature tiles of one batch block [b0, b0 + nb): 8-, 4-, 2- and 1-feature tiles. */
static inline __attribute__((always_inline)) void
NAME(site_block)(REAL *restrict out, size_t ldo, const REAL *const *taps, size_t ld, const REAL *W,
                 int F, int Cg, int Fg, int K, const REAL *bias, int b0, int NB, int nb) {
    int f0 = 0;
    for (; f0 + 8 <= Fg; f0 += 8) {
        NAME(site_tile)(out, ldo, taps, ld, W, F, Cg, K, bias, f0, b0, 8, NB, nb);
    }
    for (; f0 + 4 <= Fg; f0 += 4) {
        NAME(site_tile)(out, ldo, taps, ld, W, F, Cg, K, bias, f0, b0, 4, NB, nb);
    }
    for (; f0 + 2 <= Fg; f0 += 2) {
        NAME(site_tile)(out, ldo, taps, ld, W, F, Cg, K, bias, f0, b0, 2, NB, nb);
    }
    for (; f0 < Fg; f0++) {
        NAME(site_tile)(out, ldo, taps, ld, W, F, Cg, K, bias, f0, b0, 1, NB, nb);
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
        int b0 = 0;
        for (; b0 + TILE_NB <= B; b0 += TILE_NB) {
            NAME(site_block)(og, ldo, gtaps, ld, Wg, F, Cg, Fg, K, bg, b0, TILE_NB, TILE_NB);
        }
        if (b0 < B) {
            NAME(site_block)(og, ldo, gtaps, ld, Wg, F, Cg, Fg, K, bg, b0, TILE_NB, B - b0);
        }
    }
}
