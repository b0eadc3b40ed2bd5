import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from skmtl._graph import check_task_graph, graph_laplacian, mean_graph


@pytest.mark.parametrize("T", [1, 2, 3, 7])
def test_mean_graph_identity(T):
    rng = np.random.default_rng(T)
    W = rng.normal(size=(T, 5))
    A = mean_graph(T)
    pairs = sum(
        A[s, t] * np.sum((W[s] - W[t]) ** 2) for s in range(T) for t in range(s + 1, T)
    )
    to_mean = np.sum((W - W.mean(axis=0)) ** 2)
    L = graph_laplacian(A)
    assert np.isclose(pairs, to_mean)
    assert np.isclose(np.trace(W.T @ L @ W), to_mean)
    assert np.allclose(L, np.eye(T) - np.ones((T, T)) / T)
    assert np.all(np.diag(A) == 0)


def test_laplacian_quadratic_form_is_sum_over_pairs():
    rng = np.random.default_rng(0)
    T = 5
    A = rng.random((T, T))
    A = check_task_graph(A + A.T, T)
    W = rng.normal(size=(T, 3))
    L = graph_laplacian(A)
    pairs = sum(
        A[s, t] * np.sum((W[s] - W[t]) ** 2) for s in range(T) for t in range(s + 1, T)
    )
    assert np.isclose(np.trace(W.T @ L @ W), pairs)
    assert np.allclose(L.sum(axis=1), 0)
    assert np.linalg.eigvalsh(L).min() > -1e-12


def test_dense_sparse_edges_dataframe_agree():
    A = np.array([[0, 1, 0], [1, 0, 0.5], [0, 0.5, 0]])
    expected = A.astype(float)
    for g in [
        A,
        sp.csr_matrix(A),
        sp.csc_array(A),
        pd.DataFrame(A),
        [(0, 1), (1, 2, 0.5)],
        ((1, 0, 1.0), (2, 1, 0.5)),
        [(np.int64(0), np.int32(1), np.float32(1.0)), [2, 1, 0.5]],
    ]:
        out = check_task_graph(g, 3)
        assert out.dtype == np.float64 and out.shape == (3, 3)
        assert np.array_equal(out, expected)


def test_none_is_mean_graph():
    assert np.array_equal(check_task_graph(None, 4), mean_graph(4))


def test_self_loops_ignored_and_input_not_modified():
    A = np.array([[5.0, 1.0], [1.0, 2.0]])
    A0 = A.copy()
    out = check_task_graph(A, 2)
    assert np.array_equal(out, [[0, 1], [1, 0]])
    assert np.array_equal(A, A0)
    assert np.array_equal(check_task_graph([(0, 0, 3.0), (0, 1)], 2), out)
    assert np.array_equal(graph_laplacian(A), graph_laplacian(out))


def test_bool_and_integer_matrix():
    out = check_task_graph(np.array([[False, True], [True, False]]), 2)
    assert np.array_equal(out, [[0.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize(
    "graph, match",
    [
        (np.zeros((2, 2)), r"shape \(n_tasks, n_tasks\) = \(3, 3\)"),
        (np.zeros(3), "shape"),
        (np.array([[0, -1, 0], [-1, 0, 0], [0, 0, 0]]), "negative"),
        (np.array([[0, 1, 0], [2, 0, 0], [0, 0, 0]]), "symmetric"),
        (np.array([[0, np.nan, 0], [np.nan, 0, 0], [0, 0, 0]]), "NaN"),
        (np.array([[0, np.inf, 0], [np.inf, 0, 0], [0, 0, 0]]), "infinity"),
        (np.array([["a"] * 3] * 3), "numeric"),
        ([(0, 3)], "out of range"),
        ([(-1, 0)], "out of range"),
        ([(0, 1.5)], "integers"),
        ([(0, 1, -2.0)], "negative"),
        ([(0, 1, np.nan)], "finite"),
        ([(0, 1, "x")], "real number"),
        ([(0, 1), (1, 0)], "more than once"),
        ([(0,)], r"\(s, t\)"),
        ([0, 1], r"\(s, t\)"),
        (sp.csr_matrix(np.ones((2, 2))), "shape"),
    ],
)
def test_bad_graphs(graph, match):
    with pytest.raises(ValueError, match=match):
        check_task_graph(graph, 3)


def test_mean_graph_bad_n_tasks():
    with pytest.raises(ValueError, match="positive integer"):
        mean_graph(0)


def test_laplacian_not_square():
    with pytest.raises(ValueError, match="square"):
        graph_laplacian(np.zeros((2, 3)))
