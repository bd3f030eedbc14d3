/*
 * phase: the phase-network registry and what every type shares: the parameter block, the beta
 * term, batches, and local phase differences by windows (see phase.h).
 */
#include "nn/phase.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "core/ars_common.h"
#include "space/hilbert.h"

extern const ars_phase_type ars_phase_conv_type;

/* Adding a phase network: a file with its ars_phase_type, and one line here. */
const ars_phase_type *const ars_phase_types[] = {&ars_phase_conv_type, NULL};
const ars_phase_type *const ars_phase_conv = &ars_phase_conv_type;

const ars_phase_type *ars_phase_type_find(const char *name) {
    for (int i = 0; ars_phase_types[i] != NULL; i++) {
        if (strcmp(ars_phase_types[i]->name, name) == 0) {
            return ars_phase_types[i];
        }
    }
    return NULL;
}

const char *ars_phase_type_name_at(int i) {
    return i >= 0 && i < (int)(sizeof ars_phase_types / sizeof ars_phase_types[0]) - 1
               ? ars_phase_types[i]->name
               : NULL;
}

int ars_phase_arch_cin(const ars_phase_arch *arch, int l) {
    return l == 0 ? arch->local_size : arch->features;
}

int ars_phase_arch_cout(const ars_phase_arch *arch, int l) {
    return l == arch->layers - 1 ? 1 : arch->features;
}

int ars_phase_arch_check(const ars_phase_arch *a, char *why, size_t why_len) {
    if (a->size < 1 || a->local_size < 2) {
        snprintf(why, why_len, "a chain of %d sites with %d local states", a->size, a->local_size);
        return -1;
    }
    if (a->layers < 1 || a->layers > ARS_MAX_LAYERS) {
        snprintf(why, why_len, "layers = %d (1..%d)", a->layers, ARS_MAX_LAYERS);
        return -1;
    }
    if (a->features < 1 || a->kernel_size < 1) {
        snprintf(why, why_len, "features = %d, kernel_size = %d (>= 1)", a->features,
                 a->kernel_size);
        return -1;
    }
    long reach = 0;
    for (int l = 0; l < a->layers; l++) {
        if (a->dilation[l] < 1) {
            snprintf(why, why_len, "layer %d: dilation %d (>= 1)", l, a->dilation[l]);
            return -1;
        }
        reach += (long)(a->kernel_size - 1) * a->dilation[l];
        if (reach > 1000000) {
            snprintf(why, why_len, "a receptive field of more than 10^6 sites");
            return -1;
        }
    }
    return 0;
}

static size_t phase_beta_len(const ars_phase_arch *a) {
    return a->site_phase ? (size_t)a->size * (size_t)a->local_size : 0;
}

int ars_phase_jastrow_range(const ars_phase_arch *a) {
    return a->pbc ? a->size / 2 : a->size - 1;
}

static size_t phase_jastrow_len(const ars_phase_arch *a) {
    return a->jastrow ? (size_t)ars_phase_jastrow_range(a) : 0;
}

ars_phase *ars_phase_alloc(const ars_phase_type *type, const ars_phase_arch *arch) {
    char why[256];
    ARS_ASSERT(ars_phase_arch_check(arch, why, sizeof why) == 0, "phase architecture: %s", why);
    ars_phase *ph = calloc(1, sizeof *ph);
    if (ph == NULL) {
        return NULL;
    }
    ph->type = type;
    ph->arch = *arch;
    const size_t net = type->n_params(arch);
    ph->n_params = net + phase_beta_len(arch) + phase_jastrow_len(arch);
    ph->params = calloc(ph->n_params > 0 ? ph->n_params : 1, sizeof(double));
    if (ph->params == NULL) {
        free(ph);
        return NULL;
    }
    type->views(ph);
    ph->beta = arch->site_phase ? ph->params + net : NULL;
    ph->jastrow = arch->jastrow ? ph->params + net + phase_beta_len(arch) : NULL;
    return ph;
}

void ars_phase_free(ars_phase *ph) {
    if (ph == NULL) {
        return;
    }
    free(ph->params);
    free(ph);
}

void ars_phase_zero(ars_phase *ph) {
    const ars_phase_arch *a = &ph->arch;
    const int l = a->layers - 1;
    const size_t cin = (size_t)ars_phase_arch_cin(a, l), cout = (size_t)ars_phase_arch_cout(a, l);
    memset(ph->kernel[l], 0, (size_t)a->kernel_size * cin * cout * sizeof(double));
    memset(ph->bias[l], 0, cout * sizeof(double));
    if (ph->beta != NULL) {
        memset(ph->beta, 0, (size_t)a->size * (size_t)a->local_size * sizeof(double));
    }
    if (ph->jastrow != NULL) {
        memset(ph->jastrow, 0, phase_jastrow_len(a) * sizeof(double));
    }
}

