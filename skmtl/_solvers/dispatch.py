"""One entry point for every solve: a fit, each point of a path, each CV fold.

:class:`ProblemSolver` holds one problem (design, datafit, intercept
setting) and solves it for a sequence of penalties, each from the previous
solution: block coordinate descent (:class:`~.bcd.BCDSolver`, whose
per-problem state is built once and kept in step with ``W``) where the loss
and the penalty allow it, FISTA otherwise.
"""

import numpy as np
import scipy.sparse as sp
from numba import njit
from sklearn.utils.validation import _assert_all_finite

from ._block_gram import kernel_reads_all_rows
from .bcd import BCDSolver, _gram_costs_many_gradients, _use_gram
from .design import DesignOperator
from .fista import solve_fista
from .gram_fista import solve_fista_gram
from .prox_newton import solve_prox_newton
from .ridge import solve_ridge_form

SOLVERS = ("auto", "bcd", "exact", "fista", "prox_newton")


def choose_solver(solver, datafit, penalty, *, gram=True):
    """``"bcd"``, ``"exact"``, ``"prox_newton"`` or ``"fista"`` for ``solver``
    in :data:`SOLVERS`: ``"auto"`` takes block coordinate descent for the
    squared loss with a feature-separable penalty, the exact linear solve
    for the squared loss with a quadratic penalty (``penalty.ridge_form()``,
    e.g. the graph penalty without an l1 part) when per-task Gram matrices
    can be formed (``gram``), ``"auto_newton"`` for another loss (logistic)
    with a convex feature-separable penalty: proximal Newton with working
    sets, handing over to FISTA when the working set grows to every feature
    of a design with most labels present (there FISTA's iterations are
    cheaper than Newton's weighted Grams; see ``benchmarks/README.md``),
    FISTA otherwise. ``gram`` may be a callable returning that bool, called
    only when the choice depends on it."""
    if solver not in SOLVERS:
        raise ValueError(f"Unknown solver {solver!r}; expected one of {SOLVERS}.")
    if solver == "auto" and datafit.supports_bcd and penalty.separable:
        return "bcd"  # (neither the ridge form nor the Gram's size matters)
    if callable(gram):
        gram = gram()
    quadratic = datafit.sufficient_statistics and penalty.ridge_form() is not None
    if solver == "auto":
        if quadratic and gram:
            return "exact"
        if penalty.separable and penalty.convex and not datafit.supports_bcd:
            return "auto_newton"
        return "fista"
    if solver == "exact" and not quadratic:
        raise ValueError(
            "solver='exact' needs the squared loss and a quadratic penalty (the "
            "graph penalty with l1_ratio=0); use solver='auto' or 'fista'."
        )
    if solver == "exact" and not gram:
        raise ValueError(
            "solver='exact' forms per-task Gram matrices, which needs a dense X "
            "of moderate width; use solver='auto' or 'fista'."
        )
    if solver in ("bcd", "prox_newton") and not penalty.separable:
        raise ValueError(
            f"solver={solver!r} needs a feature-separable penalty; "
            f"{type(penalty).__name__} is not. Use solver='auto' or 'fista'."
        )
    if solver == "bcd" and not datafit.supports_bcd:
        raise ValueError(
            f"solver='bcd' needs the squared loss; got loss={datafit.name!r}. "
            "Use solver='prox_newton' (its subproblems run BCD), 'auto' or "
            "'fista'."
        )
    return solver


def _recentre_offset_columns(X, op):
    """Shift dense columns whose offset dwarfs their spread (``|mean| > 1e3
    (max - min)``, e.g. a near-constant column around 1e8) to mean zero.

    With a free intercept this is an exact change of variables (``b' = b +
    mu . w``), and it removes the cancellation that would otherwise make
    such a column's products (and the objective) accurate to a few digits
    only. Returns ``(X, op, mu)`` (``mu`` None when nothing is shifted; then
    ``X`` is not copied).
    """
    if sp.issparse(X) or X.shape[0] < 2 or X.shape[1] == 0:
        return X, op, None
    if X.dtype == np.float64 and op.X is X:
        lo, hi, total = op.column_stats()  # one pass, no temporary
        if not _any_offset_column(lo, hi, total, X.shape[0]):
            return X, op, None  # (the usual case: one call, not five)
        mu, spread = total / X.shape[0], hi - lo
    else:
        mu, spread = X.mean(axis=0), np.ptp(X, axis=0)
    flagged = np.abs(mu) > 1e3 * spread
    if not flagged.any():
        return X, op, None
    shift = np.where(flagged, mu, 0.0)
    X = X - shift
    op = DesignOperator(
        X, op.row_ptr, op.entry_row, op.entry_task, op.n_tasks, mode=op.mode
    )
    return X, op, shift


