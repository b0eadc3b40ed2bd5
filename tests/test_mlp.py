"""Tests of the multi-task MLP (skmtl.neural_network)."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl.metrics import r2_score
from skmtl.neural_network import (
    MultiTaskMLP,
    MultiTaskMLPClassifier,
    MultiTaskMLPRegressor,
    decode_task_labels,
    encode_task_labels,
)
from skmtl.neural_network._base import NonFiniteLossError
from skmtl.neural_network._weighting import gradnorm_objective, pcgrad_combine

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# --------------------------------------------------------------------- helpers
def shared_problem(
    n_tasks=10, n_per_task=30, n_test=300, p=8, k=2, seed=0, shared=True
):
    """Tasks y_t = B_t . h(x) with h(x) = (x A)^2 - 1 shared (or per task).

    Each training row is labelled for one task only (NaN elsewhere). Also
    returns a held-out task (column ``n_tasks`` of the generator) that was not
    in training, for the ``transform`` test.
    """
    rng = np.random.default_rng(seed)
    n = n_tasks * n_per_task
    X = rng.normal(size=(n, p))
    Xt = rng.normal(size=(n_test, p))
    B = rng.normal(size=(k, n_tasks + 1))
    if shared:
        A = np.linalg.qr(rng.normal(size=(p, k)))[0]
        F, Ft = ((X @ A) ** 2 - 1) @ B, ((Xt @ A) ** 2 - 1) @ B
    else:
        As = [np.linalg.qr(rng.normal(size=(p, k)))[0] for _ in range(n_tasks + 1)]
        F = np.stack([((X @ a) ** 2 - 1) @ B[:, t] for t, a in enumerate(As)], 1)
        Ft = np.stack([((Xt @ a) ** 2 - 1) @ B[:, t] for t, a in enumerate(As)], 1)
    Yfull = F + 0.1 * rng.normal(size=F.shape)
    Y = np.full((n, n_tasks), np.nan)
    task = np.repeat(np.arange(n_tasks), n_per_task)
    Y[np.arange(n), task] = Yfull[np.arange(n), task]
    return X, Y, Xt, Ft[:, :n_tasks], Yfull[:, n_tasks], Ft[:, n_tasks]


def small_data(n=60, p=4, T=3, seed=0, missing=True):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    Y = X[:, :T] + 0.5 * np.sin(X[:, 1:2]) + 0.1 * rng.normal(size=(n, T))
    if missing:
        Y[::3, 1] = np.nan
        Y[1::4, 2] = np.nan
    return X, Y


def small_labels(n=60, p=4, seed=0):
    X, Y = small_data(n, p, 3, seed)
    L = np.full(Y.shape, np.nan)
    L[:, 0] = (Y[:, 0] > 0).astype(float)
    L[:, 1] = np.where(np.isnan(Y[:, 1]), np.nan, np.digitize(Y[:, 1], [-0.5, 0.5]))
    L[:, 2] = np.where(np.isnan(Y[:, 2]), np.nan, (Y[:, 2] > 0) * 3 + 2)
    return X, L


# ------------------------------------------------------------ estimator checks
@parametrize_with_checks(
    [
        MultiTaskMLPRegressor((16,), max_iter=200, random_state=0),
        MultiTaskMLPClassifier((16,), max_iter=200, random_state=0),
    ]
    + [
        cls((16,), max_iter=60, random_state=0, architecture=arch, n_experts=2)
        for arch in ("soft", "cross_stitch", "mmoe")
        for cls in (MultiTaskMLPRegressor, MultiTaskMLPClassifier)
    ]
    + [
        MultiTaskMLP(hidden_layer_sizes=(16,), max_iter=100, random_state=0),
        MultiTaskMLP(
            hidden_layer_sizes=(16,),
            architecture="mmoe",
            n_experts=2,
            max_iter=60,
            random_state=0,
        ),
        MultiTaskMLPRegressor((16, 8), task_head_depth=1, max_iter=100, random_state=0),
    ],
    expected_failed_checks=lambda est: {
        # Mini-batch SGD/Adam: a row of weight 2 is not the same as two copies
        # of the row (batches and shuffling differ), as for sklearn's MLP.
        "check_sample_weight_equivalence_on_dense_data": (
            "stochastic mini-batch training: sample_weight=2 is not equivalent "
            "to repeating a row"
        ),
        "check_sample_weight_equivalence_on_sparse_data": (
            "stochastic mini-batch training: sample_weight=2 is not equivalent "
            "to repeating a row"
        ),
    },
)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# -------------------------------------------------------------- gradients
ACTS = ["relu", "tanh", "logistic", "identity"]


def _fd_check(model, X, Y, params, h=1e-6):
    value, grad = model._loss_and_gradient(X, Y, params=params)
    grad = grad.copy()
    num = np.empty_like(params)
    for i in range(params.size):
        e = params.copy()
        e[i] += h
        vp, _ = model._loss_and_gradient(X, Y, params=e)
        e[i] -= 2 * h
        vm, _ = model._loss_and_gradient(X, Y, params=e)
        num[i] = (vp - vm) / (2 * h)
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-6 * max(1, abs(value)))


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
@pytest.mark.parametrize(
    "weighting", ["equal", "uncertainty", "dwa", "gradnorm", "rlw", "minimax"]
)
@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("task_layers", [(), (5, 4)])
def test_gradient_matches_finite_differences(kind, weighting, activation, task_layers):
    X, Y = small_data(n=25) if kind == "regressor" else small_labels(n=25)
    cls = MultiTaskMLPRegressor if kind == "regressor" else MultiTaskMLPClassifier
    model = cls(
        (6, 5),
        activation,
        task_layer_sizes=task_layers,
        alpha=0.3,
        max_iter=3,
        task_weighting=weighting,
        task_weights=[1.0, 2.0, 0.5],
        random_state=0,
    ).fit(X, Y)
    params = model._flat.copy()
    if weighting == "uncertainty":  # log-variances away from 0
        params[model._net.n_net_params :] = [0.3, -0.7, 1.1]
    _fd_check(model, X, Y, params)


def test_gradient_sparse_X_and_sample_weight():
    X, Y = small_data(n=25)
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0))
    sw = np.linspace(0.5, 2, 25)
    model = MultiTaskMLPRegressor((5,), max_iter=2, random_state=0).fit(Xs, Y, sw)
    value, grad = model._loss_and_gradient(Xs, Y, sw)
    p = model._flat
    num = np.empty_like(p)
    for i in range(p.size):
        e = p.copy()
        e[i] += 1e-6
        vp, _ = model._loss_and_gradient(Xs, Y, sw, params=e)
        e[i] -= 2e-6
        vm, _ = model._loss_and_gradient(Xs, Y, sw, params=e)
        num[i] = (vp - vm) / 2e-6
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-7)
    # dense and sparse X give the same objective
    vd, gd = model._loss_and_gradient(Xs.toarray(), Y, sw)
    assert np.isclose(vd, value)
    np.testing.assert_allclose(gd, grad, atol=1e-12)


def test_gradnorm_objective_gradient():
    rng = np.random.default_rng(0)
    w, n, tgt = rng.uniform(0.5, 2, 4), rng.uniform(0.1, 3, 4), rng.uniform(0, 2, 4)
    _, g = gradnorm_objective(w, n, tgt)
    num = [
        (
            gradnorm_objective(w + 1e-7 * e, n, tgt)[0]
            - gradnorm_objective(w - 1e-7 * e, n, tgt)[0]
        )
        / 2e-7
        for e in np.eye(4)
    ]
    np.testing.assert_allclose(g, num, rtol=1e-5)


def test_pcgrad_projection():
    rng = np.random.RandomState(0)
    # no conflict: plain sum
    G = np.array([[1.0, 0.0, 1.0], [0.5, 1.0, 0.0]])
    np.testing.assert_allclose(pcgrad_combine(G, rng), G.sum(0))
    # conflict: each projected gradient is orthogonal to the other task's
    G = np.array([[1.0, 0.0], [-1.0, 1.0]])
    g0 = G[0] - (G[0] @ G[1]) / (G[1] @ G[1]) * G[1]
    g1 = G[1] - (G[1] @ G[0]) / (G[0] @ G[0]) * G[0]
    np.testing.assert_allclose(pcgrad_combine(G, rng), g0 + g1)


def test_pcgrad_single_task_is_plain_gradient():
    X, Y = small_data(n=25, T=1, missing=False)
    a = MultiTaskMLPRegressor((5,), max_iter=2, random_state=0).fit(X, Y)
    b = clone(a).set_params(task_weighting="pcgrad").fit(X, Y)
    np.testing.assert_allclose(
        a._loss_and_gradient(X, Y)[1], b._loss_and_gradient(X, Y)[1]
    )


# ------------------------------------------------------------ masked losses
def test_missing_labels_do_not_contribute():
    X, Y = small_data()
    m = MultiTaskMLPRegressor((8,), max_iter=3, random_state=0).fit(X, Y)
    Y2 = Y.copy()
    Y2[np.isnan(Y)] = 1e6  # would dominate if used
    Y3 = Y.copy()
    v1, g1 = m._loss_and_gradient(X, Y)
    Y3[np.isnan(Y)] = np.nan
    v3, g3 = m._loss_and_gradient(X, Y3)
    assert np.isclose(v1, v3)
    # each task's loss is its own mean: duplicating one task's rows 5 times
    # (with the other tasks missing on the copies) does not change the loss
    mask_rows = ~np.isnan(Y[:, 0])
    Xd = np.vstack([X] + [X[mask_rows]] * 4)
    Yd = np.vstack(
        [Y] + [np.c_[Y[mask_rows, :1], np.full((mask_rows.sum(), 2), np.nan)]] * 4
    )
    Yd[: len(Y), 0] = Y[:, 0]
    vd, _ = m.set_params(alpha=0.0)._loss_and_gradient(Xd, Yd)
    v0, _ = m._loss_and_gradient(X, Y)
    assert np.isclose(vd, v0)


def test_inputs_not_modified_and_reproducible():
    X, Y = small_data()
    X0, Y0 = X.copy(), Y.copy()
    a = MultiTaskMLPRegressor((8,), max_iter=20, random_state=3, dropout=0.2).fit(X, Y)
    b = MultiTaskMLPRegressor((8,), max_iter=20, random_state=3, dropout=0.2).fit(X, Y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.loss_curve_ == b.loss_curve_


# -------------------------------------------------------- weighting + curves
@pytest.mark.parametrize(
    "weighting",
    [
        "equal",
        "uncertainty",
        "dwa",
        "gradnorm",
        "pcgrad",
        "mgda",
        "cagrad",
        "imtl",
        "rlw",
        "famo",
        "minimax",
    ],
)
def test_weighting_strategies_train(weighting):
    X, Y = small_data(n=120)
    m = MultiTaskMLPRegressor(
        (16,),
        max_iter=60,
        task_weighting=weighting,
        random_state=0,
        learning_rate_init=0.01,
    ).fit(X, Y)
    E = m.n_iter_
    assert m.task_weights_.shape == (E, 3)
    assert m.task_loss_curves_.shape == (E, 3)
    assert len(m.loss_curve_) == E
    assert np.all(np.isfinite(m.task_weights_)) and np.all(m.task_weights_ > 0)
    assert m.task_loss_curves_[-1].mean() < m.task_loss_curves_[0].mean()
    assert m.score(X, Y) > 0.7
    if weighting in ("equal", "pcgrad"):
        np.testing.assert_allclose(m.task_weights_, 1.0)
    if weighting in ("dwa", "gradnorm", "mgda", "imtl", "rlw", "famo", "minimax"):
        np.testing.assert_allclose(m.task_weights_.sum(1), 3.0)
    if weighting == "dwa":
        np.testing.assert_allclose(m.task_weights_[:2], 1.0)


def test_uncertainty_weights_track_noise():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    Y = (
        np.c_[X[:, 0], X[:, 0]]
        + np.c_[0.05 * rng.normal(size=400), 1.0 * rng.normal(size=400)]
    )
    m = MultiTaskMLPRegressor(
        (8,),
        max_iter=80,
        task_weighting="uncertainty",
        random_state=0,
        learning_rate_init=0.01,
        n_iter_no_change=100,
        standardize_targets=False,  # noise levels compared in raw units
    ).fit(X, Y)
    w = m.task_weights_[-1]
    assert w[0] > 3 * w[1]  # the noisy task gets the smaller weight


def test_fixed_task_weights_scale_loss():
    X, Y = small_data()
    m = MultiTaskMLPRegressor((8,), max_iter=2, random_state=0, alpha=0).fit(X, Y)
    v1, _ = m._loss_and_gradient(X, Y)
    m2 = clone(m).set_params(task_weights=[2.0, 2.0, 2.0]).fit(X, Y)
    m2._flat[...] = m._flat
    v2, _ = m2._loss_and_gradient(X, Y)
    assert np.isclose(v2, 2 * v1)


# ------------------------------------------------------------- classifier
def test_classifier_labels_and_outputs():
    X, L = small_labels(n=150)
    Yobj = L.astype(object)
    Yobj[:, 0] = np.where(L[:, 0] == 1, "pos", "neg")
    Yobj[np.isnan(L)] = None
    clf = MultiTaskMLPClassifier(
        (16,), max_iter=200, random_state=0, learning_rate_init=0.01
    )
    clf.fit(X, Yobj)
    assert [list(c) for c in clf.classes_] == [
        ["neg", "pos"],
        [0.0, 1.0, 2.0],
        [2.0, 5.0],
    ]
    P = clf.predict(X)
    assert P.shape == (150, 3) and P.dtype == object
    proba = clf.predict_proba(X)
    assert [p.shape for p in proba] == [(150, 2), (150, 3), (150, 2)]
    for p in proba:
        np.testing.assert_allclose(p.sum(1), 1.0)
    assert clf.score(X, Yobj) > 0.85
    # 1-D y: sklearn conventions
    clf1 = MultiTaskMLPClassifier((8,), max_iter=50, random_state=0).fit(X, Yobj[:, 0])
    assert clf1.predict(X).shape == (150,)
    assert clf1.predict_proba(X).shape == (150, 2)
    assert list(clf1.classes_) == ["neg", "pos"]


def test_classifier_single_class_task_raises():
    X, L = small_labels()
    L[:, 1] = np.where(np.isnan(L[:, 1]), np.nan, 1.0)
    with pytest.raises(ValueError, match="task 1 has only one class"):
        MultiTaskMLPClassifier((4,)).fit(X, L)


def test_encode_decode_roundtrip():
    Y = np.array([["b", 3.0], ["a", np.nan], [None, 1.0], ["b", 1.0]], dtype=object)
    codes, classes = encode_task_labels(Y)
    np.testing.assert_array_equal(codes, [[1, 1], [0, np.nan], [np.nan, 0], [1, 0]])
    out = decode_task_labels(np.nan_to_num(codes).astype(int), classes)
    assert out[0, 0] == "b" and out[0, 1] == 3.0
    with pytest.raises(ValueError, match="not in its classes"):
        encode_task_labels(np.array([[1], [7]]), classes=[[1, 2]])


def test_classifier_partial_fit():
    X, L = small_labels(n=200)
    classes = [np.array([0.0, 1.0]), np.array([0.0, 1.0, 2.0]), np.array([2.0, 5.0])]
    clf = MultiTaskMLPClassifier((16,), random_state=0, learning_rate_init=0.01)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, L)
    for _ in range(30):
        for s in range(0, 200, 50):
            Lb = L[s : s + 50].copy()
            Lb[:, 2] = np.nan if s == 0 else Lb[:, 2]  # a task may be absent
            clf.partial_fit(X[s : s + 50], Lb, classes=classes)
    assert clf.n_iter_ == 120
    assert clf.score(X, L) > 0.8


# ----------------------------------------------- partial_fit / early stopping
def test_partial_fit_continues_training():
    X, Y = small_data(n=200)
    m = MultiTaskMLPRegressor((16,), random_state=0, learning_rate_init=0.01)
    for _ in range(40):
        m.partial_fit(X, Y)
    assert m.n_iter_ == 40 and len(m.loss_curve_) == 40
    assert m.loss_curve_[-1] < m.loss_curve_[0]
    assert m.score(X, Y) > 0.8
    w = MultiTaskMLPRegressor((16,), max_iter=5, warm_start=True, random_state=0).fit(
        X, Y
    )
    w.fit(X, Y)
    assert w.n_iter_ == 10


def test_early_stopping_curves():
    X, Y = small_data(n=300)
    m = MultiTaskMLPRegressor(
        (16,),
        early_stopping=True,
        max_iter=300,
        random_state=0,
        learning_rate_init=0.01,
        n_iter_no_change=5,
    ).fit(X, Y)
    assert m.validation_scores_.shape == (m.n_iter_, 3)
    assert m.n_iter_ < 300
    best = np.nanmean(m.validation_scores_, axis=1).max()
    assert np.isclose(m.best_validation_score_, best)
    c = MultiTaskMLPClassifier((8,), early_stopping=True, random_state=0).fit(
        *small_labels(n=200)
    )
    assert c.validation_scores_.shape[1] == 3
    assert MultiTaskMLPRegressor((4,), max_iter=3).fit(X, Y).validation_scores_ is None


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive", "cosine"])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_solvers_and_schedules(solver, schedule):
    X, Y = small_data(n=150)
    m = MultiTaskMLPRegressor(
        (16,),
        solver=solver,
        learning_rate=schedule,
        learning_rate_init=0.01,
        max_iter=150,
        random_state=0,
        task_layer_sizes=(4,),
    ).fit(X, Y)
    assert m.score(X, Y) > 0.6


# ------------------------------------------------------ sparse / pandas
def test_sparse_matches_dense():
    X, Y = small_data(n=80)
    X[np.abs(X) < 0.5] = 0
    a = MultiTaskMLPRegressor((8,), max_iter=20, random_state=0).fit(X, Y)
    b = MultiTaskMLPRegressor((8,), max_iter=20, random_state=0).fit(
        sp.csr_matrix(X), Y
    )
    np.testing.assert_allclose(
        a.predict(X), b.predict(sp.csr_matrix(X)), rtol=1e-8, atol=1e-10
    )


def test_dataframe_names_and_float32():
    pd = pytest.importorskip("pandas")
    X, Y = small_data()
    Xdf = pd.DataFrame(X, columns=list("abcd"))
    Ydf = pd.DataFrame(Y, columns=["u", "v", "w"])
    m = MultiTaskMLPRegressor((8,), max_iter=5, random_state=0).fit(Xdf, Ydf)
    assert list(m.task_names_) == ["u", "v", "w"]
    assert list(m.feature_names_in_) == list("abcd")
    assert m.n_tasks_ == 3
    m32 = MultiTaskMLPRegressor((8,), max_iter=5, random_state=0).fit(
        X.astype(np.float32), Y
    )
    assert m32.transform(X).dtype == np.float32
    m.fit(X, Y)  # refit without names drops task_names_
    assert not hasattr(m, "task_names_")


def test_pickle_roundtrip():
    X, Y = small_data()
    m = MultiTaskMLPRegressor((8,), max_iter=5, random_state=0).fit(X, Y)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(m.predict(X), m2.predict(X))
    m2.partial_fit(X, Y)  # still trainable


# ------------------------------------------------------------ bad inputs
@pytest.mark.parametrize(
    "make_bad, match",
    [
        (
            lambda X, Y: (
                np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X),
                Y,
                None,
            ),
            "NaN",
        ),
        (
            lambda X, Y: (
                np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X),
                Y,
                None,
            ),
            "infinity",
        ),
        (
            lambda X, Y: (X, np.c_[Y[:, :2], np.full(len(Y), np.nan)], None),
            "no labelled sample",
        ),
        (lambda X, Y: (X, Y, -np.ones(len(Y))), "Negative"),
        (lambda X, Y: (X[:-1], Y, None), "inconsistent numbers of samples"),
        (lambda X, Y: (X, Y, np.ones(3)), "sample_weight"),
        (lambda X, Y: (X, np.where(np.isnan(Y), np.inf, Y), None), "infinity"),
    ],
)
def test_bad_fit_inputs(make_bad, match):
    X, Y = small_data()
    Xb, Yb, sw = make_bad(X, Y)
    with pytest.raises(ValueError, match=match):
        MultiTaskMLPRegressor((4,), max_iter=2).fit(Xb, Yb, sample_weight=sw)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": ()}, "at least one layer"),
        ({"hidden_layer_sizes": (4, 0)}, "positive"),
        ({"task_layer_sizes": (-1,)}, "positive"),
        ({"activation": "gelu"}, "activation"),
        ({"task_weighting": "magic"}, "task_weighting"),
        ({"task_weights": [1.0, -1.0, 1.0]}, "non-negative"),
        ({"task_weights": [1.0, 1.0]}, "one weight per task"),
        ({"dropout": 1.0}, "dropout"),
        ({"learning_rate": "fast"}, "learning_rate"),
        ({"alpha": -1.0}, "alpha"),
        ({"solver": "lbfgs"}, "solver"),
    ],
)
def test_bad_params(params, match):
    X, Y = small_data()
    with pytest.raises(ValueError, match=match):
        MultiTaskMLPRegressor(
            **{"hidden_layer_sizes": (4,), "max_iter": 2, **params}
        ).fit(X, Y)


def test_bad_predict_inputs():
    X, Y = small_data()
    m = MultiTaskMLPRegressor((4,), max_iter=2).fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        m.predict(X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        m.transform(np.full((2, 4), np.nan))
    with pytest.raises(ValueError, match="task"):
        m.partial_fit(X, Y[:, :2])


def test_non_finite_loss_raises():
    X, Y = small_data()
    m = MultiTaskMLPRegressor(
        (16,), solver="sgd", learning_rate_init=1e3, max_iter=50, random_state=0
    )
    with pytest.raises(NonFiniteLossError, match="diverged"):
        m.fit(X * 1e3, Y * 1e6)
    assert issubclass(NonFiniteLossError, ValueError)


# ------------------------------------------------------------ model selection
def test_pipeline_gridsearch_with_nan():
    X, Y = small_data(n=120)
    pipe = make_pipeline(
        StandardScaler(),
        MultiTaskMLPRegressor(max_iter=40, random_state=0, learning_rate_init=0.01),
    )
    grid = GridSearchCV(
        pipe,
        {
            "multitaskmlpregressor__hidden_layer_sizes": [(8,), (16,)],
            "multitaskmlpregressor__alpha": [1e-4, 1e-2],
            "multitaskmlpregressor__task_weighting": ["equal", "uncertainty"],
        },
        cv=3,
    )
    grid.fit(X, Y)
    assert np.isfinite(grid.best_score_) and grid.best_score_ > 0.5
    assert grid.predict(X).shape == Y.shape


# --------------------------------------------------------- statistical tests
def test_mtl_beats_independent_mlps_on_shared_representation():
    X, Y, Xt, Yt, _, _ = shared_problem()
    kw = dict(
        hidden_layer_sizes=(64,),
        max_iter=500,
        random_state=0,
        learning_rate_init=0.01,
        alpha=1e-3,
        batch_size=32,
    )
    mtl = MultiTaskMLPRegressor(**kw).fit(X, Y)
    r_mtl = r2_score(Yt, mtl.predict(Xt))
    preds = []
    for t in range(Y.shape[1]):
        rows = ~np.isnan(Y[:, t])
        preds.append(MLPRegressor(**kw).fit(X[rows], Y[rows, t]).predict(Xt))
    r_ind = r2_score(Yt, np.array(preds).T)
    assert r_mtl > r_ind + 0.1, (r_mtl, r_ind)


def test_unrelated_tasks_do_not_collapse():
    X, Y, Xt, Yt, _, _ = shared_problem(shared=False)
    mtl = MultiTaskMLPRegressor(
        (64,),
        max_iter=500,
        random_state=0,
        learning_rate_init=0.01,
        alpha=1e-3,
        batch_size=32,
    ).fit(X, Y)
    P = mtl.predict(Xt)
    # every head still fits its own task (no collapse to a constant/shared output)
    assert np.all(P.std(axis=0) > 0.1 * Yt.std(axis=0))
    assert r2_score(Y, mtl.predict(X), aggregate="min") > 0.3
    assert np.all(np.isfinite(P))


def test_single_task_in_line_with_sklearn():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 6))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=600)
    kw = dict(
        hidden_layer_sizes=(32, 16),
        max_iter=300,
        random_state=0,
        learning_rate_init=0.003,
    )
    ours = MultiTaskMLPRegressor(**kw).fit(X[:400], y[:400])
    ref = MLPRegressor(**kw).fit(X[:400], y[:400])
    r_ours = ours.score(X[400:], y[400:])
    r_ref = ref.score(X[400:], y[400:])
    assert ours.predict(X[400:]).shape == (200,)
    assert r_ours > r_ref - 0.05, (r_ours, r_ref)


def test_transform_features_help_new_task():
    X, Y, Xt, _, y_new, yt_new = shared_problem()
    mtl = MultiTaskMLPRegressor(
        (64,),
        max_iter=500,
        random_state=0,
        learning_rate_init=0.01,
        alpha=1e-3,
        batch_size=32,
    ).fit(X, Y)
    n_new = 60  # few labelled rows for the new task
    pipe = make_pipeline(FrozenEstimator(mtl), Ridge(alpha=1.0)).fit(
        X[:n_new], y_new[:n_new]
    )
    raw = Ridge(alpha=1.0).fit(X[:n_new], y_new[:n_new])
    assert pipe.score(Xt, yt_new) > raw.score(Xt, yt_new) + 0.3
    assert mtl.transform(Xt).shape == (len(Xt), 64)


@pytest.mark.parametrize("scheme", ["glorot", "fan_in"])
def test_weight_init_bounds(scheme):
    # one step at a negligible learning rate leaves the initial weights
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(400, 50)), rng.normal(size=(400, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MultiTaskMLPRegressor(
            (64,), weight_init=scheme, learning_rate_init=1e-12, max_iter=1,
            random_state=0,
        ).fit(X, Y)  # fmt: skip
    fan = [(50, 64), (64, 1)]  # trunk layer, one-output task heads
    for W, b, (fan_in, fan_out) in zip(mlp.coefs_, mlp.intercepts_, fan, strict=True):
        if scheme == "fan_in":
            bound = 1 / np.sqrt(fan_in)
        else:
            bound = np.sqrt(6 / (fan_in + fan_out))
        for A in (W, b):
            assert np.abs(A).max() <= bound * (1 + 1e-6)
        assert np.abs(W).max() > 0.9 * bound  # uniform draws fill the range


def test_weight_init_rejects_unknown_scheme():
    X, Y = np.zeros((10, 2)), np.zeros((10, 2))
    with pytest.raises(ValueError, match="weight_init"):
        MultiTaskMLPRegressor(weight_init="he").fit(X, Y)


# ------------------------------------------------------------ target scaling
def scaled_problem(n=600, n_test=1000, seed=0):
    """Four tasks on one tanh representation, targets 100x apart in scale."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(6, 4)) / np.sqrt(6)
    B = rng.normal(size=(4, 4))
    scale = np.array([100.0, 1.0, 1.0, 1.0])
    shift = np.array([500.0, -3.0, 0.0, 2.0])

    def sample(m):
        X = rng.normal(size=(m, 6))
        F = np.tanh(2 * X @ A) @ B
        return X, (F + 0.1 * rng.normal(size=F.shape)) * scale + shift

    X, Y = sample(n)
    Y[rng.random(Y.shape) < 0.3] = np.nan
    Xt, Yt = sample(n_test)
    return X, Y, Xt, Yt


