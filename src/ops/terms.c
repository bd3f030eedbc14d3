/*
 * terms: operators as written (syntax and expansion rules in terms.h).
 */
#include "ops/terms.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"

void ars_terms_init(ars_terms *T) {
    T->n = 0;
    T->cap = 0;
    T->t = NULL;
}

void ars_terms_free(ars_terms *T) {
    free(T->t);
    ars_terms_init(T);
}

int ars_terms_add(ars_terms *T, double coupling, const ars_op_factor *f, int nf,
                  const char *where) {
    ARS_ASSERT(nf >= 1 && nf <= ARS_OP_MAX_FACTORS, "%d factors", nf);
    if (T->n == T->cap) {
        const int cap = T->cap ? 2 * T->cap : 8;
        ars_term *t = realloc(T->t, (size_t)cap * sizeof *t);
        if (t == NULL) {
            return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the Hamiltonian's terms");
        }
        T->t = t;
        T->cap = cap;
    }
    ars_term *t = &T->t[T->n++];
    memset(t, 0, sizeof *t);
    t->coupling = coupling;
    t->nf = nf;
    memcpy(t->f, f, (size_t)nf * sizeof *f);
    snprintf(t->where, sizeof t->where, "%s", where);
    return ARS_OK;
}

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    return p;
}

/* A decimal integer at *p (after optional spaces), advancing *p; 0 if there is none. */
static int parse_int(const char **p, long *v) {
    const char *q = skip_space(*p);
    if (!(isdigit((unsigned char)*q) ||
          ((*q == '-' || *q == '+') && isdigit((unsigned char)q[1])))) {
        return 0;
    }
    char *end = NULL;
    errno = 0;
    *v = strtol(q, &end, 10);
    if (errno != 0 || *v < -1000000000L || *v > 1000000000L) {
        return 0;
    }
    *p = end;
    return 1;
}

/* The site inside "( ... )" starting after '(' at *p: "i", "i+K", "i-K" or an integer. */
static int parse_site(const char **p, ars_op_factor *f) {
    const char *q = skip_space(*p);
    long v = 0;
    if (*q == 'i') {
        q = skip_space(q + 1);
        f->relative = 1;
        f->site = 0;
        if (*q == '+' || *q == '-') {
            const int sign = *q == '-' ? -1 : 1;
            q = skip_space(q + 1);
            if (!isdigit((unsigned char)*q) || !parse_int(&q, &v)) {
                return 0;
            }
            f->site = sign * (int)v;
        }
    } else {
        if (!parse_int(&q, &v)) {
            return 0;
        }
        f->relative = 0;
        f->site = (int)v;
    }
    q = skip_space(q);
    if (*q != ')') {
        return 0;
    }
    *p = q + 1;
    return 1;
}

int ars_terms_parse(ars_terms *T, const char *text, const char *where) {
    const char *p = skip_space(text);
    const char *start = p;
    while (*p != '\0' && *p != ' ' && *p != '\t') {
        p++;
    }
    char num[64];
    const size_t len = (size_t)(p - start);
    char *end = NULL;
    double c = NAN;
    if (len > 0 && len < sizeof num) {
        memcpy(num, start, len);
        num[len] = '\0';
        errno = 0;
        c = strtod(num, &end);
    }
    if (len == 0 || len >= sizeof num || end == NULL || *end != '\0' || errno != 0 ||
        !isfinite(c)) {
        return ars_error_where(ARS_STATUS_ECONFIG, where,
                               "term '%s': the coupling '%.*s' is not a finite number (a term is "
                               "'coupling Op(site) ...', for example '-1.0 Sz(i) Sz(i+1)')",
                               text, (int)(len < 40 ? len : 40), start);
    }
    ars_op_factor f[ARS_OP_MAX_FACTORS];
    int nf = 0;
    for (p = skip_space(p); *p != '\0'; p = skip_space(p)) {
        const char *name = p;
        while (*p != '\0' && *p != '(' && *p != ' ' && *p != '\t') {
            p++;
        }
        char op[16];
        const size_t nl = (size_t)(p - name);
        if (*p != '(' || nl == 0 || nl >= sizeof op) {
            return ars_error_where(
                ARS_STATUS_ECONFIG, where,
                "term '%s': expected a factor 'Op(site)' at '%s' (operators: Id, "
                "Sx, Sy, Sz, S+, S-; X, Y, Z for spin 1/2)",
                text, name);
        }
        memcpy(op, name, nl);
        op[nl] = '\0';
        ars_site_op o;
        if (ars_site_op_parse(op, &o) != 0) {
            return ars_error_where(
                ARS_STATUS_ECONFIG, where,
                "term '%s': unknown operator '%s' (operators: Id, Sx, Sy, Sz, S+, "
                "S-; X, Y, Z for spin 1/2)",
                text, op);
        }
        if (nf == ARS_OP_MAX_FACTORS) {
            return ars_error_where(ARS_STATUS_ECONFIG, where, "term '%s': more than %d factors",
                                   text, ARS_OP_MAX_FACTORS);
        }
        p++;
        f[nf].op = o;
        if (!parse_site(&p, &f[nf])) {
            return ars_error_where(ARS_STATUS_ECONFIG, where,
                                   "term '%s': the site of %s is not an integer, i, i+K or i-K "
                                   "followed by ')'",
                                   text, op);
        }
        nf++;
    }
    if (nf == 0) {
        return ars_error_where(ARS_STATUS_ECONFIG, where,
                               "term '%s': no operator after the coupling (a term is 'coupling "
                               "Op(site) ...')",
                               text);
    }
    return ars_terms_add(T, c, f, nf, where);
}

