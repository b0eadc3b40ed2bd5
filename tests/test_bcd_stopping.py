"""Block coordinate descent's stopping rule, warm-start continuation and
duality gap, checked against scikit-learn's coordinate descent and against
the gap written out in the test."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn import linear_model as sklm
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning

from skmtl import MultiTaskElasticNet, MultiTaskLasso, MultiTaskLinearRegression
from skmtl._solvers.bcd import quadratic_gap
from skmtl._solvers.penalties import make_penalty


def _sparse_problem(n=50, p=200, T=2, seed=0, noise=0.5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    W = np.zeros((T, p))
    W[:, :10] = rng.normal(size=(T, 10))
    Y = X @ W.T + noise * rng.normal(size=(n, T))
    return X, Y


# -- the stopping rule: small updates, then the certificate -----------------


@pytest.mark.parametrize("alpha", [0.002, 0.02, 0.2])
@pytest.mark.parametrize(
    "ours, ref, kw",
    [
        (MultiTaskLasso, sklm.Lasso, {}),
        (MultiTaskElasticNet, sklm.ElasticNet, {"l1_ratio": 0.7}),
    ],
)
def test_one_task_at_default_tol_is_scikit_learns_solution(ours, ref, kw, alpha):
    """One task, few features (one working set of every feature, cyclic):
    skmtl runs scikit-learn's coordinate descent epochs and now stops at the
    same epoch, so the two default-tol solutions agree far below the gap
    tolerance (they are ~1e-4 from the exact optimum, but the same)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 10))
    y = X @ rng.normal(size=10) + rng.normal(size=50)
    a = ours(alpha=alpha, **kw).fit(X, y[:, None])
    b = ref(alpha=alpha, **kw).fit(X, y)
    assert a.n_iter_ == b.n_iter_
    assert_allclose(a.coef_[0], b.coef_, rtol=1e-9, atol=1e-11)
    assert_allclose(a.intercept_[0], b.intercept_, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize(
    "n, p, rank, alpha, l1_ratio",
    [
        (100, 30, 5, 0.01, 0.5),
        (200, 60, 8, 0.01, 0.2),
        (100, 8, 3, 0.01, 0.9),
        # working sets: the features outside the last one must settle too
        (300, 100, 5, 0.01, 0.5),
    ],
)
def test_default_tol_fit_is_a_fixed_point_of_another_epoch(n, p, rank, alpha, l1_ratio):
    """Ill-conditioned designs (low effective rank), where the gap tolerance
    is met long before the coefficients settle. The fit stops only once an
    epoch moves no coefficient by more than ``tol`` times the largest one.
    Checked from outside: one more epoch of scikit-learn's coordinate
    descent, started from skmtl's solution, moves it by less than that (the
    gap alone left 12-34 times more), and the distance to the optimum
    (scikit-learn at tol=1e-14) is scikit-learn's own at the default tol
    (it was 3-2800 times larger)."""
    X, Y = make_regression(
        n_samples=n, n_features=p, n_targets=3, effective_rank=rank,
        n_informative=p // 2, noise=1.0, random_state=0,
    )  # fmt: skip
    X, Y = X - X.mean(axis=0), Y - Y.mean(axis=0)
    kw = dict(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False)
    ours = MultiTaskElasticNet(**kw).fit(X, Y)
    exact = sklm.MultiTaskElasticNet(**kw, tol=1e-14, max_iter=200_000).fit(X, Y)
    default = sklm.MultiTaskElasticNet(**kw).fit(X, Y)
    one_more = sklm.MultiTaskElasticNet(**kw, warm_start=True, max_iter=1, tol=0.0)
    one_more.coef_ = np.asfortranarray(ours.coef_.copy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one_more.fit(X, Y)
    w_max = np.max(np.abs(exact.coef_))
    assert np.max(np.abs(one_more.coef_ - ours.coef_)) <= 1e-4 * w_max
    err = np.max(np.abs(ours.coef_ - exact.coef_))
    assert err <= 2 * np.max(np.abs(default.coef_ - exact.coef_)) + 1e-8 * w_max


# -- warm start: k + k epochs equal 2k ---------------------------------------


def _warm_vs_one_fit(make, X, Y, splits):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm = make(max_iter=splits[0], warm_start=True)
        warm.fit(X, Y)
        for k in splits[1:]:
            warm.set_params(max_iter=k).fit(X, Y)
        one = make(max_iter=sum(splits)).fit(X, Y)
    return warm, one


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: MultiTaskLasso(alpha=0.1, **kw),
        lambda **kw: MultiTaskElasticNet(alpha=0.1, l1_ratio=0.6, **kw),
        lambda **kw: MultiTaskLinearRegression(penalty="l1", alpha=0.05, **kw),
        lambda **kw: MultiTaskLasso(
            alpha=0.1, selection="random", random_state=0, **kw
        ),
    ],
    ids=["lasso", "enet", "l1", "random"],
)
@pytest.mark.parametrize("layout", ["dense", "sparse", "tall"])
def test_warm_start_continues_the_run(make, layout):
    """Many features (working sets, solved in their own Gram matrix or by
    residual epochs), sparse X, and rows >> features (full Gram mode)."""
    if layout == "tall":
        X, Y = _sparse_problem(n=400, p=30, T=2, seed=2)
    else:
        X, Y = _sparse_problem()
    if layout == "sparse":
        X = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0))
    for splits in [(5, 5), (3, 3, 4), (1, 9)]:
        warm, one = _warm_vs_one_fit(make, X, Y, splits)
        assert_allclose(warm.coef_, one.coef_, rtol=1e-9, atol=1e-12)
        assert_allclose(warm.intercept_, one.intercept_, rtol=1e-9, atol=1e-12)


