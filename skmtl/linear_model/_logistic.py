"""Multi-task logistic regression: one binary problem per task, shared penalty."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._dask import any_dask
from .._solvers.datafits import Logistic
from .._validation import make_task_data, validate_X
from ..metrics import accuracy_score
from ._base import fit_penalized
from ._regression import PENALTY_PARAM_CONSTRAINTS


class MultiTaskLogisticRegression(ClassifierMixin, BaseEstimator):
    """Multi-task logistic regression with a structured penalty.

    Each task is its own binary classification problem (any two label values
    per task); the tasks share a penalty on ``W`` of shape
    ``(n_tasks, n_features)``. Minimises

    ``sum_t w_t / n_t * sum_{i labelled for t} s_i log(1 + exp(-y_it f_it))
    + penalty(W)``, with ``f_it = x_i.w_t + b_t`` and ``y_it`` in {-1, +1}
    (the second of the task's sorted classes is +1).

    Parameters
    ----------
    penalty : str or Penalty subclass, default="l21"
        As in :class:`MultiTaskLinearRegression`: "l21", "l1",
        "elasticnet", "sparse_group", "trace", "graph", the non-convex
        "mcp", "scad", "capped_l1", the composite "dirty", "robust",
        "sparse_low_rank", and the learned task structures "relationship",
        "clustered", "tree".
    alpha : float, default=0.01
        Regularisation strength. With ``penalty="l1"`` each task is
        scikit-learn's ``LogisticRegression`` with ``l1_ratio=1`` and
        ``C = 1 / (n_t * alpha)``. The default 0.01 corresponds to
        scikit-learn's default ``C=1`` on 100 samples per task (the loss
        here is averaged per task, scikit-learn's is summed): a useful model
        on standardised features (``alpha=1`` would exceed ``alpha_max`` on
        most data and give the all-zero model). A fit that returns all-zero
        coefficients because ``alpha >= alpha_max`` warns.
    l1_ratio : float, default=None
        Mixing parameter for "elasticnet", "sparse_group" (default 0.5) and
        "graph" (default 0).
    task_graph : array-like, sparse matrix or list of edges, default=None
        Task adjacency for ``penalty="graph"`` (default: pull to the mean).
    beta : float, default=None
        Strength of the second part of a composite penalty (None:
        ``alpha``), or the ridge term of "relationship", "tree" (None: 0)
        and "clustered" (None: ``0.1 * alpha``).
    gamma : float, default=None
        Concavity of "mcp" / "scad", or the cap of "capped_l1".
    n_clusters : int, default=None
        Number of task clusters of "clustered" (None: 2).
    task_tree : ndarray of shape (n_tasks - 1, 4) or nested lists, \
            default=None
        Task hierarchy of "tree" (None: learned, as in
        :class:`MultiTaskLinearRegression`).
    fit_intercept : bool, default=True
        One unpenalised intercept per task.
    task_weights : array-like of shape (n_tasks,), default=None
        Weight of each task's loss.
    solver : {"auto", "fista", "prox_newton"}, default="auto"
        ``"fista"``: accelerated proximal gradient with restart and step
        search, any penalty. ``"prox_newton"``: proximal Newton with working
        sets for feature-separable penalties, each Newton step a weighted
        least-squares problem on the working set solved by block coordinate
        descent; few outer iterations to high precision (``max_iter`` then
        counts them). ``"auto"``: proximal Newton for the convex separable
        penalties (l1, l21, elasticnet, sparse_group, tree), handing over to
        FISTA when the support ``k`` grows to ``k^2 >= 50 n_features``
        (then Newton's weighted Grams cost more than FISTA's iterations;
        ``solver_`` is then ``"prox_newton+fista"``, or ``"fista"`` when
        this is seen at the start); FISTA for the other penalties.
    max_iter : int, default=1000
    tol : float, default=1e-4
        Stop when the duality gap (penalties that have one) is below ``tol``
        times ``sum_t w_t log 2`` (the loss at ``W = 0, b = 0``), or, for
        "graph" and the non-convex penalties, when the proximal-gradient
        residual is below ``tol`` times the gradient norm at zero.
    warm_start : bool, default=False
    verbose : int, default=0

    Attributes
    ----------
    classes_ : list of ndarray of shape (2,)
        The two labels of each task; ``classes_[t][1]`` is the positive one.
        A single array when fitted on a 1-D ``y`` (scikit-learn's
        convention).
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    n_iter_ : int
        Iterations of the last solver run (Newton iterations for
        ``"prox_newton"``).
    solver_ : str
        The solver used (see ``solver``).
    dual_gap_ : float
        NaN for "graph" and the non-convex penalties.
    coef_components_ : dict of str to ndarray of shape (n_tasks, n_features)
        The parts of a composite penalty, summing to ``coef_``.
    task_covariance_, cluster_matrix_, task_clusters_, task_tree_, \
task_groups_, task_group_weights_ :
        The learned task structure of "relationship", "clustered" and
        "tree", as in :class:`MultiTaskLinearRegression`.
    n_tasks_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray
    task_names_ : ndarray
        Only when ``Y`` is a DataFrame.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5))
    >>> Y = np.column_stack([X[:, 0] > 0, X[:, 0] + X[:, 1] > 0]).astype(float)
    >>> Y[:50, 1] = np.nan                       # task 1 lacks 50 labels
    >>> clf = MultiTaskLogisticRegression(alpha=0.01).fit(X, Y)
    >>> clf.predict(X[:3]).shape
    (3, 2)
    >>> bool(clf.score(X, Y) > 0.9)
    True
    >>> [p.shape for p in clf.predict_proba(X[:3])]
    [(3, 2), (3, 2)]
    """

    _parameter_constraints = {
        **PENALTY_PARAM_CONSTRAINTS,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "task_weights": ["array-like", None],
        "solver": [StrOptions({"auto", "fista", "prox_newton"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit one binary logistic model per task with a shared penalty.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Labels, two values per task; NaN (numeric) or None (object)
            marks a missing label.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        if any_dask(X, y, sample_weight):
            from .._dask._fit import unsupported_dask

            unsupported_dask(self)
        X = validate_X(self, X, reset=True)
        Y2, names, classes = Logistic.encode_targets(y, X.shape[0])
        data = make_task_data(Y2, sample_weight, names)
        self._y_is_1d = np.asarray(y).ndim == 1
        self.n_tasks_ = Y2.shape[1]
        self._task_classes = classes
        self.classes_ = classes[0] if self._y_is_1d else classes
        if names is not None:
            self.task_names_ = names
        elif hasattr(self, "task_names_"):
            del self.task_names_
        return fit_penalized(self, X, data, "logistic", self.penalty)

    def _decision(self, X):
        check_is_fitted(self, "coef_")
        X = validate_X(self, X, reset=False)
        if sp.issparse(X):
            D = np.asarray(X @ self.coef_.T)
        else:
            D = np.asarray(X, dtype=np.float64) @ self.coef_.T
        return D + self.intercept_

    def decision_function(self, X):
        """Signed distance to each task's decision boundary.

        Returns
        -------
        D : ndarray of shape (n_samples, n_tasks), or (n_samples,) when fitted
            on a 1-D ``y``. Positive means ``classes_[t][1]``.
        """
        D = self._decision(X)
        return D[:, 0] if self._y_is_1d else D

    def predict_proba(self, X):
        """Class probabilities per task.

        Returns
        -------
        proba : list of ndarray of shape (n_samples, 2), one per task
            (scikit-learn's multi-output convention); a single array when
            fitted on a 1-D ``y``. Columns follow ``classes_[t]``.
        """
        D = self._decision(X)
        out = []
        for t in range(D.shape[1]):
            p = expit(D[:, t])
            out.append(np.column_stack([1.0 - p, p]))
        return out[0] if self._y_is_1d else out

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`."""
        proba = self.predict_proba(X)
        if isinstance(proba, list):
            return [np.log(p) for p in proba]
        return np.log(proba)

    def predict(self, X):
        """Predicted label of every task for every row.

        Returns
        -------
        Y_pred : ndarray of shape (n_samples, n_tasks), or (n_samples,) when
            fitted on a 1-D ``y``. An object array when tasks' labels have
            different types.
        """
        D = self._decision(X)
        cols = [
            self._task_classes[t][(D[:, t] > 0).astype(int)] for t in range(D.shape[1])
        ]
        if self._y_is_1d:
            return cols[0]
        kinds = {c.dtype.kind for c in cols}
        if len(kinds) == 1 and len({c.dtype for c in cols}) == 1:
            return np.column_stack(cols)
        out = np.empty((D.shape[0], D.shape[1]), dtype=object)
        for t, col in enumerate(cols):
            out[:, t] = col
        return out

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of the per-task accuracy on labelled entries.

        Missing labels (NaN or None) are ignored, so this works in
        ``GridSearchCV`` on incomplete ``Y``.
        """
        P = self.predict(X)
        Yt = np.asarray(y, dtype=object)
        return accuracy_score(
            Yt, np.asarray(P, dtype=object), sample_weight=sample_weight
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.classifier_tags.multi_class = False
        tags.input_tags.sparse = True
        return tags
