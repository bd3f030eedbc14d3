/*
 * vmc_keys: the [vmc] keys of training and its schedules (ars_vmc_keys), and of keeping and
 * finishing a run (ars_vmc_run_keys); the optimizers' hyperparameters between them are the
 * optimizer module's own (opt/optimizer_keys.c). The optimizer names come from the registry
 * ars_opt_types (config index = registry index).
 */
#include <stddef.h>

#include "config/config_key.h"
#include "config/ini.h"
#include "core/ars_common.h"
#include "nn/arnn.h"
#include "space/symmetry.h"
#include "opt/optimizer.h"

static const char *const schedule_names[] = {"constant", "exponential", NULL};
_Static_assert(sizeof schedule_names / sizeof schedule_names[0] == ARS_SCHEDULE_EXPONENTIAL + 2,
               "one name per ars_schedule");

static const char *const dtype_names[] = {"float64", "float32", NULL};
_Static_assert(sizeof dtype_names / sizeof dtype_names[0] == ARS_DTYPE_FLOAT32 + 2,
               "one name per ars_dtype");

/* sr_dtype means something only with SR. */
static int sr_on(const ars_config *c) {
    return c->sr;
}

/* eloc_dtype is the training iterations'. */
static int training(const ars_config *c) {
    return c->mode == ARS_MODE_TRAIN;
}

/* max_step bounds the natural-gradient step taken as it is (sgd, spring), not adam's. */
static int sr_step_taken(const ars_config *c) {
    return c->sr && ars_opt_types[c->optimizer] != ars_opt_adam;
}

/* phase_learning_rate_factor scales the steps of a phase network. */
static int has_phase(const ars_config *c) {
    return ars_config_phase_type(c) != NULL;
}

/* symmetry_penalty_group names the group of a penalty that is switched on. */
static int penalised(const ars_config *c) {
    return c->sym_penalty > 0.0;
}

/* The name of optimizer i in ars_opt_types, NULL past the last. */
static const char *optimizer_name(int i) {
    return ars_opt_types[i] != NULL ? ars_opt_types[i]->name : NULL;
}

#define VMC_DKEY(name, field, lo, hi, d, h)                                                        \
    {                                                                                              \
        .section = "vmc", .key = (name), .type = ARS_KEY_DOUBLE, .offset = ARS_CONFIG_OFF(field),  \
        .def = (d), .help = (h), .dmin = (lo), .dmax = (hi)                                        \
    }
#define VMC_SCHEDULE(name, field, h)                                                               \
    {                                                                                              \
        .section = "vmc", .key = (name), .type = ARS_KEY_ENUM, .offset = ARS_CONFIG_OFF(field),    \
        .names = schedule_names, .def = "constant", .help = (h)                                    \
    }

