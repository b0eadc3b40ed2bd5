"""skmtl: multi-task learning for scikit-learn.

One ``X``, one ``Y`` of shape ``(n_samples, n_tasks)`` with NaN where a task
has no label; estimators follow scikit-learn's API. ``skmtl.__version__`` is
the installed version (PEP 440 string).

Examples
--------
>>> import skmtl
>>> skmtl.__version__.split(".")[:2]
['0', '1']
"""

from .linear_model import (
    MultiTaskElasticNet,
    MultiTaskLasso,
    MultiTaskLinearRegression,
    MultiTaskLogisticRegression,
    MultiTaskRidge,
)
from .model_selection import (
    MultiTaskElasticNetCV,
    MultiTaskLassoCV,
    MultiTaskLinearRegressionCV,
    MultiTaskLogisticRegressionCV,
    MultiTaskRidgeCV,
    TaskShuffleSplit,
    TaskStratifiedKFold,
    regularization_path,
)
from .neural_network import MultiTaskMLP, MultiTaskMLPClassifier, MultiTaskMLPRegressor
from .tasks import predict_frame, stack_tasks, unstack_tasks

__version__ = "0.1.0.dev0"

__all__ = [
    "MultiTaskElasticNet",
    "MultiTaskElasticNetCV",
    "MultiTaskLasso",
    "MultiTaskLassoCV",
    "MultiTaskLinearRegression",
    "MultiTaskLinearRegressionCV",
    "MultiTaskLogisticRegression",
    "MultiTaskLogisticRegressionCV",
    "MultiTaskMLP",
    "MultiTaskMLPClassifier",
    "MultiTaskMLPRegressor",
    "MultiTaskRidge",
    "MultiTaskRidgeCV",
    "TaskShuffleSplit",
    "TaskStratifiedKFold",
    "regularization_path",
    "predict_frame",
    "stack_tasks",
    "unstack_tasks",
    "__version__",
]
