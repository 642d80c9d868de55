"""Ops that compare or select elementwise: maximum, minimum, where, clip (clamp), and bool comparison
masks; `allclose` sums a comparison up as one Python bool.

Selections pass each adjoint to the entry that was picked, through constant masks, so their second
derivatives are 0. Comparisons return bool masks and record no graph (`differentiable = False`).
"""
import numpy as np

from ..autograd import Tensor, TensorOp, as_tensor
from .elementwise import ElementwiseFunction, python_scalar
from .broadcast import sum_to_shape

__all__ = [
    "Maximum", "maximum", "Minimum", "minimum", "Where", "where", "Clip", "clip", "clamp", "allclose",
    "Less", "less", "LessEqual", "less_equal", "Greater", "greater", "GreaterEqual", "greater_equal",
    "Equal", "equal", "NotEqual", "not_equal",
]


class _PairwiseSelect(TensorOp):
    """The larger (or smaller) of a and b, broadcasting; `wins(a, b)` says where a is picked.

    The adjoint goes to the picked entry; at ties it is split 1/2–1/2, and at a NaN neither gets it.
    """

    pick = None
    wins = None

    def compute(self, a, b):
        return self.pick(a, b)

    def _weights(self, node, dtype):
        lhs, rhs = node.inputs
        a, b = lhs.cached_data, rhs.cached_data
        tie = a == b
        weight_lhs = np.where(tie, 0.5, self.wins(a, b)).astype(dtype)
        weight_rhs = np.where(tie, 0.5, self.wins(b, a)).astype(dtype)
        return Tensor.make_const(weight_lhs), Tensor.make_const(weight_rhs)

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        weight_lhs, weight_rhs = self._weights(node, out_grad.dtype)
        grad_lhs = sum_to_shape(out_grad * weight_lhs, lhs.shape)
        return grad_lhs, sum_to_shape(out_grad * weight_rhs, rhs.shape)

    def jvp(self, tangents, node):
        t_lhs, t_rhs = tangents
        weight_lhs, weight_rhs = self._weights(node, t_lhs.dtype)
        return t_lhs * weight_lhs + t_rhs * weight_rhs


class Maximum(_PairwiseSelect):
    """max(a, b) elementwise, broadcasting. The adjoint goes to the larger; ties split it 1/2–1/2."""

    pick = staticmethod(np.maximum)
    wins = staticmethod(np.greater)


def maximum(a, b):
    return Maximum()(a, b)


class Minimum(_PairwiseSelect):
    """min(a, b) elementwise, broadcasting. The adjoint goes to the smaller; ties split it 1/2–1/2."""

    pick = staticmethod(np.minimum)
    wins = staticmethod(np.less)


def minimum(a, b):
    return Minimum()(a, b)


class Where(TensorOp):
    """a where condition holds, else b; all three broadcast. The condition is not differentiated.

    Linear in (a, b) for a fixed condition: each adjoint is the output adjoint where its side is picked.
    """

    def compute(self, condition, a, b):
        return np.where(condition, a, b)

    def gradient(self, out_grad, node):
        condition, lhs, rhs = node.inputs
        zero = Tensor.make_const(np.zeros((), dtype=out_grad.dtype))
        grad_lhs = sum_to_shape(where(condition, out_grad, zero), lhs.shape)
        grad_rhs = sum_to_shape(where(condition, zero, out_grad), rhs.shape)
        return None, grad_lhs, grad_rhs

    def jvp(self, tangents, node):
        _, t_lhs, t_rhs = tangents
        return where(node.inputs[0], t_lhs, t_rhs)


def where(condition, a, b):
    """`condition`: a bool (or 0/1) Tensor or array. Either `a` or `b` may be a scalar (other's dtype)."""
    if not isinstance(condition, Tensor):
        condition = Tensor.make_const(np.asarray(condition))
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError("where: a or b must be a Tensor")
    return Where()(condition, as_tensor("where", a, b), as_tensor("where", b, a))


class Clip(ElementwiseFunction):
    """a limited to [min, max] elementwise (a missing bound is open); if min > max, every entry is max.

    The adjoint passes only strictly inside, min < a < max; it is 0 at and beyond the bounds.
    """

    def __init__(self, low=None, high=None):
        if low is None and high is None:
            raise ValueError("clip: at least one of min and max must be given")
        self.low = None if low is None else python_scalar("clip", low)
        self.high = None if high is None else python_scalar("clip", high)

    def compute(self, a):
        return np.clip(a, self.low, self.high)

    def scale_by_derivative(self, v, node):
        # A bool mask, as in ReLU: multiplying by it keeps v's dtype.
        a = node.inputs[0].cached_data
        if self.low is None:
            inside = a < self.high
        elif self.high is None:
            inside = a > self.low
        else:
            inside = (a > self.low) & (a < self.high)
        return v * Tensor.make_const(inside)


def clip(a, min=None, max=None):  # noqa: A002  (PyTorch's names for the bounds)
    return Clip(min, max)(a)


clamp = clip  # PyTorch's name


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether |a − b| <= atol + rtol·|b| everywhere (broadcasting), as a Python bool; Tensors or arrays."""
    return bool(np.allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol, equal_nan=equal_nan))


class _Comparison(TensorOp):
    """An elementwise test of a against b (a Tensor, broadcasting) or a scalar: a bool mask, no graph."""

    differentiable = False
    op_name = None
    test = None

    def __init__(self, scalar=None):
        self.scalar = None if scalar is None else python_scalar(self.op_name, scalar)

    def compute(self, a, b=None):
        return self.test(a, self.scalar if b is None else b)


def _compare(op_class, a, b):
    """a against b: a Tensor or array `b` makes an elementwise node, a number a scalar node."""
    if isinstance(b, Tensor) or np.size(b) != 1:
        return op_class()(a, as_tensor(op_class.__name__.lower(), b, a))
    return op_class(b)(a)


class Less(_Comparison):
    """a < b elementwise, a bool mask."""

    op_name = "less"
    test = staticmethod(np.less)


def less(a, b):
    return _compare(Less, a, b)


class LessEqual(_Comparison):
    """a <= b elementwise, a bool mask."""

    op_name = "less_equal"
    test = staticmethod(np.less_equal)


def less_equal(a, b):
    return _compare(LessEqual, a, b)


class Greater(_Comparison):
    """a > b elementwise, a bool mask."""

    op_name = "greater"
    test = staticmethod(np.greater)


def greater(a, b):
    return _compare(Greater, a, b)


class GreaterEqual(_Comparison):
    """a >= b elementwise, a bool mask."""

    op_name = "greater_equal"
    test = staticmethod(np.greater_equal)


def greater_equal(a, b):
    return _compare(GreaterEqual, a, b)


class Equal(_Comparison):
    """a == b elementwise, a bool mask (needle: a function only; Tensor == Tensor is identity)."""

    op_name = "equal"
    test = staticmethod(np.equal)


def equal(a, b):
    return _compare(Equal, a, b)


class NotEqual(_Comparison):
    """a != b elementwise, a bool mask (needle: a function only; Tensor != Tensor is identity)."""

    op_name = "not_equal"
    test = staticmethod(np.not_equal)


def not_equal(a, b):
    return _compare(NotEqual, a, b)
