/*
 * ini: the strict INI tokenizer (see ini.h).
 */
#include "config/ini.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"

char *ars_ini_trim(char *s) {
    while (isspace((unsigned char)*s)) {
        s++;
    }
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) {
        *--e = '\0';
    }
    return s;
}

int ars_ini_error(ars_ini_where w, const char *fmt, ...) {
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (w.line > 0) {
        fprintf(stderr, "%s:%d: %s\n", w.name, w.line, msg);
    } else if (w.line < 0) {
        /* A --set argument is echoed whole, but with '?' for every unprintable byte, as in
         * ars_ini_quote(): a control character in it (a newline, a carriage return) must not
         * break the message into several lines. */
        char *arg = strdup(w.name);
        char short_arg[512];
        if (arg != NULL) {
            for (char *p = arg; *p != '\0'; p++) {
                *p = isprint((unsigned char)*p) ? *p : '?';
            }
        }
        fprintf(stderr, "--set %s: %s\n",
                arg != NULL ? arg : ars_ini_quote(w.name, short_arg, sizeof short_arg), msg);
        free(arg);
    } else {
        fprintf(stderr, "%s: %s\n", w.name, msg);
    }
    return ARS_STATUS_ECONFIG;
}

const char *ars_ini_quote(const char *v, char *buf, size_t len) {
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

/* Removes an inline comment: ';' or '#' at the start or after white space. */
static void strip_inline_comment(char *s) {
    for (char *p = s; *p != '\0'; p++) {
        if ((*p == ';' || *p == '#') && (p == s || isspace((unsigned char)p[-1]))) {
            *p = '\0';
            return;
        }
    }
}

/* A `[section]` line s (trimmed); *section_ok and section[] record an accepted header. */
static int parse_header(char *s, char *section, size_t len, int *section_ok,
                        const ars_ini_handler *h, void *ctx, ars_ini_where w) {
    char q[96];
    strip_inline_comment(s);
    s = ars_ini_trim(s);
    size_t n = strlen(s);
    if (n < 3 || s[n - 1] != ']') {
        return ars_ini_error(w, "malformed section header (got '%s')",
                             ars_ini_quote(s, q, sizeof q));
    }
    s[n - 1] = '\0';
    char *sec = ars_ini_trim(s + 1);
    int rc = h->section(ctx, sec, w);
    if (rc == ARS_OK) {
        snprintf(section, len, "%s", sec);
        *section_ok = 1;
    }
    return rc;
}

/* A `key = value` line s (trimmed). */
static int parse_assignment(char *s, const char *section, int section_ok, const ars_ini_handler *h,
                            void *ctx, ars_ini_where w) {
    char q[96];
    char *eq = strchr(s, '=');
    if (eq == NULL) {
        return ars_ini_error(w, "expected 'key = value' or '[section]' (got '%s')",
                             ars_ini_quote(s, q, sizeof q));
    }
    *eq = '\0';
    char *key = ars_ini_trim(s);
    char *value = eq + 1;
    strip_inline_comment(value);
    value = ars_ini_trim(value);
    if (!section_ok) {
        return ars_ini_error(w, "key '%s' appears before any [section]",
                             ars_ini_quote(key, q, sizeof q));
    }
    return h->key(ctx, section, key, value, w);
}

int ars_ini_parse(const char *text, const char *name, const ars_ini_handler *h, void *ctx) {
    char section[64] = "";
    int section_ok = 0;
    int lineno = 0;
    const char *p = text;
    if (strncmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3; /* UTF-8 byte order mark */
    }
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
        lineno++;
        ars_ini_where w = {name, lineno};
        char *line = malloc(len + 1);
        if (line == NULL) {
            return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory reading %s", name);
        }
        memcpy(line, p, len);
        line[len] = '\0';
        p = eol != NULL ? eol + 1 : p + len;

        char *s = ars_ini_trim(line);
        int rc = ARS_OK;
        if (*s == '\0' || *s == ';' || *s == '#') {
            /* blank or comment */
        } else if (*s == '[') {
            rc = parse_header(s, section, sizeof section, &section_ok, h, ctx, w);
        } else {
            rc = parse_assignment(s, section, section_ok, h, ctx, w);
        }
        free(line);
        if (rc != ARS_OK) {
            return rc;
        }
    }
    return ARS_OK;
}

int ars_ini_has_content(const char *text) {
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

/* The line number of byte `at` of text. */
static int line_of(const char *text, size_t at) {
    int line = 1;
    for (size_t i = 0; i < at; i++) {
        line += text[i] == '\n';
    }
    return line;
}

int ars_ini_read_file(const char *path, char **text_out) {
    *text_out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "cannot open config file '%s': %s", path,
                       strerror(errno));
    }
    char *text = malloc(ARS_INI_MAX_BYTES + 1);
    if (text == NULL) {
        fclose(f);
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory reading '%s'", path);
    }
    size_t n = fread(text, 1, ARS_INI_MAX_BYTES + 1, f);
    int read_error = ferror(f);
    fclose(f);
    int rc = ARS_OK;
    if (read_error) {
        rc = ARS_ERR(ARS_STATUS_ECONFIG, "cannot read config file '%s'", path);
    } else if (n > ARS_INI_MAX_BYTES) {
        /* Named at the line where the limit falls, like the NUL byte below. */
        rc = ars_ini_error((ars_ini_where){path, line_of(text, ARS_INI_MAX_BYTES)},
                           "larger than %d bytes (1 MiB); not a config file", ARS_INI_MAX_BYTES);
    } else if (memchr(text, '\0', n) != NULL) {
        size_t at = (size_t)((char *)memchr(text, '\0', n) - text);
        rc = ars_ini_error((ars_ini_where){path, line_of(text, at)},
                           "binary content (a NUL byte); not a config file");
    }
    if (rc != ARS_OK) {
        free(text);
        return rc;
    }
    text[n] = '\0';
    *text_out = text;
    return ARS_OK;
}
