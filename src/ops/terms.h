/*
 * terms: an operator as it is written, a list of terms "coupling Op(site) Op(site) ...", each
 * remembering where it came from (FILE:LINE), parsed from [hamiltonian] term lines and
 * terms_file, or built by the presets; ars_terms_operator turns the list into the evaluated
 * operator (ops/operator.h).
 *
 * Syntax of one term (docs/hamiltonians.md):
 *   term    = coupling factor { factor }
 *   factor  = name "(" site ")"        name: Id Sx Sy Sz S+ S- (any spin), X Y Z (spin 1/2)
 *   site    = integer | "i" | "i+" integer | "i-" integer     (spaces allowed inside the
 * parentheses) A coupling is a finite decimal number. A term with an i-site stands for one term per
 * site i (with pbc the indices wrap; without, the instances that leave the chain are dropped); a
 * term with integer sites is one term. Factors on the same site multiply in the order written.
 *
 * The expanded list (ars_terms_expand) has one entry per instance with absolute sites, in term
 * order and then i ascending: what /hamiltonian records, so an output file states its
 * Hamiltonian without the config.
 */
#ifndef ARS_TERMS_H
#define ARS_TERMS_H

#include <stddef.h>

#include "ops/operator.h"

/* Longest "where" text kept with a term (FILE:LINE, "--set", a preset's name). */
#define ARS_TERM_WHERE_MAX 320

typedef struct ars_term {
    double coupling;
    int nf;
    ars_op_factor f[ARS_OP_MAX_FACTORS];
    char where[ARS_TERM_WHERE_MAX];
} ars_term;

typedef struct ars_terms {
    int n, cap;
    ars_term *t;
} ars_terms;

/* An empty list (no allocation until the first term). */
void ars_terms_init(ars_terms *T);
void ars_terms_free(ars_terms *T);

/* Appends a term built in code (the presets). Returns ARS_OK or ARS_STATUS_ENOMEM. */
int ars_terms_add(ars_terms *T, double coupling, const ars_op_factor *f, int nf, const char *where);

/* Parses one term of the syntax above and appends it. Errors (ARS_STATUS_ECONFIG, one message
 * that starts with `where`): a malformed coupling or site, an unknown operator, no factor, more
 * than ARS_OP_MAX_FACTORS factors, text after the last factor. The spin, the site range and
 * Hermiticity are checked when the operator is built (ars_terms_operator). */
int ars_terms_parse(ars_terms *T, const char *text, const char *where);

/* Appends the terms of a file, one per line in the same syntax; '#' starts a comment, blank
 * lines are skipped. Each term's where is "PATH:LINE". `key_where` names the key that gave the
 * path, for a missing or unreadable file. */
int ars_terms_read_file(ars_terms *T, const char *path, const char *key_where);

/* The reader behind it: line_fn(ctx, text, "PATH:LINE") for each line that is not blank, with
 * its '#' comment and trailing space removed, until the first error. `key` and `key_where` name
 * the key that gave the path, for a missing or unreadable file. */
int ars_terms_read_lines(const char *path, const char *key, const char *key_where,
                         int (*line_fn)(void *ctx, const char *text, const char *where), void *ctx);

/* The term as text, "-1 Sz(i) Sz(i+1)", into buf (always terminated). */
void ars_term_format(const ars_term *t, char *buf, size_t len);

/* The operator of the list on `size` sites of spin two_s/2, every term added with its where;
 * then checked Hermitian (ars_op_hermitian). NULL with one message on any error (*status says
 * which: ARS_STATUS_ECONFIG or ARS_STATUS_ENOMEM). */
ars_op *ars_terms_operator(const ars_terms *T, int size, int two_s, int pbc, int *status);

/* The same, with `name` ("the Hamiltonian", "operator 'dimer'") in its messages. */
ars_op *ars_terms_operator_named(const ars_terms *T, int size, int two_s, int pbc, const char *name,
                                 int *status);

/* The number of expanded terms (instances) on `size` sites, and the most factors of any. */
size_t ars_terms_expanded_count(const ars_terms *T, int size, int pbc, int *max_factors);

/* The expanded terms: coupling[e], n_factors[e], and for factor j < F (F = max_factors of
 * ars_terms_expanded_count) op[e * F + j] (ars_site_op; -1 past the term's factors) and
 * site[e * F + j] (absolute; -1 past). Arrays sized by ars_terms_expanded_count. */
void ars_terms_expand(const ars_terms *T, int size, int pbc, int F, double *coupling,
                      int *n_factors, int *op, int *site);

#endif
