"""Multi-task neural networks: shared, soft, cross-stitch and mixture-of-experts."""

from ._labels import decode_task_labels, encode_task_labels, missing_label_mask
from ._mixed import MultiTaskMLP
from ._multilayer_perceptron import MultiTaskMLPClassifier, MultiTaskMLPRegressor

__all__ = [
    "MultiTaskMLP",
    "MultiTaskMLPClassifier",
    "MultiTaskMLPRegressor",
    "decode_task_labels",
    "encode_task_labels",
    "missing_label_mask",
]
