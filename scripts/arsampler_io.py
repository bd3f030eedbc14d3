#!/usr/bin/python3
"""Read arsampler HDF5 output files (docs/hdf5-format.md, format_version 1) into numpy.

    import sys; sys.path.insert(0, "scripts")
    import arsampler_io

    out = arsampler_io.load("out/run.h5")
    out.hilbert["size"], out.model["features"], out.variables[0]["kernel"]
    out.samples, out.log_prob                  # None when the file has no samples
    out.vmc["energy"], out.vmc["final_energy"] # None when the file has no training log
    out.observables["sz"]["mean"]              # {} when nothing was measured
    out.evolution["time"], out.evolution["observables"]["sx"]["mean"]  # mode = evolve, else None

`load` works on every file the project writes (sample, train, checkpoint, exact and
variables-only files): what a file lacks is None (or an empty dict). It raises
ArsamplerFormatError, with a one-line message, for a file that is missing, is not HDF5,
is not an arsampler output or has another format_version, or is malformed.

Run as a script (`scripts/arsampler_io.py FILE`) it prints what load() found.
See docs/analysis.md.
"""

import argparse
import math
import os
import sys
from dataclasses import dataclass, field

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arnn_ref  # noqa: E402

FORMAT = "arsampler"
FORMAT_VERSION = 1

# Observable groups the program writes under /observables (docs/analysis.md).
OBSERVABLES = ("sz", "magnetization", "abs_magnetization", "staggered_magnetization",
               "zz_correlation", "zz_connected", "structure_factor", "sx", "xx_correlation",
               "energy", "renyi2", "string_order")

# Largest number of configurations exact_probabilities() enumerates by default.
MAX_ENUMERATION = 1 << 16


class ArsamplerFormatError(Exception):
    """The file is missing, not HDF5, not an arsampler output, of another version, or malformed."""


@dataclass
class Output:
    """Everything in one arsampler output file. Absent parts are None or empty."""
    path: str
    attrs: dict                      # root attributes (format, format_version, config, seed, ...)
    config_text: str                 # the root attribute `config`: the run's effective INI
    config: dict                     # config_text parsed: {section: {key: value string}}
    hilbert: dict                    # /hilbert attributes + local_states
    model: dict                      # /model attributes ({} for exact-run files)
    variables: list                  # per layer {"kernel": array, "bias": array or None}
    samples: object = None           # int8 [n_samples, size] (values 2*Sz) or None
    log_prob: object = None          # float64 [n_samples] or None
    n_samples: int = 0               # rows of /samples (also when samples were not read)
    hamiltonian: object = None       # /hamiltonian attributes or None
    hamiltonian_terms: object = None  # the expanded terms [(coupling, [(op, site), ...]), ...]
    reference_energy: object = None  # /reference/energy as float, or None
    optimizer: object = None         # /optimizer attributes (+ m, v arrays) or None
    vmc: object = None               # /vmc datasets and attributes, or None
    evolution: object = None         # /evolution datasets and attributes, with "observables"
                                     # (NAME -> {mean, error}) and "steps" (column -> array)
    observables: dict = field(default_factory=dict)        # NAME -> {mean, error, ...}
    observables_attrs: dict = field(default_factory=dict)  # /observables attributes
    phase_model: dict = field(default_factory=dict)  # /phase attributes ({} without a phase
                                                     # network): type, layers, features, ...
    phase_variables: list = field(default_factory=list)  # per layer {"kernel", "bias"}
    phase_beta: object = None        # /variables/phase/beta float64 [size, local_size] or None
    sample_phase: object = None      # /phase float64 [n_samples]: phi(s) of each sample
    local_energy: object = None      # /local_energy float64 [n_samples] (training outputs): the
                                     # final samples' Re E_loc, or None
    local_energy_imag: object = None  # /local_energy_imag (with a phase network), or None
    importance_weight: object = None  # /importance_weight ([model] projection): the weights of
    #                                   the samples; the energy is the weighted mean of local_energy

    @property
    def size(self):
        return int(self.hilbert["size"])

    @property
    def parameter_count(self):
        """Number of network parameters (kernels and biases)."""
        return sum(v["kernel"].size + (0 if v["bias"] is None else v["bias"].size)
                   for v in self.variables)


