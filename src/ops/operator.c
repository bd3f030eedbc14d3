/*
 * operator: sums of products of single-site operators; definitions and evaluation order in
 * operator.h.
 */
#include "ops/operator.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"

/* One term reduced to its distinct sites: coupling * sign * prod_k M_k on site[k] (ascending;
 * offsets from i when relative), M_k = the product of the term's factors on that site. */
typedef struct op_part {
    double coupling;
    double sign; /* (-1)^(p/2) (integer division): i^p = sign, or -i sign when imag: the factor
                  * of the row H(s, s'), the conjugate of the column the matrices give */
    int imag;    /* p odd: the term's elements are imaginary */
    int relative;
    int ns;
    int site[ARS_CHANGE_MAX_SITES];
    int diagonal;  /* every M_k is diagonal */
    int max_combo; /* prod_k (most non-zeros in a column of M_k) */
    double *mat;   /* (ns, D, D) row-major */
    /* The non-zeros of each column, rows ascending: column v of M_k has nnz[k*D + v] entries
     * at rows[(k*D + v)*D + j] with values vals[(k*D + v)*D + j]. */
    int *nnz;
    int *rows;
    double *vals;
} op_part;

/* Off-diagonal parts with one site pattern. */
/* One tabulated connection of a group: the pattern's sites k[j] (j < n) take values value[j]. */
typedef struct op_entry {
    int n;
    uint8_t k[ARS_CHANGE_MAX_SITES];
    uint8_t value[ARS_CHANGE_MAX_SITES];
    double mel, mel_im;
} op_entry;

typedef struct op_group {
    int relative, ns;
    int site[ARS_CHANGE_MAX_SITES];
    int n_parts;
    int part[64]; /* indices into ars_op.parts */
    /* The group's merged connections for every local column (the values at its sites,
     * col = sum_k v_k D^(ns-1-k)), computed once by the generic enumeration below, when there
     * are at most OP_TABLE_MAX columns (else n_cols = 0 and instances are enumerated). */
    double scale; /* max over parts |coupling| prod_k max |M_k|: merged elements below
                   * OP_ROUNDING scale are rounding residues of a cancellation, dropped */
    int n_cols;
    int max_per_instance; /* most connections of one instance (tabulated: the largest column) */
    int *start;           /* (n_cols + 1) entries of column c: tab[start[c] .. start[c+1]) */
    op_entry *tab;        /* the connections, in enumeration order */
    double *extra;        /* (n_cols) the diagonal elements of the group's terms, summed */
    double *extra_im;     /* (n_cols) their imaginary parts (0 for a Hermitian operator) */
    uint8_t *has_extra;
} op_group;

/* Relative size of a merged element that is taken as an exact cancellation (a sum of spin-S
 * products with irrational entries rarely cancels to exactly 0.0); spin-1/2 presets cancel
 * exactly, so this never changes their elements. */
#define OP_ROUNDING (32.0 * DBL_EPSILON)

/* Most local columns a group is tabulated for (D^ns): 4 sites of spin 3/2, 3 of spin 7/2. */
#define OP_TABLE_MAX 4096

struct ars_op {
    int size, two_s, D, pbc;
    int n_parts, cap_parts;
    op_part *parts;
    int n_groups, cap_groups;
    op_group *groups;
    int max_conn, max_sites;
    int complex; /* some term is imaginary (an odd number of Sy/Y) */
};

ars_op *ars_op_alloc(int size, int two_s, int pbc) {
    ARS_ASSERT(size >= 1 && two_s >= 1 && two_s <= 254, "size %d, 2S %d", size, two_s);
    ars_op *op = calloc(1, sizeof *op);
    if (op == NULL) {
        return NULL;
    }
    op->size = size;
    op->two_s = two_s;
    op->D = two_s + 1;
    op->pbc = pbc != 0;
    return op;
}

void ars_op_free(ars_op *op) {
    if (op == NULL) {
        return;
    }
    for (int k = 0; k < op->n_parts; k++) {
        free(op->parts[k].mat);
        free(op->parts[k].nnz);
        free(op->parts[k].rows);
        free(op->parts[k].vals);
    }
    free(op->parts);
    for (int g = 0; g < op->n_groups; g++) {
        free(op->groups[g].start);
        free(op->groups[g].tab);
        free(op->groups[g].extra);
        free(op->groups[g].extra_im);
        free(op->groups[g].has_extra);
    }
    free(op->groups);
    free(op);
}

int ars_op_size(const ars_op *op) {
    return op->size;
}

int ars_op_two_s(const ars_op *op) {
    return op->two_s;
}

int ars_op_pbc(const ars_op *op) {
    return op->pbc;
}

int ars_op_n_terms(const ars_op *op) {
    return op->n_parts;
}

int ars_op_max_connections(const ars_op *op) {
    return op->max_conn;
}

/* The local values of column col of a pattern of ns sites. */
static void column_values(uint8_t *v, int col, int ns, int D) {
    for (int k = ns - 1; k >= 0; k--, col /= D) {
        v[k] = (uint8_t)(col % D);
    }
}

