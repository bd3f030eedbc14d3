/*
 * ratio: the window method for amplitude ratios; the math is in ratio.h.
 */
#include "wf/ratio.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"

/* Windows evaluated per batch of the window network: a multiple of the conv kernel's tile (16),
 * and not a power of two: the window activations are (site, channel, window) blocks, and a row
 * stride of 2 KiB (256 windows) put every row of a site into the same few L1 sets (the context
 * copy ran 2x slower). Small, so that a batch's layers stay in L2 (240 windows of 100 sites and
 * 16 channels are 3 MB a layer; docs/performance.md, step 5). */
#ifndef RATIO_WINDOW_BATCH
#define RATIO_WINDOW_BATCH 48
#endif

/* The same for float32 arithmetic: a multiple of its conv tile (32). */
#ifndef RATIO_WINDOW_BATCH_F
#define RATIO_WINDOW_BATCH_F 64
#endif

/* Batches per sorted group of windows (ratio_flush). */
#ifndef RATIO_SORT_BATCHES
#define RATIO_SORT_BATCHES 32
#endif

/* Largest local dimension (spin 63). */
#define RATIO_MAX_D 128

/* One window: segment [a + lo, a + hi] of change `change` of sample `b`; window position u is
 * chain site a + u. */
typedef struct ratio_window {
    int change, b, a, lo, hi;
    int last; /* the segment's last changed site (window position) */
    int m0;   /* sector: the value sum of the changed configuration before site a */
} ratio_window;

/* The windows of one batch of the window network. A batch recomputes positions >= its least lo
 * only, so the windows of a call are sorted by (lo, hi) before they are cut into batches: the
 * windows that start at site 0 (lo = p <= R) then share their first sites, and a batch computes
 * little more than its windows' own segments. */
typedef struct ratio_batch {
    uint8_t *cfg;      /* (nw_cap, W) window configurations */
    ratio_window *rec; /* (nw_cap) */
    int *a;            /* (nw_cap) rec[w].a: the chain site of each window's position 0 */
    int n;
} ratio_batch;

struct ars_ratio_ws {
    int B, L, D, R, W, max_changes, max_sites;
    int nw_cap;             /* windows per batch in the current precision */
    int nw_cap64, nw_cap32; /* in each precision; the batch arrays hold the larger */
    int rec_cap;            /* windows of one call: B max_changes max_sites */
    int B_used;             /* samples of the current prepare (the batch stride of ws->full) */
    ars_arch arch;          /* the architecture the workspace was sized for */
    ars_arnn net_win;       /* non-owning view of the network with hilbert.size = W */
    ars_arnn_ws *full;      /* forward pass of the samples, (L, ., B) */
    ars_arnn_ws *win;       /* forward pass of the windows, (W, ., nw_cap) */
    /* float32 arithmetic (ars_ratio_ws_set_dtype): the same passes in float32, their context,
     * the parameters converted at every prepare. */
    int f32;
    ars_arnn_ws_f *full_f, *win_f;
    float *ctx_f, *params_f;
    ars_change *ch; /* (B, max_changes) the changes being evaluated */
    int *n_ch;      /* (B) */
    double *dlog;   /* (B, max_changes) */
    double *lsel;   /* (B, L) lpsi[t, s_t] of the samples, sample-major */
    double *ctx;    /* (B, L, Cs) every layer's input in the full pass, sample-major */
    int ctx_off[ARS_MAX_LAYERS], ctx_width; /* layer l's channels start at ctx_off[l] of Cs */
    int reach[ARS_MAX_LAYERS]; /* sum_{j <= l} (K - 1) d_j: how far past a change layer l moves */
    uint64_t flops[ARS_MAX_LAYERS], flops_site; /* layer l's conv flops per site; their sum */
    double *acc;                                /* (nw_cap) per-window sums */
    ratio_batch bat;
    ratio_window *rec; /* (rec_cap) the call's windows, in the order of their changes */
    double *contrib;   /* (rec_cap) each window's sum of new minus old terms */
    int *order, *tmp;  /* (rec_cap) the windows sorted by (lo, hi); scratch of the sort */
    int *count;        /* (W + 1) counting-sort bins */
    int n_rec;
    ars_hilbert hil; /* the chain's, with its sector */
    int *pre;        /* (B, L) sector: value sum of the sample before site t */
    int G;           /* order of the symmetry group (1: none) */
    uint8_t *gcfg;   /* (B, L) g s (symmetrised only) */
    ars_change *gch; /* (B, max_changes) the changes mapped by g (symmetrised only) */
    double *glp;     /* (G, B) log psi(g s) (symmetrised only) */
    double *gdlog;   /* (G, B, max_changes) log psi(g s') - log psi(g s) (symmetrised only) */
    double *gx;      /* (G) one change's scaled log psi(g s') (symmetrised only) */
    /* Conv flops since the allocation: the samples' own passes plus, for every window, each
     * layer's sites that its change moves (useful), and what the batched windows ran (computed
     * >= useful: a batch runs the union of its windows' sites). */
    uint64_t flops_useful, flops_computed;
};

