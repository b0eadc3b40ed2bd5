"""Tests for skmtl.datasets: generators and loaders. Never downloads."""

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from numpy.testing import assert_allclose, assert_array_equal

from skmtl.datasets import (
    _school,
    chain_graph,
    fetch_school,
    load_npz_tasks,
    load_parkinsons,
    load_school,
    make_house_apartment,
    make_multitask_classification,
    make_multitask_regression,
)
from skmtl.tasks import stack_tasks

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SCHOOL_MAT = DATA / "school.mat"

STRUCTURES = ["joint_sparse", "low_rank", "clustered", "graph", "unrelated"]
GENERATORS = [make_multitask_regression, make_multitask_classification]


@pytest.fixture(autouse=True)
def _no_download(monkeypatch, tmp_path):
    """Make any accidental download fail instead of reaching the network."""
    monkeypatch.setattr(_school, "SCHOOL_URL", (tmp_path / "no-such-file").as_uri())


def _labelled(Y):
    return ~np.isnan(Y)


# --------------------------------------------------------------------------
# generators


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("structure", STRUCTURES)
def test_generator_shapes_and_seed(make, structure):
    kw = dict(structure=structure, n_informative=3, return_coef=True)
    X, Y, coef = make(4, [10, 20, 5, 8], 6, random_state=0, **kw)
    assert X.shape == (43, 6) and Y.shape == (43, 4) and coef.shape == (4, 6)
    assert X.dtype == Y.dtype == np.float64
    assert_array_equal(_labelled(Y).sum(axis=1), 1)
    assert_array_equal(_labelled(Y).sum(axis=0), [10, 20, 5, 8])
    # rows stacked in task order
    task = np.argmax(_labelled(Y), axis=1)
    assert_array_equal(task, np.repeat(np.arange(4), [10, 20, 5, 8]))
    X2, Y2, coef2 = make(4, [10, 20, 5, 8], 6, random_state=0, **kw)
    assert_array_equal(X, X2)
    assert_array_equal(Y, Y2)
    assert_array_equal(coef, coef2)
    X3, _, _ = make(4, [10, 20, 5, 8], 6, random_state=1, **kw)
    assert not np.array_equal(X, X3)


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_shared_X(make):
    X, Y = make(3, 30, 5, n_informative=2, shared_X=True, random_state=0)
    assert X.shape == (30, 5) and Y.shape == (30, 3)
    assert not np.isnan(Y).any()


def test_regression_targets_follow_model():
    X, Y, coef = make_multitask_regression(
        3, 40, 5, noise=0.0, bias=[1.0, 2.0, 3.0], shared_X=True,
        n_informative=2, return_coef=True, random_state=0,
    )  # fmt: skip
    assert_allclose(Y, X @ coef.T + [1.0, 2.0, 3.0])


def test_joint_sparse_support():
    _, _, coef = make_multitask_regression(
        8, 10, 30, n_informative=4, return_coef=True, random_state=0
    )
    support = np.abs(coef) > 0
    assert_array_equal(support.sum(axis=1), 4)
    assert support.any(axis=0).sum() == 4  # one shared support
    assert (support == support[0]).all()
    _, _, coef = make_multitask_regression(
        8, 10, 30, n_informative=4, relatedness=0.0, return_coef=True, random_state=0
    )
    support = np.abs(coef) > 0
    assert_array_equal(support.sum(axis=1), 4)
    assert support.any(axis=0).sum() > 4  # task-specific supports


def test_low_rank_rank():
    for rank in (1, 2, 3):
        _, _, coef = make_multitask_regression(
            10, 10, 15, structure="low_rank", rank=rank, return_coef=True,
            random_state=0,
        )  # fmt: skip
        assert np.linalg.matrix_rank(coef) == rank
    _, _, coef = make_multitask_regression(
        10, 10, 15, structure="low_rank", rank=2, relatedness=0.5,
        return_coef=True, random_state=0,
    )  # fmt: skip
    assert np.linalg.matrix_rank(coef) == 10


