/*
 * spring: SPRING (Goldshlager, Abrahamsen and Lin, J. Comput. Phys. 516, 113351 (2024),
 * arXiv:2401.10190), stochastic reconfiguration whose regulariser pulls the direction toward
 * the last one, decayed by mu = momentum (Y, eps as in sr.h):
 *   x_t = argmin_x |Y x - eps|^2 + diag_shift |x - mu x_{t-1}|^2
 *       = mu x_{t-1} + Y^T (Y Y^T + diag_shift)^-1 (eps - mu Y x_{t-1}),
 *   theta -= lr x_t.
 * Where this step's samples determine x, the data win; in the directions they leave free (all
 * but n of them when n < P) the last direction carries on, decayed by mu: a momentum that the
 * samples project, not a sum of noisy steps. mu = 0 is SR with sgd.
 * State: the last direction x_{t-1} (P).
 */
#include "opt/optimizer.h"

#include <string.h>

static const ars_opt_vector spring_vectors[1] = {{"direction", NULL}};

static void spring_update(ars_opt *o, double *params, const double *x, double lr) {
    for (size_t k = 0; k < o->P; k++) {
        params[k] -= lr * x[k];
    }
    memcpy(o->vec[0], x, o->P * sizeof(double));
}

static void spring_prior(const ars_opt *o, double *p) {
    const double mu = o->hyper[ARS_OPT_MOMENTUM];
    for (size_t k = 0; k < o->P; k++) {
        p[k] = mu * o->vec[0][k];
    }
}

const ars_opt_type ars_opt_spring_type = {"spring",       1u << ARS_OPT_MOMENTUM, 1,
                                          spring_vectors, spring_update,          spring_prior};