static int arch_equal(const ars_arch *x, const ars_arch *y) {
    if (x->hilbert.size != y->hilbert.size || x->hilbert.two_s != y->hilbert.two_s ||
        x->hilbert.constrained != y->hilbert.constrained || x->hilbert.two_m != y->hilbert.two_m ||
        x->symmetry != y->symmetry || x->layers != y->layers || x->kernel_size != y->kernel_size ||
        x->feature_group_count != y->feature_group_count || x->use_bias != y->use_bias ||
        x->activation != y->activation || x->input != y->input ||
        ars_arch_sublattice(x) != ars_arch_sublattice(y)) {
        return 0;
    }
    for (int l = 0; l < x->layers; l++) {
        if (x->features[l] != y->features[l] || x->dilation[l] != y->dilation[l]) {
            return 0;
        }
    }
    return 1;
}

/* Reach R (<= L) and window length W of a network for changes of at most max_sites sites;
 * ARS_STATUS_ENOMEM if the receptive field's scratch cannot be allocated. */
static int window_shape(const ars_arnn *net, int max_sites, int *R, int *W) {
    const int L = net->arch.hilbert.size;
    uint8_t *depends = malloc(2 * (size_t)L);
    if (depends == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory sizing the ratio windows");
    }
    long reach = ars_arch_receptive_field(&net->arch, depends);
    free(depends);
    *R = reach < L ? (int)reach : L;
    /* A merged segment [c_0, c_{n-1} + R] with consecutive sites at most R + 1 apart, plus its
     * R sites of context; n >= 2 always (3R + 2: pairs at any distance for the observables). */
    const long n = max_sites > 2 ? max_sites : 2;
    long w = (n - 1) * (*R + 1L) + 2L * *R + 1;
    *W = w < L ? (int)w : L;
    return ARS_OK;
}

static int window_cap(int B, int max_changes, int max_sites, int batch) {
    long cap = (long)(max_sites > 2 ? max_sites : 2) * (long)B * max_changes;
    if (cap > batch) {
        cap = batch;
    }
    return cap < 1 ? 1 : (int)cap;
}

/* The view of net that runs the windows: W sites, and the plain network (the windows apply the
 * chain's sector mask themselves, and symmetrisation happens around them). The parameters are
 * net's own (not owned: the view is never freed). */
static void window_network(ars_ratio_ws *ws, const ars_arnn *net) {
    ws->net_win = *net;
    ws->net_win.owns_params = 0; /* a view: never freed */
    ws->net_win.arch.hilbert.size = ws->W;
    ws->net_win.arch.hilbert.constrained = 0;
    ws->net_win.arch.symmetry = ARS_SYM_NONE;
}

