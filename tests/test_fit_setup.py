"""Per-fit set-up shortcuts of the shared-X squared-loss fit (issue 14):
the column statistics computed by input validation's finite check and
handed to the design operator, the one-pass target centring, and the
cached parameter validation. Each is checked against the plain formula or
the code path it replaces (scikit-learn's own validation, numpy)."""

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose
from sklearn.linear_model import MultiTaskLasso as SkMultiTaskLasso
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_array

import skmtl
from skmtl import MultiTaskElasticNet, MultiTaskLasso, MultiTaskLinearRegression
from skmtl._solvers.bcd import BCDSolver, _centre_targets_full
from skmtl._solvers.datafits import Quadratic
from skmtl._solvers.design import DesignOperator
from skmtl._validation import make_task_data, validate_X
from skmtl.linear_model._setup import make_problem


def _problem(n=40, p=6, T=3, seed=0, order="C"):
    rng = np.random.default_rng(seed)
    X = np.asarray(rng.standard_normal((n, p)), order=order)
    W = rng.standard_normal((T, p)) * (rng.random(p) < 0.6)
    Y = X @ W.T + 2.0 + 0.1 * rng.standard_normal((n, T))
    return X, Y


@pytest.mark.parametrize("order", ["C", "F"])
def test_validation_returns_the_column_statistics(order):
    X, _ = _problem(order=order)
    X[:, 2] = 7.5  # a constant column
    X2, stats = validate_X(MultiTaskLasso(), X, reset=True, return_column_stats=True)
    assert X2 is X
    lo, hi, total = stats
    assert np.array_equal(lo, X.min(axis=0))
    assert np.array_equal(hi, X.max(axis=0))
    assert_allclose(total, X.sum(axis=0), rtol=1e-13, atol=1e-13)
    # without the flag: the array only, as before
    assert validate_X(MultiTaskLasso(), X, reset=True) is X


def test_no_column_statistics_off_the_direct_path():
    """float32, lists, sparse and DataFrames go through scikit-learn's
    validate_data (or convert later): no statistics, the solver computes
    its own."""
    import scipy.sparse as sp

    X, _ = _problem()
    for Xin in (X.astype(np.float32), X.tolist(), sp.csr_array(X)):
        _, stats = validate_X(
            MultiTaskLasso(), Xin, reset=True, return_column_stats=True
        )
        assert stats is None
    # an overflowing sum of finite values falls back to the exact check
    Xbig = X.copy()
    Xbig[:2, 0] = 1e308
    X2, stats = validate_X(MultiTaskLasso(), Xbig, reset=True, return_column_stats=True)
    assert stats is None and np.array_equal(X2, Xbig)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [(0, 0), (17, 3), (39, 5)])
def test_non_finite_X_raises_scikit_learns_error(order, value, where):
    """The finite check now reads the column sums: every non-finite entry
    (first row, last row, any column) still raises scikit-learn's error."""
    X, Y = _problem(order=order)
    X[where] = value
    with pytest.raises(ValueError) as theirs:
        check_array(X, input_name="X", estimator=MultiTaskLasso())
    with pytest.raises(ValueError) as ours:
        MultiTaskLasso(alpha=0.01).fit(X, Y)
    assert str(ours.value) == str(theirs.value)
    # a column holding both infinities (sum NaN) too
    X[1, 4], X[2, 4] = np.inf, -np.inf
    with pytest.raises(ValueError, match="Input X contains"):
        MultiTaskLasso(alpha=0.01).fit(X, Y)


def test_assume_finite_still_skips_the_check():
    X, Y = _problem()
    with sklearn.config_context(assume_finite=True):
        _, stats = validate_X(MultiTaskLasso(), X, reset=True, return_column_stats=True)
    assert stats is not None and np.isfinite(stats[2]).all()


@pytest.mark.parametrize("order", ["C", "F"])
def test_handed_statistics_equal_the_operators_own(order):
    """The design operator built with validation's statistics holds the
    same numbers it computes itself, and the offset-column recentring and
    task means read them."""
    X, Y = _problem(order=order)
    X[:, 1] = 1e8 + 1e-3 * X[:, 1]  # near-constant column around 1e8
    data = make_task_data(Y)
    _, stats = validate_X(MultiTaskLasso(), X, reset=True, return_column_stats=True)
    _, op, _ = make_problem(X, data, np.ones(3), column_stats=stats)
    _, op_own, _ = make_problem(X, data, np.ones(3))
    assert op.column_stats()[0] is stats[0]
    for a, b in zip(op.column_stats(), op_own.column_stats(), strict=True):
        assert np.array_equal(a, b)
    # float32 input converts to float64 there: the statistics are not used
    _, op32, _ = make_problem(
        X.astype(np.float32), data, np.ones(3), column_stats=stats
    )
    assert op32.column_stats()[0] is not stats[0]


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weights", [False, True])
def test_fit_matches_scikit_learn(order, dtype, weights):
    """The whole fit path (statistics from validation, one-pass centring)
    against scikit-learn, C and Fortran order, float32 and float64, with
    and without (integer) sample weights, including a near-constant column
    around 1e8 that the offset recentring shifts."""
    X, Y = _problem(n=60, p=8, T=3, seed=3, order=order)
    X[:, 5] = 1e8 + X[:, 5]
    X = np.asarray(X, dtype=dtype, order=order)
    sw = np.random.default_rng(1).integers(1, 4, X.shape[0]) if weights else None
    ours = MultiTaskLasso(alpha=0.05, tol=1e-10, max_iter=10_000)
    ours.fit(X, Y, sample_weight=sw)
    if weights:  # integer weights equal repeated rows
        rows = np.repeat(np.arange(X.shape[0]), sw)
        Xr, Yr = np.asarray(X[rows], dtype=np.float64), Y[rows]
    else:
        Xr, Yr = np.asarray(X, dtype=np.float64), Y
    ref = SkMultiTaskLasso(alpha=0.05, tol=1e-12, max_iter=100_000).fit(Xr, Yr)
    rtol = 1e-4 if dtype == np.float32 else 1e-6
    assert_allclose(ours.coef_, ref.coef_, rtol=rtol, atol=rtol)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=rtol, atol=rtol * 1e3)


