"""Tests for skmtl.tasks: stack_tasks / unstack_tasks."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from skmtl.tasks import stack_tasks, unstack_tasks

try:
    import pandas as pd
except ImportError:  # pragma: no cover - pandas is a test dependency
    pd = None

needs_pandas = pytest.mark.skipif(pd is None, reason="pandas is not installed")


def _data(seed=0, sizes=(3, 5, 2), n_features=4):
    rng = np.random.default_rng(seed)
    Xs = [rng.normal(size=(n, n_features)) for n in sizes]
    ys = [rng.normal(size=n) for n in sizes]
    return Xs, ys


def test_stack_numpy_shapes_and_mask():
    Xs, ys = _data()
    X, Y = stack_tasks(Xs, ys)
    assert isinstance(X, np.ndarray) and isinstance(Y, np.ndarray)
    assert X.shape == (10, 4)
    assert Y.shape == (10, 3)
    assert Y.dtype == np.float64
    assert_array_equal((~np.isnan(Y)).sum(axis=1), np.ones(10))
    assert_array_equal((~np.isnan(Y)).sum(axis=0), [3, 5, 2])
    assert_array_equal(X[3:8], Xs[1])
    assert_array_equal(Y[3:8, 1], ys[1])


def test_roundtrip_numpy():
    Xs, ys = _data()
    Xs2, ys2 = unstack_tasks(*stack_tasks(Xs, ys))
    for a, b in zip(Xs, Xs2, strict=True):
        assert_array_equal(a, b)
    for a, b in zip(ys, ys2, strict=True):
        assert_array_equal(a, b)


def test_inputs_not_modified():
    Xs, ys = _data()
    Xs_copy = [x.copy() for x in Xs]
    ys_copy = [y.copy() for y in ys]
    X, Y = stack_tasks(Xs, ys)
    X[:] = -1
    Y[:] = -1
    for a, b in zip(Xs, Xs_copy, strict=True):
        assert_array_equal(a, b)
    for a, b in zip(ys, ys_copy, strict=True):
        assert_array_equal(a, b)
    X, Y = stack_tasks(Xs, ys)
    X_copy, Y_copy = X.copy(), Y.copy()
    Xs2, ys2 = unstack_tasks(X, Y)
    Xs2[0][:] = 99
    ys2[0][:] = 99
    assert_array_equal(X, X_copy)
    assert_array_equal(Y, Y_copy)


def test_lists_of_lists_and_object_array():
    X, Y = stack_tasks([[[1, 2]], [[3, 4], [5, 6]]], [[1], [2, 3]])
    assert X.shape == (3, 2)
    assert_array_equal(Y[:, 1], [np.nan, 2, 3])
    cells = np.empty((1, 2), dtype=object)  # like a MATLAB cell array
    cells[0, 0] = np.ones((2, 3))
    cells[0, 1] = np.zeros((1, 3))
    ycells = np.empty((1, 2), dtype=object)
    ycells[0, 0] = np.array([1.0, 2.0])
    ycells[0, 1] = np.array([3.0])
    X, Y = stack_tasks(cells, ycells)
    assert X.shape == (3, 3) and Y.shape == (3, 2)


@needs_pandas
def test_dataframe_alignment_by_name():
    houses = pd.DataFrame(
        {"size": [100.0, 150.0], "bedrooms": [2, 3], "bathrooms": [1, 2]}
    )
    flats = pd.DataFrame(
        {"bedrooms": [1, 2, 1], "size": [40.0, 60.0, 30.0], "downtown": [1, 0, 1]}
    )
    ys = [pd.Series([1.0, 2.0], name="house"), pd.Series([3.0, 4.0, 5.0])]
    X, Y = stack_tasks([houses, flats], ys)
    assert list(X.columns) == ["size", "bedrooms", "bathrooms", "downtown"]
    assert X.shape == (5, 4)
    assert_array_equal(X["size"], [100, 150, 40, 60, 30])
    assert_array_equal(X["bedrooms"], [2, 3, 1, 2, 1])
    assert_array_equal(X["bathrooms"], [1, 2, 0, 0, 0])
    assert_array_equal(X["downtown"], [0, 0, 1, 0, 1])
    # not all ys named -> default names
    assert list(Y.columns) == ["task_0", "task_1"]
    assert Y.index.equals(X.index)
    # all named and distinct -> their names
    ys[1] = ys[1].rename("apartment")
    _, Y = stack_tasks([houses, flats], ys)
    assert list(Y.columns) == ["house", "apartment"]
    # explicit names win
    _, Y = stack_tasks([houses, flats], ys, task_names=["a", "b"])
    assert list(Y.columns) == ["a", "b"]
    # originals untouched
    assert list(flats.columns) == ["bedrooms", "size", "downtown"]


def test_array_alignment_by_feature_names_matches_dataframes():
    # without pandas: arrays with differing columns, aligned by name
    houses = np.array([[100.0, 2, 1], [150.0, 3, 2]])
    flats = np.array([[1.0, 40.0, 1], [2, 60.0, 0], [1, 30.0, 1]])
    names = [["size", "bedrooms", "bathrooms"], ["bedrooms", "size", "downtown"]]
    X, Y = stack_tasks([houses, flats], [[1.0, 2.0], [3.0, 4.0, 5.0]],
                       feature_names=names)  # fmt: skip
    assert isinstance(X, np.ndarray) and X.shape == (5, 4)
    assert_array_equal(X[:, 0], [100, 150, 40, 60, 30])  # size
    assert_array_equal(X[:, 1], [2, 3, 1, 2, 1])  # bedrooms
    assert_array_equal(X[:, 2], [1, 2, 0, 0, 0])  # bathrooms
    assert_array_equal(X[:, 3], [0, 0, 1, 0, 1])  # downtown
    assert_array_equal(np.isnan(Y), [[0, 1], [0, 1], [1, 0], [1, 0], [1, 0]])
    if pd is not None:
        frames = [
            pd.DataFrame(a, columns=c)
            for a, c in zip([houses, flats], names, strict=True)
        ]
        Xf, _ = stack_tasks(frames, [[1.0, 2.0], [3.0, 4.0, 5.0]])
        assert_array_equal(X, Xf.to_numpy())
    with pytest.raises(ValueError, match="one list per task"):
        stack_tasks(
            [houses, flats], [[1.0, 2.0], [3.0, 4.0, 5.0]], feature_names=names[:1]
        )
    with pytest.raises(ValueError, match=r"feature_names\[1\] has 2 names"):
        stack_tasks([houses, flats], [[1.0, 2.0], [3.0, 4.0, 5.0]],
                    feature_names=[names[0], ["a", "b"]])  # fmt: skip
    with pytest.raises(ValueError, match="duplicated column"):
        stack_tasks([houses], [[1.0, 2.0]], feature_names=[["a", "a", "b"]])
    with pytest.raises(TypeError, match="feature_names is for dense array"):
        stack_tasks([sp.csr_matrix(houses)], [[1.0, 2.0]], feature_names=names[:1])


@needs_pandas
def test_dataframe_index_reset_and_roundtrip():
    a = pd.DataFrame({"x": [1.0, 2.0]}, index=[10, 11])
    b = pd.DataFrame({"x": [3.0]}, index=[10])
    X, Y = stack_tasks([a, b], [pd.Series([1.0, 2.0]), [3.0]])
    assert list(X.index) == [0, 1, 2]
    Xs, ys = unstack_tasks(X, Y)
    assert isinstance(Xs[0], pd.DataFrame)
    assert isinstance(ys[1], pd.Series) and ys[1].name == "task_1"
    assert_array_equal(Xs[1]["x"], [3.0])
    assert list(Xs[1].index) == [2]
    X2, Y2 = stack_tasks(Xs, ys)
    pd.testing.assert_frame_equal(X2, X)
    pd.testing.assert_frame_equal(Y2, Y)


def test_sparse_stays_sparse():
    Xs, ys = _data()
    Xs_sp = [sp.csr_matrix(x) for x in Xs]
    X, Y = stack_tasks(Xs_sp, ys)
    assert sp.issparse(X) and X.format == "csr"
    assert_array_equal(X.toarray(), np.vstack(Xs))
    X, _ = stack_tasks([sp.csc_matrix(x) for x in Xs], ys)
    assert X.format == "csc"
    # mixed dense / sparse -> sparse
    X, _ = stack_tasks([Xs_sp[0], Xs[1], sp.coo_matrix(Xs[2])], ys)
    assert sp.issparse(X) and X.format == "csr"
    assert_array_equal(X.toarray(), np.vstack(Xs))
    Xs2, ys2 = unstack_tasks(sp.coo_matrix(X), Y)
    for a, b in zip(Xs, Xs2, strict=True):
        assert sp.issparse(b)
        assert_array_equal(a, b.toarray())


def test_unstack_multilabelled_rows():
    X = np.arange(8.0).reshape(4, 2)
    Y = np.array([[1, np.nan], [2, 5], [np.nan, 6], [np.nan, np.nan]])
    Xs, ys = unstack_tasks(X, Y)
    assert_array_equal(Xs[0], X[[0, 1]])
    assert_array_equal(Xs[1], X[[1, 2]])
    assert_array_equal(ys[1], [5, 6])
    # 1-D Y: one task
    Xs, ys = unstack_tasks(X, np.array([1.0, np.nan, 3.0, 4.0]))
    assert len(Xs) == 1 and Xs[0].shape == (3, 2)


@needs_pandas
def test_unstack_dataframe_Y_with_numpy_X():
    X = np.arange(6.0).reshape(3, 2)
    Y = pd.DataFrame({"a": [1.0, np.nan, 2.0], "b": [np.nan, 3.0, np.nan]})
    Xs, ys = unstack_tasks(X, Y)
    assert isinstance(Xs[0], np.ndarray)
    assert ys[0].name == "a" and list(ys[0].index) == [0, 2]


@pytest.mark.parametrize(
    "Xs, ys, match",
    [
        ([], [], "empty"),
        ([np.ones((2, 2))], [], "empty"),
        ([np.ones((2, 2))], [np.ones(2), np.ones(1)], "one entry per task"),
        ([np.ones((2, 2)), np.ones((2, 3))], [np.ones(2)] * 2, "same number of"),
        ([np.ones((2, 2))], [np.ones(3)], "has 2 rows but ys\\[0\\] has 3"),
        ([np.ones((2, 2))], [np.array([1.0, np.nan])], "NaN"),
        ([np.ones((2, 2))], [np.array([1.0, np.inf])], "infinity"),
        ([np.ones((2, 2))], [np.ones((2, 1))], "must be 1-D"),
        ([np.ones(2)], [np.ones(2)], "must be 2-D"),
        ([np.ones((0, 2))], [np.ones(0)], "no rows"),
    ],
)
def test_stack_errors(Xs, ys, match):
    with pytest.raises(ValueError, match=match):
        stack_tasks(Xs, ys)


@needs_pandas
def test_stack_type_errors():
    with pytest.raises(TypeError, match="Wrap it in a list"):
        stack_tasks(np.ones((3, 2)), np.ones(3))
    with pytest.raises(TypeError, match="all Xs must be pandas DataFrames or none"):
        stack_tasks([pd.DataFrame({"a": [1.0]}), np.ones((1, 1))], [[1.0], [2.0]])
    with pytest.raises(TypeError, match="numbers"):
        stack_tasks([np.ones((1, 1))], [["a"]])


@needs_pandas
def test_stack_dataframe_errors():
    df = pd.DataFrame([[1.0, 2.0]], columns=["a", "a"])
    with pytest.raises(ValueError, match="duplicated column"):
        stack_tasks([df], [[1.0]])
    ok = pd.DataFrame({"a": [1.0]})
    with pytest.raises(ValueError, match="1-D"):
        stack_tasks([ok], [pd.DataFrame({"y": [1.0]})])
    with pytest.raises(ValueError, match="task_names has 2 entries"):
        stack_tasks([ok], [[1.0]], task_names=["a", "b"])
    with pytest.raises(ValueError, match="distinct"):
        stack_tasks([ok, ok], [[1.0], [2.0]], task_names=["a", "a"])


def test_unstack_errors():
    with pytest.raises(ValueError, match="X has 3 rows but Y has 2"):
        unstack_tasks(np.ones((3, 2)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        unstack_tasks(np.ones((3, 2)), np.ones((3, 1, 1)))


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=5),
    n_features=st.integers(1, 4),
    seed=st.integers(0, 2**16),
    sparse=st.booleans(),
)
def test_roundtrip_property(sizes, n_features, seed, sparse):
    rng = np.random.default_rng(seed)
    Xs = [rng.normal(size=(n, n_features)) for n in sizes]
    ys = [rng.integers(-5, 5, size=n).astype(float) for n in sizes]
    if sparse:
        Xs = [sp.csr_matrix(x) for x in Xs]
    X, Y = stack_tasks(Xs, ys)
    assert X.shape == (sum(sizes), n_features)
    assert Y.shape == (sum(sizes), len(sizes))
    assert_array_equal((~np.isnan(Y)).sum(axis=1), 1)
    Xs2, ys2 = unstack_tasks(X, Y)
    assert len(Xs2) == len(sizes)
    for a, b, ya, yb in zip(Xs, Xs2, ys, ys2, strict=True):
        a = a.toarray() if sparse else a
        b = b.toarray() if sparse else b
        assert_array_equal(a, b)
        assert_array_equal(ya, yb)
    # and back again: stack(unstack(X, Y)) == (X, Y)
    X3, Y3 = stack_tasks(Xs2, ys2)
    assert_array_equal(X3.toarray() if sparse else X3, X.toarray() if sparse else X)
    assert_array_equal(Y3, Y)


@needs_pandas
@settings(max_examples=30, deadline=None)
@given(
    columns=st.lists(
        st.lists(st.sampled_from("abcdef"), min_size=1, max_size=6, unique=True),
        min_size=1,
        max_size=4,
    ),
    seed=st.integers(0, 2**16),
)
def test_dataframe_alignment_property(columns, seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 4, size=len(columns))
    Xs = [
        pd.DataFrame(rng.normal(size=(n, len(cols))), columns=cols)
        for n, cols in zip(sizes, columns, strict=True)
    ]
    ys = [pd.Series(rng.normal(size=n)) for n in sizes]
    X, Y = stack_tasks(Xs, ys)
    union = list(dict.fromkeys(c for cols in columns for c in cols))
    assert list(X.columns) == union
    Xs2, ys2 = unstack_tasks(X, Y)
    for Xt, Xt2, yt, yt2 in zip(Xs, Xs2, ys, ys2, strict=True):
        assert_array_equal(Xt2[list(Xt.columns)].to_numpy(), Xt.to_numpy())
        others = [c for c in union if c not in Xt.columns]
        assert (Xt2[others].to_numpy() == 0).all()
        assert_array_equal(yt2.to_numpy(), yt.to_numpy())
