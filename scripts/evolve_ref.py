#!/usr/bin/python3
"""Exact references for real-time quenches of spin-1/2 chains, to check time-dependent VMC.

Two independent methods, |psi(t)> = exp(-i H t) |psi(0)> (hbar = 1):

1. tfim_quench_ff: the transverse-field Ising chain (TFIM) by free fermions, any size
   (N = 1000 in seconds). Jordan-Wigner with the string along X, Majoranas
   a_j = (prod_{k<j} X_k) Z_j, b_j = (prod_{k<j} X_k) Y_j, so that
       X_j = i a_j b_j,   Z_j Z_{j+1} = i b_j a_{j+1},   Z_j Y_{j+1} = i b_j b_{j+1},
   and H = i sum_jk a_j M_jk b_k (M_jj = -h, M_{j+1,j} = J). The state is Gaussian and kept as
   its Majorana covariance Gamma_mn = (i/2) <[c_m, c_n]>, c = (a_0, b_0, a_1, b_1, ...); with
   H = (i/4) c^T A c the Heisenberg operators are c(t) = exp(A t) c, so
   Gamma(t) = exp(A t) Gamma(0) exp(A t)^T, evaluated in the normal modes of the SVD of M
   (one SVD, then O(N^3) per time for the per-site <X_i>). <X_i> = Gamma[a_i, b_i];
   <Z_i Z_{i+r}> = Pf of Gamma on (b_i, a_{i+1}, b_{i+1}, ..., b_{i+r-1}, a_{i+r}) (Wick's
   theorem; Parlett-Reid Pfaffian below); <H> = sum_jk M_jk Gamma[a_j, b_k].
   Initial state |+x>^N (Gamma[a_j, b_j] = 1) or the TFIM ground state at field h_initial
   (Gamma_ab = -U V^T from the SVD M = U S V^T: every mode empty).

   Periodic chains and fermion parity: the wrap bond is Z_{N-1} Z_0 = -i P b_{N-1} a_0 with
   P = prod_j X_j, which commutes with H, so H is quadratic only within a sector P = +-1:
   even sector, wrap bond i b_{N-1} (-a_0), antiperiodic fermions, M_{0,N-1} = -J; odd
   sector, periodic fermions, M_{0,N-1} = +J. The evolution stays in the initial state's
   sector. |+x> is even. The ground state at h_initial > 0 is even for any J and N
   (Perron-Frobenius: -h X is a non-positive off-diagonal in the Z basis and flips connect
   all states, so the ground state is unique with positive amplitudes, which P permutes);
   h_initial < 0 maps to -h_initial by prod Z, which multiplies P by (-1)^N. So the code
   works in the sector p = +1 (h_initial > 0 or |+x>) or (-1)^N (h_initial < 0), and the
   initial state is the lowest state of parity p there: the fermion vacuum if its parity,
   Pf(Gamma) = det(Gamma_ab) (Gamma_aa = Gamma_bb = 0 here), is p, else the vacuum with the
   softest mode filled (this happens for the frustrated ring, J < 0 and N odd). selftest
   checks the parities, the per-sector lowest energies and the dynamics against the state
   vector. At h_initial = 0 the even cat state is taken (a choice: the ground state is
   degenerate). Open chains have no wrap bond (M is the whole H), and the same parity rule
   picks the even state even when the edge-mode splitting ~ (h/J)^N is below machine
   precision.
   For periodic chains the states are translation invariant, so 'zz' (and 'zy') are
   evaluated at i = 0 (a window that does not wrap), equal to the average over i; 'sx' is
   the explicit average over all sites (their spread is checked).

2. statevector_evolve: any sparse Hamiltonian in the full 2^N space (scipy.sparse.linalg.
   expm_multiply), with tfim_hamiltonian, terms_hamiltonian (arsampler's `type = terms`
   lines, e.g. "-1.0 Z(i) Z(i+1)", "-0.5 X(i)", "0.3 Z(i) Y(i+1)", built by
   scripts/terms_ref.py's own parser and Kronecker products: so this covers any operator
   that arsampler accepts), x_polarized, ground_state, and statevector_observables
   (the same quantities as above: <X_i>, site average, <Z_i Z_{i+r}>, <Z_i Y_{i+1}>, <H>);
   tfim_quench_statevector wraps them with tfim_quench_ff's signature (N up to about 20).

Conventions (those of arsampler and scripts/terms_ref.py): Pauli X, Y, Z; site 0 is the
leftmost Kronecker factor (basis index sum_j v_j 2^(N-1-j)); v = 0 is spin down, Z = -1, v = 1
spin up, Z = +1, i.e. Z = diag(-1, +1), X = [[0,1],[1,0]], Y = [[0,i],[-i,0]] as matrices in
index order (the usual algebra, XY = iZ; only the matrix of Y looks transposed).
TFIM: H = -J sum_<ij> Z_i Z_j - h sum_i X_i, bonds (i, i+1), i = 0..N-2, plus (N-1, 0) when
periodic. Correlations: periodic, averaged over i (indices mod N); open, from the centre site
c = (N-1)//2, pairs (c, c+r). 'zy' is <Z_i Y_{i+1}> in the same geometry: odd in t for real
initial states, so it is what pins down the direction of time (sx, zz, energy are even in t).

Results (dicts of numpy arrays): 'time' (T,), 'sx' (T,), 'sx_sites' (T, N) (free fermions:
open chains only; state vector: always), 'zz' (T, rmax+1) for r = 0..rmax (zz[:, 0] = 1),
'zy' (T,), 'energy' (T,). rmax=None means min(10, N//2) periodic, min(10, N-1-c) open.

Usage:
    /usr/bin/python3 scripts/evolve_ref.py selftest
    /usr/bin/python3 scripts/evolve_ref.py tfim --N 20 --J 1 --h 1 [--open] [--h-initial 0.5]
        --t-end 3 --dt 0.05 [--rmax 3] [--method ff|statevector]
    /usr/bin/python3 scripts/evolve_ref.py terms FILE --N 10 [--open] [--initial FILE0]
        --t-end 3 --dt 0.05 [--rmax 3]
    /usr/bin/python3 scripts/evolve_ref.py compare OUT.h5 [--tmax 1 3] [--h-initial 0.5]
        [--max-sx-error 5e-3 2e-2]
compare reads an arsampler mode = evolve output (a tfim quench from [model] init =
x_polarized, or from an init file's state, whose /hamiltonian h is h_initial unless given),
prints max |<X>(t) - exact| for t <= each tmax and the largest energy drift, and with
--max-sx-error exits 1 when a deviation is above its limit.
tfim and terms print CSV to stdout: t,sx,energy,zz_1..zz_rmax (defaults J = h = 1, t-end 3,
dt 0.05, rmax min(3, largest distance), method ff; exit status 2 on bad arguments). terms
evolves |+x> (or the ground state of FILE0's terms) under FILE's terms by the state vector.
selftest prints the largest deviation of each check; exit status 0 if all pass, else 1.
As a module: sys.path.insert(0, "scripts"); import evolve_ref.

Needs python3-numpy and python3-scipy (Debian; scripts/bootstrap installs them), and
scripts/terms_ref.py for terms_hamiltonian. selftest takes a few seconds.
"""
import argparse
import functools
import os
import sys
import time as _time