def test_fit_with_missing_labels_is_unchanged_by_the_statistics():
    """NaN labels: the shared-X shortcuts do not apply to the targets, the
    column statistics still do; the fit equals one that computes its own
    statistics (X passed as a subclass, which takes validate_data)."""

    class Sub(np.ndarray):
        pass

    X, Y = _problem(n=50, p=6, T=3, seed=5)
    Y[::4, 1] = np.nan
    Y[1::5, 2] = np.nan
    a = MultiTaskLasso(alpha=0.02, tol=1e-10).fit(X, Y)
    b = MultiTaskLasso(alpha=0.02, tol=1e-10).fit(X.view(Sub), Y)
    assert_allclose(a.coef_, b.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(a.intercept_, b.intercept_, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("T", [4, 1, 5, 9])  # (the kernel sums 4 tasks a pass)
def test_centre_targets_full_is_the_numpy_formula(fit_intercept, weights, T):
    rng = np.random.default_rng(7)
    n = 37
    Y = rng.standard_normal((n, T)) + 1e3
    Y[:, T // 2] = 5.25  # a constant task: its mean is exact
    sw = rng.random(n) + 0.5 if weights else None
    data = make_task_data(Y, sw)
    c = data.entry_weights(np.resize([1.0, 2.0, 0.5, 1.0], T))
    task_c = np.bincount(data.entry_task, weights=c, minlength=T)
    C2 = c.reshape(n, T)
    ymean, yc, yy, cy = _centre_targets_full(Y, C2, task_c, fit_intercept)
    assert cy.size == 0
    if fit_intercept:
        first = Y[0]
        expected = first + np.sum(C2 * (Y - first), axis=0) / task_c
    else:
        expected = np.zeros(T)
    assert np.array_equal(ymean, expected)  # same sums in the same order
    assert ymean[T // 2] == (5.25 if fit_intercept else 0.0)
    assert np.array_equal(yc, (Y - expected).reshape(-1))
    assert_allclose(yy, np.dot(c, yc * yc), rtol=1e-13)
    # with the weighted centred targets: numpy's products, the same yy
    ymean2, yc2, yy2, cy = _centre_targets_full(Y, C2, task_c, fit_intercept, True)
    assert np.array_equal(ymean2, ymean) and np.array_equal(yc2, yc) and yy2 == yy
    assert np.array_equal(cy, c * ((Y - expected).reshape(-1)))
    # and the solver's state built from it
    Xd = rng.standard_normal((n, 3))
    op = DesignOperator(Xd, data.row_ptr, data.entry_row, data.entry_task, T)
    solver = BCDSolver(Xd, op, Quadratic(data.y, c, data.entry_task, T),
                       fit_intercept=fit_intercept)  # fmt: skip
    assert np.array_equal(solver.ymean, expected)


def test_parameter_validation_still_raises_after_a_valid_fit():
    """Validated parameter sets are remembered per class; invalid ones are
    never remembered and raise scikit-learn's error every time, and the
    type is part of the key (``fit_intercept=1`` is not ``True``)."""
    X, Y = _problem()
    MultiTaskLasso(alpha=0.01, fit_intercept=True).fit(X, Y)
    MultiTaskLasso(alpha=0.01, fit_intercept=True).fit(X, Y)  # remembered
    for _ in range(2):
        with pytest.raises(InvalidParameterError, match="'fit_intercept' parameter"):
            MultiTaskLasso(alpha=0.01, fit_intercept=1).fit(X, Y)
        with pytest.raises(InvalidParameterError, match="'alpha' parameter"):
            MultiTaskLasso(alpha=-0.01).fit(X, Y)
        with pytest.raises(InvalidParameterError, match="'alpha' parameter"):
            MultiTaskLasso(alpha=np.float64(-0.01)).fit(X, Y)
        with pytest.raises(InvalidParameterError, match="'max_iter' parameter"):
            MultiTaskLasso(alpha=0.01, max_iter=0).fit(X, Y)
    # a valid set on one class does not vouch for another class's constraints
    MultiTaskElasticNet(alpha=0.01, l1_ratio=0.5).fit(X, Y)
    with pytest.raises(InvalidParameterError, match="'l1_ratio' parameter"):
        MultiTaskElasticNet(alpha=0.01, l1_ratio=2.0).fit(X, Y)
    # non-scalar values (lists, objects) are validated on every fit
    m = MultiTaskLinearRegression(alpha=0.01, task_weights=[1.0, 1.0, 1.0])
    m.fit(X, Y)
    m.set_params(task_weights="heavy")
    with pytest.raises(InvalidParameterError, match="'task_weights' parameter"):
        m.fit(X, Y)
    # a parameter changed to an invalid value after a valid fit
    m = MultiTaskLasso(alpha=0.01).fit(X, Y)
    m.set_params(tol=-1.0)
    with pytest.raises(InvalidParameterError, match="'tol' parameter"):
        m.fit(X, Y)


def test_small_numeric_arrays_are_part_of_the_validated_key(monkeypatch):
    """A small numeric ndarray parameter (``task_weights``) keys the
    remembered validation by dtype, shape and bytes: the same array again
    skips scikit-learn's validation, any change (a value, the shape, the
    dtype) runs it; object and large arrays are never remembered."""
    from skmtl.linear_model import _base

    X, Y = _problem()
    calls = []
    real = _base.validate_parameter_constraints

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_base, "validate_parameter_constraints", counting)
    _base._VALIDATED_PARAMS.clear()
    w = np.array([1.0, 2.0, 0.5])
    for weights, validated in [
        (w, 1), (w.copy(), 0), (np.array([1.0, 2.0, 0.25]), 1),
        (w.astype(np.float32), 1), (w.reshape(3, 1), 1), (w, 0),
    ]:  # fmt: skip
        before = len(calls)
        model = MultiTaskLinearRegression(alpha=0.01, task_weights=weights)
        try:
            model.fit(X, Y)
        except ValueError:  # (a (3, 1) array is refused by the fit itself)
            pass
        assert len(calls) - before == validated
    key = _base._plain_params_key
    assert key({"a": w}) != key({"a": w.reshape(1, 3)})
    assert key({"a": np.array([1.0, None], dtype=object)}) is None
    assert key({"a": np.zeros(_base._MAX_KEY_ARRAY + 1)}) is None
    assert key({"a": np.zeros(_base._MAX_KEY_ARRAY)}) is not None


@pytest.mark.parametrize("weights", [False, True])
def test_switch_to_the_full_gram_reuses_the_first_gradient(weights):
    """The full Gram built mid-fit takes X^T C y_c from the residual
    epochs' first gradient (at W = 0) instead of another product with X:
    the same numbers to rounding, and the fit equals scikit-learn's."""
    rng = np.random.default_rng(11)
    n, p, T = 120, 40, 3
    X = np.asfortranarray(rng.standard_normal((n, p)))
    Y = X @ rng.standard_normal((T, p)).T + 3.0 + rng.standard_normal((n, T))
    sw = rng.integers(1, 4, n).astype(float) if weights else None
    data = make_task_data(Y, sw)
    _, op, datafit = make_problem(X, data, np.ones(T))
    solver = BCDSolver(X, op, datafit, mode="residual")
    _, V = solver._state()  # the first gradient, at W = 0
    assert solver._V_zero is V
    solver._build_gram()
    reference = op.rmatvec(datafit.c * solver.yc)
    assert solver.XtY is V
    assert_allclose(V, reference, rtol=1e-12, atol=1e-12 * np.abs(reference).max())
    # once an epoch moved the residual, the gradient is no longer kept
    fresh = BCDSolver(X, op, datafit, mode="residual")
    from skmtl._solvers.penalties._sparsity import L21

    pen = L21(0.01)
    fresh._epoch(np.arange(p, dtype=np.int64), pen)
    fresh._state()
    assert fresh._V_zero is None
    # a near-full support on a problem where the fit switches to the full Gram
    amax = np.max(np.linalg.norm(reference, axis=0))
    ours = MultiTaskLasso(alpha=amax / 100, tol=1e-10, max_iter=10_000)
    ours.fit(X, Y, sample_weight=sw)
    ref = SkMultiTaskLasso(alpha=amax / 100, tol=1e-12, max_iter=100_000)
    rows = np.repeat(np.arange(n), sw.astype(int)) if weights else np.arange(n)
    ref.fit(X[rows], Y[rows])  # integer weights equal repeated rows
    assert ours.solver_ == "bcd"
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-6)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda tw: skmtl.MultiTaskLasso(alpha=0.01, task_weights=tw),
        lambda tw: skmtl.MultiTaskLasso(
            alpha=0.01, task_weights=tw, fit_intercept=False
        ),
        lambda tw: skmtl.MultiTaskLinearRegression(
            alpha=0.01, penalty="trace", task_weights=tw
        ),
        lambda tw: skmtl.MultiTaskLogisticRegression(alpha=0.01, task_weights=tw),
        lambda tw: skmtl.MultiTaskLassoCV(cv=2, n_alphas=3, task_weights=tw),
    ],
)
def test_a_zero_task_weight_is_a_clear_error(make):
    # (the ridge models and the MLP define it: tests/test_ridge.py, test_mlp.py)
    # it used to give an all-NaN model (intercept: a 0 / 0 task mean) or an
    # all-zero logistic model with no error
    X, Y = _problem()
    est = make([1.0, 0.0, 1.0])
    if isinstance(est, skmtl.MultiTaskLogisticRegression):
        Y = (Y > np.median(Y, axis=0)).astype(float)
    with pytest.raises(ValueError, match=r"task_weights\[1\] is 0"):
        est.fit(X, Y)
    make([1.0, 1e-3, 1.0]).fit(X, Y)  # small but positive: fine


