"""Per-task training and validation curves of a multi-task MLP."""

import numpy as np

from ._base import estimator_task_names, require_matplotlib, task_labels

__all__ = ["LearningCurvesDisplay", "plot_learning_curves"]


class LearningCurvesDisplay:
    """Per-task training loss (and validation score) per epoch.

    Parameters
    ----------
    task_loss_curves : array-like of shape (n_epochs, n_tasks)
        E.g. ``MultiTaskMLPRegressor.task_loss_curves_``. A 1-D array is one
        task's curve.
    validation_scores : array-like of shape (n_epochs, n_tasks), default=None
        E.g. ``validation_scores_`` (fitted with ``early_stopping=True``).
    task_names : sequence of str, default=None

    Attributes
    ----------
    loss_lines_ : list of Line2D
        One training-loss line per task.
    validation_lines_ : list of Line2D
        One validation line per task (empty without validation scores).
    axes_ : ndarray of Axes
        The loss axes, then the validation axes if drawn.
    ax_ : matplotlib Axes
        The loss axes.
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.plotting import LearningCurvesDisplay
    >>> loss = np.array([[1.0, 2.0], [0.5, 1.0], [0.3, 0.8]])
    >>> disp = LearningCurvesDisplay(loss, -loss, ["a", "b"]).plot()
    >>> len(disp.loss_lines_), len(disp.validation_lines_), len(disp.axes_)
    (2, 2, 2)
    """

    def __init__(self, task_loss_curves, validation_scores=None, task_names=None):
        L = np.asarray(task_loss_curves, dtype=np.float64)
        if L.ndim == 1:  # one task
            L = L[:, None]
        if L.ndim != 2:
            raise ValueError(
                f"task_loss_curves must have shape (n_epochs, n_tasks), got {L.shape}."
            )
        self.task_loss_curves = L
        T = L.shape[1]
        self.validation_scores = None
        if validation_scores is not None:
            V = np.asarray(validation_scores, dtype=np.float64)
            if V.ndim == 1 and T == 1:
                V = V[:, None]
            if V.size:
                if V.ndim != 2 or V.shape[1] != T:
                    raise ValueError(
                        f"validation_scores must have shape (n_epochs, {T}) like "
                        f"task_loss_curves, got {V.shape}."
                    )
                self.validation_scores = V
        self.task_names = task_labels(task_names, T)

    def plot(self, ax=None, *, validation=None, log_loss_axis=True):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes or sequence of two Axes, default=None
            With validation scores two axes are used (loss, validation): give
            two, or None for a new 1 x 2 figure. A single Axes draws the
            training loss only (unless ``validation=True``, which then
            raises).
        validation : bool, default=None
            Draw the validation scores; default: when available and ``ax``
            is not a single Axes.
        log_loss_axis : bool, default=True
            Log scale for the training loss.

        Returns
        -------
        self : LearningCurvesDisplay
        """
        plt = require_matplotlib()
        have_val = self.validation_scores is not None
        single = ax is not None and not isinstance(ax, list | tuple | np.ndarray)
        if validation is None:
            validation = have_val and not single
        if validation and not have_val:
            raise ValueError(
                "No validation scores: fit the MLP with early_stopping=True."
            )
        n_axes = 2 if validation else 1
        if ax is None:
            fig, axes = plt.subplots(1, n_axes, figsize=(5 * n_axes, 4))
            axes = np.atleast_1d(axes)
        else:
            axes = np.atleast_1d(np.asarray(ax, dtype=object))
            if len(axes) < n_axes:
                raise ValueError(
                    "Drawing the validation scores needs two Axes (loss, "
                    "validation); pass ax=[ax1, ax2] or validation=False."
                )
            fig = axes[0].figure
        epochs = np.arange(1, self.task_loss_curves.shape[0] + 1)
        self.loss_lines_ = [
            axes[0].plot(epochs, self.task_loss_curves[:, t], label=name)[0]
            for t, name in enumerate(self.task_names)
        ]
        if log_loss_axis and np.all(self.task_loss_curves[np.isfinite(
                self.task_loss_curves)] > 0):  # fmt: skip
            axes[0].set_yscale("log")
        axes[0].set_xlabel("epoch")
        axes[0].set_ylabel("training loss")
        axes[0].set_title("Per-task training loss")
        axes[0].legend(fontsize="small")
        self.validation_lines_ = []
        if validation:
            V = self.validation_scores
            ve = np.arange(1, V.shape[0] + 1)
            self.validation_lines_ = [
                axes[1].plot(ve, V[:, t], label=name)[0]
                for t, name in enumerate(self.task_names)
            ]
            axes[1].set_xlabel("epoch")
            axes[1].set_ylabel("validation score")
            axes[1].set_title("Per-task validation score")
            axes[1].legend(fontsize="small")
        self.axes_ = axes[:n_axes]
        self.ax_, self.figure_ = axes[0], fig
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, **kwargs):
        """Draw a fitted skmtl MLP's ``task_loss_curves_`` and
        ``validation_scores_``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skmtl.neural_network import MultiTaskMLPRegressor
        >>> from skmtl.plotting import LearningCurvesDisplay
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(60, 3))
        >>> Y = np.c_[X[:, 0], X[:, 1]]
        >>> mlp = MultiTaskMLPRegressor((8,), max_iter=5, random_state=0)
        >>> import warnings; warnings.simplefilter("ignore")
        >>> disp = LearningCurvesDisplay.from_estimator(mlp.fit(X, Y))
        >>> len(disp.loss_lines_[0].get_xdata())
        5
        """
        curves = getattr(estimator, "task_loss_curves_", None)
        if curves is None:
            raise TypeError(
                f"{type(estimator).__name__} has no `task_loss_curves_`: pass a "
                "fitted skmtl MLP (MultiTaskMLPRegressor/Classifier)."
            )
        curves = np.asarray(curves, dtype=np.float64)
        n_tasks = curves.shape[1] if curves.ndim == 2 else 1
        disp = cls(
            curves,
            getattr(estimator, "validation_scores_", None),
            estimator_task_names(estimator, n_tasks),
        )
        return disp.plot(ax=ax, **kwargs)


def plot_learning_curves(estimator, *, ax=None, **kwargs):
    """Per-task training loss and validation score of a fitted MLP.

    Shortcut for :meth:`LearningCurvesDisplay.from_estimator`.

    Parameters
    ----------
    estimator : fitted MultiTaskMLPRegressor or MultiTaskMLPClassifier
        Any object with ``task_loss_curves_`` (epochs x tasks) and optionally
        ``validation_scores_``.
    ax : Axes or sequence of two Axes, default=None
    **kwargs
        Passed to :meth:`LearningCurvesDisplay.plot`.

    Returns
    -------
    display : LearningCurvesDisplay

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> from skmtl.plotting import plot_learning_curves
    >>> fitted = SimpleNamespace(task_loss_curves_=np.ones((4, 3)),
    ...                          validation_scores_=None)
    >>> disp = plot_learning_curves(fitted)
    >>> len(disp.loss_lines_), disp.validation_lines_
    (3, [])
    """
    return LearningCurvesDisplay.from_estimator(estimator, ax=ax, **kwargs)
