/*
 * observables: estimators and their chunked, thread-count independent reduction; definitions
 * in observables.h.
 */
#include "vmc/observables.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "core/ars_common.h"
#include "est/local_energy.h"
#include "wf/ratio.h"
#include "wf/wavefunction.h"

#define ARS_OBS_PI 3.14159265358979323846

const char *const ars_obs_names[ARS_OBS_COUNT + 1] = {"sz",
                                                      "magnetization",
                                                      "abs_magnetization",
                                                      "staggered_magnetization",
                                                      "zz_correlation",
                                                      "zz_connected",
                                                      "structure_factor",
                                                      "sx",
                                                      "xx_correlation",
                                                      "energy",
                                                      "renyi2",
                                                      "string_order",
                                                      NULL};

const char *ars_obs_description(ars_obs_kind kind) {
    static const char *const text[ARS_OBS_COUNT] = {
        "<sz_i> per site (Pauli units, eigenvalues +-1 for spin 1/2)",
        "<M>/N, M = sum_i sz_i",
        "<|M|>/N",
        "<|sum_i (-1)^i sz_i|>/N",
        "C(r) = <sz_i sz_{i+r}>: averaged over i with pbc, i = centre for open chains",
        "C(r) - <sz_i><sz_{i+r}>: averaged over i with pbc, i = centre for open chains",
        "S(k) = (1/N) sum_{i,j} e^{ik(i-j)} <sz_i sz_j>, k = 2 pi n / N",
        "<sx_i> per site, from amplitude ratios",
        "<sx_i sx_{i+r}>: averaged over i with pbc, i = centre for open chains",
        "<H> of [hamiltonian] from local energies; variance = Var(E_loc)",
        "S2 = -ln Tr(rho_A^2) of A = sites [0, cut), replica swap estimator on sample pairs",
        "O(r) = <Sz_i exp(i pi sum_{i<k<i+r} Sz_k) Sz_{i+r}>, Sz not 2 Sz, integer spin",
    };
    ARS_ASSERT(kind >= 0 && kind < ARS_OBS_COUNT, "kind %d", (int)kind);
    /* cppcheck does not see that ARS_ASSERT never returns on a bad kind. */
    // cppcheck-suppress [arrayIndexOutOfBoundsCond, negativeIndex]
    return text[kind];
}

void ars_obs_geometry(int L, int pbc, int *nr, int *centre) {
    if (pbc) {
        *nr = L / 2 + 1;
        *centre = -1;
    } else {
        *centre = (L - 1) / 2;
        *nr = L - *centre;
    }
}

/* Running weight, means and sums of squared deviations of ncomp values. */
typedef struct obs_stats {
    double w;
    double *mean, *m2;
} obs_stats;

/* The weighted mean and squared deviations of values V (B, ncomp) into chunk slot s. */
static void stats_of_chunk(obs_stats *s, const double *V, const double *w, int B, int ncomp) {
    double W = 0.0;
    for (int b = 0; b < B; b++) {
        W += w != NULL ? w[b] : 1.0;
    }
    s->w = W;
    for (int c = 0; c < ncomp; c++) {
        double sum = 0.0;
        for (int b = 0; b < B; b++) {
            sum += (w != NULL ? w[b] : 1.0) * V[(size_t)b * ncomp + c];
        }
        const double mean = W > 0.0 ? sum / W : 0.0;
        double m2 = 0.0;
        for (int b = 0; b < B; b++) {
            const double d = V[(size_t)b * ncomp + c] - mean;
            m2 += (w != NULL ? w[b] : 1.0) * d * d;
        }
        s->mean[c] = mean;
        s->m2[c] = m2;
    }
}

/* acc += s (Chan, Golub and LeVeque's pairwise update), in the caller's fixed order. */
static void stats_merge(obs_stats *acc, const obs_stats *s, int ncomp) {
    if (s->w <= 0.0) {
        return;
    }
    const double w = acc->w + s->w;
    for (int c = 0; c < ncomp; c++) {
        const double d = s->mean[c] - acc->mean[c];
        acc->mean[c] += d * (s->w / w);
        acc->m2[c] += s->m2[c] + d * d * (acc->w * s->w / w);
    }
    acc->w = w;
}

/* What the passes share. Pass 1: every per-sample observable but zz_connected (plus sz when
 * zz_connected needs its means); pass 2: zz_connected; pass 3: renyi2 on pairs. */
typedef struct obs_ctx {
    const ars_obs_spec *spec;
    const ars_arnn *net;
    const uint8_t *cfg;
    int64_t n;
    const double *weight;
    int L, two_s, nr, centre;
    unsigned pass1;         /* kinds of pass 1 */
    int off[ARS_OBS_COUNT]; /* their offsets in a sample's value row */
    int n_ops, off_ops;     /* user operators: their count, and the first's offset */
    int ncomp;              /* length of that row */
    const double *m;        /* pass 2: <z_i> */
    double *cosv, *sinv;    /* (L) cos and sin of 2 pi m / L */
} obs_ctx;

