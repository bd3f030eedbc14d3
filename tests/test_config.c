/*
 * Tests of the config module: defaults, the strict INI syntax, every class of error (with the
 * exact one-line message on stderr, captured by redirecting file descriptor 2), the cross-key
 * checks of ars_config_finalize, --set overrides and the dump/parse round trip.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

#include <limits.h>
#include <math.h>

#include "core/ars_common.h"
#include "config/config.h"
#include "config/config_key.h"
#include "config/ini.h"
#include "vmc/observables.h"

/* Indices of keys in ars_config.line, looked up by name. */
#define K_SIZE ars_config_key_index("system", "size")
#define K_SPIN ars_config_key_index("system", "spin")
#define K_LAYERS ars_config_key_index("model", "layers")
#define K_FEATURES ars_config_key_index("model", "features")
#define K_KERNEL_SIZE ars_config_key_index("model", "kernel_size")
#define K_INIT ars_config_key_index("model", "init")
#define K_SEED ars_config_key_index("sampler", "seed")

/* ---- capturing stderr -------------------------------------------------------------------- */

static FILE *capture_file;
static int capture_saved_fd = -1;
static char captured[16384];

static void capture_begin(void) {
    fflush(stderr);
    capture_file = tmpfile();
    assert_non_null(capture_file);
    capture_saved_fd = dup(STDERR_FILENO);
    assert_true(capture_saved_fd >= 0);
    assert_true(dup2(fileno(capture_file), STDERR_FILENO) >= 0);
}

static const char *capture_end(void) {
    fflush(stderr);
    dup2(capture_saved_fd, STDERR_FILENO);
    close(capture_saved_fd);
    capture_saved_fd = -1;
    rewind(capture_file);
    size_t n = fread(captured, 1, sizeof captured - 1, capture_file);
    captured[n] = '\0';
    fclose(capture_file);
    capture_file = NULL;
    return captured;
}

/* ---- helpers ----------------------------------------------------------------------------- */

/* `s` with every POSIX ERE metacharacter escaped (static buffer per call site slot). */
static const char *re_escape(const char *s) {
    static char buf[4][8192];
    static int next = 0;
    char *out = buf[next++ % 4];
    size_t j = 0;
    for (size_t i = 0; s[i] != '\0' && j + 3 < sizeof buf[0]; i++) {
        if (strchr(".[]()*+?{}|^$\\", s[i]) != NULL) {
            out[j++] = '\\';
        }
        out[j++] = s[i];
    }
    out[j] = '\0';
    return out;
}

/* Requires `text` to be exactly one line (ending in a newline) that matches the ERE `pattern`. */
static void assert_one_line_matching(const char *text, const char *pattern) {
    size_t n = strlen(text);
    if (n == 0 || text[n - 1] != '\n' || strchr(text, '\n') != text + n - 1) {
        fail_msg("expected exactly one line on stderr matching /%s/, got \"%s\"", pattern, text);
    }
    char line[sizeof captured];
    memcpy(line, text, n - 1);
    line[n - 1] = '\0';
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    int m = regexec(&re, line, 0, NULL, 0);
    regfree(&re);
    if (m != 0) {
        fail_msg("stderr line \"%s\" does not match /%s/", line, pattern);
    }
}

/* Parses `text` (named "test.ini") over the defaults and finalises; both must succeed silently. */
static void parse_ok(ars_config *c, const char *text) {
    ars_config_defaults(c);
    capture_begin();
    int rc = ars_config_parse_string(c, text, "test.ini");
    int rc2 = rc == ARS_OK ? ars_config_finalize(c) : ARS_OK;
    const char *err = capture_end();
    if (rc != ARS_OK || rc2 != ARS_OK || err[0] != '\0') {
        fail_msg("expected \"%s\" to be valid; got status %d/%d and stderr \"%s\"", text, rc, rc2,
                 err);
    }
}

/* Parsing `text` (named "test.ini") must fail with ARS_STATUS_ECONFIG and one line matching
 * `pattern` on stderr. */
static void parse_fails(const char *text, const char *pattern) {
    ars_config c;
    ars_config_defaults(&c);
    capture_begin();
    int rc = ars_config_parse_string(&c, text, "test.ini");
    const char *err = capture_end();
    if (rc != ARS_STATUS_ECONFIG) {
        fail_msg("parsing \"%s\": expected ARS_STATUS_ECONFIG, got %d (stderr \"%s\")", text, rc,
                 err);
    }
    assert_one_line_matching(err, pattern);
}

/* Parsing `text` must succeed silently and ars_config_finalize must then fail with
 * ARS_STATUS_ECONFIG and one line matching `pattern`. */
static void finalize_fails(const char *text, const char *pattern) {
    ars_config c;
    ars_config_defaults(&c);
    capture_begin();
    int rc = ars_config_parse_string(&c, text, "test.ini");
    const char *err = capture_end();
    if (rc != ARS_OK || err[0] != '\0') {
        fail_msg("parsing \"%s\": expected success, got %d (stderr \"%s\")", text, rc, err);
    }
    capture_begin();
    rc = ars_config_finalize(&c);
    err = capture_end();
    if (rc != ARS_STATUS_ECONFIG) {
        fail_msg("finalising \"%s\": expected ARS_STATUS_ECONFIG, got %d (stderr \"%s\")", text, rc,
                 err);
    }
    assert_one_line_matching(err, pattern);
}

/* The override `assignment` must fail with ARS_STATUS_ECONFIG and one line matching `pattern`. */
static void set_fails(const char *assignment, const char *pattern) {
    ars_config c;
    ars_config_defaults(&c);
    capture_begin();
    int rc = ars_config_set(&c, assignment);
    const char *err = capture_end();
    if (rc != ARS_STATUS_ECONFIG) {
        fail_msg("--set %s: expected ARS_STATUS_ECONFIG, got %d (stderr \"%s\")", assignment, rc,
                 err);
    }
    assert_one_line_matching(err, pattern);
}

/* `value` for section.key must be refused both in a file (line 2 of "test.ini") and as a --set
 * override, with "[section] key: " followed by a match of `why`. */
static void rejects(const char *section, const char *key, const char *value, const char *why) {
    char text[8192], pattern[16384], assignment[8192];
    snprintf(text, sizeof text, "[%s]\n%s = %s\n", section, key, value);
    snprintf(pattern, sizeof pattern, "^test\\.ini:2: \\[%s\\] %s: %s", section, key, why);
    parse_fails(text, pattern);
    snprintf(assignment, sizeof assignment, "%s.%s=%s", section, key, value);
    snprintf(pattern, sizeof pattern, "^--set %s: \\[%s\\] %s: %s", re_escape(assignment), section,
             key, why);
    set_fails(assignment, pattern);
}

/* `value` for section.key must be accepted both in a file and as a --set override, giving the
 * same configuration; the parsed configuration is returned in *c (not finalised). */
