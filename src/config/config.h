/*
 * config: the INI configuration of a run, parsed strictly into a plain struct.
 *
 * Every key has a default, a type and a range in its module's table (space/hilbert_keys.c,
 * nn/arnn_keys.c, sample/sampler_keys.c, ops/hamiltonian_keys.c, vmc/vmc_keys.c,
 * vmc/observables_keys.c, config/run_keys.c; descriptor: config_key.h), which config.c assembles
 * in section order; this is also what `arsampler --print-config` and docs/config.md show. Anything
 * wrong in a file (syntax, unknown section or key, a key given twice, a bad value, an inconsistent
 * combination) is reported once as "FILE:LINE: [section] key: what is wrong (got X)" and returns
 * ARS_STATUS_ECONFIG before any work is done. Overrides from the command line (--set
 * section.key=value) go through the same parser and are reported as "--set section.key=value: ...".
 *
 * The parser is our own (ini.c, which knows no keys) rather than libinih: Debian's libinih keeps
 * its options in process-wide globals and truncates lines at 200 characters, and we want exact line
 * numbers, duplicate-key detection and no silent continuation lines.
 *
 * Syntax: `[section]` headers; `key = value` lines; full-line comments starting with ';' or
 * '#'; inline comments starting with ';' or '#' preceded by white space; blank lines.
 * Relative paths in values are relative to the current working directory.
 */
#ifndef ARS_CONFIG_H
#define ARS_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "nn/arnn.h"
#include "nn/phase.h"
#include "opt/optimizer.h"

#define ARS_PATH_MAX 4096

/* [model] init = x_polarized: the product state |+x>^N (app/setup.c). */
#define ARS_INIT_X_POLARIZED "x_polarized"

typedef enum ars_mode {
    ARS_MODE_SAMPLE = 0,
    ARS_MODE_TRAIN,
    ARS_MODE_EXACT,
    ARS_MODE_EVOLVE,
} ars_mode;

typedef enum ars_schedule {
    ARS_SCHEDULE_CONSTANT = 0,
    ARS_SCHEDULE_EXPONENTIAL,
} ars_schedule;

/* Number of keys in the table (the size of ars_config.line). */
#define ARS_CONFIG_NKEYS 94
/* [hamiltonian] term: the most lines, and the longest. */
#define ARS_MAX_TERM_LINES 64
#define ARS_TERM_LINE_MAX 256

/* [system] total_sz = none (no sector). */
#define ARS_CONFIG_NO_SECTOR INT_MIN

