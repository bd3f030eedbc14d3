#!/usr/bin/python3
"""Independent numpy reference of the arsampler forward pass.

This module re-implements, in plain numpy and float64, the autoregressive
network that arsampler evaluates in C: NetKet's ``MaskedConv1D`` layers stacked as in
``ARNNConv1D``, with arsampler's extensions and its ascending local-state order (NetKet's own
semantics, on NetKet's parameter tree, are ``netket_log_psi`` below).  It is written the way NetKet/Flax write it (slice,
zero-pad on the left, then a dilated VALID cross-correlation as done by
``jax.lax.conv_general_dilated``), NOT the way the C code does it, so that the
two implementations can check each other.

Main entry points
-----------------
    masked_conv1d(x, kernel, bias, dilation, exclusive, groups)
    selu, tanh, relu, gelu, identity     (and ACTIVATIONS, a name -> function dict)
    encode(configs, local_states, input_kind)
    conditionals(configs, model)         -> (batch, size, local_size) log-amplitudes
    log_psi(configs, model), log_prob(configs, model)   (sector mask and symmetrisation
                                         of the model's total_sz and symmetrize keys)
    load_model(path) / save_model(h5group, model)
    make_model(...)                      build a model dict with random weights
    sample(model, n, rng)                slow exact autoregressive sampler (for tests)
    netket_local_states(spin, ordering)  NetKet's Spin local states, either ordering
    netket_log_psi(configs, params, ...) NetKet's ARNNConv1D on its own parameter tree
    phase_phi(configs, phase)            the conv phase network (arsampler's [phase]): phi(s)
    selfcheck()                          brute-force checks, see its docstring

A "model" is a plain dict; see ``make_model`` for the list of keys.

Only numpy is needed for the forward pass; h5py is imported lazily by the
HDF5 helpers.
"""

import itertools
import math

import numpy as np

# The value arsampler writes in /model/machine_pow; NetKet's default.
MACHINE_POW = 2

# ---------------------------------------------------------------------------
# Activations (element-wise, float64).  Same definitions as jax.nn.
# ---------------------------------------------------------------------------

SELU_SCALE = 1.0507009873554805
SELU_ALPHA = 1.6732632423543772


def selu(x):
    """jax.nn.selu: scale * (x if x > 0 else alpha * expm1(x))."""
    x = np.asarray(x, dtype=np.float64)
    # np.minimum keeps expm1 from overflowing on the (discarded) positive branch.
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))


def tanh(x):
    return np.tanh(np.asarray(x, dtype=np.float64))


def relu(x):
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def gelu(x):
    """jax.nn.gelu with approximate=True (its default): the tanh approximation."""
    x = np.asarray(x, dtype=np.float64)
    c = math.sqrt(2.0 / math.pi)
    return x * 0.5 * (1.0 + np.tanh(c * (x + 0.044715 * x ** 3)))


def identity(x):
    return np.asarray(x, dtype=np.float64)


ACTIVATIONS = {
    "selu": selu,
    "tanh": tanh,
    "relu": relu,
    "gelu": gelu,
    "identity": identity,
}

INPUT_KINDS = ("value", "onehot")

# ---------------------------------------------------------------------------
# Hilbert space helpers
# ---------------------------------------------------------------------------


def spin_local_states(spin):
    """Local state values 2*Sz in ascending order: -2S, -2S+2, ..., 2S."""
    two_s = int(round(2 * spin))
    if two_s < 1 or abs(2 * spin - two_s) > 1e-12:
        raise ValueError("spin must be a positive multiple of 1/2, got %r" % (spin,))
    return np.arange(-two_s, two_s + 1, 2, dtype=np.float64)


def local_indices(configs, local_states):
    """Map local state VALUES to their position in (ascending) local_states.

    Raises ValueError if a value is not one of local_states.
    """
    configs = np.asarray(configs)
    local_states = np.asarray(local_states, dtype=np.float64)
    # Exact comparison: values are small integers stored exactly.
    match = configs[..., None].astype(np.float64) == local_states
    if not np.all(match.sum(axis=-1) == 1):
        bad = np.unique(configs[match.sum(axis=-1) != 1])
        raise ValueError("configuration values %s are not in local_states %s"
                         % (bad.tolist(), local_states.tolist()))
    return np.argmax(match, axis=-1)