static void accepts(ars_config *c, const char *section, const char *key, const char *value) {
    char text[8192], assignment[8192];
    snprintf(text, sizeof text, "[%s]\n%s = %s\n", section, key, value);
    ars_config_defaults(c);
    capture_begin();
    int rc = ars_config_parse_string(c, text, "test.ini");
    const char *err = capture_end();
    if (rc != ARS_OK || err[0] != '\0') {
        fail_msg("[%s] %s = %s: expected success, got %d (stderr \"%s\")", section, key, value, rc,
                 err);
    }
    ars_config via_set;
    ars_config_defaults(&via_set);
    snprintf(assignment, sizeof assignment, "%s.%s=%s", section, key, value);
    capture_begin();
    rc = ars_config_set(&via_set, assignment);
    err = capture_end();
    if (rc != ARS_OK || err[0] != '\0') {
        fail_msg("--set %s: expected success, got %d (stderr \"%s\")", assignment, rc, err);
    }
    char *a = ars_config_dump(c);
    char *b = ars_config_dump(&via_set);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* Dump of a configuration after finalize (caller frees). */
static char *dump_of(const ars_config *c) {
    char *d = ars_config_dump(c);
    assert_non_null(d);
    return d;
}

static void write_file(const char *path, const char *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* ---- defaults ---------------------------------------------------------------------------- */

static void test_defaults_give_every_key_its_documented_value(void **state) {
    (void)state;
    ars_config c;
    ars_config_defaults(&c);
    assert_int_equal(c.mode, ARS_MODE_SAMPLE);
    assert_int_equal(c.threads, 0);
    assert_int_equal(c.size, 16);
    assert_int_equal(c.two_s, 1);
    assert_int_equal(c.layers, 3);
    assert_int_equal(c.n_features, 1);
    assert_int_equal(c.features[0], 16);
    assert_int_equal(c.kernel_size, 3);
    assert_int_equal(c.n_dilation, 0); /* auto */
    assert_int_equal(c.activation, ARS_ACTIVATION_SELU);
    assert_int_equal(c.use_bias, 1);
    assert_int_equal(c.feature_group_count, 1);
    assert_int_equal(c.input, ARS_INPUT_VALUE);
    assert_string_equal(c.init, "random");
    assert_int_equal(c.n_samples, 4096);
    assert_int_equal(c.chunk_size, 256);
    assert_int_equal(c.seed, 1234);
    assert_string_equal(c.file, "");
    for (int i = 0; i < ARS_CONFIG_NKEYS; i++) {
        assert_int_equal(c.line[i], 0);
    }
}

/* kernel_dilation = auto: 1, K-1, (K-1)K, ... capped at the size; the receptive field of the
 * default network (3 layers, kernel 3: dilations 1, 2, 6) is 18 sites without gaps, and an
 * explicit value is kept. */
static void test_auto_dilation_covers_the_chain_without_gaps(void **state) {
    (void)state;
    ars_config c;
    parse_ok(&c, "[system]\nsize = 19\n");
    ars_arch a;
    ars_config_arch(&c, &a);
    assert_int_equal(a.dilation[0], 1);
    assert_int_equal(a.dilation[1], 2);
    assert_int_equal(a.dilation[2], 6);
    uint8_t depends[2 * 19];
    assert_int_equal(ars_arch_receptive_field(&a, depends), 18);
    for (int r = 1; r < 19; r++) {
        assert_int_equal(depends[r], 1); /* every earlier site of the 19-site chain */
    }
    assert_int_equal(ars_arch_auto_dilation(3, 4, 1000), 48); /* (K-1) K^2 */
    assert_int_equal(ars_arch_auto_dilation(5, 3, 20), 20);   /* capped at the size */
    assert_int_equal(ars_arch_auto_dilation(1, 2, 1), 1);     /* never below 1 */
    parse_ok(&c, "[model]\nkernel_dilation = 1\n");
    ars_config_arch(&c, &a);
    assert_int_equal(a.dilation[2], 1);
}

static void test_defaults_pass_finalize_and_every_key_has_a_value(void **state) {
    (void)state;
    ars_config c;
    ars_config_defaults(&c);
    assert_int_equal(ars_config_finalize(&c), ARS_OK);
    /* Without a config file the output is named after the program. */
    assert_string_equal(c.file, "out/arsampler.h5");
    char *d = dump_of(&c);
    int n_keys = 0;
    for (char *line = strtok(d, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (line[0] == ';' || line[0] == '[') {
            continue;
        }
        char *eq = strstr(line, " = ");
        assert_non_null(eq);
        /* A value, never empty after finalize, except the files of terms and operators (none:
         * empty). */
        assert_true(eq[3] != '\0' || strncmp(line, "terms_file", 10) == 0 ||
                    strncmp(line, "operators_file", 14) == 0);
        n_keys++;
    }
    /* Every key but term and operator, which the dump writes once per line given (none here), the
     * [phase] keys that mean nothing without a phase network (all but type) and [vmc]
     * phase_learning_rate_factor, the [evolve] keys, [vmc] eloc_dtype, symmetry_penalty and
     * projected_estimate (mode = sample), symmetry_penalty_group (no penalty), momentum
     * (optimizer = sgd) and [model] projection (no symmetrize). */
    assert_int_equal(n_keys, ARS_CONFIG_NKEYS - 2 - (ARS_PHASE_NKEYS - 1) - 1 - ARS_EVOLVE_NKEYS -
                                 1 - 3 - 1 - 1);
    free(d);
}

static void test_default_output_is_out_slash_config_stem_dot_h5(void **state) {
    (void)state;
    static const struct {
        const char *name, *file;
    } cases[] = {
        {"quickstart.ini", "out/quickstart.h5"},
        {"configs/quickstart.ini", "out/quickstart.h5"},
        {"/abs/path/to/run.v2.ini", "out/run.v2.h5"},
        {"noext", "out/noext.h5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ars_config c;
        ars_config_defaults(&c);
        assert_int_equal(ars_config_parse_string(&c, "[system]\nsize = 8\n", cases[i].name),
                         ARS_OK);
        assert_string_equal(c.file, "");
        assert_int_equal(ars_config_finalize(&c), ARS_OK);
        assert_string_equal(c.file, cases[i].file);
    }
}

static void test_explicit_output_file_is_kept_by_finalize(void **state) {
    (void)state;
    ars_config c;
    parse_ok(&c, "[output]\nfile = results/run 7.h5\n");
    assert_string_equal(c.file, "results/run 7.h5");
}

static void test_where_names_the_line_the_default_or_the_override(void **state) {
    (void)state;
    ars_config c;
    char where[512];
    parse_ok(&c, "[system]\nsize = 8\n\n[output]\nfile = a.h5\n");
    ars_config_where(&c, "output", "file", where, sizeof where);
    assert_string_equal(where, "test.ini:5");
    ars_config_where(&c, "sampler", "seed", where, sizeof where);
    assert_string_equal(where, "test.ini");
    assert_int_equal(ars_config_set(&c, "output.file=b.h5"), ARS_OK);
    ars_config_where(&c, "output", "file", where, sizeof where);
    assert_string_equal(where, "--set output.file=b.h5");
}

static void test_empty_output_file_means_the_derived_default(void **state) {
    (void)state;
    ars_config c;
    parse_ok(&c, "[output]\nfile =\n");
    assert_string_equal(c.file, "out/test.h5");
}

static void test_empty_text_is_valid_and_gives_all_defaults(void **state) {
    (void)state;
    ars_config c, d;
    parse_ok(&c, "");
    ars_config_defaults(&d);
    assert_int_equal(ars_config_parse_string(&d, "; only a comment\n\n# and another\n", "test.ini"),
                     ARS_OK);
    assert_int_equal(ars_config_finalize(&d), ARS_OK);
    char *a = dump_of(&c), *b = dump_of(&d);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "\nfile = out/test.h5\n"));
    free(a);
    free(b);
}

/* ---- syntax ------------------------------------------------------------------------------ */

static void test_comments_blank_lines_and_white_space_are_ignored(void **state) {
    (void)state;
    ars_config c;
    parse_ok(&c, "; full-line comment\n"                                  /* 1 */
                 "# another full-line comment\n"                          /* 2 */
                 "\n"                                                     /* 3 */
                 "   ; indented comment\n"                                /* 4 */
                 "[system]   ; inline comment on a header\n"              /* 5 */
                 "size = 37 ; inline comment\n"                           /* 6 */
                 "\tspin\t=\t1.5\t# tab and hash comment\n"               /* 7 */
                 "  [ model ]  \n"                                        /* 8 */
                 "layers=4\n"                                             /* 9 */
                 "   kernel_size   =   5   \n"                            /* 10 */
                 "init = run#3;v2.h5 # kept: no space before # and ;\n"); /* 11 */
    assert_int_equal(c.size, 37);
    assert_int_equal(c.two_s, 3);
    assert_int_equal(c.layers, 4);
    assert_int_equal(c.kernel_size, 5);
    assert_string_equal(c.init, "run#3;v2.h5");
    assert_int_equal(c.line[K_SIZE], 6);
    assert_int_equal(c.line[K_SPIN], 7);
    assert_int_equal(c.line[K_LAYERS], 9);
    assert_int_equal(c.line[K_KERNEL_SIZE], 10);
    assert_int_equal(c.line[K_INIT], 11);
    assert_int_equal(c.line[K_SEED], 0);
}

static void test_crlf_line_ends_and_a_byte_order_mark_are_accepted(void **state) {
    (void)state;
    ars_config c;
    parse_ok(&c, "\xEF\xBB\xBF[system]\r\nsize = 7\r\n\r\n[sampler]\r\nseed = 99\r\n");
    assert_int_equal(c.size, 7);
    assert_int_equal(c.seed, 99);
    assert_int_equal(c.line[K_SEED], 5);
    /* The last line need not end in a newline. */
    parse_ok(&c, "[system]\nsize = 9");
    assert_int_equal(c.size, 9);
}

static void test_a_value_may_contain_equals_signs(void **state) {
    (void)state;
    ars_config c;
    parse_ok(&c, "[output]\nfile = runs/a=b.h5\n");
    assert_string_equal(c.file, "runs/a=b.h5");
}

static void test_sections_may_be_reopened(void **state) {
    (void)state;
    ars_config c;
    parse_ok(&c, "[system]\nsize = 8\n[model]\nlayers = 2\n[system]\nspin = 1\n");
    assert_int_equal(c.size, 8);
    assert_int_equal(c.two_s, 2);
    assert_int_equal(c.layers, 2);
}

static void test_list_values_are_parsed_in_order(void **state) {
    (void)state;
    ars_config c;
    parse_ok(&c, "[model]\nlayers = 3\nfeatures = 16, 16, 2\nkernel_dilation = 1, 2, 4\n");
    assert_int_equal(c.n_features, 3);
    assert_int_equal(c.features[0], 16);
    assert_int_equal(c.features[1], 16);
    assert_int_equal(c.features[2], 2);
    assert_int_equal(c.n_dilation, 3);
    assert_int_equal(c.dilation[0], 1);
    assert_int_equal(c.dilation[1], 2);
    assert_int_equal(c.dilation[2], 4);
    ars_arch arch;
    ars_config_arch(&c, &arch);
    assert_int_equal(arch.layers, 3);
    assert_int_equal(arch.features[0], 16);
    assert_int_equal(arch.features[1], 16);
    assert_int_equal(arch.features[2], 2);
    assert_int_equal(arch.dilation[2], 4);

    /* Without spaces, and with different hidden widths. */
    parse_ok(&c, "[model]\nlayers = 4\nfeatures=24,12,8,2\nkernel_dilation=1,3,9,27\n");
    ars_config_arch(&c, &arch);
    assert_int_equal(arch.features[0], 24);
    assert_int_equal(arch.features[1], 12);
    assert_int_equal(arch.features[2], 8);
    assert_int_equal(arch.features[3], 2);
    assert_int_equal(arch.dilation[3], 27);
}

static void test_one_integer_broadcasts_to_every_layer(void **state) {
    (void)state;
    ars_config c;
    ars_arch arch;
    parse_ok(&c, "[system]\nspin = 1\n[model]\nlayers = 5\nfeatures = 12\nkernel_dilation = 3\n");
    ars_config_arch(&c, &arch);
    assert_int_equal(arch.hilbert.local_size, 3);
    for (int l = 0; l < 4; l++) {
        assert_int_equal(arch.features[l], 12);
    }
    /* The last layer always has local_size features. */
    assert_int_equal(arch.features[4], 3);
    for (int l = 0; l < 5; l++) {
        assert_int_equal(arch.dilation[l], 3);
    }
    /* A list with one entry per layer gives them exactly (its last entry is local_size). */
    parse_ok(&c, "[model]\nlayers = 2\nfeatures = 5, 2\nkernel_dilation = 2, 1\n");
    ars_config_arch(&c, &arch);
    assert_int_equal(arch.features[0], 5);
    assert_int_equal(arch.dilation[0], 2);
    assert_int_equal(arch.dilation[1], 1);
}

static void test_one_layer_network_is_valid(void **state) {
    (void)state;
    ars_config c;
    ars_arch arch;
    parse_ok(&c, "[model]\nlayers = 1\nfeatures = 2\n");
    ars_config_arch(&c, &arch);
    assert_int_equal(arch.layers, 1);
    assert_int_equal(arch.features[0], 2);
}

static void test_booleans_accept_true_yes_on_1_and_false_no_off_0(void **state) {
    (void)state;
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    ars_config c;
    for (int i = 0; i < 4; i++) {
        accepts(&c, "model", "use_bias", yes[i]);
        assert_int_equal(c.use_bias, 1);
        accepts(&c, "model", "use_bias", no[i]);
        assert_int_equal(c.use_bias, 0);
    }
}

static void test_enums_accept_every_documented_name(void **state) {
    (void)state;
    static const char *const act[] = {"selu", "tanh", "relu", "gelu", "identity"};
    ars_config c;
    for (int i = 0; i < 5; i++) {
        accepts(&c, "model", "activation", act[i]);
        assert_int_equal(c.activation, i);
        assert_string_equal(ars_activation_name((ars_activation)i), act[i]);
    }
    accepts(&c, "model", "input", "onehot");
    assert_int_equal(c.input, ARS_INPUT_ONEHOT);
    accepts(&c, "model", "input", "value");
    assert_int_equal(c.input, ARS_INPUT_VALUE);
    accepts(&c, "run", "mode", "sample");
    assert_int_equal(c.mode, ARS_MODE_SAMPLE);
}

/* [system] total_sz: none, or a multiple of 0.5 (stored doubled) that the chain can reach; the
 * sector goes into the architecture. */
static void test_total_sz_selects_a_reachable_sector(void **state) {
    (void)state;
    static const struct {
        const char *text;
        int two_m;
    } cases[] = {{"0", 0}, {"1", 2}, {"-1.5", -3}, {"+2", 4}, {"0.0", 0}, {"none", INT_MIN}};
    ars_config c;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        accepts(&c, "system", "total_sz", cases[i].text);
        assert_int_equal(c.two_m, cases[i].two_m);
    }
    ars_arch arch;
    parse_ok(&c, "[system]\nsize = 6\ntotal_sz = -1\n[model]\nsymmetrize = reflection\n");
    ars_config_arch(&c, &arch);
    assert_true(arch.hilbert.constrained);
    assert_int_equal(arch.hilbert.two_m, -2);
    assert_int_equal(arch.symmetry, ARS_SYM_REFLECTION);
    parse_ok(&c, "[system]\nsize = 5\nspin = 1\ntotal_sz = 5\n");
    parse_ok(&c, "[system]\nsize = 5\ntotal_sz = 0.5\n");
    parse_ok(&c, "[system]\nsize = 6\n");
    ars_config_arch(&c, &arch);
    assert_false(arch.hilbert.constrained);
    assert_int_equal(arch.symmetry, ARS_SYM_NONE);
    /* The dump names the sector and the symmetry, and parses back to the same config. */
    parse_ok(&c, "[system]\nsize = 6\ntotal_sz = 1\n[model]\nsymmetrize = reflection\n"
                 "[hamiltonian]\ntype = heisenberg\n");
    char *d = ars_config_dump(&c);
    assert_non_null(strstr(d, "total_sz = 1\n"));
    assert_non_null(strstr(d, "symmetrize = reflection\n"));
    free(d);
    /* Lists in any order, with or without spaces; the dump writes the canonical name. */
    const struct {
        const char *text;
        ars_sym sym;
        const char *dump;
    } lists[] = {
        {"translation", ARS_SYM_TRANSLATION, "translation"},
        {"reflection,translation", 6, "reflection, translation"},
        {"translation, reflection, spin_flip", ARS_SYM_ALL, "spin_flip, reflection, translation"},
        {"spin_flip, reflection", ARS_SYM_BOTH, "both"},
        {"both", ARS_SYM_BOTH, "both"},
        {"none", ARS_SYM_NONE, "none"}};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        char text[256], want[128];
        snprintf(text, sizeof text, "[system]\nsize = 6\n[model]\nsymmetrize = %s\n",
                 lists[i].text);
        parse_ok(&c, text);
        ars_config_arch(&c, &arch);
        assert_int_equal(arch.symmetry, lists[i].sym);
        assert_string_equal(ars_sym_name(arch.symmetry), lists[i].dump);
        d = ars_config_dump(&c);
        snprintf(want, sizeof want, "symmetrize = %s\n", lists[i].dump);
        assert_non_null(strstr(d, want));
        free(d);
    }
}