# Debian's OpenBLAS (OpenMP build) slowed the SVDs here 10-50x on a loaded two-core machine
# (threads spinning); one thread is fast enough for these sizes. Set it before numpy loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import scipy.sparse.linalg as sla  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------- Pfaffian

def pfaffian(A):
    """Pfaffian of a real antisymmetric matrix: Parlett-Reid elimination with pivoting."""
    A = np.array(A, dtype=float)
    n = A.shape[0]
    if n % 2:
        return 0.0
    pf = 1.0
    for k in range(0, n - 1, 2):
        # largest element of column k below the diagonal as pivot, moved to row/col k+1
        p = k + 1 + int(np.argmax(np.abs(A[k + 1:, k])))
        if p != k + 1:
            A[[k + 1, p], :] = A[[p, k + 1], :]
            A[:, [k + 1, p]] = A[:, [p, k + 1]]
            pf = -pf
        if A[k, k + 1] == 0.0:
            return 0.0
        pf *= A[k, k + 1]
        if k + 2 < n:
            # eliminate row/column k against k+1 (a congruence with unit determinant)
            tau = A[k, k + 2:] / A[k, k + 1]
            col = A[k + 2:, k + 1].copy()
            A[k + 2:, k + 2:] += np.outer(tau, col) - np.outer(col, tau)
    return pf


def pfaffian_bruteforce(A):
    """Expansion along the first row; exponential, for tests only."""
    n = A.shape[0]
    if n == 0:
        return 1.0
    if n % 2:
        return 0.0
    total = 0.0
    for j in range(1, n):
        rest = [k for k in range(1, n) if k != j]
        total += (-1) ** (j + 1) * A[0, j] * pfaffian_bruteforce(A[np.ix_(rest, rest)])
    return total


# ---------------------------------------------------------------- free fermions

def _default_rmax(N, pbc, rmax):
    c = (N - 1) // 2
    largest = N // 2 if pbc else N - 1 - c
    if rmax is None:
        return min(10, largest)
    if not 0 <= rmax <= (N - 1 if pbc else N - 1 - c):
        raise ValueError("rmax %d out of range for N = %d" % (rmax, N))
    return rmax


