/*
 * arnn: ARNNConv1D, a stack of masked convolutions with activations and a normalised
 * log-softmax output; see arnn.h for the math, shapes and parameter layout.
 * Reference: NetKet, netket/models/autoreg.py (ARNNConv1D) and netket/nn/masked_linear.py.
 */
#include "nn/arnn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "core/ars_common.h"

/* Standard deviation of a standard normal truncated to [-2, 2] (Flax's truncated_normal). */
#define TRUNC_NORMAL_SD 0.87962566103423978

const char *ars_input_name(ars_input in) {
    switch (in) {
        case ARS_INPUT_VALUE:
            return "value";
        case ARS_INPUT_ONEHOT:
            return "onehot";
    }
    return NULL;
}

int ars_arch_sublattice(const ars_arch *arch) {
    return arch->sublattice > 1 ? arch->sublattice : 1;
}

int ars_arch_input_channels(const ars_arch *arch) {
    const int spin = arch->input == ARS_INPUT_ONEHOT ? arch->hilbert.local_size : 1;
    return spin + (arch->sublattice > 1 ? arch->sublattice : 0);
}

int ars_arch_groups(const ars_arch *arch, int l) {
    return (l > 0 && l < arch->layers - 1) ? arch->feature_group_count : 1;
}

int ars_arch_auto_dilation(int l, int K, int L) {
    const int cap = L > 1 ? L : 1;
    if (l == 0) {
        return 1;
    }
    long d = K - 1;
    for (int i = 1; i < l && d < cap; i++) {
        d *= K;
    }
    return d < cap ? (int)d : cap;
}

int ars_arch_check(const ars_arch *arch, char *why, size_t why_len) {
    if (arch->layers < 1 || arch->layers > ARS_MAX_LAYERS) {
        snprintf(why, why_len, "layers must be between 1 and %d (got %d)", ARS_MAX_LAYERS,
                 arch->layers);
        return -1;
    }
    if (arch->kernel_size < 2) {
        snprintf(why, why_len, "kernel_size must be at least 2 (got %d)", arch->kernel_size);
        return -1;
    }
    if (arch->sublattice < 0 || arch->sublattice > ARS_MAX_SUBLATTICE) {
        snprintf(why, why_len, "sublattice must be between 1 and %d (got %d)", ARS_MAX_SUBLATTICE,
                 arch->sublattice);
        return -1;
    }
    if ((unsigned)arch->symmetry > ARS_SYM_ALL) {
        snprintf(why, why_len, "unknown symmetry %d", (int)arch->symmetry);
        return -1;
    }
    if ((arch->symmetry & ARS_SYM_SPIN_FLIP) && arch->hilbert.constrained &&
        arch->hilbert.two_m != 0) {
        snprintf(why, why_len,
                 "the spin flip maps total_sz %g to %g: spin_flip symmetrisation needs "
                 "total_sz = 0 or none",
                 0.5 * arch->hilbert.two_m, -0.5 * arch->hilbert.two_m);
        return -1;
    }
    if (arch->features[arch->layers - 1] != arch->hilbert.local_size) {
        snprintf(why, why_len, "the last layer must have local_size = %d features (got %d)",
                 arch->hilbert.local_size, arch->features[arch->layers - 1]);
        return -1;
    }
    for (int l = 0; l < arch->layers; l++) {
        if (arch->features[l] < 1 || arch->dilation[l] < 1) {
            snprintf(why, why_len, "layer %d has features %d and dilation %d; both must be >= 1", l,
                     arch->features[l], arch->dilation[l]);
            return -1;
        }
        int g = ars_arch_groups(arch, l);
        int cin = l == 0 ? ars_arch_input_channels(arch) : arch->features[l - 1];
        if (cin % g != 0 || arch->features[l] % g != 0) {
            snprintf(why, why_len,
                     "feature_group_count %d must divide the input (%d) and output (%d) features "
                     "of layer %d",
                     g, cin, arch->features[l], l);
            return -1;
        }
    }
    return 0;
}