def test_clustered_groups():
    _, _, coef = make_multitask_regression(
        9, 10, 12, structure="clustered", n_clusters=3, return_coef=True,
        random_state=0,
    )  # fmt: skip
    centers, labels = np.unique(coef, axis=0, return_inverse=True)
    assert centers.shape[0] == 3
    assert_array_equal(np.bincount(labels.ravel()), [3, 3, 3])
    # partial relatedness: tasks are closer to their own cluster's tasks
    _, _, coef = make_multitask_regression(
        12, 10, 200, structure="clustered", n_clusters=2, relatedness=0.7,
        return_coef=True, random_state=0,
    )  # fmt: skip
    _, _, pure = make_multitask_regression(
        12, 10, 200, structure="clustered", n_clusters=2, relatedness=1.0,
        return_coef=True, random_state=0,
    )  # fmt: skip
    _, labels = np.unique(pure, axis=0, return_inverse=True)
    labels = labels.ravel()
    C = np.corrcoef(coef)
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(12, dtype=bool)
    assert C[same & off].mean() > 0.5 > C[~same].mean()


def test_graph_chain_smooth():
    _, _, coef = make_multitask_regression(
        10, 10, 50, structure="graph", return_coef=True, random_state=0
    )
    A = chain_graph(10)
    D = np.linalg.norm(coef[:, None] - coef[None], axis=2)
    assert D[A == 1].max() < D[np.triu(np.ones((10, 10)), 3) == 1].min()


def test_relatedness_zero_is_unrelated():
    # with relatedness=0 the dense structures are i.i.d. normal: full rank
    for structure in ("low_rank", "clustered", "graph"):
        _, _, coef = make_multitask_regression(
            6, 10, 20, structure=structure, relatedness=0.0, return_coef=True,
            random_state=0,
        )  # fmt: skip
        assert np.linalg.matrix_rank(coef) == 6


def test_chain_graph():
    A = chain_graph(5)
    assert_array_equal(A, A.T)
    assert_array_equal(A.sum(axis=1), [1, 2, 2, 2, 1])
    assert_array_equal(chain_graph(1), [[0.0]])
    with pytest.raises(ValueError, match="n_tasks"):
        chain_graph(0)


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("shared_X", [True, False])
def test_missing_fraction(make, shared_X):
    n = 40 if shared_X else [40] * 5
    X, Y = make(5, n, 4, n_informative=2, shared_X=shared_X,
                missing_fraction=0.3, random_state=0)  # fmt: skip
    n_labels = 200  # 40 rows x 5 tasks, or 5 x 40 rows with one label each
    assert n_labels - _labelled(Y).sum() == round(0.3 * n_labels)
    # extreme fraction: no task left without labels
    X, Y = make(5, n, 4, n_informative=2, shared_X=shared_X,
                missing_fraction=0.999, random_state=0)  # fmt: skip
    assert (_labelled(Y).sum(axis=0) >= 1).all()


