#!/usr/bin/python3
"""Writes the terms_file of an XXZ chain in a random field (many-body localisation studies):

    H = sum_i (X_i X_{i+1} + Y_i Y_{i+1} + Delta Z_i Z_{i+1}) + sum_i h_i Z_i,  h_i uniform in [-W, W]

in arsampler's term syntax (docs/hamiltonians.md), Pauli matrices, open chain. The fields come
from numpy's PCG64 seeded with SEED, so the same seed gives the same file on every machine.

Usage: /usr/bin/python3 scripts/random_field_terms.py SIZE DELTA W SEED OUTPUT
The shipped configs/xxz_random_field_n16_obc.terms is `16 0.5 2 2026 ...`.
"""
import sys

import numpy as np


def main(argv):
    if len(argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    n, delta, w, seed, out = int(argv[1]), float(argv[2]), float(argv[3]), int(argv[4]), argv[5]
    h = np.random.default_rng(seed).uniform(-w, w, size=n)
    with open(out, "w") as f:
        f.write("# XXZ chain, Delta = %g, random field h_i in [-%g, %g], %d sites, seed %d\n"
                % (delta, w, w, n, seed))
        f.write("# written by scripts/random_field_terms.py %d %g %g %d\n" % (n, delta, w, seed))
        f.write("1.0 X(i) X(i+1)\n1.0 Y(i) Y(i+1)\n%.17g Z(i) Z(i+1)\n" % delta)
        for i, hi in enumerate(h):
            f.write("%.17g Z(%d)\n" % (hi, i))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
