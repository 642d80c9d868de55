"""Scans along one axis: running sums, running products (zeros handled) and running log-sum-exps.

The axis is required, as in PyTorch (`axes=`, `dim=` or `axis=`); a 0-d input takes axis 0 or -1.
"""
import numpy as np

from ..autograd import LinearOp, Tensor, TensorOp
from .axes import axis_aliases
from .broadcast import broadcast_to, summation
from .comparison import where
from .elementwise import exp
from .indexing import flip, getitem, scatter_add, triu
from .shape import moveaxis, normalize_axis, reshape

__all__ = ["CumSum", "cumsum", "CumProd", "cumprod", "LogCumSumExp", "logcumsumexp"]


def _axis(op_name, axes, ndim):
    """The scan's axis in [0, ndim), or None for a 0-d input (axis 0 or -1), where a scan is the identity."""
    axis = normalize_axis(op_name, axes, max(ndim, 1))
    return axis if ndim else None


def _required(op_name, axes):
    if axes is None:
        raise TypeError(f"{op_name}: the axis is missing; pass it as axes=, dim= or axis=")


class CumSum(LinearOp):
    """Running sum along the axis `axes`: y_i = Σ_{j≤i} a_j. The adjoint is the reversed running sum
    of the adjoint, ā_j = Σ_{i≥j} ȳ_i."""

    def __init__(self, axes):
        self.axes = axes

    def compute(self, a):
        axis = normalize_axis("cumsum", self.axes, max(a.ndim, 1))  # 0-d: axis 0 or -1, as in PyTorch
        return np.cumsum(a, axis=axis) if a.ndim else np.array(a)

    def gradient(self, out_grad, node):
        return _reversed_cumsum(out_grad, self.axes)


def _reversed_cumsum(x, axes):
    """Σ_{i≥j} x_i along the axis: the adjoint of a running sum."""
    return flip(cumsum(flip(x, axes), axes), axes)


@axis_aliases
def cumsum(a, axes=None):
    """Running sum along one axis, which must be given (`axes=`, `dim=` or `axis=`), as in PyTorch."""
    _required("cumsum", axes)
    return CumSum(axes)(a)


def _by_slices(node, v, axis, special, plain, exact):
    """A scan's rule applied to `v` (an adjoint or a tangent) slice by slice along `axis`:
    `plain(a, y, v, axis)` on the slices where `special` (a bool per slice, the axis dropped) is False,
    `exact(a, y, v)` on the others, given as the rows of (R, n) matrices; joined back by scatter_add."""
    a = node.inputs[0]
    if not special.any():
        return plain(a, node, v, axis)
    n = a.shape[axis]
    moved_shape = tuple(np.moveaxis(a.cached_data, axis, -1).shape)
    special = special.reshape(-1)

    def rows(x, which):
        flat = reshape(moveaxis(x, axis, -1), (-1, n))
        return flat if which is None else getitem(flat, (which,))

    if special.all():
        result = exact(rows(a, None), rows(node, None), rows(v, None))
    else:
        chosen, others = np.nonzero(special)[0], np.nonzero(~special)[0]
        shape = (special.size, n)
        result = (scatter_add(exact(rows(a, chosen), rows(node, chosen), rows(v, chosen)), (chosen,), shape)
                  + scatter_add(plain(rows(a, others), rows(node, others), rows(v, others), 1), (others,), shape))
    return moveaxis(reshape(result, moved_shape), -1, axis)


class CumProd(TensorOp):
    """Running product along the axis `axes`: y_i = Π_{j≤i} a_j.

    ∂y_i/∂a_j = Π_{k≤i, k≠j} a_k for j ≤ i. On slices without a zero: ā = revcumsum(ȳ·y)/a and
    ẏ = y·cumsum(ȧ/a), O(n). On slices with a zero those products are formed without division, as
    the running products of an (n, n) array with a_j replaced by 1 on row j: exact at zeros, to
    every order, for O(n²) memory per such slice (hw_notes/ops_numpy.md, CumProd).
    """

    def __init__(self, axes):
        self.axes = axes

    def compute(self, a):
        axis = _axis("cumprod", self.axes, a.ndim)
        return np.array(a) if axis is None else np.cumprod(a, axis=axis)

    def gradient(self, out_grad, node):
        return self._rule(node, out_grad, _cumprod_adjoint, _cumprod_adjoint_at_zeros)

    def jvp(self, tangents, node):
        return self._rule(node, tangents[0], _cumprod_tangent, _cumprod_tangent_at_zeros)

    def _rule(self, node, v, plain, exact):
        a = node.inputs[0]
        axis = _axis("cumprod", self.axes, a.ndim)
        if axis is None:
            return v
        with_zero = np.any(a.cached_data == 0, axis=axis)
        return _by_slices(node, v, axis, with_zero, plain, exact)


def _cumprod_adjoint(a, y, out_grad, axis):
    return _reversed_cumsum(out_grad * y, axis) / a


def _cumprod_tangent(a, y, tangent, axis):
    return y * cumsum(tangent / a, axis)


