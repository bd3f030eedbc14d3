/*
 * hamiltonian: matrix elements of the spin-1/2 chain Hamiltonians and fast local energies of an
 * ars_arnn wavefunction; the math (conventions, Marshall sign, window method) is in
 * hamiltonian.h and docs/hamiltonians.md.
 */
#include "ops/hamiltonian.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"

/* Windows evaluated per batch of the window network: a multiple of the conv kernel's tile (16),
 * and not a power of two: the window activations are (site, channel, window) blocks, and a row
 * stride of 2 KiB (256 windows) put every row of a site into the same few L1 sets (the context
 * copy ran 2x slower). */
#define HAM_WINDOW_BATCH 240

const char *ars_ham_type_name(ars_ham_type type) {
    switch (type) {
        case ARS_HAM_TFIM:
            return "tfim";
        case ARS_HAM_XXZ:
            return "xxz";
        case ARS_HAM_HEISENBERG:
            return "heisenberg";
        case ARS_HAM_J1J2:
            return "j1j2";
    }
    return NULL;
}

int ars_ham_type_parse(const char *name, ars_ham_type *type) {
    static const ars_ham_type all[] = {ARS_HAM_TFIM, ARS_HAM_XXZ, ARS_HAM_HEISENBERG, ARS_HAM_J1J2};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        if (strcmp(name, ars_ham_type_name(all[k])) == 0) {
            *type = all[k];
            return 0;
        }
    }
    return -1;
}

int ars_ham_init(ars_ham *H, ars_ham_type type, int size, int two_s, double J, double h,
                 double Delta, double J2, int pbc, int marshall_sign) {
    memset(H, 0, sizeof *H);
    const char *name = ars_ham_type_name(type);
    if (name == NULL) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "[hamiltonian] unknown Hamiltonian type %d", (int)type);
    }
    if (two_s != 1) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] %s is defined for spin 1/2 only (got spin %d/2); use "
                       "system.spin = 0.5 or no Hamiltonian",
                       name, two_s);
    }
    if (size < 2) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "[hamiltonian] %s needs at least 2 sites (got %d)", name,
                       size);
    }
    if (pbc && size < 3) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] pbc needs at least 3 sites: with %d the wrap bond repeats "
                       "bond (0, 1)",
                       size);
    }
    if (type == ARS_HAM_J1J2 && size < 3) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] j1j2 needs at least 3 sites for a next-nearest bond (got %d)",
                       size);
    }
    if (type == ARS_HAM_J1J2 && pbc && size < 5) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] j1j2 with pbc needs at least 5 sites: with %d the "
                       "next-nearest bonds repeat",
                       size);
    }
    if (marshall_sign && pbc && size % 2 != 0) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] marshall_sign with pbc needs an even size: with %d sites the "
                       "wrap bond (%d, 0) joins two sites of the same sublattice",
                       size, size - 1);
    }
    if (!isfinite(J) || !isfinite(h) || !isfinite(Delta) || !isfinite(J2)) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] couplings must be finite (got J %g, h %g, Delta %g, J2 %g)",
                       J, h, Delta, J2);
    }
    H->type = type;
    H->size = size;
    H->J = J;
    H->pbc = pbc != 0;
    H->marshall_sign = marshall_sign != 0;
    switch (type) {
        case ARS_HAM_TFIM:
            H->h = h;
            break;
        case ARS_HAM_XXZ:
            H->Delta = Delta;
            break;
        case ARS_HAM_HEISENBERG:
            H->Delta = 1.0;
            break;
        case ARS_HAM_J1J2:
            H->Delta = 1.0;
            H->J2 = J2;
            break;
    }
    return ARS_OK;
}

int ars_ham_max_offdiag(const ars_ham *H) {
    const int L = H->size;
    const int nn = L - 1 + H->pbc;
    switch (H->type) {
        case ARS_HAM_TFIM:
            return L;
        case ARS_HAM_XXZ:
        case ARS_HAM_HEISENBERG:
            return nn;
        case ARS_HAM_J1J2:
            return nn + L - 2 + 2 * H->pbc;
    }
    return 0;
}

/* Sum over the bonds at distance d (d = 1 nearest, 2 next-nearest) of z_i z_j. */
static double bond_zz(const uint8_t *s, int L, int d, int pbc) {
    int sum = 0;
    for (int i = 0; i + d < L; i++) {
        sum += s[i] == s[i + d] ? 1 : -1;
    }
    if (pbc) {
        for (int i = L - d; i < L; i++) {
            sum += s[i] == s[i + d - L] ? 1 : -1;
        }
    }
    return (double)sum;
}

