/*
 * config: arsampler's configuration: the key table assembled from the modules' own tables
 * (config_key.h), generic setters driven by each key's descriptor, the dump and the
 * documentation, and finalize, which runs the modules' cross-key checks. The INI syntax itself is
 * ini.c's. See config.h for the error format.
 */
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_key.h"
#include "config/ini.h"
#include "core/ars_common.h"
#include "opt/optimizer.h"
#include "space/hilbert.h"

/* One section's keys. */
typedef struct config_section {
    const char *name;
    const ars_config_key *keys;
    int n_keys;
} config_section;

/* The sections in the documented order, which is also the dump order and the key index order. */
static const config_section sections[] = {
    {"run", ars_run_keys, ARS_RUN_NKEYS},
    {"system", ars_hilbert_keys, ARS_HILBERT_NKEYS},
    {"model", ars_arnn_keys, ARS_ARNN_NKEYS},
    {"phase", ars_phase_keys, ARS_PHASE_NKEYS},
    {"sampler", ars_sampler_keys, ARS_SAMPLER_NKEYS},
    {"hamiltonian", ars_ham_keys, ARS_HAM_NKEYS},
    {"vmc", ars_vmc_keys, ARS_VMC_NKEYS},
    {"vmc", ars_opt_keys, ARS_OPT_NKEYS},
    {"vmc", ars_vmc_run_keys, ARS_VMC_RUN_NKEYS},
    {"evolve", ars_evolve_keys, ARS_EVOLVE_NKEYS},
    {"observables", ars_obs_keys, ARS_OBS_NKEYS},
    {"output", ars_output_keys, ARS_OUTPUT_NKEYS},
};
#define N_SECTIONS ((int)(sizeof sections / sizeof sections[0]))
_Static_assert(ARS_RUN_NKEYS + ARS_HILBERT_NKEYS + ARS_ARNN_NKEYS + ARS_PHASE_NKEYS +
                       ARS_SAMPLER_NKEYS + ARS_HAM_NKEYS + ARS_VMC_NKEYS + ARS_OPT_NKEYS +
                       ARS_VMC_RUN_NKEYS + ARS_EVOLVE_NKEYS + ARS_OBS_NKEYS + ARS_OUTPUT_NKEYS ==
                   ARS_CONFIG_NKEYS,
               "the section tables hold ARS_CONFIG_NKEYS keys");

/* The known sections for messages. */
#define SECTION_LIST "run, system, model, sampler, hamiltonian, vmc, observables, output"

/* Key i of the assembled table (0 <= i < ARS_CONFIG_NKEYS). */
static const ars_config_key *key_at(int i) {
    for (int s = 0; s < N_SECTIONS; s++) {
        if (i < sections[s].n_keys) {
            return &sections[s].keys[i];
        }
        i -= sections[s].n_keys;
    }
    ARS_ASSERT(0, "no key %d", i);
    return NULL;
}

static int find_key(const char *section, const char *key) {
    for (int i = 0; i < ARS_CONFIG_NKEYS; i++) {
        const ars_config_key *k = key_at(i);
        if (strcmp(k->section, section) == 0 && strcmp(k->key, key) == 0) {
            return i;
        }
    }
    return -1;
}

int ars_config_key_index(const char *section, const char *key) {
    return find_key(section, key);
}

static int known_section(const char *section) {
    for (int s = 0; s < N_SECTIONS; s++) {
        if (strcmp(sections[s].name, section) == 0) {
            return 1;
        }
    }
    return 0;
}

static void list_keys(const char *section, char *buf, size_t len) {
    buf[0] = '\0';
    for (int i = 0; i < ARS_CONFIG_NKEYS; i++) {
        const ars_config_key *k = key_at(i);
        if (strcmp(k->section, section) == 0) {
            if (buf[0] != '\0') {
                strncat(buf, ", ", len - strlen(buf) - 1);
            }
            strncat(buf, k->key, len - strlen(buf) - 1);
        }
    }
}

const char *ars_config_key_name(const ars_config_key *k, int i) {
    return k->names != NULL ? k->names[i] : k->name_at(i);
}

static int count_names(const ars_config_key *k) {
    int n = 0;
    while (ars_config_key_name(k, n) != NULL) {
        n++;
    }
    return n;
}

