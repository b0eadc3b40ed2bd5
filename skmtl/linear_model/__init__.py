"""Multi-task linear models."""

from ._logistic import MultiTaskLogisticRegression
from ._regression import (
    MultiTaskElasticNet,
    MultiTaskLasso,
    MultiTaskLinearRegression,
)
from ._ridge import MultiTaskRidge

__all__ = [
    "MultiTaskElasticNet",
    "MultiTaskLasso",
    "MultiTaskLinearRegression",
    "MultiTaskLogisticRegression",
    "MultiTaskRidge",
]