/* Points each layer's kernel and bias at its slice of the parameter block; returns P. */
static size_t arnn_layout(ars_arnn *net, double *params) {
    const ars_arch *arch = &net->arch;
    size_t off = 0;
    int cin = ars_arch_input_channels(arch);
    net->max_channels = cin;
    for (int l = 0; l < arch->layers; l++) {
        ars_conv *c = &net->layer[l];
        c->cin = cin;
        c->cout = arch->features[l];
        c->exclusive = l == 0;
        c->taps = arch->kernel_size - c->exclusive;
        c->dilation = arch->dilation[l];
        c->groups = ars_arch_groups(arch, l);
        c->kernel = params != NULL ? params + off : NULL;
        off += (size_t)c->taps * (size_t)(c->cin / c->groups) * (size_t)c->cout;
        c->bias = NULL;
        if (arch->use_bias) {
            c->bias = params != NULL ? params + off : NULL;
            off += (size_t)c->cout;
        }
        cin = c->cout;
        if (c->cout > net->max_channels) {
            net->max_channels = c->cout;
        }
    }
    return off;
}

size_t ars_arch_n_params(const ars_arch *arch) {
    ars_arnn shape;
    memset(&shape, 0, sizeof shape);
    shape.arch = *arch;
    return arnn_layout(&shape, NULL);
}

ars_arnn *ars_arnn_alloc(const ars_arch *arch) {
    char why[256];
    ARS_ASSERT(ars_arch_check(arch, why, sizeof why) == 0, "%s", why);
    ars_arnn *net = calloc(1, sizeof *net);
    if (net == NULL) {
        return NULL;
    }
    net->arch = *arch;
    net->n_params = arnn_layout(net, NULL);
    ARS_ASSERT(net->n_params > 0, "a network has at least one kernel entry");
    net->params = calloc(net->n_params, sizeof(double));
    net->owns_params = 1;
    if (net->params == NULL) {
        ars_arnn_free(net);
        return NULL;
    }
    arnn_layout(net, net->params);
    return net;
}

void ars_arnn_free(ars_arnn *net) {
    if (net == NULL) {
        return;
    }
    if (net->owns_params) {
        free(net->params);
    }
    free(net);
}

void ars_arnn_zero_last_layer(ars_arnn *net) {
    const ars_conv *c = &net->layer[net->arch.layers - 1];
    memset(c->kernel, 0,
           (size_t)c->taps * (size_t)(c->cin / c->groups) * (size_t)c->cout * sizeof(double));
    if (c->bias != NULL) {
        memset(c->bias, 0, (size_t)c->cout * sizeof(double));
    }
}

void ars_arnn_scale_last_layer(ars_arnn *net, double c) {
    const ars_conv *cv = &net->layer[net->arch.layers - 1];
    const size_t nk = (size_t)cv->taps * (size_t)(cv->cin / cv->groups) * (size_t)cv->cout;
    for (size_t i = 0; i < nk; i++) {
        cv->kernel[i] *= c;
    }
    if (cv->bias != NULL) {
        for (int f = 0; f < cv->cout; f++) {
            cv->bias[f] *= c;
        }
    }
}

int ars_arnn_init_random(ars_arnn *net, uint64_t seed) {
    gsl_rng *r = ars_rng_alloc();
    if (r == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory allocating a generator");
    }
    ars_rng_seed(r, ars_stream_key(seed, ARS_STREAM_INIT, 0, 0));
    for (int l = 0; l < net->arch.layers; l++) {
        ars_conv *c = &net->layer[l];
        size_t fan_in = (size_t)c->taps * (size_t)(c->cin / c->groups);
        size_t nk = fan_in * (size_t)c->cout;
        double sd = sqrt(1.0 / (double)fan_in) / TRUNC_NORMAL_SD;
        for (size_t i = 0; i < nk; i++) {
            double z;
            do {
                z = gsl_ran_gaussian_ziggurat(r, 1.0);
            } while (fabs(z) > 2.0);
            c->kernel[i] = sd * z;
        }
        if (c->bias != NULL) {
            memset(c->bias, 0, (size_t)c->cout * sizeof(double));
        }
    }
    gsl_rng_free(r);
    return ARS_OK;
}

/* The per-site kernels (arnn_site.h), written once for both precisions. */
#define REAL double
#define NAME(x) x
#include "nn/arnn_site.h"
#undef REAL
#undef NAME

#define REAL float
#define NAME(x) x##_f
#include "nn/arnn_site.h"
#undef REAL
#undef NAME

