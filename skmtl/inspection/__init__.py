"""Task-relatedness diagnostics: task similarity, transfer gain, shared support.

- :func:`task_similarity`: cosine / correlation between tasks' fitted
  parameters (linear ``coef_`` or MLP heads).
- :func:`task_relatedness`: how related the tasks look *before* any
  multi-task fit (independent per-task models and cross-task transfer).
- :func:`transfer_gain`: per-task cross-validated gain of a multi-task model
  over per-task models, the negative-transfer detector.
- :func:`selected_features`: the shared support of an ``l21`` model.
"""

from ._coef import selected_features
from ._relatedness import TaskRelatedness, task_relatedness
from ._similarity import task_similarity
from ._transfer import TransferGainResult, transfer_gain

__all__ = [
    "TaskRelatedness",
    "TransferGainResult",
    "selected_features",
    "task_relatedness",
    "task_similarity",
    "transfer_gain",
]
