/*
 * adam: bias-corrected first and second moments of the direction (Kingma & Ba 2015):
 *   m = b1 m + (1 - b1) x,  v = b2 v + (1 - b2) x^2,
 *   theta -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)   at update t = 1, 2, ...
 * State: the vectors m and v (P each).
 */
#include "opt/optimizer.h"

#include <math.h>

static const ars_opt_vector adam_vectors[2] = {{"m", NULL},
                                               {"v", "Adam's second moments are >= 0"}};

static void adam_update(ars_opt *o, double *params, const double *x, double lr) {
    const double b1 = o->hyper[ARS_OPT_BETA1], b2 = o->hyper[ARS_OPT_BETA2];
    const double eps = o->hyper[ARS_OPT_EPSILON];
    double *m = o->vec[0], *v = o->vec[1];
    const double c1 = 1.0 - pow(b1, (double)o->step);
    const double c2 = 1.0 - pow(b2, (double)o->step);
    for (size_t k = 0; k < o->P; k++) {
        m[k] = b1 * m[k] + (1.0 - b1) * x[k];
        v[k] = b2 * v[k] + (1.0 - b2) * x[k] * x[k];
        params[k] -= lr * (m[k] / c1) / (sqrt(v[k] / c2) + eps);
    }
}

const ars_opt_type ars_opt_adam_type = {
    "adam",      (1u << ARS_OPT_BETA1) | (1u << ARS_OPT_BETA2) | (1u << ARS_OPT_EPSILON),
    2,           adam_vectors,
    adam_update, NULL};
