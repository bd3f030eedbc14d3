/*
 * ini: a strict INI tokenizer that knows nothing of arsampler's keys (config.c gives it the
 * meaning of sections and keys through callbacks).
 *
 * Syntax: `[section]` headers; `key = value` lines; full-line comments starting with ';' or
 * '#'; inline comments starting with ';' or '#' preceded by white space; blank lines; an
 * optional UTF-8 byte order mark. Errors are reported once as "FILE:LINE: message" on stderr
 * and return ARS_STATUS_ECONFIG.
 */
#ifndef ARS_INI_H
#define ARS_INI_H

#include <stddef.h>

/* Largest INI file read (a config is a few hundred bytes; this stops binary garbage). */
#define ARS_INI_MAX_BYTES (1 << 20)

/* The location prefix of a message: "FILE:LINE", "FILE" or "--set ARG". */
typedef struct ars_ini_where {
    const char *name;
    int line; /* > 0 a line of name, 0 none, -1 name is a --set argument */
} ars_ini_where;

/* Prints "WHERE: message" to stderr and returns ARS_STATUS_ECONFIG. */
int ars_ini_error(ars_ini_where w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Shortens a value for quoting in a message into buf, replacing unprintable bytes by '?'. */
const char *ars_ini_quote(const char *v, char *buf, size_t len);

/* Strips white space at both ends, in place. */
char *ars_ini_trim(char *s);

/* The callbacks of one parse; each returns 0 (ARS_OK) or an error status that stops it. */
typedef struct ars_ini_handler {
    /* A `[section]` header (name trimmed). */
    int (*section)(void *ctx, const char *section, ars_ini_where w);
    /* A `key = value` line under a section accepted by `section` (both trimmed, the value
     * without its inline comment). */
    int (*key)(void *ctx, const char *section, const char *key, const char *value, ars_ini_where w);
} ars_ini_handler;

/* Parses INI text; `name` is used in messages as the file name. */
int ars_ini_parse(const char *text, const char *name, const ars_ini_handler *h, void *ctx);

/* Reads a whole INI file into *text (malloc'd, NUL-terminated): refuses files over
 * ARS_INI_MAX_BYTES and binary content (a NUL byte), naming the line. */
int ars_ini_read_file(const char *path, char **text);

/* Whether INI text has a line that is not blank or a comment. */
int ars_ini_has_content(const char *text);

#endif