def _nmse(Yt, P):
    return ((Yt - P) ** 2).mean(axis=0) / Yt.var(axis=0)


def test_target_scaling_is_manual_standardisation():
    X, Y, Xt, _ = scaled_problem(n=200)
    kw = dict(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
    m = MultiTaskMLPRegressor(**kw).fit(X, Y)
    mu, sd = np.nanmean(Y, axis=0), np.nanstd(Y, axis=0)  # independent oracle
    np.testing.assert_allclose(m.target_mean_, mu)
    np.testing.assert_allclose(m.target_scale_, sd)
    ref = MultiTaskMLPRegressor(standardize_targets=False, **kw)
    ref.fit(X, (Y - mu) / sd)
    np.testing.assert_allclose(m.predict(Xt), ref.predict(Xt) * sd + mu, rtol=1e-9)
    # loss curves are in standardised units: those of the reference fit
    np.testing.assert_allclose(m.task_loss_curves_, ref.task_loss_curves_)
    off = MultiTaskMLPRegressor(standardize_targets=False, **kw).fit(X, Y)
    np.testing.assert_array_equal(off.target_mean_, 0.0)
    np.testing.assert_array_equal(off.target_scale_, 1.0)


def test_target_scaling_weighted_and_1d():
    X, Y, _, _ = scaled_problem(n=120)
    sw = np.linspace(0.2, 3.0, len(X))
    m = MultiTaskMLPRegressor((8,), max_iter=3, random_state=0).fit(X, Y, sw)
    for t in range(Y.shape[1]):
        r = ~np.isnan(Y[:, t])
        mu = np.average(Y[r, t], weights=sw[r])
        sd = np.sqrt(np.average((Y[r, t] - mu) ** 2, weights=sw[r]))
        assert np.isclose(m.target_mean_[t], mu) and np.isclose(m.target_scale_[t], sd)
    # a 1-D target far from 0 is predicted in its own units
    y = 1000.0 + 50.0 * X[:, 0]
    one = MultiTaskMLPRegressor((16,), max_iter=200, random_state=0).fit(X, y)
    assert one.predict(X).shape == (120,) and one.score(X, y) > 0.9
    # a constant task keeps scale 1 (no division by zero)
    Yc = Y.copy()
    Yc[:, 1] = np.where(np.isnan(Yc[:, 1]), np.nan, 7.0)
    c = MultiTaskMLPRegressor((8,), max_iter=3, random_state=0).fit(X, Yc)
    assert c.target_scale_[1] == 1.0 and c.target_mean_[1] == 7.0
    assert np.all(np.isfinite(c.predict(X)))


def test_target_scaling_partial_fit_keeps_first_statistics():
    X, Y, _, _ = scaled_problem(n=200)
    m = MultiTaskMLPRegressor((8,), random_state=0)
    m.partial_fit(X[:100], Y[:100])
    mu = m.target_mean_.copy()
    m.partial_fit(X[100:], Y[100:] + 1e4)
    np.testing.assert_array_equal(m.target_mean_, mu)
    np.testing.assert_allclose(mu, np.nanmean(Y[:100], axis=0))


def test_target_scaling_balances_tasks_100x_apart():
    # Per-task normalised error of the default network is within 20% of
    # fitting each task's standardised targets separately (one network per
    # task), while the unscaled network sacrifices the small-scale tasks.
    X, Y, Xt, Yt = scaled_problem()
    kw = dict(hidden_layer_sizes=(32,), max_iter=200, random_state=0)
    kw.update(learning_rate_init=1e-2, alpha=1e-4)  # the same for every model
    default = _nmse(Yt, MultiTaskMLPRegressor(**kw).fit(X, Y).predict(Xt))
    separate = np.empty(Y.shape[1])
    for t in range(Y.shape[1]):
        r = ~np.isnan(Y[:, t])
        mu, sd = Y[r, t].mean(), Y[r, t].std()
        net = MLPRegressor(**kw).fit(X[r], (Y[r, t] - mu) / sd)
        separate[t] = _nmse(Yt[:, [t]], net.predict(Xt)[:, None] * sd + mu)[0]
    raw = MultiTaskMLPRegressor(standardize_targets=False, **kw).fit(X, Y)
    unscaled = _nmse(Yt, raw.predict(Xt))
    assert np.all(default <= 1.2 * separate), (default, separate)
    assert unscaled[1:].mean() > 1.5 * default[1:].mean(), (unscaled, default)


# ------------------------------------------------------------- architectures
ARCHS = ["hard", "soft", "cross_stitch", "mmoe"]


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
@pytest.mark.parametrize("architecture", ARCHS)
@pytest.mark.parametrize("task_layers", [(), (4,)])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_architecture_gradients_match_finite_differences(
    kind, architecture, task_layers, activation
):
    X, Y = small_data(n=20) if kind == "regressor" else small_labels(n=20)
    cls = MultiTaskMLPRegressor if kind == "regressor" else MultiTaskMLPClassifier
    model = cls(
        (5, 4),
        activation,
        task_layer_sizes=task_layers,
        architecture=architecture,
        sharing_strength=0.7,
        n_experts=3,
        alpha=0.3,
        max_iter=3,
        task_weighting="uncertainty",
        task_weights=[1.0, 2.0, 0.5],
        random_state=0,
    ).fit(X, Y)
    params = model._flat.copy()
    params[model._net.n_net_params :] = [0.3, -0.7, 1.1]
    _fd_check(model, X, Y, params)


@pytest.mark.parametrize("architecture", ["soft", "cross_stitch", "mmoe"])
def test_architecture_gradient_sparse_X(architecture):
    X, Y = small_data(n=20)
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0))
    m = MultiTaskMLPRegressor(
        (4, 3), architecture=architecture, n_experts=2, max_iter=2, random_state=0
    ).fit(Xs, Y)
    _fd_check(m, Xs, Y, m._flat.copy())
    vd, gd = m._loss_and_gradient(Xs.toarray(), Y)
    vs, gs = m._loss_and_gradient(Xs, Y)
    assert np.isclose(vd, vs)
    np.testing.assert_allclose(gd, gs, atol=1e-12)


