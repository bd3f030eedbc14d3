/*
 * arsampler-bench: sampling throughput beside the machine's own limit.
 *
 *   arsampler-bench [--threads 1,2] [--chunk 256] [--repeat 3] [--csv out/bench.csv] [--only a,b]
 *   arsampler-bench --peaks [--threads 2] [--repeat 3]   (the two peaks only, one line each)
 *   --activation relu: the workloads with another activation (selu by default), to measure what
 *   the activations cost against the convolutions (docs/performance.md).
 *
 * 1. Peak: the best of several OpenBLAS DGEMM and SGEMM calls, n = 2048, with the same thread
 *    count as the sampler (2 n^3 flops each).
 * 2. Workloads (the issue's): the cached sampler's samples/s, site-updates/s and useful
 *    GFLOP/s, counting 2 K' C/g F flops per layer per site per sample (what the model needs,
 *    not what the code does), and that as a percentage of the DGEMM (float64) or SGEMM
 *    (float32) peak. Parameters are LeCun-normal from seed 1234; each figure is the best of
 *    --repeat timed runs after one untimed warm-up.
 * 3. Scaling from 1 to 2 threads.
 * Results also go to a CSV file so commits can be compared; it is written whole at the end (a
 * stopped run leaves an earlier file as it was). A bad option: one message, exit status 2.
 */
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <omp.h>

#include "nn/arnn.h"
#include "core/ars_common.h"
#include "config/config.h"
#include "io/atomic_file.h"
#include "sample/sampler.h"

void openblas_set_num_threads(int num_threads); /* OpenBLAS extension, not in cblas.h */

typedef struct workload {
    const char *name;
    int size, layers, features, kernel_size;
    size_t n_samples;
    ars_dtype dtype;
} workload;

static const workload workloads[] = {
    {"a", 1000, 3, 16, 3, 4096, ARS_DTYPE_FLOAT64},
    {"b", 10000, 3, 16, 3, 1024, ARS_DTYPE_FLOAT64},
    {"c", 1000, 3, 16, 3, 4096, ARS_DTYPE_FLOAT32},
    {"d", 100, 4, 32, 5, 16384, ARS_DTYPE_FLOAT64},
};
#define N_WORKLOADS (sizeof workloads / sizeof workloads[0])

static double gemm_peak(int threads, int single, int repeat) {
    const int n = 2048;
    const size_t nn = (size_t)n * n;
    double best = 0.0;
    omp_set_num_threads(threads); /* the OpenMP build of OpenBLAS uses our OpenMP threads */
    openblas_set_num_threads(threads);
    if (single) {
        float *a = malloc(nn * sizeof(float)), *b = malloc(nn * sizeof(float));
        float *c = calloc(nn, sizeof(float));
        for (size_t i = 0; i < nn; i++) {
            a[i] = (float)((i % 17) * 0.01);
            b[i] = (float)((i % 13) * 0.02);
        }
        for (int r = 0; r <= repeat; r++) {
            double t0 = omp_get_wtime();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                        c, n);
            double g = 2.0 * n * (double)nn / (omp_get_wtime() - t0) / 1e9;
            best = r > 0 && g > best ? g : best; /* r = 0 is the warm-up */
        }
        free(a);
        free(b);
        free(c);
    } else {
        double *a = malloc(nn * sizeof(double)), *b = malloc(nn * sizeof(double));
        double *c = calloc(nn, sizeof(double));
        for (size_t i = 0; i < nn; i++) {
            a[i] = (double)(i % 17) * 0.01;
            b[i] = (double)(i % 13) * 0.02;
        }
        for (int r = 0; r <= repeat; r++) {
            double t0 = omp_get_wtime();
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c,
                        n);
            double g = 2.0 * n * (double)nn / (omp_get_wtime() - t0) / 1e9;
            best = r > 0 && g > best ? g : best;
        }
        free(a);
        free(b);
        free(c);
    }
    openblas_set_num_threads(1);
    return best;
}

/* The core's fused multiply-add roofline: 128 independent accumulator chains in registers,
 * vectorised by the compiler for the best instruction set, on every thread at once. */
ARS_CLONES static double fma_chains(double seed, long iters) {
    double acc[128];
    for (int i = 0; i < 128; i++) {
        acc[i] = seed + i;
    }
    for (long it = 0; it < iters; it++) {
#pragma omp simd
        for (int i = 0; i < 128; i++) {
            acc[i] = fma(acc[i], 0.999999999, 1e-9);
        }
    }
    double s = 0.0;
    for (int i = 0; i < 128; i++) {
        s += acc[i];
    }
    return s;
}

