#!/usr/bin/python3
"""Minimal example: read an arsampler output file with h5py.

Usage: scripts/example_read.py FILE [N_SHOW]

Prints the model, the sample mean of Sz per site (samples store 2*Sz), and the
first N_SHOW (default 5) samples with their log-probability.
"""

import sys

import h5py
import numpy as np


def text(value):
    """String attributes come back as str (variable-length) or bytes (fixed-length)."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    path = sys.argv[1]
    n_show = int(sys.argv[2]) if len(sys.argv) > 2 else 5

    with h5py.File(path, "r") as f:
        print("file %s: format %s v%d, written by arsampler %s, seed %d"
              % (path, text(f.attrs["format"]), f.attrs["format_version"],
                 text(f.attrs["arsampler_version"]), f.attrs["seed"]))

        h = f["hilbert"]
        print("hilbert: spin %g, %d sites, local states (2*Sz) %s"
              % (h.attrs["spin"], h.attrs["size"], h["local_states"][()].tolist()))

        m = f["model"]
        print("model: ARNNConv1D, %d layers, features %s, kernel_size %d, dilation %s,"
              % (m.attrs["layers"], m.attrs["features"].tolist(), m.attrs["kernel_size"],
                 m.attrs["kernel_dilation"].tolist()))
        print("       activation %s, input %s, use_bias %d, feature_group_count %d"
              % (text(m.attrs["activation"]), text(m.attrs["input"]), m.attrs["use_bias"],
                 m.attrs["feature_group_count"]))
        # Iterate by index: h5py lists groups by name, so layers_10 would sort before layers_2.
        for i in range(m.attrs["layers"]):
            layer = f["variables/params/layers_%d" % i]
            shapes = ", ".join("%s %s" % (k, layer[k].shape) for k in ("kernel", "bias")
                               if k in layer)
            print("       layers_%d: %s" % (i, shapes))

        if "samples" not in f:
            print("no samples in this file")
            return 0
        samples = f["samples"][()]          # int8 [n_samples, size], values 2*Sz
        log_prob = f["log_prob"][()]        # float64 [n_samples], log |psi|^2

    sz = samples.astype(np.float64) / 2.0
    print("%d samples" % len(samples))
    print("mean Sz per site:", np.array2string(sz.mean(axis=0), precision=4))
    print("mean Sz (all sites): %.6f" % sz.mean())
    print("first samples (2*Sz per site) and log_prob:")
    for s, lp in zip(samples[:n_show], log_prob[:n_show]):
        print("  %s  %.10f" % (" ".join("%+d" % v for v in s), lp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