int ars_terms_read_lines(const char *path, const char *key, const char *key_where,
                         int (*line_fn)(void *ctx, const char *text, const char *where),
                         void *ctx) {
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        return ars_error_where(ARS_STATUS_ECONFIG, key_where, "%s '%s': cannot be read (%s)", key,
                               path, strerror(errno));
    }
    char line[4096];
    int lineno = 0, rc = ARS_OK;
    while (rc == ARS_OK && fgets(line, sizeof line, fp) != NULL) {
        lineno++;
        char where[ARS_TERM_WHERE_MAX];
        snprintf(where, sizeof where, "%.280s:%d", path, lineno);
        if (strchr(line, '\n') == NULL && !feof(fp)) {
            rc = ars_error_where(ARS_STATUS_ECONFIG, where, "line longer than %zu characters",
                                 sizeof line - 2);
            break;
        }
        char *hash = strchr(line, '#');
        if (hash != NULL) {
            *hash = '\0';
        }
        size_t n = strlen(line);
        while (n > 0 && isspace((unsigned char)line[n - 1])) {
            line[--n] = '\0';
        }
        const char *p = skip_space(line);
        if (*p == '\0') {
            continue;
        }
        for (const char *q = p; *q != '\0'; q++) {
            if ((unsigned char)*q < 0x20 && *q != '\t') {
                rc = ars_error_where(ARS_STATUS_ECONFIG, where, "a control character in a term");
                break;
            }
        }
        if (rc == ARS_OK) {
            rc = line_fn(ctx, p, where);
        }
    }
    if (rc == ARS_OK && ferror(fp)) {
        rc = ars_error_where(ARS_STATUS_ECONFIG, key_where, "%s '%s': read error", key, path);
    }
    fclose(fp);
    return rc;
}

static int parse_line(void *T, const char *text, const char *where) {
    return ars_terms_parse(T, text, where);
}

int ars_terms_read_file(ars_terms *T, const char *path, const char *key_where) {
    return ars_terms_read_lines(path, "terms_file", key_where, parse_line, T);
}

void ars_term_format(const ars_term *t, char *buf, size_t len) {
    size_t used = (size_t)snprintf(buf, len, "%.15g", t->coupling);
    for (int k = 0; k < t->nf && used < len; k++) {
        const ars_op_factor *f = &t->f[k];
        if (f->relative) {
            used += (size_t)snprintf(buf + used, len - used, " %s(i%s%.0d)",
                                     ars_site_op_name(f->op), f->site > 0 ? "+" : "", f->site);
        } else {
            used += (size_t)snprintf(buf + used, len - used, " %s(%d)", ars_site_op_name(f->op),
                                     f->site);
        }
    }
}

/* The adjoint of a term as text: S+ <-> S-, and the factors on each site in reverse order
 * (factors on different sites commute, so they keep their places). */
static void adjoint_format(const ars_term *t, char *buf, size_t len) {
    ars_term a = *t;
    for (int k = 0; k < t->nf; k++) {
        /* The j-th factor of site s from the front takes the j-th one from the back. */
        int before = 0, total = 0;
        for (int j = 0; j < t->nf; j++) {
            if (t->f[j].site == t->f[k].site && t->f[j].relative == t->f[k].relative) {
                before += j < k;
                total++;
            }
        }
        int want = total - 1 - before;
        for (int j = 0; j < t->nf; j++) {
            if (t->f[j].site == t->f[k].site && t->f[j].relative == t->f[k].relative &&
                want-- == 0) {
                a.f[k].op = t->f[j].op;
                break;
            }
        }
        if (a.f[k].op == ARS_SITE_OP_SP) {
            a.f[k].op = ARS_SITE_OP_SM;
        } else if (a.f[k].op == ARS_SITE_OP_SM) {
            a.f[k].op = ARS_SITE_OP_SP;
        }
    }
    ars_term_format(&a, buf, len);
}