const char *ars_config_list_text(const int *v, int n, char *buf, size_t len) {
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        char one[24];
        snprintf(one, sizeof one, i > 0 ? ", %d" : "%d", v[i]);
        strncat(buf, one, len - strlen(buf) - 1);
    }
    return buf;
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

/* ---- the setters: one per key type, driven by the descriptor -------------------------------
 * Each parses `value` (quoted for messages as q) into the field at k->offset of c. */

typedef int (*key_setter)(ars_config *c, const ars_config_key *k, const char *value, const char *q,
                          ars_ini_where w);

#define FIELD(c, k) ((char *)(c) + (k)->offset)

static int set_integer(ars_config *c, const ars_config_key *k, const char *value, const char *q,
                       ars_ini_where w) {
    int64_t v;
    if (parse_int64(value, &v) != 0 || v < k->min || v > k->max) {
        return ars_ini_error(
            w, "[%s] %s: must be an integer from %" PRId64 " to %" PRId64 " (got '%s')", k->section,
            k->key, k->min, k->max, q);
    }
    if (k->type == ARS_KEY_INT) {
        *(int *)FIELD(c, k) = (int)v;
    } else {
        *(int64_t *)FIELD(c, k) = v;
    }
    return ARS_OK;
}

static int set_uint64(ars_config *c, const ars_config_key *k, const char *value, const char *q,
                      ars_ini_where w) {
    char *end;
    const char *s = value;
    while (isspace((unsigned char)*s)) {
        s++;
    }
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!isdigit((unsigned char)*s) || errno != 0 || *end != '\0') {
        return ars_ini_error(w,
                             "[%s] %s: must be an integer from 0 to 18446744073709551615 "
                             "(got '%s')",
                             k->section, k->key, q);
    }
    *(uint64_t *)FIELD(c, k) = (uint64_t)v;
    return ARS_OK;
}

static int set_spin(ars_config *c, const ars_config_key *k, const char *value, const char *q,
                    ars_ini_where w) {
    double twice;
    if (!half_integer(value, "0123456789.", &twice) || twice <= 0.0 ||
        twice > ARS_HILBERT_MAX_TWO_S) {
        return ars_ini_error(w, "[%s] %s: must be a positive multiple of 0.5 up to %g (got '%s')",
                             k->section, k->key, 0.5 * ARS_HILBERT_MAX_TWO_S, q);
    }
    *(int *)FIELD(c, k) = (int)twice;
    return ARS_OK;
}

static int set_sz(ars_config *c, const ars_config_key *k, const char *value, const char *q,
                  ars_ini_where w) {
    if (strcmp(value, "none") == 0) {
        *(int *)FIELD(c, k) = ARS_CONFIG_NO_SECTOR;
        return ARS_OK;
    }
    double twice;
    if (!half_integer(value, "0123456789.+-", &twice) || fabs(twice) > 1e9) {
        return ars_ini_error(w, "[%s] %s: must be none or a multiple of 0.5 (got '%s')", k->section,
                             k->key, q);
    }
    *(int *)FIELD(c, k) = (int)twice;
    return ARS_OK;
}

/* A repeatable key: each line is appended; the default "" (line 0) empties the list. */
static int set_lines(ars_config *c, const ars_config_key *k, const char *value, const char *q,
                     ars_ini_where w) {
    int *count = (int *)((char *)c + k->count_offset);
    if (w.line == 0 && value[0] == '\0') {
        *count = 0;
        return ARS_OK;
    }
    const size_t n = strlen(value);
    if (n == 0) {
        return ars_ini_error(w, "[%s] %s: must not be empty", k->section, k->key);
    }
    if (n >= k->line_len) {
        return ars_ini_error(w,
                             "[%s] %s: longer than %zu characters (got '%s'); put long lists "
                             "in a file",
                             k->section, k->key, k->line_len - 1, q);
    }
    if (*count >= (int)k->max) {
        return ars_ini_error(w, "[%s] %s: more than %d lines; put the rest in a file", k->section,
                             k->key, (int)k->max);
    }
    for (size_t i = 0; i < n; i++) {
        const unsigned char ch = (unsigned char)value[i];
        const int comment =
            (ch == ';' || ch == '#') && (i == 0 || isspace((unsigned char)value[i - 1]));
        if (ch < 0x20 || ch == 0x7f || comment) {
            return ars_ini_error(w,
                                 "[%s] %s: must not contain control characters, or ';' or '#' "
                                 "after a space (they start a comment) (got '%s')",
                                 k->section, k->key, q);
        }
    }
    memcpy(FIELD(c, k) + (size_t)*count * k->line_len, value, n + 1);
    ((int *)((char *)c + k->where_offset))[*count] = w.line;
    (*count)++;
    return ARS_OK;
}

