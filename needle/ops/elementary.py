"""Elementary functions beyond the core, elementwise: logarithms and exponentials (log1p, expm1, log2,
log10, exp2), powers (reciprocal, rsqrt, square), sign, the trigonometric and hyperbolic functions and
their inverses, and the smooth ones of machine learning (softplus, logsigmoid, logaddexp, hypot, xlogy,
sinc).

Each is a NumPy ufunc forward; every derivative is written with needle ops, so it is differentiable
again. PyTorch's spellings (`asin`, `atan2`, `acosh`, ...) are aliases of NumPy's. The derivations are
in hw_notes/ops_numpy.md.
"""
import math

import numpy as np

from ..autograd import Tensor, TensorOp
from .broadcast import sum_to_shape
from .comparison import where
from .elementwise import ElementwiseFunction, cos, log, multiply, sigmoid

__all__ = [
    "Log1p", "log1p", "Expm1", "expm1", "Log2", "log2", "Log10", "log10", "Exp2", "exp2",
    "Reciprocal", "reciprocal", "Rsqrt", "rsqrt", "square", "Sign", "sign",
    "Tan", "tan", "Arcsin", "arcsin", "asin", "Arccos", "arccos", "acos", "Arctan", "arctan", "atan",
    "Arctan2", "arctan2", "atan2", "Sinh", "sinh", "Cosh", "cosh", "Arcsinh", "arcsinh", "asinh",
    "Arccosh", "arccosh", "acosh", "Arctanh", "arctanh", "atanh",
    "Softplus", "softplus", "LogSigmoid", "logsigmoid", "LogAddExp", "logaddexp", "Hypot", "hypot",
    "Xlogy", "xlogy", "Sinc", "sinc",
]

_LN2 = math.log(2)
_LN10 = math.log(10)


def _softplus(z):
    """ln(1 + e^z) = max(z, 0) + ln(1 + e^−|z|): exact in both tails and never overflows. NumPy's
    logaddexp(0, z) is the same function, but a scalar loop, 50x slower on large float32 arrays."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _ones_where(a, mask):
    """`a` with 1 where the bool array `mask` (broadcast with a) holds: a safe denominator where a
    rule's value there is set by a convention. A `where`, so an inf or nan there is replaced too."""
    if not mask.any():
        return a
    return where(mask, 1, a)


# ---- logarithms and exponentials ---------------------------------------------------------------


class Log1p(ElementwiseFunction):
    """ln(1 + a), exact for tiny a. d/da = 1/(1 + a)."""

    def compute(self, a):
        return np.log1p(a)

    def scale_by_derivative(self, v, node):
        return v / (node.inputs[0] + 1)


def log1p(a):
    return Log1p()(a)


class Expm1(ElementwiseFunction):
    """e^a − 1, exact for tiny a. d/da = e^a = y + 1, from the output."""

    def compute(self, a):
        return np.expm1(a)

    def scale_by_derivative(self, v, node):
        return v * (node + 1)


def expm1(a):
    return Expm1()(a)


class Log2(ElementwiseFunction):
    """log₂ a. d/da = 1/(a ln 2)."""

    def compute(self, a):
        return np.log2(a)

    def scale_by_derivative(self, v, node):
        return v / (node.inputs[0] * _LN2)


def log2(a):
    return Log2()(a)


class Log10(ElementwiseFunction):
    """log₁₀ a. d/da = 1/(a ln 10)."""

    def compute(self, a):
        return np.log10(a)

    def scale_by_derivative(self, v, node):
        return v / (node.inputs[0] * _LN10)


def log10(a):
    return Log10()(a)


class Exp2(ElementwiseFunction):
    """2^a. d/da = 2^a ln 2, from the output."""

    def compute(self, a):
        return np.exp2(a)

    def scale_by_derivative(self, v, node):
        return v * node * _LN2


def exp2(a):
    return Exp2()(a)


# ---- powers and sign ---------------------------------------------------------------------------


