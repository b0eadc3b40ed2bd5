"""Dendrogram of a task hierarchy (learned or given)."""

import numpy as np

from ._base import estimator_task_names, get_ax, task_labels

__all__ = ["TaskTreeDisplay", "plot_task_tree"]


class TaskTreeDisplay:
    """Dendrogram of the tasks from a scipy linkage matrix.

    Build with :meth:`from_estimator` (or :func:`plot_task_tree`), or from a
    linkage matrix and call :meth:`plot`.

    Parameters
    ----------
    linkage : ndarray of shape (n_tasks - 1, 4)
        A scipy linkage matrix (e.g.
        :attr:`skmtl.inspection.TaskStructure.linkage`).
    task_names : sequence of str, default=None
        ``task0``, ``task1``, ... when None.
    clusters : array-like of shape (n_tasks,), default=None
        Task clusters to show as leaf-label colours.

    Attributes
    ----------
    dendrogram_ : dict
        What :func:`scipy.cluster.hierarchy.dendrogram` returned (``ivl``:
        leaf labels in drawn order, ``leaves``: task indices).
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.plotting import TaskTreeDisplay
    >>> Z = np.array([[0, 1, 0.2, 2], [2, 3, 0.3, 2], [4, 5, 1.0, 4]])
    >>> disp = TaskTreeDisplay(Z, ["a", "b", "c", "d"]).plot()
    >>> disp.dendrogram_["ivl"]
    ['a', 'b', 'c', 'd']
    """

    def __init__(self, linkage, task_names=None, clusters=None):
        self.linkage = np.asarray(linkage, dtype=np.float64)
        if self.linkage.ndim != 2 or self.linkage.shape[1] != 4:
            raise ValueError(
                "linkage must be a scipy linkage matrix of shape (n_tasks - 1, "
                f"4), got shape {self.linkage.shape}."
            )
        n_tasks = self.linkage.shape[0] + 1
        self.task_names = task_labels(task_names, n_tasks)
        self.clusters = None if clusters is None else np.asarray(clusters)
        if self.clusters is not None and self.clusters.shape != (n_tasks,):
            raise ValueError(
                f"clusters has shape {self.clusters.shape}, expected ({n_tasks},)."
            )

    def plot(self, ax=None, *, orientation="top", title="Task tree"):
        """Draw the dendrogram.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            New figure when None.
        orientation : {"top", "bottom", "left", "right"}, default="top"
            Where the root is (scipy's ``dendrogram`` orientation).
        title : str or None

        Returns
        -------
        self : TaskTreeDisplay
        """
        from scipy.cluster.hierarchy import dendrogram

        fig, ax = get_ax(ax)
        if self.linkage.shape[0] == 0:  # one task
            ax.text(0.5, 0.5, self.task_names[0], ha="center", va="center")
            self.dendrogram_ = {"ivl": list(self.task_names), "leaves": [0]}
        else:
            self.dendrogram_ = dendrogram(
                self.linkage, labels=self.task_names, ax=ax,
                orientation=orientation, color_threshold=0,
                above_threshold_color="0.3",
            )  # fmt: skip
            if self.clusters is not None:
                import matplotlib as mpl

                colors = mpl.colormaps["tab10"]
                labels = (
                    ax.get_xticklabels()
                    if orientation in ("top", "bottom")
                    else ax.get_yticklabels()
                )
                for text, t in zip(labels, self.dendrogram_["leaves"], strict=True):
                    text.set_color(colors(int(self.clusters[t]) % 10))
        ax.set_ylabel("height") if orientation in ("top", "bottom") else None
        if title:
            ax.set_title(title)
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_estimator(cls, estimator, *, n_clusters=None, task_names=None, ax=None,
                       **kwargs):  # fmt: skip
        """Dendrogram of the task structure a fitted model learned.

        The tree of a ``penalty="tree"`` model, or the average-linkage tree
        of the learned task correlation of a "relationship" or "clustered"
        model (see :func:`skmtl.inspection.task_structure`); leaf labels
        are coloured by the model's clusters (or by the tree cut into
        ``n_clusters``).

        Parameters
        ----------
        estimator : fitted estimator
        n_clusters : int, default=None
        task_names : sequence of str, default=None
            Default: the estimator's ``task_names_`` if any.
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : TaskTreeDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skmtl import MultiTaskLinearRegression
        >>> from skmtl.plotting import TaskTreeDisplay
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(60, 4))
        >>> Y = X @ rng.normal(size=(4, 3))
        >>> model = MultiTaskLinearRegression("tree", 0.01, task_tree=[[0, 1], 2])
        >>> disp = TaskTreeDisplay.from_estimator(model.fit(X, Y))
        >>> sorted(disp.dendrogram_["ivl"])
        ['task0', 'task1', 'task2']
        """
        from ..inspection._structure import task_structure

        s = task_structure(estimator, n_clusters=n_clusters)
        if task_names is None:
            task_names = estimator_task_names(estimator, s.correlation.shape[0])
        return cls(s.linkage, task_names, s.clusters).plot(ax=ax, **kwargs)


def plot_task_tree(estimator, *, n_clusters=None, task_names=None, ax=None, **kwargs):
    """Dendrogram of the task hierarchy a fitted model learned.

    Shortcut for :meth:`TaskTreeDisplay.from_estimator`.

    Parameters
    ----------
    estimator : fitted estimator
        Fitted with ``penalty="tree"``, ``"relationship"`` or
        ``"clustered"``.
    n_clusters : int, default=None
        Colour the leaves by the tree cut into this many clusters (default:
        the model's clusters for "clustered").
    task_names : sequence of str, default=None
    ax : matplotlib Axes, default=None
    **kwargs
        Passed to :meth:`TaskTreeDisplay.plot`.

    Returns
    -------
    display : TaskTreeDisplay

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl import MultiTaskLinearRegression
    >>> from skmtl.plotting import plot_task_tree
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 4))
    >>> W = rng.normal(size=(2, 4))[[0, 0, 1]]
    >>> model = MultiTaskLinearRegression("clustered", 0.1).fit(X, X @ W.T)
    >>> disp = plot_task_tree(model)
    >>> len(disp.dendrogram_["ivl"])
    3
    """
    return TaskTreeDisplay.from_estimator(
        estimator, n_clusters=n_clusters, task_names=task_names, ax=ax, **kwargs
    )
