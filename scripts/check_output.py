#!/usr/bin/python3
"""Validate an arsampler output file against docs/hdf5-format.md (format_version 1).

Usage:
    scripts/check_output.py FILE... [--n-samples N] [--recompute M] [--variables-only]

Checks every attribute, group and dataset of the contract (presence, type
class / dtype, shape), format == "arsampler", format_version == 1, that the
model attributes are consistent with each other and with the kernel shapes,
that every sample value is one of /hilbert/local_states, and recomputes
log_prob of the first M samples (default 256) with scripts/arnn_ref.py,
requiring agreement within 1e-10 absolute (1e-5 per site for files whose /model
attribute dtype is float32).

--n-samples N     also require exactly N samples.
--recompute M     number of samples to recompute (0 disables).
--variables-only  the file holds only variables (like data/ref/*.h5): skip
                  /samples and /log_prob.

Several files are checked in turn, with the same options (one interpreter start for many
small files); the first failure stops the run.

Exit status 0 on success, 1 (with a message naming the failing item) otherwise.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arnn_ref  # noqa: E402
import arsampler_io  # noqa: E402

LOG_PROB_TOL = 1e-10


class CheckError(Exception):
    pass


def fail(item, msg):
    raise CheckError("%s: %s" % (item, msg))


# --- low-level helpers -------------------------------------------------------


def get_attr(obj, name, where):
    """Attribute `name` of h5py object obj, plus its HDF5 type (to check the class)."""
    if name not in obj.attrs:
        fail("%s attribute '%s'" % (where, name), "missing")
    aid = obj.attrs.get_id(name)
    return obj.attrs[name], aid.get_type(), aid.shape


def attr_string(obj, name, where):
    import h5py
    value, htype, shape = get_attr(obj, name, where)
    item = "%s attribute '%s'" % (where, name)
    if htype.get_class() != h5py.h5t.STRING:
        fail(item, "expected a string, got HDF5 type class %d" % htype.get_class())
    if shape not in ((), None):
        fail(item, "expected a scalar string, got shape %s" % (shape,))
    if isinstance(value, np.ndarray):
        value = value[()]
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    return value


def attr_scalar(obj, name, where, dtype):
    value, _htype, shape = get_attr(obj, name, where)
    item = "%s attribute '%s'" % (where, name)
    value = np.asarray(value)
    if value.dtype != np.dtype(dtype):
        fail(item, "expected %s, got %s" % (np.dtype(dtype).name, value.dtype))
    if value.shape != ():
        fail(item, "expected a scalar, got shape %s" % (value.shape,))
    return value[()]


def attr_array(obj, name, where, dtype, length):
    value, _htype, _shape = get_attr(obj, name, where)
    item = "%s attribute '%s'" % (where, name)
    value = np.asarray(value)
    if value.dtype != np.dtype(dtype):
        fail(item, "expected %s, got %s" % (np.dtype(dtype).name, value.dtype))
    if value.shape != (length,):
        fail(item, "expected shape (%d,), got %s" % (length, value.shape))
    return value


def get_dataset(f, path, dtype, shape):
    import h5py
    if path not in f:
        fail(path, "missing")
    ds = f[path]
    if not isinstance(ds, h5py.Dataset):
        fail(path, "is not a dataset")
    if ds.dtype != np.dtype(dtype):
        fail(path, "expected dtype %s, got %s" % (np.dtype(dtype).name, ds.dtype))
    if shape is None:
        if len(ds.shape) != 1:
            fail(path, "expected a 1-d dataset, got shape %s" % (ds.shape,))
    elif ds.shape != tuple(shape):
        fail(path, "expected shape %s, got %s" % (tuple(shape), ds.shape))
    return ds


def get_group(f, path):
    import h5py
    if path not in f:
        fail(path, "missing group")
    if not isinstance(f[path], h5py.Group):
        fail(path, "is not a group")
    return f[path]


# --- the checks ---------------------------------------------------------------


def check_root(f):
    fmt = attr_string(f, "format", "/")
    if fmt != "arsampler":
        fail("/ attribute 'format'", "expected 'arsampler', got %r" % fmt)
    ver = attr_scalar(f, "format_version", "/", np.int64)
    if ver != 1:
        fail("/ attribute 'format_version'", "expected 1, got %d" % ver)
    version = attr_string(f, "arsampler_version", "/")
    config = attr_string(f, "config", "/")
    if not config.strip():
        fail("/ attribute 'config'", "is empty")
    seed = attr_scalar(f, "seed", "/", np.uint64)
    if "blas" in f.attrs and not attr_string(f, "blas", "/").strip():
        fail("/ attribute 'blas'", "is empty")  # absent in files written before it existed
    return version, seed


def check_hilbert(f):
    h = get_group(f, "/hilbert")
    size = int(attr_scalar(h, "size", "/hilbert", np.int64))
    local_size = int(attr_scalar(h, "local_size", "/hilbert", np.int64))
    spin = float(attr_scalar(h, "spin", "/hilbert", np.float64))
    if size < 1:
        fail("/hilbert attribute 'size'", "must be >= 1, got %d" % size)
    try:
        expected = arnn_ref.spin_local_states(spin)
    except ValueError as e:
        fail("/hilbert attribute 'spin'", str(e))
    if local_size != len(expected):
        fail("/hilbert attribute 'local_size'",
             "spin %g needs local_size %d, got %d" % (spin, len(expected), local_size))
    ls = get_dataset(f, "/hilbert/local_states", np.float64, (local_size,))[()]
    if not np.array_equal(ls, expected):
        fail("/hilbert/local_states", "expected %s (2*Sz ascending), got %s"
             % (expected.tolist(), ls.tolist()))
    return size, local_size, spin, ls


def check_model(f, local_size):
    m = get_group(f, "/model")
    w = "/model"
    layers = int(attr_scalar(m, "layers", w, np.int64))
    if layers < 1:
        fail("/model attribute 'layers'", "must be >= 1, got %d" % layers)
    kernel_size = int(attr_scalar(m, "kernel_size", w, np.int64))
    if kernel_size < 2:
        fail("/model attribute 'kernel_size'", "must be >= 2, got %d" % kernel_size)
    fgc = int(attr_scalar(m, "feature_group_count", w, np.int64))
    if fgc < 1:
        fail("/model attribute 'feature_group_count'", "must be >= 1, got %d" % fgc)
    mp = int(attr_scalar(m, "machine_pow", w, np.int64))
    if mp != 2:
        fail("/model attribute 'machine_pow'", "expected 2, got %d" % mp)
    use_bias = int(attr_scalar(m, "use_bias", w, np.int64))
    if use_bias not in (0, 1):
        fail("/model attribute 'use_bias'", "expected 0 or 1, got %d" % use_bias)
    features = attr_array(m, "features", w, np.int64, layers)
    if np.any(features < 1):
        fail("/model attribute 'features'", "entries must be >= 1, got %s" % features.tolist())
    if features[-1] != local_size:
        fail("/model attribute 'features'", "last entry must equal local_size %d, got %s"
             % (local_size, features.tolist()))
    dil = attr_array(m, "kernel_dilation", w, np.int64, layers)
    if np.any(dil < 1):
        fail("/model attribute 'kernel_dilation'", "entries must be >= 1, got %s" % dil.tolist())
    act = attr_string(m, "activation", w)
    if act not in arnn_ref.ACTIVATIONS:
        fail("/model attribute 'activation'", "unknown value %r" % act)
    inp = attr_string(m, "input", w)
    if inp not in arnn_ref.INPUT_KINDS:
        fail("/model attribute 'input'", "unknown value %r" % inp)
    sublattice = 1
    if "sublattice" in m.attrs:
        sublattice = int(attr_scalar(m, "sublattice", w, np.int64))
        if sublattice < 2:
            fail("/model attribute 'sublattice'", "must be >= 2 when present, got %d" % sublattice)
    # group divisibility for the hidden-to-hidden layers
    for i in range(1, layers - 1):
        if features[i - 1] % fgc or features[i] % fgc:
            fail("/model attribute 'feature_group_count'",
                 "%d does not divide features of layer %d (%d -> %d)"
                 % (fgc, i, features[i - 1], features[i]))
    return dict(layers=layers, kernel_size=kernel_size, feature_group_count=fgc,
                machine_pow=mp, use_bias=bool(use_bias), features=[int(v) for v in features],
                kernel_dilation=[int(v) for v in dil], activation=act, input=inp,
                sublattice=sublattice, local_size=local_size)


def check_variables(f, model):
    params = get_group(f, "/variables/params")
    layers = model["layers"]
    for i in range(layers):
        base = "/variables/params/layers_%d" % i
        get_group(f, base)
        shape = arnn_ref.expected_kernel_shape(model, i)
        get_dataset(f, base + "/kernel", np.float64, shape)
        if model["use_bias"]:
            get_dataset(f, base + "/bias", np.float64, (model["features"][i],))
        elif "bias" in f[base]:
            fail(base + "/bias", "present although use_bias = 0")
    extra = sorted(set(params.keys()) - {"layers_%d" % i for i in range(layers)})
    if extra:
        fail("/variables/params", "unexpected entries %s (layers = %d)" % (extra, layers))


def check_compressed(ds, path):
    if ds.chunks is None:
        fail(path, "must be chunked")
    if ds.compression != "gzip":
        fail(path, "must be deflate-compressed, compression is %r" % (ds.compression,))


def check_samples(f, size, local_states, n_expected):
    import h5py
    if "samples" not in f:
        fail("/samples", "missing")
    if not isinstance(f["samples"], h5py.Dataset) or f["samples"].ndim != 2:
        fail("/samples", "must be a 2-d dataset")
    n = f["samples"].shape[0]
    samples_ds = get_dataset(f, "/samples", np.int8, (n, size))
    log_prob_ds = get_dataset(f, "/log_prob", np.float64, (n,))
    if n_expected is not None and n != n_expected:
        fail("/samples", "expected %d samples, got %d" % (n_expected, n))
    check_compressed(samples_ds, "/samples")
    check_compressed(log_prob_ds, "/log_prob")
    samples = samples_ds[()]
    log_prob = log_prob_ds[()]
    bad = ~np.isin(samples.astype(np.float64), local_states)
    if np.any(bad):
        r, c = np.argwhere(bad)[0]
        fail("/samples", "value %d at [%d, %d] is not in local_states %s"
             % (samples[r, c], r, c, local_states.tolist()))
    if not np.all(np.isfinite(log_prob)):
        fail("/log_prob", "contains non-finite values")
    if np.any(log_prob > 1e-12):
        fail("/log_prob", "contains log-probabilities > 0 (max %g)" % log_prob.max())
    return samples, log_prob


OBSERVABLES = ["sz", "magnetization", "abs_magnetization", "staggered_magnetization",
               "zz_correlation", "zz_connected", "structure_factor", "sx", "xx_correlation",
               "energy", "renyi2", "string_order"]


def check_observables(f, size, pbc):
    """The /observables contract: shapes, types and coordinates of every measured group."""
    g = get_group(f, "/observables")
    n = attr_scalar(g, "n_samples", "/observables", np.int64)
    source = attr_string(g, "source", "/observables")
    if source not in ("samples", "final_samples"):
        fail("/observables attribute 'source'", "must be samples or final_samples, got %r"
             % source)
    nr = size // 2 + 1 if pbc else size - (size - 1) // 2
    names = []
    for name in g:
        where = "/observables/%s" % name
        attr_string(g[name], "description", where)
        if name not in OBSERVABLES:
            # A user operator ([observables] operator): its terms, and scalar estimates.
            if "definition" not in g[name].attrs:
                fail(where, "unknown observable (neither built in nor a user operator with a "
                     "'definition' attribute)")
            if not attr_string(g[name], "definition", where).strip():
                fail(where + " attribute 'definition'", "is empty")
            for part in ("mean", "error", "variance"):
                get_dataset(f, where + "/" + part, np.float64, ())
            cnt = int(get_dataset(f, where + "/n_samples", np.int64, ())[()])
            if cnt != n:
                fail(where + "/n_samples", "expected %d, got %d" % (n, cnt))
            names.append(name)
            continue
        shape = {"sz": (size,), "sx": (size,), "structure_factor": (size,),
                 "zz_correlation": (nr,), "zz_connected": (nr,), "xx_correlation": (nr,),
                 "string_order": (nr,)}
        if name == "renyi2":
            cuts = get_dataset(f, where + "/cuts", np.int64, None)[()]
            shp = (len(cuts),)
            if not np.all((cuts >= 1) & (cuts < size)):
                fail(where + "/cuts", "cuts must lie in 1..size-1, got %s" % cuts)
        else:
            shp = shape.get(name, ())
        get_dataset(f, where + "/mean", np.float64, shp)
        get_dataset(f, where + "/error", np.float64, shp)
        cnt = int(get_dataset(f, where + "/n_samples", np.int64, ())[()])
        if cnt != (n // 2 if name == "renyi2" else n):
            fail(where + "/n_samples", "expected %d, got %d" % (n, cnt))
        if name in ("zz_correlation", "zz_connected", "xx_correlation", "string_order"):
            dist = get_dataset(f, where + "/distance", np.int64, (nr,))[()]
            if not np.array_equal(dist, np.arange(nr)):
                fail(where + "/distance", "expected 0..%d" % (nr - 1))
            centre = attr_scalar(g[name], "centre", where, np.int64)
            if centre != (-1 if pbc else (size - 1) // 2):
                fail(where + " attribute 'centre'", "got %d" % centre)
        if name == "structure_factor":
            k = get_dataset(f, where + "/k", np.float64, (size,))[()]
            if not np.allclose(k, 2 * np.pi * np.arange(size) / size, rtol=0, atol=1e-15):
                fail(where + "/k", "expected 2 pi n / size")
        if name == "energy":
            get_dataset(f, where + "/variance", np.float64, ())
        names.append(name)
    return "  observables (%s, %d samples): %s" % (source, n, ", ".join(names))


EVOLUTION_COLUMNS = ("time", "energy", "energy_error", "energy_variance", "energy_imag",
                     "energy_imag_error")
STEP_COLUMNS = ("t", "dt", "accepted", "error", "residual", "energy", "energy_error", "seconds")


def _dataset_paths(group):
    """Paths of every dataset below group."""
    import h5py
    found = []
    group.visititems(lambda n, o: found.append(n) if isinstance(o, h5py.Dataset) else None)
    return found


def check_evolution(f, n_params):
    """/evolution of a mode = evolve output (docs/hdf5-format.md): consistent lengths, a time
    grid from 0 that increases, the step log's counts, k0 of length 0 or P."""
    g = get_group(f, "/evolution")
    M = len(get_dataset(f, "/evolution/time", np.float64, None)[()])
    t = f["/evolution/time"][()]
    if M < 1 or t[0] != 0.0 or np.any(np.diff(t) <= 0):
        fail("/evolution/time", "must start at 0 and increase (got %s)" % t[:5])
    for c in EVOLUTION_COLUMNS:
        get_dataset(f, "/evolution/" + c, np.float64, (M,))
    for name in g.get("observables", {}):
        mean = f["/evolution/observables/%s/mean" % name]
        get_dataset(f, "/evolution/observables/%s/mean" % name, np.float64, mean.shape)
        if mean.ndim not in (1, 2) or mean.shape[0] != M:
            fail("/evolution/observables/%s/mean" % name, "%d rows, /evolution/time has %d"
                 % (mean.shape[0], M))
        get_dataset(f, "/evolution/observables/%s/error" % name, np.float64, mean.shape)
    S = len(get_dataset(f, "/evolution/steps/t", np.float64, None)[()])
    for c in STEP_COLUMNS:
        get_dataset(f, "/evolution/steps/" + c, np.float64, (S,))
    acc = int(attr_scalar(g, "steps_accepted", "/evolution", np.int64))
    rej = int(attr_scalar(g, "steps_rejected", "/evolution", np.int64))
    if acc + rej != S or int(f["/evolution/steps/accepted"][()].sum()) != acc:
        fail("/evolution/steps", "%d steps logged, attributes say %d accepted + %d rejected"
             % (S, acc, rej))
    k0 = len(get_dataset(f, "/evolution/k0", np.float64, None)[()])
    if k0 not in (0, n_params):
        fail("/evolution/k0", "%d entries; the networks have %d parameters" % (k0, n_params))
    return "  evolution: %d times to t = %g, %d steps (%d rejected)" % (M, t[-1], acc, rej)


