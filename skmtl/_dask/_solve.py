"""Solvers on reduced statistics: the dask counterpart of ``ProblemSolver``.

Feature-separable penalties run block coordinate descent in its Gram mode
(:meth:`skmtl._solvers.bcd.BCDSolver.from_statistics`), the others FISTA on
the Gram form (:func:`skmtl._solvers.gram_fista.solve_fista_gram`);
:func:`ridge_from_state` is ``MultiTaskRidge``'s exact solve.
"""

import numpy as np

from .._solvers.bcd import BCDSolver
from .._solvers.datafits import Quadratic
from .._solvers.dispatch import choose_solver
from .._solvers.gram_fista import solve_fista_gram
from .._solvers.penalties._base import Penalty


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
        if method == "bcd":
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


def ridge_from_state(state, alpha, coupling, A, L, tol, max_iter, verbose=0):
    """``MultiTaskRidge``'s solution from a Gram state.

    Without coupling each task is one linear system: with a shared Gram, one
    eigendecomposition serves every task (exact); otherwise one Cholesky per
    task. With coupling, the block-preconditioned CG of
    :func:`skmtl.linear_model._ridge.solve_cg_from_grams`.

    Returns ``(W, b, n_iter, converged, solver)``.
    """
    from ..linear_model._ridge import solve_cg_from_grams

    Q, slot, k, R = state["Q"], state["slot"], state["k"], state["XtY"]
    T, p = R.shape
    if coupling == 0 and Q.shape[0] == 1:
        d, V = np.linalg.eigh(Q[0])
        d = np.clip(d, 0.0, None)
        den = k[:, None] * d[None, :] + alpha
        U = R @ V
        U = np.divide(U, den, out=np.zeros_like(U), where=den > 1e-12 * den.max())
        W, n_iter, converged, solver = U @ V.T, 1, True, "eigen"
    else:
        H = k[:, None, None] * Q[slot]
        W, n_iter, converged = solve_cg_from_grams(
            H, R, alpha, coupling, A, L, tol, max_iter, verbose
        )
        solver = "cg"
    b = state["ymean"] - np.einsum("tj,tj->t", state["xmean"], W)
    return W, b, n_iter, converged, solver
