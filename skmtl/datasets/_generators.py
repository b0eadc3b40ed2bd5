"""Synthetic multi-task problems with a planted coefficient structure."""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

from ._checks import check_int, check_option, check_real

__all__ = ["chain_graph", "make_multitask_classification", "make_multitask_regression"]

STRUCTURES = ("joint_sparse", "low_rank", "clustered", "graph", "unrelated")


def chain_graph(n_tasks):
    """Adjacency matrix of a chain of tasks: task ``t`` is linked to ``t + 1``.

    This is the task graph planted by ``structure="graph"`` in
    :func:`make_multitask_regression` and
    :func:`make_multitask_classification`: task ``t`` is linked to tasks
    ``t - 1`` and ``t + 1``.

    Parameters
    ----------
    n_tasks : int
        Number of tasks, at least 1.

    Returns
    -------
    A : ndarray of shape (n_tasks, n_tasks), float64
        Symmetric 0/1 adjacency matrix with a zero diagonal.

    Examples
    --------
    >>> from skmtl.datasets import chain_graph
    >>> chain_graph(4)
    array([[0., 1., 0., 0.],
           [1., 0., 1., 0.],
           [0., 1., 0., 1.],
           [0., 0., 1., 0.]])
    """
    n_tasks = check_int("n_tasks", n_tasks, 1)
    A = np.zeros((n_tasks, n_tasks))
    i = np.arange(n_tasks - 1)
    A[i, i + 1] = 1.0
    A[i + 1, i] = 1.0
    return A


def _planted_coef(
    structure, n_tasks, n_features, n_informative, rank, n_clusters, relatedness, rng
):
    """Ground-truth ``W`` of shape ``(n_tasks, n_features)``.

    The random draws do not depend on ``relatedness``, so with the same seed
    problems of different relatedness share their structured and independent
    parts (only the mix changes).
    """
    T, p, r = n_tasks, n_features, relatedness
    if structure == "joint_sparse":
        k = n_informative
        n_shared = int(round(r * k))
        shared = rng.choice(p, size=k, replace=False)
        W = np.zeros((T, p))
        for t in range(T):
            keep = rng.permutation(shared)[:n_shared]
            others = np.setdiff1d(np.arange(p), keep)
            own = rng.permutation(others)[: k - n_shared]
            W[t, np.concatenate([keep, own])] = rng.standard_normal(k)
        return W

    if structure == "low_rank":
        S = rng.standard_normal((T, rank)) @ rng.standard_normal((rank, p))
        S /= np.sqrt(rank)
    elif structure == "clustered":
        centers = rng.standard_normal((n_clusters, p))
        labels = rng.permutation(np.arange(T) % n_clusters)
        S = centers[labels]
    elif structure == "graph":
        a, b = rng.standard_normal((2, p))
        theta = 0.5 * np.pi * np.arange(T) / max(T - 1, 1)
        S = np.cos(theta)[:, None] * a + np.sin(theta)[:, None] * b
    else:  # "unrelated"
        S = np.zeros((T, p))
        r = 0.0
    U = rng.standard_normal((T, p))
    return np.sqrt(r) * S + np.sqrt(1.0 - r) * U