size_t ars_arnn_ws_bytes(const ars_arch *arch, int B) {
    size_t per_site = (size_t)ars_arch_input_channels(arch) + (size_t)arch->hilbert.local_size;
    for (int l = 0; l < arch->layers; l++) {
        per_site += 2 * (size_t)arch->features[l];
    }
    size_t sym = 0;
    if (arch->symmetry != ARS_SYM_NONE) {
        sym = (size_t)B *
              ((size_t)arch->hilbert.size +
               (size_t)ars_sym_order(arch->symmetry, arch->hilbert.size) * sizeof(double));
    }
    const size_t msum = arch->hilbert.constrained ? (size_t)B * sizeof(int) : 0;
    return (size_t)B * (size_t)arch->hilbert.size * per_site * sizeof(double) + sym + msum;
}

ars_arnn_ws *ars_arnn_ws_alloc(const ars_arnn *net, int B) {
    ars_arnn_ws *ws = calloc(1, sizeof *ws);
    if (ws == NULL) {
        return NULL;
    }
    if (arnn_acts_alloc(ws, net, B) != ARS_OK) {
        goto fail;
    }
    if (net->arch.symmetry != ARS_SYM_NONE) {
        ws->gcfg = malloc((size_t)B * (size_t)net->arch.hilbert.size);
        ws->glp = malloc((size_t)ars_sym_order(net->arch.symmetry, net->arch.hilbert.size) *
                         (size_t)B * sizeof(double));
        if (ws->gcfg == NULL || ws->glp == NULL) {
            goto fail;
        }
    }
    return ws;
fail:
    ars_arnn_ws_free(ws);
    return NULL;
}

ars_arnn_ws_f *ars_arnn_ws_alloc_f(const ars_arnn *net, int B) {
    ars_arnn_ws_f *ws = calloc(1, sizeof *ws);
    if (ws != NULL && arnn_acts_alloc_f(ws, net, B) != ARS_OK) {
        ars_arnn_ws_free_f(ws);
        return NULL;
    }
    return ws;
}

void ars_arnn_ws_free_f(ars_arnn_ws_f *ws) {
    if (ws == NULL) {
        return;
    }
    arnn_acts_free_f(ws);
    free(ws);
}

ars_arnn_ws *ars_arnn_ws_alloc_grad(const ars_arnn *net, int B) {
    ars_arnn_ws *ws = ars_arnn_ws_alloc(net, B);
    if (ws == NULL) {
        return NULL;
    }
    const size_t n = (size_t)B * (size_t)net->arch.hilbert.size * (size_t)net->max_channels;
    ws->g0 = malloc(n * sizeof(double));
    ws->g1 = malloc(n * sizeof(double));
    if (ws->g0 == NULL || ws->g1 == NULL) {
        ars_arnn_ws_free(ws);
        return NULL;
    }
    return ws;
}

void ars_arnn_ws_free(ars_arnn_ws *ws) {
    if (ws == NULL) {
        return;
    }
    arnn_acts_free(ws);
    free(ws->g0);
    free(ws->g1);
    free(ws->gcfg);
    free(ws->glp);
    free(ws);
}

void ars_arnn_forward(const uint8_t *cfg, const ars_arnn *net, ars_arnn_ws *ws, int B, int Lc) {
    arnn_forward(cfg, net, net->params, ws, B, Lc);
}

void ars_arnn_forward_f(const uint8_t *cfg, const ars_arnn *net, const float *params,
                        ars_arnn_ws_f *ws, int B, int Lc) {
    arnn_forward_f(cfg, net, params, ws, B, Lc);
}

void ars_arnn_conditionals(double *lpsi, const uint8_t *cfg, const ars_arnn *net, ars_arnn_ws *ws,
                           int B, int Lc) {
    const int L = net->arch.hilbert.size, D = net->arch.hilbert.local_size;
    ars_arnn_forward(cfg, net, ws, B, Lc);
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < Lc; t++) {
            for (int i = 0; i < D; i++) {
                lpsi[((size_t)b * L + t) * D + i] = ws->lpsi[((size_t)t * D + i) * B + b];
            }
        }
    }
}

