"""Regularization paths, CV estimators and task-stratified splitters."""

import warnings

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLassoCV as SkMultiTaskLassoCV
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl import (
    MultiTaskElasticNet,
    MultiTaskLasso,
    MultiTaskLinearRegression,
    MultiTaskLogisticRegression,
    MultiTaskRidge,
)
from skmtl.metrics import make_multitask_scorer
from skmtl.model_selection import (
    MultiTaskElasticNetCV,
    MultiTaskLassoCV,
    MultiTaskLinearRegressionCV,
    MultiTaskLogisticRegressionCV,
    MultiTaskRidgeCV,
    TaskShuffleSplit,
    TaskStratifiedKFold,
    regularization_path,
)

from .conftest import make_problem

PENALTIES = [
    ("l21", None),
    ("l1", None),
    ("elasticnet", 0.5),
    ("sparse_group", 0.5),
    ("trace", None),
    ("graph", 0.5),
]


def _objective(X, Y, W, b, model):
    """Squared-loss objective of ``model``'s penalty at ``(W, b)``."""
    from skmtl._solvers.penalties import make_penalty

    loss = 0.0
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        r = Y[m, t] - X[m] @ W[t] - b[t]
        loss += 0.5 * float(r @ r) / m.sum()
    pen = make_penalty(
        model.penalty, model.alpha, Y.shape[1], {"l1_ratio": model.l1_ratio}
    )
    return loss + pen.value(W)


# ---------------------------------------------------------------- path


@pytest.mark.parametrize("penalty, l1_ratio", PENALTIES)
def test_path_matches_cold_fits(penalty, l1_ratio):
    X, Y = make_problem(n=70, p=15, T=3, missing=0.25, seed=1)
    kw = dict(l1_ratio=l1_ratio, tol=1e-9, max_iter=20000)
    path = regularization_path(X, Y, penalty, n_alphas=8, eps=1e-2, **kw)
    assert np.all(np.diff(path.alphas) < 0)
    assert path.coefs.shape == (8, 3, 15) and path.intercepts.shape == (8, 3)
    assert np.isnan(path.dual_gaps).all() == (penalty == "graph")
    cold_iters = 0
    for k, alpha in enumerate(path.alphas):
        model = MultiTaskLinearRegression(penalty=penalty, alpha=alpha, **kw)
        model.fit(X, Y)
        cold_iters += model.n_iter_
        f_path = _objective(X, Y, path.coefs[k], path.intercepts[k], model)
        f_cold = _objective(X, Y, model.coef_, model.intercept_, model)
        assert abs(f_path - f_cold) <= 1e-7 * max(1.0, abs(f_cold))
        np.testing.assert_allclose(path.coefs[k], model.coef_, atol=1e-3)
    # warm starts: fewer iterations in total than cold fits
    assert path.n_iters.sum() < cold_iters


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n, p", [(12, 40), (40, 12)])
def test_single_task_path_matches_scikit_learn_lasso_path(n, p, fit_intercept):
    # one task, every label present (the residual kernel's (n, 1) residual
    # must not alias the centred targets); wide and tall
    from sklearn.linear_model import lasso_path

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, p))
    y = X[:, :4] @ rng.normal(size=4) + 0.3 * rng.normal(size=n)
    y_before = y.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        path = regularization_path(
            X, y, n_alphas=10, eps=1e-2, tol=1e-10, max_iter=10000,
            fit_intercept=fit_intercept,
        )  # fmt: skip
    assert path.converged.all()
    np.testing.assert_array_equal(y, y_before)
    Xc, yc = (X - X.mean(0), y - y.mean()) if fit_intercept else (X, y)
    _, sk_coefs, _ = lasso_path(Xc, yc, alphas=path.alphas, tol=1e-12, max_iter=100000)
    np.testing.assert_allclose(path.coefs[:, 0, :], sk_coefs.T, atol=1e-6)


def test_path_explicit_alphas_sorted_and_logistic():
    X, Y = make_problem(n=60, p=6, T=2, missing=0.2, seed=2)
    B = np.where(np.isnan(Y), np.nan, (Y > np.nanmedian(Y, axis=0)).astype(float))
    path = regularization_path(X, B, "l21", alphas=[0.001, 0.1, 0.01], loss="logistic")
    np.testing.assert_array_equal(path.alphas, [0.1, 0.01, 0.001])
    assert np.isnan(path.alpha_max)
    cold = MultiTaskLogisticRegression(alpha=0.01, tol=1e-4).fit(X, B)
    np.testing.assert_allclose(path.coefs[1], cold.coef_, atol=2e-2)