# ---------------------------------------------------------------------------
# every label present: the entry index arrays are built only on first use


def _eager_task_data(Y, sw=None):
    """``TaskData`` built with the general labelling kernel (the code path
    targets with a missing label take), for targets without NaN."""
    from skmtl._validation import TaskData, _label_entries

    n, T = Y.shape
    row_ptr, entry_row, entry_task, y, counts, task_ptr, task_entries = _label_entries(
        np.asarray(Y, dtype=np.float64)
    )
    ew = np.ones(n * T) if sw is None else np.repeat(sw, T)
    return TaskData(
        n_samples=n, n_tasks=T, row_ptr=row_ptr, entry_row=entry_row,
        entry_task=entry_task, y=y, sample_weight=ew, task_ptr=task_ptr,
        task_entries=task_entries, task_counts=counts,
        task_weight_sums=ew.reshape(n, T).sum(axis=0), unit_weights=sw is None,
    )  # fmt: skip


@pytest.mark.parametrize("shape", [(7, 3), (1, 4), (5, 1)])
def test_full_entry_layout_is_the_labelling_kernels(shape):
    from skmtl._solvers.design import full_entry_layout
    from skmtl._validation import _label_entries

    Y = np.arange(np.prod(shape), dtype=float).reshape(shape)
    row_ptr, entry_row, entry_task, y, counts, task_ptr, task_entries = _label_entries(
        Y
    )
    expected = (row_ptr, entry_row, entry_task, task_ptr, task_entries)
    for got, want in zip(full_entry_layout(*shape), expected, strict=True):
        assert got.dtype == np.int64
        assert np.array_equal(got, want)
    assert np.array_equal(y, Y.reshape(-1))


