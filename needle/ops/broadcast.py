"""Broadcasting and summation, each the other's adjoint, and `sum_to_shape`, which undoes broadcasting."""
import math

import numpy as np

from ..autograd import LinearOp, TensorOp
from .axes import axis_aliases
from .shape import as_shape, reshape

__all__ = ["BroadcastTo", "broadcast_to", "Summation", "summation", "sum_to_shape", "expand", "repeat"]


def normalize_axes(op_name, axes, shape):
    """`axes` (None, an int or a sequence) as a sorted tuple of non-negative axes of `shape`.

    None means all axes. A 0-d input accepts axis 0 or −1 and reduces nothing (like PyTorch).
    """
    if axes is None:
        return tuple(range(len(shape)))
    if not isinstance(axes, (tuple, list)):
        axes = (axes,)
    ndim = len(shape)
    bound = ndim if ndim else 1
    result = []
    for axis in axes:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{op_name}: axes must be ints, got {axis!r} for shape {shape}")
        if not -bound <= axis < bound:
            raise ValueError(f"{op_name}: axis {axis} is out of range for shape {shape}")
        result.append(int(axis) % bound)
    if len(set(result)) != len(result):
        raise ValueError(f"{op_name}: repeated axis in {tuple(axes)} for shape {shape}")
    return tuple(sorted(result)) if ndim else ()


def check_nonempty(op_name, shape, axes):
    if any(shape[axis] == 0 for axis in axes):
        raise ValueError(f"{op_name}: cannot reduce shape {shape} over an empty axis (axes {axes})")


def reduced_count(shape, axes):
    """How many entries of `shape` a reduction over the normalized `axes` combines into one."""
    return math.prod(shape[axis] for axis in axes)


def mean_over(a, axes, keepdims=True):
    """np.mean(a, axes, keepdims=...) over the normalized `axes`, bit for bit.

    A speed trick: float32 and float64 take one `np.add.reduce` and a division, without np.mean's
    Python layer (2 µs a call; workload 5 takes four means per BatchNorm1d a step). Other dtypes
    go through np.mean, which accumulates integers and float16 in a wider type.
    """
    if a.dtype.char not in "fd":
        return np.mean(a, axis=axes, keepdims=keepdims)
    return np.add.reduce(a, axis=axes, keepdims=keepdims) / reduced_count(a.shape, axes)


def expand_reduced(grad, axes, shape):
    """Undo a reduction for the adjoint: put back the reduced `axes` as size 1, broadcast to `shape`."""
    kept = tuple(1 if i in axes else size for i, size in enumerate(shape))
    if grad.shape != kept:
        grad = reshape(grad, kept)
    return broadcast_to(grad, shape) if kept != tuple(shape) else grad


class Summation(LinearOp):
    """Sum over axes (all when None); reduced axes are dropped unless `keepdims`."""

    def __init__(self, axes=None, keepdims=False):
        self.axes = axes
        self.keepdims = keepdims

    def compute(self, a):
        axes = normalize_axes("summation", self.axes, a.shape)
        return a.sum(axis=axes, keepdims=self.keepdims)

    def gradient(self, out_grad, node):
        shape = node.inputs[0].shape
        return expand_reduced(out_grad, normalize_axes("summation", self.axes, shape), shape)


@axis_aliases
def summation(a, axes=None, keepdims=False):
    return Summation(axes, keepdims)(a)


class BroadcastTo(LinearOp):
    """NumPy broadcasting of `a` to `shape`: leading axes prepended, size-1 axes stretched."""

    def __init__(self, shape):
        self.shape = as_shape(shape)

    def compute(self, a):
        try:
            return np.broadcast_to(a, self.shape)
        except ValueError:
            raise ValueError(f"broadcast_to: {a.shape} does not broadcast to {self.shape}") from None

    def gradient(self, out_grad, node):
        return sum_to_shape(out_grad, node.inputs[0].shape)


def broadcast_to(a, shape):
    return BroadcastTo(shape)(a)