def _check_common(
    n_tasks,
    n_samples,
    n_features,
    structure,
    n_informative,
    rank,
    n_clusters,
    relatedness,
    shared_X,
    missing_fraction,
    bias,
    min_per_task,
):
    """Validate the parameters shared by both generators; return cleaned ones."""
    n_tasks = check_int("n_tasks", n_tasks, 1)
    n_features = check_int("n_features", n_features, 1)
    structure = check_option("structure", structure, STRUCTURES)
    if structure == "joint_sparse":
        check_int("n_informative", n_informative, 1, n_features)
    if structure == "low_rank":
        check_int("rank", rank, 1, min(n_tasks, n_features))
    if structure == "clustered":
        check_int("n_clusters", n_clusters, 1, n_tasks)
    relatedness = check_real("relatedness", relatedness, 0.0, 1.0)
    missing_fraction = check_real(
        "missing_fraction", missing_fraction, 0.0, 1.0, high_open=True
    )
    if not isinstance(shared_X, (bool, np.bool_)):
        raise TypeError(f"shared_X must be a bool, got {shared_X!r}.")

    if isinstance(n_samples, Integral) and not isinstance(n_samples, bool):
        check_int("n_samples", n_samples, min_per_task)
        counts = np.full(n_tasks, int(n_samples), dtype=np.int64)
    else:
        if shared_X:
            raise ValueError(
                "With shared_X=True all tasks share the same rows, so n_samples "
                f"must be an int, got {n_samples!r}."
            )
        try:
            counts = [check_int("n_samples[t]", n, min_per_task) for n in n_samples]
        except TypeError:
            raise TypeError(
                "n_samples must be an int or a list of ints (one per task), "
                f"got {n_samples!r}."
            ) from None
        if len(counts) != n_tasks:
            raise ValueError(
                f"n_samples has {len(counts)} entries but n_tasks={n_tasks}."
            )
        counts = np.asarray(counts, dtype=np.int64)

    bias = np.asarray(bias, dtype=np.float64)
    if bias.ndim > 1 or (bias.ndim == 1 and bias.shape[0] != n_tasks):
        raise ValueError(
            f"bias must be a number or an array of shape (n_tasks,)=({n_tasks},), "
            f"got shape {bias.shape}."
        )
    if not np.all(np.isfinite(bias)):
        raise ValueError("bias must be finite.")
    return (
        n_tasks,
        counts,
        n_features,
        structure,
        relatedness,
        bool(shared_X),
        missing_fraction,
        bias,
    )


def _label_mask(counts, shared_X):
    """Which entries of ``Y`` are labelled before any are removed."""
    n_tasks = counts.shape[0]
    if shared_X:
        return np.ones((int(counts[0]), n_tasks), dtype=bool)
    task = np.repeat(np.arange(n_tasks), counts)
    mask = np.zeros((task.shape[0], n_tasks), dtype=bool)
    mask[np.arange(task.shape[0]), task] = True
    return mask


def _remove_labels(mask, fraction, rng, min_labels):
    """Blank ``round(fraction * n_labels)`` labels uniformly at random.

    ``min_labels`` randomly chosen labels of every task are kept, so no task
    is left (nearly) empty.
    """
    if fraction == 0.0:
        return mask
    mask = mask.copy()
    n_tasks = mask.shape[1]
    labelled = np.flatnonzero(mask.ravel())  # row-major cell index
    cell_task = labelled % n_tasks
    reserved = np.zeros(labelled.shape[0], dtype=bool)
    for t in range(n_tasks):
        own = np.flatnonzero(cell_task == t)
        reserved[rng.choice(own, size=min(min_labels, own.shape[0]), replace=False)] = (
            True
        )
    candidates = labelled[~reserved]
    n_drop = min(int(round(fraction * labelled.shape[0])), candidates.shape[0])
    drop = rng.choice(candidates, size=n_drop, replace=False)
    mask.ravel()[drop] = False
    return mask


