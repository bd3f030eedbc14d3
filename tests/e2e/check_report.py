#!/usr/bin/python3
"""Check the output of scripts/arsampler-report against the HDF5 file it summarised.

Usage: check_report.py FILE.h5 SUMMARY.txt FIGDIR [--figures a.png,b.png,...]
                       [--observables all|none|NAME,...] [--cuts 2,4] [--cross-check]

FILE.h5 is read with h5py directly (not with scripts/arsampler_io.py), and every number the
summary prints is compared with it: the system, the parameter count, the sample count, the
energy line, the reference energy and the relative error, the training lines, and every
observable (scalars, and each row of the array observables). A printed number must equal the
file's value to within half a unit in its last printed digit. Every observable in the file
must be in the summary and the other way round.

--figures      the PNG files FIGDIR must hold, no more and no fewer ('' for none); each must
               be a valid PNG (signature, chunk CRCs, IHDR/IDAT/IEND, inflatable image data)
               that matplotlib reads back as a non-blank image.
--observables  the observable groups the file must hold (all = the 11 of the contract).
               Whatever it holds must follow the contract's types, shapes and axes.
--cuts         the renyi2 cuts the file must hold.
--cross-check  recompute sz, magnetization, abs_magnetization and zz_correlation from
               /samples and compare (when the observables were measured on those samples).

Exit status 0 when everything matches, 1 with one line per problem otherwise.
"""

import argparse
import os
import re
import struct
import sys
import zlib

import h5py
import numpy as np

ALL_OBSERVABLES = ("sz", "magnetization", "abs_magnetization", "staggered_magnetization",
                   "zz_correlation", "zz_connected", "structure_factor", "sx", "xx_correlation",
                   "energy", "renyi2")
NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf|-inf"
PM = r"(%s) \+- (%s)" % (NUMBER, NUMBER)

problems = []


def problem(msg):
    problems.append(msg)


def tolerance(printed):
    """Half a unit in the last printed digit of a number string (and at least 5e-10 relative,
    for numbers printed with %.10g)."""
    m = re.match(r"^[-+]?\d*(?:\.(\d*))?(?:[eE]([-+]?\d+))?$", printed)
    if not m:
        return 0.0
    decimals = len(m.group(1) or "")
    exponent = int(m.group(2) or 0)
    return 0.5 * 10.0 ** (exponent - decimals) * 1.000001


def same(printed, value, what):
    """The number string `printed` must round `value`."""
    value = float(value)
    x = float(printed)
    if np.isnan(value) and np.isnan(x):
        return
    tol = max(tolerance(printed), 5e-10 * abs(value))
    if not abs(x - value) <= tol:
        problem("%s: summary says %s, file has %.17g (tolerance %.2g)"
                % (what, printed, value, tol))


def find(lines, regex, what, required=True):
    """The match of the first summary line matching regex (anchored at the start)."""
    for line in lines:
        m = re.match(regex, line)
        if m:
            return m
    if required:
        problem("%s: no summary line matches %r" % (what, regex))
    return None


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


# ---------------------------------------------------------------------------


def check_header(f, lines):
    size = int(f["hilbert"].attrs["size"])
    m = find(lines, r"system: (\d+) sites, spin (%s)" % NUMBER, "system line")
    if m:
        if int(m.group(1)) != size:
            problem("size: summary %s, file %d" % (m.group(1), size))
        same(m.group(2), f["hilbert"].attrs["spin"], "spin")
    m = find(lines, r"hamiltonian: (\w+)", "hamiltonian line")
    if m:
        expected = text(f["hamiltonian"].attrs["type"]) if "hamiltonian" in f else "none"
        if m.group(1) != expected:
            problem("hamiltonian: summary %s, file %s" % (m.group(1), expected))
    if "variables/params" in f:
        params = f["variables/params"]
        count = sum(params[layer][name].size for layer in params for name in params[layer])
        m = find(lines, r"parameters: (\d+)$", "parameters line")
        if m and int(m.group(1)) != count:
            problem("parameters: summary %s, file %d" % (m.group(1), count))
    n = f["samples"].shape[0] if "samples" in f else 0
    m = find(lines, r"samples: (\d+)$", "samples line")
    if m and int(m.group(1)) != n:
        problem("samples: summary %s, file %d" % (m.group(1), n))


