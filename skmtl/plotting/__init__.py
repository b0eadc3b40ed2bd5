"""Figures for multi-task models (matplotlib is an optional dependency).

Each ``plot_*`` function returns a ``*Display`` object in the style of
scikit-learn's plotting API: ``plot(ax=None, ...)`` draws and stores
``ax_``, ``figure_`` and the main artists; ``from_estimator`` /
``from_result`` build one from a fitted model or a diagnostic result.
Install matplotlib with ``pip install 'skmtl[plot]'``.
"""

from ._coef import CoefPatternDisplay, plot_coef_pattern
from ._learning import LearningCurvesDisplay, plot_learning_curves
from ._path import (
    CVPathDisplay,
    RegularizationPathDisplay,
    plot_cv_path,
    plot_regularization_path,
)
from ._similarity import TaskSimilarityDisplay, plot_task_similarity
from ._transfer import TransferGainDisplay, plot_transfer_gain
from ._tree import TaskTreeDisplay, plot_task_tree

__all__ = [
    "CVPathDisplay",
    "CoefPatternDisplay",
    "LearningCurvesDisplay",
    "RegularizationPathDisplay",
    "TaskSimilarityDisplay",
    "TaskTreeDisplay",
    "TransferGainDisplay",
    "plot_coef_pattern",
    "plot_cv_path",
    "plot_learning_curves",
    "plot_regularization_path",
    "plot_task_similarity",
    "plot_task_tree",
    "plot_transfer_gain",
]
