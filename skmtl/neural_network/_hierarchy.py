"""Hard sharing with task heads at different trunk depths (task hierarchies).

A low-level task supervises an early trunk layer and a high-level task a later
one (Sogaard & Goldberg, ACL 2016): task ``t``'s head reads the output of
trunk layer ``depth[t]`` (0-based). Flat layout: trunk layers ``W``
``(n_in, n_out)``, ``b`` ``(n_out,)``; then, for every depth used (in
increasing order), the first head layer of that depth's tasks side by side,
``W`` ``(h_depth, T_g * h0)``, ``b`` ``(T_g * h0,)``; then further head layers
stacked over tasks, ``(T, n_in, n_out)`` / ``(T, 1, n_out)``; then the
weighting's extras. Same interface as :class:`~._network.SharedTrunkNetwork`.
"""

import numpy as np

from ._network import NamedEntryViews, _activate, _dot


class DepthTrunkNetwork(NamedEntryViews):
    """Trunk + heads reading per-task trunk depths (see module docstring)."""

    architecture = "hard"

    def __init__(
        self,
        n_features,
        hidden_layer_sizes,
        task_layer_sizes,
        n_outputs,
        activation,
        dtype=np.float64,
        n_extra=0,
        *,
        head_depth,
    ):
        self.n_features = p = int(n_features)
        self.hidden = h = tuple(int(x) for x in hidden_layer_sizes)
        self.task_hidden = tuple(int(x) for x in task_layer_sizes)
        self.n_outputs = np.asarray(n_outputs, dtype=np.int64)
        self.n_tasks = T = len(self.n_outputs)
        self.K = K = int(self.n_outputs.max())
        self.activation = activation
        self.dtype = np.dtype(dtype)
        self.n_extra = int(n_extra)
        self.depth = np.asarray(head_depth, dtype=np.intp)
        self.groups = [
            (int(d), np.flatnonzero(self.depth == d)) for d in np.unique(self.depth)
        ]
        self.n_used = int(self.depth.max()) + 1  # trunk layers that matter

        widths = list(self.task_hidden) + [K]
        h0 = widths[0]
        entries = []
        fan = p
        for i, w in enumerate(h):
            entries.append((f"W{i}", (fan, w), "W", fan, w))
            entries.append((f"b{i}", (w,), "b", fan, w))
            fan = w
        self.n_trunk_entries = len(entries)
        for d, idx in self.groups:
            entries.append((f"head0_d{d}", (h[d], idx.size * h0), "W", h[d], h0))
            entries.append((f"head0b_d{d}", (idx.size * h0,), "b", h[d], h0))
        entries += self._head_entries(T, widths, first=1)
        self._set_entries(entries)
        offsets = self._offsets
        self.n_trunk_params = offsets[self.n_trunk_entries]
        self.h0 = h0
        # GradNorm's layer: the deepest trunk layer that every task reaches
        i = 2 * int(self.depth.min())
        self.last_shared = slice(offsets[i], offsets[i + 1])
        self.output_mask = None
        if np.any(self.n_outputs < K):
            m = np.zeros((T, K), dtype=self.dtype)
            for t, k in enumerate(self.n_outputs):
                m[t, k:] = -np.inf
            self.output_mask = m

    # ------------------------------------------------------------ layout
    n_shared = property(lambda self: self.n_trunk_params)
    trunk_size = property(lambda self: self.n_trunk_params)

    def trunk_signature(self):
        return ("hard", self.n_features, self.hidden, self.activation, 1)

    def init_params(self, rng, scheme="glorot"):
        flat = np.zeros(self.size, dtype=self.dtype)
        v = self.views(flat)
        factor = 2.0 if self.activation == "logistic" else 6.0
        for name, shape, _, fan_in, fan_out in self.entries:
            if scheme == "fan_in":
                bound = 1.0 / np.sqrt(fan_in)
            else:
                bound = np.sqrt(factor / (fan_in + fan_out))
            v[name][...] = rng.uniform(-bound, bound, shape)
        if self.output_mask is not None:
            K = self.K
            if self.task_hidden:
                j = len(self.task_hidden)
                for t, k in enumerate(self.n_outputs):
                    v[f"head_W{j}"][t, :, k:] = 0
                    v[f"head_b{j}"][t, :, k:] = 0
            else:
                for d, idx in self.groups:
                    W = v[f"head0_d{d}"].reshape(-1, idx.size, K)
                    b = v[f"head0b_d{d}"].reshape(idx.size, K)
                    for j, t in enumerate(idx):
                        W[:, j, self.n_outputs[t] :] = 0
                        b[j, self.n_outputs[t] :] = 0
        return flat

    # ----------------------------------------------------------- forward
    def _hidden(self, Z, dropout, rng):
        _activate(Z, self.activation)
        if dropout > 0 and rng is not None:
            mask = (rng.random_sample(Z.shape) >= dropout).astype(self.dtype)
            mask *= 1.0 / (1.0 - dropout)
            return Z * mask, (Z, mask)
        return Z, (Z, None)

    def _trunk(self, v, X, n_layers, dropout, rng):
        A = X
        outs, trunk_cache = [], []
        for i in range(n_layers):
            Z = _dot(A, v[f"W{i}"]) + v[f"b{i}"]
            trunk_cache.append(A)
            A, hm = self._hidden(Z, dropout, rng)
            trunk_cache.append(hm)
            outs.append(A)
        return outs, trunk_cache

    def forward(self, flat, X, *, dropout=0.0, rng=None):
        v = self.views(flat)
        n = X.shape[0]
        T, h0 = self.n_tasks, self.h0
        outs, trunk_cache = self._trunk(v, X, self.n_used, dropout, rng)
        Z0 = np.empty((n, T, h0), dtype=self.dtype)
        for d, idx in self.groups:
            Zg = outs[d] @ v[f"head0_d{d}"] + v[f"head0b_d{d}"]
            Z0[:, idx, :] = Zg.reshape(n, idx.size, h0)
        cache = {"X": X, "outs": outs, "trunk": trunk_cache, "head": []}
        if not self.task_hidden:
            return Z0, cache
        A, hm = self._hidden(Z0.transpose(1, 0, 2), dropout, rng)
        cache["head0"] = hm
        n_more = len(self.task_hidden)
        for j in range(1, n_more + 1):
            cache["head"].append(A)
            Z = np.matmul(A, v[f"head_W{j}"])
            Z += v[f"head_b{j}"]
            if j == n_more:
                return Z.transpose(1, 0, 2), cache
            A, hm = self._hidden(Z, dropout, rng)
            cache["head"].append(hm)
        raise AssertionError("unreachable")

    def transform(self, flat, X):
        """Output of the last trunk layer ``(n, hidden[-1])``."""
        outs, _ = self._trunk(self.views(flat), X, len(self.hidden), 0.0, None)
        return outs[-1]

    # ---------------------------------------------------------- backward
    def _backward_heads(self, v, gv, cache, dOut):
        """Head gradients into ``gv``; returns ``dZ0`` ``(T, n, h0)``."""
        dZ = dOut.transpose(1, 0, 2)
        n_more = len(self.task_hidden)
        for j in range(n_more, 0, -1):
            A_in = cache["head"][2 * (j - 1)]
            np.matmul(A_in.transpose(0, 2, 1), dZ, out=gv[f"head_W{j}"])
            gv[f"head_b{j}"][...] = dZ.sum(axis=1, keepdims=True)
            dA = np.matmul(dZ, v[f"head_W{j}"].transpose(0, 2, 1))
            hm = cache["head"][2 * (j - 1) - 1] if j > 1 else cache["head0"]
            dZ = self._hidden_delta(dA, hm)
        n = dOut.shape[0]
        h0 = self.h0
        outs = cache["outs"]
        for d, idx in self.groups:
            dZg = np.ascontiguousarray(dZ[idx].transpose(1, 0, 2)).reshape(n, -1)
            gv[f"head0_d{d}"][...] = outs[d].T @ dZg
            gv[f"head0b_d{d}"][...] = dZg.sum(axis=0)
        del h0
        return dZ

    def _injections(self, v, dZ0, per_task):
        """Gradients at each trunk layer's output from the first head layer."""
        n = dZ0.shape[1]
        h0 = self.h0
        inj = {}
        for d, idx in self.groups:
            W = v[f"head0_d{d}"]  # (h_d, T_g * h0)
            if per_task:
                Wt = W.reshape(W.shape[0], idx.size, h0)
                part = np.zeros((self.n_tasks, n, W.shape[0]), dtype=self.dtype)
                part[idx] = np.einsum("tnh,dth->tnd", dZ0[idx], Wt)
            else:
                dZg = np.ascontiguousarray(dZ0[idx].transpose(1, 0, 2)).reshape(n, -1)
                part = dZg @ W.T
            inj[d] = inj[d] + part if d in inj else part
        return inj

    def _backward_trunk(self, v, gv, cache, inj):
        """Trunk gradients into ``gv`` (leading task axis if ``inj`` has one)."""
        carry = None
        for i in range(self.n_used - 1, -1, -1):
            dA = inj.get(i)
            if carry is not None:
                dA = carry if dA is None else dA + carry
            A_in = cache["trunk"][2 * i]
            hm = cache["trunk"][2 * i + 1]
            dZ = self._hidden_delta(np.array(dA, dtype=self.dtype), hm)
            if dZ.ndim == 3:
                for t in range(dZ.shape[0]):
                    gv[f"W{i}"][t] = np.asarray(A_in.T @ dZ[t])
            else:
                gv[f"W{i}"][...] = np.asarray(A_in.T @ dZ)
            gv[f"b{i}"][...] = dZ.sum(axis=-2)
            if i > 0:
                carry = np.matmul(dZ, v[f"W{i}"].T)
        for i in range(self.n_used, len(self.hidden)):  # layers no head reads
            gv[f"W{i}"][...] = 0.0
            gv[f"b{i}"][...] = 0.0

    def backward(self, flat, grad, cache, dOut):
        v, gv = self.views(flat), self.views(grad)
        dZ0 = self._backward_heads(v, gv, cache, dOut)
        self._backward_trunk(v, gv, cache, self._injections(v, dZ0, False))

    def task_shared_grads(self, flat, grad, cache, dOut):
        v, gv = self.views(flat), self.views(grad)
        dZ0 = self._backward_heads(v, gv, cache, dOut)
        G = np.zeros((self.n_tasks, self.n_trunk_params), dtype=flat.dtype)
        self._backward_trunk(v, self.views(G), cache, self._injections(v, dZ0, True))
        return G

    # --------------------------------------------------------- penalties
