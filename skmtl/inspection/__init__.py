"""Task-relatedness diagnostics: task similarity, transfer gain, shared support.

- :func:`task_similarity`: cosine / correlation between tasks' fitted
  parameters (linear ``coef_`` or MLP heads).
- :func:`task_relatedness`: how related the tasks look *before* any
  multi-task fit (independent per-task models and cross-task transfer).
- :func:`transfer_gain`: per-task cross-validated gain of a multi-task model
  over per-task models, the negative-transfer detector.
- :func:`selected_features`: the shared support of an ``l21`` model.
- :func:`task_structure`: the task clusters, correlation and tree a model
  learned (``penalty="relationship"``, ``"clustered"``, ``"tree"``).
"""

from ._coef import selected_features
from ._relatedness import TaskRelatedness, task_relatedness
from ._similarity import task_similarity
from ._structure import TaskStructure, task_structure
from ._transfer import TransferGainResult, transfer_gain

__all__ = [
    "TaskRelatedness",
    "TaskStructure",
    "TransferGainResult",
    "selected_features",
    "task_relatedness",
    "task_similarity",
    "task_structure",
    "transfer_gain",
]
