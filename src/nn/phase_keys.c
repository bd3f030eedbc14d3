/*
 * phase_keys: the [phase] keys (nn/phase.h) and their checks.
 */
#include <stdio.h>
#include <string.h>

#include "config/config_key.h"
#include "nn/activation.h"
#include "nn/phase.h"

static const char *const phase_activation_names[] = {"selu", "tanh",     "relu",
                                                     "gelu", "identity", NULL};
_Static_assert(sizeof phase_activation_names / sizeof phase_activation_names[0] ==
                   ARS_ACTIVATION_IDENTITY + 2,
               "one name per ars_activation");

/* The keys of a phase network mean something only when there is one. */
static int phase_on(const ars_config *c) {
    return c->phase_type != 0;
}
#define PHASE_ONLY                                                                                 \
    .active = phase_on,                                                                            \
    .inactive = "only with a phase network, but type = none (set [phase] type = conv, or remove "  \
                "the key)"

/* "none", then the registry's types (index i + 1 is ars_phase_types[i]). */
static const char *phase_type_name_at(int i) {
    return i == 0 ? "none" : ars_phase_type_name_at(i - 1);
}

const ars_config_key ars_phase_keys[ARS_PHASE_NKEYS] = {
    {.section = "phase",
     .key = "type",
     .type = ARS_KEY_ENUM,
     .offset = ARS_CONFIG_OFF(phase_type),
     .name_at = phase_type_name_at,
     .def = "none",
     .help = "none (a real positive network, with the Marshall sign if set) or conv: a learnt "
             "phase psi = |psi| exp(i phi) from a separate centred convolution stack"},
    {.section = "phase",
     .key = "layers",
     PHASE_ONLY,
     .type = ARS_KEY_INT,
     .offset = ARS_CONFIG_OFF(phase_layers),
     .min = 1,
     .max = ARS_MAX_LAYERS,
     .def = "2",
     .help = "convolution layers of the phase network (the last has one output per site)"},
    {.section = "phase",
     .key = "features",
     PHASE_ONLY,
     .type = ARS_KEY_INT,
     .offset = ARS_CONFIG_OFF(phase_features),
     .min = 1,
     .max = 4096,
     .def = "8",
     .help = "features of the phase network's hidden layers"},
    {.section = "phase",
     .key = "kernel_size",
     PHASE_ONLY,
     .type = ARS_KEY_INT,
     .offset = ARS_CONFIG_OFF(phase_kernel_size),
     .min = 1,
     .max = 1024,
     .def = "5",
     .help = "kernel size K of every phase layer, centred: taps at (k - (K-1)/2) d, k < K"},
    {.section = "phase",
     .key = "kernel_dilation",
     PHASE_ONLY,
     .type = ARS_KEY_INTLIST,
     .offset = ARS_CONFIG_OFF(phase_dilation),
     .count_offset = ARS_CONFIG_OFF(phase_n_dilation),
     .min = 1,
     .max = 1000000,
     .def = "auto",
     .help = "dilation of every phase layer (one integer), one per layer, or auto: 1, K, K^2, "
             "... (at most size), gapless"},
    {.section = "phase",
     .key = "activation",
     PHASE_ONLY,
     .type = ARS_KEY_ENUM,
     .offset = ARS_CONFIG_OFF(phase_activation),
     .names = phase_activation_names,
     .def = "tanh",
     .help = "activation after every phase layer but the last"},
    {.section = "phase",
     .key = "site_phase",
     PHASE_ONLY,
     .type = ARS_KEY_BOOL,
     .offset = ARS_CONFIG_OFF(phase_site),
     .def = "true",
     .help = "add a learnt phase beta[t, s_t] per site and local state (position-dependent "
             "phases such as a Marshall-like sign or a gauge twist; docs/phase.md)"},
    {.section = "phase",
     .key = "jastrow",
     PHASE_ONLY,
     .type = ARS_KEY_BOOL,
     .offset = ARS_CONFIG_OFF(phase_jastrow),
     .def = "false",
     .help = "add a two-body phase sum_r w_r sum_t v_t v_{t+r} of every distance r, starting "
             "at 0 (the phase a quench builds first; docs/phase.md)"},
};

int ars_phase_auto_dilation(int l, int K, int L) {
    long d = 1;
    for (int j = 0; j < l && d < L; j++) {
        d *= K > 1 ? K : 2;
    }
    return (int)(d < L ? d : (L > 1 ? L : 1));
}

void ars_config_phase_arch(const ars_config *c, ars_phase_arch *arch) {
    memset(arch, 0, sizeof *arch);
    arch->size = c->size;
    arch->local_size = c->two_s + 1;
    arch->pbc = c->ham_pbc;
    arch->layers = c->phase_layers;
    arch->features = c->phase_features;
    arch->kernel_size = c->phase_kernel_size;
    for (int l = 0; l < c->phase_layers; l++) {
        arch->dilation[l] = c->phase_n_dilation == 0
                                ? ars_phase_auto_dilation(l, c->phase_kernel_size, c->size)
                                : c->phase_dilation[c->phase_n_dilation > 1 ? l : 0];
    }
    arch->activation = (ars_activation)c->phase_activation;
    arch->site_phase = c->phase_site;
    arch->jastrow = c->phase_jastrow;
}

const ars_phase_type *ars_config_phase_type(const ars_config *c) {
    return c->phase_type == 0 ? NULL : ars_phase_types[c->phase_type - 1];
}

int ars_phase_config_check(const ars_config *c) {
    if (c->phase_type == 0) {
        return ARS_OK; /* its other keys were refused as inactive */
    }
    if (c->phase_n_dilation > 1 && c->phase_n_dilation != c->phase_layers) {
        char buf[512];
        return ars_ini_error(
            ars_config_key_where(c, "phase", "kernel_dilation"),
            "[phase] kernel_dilation: a list must have one entry per layer "
            "(layers = %d) (got %d entries: %s)",
            c->phase_layers, c->phase_n_dilation,
            ars_config_list_text(c->phase_dilation, c->phase_n_dilation, buf, sizeof buf));
    }
    ars_phase_arch arch;
    ars_config_phase_arch(c, &arch);
    char why[256];
    if (ars_phase_arch_check(&arch, why, sizeof why) != 0) {
        return ars_ini_error(ars_config_key_where(c, "phase", "type"), "[phase]: %s", why);
    }
    return ARS_OK;
}