/* Per-thread scratch, allocated once for every pass of a measurement. */
typedef struct obs_scratch {
    int ncomp;                     /* the most components of a pass */
    double *V;                     /* (B, ncomp) values */
    double *w;                     /* (B) weights */
    double *z;                     /* (L) */
    ars_ratio_ws *rws;             /* ratios (sx, xx_correlation) */
    ars_op *op;                    /* the operator of H (energy) */
    ars_eloc_ws *ews;              /* local energies (energy) */
    ars_op *uop[ARS_USER_OPS_MAX]; /* the user operators, this thread's */
    ars_eloc_ws *uews;             /* their local values' workspace (all at once) */
    double *uval;                  /* (2, n_ops, B) their local values, real then imaginary */
    ars_change *changes;           /* (B, L) */
    int *n_changes;                /* (B) */
    double *dlog;                  /* (B, L) */
    double *eloc;                  /* (B) */
    ars_arnn_ws *aws;              /* renyi2: 2B configurations */
    uint8_t *pcfg;                 /* (2B, L) */
    double *lp0, *lp1;             /* (2B) */
    ars_wf_ws *pws;                /* phase network: the samples' phases (sx, xx_correlation) */
    ars_wf_ws *pws2;               /* phase network: renyi2's 2B configurations */
    double *phi;                   /* (2B) */
    double *phi1;                  /* (2B) */
} obs_scratch;

static void scratch_free(obs_scratch *s) {
    free(s->V);
    free(s->w);
    free(s->z);
    ars_ratio_ws_free(s->rws);
    ars_eloc_ws_free(s->ews);
    ars_op_free(s->op);
    ars_eloc_ws_free(s->uews);
    free(s->uval);
    for (int k = 0; k < ARS_USER_OPS_MAX; k++) {
        ars_op_free(s->uop[k]);
    }
    free(s->changes);
    free(s->n_changes);
    free(s->dlog);
    free(s->eloc);
    ars_arnn_ws_free(s->aws);
    free(s->pcfg);
    free(s->lp0);
    free(s->lp1);
    ars_wf_ws_free(s->pws);
    ars_wf_ws_free(s->pws2);
    free(s->phi);
    free(s->phi1);
    memset(s, 0, sizeof *s);
}

/* The scratch of one thread for every pass of the measurement (value rows of up to ncomp
 * components), allocated once before the passes. */
static int scratch_alloc(obs_scratch *s, const obs_ctx *x, int ncomp) {
    const int B = x->spec->chunk_size, L = x->L;
    memset(s, 0, sizeof *s);
    s->ncomp = ncomp;
    s->V = calloc((size_t)B * (size_t)ncomp, sizeof *s->V);
    s->w = malloc((size_t)B * sizeof *s->w);
    s->z = malloc((size_t)L * sizeof *s->z);
    s->n_changes = malloc((size_t)B * sizeof *s->n_changes);
    const ars_wf wf = ars_wf_make(x->net, x->spec->marshall_sign, x->spec->phase);
    s->phi = malloc((size_t)2 * B * sizeof *s->phi);
    s->phi1 = malloc((size_t)2 * B * sizeof *s->phi1);
    int ok = s->V != NULL && s->w != NULL && s->z != NULL && s->n_changes != NULL &&
             s->phi != NULL && s->phi1 != NULL;
    if (ok && !ars_wf_is_real(&wf)) {
        s->pws = ars_wf_ws_alloc(&wf, B);
        s->pws2 = ars_wf_ws_alloc(&wf, 2 * B);
        ok = s->pws != NULL && s->pws2 != NULL;
    }
    const unsigned ratio = (1u << ARS_OBS_SX) | (1u << ARS_OBS_XX_CORRELATION);
    if (ok && x->ncomp > 0 && (x->pass1 & ratio) != 0) {
        /* Single flips and pairs at any distance: L changes of at most 2 sites per sample. */
        s->rws = ars_ratio_ws_alloc(x->net, B, L, 2);
        s->changes = malloc((size_t)B * (size_t)L * sizeof *s->changes);
        s->dlog = malloc((size_t)B * (size_t)L * sizeof *s->dlog);
        ok = s->rws != NULL && s->changes != NULL && s->dlog != NULL;
    }
    if (ok && x->ncomp > 0 && (x->pass1 & (1u << ARS_OBS_ENERGY)) != 0) {
        ARS_ASSERT(x->spec->H != NULL, "energy without a Hamiltonian");
        s->op = ars_ham_operator(x->spec->H);
        s->ews = s->op != NULL ? ars_eloc_ws_alloc(s->op, &wf, B) : NULL;
        s->eloc = malloc((size_t)2 * B * sizeof *s->eloc);
        ok = s->ews != NULL && s->eloc != NULL;
    }
    for (int k = 0; ok && k < x->n_ops; k++) {
        /* The config check built each operator already: only memory can fail here. */
        int status = ARS_OK;
        s->uop[k] = ars_user_op_build(&x->spec->ops->op[k], L, x->two_s, x->spec->pbc, &status);
        ok = s->uop[k] != NULL;
    }
    if (ok && x->n_ops > 0) {
        s->uews = ars_eloc_ws_alloc_set((const ars_op *const *)s->uop, x->n_ops, &wf, B);
        s->uval = malloc((size_t)2 * (size_t)x->n_ops * (size_t)B * sizeof *s->uval);
        ok = s->uews != NULL && s->uval != NULL;
    }
    if (ok && (x->spec->mask & (1u << ARS_OBS_RENYI2)) != 0) {
        s->aws = ars_arnn_ws_alloc(x->net, 2 * B);
        s->pcfg = malloc((size_t)2 * B * (size_t)L);
        s->lp0 = malloc((size_t)2 * B * sizeof *s->lp0);
        s->lp1 = malloc((size_t)2 * B * sizeof *s->lp1);
        ok = s->aws != NULL && s->pcfg != NULL && s->lp0 != NULL && s->lp1 != NULL;
    }
    if (!ok) {
        scratch_free(s);
        return ARS_STATUS_ENOMEM;
    }
    return ARS_OK;
}

