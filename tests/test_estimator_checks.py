"""scikit-learn's estimator checks on every skmtl estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl import (
    MultiTaskElasticNet,
    MultiTaskLasso,
    MultiTaskLinearRegression,
    MultiTaskLogisticRegression,
)

from .test_structured import _expected_failures

NEW_PENALTIES = ["mcp", "scad", "capped_l1", "dirty", "robust", "sparse_low_rank"]
ESTIMATORS = [
    MultiTaskLasso(alpha=0.01),
    MultiTaskElasticNet(alpha=0.01),
    MultiTaskLinearRegression(penalty="l1", alpha=0.01),
    MultiTaskLinearRegression(penalty="sparse_group", alpha=0.01),
    *(MultiTaskLinearRegression(penalty=p, alpha=0.01) for p in NEW_PENALTIES),
    *(MultiTaskLogisticRegression(penalty=p, alpha=0.01) for p in NEW_PENALTIES),
    MultiTaskLinearRegression(penalty="relationship", alpha=0.01),
    MultiTaskLinearRegression(penalty="clustered", alpha=0.01),
    MultiTaskLinearRegression(penalty="tree", alpha=0.01),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
