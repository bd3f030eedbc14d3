/*
 * phase_conv: the `conv` phase network, a centred 1D convolution stack (the math is at the top
 * of phase.h).
 *
 * One configuration at a time. Output sites p..e are computed from the input sites
 * p - left_0 .. e + right_0, where left_l, right_l are the reaches of layers l..n-1:
 * layer l's input holds W_l = (e - p + 1) + left_l + right_l positions, position u at chain
 * site q = p - left_l + u (on a periodic chain site q mod L; on an open one zero outside the
 * chain), and its output position v reads input positions v + k d_l, k < K. The full pass is
 * the window p = 0, e = L - 1, so the full pass and the windows run the same arithmetic for a
 * site with the same inputs (the same bits). On a periodic chain the positions past the ends
 * are copies, recomputed; the backward pass runs through them as they were computed, which
 * is exact. Within a configuration, a layer's output positions are computed eight at a time in
 * register tiles (conv_layer); every value keeps the arithmetic order of the formula.
 */
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"
#include "nn/phase.h"

/* Reach of layers l..n-1 to the left and right. */
static void conv_suffix_reach(const ars_phase_arch *a, int l, int *left, int *right) {
    const int cK = (a->kernel_size - 1) / 2;
    *left = 0;
    *right = 0;
    for (int j = l; j < a->layers; j++) {
        *left += cK * a->dilation[j];
        *right += (a->kernel_size - 1 - cK) * a->dilation[j];
    }
}

static void conv_reach(const ars_phase_arch *a, int *left, int *right) {
    conv_suffix_reach(a, 0, left, right);
}

static size_t conv_n_params(const ars_phase_arch *a) {
    size_t P = 0;
    for (int l = 0; l < a->layers; l++) {
        const size_t cin = (size_t)ars_phase_arch_cin(a, l),
                     cout = (size_t)ars_phase_arch_cout(a, l);
        P += (size_t)a->kernel_size * cin * cout + cout;
    }
    return P;
}

static void conv_views(ars_phase *ph) {
    const ars_phase_arch *a = &ph->arch;
    double *p = ph->params;
    for (int l = 0; l < a->layers; l++) {
        const size_t cin = (size_t)ars_phase_arch_cin(a, l),
                     cout = (size_t)ars_phase_arch_cout(a, l);
        ph->kernel[l] = p;
        p += (size_t)a->kernel_size * cin * cout;
        ph->bias[l] = p;
        p += cout;
    }
}

/* Input width of layer l for the full chain. */
static size_t conv_width(const ars_phase_arch *a, int l) {
    int left, right;
    conv_suffix_reach(a, l, &left, &right);
    return (size_t)a->size + (size_t)left + (size_t)right;
}

/* Output positions computed together, one vector: independent sums, so that the adds of one
 * do not wait for those of another (each sum alone is a chain of K C dependent adds). */
#define CONV_TILE 8
/* Output features held in registers at a time. */
#define CONV_FBLOCK 8
/* Input channels of the backward pass's input gradient summed together. */
#define CONV_CBLOCK 8

/* Offsets of the scratch blocks: in[l] (W_l, C_l) for l <= n-1, z[l] (W_{l+1}, F_l) (what a
 * full pass leaves for later windows: cache_doubles ends there), two backward blocks of
 * max_l W_l * max(C_l, F_l), a forward tile, a transposed kernel and the windows' masks. */
typedef struct conv_layout {
    size_t in[ARS_MAX_LAYERS], z[ARS_MAX_LAYERS], back0, back1, tile, wt, mask, total;
} conv_layout;