static void test_bad_sectors_and_symmetries_are_errors(void **state) {
    (void)state;
    rejects("system", "total_sz", "0.25", "must be none or a multiple of 0.5 \\(got '0.25'\\)$");
    rejects("system", "total_sz", "nan", "must be none or a multiple of 0.5");
    rejects("system", "total_sz", "1e3", "must be none or a multiple of 0.5");
    rejects("system", "total_sz", "", "must be none or a multiple of 0.5");
    rejects("model", "symmetrize", "rotation",
            "unknown name 'rotation'; known: none, both, spin_flip, reflection, translation "
            "\\(got 'rotation'\\)$");
    rejects("model", "symmetrize", "reflection, reflection",
            "'reflection' is listed twice \\(got 'reflection, reflection'\\)$");
    rejects("model", "symmetrize", "none, translation", "unknown name 'none'");
    rejects("model", "symmetrize", "translation,",
            "must be none, both or a comma-separated list of none, both, spin_flip, reflection, "
            "translation \\(got 'translation,'\\)$");
    finalize_fails("[model]\nsymmetrize = translation\n[hamiltonian]\npbc = false\n",
                   "^test\\.ini:2: \\[model\\] symmetrize: translation needs a ring, but the "
                   "chain is open \\(\\[hamiltonian\\] pbc = false\\) \\(got translation\\)$");
    finalize_fails(
        "[system]\nsize = 6\ntotal_sz = 0.5\n",
        "^test\\.ini:3: \\[system\\] total_sz: not reachable with 6 sites of spin 0\\.5: "
        "it must be one of -3, -2, \\.\\.\\., 3 \\(got 0\\.5\\)$");
    finalize_fails("[system]\nsize = 4\ntotal_sz = -3\n",
                   "^test\\.ini:3: \\[system\\] total_sz: not reachable with 4 sites");
    finalize_fails("[system]\nsize = 6\ntotal_sz = 1\n[model]\nsymmetrize = spin_flip\n",
                   "^test\\.ini:5: \\[model\\] symmetrize: the spin flip maps total_sz 1 to -1, so "
                   "spin_flip needs total_sz = 0 or none \\(got spin_flip\\)$");
    finalize_fails("[run]\nmode = train\n[system]\nsize = 6\ntotal_sz = 0\n[hamiltonian]\n"
                   "type = tfim\n",
                   "^test\\.ini:5: \\[system\\] total_sz: tfim does not conserve the total Sz");
}

static void test_spin_is_stored_as_twice_its_value(void **state) {
    (void)state;
    static const struct {
        const char *text;
        int two_s;
    } cases[] = {{"0.5", 1}, {"1", 2}, {"1.0", 2}, {"1.5", 3}, {"2.5", 5}, {"63", 126}};
    ars_config c;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        accepts(&c, "system", "spin", cases[i].text);
        assert_int_equal(c.two_s, cases[i].two_s);
    }
    /* Spin 1: three local states. */
    parse_ok(&c, "[system]\nspin = 1\n");
    ars_arch arch;
    ars_config_arch(&c, &arch);
    assert_int_equal(arch.hilbert.two_s, 2);
    assert_int_equal(arch.hilbert.local_size, 3);
    assert_int_equal(arch.features[arch.layers - 1], 3);
}

static void test_largest_values_of_each_range_are_accepted(void **state) {
    (void)state;
    ars_config c;
    accepts(&c, "sampler", "seed", "18446744073709551615");
    assert_true(c.seed == UINT64_MAX);
    accepts(&c, "sampler", "seed", "0");
    assert_true(c.seed == 0);
    accepts(&c, "sampler", "n_samples", "1000000000000");
    assert_true(c.n_samples == INT64_C(1000000000000));
    accepts(&c, "system", "size", "1000000");
    assert_int_equal(c.size, 1000000);
    accepts(&c, "model", "layers", "64");
    assert_int_equal(c.layers, 64);
    accepts(&c, "run", "threads", "4096");
    assert_int_equal(c.threads, 4096);
    accepts(&c, "model", "kernel_size", "2");
    assert_int_equal(c.kernel_size, 2);
}

/* ---- syntax errors ----------------------------------------------------------------------- */

static void test_unknown_section_is_an_error(void **state) {
    (void)state;
    parse_fails("; comment\n[modle]\nlayers = 3\n",
                "^test\\.ini:2: unknown section \\[modle\\] \\(known sections: run, system, "
                "model, sampler, hamiltonian, vmc, observables, output\\)$");
    /* Names are case-sensitive. */
    parse_fails("[Model]\n", "^test\\.ini:1: unknown section \\[Model\\]");
}

static void test_unknown_key_is_an_error(void **state) {
    (void)state;
    parse_fails("[model]\nlayers = 3\nfeaturs = 16\n",
                "^test\\.ini:3: \\[model\\] featurs: unknown key \\(keys of \\[model\\]: layers, "
                "features, kernel_size, kernel_dilation, activation, use_bias, "
                "feature_group_count, input, sublattice, symmetrize, projection, dtype, init, "
                "init_output_scale\\)$");
    /* A key of another section is unknown here. */
    parse_fails("[system]\nseed = 3\n", "^test\\.ini:2: \\[system\\] seed: unknown key \\(keys "
                                        "of \\[system\\]: size, spin, total_sz\\)$");
    parse_fails("[system]\nSize = 3\n", "^test\\.ini:2: \\[system\\] Size: unknown key");
}

static void test_key_before_any_section_is_an_error(void **state) {
    (void)state;
    parse_fails("\n; comment\nsize = 16\n[system]\n",
                "^test\\.ini:3: key 'size' appears before any \\[section\\]$");
    /* An unknown section does not count as a section either. */
    parse_fails("[bogus]\n", "^test\\.ini:1: unknown section");
}

static void test_line_without_equals_is_an_error(void **state) {
    (void)state;
    parse_fails("[system]\nsize 16\n",
                "^test\\.ini:2: expected 'key = value' or '\\[section\\]' \\(got 'size 16'\\)$");
    parse_fails("[system]\nsize = 16\n\nspin\n",
                "^test\\.ini:4: expected 'key = value' or '\\[section\\]' \\(got 'spin'\\)$");
}

static void test_malformed_section_header_is_an_error(void **state) {
    (void)state;
    parse_fails("[model\n", "^test\\.ini:1: malformed section header \\(got '\\[model'\\)$");
    parse_fails("[]\n", "^test\\.ini:1: malformed section header \\(got '\\[\\]'\\)$");
    parse_fails("[model] layers = 3\n", "^test\\.ini:1: malformed section header");
    /* An inline comment needs white space before it, in headers as in values. */
    parse_fails("[model]; comment\n", "^test\\.ini:1: malformed section header");
}

static void test_duplicate_key_is_an_error(void **state) {
    (void)state;
    parse_fails("[system]\nsize = 16\nspin = 0.5\nsize = 32\n",
                "^test\\.ini:4: \\[system\\] size: given twice \\(first on line 2\\)$");
    /* Also across two blocks of the same section. */
    parse_fails("[model]\nlayers = 3\n[system]\nsize = 8\n[model]\nlayers = 4\n",
                "^test\\.ini:6: \\[model\\] layers: given twice \\(first on line 2\\)$");
}

/* ---- value errors ------------------------------------------------------------------------ */

static void test_non_integer_is_an_error(void **state) {
    (void)state;
    static const char *const bad[] = {"16.5", "abc", "1e3", "0x10", "16 16", "16abc", "2.385"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char why[256];
        snprintf(why, sizeof why, "must be an integer from 1 to 1000000 \\(got '%s'\\)$",
                 re_escape(bad[i]));
        rejects("system", "size", bad[i], why);
    }
    rejects("system", "size", "", "must be an integer from 1 to 1000000 \\(got ''\\)$");
    rejects("sampler", "n_samples", "4096.0",
            "must be an integer from 1 to 1000000000000 \\(got '4096\\.0'\\)$");
    rejects("sampler", "seed", "12a",
            "must be an integer from 0 to 18446744073709551615 \\(got '12a'\\)$");
    rejects("sampler", "seed", "", "must be an integer from 0 to 18446744073709551615");
}

