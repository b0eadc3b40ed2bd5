import numpy as np
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl.baselines import IndependentTasksRegressor, PooledTasksRegressor

from .conftest import make_per_task_problem


@parametrize_with_checks([IndependentTasksRegressor(), PooledTasksRegressor()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_independent_equals_per_task_fits():
    X, Y = make_per_task_problem()
    model = IndependentTasksRegressor(Ridge(alpha=0.3)).fit(X, Y)
    P = model.predict(X)
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        ref = Ridge(alpha=0.3).fit(X[m], Y[m, t])
        assert_allclose(P[:, t], ref.predict(X))


def test_pooled_weights_each_task_equally():
    X, Y = make_per_task_problem(n_per_task=(10, 40, 25))
    model = PooledTasksRegressor(LinearRegression()).fit(X, Y)
    rows, w = [], []
    for t in range(Y.shape[1]):
        m = np.flatnonzero(~np.isnan(Y[:, t]))
        rows.append(m)
        w.append(np.full(m.size, 1.0 / m.size))
    rows, w = np.concatenate(rows), np.concatenate(w)
    y = Y[rows, np.concatenate([[t] * (~np.isnan(Y[:, t])).sum() for t in range(3)])]
    ref = LinearRegression().fit(X[rows], y, sample_weight=w)
    assert_allclose(model.predict(X)[:, 1], ref.predict(X))
