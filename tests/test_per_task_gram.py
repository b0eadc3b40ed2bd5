"""Per-task data (each row labelled for one task) in Gram space: the per-task
Grams, the label entries, BCD's Gram mode and FISTA on per-task Grams, each
checked against a direct computation or an independent solver."""

import numpy as np
import pytest

from skmtl import MultiTaskLinearRegression, stack_tasks
from skmtl._solvers.bcd import BCDSolver, task_grams
from skmtl._solvers.datafits import Quadratic
from skmtl._solvers.dispatch import ProblemSolver
from skmtl._solvers.fista import solve_fista
from skmtl._solvers.penalties import make_penalty
from skmtl._validation import make_task_data
from skmtl.linear_model._setup import make_problem

from ._reference import cvxpy_solve


def per_task_data(T=4, n_t=(12, 9, 15, 11), p=5, seed=0, shuffle=False):
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((T, 2)) @ rng.standard_normal((2, p))
    Xs, ys = [], []
    for t in range(T):
        X = rng.standard_normal((n_t[t], p)) + rng.standard_normal(p)
        Xs.append(X)
        ys.append(X @ U[t] + 1.0 + 0.3 * rng.standard_normal(n_t[t]))
    X, Y = stack_tasks(Xs, ys)
    if shuffle:
        order = rng.permutation(X.shape[0])
        X, Y = X[order], Y[order]
    return X, Y


def problem(X, Y, sample_weight=None, task_weights=None):
    data = make_task_data(Y, sample_weight)
    T = Y.shape[1]
    tw = np.ones(T) if task_weights is None else np.asarray(task_weights, float)
    return make_problem(X, data, tw)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_task_grams_match_direct_products(shuffle, weighted):
    X, Y = per_task_data(shuffle=shuffle)
    sw = np.random.default_rng(1).uniform(0.2, 2.0, X.shape[0]) if weighted else None
    X, op, df = problem(X, Y, sw)
    xmean = op.task_means(df.c, df.task_c)
    Q = task_grams(X, op, df.c, xmean, df.task_c)
    s = np.ones(X.shape[0]) if sw is None else sw
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        c = s[m] / s[m].sum()
        Xt = X[m] - np.average(X[m], axis=0, weights=c)
        np.testing.assert_allclose(Q[t], Xt.T @ (c[:, None] * Xt), atol=1e-12)
    # a subset of columns (the working-set Grams)
    cols = np.array([3, 0])
    Qk = task_grams(X[:, cols], op, df.c, xmean[:, cols], df.task_c)
    np.testing.assert_allclose(Qk, Q[:, cols][:, :, cols], atol=1e-12)


@pytest.mark.parametrize("centred", [False, True])
@pytest.mark.parametrize("extra_rows", [0, 3])
def test_task_grams_of_equal_consecutive_tasks_match_direct_products(
    centred, extra_rows
):
    # equal-sized tasks in stack_tasks' layout take one batched product;
    # unequal task weights, trailing unlabelled rows, zero means
    X, Y = per_task_data(n_t=(10, 10, 10, 10))
    rng = np.random.default_rng(2)
    X = np.vstack([X, rng.standard_normal((extra_rows, X.shape[1]))])
    Y = np.vstack([Y, np.full((extra_rows, Y.shape[1]), np.nan)])
    tw = np.array([1.0, 2.5, 0.5, 3.0])
    X, op, df = problem(X, Y, task_weights=tw)
    xmean = op.task_means(df.c, df.task_c) if centred else np.zeros((4, X.shape[1]))
    Q = task_grams(X, op, df.c, xmean, df.task_c)
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        Xt = X[m] - (X[m].mean(axis=0) if centred else 0.0)
        np.testing.assert_allclose(Q[t], tw[t] / m.sum() * Xt.T @ Xt, atol=1e-12)
    # the same as the per-task products of a column-major copy (loop path)
    Qf = task_grams(np.asfortranarray(X), op, df.c, xmean, df.task_c)
    np.testing.assert_allclose(Q, Qf, rtol=0, atol=1e-12)
    # X^T C y of the Gram state: per-task products with the centred targets
    solver = BCDSolver(X, op, df, fit_intercept=centred, mode="gram")
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        yt = Y[m, t] - (Y[m, t].mean() if centred else 0.0)
        np.testing.assert_allclose(
            solver.XtY[t], tw[t] / m.sum() * X[m].T @ yt, rtol=1e-12, atol=1e-12
        )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_gram_state_targets_product_of_long_equal_tasks(weighted, fit_intercept):
    """Equal consecutive tasks long enough for the Gram kernel: ``X^T C y_c``
    comes from the kernel's pass over ``X`` (one weight a task) or from the
    batched product (sample weights): both against per-task products."""
    X, Y = per_task_data(n_t=(70, 70, 70, 70), p=6, seed=3)
    rng = np.random.default_rng(4)
    sw = rng.uniform(0.2, 2.0, X.shape[0]) if weighted else None
    tw = np.array([1.0, 2.5, 0.5, 3.0])
    Xv, op, df = problem(X, Y, sw, task_weights=tw)
    solver = BCDSolver(Xv, op, df, fit_intercept=fit_intercept, mode="gram")
    s = np.ones(X.shape[0]) if sw is None else sw
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        c = tw[t] * s[m] / s[m].sum()
        yt = Y[m, t] - (np.average(Y[m, t], weights=c) if fit_intercept else 0.0)
        ref = X[m].T @ (c * yt)
        np.testing.assert_allclose(solver.XtY[t], ref, rtol=1e-12, atol=1e-12)
        Xt = X[m] - (np.average(X[m], axis=0, weights=c) if fit_intercept else 0.0)
        np.testing.assert_allclose(solver.Q[t], Xt.T @ (c[:, None] * Xt), atol=1e-12)


