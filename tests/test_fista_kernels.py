"""The small numba kernels of one FISTA iteration (issue 14: the cost of an
iteration), against numpy formulas written here: the closed-form column
prox of l1 / l21 / sparse group, the restart and extrapolation step, the
step length, the extrapolated state, the per-feature steps, and the
centred, scaled gradient."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skmtl._solvers.design import DesignOperator
from skmtl._solvers.fista import (
    _CentredDesign,
    _column_steps,
    _extrapolated,
    _PartsDesign,
    _ScaledDesign,
    _step_sq,
    _subtract_outer,
)
from skmtl._solvers.fista_loop import gradient_step, momentum_step
from skmtl._solvers.penalties._rows import (
    CODE_L1,
    CODE_L21,
    CODE_SPARSE_GROUP,
    prox_rows,
    row_update,
)
from skmtl._validation import make_task_data


def _coefs(seed, T=7, p=40):
    """Coefficients over many magnitudes, with zero entries and columns."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((T, p)) * 10.0 ** rng.uniform(-2, 2, size=p)
    W[rng.random((T, p)) < 0.2] = 0.0
    W[:, :3] = 0.0
    return W, rng


def _numpy_prox(code, params, W, steps):
    """The column prox written with numpy (steps broadcast per column)."""
    if code == CODE_L1:
        return np.sign(W) * np.maximum(np.abs(W) - params[0] * steps, 0.0)
    if code == CODE_SPARSE_GROUP:
        Z = np.sign(W) * np.maximum(np.abs(W) - params[0] * steps, 0.0)
        lam, mu = params[1], 0.0
    else:
        Z, (lam, mu) = W, params
    norm = np.sqrt((Z * Z).sum(axis=0))
    shrink = np.maximum(norm - lam * steps, 0.0) / (1.0 + mu * steps)
    return Z * np.divide(shrink, norm, out=np.zeros_like(norm), where=norm > 0)


CODES = [
    (CODE_L1, np.array([0.7])),
    (CODE_L21, np.array([1.3, 0.0])),
    (CODE_L21, np.array([1.3, 0.4])),  # elastic-net form lam ||w|| + mu/2 ||w||^2
    (CODE_SPARSE_GROUP, np.array([0.5, 1.1])),
]


@pytest.mark.parametrize("code, params", CODES)
@pytest.mark.parametrize("per_feature", [False, True])
def test_closed_form_prox_matches_numpy(code, params, per_feature):
    W, rng = _coefs(code)
    steps = 10.0 ** rng.uniform(-2, 1, size=W.shape[1]) if per_feature else 0.8
    got = prox_rows(code, params, W, steps)
    ref = _numpy_prox(code, params, W, np.broadcast_to(steps, (W.shape[1],)))
    # (to rounding of each column's largest entry: a soft threshold cancels)
    scale = np.abs(W).max(axis=0) + 1e-300
    assert np.all(np.abs(got - ref) <= 1e-14 * scale)
    # some columns are zeroed, some kept, none of W's zeros is moved
    norms = np.sqrt((got * got).sum(axis=0))
    assert (norms == 0).any() and (norms > 0).any()
    assert np.all(got[W == 0] == 0)


@pytest.mark.parametrize("code, params", CODES)
def test_closed_form_prox_is_the_row_update(code, params):
    """The same numbers, bit for bit, as block coordinate descent's row step
    from ``w`` with a zero gradient and curvature ``1 / step`` (the row loop
    this path replaced), including extreme steps and signed zeros."""
    W, rng = _coefs(10 + code)
    W[0, 5] = -0.0
    steps = 10.0 ** rng.uniform(-3, 3, size=W.shape[1])
    steps[3], steps[4] = 1e-300, 1e300
    got = prox_rows(code, params, W, steps)
    T = W.shape[0]
    for j in range(W.shape[1]):
        ref = np.empty(T)
        row_update(code, params, W[:, j].copy(), np.zeros(T), np.full(T, 1.0 / steps[j]),
                   ref)  # fmt: skip
        assert_array_equal(got[:, j], ref)
        assert_array_equal(np.signbit(got[:, j]), np.signbit(ref))


