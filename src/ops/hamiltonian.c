/*
 * hamiltonian: matrix elements of the spin-1/2 chain Hamiltonians and fast local energies of an
 * ars_arnn wavefunction; the math (conventions, Marshall sign, window method) is in
 * hamiltonian.h and docs/hamiltonians.md.
 */
#include "ops/hamiltonian.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"
#include "ops/exact.h"

const char *ars_ham_type_name(ars_ham_type type) {
    switch (type) {
        case ARS_HAM_TFIM:
            return "tfim";
        case ARS_HAM_XXZ:
            return "xxz";
        case ARS_HAM_HEISENBERG:
            return "heisenberg";
        case ARS_HAM_J1J2:
            return "j1j2";
    }
    return NULL;
}

int ars_ham_type_parse(const char *name, ars_ham_type *type) {
    static const ars_ham_type all[] = {ARS_HAM_TFIM, ARS_HAM_XXZ, ARS_HAM_HEISENBERG, ARS_HAM_J1J2};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        if (strcmp(name, ars_ham_type_name(all[k])) == 0) {
            *type = all[k];
            return 0;
        }
    }
    return -1;
}

int ars_ham_init(ars_ham *H, const ars_ham_preset *preset, int size, int two_s) {
    const ars_ham_type type = preset->type;
    const double J = preset->J, h = preset->h, Delta = preset->Delta, J2 = preset->J2;
    const int pbc = preset->pbc, marshall_sign = preset->marshall_sign;
    memset(H, 0, sizeof *H);
    const char *name = ars_ham_type_name(type);
    if (name == NULL) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "[hamiltonian] unknown Hamiltonian type %d", (int)type);
    }
    if (two_s != 1) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] %s is defined for spin 1/2 only (got spin %d/2); use "
                       "system.spin = 0.5 or no Hamiltonian",
                       name, two_s);
    }
    if (size < 2) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "[hamiltonian] %s needs at least 2 sites (got %d)", name,
                       size);
    }
    if (pbc && size < 3) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] pbc needs at least 3 sites: with %d the wrap bond repeats "
                       "bond (0, 1)",
                       size);
    }
    if (type == ARS_HAM_J1J2 && size < 3) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] j1j2 needs at least 3 sites for a next-nearest bond (got %d)",
                       size);
    }
    if (type == ARS_HAM_J1J2 && pbc && size < 5) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] j1j2 with pbc needs at least 5 sites: with %d the "
                       "next-nearest bonds repeat",
                       size);
    }
    if (marshall_sign && pbc && size % 2 != 0) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] marshall_sign with pbc needs an even size: with %d sites the "
                       "wrap bond (%d, 0) joins two sites of the same sublattice",
                       size, size - 1);
    }
    if (!isfinite(J) || !isfinite(h) || !isfinite(Delta) || !isfinite(J2)) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] couplings must be finite (got J %g, h %g, Delta %g, J2 %g)",
                       J, h, Delta, J2);
    }
    H->type = type;
    H->size = size;
    H->J = J;
    H->pbc = pbc != 0;
    H->marshall_sign = marshall_sign != 0;
    switch (type) {
        case ARS_HAM_TFIM:
            H->h = h;
            break;
        case ARS_HAM_XXZ:
            H->Delta = Delta;
            break;
        case ARS_HAM_HEISENBERG:
            H->Delta = 1.0;
            break;
        case ARS_HAM_J1J2:
            H->Delta = 1.0;
            H->J2 = J2;
            break;
    }
    return ARS_OK;
}

/* Appends coupling * A(i) B(i + d) for every i. */
static int add_bond(ars_op *op, double coupling, ars_site_op a, ars_site_op b, int d,
                    const char *what) {
    const ars_op_factor f[2] = {{a, 0, 1}, {b, d, 1}};
    return ars_op_add_term(op, coupling, f, 2, what);
}

ars_op *ars_ham_operator(const ars_ham *H) {
    ars_op *op = ars_op_alloc(H->size, 1, H->pbc);
    if (op == NULL) {
        ARS_ERR(ARS_STATUS_ENOMEM, "out of memory building the Hamiltonian");
        return NULL;
    }
    const char *what = ars_ham_type_name(H->type);
    int rc = ARS_OK;
    switch (H->type) {
        case ARS_HAM_TFIM: {
            rc = add_bond(op, -H->J, ARS_SITE_OP_Z, ARS_SITE_OP_Z, 1, what);
            const ars_op_factor x = {ARS_SITE_OP_X, 0, 1};
            rc = rc != ARS_OK ? rc : ars_op_add_term(op, -H->h, &x, 1, what);
            break;
        }
        case ARS_HAM_XXZ:
        case ARS_HAM_HEISENBERG:
            rc = add_bond(op, H->J, ARS_SITE_OP_X, ARS_SITE_OP_X, 1, what);
            rc = rc != ARS_OK ? rc : add_bond(op, H->J, ARS_SITE_OP_Y, ARS_SITE_OP_Y, 1, what);
            rc = rc != ARS_OK
                     ? rc
                     : add_bond(op, H->J * H->Delta, ARS_SITE_OP_Z, ARS_SITE_OP_Z, 1, what);
            break;
        case ARS_HAM_J1J2:
            for (int d = 1; d <= 2 && rc == ARS_OK; d++) {
                const double c = d == 1 ? H->J : H->J2;
                rc = add_bond(op, c, ARS_SITE_OP_X, ARS_SITE_OP_X, d, what);
                rc = rc != ARS_OK ? rc : add_bond(op, c, ARS_SITE_OP_Y, ARS_SITE_OP_Y, d, what);
                rc = rc != ARS_OK ? rc : add_bond(op, c, ARS_SITE_OP_Z, ARS_SITE_OP_Z, d, what);
            }
            break;
    }
    if (rc != ARS_OK) {
        ars_op_free(op);
        return NULL;
    }
    return op;
}

double ars_ham_closed_form(const ars_ham *H, const char **method) {
    if (H->type == ARS_HAM_TFIM) {
        *method = "free fermions";
        return ars_exact_tfim(H->size, H->J, H->h, H->pbc);
    }
    return NAN;
}
