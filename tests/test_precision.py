"""High-precision fits (issue 14): FISTA converges at tight tolerances (trace,
logistic l21 / sparse-group, graph), the graph penalty without an l1 part is
an exact linear solve, and the step test's curvature is computed without
cancellation."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skmtl import MultiTaskLinearRegression, MultiTaskLogisticRegression
from skmtl._graph import graph_laplacian, mean_graph
from skmtl._solvers.datafits import Logistic, Quadratic
from skmtl._solvers.dispatch import choose_solver
from skmtl._solvers.penalties import make_penalty

from ._reference import cvxpy_solve
from .conftest import make_problem

CHAIN = np.diag(np.ones(3), 1) + np.diag(np.ones(3), -1)


def _binary(Y):
    return np.where(np.isnan(Y), np.nan, (Y > np.nanmedian(Y, axis=0)).astype(float))


def _predictions(X, W, b):
    return X @ W.T + b


def _fit_quietly(model, X, Y, sample_weight=None):
    """Fit, failing on a ConvergenceWarning (the fits must converge)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return model.fit(X, Y, sample_weight=sample_weight)


# --------------------------------------------- tight tolerances against cvxpy
@pytest.mark.parametrize(
    "loss, penalty",
    [
        ("squared", "trace"),
        ("logistic", "trace"),
        ("logistic", "l21"),
        ("logistic", "sparse_group"),
        ("logistic", "graph"),
    ],
)
def test_fista_converges_at_tight_tol_against_cvxpy(loss, penalty):
    """tol=1e-12 is reached well within max_iter (it used to hit 200000 for
    trace and logistic penalties: the step test drowned in rounding error),
    with missing labels, intercepts and sample weights; the solution is
    cvxpy's."""
    pytest.importorskip("cvxpy")
    X, Y = make_problem(n=60, p=6, T=4, missing=0.3, seed=3)
    sw = np.random.default_rng(4).uniform(0.5, 2.0, size=60)
    alpha = 0.05 if loss == "squared" else 0.02
    kw = dict(penalty=penalty, alpha=alpha, l1_ratio=0.5, solver="fista")
    if penalty == "graph":
        kw.update(l1_ratio=0.3, task_graph=CHAIN)
    if loss == "squared":
        model = MultiTaskLinearRegression(**kw, tol=1e-12, max_iter=20_000)
        Yfit = Yref = Y
    else:
        model = MultiTaskLogisticRegression(**kw, tol=1e-12, max_iter=20_000)
        Yfit = _binary(Y)
        Yref = np.where(np.isnan(Yfit), np.nan, 2 * Yfit - 1)
    _fit_quietly(model, X, Yfit, sw)
    assert model.n_iter_ < 5_000
    lap = graph_laplacian(CHAIN) if penalty == "graph" else None
    W, b, _ = cvxpy_solve(
        X, Yref, penalty, alpha, l1_ratio=kw["l1_ratio"], sample_weight=sw,
        laplacian=lap, loss=loss,
    )  # fmt: skip
    ref = _predictions(X, W, b)
    ours = _predictions(X, model.coef_, model.intercept_)
    # cvxpy (CLARABEL at 1e-10) is the less accurate of the two
    assert np.abs(ours - ref).max() <= 1e-6 * np.abs(ref).max()


@pytest.mark.parametrize("penalty", ["l21", "trace"])
def test_logistic_gap_reaches_every_tol(penalty):
    """Every tol down to 1e-12 is reached (a duality gap at the requested
    level, no ConvergenceWarning)."""
    X, Y = make_problem(n=80, p=8, T=3, missing=0.2, seed=5)
    B = _binary(Y)
    gaps = []
    for tol in (1e-4, 1e-8, 1e-12):
        model = MultiTaskLogisticRegression(penalty, 0.02, tol=tol, max_iter=20_000)
        _fit_quietly(model, X, B)
        gaps.append(model.dual_gap_)
        assert model.dual_gap_ <= tol * 3 * np.log(2.0)
    assert gaps[-1] <= gaps[0]


