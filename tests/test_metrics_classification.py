"""Per-task ROC AUC and log-loss, undefined scores, scorers on empty tasks."""

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.model_selection import KFold, cross_validate

from skmtl import MultiTaskLasso, MultiTaskLogisticRegression
from skmtl.metrics import (
    explained_variance_score,
    log_loss,
    make_multitask_scorer,
    nmse_score,
    per_task_scorers,
    per_task_scores,
    r2_score,
    roc_auc_score,
)


def _labels_and_scores(seed=0, n=40):
    rng = np.random.default_rng(seed)
    S = rng.normal(size=(n, 3))
    Y = (S + rng.normal(size=(n, 3)) > 0).astype(float)
    Y[rng.random((n, 3)) < 0.25] = np.nan
    w = rng.uniform(0.5, 2.0, size=n)
    return Y, S, w


def test_roc_auc_and_log_loss_match_scikit_learn_task_by_task():
    Y, S, w = _labels_and_scores()
    P = 1.0 / (1.0 + np.exp(-S))
    auc = roc_auc_score(Y, S, sample_weight=w, aggregate="raw_values")
    ll = log_loss(Y, P, sample_weight=w, aggregate="raw_values")
    for t in range(3):
        m = ~np.isnan(Y[:, t])
        ref_auc = skm.roc_auc_score(Y[m, t], S[m, t], sample_weight=w[m])
        ref_ll = skm.log_loss(Y[m, t], P[m, t], sample_weight=w[m])
        assert auc[t] == pytest.approx(ref_auc, rel=1e-12)
        assert ll[t] == pytest.approx(ref_ll, rel=1e-12)
    assert roc_auc_score(Y, S, sample_weight=w) == pytest.approx(auc.mean())
    # predict_proba's list of (n, 2) arrays is the same input
    proba = [np.column_stack([1 - P[:, t], P[:, t]]) for t in range(3)]
    np.testing.assert_allclose(log_loss(Y, proba, aggregate="raw_values"),
                               log_loss(Y, P, aggregate="raw_values"))  # fmt: skip


def test_string_labels_and_classes():
    Y, S, _ = _labels_and_scores(seed=1)
    names = np.array(["neg", "pos"], dtype=object)
    Ys = np.where(np.isnan(Y), None, names[np.nan_to_num(Y).astype(int)])
    auc_num = roc_auc_score(Y, S, aggregate="raw_values")
    np.testing.assert_allclose(roc_auc_score(Ys, S, aggregate="raw_values"), auc_num)
    # the positive class is the second of classes: reversing it flips the AUC
    rev = [np.array(["pos", "neg"], dtype=object)] * 3
    flipped = roc_auc_score(Ys, S, aggregate="raw_values", classes=rev)
    np.testing.assert_allclose(flipped, 1.0 - auc_num)
    with pytest.raises(ValueError, match="label '(neg|pos)' not in its classes"):
        roc_auc_score(Ys, S, classes=[np.array(["a", "b"])] * 3)
    Y3 = np.array([[0.0], [1.0], [2.0]])
    with pytest.raises(ValueError, match="task 0 has 3 classes"):
        roc_auc_score(Y3, np.zeros((3, 1)))
    with pytest.raises(ValueError, match="probabilities"):
        log_loss(Y, S)


def test_one_class_task_auc_is_nan_with_warning():
    Y, S, _ = _labels_and_scores(seed=2)
    Y[:, 1] = np.where(np.isnan(Y[:, 1]), np.nan, 1.0)
    with pytest.warns(UndefinedMetricWarning, match="one class"):
        auc = roc_auc_score(Y, S, aggregate="raw_values")
    assert np.isnan(auc[1]) and np.all(np.isfinite(auc[[0, 2]]))
    # the log-loss of a one-class task is defined (label 1 is positive)
    m = ~np.isnan(Y[:, 1])
    p = 1 / (1 + np.exp(-S[m, 1]))
    ll = log_loss(Y[:, [1]], 1 / (1 + np.exp(-S[:, [1]])))
    assert ll == pytest.approx(np.mean(-np.log(p)))


