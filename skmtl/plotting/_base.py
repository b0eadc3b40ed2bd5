"""matplotlib access and the common ``Display`` plumbing."""

import numpy as np

_INSTALL_HINT = (
    "skmtl.plotting requires matplotlib: pip install 'skmtl[plot]' "
    "(or pip install matplotlib)."
)


def require_matplotlib():
    """Import and return ``matplotlib.pyplot`` or raise a clear ImportError."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return plt


def get_ax(ax):
    """``(figure, ax)``; a new figure when ``ax`` is None."""
    plt = require_matplotlib()
    if ax is None:
        fig, ax = plt.subplots()
        return fig, ax
    return ax.figure, ax


def task_labels(task_names, n_tasks):
    if task_names is None:
        return [f"task{t}" for t in range(n_tasks)]
    names = [str(n) for n in np.asarray(task_names, dtype=object).ravel()]
    if len(names) != n_tasks:
        raise ValueError(f"task_names has {len(names)} names for {n_tasks} tasks.")
    return names


def estimator_task_names(estimator, n_tasks):
    names = getattr(estimator, "task_names_", None)
    return task_labels(names, n_tasks)
