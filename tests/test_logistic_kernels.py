"""The fused numba kernels of the logistic datafit and the vectorisable
``exp`` / ``log`` they use, against independent references: mpmath at 40
digits, plain numpy / scipy formulas written here, finite differences;
with missing labels, sample weights (some zero) and extreme margins."""

import numpy as np
import pytest
from numba import njit
from numpy.testing import assert_allclose
from scipy.special import entr, expit

from skmtl._solvers import _fastmath as fm
from skmtl._solvers.datafits import Logistic
from skmtl._validation import make_task_data

ULP = np.finfo(np.float64).eps


@njit(error_model="numpy")
def _apply(kind, x):
    out = np.empty(x.shape[0])
    for e in range(x.shape[0]):
        if kind == 0:
            out[e] = fm.exp(x[e])
        elif kind == 1:
            out[e] = fm.log(x[e])
        elif kind == 2:
            out[e] = fm.log1p(x[e])
        else:
            out[e] = fm.log1p_unit(x[e])
    return out


@pytest.mark.parametrize(
    "kind, name, low, high, log_scale",
    [
        (0, "exp", -708.0, 709.0, False),
        (0, "exp", -1.0, 1.0, False),
        (1, "log", -300.0, 300.0, True),
        (1, "log", 0.5, 2.0, False),
        (2, "log1p", -0.5, 50.0, False),
        (2, "log1p", -30.0, 0.0, True),
        (3, "log1p", 0.0, 1.0, False),
        (3, "log1p", -300.0, 0.0, True),
    ],
)
def test_fastmath_within_two_ulp_of_mpmath(kind, name, low, high, log_scale):
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    rng = np.random.default_rng(kind)
    x = rng.uniform(low, high, size=400)
    if log_scale:
        x = 10.0**x
    got = _apply(kind, x)
    ref = getattr(mpmath, name)
    for xi, gi in zip(x, got, strict=True):
        exact = ref(mpmath.mpf(float(xi)))
        assert abs((mpmath.mpf(float(gi)) - exact) / exact) <= 2 * ULP, (name, xi)


def test_fastmath_edges():
    assert _apply(3, np.array([0.0]))[0] == 0.0
    assert _apply(2, np.array([0.0]))[0] == 0.0
    assert _apply(1, np.array([1.0]))[0] == 0.0
    assert _apply(0, np.array([0.0]))[0] == 1.0
    # beyond the clamp: finite, no NaN
    big = _apply(0, np.array([-1e3, 1e3]))
    assert np.all(np.isfinite(big)) and big[0] < 1e-307 and big[1] > 1e307


def _data(seed=0, n=60, T=3, scale=3.0):
    """Labelled entries with 30% missing labels and sample weights (some 0)."""
    rng = np.random.default_rng(seed)
    Y = np.where(rng.random((n, T)) < 0.5, -1.0, 1.0)
    Y[rng.random((n, T)) < 0.3] = np.nan
    Y[0] = 1.0
    sw = rng.uniform(0.5, 2.0, size=n)
    sw[1:4] = 0.0
    data = make_task_data(Y, sample_weight=sw)
    c = data.entry_weights()
    fit = Logistic(data.y, c, data.entry_task, T)
    f = scale * rng.standard_normal(data.y.shape[0])
    return fit, f, rng


def _numpy_loss(fit, f):
    return np.logaddexp(0.0, -fit.y * f)


@pytest.mark.parametrize("scale", [0.3, 3.0, 1e3])
def test_value_derivative_hessian_match_numpy(scale):
    fit, f, rng = _data(scale=scale)
    y, c = fit.y, fit.c
    assert fit.value(f) == pytest.approx(np.dot(c, _numpy_loss(fit, f)), rel=1e-14)
    d_ref = -c * y * expit(-y * f)
    assert_allclose(fit.derivative(f), d_ref, rtol=1e-14, atol=1e-300)
    v, d = fit.value_and_derivative(f)
    assert v == pytest.approx(fit.value(f), rel=1e-14)
    assert_allclose(d, d_ref, rtol=1e-14, atol=1e-300)
    h_ref = c * np.maximum(expit(y * f) * expit(-y * f), 1e-10)
    assert_allclose(fit.hessian(f), h_ref, rtol=1e-13, atol=1e-300)
    for arr in (fit.derivative(f), fit.hessian(f), d):
        assert np.all(np.isfinite(arr))


def test_extreme_margins_do_not_overflow():
    fit, f, _ = _data(scale=1.0)
    f = np.where(np.arange(f.size) % 2 == 0, 1e3, -1e3)
    with np.errstate(all="raise"):  # no warning from numpy either
        value = fit.value(f)
        d = fit.derivative(f)
        fb, d2, g, sig = fit.shifted_derivative(f, np.array([1e3, -1e3, 0.0]))
        curv = fit.bregman(f + 1.0, f)
        curv2 = fit.bregman(fb + 1.0, fb, d2, None, sig)
        dual = fit.dual_value(-d)
    for v in (value, curv, curv2, dual):
        assert np.isfinite(v)
    assert value == pytest.approx(np.dot(fit.c, _numpy_loss(fit, f)), rel=1e-14)
    assert np.all(np.isfinite(d)) and np.all(np.isfinite(d2)) and np.all(np.isfinite(g))
    # a wrongly classified entry at margin 1e3: derivative -c y exactly
    wrong = fit.y * f < 0
    assert_allclose(d[wrong], -fit.c[wrong] * fit.y[wrong], rtol=1e-15)


