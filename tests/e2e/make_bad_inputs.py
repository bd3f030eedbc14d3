#!/usr/bin/python3
"""Write damaged copies of a good arsampler file (used by tests/e2e_bad_inputs.cmake).

Usage: make_bad_inputs.py GOOD OUTDIR [--train]

GOOD is an arsampler output (with --train: the output of a training run with optimizer = adam).
For each case NAME the script writes OUTDIR/NAME.h5 (or leaves it missing, or makes it a folder)
and one line "NAME|REGEX" to OUTDIR/cases.txt, where REGEX (a CMake regular expression) must
match arsampler's one-line error message: it names the object at fault. Every case must make
arsampler exit with status 2, whether the file is given as [model] init = FILE or is the output
file of --resume (the --train cases only make sense for --resume).
"""
import os
import shutil
import sys

import h5py
import numpy as np

good, outdir = sys.argv[1], sys.argv[2]
train = "--train" in sys.argv[3:]
os.makedirs(outdir, exist_ok=True)
cases = []
blob = open(good, "rb").read()


def path(name):
    return os.path.join(outdir, name + ".h5")


def raw(name, data, regex):
    with open(path(name), "wb") as f:
        f.write(data)
    cases.append((name, regex))


def edit(name, regex, fn):
    """A copy of GOOD changed by fn(h5py.File)."""
    shutil.copyfile(good, path(name))
    with h5py.File(path(name), "r+") as f:
        fn(f)
    cases.append((name, regex))


def replace(f, name, data):
    del f[name]
    f[name] = data


def set_attr(obj, name, value):
    obj.attrs[name] = value  # replaces the attribute, type included


def del_attr(obj, name):
    del obj.attrs[name]


def scale_in(name, index, value):
    def fn(f):
        d = f[name][()]
        d.flat[index] = value
        f[name][...] = d

    return fn


K1 = "variables/params/layers_1/kernel"
B0 = "variables/params/layers_0/bias"

# ---- not a readable HDF5 file ------------------------------------------------------------------
cases.append(("missing", "missing\\.h5.*No such file"))
os.makedirs(path("folder"), exist_ok=True)
cases.append(("folder", "folder\\.h5.*folder"))
raw("text", b"this is not an HDF5 file\n" * 10, "text\\.h5.*not an HDF5 file")
raw("empty", b"", "empty\\.h5.*(empty|not an HDF5 file)")
raw("random", np.random.default_rng(7).integers(0, 256, 8192, dtype=np.uint8).tobytes(),
    "random\\.h5.*not an HDF5 file")
# The HDF5 signature followed by garbage: looks like HDF5, cannot be opened.
raw("signature_garbage", blob[:8] + np.random.default_rng(8).integers(
    0, 256, 4096, dtype=np.uint8).tobytes(), "signature_garbage\\.h5.*(truncated|corrupt)")
