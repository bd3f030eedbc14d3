/*
 * config: a strict INI parser and the table of arsampler's configuration keys.
 * See config.h for the syntax and the error format.
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"
#include "ops/hamiltonian.h"
#include "vmc/observables.h"
#include "sample/sampler.h"

/* Largest config file read (a config is a few hundred bytes; this stops binary garbage). */
#define CONFIG_MAX_BYTES (1 << 20)
/* Parameter count above which a config is refused (8 GB of float64). */
#define CONFIG_MAX_PARAMS ((size_t)1000000000)
/* Workspace memory above which a config is refused as a likely typo. */
#define CONFIG_MAX_WS_BYTES ((size_t)32 << 30)

typedef enum key_type {
    KEY_INT,         /* int in [min, max] */
    KEY_INT64,       /* int64_t in [min, max] */
    KEY_UINT64,      /* any uint64_t */
    KEY_SPIN,        /* a positive multiple of 1/2, stored as 2S in an int */
    KEY_BOOL,        /* true/false, yes/no, on/off, 1/0 */
    KEY_ENUM,        /* one of names[], stored as its index in an int */
    KEY_STRING,      /* non-empty text up to ARS_PATH_MAX - 1 bytes */
    KEY_INTLIST,     /* one int, or a comma-separated list of at most ARS_MAX_LAYERS ints */
    KEY_DOUBLE,      /* a finite decimal number in [dmin, dmax] */
    KEY_DOUBLE_AUTO, /* "auto" (stored as NaN) or a KEY_DOUBLE */
    KEY_NAMES,       /* none, all, or a comma-separated list of names[]: a bit mask in an int */
    KEY_SZ,          /* none (ARS_CONFIG_NO_SECTOR) or a multiple of 1/2, stored doubled */
} key_type;

typedef struct key_spec {
    const char *section;
    const char *key;
    key_type type;
    size_t offset;            /* of the value in ars_config */
    size_t count_offset;      /* KEY_INTLIST: of the int that counts the entries */
    int64_t min, max;         /* KEY_INT, KEY_INT64, KEY_INTLIST entries */
    const char *const *names; /* KEY_ENUM, NULL-terminated */
    const char *def;          /* default, as text */
    const char *help;
    double dmin, dmax; /* KEY_DOUBLE, KEY_DOUBLE_AUTO */
} key_spec;

static const char *const mode_names[] = {"sample", "train", "exact", NULL};
static const char *const ham_names[] = {"tfim", "xxz", "heisenberg", "j1j2", NULL};
static const char *const optimizer_names[] = {"sgd", "adam", NULL};
static const char *const schedule_names[] = {"constant", "exponential", NULL};
static const char *const activation_names[] = {"selu", "tanh", "relu", "gelu", "identity", NULL};
static const char *const input_names[] = {"value", "onehot", NULL};
static const char *const dtype_names[] = {"float64", "float32", NULL};
static const char *const algorithm_names[] = {"cached", "full", NULL};
static const char *const section_names[] = {
    "run", "system", "model", "sampler", "hamiltonian", "vmc", "observables", "output", NULL};

#define OFF(field) offsetof(ars_config, field)

