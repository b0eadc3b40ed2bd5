"""The penalty interface every solver reads.

A penalty on ``W`` (``(n_tasks, n_features)``, or the stacked parts of a
composite model) is ``smooth(W) + nonsmooth(W)``. The solvers use:

* ``value``, ``prox(W, step)`` (of the nonsmooth part), ``smooth_value``,
  ``smooth_grad``, ``smooth_lipschitz``;
* a certificate: the duality gap where ``has_gap`` (``lam``, ``mu``,
  ``dual_norm``, ``conjugate_value``), else the optimality residual;
* for block coordinate descent (``separable``), the row math: a numba code
  and ``params`` array read by :mod:`._rows` (``code``), or Python
  ``row_update`` / ``kkt_violation`` for a penalty defined outside skmtl;
* ``alpha_max(G0, params)``: the smallest ``alpha`` for which ``W = 0`` is
  optimal given the datafit gradient ``G0`` at ``W = 0``;
* ``hyperparameters``: the estimator parameters (besides ``alpha``) it
  reads, with ``defaults``.
"""

import numpy as np

from ._rows import prox_rows, row_violations


def col_norms(W):
    return np.sqrt(np.sum(W * W, axis=0))


def soft(Z, thresh):
    return np.sign(Z) * np.maximum(np.abs(Z) - thresh, 0.0)


