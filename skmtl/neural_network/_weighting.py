"""Task-weighting strategies for the multi-task network.

Each strategy turns the per-task mean losses ``L_t`` of a mini-batch into the
training signal. ``base`` are the fixed ``task_weights`` (default all 1); every
strategy multiplies its own weights by them.

- ``"equal"``: loss ``sum_t base_t L_t``.
- ``"uncertainty"`` (Kendall, Gal & Cipolla 2018): learned log-variances
  ``s_t`` (extra parameters, same optimizer, no L2), loss
  ``sum_t base_t exp(-s_t) L_t + s_t / 2``; with ``L_t`` = half mean squared
  error this is the Gaussian negative log-likelihood with variance
  ``exp(s_t)``. A task absent from a mini-batch contributes nothing (not even
  ``s_t / 2``). Reported weight: ``base_t exp(-s_t)``.
- ``"dwa"`` (dynamic weight average, Liu, Johns & Davison 2019): for epoch
  ``e >= 2``, ``w_t = T softmax_t(r_t / 2)`` with ``r_t = L_t(e-1) / L_t(e-2)``
  the ratio of the task's mean training losses in the previous two epochs
  (temperature 2); ``w_t = 1`` for the first two epochs.
- ``"gradnorm"`` (Chen et al. 2018): learned weights ``w_t`` (sum ``T``)
  updated after every step by Adam on
  ``sum_t |w_t ||g_t|| - mean(G) r_t^1.5|`` where ``g_t`` is the gradient of
  ``base_t L_t`` w.r.t. the last trunk weight matrix and ``r_t`` the relative
  inverse training rate ``(L_t / L_t(0)) / mean(L / L(0))`` (asymmetry 1.5,
  the target treated as a constant, as in the paper).
- ``"pcgrad"`` (Yu et al. 2020): per-task gradients of ``base_t L_t`` on the
  shared trunk are projected, in random order, onto the normal plane of every
  other task's gradient they conflict with (negative inner product), then
  summed. Head gradients and the L2 term are unchanged. Reported weight:
  ``base_t``.

Per-step strategies (reported weight: the mean over the epoch's steps of
the weights in effect; convergence judged on ``sum_t base_t L_t``, for
"minimax" on ``max_t base_t L_t``). With ``g_t`` the gradient of
``base_t L_t`` on the shared parameters (trunk, or the body of a column
architecture), the three gradient-combining ones replace the shared gradient
by ``sum_t k_t g_t`` and leave each head its own gradient:

- ``"mgda"`` (MGDA-UB, Sener & Koltun, NeurIPS 2018): ``k = T a`` with
  ``a`` the minimum-norm point ``argmin_{a in simplex} ||sum_t a_t z_t||^2``
  (Frank-Wolfe), where ``z_t`` is task ``t``'s gradient with respect to
  the shared representation (the trunk output; the paper's upper bound,
  one trunk backward pass); the trunk then backpropagates ``sum_t k_t
  z_t``. Where there is no single shared representation (soft,
  cross-stitch, MMoE, heads at different depths) ``z_t`` is the gradient on
  the shared parameters ``g_t`` (plain MGDA).
- ``"cagrad"`` (conflict-averse gradient descent, Liu et al., NeurIPS 2021),
  ``c = 0.5``: ``d = T (g_0 + c ||g_0|| g_w / ||g_w||) / (1 + c^2)`` with
  ``g_0`` the mean gradient and ``w = argmin_{w in simplex} g_w . g_0 + c
  ||g_0|| ||g_w||`` (SLSQP, as in the reference code).
- ``"imtl"`` (IMTL-G, Liu et al., ICLR 2021): ``k = T a``, ``sum_t a_t = 1``,
  such that ``sum_t a_t z_t`` has the same projection on every unit task
  gradient ``z_t / ||z_t||`` (closed form), with ``z_t`` as for "mgda" (the
  representation gradients, as in the paper, when there is one). IMTL's
  loss-scale part (IMTL-L) is not included: the regressor's target
  standardisation plays that role.

The three loss-weighting ones:

- ``"rlw"`` (random loss weighting, Lin et al., TMLR 2022): every step
  ``w = T softmax(z)``, ``z ~ N(0, I)``.
- ``"famo"`` (fast adaptive multitask optimisation, Liu et al., NeurIPS
  2023): logits ``xi`` (start 0), ``z = softmax(xi)``; the step follows
  ``(T / c) grad sum_t z_t log L_t`` with ``c = sum_t z_t / L_t``, i.e.
  weights ``w_t = T (z_t / L_t) / c``; after the parameter update, with
  ``delta_t`` the decrease of ``log L_t`` on the same batch, ``xi`` takes an
  Adam step (learning rate 0.025) along ``J_softmax(xi)^T delta + 0.01 xi``.
- ``"minimax"`` (group DRO, Sagawa et al., ICLR 2020): the worst task's
  loss ``max_t base_t L_t`` by exponentiated-gradient ascent on task
  weights ``q`` in the simplex: every step ``q_t <- q_t exp(eta base_t
  L_t)`` (``eta = 0.02``, tasks absent from the batch unchanged), then
  normalise; the loss is ``sum_t T q_t base_t L_t``.
"""

