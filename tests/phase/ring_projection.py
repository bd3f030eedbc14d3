"""Dense references of the e2e projection checks (tests/e2e_phase.cmake, 2d and 2e): every
configuration of a small spin-1/2 ring, its J1-J2 Hamiltonian as a dense matrix, and the vector
P_T psi of a state (the mean over the ring's translations), with numpy alone."""
import numpy as np


def configurations(L):
    """Every configuration of L spins as +-1 values, row i = the bits of i (site 0 lowest)."""
    return np.array([[1 if (i >> t) & 1 else -1 for t in range(L)] for i in range(2 ** L)],
                    dtype=np.int8)


def index(c):
    """The row of each configuration of c in configurations(L)."""
    return ((c > 0).astype(np.int64) << np.arange(c.shape[1])).sum(axis=1)


def j1j2_ring(s, J2):
    """H = sum_t sigma_t . sigma_t+1 + J2 sigma_t . sigma_t+2 on the ring, dense (Pauli units)."""
    n, L = s.shape
    H = np.zeros((n, n))
    for r, J in ((1, 1.0), (2, J2)):
        for t in range(L):
            u = (t + r) % L
            zz = s[:, t] * s[:, u]
            H[np.arange(n), np.arange(n)] += J * zz
            flip = s.copy()
            flip[:, t] *= -1
            flip[:, u] *= -1
            anti = zz < 0
            H[np.arange(n)[anti], index(flip[anti])] += 2.0 * J
    return H


def translation_projection(psi, s):
    """(P_T psi)(s) = (1/L) sum_k psi(T^k s) of a vector psi over configurations(L)."""
    L = s.shape[1]
    return np.mean([psi[index(np.roll(s, k, axis=1))] for k in range(L)], axis=0)


def energy(H, v):
    return float(np.real(np.vdot(v, H @ v) / np.vdot(v, v)))