@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("penalty, l1_ratio", PENALTIES)
def test_alpha_max_is_exact(penalty, l1_ratio, loss):
    X, Y = make_problem(n=60, p=8, T=3, missing=0.2, seed=3)
    if loss == "logistic":
        Y = np.where(np.isnan(Y), np.nan, (Y > np.nanmedian(Y, axis=0)).astype(float))
    sw = np.random.default_rng(0).uniform(0.5, 2, size=60)
    kw = dict(l1_ratio=l1_ratio, loss=loss, sample_weight=sw, tol=1e-8)
    kw["max_iter"] = 5000
    a_max = regularization_path(X, Y, penalty, n_alphas=1, **kw).alpha_max
    path = regularization_path(X, Y, penalty, alphas=[a_max, 0.97 * a_max], **kw)
    # zero up to the rounding of the tie |gradient| = alpha_max
    assert np.abs(path.coefs[0]).max() <= 1e-12
    assert np.any(np.abs(path.coefs[1]) > 1e-8)


def test_path_rejects_bad_input():
    X, Y = make_problem(n=30, p=4, T=2)
    with pytest.raises(ValueError, match="Unknown penalty"):
        regularization_path(X, Y, "lasso")
    with pytest.raises(ValueError, match="Unknown loss"):
        regularization_path(X, Y, loss="hinge")
    with pytest.raises(ValueError, match="alpha_max"):
        regularization_path(X, Y, "elasticnet", l1_ratio=0.0)
    with pytest.raises(ValueError, match="solver='bcd'"):
        regularization_path(X, Y, "trace", solver="bcd", n_alphas=2)


def test_path_warns_when_not_converged():
    X, Y = make_problem(n=50, p=20, T=2, seed=4)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        regularization_path(X, Y, "trace", n_alphas=3, max_iter=2, tol=1e-12)


# ---------------------------------------------------------------- CV


def _gridsearch_alpha(estimator, alphas, X, Y, folds):
    gs = GridSearchCV(
        estimator,
        {"alpha": list(alphas)},
        cv=folds,
        scoring=make_multitask_scorer("mse"),
    ).fit(X, Y)
    return gs


@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_lasso_cv_matches_gridsearch(missing):
    X, Y = make_problem(n=90, p=12, T=3, missing=missing, seed=5, noise=1.0)
    cv = MultiTaskLassoCV(n_alphas=12, cv=4, tol=1e-8).fit(X, Y)
    folds = list(
        (TaskStratifiedKFold(4) if missing else KFold(4)).split(X, Y)
    )  # the estimator's default folds
    gs = _gridsearch_alpha(MultiTaskLasso(tol=1e-8), cv.alphas_, X, Y, folds)
    assert cv.alpha_ == gs.best_params_["alpha"]
    np.testing.assert_allclose(
        cv.mse_path_.mean(axis=1), -gs.cv_results_["mean_test_score"], rtol=1e-5
    )
    ref = MultiTaskLasso(alpha=cv.alpha_, tol=1e-8).fit(X, Y)
    np.testing.assert_allclose(cv.coef_, ref.coef_, atol=1e-5)


def test_lasso_cv_matches_scikit_learn():
    X, Y = make_problem(n=100, p=10, T=3, seed=6, noise=1.0)
    ours = MultiTaskLassoCV(n_alphas=15, cv=3, tol=1e-8).fit(X, Y)
    ref = SkMultiTaskLassoCV(alphas=15, cv=3, tol=1e-8).fit(X, Y)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-10)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-4)
    assert ours.alpha_ == pytest.approx(ref.alpha_)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)


