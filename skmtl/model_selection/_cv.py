"""Cross-validated multi-task linear models along warm-started paths.

For each ``l1_ratio`` and each fold, one warm-started path over the whole
``alpha`` grid is computed on the training rows (folds and ``l1_ratio`` s in
parallel with :class:`joblib.Parallel`, default backend, so a
``joblib.parallel_backend`` context such as dask applies), scored on the
test rows (see :mod:`skmtl.model_selection._cv_common` for the exact error),
and the ``(alpha, l1_ratio)`` with the lowest mean error over folds is refit
on all the data.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from .._dask import any_dask
from .._solvers.datafits import get_datafit_class
from .._solvers.penalties import get_penalty_class
from .._validation import check_task_weights, make_task_data, validate_X
from ..linear_model._base import BaseMultiTaskRegressor
from ..linear_model._logistic import MultiTaskLogisticRegression
from ..linear_model._regression import PENALTY_PARAM_CONSTRAINTS
from ..linear_model._setup import make_problem
from ._cv_common import default_cv, fold_path
from ._path import (
    alpha_grid,
    check_alphas,
    compute_alpha_max,
    encode_targets,
    solve_path,
    warn_not_converged,
)

__all__ = [
    "MultiTaskElasticNetCV",
    "MultiTaskLassoCV",
    "MultiTaskLinearRegressionCV",
    "MultiTaskLogisticRegressionCV",
]

_COMMON_CONSTRAINTS = {
    "alphas": ["array-like", Interval(Integral, 1, None, closed="left"), None],
    "n_alphas": [Interval(Integral, 1, None, closed="left")],
    "eps": [Interval(Real, 0, 1, closed="right")],
    "cv": ["cv_object"],
    "fit_intercept": ["boolean"],
    "task_weights": ["array-like", None],
    "solver": [StrOptions({"auto", "bcd", "fista"})],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "n_jobs": [Integral, None],
    "verbose": ["verbose"],
}


_CV_PENALTY_CONSTRAINTS = {
    **PENALTY_PARAM_CONSTRAINTS,
    "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like", None],
    "beta_ratio": [Interval(Real, 0, None, closed="left"), "array-like", None],
}
_CV_PENALTY_CONSTRAINTS.pop("beta")


class _PathCVMixin:
    """``fit`` of the path-based CV estimators.

    Subclasses give ``_loss``, ``_penalty_name()`` and ``_error_attr`` (name
    of the error path attribute). Besides ``alpha``, one hyperparameter may
    be a list that is searched: ``beta_ratio`` for composite penalties,
    ``l1_ratio`` otherwise.
    """

    _loss = "squared"
    _error_attr = "mse_path_"

    def _penalty_name(self):
        return self.penalty

    def _solver(self):
        return getattr(self, "solver", "auto")

    def _check_targets(self, X, y, sample_weight):
        """Validated ``X``, encoded ``Y2`` and ``TaskData``; sets task attributes."""
        X = validate_X(self, X, reset=True)
        Y2, names, classes = encode_targets(y, self._loss, X.shape[0])
        data = make_task_data(Y2, sample_weight, names)
        self.n_tasks_ = Y2.shape[1]
        self._y_is_1d = (
            np.asarray(y).ndim == 1 if not hasattr(y, "ndim") else y.ndim == 1
        )
        if names is not None:
            self.task_names_ = names
        elif hasattr(self, "task_names_"):
            del self.task_names_
        if classes is not None:
            self._task_classes = classes
            self.classes_ = classes[0] if self._y_is_1d else classes
        return X, Y2, data

    def _fit_path_cv(self, X, y, sample_weight):
        if any_dask(X, y, sample_weight):  # one pass: every fold's statistics
            from .._dask._fit import fit_path_cv_dask, unsupported_dask

            if not get_datafit_class(self._loss).sufficient_statistics:
                unsupported_dask(self)
            return fit_path_cv_dask(self, X, y, sample_weight)
        X, Y2, data = self._check_targets(X, y, sample_weight)
        name = self._penalty_name()
        composite = get_penalty_class(name).n_parts > 1
        T = data.n_tasks
        w = check_task_weights(self.task_weights, T)
        Xf, op, datafit = make_problem(X, data, w, self._loss)
        sw = None
        if sample_weight is not None:
            sw = np.zeros(Y2.shape[0])
            sw[data.entry_row] = data.sample_weight
        params = {
            key: getattr(self, key, None)
            for key in ("l1_ratio", "task_graph", "gamma", "beta_ratio")
        }
        grid_name = "beta_ratio" if composite else "l1_ratio"
        grid_param = params[grid_name]
        is_list = grid_param is not None and np.ndim(grid_param) > 0
        values = list(np.atleast_1d(grid_param)) if grid_param is not None else [None]
        low, high = (0, np.inf) if composite else (0, 1)
        for r in values:
            if r is not None and not low <= r <= high:
                raise ValueError(
                    f"{grid_name} values must be in [{low}, {high}], got {r}."
                )
        grid_params = [{**params, grid_name: r} for r in values]
        explicit, n_alphas = check_alphas(self.alphas, self.n_alphas)
        grids = []
        for gp in grid_params:
            if explicit is not None:
                grids.append(explicit)
            else:
                a_max = compute_alpha_max(op, datafit, name, gp, self.fit_intercept)
                grids.append(alpha_grid(a_max, n_alphas, self.eps))
        cv = default_cv(self.cv, Y2)
        folds = list(cv.split(Xf, Y2))
        kw = dict(
            penalty=name,
            fit_intercept=self.fit_intercept,
            tol=self.tol,
            max_iter=self.max_iter,
            solver=self._solver(),
            loss=self._loss,
        )
        jobs = (
            delayed(fold_path)(
                Xf, Y2, sw, train, test, k, w, grids[j], {**kw, "penalty_params": gp}
            )
            for j, gp in enumerate(grid_params)
            for k, (train, test) in enumerate(folds)
        )
        results = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(jobs)
        n_folds = len(folds)
        errors = np.array([res[0] for res in results]).reshape(
            len(values), n_folds, n_alphas
        )
        errors = np.transpose(errors, (0, 2, 1))  # (n_l1, n_alphas, n_folds)
        if not all(res[2] for res in results):
            warnings.warn(
                "The solver did not converge at some alpha of some CV fold's "
                f"path (max_iter={self.max_iter}, tol={self.tol}).",
                ConvergenceWarning,
                stacklevel=3,
            )
        mean = np.nanmean(errors, axis=2)
        if not np.isfinite(mean).any():
            raise ValueError(
                "No CV fold has a labelled test entry: cannot score the path."
            )
        best = np.nanargmin(np.where(np.isfinite(mean), mean, np.inf))
        j, a = np.unravel_index(best, mean.shape)
        self.alpha_ = float(grids[j][a])
        best = grid_params[j]
        for key in ("l1_ratio", "beta_ratio"):
            if hasattr(self, key) or key == "l1_ratio":
                value = best[key]
                setattr(self, key + "_", None if value is None else float(value))
        alphas_ = np.array(grids)
        setattr(self, self._error_attr, errors if is_list else errors[0])
        self.alphas_ = alphas_ if is_list else alphas_[0]
        self.cv_n_iter_ = int(sum(res[1] for res in results))
        refit = {k: v for k, v in kw.items() if k != "loss"}
        out = solve_path(
            Xf, op, datafit, alphas=[self.alpha_], penalty_params=best, **refit
        )
        warn_not_converged(out["converged"], [self.alpha_], self.max_iter, self.tol)
        self.coef_ = out["coefs"][0]
        self.intercept_ = out["intercepts"][0]
        self.n_iter_ = int(out["n_iters"][0])
        self.dual_gap_ = float(out["dual_gaps"][0])
        if "components" in out:
            self.coef_components_ = {k: v[0] for k, v in out["components"].items()}
        elif hasattr(self, "coef_components_"):
            del self.coef_components_
        return self


_FIT_DOC = """Fit along the alpha path in each CV fold, then refit at the best alpha.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; NaN marks a missing label.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, used in the fits and in the CV errors.

        Returns
        -------
        self : object
            Fitted estimator.
        """

_CV_PARAMS = """alphas : array-like or int, default=None
        The ``alpha`` grid, or its size (scikit-learn >= 1.7). ``None``:
        ``n_alphas`` values from the data's exact ``alpha_max`` down to
        ``eps * alpha_max``, on a log scale (one grid per ``l1_ratio``).
    n_alphas : int, default=100
        Grid size when ``alphas`` is None.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    cv : int, cross-validation generator or iterable, default=None
        ``None``: 5 folds; an int: that many folds. Folds are
        :class:`~skmtl.model_selection.TaskStratifiedKFold` when ``Y`` has
        missing labels, ``KFold`` otherwise (as scikit-learn).
    fit_intercept : bool, default=True
        One unpenalised intercept per task.
    task_weights : array-like of shape (n_tasks,), default=None
        Weight ``w_t`` of each task's loss, also in the CV error.
    solver : {"auto", "bcd", "fista"}, default="auto"
        Block coordinate descent (separable penalties) or FISTA.
    max_iter : int, default=1000
        Maximum epochs or iterations per ``alpha``.
    tol : float, default=1e-4
        Duality-gap tolerance of each fit (relative, as scikit-learn).
    n_jobs : int, default=None
        Folds (and ``l1_ratio`` values) run in parallel with joblib.
    verbose : int, default=0
        joblib's verbosity."""

