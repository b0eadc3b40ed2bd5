"""Loaders for the uniform ``.npz`` task format (School, Parkinson's, ...)."""

import os
import zipfile
from pathlib import Path

import numpy as np

from ._bunch import tasks_bunch, with_bunch_returns
from ._checks import check_option

__all__ = ["load_npz_tasks", "load_parkinsons"]

PARKINSONS_DESCR = """\
Parkinson's Telemonitoring (UCI, Tsanas, Little, McSharry & Ramig 2009)
------------------------------------------------------------------------

42 tasks (one per subject, ``subject_01`` ... ``subject_42``), 5875 voice
recordings (101-168 per subject), 19 features: ``age``, ``sex``,
``test_time`` and 16 voice measures (``Jitter(%)`` ... ``PPE``). Target:
``motor_UPDRS`` (``target="motor"``) or ``total_UPDRS`` (``"total"``).

Caveats: ``age`` and ``sex`` are constant within a task; the UPDRS targets
are linearly interpolated in time between clinical visits, so per-subject
models exploit ``test_time`` strongly (report results with and without it);
pooled explained variance is dominated by between-subject offsets, so prefer
the mean per-task explained variance.

Citation: A. Tsanas, M. A. Little, P. E. McSharry, L. O. Ramig (2009),
"Accurate telemonitoring of Parkinson's disease progression by non-invasive
speech tests", IEEE Transactions on Biomedical Engineering.
"""


def _generic_descr(path, n_samples, n_tasks, n_features):
    return (
        f"Multi-task data loaded from {path}\n\n"
        f"{n_tasks} tasks, {n_samples} rows, {n_features} features "
        "(uniform npz format: X, y, task, feature_names, task_names).\n"
    )


@with_bunch_returns
def load_npz_tasks(path):
    """Load a multi-task dataset stored in the uniform ``.npz`` format.

    The archive holds ``X`` (n_samples, n_features), ``y`` (n_samples,),
    ``task`` (n_samples,) integer task index of each row, and optionally
    ``feature_names`` (n_features,) and ``task_names`` (n_tasks,) string
    arrays. It is read with ``allow_pickle=False``.

    Parameters
    ----------
    path : str or path-like
        Path of the ``.npz`` file.

    Returns
    -------
    {returns}

        Without ``feature_names`` in the file, features are named ``"x0"``,
        ``"x1"``, ...; without ``task_names``, tasks are named ``"task_0"``,
        ``"task_1"``, ...

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not an npz archive, lacks ``X``, ``y`` or ``task``,
        the arrays have inconsistent shapes, ``y`` has NaN, task indices are
        out of range, or a task has no row.

    See Also
    --------
    load_parkinsons : Loader for the Parkinson's files in this format.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skmtl.datasets import load_npz_tasks
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "toy.npz")
    ...     np.savez(path, X=np.arange(6.0).reshape(3, 2), y=[1.0, 2.0, 3.0],
    ...              task=[0, 0, 1], task_names=["a", "b"])
    ...     data = load_npz_tasks(path)
    >>> data.Y
    array([[ 1., nan],
           [ 2., nan],
           [nan,  3.]])
    >>> data.task_names, data.feature_names
    (['a', 'b'], ['x0', 'x1'])
    """
    path = Path(os.fspath(path))
    if not path.is_file():
        raise FileNotFoundError(f"Data file not found: {path}")
    bad_file = (OSError, ValueError, EOFError, zipfile.BadZipFile)
    try:
        archive = np.load(path, allow_pickle=False)
    except bad_file as exc:
        raise ValueError(
            f"{path} is not a readable npz archive ({type(exc).__name__}: {exc})."
        ) from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is a single .npy array, not an npz archive.")
    try:
        with archive:
            arrays = {k: archive[k] for k in archive.files}
    except bad_file as exc:
        raise ValueError(
            f"{path} is not a readable npz archive ({type(exc).__name__}: {exc})."
        ) from exc

    missing = [k for k in ("X", "y", "task") if k not in arrays]
    if missing:
        raise ValueError(
            f"{path} lacks the array(s) {missing}; the uniform format needs X, y "
            f"and task (found: {sorted(arrays)})."
        )
    X, y, task = arrays["X"], arrays["y"], arrays["task"]
    if X.ndim != 2 or X.dtype.kind not in "biuf":
        raise ValueError(
            f"{path}: X must be a 2-D numeric array, got shape {X.shape} and "
            f"dtype {X.dtype}."
        )
    n_samples, n_features = X.shape
    if y.shape != (n_samples,) or y.dtype.kind not in "biuf":
        raise ValueError(
            f"{path}: y must be numeric of shape ({n_samples},) to match X, got "
            f"shape {y.shape} and dtype {y.dtype}."
        )
    if task.shape != (n_samples,) or task.dtype.kind not in "iu":
        raise ValueError(
            f"{path}: task must be integer of shape ({n_samples},) to match X, "
            f"got shape {task.shape} and dtype {task.dtype}."
        )
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{path}: y contains NaN or infinity.")

    if "task_names" in arrays:
        task_names = [str(s) for s in arrays["task_names"].ravel()]
    else:
        task_names = [f"task_{t}" for t in range(int(task.max(initial=-1)) + 1)]
    n_tasks = len(task_names)
    if n_samples == 0 or n_tasks == 0:
        raise ValueError(f"{path} holds no rows or no task.")
    if task.min() < 0 or task.max() >= n_tasks:
        raise ValueError(
            f"{path}: task indices must be in [0, {n_tasks - 1}], got values in "
            f"[{task.min()}, {task.max()}]."
        )
    empty = np.flatnonzero(np.bincount(task, minlength=n_tasks) == 0)
    if empty.size:
        raise ValueError(f"{path}: task(s) {empty.tolist()} have no rows.")

    if "feature_names" in arrays:
        feature_names = [str(s) for s in arrays["feature_names"].ravel()]
        if len(feature_names) != n_features:
            raise ValueError(
                f"{path}: {len(feature_names)} feature_names for {n_features} "
                "columns of X."
            )
    else:
        feature_names = [f"x{j}" for j in range(n_features)]

    return tasks_bunch(
        X.astype(np.float64, copy=False),
        y,
        task.astype(np.int64, copy=False),
        task_names,
        feature_names,
        _generic_descr(path, n_samples, n_tasks, n_features),
    )


