"""Synthetic multi-task problems and loaders for multi-task benchmark data.

Generators return ``(X, Y)`` in skmtl's form (NaN in ``Y`` = no label);
loaders return a :class:`~sklearn.utils.Bunch` with ``X``, ``Y``, ``y``,
``task``, ``task_names``, ``feature_names`` and ``DESCR``.
"""

from ._generators import (
    chain_graph,
    make_multitask_classification,
    make_multitask_regression,
)
from ._house import make_house_apartment
from ._npz import load_npz_tasks, load_parkinsons
from ._school import fetch_school, load_school

__all__ = [
    "chain_graph",
    "fetch_school",
    "load_npz_tasks",
    "load_parkinsons",
    "load_school",
    "make_house_apartment",
    "make_multitask_classification",
    "make_multitask_regression",
]