static int column_of(const uint8_t *v, int ns, int D) {
    int col = 0;
    for (int k = 0; k < ns; k++) {
        col = col * D + v[k];
    }
    return col;
}

int ars_op_conserves_sz(const ars_op *op) {
    for (int g = 0; g < op->n_groups; g++) {
        const op_group *gr = &op->groups[g];
        if (gr->n_cols == 0) {
            return 0;
        }
        for (int col = 0; col < gr->n_cols; col++) {
            uint8_t v[ARS_CHANGE_MAX_SITES] = {0};
            column_values(v, col, gr->ns, op->D);
            for (int e = gr->start[col]; e < gr->start[col + 1]; e++) {
                const op_entry *en = &gr->tab[e];
                int dm = 0;
                for (int j = 0; j < en->n; j++) {
                    dm += (int)en->value[j] - (int)v[en->k[j]];
                }
                if (dm != 0) {
                    return 0;
                }
            }
        }
    }
    return 1;
}

int ars_op_commutes_with_flip(const ars_op *op) {
    if (op->complex) {
        return 0; /* not checked for complex operators: the safe answer */
    }
    const int D = op->D;
    const size_t DD = (size_t)D * (size_t)D;
    for (int p = 0; p < op->n_parts; p++) {
        const op_part *pt = &op->parts[p];
        if (!pt->diagonal) {
            continue;
        }
        /* prod_k M_k[v_k][v_k] is flip-even for every v when each factor is even or odd and
         * the odd ones pair up. */
        int odd = 0;
        for (int k = 0; k < pt->ns; k++) {
            const double *m = pt->mat + (size_t)k * DD;
            int even_k = 1, odd_k = 1;
            for (int v = 0; v < D; v++) {
                const double a = m[(size_t)v * (D + 1)], b = m[(size_t)(D - 1 - v) * (D + 1)];
                even_k &= a == b;
                odd_k &= a == -b;
            }
            if (!even_k && !odd_k) {
                return 0;
            }
            odd += !even_k;
        }
        if (odd % 2 != 0) {
            return 0;
        }
    }
    for (int g = 0; g < op->n_groups; g++) {
        const op_group *gr = &op->groups[g];
        if (gr->n_cols == 0) {
            return 0;
        }
        const double tol = OP_ROUNDING * gr->scale;
        for (int col = 0; col < gr->n_cols; col++) {
            uint8_t v[ARS_CHANGE_MAX_SITES] = {0}, pv[ARS_CHANGE_MAX_SITES] = {0};
            column_values(v, col, gr->ns, D);
            for (int k = 0; k < gr->ns; k++) {
                pv[k] = (uint8_t)(D - 1 - v[k]);
            }
            const int pcol = column_of(pv, gr->ns, D);
            if (gr->has_extra[col] != gr->has_extra[pcol] ||
                fabs(gr->extra[col] - gr->extra[pcol]) > tol) {
                return 0;
            }
            if (gr->start[col + 1] - gr->start[col] != gr->start[pcol + 1] - gr->start[pcol]) {
                return 0;
            }
            for (int e = gr->start[col]; e < gr->start[col + 1]; e++) {
                const op_entry *en = &gr->tab[e];
                int found = 0;
                for (int f = gr->start[pcol]; f < gr->start[pcol + 1] && !found; f++) {
                    const op_entry *pe = &gr->tab[f];
                    found = pe->n == en->n && fabs(pe->mel - en->mel) <= tol;
                    for (int j = 0; found && j < en->n; j++) {
                        found = pe->k[j] == en->k[j] && pe->value[j] == D - 1 - en->value[j];
                    }
                }
                if (!found) {
                    return 0;
                }
            }
        }
    }
    return 1;
}

static int group_instance(const ars_op *op, const op_group *gr, const int *t, const uint8_t *s,
                          ars_change *ch, double *mel, double *mel_im, int n, double *extra,
                          double *extra_im, int *any_extra);

/* The merged connections of local column v (values at the pattern's sites 0..ns-1) of group gr,
 * with sites in pattern terms, into ch, mel and mel_im (gr->max_per_instance entries, or the sum
 * of its parts' max_combo when untabulated); returns their number. *extra_im receives the
 * imaginary part of the column's diagonal element. */
static int group_column(const ars_op *op, const op_group *gr, const uint8_t *v, ars_change *ch,
                        double *mel, double *mel_im, double *extra_im) {
    const int t[ARS_CHANGE_MAX_SITES] = {0, 1, 2, 3};
    double extra = 0.0;
    int any_extra = 0;
    *extra_im = 0.0;
    return group_instance(op, gr, t, v, ch, mel, mel_im, 0, &extra, extra_im, &any_extra);
}

static long group_columns(const ars_op *op, const op_group *gr) {
    long cols = 1;
    for (int k = 0; k < gr->ns; k++) {
        cols *= op->D;
    }
    return cols;
}

static int group_bound(const ars_op *op, const op_group *gr) {
    int n = 0;
    for (int q = 0; q < gr->n_parts; q++) {
        n += op->parts[gr->part[q]].max_combo;
    }
    return n > 0 ? n : 1;
}

