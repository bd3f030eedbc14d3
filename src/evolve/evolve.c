/*
 * evolve: the TDVP time stepper and its logs; see evolve.h.
 */
#include "evolve/evolve.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"

#define STEP_COLUMN(f)                                                                             \
    { #f, offsetof(ars_evolve_steps, f) }
const ars_evolve_column ars_evolve_step_columns[] = {
    STEP_COLUMN(t),        STEP_COLUMN(dt),     STEP_COLUMN(accepted),     STEP_COLUMN(error),
    STEP_COLUMN(residual), STEP_COLUMN(energy), STEP_COLUMN(energy_error), STEP_COLUMN(seconds)};
#undef STEP_COLUMN
static_assert(sizeof ars_evolve_step_columns / sizeof ars_evolve_step_columns[0] ==
                  ARS_EVOLVE_STEP_COLUMNS,
              "one row per column of ars_evolve_steps");
static_assert(sizeof(ars_evolve_steps) ==
                  2 * sizeof(size_t) + ARS_EVOLVE_STEP_COLUMNS * sizeof(double *),
              "ars_evolve_steps: every column needs a row in ars_evolve_step_columns");

#define RECORD_COLUMN(f)                                                                           \
    { #f, offsetof(ars_evolve_record, f) }
const ars_evolve_column ars_evolve_record_columns[] = {
    RECORD_COLUMN(time),         RECORD_COLUMN(energy),
    RECORD_COLUMN(energy_error), RECORD_COLUMN(energy_variance),
    RECORD_COLUMN(energy_imag),  RECORD_COLUMN(energy_imag_error)};
#undef RECORD_COLUMN
static_assert(sizeof ars_evolve_record_columns / sizeof ars_evolve_record_columns[0] ==
                  ARS_EVOLVE_RECORD_COLUMNS,
              "one row per energy column of ars_evolve_record");

static double **column(void *base, const ars_evolve_column *c) {
    return (double **)((char *)base + c->offset);
}

double *ars_evolve_steps_data(const ars_evolve_steps *s, int i) {
    return *(double *const *)((const char *)s + ars_evolve_step_columns[i].offset);
}

double *ars_evolve_record_data(const ars_evolve_record *r, int i) {
    return *(double *const *)((const char *)r + ars_evolve_record_columns[i].offset);
}

/* Grows each of the n columns of base (ars_evolve_column rows) to cap doubles. */
static int grow(void *base, const ars_evolve_column *cols, int n, size_t cap) {
    for (int i = 0; i < n; i++) {
        double **f = column(base, &cols[i]);
        double *p = realloc(*f, (cap > 0 ? cap : 1) * sizeof(double));
        if (p == NULL) {
            return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the evolution's log");
        }
        *f = p;
    }
    return ARS_OK;
}

int ars_evolve_steps_reserve(ars_evolve_steps *s, size_t cap) {
    if (cap <= s->cap) {
        return ARS_OK;
    }
    const int rc = grow(s, ars_evolve_step_columns, ARS_EVOLVE_STEP_COLUMNS, cap);
    if (rc == ARS_OK) {
        s->cap = cap;
    }
    return rc;
}

int ars_evolve_record_reserve(ars_evolve_record *r, unsigned mask, const int *width, size_t cap) {
    r->mask = mask;
    for (int k = 0; k < ARS_OBS_SLOTS; k++) {
        r->width[k] = k >= ARS_OBS_COUNT || ((mask >> k) & 1u) ? width[k] : 0;
    }
    if (cap <= r->cap) {
        return ARS_OK;
    }
    int rc = grow(r, ars_evolve_record_columns, ARS_EVOLVE_RECORD_COLUMNS, cap);
    for (int k = 0; k < ARS_OBS_SLOTS && rc == ARS_OK; k++) {
        if (r->width[k] == 0) {
            continue;
        }
        double *m = realloc(r->mean[k], cap * (size_t)r->width[k] * sizeof(double));
        if (m != NULL) {
            r->mean[k] = m;
        }
        double *e = realloc(r->error[k], cap * (size_t)r->width[k] * sizeof(double));
        if (e != NULL) {
            r->error[k] = e;
        }
        if (m == NULL || e == NULL) {
            rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the evolution's observables");
        }
    }
    if (rc == ARS_OK) {
        r->cap = cap;
    }
    return rc;
}

const char *ars_evolve_record_slot_name(const ars_evolve_record *r, int k) {
    ARS_ASSERT(k >= 0 && k < ARS_OBS_COUNT + r->n_ops, "slot %d", k);
    /* cppcheck does not see that ARS_ASSERT never returns on a bad slot. */
    // cppcheck-suppress negativeIndex
    return k < ARS_OBS_COUNT ? ars_obs_names[k] : r->op_name[k - ARS_OBS_COUNT];
}

int ars_evolve_record_append(ars_evolve_record *r, double t, const ars_vmc_estimate *est,
                             const ars_obs_result *res) {
    int width[ARS_OBS_SLOTS] = {0};
    for (int k = 0; k < ARS_OBS_COUNT; k++) {
        if (res != NULL && (res->mask >> k) & 1u) {
            width[k] = res->v[k].len > 0 ? res->v[k].len : 1;
        }
    }
    const int n_ops = res != NULL ? res->n_ops : 0;
    for (int k = 0; k < n_ops; k++) {
        width[ARS_OBS_COUNT + k] = 1;
    }
    const unsigned mask = res != NULL ? res->mask : 0u;
    ARS_ASSERT(r->len == 0 || (mask == r->mask && n_ops == r->n_ops),
               "the observables changed during the evolution");
    r->n_ops = n_ops;
    for (int k = 0; k < n_ops; k++) {
        memcpy(r->op_name[k], res->op_name[k], sizeof r->op_name[k]);
    }
    const size_t cap = r->len + 1 > r->cap ? 2 * r->cap + 16 : r->cap;
    int rc = ars_evolve_record_reserve(r, mask, width, cap);
    if (rc != ARS_OK) {
        return rc;
    }
    const size_t i = r->len++;
    r->time[i] = t;
    r->energy[i] = est->energy;
    r->energy_error[i] = est->energy_error;
    r->energy_variance[i] = est->energy_variance;
    r->energy_imag[i] = est->energy_imag;
    r->energy_imag_error[i] = est->energy_imag_error;
    for (int k = 0; k < ARS_OBS_SLOTS; k++) {
        const size_t w = (size_t)r->width[k];
        if (w > 0) {
            ARS_ASSERT((int)w == width[k], "observable %d changed width", k);
            const ars_obs_value *v = k < ARS_OBS_COUNT ? &res->v[k] : &res->op_v[k - ARS_OBS_COUNT];
            r->scalar[k] = v->len == 0;
            memcpy(r->mean[k] + i * w, v->mean, w * sizeof(double));
            memcpy(r->error[k] + i * w, v->error, w * sizeof(double));
        }
    }
    return ARS_OK;
}

void ars_evolve_record_free(ars_evolve_record *r) {
    for (int i = 0; i < ARS_EVOLVE_RECORD_COLUMNS; i++) {
        free(*column(r, &ars_evolve_record_columns[i]));
    }
    for (int k = 0; k < ARS_OBS_SLOTS; k++) {
        free(r->mean[k]);
        free(r->error[k]);
    }
    memset(r, 0, sizeof *r);
}

ars_evolve *ars_evolve_alloc(ars_vmc *v, const ars_evolve_settings *set) {
    ars_evolve *e = calloc(1, sizeof *e);
    if (e == NULL) {
        return NULL;
    }
    ARS_ASSERT(!set->reweight || (!set->common_samples && !set->snr && set->adaptive),
               "reweight excludes common_samples and snr and needs adaptive steps");
    e->vmc = v;
    e->set = *set;
    e->P = v->P;
    e->dt = set->dt;
    const size_t s = (size_t)set->integrator->stages;
    e->theta = malloc(e->P * sizeof(double));
    e->k = malloc((s + 1) * e->P * sizeof(double));
    e->y = malloc(e->P * sizeof(double));
    e->err = malloc(e->P * sizeof(double));
    if (e->theta == NULL || e->k == NULL || e->y == NULL || e->err == NULL ||
        ars_evolve_steps_reserve(&e->steps, 64) != ARS_OK ||
        (set->snr && ars_vmc_set_snr(v, set->snr_tolerance, set->pinv_tolerance) != ARS_OK)) {
        ars_evolve_free(e);
        return NULL;
    }
    ars_vmc_get_params(v, e->theta);
    return e;
}

void ars_evolve_free(ars_evolve *e) {
    if (e == NULL) {
        return;
    }
    for (int i = 0; i < ARS_EVOLVE_STEP_COLUMNS; i++) {
        free(*column(&e->steps, &ars_evolve_step_columns[i]));
    }
    free(e->theta);
    free(e->k);
    free(e->y);
    free(e->err);
    free(e);
}

/* f(y) into out (P), from the next evaluation's samples (the step's, with common_samples); with
 * reweight a stage (not the step's first evaluation) reweights the step's samples instead. */
static int evaluate(ars_evolve *e, const double *y, double *out, ars_vmc_tdvp_info *info,
                    int stage) {
    ars_vmc_set_params(e->vmc, y);
    if (stage && e->set.reweight) {
        ARS_ASSERT(e->have_ref, "a reweighted stage without its step's samples");
        e->n_eval++;
        const int rc =
            ars_vmc_tdvp_reweighted(e->vmc, e->set.imaginary, e->set.diag_shift, out, info);
        /* NaN (reported below as a non-finite derivative) fails the test as well */
        e->min_ess = info->ess < e->min_ess || isnan(info->ess) ? info->ess : e->min_ess;
        return rc;
    }
    const uint64_t stream = e->set.common_samples ? ARS_EVOLVE_STEP_STREAM | (uint64_t)e->n_accepted
                                                  : ARS_EVOLVE_STREAM | (uint64_t)e->n_eval;
    e->n_eval++;
    const int rc = ars_vmc_tdvp(e->vmc, stream, e->set.imaginary, e->set.diag_shift, out, info);
    e->have_ref = rc == ARS_OK; /* the vmc now holds this evaluation's samples */
    return rc;
}

/* out = theta + h sum_{j < m} w[j] k_j, sums in stage order (out may be theta). */
static void combine(double *out, const double *theta, const double *k, const double *w, int m,
                    double h, size_t P) {
    for (size_t p = 0; p < P; p++) {
        double s = 0.0;
        for (int j = 0; j < m; j++) {
            s += w[j] * k[(size_t)j * P + p];
        }
        out[p] = theta[p] + h * s;
    }
}

static int log_step(ars_evolve *e, double h, int accepted, double err, double seconds) {
    ars_evolve_steps *s = &e->steps;
    if (s->len == s->cap && ars_evolve_steps_reserve(s, 2 * s->cap) != ARS_OK) {
        return ARS_STATUS_ENOMEM;
    }
    const size_t i = s->len++;
    s->t[i] = e->t;
    s->dt[i] = h;
    s->accepted[i] = accepted;
    s->error[i] = err;
    s->residual[i] = e->k0_info.residual;
    s->energy[i] = e->k0_info.estimate.energy;
    s->energy_error[i] = e->k0_info.estimate.energy_error;
    s->seconds[i] = seconds;
    return ARS_OK;
}

int ars_evolve_step(ars_evolve *e, double t_stop) {
    const ars_integrator_type *T = e->set.integrator;
    const int s = T->stages, adaptive = e->set.adaptive;
    const int fsal = adaptive && ars_integrator_fsal(T);
    const size_t P = e->P;
    ARS_ASSERT(t_stop > e->t, "t_stop %g <= t %g", t_stop, e->t);
    double t0 = ars_wtime();
    int rc = ARS_OK;
    /* The first step, or one resumed with a smaller dt_max, is capped too. */
    e->dt = e->dt > e->set.dt_max ? e->set.dt_max : e->dt;
    /* Reweighted stages need the samples of their step's first evaluation, which a resumed run
     * (its k0 from a checkpoint) does not hold: evaluate f(theta) again. */
    if (e->set.reweight && !e->have_ref) {
        e->have_k0 = 0;
    }
    if (!e->have_k0) {
        rc = evaluate(e, e->theta, e->k, &e->k0_info, 0);
        if (rc != ARS_OK) {
            goto fail;
        }
        e->have_k0 = 1;
    }
    for (;;) {
        /* Within a relative 1e-9 of t_stop the step ends exactly there. */
        const int to_stop = t_stop - e->t <= e->dt * (1.0 + 1e-9);
        const double h = to_stop ? t_stop - e->t : e->dt;
        const int cut = h < e->dt;
        ars_vmc_tdvp_info info = {0};
        e->min_ess = (double)e->vmc->set.n_samples;
        for (int i = 1; i < s; i++) {
            combine(e->y, e->theta, e->k, T->a + (size_t)i * (size_t)s, i, h, P);
            rc = evaluate(e, e->y, e->k + (size_t)i * P, &info, 1);
            if (rc != ARS_OK) {
                goto fail;
            }
        }
        combine(e->y, e->theta, e->k, T->b, s, h, P);
        double err = (double)NAN, dt_next = e->dt;
        int accepted = 1;
        if (adaptive) {
            if (fsal) {
                rc = evaluate(e, e->y, e->k + (size_t)s * P, &info, 1);
                if (rc != ARS_OK) {
                    goto fail;
                }
            }
            /* e = h sum_i e_i k_i over the stages (and f(y_new) with FSAL): combine from 0. */
            memset(e->err, 0, P * sizeof(double));
            combine(e->err, e->err, e->k, T->e, fsal ? s + 1 : s, h, P);
            err = ars_vmc_tdvp_norm(e->vmc, e->err);
            accepted = err <= e->set.tolerance;
            dt_next = ars_integrator_next_dt(T, h, err, e->set.tolerance);
            /* Reweighted stages far from the samples' state: too few samples carry the weight. */
            const int few = e->set.reweight &&
                            !(e->min_ess >= ARS_EVOLVE_MIN_ESS * (double)e->vmc->set.n_samples);
            if (few) {
                accepted = 0;
                dt_next = fmin(dt_next, 0.5 * h);
            }
            if (cut && accepted && dt_next < e->dt) {
                dt_next = e->dt; /* a step cut short says little about the step size */
            }
            dt_next = dt_next > e->set.dt_max ? e->set.dt_max : dt_next;
            if (!isfinite(err)) {
                rc = ARS_ERR(ARS_STATUS_ENONFINITE, "t = %.6g: the step's error is not finite",
                             e->t);
                goto fail;
            }
            if (!accepted && h <= e->set.dt_min && few) {
                rc = ARS_ERR(ARS_STATUS_ENONFINITE,
                             "t = %.6g: at the step size [evolve] dt_min = %g the reweighted "
                             "stages still carry an effective sample size of %.4g of %zu "
                             "samples (below half): the state moves too fast for reweighting; "
                             "set [evolve] reweight = false",
                             e->t, e->set.dt_min, e->min_ess, e->vmc->set.n_samples);
                goto fail;
            }
            if (!accepted && h <= e->set.dt_min) {
                rc = ARS_ERR(ARS_STATUS_ENONFINITE,
                             "t = %.6g: the step size fell to [evolve] dt_min = %g and its error "
                             "%.3g is still above the tolerance %g. The error includes the "
                             "Monte Carlo noise of the stages: raise [evolve] tolerance or "
                             "[sampler] n_samples (or diag_shift)",
                             e->t, e->set.dt_min, err, e->set.tolerance);
                goto fail;
            }
            dt_next = dt_next < e->set.dt_min ? e->set.dt_min : dt_next;
        }
        const double now = ars_wtime();
        if (log_step(e, h, accepted, err, now - t0) != ARS_OK) {
            rc = ARS_STATUS_ENOMEM;
            goto fail;
        }
        t0 = now;
        e->dt = dt_next;
        if (!accepted) {
            e->n_rejected++;
            continue;
        }
        e->n_accepted++;
        memcpy(e->theta, e->y, P * sizeof(double));
        e->t = to_stop ? t_stop : e->t + h;
        if (fsal && !e->set.common_samples && !e->set.reweight) {
            memcpy(e->k, e->k + (size_t)s * P, P * sizeof(double));
            e->k0_info = info;
        } else {
            e->have_k0 = 0;
        }
        ars_vmc_set_params(e->vmc, e->theta);
        return ARS_OK;
    }
fail:
    ars_vmc_set_params(e->vmc, e->theta);
    return rc;
}
