/*
 * cli: the command line of arsampler. Maps argv to a config file, its overrides and the flags;
 * answers --help, --version and --keys itself.
 *
 *   arsampler CONFIG [--set section.key=value]... [--threads N] [--output FILE] [--quiet]
 *             [--resume] [--force]
 *   arsampler --help | --version | --print-config [CONFIG] | --keys
 */
#ifndef ARS_APP_CLI_H
#define ARS_APP_CLI_H

#include "config/config.h"

/* The most overrides one command line may give (--set, --threads and --output together). */
#define ARS_CLI_MAX_SETS 256

/* A parsed command line. The overrides point into argv and into `extra`: an ars_cli is filled
 * in place and never copied. */
typedef struct ars_cli {
    const char *config;                 /* the config file, or NULL (only with --print-config) */
    const char *sets[ARS_CLI_MAX_SETS]; /* "section.key=value", in the order given */
    int n_sets;
    int quiet;                        /* --quiet */
    int print_config;                 /* --print-config */
    int resume;                       /* --resume */
    int force;                        /* --force */
    char extra[2][ARS_PATH_MAX + 32]; /* --threads, --output as "run.threads=N", "output.file=F" */
} ars_cli;

/* Parses argv into `a`. --help, --version and --keys print their text to stdout and set *done
 * (ARS_OK; nothing else is to be done). ARS_STATUS_ECONFIG with one message on stderr for an
 * invalid command line; without a config file (and without --print-config) the message is the
 * usage text. */
int ars_cli_parse(ars_cli *a, int argc, char **argv, int *done);

#endif