def test_classification_labels_and_both_classes():
    X, Y, coef = make_multitask_classification(
        6, 30, 5, n_informative=2, class_sep=3.0, return_coef=True,
        missing_fraction=0.9, random_state=0,
    )  # fmt: skip
    lab = _labelled(Y)
    assert set(np.unique(Y[lab])) == {0.0, 1.0}
    for t in range(6):
        assert set(Y[lab[:, t], t]) == {0.0, 1.0}
    assert_allclose(np.sqrt(np.mean(np.sum(coef**2, axis=1))), 3.0)
    # labels agree with the logistic model far more often than chance
    X, Y, coef = make_multitask_classification(
        3, 500, 5, n_informative=3, class_sep=5.0, shared_X=True,
        return_coef=True, random_state=0,
    )  # fmt: skip
    assert ((X @ coef.T > 0) == (Y == 1)).mean() > 0.8
    # flip_y=1 flips every label
    kw = dict(n_informative=3, class_sep=5.0, shared_X=True, random_state=0)
    _, Y0 = make_multitask_classification(3, 200, 5, **kw)
    _, Y1 = make_multitask_classification(3, 200, 5, flip_y=1.0, **kw)
    assert (Y0 != Y1).mean() > 0.95


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(structure="banana"), ValueError, "structure must be one of"),
        (dict(relatedness=1.5), ValueError, "relatedness must be in"),
        (dict(relatedness=-0.1), ValueError, "relatedness"),
        (dict(missing_fraction=1.0), ValueError, "missing_fraction"),
        (dict(n_tasks=0), ValueError, "n_tasks"),
        (dict(n_tasks=2.5), TypeError, "n_tasks must be an int"),
        (dict(n_samples=0), ValueError, "n_samples"),
        (dict(n_samples=[10, 10]), ValueError, "n_samples has 2 entries"),
        (dict(n_samples=[10] * 10, shared_X=True), ValueError, "must be an int"),
        (dict(n_samples="many"), TypeError, "n_samples"),
        (dict(n_features=0), ValueError, "n_features"),
        (dict(n_informative=21), ValueError, "n_informative"),
        (dict(structure="low_rank", rank=11), ValueError, "rank"),
        (dict(structure="clustered", n_clusters=11), ValueError, "n_clusters"),
        (dict(bias=[1.0, 2.0]), ValueError, "bias must be"),
        (dict(bias=np.nan), ValueError, "bias must be finite"),
        (dict(shared_X="yes"), TypeError, "shared_X"),
    ],
)
@pytest.mark.parametrize("make", GENERATORS)
def test_generator_bad_params(make, kwargs, err, match):
    with pytest.raises(err, match=match):
        make(**kwargs)


def test_bad_generator_specific_params():
    with pytest.raises(ValueError, match="noise"):
        make_multitask_regression(noise=-1.0)
    with pytest.raises(ValueError, match="class_sep"):
        make_multitask_classification(class_sep=0.0)
    with pytest.raises(ValueError, match="flip_y"):
        make_multitask_classification(flip_y=2.0)
    with pytest.raises(ValueError, match="n_samples"):
        make_multitask_classification(n_samples=1)  # needs two labels per task


# --------------------------------------------------------------------------
# house / apartment


def test_house_apartment_frame():
    pd = pytest.importorskip("pandas")
    data = make_house_apartment(n_houses=30, n_apartments=20, random_state=0)
    assert data.task_names == ["house", "apartment"]
    assert list(data.Xs[0].columns) == ["size_sqft", "bedrooms", "bathrooms"]
    assert list(data.Xs[1].columns) == data.feature_names[1]
    assert isinstance(data.ys[0], pd.Series)
    assert len(data.Xs[0]) == len(data.ys[0]) == 30
    onehot = data.Xs[1][["downtown", "suburb", "rural"]].to_numpy()
    assert_array_equal(onehot.sum(axis=1), 1)
    assert "price" in data.DESCR
    X, Y = stack_tasks(data.Xs, data.ys)
    assert X.shape == (50, 6) and list(Y.columns) == ["house", "apartment"]
    assert (X.loc[:29, ["downtown", "suburb", "rural"]] == 0).all().all()
    assert (X.loc[30:, "bathrooms"] == 0).all()
    # prices are positive dollars, related to size
    for Xt, yt in zip(data.Xs, data.ys, strict=True):
        assert (yt > 0).all()
        assert np.corrcoef(Xt["size_sqft"], yt)[0, 1] > 0.5


def test_house_apartment_arrays_and_seed():
    a = make_house_apartment(n_houses=10, n_apartments=5, random_state=3,
                             as_frame=False)  # fmt: skip
    b = make_house_apartment(n_houses=10, n_apartments=5, random_state=3,
                             as_frame=False)  # fmt: skip
    assert a.Xs[0].shape == (10, 3) and a.Xs[1].shape == (5, 5)
    assert isinstance(a.ys[1], np.ndarray)
    for u, v in zip(a.Xs + a.ys, b.Xs + b.ys, strict=True):
        assert_array_equal(u, v)
    with pytest.raises(ValueError, match="n_houses"):
        make_house_apartment(n_houses=0)


