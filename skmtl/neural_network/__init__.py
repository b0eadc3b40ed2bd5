"""Shared-representation (hard parameter sharing) multi-task neural networks."""

from ._labels import decode_task_labels, encode_task_labels, missing_label_mask
from ._multilayer_perceptron import MultiTaskMLPClassifier, MultiTaskMLPRegressor

__all__ = [
    "MultiTaskMLPClassifier",
    "MultiTaskMLPRegressor",
    "decode_task_labels",
    "encode_task_labels",
    "missing_label_mask",
]