@pytest.mark.parametrize("weights", [False, True])
def test_full_task_data_is_lazy_and_equal_to_the_general_path(weights):
    rng = np.random.default_rng(3)
    n, T = 9, 4
    Y = rng.standard_normal((n, T))
    sw = rng.random(n) + 0.5 if weights else None
    data = make_task_data(Y, sw)
    eager = _eager_task_data(Y, sw)
    assert data.lazy_layout and not eager.lazy_layout
    assert data.is_full and data.n_entries == n * T
    tw = np.array([1.0, 2.0, 0.5, 3.0])
    # entry weights first: they need no index array
    assert np.array_equal(data.entry_weights(tw), eager.entry_weights(tw))
    assert np.array_equal(data.entry_weights(), eager.entry_weights())
    assert data.lazy_layout
    assert np.array_equal(data.y, Y.reshape(-1))
    assert not np.shares_memory(data.y, Y)
    for name in ("task_counts", "task_weight_sums"):
        assert np.array_equal(getattr(data, name), getattr(eager, name))
    # the plain formula c_(i,t) = w_t s_i / sum_i s_i
    s = np.ones(n) if sw is None else sw
    assert_allclose(
        data.entry_weights(tw).reshape(n, T), np.outer(s, tw) / s.sum(), rtol=1e-14
    )
    for name in ("row_ptr", "entry_row", "entry_task", "task_ptr", "task_entries",
                 "sample_weight"):  # fmt: skip
        assert np.array_equal(getattr(data, name), getattr(eager, name)), name
    assert not data.lazy_layout
    values = rng.standard_normal(n * T)
    assert np.array_equal(data.to_dense(values), values.reshape(n, T))


def test_targets_with_a_missing_label_keep_the_general_path():
    Y = np.ones((4, 2))
    Y[2, 1] = np.nan
    data = make_task_data(Y)
    assert not data.lazy_layout and data.n_entries == 7
    assert data.entry_task.tolist() == [0, 1, 0, 1, 0, 0, 1]
    # inf - inf in the sum is NaN without a NaN cell: the general path,
    # which labels every cell, gives the same entries
    Y = np.array([[np.inf, 1.0], [-np.inf, 2.0]])
    data = make_task_data(Y)
    assert data.n_entries == 4 and not data.lazy_layout
    assert np.array_equal(data.y, Y.reshape(-1))


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_lazy_problem_solves_exactly_as_the_general_one(weights, fit_intercept):
    """``make_problem`` on lazy full targets (no index array handed to the
    operator and the datafit) against the same problem with the index
    arrays built by the general kernel: the same solver state and the same
    solution, bit for bit, on the Gram and residual BCD modes."""
    from skmtl._solvers.design import task_sums

    rng = np.random.default_rng(5)
    X, Y = _problem(n=60, p=8, T=3, seed=5)
    sw = rng.random(60) + 0.5 if weights else None
    tw = np.array([1.0, 0.5, 2.0])
    lazy, eager = make_task_data(Y, sw), _eager_task_data(Y, sw)
    _, op_l, df_l = make_problem(X, lazy, tw)
    _, op_e, df_e = make_problem(X, eager, tw)
    assert op_l.n_entries == op_e.n_entries and op_l.full and op_l.mode == "blas"
    assert np.array_equal(df_l.task_c, df_e.task_c)
    assert np.array_equal(df_l.task_c, task_sums(df_e.c, df_e.entry_task, 3))
    W = rng.standard_normal((3, 8))
    for mode in ("gram", "residual"):
        results = []
        for op, df in ((op_l, df_l), (op_e, df_e)):
            solver = BCDSolver(X, op, df, fit_intercept=fit_intercept, mode=mode)
            state = [solver.ymean, solver.yc, solver.xmean, solver.yy]
            F = op.matvec(W)
            results.append(state + [F, op.rmatvec(df.derivative(F))])
        for u, v in zip(*results, strict=True):
            assert np.array_equal(u, v)
    assert lazy.lazy_layout  # neither mode nor the BLAS products needed them
    # a solver that reads them gets the general kernel's arrays
    for name in ("row_ptr", "entry_row", "entry_task"):
        assert np.array_equal(getattr(op_l, name), getattr(op_e, name))
    assert np.array_equal(df_l.entry_task, df_e.entry_task)
    assert op_l.entry_task is lazy.entry_task is df_l.entry_task  # built once


