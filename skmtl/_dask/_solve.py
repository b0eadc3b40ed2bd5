"""Solvers on reduced statistics: the dask counterpart of ``ProblemSolver``.

Feature-separable penalties run block coordinate descent in its Gram mode
(:meth:`skmtl._solvers.bcd.BCDSolver.from_statistics`), the others FISTA on
the Gram form (:func:`skmtl._solvers.gram_fista.solve_fista_gram`);
:func:`~skmtl._solvers.ridge.ridge_from_state` is ``MultiTaskRidge``'s
exact solve.
"""

import numpy as np

from .._solvers.bcd import BCDSolver
from .._solvers.datafits import Quadratic
from .._solvers.dispatch import choose_solver
from .._solvers.gram_fista import solve_fista_gram
from .._solvers.penalties._base import Penalty
from .._solvers.ridge import solve_ridge_form


def check_penalty_on_statistics(penalty):
    """Penalties that learn structure from ``X`` itself cannot run on
    statistics."""
    if type(penalty).setup is not Penalty.setup:
        raise ValueError(
            f"Penalty {type(penalty).__name__} learns its structure from X "
            "(setup), which is not available when fitting on dask data; fit in "
            "memory or choose another penalty."
        )


class StatsSolver:
    """Solve one problem, given as a Gram state, for a sequence of penalties
    (each warm-started from the previous solution)."""

    def __init__(self, state, *, fit_intercept=True):
        self.state = state
        self.fit_intercept = fit_intercept
        self._bcd = None
        self.Z = None

    def solve(self, penalty, Z0=None, *, solver="auto", max_iter=1000, tol=1e-4,
              verbose=0):  # fmt: skip
        T, p = self.state["XtY"].shape
        shape = (penalty.n_parts * T, p)
        if Z0 is None:
            Z0 = self.Z if self.Z is not None and self.Z.shape == shape else None
        if Z0 is None:
            Z0 = np.zeros(shape)
        method = choose_solver(solver, Quadratic, penalty)
        if method == "exact":
            res = solve_ridge_form(
                self.state, penalty, tol=tol, max_iter=max_iter, verbose=verbose
            )
        elif method == "bcd":
            if self._bcd is None:
                self._bcd = BCDSolver.from_statistics(
                    self.state, fit_intercept=self.fit_intercept
                )
            res = self._bcd.solve(
                penalty, Z0, max_iter=max_iter, tol=tol, verbose=verbose
            )
        else:
            res = solve_fista_gram(
                self.state, penalty, Z0, max_iter=max_iter, tol=tol, verbose=verbose
            )
        if not self.fit_intercept:
            res.intercept = np.zeros(T)
        self.Z = res.parts
        self.method_ = method
        return res