def tfim_fermion_matrix(N, J, h, pbc, parity=1):
    """M of H = i sum_jk a_j M_jk b_k; periodic: in the sector prod X = parity
    (+1: antiperiodic fermions, -1: periodic)."""
    M = np.zeros((N, N))
    M[np.arange(N), np.arange(N)] = -h                 # -h X_j = -h i a_j b_j
    M[np.arange(1, N), np.arange(N - 1)] += J          # -J i b_j a_{j+1} = +J i a_{j+1} b_j
    if pbc:
        M[0, N - 1] += -parity * J                     # -J Z_{N-1} Z_0 = -i J P a_0 b_{N-1}
    return M


def _vacuum(M):
    """SVD M = U S V^T, the vacuum's parity Pf(Gamma) = det(-U V^T), and its energy -sum S."""
    U, s, Vt = np.linalg.svd(M)
    N = len(s)
    parity = (-1) ** N * np.sign(np.linalg.det(U)) * np.sign(np.linalg.det(Vt))
    return U, s, Vt, parity, -s.sum()


def _ground_parity(N, h):
    """Parity of the TFIM ground state: -h X has non-positive off-diagonal elements in the Z
    basis for h > 0, so (Perron-Frobenius, flips connect everything) the ground state is
    unique and positive, hence even; prod Z maps h -> -h and P -> (-1)^N P. h = 0: the even
    one of the two cat states (a choice)."""
    return (-1) ** N if h < 0 else 1


def _ground_state_ab(N, J, h, pbc):
    """Gamma_ab of the TFIM ground state: the lowest state of parity p = _ground_parity in the
    sector p: the fermion vacuum of M (every mode empty, <i a'_k b'_k> = -1, Gamma_ab = -U V^T)
    if its parity is p, else the softest mode filled."""
    p = _ground_parity(N, h)
    U, s, Vt, parity, _ = _vacuum(tfim_fermion_matrix(N, J, h, pbc, p))
    occ = -np.ones(N)
    if parity != p:
        k = np.argsort(s)
        if N > 1 and s[k[1]] - s[k[0]] < 1e-9 * max(1.0, s[k[1]]):
            raise ValueError("TFIM N=%d J=%g h=%g: degenerate softest mode, ground state "
                             "not unique; use the state vector" % (N, J, h))
        occ[k[0]] = 1.0
    return (U * occ) @ Vt


def tfim_quench_ff(N, J, h, times, pbc=True, h_initial=None, rmax=None):
    """Free-fermion quench of the TFIM from |+x>^N (h_initial None) or its ground state at
    h_initial, to fields J, h; see the module docstring for conventions and outputs."""
    times = np.asarray(times, dtype=float)
    rmax = _default_rmax(N, pbc, rmax)
    c = (N - 1) // 2
    i0 = 0 if pbc else c
    w = max(rmax, 1) + 1                               # window of sites i0 .. i0+w-1
    if i0 + w > N:
        w = N - i0
    sector = 1 if h_initial is None else _ground_parity(N, h_initial)   # P = prod X
    M = tfim_fermion_matrix(N, J, h, pbc, sector)
    U, s, Vt = np.linalg.svd(M)                        # normal modes of the final H
    V = Vt.T
    B0 = np.eye(N) if h_initial is None else _ground_state_ab(N, J, h_initial, pbc)
    G = U.T @ B0 @ V                                   # Gamma_ab in the modes (aa = bb = 0)
    Uw, Vw = U[i0:i0 + w], V[i0:i0 + w]
    T = len(times)
    out = {"time": times, "sx": np.empty(T), "zz": np.empty((T, rmax + 1)),
           "zy": np.full(T, np.nan), "energy": np.empty(T)}
    if not pbc:
        out["sx_sites"] = np.empty((T, N))
    for n, t in enumerate(times):
        # each mode pair (a'_k, b'_k) rotates by the angle 2 s_k t
        co, si = np.cos(2 * s * t), np.sin(2 * s * t)
        Gab = co[:, None] * G * co[None, :] + si[:, None] * G.T * si[None, :]
        Gaa = co[:, None] * G * si[None, :] - si[:, None] * G.T * co[None, :]
        Gbb = co[:, None] * G.T * si[None, :] - si[:, None] * G * co[None, :]
        UG = U @ Gab                                   # Gamma_ab = UG V^T, only parts needed
        sx = np.einsum("jl,jl->j", UG, V)
        nn = np.einsum("jl,jl->j", UG[1:], V[:-1])     # Gamma_ab[j+1, j]
        e = -h * sx.sum() + J * nn.sum()
        if pbc:
            e += M[0, N - 1] * (UG[0] @ V[N - 1])
            spread = sx.max() - sx.min()
            if spread > 1e-8:
                raise RuntimeError("periodic state not translation invariant (%g)" % spread)
            out["sx"][n] = sx.mean()
        else:
            out["sx_sites"][n] = sx
            out["sx"][n] = sx.mean()
        out["energy"][n] = e
        # local covariance on sites i0..i0+w-1, interleaved (a_0, b_0, a_1, b_1, ...)
        loc = np.zeros((2 * w, 2 * w))
        loc[0::2, 0::2] = Uw @ Gaa @ Uw.T
        loc[0::2, 1::2] = UG[i0:i0 + w] @ Vw.T
        loc[1::2, 0::2] = -loc[0::2, 1::2].T
        loc[1::2, 1::2] = Vw @ Gbb @ Vw.T
        # (b_i0, a_i0+1, b_i0+1, ..., a_i0+r) is the contiguous block 1 .. 2r of loc
        out["zz"][n, 0] = 1.0
        for r in range(1, rmax + 1):
            out["zz"][n, r] = pfaffian(loc[1:2 * r + 1, 1:2 * r + 1])
        if w >= 2:
            out["zy"][n] = loc[1, 3]                   # <Z_i Y_{i+1}> = Gamma[b_i, b_{i+1}]
    return out


