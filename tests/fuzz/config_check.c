/*
 * config_check: the properties of the config module checked on one input (see config_check.h).
 */
#include "config_check.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ars_common.h"
#include "config/config.h"

#define MAX_OVERRIDES 8
#define MAX_NAME 64
#define DEFAULT_NAME "fuzz.ini"
/* The largest config file arsampler reads (CONFIG_MAX_BYTES in config.c). */
#define CONFIG_MAX_BYTES (1 << 20)

static char tmp_dir[1024];
static int initialised;

/* ---- capturing what the config module prints ---------------------------------------------- */

/* The config module prints its messages with fprintf(stderr, ...). During each call, glibc's
 * `stderr` points at an unbuffered memory stream over cap_buf; file descriptor 2 is left alone,
 * so libFuzzer's and the sanitizers' own reports still reach the terminal. */
static char cap_buf[32768];
static size_t cap_used;
static FILE *cap_file;
static FILE *cap_saved;
static const char *const *abort_label;

static void capture_begin(void) {
    memset(cap_buf, 0, cap_used + 1); /* keeps cap_buf NUL-terminated for the abort handler */
    cap_used = 0;
    cap_file = fmemopen(cap_buf, sizeof cap_buf - 1, "w");
    if (cap_file == NULL) {
        perror("fuzz_config_check: fmemopen");
        abort();
    }
    setvbuf(cap_file, NULL, _IONBF, 0);
    cap_saved = stderr;
    stderr = cap_file;
}

static const char *capture_end(void) {
    long n = ftell(cap_file);
    stderr = cap_saved;
    fclose(cap_file);
    cap_file = NULL;
    cap_used = n > 0 ? (size_t)n : 0;
    if (cap_used > sizeof cap_buf - 1) {
        cap_used = sizeof cap_buf - 1;
    }
    cap_buf[cap_used] = '\0';
    return cap_buf;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...) {
    if (cap_file != NULL) {
        stderr = cap_saved;
    }
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_config_check: property failed: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static void write_all(const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0) {
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

static void on_abort(int sig) {
    (void)sig;
    static const char head[] = "fuzz_config_check: aborted";
    static const char on[] = " on input ";
    static const char tail[] = "; the config module printed during the last call:\n";
    write_all(head, sizeof head - 1);
    if (abort_label != NULL && *abort_label != NULL) {
        write_all(on, sizeof on - 1);
        write_all(*abort_label, strlen(*abort_label));
    }
    write_all(tail, sizeof tail - 1);
    write_all(cap_buf, strnlen(cap_buf, sizeof cap_buf));
    write_all("\n", 1);
}

void ars_fuzz_config_report_aborts(const char *const *label) {
    abort_label = label;
    signal(SIGABRT, on_abort);
}

/* ---- setup ------------------------------------------------------------------------------- */

static void cleanup(void) {
    if (tmp_dir[0] != '\0') {
        rmdir(tmp_dir);
    }
}

int ars_fuzz_config_init(void) {
    if (initialised) {
        return 0;
    }
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0') {
        base = "/tmp";
    }
    snprintf(tmp_dir, sizeof tmp_dir, "%.900s/arsampler-fuzz-XXXXXX", base);
    if (mkdtemp(tmp_dir) == NULL) {
        perror("fuzz_config_check: mkdtemp");
        tmp_dir[0] = '\0';
        return -1;
    }
    atexit(cleanup);
    /* The key table as documentation text: once, it depends on no input. */
    char *d = ars_config_describe();
    if (d == NULL) {
        return -1;
    }
    free(d);
    initialised = 1;
    return 0;
}

/* ---- the input --------------------------------------------------------------------------- */

typedef struct input {
    const uint8_t *cfg; /* the config file's bytes */
    size_t cfg_size;
    char name[MAX_NAME + 1];
    int n_set;
    char *set[MAX_OVERRIDES]; /* malloc'd */
} input;

/* Keeps printable ASCII but '/' (a file name in our folder); "fuzz.ini" if nothing usable. */
static void set_name(input *in, const uint8_t *s, size_t n) {
    size_t j = 0;
    for (size_t i = 0; i < n && j < MAX_NAME; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '/') {
            in->name[j++] = (char)s[i];
        }
    }
    in->name[j] = '\0';
    if (j == 0 || strcmp(in->name, ".") == 0 || strcmp(in->name, "..") == 0) {
        snprintf(in->name, sizeof in->name, "%s", DEFAULT_NAME);
    }
}

