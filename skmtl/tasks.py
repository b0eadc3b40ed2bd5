"""Convert between per-task datasets and the one-``X``, one-``Y`` form.

skmtl estimators take one ``X`` of shape ``(n_samples, n_features)`` and one
``Y`` of shape ``(n_samples, n_tasks)`` in which NaN means "this row has no
label for this task". Many multi-task datasets come instead as one dataset
per task (MALSAR's cell arrays, R's RMTL lists, a house table and an
apartment table). :func:`stack_tasks` turns such per-task lists into the
``(X, Y)`` form and :func:`unstack_tasks` goes back. :func:`predict_frame`
returns predictions as a DataFrame whose columns are the task names (an
estimator fitted on a DataFrame ``Y`` stores them in ``task_names_``).
"""

import sys

import numpy as np
import scipy.sparse as sp

__all__ = ["predict_frame", "stack_tasks", "unstack_tasks"]


def _pandas():
    """Return the pandas module if it has been imported, else None.

    An object can only be a pandas object if pandas is already imported, so
    this never imports pandas itself.
    """
    return sys.modules.get("pandas")


def _is_dataframe(obj):
    pd = _pandas()
    return pd is not None and isinstance(obj, pd.DataFrame)


def _is_series(obj):
    pd = _pandas()
    return pd is not None and isinstance(obj, pd.Series)


def _check_list(name, seq):
    if isinstance(seq, (str, bytes)) or not hasattr(seq, "__len__"):
        raise TypeError(
            f"{name} must be a list of per-task datasets, got {type(seq).__name__}."
        )
    if isinstance(seq, np.ndarray) and seq.dtype != object:
        raise TypeError(
            f"{name} must be a list of per-task datasets (one entry per task), "
            f"got a single ndarray of shape {seq.shape}. Wrap it in a list."
        )
    if _is_dataframe(seq) or _is_series(seq) or sp.issparse(seq):
        raise TypeError(
            f"{name} must be a list of per-task datasets (one entry per task), "
            f"got a single {type(seq).__name__}. Wrap it in a list."
        )
    if isinstance(seq, np.ndarray):  # object array, e.g. a MATLAB cell array
        seq = seq.ravel()
    seq = list(seq)
    if len(seq) == 0:
        raise ValueError(f"{name} is empty: at least one task is needed.")
    return seq


def _check_y(y, t):
    """Per-task target -> 1-D float64 copy."""
    if _is_dataframe(y):
        raise ValueError(
            f"ys[{t}] is a DataFrame; each task's target must be 1-D "
            "(pass a Series, e.g. df[column])."
        )
    if sp.issparse(y):
        raise TypeError(f"ys[{t}] is a sparse matrix; targets must be dense 1-D.")
    try:
        arr = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"ys[{t}] must contain numbers (float64-convertible): {exc}"
        ) from None
    if arr.ndim != 1:
        raise ValueError(
            f"ys[{t}] must be 1-D, got an array of shape {arr.shape}. "
            "Use y.ravel() for a column vector; one task per list entry."
        )
    if not np.all(np.isfinite(arr)):
        bad = "NaN" if np.isnan(arr).any() else "infinity"
        raise ValueError(
            f"ys[{t}] contains {bad}. In the stacked form NaN means 'no label', "
            "so per-task targets must be finite: drop unlabelled rows first."
        )
    return arr


def _n_rows(X):
    return X.shape[0]


def _default_task_names(ys, n_tasks):
    names = [y.name if _is_series(y) else None for y in ys]
    if all(n is not None for n in names) and len(set(names)) == n_tasks:
        return names
    return [f"task_{t}" for t in range(n_tasks)]


def _check_task_names(task_names, n_tasks):
    names = list(task_names)
    if len(names) != n_tasks:
        raise ValueError(
            f"task_names has {len(names)} entries but there are {n_tasks} tasks."
        )
    if len(set(names)) != n_tasks:
        raise ValueError("task_names must be distinct.")
    return names


def _union_columns(name_lists):
    """The union of the tasks' column names, in first-seen order."""
    for t, names in enumerate(name_lists):
        seen, dup = set(), []
        for c in names:
            if c in seen:
                dup.append(c)
            seen.add(c)
        if dup:
            raise ValueError(f"Xs[{t}] has duplicated column names: {dup}.")
    return list(dict.fromkeys(c for names in name_lists for c in names))


