"""Trace (nuclear) norm: tasks share a low-rank subspace."""

import numpy as np

from ._base import Penalty


def singular_value_shrink(W, thresh):
    """``U max(s - thresh, 0) V^T``: the trace norm's proximal operator."""
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    s = np.maximum(s - thresh, 0.0)
    k = int(np.count_nonzero(s))
    return (U[:, :k] * s[:k]) @ Vt[:k]


def trace_norm(W):
    return float(np.linalg.svd(W, compute_uv=False).sum()) if W.size else 0.0


def spectral_norm(V):
    return float(np.linalg.norm(V, 2)) if V.size else 0.0


class Trace(Penalty):
    """``alpha * ||W||_*`` (nuclear norm): tasks share a low-rank subspace."""

    has_gap = True

    def nonsmooth_value(self, W):
        return self.alpha * trace_norm(W)

    def prox(self, W, step):
        return singular_value_shrink(W, step * self.alpha)

    def dual_norm(self, V):
        return spectral_norm(V)

    @classmethod
    def alpha_max(cls, G0, params=None):
        return spectral_norm(G0)
