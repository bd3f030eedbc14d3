/*
 * local_energy: local energies from an operator's connections and the wavefunction's ratios
 * (see the header).
 */
#include "est/local_energy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"

struct ars_eloc_ws {
    int B, L, max_conn, n_ops;
    ars_ratio_ws *ratio;
    ars_wf_ws *phase; /* NULL for a real wavefunction */
    ars_change *ch;   /* (B, max_conn): each sample's connections, operator after operator */
    double *mel;      /* (B, max_conn) */
    double *mel_im;   /* (B, max_conn) imaginary parts (complex operators) */
    double *dlog;     /* (B, max_conn) */
    int *n;           /* (B) connections of all operators */
    int *n_op;        /* (B, n_ops) connections of each operator */
    double *phi;      /* (B) the samples' phases (complex wavefunctions) */
};

static int eloc_max_conn(const ars_op *op) {
    const int m = ars_op_max_connections(op);
    return m > 0 ? m : 1;
}

static int eloc_max_sites(const ars_op *op) {
    const int m = ars_op_max_sites(op);
    return m > 0 ? m : 1;
}

ars_eloc_ws *ars_eloc_ws_alloc(const ars_op *op, const ars_wf *wf, int B) {
    return ars_eloc_ws_alloc_set(&op, 1, wf, B);
}

ars_eloc_ws *ars_eloc_ws_alloc_set(const ars_op *const *ops, int n_ops, const ars_wf *wf, int B) {
    const ars_arnn *net = wf->net;
    ARS_ASSERT(n_ops >= 1, "%d operators", n_ops);
    int max_conn = 0, max_sites = 1;
    for (int k = 0; k < n_ops; k++) {
        ARS_ASSERT(ars_op_size(ops[k]) == net->arch.hilbert.size &&
                       ars_op_two_s(ops[k]) == net->arch.hilbert.two_s,
                   "operator (%d sites, 2S = %d) and network (%d sites, 2S = %d) differ",
                   ars_op_size(ops[k]), ars_op_two_s(ops[k]), net->arch.hilbert.size,
                   net->arch.hilbert.two_s);
        max_conn += eloc_max_conn(ops[k]);
        max_sites = eloc_max_sites(ops[k]) > max_sites ? eloc_max_sites(ops[k]) : max_sites;
    }
    ars_eloc_ws *ws = calloc(1, sizeof *ws);
    if (ws == NULL) {
        return NULL;
    }
    ws->B = B;
    ws->L = net->arch.hilbert.size;
    ws->max_conn = max_conn;
    ws->n_ops = n_ops;
    const size_t n = (size_t)B * (size_t)ws->max_conn;
    ws->ratio = ars_ratio_ws_alloc(net, B, ws->max_conn, max_sites);
    ws->phase = ars_wf_ws_alloc(wf, B);
    ws->ch = malloc(n * sizeof *ws->ch);
    ws->mel = malloc(n * sizeof *ws->mel);
    ws->mel_im = malloc(n * sizeof *ws->mel_im);
    ws->dlog = malloc(n * sizeof *ws->dlog);
    ws->n = malloc((size_t)B * sizeof *ws->n);
    ws->n_op = malloc((size_t)B * (size_t)n_ops * sizeof *ws->n_op);
    ws->phi = malloc((size_t)B * sizeof *ws->phi);
    if (ws->ratio == NULL || (!ars_wf_is_real(wf) && ws->phase == NULL) || ws->mel_im == NULL ||
        ws->ch == NULL || ws->mel == NULL || ws->dlog == NULL || ws->n == NULL ||
        ws->n_op == NULL || ws->phi == NULL) {
        ars_eloc_ws_free(ws);
        return NULL;
    }
    return ws;
}

void ars_eloc_ws_free(ars_eloc_ws *ws) {
    if (ws == NULL) {
        return;
    }
    ars_ratio_ws_free(ws->ratio);
    ars_wf_ws_free(ws->phase);
    free(ws->ch);
    free(ws->mel);
    free(ws->mel_im);
    free(ws->dlog);
    free(ws->n);
    free(ws->n_op);
    free(ws->phi);
    free(ws);
}

int ars_eloc_ws_set_dtype(ars_eloc_ws *ws, const ars_wf *wf, ars_dtype dtype) {
    return ars_ratio_ws_set_dtype(ws->ratio, wf->net, dtype);
}

const ars_ratio_ws *ars_eloc_ws_ratio(const ars_eloc_ws *ws) {
    return ws->ratio;
}

int ars_eloc_compute(double *eloc, double *eloc_im, const uint8_t *cfg, const ars_op *op,
                     const ars_wf *wf, ars_eloc_ws *ws, int B) {
    return ars_eloc_compute_set(eloc, eloc_im, cfg, &op, 1, wf, ws, B);
}