def _value(v):
    """An h5py attribute or scalar dataset value as plain Python / numpy."""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray) and v.shape == ():
        v = v[()]
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray) and v.dtype.kind in "OS":
        return [_value(x) for x in v.tolist()]
    return v


def _attrs(obj):
    return {k: _value(obj.attrs[k]) for k in obj.attrs}


def _datasets(group):
    """{name: value} of the datasets directly in group (scalars as Python numbers)."""
    import h5py
    return {k: _value(group[k][()]) for k in group if isinstance(group[k], h5py.Dataset)}


# Keys that may repeat within a section: their value is the list of every line, in order.
REPEATABLE = {("hamiltonian", "term"), ("observables", "operator")}


def parse_config(text):
    """The INI text of the `config` attribute as {section: {key: value}} (keys keep their case;
    a repeatable key, [hamiltonian] term or [observables] operator, maps to the list of its
    lines)."""
    out, section = {}, None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in ";#":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            out.setdefault(section, {})
            continue
        if section is None or "=" not in line:
            raise ValueError("line %r is neither a [section] nor key = value in a section" % raw)
        key, value = (x.strip() for x in line.split("=", 1))
        for i in range(1, len(value)):  # a comment after a space
            if value[i] in ";#" and value[i - 1].isspace():
                value = value[:i].rstrip()
                break
        if (section, key) in REPEATABLE:
            out[section].setdefault(key, []).append(value)
        else:
            out[section][key] = value
    return out


def _read_terms(g):
    """/hamiltonian's expanded term list as [(coupling, [(op name, site), ...]), ...], in the
    file's order (docs/hdf5-format.md); None in files written before it existed."""
    if "term_coupling" not in g:
        return None
    c = g["term_coupling"][()]
    nf = g["term_n_factors"][()]
    ops = g["term_op"][()]
    sites = g["term_site"][()]
    return [(float(c[e]), [(ops[e, j].decode(), int(sites[e, j])) for j in range(int(nf[e]))])
            for e in range(len(c))]


def _open(path):
    """Open path with h5py and check format / format_version; ArsamplerFormatError if not."""
    import h5py
    if not os.path.exists(path):
        raise ArsamplerFormatError("%s: no such file" % path)
    if os.path.isdir(path):
        raise ArsamplerFormatError("%s: is a directory, not an HDF5 file" % path)
    if not h5py.is_hdf5(path):
        raise ArsamplerFormatError("%s: not an HDF5 file" % path)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ArsamplerFormatError("%s: cannot open as HDF5 (%s)" % (path, e)) from None
    fmt = _value(f.attrs["format"]) if "format" in f.attrs else None
    if fmt != FORMAT:
        f.close()
        raise ArsamplerFormatError("%s: not an arsampler output (root attribute format = %r, "
                                   "expected %r)" % (path, fmt, FORMAT))
    version = _value(f.attrs["format_version"]) if "format_version" in f.attrs else None
    if version != FORMAT_VERSION:
        f.close()
        raise ArsamplerFormatError("%s: format_version %r is not supported (this reader "
                                   "reads %d)" % (path, version, FORMAT_VERSION))
    return f


def _read_samples(f):
    samples = f["samples"][()] if "samples" in f else None
    log_prob = f["log_prob"][()] if "log_prob" in f else None
    return samples, log_prob


