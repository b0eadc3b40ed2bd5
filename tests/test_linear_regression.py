import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn import linear_model as sklm
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl import MultiTaskElasticNet, MultiTaskLasso, MultiTaskLinearRegression
from skmtl._solvers.penalties import PENALTIES
from skmtl.metrics import make_multitask_scorer

from ._reference import cvxpy_solve, objective
from .conftest import make_per_task_problem, make_problem

TIGHT = dict(tol=1e-12, max_iter=100_000)


# ---------------------------------------------------------------- scikit-learn
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("shape", [(120, 10), (40, 60)])  # gram / residual modes
@pytest.mark.parametrize("alpha_frac", [0.5, 0.05])
def test_lasso_matches_sklearn(fit_intercept, sparse, shape, alpha_frac):
    n, p = shape
    X, Y = make_problem(n=n, p=p, T=4, seed=1)
    if sparse:
        X[np.abs(X) < 0.6] = 0.0
    alpha_max = (
        np.max(
            np.linalg.norm(
                (X - X.mean(0) * fit_intercept).T @ (Y - Y.mean(0) * fit_intercept),
                axis=1,
            )
        )
        / n
    )
    alpha = alpha_frac * alpha_max
    ref = sklm.MultiTaskLasso(alpha=alpha, fit_intercept=fit_intercept, **TIGHT)
    ref.fit(X, Y)
    Xin = sp.csr_array(X) if sparse else X
    ours = MultiTaskLasso(alpha=alpha, fit_intercept=fit_intercept, **TIGHT)
    ours.fit(Xin, Y)
    scale = np.abs(ref.coef_).max()
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-5 * scale)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-5 * scale)
    assert ours.dual_gap_ >= -1e-12


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("l1_ratio", [0.2, 0.7])
def test_elasticnet_matches_sklearn(fit_intercept, sparse, l1_ratio):
    X, Y = make_problem(n=60, p=25, T=3, seed=2)
    if sparse:
        X[np.abs(X) < 0.6] = 0.0
    ref = sklm.MultiTaskElasticNet(
        alpha=0.1, l1_ratio=l1_ratio, fit_intercept=fit_intercept, **TIGHT
    ).fit(X, Y)
    Xin = sp.csc_array(X) if sparse else X
    ours = MultiTaskElasticNet(
        alpha=0.1, l1_ratio=l1_ratio, fit_intercept=fit_intercept, **TIGHT
    ).fit(Xin, Y)
    scale = np.abs(ref.coef_).max()
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-5 * scale)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("solver", ["bcd", "fista"])
def test_solvers_agree(solver):
    X, Y = make_problem(n=50, p=30, T=3, missing=0.3, seed=3)
    ref = MultiTaskLasso(alpha=0.05, **TIGHT).fit(X, Y)
    ours = MultiTaskLasso(alpha=0.05, solver=solver, **TIGHT).fit(X, Y)
    assert_allclose(ours.coef_, ref.coef_, atol=1e-7)
    assert ours.solver_ == solver


def test_l1_equals_independent_lasso_per_task():
    X, Y = make_per_task_problem()
    alpha = 0.05
    ours = MultiTaskLinearRegression(penalty="l1", alpha=alpha, **TIGHT).fit(X, Y)
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        ref = sklm.Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X[m], Y[m, t])
        assert_allclose(ours.coef_[t], ref.coef_, atol=1e-7)
        assert_allclose(ours.intercept_[t], ref.intercept_, atol=1e-7)