static double fma_peak(int threads) {
    const long iters = 5000000;
    double best = 0.0, sink = 0.0;
    for (int r = 0; r < 3; r++) {
        double t0 = omp_get_wtime();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        sink += fma_chains((double)omp_get_thread_num(), iters);
        double g = 2.0 * 128.0 * (double)iters * threads / (omp_get_wtime() - t0) / 1e9;
        best = g > best ? g : best;
    }
    if (sink == 42.0) {
        printf(" "); /* keeps the loops alive */
    }
    return best;
}

/* Useful flops per sample and site: 2 K' C/g F per layer. */
static double flops_per_site(const ars_arnn *net) {
    double f = 0.0;
    for (int l = 0; l < net->arch.layers; l++) {
        const ars_conv *c = &net->layer[l];
        const int cg = c->cin / c->groups; /* exact: groups divide the channels */
        f += 2.0 * c->taps * cg * c->cout;
    }
    return f;
}

/* Seconds of the best of `repeat` timed draws after a warm-up. */
static double time_sampling(const workload *w, ars_activation act, int threads, int chunk,
                            int repeat, double *flops_site) {
    ars_arch arch;
    memset(&arch, 0, sizeof arch);
    ars_hilbert_init(&arch.hilbert, w->size, 1);
    arch.layers = w->layers;
    for (int l = 0; l < w->layers; l++) {
        arch.features[l] = l == w->layers - 1 ? 2 : w->features;
        arch.dilation[l] = 1;
    }
    arch.kernel_size = w->kernel_size;
    arch.feature_group_count = 1;
    arch.use_bias = 1;
    arch.activation = act;
    arch.input = ARS_INPUT_VALUE;
    ars_arnn *net = ars_arnn_alloc(&arch);
    ars_sampler *s = ars_sampler_alloc(net, chunk, threads, ARS_SAMPLER_CACHED, w->dtype);
    uint8_t *cfg = malloc(w->n_samples * (size_t)w->size);
    double *lp = malloc(w->n_samples * sizeof(double));
    if (net == NULL || s == NULL || cfg == NULL || lp == NULL ||
        ars_arnn_init_random(net, 1234) != ARS_OK) {
        fprintf(stderr, "arsampler-bench: out of memory\n");
        exit(1);
    }
    ars_sampler_sync(s);
    *flops_site = flops_per_site(net);
    double best = 1e300;
    for (int r = 0; r <= repeat; r++) {
        double t0 = omp_get_wtime();
        if (ars_sampler_draw(s, cfg, lp, w->n_samples, 1234, (uint64_t)r, NULL) != ARS_OK) {
            exit(1);
        }
        double t = omp_get_wtime() - t0;
        best = r > 0 && t < best ? t : best;
    }
    free(cfg);
    free(lp);
    ars_sampler_free(s);
    ars_arnn_free(net);
    return best;
}

/* An activation by its config name; 0 if there is none of that name. */
static int parse_activation(const char *name, ars_activation *act) {
    for (int a = 0; a <= (int)ARS_ACTIVATION_IDENTITY; a++) {
        if (strcmp(name, ars_activation_name((ars_activation)a)) == 0) {
            *act = (ars_activation)a;
            return 1;
        }
    }
    return 0;
}

static const char usage[] =
    "usage: arsampler-bench [--threads 1,2] [--chunk 256] [--repeat 3] [--csv FILE] "
    "[--only a,b,c,d] [--peaks] [--activation selu|tanh|relu|gelu|identity] [--help]\n";

/* A whole decimal integer in [lo, hi] into *v; 0 if s is not one. */
static int parse_int(const char *s, int lo, int hi, int *v) {
    char *end = NULL;
    errno = 0;
    const long x = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || x < lo || x > hi) {
        return 0;
    }
    *v = (int)x;
    return 1;
}

/* The workloads named in a list "a,b" as flags in sel; 0 (message printed) on an unknown name. */
static int parse_only(char *list, int *sel) {
    int named = 0;
    for (char *tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ","), named++) {
        size_t w = 0;
        while (w < N_WORKLOADS && strcmp(tok, workloads[w].name) != 0) {
            w++;
        }
        if (w == N_WORKLOADS) {
            fprintf(stderr, "arsampler-bench: --only: no workload '%s' (a, b, c or d)\n", tok);
            return 0;
        }
        sel[w] = 1;
    }
    if (named == 0) {
        fprintf(stderr, "arsampler-bench: --only: no workload named (a, b, c or d)\n");
    }
    return named > 0;
}