ars_ratio_ws *ars_ratio_ws_alloc(const ars_arnn *net, int B, int max_changes, int max_sites) {
    ARS_ASSERT(B >= 1 && max_changes >= 0, "batch %d, %d changes", B, max_changes);
    ARS_ASSERT(max_sites >= 1 && max_sites <= ARS_CHANGE_MAX_SITES, "%d sites", max_sites);
    ARS_ASSERT(net->arch.hilbert.local_size <= RATIO_MAX_D, "local size %d",
               net->arch.hilbert.local_size);
    ars_ratio_ws *ws = calloc(1, sizeof *ws);
    if (ws == NULL) {
        return NULL;
    }
    ws->B = B;
    ws->L = net->arch.hilbert.size;
    ws->D = net->arch.hilbert.local_size;
    ws->arch = net->arch;
    if (window_shape(net, max_sites, &ws->R, &ws->W) != ARS_OK) {
        free(ws);
        return NULL;
    }
    ws->max_changes = max_changes;
    ws->max_sites = max_sites;
    ws->nw_cap64 = window_cap(B, max_changes, max_sites, RATIO_WINDOW_BATCH);
    ws->nw_cap32 = window_cap(B, max_changes, max_sites, RATIO_WINDOW_BATCH_F);
    ws->nw_cap = ws->nw_cap64;
    const int nw_max = ws->nw_cap64 > ws->nw_cap32 ? ws->nw_cap64 : ws->nw_cap32;
    window_network(ws, net);
    ws->hil = net->arch.hilbert;
    ws->G = ars_sym_order(net->arch.symmetry, ws->L);
    const size_t nf = (size_t)B * (size_t)max_changes + 1;
    ws->full = ars_arnn_ws_alloc(net, B);
    ws->win = ars_arnn_ws_alloc(&ws->net_win, ws->nw_cap);
    ws->ch = malloc(nf * sizeof *ws->ch);
    ws->n_ch = malloc((size_t)B * sizeof *ws->n_ch);
    ws->dlog = malloc(nf * sizeof *ws->dlog);
    ws->lsel = malloc((size_t)B * (size_t)ws->L * sizeof *ws->lsel);
    for (int l = 0; l < net->arch.layers; l++) {
        const ars_conv *c = &net->layer[l];
        ws->ctx_off[l] = ws->ctx_width;
        ws->ctx_width += c->cin;
        ws->reach[l] = (l > 0 ? ws->reach[l - 1] : 0) + ars_conv_shift(c, 0);
        ws->flops[l] = 2u * (uint64_t)c->taps * (uint64_t)(c->cin / c->groups) * (uint64_t)c->cout;
        ws->flops_site += ws->flops[l];
    }
    const size_t n_ctx = (size_t)B * (size_t)ws->L * (size_t)ws->ctx_width;
    ARS_ASSERT(n_ctx > 0, "empty context");
    ws->ctx = malloc(n_ctx * sizeof *ws->ctx);
    ws->acc = malloc((size_t)nw_max * sizeof *ws->acc);
    if (ws->full == NULL || ws->win == NULL || ws->ch == NULL || ws->n_ch == NULL ||
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
        ws->gch = malloc(nf * sizeof *ws->gch);
        ws->glp = malloc((size_t)ws->G * (size_t)B * sizeof *ws->glp);
        ws->gdlog = malloc((size_t)ws->G * nf * sizeof *ws->gdlog);
        ws->gx = malloc((size_t)ws->G * sizeof *ws->gx);
        if (ws->gcfg == NULL || ws->gch == NULL || ws->glp == NULL || ws->gdlog == NULL ||
            ws->gx == NULL) {
            goto fail;
        }
    }
    ARS_ASSERT(ws->nw_cap >= 1 && ws->W >= 1, "window batch %d, length %d", ws->nw_cap, ws->W);
    ws->bat.cfg = malloc((size_t)nw_max * (size_t)ws->W);
    ws->bat.rec = malloc((size_t)nw_max * sizeof *ws->bat.rec);
    ws->bat.a = malloc((size_t)nw_max * sizeof *ws->bat.a);
    const size_t rc = (size_t)B * (size_t)max_changes * (size_t)max_sites + 1;
    ARS_ASSERT(rc <= INT_MAX, "%zu windows per call", rc);
    ws->rec_cap = (int)rc;
    ws->rec = malloc(rc * sizeof *ws->rec);
    ws->contrib = malloc(rc * sizeof *ws->contrib);
    ws->order = malloc(rc * sizeof *ws->order);
    ws->tmp = malloc(rc * sizeof *ws->tmp);
    ws->count = malloc(((size_t)ws->W + 1) * sizeof *ws->count);
    if (ws->bat.cfg == NULL || ws->bat.rec == NULL || ws->bat.a == NULL || ws->rec == NULL ||
        ws->contrib == NULL || ws->order == NULL || ws->tmp == NULL || ws->count == NULL) {
        goto fail;
    }
    return ws;
fail:
    ars_ratio_ws_free(ws);
    return NULL;
}

