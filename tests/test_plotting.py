"""Tests of skmtl.plotting: what each Display draws, not only that it runs."""

import sys
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from numpy.testing import assert_allclose, assert_array_equal  # noqa: E402
from sklearn.dummy import DummyRegressor  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LassoCV  # noqa: E402

import skmtl.plotting  # noqa: E402
from skmtl import (  # noqa: E402
    MultiTaskElasticNetCV,
    MultiTaskLasso,
    MultiTaskLassoCV,
    MultiTaskLogisticRegressionCV,
    MultiTaskRidgeCV,
)
from skmtl.datasets import make_multitask_regression  # noqa: E402
from skmtl.inspection import (  # noqa: E402
    TaskRelatedness,
    TransferGainResult,
    task_relatedness,
    task_similarity,
    transfer_gain,
)
from skmtl.model_selection import regularization_path  # noqa: E402
from skmtl.neural_network import MultiTaskMLPRegressor  # noqa: E402
from skmtl.plotting import (  # noqa: E402
    CoefPatternDisplay,
    CVPathDisplay,
    LearningCurvesDisplay,
    RegularizationPathDisplay,
    TaskSimilarityDisplay,
    TransferGainDisplay,
    plot_coef_pattern,
    plot_cv_path,
    plot_learning_curves,
    plot_regularization_path,
    plot_task_similarity,
    plot_transfer_gain,
)

TASKS = ["ta", "tb", "tc"]
FEATURES = [f"f{j}" for j in range(6)]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    """3 tasks, 6 features (2 informative), shared X, 40 rows."""
    X, Y = make_multitask_regression(
        n_tasks=3, n_samples=40, n_features=6, n_informative=2,
        shared_X=True, random_state=0,
    )  # fmt: skip
    return X, Y


@pytest.fixture(scope="module")
def frames(data):
    X, Y = data
    return pd.DataFrame(X, columns=FEATURES), pd.DataFrame(Y, columns=TASKS)


@pytest.fixture(scope="module")
def lasso(frames):
    X, Y = frames
    return MultiTaskLasso(alpha=0.05).fit(X, Y)


@pytest.fixture(scope="module")
def lasso_cv(data):
    return MultiTaskLassoCV(n_alphas=6, cv=3).fit(*data)


@pytest.fixture(scope="module")
def path(data):
    return regularization_path(*data, "l21", n_alphas=8)


def fit_mlp(X, Y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        return MultiTaskMLPRegressor((8,), max_iter=12, random_state=0, **params).fit(
            X, Y
        )


@pytest.fixture(scope="module")
def mlp_es(frames):
    X, Y = frames
    return fit_mlp(
        X, Y, early_stopping=True, validation_fraction=0.25, n_iter_no_change=100
    )


@pytest.fixture(scope="module")
def mlp_plain(data):
    return fit_mlp(*data)


def ticklabels(ax, axis="x"):
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t.get_text() for t in labels]


def new_ax():
    fig, ax = plt.subplots()
    return fig, ax


# --------------------------------------------------------------------------
# package


def test_public_api():
    assert set(skmtl.plotting.__all__) == {
        "CVPathDisplay", "CoefPatternDisplay", "LearningCurvesDisplay",
        "RegularizationPathDisplay", "TaskSimilarityDisplay",
        "TransferGainDisplay", "plot_coef_pattern", "plot_cv_path",
        "plot_learning_curves", "plot_regularization_path",
        "plot_task_similarity", "plot_transfer_gain", "TaskTreeDisplay",
        "plot_task_tree",
    }  # fmt: skip


def test_missing_matplotlib_gives_install_hint(monkeypatch):
    from skmtl.plotting._base import require_matplotlib

    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'skmtl\[plot\]'"):
        require_matplotlib()
    with pytest.raises(ImportError, match="requires matplotlib"):
        TransferGainDisplay([0.1, 0.2]).plot()


# --------------------------------------------------------------------------
# TaskSimilarityDisplay


def block_similarity():
    """Tasks 0, 2, 4 similar; 1, 3 similar; the blocks unrelated."""
    S = np.full((5, 5), 0.05)
    for block in ([0, 2, 4], [1, 3]):
        S[np.ix_(block, block)] = 0.9
    np.fill_diagonal(S, 1.0)
    return S, ["a", "b", "c", "d", "e"]