@pytest.mark.parametrize("restart", [False, True])
def test_momentum_step_matches_numpy(restart):
    rng = np.random.default_rng(3)
    x, x_new = rng.standard_normal((2, 4, 9))
    # y on the far side of x_new (momentum against the step) or behind it
    y = x_new + (0.5 if restart else -0.5) * (x_new - x)
    t = 2.7
    y_next, t_next, beta = momentum_step(y, x_new, x, t)
    assert (np.sum((y - x_new) * (x_new - x)) > 0) == restart
    t_ref = 1.0 if restart else t
    t_next_ref = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t_ref * t_ref))
    assert t_next == pytest.approx(t_next_ref, rel=1e-15)
    assert beta == pytest.approx((t_ref - 1.0) / t_next_ref, rel=1e-15)
    assert_allclose(y_next, x_new + beta * (x_new - x), rtol=1e-15)
    if restart:  # a restart extrapolates nothing
        assert beta == 0.0 and np.array_equal(y_next, x_new)


def test_small_kernels_match_numpy():
    rng = np.random.default_rng(4)
    y, G = rng.standard_normal((2, 3, 7))
    assert_array_equal(gradient_step(y, G, 3.7), y - G / 3.7)  # same operations
    new, old = rng.standard_normal((2, 50))
    assert_allclose(_extrapolated(new, old, 0.37), new + 0.37 * (new - old), rtol=1e-15)
    x_new, y = rng.standard_normal((2, 3, 8))
    b_new, b = rng.standard_normal((2, 3))
    sq = np.sum((x_new - y) ** 2) + np.sum((b_new - b) ** 2)
    assert _step_sq(x_new, y, b_new, b) == pytest.approx(sq, rel=1e-14)
    assert _step_sq(x_new, x_new, b, b) == 0.0
    s = np.array([1e-160, 1e-3, 1.0, 1e3, 1e160])
    assert_allclose(
        _column_steps(0.5, s), np.clip(0.5 * s * s, 1e-300, 1e300), rtol=1e-15
    )
    G, xmean = rng.standard_normal((2, 3, 8))
    sums = rng.standard_normal(3)
    ref = G - xmean * sums[:, None]
    _subtract_outer(G, xmean, sums)
    assert_allclose(G, ref, rtol=1e-15)


@pytest.mark.parametrize("missing", [0.0, 0.3, 0.8])  # "blas" and "rows" modes
def test_centred_scaled_gradient_matches_numpy(missing):
    """``rmatvec`` of the centred, scaled (and stacked) design, with the
    per-task sums passed in or computed, against the dense formula
    ``G[t] = s * sum_{e in t} d_e (x_e - m_t)``; ``matvec`` is its adjoint."""
    rng = np.random.default_rng(5)
    n, p, T = 40, 6, 3
    X = rng.standard_normal((n, p))
    Y = rng.standard_normal((n, T))
    Y[rng.random((n, T)) < missing] = np.nan
    Y[0] = 1.0
    data = make_task_data(Y)
    task, row = data.entry_task, data.entry_row
    op = DesignOperator(X, data.row_ptr, row, task, T)
    xmean = rng.standard_normal((T, p))
    s = 10.0 ** rng.uniform(-1, 1, size=p)
    d = rng.standard_normal(task.size)
    ref = np.zeros((T, p))
    for e in range(task.size):
        ref[task[e]] += d[e] * (X[row[e]] - xmean[task[e]])
    ref *= s
    sums = np.bincount(task, weights=d, minlength=T)
    scaled = _ScaledDesign(_CentredDesign(op, xmean, task), s)
    assert_allclose(scaled.rmatvec(d), ref, rtol=1e-12, atol=1e-12)
    assert_allclose(scaled.rmatvec(d, sums), ref, rtol=1e-12, atol=1e-12)
    parts = _PartsDesign(scaled, 2)
    assert_allclose(parts.rmatvec(d, sums), np.vstack([ref, ref]), rtol=1e-12,
                    atol=1e-12)  # fmt: skip
    U = rng.standard_normal((T, p))
    f = scaled.matvec(U)
    assert np.dot(f, d) == pytest.approx(np.sum(U * ref), rel=1e-12)