_COMMON_PARAMS_DOC = """\
    n_tasks : int, default=10
        Number of tasks ``T``.
    n_samples : int or list of int, default=100
        Number of rows per task. A list gives each task its own count (only
        with ``shared_X=False``).
    n_features : int, default=20
        Number of features ``p``. Features are i.i.d. standard normal.
    structure : {"joint_sparse", "low_rank", "clustered", "graph", \
"unrelated"}, default="joint_sparse"
        Planted structure of the coefficients ``W`` (one row per task):

        - ``"joint_sparse"``: every task uses ``n_informative`` features.
          With ``relatedness=1`` all tasks use the same features (the
          support is shared, the values are independent standard normal);
          task ``t`` keeps ``round(relatedness * n_informative)`` of the
          shared features and draws the others at random.
        - ``"low_rank"``: ``W = sqrt(r) L + sqrt(1 - r) U`` with ``L`` of rank
          ``rank`` and ``U`` i.i.d. standard normal (``r = relatedness``).
        - ``"clustered"``: tasks are split at random into ``n_clusters``
          groups of (nearly) equal size; each group has a standard normal
          center ``c`` and ``w_t = sqrt(r) c + sqrt(1 - r) u_t``.
        - ``"graph"``: tasks lie on a chain (see :func:`chain_graph`):
          ``s_t = cos(theta_t) a + sin(theta_t) b`` with ``theta_t`` going
          from 0 to pi/2 along the chain, so neighbours are similar, and
          ``w_t = sqrt(r) s_t + sqrt(1 - r) u_t``.
        - ``"unrelated"``: ``W`` i.i.d. standard normal; ``relatedness`` is
          ignored.

        For the dense structures every entry of ``W`` has unit variance
        whatever ``relatedness``. The random draws do not depend on
        ``relatedness``: with the same ``random_state``, problems that differ
        only in ``relatedness`` share their structured and independent parts.
    n_informative : int, default=5
        Non-zero coefficients per task, for ``"joint_sparse"`` only (the
        other structures are dense).
    rank : int, default=2
        Rank of the structured part, for ``"low_rank"`` only.
    n_clusters : int, default=2
        Number of task groups, for ``"clustered"`` only.
    relatedness : float in [0, 1], default=1.0
        1 = fully shared structure, 0 = tasks unrelated (independent
        coefficients). In between, a mix (see ``structure``). Use it to show
        when multi-task learning helps and when it hurts.
    shared_X : bool, default=False
        If True, all tasks share the same ``n_samples`` rows and ``Y`` is
        fully labelled (up to ``missing_fraction``). If False, each task has
        its own rows, stacked in task order as by :func:`skmtl.stack_tasks`:
        each row is labelled for one task only.
    missing_fraction : float in [0, 1), default=0.0
        Fraction of the labels (labelled entries of ``Y``) set to NaN,
        chosen uniformly at random, except that a few randomly chosen labels
        of every task are always kept, so no task is left without labels.
        With ``shared_X=False`` a blanked row has no label at all."""

_RETURNS_DOC = """\
    X : ndarray of shape (n_samples_total, n_features)
        Features. ``n_samples_total`` is ``n_samples`` if ``shared_X`` else
        the sum of the per-task counts.
    Y : ndarray of shape (n_samples_total, n_tasks)"""


def make_multitask_regression(
    n_tasks=10,
    n_samples=100,
    n_features=20,
    *,
    structure="joint_sparse",
    n_informative=5,
    rank=2,
    n_clusters=2,
    noise=0.1,
    relatedness=1.0,
    shared_X=False,
    missing_fraction=0.0,
    bias=0.0,
    return_coef=False,
    random_state=None,
):
    """Generate a multi-task linear regression problem with a planted structure.

    ``Y[i, t] = X[i] @ coef[t] + bias[t] + noise * e_it`` with ``e_it``
    standard normal, for the labelled entries; NaN elsewhere.

    Parameters
    ----------
    {common}
    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to the targets.
    bias : float or array-like of shape (n_tasks,), default=0.0
        Intercept of each task.
    return_coef : bool, default=False
        If True, also return the planted coefficients.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    {returns}
        Targets, float64, NaN where a row has no label for a task.
    coef : ndarray of shape (n_tasks, n_features)
        The planted coefficients. Only returned if ``return_coef=True``.

    See Also
    --------
    make_multitask_classification : The same problems with binary labels.
    chain_graph : The task graph of ``structure="graph"``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(
    ...     n_tasks=3, n_samples=[20, 30, 10], n_features=8, n_informative=2,
    ...     return_coef=True, random_state=0)
    >>> X.shape, Y.shape, coef.shape
    ((60, 8), (60, 3), (3, 8))
    >>> (~np.isnan(Y)).sum(axis=0)
    array([20, 30, 10])
    >>> np.flatnonzero(np.abs(coef).sum(axis=0))  # shared support
    array([2, 6])
    """
    T, counts, p, structure, relatedness, shared_X, missing_fraction, bias = (
        _check_common(
            n_tasks,
            n_samples,
            n_features,
            structure,
            n_informative,
            rank,
            n_clusters,
            relatedness,
            shared_X,
            missing_fraction,
            bias,
            min_per_task=1,
        )
    )
    noise = check_real("noise", noise, 0.0)
    rng = check_random_state(random_state)

    coef = _planted_coef(
        structure, T, p, n_informative, rank, n_clusters, relatedness, rng
    )
    mask = _label_mask(counts, shared_X)
    X = rng.standard_normal((mask.shape[0], p))
    Y = X @ coef.T + bias + noise * rng.standard_normal(mask.shape)
    mask = _remove_labels(mask, missing_fraction, rng, min_labels=1)
    Y[~mask] = np.nan
    if return_coef:
        return X, Y, coef
    return X, Y


