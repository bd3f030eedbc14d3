/*
 * evolve_keys: the [evolve] keys (mode = evolve; evolve.h) and their checks. The integrator
 * names come from the registry ars_integrator_types (config index = registry index).
 */
#include <math.h>
#include <stddef.h>

#include "config/config_key.h"
#include "evolve/integrator.h"

/* The keys mean something only in mode = evolve. */
static int evolve_on(const ars_config *c) {
    return c->mode == ARS_MODE_EVOLVE;
}

static const char *const regularization_names[] = {"shift", "snr", NULL};

/* The cut-off tolerances mean something only with regularization = snr. */
static int snr_on(const ars_config *c) {
    return c->mode == ARS_MODE_EVOLVE && c->evo_regularization == 1;
}

static const char *integrator_name(int i) {
    return ars_integrator_types[i] != NULL ? ars_integrator_types[i]->name : NULL;
}

#define EVOLVE_ONLY                                                                                \
    .active = evolve_on, .inactive = "only with [run] mode = evolve (remove the key)"
#define EVOLVE_DKEY(name, field, lo, hi, d, h)                                                     \
    {                                                                                              \
        .section = "evolve", .key = (name), .type = ARS_KEY_DOUBLE,                                \
        .offset = ARS_CONFIG_OFF(field), .def = (d), .help = (h), .dmin = (lo), .dmax = (hi),      \
        EVOLVE_ONLY                                                                                \
    }
#define EVOLVE_BKEY(name, field, d, h)                                                             \
    {                                                                                              \
        .section = "evolve", .key = (name), .type = ARS_KEY_BOOL, .offset = ARS_CONFIG_OFF(field), \
        .def = (d), .help = (h), EVOLVE_ONLY                                                       \
    }

const ars_config_key ars_evolve_keys[ARS_EVOLVE_NKEYS] = {
    EVOLVE_DKEY("t_end", evo_t_end, 0.0, 1e9, "2.0", "the final time (> 0)"),
    EVOLVE_DKEY("dt", evo_dt, 0.0, 1e9, "0.005",
                "the first step (> 0; every step when adaptive = false)"),
    {.section = "evolve",
     .key = "integrator",
     .type = ARS_KEY_ENUM,
     .offset = ARS_CONFIG_OFF(evo_integrator),
     .name_at = integrator_name,
     .def = "heun",
     .help = "euler, heun or rk4 (explicit Runge-Kutta with an embedded error estimate)",
     EVOLVE_ONLY},
    EVOLVE_DKEY("tolerance", evo_tolerance, 0.0, 1e9, "1e-4",
                "the error allowed per step (> 0), as the distance it moves the normalised "
                "state, sqrt(e^T S e); it includes the stages' Monte Carlo noise"),
    EVOLVE_BKEY("adaptive", evo_adaptive, "true",
                "adaptive step control (false: fixed steps of dt, tolerance unused)"),
    EVOLVE_BKEY("common_samples", evo_common_samples, "false",
                "every evaluation of a step (its stages, its error estimate and the retries of a "
                "rejected step) draws from the same random numbers, so the error estimate sees "
                "the truncation error rather than the stages' Monte Carlo noise; fresh numbers "
                "each step (false: fresh numbers each evaluation)"),
    EVOLVE_BKEY("reweight", evo_reweight, "false",
                "a step's stages and its error estimate reuse the samples drawn at its start, "
                "reweighted by |psi_stage / psi_start|^2, instead of drawing new ones: for fixed "
                "samples the equation's right-hand side is then a smooth function of the "
                "parameters, and the error estimate measures the truncation error (steps whose "
                "effective sample size falls below half the samples are retried with half the "
                "step)"),
    EVOLVE_BKEY("imaginary", evo_imaginary, "false",
                "imaginary-time evolution exp(-H tau) (a ground-state method) instead of "
                "exp(-i H t)"),
    EVOLVE_DKEY("diag_shift", evo_diag_shift, 0.0, 1e6, "1e-6",
                "regularisation added to S in the TDVP equation (to its eigenvalues with "
                "regularization = snr)"),
    {.section = "evolve",
     .key = "regularization",
     .type = ARS_KEY_ENUM,
     .offset = ARS_CONFIG_OFF(evo_regularization),
     .names = regularization_names,
     .def = "shift",
     .help = "shift: solve (S + diag_shift) thetadot = V by Cholesky; snr: in S's eigenbasis, "
             "dropping smoothly the directions whose force is below its Monte Carlo noise or "
             "whose eigenvalue is below pinv_tolerance times the largest (Schmitt & Heyl)",
     EVOLVE_ONLY},
    {.section = "evolve",
     .key = "snr_tolerance",
     .type = ARS_KEY_DOUBLE,
     .offset = ARS_CONFIG_OFF(evo_snr_tolerance),
     .dmin = 0.0,
     .dmax = 1e6,
     .def = "2",
     .help = "the signal-to-noise ratio below which a direction of S is dropped (factor "
             "1 / (1 + (tol / SNR)^6))",
     .active = snr_on,
     .inactive = "only with [evolve] regularization = snr (remove the key)"},
    {.section = "evolve",
     .key = "pinv_tolerance",
     .type = ARS_KEY_DOUBLE,
     .offset = ARS_CONFIG_OFF(evo_pinv_tolerance),
     .dmin = 0.0,
     .dmax = 1.0,
     .def = "1e-8",
     .help = "the eigenvalue of S, relative to the largest, below which a direction is dropped "
             "(factor 1 / (1 + (tol lambda_max / lambda)^6))",
     .active = snr_on,
     .inactive = "only with [evolve] regularization = snr (remove the key)"},
    EVOLVE_DKEY("measure_every", evo_measure_every, 0.0, 1e9, "0.05",
                "observables and the energy on this time grid (> 0), and at t_end"),
    {.section = "evolve",
     .key = "measure_samples",
     .type = ARS_KEY_INT64,
     .offset = ARS_CONFIG_OFF(evo_measure_samples),
     .min = 0,
     .max = INT64_C(1) << 40,
     .def = "0",
     .help = "fresh samples per measurement; 0: [sampler] n_samples",
     EVOLVE_ONLY},
    EVOLVE_DKEY("dt_min", evo_dt_min, 0.0, 1e9, "1e-7",
                "the smallest step; a step that needs less stops the run with advice"),
    {.section = "evolve",
     .key = "dt_max",
     .type = ARS_KEY_DOUBLE_AUTO,
     .offset = ARS_CONFIG_OFF(evo_dt_max),
     .def = "auto",
     .help = "the largest step; auto: measure_every",
     .dmin = 0.0,
     .dmax = 1e9,
     EVOLVE_ONLY},
};

