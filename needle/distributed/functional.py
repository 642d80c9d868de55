"""Collectives that autograd differentiates: a sum over ranks whose adjoint is again a sum over ranks."""
import numpy as np

from ..autograd import LinearOp, as_tensor
from . import world

__all__ = ["AllReduceSum", "all_reduce"]


class AllReduceSum(LinearOp):
    """y = Σ_r x_r: the elementwise sum of every rank's x (same shape and dtype); the identity in a world of one.

    With a total loss L = Σ_q L_q, ∂L/∂x_r = Σ_q ∂L_q/∂y: each rank's adjoint of y, summed over the
    ranks, so the gradient is the op again. Every rank must run the backward pass through it too.
    """

    def compute(self, a):
        result = np.array(a, copy=True, order="C")
        world.flat_all_reduce_sum(result.reshape(-1))
        return result

    def gradient(self, out_grad, node):
        return all_reduce(out_grad)


def all_reduce(tensor):
    """The sum of `tensor` over every rank, as a node of the graph (see AllReduceSum)."""
    return AllReduceSum()(as_tensor("all_reduce", tensor))