static void conv_layout_of(const ars_phase_arch *a, conv_layout *lo) {
    memset(lo, 0, sizeof *lo);
    size_t off = 0, big = 0, cmax = 0, wmax = 0;
    for (int l = 0; l < a->layers; l++) {
        const size_t W = conv_width(a, l), Wn = conv_width(a, l + 1);
        const size_t cin = (size_t)ars_phase_arch_cin(a, l),
                     cout = (size_t)ars_phase_arch_cout(a, l);
        lo->in[l] = off;
        off += W * cin;
        lo->z[l] = off;
        off += Wn * cout;
        const size_t m = W * (cin > cout ? cin : cout);
        big = m > big ? m : big;
        cmax = cin > cmax ? cin : cmax;
        wmax = cin * cout > wmax ? cin * cout : wmax;
    }
    lo->back0 = off;
    lo->back1 = off + big;
    /* a tile's inputs, position-minor (conv_layer) */
    lo->tile = off + 2 * big;
    /* a layer's kernel transposed (conv_backward) */
    lo->wt = lo->tile + (size_t)a->kernel_size * cmax * CONV_TILE;
    /* two byte masks of the widest layer's positions (the changed inputs of a window) */
    lo->mask = lo->wt + (size_t)a->kernel_size * wmax;
    lo->total = lo->mask + (2 * conv_width(a, 0) + sizeof(double) - 1) / sizeof(double);
}

static size_t conv_ws_doubles(const ars_phase_arch *a) {
    conv_layout lo;
    conv_layout_of(a, &lo);
    return lo.total;
}

/* The layer values of a full pass that a later window reads (the in and z blocks). */
static size_t conv_cache_doubles(const ars_phase_arch *a) {
    conv_layout lo;
    conv_layout_of(a, &lo);
    return lo.back0;
}

/* 1 if chain position q (unwrapped) lies on the chain or the chain is periodic. */
static int conv_inside(const ars_phase_arch *a, long q) {
    return a->pbc || (q >= 0 && q < a->size);
}

/* x mod L in [0, L): the division only off the chain (it is slow, and this is per tap). */
static inline int conv_wrap(long x, int L) {
    return x >= 0 && x < L ? (int)x : (int)(((x % L) + L) % L);
}

/* Input position of tap k of output position v (see conv_layer). */
static inline int conv_tap(int v, int k, int d, int cK, int v0, int ring_L, int ring_left) {
    if (ring_L > 0) {
        /* output position v is site v - v0; its tap k reads site v - v0 + (k - cK) d */
        return conv_wrap((long)v - v0 + (long)(k - cK) * d, ring_L) + ring_left;
    }
    return v + k * d;
}

/* Features f0 .. f0 + MF - 1 of a tile's np positions: MF x CONV_TILE sums in registers,
 * vectorised over the positions. As in maskedconv1d_site.h, the pragmas keep GCC from
 * vectorising across the features with permutes. */
static inline __attribute__((always_inline)) void
conv_tile_features(double *restrict z, const double *restrict tile, const double *restrict W,
                   const double *restrict bias, int F, size_t KC, const int *pos, int np, int f0,
                   int MF) {
    double acc[CONV_FBLOCK][CONV_TILE];
    for (int i = 0; i < MF; i++) {
        for (int j = 0; j < CONV_TILE; j++) {
            acc[i][j] = bias[f0 + i];
        }
    }
    for (size_t kc = 0; kc < KC; kc++) {
        const double *x = tile + kc * CONV_TILE, *w = W + kc * F + f0;
#pragma GCC unroll 8
        for (int i = 0; i < MF; i++) {
            const double wi = w[i];
#pragma omp simd
            for (int j = 0; j < CONV_TILE; j++) {
                acc[i][j] += wi * x[j];
            }
        }
    }
    for (int i = 0; i < MF; i++) {
        for (int j = 0; j < np; j++) {
            z[(size_t)pos[j] * F + f0 + i] = acc[i][j];
        }
    }
}

/* z (Wn, F) = bias + sum_k W[k] in(v + k d) at output positions v = v0, v0 + 1, ..., v0 + nv - 1
 * (only those with only[v] set, when only != NULL); with ring_L > 0 the input position of tap k
 * is the canonical one of its site (a periodic chain's positions past the ends hold copies:
 * ring_left is layer l's left reach). Every value is bias[f], then the products added in the
 * order k, c (a separate multiply and add: no contraction in ISO C), whatever the tiling.
 * tile: scratch of K C CONV_TILE doubles. */
