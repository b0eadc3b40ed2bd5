"""Tests of skmtl.inspection: task similarity, relatedness, transfer gain."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Lasso, LinearRegression, RidgeCV
from sklearn.model_selection import KFold

from skmtl import MultiTaskLasso, MultiTaskRidge
from skmtl.baselines import IndependentTasksRegressor
from skmtl.datasets import make_multitask_regression
from skmtl.inspection import (
    TaskRelatedness,
    TransferGainResult,
    selected_features,
    task_relatedness,
    task_similarity,
    transfer_gain,
)
from skmtl.inspection._transfer import resolve_baseline
from skmtl.neural_network import MultiTaskMLPClassifier, MultiTaskMLPRegressor


def related_with_planted_unrelated(seed=0):
    """8 joint-sparse tasks (16 rows each, 150 features); the last task is
    regenerated from an unrelated sparse W on other features."""
    T, n, p, k = 8, 16, 150, 4
    X, Y, W = make_multitask_regression(
        n_tasks=T, n_samples=n, n_features=p, n_informative=k,
        structure="joint_sparse", relatedness=1.0, noise=0.3,
        return_coef=True, random_state=seed,
    )  # fmt: skip
    rng = np.random.default_rng(seed + 1)
    w = np.zeros(p)
    off_support = np.flatnonzero(np.abs(W).sum(axis=0) == 0)
    w[rng.choice(off_support, k, replace=False)] = rng.standard_normal(k)
    Y = Y.copy()
    m = ~np.isnan(Y[:, -1])
    Y[m, -1] = X[m] @ w + 0.3 * rng.normal(size=m.sum())
    return X, Y


# ----------------------------------------------------------- task_similarity
def test_task_similarity_known_matrices():
    coef = np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 1.0, 0.0],
                     [-1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])  # fmt: skip
    S = task_similarity(coef)
    assert S.shape == (5, 5)
    np.testing.assert_allclose(S, S.T)
    np.testing.assert_allclose(np.diag(S), 1.0)
    assert S[0, 1] == pytest.approx(1.0)
    assert S[0, 2] == pytest.approx(0.0)
    assert S[0, 3] == pytest.approx(-1.0)
    assert S[0, 4] == pytest.approx(1 / np.sqrt(2))


def test_task_similarity_correlation_is_centred_cosine():
    rng = np.random.default_rng(0)
    coef = rng.normal(size=(4, 10))
    S = task_similarity(coef, metric="correlation")
    np.testing.assert_allclose(S, np.corrcoef(coef), atol=1e-12)
    # shift invariance of correlation, not of cosine
    shifted = coef + np.array([[0.0], [5.0], [0.0], [0.0]])
    np.testing.assert_allclose(task_similarity(shifted, "correlation"), S, atol=1e-12)
    assert not np.allclose(task_similarity(shifted), task_similarity(coef))


def test_task_similarity_zero_rows_are_nan():
    coef = np.array([[1.0, 2.0], [0.0, 0.0], [3.0, 3.0]])
    S = task_similarity(coef)
    assert np.isnan(S[1]).all() and np.isnan(S[:, 1]).all()
    assert np.isfinite(S[np.ix_([0, 2], [0, 2])]).all()
    # constant row: undefined correlation
    Sc = task_similarity(coef, metric="correlation")
    assert np.isnan(Sc[2]).all()


def test_task_similarity_from_linear_estimator():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    W = np.array([[1.0, 2, 0, 0, 0], [1.1, 2.1, 0, 0, 0], [0, 0, 0, 3, 1]])
    Y = X @ W.T
    model = MultiTaskRidge(alpha=1e-6, coupling=1e-6).fit(X, Y)
    np.testing.assert_allclose(task_similarity(model), task_similarity(W), atol=1e-4)


def test_task_similarity_mlp_heads():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    Y = np.c_[X[:, 0], X[:, 0] * 1.01, -X[:, 1]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MultiTaskMLPRegressor((6,), max_iter=30, random_state=0).fit(X, Y)
    S = task_similarity(mlp)
    assert S.shape == (3, 3)
    head = mlp.coefs_[-1]  # (6, 3): no head hidden layer
    np.testing.assert_allclose(S, task_similarity(head.T), atol=1e-12)

    deep = MultiTaskMLPRegressor((6,), task_layer_sizes=(4,), max_iter=3,
                                 random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        deep.fit(X, Y)
    W0 = deep.coefs_[1]  # (6, 3 * 4): first head layer of all tasks
    V = np.vstack([W0[:, 4 * t : 4 * t + 4].T.ravel() for t in range(3)])
    np.testing.assert_allclose(task_similarity(deep), task_similarity(V))


def test_task_similarity_mlp_classifier_heads_are_centred():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MultiTaskMLPClassifier((5,), max_iter=5, random_state=0).fit(X, Y)
    W = clf.coefs_[-1]  # (5, 2 tasks * 2 outputs)
    d = [W[:, 2 * t + 1] - W[:, 2 * t] for t in range(2)]
    # centred 2-output blocks are +-(w1 - w0)/2: same cosine as the differences
    expected = task_similarity(np.vstack(d))
    np.testing.assert_allclose(task_similarity(clf), expected, atol=1e-12)


def test_task_similarity_errors():
    with pytest.raises(ValueError, match="Unknown metric"):
        task_similarity(np.eye(2), metric="euclid")
    with pytest.raises(TypeError, match="coef_"):
        task_similarity(object())

    class NoCoef:
        def fit(self, X, y):
            return self

    with pytest.raises(TypeError, match="coef_"):
        task_similarity(NoCoef())
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        task_similarity(MultiTaskLasso())
    with pytest.raises(ValueError, match="shape"):
        task_similarity(np.zeros((2, 2, 2)))


# --------------------------------------------------------- selected_features
def test_selected_features_l21_support_and_names():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 8)), columns=[f"f{j}" for j in range(8)])
    Y = X.to_numpy()[:, [1, 4]] @ rng.normal(size=(2, 3)) + 0.01 * rng.normal(
        size=(60, 3)
    )
    model = MultiTaskLasso(alpha=0.05).fit(X, Y)
    np.testing.assert_array_equal(selected_features(model), [1, 4])
    assert list(selected_features(model, return_names=True)) == ["f1", "f4"]
    coef = np.array([[0.0, 1e-3, 2.0]])
    np.testing.assert_array_equal(selected_features(coef, tol=1e-2), [2])
    with pytest.raises(ValueError, match="tol"):
        selected_features(coef, tol=-1)
    with pytest.raises(TypeError, match="coef_"):
        selected_features(IndependentTasksRegressor().fit(X, Y))


# ---------------------------------------------------------- task_relatedness
def test_task_relatedness_blocks():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 6))
    a, b = rng.normal(size=(2, 6))
    b -= (a @ b) / (a @ a) * a  # unrelated task: orthogonal coefficients
    Y = np.column_stack([X @ a, X @ (a + 0.05 * rng.normal(size=6)), X @ b])
    Y += 0.05 * rng.normal(size=Y.shape)
    Y[:40, 1] = np.nan
    df = pd.DataFrame(Y, columns=["a1", "a2", "b"])
    res = task_relatedness(X, df, cv=3)
    assert isinstance(res, TaskRelatedness)
    assert list(res.task_names) == ["a1", "a2", "b"]
    assert res.coef.shape == (3, 6)
    assert res.coef_similarity[0, 1] > 0.95
    assert abs(res.coef_similarity[0, 2]) < res.coef_similarity[0, 1]
    M = res.transfer_matrix
    assert M.shape == (3, 3)
    assert np.all(np.diag(M) > 0.95)  # within-task CV
    assert M[0, 1] > 0.9 and M[1, 0] > 0.9
    assert M[0, 2] < 0.0 and M[2, 0] < 0.0  # worse than predicting the mean


def test_task_relatedness_without_coef_and_errors():
    from sklearn.neighbors import KNeighborsRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    Y = np.c_[X[:, 0], X[:, 0]]
    res = task_relatedness(X, Y, estimator=KNeighborsRegressor(3), cv=2)
    assert res.coef_similarity is None and res.coef is None
    assert np.isfinite(res.transfer_matrix).all()
    with pytest.raises(ValueError, match="Unknown scoring"):
        task_relatedness(X, Y, metric="auc")
    with pytest.raises(ValueError, match="Unknown similarity"):
        task_relatedness(X, Y, similarity="l2")


# -------------------------------------------------------------- transfer_gain
def test_transfer_gain_positive_on_related_tasks_negative_on_planted_task():
    X, Y = related_with_planted_unrelated()
    res = transfer_gain(MultiTaskLasso(alpha=0.1), X, Y, cv=4)
    assert isinstance(res, TransferGainResult)
    assert res.fold_gains.shape == (4, 8)
    assert res.gain.shape == res.gain_std.shape == (8,)
    related = res.gain[:-1]
    assert np.median(related) > 0.2
    assert np.mean(related > 0) >= 6 / 7
    # the planted unrelated task: negative transfer, flagged
    assert res.gain[-1] < 0
    assert res.negative_transfer[-1]
    assert res.gain[-1] < related.min()
    text = repr(res)
    last = [ln for ln in text.splitlines() if ln.startswith("task7")][0]
    assert "negative transfer" in last
    np.testing.assert_allclose(res.gain, res.model_scores - res.baseline_scores)


def test_transfer_gain_independent_baseline_is_one_task_clone():
    # the one-task MultiTaskLasso is sklearn's Lasso with the same alpha
    X, Y = related_with_planted_unrelated()
    base, name = resolve_baseline(MultiTaskLasso(alpha=0.1), "independent")
    assert name == "independent"
    m = ~np.isnan(Y[:, 0])
    ours = base.fit(X[m], Y[m, 0]).estimators_[0].coef_
    ref = Lasso(alpha=0.1, tol=1e-10, max_iter=10000).fit(X[m], Y[m, 0]).coef_
    np.testing.assert_allclose(np.ravel(ours), ref, atol=1e-3)


def test_transfer_gain_baselines_and_options():
    X, Y = related_with_planted_unrelated()
    X, Y = X[:64], Y[:64, :4]
    folds = list(KFold(4, shuffle=True, random_state=1).split(X))
    res = transfer_gain(MultiTaskRidge(alpha=1.0), X, Y, cv=folds,
                        baseline=RidgeCV(), n_jobs=2)  # fmt: skip
    assert res.baseline == "RidgeCV" and res.n_folds == 4
    res_p = transfer_gain(MultiTaskRidge(alpha=1.0), X, Y, cv=3, baseline="pooled")
    assert res_p.baseline == "pooled"
    # an skmtl baseline is used as is
    base = IndependentTasksRegressor(LinearRegression())
    res_i = transfer_gain(MultiTaskRidge(alpha=1.0), X, Y, cv=3, baseline=base)
    assert res_i.baseline == "IndependentTasksRegressor"
    # error metrics: gain = baseline error - model error
    res_mse = transfer_gain(MultiTaskRidge(alpha=1.0), X, Y, cv=3, scoring="mse")
    np.testing.assert_allclose(
        res_mse.gain, res_mse.baseline_scores - res_mse.model_scores
    )
    res_neg = transfer_gain(MultiTaskRidge(alpha=1.0), X, Y, cv=3, scoring="neg_mse")
    np.testing.assert_allclose(res_neg.gain, res_mse.gain)
    # sample weights of ones change nothing
    res_w = transfer_gain(MultiTaskRidge(alpha=1.0), X, Y, cv=3, scoring="mse",
                          sample_weight=np.ones(len(X)))  # fmt: skip
    np.testing.assert_allclose(res_w.gain, res_mse.gain)


def test_transfer_gain_result_frame_and_repr():
    res = TransferGainResult(
        fold_model_scores=np.array([[0.8, 0.1], [0.6, np.nan]]),
        fold_baseline_scores=np.array([[0.5, 0.4], [0.5, 0.2]]),
        task_names=np.array(["house", "flat"], dtype=object),
    )
    np.testing.assert_allclose(res.gain, [0.2, -0.3])
    assert res.gain_std[1] == 0.0  # one finite fold
    frame = res.to_frame()
    assert list(frame.index) == ["house", "flat"]
    assert list(frame.columns) == [
        "model", "baseline", "gain", "gain_std", "negative_transfer"
    ]  # fmt: skip
    assert frame.loc["flat", "negative_transfer"]
    text = repr(res)
    assert "house" in text and "1 of 2 tasks with negative transfer" in text


def test_transfer_gain_errors():
    X = np.random.default_rng(0).normal(size=(20, 3))
    Y = X[:, :2].copy()
    with pytest.raises(ValueError, match="Unknown scoring"):
        transfer_gain(MultiTaskRidge(), X, Y, scoring="auc")
    with pytest.raises(ValueError, match="Unknown baseline"):
        transfer_gain(MultiTaskRidge(), X, Y, baseline="single")
    with pytest.raises(TypeError, match="baseline"):
        transfer_gain(MultiTaskRidge(), X, Y, baseline=3)
    with pytest.raises(ValueError, match="cv"):
        transfer_gain(MultiTaskRidge(), X, Y, cv=1)
    with pytest.raises(ValueError, match="sample_weight"):
        transfer_gain(MultiTaskRidge(), X, Y, sample_weight=np.ones(3))


def test_transfer_gain_scores_classifiers_by_accuracy():
    from skmtl import MultiTaskLogisticRegression
    from skmtl.datasets import make_multitask_classification

    X, Y = make_multitask_classification(
        n_tasks=3, n_samples=40, n_features=6, random_state=0
    )[:2]
    res = transfer_gain(MultiTaskLogisticRegression(alpha=0.01), X, Y, cv=3)
    assert res.scoring == "accuracy"
    assert np.all((res.model_scores >= 0) & (res.model_scores <= 1))
    assert transfer_gain(MultiTaskRidge(), X, Y, cv=3).scoring == "r2"


def test_task_relatedness_repr_is_a_table():
    res = TaskRelatedness(
        coef_similarity=np.array([[1.0, 0.25], [0.25, 1.0]]),
        transfer_matrix=np.array([[0.9, 0.8], [0.7, 0.95]]),
        coef=None,
        task_names=np.array(["house", "apartment"], dtype=object),
    )
    lines = repr(res).splitlines()
    assert lines[0] == "TaskRelatedness(metric='r2', n_tasks=2)"
    assert lines[1].startswith("transfer_matrix")
    assert lines[3].split() == ["house", "0.900", "0.800"]
    assert lines[4].split() == ["apartment", "0.700", "0.950"]
    assert lines[5].startswith("coef_similarity")
    assert lines[8].split() == ["apartment", "0.250", "1.000"]
    many = TaskRelatedness(None, np.zeros((20, 20)), None, np.arange(20).astype(str))
    assert "shape (20, 20)" in repr(many) and len(repr(many).splitlines()) == 2


def test_task_similarity_on_new_networks():
    """Mixed-type networks give head vectors (regression heads uncentred);
    column architectures and heads at other depths are refused clearly."""
    import warnings

    from skmtl import MultiTaskMLP, MultiTaskMLPRegressor
    from skmtl.inspection import task_similarity

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    Y = np.column_stack([X[:, 0], X[:, 0] > 0, X[:, 1]]).astype(object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mixed = MultiTaskMLP(
            task_types=["regression", "classification", "regression"], max_iter=20
        ).fit(X, Y)
        mmoe = MultiTaskMLPRegressor(architecture="mmoe", max_iter=5).fit(X, X[:, :2])
    S = task_similarity(mixed)
    assert S.shape == (3, 3) and np.allclose(np.diag(S), 1.0)
    with pytest.raises(ValueError, match="hard-sharing"):
        task_similarity(mmoe)
