"""Beyond one machine: multi-task models on dask collections.

The squared-loss linear models (:class:`~skmtl.MultiTaskRidge`,
:class:`~skmtl.MultiTaskLinearRegression`, :class:`~skmtl.MultiTaskLasso`,
:class:`~skmtl.MultiTaskElasticNet` and their CV estimators) accept dask
arrays and DataFrames in ``fit`` directly: each chunk's per-task sufficient
statistics are reduced on the cluster and the solver runs on them (see the
"Scaling" page of the user guide). This module holds the two helpers around
that: :func:`task_statistics` (the reduction itself) and
:func:`partial_fit_chunks` (streaming training of the networks, or of any
estimator with ``partial_fit``, over the chunks of a dask collection).

dask is an optional dependency (``pip install skmtl[dask]``); importing
this module does not import it.
"""

import numpy as np

from ._dask import is_dask_collection

__all__ = ["MAX_GRAM_BYTES", "partial_fit_chunks", "task_statistics"]

from ._dask._stats import MAX_GRAM_BYTES  # noqa: E402


def task_statistics(X, y, sample_weight=None, *, split_every=8):
    """Per-task sufficient statistics of dask data, reduced on the cluster.

    One pass over the data. For each chunk of rows, a task on the chunk's
    workers computes the task's weighted Gram ``sum_i s_i x_i x_i^T``, ``sum
    s_i y_it x_i``, the weighted sums of ``x`` and ``y``, of ``y^2``, the
    weight total and the label count (rows labelled for the task only); the
    chunks' statistics are added up by a tree with ``split_every`` inputs
    per node. Only the result, ``O(n_tasks * n_features^2)`` numbers, reaches
    the client. This is what the linear models' ``fit`` does on dask data.

    Parameters
    ----------
    X : dask array or dask DataFrame of shape (n_samples, n_features)
        Any numeric dtype (computed in float64 chunk by chunk).
    y : dask array, DataFrame or Series, or ndarray, of shape (n_samples,) \
            or (n_samples, n_tasks)
        Targets, NaN where a task has no label.
    sample_weight : dask array or ndarray of shape (n_samples,), default=None
        Non-negative row weights.
    split_every : int, default=8
        Fan-in of the reduction tree.

    Returns
    -------
    stats : TaskStatistics
        Raw (unnormalised) sums: ``Sx``, ``Sxy`` (n_tasks, n_features),
        ``sy``, ``syy``, ``sw``, ``count`` (n_tasks,), and the task Gram
        ``stats.raw_gram(t)`` (n_features, n_features). ``+`` and ``-``
        combine statistics of disjoint row sets.

    Raises
    ------
    ValueError
        If the Gram matrices would exceed :data:`MAX_GRAM_BYTES` (the route
        is for tall data: up to a few thousand features), or on NaN/inf in
        ``X``, infinite labels or negative weights (raised by the chunk
        that holds them).

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from skmtl.distributed import task_statistics
    >>> X = da.from_array(np.arange(12.0).reshape(6, 2), chunks=(4, 2))
    >>> Y = da.from_array(np.array([[1, 0], [2, np.nan], [3, 1],
    ...                             [4, np.nan], [5, 2], [6, 3.0]]), chunks=3)
    >>> stats = task_statistics(X, Y)
    >>> stats.count.tolist(), stats.sy.tolist()
    ([6, 4], [21.0, 6.0])
    >>> np.allclose(stats.raw_gram(0), X.compute().T @ X.compute())
    True
    """
    from ._dask._stats import reduce_statistics

    if not is_dask_collection(X):
        raise TypeError(f"X must be a dask array or DataFrame, got {type(X)}.")
    (stats,) = reduce_statistics(X, y, sample_weight, split_every=split_every)
    return stats


def _is_classifier(estimator):
    from sklearn.base import is_classifier

    return is_classifier(estimator)


def _task_classes(y):
    """Sorted labels of each task column of a dask ``y`` (a small reduction)."""
    import dask
    import dask.array as da

    from ._dask._stats import as_dask_array

    Y = as_dask_array(y, "y")
    cols = [Y] if Y.ndim == 1 else [Y[:, t] for t in range(Y.shape[1])]
    uniques = dask.compute(*[da.unique(c) for c in cols])
    out = []
    for u in uniques:
        u = np.asarray(u)
        if u.dtype.kind == "f":
            u = u[~np.isnan(u)]
        out.append(u)
    return out[0] if Y.ndim == 1 else out


