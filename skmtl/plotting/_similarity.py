"""Clustered heatmap of a task-similarity matrix."""

import numpy as np

from ..inspection._similarity import task_similarity
from ._base import estimator_task_names, get_ax, task_labels

__all__ = ["TaskSimilarityDisplay", "plot_task_similarity"]


def cluster_order(similarity, method="average"):
    """Leaf order of a hierarchical clustering on ``1 - similarity``.

    NaN similarities (tasks with zero coefficients) count as the largest
    distance, so those tasks end up at the edge.
    """
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    S = np.asarray(similarity, dtype=np.float64)
    T = S.shape[0]
    if T < 3:
        return np.arange(T)
    D = 1.0 - np.nan_to_num(S, nan=-1.0)
    D = np.clip((D + D.T) / 2, 0.0, 2.0)
    np.fill_diagonal(D, 0.0)
    Z = linkage(squareform(D, checks=False), method=method)
    return leaves_list(Z).astype(np.intp)


class TaskSimilarityDisplay:
    """Heatmap of a ``(n_tasks, n_tasks)`` similarity matrix.

    Build with :meth:`from_estimator` (or :func:`plot_task_similarity`), or
    from a precomputed matrix and call :meth:`plot`.

    Parameters
    ----------
    similarity : ndarray of shape (n_tasks, n_tasks)
        E.g. from :func:`skmtl.inspection.task_similarity`.
    task_names : sequence of str, default=None
        ``task0``, ``task1``, ... when None.

    Attributes
    ----------
    order_ : ndarray of int
        Task order of the rows and columns drawn.
    im_ : matplotlib AxesImage
    colorbar_ : matplotlib Colorbar or None
    text_ : ndarray of Text or None
        Cell annotations (``annotate=True``), in drawn order.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.plotting import TaskSimilarityDisplay
    >>> S = np.array([[1.0, 0.1, 0.9], [0.1, 1.0, 0.0], [0.9, 0.0, 1.0]])
    >>> disp = TaskSimilarityDisplay(S, ["a", "b", "c"]).plot()
    >>> names = [t.get_text() for t in disp.ax_.get_xticklabels()]
    >>> abs(names.index("a") - names.index("c"))  # similar tasks side by side
    1
    """

    def __init__(self, similarity, task_names=None):
        self.similarity = np.asarray(similarity, dtype=np.float64)
        if self.similarity.ndim != 2 or (
            self.similarity.shape[0] != self.similarity.shape[1]
        ):
            raise ValueError(
                f"similarity must be a square matrix, got shape "
                f"{self.similarity.shape}."
            )
        self.task_names = task_labels(task_names, self.similarity.shape[0])

    def plot(
        self,
        ax=None,
        *,
        cluster=True,
        method="average",
        cmap="RdBu_r",
        annotate=None,
        colorbar=True,
        title="Task similarity",
    ):
        """Draw the heatmap.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            New figure when None.
        cluster : bool, default=True
            Order tasks by hierarchical clustering (``scipy.cluster.
            hierarchy.linkage`` on ``1 - similarity``) so that similar tasks
            sit next to each other; False keeps the given order.
        method : str, default="average"
            Linkage method.
        cmap : str, default="RdBu_r"
            Colormap, spanning ``[-1, 1]``.
        annotate : bool, default=None
            Write each value in its cell; default: when at most 12 tasks.
        colorbar : bool, default=True
        title : str or None

        Returns
        -------
        self : TaskSimilarityDisplay
        """
        fig, ax = get_ax(ax)
        S = self.similarity
        T = S.shape[0]
        order = cluster_order(S, method) if cluster else np.arange(T)
        So = S[np.ix_(order, order)]
        im = ax.imshow(
            np.ma.masked_invalid(So), cmap=cmap, vmin=-1.0, vmax=1.0,
            interpolation="nearest",
        )  # fmt: skip
        names = [self.task_names[i] for i in order]
        ax.set_xticks(np.arange(T), labels=names, rotation=90)
        ax.set_yticks(np.arange(T), labels=names)
        ax.set_xlabel("task")
        ax.set_ylabel("task")
        if title:
            ax.set_title(title)
        self.text_ = None
        if annotate is None:
            annotate = T <= 12
        if annotate:
            self.text_ = np.empty((T, T), dtype=object)
            for i in range(T):
                for j in range(T):
                    v = So[i, j]
                    self.text_[i, j] = ax.text(
                        j, i, "nan" if np.isnan(v) else f"{v:.2f}",
                        ha="center", va="center", fontsize=8,
                        color="white" if abs(np.nan_to_num(v)) > 0.6 else "black",
                    )  # fmt: skip
        self.colorbar_ = fig.colorbar(im, ax=ax) if colorbar else None
        self.order_ = order
        self.im_, self.ax_, self.figure_ = im, ax, fig
        return self

    @classmethod
    def from_estimator(
        cls, estimator, *, metric="cosine", task_names=None, ax=None, **kwargs
    ):
        """Similarity of a fitted model's tasks (or of a coefficient array).

        Parameters
        ----------
        estimator : fitted estimator or array-like of shape \
(n_tasks, n_features)
            Anything :func:`skmtl.inspection.task_similarity` accepts.
        metric : {"cosine", "correlation", "learned"}, default="cosine"
        task_names : sequence of str, default=None
            Default: the estimator's ``task_names_`` if any.
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : TaskSimilarityDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skmtl.plotting import TaskSimilarityDisplay
        >>> coef = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1]])
        >>> disp = TaskSimilarityDisplay.from_estimator(coef)
        >>> order = disp.order_.tolist()
        >>> abs(order.index(0) - order.index(2))
        1
        """
        S = task_similarity(estimator, metric=metric)
        if task_names is None:
            task_names = estimator_task_names(estimator, S.shape[0])
        return cls(S, task_names).plot(ax=ax, **kwargs)

    @classmethod
    def from_result(cls, result, *, which="coef_similarity", ax=None, **kwargs):
        """Heatmap of a :func:`skmtl.inspection.task_relatedness` result.

        ``which="coef_similarity"`` (default) or ``"transfer_matrix"`` (then
        the colour range follows the data; rows = training task).

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skmtl.inspection import TaskRelatedness
        >>> from skmtl.plotting import TaskSimilarityDisplay
        >>> res = TaskRelatedness(np.eye(2), np.eye(2), None, np.array(["a", "b"]))
        >>> disp = TaskSimilarityDisplay.from_result(res)
        >>> disp.im_.get_array().shape
        (2, 2)
        """
        if which not in ("coef_similarity", "transfer_matrix"):
            raise ValueError(
                f"which must be 'coef_similarity' or 'transfer_matrix', got {which!r}."
            )
        M = getattr(result, which)
        if M is None:
            raise ValueError(
                f"result.{which} is None (the base estimator had no coef_)."
            )
        disp = cls(M, result.task_names)
        if which == "transfer_matrix":
            kwargs.setdefault("cluster", False)
            kwargs.setdefault(
                "title", f"Transfer ({result.metric}): train row, test column"
            )
            disp.plot(ax=ax, **kwargs)
            finite = M[np.isfinite(M)]
            if finite.size:
                disp.im_.set_clim(min(finite.min(), 0.0), max(finite.max(), 1e-12))
            disp.ax_.set_ylabel("trained on")
            disp.ax_.set_xlabel("scored on")
            return disp
        return disp.plot(ax=ax, **kwargs)