def _read(f, path, read_samples):
    attrs = _attrs(f)
    config_text = attrs.get("config", "")
    try:
        config = parse_config(config_text)
    except ValueError as e:
        raise ArsamplerFormatError("%s: the config attribute is not valid INI (%s)"
                                   % (path, str(e).splitlines()[0])) from None

    hilbert = _attrs(f["hilbert"])
    if "hilbert/local_states" in f:
        hilbert["local_states"] = f["hilbert/local_states"][()]
    else:  # exact-run files have only the attributes
        hilbert["local_states"] = arnn_ref.spin_local_states(hilbert["spin"])

    model, variables = {}, []
    if "model" in f:
        model = _attrs(f["model"])
        for key in ("features", "kernel_dilation"):
            model[key] = [int(v) for v in np.atleast_1d(model[key])]
        if "variables/params" in f:
            params = f["variables/params"]
            for i in range(int(model["layers"])):
                layer = params["layers_%d" % i]
                variables.append({"kernel": layer["kernel"][()],
                                  "bias": layer["bias"][()] if "bias" in layer else None})

    out = Output(path=path, attrs=attrs, config_text=config_text, config=config,
                 hilbert=hilbert, model=model, variables=variables)

    if "samples" in f:
        out.n_samples = int(f["samples"].shape[0])
        if read_samples:
            out.samples, out.log_prob = _read_samples(f)
            if "local_energy" in f:
                out.local_energy = f["local_energy"][()]
            if "local_energy_imag" in f:
                out.local_energy_imag = f["local_energy_imag"][()]
            if "importance_weight" in f:
                out.importance_weight = f["importance_weight"][()]
    if "hamiltonian" in f:
        out.hamiltonian = _attrs(f["hamiltonian"])
        out.hamiltonian_terms = _read_terms(f["hamiltonian"])
    if "reference/energy" in f:
        out.reference_energy = float(f["reference/energy"][()])
    if "optimizer" in f:
        out.optimizer = _attrs(f["optimizer"])
        out.optimizer.update(_datasets(f["optimizer"]))
    if "vmc" in f:
        out.vmc = _datasets(f["vmc"])
        out.vmc.update(_attrs(f["vmc"]))
    if "evolution" in f:
        g = f["evolution"]
        out.evolution = _datasets(g)
        out.evolution.update(_attrs(g))
        out.evolution["observables"] = {k: _datasets(g["observables"][k])
                                        for k in g.get("observables", {})}
        out.evolution["steps"] = _datasets(g["steps"]) if "steps" in g else {}
    if "phase" in f:
        out.phase_model = _attrs(f["phase"])
        out.phase_model["kernel_dilation"] = [
            int(v) for v in np.atleast_1d(out.phase_model["kernel_dilation"])]
        if "variables/phase" in f:
            vp = f["variables/phase"]
            for i in range(int(out.phase_model["layers"])):
                layer = vp["layers_%d" % i]
                out.phase_variables.append({"kernel": layer["kernel"][()],
                                            "bias": layer["bias"][()]})
            if "beta" in vp:
                out.phase_beta = vp["beta"][()]
        if read_samples:
            out.sample_phase = f["phase"][()]
    if "observables" in f:
        obs = f["observables"]
        out.observables_attrs = _attrs(obs)
        for name in obs:
            entry = _datasets(obs[name])
            entry.update(_attrs(obs[name]))
            out.observables[name] = entry
    return out


def load(path, read_samples=True):
    """Read an arsampler output file. With read_samples=False /samples and /log_prob are not
    read (out.samples is None; out.n_samples still says how many there are)."""
    f = _open(path)
    try:
        return _read(f, path, read_samples)
    except (KeyError, OSError, ValueError) as e:
        # h5py's KeyError messages name the missing object.
        raise ArsamplerFormatError("%s: malformed arsampler file (%s)"
                                   % (path, str(e).strip("'\""))) from None
    finally:
        f.close()


def load_samples(path):
    """(samples, log_prob) of a file, each None when absent."""
    f = _open(path)
    try:
        return _read_samples(f)
    finally:
        f.close()


# ---------------------------------------------------------------------------
# Exact probabilities from the network (small chains)
# ---------------------------------------------------------------------------


def ref_model(out):
    """The network of `out` as an arnn_ref model dict (for arnn_ref.log_prob etc.)."""
    if not out.variables:
        raise ValueError("%s holds no network" % out.path)
    m, h = out.model, out.hilbert
    return {
        "spin": float(h["spin"]),
        "size": int(h["size"]),
        "local_size": int(h["local_size"]),
        "local_states": np.asarray(h["local_states"], dtype=np.float64),
        "layers": int(m["layers"]),
        "features": list(m["features"]),
        "kernel_size": int(m["kernel_size"]),
        "kernel_dilation": list(m["kernel_dilation"]),
        "activation": m["activation"],
        "input": m["input"],
        "sublattice": int(m.get("sublattice", 1)),
        "use_bias": bool(int(m["use_bias"])),
        "feature_group_count": int(m["feature_group_count"]),
        "machine_pow": int(m.get("machine_pow", 2)),
        "total_sz": float(h["total_sz"]) if "total_sz" in h else None,
        "symmetrize": str(m.get("symmetrize", "none")),
        "kernels": [v["kernel"] for v in out.variables],
        "biases": [v["bias"] for v in out.variables],
    }


