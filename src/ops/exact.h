/*
 * exact: exact ground-state energies of the chains of hamiltonian.h, as references for
 * variational Monte Carlo. Conventions (Pauli matrices, bonds) in docs/hamiltonians.md.
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
 * Lanczos: matrix-free, in the sector of fixed total Sz with n_up = floor(L/2) up spins
 * (total Sz = 0 for even L) for the Sz-conserving types (xxz, heisenberg, j1j2), in the full
 * 2^L space for tfim. That sector holds the ground state for antiferromagnetic couplings
 * (J > 0, Delta >= -1, and J2 >= 0 as tested); for ferromagnetic ones use
 * ars_exact_lanczos_sector with the sector you want. States of a sector are the L-bit masks
 * (bit t = 1: site t up) with n_up bits, in increasing order; the position of a mask is its
 * combinatorial rank sum_k C(p_k, k) over its set bits p_1 < p_2 < ... (colex), looked up in
 * O(1) from two tables (low and high half of the mask). H x is applied row by row,
 * y[r] = sum_r' H(r, r') x[r'], from ars_ham_diagonal and ars_ham_offdiag, so it is the VMC's
 * Hamiltonian, Marshall sign included (a diagonal unitary S: S H S has the same spectrum). The
 * Krylov basis is kept and fully reorthogonalised (classical Gram-Schmidt, a second pass when
 * the first removed more than half of the norm); after m steps (m <= 50, fewer for large spaces
 * so that the basis stays under 256 MiB) the tridiagonal matrix is diagonalised
 * (gsl_eigen_symmv) and Lanczos restarts from the lowest Ritz vector, until the residual
 * |H x - theta x| = beta_m |y_m| is at most tol max(1, |theta|) (then |theta - E0| is about
 * residual^2 / gap).
 *
 * Dense diagonalisation (independent check of Lanczos, small L): the full 2^L space, block by
 * block (total-Sz blocks for the Sz-conserving types; for tfim the blocks of the global spin
 * flip P = prod sx, which commutes with H and with S H S, in the basis (|s> +- P|s>)/sqrt(2) of
 * representatives with site L-1 down), each block by LAPACK dsyevd (OpenBLAS): GSL's unblocked
 * symmetric solver takes 3.5 s for one 2048 block, dsyevd 0.2 s.
 *
 * Everything here runs on the calling thread (OpenBLAS included: the thread count is set to 1
 * for the call and restored): a thread team costs more than it gains at these sizes, and
 * seconds on a loaded machine. Heisenberg N = 20 (184756 states) takes about 2 s, tfim N = 20
 * (2^20 states, 256 MiB of basis) about 10 s.
 */
#ifndef ARS_EXACT_H
#define ARS_EXACT_H

#include "ops/hamiltonian.h"

/* Largest size ars_exact_lanczos accepts (C(20, 10) = 184756 states; tfim 2^20). */
#define ARS_EXACT_LANCZOS_MAX_SIZE 20
/* Largest size ars_exact_dense_energy accepts. */
#define ARS_EXACT_DENSE_MAX_SIZE 12

/* TFIM ground-state energy by free fermions (formulas above), N >= 2 (pbc: N >= 3); NaN for
 * pbc with odd N and J < 0, and (with a message) when the 2N x 2N matrix of an open chain does
 * not fit in memory: the reference is then unknown, the run goes on. */
double ars_exact_tfim(int N, double J, double h, int pbc);

/* Lowest eigenvalue of H by restarted Lanczos (in the sector above) into *e0. max_iter bounds
 * the number of H applications; tol the relative residual (1e-10 is a good value). Returns
 * ARS_OK; ARS_STATUS_ECONFIG if H->size exceeds ARS_EXACT_LANCZOS_MAX_SIZE or it did not
 * converge within max_iter; ARS_STATUS_ENOMEM. */
int ars_exact_lanczos(const ars_ham *H, double *e0, int max_iter, double tol);

/* The same in the sector with n_up up spins (xxz, heisenberg, j1j2; 0 <= n_up <= L). */
int ars_exact_lanczos_sector(const ars_ham *H, int n_up, double *e0, int max_iter, double tol);

/* Lowest eigenvalue of H in the full 2^L space by dense diagonalisation, H->size <= 12.
 * Returns ARS_OK, ARS_STATUS_ECONFIG (too large) or ARS_STATUS_ENOMEM. */
int ars_exact_dense_energy(const ars_ham *H, double *e0);

#endif
