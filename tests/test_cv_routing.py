"""Metadata routing of the CV estimators' ``fit(X, y, sample_weight,
**params)``: scikit-learn's rules, as in ``LassoCV``."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.metadata_routing import MetadataRouter

from skmtl.model_selection import (
    MultiTaskElasticNetCV,
    MultiTaskLassoCV,
    MultiTaskLinearRegressionCV,
    MultiTaskLogisticRegressionCV,
    MultiTaskRidgeCV,
)

CV_ESTIMATORS = [
    (MultiTaskLassoCV, dict(n_alphas=3)),
    (MultiTaskElasticNetCV, dict(n_alphas=3)),
    (MultiTaskLinearRegressionCV, dict(penalty="l21", n_alphas=3)),
    (MultiTaskRidgeCV, dict(alphas=[0.1, 1.0], couplings=[0.0, 1.0])),
    (MultiTaskLogisticRegressionCV, dict(n_alphas=3)),
]
IDS = [est.__name__ for est, _ in CV_ESTIMATORS]


def _problem(Est, n=48, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    Y = X[:, :2] @ rng.normal(size=(2, 2)) + 0.3 * rng.normal(size=(n, 2))
    if Est is MultiTaskLogisticRegressionCV:
        Y = (Y > 0).astype(float)
    return X, Y


@pytest.mark.parametrize("Est, params", CV_ESTIMATORS, ids=IDS)
def test_params_without_routing_raise(Est, params):
    X, Y = _problem(Est)
    groups = np.arange(X.shape[0]) % 4
    for extra in ({"groups": groups}, {"anything": 1}):
        with pytest.raises(ValueError, match="enable_metadata_routing=True"):
            Est(cv=GroupKFold(4), **params).fit(X, Y, **extra)


@pytest.mark.parametrize("Est, params", CV_ESTIMATORS, ids=IDS)
def test_routed_groups_make_the_folds(Est, params):
    """With routing on, ``groups`` reaches ``GroupKFold``: the CV paths are
    those of the explicit group folds, and differ from KFold's."""
    X, Y = _problem(Est)
    groups = np.arange(X.shape[0]) % 4
    explicit = list(GroupKFold(4).split(X, Y, groups))
    attr = "log_loss_path_" if Est is MultiTaskLogisticRegressionCV else "mse_path_"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with sklearn.config_context(enable_metadata_routing=True):
            routed = Est(cv=GroupKFold(4), **params).fit(X, Y, groups=groups)
            weighted = Est(cv=GroupKFold(4), **params)
            weighted.fit(X, Y, sample_weight=np.ones(X.shape[0]), groups=groups)
        reference = Est(cv=explicit, **params).fit(X, Y)
    np.testing.assert_allclose(getattr(routed, attr), getattr(reference, attr))
    np.testing.assert_allclose(getattr(weighted, attr), getattr(reference, attr))


@pytest.mark.parametrize("Est, params", CV_ESTIMATORS, ids=IDS)
def test_unrequested_metadata_is_an_error_with_routing(Est, params):
    """``KFold`` does not take ``groups``: routing refuses to drop it."""
    X, Y = _problem(Est)
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises((TypeError, ValueError), match="groups"):
            Est(cv=KFold(4), **params).fit(X, Y, groups=np.arange(X.shape[0]) % 4)


def test_router_maps_fit_to_the_splitters_split():
    router = MultiTaskLassoCV(cv=GroupKFold(3)).get_metadata_routing()
    assert isinstance(router, MetadataRouter)
    assert "groups" in router.consumes("fit", ["groups"])
    assert not MultiTaskLassoCV(cv=3).get_metadata_routing().consumes("fit", ["groups"])