def test_warm_start_on_another_problem_starts_a_new_run():
    """A warm start after changing ``alpha`` (or the data) only reuses the
    coefficients, and reaches the new problem's solution."""
    X, Y = _sparse_problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = MultiTaskLasso(alpha=0.1, max_iter=5, warm_start=True).fit(X, Y)
    m.set_params(alpha=0.2, max_iter=10_000, tol=1e-10).fit(X, Y)
    cold = MultiTaskLasso(alpha=0.2, max_iter=10_000, tol=1e-10).fit(X, Y)
    assert_allclose(m.coef_, cold.coef_, rtol=1e-6, atol=1e-9)
    X2, Y2 = _sparse_problem(seed=5)
    m.set_params(alpha=0.1, max_iter=5).fit(X, Y)  # resumable state again
    m.set_params(max_iter=10_000).fit(X2, Y2)
    cold = MultiTaskLasso(alpha=0.1, max_iter=10_000, tol=1e-10).fit(X2, Y2)
    assert_allclose(m.coef_, cold.coef_, rtol=1e-6, atol=1e-9)


def test_a_converged_warm_start_returns_at_once():
    X, Y = _sparse_problem()
    m = MultiTaskLasso(alpha=0.1, warm_start=True).fit(X, Y)
    coef = m.coef_.copy()
    assert m.fit(X, Y).n_iter_ == 0
    assert_allclose(m.coef_, coef)


# -- the duality gap -----------------------------------------------------------


def _gap_written_out(X, y, W, alpha, l1_ratio):
    """primal - dual of ``1/(2n) ||y - X W^T||^2 + alpha * enet(W)`` (no
    intercept, every label present), with scikit-learn's dual point."""
    n = X.shape[0]
    lam, mu = alpha * l1_ratio, alpha * (1 - l1_ratio)
    R = y - X @ W.T
    norms = np.linalg.norm(W, axis=0)
    primal = 0.5 / n * np.sum(R * R) + lam * norms.sum() + 0.5 * mu * np.sum(W * W)
    V = X.T @ R / n  # (p, T)
    vn = np.linalg.norm(V, axis=1)
    if mu > 0:
        dual = np.sum(R * y) / n - 0.5 / n * np.sum(R * R)
        dual -= np.sum(np.maximum(vn - lam, 0) ** 2) / (2 * mu)
    else:
        s = min(1.0, lam / vn.max())
        dual = s * np.sum(R * y) / n - 0.5 * s * s / n * np.sum(R * R)
    return primal - dual


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_gap_is_primal_minus_dual_away_from_the_optimum(l1_ratio):
    rng = np.random.default_rng(0)
    n, p, T, alpha = 40, 6, 3, 0.3
    X = rng.normal(size=(n, p))
    y = rng.normal(size=(n, T))
    W = rng.normal(size=(T, p))
    W[:, 2] = 0.0
    pen = make_penalty("elasticnet", alpha, T, {"l1_ratio": l1_ratio})
    R = y - X @ W.T
    gap, primal = quadratic_gap(np.sum(R * R) / n, W, (X.T @ R / n).T, pen)
    assert_allclose(gap, _gap_written_out(X, y, W, alpha, l1_ratio), rtol=1e-10)


