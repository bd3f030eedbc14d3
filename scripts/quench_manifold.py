#!/usr/bin/python3
"""What the exact TFIM quench state asks of a variational state: its nodes, and the best phase
that a phase network of finite reach can give it (docs/evolution.md, "The wall near t = 0.4").

The quench is that of the shipped configs: |+x>^N -> H = -J sum Z_i Z_{i+1} - h sum X_i on a
ring (Pauli units), evolved exactly as a state vector (scripts/evolve_ref.py).

  nodes N             the amplitude of the two Neel configurations, |psi(s, t)|^2 2^N, on a
                      fine time grid: the times and depths of its minima (zeros of psi,
                      where log psi is singular);
  phase-bound N W     for each time, the exact modulus times the best phase of the class
                      phi(s) = sum_i B(s_{i-r}, ..., s_{i+r}) (W = 2r + 1 sites, any table B):
                      every phase network that sums per-site outputs of reach r
                      (`[phase] type = conv`, phi = sum_t out_t) lies in this class, so
                      1 - F here bounds from below what such a network can reach with a
                      perfect modulus. Printed: 1 - F and <X> of that state minus the exact
                      <X>. The fit is L-BFGS on 1 - F, warm-started from the previous time
                      (the branch of the phase that the evolution follows);
  tdvp N W            the TDVP with exact sums (no sampling, RK4, fixed dt) of
                      log psi = sum_i A(window_i) + i B(window_i), A and B tables of W sites
                      (modulus and phase both local sums), from |+x>: r^2, 1 - F against
                      the exact state and the error of <X>. It shows whether the equation
                      follows the class's best state (phase-bound) or leaves it sooner;
  selftest            the fit's gradient against finite differences, the class with W = N
                      (complete for translation-invariant states) fitting exactly, and the
                      TDVP exact while the state is in its class (t = 0.2).
"""
import argparse
import os
import sys

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evolve_ref  # noqa: E402


def window_counts(N, w):
    """(2^N, 2^w) counts C[s, b]: how many sites i of the ring see window pattern b."""
    bits = evolve_ref._bits(N)
    r = w // 2
    idx = np.zeros((2 ** N, N), dtype=np.int64)
    for k in range(w):
        idx += bits[:, (np.arange(N) + k - r) % N] << k
    C = np.zeros((2 ** N, 2 ** w))
    for i in range(N):
        np.add.at(C, (np.arange(2 ** N), idx[:, i]), 1.0)
    return C


def quench_states(N, J, h, times, H=None):
    if H is None:
        H = evolve_ref.tfim_hamiltonian(N, J, h, True)
    return evolve_ref.statevector_evolve(H, evolve_ref.x_polarized(N), times)


def x_mean(N, psi):
    """<X> per site of a normalised state (evolve_ref's state-vector observables)."""
    return evolve_ref.statevector_observables(psi, N, True, rmax=0)["sx"][0]


def phase_infidelity(b, C, q, u):
    """1 - |<e|psi>|^2 and its gradient in b, for psi = sqrt(q) exp(i C b), e = sqrt(q) u."""
    ph = np.exp(1j * (C @ b))
    w = q * np.conj(u) * ph
    A = np.sum(w)
    dA = 1j * (C.T @ w)
    return 1.0 - abs(A) ** 2, -2.0 * np.real(np.conj(A) * dA)


def best_phase(C, e, b0):
    q = np.abs(e) ** 2
    u = np.where(np.abs(e) > 0, e / np.maximum(np.abs(e), 1e-300), 1.0)
    res = minimize(phase_infidelity, b0, args=(C, q, u), jac=True, method="L-BFGS-B",
                   options={"maxiter": 5000, "gtol": 1e-13, "ftol": 1e-16})
    return res.x, max(res.fun, 0.0)


def phase_bound(N, w, J, h, times):
    """Rows (t, 1 - F, <X>_fit - <X>_exact) along the quench."""
    C = window_counts(N, w)
    b = np.zeros(C.shape[1])
    rows = []
    for t, e in zip(times, quench_states(N, J, h, times)):
        b, infid = best_phase(C, e, b)
        psi = np.abs(e) * np.exp(1j * (C @ b))
        rows.append((t, infid, x_mean(N, psi) - x_mean(N, e)))
    return rows


def table_tdvp(N, w, J, h, times, dt):
    """Rows (t, r^2, 1 - F, dX) of the exact-sum TDVP of the complex W-site table."""
    C = window_counts(N, w)
    O = np.concatenate([C, 1j * C], axis=1)
    H = evolve_ref.tfim_hamiltonian(N, J, h, True)
    exact = quench_states(N, J, h, times, H)

    def rhs(theta):
        lp = O @ theta
        psi = np.exp(lp - lp.real.max())
        p = np.abs(psi) ** 2
        p /= p.sum()
        eloc = (H @ psi) / psi
        E = np.sum(p * eloc)
        Oc = O - p @ O
        S = np.real((Oc.conj() * p[:, None]).T @ Oc)
        F = np.imag((Oc.conj() * p[:, None]).T @ (eloc - E))
        ev, U = np.linalg.eigh(S)
        keep = ev > 1e-10 * ev.max()
        x = U[:, keep] @ ((U[:, keep].T @ F) / ev[keep])
        res = Oc @ x + 1j * (eloc - E)
        r2 = np.sum(p * np.abs(res) ** 2) / np.sum(p * np.abs(eloc - E) ** 2)
        return x, r2

    theta = np.zeros(O.shape[1])
    rows, t, r2 = [], 0.0, 0.0
    for k, t_out in enumerate(times):
        while t < t_out - 1e-12:
            k1, r2 = rhs(theta)
            k2, _ = rhs(theta + 0.5 * dt * k1)
            k3, _ = rhs(theta + 0.5 * dt * k2)
            k4, _ = rhs(theta + dt * k3)
            theta = theta + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
            t += dt
        lp = O @ theta
        psi = np.exp(lp - lp.real.max())
        psi /= np.linalg.norm(psi)
        infid = 1.0 - abs(np.vdot(exact[k], psi)) ** 2
        rows.append((t_out, r2, infid, x_mean(N, psi) - x_mean(N, exact[k])))
    return rows


