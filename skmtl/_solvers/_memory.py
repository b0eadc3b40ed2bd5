"""Memory hints for the numba kernels.

:func:`prefetch` asks the CPU to bring a cache line in ahead of its use: a
kernel that streams an array too large for the cache (the per-task Grams'
pass over ``X``, the label scan of a mostly-NaN ``Y``) requests the lines it
reads next while it computes on the current ones, so that its reads do not
wait for memory. A hint only: no effect on any value, no fault on any
address.

The kernels that call it inline it: numba's cache does not notice an edit
here, so delete the caches (``find skmtl -name '*.nb[ic]' -delete``) after
one.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, idx):
    """Hint the CPU to bring the cache line of ``arr[idx]`` (1-d) into
    cache (LLVM's ``prefetch``: a read, high locality); no effect on the
    values, no fault on any address."""
    if not isinstance(arr, types.Array) or arr.ndim != 1:
        return None
    sig = types.void(arr, types.intp)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(
            context, builder, aryty, ary, [args[1]], wraparound=False
        )
        i8p = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # (address, read = 0, locality = 3: keep in all levels, data cache = 1)
        flags = [ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
        builder.call(fn, [i8p] + flags)
        return context.get_dummy_value()

    return sig, codegen
