/*
 * observables_keys: the [observables] keys, their checks and the derived renyi2 cuts.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config/config_key.h"
#include "ops/user_ops.h"
#include "vmc/observables.h"

const ars_config_key ars_obs_keys[ARS_OBS_NKEYS] = {
    {.section = "observables",
     .key = "names",
     .type = ARS_KEY_NAMES,
     .offset = ARS_CONFIG_OFF(obs_mask),
     .names = ars_obs_names,
     .def = "none",
     .help = "observables measured on the samples (mode = sample) or on the final samples (mode "
             "= train): none, all, or a list of sz, magnetization, abs_magnetization, "
             "staggered_magnetization, zz_correlation, zz_connected, structure_factor, sx, "
             "xx_correlation, energy, renyi2, string_order (docs/analysis.md); all: every one "
             "that applies to the run"},
    {.section = "observables",
     .key = "renyi2_cuts",
     .type = ARS_KEY_INTLIST,
     .offset = ARS_CONFIG_OFF(renyi_cuts),
     .count_offset = ARS_CONFIG_OFF(n_renyi_cuts),
     .min = 1,
     .max = 1000000,
     .def = "auto",
     .help = "renyi2: the sizes l of the subsystems [0, l), 1 <= l < size; auto = size/2"},
    {.section = "observables",
     .key = "operator",
     .type = ARS_KEY_LINES,
     .offset = ARS_CONFIG_OFF(obs_op),
     .count_offset = ARS_CONFIG_OFF(n_obs_ops),
     .where_offset = ARS_CONFIG_OFF(obs_op_line),
     .line_len = ARS_TERM_LINE_MAX,
     .max = ARS_MAX_TERM_LINES,
     .def = "",
     .help = "a user operator 'NAME: term' in the [hamiltonian] term syntax, for example dimer: "
             "1.0 Sz(3) Sz(4); the lines of one NAME add up; measured like the energy; "
             "repeatable",
     .repeatable = 1},
    {.section = "observables",
     .key = "operators_file",
     .type = ARS_KEY_STRING,
     .offset = ARS_CONFIG_OFF(obs_ops_file),
     .def = "",
     .may_be_empty = 1,
     .help = "a file of more operator lines 'NAME: term', one per line, '#' comments (path from "
             "the working directory)"},
};

static const char *names_text(unsigned mask, char *buf, size_t len) {
    buf[0] = '\0';
    for (int i = 0; ars_obs_names[i] != NULL; i++) {
        if (mask & (1u << i)) {
            strncat(buf, buf[0] != '\0' ? ", " : "", len - strlen(buf) - 1);
            strncat(buf, ars_obs_names[i], len - strlen(buf) - 1);
        }
    }
    return buf;
}

/* The observables that apply to the run: `all` leaves out those that need another spin
 * (sx and xx_correlation: 1/2; string_order: an integer spin) and the energy of a sampling
 * run without a Hamiltonian; a list is measured as given (check_names refuses what does not
 * apply). */
unsigned ars_obs_config_mask(const ars_config *c) {
    unsigned obs = (unsigned)c->obs_mask;
    if (obs == ARS_OBS_ALL) {
        obs &= c->two_s == 1 ? ~0u : ~ARS_OBS_NEEDS_SPIN_HALF;
        obs &= c->two_s % 2 == 0 ? ~0u : ~ARS_OBS_NEEDS_INTEGER_SPIN;
        if (c->mode == ARS_MODE_SAMPLE && !ars_config_key_given(c, "hamiltonian", "type")) {
            obs &= ~(1u << ARS_OBS_ENERGY);
        }
    }
    return obs;
}

