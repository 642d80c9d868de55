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


def _filler(shape, dtype):
    """The shared zeros of `shape` and `dtype`: a view, no memory of its own."""
    filler = _FILLERS.get((shape, dtype))
    if filler is None:
        zero = _ZEROS.get(dtype)
        if zero is None:
            zero = _ZEROS[dtype] = np.zeros((), dtype)
            zero.flags.writeable = False
        if len(_FILLERS) >= 1024:  # many shapes: forget them all (any filler still in use stays one)
            _FILLERS.clear()
        filler = _FILLERS[(shape, dtype)] = np.broadcast_to(zero, shape)
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
        # The adjoint is a tuple: out_grad at `index`, shared zeros elsewhere (one node).
        (tup,) = node.inputs
        return (one_hot_tuple(out_grad, tup, self.index % len(tup.cached_data)),)


def tuple_get_item(value, index):
    return TupleGetItem(index)(value)


class OneHotTuple(TensorTupleOp):
    """(0, …, a, …, 0): `a` at `index` of a tuple whose entries have the (shape, dtype) `specs`, the
    others zeros (shared fillers). Linear."""

    def __init__(self, index, specs):
        self.index = index
        self.specs = specs

    def compute(self, a):
        if not 0 <= self.index < len(self.specs) or np.shape(a) != self.specs[self.index][0]:
            raise ValueError(
                f"one_hot_tuple: entry {np.shape(a)} at index {self.index} of a tuple of shapes "
                f"{[shape for shape, _ in self.specs]}"
            )
        entries = [_filler(shape, dtype) for shape, dtype in self.specs]
        entries[self.index] = a
        return tuple(entries)

    def gradient(self, out_grad, node):
        return tuple_get_item(out_grad, self.index)

    def jvp(self, tangents, node):
        return self(tangents[0])  # linear: the tangent placed the same way


def one_hot_tuple(a, like, index):
    """A TensorTuple with the entries' shapes and dtypes of the TensorTuple `like`, holding `a` at
    `index` and zeros elsewhere (a tuple's adjoint). Only `like`'s shapes are read."""
    specs = tuple((np.shape(x), x.dtype) for x in like.cached_data)
    return OneHotTuple(index, specs)(a)


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
