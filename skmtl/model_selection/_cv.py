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
from ..linear_model._base import BaseMultiTaskRegressor, set_output_dtype
from ..linear_model._logistic import MultiTaskLogisticRegression
from ..linear_model._regression import (
    PENALTY_PARAM_CONSTRAINTS,
    _SklearnDropInMixin,
)
from ..linear_model._setup import make_problem
from ._cv_common import fold_path
from ._folds import SplitterRoutingMixin, cv_folds
from ._path import (
    alpha_grid,
    check_alphas,
    compute_alpha_max,
    encode_targets,
    solve_path,
    warn_not_converged,
)
from ._scoring import check_cv_scoring

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
    "scoring": [None, str, callable],
}


_CV_PENALTY_CONSTRAINTS = {
    **PENALTY_PARAM_CONSTRAINTS,
    "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like", None],
    "beta_ratio": [Interval(Real, 0, None, closed="left"), "array-like", None],
}
_CV_PENALTY_CONSTRAINTS.pop("beta")


class _PathCVMixin(SplitterRoutingMixin):
    """``fit`` of the path-based CV estimators.

    Subclasses give ``_loss``, ``_penalty_name()`` and ``_error_attr`` (name
    of the error path attribute). Besides ``alpha``, one hyperparameter may
    be a list that is searched: ``beta_ratio`` for penalties with a second
    strength (composite and learned-structure penalties), ``l1_ratio``
    otherwise.
    """

    _loss = "squared"
    _error_attr = "mse_path_"

    def _penalty_name(self):
        return self.penalty

    def _solver(self):
        return getattr(self, "solver", "auto")

    def _check_targets(self, X, y, sample_weight):
        """Validated ``X``, encoded ``Y2``, ``TaskData`` and ``X``'s column
        statistics from validation (or None, see :func:`validate_X`); sets
        task attributes."""
        X, stats = validate_X(self, X, reset=True, return_column_stats=True)
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
        return X, Y2, data, classes, stats

    def _fit_path_cv(self, X, y, sample_weight, params):
        split_params = self._split_params(sample_weight, params)
        if any_dask(X, y, sample_weight):  # one pass: every fold's statistics
            from .._dask._fit import fit_path_cv_dask, unsupported_dask

            if not get_datafit_class(self._loss).sufficient_statistics:
                unsupported_dask(self)
            return fit_path_cv_dask(self, X, y, sample_weight)
        X, Y2, data, classes, stats = self._check_targets(X, y, sample_weight)
        folds = cv_folds(
            self.cv,
            X,
            y,
            Y2,
            split_params,
            classes=classes,
            task_names=getattr(self, "task_names_", None),
        )
        name = self._penalty_name()
        pen_cls = get_penalty_class(name)
        composite = "beta_ratio" in pen_cls.hyperparameters
        T = data.n_tasks
        w = check_task_weights(self.task_weights, T)
        Xf, op, datafit = make_problem(X, data, w, self._loss, column_stats=stats)
        sw = None
        if sample_weight is not None:
            sw = np.zeros(Y2.shape[0])
            sw[data.entry_row] = data.sample_weight
        spec = check_cv_scoring(self.scoring, self._loss)
        grid_params, is_list = cv_grid_params(self, composite)
        explicit, n_alphas = check_alphas(self.alphas, self.n_alphas)
        grids = []
        for gp in grid_params:
            if explicit is not None:
                grids.append(explicit)
            else:
                a_max = compute_alpha_max(op, datafit, name, gp, self.fit_intercept, Xf)
                grids.append(alpha_grid(a_max, n_alphas, self.eps))
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
                Xf,
                Y2,
                sw,
                train,
                test,
                k,
                w,
                grids[j],
                {**kw, "penalty_params": gp},
                spec,
            )
            for j, gp in enumerate(grid_params)
            for k, (train, test) in enumerate(folds)
        )
        results = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(jobs)
        n_folds = len(folds)

        def by_grid(points):  # (n_grid, n_alphas, n_folds)
            points = np.array(points).reshape(len(grid_params), n_folds, n_alphas)
            return np.transpose(points, (0, 2, 1))

        errors = by_grid([res[0] for res in results])
        if not all(res[2] for res in results):
            warnings.warn(
                "The solver did not converge at some alpha of some CV fold's "
                f"path (max_iter={self.max_iter}, tol={self.tol}).",
                ConvergenceWarning,
                stacklevel=3,
            )
        if spec is None:
            mean = np.nanmean(errors, axis=2)
            self.__dict__.pop("score_path_", None)  # of an earlier fit
        else:
            scores = by_grid([res[3] for res in results])
            self.score_path_ = scores if is_list else scores[0]
            mean = -np.nanmean(scores, axis=2)  # lowest is best below
        best = select_cv_point(self, mean, errors, grids, grid_params, is_list)
        self.cv_n_iter_ = int(sum(res[1] for res in results))
        refit = {k: v for k, v in kw.items() if k != "loss"}
        out = solve_path(
            Xf, op, datafit, alphas=[self.alpha_], penalty_params=best, **refit
        )
        warn_not_converged(out["converged"], [self.alpha_], self.max_iter, self.tol)
        self.coef_ = out["coefs"][0]
        self.intercept_ = out["intercepts"][0]
        set_output_dtype(self, np.float32 if X.dtype == np.float32 else np.float64)
        self.n_iter_ = int(out["n_iters"][0])
        self.dual_gap_ = float(out["dual_gaps"][0])
        if "components" in out:
            self.coef_components_ = {k: v[0] for k, v in out["components"].items()}
        elif hasattr(self, "coef_components_"):
            del self.coef_components_
        for key in getattr(self, "_penalty_attributes", ()):
            delattr(self, key)  # learned by the previous fit's penalty
        for key, value in out["fitted"].items():
            setattr(self, key, value)
        self._penalty_attributes = tuple(out["fitted"])
        return self