void ars_phase_reach(const ars_phase *ph, int *left, int *right) {
    ph->type->reach(&ph->arch, left, right);
}

/* The standard deviation of the initial site phases beta (radians). */
#define PHASE_BETA_SD 2.0

/* The truncated-normal sd correction of LeCun-normal initialisers (arnn.c's). */
#define PHASE_TRUNC_NORMAL_SD 0.87962566103423978

int ars_phase_init_random(ars_phase *ph, uint64_t seed) {
    gsl_rng *r = ars_rng_alloc();
    if (r == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory allocating a generator");
    }
    ars_rng_seed(r, ars_stream_key(seed, ARS_STREAM_INIT, 1, 0));
    memset(ph->params, 0, ph->n_params * sizeof(double));
    const ars_phase_arch *a = &ph->arch;
    for (int l = 0; l < a->layers; l++) {
        const size_t cin = (size_t)ars_phase_arch_cin(a, l),
                     cout = (size_t)ars_phase_arch_cout(a, l);
        const size_t fan_in = (size_t)a->kernel_size * cin, nk = fan_in * cout;
        const double sd = sqrt(1.0 / (double)fan_in) / PHASE_TRUNC_NORMAL_SD;
        for (size_t i = 0; i < nk; i++) {
            double z;
            do {
                z = gsl_ran_gaussian_ziggurat(r, 1.0);
            } while (fabs(z) > 2.0);
            ph->kernel[l][i] = sd * z;
        }
    }
    /* Random site phases: a translation-invariant start gives a staggered sign rule no
     * gradient at all (phase.h). */
    for (size_t i = 0; ph->beta != NULL && i < (size_t)a->size * (size_t)a->local_size; i++) {
        ph->beta[i] = PHASE_BETA_SD * gsl_ran_gaussian_ziggurat(r, 1.0);
    }
    gsl_rng_free(r);
    return ARS_OK;
}

struct ars_phase_ws {
    int B, L;
    uint8_t *rows;   /* (B, L) the configurations of the last ars_phase_phi */
    double *out;     /* (B, L) their per-site outputs, beta included */
    uint8_t *mark;   /* (L) sites a change reaches */
    uint8_t *row;    /* (L) a changed configuration */
    double *win;     /* (L) window outputs */
    double *layers;  /* the type's scratch for one configuration */
    double *cache;   /* (B, cache_doubles) each configuration's full pass for its windows, or
                      * NULL when that would exceed PHASE_CACHE_BYTES (windows then recompute) */
    size_t cache_n;  /* cache_doubles */
    double *dparams; /* (P) */
};

/* The most memory a workspace keeps for the full passes of its configurations. */
#define PHASE_CACHE_BYTES ((size_t)64 << 20)

ars_phase_ws *ars_phase_ws_alloc(const ars_phase *ph, int B) {
    ars_phase_ws *ws = calloc(1, sizeof *ws);
    if (ws == NULL) {
        return NULL;
    }
    const size_t L = (size_t)ph->arch.size, nb = (size_t)(B > 0 ? B : 1);
    ws->B = B;
    ws->L = (int)L;
    ws->rows = malloc(nb * L);
    ws->out = malloc(nb * L * sizeof(double));
    ws->mark = malloc(L);
    ws->row = malloc(L);
    ws->win = malloc(L * sizeof(double));
    ws->layers = malloc(ph->type->ws_doubles(&ph->arch) * sizeof(double));
    ws->cache_n = ph->type->cache_doubles(&ph->arch);
    if (nb * ws->cache_n * sizeof(double) <= PHASE_CACHE_BYTES) {
        ws->cache = malloc(nb * ws->cache_n * sizeof(double));
    }
    ws->dparams = malloc((ph->n_params > 0 ? ph->n_params : 1) * sizeof(double));
    if (ws->rows == NULL || ws->out == NULL || ws->mark == NULL || ws->row == NULL ||
        ws->win == NULL || ws->layers == NULL || ws->dparams == NULL) {
        ars_phase_ws_free(ws);
        return NULL;
    }
    return ws;
}

int ars_phase_ws_cached(const ars_phase_ws *ws) {
    return ws->cache != NULL;
}

void ars_phase_ws_free(ars_phase_ws *ws) {
    if (ws == NULL) {
        return;
    }
    free(ws->rows);
    free(ws->out);
    free(ws->mark);
    free(ws->row);
    free(ws->win);
    free(ws->layers);
    free(ws->cache);
    free(ws->dparams);
    free(ws);
}