def test_lazy_operator_row_kernels_and_intercepts():
    """The row-kernel mode and the intercepts at zero on a lazy operator /
    datafit built without ``TaskData`` (the layout is made on first use)."""
    X, Y = _problem(n=30, p=5, T=4, seed=2)
    n, T = Y.shape
    eager = _eager_task_data(Y)
    c = eager.entry_weights()
    op = DesignOperator(X, None, None, None, T, mode="rows")
    op_e = DesignOperator(X, eager.row_ptr, eager.entry_row, eager.entry_task, T,
                          mode="rows")  # fmt: skip
    df = Quadratic(Y.reshape(-1).copy(), c, None, T)
    df_e = Quadratic(eager.y, c, eager.entry_task, T)
    W = np.random.default_rng(0).standard_normal((T, 5))
    assert np.array_equal(op.matvec(W), op_e.matvec(W))
    d = np.arange(n * T, dtype=float)
    assert np.array_equal(op.rmatvec(d), op_e.rmatvec(d))
    assert np.array_equal(df.intercepts_at_zero(), df_e.intercepts_at_zero())
    assert_allclose(df.intercepts_at_zero(), Y.mean(axis=0), rtol=1e-13)


@pytest.mark.parametrize("weights", [False, True])
def test_full_targets_fit_matches_scikit_learn(weights):
    """Tall shared-X fit (the lazy path end to end) against scikit-learn."""
    rng = np.random.default_rng(7)
    X, Y = _problem(n=400, p=6, T=3, seed=7, order="F")
    sw = rng.random(400) + 0.5 if weights else None
    ours = MultiTaskLasso(alpha=0.02, tol=1e-14, max_iter=100_000).fit(X, Y, sw)
    ref = SkMultiTaskLasso(alpha=0.02, tol=1e-14, max_iter=100_000)
    ref.fit(X, Y, sample_weight=sw)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-10, atol=1e-12)