/* The public interface: section and key names, defaults and ranges. Order = dump order. */
static const key_spec keys[] = {
    {"run", "mode", KEY_ENUM, OFF(mode), 0, 0, 0, mode_names, "sample",
     "sample: draw exact samples; train: variational Monte Carlo towards the ground state of "
     "[hamiltonian]; exact: the exact ground-state energy of [hamiltonian] (free fermions or "
     "Lanczos)",
     0, 0},
    {"run", "threads", KEY_INT, OFF(threads), 0, 0, 4096, NULL, "0",
     "OpenMP threads; 0 = OMP_NUM_THREADS or all cores (results do not depend on it)", 0, 0},
    {"system", "size", KEY_INT, OFF(size), 0, 1, 1000000, NULL, "16", "number of sites L", 0, 0},
    {"system", "spin", KEY_SPIN, OFF(two_s), 0, 0, 0, NULL, "0.5",
     "spin S (0.5, 1, 1.5, ... up to 63); local states are 2*Sz = -2S, -2S+2, ..., 2S", 0, 0},
    {"system", "total_sz", KEY_SZ, OFF(two_m), 0, 0, 0, NULL, "none",
     "none, or a fixed total magnetisation sum_t Sz_t (a multiple of 0.5 reachable on the chain): "
     "sampling and log_psi use prefix-masked conditionals, exactly normalised over the sector",
     0, 0},
    {"model", "layers", KEY_INT, OFF(layers), 0, 1, ARS_MAX_LAYERS, NULL, "3",
     "number of masked convolution layers", 0, 0},
    {"model", "features", KEY_INTLIST, OFF(features), OFF(n_features), 1, 4096, NULL, "16",
     "features of the hidden layers (one integer), or a list of `layers` integers whose last "
     "is local_size",
     0, 0},
    {"model", "kernel_size", KEY_INT, OFF(kernel_size), 0, 2, 1024, NULL, "3",
     "kernel size K of every layer (the first, exclusive layer has K-1 taps)", 0, 0},
    {"model", "kernel_dilation", KEY_INTLIST, OFF(dilation), OFF(n_dilation), 1, 1000000, NULL, "1",
     "dilation of every layer (one integer), or a list with one per layer", 0, 0},
    {"model", "activation", KEY_ENUM, OFF(activation), 0, 0, 0, activation_names, "selu",
     "activation before every layer but the first: selu, tanh, relu, gelu (tanh form), identity", 0,
     0},
    {"model", "use_bias", KEY_BOOL, OFF(use_bias), 0, 0, 0, NULL, "true",
     "whether every layer has a bias", 0, 0},
    {"model", "feature_group_count", KEY_INT, OFF(feature_group_count), 0, 1, 4096, NULL, "1",
     "feature groups of the hidden-to-hidden layers (must divide their features)", 0, 0},
    {"model", "input", KEY_ENUM, OFF(input), 0, 0, 0, input_names, "value",
     "network input: value (NetKet's: 2*Sz as one feature) or onehot (local_size features)", 0, 0},
    {"model", "symmetrize", KEY_ENUM, OFF(symmetrize), 0, 0, 0, ars_sym_names, "none",
     "the symmetrised state p_sym(s) = mean_g p(g s) over the global spin flip, the reflection of "
     "the chain, or both, sampled exactly (draw s, apply a random g); costs |G| = 2 or 4 network "
     "evaluations per sample",
     0, 0},
    {"model", "dtype", KEY_ENUM, OFF(dtype), 0, 0, 0, dtype_names, "float64",
     "arithmetic of sampling: float64 (the reference) or float32 (cached sampler, about twice as "
     "fast; conditionals agree with float64 to about 1e-6)",
     0, 0},
    {"model", "init", KEY_STRING, OFF(init), 0, 0, 0, NULL, "random",
     "random (LeCun normal kernels, zero biases, from the seed) or an arsampler HDF5 file", 0, 0},
    {"sampler", "n_samples", KEY_INT64, OFF(n_samples), 0, 1, INT64_C(1000000000000), NULL, "4096",
     "number of exact samples to draw", 0, 0},
    {"sampler", "chunk_size", KEY_INT, OFF(chunk_size), 0, 1, 1 << 20, NULL, "256",
     "samples per independently seeded chunk (the unit of parallel work)", 0, 0},
    {"sampler", "seed", KEY_UINT64, OFF(seed), 0, 0, 0, NULL, "1234",
     "seed of every random stream (initialisation and sampling)", 0, 0},
    {"sampler", "algorithm", KEY_ENUM, OFF(algorithm), 0, 0, 0, algorithm_names, "cached",
     "cached (O(size) per sample, ring buffers per layer) or full (the O(size^2) reference: a "
     "full forward pass per site); both give the same samples",
     0, 0},
#define DKEY(sec, name, field, lo, hi, d, h)                                                       \
    { sec, name, KEY_DOUBLE, OFF(field), 0, 0, 0, NULL, d, h, lo, hi }
    {"hamiltonian", "type", KEY_ENUM, OFF(ham_type), 0, 0, 0, ham_names, "tfim",
     "tfim: -J sum sz sz - h sum sx; xxz: J sum (sx sx + sy sy + Delta sz sz); heisenberg: xxz "
     "with Delta = 1; j1j2: J and J2 Heisenberg bonds (Pauli matrices)",
     0, 0},
    DKEY("hamiltonian", "J", ham_J, -1e6, 1e6, "1.0", "coupling J (J1 for j1j2)"),
    DKEY("hamiltonian", "h", ham_h, -1e6, 1e6, "1.0", "transverse field h (tfim)"),
    DKEY("hamiltonian", "Delta", ham_Delta, -1e6, 1e6, "1.0", "anisotropy Delta (xxz)"),
    DKEY("hamiltonian", "J2", ham_J2, -1e6, 1e6, "0.0", "next-nearest-neighbour coupling (j1j2)"),
    {"hamiltonian", "pbc", KEY_BOOL, OFF(ham_pbc), 0, 0, 0, NULL, "true",
     "periodic boundary conditions (else open)", 0, 0},
    {"hamiltonian", "marshall_sign", KEY_BOOL, OFF(ham_marshall), 0, 0, 0, NULL, "false",
     "psi = (-1)^(up spins on odd sites) |psi_net|: needed for antiferromagnetic xxz/j1j2", 0, 0},
    {"hamiltonian", "exact_energy", KEY_DOUBLE_AUTO, OFF(ham_exact), 0, 0, 0, NULL, "auto",
     "the exact ground-state energy for relative errors: auto (computed when cheap: tfim "
     "always, others by Lanczos up to size 20) or a number",
     -1e12, 1e12},
    {"vmc", "iterations", KEY_INT, OFF(iterations), 0, 0, 100000000, NULL, "1000",
     "total VMC iterations (with --resume: continue until this many)", 0, 0},
    {"vmc", "optimizer", KEY_ENUM, OFF(optimizer), 0, 0, 0, optimizer_names, "adam",
     "sgd or adam, applied to the gradient (or to the natural gradient with sr = true)", 0, 0},
    DKEY("vmc", "learning_rate", learning_rate, 0.0, 1e6, "0.01", "step size"),
    {"vmc", "learning_rate_schedule", KEY_ENUM, OFF(lr_schedule), 0, 0, 0, schedule_names,
     "constant", "constant, or exponential: lr * decay^iteration, not below learning_rate_min", 0,
     0},
    DKEY("vmc", "learning_rate_decay", lr_decay, 0.0, 1.0, "1.0",
         "per-iteration factor of the exponential schedule"),
    DKEY("vmc", "learning_rate_min", lr_min, 0.0, 1e6, "0.0", "floor of the schedule"),
    {"vmc", "sr", KEY_BOOL, OFF(sr), 0, 0, 0, NULL, "true",
     "stochastic reconfiguration (natural gradient): solve (S + diag_shift I) x = F", 0, 0},
    DKEY("vmc", "diag_shift", diag_shift, 0.0, 1e6, "0.01", "SR regularisation added to S"),
    {"vmc", "diag_shift_schedule", KEY_ENUM, OFF(ds_schedule), 0, 0, 0, schedule_names, "constant",
     "constant, or exponential: diag_shift * decay^iteration, not below the min", 0, 0},
    DKEY("vmc", "diag_shift_decay", ds_decay, 0.0, 1.0, "1.0",
         "per-iteration factor of the exponential schedule"),
    DKEY("vmc", "diag_shift_min", ds_min, 0.0, 1e6, "0.0", "floor of the schedule"),
    DKEY("vmc", "beta1", beta1, 0.0, 0.999999, "0.9", "Adam first-moment decay"),
    DKEY("vmc", "beta2", beta2, 0.0, 0.999999999, "0.999", "Adam second-moment decay"),
    DKEY("vmc", "epsilon", adam_eps, 0.0, 1.0, "1e-8", "Adam epsilon"),
    {"vmc", "checkpoint_every", KEY_INT, OFF(checkpoint_every), 0, 1, 100000000, NULL, "50",
     "write the output file (variables, optimiser state, log) every this many iterations", 0, 0},
    {"vmc", "final_samples", KEY_INT64, OFF(final_samples), 0, 1, INT64_C(1000000000), NULL,
     "16384", "fresh samples of the trained state for the final energy estimate (and /samples)", 0,
     0},
    DKEY("vmc", "distinct_warn", distinct_warn, 0.0, 1.0, "0.05",
         "warn when the fraction of distinct samples falls below this (SR stalls)"),
#undef DKEY
    {"observables", "names", KEY_NAMES, OFF(obs_mask), 0, 0, 0, ars_obs_names, "none",
     "observables measured on the samples (mode = sample) or on the final samples (mode = "
     "train): none, all, or a list of sz, magnetization, abs_magnetization, "
     "staggered_magnetization, zz_correlation, zz_connected, structure_factor, sx, "
     "xx_correlation, energy, renyi2 (docs/analysis.md)",
     0, 0},
    {"observables", "renyi2_cuts", KEY_INTLIST, OFF(renyi_cuts), OFF(n_renyi_cuts), 1, 1000000,
     NULL, "auto", "renyi2: the sizes l of the subsystems [0, l), 1 <= l < size; auto = size/2", 0,
     0},
    {"output", "file", KEY_STRING, OFF(file), 0, 0, 0, NULL, "",
     "output HDF5 file; default out/<config file name without .ini>.h5", 0, 0},
};