def make_multitask_classification(
    n_tasks=10,
    n_samples=100,
    n_features=20,
    *,
    structure="joint_sparse",
    n_informative=5,
    rank=2,
    n_clusters=2,
    class_sep=2.0,
    flip_y=0.0,
    relatedness=1.0,
    shared_X=False,
    missing_fraction=0.0,
    bias=0.0,
    return_coef=False,
    random_state=None,
):
    """Generate a multi-task binary classification problem (logistic model).

    ``P(Y[i, t] = 1) = sigmoid(X[i] @ coef[t] + bias[t])``; labels are drawn
    from this model, then each is flipped with probability ``flip_y``.
    Labels are 0.0 / 1.0 (float, since unlabelled entries are NaN). Every
    task is guaranteed both classes among its labels: if a task's labels all
    came out equal, one of them, chosen at random, is flipped.

    Parameters
    ----------
    {common}
    class_sep : float, default=2.0
        Scale of the planted coefficients: ``coef`` is rescaled so that the
        root mean square over tasks of ``||coef[t]||_2`` is ``class_sep``.
        As the features are standard normal, this is the typical standard
        deviation of the logit; larger means easier tasks.
    flip_y : float in [0, 1], default=0.0
        Probability that a label is flipped after it is drawn (label noise on
        top of the logistic model's own randomness).
    bias : float or array-like of shape (n_tasks,), default=0.0
        Intercept of each task's logit.
    return_coef : bool, default=False
        If True, also return the planted (rescaled) coefficients.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    {returns}
        Labels 0.0 / 1.0, NaN where a row has no label for a task.
    coef : ndarray of shape (n_tasks, n_features)
        The planted logistic coefficients. Only returned if
        ``return_coef=True``.

    See Also
    --------
    make_multitask_regression : The same problems with continuous targets.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.datasets import make_multitask_classification
    >>> X, Y = make_multitask_classification(
    ...     n_tasks=4, n_samples=50, n_features=6, structure="low_rank",
    ...     shared_X=True, missing_fraction=0.2, random_state=0)
    >>> X.shape, Y.shape
    ((50, 6), (50, 4))
    >>> int(np.isnan(Y).sum())
    40
    >>> np.unique(Y[~np.isnan(Y)])
    array([0., 1.])
    """
    T, counts, p, structure, relatedness, shared_X, missing_fraction, bias = (
        _check_common(
            n_tasks,
            n_samples,
            n_features,
            structure,
            n_informative,
            rank,
            n_clusters,
            relatedness,
            shared_X,
            missing_fraction,
            bias,
            min_per_task=2,
        )
    )
    class_sep = check_real("class_sep", class_sep, 0.0)
    if class_sep == 0.0:
        raise ValueError("class_sep must be > 0, got 0.0.")
    flip_y = check_real("flip_y", flip_y, 0.0, 1.0)
    rng = check_random_state(random_state)

    coef = _planted_coef(
        structure, T, p, n_informative, rank, n_clusters, relatedness, rng
    )
    rms = np.sqrt(np.mean(np.sum(coef**2, axis=1)))
    coef *= class_sep / rms
    mask = _label_mask(counts, shared_X)
    X = rng.standard_normal((mask.shape[0], p))
    logit = X @ coef.T + bias
    Y = (rng.random(mask.shape) < 1.0 / (1.0 + np.exp(-logit))).astype(np.float64)
    flip = rng.random(mask.shape) < flip_y
    Y[flip] = 1.0 - Y[flip]
    mask = _remove_labels(mask, missing_fraction, rng, min_labels=2)
    for t in range(T):
        rows = np.flatnonzero(mask[:, t])
        if np.all(Y[rows, t] == Y[rows[0], t]):
            i = rng.choice(rows)
            Y[i, t] = 1.0 - Y[i, t]
    Y[~mask] = np.nan
    if return_coef:
        return X, Y, coef
    return X, Y


for _func in (make_multitask_regression, make_multitask_classification):
    _func.__doc__ = _func.__doc__.replace(
        "{common}", _COMMON_PARAMS_DOC.lstrip()
    ).replace("{returns}", _RETURNS_DOC.lstrip())
del _func
