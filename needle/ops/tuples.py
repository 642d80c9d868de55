"""Ops that pack Tensors into a TensorTuple, take one back out, and add two of them.

A tuple's adjoint from `tuple_get_item` has one entry that is not zero. Its other entries are fillers:
read-only zero views shared by every tuple adjoint (one per shape and dtype, no memory of their own),
which `add_tuples` passes over and `tuple_get_item` hands out as fresh zeros. Taking T entries of a
T-entry tuple then costs O(T) nodes and one shared zero array in the backward pass, not O(T²) of
each (each sum still walks the T entries of a tuple, a pointer apiece).
"""
import numpy as np

from ..autograd import LinearOp, TensorTupleOp

__all__ = ["MakeTensorTuple", "make_tuple", "TupleGetItem", "tuple_get_item", "OneHotTuple", "one_hot_tuple",
           "AddTuples", "add_tuples"]

_ZEROS = {}  # dtype: a read-only 0-d zero, the base of every filler of that dtype
_FILLERS = {}  # (shape, dtype): the filler of that shape, a read-only view of _ZEROS[dtype]


def _filler(like):
    """The shared zeros shaped and typed like the array `like`: a view, no memory of its own."""
    key = (like.shape, like.dtype)
    filler = _FILLERS.get(key)
    if filler is None:
        zero = _ZEROS.get(like.dtype)
        if zero is None:
            zero = _ZEROS[like.dtype] = np.zeros((), like.dtype)
            zero.flags.writeable = False
        if len(_FILLERS) >= 1024:  # many shapes: forget them all (any filler still in use stays one)
            _FILLERS.clear()
        filler = _FILLERS[key] = np.broadcast_to(zero, like.shape)
    return filler


def _is_filler(a):
    base = getattr(a, "base", None)
    return base is not None and base is _ZEROS.get(a.dtype)


class MakeTensorTuple(TensorTupleOp):
    """(a_1, …, a_n) as one TensorTuple node."""

    def compute(self, *args):
        return tuple(args)

    def gradient(self, out_grad, node):
        return tuple(tuple_get_item(out_grad, i) for i in range(len(node.inputs)))

    def jvp(self, tangents, node):
        return make_tuple(*tangents)  # linear: the tangents packed the same way


def make_tuple(*args):
    return MakeTensorTuple()(*args)


class TupleGetItem(LinearOp):
    """Entry `index` of a TensorTuple (negative indices count from the end)."""

    def __init__(self, index):
        self.index = index

    def compute(self, a):
        if not -len(a) <= self.index < len(a):
            raise IndexError(f"tuple_get_item: index {self.index} is out of range for {len(a)} entries")
        value = a[self.index]
        if _is_filler(value):  # needle: a tuple adjoint's zeros are shared and read-only; hand out a copy
            return np.zeros(value.shape, value.dtype)
        return value

    def gradient(self, out_grad, node):
        # The adjoint is a tuple: out_grad at `index`, shared zeros elsewhere (one node). The tuple
        # gives only shapes, detached: the adjoint is recorded only when out_grad is.
        (tup,) = node.inputs
        return (one_hot_tuple(out_grad, tup.detach(), self.index % len(tup.cached_data)),)


def tuple_get_item(value, index):
    return TupleGetItem(index)(value)


class OneHotTuple(TensorTupleOp):
    """(0, …, a, …, 0): `a` at `index` of a tuple with as many entries as the TensorTuple `like`,
    the others zeros shaped and typed like its entries (shared fillers). Linear in `a`; `like`
    gives only shapes and gets no adjoint."""

    def __init__(self, index):
        self.index = index

    def compute(self, a, like):
        if not 0 <= self.index < len(like) or np.shape(a) != np.shape(like[self.index]):
            raise ValueError(
                f"one_hot_tuple: entry {np.shape(a)} at index {self.index} of a tuple of shapes "
                f"{[np.shape(x) for x in like]}"
            )
        entries = [_filler(x) for x in like]
        entries[self.index] = a
        return tuple(entries)

    def gradient(self, out_grad, node):
        return tuple_get_item(out_grad, self.index), None

    def jvp(self, tangents, node):
        return one_hot_tuple(tangents[0], node.inputs[1], self.index)


def one_hot_tuple(a, like, index):
    """A TensorTuple shaped like `like` holding `a` at `index` and zeros elsewhere (a tuple's adjoint)."""
    return OneHotTuple(index)(a, like)


class AddTuples(TensorTupleOp):
    """(a_1 + b_1, …, a_n + b_n) for two TensorTuples with entries of equal shapes, as one node (the
    engine's TensorTuple `+`). A filler entry (a one-hot tuple's zeros) is not added: the other is taken."""

    def compute(self, a, b):
        if len(a) != len(b) or any(np.shape(x) != np.shape(y) for x, y in zip(a, b)):
            raise ValueError(
                f"add_tuples: tuples of shapes {[np.shape(x) for x in a]} and {[np.shape(y) for y in b]}: "
                "expected one length and equal shapes entry by entry"
            )
        return tuple(y if _is_filler(x) else x if _is_filler(y) else x + y for x, y in zip(a, b))

    def gradient(self, out_grad, node):
        return out_grad, out_grad

    def jvp(self, tangents, node):
        return add_tuples(*tangents)  # linear: the sum of the tangents


def add_tuples(a, b):
    """Two TensorTuples added entry by entry, in one node."""
    return AddTuples()(a, b)