def test_shifted_derivative_matches_numpy_and_finite_differences():
    fit, f, rng = _data(seed=1)
    task = fit.entry_task
    b = rng.standard_normal(3)
    fb, d, g, sig = fit.shifted_derivative(f, b)
    assert_allclose(fb, f + b[task], rtol=0, atol=0)
    y, c = fit.y, fit.c
    assert_allclose(d, -c * y * expit(-y * fb), rtol=1e-14)
    assert_allclose(g, np.bincount(task, weights=d, minlength=3), rtol=1e-13)
    assert_allclose(sig, expit(-np.abs(y * fb)), rtol=1e-14)  # for bregman
    fb2, d2, none, sig2 = fit.shifted_derivative(f, b, sums=False)
    assert none is None and np.array_equal(fb2, fb) and np.array_equal(d2, d)
    assert np.array_equal(sig2, sig)
    # g is the gradient of the loss in the intercepts (central differences)
    h = 1e-6
    for t in range(3):
        e = np.eye(3)[t] * h
        fd = (fit.value(f + (b + e)[task]) - fit.value(f + (b - e)[task])) / (2 * h)
        assert g[t] == pytest.approx(fd, rel=1e-7, abs=1e-10)


def test_bregman_with_intercepts_matches_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    fit, f, rng = _data(seed=2, n=30, scale=20.0)
    task = fit.entry_task
    f[:4] = [1e3, -1e3, 700.0, -700.0]  # extreme margins
    for size in (1e-8, 1e-3, 0.5, 30.0):
        f_new = f + size * rng.standard_normal(f.size)
        b_new = size * rng.standard_normal(3)
        fb_new = f_new + b_new[task]
        total = mpmath.mpf(0)
        for e in range(f.size):
            u, un = -fit.y[e] * mpmath.mpf(f[e]), -fit.y[e] * mpmath.mpf(fb_new[e])
            sig = 1 / (1 + mpmath.exp(-u))
            term = mpmath.log1p(mpmath.exp(un)) - mpmath.log1p(mpmath.exp(u))
            total += fit.c[e] * (term - sig * (un - u))
        got = fit.bregman(f_new, f, None, b_new)
        assert got == pytest.approx(float(total), rel=1e-9, abs=1e-300)
        # with the expit values of shifted_derivative at f (the FISTA path)
        _, d, _, sig = fit.shifted_derivative(f, np.zeros(3), False)
        assert fit.bregman(f_new, f, d, b_new, sig) == got
        # the same as the unshifted call on the shifted predictions
        assert fit.bregman(fb_new, f) == pytest.approx(got, rel=1e-13, abs=1e-300)


def test_bregman_of_a_huge_margin_change_refuses_the_step():
    """A margin change beyond exp's range (1e3 towards the wrong side): +inf
    (the step search then shortens the step), never a finite underestimate
    or NaN (zero-weight entries included); 1e3 the other way: exact."""
    fit, _, _ = _data(seed=5, n=10)
    f = 2.0 * fit.y  # every entry on its right side, margin -y f = -2
    with np.errstate(all="raise"):
        assert fit.bregman(f - 1e3 * fit.y, f) == np.inf
        right = fit.bregman(f + 1e3 * fit.y, f)
    f_new = f + 1e3 * fit.y
    exact = np.dot(fit.c, _numpy_loss(fit, f_new) - _numpy_loss(fit, f))
    exact -= np.dot(fit.derivative(f), f_new - f)
    assert right == pytest.approx(exact, rel=1e-12)


def test_dual_value_is_the_weighted_entropy():
    fit, f, rng = _data(seed=3)
    theta = -fit.derivative(f)
    nz = fit.c > 0
    u = theta[nz] * fit.y[nz] / fit.c[nz]
    ref = np.dot(fit.c[nz], entr(u) + entr(1 - u))
    assert fit.dual_value(theta) == pytest.approx(ref, rel=1e-13)
    # scaled into [0, 1] and clipped outside
    assert fit.dual_value(0.5 * theta) == pytest.approx(
        np.dot(fit.c[nz], entr(u / 2) + entr(1 - u / 2)), rel=1e-13
    )
    assert fit.dual_value(np.zeros_like(theta)) == 0.0


def test_intercept_step_zeroes_the_intercept_gradient():
    fit, f, _ = _data(seed=4)
    task = fit.entry_task
    b = fit.intercept_step(f, np.zeros(3))
    fb = f + b[task]
    g = np.bincount(task, weights=-fit.c * fit.y * expit(-fit.y * fb), minlength=3)
    assert np.all(np.abs(g) <= 1e-12 * fit.task_c)
    # the loss did not increase in any task (each task's own loss, numpy)
    before = np.bincount(task, weights=fit.c * _numpy_loss(fit, f), minlength=3)
    after = np.bincount(task, weights=fit.c * _numpy_loss(fit, fb), minlength=3)
    assert np.all(after <= before + 1e-15)