# ---------------------------------------------------- missing labels: optimality
@pytest.mark.parametrize("penalty", ["l21", "l1", "elasticnet", "sparse_group"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_missing_labels_match_cvxpy(penalty, fit_intercept):
    pytest.importorskip("cvxpy")
    X, Y = make_problem(n=40, p=8, T=3, missing=0.35, seed=4)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, size=X.shape[0])
    model = MultiTaskLinearRegression(
        penalty=penalty,
        alpha=0.08,
        l1_ratio=0.4 if penalty != "l21" else None,
        fit_intercept=fit_intercept,
        **TIGHT,
    ).fit(X, Y, sample_weight=sw)
    W, b, obj = cvxpy_solve(
        X, Y, penalty, 0.08, l1_ratio=0.4, fit_intercept=fit_intercept, sample_weight=sw
    )
    pen = (
        model._get_penalty_for_tests()
        if hasattr(model, "_get_penalty_for_tests")
        else None
    )
    from skmtl._solvers.penalties import make_penalty

    pen = make_penalty(penalty, 0.08, Y.shape[1], {"l1_ratio": 0.4})
    ours = objective(X, Y, model.coef_, model.intercept_, pen.value(model.coef_), sw)
    assert ours <= obj * (1 + 1e-7) + 1e-10
    assert_allclose(model.coef_, W, atol=2e-5)
    assert_allclose(model.intercept_, b, atol=2e-5)


@pytest.mark.parametrize("penalty", ["l21", "l1", "elasticnet", "sparse_group"])
def test_missing_labels_kkt(penalty):
    """Gradient of the DESIGN objective, computed here from scratch, is in the
    penalty's subdifferential at the solution; intercepts are stationary."""
    X, Y = make_problem(n=60, p=15, T=4, missing=0.5, seed=5)
    model = MultiTaskLinearRegression(
        penalty=penalty, alpha=0.05, l1_ratio=0.6 if penalty != "l21" else None, **TIGHT
    )
    model.fit(X, Y)
    W, b = model.coef_, model.intercept_
    G = np.zeros_like(W)
    for t in range(Y.shape[1]):
        m = ~np.isnan(Y[:, t])
        r = Y[m, t] - X[m] @ W[t] - b[t]
        G[t] = -X[m].T @ r / m.sum()
        assert abs(r.mean()) < 1e-9  # intercept is optimal
    from skmtl._solvers.penalties import make_penalty

    pen = make_penalty(penalty, 0.05, Y.shape[1], {"l1_ratio": 0.6})
    assert pen.kkt_violation(W, G).max() < 1e-6


# -------------------------------------------------------------- data handling
def test_integer_sample_weight_equals_repeating_rows():
    X, Y = make_problem(n=30, p=6, T=2, missing=0.3, seed=6)
    sw = np.random.default_rng(1).integers(0, 4, size=30)
    sw[0] = 1
    a = MultiTaskLasso(alpha=0.05, **TIGHT).fit(X, Y, sample_weight=sw)
    rep = np.repeat(np.arange(30), sw)
    b = MultiTaskLasso(alpha=0.05, **TIGHT).fit(X[rep], Y[rep])
    assert_allclose(a.coef_, b.coef_, atol=1e-8)
    assert_allclose(a.intercept_, b.intercept_, atol=1e-8)


def test_float32_and_inputs_unchanged():
    X, Y = make_problem(n=40, p=6, T=2, missing=0.2, seed=7)
    X32 = X.astype(np.float32)
    X_copy, Y_copy = X32.copy(), Y.copy()
    sw = np.ones(40)
    model = MultiTaskLasso(alpha=0.01, **TIGHT).fit(X32, Y, sample_weight=sw)
    assert_allclose(X32, X_copy)
    assert_allclose(Y, Y_copy)  # NaN positions and values kept
    ref = MultiTaskLasso(alpha=0.01, **TIGHT).fit(X32.astype(np.float64), Y)
    assert_allclose(model.coef_, ref.coef_, atol=1e-10)
    assert model.predict(X32).shape == (40, 2)


def test_1d_y_and_dataframes():
    pd = pytest.importorskip("pandas")
    X, Y = make_problem(n=30, p=4, T=2, seed=8)
    m1 = MultiTaskLasso(alpha=0.01).fit(X, Y[:, 0])
    assert m1.predict(X).shape == (30,)
    assert m1.coef_.shape == (1, 4)
    Xd = pd.DataFrame(X, columns=list("abcd"))
    Yd = pd.DataFrame(Y, columns=["house", "flat"])
    m2 = MultiTaskLasso(alpha=0.01).fit(Xd, Yd)
    assert list(m2.task_names_) == ["house", "flat"]
    assert list(m2.feature_names_in_) == list("abcd")
    assert m2.score(Xd, Yd) > 0.9


def test_plain_array_path_keeps_validate_data_behaviour():
    """The direct path for plain float arrays (skmtl._validation.validate_X)
    sets and checks the same attributes and raises the same errors as
    scikit-learn's validate_data, which every other input goes through."""
    import sklearn
    from sklearn.utils.validation import validate_data

    pd = pytest.importorskip("pandas")
    X, Y = make_problem(n=30, p=4, T=2, seed=8)
    m = MultiTaskLasso(alpha=0.01).fit(pd.DataFrame(X, columns=list("abcd")), Y)
    assert list(m.feature_names_in_) == list("abcd")
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        m.predict(X)  # fitted with names, predicting without: as scikit-learn
    m.fit(X, Y)  # refit on a plain array forgets the names
    assert not hasattr(m, "feature_names_in_") and m.n_features_in_ == 4
    assert m.predict(np.asfortranarray(X)).shape == (30, 2)

    class Probe(sklm.Lasso):
        pass

    for bad in (X[:, :3], X[:0]):  # wrong width in predict, no rows
        with pytest.raises(ValueError) as ours:
            m.predict(bad)
        with pytest.raises(ValueError) as theirs:
            probe = Probe()
            probe.n_features_in_ = 4
            validate_data(probe, bad, reset=False, ensure_min_samples=1)
        assert str(ours.value).replace("MultiTaskLasso", "Probe") == str(theirs.value)
    for value in (np.nan, np.inf, -np.inf):
        Xbad = X.copy()
        Xbad[3, 1] = value
        with pytest.raises(ValueError, match="Input X contains"):
            MultiTaskLasso(alpha=0.01).fit(Xbad, Y)
        with pytest.raises(ValueError, match="Input X contains"):
            m.predict(Xbad)
    # finite float64 values whose sum overflows are valid
    Xbig = X.copy()
    Xbig[:2, 0] = 1e308
    from skmtl._validation import validate_X

    probe = MultiTaskLasso()
    assert validate_X(probe, Xbig, reset=True) is Xbig and probe.n_features_in_ == 4
    # float32 stays float32 (coef_ too); assume_finite skips the check as in
    # scikit-learn
    assert MultiTaskLasso(alpha=0.01).fit(X.astype(np.float32), Y).coef_.dtype == (
        np.float32
    )
    with sklearn.config_context(assume_finite=True):
        Xbad = X.copy()
        Xbad[0, 0] = np.nan
        assert np.isnan(m.predict(Xbad)[0]).all()


@pytest.mark.parametrize("missing", [0.0, 0.4])
@pytest.mark.parametrize("weights", ["none", "ones", "random", "some zero"])
def test_entry_weights_fast_paths_match_the_formula(missing, weights):
    """Unit weights and every-label-present shortcuts of TaskData give the
    general formula's coefficients c_e = w_t s_i / n_t bit for bit (written
    here with scatter-adds)."""
    from skmtl._validation import make_task_data

    rng = np.random.default_rng(3)
    n, T = 200, 4
    Y = rng.standard_normal((n, T))
    Y[rng.random((n, T)) < missing] = np.nan
    sw = {
        "none": None,
        "ones": np.ones(n),
        "random": rng.uniform(0, 3, n),
        "some zero": np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0, 3, n)),
    }[weights]
    data = make_task_data(Y, sw)
    rows, tasks = np.nonzero(~np.isnan(Y))
    s = np.ones(n)[rows] if sw is None else sw[rows]
    assert np.array_equal(data.sample_weight, s)
    assert np.array_equal(data.task_weight_sums, np.bincount(tasks, weights=s))
    top = np.zeros(T)
    np.maximum.at(top, tasks, s)
    rel = s / top[tasks]
    sums = np.bincount(tasks, weights=rel, minlength=T)
    for w in (None, rng.uniform(0.5, 2, T)):
        scale = 1 / sums if w is None else (1 / sums) * w
        assert np.array_equal(data.entry_weights(w), rel * scale[tasks])