def tfim_parity_ff(N, J, h_initial, pbc=True):
    """Parity <prod X> of the free-fermion initial state, Pf(Gamma) (+1 even)."""
    B = np.eye(N) if h_initial is None else _ground_state_ab(N, J, h_initial, pbc)
    return float(np.sign(np.linalg.det(B)))        # Pf(Gamma) for Gamma_aa = Gamma_bb = 0


# ---------------------------------------------------------------- state vector

def _bits(N):
    """(2^N, N) array of v_j (site 0 = most significant bit)."""
    idx = np.arange(2 ** N)
    return (idx[:, None] >> (N - 1 - np.arange(N))[None, :]) & 1


def tfim_hamiltonian(N, J, h, pbc):
    """Sparse TFIM H = -J sum Z_i Z_j - h sum X_i in the 2^N basis (site 0 leftmost)."""
    dim = 2 ** N
    z = 2 * _bits(N) - 1
    bonds = [(i, i + 1) for i in range(N - 1)] + ([(N - 1, 0)] if pbc else [])
    diag = np.zeros(dim)
    for i, j in bonds:
        diag -= J * z[:, i] * z[:, j]
    rows, cols = [np.arange(dim)], [np.arange(dim)]
    vals = [diag]
    for j in range(N):
        rows.append(np.arange(dim))
        cols.append(np.arange(dim) ^ (1 << (N - 1 - j)))
        vals.append(np.full(dim, -float(h)))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(dim, dim))


def terms_hamiltonian(lines, N, pbc):
    """Spin-1/2 operator from arsampler `type = terms` lines (scripts/terms_ref.py)."""
    import terms_ref
    return terms_ref.hamiltonian(list(lines), N, 1, pbc)


def read_terms(path):
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.strip().startswith("#")]


def x_polarized(N):
    """|+x>^N: all X_i = +1."""
    return np.full(2 ** N, 2.0 ** (-N / 2), dtype=complex)


def ground_state(H):
    """(E0, psi0) of a sparse Hermitian H (dense eigh up to 4096 states)."""
    if H.shape[0] <= 4096:
        e, v = np.linalg.eigh(H.toarray())
        if e[1] - e[0] < 1e-8:
            sys.stderr.write("evolve_ref: ground state (near) degenerate, gap %g\n" % (e[1] - e[0]))
        return float(e[0]), v[:, 0].astype(complex)
    e, v = sla.eigsh(H, k=1, which="SA", tol=1e-14, maxiter=100000)
    return float(e[0]), v[:, 0].astype(complex)


def statevector_evolve(H, psi0, times):
    """(T, dim) states exp(-i H t) psi0 for increasing times (expm_multiply)."""
    times = np.asarray(times, dtype=float)
    A = (-1j * H).tocsr()
    psi = np.asarray(psi0, dtype=complex)
    dt = np.diff(times)
    if len(times) > 2 and np.allclose(dt, dt[0], rtol=1e-12, atol=0) and dt[0] > 0:
        first = sla.expm_multiply(A * times[0], psi) if times[0] != 0 else psi
        return sla.expm_multiply(A, first, start=0.0, stop=times[-1] - times[0],
                                 num=len(times), endpoint=True)
    out = np.empty((len(times), len(psi)), dtype=complex)
    t_prev = 0.0
    for n, t in enumerate(times):
        if t != t_prev:
            psi = sla.expm_multiply(A * (t - t_prev), psi)
        out[n] = psi
        t_prev = t
    return out