void ars_ratio_ws_free(ars_ratio_ws *ws) {
    if (ws == NULL) {
        return;
    }
    ars_arnn_ws_free(ws->full);
    ars_arnn_ws_free(ws->win);
    ars_arnn_ws_free_f(ws->full_f);
    ars_arnn_ws_free_f(ws->win_f);
    free(ws->ctx_f);
    free(ws->params_f);
    free(ws->ch);
    free(ws->n_ch);
    free(ws->dlog);
    free(ws->lsel);
    free(ws->ctx);
    free(ws->acc);
    free(ws->pre);
    free(ws->gcfg);
    free(ws->gch);
    free(ws->glp);
    free(ws->gdlog);
    free(ws->gx);
    free(ws->bat.cfg);
    free(ws->bat.rec);
    free(ws->bat.a);
    free(ws->rec);
    free(ws->contrib);
    free(ws->order);
    free(ws->tmp);
    free(ws->count);
    free(ws);
}

int ars_ratio_ws_set_dtype(ars_ratio_ws *ws, const ars_arnn *net, ars_dtype dtype) {
    ARS_ASSERT(arch_equal(&net->arch, &ws->arch), "network differs from the workspace's");
    ws->f32 = dtype == ARS_DTYPE_FLOAT32;
    ws->nw_cap = ws->f32 ? ws->nw_cap32 : ws->nw_cap64;
    if (!ws->f32 || ws->full_f != NULL) {
        return ARS_OK;
    }
    const size_t n_ctx = (size_t)ws->B * (size_t)ws->L * (size_t)ws->ctx_width;
    ws->full_f = ars_arnn_ws_alloc_f(net, ws->B);
    ws->win_f = ars_arnn_ws_alloc_f(&ws->net_win, ws->nw_cap);
    ws->ctx_f = malloc(n_ctx * sizeof *ws->ctx_f);
    ws->params_f = malloc(ars_arch_n_params(&net->arch) * sizeof *ws->params_f);
    if (ws->full_f == NULL || ws->win_f == NULL || ws->ctx_f == NULL || ws->params_f == NULL) {
        ars_arnn_ws_free_f(ws->full_f);
        ars_arnn_ws_free_f(ws->win_f);
        free(ws->ctx_f);
        free(ws->params_f);
        ws->full_f = ws->win_f = NULL;
        ws->ctx_f = ws->params_f = NULL;
        ws->f32 = 0;
        ws->nw_cap = ws->nw_cap64;
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the float32 ratio windows");
    }
    return ARS_OK;
}

int ars_ratio_ws_reach(const ars_ratio_ws *ws) {
    return ws->R;
}

void ars_ratio_ws_flops(const ars_ratio_ws *ws, uint64_t *useful, uint64_t *computed) {
    *useful = ws->flops_useful;
    *computed = ws->flops_computed;
}

uint64_t ars_ratio_ws_site_flops(const ars_ratio_ws *ws) {
    return ws->flops_site;
}

int ars_ratio_ws_window(const ars_ratio_ws *ws) {
    return ws->W;
}
/* The last position at which layer l's output can differ from the sample's own, for changes at
 * positions <= q and a segment ending at e: q + reach[l], but the last layer (whose output the
 * head reads) everywhere up to e. */
