"""Multi-task ridge with ``(alpha, coupling)`` chosen by cross-validation.

The whole grid is cheap because the problem's structure is shared by every
grid point of a fold:

* every label present, equal task weights (``"eigen"``): one eigen- (or
  singular value) decomposition of the fold's centred Gram ``K`` and one of
  the task Laplacian ``L`` serve all grid points: in both eigenbases the
  system is diagonal, ``u_kt = z_kt / (lam_k + alpha + coupling mu_t)``, so
  each grid point costs ``O(k T)`` plus its test predictions;
* otherwise (``"cg"``): the per-task Grams ``H_t`` are formed once per fold
  and each grid point runs preconditioned CG warm-started from the previous
  grid point's solution;
* when the per-task Grams would not fit in memory, each grid point is a
  plain :class:`~skmtl.MultiTaskRidge` fit.
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval

from .._dask import any_dask
from .._graph import check_task_graph, graph_laplacian
from .._validation import check_task_weights, make_task_data
from ..linear_model._base import BaseMultiTaskRegressor
from ..linear_model._ridge import (
    _EIGEN_MAX_DIM,
    _GRAM_MAX_FEATURES,
    _GRAM_MAX_FLOATS,
    MultiTaskRidge,
    _as_dense,
    _components,
    _coupling_operator,
    _laplacian_eigh,
    _pcg_run,
    _psd_inverse,
    _task_gram,
    _task_rows,
    _task_statistics,
)
from ._cv_common import default_cv, path_errors

__all__ = ["MultiTaskRidgeCV"]


def _grid_eigen(X, data, w, A, L, grid, fit_intercept):
    """Solutions at every ``(alpha, coupling)`` from one pair of eigenbases."""
    n, p = X.shape
    T = data.n_tasks
    xbar, ybar, R0 = _task_statistics(X, data, np.ones(T), fit_intercept)
    s = data.sample_weight.reshape(n, T)[:, 0]
    n_total = s.sum()
    if sp.issparse(X):
        K = _as_dense(X.T @ X.multiply(s[:, None] / n_total))
        K = K.astype(np.float64, copy=False) - np.outer(xbar[0], xbar[0])
        lam, V = np.linalg.eigh(0.5 * (K + K.T))
    else:
        B = np.asarray(X, dtype=np.float64) - xbar[0]
        B *= np.sqrt(s / n_total)[:, None]
        if n >= p:
            lam, V = np.linalg.eigh(B.T @ B)
        else:
            _, sigma, Vt = np.linalg.svd(B, full_matrices=False)
            lam, V = sigma**2, Vt.T
    lam[lam <= max(n, p) * np.finfo(float).eps * max(lam.max(initial=0.0), 0.0)] = 0
    mu, Q = _laplacian_eigh(L, A)
    Zq = (V.T @ R0.T * w) @ Q  # right-hand side in both eigenbases
    coefs = np.empty((len(grid), T, p))
    intercepts = np.empty((len(grid), T))
    for g, (alpha, coupling) in enumerate(grid):
        denom = w[0] * lam[:, None] + alpha + coupling * mu[None, :]
        U = np.divide(Zq, denom, out=np.zeros_like(Zq), where=denom > 0)
        W = (V @ (U @ Q.T)).T
        coefs[g] = W
        intercepts[g] = ybar - np.einsum("tj,tj->t", xbar, W)
    return coefs, intercepts, len(grid)


def _grid_cg(X, data, w, A, L, grid, fit_intercept, tol, max_iter):
    """Warm-started preconditioned CG over the grid, per-task Grams formed once."""
    T, p = data.n_tasks, X.shape[1]
    xbar, ybar, R = _task_statistics(X, data, w, fit_intercept)
    c = data.entry_weights(w)
    H = np.empty((T, p, p))
    for t in range(T):
        ent, rows = _task_rows(data, t)
        H[t] = _task_gram(X, rows, c[ent], xbar[t])
    eye = np.eye(p)
    norm0 = np.linalg.norm(R)
    W = np.zeros((T, p))
    coefs = np.empty((len(grid), T, p))
    intercepts = np.empty((len(grid), T))
    total = 0
    for g, (alpha, coupling) in enumerate(grid):
        block_inv = [
            _psd_inverse(H[t] + (alpha + coupling * L[t, t]) * eye) for t in range(T)
        ]
        groups = _components(A, coupling)
        coarse = [
            (grp, _psd_inverse(H[grp].sum(axis=0) + alpha * len(grp) * eye))
            for grp in groups
        ]
        couple = _coupling_operator(L, coupling, groups)

        def apply_M(V, alpha=alpha, couple=couple):
            return np.einsum("tij,tj->ti", H, V) + alpha * V + couple(V)

        def apply_P(Rv, block_inv=block_inv, coarse=coarse):
            Z = np.empty_like(Rv)
            for t in range(T):
                Z[t] = block_inv[t](Rv[t])
            for grp, solve in coarse:
                Z[grp] += solve(Rv[grp].sum(axis=0))
            return Z

        if norm0 > 0:
            r = R - apply_M(W)
            if np.linalg.norm(r) > tol * norm0:
                D, k, _ = _pcg_run(apply_M, apply_P, r, tol * norm0, max_iter, 0, norm0)
                W = W + D
                total += k
        coefs[g] = W
        intercepts[g] = ybar - np.einsum("tj,tj->t", xbar, W)
    return coefs, intercepts, total


def _grid_refit(X, Y2, sw, w, task_graph, grid, fit_intercept, tol, max_iter):
    coefs, intercepts, total = [], [], 0
    for alpha, coupling in grid:
        m = MultiTaskRidge(
            alpha, coupling, task_graph=task_graph, fit_intercept=fit_intercept,
            task_weights=w, tol=tol, max_iter=max_iter,
        ).fit(X, Y2, sample_weight=sw)  # fmt: skip
        coefs.append(m.coef_)
        intercepts.append(m.intercept_)
        total += m.n_iter_
    return np.array(coefs), np.array(intercepts), total


def _choose(X, data, w):
    n, p = X.shape
    T = data.n_tasks
    eigen_dim = p if sp.issparse(X) else min(n, p)
    if data.is_full and np.all(w == w[0]) and eigen_dim <= _EIGEN_MAX_DIM:
        return "eigen"
    if p <= _GRAM_MAX_FEATURES and T * p * p <= _GRAM_MAX_FLOATS:
        return "cg"
    return "refit"


def _ridge_fold(
    X, Y2, sw, train, test, k, w, task_graph, grid, fit_intercept, tol, max_iter
):
    try:
        data = make_task_data(Y2[train], sw[train])
    except ValueError as exc:
        raise ValueError(
            f"CV fold {k}: {exc} (in the fold's training rows). Use "
            "skmtl.model_selection.TaskStratifiedKFold as cv."
        ) from exc
    Xtr = X[train]
    T = data.n_tasks
    A = check_task_graph(task_graph, T)
    L = graph_laplacian(A)
    method = _choose(Xtr, data, w)
    if method == "eigen":
        coefs, intercepts, it = _grid_eigen(Xtr, data, w, A, L, grid, fit_intercept)
    elif method == "cg":
        coefs, intercepts, it = _grid_cg(
            Xtr, data, w, A, L, grid, fit_intercept, tol, max_iter
        )
    else:
        coefs, intercepts, it = _grid_refit(
            Xtr, Y2[train], sw[train], w, task_graph, grid, fit_intercept, tol, max_iter
        )
    err = path_errors(X[test], Y2[test], sw[test], coefs, intercepts, w, "squared")
    return err, it, method


class MultiTaskRidgeCV(BaseMultiTaskRegressor):
    """Multi-task ridge with ``alpha`` and ``coupling`` chosen by cross-validation.

    The model of :class:`skmtl.MultiTaskRidge` (ridge plus a task-graph
    coupling). Each fold scores every ``(alpha, coupling)`` of the grid; the
    pair with the lowest mean CV error is refit on all the data. The grid is
    cheap: with every label present one eigendecomposition of the fold's Gram
    and of the task Laplacian serves every grid point; otherwise the per-task
    Grams are formed once per fold and CG is warm-started along the grid.

    Parameters
    ----------
    alphas : array-like of float, default=(0.01, 0.1, 1.0, 10.0)
        Ridge strengths to try (``>= 0``).
    couplings : array-like of float, default=(0.0, 0.1, 1.0, 10.0)
        Coupling strengths to try (``>= 0``).
    task_graph : array-like of shape (n_tasks, n_tasks), sparse matrix or \
            list of edges, default=None
        As in :class:`skmtl.MultiTaskRidge` (default: pull to the mean).
    fit_intercept : bool, default=True
    task_weights : array-like of shape (n_tasks,), default=None
    cv : int, cross-validation generator or iterable, default=None
        ``None``: 5 folds; :class:`TaskStratifiedKFold` when ``Y`` has missing
        labels, ``KFold`` otherwise.
    tol : float, default=1e-10
        Relative CG residual (as in :class:`skmtl.MultiTaskRidge`).
    max_iter : int, default=1000
        CG iterations per grid point.
    n_jobs : int, default=None
        Folds in parallel with joblib.
    verbose : int, default=0

    Attributes
    ----------
    alpha_, coupling_ : float
        The selected pair.
    mse_path_ : ndarray of shape (n_alphas, n_couplings, n_folds)
        CV error of every grid point and fold: per-task mean squared error on
        the fold's labelled test entries, averaged over tasks with the task
        weights.
    cv_solver_ : str
        How the folds were solved: "eigen", "cg" or "refit" (of the first
        fold).
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    n_iter_ : int
        Of the final refit.
    n_tasks_, n_features_in_, feature_names_in_, task_names_ :
        As in :class:`skmtl.MultiTaskRidge`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.model_selection import MultiTaskRidgeCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5))
    >>> w = rng.normal(size=5)
    >>> Y = np.column_stack([X @ (w + 0.1 * rng.normal(size=5)) for _ in range(3)])
    >>> Y += 0.5 * rng.normal(size=Y.shape)
    >>> model = MultiTaskRidgeCV(alphas=[0.01, 1.0], couplings=[0.0, 10.0], cv=3)
    >>> model = model.fit(X, Y)
    >>> model.mse_path_.shape, model.cv_solver_
    ((2, 2, 3), 'eigen')
    """

    _parameter_constraints = {
        "alphas": ["array-like"],
        "couplings": ["array-like"],
        "task_graph": ["array-like", "sparse matrix", list, None],
        "fit_intercept": ["boolean"],
        "task_weights": ["array-like", None],
        "cv": ["cv_object"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        alphas=(0.01, 0.1, 1.0, 10.0),
        couplings=(0.0, 0.1, 1.0, 10.0),
        *,
        task_graph=None,
        fit_intercept=True,
        task_weights=None,
        cv=None,
        tol=1e-10,
        max_iter=1000,
        n_jobs=None,
        verbose=0,
    ):
        self.alphas = alphas
        self.couplings = couplings
        self.task_graph = task_graph
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.cv = cv
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.verbose = verbose

    @staticmethod
    def _check_grid(values, name):
        a = np.asarray(values, dtype=np.float64).reshape(-1)
        if a.size == 0:
            raise ValueError(f"{name} is empty.")
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            raise ValueError(f"{name} must be finite and non-negative, got {a}.")
        return a

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Score the grid by cross-validation, then refit at the best pair.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; NaN marks a missing label.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        alphas = self._check_grid(self.alphas, "alphas")
        couplings = self._check_grid(self.couplings, "couplings")
        if any_dask(X, y, sample_weight):  # one pass: every fold's statistics
            from .._dask._fit import fit_ridge_cv_dask

            return fit_ridge_cv_dask(self, X, y, sample_weight, alphas, couplings)
        X, Y2, data = self._validate_fit_data(X, y, sample_weight)
        if not sp.issparse(X):
            X = np.asarray(X, dtype=np.float64)
        else:
            X = X.astype(np.float64)
        T = data.n_tasks
        w = check_task_weights(self.task_weights, T)
        check_task_graph(self.task_graph, T)
        sw = np.zeros(Y2.shape[0])
        sw[data.entry_row] = data.sample_weight
        if sample_weight is None:
            sw[:] = 1.0
        # alphas decreasing within each coupling: neighbours warm-start CG
        grid = [(a, c) for c in couplings for a in np.sort(alphas)[::-1]]
        cv = default_cv(self.cv, Y2)
        folds = list(cv.split(X, Y2))
        results = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_ridge_fold)(
                X,
                Y2,
                sw,
                train,
                test,
                k,
                w,
                self.task_graph,
                grid,
                self.fit_intercept,
                self.tol,
                self.max_iter,
            )  # fmt: skip
            for k, (train, test) in enumerate(folds)
        )
        order_a = np.argsort(alphas)[::-1]
        err = np.array([r[0] for r in results])  # (n_folds, n_grid)
        err = err.reshape(len(folds), len(couplings), len(alphas))
        # back to the user's alpha order: (n_alphas, n_couplings, n_folds)
        mse = np.empty((len(alphas), len(couplings), len(folds)))
        mse[order_a] = np.transpose(err, (2, 1, 0))
        self.mse_path_ = mse
        mean = np.nanmean(mse, axis=2)
        i, j = np.unravel_index(np.nanargmin(mean), mean.shape)
        self.alpha_ = float(alphas[i])
        self.coupling_ = float(couplings[j])
        self.cv_solver_ = results[0][2]
        self.cv_n_iter_ = int(sum(r[1] for r in results))
        final = MultiTaskRidge(
            self.alpha_,
            self.coupling_,
            task_graph=self.task_graph,
            fit_intercept=self.fit_intercept,
            task_weights=self.task_weights,
            tol=self.tol,
            verbose=self.verbose,
        ).fit(X, Y2, sample_weight=sample_weight)
        self.coef_ = final.coef_
        self.intercept_ = final.intercept_
        self.n_iter_ = final.n_iter_
        self.solver_ = final.solver_
        return self
