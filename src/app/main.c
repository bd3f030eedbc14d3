/*
 * arsampler: command-line entry point. Parses arguments, loads and checks the config, builds
 * the network, draws the samples and writes the HDF5 output; maps ars_status to exit codes
 * (0 success, 2 bad input, 1 other failures).
 *
 *   arsampler CONFIG [--set section.key=value]... [--threads N] [--output FILE] [--quiet]
 *             [--resume] [--force]
 *   arsampler --version | --help | --print-config [CONFIG ...]
 */
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <omp.h>

#include "nn/arnn.h"
#include "core/comm.h"
#include "core/ars_common.h"
#include "config/config.h"
#include "ops/exact.h"
#include "ops/hamiltonian.h"
#include "io/io_hdf5.h"
#include "vmc/observables.h"
#include "opt/optimizer.h"
#include "sample/sampler.h"
#include "vmc/vmc.h"

static const char usage[] =
    "usage: arsampler CONFIG [--set section.key=value]... [--threads N] [--output FILE] "
    "[--quiet] [--resume] [--force]\n"
    "       arsampler --help | --version | --print-config [CONFIG] | --keys\n"
    "\n"
    "Draws exact samples from an autoregressive masked-convolution network (NetKet's\n"
    "ARNNConv1D) for a spin chain, trains it to a ground state by variational Monte Carlo\n"
    "([run] mode = train), or computes exact energies (mode = exact); writes HDF5.\n"
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