def test_squared_loss_has_the_same_fused_interface():
    """The FISTA loop calls ``shifted_derivative`` and ``bregman(..., b_new)``
    on every datafit: the squared loss's are the plain formulas."""
    from skmtl._solvers.datafits import Quadratic

    fit, f, rng = _data(seed=6)
    q = Quadratic(fit.y, fit.c, fit.entry_task, 3)
    b = rng.standard_normal(3)
    fb, d, g, aux = q.shifted_derivative(f, b)
    assert aux is None
    assert_allclose(fb, f + b[fit.entry_task])
    assert_allclose(d, fit.c * (fb - fit.y))
    assert_allclose(g, np.bincount(fit.entry_task, weights=d, minlength=3))
    assert q.shifted_derivative(f, b, sums=False)[2] is None
    f_new = f + rng.standard_normal(f.size)
    r = f_new + b[fit.entry_task] - f
    assert q.bregman(f_new, f, None, b) == pytest.approx(0.5 * np.dot(fit.c, r * r))
    r = fit.y - f - b[fit.entry_task]
    assert q.value(f, b) == pytest.approx(0.5 * np.dot(fit.c, r * r), rel=1e-14)
    theta = rng.standard_normal(f.size) * fit.c
    nz = fit.c > 0
    ref = np.dot(0.3 * theta, fit.y) - 0.5 * np.sum((0.3 * theta[nz]) ** 2 / fit.c[nz])
    assert q.dual_value(theta, 0.3) == pytest.approx(ref, rel=1e-13)


def test_dual_centre_and_mix_give_a_feasible_zero_sum_dual_point():
    """``dual_centre`` is inside the conjugate's domain (``theta y / c`` in
    [0, 1]) with zero per-task sums; ``dual_mix`` gives, per task, the
    smallest move towards it that makes a shifted derivative feasible:
    feasible at ``lam``, not at ``lam - 1e-9`` (where ``lam > 0``), zero
    where the point is already feasible; zero weights ask nothing."""
    fit, f, rng = _data(seed=8, n=80, scale=30.0)  # many derivatives near 0
    task, T, c, y = fit.entry_task, fit.n_tasks, fit.c, fit.y
    centre = fit.dual_centre()
    pos = c > 0
    uc = centre[pos] * y[pos] / c[pos]
    assert np.all((uc >= 0) & (uc <= 1))
    assert_allclose(np.bincount(task, centre, T), 0.0, atol=1e-15)
    theta = -fit.derivative(f)
    a = np.bincount(task, theta, T) / fit.task_c
    shifted = theta - a[task] * c  # zero sums, may leave the domain

    def worst(lam):
        th = (1 - lam[task]) * shifted + lam[task] * centre
        u = np.where(pos, th * y / np.where(pos, c, 1.0), 0.5)
        excess = np.maximum(-u, u - 1.0)
        return np.array([excess[task == t].max() for t in range(T)])

    lam = fit.dual_mix(shifted, centre)
    assert np.all((lam >= 0) & (lam <= 1))
    assert np.all(worst(lam) <= 1e-15)
    assert lam.max() > 0  # the test reaches the mixing
    moved = lam > 1e-8
    assert np.all(worst(np.maximum(lam - 1e-9, 0.0))[moved] > 0)
    assert_allclose(fit.dual_mix(theta, centre), 0.0)  # feasible already


def test_lane_sums_value_with_intercepts_and_scaled_dual_value():
    """The per-task sums over interleaved lanes (on consecutive per-task
    entries, as on per-task data, and on interleaved ones), the loss at
    ``f + b[task]`` and the scaled entropies, against numpy."""
    from skmtl._solvers.datafits import _lane_sums

    rng = np.random.default_rng(7)
    for task in (np.repeat(np.arange(4), [13, 1, 30, 9]), np.arange(53) % 4):
        v = rng.standard_normal(task.size)
        ref = np.bincount(task, weights=v, minlength=5)  # task 4 has no entry
        assert_allclose(_lane_sums(v, task.astype(np.int64), 5), ref, rtol=1e-13,
                        atol=1e-15)  # fmt: skip
    fit, f, rng = _data(seed=8)
    task = fit.entry_task
    b = rng.standard_normal(3)
    ref = np.dot(fit.c, _numpy_loss(fit, f + b[task]))
    assert fit.value(f, b) == pytest.approx(ref, rel=1e-14)
    assert fit.value(f) == pytest.approx(np.dot(fit.c, _numpy_loss(fit, f)), rel=1e-14)
    theta = -fit.derivative(f)
    nz = fit.c > 0
    u = 0.7 * theta[nz] * fit.y[nz] / fit.c[nz]
    ref = np.dot(fit.c[nz], entr(u) + entr(1 - u))
    assert fit.dual_value(theta, 0.7) == pytest.approx(ref, rel=1e-13)