double ars_ham_diagonal(const ars_ham *H, const uint8_t *s) {
    const int L = H->size;
    switch (H->type) {
        case ARS_HAM_TFIM:
            return -H->J * bond_zz(s, L, 1, H->pbc);
        case ARS_HAM_XXZ:
        case ARS_HAM_HEISENBERG:
            return H->J * H->Delta * bond_zz(s, L, 1, H->pbc);
        case ARS_HAM_J1J2:
            return H->J * bond_zz(s, L, 1, H->pbc) + H->J2 * bond_zz(s, L, 2, H->pbc);
    }
    return 0.0;
}

/* Marshall sign ratio of flipping sites i and j (j = -1: i only): (-1)^(odd sites flipped). */
static double marshall_ratio(int i, int j) {
    int odd = (i & 1) + (j >= 0 ? (j & 1) : 0);
    return (odd & 1) ? -1.0 : 1.0;
}

/* Appends the exchange flips of the antiparallel bonds at distance d, element 2 coupling. */
static int bond_flips(const ars_ham *H, const uint8_t *s, int d, double coupling, ars_ham_flip *out,
                      int n) {
    const int L = H->size;
    for (int k = 0; k < L; k++) {
        int i = k, j = k + d;
        if (j >= L) {
            if (!H->pbc) {
                break;
            }
            i = j - L; /* wrap bond (k, k + d - L), stored with i < j */
            j = k;
        }
        if (s[i] != s[j]) {
            double mel = 2.0 * coupling;
            out[n].i = i;
            out[n].j = j;
            out[n].mel = H->marshall_sign ? mel * marshall_ratio(i, j) : mel;
            n++;
        }
    }
    return n;
}

int ars_ham_offdiag(const ars_ham *H, const uint8_t *s, ars_ham_flip *out) {
    int n = 0;
    switch (H->type) {
        case ARS_HAM_TFIM:
            for (int i = 0; i < H->size; i++) {
                out[n].i = i;
                out[n].j = -1;
                out[n].mel = H->marshall_sign ? -H->h * marshall_ratio(i, -1) : -H->h;
                n++;
            }
            break;
        case ARS_HAM_XXZ:
        case ARS_HAM_HEISENBERG:
            n = bond_flips(H, s, 1, H->J, out, n);
            break;
        case ARS_HAM_J1J2:
            n = bond_flips(H, s, 1, H->J, out, n);
            n = bond_flips(H, s, 2, H->J2, out, n);
            break;
    }
    return n;
}

/* ---- local energies ---------------------------------------------------------------------- */

/* One pending window: flip `flip` of sample `b`; window position u is chain site a + u; the
 * terms at window positions lo..hi are the segment's. */
typedef struct ham_window {
    int flip, b, a, lo, hi;
    int m0; /* sector: the value sum of the flipped configuration before site a */
} ham_window;

/* Windows waiting for a batch: queue 0 holds the interior ones (a > 0, so lo = R), queue 1
 * those that start at site 0 (lo = p <= R). Each batch recomputes positions >= min lo only. */
typedef struct ham_queue {
    uint8_t *cfg;    /* (nw_cap, W) window configurations */
    ham_window *rec; /* (nw_cap) */
    int n;
} ham_queue;

struct ars_ham_ws {
    int B, L, R, W, max_flips, nw_cap;
    int B_used;          /* samples of the current ham_prepare (the batch stride of ws->full) */
    ars_arch arch;       /* the architecture the workspace was sized for */
    ars_arnn net_win;    /* shallow copy of the network with hilbert.size = W */
    ars_arnn_ws *full;   /* forward pass of the samples, (L, ., B) */
    ars_arnn_ws *win;    /* forward pass of the windows, (W, ., nw_cap) */
    ars_ham_flip *flips; /* (B, max_flips) */
    int *n_flips;        /* (B) */
    double *dlog;        /* (B, max_flips) log_psi(s') - log_psi(s) */
    double *lsel;        /* (B, L) lpsi[t, s_t] of the samples, sample-major */
    double *ctx;         /* (B, L, Cs) every layer's input in the full pass, sample-major */
    int ctx_off[ARS_MAX_LAYERS], ctx_width; /* layer l's channels start at ctx_off[l] of Cs */
    double *acc;                            /* (nw_cap) per-window sums */
    ham_queue q[2];
    ars_hilbert hil;      /* the chain's, with its sector */
    int *pre;             /* (B, L) sector: value sum of the sample before site t */
    int G;                /* order of the symmetry group (1: none) */
    uint8_t *gcfg;        /* (B, L) g s (symmetrised only) */
    ars_ham_flip *gflips; /* (B, max_flips) the flips mapped by g (symmetrised only) */
    double *glp;          /* (G, B) log psi(g s) (symmetrised only) */
    double *gdlog;        /* (G, B, max_flips) log psi(g s') - log psi(g s) (symmetrised only) */
};

