"""Regularization paths and cross-validation curves over ``alpha``."""

import numpy as np

from ._base import get_ax, task_labels

__all__ = [
    "CVPathDisplay",
    "RegularizationPathDisplay",
    "plot_cv_path",
    "plot_regularization_path",
]

_KINDS = ("features", "tasks", "coefs")


class RegularizationPathDisplay:
    """Coefficients along a regularization path, against ``alpha`` (log x).

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
    coefs : array-like of shape (n_alphas, n_tasks, n_features)
        E.g. ``regularization_path(...).coefs``.
    task_names, feature_names : sequence of str, default=None

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        One per feature (``kind="features"``/``"coefs"``, features that are
        nonzero somewhere on the path) or per task (``kind="tasks"``).
    features_ : ndarray of int or None
        Features drawn (None for ``kind="tasks"``).
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.plotting import RegularizationPathDisplay
    >>> alphas = np.array([1.0, 0.1, 0.01])
    >>> coefs = np.zeros((3, 2, 4))
    >>> coefs[1:, :, 0] = 1.0
    >>> coefs[2:, :, 3] = 0.5
    >>> disp = RegularizationPathDisplay(alphas, coefs).plot()
    >>> len(disp.lines_), disp.ax_.get_xscale()
    (2, 'log')
    """

    def __init__(self, alphas, coefs, *, task_names=None, feature_names=None):
        self.alphas = np.asarray(alphas, dtype=np.float64).ravel()
        self.coefs = np.asarray(coefs, dtype=np.float64)
        if self.coefs.ndim == 2:  # (n_alphas, n_features): one task
            self.coefs = self.coefs[:, None, :]
        if self.coefs.ndim != 3 or self.coefs.shape[0] != self.alphas.shape[0]:
            raise ValueError(
                "coefs must have shape (n_alphas, n_tasks, n_features) with "
                f"n_alphas={self.alphas.shape[0]}; got {self.coefs.shape}."
            )
        _, T, p = self.coefs.shape
        self.task_names = task_labels(task_names, T)
        if feature_names is None:
            feature_names = [f"x{j}" for j in range(p)]
        self.feature_names = [str(f) for f in feature_names]
        if len(self.feature_names) != p:
            raise ValueError(
                f"feature_names has {len(self.feature_names)} names for {p} features."
            )

    def plot(self, ax=None, *, kind="features", task=None, legend=None, title=None):
        """Draw the path.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        kind : {"features", "tasks", "coefs"}, default="features"
            ``"features"``: one line per feature, its norm across tasks
            ``||coefs[:, :, j]||_2`` (the ``l21`` row norms: shared
            selection); ``"tasks"``: one line per task, the norm of its
            coefficient vector; ``"coefs"``: the coefficients of one
            ``task``, one line per feature.
        task : int or str, default=None
            Task index or name, for ``kind="coefs"``.
        legend : bool, default=None
            Default: for ``"tasks"``, and for features when at most 10.
        title : str, default=None

        Returns
        -------
        self : RegularizationPathDisplay
        """
        if kind not in _KINDS:
            raise ValueError(f"Unknown kind {kind!r}; expected one of {_KINDS}.")
        fig, ax = get_ax(ax)
        C = self.coefs
        self.features_ = None
        if kind == "tasks":
            Y = np.linalg.norm(C, axis=2)  # (n_alphas, T)
            labels = self.task_names
            ylabel = "norm of task coefficients"
        else:
            if kind == "features":
                V = np.linalg.norm(C, axis=1)  # (n_alphas, p)
                ylabel = "feature norm across tasks"
            else:
                t = self._task_index(task)
                V = C[:, t, :]
                ylabel = f"coefficients of {self.task_names[t]}"
            feats = np.flatnonzero(np.any(V != 0, axis=0))
            Y = V[:, feats]
            labels = [self.feature_names[j] for j in feats]
            self.features_ = feats
        self.lines_ = []
        for k in range(Y.shape[1]):
            (line,) = ax.plot(self.alphas, Y[:, k], label=labels[k])
            self.lines_.append(line)
        ax.set_xscale("log")
        ax.set_xlabel("alpha")
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        if legend is None:
            legend = kind == "tasks" or len(self.lines_) <= 10
        if legend and self.lines_:
            ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, fig
        return self

    def _task_index(self, task):
        if task is None:
            raise ValueError("kind='coefs' needs task= (index or name).")
        if isinstance(task, str):
            if task not in self.task_names:
                raise ValueError(f"Unknown task {task!r}.")
            return self.task_names.index(task)
        t = int(task)
        if not 0 <= t < len(self.task_names):
            raise ValueError(f"task index {t} out of range.")
        return t

    @classmethod
    def from_result(cls, path, *, task_names=None, feature_names=None, ax=None,
                    **kwargs):  # fmt: skip
        """Draw the Bunch returned by
        :func:`skmtl.model_selection.regularization_path`.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skmtl.model_selection import regularization_path
        >>> from skmtl.plotting import RegularizationPathDisplay
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(30, 5))
        >>> Y = X[:, :2] @ rng.normal(size=(2, 3))
        >>> path = regularization_path(X, Y, "l21", n_alphas=10)
        >>> disp = RegularizationPathDisplay.from_result(path, kind="tasks")
        >>> len(disp.lines_)
        3
        """
        disp = cls(
            path.alphas, path.coefs, task_names=task_names,
            feature_names=feature_names,
        )  # fmt: skip
        return disp.plot(ax=ax, **kwargs)


