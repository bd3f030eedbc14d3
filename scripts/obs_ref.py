#!/usr/bin/python3
"""Independent numpy recomputation of an output file's /observables from its /samples.

Usage:
    scripts/obs_ref.py FILE [--tol T]

Reads the samples, the network (through scripts/arnn_ref.py, our numpy
implementation of the model) and the effective config stored in the file, and
recomputes every observable under /observables with the definitions of
docs/analysis.md, written here from scratch: the diagonal ones from the sample
values, sx and sx-sx correlations from full log-amplitudes of the flipped
configurations (no windows), the energy from the Hamiltonian's matrix elements
of docs/hamiltonians.md (spin-1/2 presets) or, for any other Hamiltonian, from
the whole state vector (the network enumerated) times the sparse matrix that
scripts/terms_ref.py builds from /hamiltonian's expanded terms, the user
operators of [observables] operator the same way from their lines, and renyi2
from the swap ratios of the pairs (k, k + n/2). Means must agree within T (default 1e-9) relative to max(1, |x|),
standard errors within 1e-6 relative. Only meant for small files: it runs a full
forward pass per flipped configuration.

Exit status 0 if everything agrees, 1 otherwise (with the worst item).
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arnn_ref  # noqa: E402
import arsampler_io  # noqa: E402
import terms_ref  # noqa: E402


def config_of(f):
    """The run's config as {section: {key: value}} (repeatable keys as lists of lines)."""
    text = f.attrs["config"]
    if isinstance(text, bytes):
        text = text.decode()
    return arsampler_io.parse_config(text)


def bonds(L, d, pbc):
    out = [(i, i + d) for i in range(L - d)]
    if pbc:
        out += [(i, (i + d) % L) for i in range(L - d, L)]
    return out


def marshall(z):
    """(-1)^(up spins on odd sites) of value rows z (+-1)."""
    ups = (z[:, 1::2] > 0).sum(axis=1)
    return np.where(ups % 2 == 1, -1.0, 1.0)


def mean_err(x):
    """Mean over axis 0 and standard error sqrt(Var/n), Var normalised by n - 1."""
    n = x.shape[0]
    m = x.mean(axis=0)
    e = np.sqrt(x.var(axis=0, ddof=1) / n) if n > 1 else np.full_like(m, np.nan)
    return m, e


