/*
 * site_op: single-site spin matrices (see the header for the definitions and conventions).
 */
#include "ops/site_op.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "core/ars_common.h"

static const char *const site_op_names[] = {"Id", "Sx", "Sy", "Sz", "S+", "S-", "X", "Y", "Z"};
static_assert(sizeof site_op_names / sizeof site_op_names[0] == ARS_SITE_OP_COUNT,
              "one name per site operator");

const char *ars_site_op_name(ars_site_op op) {
    return op >= 0 && op < ARS_SITE_OP_COUNT ? site_op_names[op] : NULL;
}

int ars_site_op_parse(const char *name, ars_site_op *op) {
    for (int k = 0; k < ARS_SITE_OP_COUNT; k++) {
        if (strcmp(name, site_op_names[k]) == 0) {
            *op = (ars_site_op)k;
            return 0;
        }
    }
    return -1;
}

int ars_site_op_allowed(ars_site_op op, int two_s) {
    if (op == ARS_SITE_OP_X || op == ARS_SITE_OP_Y || op == ARS_SITE_OP_Z) {
        return two_s == 1;
    }
    return op >= 0 && op < ARS_SITE_OP_COUNT;
}

int ars_site_op_matrix(double *R, ars_site_op op, int two_s) {
    const int D = two_s + 1;
    const double S = 0.5 * two_s;
    ARS_ASSERT(ars_site_op_allowed(op, two_s), "operator %d for 2S = %d", (int)op, two_s);
    memset(R, 0, (size_t)D * (size_t)D * sizeof *R);
    /* Pauli matrices are twice the spin-1/2 ones: the spin matrices scaled by 2, exactly. */
    const double scale = op >= ARS_SITE_OP_X ? 2.0 : 1.0;
    for (int v = 0; v < D; v++) {
        const double m = v - S;
        const double up = v + 1 < D ? sqrt(S * (S + 1) - m * (m + 1)) : 0.0; /* <v+1|S+|v> */
        const double dn = v > 0 ? sqrt(S * (S + 1) - m * (m - 1)) : 0.0;     /* <v-1|S-|v> */
        switch (op) {
            case ARS_SITE_OP_ID:
                R[v * D + v] = 1.0;
                break;
            case ARS_SITE_OP_SZ:
            case ARS_SITE_OP_Z:
                R[v * D + v] = scale * m;
                break;
            case ARS_SITE_OP_SP:
                if (v + 1 < D) {
                    R[(v + 1) * D + v] = up;
                }
                break;
            case ARS_SITE_OP_SM:
                if (v > 0) {
                    R[(v - 1) * D + v] = dn;
                }
                break;
            case ARS_SITE_OP_SX:
            case ARS_SITE_OP_X:
                /* (S+ + S-)/2 */
                if (v + 1 < D) {
                    R[(v + 1) * D + v] = scale * 0.5 * up;
                }
                if (v > 0) {
                    R[(v - 1) * D + v] = scale * 0.5 * dn;
                }
                break;
            case ARS_SITE_OP_SY:
            case ARS_SITE_OP_Y:
                /* -i (S+ - S-)/2: the real part (S+ - S-)/2 with p = 3 */
                if (v + 1 < D) {
                    R[(v + 1) * D + v] = scale * 0.5 * up;
                }
                if (v > 0) {
                    R[(v - 1) * D + v] = -scale * 0.5 * dn;
                }
                break;
            case ARS_SITE_OP_COUNT:
                break;
        }
    }
    return op == ARS_SITE_OP_SY || op == ARS_SITE_OP_Y ? 3 : 0;
}