def _column_params(soft, hard_like, t, vec=None):
    """Task t's column + head of a soft network, in a 1-task hard layout.

    ``vec`` (default the soft network's parameters) may be its gradient.
    """
    v = soft._net.views(soft._flat if vec is None else vec)
    flat = np.zeros_like(hard_like._flat)
    coefs, ints, _ = hard_like._net.unpack(flat)
    h = soft._net.hidden
    coefs[0][...] = v["body_W0"][:, t * h[0] : (t + 1) * h[0]]
    ints[0][...] = v["body_b0"][t * h[0] : (t + 1) * h[0]]
    for i in range(1, len(h)):
        coefs[i][...] = v[f"body_W{i}"][t]
        ints[i][...] = v[f"body_b{i}"][t, 0]
    coefs[len(h)][...] = v["head_W0"][t]
    ints[len(h)][...] = v["head_b0"][t, 0]
    return flat


def test_soft_sharing_at_strength_zero_is_independent_networks():
    X, Y = small_data(n=40, missing=False)
    kw = dict(alpha=0.1, batch_size=40, shuffle=False, random_state=0)
    soft = MultiTaskMLPRegressor(
        (5, 4), architecture="soft", sharing_strength=0.0, max_iter=1, **kw
    ).fit(X, Y)
    singles = []
    for t in range(3):
        m = MultiTaskMLPRegressor((5, 4), max_iter=1, **kw).fit(X, Y[:, t])
        m._flat[...] = _column_params(soft, m, t)
        m._make_optimizer()
        singles.append(m)
    # objective and gradient: the sum of the independent networks'
    value, grad = soft._loss_and_gradient(X, Y)
    gv = soft._net.views(grad)
    total = 0.0
    for t, m in enumerate(singles):
        v1, g1 = m._loss_and_gradient(X, Y[:, t])
        total += v1
        np.testing.assert_allclose(
            _column_params(soft, m, t, grad), g1, rtol=1e-10, atol=1e-12
        )
    assert np.isclose(value, total)
    assert gv["body_W0"].shape == (4, 15)
    # training: with full batches Adam moves every column exactly as the
    # independent network would
    soft._make_optimizer()
    for _ in range(15):
        soft.partial_fit(X, Y)
        for t, m in enumerate(singles):
            m.partial_fit(X, Y[:, t])
    P = soft.predict(X)
    for t, m in enumerate(singles):
        np.testing.assert_allclose(P[:, t], m.predict(X), rtol=1e-8, atol=1e-10)