import numpy as np

from ._optim import Adam

STRATEGIES = (
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
)

GRADNORM_ALPHA = 1.5
DWA_TEMPERATURE = 2.0


class EqualWeighting:
    """Fixed weights ``base``."""

    needs = None  # None | "task_trunk_grads" | "last_layer_norms"
    n_extra = 0

    def __init__(self, base, rng=None):
        self.base = np.asarray(base, dtype=np.float64)
        self.n_tasks = self.base.shape[0]
        self.rng = rng

    def init_extra(self, extra):
        pass

    needs_post_losses = False  # True: after_update gets the post-step losses

    def loss_weights(self, extra, task_losses=None):
        """Multipliers of the per-task losses in the current step."""
        return self.base

    def observe(self, task_losses, present):
        """A training step's per-task losses, before its weights are taken."""

    def extra_loss_grad(self, extra, task_losses, present, gextra):
        return 0.0

    def after_step(self, task_losses, present, norms, lr):
        pass

    def after_update(self, new_task_losses, present):
        """Losses of the same batch after the parameter update (FAMO)."""

    def end_epoch(self, epoch_task_losses):
        pass

    def report_shift(self, task_losses):
        """Reported batch objective minus the one optimised (0 by default)."""
        return 0.0

    def monitor(self, epoch_loss, epoch_task_losses):
        """Value whose stagnation stops training (``tol``, ``best_loss_``)."""
        return epoch_loss

    def current(self, extra):
        return self.loss_weights(extra).copy()


class UncertaintyWeighting(EqualWeighting):
    """Homoscedastic uncertainty weighting with learned log-variances."""

    def __init__(self, base, rng=None):
        super().__init__(base, rng)
        self.n_extra = self.n_tasks

    def loss_weights(self, extra, task_losses=None):
        return self.base * np.exp(-np.asarray(extra, dtype=np.float64))

    def extra_loss_grad(self, extra, task_losses, present, gextra):
        w = self.loss_weights(extra)
        gextra[...] = np.where(present, 0.5 - w * task_losses, 0.0)
        return 0.5 * float(np.sum(np.asarray(extra, dtype=np.float64)[present]))


class DWAWeighting(EqualWeighting):
    """Dynamic weight average over the last two epochs' task losses."""

    def __init__(self, base, rng=None):
        super().__init__(base, rng)
        self.history = []
        self.w = np.ones(self.n_tasks)

    def loss_weights(self, extra, task_losses=None):
        return self.base * self.w

    def end_epoch(self, epoch_task_losses):
        self.history.append(np.asarray(epoch_task_losses, dtype=np.float64))
        self.history = self.history[-2:]
        if len(self.history) == 2:
            prev, prev2 = self.history[1], self.history[0]
            r = np.divide(prev, prev2, out=np.ones_like(prev), where=prev2 > 0)
            z = r / DWA_TEMPERATURE
            z = np.exp(z - z.max())
            self.w = self.n_tasks * z / z.sum()