static void test_zero_and_negative_sizes_are_errors(void **state) {
    (void)state;
    rejects("system", "size", "0", "must be an integer from 1 to 1000000 \\(got '0'\\)$");
    rejects("system", "size", "-3", "must be an integer from 1 to 1000000 \\(got '-3'\\)$");
    rejects("model", "layers", "0", "must be an integer from 1 to 64 \\(got '0'\\)$");
    rejects("model", "layers", "65", "must be an integer from 1 to 64 \\(got '65'\\)$");
    rejects("model", "kernel_size", "1", "must be an integer from 2 to 1024 \\(got '1'\\)$");
    rejects("model", "feature_group_count", "0", "must be an integer from 1 to 4096");
    rejects("sampler", "n_samples", "0", "must be an integer from 1 to 1000000000000");
    rejects("sampler", "n_samples", "-1", "must be an integer from 1 to 1000000000000");
    rejects("sampler", "chunk_size", "0", "must be an integer from 1 to 1048576 \\(got '0'\\)$");
    rejects("sampler", "chunk_size", "1048577", "must be an integer from 1 to 1048576");
    rejects("run", "threads", "-1", "must be an integer from 0 to 4096 \\(got '-1'\\)$");
    rejects("sampler", "seed", "-1",
            "must be an integer from 0 to 18446744073709551615 \\(got '-1'\\)$");
    rejects("model", "features", "0",
            "must be an integer or a comma-separated list of integers from 1 to 4096 "
            "\\(got '0'\\)$");
    rejects("model", "features", "16, -16, 2",
            "must be an integer or a comma-separated list of integers from 1 to 4096 "
            "\\(got '16, -16, 2'\\)$");
    rejects("model", "kernel_dilation", "1, 0, 4",
            "must be an integer or a comma-separated list of integers from 1 to 1000000");
}

static void test_huge_numbers_are_errors_not_wrapped_around(void **state) {
    (void)state;
    rejects("system", "size", "99999999999999999999",
            "must be an integer from 1 to 1000000 \\(got '99999999999999999999'\\)$");
    /* 2^32 + 3 would be 3 if it were truncated to an int. */
    rejects("model", "layers", "4294967299", "must be an integer from 1 to 64");
    rejects("system", "size", "2147483648", "must be an integer from 1 to 1000000");
    rejects("sampler", "n_samples", "1000000000001", "must be an integer from 1 to 1000000000000");
    rejects("sampler", "n_samples", "99999999999999999999",
            "must be an integer from 1 to 1000000000000");
    rejects("sampler", "seed", "18446744073709551616",
            "must be an integer from 0 to 18446744073709551615 "
            "\\(got '18446744073709551616'\\)$");
    rejects("sampler", "seed", "99999999999999999999",
            "must be an integer from 0 to 18446744073709551615");
    rejects("model", "features", "16, 99999999999999999999, 2",
            "must be an integer or a comma-separated list of integers from 1 to 4096");
    rejects("model", "features", "4294967312", /* 2^32 + 16 */
            "must be an integer or a comma-separated list of integers from 1 to 4096");
}

static void test_spin_that_is_not_a_positive_multiple_of_one_half_is_an_error(void **state) {
    (void)state;
    static const char *const bad[] = {"2.385", "0.3",   "0.25", "0",    "-0.5",
                                      "63.5",  "1e400", "1/2",  "half", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char why[256];
        snprintf(why, sizeof why, "must be a positive multiple of 0\\.5 up to 63 \\(got '%s'\\)$",
                 re_escape(bad[i]));
        rejects("system", "spin", bad[i], why);
    }
}

static void test_nan_and_infinite_spin_are_errors(void **state) {
    (void)state;
    static const char *const bad[] = {"nan", "NaN", "inf", "-inf", "infinity", "INF"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char why[256];
        snprintf(why, sizeof why, "must be a positive multiple of 0\\.5 up to 63 \\(got '%s'\\)$",
                 bad[i]);
        rejects("system", "spin", bad[i], why);
    }
}

static void test_bad_enum_value_is_an_error(void **state) {
    (void)state;
    rejects("model", "activation", "sigmoid",
            "must be one of selu, tanh, relu, gelu, identity \\(got 'sigmoid'\\)$");
    rejects("model", "activation", "SELU", "must be one of selu, tanh, relu, gelu, identity");
    rejects("model", "input", "one-hot", "must be one of value, onehot \\(got 'one-hot'\\)$");
    rejects("run", "mode", "learn",
            "must be one of sample, train, exact, evolve \\(got 'learn'\\)$");
    rejects("model", "activation", "", "must be one of selu, tanh, relu, gelu, identity");
}

static void test_bad_bool_is_an_error(void **state) {
    (void)state;
    static const char *const bad[] = {"maybe", "2", "TRUE", "y", "truee"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char why[256];
        snprintf(why, sizeof why, "must be true or false \\(got '%s'\\)$", bad[i]);
        rejects("model", "use_bias", bad[i], why);
    }
    rejects("model", "use_bias", "", "must be true or false \\(got ''\\)$");
}

static void test_empty_init_is_an_error(void **state) {
    (void)state;
    rejects("model", "init", "", "must not be empty$");
    /* A value that is only a comment is empty too. */
    parse_fails("[model]\ninit =   ; random\n",
                "^test\\.ini:2: \\[model\\] init: must not be empty$");
}

static void test_too_long_path_is_an_error(void **state) {
    (void)state;
    char *value = malloc(ARS_PATH_MAX + 1);
    assert_non_null(value);
    memset(value, 'x', ARS_PATH_MAX);
    value[ARS_PATH_MAX] = '\0';
    rejects("model", "init", value, "longer than 4095 characters \\(got 'x+\\.\\.\\.'\\)$");
    rejects("output", "file", value, "longer than 4095 characters");
    free(value);
}

static void test_bad_lists_are_errors(void **state) {
    (void)state;
    static const char *const bad[] = {"16,,2", "16, ,2", ",16", "16,", ",", "16 16, 2", "a, b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char why[256];
        snprintf(why, sizeof why, "must be an integer or a comma-separated list.* \\(got '%s'\\)$",
                 re_escape(bad[i]));
        rejects("model", "features", bad[i], why);
        rejects("model", "kernel_dilation", bad[i], why);
    }
    /* At most ARS_MAX_LAYERS entries. */
    char list[1024] = "1";
    for (int i = 1; i <= ARS_MAX_LAYERS; i++) {
        strcat(list, ", 1");
    }
    rejects("model", "kernel_dilation", list, "at most 64 entries");
}

static void test_messages_quote_long_and_unprintable_values_safely(void **state) {
    (void)state;
    char text[1024];
    char value[301];
    memset(value, 'q', 300);
    value[300] = '\0';
    snprintf(text, sizeof text, "[model]\nactivation = %s\n", value);
    /* Shortened to 92 characters and "...". */
    parse_fails(text, "^test\\.ini:2: \\[model\\] activation: must be one of .* \\(got "
                      "'q{92}\\.\\.\\.'\\)$");
    parse_fails("[model]\nactivation = se\x01lu\x7f\n",
                "^test\\.ini:2: \\[model\\] activation: must be one of .* \\(got 'se\\?lu\\?'\\)$");
}

/* ---- cross-key checks (ars_config_finalize) ---------------------------------------------- */

static void test_features_list_length_must_equal_layers(void **state) {
    (void)state;
    finalize_fails("[model]\nlayers = 4\nfeatures = 16, 16, 2\n",
                   "^test\\.ini:3: \\[model\\] features: a list must have one entry per layer "
                   "\\(layers = 4\\) \\(got 3 entries: 16, 16, 2\\)$");
    finalize_fails("[model]\nfeatures = 16, 2\n",
                   "^test\\.ini:2: \\[model\\] features: a list must have one entry per layer "
                   "\\(layers = 3\\) \\(got 2 entries: 16, 2\\)$");
}

static void test_last_features_entry_must_equal_local_size(void **state) {
    (void)state;
    finalize_fails("[model]\nfeatures = 16, 16, 3\n",
                   "^test\\.ini:2: \\[model\\] features: the last entry must equal local_size = 2 "
                   "for spin 0\\.5 \\(got 3\\)$");
    finalize_fails("[system]\nspin = 1.5\n[model]\nfeatures = 16, 16, 2\n",
                   "^test\\.ini:4: \\[model\\] features: the last entry must equal local_size = 4 "
                   "for spin 1\\.5 \\(got 2\\)$");
    ars_config c;
    parse_ok(&c, "[system]\nspin = 1.5\n[model]\nfeatures = 16, 16, 4\n");
}

static void test_kernel_dilation_list_length_must_equal_layers(void **state) {
    (void)state;
    finalize_fails("[model]\nlayers = 2\nkernel_dilation = 1, 2, 4\n",
                   "^test\\.ini:3: \\[model\\] kernel_dilation: a list must have one entry per "
                   "layer \\(layers = 2\\) \\(got 3 entries: 1, 2, 4\\)$");
}

static void test_feature_group_count_must_divide_hidden_features(void **state) {
    (void)state;
    finalize_fails("[model]\nfeatures = 16\nfeature_group_count = 3\n",
                   "^test\\.ini:3: \\[model\\] feature_group_count: must divide the features of "
                   "the hidden layers \\(layer 1: 16 -> 16\\) \\(got 3\\)$");
    finalize_fails("[model]\nlayers = 4\nfeatures = 12, 8, 6, 2\nfeature_group_count = 4\n",
                   "^test\\.ini:4: \\[model\\] feature_group_count: must divide the features of "
                   "the hidden layers \\(layer 2: 8 -> 6\\) \\(got 4\\)$");
    /* The first and last layers use one group, so their widths need not be multiples. */
    ars_config c;
    parse_ok(&c, "[model]\nlayers = 3\nfeatures = 12, 8, 3\nfeature_group_count = 4\n"
                 "input = onehot\n[system]\nspin = 1\n");
}

static void test_feature_group_count_needs_at_least_three_layers(void **state) {
    (void)state;
    finalize_fails("[model]\nlayers = 2\nfeature_group_count = 2\n",
                   "^test\\.ini:3: \\[model\\] feature_group_count: applies to hidden-to-hidden "
                   "layers only, which need layers >= 3 \\(got 2 with layers = 2\\)$");
    ars_config c;
    parse_ok(&c, "[model]\nlayers = 2\nfeature_group_count = 1\n");
}

