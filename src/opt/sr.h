/*
 * sr: the update direction x (P) of a VMC step from the samples' local energies and per-sample
 * gradients.
 *
 * With n samples s_b, local energies E_b (mean E) and per-sample gradients O[k, b] =
 * d log psi(s_b) / d theta_k (P x n, parameter-major), centred Oc = O - mean_b O:
 *   energy gradient        F_k = (2/n) sum_b Oc[k, b] (E_b - E)
 *   S matrix               S = Oc Oc^T / n                     (P x P)
 *   stochastic reconfiguration (natural gradient): x = (S + diag_shift I)^-1 F, by Cholesky,
 *   in parameter space when n >= P, else in sample space through the push-through identity
 *   x = Y^T (Y Y^T + diag_shift I)^-1 eps, Y = Oc^T / sqrt(n) (n x P), eps = 2 (E - E) / sqrt(n),
 *   which needs the n x n matrix only.
 *   x minimises |Y x - eps|^2 + diag_shift |x|^2. With a prior p (SPRING, spring.c) it
 *   minimises |Y x - eps|^2 + diag_shift |x - p|^2 instead:
 *     parameter space  (S + diag_shift I) x = F + diag_shift p,
 *     sample space     x = p + Y^T (Y Y^T + diag_shift I)^-1 (eps - Y p).
 * The optimizer (optimizer.h) then turns x into a parameter update.
 *
 * The spectral regularisation (ars_sr_set_snr; the TDVP's `regularization = snr`, Schmitt &
 * Heyl, PRL 125, 100503 (2020)) replaces the Cholesky: with S = sum_k lambda_k v_k v_k^T and
 * the per-sample forces f_b = 2 Oc[:, b] (E_b - E) (mean F), each eigendirection's force
 * rho_k = v_k^T F gets the signal-to-noise ratio SNR_k = |rho_k| / sqrt(Var_b(v_k^T f_b) / n),
 * and
 *   x = sum_k v_k rho_k r_k / (lambda_k + diag_shift),
 *   r_k = 1 / (1 + (pinv_tolerance lambda_max / lambda_k)^6) * 1 / (1 + (snr_tolerance /
 *         SNR_k)^6),   r_k = 0 for lambda_k <= 1e-14 lambda_max:
 * directions whose force is below its Monte Carlo noise, or whose curvature is negligible, are
 * dropped smoothly instead of all being damped by one shift. In sample space the eigenpairs
 * (lambda_k, u_k) of T = Oc^T Oc / n give v_k = Oc u_k / sqrt(n lambda_k), v_k^T f_b
 * = sqrt(n lambda_k) u_k[b] n eps_b, and x = Oc U diag(r_k / (lambda_k + shift)) U^T eps.
 *
 * Every product is split into fixed blocks computed by single-threaded BLAS (possibly on
 * several threads), and the Cholesky and the eigensolver (LAPACK dsyevr) are serial, so
 * results are the same bits for every thread count. The bits are those of the BLAS kernels
 * OpenBLAS picks for the CPU (core/ars_common.h, ars_blas_config).
 */
#ifndef ARS_SR_H
#define ARS_SR_H

#include <stddef.h>

#include "core/comm.h"

/* Scratch of the SR solve for n samples and P parameters (allocated once). */
typedef struct ars_sr {
    size_t P, n;
    int sample_space; /* n < P */
    double *mat;      /* (m x m), m = n or P */
    double *rhs;      /* (m) */
    double *yp;       /* (n) Oc^T prior, sample space */
    /* ars_sr_set_float32: the Gram matrix's products from a float32 copy of Oc (accumulated and
     * stored in float32 per block, then scaled into float64); NULL: float64 throughout. */
    float *o32;       /* (P x n) */
    float *tile32;    /* (tile32_slots x 512^2) a block's float32 products, per thread */
    int tile32_slots; /* the threads the Gram matrix then runs on: omp_get_max_threads() when set */
    /* Ranks sharing the Gram matrix (NULL: this process alone). Each computes its share of the
     * blocks; the blocks are exchanged whole, so every rank ends with the same bits. */
    const ars_comm *comm;
    double *exch;      /* (about m (m + block) / 2) the exchanged blocks, with comm */
    int *tile_owner;   /* (blocks) */
    size_t *rank_work; /* (3 ranks) block load, count and position per rank */
    /* The spectral regularisation (above), when snr is set by ars_sr_set_snr. */
    int snr;
    double snr_tolerance, pinv_tolerance;
    double *eig;  /* (m) eigenvalues, ascending */
    double *vecs; /* (m x m) eigenvectors, row k the k-th */
    double *work; /* dsyevr's workspaces */
    int *iwork, *isuppz;
    int lwork, liwork;
    double *proj;  /* (P x SR_SNR_BLOCK) eigenvector projections of a block of samples */
    double *noise; /* (m) the variance of each direction's per-sample force */
    /* Wall seconds of the last ars_sr_direction: build (centring, gradient, Gram matrix) and
     * solve (Cholesky and the products after it); for the training benchmark. */
    double seconds_build, seconds_solve;
    /* x^T S x of the last direction x (the block-sum after ars_sr_direction_split): the mean
     * square over the samples of the centred change of log psi along x, so that a step theta
     * -= lr x moves the state by lr sqrt(x^T S x) in the Fubini-Study metric (to first order).
     * In sample space from the solve's own vectors, n (eps - shift z) = Oc^T x; otherwise from
     * one pass over Oc, which skip_metric (0 at allocation) turns off: then NaN, as when the
     * solve failed. */
    double step_metric;
    int skip_metric;
    /* Sample weights w (n, summing to 1; NULL, the default: 1/n each), set by the caller for
     * importance-weighted samples (the TDVP's reweighted stages, vmc.h). The means become
     * weighted, <X> = sum_b w_b X_b, so S = sum_b w_b Oc_b Oc_b^T and F = 2 sum_b w_b Oc_b (E_b
     * - E) with E the caller's weighted mean: column b of Oc and eps are scaled by sqrt(n w_b)
     * and every product above is unchanged. Not owned. */
    const double *weights;
    double *wscale; /* (n) sqrt(n w_b) of the last direction with weights */
} ars_sr;

