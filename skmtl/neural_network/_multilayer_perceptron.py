"""Multi-task MLP estimators: hard parameter sharing (trunk + task heads)."""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .._validation import check_targets
from ..metrics import accuracy_score, per_task_scores, r2_score
from ._base import BaseMultiTaskMLP
from ._labels import _as_2d_labels, decode_task_labels, encode_task_labels
from ._targets import target_standardization

_PARAMS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Widths of the shared trunk layers (at least one).
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden-layer activation (trunk and heads).
    task_layer_sizes : tuple of int, default=()
        Widths of the hidden layers of each task head; ``()`` means each head
        is a single linear output layer on the trunk output.
    solver : {"adam", "sgd"}, default="adam"
        Adam, or SGD with (Nesterov) momentum.
    alpha : float, default=0.5
        L2 penalty on the weights (not biases), ``alpha / (2 |batch|) *
        sum ||W||^2`` per mini-batch as in scikit-learn's MLP (whose default
        is 1e-4). The default is stronger because a multi-task network is
        often fitted with few rows per task, where it overfits otherwise;
        with the ``"auto"`` batch size the effective weight decay
        ``alpha / |batch|`` is larger on small data sets and 0.0025 from
        2000 rows on. With many labelled rows per task a smaller value
        (1e-4 to 0.1) fits more closely. See the user guide, "Few rows per task".
    dropout : float in [0, 1), default=0.0
        Dropout rate on every hidden layer's output during training
        (inverted dropout; nothing at prediction time).
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(n, clip(ceil(n / 10), 16,
        200))`` for ``n`` training rows: about 10 optimisation steps per
        epoch on small data (scikit-learn's ``min(200, n)`` gives a few
        hundred rows only one or two), 200 rows from 2000 rows on.
    learning_rate : {"constant", "invscaling", "adaptive", "cosine"}, \
