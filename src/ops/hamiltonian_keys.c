/*
 * hamiltonian_keys: the [hamiltonian] keys, the checks of what the Hamiltonians support, and
 * the terms of type = terms read from the config (every term checked at config time, with its
 * FILE:LINE).
 */
#include <stdio.h>

#include "config/config_key.h"
#include "vmc/observables.h"
#include "ops/hamiltonian.h"

static const char *const ham_names[] = {"tfim", "xxz", "heisenberg", "j1j2", "blbq", "terms", NULL};
_Static_assert(sizeof ham_names / sizeof ham_names[0] == ARS_HAM_N_TYPES + 1,
               "one name per ars_ham_type");

#define HAM_DKEY(name, field, d, h)                                                                \
    {                                                                                              \
        .section = "hamiltonian", .key = (name), .type = ARS_KEY_DOUBLE,                           \
        .offset = ARS_CONFIG_OFF(field), .def = (d), .help = (h), .dmin = -1e6, .dmax = 1e6        \
    }

const ars_config_key ars_ham_keys[ARS_HAM_NKEYS] = {
    {.section = "hamiltonian",
     .key = "type",
     .type = ARS_KEY_ENUM,
     .offset = ARS_CONFIG_OFF(ham_type),
     .names = ham_names,
     .def = "tfim",
     .help = "tfim: -J sum Z Z - h sum X; xxz: J sum (x x + y y + Delta z z); heisenberg: xxz "
             "with Delta = 1; j1j2: J and J2 Heisenberg bonds; blbq: J S.S + J_bq (S.S)^2 (spin "
             ">= 1); terms: the term lines (Pauli matrices for spin 1/2, S for spin >= 1)"},
    HAM_DKEY("J", ham_J, "1.0", "coupling J (J1 for j1j2)"),
    HAM_DKEY("h", ham_h, "1.0", "transverse field h (tfim)"),
    HAM_DKEY("Delta", ham_Delta, "1.0", "anisotropy Delta (xxz)"),
    HAM_DKEY("J2", ham_J2, "0.0", "next-nearest-neighbour coupling (j1j2)"),
    {.section = "hamiltonian",
     .key = "pbc",
     .type = ARS_KEY_BOOL,
     .offset = ARS_CONFIG_OFF(ham_pbc),
     .def = "true",
     .help = "periodic boundary conditions (else open)"},
    {.section = "hamiltonian",
     .key = "marshall_sign",
     .type = ARS_KEY_BOOL,
     .offset = ARS_CONFIG_OFF(ham_marshall),
     .def = "false",
     .help = "psi = (-1)^(up spins on odd sites) |psi_net|: needed for antiferromagnetic "
             "xxz/j1j2"},
    {.section = "hamiltonian",
     .key = "exact_energy",
     .type = ARS_KEY_DOUBLE_AUTO,
     .offset = ARS_CONFIG_OFF(ham_exact),
     .def = "auto",
     .help = "the exact ground-state energy for relative errors: auto (computed when cheap: "
             "closed forms, else Lanczos up to 2^20 states) or a number",
     .dmin = -1e12,
     .dmax = 1e12},
    HAM_DKEY("D", ham_D, "0.0", "single-ion anisotropy D sum z z (xxz, heisenberg, j1j2, blbq)"),
    HAM_DKEY("hz", ham_hz, "0.0", "uniform field: -hz sum z (xxz, heisenberg, j1j2, blbq)"),
    HAM_DKEY("hx", ham_hx, "0.0", "uniform field: -hx sum x (xxz, heisenberg, j1j2, blbq)"),
    HAM_DKEY("J_bq", ham_Jbq, "0.0", "biquadratic coupling J_bq sum (S.S)^2 (blbq)"),
    HAM_DKEY("dm", ham_dm, "0.0",
             "Dzyaloshinskii-Moriya coupling dm sum_nn (x_i y_j - y_i x_j) (xxz, heisenberg; "
             "complex: needs [phase])"),
    HAM_DKEY("gamma", ham_gamma, "0.0",
             "XY anisotropy: xxz becomes J sum ((1 + gamma) x x + (1 - gamma) y y + Delta z z) "
             "(xxz only; does not conserve total Sz unless 0)"),
    {.section = "hamiltonian",
     .key = "term",
     .type = ARS_KEY_LINES,
     .offset = ARS_CONFIG_OFF(ham_term),
     .count_offset = ARS_CONFIG_OFF(n_ham_terms),
     .where_offset = ARS_CONFIG_OFF(ham_term_line),
     .line_len = ARS_TERM_LINE_MAX,
     .max = ARS_MAX_TERM_LINES,
     .def = "",
     .help = "type = terms: one term 'coupling Op(site) ...', for example -1.0 Sz(i) Sz(i+1); "
             "the one key that may repeat",
     .repeatable = 1},
    {.section = "hamiltonian",
     .key = "terms_file",
     .type = ARS_KEY_STRING,
     .offset = ARS_CONFIG_OFF(ham_terms_file),
     .def = "",
     .may_be_empty = 1,
     .help = "type = terms: a file of more terms, one per line, '#' comments (path from the "
             "working directory)"},
};

int ars_ham_config_terms(const ars_config *cfg, ars_terms *T) {
    int rc = ARS_OK;
    for (int k = 0; k < cfg->n_ham_terms && rc == ARS_OK; k++) {
        char where[ARS_TERM_WHERE_MAX];
        ars_config_line_where(cfg, cfg->ham_term_line[k], "hamiltonian", "term", where,
                              sizeof where);
        rc = ars_terms_parse(T, cfg->ham_term[k], where);
    }
    if (rc == ARS_OK && cfg->ham_terms_file[0] != '\0') {
        char where[ARS_TERM_WHERE_MAX];
        ars_config_where(cfg, "hamiltonian", "terms_file", where, sizeof where);
        rc = ars_terms_read_file(T, cfg->ham_terms_file, where);
    }
    return rc;
}

