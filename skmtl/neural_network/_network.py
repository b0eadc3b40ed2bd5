"""The shared-trunk network: parameter layout, forward and backward passes.

All parameters live in one flat vector (so an optimizer step is a handful of
vector operations); layers are views into it. Layout, in order:

- trunk layer ``l``: ``W`` of shape ``(n_in, n_out)``, ``b`` ``(n_out,)``;
- first head layer, all tasks side by side: ``W`` ``(d, T * h0)``, ``b``
  ``(T * h0,)`` where ``d`` is the last trunk width and ``h0`` the first head
  width (the output width ``K`` when there is no head hidden layer);
- further head layers, stacked over tasks: ``W`` ``(T, h_in, h_out)``, ``b``
  ``(T, 1, h_out)``;
- ``n_extra`` free parameters (e.g. learned log-variances), not penalised.

The trunk comes first, so the trunk gradient is a prefix of the flat gradient
(used by PCGrad). Heads of all tasks are computed with one matrix product per
layer (a batched product for stacked layers), never a Python loop over tasks.

The output has shape ``(batch, T, K)`` with ``K`` the largest number of
outputs of any task; for a task with fewer outputs the unused logits are fixed
to minus infinity (classification) and their weights stay zero.
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


def _activate(Z, activation):
    if activation == "relu":
        np.maximum(Z, 0, out=Z)
    elif activation == "tanh":
        np.tanh(Z, out=Z)
    elif activation == "logistic":
        expit(Z, out=Z)
    return Z


def _deriv_inplace(dA, A, activation):
    """``dA *= activation'(Z)`` expressed through ``A = activation(Z)``."""
    if activation == "relu":
        dA *= A > 0
    elif activation == "tanh":
        dA *= 1 - A * A
    elif activation == "logistic":
        dA *= A * (1 - A)
    return dA


def _dot(A, W):
    if sp.issparse(A):
        return np.asarray(A @ W)
    return A @ W


class CachedViews:
    """Mixin: the views into the last two flat vectors built (the parameters
    and the gradient buffer of a training loop) are kept; never pickled."""

    def _cached_views(self, vec, build):
        cache = self.__dict__.setdefault("_views_cache", [])
        for ref, views in cache:
            if ref is vec:
                return views
        views = build(vec)
        cache.insert(0, (vec, views))
        del cache[2:]
        return views

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_views_cache", None)
        return state


class NetworkBase(CachedViews):
    """What every network layout shares: the activation derivative through a
    dropout mask, the l2 penalty over its weight matrices, and no coupling
    penalty unless the layout defines one."""

    def _hidden_delta(self, dA, hidden_i):
        """``dA`` through hidden layer ``hidden_i = (A, dropout mask)``."""
        A, mask = hidden_i
        if mask is not None:
            dA = dA * mask
        return _deriv_inplace(dA, A, self.activation)

    def l2_penalty(self, flat):
        coefs, _, _ = self.unpack(flat)
        return sum(float(np.dot(W.ravel(), W.ravel())) for W in coefs)

    def add_l2_grad(self, flat, grad, scale):
        coefs, _, _ = self.unpack(flat)
        gcoefs, _, _ = self.unpack(grad)
        for W, gW in zip(coefs, gcoefs, strict=True):
            gW += scale * W

    def coupling_penalty(self, flat, grad, scale):
        """No coupling between tasks' parameters (hard sharing)."""
        return 0.0


class NamedEntryViews(NetworkBase):
    """Mixin for networks laid out as named entries ``(name, shape, kind,
    ...)`` at ``_offsets`` of one flat vector (``kind`` ``"W"`` or ``"b"``),
    followed by ``n_extra`` free parameters after ``n_net_params``."""

    def _set_entries(self, entries):
        """Lay ``entries`` out one after the other in the flat vector; sets
        ``entries``, ``_offsets``, ``n_net_params`` and ``size``."""
        offsets = [0]
        for e in entries:
            offsets.append(offsets[-1] + int(np.prod(e[1])))
        self.entries = entries
        self._offsets = offsets
        self.n_net_params = offsets[-1]
        self.size = self.n_net_params + self.n_extra

    @staticmethod
    def _head_entries(n_tasks, widths, first=0):
        """Per-task head layers ``head_W{j}`` ``(T, a, b)`` and ``head_b{j}``
        ``(T, 1, b)`` between consecutive ``widths``, numbered from ``first``."""
        entries = []
        for j, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True), first):
            entries.append((f"head_W{j}", (n_tasks, a, b), "W", a, b))
            entries.append((f"head_b{j}", (n_tasks, 1, b), "b", a, b))
        return entries

    def views(self, vec):
        """Dict name -> view into ``vec``; cached for the last two vectors."""
        return self._cached_views(vec, self._views)

    def _views(self, vec):
        """Dict name -> view into ``vec`` (entries that fit in its length)."""
        out = {}
        o = self._offsets
        for i, (name, shape, *_rest) in enumerate(self.entries):
            if o[i + 1] > vec.shape[-1]:
                break
            out[name] = vec[..., o[i] : o[i + 1]].reshape(vec.shape[:-1] + shape)
        return out

    def unpack(self, flat):
        """``(coefs, intercepts, extra)``: weight matrices and biases in order."""
        v = self.views(flat)
        coefs = [v[e[0]] for e in self.entries if e[2] == "W"]
        intercepts = [v[e[0]] for e in self.entries if e[2] == "b"]
        return coefs, intercepts, flat[self.n_net_params :]

    def backward_with_norms(self, flat, grad, cache, dOut):
        """Full backward; returns each task's gradient norm on the last
        shared layer (``last_shared`` of the flat vector)."""
        G = self.task_shared_grads(flat, grad, cache, dOut)
        grad[: self.n_shared] = G.sum(axis=0)
        Gl = G[:, self.last_shared]
        return np.sqrt(np.einsum("ti,ti->t", Gl, Gl))


