/*
 * ars_common: status codes, error reporting, assertions and random-stream seeding shared by every
 * module of arsampler.
 *
 * Errors a user can cause (bad config, unreadable file, full disk) are returned as an ars_status
 * and reported once, where they arise, through ARS_ERR(code, fmt, ...), which prints
 * "arsampler: error: <message>" to stderr (plus the C source location when the environment
 * variable ARS_DEBUG is set) and evaluates to the code. Callers pass the code up unchanged and
 * print nothing more, so each failure gives exactly one message. Only src/app turns a status into
 * an exit code.
 *
 * Programmer errors (broken invariants, impossible shapes) use ARS_ASSERT, which stays active in
 * every build and aborts with a message.
 *
 * Random streams: every stream of random numbers (parameter initialisation, the sampler's
 * chunks) is an MT19937 generator whose whole 624-word state is filled from a 64-bit key by
 * splitmix64, and the key is a hash of (seed, stream kind, iteration, chunk index). Results
 * therefore depend on the seed and the chunk decomposition only, never on the thread count.
 */
#ifndef ARS_COMMON_H
#define ARS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

typedef enum ars_status {
    ARS_OK = 0,
    ARS_STATUS_ECONFIG = -1,    /* the configuration or command line is invalid */
    ARS_STATUS_EINPUT = -2,     /* an input file is missing, unreadable or malformed */
    ARS_STATUS_EIO = -3,        /* an output could not be written */
    ARS_STATUS_ENOMEM = -4,     /* an allocation failed */
    ARS_STATUS_ENONFINITE = -5, /* a NaN or infinity appeared in the numbers */
} ars_status;

/* A short English name for a status, e.g. "invalid configuration". */
const char *ars_strerror(int status);

/* The process exit code for a status: 0 for ARS_OK, 2 for bad input (config, command line,
 * input files), 1 for everything else. */
int ars_exit_code(int status);

/* Prints one error line to stderr and returns `status`. Use through ARS_ERR. */
int ars_error_report(int status, const char *file, int line, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Prints one error line "WHERE: message" to stderr (the form of config errors, for errors that
 * a file and line of the user's input explain) and returns `status`. */
int ars_error_where(int status, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints one warning line ("arsampler: warning: ...") to stderr. */
void ars_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ARS_ERR(status, ...) ars_error_report((status), __FILE__, __LINE__, __func__, __VA_ARGS__)

_Noreturn void ars_abort(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define ARS_ASSERT(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            ars_abort(__FILE__, __LINE__, #cond, __VA_ARGS__);                                     \
        }                                                                                          \
    } while (0)

/* Compile a hot function for AVX-512, AVX2+FMA and baseline x86-64; the loader picks the best
 * for the CPU at start-up. Results are the same bits on every variant: no reassociation happens
 * (no -ffast-math) and fma() is exactly rounded everywhere. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(ARS_NO_CLONES) &&  \
    !defined(__SANITIZE_ADDRESS__)
#define ARS_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ARS_CLONES
#endif

/* ---- random streams ---------------------------------------------------------------------- */

/* Kinds of random stream; part of the key so that streams of different purposes never meet. */
enum ars_stream {
    ARS_STREAM_INIT = 1,     /* parameter initialisation */
    ARS_STREAM_SAMPLE = 2,   /* ancestral sampling, one stream per chunk */
    ARS_STREAM_SYMMETRY = 3, /* the group elements of symmetrised sampling, one per chunk */
};

/* The 64-bit key of one stream: a splitmix64 hash chain over its four coordinates. */
uint64_t ars_stream_key(uint64_t seed, uint64_t stream, uint64_t iteration, uint64_t chunk);

/* Allocates an MT19937 generator (NULL on allocation failure). */
gsl_rng *ars_rng_alloc(void);

/* Fills the full state of an MT19937 generator from a 64-bit key (no allocation), so that
 * distinct keys give distinct streams; gsl_rng_set() alone would use only 32 bits of seed. */
void ars_rng_seed(gsl_rng *r, uint64_t key);

/* Wall-clock seconds since an arbitrary origin (for progress reports only). */
double ars_wtime(void);

/* The memory this process may use, in bytes: the machine's physical memory, or the smallest
 * limit on its control-group path (/proc/self/cgroup: cgroup v2 memory.max, v1
 * memory.limit_in_bytes, from its own group up to the root; a batch job's limit) where that is
 * smaller; 0 when neither can be read. */
double ars_memory_bytes(void);

/* The smallest memory limit on a process's cgroup path, from its own group up to the root, as
 * listed in `cgroup_file` (/proc/self/cgroup) for the hierarchy mounted at `mount`
 * (/sys/fs/cgroup): the "0::PATH" line of cgroup v2 (memory.max), the memory controller's line
 * of v1 (MOUNT/memory/PATH/memory.limit_in_bytes). A batch job's limit sits in a group below
 * the root; in a container with its own namespace the path is "/". 0 if none is set. */
double ars_memory_cgroup_limit(const char *cgroup_file, const char *mount);

/* OpenBLAS's build and the kernels it picked for this CPU ("OpenBLAS 0.3.21 DYNAMIC_ARCH ...
 * Haswell ..."). The kernels fix the summation order of the SR matrix, so a run's bits are
 * reproducible on machines whose OpenBLAS picks the same ones (OPENBLAS_CORETYPE pins them). */
const char *ars_blas_config(void);

/* OpenBLAS's OpenMP build uses omp_get_max_threads() threads outside a parallel region: BLAS and
 * LAPACK calls made between these two run on the calling thread alone (its OpenMP thread count
 * is set to 1, and restored from begin's return value). */
int ars_blas_serial_begin(void);
void ars_blas_serial_end(int saved_threads);

/* ---- progress line ----------------------------------------------------------------------- */

/* One progress line on stderr (done/total, rate, ETA), redrawn at most twice a second on a
 * terminal and every 10 s otherwise; nothing at all when `enabled` is 0. Updates come from one
 * thread. */
typedef struct ars_progress {
    int enabled;
    int tty;
    const char *what; /* e.g. "sampling" */
    const char *unit; /* e.g. "samples" */
    double t_start;
    double t_last;
} ars_progress;

void ars_progress_start(ars_progress *p, const char *what, const char *unit, int enabled);
void ars_progress_update(ars_progress *p, size_t done, size_t total);
/* Prints the final line (total, elapsed, rate) and returns the elapsed seconds. */
double ars_progress_finish(ars_progress *p, size_t total);

#endif
