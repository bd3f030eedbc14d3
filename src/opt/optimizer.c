/*
 * optimizer: the registry of optimizer types and what every optimizer shares (allocation,
 * step counting, schedules); the updates are in sgd.c, adam.c and spring.c.
 */
#include "opt/optimizer.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"

const char *const ars_opt_hyper_names[ARS_OPT_N_HYPER] = {"beta1", "beta2", "epsilon", "momentum"};

extern const ars_opt_type ars_opt_sgd_type;
extern const ars_opt_type ars_opt_adam_type;
extern const ars_opt_type ars_opt_spring_type;

/* Adding an optimizer: a file with its ars_opt_type, and one line here. */
const ars_opt_type *const ars_opt_types[] = {&ars_opt_sgd_type, &ars_opt_adam_type,
                                             &ars_opt_spring_type, NULL};
const ars_opt_type *const ars_opt_sgd = &ars_opt_sgd_type;
const ars_opt_type *const ars_opt_adam = &ars_opt_adam_type;
const ars_opt_type *const ars_opt_spring = &ars_opt_spring_type;

const ars_opt_type *ars_opt_type_find(const char *name) {
    for (int k = 0; ars_opt_types[k] != NULL; k++) {
        if (strcmp(ars_opt_types[k]->name, name) == 0) {
            return ars_opt_types[k];
        }
    }
    return NULL;
}

ars_opt *ars_opt_alloc(const ars_opt_type *type, size_t P, const double *hyper) {
    ARS_ASSERT(type->n_vectors >= 0 && type->n_vectors <= ARS_OPT_MAX_VECTORS, "%d vectors",
               type->n_vectors);
    ars_opt *o = calloc(1, sizeof *o);
    if (o == NULL) {
        return NULL;
    }
    o->type = type;
    o->P = P;
    memcpy(o->hyper, hyper, sizeof o->hyper);
    for (int k = 0; k < type->n_vectors; k++) {
        o->vec[k] = calloc(P > 0 ? P : 1, sizeof(double));
        if (o->vec[k] == NULL) {
            ars_opt_free(o);
            return NULL;
        }
    }
    return o;
}

void ars_opt_free(ars_opt *o) {
    if (o == NULL) {
        return;
    }
    for (int k = 0; k < ARS_OPT_MAX_VECTORS; k++) {
        free(o->vec[k]);
    }
    free(o);
}

void ars_opt_step(ars_opt *o, double *params, const double *x, double lr) {
    o->step++;
    o->type->update(o, params, x, lr);
}

double ars_opt_schedule(int exponential, double base, double decay, double min, long iteration) {
    if (!exponential) {
        return base;
    }
    double v = base * pow(decay, (double)iteration);
    return v > min ? v : min;
}