def _stack_frames(Xs):
    """Concatenate DataFrames aligned by column name.

    A column a task lacks is 0 on its rows when the column is numeric (or
    boolean) wherever it exists, and missing (NaN) otherwise: a string,
    object or categorical column has no meaningful 0. Categorical columns
    keep a categorical dtype whose categories are the union of the tasks'.
    """
    pd = _pandas()
    columns = _union_columns([list(Xt.columns) for Xt in Xs])
    is_numeric, is_bool = pd.api.types.is_numeric_dtype, pd.api.types.is_bool_dtype
    dtypes = {c: [Xt[c].dtype for Xt in Xs if c in Xt.columns] for c in columns}
    numeric = {c: all(is_numeric(d) for d in dtypes[c]) for c in columns}
    boolean = {c: all(is_bool(d) for d in dtypes[c]) for c in columns}
    categories = {}
    for c in columns:
        if all(isinstance(d, pd.CategoricalDtype) for d in dtypes[c]):
            cats = [d.categories for d in dtypes[c]]
            union = cats[0]
            for more in cats[1:]:
                union = union.append(more[~more.isin(union)])
            categories[c] = pd.CategoricalDtype(union, ordered=dtypes[c][0].ordered)
    parts = []
    for Xt in Xs:
        part = Xt.copy()
        n = len(part)
        for c in columns:
            if c not in part.columns:
                if numeric[c]:
                    part[c] = False if boolean[c] else 0
                elif c in categories:
                    part[c] = pd.Categorical([np.nan] * n, dtype=categories[c])
                else:  # the column's own missing value (NaN, or pd.NA)
                    same = all(d == dtypes[c][0] for d in dtypes[c])
                    missing = pd.Series([np.nan] * n, index=part.index, dtype=object)
                    part[c] = missing.astype(dtypes[c][0]) if same else missing
            elif c in categories:
                part[c] = part[c].astype(categories[c])
        parts.append(part[columns])
    return pd.concat(parts, axis=0, ignore_index=True)


def _stack_arrays(Xs, feature_names=None):
    arrays = []
    for t, Xt in enumerate(Xs):
        arr = np.asarray(Xt)
        if arr.ndim != 2:
            raise ValueError(
                f"Xs[{t}] must be 2-D (n_samples_t, n_features), got shape {arr.shape}."
            )
        arrays.append(arr)
    if feature_names is None:
        _check_n_features([a.shape[1] for a in arrays])
        return np.concatenate(arrays, axis=0)
    # align by name, as DataFrames are: 0 where a task lacks a numeric
    # column, NaN where it lacks a non-numeric one
    if len(feature_names) != len(arrays):
        raise ValueError(
            f"feature_names must have one list per task; got {len(feature_names)} "
            f"for {len(arrays)} tasks."
        )
    name_lists = [list(names) for names in feature_names]
    for t, (arr, names) in enumerate(zip(arrays, name_lists, strict=True)):
        if len(names) != arr.shape[1]:
            raise ValueError(
                f"feature_names[{t}] has {len(names)} names for the "
                f"{arr.shape[1]} columns of Xs[{t}]."
            )
    columns = _union_columns(name_lists)
    position = {c: j for j, c in enumerate(columns)}
    n = sum(a.shape[0] for a in arrays)
    if all(a.dtype.kind in "biuf" for a in arrays):
        X = np.zeros((n, len(columns)))
    else:
        X = np.zeros((n, len(columns)), dtype=object)
        numeric = dict.fromkeys(columns, True)
        for arr, names in zip(arrays, name_lists, strict=True):
            for j, c in enumerate(names):
                numeric[c] &= all(
                    isinstance(v, int | float | np.number | bool | np.bool_)
                    for v in arr[:, j]
                )
        for c in columns:
            if not numeric[c]:
                X[:, position[c]] = np.nan
    start = 0
    for arr, names in zip(arrays, name_lists, strict=True):
        X[start : start + arr.shape[0], [position[c] for c in names]] = arr
        start += arr.shape[0]
    return X


def _check_n_features(n_features):
    if len(set(n_features)) > 1:
        raise ValueError(
            "All tasks must have the same number of features; got "
            f"n_features = {n_features} for tasks 0..{len(n_features) - 1}. "
            "Pass DataFrames to align columns by name."
        )