typedef struct cli {
    const char *config;
    const char *sets[256];
    int n_sets;
    int quiet;
    int print_config;
    int resume;
    int force;
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
        } else if (strcmp(s, "--resume") == 0) {
            a->resume = 1;
        } else if (strcmp(s, "--force") == 0) {
            a->force = 1;
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

/* ", total_sz 0, symmetrised (both)" or "" (for the start-up lines). */
static const char *sector_text(const ars_arch *a, char *buf, size_t len) {
    int n = 0;
    buf[0] = '\0';
    if (a->hilbert.constrained) {
        n = snprintf(buf, len, ", total_sz %g", 0.5 * a->hilbert.two_m);
    }
    if (a->symmetry != ARS_SYM_NONE && n >= 0 && (size_t)n < len) {
        snprintf(buf + n, len - (size_t)n, ", symmetrised (%s)", ars_sym_name(a->symmetry));
    }
    return buf;
}

/* How this run treats its output file. */
typedef struct run_ctx {
    const ars_comm *comm;
    int quiet;
    int resume;
    int force;
    int backed_up;                  /* the earlier run's file has been dealt with */
    char backup[ARS_PATH_MAX + 32]; /* where it went ("" if nowhere) */
} run_ctx;

/* Before the first write of a run: an existing output file of an earlier run is kept as a
 * numbered backup (not with --force, and not with --resume, which continues in place). Done
 * at the first write rather than at start, so a run that fails early changes nothing. */
static int keep_earlier_output(const ars_config *cfg, run_ctx *ctx) {
    if (ctx->backed_up || ctx->force || ctx->resume || ctx->comm->rank != 0) {
        ctx->backed_up = 1;
        return ARS_OK;
    }
    int rc = ars_io_backup(cfg->file, ctx->backup, sizeof ctx->backup);
    if (rc == ARS_OK) {
        ctx->backed_up = 1;
        if (ctx->backup[0] != '\0') {
            fprintf(stderr,
                    "arsampler: note: kept the existing %s as %s (--force replaces it instead)\n",
                    cfg->file, ctx->backup);
        }
    }
    return rc;
}

/* The signal that asked training to stop, 0 while none did, and the name of the temporary file
 * an output write uses (ars_io_temporary_name). The only globals of the program: a signal
 * handler can reach nothing else. */
static volatile sig_atomic_t stop_signal = 0;
static char stop_tmp_name[ARS_PATH_MAX + 32];

static void on_stop_signal(int sig) {
    if (stop_signal != 0) {
        /* The second signal: at once, without leaving a half-written temporary file (unlink is
         * async-signal-safe; the output file itself is only ever replaced whole). */
        if (stop_tmp_name[0] != '\0') {
            unlink(stop_tmp_name);
        }
        _exit(128 + sig);
    }
    stop_signal = sig;
    static const char msg[] = "\narsampler: signal received: finishing the current iteration "
                              "and writing a checkpoint (a second signal exits at once)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
}

static void catch_stop_signals(const char *output) {
    ars_io_temporary_name(stop_tmp_name, sizeof stop_tmp_name, output);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The network of [model]: its architecture, a writable output, and its variables (random,
 * from [model] init, or none yet when `later` is set, for --resume). */
/* Ranks other than 0 run the steps that every rank runs alike (reading the config, checking
 * it) with stderr sent to /dev/null, so that each message appears once. Returns the saved
 * descriptor for unmute (-1 on rank 0). */
static int mute(const ars_comm *c) {
    if (c->rank == 0) {
        return -1;
    }
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int nul = open("/dev/null", O_WRONLY);
    if (saved < 0 || nul < 0) {
        if (nul >= 0) {
            close(nul);
        }
        return saved >= 0 ? (close(saved), -1) : -1;
    }
    dup2(nul, STDERR_FILENO);
    close(nul);
    return saved;
}

static void unmute(int saved) {
    if (saved >= 0) {
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
}

/* Makes every rank agree on a failure of one of them before the next collective (a rank that
 * failed alone must not leave the others waiting): returns this rank's rc if it failed, else
 * ARS_STATUS_ENOMEM when another rank failed, else ARS_OK. Rank 0 names the first rank that
 * failed when it is another (whose own message is muted). */
static int agree(const ars_comm *c, int rc, const char *what) {
    const int first = c->size - ars_comm_max_int(c, rc != ARS_OK ? c->size - c->rank : 0);
    if (first >= c->size) {
        return ARS_OK;
    }
    if (rc != ARS_OK) {
        return rc;
    }
    if (c->rank == 0) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "rank %d of %d ran out of memory for %s", first, c->size,
                       what);
    }
    return ARS_STATUS_ENOMEM;
}

/* A write of rank 0 (the only one that writes). With several ranks a failure ends them all:
 * the others would wait for rank 0 in the next collective. */
static int write_output(const ars_config *cfg, run_ctx *ctx, const ars_io_meta *meta,
                        const ars_arnn *net, const uint8_t *cfg_s, const double *log_prob, size_t n,
                        const ars_io_train *train) {
    if (ctx->comm->rank != 0) {
        return ARS_OK;
    }
    const int first = !ctx->backed_up;
    int rc = keep_earlier_output(cfg, ctx);
    if (rc == ARS_OK) {
        rc = ars_io_write(cfg->file, meta, net, cfg_s, log_prob, n, train);
        if (rc != ARS_OK && first && ctx->backup[0] != '\0' &&
            rename(ctx->backup, cfg->file) == 0) {
            /* Nothing of this run was written: the earlier file goes back where it was. */
            fprintf(stderr, "arsampler: note: %s moved back to %s\n", ctx->backup, cfg->file);
            ctx->backup[0] = '\0';
            ctx->backed_up = 0;
        }
    }
    if (rc != ARS_OK && ctx->comm->size > 1) {
        fprintf(stderr, "arsampler: rank 0 cannot write its output; ending all %d ranks\n",
                ctx->comm->size);
        ars_comm_abort(ctx->comm, ars_exit_code(rc));
    }
    return rc;
}

/* Whether the output file can be written; an error names where [output] file was set. */
static int check_output(const ars_config *cfg) {
    char where[ARS_PATH_MAX + 300];
    ars_config_where(cfg, "output", "file", where, sizeof where);
    return ars_io_check_writable(cfg->file, where);
}

static int build_network(const ars_config *cfg, const ars_comm *comm, ars_arch *arch,
                         ars_arnn **net, int later) {
    ars_config_arch(cfg, arch);
    /* Rank 0 checks the output and reads files; the others get its status and variables. */
    int rc = comm->rank == 0 ? check_output(cfg) : ARS_OK;
    *net = ars_arnn_alloc(arch);
    if (rc == ARS_OK && *net == NULL) {
        rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory allocating the network");
    }
    if (rc == ARS_OK && !later && comm->rank == 0) {
        rc = strcmp(cfg->init, "random") == 0 ? ars_arnn_init_random(*net, cfg->seed)
                                              : ars_io_load_variables(cfg->init, *net);
    }
    const int failed_here = rc != ARS_OK;
    ars_comm_bcast(comm, &rc, sizeof rc); /* rank 0's status (it printed the message) */
    if (ars_comm_max_int(comm, failed_here) && rc == ARS_OK) {
        rc = ARS_STATUS_ENOMEM; /* another rank could not allocate (it said so) */
    }
    if (rc == ARS_OK && !later && *net != NULL) {
        ars_comm_bcast(comm, (*net)->params, (*net)->n_params * sizeof(double));
    }
    return rc;
}

/* The Hamiltonian of [hamiltonian] for the chain of [system]. */
static int setup_hamiltonian(const ars_config *cfg, ars_ham *H) {
    return ars_ham_init(H, (ars_ham_type)cfg->ham_type, cfg->size, cfg->two_s, cfg->ham_J,
                        cfg->ham_h, cfg->ham_Delta, cfg->ham_J2, cfg->ham_pbc, cfg->ham_marshall);
}

/* The exact ground-state energy when it is given or cheap (tfim: free fermions; others: Lanczos
 * in the total-Sz = 0 sector up to ARS_EXACT_LANCZOS_MAX_SIZE sites), else NaN. */
static double exact_reference(const ars_config *cfg, const ars_ham *H, const char **method) {
    if (!isnan(cfg->ham_exact)) {
        *method = "[hamiltonian] exact_energy";
        return cfg->ham_exact;
    }
    if (H->type == ARS_HAM_TFIM) {
        *method = "free fermions";
        return ars_exact_tfim(H->size, H->J, H->h, H->pbc);
    }
    double e0 = NAN;
    if (cfg->two_m != ARS_CONFIG_NO_SECTOR) {
        /* The state lives in the configured sector: its lowest energy is the reference. */
        if (H->size <= ARS_EXACT_LANCZOS_MAX_SIZE &&
            ars_exact_lanczos_sector(H, (H->size + cfg->two_m) / 2, &e0, 5000, 1e-12) == ARS_OK) {
            *method = "Lanczos in the [system] total_sz sector";
            return e0;
        }
    } else if (H->size <= ARS_EXACT_LANCZOS_MAX_SIZE && H->size % 2 == 0 &&
               ars_exact_lanczos(H, &e0, 5000, 1e-12) == ARS_OK) {
        *method = "Lanczos, total Sz = 0";
        return e0;
    }
    *method = "unknown";
    return NAN;
}

static void print_hamiltonian(const ars_ham *H, double exact, const char *method) {
    printf("hamiltonian: %s, J %g", ars_ham_type_name(H->type), H->J);
    if (H->type == ARS_HAM_TFIM) {
        printf(", h %g", H->h);
    } else if (H->type == ARS_HAM_XXZ) {
        printf(", Delta %g", H->Delta);
    } else if (H->type == ARS_HAM_J1J2) {
        printf(", J2 %g", H->J2);
    }
    printf(", %s%s; exact energy %.10f (%s)\n", H->pbc ? "periodic" : "open",
           H->marshall_sign ? ", Marshall sign" : "", exact, method);
}

/* Values of an array observable on one line: all of them up to 16, else the first 12. */
static void print_array(const char *name, const ars_obs_value *v) {
    const int shown = v->len <= 16 ? v->len : 12;
    double worst = 0.0;
    for (int i = 0; i < v->len; i++) {
        worst = v->error[i] > worst ? v->error[i] : worst;
    }
    printf("  %-24s", name);
    for (int i = 0; i < shown; i++) {
        printf(" %.5f", v->mean[i]);
    }
    printf("%s  (errors <= %.2g)\n", shown < v->len ? " ..." : "", worst);
}

/* Measures [observables] on n samples (local indices) and prints a summary. */
static int measure(const ars_config *cfg, const ars_comm *comm, const ars_arnn *net,
                   const ars_ham *H, const uint8_t *samples, size_t n, double exact, int quiet,
                   ars_obs_result *res) {
    ars_obs_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.mask = (unsigned)cfg->obs_mask;
    spec.n_cuts = cfg->n_renyi_cuts;
    memcpy(spec.cuts, cfg->renyi_cuts, sizeof spec.cuts);
    spec.pbc = cfg->ham_pbc;
    spec.marshall_sign = cfg->ham_marshall;
    spec.H = H;
    spec.chunk_size = cfg->chunk_size;
    spec.comm = comm;
    const double t0 = ars_wtime();
    int rc = ars_obs_measure(res, &spec, net, samples, (int64_t)n, NULL);
    if (rc != ARS_OK || quiet) {
        return rc;
    }
    printf("observables from %zu samples (%.2f s):\n", n, ars_wtime() - t0);
    for (int k = 0; k < ARS_OBS_COUNT; k++) {
        const ars_obs_value *v = &res->v[k];
        if (!(res->mask & (1u << k))) {
            continue;
        }
        if (k == ARS_OBS_RENYI2) {
            printf("  %-24s", "renyi2");
            for (int c = 0; c < v->len; c++) {
                printf(" S2(%lld) = %.6f +- %.2g", (long long)v->coord[c], v->mean[c], v->error[c]);
            }
            printf("  (%lld pairs)\n", (long long)v->n_samples);
        } else if (v->len > 0) {
            print_array(ars_obs_names[k], v);
        } else {
            printf(k == ARS_OBS_ENERGY ? "  %-24s %.10f +- %.2g" : "  %-24s %.8g +- %.2g",
                   ars_obs_names[k], v->mean[0], v->error[0]);
            if (k == ARS_OBS_ENERGY) {
                printf("  variance %.4g", v->variance);
                if (!isnan(exact)) {
                    printf("  relative error %.3e", fabs(v->mean[0] - exact) / fabs(exact));
                }
            }
            printf("\n");
        }
    }
    return ARS_OK;
}

static int run_sample(const ars_config *cfg, const char *config_text, run_ctx *ctx) {
    const int quiet = ctx->quiet;
    ars_arch arch;
    ars_arnn *net = NULL;
    ars_sampler *sampler = NULL;
    uint8_t *samples = NULL;
    double *log_prob = NULL;
    ars_obs_result obs;
    memset(&obs, 0, sizeof obs);
    int rc = ARS_OK;
    const size_t n = (size_t)cfg->n_samples;

    rc = build_network(cfg, ctx->comm, &arch, &net, 0);
    if (rc != ARS_OK) {
        goto done;
    }
    int threads = omp_get_max_threads();
    if (!quiet) {
        char sect[96];
        printf("arsampler %s: %s\n", ARS_VERSION, cfg->source);
        printf("system: %d sites of spin %g (local_size %d)%s\n", arch.hilbert.size,
               0.5 * arch.hilbert.two_s, arch.hilbert.local_size,
               sector_text(&arch, sect, sizeof sect));
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
    if (ctx->comm->rank == 0) {
        report_receptive_field(&arch, quiet);
    }
    fflush(stdout);

    samples = malloc(n * (size_t)arch.hilbert.size);
    log_prob = malloc(n * sizeof(double));
    sampler = ars_sampler_alloc(net, cfg->chunk_size, threads,
                                (ars_sampler_algorithm)cfg->algorithm, (ars_dtype)cfg->dtype);
    if (samples == NULL || log_prob == NULL || sampler == NULL) {
        rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for %zu samples of %d sites", n,
                     arch.hilbert.size);
    }
    rc = agree(ctx->comm, rc, "the samples");
    if (rc != ARS_OK || samples == NULL || log_prob == NULL || sampler == NULL) {
        goto done; /* (the second part only tells the analyzer what agree() implies) */
    }
    ars_progress prog;
    ars_progress_start(&prog, "sampling", "samples", !quiet);
    /* This rank's chunks; then every rank's, gathered. */
    size_t c0, c1;
    const size_t cs = (size_t)cfg->chunk_size;
    ars_comm_chunks(ctx->comm, (n + cs - 1) / cs, &c0, &c1);
    rc = ars_sampler_draw_chunks(sampler, samples, log_prob, n, c0, c1, cfg->seed, 0, &prog);
    if (ars_comm_max_int(ctx->comm, rc != ARS_OK)) {
        rc = rc != ARS_OK ? rc : ARS_STATUS_ENONFINITE;
        goto done;
    }
    ars_comm_allgather_rows(ctx->comm, samples, n, cs, (size_t)arch.hilbert.size);
    ars_comm_allgather_rows(ctx->comm, log_prob, n, cs, sizeof(double));
    ars_progress_finish(&prog, n);

    ars_io_meta meta = {.config_text = config_text,
                        .seed = cfg->seed,
                        .dtype = cfg->dtype == ARS_DTYPE_FLOAT32 ? "float32" : "float64",
                        .exact_energy = NAN};
    ars_ham H;
    if (cfg->obs_mask != 0) {
        /* Every rank measures its chunks (observables.h); rank 0 alone speaks and writes. */
        if (cfg->obs_mask & (1u << ARS_OBS_ENERGY)) {
            rc = setup_hamiltonian(cfg, &H);
            if (rc != ARS_OK) {
                goto done;
            }
            const char *method = "";
            meta.H = &H;
            meta.exact_energy =
                ctx->comm->rank == 0 ? exact_reference(cfg, &H, &method) : (double)NAN;
        }
        rc = measure(cfg, ctx->comm, net, meta.H, samples, n, meta.exact_energy, quiet, &obs);
        if (rc != ARS_OK) {
            goto done;
        }
        meta.obs = &obs;
        meta.obs_source = "samples";
    }
    if (ctx->comm->rank != 0) {
        goto done; /* rank 0 writes */
    }
    rc = write_output(cfg, ctx, &meta, net, samples, log_prob, n, NULL);
    if (rc == ARS_OK && !quiet) {
        printf("wrote %s\n", cfg->file);
    }
done:
    ars_obs_result_free(&obs);
    ars_sampler_free(sampler);
    free(samples);
    free(log_prob);
    ars_arnn_free(net);
    return rc;
}

static int run_exact(const ars_config *cfg, const char *config_text, run_ctx *ctx) {
    const int quiet = ctx->quiet;
    ars_ham H;
    int rc = setup_hamiltonian(cfg, &H);
    if (rc != ARS_OK) {
        return rc;
    }
    rc = check_output(cfg);
    if (rc != ARS_OK) {
        return rc;
    }
    const char *method = "";
    const double e0 = exact_reference(cfg, &H, &method);
    if (isnan(e0)) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "%s: [run] mode = exact: no exact method for %s with %d sites (tfim: any "
                       "size by free fermions; the others: Lanczos up to %d sites, even size)",
                       cfg->source, ars_ham_type_name(H.type), H.size, ARS_EXACT_LANCZOS_MAX_SIZE);
    }
    if (!quiet) {
        print_hamiltonian(&H, e0, method);
    }
    printf("%.12f\n", e0);
    ars_hilbert h;
    ars_hilbert_init(&h, cfg->size, cfg->two_s);
    ars_io_meta meta = {.config_text = config_text, .seed = cfg->seed, .exact_energy = NAN};
    rc = keep_earlier_output(cfg, ctx);
    if (rc == ARS_OK) {
        rc = ars_io_write_exact(cfg->file, &meta, &h, &H, e0, method);
    }
    if (rc == ARS_OK && !quiet) {
        printf("wrote %s\n", cfg->file);
    }
    return rc;
}