def test_elasticnet_cv_l1_ratio_list_matches_gridsearch():
    X, Y = make_problem(n=80, p=10, T=3, missing=0.2, seed=7, noise=1.0)
    cv = MultiTaskElasticNetCV(
        l1_ratio=[0.3, 0.9], alphas=np.geomspace(1, 1e-3, 8), cv=3, tol=1e-8
    ).fit(X, Y)
    assert cv.mse_path_.shape == (2, 8, 3) and cv.alphas_.shape == (2, 8)
    folds = list(TaskStratifiedKFold(3).split(X, Y))
    gs = GridSearchCV(
        MultiTaskElasticNet(tol=1e-8),
        {"l1_ratio": [0.3, 0.9], "alpha": list(cv.alphas_[0])},
        cv=folds,
        scoring=make_multitask_scorer("mse"),
    ).fit(X, Y)
    assert cv.alpha_ == gs.best_params_["alpha"]
    assert cv.l1_ratio_ == gs.best_params_["l1_ratio"]


def test_linear_regression_cv_trace_and_parallel_folds():
    X, Y = make_problem(n=80, p=8, T=4, missing=0.2, seed=8, noise=1.0)
    a = MultiTaskLinearRegressionCV("trace", n_alphas=6, cv=3).fit(X, Y)
    b = MultiTaskLinearRegressionCV("trace", n_alphas=6, cv=3, n_jobs=2).fit(X, Y)
    np.testing.assert_allclose(a.mse_path_, b.mse_path_)
    assert a.alpha_ == b.alpha_ and np.isfinite(a.dual_gap_)
    assert a.score(X, Y) > 0.5


@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_ridge_cv_matches_gridsearch(missing):
    X, Y = make_problem(n=90, p=6, T=4, missing=missing, seed=9, noise=2.0)
    grid = {"alpha": [1e-3, 1e-2, 1e-1, 1.0], "coupling": [0.0, 0.1, 1.0, 10.0]}
    cv = MultiTaskRidgeCV(grid["alpha"], grid["coupling"], cv=3).fit(X, Y)
    assert cv.cv_solver_ == ("task_eigen" if missing else "eigen")
    folds = list((TaskStratifiedKFold(3) if missing else KFold(3)).split(X, Y))
    gs = GridSearchCV(
        MultiTaskRidge(), grid, cv=folds, scoring=make_multitask_scorer("mse")
    ).fit(X, Y)
    assert (cv.alpha_, cv.coupling_) == (
        gs.best_params_["alpha"],
        gs.best_params_["coupling"],
    )
    # GridSearchCV's order: alpha outer, coupling inner
    np.testing.assert_allclose(
        cv.mse_path_.mean(axis=2).ravel(),
        -gs.cv_results_["mean_test_score"],
        rtol=1e-8,
    )
    ref = MultiTaskRidge(cv.alpha_, cv.coupling_).fit(X, Y)
    np.testing.assert_allclose(cv.coef_, ref.coef_)


def test_logistic_cv():
    X, Y = make_problem(n=120, p=6, T=3, missing=0.2, seed=10)
    B = np.where(np.isnan(Y), np.nan, (Y > np.nanmedian(Y, axis=0)).astype(float))
    clf = MultiTaskLogisticRegressionCV(n_alphas=6, cv=3).fit(X, B)
    assert clf.log_loss_path_.shape == (6, 3)
    assert clf.alpha_ < clf.alphas_[0]
    assert clf.score(X, B) > 0.75
    assert len(clf.classes_) == 3


def test_cv_fold_without_task_labels_names_the_task():
    X, Y = make_problem(n=40, p=4, T=2, seed=11)
    Y[4:, 1] = np.nan  # task 1: rows 0..3 only -> KFold's first fold takes them all
    with pytest.raises(ValueError, match=r"CV fold 0: task 1 has no labelled"):
        MultiTaskLassoCV(n_alphas=3, cv=KFold(5)).fit(X, Y)
    # the default splitter stratifies by task: 4 labels < 5 folds still keeps
    # task 1 in every training fold (with a warning); 1 label cannot
    with pytest.warns(UserWarning, match="task 1, has 4"):
        MultiTaskLassoCV(n_alphas=3).fit(X, Y)
    MultiTaskLassoCV(n_alphas=3, cv=4).fit(X, Y)
    Y[1:, 1] = np.nan
    with pytest.raises(ValueError, match="task 1 has 1 labelled row"):
        MultiTaskLassoCV(n_alphas=3).fit(X, Y)


def test_cv_works_under_joblib_backend_context():
    X, Y = make_problem(n=60, p=5, T=2, seed=12)
    ref = MultiTaskLassoCV(n_alphas=5, cv=3).fit(X, Y)
    with joblib.parallel_backend("threading", n_jobs=2):
        got = MultiTaskLassoCV(n_alphas=5, cv=3, n_jobs=2).fit(X, Y)
    np.testing.assert_allclose(got.mse_path_, ref.mse_path_)