/* The element of part pt alone from column v to column w (pattern sites), without its factor
 * i when imaginary. */
static double part_element(const ars_op *op, const op_part *pt, const uint8_t *v,
                           const uint8_t *w) {
    const size_t D = (size_t)op->D;
    double prod = 1.0;
    for (int k = 0; k < pt->ns; k++) {
        prod *= pt->mat[(size_t)k * D * D + (size_t)w[k] * D + v[k]];
    }
    return pt->coupling * (pt->sign * prod);
}

/* Scratch for `copies` column enumerations of group gr (group_column): *cap entries each. 0, or
 * -1 with a message when out of memory. */
static int column_scratch(const ars_op *op, const op_group *gr, int copies, ars_change **ch,
                          double **mel, int *cap) {
    *cap = group_bound(op, gr);
    *ch = malloc((size_t)copies * (size_t)*cap * sizeof **ch);
    *mel = malloc(2 * (size_t)copies * (size_t)*cap * sizeof **mel); /* real, then imaginary */
    if (*ch == NULL || *mel == NULL) {
        free(*ch);
        free(*mel);
        ARS_ERR(ARS_STATUS_ENOMEM, "out of memory checking an operator");
        return -1;
    }
    return 0;
}

/* The local values w of column v after change c (pattern sites). */
static void changed_column(uint8_t *w, const uint8_t *v, const ars_change *c) {
    memcpy(w, v, ARS_CHANGE_MAX_SITES);
    for (int j = 0; j < c->n; j++) {
        w[c->site[j]] = c->value[j];
    }
}

int ars_op_hermitian(const ars_op *op, int *term) {
    int ok = 1;
    for (int g = 0; g < op->n_groups && ok; g++) {
        const op_group *gr = &op->groups[g];
        int cap = 0;
        ars_change *ch = NULL;
        double *mel = NULL;
        if (column_scratch(op, gr, 2, &ch, &mel, &cap) != 0) {
            return -1;
        }
        double *mel_im = mel + 2 * (size_t)cap;
        const long cols = group_columns(op, gr);
        const double tol = OP_ROUNDING * gr->scale;
        for (long col = 0; col < cols && ok; col++) {
            uint8_t v[ARS_CHANGE_MAX_SITES] = {0};
            column_values(v, (int)col, gr->ns, op->D);
            double diag_im = 0.0, back_diag_im = 0.0;
            const int n = group_column(op, gr, v, ch, mel, mel_im, &diag_im);
            /* A diagonal element must be real; then H(v, w) = conj(H(w, v)). */
            int bad = fabs(diag_im) > tol ? n : -1; /* n: the diagonal */
            for (int e = 0; e < n && bad < 0; e++) {
                uint8_t w[ARS_CHANGE_MAX_SITES];
                changed_column(w, v, &ch[e]);
                const int nb =
                    group_column(op, gr, w, ch + cap, mel + cap, mel_im + cap, &back_diag_im);
                double back = 0.0, back_im = 0.0;
                for (int b = 0; b < nb; b++) {
                    uint8_t x[ARS_CHANGE_MAX_SITES];
                    changed_column(x, w, &ch[cap + b]);
                    if (memcmp(x, v, (size_t)gr->ns) == 0) {
                        back = mel[cap + b];
                        back_im = mel_im[cap + b];
                    }
                }
                if (fabs(back - mel[e]) > tol || fabs(back_im + mel_im[e]) > tol) {
                    bad = e;
                }
            }
            if (bad >= 0) {
                ok = 0;
                uint8_t w[ARS_CHANGE_MAX_SITES];
                memcpy(w, v, sizeof w);
                if (bad < n) {
                    changed_column(w, v, &ch[bad]);
                }
                *term = gr->part[0];
                for (int q = gr->n_parts - 1; q >= 0; q--) {
                    const op_part *pt = &op->parts[gr->part[q]];
                    if (part_element(op, pt, v, w) != 0.0) {
                        *term = gr->part[q];
                    }
                }
            }
        }
        free(ch);
        free(mel);
    }
    return ok;
}

int ars_op_stoquastic(const ars_op *op, int marshall) {
    int ok = 1;
    for (int g = 0; g < op->n_groups && ok; g++) {
        const op_group *gr = &op->groups[g];
        int cap = 0;
        ars_change *ch = NULL;
        double *mel = NULL;
        if (column_scratch(op, gr, 1, &ch, &mel, &cap) != 0) {
            return -1;
        }
        double *mel_im = mel + cap;
        const long cols = group_columns(op, gr);
        const double tol = OP_ROUNDING * gr->scale;
        /* The Marshall sign of a change depends on the parity of its chain sites: both parities
         * of i for an i-relative pattern. */
        for (int base = 0; base < (gr->relative ? 2 : 1) && ok; base++) {
            for (long col = 0; col < cols && ok; col++) {
                uint8_t v[ARS_CHANGE_MAX_SITES] = {0};
                column_values(v, (int)col, gr->ns, op->D);
                double diag_im = 0.0;
                const int n = group_column(op, gr, v, ch, mel, mel_im, &diag_im);
                for (int e = 0; e < n && ok; e++) {
                    int d = 0;
                    for (int j = 0; marshall && j < ch[e].n; j++) {
                        const int k = ch[e].site[j];
                        const int t = (gr->relative ? base : 0) + gr->site[k];
                        d += (t & 1) ? (int)ch[e].value[j] - (int)v[k] : 0;
                    }
                    const double el = (d & 1) ? -mel[e] : mel[e];
                    /* A complex element has no sign a positive state could match. */
                    ok = el <= tol && fabs(mel_im[e]) <= tol;
                }
            }
        }
        free(ch);
        free(mel);
    }
    return ok;
}