/* out[t - p] += beta[t mod L, row[t mod L]] for t = p..e. */
static void phase_add_beta(double *out, const uint8_t *row, int p, int e, const ars_phase *ph) {
    if (ph->beta == NULL) {
        return;
    }
    const int L = ph->arch.size, D = ph->arch.local_size;
    for (int t = p; t <= e; t++) {
        const int s = t % L;
        out[t - p] += ph->beta[(size_t)s * D + row[s]];
    }
}

/* The value 2 S^z of local index i of a spin with D local states (space/hilbert.h's). */
static double phase_value(int i, int D) {
    const ars_hilbert h = {.two_s = D - 1};
    return (double)ars_hilbert_value(&h, i);
}

/* C_r = sum_t v_t v_{t+r} of a row (phase.h's pairs), r = 1..R, into c[r - 1]. */
static void phase_jastrow_pairs(double *c, const uint8_t *row, const ars_phase_arch *a) {
    const int L = a->size, D = a->local_size, R = ars_phase_jastrow_range(a);
    for (int r = 1; r <= R; r++) {
        double sum = 0.0;
        for (int t = 0; t < (a->pbc ? L : L - r); t++) {
            sum += phase_value(row[t], D) * phase_value(row[(t + r) % L], D);
        }
        c[r - 1] = sum;
    }
}

/* sum_r w_r C_r(row); c: R doubles of scratch. */
static double phase_jastrow_phi(const uint8_t *row, const ars_phase *ph, double *c) {
    phase_jastrow_pairs(c, row, &ph->arch);
    double phi = 0.0;
    for (int r = 0; r < ars_phase_jastrow_range(&ph->arch); r++) {
        phi += ph->jastrow[r] * c[r];
    }
    return phi;
}

/* The Jastrow part of phi(s') - phi(s), s' = s with the change c (new row `row`): the terms
 * (t, r) with t or t + r changed. Each is visited once: from t when t changed, else from its
 * other end t + r. An undone change gives exactly 0. */
static double phase_jastrow_dphi(const uint8_t *s, const uint8_t *row, const ars_change *c,
                                 const ars_phase *ph) {
    const ars_phase_arch *a = &ph->arch;
    const int L = a->size, D = a->local_size, R = ars_phase_jastrow_range(a);
    double d = 0.0;
    for (int k = 0; k < c->n; k++) {
        const int i = c->site[k];
        for (int r = 1; r <= R; r++) {
            double dr = 0.0;
            /* the term (i, r) */
            if (a->pbc || i + r < L) {
                const int j = (i + r) % L;
                dr += phase_value(row[i], D) * phase_value(row[j], D) -
                      phase_value(s[i], D) * phase_value(s[j], D);
            }
            /* the term (i - r, r), unless i - r changed too (visited from there) */
            if (a->pbc || i - r >= 0) {
                const int t = ((i - r) % L + L) % L;
                if (!ars_change_touches(c, t)) {
                    dr += phase_value(row[t], D) * phase_value(row[i], D) -
                          phase_value(s[t], D) * phase_value(s[i], D);
                }
            }
            d += ph->jastrow[r - 1] * dr;
        }
    }
    return d;
}

/* Sample b's full pass, kept for its windows; NULL when ws keeps none. */
static double *phase_slot(const ars_phase_ws *ws, int b) {
    return ws->cache != NULL ? ws->cache + (size_t)b * ws->cache_n : NULL;
}

/* What an outputs call may overwrite: the workspace past cache_doubles (phase.h). */
static double *phase_scratch(const ars_phase_ws *ws) {
    return ws->layers + ws->cache_n;
}

void ars_phase_phi(double *phi, const uint8_t *cfg, const ars_phase *ph, ars_phase_ws *ws, int B) {
    const int L = ph->arch.size;
    ARS_ASSERT(B >= 0 && B <= ws->B && ws->L == L, "batch %d of %d sites, workspace %d of %d", B, L,
               ws->B, ws->L);
    memcpy(ws->rows, cfg, (size_t)B * L);
    for (int b = 0; b < B; b++) {
        const uint8_t *row = cfg + (size_t)b * L;
        double *out = ws->out + (size_t)b * L;
        double *slot = phase_slot(ws, b);
        ph->type->outputs(out, row, 0, L - 1, ph, slot != NULL ? slot : ws->layers,
                          phase_scratch(ws), NULL, NULL);
        phase_add_beta(out, row, 0, L - 1, ph);
        double s = 0.0;
        for (int t = 0; t < L; t++) {
            s += out[t];
        }
        phi[b] = ph->jastrow != NULL ? s + phase_jastrow_phi(row, ph, ws->win) : s;
    }
}