def partial_fit_chunks(
    estimator, X, y, sample_weight=None, *, n_epochs=1, classes=None,
    shuffle_chunks=True, random_state=None,
):  # fmt: skip
    """Train ``estimator`` by ``partial_fit`` over the row chunks of dask data.

    Each epoch visits every row chunk once (in a random order with
    ``shuffle_chunks``): the chunk is computed on the cluster, brought to
    this process, and passed to ``estimator.partial_fit`` (for the networks,
    one epoch of minibatches over the chunk). The next chunk is computed
    while the current one trains. Memory in this process: about two chunks,
    whatever the number of rows. This needs no dask-ml; it is the loop
    dask-ml's ``Incremental`` wrapper runs, but it keeps the model here.

    Parameters
    ----------
    estimator : estimator with ``partial_fit``
        E.g. :class:`~skmtl.MultiTaskMLPRegressor`,
        :class:`~skmtl.MultiTaskMLPClassifier`. Trained in place.
    X : dask array or DataFrame of shape (n_samples, n_features)
    y : dask array, DataFrame or Series, or ndarray
        Targets (NaN for a missing label).
    sample_weight : dask array or ndarray of shape (n_samples,), default=None
    n_epochs : int, default=1
        Passes over the data.
    classes : list of array-like, default=None
        Classes of each task, for a classifier; computed from ``y`` (one
        small reduction) when None.
    shuffle_chunks : bool, default=True
        Visit the chunks in a new random order each epoch.
    random_state : int, RandomState or None, default=None
        Seed of the chunk order.

    Returns
    -------
    estimator : the trained estimator.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from skmtl import MultiTaskMLPRegressor
    >>> from skmtl.distributed import partial_fit_chunks
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> Y = np.column_stack([X[:, 0] + X[:, 1], X[:, 0] - X[:, 2]])
    >>> Xd, Yd = da.from_array(X, chunks=100), da.from_array(Y, chunks=100)
    >>> net = MultiTaskMLPRegressor(hidden_layer_sizes=(16,), batch_size=20,
    ...                             random_state=0)
    >>> net = partial_fit_chunks(net, Xd, Yd, n_epochs=30, random_state=0)
    >>> bool(net.score(X, Y) > 0.9)
    True
    """
    import dask
    from sklearn.utils import check_random_state

    from ._dask._stats import align_rows

    if not hasattr(estimator, "partial_fit"):
        raise TypeError(f"{type(estimator).__name__} has no partial_fit.")
    if int(n_epochs) < 1:
        raise ValueError(f"n_epochs must be >= 1, got {n_epochs}.")
    Xa, Ya, wa = align_rows(X, y, sample_weight)
    kwargs = {}
    if _is_classifier(estimator):
        kwargs["classes"] = _task_classes(Ya) if classes is None else classes
    xb = Xa.to_delayed().ravel()
    yb = Ya.to_delayed().ravel()
    wb = None if wa is None else wa.to_delayed().ravel()
    rng = check_random_state(random_state)
    order = [
        k
        for _ in range(int(n_epochs))
        for k in (rng.permutation(len(xb)) if shuffle_chunks else range(len(xb)))
    ]

    client = _default_client()

    def submit(k):
        parts = [xb[k], yb[k]] if wb is None else [xb[k], yb[k], wb[k]]
        if client is not None:
            return client.compute(parts)  # futures: computed in the background
        return parts

    def result(pending):
        if client is not None:
            return client.gather(pending)
        return dask.compute(*pending)

    pending = submit(order[0])
    for i in range(len(order)):
        chunk = result(pending)
        if i + 1 < len(order):
            pending = submit(order[i + 1])  # prefetch while this chunk trains
        sw = chunk[2] if len(chunk) == 3 else None
        estimator.partial_fit(chunk[0], chunk[1], sample_weight=sw, **kwargs)
    return estimator


def _default_client():
    """The active ``distributed`` client, or None."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None
