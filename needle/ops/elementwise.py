"""Elementwise ops. Binary ops broadcast like NumPy; each adjoint is summed back to its input's shape."""
import numpy as np

from ..autograd import LinearOp, MultilinearOp, Tensor, TensorOp
from .broadcast import sum_to_shape

__all__ = [
    "EWiseAdd", "add", "AddScalar", "add_scalar", "EWiseMul", "multiply", "MulScalar", "mul_scalar",
    "EWisePow", "power", "PowerScalar", "power_scalar", "EWiseDiv", "divide", "DivScalar",
    "divide_scalar", "Negate", "negate", "Log", "log", "Exp", "exp", "ReLU", "relu", "Tanh", "tanh",
    "Sigmoid", "sigmoid", "Sqrt", "sqrt", "Sin", "sin", "Cos", "cos", "Abs", "abs", "Cast", "cast",
]


def python_scalar(op_name, scalar):
    """`scalar` as a Python number, so float32 arrays stay float32 (NumPy 2 upcasts for np.float64)."""
    if type(scalar) is float or type(scalar) is int:
        return scalar
    if isinstance(scalar, np.ndarray):
        if scalar.size != 1:
            raise ValueError(f"{op_name}: the scalar must have one element, got shape {scalar.shape}")
        scalar = scalar.item()
    if isinstance(scalar, np.generic):
        scalar = scalar.item()
    if not isinstance(scalar, (int, float)) or isinstance(scalar, bool):
        raise TypeError(f"{op_name}: expected a real scalar, got {type(scalar).__name__}")
    return scalar


class ElementwiseFunction(TensorOp):
    """y = f(a) elementwise: the adjoint ȳ·f'(a) and the tangent ȧ·f'(a) share `scale_by_derivative`."""

    def scale_by_derivative(self, v, node):
        """v·f'(a) for a Tensor v shaped like the output."""
        raise NotImplementedError(f"{type(self).__name__}.scale_by_derivative is not defined")

    def gradient(self, out_grad, node):
        return self.scale_by_derivative(out_grad, node)

    def jvp(self, tangents, node):
        return self.scale_by_derivative(tangents[0], node)


class EWiseAdd(LinearOp):
    """a + b, broadcasting."""

    def compute(self, a, b):
        return a + b

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        return (
            sum_to_shape(out_grad, lhs.shape) if lhs.requires_grad else None,
            sum_to_shape(out_grad, rhs.shape) if rhs.requires_grad else None,
        )


def add(a, b):
    return EWiseAdd()(a, b)


class AddScalar(ElementwiseFunction):
    """a + c for a Python scalar c. d/da = 1."""

    def __init__(self, scalar):
        self.scalar = scalar if type(scalar) is float else python_scalar("add_scalar", scalar)

    def compute(self, a):
        return a + self.scalar

    def scale_by_derivative(self, v, node):
        return v


def add_scalar(a, scalar):
    return AddScalar(scalar)(a)


class EWiseMul(MultilinearOp):
    """a * b, broadcasting."""

    def compute(self, a, b):
        return a * b

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        # A constant factor (a dropout mask, a batch) gets no adjoint: its product would be wasted.
        return (
            sum_to_shape(out_grad * rhs, lhs.shape) if lhs.requires_grad else None,
            sum_to_shape(out_grad * lhs, rhs.shape) if rhs.requires_grad else None,
        )


def multiply(a, b):
    return EWiseMul()(a, b)


class MulScalar(LinearOp):
    """a * c for a Python scalar c."""

    def __init__(self, scalar):
        self.scalar = scalar if type(scalar) is float else python_scalar("mul_scalar", scalar)

    def compute(self, a):
        return a * self.scalar

    def gradient(self, out_grad, node):
        return self(out_grad)  # self-adjoint: ḡ·c


def mul_scalar(a, scalar):
    return MulScalar(scalar)(a)