ARS_CLONES static void conv_layer(double *restrict z, const double *restrict in,
                                  const double *restrict W, const double *restrict bias, int C,
                                  int F, int K, int d, int v0, int nv, int ring_L, int ring_left,
                                  const uint8_t *restrict only, double *restrict tile) {
    const int cK = (K - 1) / 2;
    const size_t KC = (size_t)K * C;
    int v = v0;
    for (;;) {
        int pos[CONV_TILE], np = 0;
        for (; v < v0 + nv && np < CONV_TILE; v++) {
            if (only == NULL || only[v]) {
                pos[np++] = v;
            }
        }
        if (np == 0) {
            break;
        }
        for (int j = np; j < CONV_TILE; j++) {
            pos[j] = pos[np - 1]; /* computed again, not stored */
        }
        /* The tile's inputs, tile[(k C + c) CONV_TILE + j] = in(tap k of pos[j])[c]. */
        for (int k = 0; k < K; k++) {
            for (int j = 0; j < CONV_TILE; j++) {
                const double *x =
                    in + (size_t)conv_tap(pos[j], k, d, cK, v0, ring_L, ring_left) * C;
                for (int c = 0; c < C; c++) {
                    tile[((size_t)k * C + c) * CONV_TILE + j] = x[c];
                }
            }
        }
        int f0 = 0;
        for (; f0 + CONV_FBLOCK <= F; f0 += CONV_FBLOCK) {
            conv_tile_features(z, tile, W, bias, F, KC, pos, np, f0, CONV_FBLOCK);
        }
        for (; f0 < F; f0++) {
            conv_tile_features(z, tile, W, bias, F, KC, pos, np, f0, 1);
        }
    }
}

/* Fills positions 0..W-1 of x (W, C) outside [left, left + L) with the copies of their sites. */
static void ring_copies(double *x, int W, int C, int L, int left) {
    for (int u = 0; u < W; u++) {
        if (u < left || u >= left + L) {
            const int q = conv_wrap((long)u - left, L);
            memcpy(x + (size_t)u * C, x + (size_t)(q + left) * C, (size_t)C * sizeof(double));
        }
    }
}

/* Base layout position of chain position q (unwrapped) in a layer whose left reach is left:
 * the canonical copy of its site on a periodic chain. */
static size_t base_position(const ars_phase_arch *a, long q, int left) {
    const long L = a->size;
    return (size_t)((a->pbc ? conv_wrap(q, (int)L) : q) + left);
}