static int set_bool(ars_config *c, const ars_config_key *k, const char *value, const char *q,
                    ars_ini_where w) {
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(value, yes[i]) == 0) {
            *(int *)FIELD(c, k) = 1;
            return ARS_OK;
        }
        if (strcmp(value, no[i]) == 0) {
            *(int *)FIELD(c, k) = 0;
            return ARS_OK;
        }
    }
    return ars_ini_error(w, "[%s] %s: must be true or false (got '%s')", k->section, k->key, q);
}

static int set_enum(ars_config *c, const ars_config_key *k, const char *value, const char *q,
                    ars_ini_where w) {
    char allowed[256] = "";
    for (int i = 0; ars_config_key_name(k, i) != NULL; i++) {
        const char *name = ars_config_key_name(k, i);
        if (strcmp(value, name) == 0) {
            *(int *)FIELD(c, k) = i;
            return ARS_OK;
        }
        if (i > 0) {
            strncat(allowed, ", ", sizeof allowed - strlen(allowed) - 1);
        }
        strncat(allowed, name, sizeof allowed - strlen(allowed) - 1);
    }
    return ars_ini_error(w, "[%s] %s: must be one of %s (got '%s')", k->section, k->key, allowed,
                         q);
}

static int set_string(ars_config *c, const ars_config_key *k, const char *value, const char *q,
                      ars_ini_where w) {
    size_t n = strlen(value);
    if (n >= ARS_PATH_MAX) {
        return ars_ini_error(w, "[%s] %s: longer than %d characters (got '%s')", k->section, k->key,
                             ARS_PATH_MAX - 1, q);
    }
    if (n == 0 && !k->may_be_empty) {
        return ars_ini_error(w, "[%s] %s: must not be empty", k->section, k->key);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)value[i];
        int comment = (ch == ';' || ch == '#') && (i == 0 || isspace((unsigned char)value[i - 1]));
        if (ch < 0x20 || ch == 0x7f || comment) {
            return ars_ini_error(w,
                                 "[%s] %s: must not contain control characters, or ';' or '#' "
                                 "after a space (they start a comment) (got '%s')",
                                 k->section, k->key, q);
        }
    }
    memcpy(FIELD(c, k), value, n + 1);
    return ARS_OK;
}

static int set_double(ars_config *c, const ars_config_key *k, const char *value, const char *q,
                      ars_ini_where w) {
    if (k->type == ARS_KEY_DOUBLE_AUTO && strcmp(value, "auto") == 0) {
        const double nan = (double)NAN;
        memcpy(FIELD(c, k), &nan, sizeof nan);
        return ARS_OK;
    }
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    /* Decimal notation only: strtod also takes hex, inf and nan. */
    int plain = strspn(value, "0123456789.eE+-") == strlen(value);
    if (!plain || errno != 0 || end == value || *end != '\0' || !isfinite(v) || v < k->dmin ||
        v > k->dmax) {
        return ars_ini_error(w, "[%s] %s: must be a number from %g to %g%s (got '%s')", k->section,
                             k->key, k->dmin, k->dmax,
                             k->type == ARS_KEY_DOUBLE_AUTO ? ", or auto" : "", q);
    }
    memcpy(FIELD(c, k), &v, sizeof v);
    return ARS_OK;
}

/* The bit of one name of a KEY_NAMES list (tok, trimmed) added to *mask. */
static int add_name(unsigned *mask, char *tok, const ars_config_key *k, const char *allowed,
                    const char *q, ars_ini_where w) {
    tok = ars_ini_trim(tok);
    int found = -1;
    for (int i = 0; ars_config_key_name(k, i) != NULL; i++) {
        if (strcmp(tok, ars_config_key_name(k, i)) == 0) {
            found = i;
        }
    }
    char tq[96];
    ars_ini_quote(tok, tq, sizeof tq);
    if (found < 0) {
        return ars_ini_error(w, "[%s] %s: unknown name '%s'; known: %s (got '%s')", k->section,
                             k->key, tq, allowed, q);
    }
    if (*mask & (1u << found)) {
        return ars_ini_error(w, "[%s] %s: '%s' is listed twice (got '%s')", k->section, k->key, tq,
                             q);
    }
    *mask |= 1u << found;
    return ARS_OK;
}

