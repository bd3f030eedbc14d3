/*
 * hamiltonian: matrix elements of the spin-1/2 chain Hamiltonians and fast local energies of an
 * ars_arnn wavefunction; the math (conventions, Marshall sign, window method) is in
 * hamiltonian.h and docs/hamiltonians.md.
 */
#include "ops/hamiltonian.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"
#include "ops/bethe.h"
#include "ops/exact.h"

const ars_ham_field ars_ham_fields[ARS_HAM_N_FIELDS] = {
    {"J", 0, offsetof(ars_ham, J)},         {"h", 0, offsetof(ars_ham, h)},
    {"Delta", 0, offsetof(ars_ham, Delta)}, {"J2", 0, offsetof(ars_ham, J2)},
    {"pbc", 1, offsetof(ars_ham, pbc)},     {"marshall_sign", 1, offsetof(ars_ham, marshall_sign)},
    {"D", 0, offsetof(ars_ham, D)},         {"hz", 0, offsetof(ars_ham, hz)},
    {"hx", 0, offsetof(ars_ham, hx)},       {"J_bq", 0, offsetof(ars_ham, J_bq)},
    {"dm", 0, offsetof(ars_ham, dm)},       {"gamma", 0, offsetof(ars_ham, gamma)},
};

static const char *const type_names[ARS_HAM_N_TYPES] = {"tfim", "xxz",  "heisenberg",
                                                        "j1j2", "blbq", "terms"};

const char *ars_ham_type_name(ars_ham_type type) {
    return type >= 0 && type < ARS_HAM_N_TYPES ? type_names[type] : NULL;
}

int ars_ham_type_parse(const char *name, ars_ham_type *type) {
    for (int k = 0; k < ARS_HAM_N_TYPES; k++) {
        if (strcmp(name, type_names[k]) == 0) {
            *type = (ars_ham_type)k;
            return 0;
        }
    }
    return -1;
}

/* The preset checks that need no operator. */
static int check_preset(const ars_ham_preset *p, int size, int two_s, const char *name) {
    const ars_ham_type type = p->type;
    if (type == ARS_HAM_TFIM && two_s != 1) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] tfim is defined for spin 1/2 only (got spin %d/2); use "
                       "type = terms for other spins",
                       two_s);
    }
    if (type == ARS_HAM_BLBQ && two_s < 2) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] blbq is defined for spin >= 1 (got spin 1/2, where "
                       "(S.S)^2 = 3/16 - S.S/2 adds nothing)");
    }
    if (size < 2) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "[hamiltonian] %s needs at least 2 sites (got %d)", name,
                       size);
    }
    if (p->pbc && size < 3 && type != ARS_HAM_TERMS) {
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
    if (type == ARS_HAM_J1J2 && p->pbc && size < 5) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] j1j2 with pbc needs at least 5 sites: with %d the "
                       "next-nearest bonds repeat",
                       size);
    }
    if (p->marshall_sign && p->pbc && size % 2 != 0) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] marshall_sign with pbc needs an even size: with %d sites the "
                       "wrap bond (%d, 0) joins two sites of the same sublattice",
                       size, size - 1);
    }
    if (p->dm != 0.0 && type != ARS_HAM_XXZ && type != ARS_HAM_HEISENBERG) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] dm belongs to xxz and heisenberg (got type %s); write "
                       "other DM terms with type = terms",
                       name);
    }
    if (p->gamma != 0.0 && type != ARS_HAM_XXZ) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] gamma belongs to xxz (got type %s); write other "
                       "anisotropic bonds with type = terms",
                       name);
    }
    const double c[] = {p->J, p->h, p->Delta, p->J2, p->D, p->hz, p->hx, p->J_bq, p->dm, p->gamma};
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
        if (!isfinite(c[k])) {
            return ARS_ERR(ARS_STATUS_ECONFIG,
                           "[hamiltonian] couplings must be finite (got J %g, h %g, Delta %g, J2 "
                           "%g, D %g, hz %g, hx %g, J_bq %g, dm %g, gamma %g)",
                           p->J, p->h, p->Delta, p->J2, p->D, p->hz, p->hx, p->J_bq, p->dm,
                           p->gamma);
        }
    }
    if (type == ARS_HAM_TERMS && (p->terms == NULL || p->terms->n == 0)) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "[hamiltonian] type = terms needs at least one term (term = ... lines or "
                       "a terms_file)");
    }
    return ARS_OK;
}

