"""MultiTaskRidgeCV on per-task data: per-task eigendecompositions."""

import numpy as np
import pytest
from sklearn.model_selection import KFold

from skmtl import MultiTaskRidge, stack_tasks
from skmtl.model_selection import MultiTaskRidgeCV, TaskStratifiedKFold


def _per_task_data(T=5, n_t=14, p=4, seed=0):
    rng = np.random.default_rng(seed)
    w0 = rng.normal(size=p)
    Xs, ys = [], []
    for t in range(T):
        X = rng.normal(size=(n_t + t, p)) * [1.0, 3.0, 0.3, 1.0][:p]
        Xs.append(X)
        ys.append(X @ (w0 + 0.5 * rng.normal(size=p)) + 0.5 * rng.normal(size=n_t + t))
    return stack_tasks(Xs, ys)


def _dense_ridge(X, Y, alpha, coupling, L, tw, sw):
    """The ridge objective's normal equations as one dense (T p) system."""
    T, p = Y.shape[1], X.shape[1]
    M = np.zeros((T * p, T * p))
    r = np.zeros(T * p)
    means = []
    for t in range(T):
        m = ~np.isnan(Y[:, t])
        s = sw[m] / sw[m].sum()
        xbar, ybar = s @ X[m], s @ Y[m, t]
        Xc = X[m] - xbar
        M[t * p : (t + 1) * p, t * p : (t + 1) * p] = tw[t] * (Xc.T * s) @ Xc
        r[t * p : (t + 1) * p] = tw[t] * (Xc.T * s) @ (Y[m, t] - ybar)
        means.append((xbar, ybar))
    M += alpha * np.eye(T * p) + coupling * np.kron(L, np.eye(p))
    W = np.linalg.solve(M, r).reshape(T, p)
    b = np.array([ybar - xbar @ W[t] for t, (xbar, ybar) in enumerate(means)])
    return W, b


@pytest.mark.parametrize("graph", ["mean", "chain"])
def test_grid_equals_exact_fits_per_grid_point(graph):
    X, Y = _per_task_data()
    T = Y.shape[1]
    rng = np.random.default_rng(1)
    tw = rng.uniform(0.5, 2.0, size=T)
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    task_graph = None if graph == "mean" else [(t, t + 1) for t in range(T - 1)]
    alphas, couplings = [1e-3, 0.1, 10.0], [0.0, 0.5, 50.0]
    folds = list(TaskStratifiedKFold(3).split(X, Y))
    model = MultiTaskRidgeCV(
        alphas, couplings, task_graph=task_graph, task_weights=tw, cv=folds
    ).fit(X, Y, sample_weight=sw)
    assert model.cv_solver_ == "task_eigen"
    for k, (train, test) in enumerate(folds):
        for i, alpha in enumerate(alphas):
            for j, coupling in enumerate(couplings):
                ref = MultiTaskRidge(
                    alpha, coupling, task_graph=task_graph, task_weights=tw, tol=1e-12
                ).fit(X[train], Y[train], sample_weight=sw[train])
                E = (ref.predict(X[test]) - Y[test]) ** 2
                M = ~np.isnan(Y[test])
                s = sw[test][:, None] * M
                per_task = np.nansum(np.where(M, E, 0) * s, axis=0) / s.sum(axis=0)
                ok = M.any(axis=0)
                expected = per_task[ok] @ tw[ok] / tw[ok].sum()
                assert model.mse_path_[i, j, k] == pytest.approx(expected, rel=1e-8)


def test_closed_form_and_coupled_points_match_a_dense_solve():
    # the coefficients of the grid itself, against the dense normal equations
    from skmtl._graph import check_task_graph, graph_laplacian
    from skmtl._validation import make_task_data
    from skmtl.model_selection._ridge_cv import _grid_task_eigen

    X, Y = _per_task_data(T=4, n_t=9, p=3, seed=2)
    T = Y.shape[1]
    A = check_task_graph(None, T)
    data = make_task_data(Y)
    w = np.ones(T)
    # without coupling: closed form; with the (uniform) mean graph: the exact
    # p x p route, also at alpha = 0 and a huge coupling; with a chain graph:
    # CG with the eigenbasis preconditioner
    grid = [(1.0, 0.0), (0.01, 0.0), (0.0, 0.0), (1.0, 3.0), (0.01, 3.0),
            (0.0, 3.0), (1.0, 1e6)]  # fmt: skip
    chain = check_task_graph([(t, t + 1) for t in range(T - 1)], T)
    for graph in (A, chain):
        Lg = graph_laplacian(graph)
        coefs, intercepts, _ = _grid_task_eigen(
            X, data, w, graph, Lg, grid, True, 1e-13, 500
        )
        for g, (alpha, coupling) in enumerate(grid):
            W, b = _dense_ridge(X, Y, alpha, coupling, Lg, w, np.ones(X.shape[0]))
            np.testing.assert_allclose(coefs[g], W, rtol=1e-8, atol=1e-10)
            np.testing.assert_allclose(intercepts[g], b, rtol=1e-8, atol=1e-10)


def test_sparse_x_and_full_labels_routes():
    import scipy.sparse as sp

    X, Y = _per_task_data(seed=3)
    dense = MultiTaskRidgeCV([0.1, 1.0], [0.0, 1.0], cv=3).fit(X, Y)
    sparse = MultiTaskRidgeCV([0.1, 1.0], [0.0, 1.0], cv=3).fit(sp.csr_array(X), Y)
    np.testing.assert_allclose(sparse.mse_path_, dense.mse_path_, rtol=1e-9)
    # every label present: the shared-Gram route is kept
    Xf = np.random.default_rng(0).normal(size=(30, 3))
    Yf = Xf @ np.ones((3, 2))
    assert MultiTaskRidgeCV(cv=KFold(3)).fit(Xf, Yf).cv_solver_ == "eigen"