static void test_chunk_size_too_large_for_memory_is_an_error(void **state) {
    (void)state;
    finalize_fails("[system]\nsize = 1000000\n[sampler]\nchunk_size = 1048576\n",
                   "^test\\.ini:4: \\[sampler\\] chunk_size: a chunk of 1048576 samples of "
                   "1000000 sites needs [0-9]+\\.[0-9] GiB of activations per thread; use a "
                   "smaller chunk_size \\(got 1048576\\)$");
    /* Still an error when chunk_size is the default and the full-forward sampler, whose scratch
     * grows with size, would need too much; the cached sampler's does not grow with size. */
    finalize_fails("[system]\nsize = 1000000\n[model]\nfeatures = 4096\n[sampler]\nalgorithm = "
                   "full\n",
                   "^test\\.ini: \\[sampler\\] chunk_size: a chunk of 256 samples");
    ars_config big;
    parse_ok(&big, "[system]\nsize = 1000000\n[model]\nfeatures = 4096\n");
    /* A large but reasonable chunk is fine. */
    ars_config c;
    parse_ok(&c, "[system]\nsize = 1000\n[sampler]\nchunk_size = 4096\n");
}

static void test_too_many_samples_for_memory_is_an_error(void **state) {
    (void)state;
    finalize_fails("[system]\nsize = 1000\n[sampler]\nn_samples = 1000000000000\n",
                   "^test\\.ini:4: \\[sampler\\] n_samples: 1000000000000 samples of 1000 sites "
                   "would take more than 256 GiB");
}

/* ---- --set overrides --------------------------------------------------------------------- */

/* ---- [observables] ------------------------------------------------------------------------ */

static void test_observable_names_parse_into_a_mask(void **state) {
    (void)state;
    ars_config c;
    parse_ok(&c, "[observables]\nnames = sz, renyi2 ,energy\n[hamiltonian]\ntype = tfim\n");
    assert_int_equal(c.obs_mask, (1 << ARS_OBS_SZ) | (1 << ARS_OBS_RENYI2) | (1 << ARS_OBS_ENERGY));
    parse_ok(&c, "[observables]\nnames = all\n[hamiltonian]\ntype = tfim\n");
    assert_int_equal(c.obs_mask, (int)ARS_OBS_ALL);
    parse_ok(&c, "");
    assert_int_equal(c.obs_mask, 0);
    /* The dump lists the names, and parses back to the same mask. */
    parse_ok(&c, "[observables]\nnames = sx, zz_connected\n");
    char *text = ars_config_dump(&c);
    assert_non_null(strstr(text, "names = zz_connected, sx\n"));
    ars_config d;
    parse_ok(&d, text);
    assert_int_equal(d.obs_mask, c.obs_mask);
    free(text);
}

static void test_renyi2_cuts_default_to_half_the_chain(void **state) {
    (void)state;
    ars_config c;
    parse_ok(&c, "[system]\nsize = 11\n[observables]\nnames = renyi2\n");
    assert_int_equal(c.n_renyi_cuts, 1);
    assert_int_equal(c.renyi_cuts[0], 5);
    parse_ok(&c, "[system]\nsize = 11\n[observables]\nnames = renyi2\nrenyi2_cuts = 1, 10\n");
    assert_int_equal(c.n_renyi_cuts, 2);
    assert_int_equal(c.renyi_cuts[1], 10);
}

static void test_bad_observables_are_config_errors(void **state) {
    (void)state;
    rejects("observables", "names", "sz, zz",
            "unknown name 'zz'; known: none, all, sz, .* \\(got 'sz, zz'\\)$");
    rejects("observables", "names", "sz, sz", "'sz' is listed twice \\(got 'sz, sz'\\)$");
    rejects("observables", "names", "sz,", "must be none, all or a comma-separated list");
    rejects("observables", "names", ",sz", "must be none, all or a comma-separated list");
    rejects("observables", "renyi2_cuts", "2,,3", "must be an integer or a comma-separated list");
    finalize_fails("[system]\nsize = 10\n[observables]\nnames = renyi2\nrenyi2_cuts = 2, 10\n",
                   "^test\\.ini:5: \\[observables\\] renyi2_cuts: every cut must be from 1 to "
                   "size - 1 = 9 \\(got 2, 10\\)$");
    finalize_fails("[system]\nspin = 1\n[observables]\nnames = sz, sx\n",
                   "^test\\.ini:4: \\[observables\\] names: sx and xx_correlation are "
                   "implemented for spin 1/2 only \\(spin 1\\) \\(got sz, sx\\)$");
    finalize_fails("[observables]\nnames = energy\n",
                   "^test\\.ini:2: \\[observables\\] names: energy needs a Hamiltonian: set "
                   "\\[hamiltonian\\] type \\(and its couplings\\) \\(got energy\\)$");
    finalize_fails("[run]\nmode = exact\n[hamiltonian]\ntype = tfim\n[observables]\nnames = sz\n",
                   "^test\\.ini:6: \\[observables\\] names: mode = exact computes the ground-state "
                   "energy only; .* \\(got sz\\)$");
    finalize_fails("[sampler]\nn_samples = 1\n[observables]\nnames = renyi2\n",
                   "^test\\.ini:4: \\[observables\\] names: renyi2 needs at least 2 samples "
                   "\\(pairs of samples\\) \\(got 1\\)$");
    /* Spin 1 may measure the diagonal observables and renyi2. */
    ars_config c;
    parse_ok(&c, "[system]\nspin = 1\n[observables]\nnames = sz, structure_factor, renyi2\n");
}

static void test_set_overrides_a_value_from_the_file(void **state) {
    (void)state;
    ars_config c;
    ars_config_defaults(&c);
    assert_int_equal(ars_config_parse_string(&c, "[system]\nsize = 8\n", "test.ini"), ARS_OK);
    assert_int_equal(c.line[K_SIZE], 2);
    assert_int_equal(ars_config_set(&c, "system.size=12"), ARS_OK);
    assert_int_equal(c.size, 12);
    assert_int_equal(c.line[K_SIZE], -1);
    /* A later override wins; white space around the value is trimmed. */
    assert_int_equal(ars_config_set(&c, "system.size= 24 "), ARS_OK);
    assert_int_equal(c.size, 24);
    assert_int_equal(ars_config_set(&c, "model.features=16, 16, 2"), ARS_OK);
    assert_int_equal(c.n_features, 3);
    assert_int_equal(ars_config_set(&c, "output.file=runs/a=b.v1.h5"), ARS_OK);
    assert_string_equal(c.file, "runs/a=b.v1.h5");
    assert_int_equal(ars_config_set(&c, "model.init=data/ref/x.h5"), ARS_OK);
    assert_string_equal(c.init, "data/ref/x.h5");
    assert_int_equal(ars_config_set(&c, "run.threads=2"), ARS_OK);
    assert_int_equal(c.threads, 2);
    assert_int_equal(ars_config_finalize(&c), ARS_OK);
}

static void test_set_with_bad_syntax_is_an_error(void **state) {
    (void)state;
    static const char *const bad[] = {"system.size", "size=3",        ".size=3", "system.=3",
                                      "=3",          "system size=3", "",        "a=b.c"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char pattern[256];
        snprintf(pattern, sizeof pattern, "^--set %s: expected section\\.key=value$",
                 re_escape(bad[i]));
        set_fails(bad[i], pattern);
    }
}

static void test_set_with_unknown_section_or_key_is_an_error(void **state) {
    (void)state;
    set_fails("modle.layers=3",
              "^--set modle\\.layers=3: unknown section \\[modle\\] \\(known "
              "sections: run, system, model, sampler, hamiltonian, vmc, observables, output\\)$");
    set_fails("model.layer=3", "^--set model\\.layer=3: \\[model\\] layer: unknown key \\(keys of "
                               "\\[model\\]: layers, features, .*\\)$");
    set_fails("system.seed=3", "^--set system\\.seed=3: \\[system\\] seed: unknown key");
    /* No white space is trimmed around section and key names. */
    set_fails("model. layers=3", "^--set model\\. layers=3: \\[model\\]  layers: unknown key");
}

static void test_set_error_leaves_the_value_unchanged(void **state) {
    (void)state;
    ars_config c;
    ars_config_defaults(&c);
    capture_begin();
    int rc = ars_config_set(&c, "model.features=16, x, 2");
    capture_end();
    assert_int_equal(rc, ARS_STATUS_ECONFIG);
    assert_int_equal(c.n_features, 1);
    assert_int_equal(c.features[0], 16);
    assert_int_equal(c.line[K_FEATURES], 0);
}

static void test_cross_key_error_after_an_override_names_the_override(void **state) {
    (void)state;
    ars_config c;
    ars_config_defaults(&c);
    assert_int_equal(ars_config_parse_string(&c, "[model]\nlayers = 3\n", "run.ini"), ARS_OK);
    assert_int_equal(ars_config_set(&c, "model.features=16, 2"), ARS_OK);
    capture_begin();
    int rc = ars_config_finalize(&c);
    const char *err = capture_end();
    assert_int_equal(rc, ARS_STATUS_ECONFIG);
    assert_one_line_matching(err, "^--set model\\.features=16, 2: \\[model\\] features: a list "
                                  "must have one entry per layer \\(layers = 3\\) \\(got 2 "
                                  "entries: 16, 2\\)$");
}

static void test_cross_key_error_with_a_default_names_the_file_without_a_line(void **state) {
    (void)state;
    ars_config c;
    ars_config_defaults(&c);
    /* features = 16 by default; groups 3 do not divide it. */
    assert_int_equal(ars_config_parse_string(&c, "[model]\nfeature_group_count = 3\n", "g.ini"),
                     ARS_OK);
    capture_begin();
    int rc = ars_config_finalize(&c);
    const char *err = capture_end();
    assert_int_equal(rc, ARS_STATUS_ECONFIG);
    assert_one_line_matching(err, "^g\\.ini:2: \\[model\\] feature_group_count: must divide");
}

static void test_string_values_that_would_not_survive_the_dump_are_refused(void **state) {
    (void)state;
    ars_config c;
    ars_config_defaults(&c);
    capture_begin();
    int rc1 = ars_config_set(&c, "output.file=a ;b.h5");
    int rc2 = ars_config_set(&c, "model.init=x\ty.h5");
    int rc3 = ars_config_set(&c, "system.spin=5e-1");
    const char *err = capture_end();
    assert_int_equal(rc1, ARS_STATUS_ECONFIG);
    assert_int_equal(rc2, ARS_STATUS_ECONFIG);
    assert_int_equal(rc3, ARS_STATUS_ECONFIG);
    (void)err;
}