_Static_assert(sizeof keys / sizeof keys[0] == ARS_CONFIG_NKEYS, "key table size");

/* ---- small helpers ----------------------------------------------------------------------- */

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) {
        s++;
    }
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) {
        *--e = '\0';
    }
    return s;
}

/* The location prefix of a message: "FILE:LINE", "FILE" or "--set ARG". */
typedef struct where {
    const char *name;
    int line; /* > 0 a line of name, 0 none, -1 name is a --set argument */
} where;

static int config_error(where w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *quote(const char *v, char *buf, size_t len);

static int config_error(where w, const char *fmt, ...) {
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (w.line > 0) {
        fprintf(stderr, "%s:%d: %s\n", w.name, w.line, msg);
    } else if (w.line < 0) {
        /* A --set argument is echoed whole, but with '?' for every unprintable byte, as in
         * quote(): a control character in it (a newline, a carriage return) must not break the
         * message into several lines. */
        char *arg = strdup(w.name);
        char short_arg[512];
        if (arg != NULL) {
            for (char *p = arg; *p != '\0'; p++) {
                *p = isprint((unsigned char)*p) ? *p : '?';
            }
        }
        fprintf(stderr, "--set %s: %s\n",
                arg != NULL ? arg : quote(w.name, short_arg, sizeof short_arg), msg);
        free(arg);
    } else {
        fprintf(stderr, "%s: %s\n", w.name, msg);
    }
    return ARS_STATUS_ECONFIG;
}

/* Shortens a value for quoting in a message, replacing unprintable bytes. */
static const char *quote(const char *v, char *buf, size_t len) {
    size_t j = 0;
    for (size_t i = 0; v[i] != '\0' && j + 4 < len; i++) {
        unsigned char ch = (unsigned char)v[i];
        buf[j++] = isprint(ch) ? (char)ch : '?';
    }
    if (strlen(v) >= len - 4) {
        memcpy(buf + (j < len - 4 ? j : len - 4), "...", 4);
    } else {
        buf[j] = '\0';
    }
    return buf;
}

static int find_key(const char *section, const char *key) {
    for (int i = 0; i < ARS_CONFIG_NKEYS; i++) {
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, key) == 0) {
            return i;
        }
    }
    return -1;
}

int ars_config_key_index(const char *section, const char *key) {
    return find_key(section, key);
}

/* The known sections for messages. */
#define SECTION_LIST "run, system, model, sampler, hamiltonian, vmc, observables, output"

static int known_section(const char *section) {
    for (int i = 0; section_names[i] != NULL; i++) {
        if (strcmp(section_names[i], section) == 0) {
            return 1;
        }
    }
    return 0;
}

static void list_keys(const char *section, char *buf, size_t len) {
    buf[0] = '\0';
    for (int i = 0; i < ARS_CONFIG_NKEYS; i++) {
        if (strcmp(keys[i].section, section) == 0) {
            if (buf[0] != '\0') {
                strncat(buf, ", ", len - strlen(buf) - 1);
            }
            strncat(buf, keys[i].key, len - strlen(buf) - 1);
        }
    }
}