/* Sum over t = p..e of (output of the changed row ws->row at t) - (output of sample b at t). */
static double phase_window(const ars_phase *ph, ars_phase_ws *ws, int b, int p, int e) {
    const int L = ph->arch.size;
    const double *out0 = ws->out + (size_t)b * L;
    ph->type->outputs(ws->win, ws->row, p, e, ph, ws->layers, phase_scratch(ws), phase_slot(ws, b),
                      ws->rows + (size_t)b * L);
    phase_add_beta(ws->win, ws->row, p, e, ph);
    double d = 0.0;
    for (int t = p; t <= e; t++) {
        d += ws->win[t - p] - out0[t % L];
    }
    return d;
}

/* The network's (and beta's) part of ars_phase_dphi; leaves the changed row in ws->row. */
static double phase_net_dphi(const ars_phase *ph, ars_phase_ws *ws, int b, const ars_change *c) {
    const int L = ph->arch.size, pbc = ph->arch.pbc;
    const uint8_t *s = ws->rows + (size_t)b * L;
    int left, right;
    ars_phase_reach(ph, &left, &right);
    /* Mark the outputs the change reaches: j - right .. j + left for a changed site j. */
    memset(ws->mark, 0, (size_t)L);
    int all = left + right + 1 >= L;
    for (int k = 0; k < c->n && !all; k++) {
        for (long t = (long)c->site[k] - right; t <= (long)c->site[k] + left; t++) {
            if (pbc) {
                ws->mark[((t % L) + L) % L] = 1;
            } else if (t >= 0 && t < L) {
                ws->mark[t] = 1;
            }
        }
    }
    memcpy(ws->row, s, (size_t)L);
    for (int k = 0; k < c->n; k++) {
        ws->row[c->site[k]] = c->value[k];
    }
    if (!all) {
        int marked = 0;
        for (int t = 0; t < L; t++) {
            marked += ws->mark[t];
        }
        all = marked == L;
    }
    if (all) {
        return phase_window(ph, ws, b, 0, L - 1);
    }
    /* Runs of marked sites; on a periodic chain start after an unmarked site so that a run
     * across the end is one run [p, e] with e >= L. */
    int start = 0;
    if (pbc) {
        while (ws->mark[start]) {
            start++;
        }
    }
    double d = 0.0;
    for (int i = 0; i < L;) {
        const int t = (start + i) % L;
        if (!ws->mark[t]) {
            i++;
            continue;
        }
        int len = 0;
        while (i + len < L && ws->mark[(start + i + len) % L]) {
            len++;
        }
        d += phase_window(ph, ws, b, t, t + len - 1);
        i += len;
    }
    return d;
}

double ars_phase_dphi(const ars_phase *ph, ars_phase_ws *ws, int b, const ars_change *c) {
    ARS_ASSERT(b >= 0 && b < ws->B, "sample %d of a workspace of %d", b, ws->B);
    if (c->n == 0) {
        return 0.0;
    }
    const double d = phase_net_dphi(ph, ws, b, c);
    if (ph->jastrow == NULL) {
        return d;
    }
    return d + phase_jastrow_dphi(ws->rows + (size_t)b * ws->L, ws->row, c, ph);
}

void ars_phase_grad(double *grad, size_t ld, const uint8_t *row, const ars_phase *ph,
                    ars_phase_ws *ws, double weight) {
    const int L = ph->arch.size, D = ph->arch.local_size;
    const size_t P = ph->n_params;
    memset(ws->dparams, 0, P * sizeof(double));
    ph->type->outputs(ws->win, row, 0, L - 1, ph, ws->layers, phase_scratch(ws), NULL, NULL);
    ph->type->backward(ws->dparams, ph, ws->layers, weight);
    if (ph->beta != NULL) {
        double *dbeta = ws->dparams + (ph->beta - ph->params);
        for (int t = 0; t < L; t++) {
            dbeta[(size_t)t * D + row[t]] += weight;
        }
    }
    if (ph->jastrow != NULL) { /* d phi / d w_r = C_r */
        double *dw = ws->dparams + (ph->jastrow - ph->params);
        phase_jastrow_pairs(ws->win, row, &ph->arch);
        for (int r = 0; r < ars_phase_jastrow_range(&ph->arch); r++) {
            dw[r] += weight * ws->win[r];
        }
    }
    for (size_t k = 0; k < P; k++) {
        grad[k * ld] += ws->dparams[k];
    }
}
