"""
======================================================================
A shared representation, and transfer to a new task
======================================================================

:class:`skmtl.neural_network.MultiTaskMLPRegressor` is *hard parameter
sharing*: a trunk of layers shared by all tasks, then one small head per
task. Every task's loss trains the trunk, so the trunk learns features that
are useful for all of them; ``transform(X)`` returns these features.

Here 6 source tasks are different linear read-outs of the same nonlinear
6-dimensional representation :math:`z = \\tanh(A x)` of 20 inputs, and 30 %
of their labels are missing (NaN). We then meet a *new* task, built on the
same representation, with only a handful of labelled rows. Five options:

* ridge regression on the raw inputs ``x``;
* an MLP trained on the new task alone (from scratch);
* ridge regression on the trunk features ``transform(x)`` of the multi-task
  network (transfer);
* a new network whose trunk starts from the pre-trained one
  (``trunk_init=mtl``) and is fine-tuned at a tenth of the learning rate
  (``trunk_learning_rate_scale=0.1``, the default) while its new head
  learns;
* the same with the trunk frozen (``freeze_trunk=True``): only the new head
  learns.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeCV

from skmtl.metrics import r2_score
from skmtl.neural_network import MultiTaskMLPRegressor

# the networks below run a fixed number of epochs: no need to warn about it
warnings.filterwarnings("ignore", category=ConvergenceWarning)

rng = np.random.default_rng(0)
n_features, n_hidden, n_source = 20, 6, 6
A = 2 * rng.standard_normal((n_features, n_hidden)) / np.sqrt(n_features)
B = rng.standard_normal((n_hidden, n_source + 1))  # last column: the new task


def sample(n):
    X = rng.standard_normal((n, n_features))
    Y = np.tanh(X @ A) @ B + 0.1 * rng.standard_normal((n, n_source + 1))
    return X, Y


X, Y_all = sample(3000)
Y = Y_all[:, :n_source].copy()
Y[rng.random(Y.shape) < 0.3] = np.nan  # 30 % missing labels
X_test, Y_test = sample(2000)

# %%
# Train the multi-task network on the source tasks
# ------------------------------------------------
mtl = MultiTaskMLPRegressor(
    hidden_layer_sizes=(64, 16),
    learning_rate_init=3e-3,
    max_iter=100,
    random_state=0,
)
mtl.fit(X, Y)
print(
    "source tasks, test R²:",
    np.round(
        r2_score(Y_test[:, :n_source], mtl.predict(X_test), aggregate="raw_values"), 3
    ),
)
print("shared representation:", mtl.transform(X_test).shape)

# %%
# A new task with few labels
# --------------------------
alphas = np.logspace(-3, 3, 13)
sizes = [10, 20, 50, 100, 200]
res = {
    "ridge on x": [],
    "MLP on the new task alone": [],
    "ridge on transform(x)": [],
    "fine-tuned (trunk_init)": [],
    "frozen trunk, new head": [],
}
y_test_new = Y_test[:, n_source]
Z_test = mtl.transform(X_test)
for n in sizes:
    X_new, Y_new = sample(n)
    y_new = Y_new[:, n_source]
    raw = RidgeCV(alphas=alphas).fit(X_new, y_new)
    res["ridge on x"].append(raw.score(X_test, y_test_new))
    alone = MultiTaskMLPRegressor((64, 16), max_iter=200, random_state=0)
    res["MLP on the new task alone"].append(
        alone.fit(X_new, y_new).score(X_test, y_test_new)
    )
    transfer = RidgeCV(alphas=alphas).fit(mtl.transform(X_new), y_new)
    res["ridge on transform(x)"].append(transfer.score(Z_test, y_test_new))
    tuned = MultiTaskMLPRegressor((64, 16), trunk_init=mtl, random_state=0)
    res["fine-tuned (trunk_init)"].append(
        tuned.fit(X_new, y_new).score(X_test, y_test_new)
    )
    frozen = MultiTaskMLPRegressor(
        (64, 16), trunk_init=mtl, freeze_trunk=True, random_state=0
    )
    res["frozen trunk, new head"].append(
        frozen.fit(X_new, y_new).score(X_test, y_test_new)
    )
    print(f"{n:4d} rows: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in res.items()))

# %%
# The learned representation makes the new task easy: from 20 labels on,
# every transfer option (ridge on ``transform(x)``, fine-tuning, a new head
# on the frozen trunk) beats both alternatives that start from nothing.
# With so few rows, ridge regression on ``transform(x)`` is the best of
# them: it is solved exactly and its penalty is chosen by cross-validation,
# whereas a new network head starts from random weights and is trained by
# a few hundred Adam steps. A randomly initialised head also sends large
# gradients into the trunk at the start of fine-tuning; fitting the head on
# the frozen trunk first and then continuing with ``freeze_trunk=False,
# warm_start=True`` avoids that. This only works because the new task
# really shares the source tasks' representation; an unrelated task gains
# nothing from it.
fig, ax = plt.subplots(figsize=(6.5, 4))
for name, r in res.items():
    ax.plot(sizes, r, "o-", label=name)
ax.set_xscale("log")
ax.set_xticks(sizes, [str(s) for s in sizes])
ax.set_ylim(-0.2, 1.0)
ax.set_xlabel("labelled rows of the new task")
ax.set_ylabel("test R² on the new task")
ax.legend()
fig.tight_layout()
plt.show()
