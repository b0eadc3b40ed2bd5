"""Model selection for multi-task models: paths, CV estimators, splitters."""

from ._path import regularization_path
from ._split import TaskShuffleSplit, TaskStratifiedKFold

__all__ = ["TaskShuffleSplit", "TaskStratifiedKFold", "regularization_path"]
