"""Datafits: the loss part of the objective, over labelled entries.

The objective's loss part is ``F(f) = sum_e c_e loss(y_e, f_e)`` where
``f_e = x_i . w_t + b_t`` is the prediction of entry ``e = (i, t)`` and
``c_e = w_t s_i / n_t`` (task weight, sample weight, task size; see
``TaskData.entry_weights``). A datafit knows ``y`` and ``c`` and gives:

* ``value(f)``, ``derivative(f)`` (``dF/df_e``, so the gradient in ``W`` is
  ``X``'s adjoint applied to it),
* ``bregman(f_new, f, d)``: ``F(f_new) - F(f) - F'(f) . (f_new - f)`` without
  cancellation (the step-size test of FISTA at high precision),
* ``curvature``: a bound on ``d²loss/df²`` (the Lipschitz constant of the
  gradient is ``curvature * ||X_t||²_C`` per task),
* ``dual_value(theta)``: ``-F*(-theta)`` for the duality gap,
* ``intercept_step(f, b)``: the unpenalised per-task intercept update
  (exact for the squared loss), ``intercepts_at_zero``: the optimal
  intercepts at ``W = 0`` (they give ``alpha_max``);
* class-level services that do not need data: ``encode_targets`` (user
  targets to the loss's encoding), ``entry_loss`` (the CV error of a
  prediction, unhalved for the squared loss), ``supports_bcd``.

A new loss is one more class here with these methods and a line in
:data:`DATAFITS`; nothing outside this module branches on a loss's name.
"""

import numpy as np
from numba import njit


def _task_sums(values, entry_task, n_tasks):
    return np.bincount(entry_task, weights=values, minlength=n_tasks)


class _EntryDatafit:
    """Targets ``y`` and weights ``c`` of the labelled entries, per task."""

    def __init__(self, y, c, entry_task, n_tasks):
        self.y = y
        self.c = c
        self.entry_task = entry_task
        self.n_tasks = n_tasks
        self.task_c = _task_sums(c, entry_task, n_tasks)


class Quadratic(_EntryDatafit):
    """Squared loss ``1/2 (y - f)^2``.

    With an intercept, the intercept is optimised exactly for any ``W``
    (``exact_intercept = True``): ``b_t`` is the weighted mean residual.
    """

    name = "squared"
    curvature = 1.0
    exact_intercept = True
    supports_bcd = True
    #: kinds of skmtl.metrics metrics that score this loss's predictions
    metric_kinds = ("float",)
    estimator_kind = "regressors"

    @staticmethod
    def metric_input(F, kind):
        """Predictions for a metric of ``kind`` from decision values ``F``."""
        return F

    #: the loss of any model is a function of per-task sums over rows (Gram,
    #: X^T y, means): fits on dask collections reduce those on the cluster
    sufficient_statistics = True

    @staticmethod
    def encode_targets(Y, n_samples=None):
        """``(Y2, task_names, None)``: float targets, NaN where missing."""
        from .._validation import check_targets

        Y2, _, names = check_targets(Y, n_samples)
        return Y2, names, None

    @staticmethod
    def entry_loss(y, f):
        """Squared error ``(y - f)^2`` (unhalved, as scikit-learn's CV paths)."""
        return (f - y) ** 2

    def intercepts_at_zero(self, fit_intercept=True):
        """Weighted label means (zeros without an intercept)."""
        if not fit_intercept:
            return np.zeros(self.n_tasks)
        # the mean around each task's first label: exact for constant targets
        # (then alpha_max is exactly 0, not rounding noise)
        task = self.entry_task
        first = np.zeros(self.n_tasks)
        first[task[::-1]] = self.y[::-1]
        return first + self.optimal_intercept(first[task])

    def value(self, f):
        r = self.y - f
        return 0.5 * float(np.dot(self.c, r * r))

    def derivative(self, f):
        return self.c * (f - self.y)

    def bregman(self, f_new, f, d=None):
        """``F(f_new) - F(f) - F'(f) . (f_new - f)``, here ``1/2 sum_e c_e
        (f_new - f)_e^2``: computed without the cancellation of the
        difference of values (the step search at high precision). ``d``,
        the derivative at ``f``, is not needed here."""
        r = f_new - f
        return 0.5 * float(np.dot(self.c, r * r))

    def optimal_intercept(self, f_no_b):
        """Exact minimiser over ``b`` for predictions without intercept."""
        return _task_sums(self.c * (self.y - f_no_b), self.entry_task, self.n_tasks) / (
            self.task_c
        )

    def intercept_step(self, f_no_b, b):
        return self.optimal_intercept(f_no_b)

    def dual_value(self, theta):
        """``-F*(-theta) = sum_e theta_e y_e - theta_e^2 / (2 c_e)``."""
        nz = self.c > 0
        return float(np.dot(theta, self.y) - 0.5 * np.sum(theta[nz] ** 2 / self.c[nz]))

    def scale(self, fit_intercept):
        """``sum_e c_e y_e^2`` (centred per task with an intercept).

        Twice the objective at ``W = 0``; the duality gap is compared with
        ``tol`` times this, as scikit-learn does.
        """
        y = self.y
        if fit_intercept:
            mean = _task_sums(self.c * y, self.entry_task, self.n_tasks) / self.task_c
            y = y - mean[self.entry_task]
        return float(np.dot(self.c, y * y))