def test_similarity_heatmap_is_matrix_in_cluster_order():
    S, names = block_similarity()
    disp = TaskSimilarityDisplay(S, names).plot()
    order = disp.order_
    assert sorted(order.tolist()) == list(range(5))
    assert_allclose(disp.im_.get_array(), S[np.ix_(order, order)])
    drawn = [names[i] for i in order]
    assert ticklabels(disp.ax_, "x") == drawn
    assert ticklabels(disp.ax_, "y") == drawn
    # each block is contiguous in the drawn order
    pos = {n: k for k, n in enumerate(drawn)}
    for block in ("ace", "bd"):
        idx = sorted(pos[n] for n in block)
        assert idx == list(range(idx[0], idx[0] + len(block)))
    assert disp.im_.get_clim() == (-1.0, 1.0)
    assert disp.ax_.get_title() == "Task similarity"
    assert disp.ax_.get_xlabel() == disp.ax_.get_ylabel() == "task"
    assert disp.figure_ is disp.ax_.figure
    assert disp.colorbar_ is not None and len(disp.figure_.axes) == 2


def test_similarity_no_cluster_keeps_order_and_annotations():
    S, names = block_similarity()
    disp = TaskSimilarityDisplay(S, names).plot(
        cluster=False, colorbar=False, title=None
    )
    assert_array_equal(disp.order_, np.arange(5))
    assert_allclose(disp.im_.get_array(), S)
    assert ticklabels(disp.ax_) == names
    assert disp.colorbar_ is None and len(disp.figure_.axes) == 1
    assert disp.ax_.get_title() == ""
    assert disp.text_.shape == (5, 5)
    texts = [[t.get_text() for t in row] for row in disp.text_]
    assert texts == [[f"{v:.2f}" for v in row] for row in S]
    assert disp.text_[0, 1].get_position() == (1, 0)  # (column, row)


def test_similarity_annotation_default_and_nan():
    S, names = block_similarity()
    S[3, :] = S[:, 3] = np.nan  # a task without direction
    disp = TaskSimilarityDisplay(S, names).plot(cluster=False)
    img = disp.im_.get_array()
    assert_array_equal(np.ma.getmaskarray(img), np.isnan(S))
    assert disp.text_[3, 3].get_text() == "nan"
    # the NaN task is not drawn between members of a block
    order = TaskSimilarityDisplay(S, names).plot().order_.tolist()
    assert order.index(3) in (0, 4)
    big = TaskSimilarityDisplay(np.eye(13)).plot()
    assert big.text_ is None
    assert sorted(ticklabels(big.ax_)) == sorted(f"task{t}" for t in range(13))
    assert TaskSimilarityDisplay(np.eye(2)).plot(annotate=False).text_ is None


def test_similarity_two_tasks_identity_order():
    disp = TaskSimilarityDisplay([[1.0, 0.2], [0.2, 1.0]], ["x", "y"]).plot()
    assert_array_equal(disp.order_, [0, 1])


def test_similarity_honours_ax():
    S, names = block_similarity()
    fig, ax = new_ax()
    disp = TaskSimilarityDisplay(S, names).plot(ax=ax, colorbar=False)
    assert disp.ax_ is ax and disp.figure_ is fig
    assert disp.im_ in ax.images


@pytest.mark.parametrize("metric", ["cosine", "correlation"])
def test_plot_task_similarity_from_estimator(lasso, metric):
    fig, ax = new_ax()
    disp = plot_task_similarity(lasso, metric=metric, ax=ax)
    assert disp.ax_ is ax and disp.figure_ is fig
    S = task_similarity(lasso, metric=metric)
    assert_allclose(disp.similarity, S)
    o = disp.order_
    assert_allclose(disp.im_.get_array().filled(np.nan), S[np.ix_(o, o)])
    assert ticklabels(ax) == [TASKS[i] for i in o]  # Y's column names