def _sizes(sizes):
    """`*sizes` as a shape tuple: given as separate ints or as one sequence (`expand(2, 3)`, `expand((2, 3))`)."""
    if len(sizes) == 1 and not isinstance(sizes[0], (int, np.integer)):
        sizes = sizes[0]
    return as_shape(sizes)


def expand(a, *sizes):
    """`a` broadcast to `sizes` (PyTorch's expand): -1 keeps an axis's size, new axes go in front.

    Only size-1 axes stretch. A view in PyTorch, a broadcast_to node here (its adjoint sums).
    """
    sizes = _sizes(sizes)
    lead = len(sizes) - len(a.shape)
    if lead < 0:
        raise ValueError(f"expand: {sizes} has fewer sizes than the {len(a.shape)} axes of {a.shape}")
    shape = []
    for i, size in enumerate(sizes):
        old = a.shape[i - lead] if i >= lead else None
        if size == -1 and old is not None:
            size = old
        if size < 0 or (old is not None and old not in (1, size)):
            raise ValueError(
                f"expand: {a.shape} cannot expand to {sizes}: size {sizes[i]} at axis {i} "
                f"({'a new axis' if old is None else f'existing size {old}'})"
            )
        shape.append(size)
    return broadcast_to(a, tuple(shape))


def repeat(a, *sizes):
    """`a` tiled `sizes[i]` times along axis i (PyTorch's repeat, NumPy's tile); extra sizes add
    leading axes. Composed as reshape, broadcast, reshape, so the adjoint sums the tiles."""
    sizes = _sizes(sizes)
    lead = len(sizes) - len(a.shape)
    if lead < 0 or any(size < 0 for size in sizes):
        raise ValueError(
            f"repeat: sizes {sizes} must be non-negative and at least as many as the axes of {a.shape}"
        )
    shape = (1,) * lead + tuple(a.shape)
    spread = reshape(a, tuple(size for axis in shape for size in (1, axis)))
    tiled = broadcast_to(spread, tuple(size for pair in zip(sizes, shape) for size in pair))
    return reshape(tiled, tuple(r * s for r, s in zip(sizes, shape)))


def sum_to_shape(grad, shape):
    """Sum `grad` over the axes that broadcasting added or stretched, giving a Tensor of `shape`.

    The adjoint of broadcasting: leading axes are summed away, stretched size-1 axes summed and kept.
    """
    grad_shape = grad.shape
    shape = tuple(shape)
    if grad_shape == shape:
        return grad
    lead = len(grad_shape) - len(shape)
    if lead < 0:
        raise ValueError(f"sum_to_shape: cannot reduce {grad_shape} to the larger rank of {shape}")
    stretched = []
    for i, size in enumerate(shape):
        if size != grad_shape[lead + i]:
            if size != 1:
                raise ValueError(f"sum_to_shape: {grad_shape} does not broadcast from {shape}")
            stretched.append(lead + i)
    if not lead:  # one node: stretched axes summed and kept
        return Summation(tuple(stretched), True)(grad)  # the class: no alias handling on this path
    grad = Summation(tuple(range(lead)) + tuple(stretched))(grad)
    return reshape(grad, shape) if grad.shape != shape else grad


class WeightedReduction(TensorOp):
    """Base of the reductions y = r(a) over `axes` whose derivative is one weight per entry,
    D = ∂y/∂a (`derivative(node)` gives D and the normalized axes): ā = D·ȳ broadcast back over
    the reduced axes, and ẏ = Σ_axes D·ȧ. Subclasses set `axes` and `keepdims`."""

    def derivative(self, node):
        raise NotImplementedError(f"{type(self).__name__}.derivative is not defined")

    def gradient(self, out_grad, node):
        weights, axes = self.derivative(node)
        return expand_reduced(out_grad, axes, weights.shape) * weights

    def jvp(self, tangents, node):
        weights, axes = self.derivative(node)
        return summation(tangents[0] * weights, axes, keepdims=self.keepdims)

