/*
 * config_key: the descriptor of one configuration key, shared by the per-module key tables
 * (space/hilbert_keys.c, nn/arnn_keys.c, sample/sampler_keys.c, ops/hamiltonian_keys.c,
 * vmc/vmc_keys.c, opt/optimizer_keys.c, vmc/observables_keys.c, config/run_keys.c) that config.c
 * assembles, and the cross-key checks that live next to each module's keys and that
 * ars_config_finalize calls.
 */
#ifndef ARS_CONFIG_KEY_H
#define ARS_CONFIG_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/ini.h"
#include "core/ars_common.h"

typedef enum ars_key_type {
    ARS_KEY_INT = 0,     /* int in [min, max] */
    ARS_KEY_INT64,       /* int64_t in [min, max] */
    ARS_KEY_UINT64,      /* any uint64_t */
    ARS_KEY_SPIN,        /* a positive multiple of 1/2, stored as 2S in an int */
    ARS_KEY_BOOL,        /* true/false, yes/no, on/off, 1/0 */
    ARS_KEY_ENUM,        /* one of the names, stored as its index in an int */
    ARS_KEY_STRING,      /* text up to ARS_PATH_MAX - 1 bytes; non-empty unless may_be_empty */
    ARS_KEY_INTLIST,     /* one int, or a comma-separated list of at most ARS_MAX_LAYERS ints */
    ARS_KEY_DOUBLE,      /* a finite decimal number in [dmin, dmax] */
    ARS_KEY_DOUBLE_AUTO, /* "auto" (stored as NaN) or an ARS_KEY_DOUBLE */
    ARS_KEY_NAMES,       /* none, all, or a comma-separated list of names: a bit mask in an int */
    ARS_KEY_SZ,          /* none (ARS_CONFIG_NO_SECTOR) or a multiple of 1/2, stored doubled */
    ARS_KEY_LINES,       /* a repeatable text key: each line given is appended (char[max][len]
                          * at offset, the count at count_offset, the config line of each at
                          * where_offset); the default "" means none */
    ARS_KEY_TYPE_COUNT,
} ars_key_type;

/* A name that stands for a whole set of an ARS_KEY_NAMES key (its bit mask). */
typedef struct ars_config_alias {
    const char *name;
    unsigned mask;
} ars_config_alias;

/* The aliases of a key naming a symmetry group ([model] symmetrize, [vmc]
 * symmetry_penalty_group, projected_estimate): none and both (nn/arnn_keys.c). */
extern const ars_config_alias ars_sym_aliases[];

typedef struct ars_config_key {
    const char *section;
    const char *key;
    ars_key_type type;
    size_t offset;            /* of the value in ars_config */
    size_t count_offset;      /* ARS_KEY_INTLIST, ARS_KEY_LINES: of the int that counts entries */
    size_t where_offset;      /* ARS_KEY_LINES: of the int array of each entry's line */
    size_t line_len;          /* ARS_KEY_LINES: the size of one entry (with its '\0') */
    int64_t min, max;         /* ARS_KEY_INT, ARS_KEY_INT64, ARS_KEY_INTLIST entries */
    const char *const *names; /* ARS_KEY_ENUM, ARS_KEY_NAMES: NULL-terminated */
    /* ARS_KEY_ENUM without names: the name of index i, NULL past the last (a registry). */
    const char *(*name_at)(int i);
    /* ARS_KEY_NAMES: the names that stand for whole sets, {NULL, 0}-terminated; NULL: none (the
     * empty set) and all (every name). The value is one of them or a list; the dump writes an
     * alias where one names the set. */
    const ars_config_alias *aliases;
    const char *def;   /* default, as text */
    const char *help;  /* one line of documentation */
    double dmin, dmax; /* ARS_KEY_DOUBLE, ARS_KEY_DOUBLE_AUTO */
    int may_be_empty;  /* ARS_KEY_STRING: "" is accepted */
    int repeatable;    /* may be given more than once in a file (each line sets it again) */
    /* NULL: the key always means something. Else it does only when active(c) returns 1: the
     * dump leaves it out otherwise (it holds its default), and a config that sets it then is
     * refused with "[section] key: <inactive>". */
    int (*active)(const struct ars_config *c);
    const char *inactive;
} ars_config_key;

#define ARS_CONFIG_OFF(field) offsetof(ars_config, field)

