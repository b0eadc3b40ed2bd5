"""The result every solver returns."""

import numpy as np


class SolverResult:
    """What a solver returns: ``coef`` (the model's ``W``), ``parts`` (the
    solver variable: ``coef`` itself, or the stacked parts of a composite
    model), ``intercept``, ``n_iter``, ``gap`` (NaN without one),
    ``residual`` (the optimality residual where it is the certificate),
    ``converged``, ``objective``, ``resume`` (block coordinate descent
    stopped on ``max_iter``: the run's state, to continue it; else None),
    ``stalled`` (stopped early: no progress is possible in floating point)."""

    def __init__(
        self, parts, intercept, n_iter, gap, converged, objective, residual=np.nan,
        penalty=None,
    ):  # fmt: skip
        self.parts = parts
        self.coef = parts if penalty is None else penalty.combine(parts)
        self.intercept = intercept
        self.n_iter = n_iter
        self.gap = gap
        self.converged = converged
        self.objective = objective
        self.residual = residual
        self.resume = None
        self.stalled = False
