"""Model selection for multi-task models: paths, CV estimators, splitters.

- :func:`regularization_path`: warm-started fits over a decreasing ``alpha``
  grid starting at the exact ``alpha_max``.
- CV estimators choosing ``alpha`` (and ``l1_ratio``) along those paths:
  :class:`MultiTaskLassoCV`, :class:`MultiTaskElasticNetCV`,
  :class:`MultiTaskLinearRegressionCV`, :class:`MultiTaskLogisticRegressionCV`,
  and :class:`MultiTaskRidgeCV` over ``(alpha, coupling)``.
  Every CV estimator takes ``scoring`` (any per-task metric of
  :mod:`skmtl.metrics`) and routes ``fit(..., groups=...)`` to its
  splitter with scikit-learn's metadata routing (as ``LassoCV``).
- Splitters keeping every task (and every class of a classification task)
  in every fold: :class:`TaskStratifiedKFold`, :class:`TaskShuffleSplit`.
"""

from ._cv import (
    MultiTaskElasticNetCV,
    MultiTaskLassoCV,
    MultiTaskLinearRegressionCV,
    MultiTaskLogisticRegressionCV,
)
from ._path import regularization_path
from ._ridge_cv import MultiTaskRidgeCV
from ._split import TaskShuffleSplit, TaskStratifiedKFold

__all__ = [
    "MultiTaskElasticNetCV",
    "MultiTaskLassoCV",
    "MultiTaskLinearRegressionCV",
    "MultiTaskLogisticRegressionCV",
    "MultiTaskRidgeCV",
    "TaskShuffleSplit",
    "TaskStratifiedKFold",
    "regularization_path",
]