def _products_of_the_others(a):
    """For rows a of shape (R, n): M[r, j, i] = Π_{k≤i, k≠j} a[r, k] for i ≥ j, 0 below, without division."""
    rows, n = a.shape
    spread = broadcast_to(reshape(a, (rows, 1, n)), (rows, n, n))  # a_k in column k, on every row j
    unit = Tensor.make_const(np.eye(n, dtype=bool))
    return triu(cumprod(where(unit, 1, spread), -1))


def _cumprod_adjoint_at_zeros(a, y, out_grad):
    rows, n = a.shape
    return summation(_products_of_the_others(a) * reshape(out_grad, (rows, 1, n)), -1)  # Σ_{i≥j} M_ji ȳ_i


def _cumprod_tangent_at_zeros(a, y, tangent):
    rows, n = a.shape
    return summation(_products_of_the_others(a) * reshape(tangent, (rows, n, 1)), -2)  # Σ_{j≤i} M_ji ȧ_j


@axis_aliases
def cumprod(a, axes=None):
    """Running product along one axis, which must be given (`axes=`, `dim=` or `axis=`), as in PyTorch."""
    _required("cumprod", axes)
    return CumProd(axes)(a)


# The scaled O(n) rules multiply by e^(m − y) ≤ e^(range of y in a slice); past this range they
# could overflow float32, and the rules use the O(n²) weights e^(a_j − y_i) ≤ 1 instead.
_SCALED_RANGE_LIMIT = 60.0


class LogCumSumExp(TensorOp):
    """Running log-sum-exp along the axis `axes`: y_i = ln Σ_{j≤i} e^(a_j), NumPy's
    logaddexp.accumulate (no overflow). ∂y_i/∂a_j = e^(a_j − y_i) for j ≤ i, a softmax weight ≤ 1.

    The rules scale by a constant m (each slice's largest y): ā = e^(a − m)·revcumsum(ȳ·e^(m − y)),
    ẏ = e^(m − y)·cumsum(ȧ·e^(a − m)), O(n). Where y spans more than 60 within a slice (or is −inf),
    they use the weights e^(a_j − y_i) themselves, an (n, n) array per such slice (hw_notes/ops_numpy.md).
    """

    def __init__(self, axes):
        self.axes = axes

    def compute(self, a):
        axis = _axis("logcumsumexp", self.axes, a.ndim)
        return np.array(a) if axis is None else np.logaddexp.accumulate(a, axis=axis)

    def gradient(self, out_grad, node):
        return self._rule(node, out_grad, _logcumsumexp_adjoint, _logcumsumexp_adjoint_by_weights)

    def jvp(self, tangents, node):
        return self._rule(node, tangents[0], _logcumsumexp_tangent, _logcumsumexp_tangent_by_weights)

    def _rule(self, node, v, plain, exact):
        a = node.inputs[0]
        axis = _axis("logcumsumexp", self.axes, a.ndim)
        if axis is None or a.shape[axis] == 0:
            return v
        y = node.cached_data
        with np.errstate(invalid="ignore"):
            spread = np.max(y, axis=axis) - np.min(y, axis=axis)
        wide = ~(spread < _SCALED_RANGE_LIMIT)  # nan (from −inf) is wide too
        return _by_slices(node, v, axis, wide, plain, exact)


def _shift(y, axis):
    """The constant m: each slice's largest y (axis kept)."""
    return Tensor.make_const(np.max(y.cached_data, axis=axis, keepdims=True))


def _logcumsumexp_adjoint(a, y, out_grad, axis):
    shift = _shift(y, axis)
    return exp(a - shift) * _reversed_cumsum(out_grad * exp(shift - y), axis)


def _logcumsumexp_tangent(a, y, tangent, axis):
    shift = _shift(y, axis)
    return exp(shift - y) * cumsum(tangent * exp(a - shift), axis)


def _weights(a, y):
    """For rows of shape (R, n): W[r, j, i] = e^(a_j − y_i) for i ≥ j, 0 below."""
    rows, n = a.shape
    gap = reshape(a, (rows, n, 1)) - reshape(y, (rows, 1, n))
    upper = Tensor.make_const(np.triu(np.ones((n, n), dtype=bool)))
    return exp(where(upper, gap, -np.inf))


def _logcumsumexp_adjoint_by_weights(a, y, out_grad):
    rows, n = a.shape
    return summation(_weights(a, y) * reshape(out_grad, (rows, 1, n)), -1)  # Σ_{i≥j} W_ji ȳ_i


def _logcumsumexp_tangent_by_weights(a, y, tangent):
    rows, n = a.shape
    return summation(_weights(a, y) * reshape(tangent, (rows, n, 1)), -2)  # Σ_{j≤i} W_ji ȧ_j


@axis_aliases
def logcumsumexp(a, axes=None):
    """Running log-sum-exp along one axis, which must be given (`axes=`, `dim=` or `axis=`), as in PyTorch."""
    _required("logcumsumexp", axes)
    return LogCumSumExp(axes)(a)