def _stack_sparse(Xs):
    blocks = []
    for t, Xt in enumerate(Xs):
        if not sp.issparse(Xt):
            arr = np.asarray(Xt)
            if arr.ndim != 2:
                raise ValueError(
                    f"Xs[{t}] must be 2-D (n_samples_t, n_features), got shape "
                    f"{arr.shape}."
                )
            Xt = sp.csr_matrix(arr)
        blocks.append(Xt)
    _check_n_features([b.shape[1] for b in blocks])
    formats = {b.format for b in blocks}
    fmt = "csc" if formats == {"csc"} else "csr"
    return sp.vstack(blocks, format=fmt)


def stack_tasks(Xs, ys, task_names=None, feature_names=None):
    """Stack per-task datasets into one ``X`` and one NaN-masked ``Y``.

    Task ``t``'s rows are appended in task order; row ``i`` of task ``t``
    gets its label in column ``t`` of ``Y`` and NaN in every other column.

    Parameters
    ----------
    Xs : list of array-like, sparse matrix or DataFrame, length n_tasks
        ``Xs[t]`` has shape ``(n_samples_t, n_features_t)``. Either all
        entries are pandas DataFrames, or none is. DataFrames are aligned by
        column name (the union of all columns, in first-seen order); a column
        that task ``t`` does not have is 0 on task ``t``'s rows when it is
        numeric (or boolean), and a missing value (NaN) when it is not
        (strings, objects, categories: a 0 there would be a fake category
        and breaks ``OneHotEncoder``, which rejects mixed strings and
        numbers). Categorical columns stay categorical, with the union of
        the tasks' categories. Arrays must
        all have the same number of columns. If any entry is a scipy sparse
        matrix, the result is sparse (CSC if every entry is CSC, else CSR).
    ys : list of array-like or Series, length n_tasks
        ``ys[t]`` is 1-D, of length ``n_samples_t``, finite and numeric.
        Matched to ``Xs[t]`` by position (Series indexes are ignored).
    task_names : list of str, default=None
        Names of the tasks, used as the columns of ``Y`` when ``Y`` is a
        DataFrame. Default: the names of the ``ys`` if they are all named
        Series with distinct names, else ``"task_0"``, ``"task_1"``, ...
        With array input they are only checked (``Y`` is an ndarray).
    feature_names : list of lists of str, default=None
        With dense array ``Xs`` (no pandas needed): the names of each task's
        columns, ``len(feature_names[t]) == n_features_t``. The arrays are
        then aligned by name as DataFrames are (the union of the names in
        first-seen order, 0 where a task lacks a numeric column, NaN where
        it lacks a column holding strings). Not allowed with
        DataFrames (their columns are the names) or sparse matrices.

    Returns
    -------
    X : ndarray, sparse matrix or DataFrame of shape (n_samples, n_features)
        The stacked rows, ``n_samples = sum_t n_samples_t``. A DataFrame
        (with a fresh ``RangeIndex``) when the ``Xs`` are DataFrames.
    Y : ndarray or DataFrame of shape (n_samples, n_tasks), float64
        NaN except ``Y[i, t]`` for the rows ``i`` that came from task ``t``.
        A DataFrame with the task names as columns when ``X`` is one.

    Raises
    ------
    ValueError
        Empty lists, lists of different lengths, a task with no rows,
        ``len(Xs[t]) != len(ys[t])``, a non-1-D or non-finite ``ys[t]``,
        array inputs with different numbers of features, mixing DataFrames
        with other types, duplicated column names, bad ``task_names``.

    See Also
    --------
    unstack_tasks : The inverse operation.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.tasks import stack_tasks
    >>> Xs = [np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0, 6.0]])]
    >>> ys = [np.array([10.0, 20.0]), np.array([30.0])]
    >>> X, Y = stack_tasks(Xs, ys)
    >>> X
    array([[1., 2.],
           [3., 4.],
           [5., 6.]])
    >>> Y
    array([[10., nan],
           [20., nan],
           [nan, 30.]])

    DataFrames with different columns are aligned by name:

    >>> import pandas as pd
    >>> houses = pd.DataFrame({"size": [120.0, 80.0], "bathrooms": [2, 1]})
    >>> flats = pd.DataFrame({"size": [50.0], "downtown": [1]})
    >>> X, Y = stack_tasks(
    ...     [houses, flats],
    ...     [pd.Series([300.0, 200.0], name="house"),
    ...      pd.Series([150.0], name="apartment")],
    ... )
    >>> X
        size  bathrooms  downtown
    0  120.0          2         0
    1   80.0          1         0
    2   50.0          0         1
    >>> Y
       house  apartment
    0  300.0        NaN
    1  200.0        NaN
    2    NaN      150.0
    """
    Xs = _check_list("Xs", Xs)
    ys = _check_list("ys", ys)
    n_tasks = len(Xs)
    if len(ys) != n_tasks:
        raise ValueError(
            f"Xs and ys must have one entry per task; got {n_tasks} Xs and "
            f"{len(ys)} ys."
        )

    n_frames = sum(_is_dataframe(Xt) for Xt in Xs)
    if 0 < n_frames < n_tasks:
        raise TypeError(
            "Either all Xs must be pandas DataFrames or none: got "
            f"{n_frames} DataFrames among {n_tasks} tasks."
        )
    as_frame = n_frames == n_tasks

    if feature_names is not None and (as_frame or any(sp.issparse(Xt) for Xt in Xs)):
        raise TypeError(
            "feature_names is for dense array Xs; DataFrames are aligned by their "
            "own columns, and sparse Xs must have the same columns."
        )
    if as_frame:
        X = _stack_frames(Xs)
    elif any(sp.issparse(Xt) for Xt in Xs):
        X = _stack_sparse(Xs)
    else:
        X = _stack_arrays(Xs, feature_names)

    y_arrays = [_check_y(y, t) for t, y in enumerate(ys)]
    # Row counts taken from the stacked parts, so lists of lists work too.
    counts = [Xt.shape[0] if hasattr(Xt, "shape") else len(np.asarray(Xt)) for Xt in Xs]
    for t, (n_t, y) in enumerate(zip(counts, y_arrays, strict=True)):
        if n_t != y.shape[0]:
            raise ValueError(
                f"Task {t}: Xs[{t}] has {n_t} rows but ys[{t}] has {y.shape[0]} labels."
            )
        if n_t == 0:
            raise ValueError(
                f"Task {t} has no rows; every task needs at least one labelled sample."
            )

    if task_names is None:
        names = _default_task_names(ys, n_tasks)
    else:
        names = _check_task_names(task_names, n_tasks)

    n_samples = int(sum(counts))
    Y = np.full((n_samples, n_tasks), np.nan)
    start = 0
    for t, y in enumerate(y_arrays):
        Y[start : start + y.shape[0], t] = y
        start += y.shape[0]

    if as_frame:
        pd = _pandas()
        Y = pd.DataFrame(Y, columns=names, index=X.index)
    return X, Y


