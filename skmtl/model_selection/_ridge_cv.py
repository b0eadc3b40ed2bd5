"""Multi-task ridge with ``(alpha, coupling)`` chosen by cross-validation.

The whole grid is cheap because the problem's structure is shared by every
grid point of a fold:

* every label present, equal task weights (``"eigen"``): one eigen- (or
  singular value) decomposition of the fold's centred Gram ``K`` and one of
  the task Laplacian ``L`` serve all grid points: in both eigenbases the
  system is diagonal, ``u_kt = z_kt / (lam_k + alpha + coupling mu_t)``, so
  each grid point costs ``O(k T)`` plus its test predictions;
* otherwise (``"task_eigen"``, e.g. stacked per-task data with one label per
  row): the per-task Grams ``H_t`` and their eigendecompositions are formed
  once per fold. Grid points without coupling are then a diagonal scaling
  in each task's eigenbasis (closed form); with coupling over the default
  mean graph (any graph with one weight on every pair of tasks) one
  ``p x p`` system per grid point is exact; with another graph, grid points
  run preconditioned CG warm-started from the previous grid point, whose
  block preconditioner is applied in those eigenbases (no factorisation
  per grid point);
* when the per-task eigenvectors would not fit in memory, each
  grid point is a plain :class:`~skmtl.MultiTaskRidge` fit.
"""

from numbers import Integral, Real

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from joblib import Parallel, delayed
from scipy.sparse.csgraph import connected_components
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval

from .._dask import any_dask
from .._graph import check_task_graph, graph_laplacian
from .._solvers.ridge import _components, _coupling_operator, _pcg_run
from .._validation import check_task_weights, make_task_data
from ..linear_model._base import BaseMultiTaskRegressor
from ..linear_model._ridge import (
    _EIGEN_MAX_DIM,
    _GRAM_MAX_FEATURES,
    _GRAM_MAX_FLOATS,
    MultiTaskRidge,
    _as_dense,
    _laplacian_eigh,
    _task_gram,
    _task_rows,
    _task_statistics,
)
from ._cv_common import path_errors
from ._folds import SplitterRoutingMixin, cv_folds
from ._scoring import check_cv_scoring, path_scores

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


def _task_eigh(X, data, w, A, fit_intercept):
    """Per-task Gram eigendecompositions (and the pooled Gram of each connected
    component of the task graph), computed once per fold."""
    T, p = data.n_tasks, X.shape[1]
    xbar, ybar, R = _task_statistics(X, data, w, fit_intercept)
    c = data.entry_weights(w)
    _, comp = connected_components(sp.csr_array(A > 0), directed=False)
    lam = np.empty((T, p))
    V = np.empty((T, p, p))
    H_comp = np.zeros((comp.max() + 1, p, p))
    for t in range(T):
        ent, rows = _task_rows(data, t)
        H = _task_gram(X, rows, c[ent], xbar[t])
        H_comp[comp[t]] += H
        lam[t], V[t] = np.linalg.eigh(H)
    # rounding-level eigenvalues are exact zeros (they matter for alpha = 0)
    cut = p * np.finfo(float).eps * np.maximum(lam.max(axis=1, keepdims=True), 0.0)
    lam[lam <= cut] = 0.0
    return xbar, ybar, R, lam, V, comp, H_comp


# With the same weight on every pair of tasks (the default mean graph) a
# coupled grid point is solved exactly through one p x p system (one GEMM of
# cost T p^3); CG costs about 40 T p^2 in memory-bound products. Measured on
# one core (benchmarks/bench_ridge_cv.py problems, whole MultiTaskRidgeCV
# fit): exact 0.99 s vs CG 1.28 s at p=100, 7.3 s vs 7.0 s at p=300.
_EXACT_COUPLED_MAX_FEATURES = 256


def _uniform_weight(A):
    """The common weight ``a > 0`` of every pair of tasks, or None."""
    T = A.shape[0]
    if T < 2:
        return None
    off = A[~np.eye(T, dtype=bool)]
    if off[0] > 0 and np.all(off == off[0]):
        return float(off[0])
    return None


def _coupled_exact(lam, V, Vt, Z, alpha, beta):
    """Exact solution with the Laplacian ``a (T I - 1 1^T)``, ``beta = a c``.

    Each ``w_t = D_t^{-1} (r_t + beta m)`` with ``D_t = H_t + (alpha + beta
    T) I`` and ``m = sum_s w_s``, which solves ``G m = sum_t D_t^{-1} r_t``
    with ``G = I - beta sum_t D_t^{-1} = (1/T) sum_t V_t diag((lam_t +
    alpha) / d_t) V_t^T`` (this form has no cancellation for huge
    coupling). Everything is diagonal in the per-task eigenbases but ``G``.
    """
    T, p = lam.shape
    d = lam + alpha + beta * T
    g = (lam + alpha) / d
    G = (V * g[:, None, :]).transpose(1, 0, 2).reshape(p, T * p)
    G = G @ Vt.reshape(T * p, p) / T
    b = np.matmul(V, (Z / d)[:, :, None])[:, :, 0].sum(axis=0)
    try:
        m = sla.solve(0.5 * (G + G.T), b, assume_a="pos", check_finite=False)
    except np.linalg.LinAlgError:  # alpha = 0 and a direction no task sees
        m = np.linalg.lstsq(G, b, rcond=None)[0]
    U = (Z + beta * np.matmul(Vt, m)) / d
    return np.matmul(V, U[:, :, None])[:, :, 0]