def encode(configs, local_states, input_kind):
    """Network input for configurations of local state values.

    configs: (batch, size) local state values (2*Sz).
    input_kind "value":  (batch, size, 1) float64, the value itself.
    input_kind "onehot": (batch, size, local_size) float64 one-hot of the local
                         index (position of the value in ascending local_states).
    """
    configs = np.asarray(configs)
    if configs.ndim != 2:
        raise ValueError("configs must have shape (batch, size)")
    if input_kind == "value":
        local_indices(configs, local_states)  # only to validate the values
        return configs.astype(np.float64)[:, :, None]
    if input_kind == "onehot":
        idx = local_indices(configs, local_states)
        local_size = len(local_states)
        return np.eye(local_size, dtype=np.float64)[idx]
    raise ValueError("unknown input kind %r (expected value|onehot)" % (input_kind,))


# ---------------------------------------------------------------------------
# Convolution, written like Flax / lax.conv_general_dilated
# ---------------------------------------------------------------------------


def conv_valid_dilated(lhs, rhs, rhs_dilation, feature_group_count):
    """numpy equivalent of lax.conv_general_dilated for our 1D case.

    lhs: (batch, length, Cin) already padded input ("NWC").
    rhs: (K, Cin / groups, F) kernel ("WIO").
    VALID padding, window stride 1, no lhs dilation, rhs (kernel) dilation d.
    This is a cross-correlation (the kernel is NOT flipped):

        out[b, t, f] = sum_k sum_c lhs[b, t + k*d, g*Cg + c] * rhs[k, c, f]

    where g = f // (F / groups) is the feature group of output channel f and
    Cg = Cin / groups.  Output length = length - (K - 1) * d.
    """
    batch, length, cin = lhs.shape
    ksize, cin_per_group, fout = rhs.shape
    d = rhs_dilation
    g = feature_group_count
    if cin % g != 0 or fout % g != 0:
        raise ValueError("channels (%d in, %d out) not divisible by groups %d" % (cin, fout, g))
    if cin // g != cin_per_group:
        raise ValueError("kernel expects %d input channels per group, input has %d / %d"
                         % (cin_per_group, cin, g))
    out_len = length - (ksize - 1) * d
    if out_len < 0:
        raise ValueError("input too short for the dilated kernel")
    fout_per_group = fout // g
    out = np.zeros((batch, out_len, fout), dtype=np.float64)
    for j in range(g):
        in_sl = slice(j * cin_per_group, (j + 1) * cin_per_group)
        out_sl = slice(j * fout_per_group, (j + 1) * fout_per_group)
        for k in range(ksize):
            # window tap k reads the input shifted by k*d
            window = lhs[:, k * d: k * d + out_len, in_sl]          # (batch, out_len, Cg)
            out[:, :, out_sl] += window @ rhs[k, :, out_sl]          # (Cg, Fg)
    return out


def masked_conv1d(x, kernel, bias, dilation, exclusive, groups):
    """NetKet MaskedConv1D forward pass.

    x: (batch, size, Cin) float64.
    kernel: (K', Cin/groups, F) with K' = kernel_size - exclusive.
    bias: (F,) or None.
    Output (batch, size, F); output site t depends on input sites
    t-d, ..., t-K'd if exclusive, on t, t-d, ..., t-(K'-1)d otherwise.
    """
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    batch, size, _ = x.shape
    kp = kernel.shape[0]
    d = int(dilation)
    if d < 1:
        raise ValueError("dilation must be >= 1")
    if kp < 1:
        raise ValueError("kernel has no taps (kernel_size must be >= 2 for the exclusive layer)")
    if exclusive:
        if d > size:
            # NetKet's x[:, :-d] is then empty and the output would have length d, not
            # size: the layer is ill-defined, refuse it. d == size is valid: every output
            # site sees only the padding.
            raise ValueError("exclusive layer needs dilation <= size (got %d > %d)" % (d, size))
        x = x[:, :-d, :]          # drop the last d sites
        left = kp * d             # ... and shift right by d more than a causal conv
    else:
        left = (kp - 1) * d       # plain causal convolution
    xp = np.pad(x, ((0, 0), (left, 0), (0, 0)))
    y = conv_valid_dilated(xp, kernel, d, groups)
    assert y.shape[1] == size, y.shape
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float64)
    return y