/* The aliases of an ARS_KEY_NAMES key: its own, or none and all. */
static const ars_config_alias *names_aliases(const ars_config_key *k, ars_config_alias *dflt) {
    if (k->aliases != NULL) {
        return k->aliases;
    }
    dflt[0] = (ars_config_alias){"none", 0u};
    dflt[1] = (ars_config_alias){"all", (1u << count_names(k)) - 1u};
    dflt[2] = (ars_config_alias){NULL, 0u};
    return dflt;
}

static int set_names(ars_config *c, const ars_config_key *k, const char *value, const char *q,
                     ars_ini_where w) {
    unsigned mask = 0;
    ars_config_alias dflt[3];
    const ars_config_alias *al = names_aliases(k, dflt);
    char allowed[512] = "", whole[128] = ""; /* every name; the aliases ("none, all") */
    for (int i = 0; al[i].name != NULL; i++) {
        strncat(whole, i ? ", " : "", sizeof whole - strlen(whole) - 1);
        strncat(whole, al[i].name, sizeof whole - strlen(whole) - 1);
        if (strcmp(value, al[i].name) == 0) {
            *(int *)FIELD(c, k) = (int)al[i].mask;
            return ARS_OK;
        }
    }
    snprintf(allowed, sizeof allowed, "%s", whole);
    for (int i = 0; ars_config_key_name(k, i) != NULL; i++) {
        strncat(allowed, ", ", sizeof allowed - strlen(allowed) - 1);
        strncat(allowed, ars_config_key_name(k, i), sizeof allowed - strlen(allowed) - 1);
    }
    char buf[1024];
    if (strlen(value) >= sizeof buf || value[0] == '\0' || value[0] == ',' ||
        value[strlen(value) - 1] == ',' || strstr(value, ",,") != NULL) {
        return ars_ini_error(w, "[%s] %s: must be %s or a comma-separated list of %s (got '%s')",
                             k->section, k->key, whole, allowed, q);
    }
    strcpy(buf, value);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        int rc = add_name(&mask, tok, k, allowed, q, w);
        if (rc != ARS_OK) {
            return rc;
        }
    }
    *(int *)FIELD(c, k) = (int)mask;
    return ARS_OK;
}

static int set_intlist(ars_config *c, const ars_config_key *k, const char *value, const char *q,
                       ars_ini_where w) {
    int *count_field = (int *)((char *)c + k->count_offset);
    if (strcmp(k->def, "auto") == 0 && strcmp(value, "auto") == 0) {
        *count_field = 0; /* derived in finalize */
        return ARS_OK;
    }
    int tmp[ARS_MAX_LAYERS];
    int count = 0;
    char buf[1024];
    if (strlen(value) >= sizeof buf) {
        return ars_ini_error(w, "[%s] %s: list too long (got '%s')", k->section, k->key, q);
    }
    strcpy(buf, value);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        int64_t v;
        if (count == ARS_MAX_LAYERS) {
            return ars_ini_error(w, "[%s] %s: at most %d entries (got '%s')", k->section, k->key,
                                 ARS_MAX_LAYERS, q);
        }
        if (parse_int64(tok, &v) != 0 || v < k->min || v > k->max) {
            return ars_ini_error(w,
                                 "[%s] %s: must be an integer or a comma-separated list of "
                                 "integers from %" PRId64 " to %" PRId64 " (got '%s')",
                                 k->section, k->key, k->min, k->max, q);
        }
        tmp[count++] = (int)v;
    }
    if (count == 0 || value[strlen(value) - 1] == ',' || value[0] == ',' ||
        strstr(value, ",,") != NULL) {
        return ars_ini_error(w, "[%s] %s: must be an integer or a comma-separated list (got '%s')",
                             k->section, k->key, q);
    }
    memcpy(FIELD(c, k), tmp, (size_t)count * sizeof(int));
    *count_field = count;
    return ARS_OK;
}

