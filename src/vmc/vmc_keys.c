/*
 * vmc_keys: the [vmc] keys of training and its schedules (ars_vmc_keys), and of keeping and
 * finishing a run (ars_vmc_run_keys); the optimizers' hyperparameters between them are the
 * optimizer module's own (opt/optimizer_keys.c). The optimizer names come from the registry
 * ars_opt_types (config index = registry index).
 */
#include <stddef.h>

#include "config/config_key.h"
#include "nn/arnn.h"
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
