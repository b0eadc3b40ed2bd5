"""Class-aware task-stratified splitting (rare classes per task)."""

import warnings

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skmtl import MultiTaskLogisticRegression, stack_tasks
from skmtl.model_selection import TaskShuffleSplit, TaskStratifiedKFold


def _rare_class_problem(n_tasks=29, n_rows=30, seed=0, positives=(2, 6)):
    """Per-task detection data, stacked: 2-6 positives among 30 rows per task."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=4)
    Xs, ys = [], []
    for _ in range(n_tasks):
        X = rng.normal(size=(n_rows, 4))
        score = X @ (w + 0.3 * rng.normal(size=4))
        y = np.zeros(n_rows)
        y[np.argsort(-score)[: rng.integers(positives[0], positives[1] + 1)]] = 1.0
        Xs.append(X)
        ys.append(y)
    return stack_tasks(Xs, ys)


def _classes_in_every_training_set(Y, folds):
    for train, _ in folds:
        for t in range(Y.shape[1]):
            labels = Y[train, t]
            if np.unique(labels[~np.isnan(labels)]).size < 2:
                return False
    return True


def test_rare_classes_stay_in_every_training_set():
    X, Y = _rare_class_problem()
    positives = np.nansum(Y, axis=0)
    assert positives.min() == 2 and positives.max() == 6
    # task-only stratification puts some task's positives in one test fold
    kw = dict(shuffle=True, random_state=3)  # a seed where task-only fails
    by_task = TaskStratifiedKFold(5, stratify_classes=False, **kw)
    assert not _classes_in_every_training_set(Y, list(by_task.split(X, Y)))
    with pytest.warns(UserWarning, match="task classes have fewer labelled rows"):
        folds = list(TaskStratifiedKFold(5, **kw).split(X, Y))
    assert _classes_in_every_training_set(Y, folds)
    # positives are spread evenly: no test fold holds two more than another
    per_fold = np.array([np.nansum(Y[test], axis=0) for _, test in folds])
    assert np.all(per_fold.max(axis=0) - per_fold.min(axis=0) <= 1)
    # the partition is still a partition, tasks still spread
    test_all = np.sort(np.concatenate([te for _, te in folds]))
    np.testing.assert_array_equal(test_all, np.arange(X.shape[0]))


def test_grid_search_on_rare_classes_no_longer_crashes():
    X, Y = _rare_class_problem()
    grid = {"alpha": [1e-3, 1e-2]}
    model = MultiTaskLogisticRegression(alpha=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="stratify_classes must be"):
            TaskStratifiedKFold(5, stratify_classes="yes")
        by_task = TaskStratifiedKFold(
            5, shuffle=True, random_state=3, stratify_classes=False
        )
        with pytest.raises(ValueError, match="only one class"):
            GridSearchCV(model, grid, cv=by_task, error_score="raise").fit(X, Y)
        cv = TaskStratifiedKFold(5, shuffle=True, random_state=3)
        search = GridSearchCV(model, grid, cv=cv, error_score="raise").fit(X, Y)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and scores.min() > 0.8


def test_grid_search_mlp_classifier_on_rare_classes():
    from skmtl.neural_network import MultiTaskMLPClassifier

    X, Y = _rare_class_problem()
    mlp = MultiTaskMLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    grid = {"alpha": [1e-4, 1e-2]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by_task = TaskStratifiedKFold(
            5, shuffle=True, random_state=3, stratify_classes=False
        )
        with pytest.raises(ValueError, match="only one class"):
            GridSearchCV(mlp, grid, cv=by_task, error_score="raise").fit(X, Y)
        cv = TaskStratifiedKFold(5, shuffle=True, random_state=3)
        search = GridSearchCV(mlp, grid, cv=cv, error_score="raise").fit(X, Y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_class_with_one_row_is_named():
    X, Y = _rare_class_problem(n_tasks=3)
    pos = np.flatnonzero(Y[:, 1] == 1.0)
    Y[pos[1:], 1] = 0.0  # task 1: a single positive
    with pytest.raises(ValueError, match="class 1.0 of task 1 has 1 labelled"):
        list(TaskStratifiedKFold(3).split(X, Y))
    with pytest.raises(ValueError, match="class 1.0 of task 1 has 1 labelled"):
        list(TaskShuffleSplit(3, test_size=0.2).split(X, Y))
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(Y, columns=["a", "b", "c"])
    with pytest.raises(ValueError, match="class 1.0 of task 1 \\('b'\\)"):
        list(TaskStratifiedKFold(3).split(X, df))
    # as a regression target (no class stratification) it splits
    assert len(list(TaskStratifiedKFold(3, stratify_classes=False).split(X, Y))) == 3


def test_which_tasks_are_classes():
    rng = np.random.default_rng(0)
    n = 24
    labels = np.array(["spam"] * 3 + ["ham"] * 21, dtype=object)
    labels[[5, 9]] = None  # missing labels of a string task
    Y = np.empty((n, 3), dtype=object)
    Y[:, 0] = labels
    Y[:, 1] = rng.normal(size=n)  # regression: never classes under "auto"
    Y[:, 2] = np.r_[np.zeros(20), np.full(4, 2.0)]  # codes 0/2: binary
    folds = list(TaskStratifiedKFold(3).split(np.zeros((n, 1)), Y))
    for train, test in folds:
        assert list(Y[train, 0]).count("spam") == 2
        assert list(Y[test, 0]).count("spam") == 1
        assert (Y[train, 2] == 2.0).sum() in (2, 3)
    # multiclass integer codes are not detected; stratify_classes=True does it
    y = np.r_[np.zeros(12), np.ones(12)]
    y[[0, 3, 6]] = 2.0  # dealt round-robin by task only, all three in fold 0
    auto = [np.sum(y[tr] == 2) for tr, _ in TaskStratifiedKFold(3).split(y, y)]
    assert auto == [0, 3, 3]
    forced = TaskStratifiedKFold(3, stratify_classes=True)
    assert [np.sum(y[tr] == 2) for tr, _ in forced.split(y, y)] == [2, 2, 2]


def test_shuffle_split_keeps_classes():
    X, Y = _rare_class_problem(n_tasks=6)
    cv = TaskShuffleSplit(n_splits=5, test_size=0.3, random_state=0)
    splits = list(cv.split(X, Y))
    assert _classes_in_every_training_set(Y, splits)
    for _, test in splits:  # every class of every task is tested too
        assert np.all(np.nansum(Y[test], axis=0) >= 1)


def test_logistic_cv_on_rare_classes_selects_a_real_model():
    # the failure: a fold with one class per task let the intercept
    # run off, that fold's log-loss decided, and the CV picked the all-zero
    # model (AUC 0.5 everywhere); the default folds now keep both classes
    from skmtl.metrics import roc_auc_score
    from skmtl.model_selection import MultiTaskLogisticRegressionCV

    X, Y = _rare_class_problem(n_rows=60, positives=(4, 12))
    # held-out half of every task: 2-6 positives per task left for training
    train, test = next(TaskStratifiedKFold(2, shuffle=True, random_state=0).split(X, Y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MultiTaskLogisticRegressionCV(n_alphas=6, cv=3).fit(X[train], Y[train])
    assert np.abs(clf.coef_).sum() > 0 and clf.alpha_ < clf.alphas_[0]
    auc = roc_auc_score(Y[test], clf.decision_function(X[test]), aggregate="raw_values")
    assert auc.mean() > 0.8 and np.mean(auc > 0.5) > 0.9