def test_house_apartment_without_pandas(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match="requires pandas"):
        make_house_apartment(random_state=0)
    assert make_house_apartment(random_state=0, as_frame=False).Xs[0].ndim == 2


# --------------------------------------------------------------------------
# School


def _cells(arrays):
    cells = np.empty((1, len(arrays)), dtype=object)
    for t, a in enumerate(arrays):
        cells[0, t] = a
    return cells


def _tiny_school(path, n_rows=(3, 2, 4), n_cols=5, seed=0):
    rng = np.random.default_rng(seed)
    Xs, Ys = [], []
    for n in n_rows:
        X = rng.integers(0, 5, size=(n, n_cols)).astype(np.uint8)
        X[:, -1] = 1
        Xs.append(X)
        Ys.append(rng.integers(1, 70, size=(n, 1)).astype(np.uint8))
    scipy.io.savemat(path, {"X": _cells(Xs), "Y": _cells(Ys)})
    return Xs, Ys


@pytest.fixture
def school_mat():
    if not SCHOOL_MAT.is_file():
        pytest.skip(f"shared School data not found at {SCHOOL_MAT}")
    return SCHOOL_MAT


def test_load_school_real(school_mat):
    data = load_school(school_mat)
    assert data.X.shape == (15362, 27)
    assert data.Y.shape == (15362, 139)
    assert data.X.dtype == np.float64
    assert len(data.task_names) == 139
    assert data.task_names[0] == "school_000" and data.task_names[-1] == "school_138"
    assert len(data.feature_names) == 27 and "bias" not in data.feature_names
    assert_array_equal(_labelled(data.Y).sum(axis=1), 1)
    counts = _labelled(data.Y).sum(axis=0)
    assert counts.min() == 22 and counts.max() == 251
    assert_array_equal(data.Y[np.arange(15362), data.task], data.y)
    assert 1 <= data.y.min() and data.y.max() <= 70
    full = load_school(school_mat, keep_bias=True)
    assert full.X.shape == (15362, 28) and full.feature_names[-1] == "bias"
    assert_array_equal(full.X[:, -1], 1.0)
    npz = DATA / "school.npz"
    if npz.is_file():
        ref = load_npz_tasks(npz)
        assert_array_equal(ref.X, full.X)
        assert_array_equal(ref.Y, full.Y)
        assert ref.feature_names == full.feature_names


def test_load_school_tiny(tmp_path):
    path = tmp_path / "tiny.mat"
    Xs, Ys = _tiny_school(path)
    data = load_school(path)
    assert data.X.shape == (9, 4) and data.Y.shape == (9, 3)
    assert_array_equal(data.X, np.vstack(Xs)[:, :-1])
    assert_array_equal(data.y, np.concatenate(Ys).ravel())
    assert_array_equal(data.task, [0, 0, 0, 1, 1, 2, 2, 2, 2])
    assert data.feature_names == ["x0", "x1", "x2", "x3"]
    assert data.task_names == ["school_000", "school_001", "school_002"]
    assert load_school(str(path), keep_bias=True).X.shape == (9, 5)


