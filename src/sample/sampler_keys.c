/*
 * sampler_keys: the [sampler] keys and the checks of the sampler's memory.
 */
#include <inttypes.h>

#include "config/config_key.h"
#include "nn/arnn.h"
#include "sample/sampler.h"

/* Workspace memory above which a config is refused as a likely typo. */
#define CONFIG_MAX_WS_BYTES ((size_t)32 << 30)

static const char *const algorithm_names[] = {"cached", "full", NULL};
_Static_assert(sizeof algorithm_names / sizeof algorithm_names[0] == ARS_SAMPLER_FULL + 2,
               "one name per ars_sampler_algorithm");

const ars_config_key ars_sampler_keys[ARS_SAMPLER_NKEYS] = {
    {.section = "sampler",
     .key = "n_samples",
     .type = ARS_KEY_INT64,
     .offset = ARS_CONFIG_OFF(n_samples),
     .min = 1,
     .max = INT64_C(1000000000000),
     .def = "4096",
     .help = "number of exact samples to draw"},
    {.section = "sampler",
     .key = "chunk_size",
     .type = ARS_KEY_INT,
     .offset = ARS_CONFIG_OFF(chunk_size),
     .min = 1,
     .max = 1 << 20,
     .def = "256",
     .help = "samples per independently seeded chunk (the unit of parallel work)"},
    {.section = "sampler",
     .key = "seed",
     .type = ARS_KEY_UINT64,
     .offset = ARS_CONFIG_OFF(seed),
     .def = "1234",
     .help = "seed of every random stream (initialisation and sampling)"},
    {.section = "sampler",
     .key = "algorithm",
     .type = ARS_KEY_ENUM,
     .offset = ARS_CONFIG_OFF(algorithm),
     .names = algorithm_names,
     .def = "cached",
     .help = "cached (O(size) per sample, ring buffers per layer) or full (the O(size^2) "
             "reference: a full forward pass per site); both give the same samples"},
};

int ars_sampler_config_check(const ars_config *c) {
    if (c->algorithm == ARS_SAMPLER_FULL && c->dtype == ARS_DTYPE_FLOAT32) {
        return ars_ini_error(ars_config_key_where(c, "sampler", "algorithm"),
                             "[sampler] algorithm: the full-forward reference sampler runs in "
                             "float64 only; use algorithm = cached with dtype = float32 (got "
                             "full)");
    }
    /* Memory: one workspace per thread, plus the samples. Refuse absurd sizes up front. */
    ars_arch arch;
    ars_config_arch(c, &arch);
    const int D = c->two_s + 1;
    size_t ws = ars_sampler_slot_bytes(&arch, c->chunk_size, (ars_sampler_algorithm)c->algorithm,
                                       (ars_dtype)c->dtype);
    double ws_gib = (double)ws / (double)(1u << 30);
    if (ws > CONFIG_MAX_WS_BYTES || (double)c->chunk_size * c->size * D > 1e12) {
        return ars_ini_error(ars_config_key_where(c, "sampler", "chunk_size"),
                             "[sampler] chunk_size: a chunk of %d samples of %d sites needs %.1f "
                             "GiB of activations per thread; use a smaller chunk_size (got %d)",
                             c->chunk_size, c->size, ws_gib, c->chunk_size);
    }
    if ((double)c->n_samples * (double)c->size > 256.0 * (double)(1u << 30)) {
        return ars_ini_error(ars_config_key_where(c, "sampler", "n_samples"),
                             "[sampler] n_samples: %" PRId64 " samples of %d sites would take "
                             "more than 256 GiB (got %" PRId64 ")",
                             c->n_samples, c->size, c->n_samples);
    }
    return ARS_OK;
}