# ------------------------------------------------------- graph: exact solve
def _graph_closed_form(X, Y, q, L, sample_weight, task_weights):
    """Minimiser of sum_t w_t / n_t sum_i s_i / 2 (y - x w_t - b_t)^2 +
    q / 2 tr(W^T L W), from the dense (T p) x (T p) normal equations."""
    n, p = X.shape
    T = Y.shape[1]
    M = q * np.kron(L, np.eye(p))
    r = np.zeros(T * p)
    means = []
    for t in range(T):
        m = ~np.isnan(Y[:, t])
        c = task_weights[t] * sample_weight[m] / sample_weight[m].sum()
        xbar = c @ X[m] / c.sum()
        ybar = c @ Y[m, t] / c.sum()
        Xc = X[m] - xbar
        M[t * p : (t + 1) * p, t * p : (t + 1) * p] += Xc.T @ (c[:, None] * Xc)
        r[t * p : (t + 1) * p] = Xc.T @ (c * (Y[m, t] - ybar))
        means.append((xbar, ybar))
    W = np.linalg.solve(M, r).reshape(T, p)
    b = np.array([ybar - xbar @ W[t] for t, (xbar, ybar) in enumerate(means)])
    return W, b


@pytest.mark.parametrize("graph", [None, CHAIN])
@pytest.mark.parametrize("missing", [0.0, 0.3])
def test_graph_without_l1_is_an_exact_solve(graph, missing):
    X, Y = make_problem(n=50, p=5, T=4, missing=missing, seed=6)
    sw = np.random.default_rng(7).uniform(0.5, 2.0, size=50)
    tw = np.array([1.0, 2.0, 0.5, 1.0])
    alpha = 0.3
    model = MultiTaskLinearRegression(
        "graph", alpha, task_graph=graph, task_weights=tw
    ).fit(X, Y, sample_weight=sw)
    assert model.solver_ == "exact"
    L = graph_laplacian(mean_graph(4) if graph is None else graph)
    W, b = _graph_closed_form(X, Y, alpha, L, sw, tw)
    ref = _predictions(X, W, b)
    ours = _predictions(X, model.coef_, model.intercept_)
    assert np.abs(ours - ref).max() <= 1e-10 * np.abs(ref).max()
    # FISTA reaches the same solution at a tight tol (it used to stop with
    # predictions a few percent off)
    fista = MultiTaskLinearRegression(
        "graph", alpha, task_graph=graph, task_weights=tw, solver="fista",
        tol=1e-12, max_iter=20_000,
    )  # fmt: skip
    _fit_quietly(fista, X, Y, sw)
    ours = _predictions(X, fista.coef_, fista.intercept_)
    assert np.abs(ours - ref).max() <= 1e-8 * np.abs(ref).max()


def test_graph_exact_without_intercept_and_on_a_path():
    X, Y = make_problem(n=40, p=4, T=3, missing=0.2, seed=8)
    L = graph_laplacian(mean_graph(3))
    from skmtl.model_selection import regularization_path

    # without intercept: the closed form on uncentred data
    model = MultiTaskLinearRegression("graph", 0.5, fit_intercept=False).fit(X, Y)
    p = X.shape[1]
    M = 0.5 * np.kron(L, np.eye(p))
    r = np.zeros(3 * p)
    for t in range(3):
        m = ~np.isnan(Y[:, t])
        M[t * p : (t + 1) * p, t * p : (t + 1) * p] += X[m].T @ X[m] / m.sum()
        r[t * p : (t + 1) * p] = X[m].T @ Y[m, t] / m.sum()
    assert_allclose(model.coef_, np.linalg.solve(M, r).reshape(3, p), rtol=1e-9)
    assert_allclose(model.intercept_, 0.0)
    path = regularization_path(X, Y, "graph", alphas=[1.0, 0.1], tol=1e-10)
    for k, alpha in enumerate([1.0, 0.1]):
        single = MultiTaskLinearRegression("graph", alpha).fit(X, Y)
        assert_allclose(path.coefs[k], single.coef_, rtol=1e-8, atol=1e-10)