def plot_regularization_path(path_or_alphas, coefs=None, *, ax=None, **kwargs):
    """Coefficient norms (per feature or per task) against ``alpha``, log x.

    Parameters
    ----------
    path_or_alphas : Bunch or array-like of shape (n_alphas,)
        The result of :func:`skmtl.model_selection.regularization_path`
        (with ``alphas`` and ``coefs``), or the alphas with ``coefs`` given.
    coefs : array-like of shape (n_alphas, n_tasks, n_features), default=None
    ax : matplotlib Axes, default=None
    **kwargs
        ``task_names``, ``feature_names``, and the options of
        :meth:`RegularizationPathDisplay.plot` (``kind``, ``task``, ...).

    Returns
    -------
    display : RegularizationPathDisplay

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.plotting import plot_regularization_path
    >>> alphas = np.geomspace(1, 0.01, 5)
    >>> coefs = np.ones((5, 2, 3)) / alphas[:, None, None]
    >>> disp = plot_regularization_path(alphas, coefs, kind="coefs", task=1)
    >>> len(disp.lines_), disp.ax_.get_ylabel()
    (3, 'coefficients of task1')
    """
    names = {k: kwargs.pop(k) for k in ("task_names", "feature_names") if k in kwargs}
    if coefs is None:
        if not (hasattr(path_or_alphas, "alphas") and hasattr(path_or_alphas, "coefs")):
            raise TypeError(
                "Pass a regularization_path result (with `alphas` and `coefs`) "
                "or (alphas, coefs)."
            )
        return RegularizationPathDisplay.from_result(
            path_or_alphas, ax=ax, **names, **kwargs
        )
    disp = RegularizationPathDisplay(path_or_alphas, coefs, **names)
    return disp.plot(ax=ax, **kwargs)


def _cv_curve(estimator):
    """``(alphas, errors (n_alphas, n_folds), error name)`` of a CV estimator."""
    for attr, label in (("mse_path_", "mean squared error"),
                        ("log_loss_path_", "log loss")):  # fmt: skip
        if hasattr(estimator, attr):
            E = np.asarray(getattr(estimator, attr), dtype=np.float64)
            name = label
            break
    else:
        raise TypeError(
            f"{type(estimator).__name__} has no `mse_path_` (or `log_loss_path_`):"
            " pass a fitted CV estimator such as MultiTaskLassoCV."
        )
    if not hasattr(estimator, "alpha_"):
        raise TypeError(f"{type(estimator).__name__} has no `alpha_`.")
    alphas = getattr(estimator, "alphas_", None)
    if alphas is None:
        alphas = estimator.get_params().get("alphas")
    alphas = np.asarray(alphas, dtype=np.float64)
    if E.ndim == 3:
        if alphas.ndim == 2:  # one grid per l1_ratio
            ratios = list(np.atleast_1d(estimator.l1_ratio))
            i = int(np.argmin(np.abs(np.asarray(ratios) - estimator.l1_ratio_)))
            E, alphas = E[i], alphas[i]
        elif hasattr(estimator, "coupling_"):  # (n_alphas, n_couplings, n_folds)
            cp = np.asarray(estimator.get_params()["couplings"], dtype=np.float64)
            j = int(np.argmin(np.abs(cp - estimator.coupling_)))
            E = E[:, j, :]
        else:
            raise ValueError(f"Cannot read a CV curve from an array {E.shape}.")
    if E.ndim != 2 or E.shape[0] != alphas.shape[0]:
        raise ValueError(
            f"CV errors of shape {E.shape} do not match {alphas.shape[0]} alphas."
        )
    return alphas, E, name