def test_one_validation_label_is_nan_not_one_or_zero():
    Y = np.array([[1.0, 2.0], [np.nan, 3.0], [np.nan, 5.0]])
    P = np.array([[1.0, 2.5], [0.0, 3.0], [0.0, 4.0]])
    for fn in (r2_score, explained_variance_score, nmse_score):
        with pytest.warns(UndefinedMetricWarning, match="fewer than two labels"):
            raw = fn(Y, P, aggregate="raw_values")
        assert np.isnan(raw[0]) and np.isfinite(raw[1])
    # scikit-learn agrees: R^2 of one sample is NaN
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(skm.r2_score([1.0], [1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        assert r2_score(Y, P) == pytest.approx(skm.r2_score(Y[:, 1], P[:, 1]))


def test_classification_scorers_in_cross_validate():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 4))
    Y = X[:, :2] @ rng.normal(size=(2, 2)) + 0.5 * rng.normal(size=(90, 2)) > 0
    Y = np.where(Y, "yes", "no").astype(object)
    Y[rng.random(Y.shape) < 0.2] = None
    clf = MultiTaskLogisticRegression(alpha=1e-3)
    scoring = {
        "auc": make_multitask_scorer("roc_auc"),
        "ll": make_multitask_scorer("log_loss"),
        **per_task_scorers("roc_auc", 2),
    }
    assert sorted(per_task_scorers("log_loss", 2)) == [
        "neg_log_loss_task0",
        "neg_log_loss_task1",
    ]
    cv = KFold(3)
    res = cross_validate(clf, X, Y, cv=cv, scoring=scoring)
    for k, (train, test) in enumerate(cv.split(X, Y)):
        model = MultiTaskLogisticRegression(alpha=1e-3).fit(X[train], Y[train])
        D = model.decision_function(X[test])
        proba = model.predict_proba(X[test])
        ref_auc, ref_ll = [], []
        for t in range(2):
            m = np.array([v is not None for v in Y[test, t]])
            z = Y[test, t][m] == model.classes_[t][1]
            ref_auc.append(skm.roc_auc_score(z, D[m, t]))
            ref_ll.append(skm.log_loss(z, proba[t][m, 1], labels=[False, True]))
        assert res["test_auc"][k] == pytest.approx(np.mean(ref_auc))
        assert res["test_ll"][k] == pytest.approx(-np.mean(ref_ll))
        assert res["test_roc_auc_task1"][k] == pytest.approx(ref_auc[1])


def test_scorer_warns_when_a_task_has_no_test_label():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 3))
    Y = X[:, :2] + 0.1 * rng.normal(size=(30, 2))
    model = MultiTaskLasso(alpha=0.01).fit(X, Y)
    Yt = Y.copy()
    Yt[:, 1] = np.nan  # task 1 is absent from the scored rows
    with pytest.warns(UserWarning, match=r"1 of 2 task\(s\) have no label.*\[1\]"):
        score = make_multitask_scorer("r2")(model, X, Yt)
    assert score == pytest.approx(r2_score(Y[:, [0]], model.predict(X)[:, [0]]))
    with pytest.warns(UserWarning, match="task 1 has no label"):
        assert np.isnan(per_task_scorers("r2", 2)["r2_task1"](model, X, Yt))
    with pytest.raises(ValueError, match="no task has a label"):
        make_multitask_scorer("mse")(model, X, np.full_like(Y, np.nan))
    # a complete fold scores without warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_multitask_scorer("nmse")(model, X, Y)


def test_per_task_scores_metric_names():
    with pytest.raises(ValueError, match="Unknown metric 'auc'"):
        per_task_scores([[1.0]], [[1.0]], "auc")


def test_scorer_metadata_routing_of_sample_weight():
    import sklearn

    from skmtl.metrics import mean_squared_error

    rng = np.random.default_rng(5)
    X = rng.normal(size=(45, 3))
    Y = X[:, :2] + 0.3 * rng.normal(size=(45, 2))
    Y[::4, 1] = np.nan
    w = rng.uniform(0.1, 3.0, size=45)
    cv = KFold(3)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_multitask_scorer("mse").set_score_request(sample_weight=True)
        model = MultiTaskLasso(alpha=0.01).set_fit_request(sample_weight=False)
        res = cross_validate(
            model, X, Y, cv=cv, scoring=scorer, params={"sample_weight": w}
        )
    for k, (train, test) in enumerate(cv.split(X)):
        P = MultiTaskLasso(alpha=0.01).fit(X[train], Y[train]).predict(X[test])
        ref = mean_squared_error(Y[test], P, sample_weight=w[test])
        assert res["test_score"][k] == pytest.approx(-ref)
        assert ref != pytest.approx(mean_squared_error(Y[test], P))