static int layer_last(const ars_ratio_ws *ws, int l, int q, int e) {
    return l < ws->arch.layers - 1 && q + ws->reach[l] < e ? q + ws->reach[l] : e;
}

/* The samples' own pass in each precision (the double one reads net->params itself). */
static void full_forward(const uint8_t *cfg, const ars_arnn *net, const double *params,
                         ars_arnn_ws *full, int B, int L) {
    ARS_ASSERT(params == net->params, "the float64 pass reads the network's own parameters");
    ars_arnn_forward(cfg, net, full, B, L);
}

static void full_forward_f(const uint8_t *cfg, const ars_arnn *net, const float *params,
                           ars_arnn_ws_f *full, int B, int L) {
    ars_arnn_forward_f(cfg, net, params, full, B, L);
}

#define REAL double
#define NAME(x) x
#define RATIO_PARAMS(ws) ((const double *)(ws)->net_win.params)
#include "wf/ratio_window.h"
#undef REAL
#undef NAME
#undef RATIO_PARAMS

#define REAL float
#define NAME(x) x##_f
#define RATIO_PARAMS(ws) ((const float *)(ws)->params_f)
#include "wf/ratio_window.h"
#undef REAL
#undef NAME
#undef RATIO_PARAMS

/* One stable counting-sort pass: dst[i0 ..] = the windows src[i0 .. i1-1] (the identity when
 * src is NULL) ordered by their lo (by_lo) or hi. */
static void ratio_counting_pass(ars_ratio_ws *ws, const int *src, int *dst, int i0, int i1,
                                int by_lo) {
    int *cnt = ws->count;
    memset(cnt, 0, ((size_t)ws->W + 1) * sizeof *cnt);
    for (int j = i0; j < i1; j++) {
        const ratio_window *r = &ws->rec[src != NULL ? src[j] : j];
        cnt[(by_lo ? r->lo : r->hi) + 1]++;
    }
    for (int k = 0; k < ws->W; k++) {
        cnt[k + 1] += cnt[k];
    }
    for (int j = i0; j < i1; j++) {
        const int i = src != NULL ? src[j] : j;
        dst[i0 + cnt[by_lo ? ws->rec[i].lo : ws->rec[i].hi]++] = i;
    }
}

/* ws->order[i0 .. i1-1] = the windows i0..i1-1 sorted by (lo, hi), stably: by hi, then by lo. */
static void ratio_sort_windows(ars_ratio_ws *ws, int i0, int i1) {
    ratio_counting_pass(ws, NULL, ws->tmp, i0, i1, 0);
    ratio_counting_pass(ws, ws->tmp, ws->order, i0, i1, 1);
}

/* Window w of the batch: the configuration cfg (B, L) of its sample with change ch[r->change]
 * applied, at chain sites a .. hi, zero beyond. */
static void ratio_window_row(const ars_ratio_ws *ws, uint8_t *row, const uint8_t *cfg,
                             const ars_change *ch, const ratio_window *r) {
    const int W = ws->W, len = r->hi + 1;
    const ars_change *c = &ch[r->change];
    memcpy(row, cfg + (size_t)r->b * ws->L + r->a, (size_t)len);
    memset(row + len, 0, (size_t)(W - len));
    for (int k = 0; k < c->n; k++) {
        if (c->site[k] >= r->a && c->site[k] < r->a + len) {
            row[c->site[k] - r->a] = c->value[k];
        }
    }
}

/* Runs every queued window, then adds each window's sum to its change's dlog in the order the
 * windows were queued (the same bits for any batching). The windows run in groups of
 * RATIO_SORT_BATCHES batches in queue order (some dozens of samples' windows, so that their
 * context rows stay in cache; docs/performance.md, steps 2 and 4), each group sorted by (lo, hi)
 * and cut into batches. */