#: hyperparameters a path CV estimator passes to its penalty
CV_PENALTY_PARAMS = (
    "l1_ratio", "task_graph", "gamma", "beta_ratio", "n_clusters", "task_tree",
)  # fmt: skip


def cv_grid_params(estimator, composite):
    """The penalty parameters of each point of the second grid (``beta_ratio``
    for composite penalties, else ``l1_ratio``; one point when a scalar),
    validated; and whether that parameter was a list."""
    params = {key: getattr(estimator, key, None) for key in CV_PENALTY_PARAMS}
    grid_name = "beta_ratio" if composite else "l1_ratio"
    grid_param = params[grid_name]
    is_list = grid_param is not None and np.ndim(grid_param) > 0
    values = list(np.atleast_1d(grid_param)) if grid_param is not None else [None]
    low, high = (0, np.inf) if composite else (0, 1)
    for r in values:
        if r is not None and not low <= r <= high:
            raise ValueError(f"{grid_name} values must be in [{low}, {high}], got {r}.")
    return [{**params, grid_name: r} for r in values], is_list


CV_TIE_RTOL = 1e-10


def select_cv_point(estimator, mean, errors, grids, grid_params, is_list):
    """Set ``alpha_`` (and ``l1_ratio_`` / ``beta_ratio_``), ``alphas_`` and
    the per-fold error path at the lowest ``mean`` ``(n_grid, n_alphas)``
    (lower is better); warn at a grid edge. Returns the best point's penalty
    parameters.

    Errors within ``CV_TIE_RTOL`` of the lowest are ties, and a tie goes to
    the first point (the largest alpha of the first grid): a flat stretch of
    the path (e.g. separable classes at small alphas) would otherwise be
    decided by rounding error, and equivalent data (weighted or repeated
    rows) could select different alphas."""
    finite = np.isfinite(mean)
    if not finite.any():
        raise ValueError("No CV fold has a labelled test entry: cannot score the path.")
    lowest = float(np.min(mean[finite]))
    tied = finite & (mean <= lowest + CV_TIE_RTOL * abs(lowest))
    best = int(np.flatnonzero(tied.ravel())[0])
    j, a = np.unravel_index(best, mean.shape)
    estimator.alpha_ = float(grids[j][a])
    warn_grid_edge(a, len(grids[j]), estimator.alpha_)
    best = grid_params[j]
    for key in ("l1_ratio", "beta_ratio"):
        if hasattr(estimator, key) or key == "l1_ratio":
            value = best[key]
            setattr(estimator, key + "_", None if value is None else float(value))
    alphas_ = np.array(grids)
    setattr(estimator, estimator._error_attr, errors if is_list else errors[0])
    estimator.alphas_ = alphas_ if is_list else alphas_[0]
    return best