/* The spin-1/2 flip of sites i and j (j < 0: i only) of configuration sb, sites ascending. */
static ars_change flip_change(const uint8_t *sb, int i, int j) {
    ars_change c = {0};
    const int a = j >= 0 && j < i ? j : i, b = j >= 0 && j < i ? i : j;
    c.site[c.n] = a;
    c.value[c.n++] = (uint8_t)(1 - sb[a]);
    if (b >= 0) {
        c.site[c.n] = b;
        c.value[c.n++] = (uint8_t)(1 - sb[b]);
    }
    return c;
}

/* Pass 1 values of samples [start, start + B). */
static void values_pass1(const obs_ctx *x, obs_scratch *s, int64_t start, int B) {
    const int L = x->L, nc = x->ncomp, nr = x->nr, c0 = x->centre;
    const unsigned m = x->pass1;
    const uint8_t *cfg = x->cfg + (size_t)start * L;
    for (int b = 0; b < B; b++) {
        const uint8_t *sb = cfg + (size_t)b * L;
        double *v = s->V + (size_t)b * nc;
        double *z = s->z;
        double M = 0.0, Ms = 0.0;
        for (int i = 0; i < L; i++) {
            z[i] = (double)(2 * (int)sb[i] - x->two_s);
            M += z[i];
            Ms += (i & 1) ? -z[i] : z[i];
        }
        if (m & (1u << ARS_OBS_SZ)) {
            memcpy(v + x->off[ARS_OBS_SZ], z, (size_t)L * sizeof *z);
        }
        if (m & (1u << ARS_OBS_MAGNETIZATION)) {
            v[x->off[ARS_OBS_MAGNETIZATION]] = M / L;
        }
        if (m & (1u << ARS_OBS_ABS_MAGNETIZATION)) {
            v[x->off[ARS_OBS_ABS_MAGNETIZATION]] = fabs(M) / L;
        }
        if (m & (1u << ARS_OBS_STAGGERED_MAGNETIZATION)) {
            v[x->off[ARS_OBS_STAGGERED_MAGNETIZATION]] = fabs(Ms) / L;
        }
        if (m & (1u << ARS_OBS_ZZ_CORRELATION)) {
            double *o = v + x->off[ARS_OBS_ZZ_CORRELATION];
            for (int r = 0; r < nr; r++) {
                if (c0 < 0) {
                    double acc = 0.0;
                    for (int i = 0; i < L; i++) {
                        acc += z[i] * z[(i + r) % L];
                    }
                    o[r] = acc / L;
                } else {
                    o[r] = z[c0] * z[c0 + r];
                }
            }
        }
        if (m & (1u << ARS_OBS_STRING_ORDER)) {
            /* m_t = z_t / 2 is an integer: the string is the product of (-1)^m_k. */
            double *o = v + x->off[ARS_OBS_STRING_ORDER];
            const int n_i = c0 < 0 ? L : 1;
            for (int r = 0; r < nr; r++) {
                o[r] = 0.0;
            }
            for (int t = 0; t < n_i; t++) {
                const int i = c0 < 0 ? t : c0;
                const double mi = 0.5 * z[i];
                double string = 1.0;
                o[0] += mi * mi;
                for (int r = 1; r < nr; r++) {
                    const int j = (i + r) % L;
                    const double mj = 0.5 * z[j];
                    o[r] += mi * string * mj;
                    string = ((int)lrint(mj) & 1) ? -string : string;
                }
            }
            for (int r = 0; r < nr; r++) {
                o[r] /= n_i;
            }
        }
        if (m & (1u << ARS_OBS_STRUCTURE_FACTOR)) {
            double *o = v + x->off[ARS_OBS_STRUCTURE_FACTOR];
            for (int q = 0; q < L; q++) {
                double re = 0.0, im = 0.0;
                for (int j = 0; j < L; j++) {
                    const int ph = (int)(((int64_t)q * j) % L);
                    re += z[j] * x->cosv[ph];
                    im += z[j] * x->sinv[ph];
                }
                o[q] = (re * re + im * im) / L;
            }
        }
    }
    /* Ratio observables, chunk-wide (windows batch across samples). */
    const ars_wf wf = ars_wf_make(x->net, x->spec->marshall_sign, x->spec->phase);
    if ((m & ((1u << ARS_OBS_SX) | (1u << ARS_OBS_XX_CORRELATION))) && !ars_wf_is_real(&wf)) {
        ars_wf_phase(s->phi, cfg, &wf, s->pws, B);
    }
    if (m & (1u << ARS_OBS_SX)) {
        ARS_ASSERT(s->rws != NULL && s->changes != NULL && s->dlog != NULL, "no ratio workspace");
        for (int b = 0; b < B; b++) {
            s->n_changes[b] = L;
            for (int i = 0; i < L; i++) {
                s->changes[(size_t)b * L + i] = flip_change(cfg + (size_t)b * L, i, -1);
            }
        }
        ars_ratio_log(s->dlog, cfg, s->changes, s->n_changes, (size_t)L, x->net, s->rws, B);
        for (int b = 0; b < B; b++) {
            double *o = s->V + (size_t)b * nc + x->off[ARS_OBS_SX];
            const uint8_t *sb = cfg + (size_t)b * L;
            for (int i = 0; i < L; i++) {
                double re, im;
                ars_wf_phase_ratio(&re, &im, &wf, s->pws, sb, b, &s->changes[(size_t)b * L + i]);
                o[i] = re * exp(s->dlog[(size_t)b * L + i]);
            }
        }
    }
    if (m & (1u << ARS_OBS_XX_CORRELATION)) {
        ARS_ASSERT(s->rws != NULL && s->changes != NULL && s->dlog != NULL, "no ratio workspace");
        const int per = c0 < 0 ? L : 1; /* flips per sample for one distance */
        for (int b = 0; b < B; b++) {
            s->V[(size_t)b * nc + x->off[ARS_OBS_XX_CORRELATION]] = 1.0; /* sx^2 = 1 */
        }
        for (int r = 1; r < nr; r++) {
            for (int b = 0; b < B; b++) {
                for (int k = 0; k < per; k++) {
                    const int i = c0 < 0 ? k : c0;
                    s->changes[(size_t)b * per + k] =
                        flip_change(cfg + (size_t)b * L, i, (i + r) % L);
                }
                s->n_changes[b] = per;
            }
            ars_ratio_log(s->dlog, cfg, s->changes, s->n_changes, (size_t)per, x->net, s->rws, B);
            for (int b = 0; b < B; b++) {
                double acc = 0.0;
                const uint8_t *sb = cfg + (size_t)b * L;
                for (int k = 0; k < per; k++) {
                    const ars_change *c = &s->changes[(size_t)b * per + k];
                    double re, im;
                    ars_wf_phase_ratio(&re, &im, &wf, s->pws, sb, b, c);
                    acc += re * exp(s->dlog[(size_t)b * per + k]);
                }
                s->V[(size_t)b * nc + x->off[ARS_OBS_XX_CORRELATION] + r] = acc / per;
            }
        }
    }
    if (m & (1u << ARS_OBS_ENERGY)) {
        ARS_ASSERT(s->ews != NULL && s->eloc != NULL, "no local-energy workspace");
        ars_eloc_compute(s->eloc, ars_wf_is_real(&wf) ? NULL : s->eloc + B, cfg, s->op, &wf, s->ews,
                         B);
        for (int b = 0; b < B; b++) {
            s->V[(size_t)b * nc + x->off[ARS_OBS_ENERGY]] = s->eloc[b];
        }
    }
    if (x->n_ops > 0) {
        ARS_ASSERT(s->uews != NULL && s->uval != NULL, "no workspace for the operators");
        const size_t nb = (size_t)x->n_ops * (size_t)B;
        ars_eloc_compute_set(s->uval, s->uval + nb, cfg, (const ars_op *const *)s->uop, x->n_ops,
                             &wf, s->uews, B);
        for (int k = 0; k < x->n_ops; k++) {
            for (int b = 0; b < B; b++) { /* the real part */
                s->V[(size_t)b * nc + x->off_ops + k] = s->uval[(size_t)k * B + b];
            }
        }
    }
}