def check_energy(f, lines):
    if "observables/energy" in f:
        g = f["observables/energy"]
        mean, err, where = g["mean"][()], g["error"][()], "/observables/energy"
    elif "vmc" in f and "final_energy" in f["vmc"].attrs:
        a = f["vmc"].attrs
        mean, err, where = a["final_energy"], a["final_energy_error"], "/vmc final_energy"
    else:
        if find(lines, r"energy:", "energy line", required=False):
            problem("the summary prints an energy, the file has none")
        return
    m = find(lines, r"energy: %s \(from ([^,;)]+)" % PM, "energy line")
    if m:
        same(m.group(1), mean, "energy")
        same(m.group(2), err, "energy error")
        if m.group(3) != where:
            problem("energy source: summary %r, expected %r" % (m.group(3), where))
    if "reference/energy" in f:
        ref = f["reference/energy"][()]
        m = find(lines, r"reference energy: (%s)$" % NUMBER, "reference energy line")
        if m:
            same(m.group(1), ref, "reference energy")
        m = find(lines, r"relative error: %s" % PM, "relative error line")
        if m:
            same(m.group(1), abs(mean - ref) / abs(ref), "relative error")
            same(m.group(2), err / abs(ref), "relative error's error")


def check_training(f, lines):
    if "vmc" not in f:
        find(lines, r"training: no training log \((sample-only|exact-run|variables-only) file\)$",
             "no-training line")
        return
    a = f["vmc"].attrs
    m = find(lines, r"training: (\d+) iterations", "training line")
    if m and int(m.group(1)) != a["iterations_done"]:
        problem("iterations: summary %s, file %d" % (m.group(1), a["iterations_done"]))
    if "final_energy" in a:
        m = find(lines, r"training final: %s from (\d+) samples" % PM, "training final line")
        if m:
            same(m.group(1), a["final_energy"], "final energy")
            same(m.group(2), a["final_energy_error"], "final energy error")
            if int(m.group(3)) != a["final_samples"]:
                problem("final samples: summary %s, file %d" % (m.group(3), a["final_samples"]))


def observable_blocks(lines):
    """{name: (header match, [row lines])} of the summary's observables section."""
    blocks, current = {}, None
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("observables: "))
    except StopIteration:
        return blocks
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        if line.startswith("    "):
            if current is not None:
                blocks[current][1].append(line)
            continue
        m = re.match(r"  (\w+)(?: = |\[(\w+)\]:)", line)
        if not m:
            problem("unparsable observable line %r" % line)
            current = None
            continue
        current = m.group(1)
        blocks[current] = (line, [])
    return blocks


def axis(g, label, n):
    if label == "r":
        return g["distance"][()]
    if label == "k":
        return g["k"][()]
    if label == "cut":
        return g["cuts"][()]
    return np.arange(n)


def check_observables(f, lines, expected):
    names = sorted(f["observables"]) if "observables" in f else []
    if expected == "all":
        expected = list(ALL_OBSERVABLES)
    elif expected == "none":
        expected = []
    elif expected is not None:
        expected = expected.split(",")
    if expected is not None and sorted(expected) != names:
        problem("observables in the file: %s, expected %s" % (names, sorted(expected)))
    if not names:
        find(lines, r"observables: none in this file$", "no-observables line")
        return
    obs = f["observables"]
    m = find(lines, r"observables: (\d+) samples \(source: (\w+)\)$", "observables line")
    if m:
        if int(m.group(1)) != obs.attrs["n_samples"]:
            problem("observables n_samples: summary %s, file %d"
                    % (m.group(1), obs.attrs["n_samples"]))
        if m.group(2) != text(obs.attrs["source"]):
            problem("observables source: summary %s, file %s" % (m.group(2), obs.attrs["source"]))
    blocks = observable_blocks(lines)
    if sorted(blocks) != names:
        problem("observables in the summary: %s, in the file: %s" % (sorted(blocks), names))
    for name in names:
        if name not in blocks:
            continue
        header, rows = blocks[name]
        g = obs[name]
        mean, err = g["mean"][()], g["error"][()]
        if np.ndim(mean) == 0:
            m = re.match(r"  \w+ = %s" % PM, header)
            if not m:
                problem("%s: no 'mean +- error' in %r" % (name, header))
                continue
            same(m.group(1), mean, name)
            same(m.group(2), err, name + " error")
            if "variance" in g:
                m = re.search(r"variance (%s)" % NUMBER, header)
                if m:
                    same(m.group(1), g["variance"][()], name + " variance")
                else:
                    problem("%s: the variance is not printed" % name)
            continue
        label = re.match(r"  \w+\[(\w+)\]", header).group(1)
        values = axis(g, label, len(mean))
        printed, more = set(), 0
        for row in rows:
            if row.startswith("    ..."):
                m = re.match(r"    \.\.\. (\d+) more", row)
                more = int(m.group(1)) if m else -1
                continue
            m = re.match(r"    (\w+)=(%s)\s+%s" % (NUMBER, PM), row)
            if not m or m.group(1) != label:
                problem("%s: unparsable row %r" % (name, row))
                continue
            at = np.flatnonzero(np.abs(values - float(m.group(2))) <= tolerance(m.group(2)))
            if len(at) != 1:
                problem("%s: %s=%s is not one entry of the file's %s" % (name, label, m.group(2),
                                                                         values))
                continue
            i = int(at[0])
            printed.add(i)
            same(m.group(3), mean[i], "%s[%s=%s]" % (name, label, m.group(2)))
            same(m.group(4), err[i], "%s[%s=%s] error" % (name, label, m.group(2)))
        if len(printed) + more != len(mean) or (more == 0 and len(rows) != len(mean)):
            problem("%s: %d rows printed (and %d more announced) for %d entries"
                    % (name, len(printed), more, len(mean)))