def test_task_similarity_from_array_and_mlp(mlp_plain):
    coef = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1]])
    disp = TaskSimilarityDisplay.from_estimator(
        coef, task_names=["p", "q", "r"], cluster=False
    )
    assert_allclose(disp.im_.get_array(), task_similarity(coef))
    assert ticklabels(disp.ax_) == ["p", "q", "r"]
    disp = plot_task_similarity(mlp_plain, cluster=False)
    assert_allclose(disp.im_.get_array(), task_similarity(mlp_plain))
    assert ticklabels(disp.ax_) == ["task0", "task1", "task2"]


def test_task_similarity_from_result():
    tm = np.array([[0.9, 0.5, -0.2], [0.4, 0.8, 0.1], [0.0, 0.2, 0.7]])
    cs = np.array([[1.0, 0.3, 0.9], [0.3, 1.0, 0.2], [0.9, 0.2, 1.0]])
    res = TaskRelatedness(cs, tm, None, np.array(TASKS), metric="r2")
    disp = TaskSimilarityDisplay.from_result(res)
    o = disp.order_
    assert_allclose(disp.im_.get_array(), cs[np.ix_(o, o)])
    # transfer matrix: not reordered (rows = training task), data colour range
    fig, ax = new_ax()
    disp = TaskSimilarityDisplay.from_result(res, which="transfer_matrix", ax=ax)
    assert disp.ax_ is ax
    assert_array_equal(disp.order_, np.arange(3))
    assert_allclose(disp.im_.get_array(), tm)
    assert_allclose(disp.im_.get_clim(), (-0.2, 0.9))
    assert ticklabels(ax) == TASKS
    assert ax.get_ylabel() == "trained on" and ax.get_xlabel() == "scored on"
    assert ax.get_title() == "Transfer (r2): train row, test column"


def test_task_similarity_from_task_relatedness(data):
    X, Y = data
    res = task_relatedness(X, Y, cv=2)
    disp = TaskSimilarityDisplay.from_result(res, cluster=False)
    assert_allclose(disp.im_.get_array(), res.coef_similarity)
    disp = TaskSimilarityDisplay.from_result(res, which="transfer_matrix")
    assert_allclose(disp.im_.get_array(), res.transfer_matrix)


def test_task_similarity_errors(data):
    with pytest.raises(ValueError, match="square matrix"):
        TaskSimilarityDisplay(np.ones((2, 3)))
    with pytest.raises(ValueError, match="square matrix"):
        TaskSimilarityDisplay(np.ones(3))
    with pytest.raises(ValueError, match="task_names has 2 names for 3 tasks"):
        TaskSimilarityDisplay(np.eye(3), ["a", "b"])
    with pytest.raises(NotFittedError):
        plot_task_similarity(MultiTaskLasso())
    with pytest.raises(TypeError, match="DummyRegressor, which has no `coef_`"):
        plot_task_similarity(DummyRegressor().fit(*data))
    with pytest.raises(ValueError, match="Unknown metric 'spearman'"):
        plot_task_similarity(np.eye(3), metric="spearman")
    with pytest.raises(ValueError, match="bogus"):
        TaskSimilarityDisplay(np.eye(3)).plot(method="bogus")
    res = TaskRelatedness(None, np.eye(2), None, np.array(["a", "b"]))
    with pytest.raises(ValueError, match="which must be"):
        TaskSimilarityDisplay.from_result(res, which="coef")
    with pytest.raises(ValueError, match=r"result.coef_similarity is None"):
        TaskSimilarityDisplay.from_result(res)


# --------------------------------------------------------------------------
# CoefPatternDisplay


def test_coef_pattern_image_is_coef_transposed():
    coef = np.array([[1.0, 0.0, -2.0, 0.5], [0.5, 0.0, 1.0, 0.0]])
    disp = CoefPatternDisplay(coef, feature_names=list("abcd")).plot()
    assert_allclose(disp.im_.get_array(), coef.T)
    assert_array_equal(disp.features_, np.arange(4))
    assert disp.im_.get_clim() == (-2.0, 2.0)  # symmetric around 0
    assert ticklabels(disp.ax_, "x") == ["task0", "task1"]
    assert ticklabels(disp.ax_, "y") == list("abcd")
    assert disp.ax_.get_xlabel() == "task"
    assert disp.ax_.get_ylabel() == "feature"
    assert disp.ax_.get_title() == "Coefficients"
    assert disp.colorbar_ is not None


