"""Row splitters that keep every task represented in every fold.

A multi-task ``Y`` of shape ``(n_samples, n_tasks)`` with NaN for missing
labels is split by rows. Plain ``KFold`` can leave a task with few labels
without any training label in some fold (all its rows in one test fold),
which makes the fold's fit fail. The splitters here stratify by task: each
row belongs to the stratum of its *rarest* labelled task (the task with
fewest labelled rows, so the scarcest labels are spread first), rows without
any label form one more stratum, and rows are dealt to folds so that every
task keeps its share of labelled rows in every fold.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_samples

__all__ = ["TaskShuffleSplit", "TaskStratifiedKFold"]


def _as_2d_targets(y):
    if y is None:
        raise ValueError(
            "Task-stratified splitters need y: pass the (n_samples, n_tasks) "
            "target array, with NaN for missing labels, to split()."
        )
    Y = np.asarray(y)
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    if Y.ndim != 2:
        raise ValueError(f"y must be 1-D or 2-D, got shape {Y.shape}.")
    return Y


def _label_mask(y):
    from ..neural_network._labels import missing_label_mask

    Y = _as_2d_targets(y)
    return np.column_stack([~missing_label_mask(Y[:, t]) for t in range(Y.shape[1])])


def _task_classes(values, stratify_classes):
    """The classes of one task's labelled ``values``, or None (not classes).

    ``"auto"``: labels are classes when they are not numbers (strings,
    booleans, categories) or when they are exactly two distinct integers
    (a binary task, as scikit-learn's ``type_of_target``); other numbers are
    regression targets.
    """
    if not isinstance(stratify_classes, str) and not stratify_classes:
        return None
    numeric = values
    if values.dtype.kind == "O":
        try:
            numeric = values.astype(np.float64)
        except (TypeError, ValueError):
            numeric = None
    elif values.dtype.kind not in "iuf":
        numeric = None
    if not isinstance(stratify_classes, str) or numeric is None:
        return np.unique(values)
    uniq = np.unique(numeric)
    if uniq.size == 2 and np.all(uniq == np.round(uniq)):
        return uniq
    return None


def _label_units(y, stratify_classes):
    """Rows of each stratification unit and what each unit is.

    A unit is one class of a classification task (see :func:`_task_classes`)
    or all labelled rows of any other task. Returns ``U`` (n, n_units) bool,
    the task of each unit and its class (None for a whole task).
    """
    from ..neural_network._labels import missing_label_mask

    Y = _as_2d_targets(y)
    cols, unit_task, unit_class = [], [], []
    for t in range(Y.shape[1]):
        labelled = ~missing_label_mask(Y[:, t])
        classes = _task_classes(Y[labelled, t], stratify_classes)
        if classes is None or classes.size < 2:
            cols.append(labelled)
            unit_task.append(t)
            unit_class.append(None)
            continue
        values = Y[:, t]
        for c in classes:
            hit = np.zeros(Y.shape[0], dtype=bool)
            hit[labelled] = values[labelled] == c
            cols.append(hit)
            unit_task.append(t)
            unit_class.append(c)
    return np.column_stack(cols), np.array(unit_task), unit_class


def _check_stratify_classes(value):
    if isinstance(value, bool | np.bool_) or (
        isinstance(value, str) and value == "auto"
    ):
        return
    raise ValueError(f"stratify_classes must be 'auto', True or False, got {value!r}.")


def _task_name(y, t):
    cols = getattr(y, "columns", None)
    if cols is not None and not isinstance(y, np.ndarray):
        return f"task {t} ({cols[t]!r})"
    return f"task {t}"


def _unit_name(y, unit_task, unit_class, u):
    name = _task_name(y, unit_task[u])
    c = unit_class[u]
    if c is None:
        return name
    c = c.item() if isinstance(c, np.generic) else c
    return f"class {c!r} of {name}"


def _strata(M):
    """Stratum of each row (its rarest labelled task; ``T`` for no label) and
    the order in which strata are dealt (rarest task first)."""
    n, T = M.shape
    counts = M.sum(axis=0)
    order = np.argsort(counts, kind="stable")  # rarest first
    rank = np.empty(T, dtype=np.int64)
    rank[order] = np.arange(T)
    # rank of each labelled cell; the rarest task of a row has the lowest rank
    ranks = np.where(M, rank[None, :], T)
    best = ranks.min(axis=1)
    stratum = np.where(best < T, order[np.minimum(best, T - 1)], T)
    return stratum, [*order.tolist(), T], counts


def _too_few_message(y, unit_task, unit_class, u, count):
    name = _unit_name(y, unit_task, unit_class, u)
    if unit_class[u] is None:
        return (
            f"Cannot stratify by task: {name} has {count} labelled row(s); "
            "with fewer than 2, the training set of the fold that tests it has "
            "no label for it. Drop or merge the task."
        )
    task = _task_name(y, unit_task[u])
    return (
        f"Cannot stratify by class: {name} has {count} labelled row(s); with "
        f"fewer than 2, the training set of the fold that tests it has only "
        f"one class for {task}, which a classifier cannot fit. Drop the task, "
        "merge it with another, or pass stratify_classes=False if its targets "
        "are not classes."
    )


class TaskStratifiedKFold(BaseCrossValidator):
    """K-fold over rows, stratified so that every task is in every fold.

    Each row is assigned to the stratum of its rarest labelled task (rows
    without labels form their own stratum). Strata are dealt to the folds
    rarest task first; each row goes to the fold that has the fewest rows
    labelled for that task so far (ties: the smaller fold, then the lower
    index; rows labelled for several tasks break ties towards the folds where
    their other tasks are scarce). When each row is labelled for one task,
    every task with at least ``n_splits`` labelled rows has labels in every
    test fold, its labels are split about evenly, and no training set misses
    a task with at least 2 labelled rows (a task with fewer rows than folds
    gets a warning, as a class does in scikit-learn's ``StratifiedKFold``:
    some test folds have no label for it). With rows labelled for several
    tasks this holds in most cases but cannot always hold; ``split`` then
    raises instead of returning a fold whose training set misses a task.
    Fold sizes differ by at most a few rows.

    **Classification tasks are stratified by class too.** A classifier cannot
    fit a task whose training rows hold one class, and with rare classes
    (a few positives per task) task-only stratification often leaves all of a
    task's positives in one test fold. So each class of a classification
    task is its own stratum ("unit"), and everything above holds per class:
    every class with at least 2 rows keeps a row in every training set, and
    its rows are spread about evenly over the test folds. Which tasks are
    classification tasks is set by ``stratify_classes``; by default
    (``"auto"``) it is detected from the labels: strings, booleans and other
    non-numeric labels, and numeric tasks with exactly two distinct integer
    values (binary targets, as scikit-learn's ``type_of_target``), are
    classes; other numeric targets (for instance integer counts with many
    values, or multiclass integer codes) are not, pass
    ``stratify_classes=True`` for those.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=False
        Shuffle the rows of each stratum before dealing them.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle (only used when ``shuffle=True``).
    stratify_classes : {"auto", True, False}, default="auto"
        Stratify classification tasks by class: ``"auto"`` detects them from
        the labels (see above), ``True`` treats every task's distinct label
        values as classes, ``False`` stratifies by task only (regression).

    Raises
    ------
    ValueError
        From ``split`` when a task has fewer than 2 labelled rows, or a class
        of a classification task fewer than 2 rows (the message names the
        task and the class), or when the dealing leaves all of a task's (or
        class's) rows in one test fold (possible only with rows labelled for
        several tasks): some training set would have no label for it, or one
        class only.

    See Also
    --------
    TaskShuffleSplit : Random task-stratified train/test splits.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.model_selection import TaskStratifiedKFold
    >>> Y = np.full((12, 2), np.nan)
    >>> Y[:, 0] = 1.0                 # task 0: every row
    >>> Y[[0, 1, 2], 1] = 1.0         # task 1: three rows only
    >>> cv = TaskStratifiedKFold(n_splits=3)
    >>> [sorted(set(test) & {0, 1, 2}) for _, test in cv.split(np.zeros((12, 1)), Y)]
    [[0], [1], [2]]

    A rare class (3 positives among 12 rows) keeps a positive in every
    training set:

    >>> y = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    >>> [int(y[train].sum()) for train, _ in cv.split(np.zeros((12, 1)), y)]
    [2, 2, 2]
    """

    def __init__(
        self, n_splits=5, *, shuffle=False, random_state=None, stratify_classes="auto"
    ):
        if not isinstance(n_splits, Integral) or isinstance(n_splits, bool):
            raise ValueError(f"n_splits must be an integer, got {n_splits!r}.")
        if n_splits < 2:
            raise ValueError(f"n_splits must be at least 2, got {n_splits}.")
        if not isinstance(shuffle, bool | np.bool_):
            raise TypeError(f"shuffle must be True or False, got {shuffle!r}.")
        if not shuffle and random_state is not None:
            raise ValueError(
                "Setting a random_state has no effect since shuffle is False. "
                "Leave random_state at None, or set shuffle=True."
            )
        _check_stratify_classes(stratify_classes)
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state
        self.stratify_classes = stratify_classes

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits (``n_splits``)."""
        return self.n_splits

    def _fold_of_rows(self, X, y):
        M = _label_mask(y)
        n = M.shape[0]
        if X is not None and _num_samples(X) != n:
            raise ValueError(
                f"X and y have inconsistent numbers of samples: {_num_samples(X)} "
                f"and {n}."
            )
        K = self.n_splits
        if n < K:
            raise ValueError(
                f"Cannot have n_splits={K} greater than the number of samples {n}."
            )
        _check_stratify_classes(self.stratify_classes)
        U, unit_task, unit_class = _label_units(y, self.stratify_classes)
        stratum, order, counts = _strata(U)
        for u in np.flatnonzero(counts < 2):
            raise ValueError(_too_few_message(y, unit_task, unit_class, u, counts[u]))
        few = np.flatnonzero(counts < K)
        if few.size:
            # as StratifiedKFold does for a class with fewer members than folds:
            # every training set still has the task (class), some test folds not
            u = few[np.argmin(counts[few])]
            what = "task(s)" if unit_class[u] is None else "task classes"
            warnings.warn(
                f"{few.size} {what} have fewer labelled rows than n_splits={K}; "
                f"the smallest, {_unit_name(y, unit_task, unit_class, u)}, has "
                f"{counts[u]}. Every training fold keeps labels for them, but "
                "some test folds have none.",
                UserWarning,
                stacklevel=3,
            )
        rng = check_random_state(self.random_state) if self.shuffle else None
        fold = np.empty(n, dtype=np.int64)
        sizes = np.zeros(K, dtype=np.int64)
        n_units = U.shape[1]
        unit_counts = np.zeros((n_units + 1, K), dtype=np.int64)
        for s in order:
            rows = np.flatnonzero(stratum == s)
            if rows.size == 0:
                continue
            if rng is not None:
                rows = rng.permutation(rows)
            cnt = unit_counts[s]
            for i in rows:
                # fewest rows of this unit; then the fold where the row's other
                # units are least represented (relative to their size); then
                # the smallest fold; then the lowest index
                fill = (U[i] / np.maximum(counts, 1)) @ unit_counts[:n_units]
                k = int(np.lexsort((np.arange(K), sizes, fill, cnt))[0])
                fold[i] = k
                sizes[k] += 1
                unit_counts[:n_units, k] += U[i]
                if s == n_units:
                    cnt[k] += 1
        # rows labelled for several tasks are dealt by their rarest unit, so
        # check the promise for every unit: labels in every training set
        test_counts = np.zeros((K, n_units), dtype=np.int64)
        np.add.at(test_counts, fold, U)
        empty = np.argwhere(test_counts == counts[None, :])
        if empty.size:
            k, u = empty[0]
            raise ValueError(
                f"Cannot stratify by task: every labelled row of "
                f"{_unit_name(y, unit_task, unit_class, u)} ({counts[u]} rows) "
                f"falls in test fold {k}, leaving its training set without "
                "labels for it. Use fewer splits, or drop or merge the task."
            )
        return fold, M

    def _iter_test_masks(self, X=None, y=None, groups=None):
        fold, _ = self._fold_of_rows(X, y)
        for k in range(self.n_splits):
            yield fold == k

    def split(self, X, y, groups=None):
        """Generate train/test row indices.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Only its length is used.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Targets; NaN (or None) marks a missing label.
        groups : None
            Ignored, for API compatibility.

        Yields
        ------
        train, test : ndarray of int
        """
        fold, M = self._fold_of_rows(X, y)
        idx = np.arange(fold.shape[0])
        for k in range(self.n_splits):
            test = fold == k
            yield idx[~test], idx[test]


def _largest_remainder(sizes, total):
    """Integers ``a_s <= sizes_s`` summing to ``total``, ``a_s ~ total * p_s``."""
    sizes = np.asarray(sizes, dtype=np.int64)
    n = sizes.sum()
    exact = total * sizes / n
    out = np.floor(exact).astype(np.int64)
    rest = int(total - out.sum())
    if rest > 0:
        frac = exact - out
        order = np.argsort(-frac, kind="stable")
        out[order[:rest]] += 1
    return np.minimum(out, sizes)


def _split_sizes(n, test_size, train_size):
    def count(v, name):
        if v is None:
            return None
        if isinstance(v, Integral) and not isinstance(v, bool):
            if not 0 < v < n:
                raise ValueError(f"{name}={v} should be in (0, n_samples={n}).")
            return int(v)
        if isinstance(v, Real) and 0 < v < 1:
            return v
        raise ValueError(f"{name} must be an int or a float in (0, 1); got {v!r}.")

    te, tr = count(test_size, "test_size"), count(train_size, "train_size")
    if te is None and tr is None:
        te = 0.1
    n_test = (
        None if te is None else (int(np.ceil(te * n)) if isinstance(te, float) else te)
    )
    n_train = (
        None if tr is None else (int(np.floor(tr * n)) if isinstance(tr, float) else tr)
    )
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n:
        raise ValueError(
            f"train_size + test_size = {n_train + n_test} rows exceeds n_samples={n}."
        )
    if n_train < 1 or n_test < 1:
        raise ValueError(
            f"With n_samples={n}, test_size={test_size} and train_size={train_size} "
            "one of the sets is empty."
        )
    return n_train, n_test


class TaskShuffleSplit(BaseCrossValidator):
    """Random train/test row splits, stratified by task.

    Rows are grouped by their rarest labelled task (rows without labels form
    one more group); each split draws the test and training rows of each
    group in proportion to its size, so every task keeps its share of
    labelled rows in both sets, and every task with at least two labelled
    rows keeps at least one training label. Classification tasks are
    grouped by class too (``stratify_classes``, as in
    :class:`TaskStratifiedKFold`), so every class with at least two rows
    keeps a training row.

    Parameters
    ----------
    n_splits : int, default=10
        Number of re-shuffling and splitting iterations.
    test_size : float or int, default=0.1
        Fraction (in (0, 1)) or number of test rows.
    train_size : float or int, default=None
        Fraction or number of training rows; default: the complement of the
        test set.
    random_state : int, RandomState instance or None, default=None
    stratify_classes : {"auto", True, False}, default="auto"
        Which tasks are stratified by class, as in
        :class:`TaskStratifiedKFold`.

    Raises
    ------
    ValueError
        From ``split`` when a task (or a class of a classification task) has
        fewer than two labelled rows (it cannot be in both sets), naming the
        task and the class.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.model_selection import TaskShuffleSplit
    >>> Y = np.full((20, 2), np.nan)
    >>> Y[:, 0] = 0.0
    >>> Y[:4, 1] = 1.0                # task 1 has four labels
    >>> cv = TaskShuffleSplit(n_splits=3, test_size=0.25, random_state=0)
    >>> [int((~np.isnan(Y[train, 1])).sum()) for train, _ in cv.split(Y, Y)]
    [3, 3, 3]
    """

    def __init__(
        self,
        n_splits=10,
        *,
        test_size=None,
        train_size=None,
        random_state=None,
        stratify_classes="auto",
    ):
        if not isinstance(n_splits, Integral) or n_splits < 1:
            raise ValueError(f"n_splits must be a positive integer, got {n_splits!r}.")
        _check_stratify_classes(stratify_classes)
        self.stratify_classes = stratify_classes
        self.n_splits = n_splits
        self.test_size = test_size
        self.train_size = train_size
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits (``n_splits``)."""
        return self.n_splits

    def _iter_test_masks(self, X=None, y=None, groups=None):  # pragma: no cover
        for _, test in self.split(X, y, groups):
            mask = np.zeros(_label_mask(y).shape[0], dtype=bool)
            mask[test] = True
            yield mask

    def split(self, X, y, groups=None):
        """Generate train/test row indices.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Only its length is used.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Targets; NaN (or None) marks a missing label.
        groups : None
            Ignored.

        Yields
        ------
        train, test : ndarray of int
        """
        M = _label_mask(y)
        n = M.shape[0]
        if X is not None and _num_samples(X) != n:
            raise ValueError(
                f"X and y have inconsistent numbers of samples: {_num_samples(X)} "
                f"and {n}."
            )
        n_train, n_test = _split_sizes(n, self.test_size, self.train_size)
        _check_stratify_classes(self.stratify_classes)
        U, unit_task, unit_class = _label_units(y, self.stratify_classes)
        stratum, order, counts = _strata(U)
        for u in np.flatnonzero(counts < 2):
            what = "task" if unit_class[u] is None else "class"
            raise ValueError(
                f"Cannot stratify by {what}: "
                f"{_unit_name(y, unit_task, unit_class, u)} has {counts[u]} "
                "labelled row(s); it needs at least 2 to be in both the training "
                "and the test set."
            )
        groups_rows = [np.flatnonzero(stratum == s) for s in order]
        groups_rows = [g for g in groups_rows if g.size]
        sizes = np.array([g.size for g in groups_rows])
        a_test = _largest_remainder(sizes, n_test)
        # keep at least one training row per group when the group allows it
        a_test = np.where((a_test >= sizes) & (sizes > 1), sizes - 1, a_test)
        if self.train_size is None:
            a_train = sizes - a_test
        else:
            a_train = np.minimum(_largest_remainder(sizes, n_train), sizes - a_test)
        rng = check_random_state(self.random_state)
        for _ in range(self.n_splits):
            train, test = [], []
            for g, nte, ntr in zip(groups_rows, a_test, a_train, strict=True):
                perm = rng.permutation(g)
                test.append(perm[:nte])
                train.append(perm[nte : nte + ntr])
            train = np.sort(np.concatenate(train))
            test = np.sort(np.concatenate(test))
            missing = np.flatnonzero(~U[train].any(axis=0))
            for u in missing:
                raise ValueError(
                    f"{_unit_name(y, unit_task, unit_class, u)} has no training "
                    "label in this split; increase train_size."
                )
            yield train, test