def _expit(z):
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


# One pass over the entries, no temporaries: the FISTA step search evaluates
# the loss about twice per iteration, and with numpy the element-wise
# log/exp and their temporaries cost several times the two matrix products.
@njit(cache=True)
def _logistic_task_losses(c, y, f, entry_task, n_tasks):
    """``sum_e c_e log(1 + exp(-y_e f_e))`` per task (stable for any margin)."""
    out = np.zeros(n_tasks)
    for e in range(f.shape[0]):
        z = -y[e] * f[e]
        if z > 0.0:
            loss = z + np.log1p(np.exp(-z))
        else:
            loss = np.log1p(np.exp(z))
        out[entry_task[e]] += c[e] * loss
    return out


@njit(cache=True, inline="always")
def _expit_scalar(z):
    """``1 / (1 + exp(-z))`` without overflow."""
    if z >= 0.0:
        return 1.0 / (1.0 + np.exp(-z))
    ez = np.exp(z)
    return ez / (1.0 + ez)


@njit(cache=True)
def _logistic_derivative(c, y, f):
    """``dF/df_e = -c_e y_e expit(-y_e f_e)`` (stable for any margin)."""
    out = np.empty(f.shape[0])
    for e in range(f.shape[0]):
        out[e] = -c[e] * y[e] * _expit_scalar(-y[e] * f[e])
    return out


@njit(cache=True)
def _logistic_bregman(c, y, f_new, f, d):
    """``sum_e c_e [l(f_new) - l(f) - l'(f) (f_new - f)]`` for the logistic
    loss, accurate to a small relative error of the result (not of the
    loss), given the derivative ``d`` at ``f``.

    In the margin ``u = -y f`` the loss is ``softplus(u)``; with ``s =
    expit(u)`` (read off ``d = -c y s``, no exponential) and ``m`` the margin
    change, the term is ``log1p(s expm1(m)) - s m``. ``softplus(u) = u +
    softplus(-u)`` lets ``s <= 1/2``; for ``|m| < 0.02`` the Taylor series
    ``s (1 - s) (m^2 / 2 + (1 - 2 s) m^3 / 6 + (1 - 6 s (1 - s)) m^4 / 24)``
    (relative error below ``|m|^3 / 60``) needs no transcendental function
    and has no cancellation.
    """
    out = 0.0
    for e in range(f.shape[0]):
        ce = c[e]
        if ce <= 0.0:
            continue
        u = -y[e] * f[e]
        dm = -y[e] * (f_new[e] - f[e])
        s = -d[e] * y[e] / ce
        if u > 0.0:
            u = -u
            dm = -dm
            s = 1.0 - s
            if s < 1e-4:  # 1 - s has lost digits: recompute
                ez = np.exp(u)
                s = ez / (1.0 + ez)
        if abs(dm) < 0.02:
            v = s * (1.0 - s)
            odd = (1.0 - 2.0 * s) / 6.0 + dm * (1.0 - 6.0 * v) / 24.0
            term = v * dm * dm * (0.5 + dm * odd)
        else:
            term = np.log1p(s * np.expm1(dm)) - s * dm
            if term < 0.0:
                term = 0.0
        out += ce * term
    return out