def test_graph_with_l1_at_tight_tol_matches_cvxpy():
    pytest.importorskip("cvxpy")
    X, Y = make_problem(n=50, p=5, T=4, missing=0.3, seed=9)
    model = MultiTaskLinearRegression(
        "graph", 0.1, l1_ratio=0.3, task_graph=CHAIN, tol=1e-12, max_iter=20_000
    )
    _fit_quietly(model, X, Y)
    assert model.solver_ == "fista"
    W, b, _ = cvxpy_solve(
        X, Y, "graph", 0.1, l1_ratio=0.3, laplacian=graph_laplacian(CHAIN)
    )
    ref = _predictions(X, W, b)
    ours = _predictions(X, model.coef_, model.intercept_)
    assert np.abs(ours - ref).max() <= 1e-6 * np.abs(ref).max()


# ------------------------------------------------------------ solver choice
def _datafit(cls):
    y = np.array([1.0, -1.0, 1.0])
    return cls(y, np.ones(3) / 3, np.zeros(3, dtype=np.int64), 1)


@pytest.mark.parametrize(
    "loss, penalty, params, gram, expected",
    [
        (Quadratic, "graph", {"l1_ratio": 0.0}, True, "exact"),
        (Quadratic, "graph", {"l1_ratio": 0.0}, False, "fista"),
        (Quadratic, "graph", {"l1_ratio": 0.3}, True, "fista"),
        (Logistic, "graph", {"l1_ratio": 0.0}, True, "fista"),
        (Quadratic, "trace", {}, True, "fista"),
        (Logistic, "trace", {}, True, "fista"),
        (Quadratic, "l21", {}, True, "bcd"),
    ],
)
def test_auto_solver_choice(loss, penalty, params, gram, expected):
    pen = make_penalty(penalty, 0.1, 3, params)
    assert choose_solver("auto", _datafit(loss), pen, gram=gram) == expected


def test_exact_solver_refuses_what_it_cannot_solve():
    X, Y = make_problem(n=30, p=4, T=3)
    with pytest.raises(ValueError, match="quadratic penalty"):
        MultiTaskLinearRegression("graph", 0.1, l1_ratio=0.3, solver="exact").fit(X, Y)
    with pytest.raises(ValueError, match="quadratic penalty"):
        MultiTaskLinearRegression("trace", 0.1, solver="exact").fit(X, Y)
    with pytest.raises(ValueError, match="dense X"):
        MultiTaskLinearRegression("graph", 0.1, solver="exact").fit(sp.csr_array(X), Y)
    # sparse X: auto falls back to FISTA, same solution
    a = MultiTaskLinearRegression("graph", 0.1, tol=1e-12, max_iter=20_000)
    a.fit(sp.csr_array(X), Y)
    b = MultiTaskLinearRegression("graph", 0.1).fit(X, Y)
    assert (a.solver_, b.solver_) == ("fista", "exact")
    assert_allclose(a.coef_, b.coef_, rtol=1e-7, atol=1e-9)