/* One line per iteration on a terminal (redrawn), every 10 s otherwise. */
static void train_progress(const ars_vmc *v, int total, int64_t first, double t_start,
                           double *t_last, int force) {
    const ars_vmc_log *log = &v->log;
    const size_t i = log->len - 1;
    const double now = ars_wtime();
    const int tty = isatty(fileno(stderr));
    if (!force && !tty && now - *t_last < 10.0) {
        return;
    }
    *t_last = now;
    /* Per iteration of this process: after --resume, `first` is not 0. */
    const double per = (now - t_start) / (double)(v->iteration > first ? v->iteration - first : 1);
    fprintf(stderr, "%siter %lld/%d  E = %.8f +- %.2g", tty ? "\r" : "", (long long)v->iteration,
            total, log->energy[i], log->energy_error[i]);
    if (!isnan(log->relative_error[i])) {
        fprintf(stderr, "  rel.err %.2e", log->relative_error[i]);
    }
    fprintf(stderr, "  var %.3g  %.3g s/it  ETA %.0f s%s", log->energy_variance[i], per,
            per * (double)(total - v->iteration), tty && !force ? "\033[K" : "\n");
    fflush(stderr);
}

/* Trains; *stopped_by is set to the signal that interrupted it (0 if none). */
static int run_train(const ars_config *cfg, const char *config_text, run_ctx *ctx,
                     int *stopped_by) {
    const int quiet = ctx->quiet, resume = ctx->resume;
    ars_arch arch;
    ars_ham H;
    ars_arnn *net = NULL;
    ars_vmc *vmc = NULL;
    uint8_t *samples = NULL;
    double *log_prob = NULL, *eloc = NULL;
    ars_obs_result obs;
    memset(&obs, 0, sizeof obs);
    const size_t n = (size_t)cfg->n_samples;
    int rc = setup_hamiltonian(cfg, &H);
    if (rc != ARS_OK) {
        return rc;
    }
    /* With --resume the variables come with the training state, below. */
    rc = build_network(cfg, ctx->comm, &arch, &net, resume);
    if (rc != ARS_OK) {
        goto done;
    }
    const char *method = "";
    double exact = ctx->comm->rank == 0 ? exact_reference(cfg, &H, &method) : (double)NAN;
    ars_comm_bcast(ctx->comm, &exact, sizeof exact);
    ars_vmc_settings set = {
        .n_samples = n,
        .chunk_size = cfg->chunk_size,
        .seed = cfg->seed,
        .algorithm = (ars_sampler_algorithm)cfg->algorithm,
        .dtype = (ars_dtype)cfg->dtype,
        .optimizer = cfg->optimizer == 1 ? ARS_OPT_ADAM : ARS_OPT_SGD,
        .learning_rate = cfg->learning_rate,
        .lr_decay = cfg->lr_decay,
        .lr_min = cfg->lr_min,
        .lr_exponential = cfg->lr_schedule == ARS_SCHEDULE_EXPONENTIAL,
        .sr = cfg->sr,
        .diag_shift = cfg->diag_shift,
        .ds_decay = cfg->ds_decay,
        .ds_min = cfg->ds_min,
        .ds_exponential = cfg->ds_schedule == ARS_SCHEDULE_EXPONENTIAL,
        .beta1 = cfg->beta1,
        .beta2 = cfg->beta2,
        .adam_eps = cfg->adam_eps,
        .exact_energy = exact,
        .comm = ctx->comm,
    };
    const int threads = omp_get_max_threads();
    vmc = ars_vmc_alloc(net, &H, &set, cfg->iterations, threads);
    if (vmc == NULL) {
        rc = ARS_ERR(ARS_STATUS_ENOMEM,
                     "out of memory for training (%zu samples x %zu parameters of gradients)", n,
                     net->n_params);
    }
    rc = agree(ctx->comm, rc, "training");
    if (rc != ARS_OK || vmc == NULL) {
        goto done; /* (the second part only tells the analyzer what agree() implies) */
    }
    if (resume) {
        if (ctx->comm->rank == 0) {
            rc = ars_io_check_resume(cfg->file, &arch);
            if (rc == ARS_OK) {
                rc = ars_io_load_train(cfg->file, vmc->opt, &vmc->log);
            }
            if (rc == ARS_OK) {
                rc = ars_io_load_variables(cfg->file, net);
            }
            vmc->iteration = (int64_t)vmc->log.len;
        }
        ars_comm_bcast(ctx->comm, &rc, sizeof rc);
        if (rc == ARS_OK) {
            rc = ars_vmc_share(vmc);
        }
        if (rc != ARS_OK) {
            goto done;
        }
    }
    if (!quiet) {
        char sect[96];
        printf("arsampler %s: %s (train)\n", ARS_VERSION, cfg->source);
        printf("system: %d sites of spin 1/2%s; model: %d layers, %zu parameters\n",
               arch.hilbert.size, sector_text(&arch, sect, sizeof sect), arch.layers,
               net->n_params);
        print_hamiltonian(&H, exact, method);
        printf("vmc: %d iterations of %zu samples, %s, lr %g%s, %s%s; %d threads\n",
               cfg->iterations, n, cfg->optimizer == 1 ? "adam" : "sgd", cfg->learning_rate,
               cfg->lr_schedule == ARS_SCHEDULE_EXPONENTIAL ? " (exponential)" : "",
               cfg->sr ? "SR" : "no SR",
               cfg->sr ? (n < net->n_params ? " in sample space" : " in parameter space") : "",
               threads);
        if (resume) {
            printf("resuming after iteration %lld from %s\n", (long long)vmc->iteration, cfg->file);
        }
    }
    if (ctx->comm->rank == 0) {
        report_receptive_field(&arch, quiet);
    }
    fflush(stdout);

    ars_io_train train = {&H, vmc->opt, &vmc->log, exact, NULL};
    ars_io_meta meta = {.config_text = config_text,
                        .seed = cfg->seed,
                        .dtype = cfg->dtype == ARS_DTYPE_FLOAT32 ? "float32" : "float64",
                        .exact_energy = NAN};
    const double t_start = ars_wtime();
    double t_last = t_start;
    const int64_t first = vmc->iteration;
    int warned_distinct = 0;
    catch_stop_signals(cfg->file);
    int stop = 0; /* the signal every rank agreed on */
    while (vmc->iteration < cfg->iterations && stop == 0) {
        rc = ars_vmc_step(vmc);
        if (rc != ARS_OK) {
            /* The step changed nothing: save the last good state for --resume (with other
             * settings, e.g. --resume --set vmc.learning_rate=...). */
            if (write_output(cfg, ctx, &meta, net, NULL, NULL, 0, &train) == ARS_OK &&
                ctx->comm->rank == 0) {
                fprintf(stderr,
                        "arsampler: training stopped at iteration %lld (see above); the last "
                        "good state (%lld iterations done) is in %s: continue it with --resume "
                        "and other settings (a smaller [vmc] learning_rate, a larger "
                        "diag_shift)\n",
                        (long long)vmc->iteration, (long long)vmc->iteration, cfg->file);
            }
            goto done;
        }
        /* mpirun passes a signal to every rank, not necessarily within one iteration. */
        stop = ars_comm_max_int(ctx->comm, stop_signal);
        const size_t i = vmc->log.len - 1;
        if (vmc->log.distinct_fraction[i] < cfg->distinct_warn && !warned_distinct &&
            ctx->comm->rank == 0) {
            ars_warn("iteration %lld: only %.1f%% of the samples are distinct; the state is "
                     "collapsing onto few configurations, which stalls SR (larger n_samples, "
                     "diag_shift or a smaller learning_rate help)",
                     (long long)vmc->log.iteration[i], 100.0 * vmc->log.distinct_fraction[i]);
            warned_distinct = 1;
        }
        if (!quiet) {
            train_progress(vmc, cfg->iterations, first, t_start, &t_last, 0);
        }
        if ((vmc->iteration % cfg->checkpoint_every == 0 && vmc->iteration < cfg->iterations) ||
            stop != 0) {
            rc = write_output(cfg, ctx, &meta, net, NULL, NULL, 0, &train);
            if (rc != ARS_OK) {
                goto done;
            }
        }
    }
    if (stop != 0) {
        /* Interrupted: the checkpoint above holds every finished iteration. (A signal before
         * the first finished iteration leaves the files as they were.) */
        if (!quiet && vmc->log.len > 0) {
            train_progress(vmc, cfg->iterations, first, t_start, &t_last, 1);
        }
        if (ctx->comm->rank == 0) {
            fprintf(stderr,
                    "arsampler: interrupted by %s after %lld of %d iterations; %s; continue with "
                    "--resume\n",
                    stop == SIGINT ? "SIGINT" : "SIGTERM", (long long)vmc->iteration,
                    cfg->iterations,
                    vmc->iteration > first ? "checkpoint written" : "no new iteration to save");
        }
        *stopped_by = stop;
        goto done;
    }
    if (!quiet && vmc->log.len > 0) {
        train_progress(vmc, cfg->iterations, first, t_start, &t_last, 1);
    }
    /* The final estimate from fresh samples of the trained state, from their own streams
     * (iteration index with the top bit set, never used by training). */
    const size_t nf = (size_t)cfg->final_samples;
    samples = malloc(nf * (size_t)arch.hilbert.size);
    log_prob = malloc(nf * sizeof(double));
    eloc = malloc(nf * sizeof(double));
    if (samples == NULL || log_prob == NULL || eloc == NULL) {
        rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for %zu final samples", nf);
    }
    rc = agree(ctx->comm, rc, "the final samples");
    if (rc != ARS_OK || samples == NULL || log_prob == NULL || eloc == NULL) {
        goto done; /* (the second part only tells the analyzer what agree() implies) */
    }
    ars_vmc_estimate est;
    rc = ars_vmc_evaluate(vmc, samples, log_prob, eloc, nf,
                          (UINT64_C(1) << 63) | (uint64_t)cfg->iterations, &est);
    if (rc == ARS_OK && cfg->obs_mask != 0) {
        /* Every rank measures its chunks (observables.h); rank 0 alone speaks and writes. */
        rc = measure(cfg, ctx->comm, net, &H, samples, nf, exact, quiet, &obs);
        meta.obs = &obs;
        meta.obs_source = "final_samples";
    }
    if (ctx->comm->rank != 0) {
        goto done; /* rank 0 writes */
    }
    if (rc == ARS_OK) {
        train.final = &est;
        rc = write_output(cfg, ctx, &meta, net, samples, log_prob, nf, &train);
    }
    if (rc == ARS_OK) {
        printf("final: E = %.10f +- %.2g from %zu samples", est.energy, est.energy_error, nf);
        if (!isnan(est.relative_error)) {
            printf(", relative error %.3e", est.relative_error);
        }
        printf(", variance %.4g, V-score %.3g\n", est.energy_variance, est.vscore);
    }
    if (rc == ARS_OK && !quiet) {
        printf("wrote %s\n", cfg->file);
    }
done:
    ars_obs_result_free(&obs);
    free(samples);
    free(log_prob);
    free(eloc);
    ars_vmc_free(vmc);
    ars_arnn_free(net);
    return rc;
}

