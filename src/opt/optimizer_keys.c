/*
 * optimizer_keys: the [vmc] keys of the optimizers' hyperparameters, one per ars_opt_hyper in
 * that order, named as ars_opt_hyper_names (checked in ars_config_defaults), stored in
 * ars_config.opt_hyper, and the optimizers' cross-key check. A type reads those of its
 * hyper_mask (optimizer.h); a new hyperparameter is a row in ars_opt_hyper, its name and a row
 * here.
 */
#include "config/config_key.h"
#include "config/ini.h"
#include "core/ars_common.h"
#include "opt/optimizer.h"

#define OPT_DKEY(h, name, lo, hi, d, help_)                                                        \
    {                                                                                              \
        .section = "vmc", .key = (name), .type = ARS_KEY_DOUBLE,                                   \
        .offset = ARS_CONFIG_OFF(opt_hyper[h]), .def = (d), .help = (help_), .dmin = (lo),         \
        .dmax = (hi)                                                                               \
    }

/* momentum means something only to an optimizer that reads it. */
static int momentum_read(const ars_config *c) {
    return ars_opt_type_reads(ars_opt_types[c->optimizer], ARS_OPT_MOMENTUM);
}

const ars_config_key ars_opt_keys[ARS_OPT_NKEYS] = {
    OPT_DKEY(ARS_OPT_BETA1, "beta1", 0.0, 0.999999, "0.9", "Adam first-moment decay"),
    OPT_DKEY(ARS_OPT_BETA2, "beta2", 0.0, 0.999999999, "0.999", "Adam second-moment decay"),
    OPT_DKEY(ARS_OPT_EPSILON, "epsilon", 0.0, 1.0, "1e-8", "Adam epsilon"),
    {.section = "vmc",
     .key = "momentum",
     .type = ARS_KEY_DOUBLE,
     .offset = ARS_CONFIG_OFF(opt_hyper[ARS_OPT_MOMENTUM]),
     .def = "0.9",
     .help = "SPRING's decay of the last direction in the SR regulariser (0: plain SR)",
     .dmin = 0.0,
     .dmax = 0.999999,
     .active = momentum_read,
     .inactive = "only with [vmc] optimizer = spring (remove the key)"},
};

int ars_opt_config_check(const ars_config *c) {
    const ars_opt_type *t = ars_opt_types[c->optimizer];
    if (c->mode == ARS_MODE_TRAIN && t->prior != NULL && !c->sr) {
        return ars_ini_error(ars_config_key_where(c, "vmc", "sr"),
                             "[vmc] optimizer = %s regularises the SR solve, so it needs sr = true",
                             t->name);
    }
    return ARS_OK;
}
