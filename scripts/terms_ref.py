#!/usr/bin/python3
"""Independent dense references for arsampler's general operators: data/terms/*.txt and
data/terms_ref.csv, read by tests/test_exact.c.

Each model below is a list of term lines in arsampler's syntax (docs/hamiltonians.md,
"type = terms"). This script writes them to data/terms/NAME.txt (a terms_file) and builds the
Hamiltonian itself, sharing no code with the C library: its own parser of the syntax, spin-S
matrices written from their definitions (S^z = diag(-S..S) in the index order 0 = m = -S, S+ and
S- from sqrt(S(S+1) - m(m+1)), Sx = (S+ + S-)/2, Sy = (S+ - S-)/(2i) complex, Pauli = 2S), and
every term instance a scipy.sparse Kronecker product over the whole chain (site 0 leftmost) in
the full (2S+1)^N space. H is checked to be Hermitian (complex for the models with an odd
number of Sy/Y in a term: Dzyaloshinskii-Moriya, scalar chirality);
the lowest eigenvalue comes from scipy.sparse.linalg.eigsh (ARPACK), and for spaces up to 4096
states also from numpy.linalg.eigvalsh, the two checked to agree to 1e-10.

Usage: /usr/bin/python3 scripts/terms_ref.py [DATA_DIR]   (default data/)
Needs python3-numpy and python3-scipy (Debian; scripts/bootstrap installs them). A few seconds.
"""
import os
import re
import sys

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla


def spin_matrices(two_s):
    d = two_s + 1
    S = two_s / 2.0
    m = np.arange(d) - S                       # index v -> m = v - S
    Sz = np.diag(m).astype(complex)
    Sp = np.zeros((d, d), dtype=complex)
    for v in range(d - 1):                     # S+ |m> = sqrt(S(S+1) - m(m+1)) |m+1>
        Sp[v + 1, v] = np.sqrt(S * (S + 1) - m[v] * (m[v] + 1))
    Sm = Sp.conj().T
    ops = {"Id": np.eye(d, dtype=complex), "Sz": Sz, "S+": Sp, "S-": Sm,
           "Sx": (Sp + Sm) / 2, "Sy": (Sp - Sm) / 2j}
    if two_s == 1:
        ops.update({"X": 2 * ops["Sx"], "Y": 2 * ops["Sy"], "Z": 2 * Sz})
    return ops


FACTOR = re.compile(r"\s*([A-Za-z+\-]+)\(\s*(i\s*([+-])\s*(\d+)|i|-?\d+)\s*\)")


def parse_term(text):
    """'c Op(site) ...' -> (c, [(op, relative, offset)])."""
    head, _, rest = text.strip().partition(" ")
    c = float(head)
    factors, pos = [], 0
    rest = rest.strip()
    while pos < len(rest):
        m = FACTOR.match(rest, pos)
        if m is None:
            raise ValueError("bad term %r" % text)
        op, site = m.group(1), m.group(2)
        if site.startswith("i"):
            k = int(m.group(4)) * (-1 if m.group(3) == "-" else 1) if m.group(3) else 0
            factors.append((op, True, k))
        else:
            factors.append((op, False, int(site)))
        pos = m.end()
    return c, factors


def hamiltonian(lines, n, two_s, pbc):
    ops = spin_matrices(two_s)
    d = two_s + 1
    dim = d ** n
    H = sp.csr_matrix((dim, dim), dtype=complex)
    for line in lines:
        c, factors = parse_term(line)
        relative = factors[0][1]
        for i in range(n if relative else 1):
            sites = []
            for _, rel, k in factors:
                t = i + k if rel else k
                if not 0 <= t < n:
                    if not pbc:
                        break
                    t %= n
                sites.append(t)
            if len(sites) != len(factors):
                continue                       # leaves an open chain
            per_site = [sp.identity(d, dtype=complex, format="csr") for _ in range(n)]
            for (op, _, _), t in zip(factors, sites):
                per_site[t] = per_site[t] @ sp.csr_matrix(ops[op])   # same site: in order
            term = per_site[0]
            for t in range(1, n):
                term = sp.kron(term, per_site[t], format="csr")
            H = H + c * term
    assert abs(H - H.conj().T).max() < 1e-12, "not Hermitian"
    if abs(H.imag).max() < 1e-15:
        return H.real.tocsr()
    return H.tocsr()


def lowest(H):
    dim = H.shape[0]
    if dim <= 16:
        return float(np.linalg.eigvalsh(H.toarray())[0].real)
    e = float(sla.eigsh(H, k=1, which="SA", tol=1e-13, maxiter=100000)[0][0].real)
    if dim <= 4096:
        dense = float(np.linalg.eigvalsh(H.toarray())[0])
        assert abs(dense - e) <= 1e-10 * max(1.0, abs(e)), (dense, e)
    return e


