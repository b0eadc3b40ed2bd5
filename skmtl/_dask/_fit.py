"""Estimator ``fit`` / ``predict`` on dask collections (the hooks' targets).

Each fit is one pass over the data: the per-task statistics are reduced on
the cluster (:mod:`._stats`), the solver runs on the client on ``O(T p^2)``
numbers, and the fitted estimator is an ordinary skmtl estimator.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold

from .._graph import check_task_graph, graph_laplacian
from .._solvers.penalties import get_penalty_class, make_penalty
from .._solvers.ridge import ridge_from_state
from .._validation import check_task_weights, task_names_from
from ._solve import StatsSolver, check_penalty_on_statistics
from ._stats import (
    as_dask_array,
    check_y_dask,
    reduce_statistics,
    weighted_cv_error,
)


def _feature_names(X):
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = np.asarray(columns, dtype=object)
    if all(isinstance(c, str) for c in names):
        return names
    return None


def _prepare(estimator, X, y, *, reset=True):
    """Record ``n_features_in_``, ``feature_names_in_``, ``n_tasks_``,
    ``task_names_``, ``_y_is_1d`` from lazy ``X`` and ``y``."""
    if y is None:
        raise ValueError(
            "This estimator requires y to be passed, but the target y is None."
        )
    Xa = as_dask_array(X, "X")
    if Xa.ndim != 2:
        raise ValueError(f"Expected a 2-D X, got {Xa.ndim} dimensions.")
    if Xa.shape[0] == 0 or Xa.shape[1] == 0:
        raise ValueError(f"X has shape {Xa.shape}: it needs rows and features.")
    is_1d, T = check_y_dask(y)
    if reset:
        estimator.n_features_in_ = int(Xa.shape[1])
        names = _feature_names(X)
        if names is not None:
            estimator.feature_names_in_ = names
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        estimator.n_tasks_ = T
        estimator._y_is_1d = is_1d
        tn = task_names_from(y)
        if tn is not None:
            estimator.task_names_ = tn
        elif hasattr(estimator, "task_names_"):
            del estimator.task_names_
    return Xa, y


def _statistics(estimator, X, y, sample_weight, folds=None):
    Xa, y = _prepare(estimator, X, y)
    stats = reduce_statistics(Xa, y, sample_weight, folds=folds)
    return stats


def fit_penalized_dask(estimator, X, y, sample_weight, penalty_name):
    """``fit`` of the penalised squared-loss models on dask data."""
    from ..linear_model._base import (
        own_params,
        store_solver_result,
        warm_start_point,
    )

    (stats,) = _statistics(estimator, X, y, sample_weight)
    names = getattr(estimator, "task_names_", None)
    stats.check_tasks(names)
    T = stats.n_tasks
    w = check_task_weights(estimator.task_weights, T)
    state = stats.gram_state(w, estimator.fit_intercept)
    penalty = make_penalty(penalty_name, estimator.alpha, T, own_params(estimator))
    check_penalty_on_statistics(penalty)
    Z0, _ = warm_start_point(estimator, penalty, T, stats.n_features)
    solver = StatsSolver(state, fit_intercept=estimator.fit_intercept)
    result = solver.solve(
        penalty, Z0, solver=estimator.solver, max_iter=estimator.max_iter,
        tol=estimator.tol, verbose=estimator.verbose,
    )  # fmt: skip
    store_solver_result(estimator, result, estimator.fit_intercept, penalty)
    estimator.solver_ = solver.method_
    return estimator


def _ridge_setup(estimator, T):
    w = check_task_weights(estimator.task_weights, T, allow_zero=True)
    A = check_task_graph(estimator.task_graph, T)
    return w, A, graph_laplacian(A)


def fit_ridge_dask(estimator, X, y, sample_weight):
    """``MultiTaskRidge.fit`` on dask data (exact solve from statistics)."""
    (stats,) = _statistics(estimator, X, y, sample_weight)
    stats.check_tasks(getattr(estimator, "task_names_", None))
    T, p = stats.n_tasks, stats.n_features
    w, A, L = _ridge_setup(estimator, T)
    state = stats.gram_state(w, estimator.fit_intercept)
    W, b, n_iter, converged, solver = ridge_from_state(
        state, float(estimator.alpha), float(estimator.coupling), A, L,
        estimator.tol, estimator._cg_max_iter(T, p), estimator.verbose,
    )  # fmt: skip
    return estimator._set_solution(W, b, n_iter, converged, solver)


def predict_dask(estimator, X):
    """Lazy ``predict``: a dask array, one block per row chunk of ``X``."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "coef_")
    Xa = as_dask_array(X, "X")
    if Xa.ndim != 2 or Xa.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {Xa.shape[-1]} features, but {type(estimator).__name__} is "
            f"expecting {estimator.n_features_in_} features as input."
        )
    Xa = Xa.rechunk({1: -1})
    coef, intercept = estimator.coef_, estimator.intercept_
    T = coef.shape[0]

    def block(xb):
        xb = np.asarray(xb)
        if not np.all(np.isfinite(xb)):
            raise ValueError("Input X contains NaN or infinity.")
        return xb @ coef.T.astype(xb.dtype, copy=False) + intercept

    if getattr(estimator, "_y_is_1d", False):
        return Xa.map_blocks(
            lambda xb: block(xb)[:, 0], drop_axis=1, dtype=np.float64,
            meta=np.empty((0,), dtype=np.float64),
        )  # fmt: skip
    return Xa.map_blocks(
        block, chunks=(Xa.chunks[0], (T,)), dtype=np.float64,
        meta=np.empty((0, 0), dtype=np.float64),
    )  # fmt: skip