default="constant"
        Schedule, applied per epoch ``e`` (0-based) and to both solvers:
        ``invscaling`` is ``learning_rate_init / (e + 1) ** power_t``;
        ``adaptive`` divides the rate by 5 each time the stopping criterion
        is met (stops when it would fall below 1e-6); ``cosine`` is
        ``learning_rate_init * (1 + cos(pi e / max_iter)) / 2``.
    learning_rate_init : float, default=0.003
        Initial step size (scikit-learn's MLP uses 0.001; 0.003 reaches a
        good fit within the default ``max_iter`` on small data).
    power_t : float, default=0.5
        Exponent of ``invscaling``.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle rows each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout, the validation split and
        PCGrad's projection order.
    tol : float, default=1e-4
        Minimum improvement of the training loss (or of the mean validation
        score with ``early_stopping``) to reset the patience counter.
    verbose : bool, default=False
        Print the loss each epoch.
    warm_start : bool, default=False
        Continue from the previous solution on ``fit``.
    momentum : float, default=0.9
        Momentum of the ``"sgd"`` solver.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for ``"sgd"``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, score every task on it
        each epoch and stop when the mean over tasks stops improving by
        ``tol`` for ``n_iter_no_change`` epochs; the best weights are kept.
    validation_fraction : float, default=0.1
        Fraction of rows held out for early stopping.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam parameters.
    n_iter_no_change : int, default=10
        Patience, in epochs.
    task_weighting : {"equal", "uncertainty", "dwa", "gradnorm", "pcgrad", \
"mgda", "cagrad", "imtl", "rlw", "famo", "minimax"}, default="equal"
        How per-task losses are combined (see Notes).
    task_weights : array-like of shape (n_tasks,) or float, default=None
        Fixed non-negative task weights ``w_t`` (default all 1; a task of
        weight 0 does not train the network); with a
        learned strategy they multiply the learned weights.
    weight_init : {"glorot", "fan_in"}, default="glorot"
        Initial weights and biases, drawn uniformly from ``[-b, b]``:
        ``"glorot"`` (scikit-learn's MLP) ``b = sqrt(6 / (fan_in +
        fan_out))`` (``sqrt(2 / ...)`` for the logistic activation);
        ``"fan_in"`` (PyTorch's ``nn.Linear`` default) ``b = 1 /
        sqrt(fan_in)``, smaller for narrow layers such as one-output task
        heads.
    architecture : {"hard", "soft", "cross_stitch", "mmoe"}, default="hard"
        How tasks share parameters (see Notes): one shared trunk
        (``"hard"``); one column per task with the trunk's layer sizes,
        coupled by an L2 pull towards the columns' mean (``"soft"``); one
        column per task mixed after every hidden layer by learned
        cross-stitch units (``"cross_stitch"``); ``n_experts`` expert
        columns combined per task by a softmax gate on the input
        (``"mmoe"``, multi-gate mixture of experts).
    sharing_strength : float, default=1.0
        ``"soft"`` only (ignored otherwise): strength ``lambda`` of the
        penalty ``lambda / (2 |batch|) * sum_l sum_t ||P_lt - mean_s
        P_ls||^2`` on the weights and biases ``P_lt`` of layer ``l`` of task
        ``t``'s column (same per-batch convention as ``alpha``). ``0`` gives
        independent networks; a large value approaches hard sharing.
    n_experts : int, default=4
        ``"mmoe"`` only (ignored otherwise): number of expert columns.
    trunk_init : fitted multi-task network or None, default=None
        Transfer: the trunk (the ``hidden_layer_sizes`` layers; for the
        column architectures every column's layers, without cross-stitch
        units or gates) starts from this fitted network's, which must have
        the same ``architecture``, number of features,
        ``hidden_layer_sizes``, ``activation`` and number of columns (tasks
        for "soft" / "cross_stitch", ``n_experts`` for "mmoe"). The tasks
        may differ (any number, any type for "hard" and "mmoe"); heads,
        gates and cross-stitch units start fresh. Inside ``GridSearchCV`` or
        ``cross_val_score``, wrap it in
        :class:`sklearn.frozen.FrozenEstimator` (``clone`` would otherwise
        pass an unfitted copy).
    freeze_trunk : bool, default=False
        Do not train the trunk (as defined for ``trunk_init``): only the
        heads (and gates / cross-stitch units) learn.
    trunk_learning_rate_scale : float, default=0.1
        With ``trunk_init`` and ``freeze_trunk=False``: the trunk's step is
        this fraction of the heads' (fine-tuning at a reduced learning
        rate; 1.0 trains it like the rest). Ignored without ``trunk_init``.
    task_head_depth : int, array-like of shape (n_tasks,) or None, \
default=None
        Task hierarchies (``"hard"`` only): task ``t``'s head reads the
        output of trunk layer ``task_head_depth[t]`` (1 = the first hidden
        layer; an int applies to every task); ``None`` means the last
        layer. A low-level task then supervises an early layer and a
        high-level task a later one (Sogaard & Goldberg, ACL 2016). Trunk
        layers above the deepest head get no gradient.
