/*
 * projected: the projected state's weights, local energies and gradients; see projected.h.
 */
#include "vmc/projected.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"
#include "space/symmetry.h"
#include "wf/wavefunction.h"

struct ars_projected_ws {
    int B, G;
    ars_sym group;
    ars_arnn plain; /* a view of the network's parameters, unsymmetrised */
    ars_wf wf;      /* the plain network's wavefunction (Marshall sign, phase network) */
    size_t Pm, Pp;
    uint8_t *img;      /* (B, L) the images g_k s of one element */
    double *la, *ph;   /* (G, B) log|psi(g_k s)|, phi(g_k s) */
    double *er, *ei;   /* (G, B) E_loc(g_k s) */
    double *are, *aim; /* (G, B) a_k */
    double *ok, *gk;   /* (Pm, B), (Pp, B) gradients of one image */
    ars_arnn_ws *aws;  /* forward and backward of B configurations */
    ars_wf_ws *pws;    /* the phase network's (NULL without one) */
    const ars_op *op;  /* not owned */
    ars_eloc_ws *ews;
};

ars_projected_ws *ars_projected_ws_alloc(const ars_arnn *net, int marshall, const ars_phase *phase,
                                         const ars_op *op, int B) {
    ars_projected_ws *ws = calloc(1, sizeof *ws);
    if (ws == NULL) {
        return NULL;
    }
    const size_t L = (size_t)net->arch.hilbert.size, nb = (size_t)(B > 0 ? B : 1);
    ws->B = B;
    ws->group = net->arch.symmetry;
    ws->G = ars_sym_order(ws->group, (int)L);
    ws->plain = *net;
    ws->plain.owns_params = 0; /* a view: never freed */
    ws->plain.arch.symmetry = ARS_SYM_NONE;
    ws->wf = ars_wf_make(&ws->plain, marshall, phase);
    ws->Pm = net->n_params;
    ws->Pp = phase != NULL ? phase->n_params : 0;
    const size_t gb = (size_t)ws->G * nb;
    ws->img = malloc(nb * L);
    ws->la = malloc(6 * gb * sizeof(double));
    ws->ok = malloc(ws->Pm * nb * sizeof(double));
    ws->gk = malloc((ws->Pp > 0 ? ws->Pp : 1) * nb * sizeof(double));
    ws->aws = ars_arnn_ws_alloc_grad(&ws->plain, B);
    ws->op = op;
    ws->ews = ars_eloc_ws_alloc(op, &ws->wf, B);
    if (phase != NULL) {
        ws->pws = ars_wf_ws_alloc(&ws->wf, B);
    }
    if (ws->img == NULL || ws->la == NULL || ws->ok == NULL || ws->gk == NULL || ws->aws == NULL ||
        ws->ews == NULL || (phase != NULL && ws->pws == NULL)) {
        ars_projected_ws_free(ws);
        return NULL;
    }
    ws->ph = ws->la + gb;
    ws->er = ws->la + 2 * gb;
    ws->ei = ws->la + 3 * gb;
    ws->are = ws->la + 4 * gb;
    ws->aim = ws->la + 5 * gb;
    return ws;
}

void ars_projected_ws_free(ars_projected_ws *ws) {
    if (ws == NULL) {
        return;
    }
    free(ws->img);
    free(ws->la);
    free(ws->ok);
    free(ws->gk);
    ars_arnn_ws_free(ws->aws);
    ars_wf_ws_free(ws->pws);
    ars_eloc_ws_free(ws->ews);
    free(ws);
}

/* The images of element k of the group into ws->img. */
static void images(ars_projected_ws *ws, const uint8_t *cfg, int k, int B) {
    const ars_arch *a = &ws->plain.arch;
    const int L = a->hilbert.size;
    ars_sym_apply(ws->img, cfg, (size_t)B, L, a->hilbert.local_size,
                  ars_sym_element(ws->group, L, k));
}