/* "FILE:LINE: [evolve] key: must be > 0 (got X)" for a key that is not positive. */
static int positive(const ars_config *c, const char *key, double v) {
    if (v > 0.0) {
        return ARS_OK;
    }
    return ars_ini_error(ars_config_key_where(c, "evolve", key),
                         "[evolve] %s: must be > 0 (got %g)", key, v);
}

int ars_evolve_config_check(const ars_config *c) {
    if (c->mode != ARS_MODE_EVOLVE) {
        return ARS_OK;
    }
    int rc = positive(c, "t_end", c->evo_t_end);
    if (rc == ARS_OK) {
        rc = positive(c, "dt", c->evo_dt);
    }
    if (rc == ARS_OK) {
        rc = positive(c, "tolerance", c->evo_tolerance);
    }
    if (rc == ARS_OK) {
        rc = positive(c, "measure_every", c->evo_measure_every);
    }
    if (rc == ARS_OK) {
        rc = positive(c, "dt_min", c->evo_dt_min);
    }
    if (rc == ARS_OK && !isnan(c->evo_dt_max)) {
        rc = positive(c, "dt_max", c->evo_dt_max);
    }
    if (rc == ARS_OK && c->evo_dt_min > c->evo_dt) {
        rc = ars_ini_error(ars_config_key_where(c, "evolve", "dt_min"),
                           "[evolve] dt_min: must not exceed dt = %g (got %g)", c->evo_dt,
                           c->evo_dt_min);
    }
    if (rc == ARS_OK && c->evo_reweight && c->evo_common_samples) {
        rc = ars_ini_error(ars_config_key_where(c, "evolve", "reweight"),
                           "[evolve] reweight: choose one of reweight and common_samples (both "
                           "are ways of sharing samples between a step's stages)");
    }
    if (rc == ARS_OK && c->evo_reweight && !c->evo_adaptive) {
        rc = ars_ini_error(ars_config_key_where(c, "evolve", "reweight"),
                           "[evolve] reweight: only with adaptive = true (it serves the error "
                           "estimate, and a step whose weights degenerate is retried with half "
                           "the step)");
    }
    if (rc == ARS_OK && c->evo_reweight && c->evo_regularization == 1) {
        rc = ars_ini_error(ars_config_key_where(c, "evolve", "reweight"),
                           "[evolve] reweight: not with regularization = snr (its noise estimate "
                           "assumes unweighted samples)");
    }
    if (rc == ARS_OK && c->phase_type == 0 && !c->evo_imaginary) {
        rc = ars_ini_error(ars_config_key_where(c, "run", "mode"),
                           "[run] mode: evolve in real time needs a phase network: exp(-iHt) "
                           "makes the amplitudes complex, and a real network cannot follow them "
                           "(set [phase] type = conv, or [evolve] imaginary = true)");
    }
    return rc;
}