def neel_minima(N, J, h, tmax, dt):
    """Local minima of |psi(Neel, t)|^2 2^N on the grid: rows (t, value)."""
    times = np.arange(0.0, tmax + 0.5 * dt, dt)
    states = quench_states(N, J, h, times)
    neel = int("01" * (N // 2), 2)
    a = np.abs(states[:, neel]) ** 2 * 2 ** N
    return [(times[k], a[k]) for k in range(1, len(a) - 1) if a[k] < a[k - 1] and a[k] <= a[k + 1]]


def selftest():
    fails = 0
    rng = np.random.default_rng(3)
    N, w = 8, 3
    C = window_counts(N, w)
    e = quench_states(N, 1.0, 1.0, [0.0, 0.7])[1]
    q = np.abs(e) ** 2
    u = e / np.abs(e)
    b = rng.normal(0.0, 0.5, C.shape[1])
    f, g = phase_infidelity(b, C, q, u)
    eps = 1e-6
    fd = np.array([(phase_infidelity(b + eps * d, C, q, u)[0]
                    - phase_infidelity(b - eps * d, C, q, u)[0]) / (2 * eps)
                   for d in np.eye(len(b))])
    dev = np.max(np.abs(fd - g))
    print("gradient vs finite differences: max deviation %.1e" % dev)
    fails += dev > 1e-8
    psi = np.sqrt(q) * np.exp(1j * (C @ b))
    direct = 1.0 - abs(np.vdot(e, psi)) ** 2
    print("1 - F against the direct overlap: %.1e" % abs(direct - f))
    fails += abs(direct - f) > 1e-12
    rows = phase_bound(N, N, 1.0, 1.0, [0.0, 0.5, 1.0, 1.5])
    worst = max(r[1] for r in rows)
    print("W = N (complete class): largest 1 - F to t = 1.5: %.1e" % worst)
    fails += worst > 1e-9
    rows3 = phase_bound(N, 3, 1.0, 1.0, [0.0, 0.05])
    print("W = 3 at t = 0.05 (first order: the phase is t J sum z z): 1 - F %.1e" % rows3[1][1])
    fails += rows3[1][1] > 1e-6
    rows = table_tdvp(N, 5, 1.0, 1.0, [0.0, 0.2], 0.01)
    print("TDVP, complex 5-site table, exact sums, t = 0.2: 1 - F %.1e" % rows[1][2])
    fails += rows[1][2] > 1e-8
    print("selftest: %s" % ("FAILED" if fails else "passed"))
    return 1 if fails else 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("selftest")
    q = sub.add_parser("nodes")
    q.add_argument("N", type=int)
    q.add_argument("--tmax", type=float, default=1.5)
    q.add_argument("--dt", type=float, default=0.001)
    for name in ("tdvp", "phase-bound"):
        q = sub.add_parser(name)
        q.add_argument("N", type=int)
        q.add_argument("W", type=int)
        q.add_argument("--tmax", type=float, default=1.0)
        q.add_argument("--every", type=float, default=0.1)
    sub.choices["tdvp"].add_argument("--dt", type=float, default=0.01)
    for q in sub.choices.values():
        q.add_argument("--J", type=float, default=1.0)
        q.add_argument("--h", type=float, default=1.0)
    args = p.parse_args(argv[1:])
    if args.cmd == "selftest":
        return selftest()
    if args.N < 2 or args.N > 20 or args.N % 2:
        p.error("N must be even, 2..20 (state vector)")
    if args.cmd == "nodes":
        print("# TFIM ring N = %d, |+x> -> h = %g, J = %g: minima of |psi(Neel, t)|^2 2^N"
              % (args.N, args.h, args.J))
        print("t,value")
        for t, a in neel_minima(args.N, args.J, args.h, args.tmax, args.dt):
            print("%.4f,%.3e" % (t, a))
        return 0
    if args.W < 1 or args.W > args.N or args.W % 2 == 0:
        p.error("W must be odd, 1..N")
    times = np.arange(0.0, args.tmax + 0.5 * args.every, args.every)
    if args.cmd == "tdvp":
        print("# TFIM ring N = %d, |+x> -> h = %g, J = %g: TDVP with exact sums, complex %d-site"
              " table, RK4 dt = %g (r^2 of the last step)" % (args.N, args.h, args.J, args.W, args.dt))
        print("t,r2,infidelity,dX")
        for t, r2, infid, dx in table_tdvp(args.N, args.W, args.J, args.h, times, args.dt):
            print("%.3f,%.3e,%.3e,%+.3e" % (t, r2, infid, dx))
        return 0
    print("# TFIM ring N = %d, |+x> -> h = %g, J = %g: exact modulus, best phase of %d-site windows"
          % (args.N, args.h, args.J, args.W))
    print("t,infidelity,dX")
    for t, infid, dx in phase_bound(args.N, args.W, args.J, args.h, times):
        print("%.3f,%.3e,%+.3e" % (t, infid, dx))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