def test_penalty_params_match_get_params():
    from skmtl.linear_model._base import own_params

    m = MultiTaskLinearRegression(penalty="l21_l1", l1_ratio=0.3, alpha=0.2)
    assert own_params(m) == m.get_params(deep=False)
    m.set_params(l1_ratio=0.7)
    assert own_params(m) == m.get_params(deep=False)


def test_warm_start_converges_faster():
    X, Y = make_problem(n=60, p=40, T=3, seed=9)
    m = MultiTaskLasso(alpha=0.05, warm_start=True, tol=1e-10).fit(X, Y)
    n1 = m.n_iter_
    m.fit(X, Y)
    assert m.n_iter_ < n1


def test_convergence_warning():
    X, Y = make_problem(n=60, p=40, T=3, seed=10)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        m = MultiTaskLasso(alpha=0.001, max_iter=2, tol=1e-14).fit(X, Y)
    assert np.all(np.isfinite(m.coef_))


def test_score_ignores_missing_labels():
    X, Y = make_problem(n=50, p=5, T=3, missing=0.3, seed=11)
    m = MultiTaskLasso(alpha=0.001).fit(X, Y)
    P = m.predict(X)
    r2 = []
    for t in range(3):
        mask = ~np.isnan(Y[:, t])
        resid = Y[mask, t] - P[mask, t]
        r2.append(1 - resid @ resid / np.sum((Y[mask, t] - Y[mask, t].mean()) ** 2))
    assert_allclose(m.score(X, Y), np.mean(r2))