def test_full_gram_ahead_gives_the_same_iterates(monkeypatch):
    """A working-set solve whose support fills the set, with every feature
    violating at the last certificate, goes straight to the full Gram
    (no product with X for a residual-mode certificate): the same epochs and
    coefficients as deciding after that certificate, and scikit-learn's
    solution."""
    from skmtl._solvers import bcd

    rng = np.random.default_rng(3)
    n, p, T = 300, 120, 5  # n >= p, p <= 40 T: the full Gram pays
    X = np.asfortranarray(rng.standard_normal((n, p)))
    Y = X @ rng.standard_normal((T, p)).T + 1.0 + rng.standard_normal((n, T))
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    amax = np.max(np.linalg.norm(Xc.T @ Yc, axis=1)) / n
    calls = []
    ahead = bcd.BCDSolver._full_gram_ahead

    def spy(self, run):
        calls.append(ahead(self, run))
        return calls[-1]

    monkeypatch.setattr(bcd.BCDSolver, "_full_gram_ahead", spy)
    fast = MultiTaskLasso(alpha=amax / 100, tol=1e-8, max_iter=10_000).fit(X, Y)
    assert True in calls  # the early switch fired
    monkeypatch.setattr(bcd.BCDSolver, "_full_gram_ahead", lambda self, run: False)
    slow = MultiTaskLasso(alpha=amax / 100, tol=1e-8, max_iter=10_000).fit(X, Y)
    assert fast.n_iter_ == slow.n_iter_
    assert_allclose(fast.coef_, slow.coef_, rtol=1e-9, atol=1e-12)
    ref = SkMultiTaskLasso(alpha=amax / 100, tol=1e-12, max_iter=100_000).fit(X, Y)
    assert_allclose(fast.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    assert_allclose(fast.intercept_, ref.intercept_, rtol=1e-5, atol=1e-6)


def test_full_label_working_set_solve_builds_no_entry_layout():
    """With every label present the (n, T) path never reads the per-entry
    index arrays: a fit through working sets solved on their Gram keeps
    them unbuilt."""
    from skmtl._solvers.dispatch import ProblemSolver
    from skmtl._solvers.penalties._sparsity import L21

    rng = np.random.default_rng(4)
    n, p, T = 200, 150, 4
    X = np.asfortranarray(rng.standard_normal((n, p)))
    Y = X[:, :5] @ rng.standard_normal((T, 5)).T + rng.standard_normal((n, T))
    data = make_task_data(Y)
    X, op, datafit = make_problem(X, data, np.ones(T))
    res = ProblemSolver(X, op, datafit).solve(L21(0.05), solver="bcd", tol=1e-8)
    assert data.lazy_layout
    ref = SkMultiTaskLasso(alpha=0.05, tol=1e-12, max_iter=100_000).fit(X, Y)
    assert_allclose(res.coef, ref.coef_, rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore:Cross-validation selected")
@pytest.mark.parametrize("order", ["C", "F"])
def test_path_and_cv_take_the_statistics_from_validation(order, monkeypatch):
    """``check_array_X`` (regularization_path) and the CV estimators' full
    problem read X's column statistics once, in validation; the same
    statistics, and check_array's result and errors otherwise."""
    import scipy.sparse as sp

    from skmtl._solvers import design
    from skmtl._validation import check_array_X
    from skmtl.model_selection import regularization_path

    X, Y = _problem(order=order)
    X2, stats = check_array_X(X, return_column_stats=True)
    assert X2 is X
    assert np.array_equal(stats[0], X.min(axis=0))
    assert np.array_equal(stats[1], X.max(axis=0))
    assert_allclose(stats[2], X.sum(axis=0), rtol=1e-13, atol=1e-13)
    for Xin in (X.astype(np.float32), X.tolist(), sp.csr_array(X)):
        X3, none = check_array_X(Xin, return_column_stats=True)
        assert none is None
        assert type(X3) is type(check_array_X(Xin))
    Xbad = X.copy()
    Xbad[5, 2] = np.nan
    with pytest.raises(ValueError) as theirs:
        check_array(Xbad, accept_sparse=["csr", "csc"])
    with pytest.raises(ValueError) as ours:
        regularization_path(Xbad, Y, "l21", n_alphas=3)
    assert str(ours.value) == str(theirs.value)
    # one statistics pass over the full X (the folds' rows are new arrays)
    seen = []
    kernel = design.column_min_max_sum

    def spy(A):
        seen.append(A.shape)
        return kernel(A)

    monkeypatch.setattr(design, "column_min_max_sum", spy)
    monkeypatch.setattr(skmtl._validation, "column_min_max_sum", spy)
    path = regularization_path(X, Y, "l21", n_alphas=4)
    assert seen.count(X.shape) == 1
    seen.clear()
    cv = skmtl.MultiTaskLassoCV(n_alphas=4, cv=2).fit(X, Y)
    assert seen.count(X.shape) == 1
    # and the numbers are those of a float32 -> float64 copy (no statistics)
    monkeypatch.undo()
    path64 = regularization_path(X.tolist(), Y, "l21", n_alphas=4)
    assert_allclose(path.coefs, path64.coefs, rtol=1e-10, atol=1e-12)
    cv64 = skmtl.MultiTaskLassoCV(n_alphas=4, cv=2).fit(X.tolist(), Y)
    assert cv.alpha_ == cv64.alpha_
    assert_allclose(cv.coef_, cv64.coef_, rtol=1e-10, atol=1e-12)


def test_finite_label_check_rides_on_the_nan_probe():
    """With every label present, the sum that looks for NaN also proves the
    labels finite; an infinite label (alone, or with an overflowing sum)
    still raises the same error, and finite labels whose sum overflows
    still fit."""
    X, Y = _problem()
    data = make_task_data(Y)
    assert data.lazy_layout and data.labels_finite
    Ynan = Y.copy()
    Ynan[3, 1] = np.nan
    assert not make_task_data(Ynan).labels_finite  # (general path: checked)
    for bad in (np.inf, -np.inf):
        Yinf = Y.copy()
        Yinf[7, 2] = bad
        data = make_task_data(Yinf)
        assert not data.labels_finite
        with pytest.raises(ValueError, match="Y contains infinity"):
            MultiTaskLasso(alpha=0.01).fit(X, Yinf)
    Ybig = Y.copy()
    Ybig[:2, 0] = 1e308  # finite labels, an infinite sum
    assert not make_task_data(Ybig).labels_finite
    with np.errstate(all="ignore"):
        MultiTaskLasso(alpha=0.01).fit(X, Ybig)  # no ValueError


def test_no_early_full_gram_when_max_iter_stops_the_fit(monkeypatch):
    """The early switch builds the full Gram only for epochs that will run:
    a fit whose max_iter ends with the first working-set solve keeps its
    residual state; one more epoch runs on the full Gram."""
    from skmtl._solvers import bcd
    from skmtl._solvers.dispatch import ProblemSolver
    from skmtl._solvers.penalties._sparsity import L21

    rng = np.random.default_rng(3)
    n, p, T = 300, 120, 5
    X = np.asfortranarray(rng.standard_normal((n, p)))
    Y = X @ rng.standard_normal((T, p)).T + 1.0 + rng.standard_normal((n, T))
    X, op, datafit = make_problem(X, make_task_data(Y), np.ones(T))
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    pen = L21(np.max(np.linalg.norm(Xc.T @ Yc, axis=1)) / n / 100)
    first = []
    solve_ws = bcd.BCDSolver._solve_ws_in_gram_space

    def spy(self, *args):
        out = solve_ws(self, *args)
        first.append(out[0])
        return out

    monkeypatch.setattr(bcd.BCDSolver, "_solve_ws_in_gram_space", spy)
    ProblemSolver(X, op, datafit).solve(pen, solver="bcd", tol=1e-8)
    e0 = first[0]
    solver = ProblemSolver(X, op, datafit)
    res = solver.solve(pen, solver="bcd", tol=1e-8, max_iter=e0)
    assert res.n_iter == e0 and not res.converged
    assert solver._bcd.mode == "residual"
    solver = ProblemSolver(X, op, datafit)
    solver.solve(pen, solver="bcd", tol=1e-8, max_iter=e0 + 1)
    assert solver._bcd.mode == "gram"


@pytest.mark.parametrize("n, T", [(0, 3), (1, 1), (7, 3), (50, 5)])
def test_tiled_rows_is_numpys_tile(n, T):
    """The unit entry weights' fill: the same array as ``np.tile``, and
    ``TaskData.entry_weights`` equals the general formula's values."""
    from skmtl._solvers.design import tiled_rows

    v = np.random.default_rng(n).random(T)
    assert np.array_equal(tiled_rows(v, n), np.tile(v, n))
    if n:
        Y = np.random.default_rng(1).standard_normal((n, T))
        data = make_task_data(Y)
        tw = np.linspace(0.5, 2.0, T)
        expected = np.tile(tw / np.full(T, float(n)), n)
        assert_allclose(data.entry_weights(tw), expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("task_weights", [None, [0.5, 1.0, 2.0], [1.0, 1e-300, 3.0]])
def test_tiled_weights_factor_as_the_general_check(task_weights):
    """With every label and no sample weights, ``make_problem`` tells the
    operator that ``c`` is ``n`` copies of one row: its factors (and the
    task means, the shared Gram's inputs) are the general check's, bit for
    bit, and the row factor is constant (no pass over it)."""
    rng = np.random.default_rng(3)
    X = np.asfortranarray(rng.standard_normal((40, 6)))
    data = make_task_data(rng.standard_normal((40, 3)))
    tw = np.ones(3) if task_weights is None else np.asarray(task_weights)
    _, op, df = make_problem(X, data, tw)
    assert op._tiled_weights is not None
    plain = DesignOperator(X, None, None, None, 3)  # no shortcut
    assert plain._tiled_weights is None
    got = op.factored_weights(df.c, df.task_c)
    # the general formula, written out: c_(i,t) = s_i k_t with s the column
    # of the heaviest task
    C = df.c.reshape(40, 3)
    t_star = int(np.argmax(df.task_c))
    assert np.array_equal(got[0], C[:, t_star])
    assert np.array_equal(got[1], df.task_c / df.task_c[t_star])
    ref = plain.factored_weights(df.c, df.task_c)
    assert np.array_equal(got[0], ref[0]) and np.array_equal(got[1], ref[1])
    assert op.uniform_rows(got[0]) and plain.uniform_rows(ref[0])
    assert np.array_equal(
        op.task_means(df.c, df.task_c), plain.task_means(df.c, df.task_c)
    )
    # other weights than the tiled ones: the general check
    c2 = df.c * rng.uniform(0.5, 2.0, size=df.c.size)
    t2 = np.bincount(np.repeat([[0, 1, 2]], 40, axis=0).ravel(), weights=c2)
    assert op.factored_weights(c2, t2) is None
    # fits through make_problem and without the shortcut agree bit for bit
    # (on a C-ordered X: a Fortran one would also take validation's product
    # with the targets, tested on its own below)
    sw = [None, np.ones(40)]  # unit sample weights take the general path
    Xr = np.ascontiguousarray(X)
    fits = [MultiTaskLasso(alpha=0.05, tol=1e-10).fit(Xr, data.y.reshape(40, 3), w)
            for w in sw]  # fmt: skip
    assert np.array_equal(fits[0].coef_, fits[1].coef_)
    assert np.array_equal(fits[0].intercept_, fits[1].intercept_)


def test_offset_column_check_is_numpys_flags():
    """The one-call check before the offset recentring flags exactly the
    columns of the numpy formula ``|mean| > 1e3 * (max - min)`` (NaN, inf
    and constant columns included), and the recentring still shifts."""
    from skmtl._solvers.dispatch import ProblemSolver, _any_offset_column

    rng = np.random.default_rng(5)
    for case in range(40):
        X = rng.standard_normal((9, 4)) * 10.0 ** rng.integers(-3, 4, 4)
        j = case % 4
        X[:, j] += [0.0, 1e8, -1e8, 5.0][case % 4] * (case % 3 != 0)
        if case % 5 == 0:
            X[:, (j + 1) % 4] = 2.5  # constant column: spread 0
        if case == 7:
            X[0, 0] = np.inf
        if case == 8:
            X[0, 1] = np.nan
        lo, hi, total = X.min(0), X.max(0), X.sum(0)
        expected = bool(np.any(np.abs(total / X.shape[0]) > 1e3 * (hi - lo)))
        assert _any_offset_column(lo, hi, total, X.shape[0]) == expected
    X = np.asfortranarray(rng.standard_normal((30, 4)))
    X[:, 2] = 1e8 + 1e-3 * X[:, 2]
    data = make_task_data(rng.standard_normal((30, 2)))
    X, op, df = make_problem(X, data, np.ones(2), column_stats=None)
    assert ProblemSolver(X, op, df).shift[2] != 0.0


@pytest.mark.parametrize("n, T", [(0, 3), (1, 1), (3, 4), (7, 5), (60, 9), (50, 3)])
def test_full_task_sums_add_down_the_rows_in_order(n, T):
    """The task sums of the full layout (four tasks per pass) are the
    sequential sums down each column, bit for bit: the same numbers as
    ``task_sums`` over the row-major entries and a Python loop."""
    from skmtl._solvers.design import full_entry_layout, full_task_sums, task_sums

    rng = np.random.default_rng(n + T)
    V = rng.standard_normal((n, T)) * 10.0 ** rng.integers(-8, 8, (n, T))
    expected = np.zeros(T)
    for i in range(n):  # one row at a time: the order of the sequential sums
        expected = expected + V[i]
    got = full_task_sums(V)
    assert np.array_equal(got, expected)
    task = full_entry_layout(n, T)[2]
    assert np.array_equal(got, task_sums(V.reshape(-1), task, T))


@pytest.mark.parametrize("T", [1, 2, 3, 4, 5, 7, 10, 12])
def test_column_stats_and_targets_is_the_numpy_formula(T):
    """Validation's pass over a Fortran ``X`` with the targets: the column
    statistics are ``column_min_max_sum``'s, bit for bit, and the product
    is ``(Y - mean(Y))^T X`` written in numpy (every task group: 4, 2, 1)."""
    from skmtl._solvers.design import column_min_max_sum, column_stats_and_targets

    rng = np.random.default_rng(T)
    X = np.asfortranarray(rng.standard_normal((41, 7)) + 3.0)
    Y = rng.standard_normal((41, T)) * 2.0 + 1e3
    stats = column_stats_and_targets(X, Y)
    lo, hi, total = stats  # (unpacks as the plain statistics)
    ref = column_min_max_sum(X)
    for got, want in zip((lo, hi, total), ref, strict=True):
        assert np.array_equal(got, want)
    mu, XtD, first, last = stats.targets
    assert_allclose(mu, Y.mean(axis=0), rtol=1e-14)
    D = Y - mu  # (mu: checked above; the product is around it)
    assert_allclose(
        XtD, D.T @ X, rtol=1e-12, atol=1e-13 * (np.abs(D).T @ np.abs(X)).max()
    )
    assert np.array_equal(first, Y[0]) and np.array_equal(last, Y[-1])
    # a non-finite X still shows in its column's sum (validation's check)
    X[5, 3] = np.nan
    assert not np.isfinite(column_stats_and_targets(X, Y)[2][3])


def test_column_stats_and_targets_skips_what_it_does_not_serve():
    """C-ordered X, too many tasks or target entries, non-float or
    column-major targets, other row counts and a missing label in the first
    or last row: only the statistics (the same values), no product."""
    from skmtl._solvers.design import (
        TARGETS_PASS_MAX_ENTRIES,
        TARGETS_PASS_MAX_TASKS,
        column_min_max_sum,
        column_stats_and_targets,
    )

    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.standard_normal((30, 4)))
    Y = rng.standard_normal((30, 3))
    Y_nan = Y.copy()
    Y_nan[-1, 1] = np.nan
    n_big = TARGETS_PASS_MAX_ENTRIES // 2 + 1
    X_big = np.asfortranarray(rng.standard_normal((n_big, 1)))
    for Xa, Ya in [
        (np.ascontiguousarray(X), Y),
        (X_big, rng.standard_normal((n_big, 2))),
        (X, rng.standard_normal((30, TARGETS_PASS_MAX_TASKS + 1))),
        (X, np.ones((30, 3), dtype=np.int64)),
        (X, np.asfortranarray(Y)),
        (X, Y[:29]),
        (X, Y[:, 0]),
        (X, Y_nan),
        (X, [[1.0, 2.0, 3.0]] * 30),
    ]:
        stats = column_stats_and_targets(Xa, Ya)
        assert stats.targets is None
        for got, want in zip(stats, column_min_max_sum(Xa), strict=True):
            assert np.array_equal(got, want)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", [(60, 8), (30, 40)])  # Gram / residual mode
def test_first_gradient_from_validation_is_x_transpose_centred_targets(
    fit_intercept, shape
):
    """The solver's first gradient from validation's product equals ``X^T
    (Y - ymean)`` computed by numpy, in both modes, with and without an
    intercept, for targets far from zero (the product is taken around
    their mean: no cancellation) and a first row far from the rest; and
    only for the targets it was computed on."""
    from skmtl._solvers.design import column_stats_and_targets

    n, p = shape
    rng = np.random.default_rng(p)
    X = np.asfortranarray(rng.standard_normal((n, p)) + 0.5)
    Y = rng.standard_normal((n, 4)) + 1e6
    Y[0] += 50.0  # an outlying first row
    stats = column_stats_and_targets(X, Y)
    data = make_task_data(Y)
    _, op, df = make_problem(X, data, np.ones(4), column_stats=stats)
    solver = BCDSolver(X, op, df, fit_intercept=fit_intercept)
    ymean = Y.mean(axis=0) if fit_intercept else np.zeros(4)
    want = (Y - ymean).T @ X
    assert_allclose(solver._xtyc, want, rtol=1e-9, atol=1e-9 * np.abs(want).max())
    rr, V = solver._state()  # the first certificate's gradient, c = 1 / n
    assert_allclose(V, want / n, rtol=1e-9, atol=1e-9 * np.abs(want).max() / n)
    # the product of other targets is not used
    other = make_task_data(Y[::-1].copy())
    _, op2, df2 = make_problem(X, other, np.ones(4), column_stats=stats)
    assert op2.targets_product(df2.y) is None
    assert BCDSolver(X, op2, df2, fit_intercept=fit_intercept)._xtyc is None


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", [(80, 10), (40, 60)])
def test_fits_with_validation_product_match_the_plain_path(fit_intercept, shape):
    """A Fortran ``X`` (first gradient from validation's pass) gives the
    fit of a C-ordered one (the BLAS product, as before) to the solver's
    precision, and scikit-learn's."""
    n, p = shape
    rng = np.random.default_rng(n)
    X = np.asfortranarray(rng.standard_normal((n, p)))
    W = rng.standard_normal((3, p)) * (rng.random(p) < 0.3)
    # far from zero with an intercept; without one, an offset the model fits
    Y = X @ W.T + (1e4 if fit_intercept else 0.5) + 0.1 * rng.standard_normal((n, 3))
    Yc = Y - Y.mean(axis=0) if fit_intercept else Y
    Xc = X - X.mean(axis=0) if fit_intercept else X
    alpha = np.max(np.linalg.norm(Xc.T @ Yc, axis=1)) / n / 20
    kw = dict(alpha=alpha, tol=1e-12, max_iter=100_000, fit_intercept=fit_intercept)
    a = MultiTaskLasso(**kw).fit(X, Y)
    b = MultiTaskLasso(**kw).fit(np.ascontiguousarray(X), Y)
    assert_allclose(a.coef_, b.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(a.intercept_, b.intercept_, rtol=1e-10, atol=1e-8)
    sk = SkMultiTaskLasso(**kw).fit(X, Y)
    assert_allclose(a.coef_, sk.coef_, rtol=1e-5, atol=1e-7)