/* The checks of [observables] names. */
static int check_names(const ars_config *c) {
    const ars_ini_where w = ars_config_key_where(c, "observables", "names");
    const unsigned obs = ars_obs_config_mask(c);
    char buf[512];
    if (obs != 0 && c->mode == ARS_MODE_EXACT) {
        return ars_ini_error(w,
                             "[observables] names: mode = exact computes the ground-state energy "
                             "only; measure observables in mode = sample or train (got %s)",
                             names_text(obs, buf, sizeof buf));
    }
    if ((obs & ARS_OBS_NEEDS_SPIN_HALF) != 0 && c->two_s != 1) {
        return ars_ini_error(w,
                             "[observables] names: sx and xx_correlation are implemented for spin "
                             "1/2 only (spin %g) (got %s)",
                             0.5 * c->two_s, names_text(obs, buf, sizeof buf));
    }
    if ((obs & ARS_OBS_NEEDS_INTEGER_SPIN) != 0 && c->two_s % 2 != 0) {
        return ars_ini_error(w,
                             "[observables] names: string_order is defined for integer spin only "
                             "(its string exp(i pi Sz) is (-1)^m) (spin %g) (got %s)",
                             0.5 * c->two_s, names_text(obs, buf, sizeof buf));
    }
    if ((obs & (1u << ARS_OBS_ENERGY)) && c->mode == ARS_MODE_SAMPLE &&
        !ars_config_key_given(c, "hamiltonian", "type")) {
        return ars_ini_error(w,
                             "[observables] names: energy needs a Hamiltonian: set [hamiltonian] "
                             "type (and its couplings) (got %s)",
                             names_text(obs, buf, sizeof buf));
    }
    if (obs & (1u << ARS_OBS_RENYI2)) {
        if (c->size < 2) {
            return ars_ini_error(w, "[observables] names: renyi2 needs size >= 2 (got size = %d)",
                                 c->size);
        }
        const int64_t n = c->mode == ARS_MODE_TRAIN ? c->final_samples : c->n_samples;
        if (n < 2) {
            return ars_ini_error(w,
                                 "[observables] names: renyi2 needs at least 2 samples (pairs of "
                                 "samples) (got %" PRId64 ")",
                                 n);
        }
    }
    return ARS_OK;
}

int ars_obs_config_any(const ars_config *c) {
    return ars_obs_config_mask(c) != 0 || c->n_obs_ops > 0 || c->obs_ops_file[0] != '\0';
}

int ars_obs_config_operators(const ars_config *c, ars_user_ops *u) {
    int rc = ARS_OK;
    for (int k = 0; k < c->n_obs_ops && rc == ARS_OK; k++) {
        char where[ARS_TERM_WHERE_MAX];
        ars_config_line_where(c, c->obs_op_line[k], "observables", "operator", where, sizeof where);
        rc = ars_user_ops_parse(u, c->obs_op[k], where);
    }
    if (rc == ARS_OK && c->obs_ops_file[0] != '\0') {
        char where[ARS_TERM_WHERE_MAX];
        ars_config_where(c, "observables", "operators_file", where, sizeof where);
        rc = ars_user_ops_read_file(u, c->obs_ops_file, where);
    }
    return rc;
}

/* The checks of the operators: every line now, with its FILE:LINE, before anything runs. */
static int check_operators(const ars_config *c) {
    if (c->n_obs_ops == 0 && c->obs_ops_file[0] == '\0') {
        return ARS_OK;
    }
    if (c->mode == ARS_MODE_EXACT) {
        return ars_ini_error(
            ars_config_key_where(c, "observables",
                                 c->n_obs_ops > 0 ? "operator" : "operators_file"),
            "[observables] %s: mode = exact computes the ground-state energy only; measure "
            "operators in mode = sample, train or evolve",
            c->n_obs_ops > 0 ? "operator" : "operators_file");
    }
    ars_user_ops u;
    ars_user_ops_init(&u);
    int rc = ars_obs_config_operators(c, &u);
    for (int k = 0; k < u.n && rc == ARS_OK; k++) {
        for (int b = 0; ars_obs_names[b] != NULL; b++) {
            if (strcmp(u.op[k].name, ars_obs_names[b]) == 0) {
                rc = ars_error_where(ARS_STATUS_ECONFIG, u.op[k].terms.t[0].where,
                                     "operator '%s': the name of a built-in observable (list it "
                                     "in [observables] names, or give the operator another name)",
                                     u.op[k].name);
                break;
            }
        }
    }
    if (rc == ARS_OK) {
        rc = ars_user_ops_check(&u, c->size, c->two_s, c->ham_pbc, c->phase_type != 0);
    }
    ars_user_ops_free(&u);
    return rc;
}

int ars_obs_config_check(ars_config *c) {
    int rc = check_names(c);
    if (rc == ARS_OK) {
        rc = check_operators(c);
    }
    if (rc != ARS_OK) {
        return rc;
    }
    if (c->n_renyi_cuts == 0) {
        c->renyi_cuts[0] = c->size / 2 > 0 ? c->size / 2 : 1;
        c->n_renyi_cuts = c->size >= 2 ? 1 : 0;
        return ARS_OK;
    }
    for (int i = 0; i < c->n_renyi_cuts; i++) {
        if (c->renyi_cuts[i] < 1 || c->renyi_cuts[i] >= c->size) {
            char buf[512];
            return ars_ini_error(
                ars_config_key_where(c, "observables", "renyi2_cuts"),
                "[observables] renyi2_cuts: every cut must be from 1 to size - 1 "
                "= %d (got %s)",
                c->size - 1, ars_config_list_text(c->renyi_cuts, c->n_renyi_cuts, buf, sizeof buf));
        }
    }
    return ARS_OK;
}
