"""Fits on dask collections (skmtl[dask]) on a two-worker LocalCluster.

Oracles: the in-memory fits (their own code path over X: residual or Gram
BCD built from X, FISTA on X, the ridge eigen/CG solves), the true model
for the memory-limited fit, and the gathered-data fit for partial_fit.
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import KFold

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import skmtl._dask._stats as dask_stats  # noqa: E402
from skmtl import (  # noqa: E402
    MultiTaskElasticNet,
    MultiTaskElasticNetCV,
    MultiTaskLasso,
    MultiTaskLassoCV,
    MultiTaskLinearRegression,
    MultiTaskLinearRegressionCV,
    MultiTaskLogisticRegression,
    MultiTaskLogisticRegressionCV,
    MultiTaskMLPClassifier,
    MultiTaskMLPRegressor,
    MultiTaskRidge,
    MultiTaskRidgeCV,
)
from skmtl.distributed import partial_fit_chunks, task_statistics  # noqa: E402

from .conftest import make_per_task_problem, make_problem  # noqa: E402

_ROOT = str(__import__("pathlib").Path(__file__).resolve().parents[1])


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


UNEVEN = (17, 60, 3, 40, 60)  # 180 rows


def _dataset(kind):
    """(X, Y, sample_weight) of 180 rows for each scenario."""
    rng = np.random.default_rng(1)
    sw = None
    if kind == "per_task":
        X, Y = make_per_task_problem((70, 50, 60), p=8, seed=3)
        perm = rng.permutation(X.shape[0])  # tasks interleaved over chunks
        return X[perm], Y[perm], None
    X, Y = make_problem(n=180, p=8, T=3, missing=0.3 if kind == "missing" else 0.0)
    if kind == "weights":
        sw = rng.uniform(0.2, 3.0, size=180)
    if kind == "float32":
        X = X.astype(np.float32)
    return X, Y, sw


def _to_dask(X, Y, sw):
    Xd = da.from_array(X, chunks=(UNEVEN, 5))  # column chunks too
    Yd = da.from_array(Y, chunks=(45, Y.shape[1]))  # other row chunks
    swd = None if sw is None else da.from_array(sw, chunks=90)
    return Xd, Yd, swd


MODELS = [
    MultiTaskLasso(alpha=0.05, tol=1e-10),
    MultiTaskElasticNet(alpha=0.05, l1_ratio=0.7, tol=1e-10),
    MultiTaskLinearRegression(penalty="l1", alpha=0.03, tol=1e-10),
    MultiTaskLinearRegression(penalty="sparse_group", alpha=0.03, tol=1e-10),
    MultiTaskLinearRegression(penalty="mcp", alpha=0.05, tol=1e-10),
    MultiTaskLinearRegression(penalty="trace", alpha=0.1, tol=1e-10, max_iter=5000),
    MultiTaskLinearRegression(penalty="graph", alpha=0.1, tol=1e-10, max_iter=5000),
    MultiTaskLinearRegression(
        penalty="dirty", alpha=0.05, beta=0.03, tol=1e-10, max_iter=20000
    ),
    MultiTaskRidge(alpha=0.1, coupling=0.0),
    MultiTaskRidge(alpha=0.1, coupling=2.0),
]


@pytest.mark.parametrize("kind", ["full", "missing", "per_task", "weights", "float32"])
def test_dask_fit_equals_numpy_fit(client, kind):
    X, Y, sw = _dataset(kind)
    Xd, Yd, swd = _to_dask(X, Y, sw)
    for model in MODELS:
        ref = clone(model).fit(X, Y, sample_weight=sw)
        got = clone(model).fit(Xd, Yd, sample_weight=swd)
        scale = np.abs(ref.coef_).max()
        atol = 1e-7 * scale if getattr(ref, "solver_", "") != "fista" else 1e-5 * scale
        np.testing.assert_allclose(got.coef_, ref.coef_, atol=atol, err_msg=repr(model))
        np.testing.assert_allclose(
            got.intercept_, ref.intercept_, atol=10 * atol, err_msg=repr(model)
        )
        assert type(got.coef_) is np.ndarray and got.n_features_in_ == 8
        assert got.n_tasks_ == 3
        if hasattr(ref, "coef_components_"):
            for name, part in ref.coef_components_.items():
                np.testing.assert_allclose(
                    got.coef_components_[name], part, atol=10 * atol
                )


def test_dask_dataframes_names_1d_and_lazy_predict(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, Y = make_problem(n=120, p=4, T=2, missing=0.2)
    Xp = pd.DataFrame(X, columns=list("abcd"))
    Yp = pd.DataFrame(Y, columns=["house", "flat"])
    Xdf, Ydf = dd.from_pandas(Xp, npartitions=3), dd.from_pandas(Yp, npartitions=3)
    ref = MultiTaskLasso(alpha=0.02, tol=1e-10).fit(Xp, Yp)
    got = MultiTaskLasso(alpha=0.02, tol=1e-10).fit(Xdf, Ydf)
    np.testing.assert_allclose(got.coef_, ref.coef_, atol=1e-8)
    assert list(got.feature_names_in_) == list("abcd")
    assert list(got.task_names_) == ["house", "flat"]
    # 1-D y (a dask Series with missing labels): 1-D predictions, lazily
    ref1 = MultiTaskRidge(alpha=0.5).fit(Xp, Yp["house"])
    got1 = MultiTaskRidge(alpha=0.5).fit(Xdf, Ydf["house"])
    np.testing.assert_allclose(got1.coef_, ref1.coef_, atol=1e-10)
    assert list(got1.task_names_) == ["house"]
    P = got1.predict(da.from_array(X, chunks=50))
    assert isinstance(P, da.Array) and P.shape == (120,)
    np.testing.assert_allclose(P.compute(), ref1.predict(X), atol=1e-10)
    # predict on numpy, pickling, lazy predict on a dask array
    again = pickle.loads(pickle.dumps(got))
    np.testing.assert_allclose(again.predict(Xp), ref.predict(Xp), atol=1e-8)
    assert again.predict(X).shape == (120, 2)
    P2 = got.predict(da.from_array(X, chunks=(31, 4)))
    assert isinstance(P2, da.Array) and P2.chunks[0] == (31, 31, 31, 27)
    np.testing.assert_allclose(P2.compute(), ref.predict(X), atol=1e-8)
    with pytest.raises(ValueError, match="features"):
        got.predict(da.ones((5, 3), chunks=5))
    with pytest.raises(TypeError, match="gather X"):
        got.score(da.from_array(X, chunks=50), Ydf)


CV_MODELS = [
    MultiTaskLassoCV(n_alphas=15, tol=1e-9),
    MultiTaskElasticNetCV(l1_ratio=[0.3, 0.9], n_alphas=10, tol=1e-9),
    MultiTaskLinearRegressionCV(penalty="l1", n_alphas=10, tol=1e-9),
    MultiTaskRidgeCV(alphas=(0.01, 0.1, 1.0, 10.0), couplings=(0.0, 1.0, 10.0)),
]


@pytest.mark.parametrize("kind", ["missing", "weights"])
def test_dask_cv_picks_the_same_alpha(client, kind):
    X, Y, sw = _dataset(kind)
    Y = Y + np.random.default_rng(5).normal(size=Y.shape)  # noisy: interior alpha
    Xd, Yd, swd = _to_dask(X, Y, sw)
    for model in CV_MODELS:
        ref = clone(model).set_params(cv=KFold(5)).fit(X, Y, sample_weight=sw)
        got = clone(model).set_params(cv=5).fit(Xd, Yd, sample_weight=swd)
        assert got.alpha_ == pytest.approx(ref.alpha_, rel=1e-12), repr(model)
        for attr in ("l1_ratio_", "coupling_"):
            if hasattr(ref, attr):
                assert getattr(got, attr) == getattr(ref, attr)
        np.testing.assert_allclose(got.mse_path_, ref.mse_path_, rtol=1e-6)
        np.testing.assert_allclose(got.coef_, ref.coef_, atol=1e-6)


def test_client_never_receives_the_data(client, monkeypatch):
    """Everything the fits bring to the client goes through
    ``_stats._compute``: record it, and check no result has n rows."""
    received = []
    original = dask_stats._compute

    def spy(*objs):
        out = original(*objs)
        received.append(out)
        return out

    monkeypatch.setattr(dask_stats, "_compute", spy)
    n, p, T = 3000, 6, 4
    Xd = da.random.RandomState(0).normal(size=(n, p), chunks=(500, p))
    Yd = Xd @ da.ones((p, T), chunks=(p, T)) + 1.0
    MultiTaskLasso(alpha=0.01).fit(Xd, Yd)
    MultiTaskRidge(alpha=1.0, coupling=1.0).fit(Xd, Yd)
    MultiTaskLassoCV(cv=3, n_alphas=5).fit(Xd, Yd)
    assert len(received) == 3  # one pass per fit, CV included

    def arrays(obj):
        if isinstance(obj, np.ndarray):
            yield obj
        elif isinstance(obj, (list, tuple)):
            for o in obj:
                yield from arrays(o)
        elif isinstance(obj, dict):
            for o in obj.values():
                yield from arrays(o)

    shapes = [a.shape for out in received for a in arrays(out)]
    assert shapes and all(n not in s for s in shapes)
    assert max(int(np.prod(s)) for s in shapes) <= 3 * p * p * T  # folds x Gram


def test_dask_errors(client):
    X, Y = make_problem(n=60, p=4, T=2)
    Xd = da.from_array(X, chunks=20)
    Yd = da.from_array(Y, chunks=20)
    with pytest.raises(ValueError, match="MAX_GRAM_BYTES"):
        MultiTaskLasso().fit(da.zeros((10, 20000), chunks=(5, 20000)), Yd[:10])
    Xbad = X.copy()
    Xbad[45, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        MultiTaskLasso().fit(da.from_array(Xbad, chunks=20), Yd)
    Ynone = Y.copy()
    Ynone[:, 1] = np.nan
    with pytest.raises(ValueError, match="task 1 has no labelled sample"):
        MultiTaskRidge().fit(Xd, da.from_array(Ynone, chunks=20))
    with pytest.raises(ValueError, match="Negative"):
        MultiTaskLasso().fit(Xd, Yd, sample_weight=-np.ones(60))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MultiTaskLasso().fit(Xd, Yd[:50])
    with pytest.raises(TypeError, match="KFold"):
        MultiTaskLassoCV(cv=KFold(3, shuffle=True, random_state=0)).fit(Xd, Yd)
    with pytest.raises(TypeError, match="partial_fit_chunks"):
        MultiTaskLogisticRegression().fit(Xd, (Yd > 0).astype(float))
    with pytest.raises(TypeError, match="sufficient statistics"):
        MultiTaskLogisticRegressionCV().fit(Xd, (Yd > 0).astype(float))
    # nothing was modified, and numpy fits still work after dask ones
    assert np.isnan(Xbad[45, 1]) and not np.isnan(X).any()


def test_task_statistics_closed_form(client):
    X, Y = make_problem(n=90, p=4, T=2, missing=0.3)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, 90)
    s = task_statistics(
        da.from_array(X, chunks=25), da.from_array(Y, chunks=30), sample_weight=sw
    )
    for t in range(2):
        m = ~np.isnan(Y[:, t])
        Xt, yt, wt = X[m], Y[m, t], sw[m]
        np.testing.assert_allclose(s.raw_gram(t), Xt.T @ (Xt * wt[:, None]))
        np.testing.assert_allclose(s.Sxy[t], Xt.T @ (wt * yt))
        np.testing.assert_allclose(s.Sx[t], Xt.T @ wt)
        assert s.count[t] == m.sum()
        np.testing.assert_allclose([s.sw[t], s.syy[t]], [wt.sum(), wt @ yt**2])


def test_partial_fit_chunks_reaches_fit_quality(client):
    rng = np.random.default_rng(0)

    def data(n):
        X = rng.normal(size=(n, 4))
        Y = np.column_stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 3]])
        return X, Y

    X, Y = data(800)
    Y[rng.random(Y.shape) < 0.2] = np.nan
    Xte, Yte = data(400)
    Xd, Yd = da.from_array(X, chunks=(200, 4)), da.from_array(Y, chunks=100)
    params = dict(hidden_layer_sizes=(32,), batch_size=50, random_state=0)
    # fit on the gathered data for the same number of epochs
    full = MultiTaskMLPRegressor(max_iter=40, n_iter_no_change=1000, **params)
    full.fit(X, Y)
    streamed = partial_fit_chunks(
        MultiTaskMLPRegressor(**params), Xd, Yd, n_epochs=40, random_state=0
    )
    assert streamed.n_iter_ == 40 * 4  # one call per chunk per epoch
    assert streamed.score(Xte, Yte) >= full.score(Xte, Yte) - 0.05
    assert streamed.score(Xte, Yte) > 0.8
    C = (np.nan_to_num(Y) > 0).astype(float)
    Cte = (Yte > 0).astype(float)
    clf = MultiTaskMLPClassifier(max_iter=20, n_iter_no_change=1000, **params)
    clf.fit(X, C)
    sclf = partial_fit_chunks(
        MultiTaskMLPClassifier(**params), Xd, da.from_array(C, chunks=100),
        n_epochs=20, random_state=0,
    )  # fmt: skip
    assert [list(c) for c in sclf.classes_] == [[0.0, 1.0], [0.0, 1.0]]
    assert sclf.score(Xte, Cte) >= clf.score(Xte, Cte) - 0.05


def test_dask_ml_incremental_one_task(client):
    pytest.importorskip("dask_ml")
    from dask_ml.wrappers import Incremental

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = X[:, 0] + X[:, 1]
    Xd, yd = da.from_array(X, chunks=100), da.from_array(y, chunks=100)
    net = MultiTaskMLPRegressor(hidden_layer_sizes=(16,), batch_size=20, random_state=0)
    inc = Incremental(net, shuffle_blocks=True, random_state=0)
    for _ in range(30):
        inc.partial_fit(Xd, yd)
    assert inc.estimator_.score(X, y) > 0.9


def test_worker_memory_limit_far_below_X():
    """X (512 MB float32, generated chunk by chunk on the worker) on one
    worker process limited to 400 MB, about 290 MB of which the interpreter
    and its imports take: the fit streams the chunks (the worker would be
    killed at 95% of its limit) and recovers the true model."""
    import dask

    n, p, T = 4_000_000, 32, 3
    no_spill = {
        f"distributed.worker.memory.{key}": False
        for key in ("target", "spill", "pause")
    }
    with dask.config.set(no_spill):  # only the kill threshold stays
        cluster = distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, memory_limit="400MB",
            dashboard_address=None,
        )  # fmt: skip
    with cluster, distributed.Client(cluster) as c:
        (limit,) = c.run(
            lambda dask_worker: dask_worker.memory_manager.memory_limit
        ).values()
        rs = da.random.RandomState(0)
        Xd = rs.random_sample(size=(n, p), chunks=(50_000, p)).astype(np.float32)
        W = np.random.default_rng(0).normal(size=(T, p))
        noise = rs.random_sample(size=(n, T), chunks=(50_000, T))
        Yd = Xd @ W.T.astype(np.float32) + 0.01 * noise
        assert Xd.nbytes > 1.25 * limit
        model = MultiTaskLasso(alpha=1e-5).fit(Xd, Yd)
        np.testing.assert_allclose(model.coef_, W, atol=1e-3)


def test_dask_is_never_imported_by_skmtl():
    import subprocess
    import sys

    code = (
        "import sys, skmtl, skmtl.distributed, skmtl.model_selection; "
        "import numpy as np; "
        "skmtl.MultiTaskLasso(alpha=0.1).fit(np.eye(3), np.eye(3)); "
        "assert not [m for m in sys.modules if m.split('.')[0] in "
        "('dask', 'distributed')], 'dask imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=_ROOT)


def test_dask_without_intercept_and_task_weights(client):
    X, Y = make_problem(n=150, p=6, T=3, missing=0.3)
    Xd, Yd = da.from_array(X, chunks=40), da.from_array(Y, chunks=40)
    common = dict(fit_intercept=False, task_weights=[1.0, 2.0, 0.5])
    for model in (
        MultiTaskLasso(alpha=0.05, tol=1e-10, **common),
        MultiTaskRidge(alpha=0.1, coupling=1.0, **common),
        MultiTaskLinearRegression(
            penalty="trace", alpha=0.1, tol=1e-10, max_iter=5000, **common
        ),
    ):
        ref = clone(model).fit(X, Y)
        got = clone(model).fit(Xd, Yd)
        np.testing.assert_allclose(got.coef_, ref.coef_, atol=1e-7)
        assert np.all(got.intercept_ == 0)
    ref = MultiTaskLassoCV(n_alphas=8, tol=1e-9, cv=KFold(3), **common).fit(X, Y)
    got = MultiTaskLassoCV(n_alphas=8, tol=1e-9, cv=3, **common).fit(Xd, Yd)
    assert got.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)


def test_gram_limit_counts_task_grams_only_when_needed(client, monkeypatch):
    # room for 3 Grams of 10 x 10: a shared one (every label) fits, 5 do not
    monkeypatch.setattr(dask_stats, "MAX_GRAM_BYTES", 8 * 3 * 10 * 10)
    X, Y = make_problem(n=60, p=10, T=5)
    Xd = da.from_array(X, chunks=20)
    ref = MultiTaskRidge(alpha=0.1).fit(X, Y)
    got = MultiTaskRidge(alpha=0.1).fit(Xd, da.from_array(Y, chunks=20))
    np.testing.assert_allclose(got.coef_, ref.coef_, atol=1e-10)
    Y[3, 1] = np.nan
    with pytest.raises(ValueError, match="MAX_GRAM_BYTES"):
        MultiTaskRidge(alpha=0.1).fit(Xd, da.from_array(Y, chunks=20))