def check_probabilities(f, lines):
    size, local_size = int(f["hilbert"].attrs["size"]), int(f["hilbert"].attrs["local_size"])
    m = find(lines, r"probabilities: (\d+) configurations enumerated", "probabilities line",
             required=size <= 12 and "variables" in f)
    if m and int(m.group(1)) != local_size ** size:
        problem("configurations: summary %s, expected %d" % (m.group(1), local_size ** size))
    # The enumerated state is normalised, and the file's samples, exact draws of it, fit it.
    m = find(lines, r"probabilities: \d+ configurations enumerated \(sum ([^)]*)\);.*"
             r"chi2 [^ ]+ for \d+ degrees of freedom \(p = ([^)]*)\)", "probabilities fit",
             required=False)
    if m and not abs(float(m.group(1)) - 1.0) <= 1e-9:
        problem("the enumerated probabilities sum to %s, not 1" % m.group(1))
    if m and not float(m.group(2)) > 1e-4:
        problem("the samples do not fit the enumerated state: chi2 p = %s" % m.group(2))


def check_contract(f, cuts):
    """The /observables layout of the contract (docs/analysis.md): types, shapes, axes."""
    obs = f["observables"]
    size = int(f["hilbert"].attrs["size"])
    if obs.attrs.get("n_samples", np.float64(0)).dtype != np.int64:
        problem("/observables attribute n_samples: missing or not int64")
    if text(obs.attrs.get("source", "")) not in ("samples", "final_samples"):
        problem("/observables attribute source: %r" % obs.attrs.get("source"))
    for name in obs:
        g, where = obs[name], "/observables/" + name
        if name not in ALL_OBSERVABLES:
            problem("%s: not an observable of the contract" % where)
            continue
        for key in ("mean", "error", "n_samples"):
            if key not in g:
                problem("%s/%s: missing" % (where, key))
                return
        if g["n_samples"].shape != () or g["n_samples"].dtype != np.int64:
            problem("%s/n_samples: want an int64 scalar" % where)
        if not isinstance(g.attrs.get("description"), (str, bytes)):
            problem("%s: no string attribute description" % where)
        if name in ("magnetization", "abs_magnetization", "staggered_magnetization", "energy"):
            shape = ()
        elif name in ("sz", "sx", "structure_factor"):
            shape = (size,)
        elif name == "renyi2":
            shape = (len(g["cuts"]),) if "cuts" in g else None
        else:
            c = int(g.attrs.get("centre", -2))
            r = np.arange(size // 2 + 1) if c == -1 else np.arange(size - (size - 1) // 2)
            if c not in (-1, (size - 1) // 2):
                problem("%s attribute centre: %d" % (where, c))
            if "distance" not in g or g["distance"].dtype != np.int64 or \
                    not np.array_equal(g["distance"][()], r):
                problem("%s/distance: want int64 %s" % (where, r.tolist()))
            shape = r.shape
        for key in ("mean", "error"):
            if g[key].dtype != np.float64 or g[key].shape != shape:
                problem("%s/%s: %s %s, want float64 %s" % (where, key, g[key].dtype,
                                                          g[key].shape, shape))
        if name == "structure_factor" and ("k" not in g or not np.allclose(
                g["k"][()], 2 * np.pi * np.arange(size) / size, rtol=0, atol=1e-12)):
            problem("%s/k: want 2 pi n / %d" % (where, size))
        if name == "energy" and ("variance" not in g or g["variance"].shape != ()):
            problem("%s/variance: want a float64 scalar" % where)
        if name == "renyi2":
            if "cuts" not in g or g["cuts"].dtype != np.int64:
                problem("%s/cuts: want int64" % where)
            elif cuts is not None and g["cuts"][()].tolist() != cuts:
                problem("%s/cuts: %s, want %s" % (where, g["cuts"][()].tolist(), cuts))
            if int(g["n_samples"][()]) != int(obs.attrs["n_samples"]) // 2:
                problem("%s/n_samples: %d pairs from %d samples" % (where, g["n_samples"][()],
                                                                   obs.attrs["n_samples"]))


def cross_check(f):
    """Diagonal observables recomputed from /samples."""
    obs, s = f["observables"], f["samples"][()].astype(np.float64)
    if obs.attrs["n_samples"] != len(s):
        problem("cross-check: /observables n_samples %d != %d samples"
                % (obs.attrs["n_samples"], len(s)))
        return
    n, size = s.shape
    per_sample = {"sz": s, "magnetization": s.mean(axis=1),
                  "abs_magnetization": np.abs(s.mean(axis=1))}
    if "zz_correlation" in obs:
        g = obs["zz_correlation"]
        c = int(g.attrs["centre"])
        r = g["distance"][()]
        if c < 0:
            per_sample["zz_correlation"] = np.stack(
                [(s * np.roll(s, -d, axis=1)).mean(axis=1) for d in r], axis=1)
        else:
            per_sample["zz_correlation"] = np.stack([s[:, c] * s[:, c + d] for d in r], axis=1)
    for name, x in per_sample.items():
        if name not in obs:
            continue
        mean, err = obs[name]["mean"][()], obs[name]["error"][()]
        if not np.allclose(mean, x.mean(axis=0), rtol=0, atol=1e-12):
            problem("cross-check %s: file %s, from /samples %s" % (name, mean, x.mean(axis=0)))
        # standard error with n - 1 or n in the variance: they differ by 1/(2n)
        se = x.std(axis=0, ddof=1) / np.sqrt(n)
        if not np.allclose(err, se, rtol=2.0 / n + 1e-9, atol=1e-12):
            problem("cross-check %s error: file %s, from /samples %s" % (name, err, se))
        if int(obs[name]["n_samples"][()]) != n:
            problem("cross-check %s n_samples: %d != %d" % (name, obs[name]["n_samples"][()], n))


# ---------------------------------------------------------------------------


def check_png(path):
    """'' if path is a valid, non-blank PNG image, else what is wrong."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.image
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return "no PNG signature"
    pos, chunks, idat = 8, [], b""
    while pos < len(data):
        if pos + 12 > len(data):
            return "truncated chunk at byte %d" % pos
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if pos + 12 + length > len(data):
            return "truncated chunk %r at byte %d" % (kind, pos)
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            return "bad CRC in chunk %r" % kind
        chunks.append(kind)
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
    if not chunks or chunks[0] != b"IHDR" or chunks[-1] != b"IEND" or b"IDAT" not in chunks:
        return "chunks %s: want IHDR first, IDAT, IEND last" % chunks
    try:
        zlib.decompress(idat)
    except zlib.error as e:
        return "image data does not inflate: %s" % e
    image = matplotlib.image.imread(path)
    if image.shape[:2] != (height, width) or width < 100 or height < 100:
        return "image %s, IHDR %dx%d" % (image.shape, width, height)
    if float(np.std(image)) == 0.0:
        return "blank image"
    return ""


def check_figures(figdir, expected):
    expected = sorted(x for x in expected.split(",") if x)
    found = sorted(os.listdir(figdir)) if os.path.isdir(figdir) else []
    if found != expected:
        problem("figures in %s: %s, expected %s" % (figdir, found, expected))
    for name in found:
        why = check_png(os.path.join(figdir, name))
        if why:
            problem("%s: %s" % (name, why))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("h5")
    ap.add_argument("summary")
    ap.add_argument("figdir")
    ap.add_argument("--figures", default=None, help="comma-separated PNG names ('' for none)")
    ap.add_argument("--observables", default=None, help="all, none or NAME,NAME,...")
    ap.add_argument("--cross-check", action="store_true")
    ap.add_argument("--cuts", default=None, help="the renyi2 cuts the file must hold: 2,4")
    args = ap.parse_args()
    with open(args.summary) as fh:
        lines = fh.read().splitlines()
    with h5py.File(args.h5, "r") as f:
        check_header(f, lines)
        check_energy(f, lines)
        check_training(f, lines)
        check_observables(f, lines, args.observables)
        check_probabilities(f, lines)
        if "observables" in f:
            check_contract(f, None if args.cuts is None else
                           [int(c) for c in args.cuts.split(",")])
        if args.cross_check and "observables" in f:
            cross_check(f)
    if args.figures is not None:
        check_figures(args.figdir, args.figures)
    for p in problems:
        print("check_report: %s" % p)
    if problems:
        return 1
    print("check_report: OK (%s)" % args.h5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
