import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl._graph import graph_laplacian, mean_graph
from skmtl.linear_model import _ridge
from skmtl.linear_model._ridge import MultiTaskRidge


def make_data(n=40, p=5, T=3, missing=0.3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) + 0.5
    W = rng.normal(size=p) + 0.5 * rng.normal(size=(T, p))
    Y = X @ W.T + rng.normal(size=T) + 0.1 * rng.normal(size=(n, T))
    if missing:
        M = rng.random((n, T)) < missing
        M[:2] = False
        Y[M] = np.nan
    return X, Y


def objective(X, Y, W, b, alpha, coupling, A, sw=None, tw=None):
    T = Y.shape[1]
    sw = np.ones(len(X)) if sw is None else np.asarray(sw, float)
    tw = np.ones(T) if tw is None else np.asarray(tw, float)
    val = 0.0
    for t in range(T):
        m = ~np.isnan(Y[:, t])
        r = Y[m, t] - X[m] @ W[t] - b[t]
        val += tw[t] / sw[m].sum() * 0.5 * np.sum(sw[m] * r**2)
    pairs = sum(
        A[s, t] * np.sum((W[s] - W[t]) ** 2) for s in range(T) for t in range(s + 1, T)
    )
    return val + 0.5 * alpha * np.sum(W**2) + 0.5 * coupling * pairs


def reference(X, Y, alpha, coupling, A, sw=None, tw=None, fit_intercept=True):
    """Dense (T p) normal equations; only for tiny test problems."""
    n, p = X.shape
    T = Y.shape[1]
    sw = np.ones(n) if sw is None else np.asarray(sw, float)
    tw = np.ones(T) if tw is None else np.asarray(tw, float)
    L = graph_laplacian(A)
    M = alpha * np.eye(T * p) + coupling * np.kron(L, np.eye(p))
    r = np.zeros(T * p)
    xbars, ybars = np.zeros((T, p)), np.zeros(T)
    for t in range(T):
        m = ~np.isnan(Y[:, t])
        s = sw[m]
        Xt, yt = X[m], Y[m, t]
        if fit_intercept:
            xbars[t], ybars[t] = s @ Xt / s.sum(), s @ yt / s.sum()
        Xc, yc = Xt - xbars[t], yt - ybars[t]
        k = tw[t] / s.sum()
        M[t * p : (t + 1) * p, t * p : (t + 1) * p] += k * (Xc.T * s) @ Xc
        r[t * p : (t + 1) * p] = k * (Xc.T * s) @ yc
    W = np.linalg.solve(M, r).reshape(T, p)
    return W, ybars - np.einsum("tj,tj->t", xbars, W)


@pytest.fixture
def matrix_free(monkeypatch):
    monkeypatch.setattr(_ridge, "_GRAM_MAX_FEATURES", 0)


