/*
 * arnn_keys: the [model] keys and the checks of the network's shape.
 */
#include "config/config_key.h"
#include "nn/activation.h"
#include "nn/arnn.h"
#include "space/symmetry.h"

/* Parameter count above which a config is refused (8 GB of float64). */
#define CONFIG_MAX_PARAMS ((size_t)1000000000)

static const char *const activation_names[] = {"selu", "tanh", "relu", "gelu", "identity", NULL};
_Static_assert(sizeof activation_names / sizeof activation_names[0] == ARS_ACTIVATION_IDENTITY + 2,
               "one name per ars_activation");
static const char *const input_names[] = {"value", "onehot", NULL};
_Static_assert(sizeof input_names / sizeof input_names[0] == ARS_INPUT_ONEHOT + 2,
               "one name per ars_input");
static const char *const dtype_names[] = {"float64", "float32", NULL};
_Static_assert(sizeof dtype_names / sizeof dtype_names[0] == ARS_DTYPE_FLOAT32 + 2,
               "one name per ars_dtype");

const ars_config_key ars_arnn_keys[ARS_ARNN_NKEYS] = {
    {.section = "model",
     .key = "layers",
     .type = ARS_KEY_INT,
     .offset = ARS_CONFIG_OFF(layers),
     .min = 1,
     .max = ARS_MAX_LAYERS,
     .def = "3",
     .help = "number of masked convolution layers"},
    {.section = "model",
     .key = "features",
     .type = ARS_KEY_INTLIST,
     .offset = ARS_CONFIG_OFF(features),
     .count_offset = ARS_CONFIG_OFF(n_features),
     .min = 1,
     .max = 4096,
     .def = "16",
     .help = "features of the hidden layers (one integer), or a list of `layers` integers whose "
             "last is local_size"},
    {.section = "model",
     .key = "kernel_size",
     .type = ARS_KEY_INT,
     .offset = ARS_CONFIG_OFF(kernel_size),
     .min = 2,
     .max = 1024,
     .def = "3",
     .help = "kernel size K of every layer (the first, exclusive layer has K-1 taps)"},
    {.section = "model",
     .key = "kernel_dilation",
     .type = ARS_KEY_INTLIST,
     .offset = ARS_CONFIG_OFF(dilation),
     .count_offset = ARS_CONFIG_OFF(n_dilation),
     .min = 1,
     .max = 1000000,
     .def = "auto",
     .help = "dilation of every layer (one integer), a list with one per layer, or auto: 1, "
             "K-1, (K-1)K, (K-1)K^2, ... (at most size), whose receptive field (K-1)K^(layers-1) "
             "has no gaps"},
    {.section = "model",
     .key = "activation",
     .type = ARS_KEY_ENUM,
     .offset = ARS_CONFIG_OFF(activation),
     .names = activation_names,
     .def = "selu",
     .help = "activation before every layer but the first: selu, tanh, relu, gelu (tanh form), "
             "identity"},
    {.section = "model",
     .key = "use_bias",
     .type = ARS_KEY_BOOL,
     .offset = ARS_CONFIG_OFF(use_bias),
     .def = "true",
     .help = "whether every layer has a bias"},
    {.section = "model",
     .key = "feature_group_count",
     .type = ARS_KEY_INT,
     .offset = ARS_CONFIG_OFF(feature_group_count),
     .min = 1,
     .max = 4096,
     .def = "1",
     .help = "feature groups of the hidden-to-hidden layers (must divide their features)"},
    {.section = "model",
     .key = "input",
     .type = ARS_KEY_ENUM,
     .offset = ARS_CONFIG_OFF(input),
     .names = input_names,
     .def = "value",
     .help = "network input: value (NetKet's: 2*Sz as one feature) or onehot (local_size "
             "features)"},
    {.section = "model",
     .key = "symmetrize",
     .type = ARS_KEY_ENUM,
     .offset = ARS_CONFIG_OFF(symmetrize),
     .names = ars_sym_names,
     .def = "none",
     .help = "the symmetrised state p_sym(s) = mean_g p(g s) over the global spin flip, the "
             "reflection of the chain, or both, sampled exactly (draw s, apply a random g); costs "
             "|G| = 2 or 4 network evaluations per sample"},
    {.section = "model",
     .key = "dtype",
     .type = ARS_KEY_ENUM,
     .offset = ARS_CONFIG_OFF(dtype),
     .names = dtype_names,
     .def = "float64",
     .help = "arithmetic of sampling: float64 (the reference) or float32 (cached sampler, about "
             "twice as fast; conditionals agree with float64 to about 1e-6)"},
    {.section = "model",
     .key = "init",
     .type = ARS_KEY_STRING,
     .offset = ARS_CONFIG_OFF(init),
     .def = "random",
     .help = "random (LeCun normal kernels, zero biases, from the seed) or an arsampler HDF5 "
             "file"},
};