# ------------------------------------------- curvature along a step (Bregman)
def test_logistic_bregman_matches_high_precision_reference():
    """``F(f') - F(f) - F'(f).(f' - f)`` against mpmath at 50 digits, for
    steps from 1e-9 to 10 and margins up to 40 (both Taylor and closed-form
    branches, both signs of the margin)."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    rng = np.random.default_rng(0)
    n = 40
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    c = rng.uniform(0.5, 2.0, size=n) / n
    f = rng.uniform(-40, 40, size=n)
    df = Logistic(y, c, np.zeros(n, dtype=np.int64), 1)

    def exact(f_new):
        total = mpmath.mpf(0)
        for e in range(n):
            u, un = mpmath.mpf(-y[e] * f[e]), -y[e] * mpmath.mpf(f_new[e])
            sp_u = mpmath.log1p(mpmath.exp(u))
            sig = 1 / (1 + mpmath.exp(-u))
            total += c[e] * (mpmath.log1p(mpmath.exp(un)) - sp_u - sig * (un - u))
        return float(total)

    for size in (1e-9, 1e-5, 1e-2, 0.3, 10.0):
        f_new = f + size * rng.standard_normal(n)
        got = df.bregman(f_new, f, df.derivative(f))
        assert got == pytest.approx(exact(f_new), rel=1e-7, abs=1e-300)
        assert df.bregman(f_new, f) == pytest.approx(got, rel=1e-12)
    q = Quadratic(y, c, np.zeros(n, dtype=np.int64), 1)
    f_new = f + 1e-3
    assert q.bregman(f_new, f) == pytest.approx(0.5 * np.sum(c) * 1e-6, rel=1e-9)


def test_graph_smooth_bregman_is_the_quadratic_form():
    pen = make_penalty("graph", 0.4, 4, {"l1_ratio": 0.25, "task_graph": CHAIN})
    rng = np.random.default_rng(1)
    W, V = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    direct = (
        pen.smooth_value(V) - pen.smooth_value(W) - np.sum(pen.smooth_grad(W) * (V - W))
    )
    assert pen.smooth_bregman(V, W) == pytest.approx(direct, rel=1e-10)
    L = graph_laplacian(CHAIN)
    D = V - W
    assert pen.smooth_bregman(V, W) == pytest.approx(0.3 / 2 * np.sum(D * (L @ D)))


# ------------------------------------------- logistic: proximal Newton by default
def _sparse_classification(n=80, p=60, T=3, missing=0.25, seed=10):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    W = np.zeros((T, p))
    W[:, :3] = rng.normal(size=(T, 3)) * 2
    B = (X @ W.T + 0.5 * rng.normal(size=(n, T)) > 0).astype(float)
    if missing:
        M = rng.random((n, T)) < missing
        M[0] = False
        B[M] = np.nan
    return X, B


@pytest.mark.parametrize("penalty", ["l21", "sparse_group", "l1"])
def test_auto_logistic_is_prox_newton_with_working_sets(penalty):
    """A sparse solution: ``auto`` runs proximal Newton on working sets much
    smaller than p, in few Newton iterations, to cvxpy's solution (missing
    labels, intercepts, sample weights)."""
    pytest.importorskip("cvxpy")
    from skmtl._solvers import prox_newton

    X, B = _sparse_classification()
    sw = np.random.default_rng(11).uniform(0.5, 2.0, size=X.shape[0])
    sizes = []
    original = prox_newton.working_set

    def spy(W, G, pen):
        ws = original(W, G, pen)
        sizes.append(X.shape[1] if ws is None else ws.size)
        return ws

    prox_newton.working_set = spy
    try:
        model = MultiTaskLogisticRegression(penalty, 0.1, l1_ratio=0.5, tol=1e-10)
        _fit_quietly(model, X, B, sw)
    finally:
        prox_newton.working_set = original
    assert model.solver_ == "prox_newton"
    assert model.n_iter_ < 30
    assert max(sizes) < X.shape[1]
    assert np.count_nonzero(np.any(model.coef_ != 0, axis=0)) < X.shape[1] // 2
    Ys = np.where(np.isnan(B), np.nan, 2 * B - 1)
    W, b, _ = cvxpy_solve(
        X, Ys, penalty, 0.1, l1_ratio=0.5, sample_weight=sw, loss="logistic"
    )
    ref = _predictions(X, W, b)
    ours = _predictions(X, model.coef_, model.intercept_)
    assert np.abs(ours - ref).max() <= 1e-6 * np.abs(ref).max()


def test_auto_logistic_hands_over_to_fista_on_a_dense_support():
    """Every feature active (``k^2 >= 50 p``): ``auto`` hands over to
    FISTA, and reaches FISTA's solution; a small support stays Newton."""
    X, B = _sparse_classification(n=300, p=100, missing=0.0, seed=12)
    X[:, 3:] += 0.5 * (2 * B[:, :1] - 1)  # every feature informative
    auto = MultiTaskLogisticRegression("l21", 0.002, tol=1e-11).fit(X, B)
    assert auto.solver_ in ("fista", "prox_newton+fista")
    fista = MultiTaskLogisticRegression("l21", 0.002, solver="fista", tol=1e-11)
    fista.fit(X, B)
    assert_allclose(auto.coef_, fista.coef_, rtol=1e-6, atol=1e-8)
    # per-task rows (one label per row, 4 tasks), p = 12: Newton all the way
    X4, B4 = _sparse_classification(n=160, p=12, T=4, missing=0.0, seed=13)
    Bp = np.full_like(B4, np.nan)
    for t in range(4):
        Bp[t::4, t] = B4[t::4, t]
    assert MultiTaskLogisticRegression("l21", 0.002).fit(X4, Bp).solver_ == (
        "prox_newton"
    )