def masked_conv1d_loops(x, kernel, bias, dilation, exclusive, groups):
    """Dumb explicit-loop version written straight from the formula

        y[b,t,f] = bias[f] + sum_k sum_c x[b, t - (K'-1-k)*d - e*d, goff + c] * W[k,c,f]

    (term is zero when the site index is < 0), e = 1 if exclusive else 0,
    goff = (f // (F/groups)) * (Cin/groups).  Used only by selfcheck().
    """
    batch, size, cin = x.shape
    kp, cg, fout = kernel.shape
    e = 1 if exclusive else 0
    fg = fout // groups
    y = np.zeros((batch, size, fout))
    for b in range(batch):
        for t in range(size):
            for f in range(fout):
                acc = 0.0 if bias is None else float(bias[f])
                goff = (f // fg) * cg
                for k in range(kp):
                    s = t - (kp - 1 - k) * dilation - e * dilation
                    if s < 0:
                        continue
                    for c in range(cg):
                        acc += x[b, s, goff + c] * kernel[k, c, f]
                y[b, t, f] = acc
    return y


# ---------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------


def layer_groups(i, layers, feature_group_count):
    """feature_group_count applies only to hidden-to-hidden layers."""
    return feature_group_count if 0 < i < layers - 1 else 1


def input_channels(local_size, input_kind, sublattice=1):
    return (1 if input_kind == "value" else local_size) + (sublattice if sublattice > 1 else 0)


def with_sublattice(x, sublattice):
    """Appends the one-hot of the site index mod K (sublattice K > 1) to the input channels of
    x (batch, size, C): the position channels of [model] sublattice."""
    if sublattice <= 1:
        return x
    size = x.shape[1]
    pos = np.eye(sublattice, dtype=np.float64)[np.arange(size) % sublattice]
    return np.concatenate([x, np.broadcast_to(pos, (x.shape[0], size, sublattice))], axis=-1)


def expected_kernel_shape(model, i):
    """(K - exclusive_i, Cin_i / g_i, F_i) for layer i."""
    layers = model["layers"]
    g = layer_groups(i, layers, model["feature_group_count"])
    if i == 0:
        cin = input_channels(model["local_size"], model["input"], model.get("sublattice", 1))
    else:
        cin = model["features"][i - 1]
    exclusive = 1 if i == 0 else 0
    return (model["kernel_size"] - exclusive, cin // g, model["features"][i])


def logsumexp(a, axis):
    """Stable log(sum(exp(a))) along axis, keepdims=True; -inf where every term is -inf."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))


def conditionals(configs, model):
    """Conditional log-amplitudes, shape (batch, size, local_size).

    lpsi[b, t, s] = log psi(s_t = local_states[s] | s_<t); normalised so that
    sum_s exp(machine_pow * lpsi[b, t, s]) == 1.
    """
    x = with_sublattice(encode(configs, model["local_states"], model["input"]),
                        model.get("sublattice", 1))
    act = ACTIVATIONS[model["activation"]]
    layers = model["layers"]
    for i in range(layers):
        if i > 0:
            x = act(x)
        bias = model["biases"][i] if model["use_bias"] else None
        x = masked_conv1d(x, model["kernels"][i], bias, model["kernel_dilation"][i],
                          exclusive=(i == 0),
                          groups=layer_groups(i, layers, model["feature_group_count"]))
    mp = float(model.get("machine_pow", MACHINE_POW))
    feasible = sector_feasible(configs, model)
    if feasible is None:
        return x - (1.0 / mp) * logsumexp(mp * x, axis=-1)
    # Renormalise over the local states that can still complete the sector; after a prefix
    # that left it nothing is feasible and every entry is -inf.
    x = np.where(feasible, x, -np.inf)
    norm = logsumexp(mp * x, axis=-1)
    with np.errstate(invalid="ignore"):
        return np.where(feasible, x - (1.0 / mp) * norm, -np.inf)


def sector_feasible(configs, model):
    """(batch, size, local_size) bool: whether each local state can still reach the sector
    total_sz given the values before it, or None without a sector.

    The remaining r = size-1-t sites sum to any value in [-r*2S, r*2S] of the parity of
    r*2S, so v is feasible at site t iff |M - m_t - v| <= r*2S, M = 2 total_sz, m_t the sum
    of the values before t (the parity is then automatic for a reachable sector)."""
    total_sz = model.get("total_sz")
    if total_sz is None:
        return None
    configs = np.asarray(configs, dtype=np.float64)
    size = configs.shape[1]
    two_s = len(model["local_states"]) - 1
    before = np.cumsum(configs, axis=1) - configs                 # m_t, (batch, size)
    remaining = (size - 1 - np.arange(size)) * two_s              # r_t * 2S, (size,)
    need = 2.0 * total_sz - before[:, :, None] - model["local_states"][None, None, :]
    return np.abs(need) <= remaining[None, :, None]


def plain_log_psi(configs, model):
    """The network's own log psi(s) = sum_t lpsi[b, t, index(s_t)], shape (batch,)."""
    lp = conditionals(configs, model)
    idx = local_indices(configs, model["local_states"])
    return np.take_along_axis(lp, idx[:, :, None], axis=-1)[:, :, 0].sum(axis=1)


SYMMETRY_GENERATORS = ("spin_flip", "reflection", "translation")


def parse_symmetrize(text):
    """The generators named by a symmetrize setting ("none", "both", or a list of
    spin_flip, reflection, translation), as a set; ValueError for anything else."""
    text = str(text).strip()
    if text == "none":
        return set()
    if text == "both":
        return {"spin_flip", "reflection"}
    names = [t.strip() for t in text.split(",")]
    if any(n not in SYMMETRY_GENERATORS for n in names) or len(set(names)) != len(names):
        raise ValueError("unknown symmetrize %r" % text)
    return set(names)


def group(symmetrize, size):
    """The group elements of a symmetrize setting on a chain of `size` sites, as functions on
    value configurations: g s = shift_k (reflect^r (flip^f s)), (shift_k s)_t = s_{t-k mod L}."""
    gens = parse_symmetrize(symmetrize)
    flip = [False, True] if "spin_flip" in gens else [False]
    refl = [False, True] if "reflection" in gens else [False]
    shifts = range(size) if "translation" in gens else [0]
    out = []
    for k in shifts:
        for r in refl:
            for f in flip:
                def g(c, f=f, r=r, k=k):
                    c = -c if f else c
                    c = c[:, ::-1] if r else c
                    return np.roll(c, k, axis=1) if k else c
                out.append(g)
    return out


def log_psi(configs, model):
    """log psi of the state: the network's, or for symmetrize != none
    (1/2) (logsumexp_g 2 log psi(g s) - log |G|)."""
    configs = np.asarray(configs)
    g = group(model.get("symmetrize", "none"), configs.shape[1])
    if len(g) == 1:
        return plain_log_psi(configs, model)
    mp = float(model.get("machine_pow", MACHINE_POW))
    terms = np.stack([mp * plain_log_psi(h(configs), model) for h in g], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = terms.max(axis=0)
        safe = np.where(np.isfinite(m), m, 0.0)
        total = safe + np.log(np.exp(terms - safe).sum(axis=0))
    return np.where(np.isneginf(m), -np.inf, (total - math.log(len(g))) / mp)


def plain_phase_phi(configs, phase):
    """phi(s) of the conv phase network alone (nn/phase.h): a centred dilated convolution
    stack over the one-hot input, written with shifted copies of the whole chain (np.roll on a
    ring, zero-filled shifts on an open chain) rather than the C code's windows."""
    local_states = spin_local_states(phase["spin"])
    idx = local_indices(np.asarray(configs), local_states)
    n, L = idx.shape
    D = len(local_states)
    a = np.zeros((n, L, D))
    a[np.arange(n)[:, None], np.arange(L)[None, :], idx] = 1.0
    K = int(phase["kernel_size"])
    c = (K - 1) // 2
    layers = int(phase["layers"])
    act = ACTIVATIONS[phase["activation"]]
    for l in range(layers):
        W, b = phase["kernels"][l], phase["biases"][l]
        d = int(phase["kernel_dilation"][l])
        z = np.broadcast_to(b, (n, L, W.shape[2])).copy()
        for k in range(K):
            off = (k - c) * d  # output t reads input t + off
            if phase["pbc"]:
                shifted = np.roll(a, -off, axis=1)
            else:
                shifted = np.zeros_like(a)
                lo, hi = max(0, -off), min(L, L - off)
                if lo < hi:
                    shifted[:, lo:hi] = a[:, lo + off:hi + off]
            z += shifted @ W[k]
        a = act(z) if l < layers - 1 else z
    phi = a[:, :, 0].sum(axis=1)
    if phase.get("beta") is not None:
        phi = phi + phase["beta"][np.arange(L)[None, :], idx].sum(axis=1)
    if phase.get("jastrow") is not None:
        # sum_r w_r sum_t v_t v_{t+r}: t + r mod L on a ring, t + r < L on an open chain.
        v = np.asarray(local_states)[idx]
        for r, w in enumerate(phase["jastrow"], start=1):
            pairs = v * np.roll(v, -r, axis=1) if phase["pbc"] else v[:, :L - r] * v[:, r:]
            phi = phi + w * pairs.sum(axis=1)
    return phi


def phase_phi(configs, phase):
    """The phase of the state psi = |psi| exp(i phi): the network's averaged over the group of
    the symmetrize setting, plus pi for the Marshall sign (marshall_sign) when set."""
    configs = np.asarray(configs)
    g = group(phase.get("symmetrize", "none"), configs.shape[1])
    phi = np.mean([plain_phase_phi(h(configs), phase) for h in g], axis=0)
    if phase.get("marshall_sign"):
        idx = local_indices(configs, spin_local_states(phase["spin"]))
        phi = phi + math.pi * (idx[:, 1::2].sum(axis=1) % 2)
    return phi


def log_prob(configs, model):
    """log |psi(s)|^2 = machine_pow * log psi(s) (machine_pow = 2)."""
    return float(model.get("machine_pow", MACHINE_POW)) * log_psi(configs, model)


def sample(model, n, rng):
    """Exact autoregressive sampling, one site at a time (slow; for tests only).

    Returns (configs int8 (n, size), log_prob float64 (n,)).
    """
    size = model["size"]
    ls = model["local_states"]
    mp = float(model.get("machine_pow", MACHINE_POW))
    configs = np.full((n, size), ls[0])
    for t in range(size):
        p = np.exp(mp * conditionals(configs, model)[:, t, :])   # (n, local_size)
        cum = np.cumsum(p, axis=1)
        u = rng.random(n)[:, None] * cum[:, -1:]
        idx = np.minimum((u >= cum).sum(axis=1), len(ls) - 1)
        configs[:, t] = ls[idx]
    g = group(model.get("symmetrize", "none"), size)
    if len(g) > 1:
        pick = rng.integers(len(g), size=n)
        configs = np.stack([g[pick[b]](configs[b:b + 1])[0] for b in range(n)])
    configs = configs.astype(np.int8)
    return configs, log_prob(configs, model)


# ---------------------------------------------------------------------------
# NetKet's semantics, on NetKet's own parameter tree
# ---------------------------------------------------------------------------
#
# Written from netket/models/autoreg.py (ARNNSequential.conditionals_log_psi, __call__) and
# netket/hilbert/spin.py at netket 3b9e1c2, without reference to arsampler's layout:
# the parameters are NetKet's tree {'_layers_0': {'kernel', 'bias'}, ...}, and the local index
# of a value and the meaning of an output channel are those of NetKet's Spin space.
#   inverted_ordering=False (the default since NetKet 3.16): local_states = [2S, 2S-2, ..., -2S]
#   inverted_ordering=True (the historical order):           local_states = [-2S, ..., 2S]
# In both, local index c is the state S^z = S - c (sigmaz is diag(2S, ..., -2S) on the
# indices), so under the inverted order the value -1 of spin 1/2 is up.

NETKET_ORDERINGS = ("default", "inverted")


def netket_local_states(spin, ordering="default"):
    """nk.hilbert.Spin(spin, N, inverted_ordering=(ordering == "inverted")).local_states."""
    asc = spin_local_states(spin)
    if ordering == "default":
        return asc[::-1].copy()
    if ordering == "inverted":
        return asc
    raise ValueError("unknown NetKet ordering %r (expected default|inverted)" % (ordering,))


def netket_sz(configs, spin, ordering="default"):
    """S^z of each site of NetKet configurations: S - (local index)."""
    return spin - local_indices(configs, netket_local_states(spin, ordering))


def netket_layers(params):
    """[(kernel, bias or None), ...] of '_layers_0', '_layers_1', ... looked up by name."""
    n = len([k for k in params if k.startswith("_layers_")])
    out = []
    for i in range(n):
        layer = params["_layers_%d" % i]
        bias = layer.get("bias")
        out.append((np.asarray(layer["kernel"], dtype=np.float64),
                    None if bias is None else np.asarray(bias, dtype=np.float64)))
    return out


def netket_conditionals_log_psi(configs, params, spin, kernel_dilation, activation="selu",
                                ordering="default", machine_pow=MACHINE_POW):
    """ARNNConv1D.conditionals_log_psi: (batch, size, local_size), channel c = local index c."""
    x = np.asarray(configs, dtype=np.float64)[:, :, None]  # jnp.expand_dims(inputs, -1)
    netket_local_states(spin, ordering)  # validates the ordering
    act = ACTIVATIONS[activation]
    for i, (kernel, bias) in enumerate(netket_layers(params)):
        if i > 0:
            x = act(x)
        x = masked_conv1d(x, kernel, bias, kernel_dilation, exclusive=(i == 0), groups=1)
    mp = float(machine_pow)
    return x - (1.0 / mp) * logsumexp(mp * x, axis=-1)   # netket's _normalize


def netket_log_psi(configs, params, spin, kernel_dilation, activation="selu",
                   ordering="default"):
    """ARNNConv1D.__call__: sum_t conditionals[t, states_to_local_indices(s_t)]."""
    lp = netket_conditionals_log_psi(configs, params, spin, kernel_dilation, activation, ordering)
    idx = local_indices(configs, netket_local_states(spin, ordering))
    return np.take_along_axis(lp, idx[:, :, None], axis=-1)[:, :, 0].sum(axis=1)


# ---------------------------------------------------------------------------
# Building, loading and saving models
# ---------------------------------------------------------------------------


def _per_layer(value, layers, name):
    if np.ndim(value) == 0:
        return [int(value)] * layers
    value = [int(v) for v in value]
    if len(value) != layers:
        raise ValueError("%s has %d entries, expected %d" % (name, len(value), layers))
    return value


def features_list(features, layers, local_size):
    """One int F -> [F]*(layers-1) + [local_size]; a list is taken as is."""
    if np.ndim(features) == 0:
        return [int(features)] * (layers - 1) + [local_size]
    features = [int(f) for f in features]
    if len(features) != layers:
        raise ValueError("features has %d entries, expected %d" % (len(features), layers))
    if features[-1] != local_size:
        raise ValueError("last layer must have local_size=%d features" % local_size)
    return features


def make_model(spin, size, layers, features, kernel_size, kernel_dilation=1,
               activation="selu", use_bias=True, input_kind="value",
               feature_group_count=1, rng=None, weight_std=0.6, bias_std=0.3):
    """Build a model dict.  Weights ~ normal(0, weight_std), biases ~ normal(0, bias_std)
    drawn from rng layer by layer (kernel then bias).  With rng=None the
    weights are left empty (fill model['kernels'] / ['biases'] yourself).

    Keys: spin, size, local_size, local_states, layers, features (list),
    kernel_size, kernel_dilation (list), activation, input, use_bias (bool),
    feature_group_count, machine_pow, kernels (list of arrays), biases (list
    of arrays, or of None when use_bias is false).
    """
    local_states = spin_local_states(spin)
    local_size = len(local_states)
    if activation not in ACTIVATIONS:
        raise ValueError("unknown activation %r" % (activation,))
    if input_kind not in INPUT_KINDS:
        raise ValueError("unknown input kind %r" % (input_kind,))
    model = {
        "spin": float(spin),
        "size": int(size),
        "local_size": local_size,
        "local_states": local_states,
        "layers": int(layers),
        "features": features_list(features, layers, local_size),
        "kernel_size": int(kernel_size),
        "kernel_dilation": _per_layer(kernel_dilation, layers, "kernel_dilation"),
        "activation": activation,
        "input": input_kind,
        "use_bias": bool(use_bias),
        "feature_group_count": int(feature_group_count),
        "machine_pow": MACHINE_POW,
        "kernels": [],
        "biases": [],
    }
    if rng is not None:
        for i in range(layers):
            shape = expected_kernel_shape(model, i)
            model["kernels"].append(rng.normal(0.0, weight_std, size=shape))
            model["biases"].append(rng.normal(0.0, bias_std, size=(shape[2],))
                                   if use_bias else None)
    return model


def _decode(value):
    """h5py gives str for variable-length strings, bytes for fixed-length ones."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _decode(value[()])
    return str(value) if not isinstance(value, str) else value


def load_phase(path_or_file, marshall_sign=False):
    """The phase network of an arsampler HDF5 file (/phase attributes, /variables/phase) as the
    dict phase_phi takes, or None when the file has none; marshall_sign adds the Marshall sign
    of [hamiltonian] to the phase."""
    import h5py
    own = not isinstance(path_or_file, h5py.File)
    f = h5py.File(path_or_file, "r") if own else path_or_file
    try:
        if "phase" not in f:
            return None
        a = f["phase"].attrs
        layers = int(a["layers"])
        vp = f["variables/phase"]
        model = f["model"].attrs
        return {
            "spin": float(f["hilbert"].attrs["spin"]),
            "layers": layers,
            "features": int(a["features"]),
            "kernel_size": int(a["kernel_size"]),
            "kernel_dilation": [int(v) for v in np.atleast_1d(a["kernel_dilation"])],
            "activation": _decode(a["activation"]),
            "site_phase": bool(int(a["site_phase"])),
            "pbc": bool(int(a["pbc"])),
            "kernels": [vp["layers_%d/kernel" % i][()] for i in range(layers)],
            "biases": [vp["layers_%d/bias" % i][()] for i in range(layers)],
            "beta": vp["beta"][()] if "beta" in vp else None,
            "jastrow": vp["jastrow"][()] if "jastrow" in vp else None,
            "symmetrize": _decode(model["symmetrize"]) if "symmetrize" in model else "none",
            "marshall_sign": bool(marshall_sign),
        }
    finally:
        if own:
            f.close()


def load_model(path_or_file):
    """Read /hilbert, /model and /variables of an arsampler HDF5 file into a model dict."""
    import h5py
    own = not isinstance(path_or_file, h5py.File)
    f = h5py.File(path_or_file, "r") if own else path_or_file
    try:
        h = f["hilbert"]
        m = f["model"]
        layers = int(m.attrs["layers"])
        model = {
            "spin": float(h.attrs["spin"]),
            "size": int(h.attrs["size"]),
            "local_size": int(h.attrs["local_size"]),
            "local_states": np.asarray(h["local_states"][()], dtype=np.float64),
            "layers": layers,
            "features": [int(v) for v in np.atleast_1d(m.attrs["features"])],
            "kernel_size": int(m.attrs["kernel_size"]),
            "kernel_dilation": [int(v) for v in np.atleast_1d(m.attrs["kernel_dilation"])],
            "activation": _decode(m.attrs["activation"]),
            "input": _decode(m.attrs["input"]),
            "sublattice": int(m.attrs["sublattice"]) if "sublattice" in m.attrs else 1,
            "use_bias": bool(int(m.attrs["use_bias"])),
            "feature_group_count": int(m.attrs["feature_group_count"]),
            "machine_pow": int(m.attrs["machine_pow"]),
            "total_sz": float(h.attrs["total_sz"]) if "total_sz" in h.attrs else None,
            "symmetrize": _decode(m.attrs["symmetrize"]) if "symmetrize" in m.attrs else "none",
            "kernels": [],
            "biases": [],
        }
        params = f["variables/params"]
        for i in range(layers):
            g = params["layers_%d" % i]
            model["kernels"].append(np.asarray(g["kernel"][()], dtype=np.float64))
            model["biases"].append(np.asarray(g["bias"][()], dtype=np.float64)
                                   if model["use_bias"] else None)
        return model
    finally:
        if own:
            f.close()


def config_ini(model, seed):
    """An INI rendering of the model settings (for the root 'config' attribute)."""
    lines = [
        "[hilbert]",
        "spin = %s" % repr(model["spin"]),
        "size = %d" % model["size"],
        "",
        "[model]",
        "layers = %d" % model["layers"],
        "features = %s" % ",".join(str(v) for v in model["features"]),
        "kernel_size = %d" % model["kernel_size"],
        "kernel_dilation = %s" % ",".join(str(v) for v in model["kernel_dilation"]),
        "activation = %s" % model["activation"],
        "use_bias = %d" % int(model["use_bias"]),
        "input = %s" % model["input"],
        "feature_group_count = %d" % model["feature_group_count"],
        "machine_pow = %d" % model["machine_pow"],
        "",
        "[run]",
        "seed = %d" % seed,
        "",
    ]
    return "\n".join(lines)


def save_model(f, model, seed, arsampler_version, config=None):
    """Write root attributes, /hilbert, /model and /variables into the open h5py.File f.

    Strings are Python str (h5py writes variable-length UTF-8), integers np.int64,
    seed np.uint64, exactly as in docs/hdf5-format.md.
    """
    f.attrs["format"] = "arsampler"
    f.attrs["format_version"] = np.int64(1)
    f.attrs["arsampler_version"] = str(arsampler_version)
    f.attrs["config"] = config if config is not None else config_ini(model, seed)
    f.attrs["seed"] = np.uint64(seed)

    h = f.create_group("hilbert")
    h.attrs["size"] = np.int64(model["size"])
    h.attrs["local_size"] = np.int64(model["local_size"])
    h.attrs["spin"] = np.float64(model["spin"])
    h.create_dataset("local_states", data=np.asarray(model["local_states"], dtype=np.float64))

    m = f.create_group("model")
    m.attrs["layers"] = np.int64(model["layers"])
    m.attrs["kernel_size"] = np.int64(model["kernel_size"])
    m.attrs["feature_group_count"] = np.int64(model["feature_group_count"])
    m.attrs["machine_pow"] = np.int64(model["machine_pow"])
    m.attrs["use_bias"] = np.int64(1 if model["use_bias"] else 0)
    m.attrs["features"] = np.asarray(model["features"], dtype=np.int64)
    m.attrs["kernel_dilation"] = np.asarray(model["kernel_dilation"], dtype=np.int64)
    m.attrs["activation"] = model["activation"]
    m.attrs["input"] = model["input"]

    params = f.create_group("variables").create_group("params")
    for i in range(model["layers"]):
        g = params.create_group("layers_%d" % i)
        g.create_dataset("kernel", data=np.asarray(model["kernels"][i], dtype=np.float64))
        if model["use_bias"]:
            g.create_dataset("bias", data=np.asarray(model["biases"][i], dtype=np.float64))


# ---------------------------------------------------------------------------
# Self-checks
# ---------------------------------------------------------------------------


def all_configs(model):
    """Every configuration of the Hilbert space, shape (local_size**size, size)."""
    ls = model["local_states"]
    return np.array(list(itertools.product(ls, repeat=model["size"])), dtype=np.int8)


def check_normalisation(model, max_configs=5000):
    """Return |sum_s exp(log_prob(s)) - 1| over all configurations, or None if too many."""
    if model["local_size"] ** model["size"] > max_configs:
        return None
    lp = log_prob(all_configs(model), model)
    return abs(float(np.sum(np.exp(lp))) - 1.0)


def receptive_offsets(model):
    """Set of offsets o >= 1 such that the conditional at site t may depend on site t - o.

    Layer 0 (exclusive) reaches back a0*d0 with a0 in 1..K-1; every later layer i
    adds a_i*d_i with a_i in 0..K-1.
    """
    k = model["kernel_size"]
    offsets = {a * model["kernel_dilation"][0] for a in range(1, k)}
    for i in range(1, model["layers"]):
        d = model["kernel_dilation"][i]
        offsets = {o + a * d for o in offsets for a in range(k)}
    return offsets


def check_causality(model, configs):
    """Change site j to every other value and see which conditionals move.

    Returns (worst, outside, covered, possible):
      worst    max |change| of conditionals at sites <= j (must be exactly 0);
      outside  number of pairs (t > j) whose conditional moved although j is
               outside the receptive field of t (must be 0);
      covered / possible  pairs (t > j) inside the receptive field that did
               move / all such pairs (shows the check is not vacuous; can be
               < possible when e.g. relu units are dead for these configs).
    """
    configs = np.asarray(configs)
    size = model["size"]
    base = conditionals(configs, model)
    offsets = receptive_offsets(model)
    worst = 0.0
    moved = np.zeros((size, size), dtype=bool)   # moved[j, t]
    for j in range(size):
        for v in model["local_states"]:
            mod = configs.copy()
            mod[:, j] = v
            delta = np.abs(conditionals(mod, model) - base)   # (batch, size, local_size)
            worst = max(worst, float(np.max(delta[:, :j + 1])))
            moved[j] |= np.max(delta, axis=(0, 2)) > 0
    outside = covered = possible = 0
    for j in range(size):
        for t in range(j + 1, size):
            inside = (t - j) in offsets
            possible += inside
            covered += inside and moved[j, t]
            outside += (not inside) and moved[j, t]
    return worst, outside, covered, possible


def check_conv_against_loops(model, configs):
    """Max |masked_conv1d - masked_conv1d_loops| over all layers of the model."""
    x = with_sublattice(encode(configs, model["local_states"], model["input"]),
                        model.get("sublattice", 1))
    act = ACTIVATIONS[model["activation"]]
    worst = 0.0
    for i in range(model["layers"]):
        if i > 0:
            x = act(x)
        bias = model["biases"][i] if model["use_bias"] else None
        g = layer_groups(i, model["layers"], model["feature_group_count"])
        a = masked_conv1d(x, model["kernels"][i], bias, model["kernel_dilation"][i], i == 0, g)
        b = masked_conv1d_loops(x, model["kernels"][i], bias, model["kernel_dilation"][i], i == 0, g)
        worst = max(worst, float(np.max(np.abs(a - b))))
        x = a
    return worst


def selfcheck_model(model, configs, name="model", verbose=True):
    """Run the three brute-force checks on one model; raise AssertionError on failure."""
    norm = check_normalisation(model)
    before, outside, covered, possible = check_causality(model, configs)
    conv = check_conv_against_loops(model, configs)
    if verbose:
        print("  %-32s |sum p - 1| = %-8s  causality: max|d| at sites<=j = %.1e, "
              "moved outside receptive field = %d, inside moved %d/%d   "
              "|conv - loops| = %.1e"
              % (name, "skipped" if norm is None else "%.1e" % norm, before, outside,
                 covered, possible, conv))
    assert norm is None or norm <= 1e-12, "%s: normalisation off by %g" % (name, norm)
    assert before == 0.0, "%s: causality violated (%g)" % (name, before)
    assert outside == 0, "%s: dependence outside the receptive field" % name
    assert conv <= 1e-12, "%s: masked_conv1d disagrees with explicit loops (%g)" % (name, conv)
    return norm, before, outside, covered, possible, conv


def selfcheck(verbose=True):
    """Brute-force checks on a few small random models, including one exclusive
    layer with kernel_size 2 and one with dilation > 1 and feature groups."""
    rng = np.random.default_rng(12345)
    models = {
        "selu_k3": make_model(0.5, 6, 3, 4, 3, 1, "selu", True, "value", 1, rng),
        "gelu_onehot_d2": make_model(1, 5, 3, [4, 4, 3], 2, [2, 1, 2], "gelu", False,
                                     "onehot", 1, rng),
        "tanh_groups": make_model(0.5, 8, 4, 6, 3, 2, "tanh", True, "value", 3, rng),
    }
    for name, model in models.items():
        configs = rng.choice(model["local_states"], size=(4, model["size"])).astype(np.int8)
        selfcheck_model(model, configs, name, verbose)
    return True


if __name__ == "__main__":
    selfcheck()
    print("arnn_ref selfcheck OK")