class EWisePow(TensorOp):
    """a ** b, broadcasting. d/da = b·a^(b−1), d/db = a^b·ln a.

    At a = 0 the formulas form 0·∞; as in PyTorch, d/da is 0 where b = 0 and d/db is 0 where
    b ≥ 0 (the base is replaced by 1 there, a constant, so higher orders stay finite too).
    """

    def compute(self, a, b):
        return np.power(a, b)

    def _bases(self, node):
        """(base for d/da, base for d/db): a with 1 where the derivative is 0 by convention."""
        lhs, rhs = node.inputs
        zero_base = lhs.cached_data == 0  # the raw data only decides where the convention applies
        exponent = rhs.cached_data
        return _ones_where(lhs, zero_base & (exponent == 0)), _ones_where(lhs, zero_base & (exponent >= 0))

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        base_lhs, base_rhs = self._bases(node)
        grad_lhs = sum_to_shape(out_grad * rhs * power(base_lhs, rhs - 1), lhs.shape)
        # ln a only for an exponent that needs it: it is nan for a < 0, where x ** 2 is still fine.
        if not rhs.requires_grad:
            return grad_lhs, None
        return grad_lhs, sum_to_shape(out_grad * node * log(base_rhs), rhs.shape)

    def jvp(self, tangents, node):
        lhs, rhs = node.inputs
        t_lhs, t_rhs = tangents
        base_lhs, base_rhs = self._bases(node)
        tangent = t_lhs * rhs * power(base_lhs, rhs - 1)
        if not rhs.requires_grad:  # a constant exponent: its tangent is 0, and 0·ln(a < 0) is nan
            return tangent
        return tangent + t_rhs * node * log(base_rhs)


def _ones_where(a, mask):
    """a·(1 − mask) + mask for a bool array `mask` (broadcast with a): a, with 1 where masked."""
    if not mask.any():
        return a
    return a * Tensor.make_const((~mask).astype(a.dtype)) + Tensor.make_const(mask.astype(a.dtype))


def power(a, b):
    return EWisePow()(a, b)


class PowerScalar(ElementwiseFunction):
    """a ** c for a real scalar c (0, negative and fractional too). d/da = c·a^(c−1)."""

    def __init__(self, scalar):
        self.scalar = scalar if type(scalar) is float else python_scalar("power_scalar", scalar)

    def compute(self, a):
        return np.power(a, self.scalar)

    def _derivative(self, a):
        if self.scalar == 0:
            return Tensor.make_const(np.zeros_like(a.cached_data))
        return power_scalar(a, self.scalar - 1) * self.scalar

    def scale_by_derivative(self, v, node):
        return v * self._derivative(node.inputs[0])


def power_scalar(a, scalar):
    return PowerScalar(scalar)(a)


class EWiseDiv(TensorOp):
    """a / b, broadcasting. d/da = 1/b, d/db = −a/b²."""

    def compute(self, a, b):
        return a / b

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        grad_lhs = out_grad / rhs
        return (
            sum_to_shape(grad_lhs, lhs.shape) if lhs.requires_grad else None,
            sum_to_shape(-grad_lhs * node, rhs.shape) if rhs.requires_grad else None,
        )

    def jvp(self, tangents, node):
        lhs, rhs = node.inputs
        t_lhs, t_rhs = tangents
        return (t_lhs - t_rhs * node) / rhs


def divide(a, b):
    return EWiseDiv()(a, b)


class DivScalar(LinearOp):
    """a / c for a scalar c (a Python number or a one-element array)."""

    def __init__(self, scalar):
        self.scalar = scalar if type(scalar) is float else python_scalar("divide_scalar", scalar)

    def compute(self, a):
        return a / self.scalar

    def gradient(self, out_grad, node):
        return self(out_grad)  # self-adjoint: ḡ/c


def divide_scalar(a, scalar):
    return DivScalar(scalar)(a)


class Negate(LinearOp):
    """−a."""

    def compute(self, a):
        return np.negative(a)

    def gradient(self, out_grad, node):
        return self(out_grad)  # self-adjoint: −ḡ