def test_coef_pattern_only_nonzero_and_tol():
    coef = np.array([[1.0, 0.0, -2.0, 0.01], [0.5, 0.0, 1.0, 0.0]])
    disp = CoefPatternDisplay(coef, feature_names=list("abcd")).plot(only_nonzero=True)
    assert_array_equal(disp.features_, [0, 2, 3])
    assert_allclose(disp.im_.get_array(), coef[:, [0, 2, 3]].T)
    assert ticklabels(disp.ax_, "y") == ["a", "c", "d"]
    disp = CoefPatternDisplay(coef).plot(only_nonzero=True, tol=0.1)
    assert_array_equal(disp.features_, [0, 2])
    assert ticklabels(disp.ax_, "y") == ["x0", "x2"]


def test_coef_pattern_many_features_unlabelled():
    coef = np.arange(1.0, 31.0).reshape(2, 15)
    disp = CoefPatternDisplay(coef).plot(max_feature_labels=10, colorbar=False)
    assert disp.im_.get_array().shape == (15, 2)
    assert "x3" not in ticklabels(disp.ax_, "y")
    assert disp.colorbar_ is None


def test_coef_pattern_from_estimator(lasso):
    fig, ax = new_ax()
    disp = plot_coef_pattern(lasso, ax=ax, only_nonzero=True, title="W")
    assert disp.ax_ is ax and disp.figure_ is fig
    assert disp.im_ in ax.images
    nz = np.flatnonzero(np.linalg.norm(lasso.coef_, axis=0) > 0)
    assert 0 < len(nz) < 6
    assert_array_equal(disp.features_, nz)
    assert_allclose(disp.im_.get_array(), lasso.coef_[:, nz].T)
    assert ticklabels(ax, "x") == TASKS
    assert ticklabels(ax, "y") == [FEATURES[j] for j in nz]
    assert ax.get_title() == "W"
    disp = CoefPatternDisplay.from_estimator(lasso)
    assert_allclose(disp.im_.get_array(), lasso.coef_.T)


def test_coef_pattern_single_task_1d():
    disp = plot_coef_pattern(np.array([1.0, -1.0, 0.0]))
    assert disp.im_.get_array().shape == (3, 1)
    assert ticklabels(disp.ax_) == ["task0"]


def test_coef_pattern_errors(mlp_plain):
    with pytest.raises(ValueError, match="feature_names has 2 names for 3"):
        CoefPatternDisplay(np.ones((2, 3)), feature_names=["a", "b"])
    with pytest.raises(ValueError, match="task_names has 1 names for 2 tasks"):
        CoefPatternDisplay(np.ones((2, 3)), task_names=["a"])
    with pytest.raises(ValueError, match=r"shape \(n_tasks, n_features\)"):
        plot_coef_pattern(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="NaN or infinity"):
        plot_coef_pattern(np.array([[1.0, np.nan]]))
    with pytest.raises(NotFittedError):
        plot_coef_pattern(MultiTaskLasso())
    with pytest.raises(TypeError, match="has no `coef_`"):
        plot_coef_pattern(mlp_plain)


# --------------------------------------------------------------------------
# RegularizationPathDisplay


def test_regularization_path_tasks(path):
    fig, ax = new_ax()
    disp = plot_regularization_path(path, kind="tasks", task_names=TASKS, ax=ax)
    assert disp.ax_ is ax and disp.figure_ is fig
    assert len(disp.lines_) == 3 and disp.features_ is None
    assert disp.lines_ == ax.get_lines()
    norms = np.linalg.norm(path.coefs, axis=2)
    for t, line in enumerate(disp.lines_):
        assert_allclose(line.get_xdata(), path.alphas)
        assert_allclose(line.get_ydata(), norms[:, t])
        assert line.get_label() == TASKS[t]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == TASKS
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "alpha"
    assert ax.get_ylabel() == "norm of task coefficients"