int ars_op_max_sites(const ars_op *op) {
    return op->max_sites;
}

/* Instances of a part or group: every site i when relative, else one. */
static int n_instances(const ars_op *op, int relative) {
    return relative ? op->size : 1;
}

/* The chain sites of instance i (ascending) into out; 0 if the instance leaves an open chain. */
static int instance_sites(const ars_op *op, int relative, int ns, const int *site, int i,
                          int *out) {
    for (int k = 0; k < ns; k++) {
        int t = relative ? i + site[k] : site[k];
        if (t < 0 || t >= op->size) {
            if (!op->pbc) {
                return 0;
            }
            t += t < 0 ? op->size : -op->size; /* one wrap, the usual case, without a division */
            if (t < 0 || t >= op->size) {
                t = ((t % op->size) + op->size) % op->size;
            }
        }
        out[k] = t;
    }
    return 1;
}

/* c = a * b for D x D matrices. */
static void mat_mul(double *c, const double *a, const double *b, int D) {
    for (int r = 0; r < D; r++) {
        for (int col = 0; col < D; col++) {
            double acc = 0.0;
            for (int k = 0; k < D; k++) {
                acc += a[r * D + k] * b[k * D + col];
            }
            c[r * D + col] = acc;
        }
    }
}

static int add_group(ars_op *op, int p, int *group) {
    const op_part *pt = &op->parts[p];
    for (int g = 0; g < op->n_groups; g++) {
        op_group *gr = &op->groups[g];
        if (gr->relative == pt->relative && gr->ns == pt->ns &&
            memcmp(gr->site, pt->site, (size_t)pt->ns * sizeof(int)) == 0 &&
            gr->n_parts < (int)(sizeof gr->part / sizeof gr->part[0])) {
            gr->part[gr->n_parts++] = p;
            *group = g;
            return ARS_OK;
        }
    }
    if (op->n_groups == op->cap_groups) {
        int cap = op->cap_groups ? 2 * op->cap_groups : 8;
        op_group *g = realloc(op->groups, (size_t)cap * sizeof *g);
        if (g == NULL) {
            return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory adding an operator term");
        }
        op->groups = g;
        op->cap_groups = cap;
    }
    op_group *gr = &op->groups[op->n_groups++];
    memset(gr, 0, sizeof *gr);
    gr->relative = pt->relative;
    gr->ns = pt->ns;
    memcpy(gr->site, pt->site, (size_t)pt->ns * sizeof(int));
    gr->part[gr->n_parts++] = p;
    *group = op->n_groups - 1;
    return ARS_OK;
}

/* Checks the factors and finds the term's distinct sites (ascending) into site; returns their
 * number, or an error. */
static int term_sites(const ars_op *op, const ars_op_factor *f, int nf, const char *what, int *site,
                      int *n_sites, int *relative) {
    if (nf < 1 || nf > ARS_OP_MAX_FACTORS) {
        return ars_error_where(ARS_STATUS_ECONFIG, what, "a term has 1 to %d factors (got %d)",
                               ARS_OP_MAX_FACTORS, nf);
    }
    int ns = 0, n_rel = 0, p = 0;
    for (int k = 0; k < nf; k++) {
        if (!ars_site_op_allowed(f[k].op, op->two_s)) {
            return ars_error_where(ARS_STATUS_ECONFIG, what, "%s is defined for spin 1/2 only",
                                   ars_site_op_name(f[k].op) ? ars_site_op_name(f[k].op) : "?");
        }
        p += f[k].op == ARS_SITE_OP_SY || f[k].op == ARS_SITE_OP_Y;
        n_rel += f[k].relative != 0;
        if (!f[k].relative && (f[k].site < 0 || f[k].site >= op->size)) {
            return ars_error_where(ARS_STATUS_ECONFIG, what, "site %d is outside the chain (0..%d)",
                                   f[k].site, op->size - 1);
        }
        int found = 0;
        for (int j = 0; j < ns; j++) {
            found |= site[j] == f[k].site;
        }
        if (!found) {
            if (ns == ARS_CHANGE_MAX_SITES) {
                return ars_error_where(ARS_STATUS_ECONFIG, what,
                                       "a term acts on at most %d distinct sites",
                                       ARS_CHANGE_MAX_SITES);
            }
            int j = ns++;
            for (; j > 0 && site[j - 1] > f[k].site; j--) {
                site[j] = site[j - 1];
            }
            site[j] = f[k].site;
        }
    }
    if (n_rel != 0 && n_rel != nf) {
        return ars_error_where(ARS_STATUS_ECONFIG, what,
                               "a term uses either i-relative or fixed sites, not both");
    }
    if (n_rel && site[ns - 1] - site[0] >= op->size) {
        return ars_error_where(ARS_STATUS_ECONFIG, what,
                               "the term spans %d sites, more than the chain's %d",
                               site[ns - 1] - site[0] + 1, op->size);
    }
    *relative = n_rel != 0;
    *n_sites = ns;
    return ARS_OK;
}

