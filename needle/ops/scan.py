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


def _pairwise(x, axis, n, along):
    """x (a Tensor) with its scan axis moved last and a second copy of that axis: shape (..., n, n),
    x_j on row j (`along` "rows") or x_i in column i ("columns")."""
    last = moveaxis(x, axis, -1)
    lead = tuple(last.shape[:-1])
    if along == "rows":
        return broadcast_to(reshape(last, lead + (n, 1)), lead + (n, n))
    return broadcast_to(reshape(last, lead + (1, n)), lead + (n, n))


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
        return self._by_slices(node, out_grad, _cumprod_adjoint, _cumprod_adjoint_at_zeros)

    def jvp(self, tangents, node):
        return self._by_slices(node, tangents[0], _cumprod_tangent, _cumprod_tangent_at_zeros)

    def _by_slices(self, node, v, plain, at_zeros):
        """`plain(a, y, v, axis)` on the slices without a zero, `at_zeros(a, v)` on the others (as rows
        of an (R, n) matrix), joined back into the input's shape."""
        a = node.inputs[0]
        axis = _axis("cumprod", self.axes, a.ndim)
        if axis is None:
            return v
        zero = a.cached_data == 0
        if not zero.any():
            return plain(a, node, v, axis)
        n = a.shape[axis]
        moved = np.moveaxis(zero, axis, -1)
        has_zero = moved.reshape(-1, n).any(axis=1)

        def rows(x, which):
            flat = reshape(moveaxis(x, axis, -1), (-1, n))
            return flat if which is None else getitem(flat, (which,))

        if has_zero.all():
            result = at_zeros(rows(a, None), rows(v, None))
        else:
            with_zero, without = np.nonzero(has_zero)[0], np.nonzero(~has_zero)[0]
            shape = (has_zero.size, n)
            result = (scatter_add(at_zeros(rows(a, with_zero), rows(v, with_zero)), (with_zero,), shape)
                      + scatter_add(plain(rows(a, without), rows(node, without), rows(v, without), 1),
                                    (without,), shape))
        return moveaxis(reshape(result, moved.shape), -1, axis)


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


def _cumprod_adjoint_at_zeros(a, out_grad):
    rows, n = a.shape
    return summation(_products_of_the_others(a) * reshape(out_grad, (rows, 1, n)), -1)  # Σ_{i≥j} M_ji ȳ_i


def _cumprod_tangent_at_zeros(a, tangent):
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
    they use the weights e^(a_j − y_i) themselves, an (…, n, n) array (hw_notes/ops_numpy.md).
    """

    def __init__(self, axes):
        self.axes = axes

    def compute(self, a):
        axis = _axis("logcumsumexp", self.axes, a.ndim)
        return np.array(a) if axis is None else np.logaddexp.accumulate(a, axis=axis)

    def _shift(self, node, axis):
        """The constant m (each slice's largest y, kept axis), or None when y's range is too wide."""
        y = node.cached_data
        if y.size == 0:
            return None
        top = np.max(y, axis=axis, keepdims=True)
        with np.errstate(invalid="ignore"):
            spread = np.max(top - np.min(y, axis=axis, keepdims=True))
        if not spread < _SCALED_RANGE_LIMIT or not np.isfinite(top).all():
            return None
        return Tensor.make_const(top)

    def _weights(self, a, node, axis):
        """W[..., j, i] = e^(a_j − y_i) for i ≥ j, 0 below (the scan axis moved last)."""
        n = a.shape[axis]
        gap = _pairwise(a, axis, n, "rows") - _pairwise(node, axis, n, "columns")
        upper = Tensor.make_const(np.triu(np.ones((n, n), dtype=bool)))
        return exp(where(upper, gap, -np.inf))

    def gradient(self, out_grad, node):
        a = node.inputs[0]
        axis = _axis("logcumsumexp", self.axes, a.ndim)
        if axis is None:
            return out_grad
        shift = self._shift(node, axis)
        if shift is not None:
            return exp(a - shift) * _reversed_cumsum(out_grad * exp(shift - node), axis)
        weighted = self._weights(a, node, axis) * _pairwise(out_grad, axis, a.shape[axis], "columns")
        return moveaxis(summation(weighted, -1), -1, axis)

    def jvp(self, tangents, node):
        (t,) = tangents
        a = node.inputs[0]
        axis = _axis("logcumsumexp", self.axes, a.ndim)
        if axis is None:
            return t
        shift = self._shift(node, axis)
        if shift is not None:
            return exp(shift - node) * cumsum(t * exp(a - shift), axis)
        weighted = self._weights(a, node, axis) * _pairwise(t, axis, a.shape[axis], "rows")
        return moveaxis(summation(weighted, -2), -1, axis)


@axis_aliases
def logcumsumexp(a, axes=None):
    """Running log-sum-exp along one axis, which must be given (`axes=`, `dim=` or `axis=`), as in PyTorch."""
    _required("logcumsumexp", axes)
    return LogCumSumExp(axes)(a)
