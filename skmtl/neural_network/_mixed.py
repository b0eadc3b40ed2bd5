"""One network for regression and classification tasks together."""

import numpy as np
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from ..metrics import accuracy_score, per_task_scores
from ._base import BaseMultiTaskMLP
from ._labels import (
    _as_2d_labels,
    decode_task_labels,
    encode_task_labels,
    missing_label_mask,
)
from ._multilayer_perceptron import _ATTRS_DOC, _NOTES_DOC, _PARAMS_DOC
from ._objective import softmax_cross_entropy, squared_loss
from ._targets import target_standardization

TASK_TYPES = ("regression", "classification")


class MixedLoss:
    """Squared loss on the regression tasks, softmax cross-entropy on the rest.

    Same interface as the losses of :mod:`._objective`: ``target`` holds
    (standardised) regression targets and integer class codes as floats.
    """

    def __init__(self, is_regression):
        self.reg = np.flatnonzero(is_regression)
        self.cls = np.flatnonzero(~np.asarray(is_regression))

    def __call__(self, out, target, C, w):
        n, T, K = out.shape
        task_losses = np.zeros(T)
        dOut = np.zeros_like(out)
        r, c = self.reg, self.cls
        if r.size:
            tl, d = squared_loss(out[:, r, :1], target[:, r], C[:, r], w[r])
            task_losses[r] = tl
            dOut[:, r, :1] = d
        if c.size:
            tl, d = softmax_cross_entropy(
                out[:, c, :], target[:, c].astype(np.intp), C[:, c], w[c]
            )
            task_losses[c] = tl
            dOut[:, c, :] = d
        return task_losses, dOut


def _column_to_float(col, t):
    miss = missing_label_mask(col)
    out = np.full(col.shape[0], np.nan)
    try:
        out[~miss] = np.asarray(col[~miss], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"task {t} is a regression task but has non-numeric targets ({exc})."
        ) from exc
    if not np.all(np.isfinite(out[~miss])):
        raise ValueError(f"task {t} has an infinite target; targets must be finite.")
    return out


def _has_classification_task(self):
    """``predict_proba`` exists unless the fitted model has no classifier."""
    if not hasattr(self, "_is_regression"):
        return True
    return not bool(np.all(self._is_regression))


