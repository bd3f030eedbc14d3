/*
 * observables_keys: the [observables] keys, their checks and the derived renyi2 cuts.
 */
#include <inttypes.h>
#include <string.h>

#include "config/config_key.h"
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
             "xx_correlation, energy, renyi2 (docs/analysis.md)"},
    {.section = "observables",
     .key = "renyi2_cuts",
     .type = ARS_KEY_INTLIST,
     .offset = ARS_CONFIG_OFF(renyi_cuts),
     .count_offset = ARS_CONFIG_OFF(n_renyi_cuts),
     .min = 1,
     .max = 1000000,
     .def = "auto",
     .help = "renyi2: the sizes l of the subsystems [0, l), 1 <= l < size; auto = size/2"},
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

/* The checks of [observables] names. */
static int check_names(const ars_config *c) {
    const ars_ini_where w = ars_config_key_where(c, "observables", "names");
    const unsigned obs = (unsigned)c->obs_mask;
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

int ars_obs_config_check(ars_config *c) {
    int rc = check_names(c);
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
