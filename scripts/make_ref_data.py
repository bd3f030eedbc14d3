#!/usr/bin/python3
"""Write the forward-pass reference files data/ref/<case>.h5.

Each file has the arsampler layout (root attributes, /hilbert, /model,
/variables, see docs/hdf5-format.md) but no /samples or /log_prob; instead a
group /ref holds
    configs       int8    [n, size]              local state values (2*Sz)
    conditionals  float64 [n, size, local_size]  conditional log-amplitudes
    log_psi       float64 [n]
computed with scripts/arnn_ref.py.  Weights ~ normal(0, 0.6), biases ~
normal(0, 0.3), from numpy.random.default_rng(seed) with a fixed seed per case,
so re-running gives identical numbers.

Before writing, every case is brute-force checked (normalisation over all
configurations, causality, masked_conv1d against explicit loops); the written
files are then re-read and re-evaluated.

Usage: scripts/make_ref_data.py [OUTDIR]     (default: data/ref next to scripts/)
"""

import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arnn_ref  # noqa: E402

N_CONFIGS = 16
REF_VERSION = "ref-data (scripts/make_ref_data.py)"

# name -> (seed, make_model keyword arguments)
CASES = {
    "spin_half_basic": (101, dict(
        spin=0.5, size=8, layers=3, features=4, kernel_size=3, kernel_dilation=1,
        activation="selu", use_bias=True, input_kind="value", feature_group_count=1)),
    "spin_one_onehot_dilations": (102, dict(
        spin=1.0, size=6, layers=3, features=[6, 4, 3], kernel_size=2,
        kernel_dilation=[1, 2, 1], activation="gelu", use_bias=False,
        input_kind="onehot", feature_group_count=1)),
    "spin_half_groups_dilation2": (103, dict(
        spin=0.5, size=10, layers=4, features=6, kernel_size=3, kernel_dilation=2,
        activation="tanh", use_bias=True, input_kind="value", feature_group_count=2)),
    "spin_three_halves_relu": (104, dict(
        spin=1.5, size=5, layers=2, features=5, kernel_size=4, kernel_dilation=1,
        activation="relu", use_bias=True, input_kind="value", feature_group_count=1)),
    "spin_half_single_layer": (105, dict(
        spin=0.5, size=7, layers=1, features=[2], kernel_size=5, kernel_dilation=3,
        activation="identity", use_bias=True, input_kind="onehot", feature_group_count=1)),
}


def build_case(seed, kwargs):
    """Model (weights drawn first) and the n test configurations (drawn after)."""
    rng = np.random.default_rng(seed)
    model = arnn_ref.make_model(rng=rng, weight_std=0.6, bias_std=0.3, **kwargs)
    ls = model["local_states"]
    size = model["size"]
    configs = np.empty((N_CONFIGS, size), dtype=np.int8)
    configs[0] = ls[0]            # all lowest
    configs[1] = ls[-1]           # all highest
    configs[2:] = rng.choice(ls, size=(N_CONFIGS - 2, size))
    return model, configs


def write_case(path, seed, model, configs):
    cond = arnn_ref.conditionals(configs, model)
    lpsi = arnn_ref.log_psi(configs, model)
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        arnn_ref.save_model(f, model, seed, REF_VERSION)
        r = f.create_group("ref")
        r.create_dataset("configs", data=configs.astype(np.int8))
        r.create_dataset("conditionals", data=cond.astype(np.float64))
        r.create_dataset("log_psi", data=lpsi.astype(np.float64))
    os.replace(tmp, path)
    return cond, lpsi


def reread_check(path, cond, lpsi):
    """Reload the file and recompute: must reproduce the stored numbers bit for bit."""
    model = arnn_ref.load_model(path)
    with h5py.File(path, "r") as f:
        configs = f["ref/configs"][()]
        assert np.array_equal(f["ref/conditionals"][()], cond)
        assert np.array_equal(f["ref/log_psi"][()], lpsi)
    assert np.array_equal(arnn_ref.conditionals(configs, model), cond), path
    assert np.array_equal(arnn_ref.log_psi(configs, model), lpsi), path


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, os.pardir, "data", "ref")
    outdir = os.path.normpath(outdir)
    os.makedirs(outdir, exist_ok=True)

    print("arnn_ref self-check on extra random models:")
    arnn_ref.selfcheck()

    print("brute-force checks on the reference cases:")
    built = {}
    for name, (seed, kwargs) in CASES.items():
        model, configs = build_case(seed, kwargs)
        arnn_ref.selfcheck_model(model, configs, name)
        built[name] = (seed, model, configs)

    print("writing:")
    for name, (seed, model, configs) in built.items():
        path = os.path.join(outdir, name + ".h5")
        cond, lpsi = write_case(path, seed, model, configs)
        reread_check(path, cond, lpsi)
        shapes = ", ".join("x".join(str(n) for n in k.shape) for k in model["kernels"])
        print("  %s  (%d bytes)  spin %g size %d layers %d features %s kernels [%s] "
              "dilation %s %s bias=%d input=%s groups=%d; log_psi[0:2] = %.12g, %.12g"
              % (path, os.path.getsize(path), model["spin"], model["size"], model["layers"],
                 model["features"], shapes, model["kernel_dilation"], model["activation"],
                 model["use_bias"], model["input"], model["feature_group_count"],
                 lpsi[0], lpsi[1]))
    print("done: %d files" % len(built))


if __name__ == "__main__":
    main()