def unstack_tasks(X, Y):
    """Split one ``X`` and a NaN-masked ``Y`` into per-task datasets.

    Task ``t`` gets the rows of ``X`` that have a label for it (non-NaN
    ``Y[:, t]``), in their original order. A row labelled for several tasks
    appears in each of those tasks.

    Parameters
    ----------
    X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
        Features. Sparse input stays sparse (COO and other formats without
        row indexing are converted to CSR); DataFrame rows keep their index.
    Y : array-like or DataFrame of shape (n_samples, n_tasks) or (n_samples,)
        Targets, NaN where a row has no label for a task. A 1-D ``Y`` is one
        task.

    Returns
    -------
    Xs : list of length n_tasks
        ``Xs[t]`` holds the rows labelled for task ``t``, of the same type as
        ``X``.
    ys : list of length n_tasks
        ``ys[t]`` is a 1-D float64 array of task ``t``'s labels, or a Series
        named after the task (with ``Y``'s index) when ``Y`` is a DataFrame.

    Raises
    ------
    ValueError
        If ``X`` and ``Y`` have different numbers of rows or ``Y`` is not 1-D
        or 2-D.

    See Also
    --------
    stack_tasks : The inverse operation.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.tasks import unstack_tasks
    >>> X = np.array([[1.0], [2.0], [3.0]])
    >>> Y = np.array([[10.0, np.nan], [np.nan, 20.0], [11.0, 21.0]])
    >>> Xs, ys = unstack_tasks(X, Y)
    >>> Xs[0].ravel(), ys[0]
    (array([1., 3.]), array([10., 11.]))
    >>> Xs[1].ravel(), ys[1]
    (array([2., 3.]), array([20., 21.]))
    """
    y_frame = _is_dataframe(Y)
    if y_frame:
        names = list(Y.columns)
        y_index = Y.index
    elif _is_series(Y):
        names = [Y.name]
        y_index = Y.index
    else:
        names = None
        y_index = None
    if sp.issparse(Y):
        raise TypeError("Y must be dense (NaN marks missing labels).")
    try:
        Y2 = np.asarray(Y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"Y must contain numbers (float64-convertible): {exc}"
        ) from None
    if Y2.ndim == 1:
        Y2 = Y2[:, None]
    if Y2.ndim != 2:
        raise ValueError(f"Y must be 1-D or 2-D, got an array of shape {Y2.shape}.")

    x_frame = _is_dataframe(X)
    if sp.issparse(X):
        if X.format not in ("csr", "csc"):
            X = X.tocsr()
    elif not x_frame:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got an array of shape {X.shape}.")
    n_samples = X.shape[0]
    if Y2.shape[0] != n_samples:
        raise ValueError(
            f"X has {n_samples} rows but Y has {Y2.shape[0]}; they must match."
        )

    Xs, ys = [], []
    for t in range(Y2.shape[1]):
        rows = np.flatnonzero(~np.isnan(Y2[:, t]))
        if x_frame:
            Xs.append(X.iloc[rows].copy())
        else:
            Xs.append(X[rows])
        yt = Y2[rows, t].copy()
        if names is not None:
            pd = _pandas()
            yt = pd.Series(yt, index=y_index[rows], name=names[t])
        ys.append(yt)
    return Xs, ys