int ars_projected_local(double *w, double *e_re, double *e_im, double *o_re, double *o_im,
                        size_t ld, const uint8_t *cfg, ars_projected_ws *ws, int B) {
    ARS_ASSERT(B <= ws->B, "batch %d, projection workspace %d", B, ws->B);
    const int G = ws->G, L = ws->plain.arch.hilbert.size;
    const size_t nb = (size_t)B;
    /* Pass 1: every image's log psi, phase and local energy. */
    int n_bad_images = 0;
    for (int k = 0; k < G; k++) {
        const size_t off = (size_t)k * nb;
        images(ws, cfg, k, B);
        ars_wf_log_psi(ws->la + off, ws->ph + off, ws->img, &ws->wf, ws->aws, ws->pws, B);
        n_bad_images +=
            ars_eloc_compute(ws->er + off, ars_wf_is_real(&ws->wf) ? NULL : ws->ei + off, ws->img,
                             ws->op, &ws->wf, ws->ews, B);
        if (ars_wf_is_real(&ws->wf)) {
            memset(ws->ei + off, 0, nb * sizeof(double));
        }
    }
    /* The weights, the a_k and E_P,loc, in element order. */
    int n_bad = 0;
    for (int b = 0; b < B; b++) {
        double m = -INFINITY;
        for (int k = 0; k < G; k++) {
            m = fmax(m, ws->la[(size_t)k * nb + (size_t)b]);
        }
        double zr = 0.0, zi = 0.0, s2 = 0.0;
        for (int k = 0; k < G; k++) {
            const size_t i = (size_t)k * nb + (size_t)b;
            const double r = exp(ws->la[i] - m);
            zr += r * cos(ws->ph[i]);
            zi += r * sin(ws->ph[i]);
            s2 += r * r;
        }
        const double z2 = zr * zr + zi * zi;
        w[b] = z2 / ((double)G * s2);
        double er = 0.0, ei = 0.0;
        for (int k = 0; k < G; k++) {
            const size_t i = (size_t)k * nb + (size_t)b;
            double ar = 0.0, ai = 0.0;
            if (z2 > 0.0) {
                /* a_k = r e^{i phi} / z = r e^{i phi} conj(z) / |z|^2 */
                const double r = exp(ws->la[i] - m), c = r * cos(ws->ph[i]), s = r * sin(ws->ph[i]);
                ar = (c * zr + s * zi) / z2;
                ai = (s * zr - c * zi) / z2;
            }
            ws->are[i] = ar;
            ws->aim[i] = ai;
            er += ar * ws->er[i] - ai * ws->ei[i];
            ei += ar * ws->ei[i] + ai * ws->er[i];
        }
        e_re[b] = er;
        e_im[b] = ei;
        n_bad += !(isfinite(w[b]) && isfinite(er) && isfinite(ei));
    }
    if (n_bad == 0) {
        n_bad = n_bad_images; /* a non-finite image with no weight: still a sign of trouble */
    }
    if (o_re == NULL) {
        return n_bad;
    }
    /* Pass 2: O_P = sum_k a_k O(g_k s): O real for the network, i g for the phase network. */
    const size_t Pm = ws->Pm, Pp = ws->Pp;
    for (size_t r = 0; r < Pm + Pp; r++) {
        memset(o_re + r * ld, 0, nb * sizeof(double));
        memset(o_im + r * ld, 0, nb * sizeof(double));
    }
    for (int k = 0; k < G; k++) {
        const size_t off = (size_t)k * nb;
        const double *are = ws->are + off, *aim = ws->aim + off;
        images(ws, cfg, k, B);
        ars_arnn_grad_log_psi(ws->ok, nb, NULL, ws->img, &ws->plain, ws->aws, B);
        for (size_t r = 0; r < Pm; r++) {
            const double *g = ws->ok + r * nb;
            double *ore = o_re + r * ld, *oim = o_im + r * ld;
            for (int b = 0; b < B; b++) {
                ore[b] += are[b] * g[b];
                oim[b] += aim[b] * g[b];
            }
        }
        if (Pp == 0) {
            continue;
        }
        memset(ws->gk, 0, Pp * nb * sizeof(double));
        for (int b = 0; b < B; b++) {
            ars_wf_phase_grad(ws->gk + b, nb, ws->img + (size_t)b * (size_t)L, &ws->wf, ws->pws);
        }
        for (size_t r = 0; r < Pp; r++) {
            const double *g = ws->gk + r * nb;
            double *ore = o_re + (Pm + r) * ld, *oim = o_im + (Pm + r) * ld;
            for (int b = 0; b < B; b++) {
                ore[b] -= aim[b] * g[b];
                oim[b] += are[b] * g[b];
            }
        }
    }
    return n_bad;
}
