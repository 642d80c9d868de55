"""Ops that move or reshape data without arithmetic, and the helper that undoes broadcasting."""
import numpy as np

from ..autograd import LinearOp, Tensor

__all__ = ["Reshape", "reshape", "BroadcastTo", "broadcast_to", "Transpose", "transpose", "sum_to_shape"]


def sum_to_shape(grad, shape):
    """Sum `grad` over the axes that broadcasting added or stretched, giving a Tensor of `shape`.

    The adjoint of broadcasting: leading axes are summed away, stretched size-1 axes summed and kept.
    """
    shape = tuple(shape)
    if grad.shape == shape:
        return grad
    lead = len(grad.shape) - len(shape)
    if lead < 0:
        raise ValueError(f"sum_to_shape: cannot reduce {grad.shape} to the larger rank of {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    for i, size in enumerate(shape):
        if size != 1 and grad.shape[lead + i] != size:
            raise ValueError(f"sum_to_shape: {grad.shape} does not broadcast from {shape}")
    if axes:
        grad = summation(grad, axes)
    return reshape(grad, shape) if grad.shape != shape else grad


class Reshape(LinearOp):
    """The same elements in a new shape (one entry may be -1)."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def compute(self, a):
        if -1 not in self.shape and int(np.prod(self.shape)) != a.size:
            raise ValueError(f"reshape: cannot reshape {a.shape} ({a.size} elements) into {self.shape}")
        return np.reshape(a, self.shape)

    def gradient(self, out_grad, node):
        return reshape(out_grad, node.inputs[0].shape)


def reshape(a, shape):
    return Reshape(shape)(a)


class BroadcastTo(LinearOp):
    """NumPy broadcasting of `a` to `shape`: leading axes prepended, size-1 axes stretched."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def compute(self, a):
        try:
            return np.broadcast_to(a, self.shape)
        except ValueError:
            raise ValueError(f"broadcast_to: {a.shape} does not broadcast to {self.shape}") from None

    def gradient(self, out_grad, node):
        return sum_to_shape(out_grad, node.inputs[0].shape)


def broadcast_to(a, shape):
    return BroadcastTo(shape)(a)


class Transpose(LinearOp):
    """Swap two axes (needle: `axes` is a pair (i, j); default the last two)."""

    def __init__(self, axes=None):
        if axes is not None and len(axes) != 2:
            raise ValueError(f"transpose: axes must be a pair (i, j), got {axes!r}; use permute")
        self.axes = None if axes is None else tuple(axes)

    def compute(self, a):
        if a.ndim < 2:
            raise ValueError(f"transpose: needs at least 2 dimensions, got shape {a.shape}")
        i, j = (-1, -2) if self.axes is None else self.axes
        return np.swapaxes(a, i, j)

    def gradient(self, out_grad, node):
        return transpose(out_grad, self.axes)


def transpose(a, axes=None):
    return Transpose(axes)(a)


from .reduction import summation  # noqa: E402  (reduction uses this module's ops too)