def test_regularization_path_features(path):
    disp = RegularizationPathDisplay.from_result(
        path, feature_names=FEATURES, title="l21 path"
    )
    V = np.linalg.norm(path.coefs, axis=1)  # (n_alphas, n_features)
    active = np.flatnonzero(np.any(V != 0, axis=0))
    assert len(active) >= 2
    assert_array_equal(disp.features_, active)
    assert len(disp.lines_) == len(active)
    for line, j in zip(disp.lines_, active, strict=True):
        assert_allclose(line.get_xdata(), path.alphas)
        assert_allclose(line.get_ydata(), V[:, j])
        assert line.get_label() == FEATURES[j]
    assert disp.ax_.get_ylabel() == "feature norm across tasks"
    assert disp.ax_.get_title() == "l21 path"
    # at alpha_max nothing is selected
    assert all(line.get_ydata()[0] == 0 for line in disp.lines_)


@pytest.mark.parametrize("task", [1, "tb"])
def test_regularization_path_coefs_of_one_task(path, task):
    disp = RegularizationPathDisplay(path.alphas, path.coefs, task_names=TASKS).plot(
        kind="coefs", task=task
    )
    C = path.coefs[:, 1, :]
    active = np.flatnonzero(np.any(C != 0, axis=0))
    assert_array_equal(disp.features_, active)
    assert [line.get_label() for line in disp.lines_] == [f"x{j}" for j in active]
    for line, j in zip(disp.lines_, active, strict=True):
        assert_allclose(line.get_ydata(), C[:, j])
    assert disp.ax_.get_ylabel() == "coefficients of tb"


def test_regularization_path_from_arrays_legend_and_2d():
    alphas = np.geomspace(1.0, 0.01, 4)
    coefs = np.ones((4, 2, 12)) / alphas[:, None, None]
    disp = plot_regularization_path(alphas, coefs)
    assert len(disp.lines_) == 12
    assert disp.ax_.get_legend() is None  # > 10 features
    disp = plot_regularization_path(alphas, coefs, legend=True)
    assert disp.ax_.get_legend() is not None
    # 2-D coefs: one task
    disp = plot_regularization_path(alphas, coefs[:, 0, :3], kind="tasks")
    assert len(disp.lines_) == 1
    assert_allclose(disp.lines_[0].get_ydata(), np.sqrt(3) / alphas)


def test_regularization_path_errors(path):
    alphas, coefs = path.alphas, path.coefs
    with pytest.raises(ValueError, match="coefs must have shape"):
        RegularizationPathDisplay(alphas[:-1], coefs)
    with pytest.raises(ValueError, match="coefs must have shape"):
        RegularizationPathDisplay(alphas, coefs[..., None])
    with pytest.raises(ValueError, match="task_names has 2 names for 3 tasks"):
        RegularizationPathDisplay(alphas, coefs, task_names=["a", "b"])
    with pytest.raises(ValueError, match="feature_names has 2 names for 6"):
        RegularizationPathDisplay(alphas, coefs, feature_names=["a", "b"])
    disp = RegularizationPathDisplay(alphas, coefs)
    with pytest.raises(ValueError, match="Unknown kind 'rows'"):
        disp.plot(kind="rows")
    with pytest.raises(ValueError, match="needs task="):
        disp.plot(kind="coefs")
    with pytest.raises(ValueError, match="Unknown task 'zz'"):
        disp.plot(kind="coefs", task="zz")
    with pytest.raises(ValueError, match="task index 3 out of range"):
        disp.plot(kind="coefs", task=3)
    with pytest.raises(TypeError, match="regularization_path result"):
        plot_regularization_path(alphas)


# --------------------------------------------------------------------------
# CVPathDisplay


def test_cv_path_from_lasso_cv(lasso_cv):
    fig, ax = new_ax()
    disp = plot_cv_path(lasso_cv, ax=ax, title="CV")
    assert disp.ax_ is ax and disp.figure_ is fig
    order = np.argsort(lasso_cv.alphas_)
    E = lasso_cv.mse_path_[order]
    assert_allclose(disp.line_.get_xdata(), lasso_cv.alphas_[order])
    assert_allclose(disp.line_.get_ydata(), E.mean(axis=1))
    assert len(disp.fold_lines_) == 3
    for k, line in enumerate(disp.fold_lines_):
        assert_allclose(line.get_ydata(), E[:, k])
    assert_allclose(disp.alpha_line_.get_xdata(), [lasso_cv.alpha_] * 2)
    assert disp.alpha_ == lasso_cv.alpha_
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "alpha"
    assert ax.get_ylabel() == "CV mean squared error"
    assert ax.get_title() == "CV"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["mean over folds", f"alpha_ = {lasso_cv.alpha_:.3g}"]
    # the chosen alpha minimises the drawn mean curve
    ymin = disp.line_.get_xdata()[np.argmin(disp.line_.get_ydata())]
    assert ymin == lasso_cv.alpha_


