"""Shared plumbing of the multi-task linear estimators.

Estimators stay thin: ``fit`` validates, builds the datafit and penalty
objects, calls a solver from :mod:`skmtl._solvers`, and stores the result.
"""

import warnings
import weakref

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.validation import check_is_fitted

from .._dask import any_dask, is_dask_collection
from .._solvers.dispatch import ProblemSolver
from .._solvers.penalties import make_penalty
from .._validation import (
    FINITE_PENDING,
    check_labels_finite,
    check_targets,
    check_task_weights,
    make_task_data,
    validate_X,
)
from ..metrics import r2_score
from ._setup import make_problem

#: each estimator class's ``__init__`` parameter names
_PARAM_NAMES = weakref.WeakKeyDictionary()


def own_params(estimator):
    """``estimator.get_params(deep=False)``, with the class's parameter names
    read once (``get_params`` inspects the ``__init__`` signature on every
    call, ~0.1 ms: a tenth of a small fit)."""
    cls = type(estimator)
    if cls.get_params is not BaseEstimator.get_params:
        return estimator.get_params(deep=False)
    names = _PARAM_NAMES.get(cls)
    if names is None:
        names = _PARAM_NAMES[cls] = tuple(cls._get_param_names())
    return {name: getattr(estimator, name) for name in names}


def warm_start_point(estimator, penalty, n_tasks, n_features):
    """``(Z0, b0)``: the previous solution with ``warm_start`` (its parts for
    a composite penalty), else None (the solver starts from zero)."""
    coef = getattr(estimator, "coef_", None)
    if not (
        estimator.warm_start
        and coef is not None
        and coef.shape == (n_tasks, n_features)
    ):
        return None, None
    b0 = np.array(estimator.intercept_, dtype=np.float64) * np.ones(n_tasks)
    if penalty.n_parts == 1:
        return np.array(coef, dtype=np.float64), b0
    parts = getattr(estimator, "coef_components_", None)
    if parts is None or tuple(parts) != tuple(penalty.part_names):
        return None, None
    return np.vstack([parts[name] for name in penalty.part_names]), b0


def fit_penalized(estimator, X, data, loss, penalty_name, column_stats=None):
    """Fit a penalised linear model: the shared body of ``fit``.

    Builds the datafit ``loss`` and the penalty (from the estimator's
    parameters: each penalty reads the hyperparameters it declares), solves
    from the warm start, and stores the result on ``estimator``.
    ``column_stats``: ``X``'s column statistics from input validation
    (see :func:`~skmtl.linear_model._setup.make_problem`), or
    ``FINITE_PENDING``: validation left the finite check of ``X`` to the
    solver (:class:`~skmtl._solvers.dispatch.ProblemSolver`).
    """
    finite_pending = isinstance(column_stats, str) and column_stats == FINITE_PENDING
    if finite_pending:
        column_stats = None
    T = data.n_tasks
    out_dtype = np.float32 if X.dtype == np.float32 else np.float64
    task_weights = check_task_weights(estimator.task_weights, T)
    X, op, datafit = make_problem(X, data, task_weights, loss, column_stats)
    penalty = make_penalty(penalty_name, estimator.alpha, T, own_params(estimator))
    penalty.setup(X, op, datafit, estimator.fit_intercept)
    Z0, b0 = warm_start_point(estimator, penalty, T, X.shape[1])
    # a warm start after a fit that stopped on max_iter continues that run
    # (same working set and pending epochs): k + k epochs equal 2k
    resume = getattr(estimator, "_solver_resume", None) if Z0 is not None else None
    solver = ProblemSolver(
        X, op, datafit, fit_intercept=estimator.fit_intercept,
        finite_pending=type(estimator).__name__ if finite_pending else None,
    )  # fmt: skip
    result = solver.solve(
        penalty, Z0, b0, solver=estimator.solver, max_iter=estimator.max_iter,
        tol=estimator.tol, verbose=estimator.verbose,
        selection=getattr(estimator, "selection", "cyclic"),
        random_state=getattr(estimator, "random_state", None), resume=resume,
    )  # fmt: skip
    store_solver_result(estimator, result, estimator.fit_intercept, penalty)
    estimator._solver_resume = result.resume
    set_output_dtype(estimator, out_dtype)
    estimator.solver_ = solver.method_
    if not np.any(result.coef):
        warn_null_model(estimator, op, datafit, penalty_name, penalty)
    return estimator


