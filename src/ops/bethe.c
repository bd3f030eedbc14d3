/*
 * bethe: the Heisenberg chain's Bethe equations solved by Newton's method; the equations are in
 * bethe.h.
 */
#include "ops/bethe.h"

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_permutation.h>
#include <gsl/gsl_vector.h>

#include "core/ars_common.h"

#define PI 3.14159265358979323846
#define BETHE_MAX_NEWTON 200

/* The residuals F_j (zero at a solution) and, when jac != NULL, their Jacobian dF_j/dlambda_k. */
static double bethe_residual(int N, int M, int pbc, const double *lam, const double *I, double *F,
                             gsl_matrix *jac) {
    const double a = pbc ? 2.0 * N : 4.0 * N; /* coefficient of atan(2 lambda_j) */
    double worst = 0.0;
    for (int j = 0; j < M; j++) {
        double f = a * atan(2.0 * lam[j]) - 2.0 * PI * I[j];
        double diag = 2.0 * a / (1.0 + 4.0 * lam[j] * lam[j]);
        for (int k = 0; k < M; k++) {
            if (k == j) {
                continue;
            }
            const double d = lam[j] - lam[k], s = lam[j] + lam[k];
            const double wd = 2.0 / (1.0 + d * d), ws = 2.0 / (1.0 + s * s);
            f -= 2.0 * atan(d);
            diag -= wd;
            double off = wd;
            if (!pbc) {
                f -= 2.0 * atan(s);
                diag -= ws;
                off -= ws;
            }
            if (jac != NULL) {
                gsl_matrix_set(jac, j, k, off);
            }
        }
        if (jac != NULL) {
            gsl_matrix_set(jac, j, j, diag);
        }
        F[j] = f;
        worst = fmax(worst, fabs(f));
    }
    return worst;
}

double ars_bethe_xxx(int N, int M, int pbc) {
    ARS_ASSERT(N >= 2 && M >= 0 && 2 * M <= N && (!pbc || N >= 3), "N %d M %d", N, M);
    const int bonds = pbc ? N : N - 1;
    if (M == 0) {
        return bonds;
    }
    if (N > ARS_BETHE_MAX_SITES) {
        ARS_ERR(ARS_STATUS_ECONFIG, "Bethe ansatz: %d sites is more than the solver takes (%d)", N,
                ARS_BETHE_MAX_SITES);
        return NAN;
    }
    double *buf = malloc(5 * (size_t)M * sizeof *buf);
    gsl_matrix *jac = gsl_matrix_alloc(M, M);
    gsl_permutation *perm = gsl_permutation_alloc(M);
    if (buf == NULL || jac == NULL || perm == NULL) {
        free(buf);
        gsl_matrix_free(jac);
        gsl_permutation_free(perm);
        ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the Bethe equations of %d sites", N);
        return NAN;
    }
    double *lam = buf, *I = buf + M, *F = buf + 2 * M, *step = buf + 3 * M, *trial = buf + 4 * M;
    for (int j = 0; j < M; j++) {
        /* Ground-state quantum numbers (bethe.h) and the free magnons' rapidities. */
        I[j] = pbc ? j - 0.5 * (M - 1) + 0.5 * (N % 2) : j + 1.0;
        lam[j] = 0.5 * tan(PI * I[j] / (pbc ? N : 2.0 * N + 2.0));
    }
    const double tol = 1e-12 * N;
    double res = bethe_residual(N, M, pbc, lam, I, F, jac);
    int it = 0;
    for (; it < BETHE_MAX_NEWTON && res > tol; it++) {
        int sgn = 0;
        gsl_vector_view Fv = gsl_vector_view_array(F, M), sv = gsl_vector_view_array(step, M);
        if (gsl_linalg_LU_decomp(jac, perm, &sgn) != 0 ||
            gsl_linalg_LU_solve(jac, perm, &Fv.vector, &sv.vector) != 0) {
            break;
        }
        /* Halve the step until the residual falls (the Jacobian is rebuilt at the new point). */
        double t = 1.0, next = INFINITY;
        for (int h = 0; h < 40; h++, t *= 0.5) {
            for (int j = 0; j < M; j++) {
                trial[j] = lam[j] - t * step[j];
            }
            next = bethe_residual(N, M, pbc, trial, I, F, NULL);
            if (next < res) {
                break;
            }
        }
        if (!(next < res)) {
            break;
        }
        for (int j = 0; j < M; j++) {
            lam[j] = trial[j];
        }
        res = bethe_residual(N, M, pbc, lam, I, F, jac);
    }
    double e = NAN;
    if (res <= tol) {
        double sum = 0.0;
        for (int j = 0; j < M; j++) {
            sum += 1.0 / (1.0 + 4.0 * lam[j] * lam[j]);
        }
        e = bonds - 8.0 * sum;
    } else {
        ARS_ERR(ARS_STATUS_ECONFIG,
                "Bethe ansatz: Newton did not converge for %d sites, %d down spins (residual %g)",
                N, M, res);
    }
    free(buf);
    gsl_matrix_free(jac);
    gsl_permutation_free(perm);
    return e;
}
