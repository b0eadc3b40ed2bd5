"""Multi-task logistic regression: one binary problem per task, shared penalty."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._solvers.datafits import Logistic
from .._solvers.design import DesignOperator
from .._solvers.fista import solve_fista
from .._solvers.penalties import PENALTIES
from .._validation import as_float64_X, check_task_weights, make_task_data, validate_X
from ..metrics import accuracy_score
from ..neural_network._labels import encode_task_labels
from ._base import store_solver_result, warm_start_point
from ._regression import make_penalty


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
    penalty : {"l21", "l1", "elasticnet", "sparse_group", "trace", "graph"}, \
            default="l21"
        As in :class:`MultiTaskLinearRegression`.
    alpha : float, default=1.0
        Regularisation strength. With ``penalty="l1"`` each task is
        scikit-learn's ``LogisticRegression`` with ``l1_ratio=1`` and
        ``C = 1 / (n_t * alpha)``.
    l1_ratio : float, default=None
        Mixing parameter for "elasticnet", "sparse_group" (default 0.5) and
        "graph" (default 0).
    task_graph : array-like, sparse matrix or list of edges, default=None
        Task adjacency for ``penalty="graph"`` (default: pull to the mean).
    fit_intercept : bool, default=True
        One unpenalised intercept per task.
    task_weights : array-like of shape (n_tasks,), default=None
        Weight of each task's loss.
    solver : {"auto", "fista"}, default="auto"
        Accelerated proximal gradient with restart and step search.
    max_iter : int, default=1000
    tol : float, default=1e-4
        Stop when the duality gap (penalties that have one) is below ``tol``
        times ``sum_t w_t log 2`` (the loss at ``W = 0, b = 0``), or for
        "graph" when the proximal-gradient residual is below ``tol`` times
        the gradient norm at zero.
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
    dual_gap_ : float
        NaN for "graph".
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
        "penalty": [StrOptions(set(PENALTIES))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "task_graph": ["array-like", "sparse matrix", list, None],
        "fit_intercept": ["boolean"],
        "task_weights": ["array-like", None],
        "solver": [StrOptions({"auto", "fista"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        penalty="l21",
        alpha=1.0,
        *,
        l1_ratio=None,
        task_graph=None,
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
        X = validate_X(self, X, reset=True)
        task_names = getattr(y, "columns", None)
        y_is_1d = np.asarray(y).ndim == 1
        codes, classes = encode_task_labels(y)
        if codes.shape[0] != X.shape[0]:
            raise ValueError(
                f"X and y have inconsistent numbers of samples: X has "
                f"{X.shape[0]} rows, y has {codes.shape[0]}."
            )
        for t, cls in enumerate(classes):
            if cls.size != 2:
                raise ValueError(
                    "Only binary classification is supported. "
                    f"MultiTaskLogisticRegression is binary per task, but task {t} "
                    f"has {cls.size} classes {list(cls)[:5]}. Use "
                    "MultiTaskMLPClassifier for multiclass tasks."
                )
        T = codes.shape[1]
        names = (
            None
            if task_names is None
            else np.asarray([str(c) for c in task_names], dtype=object)
        )
        data = make_task_data(2.0 * codes - 1.0, sample_weight, names)
        self._y_is_1d = y_is_1d
        self.n_tasks_ = T
        self._task_classes = classes
        self.classes_ = classes[0] if y_is_1d else classes
        if names is not None:
            self.task_names_ = names
        elif hasattr(self, "task_names_"):
            del self.task_names_

        X = as_float64_X(X)
        task_weights = check_task_weights(self.task_weights, T)
        c = data.entry_weights(task_weights)
        penalty = make_penalty(
            self.penalty, self.alpha, self.l1_ratio, self.task_graph, T
        )
        op = DesignOperator(X, data.row_ptr, data.entry_row, data.entry_task, T)
        datafit = Logistic(data.y, c, data.entry_task, T)
        W0, b0 = warm_start_point(self, T, X.shape[1])
        res = solve_fista(
            op,
            datafit,
            penalty,
            W0,
            b0,
            fit_intercept=self.fit_intercept,
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
        )
        store_solver_result(self, res, self.fit_intercept)
        return self

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