class Reciprocal(ElementwiseFunction):
    """1/a (integers give floats, as in PyTorch). d/da = −1/a² = −y², from the output."""

    def compute(self, a):
        return 1 / a

    def scale_by_derivative(self, v, node):
        return -(v * node * node)


def reciprocal(a):
    return Reciprocal()(a)


class Rsqrt(ElementwiseFunction):
    """1/√a. d/da = −a^(−3/2)/2 = −y³/2, from the output."""

    def compute(self, a):
        return 1 / np.sqrt(a)

    def scale_by_derivative(self, v, node):
        return v * node * node * node * -0.5


def rsqrt(a):
    return Rsqrt()(a)


def square(a):
    """a², a product (its gradient is 2a·ȳ by the product rule)."""
    return multiply(a, a)


class Sign(ElementwiseFunction):
    """−1, 0 or 1 by the sign of a (nan stays nan). Piecewise constant: d/da = 0, as in PyTorch."""

    def compute(self, a):
        return np.sign(a)

    def scale_by_derivative(self, v, node):
        return Tensor.make_const(np.zeros(v.shape, dtype=v.dtype))


def sign(a):
    return Sign()(a)


# ---- trigonometric and hyperbolic functions and their inverses ---------------------------------


class Tan(ElementwiseFunction):
    """tan a. d/da = 1 + tan² a, from the output."""

    def compute(self, a):
        return np.tan(a)

    def scale_by_derivative(self, v, node):
        return v * (node * node + 1)


def tan(a):
    return Tan()(a)


def _one_minus_square(a):
    """1 − a² as (1 − a)(1 + a): no cancellation near |a| = 1."""
    return (1 - a) * (a + 1)


class Arcsin(ElementwiseFunction):
    """arcsin a, for a in [−1, 1]. d/da = 1/√(1 − a²)."""

    def compute(self, a):
        return np.arcsin(a)

    def scale_by_derivative(self, v, node):
        return v * rsqrt(_one_minus_square(node.inputs[0]))


def arcsin(a):
    return Arcsin()(a)


class Arccos(ElementwiseFunction):
    """arccos a, for a in [−1, 1]. d/da = −1/√(1 − a²)."""

    def compute(self, a):
        return np.arccos(a)

    def scale_by_derivative(self, v, node):
        return -(v * rsqrt(_one_minus_square(node.inputs[0])))


def arccos(a):
    return Arccos()(a)


class Arctan(ElementwiseFunction):
    """arctan a. d/da = 1/(1 + a²) (0 in the limit |a| → ∞, where a² overflows to inf)."""

    def compute(self, a):
        return np.arctan(a)

    def scale_by_derivative(self, v, node):
        a = node.inputs[0]
        return v / (a * a + 1)


def arctan(a):
    return Arctan()(a)


def _safe_square_radius(lhs, rhs):
    """(a² + b², mask of the origin) with 1 in place of 0 at the origin, where the rules give 0."""
    origin = (lhs.cached_data == 0) & (rhs.cached_data == 0)
    return _ones_where(lhs * lhs + rhs * rhs, origin)


class Arctan2(TensorOp):
    """atan2(a, b): the angle of the point (x = b, y = a), in (−π, π], broadcasting (NumPy's and
    PyTorch's order: numerator first). ∂/∂a = b/(a² + b²), ∂/∂b = −a/(a² + b²); 0 at the origin."""

    def compute(self, a, b):
        return np.arctan2(a, b)

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        scaled = out_grad / _safe_square_radius(lhs, rhs)
        return (
            sum_to_shape(scaled * rhs, lhs.shape) if lhs.requires_grad else None,
            sum_to_shape(-(scaled * lhs), rhs.shape) if rhs.requires_grad else None,
        )

    def jvp(self, tangents, node):
        lhs, rhs = node.inputs
        t_lhs, t_rhs = tangents
        return (t_lhs * rhs - t_rhs * lhs) / _safe_square_radius(lhs, rhs)


def arctan2(a, b):
    return Arctan2()(a, b)


class Sinh(ElementwiseFunction):
    """sinh a. d/da = cosh a."""

    def compute(self, a):
        return np.sinh(a)

    def scale_by_derivative(self, v, node):
        return v * cosh(node.inputs[0])