_CV_ATTRS = """alpha_ : float
        The selected ``alpha``.
    l1_ratio_ : float or None
        The selected ``l1_ratio``.
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The grid(s) used.
    mse_path_ : ndarray of shape (n_alphas, n_folds) or \
(n_l1_ratio, n_alphas, n_folds)
        CV error of every grid point and fold: per-task mean squared error
        on the fold's labelled test entries, averaged over tasks with the
        task weights (scikit-learn's ``mse_path_`` when every label is
        present).
    coef_ : ndarray of shape (n_tasks, n_features)
        Refit on all the data at ``alpha_``.
    intercept_ : ndarray of shape (n_tasks,)
    n_iter_ : int
        Iterations of the final refit.
    dual_gap_ : float
        Duality gap of the final refit (NaN for "graph").
    cv_n_iter_ : int
        Total iterations over all the CV paths.
    n_tasks_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray
        Only when ``X`` has string column names.
    task_names_ : ndarray
        Only when ``Y`` is a DataFrame."""


class MultiTaskLinearRegressionCV(_PathCVMixin, BaseMultiTaskRegressor):
    __doc__ = f"""Multi-task linear regression with ``alpha`` chosen by CV.

    The model of :class:`skmtl.MultiTaskLinearRegression`; each fold computes
    one warm-started path over the grid (block coordinate descent built once
    per path for separable penalties), and the ``(alpha, l1_ratio)`` with
    the lowest mean CV error is refit on all data.

    Parameters
    ----------
    penalty : str or Penalty subclass, default="l21"
        As in :class:`skmtl.MultiTaskLinearRegression`.
    l1_ratio : float or list of float, default=None
        Mixing parameter ("elasticnet", "sparse_group", "graph"); a list is
        searched too. For "graph" it must be > 0 unless ``alphas`` is given
        (no finite ``alpha_max`` otherwise).
    task_graph : array-like, sparse matrix or list of edges, default=None
        Task adjacency for ``penalty="graph"``.
    gamma : float, default=None
        Concavity ("mcp", "scad") or cap ("capped_l1"), fixed.
    beta_ratio : float or list of float, default=None
        Composite penalties ("dirty", "robust", "sparse_low_rank"): the
        second part's strength is ``beta = beta_ratio * alpha`` along each
        path (default 1); a list is searched, as ``l1_ratio`` is for the
        other penalties.
    {_CV_PARAMS}

    Attributes
    ----------
    {_CV_ATTRS}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.model_selection import MultiTaskLinearRegressionCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 10))
    >>> Y = X[:, :3] @ rng.normal(size=(3, 4)) + 0.5 * rng.normal(size=(80, 4))
    >>> Y[rng.random(Y.shape) < 0.2] = np.nan
    >>> model = MultiTaskLinearRegressionCV(penalty="l21", n_alphas=10, cv=3)
    >>> model = model.fit(X, Y)
    >>> model.mse_path_.shape
    (10, 3)
    >>> bool(model.alpha_ in model.alphas_)
    True
    """

    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        **_CV_PENALTY_CONSTRAINTS,
    }

    def __init__(
        self,
        penalty="l21",
        *,
        l1_ratio=None,
        task_graph=None,
        gamma=None,
        beta_ratio=None,
        alphas=None,
        n_alphas=100,
        eps=1e-3,
        cv=None,
        fit_intercept=True,
        task_weights=None,
        solver="auto",
        max_iter=1000,
        tol=1e-4,
        n_jobs=None,
        verbose=0,
    ):
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.task_graph = task_graph
        self.gamma = gamma
        self.beta_ratio = beta_ratio
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        return self._fit_path_cv(X, y, sample_weight)

    fit.__doc__ = _FIT_DOC


