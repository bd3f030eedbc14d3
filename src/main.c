/*
 * arsampler: command-line entry point. Parses arguments, loads and checks the config, builds
 * the network, draws the samples and writes the HDF5 output; maps ars_status to exit codes
 * (0 success, 2 bad input, 1 other failures).
 *
 *   arsampler CONFIG [--set section.key=value]... [--threads N] [--output FILE] [--quiet]
 *   arsampler --version | --help | --print-config [CONFIG ...]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <omp.h>

#include "arnn.h"
#include "ars_common.h"
#include "config.h"
#include "io_hdf5.h"
#include "sampler.h"

static const char usage[] =
    "usage: arsampler CONFIG [--set section.key=value]... [--threads N] [--output FILE] "
    "[--quiet]\n"
    "       arsampler --help | --version | --print-config [CONFIG] | --keys\n"
    "\n"
    "Draws exact samples from an autoregressive masked-convolution network (NetKet's\n"
    "ARNNConv1D) for a spin chain and writes them, with the network, to an HDF5 file.\n"
    "\n"
    "  --set S.K=V      override key K of section [S] (repeatable), e.g. --set sampler.seed=7\n"
    "  --threads N      OpenMP threads (same as --set run.threads=N); results do not depend on it\n"
    "  --output FILE    output file (same as --set output.file=FILE)\n"
    "  --quiet          no summary and no progress line (errors and warnings still go to stderr)\n"
    "  --print-config   print the effective configuration (defaults and overrides applied), exit\n"
    "  --keys           list every config key with its default and range, exit\n"
    "  --version        print the version, exit\n"
    "\n"
    "Exit status: 0 success, 2 invalid config/arguments/input file, 1 other failure.\n"
    "Documentation: README.md, docs/config.md, docs/hdf5-format.md.\n";

typedef struct cli {
    const char *config;
    const char *sets[256];
    int n_sets;
    int quiet;
    int print_config;
} cli;

static int parse_cli(cli *a, int argc, char **argv, int *done) {
    static char extra[2][ARS_PATH_MAX + 32]; /* --threads, --output */
    extra[0][0] = extra[1][0] = '\0';
    *done = 0;
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *val = NULL;
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            fputs(usage, stdout);
            *done = 1;
            return ARS_OK;
        } else if (strcmp(s, "--version") == 0) {
            printf("arsampler %s\n", ARS_VERSION);
            *done = 1;
            return ARS_OK;
        } else if (strcmp(s, "--keys") == 0) {
            char *d = ars_config_describe();
            if (d != NULL) {
                fputs(d, stdout);
            }
            free(d);
            *done = 1;
            return ARS_OK;
        } else if (strcmp(s, "--quiet") == 0 || strcmp(s, "-q") == 0) {
            a->quiet = 1;
        } else if (strcmp(s, "--print-config") == 0) {
            a->print_config = 1;
        } else if (strcmp(s, "--set") == 0 || strcmp(s, "--threads") == 0 ||
                   strcmp(s, "--output") == 0) {
            if (i + 1 >= argc) {
                return ARS_ERR(ARS_STATUS_ECONFIG, "%s needs a value (see --help)", s);
            }
            val = argv[++i];
            if (a->n_sets >= 256) {
                return ARS_ERR(ARS_STATUS_ECONFIG, "too many overrides");
            }
            if (strcmp(s, "--set") == 0) {
                a->sets[a->n_sets++] = val;
            } else {
                int slot = strcmp(s, "--threads") == 0 ? 0 : 1;
                if (extra[slot][0] != '\0') {
                    return ARS_ERR(ARS_STATUS_ECONFIG, "%s given more than once", s);
                }
                snprintf(extra[slot], sizeof extra[slot], "%s=%s",
                         slot == 0 ? "run.threads" : "output.file", val);
                a->sets[a->n_sets++] = extra[slot];
            }
        } else if (strncmp(s, "--set=", 6) == 0) {
            if (a->n_sets >= 256) {
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
    }
    if (a->config == NULL && !a->print_config) {
        fputs(usage, stderr);
        return ARS_STATUS_ECONFIG;
    }
    return ARS_OK;
}

/* Prints the receptive field and warns about gaps or a short reach. */
static void report_receptive_field(const ars_arch *arch, int quiet) {
    const int L = arch->hilbert.size;
    uint8_t *dep = calloc((size_t)L, 1);
    if (dep == NULL) {
        return;
    }
    long reach = ars_arch_receptive_field(arch, dep);
    long reachable = reach < L - 1 ? reach : L - 1;
    int count = 0, first_gap = 0;
    for (long r = 1; r <= reachable; r++) {
        count += dep[r];
        if (!dep[r] && first_gap == 0) {
            first_gap = (int)r;
        }
    }
    if (!quiet) {
        printf("receptive field: site t depends on %d of the %ld sites t-1 .. t-%ld "
               "(the network reaches back %ld sites; the chain has %d)\n",
               count, reachable, reachable, reach, L);
    }
    if (first_gap != 0) {
        ars_warn("the last site depends on only %d of the %ld earlier sites within its reach "
                 "(the first one missing is %d sites back): with one dilation d > 1 for all "
                 "layers every offset is a multiple of d and the chain splits into independent "
                 "sublattices; use per-layer dilations such as 1, 2, 4",
                 count, reachable, first_gap);
    }
    if (reach < L - 1) {
        ars_warn("the receptive field reaches back %ld sites, fewer than size - 1 = %d: sites "
                 "further apart are sampled independently of each other",
                 reach, L - 1);
    }
    free(dep);
}