def run_checks(path, n_samples=None, recompute=256, variables_only=False):
    import h5py
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        fail(path, "cannot open as HDF5 (%s)" % e)
    with f:
        version, seed = check_root(f)
        size, local_size, spin, ls = check_hilbert(f)
        model_attrs = check_model(f, local_size)
        check_variables(f, model_attrs)
        model = arnn_ref.load_model(f)
        lines = ["%s: format arsampler v1, arsampler_version %s, seed %d"
                 % (path, version, seed),
                 "  hilbert: spin %g, size %d, local_size %d" % (spin, size, local_size),
                 "  model: layers %d, features %s, kernel_size %d, dilation %s, %s, "
                 "bias=%d, input=%s, groups=%d"
                 % (model["layers"], model["features"], model["kernel_size"],
                    model["kernel_dilation"], model["activation"], model["use_bias"],
                    model["input"], model["feature_group_count"])
                 + (", sublattice %d" % model["sublattice"] if model["sublattice"] > 1 else "")]
        if model["total_sz"] is not None or model["symmetrize"] != "none":
            lines.append("  sector: total_sz %s; symmetrize %s"
                         % ("none" if model["total_sz"] is None else "%g" % model["total_sz"],
                            model["symmetrize"]))
        try:
            arnn_ref.parse_symmetrize(model["symmetrize"])
        except ValueError:
            fail("/model attribute 'symmetrize'", "unknown value %r" % model["symmetrize"])
        if variables_only:
            lines.append("  variables only: /samples and /log_prob not checked")
            return lines
        if "evolution" in f:
            P = 0
            for grp in ("variables/params", "variables/phase"):
                if grp in f:
                    P += sum(f[grp][k].size for k in _dataset_paths(f[grp]))
            lines.append(check_evolution(f, P))
            lines.append("  no samples (mode = evolve)")
            return lines
        samples, log_prob = check_samples(f, size, ls, n_samples)
        if model["total_sz"] is not None:
            off = np.nonzero(samples.sum(axis=1, dtype=np.int64) != round(2 * model["total_sz"]))[0]
            if len(off) > 0:
                fail("/samples", "sample %d has total_sz %g, outside the sector total_sz = %g"
                     % (off[0], 0.5 * samples[off[0]].sum(), model["total_sz"]))
        m = min(recompute, len(samples))
        # Samples drawn in float32 ([model] dtype) carry float32 conditionals: 1e-5 per site.
        dtype = (attr_string(f["model"], "dtype", "/model") if "dtype" in f["model"].attrs
                 else "float64")
        if dtype not in ("float64", "float32"):
            fail("/model attribute 'dtype'", "must be float64 or float32, got %r" % dtype)
        tol = LOG_PROB_TOL if dtype == "float64" else 1e-5 * size
        if m > 0:
            ref = arnn_ref.log_prob(samples[:m], model)
            err = np.abs(ref - log_prob[:m])
            worst = int(np.argmax(err))
            if not err[worst] <= tol:
                fail("/log_prob", "sample %d: file has %.17g, arnn_ref gives %.17g (|diff| %.3g > %g)"
                     % (worst, log_prob[worst], ref[worst], err[worst], tol))
            lines.append("  %d samples; log_prob of first %d recomputed, max |diff| = %.3g"
                         % (len(samples), m, err[worst]))
        else:
            lines.append("  %d samples; log_prob not recomputed" % len(samples))
        if "phase" in f:
            # A phase network: /phase [n] against the numpy phase network (Marshall included).
            text = f.attrs["config"]
            cfg = arsampler_io.parse_config(text.decode() if isinstance(text, bytes) else text)
            marshall = cfg.get("hamiltonian", {}).get("marshall_sign", "false") in (
                "true", "yes", "on", "1")
            phase = arnn_ref.load_phase(f, marshall)
            phi = get_dataset(f, "/phase", np.float64, (len(samples),))[()]
            if m > 0:
                ref = arnn_ref.phase_phi(samples[:m], phase)
                err = np.abs(ref - phi[:m])
                worst = int(np.argmax(err))
                if not err[worst] <= 1e-10 * max(1.0, abs(ref[worst])):
                    fail("/phase", "sample %d: file has %.17g, arnn_ref gives %.17g"
                         % (worst, phi[worst], ref[worst]))
                lines.append("  phase of first %d recomputed, max |diff| = %.3g" % (m, err[worst]))
        for name in ("local_energy", "local_energy_imag"):
            # Training's per-sample local energies: one finite value per sample (their values
            # against numpy: scripts/obs_ref.py).
            if name in f:
                e = get_dataset(f, "/" + name, np.float64, (len(samples),))[()]
                if not np.all(np.isfinite(e)):
                    fail("/" + name, "holds a non-finite value")
                lines.append("  /%s: mean %.10g over %d samples" % (name, e.mean(), len(e)))
        if "local_energy_imag" in f and "phase" not in f:
            fail("/local_energy_imag", "present without a phase network")
        if "importance_weight" in f:
            # A projected state ([model] projection): weights in [0, 1], and the final energy is
            # their weighted mean of /local_energy.
            w = get_dataset(f, "/importance_weight", np.float64, (len(samples),))[()]
            if not (np.all(np.isfinite(w)) and np.all(w >= 0.0) and np.all(w <= 1.0 + 1e-12)):
                fail("/importance_weight", "holds a weight outside [0, 1]")
            if "local_energy" in f and "vmc" in f and "final_energy" in f["vmc"].attrs:
                e = f["local_energy"][()]
                mean = float(np.sum(w * e) / np.sum(w))
                fin = float(f["vmc"].attrs["final_energy"])
                if not abs(mean - fin) <= 1e-12 * max(1.0, abs(fin)):
                    fail("/importance_weight", "the weighted mean of /local_energy is %.17g, "
                         "final_energy %.17g" % (mean, fin))
            lines.append("  /importance_weight: mean %.6g (effective samples %.1f%%)"
                         % (w.mean(), 100.0 * w.sum() ** 2 / (len(w) * np.sum(w * w))))
        if "observables" in f:
            text = f.attrs["config"]
            cfg = arsampler_io.parse_config(text.decode() if isinstance(text, bytes) else text)
            pbc = cfg.get("hamiltonian", {}).get("pbc", "true") in ("true", "yes", "on", "1")
            lines.append(check_observables(f, size, pbc))
        mean_lp = float(np.mean(log_prob)) if len(log_prob) else float("nan")
        lines.append("  mean log_prob %.6g (entropy estimate %.6g nats)" % (mean_lp, -mean_lp))
        return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description="Validate an arsampler HDF5 output file.")
    ap.add_argument("files", nargs="+", metavar="file")
    ap.add_argument("--n-samples", type=int, default=None,
                    help="require exactly this many samples")
    ap.add_argument("--recompute", type=int, default=256,
                    help="recompute log_prob of the first M samples (default 256)")
    ap.add_argument("--variables-only", action="store_true",
                    help="file holds only variables: skip /samples and /log_prob")
    args = ap.parse_args(argv)
    for path in args.files:
        try:
            lines = run_checks(path, args.n_samples, args.recompute, args.variables_only)
        except CheckError as e:
            print("check_output: FAIL: %s: %s" % (path, e), file=sys.stderr)
            return 1
        except Exception as e:  # anything unexpected is a failure too, but say what
            print("check_output: FAIL: %s: %s: %s" % (path, type(e).__name__, e),
                  file=sys.stderr)
            return 1
        print("\n".join(lines))
    print("check_output: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
