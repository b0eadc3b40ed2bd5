"""Dot products of one vector with every row of a matrix, four rows per
pass over the vector.

The kernels that need ``x . M[t]`` for every ``t`` (a column of ``X``
against the residual's or the targets' columns, a Gram row against each
task's coefficients) are bound by loads, not flops: reading each ``x[i]``
once for four products cuts the loads per product from two to 1.25.
"""

from numba import njit


@njit(cache=True, fastmath={"reassoc", "contract"})
def dots_with_rows(x, M, out):
    """``out[t] = sum_i x[i] M[t, i]`` for every row ``t`` of ``M``.

    Rows go four at a time, then two, then one. Reassociation only reorders
    each sum.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl._solvers._dots import dots_with_rows
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> M = np.arange(15.0).reshape(5, 3)
    >>> out = np.empty(5)
    >>> dots_with_rows(x, M, out)
    >>> out.tolist() == (M @ x).tolist()
    True
    """
    T, n = M.shape
    t = 0
    while t + 3 < T:
        a0 = a1 = a2 = a3 = 0.0
        for i in range(n):
            v = x[i]
            a0 += v * M[t, i]
            a1 += v * M[t + 1, i]
            a2 += v * M[t + 2, i]
            a3 += v * M[t + 3, i]
        out[t], out[t + 1], out[t + 2], out[t + 3] = a0, a1, a2, a3
        t += 4
    while t + 1 < T:
        a0 = a1 = 0.0
        for i in range(n):
            v = x[i]
            a0 += v * M[t, i]
            a1 += v * M[t + 1, i]
        out[t], out[t + 1] = a0, a1
        t += 2
    if t < T:
        a0 = 0.0
        for i in range(n):
            a0 += x[i] * M[t, i]
        out[t] = a0
