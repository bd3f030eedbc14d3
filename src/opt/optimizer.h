/*
 * optimizer: parameter updates theta -= lr * update(x) from an update direction x (P) (the
 * gradient or the natural gradient, sr.h), as types in GSL's `_type` pattern: each optimizer
 * is a const ars_opt_type (its name, the hyperparameters it reads and its named state vectors)
 * in a file of its own, listed once in ars_opt_types (optimizer.c).
 *
 *   sgd   theta -= lr x                                   (no state)
 *   adam  m = b1 m + (1 - b1) x,  v = b2 v + (1 - b2) x^2,
 *         theta -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)   (Kingma & Ba 2015)
 *   spring theta -= lr x, where SR drew x toward momentum times the last x   (spring.c)
 *
 * What an optimizer holds besides its hyperparameters -- the step count and its state vectors,
 * each of length P -- is all that checkpoints save (/optimizer/NAME), a rejected step restores
 * and MPI ranks share; they handle it through the type's vector table without knowing the type.
 */
#ifndef ARS_OPTIMIZER_H
#define ARS_OPTIMIZER_H

#include <stddef.h>

/* The optimizers' hyperparameters: [vmc] config keys and /optimizer attributes. Each type reads
 * the ones in its hyper_mask; all are recorded. */
typedef enum ars_opt_hyper {
    ARS_OPT_BETA1 = 0,
    ARS_OPT_BETA2,
    ARS_OPT_EPSILON,
    ARS_OPT_MOMENTUM,
    ARS_OPT_N_HYPER,
} ars_opt_hyper;

/* Names of the hyperparameters ("beta1", "beta2", "epsilon", "momentum"), indexed by
 * ars_opt_hyper. */
extern const char *const ars_opt_hyper_names[ARS_OPT_N_HYPER];

#define ARS_OPT_MAX_VECTORS 4

/* A named state vector of length P. */
typedef struct ars_opt_vector {
    const char *name;
    /* NULL: any finite value; else every value must be >= 0, and this says why in the message
     * that refuses a damaged checkpoint ("Adam's second moments are >= 0"). */
    const char *nonnegative;
} ars_opt_vector;

typedef struct ars_opt ars_opt;

typedef struct ars_opt_type {
    const char *name;    /* the [vmc] optimizer value */
    unsigned hyper_mask; /* bit h: reads hyper[h] */
    int n_vectors;
    const ars_opt_vector *vectors;
    /* One update of params (P) with direction x and step size lr; o->step is already the
     * number of this update (1, 2, ...). */
    void (*update)(ars_opt *o, double *params, const double *x, double lr);
    /* NULL: the direction is plain SR's. Else the type needs SR and writes its prior p (P):
     * SR then solves min |Y x - eps|^2 + diag_shift |x - p|^2 instead (sr.h). */
    void (*prior)(const ars_opt *o, double *p);
} ars_opt_type;

/* Every optimizer in config order, NULL-terminated. */
extern const ars_opt_type *const ars_opt_types[];
extern const ars_opt_type *const ars_opt_sgd;
extern const ars_opt_type *const ars_opt_adam;
extern const ars_opt_type *const ars_opt_spring;

/* The type named `name`, or NULL. */
const ars_opt_type *ars_opt_type_find(const char *name);

/* Whether type t reads hyperparameter h (its hyper_mask). */
static inline int ars_opt_type_reads(const ars_opt_type *t, ars_opt_hyper h) {
    return (t->hyper_mask & (1u << h)) != 0;
}

struct ars_opt {
    const ars_opt_type *type;
    size_t P;
    double hyper[ARS_OPT_N_HYPER];
    double *vec[ARS_OPT_MAX_VECTORS]; /* (P) each: the type's state vectors, zero at first */
    long step;                        /* updates applied so far */
};

/* An optimizer of `type` for P parameters with hyperparameters hyper (ARS_OPT_N_HYPER values).
 * NULL on allocation failure. */
ars_opt *ars_opt_alloc(const ars_opt_type *type, size_t P, const double *hyper);
void ars_opt_free(ars_opt *o);

/* One update: step++, then the type's update. */
void ars_opt_step(ars_opt *o, double *params, const double *x, double lr);

/* base * decay^iteration, not below min (decay = 1: constant). */
double ars_opt_schedule(int exponential, double base, double decay, double min, long iteration);

#endif