static void split_input(input *in, const uint8_t *data, size_t size) {
    memset(in, 0, sizeof *in);
    snprintf(in->name, sizeof in->name, "%s", DEFAULT_NAME);
    in->cfg = data;
    in->cfg_size = size;
    size_t trailer = size;
    if (size >= 3 && memcmp(data, "%%\n", 3) == 0) {
        in->cfg_size = 0;
        trailer = 3;
    } else {
        for (size_t i = 0; i + 4 <= size; i++) {
            if (memcmp(data + i, "\n%%\n", 4) == 0) {
                in->cfg_size = i + 1;
                trailer = i + 4;
                break;
            }
        }
    }
    size_t p = trailer;
    while (p < size) {
        size_t e = p;
        while (e < size && data[e] != '\n') {
            e++;
        }
        const size_t len = e - p;
        if (len >= 6 && memcmp(data + p, "@name ", 6) == 0) {
            set_name(in, data + p + 6, len - 6);
        } else if (len > 0 && in->n_set < MAX_OVERRIDES) {
            /* An argument ends at a NUL byte, as on a command line. */
            size_t n = 0;
            while (n < len && data[p + n] != '\0') {
                n++;
            }
            char *s = malloc(n + 1);
            if (s == NULL) {
                fail("out of memory");
            }
            memcpy(s, data + p, n);
            s[n] = '\0';
            in->set[in->n_set++] = s;
        }
        p = e + 1;
    }
}

static void free_input(input *in) {
    for (int i = 0; i < in->n_set; i++) {
        free(in->set[i]);
    }
}

/* ---- checking one call ------------------------------------------------------------------- */

enum call_kind { CALL_PARSE, CALL_SET, CALL_FINALIZE };

/* Whether `s` starts with `prefix`. */
static int starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* After "PATH:": digits and ": " (a line), or, if line_optional, just " ". */
static int location_ok(const char *s, int line_optional) {
    if (line_optional && s[0] == ' ') {
        return 1;
    }
    size_t d = 0;
    while (s[d] >= '0' && s[d] <= '9') {
        d++;
    }
    return d > 0 && s[0] != '0' && s[d] == ':' && s[d + 1] == ' ';
}

/* The status and stderr output of one call must follow the error contract. */
static void check_call(const char *what, int rc, const char *out, const char *path,
                       enum call_kind kind) {
    if (rc == ARS_OK) {
        if (out[0] != '\0') {
            fail("%s succeeded but printed \"%s\"", what, out);
        }
        return;
    }
    if (rc != ARS_STATUS_ECONFIG) {
        fail("%s returned %d, not ARS_STATUS_ECONFIG (printed \"%s\")", what, rc, out);
    }
    const size_t n = strlen(out);
    if (n == 0) {
        fail("%s failed without a message", what);
    }
    if (out[n - 1] != '\n' || strchr(out, '\n') != out + n - 1) {
        fail("%s: expected one line on stderr, got \"%s\"", what, out);
    }
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned char ch = (unsigned char)out[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            fail("%s: control character 0x%02x at byte %zu of the message \"%s\"", what, ch, i,
                 out);
        }
    }
    const size_t np = strlen(path);
    const int at_file = strncmp(out, path, np) == 0 && out[np] == ':';
    int ok = 0;
    switch (kind) {
        case CALL_PARSE:
            ok = at_file && location_ok(out + np + 1, 0);
            break;
        case CALL_SET:
            ok = starts_with(out, "--set ");
            break;
        case CALL_FINALIZE:
            ok = starts_with(out, "--set ") || (at_file && location_ok(out + np + 1, 1));
            break;
    }
    if (!ok) {
        fail("%s: the message does not start with \"%s:LINE: \"%s: \"%s\"", what, path,
             kind == CALL_PARSE ? "" : " or \"--set \"", out);
    }
}

/* ---- one pipeline: parse, overrides, finalize, dump -------------------------------------- */

enum { STAGE_PARSE = 0, STAGE_FINALIZE = MAX_OVERRIDES + 1, STAGE_DONE = MAX_OVERRIDES + 2 };

typedef struct outcome {
    int stage; /* STAGE_PARSE, 1 + the index of the failed override, STAGE_FINALIZE, STAGE_DONE */
    char msg[sizeof cap_buf];
    char *dump; /* STAGE_DONE: malloc'd */
} outcome;

static void record_failure(outcome *o, int stage, const char *out) {
    o->stage = stage;
    snprintf(o->msg, sizeof o->msg, "%s", out);
}

/* The dump of a finalised config: deterministic, and it parses back to the same dump. */
static char *check_dump(const ars_config *c) {
    char *d1 = ars_config_dump(c);
    char *d1b = ars_config_dump(c);
    if (d1 == NULL || d1b == NULL) {
        fail("ars_config_dump: out of memory");
    }
    if (strcmp(d1, d1b) != 0) {
        fail("two dumps of one config differ:\n%s\n---\n%s", d1, d1b);
    }
    free(d1b);
    static ars_config back;
    ars_config_defaults(&back);
    capture_begin();
    int rc = ars_config_parse_string(&back, d1, "dump.ini");
    const char *out = capture_end();
    if (rc != ARS_OK || out[0] != '\0') {
        fail("the dump does not parse back (%d: %s):\n%s", rc, out, d1);
    }
    capture_begin();
    rc = ars_config_finalize(&back);
    out = capture_end();
    if (rc != ARS_OK || out[0] != '\0') {
        fail("the parsed-back dump does not finalize (%d: %s):\n%s", rc, out, d1);
    }
    char *d2 = ars_config_dump(&back);
    if (d2 == NULL) {
        fail("ars_config_dump: out of memory");
    }
    if (strcmp(d1, d2) != 0) {
        fail("the dump parses back to a different dump:\n%s\n--- parsed back and dumped:\n%s", d1,
             d2);
    }
    free(d2);
    return d1;
}

