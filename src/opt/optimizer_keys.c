/*
 * optimizer_keys: the [vmc] keys of the optimizers' hyperparameters, one per ars_opt_hyper in
 * that order, named as ars_opt_hyper_names (checked in ars_config_defaults), stored in
 * ars_config.opt_hyper. A type reads those of its hyper_mask (optimizer.h); a new
 * hyperparameter is a row in ars_opt_hyper, its name and a row here.
 */
#include "config/config_key.h"
#include "opt/optimizer.h"

#define OPT_DKEY(h, name, lo, hi, d, help_)                                                        \
    {                                                                                              \
        .section = "vmc", .key = (name), .type = ARS_KEY_DOUBLE,                                   \
        .offset = ARS_CONFIG_OFF(opt_hyper[h]), .def = (d), .help = (help_), .dmin = (lo),         \
        .dmax = (hi)                                                                               \
    }

const ars_config_key ars_opt_keys[ARS_OPT_NKEYS] = {
    OPT_DKEY(ARS_OPT_BETA1, "beta1", 0.0, 0.999999, "0.9", "Adam first-moment decay"),
    OPT_DKEY(ARS_OPT_BETA2, "beta2", 0.0, 0.999999999, "0.999", "Adam second-moment decay"),
    OPT_DKEY(ARS_OPT_EPSILON, "epsilon", 0.0, 1.0, "1e-8", "Adam epsilon"),
};