def test_cv_on_dask_cluster():
    distributed = pytest.importorskip("dask.distributed")
    X, Y = make_problem(n=60, p=5, T=2, missing=0.2, seed=13)
    ref = MultiTaskLassoCV(n_alphas=5, cv=3).fit(X, Y)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        with joblib.parallel_backend("dask"):
            got = MultiTaskLassoCV(n_alphas=5, cv=3, n_jobs=-1).fit(X, Y)
    np.testing.assert_allclose(got.mse_path_, ref.mse_path_)
    assert got.alpha_ == ref.alpha_


# ------------------------------------------------------ estimator checks

CV_ESTIMATORS = [
    MultiTaskLassoCV(n_alphas=4, cv=3),
    MultiTaskElasticNetCV(l1_ratio=[0.5, 1.0], n_alphas=4, cv=3),
    MultiTaskLinearRegressionCV("sparse_group", n_alphas=4, cv=3),
    MultiTaskRidgeCV(alphas=[0.1, 1.0], couplings=[0.0, 1.0], cv=3),
    MultiTaskLogisticRegressionCV(n_alphas=3, cv=3),
    MultiTaskLinearRegressionCV("relationship", n_alphas=3, cv=3),
    MultiTaskLinearRegressionCV("clustered", n_alphas=3, cv=3),
    MultiTaskLinearRegressionCV("tree", n_alphas=3, cv=3),
    MultiTaskLogisticRegressionCV("clustered", n_alphas=3, cv=3),
]


def _expected_failures(estimator):
    if isinstance(estimator, MultiTaskLogisticRegressionCV):
        return {
            "check_classifier_multioutput": (
                "classes_ is a list with one array per task (DESIGN), as for "
                "MultiTaskLogisticRegression; this check indexes classes_ as "
                "one array. Output shapes are tested in test_logistic_cv."
            )
        }
    return {}


