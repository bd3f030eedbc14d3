/*
 * site_op: the single-site operators that terms are products of, as matrices in the S^z basis of
 * one spin S (D = 2S + 1 local states, local index v = S + m, m = -S..S, so index 0 is m = -S).
 *
 *   Sz[v][v] = m                       S+[v+1][v] = sqrt(S(S+1) - m(m+1))
 *   S-[v-1][v] = sqrt(S(S+1) - m(m-1)) Sx = (S+ + S-)/2,  Sy = (S+ - S-)/(2i) = -i (S+ - S-)/2
 *   Id = 1                             X = 2 Sx, Y = 2 Sy, Z = 2 Sz (Pauli; spin 1/2 only)
 *
 * Every matrix is stored as i^p times a REAL matrix (p = 3 for Sy and Y, else 0), so a product
 * of factors is real exactly when the powers add to an even number (an even count of Sy/Y); its
 * sign is then (-1)^(p/2). For spin 1/2 every entry of X, Y, Z is 0 or +-1 and of S+, S-, Sx, Sy,
 * Sz 0, +-1/2 or 1, so the products of presets are exact.
 */
#ifndef ARS_SITE_OP_H
#define ARS_SITE_OP_H

typedef enum ars_site_op {
    ARS_SITE_OP_ID = 0,
    ARS_SITE_OP_SX,
    ARS_SITE_OP_SY,
    ARS_SITE_OP_SZ,
    ARS_SITE_OP_SP,
    ARS_SITE_OP_SM,
    ARS_SITE_OP_X,
    ARS_SITE_OP_Y,
    ARS_SITE_OP_Z,
    ARS_SITE_OP_COUNT,
} ars_site_op;

/* Name as written in a term ("Sx", "S+", "X", ...). */
const char *ars_site_op_name(ars_site_op op);

/* The operator named `name` (the whole string); -1 if none. */
int ars_site_op_parse(const char *name, ars_site_op *op);

/* 1 if the operator is defined for spin two_s/2 (the Pauli X, Y, Z only for spin 1/2). */
int ars_site_op_allowed(ars_site_op op, int two_s);

/* The real matrix R (D x D, row-major, R[row * D + col]) with op = i^p R, p returned (0 or 3). */
int ars_site_op_matrix(double *R, ars_site_op op, int two_s);

#endif
