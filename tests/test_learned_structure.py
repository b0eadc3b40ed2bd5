"""Models that learn how tasks are related: "relationship" (MTRL),
"clustered" (convex clustered MTL) and "tree" (tree-guided group lasso)."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from skmtl import MultiTaskLinearRegression, MultiTaskLogisticRegression

from ._reference import cvxpy_solve
from .conftest import make_problem

TIGHT = dict(tol=1e-10, max_iter=100_000)


def _binary(Y):
    return np.where(np.isnan(Y), np.nan, (Y > np.nanmedian(Y, axis=0)).astype(float))


def _data_term(X, Y, W, b, loss):
    out = 0.0
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        f = X[m] @ W[t] + b[t]
        if loss == "squared":
            out += 0.5 * np.mean((Y[m, t] - f) ** 2)
        else:
            out += np.mean(np.logaddexp(0, -Y[m, t] * f))
    return out


# ----------------------------------------------------------------- definitions
# Each penalty written here from its definition, as a number and for cvxpy.


def _relationship_value(W, alpha, beta):
    s = np.linalg.svd(W, compute_uv=False)
    return 0.5 * alpha * s.sum() ** 2 + 0.5 * beta * np.sum(W * W)


def _relationship_cvx(alpha, beta):
    import cvxpy as cp

    return lambda W: (
        0.5 * alpha * cp.square(cp.normNuc(W)) + 0.5 * beta * cp.sum_squares(W),
        [],
    )


def _clustered_value(W, alpha, beta, k):
    """The inner minimum over M solved by a generic solver (scipy SLSQP on the
    eigenvalues, in the eigenbasis of W W^T, which is optimal for M)."""
    from scipy.optimize import minimize

    eta = beta / alpha
    c = alpha * eta * (1 + eta)
    T = W.shape[0]
    s2 = np.clip(np.linalg.eigvalsh(W @ W.T), 0, None)
    res = minimize(
        lambda m: np.sum(s2 / (eta + m)),
        np.full(T, k / T),
        jac=lambda m: -s2 / (eta + m) ** 2,
        bounds=[(0, 1)] * T,
        constraints=[{"type": "eq", "fun": lambda m: m.sum() - k}],
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    return c * res.fun


def _clustered_cvx(alpha, beta, k, T):
    import cvxpy as cp

    eta = beta / alpha
    c = alpha * eta * (1 + eta)

    def pen(W):
        M = cp.Variable((T, T), symmetric=True)
        cons = [M >> 0, np.eye(T) - M >> 0, cp.trace(M) == k]
        return c * cp.matrix_frac(W, eta * np.eye(T) + M), cons

    return pen


# tree [[0, 1], [2, [3, 4]]]: heights (levels / root's) 1/3, 1/3, 2/3, 1, so
# Kim & Xing's weights s_v = h_v, g_v = 1 - h_v give, written out by hand:
TREE = [[0, 1], [2, [3, 4]]]
TREE_GROUPS = {
    (0,): 1 / 3,  # leaf under {0,1} (s=1/3) under the root (s=1)
    (1,): 1 / 3,
    (2,): 2 / 3,  # leaf under {2,3,4} (s=2/3)
    (3,): 1 / 3 * 2 / 3,  # leaf under {3,4} (1/3) under {2,3,4} (2/3)
    (4,): 1 / 3 * 2 / 3,
    (0, 1): 2 / 3,  # g = 1 - 1/3, times s_root = 1
    (3, 4): 2 / 3 * 2 / 3,  # g = 2/3, times s of {2,3,4} = 2/3
    (2, 3, 4): 1 / 3,  # g = 1 - 2/3
    # root: g = 1 - 1 = 0
}


def _tree_value(W, alpha, beta, groups=TREE_GROUPS):
    out = sum(w * np.linalg.norm(W[list(g)], axis=0).sum() for g, w in groups.items())
    return alpha * out + 0.5 * beta * np.sum(W * W)


def _tree_cvx(alpha, beta, groups=TREE_GROUPS):
    import cvxpy as cp

    def pen(W):
        terms = [
            w * cp.sum(cp.norm(W[list(g), :], 2, axis=0)) for g, w in groups.items()
        ]
        return alpha * sum(terms) + 0.5 * beta * cp.sum_squares(W), []

    return pen


def test_tree_weights_sum_to_one_per_task():
    from skmtl._task_tree import tree_nodes, tree_weights

    groups, heights, parents = tree_nodes(TREE, 5)
    weights = tree_weights(heights, parents, 5)
    got = {tuple(g.tolist()): w for g, w in zip(groups, weights, strict=True) if w > 0}
    assert got.keys() == TREE_GROUPS.keys()
    for g, w in TREE_GROUPS.items():
        assert_allclose(got[g], w, rtol=1e-12)


# ----------------------------------------------------------------- vs cvxpy

CASES = {
    "relationship": (
        dict(beta=0.01),
        lambda W, a: _relationship_value(W, a, 0.01),
        lambda a, T: _relationship_cvx(a, 0.01),
    ),
    "clustered": (
        dict(beta=0.005, n_clusters=2),
        lambda W, a: _clustered_value(W, a, 0.005, 2),
        lambda a, T: _clustered_cvx(a, 0.005, 2, T),
    ),
    "tree": (
        dict(task_tree=TREE, beta=0.01),
        lambda W, a: _tree_value(W, a, 0.01),
        lambda a, T: _tree_cvx(a, 0.01),
    ),
}


@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("name", list(CASES))
def test_matches_cvxpy_with_missing_labels(name, loss):
    pytest.importorskip("cvxpy")
    X, Y = make_problem(n=50, p=6, T=5, missing=0.3, seed=3)
    kw, value, cvx = CASES[name]
    alpha = 0.05 if loss == "squared" else 0.02
    if loss == "squared":
        model = MultiTaskLinearRegression(name, alpha, **kw, **TIGHT).fit(X, Y)
        Yref = Y
    else:
        Yb = _binary(Y)
        model = MultiTaskLogisticRegression(name, alpha, **kw, **TIGHT).fit(X, Yb)
        Yref = np.where(np.isnan(Yb), np.nan, 2 * Yb - 1)
    _, _, ref = cvxpy_solve(X, Yref, cvx(alpha, Y.shape[1]), alpha, loss=loss)
    ours = _data_term(X, Yref, model.coef_, model.intercept_, loss)
    ours += value(model.coef_, alpha)
    assert abs(ours - ref) <= 1e-6 * abs(ref), (ours, ref)


@pytest.mark.parametrize("solver", ["bcd", "fista"])
def test_tree_bcd_and_fista_agree_sparse_weights(solver):
    pytest.importorskip("cvxpy")
    X, Y = make_problem(n=40, p=7, T=5, missing=0.2, seed=8)
    sw = np.random.default_rng(0).uniform(0.5, 2, size=X.shape[0])
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0))
    model = MultiTaskLinearRegression(
        "tree", 0.03, task_tree=TREE, solver=solver, **TIGHT
    ).fit(Xs, Y, sample_weight=sw)
    _, _, ref = cvxpy_solve(
        Xs.toarray(), Y, _tree_cvx(0.03, 0.0), 0.03, sample_weight=sw
    )
    from ._reference import objective

    ours = objective(
        Xs.toarray(), Y, model.coef_, model.intercept_,
        _tree_value(model.coef_, 0.03, 0.0), sample_weight=sw,
    )  # fmt: skip
    assert abs(ours - ref) <= 1e-7 * abs(ref)


def _alternating_mtrl(X, Y, alpha, beta, n_iter=300, eps=1e-12):
    """MTRL by alternating minimisation (Zhang & Yeung's scheme): exact
    W-step (one linear system over all tasks, intercepts eliminated by
    centring) and closed-form Omega-step, written independently here."""
    n, p = X.shape
    T = Y.shape[1]
    blocks, rhs, means = [], [], []
    for t in range(T):
        m = ~np.isnan(Y[:, t])
        Xc = X[m] - X[m].mean(axis=0)
        yc = Y[m, t] - Y[m, t].mean()
        blocks.append(Xc.T @ Xc / m.sum())
        rhs.append(Xc.T @ yc / m.sum())
        means.append((X[m].mean(axis=0), Y[m, t].mean()))
    A0 = np.zeros((T * p, T * p))
    for t in range(T):
        A0[t * p : (t + 1) * p, t * p : (t + 1) * p] = blocks[t] + beta * np.eye(p)
    r = np.concatenate(rhs)
    Omega = np.eye(T) / T
    for _ in range(n_iter):
        A = A0 + alpha * np.kron(np.linalg.inv(Omega), np.eye(p))
        W = np.linalg.solve(A, r).reshape(T, p)
        evals, U = np.linalg.eigh(W @ W.T + eps * np.eye(T))
        S = (U * np.sqrt(np.clip(evals, 0, None))) @ U.T
        Omega = S / np.trace(S)
    b = np.array([my - mx @ W[t] for t, (mx, my) in enumerate(means)])
    return W, b, Omega


def test_relationship_matches_alternating_solver():
    X, Y = make_problem(n=60, p=6, T=4, missing=0.25, seed=5)
    alpha, beta = 0.05, 0.02
    model = MultiTaskLinearRegression("relationship", alpha, beta=beta, **TIGHT).fit(
        X, Y
    )
    W, b, Omega = _alternating_mtrl(X, Y, alpha, beta)
    ours = _data_term(X, Y, model.coef_, model.intercept_, "squared")
    ours += _relationship_value(model.coef_, alpha, beta)
    ref = _data_term(X, Y, W, b, "squared") + _relationship_value(W, alpha, beta)
    assert ours <= ref + 1e-9 * abs(ref)
    assert abs(ours - ref) <= 1e-6 * abs(ref)
    assert_allclose(model.coef_, W, atol=1e-4)
    assert_allclose(model.task_covariance_, Omega, atol=1e-4)
    assert_allclose(np.trace(model.task_covariance_), 1.0)


def test_clustered_matrix_is_feasible_and_optimal():
    """The fitted M satisfies the constraints and attains the inner minimum
    (computed by a generic solver in the test)."""
    X, Y = make_problem(n=60, p=8, T=6, missing=0.2, seed=2)
    alpha, beta, k = 0.05, 0.01, 3
    model = MultiTaskLinearRegression(
        "clustered", alpha, beta=beta, n_clusters=k, **TIGHT
    ).fit(X, Y)
    M = model.cluster_matrix_
    ev = np.linalg.eigvalsh(M)
    assert_allclose(M, M.T)
    assert ev.min() >= -1e-10 and ev.max() <= 1 + 1e-10
    assert_allclose(np.trace(M), k)
    W = model.coef_
    eta = beta / alpha
    c = alpha * eta * (1 + eta)
    attained = c * np.trace(W.T @ np.linalg.solve(eta * np.eye(6) + M, W))
    assert_allclose(attained, _clustered_value(W, alpha, beta, k), rtol=1e-7)
    assert model.task_clusters_.shape == (6,)
    assert set(model.task_clusters_) == set(range(k))


@pytest.mark.parametrize("name", list(CASES))
def test_stationarity_residual_small(name):
    """Independent optimality check: the proximal-gradient fixed point,
    with the gradient and the penalty's prox computed here (SVD / group
    formulas), for the smooth clustered penalty its gradient by finite
    differences of the value defined above."""
    X, Y = make_problem(n=50, p=6, T=5, missing=0.2, seed=9)
    kw, value, _ = CASES[name]
    alpha = 0.05
    model = MultiTaskLinearRegression(name, alpha, **kw, **TIGHT).fit(X, Y)
    W, b = model.coef_, model.intercept_
    G = np.zeros_like(W)
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        r = X[m] @ W[t] + b[t] - Y[m, t]
        G[t] = X[m].T @ r / m.sum()
    # directional derivative of data + penalty along random directions is ~0
    # for smooth penalties; for nonsmooth ones, the one-sided derivatives are
    # >= 0 (convexity: a minimum)
    rng = np.random.default_rng(0)
    h = 1e-6
    for _ in range(5):
        D = rng.normal(size=W.shape)
        f0 = value(W, alpha)
        d_plus = np.sum(G * D) + (value(W + h * D, alpha) - f0) / h
        d_minus = -np.sum(G * D) + (value(W - h * D, alpha) - f0) / h
        assert d_plus >= -1e-4 and d_minus >= -1e-4
        if name == "clustered":
            assert abs(d_plus) <= 1e-4


# ----------------------------------------------------------------- planted data


def _planted_groups(seed, sizes=(3, 3, 3), n_unrelated=1, n_train=25, n_test=200):
    """Per-task data: groups of tasks with a common sparse centre (each task
    a small deviation on the centre's support) plus unrelated tasks."""
    from skmtl import stack_tasks

    rng = np.random.default_rng(seed)
    p = 20
    centres = rng.normal(size=(len(sizes), p)) * (rng.random((len(sizes), p)) < 0.3)
    W, labels = [], []
    for c, size in enumerate(sizes):
        for _ in range(size):
            W.append(centres[c] + 0.15 * rng.normal(size=p) * (centres[c] != 0))
            labels.append(c)
    for u in range(n_unrelated):
        W.append(rng.normal(size=p) * (rng.random(p) < 0.3))
        labels.append(len(sizes) + u)
    W = np.array(W)

    def draw(n):
        Xs = [rng.normal(size=(n, p)) for _ in W]
        return stack_tasks(
            Xs, [X @ w + rng.normal(size=n) for X, w in zip(Xs, W, strict=True)]
        )

    return draw(n_train), draw(n_test), W, np.array(labels)


def _per_task_mse(model, X, Y):
    P = model.predict(X)
    M = ~np.isnan(Y)
    return np.array(
        [np.mean((P[M[:, t], t] - Y[M[:, t], t]) ** 2) for t in range(Y.shape[1])]
    )


def test_planted_clusters_recovered():
    from sklearn.metrics import adjusted_rand_score

    (X, Y), _, _, labels = _planted_groups(
        0, sizes=(4, 4, 4), n_unrelated=0, n_train=60
    )
    model = MultiTaskLinearRegression(
        "clustered", alpha=1.0, beta=0.01, n_clusters=3
    ).fit(X, Y)
    assert adjusted_rand_score(labels, model.task_clusters_) >= 0.9
    # M couples tasks within a cluster: every within-cluster entry is above
    # every between-cluster entry
    M = model.cluster_matrix_
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(12, dtype=bool)
    assert M[same & off].min() > M[~same].max()


def test_planted_task_correlation_recovered():
    """Tasks whose coefficients have the planted covariance structure
    (W W^T = p Omega^2, so MTRL's Omega = (W W^T)^{1/2} / tr is the planted
    one): the learned correlation has its sign pattern and the order of its
    off-diagonal entries."""
    from scipy.stats import spearmanr

    rng = np.random.default_rng(1)
    T, p, n = 4, 30, 400
    C = np.array(
        [
            [1.0, 0.7, -0.4, 0.1],
            [0.7, 1.0, -0.15, 0.35],
            [-0.4, -0.15, 1.0, -0.6],
            [0.1, 0.35, -0.6, 1.0],
        ]
    )
    assert np.linalg.eigvalsh(C).min() > 0
    Q = np.linalg.qr(rng.normal(size=(p, T)))[0].T  # orthonormal rows
    W = 2 * np.sqrt(p) * C @ Q / np.trace(C)
    X = rng.normal(size=(n, p))
    Y = X @ W.T + 0.3 * rng.normal(size=(n, T))
    Y[rng.random(Y.shape) < 0.2] = np.nan
    model = MultiTaskLinearRegression("relationship", alpha=0.001).fit(X, Y)
    S = model.task_covariance_
    d = np.sqrt(np.diag(S))
    R = S / np.outer(d, d)
    iu = np.triu_indices(T, 1)
    assert np.array_equal(np.sign(R[iu]), np.sign(C[iu]))
    assert spearmanr(R[iu], C[iu])[0] == pytest.approx(1.0)


def test_planted_hierarchy_recovered():
    """Two super-groups of two sub-groups of two tasks: the learned tree cut
    into 2 and into 4 clusters gives the planted groups."""
    from scipy.cluster.hierarchy import fcluster
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(0)
    p, n = 30, 80
    top = 2.0 * rng.normal(size=(2, p))
    sub = 1.0 * rng.normal(size=(4, p))
    W = np.array(
        [top[t // 4] + sub[t // 2] + 0.2 * rng.normal(size=p) for t in range(8)]
    )
    X = rng.normal(size=(n, p))
    Y = X @ W.T + 0.5 * rng.normal(size=(n, 8))
    Y[rng.random(Y.shape) < 0.2] = np.nan
    model = MultiTaskLinearRegression("tree", alpha=0.01).fit(X, Y)
    Z = model.task_tree_
    assert Z.shape == (7, 4)
    two = fcluster(Z, 2, criterion="maxclust")
    four = fcluster(Z, 4, criterion="maxclust")
    assert adjusted_rand_score(np.arange(8) // 4, two) == 1.0
    assert adjusted_rand_score(np.arange(8) // 2, four) == 1.0
    # the groups used are the tree's nodes, each task's weights sum to 1
    weights = np.zeros(8)
    for g, w in zip(model.task_groups_, model.task_group_weights_, strict=True):
        weights[g] += w
    assert_allclose(weights, 1.0)


@pytest.mark.parametrize(
    "name, kw",
    [
        ("clustered", dict(n_clusters=4, beta_ratio=0.01)),
        ("relationship", dict()),
        ("tree", dict()),
    ],
)
def test_beats_mean_ridge_and_independent(name, kw):
    """Tuned on the training part only (CV), held-out per-task error: the
    learned-structure model beats MultiTaskRidge (mean coupling, CV over
    alpha and coupling) and independent ridge fits (RidgeCV) by 10%."""
    from sklearn.linear_model import RidgeCV

    from skmtl.baselines import IndependentTasksRegressor
    from skmtl.model_selection import MultiTaskLinearRegressionCV, MultiTaskRidgeCV

    (X, Y), (Xte, Yte), _, _ = _planted_groups(0)
    grid = np.geomspace(1e-3, 10, 6)
    ridge = MultiTaskRidgeCV(alphas=grid, couplings=grid, cv=3).fit(X, Y)
    indep = IndependentTasksRegressor(RidgeCV(alphas=np.geomspace(1e-3, 1e3, 13)))
    indep.fit(X, Y)
    model = MultiTaskLinearRegressionCV(name, n_alphas=8, cv=3, **kw).fit(X, Y)
    ours = _per_task_mse(model, Xte, Yte).mean()
    best_baseline = min(
        _per_task_mse(ridge, Xte, Yte).mean(), _per_task_mse(indep, Xte, Yte).mean()
    )
    assert ours <= 0.9 * best_baseline, (ours, best_baseline)


# ----------------------------------------------------------------- model selection

STRUCTURES = ["relationship", "clustered", "tree"]


@pytest.mark.parametrize("name", STRUCTURES)
def test_cv_estimators_cover_the_new_penalties(name):
    from skmtl.model_selection import (
        MultiTaskLinearRegressionCV,
        MultiTaskLogisticRegressionCV,
    )

    X, Y = make_problem(n=60, p=6, T=4, missing=0.2, seed=1)
    kw = dict(n_alphas=4, cv=3, beta_ratio=[0.05, 0.5])
    if name == "clustered":
        kw["n_clusters"] = 2
    reg = MultiTaskLinearRegressionCV(name, **kw).fit(X, Y)
    assert reg.mse_path_.shape == (2, 4, 3)
    assert reg.beta_ratio_ in (0.05, 0.5)
    # the refit at the chosen point is the plain estimator's fit
    ref = MultiTaskLinearRegression(
        name, reg.alpha_, beta=reg.beta_ratio_ * reg.alpha_,
        n_clusters=kw.get("n_clusters"), tol=1e-8, max_iter=10_000,
    ).fit(X, Y)  # fmt: skip
    assert_allclose(reg.coef_, ref.coef_, atol=1e-3 * np.abs(ref.coef_).max())
    attr = {
        "relationship": "task_covariance_",
        "clustered": "task_clusters_",
        "tree": "task_tree_",
    }[name]
    assert hasattr(reg, attr)
    clf = MultiTaskLogisticRegressionCV(name, **kw).fit(X, _binary(Y))
    assert clf.log_loss_path_.shape == (2, 4, 3)
    assert hasattr(clf, attr)


def test_path_learns_the_tree_once(monkeypatch):
    from skmtl._solvers.penalties import _tree
    from skmtl.model_selection import regularization_path

    calls = []
    real = _tree.ridge_task_tree

    def counting(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(_tree, "ridge_task_tree", counting)
    X, Y = make_problem(n=50, p=6, T=4, missing=0.2, seed=2)
    path = regularization_path(X, Y, "tree", n_alphas=5)
    assert len(calls) == 1
    assert [int(np.any(W != 0)) for W in path.coefs][0] == 0  # exact alpha_max
    assert np.any(path.coefs[1] != 0)
    assert path.fitted["task_tree_"].shape == (3, 4)


def test_grid_search_with_missing_labels():
    from sklearn.model_selection import GridSearchCV

    from skmtl.model_selection import TaskStratifiedKFold

    X, Y = make_problem(n=60, p=6, T=4, missing=0.3, seed=4)
    grid = [
        {"penalty": ["clustered"], "n_clusters": [1, 2], "beta": [0.01, 0.1]},
        {"penalty": ["relationship"], "beta": [0.0, 0.1]},
        {"penalty": ["tree"], "task_tree": [None, [[0, 1], [2, 3]]]},
    ]
    search = GridSearchCV(
        MultiTaskLinearRegression(alpha=0.05), grid, cv=TaskStratifiedKFold(3)
    ).fit(X, Y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_refit_replaces_learned_attributes():
    X, Y = make_problem(n=50, p=6, T=4, seed=3)
    model = MultiTaskLinearRegression("clustered", 0.05, n_clusters=2).fit(X, Y)
    assert hasattr(model, "cluster_matrix_")
    model.set_params(penalty="relationship").fit(X, Y)
    assert hasattr(model, "task_covariance_")
    assert not hasattr(model, "cluster_matrix_")


@pytest.mark.parametrize("name", STRUCTURES)
def test_sparse_X_and_weights_match_dense(name):
    X, Y = make_problem(n=50, p=6, T=4, missing=0.2, seed=6)
    X[np.abs(X) < 0.5] = 0
    sw = np.random.default_rng(1).uniform(0.5, 2, size=50)
    kw = dict(tol=1e-10, max_iter=50_000, n_clusters=2)
    dense = MultiTaskLinearRegression(name, 0.05, **kw).fit(X, Y, sample_weight=sw)
    sparse = MultiTaskLinearRegression(name, 0.05, **kw).fit(
        sp.csr_matrix(X), Y, sample_weight=sw
    )
    assert_allclose(dense.coef_, sparse.coef_, atol=1e-6)


@pytest.mark.parametrize(
    "kw, err, match",
    [
        (dict(penalty="clustered", n_clusters=5), ValueError, "n_clusters"),
        (dict(penalty="clustered", beta=0.0), ValueError, "beta > 0"),
        (dict(penalty="tree", task_tree=[[0, 1], [2]]), ValueError, "missing"),
        (dict(penalty="tree", task_tree=[[0, 1], [2, 3, 3]]), ValueError, "repeated"),
        (dict(penalty="tree", task_tree=[[0, 1], [2, 9]]), ValueError, "task 9"),
        (dict(penalty="tree", task_tree=[[0, 1], [2, "a"]]), TypeError, "str"),
        (dict(penalty="tree", task_tree=np.zeros((2, 4))), ValueError, "linkage"),
        (dict(penalty="tree", task_tree=np.zeros((3, 3))), ValueError, "shape"),
    ],
)
def test_bad_structure_parameters(kw, err, match):
    X, Y = make_problem(n=30, p=4, T=4, seed=0)
    with pytest.raises(err, match=match):
        MultiTaskLinearRegression(alpha=0.1, **kw).fit(X, Y)


def test_input_not_modified_and_tree_given_as_linkage():
    from scipy.cluster.hierarchy import linkage

    X, Y = make_problem(n=40, p=5, T=4, missing=0.2, seed=7)
    Z = linkage(np.random.default_rng(0).normal(size=(4, 3)), "average")
    Z0, X0, Y0 = Z.copy(), X.copy(), Y.copy()
    model = MultiTaskLinearRegression("tree", 0.05, task_tree=Z).fit(X, Y)
    assert_allclose(model.task_tree_, Z)
    assert np.array_equal(Z, Z0) and np.array_equal(X, X0)
    assert np.array_equal(Y, Y0, equal_nan=True)


# ----------------------------------------------------------------- inspection


def _two_groups(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 6))
    W = rng.normal(size=(2, 6))[[0, 0, 1, 1, 1]] + 0.05 * rng.normal(size=(5, 6))
    return X, X @ W.T + 0.1 * rng.normal(size=(80, 5))


def test_task_structure_reads_each_model():
    from scipy.cluster.hierarchy import cophenet
    from sklearn.metrics import adjusted_rand_score

    from skmtl.inspection import task_similarity, task_structure

    X, Y = _two_groups()
    truth = [0, 0, 1, 1, 1]
    rel = MultiTaskLinearRegression("relationship", 0.01).fit(X, Y)
    s = task_structure(rel, n_clusters=2)
    S = rel.task_covariance_
    assert_allclose(s.correlation, S / np.sqrt(np.outer(np.diag(S), np.diag(S))))
    assert adjusted_rand_score(truth, s.clusters) == 1.0
    assert_allclose(task_similarity(rel, metric="learned"), s.correlation)

    clu = MultiTaskLinearRegression("clustered", 0.1, n_clusters=2).fit(X, Y)
    s = task_structure(clu)
    assert s.kind == "clustered"
    assert np.array_equal(s.clusters, clu.task_clusters_)

    tree = MultiTaskLinearRegression("tree", 0.01).fit(X, Y)
    s = task_structure(tree, n_clusters=2)
    assert_allclose(s.linkage, tree.task_tree_)
    assert adjusted_rand_score(truth, s.clusters) == 1.0
    # correlation is 1 - cophenetic distance / max, from scipy here
    from scipy.spatial.distance import squareform

    d = squareform(cophenet(tree.task_tree_))
    assert_allclose(s.correlation, 1 - d / d.max())

    with pytest.raises(ValueError, match="no learned task structure"):
        task_structure(MultiTaskLinearRegression("l21", 0.1).fit(X, Y))


def test_structure_plots():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skmtl.plotting import plot_task_similarity, plot_task_tree

    X, Y = _two_groups()
    tree = MultiTaskLinearRegression("tree", 0.01, task_tree=[[0, 1], [2, [3, 4]]])
    disp = plot_task_tree(tree.fit(X, Y), n_clusters=2)
    assert sorted(disp.dendrogram_["leaves"]) == list(range(5))
    colors = {t.get_text(): t.get_color() for t in disp.ax_.get_xticklabels()}
    assert colors["task0"] == colors["task1"] != colors["task2"]
    rel = MultiTaskLinearRegression("relationship", 0.01).fit(X, Y)
    heat = plot_task_similarity(rel, metric="learned")
    order = heat.order_.tolist()
    assert sorted(order[:2]) == [0, 1] or sorted(order[-2:]) == [0, 1]
    plt.close("all")


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_tree_alpha_max_is_exact(loss):
    """Just above alpha_max the model is zero, just below it is not, even with
    a node at height 0 (leaf weights 0 below it)."""
    from scipy.cluster.hierarchy import linkage

    from skmtl.model_selection import regularization_path

    X, Y = make_problem(n=50, p=6, T=4, missing=0.2, seed=12)
    if loss == "logistic":
        Y = _binary(Y)
    Z = linkage(np.array([[0.0, 0], [0, 0], [1, 0], [0, 3]]), "average")
    assert Z[0, 2] == 0  # tasks 0 and 1 merged at height 0
    path = regularization_path(X, Y, "tree", task_tree=Z, n_alphas=2, loss=loss)
    a_max = path.alpha_max
    est = (
        MultiTaskLinearRegression if loss == "squared" else MultiTaskLogisticRegression
    )
    above = est("tree", a_max * (1 + 1e-6), task_tree=Z, tol=1e-8).fit(X, Y)
    below = est("tree", a_max * (1 - 1e-3), task_tree=Z, tol=1e-8).fit(X, Y)
    assert not np.any(above.coef_)
    assert np.any(below.coef_)