class SharedTrunkNetwork(NetworkBase):
    """Parameter layout and passes of a trunk + per-task heads network.

    Parameters
    ----------
    n_features : int
    hidden_layer_sizes : tuple of int
        Trunk widths (at least one layer).
    task_layer_sizes : tuple of int
        Hidden widths of each task head (may be empty).
    n_outputs : sequence of int
        Outputs per task (1 for regression, ``n_classes_t`` for a softmax head).
    activation : str
        Hidden activation.
    dtype : numpy dtype
    n_extra : int
        Extra free parameters stored at the end of the flat vector.
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
    ):
        self.n_features = int(n_features)
        self.hidden = tuple(int(h) for h in hidden_layer_sizes)
        self.task_hidden = tuple(int(h) for h in task_layer_sizes)
        self.n_outputs = np.asarray(n_outputs, dtype=np.int64)
        self.n_tasks = T = len(self.n_outputs)
        self.K = K = int(self.n_outputs.max())
        self.activation = activation
        self.dtype = np.dtype(dtype)
        self.n_extra = int(n_extra)

        shapes = []  # (kind, W shape, b shape, fan_in, fan_out)
        fan = self.n_features
        for h in self.hidden:
            shapes.append(("trunk", (fan, h), (h,), fan, h))
            fan = h
        self.n_trunk_layers = len(self.hidden)
        head = list(self.task_hidden) + [K]
        shapes.append(("head0", (fan, T * head[0]), (T * head[0],), fan, head[0]))
        for a, b in zip(head[:-1], head[1:], strict=True):
            shapes.append(("head", (T, a, b), (T, 1, b), a, b))
        self.shapes = shapes
        offsets = [0]
        for _, ws, bs, _, _ in shapes:
            offsets.append(offsets[-1] + int(np.prod(ws)))
            offsets.append(offsets[-1] + int(np.prod(bs)))
        self._offsets = offsets
        self.n_trunk_params = offsets[2 * self.n_trunk_layers]
        self.n_net_params = offsets[-1]
        self.size = self.n_net_params + self.n_extra
        # additive logit mask: -inf for outputs a task does not have
        self.output_mask = None
        if np.any(self.n_outputs < K):
            m = np.zeros((T, K), dtype=self.dtype)
            for t, k in enumerate(self.n_outputs):
                m[t, k:] = -np.inf
            self.output_mask = m

    # ------------------------------------------------------------------ layout
    def unpack(self, flat):
        """Views ``(coefs, intercepts, extra)`` into a flat vector.

        The views of the last two vectors unpacked (the parameters and the
        gradient buffer of a training loop) are cached.
        """
        return self._cached_views(flat, self._unpack)

    def _unpack(self, flat):
        coefs, intercepts = [], []
        o = self._offsets
        for i, (_, ws, bs, _, _) in enumerate(self.shapes):
            coefs.append(flat[o[2 * i] : o[2 * i + 1]].reshape(ws))
            intercepts.append(flat[o[2 * i + 1] : o[2 * i + 2]].reshape(bs))
        extra = flat[self.n_net_params :]
        return coefs, intercepts, extra

    def init_params(self, rng, scheme="glorot"):
        """Uniform weights and biases in ``[-bound, bound]``.

        ``"glorot"``: ``sqrt(6 / (fan_in + fan_out))`` (``2`` instead of ``6``
        for the logistic activation), scikit-learn's MLP scheme; ``"fan_in"``:
        ``1 / sqrt(fan_in)``, PyTorch's ``nn.Linear`` default.
        """
        flat = np.zeros(self.size, dtype=self.dtype)
        coefs, intercepts, _ = self.unpack(flat)
        factor = 2.0 if self.activation == "logistic" else 6.0
        for (_, ws, bs, fan_in, fan_out), W, b in zip(
            self.shapes, coefs, intercepts, strict=True
        ):
            if scheme == "fan_in":
                bound = 1.0 / np.sqrt(fan_in)
            else:
                bound = np.sqrt(factor / (fan_in + fan_out))
            W[...] = rng.uniform(-bound, bound, ws)
            b[...] = rng.uniform(-bound, bound, bs)
        if self.output_mask is not None:
            K = self.K
            W, b = coefs[-1], intercepts[-1]
            for t, k in enumerate(self.n_outputs):
                if len(self.shapes) == self.n_trunk_layers + 1:
                    W[:, t * K + k : (t + 1) * K] = 0
                    b[t * K + k : (t + 1) * K] = 0
                else:
                    W[t, :, k:] = 0
                    b[t, :, k:] = 0
        return flat

    # ----------------------------------------------------------------- forward
    def forward(self, flat, X, *, dropout=0.0, rng=None, trunk_only=False):
        """Forward pass.

        Returns ``(out, cache)`` where ``out`` has shape ``(batch, T, K)``
        (raw outputs / logits), or ``(H, cache)`` with ``trunk_only``.
        """
        coefs, intercepts, _ = self.unpack(flat)
        act = self.activation
        n = X.shape[0]
        T = self.n_tasks
        inputs = []  # input of each layer
        hidden = []  # (unmasked activation, dropout mask or None) per hidden layer
        A = X
        L = len(self.shapes)
        for i in range(L):
            kind = self.shapes[i][0]
            inputs.append(A)
            W, b = coefs[i], intercepts[i]
            if kind == "head":
                Z = np.matmul(A, W)
            else:
                Z = _dot(A, W)
            Z += b
            if kind == "head0" and i < L - 1:
                # (n, T*h0) -> (T, n, h0) for the stacked head layers
                Z = Z.reshape(n, T, -1).transpose(1, 0, 2)
            if i == L - 1:
                if kind == "head0":
                    Z = Z.reshape(n, T, self.K)
                else:
                    Z = Z.transpose(1, 0, 2)
                return Z, (inputs, hidden)
            _activate(Z, act)
            if dropout > 0 and rng is not None:
                mask = rng.random_sample(Z.shape) >= dropout
                mask = mask.astype(self.dtype)
                mask *= 1.0 / (1.0 - dropout)
                hidden.append((Z, mask))
                A = Z * mask
            else:
                hidden.append((Z, None))
                A = Z
            if trunk_only and i == self.n_trunk_layers - 1:
                return A, (inputs, hidden)
        raise AssertionError("unreachable")

    # ---------------------------------------------------------------- backward
    def backward_heads(self, flat, grad, cache, dOut, *, per_task_dH=False):
        """Backpropagate ``dOut`` ``(batch, T, K)`` through the heads.

        Fills the head part of ``grad`` (data term only) and returns
        ``dH`` ``(batch, d)``, the gradient at the trunk output, or with
        ``per_task_dH`` its per-task parts ``(T, batch, d)``.
        """
        coefs, _, _ = self.unpack(flat)
        gcoefs, gints, _ = self.unpack(grad)
        inputs, hidden = cache
        L = len(self.shapes)
        T = self.n_tasks
        nt = self.n_trunk_layers
        n = dOut.shape[0]
        dZ = dOut
        if L - 1 > nt:
            dZ = dOut.transpose(1, 0, 2)  # (T, n, K)
        for i in range(L - 1, nt, -1):  # stacked head layers
            A_in = inputs[i]
            np.matmul(A_in.transpose(0, 2, 1), dZ, out=gcoefs[i])
            gints[i][...] = dZ.sum(axis=1, keepdims=True)
            dA = np.matmul(dZ, coefs[i].transpose(0, 2, 1))
            dZ = self._hidden_delta(dA, hidden[i - 1])
            if i - 1 == nt:
                dZ = dZ.transpose(1, 0, 2)  # (n, T, h0)
        dZ2 = np.ascontiguousarray(dZ).reshape(n, -1)
        H = inputs[nt]
        gcoefs[nt][...] = _dot(H.T, dZ2)
        gints[nt][...] = dZ2.sum(axis=0)
        W0 = coefs[nt]
        if per_task_dH:
            h0 = W0.shape[1] // T
            return np.einsum(
                "nth,dth->tnd", dZ2.reshape(n, T, h0), W0.reshape(-1, T, h0)
            )
        return dZ2 @ W0.T

    def backward_trunk(self, flat, gcoefs, gints, cache, dH):
        """Backpropagate ``dH`` through the trunk into ``gcoefs``/``gints``.

        ``dH`` is ``(batch, d)`` or ``(T, batch, d)``; in the second case the
        gradient buffers have a leading task axis.
        """
        coefs, _, _ = self.unpack(flat)
        inputs, hidden = cache
        dA = dH
        for i in range(self.n_trunk_layers - 1, -1, -1):
            dZ = self._hidden_delta(dA, hidden[i])
            A_in = inputs[i]
            if sp.issparse(A_in):
                if dZ.ndim == 3:
                    for t in range(dZ.shape[0]):
                        gcoefs[i][t] = np.asarray(A_in.T @ dZ[t])
                else:
                    gcoefs[i][...] = np.asarray(A_in.T @ dZ)
            else:
                np.matmul(A_in.T, dZ, out=gcoefs[i])
            gints[i][...] = dZ.sum(axis=-2)
            if i > 0:
                dA = np.matmul(dZ, coefs[i].T)

    def last_trunk_grad_norms(self, cache, dH_tasks):
        """Norm of each task's gradient w.r.t. the last trunk weight matrix."""
        inputs, hidden = cache
        i = self.n_trunk_layers - 1
        dZ = self._hidden_delta(dH_tasks.copy(), hidden[i])
        A_in = inputs[i]
        if sp.issparse(A_in):
            G = np.stack([np.asarray(A_in.T @ dZ[t]) for t in range(dZ.shape[0])])
        else:
            G = np.matmul(A_in.T, dZ)
        return np.sqrt(np.einsum("tij,tij->t", G, G))

    def trunk_grad_views(self, G):
        """Views into ``G`` ``(T, n_trunk_params)`` shaped like trunk layers."""
        T = G.shape[0]
        o = self._offsets
        gc, gi = [], []
        for i in range(self.n_trunk_layers):
            _, ws, bs, _, _ = self.shapes[i]
            gc.append(G[:, o[2 * i] : o[2 * i + 1]].reshape((T,) + ws))
            gi.append(G[:, o[2 * i + 1] : o[2 * i + 2]].reshape((T,) + bs))
        return gc, gi

    # ---------------------------------------- interface shared with columns
    architecture = "hard"

    @property
    def n_shared(self):
        """Length of the shared-parameter prefix (the trunk)."""
        return self.n_trunk_params

    @property
    def trunk_size(self):
        """Length of the prefix holding the ``hidden_layer_sizes`` layers."""
        return self.n_trunk_params

    def trunk_signature(self):
        """What a network must match to take this one's trunk."""
        return ("hard", self.n_features, self.hidden, self.activation, 1)

    def backward(self, flat, grad, cache, dOut):
        """Data-term gradient of the whole network into ``grad``."""
        gcoefs, gints, _ = self.unpack(grad)
        dH = self.backward_heads(flat, grad, cache, dOut)
        self.backward_trunk(flat, gcoefs, gints, cache, dH)

    def task_shared_grads(self, flat, grad, cache, dOut):
        """Head gradients into ``grad``; per-task trunk gradients ``(T, n)``."""
        dHt = self.backward_heads(flat, grad, cache, dOut, per_task_dH=True)
        G = np.zeros((self.n_tasks, self.n_trunk_params), dtype=flat.dtype)
        gc, gi = self.trunk_grad_views(G)
        self.backward_trunk(flat, gc, gi, cache, dHt)
        return G

    def task_representation_grads(self, flat, grad, cache, dOut):
        """Head gradients into ``grad``; per-task ``dH`` ``(T, batch, d)``."""
        return self.backward_heads(flat, grad, cache, dOut, per_task_dH=True)

    def backward_trunk_from(self, flat, grad, cache, dH):
        """Trunk gradient into ``grad`` from ``dH`` at the trunk output."""
        gcoefs, gints, _ = self.unpack(grad)
        self.backward_trunk(flat, gcoefs, gints, cache, dH)

    def backward_with_norms(self, flat, grad, cache, dOut):
        """Full backward; each task's gradient norm on the last trunk layer."""
        gcoefs, gints, _ = self.unpack(grad)
        dHt = self.backward_heads(flat, grad, cache, dOut, per_task_dH=True)
        norms = self.last_trunk_grad_norms(cache, dHt)
        self.backward_trunk(flat, gcoefs, gints, cache, dHt.sum(axis=0))
        return norms

    def transform(self, flat, X):
        """Trunk output ``(n, hidden[-1])``."""
        H, _ = self.forward(flat, X, trunk_only=True)
        return H