static int run_sample(const ars_config *cfg, const char *config_text, int quiet) {
    ars_arch arch;
    ars_arnn *net = NULL;
    ars_sampler *sampler = NULL;
    uint8_t *samples = NULL;
    double *log_prob = NULL;
    int rc = ARS_OK;
    const size_t n = (size_t)cfg->n_samples;

    ars_config_arch(cfg, &arch);
    rc = ars_io_check_writable(cfg->file);
    if (rc != ARS_OK) {
        return rc;
    }
    net = ars_arnn_alloc(&arch);
    if (net == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory allocating the network");
    }
    if (strcmp(cfg->init, "random") == 0) {
        rc = ars_arnn_init_random(net, cfg->seed);
    } else {
        rc = ars_io_load_variables(cfg->init, net);
    }
    if (rc != ARS_OK) {
        goto done;
    }
    int threads = omp_get_max_threads();
    if (!quiet) {
        printf("arsampler %s: %s\n", ARS_VERSION, cfg->source);
        printf("system: %d sites of spin %g (local_size %d)\n", arch.hilbert.size,
               0.5 * arch.hilbert.two_s, arch.hilbert.local_size);
        printf("model: %d masked conv layers, features", arch.layers);
        for (int l = 0; l < arch.layers; l++) {
            printf(" %d", arch.features[l]);
        }
        printf(", kernel_size %d, dilations", arch.kernel_size);
        for (int l = 0; l < arch.layers; l++) {
            printf(" %d", arch.dilation[l]);
        }
        printf(", %s, %s input, %zu parameters (%s)\n", ars_activation_name(arch.activation),
               ars_input_name(arch.input), net->n_params,
               strcmp(cfg->init, "random") == 0 ? "random init" : cfg->init);
        printf("sampling: %zu samples in chunks of %d, seed %" PRIu64 ", %s algorithm, %s, %d "
               "threads\n",
               n, cfg->chunk_size, cfg->seed,
               cfg->algorithm == ARS_SAMPLER_FULL ? "full" : "cached",
               cfg->dtype == ARS_DTYPE_FLOAT32 ? "float32" : "float64", threads);
    }
    report_receptive_field(&arch, quiet);
    fflush(stdout);

    samples = malloc(n * (size_t)arch.hilbert.size);
    log_prob = malloc(n * sizeof(double));
    sampler = ars_sampler_alloc(net, cfg->chunk_size, threads,
                                (ars_sampler_algorithm)cfg->algorithm, (ars_dtype)cfg->dtype);
    if (samples == NULL || log_prob == NULL || sampler == NULL) {
        rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for %zu samples of %d sites", n,
                     arch.hilbert.size);
        goto done;
    }
    ars_progress prog;
    ars_progress_start(&prog, "sampling", "samples", !quiet);
    rc = ars_sampler_draw(sampler, samples, log_prob, n, cfg->seed, 0, &prog);
    if (rc != ARS_OK) {
        goto done;
    }
    ars_progress_finish(&prog, n);

    ars_io_meta meta = {config_text, cfg->seed,
                        cfg->dtype == ARS_DTYPE_FLOAT32 ? "float32" : "float64"};
    rc = ars_io_write(cfg->file, &meta, net, samples, log_prob, n);
    if (rc == ARS_OK && !quiet) {
        printf("wrote %s\n", cfg->file);
    }
done:
    ars_sampler_free(sampler);
    free(samples);
    free(log_prob);
    ars_arnn_free(net);
    return rc;
}

int main(int argc, char **argv) {
    cli args;
    int done = 0;
    gsl_set_error_handler_off();
    int rc = parse_cli(&args, argc, argv, &done);
    if (rc != ARS_OK || done) {
        return ars_exit_code(rc);
    }
    ars_config cfg;
    ars_config_defaults(&cfg);
    if (args.config != NULL) {
        rc = ars_config_parse_file(&cfg, args.config);
    }
    for (int i = 0; rc == ARS_OK && i < args.n_sets; i++) {
        rc = ars_config_set(&cfg, args.sets[i]);
    }
    if (rc == ARS_OK) {
        rc = ars_config_finalize(&cfg);
    }
    if (rc != ARS_OK) {
        return ars_exit_code(rc);
    }
    char *text = ars_config_dump(&cfg);
    if (text == NULL) {
        return ars_exit_code(ARS_ERR(ARS_STATUS_ENOMEM, "out of memory"));
    }
    if (args.print_config) {
        fputs(text, stdout);
        free(text);
        return 0;
    }
    if (cfg.threads > 0) {
        omp_set_num_threads(cfg.threads);
    }
    rc = run_sample(&cfg, text, args.quiet);
    free(text);
    return ars_exit_code(rc);
}
