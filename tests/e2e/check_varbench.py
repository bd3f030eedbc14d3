#!/usr/bin/python3
"""e2e_varbench's checks of scripts/varbench on a training output.

Usage: check_varbench.py VARBENCH FILE.h5 WORKDIR

 - the CSV line equals the file's numbers read with h5py: the final energy, error and variance,
   the V-score recomputed as N Var / E^2, the parameters counted over every dataset under
   /variables, the wall time summed over /vmc/seconds;
 - the training log's reference is the Bethe ansatz energy of the 8-site ring, which must be
   the literature value E0 = -3.651093408937 J (spin units), -14.604373635748 in Pauli units;
 - the table has varbench's header (Energy | Sigma | Energy Variance | DOF | Einf | Method |
   Reference, as in the dataset's Heisenberg/chain_20_P.md) and names Heisenberg/chain_8_P.md;
 - the tail share is the 0.1% largest squared deviations of /local_energy over their sum;
 - a run without its final estimate (final_* attributes removed) falls back to the last
   iteration and says so (and has no tail share); a file without /vmc exits 2 with one line on
   stderr.
"""
import shutil
import subprocess
import sys

import h5py
import numpy as np


def run(*args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True)


def fail(msg):
    print("check_varbench: " + msg)
    sys.exit(1)


def close(a, b, what, rel=1e-12):
    if not abs(a - b) <= rel * max(abs(a), abs(b), 1e-300):
        fail("%s: %r != %r" % (what, a, b))


def main():
    varbench, path, work = sys.argv[1:4]
    with h5py.File(path, "r") as f:
        a = f["vmc"].attrs
        e, err, var = a["final_energy"], a["final_energy_error"], a["final_energy_variance"]
        n = int(f["hilbert"].attrs["size"])
        sizes = []
        f["variables"].visititems(
            lambda name, obj: sizes.append(obj.size) if isinstance(obj, h5py.Dataset) else None)
        params = sum(sizes)
        seconds = float(np.sum(f["vmc/seconds"][()]))
        ref = float(f["reference/energy"][()])
        iterations = len(f["vmc/energy"][()])
        last = (f["vmc/energy"][-1], f["vmc/energy_error"][-1], f["vmc/energy_variance"][-1])
        eloc = f["local_energy"][()]
    close(ref, -14.604373635748, "Bethe reference of the 8-site ring", 1e-11)

    r = run(varbench, "--csv", path)
    if r.returncode != 0:
        fail("varbench --csv exited %d: %s" % (r.returncode, r.stderr))
    lines = r.stdout.strip().splitlines()
    row = dict(zip(lines[0].split(","), lines[1].split(",")))
    close(float(row["energy"]), e, "energy")
    close(float(row["sigma"]), err, "sigma")
    close(float(row["variance"]), var, "variance")
    close(float(row["vscore"]), n * var / (e * e), "V-score")
    close(float(row["relative_error"]), abs((e - ref) / ref), "relative error")
    close(float(row["wall_seconds"]), seconds, "wall seconds")
    if int(row["parameters"]) != params or int(row["dof"]) != n or row["einf"] != "0.0" or \
            int(row["iterations"]) != iterations or row["final"] != "1":
        fail("counts: %r (parameters %d, N %d, iterations %d)" % (row, params, n, iterations))
    # The tail share, recomputed by brute force: the largest squared deviations, one at a time.
    dev = sorted(((x - eloc.mean()) ** 2 for x in eloc), reverse=True)
    close(float(row["tail_share"]), sum(dev[:max(1, len(dev) // 1000)]) / sum(dev), "tail share",
          1e-9)
    if row["dataset_file"] != "Heisenberg/chain_8_P.md":
        fail("dataset file %r" % row["dataset_file"])

    r = run(varbench, path, "--method", "my method", "--reference", "my ref")
    table = [ln for ln in r.stdout.splitlines() if ln.startswith("|")]
    # The header of the dataset's files (varbench/varbench, Heisenberg/chain_20_P.md), cells
    # compared without their padding.
    varbench_header = ["Energy", "Sigma", "Energy Variance", "DOF", "Einf", "Method", "Reference"]
    if [c.strip() for c in table[0].strip("|").split("|")] != varbench_header:
        fail("the header is not varbench's: %r" % table[0])
    cells = [c.strip() for c in table[2].strip("|").split("|")]
    if r.returncode != 0 or len(cells) != 7 or cells[3] != str(n) or cells[4] != "0" or \
            cells[5] != "my method" or cells[6] != "my ref" or \
            abs(float(cells[0]) - e) > err or "Heisenberg/chain_8_P.md" not in r.stdout:
        fail("table:\n" + r.stdout + r.stderr)

    cut = work + "/no_final.h5"
    shutil.copy(path, cut)
    with h5py.File(cut, "r+") as f:
        for k in [k for k in f["vmc"].attrs if k.startswith("final_")]:
            del f["vmc"].attrs[k]
    r = run(varbench, "--csv", cut)
    row = dict(zip(*[ln.split(",") for ln in r.stdout.strip().splitlines()]))
    close(float(row["energy"]), last[0], "last energy")
    close(float(row["sigma"]), last[1], "last error")
    close(float(row["variance"]), last[2], "last variance")
    if row["final"] != "0" or "last iteration" not in run(varbench, cut).stdout or \
            row["tail_share"] != "nan":
        fail("a run without final estimate: %r" % row)

    with h5py.File(cut, "r+") as f:
        del f["vmc"]
    r = run(varbench, cut)
    if r.returncode != 2 or len(r.stderr.strip().splitlines()) != 1 or "no_final.h5" not in \
            r.stderr:
        fail("no /vmc: rc %d, stderr %r" % (r.returncode, r.stderr))
    print("varbench summary matches the file (E %.10f, V-score %.3e, %d parameters)"
          % (e, n * var / (e * e), params))


main()
