/*
 * bethe: the ground-state energy of the spin-1/2 Heisenberg chain at any length, by the Bethe
 * ansatz, as the reference of the training log and of mode = exact (hamiltonian.c).
 *
 * H = sum_bonds sigma_i . sigma_j (Pauli units, J = 1), bonds (i, i+1) and, for the ring,
 * (N-1, 0). In the sector of M down spins (S^z = N/2 - M, M <= N/2) the lowest state is given by
 * M real rapidities lambda_j solving the logarithmic Bethe equations, theta_n(x) = 2 atan(2x/n):
 *   ring (Bethe 1931):   N theta_1(lambda_j) = 2 pi I_j + sum_{k != j} theta_2(lambda_j -
 * lambda_k), I_j = -(M-1)/2 .. (M-1)/2 in steps of 1, shifted by +1/2 when N is odd (I_j is an
 * integer when N - M is odd, a half-integer when it is even); open chain (Alcaraz et al., J. Phys.
 * A 20, 6397 (1987), no boundary fields): 2N theta_1(lambda_j) = 2 pi I_j
 *                          + sum_{k != j} [theta_2(lambda_j - lambda_k) + theta_2(lambda_j +
 * lambda_k)], I_j = 1 .. M (lambda_j > 0). Each rapidity lowers the ferromagnetic energy by a
 * magnon, 2 / (1 + 4 lambda^2) in spin units: E = N_b - 8 sum_j 1 / (1 + 4 lambda_j^2),   N_b = N
 * (ring) or N - 1 (open). The equations are solved by Newton's method (dense M x M Jacobian, GSL's
 * LU) from the free magnons' rapidities, with step halving when the residual does not fall, to a
 * residual of 1e-12 N. Checked against Lanczos in every sector for N = 2..16, rings and open chains
 * (tests/test_exact.c).
 */
#ifndef ARS_BETHE_H
#define ARS_BETHE_H

/* Longest chain the solver takes (the Jacobian is (N/2)^2 doubles). */
#define ARS_BETHE_MAX_SITES 4096

/* The lowest energy of H (above) with M down spins, 0 <= M <= N/2; N >= 2 (ring: N >= 3).
 * NaN (with a message) when N > ARS_BETHE_MAX_SITES, memory runs out or Newton fails. */
double ars_bethe_xxx(int N, int M, int pbc);

#endif