def statevector_observables(states, N, pbc, rmax=None, H=None, times=None):
    """Same quantities as tfim_quench_ff from states (T, 2^N)."""
    states = np.atleast_2d(states)
    rmax = _default_rmax(N, pbc, rmax)
    T = states.shape[0]
    zs = np.ascontiguousarray(2.0 * _bits(N).T - 1)    # (N, 2^N): z_j of every basis state
    c = (N - 1) // 2
    starts = list(range(N)) if pbc else [c]
    out = {"time": np.arange(T, dtype=float) if times is None else np.asarray(times, float),
           "sx_sites": np.empty((T, N)), "sx": np.empty(T), "zz": np.empty((T, rmax + 1)),
           "zy": np.empty(T), "energy": np.full(T, np.nan)}
    idx = np.arange(2 ** N)
    for n in range(T):
        psi = states[n]
        for j in range(N):
            flip = idx ^ (1 << (N - 1 - j))
            out["sx_sites"][n, j] = np.real(np.vdot(psi, psi[flip]))
        out["sx"][n] = out["sx_sites"][n].mean()
        C = zs @ (zs * np.abs(psi) ** 2).T             # C_ij = <Z_i Z_j>
        for r in range(rmax + 1):
            out["zz"][n, r] = np.mean([C[i, (i + r) % N] for i in starts])
        # Y_k psi [s] = -i z_k(s) psi[s with k flipped]  (Y = [[0,i],[-i,0]] in index order)
        zy = []
        for i in starts:
            k = (i + 1) % N
            ypsi = -1j * zs[k] * psi[idx ^ (1 << (N - 1 - k))]
            zy.append(np.real(np.vdot(psi, zs[i] * ypsi)))
        out["zy"][n] = np.mean(zy)
        if H is not None:
            out["energy"][n] = np.real(np.vdot(psi, H @ psi))
    return out


@functools.lru_cache(maxsize=8)
def _tfim_ground_state(N, J, h, pbc):
    return ground_state(tfim_hamiltonian(N, J, h, pbc))


def tfim_quench_statevector(N, J, h, times, pbc=True, h_initial=None, rmax=None):
    """State-vector counterpart of tfim_quench_ff (N up to about 20)."""
    H = tfim_hamiltonian(N, J, h, pbc)
    psi0 = x_polarized(N) if h_initial is None else _tfim_ground_state(N, J, h_initial, pbc)[1]
    states = statevector_evolve(H, psi0, times)
    return statevector_observables(states, N, pbc, rmax, H, times)


def parity_statevector(psi, N):
    """<prod_j X_j>: prod X flips every bit, index -> 2^N - 1 - index."""
    return float(np.real(np.vdot(psi, psi[::-1])))


# ---------------------------------------------------------------- selftest

