/*
 * user_ops: named operators of [observables] (syntax and rules in user_ops.h).
 */
#include "ops/user_ops.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/ars_common.h"

void ars_user_ops_init(ars_user_ops *u) {
    memset(u, 0, sizeof *u);
}

void ars_user_ops_free(ars_user_ops *u) {
    for (int k = 0; k < u->n; k++) {
        ars_terms_free(&u->op[k].terms);
    }
    ars_user_ops_init(u);
}

int ars_user_ops_parse(ars_user_ops *u, const char *line, const char *where) {
    const char *p = line;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    const char *name = p;
    while (isalnum((unsigned char)*p) || *p == '_') {
        p++;
    }
    const size_t len = (size_t)(p - name);
    const char *colon = p;
    while (*colon == ' ' || *colon == '\t') {
        colon++;
    }
    if (len == 0 || *colon != ':' || !isalpha((unsigned char)name[0])) {
        return ars_error_where(ARS_STATUS_ECONFIG, where,
                               "operator '%s': expected 'NAME: term', a name (a letter, then "
                               "letters, digits or '_') and a colon before the term, as in "
                               "'dimer: 1.0 Sz(3) Sz(4)'",
                               line);
    }
    if (len >= ARS_USER_OP_NAME_MAX) {
        return ars_error_where(ARS_STATUS_ECONFIG, where,
                               "operator '%.*s': a name has at most %d characters", (int)len, name,
                               ARS_USER_OP_NAME_MAX - 1);
    }
    int k = 0;
    while (k < u->n && !(strlen(u->op[k].name) == len && strncmp(u->op[k].name, name, len) == 0)) {
        k++;
    }
    if (k == u->n) {
        if (u->n == ARS_USER_OPS_MAX) {
            return ars_error_where(ARS_STATUS_ECONFIG, where,
                                   "operator '%.*s': at most %d operators may be named", (int)len,
                                   name, ARS_USER_OPS_MAX);
        }
        memcpy(u->op[k].name, name, len);
        u->op[k].name[len] = '\0';
        ars_terms_init(&u->op[k].terms);
        u->n++;
    }
    return ars_terms_parse(&u->op[k].terms, colon + 1, where);
}

static int parse_line(void *u, const char *text, const char *where) {
    return ars_user_ops_parse(u, text, where);
}

int ars_user_ops_read_file(ars_user_ops *u, const char *path, const char *key_where) {
    return ars_terms_read_lines(path, "operators_file", key_where, parse_line, u);
}

ars_op *ars_user_op_build(const ars_user_op *o, int size, int two_s, int pbc, int *status) {
    char name[ARS_USER_OP_NAME_MAX + 16];
    snprintf(name, sizeof name, "operator '%s'", o->name);
    return ars_terms_operator_named(&o->terms, size, two_s, pbc, name, status);
}

/* The first term of T with an odd number of Sy/Y (its index), or -1. */
static int first_complex_term(const ars_terms *T) {
    for (int k = 0; k < T->n; k++) {
        int n_sy = 0;
        for (int j = 0; j < T->t[k].nf; j++) {
            n_sy += T->t[k].f[j].op == ARS_SITE_OP_SY || T->t[k].f[j].op == ARS_SITE_OP_Y;
        }
        if (n_sy % 2 != 0) {
            return k;
        }
    }
    return -1;
}

int ars_user_ops_check(const ars_user_ops *u, int size, int two_s, int pbc, int complex_ok) {
    for (int k = 0; k < u->n; k++) {
        int rc = ARS_OK;
        ars_op *op = ars_user_op_build(&u->op[k], size, two_s, pbc, &rc);
        if (op == NULL) {
            return rc;
        }
        const int is_complex = ars_op_is_complex(op);
        ars_op_free(op);
        const int t = is_complex && !complex_ok ? first_complex_term(&u->op[k].terms) : -1;
        if (t >= 0) {
            char text[400];
            ars_term_format(&u->op[k].terms.t[t], text, sizeof text);
            return ars_error_where(ARS_STATUS_ECONFIG, u->op[k].terms.t[t].where,
                                   "operator '%s', term '%s': an odd number of Sy/Y makes the "
                                   "operator complex in the S^z basis, and a real wavefunction "
                                   "gives it no expectation value but 0: set [phase] type = "
                                   "conv to measure it (docs/phase.md)",
                                   u->op[k].name, text);
        }
    }
    return ARS_OK;
}

void ars_user_op_definition(const ars_user_op *o, char *buf, size_t len) {
    ARS_ASSERT(len > 0, "no room for the definition of '%s'", o->name);
    buf[0] = '\0';
    size_t used = 0;
    for (int t = 0; t < o->terms.n && used + 1 < len; t++) {
        char text[400];
        ars_term_format(&o->terms.t[t], text, sizeof text);
        used += (size_t)snprintf(buf + used, len - used, "%s%s", t > 0 ? "; " : "", text);
    }
}