def test_pipeline_gridsearch_with_nan():
    X, Y = make_problem(n=90, p=10, T=3, missing=0.3, seed=12)
    pipe = make_pipeline(StandardScaler(), MultiTaskLasso())
    grid = {"multitasklasso__alpha": [0.001, 0.01, 0.1]}
    for scoring in (None, make_multitask_scorer("r2", aggregate="min")):
        gs = GridSearchCV(
            pipe, grid, cv=KFold(3, shuffle=True, random_state=0), scoring=scoring
        ).fit(X, Y)
        assert np.all(np.isfinite(gs.cv_results_["mean_test_score"]))
        assert gs.best_score_ > 0.8


def test_gridsearch_over_penalty():
    X, Y = make_problem(n=60, p=8, T=3, missing=0.2, seed=13)
    gs = GridSearchCV(
        MultiTaskLinearRegression(),
        {"penalty": ["l21", "l1", "elasticnet", "sparse_group"], "alpha": [0.01, 0.1]},
        cv=3,
    ).fit(X, Y)
    assert gs.best_params_["penalty"] in PENALTIES


def test_pickle_roundtrip_in_new_process(tmp_path):
    X, Y = make_problem(n=40, p=6, T=2, missing=0.2, seed=14)
    m = MultiTaskLasso(alpha=0.01).fit(sp.csr_array(X), Y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(m))
    np.save(tmp_path / "X.npy", X)
    expected = m.predict(X)
    import joblib

    joblib.dump(m, tmp_path / "model.joblib")
    code = (
        "import pickle, sys, joblib, numpy as np\n"
        f"X = np.load(r'{tmp_path / 'X.npy'}')\n"
        f"m = pickle.loads(open(r'{path}', 'rb').read())\n"
        f"j = joblib.load(r'{tmp_path / 'model.joblib'}')\n"
        f"np.save(r'{tmp_path / 'P.npy'}', np.stack([m.predict(X), j.predict(X)]))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    P = np.load(tmp_path / "P.npy")
    np.testing.assert_array_equal(P[0], expected)
    np.testing.assert_array_equal(P[1], expected)


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "mutate, match",
    [
        (
            lambda X, Y, s: (
                np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X),
                Y,
                s,
            ),
            "NaN",
        ),
        (
            lambda X, Y, s: (
                np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X),
                Y,
                s,
            ),
            "infinity",
        ),
        (
            lambda X, Y, s: (X, np.column_stack([Y, np.full(len(Y), np.nan)]), s),
            "task 2.*no labelled",
        ),
        (lambda X, Y, s: (X, Y[:-1], s), "inconsistent numbers of samples"),
        (lambda X, Y, s: (X, Y, -s), "Negative"),
        (
            lambda X, Y, s: (X, np.where(Y > 1e9, 0, Y) * np.array([1, np.inf]), s),
            "infinity",
        ),
    ],
    ids=["nan-X", "inf-X", "empty-task", "lengths", "neg-weights", "inf-Y"],
)
def test_bad_input(mutate, match):
    X, Y = make_problem(n=20, p=4, T=2, seed=15)
    Xb, Yb, sb = mutate(X, Y, np.ones(20))
    with pytest.raises(ValueError, match=match):
        MultiTaskLasso(alpha=0.1).fit(Xb, Yb, sample_weight=sb)