def test_load_school_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_school(tmp_path / "missing.mat")
    bad = tmp_path / "bad.mat"
    bad.write_bytes(b"this is not a MATLAB file at all" * 10)
    with pytest.raises(ValueError, match="not a readable MATLAB"):
        load_school(bad)
    other = tmp_path / "other.mat"
    scipy.io.savemat(other, {"A": np.ones(3)})
    with pytest.raises(ValueError, match=r"lacks the variable\(s\) \['X', 'Y'\]"):
        load_school(other)
    no_cells = tmp_path / "nocells.mat"
    scipy.io.savemat(no_cells, {"X": np.ones((3, 2)), "Y": np.ones((3, 1))})
    with pytest.raises(ValueError, match="not a MATLAB cell array"):
        load_school(no_cells)
    mism = tmp_path / "mism.mat"
    scipy.io.savemat(
        mism, {"X": _cells([np.ones((2, 2))] * 2), "Y": _cells([np.ones((2, 1))])}
    )
    with pytest.raises(ValueError, match="X has 2 cells but Y has 1"):
        load_school(mism)
    rows = tmp_path / "rows.mat"
    scipy.io.savemat(
        rows, {"X": _cells([np.ones((2, 2))]), "Y": _cells([np.ones((3, 1))])}
    )
    with pytest.raises(ValueError, match="must hold 2 numbers"):
        load_school(rows)
    cols = tmp_path / "cols.mat"
    scipy.io.savemat(
        cols,
        {
            "X": _cells([np.ones((2, 2)), np.ones((2, 3))]),
            "Y": _cells([np.ones((2, 1))] * 2),
        },
    )
    with pytest.raises(ValueError, match="has 3 columns"):
        load_school(cols)
    nobias = tmp_path / "nobias.mat"
    scipy.io.savemat(
        nobias, {"X": _cells([np.zeros((2, 2))]), "Y": _cells([np.ones((2, 1))])}
    )
    with pytest.raises(ValueError, match="keep_bias=True"):
        load_school(nobias)
    assert load_school(nobias, keep_bias=True).X.shape == (2, 2)


# --------------------------------------------------------------------------
# fetch_school (file:// URLs only, never the network)


def _use_source(monkeypatch, src):
    monkeypatch.setattr(_school, "SCHOOL_URL", Path(src).as_uri())
    digest = hashlib.sha256(Path(src).read_bytes()).hexdigest()
    monkeypatch.setattr(_school, "SCHOOL_SHA256", digest)


def test_fetch_school_downloads_once(monkeypatch, tmp_path):
    src = tmp_path / "src" / "school.mat"
    src.parent.mkdir()
    _tiny_school(src)
    _use_source(monkeypatch, src)
    home = tmp_path / "home"
    data = fetch_school(data_home=home)
    cached = home / "skmtl" / "school.mat"
    assert cached.is_file()
    assert data.X.shape == (9, 4)
    assert list(cached.parent.iterdir()) == [cached]  # no temporary left
    # second call uses the cache: the source is gone
    src.unlink()
    again = fetch_school(data_home=home, download_if_missing=False)
    assert_array_equal(again.Y, data.Y)
    assert fetch_school(data_home=home).X.shape == (9, 4)


def test_fetch_school_real_file(monkeypatch, tmp_path, school_mat):
    # the real checksum, a file:// URL of the shared copy
    monkeypatch.setattr(_school, "SCHOOL_URL", school_mat.as_uri())
    data = fetch_school(data_home=tmp_path)
    assert data.X.shape == (15362, 27)


def test_fetch_school_cached_without_download(monkeypatch, tmp_path):
    src = tmp_path / "school.mat"
    _tiny_school(src)
    _use_source(monkeypatch, src)
    cache = tmp_path / "home" / "skmtl"
    cache.mkdir(parents=True)
    shutil.copy(src, cache / "school.mat")

    def no_download(*args, **kwargs):
        raise AssertionError("must not download")

    monkeypatch.setattr(_school, "_download", no_download)
    assert fetch_school(data_home=tmp_path / "home").X.shape == (9, 4)


def test_fetch_school_checksum_mismatch(monkeypatch, tmp_path):
    src = tmp_path / "school.mat"
    _tiny_school(src)
    monkeypatch.setattr(_school, "SCHOOL_URL", src.as_uri())
    monkeypatch.setattr(_school, "SCHOOL_SHA256", "0" * 64)
    home = tmp_path / "home"
    with pytest.raises(OSError, match="SHA-256"):
        fetch_school(data_home=home)
    assert list((home / "skmtl").iterdir()) == []
    # a corrupt cached file is not used when downloads are disabled
    (home / "skmtl" / "school.mat").write_bytes(b"corrupt")
    with pytest.raises(OSError, match="wrong SHA-256"):
        fetch_school(data_home=home, download_if_missing=False)