class MultiTaskElasticNetCV(_PathCVMixin, BaseMultiTaskRegressor):
    __doc__ = f"""Multi-task elastic net with CV over ``alpha`` (and ``l1_ratio``).

    Drop-in for scikit-learn's ``MultiTaskElasticNetCV`` (same parameters
    and attributes), plus missing labels (NaN in ``Y``), sample weights,
    task weights and sparse ``X``. Penalty ``alpha * l1_ratio * ||W||_21 +
    alpha * (1 - l1_ratio) / 2 * ||W||_F^2``.

    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
        Mix of l21 (1) and ridge (0); a list is searched (``l1_ratio=0``
        needs explicit ``alphas``).
    {_CV_PARAMS}

    Attributes
    ----------
    {_CV_ATTRS}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.model_selection import MultiTaskElasticNetCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 6))
    >>> Y = X[:, :2] @ rng.normal(size=(2, 3)) + 0.3 * rng.normal(size=(60, 3))
    >>> model = MultiTaskElasticNetCV(l1_ratio=[0.5, 1.0], n_alphas=8, cv=3)
    >>> model = model.fit(X, Y)
    >>> model.mse_path_.shape, model.alphas_.shape
    ((2, 8, 3), (2, 8))
    """

    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
    }

    def __init__(
        self,
        *,
        l1_ratio=0.5,
        eps=1e-3,
        alphas=None,
        n_alphas=100,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        cv=None,
        verbose=0,
        n_jobs=None,
        task_weights=None,
        solver="auto",
    ):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.task_weights = task_weights
        self.solver = solver

    def _penalty_name(self):
        return "elasticnet"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        return self._fit_path_cv(X, y, sample_weight)

    fit.__doc__ = _FIT_DOC