@njit(cache=True)
def _any_offset_column(lo, hi, total, n):
    """``any(|total / n| > 1e3 (hi - lo))``: the flags of
    :func:`_recentre_offset_columns` from the column statistics (the same
    operations; NaN flags nothing, as in numpy)."""
    for j in range(total.shape[0]):
        if abs(total[j] / n) > 1e3 * (hi[j] - lo[j]):
            return True
    return False


class ProblemSolver:
    """Solve one problem for one or many penalties, warm-starting each.

    Parameters
    ----------
    X : float64 ndarray or sparse matrix
    op : DesignOperator
    datafit : a datafit object
    fit_intercept : bool
    path : bool
        Many penalties will follow (lets BCD amortise a Gram matrix).
    finite_pending : str or None
        The estimator's name (for the error message) when input validation
        has not checked that ``X`` is finite (see
        :func:`~skmtl._validation.validate_X`'s ``defer_finite``): the
        first :meth:`solve` does, before any solver reads ``X``.
    """

    def __init__(self, X, op, datafit, *, fit_intercept=True, path=False,
                 finite_pending=None):  # fmt: skip
        self.finite_pending = finite_pending
        self.shift = None
        if fit_intercept:
            X, op, self.shift = _recentre_offset_columns(X, op)
            if finite_pending:  # (the offset check read X's column sums)
                self.X = X
                self._check_X_finite(op.column_stats())
        self.X, self.op, self.datafit = X, op, datafit
        self.fit_intercept = fit_intercept
        self.path = path
        self._bcd = None
        self._gram = None  # Gram-mode BCD state: exact solve, FISTA on Grams
        self.Z = None  # solver variable of the last solve
        self.b = None

    def _use_gram_fista(self, penalty):
        """FISTA on per-task Grams (:func:`~.gram_fista.solve_fista_gram`)
        for the squared loss on dense ``X`` whose tasks have their own rows
        (labels missing, e.g. per-task data) and at least ``p`` rows each on
        average: the Grams cost a few passes over ``X`` (one BLAS product per
        task), then each iteration costs ``O(T p^2)`` instead of ``O(n p)``.
        The same rules as BCD's per-task Gram mode (and not when the Grams
        cost more than ~10 gradients). Only for single-part penalties with a
        duality gap (the same stopping certificate as
        :func:`~.fista.solve_fista`)."""
        op, T = self.op, self.op.n_tasks
        return bool(
            self.datafit.supports_bcd
            and penalty.has_gap
            and penalty.n_parts == 1
            and not op.full
            and _use_gram(self.X, op, T, T)
            and not _gram_costs_many_gradients(self.X, op, T, T)
        )

    def _grams_cover_X(self):
        """Does the per-task Gram kernel read every row of ``X``?"""
        op = self.op
        return op.row_ptr is not None and kernel_reads_all_rows(
            self.X, op.entry_row, op.entry_task, self.datafit.c, op.n_tasks
        )

    def _check_X_finite(self, sums):
        """The deferred finite check of ``X`` from ``sums``, values that are
        finite when ``X`` is (its column sums, or the diagonals of Grams of
        all its rows: NaN and infinities propagate); where they are not,
        scikit-learn's check of ``X`` itself raises its usual error (an
        overflow of finite values passes, as in input validation)."""
        name, self.finite_pending = self.finite_pending, None
        if not np.isfinite(sums).all():
            _assert_all_finite(self.X, input_name="X", estimator_name=name)

    def _gram_solver(self):
        """A Gram-mode BCD solver: its Gram state serves the exact solve and
        FISTA on per-task Grams."""
        return BCDSolver(
            self.X, self.op, self.datafit, fit_intercept=self.fit_intercept,
            mode="gram",
        )  # fmt: skip

    def _gram_fits(self):
        """Per-task (or one shared) Gram matrices fit in memory (256 MB)."""
        if sp.issparse(self.X):
            return False
        T, p = self.op.n_tasks, self.op.n_features
        full = self.op.factored_weights(self.datafit.c, self.datafit.task_c)
        n_slots = 1 if full is not None else T
        return n_slots * p * p * 8 <= 2**28

    def solve(
        self, penalty, Z0=None, b0=None, *, solver="auto", max_iter=1000, tol=1e-4,
        verbose=0, selection="cyclic", random_state=None, resume=None,
    ):  # fmt: skip
        """Minimise at ``penalty`` from ``(Z0, b0)`` (default: the last
        solution). ``resume``: the ``resume`` of the result that gave
        ``Z0``, to continue a block coordinate descent run stopped on
        ``max_iter`` (ignored by the other solvers). Returns a
        :class:`~.result.SolverResult` and sets ``method_`` to the solver
        used."""
        T, p = self.op.n_tasks, self.op.n_features
        shape = (penalty.n_parts * T, p)
        if Z0 is None:
            Z0 = self.Z if self.Z is not None and self.Z.shape == shape else None
            b0 = self.b if Z0 is not None else b0
        elif b0 is not None and self.shift is not None:
            b0 = np.asarray(b0, dtype=np.float64) + penalty.combine(Z0) @ self.shift
        fresh = Z0 is None  # (zeros: a new BCD solver starts there)
        if fresh:
            Z0 = np.zeros(shape)
        method = choose_solver(solver, self.datafit, penalty, gram=self._gram_fits)
        gram_fista = method == "fista" and self._use_gram_fista(penalty)
        if self.finite_pending and not (gram_fista and self._grams_cover_X()):
            self._check_X_finite(self.op.column_stats())
        if method == "exact":
            if self._gram is None:
                self._gram = self._gram_solver()
            res = solve_ridge_form(
                self._gram.gram_state(),
                penalty,
                tol=tol,
                max_iter=max_iter,
                verbose=verbose,
            )
        elif method == "bcd":
            if self._bcd is None:
                self._bcd = BCDSolver(
                    self.X, self.op, self.datafit, fit_intercept=self.fit_intercept,
                    path=self.path, full_gram_switch=True,
                )  # fmt: skip
            elif fresh:
                fresh = False  # (an earlier solve moved it: restart from zero)
            res = self._bcd.solve(
                penalty,
                None if fresh else Z0,
                max_iter=max_iter,
                tol=tol,
                verbose=verbose,
                selection=selection,
                random_state=random_state,
                resume=resume,
            )
        elif method in ("prox_newton", "auto_newton"):
            res = solve_prox_newton(
                self.X, self.op, self.datafit, penalty, Z0, b0,
                fit_intercept=self.fit_intercept, max_iter=max_iter, tol=tol,
                verbose=verbose, hand_over=method == "auto_newton",
            )  # fmt: skip
            method = "prox_newton"
            if res.handed_over:
                n_newton = res.n_iter
                res = solve_fista(
                    self.op, self.datafit, penalty, res.coef, res.intercept,
                    fit_intercept=self.fit_intercept, max_iter=max_iter, tol=tol,
                    verbose=verbose,
                )  # fmt: skip
                # (handed over before any Newton step: plain FISTA)
                method = "fista" if n_newton <= 1 else "prox_newton+fista"
        elif gram_fista:
            # per-task Grams: each iteration costs O(T p^2), not O(n p)
            if self._gram is None:
                self._gram = self._gram_solver()
            if self.finite_pending:  # (the kernel read every row)
                self._check_X_finite(self._gram.Q.diagonal(axis1=1, axis2=2))
            res = solve_fista_gram(
                self._gram.gram_state(), penalty, Z0, max_iter=max_iter, tol=tol,
                verbose=verbose,
            )  # fmt: skip
        else:
            res = solve_fista(
                self.op, self.datafit, penalty, Z0, b0,
                fit_intercept=self.fit_intercept, max_iter=max_iter, tol=tol,
                verbose=verbose,
            )  # fmt: skip
        if not self.fit_intercept:
            res.intercept = np.zeros(T)
        self.Z, self.b = res.parts, res.intercept
        if self.shift is not None and self.fit_intercept:
            res.intercept = res.intercept - res.coef @ self.shift
        self.method_ = method
        return res
