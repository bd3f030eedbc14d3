/*
 * cli: the command line of arsampler (see cli.h): the usage text and the parser of argv.
 * --threads N and --output FILE are overrides like --set: "run.threads=N" and
 * "output.file=FILE", built in the ars_cli itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "core/ars_common.h"

static const char usage[] =
    "usage: arsampler CONFIG [--set section.key=value]... [--threads N] [--output FILE] "
    "[--quiet] [--resume] [--force]\n"
    "       arsampler --help | --version | --print-config [CONFIG] | --keys\n"
    "\n"
    "Draws exact samples from an autoregressive masked-convolution network (NetKet's\n"
    "ARNNConv1D, extended) for a spin chain, trains it to a ground state by variational Monte\n"
    "Carlo ([run] mode = train), or computes exact energies (mode = exact); writes HDF5.\n"
    "\n"
    "  --set S.K=V      override key K of section [S] (repeatable), e.g. --set sampler.seed=7\n"
    "  --threads N      OpenMP threads (same as --set run.threads=N); results do not depend on it\n"
    "  --output FILE    output file (same as --set output.file=FILE)\n"
    "  --quiet          no summary and no progress line (errors, warnings and the result line of\n"
    "                   train/exact still appear)\n"
    "  --resume         mode = train: continue from the last checkpoint in the output file up to\n"
    "                   [vmc] iterations (e.g. --resume --set vmc.iterations=2000 extends a run)\n"
    "  --force          replace an existing output file; without it the existing file is kept\n"
    "                   as a numbered backup FILE.~1~, FILE.~2~, ... beside it\n"
    "  --print-config   print the effective configuration (defaults and overrides applied), exit\n"
    "  --keys           list every config key with its default and range, exit\n"
    "  --version        print the version, exit\n"
    "\n"
    "SIGINT/SIGTERM during training: the current iteration finishes, a checkpoint is written,\n"
    "and the exit status is 130/143; a second signal exits at once.\n"
    "Exit status: 0 success, 2 invalid config/arguments/input file, 1 other failure.\n"
    "Documentation: README.md, docs/config.md, docs/hdf5-format.md.\n";

/* --help, --version or --keys: prints the answer to stdout. */
static int answer(const char *s) {
    if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
        fputs(usage, stdout);
    } else if (strcmp(s, "--version") == 0) {
        printf("arsampler %s\n", ARS_VERSION);
    } else {
        char *d = ars_config_describe();
        if (d == NULL) {
            return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory");
        }
        fputs(d, stdout);
        free(d);
    }
    return ARS_OK;
}

/* An option with a value: --set S.K=V, --threads N or --output FILE (argv[*i] is the option;
 * *i moves to its value). */
static int option_value(ars_cli *a, int argc, char **argv, int *i) {
    const char *s = argv[*i];
    if (*i + 1 >= argc) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "%s needs a value (see --help)", s);
    }
    const char *val = argv[++*i];
    if (a->n_sets >= ARS_CLI_MAX_SETS) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "too many overrides");
    }
    if (strcmp(s, "--set") == 0) {
        a->sets[a->n_sets++] = val;
        return ARS_OK;
    }
    const int slot = strcmp(s, "--threads") == 0 ? 0 : 1;
    if (a->extra[slot][0] != '\0') {
        return ARS_ERR(ARS_STATUS_ECONFIG, "%s given more than once", s);
    }
    snprintf(a->extra[slot], sizeof a->extra[slot], "%s=%s",
             slot == 0 ? "run.threads" : "output.file", val);
    a->sets[a->n_sets++] = a->extra[slot];
    return ARS_OK;
}

int ars_cli_parse(ars_cli *a, int argc, char **argv, int *done) {
    *done = 0;
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int rc = ARS_OK;
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 || strcmp(s, "--version") == 0 ||
            strcmp(s, "--keys") == 0) {
            *done = 1;
            return answer(s);
        } else if (strcmp(s, "--quiet") == 0 || strcmp(s, "-q") == 0) {
            a->quiet = 1;
        } else if (strcmp(s, "--print-config") == 0) {
            a->print_config = 1;
        } else if (strcmp(s, "--resume") == 0) {
            a->resume = 1;
        } else if (strcmp(s, "--force") == 0) {
            a->force = 1;
        } else if (strcmp(s, "--set") == 0 || strcmp(s, "--threads") == 0 ||
                   strcmp(s, "--output") == 0) {
            rc = option_value(a, argc, argv, &i);
        } else if (strncmp(s, "--set=", 6) == 0) {
            if (a->n_sets >= ARS_CLI_MAX_SETS) {
                return ARS_ERR(ARS_STATUS_ECONFIG, "too many overrides");
            }
            a->sets[a->n_sets++] = s + 6;
        } else if (s[0] == '-' && s[1] != '\0') {
            return ARS_ERR(ARS_STATUS_ECONFIG, "unknown option '%s' (see --help)", s);
        } else if (a->config == NULL) {
            a->config = s;
        } else {
            return ARS_ERR(ARS_STATUS_ECONFIG, "more than one config file ('%s' and '%s')",
                           a->config, s);
        }
        if (rc != ARS_OK) {
            return rc;
        }
    }
    if (a->config == NULL && !a->print_config) {
        fputs(usage, stderr);
        return ARS_STATUS_ECONFIG;
    }
    return ARS_OK;
}
