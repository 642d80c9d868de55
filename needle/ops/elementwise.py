"""Elementwise ops. Binary ops broadcast like NumPy; each adjoint is summed back to its input's shape."""
import numpy as np

from ..autograd import LinearOp, MultilinearOp, Tensor, TensorOp
from .shape import sum_to_shape

__all__ = [
    "EWiseAdd", "add", "AddScalar", "add_scalar", "EWiseMul", "multiply", "MulScalar", "mul_scalar",
    "EWisePow", "power", "PowerScalar", "power_scalar", "EWiseDiv", "divide", "DivScalar",
    "divide_scalar", "Negate", "negate", "Log", "log", "Exp", "exp", "ReLU", "relu",
]


def python_scalar(op_name, scalar):
    """`scalar` as a Python number, so float32 arrays stay float32 (NumPy 2 upcasts for np.float64)."""
    if isinstance(scalar, np.ndarray):
        if scalar.size != 1:
            raise ValueError(f"{op_name}: the scalar must have one element, got shape {scalar.shape}")
        scalar = scalar.item()
    if isinstance(scalar, np.generic):
        scalar = scalar.item()
    if not isinstance(scalar, (int, float)) or isinstance(scalar, bool):
        raise TypeError(f"{op_name}: expected a real scalar, got {type(scalar).__name__}")
    return scalar


class EWiseAdd(LinearOp):
    """a + b, broadcasting."""

    def compute(self, a, b):
        return a + b

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        return sum_to_shape(out_grad, lhs.shape), sum_to_shape(out_grad, rhs.shape)


def add(a, b):
    return EWiseAdd()(a, b)


class AddScalar(TensorOp):
    """a + c for a Python scalar c."""

    def __init__(self, scalar):
        self.scalar = python_scalar("add_scalar", scalar)

    def compute(self, a):
        return a + self.scalar

    def gradient(self, out_grad, node):
        return out_grad

    def jvp(self, tangents, node):
        return tangents[0]


def add_scalar(a, scalar):
    return AddScalar(scalar)(a)


class EWiseMul(MultilinearOp):
    """a * b, broadcasting."""

    def compute(self, a, b):
        return a * b

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        return sum_to_shape(out_grad * rhs, lhs.shape), sum_to_shape(out_grad * lhs, rhs.shape)


def multiply(a, b):
    return EWiseMul()(a, b)


class MulScalar(LinearOp):
    """a * c for a Python scalar c."""

    def __init__(self, scalar):
        self.scalar = python_scalar("mul_scalar", scalar)

    def compute(self, a):
        return a * self.scalar

    def gradient(self, out_grad, node):
        return out_grad * self.scalar


def mul_scalar(a, scalar):
    return MulScalar(scalar)(a)


class EWisePow(TensorOp):
    """a ** b, broadcasting. d/da = b·a^(b−1), d/db = a^b·ln a (a > 0 where b's adjoint matters)."""

    def compute(self, a, b):
        return np.power(a, b)

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        grad_lhs = out_grad * rhs * power(lhs, rhs - 1)
        grad_rhs = out_grad * node * log(lhs)
        return sum_to_shape(grad_lhs, lhs.shape), sum_to_shape(grad_rhs, rhs.shape)

    def jvp(self, tangents, node):
        lhs, rhs = node.inputs
        t_lhs, t_rhs = tangents
        return t_lhs * rhs * power(lhs, rhs - 1) + t_rhs * node * log(lhs)


def power(a, b):
    return EWisePow()(a, b)


class PowerScalar(TensorOp):
    """a ** c for a real scalar c (0, negative and fractional too). d/da = c·a^(c−1)."""

    def __init__(self, scalar):
        self.scalar = python_scalar("power_scalar", scalar)

    def compute(self, a):
        return np.power(a, self.scalar)

    def _derivative(self, a):
        if self.scalar == 0:
            return Tensor.make_const(np.zeros_like(a.cached_data))
        return power_scalar(a, self.scalar - 1) * self.scalar

    def gradient(self, out_grad, node):
        return out_grad * self._derivative(node.inputs[0])

    def jvp(self, tangents, node):
        return tangents[0] * self._derivative(node.inputs[0])


def power_scalar(a, scalar):
    return PowerScalar(scalar)(a)


class EWiseDiv(TensorOp):
    """a / b, broadcasting. d/da = 1/b, d/db = −a/b²."""

    def compute(self, a, b):
        return a / b

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        grad_lhs = out_grad / rhs
        grad_rhs = -grad_lhs * node
        return sum_to_shape(grad_lhs, lhs.shape), sum_to_shape(grad_rhs, rhs.shape)

    def jvp(self, tangents, node):
        lhs, rhs = node.inputs
        t_lhs, t_rhs = tangents
        return (t_lhs - t_rhs * node) / rhs


def divide(a, b):
    return EWiseDiv()(a, b)


class DivScalar(LinearOp):
    """a / c for a scalar c (a Python number or a one-element array)."""

    def __init__(self, scalar):
        self.scalar = python_scalar("divide_scalar", scalar)

    def compute(self, a):
        return a / self.scalar

    def gradient(self, out_grad, node):
        return out_grad / self.scalar


def divide_scalar(a, scalar):
    return DivScalar(scalar)(a)


class Negate(LinearOp):
    """−a."""

    def compute(self, a):
        return np.negative(a)

    def gradient(self, out_grad, node):
        return negate(out_grad)


def negate(a):
    return Negate()(a)


class Log(TensorOp):
    """Natural logarithm, ln a. d/da = 1/a."""

    def compute(self, a):
        return np.log(a)

    def gradient(self, out_grad, node):
        return out_grad / node.inputs[0]

    def jvp(self, tangents, node):
        return tangents[0] / node.inputs[0]


def log(a):
    return Log()(a)


class Exp(TensorOp):
    """e^a. d/da = e^a, the output itself."""

    def compute(self, a):
        return np.exp(a)

    def gradient(self, out_grad, node):
        return out_grad * node

    def jvp(self, tangents, node):
        return tangents[0] * node


def exp(a):
    return Exp()(a)


class ReLU(TensorOp):
    """max(a, 0). Subgradient 0 at a = 0; the mask is a constant, so second derivatives are 0."""

    def compute(self, a):
        return np.maximum(a, 0)

    def _mask(self, node):
        a = node.inputs[0].cached_data
        return Tensor.make_const((a > 0).astype(a.dtype))

    def gradient(self, out_grad, node):
        return out_grad * self._mask(node)

    def jvp(self, tangents, node):
        return tangents[0] * self._mask(node)


def relu(a):
    return ReLU()(a)