def test_cv_path_display_direct():
    alphas = np.geomspace(1, 0.01, 4)
    errors = np.array([[3.0, 3.2], [1.0, 1.1], [0.5, np.nan], [0.9, 0.8]])
    disp = CVPathDisplay(alphas, errors).plot(show_folds=False)
    assert disp.fold_lines_ == [] and disp.alpha_line_ is None
    assert_allclose(disp.line_.get_xdata(), alphas[::-1])
    assert_allclose(disp.line_.get_ydata(), [0.85, 0.5, 1.05, 3.1])  # nanmean
    disp = CVPathDisplay(alphas, errors[:, 0], error_name="loss").plot()
    assert disp.fold_lines_ == []  # one fold: no separate fold lines
    assert disp.ax_.get_ylabel() == "CV loss"


def test_cv_path_ridge_cv_at_chosen_coupling(data):
    model = MultiTaskRidgeCV(alphas=[0.01, 0.1, 1.0], couplings=[0.0, 1.0], cv=3).fit(
        *data
    )
    disp = CVPathDisplay.from_estimator(model, show_folds=False)
    j = [0.0, 1.0].index(model.coupling_)
    assert_allclose(disp.line_.get_xdata(), [0.01, 0.1, 1.0])
    assert_allclose(disp.line_.get_ydata(), model.mse_path_[:, j, :].mean(axis=1))
    assert disp.alpha_line_.get_xdata()[0] == model.alpha_


def test_cv_path_elasticnet_at_chosen_l1_ratio(data):
    model = MultiTaskElasticNetCV(l1_ratio=[0.2, 0.8], n_alphas=4, cv=3).fit(*data)
    disp = plot_cv_path(model)
    i = [0.2, 0.8].index(model.l1_ratio_)
    order = np.argsort(model.alphas_[i])
    assert_allclose(disp.line_.get_xdata(), model.alphas_[i][order])
    assert_allclose(disp.line_.get_ydata(), model.mse_path_[i][order].mean(axis=1))
    assert disp.alpha_line_.get_xdata()[0] == model.alpha_


def test_cv_path_logistic_and_sklearn(data):
    X, Y = data
    model = MultiTaskLogisticRegressionCV(n_alphas=3, cv=2).fit(
        X, (Y > 0).astype(float)
    )
    disp = plot_cv_path(model)
    assert disp.ax_.get_ylabel() == "CV log loss"
    assert_allclose(
        disp.line_.get_ydata(),
        model.log_loss_path_[np.argsort(model.alphas_)].mean(axis=1),
    )
    sk = LassoCV(alphas=5, cv=3).fit(X, Y[:, 0])
    disp = plot_cv_path(sk)
    assert len(disp.line_.get_xdata()) == 5
    assert disp.alpha_line_.get_xdata()[0] == sk.alpha_


def test_cv_path_errors(lasso):
    with pytest.raises(ValueError, match="errors has 3 rows for 4 alphas"):
        CVPathDisplay(np.ones(4), np.ones((3, 2)))
    with pytest.raises(TypeError, match="MultiTaskLasso has no `mse_path_`"):
        plot_cv_path(lasso)  # fitted, but not a CV estimator
    with pytest.raises(TypeError, match="pass a fitted CV estimator"):
        plot_cv_path(MultiTaskLassoCV())  # not fitted


# --------------------------------------------------------------------------
# TransferGainDisplay


def bar_errors(errorbar):
    """``(low, high)`` of each error bar of an ErrorbarContainer."""
    (segments,) = [c.get_segments() for c in errorbar.lines[2]]
    return np.array([[s[0][1], s[1][1]] for s in segments])


