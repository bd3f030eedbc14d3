/*
 * sgd: plain steps along the direction, theta -= lr x. No state.
 */
#include "opt/optimizer.h"

static void sgd_update(ars_opt *o, double *params, const double *x, double lr) {
    for (size_t k = 0; k < o->P; k++) {
        params[k] -= lr * x[k];
    }
}

const ars_opt_type ars_opt_sgd_type = {"sgd", 0u, 0, NULL, sgd_update, NULL};
