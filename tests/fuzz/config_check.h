/*
 * config_check: one input through the whole config module, with its properties checked. Shared
 * by the libFuzzer target (fuzz_config.c, built with -DARS_FUZZ=ON and clang) and the replay
 * driver (fuzz_config_replay.c, a ctest of every build), so that an input the fuzzer found stays
 * a regression test once it is copied to tests/fuzz/regressions/.
 *
 * An input is the text of a config file, optionally followed by a trailer of overrides:
 *
 *     [system]               <- the config file, any bytes (NUL bytes included)
 *     size = 8
 *     %%                     <- a line "%%" starts the trailer
 *     @name run ;1.ini       <- optional: the config file's name (printable ASCII, no '/')
 *     model.layers=2         <- up to 8 overrides, as `--set section.key=value`
 *
 * The config file is written to a private temporary folder and read by ars_config_parse_file,
 * as arsampler does; its text up to the first NUL byte also goes through
 * ars_config_parse_string. Both are followed by the overrides (ars_config_set),
 * ars_config_finalize and ars_config_dump. The properties (a failure prints what is wrong and
 * aborts, which the fuzzer reports as a crash):
 *  - no crash, assertion, sanitizer report or leak anywhere;
 *  - every call that fails returns ARS_STATUS_ECONFIG and prints exactly one line on stderr,
 *    without control characters, that starts with "FILE:" (the config file's path) or "--set ";
 *    every call that succeeds prints nothing;
 *  - a file with a NUL byte is refused as binary, naming the line of the first NUL;
 *  - otherwise parse_file and parse_string agree (same statuses, messages and dump), except that
 *    parse_file refuses a file of blank lines and comments only;
 *  - a finalised config dumps the same text twice, and its dump parses back (parse_string +
 *    finalize, silently) to an identical dump.
 */
#ifndef ARS_FUZZ_CONFIG_CHECK_H
#define ARS_FUZZ_CONFIG_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Creates the private temporary folder (removed at exit). 0 on success. */
int ars_fuzz_config_init(void);

/* Runs one input; returns normally when every property holds, else reports and aborts. */
void ars_fuzz_config_check(const uint8_t *data, size_t size);

/* On SIGABRT (an assertion in the config module, or a failed property), writes what the config
 * module printed during the current call and `label` (the input's name) to file descriptor 2.
 * The replay driver installs this; under libFuzzer its own crash report takes the signal. */
void ars_fuzz_config_report_aborts(const char *const *label);

#endif
