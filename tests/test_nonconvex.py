"""Non-convex row penalties: "mcp", "scad", "capped_l1"."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.special import expit

from skmtl import MultiTaskLinearRegression, MultiTaskLogisticRegression
from skmtl.model_selection import regularization_path

from .conftest import make_problem

NONCONVEX = ["mcp", "scad", "capped_l1"]
GAMMA = {"mcp": 3.0, "scad": 3.7, "capped_l1": 0.5}
TIGHT = dict(tol=1e-10, max_iter=100_000)


def _gradient(X, Y, W, b, loss="squared"):
    """Gradient of the datafit (DESIGN scaling), written from scratch."""
    G = np.zeros_like(W)
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        f = X[m] @ W[t] + b[t]
        if loss == "squared":
            d = f - Y[m, t]
        else:
            y = Y[m, t]
            d = -y * expit(-y * f)
        G[t] = X[m].T @ d / m.sum()
        assert abs(d.mean()) < 1e-7  # the intercept is stationary
    return G


def _stationarity(name, W, G, alpha, gamma):
    """Largest distance of -G[:, j] to the (Clarke) subdifferential, from the
    penalties' definitions."""
    worst = 0.0
    for j in range(W.shape[1]):
        w, g = W[:, j], G[:, j]
        u = np.linalg.norm(w)
        if name in ("mcp", "scad"):
            if u == 0:
                d = max(np.linalg.norm(g) - alpha, 0.0)
            else:
                if name == "mcp":
                    slope = alpha - u / gamma if u < gamma * alpha else 0.0
                elif u <= alpha:
                    slope = alpha
                elif u <= gamma * alpha:
                    slope = (gamma * alpha - u) / (gamma - 1)
                else:
                    slope = 0.0
                d = np.linalg.norm(g + slope * w / u)
        else:
            s = np.abs(w).sum()
            if s > gamma:
                d = np.linalg.norm(g)
            else:
                z = np.where(
                    w != 0, g + alpha * np.sign(w), np.maximum(np.abs(g) - alpha, 0)
                )
                d = np.linalg.norm(z)
                if s == gamma:
                    d = min(d, np.linalg.norm(g))
        worst = max(worst, d)
    return worst


@pytest.mark.parametrize("solver", ["bcd", "fista"])
@pytest.mark.parametrize("name", NONCONVEX)
def test_stationary_with_missing_labels(name, solver):
    X, Y = make_problem(n=80, p=10, T=3, missing=0.3, seed=2)
    alpha, gamma = 0.1, GAMMA[name]
    model = MultiTaskLinearRegression(
        name, alpha, gamma=gamma, solver=solver, **TIGHT
    ).fit(X, Y)
    assert np.isnan(model.dual_gap_)
    G = _gradient(X, Y, model.coef_, model.intercept_)
    assert _stationarity(name, model.coef_, G, alpha, gamma) < 1e-6
    assert 0 < np.count_nonzero(np.any(model.coef_ != 0, axis=0)) < X.shape[1]


@pytest.mark.parametrize("name", NONCONVEX)
def test_logistic_stationary(name):
    X, Y = make_problem(n=120, p=8, T=3, missing=0.2, seed=3)
    B = np.where(np.isnan(Y), np.nan, (Y > np.nanmedian(Y, axis=0)).astype(float))
    alpha, gamma = 0.03, GAMMA[name]
    model = MultiTaskLogisticRegression(name, alpha, gamma=gamma, **TIGHT).fit(X, B)
    Ysign = np.where(np.isnan(B), np.nan, 2 * B - 1)
    G = _gradient(X, Ysign, model.coef_, model.intercept_, loss="logistic")
    assert _stationarity(name, model.coef_, G, alpha, gamma) < 1e-6


def test_mcp_matches_skglm():
    skglm = pytest.importorskip("skglm")
    from skglm.datafits import QuadraticMultiTask
    from skglm.penalties import BlockMCPenalty
    from skglm.solvers import MultiTaskBCD

    rng = np.random.default_rng(0)
    n, p, T = 200, 10, 4
    X = rng.normal(size=(n, p))
    W_true = np.zeros((T, p))
    W_true[:, :3] = rng.normal(size=(T, 3))
    Y = X @ W_true.T + 0.3 * rng.normal(size=(n, T))
    alpha, gamma = 0.1, 3.0  # gamma > 1 / lambda_min(X^T X / n): unique solution
    ours = MultiTaskLinearRegression(
        "mcp", alpha, gamma=gamma, fit_intercept=False, **TIGHT
    ).fit(X, Y)
    ref = skglm.GeneralizedLinearEstimator(
        QuadraticMultiTask(),
        BlockMCPenalty(alpha, gamma),
        MultiTaskBCD(tol=1e-12, max_iter=1000, fit_intercept=False),
    ).fit(X, Y)
    coef = np.asarray(ref.coef_)
    coef = coef if coef.shape == (T, p) else coef.T
    assert_allclose(ours.coef_, coef, atol=1e-7)