def warn_grid_edge(index, n_alphas, alpha):
    """Warn when CV picks the first or last ``alpha`` of its grid: the best
    value may lie outside the grid."""
    if n_alphas < 2 or 0 < index < n_alphas - 1:
        return
    largest = index == 0
    hint = (
        "the largest alpha of the grid (with the automatic grid this is "
        "alpha_max: an all-zero model, no feature beats the held-out error of "
        "predicting the intercepts)"
        if largest
        else "the smallest alpha of the grid; pass smaller alphas (or a smaller "
        "eps) to search further"
    )
    warnings.warn(
        f"Cross-validation selected alpha={alpha:.4g}, {hint}.",
        UserWarning,
        stacklevel=4,
    )


_FIT_DOC = """Fit along the alpha path in each CV fold, then refit at the best alpha.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; NaN marks a missing label.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, used in the fits and in the CV errors.
        **params : dict
            Metadata routed to the splitter's ``split`` (``groups`` for
            ``GroupKFold`` and the like). Only with metadata routing enabled
            (``sklearn.set_config(enable_metadata_routing=True)``), as in
            scikit-learn's ``LassoCV``; otherwise passing any raises a
            ``ValueError``.

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
        missing labels, ``KFold`` otherwise (as scikit-learn). A splitter
        is given ``y`` as passed to ``fit``, and the metadata routed to it
        (``groups``; see ``fit``).
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
        joblib's verbosity.
    scoring : str or scorer, default=None
        What selects ``alpha``. ``None``: the lowest mean ``mse_path_``
        (raw squared error, where tasks with large targets decide). A metric
        name of :mod:`skmtl.metrics` (``"nmse"``, ``"r2"``, ``"mse"``,
        ``"explained_variance"``) or a scorer from
        :func:`skmtl.metrics.make_multitask_scorer` /
        :func:`~skmtl.metrics.per_task_scorers`: each task is scored on its
        labelled test entries, scores are averaged over tasks with the task
        weights (or the scorer's aggregate, or its one task), and the
        greatest mean over folds wins (errors negated). ``"nmse"`` or
        ``"r2"`` give every task the same say whatever its scale."""

_DROP_IN_PARAMS = """copy_X : bool, default=True
        Accepted for compatibility with scikit-learn: ``X`` is never modified.
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility with scikit-learn (used with
        ``selection="random"`` by :class:`MultiTaskLasso`); the CV paths
        visit features in cyclic order, which does not change the solution.
    selection : {"cyclic", "random"}, default="cyclic"
        Accepted for compatibility with scikit-learn (see ``random_state``)."""

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
    score_path_ : ndarray of the shape of ``mse_path_``
        Only with ``scoring``: the score (greater is better) of every grid
        point and fold.
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
        path (default 1); learned-structure penalties: the ridge strength
        ``beta = beta_ratio * alpha`` ("relationship", "tree": default 0;
        "clustered": ``eta = beta_ratio``, default 0.1). A list is searched,
        as ``l1_ratio`` is for the other penalties.
    n_clusters : int, default=None
        Number of task clusters of "clustered" (None: 2), fixed.
    task_tree : ndarray of shape (n_tasks - 1, 4) or nested lists, \
            default=None
        Task hierarchy of "tree"; None: learned from each fold's training
        rows (and from all rows for the refit), as in
        :class:`skmtl.MultiTaskLinearRegression`.
    {_CV_PARAMS}

    Attributes
    ----------
    {_CV_ATTRS}
    beta_ratio_ : float or None
        The selected ``beta_ratio`` (penalties that read it).
    task_covariance_, cluster_matrix_, task_clusters_, task_tree_, \
task_groups_, task_group_weights_ :
        The learned task structure of the refit ("relationship",
        "clustered", "tree"), as in :class:`skmtl.MultiTaskLinearRegression`.

    Notes
    -----
    The automatic ``alpha`` grid starts at the exact ``alpha_max`` where
    there is one. "relationship" and "clustered" are never zero at a
    finite ``alpha`` (their penalty is quadratic near 0); their grid starts
    where the penalty's largest curvature is 10 times the loss's (``10 L /
    (n_tasks + beta_ratio)`` and ``10 L / (2 (1 + beta_ratio))``, ``L`` the
    loss's Lipschitz constant), where coupled tasks are tied.

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
        n_clusters=None,
        task_tree=None,
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
        scoring=None,
    ):
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.task_graph = task_graph
        self.gamma = gamma
        self.beta_ratio = beta_ratio
        self.n_clusters = n_clusters
        self.task_tree = task_tree
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
        self.scoring = scoring

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        return self._fit_path_cv(X, y, sample_weight, params)

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
    {_DROP_IN_PARAMS}

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
        **_SklearnDropInMixin._drop_in_constraints,
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
    }
    _scalar_zero_intercept = True

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
        scoring=None,
        copy_X=True,
        random_state=None,
        selection="cyclic",
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
        self.scoring = scoring
        self.copy_X = copy_X
        self.random_state = random_state
        self.selection = selection

    def _penalty_name(self):
        return "elasticnet"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        return self._fit_path_cv(X, y, sample_weight, params)

    fit.__doc__ = _FIT_DOC


