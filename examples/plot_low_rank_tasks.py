"""
==========================================================
Low-rank tasks: the trace-norm penalty
==========================================================

When the task weight vectors :math:`w_1, \\dots, w_T` lie near a common
low-dimensional subspace, the coefficient matrix :math:`W` (one row per task)
has low rank. The trace (nuclear) norm

.. math:: \\alpha \\|W\\|_* = \\alpha \\sum_k \\sigma_k(W)

is the convex surrogate of the rank (Argyriou, Evgeniou & Pontil, 2008; Ji &
Ye, 2009): it shrinks the singular values of :math:`W` and sets the small ones
to zero, so the tasks learn a shared subspace and each task only fits its
coordinates in it.

Here 20 tasks of 30 features have rank-3 coefficients, and each task has only
25 rows of its own. We compare the singular values of ``coef_`` for the trace
penalty and for independent ridge regressions.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GridSearchCV

from skmtl import MultiTaskLinearRegression
from skmtl.baselines import IndependentTasksRegressor
from skmtl.datasets import make_multitask_regression
from skmtl.metrics import r2_score
from skmtl.model_selection import TaskStratifiedKFold

true_rank = 3
X, Y, coef = make_multitask_regression(
    n_tasks=20,
    n_samples=25,
    n_features=30,
    structure="low_rank",
    rank=true_rank,
    noise=1.0,
    return_coef=True,
    random_state=0,
)
print(X.shape, Y.shape, "rank of the planted coef:", np.linalg.matrix_rank(coef))

# a large test set from the same model
rng = np.random.default_rng(1)
X_test = rng.standard_normal((2000, X.shape[1]))
Y_test = X_test @ coef.T + rng.standard_normal((2000, coef.shape[0]))

# %%
# Fit the trace penalty and the independent baseline
# --------------------------------------------------
# The rows are stacked task by task, so unshuffled ``KFold`` (what ``cv=3``
# means for a regressor) would hold out whole tasks.
# :class:`~skmtl.model_selection.TaskStratifiedKFold` keeps every task in
# every training fold.
folds = TaskStratifiedKFold(3, shuffle=True, random_state=0)
trace = GridSearchCV(
    MultiTaskLinearRegression(penalty="trace", max_iter=3000),
    {"alpha": np.logspace(-1.5, 0.5, 7)},
    cv=folds,
).fit(X, Y)
indep = IndependentTasksRegressor(RidgeCV(alphas=np.logspace(-2, 3, 11))).fit(X, Y)

W_trace = trace.best_estimator_.coef_
W_indep = np.vstack([e.coef_ for e in indep.estimators_])
print(f"trace penalty: alpha={trace.best_params_['alpha']:.3g}")
for name, model in [("trace", trace), ("independent ridge", indep)]:
    print(f"{name:>18}: test R² {r2_score(Y_test, model.predict(X_test)):.3f}")


def numerical_rank(W):
    sv = np.linalg.svd(W, compute_uv=False)
    return int((sv > 1e-6 * sv[0]).sum())


print("rank of the cross-validated trace-norm coef_:", numerical_rank(W_trace))

# %%
# Cross-validation picks the ``alpha`` that predicts best; it keeps a few
# small extra singular values. A larger ``alpha`` recovers the rank exactly,
# at some cost in accuracy (the large singular values are shrunk more).
strong = MultiTaskLinearRegression(penalty="trace", alpha=3.0, max_iter=3000)
strong.fit(X, Y)
print(
    f"alpha=3: rank {numerical_rank(strong.coef_)}, "
    f"test R² {r2_score(Y_test, strong.predict(X_test)):.3f}"
)

# %%
# Singular values of the coefficient matrices
# -------------------------------------------
# The trace penalty keeps a few large singular values and zeroes the rest;
# the independent fits spread noise over all of them.
fig, ax = plt.subplots(figsize=(6.5, 3.8))
k = np.arange(1, min(coef.shape) + 1)
for name, W, style in [
    ("planted coef", coef, "k-o"),
    ("independent ridge", W_indep, "s-"),
    ("trace penalty (CV alpha)", W_trace, "^-"),
    ("trace penalty (alpha=3)", strong.coef_, "v-"),
]:
    ax.plot(k, np.linalg.svd(W, compute_uv=False), style, label=name, ms=4)
ax.axvline(true_rank + 0.5, color="gray", ls=":", lw=1)
ax.set_yscale("symlog", linthresh=1e-2)
ax.set_xlabel("index of the singular value")
ax.set_ylabel("singular value of coef_")
ax.set_xticks(k[::2])
ax.legend()
ax.set_title(f"20 tasks with rank-{true_rank} coefficients")
fig.tight_layout()
plt.show()