static void test_a_network_with_too_many_parameters_is_refused(void **state) {
    (void)state;
    ars_config c;
    ars_config_defaults(&c);
    assert_int_equal(ars_config_set(&c, "model.kernel_size=1024"), ARS_OK);
    assert_int_equal(ars_config_set(&c, "model.features=4096"), ARS_OK);
    assert_int_equal(ars_config_set(&c, "model.layers=8"), ARS_OK);
    assert_int_equal(ars_config_set(&c, "sampler.chunk_size=1"), ARS_OK);
    capture_begin();
    int rc = ars_config_finalize(&c);
    const char *err = capture_end();
    assert_int_equal(rc, ARS_STATUS_ECONFIG);
    assert_one_line_matching(err, "^--set model\\.features=4096: \\[model\\] features: the "
                                  "network would have [0-9]+ parameters");
}

/* ---- files ------------------------------------------------------------------------------- */

static void test_parse_file_reads_a_file_and_names_the_output_after_it(void **state) {
    (void)state;
    const char *path = ars_test_tmp_path("config_stem.ini");
    const char *text = "[system]\nsize = 12\n[model]\nlayers = 3\nfeatures = 8, 4, 2\n";
    write_file(path, text, strlen(text));
    ars_config c;
    ars_config_defaults(&c);
    assert_int_equal(ars_config_parse_file(&c, path), ARS_OK);
    assert_string_equal(c.source, path);
    assert_int_equal(c.size, 12);
    assert_int_equal(c.line[K_FEATURES], 5);
    assert_int_equal(ars_config_finalize(&c), ARS_OK);
    char expected[ARS_PATH_MAX];
    snprintf(expected, sizeof expected, "out/%s", strrchr(path, '/') + 1);
    strcpy(strrchr(expected, '.'), ".h5");
    assert_string_equal(c.file, expected);
    remove(path);
}

static void test_empty_or_comment_only_file_is_an_error(void **state) {
    (void)state;
    static const char *const texts[] = {"", "\n\n  \n", "; only a comment\n# another\n",
                                        "\xEF\xBB\xBF\n"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *path = ars_test_tmp_path("empty.ini");
        write_file(path, texts[i], strlen(texts[i]));
        ars_config c;
        ars_config_defaults(&c);
        capture_begin();
        int rc = ars_config_parse_file(&c, path);
        const char *err = capture_end();
        assert_int_equal(rc, ARS_STATUS_ECONFIG);
        char pattern[1024];
        snprintf(pattern, sizeof pattern,
                 "^%s:1: empty config file: no \\[section\\] and no key \\(a config sets at "
                 "least one key; `arsampler --print-config` shows the defaults\\)$",
                 re_escape(path));
        assert_one_line_matching(err, pattern);
        remove(path);
    }
}

static void test_train_and_exact_need_a_hamiltonian_type(void **state) {
    (void)state;
    finalize_fails("[run]\nmode = train\n",
                   "^test\\.ini:2: \\[run\\] mode: train needs a Hamiltonian: set "
                   "\\[hamiltonian\\] type \\(tfim, xxz, heisenberg, j1j2, blbq or terms\\) \\(got "
                   "train\\)$");
    finalize_fails("[run]\nmode = exact\n[hamiltonian]\nJ = 2\n", "exact needs a Hamiltonian");
    ars_config c;
    parse_ok(&c, "[run]\nmode = train\n[hamiltonian]\ntype = tfim\n");
}

static void test_missing_file_is_an_error_naming_it(void **state) {
    (void)state;
    const char *path = ars_test_tmp_path("does_not_exist.ini");
    ars_config c;
    ars_config_defaults(&c);
    capture_begin();
    int rc = ars_config_parse_file(&c, path);
    const char *err = capture_end();
    assert_int_equal(rc, ARS_STATUS_ECONFIG);
    char pattern[8192];
    snprintf(pattern, sizeof pattern,
             "^arsampler: error: cannot open config file '%s': No such file or directory",
             re_escape(path));
    assert_one_line_matching(err, pattern);
}

static void test_binary_file_is_an_error(void **state) {
    (void)state;
    const char *path = ars_test_tmp_path("binary.ini");
    static const char data[] = "[system]\nsize = 4\n\x7f"
                               "ELF\x02\x01\x01\0\0\0\0garbage";
    write_file(path, data, sizeof data - 1);
    ars_config c;
    ars_config_defaults(&c);
    capture_begin();
    int rc = ars_config_parse_file(&c, path);
    const char *err = capture_end();
    assert_int_equal(rc, ARS_STATUS_ECONFIG);
    char pattern[8192];
    snprintf(pattern, sizeof pattern, "^%s:3: binary content \\(a NUL byte\\); not a config file$",
             re_escape(path));
    assert_one_line_matching(err, pattern);
    /* Without NUL bytes, binary junk is a syntax error on its line. */
    write_file(path, "[system]\n\x01\x02\x03\xff\xfe\n", 15);
    ars_config_defaults(&c);
    capture_begin();
    rc = ars_config_parse_file(&c, path);
    err = capture_end();
    assert_int_equal(rc, ARS_STATUS_ECONFIG);
    snprintf(pattern, sizeof pattern,
             "^%s:2: expected 'key = value' or '\\[section\\]' \\(got '\\?+'\\)$", re_escape(path));
    assert_one_line_matching(err, pattern);
    remove(path);
}

/* ---- dump, round trip, describe ---------------------------------------------------------- */

/* A configuration where every key differs from its default. */
static const char nontrivial[] = "[run]\n"
                                 "threads = 3\n"
                                 "[system]\n"
                                 "size = 37\n"
                                 "spin = 2.5\n"
                                 "[model]\n"
                                 "layers = 4\n"
                                 "features = 24, 12, 8, 6\n"
                                 "kernel_size = 5\n"
                                 "kernel_dilation = 1, 2, 4, 8\n"
                                 "activation = gelu\n"
                                 "use_bias = off\n"
                                 "feature_group_count = 4\n"
                                 "input = onehot\n"
                                 "init = data/some dir/run#2.h5\n"
                                 "[phase]\n"
                                 "type = conv\n"
                                 "layers = 3\n"
                                 "features = 5\n"
                                 "kernel_size = 4\n"
                                 "kernel_dilation = 1, 3, 2\n"
                                 "activation = selu\n"
                                 "site_phase = false\n"
                                 "[sampler]\n"
                                 "n_samples = 123456789\n"
                                 "chunk_size = 100\n"
                                 "seed = 18446744073709551615\n"
                                 "[output]\n"
                                 "file = results/run 7.h5\n";

/* The descriptor of key index i, from the section tables in order. */
/* The per-section key tables in the order config.c assembles them. */
static const ars_config_key *const key_tables[] = {
    ars_run_keys,     ars_hilbert_keys, ars_arnn_keys, ars_phase_keys,
    ars_sampler_keys, ars_ham_keys,     ars_vmc_keys,  ars_opt_keys,
    ars_vmc_run_keys, ars_evolve_keys,  ars_obs_keys,  ars_output_keys};
static const int key_counts[] = {ARS_RUN_NKEYS,    ARS_HILBERT_NKEYS, ARS_ARNN_NKEYS,
                                 ARS_PHASE_NKEYS,  ARS_SAMPLER_NKEYS, ARS_HAM_NKEYS,
                                 ARS_VMC_NKEYS,    ARS_OPT_NKEYS,     ARS_VMC_RUN_NKEYS,
                                 ARS_EVOLVE_NKEYS, ARS_OBS_NKEYS,     ARS_OUTPUT_NKEYS};
#define N_KEY_TABLES ((int)(sizeof key_counts / sizeof key_counts[0]))

static const ars_config_key *key_of(int i) {
    for (int t = 0; t < N_KEY_TABLES; t++) {
        if (i < key_counts[t]) {
            return &key_tables[t][i];
        }
        i -= key_counts[t];
    }
    return NULL;
}

/* dump -> parse -> finalize -> dump must reproduce the dump exactly. */
static void assert_round_trip(const ars_config *c) {
    char *first = dump_of(c);
    ars_config back;
    ars_config_defaults(&back);
    capture_begin();
    int rc = ars_config_parse_string(&back, first, "dump.ini");
    int rc2 = rc == ARS_OK ? ars_config_finalize(&back) : ARS_OK;
    const char *err = capture_end();
    if (rc != ARS_OK || rc2 != ARS_OK || err[0] != '\0') {
        fail_msg("dump does not parse back (%d/%d, stderr \"%s\"):\n%s", rc, rc2, err, first);
    }
    char *second = dump_of(&back);
    assert_string_equal(first, second);
    /* Every key was given explicitly, but term and operator when there are none and the keys
     * that mean nothing in this config (the dump leaves them at their defaults). */
    for (int i = 0; i < ARS_CONFIG_NKEYS; i++) {
        const ars_config_key *k = key_of(i);
        assert_true(back.line[i] > 0 ||
                    (i == ars_config_key_index("hamiltonian", "term") && back.n_ham_terms == 0) ||
                    (i == ars_config_key_index("observables", "operator") && back.n_obs_ops == 0) ||
                    (k->active != NULL && !k->active(&back)));
    }
    ars_arch a, b;
    ars_config_arch(c, &a);
    ars_config_arch(&back, &b);
    assert_memory_equal(&a, &b, sizeof a);
    assert_true(c->seed == back.seed);
    assert_true(c->n_samples == back.n_samples);
    assert_string_equal(c->init, back.init);
    assert_string_equal(c->file, back.file);
    free(first);
    free(second);
}

static void test_dump_shows_every_key_with_its_effective_value(void **state) {
    (void)state;
    ars_config c;
    parse_ok(&c, nontrivial);
    char *d = dump_of(&c);
    static const char *const lines[] = {
        "\n[run]\nmode = sample\nthreads = 3\n",
        "\n[system]\nsize = 37\nspin = 2.5\ntotal_sz = none\n",
        "\n[model]\nlayers = 4\nfeatures = 24, 12, 8, 6\nkernel_size = 5\n"
        "kernel_dilation = 1, 2, 4, 8\nactivation = gelu\nuse_bias = false\n"
        "feature_group_count = 4\ninput = onehot\nsublattice = 1\nsymmetrize = none\n"
        "dtype = float64\n"
        "init = data/some dir/run#2.h5\ninit_output_scale = 1\n",
        "\n[sampler]\nn_samples = 123456789\nchunk_size = 100\nseed = 18446744073709551615\n"
        "algorithm = cached\n",
        "\n[output]\nfile = results/run 7.h5\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (strstr(d, lines[i]) == NULL) {
            fail_msg("dump lacks \"%s\":\n%s", lines[i], d);
        }
    }
    assert_int_equal(d[0], ';'); /* a comment line first */
    free(d);
}

