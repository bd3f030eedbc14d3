#!/usr/bin/python3
"""e2e_netket: scripts/netket-convert against NetKet's semantics and Flax's serialisation.

Usage: check_netket_convert.py ARSAMPLER SRC WORK

For NetKet-shaped random parameters of several ARNNConv1D models, under both of NetKet's
local-state orders:
  * a .mpack written by a literal port of Flax's serialisation (flax_serialization.py) in
    JsonLog's tree and in a serialised MCState's tree converts to an .h5 and an .ini;
  * arsampler, run on that .ini, samples configurations whose log-probabilities equal NetKet's
    (arnn_ref.netket_log_psi on the original tree, configurations mapped to NetKet's values)
    to 1e-12, and each sampled value means the same S^z as NetKet's value for it;
  * copying the weights unchanged would have been wrong (the check can fail);
  * .h5 -> .mpack restores with the Flax port into the original tree (keys and shapes of
    ARNNConv1D's variables), and .h5 -> .mpack -> .h5 is bitwise;
  * what ARNNConv1D cannot express is refused with exit status 2 and one line, writing nothing.
"""

import os
import subprocess
import sys

import h5py
import numpy as np

ARSAMPLER, SRC, WORK = sys.argv[1:4]
sys.path.insert(0, os.path.join(SRC, "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arnn_ref  # noqa: E402
import flax_serialization as flax  # noqa: E402

CONVERT = [sys.executable, os.path.join(SRC, "scripts", "netket-convert")]
os.chdir(WORK)
failures = []


def check(ok, what):
    print("%s %s" % ("ok  " if ok else "FAIL", what))
    if not ok:
        failures.append(what)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def netket_params(rng, spin, layers, features, kernel_size, use_bias, dtype):
    """Random parameters with the shapes of nk.models.ARNNConv1D's MaskedConv1D layers:
    kernel (K - exclusive, in, out), in = 1 for layer 0 (the value), bias (out,)."""
    local_size = int(round(2 * spin)) + 1
    feats = list(features) + [local_size]
    params = {}
    for i in range(layers):
        cin = 1 if i == 0 else feats[i - 1]
        layer = {}
        if use_bias:
            layer["bias"] = rng.normal(0, 0.3, size=(feats[i],)).astype(dtype)
        layer["kernel"] = rng.normal(0, 0.6, size=(kernel_size - (i == 0), cin,
                                                   feats[i])).astype(dtype)
        params["_layers_%d" % i] = layer
    return params


def same_attrs(a, b, group):
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        x, y = dict(fa[group].attrs), dict(fb[group].attrs)
    return set(x) == set(y) and all(np.array_equal(np.asarray(x[k]), np.asarray(y[k]))
                                    for k in x)


CASES = [
    # name, spin, size, layers, hidden features, kernel_size, dilation, bias, activation, dtype,
    # tree
    ("half_k3_d2", 0.5, 10, 3, [6, 5], 3, 2, True, "selu", np.float64, "jsonlog"),
    ("one_k4_tanh", 1.0, 7, 2, [5], 4, 1, False, "tanh", np.float64, "mcstate"),
    ("half_d_eq_size", 0.5, 6, 2, [4], 2, 6, True, "gelu", np.float64, "jsonlog"),
    ("three_halves_f32", 1.5, 6, 3, [4, 4], 3, 1, True, "relu", np.float32, "jsonlog"),
    ("twelve_layers", 0.5, 8, 12, [3] * 11, 2, 1, True, "selu", np.float64, "jsonlog"),
]

rng = np.random.default_rng(2026)
for (name, spin, size, layers, feats, ksize, dil, bias, act, dtype, tree) in CASES:
    params = netket_params(rng, spin, layers, feats, ksize, bias, dtype)
    if layers > 10:   # saved trees may list _layers_10 before _layers_2: found by name
        params = dict(sorted(params.items()))
    if tree == "jsonlog":
        variables = {"params": params}       # JsonLog/StateLog: to_bytes(vstate.variables)
    else:                                    # to_bytes(vstate): serialize_MCState's dict
        variables = {"variables": {"params": params},
                     "sampler_state": {"key": np.arange(2, dtype=np.uint32),
                                       "rng": np.zeros(2, np.uint32)},
                     "n_samples": 1024, "n_discard_per_chain": 0, "chunk_size": None}
    mpack = "%s.mpack" % name
    with open(mpack, "wb") as f:
        f.write(flax.to_bytes(variables))
    for ordering in arnn_ref.NETKET_ORDERINGS:
        tag = "%s/%s" % (name, ordering)
        h5 = "%s_%s.h5" % (name, ordering)
        p = run(CONVERT + [mpack, h5, "--size", str(size), "--spin", "%g" % spin,
                           "--kernel-dilation", str(dil), "--activation", act,
                           "--netket-ordering", ordering])
        check(p.returncode == 0, "%s: .mpack -> .h5 (%s)" % (tag, p.stderr.strip()))
        if p.returncode != 0:
            continue
        ini = h5[:-3] + ".ini"
        p = run([ARSAMPLER, ini, "--quiet", "--set", "sampler.n_samples=300"])
        check(p.returncode == 0, "%s: arsampler samples the converted model (%s)"
              % (tag, p.stderr.strip()))
        if p.returncode != 0:
            continue
        with h5py.File(h5[:-3] + "_samples.h5", "r") as f:
            s = f["samples"][()].astype(np.float64)
            lp = f["log_prob"][()]
        if dil == size:   # arnn_ref once refused a dilation equal to the size
            p = run([sys.executable, os.path.join(SRC, "scripts", "check_output.py"),
                     h5[:-3] + "_samples.h5"])
            check(p.returncode == 0, "%s: check_output.py accepts dilation == size (%s)"
                  % (tag, (p.stdout + p.stderr).strip()[-300:]))
        # The same physical configuration in NetKet's values: NetKet's index c is S^z = S - c.
        sigma = s if ordering == "default" else -s
        same_sz = np.array_equal(arnn_ref.netket_sz(sigma, spin, ordering), s / 2)
        check(same_sz, "%s: each arsampler value is NetKet's value of the same S^z" % tag)
        ref = 2.0 * arnn_ref.netket_log_psi(sigma, params, spin, dil, act, ordering)
        err = float(np.max(np.abs(ref - lp)))
        check(err <= 1e-12, "%s: log-probabilities equal NetKet's (max |diff| %.1e)" % (tag, err))
        if ordering == "default":
            wrong = 2.0 * arnn_ref.netket_log_psi(s, params, spin, dil, act, "inverted")
            check(float(np.max(np.abs(wrong - lp))) > 1e-3,
                  "%s: weights copied unchanged would disagree (max |diff| %.2g)"
                  % (tag, float(np.max(np.abs(wrong - lp)))))
        if size * np.log(2 * spin + 1) < np.log(5000):   # small: NetKet's model is normalised
            ls = arnn_ref.netket_local_states(spin, ordering)
            grid = np.array(np.meshgrid(*[ls] * size, indexing="ij")).reshape(size, -1).T
            tot = float(np.sum(np.exp(2.0 * arnn_ref.netket_log_psi(grid, params, spin, dil,
                                                                     act, ordering))))
            check(abs(tot - 1) < 1e-12, "%s: NetKet's reference sums to 1 (%.1e)"
                  % (tag, abs(tot - 1)))
        # Back to NetKet, restored by Flax's own code into ARNNConv1D's variables.
        back = "%s_%s_back.mpack" % (name, ordering)
        p = run(CONVERT + [h5, back, "--netket-ordering", ordering])
        check(p.returncode == 0 and "nk.models.ARNNConv1D" in p.stdout,
              "%s: .h5 -> .mpack (%s)" % (tag, p.stderr.strip()))
        target = {"params": {k: {n: np.zeros(a.shape) for n, a in v.items()}
                             for k, v in params.items()}}
        with open(back, "rb") as f:
            restored = flax.from_bytes(target, f.read())
        same = set(restored["params"]) == set(params) and all(
            set(restored["params"][k]) == set(params[k]) and all(
                restored["params"][k][n].dtype == np.float64
                and restored["params"][k][n].shape == params[k][n].shape
                and np.array_equal(restored["params"][k][n], params[k][n].astype(np.float64))
                for n in params[k]) for k in params)
        check(same, "%s: Flax restores the original variables exactly" % tag)
        again = "%s_%s_again.h5" % (name, ordering)
        p = run(CONVERT + [back, again, "--size", str(size), "--spin", "%g" % spin,
                           "--kernel-dilation", str(dil), "--activation", act,
                           "--netket-ordering", ordering])
        check(p.returncode == 0, "%s: .mpack -> .h5 again" % tag)
        p = run([sys.executable, os.path.join(SRC, "tests", "e2e", "h5same.py"), h5, again,
                 "/variables", "/hilbert"])
        check(p.returncode == 0 and same_attrs(h5, again, "/model")
              and same_attrs(h5, again, "/hilbert"),
              "%s: .h5 -> .mpack -> .h5 is bitwise (%s)" % (tag, (p.stdout + p.stderr).strip()))


def expect_refused(cmd, what, output):
    before = os.path.exists(output)
    p = run(cmd)
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 2 and len(lines) == 1 and lines[0].startswith("netket-convert: error:")
          and os.path.exists(output) == before,
          "refused: %s (rc %d: %s)" % (what, p.returncode, p.stderr.strip()))


# arsampler files that ARNNConv1D cannot express, made by the binary itself.
QUICK = os.path.join(SRC, "configs", "quickstart.ini")
base = ["--quiet", "--set", "sampler.n_samples=8", "--set", "system.size=8",
        "--set", "model.kernel_dilation=1"]
refusals = {
    "per_layer_dilations": ["--set", "model.kernel_dilation=1,2,4"],
    "feature_groups": ["--set", "model.feature_group_count=2"],
    "onehot": ["--set", "model.input=onehot"],
    "sublattice": ["--set", "model.sublattice=2"],
    "sector": ["--set", "system.total_sz=0"],
    "symmetrize": ["--set", "model.symmetrize=spin_flip"],
    "float32": ["--set", "model.dtype=float32"],
}
for what, extra in refusals.items():
    p = run([ARSAMPLER, QUICK] + base + extra + ["--output", what + ".h5"])
    check(p.returncode == 0, "arsampler writes the %s file" % what)
    expect_refused(CONVERT + [what + ".h5", what + ".mpack"], what, what + ".mpack")
p = run([ARSAMPLER, QUICK] + base + ["--output", "plain.h5"])
check(p.returncode == 0 and run(CONVERT + ["plain.h5", "plain.mpack"]).returncode == 0,
      "a plain arsampler network converts")

args = ["--size", "6", "--spin", "0.5", "--kernel-dilation", "1"]
bad = netket_params(rng, 0.5, 2, [4], 3, True, np.float64)
bad["_layers_1"]["kernel"] = bad["_layers_1"]["kernel"].astype(np.complex128)
with open("complex.mpack", "wb") as f:
    f.write(flax.to_bytes({"params": bad}))
expect_refused(CONVERT + ["complex.mpack", "complex.h5"] + args, "complex weights", "complex.h5")
expect_refused(CONVERT + ["half_k3_d2.mpack", "spin.h5", "--size", "10", "--spin", "1",
                          "--kernel-dilation", "2"], "a spin that does not fit the last layer",
               "spin.h5")
with open("text.mpack", "w") as f:
    f.write("not msgpack")
expect_refused(CONVERT + ["text.mpack", "text.h5"] + args, "a file that is not msgpack",
               "text.h5")
with open("own_names.mpack", "wb") as f:
    f.write(flax.to_bytes({"params": {"layers_0": bad["_layers_0"]}}))
expect_refused(CONVERT + ["own_names.mpack", "own.h5"] + args, "arsampler's layer names",
               "own.h5")
expect_refused(CONVERT + ["missing.mpack", "missing.h5"] + args, "a missing file", "missing.h5")
# A failed conversion keeps a good file as it was.
good = open("plain.mpack", "rb").read()
expect_refused(CONVERT + ["onehot.h5", "plain.mpack"], "onehot over an existing file",
               "plain.mpack")
check(open("plain.mpack", "rb").read() == good, "the refused conversion left plain.mpack as it was")

# arsampler itself names NetKet's layer names when given such a file directly.
with h5py.File("netket_names.h5", "w") as f:
    g = f.create_group("variables/params/_layers_0")
    g["kernel"] = np.zeros((2, 1, 2))
p = run([ARSAMPLER, QUICK, "--quiet", "--set", "model.layers=1", "--set", "model.features=2",
         "--set", "model.kernel_dilation=1", "--set", "model.init=netket_names.h5",
         "--output", "nn.h5"])
check(p.returncode == 2 and "netket-convert" in p.stderr,
      "arsampler points to netket-convert for NetKet's names (%s)" % p.stderr.strip())

if failures:
    print("%d checks failed" % len(failures))
    sys.exit(1)
print("all checks passed")
