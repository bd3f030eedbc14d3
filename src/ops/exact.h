/*
 * exact: exact ground-state energies of any operator (ops/operator.h), as references for
 * variational Monte Carlo, and the free-fermion energies of the transverse-field Ising chain.
 * Conventions in docs/hamiltonians.md.
 *
 * Transverse-field Ising, free fermions. H = -J sum sz_i sz_{i+1} - h sum sx_i maps (rotate
 * sz <-> sx, Jordan-Wigner) onto Majorana fermions, H = i sum_{jk} a_j M_jk b_k, whose ground
 * state energy is minus the sum of the singular values of M.
 *  - pbc: the ground state lies in the even-parity (prod sx = +1) sector, where the fermions are
 *    antiperiodic: k_n = (2n+1) pi / N, n = 0..N-1, singular values |h - J e^{i k_n}|, so
 *      E0 = -sum_n sqrt(J^2 + h^2 - 2 J h cos k_n).
 *    (N = 32, J = h = 1: -2 / sin(pi/64) = -40.7600324942.) The signs do not matter (prod sz
 *    maps h to -h; for even N, sz on every other site maps J to -J), so |J| and |h| are used,
 *    except on the frustrated ring (odd N, J < 0), whose ground state lies elsewhere: there the
 *    function returns NaN (use ars_exact_lanczos). Checked against dense diagonalisation for
 *    N = 5..12 and couplings of both signs (tests/test_exact.c).
 *  - obc: M is the N x N bidiagonal matrix M_nn = h, M_{n,n+1} = J. Its singular values are the
 *    positive eigenvalues of the 2N x 2N symmetric Bogoliubov-de Gennes matrix [[0, M], [M^T, 0]]
 *    (eigenvalues +-sigma, computed with gsl_eigen_symm to absolute accuracy eps |M|, unlike the
 *    square roots of eig(M^T M)), so E0 = -(1/2) sum |eigenvalues|.
 *
 * The spaces (any operator, any spin): a configuration s (local indices s_t = 0..D-1, D = 2S+1,
 * value m_t = s_t - S) has the index x = sum_t s_t D^t. When the operator conserves total S^z
 * (ars_op_conserves_sz) Lanczos and dense diagonalisation work sector by sector: the sector of
 * total S^z = two_m/2 holds the configurations with digit sum n = (two_m + L 2S)/2, in
 * increasing x (for spin 1/2 the masks with n up spins, in the order arsampler has always used).
 * The rank of x = hi D^h + lo (h = L/2 low sites) is high_off[hi] + low_rank[lo], two tables of
 * D^(L-h) and D^h entries: low_rank[lo] counts the smaller lo' of the same digit sum, high_off[hi]
 * the sector's states with a smaller high part. Without conservation they work in the full D^L
 * space, rank = x, except for a spin-1/2 operator that commutes with the global flip P = prod X
 * (ars_op_commutes_with_flip, as tfim does): then in its two parity blocks, in the basis
 * (|x> + p |Px>)/sqrt(2) of the representatives x < 2^(L-1) (site L-1 down), p = +-1. Besides
 * halving the space, that splits the near-degenerate pair of an ordered Ising chain, which
 * Lanczos in the full space resolves slowly (the long-range Ising chain of 20 sites: 128 s in
 * the full space, 8 s in the blocks). "Every sector" (ARS_EXACT_ANY_SECTOR) means the lowest
 * eigenvalue of the whole operator: the minimum over all sectors, smallest |S^z| first (S^z >= 0
 * only when the operator commutes with the global flip, ars_op_commutes_with_flip), or the full
 * space.
 *
 * The elements are the operator's own (ars_op_apply), without the Marshall sign: that sign is a
 * diagonal unitary S of the wavefunction (S H S has the same spectrum), so the solvers see only
 * the operator.
 *
 * Lanczos: matrix-free restarted Lanczos. H x is applied row by row, y[r] = diag[r] x[r] +
 * sum_connections H(r, r') x[r'], from a sparse matrix of the off-diagonal part built once per
 * space (the connections are enumerated at each product when it does not fit in memory). The
 * Krylov basis is kept and fully reorthogonalised (classical Gram-Schmidt, a second pass when
 * the first removed more than half of the norm); after m steps (m <= 50, fewer for large spaces
 * so that the basis stays under 256 MiB, at least 12) the tridiagonal matrix is diagonalised
 * (gsl_eigen_symmv) and Lanczos restarts from the lowest Ritz vector, until the residual
 * |H x - theta x| = beta_m |y_m| is at most tol max(1, |theta|) (then |theta - E0| is about
 * residual^2 / gap). Measured on an AMD EPYC Zen 5 core: docs/hamiltonians.md.
 *
 * Dense diagonalisation (independent check of Lanczos, small spaces): the same blocks (sectors,
 * parity blocks or the full space), each by LAPACK dsyevd (OpenBLAS): GSL's unblocked symmetric
 * solver takes 3.5 s for one 2048 block, dsyevd 0.2 s.
 *
 * Everything here runs on the calling thread (OpenBLAS included: the thread count is set to 1
 * for the call and restored): a thread team costs more than it gains at these sizes, and
 * seconds on a loaded machine.
 */
#ifndef ARS_EXACT_H
#define ARS_EXACT_H

#include <limits.h>
#include <stddef.h>

#include "ops/operator.h"

