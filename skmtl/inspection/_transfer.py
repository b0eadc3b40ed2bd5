"""Transfer gain: does the multi-task model beat per-task models, task by task?"""

from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier

from ..baselines import IndependentTasksRegressor, PooledTasksRegressor
from ._common import (
    LOWER_IS_BETTER,
    check_sample_weight,
    check_scoring,
    make_folds,
    rows,
    score_tasks,
    sub_weight,
    targets_and_names,
)

__all__ = ["TransferGainResult", "transfer_gain"]


@dataclass(repr=False)
class TransferGainResult:
    """Per-task cross-validated gain of a multi-task model over a baseline.

    Returned by :func:`transfer_gain`. ``gain > 0`` means the multi-task
    model is better on that task; ``gain < 0`` is negative transfer.

    Attributes
    ----------
    gain : ndarray of shape (n_tasks,)
        Mean over folds of the per-fold gains (NaN-aware).
    gain_std : ndarray of shape (n_tasks,)
        Standard deviation of the per-fold gains (``ddof=1``; 0 with one
        fold).
    fold_gains : ndarray of shape (n_folds, n_tasks)
        Gain of each fold; NaN where a test fold has no label for a task.
    model_scores, baseline_scores : ndarray of shape (n_tasks,)
        Mean per-task test score of the multi-task model and of the baseline.
    fold_model_scores, fold_baseline_scores : ndarray of shape \
(n_folds, n_tasks)
        The per-fold scores.
    task_names : ndarray of str
    scoring : str
    baseline : str
        ``"independent"``, ``"pooled"`` or the baseline's class name.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.inspection import TransferGainResult
    >>> res = TransferGainResult(
    ...     fold_model_scores=np.array([[0.8, 0.1], [0.7, 0.3]]),
    ...     fold_baseline_scores=np.array([[0.5, 0.4], [0.5, 0.4]]),
    ...     task_names=np.array(["a", "b"], dtype=object))
    >>> res.gain
    array([ 0.25, -0.2 ])
    >>> res.negative_transfer
    array([False,  True])
    """

    fold_model_scores: np.ndarray
    fold_baseline_scores: np.ndarray
    task_names: np.ndarray
    scoring: str = "r2"
    baseline: str = "independent"
    fold_gains: np.ndarray = field(init=False)
    gain: np.ndarray = field(init=False)
    gain_std: np.ndarray = field(init=False)
    model_scores: np.ndarray = field(init=False)
    baseline_scores: np.ndarray = field(init=False)

    def __post_init__(self):
        M = np.atleast_2d(np.asarray(self.fold_model_scores, dtype=np.float64))
        B = np.atleast_2d(np.asarray(self.fold_baseline_scores, dtype=np.float64))
        self.fold_model_scores, self.fold_baseline_scores = M, B
        self.task_names = np.asarray(self.task_names, dtype=object)
        sign = -1.0 if self.scoring in LOWER_IS_BETTER else 1.0
        self.fold_gains = sign * (M - B)
        self.gain = _nanmean(self.fold_gains)
        self.gain_std = _nanstd(self.fold_gains)
        self.model_scores = _nanmean(M)
        self.baseline_scores = _nanmean(B)

    @property
    def n_folds(self):
        """Number of CV folds."""
        return self.fold_gains.shape[0]

    @property
    def negative_transfer(self):
        """Boolean mask of the tasks where the multi-task model is worse."""
        return self.gain < 0

    def to_frame(self):
        """The per-task table as a :class:`pandas.DataFrame` (index: tasks).

        Columns ``model``, ``baseline``, ``gain``, ``gain_std``,
        ``negative_transfer``.
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas installed here
            raise ImportError(
                "TransferGainResult.to_frame requires pandas: pip install pandas"
            ) from exc
        return pd.DataFrame(
            {
                "model": self.model_scores,
                "baseline": self.baseline_scores,
                "gain": self.gain,
                "gain_std": self.gain_std,
                "negative_transfer": self.negative_transfer,
            },
            index=pd.Index([str(n) for n in self.task_names], name="task"),
        )

    def __repr__(self):
        width = max([4] + [len(str(n)) for n in self.task_names])
        head = (
            f"TransferGainResult(scoring={self.scoring!r}, "
            f"baseline={self.baseline!r}, n_folds={self.n_folds})"
        )
        cols = f"{'task':<{width}}  {'model':>8}  {'baseline':>8}  {'gain':>8}"
        cols += f"  {'std':>7}"
        lines = [head, cols]
        for t, name in enumerate(self.task_names):
            flag = "  <- negative transfer" if self.negative_transfer[t] else ""
            lines.append(
                f"{str(name):<{width}}  {self.model_scores[t]:8.3f}  "
                f"{self.baseline_scores[t]:8.3f}  {self.gain[t]:+8.3f}  "
                f"{self.gain_std[t]:7.3f}{flag}"
            )
        n_neg = int(np.sum(self.negative_transfer))
        lines.append(
            f"mean gain {np.nanmean(self.gain):+.3f}; "
            f"{n_neg} of {len(self.gain)} tasks with negative transfer"
        )
        return "\n".join(lines)


def _nanmean(A):
    out = np.full(A.shape[1], np.nan)
    ok = ~np.all(np.isnan(A), axis=0)
    out[ok] = np.nanmean(A[:, ok], axis=0)
    return out


def _nanstd(A):
    out = np.full(A.shape[1], np.nan)
    counts = np.sum(~np.isnan(A), axis=0)
    ok = counts >= 1
    out[ok] = np.nanstd(A[:, ok], axis=0, ddof=0)
    big = counts >= 2
    out[big] = np.nanstd(A[:, big], axis=0, ddof=1)
    return out


def _is_skmtl(estimator):
    return type(estimator).__module__.split(".")[0] == "skmtl"


def resolve_baseline(estimator, baseline):
    """``(baseline estimator, name)`` for :func:`transfer_gain`."""
    if isinstance(baseline, str):
        if baseline == "independent":
            return IndependentTasksRegressor(clone(estimator)), "independent"
        if baseline == "pooled":
            return PooledTasksRegressor(clone(estimator)), "pooled"
        raise ValueError(
            f"Unknown baseline {baseline!r}; expected 'independent', 'pooled' "
            "or an estimator instance."
        )
    if not hasattr(baseline, "fit") or not hasattr(baseline, "predict"):
        raise TypeError(
            f"baseline must be 'independent', 'pooled' or an estimator with fit "
            f"and predict; got {baseline!r}."
        )
    if _is_skmtl(baseline):
        return clone(baseline), type(baseline).__name__
    return IndependentTasksRegressor(clone(baseline)), type(baseline).__name__


def _fit_predict(est, X, Y2, train, test, sw):
    est = clone(est)
    w = sub_weight(sw, train)
    Xtr, Ytr = rows(X, train), Y2[train]
    if w is None:
        est.fit(Xtr, Ytr)
    else:
        est.fit(Xtr, Ytr, sample_weight=w)
    return est.predict(rows(X, test))


def _fold(estimator, base, X, Y2, train, test, scoring, sw):
    Yte, wte = Y2[test], sub_weight(sw, test)
    m = score_tasks(Yte, _fit_predict(estimator, X, Y2, train, test, sw), scoring, wte)
    b = score_tasks(Yte, _fit_predict(base, X, Y2, train, test, sw), scoring, wte)
    return m, b


def transfer_gain(
    estimator,
    X,
    Y,
    *,
    baseline="independent",
    cv=5,
    scoring=None,
    n_jobs=None,
    sample_weight=None,
):
    """Per-task cross-validated gain of a multi-task model over a baseline.

    In each CV fold the multi-task ``estimator`` and the ``baseline`` are
    fitted on the same training rows and scored task by task on the labelled
    entries of the test rows. The gain of a task is the model's score minus
    the baseline's (for error metrics ``"mse"``/``"nmse"``: the baseline's
    error minus the model's), so **a positive gain means sharing helped that
    task and a negative gain flags negative transfer**. The spread over folds
    tells whether a gain is larger than the CV noise.

    Parameters
    ----------
    estimator : estimator
        Unfitted multi-task model (cloned in every fold), e.g.
        :class:`~skmtl.MultiTaskLasso`.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    Y : array-like of shape (n_samples, n_tasks)
        Targets, NaN where a task has no label.
    baseline : {"independent", "pooled"} or estimator, default="independent"
        What to compare with:

        - ``"independent"``: ``IndependentTasksRegressor(clone(estimator))``,
          the same estimator with the same hyperparameters fitted on each
          task alone (a one-task problem). Because skmtl's objective scales
          each task's loss by ``1 / n_t``, the one-task version of a
          multi-task model is its natural single-task counterpart:
          :class:`~skmtl.MultiTaskLasso` (and ``penalty="l21"``/``"l1"``)
          becomes scikit-learn's ``Lasso(alpha)``,
          :class:`~skmtl.MultiTaskElasticNet` ``ElasticNet(alpha,
          l1_ratio)``, :class:`~skmtl.MultiTaskRidge` a ridge with penalty
          ``alpha / 2 ||w||^2`` (the coupling term vanishes), ``"trace"`` a
          group lasso on the whole vector, an MLP the same network with one
          head. Only the sharing differs, so the gain measures the sharing
          at fixed hyperparameters.
        - ``"pooled"``: ``PooledTasksRegressor(clone(estimator))``, one model
          for all tasks (the estimator must accept ``sample_weight``).
        - An estimator: an skmtl estimator (a class from ``skmtl``, e.g.
          ``IndependentTasksRegressor(RidgeCV())``) is used as is; any other
          (single-task, e.g. ``RidgeCV()``) is wrapped in
          :class:`~skmtl.baselines.IndependentTasksRegressor`. Use this for a
          baseline tuned separately from the multi-task model.
    cv : int, cross-validation generator or iterable, default=5
        An int uses :class:`skmtl.model_selection.TaskStratifiedKFold`
        (``shuffle=True, random_state=0``), which keeps every task in every
        training fold.
    scoring : {"r2", "explained_variance", "accuracy", "neg_mse", "mse", \
"nmse"}, default=None
        Per-task metric of :func:`skmtl.metrics.per_task_scores`. None:
        ``"accuracy"`` for a classifier, ``"r2"`` otherwise.
    n_jobs : int, default=None
        Folds run in parallel with joblib.
    sample_weight : array-like of shape (n_samples,), default=None
        Passed to ``fit`` on the training rows and used by the test scores.

    Returns
    -------
    result : TransferGainResult
        ``gain``, ``gain_std``, ``fold_gains`` (n_folds, n_tasks),
        ``model_scores``, ``baseline_scores``, ``task_names``, ``to_frame()``;
        its ``repr`` is a table that flags tasks with negative transfer.

    See Also
    --------
    skmtl.plotting.plot_transfer_gain : Bar chart of the result.
    task_relatedness : Relatedness before any multi-task fit.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import MultiTaskLasso
    >>> from skmtl.inspection import transfer_gain
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 30))
    >>> w = np.zeros(30)
    >>> w[:3] = 1.0
    >>> Y = np.column_stack([X @ (w + 0.1 * rng.normal(size=30))
    ...                      for _ in range(4)])
    >>> Y += 0.5 * rng.normal(size=Y.shape)
    >>> res = transfer_gain(MultiTaskLasso(alpha=0.1), X, Y, cv=3)
    >>> res.fold_gains.shape
    (3, 4)
    >>> bool(res.gain.mean() > 0)
    True
    """
    if scoring is None:
        scoring = "accuracy" if is_classifier(estimator) else "r2"
    scoring = check_scoring(scoring)
    Y2, _, names = targets_and_names(X, Y)
    sw = check_sample_weight(sample_weight, Y2.shape[0])
    base, base_name = resolve_baseline(estimator, baseline)
    folds = make_folds(cv, X, Y2)
    results = Parallel(n_jobs=n_jobs)(
        delayed(_fold)(estimator, base, X, Y2, train, test, scoring, sw)
        for train, test in folds
    )
    return TransferGainResult(
        fold_model_scores=np.array([r[0] for r in results]),
        fold_baseline_scores=np.array([r[1] for r in results]),
        task_names=names,
        scoring=scoring,
        baseline=base_name,
    )
