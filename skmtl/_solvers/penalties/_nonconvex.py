"""Non-convex row penalties: MCP, SCAD and capped l1.

They shrink small rows like the l21 (or l1) penalty but leave large rows
unshrunk, which removes the bias of convex penalties on large coefficients.
No duality gap: solvers stop on the stationarity residual (distance of
``-gradient`` to the Clarke subdifferential, per row).
"""

import numpy as np

from ._base import RowPenalty, col_norms
from ._rows import CODE_CAPPED_L1, CODE_MCP, CODE_SCAD, mcp_value, scad_value


class _RadialRowPenalty(RowPenalty):
    """``sum_j r(||W[:, j]||_2)``; ``params = [alpha, gamma]``."""

    convex = False
    hyperparameters = ("gamma",)
    _min_gamma = 0.0

    def __init__(self, alpha, gamma=3.0):
        self.alpha = float(alpha)
        self.gamma = float(gamma)
        if not self.gamma > self._min_gamma:
            raise ValueError(
                f"gamma must be > {self._min_gamma} for penalty "
                f"{type(self).__name__}, got {gamma}."
            )
        self.lam = self.alpha

    @property
    def params(self):
        return np.array([self.alpha, self.gamma])

    def nonsmooth_value(self, W):
        r = self._radial_value
        return float(sum(r(u, self.alpha, self.gamma) for u in col_norms(W)))

    @classmethod
    def alpha_max(cls, G0, params=None):
        # the penalty's slope at 0 is alpha, as for l21
        return float(np.max(col_norms(G0)))


class MCP(_RadialRowPenalty):
    """Block minimax concave penalty (Zhang, 2010) on the rows of ``W``.

    ``r(u) = alpha u - u^2 / (2 gamma)`` for ``u <= gamma alpha``, else
    ``gamma alpha^2 / 2``, with ``u = ||W[:, j]||_2``: rows longer than
    ``gamma * alpha`` are not shrunk.
    """

    code = CODE_MCP
    defaults = {"gamma": 3.0}
    _radial_value = staticmethod(mcp_value)


class SCAD(_RadialRowPenalty):
    """Block smoothly clipped absolute deviation (Fan & Li, 2001).

    ``r(u) = alpha u`` (``u <= alpha``), ``(2 gamma alpha u - u^2 - alpha^2)
    / (2 (gamma - 1))`` (``u <= gamma alpha``), ``alpha^2 (gamma + 1) / 2``
    beyond; ``gamma > 2``.
    """

    code = CODE_SCAD
    defaults = {"gamma": 3.7}
    _min_gamma = 2.0
    _radial_value = staticmethod(scad_value)


class CappedL1(RowPenalty):
    """Capped l1,l1: ``alpha * sum_j min(||W[:, j]||_1, gamma)``.

    The multi-stage multi-task feature learning penalty (Gong, Ye & Zhang,
    NIPS 2012; MALSAR's ``Least_msmtfl``): rows whose l1 norm exceeds the
    cap ``gamma`` cost a constant. ``params = [alpha, gamma]``.
    """

    code = CODE_CAPPED_L1
    convex = False
    hyperparameters = ("gamma",)
    defaults = {"gamma": 1.0}

    def __init__(self, alpha, gamma=1.0):
        self.alpha = float(alpha)
        self.gamma = float(gamma)
        if not self.gamma > 0:
            raise ValueError(f"gamma (the cap) must be > 0, got {gamma}.")
        self.lam = self.alpha

    @property
    def params(self):
        return np.array([self.alpha, self.gamma])

    def nonsmooth_value(self, W):
        return self.alpha * float(np.minimum(np.abs(W).sum(axis=0), self.gamma).sum())

    @classmethod
    def alpha_max(cls, G0, params=None):
        return float(np.max(np.abs(G0)))