def _grid_task_eigen(X, data, w, A, L, grid, fit_intercept, tol, max_iter):
    """Every grid point from per-task eigendecompositions ``H_t = V_t diag(lam_t)
    V_t^T``, formed once per fold.

    Without coupling the tasks are independent and a grid point is a
    diagonal scaling in each task's eigenbasis (closed form, ``O(T p^2)``).
    With coupling and the same weight on every pair of tasks (the default
    mean graph) and ``p <= 256``, one ``p x p`` system per grid point
    (:func:`_coupled_exact`, exact). With another graph (or larger ``p``),
    preconditioned CG warm-started along the grid, whose
    preconditioner (exact per-task blocks ``(H_t + (alpha + coupling L_tt)
    I)^{-1}`` plus the pooled coarse correction, as in
    :class:`~skmtl.MultiTaskRidge`) is applied in the eigenbases: no
    factorisation per grid point, and every product is one batched
    matrix product over the tasks. Each coupled point starts from the
    closer (smaller residual) of the previous grid point's solution and the
    solution at the same ``alpha`` and the previous coupling.
    """
    T, p = data.n_tasks, X.shape[1]
    xbar, ybar, R, lam, V, comp, H_comp = _task_eigh(X, data, w, A, fit_intercept)

    Vt = np.ascontiguousarray(V.transpose(0, 2, 1))

    def in_basis(M):  # V_t^T m_t for every task
        return np.matmul(Vt, M[:, :, None])[:, :, 0]

    def from_basis(U):  # V_t u_t
        return np.matmul(V, U[:, :, None])[:, :, 0]

    Z = in_basis(R)
    coarse_eigh = {}
    components = _components(A, 1.0)  # of the graph, whatever the coupling
    norm0 = np.linalg.norm(R)
    W = np.zeros((T, p))
    coefs = np.empty((len(grid), T, p))
    intercepts = np.empty((len(grid), T))
    total = 0
    by_alpha = {}  # latest solution at each alpha (previous coupling)
    uniform = _uniform_weight(A) if p <= _EXACT_COUPLED_MAX_FEATURES else None
    for g, (alpha, coupling) in enumerate(grid):
        groups = components if coupling != 0 else []
        if not groups:  # independent tasks (the Laplacian is zero here)
            d = lam + alpha
            W = from_basis(np.divide(Z, d, out=np.zeros_like(Z), where=d > 0))
            total += 1
        elif uniform is not None:
            W = _coupled_exact(lam, V, Vt, Z, alpha, coupling * uniform)
            total += 1
        else:
            for grp in groups:
                k = comp[grp[0]]
                if k not in coarse_eigh:
                    coarse_eigh[k] = np.linalg.eigh(H_comp[k])
            d = lam + (alpha + coupling * np.diag(L))[:, None]
            inv = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
            coarse = []
            for grp in groups:
                mu, Q = coarse_eigh[comp[grp[0]]]
                dc = mu + alpha * len(grp)
                coarse.append((grp, Q, np.divide(1.0, dc, out=np.zeros_like(dc),
                                                 where=dc > 0)))  # fmt: skip
            couple = _coupling_operator(L, coupling, groups)

            def apply_M(Vv, alpha=alpha, couple=couple):
                return from_basis(lam * in_basis(Vv)) + alpha * Vv + couple(Vv)

            def apply_P(Rv, inv=inv, coarse=coarse):
                Zp = from_basis(inv * in_basis(Rv))
                for grp, Q, cinv in coarse:
                    Zp[grp] += Q @ (cinv * (Q.T @ Rv[grp].sum(axis=0)))
                return Zp

            if norm0 > 0:
                r = R - apply_M(W)
                if alpha in by_alpha:
                    r2 = R - apply_M(by_alpha[alpha])
                    if np.linalg.norm(r2) < np.linalg.norm(r):
                        W, r = by_alpha[alpha], r2
                if np.linalg.norm(r) > tol * norm0:
                    D, k, _ = _pcg_run(
                        apply_M, apply_P, r, tol * norm0, max_iter, 0, norm0
                    )
                    W = W + D
                    total += k
        coefs[g] = W
        by_alpha[alpha] = W
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
        return "task_eigen"  # the per-task eigenvectors
    return "refit"