static void test_dump_parses_back_to_an_identical_dump(void **state) {
    (void)state;
    ars_config c;
    /* Non-trivial values. */
    parse_ok(&c, nontrivial);
    assert_round_trip(&c);
    /* The defaults (with the derived output file). */
    parse_ok(&c, "");
    assert_round_trip(&c);
    /* Overrides and broadcast single values. */
    ars_config_defaults(&c);
    assert_int_equal(ars_config_parse_string(&c, "[model]\nlayers = 6\nfeatures = 10\n", "x.ini"),
                     ARS_OK);
    assert_int_equal(ars_config_set(&c, "system.spin=63"), ARS_OK);
    assert_int_equal(ars_config_set(&c, "model.kernel_dilation=7"), ARS_OK);
    assert_int_equal(ars_config_set(&c, "sampler.seed=0"), ARS_OK);
    assert_int_equal(ars_config_set(&c, "model.activation=identity"), ARS_OK);
    assert_int_equal(ars_config_finalize(&c), ARS_OK);
    assert_round_trip(&c);
}

static void test_describe_lists_every_key_with_its_default(void **state) {
    (void)state;
    char *d = ars_config_describe();
    assert_non_null(d);
    ars_config c;
    ars_config_defaults(&c);
    char *dump = dump_of(&c);
    /* Every key of the dump appears in the description, with its section header. */
    static const char *const sections[] = {"[run]\n", "[system]\n", "[model]\n", "[sampler]\n",
                                           "[output]\n"};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        assert_non_null(strstr(d, sections[i]));
    }
    int n = 0;
    for (char *line = strtok(dump, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char *eq = strstr(line, " = ");
        if (line[0] == ';' || line[0] == '[' || eq == NULL) {
            continue;
        }
        *eq = '\0';
        char needle[128];
        snprintf(needle, sizeof needle, "  %s ", line);
        if (strstr(d, needle) == NULL) {
            fail_msg("describe lacks key %s:\n%s", line, d);
        }
        n++;
    }
    /* The dump has no term or operator line (none given) and no inactive [phase],
     * phase_learning_rate_factor, [evolve], eloc_dtype, symmetry_penalty,
     * symmetry_penalty_group, projected_estimate, momentum or [model] projection key. */
    assert_int_equal(n, ARS_CONFIG_NKEYS - 2 - (ARS_PHASE_NKEYS - 1) - 1 - ARS_EVOLVE_NKEYS - 1 -
                            3 - 1 - 1);
    assert_non_null(strstr(d, "  projection "));
    assert_non_null(strstr(d, "  momentum "));
    assert_non_null(strstr(d, "  symmetry_penalty "));
    assert_non_null(strstr(d, "  symmetry_penalty_group "));
    assert_non_null(strstr(d, "  projected_estimate "));
    assert_non_null(strstr(d, "  phase_learning_rate_factor "));
    assert_non_null(strstr(d, "  term "));
    assert_non_null(strstr(d, "default 1234"));
    assert_non_null(strstr(d, "default (derived)"));
    free(dump);
    free(d);
}

/* ---- [hamiltonian] and [vmc] ------------------------------------------------------------ */

static void test_training_keys_parse_numbers_auto_and_schedules(void **state) {
    (void)state;
    ars_config c;
    parse_ok(&c, "[run]\nmode = train\n[hamiltonian]\ntype = j1j2\nJ = -0.75\nJ2 = 2.385e-1\n"
                 "pbc = false\nmarshall_sign = true\nexact_energy = -12.5\n[vmc]\n"
                 "learning_rate_schedule = exponential\nlearning_rate_decay = 0.999\n"
                 "optimizer = sgd\nsr = false\nfinal_samples = 100\n");
    assert_int_equal(c.mode, ARS_MODE_TRAIN);
    assert_int_equal(c.ham_type, 3);
    assert_true(c.ham_J == -0.75 && c.ham_J2 == 0.2385 && c.ham_exact == -12.5);
    assert_int_equal(c.ham_pbc, 0);
    assert_int_equal(c.ham_marshall, 1);
    assert_int_equal(c.lr_schedule, ARS_SCHEDULE_EXPONENTIAL);
    assert_int_equal(c.optimizer, 0);
    assert_int_equal(c.sr, 0);
    assert_int_equal(c.final_samples, 100);
    parse_ok(&c, "[hamiltonian]\nexact_energy = auto\n");
    assert_true(isnan(c.ham_exact));
    /* Numbers print back exactly. */
    parse_ok(&c, "[hamiltonian]\nh = 0.1\n[vmc]\nlearning_rate = 0.003\n");
    assert_round_trip(&c);
}

static void test_training_keys_reject_bad_numbers(void **state) {
    (void)state;
    rejects("hamiltonian", "h", "nan", "must be a number from");
    rejects("hamiltonian", "h", "inf", "must be a number from");
    rejects("hamiltonian", "J", "0x1p3", "must be a number from");
    rejects("hamiltonian", "J", "1.0.0", "must be a number from");
    rejects("vmc", "learning_rate", "-0.1", "must be a number from 0 to");
    rejects("vmc", "learning_rate_decay", "1.5", "must be a number from 0 to 1");
    rejects("hamiltonian", "exact_energy", "automatic", "must be a number from .*, or auto");
    rejects("hamiltonian", "type", "ising",
            "must be one of tfim, xxz, heisenberg, j1j2, blbq, terms");
    rejects("vmc", "optimizer", "lbfgs", "must be one of sgd, adam");
}

/* tfim is a spin-1/2 model and blbq a spin >= 1 one; xxz, heisenberg, j1j2 and terms take any
 * spin; terms belong to type = terms, which needs some. */
static void test_hamiltonian_types_check_their_spin_and_terms(void **state) {
    (void)state;
    finalize_fails("[run]\nmode = train\n[system]\nspin = 1\n[hamiltonian]\ntype = tfim\n",
                   "^test\\.ini:4: \\[system\\] spin: tfim is defined for spin 1/2 only; write "
                   "other spins with type = terms \\(got 1\\)$");
    finalize_fails("[run]\nmode = exact\n[hamiltonian]\ntype = blbq\n",
                   "^test\\.ini: \\[system\\] spin: blbq needs spin >= 1 \\(got 0.5\\)$");
    finalize_fails("[run]\nmode = exact\n[hamiltonian]\ntype = terms\n",
                   "^test\\.ini:4: \\[hamiltonian\\] type = terms needs term = ... lines or a "
                   "terms_file$");
    finalize_fails("[hamiltonian]\ntype = xxz\nterm = 1.0 Sz(0)\n",
                   "^test\\.ini:3: \\[hamiltonian\\] term: terms belong to type = terms \\(got "
                   "type = xxz\\)$");
    ars_config c;
    parse_ok(&c, "[system]\nspin = 1.5\n[run]\nmode = exact\n[hamiltonian]\ntype = xxz\n");
    parse_ok(&c, "[system]\nspin = 1\n[run]\nmode = train\n[hamiltonian]\ntype = blbq\n");
}

/* term is the one repeatable key: each line is appended in order, --set appends one more, and
 * the dump writes one line per term, which parses back to the same list. */
static void test_term_lines_repeat_and_round_trip(void **state) {
    (void)state;
    ars_config c;
    parse_ok(&c, "[hamiltonian]\ntype = terms\nterm = -1.0 Sz(i) Sz(i+1)\n"
                 "term = -0.5 Sx(i)\nterm = 0.5 S+(3) S-(7)\n");
    assert_int_equal(c.n_ham_terms, 3);
    assert_string_equal(c.ham_term[1], "-0.5 Sx(i)");
    assert_int_equal(c.ham_term_line[2], 5);
    assert_int_equal(ars_config_set(&c, "hamiltonian.term=0.5 S-(3) S+(7)"), ARS_OK);
    assert_int_equal(c.n_ham_terms, 4);
    assert_int_equal(c.ham_term_line[3], -1);
    char *dump = ars_config_dump(&c);
    assert_non_null(dump);
    assert_non_null(strstr(dump, "term = -1.0 Sz(i) Sz(i+1)\nterm = -0.5 Sx(i)\n"));
    ars_config back;
    ars_config_defaults(&back);
    assert_int_equal(ars_config_parse_string(&back, dump, "dump"), ARS_OK);
    assert_int_equal(back.n_ham_terms, 4);
    for (int k = 0; k < 4; k++) {
        assert_string_equal(back.ham_term[k], c.ham_term[k]);
    }
    free(dump);
    parse_fails("[hamiltonian]\nterm =\n", "term: must not be empty");
}

/* ---- regressions found by the fuzzer (tests/fuzz/regressions/) --------------------------- */

/* crash-56bd9faa..., crash-df9dafee...: a --set argument with control characters (here ESC,
 * CR, a newline) was echoed raw, so the message was not one clean line. The argument, and the
 * section and key quoted from it, now show '?' for every unprintable byte. */
static void test_set_messages_quote_control_characters(void **state) {
    (void)state;
    set_fails("\xff\xff\x1b", "^--set \\?\\?\\?: expected section\\.key=value$");
    set_fails("sys\ntem.size=4", "^--set sys\\?tem\\.size=4: unknown section \\[sys\\?tem\\] "
                                 "\\(known sections: .*\\)$");
    set_fails("system.si\rze=4",
              "^--set system\\.si\\?ze=4: \\[system\\] si\\?ze: unknown key \\(keys of "
              "\\[system\\]: size, spin, total_sz\\)$");
    /* An override accepted with a trailing newline (values are trimmed), then named by a
     * cross-key error of ars_config_finalize. */
    ars_config c;
    ars_config_defaults(&c);
    assert_int_equal(ars_config_set(&c, "model.features=16,16\n"), ARS_OK);
    capture_begin();
    int rc = ars_config_finalize(&c);
    const char *err = capture_end();
    assert_int_equal(rc, ARS_STATUS_ECONFIG);
    assert_one_line_matching(err, "^--set model\\.features=16,16\\?: \\[model\\] features: a list "
                                  "must have one entry per layer \\(layers = 3\\) \\(got 2 "
                                  "entries: 16, 16\\)$");
}

/* crash-b4516c76...: a config file named " #= " gave the default output "out/ #= .h5", whose
 * dump ("file = out/ #= .h5") parses back as "out/" plus a comment: the dump stored in the output
 * file and shown by --print-config was not the config that ran. Such characters of the name now
 * become '_'; ordinary names are unchanged. */