class Penalty:
    """Base class. Subclass it to add a penalty (see the developer guide).

    Attributes
    ----------
    hyperparameters : tuple of str
        Estimator parameters the penalty reads (besides ``alpha``).
    defaults : dict
        Value of each hyperparameter when the estimator passes None.
    separable : bool
        Sum of one term per feature (row of ``W^T``): block coordinate
        descent applies.
    code : int or None
        Numba row-kernel code (built-in separable penalties); None for a
        separable penalty whose ``row_update`` is Python.
    convex : bool
        Non-convex penalties get a monotone solver and stationarity
        certificates.
    has_gap : bool
        A duality gap is available (needs ``lam``, ``mu``, ``dual_norm``).
    n_parts : int
        Composite models stack ``n_parts`` coefficient matrices; the model's
        coefficients are their sum.

    Examples
    --------
    A penalty written outside skmtl (``alpha / 2 ||W||_F^2`` through its
    prox) fits through the estimators:

    >>> import numpy as np
    >>> from skmtl import MultiTaskLinearRegression
    >>> from skmtl.penalties import Penalty
    >>> class Ridge(Penalty):
    ...     def nonsmooth_value(self, W):
    ...         return 0.5 * self.alpha * float(np.sum(W * W))
    ...     def prox(self, W, step):
    ...         return W / (1.0 + step * self.alpha)
    >>> X = np.eye(3)
    >>> Y = np.array([[1.0, 2.0], [0.0, 1.0], [2.0, 0.0]])
    >>> model = MultiTaskLinearRegression(Ridge, alpha=0.1, fit_intercept=False)
    >>> model.set_params(tol=1e-10).fit(X, Y).coef_.round(3)  # = y / 1.3 here
    array([[0.769, 0.   , 1.538],
           [1.538, 0.769, 0.   ]])
    """

    hyperparameters = ()
    defaults = {}
    separable = False
    code = None
    convex = True
    has_gap = False
    n_parts = 1
    part_names = ("coef",)
    lam = 0.0
    mu = 0.0
    smooth_lipschitz = 0.0

    def __init__(self, alpha):
        self.alpha = float(alpha)
        self.lam = self.alpha

    @classmethod
    def resolve(cls, params):
        """This penalty's hyperparameters from ``params`` (None -> default)."""
        out = {}
        for name in cls.hyperparameters:
            value = params.get(name) if params else None
            out[name] = cls.defaults.get(name) if value is None else value
        return out

    @classmethod
    def from_params(cls, alpha, n_tasks, params):
        """Build the penalty at ``alpha`` from an estimator's parameters."""
        return cls(alpha, **cls.resolve(params))

    @classmethod
    def alpha_max(cls, G0, params=None):
        """Smallest ``alpha`` with ``W = 0`` optimal (``inf``: none)."""
        return np.inf

    @classmethod
    def complete_params(cls, X, op, datafit, fit_intercept, params):
        """``params`` completed from the data before :meth:`alpha_max` (e.g.
        a task structure learned from ``X``). Default: unchanged."""
        return params

    #: the penalty defines :meth:`alpha_scale` (a grid top without a finite
    #: ``alpha_max``); checked first because the datafit's Lipschitz
    #: constant it needs costs a few products with ``X``
    has_alpha_scale = False

    @classmethod
    def alpha_scale(cls, G0, lipschitz, params=None):
        """Top of an automatic ``alpha`` grid for a penalty that is never
        zero-optimal (``alpha_max`` is ``inf``), given the datafit's
        Lipschitz constant. Default: ``inf`` (no automatic grid)."""
        return np.inf

    # objective pieces ---------------------------------------------------
    def smooth_value(self, W):
        return 0.0

    def smooth_grad(self, W):
        return None

    def ridge_form(self):
        """``(ridge, coupling, L)`` when the whole penalty is the quadratic
        ``ridge / 2 ||W||_F^2 + coupling / 2 tr(W^T L W)`` (``L`` a task-graph
        Laplacian): then a squared-loss fit is one linear solve, that of
        ``MultiTaskRidge`` (``solver="exact"``). None (the default)
        otherwise."""
        return None

    def smooth_bregman(self, W_new, W):
        """``s(W_new) - s(W) - <grad s(W), W_new - W>`` for the smooth part
        ``s`` (the curvature along a step; 0 without a smooth part).
        Penalties with a quadratic smooth part override it with the exact,
        cancellation-free form."""
        g = self.smooth_grad(W)
        if g is None:
            return 0.0
        return (
            self.smooth_value(W_new) - self.smooth_value(W)
            - float(np.sum(g * (W_new - W)))
        )  # fmt: skip

    def value(self, W):
        return self.smooth_value(W) + self.nonsmooth_value(W)

    def nonsmooth_value(self, W):
        raise NotImplementedError

    def prox(self, W, step):
        raise NotImplementedError

    #: ``prox_cols`` is available: the penalty is a sum of terms each on one
    #: column ``W[:, j]`` (plus, possibly, a smooth part acting within
    #: columns), so a per-feature change of variables keeps its form and the
    #: solvers can precondition badly scaled features exactly.
    column_scalable = False

    def prox_cols(self, W, steps):
        """Prox with one step per feature (``steps`` of shape ``(p,)``): the
        prox in the diagonal metric ``diag(1 / steps)``. Only where
        ``column_scalable``."""
        raise NotImplementedError

    # certificates ---------------------------------------------------------
    def dual_norm(self, V):
        """Dual norm of ``N`` in ``lam * N + mu/2 ||.||^2`` (gap penalties)."""
        return None

    def dual_norm_lower(self, V):
        """A cheap lower bound of :meth:`dual_norm` (None: none). A solver
        may skip a gap check that this bound already proves too large (see
        ``GramSmooth.gap_lower``)."""
        return None

    def dual_norm_at_most(self, V, bound):
        """Whether ``dual_norm(V) <= bound`` is certified by a test cheaper
        than the norm (False: not certified, the norm decides)."""
        return False

    def conjugate_value(self, V):
        """``h*(V)`` for ``h = lam N + mu/2 ||.||^2`` when ``mu > 0``."""
        raise NotImplementedError

    def fenchel_young(self, Z, U):
        """``h(Z) + h*(U) - <W, U>`` (``W = combine(Z)``), the penalty's part
        of the duality gap: ``>= 0``, zero when ``U`` is a subgradient at
        ``Z``. ``U`` is in the dual ball (``dual_norm(U) <= lam``) when ``mu
        = 0``. This default subtracts whole sums; penalties with row
        structure override it with a sum of per-row terms each computed
        ``>= 0``, so that the gap keeps its digits near the optimum."""
        conj = self.conjugate_value(U) if self.mu > 0 else 0.0
        return self.value(Z) + conj - float(np.sum(self.combine(Z) * U))

    #: ``quadratic_gap(rr, W, V) -> (gap, primal)``: a penalty may compute
    #: :func:`skmtl._solvers.bcd.quadratic_gap` (the same terms) in one pass
    quadratic_gap = None

    def kkt_violation(self, W, G):
        """Per-feature distance of ``-G[:, j]`` to the subdifferential."""
        raise NotImplementedError

    # learned structure --------------------------------------------------------
    #: names of the fitted attributes :meth:`fitted_attributes` returns
    fitted_attribute_names = ()

    def setup(self, X, op, datafit, fit_intercept):
        """Called once before solving on a problem (e.g. to learn a task
        structure from the data). Default: nothing."""

    def fitted_attributes(self, Z):
        """``{name: value}`` stored on the estimator after a fit at ``Z``
        (e.g. learned task clusters). Default: none."""
        return {}

    # composite models -------------------------------------------------------
    def combine(self, Z):
        """Model coefficients from the solver variable (sum of the parts)."""
        if self.n_parts == 1:
            return Z
        T = Z.shape[0] // self.n_parts
        return Z.reshape(self.n_parts, T, -1).sum(axis=0)

    def split(self, Z):
        """``{part name: (n_tasks, n_features)}`` of the solver variable."""
        T = Z.shape[0] // self.n_parts
        return {n: Z[k * T : (k + 1) * T] for k, n in enumerate(self.part_names)}


class RowPenalty(Penalty):
    """A feature-separable penalty with numba row kernels (``code``).

    The built-in row penalties (l1, l21, elastic net, sparse group, MCP,
    SCAD, capped l1, tree) subclass it: their prox and optimality measure
    run the same numba row kernels as block coordinate descent.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.penalties import PENALTIES, RowPenalty
    >>> l21 = PENALTIES["l21"](alpha=1.0)
    >>> isinstance(l21, RowPenalty)
    True
    >>> l21.prox(np.array([[3.0, 0.5], [4.0, 0.0]]), step=1.0)  # group shrink
    array([[2.4, 0. ],
           [3.2, 0. ]])
    """

    separable = True
    column_scalable = True

    def prox_cols(self, W, steps):
        return prox_rows(self.code, self.params, np.ascontiguousarray(W), steps)

    @property
    def params(self):
        raise NotImplementedError

    def prox(self, W, step):
        return prox_rows(self.code, self.params, np.ascontiguousarray(W), step)

    def kkt_violation(self, W, G):
        W = np.ascontiguousarray(W, dtype=np.float64)
        G = np.ascontiguousarray(G, dtype=np.float64)
        return row_violations(self.code, self.params, W, G)