def test_l1_gap_is_primal_minus_dual_away_from_the_optimum():
    rng = np.random.default_rng(1)
    n, p, T, alpha = 30, 5, 2, 0.2
    X = rng.normal(size=(n, p))
    y = rng.normal(size=(n, T))
    W = rng.normal(size=(T, p)) * (rng.random((T, p)) > 0.3)
    R = y - X @ W.T
    V = (X.T @ R / n).T
    s = min(1.0, alpha / np.abs(V).max())
    primal = 0.5 / n * np.sum(R * R) + alpha * np.abs(W).sum()
    dual = s * np.sum(R * y) / n - 0.5 * s * s / n * np.sum(R * R)
    pen = make_penalty("l1", alpha, T, {})
    gap, _ = quadratic_gap(np.sum(R * R) / n, W, V, pen)
    assert_allclose(gap, primal - dual, rtol=1e-10)


@pytest.mark.parametrize("cls", [MultiTaskLasso, MultiTaskElasticNet])
@pytest.mark.parametrize("tol", [1e-8, 1e-12])
def test_gap_stays_positive_at_the_optimum(cls, tol):
    """Near the optimum ``primal - dual`` falls to the primal's rounding
    level (it came out -1.8e-15 for the elastic net here); the gap computed
    as a sum of non-negative terms keeps its sign and stays tiny."""
    X, Y = _sparse_problem(n=50, p=200, T=2, seed=0, noise=0.5)
    m = cls(alpha=1.0, tol=tol).fit(X, Y)
    assert 0 < m.dual_gap_ < 1e-5


def test_tol_below_float64_reach_stops_early_with_a_clear_warning():
    # tol=1e-14 on 10000 rows: the duality gap cannot be certified below
    # ~1e-12 of the objective in float64 (the same gap in long double), and
    # the coefficients stop moving. The fit stops after a few checks with a
    # warning that says so (before, it ran to max_iter: 100000 epochs took
    # 210 s).
    rng = np.random.default_rng(0)
    n, p, T = 10000, 50, 5
    X = rng.normal(size=(n, p))
    W = np.zeros((T, p))
    W[:, :20] = rng.normal(size=(T, 20))
    Y = X @ W.T + rng.normal(size=(n, T)) + 1
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    alpha = np.sqrt(((Xc.T @ Yc) ** 2).sum(1)).max() / n / 100
    ref = MultiTaskLasso(alpha=alpha, tol=1e-12).fit(X, Y)
    model = MultiTaskLasso(alpha=alpha, tol=1e-14, max_iter=2000)
    with pytest.warns(ConvergenceWarning, match="stopped making progress"):
        model.fit(X, Y)
    assert model.n_iter_ < 100
    assert_allclose(model.coef_, ref.coef_, rtol=0, atol=1e-10)
    # the gap written out from the returned model, in long double
    ld = np.longdouble
    R = Y.astype(ld) - X.astype(ld) @ model.coef_.T.astype(ld) - model.intercept_
    G = X.astype(ld).T @ R / n
    scale = min(ld(1), ld(alpha) / np.sqrt((G**2).sum(1)).max())
    primal = (R**2).sum() / (2 * n) + alpha * np.sqrt((model.coef_**2).sum(0)).sum()
    # D(theta) = (||y - b||^2 - ||y - b - theta||^2) / 2n at theta = scale * R:
    # the gap that float64 could not close (model.dual_gap_ says the same)
    Yl = Y.astype(ld) - model.intercept_
    dual = ((Yl**2).sum() - ((Yl - scale * R) ** 2).sum()) / (2 * n)
    assert 1e-13 < float(primal - dual) < 1e-9