/* The per-section tables, in the documented section (and dump) order. */
#define ARS_RUN_NKEYS 2
#define ARS_HILBERT_NKEYS 3
#define ARS_ARNN_NKEYS 14
#define ARS_PHASE_NKEYS 8
#define ARS_SAMPLER_NKEYS 4
#define ARS_HAM_NKEYS 16
#define ARS_VMC_NKEYS 18
#define ARS_OPT_NKEYS ARS_OPT_N_HYPER
#define ARS_VMC_RUN_NKEYS 4
#define ARS_EVOLVE_NKEYS 16
#define ARS_OBS_NKEYS 4
#define ARS_OUTPUT_NKEYS 1
extern const ars_config_key ars_run_keys[ARS_RUN_NKEYS];
extern const ars_config_key ars_hilbert_keys[ARS_HILBERT_NKEYS];
extern const ars_config_key ars_arnn_keys[ARS_ARNN_NKEYS];
extern const ars_config_key ars_phase_keys[ARS_PHASE_NKEYS];
extern const ars_config_key ars_sampler_keys[ARS_SAMPLER_NKEYS];
extern const ars_config_key ars_ham_keys[ARS_HAM_NKEYS];
extern const ars_config_key ars_vmc_keys[ARS_VMC_NKEYS];
extern const ars_config_key ars_opt_keys[ARS_OPT_NKEYS];
extern const ars_config_key ars_vmc_run_keys[ARS_VMC_RUN_NKEYS];
extern const ars_config_key ars_evolve_keys[ARS_EVOLVE_NKEYS];
extern const ars_config_key ars_obs_keys[ARS_OBS_NKEYS];
extern const ars_config_key ars_output_keys[ARS_OUTPUT_NKEYS];

/* [run] mode names, indexed by ars_mode, NULL-terminated. */
extern const char *const ars_run_mode_names[];

/* The name of value i of an ARS_KEY_ENUM or ARS_KEY_NAMES key, NULL past the last. */
const char *ars_config_key_name(const ars_config_key *k, int i);

/* Where a key was set, for a message about it (asserts that section.key exists). */
ars_ini_where ars_config_key_where(const ars_config *c, const char *section, const char *key);

/* Whether a key was set in the file or by --set (rather than left at its default). */
int ars_config_key_given(const ars_config *c, const char *section, const char *key);

/* "1, 2, 3" into buf. */
const char *ars_config_list_text(const int *v, int n, char *buf, size_t len);

/* The cross-key checks, each next to its module's keys. ars_config_finalize calls them in this
 * order; each returns ARS_OK or reports the first problem (ARS_STATUS_ECONFIG). */
int ars_arnn_config_check_lists(const ars_config *c); /* nn/arnn_keys.c */
int ars_hilbert_config_check(const ars_config *c);    /* space/hilbert_keys.c */
int ars_arnn_config_check_arch(const ars_config *c);  /* nn/arnn_keys.c */
int ars_phase_config_check(const ars_config *c);      /* nn/phase_keys.c */
int ars_ham_config_check(const ars_config *c);        /* ops/hamiltonian_keys.c */
/* The terms of type = terms (the term lines, then terms_file's), each with its FILE:LINE. */
struct ars_terms;
int ars_ham_config_terms(const ars_config *c, struct ars_terms *T); /* ops/hamiltonian_keys.c */
int ars_sampler_config_check(const ars_config *c);                  /* sample/sampler_keys.c */
int ars_opt_config_check(const ars_config *c);                      /* opt/optimizer_keys.c */
int ars_vmc_config_check(const ars_config *c);                      /* vmc/vmc_keys.c */
int ars_evolve_config_check(const ars_config *c);                   /* evolve/evolve_keys.c */
int ars_obs_config_check(ars_config *c); /* vmc/observables_keys.c: derives cuts */
/* The [observables] operators (the operator lines, then operators_file's), each term with its
 * FILE:LINE. */
struct ars_user_ops;
int ars_obs_config_operators(const ars_config *c, struct ars_user_ops *u); /* observables_keys.c */
/* The built-in observables measured: [observables] names, with `all` reduced to those that
 * apply to the run (the spin, a Hamiltonian). */
unsigned ars_obs_config_mask(const ars_config *c); /* vmc/observables_keys.c */
/* Whether [observables] asks for anything (names or operators). */
int ars_obs_config_any(const ars_config *c);  /* vmc/observables_keys.c */
void ars_output_config_derive(ars_config *c); /* config/run_keys.c: default file */

#endif