typedef struct ars_config {
    char source[ARS_PATH_MAX]; /* the file parsed, for messages */
    /* [run] */
    int mode;    /* ars_mode */
    int threads; /* 0: OpenMP's default */
    /* [system] */
    int size;
    int two_s; /* 2 * spin */
    int two_m; /* 2 * total_sz, or ARS_CONFIG_NO_SECTOR */
    /* [model] */
    int layers;
    int features[ARS_MAX_LAYERS];
    int n_features; /* entries given: 1 (one integer) or a list */
    int kernel_size;
    int dilation[ARS_MAX_LAYERS];
    int n_dilation;
    int activation; /* ars_activation */
    int use_bias;
    int feature_group_count;
    int input;                /* ars_input */
    int sublattice;           /* K: one-hot of t mod K in the input (1: none) */
    int symmetrize;           /* ars_sym */
    int projection;           /* the state is P_G psi, G the symmetrize group (vmc/projected.h) */
    int dtype;                /* ars_dtype */
    char init[ARS_PATH_MAX];  /* "random", x_polarized or an HDF5 file */
    double init_output_scale; /* the loaded last layer times this: conditionals p^c, renormalised */
    /* [phase] */
    int phase_type; /* 0 none, else 1 + the index in ars_phase_types */
    int phase_layers;
    int phase_features;
    int phase_kernel_size;
    int phase_dilation[ARS_MAX_LAYERS];
    int phase_n_dilation; /* 0: auto */
    int phase_activation; /* ars_activation */
    int phase_site;
    int phase_jastrow;
    /* [sampler] */
    int64_t n_samples;
    int chunk_size;
    uint64_t seed;
    int algorithm; /* ars_sampler_algorithm */
    /* [hamiltonian] */
    int ham_type; /* ars_ham_type: tfim, xxz, heisenberg, j1j2, blbq, terms */
    double ham_J, ham_h, ham_Delta, ham_J2;
    int ham_pbc, ham_marshall;
    double ham_exact; /* NaN: auto */
    double ham_D, ham_hz, ham_hx, ham_Jbq;
    double ham_dm;
    double ham_gamma;
    char ham_term[ARS_MAX_TERM_LINES][ARS_TERM_LINE_MAX]; /* the term lines, in order */
    int ham_term_line[ARS_MAX_TERM_LINES];                /* their lines in source; -1: --set */
    int n_ham_terms;
    char ham_terms_file[ARS_PATH_MAX]; /* "" for none */
    /* [vmc] */
    int iterations;
    int optimizer; /* index in ars_opt_types: 0 sgd, 1 adam, 2 spring */
    double learning_rate;
    double lr_decay, lr_min;
    int lr_schedule; /* ars_schedule */
    int sr;
    int sr_dtype;           /* ars_dtype of the SR Gram matrix */
    int eloc_dtype;         /* ars_dtype of the training iterations' ratio windows */
    double max_step;        /* the SR step's largest Fubini-Study length; 0: unbounded */
    double phase_lr_factor; /* the phase network's step, as a multiple of the modulus's */
    double sym_penalty;     /* lambda of the training loss <H> + lambda (1 - <P_G>); 0: none */
    int sym_penalty_group;  /* ars_sym: the group G of that projector */
    int projected_group;    /* ars_sym: the final estimate also measures P_G psi (none: not) */
    double diag_shift;
    double ds_decay, ds_min;
    int ds_schedule;
    int checkpoint_every;
    double opt_hyper[ARS_OPT_N_HYPER]; /* beta1, beta2, epsilon, momentum (optimizer_keys.c) */
    int64_t final_samples;
    double distinct_warn;
    double stall_warn;
    /* [evolve] */
    double evo_t_end, evo_dt, evo_tolerance, evo_diag_shift, evo_measure_every;
    double evo_dt_min, evo_dt_max; /* dt_max NaN: auto */
    int evo_integrator;            /* index in ars_integrator_types */
    int evo_adaptive, evo_imaginary, evo_common_samples, evo_reweight;
    int64_t evo_measure_samples; /* 0: n_samples */
    int evo_regularization;      /* 0 shift, 1 snr */
    double evo_snr_tolerance, evo_pinv_tolerance;
    /* [observables] */
    int obs_mask;                   /* bit k: ars_obs_kind k */
    int renyi_cuts[ARS_MAX_LAYERS]; /* after finalize: the cuts (auto: size/2) */
    int n_renyi_cuts;               /* 0 before finalize: auto */
    char obs_op[ARS_MAX_TERM_LINES][ARS_TERM_LINE_MAX]; /* operator lines "NAME: term" */
    int obs_op_line[ARS_MAX_TERM_LINES];                /* their lines in source; -1: --set */
    int n_obs_ops;
    char obs_ops_file[ARS_PATH_MAX]; /* "" for none */
    /* [output] */
    char file[ARS_PATH_MAX]; /* "" until finalised: then out/<config name>.h5 by default */
    /* Where each key was set: > 0 a line of `source`, 0 the default, -1 a --set override
     * (whose argument is kept in set_arg for messages). */
    int line[ARS_CONFIG_NKEYS];
    char set_arg[ARS_CONFIG_NKEYS][256];
} ars_config;

/* Index of a key in ars_config.line (and set_arg), or -1 for an unknown key. */
int ars_config_key_index(const char *section, const char *key);

/* Where a key was set, as a message prefix: "FILE:LINE" for a line of the config, "FILE" for a
 * default, "--set ARG" for an override (with unprintable bytes as '?'). */
void ars_config_where(const ars_config *c, const char *section, const char *key, char *buf,
                      size_t len);

/* Whether [model] init names a file to load (not random or x_polarized). */
int ars_config_init_from_file(const ars_config *c);

/* The same for one line of a repeatable key ([hamiltonian] term, [observables] operator),
 * given that line's number in the source (-1: a --set override). */
void ars_config_line_where(const ars_config *c, int line, const char *section, const char *key,
                           char *buf, size_t len);

/* Fills every key with its default. */
void ars_config_defaults(ars_config *c);

/* Parses an INI file over the current values. ARS_STATUS_ECONFIG on any error (reported). */
int ars_config_parse_file(ars_config *c, const char *path);

/* Parses INI text; `name` is used in messages in place of a file name. */
int ars_config_parse_string(ars_config *c, const char *text, const char *name);

/* Applies one override "section.key=value". */
int ars_config_set(ars_config *c, const char *assignment);

/* Checks the combination of keys and derives defaults that depend on others (the output file
 * from the config name). Call once after parsing and overrides. */
int ars_config_finalize(ars_config *c);

/* The network architecture the config describes (valid after ars_config_finalize). */
void ars_config_arch(const ars_config *c, ars_arch *arch);

/* The phase network the config describes: its type (NULL for [phase] type = none) and
 * architecture (nn/phase_keys.c). */
const ars_phase_type *ars_config_phase_type(const ars_config *c);
void ars_config_phase_arch(const ars_config *c, ars_phase_arch *arch);

/* [phase] kernel_dilation = auto: layer l's dilation K^l, capped at the chain size L: centred
 * taps at dilation K^l reach +-(K-1)/2 K^l, so the stack's receptive field has no gaps. */
int ars_phase_auto_dilation(int l, int K, int L);

/* The effective configuration as INI text, every key explicit (malloc'd; NULL if out of
 * memory). Parsing it back gives the same config. */
char *ars_config_dump(const ars_config *c);

/* The table of keys as documentation text: section, key, default, range (malloc'd). */
char *ars_config_describe(void);

#endif