static void test_default_output_name_survives_the_dump(void **state) {
    (void)state;
    static const char *const names[][2] = {
        {" #= ", "out/ _= .h5"},
        {"  #", "out/  _.h5"},
        {"run ;1.ini", "out/run _1.h5"},
        {"a\t#b.ini", "out/a_#b.h5"},
        {"x\x01y\x7f.ini", "out/x_y_.h5"},
        {"a;b#c.ini", "out/a;b#c.h5"},
        {"my run.ini", "out/my run.h5"},
        {"dir/r\xc3\xa9sum\xc3\xa9.ini", "out/r\xc3\xa9sum\xc3\xa9.h5"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ars_config c;
        ars_config_defaults(&c);
        capture_begin();
        int rc = ars_config_parse_string(&c, "[sampler]\nseed = 1\n", names[i][0]);
        int rc2 = rc == ARS_OK ? ars_config_finalize(&c) : rc;
        const char *err = capture_end();
        if (rc != ARS_OK || rc2 != ARS_OK || err[0] != '\0') {
            fail_msg("config named \"%s\": %d/%d \"%s\"", names[i][0], rc, rc2, err);
        }
        assert_string_equal(c.file, names[i][1]);
        assert_round_trip(&c);
    }
}

/* A file over 1 MiB is refused before parsing, as FILE:LINE like every refusal of a file's
 * content (it was "arsampler: error: FILE: larger than ..."), at the line where 1 MiB falls. */
static void test_file_over_one_mib_is_refused_at_the_line_of_the_limit(void **state) {
    (void)state;
    const size_t n = ((size_t)1 << 20) + 100;
    char *text = malloc(n);
    assert_non_null(text);
    const char head[] = "[system]\nsize = 16\n";
    memcpy(text, head, sizeof head - 1);
    for (size_t i = sizeof head - 1; i < n; i++) {
        text[i] = i % 64 == 63 ? '\n' : ';'; /* comment lines of 63 characters */
    }
    int line = 1;
    for (size_t i = 0; i < ((size_t)1 << 20); i++) {
        line += text[i] == '\n';
    }
    const char *path = ars_test_tmp_path("huge.ini");
    write_file(path, text, n);
    free(text);
    ars_config c;
    ars_config_defaults(&c);
    capture_begin();
    int rc = ars_config_parse_file(&c, path);
    const char *err = capture_end();
    assert_int_equal(rc, ARS_STATUS_ECONFIG);
    char pattern[8192];
    snprintf(pattern, sizeof pattern,
             "^%s:%d: larger than 1048576 bytes \\(1 MiB\\); not a config file$", re_escape(path),
             line);
    assert_one_line_matching(err, pattern);
    /* Exactly 1 MiB is still read. */
    text = malloc((size_t)1 << 20);
    assert_non_null(text);
    memcpy(text, head, sizeof head - 1);
    for (size_t i = sizeof head - 1; i < ((size_t)1 << 20); i++) {
        text[i] = i % 64 == 63 ? '\n' : ';';
    }
    write_file(path, text, (size_t)1 << 20);
    free(text);
    ars_config_defaults(&c);
    assert_int_equal(ars_config_parse_file(&c, path), ARS_OK);
    assert_int_equal(c.size, 16);
    remove(path);
}

/* ---- ini.c alone, and the key descriptor's repeatable flag -------------------------------- */

typedef struct ini_log {
    char text[512];
} ini_log;

static int ini_log_section(void *ctx, const char *section, ars_ini_where w) {
    ini_log *log = ctx;
    char one[96];
    snprintf(one, sizeof one, "%d[%s]", w.line, section);
    strncat(log->text, one, sizeof log->text - strlen(log->text) - 1);
    return ARS_OK;
}

static int ini_log_key(void *ctx, const char *section, const char *key, const char *value,
                       ars_ini_where w) {
    ini_log *log = ctx;
    char one[160];
    snprintf(one, sizeof one, " %d:%s.%s=%s", w.line, section, key, value);
    strncat(log->text, one, sizeof log->text - strlen(log->text) - 1);
    return ARS_OK;
}

static void test_ini_parser_knows_no_keys_and_passes_repeated_keys_on(void **state) {
    (void)state;
    static const ars_ini_handler h = {ini_log_section, ini_log_key};
    ini_log log = {""};
    const char *text = "; comment\n[any]\n term = a b ; inline\nterm=c\n\n[ other ]\nx = 1 # c\n";
    assert_int_equal(ars_ini_parse(text, "t.ini", &h, &log), ARS_OK);
    assert_string_equal(log.text, "2[any] 3:any.term=a b 4:any.term=c6[other] 7:other.x=1");
    capture_begin();
    int rc = ars_ini_parse("k = v\n", "t.ini", &h, &log);
    const char *err = capture_end();
    assert_int_equal(rc, ARS_STATUS_ECONFIG);
    assert_one_line_matching(err, "^t\\.ini:1: key 'k' appears before any \\[section\\]$");
}

static void test_term_and_operator_are_the_repeatable_keys(void **state) {
    (void)state;
    /* [hamiltonian] term and [observables] operator; every other key given twice is an error. */
    const ars_config_key *const *tables = key_tables;
    const int *n = key_counts;
    int total = 0;
    for (int t = 0; t < N_KEY_TABLES; t++) {
        for (int i = 0; i < n[t]; i++) {
            const int term = (strcmp(tables[t][i].section, "hamiltonian") == 0 &&
                              strcmp(tables[t][i].key, "term") == 0) ||
                             (strcmp(tables[t][i].section, "observables") == 0 &&
                              strcmp(tables[t][i].key, "operator") == 0);
            assert_int_equal(tables[t][i].repeatable, term);
            assert_int_equal(ars_config_key_index(tables[t][i].section, tables[t][i].key), total);
            total++;
        }
    }
    assert_int_equal(total, ARS_CONFIG_NKEYS);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_give_every_key_its_documented_value),
        cmocka_unit_test(test_auto_dilation_covers_the_chain_without_gaps),
        cmocka_unit_test(test_defaults_pass_finalize_and_every_key_has_a_value),
        cmocka_unit_test(test_default_output_is_out_slash_config_stem_dot_h5),
        cmocka_unit_test(test_where_names_the_line_the_default_or_the_override),
        cmocka_unit_test(test_explicit_output_file_is_kept_by_finalize),
        cmocka_unit_test(test_empty_output_file_means_the_derived_default),
        cmocka_unit_test(test_empty_text_is_valid_and_gives_all_defaults),
        cmocka_unit_test(test_comments_blank_lines_and_white_space_are_ignored),
        cmocka_unit_test(test_crlf_line_ends_and_a_byte_order_mark_are_accepted),
        cmocka_unit_test(test_a_value_may_contain_equals_signs),
        cmocka_unit_test(test_sections_may_be_reopened),
        cmocka_unit_test(test_list_values_are_parsed_in_order),
        cmocka_unit_test(test_one_integer_broadcasts_to_every_layer),
        cmocka_unit_test(test_one_layer_network_is_valid),
        cmocka_unit_test(test_booleans_accept_true_yes_on_1_and_false_no_off_0),
        cmocka_unit_test(test_enums_accept_every_documented_name),
        cmocka_unit_test(test_spin_is_stored_as_twice_its_value),
        cmocka_unit_test(test_total_sz_selects_a_reachable_sector),
        cmocka_unit_test(test_bad_sectors_and_symmetries_are_errors),
        cmocka_unit_test(test_largest_values_of_each_range_are_accepted),
        cmocka_unit_test(test_unknown_section_is_an_error),
        cmocka_unit_test(test_unknown_key_is_an_error),
        cmocka_unit_test(test_key_before_any_section_is_an_error),
        cmocka_unit_test(test_line_without_equals_is_an_error),
        cmocka_unit_test(test_malformed_section_header_is_an_error),
        cmocka_unit_test(test_duplicate_key_is_an_error),
        cmocka_unit_test(test_non_integer_is_an_error),
        cmocka_unit_test(test_zero_and_negative_sizes_are_errors),
        cmocka_unit_test(test_huge_numbers_are_errors_not_wrapped_around),
        cmocka_unit_test(test_spin_that_is_not_a_positive_multiple_of_one_half_is_an_error),
        cmocka_unit_test(test_nan_and_infinite_spin_are_errors),
        cmocka_unit_test(test_bad_enum_value_is_an_error),
        cmocka_unit_test(test_bad_bool_is_an_error),
        cmocka_unit_test(test_empty_init_is_an_error),
        cmocka_unit_test(test_too_long_path_is_an_error),
        cmocka_unit_test(test_bad_lists_are_errors),
        cmocka_unit_test(test_messages_quote_long_and_unprintable_values_safely),
        cmocka_unit_test(test_features_list_length_must_equal_layers),
        cmocka_unit_test(test_last_features_entry_must_equal_local_size),
        cmocka_unit_test(test_kernel_dilation_list_length_must_equal_layers),
        cmocka_unit_test(test_feature_group_count_must_divide_hidden_features),
        cmocka_unit_test(test_feature_group_count_needs_at_least_three_layers),
        cmocka_unit_test(test_chunk_size_too_large_for_memory_is_an_error),
        cmocka_unit_test(test_too_many_samples_for_memory_is_an_error),
        cmocka_unit_test(test_observable_names_parse_into_a_mask),
        cmocka_unit_test(test_renyi2_cuts_default_to_half_the_chain),
        cmocka_unit_test(test_bad_observables_are_config_errors),
        cmocka_unit_test(test_set_overrides_a_value_from_the_file),
        cmocka_unit_test(test_set_with_bad_syntax_is_an_error),
        cmocka_unit_test(test_set_with_unknown_section_or_key_is_an_error),
        cmocka_unit_test(test_set_error_leaves_the_value_unchanged),
        cmocka_unit_test(test_cross_key_error_after_an_override_names_the_override),
        cmocka_unit_test(test_cross_key_error_with_a_default_names_the_file_without_a_line),
        cmocka_unit_test(test_string_values_that_would_not_survive_the_dump_are_refused),
        cmocka_unit_test(test_a_network_with_too_many_parameters_is_refused),
        cmocka_unit_test(test_parse_file_reads_a_file_and_names_the_output_after_it),
        cmocka_unit_test(test_empty_or_comment_only_file_is_an_error),
        cmocka_unit_test(test_train_and_exact_need_a_hamiltonian_type),
        cmocka_unit_test(test_missing_file_is_an_error_naming_it),
        cmocka_unit_test(test_binary_file_is_an_error),
        cmocka_unit_test(test_dump_shows_every_key_with_its_effective_value),
        cmocka_unit_test(test_dump_parses_back_to_an_identical_dump),
        cmocka_unit_test(test_describe_lists_every_key_with_its_default),
        cmocka_unit_test(test_training_keys_parse_numbers_auto_and_schedules),
        cmocka_unit_test(test_training_keys_reject_bad_numbers),
        cmocka_unit_test(test_hamiltonian_types_check_their_spin_and_terms),
        cmocka_unit_test(test_term_lines_repeat_and_round_trip),
        cmocka_unit_test(test_set_messages_quote_control_characters),
        cmocka_unit_test(test_default_output_name_survives_the_dump),
        cmocka_unit_test(test_file_over_one_mib_is_refused_at_the_line_of_the_limit),
        cmocka_unit_test(test_ini_parser_knows_no_keys_and_passes_repeated_keys_on),
        cmocka_unit_test(test_term_and_operator_are_the_repeatable_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