static void conv_outputs(double *out, const uint8_t *row, int p, int e, const ars_phase *ph,
                         double *ws, double *scratch, const double *base, const uint8_t *base_row) {
    const ars_phase_arch *a = &ph->arch;
    const int n = a->layers, K = a->kernel_size, D = a->local_size, L = a->size;
    ARS_ASSERT(p <= e && e - p < L && p >= 0 && (a->pbc || e < L), "window [%d, %d] of %d sites", p,
               e, L);
    conv_layout lo;
    conv_layout_of(a, &lo);
    const int span = e - p + 1;
    int left, right;
    conv_suffix_reach(a, 0, &left, &right);
    /* The whole ring: each site is computed once per layer and its copies past the ends are
     * copied (the same arithmetic on the same inputs: the same bits, in the same layout). */
    const int ring = a->pbc && span == L;
    /* With a base (the full pass of base_row, conv_cache_doubles of it): a value whose inputs
     * are those of base_row is copied from it rather than recomputed (the same bits). chg
     * marks the changed positions of a layer's input, chg_next of its output. */
    uint8_t *chg = base != NULL ? (uint8_t *)(ws + lo.mask) : NULL;
    uint8_t *chg_next = base != NULL ? chg + conv_width(a, 0) : NULL;
    /* The one-hot input. */
    double *x = ws + lo.in[0];
    const int W0 = span + left + right;
    memset(x, 0, (size_t)W0 * (size_t)D * sizeof(double));
    for (int u = 0; u < W0; u++) {
        const long q = (long)p - left + u;
        const int site = conv_wrap(q, L);
        if (conv_inside(a, q)) {
            x[(size_t)u * D + row[site]] = 1.0;
        }
        if (base != NULL) {
            chg[u] = conv_inside(a, q) && row[site] != base_row[site];
        }
    }
    for (int l = 0; l < n; l++) {
        const int C = ars_phase_arch_cin(a, l), F = ars_phase_arch_cout(a, l), d = a->dilation[l];
        int left_l, right_l, left_next, right_next;
        conv_suffix_reach(a, l, &left_l, &right_l);
        conv_suffix_reach(a, l + 1, &left_next, &right_next);
        const int Wn = span + left_next + right_next;
        const double *in = ws + lo.in[l];
        double *z = ws + lo.z[l];
        double *next = l < n - 1 ? ws + lo.in[l + 1] : NULL;
        /* The output positions computed: on a ring its L canonical ones (left_next ..), else
         * all Wn. */
        const int v0 = ring ? left_next : 0, nv = ring ? L : Wn;
        if (base != NULL) {
            /* Output position v reads input positions v + k d (on a ring: its sites' canonical
             * ones): changed if any of them is. Zero padding outside an open chain never
             * changes. */
            const int cK = (K - 1) / 2;
            memset(chg_next + v0, 0, (size_t)nv);
            if (ring) {
                /* tap k of site i reads site (i + s) mod L: two contiguous runs */
                for (int k = 0; k < K; k++) {
                    const int sh = conv_wrap((long)(k - cK) * d, L);
                    const uint8_t *src = chg + left_l;
                    uint8_t *dst = chg_next + v0;
                    for (int i = 0; i < L - sh; i++) {
                        dst[i] |= src[i + sh];
                    }
                    for (int i = L - sh; i < L; i++) {
                        dst[i] |= src[i + sh - L];
                    }
                }
            } else {
                /* the outputs on the chain (v with 0 <= p - left_next + v < L when it is open):
                 * zero padding never changes */
                const int lo_v = !a->pbc && left_next - p > 0 ? left_next - p : 0;
                const int hi_v = !a->pbc && left_next - p + L < Wn ? left_next - p + L : Wn;
                for (int k = 0; k < K; k++) {
                    for (int v = lo_v; v < hi_v; v++) {
                        chg_next[v] |= chg[v + k * d];
                    }
                }
            }
            /* The unchanged positions, copied in runs that are contiguous in the base. */
            const long q0 = (long)p - left_next;
            for (int v = v0; v < v0 + nv;) {
                if (chg_next[v]) {
                    v++;
                    continue;
                }
                const size_t b = base_position(a, q0 + v, left_next);
                int r = 1;
                while (v + r < v0 + nv && !chg_next[v + r] &&
                       base_position(a, q0 + v + r, left_next) == b + (size_t)r) {
                    r++;
                }
                const size_t len = (size_t)r * (size_t)F * sizeof(double);
                memcpy(z + (size_t)v * F, base + lo.z[l] + b * (size_t)F, len);
                if (next != NULL) {
                    memcpy(next + (size_t)v * F, base + lo.in[l + 1] + b * (size_t)F, len);
                }
                v += r;
            }
        }
        conv_layer(z, in, ph->kernel[l], ph->bias[l], C, F, K, d, v0, nv, ring ? L : 0,
                   ring ? left_l : 0, chg_next, scratch + (lo.tile - lo.back0));
        if (next == NULL) {
            for (int v = 0; v < span; v++) {
                out[v] = z[v];
            }
            continue;
        }
        if (base != NULL) {
            for (int v = v0; v < v0 + nv;) {
                int r = 0;
                while (v + r < v0 + nv && chg_next[v + r]) {
                    r++;
                }
                if (r > 0) {
                    ars_activation_apply(next + (size_t)v * F, z + (size_t)v * F,
                                         (size_t)r * (size_t)F, a->activation);
                }
                v += r > 0 ? r : 1;
            }
            uint8_t *t = chg;
            chg = chg_next;
            chg_next = t;
        } else {
            ars_activation_apply(next + (size_t)v0 * F, z + (size_t)v0 * F, (size_t)nv * (size_t)F,
                                 a->activation);
        }
        if (ring) {
            ring_copies(z, Wn, F, L, left_next);
            ring_copies(next, Wn, F, L, left_next);
        } else {
            for (int v = 0; v < Wn; v++) {
                if (!conv_inside(a, (long)p - left_next + v)) {
                    memset(next + (size_t)v * F, 0, (size_t)F * sizeof(double));
                }
            }
        }
    }
}