static int arch_equal(const ars_arch *x, const ars_arch *y) {
    if (x->hilbert.size != y->hilbert.size || x->hilbert.two_s != y->hilbert.two_s ||
        x->hilbert.constrained != y->hilbert.constrained || x->hilbert.two_m != y->hilbert.two_m ||
        x->symmetry != y->symmetry || x->layers != y->layers || x->kernel_size != y->kernel_size ||
        x->feature_group_count != y->feature_group_count || x->use_bias != y->use_bias ||
        x->activation != y->activation || x->input != y->input) {
        return 0;
    }
    for (int l = 0; l < x->layers; l++) {
        if (x->features[l] != y->features[l] || x->dilation[l] != y->dilation[l]) {
            return 0;
        }
    }
    return 1;
}

/* Reach R (<= L) and window length W of a network for H. */
static void ham_window_shape(const ars_ham *H, const ars_arnn *net, int *R, int *W) {
    const int L = H->size;
    uint8_t *depends = malloc((size_t)L);
    ARS_ASSERT(depends != NULL, "out of memory");
    long reach = ars_arch_receptive_field(&net->arch, depends);
    free(depends);
    *R = reach < L ? (int)reach : L;
    /* A merged pair segment [i, j + R] with j <= i + R + 1 plus its R sites of context:
     * at most 3R + 2 sites (2R + 3 for the bonds of H, j <= i + 2; the ratios of observables
     * take pairs at any distance). A batch computes only the span its windows need. */
    long w = 3L * *R + 2;
    *W = w < L ? (int)w : L;
}

static int ham_window_cap(const ars_ham *H, int B) {
    long cap = 2L * (long)B * ars_ham_max_offdiag(H);
    if (cap > HAM_WINDOW_BATCH) {
        cap = HAM_WINDOW_BATCH;
    }
    return cap < 1 ? 1 : (int)cap;
}

/* The shallow copy of net that runs the windows: W sites, and the plain network (the windows
 * apply the chain's sector mask themselves, and symmetrisation happens around them). */
static void window_network(ars_ham_ws *ws, const ars_arnn *net) {
    ws->net_win = *net;
    ws->net_win.arch.hilbert.size = ws->W;
    ws->net_win.arch.hilbert.constrained = 0;
    ws->net_win.arch.symmetry = ARS_SYM_NONE;
}

size_t ars_ham_ws_bytes(const ars_ham *H, const ars_arnn *net, int B) {
    int R, W;
    ham_window_shape(H, net, &R, &W);
    const int cap = ham_window_cap(H, B);
    ars_arch win = net->arch;
    win.hilbert.size = W;
    win.symmetry = ARS_SYM_NONE;
    const size_t G = (size_t)ars_sym_order(net->arch.symmetry);
    const size_t per_flip = sizeof(ars_ham_flip) + sizeof(double);
    const int max_flips = ars_ham_max_offdiag(H) > H->size ? ars_ham_max_offdiag(H) : H->size;
    int ctx_width = 0;
    for (int l = 0; l < net->arch.layers; l++) {
        ctx_width += net->layer[l].cin;
    }
    return ars_arnn_ws_bytes(&net->arch, B) + ars_arnn_ws_bytes(&win, cap) +
           G * (size_t)B * (size_t)max_flips * per_flip +
           (size_t)B * (size_t)H->size * (sizeof(int) + (G > 1)) +
           (size_t)B * (size_t)H->size * sizeof(double) * (1 + (size_t)ctx_width) +
           2 * (size_t)cap * ((size_t)W + sizeof(ham_window) + sizeof(double)) + sizeof(ars_ham_ws);
}

