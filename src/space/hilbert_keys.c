/*
 * hilbert_keys: the [system] keys and the checks of the total_sz sector.
 */
#include "config/config_key.h"
#include "ops/hamiltonian.h"
#include "space/hilbert.h"
#include "space/symmetry.h"
#include "vmc/observables.h"

const ars_config_key ars_hilbert_keys[ARS_HILBERT_NKEYS] = {
    {.section = "system",
     .key = "size",
     .type = ARS_KEY_INT,
     .offset = ARS_CONFIG_OFF(size),
     .min = 1,
     .max = 1000000,
     .def = "16",
     .help = "number of sites L"},
    {.section = "system",
     .key = "spin",
     .type = ARS_KEY_SPIN,
     .offset = ARS_CONFIG_OFF(two_s),
     .def = "0.5",
     .help = "spin S (0.5, 1, 1.5, ... up to 63); local states are 2*Sz = -2S, -2S+2, ..., 2S"},
    {.section = "system",
     .key = "total_sz",
     .type = ARS_KEY_SZ,
     .offset = ARS_CONFIG_OFF(two_m),
     .def = "none",
     .help = "none, or a fixed total magnetisation sum_t Sz_t (a multiple of 0.5 reachable on "
             "the chain): sampling and log_psi use prefix-masked conditionals, exactly "
             "normalised over the sector"},
};

int ars_hilbert_config_check(const ars_config *c) {
    if (c->two_m == ARS_CONFIG_NO_SECTOR) {
        return ARS_OK;
    }
    ars_hilbert h;
    ars_hilbert_init(&h, c->size, c->two_s);
    const long span = (long)c->size * c->two_s;
    if (!ars_hilbert_sector_reachable(&h, c->two_m)) {
        return ars_ini_error(ars_config_key_where(c, "system", "total_sz"),
                             "[system] total_sz: not reachable with %d sites of spin %g: it must "
                             "be one of -%g, -%g, ..., %g (got %g)",
                             c->size, 0.5 * c->two_s, 0.5 * (double)span, 0.5 * (double)span - 1.0,
                             0.5 * (double)span, 0.5 * c->two_m);
    }
    if ((c->symmetrize & ARS_SYM_SPIN_FLIP) && c->two_m != 0) {
        return ars_ini_error(ars_config_key_where(c, "model", "symmetrize"),
                             "[model] symmetrize: the spin flip maps total_sz %g to %g, so %s "
                             "needs total_sz = 0 or none (got %s)",
                             0.5 * c->two_m, -0.5 * c->two_m, ars_sym_name((ars_sym)c->symmetrize),
                             ars_sym_name((ars_sym)c->symmetrize));
    }
    const int uses_h = c->mode == ARS_MODE_TRAIN || c->mode == ARS_MODE_EXACT ||
                       (ars_obs_config_mask(c) & (1u << ARS_OBS_ENERGY)) != 0;
    if (uses_h && c->ham_type == ARS_HAM_TFIM) {
        return ars_ini_error(ars_config_key_where(c, "system", "total_sz"),
                             "[system] total_sz: tfim does not conserve the total Sz (its field "
                             "flips single spins), so its ground state has no fixed total_sz; use "
                             "total_sz = none (got %g)",
                             0.5 * c->two_m);
    }
    return ARS_OK;
}
