"""Mini-batch objective: masked per-task losses, weighting, L2 and gradient.

For a batch ``B`` the data term is ``sum_t w_t L_t`` with

    L_t = sum_{i in B labelled for t} s_i loss(y_it, f_t(x_i)) / sum_{same i} s_i

(each task's weighted mean over its labelled rows in the batch; 0 if it has
none), and the penalty is ``alpha / (2 |B|) * sum of squared weights`` (biases
excluded), scikit-learn's MLP convention, so ``alpha`` means the same as there,
plus, for soft parameter sharing, ``sharing_strength / (2 |B|)`` times the
squared distance of each task column's layer parameters to their mean.
"""

import numpy as np

from ._network import SharedTrunkNetwork  # noqa: F401  (documentation)


def squared_loss(out, target, C, w):
    """Half squared error; returns per-task mean losses and ``dLoss/dout``."""
    D = out[:, :, 0] - target
    task_losses = 0.5 * np.einsum("nt,nt,nt->t", C, D, D)
    D *= C
    D *= w
    return task_losses.astype(np.float64), D[:, :, None]


def softmax_cross_entropy(out, target, C, w):
    """Softmax cross-entropy per task; ``target`` holds integer class codes."""
    n, T, K = out.shape
    Z = out - out.max(axis=2, keepdims=True)
    P = np.exp(Z)
    S = P.sum(axis=2, keepdims=True)
    P /= S
    rows = np.arange(n)[:, None]
    tasks = np.arange(T)[None, :]
    logp = Z[rows, tasks, target] - np.log(S[:, :, 0])
    task_losses = -np.einsum("nt,nt->t", C, logp)
    P[rows, tasks, target] -= 1.0
    P *= (C * w)[:, :, None]
    return task_losses.astype(np.float64), P


LOSSES = {"squared": squared_loss, "softmax": softmax_cross_entropy}


def _loss_fn(loss):
    """A loss by name, or a callable with the same interface."""
    return LOSSES[loss] if isinstance(loss, str) else loss


def batch_coefficients(Mw):
    """Per-task mean coefficients ``C`` from masked sample weights ``Mw``."""
    S = Mw.sum(axis=0)
    present = S > 0
    C = Mw / np.where(present, S, 1.0)
    return C, present, S


def loss_and_gradient(
    net,
    flat,
    X,
    target,
    C,
    present,
    *,
    loss,
    alpha,
    weighting,
    sharing_strength=0.0,
    grad=None,
    dropout=0.0,
    rng=None,
    lr=None,
):
    """Objective value and gradient on one batch.

    Parameters
    ----------
    net : SharedTrunkNetwork
    flat : ndarray
        Parameters (network then weighting extras).
    X : {ndarray, sparse matrix} of shape (batch, n_features)
    target : ndarray of shape (batch, n_tasks)
        Targets (regression, 0 where missing) or class codes (int).
    C : ndarray of shape (batch, n_tasks)
        Per-task mean coefficients, 0 where a label is missing.
    present : ndarray of bool, shape (n_tasks,)
        Tasks with at least one label in the batch.
    loss : {"squared", "softmax"}
    alpha : float
    sharing_strength : float
        Strength of the soft-sharing coupling (only networks with coupled
        columns use it), ``sharing_strength / (2 |B|)`` like ``alpha``.
    weighting : a strategy from :mod:`._weighting`
    grad : ndarray, optional
        Output buffer.
    dropout, rng : dropout rate and random state (training only).
    lr : float, optional
        Given for training steps only: then strategies that learn outside
        the gradient see the batch's task losses before the weights are
        taken (minimax, random weights), and GradNorm takes its step with
        this learning rate.

    Returns
    -------
    value : float
    task_losses : ndarray of shape (n_tasks,)
        Per-task mean losses ``L_t`` (unweighted).
    grad : ndarray
    """
    if grad is None:
        grad = np.empty_like(flat)
    extra = flat[net.n_net_params :]
    gextra = grad[net.n_net_params :]
    out, cache = net.forward(flat, X, dropout=dropout, rng=rng)
    if net.output_mask is not None:
        out = out + net.output_mask
    ones = np.ones(net.n_tasks, dtype=flat.dtype)
    task_losses, dOut = _loss_fn(loss)(out, target, C, ones)
    if lr is not None:  # a training step: stateful strategies observe it
        weighting.observe(task_losses, present)
    w = weighting.loss_weights(extra, task_losses)
    dOut *= w.astype(flat.dtype)[None, :, None]
    value = float(w @ task_losses)
    needs = weighting.needs
    if needs is None:
        net.backward(flat, grad, cache, dOut)
    elif needs == "task_trunk_grads":
        if getattr(weighting, "on_representation", False) and hasattr(
            net, "task_representation_grads"
        ):
            # combine the gradients at the shared representation (MGDA-UB)
            Z = net.task_representation_grads(flat, grad, cache, dOut)
            Zf = Z.reshape(Z.shape[0], -1).astype(np.float64)
            coef = weighting.combination(Zf @ Zf.T).astype(flat.dtype)
            net.backward_trunk_from(flat, grad, cache, np.tensordot(coef, Z, 1))
        else:
            G = net.task_shared_grads(flat, grad, cache, dOut)
            grad[: net.n_shared] = weighting.combine(G)
    else:
        norms = net.backward_with_norms(flat, grad, cache, dOut)
        if lr is not None:
            weighting.after_step(task_losses, present, norms, lr)
    gextra[...] = 0.0
    value += weighting.extra_loss_grad(extra, task_losses, present, gextra)
    n = X.shape[0]
    if alpha:
        value += 0.5 * alpha / n * net.l2_penalty(flat)
        net.add_l2_grad(flat, grad, alpha / n)
    if sharing_strength:
        value += net.coupling_penalty(flat, grad, sharing_strength / n)
    return value, task_losses, grad


def batch_task_losses(net, flat, X, target, C, *, loss):
    """Per-task mean losses of a batch (forward pass only, no dropout)."""
    out, _ = net.forward(flat, X)
    if net.output_mask is not None:
        out = out + net.output_mask
    ones = np.ones(net.n_tasks, dtype=flat.dtype)
    return _loss_fn(loss)(out, target, C, ones)[0]