ars_ham_ws *ars_ham_ws_alloc(const ars_ham *H, const ars_arnn *net, int B) {
    ARS_ASSERT(net->arch.hilbert.local_size == 2, "Hamiltonians need spin 1/2 (local_size %d)",
               net->arch.hilbert.local_size);
    ARS_ASSERT(net->arch.hilbert.size == H->size, "network size %d, Hamiltonian size %d",
               net->arch.hilbert.size, H->size);
    ARS_ASSERT(B >= 1, "batch %d", B);
    ars_ham_ws *ws = calloc(1, sizeof *ws);
    if (ws == NULL) {
        return NULL;
    }
    ws->B = B;
    ws->L = H->size;
    ws->arch = net->arch;
    ham_window_shape(H, net, &ws->R, &ws->W);
    /* At least L flips per sample: ars_ham_log_ratios takes L (sx, xx correlations). */
    ws->max_flips = ars_ham_max_offdiag(H) > ws->L ? ars_ham_max_offdiag(H) : ws->L;
    ws->nw_cap = ham_window_cap(H, B);
    window_network(ws, net);
    ws->hil = net->arch.hilbert;
    ws->G = ars_sym_order(net->arch.symmetry);
    const size_t nf = (size_t)B * (size_t)ws->max_flips;
    ws->full = ars_arnn_ws_alloc(net, B);
    ws->win = ars_arnn_ws_alloc(&ws->net_win, ws->nw_cap);
    ws->flips = malloc((nf > 0 ? nf : 1) * sizeof *ws->flips);
    ws->n_flips = malloc((size_t)B * sizeof *ws->n_flips);
    ws->dlog = malloc((nf > 0 ? nf : 1) * sizeof *ws->dlog);
    ws->lsel = malloc((size_t)B * (size_t)ws->L * sizeof *ws->lsel);
    for (int l = 0; l < net->arch.layers; l++) {
        ws->ctx_off[l] = ws->ctx_width;
        ws->ctx_width += net->layer[l].cin;
    }
    const size_t n_ctx = (size_t)B * (size_t)ws->L * (size_t)ws->ctx_width;
    ARS_ASSERT(n_ctx > 0, "empty context");
    ws->ctx = malloc(n_ctx * sizeof *ws->ctx);
    ws->acc = malloc((size_t)ws->nw_cap * sizeof *ws->acc);
    if (ws->full == NULL || ws->win == NULL || ws->flips == NULL || ws->n_flips == NULL ||
        ws->dlog == NULL || ws->lsel == NULL || ws->acc == NULL || ws->ctx == NULL) {
        goto fail;
    }
    if (ws->hil.constrained) {
        ws->pre = malloc((size_t)B * (size_t)ws->L * sizeof *ws->pre);
        if (ws->pre == NULL) {
            goto fail;
        }
    }
    if (ws->G > 1) {
        ws->gcfg = malloc((size_t)B * (size_t)ws->L);
        ws->gflips = malloc((nf > 0 ? nf : 1) * sizeof *ws->gflips);
        ws->glp = malloc((size_t)ws->G * (size_t)B * sizeof *ws->glp);
        ws->gdlog = malloc((size_t)ws->G * (nf > 0 ? nf : 1) * sizeof *ws->gdlog);
        if (ws->gcfg == NULL || ws->gflips == NULL || ws->glp == NULL || ws->gdlog == NULL) {
            goto fail;
        }
    }
    for (int k = 0; k < 2; k++) {
        ws->q[k].cfg = malloc((size_t)ws->nw_cap * (size_t)ws->W);
        ws->q[k].rec = malloc((size_t)ws->nw_cap * sizeof *ws->q[k].rec);
        if (ws->q[k].cfg == NULL || ws->q[k].rec == NULL) {
            goto fail;
        }
    }
    return ws;
fail:
    ars_ham_ws_free(ws);
    return NULL;
}

void ars_ham_ws_free(ars_ham_ws *ws) {
    if (ws == NULL) {
        return;
    }
    ars_arnn_ws_free(ws->full);
    ars_arnn_ws_free(ws->win);
    free(ws->flips);
    free(ws->n_flips);
    free(ws->dlog);
    free(ws->lsel);
    free(ws->ctx);
    free(ws->acc);
    free(ws->pre);
    free(ws->gcfg);
    free(ws->gflips);
    free(ws->glp);
    free(ws->gdlog);
    for (int k = 0; k < 2; k++) {
        free(ws->q[k].cfg);
        free(ws->q[k].rec);
    }
    free(ws);
}

int ars_ham_ws_reach(const ars_ham_ws *ws) {
    return ws->R;
}

int ars_ham_ws_window(const ars_ham_ws *ws) {
    return ws->W;
}

/* Every layer's input of the full pass, (site, channel, batch) -> ctx (B, L, Cs), sites < L-1
 * (the context of a window ends before its first changed site, at most L - 1). */
static void ham_context(ars_ham_ws *ws, int B) {
    const ars_arnn_ws *full = ws->full;
    const int L = ws->L, Cs = ws->ctx_width;
    for (int l = 0; l < ws->arch.layers; l++) {
        const int C = ws->net_win.layer[l].cin;
        const double *src = l == 0 ? full->x : full->a[l - 1];
        for (int t = 0; t < L - 1; t++) {
            for (int b = 0; b < B; b++) {
                double *d = ws->ctx + ((size_t)b * L + t) * Cs + ws->ctx_off[l];
                for (int ch = 0; ch < C; ch++) {
                    d[ch] = src[((size_t)t * C + ch) * B + b];
                }
            }
        }
    }
}

/* The network on nw windows (W, ., nw) at positions t0 <= u < Lc only. Positions u < t0 lie
 * before every window's first changed site, so the layer inputs there (the encoded input and
 * the activations a_l) are the sample's own: the ones that positions >= t0 read (layer l reads
 * back span_l = (K' - 1 + e) d_l sites) are copied from the full pass (ws->ctx: sample r->b,
 * chain site r->a + u) instead of recomputed. Outputs at u >= t0 are then those of
 * ars_arnn_forward on the window, which this follows step by step (encode, conv, activation,
 * head; same kernels, same order). */