/* Pass 2 values (zz_connected, delta method with the means x->m) of samples [start, start+B). */
static void values_pass2(const obs_ctx *x, obs_scratch *s, int64_t start, int B) {
    const int L = x->L, nr = x->nr, c0 = x->centre;
    const double *m = x->m;
    for (int b = 0; b < B; b++) {
        const uint8_t *sb = x->cfg + (size_t)(start + b) * L;
        double *z = s->z, *o = s->V + (size_t)b * nr;
        for (int i = 0; i < L; i++) {
            z[i] = (double)(2 * (int)sb[i] - x->two_s);
        }
        for (int r = 0; r < nr; r++) {
            if (c0 < 0) {
                double acc = 0.0;
                for (int i = 0; i < L; i++) {
                    const int j = (i + r) % L;
                    acc += z[i] * z[j] - m[j] * z[i] - m[i] * z[j] + m[i] * m[j];
                }
                o[r] = acc / L;
            } else {
                const int j = c0 + r;
                o[r] = z[c0] * z[j] - m[j] * z[c0] - m[c0] * z[j] + m[c0] * m[j];
            }
        }
    }
}

/* Pass 3 values (renyi2 swap ratios, one per cut) of pairs [start, start + P). */
static void values_pass3(const obs_ctx *x, obs_scratch *s, int64_t start, int P) {
    const int L = x->L, nc = x->spec->n_cuts;
    const int64_t half = x->n / 2;
    uint8_t *pc = s->pcfg;
    ARS_ASSERT(pc != NULL && s->aws != NULL && s->lp0 != NULL && s->lp1 != NULL,
               "pass 3 scratch without its pair workspace");
    for (int p = 0; p < P; p++) {
        memcpy(pc + (size_t)p * L, x->cfg + (size_t)(start + p) * L, (size_t)L);
        memcpy(pc + (size_t)(P + p) * L, x->cfg + (size_t)(start + half + p) * L, (size_t)L);
    }
    ars_arnn_log_psi(s->lp0, pc, x->net, s->aws, 2 * P);
    const ars_wf wf = ars_wf_make(x->net, x->spec->marshall_sign, x->spec->phase);
    const int real = ars_wf_is_real(&wf);
    if (!real) {
        ars_wf_phase(s->phi, pc, &wf, s->pws2, 2 * P);
    }
    for (int c = 0; c < nc; c++) {
        const int l = x->spec->cuts[c];
        /* a1 b2 and a2 b1: exchange the sites >= l of the two rows. */
        for (int p = 0; p < P; p++) {
            const uint8_t *s1 = x->cfg + (size_t)(start + p) * L;
            const uint8_t *s2 = x->cfg + (size_t)(start + half + p) * L;
            memcpy(pc + (size_t)p * L, s1, (size_t)l);
            memcpy(pc + (size_t)p * L + l, s2 + l, (size_t)(L - l));
            memcpy(pc + (size_t)(P + p) * L, s2, (size_t)l);
            memcpy(pc + (size_t)(P + p) * L + l, s1 + l, (size_t)(L - l));
        }
        ars_arnn_log_psi(s->lp1, pc, x->net, s->aws, 2 * P);
        if (!real) {
            ars_wf_phase(s->phi1, pc, &wf, s->pws2, 2 * P);
        }
        for (int p = 0; p < P; p++) {
            const double d = s->lp1[p] + s->lp1[P + p] - s->lp0[p] - s->lp0[P + p];
            const double dphi =
                real ? 0.0 : s->phi1[p] + s->phi1[P + p] - s->phi[p] - s->phi[P + p];
            s->V[(size_t)p * nc + c] = real ? exp(d) : exp(d) * cos(dphi);
        }
    }
}