void ars_arnn_backward(double *grad, size_t ld, const uint8_t *cfg, const ars_arnn *net,
                       ars_arnn_ws *ws, int B, const double *weight, int accumulate) {
    const ars_arch *arch = &net->arch;
    const int L = arch->hilbert.size, D = arch->hilbert.local_size, n = arch->layers;
    const double mp = ARS_MACHINE_POW;
    ARS_ASSERT(ws->g0 != NULL, "backward needs a workspace from ars_arnn_ws_alloc_grad");
    ARS_ASSERT(B <= ws->B, "batch %d exceeds workspace %d", B, ws->B);
    /* Head: dz[t, i, b] = [i == s_t] - exp(mp lpsi[t, i, b]). */
    double *dz = ws->g0, *da = ws->g1;
    const size_t LDB = (size_t)L * D * B;
    for (size_t i = 0; i < LDB; i++) {
        dz[i] = mp * ws->lpsi[i];
    }
    ars_vexp(dz, dz, LDB);
    for (size_t i = 0; i < LDB; i++) {
        dz[i] = -dz[i];
    }
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < L; t++) {
            dz[((size_t)t * D + cfg[(size_t)b * L + t]) * B + b] += 1.0;
        }
    }
    if (weight != NULL) {
        /* Everything below is linear in dz. */
        for (size_t i = 0; i < LDB; i++) {
            dz[i] *= weight[i % (size_t)B];
        }
    }
    for (int l = n - 1; l >= 0; l--) {
        const ars_conv *c = &net->layer[l];
        const double *inp = l == 0 ? ws->x : ws->a[l - 1];
        double *g = grad + (size_t)(c->kernel - net->params) * ld;
        if (l == 0) {
            /* The input encoding has no parameters: no input gradient needed. */
            ars_conv_backward(NULL, g, ld, dz, inp, c, B, L, accumulate);
            break;
        }
        const size_t nin = (size_t)L * c->cin * B;
        memset(da, 0, nin * sizeof(double));
        ars_conv_backward(da, g, ld, dz, inp, c, B, L, accumulate);
        /* In the forward pass this was a_{l-1} = act(z_{l-1}). */
        ars_activation_backward(da, da, ws->z[l - 1], ws->a[l - 1], nin, arch->activation);
        double *tmp = dz;
        dz = da;
        da = tmp;
    }
}

/* The plain network's log psi (B) of cfg: a forward pass, then the sum of the selected terms. */
static void plain_log_psi(double *log_psi, const uint8_t *cfg, const ars_arnn *net, ars_arnn_ws *ws,
                          int B) {
    const int L = net->arch.hilbert.size, D = net->arch.hilbert.local_size;
    ars_arnn_forward(cfg, net, ws, B, L);
    for (int b = 0; b < B; b++) {
        double acc = 0.0;
        for (int t = 0; t < L; t++) {
            acc += ws->lpsi[((size_t)t * D + cfg[(size_t)b * L + t]) * B + b];
        }
        log_psi[b] = acc;
    }
}

/* The configurations g_k s (B, L): cfg itself for the identity, else written into ws->gcfg. */
static const uint8_t *group_image(const uint8_t *cfg, const ars_arch *arch, ars_arnn_ws *ws, int B,
                                  int k) {
    const unsigned g = ars_sym_element(arch->symmetry, arch->hilbert.size, k);
    if (g == 0) {
        return cfg;
    }
    ars_sym_apply(ws->gcfg, cfg, (size_t)B, arch->hilbert.size, arch->hilbert.local_size, g);
    return ws->gcfg;
}

/* ws->glp[k * B + b] = log psi(g_k s_b) for every element of the group. */
static void group_log_psi(const uint8_t *cfg, const ars_arnn *net, ars_arnn_ws *ws, int B) {
    for (int k = 0; k < ars_sym_order(net->arch.symmetry, net->arch.hilbert.size); k++) {
        plain_log_psi(ws->glp + (size_t)k * B, group_image(cfg, &net->arch, ws, B, k), net, ws, B);
    }
}

/* log psi_sym (B) from ws->glp: (1/2) (logsumexp_k 2 glp[k] - log |G|). */
static void sym_log_psi(double *log_psi, const ars_arch *arch, const ars_arnn_ws *ws, int B) {
    const int G = ars_sym_order(arch->symmetry, arch->hilbert.size);
    const double mp = ARS_MACHINE_POW;
    for (int b = 0; b < B; b++) {
        log_psi[b] = (ars_logsumexp_scaled(ws->glp + b, G, (size_t)B, mp) - log((double)G)) / mp;
    }
}

