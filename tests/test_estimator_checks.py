"""scikit-learn's estimator checks on every skmtl estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl import MultiTaskElasticNet, MultiTaskLasso, MultiTaskLinearRegression

ESTIMATORS = [
    MultiTaskLasso(alpha=0.01),
    MultiTaskElasticNet(alpha=0.01),
    MultiTaskLinearRegression(penalty="l1", alpha=0.01),
    MultiTaskLinearRegression(penalty="sparse_group", alpha=0.01),
    MultiTaskLinearRegression(penalty="relationship", alpha=0.01),
    MultiTaskLinearRegression(penalty="clustered", alpha=0.01),
    MultiTaskLinearRegression(penalty="tree", alpha=0.01),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