def test_soft_sharing_on_equal_columns_is_hard_sharing():
    # the large-strength limit: columns forced equal. On that set the soft
    # objective is the hard one and the summed column gradients are the
    # trunk gradient.
    X, Y = small_data(n=30)
    hard = MultiTaskMLPRegressor((5, 4), alpha=0.2, max_iter=2, random_state=0)
    hard.fit(X, Y)
    soft = clone(hard).set_params(architecture="soft", sharing_strength=50.0)
    soft.fit(X, Y)
    hc, hi, _ = hard._net.unpack(hard._flat)
    v = soft._net.views(soft._flat)
    v["body_W0"][...] = np.tile(hc[0], 3)
    v["body_b0"][...] = np.tile(hi[0], 3)
    v["body_W1"][...] = hc[1]
    v["body_b1"][...] = hi[1]
    v["head_W0"][...] = hc[2].reshape(4, 3, 1).transpose(1, 0, 2)
    v["head_b0"][...] = hi[2].reshape(3, 1, 1)
    vh, gh = hard._loss_and_gradient(X, Y)
    vs, gs = soft._loss_and_gradient(X, Y)
    # the trunk's L2 term is counted once per column in the soft network
    extra_l2 = 2 * 0.5 * 0.2 / 30 * sum((W**2).sum() for W in hc[:2])
    assert np.isclose(vs, vh + extra_l2)
    ghc, ghi, _ = hard._net.unpack(gh)
    g = soft._net.views(gs)
    l2 = 0.2 / 30
    np.testing.assert_allclose(
        g["body_W0"].reshape(4, 3, 5).sum(1), ghc[0] + 2 * l2 * hc[0], atol=1e-12
    )
    np.testing.assert_allclose(g["body_b1"].sum(0)[0], ghi[1], atol=1e-12)
    np.testing.assert_allclose(
        g["head_W0"].transpose(1, 0, 2).reshape(4, 3), ghc[2], atol=1e-12
    )