def gradnorm_objective(weights, norms, targets):
    """GradNorm's auxiliary loss and its gradient in the task weights.

    ``norms[t]`` is ``||grad of base_t L_t||`` (weight 1); the weighted norm
    is ``weights[t] * norms[t]``; ``targets`` are held constant.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural_network._weighting import gradnorm_objective
    >>> gradnorm_objective(np.array([1.0, 1.0]), np.array([2.0, 1.0]),
    ...                    np.array([1.5, 1.5]))
    (1.0, array([ 2., -1.]))
    """
    diff = weights * norms - targets
    return float(np.abs(diff).sum()), np.sign(diff) * norms


class GradNormWeighting(EqualWeighting):
    """GradNorm: weights learned to balance gradient norms on the trunk."""

    needs = "last_layer_norms"

    def __init__(self, base, rng=None):
        super().__init__(base, rng)
        self.w = np.ones(self.n_tasks)
        self.initial_losses = np.full(self.n_tasks, np.nan)
        self.opt = Adam(self.n_tasks, np.float64)

    def loss_weights(self, extra, task_losses=None):
        return self.base * self.w

    def after_step(self, task_losses, present, norms, lr):
        T = self.n_tasks
        ok = present & (norms > 0) & (task_losses > 0)
        if not ok.any():
            return
        first = ok & np.isnan(self.initial_losses)
        self.initial_losses[first] = task_losses[first]
        ratio = np.ones(T)
        ratio[ok] = task_losses[ok] / self.initial_losses[ok]
        rel = ratio / ratio[ok].mean()
        unweighted = np.zeros(T)
        unweighted[ok] = norms[ok] / self.w[ok]
        targets = norms[ok].mean() * rel**GRADNORM_ALPHA
        _, g = gradnorm_objective(self.w, unweighted, targets)
        g[~ok] = 0.0
        self.opt.update(self.w, g, lr)
        np.maximum(self.w, 1e-3, out=self.w)
        self.w *= T / self.w.sum()


def pcgrad_combine(G, order_rng):
    """PCGrad: project conflicting per-task gradients, then sum.

    Parameters
    ----------
    G : ndarray of shape (n_tasks, n_params)
        Per-task gradients on the shared parameters.
    order_rng : numpy RandomState
        Random order of the projections (one permutation per task).

    Returns
    -------
    g : ndarray of shape (n_params,)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural_network._weighting import pcgrad_combine
    >>> G = np.array([[1.0, 0.0], [-1.0, 1.0]])
    >>> pcgrad_combine(G, np.random.RandomState(0))
    array([0.5, 1.5])
    """
    T = G.shape[0]
    gram = G @ G.T
    diag = np.diag(gram)
    coef_sum = np.zeros(T)
    for i in range(T):
        if diag[i] == 0:
            continue
        c = np.zeros(T)
        c[i] = 1.0
        for j in order_rng.permutation(T):
            if j == i or diag[j] == 0:
                continue
            d = c @ gram[:, j]
            if d < 0:
                c[j] -= d / diag[j]
        coef_sum += c
    return coef_sum.astype(G.dtype) @ G


class PCGradWeighting(EqualWeighting):
    """Gradient surgery on the trunk parameters."""

    needs = "task_trunk_grads"

    def combine(self, G):
        return pcgrad_combine(G, self.rng)


