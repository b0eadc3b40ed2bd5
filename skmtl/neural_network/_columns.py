"""Multi-column networks: soft sharing, cross-stitch units, mixture of experts.

One class serves the three architectures that replace the single shared
trunk of :class:`~._network.SharedTrunkNetwork` by ``C`` parallel *columns*
with the trunk's layer sizes, each layer of all columns computed by one
(batched) matrix product:

- ``"soft"``: one column per task (``C = T``), task ``t``'s head reads
  column ``t``; the columns are coupled only by the penalty
  ``sharing_strength / (2 |B|) * sum_l sum_c ||P_lc - mean_c P_lc||^2`` over
  the weights and biases ``P_lc`` of layer ``l`` of column ``c`` (Duong et
  al., ACL 2015).
- ``"cross_stitch"``: one column per task; after every hidden layer the
  activations are mixed by a learned ``(T, T)`` cross-stitch unit,
  ``A~_t = sum_s S[t, s] A_s`` (Misra et al., CVPR 2016), initialised to
  ``0.9`` on the diagonal and ``0.1 / (T - 1)`` elsewhere.
- ``"mmoe"``: ``C = n_experts`` expert columns shared by all tasks and one
  softmax gate per task on the input, ``g_t(x) = softmax(x W_t + b_t)``; task
  ``t``'s head reads ``sum_e g_te(x) expert_e(x)`` (Ma et al., KDD 2018).
  The gates start at zero (uniform over the experts, the same for every
  task), so any difference between tasks' gates is learned.

Flat layout: the *body* (column layers, then cross-stitch units or gates)
first, so the body gradient is a prefix of the flat gradient (what the
gradient-combining task weightings operate on), then the head layers, all
stacked over tasks (``W`` ``(T, n_in, n_out)``, ``b`` ``(T, 1, n_out)``),
then the weighting's extra parameters. The first column layer of all columns
is stored side by side, ``(n_features, C * h1)``, so that it is one product
with (possibly sparse) ``X``.
"""

import numpy as np

from ._network import NamedEntryViews, _activate, _dot

ARCHITECTURES = ("hard", "soft", "cross_stitch", "mmoe")


