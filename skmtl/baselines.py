"""Single-task baselines that read the multi-task data format.

Any multi-task result needs two comparisons: each task alone
(:class:`IndependentTasksRegressor`) and all tasks as one
(:class:`PooledTasksRegressor`). Both take one ``X`` and one ``Y`` with NaN
for missing labels, so they drop into the same ``GridSearchCV`` as the
multi-task models.
"""

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from ._validation import check_targets, make_task_data, validate_X
from .metrics import r2_score


class _TaskMetaRegressor(RegressorMixin, BaseEstimator):
    def __init__(self, estimator=None):
        self.estimator = estimator

    def _base(self):
        if self.estimator is None:
            from sklearn.linear_model import Ridge

            return Ridge()
        return self.estimator

    def _setup(self, X, y, sample_weight):
        X = validate_X(self, X, reset=True)
        Y2, is_1d, names = check_targets(y, X.shape[0])
        data = make_task_data(Y2, sample_weight, names)
        self.n_tasks_ = Y2.shape[1]
        self._y_is_1d = is_1d
        if names is not None:
            self.task_names_ = names
        return X, Y2, data

    def _fit_one(self, X, y, sw):
        est = clone(self._base())
        if sw is None:
            return est.fit(X, y)
        return est.fit(X, y, sample_weight=sw)

    def predict(self, X):
        """Predict every task; ``(n_samples, n_tasks)`` (1-D for a 1-D fit)."""
        check_is_fitted(self)
        X = validate_X(self, X, reset=False)
        P = self._predict_all(X)
        return P[:, 0] if self._y_is_1d else P

    def score(self, X, y, sample_weight=None):
        """Mean per-task R² over labelled entries (NaN in ``y`` ignored)."""
        Y2, _, _ = check_targets(y)
        P = self.predict(X).reshape(Y2.shape[0], -1)
        return r2_score(Y2, P, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = True
        return tags


class IndependentTasksRegressor(_TaskMetaRegressor):
    """One clone of ``estimator`` per task, fitted on that task's labelled rows.

    The "no sharing" baseline of multi-task learning.

    Parameters
    ----------
    estimator : regressor, default=None
        Single-output regressor; ``Ridge()`` when None.

    Attributes
    ----------
    estimators_ : list of fitted regressors, one per task
    n_tasks_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skmtl.baselines import IndependentTasksRegressor
    >>> X = np.arange(8.0).reshape(-1, 1)
    >>> Y = np.column_stack([2 * X[:, 0], -X[:, 0]])
    >>> Y[::2, 1] = np.nan
    >>> model = IndependentTasksRegressor(LinearRegression()).fit(X, Y)
    >>> np.round(model.predict([[10.0]]), 6)
    array([[ 20., -10.]])
    """

    def fit(self, X, y, sample_weight=None):
        """Fit one model per task on its labelled rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            NaN marks a missing label.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        X, Y2, data = self._setup(X, y, sample_weight)
        sw = None if sample_weight is None else np.asarray(sample_weight, float)
        self.estimators_ = []
        for t in range(data.n_tasks):
            rows = data.entry_row[
                data.task_entries[data.task_ptr[t] : data.task_ptr[t + 1]]
            ]
            self.estimators_.append(
                self._fit_one(X[rows], Y2[rows, t], None if sw is None else sw[rows])
            )
        return self

    def _predict_all(self, X):
        return np.column_stack([np.ravel(e.predict(X)) for e in self.estimators_])


class PooledTasksRegressor(_TaskMetaRegressor):
    """One clone of ``estimator`` fitted on the labelled entries of all tasks.

    The "full sharing" baseline: every task gets the same prediction. Each
    labelled entry is one training row, weighted so that every task counts as
    in the multi-task objective (its rows' weights sum to 1, times
    ``sample_weight``).

    Parameters
    ----------
    estimator : regressor, default=None
        Single-output regressor that accepts ``sample_weight``; ``Ridge()``
        when None.

    Attributes
    ----------
    estimator_ : fitted regressor
    n_tasks_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skmtl.baselines import PooledTasksRegressor
    >>> X = np.arange(6.0).reshape(-1, 1)
    >>> Y = np.column_stack([X[:, 0], X[:, 0]])
    >>> Y[:3, 1] = np.nan
    >>> model = PooledTasksRegressor(LinearRegression()).fit(X, Y)
    >>> np.round(model.predict([[10.0]]), 6)
    array([[10., 10.]])
    """

    def fit(self, X, y, sample_weight=None):
        """Fit one model on all labelled entries.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            NaN marks a missing label.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        X, Y2, data = self._setup(X, y, sample_weight)
        w = data.entry_weights() * data.n_tasks
        self.estimator_ = self._fit_one(X[data.entry_row], data.y, w)
        return self

    def _predict_all(self, X):
        p = np.ravel(self.estimator_.predict(X))
        return np.repeat(p[:, None], self.n_tasks_, axis=1)