/* One message and exit status 2 for a bad command line. */
static int bad_option(const char *option, const char *value, const char *want) {
    fprintf(stderr, "arsampler-bench: %s%s%s%s%s\n%s", option, value != NULL ? " '" : "",
            value != NULL ? value : "", value != NULL ? "'" : "", want, usage);
    return 2;
}

int main(int argc, char **argv) {
    int threads_list[8] = {1, 2}, n_threads = 2, chunk = 256, repeat = 3;
    const char *csv = "out/bench.csv";
    int sel[N_WORKLOADS] = {0}, any_only = 0;
    int peaks_only = 0;
    ars_activation act = ARS_ACTIVATION_SELU;
    for (int i = 1; i < argc; i++) {
        static const char *const with_value[] = {"--threads", "--chunk", "--repeat",
                                                 "--csv",     "--only",  "--activation"};
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes_value = 0;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++) {
            takes_value = takes_value || strcmp(opt, with_value[k]) == 0;
        }
        if (strcmp(opt, "--help") == 0) {
            printf("%s", usage);
            return 0;
        }
        if (!takes_value && strcmp(opt, "--peaks") != 0) {
            return bad_option(opt, NULL, ": unknown option");
        }
        if (takes_value && val == NULL) {
            return bad_option(opt, NULL, " needs a value");
        }
        if (strcmp(opt, "--threads") == 0) {
            n_threads = 0;
            for (char *tok = strtok(argv[++i], ","); tok != NULL; tok = strtok(NULL, ",")) {
                if (n_threads == 8 || !parse_int(tok, 1, 1024, &threads_list[n_threads++])) {
                    return bad_option(opt, tok, ": at most 8 thread counts, each 1..1024");
                }
            }
            if (n_threads == 0) {
                return bad_option(opt, val, ": at most 8 thread counts, each 1..1024");
            }
        } else if (strcmp(opt, "--chunk") == 0) {
            if (!parse_int(argv[++i], 1, 1 << 16, &chunk)) {
                return bad_option(opt, val, ": a chunk of 1..65536 samples");
            }
        } else if (strcmp(opt, "--repeat") == 0) {
            if (!parse_int(argv[++i], 1, 1000, &repeat)) {
                return bad_option(opt, val, ": 1..1000 timed runs");
            }
        } else if (strcmp(opt, "--csv") == 0) {
            csv = argv[++i];
        } else if (strcmp(opt, "--only") == 0) {
            any_only = 1;
            if (!parse_only(argv[++i], sel)) {
                fprintf(stderr, "%s", usage);
                return 2;
            }
        } else if (strcmp(opt, "--peaks") == 0) {
            peaks_only = 1;
        } else {
            if (!parse_activation(argv[++i], &act)) {
                return bad_option(opt, val, ": not an activation");
            }
        }
    }
    for (size_t w = 0; w < N_WORKLOADS; w++) {
        sel[w] = sel[w] || !any_only;
    }
    if (peaks_only) {
        /* One line per thread count, for scripts/bench --train. */
        for (int ti = 0; ti < n_threads; ti++) {
            const int th = threads_list[ti];
            printf("peaks threads %d dgemm_gflops %.3f fma_roofline_gflops %.3f\n", th,
                   gemm_peak(th, 0, repeat), fma_peak(th));
        }
        return 0;
    }
    /* The CSV is kept in memory and replaces the file whole at the end (atomic_file.h); its
     * folder is checked now, not after the run: made if missing, and writable. */
    char folder[ARS_PATH_MAX];
    ars_io_folder_of(folder, sizeof folder, csv);
    struct stat st;
    int ok = ars_io_make_parent_dirs(csv) == 0 && stat(folder, &st) == 0;
    if (ok && !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        ok = 0;
    }
    if (!ok || access(folder, W_OK) != 0) {
        fprintf(stderr, "arsampler-bench: --csv '%s': cannot write into its folder: %s\n%s", csv,
                strerror(errno), usage);
        return 2;
    }
    char *csv_text = NULL;
    size_t csv_len = 0;
    FILE *out = open_memstream(&csv_text, &csv_len);
    if (out == NULL) {
        fprintf(stderr, "arsampler-bench: out of memory\n");
        return 1;
    }
    fprintf(out, "workload,size,layers,features,kernel_size,n_samples,dtype,threads,chunk,seconds,"
                 "samples_per_s,site_updates_per_s,useful_gflops,gemm_peak_gflops,percent_of_gemm,"
                 "roofline_gflops,percent_of_roofline,activation\n");
    printf("arsampler %s benchmark: cached sampler, chunk %d, best of %d runs, %s\n", ARS_VERSION,
           chunk, repeat, ars_activation_name(act));
    double secs[N_WORKLOADS][8];
    for (int ti = 0; ti < n_threads; ti++) {
        const int th = threads_list[ti];
        /* Sampling first, then the peak: nothing of OpenBLAS runs during the sampling. */
        double t_w[N_WORKLOADS], fs_w[N_WORKLOADS];
        omp_set_num_threads(th);
        for (size_t w = 0; w < N_WORKLOADS; w++) {
            if (sel[w]) {
                t_w[w] = time_sampling(&workloads[w], act, th, chunk, repeat, &fs_w[w]);
            }
        }
        const double dpeak = gemm_peak(th, 0, repeat), speak = gemm_peak(th, 1, repeat);
        const double fpeak = fma_peak(th);
        printf("\n%d thread%s: OpenBLAS DGEMM n=2048 %.1f GFLOP/s, SGEMM %.1f GFLOP/s; float64 "
               "FMA roofline %.1f GFLOP/s\n",
               th, th > 1 ? "s" : "", dpeak, speak, fpeak);
        printf("  %-2s %6s %6s %8s %12s %14s %9s %8s %10s\n", "", "size", "dtype", "seconds",
               "samples/s", "site-upd/s", "GFLOP/s", "% GEMM", "% roofline");
        for (size_t w = 0; w < N_WORKLOADS; w++) {
            const workload *wl = &workloads[w];
            if (!sel[w]) {
                continue;
            }
            const double fs = fs_w[w], t = t_w[w];
            const double sps = (double)wl->n_samples / t, ups = sps * wl->size;
            const double gf = ups * fs / 1e9;
            const double peak = wl->dtype == ARS_DTYPE_FLOAT32 ? speak : dpeak;
            const char *dt = wl->dtype == ARS_DTYPE_FLOAT32 ? "f32" : "f64";
            secs[w][ti] = t;
            /* The float32 roofline is twice the float64 one (twice the lanes). */
            const double roof = wl->dtype == ARS_DTYPE_FLOAT32 ? 2.0 * fpeak : fpeak;
            printf("  %-2s %6d %6s %8.3f %12.4g %14.4g %9.2f %7.1f%% %9.1f%%\n", wl->name, wl->size,
                   dt, t, sps, ups, gf, 100.0 * gf / peak, 100.0 * gf / roof);
            fprintf(out, "%s,%d,%d,%d,%d,%zu,%s,%d,%d,%.6f,%.6g,%.6g,%.4f,%.4f,%.2f,%.4f,%.2f,%s\n",
                    wl->name, wl->size, wl->layers, wl->features, wl->kernel_size, wl->n_samples,
                    wl->dtype == ARS_DTYPE_FLOAT32 ? "float32" : "float64", th, chunk, t, sps, ups,
                    gf, peak, 100.0 * gf / peak, roof, 100.0 * gf / roof, ars_activation_name(act));
            fflush(stdout);
        }
    }
    if (n_threads >= 2) {
        printf("\nscaling %d -> %d threads:", threads_list[0], threads_list[1]);
        for (size_t w = 0; w < N_WORKLOADS; w++) {
            if (sel[w]) {
                printf("  %s %.2fx", workloads[w].name, secs[w][0] / secs[w][1]);
            }
        }
        printf("\n");
    }
    fclose(out);
    char tmp[ARS_PATH_MAX + 32];
    ars_io_temporary_name(tmp, sizeof tmp, csv);
    const int err = ars_io_commit_file(tmp, csv, (const unsigned char *)csv_text, csv_len);
    free(csv_text);
    if (err != 0) {
        fprintf(stderr, "arsampler-bench: cannot write %s: %s\n", csv, strerror(err));
        return 1;
    }
    printf("results written to %s\n", csv);
    return 0;
}