@pytest.mark.parametrize("missing", [0.0, 0.4])
@pytest.mark.parametrize("solver", ["auto", "cg", "cg-mf"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("Xkind", ["dense", "csr", "csc", "float32", "fortran"])
def test_matches_reference(missing, solver, fit_intercept, Xkind, monkeypatch):
    X, Y = make_data(missing=missing, seed=1)
    rng = np.random.default_rng(0)
    sw = rng.random(len(X)) + 0.5
    tw = np.array([1.0, 2.0, 0.5])
    A = np.array([[0, 1.0, 0.2], [1.0, 0, 0], [0.2, 0, 0]])
    Xin = {
        "dense": X,
        "csr": sp.csr_matrix(X),
        "csc": sp.csc_array(X),
        "float32": X.astype(np.float32),
        "fortran": np.asfortranarray(X),
    }[Xkind]
    Xref = X.astype(np.float32).astype(float) if Xkind == "float32" else X
    if solver == "cg-mf":
        monkeypatch.setattr(_ridge, "_GRAM_MAX_FEATURES", 0)
        solver = "cg"
    model = MultiTaskRidge(
        alpha=0.1,
        coupling=0.7,
        task_graph=A,
        task_weights=tw,
        solver=solver,
        fit_intercept=fit_intercept,
    ).fit(Xin, Y, sample_weight=sw)
    W, b = reference(Xref, Y, 0.1, 0.7, A, sw, tw, fit_intercept)
    np.testing.assert_allclose(model.coef_, W, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.intercept_, b, rtol=1e-7, atol=1e-9)
    expected = "eigen" if (solver == "auto" and missing == 0) else "cg"
    assert model.solver_.startswith(expected)
    assert model.n_iter_ >= 1


@pytest.mark.parametrize("tw", [None, [1.0, 3.0, 0.0]])
@pytest.mark.parametrize("shape", [(30, 6), (8, 20)])  # n >= p: eigh, n < p: SVD
@pytest.mark.parametrize("sparse", [False, True])
def test_eigen_paths(tw, shape, sparse):
    X, Y = make_data(n=shape[0], p=shape[1], missing=0, seed=3)
    Xin = sp.csr_matrix(X) if sparse else X
    model = MultiTaskRidge(alpha=0.05, coupling=2.0, task_weights=tw, solver="eigen")
    model.fit(Xin, Y)
    W, b = reference(X, Y, 0.05, 2.0, mean_graph(3), tw=tw)
    np.testing.assert_allclose(model.coef_, W, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.intercept_, b, rtol=1e-7, atol=1e-9)
    cg = MultiTaskRidge(alpha=0.05, coupling=2.0, task_weights=tw, solver="cg")
    np.testing.assert_allclose(cg.fit(Xin, Y).coef_, W, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("missing", [0.0, 0.4])
def test_zero_coupling_is_independent_sklearn_ridge(fit_intercept, missing):
    X, Y = make_data(missing=missing, seed=4)
    sw = np.random.default_rng(1).integers(1, 4, size=len(X)).astype(float)
    alpha = 0.3
    model = MultiTaskRidge(alpha=alpha, coupling=0.0, fit_intercept=fit_intercept)
    model.fit(X, Y, sample_weight=sw)
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        n_t = sw[m].sum()
        ref = Ridge(alpha=n_t * alpha, fit_intercept=fit_intercept, tol=1e-12)
        ref.fit(X[m], Y[m, t], sample_weight=sw[m])
        np.testing.assert_allclose(model.coef_[t], ref.coef_, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(model.intercept_[t], ref.intercept_, atol=1e-9)
    if missing:
        assert model.n_iter_ == 1  # the block preconditioner is exact


def pooled_ridge(X, Y, alpha, tasks, sw=None):
    """Pooled model of ``tasks``: one w, per-task intercepts.

    The coupling-free objective with w_t = w for t in ``tasks`` is
    sum_t 1/n_t sum_i s_i/2 (y_it - x_i.w - b_t)^2 + alpha |tasks| / 2 ||w||^2.
    Profiling out b_t centers each task by its weighted means, so (times 2)
    it is sklearn's Ridge(alpha * |tasks|, fit_intercept=False) on the stacked
    per-task-centered rows with sample weights s_i / n_t.
    """
    sw = np.ones(len(X)) if sw is None else sw
    Xs, ys, ws, means = [], [], [], []
    for t in tasks:
        m = ~np.isnan(Y[:, t])
        s = sw[m]
        xbar, ybar = s @ X[m] / s.sum(), s @ Y[m, t] / s.sum()
        Xs.append(X[m] - xbar)
        ys.append(Y[m, t] - ybar)
        ws.append(s / s.sum())
        means.append((xbar, ybar))
    ref = Ridge(alpha=alpha * len(tasks), fit_intercept=False, tol=1e-12)
    ref.fit(np.vstack(Xs), np.concatenate(ys), sample_weight=np.concatenate(ws))
    b = np.array([ybar - xbar @ ref.coef_ for xbar, ybar in means])
    return ref.coef_, b


@pytest.mark.parametrize("missing", [0.0, 0.4])
@pytest.mark.parametrize("solver", ["auto", "cg", "cg-mf"])
@pytest.mark.parametrize("coupling", [1e8, 1e13])
def test_large_coupling_pools_tasks(missing, solver, coupling, monkeypatch):
    if solver == "cg-mf":
        monkeypatch.setattr(_ridge, "_GRAM_MAX_FEATURES", 0)
        solver = "cg"
    X, Y = make_data(missing=missing, seed=5)
    sw = np.random.default_rng(2).random(len(X)) + 0.5
    model = MultiTaskRidge(alpha=0.2, coupling=coupling, solver=solver)
    model.fit(X, Y, sample_weight=sw)
    w, b = pooled_ridge(X, Y, 0.2, range(3), sw)
    # the distance to the pooled limit is O(1 / coupling); rounding must not
    # grow with coupling (the pooled direction is kept exact)
    np.testing.assert_allclose(model.coef_, np.tile(w, (3, 1)), atol=1e-6)
    np.testing.assert_allclose(model.intercept_, b, atol=1e-6)
    if coupling > 1e10:
        np.testing.assert_allclose(model.coef_, np.tile(w, (3, 1)), atol=1e-10)
    assert np.ptp(model.intercept_) > 0.1  # intercepts stay per task
    assert model.n_iter_ < 60


def two_group_graph():
    A = np.zeros((5, 5))
    A[0, 1] = A[1, 0] = 1.0
    A[0, 2] = A[2, 0] = 0.5
    A[3, 4] = A[4, 3] = 2.0
    return A


@pytest.mark.parametrize("coupling", [0.0, 0.5, 30.0])
@pytest.mark.parametrize("missing", [0.0, 0.4])
def test_disconnected_groups_fit_separately(coupling, missing):
    X, Y = make_data(T=5, missing=missing, seed=6)
    A = two_group_graph()
    model = MultiTaskRidge(alpha=0.1, coupling=coupling, task_graph=A).fit(X, Y)
    for g in ([0, 1, 2], [3, 4]):
        sub = MultiTaskRidge(alpha=0.1, coupling=coupling, task_graph=A[np.ix_(g, g)])
        sub.fit(X, Y[:, g])
        np.testing.assert_allclose(model.coef_[g], sub.coef_, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(model.intercept_[g], sub.intercept_, atol=1e-9)


@pytest.mark.parametrize("missing", [0.0, 0.4])
def test_disconnected_groups_pool_at_large_coupling(missing):
    X, Y = make_data(T=5, missing=missing, seed=7)
    model = MultiTaskRidge(alpha=0.1, coupling=1e8, task_graph=two_group_graph())
    model.fit(X, Y)
    for g in ([0, 1, 2], [3, 4]):
        w, b = pooled_ridge(X, Y, 0.1, g)
        np.testing.assert_allclose(model.coef_[g], np.tile(w, (len(g), 1)), atol=1e-6)
        np.testing.assert_allclose(model.intercept_[g], b, atol=1e-6)
    assert np.abs(model.coef_[0] - model.coef_[3]).max() > 1e-2


@pytest.mark.parametrize("missing", [0.0, 0.4])
def test_integer_sample_weight_equals_repeating_rows(missing):
    X, Y = make_data(missing=missing, seed=8)
    sw = np.random.default_rng(3).integers(0, 4, size=len(X))
    sw[:2] = 1
    a = MultiTaskRidge(alpha=0.1, coupling=2.0).fit(X, Y, sample_weight=sw)
    rep = np.repeat(np.arange(len(X)), sw)
    b = MultiTaskRidge(alpha=0.1, coupling=2.0).fit(X[rep], Y[rep])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-8, atol=1e-10)


def test_agrees_with_cvxpy():
    cp = pytest.importorskip("cvxpy")
    X, Y = make_data(n=30, p=4, T=3, missing=0.35, seed=9)
    sw = np.random.default_rng(4).random(len(X)) + 0.5
    tw = np.array([1.0, 0.5, 2.0])
    A = np.array([[0, 1.0, 0.3], [1.0, 0, 0], [0.3, 0, 0]])
    alpha, coupling = 0.05, 0.8
    T, p = 3, 4
    Wv, bv = cp.Variable((T, p)), cp.Variable(T)
    data = 0
    for t in range(T):
        m = ~np.isnan(Y[:, t])
        r = Y[m, t] - X[m] @ Wv[t] - bv[t]
        data += tw[t] / sw[m].sum() * 0.5 * cp.sum(cp.multiply(sw[m], cp.square(r)))
    pen = sum(
        A[s, t] * cp.sum_squares(Wv[s] - Wv[t])
        for s in range(T)
        for t in range(s + 1, T)
        if A[s, t] > 0
    )
    prob = cp.Problem(
        cp.Minimize(data + 0.5 * alpha * cp.sum_squares(Wv) + 0.5 * coupling * pen)
    )
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    model = MultiTaskRidge(
        alpha=alpha, coupling=coupling, task_graph=A, task_weights=tw
    )
    model.fit(X, Y, sample_weight=sw)
    f_model = objective(X, Y, model.coef_, model.intercept_, alpha, coupling, A, sw, tw)
    f_cvx = objective(X, Y, Wv.value, bv.value, alpha, coupling, A, sw, tw)
    assert f_model <= f_cvx * (1 + 1e-8)
    assert abs(f_model - f_cvx) <= 1e-8 * abs(f_cvx)
    np.testing.assert_allclose(model.coef_, Wv.value, atol=1e-6)
    np.testing.assert_allclose(model.intercept_, bv.value, atol=1e-6)


def test_default_graph_is_mean_regularization():
    X, Y = make_data(missing=0.3, seed=10)
    model = MultiTaskRidge(alpha=0.1, coupling=3.0).fit(X, Y)
    explicit = MultiTaskRidge(alpha=0.1, coupling=3.0, task_graph=mean_graph(3))
    np.testing.assert_allclose(model.coef_, explicit.fit(X, Y).coef_, rtol=1e-10)
    # gradient of coupling/2 sum_t ||w_t - w_bar||^2 is coupling (w_t - w_bar)
    W, b = model.coef_, model.intercept_
    f = objective(X, Y, W, b, 0.1, 0, np.zeros((3, 3)))
    f += 1.5 * np.sum((W - W.mean(0)) ** 2)
    rng = np.random.default_rng(0)
    for _ in range(5):
        D = 1e-4 * rng.normal(size=W.shape)
        g = objective(X, Y, W + D, b, 0.1, 0, np.zeros((3, 3)))
        g += 1.5 * np.sum((W + D - (W + D).mean(0)) ** 2)
        assert g >= f


def test_edge_list_and_sparse_graph_equal_dense():
    X, Y = make_data(missing=0.3, seed=11)
    A = np.array([[0, 1.0, 0], [1.0, 0, 0.5], [0, 0.5, 0]])
    ref = MultiTaskRidge(alpha=0.1, task_graph=A).fit(X, Y).coef_
    for g in ([(0, 1), (1, 2, 0.5)], sp.csr_matrix(A)):
        coef = MultiTaskRidge(alpha=0.1, task_graph=g).fit(X, Y).coef_
        np.testing.assert_allclose(coef, ref, rtol=1e-12)


def test_zero_task_weight_and_alpha_zero():
    X, Y = make_data(missing=0.3, seed=12)
    tw = [1.0, 0.0, 1.0]
    model = MultiTaskRidge(alpha=0.1, task_weights=tw).fit(X, Y)
    W, b = reference(X, Y, 0.1, 1.0, mean_graph(3), tw=tw)
    np.testing.assert_allclose(model.coef_, W, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.intercept_, b, rtol=1e-8, atol=1e-10)
    for missing in (0.0, 0.3):
        X, Y = make_data(missing=missing, seed=12)
        model = MultiTaskRidge(alpha=0.0, coupling=0.5).fit(X, Y)
        W, b = reference(X, Y, 0.0, 0.5, mean_graph(3))
        np.testing.assert_allclose(model.coef_, W, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("sparse", [False, True])
def test_alpha_zero_underdetermined_is_min_norm_least_squares(sparse):
    from sklearn.linear_model import LinearRegression

    X, Y = make_data(n=10, p=20, missing=0, seed=5)
    Xin = sp.csr_matrix(X) if sparse else X
    model = MultiTaskRidge(alpha=0.0, coupling=0.0).fit(Xin, Y)
    ref = LinearRegression().fit(X, Y)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-10)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, atol=1e-10)


def test_one_dimensional_y_and_pandas():
    X, Y = make_data(missing=0.3, seed=13)
    model = MultiTaskRidge(alpha=0.1).fit(X, Y[:, 0])
    assert model.coef_.shape == (1, X.shape[1]) and model.n_tasks_ == 1
    assert model.predict(X).shape == (len(X),)
    Xdf = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    Ydf = pd.DataFrame(Y, columns=["a", "b", "c"])
    model = MultiTaskRidge(alpha=0.1).fit(Xdf, Ydf)
    assert list(model.task_names_) == ["a", "b", "c"]
    assert list(model.feature_names_in_) == list(Xdf.columns)
    assert model.n_features_in_ == X.shape[1] and model.n_tasks_ == 3
    assert model.predict(Xdf).shape == Y.shape


def test_inputs_not_modified():
    X, Y = make_data(missing=0.3, seed=14)
    sw = np.random.default_rng(0).random(len(X))
    A, tw = mean_graph(3), np.array([1.0, 2.0, 3.0])
    copies = [a.copy() for a in (X, Y, sw, A, tw)]
    Xs = sp.csr_matrix(X)
    Xs_data = Xs.data.copy()
    for Xin in (X, Xs):
        for solver in ("cg", "auto"):
            MultiTaskRidge(task_graph=A, task_weights=tw, solver=solver).fit(
                Xin, Y, sample_weight=sw
            )
    for a, c in zip((X, Y, sw, A, tw), copies, strict=True):
        np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(Xs.data, Xs_data)


def test_grid_search_with_missing_labels():
    X, Y = make_data(n=60, missing=0.3, seed=15)
    grid = GridSearchCV(
        MultiTaskRidge(),
        {"alpha": [1e-3, 1e-1], "coupling": [0.0, 1.0, 10.0]},
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(X, Y)
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_params_["alpha"] == 1e-3
    assert grid.best_estimator_.score(X, Y) > 0.9


def test_convergence_warning_and_verbose(capsys):
    X, Y = make_data(missing=0.3, seed=16)
    with pytest.warns(ConvergenceWarning, match="did not reach"):
        model = MultiTaskRidge(alpha=1e-3, coupling=5.0, max_iter=1).fit(X, Y)
    assert model.n_iter_ == 1
    MultiTaskRidge(solver="cg", verbose=1).fit(X, Y)
    assert "relative residual" in capsys.readouterr().out


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alpha": -1.0}, "alpha"),
        ({"coupling": -0.1}, "coupling"),
        ({"solver": "cholesky"}, "solver"),
        ({"task_graph": np.zeros((2, 2))}, "shape"),
        ({"task_graph": [(0, 5)]}, "out of range"),
        ({"task_weights": [1.0, -1.0, 1.0]}, "non-negative"),
    ],
)
def test_bad_parameters(params, match):
    X, Y = make_data(missing=0.3)
    with pytest.raises(ValueError, match=match):
        MultiTaskRidge(**params).fit(X, Y)


def test_bad_data():
    X, Y = make_data(missing=0.3)
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MultiTaskRidge().fit(Xn, Y)
    Yn = Y.copy()
    Yn[:, 1] = np.nan
    with pytest.raises(ValueError, match="task 1 .*no labelled sample"):
        MultiTaskRidge().fit(X, Yn)
    with pytest.raises(ValueError, match="solver='eigen' needs every label"):
        MultiTaskRidge(solver="eigen").fit(X, Y)
    model = MultiTaskRidge().fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :3])


@parametrize_with_checks(
    [
        MultiTaskRidge(),
        MultiTaskRidge(alpha=0.01, solver="cg"),
        MultiTaskRidge(alpha=0.01, coupling=0.0, fit_intercept=False),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