def _column_spread(model):
    parts = model._net._coupled(model._flat)
    num = sum(((P - P.mean(0)) ** 2).sum() for P in parts)
    return np.sqrt(num / sum((P**2).sum() for P in parts))


def test_soft_sharing_strength_pulls_columns_together():
    X, Y = small_data(n=90)
    spreads, scores = [], []
    for s in [0.0, 1.0, 30.0, 3000.0]:
        m = MultiTaskMLPRegressor(
            (8,),
            architecture="soft",
            sharing_strength=s,
            max_iter=150,
            learning_rate_init=0.01,
            random_state=0,
        ).fit(X, Y)
        spreads.append(_column_spread(m))
        scores.append(m.score(X, Y))
    assert all(a > b for a, b in zip(spreads[:-1], spreads[1:], strict=True)), spreads
    assert spreads[-1] < 0.02 * spreads[0], spreads
    # a strongly coupled network still fits (it trains more slowly: the
    # columns must move together)
    assert min(scores[:3]) > 0.95 and scores[-1] > 0.7, scores


def test_mmoe_gates_differ_between_task_groups():
    # tasks 0, 1 read f (features 0-1), tasks 2, 3 read g (features 3-4);
    # every gate starts uniform, so differences are learned
    rng = np.random.default_rng(2)
    X = rng.normal(size=(600, 6))
    f = np.sin(2 * X[:, 0]) * X[:, 1]
    g = np.abs(X[:, 3]) - X[:, 4] ** 2
    Y = np.c_[f, 2 * f, g, -g] + 0.05 * rng.normal(size=(600, 4))
    m = MultiTaskMLPRegressor(
        (16,),
        architecture="mmoe",
        n_experts=4,
        max_iter=200,
        learning_rate_init=0.01,
        alpha=1e-4,
        batch_size=200,
        random_state=2,
    ).fit(X, Y)
    assert m.score(X, Y) > 0.9
    G = m.gate_weights(X)
    # oracle: softmax of the gate logits written out here
    v = m._net.views(m._flat)
    logits = (X @ v["gate_W"] + v["gate_b"]).reshape(600, 4, 4)
    E = np.exp(logits - logits.max(axis=2, keepdims=True))
    np.testing.assert_allclose(G, (E / E.sum(axis=2, keepdims=True)).mean(0))
    np.testing.assert_allclose(G.sum(axis=1), 1.0)
    tv = 0.5 * np.abs(G[:, None] - G[None]).sum(-1)
    within = (tv[0, 1] + tv[2, 3]) / 2
    across = tv[:2, 2:].mean()
    assert across > 0.15 and across > 3 * within, tv
    assert m.transform(X).shape == (600, 4 * 16)
    with pytest.raises(AttributeError, match="mmoe"):
        MultiTaskMLPRegressor((4,), max_iter=2).fit(X, Y).gate_weights(X)


def test_cross_stitch_units_learned():
    X, Y = small_data(n=90)
    m = MultiTaskMLPRegressor(
        (8, 6),
        architecture="cross_stitch",
        max_iter=100,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, Y)
    units = m.cross_stitch_units_
    assert [S.shape for S in units] == [(3, 3), (3, 3)]
    init = np.full((3, 3), 0.05) + 0.85 * np.eye(3)
    assert all(np.abs(S - init).max() > 1e-3 for S in units)
    assert m.score(X, Y) > 0.9
    assert m.transform(X).shape == (90, 3 * 6)
    with pytest.raises(AttributeError, match="cross_stitch"):
        _ = MultiTaskMLPRegressor((4,), max_iter=2).fit(X, Y).cross_stitch_units_