static const key_setter setters[] = {
    [ARS_KEY_INT] = set_integer,   [ARS_KEY_INT64] = set_integer,
    [ARS_KEY_UINT64] = set_uint64, [ARS_KEY_SPIN] = set_spin,
    [ARS_KEY_BOOL] = set_bool,     [ARS_KEY_ENUM] = set_enum,
    [ARS_KEY_STRING] = set_string, [ARS_KEY_INTLIST] = set_intlist,
    [ARS_KEY_DOUBLE] = set_double, [ARS_KEY_DOUBLE_AUTO] = set_double,
    [ARS_KEY_NAMES] = set_names,   [ARS_KEY_SZ] = set_sz,
    [ARS_KEY_LINES] = set_lines,
};
_Static_assert(sizeof setters / sizeof setters[0] == ARS_KEY_TYPE_COUNT, "one setter per key type");

static int set_value(ars_config *c, int ki, const char *value, ars_ini_where w) {
    const ars_config_key *k = key_at(ki);
    char q[96];
    ars_ini_quote(value, q, sizeof q);
    return setters[k->type](c, k, value, q, w);
}

void ars_config_defaults(ars_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->source, sizeof c->source, "(defaults)");
    for (int i = 0; i < ARS_CONFIG_NKEYS; i++) {
        ars_ini_where w = {"(defaults)", 0};
        int rc = set_value(c, i, key_at(i)->def, w);
        ARS_ASSERT(rc == ARS_OK, "bad default for %s", key_at(i)->key);
        c->line[i] = 0;
    }
    for (int h = 0; h < ARS_OPT_N_HYPER; h++) {
        ARS_ASSERT(strcmp(ars_opt_keys[h].key, ars_opt_hyper_names[h]) == 0 &&
                       ars_opt_keys[h].offset == ARS_CONFIG_OFF(opt_hyper[h]),
                   "[vmc] %s is not hyperparameter %s", ars_opt_keys[h].key,
                   ars_opt_hyper_names[h]);
    }
}

/* ---- parsing ------------------------------------------------------------------------------ */

static int unknown_section(const char *section, ars_ini_where w) {
    char q[96];
    return ars_ini_error(w, "unknown section [%s] (known sections: " SECTION_LIST ")",
                         ars_ini_quote(section, q, sizeof q));
}

static int unknown_key(const char *section, const char *key, ars_ini_where w) {
    char q[96];
    char known[512];
    list_keys(section, known, sizeof known);
    return ars_ini_error(w, "[%s] %s: unknown key (keys of [%s]: %s)", section,
                         ars_ini_quote(key, q, sizeof q), section, known);
}

static int on_section(void *ctx, const char *section, ars_ini_where w) {
    (void)ctx;
    return known_section(section) ? ARS_OK : unknown_section(section, w);
}

static int on_key(void *ctx, const char *section, const char *key, const char *value,
                  ars_ini_where w) {
    ars_config *c = ctx;
    int ki = find_key(section, key);
    if (ki < 0) {
        return unknown_key(section, key, w);
    }
    if (c->line[ki] > 0 && !key_at(ki)->repeatable) {
        return ars_ini_error(w, "[%s] %s: given twice (first on line %d)", section, key,
                             c->line[ki]);
    }
    int rc = set_value(c, ki, value, w);
    c->line[ki] = w.line;
    return rc;
}

int ars_config_parse_string(ars_config *c, const char *text, const char *name) {
    static const ars_ini_handler handler = {on_section, on_key};
    int rc = ars_ini_parse(text, name, &handler, c);
    if (rc != ARS_OK) {
        return rc;
    }
    snprintf(c->source, sizeof c->source, "%s", name);
    return ARS_OK;
}

int ars_config_parse_file(ars_config *c, const char *path) {
    char *text = NULL;
    int rc = ars_ini_read_file(path, &text);
    if (rc != ARS_OK) {
        return rc;
    }
    rc = ars_config_parse_string(c, text, path);
    if (rc == ARS_OK && !ars_ini_has_content(text)) {
        /* An empty file is a truncated or wrong file far more often than a request for the
         * defaults. */
        rc = ars_ini_error((ars_ini_where){path, 1},
                           "empty config file: no [section] and no key (a config sets at least "
                           "one key; `arsampler --print-config` shows the defaults)");
    }
    free(text);
    return rc;
}