const ars_config_key ars_vmc_keys[ARS_VMC_NKEYS] = {
    {.section = "vmc",
     .key = "iterations",
     .type = ARS_KEY_INT,
     .offset = ARS_CONFIG_OFF(iterations),
     .min = 0,
     .max = 100000000,
     .def = "1000",
     .help = "total VMC iterations (with --resume: continue until this many)"},
    {.section = "vmc",
     .key = "optimizer",
     .type = ARS_KEY_ENUM,
     .offset = ARS_CONFIG_OFF(optimizer),
     .name_at = optimizer_name,
     .def = "sgd", /* with the SR default: docs/results.md, "Choosing the defaults" */
     .help = "sgd or adam, applied to the gradient (or to the natural gradient with sr = true), "
             "or spring (SR with momentum: needs sr = true)"},
    VMC_DKEY("learning_rate", learning_rate, 0.0, 1e6, "0.05", "step size"),
    VMC_SCHEDULE("learning_rate_schedule", lr_schedule,
                 "constant, or exponential: lr * decay^iteration, not below learning_rate_min"),
    VMC_DKEY("learning_rate_decay", lr_decay, 0.0, 1.0, "1.0",
             "per-iteration factor of the exponential schedule"),
    VMC_DKEY("learning_rate_min", lr_min, 0.0, 1e6, "0.0", "floor of the schedule"),
    {.section = "vmc",
     .key = "sr",
     .type = ARS_KEY_BOOL,
     .offset = ARS_CONFIG_OFF(sr),
     .def = "true",
     .help = "stochastic reconfiguration (natural gradient): solve (S + diag_shift I) x = F"},
    VMC_DKEY("diag_shift", diag_shift, 0.0, 1e6, "0.01", "SR regularisation added to S"),
    {.section = "vmc",
     .key = "sr_dtype",
     .type = ARS_KEY_ENUM,
     .offset = ARS_CONFIG_OFF(sr_dtype),
     .names = dtype_names,
     .def = "float64",
     .help = "precision of the SR matrix's products: float32 computes S (or the sample-space "
             "T) twice as fast, within the tolerance docs/performance.md states; the "
             "centring's sums and the solve stay float64, the products with the centred O read "
             "its float32 copy with float64 sums",
     .active = sr_on,
     .inactive = "only with [vmc] sr = true (remove the key)"},
    {.section = "vmc",
     .key = "eloc_dtype",
     .type = ARS_KEY_ENUM,
     .offset = ARS_CONFIG_OFF(eloc_dtype),
     .names = dtype_names,
     .def = "float64",
     .help = "precision of the network passes behind the training iterations' local energies "
             "(the ratio windows): float32 runs them at twice the vector width; the ratios "
             "move by about 1e-6 of themselves (docs/performance.md); the final estimate and "
             "every reported energy after training stay float64",
     .active = training,
     .inactive = "only with [run] mode = train (remove the key)"},
    {.section = "vmc",
     .key = "max_step",
     .type = ARS_KEY_DOUBLE,
     .offset = ARS_CONFIG_OFF(max_step),
     .def = "0",
     .dmin = 0.0,
     .dmax = 1e6,
     .help = "trust region of SR: a step whose Fubini-Study length lr sqrt(x^T S x) (the rms "
             "change of log psi over the samples, /vmc/step_length) exceeds this is scaled down "
             "to it; 0: no bound",
     .active = sr_step_taken,
     .inactive = "only with [vmc] sr = true and optimizer sgd or spring (remove the key)"},
    {.section = "vmc",
     .key = "phase_learning_rate_factor",
     .type = ARS_KEY_DOUBLE,
     .offset = ARS_CONFIG_OFF(phase_lr_factor),
     .def = "1",
     .dmin = 0.0,
     .dmax = 1e6,
     .help = "the phase network's parameters move this many times as far as the optimizer's "
             "step (the modulus's, schedules included): a separate time step for the phase; 0 "
             "freezes it",
     .active = has_phase,
     .inactive = "only with a phase network ([phase] type = conv; remove the key)"},
    {.section = "vmc",
     .key = "symmetry_penalty",
     .type = ARS_KEY_DOUBLE,
     .offset = ARS_CONFIG_OFF(sym_penalty),
     .def = "0",
     .dmin = 0.0,
     .dmax = 1e6,
     .help = "lambda: training minimises <H> + lambda (1 - <P_G>), P_G the projector onto the "
             "states that symmetry_penalty_group leaves invariant, which keeps the state out of "
             "other symmetry sectors (their levels lie lambda higher); costs |G| - 1 network "
             "evaluations per sample; the energies logged are <H>'s; 0: none",
     .active = training,
     .inactive = "only with [run] mode = train (remove the key)"},
    {.section = "vmc",
     .key = "symmetry_penalty_group",
     .type = ARS_KEY_NAMES,
     .offset = ARS_CONFIG_OFF(sym_penalty_group),
     .names = ars_sym_generator_names,
     .aliases = ars_sym_aliases,
     .def = "none",
     .help = "the group of symmetry_penalty's projector, generated by the listed symmetries as "
             "[model] symmetrize's: spin_flip, reflection, translation (of a ring)",
     .active = penalised,
     .inactive = "only with [vmc] symmetry_penalty > 0 (remove the key)"},
    {.section = "vmc",
     .key = "projected_estimate",
     .type = ARS_KEY_NAMES,
     .offset = ARS_CONFIG_OFF(projected_group),
     .names = ars_sym_generator_names,
     .aliases = ars_sym_aliases,
     .def = "none",
     .help = "the final estimate also gives the energy of the projected state P_G psi, G the "
             "group generated by the listed symmetries (spin_flip, reflection, translation), "
             "from the same samples: E_P = Re <P_loc^* E_loc> / <P_loc>, with its error, and "
             "<P_G>; needs a Hamiltonian invariant under G; costs |G| - 1 network evaluations "
             "per final sample",
     .active = training,
     .inactive = "only with [run] mode = train (remove the key)"},
    VMC_SCHEDULE("diag_shift_schedule", ds_schedule,
                 "constant, or exponential: diag_shift * decay^iteration, not below the min"),
    VMC_DKEY("diag_shift_decay", ds_decay, 0.0, 1.0, "1.0",
             "per-iteration factor of the exponential schedule"),
    VMC_DKEY("diag_shift_min", ds_min, 0.0, 1e6, "0.0", "floor of the schedule"),
};