static int group_tabulate(const ars_op *op, op_group *gr);

int ars_op_add_term(ars_op *op, double coupling, const ars_op_factor *f, int nf, const char *what) {
    int site[ARS_CHANGE_MAX_SITES] = {0}, relative = 0, ns = 0;
    const int rc = term_sites(op, f, nf, what, site, &ns, &relative);
    if (rc != ARS_OK) {
        return rc;
    }
    if (!isfinite(coupling)) {
        return ars_error_where(ARS_STATUS_ECONFIG, what, "the coupling must be finite (got %g)",
                               coupling);
    }
    const int D = op->D;
    const size_t DD = (size_t)D * (size_t)D;
    if (op->n_parts == op->cap_parts) {
        int cap = op->cap_parts ? 2 * op->cap_parts : 8;
        op_part *p = realloc(op->parts, (size_t)cap * sizeof *p);
        if (p == NULL) {
            return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory adding an operator term");
        }
        op->parts = p;
        op->cap_parts = cap;
    }
    op_part pt = {
        .coupling = coupling, .relative = relative, .ns = ns, .diagonal = 1, .max_combo = 1};
    memcpy(pt.site, site, sizeof site);
    ARS_ASSERT(ns >= 1 && D >= 2, "%d sites, local size %d", ns, D);
    pt.mat = malloc((size_t)ns * DD * sizeof(double));
    pt.nnz = malloc((size_t)ns * (size_t)D * sizeof(int));
    pt.rows = malloc((size_t)ns * DD * sizeof(int));
    pt.vals = malloc((size_t)ns * DD * sizeof(double));
    double *fm = malloc(2 * DD * sizeof(double));
    if (pt.mat == NULL || pt.nnz == NULL || pt.rows == NULL || pt.vals == NULL || fm == NULL) {
        free(pt.mat);
        free(pt.nnz);
        free(pt.rows);
        free(pt.vals);
        free(fm);
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory adding an operator term");
    }
    int ipow = 0;
    for (int k = 0; k < ns; k++) {
        double *m = pt.mat + (size_t)k * DD;
        memset(m, 0, DD * sizeof(double));
        int first = 1;
        for (int j = 0; j < nf; j++) {
            if (f[j].site != site[k]) {
                continue;
            }
            ipow += ars_site_op_matrix(fm, f[j].op, op->two_s);
            if (first) {
                memcpy(m, fm, DD * sizeof(double));
                first = 0;
            } else {
                /* Factors on one site multiply in order: m = m * O_j. */
                mat_mul(fm + DD, m, fm, D);
                memcpy(m, fm + DD, DD * sizeof(double));
            }
        }
        int most = 0;
        for (int col = 0; col < D; col++) {
            const size_t c = (size_t)k * D + (size_t)col;
            int nz = 0;
            for (int r = 0; r < D; r++) {
                if (m[r * D + col] != 0.0) {
                    pt.rows[c * D + (size_t)nz] = r;
                    pt.vals[c * D + (size_t)nz] = m[r * D + col];
                    nz++;
                }
                pt.diagonal &= r == col || m[r * D + col] == 0.0;
            }
            pt.nnz[c] = nz;
            most = nz > most ? nz : most;
        }
        pt.max_combo *= most;
    }
    free(fm);
    pt.imag = ipow % 2;
    /* The matrices' columns give H(s', s); ars_op_apply wants the row H(s, s') = conj(H(s', s))
     * (H is Hermitian), which flips the sign of an imaginary part. */
    pt.sign = ((ipow / 2) % 2 ? -1.0 : 1.0) * (pt.imag ? -1.0 : 1.0);
    if (pt.imag && pt.diagonal) {
        free(pt.mat);
        free(pt.nnz);
        free(pt.rows);
        free(pt.vals);
        return ars_error_where(ARS_STATUS_ECONFIG, what,
                               "the term is diagonal and imaginary (an odd number of Sy/Y on "
                               "one site): it cannot be part of a Hermitian operator on its "
                               "own; write the real operator it sums to with its partner");
    }
    op->complex |= pt.imag;
    op->parts[op->n_parts++] = pt;
    if (ns > op->max_sites) {
        op->max_sites = ns;
    }
    if (!pt.diagonal) {
        int g = 0;
        const int grc = add_group(op, op->n_parts - 1, &g);
        if (grc != ARS_OK) {
            return grc;
        }
        const int trc = group_tabulate(op, &op->groups[g]);
        if (trc != ARS_OK) {
            return trc;
        }
        /* The bound on connections: each group's instances times its most per instance. */
        op->max_conn = 0;
        for (int q = 0; q < op->n_groups; q++) {
            const op_group *gr = &op->groups[q];
            op->max_conn += n_instances(op, gr->relative) * gr->max_per_instance;
        }
    }
    return ARS_OK;
}