int ars_config_set(ars_config *c, const char *assignment) {
    ars_ini_where w = {assignment, -1};
    const char *dot = strchr(assignment, '.');
    const char *eq = strchr(assignment, '=');
    if (dot == NULL || eq == NULL || dot > eq) {
        return ars_ini_error(w, "expected section.key=value");
    }
    char section[64], key[64];
    size_t ns = (size_t)(dot - assignment), nk = (size_t)(eq - dot - 1);
    if (ns == 0 || ns >= sizeof section || nk == 0 || nk >= sizeof key) {
        return ars_ini_error(w, "expected section.key=value");
    }
    memcpy(section, assignment, ns);
    section[ns] = '\0';
    memcpy(key, dot + 1, nk);
    key[nk] = '\0';
    if (!known_section(section)) {
        return unknown_section(section, w);
    }
    int ki = find_key(section, key);
    if (ki < 0) {
        return unknown_key(section, key, w);
    }
    char value[ARS_PATH_MAX + 16];
    snprintf(value, sizeof value, "%s", eq + 1);
    int rc = set_value(c, ki, ars_ini_trim(value), w);
    if (rc == ARS_OK) {
        c->line[ki] = -1;
        snprintf(c->set_arg[ki], sizeof c->set_arg[ki], "%s", assignment);
    }
    return rc;
}

/* ---- where keys were set, and the cross-key checks ------------------------------------------ */

static int find_key_or_die(const char *section, const char *key) {
    int ki = find_key(section, key);
    ARS_ASSERT(ki >= 0, "no key %s.%s", section, key);
    return ki;
}

ars_ini_where ars_config_key_where(const ars_config *c, const char *section, const char *key) {
    const int ki = find_key_or_die(section, key);
    if (c->line[ki] < 0) {
        ars_ini_where w = {c->set_arg[ki], -1};
        return w;
    }
    ars_ini_where w = {c->source, c->line[ki] > 0 ? c->line[ki] : 0};
    return w;
}

int ars_config_key_given(const ars_config *c, const char *section, const char *key) {
    return c->line[find_key_or_die(section, key)] != 0;
}

void ars_config_where(const ars_config *c, const char *section, const char *key, char *buf,
                      size_t len) {
    const ars_ini_where w = ars_config_key_where(c, section, key);
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

int ars_config_init_from_file(const ars_config *c) {
    return strcmp(c->init, "random") != 0 && strcmp(c->init, ARS_INIT_X_POLARIZED) != 0;
}

void ars_config_line_where(const ars_config *c, int line, const char *section, const char *key,
                           char *buf, size_t len) {
    if (line > 0) {
        snprintf(buf, len, "%.280s:%d", c->source, line);
    } else {
        snprintf(buf, len, "--set %s.%s", section, key);
    }
}

/* A key set where it means nothing (ars_config_key.active) is a mistake. */
static int check_active_keys(const ars_config *c) {
    for (int i = 0; i < ARS_CONFIG_NKEYS; i++) {
        const ars_config_key *k = key_at(i);
        if (k->active != NULL && c->line[i] != 0 && !k->active(c)) {
            return ars_ini_error(ars_config_key_where(c, k->section, k->key), "[%s] %s: %s",
                                 k->section, k->key, k->inactive);
        }
    }
    return ARS_OK;
}

int ars_config_finalize(ars_config *c) {
    int rc = check_active_keys(c);
    if (rc == ARS_OK) {
        rc = ars_arnn_config_check_lists(c);
    }
    if (rc == ARS_OK) {
        rc = ars_hilbert_config_check(c);
    }
    if (rc == ARS_OK) {
        rc = ars_arnn_config_check_arch(c);
    }
    if (rc == ARS_OK) {
        rc = ars_phase_config_check(c);
    }
    if (rc == ARS_OK) {
        rc = ars_ham_config_check(c);
    }
    if (rc == ARS_OK) {
        rc = ars_sampler_config_check(c);
    }
    if (rc == ARS_OK) {
        rc = ars_opt_config_check(c);
    }
    if (rc == ARS_OK) {
        rc = ars_vmc_config_check(c);
    }
    if (rc == ARS_OK) {
        rc = ars_evolve_config_check(c);
    }
    if (rc == ARS_OK) {
        rc = ars_obs_config_check(c);
    }
    if (rc == ARS_OK) {
        ars_output_config_derive(c);
    }
    return rc;
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
        arch->dilation[l] = c->n_dilation == 0 ? ars_arch_auto_dilation(l, c->kernel_size, c->size)
                                               : c->dilation[c->n_dilation > 1 ? l : 0];
    }
    arch->features[c->layers - 1] = arch->hilbert.local_size;
    arch->feature_group_count = c->feature_group_count;
    arch->use_bias = c->use_bias;
    arch->activation = (ars_activation)c->activation;
    arch->input = (ars_input)c->input;
    arch->sublattice = c->sublattice;
    arch->symmetry = (ars_sym)c->symmetrize;
    if (c->two_m != ARS_CONFIG_NO_SECTOR &&
        ars_hilbert_sector_reachable(&arch->hilbert, c->two_m)) {
        ars_hilbert_set_sector(&arch->hilbert, c->two_m);
    }
}

