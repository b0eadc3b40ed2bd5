"""Per-task standardisation of regression targets (NaN = missing label)."""

import numpy as np


def target_standardization(targets, sample_weight):
    """Per-task mean and standard deviation over each task's labelled rows.

    Parameters
    ----------
    targets : ndarray of shape (n_samples, n_tasks)
        Targets, NaN where a task has no label.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative row weights (the statistics are weighted).

    Returns
    -------
    mean, scale : ndarray of shape (n_tasks,)
        ``scale`` is the (weighted, population) standard deviation; it is 1
        where it is zero or undefined (constant task, a single label, or no
        label with positive weight), and ``mean`` is 0 for a task without
        such a label.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural_network._targets import target_standardization
    >>> Y = np.array([[1.0, 10.0], [3.0, np.nan], [np.nan, 10.0]])
    >>> target_standardization(Y, np.ones(3))
    (array([ 2., 10.]), array([1., 1.]))
    """
    mask = ~np.isnan(targets)
    W = mask * np.asarray(sample_weight, dtype=np.float64)[:, None]
    den = W.sum(axis=0)
    ok = den > 0
    safe = np.where(ok, den, 1.0)
    Yz = np.where(mask, targets, 0.0)
    mean = np.where(ok, (W * Yz).sum(axis=0) / safe, 0.0)
    var = (W * (Yz - mean) ** 2).sum(axis=0) / safe
    scale = np.sqrt(var)
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)
    scale = np.where(ok & np.isfinite(scale) & (scale > tiny), scale, 1.0)
    return mean, scale