def set_output_dtype(estimator, dtype):
    """float32 ``X`` gives float32 ``coef_`` and ``intercept_`` (computed in
    float64), as in scikit-learn; estimators with ``_scalar_zero_intercept``
    (the scikit-learn drop-ins) store ``intercept_ = 0.0`` without an
    intercept, as scikit-learn's ``MultiTaskLasso`` does."""
    if dtype == np.float32:
        big = np.finfo(np.float32).max
        values = [estimator.coef_, estimator.intercept_]
        if any(np.any(np.abs(np.asarray(v)) > big) for v in values):
            raise ValueError(
                "The fitted coefficients exceed the float32 range (X is float32 "
                "but the targets' scale needs larger coefficients); pass X as "
                "float64."
            )
    estimator.coef_ = np.asarray(estimator.coef_, dtype=dtype)
    if getattr(estimator, "_scalar_zero_intercept", False) and not (
        estimator.fit_intercept
    ):
        estimator.intercept_ = 0.0
    else:
        estimator.intercept_ = np.asarray(estimator.intercept_, dtype=dtype)


def warn_null_model(estimator, op, datafit, penalty_name, penalty):
    """Warn, naming ``alpha_max``, when a fit returned all-zero coefficients
    because ``alpha >= alpha_max`` (the model predicts the intercepts only)."""
    if penalty.n_parts > 1 or op.n_features == 0:
        return
    G0 = op.rmatvec(
        datafit.derivative(
            datafit.intercepts_at_zero(estimator.fit_intercept)[datafit.entry_task]
        )
    )
    params = own_params(estimator)
    try:
        a_max = float(type(penalty).alpha_max(G0, params))
    except (TypeError, ValueError, NotImplementedError):
        return
    if not np.isfinite(a_max) or a_max <= 0 or estimator.alpha < a_max:
        return
    warnings.warn(
        f"All coefficients are zero: alpha={estimator.alpha:.4g} >= alpha_max="
        f"{a_max:.4g}, the smallest alpha at which no feature enters the "
        f"{penalty_name!s} model (it predicts each task's intercept only). "
        "Use a smaller alpha (e.g. 0.01 * alpha_max), or standardise the "
        "features.",
        UserWarning,
        stacklevel=3,
    )


def store_solver_result(estimator, result, fit_intercept, penalty=None):
    """Set ``coef_``, ``intercept_``, ``n_iter_``, ``dual_gap_`` (and
    ``coef_components_`` for a composite penalty); warn if the solver stopped
    on ``max_iter`` before its certificate was small enough."""
    if not result.converged:
        measure = (
            f"duality gap {result.gap:.3e}"
            if np.isfinite(result.gap)
            else f"proximal-gradient residual {result.residual:.3e}"
        )
        why = (
            "the solver stopped making progress: the objective is flat to "
            "rounding error here (tol below what float64 resolves on this "
            "problem, or badly scaled data)"
            if result.stalled
            else f"max_iter={estimator.max_iter} reached"
        )
        warnings.warn(
            "Objective did not converge. You might want to increase the number "
            f"of iterations, increase tol or scale the features ({why}; "
            f"{measure}, tol={estimator.tol}).",
            ConvergenceWarning,
            stacklevel=3,
        )
    n_tasks = result.coef.shape[0]
    estimator.coef_ = result.coef
    estimator.intercept_ = result.intercept if fit_intercept else np.zeros(n_tasks)
    estimator.n_iter_ = int(result.n_iter)
    estimator.dual_gap_ = float(result.gap)
    for name in getattr(estimator, "_penalty_attributes", ()):
        delattr(estimator, name)  # learned by the previous fit's penalty
    learned = {}
    if penalty is not None:
        learned = dict(penalty.fitted_attributes(result.parts))
        if penalty.n_parts > 1:
            learned["coef_components_"] = {
                name: part.copy() for name, part in penalty.split(result.parts).items()
            }
    for name, value in learned.items():
        setattr(estimator, name, value)
    estimator._penalty_attributes = tuple(learned)


class MultiTaskLinearMixin:
    """``predict``-side helpers common to multi-task linear models.

    Fitted models have ``coef_`` of shape ``(n_tasks, n_features)`` and
    ``intercept_`` of shape ``(n_tasks,)``.
    """

    def _validate_fit_data(
        self, X, Y, sample_weight=None, return_column_stats=False,
        targets_product=False, defer_finite=False,
    ):  # fmt: skip
        """Validate ``(X, Y, sample_weight)``; set ``n_tasks_``, ``task_names_``.

        The returned ``Y2`` may be ``Y`` itself (no copy): read it only. With
        ``return_column_stats=True`` also returns ``X``'s column statistics
        when validation computed them (see :func:`~skmtl._validation.validate_X`),
        else None; with ``targets_product=True`` as well, their pass also
        computes ``X``'s product with ``Y`` where it can (read by block
        coordinate descent for its first gradient). ``defer_finite``: see
        :func:`~skmtl._validation.validate_X` (the stats are then
        ``FINITE_PENDING``: :func:`fit_penalized` checks)."""
        X = validate_X(
            self, X, reset=True, return_column_stats=return_column_stats,
            targets=Y if targets_product else None, defer_finite=defer_finite,
        )  # fmt: skip
        X, stats = X if return_column_stats else (X, None)
        Y2, is_1d, task_names = check_targets(
            Y, X.shape[0], copy=False, check_inf=False
        )
        data = make_task_data(Y2, sample_weight, task_names)
        if not data.labels_finite:  # (else the NaN probe's sum was finite)
            check_labels_finite(data.y)
        self.n_tasks_ = Y2.shape[1]
        self._y_is_1d = is_1d
        if task_names is not None:
            self.task_names_ = task_names
        elif hasattr(self, "task_names_"):
            del self.task_names_
        if return_column_stats:
            return X, Y2, data, stats
        return X, Y2, data

    def _linear_predictor(self, X):
        check_is_fitted(self, "coef_")
        X = validate_X(self, X, reset=False)
        if sp.issparse(X):
            F = np.asarray(X @ self.coef_.T)
        else:
            F = X @ self.coef_.T.astype(X.dtype, copy=False)
        return F + self.intercept_

    def _format_output(self, P):
        return P[:, 0] if getattr(self, "_y_is_1d", False) else P


