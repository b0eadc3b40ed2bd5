"""Composite models W = P + Q: "dirty", "robust", "sparse_low_rank"."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from skmtl import MultiTaskLinearRegression, MultiTaskLogisticRegression
from skmtl.model_selection import MultiTaskLinearRegressionCV, regularization_path

from ._reference import cvxpy_solve, data_term
from .conftest import make_problem

COMPOSITES = ["dirty", "robust", "sparse_low_rank"]
PARTS = {
    "dirty": ("shared", "specific"),
    "robust": ("low_rank", "outlier"),
    "sparse_low_rank": ("sparse", "low_rank"),
}
TIGHT = dict(tol=1e-10, max_iter=200_000)


def _nuclear(A):
    return np.linalg.svd(A, compute_uv=False).sum()


def _penalty_value(name, P, Q, alpha, beta):
    """The composite penalty, written here from its definition."""
    if name == "dirty":
        return alpha * np.linalg.norm(P, axis=0).sum() + beta * np.abs(Q).sum()
    if name == "robust":
        return alpha * _nuclear(P) + beta * np.linalg.norm(Q, axis=1).sum()
    return alpha * np.abs(P).sum() + beta * _nuclear(Q)


def _binary(Y):
    return np.where(np.isnan(Y), np.nan, (Y > np.nanmedian(Y, axis=0)).astype(float))


@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("name", COMPOSITES)
def test_matches_cvxpy_with_missing_labels(name, loss):
    pytest.importorskip("cvxpy")
    X, Y = make_problem(n=50, p=6, T=4, missing=0.3, seed=11)
    alpha, beta = (0.05, 0.03) if loss == "squared" else (0.02, 0.015)
    if loss == "squared":
        model = MultiTaskLinearRegression(name, alpha, beta=beta, **TIGHT).fit(X, Y)
        Yref = Y
    else:
        Yb = _binary(Y)
        model = MultiTaskLogisticRegression(name, alpha, beta=beta, **TIGHT).fit(X, Yb)
        Yref = np.where(np.isnan(Yb), np.nan, 2 * Yb - 1)
    _, _, ref = cvxpy_solve(X, Yref, name, alpha, loss=loss, beta=beta)
    parts = model.coef_components_
    assert tuple(parts) == PARTS[name]
    P, Q = parts.values()
    assert_allclose(P + Q, model.coef_, atol=1e-12)
    ours = data_term(X, Yref, model.coef_, model.intercept_, loss)
    ours += _penalty_value(name, P, Q, alpha, beta)
    assert abs(ours - ref) <= 1e-7 * abs(ref)
    assert np.isfinite(model.dual_gap_) and model.dual_gap_ >= -1e-12


@pytest.mark.parametrize("name", COMPOSITES)
def test_optimality_conditions(name):
    """-grad is in alpha dN1(P) and in beta dN2(Q), checked on the dual norms
    and on the support, from the gradient computed here."""
    X, Y = make_problem(n=60, p=8, T=4, missing=0.2, seed=4)
    alpha, beta = 0.04, 0.03
    model = MultiTaskLinearRegression(name, alpha, beta=beta, **TIGHT).fit(X, Y)
    W, b = model.coef_, model.intercept_
    G = np.zeros_like(W)
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        r = Y[m, t] - X[m] @ W[t] - b[t]
        assert abs(r.mean()) < 1e-9
        G[t] = -X[m].T @ r / m.sum()
    P, Q = model.coef_components_.values()
    V = -G
    tol = 1e-5
    if name == "dirty":
        assert np.linalg.norm(V, axis=0).max() <= alpha + tol
        assert np.abs(V).max() <= beta + tol
        on = np.linalg.norm(P, axis=0) > 0
        assert_allclose(
            V[:, on], alpha * P[:, on] / np.linalg.norm(P[:, on], axis=0), atol=tol
        )
        assert_allclose(V[Q != 0], beta * np.sign(Q[Q != 0]), atol=tol)
    elif name == "robust":
        assert np.linalg.norm(V, 2) <= alpha + tol
        assert np.linalg.norm(V, axis=1).max() <= beta + tol
        on = np.linalg.norm(Q, axis=1) > 0
        assert_allclose(
            V[on], beta * Q[on] / np.linalg.norm(Q[on], axis=1)[:, None], atol=tol
        )
        U, s, Vt = np.linalg.svd(P, full_matrices=False)
        k = int(np.sum(s > 1e-8))
        assert_allclose(U[:, :k].T @ V @ Vt[:k].T, alpha * np.eye(k), atol=tol)
    else:
        assert np.abs(V).max() <= alpha + tol
        assert np.linalg.norm(V, 2) <= beta + tol
        assert_allclose(V[P != 0], alpha * np.sign(P[P != 0]), atol=tol)


def test_dirty_separates_shared_and_specific_features():
    """Features 0-3 shared by every task, two features specific to each task:
    dirty beats l21 and l1 in coefficient error (each tuned on held-out
    error) and its parts split the two kinds of features."""
    rng = np.random.default_rng(0)
    n, p, T = 40, 30, 6
    X = rng.normal(size=(n, p))
    W_true = np.zeros((T, p))
    W_true[:, :4] = rng.choice([-1, 1], size=(T, 4)) * rng.uniform(1, 2, size=(T, 4))
    for t in range(T):
        W_true[t, 4 + 2 * t : 6 + 2 * t] = 2.0
    Y = X @ W_true.T + 0.5 * rng.normal(size=(n, T))
    Xv = rng.normal(size=(500, p))
    Yv = Xv @ W_true.T + 0.5 * rng.normal(size=(500, T))

    def best(penalty, **kw):
        fits = [
            MultiTaskLinearRegression(penalty, a, max_iter=20_000, **kw).fit(X, Y)
            for a in np.geomspace(0.01, 0.5, 10)
        ]
        return min(fits, key=lambda m: np.mean((m.predict(Xv) - Yv) ** 2))

    dirty = min(
        (
            MultiTaskLinearRegression("dirty", a, beta=0.5 * a, max_iter=20_000).fit(
                X, Y
            )
            for a in np.geomspace(0.01, 0.5, 10)
        ),
        key=lambda m: np.mean((m.predict(Xv) - Yv) ** 2),
    )
    l21, l1 = best("l21"), best("l1")
    err = {m: np.linalg.norm(m.coef_ - W_true) for m in (dirty, l21, l1)}
    assert err[dirty] < 0.8 * err[l21]
    assert err[dirty] < 0.95 * err[l1]
    P, Q = dirty.coef_components_["shared"], dirty.coef_components_["specific"]
    shared_mass = np.abs(P).sum(axis=0)
    assert shared_mass[:4].min() > 3 * shared_mass[4:].max()
    for t in range(T):
        top2 = np.argsort(-np.abs(Q[t, 4:]))[:2] + 4
        assert sorted(top2) == [4 + 2 * t, 5 + 2 * t]


def test_robust_puts_outlier_task_in_S():
    rng = np.random.default_rng(1)
    n, p, T = 100, 12, 6
    X = rng.normal(size=(n, p))
    U = rng.normal(size=(T, 2))
    V = rng.normal(size=(2, p))
    W_true = U @ V / 2
    W_true[4] = 3 * rng.normal(size=p)  # an outlier task, off the subspace
    Y = X @ W_true.T + 0.1 * rng.normal(size=(n, T))
    model = MultiTaskLinearRegression("robust", 0.1, beta=0.07, tol=1e-7)
    model.fit(X, Y)
    S = model.coef_components_["outlier"]
    norms = np.linalg.norm(S, axis=1)
    assert np.argmax(norms) == 4
    assert norms[4] > 0.9 * np.linalg.norm(W_true[4])
    assert np.delete(norms, 4).max() < 0.25 * norms[4]
    # the low-rank part holds the other tasks' shared subspace
    s = np.linalg.svd(model.coef_components_["low_rank"], compute_uv=False)
    assert s[2] < 1e-6 * s[0]


def test_sparse_low_rank_recovers_planted_parts():
    rng = np.random.default_rng(2)
    n, p, T = 200, 15, 8
    X = rng.normal(size=(n, p))
    L = np.outer(rng.normal(size=T), rng.normal(size=p))  # rank one
    S = np.zeros((T, p))
    S[rng.integers(T, size=6), rng.integers(p, size=6)] = 4.0
    Y = X @ (L + S).T + 0.05 * rng.normal(size=(n, T))
    model = MultiTaskLinearRegression("sparse_low_rank", 0.02, beta=0.05, tol=1e-7)
    model.fit(X, Y)
    P, Q = model.coef_components_["sparse"], model.coef_components_["low_rank"]
    s = np.linalg.svd(Q, compute_uv=False)
    assert s[1] < 0.05 * s[0]  # the low-rank part is rank one
    big = np.abs(P) > 1.0
    assert_allclose(big, S != 0)
    assert np.linalg.norm(model.coef_ - (L + S)) < 0.1 * np.linalg.norm(L + S)


@pytest.mark.parametrize("name", COMPOSITES)
def test_path_equals_cold_fits(name):
    X, Y = make_problem(n=60, p=8, T=3, missing=0.2, seed=7)
    path = regularization_path(
        X, Y, name, n_alphas=4, eps=0.05, beta_ratio=0.7, tol=1e-10, max_iter=100_000
    )
    assert path.alpha_max > 0 and np.abs(path.coefs[0]).max() <= 1e-10
    for k, alpha in enumerate(path.alphas):
        cold = MultiTaskLinearRegression(name, alpha, beta=0.7 * alpha, **TIGHT)
        cold.fit(X, Y)
        assert_allclose(path.coefs[k], cold.coef_, atol=1e-5)
        for part, values in path.components.items():
            assert_allclose(values[k], cold.coef_components_[part], atol=1e-4)


def test_alpha_max_is_exact_for_composites():
    X, Y = make_problem(n=60, p=8, T=3, missing=0.2, seed=8)
    for name in COMPOSITES:
        a_max = regularization_path(X, Y, name, n_alphas=1, beta_ratio=2.0).alpha_max
        path = regularization_path(
            X,
            Y,
            name,
            alphas=[a_max, 0.95 * a_max],
            beta_ratio=2.0,
            tol=1e-10,
            max_iter=100_000,
        )
        assert np.abs(path.coefs[0]).max() <= 1e-10
        assert np.abs(path.coefs[1]).max() > 1e-8


@pytest.mark.parametrize("name", COMPOSITES)
def test_weights_sparse_and_warm_start(name):
    X, Y = make_problem(n=60, p=8, T=3, missing=0.2, seed=9)
    rng = np.random.default_rng(0)
    sw = rng.uniform(0.5, 2, size=60)
    kw = dict(beta=0.02, task_weights=[1.0, 2.0, 0.5], **TIGHT)
    dense = MultiTaskLinearRegression(name, 0.03, **kw).fit(X, Y, sample_weight=sw)
    sparse = MultiTaskLinearRegression(name, 0.03, **kw).fit(
        sp.csr_array(X), Y, sample_weight=sw
    )
    assert_allclose(sparse.coef_, dense.coef_, atol=1e-6)
    _, _, ref = (
        cvxpy_solve(
            X, Y, name, 0.03, beta=0.02, sample_weight=sw, task_weights=[1.0, 2.0, 0.5]
        )
        if _has_cvxpy()
        else (None, None, None)
    )
    if ref is not None:
        P, Q = dense.coef_components_.values()
        ours = 0.0
        for t, wt in enumerate([1.0, 2.0, 0.5]):
            m = ~np.isnan(Y[:, t])
            r = Y[m, t] - X[m] @ dense.coef_[t] - dense.intercept_[t]
            ours += wt * 0.5 * np.sum(sw[m] * r * r) / sw[m].sum()
        ours += _penalty_value(name, P, Q, 0.03, 0.02)
        assert abs(ours - ref) <= 1e-7 * abs(ref)
    warm = MultiTaskLinearRegression(name, 0.03, warm_start=True, **kw)
    warm.fit(X, Y, sample_weight=sw)
    n_cold = warm.n_iter_
    warm.fit(X, Y, sample_weight=sw)
    assert warm.n_iter_ < n_cold
    assert_allclose(warm.coef_, dense.coef_, atol=1e-6)


def _has_cvxpy():
    try:
        import cvxpy  # noqa: F401
    except ImportError:
        return False
    return True


def test_cv_over_beta_ratio():
    X, Y = make_problem(n=80, p=8, T=3, missing=0.2, seed=10)
    cv = MultiTaskLinearRegressionCV(
        penalty="dirty", beta_ratio=[0.5, 1.0], n_alphas=5, cv=3
    ).fit(X, Y)
    assert cv.mse_path_.shape == (2, 5, 3)
    assert cv.beta_ratio_ in (0.5, 1.0)
    refit = MultiTaskLinearRegression(
        "dirty", cv.alpha_, beta=cv.beta_ratio_ * cv.alpha_, tol=1e-4
    ).fit(X, Y)
    assert_allclose(cv.coef_, refit.coef_, atol=1e-3)
    assert set(cv.coef_components_) == {"shared", "specific"}


def test_coef_components_removed_when_penalty_changes():
    X, Y = make_problem(n=40, p=5, T=2, seed=1)
    model = MultiTaskLinearRegression("dirty", 0.05).fit(X, Y)
    assert hasattr(model, "coef_components_")
    model.set_params(penalty="l21").fit(X, Y)
    assert not hasattr(model, "coef_components_")