def models():
    """(name, size, 2S, pbc, term lines)."""
    rng = np.random.default_rng(20261205)
    out = []
    heis1 = ["1.0 Sz(i) Sz(i+1)", "0.5 S+(i) S-(i+1)", "0.5 S-(i) S+(i+1)"]
    out.append(("spin1_heisenberg_ring8", 8, 2, True, heis1))
    out.append(("spin1_heisenberg_D_field_open7", 7, 2, False,
                heis1 + ["0.4 Sz(i) Sz(i)", "-0.3 Sz(i)", "0.2 Sx(i)"]))
    aklt = ["1.0 Sx(i) Sx(i+1)", "1.0 Sy(i) Sy(i+1)", "1.0 Sz(i) Sz(i+1)"]
    names = ("Sx", "Sy", "Sz")
    for a in names:
        for b in names:
            aklt.append("%.17g %s(i) %s(i) %s(i+1) %s(i+1)" % (1.0 / 3.0, a, b, a, b))
    out.append(("aklt_ring8", 8, 2, True, aklt))
    xxz = ["1.0 X(i) X(i+1)", "1.0 Y(i) Y(i+1)", "0.5 Z(i) Z(i+1)"]
    field = ["%.6f Z(%d)" % (rng.uniform(-2, 2), k) for k in range(10)]
    out.append(("xxz_random_field_open10", 10, 1, False, xxz + field))
    lr = ["%.17g Z(%d) Z(%d)" % (-1.0 / (j - i) ** 1.5, i, j) for i in range(10)
          for j in range(i + 1, 10)]
    out.append(("long_range_tfim_open10", 10, 1, False, lr + ["-1.0 X(i)"]))
    out.append(("spin32_xy_anisotropy_ring6", 6, 3, True,
                ["0.8 Sx(i) Sx(i+1)", "1.1 Sy(i) Sy(i+1)", "0.3 Sz(i) Sz(i)", "-0.2 Sz(i) Sz(i+2)"]))
    out.append(("cluster_ising_ring10", 10, 1, True,
                ["-1.0 Z(i-1) X(i) Z(i+1)", "-0.7 X(i)", "0.3 Z(i) Z(i+1)"]))
    out.append(("ring_exchange_ring9", 9, 1, True,
                ["0.4 X(i) X(i+1) X(i+2) X(i+3)", "0.6 Y(i) Y(i+1) Y(i+2) Y(i+3)", "-1.0 Z(i)",
                 "0.5 Z(i) Z(i+3)"]))
    out.append(("spin1_sy_pairs_far_open6", 6, 2, False,
                ["0.9 Sy(0) Sy(5)", "-0.4 S+(1) S+(1) S-(4) S-(4)", "-0.4 S-(1) S-(1) S+(4) S+(4)",
                 "1.0 Sz(i) Sz(i+1)", "0.5 Sx(i)"]))
    # Complex operators (issue 17): terms with one Sy/Y are imaginary.
    out.append(("xx_dm_open9", 9, 1, False,
                ["1.0 X(i) X(i+1)", "1.0 Y(i) Y(i+1)", "0.7 X(i) Y(i+1)", "-0.7 Y(i) X(i+1)",
                 "-0.3 Z(i)"]))
    out.append(("xxz_dm_ring8", 8, 1, True,
                ["1.0 X(i) X(i+1)", "1.0 Y(i) Y(i+1)", "0.4 Z(i) Z(i+1)", "-1.3 X(i) Y(i+1)",
                 "1.3 Y(i) X(i+1)"]))
    chiral = []
    for a, b, c, sgn in (("Sx", "Sy", "Sz", 1), ("Sy", "Sz", "Sx", 1), ("Sz", "Sx", "Sy", 1),
                         ("Sx", "Sz", "Sy", -1), ("Sy", "Sx", "Sz", -1), ("Sz", "Sy", "Sx", -1)):
        chiral.append("%g %s(i) %s(i+1) %s(i+2)" % (0.8 * sgn, a, b, c))
    out.append(("chiral_heisenberg_ring9", 9, 1, True,
                ["1.0 Sx(i) Sx(i+1)", "1.0 Sy(i) Sy(i+1)", "1.0 Sz(i) Sz(i+1)"] + chiral))
    out.append(("spin1_dm_open6", 6, 2, False,
                ["1.0 Sz(i) Sz(i+1)", "0.5 S+(i) S-(i+1)", "0.5 S-(i) S+(i+1)",
                 "0.6 Sx(i) Sy(i+1)", "-0.6 Sy(i) Sx(i+1)", "0.2 Sy(2) Sz(4)", "0.3 Sz(i) Sz(i)"]))
    return out


def main(argv):
    data = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "data")
    os.makedirs(os.path.join(data, "terms"), exist_ok=True)
    rows = ["# written by scripts/terms_ref.py: scipy.sparse Kronecker products, eigsh",
            "name,size,two_s,pbc,e0"]
    for name, n, two_s, pbc, lines in models():
        with open(os.path.join(data, "terms", name + ".txt"), "w") as f:
            f.write("# %s: %d sites of spin %g, %s (scripts/terms_ref.py)\n"
                    % (name, n, two_s / 2, "periodic" if pbc else "open"))
            f.write("\n".join(lines) + "\n")
        e0 = lowest(hamiltonian(lines, n, two_s, pbc))
        rows.append("%s,%d,%d,%d,%.12f" % (name, n, two_s, int(pbc), e0))
        print(rows[-1])
    with open(os.path.join(data, "terms_ref.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main(sys.argv)