def selftest():
    t0 = _time.time()
    worst = {}
    failures = []

    def check(name, dev, tol):
        worst[name] = max(worst.get(name, 0.0), dev)
        if not dev <= tol:
            failures.append("%s: deviation %.3g > %g" % (name, dev, tol))

    # Pfaffian: brute-force expansion (sign) and det = Pf^2, including singular cases
    rng = np.random.default_rng(7)
    for n in range(0, 9):
        for _ in range(5):
            X = rng.normal(size=(n, n))
            A = X - X.T
            ref = pfaffian_bruteforce(A)
            check("pfaffian vs expansion", abs(pfaffian(A) - ref) / max(1, abs(ref)), 1e-12)
    for n in (10, 20, 40):
        X = rng.normal(size=(n, n))
        A = X - X.T
        pf = pfaffian(A)
        check("pfaffian^2 vs det", abs(pf * pf - np.linalg.det(A)) / abs(np.linalg.det(A)), 1e-10)
        C = rng.normal(size=(n, n))          # Pf(C A C^T) = det(C) Pf(A) fixes the sign
        check("pfaffian congruence", abs(pfaffian(C @ A @ C.T) - np.linalg.det(C) * pf)
              / abs(np.linalg.det(C) * pf), 1e-9)
    check("pfaffian singular", abs(pfaffian(np.zeros((4, 4)))), 0)
    check("pfaffian J", abs(pfaffian(np.kron(np.eye(5), [[0, 1], [-1, 0]])) - 1), 0)

    # parity sectors: the ground-state parity rule, the lowest energy of each sector, and
    # quenches from ground states outside the plain case (J < 0 odd ring: softest mode
    # filled; h_initial < 0: odd sector for odd N)
    for N, pbc in ((8, True), (7, True), (8, False), (7, False)):
        for J in (1.0, -1.0):
            Hd = tfim_hamiltonian(N, J, 0.5, pbc).toarray()
            Pm = np.eye(2 ** N)[::-1]
            for par in (1, -1):
                e_sv = np.linalg.eigvalsh(Hd + 100 * (np.eye(2 ** N) - par * Pm) / 2)[0]
                _, s, _, p0, e_ff = _vacuum(tfim_fermion_matrix(N, J, 0.5, pbc, par))
                if p0 != par:
                    e_ff += 2 * s.min()
                check("lowest energy per parity sector", abs(e_ff - e_sv), 1e-10)
    t_short = np.linspace(0, 2, 9)
    for N, J, hi, pbc in ((7, -1.0, 0.5, True), (7, 1.0, -0.5, True), (8, 1.0, -0.5, True),
                          (7, -0.8, -1.5, True), (7, 1.0, -0.5, False), (8, 1.0, 0.0, True)):
        if hi == 0:                                    # even cat, (|down..> + |up..>)/sqrt2
            psi = np.zeros(2 ** N, dtype=complex)
            psi[[0, -1]] = 2 ** -0.5
        else:
            psi = ground_state(tfim_hamiltonian(N, J, hi, pbc))[1]
        name = "N=%d J=%g h_initial=%g %s" % (N, J, hi, "pbc" if pbc else "open")
        check("ground-state parity " + name,
              abs(parity_statevector(psi, N) - tfim_parity_ff(N, J, hi, pbc)), 1e-9)
        H = tfim_hamiltonian(N, J, 1.3, pbc)
        sv = statevector_observables(statevector_evolve(H, psi, t_short), N, pbc, 3, H)
        ff = tfim_quench_ff(N, J, 1.3, t_short, pbc, hi, 3)
        check("quench " + name, max(np.abs(ff[k] - sv[k]).max()
                                    for k in ("sx", "zz", "zy", "energy")), 1e-9)

    # terms_ref's operator (independent parser and matrices) = tfim_hamiltonian
    for pbc in (True, False):
        Ht = terms_hamiltonian(["-1.3 Z(i) Z(i+1)", "-0.7 X(i)"], 6, pbc)
        check("terms_ref H vs tfim_hamiltonian",
              abs(Ht - tfim_hamiltonian(6, 1.3, 0.7, pbc)).max(), 1e-14)

    # free fermions vs state vector
    times = np.linspace(0, 3, 31)
    for N in (8, 10):
        for pbc in (True, False):
            rmax = N // 2 if pbc else N - 1 - (N - 1) // 2
            for hi in (None, 0.5):
                if hi is not None:
                    # the ground state is even, and its energy is the even-sector vacuum's
                    E0, psi = _tfim_ground_state(N, 1.0, hi, pbc)
                    check("ground-state parity (state vector)",
                          abs(parity_statevector(psi, N) - 1), 1e-9)
                    check("ground-state parity (fermions)",
                          abs(tfim_parity_ff(N, 1.0, hi, pbc) - 1), 0)
                    ff0 = tfim_quench_ff(N, 1.0, hi, [0.0], pbc, hi, rmax)
                    s = np.linalg.svd(tfim_fermion_matrix(N, 1.0, hi, pbc), compute_uv=False)
                    check("ground energy", abs(ff0["energy"][0] - E0), 1e-10)
                    check("ground energy = -sum s", abs(E0 + s.sum()), 1e-10)
                    if pbc:
                        k = (2 * np.arange(N) + 1) * np.pi / N
                        check("ground energy formula",
                              abs(E0 + np.sqrt(1 + hi ** 2 - 2 * hi * np.cos(k)).sum()), 1e-10)
                for h in (1.0, 0.3, 2.0):
                    ff = tfim_quench_ff(N, 1.0, h, times, pbc, hi, rmax)
                    sv = tfim_quench_statevector(N, 1.0, h, times, pbc, hi, rmax)
                    check("sx", np.abs(ff["sx"] - sv["sx"]).max(), 1e-9)
                    if not pbc:
                        check("sx_sites", np.abs(ff["sx_sites"] - sv["sx_sites"]).max(), 1e-9)
                    check("zz", np.abs(ff["zz"] - sv["zz"]).max(), 1e-9)
                    check("zy (direction of time)", np.abs(ff["zy"] - sv["zy"]).max(), 1e-9)
                    check("energy", np.abs(ff["energy"] - sv["energy"]).max(), 1e-9)
                    check("energy conservation (ff)", np.ptp(ff["energy"]), 1e-9)
                    check("energy conservation (sv)", np.ptp(sv["energy"]), 1e-9)
                    check("zy nonzero (sees the sign of t)", 0 if np.abs(sv["zy"]).max() > 1e-3 else 1, 0)
    # a generic operator through terms_ref: <sum_i Z_i Y_{i+1}>/N from its own Y matrix
    N = 8
    psi_t = statevector_evolve(tfim_hamiltonian(N, 1.0, 0.7, True), x_polarized(N), times)
    O = terms_hamiltonian(["1.0 Z(i) Y(i+1)"], N, True)
    zy = np.array([np.real(np.vdot(p, O @ p)) for p in psi_t]) / N
    ff = tfim_quench_ff(N, 1.0, 0.7, times, True)
    check("zy vs terms_ref operator", np.abs(zy - ff["zy"]).max(), 1e-9)

    # h = 0 from |+x>: X_j flips the energy of its two bonds, so
    # <X(t)> = mean over z_{j-1}, z_{j+1} of cos(2Jt (z_{j-1} + z_{j+1})) = cos(2Jt)^2
    # (bulk; an open end has one bond: cos(2Jt)); zz stays 0 (diagonal H)
    J = 0.8
    for N in (12, 101):
        ffp = tfim_quench_ff(N, J, 0.0, times, True, rmax=3)
        check("h=0 sx = cos^2(2Jt)", np.abs(ffp["sx"] - np.cos(2 * J * times) ** 2).max(), 1e-12)
        check("h=0 zz = 0", np.abs(ffp["zz"][:, 1:]).max(), 1e-12)
        ffo = tfim_quench_ff(N, J, 0.0, times, False, rmax=3)
        bulk = np.cos(2 * J * times) ** 2
        check("h=0 open bulk", np.abs(ffo["sx_sites"][:, 1:-1] - bulk[:, None]).max(), 1e-12)
        check("h=0 open edge", np.abs(ffo["sx_sites"][:, [0, -1]]
                                      - np.cos(2 * J * times)[:, None]).max(), 1e-12)

    # large chains: just finite, conserved energy, translation invariance checked inside
    for N, pbc in ((100, True), (1000, True), (1000, False)):
        ff = tfim_quench_ff(N, 1.0, 1.0, [0.0, 1.0, 3.0], pbc, 0.5, rmax=4)
        check("energy conservation N=%d" % N, np.ptp(ff["energy"]) / N, 1e-12)
        # open, h_initial = 0.5: edge splitting 0.5^1000, the rule still picks the even state
        check("ground-state parity N=%d" % N, abs(tfim_parity_ff(N, 1.0, 0.5, pbc) - 1), 0)

    elapsed = _time.time() - t0
    for name, dev in worst.items():
        print("%-40s max deviation %.2e" % (name, dev))
    if failures:
        print("selftest FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("selftest passed in %.1f s" % elapsed)
    return 0


# ---------------------------------------------------------------- CLI

def _print_csv(res, rmax):
    head = ["t", "sx", "energy"] + ["zz_%d" % r for r in range(1, rmax + 1)]
    print(",".join(head))
    for n, t in enumerate(res["time"]):
        row = [t, res["sx"][n], res["energy"][n]] + list(res["zz"][n, 1:rmax + 1])
        print(",".join("%.15g" % x for x in row))


def run_reference(path, h_initial=None, method="ff", times=None):
    """The exact TFIM reference of an arsampler mode = evolve output on its own time grid:
    (run, ref) with run = the file's /evolution (time, energy, energy_error, sx mean/error
    site-averaged when measured) and ref = tfim_quench_ff (or the state vector) from |+x>
    ([model] init = x_polarized) or the ground state at h_initial (an init file: its
    /hamiltonian h unless given), on `times` if given."""
    import configparser
    import h5py
    with h5py.File(path, "r") as f:
        text = f.attrs["config"]
        text = text.decode() if isinstance(text, bytes) else text
        cp = configparser.ConfigParser(strict=False, inline_comment_prefixes=(";", "#"))
        cp.read_string(text)
        if cp.get("hamiltonian", "type") != "tfim":
            raise ValueError("%s: the exact reference covers [hamiltonian] type = tfim" % path)
        if cp.getboolean("evolve", "imaginary", fallback=False):
            raise ValueError("%s: imaginary-time evolution has no quench reference" % path)
        N = cp.getint("system", "size")
        J = cp.getfloat("hamiltonian", "J")
        h = cp.getfloat("hamiltonian", "h")
        pbc = cp.getboolean("hamiltonian", "pbc")
        init = cp.get("model", "init")
        g = f["evolution"]
        run = {k: g[k][()] for k in ("time", "energy", "energy_error")}
        if "observables/sx" in g:
            run["sx"] = g["observables/sx/mean"][()].mean(axis=1)
            # the site average's error, as if the sites were independent (an upper bound for
            # positively correlated sites would be the mean error)
            run["sx_error"] = np.sqrt((g["observables/sx/error"][()] ** 2).sum(axis=1)) / N
    if init != "x_polarized" and h_initial is None:
        with h5py.File(init, "r") as f0:
            h_initial = float(f0["hamiltonian"].attrs["h"])
    fn = tfim_quench_ff if method == "ff" else tfim_quench_statevector
    grid = run["time"] if times is None else times
    ref = fn(N, J, h, grid, pbc, None if init == "x_polarized" else h_initial, 1)
    return run, ref


def compare(path, tmax, h_initial=None, method="ff"):
    """Prints max |sx - exact| for t <= each tmax and the energy's deviation from the exact
    (conserved) value; returns the list of the sx deviations (one per tmax)."""
    run, ref = run_reference(path, h_initial, method)
    t = run["time"]
    out = []
    for T in tmax:
        m = t <= T + 1e-12
        if "sx" in run:
            d = np.abs(run["sx"][m] - ref["sx"][m])
            k = int(np.argmax(d))
            print("t <= %g: max |sx - exact| = %.3e at t = %.3f (error bar %.1e)"
                  % (T, d[k], t[m][k], run["sx_error"][m][k]))
            out.append(float(d[k]))
    # The energy is conserved: compare each estimate with the exact <H> (of the initial state),
    # and their mean over t > 0 (its error is the estimates' combined error: they come from
    # independent samples).
    Ex = ref["energy"][0]
    dev = (run["energy"] - Ex) / abs(Ex)
    err = run["energy_error"] / abs(Ex)
    k = int(np.argmax(np.abs(dev)))
    print("energy: exact %.6f; largest |E(t) - E| / |E| = %.3e at t = %.3f (error bar %.1e); "
          "mean over t > 0 %+.2e +- %.1e" % (Ex, abs(dev[k]), t[k], err[k], dev[1:].mean(),
                                             np.sqrt((err[1:] ** 2).sum()) / max(len(t) - 1, 1)))
    return out


def _times(args):
    steps = int(round(args.t_end / args.dt))
    return args.dt * np.arange(steps + 1)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("selftest", help="free fermions vs state vector, Pfaffian, limits")
    q = sub.add_parser("compare", help="an arsampler mode = evolve output against the exact TFIM")
    q.add_argument("file")
    q.add_argument("--tmax", type=float, nargs="+", default=[1.0, 3.0])
    q.add_argument("--h-initial", type=float, default=None)
    q.add_argument("--method", choices=("ff", "statevector"), default="ff")
    q.add_argument("--max-sx-error", type=float, nargs="+", default=None,
                   help="exit status 1 unless max |sx - exact| is below these, one per tmax")
    for name in ("tfim", "terms"):
        q = sub.add_parser(name)
        if name == "terms":
            q.add_argument("file", help="terms lines (arsampler terms_file syntax)")
            q.add_argument("--initial", help="terms file whose ground state starts (default |+x>)")
        else:
            q.add_argument("--J", type=float, default=1.0)
            q.add_argument("--h", type=float, default=1.0)
            q.add_argument("--h-initial", type=float, default=None)
            q.add_argument("--method", choices=("ff", "statevector"), default="ff")
        q.add_argument("--N", type=int, required=True)
        q.add_argument("--open", action="store_true")
        q.add_argument("--t-end", type=float, default=3.0)
        q.add_argument("--dt", type=float, default=0.05)
        q.add_argument("--rmax", type=int, default=None, help="default min(3, largest)")
    args = p.parse_args(argv[1:])
    if args.cmd == "selftest":
        try:
            return selftest()
        except Exception as err:                      # a refused or broken case fails too
            print("selftest FAILED: %s: %s" % (type(err).__name__, err))
            return 1
    if args.cmd == "compare":
        got = compare(args.file, args.tmax, args.h_initial, args.method)
        if args.max_sx_error is not None:
            bad = [(T, d, lim) for T, d, lim in zip(args.tmax, got, args.max_sx_error) if d > lim]
            for T, d, lim in bad:
                print("FAILED: t <= %g: %.3e > %.3e" % (T, d, lim))
            return 1 if bad else 0
        return 0
    times = _times(args)
    pbc = not args.open
    rmax = min(3, _default_rmax(args.N, pbc, None)) if args.rmax is None else \
        _default_rmax(args.N, pbc, args.rmax)
    if args.cmd == "tfim":
        f = tfim_quench_ff if args.method == "ff" else tfim_quench_statevector
        res = f(args.N, args.J, args.h, times, pbc, args.h_initial, rmax)
    else:
        H = terms_hamiltonian(read_terms(args.file), args.N, pbc)
        psi0 = x_polarized(args.N) if args.initial is None else \
            ground_state(terms_hamiltonian(read_terms(args.initial), args.N, pbc))[1]
        res = statevector_observables(statevector_evolve(H, psi0, times), args.N, pbc, rmax,
                                      H, times)
    _print_csv(res, rmax)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except ValueError as err:
        sys.stderr.write("evolve_ref: %s\n" % err)
        sys.exit(2)
