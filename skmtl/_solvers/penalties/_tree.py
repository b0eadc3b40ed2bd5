"""Tree-guided group lasso (Kim & Xing, ICML 2010) over a task hierarchy.

``alpha * sum_j sum_v weight_v ||W[G_v, j]||_2 + beta/2 ||W||_F^2``: for
every node ``v`` of a tree over the tasks (leaves included), the tasks
``G_v`` under it form a group, per feature. Feature-separable, with numba
row kernels (``CODE_TREE``): the prox composes the group shrinkages from
the leaves up, which is exact for tree-structured groups (Jenatton et al.,
JMLR 2011). Node weights and tree formats: :mod:`skmtl._task_tree`.

With ``task_tree=None`` the tree is learned in :meth:`Tree.setup` from the
data: an independent ridge fit of every task (``alpha_ridge = 0.1 L``,
``L`` the largest per-task curvature of the loss), then average linkage on
the correlation distance between the tasks' coefficient vectors. It is
cached per problem, so a regularization path or a CV fold learns it once.
"""

import weakref

import numpy as np

from ..._task_tree import learn_task_tree, tree_nodes, tree_weights
from ._base import RowPenalty
from ._rows import CODE_TREE, row_update

#: problem (design operator) -> (key, linkage) of the learned tree
_LEARNED = weakref.WeakKeyDictionary()


def tree_params(groups, weights, lam, mu):
    """The flat ``params`` array of ``CODE_TREE`` (zero-weight nodes left out)."""
    keep = [v for v in range(len(groups)) if weights[v] > 0]
    parts = [np.array([lam, mu, len(keep)], dtype=np.float64)]
    for v in keep:
        parts.append(np.array([weights[v], len(groups[v])], dtype=np.float64))
        parts.append(groups[v].astype(np.float64))
    return np.concatenate(parts)


def ridge_task_tree(X, op, datafit, fit_intercept):
    """The learned tree (see the module docstring): a linkage matrix."""
    from ..dispatch import ProblemSolver
    from ..fista import lipschitz_estimate
    from ._sparsity import ElasticNet

    L = lipschitz_estimate(op, datafit, fit_intercept)
    ridge = ElasticNet(0.1 * L, l1_ratio=0.0)
    res = ProblemSolver(X, op, datafit, fit_intercept=fit_intercept).solve(
        ridge, max_iter=2000, tol=1e-6
    )
    return learn_task_tree(res.coef)


def learned_tree(X, op, datafit, fit_intercept):
    """:func:`ridge_task_tree`, cached per problem."""
    key = (bool(fit_intercept), id(datafit))
    cached = _LEARNED.get(op)
    if cached is None or cached[0] != key:
        cached = (key, ridge_task_tree(X, op, datafit, fit_intercept))
        _LEARNED[op] = cached
    return cached[1]


class Tree(RowPenalty):
    """Tree-guided group lasso; ``params`` as ``CODE_TREE`` in :mod:`._rows`.

    Hyperparameters: ``task_tree`` (linkage matrix, nested lists, or None:
    learned), ``beta`` (ridge strength; None: ``beta_ratio * alpha``,
    default 0).
    """

    code = CODE_TREE
    hyperparameters = ("task_tree", "beta", "beta_ratio")
    defaults = {"task_tree": None, "beta": None, "beta_ratio": 0.0}
    fitted_attribute_names = ("task_tree_", "task_groups_", "task_group_weights_")

    def __init__(self, alpha, n_tasks, task_tree=None, beta=0.0):
        self.alpha, self.beta = float(alpha), float(beta)
        if not self.beta >= 0:
            raise ValueError(f"beta must be >= 0, got {beta}.")
        self.lam, self.mu = self.alpha, self.beta
        self.n_tasks = int(n_tasks)
        self.task_tree = None
        if task_tree is not None:
            self._set_tree(task_tree)

    def _set_tree(self, task_tree):
        groups, heights, parents = tree_nodes(task_tree, self.n_tasks)
        self.task_tree = task_tree
        self.groups = groups
        self.weights = tree_weights(heights, parents, self.n_tasks)
        self._params = tree_params(groups, self.weights, self.lam, self.mu)

    @classmethod
    def from_params(cls, alpha, n_tasks, params):
        p = cls.resolve(params)
        beta = p["beta"]
        if beta is None:
            beta = float(p["beta_ratio"]) * alpha
        return cls(alpha, n_tasks, p["task_tree"], beta)

    def setup(self, X, op, datafit, fit_intercept):
        if self.task_tree is None:
            self._set_tree(learned_tree(X, op, datafit, fit_intercept))

    @classmethod
    def complete_params(cls, X, op, datafit, fit_intercept, params):
        """``params`` with the learned tree when ``task_tree`` is None."""
        params = dict(params or {})
        if params.get("task_tree") is None:
            params["task_tree"] = learned_tree(X, op, datafit, fit_intercept)
        return params

    def _check_ready(self):
        if self.task_tree is None:
            raise RuntimeError(
                "The task tree is not set: pass task_tree or call setup() first."
            )

    @property
    def params(self):
        self._check_ready()
        return self._params

    def nonsmooth_value(self, W):
        self._check_ready()
        out = 0.0
        for g, w in zip(self.groups, self.weights, strict=True):
            if w > 0:
                out += w * float(np.sqrt(np.sum(W[g] ** 2, axis=0)).sum())
        return self.lam * out + 0.5 * self.mu * float(np.sum(W * W))

    @classmethod
    def alpha_max(cls, G0, params=None):
        """``max_j`` of the smallest ``alpha`` whose prox (unit step) maps
        ``-G0[:, j]`` to 0, by bisection on the exact prox."""
        p = cls.resolve(params)
        tree = p["task_tree"]
        if tree is None:
            raise ValueError("alpha_max of penalty 'tree' needs its task tree.")
        T = G0.shape[0]
        pen = cls(1.0, T, tree, 0.0)
        G0 = np.asarray(G0, dtype=np.float64)
        zeros, ones = np.zeros(T), np.ones(T)
        out = np.empty(T)
        # every task is in a node of positive weight: at ||g|| / (smallest
        # positive weight), that node's shrinkage zeroes it
        w_min = float(pen.weights[pen.weights > 0].min())
        best = 0.0
        for j in range(G0.shape[1]):
            g = np.ascontiguousarray(G0[:, j])
            if not np.any(g):
                continue
            hi = float(np.linalg.norm(g)) / w_min
            lo = 0.0
            for _ in range(100):
                mid = 0.5 * (lo + hi)
                row_update(CODE_TREE, _scaled(pen._params, mid), zeros, g, ones, out)
                if np.any(out != 0.0):
                    lo = mid
                else:
                    hi = mid
                if hi - lo <= 1e-13 * hi:
                    break
            best = max(best, hi)
        return best

    def fitted_attributes(self, Z):
        self._check_ready()
        return {
            "task_tree_": self.task_tree,
            "task_groups_": [g.copy() for g in self.groups],
            "task_group_weights_": self.weights.copy(),
        }


def _scaled(params, lam):
    out = params.copy()
    out[0] = lam
    return out
