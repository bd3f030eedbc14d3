/*
 * hamiltonian_keys: the [hamiltonian] keys and the checks of what the Hamiltonians support.
 */
#include "config/config_key.h"
#include "ops/hamiltonian.h"

static const char *const ham_names[] = {"tfim", "xxz", "heisenberg", "j1j2", NULL};
_Static_assert(sizeof ham_names / sizeof ham_names[0] == ARS_HAM_J1J2 + 2,
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
     .help = "tfim: -J sum sz sz - h sum sx; xxz: J sum (sx sx + sy sy + Delta sz sz); "
             "heisenberg: xxz with Delta = 1; j1j2: J and J2 Heisenberg bonds (Pauli matrices)"},
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
     .help = "the exact ground-state energy for relative errors: auto (computed when cheap: tfim "
             "always, others by Lanczos up to size 20) or a number",
     .dmin = -1e12,
     .dmax = 1e12},
};

int ars_ham_config_check(const ars_config *c) {
    if (c->mode != ARS_MODE_TRAIN && c->mode != ARS_MODE_EXACT) {
        return ARS_OK;
    }
    const char *mode = ars_run_mode_names[c->mode];
    if (!ars_config_key_given(c, "hamiltonian", "type")) {
        return ars_ini_error(ars_config_key_where(c, "run", "mode"),
                             "[run] mode: %s needs a Hamiltonian: set [hamiltonian] type (tfim, "
                             "xxz, heisenberg or j1j2) (got %s)",
                             mode, mode);
    }
    if (c->two_s != 1) {
        return ars_ini_error(ars_config_key_where(c, "system", "spin"),
                             "[system] spin: the Hamiltonians are implemented for spin 1/2 only "
                             "(mode = %s) (got %g)",
                             mode, 0.5 * c->two_s);
    }
    return ARS_OK;
}