/* ---- dump -------------------------------------------------------------------------------- */

static void format_value(const ars_config *c, int ki, char *buf, size_t len) {
    const ars_config_key *k = key_at(ki);
    const char *field = (const char *)c + k->offset;
    switch (k->type) {
        case ARS_KEY_INT:
            snprintf(buf, len, "%d", *(const int *)field);
            break;
        case ARS_KEY_INT64:
            snprintf(buf, len, "%" PRId64, *(const int64_t *)field);
            break;
        case ARS_KEY_UINT64:
            snprintf(buf, len, "%" PRIu64, *(const uint64_t *)field);
            break;
        case ARS_KEY_SPIN:
            snprintf(buf, len, "%g", 0.5 * *(const int *)field);
            break;
        case ARS_KEY_SZ:
            if (*(const int *)field == ARS_CONFIG_NO_SECTOR) {
                snprintf(buf, len, "none");
            } else {
                snprintf(buf, len, "%g", 0.5 * *(const int *)field);
            }
            break;
        case ARS_KEY_BOOL:
            snprintf(buf, len, "%s", *(const int *)field ? "true" : "false");
            break;
        case ARS_KEY_ENUM:
            snprintf(buf, len, "%s", ars_config_key_name(k, *(const int *)field));
            break;
        case ARS_KEY_STRING:
            snprintf(buf, len, "%s", field);
            break;
        case ARS_KEY_INTLIST: {
            const int cnt = *(const int *)((const char *)c + k->count_offset);
            if (cnt == 0) {
                snprintf(buf, len, "auto");
            } else {
                ars_config_list_text((const int *)field, cnt, buf, len);
            }
            break;
        }
        case ARS_KEY_NAMES: {
            const unsigned mask = (unsigned)*(const int *)field;
            const int n = count_names(k);
            ars_config_alias dflt[3];
            const ars_config_alias *al = names_aliases(k, dflt);
            int i = 0;
            while (al[i].name != NULL && al[i].mask != mask) {
                i++;
            }
            if (al[i].name != NULL) {
                snprintf(buf, len, "%s", al[i].name);
            } else {
                buf[0] = '\0';
                for (int j = 0; j < n; j++) {
                    if (mask & (1u << j)) {
                        strncat(buf, buf[0] != '\0' ? ", " : "", len - strlen(buf) - 1);
                        strncat(buf, ars_config_key_name(k, j), len - strlen(buf) - 1);
                    }
                }
            }
            break;
        }
        case ARS_KEY_DOUBLE:
        case ARS_KEY_DOUBLE_AUTO: {
            double v;
            memcpy(&v, field, sizeof v);
            if (isnan(v)) {
                snprintf(buf, len, "auto");
            } else {
                snprintf(buf, len, "%.17g", v); /* round-trips exactly */
            }
            break;
        }
        case ARS_KEY_LINES: /* written line by line by ars_config_dump */
            snprintf(buf, len, "(%d lines)", *(const int *)((const char *)c + k->count_offset));
            break;
        case ARS_KEY_TYPE_COUNT:
            break;
    }
}