@pytest.mark.parametrize("name", ["l1", "l21", "sparse_group", "mcp"])
def test_scaled_prox_of_a_row_penalty_matches_numpy(name):
    """The scaled variable's prox (``_ScaledPenalty``, one numba call for row
    penalties) is ``prox(V s, step s^2) / s`` written with numpy, and a
    penalty that is not a row penalty (or has constant features) takes the
    generic path to the same numbers."""
    from skmtl._solvers.fista import _ScaledPenalty
    from skmtl.penalties import PENALTIES

    pen = PENALTIES[name](alpha=0.3)
    V, rng = _coefs(7, T=5, p=12)
    s = 10.0 ** rng.uniform(-1, 1, size=12)
    scaled = _ScaledPenalty(pen, s)
    assert scaled.row_code == pen.code and scaled.no_smooth
    step = 0.7
    steps = np.clip(step * s * s, 1e-300, 1e300)
    ref = pen.prox_cols(V * s, steps) / s
    assert_allclose(scaled.prox(V, step), ref, rtol=1e-15, atol=1e-300)
    if name != "mcp":  # l1 / l21 / sparse group: the numpy formula too
        params = pen.params
        own = _numpy_prox(pen.code, params, V * s, steps) / s
        assert np.all(np.abs(scaled.prox(V, step) - own) <= 1e-13 * np.abs(V).max())
    s0 = s.copy()
    s0[4] = 0.0  # a constant feature: stays 0, the others as before
    masked = _ScaledPenalty(pen, s0).prox(V, step)
    assert np.all(masked[:, 4] == 0.0)
    keep = np.arange(12) != 4
    assert_allclose(masked[:, keep], ref[:, keep], rtol=1e-15, atol=1e-300)


def test_scaled_trace_value_at_the_prox_result_needs_no_svd(monkeypatch):
    """With a scalar scale, the scaled trace penalty's value at the array
    its prox just returned comes from the prox's remembered singular values
    (no SVD), equal to the trace norm of ``U s`` from numpy's SVD; any other
    array (a copy included) is computed from scratch."""
    from skmtl._solvers.fista import _ScaledPenalty
    from skmtl._solvers.penalties import _spectral
    from skmtl.penalties import PENALTIES

    pen = PENALTIES["trace"](alpha=0.3)
    rng = np.random.default_rng(3)
    V = rng.standard_normal((20, 50)) @ np.diag(np.linspace(2.0, 0.1, 50))
    scaled = _ScaledPenalty(pen, 0.37)
    U = scaled.prox(V, 75.0)  # threshold 3.1: 8 of 20 values kept
    expected = 0.3 * np.linalg.svd(U * 0.37, compute_uv=False).sum()
    assert 0 < np.linalg.matrix_rank(U) < 20  # values were cut

    def no_svd(W):
        raise AssertionError("the trace norm was computed again")

    monkeypatch.setattr(_spectral, "trace_norm", no_svd)
    assert scaled.value(U) == pytest.approx(expected, rel=1e-14)
    monkeypatch.undo()
    assert scaled.value(U.copy()) == pytest.approx(expected, rel=1e-14)
    other = rng.standard_normal((20, 50))
    assert scaled.value(other) == pytest.approx(
        0.3 * np.linalg.svd(other * 0.37, compute_uv=False).sum(), rel=1e-14
    )


class _FakeSmooth:
    """A smooth part whose gradient is a given array (the loop's checks)."""

    name, g_scale, gap_scale = "fake", 1.0, 1.0

    def __init__(self, G):
        self.G = G

    def gradient(self, y, ys):
        return self.G, None

    def trial(self, x_new, y, ctx, L):
        return None, 0.0, 0.0  # a zero step: accepted, converged

    def extrapolate(self, new, old, beta):
        return None

    @staticmethod
    def check_due(it, gap_freq):
        return False


class _Identity:
    convex = True

    def smooth_grad(self, W):
        return None

    def prox(self, V, step):
        return np.zeros_like(V)


def test_loop_gradient_check_raises_on_nan_only():
    """The loop's finiteness check of the gradient (``all_finite``, one
    pass): a NaN or inf entry raises a clear ValueError; finite entries
    whose sum overflows do not (and warn nothing)."""
    from skmtl._solvers.fista_loop import run_fista

    x = np.zeros((2, 3))
    for bad in (np.nan, np.inf):
        G = np.ones((2, 3))
        G[1, 2] = bad
        with pytest.raises(ValueError, match="gradient is not finite"):
            run_fista(_FakeSmooth(G), _Identity(), x, None, 1.0, max_iter=3,
                      tol=1e-4, gap_freq=10, use_gap=False)  # fmt: skip
    huge = np.full((2, 3), 1e308)  # sum: inf; every entry finite
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = run_fista(_FakeSmooth(huge), _Identity(), x, None, 1.0, max_iter=3,
                        tol=1e-4, gap_freq=10, use_gap=False)  # fmt: skip
    assert run.converged and run.n_iter == 1