/* Sum over the diagonal parts of c_t * sum_instances prod_k M_k[s_k][s_k], term by term. */
static double diagonal_terms(const ars_op *op, const uint8_t *s, int *any) {
    const int D = op->D;
    const size_t DD = (size_t)D * (size_t)D;
    double acc = 0.0;
    *any = 0;
    for (int p = 0; p < op->n_parts; p++) {
        const op_part *pt = &op->parts[p];
        if (!pt->diagonal) {
            continue;
        }
        double sum = 0.0;
        int t[ARS_CHANGE_MAX_SITES] = {0};
        for (int i = 0; i < n_instances(op, pt->relative); i++) {
            if (!instance_sites(op, pt->relative, pt->ns, pt->site, i, t)) {
                continue;
            }
            double prod = pt->mat[(size_t)s[t[0]] * (D + 1)];
            for (int k = 1; k < pt->ns; k++) {
                prod *= pt->mat[(size_t)k * DD + (size_t)s[t[k]] * (D + 1)];
            }
            sum += prod;
        }
        /* Sums from their first term: -0.0 stays -0.0 as before the term lists. */
        const double term = pt->coupling * pt->sign * sum;
        acc = *any ? acc + term : term;
        *any = 1;
    }
    return acc;
}

static int same_change(const ars_change *a, const ars_change *b) {
    if (a->n != b->n) {
        return 0;
    }
    for (int k = 0; k < a->n; k++) {
        if (a->site[k] != b->site[k] || a->value[k] != b->value[k]) {
            return 0;
        }
    }
    return 1;
}

/* The connections of one group instance (sites t, ascending in the pattern's order) appended
 * at ch[n], merged and without zeros; diagonal elements go to *extra. Returns the new n. */
static int group_instance(const ars_op *op, const op_group *gr, const int *t, const uint8_t *s,
                          ars_change *ch, double *mel, double *mel_im, int n, double *extra,
                          double *extra_im, int *any_extra) {
    const int D = op->D, ns = gr->ns;
    ARS_ASSERT(!op->complex || mel_im != NULL, "a complex operator needs mel_im");
    const int start = n;
    /* The instance's sites in ascending chain order (a wrap can reorder them). */
    int order[ARS_CHANGE_MAX_SITES];
    for (int k = 0; k < ns; k++) {
        int j = k;
        for (; j > 0 && t[order[j - 1]] > t[k]; j--) {
            order[j] = order[j - 1];
        }
        order[j] = k;
    }
    for (int q = 0; q < gr->n_parts; q++) {
        const op_part *pt = &op->parts[gr->part[q]];
        /* Column s[t_k] of each site's matrix: its non-zeros, rows ascending. */
        const int *rows[ARS_CHANGE_MAX_SITES] = {NULL};
        const double *vals[ARS_CHANGE_MAX_SITES] = {NULL};
        int nnz[ARS_CHANGE_MAX_SITES] = {0}, j[ARS_CHANGE_MAX_SITES] = {0};
        int empty = ns < 1; /* every term has a site (ars_op_add_term) */
        for (int k = 0; k < ns; k++) {
            const size_t c = (size_t)k * D + s[t[k]];
            rows[k] = pt->rows + c * D;
            vals[k] = pt->vals + c * D;
            nnz[k] = pt->nnz[c];
            empty |= nnz[k] == 0;
        }
        /* Odometer over the non-zero combinations (the last site fastest). */
        while (!empty) {
            double prod = vals[0][j[0]];
            int same = rows[0][j[0]] == s[t[0]];
            for (int k = 1; k < ns; k++) {
                prod *= vals[k][j[k]];
                same &= rows[k][j[k]] == s[t[k]];
            }
            const double el = pt->coupling * (pt->sign * prod);
            if (same && pt->imag) {
                *extra_im += el; /* must cancel (ars_op_hermitian) */
            } else if (same) {
                *extra = *any_extra ? *extra + el : el;
                *any_extra = 1;
            } else {
                ars_change c = {0};
                for (int k = 0; k < ns; k++) {
                    const int o = order[k];
                    const int r = rows[o][j[o]];
                    if (r != s[t[o]]) {
                        c.site[c.n] = t[o];
                        c.value[c.n] = (uint8_t)r;
                        c.n++;
                    }
                }
                int m = start;
                while (m < n && !same_change(&ch[m], &c)) {
                    m++;
                }
                if (m < n) {
                    if (pt->imag) {
                        ARS_ASSERT(mel_im != NULL, "an imaginary term without mel_im");
                        // cppcheck-suppress nullPointerRedundantCheck
                        mel_im[m] += el;
                    } else {
                        mel[m] += el;
                    }
                } else {
                    ch[n] = c;
                    mel[n] = pt->imag ? 0.0 : el;
                    if (mel_im != NULL) {
                        mel_im[n] = pt->imag ? el : 0.0;
                    }
                    n++;
                }
            }
            int k = ns - 1;
            for (; k >= 0; k--) {
                if (++j[k] < nnz[k]) {
                    break;
                }
                j[k] = 0;
            }
            if (k < 0) {
                break;
            }
        }
    }
    /* Drop the elements that cancelled (X X + Y Y on parallel spins). */
    int w = start;
    for (int m = start; m < n; m++) {
        const double im = mel_im != NULL ? mel_im[m] : 0.0;
        if (fabs(mel[m]) > OP_ROUNDING * gr->scale || fabs(im) > OP_ROUNDING * gr->scale) {
            ch[w] = ch[m];
            if (mel_im != NULL) {
                mel_im[w] = im;
            }
            mel[w++] = mel[m];
        }
    }
    return w;
}