static void ham_window_forward(ars_ham_ws *ws, const ham_queue *q, int t0, int Lc) {
    const ars_arnn *net = &ws->net_win;
    const ars_arch *arch = &net->arch;
    const int nw = q->n, W = ws->W, n = arch->layers, L = ws->L, Cs = ws->ctx_width;
    ars_arnn_ws *win = ws->win;
    /* Window by window: the destination lines of one window are the next one's too. */
    for (int w = 0; w < nw; w++) {
        const ham_window *r = &q->rec[w];
        const double *row = ws->ctx + ((size_t)r->b * L + r->a) * Cs;
        for (int l = 0; l < n; l++) {
            const ars_conv *c = &net->layer[l];
            const int C = c->cin, span = ars_conv_shift(c, 0);
            double *dst = (l == 0 ? win->x : win->a[l - 1]) + w;
            for (int u = t0 - span > 0 ? t0 - span : 0; u < t0; u++) {
                const double *sp = row + (size_t)u * Cs + ws->ctx_off[l];
                double *dp = dst + (size_t)u * C * nw;
                for (int ch = 0; ch < C; ch++) {
                    dp[(size_t)ch * nw] = sp[ch];
                }
            }
        }
    }
    const int C0 = ars_arch_input_channels(arch);
    /* Output positions < Lc read inputs at positions < Lc - 1 only. */
    for (int u = t0; u < Lc - 1; u++) {
        ars_arnn_encode_site(win->x + (size_t)u * C0 * nw, q->cfg, (size_t)W, arch, u, nw);
    }
    const double *inp = win->x;
    for (int l = 0; l < n; l++) {
        const ars_conv *c = &net->layer[l];
        ars_conv_forward(win->z[l], inp, c, nw, W, t0, Lc);
        if (l < n - 1) {
            const size_t off = (size_t)t0 * c->cout * nw;
            ars_activation_apply(win->a[l] + off, win->z[l] + off, (size_t)(Lc - t0) * c->cout * nw,
                                 arch->activation);
            inp = win->a[l];
        }
    }
    for (int u = t0; u < Lc; u++) {
        const size_t off = (size_t)u * 2 * nw;
        ars_log_softmax(win->lpsi + off, win->z[n - 1] + off, 2, nw, (size_t)nw, ARS_MACHINE_POW);
    }
    if (!ws->hil.constrained) {
        return;
    }
    /* The chain's sector mask at the window's segment: site a + u, prefix m0 plus the window's
     * own values before u. */
    for (int w = 0; w < nw; w++) {
        const ham_window *r = &q->rec[w];
        const uint8_t *row = q->cfg + (size_t)w * W;
        int m = r->m0;
        for (int u = 0; u <= r->hi; u++) {
            if (u >= r->lo) {
                int lo, hi;
                ars_hilbert_feasible(&ws->hil, r->a + u, m, &lo, &hi);
                if (lo > 0 || hi < 1) {
                    const size_t off = (size_t)u * 2 * nw + (size_t)w;
                    ars_arnn_mask_site(win->lpsi + off, win->z[n - 1] + off, (size_t)nw, 2, lo, hi);
                }
            }
            m += 2 * row[u] - 1;
        }
    }
}

/* Runs the windows of queue q and adds each segment's sum_t (lpsi'[t, s'_t] - lpsi[t, s_t]) to
 * its flip's dlog. */
static void ham_flush(ars_ham_ws *ws, ham_queue *q) {
    const int nw = q->n, W = ws->W, L = ws->L;
    if (nw == 0) {
        return;
    }
    int t0 = W, Lc = 0;
    for (int w = 0; w < nw; w++) {
        t0 = q->rec[w].lo < t0 ? q->rec[w].lo : t0;
        Lc = q->rec[w].hi + 1 > Lc ? q->rec[w].hi + 1 : Lc;
    }
    ham_window_forward(ws, q, t0, Lc);
    /* New terms, site by site over the batch (contiguous in w). */
    const double *lw = ws->win->lpsi;
    double *acc = ws->acc;
    for (int w = 0; w < nw; w++) {
        acc[w] = 0.0;
    }
    for (int t = t0; t < Lc; t++) {
        const double *l0 = lw + (size_t)t * 2 * nw, *l1 = l0 + nw;
        for (int w = 0; w < nw; w++) {
            const ham_window *r = &q->rec[w];
            if (t >= r->lo && t <= r->hi) {
                acc[w] += q->cfg[(size_t)w * W + t] ? l1[w] : l0[w];
            }
        }
    }
    /* Minus the old terms, from the samples' own pass. */
    for (int w = 0; w < nw; w++) {
        const ham_window *r = &q->rec[w];
        const double *old = ws->lsel + (size_t)r->b * L + r->a;
        double sum = 0.0;
        for (int t = r->lo; t <= r->hi; t++) {
            sum += old[t];
        }
        ws->dlog[r->flip] += acc[w] - sum;
    }
    q->n = 0;
}

