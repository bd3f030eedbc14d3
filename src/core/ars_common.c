/* ars_common: status table, error and warning printing, assertions, random-stream seeding. */
#include "core/ars_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <omp.h>

const char *ars_strerror(int status) {
    switch (status) {
        case ARS_OK:
            return "success";
        case ARS_STATUS_ECONFIG:
            return "invalid configuration";
        case ARS_STATUS_EINPUT:
            return "invalid input file";
        case ARS_STATUS_EIO:
            return "output error";
        case ARS_STATUS_ENOMEM:
            return "out of memory";
        case ARS_STATUS_ENONFINITE:
            return "non-finite number";
        default:
            return "unknown error";
    }
}

int ars_exit_code(int status) {
    if (status == ARS_OK) {
        return 0;
    }
    if (status == ARS_STATUS_ECONFIG || status == ARS_STATUS_EINPUT) {
        return 2;
    }
    return 1;
}

int ars_error_report(int status, const char *file, int line, const char *func, const char *fmt,
                     ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (getenv("ARS_DEBUG") != NULL) {
        fprintf(stderr, "arsampler: error: %s [%s:%d %s]\n", msg, file, line, func);
    } else {
        fprintf(stderr, "arsampler: error: %s\n", msg);
    }
    return status;
}

int ars_error_where(int status, const char *where, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", where, msg);
    return status;
}

void ars_warn(const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "arsampler: warning: %s\n", msg);
}

void ars_abort(const char *file, int line, const char *cond, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "arsampler: internal error at %s:%d: assertion failed: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

/* splitmix64 (Steele, Lea, Flood 2014): a bijective 64-bit mixer with good avalanche. */
static uint64_t splitmix64_next(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t ars_stream_key(uint64_t seed, uint64_t stream, uint64_t iteration, uint64_t chunk) {
    uint64_t x = seed;
    uint64_t h = splitmix64_next(&x);
    x = h ^ stream;
    h = splitmix64_next(&x);
    x = h ^ iteration;
    h = splitmix64_next(&x);
    x = h ^ chunk;
    return splitmix64_next(&x);
}

gsl_rng *ars_rng_alloc(void) {
    return gsl_rng_alloc(gsl_rng_mt19937);
}

/* Mirror of GSL's private MT19937 state (gsl/rng/mt.c); its size is checked at run time. */
typedef struct {
    unsigned long mt[624];
    int mti;
} ars_mt_state;

void ars_rng_seed(gsl_rng *r, uint64_t key) {
    ARS_ASSERT(r->type == gsl_rng_mt19937, "generator must be mt19937, got %s", gsl_rng_name(r));
    ARS_ASSERT(gsl_rng_size(r) == sizeof(ars_mt_state), "unexpected GSL mt19937 state size %zu",
               gsl_rng_size(r));
    ars_mt_state *s = gsl_rng_state(r);
    uint64_t x = key;
    for (int i = 0; i < 624; i += 2) {
        uint64_t z = splitmix64_next(&x);
        s->mt[i] = (unsigned long)(z & 0xffffffffUL);
        s->mt[i + 1] = (unsigned long)(z >> 32);
    }
    s->mt[0] |= 0x80000000UL; /* the state's effective top bit must not be all zero */
    s->mti = 624;             /* regenerate the whole block before the first draw */
}

double ars_wtime(void) {
    return omp_get_wtime();
}

/* A byte count from the first line of a file ("max" or anything else: 0). */
static double limit_in_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0.0;
    }
    unsigned long long v = 0;
    const int got = fscanf(f, "%llu", &v);
    fclose(f);
    return got == 1 ? (double)v : 0.0;
}

/* Whether a comma-separated controller list names `name`. */
static int has_controller(const char *list, const char *name) {
    const size_t n = strlen(name);
    for (const char *p = list; *p != '\0';) {
        const size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0) {
            return 1;
        }
        p += len + (p[len] == ',');
    }
    return 0;
}