static int check_terms(const ars_config *c) {
    if (c->ham_type != ARS_HAM_TERMS) {
        return ARS_OK;
    }
    /* Every term now, with its FILE:LINE, before anything runs. */
    ars_terms T;
    ars_terms_init(&T);
    int rc = ars_ham_config_terms(c, &T);
    ars_op *op = NULL;
    if (rc == ARS_OK) {
        op = ars_terms_operator(&T, c->size, c->two_s, c->ham_pbc, &rc);
    }
    /* Complex elements need complex amplitudes, except for the exact solvers. */
    if (rc == ARS_OK && ars_op_is_complex(op) && c->mode != ARS_MODE_EXACT && c->phase_type == 0) {
        for (int k = 0; k < T.n; k++) {
            int n_sy = 0;
            for (int j = 0; j < T.t[k].nf; j++) {
                n_sy += T.t[k].f[j].op == ARS_SITE_OP_SY || T.t[k].f[j].op == ARS_SITE_OP_Y;
            }
            if (n_sy % 2 != 0) {
                char text[400];
                ars_term_format(&T.t[k], text, sizeof text);
                rc = ars_error_where(ARS_STATUS_ECONFIG, T.t[k].where,
                                     "term '%s': an odd number of Sy/Y makes the Hamiltonian "
                                     "complex, which a real wavefunction cannot follow: set "
                                     "[phase] type = conv (docs/phase.md)",
                                     text);
                break;
            }
        }
    }
    ars_op_free(op);
    ars_terms_free(&T);
    return rc;
}

int ars_ham_config_check(const ars_config *c) {
    if (c->ham_gamma != 0.0 && c->ham_type != ARS_HAM_XXZ) {
        return ars_ini_error(ars_config_key_where(c, "hamiltonian", "gamma"),
                             "[hamiltonian] gamma: the XY anisotropy belongs to type = xxz (got "
                             "type = %s); write other anisotropic bonds with type = terms",
                             ars_ham_type_name((ars_ham_type)c->ham_type));
    }
    if (c->ham_dm != 0.0 && c->ham_type != ARS_HAM_XXZ && c->ham_type != ARS_HAM_HEISENBERG) {
        return ars_ini_error(ars_config_key_where(c, "hamiltonian", "dm"),
                             "[hamiltonian] dm: the Dzyaloshinskii-Moriya term belongs to type = "
                             "xxz or heisenberg (got type = %s); write other DM terms with type "
                             "= terms",
                             ars_ham_type_name((ars_ham_type)c->ham_type));
    }
    const int terms_given = c->n_ham_terms > 0 || c->ham_terms_file[0] != '\0';
    if (terms_given && c->ham_type != ARS_HAM_TERMS) {
        return ars_ini_error(
            ars_config_key_where(c, "hamiltonian", c->n_ham_terms > 0 ? "term" : "terms_file"),
            "[hamiltonian] %s: terms belong to type = terms (got type = %s)",
            c->n_ham_terms > 0 ? "term" : "terms_file",
            ars_ham_type_name((ars_ham_type)c->ham_type));
    }
    if (c->mode != ARS_MODE_TRAIN && c->mode != ARS_MODE_EXACT) {
        /* Sampling measures the energy of the Hamiltonian's terms when asked to. */
        if (!(ars_obs_config_mask(c) & (1u << ARS_OBS_ENERGY))) {
            return ARS_OK;
        }
        if (c->ham_dm != 0.0 && c->phase_type == 0) {
            return ars_ini_error(ars_config_key_where(c, "hamiltonian", "dm"),
                                 "[hamiltonian] dm: a Dzyaloshinskii-Moriya term makes the "
                                 "Hamiltonian complex, which a real wavefunction cannot follow: "
                                 "set [phase] type = conv (docs/phase.md) (got %g)",
                                 c->ham_dm);
        }
        return check_terms(c);
    }
    const char *mode = ars_run_mode_names[c->mode];
    if (c->ham_dm != 0.0 && c->mode != ARS_MODE_EXACT && c->phase_type == 0) {
        return ars_ini_error(ars_config_key_where(c, "hamiltonian", "dm"),
                             "[hamiltonian] dm: a Dzyaloshinskii-Moriya term makes the "
                             "Hamiltonian complex, which a real wavefunction cannot follow: set "
                             "[phase] type = conv (docs/phase.md) (got %g)",
                             c->ham_dm);
    }
    if (!ars_config_key_given(c, "hamiltonian", "type")) {
        return ars_ini_error(ars_config_key_where(c, "run", "mode"),
                             "[run] mode: %s needs a Hamiltonian: set [hamiltonian] type (tfim, "
                             "xxz, heisenberg, j1j2, blbq or terms) (got %s)",
                             mode, mode);
    }
    if (c->ham_type == ARS_HAM_TFIM && c->two_s != 1) {
        return ars_ini_error(ars_config_key_where(c, "system", "spin"),
                             "[system] spin: tfim is defined for spin 1/2 only; write other spins "
                             "with type = terms (got %g)",
                             0.5 * c->two_s);
    }
    if (c->ham_type == ARS_HAM_BLBQ && c->two_s < 2) {
        return ars_ini_error(ars_config_key_where(c, "system", "spin"),
                             "[system] spin: blbq needs spin >= 1 (got %g)", 0.5 * c->two_s);
    }
    if (c->ham_type == ARS_HAM_TERMS && !terms_given) {
        return ars_ini_error(ars_config_key_where(c, "hamiltonian", "type"),
                             "[hamiltonian] type = terms needs term = ... lines or a terms_file");
    }
    return check_terms(c);
}