ars_sr *ars_sr_alloc(size_t P, size_t n);

/* Shares the Gram matrix's work with the ranks of comm (allocates the exchange buffer once).
 * ARS_OK or ARS_STATUS_ENOMEM. */
int ars_sr_share(ars_sr *sr, const ars_comm *comm);
void ars_sr_free(ars_sr *sr);

/* The Gram matrix (S or T) from float32 products: twice the rate of float64 products on x86-64,
 * at a relative error of about 1e-7 sqrt(P or n) per entry. The centring sums in float64 and
 * writes the centred O once, as float32; the gradient F = Oc eps, x = Oc z, Oc^T p and x^T S x
 * then read that copy (each sum in float64); the Cholesky stays float64 (docs/performance.md
 * states the measured effect on the directions and on training). Allocates the float32 copy of
 * O (P x n) once, and a 512 x 512 float32 block per thread for omp_get_max_threads() threads
 * (the Gram matrix then runs on that many).
 * ARS_OK or ARS_STATUS_ENOMEM. */
int ars_sr_set_float32(ars_sr *sr);

/* Switches the solve to the spectral regularisation above (snr_tolerance >= 0, pinv_tolerance
 * >= 0) and allocates its workspaces. ARS_OK or ARS_STATUS_ENOMEM. Without a prior only. */
int ars_sr_set_snr(ars_sr *sr, double snr_tolerance, double pinv_tolerance);

/* The update direction x (P): the energy gradient F, or with use_sr the natural gradient,
 * drawn toward prior (P) when it is not NULL (use_sr only). O (P x n, ld n) is centred IN
 * PLACE, except with float32 products and use_sr, where O is left as it was. grad_norm
 * receives |F|. Returns ARS_OK, or ARS_STATUS_ENONFINITE if the S matrix is
 * not positive definite (diag_shift too small for the samples) or F is not finite. */
int ars_sr_direction(ars_sr *sr, double *x, double *grad_norm, double *O, const double *eloc,
                     double eloc_mean, double diag_shift, int use_sr, const double *prior);

/* The direction for a complex log psi (vmc.h) whose first sr->P parameters are the modulus's
 * (O real) and the next sr_phase->P the phase's (O = i g, g real): O ((sr->P + sr_phase->P) x n)
 * holds O then g. S_kl = Re <(O_k - <O_k>)^* (O_l - <O_l>)> has no modulus-phase block
 * (Re(O_k i g_l) = 0), and F_k = 2 Re <(E_loc - E)^* O_k> is 2 <(Re E_loc - E) O_k>_c for the
 * modulus and 2 <Im E_loc g_k>_c for the phase, so each block is ars_sr_direction with its
 * own part of E_loc (eloc with mean eloc_mean, eloc_im with mean eloc_im_mean), each in
 * parameter or sample space as its size says, each with its part of prior (or NULL). grad_norm
 * receives |F|; the seconds are the two blocks' sums. */
int ars_sr_direction_split(ars_sr *sr, ars_sr *sr_phase, double *x, double *grad_norm, double *O,
                           const double *eloc, const double *eloc_im, double eloc_mean,
                           double eloc_im_mean, double diag_shift, int use_sr, const double *prior);

#endif
