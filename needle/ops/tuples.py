"""Ops that pack Tensors into a TensorTuple, take one back out, and add two of them.

A tuple's adjoint from `tuple_get_item` has one entry that is not zero. Its other entries are fillers:
read-only zero views shared by every tuple adjoint (one per shape and dtype, no memory of their own),
which `add_tuples` passes over and `tuple_get_item` hands out as fresh zeros. Taking T entries of a
T-entry tuple then costs O(T) nodes and one shared zero array in the backward pass, not O(T²) of
each (each sum still walks the T entries of a tuple, a pointer apiece).
"""
import operator

import numpy as np

from ..autograd import LinearOp, TensorTupleOp

__all__ = ["MakeTensorTuple", "make_tuple", "TupleGetItem", "tuple_get_item", "OneHotTuple", "one_hot_tuple",
           "AddTuples", "add_tuples"]

_ZEROS = {}  # dtype: a read-only 0-d zero, the base of every filler of that dtype
_FILLERS = {}  # (shape, dtype): the filler of that shape, a read-only view of _ZEROS[dtype]
_FILLER_IDS = set()  # the ids of the fillers in _FILLERS (never removed, so never an id reused)


def _filler(shape, dtype):
    """The shared zeros of `shape` and `dtype`: a view, no memory of its own."""
    filler = _FILLERS.get((shape, dtype))
    if filler is None:
        zero = _ZEROS.get(dtype)
        if zero is None:
            zero = _ZEROS[dtype] = np.zeros((), dtype)
            zero.flags.writeable = False
        filler = np.broadcast_to(zero, shape)
        if len(_FILLERS) < 4096:  # past that many shapes a filler is not shared: added like any zeros
            _FILLERS[(shape, dtype)] = filler
            _FILLER_IDS.add(id(filler))
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
    """(0, …, a, …, 0): `a` at `index` of a tuple whose other entries are the shared zeros `fillers`
    (one per entry, shaped like it). Linear."""

    def __init__(self, index, fillers):
        self.index = index
        self.fillers = fillers

    def compute(self, a):
        if not 0 <= self.index < len(self.fillers) or np.shape(a) != self.fillers[self.index].shape:
            raise ValueError(
                f"one_hot_tuple: entry {np.shape(a)} at index {self.index} of a tuple of shapes "
                f"{[f.shape for f in self.fillers]}"
            )
        entries = list(self.fillers)
        entries[self.index] = a
        return tuple(entries)

    def gradient(self, out_grad, node):
        return tuple_get_item(out_grad, self.index)

    def jvp(self, tangents, node):
        return self(tangents[0])  # linear: the tangent placed the same way


_SPEC = operator.attrgetter("shape", "dtype")


def one_hot_tuple(a, like, index):
    """A TensorTuple with the entries' shapes and dtypes of the TensorTuple `like`, holding `a` at
    `index` and zeros elsewhere (a tuple's adjoint). Only `like`'s shapes are read."""
    specs = list(map(_SPEC, like.cached_data))
    if specs and specs.count(specs[0]) == len(specs):  # one shape (a split): one filler, no loop
        fillers = (_filler(*specs[0]),) * len(specs)
    else:
        fillers = tuple([_filler(*spec) for spec in specs])
    return OneHotTuple(index, fillers)(a)


class AddTuples(TensorTupleOp):
    """(a_1 + b_1, …, a_n + b_n) for two TensorTuples with entries of equal shapes, as one node (the
    engine's TensorTuple `+`). A filler entry (a one-hot tuple's zeros) is not added: the other is taken."""

    def compute(self, a, b):
        if len(a) != len(b):
            self._refuse(a, b)
        fillers = _FILLER_IDS
        # b's entries that are not fillers, found by identity in one vectorized pass over their ids
        ids = np.fromiter(map(id, b), np.intp, len(b))
        present = np.flatnonzero(~np.isin(ids, np.fromiter(fillers, np.intp, len(fillers))))
        out = list(a)
        for i in present.tolist():
            x, y = a[i], b[i]
            if np.shape(x) != np.shape(y):
                self._refuse(a, b)
            out[i] = y if id(x) in fillers else x + y
        return tuple(out)

    @staticmethod
    def _refuse(a, b):
        raise ValueError(
            f"add_tuples: tuples of shapes {[np.shape(x) for x in a]} and {[np.shape(y) for y in b]}: "
            "expected one length and equal shapes entry by entry"
        )

    def gradient(self, out_grad, node):
        return out_grad, out_grad

    def jvp(self, tangents, node):
        return add_tuples(*tangents)  # linear: the sum of the tangents


def add_tuples(a, b):
    """Two TensorTuples added entry by entry, in one node."""
    return AddTuples()(a, b)