def test_prox_newton_zero_sample_weight_equals_dropping_rows():
    """Entries of weight 0 have no Newton weight: their working response
    must not turn into 0/0 (the default logistic solver is Newton now)."""
    X, B = _sparse_classification(n=60, p=8, missing=0.0, seed=14)
    sw = np.ones(60)
    sw[::4] = 0.0
    a = MultiTaskLogisticRegression("l21", 0.01, solver="prox_newton", tol=1e-10)
    a.fit(X, B, sample_weight=sw)
    b = MultiTaskLogisticRegression("l21", 0.01, solver="prox_newton", tol=1e-10)
    b.fit(X[sw > 0], B[sw > 0])
    assert np.all(np.isfinite(a.coef_))
    assert_allclose(a.coef_, b.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(a.intercept_, b.intercept_, rtol=1e-6, atol=1e-8)


# ------------------------------------------- the duality gap is a certificate
def _logistic_objective(X, Ypm, W, b, sw, penalty, alpha, l1_ratio):
    """The DESIGN objective, written here: per task, the sample-weighted mean
    logistic loss over labelled rows, plus the penalty."""
    out = 0.0
    for t in range(Ypm.shape[1]):
        m = ~np.isnan(Ypm[:, t])
        f = X[m] @ W[t] + b[t]
        out += np.sum(sw[m] * np.logaddexp(0.0, -Ypm[m, t] * f)) / sw[m].sum()
    col = np.sqrt((W**2).sum(axis=0)).sum()
    if penalty == "l21":
        return out + alpha * col
    if penalty == "sparse_group":
        return out + alpha * (l1_ratio * np.abs(W).sum() + (1 - l1_ratio) * col)
    return out + alpha * np.linalg.svd(W, compute_uv=False).sum()


@pytest.mark.parametrize("penalty", ["l21", "sparse_group", "trace"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_logistic_fista_gap_bounds_the_suboptimality(penalty, fit_intercept):
    """The gap FISTA stops on (its dual point built from the last gradient,
    with no extra product) is a true bound: ``dual_gap_ >= primal - p*`` at
    every tolerance, with missing labels, sample weights, with and without
    intercepts; ``p*`` from cvxpy and from a very tight fit (the lower of
    the two objectives, evaluated by the test's own formula)."""
    pytest.importorskip("cvxpy")
    X, Y = make_problem(n=70, p=7, T=3, missing=0.3, seed=11)
    # nearly separable tasks: many entries have derivatives near 0, where
    # the shifted dual point leaves the conjugate's domain
    X = 3.0 * X
    B = np.where(np.isnan(Y), np.nan, (Y > np.nanquantile(Y, 0.2, axis=0)) * 1.0)
    Ypm = np.where(np.isnan(B), np.nan, 2 * B - 1)
    sw = np.random.default_rng(12).uniform(0.2, 3.0, size=X.shape[0])
    alpha = 0.01
    kw = dict(penalty=penalty, alpha=alpha, l1_ratio=0.5, solver="fista",
              fit_intercept=fit_intercept)  # fmt: skip

    def obj(m):
        b = m.intercept_ if fit_intercept else np.zeros(Y.shape[1])
        return _logistic_objective(X, Ypm, m.coef_, b, sw, penalty, alpha, 0.5)

    tight = _fit_quietly(
        MultiTaskLogisticRegression(**kw, tol=1e-13, max_iter=50_000), X, B, sw
    )
    W, b, _ = cvxpy_solve(
        X, Ypm, penalty, alpha, l1_ratio=0.5, sample_weight=sw,
        fit_intercept=fit_intercept, loss="logistic",
    )  # fmt: skip
    b = b if fit_intercept else np.zeros(Y.shape[1])
    p_star = min(obj(tight), _logistic_objective(X, Ypm, W, b, sw, penalty, alpha, 0.5))
    checked = 0
    for tol in (1e-1, 1e-2, 1e-3, 1e-4, 1e-6):
        model = MultiTaskLogisticRegression(**kw, tol=tol, max_iter=50_000)
        _fit_quietly(model, X, B, sw)
        sub = obj(model) - p_star
        assert model.dual_gap_ >= sub - 1e-12, (tol, model.dual_gap_, sub)
        checked += sub > 1e-8
    assert checked >= 2  # the bound was tested where it is not trivial


@pytest.mark.parametrize("penalty", ["l21", "sparse_group", "trace"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fista_first_gap_far_from_the_solution_is_a_bound(penalty, fit_intercept):
    """The in-loop gap from a far starting point (``gap_freq=2``, a huge
    ``tol``: FISTA stops at its first check, whose dual point is the
    derivative after one step from the start, with per-task sums that the
    dual point must shift away, and margins near 0 / 1 that the shift can
    push out of the logistic conjugate's domain): still ``gap >= primal - p*``, with ``p*``
    from a tight fit checked against cvxpy."""
    pytest.importorskip("cvxpy")
    from skmtl._solvers.fista import solve_fista
    from skmtl._validation import make_task_data
    from skmtl.linear_model._setup import make_problem as setup_problem

    X, Y = make_problem(n=60, p=6, T=3, missing=0.3, seed=21)
    # unbalanced classes: a dual point whose per-task sums are not 0 (the
    # intercept's constraint) would certify the problem without intercept,
    # far above p*
    B = np.where(np.isnan(Y), np.nan, (Y > np.nanquantile(Y, 0.2, axis=0)) * 1.0)
    Ypm = np.where(np.isnan(B), np.nan, 2 * B - 1)
    sw = np.random.default_rng(22).uniform(0.2, 3.0, size=X.shape[0])
    alpha, T, p = 0.05, Y.shape[1], X.shape[1]
    Xf, op, df = setup_problem(X, make_task_data(Ypm, sw), np.ones(T), "logistic")
    pen = make_penalty(penalty, alpha, T, {"l1_ratio": 0.5})

    def obj(W, b):
        b = b if fit_intercept else np.zeros(T)
        return _logistic_objective(X, Ypm, W, b, sw, penalty, alpha, 0.5)

    W, b, _ = cvxpy_solve(
        X, Ypm, penalty, alpha, l1_ratio=0.5, sample_weight=sw,
        fit_intercept=fit_intercept, loss="logistic",
    )  # fmt: skip
    p_star = obj(W, b)
    rng = np.random.default_rng(23)
    for scale in (0.0, 0.1, 1.0, 5.0):
        W0 = scale * rng.standard_normal((T, p))
        b0 = 3.0 * scale * rng.standard_normal(T)
        res = solve_fista(
            op, df, pen, W0, b0, fit_intercept=fit_intercept, tol=1e10,
            gap_freq=2, max_iter=10,
        )  # fmt: skip
        assert res.n_iter == 2 and res.converged
        sub = obj(res.coef, res.intercept) - p_star
        assert sub > 1e-3  # far from the solution: a bound worth testing
        assert res.gap >= sub - 1e-9 * abs(p_star), (scale, res.gap, sub)


def test_sparse_group_dual_norm_against_root_finding():
    """The sparse-group dual norm (the gap's scaling; it skips columns that
    cannot hold the maximum) against a per-column root of ``||ST(v, nu a)||
    = nu b`` found by scipy's brentq, with tied and zero columns."""
    from scipy.optimize import brentq

    def column(v, a, b):
        if not np.any(v):
            return 0.0
        if a == 0:
            return np.linalg.norm(v) / b
        if b == 0:
            return np.abs(v).max() / a

        def excess(nu):
            return np.linalg.norm(np.maximum(np.abs(v) - nu * a, 0.0)) - nu * b

        return brentq(excess, 0.0, np.abs(v).max() / a, xtol=1e-300, rtol=1e-15)

    rng = np.random.default_rng(31)
    for trial in range(12):
        V = rng.standard_normal((5, 30)) * 10.0 ** rng.integers(-3, 4)
        if trial % 3 == 0:
            V[:, :12] = V[:, :1] * rng.choice([-1.0, 1.0], size=12)  # ties
        V[:, rng.random(30) < 0.3] = 0.0
        for l1_ratio in (0.0, 0.2, 0.5, 0.9, 1.0):
            pen = make_penalty("sparse_group", 1.0, 5, {"l1_ratio": l1_ratio})
            ref = max(column(V[:, j], l1_ratio, 1 - l1_ratio) for j in range(30))
            assert pen.dual_norm(V) == pytest.approx(ref, rel=1e-12)
