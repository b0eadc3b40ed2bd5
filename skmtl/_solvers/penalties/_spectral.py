"""Trace (nuclear) norm: tasks share a low-rank subspace."""

import numpy as np
from scipy.linalg import lapack

from ._base import Penalty


def singular_value_shrink(W, thresh, *, return_values=False):
    """``U max(s - thresh, 0) V^T``: the trace norm's proximal operator
    (with ``return_values``, also the kept singular values ``max(s -
    thresh, 0) > 0``: those of the result, whose trace norm is their sum)."""
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    s = np.maximum(s - thresh, 0.0)
    k = int(np.count_nonzero(s))
    out = (U[:, :k] * s[:k]) @ Vt[:k]
    return (out, s[:k]) if return_values else out


def trace_norm(W):
    return float(np.linalg.svd(W, compute_uv=False).sum()) if W.size else 0.0


def spectral_norm(V):
    """Largest singular value of ``V``: the square root of the largest
    eigenvalue of the smaller of ``V^T V`` and ``V V^T`` (one eigenvalue of
    a symmetric matrix, about half the cost of the singular values), or the
    singular values where that Gram could lose range (non-finite) or is
    tiny."""
    if V.size == 0:
        return 0.0
    m, n = V.shape
    if min(m, n) >= 8:
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            A = V.T @ V if m >= n else V @ V.T
        if np.all(np.isfinite(A)):
            k = A.shape[0]
            # LAPACK's dsyevr for the top eigenvalue only (scipy.linalg.eigvalsh
            # adds tens of microseconds of checks to a ~40 us call)
            lam, _, m, _, info = lapack.dsyevr(A, compute_v=0, range="I", il=k, iu=k)
            top = float(lam[0]) if info == 0 and m == 1 else 0.0
            # (below ~1e-290 the squares lose their digits: exact route)
            if top > 1e-290:
                return float(np.sqrt(top))
    return float(np.linalg.norm(V, 2))


class Trace(Penalty):
    """``alpha * ||W||_*`` (nuclear norm): tasks share a low-rank subspace.

    The proximal operator remembers the singular values of its last result:
    the trace norm of that very array (the objective and the duality gap at
    the iterate the solver has just taken; the solvers never write into
    their iterates) then costs no second SVD.
    """

    has_gap = True
    _last_prox = None  # (result of the last prox, its singular values)

    def _trace_norm(self, W):
        last = self._last_prox
        if last is not None and last[0] is W:
            return float(last[1].sum())
        return trace_norm(W)

    def nonsmooth_value(self, W):
        return self.alpha * self._trace_norm(W)

    def prox(self, W, step):
        out, s = singular_value_shrink(W, step * self.alpha, return_values=True)
        self._last_prox = (out, s)
        return out

    def dual_norm(self, V):
        return spectral_norm(V)

    @classmethod
    def alpha_max(cls, G0, params=None):
        return float(np.linalg.norm(G0, 2)) if G0.size else 0.0