/* Strict integer parse of the whole string (surrounding white space allowed). */
static int parse_int64(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (*s == '\0') {
        return -1;
    }
    long long v = strtoll(s, &end, 10);
    while (isspace((unsigned char)*end)) {
        end++;
    }
    if (errno != 0 || *end != '\0') {
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

static int count_names(const char *const *names) {
    int n = 0;
    while (names[n] != NULL) {
        n++;
    }
    return n;
}

/* ---- setting one key --------------------------------------------------------------------- */

/* Whether value is a plain decimal (only the characters of `chars`: strtod alone would also
 * take hex, exponents, inf and nan) that is a multiple of 0.5; *twice = 2 value. */
static int half_integer(const char *value, const char *chars, double *twice) {
    char *end;
    errno = 0;
    const double v = strtod(value, &end);
    *twice = 2.0 * v;
    return strspn(value, chars) == strlen(value) && errno == 0 && *end == '\0' && end != value &&
           isfinite(v) && *twice == floor(*twice);
}

static int set_value(ars_config *c, int ki, const char *value, where w) {
    const key_spec *k = &keys[ki];
    char *field = (char *)c + k->offset;
    char q[96];
    quote(value, q, sizeof q);
    switch (k->type) {
        case KEY_INT:
        case KEY_INT64: {
            int64_t v;
            if (parse_int64(value, &v) != 0 || v < k->min || v > k->max) {
                return config_error(
                    w, "[%s] %s: must be an integer from %" PRId64 " to %" PRId64 " (got '%s')",
                    k->section, k->key, k->min, k->max, q);
            }
            if (k->type == KEY_INT) {
                *(int *)field = (int)v;
            } else {
                *(int64_t *)field = v;
            }
            break;
        }
        case KEY_UINT64: {
            char *end;
            const char *s = value;
            while (isspace((unsigned char)*s)) {
                s++;
            }
            errno = 0;
            unsigned long long v = strtoull(s, &end, 10);
            if (!isdigit((unsigned char)*s) || errno != 0 || *end != '\0') {
                return config_error(w,
                                    "[%s] %s: must be an integer from 0 to 18446744073709551615 "
                                    "(got '%s')",
                                    k->section, k->key, q);
            }
            *(uint64_t *)field = (uint64_t)v;
            break;
        }
        case KEY_SPIN: {
            double twice;
            if (!half_integer(value, "0123456789.", &twice) || twice <= 0.0 ||
                twice > ARS_HILBERT_MAX_TWO_S) {
                return config_error(w,
                                    "[%s] %s: must be a positive multiple of 0.5 up to %g "
                                    "(got '%s')",
                                    k->section, k->key, 0.5 * ARS_HILBERT_MAX_TWO_S, q);
            }
            *(int *)field = (int)twice;
            break;
        }
        case KEY_SZ: {
            if (strcmp(value, "none") == 0) {
                *(int *)field = ARS_CONFIG_NO_SECTOR;
                break;
            }
            double twice;
            if (!half_integer(value, "0123456789.+-", &twice) || fabs(twice) > 1e9) {
                return config_error(w, "[%s] %s: must be none or a multiple of 0.5 (got '%s')",
                                    k->section, k->key, q);
            }
            *(int *)field = (int)twice;
            break;
        }
        case KEY_BOOL: {
            static const char *const yes[] = {"true", "yes", "on", "1"};
            static const char *const no[] = {"false", "no", "off", "0"};
            for (int i = 0; i < 4; i++) {
                if (strcmp(value, yes[i]) == 0) {
                    *(int *)field = 1;
                    return ARS_OK;
                }
                if (strcmp(value, no[i]) == 0) {
                    *(int *)field = 0;
                    return ARS_OK;
                }
            }
            return config_error(w, "[%s] %s: must be true or false (got '%s')", k->section, k->key,
                                q);
        }
        case KEY_ENUM: {
            char allowed[256] = "";
            for (int i = 0; k->names[i] != NULL; i++) {
                if (strcmp(value, k->names[i]) == 0) {
                    *(int *)field = i;
                    return ARS_OK;
                }
                if (i > 0) {
                    strncat(allowed, ", ", sizeof allowed - strlen(allowed) - 1);
                }
                strncat(allowed, k->names[i], sizeof allowed - strlen(allowed) - 1);
            }
            return config_error(w, "[%s] %s: must be one of %s (got '%s')", k->section, k->key,
                                allowed, q);
        }
        case KEY_STRING: {
            size_t n = strlen(value);
            if (n >= ARS_PATH_MAX) {
                return config_error(w, "[%s] %s: longer than %d characters (got '%s')", k->section,
                                    k->key, ARS_PATH_MAX - 1, q);
            }
            /* Only [output] file may be empty: it then takes its default. */
            if (n == 0 && strcmp(k->section, "output") != 0) {
                return config_error(w, "[%s] %s: must not be empty", k->section, k->key);
            }
            for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)value[i];
                int comment =
                    (ch == ';' || ch == '#') && (i == 0 || isspace((unsigned char)value[i - 1]));
                if (ch < 0x20 || ch == 0x7f || comment) {
                    return config_error(w,
                                        "[%s] %s: must not contain control characters, or ';' "
                                        "or '#' after a space (they start a comment) (got '%s')",
                                        k->section, k->key, q);
                }
            }
            memcpy(field, value, n + 1);
            break;
        }
        case KEY_DOUBLE:
        case KEY_DOUBLE_AUTO: {
            if (k->type == KEY_DOUBLE_AUTO && strcmp(value, "auto") == 0) {
                const double nan = (double)NAN;
                memcpy(field, &nan, sizeof nan);
                break;
            }
            char *end;
            errno = 0;
            double v = strtod(value, &end);
            /* Decimal notation only: strtod also takes hex, inf and nan. */
            int plain = strspn(value, "0123456789.eE+-") == strlen(value);
            if (!plain || errno != 0 || end == value || *end != '\0' || !isfinite(v) ||
                v < k->dmin || v > k->dmax) {
                return config_error(w, "[%s] %s: must be a number from %g to %g%s (got '%s')",
                                    k->section, k->key, k->dmin, k->dmax,
                                    k->type == KEY_DOUBLE_AUTO ? ", or auto" : "", q);
            }
            memcpy(field, &v, sizeof v);
            break;
        }
        case KEY_NAMES: {
            unsigned mask = 0;
            char allowed[512] = "none, all";
            for (int i = 0; k->names[i] != NULL; i++) {
                strncat(allowed, ", ", sizeof allowed - strlen(allowed) - 1);
                strncat(allowed, k->names[i], sizeof allowed - strlen(allowed) - 1);
            }
            if (strcmp(value, "none") == 0 || strcmp(value, "all") == 0) {
                *(int *)field = value[0] == 'a' ? (int)((1u << count_names(k->names)) - 1u) : 0;
                break;
            }
            char buf[1024];
            if (strlen(value) >= sizeof buf || value[0] == '\0' || value[0] == ',' ||
                value[strlen(value) - 1] == ',' || strstr(value, ",,") != NULL) {
                return config_error(w,
                                    "[%s] %s: must be none, all or a comma-separated list of %s "
                                    "(got '%s')",
                                    k->section, k->key, allowed, q);
            }
            strcpy(buf, value);
            char *save = NULL;
            for (char *tok = strtok_r(buf, ",", &save); tok != NULL;
                 tok = strtok_r(NULL, ",", &save)) {
                tok = trim(tok);
                int found = -1;
                for (int i = 0; k->names[i] != NULL; i++) {
                    if (strcmp(tok, k->names[i]) == 0) {
                        found = i;
                    }
                }
                char tq[96];
                quote(tok, tq, sizeof tq);
                if (found < 0) {
                    return config_error(w, "[%s] %s: unknown name '%s'; known: %s (got '%s')",
                                        k->section, k->key, tq, allowed, q);
                }
                if (mask & (1u << found)) {
                    return config_error(w, "[%s] %s: '%s' is listed twice (got '%s')", k->section,
                                        k->key, tq, q);
                }
                mask |= 1u << found;
            }
            *(int *)field = (int)mask;
            break;
        }
        case KEY_INTLIST: {
            if (strcmp(k->def, "auto") == 0 && strcmp(value, "auto") == 0) {
                *(int *)((char *)c + k->count_offset) = 0; /* derived in finalize */
                break;
            }
            int tmp[ARS_MAX_LAYERS];
            int count = 0;
            char buf[1024];
            if (strlen(value) >= sizeof buf) {
                return config_error(w, "[%s] %s: list too long (got '%s')", k->section, k->key, q);
            }
            strcpy(buf, value);
            char *save = NULL;
            for (char *tok = strtok_r(buf, ",", &save); tok != NULL;
                 tok = strtok_r(NULL, ",", &save)) {
                int64_t v;
                if (count == ARS_MAX_LAYERS) {
                    return config_error(w, "[%s] %s: at most %d entries (got '%s')", k->section,
                                        k->key, ARS_MAX_LAYERS, q);
                }
                if (parse_int64(tok, &v) != 0 || v < k->min || v > k->max) {
                    return config_error(w,
                                        "[%s] %s: must be an integer or a comma-separated list "
                                        "of integers from %" PRId64 " to %" PRId64 " (got '%s')",
                                        k->section, k->key, k->min, k->max, q);
                }
                tmp[count++] = (int)v;
            }
            if (count == 0 || value[strlen(value) - 1] == ',' || value[0] == ',' ||
                strstr(value, ",,") != NULL) {
                return config_error(w,
                                    "[%s] %s: must be an integer or a comma-separated list "
                                    "(got '%s')",
                                    k->section, k->key, q);
            }
            memcpy(field, tmp, (size_t)count * sizeof(int));
            *(int *)((char *)c + k->count_offset) = count;
            break;
        }
    }
    return ARS_OK;
}

