"""Trace and graph penalties and multi-task logistic regression (issue 3)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.optimize import approx_fprime
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl import (
    MultiTaskLinearRegression,
    MultiTaskLogisticRegression,
    MultiTaskRidge,
)
from skmtl._graph import graph_laplacian, mean_graph
from skmtl._solvers.datafits import Logistic
from skmtl._solvers.design import DesignOperator
from skmtl._solvers.penalties import make_penalty
from skmtl._validation import make_task_data

from ._reference import cvxpy_solve, data_term
from .conftest import make_per_task_problem, make_problem

TIGHT = dict(tol=1e-12, max_iter=100_000)


def _binary(Y, seed=0):
    rng = np.random.default_rng(seed)
    B = np.where(np.isnan(Y), np.nan, 0.0)
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        z = Y[m, t] - np.median(Y[m, t]) + 0.3 * rng.normal(size=m.sum())
        B[m, t] = (z > 0).astype(float)
    return B


def _objective(X, Y, W, b, penalty, loss):
    return data_term(X, Y, W, b, loss) + penalty.value(W)


CHAIN = np.diag(np.ones(3), 1) + np.diag(np.ones(3), -1)


@pytest.mark.parametrize(
    "penalty, l1_ratio, graph",
    [("trace", None, None), ("graph", 0.0, None), ("graph", 0.3, CHAIN)],
)
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_matches_cvxpy_with_missing_labels(penalty, l1_ratio, graph, loss):
    pytest.importorskip("cvxpy")
    X, Y = make_problem(n=50, p=6, T=4, missing=0.3, seed=21)
    alpha = 0.05 if loss == "squared" else 0.02
    kw = dict(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, task_graph=graph)
    if loss == "squared":
        model = MultiTaskLinearRegression(**kw, **TIGHT).fit(X, Y)
        Yref = Y
    else:
        Yb = _binary(Y)
        # the logistic duality gap floors near 1e-9 (float64), so 1e-10
        model = MultiTaskLogisticRegression(**kw, tol=1e-10, max_iter=20_000)
        model.fit(X, Yb)
        Yref = np.where(np.isnan(Yb), np.nan, 2 * Yb - 1)
    pen = make_penalty(penalty, alpha, 4, {"l1_ratio": l1_ratio, "task_graph": graph})
    lap = None if penalty != "graph" else pen.laplacian
    W, b, ref_obj = cvxpy_solve(
        X, Yref, penalty, alpha, l1_ratio=l1_ratio or 0.0, laplacian=lap, loss=loss
    )
    ours = _objective(X, Yref, model.coef_, model.intercept_, pen, loss)
    assert ours <= ref_obj * (1 + 1e-6)
    assert abs(ours - ref_obj) <= 1e-6 * abs(ref_obj)
    if penalty == "trace":
        assert np.isfinite(model.dual_gap_)
    else:
        assert np.isnan(model.dual_gap_)


def test_logistic_gradient_matches_finite_differences():
    X, Y = make_problem(n=30, p=5, T=3, missing=0.3, seed=22)
    Yb = 2 * _binary(Y) - 1
    data = make_task_data(Yb)
    c = data.entry_weights()
    op = DesignOperator(X, data.row_ptr, data.entry_row, data.entry_task, 3)
    fit = Logistic(data.y, c, data.entry_task, 3)
    rng = np.random.default_rng(0)
    w = rng.normal(size=3 * 5 + 3)

    def value(w):
        W, b = w[:15].reshape(3, 5), w[15:]
        return fit.value(op.matvec(W) + b[data.entry_task])

    W, b = w[:15].reshape(3, 5), w[15:]
    d = fit.derivative(op.matvec(W) + b[data.entry_task])
    grad = np.concatenate(
        [op.rmatvec(d).ravel(), np.bincount(data.entry_task, weights=d, minlength=3)]
    )
    assert_allclose(grad, approx_fprime(w, value, 1e-7), atol=1e-6)


@pytest.mark.parametrize("sparse", [False, True])
def test_task_means_shortcut_matches_general_formula(sparse):
    # every label present: one product X^T s serves every task when the
    # entry weights factor (sample and task weights); otherwise the general
    # per-task formula
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    Xop = sp.csr_array(X) if sparse else X
    data = make_task_data(rng.normal(size=(30, 3)), rng.uniform(0.5, 2, size=30))
    op = DesignOperator(Xop, data.row_ptr, data.entry_row, data.entry_task, 3)
    assert op.full
    for c in (data.entry_weights(), data.entry_weights(np.array([1.0, 3.0, 0.5]))):
        task_c = np.bincount(data.entry_task, weights=c, minlength=3)
        expected = op.rmatvec(c) / task_c[:, None]
        assert_allclose(op.task_means(c, task_c), expected, rtol=1e-12)
    c = rng.uniform(0.5, 2, size=90)  # weights that do not factor
    task_c = np.bincount(data.entry_task, weights=c, minlength=3)
    means = op.task_means(c, task_c)
    assert not np.allclose(means[0], means[1])
    assert_allclose(means, op.rmatvec(c) / task_c[:, None], rtol=1e-12)


def test_logistic_stable_for_large_margins():
    X, Y = make_problem(n=40, p=4, T=2, seed=23)
    Yb = _binary(Y)
    X_big = X * 1e6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MultiTaskLogisticRegression(alpha=1e-8, max_iter=50).fit(X_big, Yb)
    assert np.all(np.isfinite(model.coef_))
    for proba in model.predict_proba(X_big):
        assert np.all(np.isfinite(proba))
    fit = Logistic(np.array([1.0, -1.0]), np.ones(2), np.zeros(2, int), 1)
    f = np.array([-1e4, -1e4])
    assert np.isfinite(fit.value(f)) and np.all(np.isfinite(fit.derivative(f)))


def test_logistic_l1_equals_sklearn_per_task():
    X, Y = make_per_task_problem(n_per_task=(60, 80, 50))
    Yb = _binary(Y)
    alpha = 0.02
    model = MultiTaskLogisticRegression(penalty="l1", alpha=alpha, **TIGHT)
    model.fit(X, Yb)
    for t in range(3):
        m = ~np.isnan(Yb[:, t])
        ref = LogisticRegression(
            l1_ratio=1.0,
            C=1 / (m.sum() * alpha),
            solver="saga",
            tol=1e-12,
            max_iter=200_000,
        )
        ref.fit(X[m], Yb[m, t])
        assert_allclose(model.coef_[t], ref.coef_[0], atol=1e-6)
        assert_allclose(model.intercept_[t], ref.intercept_[0], atol=1e-6)


def test_trace_recovers_planted_rank():
    rng = np.random.default_rng(24)
    T, p, rank = 10, 20, 2
    W = rng.normal(size=(T, rank)) @ rng.normal(size=(rank, p))
    X = rng.normal(size=(300, p))
    Y = X @ W.T + 0.1 * rng.normal(size=(300, T))
    Y[rng.random(Y.shape) < 0.3] = np.nan
    model = MultiTaskLinearRegression(penalty="trace", alpha=0.1, tol=1e-8).fit(X, Y)
    s = np.linalg.svd(model.coef_, compute_uv=False)
    assert np.sum(s > 1e-6 * s[0]) == rank


def test_l21_recovers_planted_joint_support():
    rng = np.random.default_rng(25)
    T, p = 6, 40
    support = np.array([3, 11, 17, 29])
    W = np.zeros((T, p))
    W[:, support] = rng.normal(size=(T, 4)) + np.sign(rng.normal(size=(T, 4)))
    X = rng.normal(size=(150, p))
    Y = X @ W.T + 0.2 * rng.normal(size=(150, T))
    Y[rng.random(Y.shape) < 0.4] = np.nan
    model = MultiTaskLinearRegression(penalty="l21", alpha=0.1).fit(X, Y)
    found = np.flatnonzero(np.linalg.norm(model.coef_, axis=0) > 0)
    np.testing.assert_array_equal(found, support)


def test_graph_penalty_mean_graph_equals_mean_regularisation():
    """Graph penalty with the default graph equals MultiTaskRidge without ridge."""
    X, Y = make_problem(n=60, p=5, T=3, missing=0.3, seed=26)
    a = MultiTaskLinearRegression(penalty="graph", alpha=0.5, **TIGHT).fit(X, Y)
    b = MultiTaskRidge(alpha=0.0, coupling=0.5).fit(X, Y)
    assert_allclose(a.coef_, b.coef_, atol=1e-6)
    assert_allclose(graph_laplacian(mean_graph(3)).sum(axis=1), 0, atol=1e-12)


# ------------------------------------------------------------ classification
def test_logistic_object_labels_with_none_and_dataframe():
    pd = pytest.importorskip("pandas")
    X, Y = make_problem(n=60, p=4, T=2, seed=27)
    B = _binary(Y)
    Yo = np.empty(B.shape, dtype=object)
    Yo[:, 0] = np.where(B[:, 0] > 0, "spam", "ham")
    Yo[:, 1] = B[:, 1].astype(int)
    Yo[:10, 0] = None
    model = MultiTaskLogisticRegression(alpha=0.001).fit(X, Yo)
    assert list(model.classes_[0]) == ["ham", "spam"]
    P = model.predict(X)
    assert P.dtype == object and set(P[:, 0]) <= {"ham", "spam"}
    assert model.score(X, Yo) > 0.8
    assert model.decision_function(X).shape == (60, 2)
    Yd = pd.DataFrame({"a": B[:, 0], "b": B[:, 1]})
    assert list(MultiTaskLogisticRegression().fit(X, Yd).task_names_) == ["a", "b"]
    m1 = MultiTaskLogisticRegression().fit(X, B[:, 0])
    assert m1.predict(X).shape == (60,) and m1.predict_proba(X).shape == (60, 2)


@pytest.mark.parametrize(
    "labels, match",
    [
        (
            lambda B: np.column_stack([B[:, 0], np.zeros(len(B))]),
            "task 1 has only one class",
        ),
        (
            lambda B: np.column_stack([B[:, 0], np.arange(len(B)) % 3]),
            "binary per task, but task 1 has 3",
        ),
        (
            lambda B: np.column_stack([B[:, 0], np.full(len(B), np.nan)]),
            "task 1 has no labelled",
        ),
        (lambda B: np.column_stack([B[:, 0], B[:, 1] + 0.5]), "continuous"),
    ],
    ids=["one-class", "three-classes", "no-labels", "continuous"],
)
def test_logistic_bad_labels(labels, match):
    X, Y = make_problem(n=30, p=5, T=2, seed=28)
    B = _binary(Y)
    with pytest.raises(ValueError, match=match):
        MultiTaskLogisticRegression().fit(X, labels(B))


@pytest.mark.parametrize(
    "graph, match",
    [
        (np.ones((2, 2)), "shape"),
        (-CHAIN, "negative"),
        (np.triu(np.ones((4, 4)), 1), "symmetric"),
        ([(0, 9)], "range"),
    ],
    ids=["shape", "negative", "asymmetric", "edge-out-of-range"],
)
def test_bad_task_graph(graph, match):
    X, Y = make_problem(n=30, p=5, T=4, seed=29)
    with pytest.raises(ValueError, match=match):
        MultiTaskLinearRegression(penalty="graph", task_graph=graph).fit(X, Y)


def test_pipeline_gridsearch_over_penalty_classification():
    """NaN-marked float labels need an explicit splitter (scikit-learn's
    ``check_cv`` runs ``type_of_target`` on a classifier's ``y`` for an
    integer ``cv``, which rejects missing labels)."""
    X, Y = make_problem(n=120, p=6, T=3, missing=0.3, seed=30)
    B = _binary(Y)
    grid = {
        "multitasklogisticregression__penalty": ["l21", "trace", "graph", "l1"],
        "multitasklogisticregression__alpha": [0.001, 0.01],
    }
    pipe = make_pipeline(StandardScaler(), MultiTaskLogisticRegression())
    gs = GridSearchCV(pipe, grid, cv=KFold(3, shuffle=True, random_state=0))
    assert gs.fit(X, B).best_score_ > 0.7


def _expected_failures(estimator):
    if isinstance(estimator, MultiTaskLogisticRegression):
        return {
            "check_classifier_multioutput": (
                "classes_ is a list with one array per task (DESIGN: tasks may "
                "have different label sets, as in scikit-learn's multi-output "
                "forests); this check indexes classes_ as a single array. The "
                "same predictions/decision/proba shapes are tested in "
                "test_logistic_multioutput_contract."
            )
        }
    return {}


def test_logistic_multioutput_contract():
    from sklearn.datasets import make_multilabel_classification

    X, y = make_multilabel_classification(
        random_state=42, n_samples=42, n_labels=5, n_classes=3
    )
    model = MultiTaskLogisticRegression(alpha=0.01).fit(X, y)
    P = model.predict(X)
    assert P.shape == (42, 3) and P.dtype.kind == "i"
    D = model.decision_function(X)
    expected = np.column_stack(
        [model.classes_[t][(D[:, t] > 0).astype(int)] for t in range(3)]
    )
    np.testing.assert_array_equal(expected, P)
    proba = model.predict_proba(X)
    assert len(proba) == 3 and all(p.shape == (42, 2) for p in proba)
    for t in range(3):
        np.testing.assert_array_equal(proba[t].argmax(1), (D[:, t] > 0).astype(int))


@parametrize_with_checks(
    [
        MultiTaskLogisticRegression(alpha=0.01),
        MultiTaskLogisticRegression(penalty="trace", alpha=0.01),
        MultiTaskLinearRegression(penalty="trace", alpha=0.01),
        MultiTaskLinearRegression(penalty="graph", alpha=0.1, l1_ratio=0.2),
        MultiTaskRidge(),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