class _StepAverage:
    """Mixin for per-step weights: report their mean over an epoch's steps.

    The reported objective is the fixed-weight sum ``sum_t base_t L_t``,
    comparable from step to step (the weights themselves move).
    """

    def report_shift(self, task_losses):
        w = self.loss_weights(None, task_losses)
        return float((self.base - w) @ task_losses)

    def _record(self, w):
        acc = self.__dict__.setdefault("_acc", [np.zeros(self.n_tasks), 0])
        acc[0] = acc[0] + w
        acc[1] += 1

    def current(self, extra):
        acc = self.__dict__.get("_acc")
        if not acc or acc[1] == 0:
            return np.asarray(self.loss_weights(extra), dtype=np.float64).copy()
        return acc[0] / acc[1]

    def end_epoch(self, epoch_task_losses):
        self._acc = [np.zeros(self.n_tasks), 0]


def min_norm_coefficients(gram, max_iter=200, tol=1e-10):
    """Minimum-norm point of the convex hull of task gradients (MGDA).

    Solves ``min_{a in simplex} a^T gram a`` by Frank-Wolfe with exact line
    search (Sener & Koltun 2018, Algorithm 2), stopping on the Frank-Wolfe
    duality gap; every 20 iterations the equality-constrained problem on
    the current support is solved exactly and kept if it satisfies the
    optimality conditions.

    Parameters
    ----------
    gram : ndarray of shape (n_tasks, n_tasks)
        Gram matrix ``G G^T`` of the per-task gradients.

    Returns
    -------
    a : ndarray of shape (n_tasks,)
        Non-negative, sums to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural_network._weighting import min_norm_coefficients
    >>> G = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> min_norm_coefficients(G @ G.T).round(3)
    array([0.8, 0.2])
    """
    gram = np.asarray(gram, dtype=np.float64)
    T = gram.shape[0]
    a = np.full(T, 1.0 / T)
    scale = max(float(np.trace(gram)), np.finfo(float).tiny)
    for _ in range(max_iter):
        Ga = gram @ a
        aGa = float(a @ Ga)
        t = int(np.argmin(Ga))
        if aGa - Ga[t] <= tol * scale:  # duality gap
            return a
        denom = aGa - 2.0 * Ga[t] + gram[t, t]
        if denom <= 0:
            return a
        step = min(max((aGa - Ga[t]) / denom, 0.0), 1.0)
        a *= 1.0 - step
        a[t] += step
        if _ % 20 == 19:
            polished = _polish_min_norm(gram, a, tol * scale)
            if polished is not None:
                return polished
    return a


def _polish_min_norm(gram, a, gap_tol):
    """Exact minimiser on the support of ``a`` (KKT-checked), or None."""
    S = a > 1e-10
    for _ in range(gram.shape[0] + 1):
        idx = np.flatnonzero(S)
        Q = gram[np.ix_(idx, idx)]
        x = np.linalg.lstsq(Q, np.ones(idx.size), rcond=None)[0]
        if not np.all(np.isfinite(x)) or x.sum() <= 0:
            return None
        b = np.zeros_like(a)
        b[idx] = x / x.sum()
        if np.any(b[idx] < 0):
            S[idx[np.argmin(b[idx])]] = False
            continue
        Gb = gram @ b
        bGb = float(b @ Gb)
        if bGb - Gb.min() <= gap_tol:
            return b
        S[int(np.argmin(Gb))] = True
    return None


class _GramCombination(_StepAverage, EqualWeighting):
    """Shared gradient ``sum_t k_t g_t`` with ``k`` a function of the Gram.

    With ``on_representation`` the Gram is that of the per-task gradients
    with respect to the shared representation (the trunk output) when the
    network has one (hard sharing with every head on the last layer): the
    cheap "upper bound" variant of MGDA-UB, one trunk backward pass in all.
    """

    needs = "task_trunk_grads"
    on_representation = False

    def coefficients(self, gram):
        raise NotImplementedError

    def combination(self, gram):
        coef = self.coefficients(np.asarray(gram, dtype=np.float64))
        self._record(self.base * coef)
        return coef

    def combine(self, G):
        gram = G.astype(np.float64) @ G.T.astype(np.float64)
        return self.combination(gram).astype(G.dtype) @ G


