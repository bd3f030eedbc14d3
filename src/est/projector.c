/*
 * projector: P_loc(s) = (1/|G|) sum_g psi(g s) / psi(s); see projector.h.
 */
#include "est/projector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"
#include "nn/arnn.h"

struct ars_proj_ws {
    int B, G;
    ars_sym group;
    uint8_t *img;      /* (B, L) the images g s of one element */
    double *la0, *ph0; /* (B) log|psi(s)|, phi(s) */
    double *la, *ph;   /* (B) log|psi(g s)|, phi(g s) */
    ars_arnn_ws *aws;
    ars_wf_ws *pws; /* NULL for a real wf */
};

ars_proj_ws *ars_proj_ws_alloc(const ars_wf *wf, ars_sym group, int B) {
    ars_proj_ws *ws = calloc(1, sizeof *ws);
    if (ws == NULL) {
        return NULL;
    }
    const size_t L = (size_t)wf->net->arch.hilbert.size, nb = (size_t)(B > 0 ? B : 1);
    ws->B = B;
    ws->group = group;
    ws->G = ars_sym_order(group, (int)L);
    ws->img = malloc(nb * L);
    ws->la0 = malloc(4 * nb * sizeof(double));
    ws->aws = ars_arnn_ws_alloc(wf->net, B);
    if (!ars_wf_is_real(wf)) {
        ws->pws = ars_wf_ws_alloc(wf, B);
    }
    if (ws->img == NULL || ws->la0 == NULL || ws->aws == NULL ||
        (!ars_wf_is_real(wf) && ws->pws == NULL)) {
        ars_proj_ws_free(ws);
        return NULL;
    }
    ws->ph0 = ws->la0 + nb;
    ws->la = ws->la0 + 2 * nb;
    ws->ph = ws->la0 + 3 * nb;
    return ws;
}

void ars_proj_ws_free(ars_proj_ws *ws) {
    if (ws == NULL) {
        return;
    }
    free(ws->img);
    free(ws->la0);
    ars_arnn_ws_free(ws->aws);
    ars_wf_ws_free(ws->pws);
    free(ws);
}

int ars_proj_local(double *re, double *im, const uint8_t *cfg, const ars_wf *wf, ars_proj_ws *ws,
                   int B) {
    ARS_ASSERT(B <= ws->B, "batch %d, projector workspace %d", B, ws->B);
    ARS_ASSERT(im != NULL || ars_wf_is_real(wf), "a phase network needs im");
    const int L = wf->net->arch.hilbert.size, D = wf->net->arch.hilbert.local_size;
    ars_wf_log_psi(ws->la0, ws->ph0, cfg, wf, ws->aws, ws->pws, B);
    for (int b = 0; b < B; b++) {
        re[b] = 1.0; /* the identity, element 0 */
        if (im != NULL) {
            im[b] = 0.0;
        }
    }
    for (int k = 1; k < ws->G; k++) {
        ars_sym_apply(ws->img, cfg, (size_t)B, L, D, ars_sym_element(ws->group, L, k));
        ars_wf_log_psi(ws->la, ws->ph, ws->img, wf, ws->aws, ws->pws, B);
        for (int b = 0; b < B; b++) {
            /* log|psi(g s)| = -inf (outside the network's support) gives 0, never NaN. */
            const double m = exp(ws->la[b] - ws->la0[b]), dphi = ws->ph[b] - ws->ph0[b];
            re[b] += m * cos(dphi);
            if (im != NULL) {
                im[b] += m * sin(dphi);
            }
        }
    }
    int n_bad = 0;
    for (int b = 0; b < B; b++) {
        re[b] /= ws->G;
        n_bad += !isfinite(re[b]);
        if (im != NULL) {
            im[b] /= ws->G;
            n_bad += !isfinite(im[b]);
        }
    }
    return n_bad;
}

/* The connection of (ch, n) equal to change c, or -1. */
static int find_change(const ars_change *ch, int n, const ars_change *c) {
    for (int j = 0; j < n; j++) {
        if (ch[j].n == c->n && memcmp(ch[j].site, c->site, (size_t)c->n * sizeof(int)) == 0 &&
            memcmp(ch[j].value, c->value, (size_t)c->n) == 0) {
            return j;
        }
    }
    return -1;
}

/* H(g s, g s') = H(s, s') for every connection of s (and the diagonal), to rounding. */
static int invariant_at(const ars_op *op, const uint8_t *s, uint8_t *gs, unsigned g, ars_change *ch,
                        double *mel, ars_change *gch, double *gmel) {
    const int L = ars_op_size(op), D = ars_op_two_s(op) + 1, M = ars_op_max_connections(op);
    double d, gd;
    const int n = ars_op_apply_complex(op, s, &d, ch, mel, mel + M);
    ars_sym_apply(gs, s, 1, L, D, g);
    const int gn = ars_op_apply_complex(op, gs, &gd, gch, gmel, gmel + M);
    double scale = 1.0 + fabs(d);
    for (int k = 0; k < n; k++) {
        scale += fabs(mel[k]) + fabs(mel[M + k]);
    }
    const double tol = 1e-12 * scale;
    if (n != gn || fabs(d - gd) > tol) {
        return 0;
    }
    for (int k = 0; k < n; k++) {
        ars_change c;
        ars_sym_change(&c, &ch[k], g, L, D);
        const int j = find_change(gch, gn, &c);
        if (j < 0 || fabs(mel[k] - gmel[j]) > tol || fabs(mel[M + k] - gmel[M + j]) > tol) {
            return 0;
        }
    }
    return 1;
}

int ars_proj_op_invariant(const ars_op *op, ars_sym group, const char **bad) {
    const int L = ars_op_size(op), D = ars_op_two_s(op) + 1, M = ars_op_max_connections(op);
    const size_t m = (size_t)(M > 0 ? M : 1);
    ars_change *ch = malloc(2 * m * sizeof *ch);
    double *mel = malloc(4 * m * sizeof *mel);
    uint8_t *s = malloc(2 * (size_t)L);
    if (ch == NULL || mel == NULL || s == NULL) {
        free(ch);
        free(mel);
        free(s);
        return ARS_ERR(-1, "out of memory for the symmetry check of the Hamiltonian");
    }
    static const struct {
        ars_sym bit;
        unsigned element;
        const char *name;
    } gens[] = {{ARS_SYM_SPIN_FLIP, 1u, "the spin flip"},
                {ARS_SYM_REFLECTION, 2u, "the reflection"},
                {ARS_SYM_TRANSLATION, 1u << 2, "the translation"}};
    int ok = 1;
    uint64_t x = 0x9e3779b97f4a7c15ULL; /* a fixed LCG: the same configurations every run */
    for (int t = 0; t < 256 && ok; t++) {
        for (int i = 0; i < L; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            const int random = (int)((x >> 33) % (uint64_t)D);
            s[i] = (uint8_t)(t == 0 ? 0 : t == 1 ? D - 1 : t == 2 ? (i % 2) * (D - 1) : random);
        }
        for (size_t k = 0; k < sizeof gens / sizeof gens[0] && ok; k++) {
            if ((group & gens[k].bit) &&
                !invariant_at(op, s, s + L, gens[k].element, ch, mel, ch + m, mel + 2 * m)) {
                ok = 0;
                *bad = gens[k].name;
            }
        }
    }
    free(ch);
    free(mel);
    free(s);
    return ok;
}