# cross-validation ------------------------------------------------------------
def _fold_bounds(cv, n):
    """Row boundaries of ``cv``'s contiguous folds (``KFold`` without
    shuffling, or an int / None for 5 such folds)."""
    if cv is None:
        k = 5
    elif isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        k = int(cv)
    elif isinstance(cv, KFold) and not cv.shuffle:
        k = cv.n_splits
    else:
        raise TypeError(
            "On dask data, cv must be None, an int or KFold(shuffle=False): the "
            "folds are contiguous row blocks so that every fold's statistics "
            f"come from the same single pass over the data; got {cv!r}. Shuffle "
            "the rows of the dask collection beforehand if needed."
        )
    if k < 2 or k > n:
        raise ValueError(f"Cannot have {k} folds with {n} samples.")
    sizes = np.full(k, n // k, dtype=np.int64)
    sizes[: n % k] += 1
    return np.concatenate([[0], np.cumsum(sizes)])


def _cv_statistics(estimator, X, y, sample_weight):
    Xa, y = _prepare(estimator, X, y)
    bounds = _fold_bounds(estimator.cv, int(Xa.shape[0]))
    folds = reduce_statistics(Xa, y, sample_weight, folds=bounds)
    total = folds[0]
    for f in folds[1:]:
        total = total + f
    names = getattr(estimator, "task_names_", None)
    total.check_tasks(names)
    for k, f in enumerate(folds):
        try:
            (total - f).check_tasks(names, where=" in the training rows")
        except ValueError as exc:
            raise ValueError(
                f"CV fold {k}: {exc} Shuffle the rows of the dask collection "
                "so that every fold's training rows label every task."
            ) from exc
    return total, folds


def fit_path_cv_dask(estimator, X, y, sample_weight):
    """``fit`` of the path CV estimators (squared loss) on dask data: one
    pass for every fold's statistics, then each fold's path and test error
    from statistics, then the refit from the total."""
    total, folds = _cv_statistics(estimator, X, y, sample_weight)
    name = estimator._penalty_name()
    cls = get_penalty_class(name)
    composite = cls.n_parts > 1
    T = total.n_tasks
    w = check_task_weights(estimator.task_weights, T)
    fi = estimator.fit_intercept
    from ..model_selection._cv import cv_grid_params, select_cv_point
    from ..model_selection._path import alpha_grid, check_alphas

    grid_params, is_list = cv_grid_params(estimator, composite)

    explicit, n_alphas = check_alphas(estimator.alphas, estimator.n_alphas)
    total_state = total.gram_state(w, fi)
    grids = []
    for gp in grid_params:
        if explicit is not None:
            grids.append(np.asarray(explicit, dtype=np.float64))
        else:
            a_max = cls.alpha_max(-total_state["XtY"], gp)
            grids.append(alpha_grid(a_max, n_alphas, estimator.eps))
    kw = dict(
        solver=estimator._solver(), max_iter=estimator.max_iter, tol=estimator.tol
    )
    errors = np.full((len(grid_params), n_alphas, len(folds)), np.nan)
    n_iter, all_converged = 0, True
    for j, gp in enumerate(grid_params):
        for k, fold in enumerate(folds):
            state = (total - fold).gram_state(w, fi)
            solver = StatsSolver(state, fit_intercept=fi)
            for a, alpha in enumerate(grids[j]):
                pen = make_penalty(name, alpha, T, gp)
                check_penalty_on_statistics(pen)
                res = solver.solve(pen, **kw)
                n_iter += res.n_iter
                all_converged &= bool(res.converged)
                errors[j, a, k] = weighted_cv_error(fold, res.coef, res.intercept, w)
    if not all_converged:
        warnings.warn(
            "The solver did not converge at some alpha of some CV fold's path "
            f"(max_iter={estimator.max_iter}, tol={estimator.tol}).",
            ConvergenceWarning,
            stacklevel=3,
        )
    mean = np.nanmean(errors, axis=2)
    best_params = select_cv_point(estimator, mean, errors, grids, grid_params, is_list)
    estimator.cv_n_iter_ = int(n_iter)
    pen = make_penalty(name, estimator.alpha_, T, best_params)
    res = StatsSolver(total_state, fit_intercept=fi).solve(pen, **kw)
    if not res.converged:
        warnings.warn(
            f"The final refit did not converge (max_iter={estimator.max_iter}).",
            ConvergenceWarning,
            stacklevel=3,
        )
    estimator.coef_ = res.coef
    estimator.intercept_ = res.intercept
    estimator.n_iter_ = int(res.n_iter)
    estimator.dual_gap_ = float(res.gap)
    if pen.n_parts > 1:
        estimator.coef_components_ = {
            n: v.copy() for n, v in pen.split(res.parts).items()
        }
    elif hasattr(estimator, "coef_components_"):
        del estimator.coef_components_
    return estimator


def fit_ridge_cv_dask(estimator, X, y, sample_weight, alphas, couplings):
    """``MultiTaskRidgeCV.fit`` on dask data: the ``(alpha, coupling)`` grid
    scored from every fold's statistics (one pass), refit from the total."""
    total, folds = _cv_statistics(estimator, X, y, sample_weight)
    T, p = total.n_tasks, total.n_features
    w, A, L = _ridge_setup(estimator, T)
    fi = estimator.fit_intercept
    mse = np.full((len(alphas), len(couplings), len(folds)), np.nan)
    n_iter = 0
    for k, fold in enumerate(folds):
        state = (total - fold).gram_state(w, fi)
        for i, alpha in enumerate(alphas):
            for j, coupling in enumerate(couplings):
                W, b, it, _, _ = ridge_from_state(
                    state, alpha, coupling, A, L, estimator.tol, estimator.max_iter
                )
                n_iter += it
                mse[i, j, k] = weighted_cv_error(fold, W, b if fi else 0 * b, w)
    estimator.mse_path_ = mse
    mean = np.nanmean(mse, axis=2)
    i, j = np.unravel_index(np.nanargmin(mean), mean.shape)
    estimator.alpha_ = float(alphas[i])
    estimator.coupling_ = float(couplings[j])
    estimator.cv_solver_ = "statistics"
    estimator.cv_n_iter_ = int(n_iter)
    W, b, it, _, solver = ridge_from_state(
        total.gram_state(w, fi), estimator.alpha_, estimator.coupling_, A, L,
        estimator.tol, max(estimator.max_iter, T * p),
    )  # fmt: skip
    estimator.coef_ = W
    estimator.intercept_ = b if fi else np.zeros(T)
    estimator.n_iter_ = int(it)
    estimator.solver_ = solver
    return estimator


def unsupported_dask(estimator):
    """The clear error of estimators without a dask route."""
    raise TypeError(
        f"{type(estimator).__name__} does not fit on dask collections: the "
        "logistic loss has no finite sufficient statistics. Alternatives: "
        "MultiTaskMLPClassifier trained chunk by chunk with "
        "skmtl.distributed.partial_fit_chunks; dask-ml's LogisticRegression "
        "fitted per task; or fit in memory on a sample of the rows."
    )
