"""Task-graph smoothing, optionally with an l1 part."""

import numpy as np

from ..._graph import check_task_graph, graph_laplacian, mean_graph
from ._base import Penalty, soft
from ._sparsity import _check_ratio


class Graph(Penalty):
    """``alpha (1 - l1_ratio) / 2 sum_{s<t} A_st ||w_s - w_t||^2
    + alpha l1_ratio ||W||_1``.

    The first term equals ``alpha (1 - l1_ratio) / 2 tr(W^T L W)`` with
    ``L`` the Laplacian of the task graph ``A`` (default: every task pulled
    to the mean). It is smooth (it enters the gradient); the l1 part goes
    through its prox. Stopping uses the proximal-gradient residual.
    """

    hyperparameters = ("l1_ratio", "task_graph")
    defaults = {"l1_ratio": 0.0, "task_graph": None}

    def __init__(self, alpha, laplacian, l1_ratio=0.0):
        self.alpha = float(alpha)
        self.l1_ratio = _check_ratio(l1_ratio)
        self.laplacian = np.asarray(laplacian, dtype=np.float64)
        self.q = self.alpha * (1.0 - self.l1_ratio)
        self.a = self.alpha * self.l1_ratio
        lmax = np.linalg.eigvalsh(self.laplacian).max() if self.laplacian.size else 0
        self.smooth_lipschitz = self.q * max(float(lmax), 0.0)

    @classmethod
    def from_params(cls, alpha, n_tasks, params):
        p = cls.resolve(params)
        graph = p["task_graph"]
        A = mean_graph(n_tasks) if graph is None else check_task_graph(graph, n_tasks)
        return cls(alpha, graph_laplacian(A), p["l1_ratio"])

    def smooth_value(self, W):
        return 0.5 * self.q * float(np.sum(W * (self.laplacian @ W)))

    def smooth_grad(self, W):
        return self.q * (self.laplacian @ W)

    def ridge_form(self):
        """Without an l1 part the penalty is quadratic (a squared-loss fit
        is ``MultiTaskRidge(alpha=0, coupling=alpha)``'s linear solve)."""
        if self.a > 0:
            return None
        return 0.0, self.q, self.laplacian

    def smooth_bregman(self, W_new, W):
        D = W_new - W
        return 0.5 * self.q * float(np.sum(D * (self.laplacian @ D)))

    def nonsmooth_value(self, W):
        return self.a * float(np.abs(W).sum())

    def prox(self, W, step):
        return soft(W, step * self.a) if self.a > 0 else W

    # the Laplacian couples tasks within a column, never columns: a
    # per-feature change of variables keeps the penalty's form
    column_scalable = True

    def prox_cols(self, W, steps):
        return soft(W, np.asarray(steps)[None, :] * self.a) if self.a > 0 else W

    @classmethod
    def alpha_max(cls, G0, params=None):
        l1_ratio = cls.resolve(params)["l1_ratio"]
        if l1_ratio <= 0:
            return np.inf
        return float(np.max(np.abs(G0))) / l1_ratio
