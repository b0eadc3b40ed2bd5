"""Defaults give a model: every estimator at its default parameters passes
scikit-learn's checks and fits something useful on standardised data; an
all-zero fit and a CV choice at the edge of its grid are announced."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import skmtl
from skmtl import (
    MultiTaskElasticNet,
    MultiTaskElasticNetCV,
    MultiTaskLasso,
    MultiTaskLassoCV,
    MultiTaskLinearRegression,
    MultiTaskLinearRegressionCV,
    MultiTaskLogisticRegression,
    MultiTaskLogisticRegressionCV,
    MultiTaskRidge,
    MultiTaskRidgeCV,
)

from .test_structured import _expected_failures as _structured_failures

LINEAR = [
    MultiTaskLasso,
    MultiTaskElasticNet,
    MultiTaskLinearRegression,
    MultiTaskLogisticRegression,
    MultiTaskRidge,
    MultiTaskLassoCV,
    MultiTaskElasticNetCV,
    MultiTaskLinearRegressionCV,
    MultiTaskLogisticRegressionCV,
    MultiTaskRidgeCV,
]


def _expected_failures(estimator):
    out = dict(_structured_failures(estimator))
    if isinstance(estimator, MultiTaskLogisticRegressionCV):
        out["check_classifier_multioutput"] = (
            "classes_ is a list with one array per task (DESIGN)"
        )
    return out


@parametrize_with_checks(
    [cls() for cls in LINEAR], expected_failed_checks=_expected_failures
)
def test_default_parameters_pass_sklearn_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # null-model / grid-edge notices
        check(estimator)


def _classification(seed=0, n=200, p=8, T=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    W = rng.normal(size=(T, p))
    Y = (X @ W.T + 0.5 * rng.normal(size=(n, T)) > 0).astype(int)
    return StandardScaler().fit_transform(X), Y


def test_default_logistic_is_as_good_as_sklearn_default():
    X, Y = _classification()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no null-model warning at the default
        ours = MultiTaskLogisticRegression().fit(X, Y)
    assert np.any(ours.coef_)
    for t in range(Y.shape[1]):
        ref = LogisticRegression().fit(X, Y[:, t]).score(X, Y[:, t])
        acc = np.mean(ours.predict(X)[:, t] == Y[:, t])
        assert acc >= ref - 0.03, (t, acc, ref)


def test_default_ridge_is_sklearn_ridge_at_n_t_alpha():
    """MultiTaskRidge(alpha=a, coupling=0) is Ridge(alpha=a * n_t) per task;
    the default 0.01 is Ridge() on 100 samples."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 5))
    Y = X @ rng.normal(size=(2, 5)).T + rng.normal(size=(100, 2))
    ours = MultiTaskRidge(coupling=0.0).fit(X, Y)
    for t in range(2):
        ref = Ridge().fit(X, Y[:, t])  # alpha=1 = 0.01 * 100
        np.testing.assert_allclose(ours.coef_[t], ref.coef_, rtol=1e-8)
        np.testing.assert_allclose(ours.intercept_[t], ref.intercept_, rtol=1e-8)


def test_default_regression_gives_a_model():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(100, 6))
    Y = X @ rng.normal(size=(3, 6)).T + rng.normal(size=(100, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = MultiTaskLinearRegression().fit(X, Y)
    assert model.score(X, Y) > 0.5


@pytest.mark.parametrize(
    "make",
    [
        lambda: MultiTaskLasso(alpha=100.0),
        lambda: MultiTaskLinearRegression(penalty="l1", alpha=100.0),
        lambda: MultiTaskLinearRegression(penalty="trace", alpha=100.0),
        lambda: MultiTaskLogisticRegression(alpha=10.0),
    ],
)
def test_all_zero_fit_warns_with_alpha_max(make):
    X, Y = _classification()
    est = make()
    with pytest.warns(UserWarning, match="alpha_max=") as rec:
        est.fit(X, Y)
    assert not np.any(est.coef_)
    msg = str([w for w in rec if "alpha_max" in str(w.message)][0].message)
    a_max = float(msg.split("alpha_max=")[1].split(",")[0])
    # the value quoted is the true threshold: just below it, a feature enters
    est.set_params(alpha=0.98 * a_max)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, Y)
    assert np.any(est.coef_)


def test_no_null_warning_when_coefficients_are_nonzero():
    X, Y = _classification()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        MultiTaskLasso(alpha=0.01).fit(X, Y)


def test_cv_grid_edge_warns():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 5))
    Y = X @ rng.normal(size=(2, 5)).T
    # noiseless: the smallest alpha wins
    with pytest.warns(UserWarning, match="smallest alpha of the grid"):
        MultiTaskLassoCV(alphas=[1.0, 0.1, 1e-6], cv=3).fit(X, Y)
    # pure noise targets: alpha_max (all-zero model) wins
    Yn = rng.normal(size=(60, 2))
    with pytest.warns(UserWarning, match="largest alpha"):
        MultiTaskLassoCV(alphas=[10.0, 1e-3, 1e-4], cv=3).fit(X, Yn)


def test_cv_interior_choice_does_not_warn():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 20))
    Y = X[:, :3] @ rng.normal(size=(2, 3)).T + 2.0 * rng.normal(size=(80, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model = MultiTaskLassoCV(n_alphas=20, cv=3).fit(X, Y)
    assert model.alphas_[0] > model.alpha_ > model.alphas_[-1]


def test_estimator_list_is_complete():
    public = {
        name
        for name in skmtl.__all__
        if name.startswith("MultiTask") and "MLP" not in name
    }
    assert public == {cls.__name__ for cls in LINEAR}