def test_transfer_gain_bars_and_error_bars():
    res = TransferGainResult(
        fold_model_scores=np.array([[0.8, 0.1, 0.5], [0.7, 0.3, 0.6]]),
        fold_baseline_scores=np.array([[0.5, 0.4, 0.5], [0.5, 0.4, 0.4]]),
        task_names=np.array(TASKS, dtype=object),
    )
    fig, ax = new_ax()
    disp = plot_transfer_gain(res, ax=ax)
    assert disp.ax_ is ax and disp.figure_ is fig
    assert len(disp.bars_) == 3
    assert_allclose([b.get_height() for b in disp.bars_], res.gain)
    assert_allclose([b.get_x() + b.get_width() / 2 for b in disp.bars_], [0, 1, 2])
    low_high = bar_errors(disp.errorbar_)
    assert_allclose(low_high[:, 0], res.gain - res.gain_std)
    assert_allclose(low_high[:, 1], res.gain + res.gain_std)
    assert_array_equal(disp.negative_, res.negative_transfer)
    assert disp.negative_.tolist() == [False, True, False]
    blue, red = to_rgba("tab:blue"), to_rgba("tab:red")
    assert [b.get_facecolor() for b in disp.bars_] == [blue, red, blue]
    assert ticklabels(ax) == TASKS
    assert ax.get_xlabel() == "task"
    assert ax.get_ylabel() == "gain in r2 (multi-task - baseline)"
    assert ax.get_title() == "Transfer gain per task"
    assert any(
        np.allclose(line.get_ydata(), 0.0) for line in ax.get_lines()
    )  # zero line


def test_transfer_gain_from_transfer_gain_result(data):
    res = transfer_gain(MultiTaskLasso(alpha=0.05), *data, cv=3)
    disp = TransferGainDisplay.from_result(
        res, positive_color="green", negative_color="black", title=None
    )
    assert_allclose([b.get_height() for b in disp.bars_], res.gain)
    assert_allclose(np.diff(bar_errors(disp.errorbar_)).ravel(), 2 * res.gain_std)
    expected = [to_rgba("black" if g < 0 else "green") for g in res.gain]
    assert [b.get_facecolor() for b in disp.bars_] == expected
    assert ticklabels(disp.ax_) == ["task0", "task1", "task2"]
    assert disp.ax_.get_title() == ""


def test_transfer_gain_error_scoring_label():
    # for errors the result's gain is baseline - model (positive = better)
    res = TransferGainResult(
        np.array([[1.0, 2.0]]), np.array([[2.0, 1.0]]), np.array(["a", "b"]),
        scoring="mse",
    )  # fmt: skip
    disp = plot_transfer_gain(res)
    assert_allclose([b.get_height() for b in disp.bars_], [1.0, -1.0])
    assert disp.negative_.tolist() == [False, True]
    assert disp.ax_.get_ylabel() == "gain in mse (baseline - multi-task)"


def test_transfer_gain_without_std_and_nan():
    disp = TransferGainDisplay([0.2, np.nan, -0.1]).plot()
    assert disp.errorbar_ is None
    assert_allclose([b.get_height() for b in disp.bars_], [0.2, 0.0, -0.1])
    assert disp.negative_.tolist() == [False, False, True]
    assert ticklabels(disp.ax_) == ["task0", "task1", "task2"]