class MGDAWeighting(_GramCombination):
    """MGDA-UB: minimum-norm convex combination of the task gradients."""

    on_representation = True

    def coefficients(self, gram):
        return self.n_tasks * min_norm_coefficients(gram)


def cagrad_coefficients(gram, c=0.5):
    """CAGrad's combination of the task gradients (Liu et al. 2021).

    With ``g_0`` the mean gradient and ``g_w = sum_t w_t g_t``, solves
    ``min_{w in simplex} g_w . g_0 + c ||g_0|| ||g_w||`` (SLSQP, as the
    reference implementation) and returns the coefficients ``k`` of
    ``d = sum_t k_t g_t = T (g_0 + c ||g_0|| g_w / ||g_w||) / (1 + c^2)``
    (the reference update, times ``T`` so that equal weighting is
    ``k = 1``).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural_network._weighting import cagrad_coefficients
    >>> cagrad_coefficients(np.eye(2)).round(3)  # (1 + c) / (1 + c^2)
    array([1.2, 1.2])
    """
    from scipy.optimize import minimize

    gram = np.asarray(gram, dtype=np.float64)
    T = gram.shape[0]
    b = np.full(T, 1.0 / T)
    g0_norm = np.sqrt(max(float(b @ gram @ b), 0.0))
    phi = c * g0_norm
    if g0_norm == 0.0:
        return np.ones(T)
    Gb = gram @ b

    def fun(x):
        Gx = gram @ x
        nx = np.sqrt(max(float(x @ Gx), 0.0) + 1e-12)
        return float(x @ Gb) + phi * nx, Gb + phi * Gx / nx

    res = minimize(
        fun,
        b,
        jac=True,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * T,
        constraints=({"type": "eq", "fun": lambda x: x.sum() - 1.0},),
    )
    w = np.clip(res.x, 0.0, None)
    w /= w.sum()
    gw_norm = np.sqrt(max(float(w @ gram @ w), 0.0))
    lam = phi / (gw_norm + 1e-12)
    return T * (b + lam * w) / (1.0 + c**2)


CAGRAD_C = 0.5


class CAGradWeighting(_GramCombination):
    """CAGrad: conflict-averse direction near the average gradient."""

    def coefficients(self, gram):
        return cagrad_coefficients(gram, CAGRAD_C)


def imtl_coefficients(gram):
    """IMTL-G: the combination with equal projections on every task direction.

    Finds ``a`` (summing to 1) such that ``g = sum_t a_t g_t`` has the same
    inner product with every unit task gradient ``u_t = g_t / ||g_t||``
    (Liu et al. 2021, closed form ``a_{2:T} = g_1 U^T (D U^T)^{-1}`` with
    ``D`` rows ``g_1 - g_t``, ``U`` rows ``u_1 - u_t``), and returns ``T a``.
    Falls back to equal weights when a gradient is zero or the system is
    singular.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural_network._weighting import imtl_coefficients
    >>> G = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> imtl_coefficients(G @ G.T).round(3)  # 1 * g_1 . u_1 == 0.5 * g_2 . u_2
    array([1.333, 0.667])
    """
    gram = np.asarray(gram, dtype=np.float64)
    T = gram.shape[0]
    norms = np.sqrt(np.clip(np.diag(gram), 0.0, None))
    if T == 1 or np.any(norms <= 1e-12 * max(norms.max(), 1e-300)):
        return np.ones(T)
    GU = gram / norms[None, :]  # GU[i, j] = g_i . u_j
    rhs = GU[0, 0] - GU[0, 1:]  # g_1 (u_1 - u_j)
    DU = GU[0, 0] - GU[0, 1:][None, :] - GU[1:, 0][:, None] + GU[1:, 1:]
    try:
        a_rest = np.linalg.solve(DU.T, rhs)
    except np.linalg.LinAlgError:
        return np.ones(T)
    a = np.r_[1.0 - a_rest.sum(), a_rest]
    if not np.all(np.isfinite(a)):
        return np.ones(T)
    return T * a