int ars_ham_init(ars_ham *H, const ars_ham_preset *preset, int size, int two_s) {
    const ars_ham_type type = preset->type;
    memset(H, 0, sizeof *H);
    const char *name = ars_ham_type_name(type);
    if (name == NULL) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "[hamiltonian] unknown Hamiltonian type %d", (int)type);
    }
    int rc = check_preset(preset, size, two_s, name);
    if (rc != ARS_OK) {
        return rc;
    }
    H->type = type;
    H->size = size;
    H->two_s = two_s;
    H->J = preset->J;
    H->pbc = preset->pbc != 0;
    H->marshall_sign = preset->marshall_sign != 0;
    if (type != ARS_HAM_TFIM && type != ARS_HAM_TERMS) {
        H->D = preset->D;
        H->hz = preset->hz;
        H->hx = preset->hx;
    }
    switch (type) {
        case ARS_HAM_TFIM:
            H->h = preset->h;
            break;
        case ARS_HAM_XXZ:
            H->Delta = preset->Delta;
            H->dm = preset->dm;
            H->gamma = preset->gamma;
            break;
        case ARS_HAM_HEISENBERG:
        case ARS_HAM_J1J2:
            H->Delta = 1.0;
            H->J2 = type == ARS_HAM_J1J2 ? preset->J2 : 0.0;
            H->dm = type == ARS_HAM_HEISENBERG ? preset->dm : 0.0;
            break;
        case ARS_HAM_BLBQ:
            H->Delta = 1.0;
            H->J_bq = preset->J_bq;
            break;
        case ARS_HAM_TERMS:
            H->J = 0.0;
            H->terms = malloc(sizeof *H->terms);
            if (H->terms == NULL) {
                return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the Hamiltonian's terms");
            }
            ars_terms_init(H->terms);
            for (int k = 0; k < preset->terms->n && rc == ARS_OK; k++) {
                const ars_term *t = &preset->terms->t[k];
                rc = ars_terms_add(H->terms, t->coupling, t->f, t->nf, t->where);
            }
            break;
        case ARS_HAM_N_TYPES:
            break;
    }
    if (rc == ARS_OK) {
        /* Every term is checked once here (sites, spin, Hermiticity), with its FILE:LINE. */
        ars_terms T;
        ars_terms_init(&T);
        rc = ars_ham_term_list(H, &T);
        ars_op *op = rc == ARS_OK ? ars_terms_operator(&T, size, two_s, H->pbc, &rc) : NULL;
        ars_op_free(op);
        ars_terms_free(&T);
    }
    if (rc != ARS_OK) {
        ars_ham_free(H);
    }
    return rc;
}

void ars_ham_free(ars_ham *H) {
    if (H->terms != NULL) {
        ars_terms_free(H->terms);
        free(H->terms);
        H->terms = NULL;
    }
}

/* Appends coupling * A(i) B(i + d). */
static int add_bond(ars_terms *T, double coupling, ars_site_op a, ars_site_op b, int d,
                    const char *what) {
    const ars_op_factor f[2] = {{a, 0, 1}, {b, d, 1}};
    return ars_terms_add(T, coupling, f, 2, what);
}

