"""Ops that pack Tensors into a TensorTuple and take one back out."""
import numpy as np

from ..autograd import LinearOp, Tensor, TensorTupleOp

__all__ = ["MakeTensorTuple", "make_tuple", "TupleGetItem", "tuple_get_item"]


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
        return a[self.index]

    def gradient(self, out_grad, node):
        # The adjoint is a tuple: out_grad at `index`, zeros elsewhere.
        (tup,) = node.inputs
        index = self.index % len(tup.cached_data)
        parts = [
            out_grad if i == index else Tensor.make_const(np.zeros_like(value))
            for i, value in enumerate(tup.cached_data)
        ]
        return (make_tuple(*parts),)


def tuple_get_item(value, index):
    return TupleGetItem(index)(value)