"""

_ATTRS_DOC = """
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of str
        Feature names, when ``X`` had string column names.
    n_tasks_ : int
        Number of tasks (columns of ``Y``).
    task_names_ : ndarray of str
        Column names of ``Y`` when it was a DataFrame.
    n_iter_ : int
        Epochs run (cumulated over ``partial_fit`` and warm starts).
    t_ : int
        Training rows seen.
    n_layers_ : int
        Number of layers on a path input -> output, input and output
        included.
    coefs_, intercepts_ : list of ndarray
        Weights and biases. ``"hard"``: trunk layers ``(n_in, n_out)``;
        first head layer of all tasks side by side ``(d, n_tasks *
        width)``; further head layers stacked ``(n_tasks, n_in, n_out)``.
        Other architectures: first column layer of all columns side by side
        ``(n_features, n_columns * width)``, further column layers
        ``(n_columns, n_in, n_out)``, then (``"mmoe"``) the gates
        ``(n_features, n_tasks * n_experts)``, then every head layer
        stacked ``(n_tasks, n_in, n_out)``.
    cross_stitch_units_ : list of ndarray of shape (n_tasks, n_tasks)
        ``"cross_stitch"`` only: the learned mixing matrix after each hidden
        layer.
    loss_curve_ : list of float
        Training objective (weighted loss + L2) per epoch, averaged over
        the epoch's mini-batches; for the regressor, in the units of the
        standardised targets unless ``standardize_targets=False``.
    task_loss_curves_ : ndarray of shape (n_epochs, n_tasks)
        Per-task mean training loss per epoch (unweighted; each task's
        mean over its labelled rows seen in the epoch), in the same units
        as ``loss_curve_``.
    task_weights_ : ndarray of shape (n_epochs, n_tasks)
        Multiplier of each task's mean loss in effect at the end of each
        epoch (for "dwa", the weights used throughout that epoch):
        ``task_weights`` for "equal" and "pcgrad", ``task_weights *
        exp(-s_t)`` for "uncertainty", ``task_weights * w_t`` for "dwa" and
        "gradnorm" (the ``w_t`` sum to ``n_tasks``). For the per-step
        strategies ("mgda", "cagrad", "imtl", "rlw", "famo", "minimax") the
        mean over the epoch's steps of ``task_weights * k_t``, ``k_t`` the
        coefficient of task ``t``'s (shared-parameter) gradient; the ``k_t``
        sum to ``n_tasks`` except for "cagrad".
    validation_scores_ : ndarray of shape (n_epochs, n_tasks) or None
        Per-task validation score per epoch with ``early_stopping``
        (NaN for a task without labelled validation rows).
    best_validation_score_ : float or None
        Best mean validation score (early stopping only).
    best_loss_ : float
        Smallest training loss seen.
"""

_NOTES_DOC = """
    Notes
    -----
    Architectures. ``"hard"`` (hard parameter sharing): a trunk of dense
    layers shared by all tasks and one head per task. ``"soft"`` (Duong et
    al., ACL 2015): one network per task with the trunk's layer sizes, the
    networks' layer parameters pulled towards their mean across tasks by
    ``sharing_strength``. ``"cross_stitch"`` (Misra et al., CVPR 2016): one
    column per task; after each hidden layer task ``t`` receives ``sum_s
    S[t, s] A_s``, with ``S`` a learned ``(n_tasks, n_tasks)`` unit
    initialised to 0.9 on the diagonal and ``0.1 / (n_tasks - 1)`` off it.
    ``"mmoe"`` (Ma et al., KDD 2018): ``n_experts`` expert columns shared by
    all tasks; task ``t``'s head reads ``sum_e g_te(x) expert_e(x)`` with
    ``g_t(x) = softmax(x W_t + b_t)`` (gates start uniform);
    :meth:`gate_weights` shows which experts each task uses. In every
    architecture each task has its own head (``task_layer_sizes``), and
    ``alpha`` applies to all weight matrices (gates included, cross-stitch
    units excluded). A column architecture costs about ``n_tasks`` (or
    ``n_experts``) times the trunk per epoch; gradient-combining weightings
    ("pcgrad", "gradnorm") then run one body backward pass per task.

    The objective on a mini-batch ``B`` is::

        sum_t w_t * L_t + alpha / (2 |B|) * sum ||W||^2,
        L_t = sum_{i in B labelled for t} s_i loss_it / sum_{same i} s_i

    so each task's loss is its (sample-weighted) mean over its labelled rows
    in the batch: a row without a label for a task contributes nothing to it
    and a task with many rows does not drown one with few (the stochastic
    version of the skmtl objective ``sum_t w_t / n_t sum_i loss``).

    When tasks are unrelated the trunk has to serve all of them; with enough
    width each head still fits its task, but a trunk that is too narrow for
    all tasks costs accuracy on some of them (negative transfer). Compare
    against per-task models (e.g. with ``transform`` or the per-task training
    curves) before trusting the sharing.

    Task weighting strategies (``task_weighting``): "equal" uses
    ``task_weights``; "uncertainty" learns log-variances ``s_t`` (Kendall et
    al. 2018) with loss ``sum_t w_t exp(-s_t) L_t + s_t / 2``; "dwa" (Liu et
    al. 2019) sets ``w_t = T softmax(r / 2)_t`` from the ratio ``r_t`` of
    the task's last two epoch losses; "gradnorm" (Chen et al. 2018, asymmetry
    1.5) learns weights balancing the gradient norms on the last trunk
    layer; "pcgrad" (Yu et al. 2020) projects conflicting per-task trunk
    gradients. Gradient combinations: "mgda" (Sener & Koltun 2018) takes
    the minimum-norm convex combination of the per-task trunk gradients;
    "cagrad" (Liu et al. 2021, c=0.5) the conflict-averse direction near
    their mean; "imtl" (IMTL-G, Liu et al. 2021) the combination with equal
    projections on every task's gradient direction (both on the gradients at
    the trunk output when all heads read it, as in the papers; on the shared
    parameters otherwise). Loss weights: "rlw"
    (Lin et al. 2022) draws ``T softmax(N(0, I))`` every step; "famo" (Liu
    et al. 2023) learns weights that make all task losses decrease at the
    same rate (in log); "minimax" (group DRO, Sagawa et al. 2020) minimises
    the worst task's loss by exponentiated-gradient weights ``q_t <- q_t
    exp(0.02 L_t)``, so no task is traded away for the average (at some
    cost in mean score). The formulas are in the user guide
    (:ref:`balancing`). PCGrad, GradNorm, MGDA, CAGrad and IMTL need one
    trunk backward pass per task. With the per-step strategies the
    stopping rule (``tol``) watches ``sum_t w_t L_t`` with the fixed
    ``task_weights`` (``max_t`` for "minimax"), as does ``best_loss_``.