@pytest.mark.parametrize(
    "T, n_t, p",
    [(3, 150, 50), (2, 64, 1), (2, 70, 3), (3, 100, 9), (2, 600, 13), (1, 251, 128),
     (2, 10, 6), (2, 80, 130)],
)  # fmt: skip
@pytest.mark.parametrize("with_d", [False, True])
def test_block_grams_match_direct_products(T, n_t, p, with_d):
    """The per-task Gram kernel (upper triangle in 4 x 4 tiles, edges,
    several row chunks, a scale per task, ``X_t^T d_t`` in the same pass)
    and its batched-product fallback (few rows, many features) against
    ``X_t^T X_t`` per task: to 1e-13 relative, exactly symmetric."""
    from skmtl._solvers._block_gram import block_grams

    rng = np.random.default_rng(p)
    X3 = rng.standard_normal((T, n_t, p)) + rng.standard_normal(p)
    scale = rng.uniform(0.5, 2.0, T)
    D = rng.standard_normal((T, n_t)) if with_d else None
    Q, XtD = block_grams(X3, scale, D)
    assert Q.shape == (T, p, p) and (XtD is None) == (not with_d)
    for t in range(T):
        ref = scale[t] * (X3[t].T @ X3[t])
        np.testing.assert_allclose(Q[t], ref, rtol=0, atol=1e-13 * np.abs(ref).max())
        np.testing.assert_array_equal(Q[t], Q[t].T)
        if with_d:
            ref = X3[t].T @ D[t]
            np.testing.assert_allclose(XtD[t], ref, rtol=0, atol=1e-13 * n_t)


def _blocks_by_numpy(rows, tasks, c, T):
    """The layout :func:`sorted_blocks` recognises, from its definition."""
    n = rows.size
    if T == 0 or n == 0 or n % T:
        return 0
    n_t = n // T
    want_tasks = np.repeat(np.arange(T), n_t)
    same_c = np.all(c == np.repeat(c[::n_t], n_t))
    ok = np.array_equal(rows, np.arange(n)) and np.array_equal(tasks, want_tasks)
    return n_t if ok and same_c else 0


