"""Training loop shared by the multi-task MLP regressor and classifier."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.utils import TransformerTags, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from .._validation import check_task_weights, make_task_data, validate_X
from ._columns import ARCHITECTURES, make_network
from ._network import ACTIVATIONS
from ._objective import batch_coefficients, batch_task_losses, loss_and_gradient
from ._optim import SCHEDULES, SGD, Adam, scheduled_learning_rate
from ._weighting import STRATEGIES, make_weighting


def _check_layer_sizes(sizes, name, allow_empty):
    if isinstance(sizes, Integral | np.integer):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError as exc:
        raise ValueError(f"{name} must be an int or a tuple of ints.") from exc
    if not allow_empty and len(sizes) == 0:
        raise ValueError(f"{name} must have at least one layer (the shared trunk).")
    for s in sizes:
        if not isinstance(s, Integral | np.integer) or s <= 0:
            raise ValueError(f"{name} must contain positive ints, got {sizes!r}.")
    return tuple(int(s) for s in sizes)


def _check_sample_weight_only(sample_weight, n):
    if sample_weight is None:
        return np.ones(n)
    sw = _check_sample_weight(sample_weight, np.empty((n, 1)), dtype=np.float64)
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if np.any(sw < 0):
        raise ValueError("Negative values in sample_weight are not allowed.")
    return np.array(sw, dtype=np.float64)


def auto_batch_size(n_samples):
    """``batch_size="auto"``: about 10 steps per epoch, between 16 and 200.

    ``min(n, clip(ceil(n / 10), 16, 200))``: scikit-learn's ``min(200, n)``
    gives a data set of a few hundred rows one or two optimisation steps per
    epoch, so ``max_iter`` epochs are too few steps on small data.

    Examples
    --------
    >>> from skmtl.neural_network._base import auto_batch_size
    >>> [auto_batch_size(n) for n in (10, 100, 360, 5000)]
    [10, 16, 36, 200]
    """
    return int(min(n_samples, max(16, min(200, -(-n_samples // 10)))))


class NonFiniteLossError(ValueError):
    """Raised when the training loss becomes NaN or infinite."""


class BaseMultiTaskMLP(BaseEstimator):
    """Shared trunk + per-task heads, trained on masked per-task losses."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "task_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions({"adam", "sgd"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions(set(SCHEDULES))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "task_weighting": [StrOptions(set(STRATEGIES))],
        "task_weights": ["array-like", Real, None],
        "weight_init": [StrOptions({"glorot", "fan_in"})],
        "architecture": [StrOptions(set(ARCHITECTURES))],
        "sharing_strength": [Interval(Real, 0, None, closed="left")],
        "n_experts": [Interval(Integral, 1, None, closed="left")],
        "trunk_init": "no_validation",
        "freeze_trunk": ["boolean"],
        "trunk_learning_rate_scale": [Interval(Real, 0, None, closed="left")],
        "task_head_depth": [
            None,
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
    }

    _loss = None  # "squared" or "softmax"

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
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.task_layer_sizes = task_layer_sizes
        self.solver = solver
        self.alpha = alpha
        self.dropout = dropout
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.task_weighting = task_weighting
        self.task_weights = task_weights
        self.weight_init = weight_init
        self.architecture = architecture
        self.sharing_strength = sharing_strength
        self.n_experts = n_experts
        self.trunk_init = trunk_init
        self.freeze_trunk = freeze_trunk
        self.trunk_learning_rate_scale = trunk_learning_rate_scale
        self.task_head_depth = task_head_depth

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.transformer_tags = TransformerTags(preserves_dtype=["float64", "float32"])
        return tags

    # ----------------------------------------------------------- subclass API
    def _encode_targets(self, Y, n_samples, *, reset, classes=None):
        """Return ``(targets float (n, T) with NaN, n_outputs per task)``."""
        raise NotImplementedError

    def _task_scores(self, out, targets):
        """Per-task validation scores of raw outputs against ``targets``."""
        raise NotImplementedError

    def _fit_target_scaling(self, targets, sample_weight):
        """Learn the target transformation on the first fit (default: none)."""

    def _scale_targets(self, targets):
        """Encoded targets -> the scale the network is trained in."""
        return targets

    # ---------------------------------------------------------------- fitting
    @property
    def coefs_(self):
        """Weight matrices of the trunk then the heads (views; see Notes)."""
        check_is_fitted(self, "_flat")
        return self._net.unpack(self._flat)[0]

    @property
    def intercepts_(self):
        """Bias vectors, aligned with ``coefs_``."""
        check_is_fitted(self, "_flat")
        return self._net.unpack(self._flat)[1]

    def _fit(self, X, Y, sample_weight, *, incremental, classes=None):
        self._validate_params()
        hidden = _check_layer_sizes(
            self.hidden_layer_sizes, "hidden_layer_sizes", allow_empty=False
        )
        task_hidden = _check_layer_sizes(
            self.task_layer_sizes, "task_layer_sizes", allow_empty=True
        )
        fitted = hasattr(self, "_flat")
        first = not fitted or not (incremental or self.warm_start)
        X = validate_X(self, X, reset=first)
        n = X.shape[0]
        targets, n_outputs = self._encode_targets(Y, n, reset=first, classes=classes)
        T = targets.shape[1]
        if not incremental:
            # per-task checks: every task labelled, valid sample weights
            make_task_data(targets, sample_weight, getattr(self, "task_names_", None))
        sw = _check_sample_weight_only(sample_weight, n)
        if first:
            self._fit_target_scaling(targets, sw)
        targets = self._scale_targets(targets)
        base = check_task_weights(self.task_weights, T, allow_zero=True)

        if not first and (
            self._net.hidden != hidden
            or self._net.task_hidden != task_hidden
            or self._net.activation != self.activation
            or self._weighting_name != self.task_weighting
            or self._architecture != (self.architecture, self.n_experts)
            or not np.array_equal(
                self._head_depth, self._check_head_depth(hidden, T) + 1
            )
        ):
            raise ValueError(
                "warm_start / partial_fit cannot change hidden_layer_sizes, "
                "task_layer_sizes, activation, task_weighting, architecture, "
                "n_experts or task_head_depth; refit from scratch "
                "(warm_start=False) instead."
            )
        if first:
            dtype = X.dtype if X.dtype == np.float32 else np.float64
            self._random_state = check_random_state(self.random_state)
            self._weighting_name = self.task_weighting
            self._weighting = make_weighting(
                self.task_weighting, base, self._random_state
            )
            self._architecture = (self.architecture, self.n_experts)
            self._net = make_network(
                self.architecture,
                X.shape[1],
                hidden,
                task_hidden,
                n_outputs,
                self.activation,
                dtype,
                n_extra=self._weighting.n_extra,
                n_experts=self.n_experts,
                head_depth=self._check_head_depth(hidden, T),
            )
            self._flat = self._net.init_params(self._random_state, self.weight_init)
            if self.trunk_init is not None:
                src = self._check_trunk_init()
                k = self._net.trunk_size
                self._flat[:k] = src._flat[:k]
            self._optimizer = None
            self.n_iter_ = 0
            self.t_ = 0
            self.loss_curve_ = []
            self.task_loss_curves_ = np.empty((0, T))
            self.task_weights_ = np.empty((0, T))
            self.best_loss_ = np.inf
            self._lr = self.learning_rate_init
            self._no_improvement_count = 0
        else:
            self._weighting.base = base
        net = self._net
        dtype = net.dtype
        self.n_layers_ = len(hidden) + len(task_hidden) + 2
        if self._optimizer is None or not incremental and not self.warm_start:
            self._make_optimizer()
        if incremental and self.learning_rate == "constant":
            self._lr = self.learning_rate_init

        if sp.issparse(X):
            X = X.tocsr().astype(dtype, copy=False)
        else:
            X = np.asarray(X, dtype=dtype)
        mask = ~np.isnan(targets)
        if self._loss == "softmax":
            tgt = np.where(mask, targets, 0).astype(np.intp)
        else:
            tgt = np.where(mask, targets, 0).astype(dtype)
        Mw = (mask * sw[:, None]).astype(dtype)

        early = self.early_stopping and not incremental
        if early:
            X, tgt, Mw, Xv, targets_v = self._split_validation(X, tgt, Mw, targets)
            self.validation_scores_ = np.empty((0, T))
            self.best_validation_score_ = -np.inf
            self._best_flat = self._flat.copy()
        elif not incremental:
            self.validation_scores_ = None
            self.best_validation_score_ = None
        n_train = X.shape[0]
        if self.batch_size == "auto":
            bs = auto_batch_size(n_train)
        else:
            bs = int(np.clip(self.batch_size, 1, n_train))

        n_epochs = 1 if incremental else self.max_iter
        rng = self._random_state
        grad = np.empty_like(self._flat)
        weighting = self._weighting
        converged = False
        losses, task_curves, weight_curves, val_curves = [], [], [], []
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for _ in range(n_epochs):
                if self.learning_rate != "adaptive":
                    self._lr = scheduled_learning_rate(
                        self.learning_rate,
                        self.learning_rate_init,
                        self._lr,
                        self.n_iter_,
                        self.max_iter,
                        self.power_t,
                    )
                order = rng.permutation(n_train) if self.shuffle else None
                epoch_value = 0.0
                task_sum = np.zeros(T)
                task_den = np.zeros(T)
                for start in range(0, n_train, bs):
                    if order is None:
                        idx = slice(start, min(start + bs, n_train))
                    else:
                        idx = order[start : start + bs]
                    Xb = X[idx]
                    C, present, S = batch_coefficients(Mw[idx])
                    value, tl, _ = loss_and_gradient(
                        net,
                        self._flat,
                        Xb,
                        tgt[idx],
                        C,
                        present,
                        loss=self._loss,
                        alpha=self.alpha,
                        weighting=weighting,
                        sharing_strength=self.sharing_strength,
                        grad=grad,
                        dropout=self.dropout,
                        rng=rng if self.dropout > 0 else None,
                        lr=self._lr,
                    )
                    if not np.isfinite(value) or not np.all(np.isfinite(grad)):
                        self._raise_non_finite()
                    value += weighting.report_shift(tl)
                    self._optimizer.update(
                        self._flat, grad, self._lr, self._trunk_step_scale()
                    )
                    if weighting.needs_post_losses:
                        weighting.after_update(
                            batch_task_losses(
                                net, self._flat, Xb, tgt[idx], C, loss=self._loss
                            ),
                            present,
                        )
                    nb = Xb.shape[0]
                    epoch_value += value * nb
                    task_sum += tl * S
                    task_den += S
                self.n_iter_ += 1
                self.t_ += n_train
                epoch_loss = epoch_value / n_train
                task_loss = np.divide(
                    task_sum, task_den, out=np.full(T, np.nan), where=task_den > 0
                )
                weight_curves.append(weighting.current(self._flat[net.n_net_params :]))
                monitored = weighting.monitor(
                    epoch_loss, np.nan_to_num(task_loss, nan=0.0)
                )
                weighting.end_epoch(np.nan_to_num(task_loss, nan=0.0))
                losses.append(epoch_loss)
                task_curves.append(task_loss)
                if not np.all(np.isfinite(self._flat)):
                    self._raise_non_finite()
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {epoch_loss:.8f}")
                if early:
                    scores = self._task_scores(self._raw_output(Xv), targets_v)
                    val_curves.append(scores)
                    score = (
                        float(np.nanmean(scores))
                        if np.any(np.isfinite(scores))
                        else -np.inf
                    )
                    if self.verbose:
                        print(f"Validation score: {score:.6f}")
                    improved = score > self.best_validation_score_ + self.tol
                    if score > self.best_validation_score_:
                        self.best_validation_score_ = score
                        self._best_flat = self._flat.copy()
                else:
                    improved = monitored < self.best_loss_ - self.tol
                if monitored < self.best_loss_:
                    self.best_loss_ = monitored
                self._no_improvement_count = (
                    0 if improved else self._no_improvement_count + 1
                )
                if incremental:
                    break
                if self._no_improvement_count > self.n_iter_no_change:
                    if self.learning_rate == "adaptive" and self._lr / 5 > 1e-6:
                        self._lr /= 5.0
                        self._no_improvement_count = 0
                        if self.verbose:
                            print(f"Setting learning rate to {self._lr:f}")
                    else:
                        converged = True
                        if self.verbose:
                            print(
                                f"Training loss did not improve more than tol="
                                f"{self.tol} for {self.n_iter_no_change} "
                                "consecutive epochs. Stopping."
                            )
                        break
        self.loss_curve_ = list(self.loss_curve_) + losses
        self.task_loss_curves_ = np.vstack(
            [self.task_loss_curves_] + [np.reshape(task_curves, (-1, T))]
        )
        self.task_weights_ = np.vstack(
            [self.task_weights_] + [np.reshape(weight_curves, (-1, T))]
        )
        if early:
            self.validation_scores_ = np.reshape(val_curves, (-1, T))
            self._flat[...] = self._best_flat
            del self._best_flat
        if not incremental and not converged:
            warnings.warn(
                f"Stochastic optimizer: maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _check_head_depth(self, hidden, n_tasks):
        """0-based trunk layer read by each task's head (validated)."""
        L = len(hidden)
        d = self.task_head_depth
        if d is None:
            depth = np.full(n_tasks, L)
        else:
            depth = np.asarray(d)
            if depth.ndim == 0:
                depth = np.full(n_tasks, depth)
            if depth.shape != (n_tasks,):
                raise ValueError(
                    f"task_head_depth must be an int or have one entry per task "
                    f"({n_tasks}), got shape {depth.shape}."
                )
            if depth.dtype.kind not in "iu" or np.any(depth < 1) or np.any(depth > L):
                raise ValueError(
                    f"task_head_depth entries must be ints between 1 and the "
                    f"number of trunk layers ({L}), got {depth.tolist()}."
                )
            if self.architecture != "hard" and np.any(depth != L):
                raise ValueError(
                    "task_head_depth (heads at different trunk depths) is only "
                    "supported with architecture='hard'."
                )
        self._head_depth = depth.astype(np.intp)
        return self._head_depth - 1

    def _check_trunk_init(self):
        """The fitted network whose trunk starts this one (validated)."""
        src = self.trunk_init
        if isinstance(src, FrozenEstimator):
            src = src.estimator
        if not isinstance(src, BaseMultiTaskMLP):
            raise TypeError(
                "trunk_init must be a fitted multi-task network (a "
                "MultiTaskMLPRegressor, MultiTaskMLPClassifier or MultiTaskMLP), "
                f"got {type(src).__name__}."
            )
        if not hasattr(src, "_flat"):
            raise ValueError(
                "trunk_init is not fitted. Note that clone() (used by "
                "GridSearchCV, cross_val_score, ...) returns an unfitted copy of "
                "an estimator parameter: wrap the fitted network in "
                "sklearn.frozen.FrozenEstimator to pass it through clone."
            )
        have, want = src._net.trunk_signature(), self._net.trunk_signature()
        if have != want:
            names = ("architecture", "n_features", "hidden_layer_sizes")
            names += ("activation", "columns (tasks or n_experts)")
            diff = [
                f"{n}: {a!r} vs {b!r}"
                for n, a, b in zip(names, want, have, strict=True)
                if a != b
            ]
            raise ValueError(
                "trunk_init's trunk does not fit this network (this network vs "
                "trunk_init): " + "; ".join(diff) + "."
            )
        return src

    def _trunk_step_scale(self):
        """``(trunk length, step multiplier)`` or None (plain training)."""
        if self.freeze_trunk:
            return (self._net.trunk_size, 0.0)
        if self.trunk_init is not None:
            return (self._net.trunk_size, float(self.trunk_learning_rate_scale))
        return None

    def _make_optimizer(self):
        size, dtype = self._flat.shape[0], self._flat.dtype
        if self.solver == "adam":
            self._optimizer = Adam(size, dtype, self.beta_1, self.beta_2, self.epsilon)
        else:
            self._optimizer = SGD(size, dtype, self.momentum, self.nesterovs_momentum)

    def _raise_non_finite(self):
        raise NonFiniteLossError(
            f"Training diverged at epoch {self.n_iter_ + 1}: the loss or the "
            "weights became NaN or infinite. Lower learning_rate_init, scale X "
            "and the regression targets (e.g. StandardScaler), or use "
            "solver='adam'."
        )

    def _split_validation(self, X, tgt, Mw, targets):
        n = X.shape[0]
        n_val = int(round(self.validation_fraction * n))
        if n_val < 1 or n - n_val < 1:
            raise ValueError(
                f"early_stopping with validation_fraction={self.validation_fraction} "
                f"leaves no validation or no training rows out of {n} samples."
            )
        perm = self._random_state.permutation(n)
        val, tr = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        lost = np.flatnonzero(Mw[tr].sum(axis=0) <= 0)
        if lost.size:
            raise ValueError(
                f"early_stopping: task(s) {lost.tolist()} have no labelled row "
                "left for training after holding out the validation set; lower "
                "validation_fraction or turn early_stopping off."
            )
        return X[tr], tgt[tr], Mw[tr], X[val], targets[val]

    # ------------------------------------------------------------- inference
    def _validate_predict_X(self, X):
        check_is_fitted(self, "_flat")
        X = validate_X(self, X, reset=False)
        dtype = self._net.dtype
        if sp.issparse(X):
            return X.tocsr().astype(dtype, copy=False)
        return np.asarray(X, dtype=dtype)

    def _raw_output(self, X):
        out, _ = self._net.forward(self._flat, X)
        if self._net.output_mask is not None:
            out = out + self._net.output_mask
        return out

    def transform(self, X):
        """Shared representation: activations of the last trunk layer.

        For ``architecture="hard"`` the trunk output; for ``"soft"`` and
        ``"cross_stitch"`` the last hidden layer of every task's column side
        by side (task 0 first); for ``"mmoe"`` the outputs of all experts
        side by side.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        H : ndarray of shape (n_samples, n_components)
            ``n_components`` is ``hidden_layer_sizes[-1]`` (hard),
            ``n_tasks * hidden_layer_sizes[-1]`` (soft, cross-stitch) or
            ``n_experts * hidden_layer_sizes[-1]`` (MMoE). No dropout.
        """
        X = self._validate_predict_X(X)
        return np.ascontiguousarray(self._net.transform(self._flat, X))

    def gate_weights(self, X):
        """MMoE: each task's gate weights over the experts, averaged over ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples over which the gate probabilities are averaged.

        Returns
        -------
        G : ndarray of shape (n_tasks, n_experts)
            ``G[t, e]``: mean over the rows of ``X`` of the probability that
            task ``t``'s gate gives expert ``e`` (each row sums to 1).

        Raises
        ------
        AttributeError
            If the model was not fitted with ``architecture="mmoe"``.

        Examples
        --------
        >>> import numpy as np
        >>> from skmtl.neural_network import MultiTaskMLPRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(100, 3))
        >>> Y = np.c_[X[:, 0], np.sin(X[:, 1])]
        >>> m = MultiTaskMLPRegressor((8,), architecture="mmoe", n_experts=3,
        ...                           max_iter=20, random_state=0).fit(X, Y)
        >>> m.gate_weights(X).shape
        (2, 3)
        """
        check_is_fitted(self, "_flat")
        if self._architecture[0] != "mmoe":
            raise AttributeError(
                "gate_weights is only defined for architecture='mmoe' (this model "
                f"was fitted with architecture={self._architecture[0]!r})."
            )
        X = self._validate_predict_X(X)
        return self._net.gate_weights(self._flat, X).mean(axis=0).astype(np.float64)

    @property
    def cross_stitch_units_(self):
        """Cross-stitch: the learned ``(n_tasks, n_tasks)`` mixing matrices.

        One per hidden layer; row ``t`` mixes the task columns into task
        ``t``'s input of the next layer.
        """
        check_is_fitted(self, "_flat")
        if self._architecture[0] != "cross_stitch":
            raise AttributeError(
                "cross_stitch_units_ only exists for architecture='cross_stitch'."
            )
        return [S.copy() for S in self._net.stitch_units(self._flat)]

    def fit_transform(self, X, y, sample_weight=None):
        """Fit, then return the shared representation of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets (NaN = missing label).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        H : ndarray of shape (n_samples, hidden_layer_sizes[-1])
        """
        return self.fit(X, y, sample_weight=sample_weight).transform(X)

    def _loss_and_gradient(self, X, Y, sample_weight=None, params=None):
        """Full-batch objective and gradient at ``params`` (tests/diagnostics).

        Uses the fitted network, weighting strategy and ``alpha``; dropout
        off. ``Y`` is in the form ``fit`` accepts. Returns ``(value, grad)``.
        """
        X = self._validate_predict_X(X)
        targets, _ = self._encode_targets(Y, X.shape[0], reset=False)
        targets = self._scale_targets(targets)
        sw = _check_sample_weight_only(sample_weight, X.shape[0])
        mask = ~np.isnan(targets)
        if self._loss == "softmax":
            tgt = np.where(mask, targets, 0).astype(np.intp)
        else:
            tgt = np.where(mask, targets, 0).astype(self._net.dtype)
        C, present, _ = batch_coefficients((mask * sw[:, None]).astype(self._net.dtype))
        flat = self._flat if params is None else params
        value, _, grad = loss_and_gradient(
            self._net,
            flat,
            X,
            tgt,
            C,
            present,
            loss=self._loss,
            alpha=self.alpha,
            weighting=self._weighting,
            sharing_strength=self.sharing_strength,
        )
        return value, grad