void ars_config_defaults(ars_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->source, sizeof c->source, "(defaults)");
    for (int i = 0; i < ARS_CONFIG_NKEYS; i++) {
        where w = {"(defaults)", 0};
        int rc = set_value(c, i, keys[i].def, w);
        ARS_ASSERT(rc == ARS_OK, "bad default for %s", keys[i].key);
        c->line[i] = 0;
    }
}

/* ---- the INI parser ---------------------------------------------------------------------- */

/* Removes an inline comment: ';' or '#' at the start or after white space. */
static void strip_inline_comment(char *s) {
    for (char *p = s; *p != '\0'; p++) {
        if ((*p == ';' || *p == '#') && (p == s || isspace((unsigned char)p[-1]))) {
            *p = '\0';
            return;
        }
    }
}

int ars_config_parse_string(ars_config *c, const char *text, const char *name) {
    char section[64] = "";
    int section_ok = 0;
    int lineno = 0;
    const char *p = text;
    char q[96];
    if (strncmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3; /* UTF-8 byte order mark */
    }
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        lineno++;
        where w = {name, lineno};
        char *line = malloc(len + 1);
        if (line == NULL) {
            return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory reading %s", name);
        }
        memcpy(line, p, len);
        line[len] = '\0';
        p = eol != NULL ? eol + 1 : p + len;

        char *s = trim(line);
        int rc = ARS_OK;
        if (*s == '\0' || *s == ';' || *s == '#') {
            /* blank or comment */
        } else if (*s == '[') {
            strip_inline_comment(s);
            s = trim(s);
            size_t n = strlen(s);
            if (n < 3 || s[n - 1] != ']') {
                rc = config_error(w, "malformed section header (got '%s')", quote(s, q, sizeof q));
            } else {
                s[n - 1] = '\0';
                char *sec = trim(s + 1);
                if (!known_section(sec)) {
                    rc = config_error(w, "unknown section [%s] (known sections: " SECTION_LIST ")",
                                      quote(sec, q, sizeof q));
                } else {
                    snprintf(section, sizeof section, "%s", sec);
                    section_ok = 1;
                }
            }
        } else {
            char *eq = strchr(s, '=');
            if (eq == NULL) {
                rc = config_error(w, "expected 'key = value' or '[section]' (got '%s')",
                                  quote(s, q, sizeof q));
            } else {
                *eq = '\0';
                char *key = trim(s);
                char *value = eq + 1;
                strip_inline_comment(value);
                value = trim(value);
                int ki = section_ok ? find_key(section, key) : -1;
                if (!section_ok) {
                    rc = config_error(w, "key '%s' appears before any [section]",
                                      quote(key, q, sizeof q));
                } else if (ki < 0) {
                    char known[512];
                    list_keys(section, known, sizeof known);
                    rc = config_error(w, "[%s] %s: unknown key (keys of [%s]: %s)", section,
                                      quote(key, q, sizeof q), section, known);
                } else if (c->line[ki] > 0) {
                    rc = config_error(w, "[%s] %s: given twice (first on line %d)", section, key,
                                      c->line[ki]);
                } else {
                    rc = set_value(c, ki, value, w);
                    c->line[ki] = lineno;
                }
            }
        }
        free(line);
        if (rc != ARS_OK) {
            return rc;
        }
    }
    snprintf(c->source, sizeof c->source, "%s", name);
    return ARS_OK;
}

/* Whether INI text has a line that is not blank or a comment. */
static int has_content(const char *text) {
    int start = 1;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\n') {
            start = 1;
        } else if (start && !isspace((unsigned char)*p) && strncmp(p, "\xEF\xBB\xBF", 3) != 0) {
            if (*p != ';' && *p != '#') {
                return 1;
            }
            start = 0; /* a comment: skip to the end of the line */
            while (p[1] != '\0' && p[1] != '\n') {
                p++;
            }
        } else if (start && strncmp(p, "\xEF\xBB\xBF", 3) == 0) {
            p += 2;
        }
    }
    return 0;
}

int ars_config_parse_file(ars_config *c, const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "cannot open config file '%s': %s", path,
                       strerror(errno));
    }
    char *text = malloc(CONFIG_MAX_BYTES + 1);
    if (text == NULL) {
        fclose(f);
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory reading '%s'", path);
    }
    size_t n = fread(text, 1, CONFIG_MAX_BYTES + 1, f);
    int read_error = ferror(f);
    fclose(f);
    int rc = ARS_OK;
    if (read_error) {
        rc = ARS_ERR(ARS_STATUS_ECONFIG, "cannot read config file '%s'", path);
    } else if (n > CONFIG_MAX_BYTES) {
        /* Named at the line where the limit falls, like the NUL byte below. */
        int line = 1;
        for (size_t i = 0; i < CONFIG_MAX_BYTES; i++) {
            line += text[i] == '\n';
        }
        rc = config_error((where){path, line}, "larger than %d bytes (1 MiB); not a config file",
                          CONFIG_MAX_BYTES);
    } else if (memchr(text, '\0', n) != NULL) {
        size_t at = (size_t)((char *)memchr(text, '\0', n) - text);
        int line = 1;
        for (size_t i = 0; i < at; i++) {
            line += text[i] == '\n';
        }
        rc = config_error((where){path, line}, "binary content (a NUL byte); not a config file");
    } else {
        text[n] = '\0';
        rc = ars_config_parse_string(c, text, path);
        if (rc == ARS_OK && !has_content(text)) {
            /* An empty file is a truncated or wrong file far more often than a request for
             * the defaults. */
            rc = config_error((where){path, 1},
                              "empty config file: no [section] and no key (a config sets at "
                              "least one key; `arsampler --print-config` shows the defaults)");
        }
    }
    free(text);
    return rc;
}