/* One pass over n_items items (samples, or pairs in pass 3) in chunks: per-chunk statistics,
 * merged in chunk order into *out (ncomp entries). */
static int run_pass(const obs_ctx *x, obs_scratch *scratch, int pass, int ncomp, int64_t n_items,
                    obs_stats *out) {
    const int64_t cs = x->spec->chunk_size;
    const int64_t n_chunks = (n_items + cs - 1) / cs;
    const int64_t half = x->n / 2;
    const ars_comm alone = {.rank = 0, .size = 1};
    const ars_comm *comm = x->spec->comm != NULL ? x->spec->comm : &alone;
    /* One row per chunk: its weight, then the means and squared deviations of the ncomp values
     * (contiguous, so that the ranks can gather the rows of their chunks). */
    const size_t row = 1 + 2 * (size_t)ncomp;
    obs_stats *chunk = calloc((size_t)(n_chunks > 0 ? n_chunks : 1), sizeof *chunk);
    double *store = malloc((size_t)(n_chunks > 0 ? n_chunks : 1) * row * sizeof *store);
    int failed = chunk == NULL || store == NULL;
    if (ars_comm_max_int(comm, failed) || chunk == NULL || store == NULL) {
        free(chunk);
        free(store);
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for observables (on this or another "
                                          "rank)");
    }
    for (int64_t c = 0; c < n_chunks; c++) {
        chunk[c].mean = store + (size_t)c * row + 1;
        chunk[c].m2 = chunk[c].mean + ncomp;
    }
    size_t c0, c1;
    ars_comm_chunks(comm, (size_t)n_chunks, &c0, &c1);
#pragma omp parallel num_threads(x->spec->n_threads > 0 ? x->spec->n_threads                       \
                                                        : omp_get_max_threads()) default(none)     \
    shared(x, scratch, pass, ncomp, n_items, cs, c0, c1, half, chunk, store, row)
    {
        obs_scratch *s = &scratch[omp_get_thread_num()];
        ARS_ASSERT(ncomp <= s->ncomp, "%d components, scratch for %d", ncomp, s->ncomp);
        /* As a fresh workspace would be: every pass starts from zero values. */
        memset(s->V, 0, (size_t)cs * (size_t)s->ncomp * sizeof *s->V);
#pragma omp for schedule(dynamic, 1)
        for (int64_t c = (int64_t)c0; c < (int64_t)c1; c++) {
            const int64_t start = c * cs;
            const int B = (int)(start + cs <= n_items ? cs : n_items - start);
            const double *w = NULL;
            if (x->weight != NULL && pass != 3) {
                w = x->weight + start;
            } else if (x->weight != NULL) {
                for (int b = 0; b < B; b++) {
                    s->w[b] = x->weight[start + b] * x->weight[start + half + b];
                }
                w = s->w;
            }
            if (pass == 1) {
                values_pass1(x, s, start, B);
            } else if (pass == 2) {
                values_pass2(x, s, start, B);
            } else {
                values_pass3(x, s, start, B);
            }
            stats_of_chunk(&chunk[c], s->V, w, B, ncomp);
            store[(size_t)c * row] = chunk[c].w;
        }
    }
    /* Every rank gets every chunk's row and merges them in chunk order: the same bits as one
     * process. */
    ars_comm_allgather_rows(comm, store, (size_t)n_chunks, 1, row * sizeof *store);
    for (int64_t c = 0; c < n_chunks; c++) {
        chunk[c].w = store[(size_t)c * row];
    }
    out->w = 0.0;
    for (int c = 0; c < ncomp; c++) {
        out->mean[c] = out->m2[c] = 0.0;
    }
    for (int64_t c = 0; c < n_chunks; c++) {
        stats_merge(out, &chunk[c], ncomp);
    }
    free(chunk);
    free(store);
    return ARS_OK;
}