static int run_config(const ars_comm *comm, const ars_config *cfg, const cli *args);

static int run_main(const ars_comm *comm, int argc, char **argv) {
    cli args;
    int done = 0;
    /* Every rank reads and checks the config; rank 0 alone speaks. */
    if (comm->rank != 0 && freopen("/dev/null", "w", stdout) == NULL) {
        return 1;
    }
    int muted = mute(comm);
    gsl_set_error_handler_off();
    /* A file-size limit (ulimit -f) then makes writes fail with EFBIG, reported like a full
     * disk, instead of killing the process half-way through a file. */
    signal(SIGXFSZ, SIG_IGN);
    int rc = parse_cli(&args, argc, argv, &done);
    if (rc != ARS_OK || done) {
        unmute(muted);
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
    /* The other ranks stay muted: they compute what rank 0 computes, so rank 0's messages speak
     * for all; a failure of their own (memory) is named by rank 0 (agree()). */
    if (rc != ARS_OK) {
        unmute(muted);
        return ars_exit_code(rc);
    }
    rc = run_config(comm, &cfg, &args);
    unmute(muted);
    return rc;
}

/* Runs a checked config: the part of run_main after the parsing. Returns the exit code. */
static int run_config(const ars_comm *comm, const ars_config *cfg, const cli *args) {
    int rc;
    char *text = ars_config_dump(cfg);
    if (text == NULL) {
        return ars_exit_code(ARS_ERR(ARS_STATUS_ENOMEM, "out of memory"));
    }
    if (args->print_config) {
        fputs(text, stdout);
        free(text);
        return 0;
    }
    if (cfg->threads > 0) {
        omp_set_num_threads(cfg->threads);
    }
    if (args->resume && cfg->mode != ARS_MODE_TRAIN) {
        free(text);
        return ars_exit_code(ARS_ERR(ARS_STATUS_ECONFIG, "--resume needs [run] mode = train"));
    }
    if (args->resume && args->force) {
        free(text);
        return ars_exit_code(ARS_ERR(ARS_STATUS_ECONFIG,
                                     "--resume continues the output file in place; --force "
                                     "(replace it) contradicts it"));
    }
    run_ctx ctx = {.comm = comm,
                   .quiet = args->quiet || comm->rank != 0,
                   .resume = args->resume,
                   .force = args->force};
    int stopped_by = 0;
    if (cfg->mode == ARS_MODE_TRAIN) {
        rc = run_train(cfg, text, &ctx, &stopped_by);
    } else if (cfg->mode == ARS_MODE_EXACT) {
        rc = comm->rank == 0 ? run_exact(cfg, text, &ctx) : ARS_OK;
        ars_comm_bcast(comm, &rc, sizeof rc); /* every rank exits with rank 0's status */
    } else {
        rc = run_sample(cfg, text, &ctx);
    }
    free(text);
    if (rc == ARS_OK && stopped_by != 0) {
        return 128 + stopped_by; /* 130 for SIGINT, 143 for SIGTERM, as a shell reports */
    }
    return ars_exit_code(rc);
}

int main(int argc, char **argv) {
    ars_comm comm;
    ars_comm_init(&comm, &argc, &argv);
    int code = run_main(&comm, argc, argv);
    ars_comm_finalize(&comm);
    return code;
}
