"""Optimizers (Adam, SGD with momentum) and learning-rate schedules.

Optimizers update one flat parameter vector in place, with preallocated
buffers, so a step costs a few vector operations whatever the architecture.
"""

import numpy as np

SCHEDULES = ("constant", "invscaling", "adaptive", "cosine")


class Adam:
    """Adam (Kingma & Ba 2015) with scikit-learn's bias-corrected step."""

    def __init__(self, size, dtype, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.t = 0
        self.m = np.zeros(size, dtype=dtype)
        self.v = np.zeros(size, dtype=dtype)
        self._buf = np.empty(size, dtype=dtype)

    def update(self, params, grad, lr, prefix_scale=None):
        """One step; ``prefix_scale=(k, s)`` multiplies the step of
        ``params[:k]`` by ``s`` (0 freezes them)."""
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        m, v, buf = self.m, self.v, self._buf
        m *= b1
        m += (1 - b1) * grad
        np.multiply(grad, grad, out=buf)
        buf *= 1 - b2
        v *= b2
        v += buf
        step = lr * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        np.sqrt(v, out=buf)
        buf += self.epsilon
        np.divide(m, buf, out=buf)
        buf *= step
        if prefix_scale is not None:
            buf[: prefix_scale[0]] *= prefix_scale[1]
        params -= buf


class SGD:
    """Stochastic gradient descent with (Nesterov) momentum."""

    def __init__(self, size, dtype, momentum=0.9, nesterov=True):
        self.momentum, self.nesterov = momentum, nesterov
        self.velocity = np.zeros(size, dtype=dtype)

    def update(self, params, grad, lr, prefix_scale=None):
        """One step; ``prefix_scale=(k, s)`` scales the rate of ``params[:k]``."""
        if prefix_scale is not None:
            grad = grad.copy()
            grad[: prefix_scale[0]] *= prefix_scale[1]
        vel = self.velocity
        vel *= self.momentum
        vel -= lr * grad
        if self.nesterov:
            params += self.momentum * vel
            params -= lr * grad
        else:
            params += vel


def scheduled_learning_rate(schedule, lr_init, lr_current, epoch, max_iter, power_t):
    """Learning rate for epoch ``epoch`` (0-based) under ``schedule``.

    ``"adaptive"`` returns ``lr_current``: it is divided by 5 by the training
    loop when the loss stops improving (as in scikit-learn's MLP).

    Examples
    --------
    >>> from skmtl.neural_network._optim import scheduled_learning_rate
    >>> round(scheduled_learning_rate("cosine", 0.1, 0.1, 5, 10, 0.5), 6)
    0.05
    """
    if schedule == "constant":
        return lr_init
    if schedule == "invscaling":
        return lr_init / (epoch + 1) ** power_t
    if schedule == "cosine":
        frac = min(epoch, max_iter) / max(max_iter, 1)
        return float(lr_init * 0.5 * (1.0 + np.cos(np.pi * frac)))
    return lr_current