/* Result arrays of one observable with len entries (0: scalar). */
static int value_alloc(ars_obs_value *v, int len, int coord, int with_k) {
    const size_t m = (size_t)(len > 0 ? len : 1);
    v->len = len;
    v->mean = calloc(m, sizeof *v->mean);
    v->error = calloc(m, sizeof *v->error);
    v->coord = coord ? calloc(m, sizeof *v->coord) : NULL;
    v->k = with_k ? calloc(m, sizeof *v->k) : NULL;
    v->variance = NAN;
    v->centre = -1;
    if (v->mean == NULL || v->error == NULL || (coord && v->coord == NULL) ||
        (with_k && v->k == NULL)) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for observables");
    }
    return ARS_OK;
}

/* Var of component c of n values, normalised by n - 1 (NaN with fewer than 2). */
static double variance_of(const obs_stats *st, int c, int64_t n) {
    return n >= 2 && st->w > 0.0 ? st->m2[c] / st->w * ((double)n / (double)(n - 1)) : (double)NAN;
}

/* Means and standard errors of components [off, off + len) of a pass. */
static void value_fill(ars_obs_value *v, const obs_stats *st, int off, int64_t n) {
    const int m = v->len > 0 ? v->len : 1;
    v->n_samples = n;
    for (int c = 0; c < m; c++) {
        v->mean[c] = st->mean[off + c];
        v->error[c] = sqrt(variance_of(st, off + c, n) / (double)n); /* NaN stays NaN */
    }
}

void ars_obs_result_free(ars_obs_result *res) {
    for (int k = 0; k < ARS_OBS_COUNT + ARS_USER_OPS_MAX; k++) {
        ars_obs_value *v = k < ARS_OBS_COUNT ? &res->v[k] : &res->op_v[k - ARS_OBS_COUNT];
        free(v->mean);
        free(v->error);
        free(v->coord);
        free(v->k);
    }
    for (int k = 0; k < ARS_USER_OPS_MAX; k++) {
        free(res->op_definition[k]);
    }
    memset(res, 0, sizeof *res);
}