const ars_config_key ars_vmc_run_keys[ARS_VMC_RUN_NKEYS] = {
    {.section = "vmc",
     .key = "checkpoint_every",
     .type = ARS_KEY_INT,
     .offset = ARS_CONFIG_OFF(checkpoint_every),
     .min = 1,
     .max = 100000000,
     .def = "50",
     .help = "write the output file (variables, optimiser state, log) every this many "
             "iterations"},
    {.section = "vmc",
     .key = "final_samples",
     .type = ARS_KEY_INT64,
     .offset = ARS_CONFIG_OFF(final_samples),
     .min = 1,
     .max = INT64_C(1000000000),
     .def = "16384",
     .help = "fresh samples of the trained state for the final energy estimate (and /samples)"},
    VMC_DKEY("distinct_warn", distinct_warn, 0.0, 1.0, "0.05",
             "warn when the fraction of distinct samples falls below this times the largest "
             "possible, min(1, states / n_samples) (SR stalls); 0: never"),
    VMC_DKEY("stall_warn", stall_warn, 0.0, 1.0, "0.005",
             "warn when the energy is flat for 50 iterations at a relative error above this "
             "(or a V-score above 0.05 without a reference); 0: never"),
};

/* A group named by `key` acts on the chain and its sector: translation needs a ring, the spin
 * flip total_sz = 0 or none. */
static int check_group(const ars_config *c, const char *key, ars_sym g) {
    if ((g & ARS_SYM_TRANSLATION) && !c->ham_pbc) {
        return ars_ini_error(ars_config_key_where(c, "vmc", key),
                             "[vmc] %s: translation needs a ring, but the chain is open "
                             "([hamiltonian] pbc = false) (got %s)",
                             key, ars_sym_name(g));
    }
    if ((g & ARS_SYM_SPIN_FLIP) && c->two_m != 0 && c->two_m != ARS_CONFIG_NO_SECTOR) {
        return ars_ini_error(ars_config_key_where(c, "vmc", key),
                             "[vmc] %s: the spin flip maps total_sz %g to %g, so %s needs "
                             "[system] total_sz = 0 or none",
                             key, 0.5 * c->two_m, -0.5 * c->two_m, ars_sym_name(g));
    }
    return ARS_OK;
}

int ars_vmc_config_check(const ars_config *c) {
    if (c->sym_penalty > 0.0) {
        const ars_sym g = (ars_sym)c->sym_penalty_group;
        if (g == ARS_SYM_NONE) {
            return ars_ini_error(ars_config_key_where(c, "vmc", "symmetry_penalty"),
                                 "[vmc] symmetry_penalty: needs a group, [vmc] "
                                 "symmetry_penalty_group = a list of spin_flip, reflection, "
                                 "translation (got %g with none)",
                                 c->sym_penalty);
        }
        const int rc = check_group(c, "symmetry_penalty_group", g);
        if (rc != ARS_OK) {
            return rc;
        }
    }
    const int rc = check_group(c, "projected_estimate", (ars_sym)c->projected_group);
    if (rc != ARS_OK || !c->projection) {
        return rc;
    }
    /* What the projected state (vmc/projected.h) does not do yet. */
    const char *why = NULL;
    if (c->mode != ARS_MODE_TRAIN) {
        why = "only with [run] mode = train (sampling and evolving the projected state are not "
              "implemented)";
    } else if (ars_opt_types[c->optimizer]->prior != NULL) {
        why = "not with [vmc] optimizer = spring (use sgd or adam)";
    } else if (c->phase_lr_factor != 1.0) {
        why = "not with [vmc] phase_learning_rate_factor (its SR is not block diagonal)";
    } else if (c->sym_penalty > 0.0) {
        why = "not with [vmc] symmetry_penalty (the projected state is symmetric already)";
    } else if (c->eloc_dtype != ARS_DTYPE_FLOAT64) {
        why = "only with [vmc] eloc_dtype = float64";
    } else if (c->projected_group != ARS_SYM_NONE) {
        why = "not with [vmc] projected_estimate (the final estimate is the projected state's)";
    } else if (ars_obs_config_any(c)) {
        why = "not with [observables] (the observables of the projected state are not "
              "implemented)";
    }
    if (why != NULL) {
        return ars_ini_error(ars_config_key_where(c, "model", "projection"),
                             "[model] projection: %s", why);
    }
    return ARS_OK;
}
