"""Datafits: the loss part of the objective, over labelled entries.

The objective's loss part is ``F(f) = sum_e c_e loss(y_e, f_e)`` where
``f_e = x_i . w_t + b_t`` is the prediction of entry ``e = (i, t)`` and
``c_e = w_t s_i / n_t`` (task weight, sample weight, task size; see
``TaskData.entry_weights``). A datafit knows ``y`` and ``c`` and gives:

* ``value(f, b=None)`` (at ``f + b[task]`` with per-task intercepts
  ``b``), ``derivative(f)`` (``dF/df_e``, so the gradient in ``W`` is
  ``X``'s adjoint applied to it),
* ``bregman(f_new, f, d)``: ``F(f_new) - F(f) - F'(f) . (f_new - f)`` without
  cancellation (the step-size test of FISTA at high precision);
  ``shifted_derivative(f, b)`` gives the derivative at ``f + b[task]``
  with what ``bregman`` at that point can reuse (``aux``),
* ``curvature``: a bound on ``d²loss/df²`` (the Lipschitz constant of the
  gradient is ``curvature * ||X_t||²_C`` per task),
* ``dual_value(theta)``: ``-F*(-theta)`` for the duality gap; where
  ``F*`` has a bounded domain, ``dual_centre()`` (a point inside it) and
  ``dual_mix(theta, centre)`` (per task, how far to move ``theta`` towards
  it to be feasible),
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

from . import _fastmath as fm
from .design import full_entry_layout, full_task_sums, task_sums


def _f64(a):
    """``a`` as a contiguous float64 array (no copy when it is one)."""
    return np.ascontiguousarray(a, dtype=np.float64)


class _EntryDatafit:
    """Targets ``y`` and weights ``c`` of the labelled entries, per task.

    ``entry_task=None`` means every cell of the ``(n, T)`` targets is
    labelled (row-major entries): the task of each entry is then read from
    ``entries`` (a ``TaskData``), or built, on first use only.
    """

    def __init__(self, y, c, entry_task, n_tasks, entries=None):
        self.y = y
        self.c = c
        self._entry_task = entry_task
        self._entries = entries
        self.n_tasks = n_tasks
        if entry_task is None:
            self.task_c = full_task_sums(c.reshape(-1, n_tasks))
        else:
            self.task_c = task_sums(c, entry_task, n_tasks)

    @property
    def entry_task(self):
        """Task of each entry."""
        if self._entry_task is None:
            if self._entries is not None:
                self._entry_task = self._entries.entry_task
            else:
                n = self.y.shape[0] // self.n_tasks
                self._entry_task = full_entry_layout(n, self.n_tasks)[2]
        return self._entry_task

    def shifted_derivative(self, f, b, sums=True, f_old=None, beta=0.0):
        """``(fb, d, g, aux)``: the predictions ``fb = f + b[task]`` with the
        per-task intercepts ``b``, the derivative ``d = F'(fb)``, its
        per-task sums ``g`` (the intercepts' gradient; None unless
        ``sums``) and ``aux``, per-entry values at ``fb`` that
        :meth:`bregman` at ``fb`` reuses (None here), in one call (one pass
        over the entries where a subclass fuses them). With ``f_old``, the
        predictions are first extrapolated: ``f + beta (f - f_old)`` (FISTA's
        extrapolated point, without a pass of its own)."""
        if f_old is not None:
            f = f + beta * (f - f_old)
        fb = f + b[self.entry_task]
        d = self.derivative(fb)
        g = task_sums(d, self.entry_task, self.n_tasks) if sums else None
        return fb, d, g, None

    def dual_centre(self):
        """A dual point inside ``F*``'s domain with zero per-task sums, for
        :meth:`dual_mix`; None when the domain is the whole space (any
        ``theta`` is feasible)."""
        return None

    def value_and_derivative(self, f):
        """``(F(f), F'(f))`` (one pass where a subclass fuses them)."""
        return self.value(f), self.derivative(f)


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

    def value(self, f, b=None):
        r = self.y - (f if b is None else f + b[self.entry_task])
        return 0.5 * float(np.dot(self.c, r * r))

    def derivative(self, f):
        return self.c * (f - self.y)

    def bregman(self, f_new, f, d=None, b_new=None, aux=None):
        """``F(f_new) - F(f) - F'(f) . (f_new - f)``, here ``1/2 sum_e c_e
        (f_new - f)_e^2``: computed without the cancellation of the
        difference of values (the step search at high precision). ``d``,
        the derivative at ``f``, and ``aux`` are not needed here. With
        ``b_new`` (per-task intercepts), the new predictions are ``f_new +
        b_new[task]``."""
        r = f_new - f
        if b_new is not None:
            r += b_new[self.entry_task]
        return 0.5 * float(np.dot(self.c, r * r))

    def optimal_intercept(self, f_no_b):
        """Exact minimiser over ``b`` for predictions without intercept."""
        return task_sums(self.c * (self.y - f_no_b), self.entry_task, self.n_tasks) / (
            self.task_c
        )

    def intercept_step(self, f_no_b, b):
        return self.optimal_intercept(f_no_b)

    def dual_value(self, theta, scale=1.0):
        """``-F*(-scale theta) = sum_e s theta_e y_e - (s theta_e)^2 / (2
        c_e)``."""
        if scale != 1.0:
            theta = scale * theta
        nz = self.c > 0
        return float(np.dot(theta, self.y) - 0.5 * np.sum(theta[nz] ** 2 / self.c[nz]))

    def scale(self, fit_intercept):
        """``sum_e c_e y_e^2`` (centred per task with an intercept).

        Twice the objective at ``W = 0``; the duality gap is compared with
        ``tol`` times this, as scikit-learn does.
        """
        y = self.y
        if fit_intercept:
            mean = task_sums(self.c * y, self.entry_task, self.n_tasks) / self.task_c
            y = y - mean[self.entry_task]
        return float(np.dot(self.c, y * y))


def _expit(z):
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


# The element-wise work of the logistic loss, fused into numba kernels with
# no temporaries: with numpy, the log/exp and their temporaries cost several
# times the two matrix products of a FISTA iteration. Each kernel's first
# loop has no branch and no libm call (the exponentials and logarithms of
# ``_fastmath``), so LLVM vectorises it; sums over entries and tasks come
# in a second, cheap loop. ``u = -y f`` is the margin: the loss is
# ``softplus(u)`` and its derivative in ``u`` is ``expit(u)``.
_KERNEL = {"cache": True, "error_model": "numpy"}
# The two per-entry passes of every FISTA iteration (derivative, Bregman
# term) and the gap's (loss, entropies) also let LLVM contract ``a * b + c``
# into one fused multiply-add (whose product is exact): the exponential's
# Horner series takes half the operations (the derivative pass 1.3x
# faster); values move by an ulp.
_HOT = {**_KERNEL, "fastmath": {"contract"}}


@njit(cache=True, inline="always", error_model="numpy")
def _softplus_expit(u):
    """``(softplus(u), expit(u))`` from one exponential, for any ``u``."""
    e = fm.exp(-abs(u))  # in (0, 1]: no overflow
    r = 1.0 / (1.0 + e)
    s = r if u >= 0.0 else e * r
    return max(u, 0.0) + fm.log1p_unit(e), s


@njit(cache=True, inline="always", error_model="numpy")
def _expit_fast(u):
    """``expit(u) = 1 / (1 + exp(-u))`` for any ``u``, one exponential."""
    e = fm.exp(-abs(u))
    r = 1.0 / (1.0 + e)
    return r if u >= 0.0 else e * r


@njit(cache=True, inline="always", error_model="numpy")
def _expit_and_curvature(u):
    """``(expit(u), expit(u) expit(-u))`` from one exponential, both to a
    small relative error for any ``u`` (``s (1 - s)`` would cancel)."""
    e = fm.exp(-abs(u))
    r = 1.0 / (1.0 + e)
    return (r if u >= 0.0 else e * r), e * r * r


@njit(cache=True)
def _sum(x):
    """``sum(x)`` with four accumulators (the additions pipeline)."""
    n = x.shape[0]
    a0 = a1 = a2 = a3 = 0.0
    m = n - n % 4
    for e in range(0, m, 4):
        a0 += x[e]
        a1 += x[e + 1]
        a2 += x[e + 2]
        a3 += x[e + 3]
    for e in range(m, n):
        a0 += x[e]
    return (a0 + a1) + (a2 + a3)


@njit(**_KERNEL)
def _shifted(f, b, entry_task):
    """``f + b[task]`` (a gather: kept out of the vectorised loops)."""
    out = np.empty(f.shape[0])
    for e in range(f.shape[0]):
        out[e] = f[e] + b[entry_task[e]]
    return out


@njit(**_KERNEL)
def _extrapolated_shifted(f, f_old, beta, b, entry_task):
    """``f + beta (f - f_old) + b[task]`` in one pass (the same operations,
    in the same order, as the extrapolation and then :func:`_shifted`)."""
    out = np.empty(f.shape[0])
    for e in range(f.shape[0]):
        out[e] = (f[e] + beta * (f[e] - f_old[e])) + b[entry_task[e]]
    return out


@njit(cache=True)
def _lane_sums(v, entry_task, n_tasks):
    """Per-task sums of ``v`` over 8 interleaved lanes (entry ``e`` adds to
    lane ``e mod 8`` of its task): on per-task data, where a task's entries
    are consecutive, a task's sum is then 8 independent chains of additions
    instead of one (``task_sums``, in bincount's order, is 5x slower
    there). The same sums up to rounding."""
    acc = np.zeros((n_tasks, 8))
    for e in range(v.shape[0]):
        acc[entry_task[e], e & 7] += v[e]
    out = np.empty(n_tasks)
    for t in range(n_tasks):
        a = acc[t]
        out[t] = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
    return out


@njit(**_HOT)
def _logistic_shifted_derivative(c, y, f, f_old, beta, b, entry_task, n_tasks, sums):
    """``fb = f + beta (f - f_old) + b[task]``, ``d = F'(fb) = -c y
    expit(-y fb)``, (if ``sums``, else zeros) the per-task sums of ``d``,
    and ``sig = expit(-|y fb|)`` (in (0, 1/2]: the Bregman term at ``fb``
    reads it instead of evaluating the exponential again)."""
    n = f.shape[0]
    fb = _extrapolated_shifted(f, f_old, beta, b, entry_task)
    d = np.empty(n)
    sig = np.empty(n)
    for e in range(n):
        u = -y[e] * fb[e]
        ex = fm.exp(-abs(u))  # in (0, 1]: no overflow
        r = 1.0 / (1.0 + ex)
        small = ex * r
        sig[e] = small
        d[e] = -c[e] * y[e] * (r if u >= 0.0 else small)
    g = _lane_sums(d, entry_task, n_tasks) if sums else np.zeros(n_tasks)
    return fb, d, g, sig


@njit(**_KERNEL)
def _logistic_derivative(c, y, f):
    """``dF/df_e = -c_e y_e expit(-y_e f_e)`` (stable for any margin)."""
    out = np.empty(f.shape[0])
    for e in range(f.shape[0]):
        out[e] = -c[e] * y[e] * _expit_fast(-y[e] * f[e])
    return out


@njit(**_KERNEL)
def _logistic_value_derivative(c, y, f):
    """``(F(f), F'(f))`` in one pass (one exponential, one log per entry)."""
    n = f.shape[0]
    d = np.empty(n)
    loss = np.empty(n)
    for e in range(n):
        ls, s = _softplus_expit(-y[e] * f[e])
        loss[e] = c[e] * ls
        d[e] = -c[e] * y[e] * s
    return _sum(loss), d


@njit(**_HOT)
def _logistic_task_losses(c, y, f, b, entry_task, n_tasks):
    """``sum_e c_e log(1 + exp(-y_e (f_e + b_t)))`` per task ``t``."""
    n = f.shape[0]
    loss = _shifted(f, b, entry_task)
    for e in range(n):
        ls, _ = _softplus_expit(-y[e] * loss[e])
        loss[e] = c[e] * ls
    return _lane_sums(loss, entry_task, n_tasks)


@njit(**_KERNEL)
def _logistic_intercept_terms(c, y, f, b, entry_task, n_tasks):
    """Per task, at the intercepts ``b``: the loss, its derivative and its
    second derivative in ``b_t`` (one exponential and one log per entry)."""
    n = f.shape[0]
    fb = _shifted(f, b, entry_task)
    loss = np.empty(n)
    grad = np.empty(n)
    curv = np.empty(n)
    for e in range(n):
        u = -y[e] * fb[e]
        ls, _ = _softplus_expit(u)
        s, v = _expit_and_curvature(u)
        loss[e] = c[e] * ls
        grad[e] = -c[e] * y[e] * s
        curv[e] = c[e] * v
    out = np.zeros((3, n_tasks))
    for e in range(n):
        t = entry_task[e]
        out[0, t] += loss[e]
        out[1, t] += grad[e]
        out[2, t] += curv[e]
    return out


@njit(cache=True, inline="always", error_model="numpy")
def _margin_change(y, f, fb_new):
    """The margin change ``m`` of the Bregman term in its symmetric form
    (sign-flipped when ``u = -y f > 0``)."""
    u = -y * f
    dm = -y * (fb_new - f)
    return -dm if u > 0.0 else dm


@njit(**_HOT)
def _logistic_bregman(c, y, f_new, b_new, entry_task, f, sig):
    """``sum_e c_e [l(f_new) - l(f) - l'(f) (f_new - f)]`` for the logistic
    loss (``f_new`` shifted by the intercepts ``b_new[task]``), accurate to a
    small relative error of the result (not of the loss). ``sig =
    expit(-|y f|)``, from :func:`_logistic_shifted_derivative` at ``f``.

    In the margin ``u = -y f`` the loss is ``softplus(u)``; with ``s =
    expit(u)`` and ``m`` the margin change, the term is ``log1p(s expm1(m))
    - s m``. ``softplus(u) = u + softplus(-u)`` makes the term symmetric in
    ``(u, m) -> (-u, -m)``, which lets ``u <= 0`` (``s <= 1/2``, computed
    without cancellation); for ``|m| < 0.02`` the Taylor series ``s (1 - s)
    (m^2 / 2 + (1 - 2 s) m^3 / 6 + (1 - 6 s (1 - s)) m^4 / 24)`` (relative
    error below ``|m|^3 / 60``) needs no transcendental function and has no
    cancellation. The first loop does every entry so, the second (only when
    some ``|m|`` is larger: far from the solution) the closed form; both
    are vectorised. A margin change ``m > 709`` (beyond ``exp``'s range)
    gives ``+inf``: the step is refused.
    """
    n = f.shape[0]
    fb_new = _shifted(f_new, b_new, entry_task)
    term = np.empty(n)
    n_far = 0
    for e in range(n):
        dm = _margin_change(y[e], f[e], fb_new[e])
        s = sig[e]
        v = s * (1.0 - s)
        odd = (1.0 - 2.0 * s) / 6.0 + dm * (1.0 - 6.0 * v) / 24.0
        near = abs(dm) < 0.02
        term[e] = c[e] * (v * dm * dm * (0.5 + dm * odd)) if near else 0.0
        n_far += 0 if near else 1
    if n_far:  # the closed form where the series is not accurate enough
        for e in range(n):
            dm = _margin_change(y[e], f[e], fb_new[e])
            s = sig[e]
            # expm1(dm) as exp(dm) - 1 loses at most log2(50) bits for
            # |dm| >= 0.02; s (exp(dm) - 1) >= -s >= -1/2: fm.log1p's domain
            t = fm.log1p(s * (fm.exp(dm) - 1.0)) - s * dm
            # beyond exp's range the term is not computed: +inf refuses the
            # step (numpy's expm1 overflowed to the same effect)
            t = np.inf if dm > 709.0 else max(t, 0.0)
            far = abs(dm) >= 0.02
            t = c[e] * t if c[e] > 0.0 else 0.0  # (0 * inf)
            term[e] = t if far else term[e]
    return _sum(term)


@njit(**_HOT)
def _logistic_dual_value(c, y, theta, scale):
    """``sum_e c_e H(scale theta_e y_e / c_e)`` (``H`` the binary entropy,
    its argument clipped to [0, 1]; entries with ``c_e = 0`` count 0)."""
    n = theta.shape[0]
    term = np.empty(n)
    for e in range(n):
        ce = c[e]
        u = scale * theta[e] * y[e] / ce if ce > 0.0 else 0.0
        u = min(max(u, 0.0), 1.0)
        w = 1.0 - u
        # log(0) is read as -1023 log 2 (finite) by fm.log: 0 * it is 0
        h = -(u * fm.log(u) + w * fm.log(w))
        term[e] = ce * h if ce > 0.0 else 0.0
    return _sum(term)


@njit(**_KERNEL)
def _logistic_dual_mix(c, inv_c, y, theta, centre, entry_task, n_tasks):
    """Per task, the smallest ``lam`` in [0, 1] with ``(1 - lam) u + lam
    u_c`` in [0, 1] for every entry (``u = theta y / c``, ``u_c = centre y /
    c``, ``u_c`` in [0, 1]; entries with ``c = 0`` ask nothing). The first
    loop (vectorised) finds the entries outside the domain: usually none,
    and then the per-task maxima (divisions, a gather) are skipped: every
    ``lam_t`` is 0."""
    n = theta.shape[0]
    lam = np.zeros(n_tasks)
    n_out = 0
    for e in range(n):
        u = theta[e] * y[e] * inv_c[e]
        n_out += 0 if (u >= 0.0 and u <= 1.0) else 1
    if n_out == 0:
        return lam
    for e in range(n):
        inv = inv_c[e]
        u = theta[e] * y[e] * inv
        uc = centre[e] * y[e] * inv
        below = -u / max(uc - u, 1e-300)  # > 0 only where u < 0
        above = (u - 1.0) / max(u - uc, 1e-300)  # > 0 only where u > 1
        need = min(max(max(below, above), 0.0), 1.0)
        t = entry_task[e]
        lam[t] = max(lam[t], need)
    return lam


@njit(**_KERNEL)
def _logistic_hessian(c, y, f, floor):
    """``d2F/df_e^2 = c_e p_e (1 - p_e)`` with ``p_e = expit(y_e f_e)``, at
    least ``floor * c_e`` (a separated entry keeps a positive weight)."""
    out = np.empty(f.shape[0])
    for e in range(f.shape[0]):
        _, v = _expit_and_curvature(-y[e] * f[e])
        out[e] = c[e] * max(v, floor)
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

    _inv_c = None  # 1 / c (0 where c = 0), for dual_mix

    def intercepts_at_zero(self, fit_intercept=True):
        """Log-odds of each task's weighted share of positives (a task with a
        single class gets a large finite value instead of infinity)."""
        if not fit_intercept:
            return np.zeros(self.n_tasks)
        pos = task_sums(self.c * (self.y > 0), self.entry_task, self.n_tasks)
        q = np.clip(pos / self.task_c, 1e-12, 1 - 1e-12)
        return np.log(q / (1.0 - q))

    def value(self, f, b=None):
        return float(self._task_losses(f, b).sum())

    def derivative(self, f):
        return _logistic_derivative(self.c, self.y, _f64(f))

    def shifted_derivative(self, f, b, sums=True, f_old=None, beta=0.0):
        """``(f + b[task], F'(f + b[task]), per-task sums of F', aux)`` in one
        pass (see :meth:`_EntryDatafit.shifted_derivative`, also for
        ``f_old``); ``aux`` is ``expit(-|y (f + b[task])|)``, which
        :meth:`bregman` reuses."""
        if f_old is None:  # (f + 0 (f - f) is f)
            f_old, beta = f, 0.0
        # (no _f64 copies on this path of every iteration: numba takes any
        # float64 array as it is)
        fb, d, g, sig = _logistic_shifted_derivative(
            self.c, self.y, f, f_old, float(beta), b, self.entry_task, self.n_tasks,
            sums,
        )  # fmt: skip
        return fb, d, g if sums else None, sig

    def value_and_derivative(self, f):
        """``(F(f), F'(f))`` in one pass."""
        value, d = _logistic_value_derivative(self.c, self.y, _f64(f))
        return float(value), d

    def bregman(self, f_new, f, d=None, b_new=None, aux=None):
        """``F(f_new) - F(f) - F'(f) . (f_new - f)`` (the curvature along a
        step), without the cancellation of the difference of values. With
        ``b_new`` (per-task intercepts), the new predictions are ``f_new +
        b_new[task]``. ``aux``: :meth:`shifted_derivative`'s at ``f``
        (``expit(-|y f|)``; computed here without it). ``d``, the
        derivative at ``f``, is not needed."""
        if b_new is None:
            b_new = np.zeros(self.n_tasks)
        if aux is None:  # (else the FISTA path: float64 arrays, no _f64 copies)
            f, f_new, b_new = _f64(f), _f64(f_new), _f64(b_new)
            aux = self.shifted_derivative(f, np.zeros(self.n_tasks), False)[3]
        return float(
            _logistic_bregman(self.c, self.y, f_new, b_new, self.entry_task, f, aux)
        )

    def hessian(self, f, floor=1e-10):
        """Diagonal second derivative ``d2F/df_e^2`` (the Newton weights)."""
        return _logistic_hessian(self.c, self.y, _f64(f), floor)

    def _task_losses(self, f, b=None):
        b = np.zeros(self.n_tasks) if b is None else _f64(b)
        return _logistic_task_losses(
            self.c, self.y, _f64(f), b, self.entry_task, self.n_tasks
        )

    def _intercept_terms(self, f_no_b, b):
        return _logistic_intercept_terms(
            self.c, self.y, f_no_b, b, self.entry_task, self.n_tasks
        )

    def intercept_step(self, f_no_b, b, n_newton=5):
        """Damped Newton steps on each task's intercept, with ``W`` fixed.

        Each task's step is halved until its loss does not increase, so the
        result is never worse than ``b`` (the loss is flat far from a
        separable task's data, where a plain Newton step can overshoot).
        Each trial is one pass over the entries, which gives each task's
        loss, gradient and curvature at once (a task's terms depend on its
        own intercept only, so an accepted trial's are kept).
        """
        b = np.array(b, dtype=np.float64, copy=True)
        f_no_b = _f64(f_no_b)
        loss, g, h = self._intercept_terms(f_no_b, b)
        for _ in range(n_newton):
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
                loss, g, h = self._intercept_terms(f_no_b, b)
            for _ in range(30):
                trial = b + np.where(pending, step, 0.0)
                new_loss, new_g, new_h = self._intercept_terms(f_no_b, trial)
                ok = pending & (new_loss <= loss)
                b[ok] = trial[ok]
                loss[ok] = new_loss[ok]
                g[ok] = new_g[ok]
                h[ok] = new_h[ok]
                pending &= ~ok
                if not pending.any():
                    break
                step *= 0.5
        return b

    def dual_centre(self):
        """A dual point in the interior of ``F*``'s domain with zero sums per
        task (``u_e = theta_e y_e / c_e = (1 - y_e ybar_t) / 2``, ``ybar_t``
        the task's weighted mean label); see :meth:`dual_mix`."""
        ybar = task_sums(self.c * self.y, self.entry_task, self.n_tasks) / np.where(
            self.task_c > 0, self.task_c, 1.0
        )
        return 0.5 * self.c * (self.y - ybar[self.entry_task])

    def dual_mix(self, theta, centre):
        """Per task, the smallest ``lam_t`` in [0, 1] such that ``(1 - lam_t)
        theta + lam_t centre`` is in ``F*``'s domain (``theta_e y_e / c_e`` in
        [0, 1]), for a ``centre`` in the domain."""
        if self._inv_c is None:
            pos = self.c > 0
            self._inv_c = np.where(pos, 1.0 / np.where(pos, self.c, 1.0), 0.0)
        return _logistic_dual_mix(
            self.c, self._inv_c, self.y, _f64(theta), _f64(centre), self.entry_task,
            self.n_tasks,
        )  # fmt: skip

    def dual_value(self, theta, scale=1.0):
        """``-F*(-scale theta)``: a sum of binary entropies (``theta =
        -F'(f)``)."""
        return float(_logistic_dual_value(self.c, self.y, _f64(theta), scale))

    def scale(self, fit_intercept):
        return float(self.task_c.sum() * np.log(2.0))


DATAFITS = {"squared": Quadratic, "logistic": Logistic}


def get_datafit_class(loss):
    """The datafit class of a loss name (``"squared"``, ``"logistic"``)."""
    if loss not in DATAFITS:
        raise ValueError(f"Unknown loss {loss!r}; expected one of {sorted(DATAFITS)}.")
    return DATAFITS[loss]
