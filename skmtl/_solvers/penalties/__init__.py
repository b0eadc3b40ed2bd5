"""Penalties on the coefficient matrix, and their registry.

A new penalty is one class (a :class:`Penalty` subclass, with its numba row
kernels in :mod:`._rows` when block coordinate descent should run it at
full speed) and one line in :data:`PENALTIES`. Estimators also accept a
:class:`Penalty` subclass directly as ``penalty``.
"""

from ._base import Penalty, RowPenalty
from ._composite import Dirty, Robust, SparseLowRank, TaskGroupNorm
from ._graph import Graph
from ._nonconvex import MCP, SCAD, CappedL1
from ._sparsity import L1, L21, ElasticNet, SparseGroup
from ._spectral import Trace
from ._structure import Clustered, Relationship
from ._tree import Tree

__all__ = [
    "PENALTIES",
    "Penalty",
    "RowPenalty",
    "TaskGroupNorm",
    "get_penalty_class",
    "make_penalty",
]

PENALTIES = {
    "l1": L1,
    "l21": L21,
    "elasticnet": ElasticNet,
    "sparse_group": SparseGroup,
    "trace": Trace,
    "graph": Graph,
    "mcp": MCP,
    "scad": SCAD,
    "capped_l1": CappedL1,
    "dirty": Dirty,
    "robust": Robust,
    "sparse_low_rank": SparseLowRank,
    "relationship": Relationship,
    "clustered": Clustered,
    "tree": Tree,
}


def get_penalty_class(penalty):
    """The :class:`Penalty` subclass for a registered name or a subclass."""
    if isinstance(penalty, type) and issubclass(penalty, Penalty):
        return penalty
    if isinstance(penalty, str) and penalty in PENALTIES:
        return PENALTIES[penalty]
    raise ValueError(
        f"Unknown penalty {penalty!r}; expected one of {sorted(PENALTIES)} or a "
        "subclass of skmtl.penalties.Penalty."
    )


def make_penalty(penalty, alpha, n_tasks, params=None):
    """Penalty object at ``alpha`` from a name (or class) and hyperparameters.

    ``params`` maps hyperparameter names (``l1_ratio``, ``gamma``, ``beta``,
    ``n_clusters``, ``task_tree``, ...) to values; each penalty reads the
    ones it declares.
    """
    return get_penalty_class(penalty).from_params(alpha, n_tasks, params or {})
