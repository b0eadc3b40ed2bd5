"""Image of a coefficient matrix: features x tasks."""

import numpy as np

from ..inspection._coef import get_coef
from ._base import estimator_task_names, get_ax, task_labels

__all__ = ["CoefPatternDisplay", "plot_coef_pattern"]


class CoefPatternDisplay:
    """Features x tasks image of a ``(n_tasks, n_features)`` coefficient matrix.

    Shared sparsity (``l21``) shows as whole rows on or off; independent
    sparsity (``l1``) as scattered cells; low rank as repeated column
    patterns.

    Parameters
    ----------
    coef : array-like of shape (n_tasks, n_features)
    feature_names : sequence of str, default=None
    task_names : sequence of str, default=None

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The image, of shape ``(n_features_shown, n_tasks)``.
    features_ : ndarray of int
        Indices of the features drawn (all, or the nonzero ones).
    colorbar_ : matplotlib Colorbar or None
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.plotting import CoefPatternDisplay
    >>> coef = np.array([[1.0, 0.0, 2.0], [0.5, 0.0, -1.0]])
    >>> disp = CoefPatternDisplay(coef).plot(only_nonzero=True)
    >>> disp.features_, disp.im_.get_array().shape
    (array([0, 2]), (2, 2))
    """

    def __init__(self, coef, *, feature_names=None, task_names=None):
        self.coef = get_coef(coef, name="coef")
        T, p = self.coef.shape
        self.task_names = task_labels(task_names, T)
        if feature_names is None:
            feature_names = [f"x{j}" for j in range(p)]
        self.feature_names = [str(f) for f in feature_names]
        if len(self.feature_names) != p:
            raise ValueError(
                f"feature_names has {len(self.feature_names)} names for {p} features."
            )

    def plot(
        self,
        ax=None,
        *,
        only_nonzero=False,
        tol=0.0,
        cmap="RdBu_r",
        colorbar=True,
        max_feature_labels=40,
        title="Coefficients",
    ):
        """Draw the image.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        only_nonzero : bool, default=False
            Draw only features whose column norm across tasks is ``> tol``.
        tol : float, default=0.0
        cmap : str, default="RdBu_r"
            Diverging colormap, symmetric around 0.
        colorbar : bool, default=True
        max_feature_labels : int, default=40
            Feature tick labels are written when at most this many features
            are drawn.
        title : str or None

        Returns
        -------
        self : CoefPatternDisplay
        """
        fig, ax = get_ax(ax)
        C = self.coef
        feats = np.arange(C.shape[1])
        if only_nonzero:
            feats = np.flatnonzero(np.linalg.norm(C, axis=0) > tol)
        img = C[:, feats].T
        vmax = float(np.max(np.abs(img))) if img.size else 1.0
        vmax = vmax if vmax > 0 else 1.0
        im = ax.imshow(
            img, aspect="auto", cmap=cmap, vmin=-vmax, vmax=vmax,
            interpolation="nearest",
        )  # fmt: skip
        T = C.shape[0]
        ax.set_xticks(np.arange(T), labels=self.task_names, rotation=90)
        if len(feats) <= max_feature_labels:
            ax.set_yticks(
                np.arange(len(feats)), labels=[self.feature_names[j] for j in feats]
            )
        ax.set_xlabel("task")
        ax.set_ylabel("feature")
        if title:
            ax.set_title(title)
        self.colorbar_ = fig.colorbar(im, ax=ax) if colorbar else None
        self.features_ = feats
        self.im_, self.ax_, self.figure_ = im, ax, fig
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, **kwargs):
        """Draw a fitted linear model's ``coef_`` (names from the estimator).

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skmtl import MultiTaskLasso
        >>> from skmtl.plotting import CoefPatternDisplay
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(40, 6))
        >>> Y = X[:, :2] @ rng.normal(size=(2, 3))
        >>> model = MultiTaskLasso(alpha=0.1).fit(X, Y)
        >>> disp = CoefPatternDisplay.from_estimator(model, only_nonzero=True)
        >>> disp.features_
        array([0, 1])
        """
        coef = get_coef(estimator, name="estimator")
        names = getattr(estimator, "feature_names_in_", None)
        disp = cls(
            coef,
            feature_names=names,
            task_names=estimator_task_names(estimator, coef.shape[0]),
        )
        return disp.plot(ax=ax, **kwargs)


def plot_coef_pattern(estimator_or_coef, *, ax=None, **kwargs):
    """Features x tasks image of the coefficients.

    Shortcut for :meth:`CoefPatternDisplay.from_estimator`.

    Parameters
    ----------
    estimator_or_coef : fitted linear estimator or array-like of shape \
(n_tasks, n_features)
    ax : matplotlib Axes, default=None
    **kwargs
        Passed to :meth:`CoefPatternDisplay.plot` (``only_nonzero``,
        ``tol``, ``cmap``, ...).

    Returns
    -------
    display : CoefPatternDisplay

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.plotting import plot_coef_pattern
    >>> disp = plot_coef_pattern(np.array([[1.0, 0.0], [2.0, 0.0]]))
    >>> disp.ax_.get_xlabel(), disp.ax_.get_ylabel()
    ('task', 'feature')
    """
    return CoefPatternDisplay.from_estimator(estimator_or_coef, ax=ax, **kwargs)