/* Tabulates gr's connections for every local column by running group_instance on the pattern's
 * own sites 0..ns-1 (so the elements are the same numbers, merged in the same order), or sets
 * n_cols = 0 when there are too many columns. Called whenever a term joins the group. */
static int group_tabulate(const ars_op *op, op_group *gr) {
    const int D = op->D, ns = gr->ns;
    long cols = 1;
    for (int k = 0; k < ns; k++) {
        cols *= D;
    }
    free(gr->start);
    free(gr->tab);
    free(gr->extra);
    free(gr->extra_im);
    free(gr->has_extra);
    gr->start = NULL;
    gr->tab = NULL;
    gr->extra = NULL;
    gr->extra_im = NULL;
    gr->has_extra = NULL;
    gr->n_cols = 0;
    int per_col = 0;
    gr->scale = 0.0;
    for (int q = 0; q < gr->n_parts; q++) {
        const op_part *pt = &op->parts[gr->part[q]];
        per_col += pt->max_combo;
        double bound = fabs(pt->coupling);
        for (int k = 0; k < ns; k++) {
            double most = 0.0;
            for (int e = 0; e < D * D; e++) {
                most = fmax(most, fabs(pt->mat[(size_t)k * (size_t)(D * D) + (size_t)e]));
            }
            bound *= most;
        }
        gr->scale = fmax(gr->scale, bound);
    }
    gr->max_per_instance = per_col;
    if (cols > OP_TABLE_MAX) {
        return ARS_OK; /* enumerated per instance */
    }
    gr->start = malloc((size_t)(cols + 1) * sizeof *gr->start);
    gr->tab = malloc((size_t)cols * (size_t)(per_col > 0 ? per_col : 1) * sizeof *gr->tab);
    gr->extra = malloc((size_t)cols * sizeof *gr->extra);
    gr->extra_im = malloc((size_t)cols * sizeof *gr->extra_im);
    gr->has_extra = malloc((size_t)cols);
    ars_change *ch = malloc((size_t)(per_col > 0 ? per_col : 1) * sizeof *ch);
    double *mel = malloc(2 * (size_t)(per_col > 0 ? per_col : 1) * sizeof *mel);
    if (gr->start == NULL || gr->tab == NULL || gr->extra == NULL || gr->extra_im == NULL ||
        gr->has_extra == NULL || ch == NULL || mel == NULL) {
        free(ch);
        free(mel);
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory tabulating an operator term");
    }
    double *mel_im = mel + (per_col > 0 ? per_col : 1);
    const int t[ARS_CHANGE_MAX_SITES] = {0, 1, 2, 3};
    int n_tab = 0, most = 0;
    for (long col = 0; col < cols; col++) {
        uint8_t v[ARS_CHANGE_MAX_SITES] = {0};
        for (int k = ns - 1, c = (int)col; k >= 0; k--, c /= D) {
            v[k] = (uint8_t)(c % D);
        }
        double extra = 0.0, extra_im = 0.0;
        int any_extra = 0;
        const int n =
            group_instance(op, gr, t, v, ch, mel, mel_im, 0, &extra, &extra_im, &any_extra);
        gr->start[col] = n_tab;
        most = n > most ? n : most;
        for (int e = 0; e < n; e++) {
            op_entry *en = &gr->tab[n_tab++];
            en->n = ch[e].n;
            for (int j = 0; j < ch[e].n; j++) {
                en->k[j] = (uint8_t)ch[e].site[j];
                en->value[j] = ch[e].value[j];
            }
            en->mel = mel[e];
            en->mel_im = mel_im[e];
        }
        gr->extra[col] = extra;
        gr->extra_im[col] = extra_im;
        gr->has_extra[col] = (uint8_t)any_extra;
    }
    gr->start[cols] = n_tab;
    gr->n_cols = (int)cols;
    gr->max_per_instance = most; /* the exact bound, after merging */
    free(ch);
    free(mel);
    return ARS_OK;
}

/* The connections of one instance (chain sites t) of a tabulated group, appended at ch[n];
 * its diagonal elements go to *extra. Returns the new n. */