def test_fetch_school_replaces_corrupt_cache(monkeypatch, tmp_path):
    src = tmp_path / "school.mat"
    _tiny_school(src)
    _use_source(monkeypatch, src)
    cached = tmp_path / "home" / "skmtl" / "school.mat"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"corrupt")
    assert fetch_school(data_home=tmp_path / "home").X.shape == (9, 4)
    assert cached.read_bytes() == src.read_bytes()


def test_fetch_school_missing(tmp_path):
    with pytest.raises(OSError, match="download_if_missing=False"):
        fetch_school(data_home=tmp_path, download_if_missing=False)
    # the autouse fixture points the URL to a missing local file
    with pytest.raises(OSError):
        fetch_school(data_home=tmp_path)
    assert list((tmp_path / "skmtl").iterdir()) == []


# --------------------------------------------------------------------------
# npz loaders


def test_load_parkinsons_real():
    if not (DATA / "parkinsons_motor.npz").is_file():
        pytest.skip(f"shared Parkinson's data not found in {DATA}")
    motor = load_parkinsons(DATA)
    total = load_parkinsons(DATA, target="total")
    for data in (motor, total):
        assert data.X.shape == (5875, 19) and data.Y.shape == (5875, 42)
        assert len(data.task_names) == 42 and len(data.feature_names) == 19
        assert "test_time" in data.feature_names
        assert_array_equal(_labelled(data.Y).sum(axis=1), 1)
        assert "Parkinson" in data.DESCR
    assert not np.array_equal(motor.y, total.y)
    same = load_parkinsons(DATA / "parkinsons_total.npz")
    assert_array_equal(same.y, total.y)
    with pytest.raises(ValueError, match="target must be one of"):
        load_parkinsons(DATA, target="both")


def test_load_npz_tasks_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_npz_tasks(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a readable npz"):
        load_npz_tasks(bad)
    npy = tmp_path / "single.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(ValueError, match="not an npz archive"):
        load_npz_tasks(npy)
    X = np.ones((3, 2))
    cases = [
        (dict(X=X, y=np.ones(3)), "lacks the array"),
        (dict(X=X, y=np.ones(2), task=[0, 0, 1]), "y must be numeric of shape"),
        (dict(X=X, y=np.ones(3), task=[0.0, 0, 1]), "task must be integer"),
        (dict(X=X, y=[1, np.nan, 2], task=[0, 0, 1]), "NaN"),
        (dict(X=X, y=np.ones(3), task=[0, 0, 2], task_names=["a", "b"]), "indices"),
        (dict(X=X, y=np.ones(3), task=[0, 0, 2]), r"task\(s\) \[1\] have no rows"),
        (dict(X=X, y=np.ones(3), task=[0, 0, 1], feature_names=["a"]), "feature"),
        (dict(X=np.ones(3), y=np.ones(3), task=[0, 0, 1]), "X must be a 2-D"),
    ]
    for i, (arrays, match) in enumerate(cases):
        path = tmp_path / f"case{i}.npz"
        np.savez(path, **arrays)
        with pytest.raises(ValueError, match=match):
            load_npz_tasks(path)


def test_load_npz_tasks_roundtrip_with_stack(tmp_path):
    X, Y = make_multitask_regression(3, [4, 5, 6], 3, n_informative=2, random_state=0)
    task = np.argmax(_labelled(Y), axis=1)
    path = tmp_path / "toy.npz"
    np.savez_compressed(path, X=X, y=Y[np.arange(15), task], task=task)
    data = load_npz_tasks(path)
    assert_array_equal(data.X, X)
    assert_array_equal(data.Y, Y)
    assert data.task_names == ["task_0", "task_1", "task_2"]
    assert data.feature_names == ["x0", "x1", "x2"]