def test_bad_parameters_and_predict_shape():
    X, Y = make_problem(n=20, p=4, T=2, seed=16)
    with pytest.raises(ValueError, match="penalty"):
        MultiTaskLinearRegression(penalty="l3").fit(X, Y)
    with pytest.raises(ValueError, match="alpha"):
        MultiTaskLasso(alpha=-1.0).fit(X, Y)
    with pytest.raises(ValueError, match="task_weights"):
        MultiTaskLasso(task_weights=[1.0, -1.0]).fit(X, Y)
    with pytest.raises(ValueError, match="bcd"):
        MultiTaskLinearRegression(penalty="trace", solver="bcd").fit(X, Y)
    m = MultiTaskLasso(alpha=0.1).fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :3])


def test_task_weights_scale_tasks():
    X, Y = make_problem(n=40, p=5, T=2, seed=17)
    a = MultiTaskLinearRegression(
        penalty="l1", alpha=0.1, task_weights=[2.0, 1.0], **TIGHT
    ).fit(X, Y)
    # doubling task 0's loss weight equals halving its alpha in an l1 model
    b = MultiTaskLinearRegression(penalty="l1", alpha=0.05, **TIGHT).fit(X, Y[:, :1])
    assert_allclose(a.coef_[0], b.coef_[0], atol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MultiTaskLasso(alpha=0.1).fit(X, Y)


@pytest.mark.parametrize(
    "ratio, density", [(10.0, 0.05), (1000.0, 0.5)]
)  # a small support (working sets only), a large one (then the full Gram)
@pytest.mark.parametrize("per_task", [False, True])
def test_bcd_working_sets_then_full_gram_match_scikit_learn(ratio, density, per_task):
    # n >= 4p and p > 10 T: bcd starts with working sets in their own Gram
    # and builds the full Gram only once the support grows (the near-full
    # support case): either way the same solution
    rng = np.random.default_rng(0)
    n, p, T = 900, 60, 3
    X = rng.normal(size=(n, p))
    W = rng.normal(size=(T, p)) * (rng.random(p) < density)
    Y = X @ W.T + 0.5 * rng.normal(size=(n, T))
    if per_task:
        # row i is labelled for task i % T only
        Y = np.where(np.arange(n)[:, None] % T == np.arange(T), Y, np.nan)
    Xc = X - X.mean(0)
    alpha_max = np.max(
        np.linalg.norm(Xc.T @ np.nan_to_num(Y - np.nanmean(Y, 0)), axis=1)
    )
    alpha = alpha_max / n / ratio
    ours = MultiTaskLasso(alpha=alpha, solver="bcd", tol=1e-12, max_iter=100_000)
    ours.fit(X, Y)
    if per_task:  # no scikit-learn counterpart: a generic convex solver
        W_ref, _, obj_ref = cvxpy_solve(X, Y, "l21", alpha)
        W_ours = ours.coef_
        obj_ours = objective(
            X, Y, W_ours, ours.intercept_,
            alpha * np.linalg.norm(W_ours, axis=0).sum(),
        )  # fmt: skip
        assert obj_ours <= obj_ref + 1e-7 * abs(obj_ref)
        assert_allclose(W_ours, W_ref, atol=1e-4)
    else:
        ref = sklm.MultiTaskLasso(alpha=alpha, tol=1e-14, max_iter=100_000).fit(X, Y)
        assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-7)
        assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-7)
