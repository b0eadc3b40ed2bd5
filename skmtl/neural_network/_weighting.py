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
"""

import numpy as np

from ._optim import Adam

STRATEGIES = ("equal", "uncertainty", "dwa", "gradnorm", "pcgrad")

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

    def loss_weights(self, extra):
        return self.base

    def extra_loss_grad(self, extra, task_losses, present, gextra):
        return 0.0

    def after_step(self, task_losses, present, norms, lr):
        pass

    def end_epoch(self, epoch_task_losses):
        pass

    def current(self, extra):
        return self.loss_weights(extra).copy()


class UncertaintyWeighting(EqualWeighting):
    """Homoscedastic uncertainty weighting with learned log-variances."""

    def __init__(self, base, rng=None):
        super().__init__(base, rng)
        self.n_extra = self.n_tasks

    def loss_weights(self, extra):
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

    def loss_weights(self, extra):
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

    def loss_weights(self, extra):
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


_CLASSES = {
    "equal": EqualWeighting,
    "uncertainty": UncertaintyWeighting,
    "dwa": DWAWeighting,
    "gradnorm": GradNormWeighting,
    "pcgrad": PCGradWeighting,
}


def make_weighting(name, base, rng):
    """Instantiate the strategy ``name`` with fixed weights ``base``."""
    return _CLASSES[name](base, rng)