ARS_CLONES static void conv_backward(double *dparams, const ars_phase *ph, double *ws,
                                     double weight) {
    const ars_phase_arch *a = &ph->arch;
    const int n = a->layers, K = a->kernel_size, L = a->size;
    conv_layout lo;
    conv_layout_of(a, &lo);
    double *dz = ws + lo.back0, *din = ws + lo.back1;
    /* d phi / d z_{n-1}[t] = weight at every output site. */
    for (int v = 0; v < L; v++) {
        dz[v] = weight;
    }
    for (int l = n - 1; l >= 0; l--) {
        const int C = ars_phase_arch_cin(a, l), F = ars_phase_arch_cout(a, l), d = a->dilation[l];
        int left, right, left_next, right_next;
        conv_suffix_reach(a, l, &left, &right);
        conv_suffix_reach(a, l + 1, &left_next, &right_next);
        const int W = L + left + right, Wn = L + left_next + right_next;
        const double *in = ws + lo.in[l], *Wk = ph->kernel[l];
        double *dW = dparams + (ph->kernel[l] - ph->params), *db = dW + (size_t)K * C * F;
        for (int v = 0; v < Wn; v++) {
            const double *g = dz + (size_t)v * F;
            for (int f = 0; f < F; f++) {
                db[f] += g[f];
            }
            for (int k = 0; k < K; k++) {
                const double *xin = in + (size_t)(v + k * d) * C;
                double *dwk = dW + (size_t)k * C * F;
                for (int c = 0; c < C; c++) {
                    const double xv = xin[c];
                    double *dw = dwk + (size_t)c * F;
                    for (int f = 0; f < F; f++) {
                        dw[f] += g[f] * xv;
                    }
                }
            }
        }
        if (l == 0) {
            break;
        }
        memset(din, 0, (size_t)W * (size_t)C * sizeof(double));
        /* din(v + k d)[c] += sum_f W[k, c, f] dz(v)[f], each sum over f in order, computed for
         * CONV_CBLOCK channels at once from the kernel transposed, wt[(k F + f) C + c]. */
        double *wt = ws + lo.wt;
        for (int k = 0; k < K; k++) {
            for (int c = 0; c < C; c++) {
                for (int f = 0; f < F; f++) {
                    wt[((size_t)k * F + f) * C + c] = Wk[((size_t)k * C + c) * F + f];
                }
            }
        }
        for (int v = 0; v < Wn; v++) {
            const double *g = dz + (size_t)v * F;
            for (int k = 0; k < K; k++) {
                double *di = din + (size_t)(v + k * d) * C;
                const double *wtk = wt + (size_t)k * F * C;
                for (int c0 = 0; c0 < C; c0 += CONV_CBLOCK) {
                    const int mc = C - c0 < CONV_CBLOCK ? C - c0 : CONV_CBLOCK;
                    double s[CONV_CBLOCK] = {0.0};
                    for (int f = 0; f < F; f++) {
                        const double gf = g[f], *w = wtk + (size_t)f * C + c0;
#pragma omp simd
                        for (int c = 0; c < mc; c++) {
                            s[c] += w[c] * gf;
                        }
                    }
                    for (int c = 0; c < mc; c++) {
                        di[c0 + c] += s[c];
                    }
                }
            }
        }
        /* Padding positions of an open chain are constants, not functions of the parameters. */
        for (int u = 0; u < W; u++) {
            if (!conv_inside(a, (long)-left + u)) {
                memset(din + (size_t)u * C, 0, (size_t)C * sizeof(double));
            }
        }
        /* Layer l's input is act(z_{l-1}): z_{l-1} and a_{l-1} = in[l], W positions, C = F_{l-1}.
         */
        ars_activation_backward(dz, din, ws + lo.z[l - 1], in, (size_t)W * (size_t)C,
                                a->activation);
    }
}

const ars_phase_type ars_phase_conv_type = {
    .name = "conv",
    .n_params = conv_n_params,
    .views = conv_views,
    .ws_doubles = conv_ws_doubles,
    .cache_doubles = conv_cache_doubles,
    .outputs = conv_outputs,
    .backward = conv_backward,
    .reach = conv_reach,
};