/* two_m of ars_exact_lanczos: the lowest eigenvalue over every sector (or the full space). */
#define ARS_EXACT_ANY_SECTOR INT_MIN
/* Most states of one space Lanczos works in (spin 1/2: 24 sites; spin 1: 15 sites). */
#define ARS_EXACT_LANCZOS_MAX_STATES ((size_t)1 << 24)
/* Most states of one block of dense diagonalisation. */
#define ARS_EXACT_DENSE_MAX_STATES ((size_t)4096)

/* What a solver found: the energy and where. */
typedef struct ars_exact_result {
    double energy;
    int in_sector; /* 1: the energy is that of the sector two_m; 0: of the full space (or of
                    * its parity blocks) */
    int two_m;
    size_t states; /* the states of every space diagonalised, summed */
} ars_exact_result;

/* TFIM ground-state energy by free fermions (formulas above), N >= 2 (pbc: N >= 3); NaN for
 * pbc with odd N and J < 0, and (with a message) when the 2N x 2N matrix of an open chain does
 * not fit in memory: the reference is then unknown, the run goes on. */
double ars_exact_tfim(int N, double J, double h, int pbc);

/* The ground-state energy of the spin-1/2 XX chain with a uniform Dzyaloshinskii-Moriya term and
 * a field, in Pauli units (hamiltonian.h's xxz with Delta = 0):
 *   H = J sum_nn (X X + Y Y) + dm sum_nn (X_i Y_j - Y_i X_j) - hz sum Z
 *     = 2 J' sum_nn (e^{i a} s+_i s-_j + h.c.) - hz sum (2 n_i - 1),  J' = sqrt(J^2 + dm^2),
 *                                                                       a = atan2(dm, J),
 * by Jordan-Wigner fermions (n_i = up spins) with n_up = n particles (n < 0: the lowest over
 * every n). Open chain: the gauge c_j -> e^{-i a j} c_j removes the phase, levels
 * 4 J' cos(pi m / (N + 1)) - 2 hz, m = 1..N. Ring: the gauge leaves the twist N a, and the
 * wrap bond makes the fermions periodic for odd n and antiperiodic for even n: levels
 * 4 J' cos(k + a) - 2 hz, k = (2 pi m + (n even ? pi : 0)) / N, m = 0..N-1. The energy of n
 * particles is the sum of the n lowest levels plus hz N. Checked against Lanczos of the
 * operator (tests/test_exact.c). */
double ars_exact_xx_dm(int N, double J, double dm, double hz, int pbc, int n);

/* The ground-state energy of the spin-1/2 XY chain in a field, in Pauli units (hamiltonian.h's
 * xxz with Delta = 0 and gamma):
 *   H = J sum_nn ((1 + gamma) X X + (1 - gamma) Y Y) - hz sum Z
 *     = sum_nn [2 J (c+_i c_j + h.c.) + 2 J gamma (c+_i c+_j + h.c.)] - hz sum (2 n_i - 1)
 * by Jordan-Wigner fermions (Lieb, Schultz and Mattis 1961). Open chain: with A the hopping and
 * chemical-potential matrix and B the antisymmetric pairing matrix, E0 = -(1/2) sum_k Lambda_k,
 * Lambda_k the singular values of A - B (the positive eigenvalues of [[0, A-B], [(A-B)^T, 0]],
 * gsl_eigen_symm). Ring: the wrap bond makes the fermions antiperiodic in the even-parity sector
 * (k = (2m+1) pi / N) and periodic in the odd one (k = 2 pi m / N); the pairs (k, -k) have
 * Lambda_k = sqrt((4 J cos k - 2 hz)^2 + (4 J gamma sin k)^2) and vacuum energy
 * a_k - Lambda_k (a_k = 4 J cos k - 2 hz), the unpaired k = 0, pi the energy a_k when occupied;
 * each sector's lowest state of its parity (a quasiparticle or an unpaired mode added where the
 * vacuum has the wrong one), plus hz N, and E0 the lower sector. gamma = 1, J -> -J/2 is the
 * transverse-field Ising chain. Checked against Lanczos and dense diagonalisation for N = 3..10,
 * open and periodic, couplings of both signs, and against ars_exact_tfim (tests/test_exact.c). */
double ars_exact_xy(int N, double J, double gamma, double hz, int pbc);

/* The states ars_exact_lanczos would work through for two_m (summed over the spaces), and the
 * largest single space into *largest (may be NULL); 0 if two_m is not a sector of op. */
size_t ars_exact_lanczos_states(const ars_op *op, int two_m, size_t *largest);

/* Lowest eigenvalue of op by restarted Lanczos, in the sector of total S^z = two_m/2 or over
 * every sector (ARS_EXACT_ANY_SECTOR). max_iter bounds the number of H applications per space;
 * tol the relative residual (1e-10 is a good value). Returns ARS_OK; ARS_STATUS_ECONFIG with a
 * message when a space has more than ARS_EXACT_LANCZOS_MAX_STATES states, two_m is given for
 * an operator that does not conserve S^z or is not a sector of it, or it did not converge
 * within max_iter; ARS_STATUS_ENOMEM. */
int ars_exact_lanczos(const ars_op *op, int two_m, int max_iter, double tol, ars_exact_result *res);

/* Lowest eigenvalue of op by dense diagonalisation of every block (above) into *e0. Returns
 * ARS_OK, ARS_STATUS_ECONFIG (a block larger than ARS_EXACT_DENSE_MAX_STATES) or
 * ARS_STATUS_ENOMEM. */
int ars_exact_dense_energy(const ars_op *op, double *e0);

#endif