@njit(cache=True)
def _logistic_hessian(c, y, f, floor):
    """``d2F/df_e^2 = c_e p_e (1 - p_e)`` with ``p_e = expit(y_e f_e)``, at
    least ``floor * c_e`` (a separated entry keeps a positive weight)."""
    out = np.empty(f.shape[0])
    for e in range(f.shape[0]):
        p = _expit_scalar(-y[e] * f[e])
        out[e] = c[e] * max(p * (1.0 - p), floor)
    return out


class Logistic(_EntryDatafit):
    """Logistic loss ``log(1 + exp(-y f))`` with ``y`` in {-1, +1}.

    Stable for large margins (no overflow, no NaN). The intercept is a free
    variable updated by a safeguarded Newton step (``exact_intercept =
    False``).
    """

    name = "logistic"
    curvature = 0.25
    exact_intercept = False
    supports_bcd = False
    metric_kinds = ("label", "binary")
    estimator_kind = "classifiers"

    @staticmethod
    def metric_input(F, kind):
        """+-1 labels for a ``"label"`` metric (accuracy), else the
        probability of the +1 class (ROC AUC is the same as on ``F``)."""
        if kind == "label":
            return np.where(F > 0, 1.0, -1.0)
        return _expit(F)

    sufficient_statistics = False

    @staticmethod
    def encode_targets(Y, n_samples=None):
        """``(Y2, task_names, classes)``: labels as -1/+1 (NaN where missing);
        ``classes[t]`` holds task ``t``'s two labels, the second one is +1."""
        from ..neural_network._labels import encode_task_labels

        names = getattr(Y, "columns", None)
        if names is not None:
            names = np.asarray([str(c) for c in names], dtype=object)
        codes, classes = encode_task_labels(Y)
        if n_samples is not None and codes.shape[0] != n_samples:
            raise ValueError(
                f"X and y have inconsistent numbers of samples: X has {n_samples} "
                f"rows, y has {codes.shape[0]}."
            )
        for t, cls in enumerate(classes):
            if cls.size != 2:
                raise ValueError(
                    "Only binary classification is supported: the logistic loss "
                    f"is binary per task, but task {t} has {cls.size} classes "
                    f"{list(cls)[:5]}. Use MultiTaskMLPClassifier for multiclass "
                    "tasks."
                )
        return 2.0 * codes - 1.0, names, classes

    @staticmethod
    def entry_loss(y, f):
        """``log(1 + exp(-y f))`` with ``y`` in {-1, +1}."""
        return np.logaddexp(0.0, -y * f)

    def intercepts_at_zero(self, fit_intercept=True):
        """Log-odds of each task's weighted share of positives (a task with a
        single class gets a large finite value instead of infinity)."""
        if not fit_intercept:
            return np.zeros(self.n_tasks)
        pos = _task_sums(self.c * (self.y > 0), self.entry_task, self.n_tasks)
        q = np.clip(pos / self.task_c, 1e-12, 1 - 1e-12)
        return np.log(q / (1.0 - q))

    def value(self, f):
        return float(self._task_losses(f).sum())

    def derivative(self, f):
        f = np.ascontiguousarray(f, dtype=np.float64)
        return _logistic_derivative(self.c, self.y, f)

    def bregman(self, f_new, f, d=None):
        """``F(f_new) - F(f) - F'(f) . (f_new - f)`` (the curvature along a
        step), without the cancellation of the difference of values. ``d``
        is ``derivative(f)`` when the caller has it (saves exponentials)."""
        f_new = np.ascontiguousarray(f_new, dtype=np.float64)
        f = np.ascontiguousarray(f, dtype=np.float64)
        if d is None:
            d = self.derivative(f)
        d = np.ascontiguousarray(d, dtype=np.float64)
        return float(_logistic_bregman(self.c, self.y, f_new, f, d))

    def hessian(self, f, floor=1e-10):
        """Diagonal second derivative ``d2F/df_e^2`` (the Newton weights)."""
        f = np.ascontiguousarray(f, dtype=np.float64)
        return _logistic_hessian(self.c, self.y, f, floor)

    def _task_losses(self, f):
        f = np.ascontiguousarray(f, dtype=np.float64)
        return _logistic_task_losses(self.c, self.y, f, self.entry_task, self.n_tasks)

    def intercept_step(self, f_no_b, b, n_newton=5):
        """Damped Newton steps on each task's intercept, with ``W`` fixed.

        Each task's step is halved until its loss does not increase, so the
        result is never worse than ``b`` (the loss is flat far from a
        separable task's data, where a plain Newton step can overshoot).
        """
        b = np.array(b, dtype=np.float64, copy=True)
        task = self.entry_task
        loss = self._task_losses(f_no_b + b[task])
        for _ in range(n_newton):
            p = _expit(-self.y * (f_no_b + b[task]))
            g = _task_sums(-self.c * self.y * p, task, self.n_tasks)
            h = _task_sums(self.c * p * (1 - p), task, self.n_tasks)
            h = np.maximum(h, 1e-12 * self.task_c)
            step = -g / h
            # Where the predicted decrease g^2 / 2h is below the rounding error
            # of the task's loss, a trial cannot show a decrease (the halving
            # loop would run to its end): b is then in Newton's quadratic
            # region, and the full step is taken without a test.
            tiny = 0.5 * g * g / h <= 1e-13 * np.abs(loss)
            b[tiny] += step[tiny]
            # every task in the quadratic region: the step just taken leaves a
            # gradient of the order of its square, and further Newton steps
            # would move b by less than rounding of the loss can tell
            if tiny.all() or np.all(np.abs(step) <= 1e-15 * (1.0 + np.abs(b))):
                break
            pending = ~tiny
            if tiny.any():
                loss = self._task_losses(f_no_b + b[task])
            for _ in range(30):
                trial = b + np.where(pending, step, 0.0)
                new_loss = self._task_losses(f_no_b + trial[task])
                ok = pending & (new_loss <= loss)
                b[ok] = trial[ok]
                loss[ok] = new_loss[ok]
                pending &= ~ok
                if not pending.any():
                    break
                step *= 0.5
        return b

    def dual_value(self, theta):
        """``-F*(-theta)``: a sum of binary entropies (``theta = -F'(f)``)."""
        nz = self.c > 0
        u = np.clip(theta[nz] * self.y[nz] / self.c[nz], 0.0, 1.0)
        ent = np.zeros_like(u)
        for part in (u, 1.0 - u):
            pos = part > 0
            ent[pos] -= part[pos] * np.log(part[pos])
        return float(np.dot(self.c[nz], ent))

    def scale(self, fit_intercept):
        return float(self.task_c.sum() * np.log(2.0))


DATAFITS = {"squared": Quadratic, "logistic": Logistic}


def get_datafit_class(loss):
    """The datafit class of a loss name (``"squared"``, ``"logistic"``)."""
    if loss not in DATAFITS:
        raise ValueError(f"Unknown loss {loss!r}; expected one of {sorted(DATAFITS)}.")
    return DATAFITS[loss]