class CVPathDisplay:
    """Cross-validation error against ``alpha`` with the chosen ``alpha``.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
    errors : array-like of shape (n_alphas, n_folds)
        CV error of each alpha and fold (e.g. ``mse_path_``).
    alpha_ : float, default=None
        The selected alpha, marked by a vertical line.
    error_name : str, default="mean squared error"

    Attributes
    ----------
    line_ : matplotlib Line2D
        Mean over folds.
    fold_lines_ : list of Line2D
        One thin line per fold (``show_folds=True``).
    alpha_line_ : matplotlib Line2D or None
        Vertical line at ``alpha_``.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.plotting import CVPathDisplay
    >>> alphas = np.geomspace(1, 0.01, 4)
    >>> errors = np.array([[3.0, 3.2], [1.0, 1.1], [0.5, 0.7], [0.9, 0.8]])
    >>> disp = CVPathDisplay(alphas, errors, alpha_=alphas[2]).plot()
    >>> len(disp.fold_lines_), bool(disp.alpha_line_.get_xdata()[0] == alphas[2])
    (2, True)
    """

    def __init__(self, alphas, errors, *, alpha_=None, error_name="mean squared error"):
        self.alphas = np.asarray(alphas, dtype=np.float64).ravel()
        self.errors = np.asarray(errors, dtype=np.float64)
        if self.errors.ndim == 1:
            self.errors = self.errors[:, None]
        if self.errors.shape[0] != self.alphas.shape[0]:
            raise ValueError(
                f"errors has {self.errors.shape[0]} rows for "
                f"{self.alphas.shape[0]} alphas."
            )
        self.alpha_ = alpha_
        self.error_name = error_name

    def plot(self, ax=None, *, show_folds=True, title=None):
        """Draw mean CV error (and each fold) against alpha, log x.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        show_folds : bool, default=True
            Also draw each fold's curve (thin, dotted).
        title : str, default=None

        Returns
        -------
        self : CVPathDisplay
        """
        fig, ax = get_ax(ax)
        order = np.argsort(self.alphas)
        a, E = self.alphas[order], self.errors[order]
        self.fold_lines_ = []
        if show_folds and E.shape[1] > 1:
            for k in range(E.shape[1]):
                (ln,) = ax.plot(a, E[:, k], ":", linewidth=0.8, color="0.6")
                self.fold_lines_.append(ln)
        mean = np.nanmean(E, axis=1)
        (self.line_,) = ax.plot(a, mean, "k-", linewidth=2, label="mean over folds")
        self.alpha_line_ = None
        if self.alpha_ is not None:
            self.alpha_line_ = ax.axvline(
                self.alpha_, color="tab:red", linestyle="--",
                label=f"alpha_ = {self.alpha_:.3g}",
            )  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel("alpha")
        ax.set_ylabel(f"CV {self.error_name}")
        if title:
            ax.set_title(title)
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, fig
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, **kwargs):
        """Draw a fitted CV estimator (``alphas_``, ``mse_path_``, ``alpha_``).

        Works with the skmtl CV estimators (``MultiTaskLassoCV``, ...,
        ``log_loss_path_`` of ``MultiTaskLogisticRegressionCV``; for
        ``MultiTaskRidgeCV`` the curve at the chosen ``coupling_``; with a
        list of ``l1_ratio`` the curve at the chosen ``l1_ratio_``) and with
        scikit-learn's ``MultiTaskLassoCV``/``LassoCV``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skmtl.model_selection import MultiTaskLassoCV
        >>> from skmtl.plotting import CVPathDisplay
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(40, 5))
        >>> Y = X[:, :2] @ rng.normal(size=(2, 2))
        >>> model = MultiTaskLassoCV(n_alphas=8, cv=3).fit(X, Y)
        >>> disp = CVPathDisplay.from_estimator(model)
        >>> bool(disp.alpha_line_.get_xdata()[0] == model.alpha_)
        True
        """
        alphas, E, name = _cv_curve(estimator)
        disp = cls(alphas, E, alpha_=float(estimator.alpha_), error_name=name)
        return disp.plot(ax=ax, **kwargs)


def plot_cv_path(estimator, *, ax=None, **kwargs):
    """CV error against alpha for a fitted CV estimator, chosen alpha marked.

    Shortcut for :meth:`CVPathDisplay.from_estimator`.

    Parameters
    ----------
    estimator : fitted CV estimator
        With ``alphas_`` (or an ``alphas`` parameter), ``mse_path_`` (or
        ``log_loss_path_``) and ``alpha_``.
    ax : matplotlib Axes, default=None
    **kwargs
        Passed to :meth:`CVPathDisplay.plot`.

    Returns
    -------
    display : CVPathDisplay

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.model_selection import MultiTaskRidgeCV
    >>> from skmtl.plotting import plot_cv_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 5))
    >>> Y = X @ rng.normal(size=(5, 2))
    >>> model = MultiTaskRidgeCV(alphas=[0.01, 0.1, 1.0], couplings=[0.0, 1.0],
    ...                          cv=3).fit(X, Y)
    >>> disp = plot_cv_path(model)
    >>> len(disp.line_.get_xdata())
    3
    """
    return CVPathDisplay.from_estimator(estimator, ax=ax, **kwargs)