@pytest.mark.parametrize("architecture", ["soft", "cross_stitch", "mmoe"])
@pytest.mark.parametrize("weighting", ["pcgrad", "gradnorm", "dwa"])
def test_architectures_train_with_weightings(architecture, weighting):
    X, Y = small_data(n=90)
    m = MultiTaskMLPRegressor(
        (12,),
        architecture=architecture,
        task_weighting=weighting,
        task_layer_sizes=(4,),
        max_iter=80,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, Y)
    assert m.score(X, Y) > 0.8
    assert m.task_weights_.shape == (m.n_iter_, 3)
    c = MultiTaskMLPClassifier(
        (12,),
        architecture=architecture,
        task_weighting=weighting,
        max_iter=80,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(*small_labels(n=90))
    assert c.score(*small_labels(n=90)) > 0.8


def test_architecture_cannot_change_on_warm_start():
    X, Y = small_data()
    m = MultiTaskMLPRegressor((4,), max_iter=2, warm_start=True).fit(X, Y)
    m.set_params(architecture="mmoe")
    with pytest.raises(ValueError, match="architecture"):
        m.fit(X, Y)


# ------------------------------------------------- gradient-based weightings
def test_min_norm_coefficients_against_scipy():
    from scipy.optimize import minimize

    from skmtl.neural_network._weighting import min_norm_coefficients

    rng = np.random.default_rng(0)
    # two tasks: closed form a_1 = clip((g2 - g1).g2 / ||g1 - g2||^2, 0, 1)
    g = rng.normal(size=(2, 6))
    a = min_norm_coefficients(g @ g.T)
    d = g[0] - g[1]
    a1 = np.clip(-(d @ g[1]) / (d @ d), 0, 1)
    np.testing.assert_allclose(a, [a1, 1 - a1], atol=1e-6)
    for T in (3, 5):
        G = rng.normal(size=(T, 8)) + 0.5
        a = min_norm_coefficients(G @ G.T)
        ref = minimize(
            lambda x, G=G: 0.5 * np.sum((x @ G) ** 2),
            np.full(T, 1 / T),
            jac=lambda x, G=G: G @ (x @ G),
            bounds=[(0, 1)] * T,
            constraints=({"type": "eq", "fun": lambda x: x.sum() - 1},),
            method="SLSQP",
            options={"ftol": 1e-14},
        ).x
        assert np.all(a >= 0) and np.isclose(a.sum(), 1)
        dn = a @ G
        assert dn @ dn <= np.sum((ref @ G) ** 2) * (1 + 1e-5)
        # optimality: every task gradient has g_t . d >= ||d||^2
        assert np.all(G @ dn >= (dn @ dn) * (1 - 1e-4))


def test_cagrad_coefficients_against_grid_search():
    from skmtl.neural_network._weighting import cagrad_coefficients

    rng = np.random.default_rng(1)
    G = rng.normal(size=(2, 5))
    G[1] = -0.5 * G[0] + 0.3 * rng.normal(size=5)  # conflicting tasks
    c = 0.5
    g0 = G.mean(0)
    s = np.linspace(0, 1, 200001)
    W = np.c_[s, 1 - s]
    GW = W @ G
    F = GW @ g0 + c * np.linalg.norm(g0) * np.linalg.norm(GW, axis=1)
    gw = GW[np.argmin(F)]
    d = g0 + c * np.linalg.norm(g0) * gw / np.linalg.norm(gw)
    k = cagrad_coefficients(G @ G.T, c)
    np.testing.assert_allclose(k @ G, 2 * d / (1 + c**2), rtol=1e-3, atol=1e-5)
    # CAGrad's aim: a better worst-task improvement rate than the mean
    dk = k @ G
    assert (G @ dk).min() / np.linalg.norm(dk) > (G @ g0).min() / np.linalg.norm(g0)


def test_imtl_coefficients_equal_projections():
    from skmtl.neural_network._weighting import imtl_coefficients

    rng = np.random.default_rng(2)
    G = rng.normal(size=(4, 9)) * np.array([[1.0], [5.0], [0.2], [2.0]])
    k = imtl_coefficients(G @ G.T)
    assert np.isclose(k.sum(), 4)
    g = k @ G
    U = G / np.linalg.norm(G, axis=1, keepdims=True)
    proj = U @ g
    np.testing.assert_allclose(proj, proj[0], rtol=1e-8)
    np.testing.assert_array_equal(imtl_coefficients(np.zeros((3, 3))), 1.0)


@pytest.mark.parametrize("weighting", ["mgda", "cagrad", "imtl"])
def test_combined_trunk_gradient_is_a_combination_of_task_gradients(weighting):
    # The trunk gradient of a combining strategy is sum_t k_t G_t with G_t
    # the per-task trunk gradients, computed here by the plain code path
    # (one model per task with a one-hot task weight), and k the strategy's
    # coefficients from the Gram of the trunk gradients (CAGrad) or of the
    # gradients at the trunk output, written out here (MGDA-UB, IMTL-G);
    # the heads keep their own gradients.
    from skmtl.neural_network import _weighting as wmod

    X, Y = small_data(n=30)
    m = MultiTaskMLPRegressor(
        (5,), task_weighting=weighting, alpha=0.0, max_iter=2, random_state=0
    ).fit(X, Y)
    _, grad = m._loss_and_gradient(X, Y)
    G = []
    for t in range(3):
        e = clone(m).set_params(task_weighting="equal", task_weights=np.eye(3)[t])
        e.fit(X, Y)
        e._flat[...] = m._flat
        G.append(e._loss_and_gradient(X, Y)[1][: m._net.n_shared])
    G = np.array(G)
    if weighting == "cagrad":  # the Gram of the trunk parameter gradients
        gram = G @ G.T
    else:  # MGDA-UB / IMTL: of the gradients at the trunk output H
        Ys = (Y - m.target_mean_) / m.target_scale_
        mask = ~np.isnan(Ys)
        Cm = mask / mask.sum(0)
        H = m.transform(X)
        W, b = m.coefs_[-1], m.intercepts_[-1]
        R = np.where(mask, H @ W + b - np.nan_to_num(Ys), 0.0) * Cm
        Z = np.stack([R[:, [t]] * W[:, t] for t in range(3)])
        Zf = Z.reshape(3, -1)
        gram = Zf @ Zf.T
    fn = {
        "mgda": lambda gr: 3 * wmod.min_norm_coefficients(gr),
        "cagrad": lambda gr: wmod.cagrad_coefficients(gr, wmod.CAGRAD_C),
        "imtl": wmod.imtl_coefficients,
    }[weighting]
    np.testing.assert_allclose(
        grad[: m._net.n_shared], fn(gram) @ G, rtol=1e-6, atol=1e-9
    )
    eq = clone(m).set_params(task_weighting="equal").fit(X, Y)
    eq._flat[...] = m._flat
    np.testing.assert_allclose(
        grad[m._net.n_shared :], eq._loss_and_gradient(X, Y)[1][m._net.n_shared :]
    )


def test_famo_direction_is_gradient_of_weighted_log_losses():
    # FAMO steps along (T / c) * grad sum_t z_t log L_t, c = sum_t z_t / L_t
    X, Y = small_data(n=30, missing=False)
    m = MultiTaskMLPRegressor(
        (5,), task_weighting="famo", alpha=0.0, max_iter=20, random_state=0
    ).fit(X, Y)
    logits = m._weighting.logits
    assert np.abs(logits).max() > 0  # the weights moved
    z = np.exp(logits) / np.exp(logits).sum()

    def task_losses(params):
        Ys = (Y - m.target_mean_) / m.target_scale_
        out, _ = m._net.forward(params, X)
        return 0.5 * ((out[:, :, 0] - Ys) ** 2).mean(axis=0)

    p = m._flat.copy()
    L = task_losses(p)
    c = np.sum(z / L)
    _, grad = m._loss_and_gradient(X, Y)
    num = np.empty(p.size)
    for i in range(p.size):
        e = p.copy()
        e[i] += 1e-6
        fp = z @ np.log(task_losses(e))
        e[i] -= 2e-6
        num[i] = (fp - z @ np.log(task_losses(e))) / 2e-6
    np.testing.assert_allclose(grad, 3 / c * num, rtol=1e-5, atol=1e-8)


def test_minimax_weights_follow_exponentiated_gradient():
    from skmtl.neural_network._weighting import MINIMAX_STEP, MinimaxWeighting

    w = MinimaxWeighting(np.ones(3))
    L1, L2 = np.array([1.0, 2.0, 0.5]), np.array([0.5, 3.0, 0.0])
    w.observe(L1, np.array([True, True, True]))
    w.observe(L2, np.array([True, True, False]))  # task 2 absent
    q = np.exp(MINIMAX_STEP * (L1 + np.r_[L2[:2], 0.0]))
    np.testing.assert_allclose(w.loss_weights(None), 3 * q / q.sum())


def test_minimax_raises_worst_task_score():
    # three easy linear tasks and one hard oscillating task share a trunk
    rng = np.random.default_rng(1)

    def sample(m):
        X = rng.normal(size=(m, 5))
        Y = np.c_[
            X[:, 0] + X[:, 1],
            X[:, 1] - X[:, 2],
            X[:, 2] + 0.5 * X[:, 3],
            np.sin(2.5 * X[:, 0]) * np.cos(2 * X[:, 3]),
        ]
        return X, Y + 0.05 * rng.normal(size=Y.shape)

    X, Y = sample(1000)
    Xt, Yt = sample(2000)
    kw = dict(hidden_layer_sizes=(16,), max_iter=200, learning_rate_init=0.01)
    worst = {}
    for name in ["equal", "minimax"]:
        m = MultiTaskMLPRegressor(task_weighting=name, random_state=0, **kw)
        r = r2_score(Yt, m.fit(X, Y).predict(Xt), aggregate="raw_values")
        worst[name] = r.min()
        if name == "minimax":
            assert np.argmax(m.task_weights_[-1]) == 3  # the hard task
    assert worst["minimax"] > worst["equal"] + 0.05, worst


# ------------------------------------------------------- small-data defaults
def representation_problem(seed=0, n_tasks=6, n_per_task=60, p=10, k=5):
    """Tasks y_t = |x A| b_t + noise on a shared 5-dim representation.

    Each training row is labelled for one task (``n_per_task`` per task).
    """
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(p, k)) * 2 / np.sqrt(p)
    B = rng.normal(size=(k, n_tasks + 1))

    def f(X):
        return (np.abs(X @ A) - 0.8) @ B

    n = n_tasks * n_per_task
    X = rng.normal(size=(n, p))
    Y = np.full((n, n_tasks), np.nan)
    task = np.repeat(np.arange(n_tasks), n_per_task)
    Y[np.arange(n), task] = f(X)[np.arange(n), task] + 0.1 * rng.normal(size=n)
    Xt = rng.normal(size=(1000, p))
    return X, Y, Xt, f(Xt)[:, :n_tasks], f, rng


