"""numba-jitted solver cores: datafits, penalties and the solvers using them.

Nothing here imports scikit-learn: these modules work on plain arrays.
"""
