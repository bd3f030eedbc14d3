/*
 * integrator: explicit Runge-Kutta steps for y' = f(y) (the TDVP equation, evolve.h), as types
 * in GSL's `_type` pattern: each is a const ars_integrator_type (its Butcher tableau and error
 * weights) listed once in ars_integrator_types.
 *
 * A step of size h from y with s stages:
 *   k_i = f(y + h sum_{j<i} a[i][j] k_j)    (i = 0..s-1, a strictly lower triangular)
 *   y_new = y + h sum_i b[i] k_i
 * and its error estimate, the difference to an embedded lower-order solution,
 *   e = h (sum_i e[i] k_i + e[s] f(y_new)).
 * When e[s] != 0 the estimate needs f at the new point ("first same as last"): an accepted
 * step's f(y_new) is the next step's k_0, so it costs nothing extra.
 *
 *   euler  order 1, s = 1; e = y_euler - y_heun = h (k_0 - f(y_new)) / 2      (FSAL)
 *   heun   order 2, s = 2 (explicit trapezoid); e = y_heun - y_euler = h (k_1 - k_0) / 2
 *   rk4    the classical order 4, s = 4; e = y_rk4 - y_3 = h (k_3 - f(y_new)) / 6, where y_3
 *          uses the weights (1/6, 1/3, 1/3, 0, 1/6) over (k_0..k_3, f(y_new)): order 3 (FSAL)
 * The estimate is of order err_order + 1 in h: 2, 2 and 4.
 *
 * Step-size control (Hairer, Norsett & Wanner I, II.4): a step is accepted when its error norm
 * is at most the tolerance, and the next step is
 *   h_next = h min(FAC_MAX, max(FAC_MIN, SAFETY (tol / err)^(1 / (err_order + 1)))).
 */
#ifndef ARS_INTEGRATOR_H
#define ARS_INTEGRATOR_H

#define ARS_INTEGRATOR_MAX_STAGES 4

typedef struct ars_integrator_type {
    const char *name; /* the [evolve] integrator value */
    int order;        /* of y_new */
    int err_order;    /* of the embedded solution: e = O(h^(err_order + 1)) */
    int stages;       /* s */
    const double *a;  /* (s, s) row-major, strictly lower triangular */
    const double *b;  /* (s) */
    const double *c;  /* (s) nodes: stage i is at time t + c[i] h */
    const double *e;  /* (s + 1) error weights; e[s] multiplies f(y_new) */
} ars_integrator_type;

/* Every integrator in config order, NULL-terminated. */
extern const ars_integrator_type *const ars_integrator_types[];

/* The type named `name`, or NULL. */
const ars_integrator_type *ars_integrator_type_find(const char *name);

/* Whether the error estimate needs f(y_new) (e[s] != 0). */
int ars_integrator_fsal(const ars_integrator_type *T);

/* The next step size after a step of size h whose error norm was err, for tolerance tol (the
 * controller above; err = 0 gives the largest growth). */
double ars_integrator_next_dt(const ars_integrator_type *T, double h, double err, double tol);

#endif
