"""Per-task Grams of equal-sized consecutive task blocks, in one numba pass.

``X_t^T X_t`` for every task block of a ``(T, n_t, p)`` view is symmetric:
:func:`block_grams` computes the upper triangle only (half the flops of the
batched ``np.matmul``, which computes both) from a transposed copy of each
block, in ``4 x 4`` tiles of dot products over the rows (16 independent
accumulators: the loop over the rows vectorises), each tile's sums added
to both triangles (no strided mirroring pass at the end). With
``D`` it also returns ``X_t^T d_t`` from the same pass over ``X``: ``d_t``
is one more row of the transposed block, so those products come from the
same tiles (a separate loop of dot products over the rows took 0.2 of 1.2
ms on the synthetic ``(100, 150, 50)`` blocks; the tiles 0.05). While a
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
    # the rows of the transposed chunk: the p features, then d (with D: its
    # products with the features are column p of the Gram below); the 4 x 4
    # tiles cover the first pm rows, one or two rows left over take dot
    # products, three are padded with a zero row into a last row of tiles
    pe = p + 1 if with_d else p
    pm = pe - pe % 4
    if pe - pm == 3:
        pm += 4
    p4 = max(pm, pe)
    chunk = min(n, _CHUNK)
    # the transposed rows are padded with zeros to a multiple of 8 (the
    # vectorised loop over the rows then has no scalar remainder: 150 rows
    # cost as much as 144 or 152 would otherwise); a row stride of a power
    # of two (256) slows tall blocks ~3x through cache-set conflicts
    XT = np.zeros((p4, (chunk + 7) // 8 * 8))
    # the tiles' sums go to Q[t] itself when it holds every row, else to a
    # larger buffer (the d row, the padding)
    direct = p4 == p
    buf = np.empty((p4, p4))
    flat = X3.reshape(T * n * p)
    block = n * p
    n_tiles = max((pm // 4) * (pm // 4 + 1) // 2, 1)
    per_tile = (block + 8 * n_tiles - 1) // (8 * n_tiles)  # lines per tile
    for t in range(T):
        # the next block's cache lines are requested while this one's tiles
        # are formed (its reads then hit the cache)
        pf = (t + 1) * block
        pf_end = min(pf + block, T * block)
        X = X3[t]
        G = Q[t] if direct else buf
        for i in range(p4):
            for j in range(p4):
                G[i, j] = 0.0
        for r0 in range(0, n, chunk):
            m = min(chunk, n - r0)
            mp = (m + 7) // 8 * 8
            for r in range(m):
                for i in range(p):
                    XT[i, r] = X[r0 + r, i]
            if with_d:
                for r in range(m):
                    XT[p, r] = D[t, r0 + r]
            if m < mp:  # (the last chunk: zero its padding)
                for i in range(p4):
                    for r in range(m, mp):
                        XT[i, r] = 0.0
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
                    G[i, j] += s00
                    G[i, j + 1] += s01
                    G[i, j + 2] += s02
                    G[i, j + 3] += s03
                    G[i + 1, j] += s10
                    G[i + 1, j + 1] += s11
                    G[i + 1, j + 2] += s12
                    G[i + 1, j + 3] += s13
                    G[i + 2, j] += s20
                    G[i + 2, j + 1] += s21
                    G[i + 2, j + 2] += s22
                    G[i + 2, j + 3] += s23
                    G[i + 3, j] += s30
                    G[i + 3, j + 1] += s31
                    G[i + 3, j + 2] += s32
                    G[i + 3, j + 3] += s33
                    if j > i:  # (the lower triangle too)
                        G[j, i] += s00
                        G[j + 1, i] += s01
                        G[j + 2, i] += s02
                        G[j + 3, i] += s03
                        G[j, i + 1] += s10
                        G[j + 1, i + 1] += s11
                        G[j + 2, i + 1] += s12
                        G[j + 3, i + 1] += s13
                        G[j, i + 2] += s20
                        G[j + 1, i + 2] += s21
                        G[j + 2, i + 2] += s22
                        G[j + 3, i + 2] += s23
                        G[j, i + 3] += s30
                        G[j + 1, i + 3] += s31
                        G[j + 2, i + 3] += s32
                        G[j + 3, i + 3] += s33
                    for _ in range(per_tile):
                        if pf < pf_end:
                            prefetch(flat, pf)
                            pf += 8
            # the rows beyond the last full tile
            for i in range(pe):
                for j in range(max(i, pm), pe):
                    acc = 0.0
                    for k in range(mp):
                        acc += XT[i, k] * XT[j, k]
                    G[i, j] += acc
                    if j > i:
                        G[j, i] += acc
        g = Q[t]
        c = scale[t]
        # the diagonal tiles computed both triangles: the lower from the upper
        # (exactly symmetric), then the scale (in place when direct)
        for i0 in range(0, pm, 4):
            for a in range(1, 4):
                for b in range(a):
                    G[i0 + a, i0 + b] = G[i0 + b, i0 + a]
        if c != 1.0 or not direct:
            for i in range(p):
                for j in range(p):
                    g[i, j] = G[i, j] * c
        if with_d:
            for i in range(p):
                XtD[t, i] = G[i, p]


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


@njit(cache=True)
def _sorted_blocks(entry_row, entry_task, c, T):
    n = entry_row.shape[0]
    if T == 0 or n == 0 or n % T != 0:
        return 0
    n_t = n // T
    bad = 0
    spread = 0.0  # (NaN weights make it NaN: not a layout)
    for t in range(T):
        a = t * n_t
        ct = c[a]
        for e in range(a, a + n_t):
            # (no early exit: the loop vectorises)
            bad |= (entry_row[e] ^ e) | (entry_task[e] ^ t)
            spread += abs(c[e] - ct)
    return n_t if bad == 0 and spread == 0.0 else 0


def sorted_blocks(entry_row, entry_task, c, T):
    """``n_t`` when the entries (row-major order) are rows ``0 ... T n_t -
    1``, one label each, task ``t``'s the ``t``-th run of ``n_t`` rows, with
    one weight ``c`` per task (per-task data of equal-sized tasks as
    :func:`skmtl.stack_tasks` lays them out, no sample weights), else 0.
    One pass over the entries: the entries sorted by task are then the
    entries themselves (no sort, no gathers), and ``X[:T n_t]`` viewed as
    ``(T, n_t, p)`` holds the tasks' blocks for :func:`block_grams`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl._solvers._block_gram import sorted_blocks
    >>> rows, tasks = np.arange(6), np.repeat([0, 1], 3)
    >>> sorted_blocks(rows, tasks, np.ones(6), 2)
    3
    >>> sorted_blocks(rows, tasks[::-1].copy(), np.ones(6), 2)
    0
    """
    return int(
        _sorted_blocks(
            np.asarray(entry_row, dtype=np.int64),
            np.asarray(entry_task, dtype=np.int64),
            np.asarray(c, dtype=np.float64),
            int(T),
        )
    )


def kernel_reads_all_rows(X, entry_row, entry_task, c, T):
    """Whether :func:`~skmtl._solvers.bcd.task_grams` forms the per-task
    Grams of ``X`` with the numba kernel from blocks that hold every row of
    ``X`` (a C-ordered float64 ``X`` whose rows are :func:`sorted_blocks`
    of ``MIN_ROWS`` or more rows, at most ``MAX_FEATURES`` columns): then a
    NaN or an infinity anywhere in ``X`` makes a Gram's diagonal non-finite,
    without a floating-point warning on the way."""
    n, p = X.shape
    if not (
        isinstance(X, np.ndarray) and X.dtype == np.float64
        and X.flags.c_contiguous and p <= MAX_FEATURES and T and n % T == 0
        and n // T >= MIN_ROWS
    ):  # fmt: skip
        return False
    return sorted_blocks(entry_row, entry_task, c, T) * T == n