class Recompute:
    def __init__(self, f):
        self.model = arnn_ref.load_model(f)
        self.z = np.asarray(f["samples"][...], dtype=np.float64)  # values 2 Sz
        self.n, self.L = self.z.shape
        cp = config_of(f)
        self.f = f
        ham = cp.get("hamiltonian", {})
        self.pbc = str(ham.get("pbc", "true")).lower() in ("true", "yes", "on", "1")
        self.msign = str(ham.get("marshall_sign", "false")).lower() in ("true", "yes", "on", "1")
        self.ham = ham
        obs = cp.get("observables", {})
        self.operator_lines = list(obs.get("operator", []))
        if obs.get("operators_file", ""):
            with open(obs["operators_file"]) as fp:
                self.operator_lines += [ln.split("#", 1)[0].strip() for ln in fp
                                        if ln.split("#", 1)[0].strip()]
        self.cuts = [int(c) for c in str(obs.get("renyi2_cuts", str(self.L // 2))).split(",")]
        self.lp = arnn_ref.log_psi(self.z, self.model)
        self.energy = None
        # A phase network: complex ratios, whose real parts are the per-sample values.
        self.phase = arnn_ref.load_phase(f, self.msign)
        self.phi = None if self.phase is None else arnn_ref.phase_phi(self.z, self.phase)
        if self.pbc:
            self.centre, self.nr = -1, self.L // 2 + 1
        else:
            self.centre = (self.L - 1) // 2
            self.nr = self.L - self.centre

    def ratio(self, zf, part=np.real):
        """psi(zf)/psi(z) row by row, with the Marshall sign when configured; with a phase
        network its real part (part=np.imag: its imaginary part)."""
        r = np.exp(arnn_ref.log_psi(zf, self.model) - self.lp)
        if self.phase is not None:
            return r * part(np.exp(1j * (arnn_ref.phase_phi(zf, self.phase) - self.phi)))
        if self.msign:
            r *= marshall(zf) * marshall(self.z)
        return part(r + 0j)

    def flipped(self, sites):
        zf = self.z.copy()
        for i in sites:
            zf[:, i] = -zf[:, i]
        return zf

    def pairs(self):
        """(i, j) pairs of each distance r: all i with pbc, the centre otherwise."""
        L = self.L
        starts = range(L) if self.pbc else [self.centre]
        return [[(i, (i + r) % L) for i in starts] for r in range(self.nr)]

    def per_sample(self, name):
        z, L = self.z, self.L
        if name == "sz":
            return z
        if name == "magnetization":
            return z.sum(axis=1) / L
        if name == "abs_magnetization":
            return np.abs(z.sum(axis=1)) / L
        if name == "staggered_magnetization":
            stag = np.where(np.arange(L) % 2 == 1, -1.0, 1.0)
            return np.abs(z @ stag) / L
        if name == "zz_correlation":
            return np.stack([np.mean([z[:, i] * z[:, j] for i, j in prs], axis=0)
                             for prs in self.pairs()], axis=1)
        if name == "zz_connected":
            m = z.mean(axis=0)
            cols = []
            for prs in self.pairs():
                cols.append(np.mean([z[:, i] * z[:, j] - m[j] * z[:, i] - m[i] * z[:, j] +
                                     m[i] * m[j] for i, j in prs], axis=0))
            return np.stack(cols, axis=1)
        if name == "string_order":
            # m_i (-1)^(m_{i+1} + ... + m_{j-1}) m_j with m = z / 2, from the definition
            m = z / 2.0
            cols = []
            for r, prs in enumerate(self.pairs()):
                vals = []
                for i, j in prs:
                    between = [(i + q) % L for q in range(1, r)]
                    sign = (-1.0) ** np.rint(m[:, between].sum(axis=1)) if between else 1.0
                    vals.append(m[:, i] * sign * m[:, j])
                cols.append(np.mean(vals, axis=0))
            return np.stack(cols, axis=1)
        if name == "structure_factor":
            k = 2 * np.pi * np.arange(L) / L
            phase = np.exp(1j * np.outer(np.arange(L), k))  # [j, q]
            return np.abs(z @ phase) ** 2 / L
        if name == "sx":
            return np.stack([self.ratio(self.flipped([i])) for i in range(L)], axis=1)
        if name == "xx_correlation":
            cols = []
            for r, prs in enumerate(self.pairs()):
                if r == 0:
                    cols.append(np.ones(self.n))
                else:
                    cols.append(np.mean([self.ratio(self.flipped([i, j])) for i, j in prs],
                                        axis=0))
            return np.stack(cols, axis=1)
        if name == "energy":
            if self.energy is None:  # asked twice: for the mean and for the variance
                self.energy = (self.local_energy() if local_energy_known(self.f) else
                               self.dense_local(self.hamiltonian_lines()))
            return self.energy
        raise KeyError(name)

    def local_energy(self, part=np.real):
        """Re E_loc of each sample (part=np.imag: Im E_loc, which only the off-diagonal terms
        carry)."""
        h, z, L = self.ham, self.z, self.L
        diagonal = 1.0 if part is np.real else 0.0
        typ = str(h.get("type", "tfim"))
        J = float(h.get("J", 1.0))
        e = np.zeros(self.n)
        if typ == "tfim":
            hx = float(h.get("h", 1.0))
            for i, j in bonds(L, 1, self.pbc):
                e += -diagonal * J * z[:, i] * z[:, j]
            for i in range(L):
                e += -hx * self.ratio(self.flipped([i]), part)
            return e
        delta = float(h.get("Delta", 1.0)) if typ == "xxz" else 1.0
        gamma = float(h.get("gamma", 0.0)) if typ == "xxz" else 0.0
        couplings = [(1, J)]
        if typ == "j1j2":
            couplings.append((2, float(h.get("J2", 0.0))))
        for d, c in couplings:
            for i, j in bonds(L, d, self.pbc):
                e += diagonal * (c * delta * z[:, i] * z[:, j] if d == 1 else c * z[:, i] * z[:, j])
                anti = z[:, i] != z[:, j]
                # sx sx + sy sy flips an antiparallel pair with element 2 c; the anisotropy
                # gamma (sx sx - sy sy) a parallel pair with element 2 c gamma.
                e += np.where(anti, 2 * c * self.ratio(self.flipped([i, j]), part), 0.0)
                if gamma != 0.0 and d == 1:
                    e += np.where(anti, 0.0, 2 * c * gamma * self.ratio(self.flipped([i, j]), part))
        # The fields F = D sum z z - hz sum z - hx sum x (spin 1/2: z z = 1).
        e += diagonal * (float(h.get("D", 0.0)) * L - float(h.get("hz", 0.0)) * z.sum(axis=1))
        hx = float(h.get("hx", 0.0))
        for i in range(L) if hx != 0.0 else []:
            e += -hx * self.ratio(self.flipped([i]), part)
        return e

    def operator(self, name):
        """Re O_loc(s) of each sample for the user operator `name` (dense_local of its lines)."""
        return self.dense_local([ln.split(":", 1)[1] for ln in self.operator_lines
                                 if ln.split(":", 1)[0].strip() == name])

    def hamiltonian_lines(self):
        """/hamiltonian's expanded terms as term lines with absolute sites."""
        g = self.f["hamiltonian"]
        c, nf = g["term_coupling"][()], g["term_n_factors"][()]
        ops, sites = g["term_op"][()], g["term_site"][()]
        return ["%.17g %s" % (c[e], " ".join("%s(%d)" % (ops[e, j].decode(), sites[e, j])
                                             for j in range(int(nf[e]))))
                for e in range(len(c))]

    def dense_local(self, lines, part=np.real):
        """part((O psi)(s) / psi(s)) of each sample for the operator of the term lines: the
        whole state vector psi by enumeration (the sector mask and the symmetrisation of
        arnn_ref, the Marshall sign (-1)^sum_{i odd}(S - m_i) or the phase network), and O as a
        sparse matrix built by terms_ref from the lines, with its own parser and spin
        matrices."""
        model = self.model
        two_s = model["local_size"] - 1
        configs = arnn_ref.all_configs(model).astype(np.float64)
        psi = np.exp(arnn_ref.log_psi(configs, model)).astype(complex)
        if self.phase is not None:
            psi *= np.exp(1j * arnn_ref.phase_phi(configs, self.phase))
        elif self.msign:
            odd = ((two_s - configs[:, 1::2]) / 2).sum(axis=1)
            psi *= np.where(np.rint(odd) % 2 == 1, -1.0, 1.0)
        O = terms_ref.hamiltonian(lines, self.L, two_s, self.pbc)
        idx = arsampler_io.config_indices(self.z.astype(np.int8), model["local_states"])
        return part((O @ psi)[idx] / psi[idx])

    def renyi2(self):
        half = self.n // 2
        z1, z2 = self.z[:half], self.z[half:2 * half]
        lp1, lp2 = self.lp[:half], self.lp[half:2 * half]
        x = []
        for cut in self.cuts:
            a1b2 = np.concatenate([z1[:, :cut], z2[:, cut:]], axis=1)
            a2b1 = np.concatenate([z2[:, :cut], z1[:, cut:]], axis=1)
            x.append(np.exp(arnn_ref.log_psi(a1b2, self.model) +
                            arnn_ref.log_psi(a2b1, self.model) - lp1 - lp2))
            if self.phase is not None:
                p1, p2 = self.phi[:half], self.phi[half:2 * half]
                x[-1] = x[-1] * np.cos(arnn_ref.phase_phi(a1b2, self.phase) +
                                       arnn_ref.phase_phi(a2b1, self.phase) - p1 - p2)
        m, e = mean_err(np.stack(x, axis=1))
        return -np.log(m), e / m, half


def local_energy_known(f):
    """Whether Recompute.local_energy writes this file's Hamiltonian: a spin-1/2 preset other
    than terms and blbq, without the dm coupling."""
    ham = config_of(f).get("hamiltonian", {})
    return (int(f["hilbert"].attrs["local_size"]) == 2 and
            str(ham.get("type", "tfim")) in ("tfim", "xxz", "heisenberg", "j1j2") and
            float(ham.get("dm", 0.0)) == 0.0)


def compare_local_energies(path, f, rc, tol):
    """/local_energy (and /local_energy_imag) sample by sample against numpy's, and their mean
    and variance against /vmc's final_energy and final_energy_variance."""
    for name, part in (("local_energy", np.real), ("local_energy_imag", np.imag)):
        if name not in f:
            continue
        got = np.asarray(f[name][...], dtype=np.float64)
        ref = rc.local_energy(part)
        if got.shape != ref.shape:
            print("%s: /%s has shape %s, expected %s" % (path, name, got.shape, ref.shape))
            return 1
        d = np.max(np.abs(got - ref) / np.maximum(1.0, np.abs(ref)), initial=0.0)
        print("  %-24s max difference per sample %.2e (relative)" % (name, d))
        if d > tol:
            print("%s: /%s disagrees with the numpy local energies" % (path, name))
            return 1
    vmc = f["vmc"].attrs if "vmc" in f else {}
    e = np.asarray(f["local_energy"][...], dtype=np.float64)
    for attr, value in (("final_energy", e.mean()), ("final_energy_variance", e.var(ddof=1))):
        if attr in vmc and abs(vmc[attr] - value) > 1e-12 * max(1.0, abs(value)):
            print("%s: /vmc %s %.15g, but /local_energy gives %.15g" % (path, attr, vmc[attr],
                                                                         value))
            return 1
    print("%s: every local energy matches the numpy recomputation" % path)
    return 0


def compare(path, tol):
    import h5py
    worst = (0.0, "")
    with h5py.File(path, "r") as f:
        compared = False
        if "local_energy" in f and local_energy_known(f):
            if compare_local_energies(path, f, Recompute(f), tol) != 0:
                return 1
            compared = True
        if "observables" not in f:
            print("%s: no /observables" % path)
            return 0
        rc = Recompute(f)
        for name in f["observables"]:
            g = f["observables"][name]
            if name == "renyi2":
                m, e, cnt = rc.renyi2()
            elif "definition" in g.attrs:
                x = rc.operator(name)
                m, e = mean_err(x)
                cnt = rc.n
                if abs(g["variance"][()] - np.var(x, ddof=1)) > tol * max(1.0, np.var(x, ddof=1)):
                    print("%s: /observables/%s/variance disagrees" % (path, name))
                    return 1
            else:
                x = rc.per_sample(name)
                m, e = mean_err(x)
                cnt = rc.n
            got_m = np.atleast_1d(g["mean"][()])
            got_e = np.atleast_1d(g["error"][()])
            m, e = np.atleast_1d(m), np.atleast_1d(e)
            if got_m.shape != m.shape or int(g["n_samples"][()]) != cnt:
                print("%s: /observables/%s: shape %s (expected %s) or n_samples %d (expected %d)"
                      % (path, name, got_m.shape, m.shape, int(g["n_samples"][()]), cnt))
                return 1
            dm = np.max(np.abs(got_m - m) / np.maximum(1.0, np.abs(m)))
            de = np.max(np.abs(got_e - e) / np.maximum(1e-300, np.abs(e)), initial=0.0,
                        where=np.abs(e) > 1e-12)
            print("  %-24s max mean difference %.2e, max error difference %.2e (relative)"
                  % (name, dm, de))
            if dm > tol or de > 1e-6:
                print("%s: /observables/%s disagrees with the numpy recomputation" % (path, name))
                return 1
            if name == "energy" and abs(g["variance"][()] - np.var(rc.per_sample("energy"), ddof=1)) \
                    > tol * max(1.0, abs(g["variance"][()])):
                print("%s: /observables/energy/variance disagrees" % path)
                return 1
            worst = max(worst, (dm, name))
    print("%s: every observable matches the numpy recomputation (worst %.2e, %s)"
          % (path, worst[0], worst[1]))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--tol", type=float, default=1e-9)
    args = ap.parse_args(argv)
    return compare(args.file, args.tol)


if __name__ == "__main__":
    sys.exit(main())