def test_less_bias_than_l21_at_equal_support():
    """On a planted support, at the weakest alpha whose support is exactly the
    true one, MCP and SCAD shrink the kept coefficients less than l21."""
    rng = np.random.default_rng(4)
    n, p, T = 150, 20, 4
    X = rng.normal(size=(n, p))
    W_true = np.zeros((T, p))
    W_true[:, :4] = rng.choice([-1, 1], size=(T, 4)) * rng.uniform(1, 2, size=(T, 4))
    Y = X @ W_true.T + 0.5 * rng.normal(size=(n, T))
    truth = np.arange(p) < 4

    def exact_support_fit(name, **kw):
        for alpha in np.geomspace(0.01, 2.0, 60):  # weakest first
            m = MultiTaskLinearRegression(name, alpha, tol=1e-8, **kw).fit(X, Y)
            if np.array_equal(np.any(m.coef_ != 0, axis=0), truth):
                return m
        raise AssertionError(f"{name}: no alpha gives the true support")

    l21 = exact_support_fit("l21")
    err_l21 = np.linalg.norm(l21.coef_ - W_true)
    for name in ("mcp", "scad"):
        model = exact_support_fit(name)
        assert np.linalg.norm(model.coef_ - W_true) < 0.6 * err_l21


@pytest.mark.parametrize("name", NONCONVEX)
def test_path_equals_cold_fits(name):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(120, 8))
    Y = X[:, :3] @ rng.normal(size=(3, 3)) + 0.3 * rng.normal(size=(120, 3))
    Y[rng.random(Y.shape) < 0.2] = np.nan
    gamma = GAMMA[name]
    path = regularization_path(X, Y, name, n_alphas=5, eps=0.05, gamma=gamma, **TIGHT)
    assert np.abs(path.coefs[0]).max() <= 1e-12
    for k, alpha in enumerate(path.alphas):
        cold = MultiTaskLinearRegression(name, alpha, gamma=gamma, **TIGHT).fit(X, Y)
        assert_allclose(path.coefs[k], cold.coef_, atol=1e-7)


@pytest.mark.parametrize("name", NONCONVEX)
def test_sparse_X_weights_and_warm_start(name):
    X, Y = make_problem(n=80, p=10, T=3, missing=0.3, seed=6)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, size=80)
    kw = dict(gamma=GAMMA[name], task_weights=[1.0, 0.5, 2.0], **TIGHT)
    dense = MultiTaskLinearRegression(name, 0.1, **kw).fit(X, Y, sample_weight=sw)
    sparse = MultiTaskLinearRegression(name, 0.1, **kw).fit(
        sp.csc_array(X), Y, sample_weight=sw
    )
    assert_allclose(sparse.coef_, dense.coef_, atol=1e-7)
    warm = MultiTaskLinearRegression(name, 0.1, warm_start=True, **kw)
    warm.fit(X, Y, sample_weight=sw)
    first = warm.n_iter_
    warm.fit(X, Y, sample_weight=sw)
    assert warm.n_iter_ <= first
    assert_allclose(warm.coef_, dense.coef_, atol=1e-7)


def test_gamma_validated():
    X, Y = make_problem(n=30, p=4, T=2)
    with pytest.raises(ValueError, match="gamma must be > 2"):
        MultiTaskLinearRegression("scad", 0.1, gamma=1.5).fit(X, Y)
    with pytest.raises(ValueError, match="gamma"):
        MultiTaskLinearRegression("mcp", 0.1, gamma=0.0).fit(X, Y)


def test_row_update_is_the_exact_prox():
    """The numba block step equals a brute-force 1-D minimisation of
    1/2 ||x - z||^2 + s r(||x||) along the ray of z (radial penalties) and of
    the capped l1 prox over a fine grid."""
    from skmtl._solvers.penalties import make_penalty

    rng = np.random.default_rng(7)
    for name in NONCONVEX:
        for gamma in (0.3, 1.5, 4.0) if name != "scad" else (2.2, 4.0):
            pen = make_penalty(name, 0.7, 3, {"gamma": gamma})
            for step in (0.2, 1.0, 5.0):
                Z = rng.normal(size=(3, 12)) * rng.uniform(0.1, 4, size=12)
                out = pen.prox(Z, step)
                for j in range(Z.shape[1]):
                    z = Z[:, j]

                    def obj(x, z=z, pen=pen, step=step):
                        value = pen.nonsmooth_value(x[:, None])
                        return 0.5 * np.sum((x - z) ** 2) + step * value

                    if name == "capped_l1":
                        taus = np.linspace(0, np.abs(z).max(), 2001)
                        cands = [
                            np.sign(z) * np.maximum(np.abs(z) - tau, 0) for tau in taus
                        ]
                    else:
                        cands = [z * c for c in np.linspace(0, 1, 2001)]
                    brute = min(obj(x) for x in cands)
                    assert obj(out[:, j]) <= brute + 1e-9
