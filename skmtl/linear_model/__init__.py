"""Multi-task linear models."""

from ._regression import (
    MultiTaskElasticNet,
    MultiTaskLasso,
    MultiTaskLinearRegression,
)

__all__ = [
    "MultiTaskElasticNet",
    "MultiTaskLasso",
    "MultiTaskLinearRegression",
]
