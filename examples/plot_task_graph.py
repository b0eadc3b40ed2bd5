"""
===============================================
Tasks on a graph: the graph penalty
===============================================

Sometimes we know *which* tasks resemble each other: neighbouring regions,
consecutive time periods, similar products. A task graph with adjacency
:math:`A` encodes this, and the graph penalty pulls linked tasks together:

.. math::

    \\frac{\\alpha (1 - \\rho)}{2} \\sum_{s<t} A_{st} \\|w_s - w_t\\|_2^2
    + \\alpha \\rho \\|W\\|_1,

with :math:`\\rho` = ``l1_ratio`` (0 by default: no l1 part). The first term
equals :math:`\\frac{\\alpha(1-\\rho)}{2} \\operatorname{tr}(W^\\top L W)` with
:math:`L` the graph Laplacian.

:func:`skmtl.datasets.make_multitask_regression` with ``structure="graph"``
plants coefficients that rotate slowly along a chain of tasks
(:func:`skmtl.datasets.chain_graph`): neighbours are similar, the two ends
of the chain are not. We compare the graph penalty on the chain, the graph
penalty with the default "all tasks to the mean" graph, and independent ridge
regressions, for a growing number of rows per task.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GridSearchCV

from skmtl import MultiTaskLinearRegression
from skmtl.baselines import IndependentTasksRegressor
from skmtl.datasets import chain_graph, make_multitask_regression
from skmtl.metrics import r2_score
from skmtl.model_selection import TaskStratifiedKFold

n_tasks, n_features = 12, 20
A = chain_graph(n_tasks)
print(A[:4, :4])

# %%
# Fit for several training sizes
# ------------------------------
sizes = [10, 20, 40]
models = {
    "graph penalty, chain graph": MultiTaskLinearRegression(
        penalty="graph", task_graph=A, max_iter=3000
    ),
    "graph penalty, mean graph": MultiTaskLinearRegression(
        penalty="graph", max_iter=3000
    ),
}
scores = {name: [] for name in ["independent ridge", *models]}
coefs = {}
for n in sizes:
    X, Y, coef = make_multitask_regression(
        n_tasks=n_tasks,
        n_samples=n,
        n_features=n_features,
        structure="graph",
        relatedness=0.95,
        noise=1.0,
        return_coef=True,
        random_state=0,
    )
    rng = np.random.default_rng(1)
    X_test = rng.standard_normal((1000, n_features))
    Y_test = X_test @ coef.T + rng.standard_normal((1000, n_tasks))

    indep = IndependentTasksRegressor(RidgeCV(alphas=np.logspace(-2, 3, 11)))
    scores["independent ridge"].append(
        r2_score(Y_test, indep.fit(X, Y).predict(X_test))
    )
    folds = TaskStratifiedKFold(3, shuffle=True, random_state=0)
    for name, model in models.items():
        search = GridSearchCV(model, {"alpha": np.logspace(-3, 1, 9)}, cv=folds)
        search.fit(X, Y)
        scores[name].append(r2_score(Y_test, search.predict(X_test)))
        coefs[name, n] = search.best_estimator_.coef_
    coefs["independent ridge", n] = np.vstack([e.coef_ for e in indep.estimators_])
    coefs["planted", n] = coef
    print(
        f"{n:3d} rows per task: "
        + ", ".join(f"{k} {v[-1]:.3f}" for k, v in scores.items())
    )

# %%
# Results
# -------
# Left: test R² (mean over tasks) against the number of rows per task.
# Right: the first two coefficients of every task for the smallest training
# size; the chain penalty keeps the planted smooth path along the chain.
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4))
for name, s in scores.items():
    ax0.plot(sizes, s, "o-", label=name)
ax0.set_xlabel("training rows per task")
ax0.set_ylabel("test R² (mean over tasks)")
ax0.set_xticks(sizes)
ax0.legend(fontsize=8)

n = sizes[0]
for name, style in [
    ("planted", "k-o"),
    ("independent ridge", "s:"),
    ("graph penalty, chain graph", "^-"),
]:
    W = coefs[name, n]
    ax1.plot(W[:, 0], W[:, 1], style, label=name, ms=4)
ax1.set_xlabel("coef_[:, 0]")
ax1.set_ylabel("coef_[:, 1]")
ax1.set_title(f"tasks along the chain ({n} rows per task)", fontsize=10)
ax1.legend(fontsize=8)
fig.tight_layout()
plt.show()