class ColumnNetwork(NamedEntryViews):
    """Parameter layout and passes of a soft / cross-stitch / MMoE network.

    Parameters
    ----------
    n_features : int
    hidden_layer_sizes : tuple of int
        Layer widths of every column (at least one).
    task_layer_sizes : tuple of int
        Hidden widths of each task head (may be empty).
    n_outputs : sequence of int
        Outputs per task.
    activation : str
    dtype : numpy dtype
    n_extra : int
        Extra free parameters stored at the end of the flat vector.
    architecture : {"soft", "cross_stitch", "mmoe"}
    n_experts : int
        Number of expert columns (``"mmoe"`` only).
    """

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
        architecture="soft",
        n_experts=4,
    ):
        if architecture not in ARCHITECTURES[1:]:
            raise ValueError(f"unknown column architecture {architecture!r}")
        self.architecture = architecture
        self.n_features = p = int(n_features)
        self.hidden = tuple(int(h) for h in hidden_layer_sizes)
        self.task_hidden = tuple(int(h) for h in task_layer_sizes)
        self.n_outputs = np.asarray(n_outputs, dtype=np.int64)
        self.n_tasks = T = len(self.n_outputs)
        self.K = K = int(self.n_outputs.max())
        self.activation = activation
        self.dtype = np.dtype(dtype)
        self.n_extra = int(n_extra)
        self.n_columns = C = int(n_experts) if architecture == "mmoe" else T

        entries = []  # (name, shape, kind, fan_in, fan_out)
        h = self.hidden
        entries.append(("body_W0", (p, C * h[0]), "W", p, h[0]))
        entries.append(("body_b0", (C * h[0],), "b", p, h[0]))
        for i in range(1, len(h)):
            entries.append((f"body_W{i}", (C, h[i - 1], h[i]), "W", h[i - 1], h[i]))
            entries.append((f"body_b{i}", (C, 1, h[i]), "b", h[i - 1], h[i]))
        if architecture == "cross_stitch":
            for i in range(len(h)):
                entries.append((f"stitch{i}", (T, T), "S", T, T))
        if architecture == "mmoe":
            entries.append(("gate_W", (p, T * C), "W", p, C))
            entries.append(("gate_b", (T * C,), "b", p, C))
        self.n_body_entries = len(entries)
        entries += self._head_entries(T, [h[-1], *self.task_hidden, K])
        self._set_entries(entries)
        offsets = self._offsets
        self.n_shared = offsets[self.n_body_entries]
        # last body weight matrix (GradNorm's "last shared layer")
        i_last = 2 * (len(h) - 1)
        self.last_shared = slice(offsets[i_last], offsets[i_last + 1])
        self.output_mask = None
        if np.any(self.n_outputs < K):
            m = np.zeros((T, K), dtype=self.dtype)
            for t, k in enumerate(self.n_outputs):
                m[t, k:] = -np.inf
            self.output_mask = m

    # ------------------------------------------------------------------ layout
    @property
    def trunk_size(self):
        """Length of the prefix holding the column layers (no stitch/gates)."""
        return self._offsets[2 * len(self.hidden)]

    def trunk_signature(self):
        """What a network must match to take this one's columns."""
        return (
            self.architecture,
            self.n_features,
            self.hidden,
            self.activation,
            self.n_columns,
        )

    def init_params(self, rng, scheme="glorot"):
        """Uniform weights and biases in ``[-bound, bound]`` (see the trunk)."""
        flat = np.zeros(self.size, dtype=self.dtype)
        v = self.views(flat)
        factor = 2.0 if self.activation == "logistic" else 6.0
        T = self.n_tasks
        for name, shape, kind, fan_in, fan_out in self.entries:
            if name.startswith("gate"):
                continue  # zero: every gate starts uniform over the experts
            if kind == "S":
                if T == 1:
                    v[name][...] = 1.0
                else:
                    v[name][...] = 0.1 / (T - 1)
                    np.fill_diagonal(v[name], 0.9)
                continue
            if scheme == "fan_in":
                bound = 1.0 / np.sqrt(fan_in)
            else:
                bound = np.sqrt(factor / (fan_in + fan_out))
            v[name][...] = rng.uniform(-bound, bound, shape)
        if self.output_mask is not None:
            j = len(self.task_hidden)
            for t, k in enumerate(self.n_outputs):
                v[f"head_W{j}"][t, :, k:] = 0
                v[f"head_b{j}"][t, :, k:] = 0
        return flat

    # ----------------------------------------------------------------- forward
    def _hidden(self, Z, dropout, rng):
        _activate(Z, self.activation)
        if dropout > 0 and rng is not None:
            mask = (rng.random_sample(Z.shape) >= dropout).astype(self.dtype)
            mask *= 1.0 / (1.0 - dropout)
            return Z * mask, (Z, mask)
        return Z, (Z, None)

    def _body(self, v, X, dropout, rng):
        n = X.shape[0]
        C = self.n_columns
        cache = []  # per layer: (layer input, (H, mask), pre-stitch output)
        A = X
        for i in range(len(self.hidden)):
            if i == 0:
                Z = _dot(X, v["body_W0"]) + v["body_b0"]
                Z = np.ascontiguousarray(Z.reshape(n, C, -1).transpose(1, 0, 2))
            else:
                Z = np.matmul(A, v[f"body_W{i}"])
                Z += v[f"body_b{i}"]
            A_in = A
            Ad, hm = self._hidden(Z, dropout, rng)
            if self.architecture == "cross_stitch":
                A = (v[f"stitch{i}"] @ Ad.reshape(Ad.shape[0], -1)).reshape(Ad.shape)
            else:
                A = Ad
            cache.append((A_in, hm, Ad))
        return A, cache

    def _gates(self, v, X):
        n = X.shape[0]
        Z = _dot(X, v["gate_W"]) + v["gate_b"]
        Z = Z.reshape(n, self.n_tasks, self.n_columns)
        Z -= Z.max(axis=2, keepdims=True)
        np.exp(Z, out=Z)
        Z /= Z.sum(axis=2, keepdims=True)
        return Z

    def forward(self, flat, X, *, dropout=0.0, rng=None):
        """Forward pass: ``(out, cache)``, ``out`` of shape ``(batch, T, K)``."""
        v = self.views(flat)
        Hb, body_cache = self._body(v, X, dropout, rng)
        G = None
        if self.architecture == "mmoe":
            G = self._gates(v, X)
            R = np.matmul(G, Hb.transpose(1, 0, 2)).transpose(1, 0, 2)
        else:
            R = Hb
        A = R
        head_cache = []
        n_head = len(self.task_hidden) + 1
        for j in range(n_head):
            Z = np.matmul(A, v[f"head_W{j}"])
            Z += v[f"head_b{j}"]
            head_cache.append(A)
            if j == n_head - 1:
                return Z.transpose(1, 0, 2), (X, body_cache, Hb, G, head_cache)
            A, hm = self._hidden(Z, dropout, rng)
            head_cache.append(hm)
        raise AssertionError("unreachable")

    def transform(self, flat, X):
        """Body output: columns side by side, ``(n, C * hidden[-1])``."""
        v = self.views(flat)
        Hb, _ = self._body(v, X, 0.0, None)
        return Hb.transpose(1, 0, 2).reshape(X.shape[0], -1)

    def gate_weights(self, flat, X):
        """MMoE gate probabilities ``(n, T, n_experts)``."""
        return self._gates(self.views(flat), X)

    def stitch_units(self, flat):
        """Cross-stitch matrices, one ``(T, T)`` per hidden layer."""
        v = self.views(flat)
        return [v[f"stitch{i}"] for i in range(len(self.hidden))]

    # ---------------------------------------------------------------- backward
    def _backward_heads(self, v, gv, cache, dOut):
        """Head gradients into ``gv``; returns ``dR`` ``(T, n, d)``."""
        _, _, _, _, head_cache = cache
        dZ = dOut.transpose(1, 0, 2)
        n_head = len(self.task_hidden) + 1
        for j in range(n_head - 1, -1, -1):
            A_in = head_cache[2 * j]
            np.matmul(A_in.transpose(0, 2, 1), dZ, out=gv[f"head_W{j}"])
            gv[f"head_b{j}"][...] = dZ.sum(axis=1, keepdims=True)
            dA = np.matmul(dZ, v[f"head_W{j}"].transpose(0, 2, 1))
            if j == 0:
                return dA
            dZ = self._hidden_delta(dA, head_cache[2 * j - 1])
        raise AssertionError("unreachable")

    def _backward_body(self, v, gv, cache, dR):
        """Body gradients (data term) into ``gv`` from ``dR`` ``(T, n, d)``."""
        X, body_cache, Hb, G, _ = cache
        n = X.shape[0]
        if self.architecture == "mmoe":
            dRn = dR.transpose(1, 0, 2)  # (n, T, d)
            dG = np.matmul(dRn, Hb.transpose(1, 2, 0))  # (n, T, E)
            dO = np.matmul(G.transpose(0, 2, 1), dRn).transpose(1, 0, 2)
            dL = G * (dG - (G * dG).sum(axis=2, keepdims=True))
            dL = dL.reshape(n, -1)
            gv["gate_W"][...] = _dot(X.T, dL)
            gv["gate_b"][...] = dL.sum(axis=0)
        else:
            dO = dR
        for i in range(len(self.hidden) - 1, -1, -1):
            A_in, hm, Ad = body_cache[i]
            if self.architecture == "cross_stitch":
                dO2 = dO.reshape(dO.shape[0], -1)
                gv[f"stitch{i}"][...] = dO2 @ Ad.reshape(Ad.shape[0], -1).T
                dA = (v[f"stitch{i}"].T @ dO2).reshape(Ad.shape)
            else:
                dA = dO
            dZ = self._hidden_delta(np.array(dA, dtype=self.dtype), hm)
            if i == 0:
                dZ2 = np.ascontiguousarray(dZ.transpose(1, 0, 2)).reshape(n, -1)
                gv["body_W0"][...] = _dot(X.T, dZ2)
                gv["body_b0"][...] = dZ2.sum(axis=0)
            else:
                np.matmul(A_in.transpose(0, 2, 1), dZ, out=gv[f"body_W{i}"])
                gv[f"body_b{i}"][...] = dZ.sum(axis=1, keepdims=True)
                dO = np.matmul(dZ, v[f"body_W{i}"].transpose(0, 2, 1))

    def backward(self, flat, grad, cache, dOut):
        """Data-term gradient of the whole network into ``grad``."""
        v, gv = self.views(flat), self.views(grad)
        dR = self._backward_heads(v, gv, cache, dOut)
        self._backward_body(v, gv, cache, dR)

    def task_shared_grads(self, flat, grad, cache, dOut):
        """Head gradients into ``grad``; per-task body gradients ``(T, n_shared)``.

        One body backward pass per task (``dR`` restricted to that task).
        """
        v, gv = self.views(flat), self.views(grad)
        dR = self._backward_heads(v, gv, cache, dOut)
        T = self.n_tasks
        G = np.zeros((T, self.n_shared), dtype=flat.dtype)
        dRt = np.zeros_like(dR)
        for t in range(T):
            dRt[t] = dR[t]
            self._backward_body(v, self.views(G[t]), cache, dRt)
            dRt[t] = 0
        return G

    # ----------------------------------------------------------- penalties
    def _coupled(self, vec):
        """Views of the body layers with the column axis first."""
        v = self.views(vec)
        C = self.n_columns
        out = [
            v["body_W0"].reshape(self.n_features, C, -1).transpose(1, 0, 2),
            v["body_b0"].reshape(C, -1),
        ]
        for i in range(1, len(self.hidden)):
            out += [v[f"body_W{i}"], v[f"body_b{i}"]]
        return out

    def coupling_penalty(self, flat, grad, scale):
        """``scale / 2 * sum ||P_c - mean_c P||^2``; adds its gradient."""
        value = 0.0
        for P, gP in zip(self._coupled(flat), self._coupled(grad), strict=True):
            D = P - P.mean(axis=0, keepdims=True)
            value += 0.5 * scale * float(np.vdot(D, D))
            gP += scale * D
        return value


def make_network(architecture, *args, n_experts=4, head_depth=None, **kwargs):
    """The network object of ``architecture`` (see :data:`ARCHITECTURES`).

    ``head_depth`` (0-based trunk layer read by each task's head, ``"hard"``
    only) selects :class:`~._hierarchy.DepthTrunkNetwork` when some head
    reads an earlier layer than the last.
    """
    if architecture == "hard":
        from ._hierarchy import DepthTrunkNetwork
        from ._network import SharedTrunkNetwork

        n_layers = len(args[1])
        if head_depth is not None and np.any(np.asarray(head_depth) != n_layers - 1):
            return DepthTrunkNetwork(*args, head_depth=head_depth, **kwargs)
        return SharedTrunkNetwork(*args, **kwargs)
    return ColumnNetwork(
        *args, architecture=architecture, n_experts=n_experts, **kwargs
    )