def _fitted_attr(estimator, name):
    """``estimator.<name>``, looking through pipelines and searches."""
    for _ in range(16):
        value = getattr(estimator, name, None)
        if value is not None:
            return value
        inner = getattr(estimator, "best_estimator_", None)
        if inner is None and hasattr(estimator, "steps"):
            inner = estimator.steps[-1][1]
        if inner is None or inner is estimator:
            return None
        estimator = inner
    return None


def predict_frame(estimator, X, *, method="predict"):
    """Predictions as a pandas DataFrame with one column per named task.

    scikit-learn estimators return arrays; when ``Y`` was a DataFrame the
    task names are kept in the fitted ``task_names_`` (also through a
    ``Pipeline`` or a fitted ``GridSearchCV``), and this helper puts them
    back, with ``X``'s index when ``X`` is a DataFrame.

    Parameters
    ----------
    estimator : fitted estimator
        A skmtl estimator, or a ``Pipeline`` / search ending in one.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Input of ``estimator.<method>``.
    method : {"predict", "decision_function", "predict_proba"}, \
default="predict"
        What to return. ``"predict_proba"``'s list of per-task ``(n, 2)``
        arrays becomes columns ``(task, class)`` (a column MultiIndex).

    Returns
    -------
    frame : DataFrame of shape (n_samples, n_tasks), or Series
        Columns named after the tasks (``0 .. n_tasks - 1`` when the
        estimator was fitted on an array ``Y``); a Series named after the
        task when the estimator predicts one task as 1-D.

    Raises
    ------
    ImportError
        If pandas is not installed.
    ValueError
        For an unknown ``method``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skmtl import MultiTaskRidge, predict_frame
    >>> X = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0]}, index=list("abcd"))
    >>> Y = pd.DataFrame({"house": [1.0, 2.0, np.nan, np.nan],
    ...                   "flat": [np.nan, np.nan, 3.0, 4.0]}, index=X.index)
    >>> model = MultiTaskRidge(alpha=1e-6).fit(X, Y)
    >>> predict_frame(model, X).round(2)
       house  flat
    a    1.0   1.0
    b    2.0   2.0
    c    3.0   3.0
    d    4.0   4.0
    """
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is a test dependency
        raise ImportError("predict_frame needs pandas (pip install pandas).") from exc
    if method not in ("predict", "decision_function", "predict_proba"):
        raise ValueError(
            "method must be 'predict', 'decision_function' or 'predict_proba', "
            f"got {method!r}."
        )
    out = getattr(estimator, method)(X)
    index = X.index if _is_dataframe(X) else None
    names = _fitted_attr(estimator, "task_names_")
    names = None if names is None else [str(n) for n in names]
    if isinstance(out, list):  # predict_proba: one (n, n_classes) per task
        classes = _fitted_attr(estimator, "classes_")
        names = names or list(range(len(out)))
        frames = {
            names[t]: pd.DataFrame(P, index=index, columns=list(classes[t]))
            for t, P in enumerate(out)
        }
        return pd.concat(frames, axis=1)
    out = np.asarray(out)
    if out.ndim == 1:
        name = names[0] if names is not None and len(names) == 1 else None
        return pd.Series(out, index=index, name=name)
    if names is not None and len(names) != out.shape[1]:
        raise ValueError(
            f"The estimator has {len(names)} task names but {method} returned "
            f"{out.shape[1]} columns."
        )
    return pd.DataFrame(out, index=index, columns=names)