@parametrize_with_checks(CV_ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# ------------------------------------------------------------- splitters


def _small_task_problem():
    rng = np.random.default_rng(14)
    Y = rng.normal(size=(40, 3))
    Y[:, 2] = np.nan
    Y[:6, 2] = 1.0  # task 2 lives on the first 6 rows only
    Y[rng.random(40) < 0.3, 1] = np.nan
    return np.zeros((40, 2)), Y


def test_stratified_kfold_keeps_every_task_where_kfold_does_not():
    X, Y = _small_task_problem()
    M = ~np.isnan(Y)
    kfold_trains = [M[train].any(axis=0).all() for train, _ in KFold(5).split(X, Y)]
    assert not all(kfold_trains)  # KFold empties task 2's training set
    cv = TaskStratifiedKFold(5)
    folds = list(cv.split(X, Y))
    assert len(folds) == cv.get_n_splits() == 5
    test_all = np.sort(np.concatenate([te for _, te in folds]))
    np.testing.assert_array_equal(test_all, np.arange(40))
    for train, test in folds:
        assert M[train].any(axis=0).all() and M[test].any(axis=0).all()
        assert len(test) in (8, 9, 7)
    # each task's labels are spread evenly across test folds
    per_fold = np.array([M[te].sum(axis=0) for _, te in folds])
    assert np.all(per_fold.max(axis=0) - per_fold.min(axis=0) <= 1)


def test_stratified_kfold_shuffle_is_reproducible():
    X, Y = _small_task_problem()
    a = [
        te for _, te in TaskStratifiedKFold(3, shuffle=True, random_state=0).split(X, Y)
    ]
    b = [
        te for _, te in TaskStratifiedKFold(3, shuffle=True, random_state=0).split(X, Y)
    ]
    c = [te for _, te in TaskStratifiedKFold(3).split(X, Y)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not all(np.array_equal(u, v) for u, v in zip(a, c, strict=True))


def test_stratified_kfold_task_with_fewer_rows_than_folds_warns():
    # like scikit-learn's StratifiedKFold for a small class: every training
    # fold keeps the task, the test folds that cannot have it are named
    X, Y = _small_task_problem()  # task 2: 6 labelled rows
    with pytest.warns(UserWarning, match="task 2, has 6"):
        folds = list(TaskStratifiedKFold(8).split(X, Y))
    M = ~np.isnan(Y)
    assert all(M[train].any(axis=0).all() for train, _ in folds)
    tests_with_task_2 = sum(M[test, 2].any() for _, test in folds)
    assert tests_with_task_2 == 6  # one row per fold, two folds without


def test_stratified_kfold_multi_label_rows_keep_every_task_in_training():
    # rows labelled for several tasks: task 2 lives only on rows dealt by
    # tasks 0 and 1 (the rule dealing by the rarest task alone put all of its
    # rows in one fold)
    M = np.array(
        [[1, 0, 1], [0, 1, 1], [0, 1, 0], [1, 0, 0], [1, 0, 1], [1, 1, 0], [0, 1, 1]],
        dtype=bool,
    )
    Y = np.where(M, 1.0, np.nan)
    folds = list(TaskStratifiedKFold(2).split(np.zeros((7, 1)), Y))
    assert all(M[train].any(axis=0).all() for train, _ in folds)
    # an odd cycle (0-1, 1-2, 2-0 share tasks): no 2-fold split keeps every
    # task in both training sets, so split raises and names the task
    Y = np.full((3, 3), np.nan)
    Y[[0, 1], 0] = Y[[1, 2], 1] = Y[[0, 2], 2] = 1.0
    with pytest.raises(ValueError, match="falls in test fold"):
        list(TaskStratifiedKFold(2).split(np.zeros((3, 1)), Y))


def test_stratified_kfold_errors():
    X, Y = _small_task_problem()
    Y1 = Y.copy()
    Y1[1:, 2] = np.nan  # task 2 has one label: no split keeps it in training
    with pytest.raises(ValueError, match="task 2 has 1 labelled row"):
        list(TaskStratifiedKFold(3).split(X, Y1))
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(Y1, columns=["a", "b", "small"])
    with pytest.raises(ValueError, match="task 2 \\('small'\\)"):
        list(TaskStratifiedKFold(3).split(X, df))
    with pytest.raises(ValueError, match="need y"):
        list(TaskStratifiedKFold(3).split(X, None))
    with pytest.raises(ValueError, match="at least 2"):
        TaskStratifiedKFold(1)
    with pytest.raises(ValueError, match="shuffle is False"):
        TaskStratifiedKFold(3, random_state=0)


def test_task_shuffle_split():
    X, Y = _small_task_problem()
    M = ~np.isnan(Y)
    cv = TaskShuffleSplit(n_splits=6, test_size=0.25, random_state=0)
    splits = list(cv.split(X, Y))
    assert len(splits) == 6
    for train, test in splits:
        assert len(test) == 10 and len(train) == 30
        assert not set(train) & set(test)
        assert M[train].any(axis=0).all()
        # task 2 (6 labels) keeps its share: 1 or 2 in test
        assert 1 <= M[test, 2].sum() <= 2
    Y[1:, 2] = np.nan
    with pytest.raises(ValueError, match="task 2 has 1 labelled"):
        list(cv.split(X, Y))


def test_cv_selection_breaks_rounding_level_ties_towards_the_largest_alpha():
    # A flat stretch of the CV path (equal errors up to rounding) is one tie:
    # it goes to the largest alpha, so rounding error cannot pick the alpha.
    import types

    from skmtl.model_selection._cv import select_cv_point

    grid = np.array([1.0, 0.5, 0.25, 0.125, 0.0625])
    est = types.SimpleNamespace(_error_attr="mse_path_")
    for noise in (0.0, 4e-16, -4e-16):
        mean = np.array([[3.0, 2.0, 1.0 + noise, 1.0, 1.0]])
        select_cv_point(est, mean, mean[0], [grid], [{"l1_ratio": None}], False)
        assert est.alpha_ == 0.25
    # a real difference is not a tie
    mean = np.array([[3.0, 2.0, 1.0 + 1e-6, 1.0, 1.0]])
    select_cv_point(est, mean, mean[0], [grid], [{"l1_ratio": None}], False)
    assert est.alpha_ == 0.125
    # NaN (no labelled test entry at that point) never wins
    mean = np.array([[np.nan, 2.0, 1.0, np.nan, 1.5]])
    select_cv_point(est, mean, mean[0], [grid], [{"l1_ratio": None}], False)
    assert est.alpha_ == 0.25