int ars_ham_term_list(const ars_ham *H, ars_terms *T) {
    const char *what = ars_ham_type_name(H->type);
    const int pauli = H->two_s == 1;
    const ars_site_op x = pauli ? ARS_SITE_OP_X : ARS_SITE_OP_SX;
    const ars_site_op y = pauli ? ARS_SITE_OP_Y : ARS_SITE_OP_SY;
    const ars_site_op z = pauli ? ARS_SITE_OP_Z : ARS_SITE_OP_SZ;
    const ars_site_op xyz[3] = {x, y, z};
    int rc = ARS_OK;
    switch (H->type) {
        case ARS_HAM_TFIM: {
            rc = add_bond(T, -H->J, ARS_SITE_OP_Z, ARS_SITE_OP_Z, 1, what);
            const ars_op_factor fx = {ARS_SITE_OP_X, 0, 1};
            rc = rc != ARS_OK ? rc : ars_terms_add(T, -H->h, &fx, 1, what);
            return rc;
        }
        case ARS_HAM_XXZ:
        case ARS_HAM_HEISENBERG:
        case ARS_HAM_BLBQ:
            /* (1 +- 0) J is J: gamma = 0 keeps the bits of the isotropic bonds. */
            rc = add_bond(T, H->J * (1.0 + H->gamma), x, x, 1, what);
            rc = rc != ARS_OK ? rc : add_bond(T, H->J * (1.0 - H->gamma), y, y, 1, what);
            rc = rc != ARS_OK ? rc : add_bond(T, H->J * H->Delta, z, z, 1, what);
            if (H->dm != 0.0) { /* dm (x y - y x): imaginary elements (docs/phase.md) */
                rc = rc != ARS_OK ? rc : add_bond(T, H->dm, x, y, 1, what);
                rc = rc != ARS_OK ? rc : add_bond(T, -H->dm, y, x, 1, what);
            }
            for (int a = 0; a < 3 && rc == ARS_OK && H->type == ARS_HAM_BLBQ; a++) {
                for (int b = 0; b < 3 && rc == ARS_OK; b++) {
                    const ars_op_factor f[4] = {
                        {xyz[a], 0, 1}, {xyz[b], 0, 1}, {xyz[a], 1, 1}, {xyz[b], 1, 1}};
                    rc = ars_terms_add(T, H->J_bq, f, 4, what);
                }
            }
            break;
        case ARS_HAM_J1J2:
            for (int d = 1; d <= 2 && rc == ARS_OK; d++) {
                const double c = d == 1 ? H->J : H->J2;
                rc = add_bond(T, c, x, x, d, what);
                rc = rc != ARS_OK ? rc : add_bond(T, c, y, y, d, what);
                rc = rc != ARS_OK ? rc : add_bond(T, c, z, z, d, what);
            }
            break;
        case ARS_HAM_TERMS:
            for (int k = 0; k < H->terms->n && rc == ARS_OK; k++) {
                const ars_term *t = &H->terms->t[k];
                rc = ars_terms_add(T, t->coupling, t->f, t->nf, t->where);
            }
            return rc;
        case ARS_HAM_N_TYPES:
            break;
    }
    /* F: the single-ion anisotropy and the fields, only when set (the presets keep their bits). */
    if (rc == ARS_OK && H->D != 0.0) {
        const ars_op_factor f[2] = {{z, 0, 1}, {z, 0, 1}};
        rc = ars_terms_add(T, H->D, f, 2, what);
    }
    if (rc == ARS_OK && H->hz != 0.0) {
        const ars_op_factor f = {z, 0, 1};
        rc = ars_terms_add(T, -H->hz, &f, 1, what);
    }
    if (rc == ARS_OK && H->hx != 0.0) {
        const ars_op_factor f = {x, 0, 1};
        rc = ars_terms_add(T, -H->hx, &f, 1, what);
    }
    return rc;
}

ars_op *ars_ham_operator(const ars_ham *H) {
    ars_terms T;
    ars_terms_init(&T);
    int rc = ars_ham_term_list(H, &T);
    ars_op *op = rc == ARS_OK ? ars_terms_operator(&T, H->size, H->two_s, H->pbc, &rc) : NULL;
    ars_terms_free(&T);
    return op;
}