def sinh(a):
    return Sinh()(a)


class Cosh(ElementwiseFunction):
    """cosh a. d/da = sinh a."""

    def compute(self, a):
        return np.cosh(a)

    def scale_by_derivative(self, v, node):
        return v * sinh(node.inputs[0])


def cosh(a):
    return Cosh()(a)


class Arcsinh(ElementwiseFunction):
    """arsinh a = ln(a + √(a² + 1)). d/da = 1/√(a² + 1), as 1/hypot(a, 1): no overflow for large a."""

    def compute(self, a):
        return np.arcsinh(a)

    def scale_by_derivative(self, v, node):
        return v / hypot(node.inputs[0], 1)


def arcsinh(a):
    return Arcsinh()(a)


class Arccosh(ElementwiseFunction):
    """arcosh a, for a ≥ 1. d/da = 1/√((a − 1)(a + 1))."""

    def compute(self, a):
        return np.arccosh(a)

    def scale_by_derivative(self, v, node):
        a = node.inputs[0]
        return v * rsqrt((a - 1) * (a + 1))


def arccosh(a):
    return Arccosh()(a)


class Arctanh(ElementwiseFunction):
    """artanh a, for a in (−1, 1). d/da = 1/(1 − a²), formed as 1/((1 − a)(1 + a))."""

    def compute(self, a):
        return np.arctanh(a)

    def scale_by_derivative(self, v, node):
        return v / _one_minus_square(node.inputs[0])


def arctanh(a):
    return Arctanh()(a)


# ---- smooth functions of machine learning ------------------------------------------------------


class Softplus(ElementwiseFunction):
    """ln(1 + e^(βa))/β, computed as max(βa, 0) + ln(1 + e^−|βa|), over β: no overflow, exact in both
    tails (PyTorch's linear `threshold` shortcut is not needed). d/da = σ(βa)."""

    def __init__(self, beta=1.0):
        if isinstance(beta, bool) or not isinstance(beta, (int, float, np.integer, np.floating)) or not beta > 0:
            raise ValueError(f"softplus: beta must be a positive number, got {beta!r}")
        self.beta = float(beta)

    def compute(self, a):
        if self.beta == 1.0:
            return _softplus(a)
        return _softplus(a * self.beta) / self.beta

    def scale_by_derivative(self, v, node):
        a = node.inputs[0]
        return v * sigmoid(a if self.beta == 1.0 else a * self.beta)


def softplus(a, beta=1.0):
    return Softplus(beta)(a)


class LogSigmoid(ElementwiseFunction):
    """ln σ(a) = −softplus(−a) = min(a, 0) − ln(1 + e^−|a|): no overflow, exact in both tails.
    d/da = σ(−a) = 1 − σ(a)."""

    def compute(self, a):
        return -_softplus(-a)

    def scale_by_derivative(self, v, node):
        return v * sigmoid(-node.inputs[0])


def logsigmoid(a):
    return LogSigmoid()(a)


class LogAddExp(TensorOp):
    """ln(e^a + e^b) = max(a, b) + ln(1 + e^−|a − b|), broadcasting, without overflow. ∂/∂a = σ(a − b), ∂/∂b = σ(b − a): the weights
    sum to 1 even where y rounds to max(a, b) (e^(a − y) would give 1 + 1 at a = b = 1e10)."""

    def compute(self, a, b):
        with np.errstate(invalid="ignore"):  # inf − inf where a = b = ±inf, replaced below
            out = np.maximum(a, b) + np.log1p(np.exp(-np.abs(a - b)))
        return np.where(a == b, a + _LN2, out)

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        return (
            sum_to_shape(out_grad * sigmoid(lhs - rhs), lhs.shape) if lhs.requires_grad else None,
            sum_to_shape(out_grad * sigmoid(rhs - lhs), rhs.shape) if rhs.requires_grad else None,
        )

    def jvp(self, tangents, node):
        lhs, rhs = node.inputs
        t_lhs, t_rhs = tangents
        return t_lhs * sigmoid(lhs - rhs) + t_rhs * sigmoid(rhs - lhs)