/* Change of the value sum when site t of sample b is flipped (spin 1/2: -1 <-> +1). */
static int flip_delta(const uint8_t *cfg, int L, int b, int t) {
    return cfg[(size_t)b * L + t] ? -2 : 2;
}

/* Queues the window of segment [p, e] (chain sites) of flip fl = (i, j), number f, of sample
 * b. */
static void ham_queue_segment(ars_ham_ws *ws, const uint8_t *cfg, int b, int f,
                              const ars_ham_flip *fl, int p, int e) {
    const int L = ws->L, W = ws->W;
    const int a = p - ws->R > 0 ? p - ws->R : 0;
    ham_queue *q = &ws->q[a == 0];
    if (q->n == ws->nw_cap) {
        ham_flush(ws, q);
    }
    const int len = e + 1 - a;
    ARS_ASSERT(len >= 1 && len <= W, "window [%d, %d] of length %d exceeds %d", a, e, len, W);
    uint8_t *row = q->cfg + (size_t)q->n * W;
    memcpy(row, cfg + (size_t)b * L + a, (size_t)len);
    memset(row + len, 0, (size_t)(W - len));
    if (fl->i >= a && fl->i < a + len) {
        row[fl->i - a] ^= 1;
    }
    if (fl->j >= a && fl->j < a + len) {
        row[fl->j - a] ^= 1;
    }
    ham_window *r = &q->rec[q->n++];
    r->flip = f;
    r->b = b;
    r->a = a;
    r->lo = p - a;
    r->hi = e - a;
    r->m0 = 0;
    if (ws->hil.constrained) {
        r->m0 = ws->pre[(size_t)b * L + a];
        r->m0 += fl->i < a ? flip_delta(cfg, L, b, fl->i) : 0;
        r->m0 += fl->j >= 0 && fl->j < a ? flip_delta(cfg, L, b, fl->j) : 0;
    }
}

/* The samples' own forward pass, their layer inputs (ws->ctx) and selected terms (ws->lsel). */
static void ham_prepare(ars_ham_ws *ws, const uint8_t *cfg, const ars_arnn *net, int B) {
    const int L = ws->L;
    ARS_ASSERT(B >= 0 && B <= ws->B, "batch %d exceeds workspace %d", B, ws->B);
    ARS_ASSERT(arch_equal(&net->arch, &ws->arch), "network differs from the workspace's");
    /* Refresh the shallow copy: the caller may pass another network of the same shape. */
    window_network(ws, net);
    ws->q[0].n = ws->q[1].n = 0;
    ws->B_used = B;
    ars_arnn_forward(cfg, net, ws->full, B, L);
    ham_context(ws, B);
    for (int t = 0; t < L; t++) {
        const double *l0 = ws->full->lpsi + (size_t)t * 2 * B, *l1 = l0 + B;
        for (int b = 0; b < B; b++) {
            ws->lsel[(size_t)b * L + t] = cfg[(size_t)b * L + t] ? l1[b] : l0[b];
        }
    }
    for (int b = 0; ws->hil.constrained && b < B; b++) {
        int m = 0;
        for (int t = 0; t < L; t++) {
            ws->pre[(size_t)b * L + t] = m;
            m += 2 * cfg[(size_t)b * L + t] - 1;
        }
    }
}

/* Sector, flip (i, j) with separate segments [i, e1] and [j, ...]: the sites t in (e1, j) keep
 * their network outputs (out of i's reach, before j) but their prefix sums move by the change
 * at i, which can change their mask. Returns the sum over them of the new minus the old masked
 * term (0 when no mask changes, as on every site where the sector does not bind). */
static double ham_mask_shift(const ars_ham_ws *ws, const uint8_t *cfg, int b, int i, int e1,
                             int j) {
    const int L = ws->L, B = ws->B_used, n = ws->arch.layers;
    const int di = flip_delta(cfg, L, b, i);
    const double *z = ws->full->z[n - 1];
    double acc = 0.0;
    for (int t = e1 + 1; t < j; t++) {
        const int m = ws->pre[(size_t)b * L + t];
        int lo0, hi0, lo1, hi1;
        ars_hilbert_feasible(&ws->hil, t, m, &lo0, &hi0);
        ars_hilbert_feasible(&ws->hil, t, m + di, &lo1, &hi1);
        if (lo0 == lo1 && hi0 == hi1) {
            continue;
        }
        const double zt[2] = {z[(size_t)t * 2 * B + (size_t)b],
                              z[((size_t)t * 2 + 1) * B + (size_t)b]};
        double lp[2];
        ars_arnn_mask_site(lp, zt, 1, 2, lo1, hi1);
        acc += lp[cfg[(size_t)b * L + t]] - ws->lsel[(size_t)b * L + t];
    }
    return acc;
}

