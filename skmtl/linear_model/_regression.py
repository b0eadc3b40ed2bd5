"""Multi-task linear regression with structured penalties.

``MultiTaskLinearRegression`` picks its penalty by name; ``MultiTaskLasso`` and
``MultiTaskElasticNet`` are drop-in replacements for scikit-learn's, which
also accept missing labels (NaN in ``Y``), ``sample_weight`` and sparse ``X``.
"""

from numbers import Integral, Real

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .._dask import any_dask
from .._solvers.penalties import PENALTIES
from ._base import BaseMultiTaskRegressor, fit_penalized

#: Estimator parameters that only some penalties read (each penalty declares
#: the ones it uses; see ``skmtl.penalties``).
PENALTY_PARAM_CONSTRAINTS = {
    "penalty": [StrOptions(set(PENALTIES)), callable],
    "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
    "task_graph": ["array-like", "sparse matrix", list, None],
    "beta": [Interval(Real, 0, None, closed="left"), None],
    "gamma": [Interval(Real, 0, None, closed="neither"), None],
}


class _PenalizedLinearRegression(BaseMultiTaskRegressor):
    """Shared ``fit`` of the penalised squared-loss models."""

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "task_weights": ["array-like", None],
        "solver": [StrOptions({"auto", "bcd", "fista"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def _penalty_name(self):
        return self.penalty

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 input is computed in float64.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; NaN marks a missing label. A DataFrame gives
            ``task_names_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights. They replace counts in each task's normalisation
            ``n_t``, so integer weights equal repeating rows.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if any_dask(X, y, sample_weight):  # statistics reduced on the cluster
            from .._dask._fit import fit_penalized_dask

            return fit_penalized_dask(self, X, y, sample_weight, self._penalty_name())
        X, _, data = self._validate_fit_data(X, y, sample_weight)
        return fit_penalized(self, X, data, "squared", self._penalty_name())


class MultiTaskLinearRegression(_PenalizedLinearRegression):
    """Multi-task linear regression with a structured penalty.

    Minimises, over ``W`` of shape ``(n_tasks, n_features)`` and per-task
    intercepts ``b``,

    ``sum_t w_t / n_t * sum_{i labelled for t} s_i / 2 (y_it - x_i.w_t - b_t)^2
    + penalty(W)``

    where NaN in ``Y`` marks a missing label, ``s_i`` are sample weights,
    ``n_t`` the task's total weight and ``w_t`` the ``task_weights``. With
    every label present this is scikit-learn's ``1/(2n) ||Y - X W^T||_F^2``.

    Parameters
    ----------
    penalty : str or Penalty subclass, default="l21"
        Convex, feature-separable (block coordinate descent):

        - ``"l21"``: ``alpha * sum_j ||W[:, j]||_2``, joint feature selection
          (scikit-learn's ``MultiTaskLasso``).
        - ``"l1"``: ``alpha * ||W||_1``, independent sparsity per task (one
          Lasso per task).
        - ``"elasticnet"``: ``alpha * l1_ratio * ||W||_21 + alpha * (1 -
          l1_ratio) / 2 * ||W||_F^2`` (scikit-learn's
          ``MultiTaskElasticNet``).
        - ``"sparse_group"``: ``alpha * (l1_ratio ||W||_1 + (1 - l1_ratio)
          ||W||_21)``: shared features, sparse within each feature.

        Convex, not separable (FISTA):

        - ``"trace"``: ``alpha * ||W||_*`` (nuclear norm), low-rank ``W``:
          tasks share a subspace.
        - ``"graph"``: ``alpha * (1 - l1_ratio) / 2 * sum_{s<t} A_st
          ||w_s - w_t||^2 + alpha * l1_ratio * ||W||_1``, with ``A`` the
          ``task_graph`` (default: every task pulled to the mean).

        Non-convex rows (less shrinkage of large coefficients than l21; the
        solver finds a stationary point):

        - ``"mcp"``: ``sum_j r(||W[:, j]||_2)`` with the minimax concave
          penalty ``r(u) = alpha u - u^2 / (2 gamma)`` for ``u <= gamma
          alpha``, ``gamma alpha^2 / 2`` beyond.
        - ``"scad"``: the SCAD penalty of each row's norm (``gamma > 2``).
        - ``"capped_l1"``: ``alpha * sum_j min(||W[:, j]||_1, gamma)``
          (MALSAR's capped-l1,l1 multi-stage model).

        Composite, ``coef_ = P + Q`` (parts in ``coef_components_``):

        - ``"dirty"``: ``alpha ||P||_21 + beta ||Q||_1``: features shared by
          all tasks (``"shared"``) plus task-specific ones (``"specific"``).
        - ``"robust"``: ``alpha ||L||_* + beta sum_t ||S[t, :]||_2``: a
          low-rank part (``"low_rank"``) and whole outlier tasks
          (``"outlier"``).
        - ``"sparse_low_rank"``: ``alpha ||P||_1 + beta ||Q||_*``
          (``"sparse"`` and ``"low_rank"``).

        A :class:`skmtl.penalties.Penalty` subclass defines a new penalty.
    alpha : float, default=1.0
        Regularisation strength, ``>= 0``.
    l1_ratio : float, default=None
        Mixing parameter in ``[0, 1]`` for "elasticnet", "sparse_group"
        (default 0.5) and "graph" (default 0: no l1 part). Ignored otherwise.
    task_graph : array-like of shape (n_tasks, n_tasks), sparse matrix or \
            list of edges, default=None
        Symmetric non-negative task adjacency for ``penalty="graph"``.
        Ignored otherwise.
    beta : float, default=None
        Strength of the second part of a composite penalty ("dirty",
        "robust", "sparse_low_rank"); None means ``beta = alpha``. Ignored
        otherwise.
    gamma : float, default=None
        Concavity of "mcp" (default 3) and "scad" (default 3.7, must be
        > 2), or the cap of "capped_l1" (default 1, in coefficient units).
        Ignored otherwise.
    fit_intercept : bool, default=True
        Fit one unpenalised intercept per task.
    task_weights : array-like of shape (n_tasks,), default=None
        Non-negative weight ``w_t`` of each task's loss (default all 1).
    solver : {"auto", "bcd", "fista"}, default="auto"
        ``"bcd"``: working-set block coordinate descent (feature-separable
        penalties: l1, l21, elasticnet, sparse_group). ``"fista"``:
        accelerated proximal gradient (any penalty). ``"auto"`` uses bcd when
        it applies.
    max_iter : int, default=1000
        Maximum number of epochs (bcd) or iterations (fista).
    tol : float, default=1e-4
        Stop when the duality gap is below ``tol`` times ``sum_e c_e y_e^2``
        (as scikit-learn does), or, for penalties without a gap ("graph",
        "mcp", "scad", "capped_l1"), when the optimality residual
        (proximal-gradient step or stationarity violation) is below ``tol``
        times the gradient norm at zero.
    warm_start : bool, default=False
        Start from the previous solution.
    verbose : int, default=0
        Print progress.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    n_iter_ : int
        Epochs (bcd: passes over the working set, in its Gram space when the
        working set is solved there) or iterations (fista).
    dual_gap_ : float
        Duality gap at the solution (NaN for "graph" and the non-convex
        penalties, which stop on the stationarity residual).
    coef_components_ : dict of str to ndarray of shape (n_tasks, n_features)
        The parts of a composite penalty, summing to ``coef_``; only for
        "dirty", "robust" and "sparse_low_rank".
    solver_ : str
        The solver used.
    n_tasks_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when ``X`` has string column names.
    task_names_ : ndarray of shape (n_tasks,)
        Only when ``Y`` is a DataFrame.

    See Also
    --------
    MultiTaskLasso, MultiTaskElasticNet

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskLinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 6))
    >>> W = np.array([[1.0, 2, 0, 0, 0, 0], [1.5, 1, 0, 0, 0, 0]])
    >>> Y = X @ W.T + 0.01 * rng.normal(size=(100, 2))
    >>> Y[:30, 1] = np.nan                      # task 1 lacks 30 labels
    >>> model = MultiTaskLinearRegression(penalty="l21", alpha=0.05).fit(X, Y)
    >>> np.flatnonzero(np.abs(model.coef_).sum(axis=0))
    array([0, 1])
    """

    _parameter_constraints = {
        **_PenalizedLinearRegression._parameter_constraints,
        **PENALTY_PARAM_CONSTRAINTS,
    }

    def __init__(
        self,
        penalty="l21",
        alpha=1.0,
        *,
        l1_ratio=None,
        task_graph=None,
        beta=None,
        gamma=None,
        fit_intercept=True,
        task_weights=None,
        solver="auto",
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        verbose=0,
    ):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.task_graph = task_graph
        self.beta = beta
        self.gamma = gamma
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose


class MultiTaskElasticNet(_PenalizedLinearRegression):
    """Multi-task elastic net, drop-in for scikit-learn's, with missing labels.

    Minimises ``1/(2 n_t)`` weighted squared error per task (NaN = missing
    label) plus ``alpha * l1_ratio * ||W||_21 + 0.5 * alpha * (1 - l1_ratio)
    * ||W||_F^2``. With all labels present this is exactly scikit-learn's
    ``MultiTaskElasticNet`` objective.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength.
    l1_ratio : float, default=0.5
        Mix of l21 (1) and ridge (0).
    fit_intercept : bool, default=True
    max_iter : int, default=1000
    tol : float, default=1e-4
        Duality-gap tolerance relative to ``sum_e c_e y_e^2``.
    warm_start : bool, default=False
    task_weights : array-like of shape (n_tasks,), default=None
    solver : {"auto", "bcd", "fista"}, default="auto"
    verbose : int, default=0

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    n_iter_ : int
    dual_gap_ : float
    n_tasks_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskElasticNet
    >>> X = [[0, 0], [1, 1], [2, 2]]
    >>> Y = [[0, 0], [1, np.nan], [2, 2]]
    >>> model = MultiTaskElasticNet(alpha=0.1).fit(X, Y)
    >>> model.coef_.shape
    (2, 2)
    """

    _parameter_constraints = {
        **_PenalizedLinearRegression._parameter_constraints,
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        l1_ratio=0.5,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        task_weights=None,
        solver="auto",
        verbose=0,
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.task_weights = task_weights
        self.solver = solver
        self.verbose = verbose

    def _penalty_name(self):
        return "elasticnet"


class MultiTaskLasso(_PenalizedLinearRegression):
    """Multi-task Lasso (l21, joint feature selection), drop-in for scikit-learn's.

    Minimises ``1/(2 n_t)`` weighted squared error per task (NaN = missing
    label) plus ``alpha * sum_j ||W[:, j]||_2``. With all labels present this
    is exactly scikit-learn's ``MultiTaskLasso`` objective.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength.
    fit_intercept : bool, default=True
    max_iter : int, default=1000
    tol : float, default=1e-4
        Duality-gap tolerance relative to ``sum_e c_e y_e^2``.
    warm_start : bool, default=False
    task_weights : array-like of shape (n_tasks,), default=None
    solver : {"auto", "bcd", "fista"}, default="auto"
    verbose : int, default=0

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    n_iter_ : int
    dual_gap_ : float
    n_tasks_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskLasso
    >>> X = [[0, 1], [1, 2], [2, 4], [3, 5]]
    >>> Y = [[0, 0], [1, np.nan], [2, 2], [3, np.nan]]
    >>> model = MultiTaskLasso(alpha=0.1).fit(X, Y)
    >>> model.predict([[1, 1]]).shape
    (1, 2)
    """

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        task_weights=None,
        solver="auto",
        verbose=0,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.task_weights = task_weights
        self.solver = solver
        self.verbose = verbose

    def _penalty_name(self):
        return "l21"