class MultiTaskLassoCV(_PathCVMixin, BaseMultiTaskRegressor):
    __doc__ = f"""Multi-task Lasso (l21) with ``alpha`` chosen by cross-validation.

    Drop-in for scikit-learn's ``MultiTaskLassoCV`` (same parameters and
    attributes), plus missing labels (NaN in ``Y``), sample weights, task
    weights and sparse ``X``. Penalty ``alpha * sum_j ||W[:, j]||_2``.

    Parameters
    ----------
    {_CV_PARAMS}

    Attributes
    ----------
    {_CV_ATTRS}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.model_selection import MultiTaskLassoCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 8))
    >>> Y = X[:, :2] @ rng.normal(size=(2, 3)) + 0.3 * rng.normal(size=(60, 3))
    >>> Y[:15, 2] = np.nan
    >>> model = MultiTaskLassoCV(n_alphas=10, cv=3).fit(X, Y)
    >>> np.flatnonzero(np.abs(model.coef_).sum(axis=0) > 0.1)
    array([0, 1])
    """

    _parameter_constraints = dict(_COMMON_CONSTRAINTS)

    def __init__(
        self,
        *,
        eps=1e-3,
        alphas=None,
        n_alphas=100,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        cv=None,
        verbose=0,
        n_jobs=None,
        task_weights=None,
        solver="auto",
    ):
        self.eps = eps
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.task_weights = task_weights
        self.solver = solver

    def _penalty_name(self):
        return "l21"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        return self._fit_path_cv(X, y, sample_weight)

    fit.__doc__ = _FIT_DOC


