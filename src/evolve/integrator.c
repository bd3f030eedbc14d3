/*
 * integrator: the Butcher tableaux and the step-size controller (integrator.h).
 */
#include "evolve/integrator.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* The controller's safety factor and bounds on the change of step size. */
#define SAFETY 0.9
#define FAC_MIN 0.2
#define FAC_MAX 5.0

static const double euler_a[] = {0.0};
static const double euler_b[] = {1.0};
static const double euler_c[] = {0.0};
static const double euler_e[] = {0.5, -0.5};
static const ars_integrator_type euler = {"euler", 1, 1, 1, euler_a, euler_b, euler_c, euler_e};

static const double heun_a[] = {0.0, 0.0, 1.0, 0.0};
static const double heun_b[] = {0.5, 0.5};
static const double heun_c[] = {0.0, 1.0};
static const double heun_e[] = {-0.5, 0.5, 0.0};
static const ars_integrator_type heun = {"heun", 2, 1, 2, heun_a, heun_b, heun_c, heun_e};

static const double rk4_a[] = {0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0,
                               0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0};
static const double rk4_b[] = {1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0};
static const double rk4_c[] = {0.0, 0.5, 0.5, 1.0};
static const double rk4_e[] = {0.0, 0.0, 0.0, 1.0 / 6.0, -1.0 / 6.0};
static const ars_integrator_type rk4 = {"rk4", 4, 3, 4, rk4_a, rk4_b, rk4_c, rk4_e};

const ars_integrator_type *const ars_integrator_types[] = {&euler, &heun, &rk4, NULL};

const ars_integrator_type *ars_integrator_type_find(const char *name) {
    for (int i = 0; ars_integrator_types[i] != NULL; i++) {
        if (strcmp(ars_integrator_types[i]->name, name) == 0) {
            return ars_integrator_types[i];
        }
    }
    return NULL;
}

int ars_integrator_fsal(const ars_integrator_type *T) {
    return T->e[T->stages] != 0.0;
}

double ars_integrator_next_dt(const ars_integrator_type *T, double h, double err, double tol) {
    double fac = FAC_MAX;
    if (err > 0.0) {
        fac = SAFETY * pow(tol / err, 1.0 / (T->err_order + 1));
        fac = fac < FAC_MIN ? FAC_MIN : (fac > FAC_MAX ? FAC_MAX : fac);
    }
    return h * fac;
}