"""


class MultiTaskMLPRegressor(RegressorMixin, BaseMultiTaskMLP):
    __doc__ = (
        """Multi-task MLP regressor with a shared trunk and one head per task.

    Squared loss ``1/2 (y - f)^2`` per task, masked: NaN in ``Y`` means "no
    label for this task on this row".
"""
        + _PARAMS_DOC
        + """    standardize_targets : bool, default=True
        Standardise each task's targets on its labelled rows (sample-weighted
        mean and standard deviation, learned on the first ``fit`` /
        ``partial_fit`` call) before training, so that tasks whose targets
        differ in scale weigh alike in the shared trunk; predictions are
        mapped back to the original units. ``False`` trains on the raw
        targets.

    Attributes
    ----------
    target_mean_, target_scale_ : ndarray of shape (n_tasks,)
        The per-task target standardisation (``0`` and ``1`` with
        ``standardize_targets=False``); the network is trained on
        ``(y - target_mean_) / target_scale_``. Training losses
        (``loss_curve_``, ``task_loss_curves_``) are in these standardised
        units: multiply task ``t``'s loss by ``target_scale_[t] ** 2`` for
        the original units.
    Attributes
    ----------"""
        + _ATTRS_DOC
        + """
    See Also
    --------
    MultiTaskMLPClassifier : The classification counterpart.
    sklearn.neural_network.MLPRegressor : Single-trunk MLP without missing
        labels.