double ars_ham_closed_form(const ars_ham *H, int two_m, const char **method) {
    const int any = two_m == ARS_EXACT_ANY_SECTOR;
    if (H->type == ARS_HAM_TFIM) {
        *method = "free fermions";
        return ars_exact_tfim(H->size, H->J, H->h, H->pbc);
    }
    if (H->type == ARS_HAM_XXZ && H->two_s == 1 && H->Delta == 0.0 && H->hx == 0.0 &&
        H->gamma != 0.0) {
        if (H->dm != 0.0 || !any) {
            return NAN; /* no S^z sectors; the XY chain with DM is left to Lanczos */
        }
        *method = "free fermions";
        return ars_exact_xy(H->size, H->J, H->gamma, H->hz, H->pbc) + H->D * H->size;
    }
    if (H->type == ARS_HAM_XXZ && H->two_s == 1 && H->Delta == 0.0 && H->hx == 0.0) {
        /* The XX chain with DM and hz: free fermions (D Z Z on one site is the constant D). */
        *method = "free fermions";
        /* Fermions = up spins: n = (L + 2 S^z) / 2. */
        const int n = any ? -1 : (H->size + two_m) / 2;
        return ars_exact_xx_dm(H->size, H->J, H->dm, H->hz, H->pbc, n) + H->D * H->size;
    }
    const int xxx = H->two_s == 1 && H->Delta == 1.0 && H->dm == 0.0 && H->hx == 0.0 &&
                    H->gamma == 0.0 &&
                    (H->type == ARS_HAM_XXZ || H->type == ARS_HAM_HEISENBERG ||
                     (H->type == ARS_HAM_J1J2 && H->J2 == 0.0));
    if (xxx && H->J != 0.0 && (!any || H->hz == 0.0) && (!H->pbc || H->size >= 3)) {
        /* The Heisenberg chain: D Z Z on one site is the constant D, -hz sum Z is -hz two_m. */
        const int N = H->size, bonds = H->pbc ? N : N - 1;
        const double fields = H->D * N - (any ? 0.0 : H->hz * two_m);
        if (H->J < 0.0) {
            /* Ferromagnet: the fully polarised multiplet has every S^z, each bond +J. */
            *method = "ferromagnetic multiplet";
            return H->J * bonds + fields;
        }
        /* Antiferromagnet: lowest |S^z| over every sector, else M = (N - |two_m|) / 2. */
        *method = "Bethe ansatz";
        return H->J * ars_bethe_xxx(N, any ? N / 2 : (N - abs(two_m)) / 2, H->pbc) + fields;
    }
    if (!any && two_m != 0) {
        return NAN; /* the closed forms below are singlets */
    }
    const int no_fields = H->D == 0.0 && H->hz == 0.0 && H->hx == 0.0;
    if (H->type == ARS_HAM_BLBQ && H->two_s == 2 && no_fields && H->J > 0.0 &&
        fabs(H->J_bq - H->J / 3.0) <= 1e-15 * H->J) {
        /* Each bond is J (P2 - 2/3) (P2: the projector on bond spin 2), and the valence-bond
         * solid is annihilated by every P2. */
        *method = "AKLT valence-bond solid";
        return -2.0 / 3.0 * H->J * (H->pbc ? H->size : H->size - 1);
    }
    if (H->type == ARS_HAM_J1J2 && H->two_s == 1 && no_fields && H->J > 0.0 &&
        H->J2 == 0.5 * H->J && H->pbc && H->size % 2 == 0) {
        /* Majumdar-Ghosh: the dimer product states, -3/8 J per site in S.S, -3/2 J in Pauli. */
        *method = "Majumdar-Ghosh dimers";
        return -1.5 * H->J * H->size;
    }
    return NAN;
}