def test_default_beats_independent_mlps_with_60_rows_per_task():
    X, Y, Xt, Ft, _, _ = representation_problem()
    r_mtl = r2_score(Ft, MultiTaskMLPRegressor(random_state=0).fit(X, Y).predict(Xt))
    sk, own = [], []
    for t in range(Y.shape[1]):
        rows = ~np.isnan(Y[:, t])
        # scikit-learn's MLP of the same size, its defaults
        sk.append(MLPRegressor(random_state=0).fit(X[rows], Y[rows, t]).predict(Xt))
        # our network with the same defaults on each task alone
        own.append(
            MultiTaskMLPRegressor(random_state=0).fit(X[rows], Y[rows, t]).predict(Xt)
        )
    r_sk = r2_score(Ft, np.array(sk).T)
    r_own = r2_score(Ft, np.array(own).T)
    assert r_mtl > r_sk + 0.05, (r_mtl, r_sk)
    assert r_mtl > r_own + 0.05, (r_mtl, r_own)  # the sharing, not only defaults


# ---------------------------------------------------------------- transfer
def _new_task(f, rng, n, p=10, t=6):
    X = rng.normal(size=(n, p))
    return X, f(X)[:, t] + 0.1 * rng.normal(size=n)


def test_transfer_to_a_new_task_with_40_rows():
    X, Y, Xt, _, f, rng = representation_problem()
    src = MultiTaskMLPRegressor((16,), random_state=0).fit(X, Y)
    Xn, yn = _new_task(f, rng, 40)
    ft = f(Xt)[:, 6]

    def r2(pred):
        return 1 - np.mean((ft - pred) ** 2) / ft.var()

    raw = r2(Ridge(alpha=1.0).fit(Xn, yn).predict(Xt))
    feats = r2(Ridge(alpha=1.0).fit(src.transform(Xn), yn).predict(src.transform(Xt)))
    assert feats > raw + 0.2, (feats, raw)
    scratch = MultiTaskMLPRegressor((16,), random_state=0).fit(Xn, yn)
    tuned = MultiTaskMLPRegressor((16,), random_state=0, trunk_init=src).fit(Xn, yn)
    assert r2(tuned.predict(Xt)) > r2(scratch.predict(Xt)) + 0.1
    # fine-tuning started from the source trunk and moved it a little
    W0 = src.coefs_[0]
    assert 0 < np.abs(tuned.coefs_[0] - W0).max() < 0.5 * np.abs(W0).max()


@pytest.mark.parametrize("architecture", ARCHS)
def test_frozen_trunk_keeps_source_weights(architecture):
    X, Y = small_data(n=60)
    kw = dict(architecture=architecture, n_experts=2, random_state=0)
    src = MultiTaskMLPRegressor((6, 5), max_iter=20, **kw).fit(X, Y)
    k = src._net.trunk_size
    if architecture in ("soft", "cross_stitch"):
        Yn = Y[:, ::-1]  # the same number of tasks (one column per task)
    else:
        Yn = Y[:, :2] * 3 + 1  # different tasks
    new = MultiTaskMLPRegressor(
        (6, 5), max_iter=20, trunk_init=FrozenEstimator(src), freeze_trunk=True, **kw
    ).fit(X, Yn)
    np.testing.assert_array_equal(new._flat[:k], src._flat[:k])
    if architecture != "cross_stitch":  # (cross-stitch units start fresh)
        np.testing.assert_array_equal(new.transform(X), src.transform(X))
    assert new.n_tasks_ == Yn.shape[1]
    # SGD with momentum also honours the freeze
    sgd = clone(new).set_params(solver="sgd").fit(X, Yn)
    np.testing.assert_array_equal(sgd._flat[:k], src._flat[:k])


def test_trunk_init_errors():
    X, Y = small_data(n=60)
    src = MultiTaskMLPRegressor((6,), max_iter=5, random_state=0).fit(X, Y)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        MultiTaskMLPRegressor((7,), trunk_init=src, max_iter=2).fit(X, Y)
    with pytest.raises(ValueError, match="architecture"):
        MultiTaskMLPRegressor(
            (6,), trunk_init=src, architecture="mmoe", max_iter=2
        ).fit(X, Y)
    with pytest.raises(ValueError, match="n_features"):
        MultiTaskMLPRegressor((6,), trunk_init=src, max_iter=2).fit(X[:, :3], Y)
    with pytest.raises(ValueError, match="FrozenEstimator"):
        MultiTaskMLPRegressor((6,), trunk_init=clone(src), max_iter=2).fit(X, Y)
    with pytest.raises(TypeError, match="trunk_init"):
        MultiTaskMLPRegressor((6,), trunk_init=Ridge(), max_iter=2).fit(X, Y)
    # the new network may have other tasks of another type
    Xm, Ym = mixed_data(n=60)
    src5 = MultiTaskMLPRegressor((6,), max_iter=5, random_state=0)
    src5.fit(Xm, Ym[:, [0, 3]].astype(float))
    mixed = MultiTaskMLP(TYPES, (6,), trunk_init=src5, freeze_trunk=True, max_iter=5)
    mixed.fit(Xm, Ym)
    np.testing.assert_array_equal(mixed.transform(Xm), src5.transform(Xm))
    # a FrozenEstimator survives clone (GridSearchCV)
    grid = GridSearchCV(
        MultiTaskMLPRegressor((6,), max_iter=5, trunk_init=FrozenEstimator(src)),
        {"freeze_trunk": [True, False]},
        cv=2,
    ).fit(X, Y)
    assert np.isfinite(grid.best_score_)