static int group_instance_tab(const ars_op *op, const op_group *gr, const int *t, const uint8_t *s,
                              ars_change *ch, double *mel, double *mel_im, int n, double *extra,
                              int *any_extra, int ascending) {
    int col = 0;
    for (int k = 0; k < gr->ns; k++) {
        col = col * op->D + s[t[k]];
    }
    if (gr->has_extra[col]) {
        *extra = *any_extra ? *extra + gr->extra[col] : gr->extra[col];
        *any_extra = 1;
    }
    for (int e = gr->start[col]; e < gr->start[col + 1]; e++) {
        const op_entry *en = &gr->tab[e];
        ars_change *c = &ch[n];
        c->n = en->n;
        if (ascending) {
            for (int j = 0; j < en->n; j++) {
                c->site[j] = t[en->k[j]];
                c->value[j] = en->value[j];
            }
            if (mel_im != NULL) {
                mel_im[n] = en->mel_im;
            }
            mel[n++] = en->mel;
            continue;
        }
        /* Chain sites ascending (a wrap can reorder the pattern's sites). */
        for (int j = 0; j < en->n; j++) {
            const int site = t[en->k[j]];
            int i = j;
            for (; i > 0 && c->site[i - 1] > site; i--) {
                c->site[i] = c->site[i - 1];
                c->value[i] = c->value[i - 1];
            }
            c->site[i] = site;
            c->value[i] = en->value[j];
        }
        if (mel_im != NULL) {
            mel_im[n] = en->mel_im;
        }
        mel[n++] = en->mel;
    }
    return n;
}

int ars_op_is_complex(const ars_op *op) {
    return op->complex;
}

int ars_op_apply(const ars_op *op, const uint8_t *s, double *diag, ars_change *ch, double *mel) {
    ARS_ASSERT(!op->complex, "a complex operator: use ars_op_apply_complex");
    return ars_op_apply_complex(op, s, diag, ch, mel, NULL);
}

int ars_op_apply_complex(const ars_op *op, const uint8_t *s, double *diag, ars_change *ch,
                         double *mel, double *mel_im) {
    int any = 0, any_extra = 0;
    double extra = 0.0, extra_im = 0.0;
    const double d = diag != NULL ? diagonal_terms(op, s, &any) : 0.0;
    int n = 0;
    for (int g = 0; g < op->n_groups; g++) {
        const op_group *gr = &op->groups[g];
        int t[ARS_CHANGE_MAX_SITES] = {0};
        /* Instances i in [lo, hi) stay inside the chain: their sites are i + offset,
         * ascending, without checks. */
        const int lo = gr->relative ? -gr->site[0] : 0;
        const int hi = gr->relative ? op->size - gr->site[gr->ns - 1] : 0;
        for (int i = 0; i < n_instances(op, gr->relative); i++) {
            const int inside = gr->n_cols > 0 && i >= lo && i < hi;
            if (inside) {
                for (int k = 0; k < gr->ns; k++) {
                    t[k] = i + gr->site[k];
                }
            } else if (!instance_sites(op, gr->relative, gr->ns, gr->site, i, t)) {
                continue;
            }
            n = gr->n_cols > 0 ? group_instance_tab(op, gr, t, s, ch, mel, mel_im, n, &extra,
                                                    &any_extra, inside)
                               : group_instance(op, gr, t, s, ch, mel, mel_im, n, &extra, &extra_im,
                                                &any_extra);
        }
    }
    ARS_ASSERT(n <= op->max_conn, "%d connections exceed the bound %d", n, op->max_conn);
    if (diag != NULL) {
        *diag = any_extra ? (any ? d + extra : extra) : (any ? d : 0.0);
    }
    return n;
}

double ars_op_diagonal(const ars_op *op, const uint8_t *s) {
    int any = 0, any_extra = 0;
    const double d = diagonal_terms(op, s, &any);
    /* Diagonal elements of the off-diagonal terms, summed apart in ars_op_apply's order. */
    const int D = op->D;
    const size_t DD = (size_t)D * (size_t)D;
    double extra = 0.0;
    for (int g = 0; g < op->n_groups; g++) {
        const op_group *gr = &op->groups[g];
        int t[ARS_CHANGE_MAX_SITES] = {0};
        for (int i = 0; i < n_instances(op, gr->relative); i++) {
            if (!instance_sites(op, gr->relative, gr->ns, gr->site, i, t)) {
                continue;
            }
            if (gr->n_cols > 0) {
                /* The tabulated column's summed diagonal, as ars_op_apply adds it. */
                int col = 0;
                for (int k = 0; k < gr->ns; k++) {
                    col = col * D + s[t[k]];
                }
                if (gr->has_extra[col]) {
                    extra = any_extra ? extra + gr->extra[col] : gr->extra[col];
                    any_extra = 1;
                }
                continue;
            }
            for (int q = 0; q < gr->n_parts; q++) {
                const op_part *pt = &op->parts[gr->part[q]];
                double prod = 1.0;
                for (int k = 0; k < gr->ns; k++) {
                    const double e = pt->mat[(size_t)k * DD + (size_t)s[t[k]] * (D + 1)];
                    prod = k == 0 ? e : prod * e;
                }
                if (prod != 0.0 && !pt->imag) { /* imaginary diagonals cancel */
                    const double el = pt->coupling * (pt->sign * prod);
                    extra = any_extra ? extra + el : el;
                    any_extra = 1;
                }
            }
        }
    }
    return any_extra ? (any ? d + extra : extra) : (any ? d : 0.0);
}
