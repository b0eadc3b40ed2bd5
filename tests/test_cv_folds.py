"""Folds of the CV estimators: class checks, the user's labels, ``groups``
(routed to the splitter by scikit-learn's metadata routing)."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import BaseCrossValidator, GroupKFold, KFold

from skmtl.model_selection import (
    MultiTaskElasticNetCV,
    MultiTaskLassoCV,
    MultiTaskLinearRegressionCV,
    MultiTaskLogisticRegressionCV,
    MultiTaskRidgeCV,
)


def _binary_problem(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    S = X[:, :2] @ rng.normal(size=(2, 2)) + 0.3 * rng.normal(size=(n, 2))
    Y = np.where(S > 0, "yes", "no").astype(object)
    return X, Y


class _RecordingKFold(BaseCrossValidator):
    """KFold that keeps the ``y`` and ``groups`` it was given."""

    __metadata_request__split = {"groups": True}  # as sklearn's group splitters

    def __init__(self, n_splits=3):
        self.n_splits = n_splits

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits

    def split(self, X, y=None, groups=None):
        self.seen_ = (y, groups)
        return KFold(self.n_splits).split(X, y)


def test_logistic_cv_rejects_a_one_class_training_fold():
    X, Y = _binary_problem()
    # fold 0 trains on rows where task 1 says "no" only
    no = np.flatnonzero(Y[:, 1] == "no")
    yes = np.flatnonzero(Y[:, 1] == "yes")
    folds = [(no, yes), (np.arange(0, 60, 2), np.arange(1, 60, 2))]
    clf = MultiTaskLogisticRegressionCV(n_alphas=3, cv=folds)
    with pytest.raises(
        ValueError, match=r"CV fold 0: task 1 has only one class \('no'\)"
    ):
        clf.fit(X, Y)
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(Y, columns=["spam", "fraud"])
    with pytest.raises(ValueError, match=r"task 1 \('fraud'\) has only one class"):
        clf.fit(X, df)


def test_logistic_cv_default_folds_keep_rare_classes():
    # sorted labels, 3 positives: KFold(3) tests them all in the last fold
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3))
    y = np.r_[np.zeros(27), np.ones(3)]
    X[-3:] += 1.5
    with pytest.raises(ValueError, match=r"CV fold 2: task 0 has only one class \(0"):
        MultiTaskLogisticRegressionCV(n_alphas=3, cv=KFold(3)).fit(X, y)
    clf = MultiTaskLogisticRegressionCV(n_alphas=3, cv=3).fit(X, y)
    assert np.all(np.isfinite(clf.log_loss_path_))
    assert clf.predict(X).shape == (30,)


def test_user_splitter_gets_the_users_labels_and_groups():
    X, Y = _binary_problem()
    groups = np.repeat(np.arange(6), 10)
    cv = _RecordingKFold(3)
    with sklearn.config_context(enable_metadata_routing=True):
        MultiTaskLogisticRegressionCV(n_alphas=3, cv=cv).fit(X, Y, groups=groups)
    y_seen, groups_seen = cv.seen_
    assert set(np.unique(np.asarray(y_seen))) == {"no", "yes"}  # not +-1
    np.testing.assert_array_equal(groups_seen, groups)


def _regression_problem(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    Y = X[:, :2] @ rng.normal(size=(2, 3)) + 0.3 * rng.normal(size=(n, 3))
    return X, Y


CV_ESTIMATORS = [
    (MultiTaskLassoCV, dict(n_alphas=4), "mse_path_"),
    (MultiTaskElasticNetCV, dict(n_alphas=4), "mse_path_"),
    (MultiTaskLinearRegressionCV, dict(penalty="l21", n_alphas=4), "mse_path_"),
    (MultiTaskRidgeCV, dict(alphas=[0.1, 1.0], couplings=[0.0, 1.0]), "mse_path_"),
    (MultiTaskLogisticRegressionCV, dict(n_alphas=4), "log_loss_path_"),
]


@pytest.mark.parametrize("Est, params, path_attr", CV_ESTIMATORS)
def test_group_kfold_in_every_cv_estimator(Est, params, path_attr):
    X, Y = _regression_problem()
    if Est is MultiTaskLogisticRegressionCV:
        Y = (Y > 0).astype(float)
    groups = np.arange(60) % 4  # interleaved: KFold(4) would mix groups
    with pytest.raises(ValueError, match="groups"):
        Est(cv=GroupKFold(4), **params).fit(X, Y)
    with (
        warnings.catch_warnings(),
        sklearn.config_context(enable_metadata_routing=True),
    ):
        warnings.simplefilter("ignore")
        fitted = Est(cv=GroupKFold(4), **params).fit(X, Y, groups=groups)
        explicit = list(GroupKFold(4).split(X, Y, groups))
        reference = Est(cv=explicit, **params).fit(X, Y)
        kfold = Est(cv=KFold(4), **params).fit(X, Y)
    for _, test in explicit:  # every test fold is one whole group
        assert np.unique(groups[test]).size == 1
    np.testing.assert_allclose(
        getattr(fitted, path_attr), getattr(reference, path_attr)
    )
    assert not np.allclose(getattr(fitted, path_attr), getattr(kfold, path_attr))