int ars_config_set(ars_config *c, const char *assignment) {
    where w = {assignment, -1};
    const char *dot = strchr(assignment, '.');
    const char *eq = strchr(assignment, '=');
    if (dot == NULL || eq == NULL || dot > eq) {
        return config_error(w, "expected section.key=value");
    }
    char section[64], key[64];
    size_t ns = (size_t)(dot - assignment), nk = (size_t)(eq - dot - 1);
    if (ns == 0 || ns >= sizeof section || nk == 0 || nk >= sizeof key) {
        return config_error(w, "expected section.key=value");
    }
    memcpy(section, assignment, ns);
    section[ns] = '\0';
    memcpy(key, dot + 1, nk);
    key[nk] = '\0';
    char q[96];
    if (!known_section(section)) {
        return config_error(w, "unknown section [%s] (known sections: " SECTION_LIST ")",
                            quote(section, q, sizeof q));
    }
    int ki = find_key(section, key);
    if (ki < 0) {
        char known[512];
        list_keys(section, known, sizeof known);
        return config_error(w, "[%s] %s: unknown key (keys of [%s]: %s)", section,
                            quote(key, q, sizeof q), section, known);
    }
    char value[ARS_PATH_MAX + 16];
    snprintf(value, sizeof value, "%s", eq + 1);
    int rc = set_value(c, ki, trim(value), w);
    if (rc == ARS_OK) {
        c->line[ki] = -1;
        snprintf(c->set_arg[ki], sizeof c->set_arg[ki], "%s", assignment);
    }
    return rc;
}

/* ---- cross-key checks -------------------------------------------------------------------- */

static where key_where(const ars_config *c, int ki) {
    if (c->line[ki] < 0) {
        where w = {c->set_arg[ki], -1};
        return w;
    }
    where w = {c->source, c->line[ki] > 0 ? c->line[ki] : 0};
    return w;
}

static int find_key_or_die(const char *section, const char *key) {
    int ki = find_key(section, key);
    ARS_ASSERT(ki >= 0, "no key %s.%s", section, key);
    return ki;
}

void ars_config_where(const ars_config *c, const char *section, const char *key, char *buf,
                      size_t len) {
    const where w = key_where(c, find_key_or_die(section, key));
    if (w.line > 0) {
        snprintf(buf, len, "%s:%d", w.name, w.line);
    } else if (w.line == 0) {
        snprintf(buf, len, "%s", w.name);
    } else {
        snprintf(buf, len, "--set %s", w.name);
        for (char *p = buf; *p != '\0'; p++) {
            *p = isprint((unsigned char)*p) ? *p : '?';
        }
    }
}

static const char *list_text(const int *v, int n, char *buf, size_t len) {
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        char one[24];
        snprintf(one, sizeof one, i > 0 ? ", %d" : "%d", v[i]);
        strncat(buf, one, len - strlen(buf) - 1);
    }
    return buf;
}

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

