"""Bar chart of the per-task transfer gain."""

import numpy as np

from ..inspection._common import LOWER_IS_BETTER
from ._base import get_ax, task_labels

__all__ = ["TransferGainDisplay", "plot_transfer_gain"]


class TransferGainDisplay:
    """Per-task bars of the gain of a multi-task model over a baseline.

    Parameters
    ----------
    gain : array-like of shape (n_tasks,)
    gain_std : array-like of shape (n_tasks,), default=None
        Error bars (one standard deviation over CV folds).
    task_names : sequence of str, default=None
    scoring : str, default="r2"
        Used in the axis label. For errors (``"mse"``, ``"nmse"``) the gain
        is ``baseline - multi-task``, as in ``TransferGainResult``.

    Attributes
    ----------
    bars_ : matplotlib BarContainer
        One bar per task.
    errorbar_ : matplotlib ErrorbarContainer or None
    negative_ : ndarray of bool
        Tasks drawn in ``negative_color`` (gain < 0).
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmtl.plotting import TransferGainDisplay
    >>> disp = TransferGainDisplay([0.2, -0.1], [0.05, 0.02], ["a", "b"]).plot()
    >>> len(disp.bars_), disp.negative_.tolist()
    (2, [False, True])
    """

    def __init__(self, gain, gain_std=None, task_names=None, *, scoring="r2"):
        self.gain = np.asarray(gain, dtype=np.float64).ravel()
        self.gain_std = (
            None if gain_std is None else np.asarray(gain_std, float).ravel()
        )
        if self.gain_std is not None and self.gain_std.shape != self.gain.shape:
            raise ValueError("gain_std must have one value per task.")
        self.task_names = task_labels(task_names, self.gain.shape[0])
        self.scoring = scoring

    def plot(
        self,
        ax=None,
        *,
        positive_color="tab:blue",
        negative_color="tab:red",
        title="Transfer gain per task",
    ):
        """Draw the bars (negative transfer in ``negative_color``).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        positive_color, negative_color : color
        title : str or None

        Returns
        -------
        self : TransferGainDisplay
        """
        fig, ax = get_ax(ax)
        x = np.arange(self.gain.shape[0])
        neg = self.gain < 0
        colors = [negative_color if n else positive_color for n in neg]
        bars = ax.bar(x, np.nan_to_num(self.gain), color=colors)
        self.errorbar_ = None
        if self.gain_std is not None:
            self.errorbar_ = ax.errorbar(
                x, np.nan_to_num(self.gain), yerr=np.nan_to_num(self.gain_std),
                fmt="none", ecolor="black", capsize=3,
            )  # fmt: skip
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xticks(x, labels=self.task_names, rotation=90)
        ax.set_xlabel("task")
        # TransferGainResult flips the sign for errors: gain > 0 = MTL better
        diff = (
            "baseline - multi-task"
            if self.scoring in LOWER_IS_BETTER
            else "multi-task - baseline"
        )
        ax.set_ylabel(f"gain in {self.scoring} ({diff})")
        if title:
            ax.set_title(title)
        self.negative_ = neg
        self.bars_, self.ax_, self.figure_ = bars, ax, fig
        return self

    @classmethod
    def from_result(cls, result, *, ax=None, **kwargs):
        """Draw a :func:`skmtl.inspection.transfer_gain` result.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skmtl.inspection import TransferGainResult
        >>> from skmtl.plotting import TransferGainDisplay
        >>> res = TransferGainResult(np.array([[0.8, 0.1]]), np.array([[0.5, 0.4]]),
        ...                          np.array(["a", "b"]))
        >>> disp = TransferGainDisplay.from_result(res)
        >>> [round(float(b.get_height()), 2) for b in disp.bars_]
        [0.3, -0.3]
        """
        disp = cls(
            result.gain, result.gain_std, result.task_names, scoring=result.scoring
        )
        return disp.plot(ax=ax, **kwargs)


def plot_transfer_gain(result, *, ax=None, **kwargs):
    """Per-task bars of a transfer-gain result, negative transfer in red.

    Shortcut for :meth:`TransferGainDisplay.from_result`.

    Parameters
    ----------
    result : TransferGainResult
        From :func:`skmtl.inspection.transfer_gain`.
    ax : matplotlib Axes, default=None
    **kwargs
        Passed to :meth:`TransferGainDisplay.plot`.

    Returns
    -------
    display : TransferGainDisplay

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.inspection import TransferGainResult
    >>> from skmtl.plotting import plot_transfer_gain
    >>> res = TransferGainResult(np.array([[0.8, 0.1], [0.6, 0.2]]),
    ...                          np.array([[0.5, 0.4], [0.5, 0.4]]),
    ...                          np.array(["a", "b"]))
    >>> disp = plot_transfer_gain(res)
    >>> [p.get_facecolor() == disp.bars_[0].get_facecolor() for p in disp.bars_]
    [True, False]
    """
    return TransferGainDisplay.from_result(result, ax=ax, **kwargs)