@pytest.mark.parametrize(
    "case",
    ["stacked", "extra_rows", "unequal", "shuffled", "weighted", "nan_weight",
     "two_labels", "task_order", "one_task"],
)  # fmt: skip
def test_sorted_blocks_recognise_exactly_the_stacked_layout(case):
    """The one-pass check that the entries are ``stack_tasks``' equal-sized
    consecutive blocks of one weight each (no sort, no gathers), against
    the definition in numpy, on layouts that are and are not; where it
    holds, ``task_grams`` gives the same Grams and ``X_t^T d_t`` as the
    per-task products."""
    from skmtl._solvers._block_gram import sorted_blocks

    T = 1 if case == "one_task" else 3
    n_t = (5, 6, 5) if case == "unequal" else (70,) * T
    X, Y = per_task_data(T=T, n_t=n_t, p=6, seed=1, shuffle=case == "shuffled")
    if case == "extra_rows":
        X = np.vstack([X, np.ones((4, 6))])
        Y = np.vstack([Y, np.full((4, T), np.nan)])
    if case == "two_labels":
        Y[3, 1] = 1.0
    if case == "task_order":
        X, Y = X, Y[:, ::-1].copy()
    sw = None
    if case in ("weighted", "nan_weight"):
        sw = np.ones(X.shape[0])
        sw[7] = 2.0
    Xv, op, df = problem(X, Y, sw)
    c = df.c.copy()
    if case == "nan_weight":
        c[:] = 1.0
        c[7] = np.nan
    want = _blocks_by_numpy(op.entry_row, op.entry_task, c, T)
    assert sorted_blocks(op.entry_row, op.entry_task, c, T) == want
    assert (want > 0) == (case in ("stacked", "extra_rows", "one_task"))
    if want and case != "nan_weight":
        d = np.random.default_rng(0).standard_normal(op.entry_row.size)
        Q, XtD = task_grams(Xv, op, c, np.zeros((T, 6)), df.task_c, d=d)
        for t in range(T):
            m = op.entry_task == t
            Xt = X[op.entry_row[m]]
            np.testing.assert_allclose(
                Q[t], c[m][0] * Xt.T @ Xt, rtol=1e-13, atol=1e-12
            )
            np.testing.assert_allclose(XtD[t], Xt.T @ d[m], rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize("shuffle", [False, True])
def test_label_entries_of_one_label_a_row_match_the_nan_mask(shuffle):
    """Per-task data (one label a row, the rows of each task consecutive or
    shuffled, some rows without a label and a few with several): the
    entries, per-task lists and counts equal numpy's ``nonzero`` of the
    mask."""
    X, Y = per_task_data(T=4, n_t=(12, 9, 15, 11), shuffle=shuffle)
    Y = np.vstack([Y, np.full((3, 4), np.nan), [[1.0, np.nan, 2.0, 3.0]]])
    Y = Y[np.random.default_rng(2).permutation(Y.shape[0])] if shuffle else Y
    data = make_task_data(Y)
    mask = ~np.isnan(Y)
    rows, tasks = np.nonzero(mask)
    np.testing.assert_array_equal(data.entry_row, rows)
    np.testing.assert_array_equal(data.entry_task, tasks)
    np.testing.assert_array_equal(data.y, Y[rows, tasks])
    np.testing.assert_array_equal(np.diff(data.row_ptr), mask.sum(axis=1))
    np.testing.assert_array_equal(data.task_counts, mask.sum(axis=0))
    for t in range(4):
        ent = data.task_entries[data.task_ptr[t] : data.task_ptr[t + 1]]
        np.testing.assert_array_equal(data.entry_row[ent], np.flatnonzero(mask[:, t]))


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("T", [1, 3, 37])
def test_label_entries_of_wide_rows_with_infinities(order, T):
    """The label kernel's branch-free count (and task of a row's one label)
    over rows wider than a vector register, column-major input, infinite
    and signed-zero labels: against numpy's ``nonzero`` of the NaN mask."""
    from skmtl._validation import _label_entries

    rng = np.random.default_rng(T)
    Y = rng.standard_normal((60, T))
    Y[rng.random(Y.shape) < 0.8] = np.nan
    Y[np.arange(0, 60, 7), rng.integers(0, T, 9)] = np.inf  # labels, not missing
    Y[np.arange(3, 60, 11), rng.integers(0, T, 6)] = -np.inf
    Y[np.arange(5, 60, 13), rng.integers(0, T, 5)] = -0.0
    Y[10:13] = np.nan  # rows without a label
    Y[20, :] = 1.0  # a row labelled for every task
    Y[30] = np.nan
    Y[30, T - 1] = 2.0  # one label in the last column
    Y = np.asarray(Y, order=order)
    row_ptr, entry_row, entry_task, y, counts, task_ptr, task_entries = _label_entries(
        Y
    )
    mask = ~np.isnan(Y)
    rows, tasks = np.nonzero(mask)
    np.testing.assert_array_equal(entry_row, rows)
    np.testing.assert_array_equal(entry_task, tasks)
    np.testing.assert_array_equal(y, Y[rows, tasks])
    np.testing.assert_array_equal(np.signbit(y), np.signbit(Y[rows, tasks]))
    np.testing.assert_array_equal(np.diff(row_ptr), mask.sum(axis=1))
    np.testing.assert_array_equal(counts, mask.sum(axis=0))
    np.testing.assert_array_equal(np.diff(task_ptr), mask.sum(axis=0))
    for t in range(T):
        ent = task_entries[task_ptr[t] : task_ptr[t + 1]]
        np.testing.assert_array_equal(entry_task[ent], t)
        np.testing.assert_array_equal(entry_row[ent], np.flatnonzero(mask[:, t]))


def test_label_entries_match_the_nan_mask():
    rng = np.random.default_rng(0)
    Y = rng.standard_normal((40, 5))
    Y[rng.random(Y.shape) < 0.6] = np.nan
    Y[0, :] = 1.0  # every task labelled somewhere
    data = make_task_data(Y)
    rows, tasks = np.nonzero(~np.isnan(Y))
    np.testing.assert_array_equal(data.entry_row, rows)
    np.testing.assert_array_equal(data.entry_task, tasks)
    np.testing.assert_array_equal(data.y, Y[rows, tasks])
    np.testing.assert_array_equal(np.diff(data.row_ptr), (~np.isnan(Y)).sum(axis=1))
    for t in range(5):
        ent = data.task_entries[data.task_ptr[t] : data.task_ptr[t + 1]]
        np.testing.assert_array_equal(
            data.entry_row[ent], np.flatnonzero(~np.isnan(Y[:, t]))
        )
    # the input is not modified, and an all-NaN task is still an error
    Y_copy = Y.copy()
    Y[:, 2] = np.nan
    with pytest.raises(ValueError, match="task 2 has no labelled sample"):
        make_task_data(Y)
    Y_copy[:, 2] = np.nan
    np.testing.assert_array_equal(np.isnan(Y), np.isnan(Y_copy))


@pytest.mark.parametrize("layout", ["shuffled", "equal_blocks"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_bcd_gram_mode_on_per_task_data_matches_residual_mode(fit_intercept, layout):
    # "equal_blocks": equal-sized tasks in stack_tasks' order, no sample
    # weights (batched Gram and X^T y products)
    if layout == "shuffled":
        X, Y = per_task_data(shuffle=True)
        sw = np.random.default_rng(2).uniform(0.5, 2.0, X.shape[0])
    else:
        X, Y = per_task_data(n_t=(10, 10, 10, 10))
        sw = None
    X, op, df = problem(X, Y, sw)
    pen = make_penalty("l21", 0.05, Y.shape[1], {})
    out = {}
    for mode in ("gram", "residual"):
        solver = BCDSolver(X, op, df, fit_intercept=fit_intercept, mode=mode)
        out[mode] = solver.solve(
            pen, np.zeros((Y.shape[1], X.shape[1])), tol=1e-12, max_iter=100_000
        )
        assert out[mode].converged
    np.testing.assert_allclose(out["gram"].coef, out["residual"].coef, atol=1e-7)
    np.testing.assert_allclose(
        out["gram"].intercept, out["residual"].intercept, atol=1e-7
    )


def test_auto_picks_per_task_gram_when_tasks_have_p_rows():
    X, Y = per_task_data()  # 9-15 rows per task, p = 5
    X, op, df = problem(X, Y)
    assert BCDSolver(X, op, df).mode == "gram"
    Xw = np.hstack([X, X, X])  # p = 15 > rows per task: residual epochs
    Xw, op, df = problem(Xw, Y)
    assert BCDSolver(Xw, op, df).mode == "residual"


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_trace_fista_on_per_task_grams_matches_fista_and_cvxpy(fit_intercept):
    pytest.importorskip("cvxpy")
    X, Y = per_task_data(shuffle=True)
    T, p = Y.shape[1], X.shape[1]
    sw = np.random.default_rng(3).uniform(0.5, 2.0, X.shape[0])
    tw = np.array([1.0, 2.0, 0.5, 1.5])
    alpha = 0.05
    Xf, op, df = problem(X, Y, sw, tw)
    pen = make_penalty("trace", alpha, T, {})
    solver = ProblemSolver(Xf, op, df, fit_intercept=fit_intercept)
    res = solver.solve(pen, tol=1e-10, max_iter=20000)
    assert solver._gram is not None  # the per-task Gram route was taken
    assert res.converged
    ref = solve_fista(
        op, df, pen, np.zeros((T, p)), fit_intercept=fit_intercept, tol=1e-10,
        max_iter=20000,
    )  # fmt: skip
    np.testing.assert_allclose(res.coef, ref.coef, atol=1e-6)
    np.testing.assert_allclose(res.intercept, ref.intercept, atol=1e-6)
    W, b, obj = cvxpy_solve(
        X, Y, "trace", alpha, fit_intercept=fit_intercept, sample_weight=sw,
        task_weights=tw,
    )  # fmt: skip
    np.testing.assert_allclose(res.coef, W, atol=1e-4)
    # the objective of the fit (computed here from its W and b) is the optimum
    mine = 0.0
    for t in range(T):
        m = ~np.isnan(Y[:, t])
        r = Y[m, t] - X[m] @ res.coef[t] - res.intercept[t]
        mine += 0.5 * tw[t] * float(np.sum(sw[m] * r * r)) / sw[m].sum()
    mine += alpha * np.linalg.svd(res.coef, compute_uv=False).sum()
    assert mine <= obj + 1e-7 * abs(obj)
    assert abs(res.objective - mine) <= 1e-9 * abs(mine)


def test_estimator_trace_on_per_task_data_agrees_with_solver_fista():
    """The estimator (per-task Gram FISTA) and FISTA on X reach the same
    model; a warm start from the fitted model stays there."""
    X, Y = per_task_data(seed=4)
    est = MultiTaskLinearRegression(penalty="trace", alpha=0.03, tol=1e-10)
    est.fit(X, Y)
    Xf, op, df = problem(X, Y)
    pen = make_penalty("trace", 0.03, Y.shape[1], {})
    ref = solve_fista(op, df, pen, np.zeros_like(est.coef_), tol=1e-10)
    np.testing.assert_allclose(est.coef_, ref.coef, atol=1e-5)
    est.set_params(warm_start=True, max_iter=5)
    coef = est.coef_.copy()
    est.fit(X, Y)
    np.testing.assert_allclose(est.coef_, coef, atol=1e-6)


def test_gram_sync_uses_task_scales():
    """``k_t`` scales each task's Hessian also when one Gram per task is
    kept (a warm start on statistics)."""
    rng = np.random.default_rng(0)
    T, p = 3, 4
    A = rng.standard_normal((T, 6, p))
    Q = np.einsum("tia,tib->tab", A, A)
    k = np.array([0.5, 2.0, 1.5])
    state = {
        "Q": Q, "slot": np.arange(T), "k": k, "XtY": rng.standard_normal((T, p)),
        "yy": 10.0, "xmean": np.zeros((T, p)), "ymean": np.zeros(T),
    }  # fmt: skip
    solver = BCDSolver.from_statistics(state)
    W = rng.standard_normal((T, p))
    solver.set_coef(W)
    np.testing.assert_allclose(solver.QW, k[:, None] * np.einsum("tij,tj->ti", Q, W))


def test_quadratic_datafit_is_what_the_gram_state_uses():
    """Gram-state objective at a random W equals the datafit's value."""
    X, Y = per_task_data(seed=5)
    Xf, op, df = problem(X, Y)
    solver = BCDSolver(Xf, op, df, fit_intercept=False, mode="gram")
    state = solver.gram_state()
    W = np.random.default_rng(0).standard_normal((Y.shape[1], X.shape[1]))
    QW = np.matmul(state["Q"], W[:, :, None])[:, :, 0] * state["k"][:, None]
    gram_value = 0.5 * (np.sum(W * QW) - 2 * np.sum(W * state["XtY"]) + state["yy"])
    assert isinstance(df, Quadratic)
    np.testing.assert_allclose(gram_value, df.value(op.matvec(W)), rtol=1e-12)


def test_gram_fista_route_only_where_it_pays():
    """FISTA on per-task Grams: per-task dense data with p rows per task and
    a gap penalty; residual FISTA for sparse X, full labels, wide tasks."""
    import scipy.sparse as sp

    X, Y = per_task_data()
    trace = make_penalty("trace", 0.05, Y.shape[1], {})
    graph = make_penalty("graph", 0.05, Y.shape[1], {})
    Xf, op, df = problem(X, Y)
    assert ProblemSolver(Xf, op, df)._use_gram_fista(trace)
    assert not ProblemSolver(Xf, op, df)._use_gram_fista(graph)  # no gap
    Xs, op, df = problem(sp.csr_array(X), Y)
    assert not ProblemSolver(Xs, op, df)._use_gram_fista(trace)
    Xw, op, df = problem(np.hstack([X, X, X]), Y)  # 15 features, ~12 rows
    assert not ProblemSolver(Xw, op, df)._use_gram_fista(trace)
    Yfull = np.random.default_rng(0).standard_normal((X.shape[0], 2))
    Xf, op, df = problem(X, Yfull)
    assert not ProblemSolver(Xf, op, df)._use_gram_fista(trace)


def test_trace_prox_remembers_the_singular_values_of_its_result():
    """The trace norm of the prox's result from its remembered singular
    values equals the SVD of that result from scratch (a copy), and so does
    the Gram gap that uses it; another array is never taken for it."""
    from skmtl._solvers.bcd import quadratic_gap

    rng = np.random.default_rng(0)
    pen = make_penalty("trace", 0.7, 6, {})
    V = rng.standard_normal((6, 9)) @ np.diag(np.linspace(3.0, 0.1, 9))
    Z = pen.prox(V, 1.0)
    fresh = Z.copy()  # same values, another array: computed from scratch
    direct = np.linalg.svd(fresh, compute_uv=False).sum()
    assert 0 < np.linalg.matrix_rank(Z) < 6  # some values were cut
    assert pen.nonsmooth_value(Z) == pytest.approx(0.7 * direct, rel=1e-13)
    assert pen.nonsmooth_value(fresh) == pytest.approx(0.7 * direct, rel=1e-13)
    U = 0.5 * rng.standard_normal((6, 9))
    gap_memo, primal_memo = quadratic_gap(3.0, Z, U, pen)
    gap_fresh, primal_fresh = quadratic_gap(3.0, fresh, U, pen)
    assert gap_memo == pytest.approx(gap_fresh, rel=1e-12)
    assert primal_memo == pytest.approx(primal_fresh, rel=1e-13)
    # a different array (even of the same shape) is not the remembered one
    other = rng.standard_normal((6, 9))
    expected = 0.7 * np.linalg.svd(other, compute_uv=False).sum()
    assert pen.nonsmooth_value(other) == pytest.approx(expected, rel=1e-13)


def _svd_shrink(W, thresh):
    """The trace norm's prox from numpy's SVD, written out: the oracle."""
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    s = np.maximum(s - thresh, 0.0)
    return (U * s) @ Vt, s[s > 0]


def _with_spectrum(shape, s, seed):
    rng = np.random.default_rng(seed)
    k = len(s)
    U = np.linalg.qr(rng.standard_normal((shape[0], k)))[0]
    V = np.linalg.qr(rng.standard_normal((shape[1], k)))[0]
    return (U * s) @ V.T


SPECTRA = {
    "spread": lambda k: np.linspace(1.0, 0.01, k),
    "graded": lambda k: np.logspace(0, -12, k),
    "cluster": lambda k: (
        np.r_[np.ones(k // 2), np.full(k - k // 2, 0.05)] * (1 + 1e-11 * np.arange(k))
    ),
    "rank 3": lambda k: np.r_[[1.0, 0.5, 0.2], np.zeros(k - 3)],
}


@pytest.mark.parametrize("shape", [(60, 25), (25, 60), (30, 30)])
@pytest.mark.parametrize("spectrum", list(SPECTRA))
@pytest.mark.parametrize("ratio", [1.3, 7.0, 90.0, 900.0])
def test_trace_prox_from_the_gram_matches_the_svd_prox(shape, spectrum, ratio):
    """The prox from the smaller Gram's eigenpairs (all of them, or only
    those above the threshold) equals the SVD's to 1e-12 relative, with the
    same kept singular values, for ``s_max / thresh`` up to 900; the guess
    of how many values are kept changes nothing."""
    from skmtl._solvers.penalties._spectral import (
        _shrink_by_gram,
        singular_value_shrink,
    )

    s = SPECTRA[spectrum](min(shape))
    W = 3.0 * _with_spectrum(shape, s, seed=len(spectrum))
    thresh = 3.0 / ratio
    expected, kept = _svd_shrink(W, thresh)
    scale = max(np.linalg.norm(expected), 1e-300)
    k = min(shape)
    for n_kept, recount in [
        (None, False), (0, False), (2, False), (k, False),
        (max(k // 5, 1), True), (k // 4, True), (k, True),
    ]:  # fmt: skip
        out, values = _shrink_by_gram(W, thresh, n_kept, recount)
        assert np.linalg.norm(out - expected) <= 1e-12 * scale
        np.testing.assert_allclose(values, kept, rtol=1e-12, atol=1e-12 * kept[0])
        res = singular_value_shrink(
            W, thresh, return_values=True, n_kept=n_kept, recount=recount
        )
        np.testing.assert_array_equal(res[0], out)
    assert not np.shares_memory(out, W)


@pytest.mark.parametrize("shape", [(20, 50), (100, 50), (9, 8), (8, 33)])
@pytest.mark.parametrize("spectrum", list(SPECTRA))
def test_trace_prox_kernel_matches_the_svd_prox_on_solver_shapes(shape, spectrum):
    """The numba prox (Gram, LAPACK's eigenpairs, result in one call) and
    its partial route (scipy's dsyevr) against numpy's SVD prox written
    out, on the shapes the solvers meet (per-task logistic ``(20, 50)``,
    MALSAR's ``(100, 50)``) and the smallest the Gram route takes, with
    thresholds cutting inside, below and above the spectrum: to 1e-12 of
    the result's norm or of ``s_max`` (a cut just below a cluster leaves a
    result ~300 times smaller than ``W``, whose rounding error ``~eps
    s_max`` both routes share), the kept values to 1e-12 relative."""
    from skmtl._solvers.penalties._spectral import _shrink_by_gram

    s = SPECTRA[spectrum](min(shape))
    W = 2.0 * _with_spectrum(shape, s, seed=7)
    for thresh in (2.0 * s[1] * 0.999, 2.0 * s[len(s) // 2] * 1.001, 1e-3, 3.0):
        expected, kept = _svd_shrink(W, thresh)
        scale = max(np.linalg.norm(expected), 2.0 * s[0])
        for n_kept in (None, 1, min(shape)):
            res = _shrink_by_gram(W, thresh, n_kept)
            if res is None:  # s_max / thresh beyond the Gram route's limit
                assert 2.0 * s[0] > 1e3 * thresh
                continue
            out, values = res
            assert out.shape == W.shape and out.flags.c_contiguous
            assert np.linalg.norm(out - expected) <= 1e-12 * scale
            assert values.shape == kept.shape
            np.testing.assert_allclose(values, kept, rtol=1e-12, atol=1e-12 * s[0])


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("n_kept", [None, 1])
def test_trace_prox_kernel_falls_back_on_non_finite_input(bad, n_kept):
    """A non-finite entry never reaches LAPACK on the Gram route: it
    returns None (the caller's SVD route, which raises numpy's error)."""
    from skmtl._solvers.penalties._spectral import _shrink_by_gram

    W = np.random.default_rng(0).standard_normal((30, 12))
    W[3, 4] = bad
    assert _shrink_by_gram(W, 0.5, n_kept) is None
    # non-contiguous and float32 input: the same result as a float64 copy
    V = np.random.default_rng(1).standard_normal((12, 30))
    ref = _shrink_by_gram(np.ascontiguousarray(V.T), 0.5, n_kept)
    for view in (V.T, np.asfortranarray(V.T)):
        out, values = _shrink_by_gram(view, 0.5, n_kept)
        np.testing.assert_array_equal(out, ref[0])
        np.testing.assert_array_equal(values, ref[1])


@pytest.mark.parametrize(
    "shape, scale, thresh",
    [((40, 12), 1.0, 1e-4), ((40, 12), 1e-160, 1e-163), ((40, 12), 1e160, 1e158),
     ((6, 5), 1.0, 0.1), ((40, 12), 1.0, 0.0), ((40, 12), 1.0, 100.0)],
)  # fmt: skip
def test_trace_prox_takes_the_svd_where_the_gram_cannot(shape, scale, thresh):
    """A large ``s_max / thresh`` (the Gram route's error grows with it), a
    Gram that would underflow or overflow, a small matrix or a zero
    threshold: the SVD route, the same result as the SVD prox; a threshold
    above every singular value gives zero (either route)."""
    from skmtl._solvers.penalties._spectral import (
        _shrink_by_gram,
        singular_value_shrink,
    )

    W = scale * np.random.default_rng(0).standard_normal(shape)
    thresh = scale * thresh
    expected, kept = _svd_shrink(W, thresh)
    if thresh < 50 * scale:
        assert _shrink_by_gram(W, thresh, None) is None
    out, values = singular_value_shrink(W, thresh, return_values=True)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-13 * np.abs(W).max())
    np.testing.assert_allclose(values, kept, rtol=1e-13)
    if thresh >= 50 * scale:
        assert not np.any(out) and values.size == 0


@pytest.mark.parametrize("n_kept", [None, 0, 3])
@pytest.mark.parametrize("thresh", [0.5, 1.0, 1e3])
def test_trace_prox_of_a_zero_or_small_matrix_is_zero(thresh, n_kept):
    """A zero matrix, or a threshold above every singular value, gives a
    zero result and no kept values on the Gram route (with any guess of
    the kept count: no LAPACK call with an empty interval)."""
    from skmtl._solvers.penalties._spectral import _shrink_by_gram

    for W in (np.zeros((20, 10)), 0.01 * np.ones((10, 20))):
        out, values = _shrink_by_gram(W, thresh, n_kept)
        assert out.shape == W.shape and not np.any(out) and values.size == 0


@pytest.mark.parametrize(
    "shape, scale",
    [((40, 12), 1.0), ((12, 40), 1.0), ((9, 9), 1e-120), ((30, 10), 1e160),
     ((3, 20), 1.0), ((0, 4), 1.0)],
)  # fmt: skip
def test_spectral_norm_matches_the_largest_singular_value(shape, scale):
    """The dual norm of the trace penalty (largest eigenvalue of the
    smaller Gram, or the SVD where the Gram would overflow or underflow)
    equals numpy's 2-norm."""
    from skmtl._solvers.penalties._spectral import spectral_norm

    V = scale * np.random.default_rng(1).standard_normal(shape)
    expected = np.linalg.norm(V, 2) if V.size else 0.0
    assert spectral_norm(V) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("p", [2, 7, 30])
def test_gram_lipschitz_estimate_brackets_the_largest_task_eigenvalue(p):
    """Lanczos on every task's Gram: within 5% of ``max_t k_t
    lambda_max(Q_t)`` (numpy's eigenvalues), never above 1.05 times it;
    tasks with fewer dimensions than steps, and a zero Gram, are fine."""
    from skmtl._solvers.gram_fista import _GramQuadratic

    rng = np.random.default_rng(p)
    T = 5
    A = rng.standard_normal((T, 3 * p, p)) * rng.uniform(0.5, 2.0, (T, 1, p))
    Q = np.einsum("tia,tib->tab", A, A) / (3 * p)
    Q[1] = 0.0
    if p > 2:
        Q[2] = np.outer(A[2, 0], A[2, 0])  # rank one
    k = rng.uniform(0.5, 2.0, T)
    state = {"Q": Q, "k": k, "XtY": rng.standard_normal((T, p)), "yy": 1.0}
    exact = max(k[t] * np.linalg.eigvalsh(Q[t])[-1] for t in range(T))
    L = _GramQuadratic(state).lipschitz()
    assert 0.95 * exact <= L <= 1.05 * exact * (1 + 1e-12)


def test_gram_lipschitz_estimate_with_one_shared_gram():
    """One Gram shared by every task (``Q`` of one slot, the dask route):
    ``max_t k_t lambda_max(Q)`` within 5%, never above 1.05 times it."""
    from skmtl._solvers.gram_fista import _GramQuadratic

    rng = np.random.default_rng(3)
    A = rng.standard_normal((40, 12)) * np.linspace(0.1, 3.0, 12)
    Q = (A.T @ A)[None]
    k = np.array([0.5, 2.5, 1.0])
    state = {"Q": Q, "k": k, "XtY": rng.standard_normal((3, 12)), "yy": 1.0}
    exact = 2.5 * np.linalg.eigvalsh(Q[0])[-1]
    L = _GramQuadratic(state).lipschitz()
    assert 0.95 * exact <= L <= 1.05 * exact * (1 + 1e-12)


@pytest.mark.parametrize("shared", [False, True])
def test_gram_trial_and_extrapolation_match_numpy(shared):
    """The per-task Gram FISTA's trial step (``k_t Q_t x_t``, the squared
    step and the curvature along it, one numba pass for per-task Grams) and
    its extrapolated state against the numpy formulas written out; a shared
    Gram (one slot) takes the numpy route to the same numbers."""
    from skmtl._solvers.gram_fista import GramSmooth, _GramQuadratic

    rng = np.random.default_rng(5)
    T, p = 6, 11
    A = rng.standard_normal((T, 20, p))
    Q = np.einsum("tia,tib->tab", A, A)
    if shared:
        Q = Q[:1]
    k = rng.uniform(0.5, 2.0, T)
    state = {"Q": Q, "k": k, "XtY": rng.standard_normal((T, p)), "yy": 3.0}
    smooth = GramSmooth(_GramQuadratic(state), make_penalty("trace", 0.1, T, {}))
    x_new, y = rng.standard_normal((2, T, p))
    QW_y = rng.standard_normal((T, p))
    QW_new, sq, curv = smooth.trial(x_new, y, QW_y, 1.0)
    ref = np.array([k[t] * Q[0 if shared else t] @ x_new[t] for t in range(T)])
    np.testing.assert_allclose(QW_new, ref, rtol=1e-13, atol=1e-13 * np.abs(ref).max())
    diff = x_new - y
    assert sq == pytest.approx(np.sum(diff * diff), rel=1e-13)
    assert curv == pytest.approx(0.5 * np.sum(diff * (ref - QW_y)), rel=1e-12)
    ext = smooth.extrapolate(QW_new, QW_y, 0.3)
    np.testing.assert_allclose(ext, QW_new + 0.3 * (QW_new - QW_y), rtol=1e-15)


def test_gram_fista_checks_the_gap_often_early_then_every_gap_freq():
    """The per-task Gram FISTA checks its gap at every iteration from the
    second until the spacing ``it // 6`` grows, never more than
    ``gap_freq`` apart; the residual FISTA every ``gap_freq``."""
    from skmtl._solvers.fista import ResidualSmooth
    from skmtl._solvers.gram_fista import GramSmooth

    checks = [it for it in range(1, 200) if GramSmooth.check_due(it, 10)]
    assert checks[:10] == list(range(2, 12))
    spacing = np.diff(checks)
    assert spacing.max() == 10
    assert np.all(spacing <= np.array(checks[1:]) // 6 + 1)
    assert [it for it in range(1, 40) if ResidualSmooth.check_due(it, 10)] == [
        10, 20, 30,
    ]  # fmt: skip


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_trace_per_task_gram_fista_meets_its_gap_against_cvxpy(fit_intercept):
    """Stopped by the (more frequent) gap checks at tol 1e-6, the per-task
    Gram FISTA's objective is within 1e-6 (relative) of cvxpy's optimum and
    its reported gap bounds the distance."""
    X, Y = per_task_data(seed=7)
    est = MultiTaskLinearRegression(
        penalty="trace", alpha=0.05, tol=1e-6, fit_intercept=fit_intercept
    ).fit(X, Y)
    assert est.solver_ == "fista"
    W, b, p_star = cvxpy_solve(X, Y, "trace", 0.05, fit_intercept=fit_intercept)
    Xf, op, df = problem(X, Y)
    f = (
        op.matvec(est.coef_)
        + np.broadcast_to(est.intercept_, (Y.shape[1],))[df.entry_task]
    )
    obj = df.value(f) + 0.05 * np.linalg.svd(est.coef_, compute_uv=False).sum()
    assert obj >= p_star - 1e-8 * abs(p_star)
    assert obj - p_star <= est.dual_gap_ + 1e-8 * abs(p_star)
    assert obj - p_star <= 1e-6 * abs(p_star) + 1e-6 * df.scale(fit_intercept)


def test_fit_reads_per_task_targets_without_copy_or_change():
    """``fit`` no longer copies a float64 ``Y``: the input stays unchanged
    (NaN positions and values), and an infinite label is still an error
    (checked on the labelled entries)."""
    X, Y = per_task_data(seed=8)
    Y_before = Y.copy()
    MultiTaskLinearRegression(penalty="trace", alpha=0.05).fit(X, Y)
    np.testing.assert_array_equal(Y, Y_before)
    Ybad = Y.copy()
    Ybad[np.flatnonzero(~np.isnan(Y[:, 2]))[3], 2] = -np.inf
    with pytest.raises(ValueError, match="infinity"):
        MultiTaskLinearRegression(penalty="l21", alpha=0.05).fit(X, Ybad)


@pytest.mark.parametrize("shape", [(30, 12), (12, 30), (100, 50), (1, 5)])
def test_spectral_lower_bound_by_power_steps(shape):
    """The trace penalty's dual-norm lower bound (power steps on ``V^T V``)
    never exceeds numpy's largest singular value, reaches it within 1e-10
    with enough steps, and its warm start (the last vector) makes two steps
    on a nearby matrix close (1e-6)."""
    from skmtl._solvers.penalties._spectral import _spectral_lower

    rng = np.random.default_rng(sum(shape))
    k = min(shape)
    U, _ = np.linalg.qr(rng.standard_normal((shape[0], k)))
    Vt, _ = np.linalg.qr(rng.standard_normal((shape[1], k)))
    V = (U * np.linspace(3.0, 0.2, k)) @ Vt.T  # singular values 3 > 2.x > ...
    exact = 3.0
    for steps in (1, 2, 5):
        lo, u = _spectral_lower(V, np.zeros(0), steps)
        assert lo <= exact * (1 + 1e-14)
    lo, u = _spectral_lower(V, np.zeros(0), 300)
    assert lo == pytest.approx(exact, rel=1e-10)
    assert np.linalg.norm(u) == pytest.approx(1.0, rel=1e-14)
    V2 = V + 1e-4 * rng.standard_normal(shape)
    lo2, _ = _spectral_lower(V2, u, 2)
    exact2 = np.linalg.svd(V2, compute_uv=False)[0]
    assert exact2 * (1 - 1e-6) <= lo2 <= exact2 * (1 + 1e-14)
    assert _spectral_lower(np.zeros(shape), np.zeros(0), 2)[0] == 0.0


@pytest.mark.parametrize("alpha", [0.02, 0.3, 3.0])
def test_gram_gap_lower_bound_is_below_the_gap(alpha):
    """``GramSmooth.gap_lower`` (the gap's minimum over the dual scalings
    a dual-norm lower bound allows) never exceeds the exact gap, written
    out here with numpy's spectral norm: at random points, at prox outputs
    (the solver's iterates) and at the optimum's neighbourhood."""
    from skmtl._solvers.gram_fista import GramSmooth, _GramQuadratic

    rng = np.random.default_rng(int(alpha * 100))
    T, p, n_t = 8, 6, 20
    A = rng.standard_normal((T, n_t, p))
    y = A @ rng.standard_normal(p) + rng.standard_normal((T, n_t))
    Q = np.einsum("tia,tib->tab", A, A) / n_t
    k = np.full(T, float(n_t))
    XtY = np.einsum("tia,ti->ta", A, y)
    state = {"Q": Q, "k": k, "XtY": XtY, "yy": float(np.sum(y * y))}
    pen = make_penalty("trace", alpha * np.linalg.norm(XtY, 2) / 3, T, {})
    smooth = GramSmooth(_GramQuadratic(state), pen)
    for trial in range(20):
        W = rng.standard_normal((T, p)) * 10.0 ** rng.uniform(-3, 0)
        if trial % 2:
            W = pen.prox(W, 1.0)
        QW = smooth.state(W)
        V = XtY - QW
        rr = state["yy"] - 2 * np.sum(W * XtY) + np.sum(W * QW)
        dn = np.linalg.norm(V, 2)
        s = min(1.0, pen.lam / dn)
        trace = np.linalg.svd(W, compute_uv=False).sum()
        exact = 0.5 * (1 - s) ** 2 * rr + pen.alpha * trace - s * np.sum(W * V)
        assert smooth.gap(W, QW)[0] == pytest.approx(exact, rel=1e-9, abs=1e-12)
        assert smooth.gap_lower(W, QW) <= exact * (1 + 1e-12)


@pytest.mark.parametrize("alpha", [0.3, 0.03])
def test_skipped_gap_checks_change_no_decision(alpha, monkeypatch):
    """Skipping the gap checks that the lower bound proves too large gives
    the same fit bit for bit (coefficients, iterations, reported gap) as
    checking the exact gap every time."""
    from skmtl._solvers import gram_fista

    X, Y = per_task_data(T=6, n_t=(30, 25, 40, 28, 33, 31), p=8, seed=3)

    def fit(tol):
        model = MultiTaskLinearRegression(penalty="trace", alpha=alpha, tol=tol)
        return model.fit(X, Y)

    for tol in (1e-3, 1e-6, 1e-10):
        fast = fit(tol)
        with monkeypatch.context() as m:
            m.setattr(gram_fista.GramSmooth, "gap_lower", lambda self, Z, QW: -np.inf)
            slow = fit(tol)
        assert fast.n_iter_ == slow.n_iter_
        assert 0 < np.linalg.matrix_rank(fast.coef_) < 6
        assert np.array_equal(fast.coef_, slow.coef_)
        assert np.array_equal(fast.intercept_, slow.intercept_)


def test_prefetch_hint_changes_no_value():
    """The cache-line request the Gram kernel and the label scan issue
    compiles in a numba kernel, at any index of the array (its ends
    included), and leaves every value as it was: a sum with a request
    before each read equals numpy's sum."""
    from numba import njit

    from skmtl._solvers._memory import prefetch

    @njit
    def requested_sum(a):
        total = 0.0
        for i in range(a.size):
            prefetch(a, a.size - 1 - i)
            total += a[i]
        return total

    a = np.random.default_rng(0).standard_normal(1000)
    before = a.copy()
    assert requested_sum(a) == pytest.approx(np.sum(a), rel=1e-12)
    assert np.array_equal(a, before)


@pytest.mark.parametrize("n", [1, 5, 28, 50])
def test_eigenvalue_count_above_a_level_matches_numpy(n):
    """The inertia count that picks the trace prox's route (``LDL^T`` of
    ``A - level I``) against numpy's eigenvalues, at levels between
    eigenvalues (Gram matrices of several spreads, a rank-deficient one),
    below all of them and above all of them."""
    from skmtl._solvers.penalties._spectral import _count_above

    rng = np.random.default_rng(n)
    for scale in (1.0, 1e-3, 1e4):
        B = rng.standard_normal((n + 3, n)) * np.geomspace(1.0, 1e-2, n)
        if n > 4 and scale == 1.0:
            B[:, : n // 2] = 0.0  # rank deficient: zero eigenvalues
        A = scale * (B.T @ B)
        lam = np.linalg.eigvalsh(A)
        levels = [-1.0, 2 * lam[-1] + 1.0]
        levels += [0.5 * (lam[i] + lam[i + 1]) for i in range(n - 1)
                   if lam[i + 1] - lam[i] > 1e-8 * lam[-1]]  # fmt: skip
        for level in levels:
            assert _count_above(A, level) == int(np.sum(lam > level))


def test_trace_prox_recounts_while_the_kept_values_fall(monkeypatch):
    """The trace penalty's prox checks its guess by a count only when the
    last two proxes' counts fell (early iterations), and the fit is the
    same with and without the count (any route gives the same prox)."""
    from skmtl._solvers.penalties import _spectral

    calls = []
    real = _spectral.singular_value_shrink

    def spy(W, thresh, **kwargs):
        calls.append((kwargs["n_kept"], kwargs["recount"]))
        return real(W, thresh, **kwargs)

    counts = []
    real_count = _spectral._count_above

    def count_spy(A, level):
        counts.append(real_count(A, level))
        return counts[-1]

    # 30 x 20 coefficients of rank 2: the kept counts fall 13, 12, 9, 5, ...
    X, Y = per_task_data(T=30, n_t=(40,) * 30, p=20, seed=5)
    model = MultiTaskLinearRegression(penalty="trace", alpha=2.5, tol=1e-8)
    monkeypatch.setattr(_spectral, "singular_value_shrink", spy)
    monkeypatch.setattr(_spectral, "_count_above", count_spy)
    fast = model.fit(X, Y).coef_.copy()
    kept = [k for k, _ in calls[1:]]  # each call's guess: the count before
    for i, (guess, recount) in enumerate(calls):
        assert recount == (i >= 2 and kept[i - 2] > guess)
    assert counts and min(counts) <= 3  # a count sent a guess of 4-6 of 20
    assert np.linalg.matrix_rank(fast) == 2
    monkeypatch.setattr(
        _spectral, "singular_value_shrink",
        lambda W, thresh, **kw: real(W, thresh, **{**kw, "recount": False}),
    )  # fmt: skip
    slow = model.fit(X, Y).coef_
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12 * np.abs(slow).max())


@pytest.mark.parametrize("shape", [(100, 50), (12, 30), (9, 8)])
def test_spectral_norm_bound_certificate(shape):
    """``Trace.dual_norm_at_most`` (a Cholesky test of ``bound^2 I - V^T
    V``) certifies bounds above numpy's spectral norm by a relative 1e-6 or
    more and never one below it; zero, non-finite and empty inputs."""
    from skmtl._solvers.penalties._spectral import Trace

    pen = Trace(1.0)
    rng = np.random.default_rng(shape[0])
    for trial in range(10):
        V = rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 3)
        if trial % 3 == 0:
            V[:, : shape[1] // 2] = 0.0  # rank deficient
        dn = np.linalg.norm(V, 2)
        for factor in (1 + 1e-6, 1.01, 3.0):
            assert pen.dual_norm_at_most(V, dn * factor)
        for factor in (1 - 1e-9, 1 - 1e-6, 0.5):
            assert not pen.dual_norm_at_most(V, dn * factor)
    assert pen.dual_norm_at_most(np.zeros(shape), 1e-3)
    assert not pen.dual_norm_at_most(np.zeros(shape), 0.0)
    bad = np.ones(shape)
    bad[0, 0] = np.inf
    assert not pen.dual_norm_at_most(bad, 1e300)
    assert not pen.dual_norm_at_most(np.zeros((0, 3)), 1.0)


def test_gram_gap_with_a_certified_dual_norm_is_the_same_number(monkeypatch):
    """Where the dual norm is certified below ``lam`` (the last lower bound
    well below it), the Gram FISTA's gap needs no norm: a fit whose last
    check takes that route gives bit for bit the fit, gap and iterations
    without the certificate (the exact norm every time)."""
    from skmtl._solvers.penalties._spectral import Trace

    X, Y = per_task_data(T=40, n_t=(60,) * 40, p=12, seed=2)
    real = Trace.dual_norm_at_most
    used = []

    def spy(self, V, bound):
        used.append(real(self, V, bound))
        return used[-1]

    def fit():
        model = MultiTaskLinearRegression(
            penalty="trace", alpha=5.0, tol=1e-3, fit_intercept=False
        )
        return model.fit(X, Y)

    monkeypatch.setattr(Trace, "dual_norm_at_most", spy)
    fast = fit()
    assert used and used[-1]  # the last check was certified
    monkeypatch.setattr(Trace, "dual_norm_at_most", lambda self, V, b: False)
    slow = fit()
    assert fast.n_iter_ == slow.n_iter_
    assert fast.dual_gap_ == slow.dual_gap_
    assert np.array_equal(fast.coef_, slow.coef_)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize(
    "layout",
    ["per_task", "per_task_intercept", "unlabelled_row", "unequal", "full"],
)
def test_trace_fit_checks_X_finite_in_the_solver(monkeypatch, bad, layout):
    """Validation leaves the finite check of ``X`` to the trace fit's
    solver: on per-task data the per-task Grams' diagonals serve (no
    separate pass over ``X``), elsewhere the column statistics. Either way
    a non-finite ``X`` raises scikit-learn's own error (the message
    ``check_array`` gives), before any solver runs (no floating-point
    warning on the way) and without changing ``X``; a finite ``X`` fits
    exactly as with the check in validation."""
    from sklearn.utils.validation import check_array

    import skmtl._solvers.design as design

    n_t = (70, 90, 80) if layout == "unequal" else (70, 70, 70)
    X, Y = per_task_data(T=3, n_t=n_t, p=6, seed=5)
    if layout == "unlabelled_row":
        X = np.vstack([X, np.ones((1, 6))])
        Y = np.vstack([Y, np.full((1, 3), np.nan)])
    if layout == "full":
        Y = np.where(np.isnan(Y), 0.5, Y)
    intercept = layout == "per_task_intercept"
    passes = []
    column_stats = design.column_min_max_sum
    monkeypatch.setattr(
        design, "column_min_max_sum", lambda A: passes.append(1) or column_stats(A)
    )

    def fit(Xin):
        return MultiTaskLinearRegression(
            penalty="trace", alpha=0.05, fit_intercept=intercept, tol=1e-8
        ).fit(Xin, Y)

    good = fit(X)
    # per-task data without an intercept: the Grams' pass is the only one
    assert (len(passes) == 0) == (layout == "per_task")
    monkeypatch.setattr(
        MultiTaskLinearRegression, "_finite_check_in_solver", lambda self: False
    )
    np.testing.assert_array_equal(fit(X).coef_, good.coef_)
    monkeypatch.undo()
    row = X.shape[0] - 1 if layout == "unlabelled_row" else 100
    Xbad = X.copy()
    Xbad[row, 2] = bad
    with pytest.raises(ValueError) as want:
        check_array(Xbad, estimator=MultiTaskLinearRegression(), input_name="X")
    before = Xbad.copy()
    with pytest.raises(ValueError) as got:
        fit(Xbad)
    assert str(got.value) == str(want.value)
    np.testing.assert_array_equal(Xbad, before)