/* from_file: ars_config_parse_file(path); else ars_config_parse_string(text, path). */
static void pipeline(outcome *o, const input *in, const char *path, const char *text,
                     int from_file) {
    static ars_config c;
    ars_config_defaults(&c);
    o->stage = STAGE_DONE;
    o->msg[0] = '\0';
    o->dump = NULL;
    const char *what = from_file ? "ars_config_parse_file" : "ars_config_parse_string";
    capture_begin();
    int rc = from_file ? ars_config_parse_file(&c, path) : ars_config_parse_string(&c, text, path);
    const char *out = capture_end();
    check_call(what, rc, out, path, CALL_PARSE);
    if (rc != ARS_OK) {
        record_failure(o, STAGE_PARSE, out);
        return;
    }
    for (int i = 0; i < in->n_set; i++) {
        capture_begin();
        rc = ars_config_set(&c, in->set[i]);
        out = capture_end();
        check_call("ars_config_set", rc, out, path, CALL_SET);
        if (rc != ARS_OK) {
            record_failure(o, 1 + i, out);
            return;
        }
    }
    capture_begin();
    rc = ars_config_finalize(&c);
    out = capture_end();
    check_call("ars_config_finalize", rc, out, path, CALL_FINALIZE);
    if (rc != ARS_OK) {
        record_failure(o, STAGE_FINALIZE, out);
        return;
    }
    if (c.file[0] == '\0') {
        fail("ars_config_finalize left [output] file empty");
    }
    o->dump = check_dump(&c);
}

/* ---- the check --------------------------------------------------------------------------- */

void ars_fuzz_config_check(const uint8_t *data, size_t size) {
    if (!initialised && ars_fuzz_config_init() != 0) {
        fail("cannot create a temporary folder");
    }
    static input in;
    static outcome from_file, from_text;
    split_input(&in, data, size);

    char path[sizeof tmp_dir + MAX_NAME + 2];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, in.name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(in.cfg, 1, in.cfg_size, f) != in.cfg_size || fclose(f) != 0) {
        fail("cannot write %s", path);
    }
    /* The text parse_string sees: the file up to its first NUL byte. */
    const uint8_t *nul = memchr(in.cfg, '\0', in.cfg_size);
    const size_t text_len = nul != NULL ? (size_t)(nul - in.cfg) : in.cfg_size;
    char *text = malloc(text_len + 1);
    if (text == NULL) {
        fail("out of memory");
    }
    memcpy(text, in.cfg, text_len);
    text[text_len] = '\0';

    pipeline(&from_file, &in, path, NULL, 1);
    pipeline(&from_text, &in, path, text, 0);
    remove(path);

    if (in.cfg_size > CONFIG_MAX_BYTES) {
        if (from_file.stage != STAGE_PARSE || strstr(from_file.msg, ": larger than ") == NULL) {
            fail("a file of %zu bytes was not refused as too large (%s)", in.cfg_size,
                 from_file.msg);
        }
    } else if (nul != NULL) {
        /* A NUL byte: binary content, on the line of the first NUL. */
        int line = 1;
        for (size_t i = 0; i < text_len; i++) {
            line += text[i] == '\n';
        }
        char want[sizeof path + 128];
        snprintf(want, sizeof want, "%s:%d: binary content (a NUL byte); not a config file\n", path,
                 line);
        if (from_file.stage != STAGE_PARSE || strcmp(from_file.msg, want) != 0) {
            fail("a file with a NUL byte on line %d: expected \"%s\", got stage %d \"%s\"", line,
                 want, from_file.stage, from_file.msg);
        }
    } else if (from_file.stage == STAGE_PARSE && from_text.stage != STAGE_PARSE &&
               strstr(from_file.msg, ": empty config file: ") != NULL) {
        /* Blank lines and comments only: an error for a file, the defaults for a string. */
    } else {
        if (from_file.stage != from_text.stage || strcmp(from_file.msg, from_text.msg) != 0) {
            fail("parse_file and parse_string disagree: stage %d \"%s\" vs stage %d \"%s\"",
                 from_file.stage, from_file.msg, from_text.stage, from_text.msg);
        }
        if (from_file.dump != NULL && strcmp(from_file.dump, from_text.dump) != 0) {
            fail("parse_file and parse_string give different configs:\n%s\n---\n%s", from_file.dump,
                 from_text.dump);
        }
    }
    free(from_file.dump);
    free(from_text.dump);
    free(text);
    free_input(&in);
}
