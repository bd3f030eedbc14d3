/*
 * wavefunction: modulus plus phase (see the header).
 */
#include "wf/wavefunction.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"
#include "space/symmetry.h"

#define WF_PI 3.14159265358979323846

ars_wf ars_wf_make(const ars_arnn *net, int marshall_sign, const ars_phase *phase) {
    ars_wf wf = {net, marshall_sign != 0, phase};
    return wf;
}

int ars_wf_is_real(const ars_wf *wf) {
    return wf->phase == NULL;
}

struct ars_wf_ws {
    int B, G;
    int nb;            /* the batch of the last ars_wf_phase */
    uint8_t *img;      /* (G * B, L) the images g s, image k of sample b at row k * B + b */
    double *img_phi;   /* (G * B) */
    ars_phase_ws *pws; /* for G * B configurations */
};

ars_wf_ws *ars_wf_ws_alloc(const ars_wf *wf, int B) {
    if (wf->phase == NULL) {
        return NULL;
    }
    ars_wf_ws *ws = calloc(1, sizeof *ws);
    if (ws == NULL) {
        return NULL;
    }
    const size_t L = (size_t)wf->net->arch.hilbert.size;
    ws->B = B;
    ws->G = ars_sym_order(wf->net->arch.symmetry, (int)L);
    const size_t rows = (size_t)ws->G * (size_t)(B > 0 ? B : 1);
    ws->img = malloc(rows * L);
    ws->img_phi = malloc(rows * sizeof(double));
    ws->pws = ars_phase_ws_alloc(wf->phase, (int)rows);
    if (ws->img == NULL || ws->img_phi == NULL || ws->pws == NULL) {
        ars_wf_ws_free(ws);
        return NULL;
    }
    return ws;
}

void ars_wf_ws_free(ars_wf_ws *ws) {
    if (ws == NULL) {
        return;
    }
    free(ws->img);
    free(ws->img_phi);
    ars_phase_ws_free(ws->pws);
    free(ws);
}

/* The Marshall sign's phase: pi times the parity of the odd sites' indices. */
static double marshall_phi(const uint8_t *s, int L) {
    int odd = 0;
    for (int t = 1; t < L; t += 2) {
        odd += s[t];
    }
    return (odd & 1) ? WF_PI : 0.0;
}

void ars_wf_phase(double *phi, const uint8_t *cfg, const ars_wf *wf, ars_wf_ws *ws, int B) {
    const ars_arch *a = &wf->net->arch;
    const int L = a->hilbert.size, D = a->hilbert.local_size;
    for (int b = 0; b < B; b++) {
        phi[b] = wf->marshall ? marshall_phi(cfg + (size_t)b * L, L) : 0.0;
    }
    if (wf->phase == NULL) {
        return;
    }
    ARS_ASSERT(ws != NULL, "a phase network needs its workspace");
    // cppcheck-suppress nullPointerRedundantCheck
    ARS_ASSERT(B <= ws->B, "batch %d, phase workspace %d", B, ws->B);
    const int G = ws->G;
    ws->nb = B;
    for (int k = 0; k < G; k++) {
        ars_sym_apply(ws->img + (size_t)k * B * L, cfg, (size_t)B, L, D,
                      ars_sym_element(a->symmetry, L, k));
    }
    ars_phase_phi(ws->img_phi, ws->img, wf->phase, ws->pws, G * B);
    for (int b = 0; b < B; b++) {
        double s = 0.0;
        for (int k = 0; k < G; k++) {
            s += ws->img_phi[(size_t)k * B + b];
        }
        phi[b] += s / G;
    }
}

void ars_wf_log_psi(double *log_abs, double *phi, const uint8_t *cfg, const ars_wf *wf,
                    ars_arnn_ws *ws, ars_wf_ws *pws, int B) {
    ars_arnn_log_psi(log_abs, cfg, wf->net, ws, B);
    ars_wf_phase(phi, cfg, wf, pws, B);
}

void ars_wf_phase_ratio(double *re, double *im, const ars_wf *wf, ars_wf_ws *pws, const uint8_t *s,
                        int b, const ars_change *c) {
    const double sign = wf->marshall ? ars_change_marshall_ratio(s, c) : 1.0;
    if (wf->phase == NULL) {
        *re = sign;
        *im = 0.0;
        return;
    }
    const ars_arch *a = &wf->net->arch;
    const int L = a->hilbert.size, D = a->hilbert.local_size, G = pws->G;
    ARS_ASSERT(b >= 0 && b < pws->nb, "sample %d of a batch of %d", b, pws->nb);
    double d = 0.0;
    for (int k = 0; k < G; k++) {
        const unsigned g = ars_sym_element(a->symmetry, L, k);
        ars_change gc;
        ars_sym_change(&gc, c, g, L, D);
        d += ars_phase_dphi(wf->phase, pws->pws, k * pws->nb + b, &gc);
    }
    d /= G;
    *re = sign * cos(d);
    *im = sign * sin(d);
}

void ars_wf_phase_grad(double *grad, size_t ld, const uint8_t *row, const ars_wf *wf,
                       ars_wf_ws *pws) {
    const ars_arch *a = &wf->net->arch;
    const int L = a->hilbert.size, D = a->hilbert.local_size, G = pws->G;
    pws->nb = 0; /* the images below replace the batch of ars_wf_phase */
    for (int k = 0; k < G; k++) {
        ars_sym_apply(pws->img, row, 1, L, D, ars_sym_element(a->symmetry, L, k));
        ars_phase_grad(grad, ld, pws->img, wf->phase, pws->pws, 1.0 / G);
    }
}