static void ratio_flush(ars_ratio_ws *ws, const uint8_t *cfg, const ars_change *ch) {
    ratio_batch *q = &ws->bat;
    const int group = RATIO_SORT_BATCHES * ws->nw_cap;
    for (int g0 = 0; g0 < ws->n_rec; g0 += group) {
        const int g1 = ws->n_rec - g0 < group ? ws->n_rec : g0 + group;
        ratio_sort_windows(ws, g0, g1);
        for (int first = g0; first < g1; first += ws->nw_cap) {
            const int nw = g1 - first < ws->nw_cap ? g1 - first : ws->nw_cap;
            for (int w = 0; w < nw; w++) {
                q->rec[w] = ws->rec[ws->order[first + w]];
                q->a[w] = q->rec[w].a;
                ratio_window_row(ws, q->cfg + (size_t)w * ws->W, cfg, ch, &q->rec[w]);
            }
            q->n = nw;
            if (ws->f32) {
                ratio_run_batch_f(ws, q, first);
            } else {
                ratio_run_batch(ws, q, first);
            }
        }
    }
    for (int i = 0; i < ws->n_rec; i++) {
        ws->dlog[ws->rec[i].change] += ws->contrib[i];
    }
    ws->n_rec = 0;
}

/* Change of the value sum (2 Sz) at changed site k of change c of sample b. */
static int change_delta(const ars_ratio_ws *ws, const uint8_t *cfg, int b, const ars_change *c,
                        int k) {
    const int t = c->site[k];
    return ars_hilbert_value(&ws->hil, c->value[k]) -
           ars_hilbert_value(&ws->hil, cfg[(size_t)b * ws->L + t]);
}

/* Queues the window of segment [p, e] (chain sites, last changed site q) of change c, number f,
 * of sample b. */
static void ratio_queue_segment(ars_ratio_ws *ws, const uint8_t *cfg, int b, int f,
                                const ars_change *c, int p, int q, int e) {
    const int a = p - ws->R > 0 ? p - ws->R : 0;
    ARS_ASSERT(e + 1 - a >= 1 && e + 1 - a <= ws->W, "window [%d, %d] exceeds %d", a, e, ws->W);
    ARS_ASSERT(ws->n_rec < ws->rec_cap, "%d windows", ws->n_rec);
    int m0 = 0;
    for (int k = 0; ws->hil.constrained && k < c->n; k++) {
        if (c->site[k] < a) {
            m0 += change_delta(ws, cfg, b, c, k);
        }
    }
    for (int l = 0; l < ws->arch.layers; l++) {
        ws->flops_useful += (uint64_t)(layer_last(ws, l, q, e) + 1 - p) * ws->flops[l];
    }
    ratio_window *r = &ws->rec[ws->n_rec++];
    r->change = f;
    r->b = b;
    r->a = a;
    r->lo = p - a;
    r->hi = e - a;
    r->last = q - a;
    r->m0 = ws->hil.constrained ? ws->pre[(size_t)b * ws->L + a] + m0 : 0;
}

/* The samples' own forward pass, their layer inputs (ws->ctx) and selected terms (ws->lsel). */
static void ratio_prepare(ars_ratio_ws *ws, const uint8_t *cfg, const ars_arnn *net, int B) {
    const int L = ws->L;
    ARS_ASSERT(B >= 0 && B <= ws->B, "batch %d exceeds workspace %d", B, ws->B);
    ARS_ASSERT(arch_equal(&net->arch, &ws->arch), "network differs from the workspace's");
    /* Refresh the view: the caller may pass another network of the same shape. */
    window_network(ws, net);
    ws->n_rec = 0;
    ws->B_used = B;
    if (ws->f32) {
        const size_t P = ars_arch_n_params(&net->arch);
        for (size_t k = 0; k < P; k++) {
            ws->params_f[k] = (float)net->params[k];
        }
        ratio_full_pass_f(ws, cfg, net, B);
    } else {
        ratio_full_pass(ws, cfg, net, B);
    }
    ws->flops_useful += (uint64_t)B * (uint64_t)L * ws->flops_site;
    ws->flops_computed += (uint64_t)B * (uint64_t)L * ws->flops_site;
    for (int b = 0; ws->hil.constrained && b < B; b++) {
        int m = 0;
        for (int t = 0; t < L; t++) {
            ws->pre[(size_t)b * L + t] = m;
            m += ars_hilbert_value(&ws->hil, cfg[(size_t)b * L + t]);
        }
    }
}