# Truncated: the signature only, the superblock only, and cut at several lengths.
for label, n in [("sig", 8), ("superblock", 96), ("header", 800), ("10pct", len(blob) // 10),
                 ("50pct", len(blob) // 2), ("90pct", len(blob) * 9 // 10),
                 ("minus1", len(blob) - 1)]:
    raw("truncated_" + label, blob[:n], "truncated_%s\\.h5.*truncated" % label)

# A corrupt global heap, where HDF5 keeps variable-length strings: the size of its first object
# (the root attribute `format`) becomes 2**40. HDF5 1.10 crashes copying it; arsampler turns the
# crash into exit status 2 and one message. Cases named crash_* are skipped under
# AddressSanitizer, which reports the out-of-bounds copy inside HDF5 itself.
gcol = blob.find(b"GCOL")
assert gcol > 0 and blob[gcol + 16:gcol + 18] == b"\x01\x00", "no global heap object 1"
raw("crash_global_heap", blob[:gcol + 24] + (1 << 40).to_bytes(8, "little") + blob[gcol + 32:],
    "crash_global_heap\\.h5.*corrupt")

# ---- another format --------------------------------------------------------------------------
edit("format_version_2", "format_version_2\\.h5.*format_version 2",
     lambda f: set_attr(f, "format_version", np.int64(2)))
edit("format_version_string", "format_version_string\\.h5.*format_version",
     lambda f: set_attr(f, "format_version", "1"))
edit("format_other", "format_other\\.h5.*format.*not an arsampler file",
     lambda f: set_attr(f, "format", "netket"))
edit("format_int", "format_int\\.h5.*format.*not an arsampler file",
     lambda f: set_attr(f, "format", np.int64(1)))

# ---- a damaged /model or /hilbert --------------------------------------------------------------
edit("model_no_kernel_size", "model_no_kernel_size\\.h5.*/model attribute 'kernel_size'",
     lambda f: del_attr(f["model"], "kernel_size"))
edit("model_layers_huge", "model_layers_huge\\.h5.*/model attribute 'layers'",
     lambda f: set_attr(f["model"], "layers", np.int64(1 << 40)))
edit("model_features_short", "model_features_short\\.h5.*/model attribute 'features'",
     lambda f: set_attr(f["model"], "features", np.array([4, 2], dtype=np.int64)))
edit("model_activation_unknown", "model_activation_unknown\\.h5.*/model activation",
     lambda f: set_attr(f["model"], "activation", "swish"))
edit("model_activation_int", "model_activation_int\\.h5.*/model attribute 'activation'",
     lambda f: set_attr(f["model"], "activation", np.int64(3)))
edit("hilbert_local_size_huge", "hilbert_local_size_huge\\.h5.*/hilbert",
     lambda f: set_attr(f["hilbert"], "local_size", np.int64(1000)))
edit("hilbert_missing", "hilbert_missing\\.h5.*/hilbert",
     lambda f: f.__delitem__("hilbert"))

# ---- variables: missing, wrong shape or type, not finite ------------------------------------
edit("no_variables", "no_variables\\.h5.*/variables",
     lambda f: f.__delitem__("variables"))
edit("no_layer_1", "no_layer_1\\.h5.*/variables/params/layers_1",
     lambda f: f.__delitem__("variables/params/layers_1"))
edit("no_bias_1", "no_bias_1\\.h5.*/variables/params/layers_1/bias",
     lambda f: f.__delitem__("variables/params/layers_1/bias"))
edit("no_kernel_2", "no_kernel_2\\.h5.*/variables/params/layers_2/kernel",
     lambda f: f.__delitem__("variables/params/layers_2/kernel"))
edit("kernel_is_group", "kernel_is_group\\.h5.*/variables/params/layers_1/kernel",
     lambda f: (f.__delitem__(K1), f.create_group(K1)))
edit("extra_layer", "extra_layer\\.h5.*/variables/params/layers_3",
     lambda f: f.copy(f["variables/params/layers_2"], "variables/params/layers_3"))


def wrong_shape(f):
    k = f[K1][()]
    replace(f, K1, np.zeros(k.shape[:2] + (k.shape[2] + 1,)))


edit("kernel_shape", "kernel_shape\\.h5.*/variables/params/layers_1/kernel.*shape", wrong_shape)
edit("kernel_rank", "kernel_rank\\.h5.*/variables/params/layers_1/kernel.*shape",
     lambda f: replace(f, K1, f[K1][()].reshape(f[K1].shape[0], -1)))
edit("kernel_scalar", "kernel_scalar\\.h5.*/variables/params/layers_1/kernel.*shape",
     lambda f: replace(f, K1, np.float64(0.5)))
edit("kernel_empty", "kernel_empty\\.h5.*/variables/params/layers_1/kernel.*shape",
     lambda f: replace(f, K1, np.zeros((0, 4, 4))))
edit("kernel_int", "kernel_int\\.h5.*/variables/params/layers_1/kernel.*floating",
     lambda f: replace(f, K1, np.ones(f[K1].shape, dtype=np.int32)))
edit("kernel_string", "kernel_string\\.h5.*/variables/params/layers_1/kernel.*floating",
     lambda f: replace(f, K1, "not numbers"))
edit("bias_shape", "bias_shape\\.h5.*/variables/params/layers_0/bias.*shape",
     lambda f: replace(f, B0, np.zeros(f[B0].shape[0] * 2)))
edit("kernel_nan", "kernel_nan\\.h5.*/variables/params/layers_1/kernel.*(nan|NaN|finite)",
     scale_in(K1, 5, np.nan))
edit("kernel_inf", "kernel_inf\\.h5.*/variables/params/layers_1/kernel.*(inf|finite)",
     scale_in(K1, 0, np.inf))
edit("bias_minus_inf", "bias_minus_inf\\.h5.*/variables/params/layers_0/bias.*(inf|finite)",
     scale_in(B0, 1, -np.inf))
# float32 overflow: 1e39 does not fit in float32 (stored as float32 it is inf).
edit("kernel_float32_inf", "kernel_float32_inf\\.h5.*/variables/params/layers_1/kernel",
     lambda f: replace(f, K1, np.full(f[K1].shape, np.inf, dtype=np.float32)))

# ---- the training state (for --resume) -------------------------------------------------------
if train:
    def log_len(f):
        return int(f["vmc"].attrs["iterations_done"])

    edit("no_vmc", "no_vmc\\.h5.*/vmc", lambda f: f.__delitem__("vmc"))
    edit("no_optimizer", "no_optimizer\\.h5.*/optimizer", lambda f: f.__delitem__("optimizer"))
    edit("no_optimizer_m", "no_optimizer_m\\.h5.*/optimizer/m",
         lambda f: f.__delitem__("optimizer/m"))
    edit("optimizer_v_short", "optimizer_v_short\\.h5.*/optimizer/v",
         lambda f: replace(f, "optimizer/v", f["optimizer/v"][:-1]))
    edit("optimizer_m_nan", "optimizer_m_nan\\.h5.*/optimizer/m.*(nan|NaN|finite)",
         scale_in("optimizer/m", 3, np.nan))
    edit("optimizer_v_negative", "optimizer_v_negative\\.h5.*/optimizer/v",
         scale_in("optimizer/v", 2, -1.0))
    edit("optimizer_type_sgd", "optimizer_type_sgd\\.h5.*/optimizer.*sgd",
         lambda f: set_attr(f["optimizer"], "type", "sgd"))
    edit("optimizer_no_step", "optimizer_no_step\\.h5.*/optimizer.*step",
         lambda f: del_attr(f["optimizer"], "step"))
    edit("optimizer_step_negative", "optimizer_step_negative\\.h5.*/optimizer.*step",
         lambda f: set_attr(f["optimizer"], "step", np.int64(-3)))
    edit("vmc_no_iterations_done", "vmc_no_iterations_done\\.h5.*/vmc.*iterations_done",
         lambda f: del_attr(f["vmc"], "iterations_done"))
    edit("vmc_iterations_done_more", "vmc_iterations_done_more\\.h5.*/vmc",
         lambda f: set_attr(f["vmc"], "iterations_done", np.int64(log_len(f) + 1)))
    edit("vmc_iterations_done_huge", "vmc_iterations_done_huge\\.h5.*/vmc",
         lambda f: set_attr(f["vmc"], "iterations_done", np.int64(1 << 50)))
    edit("vmc_iterations_done_negative", "vmc_iterations_done_negative\\.h5.*/vmc",
         lambda f: set_attr(f["vmc"], "iterations_done", np.int64(-1)))
    edit("vmc_energy_short", "vmc_energy_short\\.h5.*/vmc/energy",
         lambda f: replace(f, "vmc/energy", f["vmc/energy"][:-1]))
    edit("vmc_seconds_long", "vmc_seconds_long\\.h5.*/vmc/seconds",
         lambda f: replace(f, "vmc/seconds", np.append(f["vmc/seconds"][()], 1.0)))
    edit("vmc_no_grad_norm", "vmc_no_grad_norm\\.h5.*/vmc/grad_norm",
         lambda f: f.__delitem__("vmc/grad_norm"))
    edit("vmc_iteration_2d", "vmc_iteration_2d\\.h5.*/vmc/iteration",
         lambda f: replace(f, "vmc/iteration", f["vmc/iteration"][()].reshape(1, -1)))
    edit("vmc_iteration_gap", "vmc_iteration_gap\\.h5.*/vmc/iteration",
         scale_in("vmc/iteration", 1, 7))
    edit("vmc_iteration_float", "vmc_iteration_float\\.h5.*/vmc/iteration",
         lambda f: replace(f, "vmc/iteration", f["vmc/iteration"][()] + 0.5))

with open(os.path.join(outdir, "cases.txt"), "w") as out:
    for name, regex in cases:
        out.write("%s|%s\n" % (name, regex))
print(len(cases), "cases")