class IMTLWeighting(_GramCombination):
    """IMTL-G: impartial gradient combination on the shared part."""

    on_representation = True

    def coefficients(self, gram):
        return imtl_coefficients(gram)


class RandomWeighting(_StepAverage, EqualWeighting):
    """RLW: weights ``T softmax(z)``, ``z ~ N(0, I)`` drawn every step."""

    def __init__(self, base, rng=None):
        super().__init__(base, rng)
        self.w = np.ones(self.n_tasks)

    def observe(self, task_losses, present):
        z = self.rng.standard_normal(self.n_tasks)
        z = np.exp(z - z.max())
        self.w = self.n_tasks * z / z.sum()
        self._record(self.base * self.w)

    def loss_weights(self, extra, task_losses=None):
        return self.base * self.w


FAMO_LR = 0.025
FAMO_DECAY = 0.01
FAMO_EPS = 1e-8


class FAMOWeighting(_StepAverage, EqualWeighting):
    """FAMO: balance the rates at which the task losses decrease."""

    needs_post_losses = True

    def __init__(self, base, rng=None):
        super().__init__(base, rng)
        self.logits = np.zeros(self.n_tasks)
        self.opt = Adam(self.n_tasks, np.float64)
        self.prev = None

    def _z(self):
        z = np.exp(self.logits - self.logits.max())
        return z / z.sum()

    def loss_weights(self, extra, task_losses=None):
        T = self.n_tasks
        z = self._z()
        if task_losses is None:
            return self.base * T * z
        L = np.asarray(task_losses, dtype=np.float64)
        ok = L > 0
        if not ok.any():
            return self.base * T * z
        inv = np.where(ok, z / np.where(ok, L + FAMO_EPS, 1.0), 0.0)
        return self.base * T * inv / inv.sum()

    def observe(self, task_losses, present):
        self.prev = (np.asarray(task_losses, dtype=np.float64), present.copy())

    def after_update(self, new_task_losses, present):
        if self.prev is None:
            return
        old, was = self.prev
        self._record(self.loss_weights(None, old))
        ok = was & present & (old > 0) & (new_task_losses > 0)
        delta = np.zeros(self.n_tasks)
        delta[ok] = np.log(old[ok] + FAMO_EPS) - np.log(new_task_losses[ok] + FAMO_EPS)
        z = self._z()
        g = z * (delta - z @ delta) + FAMO_DECAY * self.logits
        self.opt.update(self.logits, g, FAMO_LR)
        self.prev = None


MINIMAX_STEP = 0.02


class MinimaxWeighting(_StepAverage, EqualWeighting):
    """Group-DRO exponentiated-gradient weights on the task losses."""

    def __init__(self, base, rng=None):
        super().__init__(base, rng)
        self.q = np.full(self.n_tasks, 1.0 / self.n_tasks)

    def observe(self, task_losses, present):
        L = np.where(present, self.base * task_losses, 0.0)
        logq = np.log(self.q) + MINIMAX_STEP * L
        q = np.exp(logq - logq.max())
        self.q = q / q.sum()
        self._record(self.loss_weights(None))

    def loss_weights(self, extra, task_losses=None):
        return self.base * self.n_tasks * self.q

    def monitor(self, epoch_loss, epoch_task_losses):
        return float(np.max(self.base * epoch_task_losses))


_CLASSES = {
    "equal": EqualWeighting,
    "uncertainty": UncertaintyWeighting,
    "dwa": DWAWeighting,
    "gradnorm": GradNormWeighting,
    "pcgrad": PCGradWeighting,
    "mgda": MGDAWeighting,
    "cagrad": CAGradWeighting,
    "imtl": IMTLWeighting,
    "rlw": RandomWeighting,
    "famo": FAMOWeighting,
    "minimax": MinimaxWeighting,
}


def make_weighting(name, base, rng):
    """Instantiate the strategy ``name`` with fixed weights ``base``."""
    return _CLASSES[name](base, rng)
