#!/usr/bin/python3
"""Statistical comparison of two arsampler binaries whose arithmetic differs (a changed summation
order, a new kernel): the same training config and seeds, trained by each, compared as samples
of the same distribution rather than bit for bit.

Usage: scripts/compare_trajectories.py OLD_BINARY NEW_BINARY CONFIG [--seeds 1,2,3,4,5,6]
           [--iterations N] [--final-samples M] [--jobs J] [--work DIR] [--set KEY=VALUE]...
           [--new-set KEY=VALUE]...
(--set applies to every run, --new-set to NEW_BINARY's runs only: for checking that a real
difference is caught.)

Each (binary, seed) run trains CONFIG with sampler.seed = seed for N iterations and measures the
final energy with M exact samples. Runs go J at a time, each with one thread (results do not
depend on the thread count). Printed:
  - per seed, the first iteration where the two energies differ, the largest relative
    difference over the first 10 iterations (rounding: 1e-15 to 1e-10 when the change is only
    rounding), and both final energies with their error bars;
  - the final energies' mean and spread over the seeds for each binary, and the difference of
    the means against its standard error (|z| < 3 is agreement);
  - the paired differences final_new - final_old: mean, spread, and their z score.
Exit status 0 when both |z| < 3, 1 when not, 2 on an error.
"""
import argparse
import concurrent.futures
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np


def run(binary, config, seed, args, out, extra=()):
    cmd = [binary, config, "--output", out, "--force", "--quiet", "--threads", "1",
           "--set", "sampler.seed=%d" % seed, "--set", "vmc.iterations=%d" % args.iterations,
           "--set", "vmc.final_samples=%d" % args.final_samples]
    for kv in list(args.set) + list(extra):
        cmd += ["--set", kv]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError("%s exited %d:\n%s" % (" ".join(cmd), p.returncode, p.stderr))
    with h5py.File(out, "r") as f:
        v = f["vmc"]
        return (v["energy"][()], float(v.attrs["final_energy"]),
                float(v.attrs["final_energy_error"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("config")
    ap.add_argument("--seeds", default="1,2,3,4,5,6")
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--final-samples", type=int, default=65536)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--work", default=None)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--new-set", action="append", default=[])
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    work = args.work or tempfile.mkdtemp(prefix="arsampler-compare-")
    os.makedirs(work, exist_ok=True)
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        for seed in seeds:
            for tag, binary in (("old", args.old), ("new", args.new)):
                out = os.path.join(work, "%s_seed%d.h5" % (tag, seed))
                jobs[(tag, seed)] = ex.submit(run, os.path.abspath(binary), args.config, seed,
                                              args, out, args.new_set if tag == "new" else ())
        res = {k: j.result() for k, j in jobs.items()}
    print("%s, %d iterations, seeds %s, final energies from %d samples"
          % (args.config, args.iterations, args.seeds, args.final_samples))
    print("seed  first differing it  max rel diff (its 0-9)  final old               final new")
    fo, fn = [], []
    for seed in seeds:
        eo, Fo, so = res[("old", seed)]
        en, Fn, sn = res[("new", seed)]
        diff = np.nonzero(eo != en)[0]
        first = int(diff[0]) if diff.size else -1
        rel = float(np.max(np.abs(eo[:10] - en[:10]) / np.abs(eo[:10])))
        print("%4d  %18s  %22.1e  %.8f +- %.1e  %.8f +- %.1e"
              % (seed, first if first >= 0 else "none", rel, Fo, so, Fn, sn))
        fo.append(Fo)
        fn.append(Fn)
    fo, fn = np.array(fo), np.array(fn)
    k = len(seeds)
    se = np.sqrt(fo.var(ddof=1) / k + fn.var(ddof=1) / k) if k > 1 else np.nan
    z_means = (fn.mean() - fo.mean()) / se if se > 0 else 0.0
    d = fn - fo
    se_d = d.std(ddof=1) / np.sqrt(k) if k > 1 else np.nan
    z_pair = d.mean() / se_d if se_d > 0 else 0.0
    print("old: mean %.8f, spread over seeds %.2e" % (fo.mean(), fo.std(ddof=1)))
    print("new: mean %.8f, spread over seeds %.2e" % (fn.mean(), fn.std(ddof=1)))
    print("difference of the means %.2e +- %.2e (z = %.2f)" % (fn.mean() - fo.mean(), se, z_means))
    print("paired differences: mean %.2e, spread %.2e (z = %.2f)" % (d.mean(), d.std(ddof=1), z_pair))
    ok = abs(z_means) < 3 and abs(z_pair) < 3
    print("agree" if ok else "DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError) as e:
        print("compare_trajectories: %s" % e, file=sys.stderr)
        sys.exit(2)