class MultiTaskLassoCV(_PathCVMixin, BaseMultiTaskRegressor):
    __doc__ = f"""Multi-task Lasso (l21) with ``alpha`` chosen by cross-validation.

    Drop-in for scikit-learn's ``MultiTaskLassoCV`` (same parameters and
    attributes), plus missing labels (NaN in ``Y``), sample weights, task
    weights and sparse ``X``. Penalty ``alpha * sum_j ||W[:, j]||_2``.

    Parameters
    ----------
    {_CV_PARAMS}
    {_DROP_IN_PARAMS}

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

    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        **_SklearnDropInMixin._drop_in_constraints,
    }
    _scalar_zero_intercept = True

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
        scoring=None,
        copy_X=True,
        random_state=None,
        selection="cyclic",
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
        self.scoring = scoring
        self.copy_X = copy_X
        self.random_state = random_state
        self.selection = selection

    def _penalty_name(self):
        return "l21"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        return self._fit_path_cv(X, y, sample_weight, params)

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
    n_clusters : int, default=None
    task_tree : ndarray or nested lists, default=None
        As in :class:`MultiTaskLinearRegressionCV`.
    alphas : array-like or int, default=None
        Grid or its size; ``None``: ``n_alphas`` values from the exact
        ``alpha_max`` (gradient at ``W = 0`` with the log-odds intercepts).
    n_alphas : int, default=100
    eps : float, default=1e-3
    cv : int, cross-validation generator or iterable, default=None
        ``None``: 5 folds; an int: that many folds, from
        :class:`~skmtl.model_selection.TaskStratifiedKFold` stratified by
        class, so every training set holds both classes of every task where
        the data allow it (scikit-learn's classifiers use
        ``StratifiedKFold``). A splitter is given the labels as passed to
        ``fit`` (and the routed ``groups``). A fold whose training rows hold one class
        of a task raises a ``ValueError`` naming the fold, task and class.
    fit_intercept : bool, default=True
    task_weights : array-like of shape (n_tasks,), default=None
    max_iter : int, default=1000
    tol : float, default=1e-4
    n_jobs : int, default=None
    verbose : int, default=0
    scoring : str or scorer, default=None
        What selects ``alpha``. ``None``: the lowest mean
        ``log_loss_path_``. A classification metric name of
        :mod:`skmtl.metrics` (``"roc_auc"``, ``"log_loss"``,
        ``"accuracy"``) or a scorer from
        :func:`skmtl.metrics.make_multitask_scorer`: each task is scored on
        its labelled test entries (ROC AUC on the decision values, log-loss
        on the probabilities), averaged over tasks with the task weights,
        and the greatest mean over folds wins.

    Attributes
    ----------
    alpha_, l1_ratio_, alphas_, coef_, intercept_, n_iter_, dual_gap_, \
cv_n_iter_, n_tasks_, classes_, score_path_ :
        As in :class:`MultiTaskLassoCV` and
        :class:`skmtl.MultiTaskLogisticRegression`.
    beta_ratio_, task_covariance_, cluster_matrix_, task_clusters_, \
task_tree_, task_groups_, task_group_weights_ :
        As in :class:`MultiTaskLinearRegressionCV`.
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
        n_clusters=None,
        task_tree=None,
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
        scoring=None,
    ):
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.task_graph = task_graph
        self.gamma = gamma
        self.beta_ratio = beta_ratio
        self.n_clusters = n_clusters
        self.task_tree = task_tree
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
        self.scoring = scoring

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Fit along the alpha path in each CV fold, then refit at the best alpha.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Two labels per task; NaN or None marks a missing label.
        sample_weight : array-like of shape (n_samples,), default=None
        **params : dict
            Metadata routed to the splitter's ``split`` (``groups``), with
            metadata routing enabled only (see
            :meth:`MultiTaskLassoCV.fit`).

        Returns
        -------
        self : object
        """
        return self._fit_path_cv(X, y, sample_weight, params)
