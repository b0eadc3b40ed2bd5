"""
=====================================================
Balancing tasks in the multi-task MLP
=====================================================

All tasks of a :class:`~skmtl.neural_network.MultiTaskMLPRegressor` train one
shared trunk, and the trunk follows the sum of the per-task losses. When one
task's loss is much larger than the others' (here: its targets are 30 times
larger), it dominates the trunk's gradient and the other tasks get a trunk
that suits them less. ``task_weighting`` chooses how the per-task losses
:math:`L_t` are combined:

* ``"equal"``: :math:`\\sum_t w_t L_t` with the fixed ``task_weights``
  :math:`w_t` (default all 1);
* ``"uncertainty"`` (Kendall et al., 2018): learns a log-variance
  :math:`s_t` per task, loss :math:`\\sum_t w_t e^{-s_t} L_t + s_t / 2`, so
  noisy or large-loss tasks get smaller weights;
* ``"dwa"``, dynamic weight averaging (Liu et al., 2019): weights
  :math:`T \\operatorname{softmax}(r / 2)` from the ratio :math:`r_t` of each
  task's last two epoch losses, favouring tasks that learn slowly;
* ``"gradnorm"`` (Chen et al., 2018): learns weights that balance the norms
  of the task gradients on the last trunk layer;
* ``"pcgrad"``, gradient surgery (Yu et al., 2020): projects each task's trunk
  gradient off the others' when they conflict (negative inner product);
* ``"mgda"`` (Sener & Koltun, 2018), ``"cagrad"`` (Liu et al., 2021) and
  ``"imtl"`` (Liu et al., 2021) combine the per-task trunk gradients: the
  minimum-norm convex combination, the conflict-averse direction near their
  mean, and the combination with equal projections on every task's
  direction;
* ``"rlw"`` (Lin et al., 2022) draws random weights every step, ``"famo"``
  (Liu et al., 2023) balances the rates at which the task losses decrease,
  and ``"minimax"`` (group DRO, Sagawa et al., 2020) minimises the worst
  task's loss with exponentiated-gradient weights.

The simplest fix for a pure scale difference is to standardise each task's
targets, which the regressor does by default (``standardize_targets=True``);
to show what the strategies do on their own, we switch it off for them and
compare with the default. Which strategy wins depends on the problem: treat
``task_weighting`` as a hyperparameter and check per-task scores.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from sklearn.exceptions import ConvergenceWarning

from skmtl.metrics import r2_score
from skmtl.neural_network import MultiTaskMLPRegressor

warnings.filterwarnings("ignore", category=ConvergenceWarning)  # fixed epochs

rng = np.random.default_rng(0)
n_features, n_tasks = 10, 4
A = 2 * rng.standard_normal((n_features, 8)) / np.sqrt(n_features)
B = rng.standard_normal((8, n_tasks))
scale = np.array([30.0, 1.0, 1.0, 1.0])  # task 0 has much larger targets


def sample(n):
    X = rng.standard_normal((n, n_features))
    Y = (np.tanh(X @ A) @ B + 0.3 * rng.standard_normal((n, n_tasks))) * scale
    return X, Y


X, Y = sample(1500)
Y[rng.random(Y.shape) < 0.2] = np.nan
X_test, Y_test = sample(2000)

# %%
# Fit one network per strategy
# ----------------------------
params = dict(hidden_layer_sizes=(32,), learning_rate_init=3e-3, max_iter=80)
scores, weights = {}, {}
strategies = ["equal", "uncertainty", "dwa", "gradnorm", "pcgrad"]
strategies += ["mgda", "cagrad", "imtl", "rlw", "famo", "minimax"]
for strategy in strategies:
    model = MultiTaskMLPRegressor(
        task_weighting=strategy, standardize_targets=False, random_state=0, **params
    )
    model.fit(X, Y)
    scores[strategy] = r2_score(Y_test, model.predict(X_test), aggregate="raw_values")
    weights[strategy] = model.task_weights_

# the default: each task's targets standardised on its labelled rows
model = MultiTaskMLPRegressor(random_state=0, **params).fit(X, Y)
scores["equal, standardised Y"] = r2_score(
    Y_test, model.predict(X_test), aggregate="raw_values"
)
for name, s in scores.items():
    print(f"{name:>22}: per-task R² {np.round(s, 3)}, worst {s.min():.3f}")

# %%
# On raw targets the strategies disagree sharply. Those that equalise
# gradients or improvement rates ("mgda", "imtl", "cagrad") help the three
# small tasks, and "mgda" and "famo" do it by starving the large one. "minimax"
# is the extreme case: it minimises the *largest* task loss, and on raw
# targets that is always task 0 (30 times larger targets, 900 times larger
# squared error), so it puts all the weight there and the other tasks are
# not learned. Losses must be on comparable scales for "minimax" to mean
# "the worst-served task": keep ``standardize_targets=True`` (the default)
# with it. Standardising alone is the best option here.

# %%
# Per-task scores, and the weights learned over the epochs
# --------------------------------------------------------
# ``task_weights_`` holds, per epoch, the multiplier of each task's loss.
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4))
x = np.arange(n_tasks)
width = 0.8 / len(scores)
for k, (name, s) in enumerate(scores.items()):
    ax0.bar(x + k * width, s, width, label=name)
ax0.set_xticks(
    x + 0.4 - width / 2, [f"task {t}" + (" (x30)" if t == 0 else "") for t in x]
)
ax0.set_ylim(-0.1, 1.0)
ax0.set_ylabel("test R²")
ax0.legend(fontsize=7, ncols=2, loc="lower right")

styles = {"uncertainty": "-", "gradnorm": "--", "minimax": ":"}
for name, ls in styles.items():
    for t in range(n_tasks):
        ax1.plot(weights[name][:, t], ls=ls, color=f"C{t}")
handles = [Line2D([], [], color=f"C{t}", label=f"task {t}") for t in range(n_tasks)]
handles += [Line2D([], [], color="k", ls=ls, label=n) for n, ls in styles.items()]
ax1.legend(handles=handles, fontsize=7, ncols=2)
ax1.set_yscale("log")
ax1.set_xlabel("epoch")
ax1.set_ylabel("task weight (task_weights_)")
fig.tight_layout()
plt.show()

# %%
# Per-task learning curves
# ------------------------
# With ``early_stopping=True`` the network keeps ``validation_fraction`` of
# the rows aside and records each task's validation R² per epoch
# (``validation_scores_``) next to its training loss (``task_loss_curves_``).
# :func:`~skmtl.plotting.plot_learning_curves` draws both: a task whose
# validation score stalls while the others still improve is one that the
# shared trunk serves poorly.
from skmtl.plotting import plot_learning_curves  # noqa: E402

model = MultiTaskMLPRegressor(
    task_weighting="uncertainty",
    early_stopping=True,
    validation_fraction=0.2,
    random_state=0,
    **params,
).fit(X, Y)
print(f"{model.n_iter_} epochs (max_iter={params['max_iter']})")
display = plot_learning_curves(model)
display.figure_.set_size_inches(11, 4)
display.figure_.tight_layout()
plt.show()
