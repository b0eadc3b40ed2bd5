"""``scoring`` in every CV estimator."""

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLasso as SkMultiTaskLasso
from sklearn.model_selection import KFold

from skmtl import MultiTaskLogisticRegression, MultiTaskRidge
from skmtl.metrics import make_multitask_scorer, per_task_scorers
from skmtl.model_selection import (
    MultiTaskElasticNetCV,
    MultiTaskLassoCV,
    MultiTaskLinearRegressionCV,
    MultiTaskLogisticRegressionCV,
    MultiTaskRidgeCV,
)


def _scaled_tasks(seed, n=60, p=30, scales=(24.0, 24.0, 24.0, 1.0, 1.0, 1.0)):
    """Train and test sets of tasks whose targets differ 24x in scale."""
    rng = np.random.default_rng(seed)
    scale = np.asarray(scales)
    T = scale.size
    X = rng.normal(size=(2 * n, p))
    W = np.zeros((T, p))
    for t in range(T):
        W[t, rng.choice(p, 5, replace=False)] = rng.normal(size=5)
    Y = (X @ W.T + rng.normal(size=(2 * n, T))) * scale
    return X[:n], Y[:n], X[n:], Y[n:], scale


@pytest.mark.parametrize("seed", [0, 1])
def test_nmse_scoring_helps_small_scale_tasks(seed):
    X, Y, Xt, Yt, scale = _scaled_tasks(seed)
    small = scale == 1.0
    errors = {}
    for scoring in (None, "nmse"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = MultiTaskLinearRegressionCV(
                penalty="l1", n_alphas=20, cv=5, scoring=scoring
            ).fit(X, Y)
        mse = ((model.predict(Xt) - Yt) ** 2).mean(axis=0)
        errors[scoring] = (mse[small].mean(), mse[~small].mean() / 24**2, model)
    raw, nmse = errors[None], errors["nmse"]
    # raw MSE selection is decided by the large tasks: a larger alpha that
    # shrinks the small tasks' coefficients away
    assert nmse[2].alpha_ < raw[2].alpha_
    assert nmse[0] < 0.5 * raw[0]
    # the large tasks pay for the shared alpha, but every task relative to
    # its scale (what nmse selects on) is better on average
    assert nmse[0] + nmse[1] < raw[0] + raw[1]


def test_score_path_matches_scikit_learn_fits():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(45, 6))
    Y = X[:, :2] @ rng.normal(size=(2, 3)) * [1.0, 5.0, 0.2] + rng.normal(size=(45, 3))
    alphas = [0.3, 0.1, 0.03]
    cv = KFold(3)
    model = MultiTaskLassoCV(alphas=alphas, cv=cv, tol=1e-10, scoring="nmse")
    model.fit(X, Y)
    assert model.score_path_.shape == model.mse_path_.shape == (3, 3)
    for k, (train, test) in enumerate(cv.split(X)):
        for a, alpha in enumerate(alphas):
            ref = SkMultiTaskLasso(alpha=alpha, tol=1e-12, max_iter=100000)
            P = ref.fit(X[train], Y[train]).predict(X[test])
            nmse = [
                skm.mean_squared_error(Y[test, t], P[:, t]) / np.var(Y[test, t])
                for t in range(3)
            ]
            assert model.score_path_[a, k] == pytest.approx(-np.mean(nmse), rel=1e-6)
    best = np.argmax(model.score_path_.mean(axis=1))
    assert model.alpha_ == alphas[best]


def test_logistic_cv_scoring_roc_auc_and_scorers():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 4))
    Y = X[:, :2] @ rng.normal(size=(2, 2)) + rng.normal(size=(90, 2)) > 0
    Y = np.where(Y, "b", "a").astype(object)
    alphas = [0.1, 0.01]
    folds = list(KFold(3).split(X))
    clf = MultiTaskLogisticRegressionCV(alphas=alphas, cv=folds, tol=1e-8)
    clf.set_params(scoring="roc_auc").fit(X, Y)
    for k, (train, test) in enumerate(folds):
        for a, alpha in enumerate(alphas):
            ref = MultiTaskLogisticRegression(alpha=alpha, tol=1e-8)
            D = ref.fit(X[train], Y[train]).decision_function(X[test])
            auc = [skm.roc_auc_score(Y[test, t] == "b", D[:, t]) for t in range(2)]
            assert clf.score_path_[a, k] == pytest.approx(np.mean(auc), abs=1e-4)
    # a scorer object: its aggregate, or its single task, is used
    worst = clf.set_params(scoring=make_multitask_scorer("log_loss", "min")).fit(X, Y)
    assert np.all(worst.score_path_ < 0)
    task1 = per_task_scorers("roc_auc", 2)["roc_auc_task1"]
    one = clf.set_params(scoring=task1).fit(X, Y)
    assert one.score_path_.shape == (2, 3)


def test_ridge_cv_scoring_r2():
    X, Y, _, _, _ = _scaled_tasks(2, n=50, p=8, scales=(10.0, 1.0))
    alphas, couplings = [0.01, 1.0, 100.0], [0.0, 1.0]
    cv = KFold(3)
    model = MultiTaskRidgeCV(alphas, couplings, cv=cv, scoring="r2").fit(X, Y)
    assert model.score_path_.shape == (3, 2, 3)
    train, test = next(cv.split(X))
    for i, alpha in enumerate(alphas):
        for j, coupling in enumerate(couplings):
            P = MultiTaskRidge(alpha, coupling).fit(X[train], Y[train]).predict(X[test])
            r2 = skm.r2_score(Y[test], P, multioutput="raw_values").mean()
            assert model.score_path_[i, j, 0] == pytest.approx(r2, rel=1e-8)


@pytest.mark.parametrize(
    "Est, params",
    [
        (MultiTaskLassoCV, {}),
        (MultiTaskElasticNetCV, {}),
        (MultiTaskLinearRegressionCV, {}),
        (MultiTaskRidgeCV, {}),
    ],
)
def test_regression_cv_estimators_accept_scoring(Est, params):
    X, Y, _, _, _ = _scaled_tasks(3, n=40, p=6, scales=(5.0, 1.0))
    grid = {"alphas": [1.0, 0.1]} if Est is not MultiTaskRidgeCV else {}
    default = Est(cv=3, **grid, **params).fit(X, Y)
    assert not hasattr(default, "score_path_")
    scored = Est(cv=3, scoring="r2", **grid, **params).fit(X, Y)
    assert np.all(scored.score_path_ <= 1.0)
    np.testing.assert_allclose(scored.mse_path_, default.mse_path_)
    assert not hasattr(scored.set_params(scoring=None).fit(X, Y), "score_path_")
    with pytest.raises(ValueError, match="does not apply to regressors"):
        Est(cv=3, scoring="roc_auc", **grid).fit(X, Y)
    with pytest.raises(ValueError, match="Unknown scoring 'mae'"):
        Est(cv=3, scoring="mae", **grid).fit(X, Y)
    with pytest.raises(TypeError, match="scoring must be None, a metric name"):
        Est(cv=3, scoring=lambda est, X, y: 0.0, **grid).fit(X, Y)


def test_logistic_cv_rejects_regression_scoring():
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match="does not apply to classifiers"):
        MultiTaskLogisticRegressionCV(n_alphas=2, scoring="r2").fit(X, y)