double ars_memory_cgroup_limit(const char *cgroup_file, const char *mount) {
    FILE *f = fopen(cgroup_file, "r");
    if (f == NULL) {
        return 0.0;
    }
    char line[4096], file[4096 + 64];
    double best = 0.0;
    while (fgets(line, sizeof line, f) != NULL) {
        char *c1 = strchr(line, ':'), *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL) {
            continue;
        }
        *c1 = '\0';
        *c2 = '\0';
        char *path = c2 + 1;
        path[strcspn(path, "\n")] = '\0';
        const int v2 = strcmp(line, "0") == 0 && c1[1] == '\0';
        if (!v2 && !has_controller(c1 + 1, "memory")) {
            continue;
        }
        for (;;) { /* the group, then each parent up to the root */
            snprintf(file, sizeof file, "%s%s%s/%s", mount, v2 ? "" : "/memory",
                     strcmp(path, "/") == 0 ? "" : path,
                     v2 ? "memory.max" : "memory.limit_in_bytes");
            const double limit = limit_in_file(file);
            best = limit > 0.0 && (best == 0.0 || limit < best) ? limit : best;
            char *slash = strrchr(path, '/');
            if (slash == NULL || strcmp(path, "/") == 0) {
                break;
            }
            slash[slash == path ? 1 : 0] = '\0'; /* "/a/b" -> "/a", "/a" -> "/" */
        }
    }
    fclose(f);
    return best;
}

double ars_memory_bytes(void) {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    const double phys = pages > 0 && page > 0 ? (double)pages * (double)page : 0.0;
    const double limit = ars_memory_cgroup_limit("/proc/self/cgroup", "/sys/fs/cgroup");
    return limit > 0.0 && (phys == 0.0 || limit < phys) ? limit : phys;
}

char *openblas_get_config(void); /* OpenBLAS extension; cblas.h is not included here */

const char *ars_blas_config(void) {
    const char *s = openblas_get_config();
    return s != NULL ? s : "unknown";
}

int ars_blas_serial_begin(void) {
    const int saved_threads = omp_get_max_threads();
    omp_set_num_threads(1);
    return saved_threads;
}

void ars_blas_serial_end(int saved_threads) {
    omp_set_num_threads(saved_threads);
}

void ars_progress_start(ars_progress *p, const char *what, const char *unit, int enabled) {
    p->enabled = enabled;
    p->tty = isatty(fileno(stderr));
    p->what = what;
    p->unit = unit;
    p->t_start = ars_wtime();
    p->t_last = p->t_start;
}

void ars_progress_update(ars_progress *p, size_t done, size_t total) {
    if (!p->enabled) {
        return;
    }
    double now = ars_wtime();
    if (now - p->t_last < (p->tty ? 0.5 : 10.0) || done == 0) {
        return;
    }
    p->t_last = now;
    double elapsed = now - p->t_start;
    double rate = (double)done / elapsed;
    double eta = rate > 0.0 ? (double)(total - done) / rate : 0.0;
    fprintf(stderr, "%s%s: %zu/%zu %s (%.1f%%), %.4g %s/s, ETA %.0f s%s", p->tty ? "\r" : "",
            p->what, done, total, p->unit, 100.0 * (double)done / (double)total, rate, p->unit, eta,
            p->tty ? "\033[K" : "\n");
    fflush(stderr);
}

double ars_progress_finish(ars_progress *p, size_t total) {
    double elapsed = ars_wtime() - p->t_start;
    if (p->enabled) {
        double rate = elapsed > 0.0 ? (double)total / elapsed : 0.0;
        fprintf(stderr, "%s%s: %zu %s in %.2f s, %.4g %s/s%s\n", p->tty ? "\r" : "", p->what, total,
                p->unit, elapsed, rate, p->unit, p->tty ? "\033[K" : "");
    }
    return elapsed;
}