int ars_arnn_config_check_lists(const ars_config *c) {
    const int D = c->two_s + 1;
    char buf[512];
    if (c->n_features > 1 && c->n_features != c->layers) {
        return ars_ini_error(ars_config_key_where(c, "model", "features"),
                             "[model] features: a list must have one entry per layer (layers = "
                             "%d) (got %d entries: %s)",
                             c->layers, c->n_features,
                             ars_config_list_text(c->features, c->n_features, buf, sizeof buf));
    }
    if (c->n_features > 1 && c->features[c->layers - 1] != D) {
        return ars_ini_error(ars_config_key_where(c, "model", "features"),
                             "[model] features: the last entry must equal local_size = %d for "
                             "spin %g (got %d)",
                             D, 0.5 * c->two_s, c->features[c->layers - 1]);
    }
    if (c->n_dilation > 1 && c->n_dilation != c->layers) {
        return ars_ini_error(ars_config_key_where(c, "model", "kernel_dilation"),
                             "[model] kernel_dilation: a list must have one entry per layer "
                             "(layers = %d) (got %d entries: %s)",
                             c->layers, c->n_dilation,
                             ars_config_list_text(c->dilation, c->n_dilation, buf, sizeof buf));
    }
    if (c->feature_group_count > 1 && c->layers < 3) {
        return ars_ini_error(ars_config_key_where(c, "model", "feature_group_count"),
                             "[model] feature_group_count: applies to hidden-to-hidden layers "
                             "only, which need layers >= 3 (got %d with layers = %d)",
                             c->feature_group_count, c->layers);
    }
    return ARS_OK;
}

int ars_arnn_config_check_arch(const ars_config *c) {
    ars_arch arch;
    ars_config_arch(c, &arch);
    for (int l = 1; l < arch.layers - 1; l++) {
        int g = c->feature_group_count;
        if (arch.features[l - 1] % g != 0 || arch.features[l] % g != 0) {
            return ars_ini_error(ars_config_key_where(c, "model", "feature_group_count"),
                                 "[model] feature_group_count: must divide the features of the "
                                 "hidden layers (layer %d: %d -> %d) (got %d)",
                                 l, arch.features[l - 1], arch.features[l], g);
        }
    }
    char why[256];
    ARS_ASSERT(ars_arch_check(&arch, why, sizeof why) == 0, "%s", why);
    const size_t n_params = ars_arch_n_params(&arch);
    if (n_params > CONFIG_MAX_PARAMS) {
        char buf[512];
        return ars_ini_error(ars_config_key_where(c, "model", "features"),
                             "[model] features: the network would have %zu parameters (%.1f GB); "
                             "at most %.0e are accepted (got %s)",
                             n_params, 8e-9 * (double)n_params, (double)CONFIG_MAX_PARAMS,
                             ars_config_list_text(c->features, c->n_features, buf, sizeof buf));
    }
    return ARS_OK;
}