def test_transfer_gain_errors():
    with pytest.raises(ValueError, match="gain_std must have one value per task"):
        TransferGainDisplay([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="task_names has 3 names for 2 tasks"):
        TransferGainDisplay([0.1, 0.2], task_names=["a", "b", "c"])


# --------------------------------------------------------------------------
# LearningCurvesDisplay


def test_learning_curves_from_mlp_with_validation(mlp_es):
    disp = plot_learning_curves(mlp_es)
    L, V = mlp_es.task_loss_curves_, mlp_es.validation_scores_
    assert V is not None and V.shape == L.shape == (12, 3)
    assert len(disp.axes_) == 2 and disp.ax_ is disp.axes_[0]
    assert disp.figure_ is disp.ax_.figure
    assert len(disp.loss_lines_) == len(disp.validation_lines_) == 3
    for t in range(3):
        assert_allclose(disp.loss_lines_[t].get_xdata(), np.arange(1, 13))
        assert_allclose(disp.loss_lines_[t].get_ydata(), L[:, t])
        assert_allclose(disp.validation_lines_[t].get_ydata(), V[:, t])
        assert disp.loss_lines_[t].get_label() == TASKS[t]
        assert disp.validation_lines_[t].get_label() == TASKS[t]
    loss_ax, val_ax = disp.axes_
    assert disp.loss_lines_ == loss_ax.get_lines()
    assert disp.validation_lines_ == val_ax.get_lines()
    assert loss_ax.get_yscale() == "log"
    assert loss_ax.get_xlabel() == val_ax.get_xlabel() == "epoch"
    assert loss_ax.get_ylabel() == "training loss"
    assert val_ax.get_ylabel() == "validation score"
    assert loss_ax.get_title() == "Per-task training loss"
    assert val_ax.get_title() == "Per-task validation score"


def test_learning_curves_honour_axes(mlp_es):
    fig, (a1, a2) = plt.subplots(1, 2)
    disp = LearningCurvesDisplay.from_estimator(mlp_es, ax=[a1, a2])
    assert disp.ax_ is a1 and disp.figure_ is fig
    assert list(disp.axes_) == [a1, a2]
    assert len(a2.get_lines()) == 3
    # a single Axes: training loss only
    fig, ax = new_ax()
    disp = plot_learning_curves(mlp_es, ax=ax, log_loss_axis=False)
    assert disp.ax_ is ax and disp.figure_ is fig
    assert disp.validation_lines_ == [] and len(disp.axes_) == 1
    assert len(ax.get_lines()) == 3 and ax.get_yscale() == "linear"
    with pytest.raises(ValueError, match="needs two Axes"):
        plot_learning_curves(mlp_es, ax=ax, validation=True)
    disp = plot_learning_curves(mlp_es, validation=False)
    assert len(disp.axes_) == 1 and len(disp.figure_.axes) == 1


def test_learning_curves_without_early_stopping(mlp_plain):
    disp = plot_learning_curves(mlp_plain)
    assert mlp_plain.validation_scores_ is None
    assert disp.validation_lines_ == [] and len(disp.axes_) == 1
    for t, line in enumerate(disp.loss_lines_):
        assert_allclose(line.get_ydata(), mlp_plain.task_loss_curves_[:, t])
        assert line.get_label() == f"task{t}"
    with pytest.raises(ValueError, match="fit the MLP with early_stopping=True"):
        plot_learning_curves(mlp_plain, validation=True)


def test_learning_curves_arrays():
    loss = np.array([[1.0, 0.0], [0.5, 1.0], [0.3, 0.8]])
    disp = LearningCurvesDisplay(loss, -loss, ["a", "b"]).plot()
    assert disp.axes_[0].get_yscale() == "linear"  # a zero loss: no log axis
    assert_allclose(disp.validation_lines_[1].get_ydata(), -loss[:, 1])
    # a 1-D curve is one task over the epochs
    disp = LearningCurvesDisplay([3.0, 2.0, 1.5, 1.2], [0.1, 0.2, 0.3, 0.3]).plot()
    assert len(disp.loss_lines_) == len(disp.validation_lines_) == 1
    assert_allclose(disp.loss_lines_[0].get_xdata(), [1, 2, 3, 4])
    assert_allclose(disp.validation_lines_[0].get_ydata(), [0.1, 0.2, 0.3, 0.3])
    # empty validation scores count as none
    disp = LearningCurvesDisplay(loss, np.empty((0, 2))).plot()
    assert disp.validation_scores is None and disp.validation_lines_ == []


def test_learning_curves_errors(lasso):
    with pytest.raises(TypeError, match="has no `task_loss_curves_`"):
        plot_learning_curves(MultiTaskMLPRegressor())  # not fitted
    with pytest.raises(TypeError, match="MultiTaskLasso has no `task_loss_curves_`"):
        plot_learning_curves(lasso)
    with pytest.raises(ValueError, match=r"validation_scores must have shape"):
        LearningCurvesDisplay(np.ones((3, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"task_loss_curves must have shape"):
        LearningCurvesDisplay(np.ones((3, 2, 2)))
    with pytest.raises(ValueError, match="task_names has 1 names for 2 tasks"):
        LearningCurvesDisplay(np.ones((3, 2)), task_names=["a"])