class MultiTaskLogisticRegressionCV(_PathCVMixin, MultiTaskLogisticRegression):
    """Multi-task logistic regression with ``alpha`` chosen by cross-validation.

    The model of :class:`skmtl.MultiTaskLogisticRegression` (one binary
    problem per task, shared penalty); each fold computes one warm-started
    FISTA path over the grid and the ``alpha`` with the lowest mean CV
    logistic loss is refit on all data.

    Parameters
    ----------
    penalty : str or Penalty subclass, default="l21"
        As in :class:`skmtl.MultiTaskLogisticRegression`.
    l1_ratio : float or list of float, default=None
    task_graph : array-like, sparse matrix or list of edges, default=None
    gamma : float, default=None
    beta_ratio : float or list of float, default=None
        As in :class:`MultiTaskLinearRegressionCV`.
    alphas : array-like or int, default=None
        Grid or its size; ``None``: ``n_alphas`` values from the exact
        ``alpha_max`` (gradient at ``W = 0`` with the log-odds intercepts).
    n_alphas : int, default=100
    eps : float, default=1e-3
    cv : int, cross-validation generator or iterable, default=None
        As in :class:`MultiTaskLassoCV`.
    fit_intercept : bool, default=True
    task_weights : array-like of shape (n_tasks,), default=None
    max_iter : int, default=1000
    tol : float, default=1e-4
    n_jobs : int, default=None
    verbose : int, default=0

    Attributes
    ----------
    alpha_, l1_ratio_, alphas_, coef_, intercept_, n_iter_, dual_gap_, \
cv_n_iter_, n_tasks_, classes_ :
        As in :class:`MultiTaskLassoCV` and
        :class:`skmtl.MultiTaskLogisticRegression`.
    log_loss_path_ : ndarray of shape (n_alphas, n_folds) or \
(n_l1_ratio, n_alphas, n_folds)
        CV error: per-task mean logistic loss ``log(1 + exp(-y f))`` on the
        fold's labelled test entries, averaged over tasks with the task
        weights.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.model_selection import MultiTaskLogisticRegressionCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(90, 5))
    >>> Y = (X[:, :2] @ rng.normal(size=(2, 2)) > 0).astype(float)
    >>> Y[:20, 1] = np.nan
    >>> clf = MultiTaskLogisticRegressionCV(n_alphas=5, cv=3).fit(X, Y)
    >>> clf.log_loss_path_.shape, clf.predict(X[:2]).shape
    ((5, 3), (2, 2))
    """

    _loss = "logistic"
    _error_attr = "log_loss_path_"
    _parameter_constraints = {
        **{k: v for k, v in _COMMON_CONSTRAINTS.items() if k != "solver"},
        **_CV_PENALTY_CONSTRAINTS,
    }

    def __init__(
        self,
        penalty="l21",
        *,
        l1_ratio=None,
        task_graph=None,
        gamma=None,
        beta_ratio=None,
        alphas=None,
        n_alphas=100,
        eps=1e-3,
        cv=None,
        fit_intercept=True,
        task_weights=None,
        max_iter=1000,
        tol=1e-4,
        n_jobs=None,
        verbose=0,
    ):
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.task_graph = task_graph
        self.gamma = gamma
        self.beta_ratio = beta_ratio
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.max_iter = max_iter
        self.tol = tol
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit along the alpha path in each CV fold, then refit at the best alpha.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Two labels per task; NaN or None marks a missing label.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit_path_cv(X, y, sample_weight)