class MultiTaskMLP(BaseMultiTaskMLP):
    __doc__ = (
        """Multi-task MLP with regression and classification tasks together.

    One network (any ``architecture``) with one head per task: a linear
    output with squared loss ``1/2 (y - f)^2`` for a regression task, a
    softmax output with cross-entropy for a classification task (binary or
    multiclass, any sortable labels). Missing labels are NaN or ``None``.
    Regression targets are standardised per task (``standardize_targets``)
    and predicted in their original units.

    Parameters
    ----------
    task_types : list of {"regression", "classification"} or "auto", default="auto"
        The type of each task (column of ``Y``). ``"auto"`` infers it from
        each column's labelled values with
        :func:`sklearn.utils.multiclass.type_of_target`: ``"continuous"``
        is regression, anything else (integers, strings, booleans) is
        classification.
"""
        + _PARAMS_DOC.split("Parameters\n    ----------\n", 1)[1]
        + """    standardize_targets : bool, default=True
        Standardise each regression task's targets on its labelled rows
        before training (see :class:`MultiTaskMLPRegressor`).

    Attributes
    ----------
    task_types_ : list of str
        The type of each task.
    classes_ : list
        Sorted labels of each classification task, ``None`` for a
        regression task.
    target_mean_, target_scale_ : ndarray of shape (n_tasks,)
        Standardisation of the regression tasks (0 and 1 for the
        classification tasks).
"""
        + _ATTRS_DOC
        + """
    See Also
    --------
    MultiTaskMLPRegressor, MultiTaskMLPClassifier : All tasks of one type.
"""
        + _NOTES_DOC
        + """
    The score is the mean over tasks of R² (regression tasks) and accuracy
    (classification tasks) on labelled entries.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural_network import MultiTaskMLP
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4))
    >>> price = 100 + 20 * X[:, 0] + 5 * X[:, 1] ** 2
    >>> sold = np.where(X[:, 0] - X[:, 2] > 0, "yes", "no")
    >>> Y = np.empty((300, 2), dtype=object)
    >>> Y[:, 0], Y[:, 1] = price, sold
    >>> Y[::4, 1] = None  # missing labels
    >>> model = MultiTaskMLP(task_types=["regression", "classification"],
    ...                      hidden_layer_sizes=(32,), random_state=0)
    >>> model = model.fit(X, Y)
    >>> model.predict(X[:2]).shape
    (2, 2)
    >>> [None if p is None else p.shape for p in model.predict_proba(X[:2])]
    [None, (2, 2)]
    >>> bool(model.score(X, Y) > 0.9)
    True
    """
    )

    _parameter_constraints: dict = {
        **BaseMultiTaskMLP._parameter_constraints,
        "task_types": [StrOptions({"auto"}), list, tuple],
        "standardize_targets": ["boolean"],
    }

    def __init__(
        self,
        task_types="auto",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        task_layer_sizes=(),
        solver="adam",
        alpha=0.5,
        dropout=0.0,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.003,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        task_weighting="equal",
        task_weights=None,
        weight_init="glorot",
        architecture="hard",
        sharing_strength=1.0,
        n_experts=4,
        trunk_init=None,
        freeze_trunk=False,
        trunk_learning_rate_scale=0.1,
        task_head_depth=None,
        standardize_targets=True,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation,
            task_layer_sizes=task_layer_sizes,
            solver=solver,
            alpha=alpha,
            dropout=dropout,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            task_weighting=task_weighting,
            task_weights=task_weights,
            weight_init=weight_init,
            architecture=architecture,
            sharing_strength=sharing_strength,
            n_experts=n_experts,
            trunk_init=trunk_init,
            freeze_trunk=freeze_trunk,
            trunk_learning_rate_scale=trunk_learning_rate_scale,
            task_head_depth=task_head_depth,
        )
        self.task_types = task_types
        self.standardize_targets = standardize_targets

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        # it may classify (multiclass) as well as regress
        tags.classifier_tags = ClassifierTags(multi_class=True)
        tags.regressor_tags = RegressorTags()
        return tags

    # ------------------------------------------------------------ encoding
    def _resolve_types(self, Yarr):
        T = Yarr.shape[1]
        if isinstance(self.task_types, str):
            types = []
            for t in range(T):
                col = Yarr[:, t]
                vals = col[~missing_label_mask(col)]
                if vals.dtype == object:
                    try:
                        vals = np.asarray(vals.tolist())
                    except (TypeError, ValueError):
                        pass
                kind = type_of_target(vals) if vals.size else "continuous"
                types.append("regression" if kind == "continuous" else "classification")
            return types
        types = list(self.task_types)
        if len(types) != T:
            raise ValueError(
                f"task_types has {len(types)} entries but Y has {T} task(s)."
            )
        bad = [x for x in types if x not in TASK_TYPES]
        if bad:
            raise ValueError(
                f"task_types entries must be 'regression' or 'classification', "
                f"got {bad!r}."
            )
        return types

    def _encode_targets(self, Y, n_samples, *, reset, classes=None):
        names = None
        columns = getattr(Y, "columns", None)
        if columns is not None:
            names = np.asarray([str(c) for c in columns], dtype=object)
        Yarr, is_1d = _as_2d_labels(Y)
        if Yarr.shape[0] != n_samples:
            raise ValueError(
                f"X and Y have inconsistent numbers of samples: X has {n_samples} "
                f"rows, Y has {Yarr.shape[0]}."
            )
        if reset:
            types = self._resolve_types(Yarr)
            self.task_types_ = types
            self.n_tasks_ = len(types)
            self._y_is_1d = is_1d
            if names is not None:
                self.task_names_ = names
            elif hasattr(self, "task_names_"):
                del self.task_names_
        elif Yarr.shape[1] != self.n_tasks_:
            raise ValueError(
                f"Y has {Yarr.shape[1]} task(s) but the model was fitted on "
                f"{self.n_tasks_}."
            )
        types = self.task_types_
        cls_idx = [t for t, k in enumerate(types) if k == "classification"]
        targets = np.full(Yarr.shape, np.nan)
        for t, k in enumerate(types):
            if k == "regression":
                targets[:, t] = _column_to_float(Yarr[:, t], t)
        if cls_idx:
            known = None
            if reset and classes is not None:
                known = [classes[t] for t in cls_idx]
            elif not reset:
                known = [self.classes_[t] for t in cls_idx]
            try:
                codes, cls = encode_task_labels(Yarr[:, cls_idx], known)
            except ValueError as exc:  # name the task by its column in Y
                msg = str(exc)
                for j, t in enumerate(cls_idx):
                    msg = msg.replace(f"task {j} ", f"task {t} ")
                raise ValueError(msg) from None
            targets[:, cls_idx] = codes
            if reset:
                self.classes_ = [None] * len(types)
                for j, t in enumerate(cls_idx):
                    self.classes_[t] = cls[j]
        elif reset:
            self.classes_ = [None] * len(types)
        self._is_regression = np.array([k == "regression" for k in types])
        n_outputs = [
            1 if k == "regression" else len(self.classes_[t])
            for t, k in enumerate(types)
        ]
        return targets, n_outputs

    @property
    def _loss(self):
        return MixedLoss(self._is_regression)

    def _fit_target_scaling(self, targets, sample_weight):
        T = targets.shape[1]
        self.target_mean_, self.target_scale_ = np.zeros(T), np.ones(T)
        reg = self._is_regression
        if self.standardize_targets and reg.any():
            mu, sd = target_standardization(targets[:, reg], sample_weight)
            self.target_mean_[reg], self.target_scale_[reg] = mu, sd

    def _scale_targets(self, targets):
        return (targets - self.target_mean_) / self.target_scale_

    def _task_scores(self, out, targets):
        pred = np.where(self._is_regression, out[:, :, 0], out.argmax(axis=2))
        r2 = per_task_scores(targets, pred, "r2")
        acc = per_task_scores(targets, pred.astype(float), "accuracy")
        return np.where(self._is_regression, r2, acc)

    # ------------------------------------------------------------- fitting
    def fit(self, X, y, sample_weight=None):
        """Fit the network (NaN / ``None`` = missing label).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; an object array may mix numbers and strings across
            tasks.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : MultiTaskMLP
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        classes : list, default=None
            Used on the first call: one entry per task, the labels of a
            classification task and ``None`` for a regression task. When
            not given, each classification task's classes are those seen in
            the first chunk (a later chunk with a new label is an error), and
            with ``task_types="auto"`` the types too are inferred from it.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : MultiTaskMLP
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    # ----------------------------------------------------------- inference
    def _outputs(self, X):
        X = self._validate_predict_X(X)
        return self._raw_output(X).astype(np.float64)

    def predict(self, X):
        """Predict every task: values (regression) and labels (classification).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        Y_pred : ndarray of shape (n_samples, n_tasks)
            float when every classification task has numeric labels, object
            otherwise; ``(n_samples,)`` when fitted on a 1-D ``y``.
        """
        check_is_fitted(self, "_flat")
        out = self._outputs(X)
        cols = []
        for t, reg in enumerate(self._is_regression):
            if reg:
                cols.append(out[:, t, 0] * self.target_scale_[t] + self.target_mean_[t])
            else:
                k = len(self.classes_[t])
                codes = out[:, t, :k].argmax(axis=1)[:, None]
                cols.append(decode_task_labels(codes, [self.classes_[t]])[:, 0])
        numeric = all(c.dtype.kind in "fiub" for c in cols)
        P = np.empty((out.shape[0], len(cols)), dtype=np.float64 if numeric else object)
        for t, c in enumerate(cols):
            P[:, t] = c
        return P[:, 0] if self._y_is_1d else P

    @available_if(_has_classification_task)
    def predict_proba(self, X):
        """Class probabilities of each classification task.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : list
            One entry per task: an array ``(n_samples, n_classes_t)`` for a
            classification task (columns in the order of ``classes_[t]``),
            ``None`` for a regression task; a single array when fitted on a
            1-D ``y``. Only available when there is a classification task.
        """
        check_is_fitted(self, "_flat")
        out = self._outputs(X)
        res = []
        for t, reg in enumerate(self._is_regression):
            if reg:
                res.append(None)
                continue
            Z = out[:, t, : len(self.classes_[t])]
            Z = np.exp(Z - Z.max(axis=1, keepdims=True))
            res.append(Z / Z.sum(axis=1, keepdims=True))
        return res[0] if self._y_is_1d else res

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of R² (regression) and accuracy (classification).

        Each task is scored on its labelled entries only.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        Yarr, _ = _as_2d_labels(y)
        P = np.asarray(self.predict(X)).reshape(Yarr.shape[0], -1)
        scores = []
        for t, reg in enumerate(self._is_regression):
            if reg:
                yt = _column_to_float(Yarr[:, t], t)[:, None]
                s = per_task_scores(
                    yt, P[:, [t]].astype(float), "r2", sample_weight=sample_weight
                )[0]
            else:
                s = accuracy_score(Yarr[:, [t]], P[:, [t]], sample_weight=sample_weight)
            scores.append(s)
        scores = np.asarray(scores, dtype=float)
        return float(np.nanmean(scores)) if np.any(np.isfinite(scores)) else np.nan