int ars_eloc_compute_set(double *val, double *val_im, const uint8_t *cfg, const ars_op *const *ops,
                         int n_ops, const ars_wf *wf, ars_eloc_ws *ws, int B) {
    const int L = ws->L, mc = ws->max_conn;
    ARS_ASSERT(n_ops == ws->n_ops, "%d operators, workspace for %d", n_ops, ws->n_ops);
    ARS_ASSERT(B >= 0 && B <= ws->B, "batch %d exceeds workspace %d", B, ws->B);
    ARS_ASSERT(ars_wf_is_real(wf) || (val_im != NULL && ws->phase != NULL),
               "a complex wavefunction needs val_im and a workspace made for it");
    int any_complex = 0;
    for (int q = 0; q < n_ops; q++) {
        ARS_ASSERT(ars_op_size(ops[q]) == L, "operator size %d, workspace %d", ars_op_size(ops[q]),
                   L);
        any_complex |= ars_op_is_complex(ops[q]);
    }
    ARS_ASSERT(!any_complex || val_im != NULL, "a complex operator needs val_im");
    if (B == 0) {
        return 0;
    }
    /* Every operator's connections of a sample in one list: one pass of ratio windows. */
    for (int b = 0; b < B; b++) {
        const size_t o = (size_t)b * mc;
        int used = 0;
        for (int q = 0; q < n_ops; q++) {
            const int n =
                ars_op_apply_complex(ops[q], cfg + (size_t)b * L, &val[(size_t)q * B + b],
                                     ws->ch + o + used, ws->mel + o + used, ws->mel_im + o + used);
            ws->n_op[(size_t)b * n_ops + q] = n;
            used += n;
        }
        ws->n[b] = used;
    }
    ars_ratio_log(ws->dlog, cfg, ws->ch, ws->n, (size_t)mc, wf->net, ws->ratio, B);
    if (!ars_wf_is_real(wf)) {
        ars_wf_phase(ws->phi, cfg, wf, ws->phase, B);
    }
    int bad = 0;
    for (int b = 0; b < B; b++) {
        const uint8_t *s = cfg + (size_t)b * L;
        size_t o = (size_t)b * mc;
        for (int q = 0; q < n_ops; q++) {
            double acc = val[(size_t)q * B + b], acc_im = 0.0;
            const int cplx = ars_op_is_complex(ops[q]);
            const size_t end = o + (size_t)ws->n_op[(size_t)b * n_ops + q];
            for (; o < end; o++) {
                double re, im;
                ars_wf_phase_ratio(&re, &im, wf, ws->phase, s, b, &ws->ch[o]);
                const double r = exp(ws->dlog[o]), m = ws->mel[o];
                if (cplx) { /* (m + i mi)(re + i im) */
                    const double mi = ws->mel_im[o];
                    acc += (m * re - mi * im) * r;
                    acc_im += (m * im + mi * re) * r;
                } else {
                    acc += (m * re) * r;
                    acc_im += (m * im) * r;
                }
            }
            val[(size_t)q * B + b] = acc;
            bad += !isfinite(acc);
            if (val_im != NULL) {
                val_im[(size_t)q * B + b] = acc_im;
                bad += !isfinite(acc_im) && isfinite(acc);
            }
        }
    }
    return bad;
}

int ars_eloc_compute_slow(double *eloc, double *eloc_im, const uint8_t *cfg, const ars_op *op,
                          const ars_wf *wf, int B) {
    const int L = ars_op_size(op), m = eloc_max_conn(op) + 1;
    ars_arnn_ws *ws = ars_arnn_ws_alloc(wf->net, m);
    ars_wf_ws *pws = ars_wf_ws_alloc(wf, m);
    uint8_t *rows = malloc((size_t)m * L);
    double *lp = malloc((size_t)m * sizeof *lp);
    double *phi = malloc((size_t)m * sizeof *phi);
    double *mel = malloc(2 * (size_t)m * sizeof *mel); /* real parts, then imaginary */
    ars_change *ch = malloc((size_t)m * sizeof *ch);
    int rc = ARS_OK;
    if (ws == NULL || (!ars_wf_is_real(wf) && pws == NULL) || rows == NULL || lp == NULL ||
        phi == NULL || mel == NULL || ch == NULL) {
        rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the brute-force local energies");
        goto done;
    }
    for (int b = 0; b < B; b++) {
        const uint8_t *s = cfg + (size_t)b * L;
        double diag;
        const int n = ars_op_apply_complex(op, s, &diag, ch, mel, mel + m);
        for (int k = 0; k <= n; k++) {
            uint8_t *row = rows + (size_t)k * L;
            memcpy(row, s, (size_t)L);
            for (int j = 0; k > 0 && j < ch[k - 1].n; j++) {
                row[ch[k - 1].site[j]] = ch[k - 1].value[j];
            }
        }
        ars_wf_log_psi(lp, phi, rows, wf, ws, pws, n + 1);
        double acc = diag, acc_im = 0.0;
        for (int k = 0; k < n; k++) {
            const double r = exp(lp[k + 1] - lp[0]), dphi = phi[k + 1] - phi[0];
            /* A real wavefunction's signs exactly; else the phases' difference. */
            const double re = ars_wf_is_real(wf) ? (dphi != 0.0 ? -1.0 : 1.0) : cos(dphi);
            const double im = ars_wf_is_real(wf) ? 0.0 : sin(dphi);
            acc += (mel[k] * re - mel[m + k] * im) * r;
            acc_im += (mel[k] * im + mel[m + k] * re) * r;
        }
        eloc[b] = acc;
        if (eloc_im != NULL) {
            eloc_im[b] = acc_im;
        }
    }
done:
    free(ch);
    free(mel);
    free(phi);
    free(lp);
    free(rows);
    ars_wf_ws_free(pws);
    ars_arnn_ws_free(ws);
    return rc;
}