void ars_arnn_log_psi(double *log_psi, const uint8_t *cfg, const ars_arnn *net, ars_arnn_ws *ws,
                      int B) {
    if (net->arch.symmetry == ARS_SYM_NONE) {
        plain_log_psi(log_psi, cfg, net, ws, B);
        return;
    }
    group_log_psi(cfg, net, ws, B);
    sym_log_psi(log_psi, &net->arch, ws, B);
}

void ars_arnn_grad_log_psi(double *grad, size_t ld, double *log_psi, const uint8_t *cfg,
                           const ars_arnn *net, ars_arnn_ws *ws, int B) {
    ars_arnn_grad_log_psi_images(grad, ld, log_psi, cfg, net, ws, B, NULL, 0);
}

void ars_arnn_grad_log_psi_images(double *grad, size_t ld, double *log_psi, const uint8_t *cfg,
                                  const ars_arnn *net, ars_arnn_ws *ws, int B, const double *images,
                                  size_t images_ld) {
    const ars_arch *arch = &net->arch;
    const int L = arch->hilbert.size;
    if (arch->symmetry == ARS_SYM_NONE) {
        if (log_psi != NULL) {
            plain_log_psi(log_psi, cfg, net, ws, B);
        } else {
            ars_arnn_forward(cfg, net, ws, B, L);
        }
        ars_arnn_backward(grad, ld, cfg, net, ws, B, NULL, 0);
        return;
    }
    /* Pass 1: log psi(g s) for every g (from the caller's images when given); the weights
     * w_g = p(g s) / sum_g' p(g' s). Pass 2: the weighted gradient of each g s (its forward
     * pass again: one workspace, not |G|). */
    const int G = ars_sym_order(arch->symmetry, L);
    const double mp = ARS_MACHINE_POW;
    if (images != NULL) {
        /* mp log psi / mp: exact (mp = 2), so these are group_log_psi's bits. */
        for (int k = 0; k < G; k++) {
            for (int b = 0; b < B; b++) {
                ws->glp[(size_t)k * B + b] = images[(size_t)k * images_ld + (size_t)b] / mp;
            }
        }
    } else {
        group_log_psi(cfg, net, ws, B);
    }
    if (log_psi != NULL) {
        sym_log_psi(log_psi, arch, ws, B);
    }
    for (int b = 0; b < B; b++) {
        const double norm = ars_logsumexp_scaled(ws->glp + b, G, (size_t)B, mp);
        for (int k = 0; k < G; k++) {
            ws->glp[(size_t)k * B + b] = exp(mp * ws->glp[(size_t)k * B + b] - norm);
        }
    }
    for (int k = 0; k < G; k++) {
        const uint8_t *gs = group_image(cfg, arch, ws, B, k);
        ars_arnn_forward(gs, net, ws, B, L);
        ars_arnn_backward(grad, ld, gs, net, ws, B, ws->glp + (size_t)k * B, k > 0);
    }
}

long ars_arch_receptive_field(const ars_arch *arch, uint8_t *depends) {
    const int L = arch->hilbert.size, K = arch->kernel_size;
    uint8_t *next = depends + L; /* the caller's scratch half */
    /* Layer 0 (exclusive) reads offsets d0, 2 d0, ..., (K-1) d0. */
    /* Callers pass an array of 2L entries (cppcheck's cross-file check cannot see that
     * ARS_ASSERT in the callers never returns). */
    // cppcheck-suppress ctunullpointer
    memset(depends, 0, (size_t)L);
    long reach = 0;
    for (int j = 1; j < K; j++) {
        long r = (long)j * arch->dilation[0];
        if (r < L) {
            depends[r] = 1;
        }
    }
    reach = (long)(K - 1) * arch->dilation[0];
    /* Each further layer adds offsets 0, d, ..., (K-1) d to every offset reached so far. */
    for (int l = 1; l < arch->layers; l++) {
        memset(next, 0, (size_t)L);
        for (int r = 0; r < L; r++) {
            if (!depends[r]) {
                continue;
            }
            for (int j = 0; j < K; j++) {
                long r2 = r + (long)j * arch->dilation[l];
                if (r2 < L) {
                    next[r2] = 1;
                }
            }
        }
        memcpy(depends, next, (size_t)L);
        reach += (long)(K - 1) * arch->dilation[l];
    }
    return reach;
}