"""
        + _NOTES_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural_network import MultiTaskMLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5))
    >>> Y = np.c_[np.sin(X[:, 0]), np.sin(X[:, 0]) + X[:, 1]]
    >>> Y[::2, 1] = np.nan  # task 1 is labelled on half of the rows
    >>> model = MultiTaskMLPRegressor((32,), max_iter=300, random_state=0)
    >>> model = model.fit(X, Y)
    >>> model.predict(X[:2]).shape
    (2, 2)
    >>> bool(model.score(X, Y) > 0.8)
    True
    >>> model.transform(X[:2]).shape
    (2, 32)
    """
    )

    _loss = "squared"

    _parameter_constraints: dict = {
        **BaseMultiTaskMLP._parameter_constraints,
        "standardize_targets": ["boolean"],
    }

    def __init__(
        self,
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
        self.standardize_targets = standardize_targets

    def _fit_target_scaling(self, targets, sample_weight):
        T = targets.shape[1]
        if self.standardize_targets:
            self.target_mean_, self.target_scale_ = target_standardization(
                targets, sample_weight
            )
        else:
            self.target_mean_, self.target_scale_ = np.zeros(T), np.ones(T)

    def _scale_targets(self, targets):
        return (targets - self.target_mean_) / self.target_scale_

    def _encode_targets(self, Y, n_samples, *, reset, classes=None):
        Y2, is_1d, names = check_targets(Y, n_samples)
        if reset:
            self.n_tasks_ = Y2.shape[1]
            self._y_is_1d = is_1d
            if names is not None:
                self.task_names_ = names
            elif hasattr(self, "task_names_"):
                del self.task_names_
        elif Y2.shape[1] != self.n_tasks_:
            raise ValueError(
                f"Y has {Y2.shape[1]} task(s) but the model was fitted on "
                f"{self.n_tasks_}."
            )
        return Y2, [1] * Y2.shape[1]

    def _task_scores(self, out, targets):
        return per_task_scores(targets, out[:, :, 0], "r2")

    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and ``y`` (NaN = missing label).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples (scipy.sparse CSR/CSC accepted).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets, NaN where a task has no label.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights.

        Returns
        -------
        self : MultiTaskMLPRegressor
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)``: streaming, or continuing training.

        A task may have no label in a given call. ``early_stopping`` and
        ``max_iter`` are ignored; the learning rate follows the schedule by
        epoch count (``n_iter_``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : MultiTaskMLPRegressor
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predict every task for every row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        Y_pred : ndarray of shape (n_samples, n_tasks), or (n_samples,) if
            fitted on a 1-D ``y``.
        """
        X = self._validate_predict_X(X)
        P = self._raw_output(X)[:, :, 0].astype(np.float64)
        P *= self.target_scale_
        P += self.target_mean_
        return P[:, 0] if self._y_is_1d else P

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of the per-task R² on labelled entries.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True targets, NaN where missing (ignored).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        Y2, _, _ = check_targets(y, None)
        P = self.predict(X).reshape(Y2.shape[0], -1)
        return r2_score(Y2, P, sample_weight=sample_weight)


class MultiTaskMLPClassifier(ClassifierMixin, BaseMultiTaskMLP):
    __doc__ = (
        """Multi-task MLP classifier with a shared trunk and one head per task.

    Each task is binary or multiclass with a softmax head and cross-entropy
    loss, masked: a missing label (NaN in numeric ``Y``, ``None`` or NaN in
    an object ``Y``) leaves the row out of that task. Labels may be any
    sortable values, different per task.
"""
        + _PARAMS_DOC
        + """
    Attributes
    ----------
    classes_ : list of ndarray, or ndarray
        Sorted labels of each task; a single array when fitted on a 1-D
        ``y`` (as in scikit-learn).
"""
        + _ATTRS_DOC
        + """
    See Also
    --------
    MultiTaskMLPRegressor : The regression counterpart.
"""
        + _NOTES_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural_network import MultiTaskMLPClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> Y = np.empty((200, 2), dtype=object)
    >>> Y[:, 0] = np.where(X[:, 0] > 0, "yes", "no")
    >>> Y[:, 1] = np.digitize(X[:, 0] + X[:, 1], [-1, 1])  # 3 classes
    >>> Y[::3, 1] = None  # missing labels
    >>> clf = MultiTaskMLPClassifier((16,), max_iter=300, random_state=0)
    >>> clf = clf.fit(X, Y)
    >>> clf.predict(X[:2]).shape
    (2, 2)
    >>> [p.shape for p in clf.predict_proba(X[:2])]
    [(2, 2), (2, 3)]
    >>> bool(clf.score(X, Y) > 0.9)
    True
    """
    )

    _loss = "softmax"

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
            codes, cls = encode_task_labels(Yarr, classes)
            self._classes = cls
            self.classes_ = cls[0] if is_1d else cls
            self.n_tasks_ = len(cls)
            self._y_is_1d = is_1d
            if names is not None:
                self.task_names_ = names
            elif hasattr(self, "task_names_"):
                del self.task_names_
        else:
            if Yarr.shape[1] != self.n_tasks_:
                raise ValueError(
                    f"Y has {Yarr.shape[1]} task(s) but the model was fitted on "
                    f"{self.n_tasks_}."
                )
            if classes is not None:
                _, given = encode_task_labels(Yarr[:0], classes)
                if any(
                    len(a) != len(b) or np.any(a != b)
                    for a, b in zip(given, self._classes, strict=True)
                ):
                    raise ValueError(
                        "classes differ from those of the first partial_fit call."
                    )
            codes, cls = encode_task_labels(Yarr, self._classes)
        return codes, [len(c) for c in cls]

    def _task_scores(self, out, targets):
        return per_task_scores(targets, out.argmax(axis=2).astype(float), "accuracy")

    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and labels ``y`` (missing = NaN/None).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples (scipy.sparse CSR/CSC accepted).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Labels; each task needs at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights.

        Returns
        -------
        self : MultiTaskMLPClassifier
        """
        if self.warm_start and hasattr(self, "_classes"):
            Yarr, _ = _as_2d_labels(y)
            _, cls = encode_task_labels(Yarr)
            if len(cls) != len(self._classes) or any(
                len(a) != len(b) or np.any(a != b)
                for a, b in zip(cls, self._classes, strict=True)
            ):
                raise ValueError(
                    "warm_start can only be used where Y has the same classes as "
                    "in the previous call to fit."
                )
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over ``(X, y)``: streaming, or continuing training.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Labels (a task may have none in a given call).
        classes : array-like or list of array-like, default=None
            Classes of each task (one array for a 1-D ``y``). Required on
            the first call, optional afterwards. ``early_stopping`` is
            ignored by ``partial_fit``.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : MultiTaskMLPClassifier
        """
        if not hasattr(self, "_flat"):
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit "
                    "(one array of labels per task)."
                )
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _proba(self, X):
        X = self._validate_predict_X(X)
        Z = self._raw_output(X).astype(np.float64)
        Z -= Z.max(axis=2, keepdims=True)
        np.exp(Z, out=Z)
        Z /= Z.sum(axis=2, keepdims=True)
        return Z

    def predict_proba(self, X):
        """Class probabilities of each task.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : list of ndarray of shape (n_samples, n_classes_t)
            One array per task, columns in the order of ``classes_[t]``; a
            single array when fitted on a 1-D ``y``.
        """
        check_is_fitted(self, "_flat")
        P = self._proba(X)
        out = [
            np.ascontiguousarray(P[:, t, : len(c)]) for t, c in enumerate(self._classes)
        ]
        return out[0] if self._y_is_1d else out

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        P = self.predict_proba(X)
        if isinstance(P, list):
            return [np.log(p) for p in P]
        return np.log(P)

    def predict(self, X):
        """Most probable label of each task.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        Y_pred : ndarray of shape (n_samples, n_tasks), or (n_samples,) if
            fitted on a 1-D ``y``.
        """
        check_is_fitted(self, "_flat")
        codes = self._proba(X).argmax(axis=2)
        labels = decode_task_labels(codes, self._classes)
        return labels[:, 0] if self._y_is_1d else labels

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of the per-task accuracy on labelled entries.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True labels, NaN/None where missing (ignored).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)