/* Queues the windows of flip fl (number f, of sample b) and sets its dlog to what needs no
 * window: -inf for a flip that leaves the sector (psi = 0 there), else the mask shift between
 * separate segments (0 without a sector). */
static void ham_queue_flip(ars_ham_ws *ws, const uint8_t *cfg, int b, int f,
                           const ars_ham_flip *fl) {
    const int L = ws->L, R = ws->R;
    const int i = fl->i, j = fl->j;
    ws->dlog[f] = 0.0;
    if (ws->hil.constrained &&
        flip_delta(cfg, L, b, i) + (j >= 0 ? flip_delta(cfg, L, b, j) : 0) != 0) {
        ws->dlog[f] = -(double)INFINITY;
        return;
    }
    /* Terms that change: [i, i + R] and [j, j + R], clipped; one window if they touch. */
    int e1 = i + R < L - 1 ? i + R : L - 1;
    if (j < 0) {
        ham_queue_segment(ws, cfg, b, f, fl, i, e1);
        return;
    }
    int e2 = j + R < L - 1 ? j + R : L - 1;
    if (j <= e1 + 1) {
        ham_queue_segment(ws, cfg, b, f, fl, i, e2 > e1 ? e2 : e1);
    } else {
        ham_queue_segment(ws, cfg, b, f, fl, i, e1);
        ham_queue_segment(ws, cfg, b, f, fl, j, e2);
        if (ws->hil.constrained) {
            ws->dlog[f] += ham_mask_shift(ws, cfg, b, i, e1, j);
        }
    }
}

/* dlog of the plain network for the flips (n_flips[b] per sample b, at flips[b * max_flips]) of
 * the configurations cfg (B, L). */
static void ham_plain_ratios(ars_ham_ws *ws, const uint8_t *cfg, const ars_ham_flip *flips,
                             const ars_arnn *net, int B) {
    ham_prepare(ws, cfg, net, B);
    for (int b = 0; b < B; b++) {
        for (int k = 0; k < ws->n_flips[b]; k++) {
            const int f = b * ws->max_flips + k;
            ham_queue_flip(ws, cfg, b, f, &flips[f]);
        }
    }
    ham_flush(ws, &ws->q[0]);
    ham_flush(ws, &ws->q[1]);
}

/* dlog[f] = log psi(s') - log psi(s) of the state for the flips ws->flips: the plain network's,
 * or for a symmetrised one (symmetry.h)
 *   (1/mp) [logsumexp_g mp log psi(g s') - logsumexp_g mp log psi(g s)],
 * with log psi(g s') = log psi(g s) + the plain ratio of the flip mapped by g, on g s. */
static void ham_state_ratios(ars_ham_ws *ws, const uint8_t *cfg, const ars_arnn *net, int B) {
    if (ws->G == 1) {
        ham_plain_ratios(ws, cfg, ws->flips, net, B);
        return;
    }
    const int L = ws->L, G = ws->G, mf = ws->max_flips;
    const size_t nf = (size_t)B * (size_t)mf;
    const double mp = ARS_MACHINE_POW;
    for (int k = 0; k < G; k++) {
        const unsigned g = ars_sym_element(net->arch.symmetry, k);
        ars_sym_apply(ws->gcfg, cfg, (size_t)B, L, 2, g);
        for (int b = 0; b < B; b++) {
            for (int q = 0; q < ws->n_flips[b]; q++) {
                const ars_ham_flip *fl = &ws->flips[(size_t)b * mf + q];
                ars_ham_flip *gf = &ws->gflips[(size_t)b * mf + q];
                int i = ars_sym_site(g, L, fl->i), j = fl->j >= 0 ? ars_sym_site(g, L, fl->j) : -1;
                gf->i = j >= 0 && j < i ? j : i;
                gf->j = j >= 0 && j < i ? i : j;
                gf->mel = fl->mel;
            }
        }
        ham_plain_ratios(ws, ws->gcfg, ws->gflips, net, B);
        for (int b = 0; b < B; b++) {
            double acc = 0.0; /* the order of ars_arnn_log_psi */
            for (int t = 0; t < L; t++) {
                acc += ws->lsel[(size_t)b * L + t];
            }
            ws->glp[(size_t)k * B + b] = acc;
        }
        memcpy(ws->gdlog + (size_t)k * nf, ws->dlog, nf * sizeof(double));
    }
    for (int b = 0; b < B; b++) {
        double x[ARS_SYM_MAX_ORDER], y[ARS_SYM_MAX_ORDER];
        for (int k = 0; k < G; k++) {
            y[k] = mp * ws->glp[(size_t)k * B + b];
        }
        const double base = ars_logsumexp(y, G, 1);
        for (int q = 0; q < ws->n_flips[b]; q++) {
            const size_t f = (size_t)b * mf + q;
            for (int k = 0; k < G; k++) {
                x[k] = mp * (ws->glp[(size_t)k * B + b] + ws->gdlog[(size_t)k * nf + f]);
            }
            ws->dlog[f] = (ars_logsumexp(x, G, 1) - base) / mp;
        }
    }
}

