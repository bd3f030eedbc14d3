/*
 * stall: see stall.h for the two signs and their formulas.
 */
#include <assert.h>
#include <math.h>
#include <stddef.h>

#include "vmc/stall.h"

ars_stall_settings ars_stall_defaults(double rel_error, double distinct, double max_distinct) {
    return (ars_stall_settings){.window = 50,
                                .rel_error = rel_error,
                                .vscore = 0.05,
                                .distinct = distinct,
                                .max_distinct = max_distinct};
}

const char *ars_stall_name(ars_stall_kind kind) {
    static const char *const names[] = {"none", "plateau", "collapse"};
    assert(kind >= ARS_STALL_NONE && kind <= ARS_STALL_COLLAPSE);
    return names[kind];
}

/* Mean and sample variance of x[0..n). */
static void mean_var(const double *x, size_t n, double *mean, double *var) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        m += x[i];
    }
    m /= (double)n;
    double v = 0.0;
    for (size_t i = 0; i < n; i++) {
        v += (x[i] - m) * (x[i] - m);
    }
    *mean = m;
    *var = n > 1 ? v / (double)(n - 1) : 0.0;
}

ars_stall_kind ars_stall_check(const ars_vmc_log *log, double exact, const ars_stall_settings *s,
                               ars_stall_report *r) {
    assert(s->window >= 2);
    *r = (ars_stall_report){.kind = ARS_STALL_NONE, .gap = NAN};
    if (log->len == 0) {
        return ARS_STALL_NONE;
    }
    const size_t last = log->len - 1;
    r->iteration = log->iteration[last];
    if (s->distinct > 0.0 && log->distinct_fraction[last] < s->distinct * s->max_distinct) {
        r->kind = ARS_STALL_COLLAPSE;
        r->level = log->distinct_fraction[last];
        return r->kind;
    }
    const size_t h = (size_t)s->window / 2;
    if (log->len < 2 * (size_t)s->window) {
        return ARS_STALL_NONE;
    }
    const double *a = log->energy + log->len - 2 * h, *b = log->energy + log->len - h;
    double ma, va, mb, vb;
    mean_var(a, h, &ma, &va);
    mean_var(b, h, &mb, &vb);
    const int ref = isfinite(exact);
    const double *lvl = ref ? log->relative_error : log->vscore;
    double level = 0.0;
    for (size_t i = log->len - h; i < log->len; i++) {
        level += lvl[i];
    }
    level /= (double)h;
    const double threshold = ref ? s->rel_error : s->vscore;
    const double gap = ref ? mb - exact : 0.0;
    const double drop = ma - mb;
    const double se = sqrt(va / (double)h + vb / (double)h);
    if (threshold > 0.0 && isfinite(level) && level > threshold &&
        drop < fmax(3.0 * se, 0.05 * gap)) {
        r->kind = ARS_STALL_PLATEAU;
        r->level = level;
        r->drop = drop;
        r->gap = ref ? gap : (double)NAN;
    }
    return r->kind;
}

double ars_stall_final_ratio(const ars_vmc_log *log, int window, double final_variance) {
    const size_t w = window > 0 ? (size_t)window : 0;
    const size_t n = log->len < w ? log->len : w;
    if (n < 10) {
        return (double)NAN;
    }
    double mean = 0.0;
    for (size_t i = log->len - n; i < log->len; i++) {
        mean += log->energy_variance[i];
    }
    mean /= (double)n;
    return mean > 0.0 ? final_variance / mean : (double)NAN;
}