/* Sector, separate segments: the sites t in (e1, p2) between two segments keep their network
 * outputs (out of reach of the changes before, before the next) but their prefix sums move by
 * dm, the changes before e1, which can change their mask. Returns the sum over them of the new
 * minus the old masked term (0 when no mask changes, as on every site where the sector does not
 * bind). */
static double ratio_mask_shift(const ars_ratio_ws *ws, const uint8_t *cfg, int b, int dm, int e1,
                               int p2) {
    const int L = ws->L;
    double acc = 0.0;
    for (int t = e1 + 1; t < p2; t++) {
        const int m = ws->pre[(size_t)b * L + t];
        int lo0, hi0, lo1, hi1;
        ars_hilbert_feasible(&ws->hil, t, m, &lo0, &hi0);
        ars_hilbert_feasible(&ws->hil, t, m + dm, &lo1, &hi1);
        if (lo0 == lo1 && hi0 == hi1) {
            continue;
        }
        const double term = ws->f32 ? ratio_masked_term_f(ws, cfg, b, t, lo1, hi1)
                                    : ratio_masked_term(ws, cfg, b, t, lo1, hi1);
        acc += term - ws->lsel[(size_t)b * L + t];
    }
    return acc;
}

/* Queues the windows of change c (number f, of sample b) and sets its dlog to what needs no
 * window: -inf for a change that leaves the sector (psi = 0 there), else the mask shifts between
 * separate segments (0 without a sector). */
static void ratio_queue_change(ars_ratio_ws *ws, const uint8_t *cfg, int b, int f,
                               const ars_change *c) {
    const int L = ws->L, R = ws->R;
    ws->dlog[f] = 0.0;
    if (c->n == 0) {
        return;
    }
    if (ws->hil.constrained) {
        int dm = 0;
        for (int k = 0; k < c->n; k++) {
            dm += change_delta(ws, cfg, b, c, k);
        }
        if (dm != 0) {
            ws->dlog[f] = -(double)INFINITY;
            return;
        }
    }
    /* Terms that change: the union of [c_k, c_k + R], clipped; one window per merged segment.
     * The gaps between segments (and the changes before each) are kept for the mask shifts,
     * which are added after every window is queued. */
    int gap_e[ARS_CHANGE_MAX_SITES], gap_p[ARS_CHANGE_MAX_SITES], gap_dm[ARS_CHANGE_MAX_SITES];
    int n_gaps = 0;
    int p = c->site[0], q = p;
    int e = p + R < L - 1 ? p + R : L - 1;
    int dm = ws->hil.constrained ? change_delta(ws, cfg, b, c, 0) : 0;
    for (int k = 1; k <= c->n; k++) {
        const int next = k < c->n ? c->site[k] : L + 1;
        if (next <= e + 1) {
            const int ek = next + R < L - 1 ? next + R : L - 1;
            e = ek > e ? ek : e;
            q = next;
            dm += ws->hil.constrained ? change_delta(ws, cfg, b, c, k) : 0;
            continue;
        }
        ratio_queue_segment(ws, cfg, b, f, c, p, q, e);
        if (k == c->n) {
            break;
        }
        gap_e[n_gaps] = e;
        gap_p[n_gaps] = next;
        gap_dm[n_gaps++] = dm;
        dm += ws->hil.constrained ? change_delta(ws, cfg, b, c, k) : 0;
        p = next;
        q = next;
        e = p + R < L - 1 ? p + R : L - 1;
    }
    for (int k = 0; ws->hil.constrained && k < n_gaps; k++) {
        ws->dlog[f] += ratio_mask_shift(ws, cfg, b, gap_dm[k], gap_e[k], gap_p[k]);
    }
}