def plot_task_similarity(
    estimator_or_coef, *, metric="cosine", task_names=None, ax=None, **kwargs
):
    """Clustered heatmap of the similarity between tasks.

    Shortcut for :meth:`TaskSimilarityDisplay.from_estimator`: computes
    :func:`skmtl.inspection.task_similarity` and orders the tasks by
    hierarchical clustering so that blocks of related tasks show up.

    Parameters
    ----------
    estimator_or_coef : fitted estimator or array-like of shape \
(n_tasks, n_features)
    metric : {"cosine", "correlation", "learned"}, default="cosine"
        ``"learned"``: the task correlation a "relationship" or "clustered"
        model learned (or a "tree" model's cophenetic similarity).
    task_names : sequence of str, default=None
    ax : matplotlib Axes, default=None
    **kwargs
        Passed to :meth:`TaskSimilarityDisplay.plot` (``cluster``,
        ``annotate``, ``cmap``, ...).

    Returns
    -------
    display : TaskSimilarityDisplay

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl import MultiTaskRidge
    >>> from skmtl.plotting import plot_task_similarity
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 4))
    >>> Y = X @ rng.normal(size=(4, 3))
    >>> disp = plot_task_similarity(MultiTaskRidge(alpha=0.1).fit(X, Y))
    >>> disp.im_.get_array().shape
    (3, 3)
    """
    return TaskSimilarityDisplay.from_estimator(
        estimator_or_coef, metric=metric, task_names=task_names, ax=ax, **kwargs
    )