ars_op *ars_terms_operator(const ars_terms *T, int size, int two_s, int pbc, int *status) {
    return ars_terms_operator_named(T, size, two_s, pbc, "the Hamiltonian", status);
}

ars_op *ars_terms_operator_named(const ars_terms *T, int size, int two_s, int pbc, const char *name,
                                 int *status) {
    ars_op *op = ars_op_alloc(size, two_s, pbc);
    if (op == NULL) {
        *status = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory building %s", name);
        return NULL;
    }
    *status = ARS_OK;
    for (int k = 0; k < T->n && *status == ARS_OK; k++) {
        char what[ARS_TERM_WHERE_MAX + 420], text[400];
        ars_term_format(&T->t[k], text, sizeof text);
        snprintf(what, sizeof what, "%s: term '%s'", T->t[k].where, text);
        *status = ars_op_add_term(op, T->t[k].coupling, T->t[k].f, T->t[k].nf, what);
    }
    int bad = -1;
    const int hermitian = *status == ARS_OK ? ars_op_hermitian(op, &bad) : 1;
    if (hermitian < 0) {
        *status = ARS_STATUS_ENOMEM;
    } else if (hermitian == 0) {
        char text[400], adj[400];
        ars_term_format(&T->t[bad], text, sizeof text);
        adjoint_format(&T->t[bad], adj, sizeof adj);
        *status = ars_error_where(ARS_STATUS_ECONFIG, T->t[bad].where,
                                  "term '%s': %s is not Hermitian: the adjoint of this term, '%s', "
                                  "is missing or has another coupling (write both, as in '0.5 "
                                  "S+(i) S-(i+1)' and '0.5 S-(i) S+(i+1)')",
                                  text, name, adj);
    }
    if (*status != ARS_OK) {
        ars_op_free(op);
        return NULL;
    }
    return op;
}

/* The absolute site of factor f in instance i; 0 if the instance leaves an open chain. */
static int instance_site(const ars_op_factor *f, int i, int size, int pbc, int *site) {
    int t = f->relative ? i + f->site : f->site;
    if (t < 0 || t >= size) {
        if (!pbc) {
            return 0;
        }
        t = ((t % size) + size) % size;
    }
    *site = t;
    return 1;
}

static int instance_ok(const ars_term *t, int i, int size, int pbc) {
    int s = 0;
    for (int k = 0; k < t->nf; k++) {
        if (!instance_site(&t->f[k], i, size, pbc, &s)) {
            return 0;
        }
    }
    return 1;
}

static int is_relative(const ars_term *t) {
    return t->nf > 0 && t->f[0].relative;
}

size_t ars_terms_expanded_count(const ars_terms *T, int size, int pbc, int *max_factors) {
    size_t n = 0;
    int most = 0;
    for (int k = 0; k < T->n; k++) {
        const ars_term *t = &T->t[k];
        most = t->nf > most ? t->nf : most;
        for (int i = 0; i < (is_relative(t) ? size : 1); i++) {
            n += (size_t)instance_ok(t, i, size, pbc);
        }
    }
    if (max_factors != NULL) {
        *max_factors = most;
    }
    return n;
}

void ars_terms_expand(const ars_terms *T, int size, int pbc, int F, double *coupling,
                      int *n_factors, int *op, int *site) {
    size_t e = 0;
    for (int k = 0; k < T->n; k++) {
        const ars_term *t = &T->t[k];
        ARS_ASSERT(t->nf <= F, "a term of %d factors, %d columns", t->nf, F);
        for (int i = 0; i < (is_relative(t) ? size : 1); i++) {
            if (!instance_ok(t, i, size, pbc)) {
                continue;
            }
            coupling[e] = t->coupling;
            n_factors[e] = t->nf;
            for (int j = 0; j < F; j++) {
                op[e * (size_t)F + (size_t)j] = j < t->nf ? (int)t->f[j].op : -1;
                int s = -1;
                if (j < t->nf) {
                    (void)instance_site(&t->f[j], i, size, pbc, &s);
                }
                site[e * (size_t)F + (size_t)j] = s;
            }
            e++;
        }
    }
}