char *ars_config_dump(const ars_config *c) {
    size_t cap = 5 * ARS_PATH_MAX + 4096 +
                 (size_t)(c->n_ham_terms + c->n_obs_ops) * (ARS_TERM_LINE_MAX + 16),
           used = 0;
    char *out = malloc(cap);
    if (out == NULL) {
        return NULL;
    }
    used += (size_t)snprintf(out + used, cap - used,
                             "; effective configuration of arsampler %s (defaults and overrides "
                             "applied)\n",
                             ARS_VERSION);
    const char *section = ""; /* the last header written: a section without an active key has
                               * none ([evolve] outside mode = evolve) */
    char value[ARS_PATH_MAX];
    for (int i = 0; i < ARS_CONFIG_NKEYS; i++) {
        const ars_config_key *k = key_at(i);
        if (k->active != NULL && !k->active(c)) {
            continue; /* meaningless here, and at its default */
        }
        if (strcmp(section, k->section) != 0) {
            used += (size_t)snprintf(out + used, cap - used, "%s[%s]\n",
                                     section[0] != '\0' ? "\n" : "", k->section);
            section = k->section;
        }
        if (k->type == ARS_KEY_LINES) {
            /* One line per entry; none: nothing (an empty value is not an entry). */
            const int n = *(const int *)((const char *)c + k->count_offset);
            for (int j = 0; j < n; j++) {
                used += (size_t)snprintf(out + used, cap - used, "%s = %s\n", k->key,
                                         (const char *)c + k->offset + (size_t)j * k->line_len);
            }
            continue;
        }
        format_value(c, i, value, sizeof value);
        used += (size_t)snprintf(out + used, cap - used, "%s = %s\n", k->key, value);
    }
    return out;
}

/* The range column of one key in the documentation. */
static void describe_range(const ars_config_key *k, char *range, size_t len) {
    range[0] = '\0';
    switch (k->type) {
        case ARS_KEY_INT:
        case ARS_KEY_INT64:
            snprintf(range, len, "integer %" PRId64 "..%" PRId64, k->min, k->max);
            break;
        case ARS_KEY_INTLIST:
            snprintf(range, len, "integer or list, entries %" PRId64 "..%" PRId64, k->min, k->max);
            break;
        case ARS_KEY_UINT64:
            snprintf(range, len, "integer 0..2^64-1");
            break;
        case ARS_KEY_SPIN:
            snprintf(range, len, "0.5, 1, 1.5, ..., 63");
            break;
        case ARS_KEY_SZ:
            snprintf(range, len, "none | a multiple of 0.5");
            break;
        case ARS_KEY_BOOL:
            snprintf(range, len, "true | false");
            break;
        case ARS_KEY_ENUM:
            for (int j = 0; ars_config_key_name(k, j) != NULL; j++) {
                strncat(range, j > 0 ? " | " : "", len - strlen(range) - 1);
                strncat(range, ars_config_key_name(k, j), len - strlen(range) - 1);
            }
            break;
        case ARS_KEY_STRING:
            snprintf(range, len, "text");
            break;
        case ARS_KEY_LINES:
            snprintf(range, len, "text; repeatable, up to %d lines", (int)k->max);
            break;
        case ARS_KEY_NAMES:
            if (k->aliases != NULL) {
                range[0] = '\0';
                for (int i = 0; k->aliases[i].name != NULL; i++) {
                    strncat(range, k->aliases[i].name, len - strlen(range) - 1);
                    strncat(range, " | ", len - strlen(range) - 1);
                }
                strncat(range, "list of names", len - strlen(range) - 1);
            } else {
                snprintf(range, len, "none | all | list of names");
            }
            break;
        case ARS_KEY_DOUBLE:
        case ARS_KEY_DOUBLE_AUTO:
            snprintf(range, len, "number %g..%g%s", k->dmin, k->dmax,
                     k->type == ARS_KEY_DOUBLE_AUTO ? " or auto" : "");
            break;
        case ARS_KEY_TYPE_COUNT:
            break;
    }
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
        const ars_config_key *k = key_at(i);
        if (strcmp(section, k->section) != 0) {
            section = k->section;
            used += (size_t)snprintf(out + used, cap - used, "[%s]\n", section);
        }
        char range[128];
        describe_range(k, range, sizeof range);
        used += (size_t)snprintf(out + used, cap - used, "  %-20s default %-8s (%s)\n      %s\n",
                                 k->key,
                                 k->def[0] != '\0'          ? k->def
                                 : k->type == ARS_KEY_LINES ? "(none)"
                                                            : "(derived)",
                                 range, k->help);
        if (used >= cap) {
            break;
        }
    }
    return out;
}
