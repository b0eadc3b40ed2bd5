"""Per-task Grams of equal-sized consecutive task blocks, in one numba pass.

``X_t^T X_t`` for every task block of a ``(T, n_t, p)`` view is symmetric:
:func:`block_grams` computes the upper triangle only (half the flops of the
batched ``np.matmul``, which computes both) from a transposed copy of each
block, in ``4 x 4`` tiles of dot products over the rows (16 independent
accumulators: the loop over the rows vectorises), then mirrors it. With
``D`` it also returns ``X_t^T d_t`` from the same pass over ``X``. While a
block's tiles are formed, the next block's cache lines are requested
(:func:`~._memory.prefetch`): in a fit, ``X`` has left the cache (the label scan
reads the larger ``Y`` in between), and the copy of each block would
otherwise wait for memory (0.7 ms of 1.8 on the synthetic ``(100, 150,
50)`` blocks read cold, 0.25 ms with the requests).
"""

import numpy as np
from numba import njit

from ._memory import prefetch

#: rows of a block transposed at a time (the transposed chunk, ``p x 248``
#: doubles, stays in cache while its tiles are formed; a multiple of 8, not
#: a power of two: see :func:`_block_grams`)
_CHUNK = 248
#: the kernel is used for at most this many features (the batched BLAS
#: product's cache blocking wins on large Grams) and at least this many rows
#: per task (on shorter blocks the transposition does not pay)
MAX_FEATURES = 128
MIN_ROWS = 64


@njit(cache=True, fastmath={"contract", "reassoc"})
def _block_grams(X3, scale, D, Q, XtD):
    T, n, p = X3.shape
    with_d = D.shape[1] > 0
    chunk = min(n, _CHUNK)
    # the transposed rows are padded with zeros to a multiple of 8 (the
    # vectorised loop over the rows then has no scalar remainder: 150 rows
    # cost as much as 144 or 152 would otherwise); a row stride of a power
    # of two (256) slows tall blocks ~3x through cache-set conflicts
    XT = np.empty((p, (chunk + 7) // 8 * 8))
    pm = p - p % 4
    flat = X3.reshape(T * n * p)
    block = n * p
    n_tiles = max((pm // 4) * (pm // 4 + 1) // 2, 1)
    per_tile = (block + 8 * n_tiles - 1) // (8 * n_tiles)  # lines per tile
    for t in range(T):
        # the next block's cache lines are requested while this one's tiles
        # are formed (its reads then hit the cache)
        pf = (t + 1) * block
        pf_end = min(pf + block, T * block)
        g = Q[t]
        X = X3[t]
        for i in range(p):
            for j in range(i, p):
                g[i, j] = 0.0
        if with_d:
            for i in range(p):
                XtD[t, i] = 0.0
        for r0 in range(0, n, chunk):
            m = min(chunk, n - r0)
            mp = (m + 7) // 8 * 8
            for r in range(m):
                for i in range(p):
                    XT[i, r] = X[r0 + r, i]
            for i in range(p):
                for r in range(m, mp):
                    XT[i, r] = 0.0
            if with_d:
                for i in range(p):
                    acc = 0.0
                    for r in range(m):
                        acc += XT[i, r] * D[t, r0 + r]
                    XtD[t, i] += acc
            for i in range(0, pm, 4):
                u0, u1, u2, u3 = XT[i], XT[i + 1], XT[i + 2], XT[i + 3]
                for j in range(i, pm, 4):
                    v0, v1, v2, v3 = XT[j], XT[j + 1], XT[j + 2], XT[j + 3]
                    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = 0.0
                    s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = 0.0
                    for k in range(mp):
                        a0, a1, a2, a3 = u0[k], u1[k], u2[k], u3[k]
                        b0, b1, b2, b3 = v0[k], v1[k], v2[k], v3[k]
                        s00 += a0 * b0
                        s01 += a0 * b1
                        s02 += a0 * b2
                        s03 += a0 * b3
                        s10 += a1 * b0
                        s11 += a1 * b1
                        s12 += a1 * b2
                        s13 += a1 * b3
                        s20 += a2 * b0
                        s21 += a2 * b1
                        s22 += a2 * b2
                        s23 += a2 * b3
                        s30 += a3 * b0
                        s31 += a3 * b1
                        s32 += a3 * b2
                        s33 += a3 * b3
                    g[i, j] += s00
                    g[i, j + 1] += s01
                    g[i, j + 2] += s02
                    g[i, j + 3] += s03
                    g[i + 1, j] += s10
                    g[i + 1, j + 1] += s11
                    g[i + 1, j + 2] += s12
                    g[i + 1, j + 3] += s13
                    g[i + 2, j] += s20
                    g[i + 2, j + 1] += s21
                    g[i + 2, j + 2] += s22
                    g[i + 2, j + 3] += s23
                    g[i + 3, j] += s30
                    g[i + 3, j + 1] += s31
                    g[i + 3, j + 2] += s32
                    g[i + 3, j + 3] += s33
                    for _ in range(per_tile):
                        if pf < pf_end:
                            prefetch(flat, pf)
                            pf += 8
            # the columns beyond the last full tile
            for i in range(p):
                for j in range(max(i, pm), p):
                    acc = 0.0
                    for k in range(m):
                        acc += XT[i, k] * XT[j, k]
                    g[i, j] += acc
        c = scale[t]
        for i in range(p):
            for j in range(i, p):
                g[i, j] *= c
            for j in range(i):
                g[i, j] = g[j, i]


def block_grams(X3, scale, D=None):
    """``(Q, XtD)``: ``Q[t] = scale[t] X3[t]^T X3[t]`` and, with ``D`` of
    shape ``(T, n_t)``, ``XtD[t] = X3[t]^T D[t]`` (else None), for a float64
    ``X3`` of shape ``(T, n_t, p)``. By the numba kernel (exactly symmetric
    ``Q``; the same values as ``np.matmul`` to rounding, another order of
    the sums) for C-ordered blocks of ``MIN_ROWS`` to any rows and at most
    ``MAX_FEATURES`` columns, else by batched ``np.matmul``."""
    T, n, p = X3.shape
    if not (X3.flags.c_contiguous and n >= MIN_ROWS and p <= MAX_FEATURES):
        Xt = X3.transpose(0, 2, 1)
        Q = np.matmul(Xt, X3)
        Q *= np.asarray(scale, dtype=np.float64)[:, None, None]
        XtD = None if D is None else np.matmul(Xt, np.asarray(D)[:, :, None])[:, :, 0]
        return Q, XtD
    Q = np.empty((T, p, p))
    with_d = D is not None
    D = np.ascontiguousarray(D, dtype=np.float64) if with_d else np.empty((T, 0))
    XtD = np.empty((T, p if with_d else 0))
    _block_grams(X3, np.ascontiguousarray(scale, dtype=np.float64), D, Q, XtD)
    return Q, (XtD if with_d else None)