# --------------------------------------------------------- mixed task types
def mixed_data(n=200, seed=0):
    """Task 0: price-like regression (large scale); task 1: yes/no; task 2:
    3 classes (ints); task 3: a second regression. Some labels missing."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    Y = np.empty((n, 4), dtype=object)
    Y[:, 0] = 100 + 20 * X[:, 0] + 5 * X[:, 1] ** 2
    Y[:, 1] = np.where(X[:, 0] - X[:, 2] > 0, "yes", "no")
    Y[:, 2] = np.digitize(X[:, 1] + X[:, 3], [-0.7, 0.7])
    Y[:, 3] = np.sin(X[:, 2]) + 0.05 * rng.normal(size=n)
    Y[::5, 1] = None
    Y[1::4, 3] = np.nan
    return X, Y


TYPES = ["regression", "classification", "classification", "regression"]


@pytest.mark.parametrize("architecture", ARCHS)
def test_mixed_gradient_matches_finite_differences(architecture):
    X, Y = mixed_data(n=20)
    from skmtl.neural_network import MultiTaskMLP

    m = MultiTaskMLP(
        TYPES,
        (5, 4),
        "tanh",
        task_layer_sizes=(3,),
        architecture=architecture,
        n_experts=2,
        sharing_strength=0.5,
        max_iter=3,
        task_weighting="uncertainty",
        random_state=0,
    ).fit(X, Y)
    params = m._flat.copy()
    params[m._net.n_net_params :] = [0.2, -0.4, 0.6, 0.1]
    _fd_check(m, X, Y, params)


def test_mixed_outputs_and_scores():
    from sklearn.metrics import accuracy_score as sk_acc
    from sklearn.metrics import r2_score as sk_r2

    from skmtl import MultiTaskMLP as Exported
    from skmtl.neural_network import MultiTaskMLP

    assert Exported is MultiTaskMLP
    X, Y = mixed_data(n=400)
    Xt, Yt = mixed_data(n=400, seed=1)
    m = MultiTaskMLP(TYPES, (32,), random_state=0).fit(X, Y)
    assert m.task_types_ == TYPES
    assert m.classes_[0] is None and list(m.classes_[1]) == ["no", "yes"]
    P = m.predict(Xt)
    assert P.shape == (400, 4) and P.dtype == object
    proba = m.predict_proba(Xt)
    assert proba[0] is None and proba[3] is None
    assert proba[1].shape == (400, 2) and proba[2].shape == (400, 3)
    np.testing.assert_allclose(proba[2].sum(1), 1.0)
    # score = mean of per-task R2 / accuracy on labelled entries (sklearn)
    per = []
    for t, kind in enumerate(TYPES):
        lab = np.array([v is not None and v == v for v in Yt[:, t]])
        if kind == "regression":
            per.append(sk_r2(Yt[lab, t].astype(float), P[lab, t].astype(float)))
        else:
            per.append(sk_acc(Yt[lab, t].astype(str), P[lab, t].astype(str)))
    assert np.isclose(m.score(Xt, Yt), np.mean(per))
    # sensible on every task
    assert per[0] > 0.9 and per[3] > 0.8 and per[1] > 0.85 and per[2] > 0.8, per
    # regression predictions are in the original units (price ~ 100)
    assert 80 < np.mean(P[:, 0].astype(float)) < 120
    # "auto" infers the same types
    auto = MultiTaskMLP(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    assert auto.fit(X, Y).task_types_ == TYPES


def test_mixed_single_type_matches_specialised_estimators():
    X, Y = small_data(n=80)
    from skmtl.neural_network import MultiTaskMLP

    kw = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    reg = MultiTaskMLPRegressor(**kw).fit(X, Y)
    mix = MultiTaskMLP(["regression"] * 3, **kw).fit(X, Y)
    np.testing.assert_allclose(mix.predict(X), reg.predict(X), rtol=1e-10)
    Xc, L = small_labels(n=80)
    clf = MultiTaskMLPClassifier(**kw).fit(Xc, L)
    mixc = MultiTaskMLP(["classification"] * 3, **kw).fit(Xc, L)
    for a, b in zip(mixc.predict_proba(Xc), clf.predict_proba(Xc), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    np.testing.assert_array_equal(mixc.predict(Xc), clf.predict(Xc))


@pytest.mark.parametrize(
    "architecture, weighting",
    [("hard", "mgda"), ("soft", "famo"), ("cross_stitch", "minimax"), ("mmoe", "rlw")],
)
def test_mixed_trains_with_every_architecture(architecture, weighting):
    from skmtl.neural_network import MultiTaskMLP

    X, Y = mixed_data(n=300)
    m = MultiTaskMLP(
        TYPES,
        (16,),
        architecture=architecture,
        task_weighting=weighting,
        n_experts=3,
        random_state=0,
    ).fit(X, Y)
    assert m.score(X, Y) > 0.8


def test_mixed_bad_inputs_and_partial_fit():
    from skmtl.neural_network import MultiTaskMLP

    X, Y = mixed_data(n=60)
    with pytest.raises(ValueError, match="task_types has 2 entries"):
        MultiTaskMLP(["regression", "classification"], max_iter=2).fit(X, Y)
    with pytest.raises(ValueError, match="'regression' or 'classification'"):
        MultiTaskMLP(["regression", "ordinal", "classification", "regression"]).fit(
            X, Y
        )
    with pytest.raises(ValueError, match="task 1 is a regression task"):
        MultiTaskMLP(["regression"] * 4, max_iter=2).fit(X, Y)
    Y1 = Y.copy()
    Y1[:, 2] = 1
    with pytest.raises(ValueError, match="task 2 has only one class"):
        MultiTaskMLP(TYPES, max_iter=2).fit(X, Y1)
    m = MultiTaskMLP(TYPES, (8,), random_state=0)
    first = Y[:30].copy()
    first[:, 2] = np.where(first[:, 2] == 2, 1, first[:, 2])  # class 2 unseen
    with pytest.raises(ValueError, match="not in its classes"):
        m.partial_fit(X[:30], first).partial_fit(X[30:], Y[30:])
    m = MultiTaskMLP(TYPES, (8,), random_state=0)
    classes = [None, ["no", "yes"], [0, 1, 2], None]
    m.partial_fit(X[:30], Y[:30], classes=classes)
    m.partial_fit(X[30:], Y[30:])
    assert m.n_iter_ == 2 and m.predict(X).shape == (60, 4)


# ------------------------------------------------------- task hierarchies
@pytest.mark.parametrize("kind", ["regressor", "classifier"])
@pytest.mark.parametrize("task_layers", [(), (4,)])
@pytest.mark.parametrize("depth", [[1, 3, 2], [2, 2, 3]])
def test_head_depth_gradients_match_finite_differences(kind, task_layers, depth):
    X, Y = small_data(n=20) if kind == "regressor" else small_labels(n=20)
    cls = MultiTaskMLPRegressor if kind == "regressor" else MultiTaskMLPClassifier
    m = cls(
        (5, 4, 3),
        "tanh",
        task_layer_sizes=task_layers,
        task_head_depth=depth,
        alpha=0.3,
        max_iter=3,
        task_weighting="uncertainty",
        random_state=0,
    ).fit(X, Y)
    params = m._flat.copy()
    params[m._net.n_net_params :] = [0.3, -0.7, 1.1]
    _fd_check(m, X, Y, params)


def test_head_depth_reads_the_given_layer():
    X, Y = small_data(n=80)
    m = MultiTaskMLPRegressor(
        (6, 5), task_head_depth=[1, 2, 1], max_iter=300, random_state=0
    ).fit(X, Y)
    v = m._net.views(m._flat)
    H1 = np.maximum(X @ v["W0"] + v["b0"], 0)
    H2 = np.maximum(H1 @ v["W1"] + v["b1"], 0)
    raw = np.empty((80, 3))
    raw[:, [0, 2]] = H1 @ v["head0_d0"] + v["head0b_d0"]
    raw[:, 1] = (H2 @ v["head0_d1"] + v["head0b_d1"])[:, 0]
    np.testing.assert_allclose(
        m.predict(X), raw * m.target_scale_ + m.target_mean_, rtol=1e-10
    )
    assert m.score(X, Y) > 0.8
    # every head on the last layer is the plain network
    a = MultiTaskMLPRegressor((6, 5), task_head_depth=2, max_iter=10, random_state=0)
    b = MultiTaskMLPRegressor((6, 5), max_iter=10, random_state=0)
    np.testing.assert_array_equal(a.fit(X, Y).predict(X), b.fit(X, Y).predict(X))


@pytest.mark.parametrize("weighting", ["pcgrad", "gradnorm", "mgda", "famo"])
def test_head_depth_with_weightings(weighting):
    X, Y = small_data(n=90)
    m = MultiTaskMLPRegressor(
        (12, 8),
        task_head_depth=[1, 2, 2],
        task_weighting=weighting,
        max_iter=60,
        random_state=0,
    ).fit(X, Y)
    assert m.score(X, Y) > 0.8
    # per-task trunk gradients add up to the plain trunk gradient
    net = m._net
    out, cache = net.forward(m._flat, X)
    dOut = np.random.default_rng(0).normal(size=out.shape)
    g1, g2 = np.zeros_like(m._flat), np.zeros_like(m._flat)
    net.backward(m._flat, g1, cache, dOut)
    G = net.task_shared_grads(m._flat, g2, cache, dOut)
    np.testing.assert_allclose(G.sum(0), g1[: net.n_shared], atol=1e-12)


def test_head_depth_errors():
    X, Y = small_data()
    for depth, match in [
        ([1, 2], "one entry per task"),
        ([0, 1, 1], "between 1 and"),
        ([1, 3, 1], "between 1 and"),
        (1.5, "task_head_depth"),
    ]:
        with pytest.raises(ValueError, match=match):
            MultiTaskMLPRegressor((4, 3), task_head_depth=depth, max_iter=2).fit(X, Y)
    with pytest.raises(ValueError, match="only supported with architecture='hard'"):
        MultiTaskMLPRegressor(
            (4, 3), task_head_depth=[1, 2, 2], architecture="mmoe", max_iter=2
        ).fit(X, Y)


# --------------------------------------------------------- model selection
def test_gridsearch_over_architecture_weighting_experts_with_nan():
    X, Y = small_data(n=120)
    assert np.isnan(Y).any()
    grid = GridSearchCV(
        MultiTaskMLPRegressor((8,), max_iter=40, random_state=0),
        {
            "architecture": ["hard", "soft", "cross_stitch", "mmoe"],
            "task_weighting": ["equal", "mgda", "minimax"],
            "n_experts": [2, 3],
        },
        cv=3,
    ).fit(X, Y)
    scores = grid.cv_results_["mean_test_score"]
    assert scores.shape == (24,) and np.all(np.isfinite(scores))
    assert grid.best_score_ > 0.5
    assert grid.predict(X).shape == Y.shape
    # mixed task types, object Y with None for missing labels
    Xm, Ym = mixed_data(n=150)
    gm = GridSearchCV(
        MultiTaskMLP(TYPES, (8,), max_iter=40, random_state=0),
        {"architecture": ["hard", "mmoe"], "task_weighting": ["equal", "famo"]},
        cv=3,
    ).fit(Xm, Ym)
    assert np.all(np.isfinite(gm.cv_results_["mean_test_score"]))


@pytest.mark.parametrize("architecture", ["soft", "cross_stitch", "mmoe"])
def test_pickle_roundtrip_architectures(architecture):
    X, Y = small_data()
    m = MultiTaskMLPRegressor(
        (8, 4), architecture=architecture, task_head_depth=None, max_iter=5
    ).fit(X, Y)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(m.predict(X), m2.predict(X))
    m2.partial_fit(X, Y)
    d = MultiTaskMLPRegressor((8, 4), task_head_depth=[1, 2, 2], max_iter=5).fit(X, Y)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(d)).predict(X), d.predict(X)
    )