int ars_ham_local_energy(double *eloc, const uint8_t *cfg, const ars_ham *H, const ars_arnn *net,
                         ars_ham_ws *ws, int B) {
    const int L = ws->L;
    ARS_ASSERT(H->size == L, "Hamiltonian size %d, workspace %d", H->size, L);
    ARS_ASSERT(B >= 0 && B <= ws->B, "batch %d exceeds workspace %d", B, ws->B);
    if (B == 0) {
        return 0;
    }
    for (int b = 0; b < B; b++) {
        const uint8_t *s = cfg + (size_t)b * L;
        eloc[b] = ars_ham_diagonal(H, s);
        ws->n_flips[b] = ars_ham_offdiag(H, s, ws->flips + (size_t)b * ws->max_flips);
    }
    ham_state_ratios(ws, cfg, net, B);
    int bad = 0;
    for (int b = 0; b < B; b++) {
        const ars_ham_flip *fl = ws->flips + (size_t)b * ws->max_flips;
        const double *dl = ws->dlog + (size_t)b * ws->max_flips;
        double acc = eloc[b];
        for (int k = 0; k < ws->n_flips[b]; k++) {
            acc += fl[k].mel * exp(dl[k]);
        }
        eloc[b] = acc;
        bad += !isfinite(acc);
    }
    return bad;
}

void ars_ham_log_ratios(double *dlog, const uint8_t *cfg, const ars_ham_flip *flips, int n,
                        const ars_arnn *net, ars_ham_ws *ws, int B) {
    const int L = ws->L;
    ARS_ASSERT(n >= 0 && n <= ws->max_flips, "%d flips per sample exceed %d", n, ws->max_flips);
    ARS_ASSERT(B >= 0 && B <= ws->B, "batch %d exceeds workspace %d", B, ws->B);
    if (B == 0 || n == 0) {
        return;
    }
    for (int b = 0; b < B; b++) {
        ws->n_flips[b] = n;
        for (int k = 0; k < n; k++) {
            const ars_ham_flip *fl = &flips[(size_t)b * n + k];
            ARS_ASSERT(fl->i >= 0 && fl->i < L && fl->j < L && (fl->j < 0 || fl->j > fl->i),
                       "bad flip (%d, %d)", fl->i, fl->j);
            ws->flips[(size_t)b * ws->max_flips + k] = *fl;
        }
    }
    ham_state_ratios(ws, cfg, net, B);
    for (int b = 0; b < B; b++) {
        memcpy(dlog + (size_t)b * n, ws->dlog + (size_t)b * ws->max_flips,
               (size_t)n * sizeof *dlog);
    }
}

void ars_ham_local_energy_slow(double *eloc, const uint8_t *cfg, const ars_ham *H,
                               const ars_arnn *net, int B) {
    const int L = H->size, m = ars_ham_max_offdiag(H) + 1;
    ARS_ASSERT(net->arch.hilbert.size == L && net->arch.hilbert.local_size == 2,
               "network (%d sites, local_size %d) does not fit the Hamiltonian (%d sites)",
               net->arch.hilbert.size, net->arch.hilbert.local_size, L);
    ars_arnn_ws *ws = ars_arnn_ws_alloc(net, m);
    uint8_t *rows = malloc((size_t)m * L);
    double *lp = malloc((size_t)m * sizeof *lp);
    ars_ham_flip *fl = malloc((size_t)m * sizeof *fl);
    ARS_ASSERT(ws != NULL && rows != NULL && lp != NULL && fl != NULL, "out of memory");
    for (int b = 0; b < B; b++) {
        const uint8_t *s = cfg + (size_t)b * L;
        const int n = ars_ham_offdiag(H, s, fl);
        for (int k = 0; k <= n; k++) {
            uint8_t *row = rows + (size_t)k * L;
            memcpy(row, s, (size_t)L);
            if (k > 0) {
                row[fl[k - 1].i] ^= 1;
                if (fl[k - 1].j >= 0) {
                    row[fl[k - 1].j] ^= 1;
                }
            }
        }
        ars_arnn_log_psi(lp, rows, net, ws, n + 1);
        double acc = ars_ham_diagonal(H, s);
        for (int k = 0; k < n; k++) {
            acc += fl[k].mel * exp(lp[k + 1] - lp[0]);
        }
        eloc[b] = acc;
    }
    free(fl);
    free(lp);
    free(rows);
    ars_arnn_ws_free(ws);
}