class MultiTaskRegressorMixin(MultiTaskLinearMixin, RegressorMixin):
    """``predict`` and ``score`` (mean per-task R² over labelled entries)."""

    def predict(self, X):
        """Predict every task for every row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        Y_pred : ndarray of shape (n_samples, n_tasks), or (n_samples,) when
            the model was fitted on a 1-D ``y``. A dask array for a dask
            ``X`` (lazy, one block per row chunk).
        """
        if is_dask_collection(X):
            from .._dask._fit import predict_dask

            return predict_dask(self, X)
        return self._format_output(self._linear_predictor(X))

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of the per-task R² on labelled entries.

        NaN entries of ``y`` (missing labels) are ignored, so this score works
        in ``GridSearchCV`` and ``cross_val_score`` on incomplete ``Y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True targets, NaN where a task has no label.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
        """
        if any_dask(X, y, sample_weight):
            raise TypeError(
                "score does not take dask collections (it would gather X on the "
                "client). Score a sample in memory, or compute the predictions "
                "lazily with predict(X) and reduce the per-task errors with dask."
            )
        Y2, _, _ = check_targets(y)
        P = self._linear_predictor(X)
        if P.shape[1] != Y2.shape[1]:
            raise ValueError(
                f"y has {Y2.shape[1]} tasks but the model was fitted on {P.shape[1]}."
            )
        return r2_score(Y2, P, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = True
        return tags


#: per class, the plain-scalar parameter sets that passed scikit-learn's
#: parameter validation (see ``BaseMultiTaskRegressor._validate_params``)
_VALIDATED_PARAMS = weakref.WeakKeyDictionary()
_PLAIN_PARAM_TYPES = (
    bool, int, float, str, type(None), np.float64, np.float32, np.int64, np.int32,
    np.bool_,
)  # fmt: skip
_MAX_VALIDATED = 256
#: numeric ndarrays up to this many entries (e.g. ``task_weights``) are part
#: of a key by their dtype, shape and bytes
_MAX_KEY_ARRAY = 4096


def _plain_params_key(params):
    """A hashable key of ``params`` when every value is a plain scalar
    (``bool``, ``int``, ``float``, ``str``, None or a numpy scalar of those
    kinds; the type is part of the key, so ``True`` and ``1`` differ) or a
    small numeric ``np.ndarray`` (keyed by its dtype, shape and bytes), else
    None."""
    key = []
    for name, value in params.items():
        kind = type(value)
        if kind is np.ndarray:
            if value.dtype.kind not in "biuf" or value.size > _MAX_KEY_ARRAY:
                return None
            value = (value.dtype.str, value.shape, value.tobytes())
        elif kind not in _PLAIN_PARAM_TYPES:
            return None
        key.append((name, kind, value))
    return tuple(key)


class BaseMultiTaskRegressor(MultiTaskRegressorMixin, BaseEstimator):
    """Base class for multi-task linear regressors."""

    def _validate_params(self):
        """scikit-learn's parameter validation (the same constraints, the
        same errors), run once per class for a set of plain scalar
        parameters and small numeric arrays (:func:`_plain_params_key`):
        fitting the same parameters again (a new estimator per fit, a refit)
        skips it (~0.15 ms, a tenth of a small fit). Any other value (lists,
        objects, large arrays) is validated on every fit, and a set that
        fails is never recorded."""
        cls = type(self)
        params = own_params(self)
        key = _plain_params_key(params)
        seen = _VALIDATED_PARAMS.get(cls)
        constraints = self._parameter_constraints
        if seen is None or seen[0] is not constraints:
            seen = _VALIDATED_PARAMS[cls] = (constraints, set())
        if key is not None and key in seen[1]:
            return
        validate_parameter_constraints(constraints, params, caller_name=cls.__name__)
        if key is not None:
            if len(seen[1]) >= _MAX_VALIDATED:
                seen[1].clear()
            seen[1].add(key)