int ars_config_finalize(ars_config *c) {
    const int k_feat = find_key_or_die("model", "features");
    const int k_dil = find_key_or_die("model", "kernel_dilation");
    const int k_groups = find_key_or_die("model", "feature_group_count");
    const int k_chunk = find_key_or_die("sampler", "chunk_size");
    const int D = c->two_s + 1;
    char buf[512];

    if (c->n_features > 1 && c->n_features != c->layers) {
        return config_error(key_where(c, k_feat),
                            "[model] features: a list must have one entry per layer (layers = %d) "
                            "(got %d entries: %s)",
                            c->layers, c->n_features,
                            list_text(c->features, c->n_features, buf, sizeof buf));
    }
    if (c->n_features > 1 && c->features[c->layers - 1] != D) {
        return config_error(key_where(c, k_feat),
                            "[model] features: the last entry must equal local_size = %d for "
                            "spin %g (got %d)",
                            D, 0.5 * c->two_s, c->features[c->layers - 1]);
    }
    if (c->n_dilation > 1 && c->n_dilation != c->layers) {
        return config_error(key_where(c, k_dil),
                            "[model] kernel_dilation: a list must have one entry per layer "
                            "(layers = %d) (got %d entries: %s)",
                            c->layers, c->n_dilation,
                            list_text(c->dilation, c->n_dilation, buf, sizeof buf));
    }
    if (c->feature_group_count > 1 && c->layers < 3) {
        return config_error(key_where(c, k_groups),
                            "[model] feature_group_count: applies to hidden-to-hidden layers only, "
                            "which need layers >= 3 (got %d with layers = %d)",
                            c->feature_group_count, c->layers);
    }
    if (c->two_m != ARS_CONFIG_NO_SECTOR) {
        const int k_sz = find_key_or_die("system", "total_sz");
        ars_hilbert h;
        ars_hilbert_init(&h, c->size, c->two_s);
        const long span = (long)c->size * c->two_s;
        if (!ars_hilbert_sector_reachable(&h, c->two_m)) {
            return config_error(key_where(c, k_sz),
                                "[system] total_sz: not reachable with %d sites of spin %g: it "
                                "must be one of -%g, -%g, ..., %g (got %g)",
                                c->size, 0.5 * c->two_s, 0.5 * (double)span,
                                0.5 * (double)span - 1.0, 0.5 * (double)span, 0.5 * c->two_m);
        }
        if ((c->symmetrize & ARS_SYM_SPIN_FLIP) && c->two_m != 0) {
            return config_error(key_where(c, find_key_or_die("model", "symmetrize")),
                                "[model] symmetrize: the spin flip maps total_sz %g to %g, so "
                                "%s needs total_sz = 0 or none (got %s)",
                                0.5 * c->two_m, -0.5 * c->two_m, ars_sym_names[c->symmetrize],
                                ars_sym_names[c->symmetrize]);
        }
        const int uses_h = c->mode == ARS_MODE_TRAIN || c->mode == ARS_MODE_EXACT ||
                           (c->obs_mask & (1 << ARS_OBS_ENERGY)) != 0;
        if (uses_h && c->ham_type == ARS_HAM_TFIM) {
            return config_error(key_where(c, k_sz),
                                "[system] total_sz: tfim does not conserve the total Sz (its "
                                "field flips single spins), so its ground state has no fixed "
                                "total_sz; use total_sz = none (got %g)",
                                0.5 * c->two_m);
        }
    }
    ars_arch arch;
    ars_config_arch(c, &arch);
    for (int l = 1; l < arch.layers - 1; l++) {
        int g = c->feature_group_count;
        if (arch.features[l - 1] % g != 0 || arch.features[l] % g != 0) {
            return config_error(key_where(c, k_groups),
                                "[model] feature_group_count: must divide the features of the "
                                "hidden layers (layer %d: %d -> %d) (got %d)",
                                l, arch.features[l - 1], arch.features[l], g);
        }
    }
    char why[256];
    ARS_ASSERT(ars_arch_check(&arch, why, sizeof why) == 0, "%s", why);
    const size_t n_params = ars_arch_n_params(&arch);
    if (n_params > CONFIG_MAX_PARAMS) {
        return config_error(key_where(c, k_feat),
                            "[model] features: the network would have %zu parameters (%.1f GB); "
                            "at most %.0e are accepted (got %s)",
                            n_params, 8e-9 * (double)n_params, (double)CONFIG_MAX_PARAMS,
                            list_text(c->features, c->n_features, buf, sizeof buf));
    }

    if ((c->mode == ARS_MODE_TRAIN || c->mode == ARS_MODE_EXACT) &&
        c->line[find_key_or_die("hamiltonian", "type")] == 0) {
        const int k_mode = find_key_or_die("run", "mode");
        return config_error(key_where(c, k_mode),
                            "[run] mode: %s needs a Hamiltonian: set [hamiltonian] type (tfim, "
                            "xxz, heisenberg or j1j2) (got %s)",
                            mode_names[c->mode], mode_names[c->mode]);
    }
    if ((c->mode == ARS_MODE_TRAIN || c->mode == ARS_MODE_EXACT) && c->two_s != 1) {
        const int k_spin = find_key_or_die("system", "spin");
        return config_error(key_where(c, k_spin),
                            "[system] spin: the Hamiltonians are implemented for spin 1/2 only "
                            "(mode = %s) (got %g)",
                            mode_names[c->mode], 0.5 * c->two_s);
    }
    if (c->algorithm == ARS_SAMPLER_FULL && c->dtype == ARS_DTYPE_FLOAT32) {
        const int k_alg = find_key_or_die("sampler", "algorithm");
        return config_error(key_where(c, k_alg),
                            "[sampler] algorithm: the full-forward reference sampler runs in "
                            "float64 only; use algorithm = cached with dtype = float32 (got full)");
    }
    /* Memory: one workspace per thread, plus the samples. Refuse absurd sizes up front. */
    size_t ws = ars_sampler_slot_bytes(&arch, c->chunk_size, (ars_sampler_algorithm)c->algorithm,
                                       (ars_dtype)c->dtype);
    double ws_gib = (double)ws / (double)(1u << 30);
    if (ws > CONFIG_MAX_WS_BYTES || (double)c->chunk_size * c->size * D > 1e12) {
        return config_error(key_where(c, k_chunk),
                            "[sampler] chunk_size: a chunk of %d samples of %d sites needs %.1f "
                            "GiB of activations per thread; use a smaller chunk_size (got %d)",
                            c->chunk_size, c->size, ws_gib, c->chunk_size);
    }
    if ((double)c->n_samples * (double)c->size > 256.0 * (double)(1u << 30)) {
        int k_n = find_key_or_die("sampler", "n_samples");
        return config_error(key_where(c, k_n),
                            "[sampler] n_samples: %" PRId64 " samples of %d sites would take more "
                            "than 256 GiB (got %" PRId64 ")",
                            c->n_samples, c->size, c->n_samples);
    }

    /* [observables] */
    const int k_names = find_key_or_die("observables", "names");
    const int k_cuts = find_key_or_die("observables", "renyi2_cuts");
    const unsigned obs = (unsigned)c->obs_mask;
    if (obs != 0 && c->mode == ARS_MODE_EXACT) {
        return config_error(key_where(c, k_names),
                            "[observables] names: mode = exact computes the ground-state energy "
                            "only; measure observables in mode = sample or train (got %s)",
                            names_text(obs, buf, sizeof buf));
    }
    if ((obs & ARS_OBS_NEEDS_SPIN_HALF) != 0 && c->two_s != 1) {
        return config_error(key_where(c, k_names),
                            "[observables] names: sx, xx_correlation and energy are implemented "
                            "for spin 1/2 only (spin %g) (got %s)",
                            0.5 * c->two_s, names_text(obs, buf, sizeof buf));
    }
    if ((obs & (1u << ARS_OBS_ENERGY)) && c->mode == ARS_MODE_SAMPLE &&
        c->line[find_key_or_die("hamiltonian", "type")] == 0) {
        return config_error(key_where(c, k_names),
                            "[observables] names: energy needs a Hamiltonian: set [hamiltonian] "
                            "type (and its couplings) (got %s)",
                            names_text(obs, buf, sizeof buf));
    }
    if (obs & (1u << ARS_OBS_RENYI2)) {
        if (c->size < 2) {
            return config_error(key_where(c, k_names),
                                "[observables] names: renyi2 needs size >= 2 (got size = %d)",
                                c->size);
        }
        const int64_t n = c->mode == ARS_MODE_TRAIN ? c->final_samples : c->n_samples;
        if (n < 2) {
            return config_error(key_where(c, k_names),
                                "[observables] names: renyi2 needs at least 2 samples (pairs of "
                                "samples) (got %" PRId64 ")",
                                n);
        }
    }
    if (c->n_renyi_cuts == 0) {
        c->renyi_cuts[0] = c->size / 2 > 0 ? c->size / 2 : 1;
        c->n_renyi_cuts = c->size >= 2 ? 1 : 0;
    } else {
        for (int i = 0; i < c->n_renyi_cuts; i++) {
            if (c->renyi_cuts[i] < 1 || c->renyi_cuts[i] >= c->size) {
                return config_error(key_where(c, k_cuts),
                                    "[observables] renyi2_cuts: every cut must be from 1 to size "
                                    "- 1 = %d (got %s)",
                                    c->size - 1,
                                    list_text(c->renyi_cuts, c->n_renyi_cuts, buf, sizeof buf));
            }
        }
    }

    /* Default output: out/<config file name without directory and .ini>.h5 */
    if (c->file[0] == '\0') {
        const char *base = strrchr(c->source, '/');
        base = base != NULL ? base + 1 : c->source;
        char stem[256];
        snprintf(stem, sizeof stem, "%.200s", base);
        char *dot = strrchr(stem, '.');
        if (dot != NULL && dot != stem) {
            *dot = '\0';
        }
        if (stem[0] == '\0' || stem[0] == '(' || stem[0] == '.') {
            snprintf(stem, sizeof stem, "arsampler");
        }
        /* The file name must be a valid [output] file value, or the dump (which arsampler
         * stores in the output and --print-config shows) would not parse back to this config:
         * control characters, and ';' or '#' after white space (a comment), become '_'. */
        for (char *p = stem; *p != '\0'; p++) {
            const unsigned char ch = (unsigned char)*p;
            if (ch < 0x20 || ch == 0x7f ||
                ((ch == ';' || ch == '#') && p > stem && isspace((unsigned char)p[-1]))) {
                *p = '_';
            }
        }
        snprintf(c->file, sizeof c->file, "out/%.200s.h5", stem);
    }
    return ARS_OK;
}