def config_indices(configs, local_states):
    """Index of each configuration (rows of local state values) in the enumeration order of
    exact_probabilities(): site 0 is the most significant digit, in base local_size."""
    idx = arnn_ref.local_indices(np.asarray(configs), local_states)
    base = len(local_states)
    weights = base ** np.arange(idx.shape[1] - 1, -1, -1, dtype=np.int64)
    return idx.astype(np.int64) @ weights


def exact_probabilities(out, max_configs=MAX_ENUMERATION, batch=4096):
    """Every configuration and its exact probability |psi(s)|^2 of the state (the network, masked
    to its sector and symmetrised as the file says), by enumeration with the numpy reference
    arnn_ref. Returns (configs int8 [M, size], probs float64 [M]) in
    the order of config_indices(). ValueError when there are more than max_configs."""
    model = ref_model(out)
    count = model["local_size"] ** model["size"]
    if count > max_configs:
        raise ValueError("%d configurations, more than the %d enumerated" % (count, max_configs))
    configs = arnn_ref.all_configs(model)
    probs = np.concatenate([np.exp(arnn_ref.log_prob(configs[i:i + batch], model))
                            for i in range(0, len(configs), batch)])
    return configs, probs


def exact_renyi2(probs, size, local_size, cuts):
    """Exact second Renyi entropies S2 = -log Tr rho_A^2 of the bipartitions [0, l), l in cuts,
    of the network's state, from its probabilities (exact_probabilities()). The amplitudes are
    sqrt(p) up to a sign that is a product of one-site signs (the Marshall sign), which does
    not change the entanglement."""
    psi = np.sqrt(np.asarray(probs, dtype=np.float64))
    result = []
    for l in cuts:
        m = psi.reshape(local_size ** int(l), local_size ** (size - int(l)))
        rho = m @ m.T
        result.append(-math.log(float(np.sum(rho * rho))))
    return np.array(result)


def sampled_probabilities(samples, local_states):
    """Histogram of samples over all configurations, normalised: float64 [local_size**size],
    in the order of exact_probabilities()."""
    count = len(local_states) ** samples.shape[1]
    hist = np.bincount(config_indices(samples, local_states), minlength=count)
    return hist / max(len(samples), 1)


def energy(out):
    """(mean, error, where) of the energy estimate of the file, or None: /observables/energy if
    present, else the /vmc final_* attributes of a finished training."""
    if "energy" in out.observables:
        e = out.observables["energy"]
        return float(e["mean"]), float(e["error"]), "/observables/energy"
    if out.vmc is not None and "final_energy" in out.vmc:
        return (float(out.vmc["final_energy"]), float(out.vmc["final_energy_error"]),
                "/vmc final_energy")
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description="Print what arsampler_io.load() reads from an "
                                 "arsampler HDF5 output file.")
    ap.add_argument("file")
    args = ap.parse_args(argv)
    try:
        out = load(args.file, read_samples=False)
    except ArsamplerFormatError as e:
        print("arsampler_io: %s" % e, file=sys.stderr)
        return 2
    print("config sections:", ", ".join(out.config))
    print("hilbert:", {k: v for k, v in out.hilbert.items() if k != "local_states"})
    print("model:", out.model)
    print("variables: %d layers, %d parameters" % (len(out.variables), out.parameter_count))
    if out.phase_model:
        print("phase:", out.phase_model)
    print("samples:", out.n_samples)
    print("hamiltonian:", out.hamiltonian)
    print("reference_energy:", out.reference_energy)
    print("vmc:", None if out.vmc is None else sorted(out.vmc))
    print("evolution:", None if out.evolution is None else sorted(out.evolution))
    print("observables:", sorted(out.observables), out.observables_attrs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
