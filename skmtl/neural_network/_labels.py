"""Per-task label encoding for multi-task classifiers.

Each column of ``Y`` is one classification task with its own label set.
Missing labels are NaN (numeric ``Y``) or ``None`` / NaN (object ``Y``).
Labels become integer codes ``0 .. n_classes_t - 1`` stored as float with NaN
for "no label", which is the form the multi-task losses consume. Written to be
shared by every multi-task classifier (neural or linear).
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["decode_task_labels", "encode_task_labels", "missing_label_mask"]


def _as_2d_labels(Y):
    if Y is None:
        raise ValueError(
            "This estimator requires y to be passed, but the target y is None."
        )
    if sp.issparse(Y):
        raise TypeError(
            "Sparse Y is not supported: pass a dense array with NaN or None for "
            "missing labels."
        )
    Y = np.asarray(Y)
    if Y.ndim == 0:
        raise ValueError("Y must be 1-D or 2-D, got a scalar.")
    is_1d = Y.ndim == 1
    if is_1d:
        Y = Y.reshape(-1, 1)
    if Y.ndim != 2:
        raise ValueError(f"Y must be 1-D or 2-D, got an array of shape {Y.shape}.")
    if Y.shape[1] == 0:
        raise ValueError("Y has no task (0 columns).")
    return Y, is_1d


def missing_label_mask(column):
    """Boolean mask of missing labels (NaN or ``None``) in a 1-D array.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural_network import missing_label_mask
    >>> missing_label_mask(np.array(["a", None, "b"], dtype=object))
    array([False,  True, False])
    """
    column = np.asarray(column)
    if column.dtype.kind == "f":
        return np.isnan(column)
    if column.dtype.kind in "iub":
        return np.zeros(column.shape, dtype=bool)
    if column.dtype.kind in "US":
        return np.zeros(column.shape, dtype=bool)
    out = np.zeros(column.shape, dtype=bool)
    for i, v in enumerate(column):
        if v is None:
            out[i] = True
        elif isinstance(v, float | np.floating) and np.isnan(v):
            out[i] = True
    return out


def _check_label_kinds(values, t):
    if values.dtype.kind == "f":
        if not np.all(np.isfinite(values)):
            raise ValueError(f"task {t} has an infinite label; labels must be finite.")
        if np.any(values != np.round(values)):
            raise ValueError(
                f"Unknown label type: continuous (task {t} has non-integer float "
                "labels). A classifier needs discrete labels; use a regressor for "
                "continuous targets."
            )
    if values.dtype == object:
        kinds = {type(v) for v in values}
        has_str = any(issubclass(k, str) for k in kinds)
        if has_str and len(kinds) > 1:
            raise ValueError(
                f"task {t} mixes string and non-string labels "
                f"({sorted(map(str, kinds))}); the labels of a task must be all "
                "numbers or all strings."
            )


def _narrow(values):
    """Turn an object array of all-number or all-string labels into that dtype."""
    if values.dtype != object or values.size == 0:
        return values
    try:
        if all(isinstance(v, str) for v in values):
            return values.astype(str)
        if all(
            isinstance(v, int | float | np.integer | np.floating | bool) for v in values
        ):
            return np.asarray(values.tolist())
    except (TypeError, ValueError):
        pass
    return values


def encode_task_labels(Y, classes=None):
    """Encode the labels of each task as integer codes (float, NaN = missing).

    Parameters
    ----------
    Y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Labels. Column ``t`` is task ``t``; NaN (numeric ``Y``) or ``None``
        (object ``Y``) marks a missing label. Each task has its own label set.
    classes : list of array-like, default=None
        Known classes per task (as given to ``partial_fit``). By default they
        are the sorted distinct labels of each column, and a task with fewer
        than two classes is an error.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_tasks), float64
        Index of each label in ``classes[t]``; NaN where the label is missing.
    classes : list of ndarray
        Sorted class labels of each task.

    Raises
    ------
    ValueError
        If a task has no label, has only one class (when ``classes`` is not
        given), mixes strings and numbers, or has a label not in ``classes``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural_network import encode_task_labels
    >>> Y = np.array([["cat", 1], ["dog", None], [None, 0]], dtype=object)
    >>> codes, classes = encode_task_labels(Y)
    >>> codes
    array([[ 0.,  1.],
           [ 1., nan],
           [nan,  0.]])
    >>> [list(c) for c in classes]
    [[np.str_('cat'), np.str_('dog')], [np.int64(0), np.int64(1)]]
    """
    Y, _ = _as_2d_labels(Y)
    n, T = Y.shape
    if classes is not None:
        if T == 1 and not isinstance(classes, list | tuple):
            classes = [classes]
        elif (
            T == 1
            and len(classes) > 0
            and not isinstance(classes[0], list | tuple | np.ndarray)
        ):
            classes = [classes]
        if len(classes) != T:
            raise ValueError(
                f"classes must give one array of labels per task ({T}), got "
                f"{len(classes)}."
            )
    codes = np.full((n, T), np.nan)
    out_classes = []
    for t in range(T):
        col = Y[:, t]
        missing = missing_label_mask(col)
        present = _narrow(col[~missing])
        _check_label_kinds(present, t)
        if classes is None:
            if present.size == 0:
                raise ValueError(
                    f"task {t} has no labelled sample (all labels missing). Every "
                    "task needs at least one label."
                )
            cls = np.unique(present)
            if cls.size < 2:
                raise ValueError(
                    f"task {t} has only one class ({cls[0]!r}); a classifier "
                    "needs at least two classes per task."
                )
        else:
            cls = np.unique(_narrow(np.asarray(classes[t])))
            if cls.size < 2:
                raise ValueError(
                    f"classes for task {t} has {cls.size} class(es); at least "
                    "two classes per task are needed."
                )
        if present.size:
            try:
                idx = np.searchsorted(cls, present)
            except TypeError as exc:
                raise ValueError(
                    f"labels of task {t} cannot be compared with its classes: {exc}"
                ) from exc
            idx_c = np.minimum(idx, cls.size - 1)
            bad = cls[idx_c] != present
            if np.any(bad):
                raise ValueError(
                    f"task {t} has label(s) {np.unique(present[bad])[:5]!r} not in "
                    f"its classes {cls!r}."
                )
            codes[~missing, t] = idx
        out_classes.append(cls)
    return codes, out_classes


def decode_task_labels(codes, classes):
    """Map integer codes of shape (n_samples, n_tasks) back to labels.

    The output has the common dtype of all tasks' classes (object if they
    differ in kind, e.g. strings for one task and integers for another).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural_network import decode_task_labels
    >>> decode_task_labels(np.array([[0, 1], [1, 0]]),
    ...                    [np.array([2, 5]), np.array([7, 9])])
    array([[2, 9],
           [5, 7]])
    """
    codes = np.asarray(codes, dtype=np.intp)
    kinds = {c.dtype.kind for c in classes}
    if len(kinds) == 1 and "O" not in kinds:
        dtype = np.result_type(*[c.dtype for c in classes])
    else:
        dtype = object
    out = np.empty(codes.shape, dtype=dtype)
    for t, cls in enumerate(classes):
        out[:, t] = cls[codes[:, t]]
    return out