void ars_config_arch(const ars_config *c, ars_arch *arch) {
    memset(arch, 0, sizeof *arch);
    ars_hilbert_init(&arch->hilbert, c->size, c->two_s);
    arch->layers = c->layers;
    arch->kernel_size = c->kernel_size;
    for (int l = 0; l < c->layers; l++) {
        if (c->n_features > 1) {
            arch->features[l] = c->features[l < c->n_features ? l : c->n_features - 1];
        } else {
            arch->features[l] = c->features[0];
        }
        arch->dilation[l] = c->dilation[c->n_dilation > 1 && l < c->n_dilation ? l : 0];
    }
    arch->features[c->layers - 1] = arch->hilbert.local_size;
    arch->feature_group_count = c->feature_group_count;
    arch->use_bias = c->use_bias;
    arch->activation = (ars_activation)c->activation;
    arch->input = (ars_input)c->input;
    arch->symmetry = (ars_sym)c->symmetrize;
    if (c->two_m != ARS_CONFIG_NO_SECTOR &&
        ars_hilbert_sector_reachable(&arch->hilbert, c->two_m)) {
        ars_hilbert_set_sector(&arch->hilbert, c->two_m);
    }
}

/* ---- dump -------------------------------------------------------------------------------- */

static void format_value(const ars_config *c, int ki, char *buf, size_t len) {
    const key_spec *k = &keys[ki];
    const char *field = (const char *)c + k->offset;
    switch (k->type) {
        case KEY_INT:
            snprintf(buf, len, "%d", *(const int *)field);
            break;
        case KEY_INT64:
            snprintf(buf, len, "%" PRId64, *(const int64_t *)field);
            break;
        case KEY_UINT64:
            snprintf(buf, len, "%" PRIu64, *(const uint64_t *)field);
            break;
        case KEY_SPIN:
            snprintf(buf, len, "%g", 0.5 * *(const int *)field);
            break;
        case KEY_SZ:
            if (*(const int *)field == ARS_CONFIG_NO_SECTOR) {
                snprintf(buf, len, "none");
            } else {
                snprintf(buf, len, "%g", 0.5 * *(const int *)field);
            }
            break;
        case KEY_BOOL:
            snprintf(buf, len, "%s", *(const int *)field ? "true" : "false");
            break;
        case KEY_ENUM:
            snprintf(buf, len, "%s", k->names[*(const int *)field]);
            break;
        case KEY_STRING:
            snprintf(buf, len, "%s", field);
            break;
        case KEY_INTLIST: {
            const int cnt = *(const int *)((const char *)c + k->count_offset);
            if (cnt == 0) {
                snprintf(buf, len, "auto");
            } else {
                list_text((const int *)field, cnt, buf, len);
            }
            break;
        }
        case KEY_NAMES: {
            const unsigned mask = (unsigned)*(const int *)field;
            const int n = count_names(k->names);
            if (mask == 0) {
                snprintf(buf, len, "none");
            } else if (mask == (1u << n) - 1u) {
                snprintf(buf, len, "all");
            } else {
                buf[0] = '\0';
                for (int i = 0; i < n; i++) {
                    if (mask & (1u << i)) {
                        strncat(buf, buf[0] != '\0' ? ", " : "", len - strlen(buf) - 1);
                        strncat(buf, k->names[i], len - strlen(buf) - 1);
                    }
                }
            }
            break;
        }
        case KEY_DOUBLE:
        case KEY_DOUBLE_AUTO: {
            double v;
            memcpy(&v, field, sizeof v);
            if (isnan(v)) {
                snprintf(buf, len, "auto");
            } else {
                snprintf(buf, len, "%.17g", v); /* round-trips exactly */
            }
            break;
        }
    }
}

char *ars_config_dump(const ars_config *c) {
    size_t cap = 4 * ARS_PATH_MAX + 4096, used = 0;
    char *out = malloc(cap);
    if (out == NULL) {
        return NULL;
    }
    used += (size_t)snprintf(out + used, cap - used,
                             "; effective configuration of arsampler %s (defaults and overrides "
                             "applied)\n",
                             ARS_VERSION);
    const char *section = "";
    char value[ARS_PATH_MAX];
    for (int i = 0; i < ARS_CONFIG_NKEYS; i++) {
        if (strcmp(section, keys[i].section) != 0) {
            section = keys[i].section;
            used +=
                (size_t)snprintf(out + used, cap - used, "%s[%s]\n", i > 0 ? "\n" : "", section);
        }
        format_value(c, i, value, sizeof value);
        used += (size_t)snprintf(out + used, cap - used, "%s = %s\n", keys[i].key, value);
    }
    return out;
}

char *ars_config_describe(void) {
    size_t cap = 32768, used = 0;
    char *out = malloc(cap);
    if (out == NULL) {
        return NULL;
    }
    out[0] = '\0';
    const char *section = "";
    for (int i = 0; i < ARS_CONFIG_NKEYS; i++) {
        const key_spec *k = &keys[i];
        if (strcmp(section, k->section) != 0) {
            section = k->section;
            used += (size_t)snprintf(out + used, cap - used, "[%s]\n", section);
        }
        char range[128] = "";
        switch (k->type) {
            case KEY_INT:
            case KEY_INT64:
                snprintf(range, sizeof range, "integer %" PRId64 "..%" PRId64, k->min, k->max);
                break;
            case KEY_INTLIST:
                snprintf(range, sizeof range, "integer or list, entries %" PRId64 "..%" PRId64,
                         k->min, k->max);
                break;
            case KEY_UINT64:
                snprintf(range, sizeof range, "integer 0..2^64-1");
                break;
            case KEY_SPIN:
                snprintf(range, sizeof range, "0.5, 1, 1.5, ..., 63");
                break;
            case KEY_SZ:
                snprintf(range, sizeof range, "none | a multiple of 0.5");
                break;
            case KEY_BOOL:
                snprintf(range, sizeof range, "true | false");
                break;
            case KEY_ENUM:
                for (int j = 0; k->names[j] != NULL; j++) {
                    strncat(range, j > 0 ? " | " : "", sizeof range - strlen(range) - 1);
                    strncat(range, k->names[j], sizeof range - strlen(range) - 1);
                }
                break;
            case KEY_STRING:
                snprintf(range, sizeof range, "text");
                break;
            case KEY_NAMES:
                snprintf(range, sizeof range, "none | all | list of names");
                break;
            case KEY_DOUBLE:
            case KEY_DOUBLE_AUTO:
                snprintf(range, sizeof range, "number %g..%g%s", k->dmin, k->dmax,
                         k->type == KEY_DOUBLE_AUTO ? " or auto" : "");
                break;
        }
        used += (size_t)snprintf(out + used, cap - used, "  %-20s default %-8s (%s)\n      %s\n",
                                 k->key, k->def[0] != '\0' ? k->def : "(derived)", range, k->help);
        if (used >= cap) {
            break;
        }
    }
    return out;
}