/* dlog of the plain network for the changes (n_ch[b] per sample b, at ch[b * max_changes]) of
 * the configurations cfg. */
static void ratio_plain(ars_ratio_ws *ws, const uint8_t *cfg, const ars_change *ch,
                        const ars_arnn *net, int B) {
    ratio_prepare(ws, cfg, net, B);
    for (int b = 0; b < B; b++) {
        for (int k = 0; k < ws->n_ch[b]; k++) {
            const int f = b * ws->max_changes + k;
            ratio_queue_change(ws, cfg, b, f, &ch[f]);
        }
    }
    ratio_flush(ws, cfg, ch);
}

/* dlog[f] = log psi(s') - log psi(s) of the state for the changes ws->ch: the plain network's,
 * or for a symmetrised one (symmetry.h)
 *   (1/mp) [logsumexp_g mp log psi(g s') - logsumexp_g mp log psi(g s)],
 * with log psi(g s') = log psi(g s) + the plain ratio of the change mapped by g, on g s. */
static void ratio_state(ars_ratio_ws *ws, const uint8_t *cfg, const ars_arnn *net, int B) {
    if (ws->G == 1) {
        ratio_plain(ws, cfg, ws->ch, net, B);
        return;
    }
    const int L = ws->L, G = ws->G, mc = ws->max_changes, D = ws->D;
    const size_t nf = (size_t)B * (size_t)mc;
    const double mp = ARS_MACHINE_POW;
    for (int k = 0; k < G; k++) {
        const unsigned g = ars_sym_element(net->arch.symmetry, L, k);
        ars_sym_apply(ws->gcfg, cfg, (size_t)B, L, D, g);
        for (int b = 0; b < B; b++) {
            for (int q = 0; q < ws->n_ch[b]; q++) {
                const size_t f = (size_t)b * mc + q;
                ars_sym_change(&ws->gch[f], &ws->ch[f], g, L, D);
            }
        }
        ratio_plain(ws, ws->gcfg, ws->gch, net, B);
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
        const double base = ars_logsumexp_scaled(ws->glp + b, G, (size_t)B, mp);
        for (int q = 0; q < ws->n_ch[b]; q++) {
            const size_t f = (size_t)b * mc + q;
            for (int k = 0; k < G; k++) {
                ws->gx[k] = mp * (ws->glp[(size_t)k * B + b] + ws->gdlog[(size_t)k * nf + f]);
            }
            ws->dlog[f] = (ars_logsumexp(ws->gx, G, 1) - base) / mp;
        }
    }
}

void ars_ratio_log(double *dlog, const uint8_t *cfg, const ars_change *ch, const int *n,
                   size_t stride, const ars_arnn *net, ars_ratio_ws *ws, int B) {
    const int L = ws->L;
    ARS_ASSERT(B >= 0 && B <= ws->B, "batch %d exceeds workspace %d", B, ws->B);
    if (B == 0) {
        return;
    }
    for (int b = 0; b < B; b++) {
        ARS_ASSERT(n[b] >= 0 && n[b] <= ws->max_changes, "%d changes exceed %d", n[b],
                   ws->max_changes);
        ws->n_ch[b] = n[b];
        for (int k = 0; k < n[b]; k++) {
            const ars_change *c = &ch[(size_t)b * stride + k];
            ARS_ASSERT(c->n >= 0 && c->n <= ws->max_sites, "change of %d sites", c->n);
            for (int j = 0; j < c->n; j++) {
                ARS_ASSERT(c->site[j] >= 0 && c->site[j] < L &&
                               (j == 0 || c->site[j] > c->site[j - 1]) && c->value[j] < ws->D,
                           "bad change site %d value %d", c->site[j], c->value[j]);
            }
            ws->ch[(size_t)b * ws->max_changes + k] = *c;
        }
    }
    ratio_state(ws, cfg, net, B);
    for (int b = 0; b < B; b++) {
        memcpy(dlog + (size_t)b * stride, ws->dlog + (size_t)b * ws->max_changes,
               (size_t)n[b] * sizeof *dlog);
    }
}