def _ridge_fold(
    X, Y2, sw, train, test, k, w, task_graph, grid, fit_intercept, tol, max_iter, spec
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
    elif method == "task_eigen":
        coefs, intercepts, it = _grid_task_eigen(
            Xtr, data, w, A, L, grid, fit_intercept, tol, max_iter
        )
    else:
        coefs, intercepts, it = _grid_refit(
            Xtr, Y2[train], sw[train], w, task_graph, grid, fit_intercept, tol, max_iter
        )
    args = (X[test], Y2[test], sw[test], coefs, intercepts, w, "squared")
    err = path_errors(*args)
    scores = None if spec is None else path_scores(*args, spec)
    return err, it, method, scores


class MultiTaskRidgeCV(SplitterRoutingMixin, BaseMultiTaskRegressor):
    """Multi-task ridge with ``alpha`` and ``coupling`` chosen by cross-validation.

    The model of :class:`skmtl.MultiTaskRidge` (ridge plus a task-graph
    coupling). Each fold scores every ``(alpha, coupling)`` of the grid; the
    pair with the lowest mean CV error is refit on all the data. The grid is
    cheap: with every label present one eigendecomposition of the fold's Gram
    and of the task Laplacian serves every grid point; otherwise (for
    instance stacked per-task data, one label per row) each task's Gram is
    eigendecomposed once per fold: grid points without coupling are then in
    closed form, and so are grid points with coupling over the default mean
    graph (one ``p x p`` system each, for ``p <= 256``); with other graphs
    they run CG warm-started along the grid with a preconditioner applied in
    those eigenbases.

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
        labels, ``KFold`` otherwise. A splitter is given ``y`` as passed to
        ``fit``, and the metadata routed to it (``groups``; see ``fit``).
    tol : float, default=1e-10
        Relative CG residual (as in :class:`skmtl.MultiTaskRidge`).
    max_iter : int, default=1000
        CG iterations per grid point.
    n_jobs : int, default=None
        Folds in parallel with joblib.
    verbose : int, default=0
    scoring : str or scorer, default=None
        What selects the pair. ``None``: the lowest mean ``mse_path_``. A
        regression metric name of :mod:`skmtl.metrics` (``"nmse"``,
        ``"r2"``, ...) or a scorer from
        :func:`skmtl.metrics.make_multitask_scorer`: see
        :class:`MultiTaskLassoCV`.

    Attributes
    ----------
    alpha_, coupling_ : float
        The selected pair.
    mse_path_ : ndarray of shape (n_alphas, n_couplings, n_folds)
        CV error of every grid point and fold: per-task mean squared error on
        the fold's labelled test entries, averaged over tasks with the task
        weights.
    score_path_ : ndarray of shape (n_alphas, n_couplings, n_folds)
        Only with ``scoring``: the score (greater is better) of every grid
        point and fold.
    cv_solver_ : str
        How the folds were solved: "eigen" (shared Gram), "task_eigen"
        (per-task Grams) or "refit" (of the first fold).
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
        "scoring": [None, str, callable],
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
        scoring=None,
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
        self.scoring = scoring

    @staticmethod
    def _check_grid(values, name):
        a = np.asarray(values, dtype=np.float64).reshape(-1)
        if a.size == 0:
            raise ValueError(f"{name} is empty.")
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            raise ValueError(f"{name} must be finite and non-negative, got {a}.")
        return a

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Score the grid by cross-validation, then refit at the best pair.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; NaN marks a missing label.
        sample_weight : array-like of shape (n_samples,), default=None
        **params : dict
            Metadata routed to the splitter's ``split`` (``groups`` for
            ``GroupKFold`` and the like), with metadata routing enabled only
            (``sklearn.set_config(enable_metadata_routing=True)``);
            otherwise passing any raises a ``ValueError``.

        Returns
        -------
        self : object
        """
        split_params = self._split_params(sample_weight, params)
        spec = check_cv_scoring(self.scoring, "squared")
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
        w = check_task_weights(self.task_weights, T, allow_zero=True)
        check_task_graph(self.task_graph, T)
        sw = np.zeros(Y2.shape[0])
        sw[data.entry_row] = data.sample_weight
        if sample_weight is None:
            sw[:] = 1.0
        # alphas decreasing within each coupling: neighbours warm-start CG
        grid = [(a, c) for c in couplings for a in np.sort(alphas)[::-1]]
        folds = cv_folds(self.cv, X, y, Y2, split_params)
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
                spec,
            )  # fmt: skip
            for k, (train, test) in enumerate(folds)
        )
        order_a = np.argsort(alphas)[::-1]

        def by_grid(values):
            # (n_folds, n_grid) back to the user's alpha order:
            # (n_alphas, n_couplings, n_folds)
            values = np.array(values).reshape(len(folds), len(couplings), len(alphas))
            out = np.empty((len(alphas), len(couplings), len(folds)))
            out[order_a] = np.transpose(values, (2, 1, 0))
            return out

        self.mse_path_ = by_grid([r[0] for r in results])
        if spec is None:
            mean = np.nanmean(self.mse_path_, axis=2)
            self.__dict__.pop("score_path_", None)  # of an earlier fit
        else:
            self.score_path_ = by_grid([r[3] for r in results])
            mean = -np.nanmean(self.score_path_, axis=2)
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