int ars_obs_measure(ars_obs_result *res, const ars_obs_spec *spec, const ars_arnn *net,
                    const uint8_t *cfg, int64_t n, const double *weight) {
    memset(res, 0, sizeof *res);
    const int L = net->arch.hilbert.size;
    ARS_ASSERT(spec->chunk_size >= 1 && n >= 1, "chunk %d, n %lld", spec->chunk_size, (long long)n);
    ARS_ASSERT((spec->mask & ARS_OBS_NEEDS_SPIN_HALF) == 0 || net->arch.hilbert.local_size == 2,
               "ratio observables need spin 1/2");
    ARS_ASSERT((spec->mask & ARS_OBS_NEEDS_INTEGER_SPIN) == 0 || net->arch.hilbert.two_s % 2 == 0,
               "string_order needs an integer spin");
    ARS_ASSERT(!(spec->mask & (1u << ARS_OBS_ENERGY)) || (spec->H != NULL && spec->H->size == L),
               "energy needs a Hamiltonian of size %d", L);
    obs_ctx x;
    memset(&x, 0, sizeof x);
    x.spec = spec;
    x.net = net;
    x.cfg = cfg;
    x.n = n;
    x.weight = weight;
    x.L = L;
    x.two_s = net->arch.hilbert.two_s;
    ars_obs_geometry(L, spec->pbc, &x.nr, &x.centre);
    res->mask = spec->mask;
    res->pbc = spec->pbc;
    res->marshall_sign = spec->marshall_sign;
    res->n_samples = n;

    /* Pass 1 layout. */
    static const int coord_kinds[] = {ARS_OBS_ZZ_CORRELATION, ARS_OBS_ZZ_CONNECTED,
                                      ARS_OBS_XX_CORRELATION, ARS_OBS_STRING_ORDER};
    x.pass1 = spec->mask & ~((1u << ARS_OBS_ZZ_CONNECTED) | (1u << ARS_OBS_RENYI2));
    if (spec->mask & (1u << ARS_OBS_ZZ_CONNECTED)) {
        x.pass1 |= 1u << ARS_OBS_SZ;
    }
    for (int k = 0; k < ARS_OBS_COUNT; k++) {
        if (!(x.pass1 & (1u << k))) {
            continue;
        }
        x.off[k] = x.ncomp;
        int len = 1;
        if (k == ARS_OBS_SZ || k == ARS_OBS_STRUCTURE_FACTOR || k == ARS_OBS_SX) {
            len = L;
        } else if (k == ARS_OBS_ZZ_CORRELATION || k == ARS_OBS_XX_CORRELATION ||
                   k == ARS_OBS_STRING_ORDER) {
            len = x.nr;
        }
        x.ncomp += len;
    }
    x.n_ops = spec->ops != NULL ? spec->ops->n : 0;
    x.off_ops = x.ncomp;
    x.ncomp += x.n_ops;
    res->n_ops = x.n_ops;
    int rc = ARS_OK;
    double *buf = NULL, *zmean = NULL;
    obs_scratch *scratch = NULL;
    int n_scratch = 0;
    x.cosv = malloc((size_t)L * sizeof *x.cosv);
    x.sinv = malloc((size_t)L * sizeof *x.sinv);
    const int nmax = x.ncomp + x.nr + ARS_OBS_MAX_CUTS;
    buf = malloc((size_t)2 * (size_t)nmax * sizeof *buf);
    if (x.cosv == NULL || x.sinv == NULL || buf == NULL) {
        rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for observables");
        goto done;
    }
    for (int q = 0; q < L; q++) {
        x.cosv[q] = cos(2.0 * ARS_OBS_PI * q / L);
        x.sinv[q] = sin(2.0 * ARS_OBS_PI * q / L);
    }
    obs_stats st = {0.0, buf, buf + nmax};

    /* Every thread's scratch, allocated once for all passes (none inside the parallel regions);
     * the ranks agree on failure so that they end together. */
    n_scratch = spec->n_threads > 0 ? spec->n_threads : omp_get_max_threads();
    scratch = calloc((size_t)n_scratch, sizeof *scratch);
    int failed = scratch == NULL;
    int ncomp_max = x.ncomp > x.nr ? x.ncomp : x.nr;
    ncomp_max = ncomp_max > ARS_OBS_MAX_CUTS ? ncomp_max : ARS_OBS_MAX_CUTS;
    for (int i = 0; !failed && i < n_scratch; i++) {
        failed = scratch_alloc(&scratch[i], &x, ncomp_max) != ARS_OK;
    }
    const ars_comm alone = {.rank = 0, .size = 1};
    if (ars_comm_max_int(spec->comm != NULL ? spec->comm : &alone, failed)) {
        rc = ARS_ERR(ARS_STATUS_ENOMEM,
                     "out of memory for the observables' workspaces (on this or another rank)");
        goto done;
    }

    /* Allocate every requested result. */
    for (int k = 0; k < ARS_OBS_COUNT; k++) {
        if (!(spec->mask & (1u << k))) {
            continue;
        }
        int len = 0, coord = 0, with_k = 0;
        if (k == ARS_OBS_SZ || k == ARS_OBS_SX) {
            len = L;
        } else if (k == ARS_OBS_STRUCTURE_FACTOR) {
            len = L;
            with_k = 1;
        } else if (k == ARS_OBS_ZZ_CORRELATION || k == ARS_OBS_ZZ_CONNECTED ||
                   k == ARS_OBS_XX_CORRELATION || k == ARS_OBS_STRING_ORDER) {
            len = x.nr;
            coord = 1;
        } else if (k == ARS_OBS_RENYI2) {
            len = spec->n_cuts;
            coord = 1;
        }
        rc = value_alloc(&res->v[k], len, coord, with_k);
        if (rc != ARS_OK) {
            goto done;
        }
    }
    for (int k = 0; k < x.n_ops && rc == ARS_OK; k++) {
        rc = value_alloc(&res->op_v[k], 0, 0, 0);
        snprintf(res->op_name[k], sizeof res->op_name[k], "%s", spec->ops->op[k].name);
        const size_t len = (size_t)spec->ops->op[k].terms.n * 402 + 1; /* "; " + a term */
        res->op_definition[k] = rc == ARS_OK ? malloc(len) : NULL;
        if (res->op_definition[k] == NULL) {
            rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for observables");
        } else {
            ars_user_op_definition(&spec->ops->op[k], res->op_definition[k], len);
        }
    }
    if (rc != ARS_OK) {
        goto done;
    }
    for (size_t i = 0; i < sizeof coord_kinds / sizeof coord_kinds[0]; i++) {
        ars_obs_value *v = &res->v[coord_kinds[i]];
        if (spec->mask & (1u << coord_kinds[i])) {
            v->centre = x.centre;
            for (int r = 0; r < x.nr; r++) {
                v->coord[r] = r;
            }
        }
    }
    if (spec->mask & (1u << ARS_OBS_STRUCTURE_FACTOR)) {
        for (int q = 0; q < L; q++) {
            res->v[ARS_OBS_STRUCTURE_FACTOR].k[q] = 2.0 * ARS_OBS_PI * q / L;
        }
    }

    if (x.ncomp > 0) {
        rc = run_pass(&x, scratch, 1, x.ncomp, n, &st);
        if (rc != ARS_OK) {
            goto done;
        }
        for (int k = 0; k < ARS_OBS_COUNT; k++) {
            if ((x.pass1 & spec->mask) & (1u << k)) {
                value_fill(&res->v[k], &st, x.off[k], n);
            }
        }
        if (spec->mask & (1u << ARS_OBS_ENERGY)) {
            res->v[ARS_OBS_ENERGY].variance = variance_of(&st, x.off[ARS_OBS_ENERGY], n);
        }
        for (int k = 0; k < x.n_ops; k++) {
            value_fill(&res->op_v[k], &st, x.off_ops + k, n);
            res->op_v[k].variance = variance_of(&st, x.off_ops + k, n);
        }
    }
    if (spec->mask & (1u << ARS_OBS_ZZ_CONNECTED)) {
        zmean = malloc((size_t)L * sizeof *zmean);
        if (zmean == NULL) {
            rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for observables");
            goto done;
        }
        memcpy(zmean, st.mean + x.off[ARS_OBS_SZ], (size_t)L * sizeof *zmean);
        x.m = zmean;
        obs_stats st2 = {0.0, st.mean, st.m2};
        rc = run_pass(&x, scratch, 2, x.nr, n, &st2);
        if (rc != ARS_OK) {
            goto done;
        }
        value_fill(&res->v[ARS_OBS_ZZ_CONNECTED], &st2, 0, n);
    }
    if ((spec->mask & (1u << ARS_OBS_RENYI2)) && spec->n_cuts > 0) {
        const int64_t pairs = n / 2;
        ars_obs_value *v = &res->v[ARS_OBS_RENYI2];
        for (int c = 0; c < spec->n_cuts; c++) {
            ARS_ASSERT(spec->cuts[c] >= 1 && spec->cuts[c] < L, "cut %d of %d sites", spec->cuts[c],
                       L);
            v->coord[c] = spec->cuts[c];
        }
        if (pairs < 1) {
            for (int c = 0; c < spec->n_cuts; c++) {
                v->mean[c] = v->error[c] = NAN;
            }
        } else {
            rc = run_pass(&x, scratch, 3, spec->n_cuts, pairs, &st);
            if (rc != ARS_OK) {
                goto done;
            }
            value_fill(v, &st, 0, pairs);
            for (int c = 0; c < spec->n_cuts; c++) {
                const double tr = v->mean[c];
                v->error[c] = v->error[c] / tr;
                v->mean[c] = -log(tr);
            }
        }
    }
done:
    for (int i = 0; scratch != NULL && i < n_scratch; i++) {
        scratch_free(&scratch[i]);
    }
    free(scratch);
    free(x.cosv);
    free(x.sinv);
    free(buf);
    free(zmean);
    return rc;
}
