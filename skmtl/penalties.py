"""Penalties of the multi-task linear models, and the base class for new ones.

The estimators take a penalty by name (``penalty="l21"``) or as a
:class:`Penalty` subclass: a penalty written outside skmtl fits through
:class:`skmtl.MultiTaskLinearRegression`, :class:`skmtl.MultiTaskLogisticRegression`
and :func:`skmtl.model_selection.regularization_path` like the built-in ones
(see the developer guide, "Adding a penalty or a loss").

Examples
--------
>>> import numpy as np
>>> from skmtl import MultiTaskLinearRegression
>>> from skmtl.penalties import Penalty
>>> class Ridge(Penalty):
...     '''alpha / 2 ||W||_F^2, written as a prox.'''
...     def nonsmooth_value(self, W):
...         return 0.5 * self.alpha * float(np.sum(W * W))
...     def prox(self, W, step):
...         return W / (1.0 + step * self.alpha)
>>> rng = np.random.default_rng(0)
>>> X, Y = rng.normal(size=(50, 3)), rng.normal(size=(50, 2))
>>> model = MultiTaskLinearRegression(Ridge, alpha=0.1, tol=1e-8).fit(X, Y)
>>> model.solver_
'fista'
>>> from skmtl.penalties import PENALTIES
>>> 'dirty' in PENALTIES and 'mcp' in PENALTIES
True
"""

from ._solvers.penalties import PENALTIES, Penalty, RowPenalty

__all__ = ["PENALTIES", "Penalty", "RowPenalty"]
