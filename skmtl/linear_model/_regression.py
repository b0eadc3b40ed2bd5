"""Multi-task linear regression with structured penalties.

``MultiTaskLinearRegression`` picks its penalty by name; ``MultiTaskLasso`` and
``MultiTaskElasticNet`` are drop-in replacements for scikit-learn's, which
also accept missing labels (NaN in ``Y``), ``sample_weight`` and sparse ``X``.
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .._dask import any_dask
from .._solvers.penalties import PENALTIES
from .._solvers.penalties._base import Penalty
from ._base import BaseMultiTaskRegressor, fit_penalized

#: Estimator parameters that only some penalties read (each penalty declares
#: the ones it uses; see ``skmtl.penalties``).
PENALTY_PARAM_CONSTRAINTS = {
    "penalty": [StrOptions(set(PENALTIES)), callable],
    "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
    "task_graph": ["array-like", "sparse matrix", list, None],
    "beta": [Interval(Real, 0, None, closed="left"), None],
    "gamma": [Interval(Real, 0, None, closed="neither"), None],
    "n_clusters": [Interval(Integral, 1, None, closed="left"), None],
    "task_tree": ["array-like", list, None],
}


class _PenalizedLinearRegression(BaseMultiTaskRegressor):
    """Shared ``fit`` of the penalised squared-loss models."""

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "task_weights": ["array-like", None],
        "solver": [StrOptions({"auto", "bcd", "exact", "fista"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def _penalty_name(self):
        return self.penalty

    def _first_gradient_in_validation(self, sample_weight):
        """Should validation's pass over ``X`` also compute ``X^T Y``? Block
        coordinate descent reads it as its first gradient (at ``W = 0``,
        every label present, no sample weights); other solvers would not."""
        name = self._penalty_name()
        return bool(
            sample_weight is None
            and self.solver in ("auto", "bcd")
            and isinstance(name, str)
            and getattr(PENALTIES.get(name), "separable", False)
            and not (self.warm_start and hasattr(self, "coef_"))
        )

    def _finite_check_in_solver(self):
        """May validation leave the finite check of ``X`` to the solver? For
        a penalty that reads nothing of ``X`` before the solver (no
        ``setup``) and that FISTA solves (not feature-separable, with a duality
        gap): on per-task data the per-task Grams' pass over ``X`` then
        serves as the check (:meth:`~skmtl._solvers.dispatch.ProblemSolver.solve`),
        else the solver checks ``X`` before its first use."""
        name = self._penalty_name()
        cls = PENALTIES.get(name) if isinstance(name, str) else None
        return bool(
            cls is not None
            and cls.setup is Penalty.setup
            and not cls.separable
            and cls.has_gap
            and cls.n_parts == 1
        )

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
        targets_product = self._first_gradient_in_validation(sample_weight)
        X, _, data, stats = self._validate_fit_data(
            X, y, sample_weight, return_column_stats=True,
            targets_product=targets_product,
            defer_finite=not targets_product and self._finite_check_in_solver(),
        )  # fmt: skip
        return fit_penalized(
            self, X, data, "squared", self._penalty_name(), column_stats=stats
        )


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

        Learned task structure (which tasks are related is learned with
        ``W``; see the user guide's "Learning how tasks are related"):

        - ``"relationship"``: task-relationship learning (MTRL, Zhang &
          Yeung 2010), ``alpha/2 min_Omega tr(W^T Omega^{-1} W) + beta/2
          ||W||_F^2`` over task covariances ``Omega`` (PSD, trace 1), which
          equals ``alpha/2 ||W||_*^2 + beta/2 ||W||_F^2``; the optimal
          ``Omega = (W W^T)^{1/2} / tr((W W^T)^{1/2})`` is
          ``task_covariance_``. Exact prox, FISTA.
        - ``"clustered"``: convex clustered MTL (Zhou, Chen & Ye 2011;
          MALSAR's ``Least_CMTL``), ``alpha eta (1 + eta) min_M tr(W^T (eta
          I + M)^{-1} W)`` over ``tr M = n_clusters``, ``0 <= M <= I``, with
          ``eta = beta / alpha``. The optimal ``M`` is ``cluster_matrix_``
          and its hard clustering ``task_clusters_``. Smooth; FISTA.
        - ``"tree"``: tree-guided group lasso (Kim & Xing 2010), ``alpha
          sum_j sum_v weight_v ||W[G_v, j]||_2 + beta/2 ||W||_F^2`` over the
          nodes ``v`` of the task tree ``task_tree`` (``G_v`` the tasks
          under ``v``, leaves included; Kim & Xing's weights from the node
          heights). Block coordinate descent (squared loss) or FISTA, exact
          prox.

        A :class:`skmtl.penalties.Penalty` subclass defines a new penalty.
    alpha : float, default=0.01
        Regularisation strength, ``>= 0``. The loss is averaged over each
        task's samples (scikit-learn's ``Lasso`` scaling), so the default
        0.01 is a light penalty on standardised features (scikit-learn's
        ``Lasso`` and ``MultiTaskLasso`` default to 1.0, which on
        standardised data with unit-variance targets often exceeds
        ``alpha_max`` and returns the all-zero model; :class:`MultiTaskLasso`
        keeps 1.0 as a drop-in). A fit that returns all-zero coefficients
        because ``alpha >= alpha_max`` warns.
    l1_ratio : float, default=None
        Mixing parameter in ``[0, 1]`` for "elasticnet", "sparse_group"
        (default 0.5) and "graph" (default 0: no l1 part). Ignored otherwise.
    task_graph : array-like of shape (n_tasks, n_tasks), sparse matrix or \
            list of edges, default=None
        Symmetric non-negative task adjacency for ``penalty="graph"``.
        Ignored otherwise.
    beta : float, default=None
        Strength of the second part of a composite penalty ("dirty",
        "robust", "sparse_low_rank"; None means ``beta = alpha``), or of the
        ridge term of "relationship" and "tree" (None: 0) and "clustered"
        (MALSAR's ``rho2``, must be > 0; None: ``0.1 * alpha``). Ignored
        otherwise.
    gamma : float, default=None
        Concavity of "mcp" (default 3) and "scad" (default 3.7, must be
        > 2), or the cap of "capped_l1" (default 1, in coefficient units).
        Ignored otherwise.
    n_clusters : int, default=None
        Number of task clusters ``k`` of "clustered" (``1 <= k <=
        n_tasks``; None: 2, or 1 for a single task). Ignored otherwise.
    task_tree : ndarray of shape (n_tasks - 1, 4) or nested lists, \
            default=None
        Task hierarchy of "tree": a scipy linkage matrix, or nested lists of
        task indices (``[[0, 1, 2], [[3, 4], 5]]``). None: learned from the
        data before the fit: an independent ridge fit of every task
        (strength ``0.1 L``, ``L`` the largest per-task curvature of the
        loss), then scipy's average linkage on the correlation distance
        ``1 - corr(w_s, w_t)`` between the tasks' coefficient vectors
        (learned once per path or CV fold). Ignored otherwise.
    fit_intercept : bool, default=True
        Fit one unpenalised intercept per task.
    task_weights : array-like of shape (n_tasks,), default=None
        Positive weight ``w_t`` of each task's loss (default all 1).
    solver : {"auto", "bcd", "exact", "fista"}, default="auto"
        ``"bcd"``: working-set block coordinate descent (feature-separable
        penalties: l1, l21, elasticnet, sparse_group, the non-convex rows,
        tree). ``"exact"``: the graph penalty with ``l1_ratio=0`` is
        quadratic, and the fit is one linear solve on per-task Gram
        matrices (that of :class:`MultiTaskRidge` with ``alpha=0``,
        ``coupling=alpha``; dense ``X``). ``"fista"``:
        accelerated proximal gradient (any penalty). ``"auto"`` uses bcd or
        the exact solve when they apply, FISTA otherwise.
    max_iter : int, default=1000
        Maximum number of epochs (bcd) or iterations (fista).
    tol : float, default=1e-4
        Stop when the duality gap is below ``tol`` times ``sum_e c_e y_e^2``
        (as scikit-learn does), or, for penalties without a gap ("graph",
        "mcp", "scad", "capped_l1", "relationship", "clustered", "tree"),
        when the optimality residual
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
        Duality gap at the solution (NaN for "graph", the non-convex and the
        learned-structure penalties, which stop on the optimality residual).
    coef_components_ : dict of str to ndarray of shape (n_tasks, n_features)
        The parts of a composite penalty, summing to ``coef_``; only for
        "dirty", "robust" and "sparse_low_rank".
    task_covariance_ : ndarray of shape (n_tasks, n_tasks)
        Only for "relationship": the learned task covariance ``Omega``
        (trace 1; :func:`skmtl.inspection.task_structure` gives it as a
        correlation matrix).
    cluster_matrix_ : ndarray of shape (n_tasks, n_tasks)
        Only for "clustered": the learned relaxed cluster matrix ``M``
        (the relaxation of ``F (F^T F)^{-1} F^T`` for a cluster assignment
        ``F``).
    task_clusters_ : ndarray of shape (n_tasks,)
        Only for "clustered": hard cluster labels from ``cluster_matrix_``:
        k-means (10 starts, seed 0) on the rows of its top ``n_clusters``
        eigenvectors normalised to unit length; numbered by first
        appearance.
    task_tree_ : ndarray of shape (n_tasks - 1, 4) or list
        Only for "tree": the tree used (the learned linkage matrix, or
        ``task_tree`` as given).
    task_groups_ : list of ndarray
        Only for "tree": the tasks of every node, leaves first.
    task_group_weights_ : ndarray of shape (n_nodes,)
        Only for "tree": the weight of every node (each task's weights sum
        to 1; the root's is 0).
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

    Tasks drawn from two groups; the clustered model finds them:

    >>> centres = rng.normal(size=(2, 6))
    >>> W = centres[[0, 0, 1, 1]] + 0.05 * rng.normal(size=(4, 6))
    >>> Y = X @ W.T + 0.1 * rng.normal(size=(100, 4))
    >>> model = MultiTaskLinearRegression("clustered", alpha=0.1, n_clusters=2)
    >>> model.fit(X, Y).task_clusters_
    array([0, 0, 1, 1])
    """

    _parameter_constraints = {
        **_PenalizedLinearRegression._parameter_constraints,
        **PENALTY_PARAM_CONSTRAINTS,
    }

    def __init__(
        self,
        penalty="l21",
        alpha=0.01,
        *,
        l1_ratio=None,
        task_graph=None,
        beta=None,
        gamma=None,
        n_clusters=None,
        task_tree=None,
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
        self.n_clusters = n_clusters
        self.task_tree = task_tree
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.verbose = verbose


class _SklearnDropInMixin:
    """What scikit-learn's ``MultiTaskLasso`` / ``MultiTaskElasticNet`` have
    beyond the shared fit: ``selection``, ``random_state``, ``copy_X``,
    ``sparse_coef_``, ``path`` and a scalar ``intercept_ = 0.0`` without an
    intercept."""

    _scalar_zero_intercept = True
    _drop_in_constraints = {
        "selection": [StrOptions({"cyclic", "random"})],
        "random_state": ["random_state"],
        "copy_X": ["boolean"],
    }

    @property
    def sparse_coef_(self):
        """``coef_`` as a ``scipy.sparse.csr_matrix``."""
        return sp.csr_matrix(self.coef_)

    @classmethod
    def path(
        cls, X, y, *, l1_ratio=None, eps=1e-3, n_alphas=100, alphas=None,
        precompute="auto", Xy=None, copy_X=True, coef_init=None, verbose=False,
        return_n_iter=False, positive=False, check_input=True, **params,
    ):  # fmt: skip
        """Coefficients along a path of ``alpha`` (scikit-learn's ``path``).

        As in scikit-learn, ``l1_ratio`` defaults to 0.5 for both classes
        (scikit-learn's ``MultiTaskLasso.path`` is its ``enet_path``); pass
        ``l1_ratio=1.0`` for the ``MultiTaskLasso`` path.

        As scikit-learn's ``enet_path`` for multi-output ``y``: no intercept
        (center the data first), ``coefs`` of shape ``(n_tasks, n_features,
        n_alphas)``. Missing labels (NaN in ``y``) and sparse ``X`` work;
        ``precompute``, ``Xy``, ``coef_init`` and ``check_input`` are
        accepted for compatibility and ignored; ``positive=True`` is not
        supported. Other keyword arguments: ``tol``, ``max_iter``,
        ``sample_weight``, ``solver``.

        Returns
        -------
        alphas : ndarray of shape (n_alphas,)
        coefs : ndarray of shape (n_tasks, n_features, n_alphas)
        dual_gaps : ndarray of shape (n_alphas,)
        n_iters : ndarray of shape (n_alphas,)
            Only with ``return_n_iter=True``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmtl import MultiTaskLasso
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(30, 4))
        >>> Y = X[:, :2] @ rng.normal(size=(2, 3))
        >>> alphas, coefs, gaps = MultiTaskLasso.path(X, Y, l1_ratio=1.0, n_alphas=5)
        >>> coefs.shape
        (3, 4, 5)
        """
        from ..model_selection import regularization_path

        if positive:
            raise ValueError("positive=True is not supported by skmtl.")
        if l1_ratio is None:
            # scikit-learn's MultiTaskLasso.path is enet_path (l1_ratio=0.5 by
            # default) too: kept for parity; pass l1_ratio=1.0 for the l21 path
            l1_ratio = 0.5
        known = ("tol", "max_iter", "sample_weight", "solver")
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise TypeError(f"Unexpected keyword arguments {unknown}.")
        res = regularization_path(
            X, y, "elasticnet" if l1_ratio < 1 else "l21", alphas=alphas,
            n_alphas=n_alphas, eps=eps,
            l1_ratio=l1_ratio if l1_ratio < 1 else None, fit_intercept=False,
            verbose=int(verbose), **params,
        )  # fmt: skip
        coefs = np.transpose(res.coefs, (1, 2, 0))
        if np.ndim(y) == 1:
            coefs = coefs[0]
        out = (res.alphas, coefs, res.dual_gaps)
        return (*out, res.n_iters) if return_n_iter else out


class MultiTaskElasticNet(_SklearnDropInMixin, _PenalizedLinearRegression):
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
    random_state : int, RandomState instance or None, default=None
        Seed of the feature order when ``selection="random"``.
    selection : {"cyclic", "random"}, default="cyclic"
        Order in which block coordinate descent visits the features in each
        epoch ("random": a fresh permutation per epoch, as scikit-learn).
    copy_X : bool, default=True
        Accepted for compatibility with scikit-learn: ``X`` is never
        modified (intercepts are handled without centring ``X`` in place).
    task_weights : array-like of shape (n_tasks,), default=None
    solver : {"auto", "bcd", "fista"}, default="auto"
    verbose : int, default=0

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        float32 when ``X`` is float32 (computed in float64).
    intercept_ : ndarray of shape (n_tasks,) or float
        ``0.0`` when ``fit_intercept=False``, as in scikit-learn.
    sparse_coef_ : scipy.sparse.csr_matrix
        ``coef_`` as a sparse matrix.
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
        **_SklearnDropInMixin._drop_in_constraints,
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
        random_state=None,
        selection="cyclic",
        copy_X=True,
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
        self.random_state = random_state
        self.selection = selection
        self.copy_X = copy_X
        self.task_weights = task_weights
        self.solver = solver
        self.verbose = verbose

    def _penalty_name(self):
        return "elasticnet"


class MultiTaskLasso(_SklearnDropInMixin, _PenalizedLinearRegression):
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
    random_state : int, RandomState instance or None, default=None
        Seed of the feature order when ``selection="random"``.
    selection : {"cyclic", "random"}, default="cyclic"
        Order in which block coordinate descent visits the features in each
        epoch ("random": a fresh permutation per epoch, as scikit-learn).
    copy_X : bool, default=True
        Accepted for compatibility with scikit-learn: ``X`` is never
        modified (intercepts are handled without centring ``X`` in place).
    task_weights : array-like of shape (n_tasks,), default=None
    solver : {"auto", "bcd", "fista"}, default="auto"
    verbose : int, default=0

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        float32 when ``X`` is float32 (computed in float64).
    intercept_ : ndarray of shape (n_tasks,) or float
        ``0.0`` when ``fit_intercept=False``, as in scikit-learn.
    sparse_coef_ : scipy.sparse.csr_matrix
        ``coef_`` as a sparse matrix.
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

    _parameter_constraints = {
        **_PenalizedLinearRegression._parameter_constraints,
        **_SklearnDropInMixin._drop_in_constraints,
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        random_state=None,
        selection="cyclic",
        copy_X=True,
        task_weights=None,
        solver="auto",
        verbose=0,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.selection = selection
        self.copy_X = copy_X
        self.task_weights = task_weights
        self.solver = solver
        self.verbose = verbose

    def _penalty_name(self):
        return "l21"
