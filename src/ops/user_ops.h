/*
 * user_ops: the operators a user measures, written in [observables] as lines
 *
 *   NAME: term                      for example   dimer: 1.0 Sz(10) Sz(11)
 *
 * with the term in the syntax of ops/terms.h ([hamiltonian] term). The lines of one name add
 * up to its operator, in the order given; a term with an i-site is summed over the chain as in
 * the Hamiltonian (the boundary of [hamiltonian] pbc). The operator must be Hermitian, so that
 * its expectation value is real; with an odd number of Sy in a term it is complex in the S^z
 * basis and needs a phase network, as the Hamiltonian does. Its estimator is the local value
 * O_loc(s) = sum_s' O(s, s') psi(s') / psi(s) (the real part), computed by est/local_energy.h
 * like the energy.
 *
 * A name starts with a letter and holds letters, digits and '_'. The config check refuses the
 * built-in observables' names (vmc/observables_keys.c): both name groups of /observables.
 */
#ifndef ARS_USER_OPS_H
#define ARS_USER_OPS_H

#include <stddef.h>

#include "ops/operator.h"
#include "ops/terms.h"

#define ARS_USER_OPS_MAX 256
#define ARS_USER_OP_NAME_MAX 48

typedef struct ars_user_op {
    char name[ARS_USER_OP_NAME_MAX];
    ars_terms terms; /* its lines, each with its FILE:LINE */
} ars_user_op;

typedef struct ars_user_ops {
    int n;
    ars_user_op op[ARS_USER_OPS_MAX];
} ars_user_ops;

/* An empty set, and its release. */
void ars_user_ops_init(ars_user_ops *u);
void ars_user_ops_free(ars_user_ops *u);

/* Parses one "NAME: term" line and adds the term to NAME's operator (a new one for a new name).
 * Errors (ARS_STATUS_ECONFIG, one message that starts with `where`): no "NAME:", a malformed
 * name, more than ARS_USER_OPS_MAX names, and the errors of ars_terms_parse. */
int ars_user_ops_parse(ars_user_ops *u, const char *line, const char *where);

/* The lines of a file, one per line; '#' comments and blank lines are skipped (the reader of
 * ars_terms_read_lines; `key_where` names the operators_file key). */
int ars_user_ops_read_file(ars_user_ops *u, const char *path, const char *key_where);

/* The operator o on `size` sites of spin two_s/2 with boundary pbc: NULL with one message naming
 * the offending term's FILE:LINE (a site outside the chain, an operator the spin does not have,
 * not Hermitian) and *status set; complex elements are allowed here and checked by the caller. */
ars_op *ars_user_op_build(const ars_user_op *o, int size, int two_s, int pbc, int *status);

/* Every operator built and checked as above, and refused (naming its first term with an odd
 * number of Sy) if it is complex while complex_ok is 0. ARS_OK or the first error. */
int ars_user_ops_check(const ars_user_ops *u, int size, int two_s, int pbc, int complex_ok);

/* The terms of o as text, "1 Sz(i) Sz(i+1); 0.5 S+(i) S-(i+1)", into buf (len > 0, terminated). */
void ars_user_op_definition(const ars_user_op *o, char *buf, size_t len);

#endif