def logaddexp(a, b):
    return LogAddExp()(a, b)


class Hypot(TensorOp):
    """√(a² + b²), broadcasting, without overflow or underflow. ∂/∂a = a/y, ∂/∂b = b/y; 0 at the
    origin (a subgradient, as for the norm)."""

    def compute(self, a, b):
        return np.hypot(a, b)

    def _radius(self, node):
        return _ones_where(node, node.cached_data == 0)

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        scaled = out_grad / self._radius(node)
        return (
            sum_to_shape(scaled * lhs, lhs.shape) if lhs.requires_grad else None,
            sum_to_shape(scaled * rhs, rhs.shape) if rhs.requires_grad else None,
        )

    def jvp(self, tangents, node):
        lhs, rhs = node.inputs
        t_lhs, t_rhs = tangents
        return (t_lhs * lhs + t_rhs * rhs) / self._radius(node)


def hypot(a, b):
    return Hypot()(a, b)


class Xlogy(TensorOp):
    """a·ln b, broadcasting, with 0 where a = 0 (unless b is nan), PyTorch's and SciPy's rule.

    ∂/∂a = ln b where a ≠ 0, else 0 (PyTorch's); ∂/∂b = a/b, and 0 where a = 0 (PyTorch gives
    0/0 = nan at a = b = 0; along a = 0 the function is 0 for every b).
    """

    def compute(self, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = a * np.log(b)
        return np.where((a == 0) & ~np.isnan(b), 0, out)

    def gradient(self, out_grad, node):
        lhs, rhs = node.inputs
        zero = np.broadcast_to(lhs.cached_data == 0, node.shape)
        safe_rhs = _ones_where(rhs, zero)
        return (
            sum_to_shape(where(~zero, out_grad * log(safe_rhs), 0), lhs.shape) if lhs.requires_grad else None,
            sum_to_shape(out_grad * lhs / safe_rhs, rhs.shape) if rhs.requires_grad else None,
        )

    def jvp(self, tangents, node):
        lhs, rhs = node.inputs
        t_lhs, t_rhs = tangents
        zero = np.broadcast_to(lhs.cached_data == 0, node.shape)
        safe_rhs = _ones_where(rhs, zero)
        return where(~zero, t_lhs * log(safe_rhs), 0) + t_rhs * lhs / safe_rhs


def xlogy(a, b):
    return Xlogy()(a, b)


# Below |πa| = 1/2 sinc' is its Taylor series: the closed form (cos πa − sinc a)/a cancels there.
_SINC_SERIES_BOUND = 0.5


class Sinc(ElementwiseFunction):
    """sin(πa)/(πa), 1 at a = 0 (NumPy's normalised sinc). d/da = (cos πa − sinc a)/a, 0 at a = 0.

    Near 0 the derivative is its Taylor series in x = πa, π·(−x/3 + x³/30 − x⁵/840 + x⁷/45360
    − x⁹/3991680), so it stays exact there and its own derivative too (hw_notes/ops_numpy.md, Sinc).
    """

    def compute(self, a):
        return np.sinc(a)

    def scale_by_derivative(self, v, node):
        a = node.inputs[0]
        near = np.abs(a.cached_data) * math.pi < _SINC_SERIES_BOUND
        if not near.any():
            return v * ((cos(a * math.pi) - node) / a)
        far = _ones_where(a, near)  # a, with 1 where the series takes over
        x = where(near, a, 0) * math.pi  # πa, with 0 far away: the series never overflows
        x2 = x * x
        series = x * (((((x2 * (-1 / 3991680) + 1 / 45360) * x2 - 1 / 840) * x2 + 1 / 30) * x2 - 1 / 3) * math.pi)
        closed = (cos(far * math.pi) - node) / far
        return v * where(near, series, closed)


def sinc(a):
    return Sinc()(a)


# PyTorch's names for the inverse functions.
asin, acos, atan, atan2 = arcsin, arccos, arctan, arctan2
asinh, acosh, atanh = arcsinh, arccosh, arctanh
