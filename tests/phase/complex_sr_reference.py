#!/usr/bin/python3
"""The complex SR step of arsampler against a dense numpy reference (issue 17).

Reads the dump of test_phase's test_split_sr_equals_dense_complex_sr (ARS_COMPLEX_SR_DUMP):
for each shape, n samples, P_mod modulus and P_phase phase parameters, diag_shift, then the
P x n real numbers O (rows 0..P_mod-1: the modulus's real O_k; the next rows: g_k, with
O_k = i g_k), the n local energies (Re, Im), and arsampler's direction x (P). Builds the
complex matrix O, and with numpy, in complex arithmetic and without the block structure
arsampler uses,
    Oc = O - <O>,  S = Re(Oc^H Oc) / n,  F = 2 Re(Oc^H (E - <E>)) / n,
    x_ref = (S + shift I)^-1 F,
and requires |x - x_ref| <= 1e-9 + 1e-8 |x_ref|. Prints OK and the largest difference.
"""
import sys

import numpy as np


def blocks(path):
    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines) and lines[i].strip():
        head = lines[i].split()
        assert head[0] == "shape", head
        n, pm, pp, shift = int(head[1]), int(head[2]), int(head[3]), float(head[4])
        P = pm + pp
        i += 1
        O = np.array([float(v) for v in lines[i:i + P * n]]).reshape(P, n)
        i += P * n
        E = np.array([[float(u) for u in l.split()] for l in lines[i:i + n]])
        i += n
        x = np.array([float(v) for v in lines[i:i + P]])
        i += P
        yield n, pm, pp, shift, O, E[:, 0] + 1j * E[:, 1], x


def main(path):
    worst, count = 0.0, 0
    for n, pm, pp, shift, O, E, x in blocks(path):
        Oc = O.astype(complex)
        Oc[pm:] *= 1j                                   # phase parameters: O = i g
        Oc -= Oc.mean(axis=1, keepdims=True)
        Ec = E - E.mean()
        S = (Oc.conj() @ Oc.T).real / n                 # S_kl = Re <Oc_k^* Oc_l>
        F = 2.0 * (Oc.conj() @ Ec).real / n             # F_k = 2 Re <Oc_k^* Ec> = 2 Re <Ec^* Oc_k>
        ref = np.linalg.solve(S + shift * np.eye(pm + pp), F)
        diff = np.abs(x - ref)
        if not np.all(diff <= 1e-9 + 1e-8 * np.abs(ref)):
            print("shape n=%d P_mod=%d P_phase=%d: max |x - numpy| = %.3g" % (n, pm, pp, diff.max()))
            return 1
        worst = max(worst, float((diff / np.maximum(1.0, np.abs(ref))).max()))
        count += 1
    if count < 3:
        print("expected 3 shapes in %s, got %d" % (path, count))
        return 1
    print("OK: %d shapes, max relative difference to numpy %.2e" % (count, worst))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