def negate(a):
    return Negate()(a)


class Log(ElementwiseFunction):
    """Natural logarithm, ln a. d/da = 1/a."""

    def compute(self, a):
        return np.log(a)

    def scale_by_derivative(self, v, node):
        return v / node.inputs[0]


def log(a):
    return Log()(a)


class Exp(ElementwiseFunction):
    """e^a. d/da = e^a, the output itself."""

    def compute(self, a):
        return np.exp(a)

    def scale_by_derivative(self, v, node):
        return v * node


def exp(a):
    return Exp()(a)


class ReLU(ElementwiseFunction):
    """max(a, 0). Subgradient 0 at a = 0; the mask is a constant, so second derivatives are 0."""

    def compute(self, a):
        return np.maximum(a, 0)

    def _mask(self, node):
        # A bool mask: multiplying by it keeps the adjoint's dtype and costs no conversion.
        return Tensor.make_const(node.inputs[0].cached_data > 0)

    def scale_by_derivative(self, v, node):
        return v * self._mask(node)


def relu(a):
    return ReLU()(a)


class Tanh(ElementwiseFunction):
    """Hyperbolic tangent, elementwise. d/da = 1 − tanh²a, from the output."""

    def compute(self, a):
        return np.tanh(a)

    def scale_by_derivative(self, v, node):
        return v * (1 - node * node)


def tanh(a):
    return Tanh()(a)


class Sigmoid(ElementwiseFunction):
    """Logistic function, elementwise: y = 1 / (1 + e^−a). d/da = y(1 − y), from the output."""

    def compute(self, a):
        # e^−|a| never overflows: y = 1/(1 + e^−a) for a ≥ 0 and e^a/(1 + e^a) below. (NumPy's logaddexp
        # would do too, but it is a scalar loop: 50x slower on 500k float32 entries.)
        shrunk = np.exp(-np.abs(a))
        return np.where(a >= 0, 1, shrunk) / (1 + shrunk)

    def scale_by_derivative(self, v, node):
        return v * node * (1 - node)


def sigmoid(a):
    return Sigmoid()(a)


class Sqrt(ElementwiseFunction):
    """√a, elementwise. d/da = 1 / (2√a), from the output."""

    def compute(self, a):
        return np.sqrt(a)

    def scale_by_derivative(self, v, node):
        return v / node * 0.5


def sqrt(a):
    return Sqrt()(a)


class Sin(ElementwiseFunction):
    """sin a, elementwise. d/da = cos a."""

    def compute(self, a):
        return np.sin(a)

    def scale_by_derivative(self, v, node):
        return v * cos(node.inputs[0])


def sin(a):
    return Sin()(a)


class Cos(ElementwiseFunction):
    """cos a, elementwise. d/da = −sin a."""

    def compute(self, a):
        return np.cos(a)

    def scale_by_derivative(self, v, node):
        return v * negate(sin(node.inputs[0]))


def cos(a):
    return Cos()(a)


class Abs(ElementwiseFunction):
    """|a|, elementwise. d/da = sign a, with subgradient 0 at a = 0; the sign is a constant."""

    def compute(self, a):
        return np.abs(a)

    def _sign(self, node):
        return Tensor.make_const(np.sign(node.inputs[0].cached_data))

    def scale_by_derivative(self, v, node):
        return v * self._sign(node)


def abs(a):  # noqa: A001  (needle.abs, like torch.abs)
    return Abs()(a)


class Cast(LinearOp):
    """a converted to `dtype`, elementwise (NumPy's `astype`); the adjoint is converted back.

    Differentiable only into a floating dtype: an integer or bool result records no graph.
    """

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self.differentiable = self.dtype.kind in "fc"

    def compute(self, a):
        return a.astype(self.dtype)

    def gradient(self, out_grad, node):
        return cast(out_grad, node.inputs[0].dtype)


def cast(a, dtype):
    return Cast(dtype)(a)
