#!/usr/bin/env python3
"""Independent reference ground-state energies for tests/test_exact.c: data/ref_energies.csv.

Written straight from the definitions in docs/hamiltonians.md, sharing no code with the C
library: every Hamiltonian is a sum of Kronecker products of 2x2 Pauli matrices (scipy.sparse,
sy complex, the imaginary part checked to vanish), and its lowest eigenvalue comes from
scipy.sparse.linalg.eigsh (ARPACK) in the full 2^N space. For N > 16 the matrix is restricted
to the total-Sz = 0 rows and columns first (same ground state for the antiferromagnets listed,
which the smaller sizes check in the full space). TFIM energies for N = 32 and 64 come from the
free-fermion formulas re-implemented in numpy (periodic: closed form; open: eigenvalues of the
2N x 2N Bogoliubov-de Gennes matrix by numpy.linalg.eigvalsh), after the same formulas were
checked against the sparse diagonalisation here for every TFIM size up to 16.

Usage: /usr/bin/python3 scripts/ref_energies.py [OUTPUT]   (default data/ref_energies.csv)
Needs python3-numpy and python3-scipy (Debian). Runs in about a minute (the N = 20 row).
"""
import os
import sys
import time

import numpy as np
import scipy
import scipy.sparse as sp
import scipy.sparse.linalg as sla

SX = sp.csr_matrix(np.array([[0, 1], [1, 0]], dtype=complex))
SY = sp.csr_matrix(np.array([[0, -1j], [1j, 0]], dtype=complex))
SZ = sp.csr_matrix(np.array([[1, 0], [0, -1]], dtype=complex))  # basis (up, down)


def site_op(op, i, n):
    """op acting on site i of n: I_(2^i) (x) op (x) I_(2^(n-i-1)), site 0 leftmost."""
    return sp.kron(sp.kron(sp.identity(2**i, format="csr"), op, format="csr"),
                   sp.identity(2 ** (n - i - 1), format="csr"), format="csr")


def bonds(n, d, pbc):
    """Bonds (i, i + d); with pbc also the wrapped ones (i, i + d - n)."""
    out = [(i, i + d) for i in range(n - d)]
    if pbc:
        out += [(i, i + d - n) for i in range(n - d, n)]
    return out


def heis(i, j, n, delta=1.0):
    return (site_op(SX, i, n) @ site_op(SX, j, n) + site_op(SY, i, n) @ site_op(SY, j, n)
            + delta * site_op(SZ, i, n) @ site_op(SZ, j, n))


def hamiltonian(model, n, pbc, J, h, delta, J2):
    H = sp.csr_matrix((2**n, 2**n), dtype=complex)
    if model == "tfim":
        for i, j in bonds(n, 1, pbc):
            H = H - J * (site_op(SZ, i, n) @ site_op(SZ, j, n))
        for i in range(n):
            H = H - h * site_op(SX, i, n)
    elif model in ("xxz", "heisenberg"):
        for i, j in bonds(n, 1, pbc):
            H = H + J * heis(i, j, n, delta)
    elif model == "j1j2":
        for i, j in bonds(n, 1, pbc):
            H = H + J * heis(i, j, n)
        for i, j in bonds(n, 2, pbc):
            H = H + J2 * heis(i, j, n)
    else:
        raise ValueError(model)
    assert (abs(H.imag).max() if H.nnz else 0.0) == 0.0
    return H.real.tocsr()


def ground_energy(H, n, sz0):
    if sz0:
        ups = np.array([bin(k).count("1") for k in range(2**n)])
        idx = np.flatnonzero(ups == n // 2)
        H = H[idx][:, idx]
    # A random start vector: a symmetric one (all ones) can miss a ground state of another
    # momentum or parity.
    v0 = np.random.default_rng(1234).uniform(-1.0, 1.0, H.shape[0])
    return float(sla.eigsh(H, k=1, which="SA", tol=0, v0=v0)[0][0])


def tfim_free_fermion(n, J, h, pbc):
    if pbc:
        k = (2 * np.arange(n) + 1) * np.pi / n
        return float(-np.sum(np.sqrt(J * J + h * h - 2 * J * h * np.cos(k))))
    M = np.diag(np.full(n, h)) + np.diag(np.full(n - 1, J), 1)
    bdg = np.block([[np.zeros((n, n)), M], [M.T, np.zeros((n, n))]])
    return float(-0.5 * np.abs(np.linalg.eigvalsh(bdg)).sum())


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "data", "ref_energies.csv")
    rows = []  # (model, N, pbc, J, h, Delta, J2, e0, method)

    def ed(model, n, pbc, J=1.0, h=0.0, delta=1.0, J2=0.0):
        t0 = time.time()
        sz0 = n > 16
        e = ground_energy(hamiltonian(model, n, pbc, J, h, delta, J2), n, sz0)
        rows.append((model, n, pbc, J, h, delta, J2, e, "eigsh_sz0" if sz0 else "eigsh"))
        print(f"{model:10s} N={n:2d} pbc={pbc} J={J} h={h} Delta={delta} J2={J2}: "
              f"{e:.12f} ({time.time() - t0:.1f} s)", file=sys.stderr)
        return e

    for n in (6, 7, 8, 10, 12, 16):
        for pbc in (1, 0):
            for J, h in ((1.0, 1.0), (1.0, 0.5), (0.5, 1.0)):
                e = ed("tfim", n, pbc, J=J, h=h, delta=0.0)
                ff = tfim_free_fermion(n, J, h, pbc)
                assert abs(e - ff) < 1e-10, (n, pbc, J, h, e, ff)
    facts = {(32, 1): -40.7600324942, (64, 1): -81.4955126689, (64, 0): -81.1259801231}
    for (n, pbc), fact in facts.items():
        e = tfim_free_fermion(n, 1.0, 1.0, pbc)
        assert abs(e - fact) < 1e-9, (n, pbc, e, fact)
        rows.append(("tfim", n, pbc, 1.0, 1.0, 0.0, 0.0, e, "free_fermion_numpy"))
    for delta in (0.5, 2.0):
        for n in (8, 10, 12):
            for pbc in (1, 0):
                ed("xxz", n, pbc, delta=delta)
    for n, pbc in ((8, 1), (10, 1), (12, 1), (16, 1), (8, 0), (12, 0), (16, 0), (20, 1)):
        ed("heisenberg", n, pbc)
    assert abs(rows[-1][7] - -35.617546120) < 1e-8, rows[-1]
    for n in (8, 10, 12, 16):
        for pbc in (1, 0):
            ed("j1j2", n, pbc, J2=0.5)
    ed("j1j2", 12, 1, J2=0.2)

    with open(out, "w") as f:
        f.write("# Ground-state energies, Pauli-matrix conventions of docs/hamiltonians.md.\n")
        f.write("# Written by scripts/ref_energies.py (numpy %s, scipy %s): scipy.sparse Kronecker\n"
                % (np.__version__, scipy.__version__))
        f.write("# products of Pauli matrices + scipy.sparse.linalg.eigsh (eigsh: full 2^N space;\n")
        f.write("# eigsh_sz0: total-Sz = 0 block), free_fermion_numpy: the TFIM formulas in numpy.\n")
        f.write("# Read by tests/test_exact.c. Do not edit by hand.\n")
        f.write("model,size,pbc,J,h,Delta,J2,e0,method\n")
        for r in rows:
            f.write("%s,%d,%d,%.17g,%.17g,%.17g,%.17g,%.17g,%s\n" % r)
    print(f"wrote {len(rows)} rows to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
