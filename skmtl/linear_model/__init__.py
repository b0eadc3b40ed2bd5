"""Multi-task linear models."""

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
    "MultiTaskRidge",
]