@with_bunch_returns
def load_parkinsons(path, target="motor"):
    """Load the Parkinson's Telemonitoring data (42 subjects as tasks).

    Parameters
    ----------
    path : str or path-like
        Either a directory holding ``parkinsons_motor.npz`` and
        ``parkinsons_total.npz`` (uniform npz format), or the path of one of
        these files, in which case ``target`` is not used.
    target : {"motor", "total"}, default="motor"
        Which UPDRS score is the target (``motor_UPDRS`` or
        ``total_UPDRS``), when ``path`` is a directory.

    Returns
    -------
    {returns}

        For the original files: 5875 rows, 42 tasks, 19 features.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        For a bad ``target`` or a malformed file (see
        :func:`load_npz_tasks`).

    See Also
    --------
    load_npz_tasks : The generic loader for the uniform format.

    Examples
    --------
    With the shared data folder, ``load_parkinsons(folder, target="total")``
    gives ``X`` of shape (5875, 19) and ``Y`` of shape (5875, 42). A tiny
    stand-in file in the same format:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from skmtl.datasets import load_parkinsons
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     np.savez_compressed(
    ...         os.path.join(folder, "parkinsons_total.npz"),
    ...         X=np.ones((3, 2)), y=np.array([7.0, 8.0, 9.0]),
    ...         task=np.array([0, 1, 1]), feature_names=["age", "test_time"],
    ...         task_names=["subject_01", "subject_02"])
    ...     data = load_parkinsons(folder, target="total")
    >>> data.X.shape, data.Y.shape, data.feature_names
    ((3, 2), (3, 2), ['age', 'test_time'])
    """
    target = check_option("target", target, ("motor", "total"))
    path = Path(os.fspath(path))
    if path.is_dir():
        path = path / f"parkinsons_{target}.npz"
    data = load_npz_tasks(path)
    data.DESCR = PARKINSONS_DESCR + f"\nLoaded from: {path}\n"
    return data
