"""Reductions over axes: means, extremes and their indices, variance, products, all/any, log-sum-exp,
softmax and log-softmax.

The exponential ones subtract the max first, so they are exact for inputs as large as 1e10.
This module defines `max`, `min`, `all` and `any`; it never uses the builtins of those names.
"""
import math
import warnings

import numpy as np

from ..autograd import LinearOp, Tensor, TensorOp
from .axes import axis_aliases
from .broadcast import (
    WeightedReduction, broadcast_to, check_nonempty, expand_reduced, mean_over, normalize_axes, reduced_count,
    summation,
)
from .comparison import where
from .elementwise import exp
from .linalg import norm

__all__ = [
    "Mean", "mean", "Max", "max", "Min", "min", "ArgMax", "argmax", "ArgMin", "argmin", "var", "std",
    "Prod", "prod", "All", "all", "Any", "any", "LogSumExp", "logsumexp",
    "Softmax", "softmax", "LogSoftmax", "logsoftmax",
]


class Mean(LinearOp):
    """Arithmetic mean over axes (all when None); reduced axes are dropped unless `keepdims`.

    float32 in, float32 out. The adjoint spreads g / count evenly over the reduced entries.
    """

    def __init__(self, axes=None, keepdims=False):
        self.axes = axes
        self.keepdims = keepdims

    def compute(self, a):
        axes = normalize_axes("mean", self.axes, a.shape)
        check_nonempty("mean", a.shape, axes)
        return mean_over(a, axes, self.keepdims)

    def gradient(self, out_grad, node):
        shape = node.inputs[0].shape
        axes = normalize_axes("mean", self.axes, shape)
        count = reduced_count(shape, axes)
        return expand_reduced(out_grad / count, axes, shape)


@axis_aliases
def mean(a, axes=None, keepdims=False):
    return Mean(axes, keepdims)(a)


class _Extremum(WeightedReduction):
    """The largest (`Max`) or smallest (`Min`) entry over axes (all when None); reduced axes are
    dropped unless `keepdims`.

    The adjoint goes to the extreme entry; ties split it evenly among the tied entries (NaNs, when
    a slice has any, are its extreme and share it instead). Piecewise linear: second derivatives 0.
    """

    op_name = None
    reduce = None

    def __init__(self, axes=None, keepdims=False):
        self.axes = axes
        self.keepdims = keepdims

    def compute(self, a):
        axes = normalize_axes(self.op_name, self.axes, a.shape)
        check_nonempty(self.op_name, a.shape, axes)
        return self.reduce(a, axis=axes, keepdims=self.keepdims)

    def derivative(self, node):
        """A constant of the input's shape: 1/k at each of the k extremes of a slice, 0 elsewhere."""
        a = node.inputs[0].cached_data
        axes = normalize_axes(self.op_name, self.axes, a.shape)
        peak = node.cached_data if self.keepdims else np.expand_dims(node.cached_data, axes)
        hits = (a == peak) | np.isnan(a)
        return Tensor.make_const((hits / np.sum(hits, axis=axes, keepdims=True)).astype(a.dtype)), axes


class Max(_Extremum):
    """Largest entry over axes (all when None); ties share the adjoint evenly (see `_Extremum`)."""

    op_name = "max"
    reduce = staticmethod(np.max)


@axis_aliases
def max(a, axes=None, keepdims=False):  # noqa: A001  (needle.max, like torch.max over axes)
    return Max(axes, keepdims)(a)


class Min(_Extremum):
    """Smallest entry over axes (all when None); ties share the adjoint evenly (see `_Extremum`)."""

    op_name = "min"
    reduce = staticmethod(np.min)


@axis_aliases
def min(a, axes=None, keepdims=False):  # noqa: A001  (needle.min, like torch.min over axes)
    return Min(axes, keepdims)(a)


class _ArgExtremum(TensorOp):
    """The int64 index of the first largest (`ArgMax`) or smallest (`ArgMin`) entry along one axis,
    or into the flattened input when `axes` is None. Piecewise constant: records no graph."""

    differentiable = False
    op_name = None
    pick = None

    def __init__(self, axes=None, keepdims=False):
        self.axes = axes
        self.keepdims = keepdims

    def compute(self, a):
        if self.axes is None:
            axis = None
        else:
            (axis,) = normalize_axes(self.op_name, self.axes, a.shape) or (None,)
        if a.size == 0 or (axis is not None and a.shape[axis] == 0):
            raise ValueError(f"{self.op_name}: cannot reduce shape {a.shape} over an empty axis")
        return self.pick(a, axis=axis, keepdims=self.keepdims).astype(np.int64)


class ArgMax(_ArgExtremum):
    """Index of the first maximum (NaN counts as the maximum, as in PyTorch and NumPy)."""

    op_name = "argmax"
    pick = staticmethod(np.argmax)


@axis_aliases
def argmax(a, axes=None, keepdims=False):
    """`axes`: one int, or None for an index into the flattened input."""
    return ArgMax(_one_axis("argmax", axes), keepdims)(a)


class ArgMin(_ArgExtremum):
    """Index of the first minimum (NaN counts as the minimum, as in PyTorch and NumPy)."""

    op_name = "argmin"
    pick = staticmethod(np.argmin)


@axis_aliases
def argmin(a, axes=None, keepdims=False):
    """`axes`: one int, or None for an index into the flattened input."""
    return ArgMin(_one_axis("argmin", axes), keepdims)(a)


def _one_axis(op_name, axes):
    if axes is None or isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        return axes
    raise TypeError(f"{op_name}: takes one axis (an int) or None, got {axes!r}")


def _correction(op_name, correction, unbiased, ddof):
    """The one correction from PyTorch's `correction=` (default 1) or `unbiased=`, or NumPy's `ddof=`."""
    given = [name for name, value in (("correction", correction), ("unbiased", unbiased), ("ddof", ddof))
             if value is not None]
    if len(given) > 1:
        raise TypeError(f"{op_name}: pass one of correction=, unbiased= and ddof=, got {' and '.join(given)}")
    if unbiased is not None:
        if not isinstance(unbiased, (bool, np.bool_)):
            raise TypeError(f"{op_name}: unbiased must be a bool, got {unbiased!r}")
        return 1 if unbiased else 0
    value = correction if correction is not None else ddof if ddof is not None else 1
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or value < 0:
        raise TypeError(f"{op_name}: the correction must be a number >= 0, got {value!r}")
    return value


def _degrees_of_freedom(op_name, a, axes, correction):
    """N − correction for the N entries each output combines; at or below 0 PyTorch's warning and a
    division by 0 (nan, or inf)."""
    shape = tuple(a.shape)
    count = reduced_count(shape, normalize_axes(op_name, axes, shape))
    dof = count - correction
    if dof <= 0:
        warnings.warn(
            f"{op_name}: {count} entries per result of {shape} with correction {correction} leave "
            f"{dof} degrees of freedom; the result is nan or inf", RuntimeWarning, stacklevel=3,
        )
    return dof


@axis_aliases
def var(a, axes=None, keepdims=False, correction=None, *, unbiased=None, ddof=None):
    """Σ (a − mean)² / (N − correction) over axes (all when None), N the entries per result.

    correction 1 (PyTorch's default; `unbiased=True`, NumPy's `ddof=1`) is the sample variance.
    Centred first (two passes), so a large mean costs no precision.
    """
    correction = _correction("var", correction, unbiased, ddof)
    dof = _degrees_of_freedom("var", a, axes, correction)
    centred = a - mean(a, axes, keepdims=True)
    total = summation(centred * centred, axes, keepdims)
    return total / dof if dof > 0 else total * math.inf


@axis_aliases
def std(a, axes=None, keepdims=False, correction=None, *, unbiased=None, ddof=None):
    """√var: ‖a − mean‖₂ / √(N − correction) over axes, with `var`'s corrections.

    Built on `norm`, so a constant slice has gradient 0, as in PyTorch, not 0/0.
    """
    correction = _correction("std", correction, unbiased, ddof)
    dof = _degrees_of_freedom("std", a, axes, correction)
    spread = norm(a - mean(a, axes, keepdims=True), 2, axes, keepdims)
    return spread / math.sqrt(dof) if dof > 0 else spread * math.inf


class Prod(WeightedReduction):
    """Product over axes (all when None); reduced axes are dropped unless `keepdims`.

    ∂y/∂a_i = Π_{j≠i} a_j, formed without dividing by zero and exact to second order at zeros
    (hw_notes/ops.md, Prod).
    """

    def __init__(self, axes=None, keepdims=False):
        self.axes = axes
        self.keepdims = keepdims

    def compute(self, a):
        return np.prod(a, axis=normalize_axes("prod", self.axes, a.shape), keepdims=self.keepdims)

    def derivative(self, node):
        """(D, axes): D of the input's shape with D_i = Π_{j≠i} a_j over i's slice, as a graph."""
        a = node.inputs[0]
        axes = normalize_axes("prod", self.axes, a.shape)
        zero = a.cached_data == 0
        if not zero.any():
            return expand_reduced(node, axes, a.shape) / a, axes
        # D_i = (P / s_i)·F_i: P the product of the nonzero entries (s: a with its zeros set to 1),
        # F_i the product of the zeros other than i, to first order: 1 if there are none, their
        # one a_k if there is one, 0 if more.
        others = np.sum(zero, axis=axes, keepdims=True) - zero
        dtype = a.dtype
        safe = where(zero, Tensor.make_const(np.ones((), dtype)), a)
        zeros_only = where(zero, a, Tensor.make_const(np.zeros((), dtype)))
        lone_zero = summation(zeros_only, axes, keepdims=True) - zeros_only
        factor = (Tensor.make_const((others == 0).astype(dtype))
                  + Tensor.make_const((others == 1).astype(dtype)) * lone_zero)
        return prod(safe, axes, keepdims=True) / safe * factor, axes


@axis_aliases
def prod(a, axes=None, keepdims=False):
    return Prod(axes, keepdims)(a)


class _Logical(TensorOp):
    """A bool reduction over axes (all when None) of the entries' truth; records no graph."""

    differentiable = False
    op_name = None
    reduce = None

    def __init__(self, axes=None, keepdims=False):
        self.axes = axes
        self.keepdims = keepdims

    def compute(self, a):
        axes = normalize_axes(self.op_name, self.axes, a.shape)
        return np.asarray(self.reduce(a, axis=axes, keepdims=self.keepdims), dtype=bool)


class All(_Logical):
    """Whether every entry is true (nonzero) over axes; True for an empty slice."""

    op_name = "all"
    reduce = staticmethod(np.all)


@axis_aliases
def all(a, axes=None, keepdims=False):  # noqa: A001  (needle.all, like torch.all)
    return All(axes, keepdims)(a)


class Any(_Logical):
    """Whether some entry is true (nonzero) over axes; False for an empty slice."""

    op_name = "any"
    reduce = staticmethod(np.any)


@axis_aliases
def any(a, axes=None, keepdims=False):  # noqa: A001  (needle.any, like torch.any)
    return Any(axes, keepdims)(a)


class LogSumExp(WeightedReduction):
    """log Σ_axes e^a, computed as m + log Σ e^(a − m) with m the max, so it never overflows.

    The adjoint is g·softmax(a), taken from a − max rather than as e^(a − lse): near 1e10, lse
    rounds log Σ away in float32 (−1e10 + log 3 is −1e10), which would make the weights sum to 3.
    """

    def __init__(self, axes=None, keepdims=False):
        self.axes = axes
        self.keepdims = keepdims

    def compute(self, a):
        axes = normalize_axes("logsumexp", self.axes, a.shape)
        check_nonempty("logsumexp", a.shape, axes)
        peak = np.max(a, axis=axes, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0)  # all −inf rows give −inf, not nan
        out = np.log(np.sum(np.exp(a - peak), axis=axes, keepdims=True)) + peak
        return out if self.keepdims else np.squeeze(out, axis=axes)

    def derivative(self, node):
        """softmax(a) over the axes, a recorded node (see the class docstring)."""
        a = node.inputs[0]
        axes = normalize_axes("logsumexp", self.axes, a.shape)
        return softmax(a, axes), axes


@axis_aliases
def logsumexp(a, axes=None, keepdims=False):
    return LogSumExp(axes, keepdims)(a)


class Softmax(TensorOp):
    """y = e^a / Σ_axes e^a (default the last axis); the max is subtracted first, so no overflow.

    Adjoint y·(g − Σ g·y); forward rule y·(ṫ − Σ ṫ·y), both summed over the same axes.
    """

    def __init__(self, axes=-1):
        self.axes = axes

    def compute(self, a):
        axes = normalize_axes("softmax", self.axes, a.shape)
        if a.size == 0:
            return np.array(a)
        peak = np.max(a, axis=axes, keepdims=True)
        if np.isposinf(peak).any():
            return _softmax_with_infinities(a, peak, axes)
        powers = np.exp(a - peak)
        return powers / np.sum(powers, axis=axes, keepdims=True)

    def _project(self, vector, node):
        return node * (vector - summation(vector * node, self.axes, keepdims=True))

    def gradient(self, out_grad, node):
        return self._project(out_grad, node)

    def jvp(self, tangents, node):
        return self._project(tangents[0], node)


@axis_aliases
def softmax(a, axes=-1):
    return Softmax(axes)(a)


def _softmax_with_infinities(a, peak, axes):
    """Softmax where some slices hold +inf: such a slice shares its weight evenly among its +inf
    entries (the limit as they grow), the others are computed as usual."""
    infinite = np.isposinf(peak)
    powers = np.exp(a - np.where(infinite, 0, peak))
    powers = np.where(infinite, np.isposinf(a), powers).astype(powers.dtype)
    return powers / np.sum(powers, axis=axes, keepdims=True)


class LogSoftmax(TensorOp):
    """a − logsumexp(a) over `axes` (default the last axis, axis 1 of a 2-D batch of logits), stable.

    Adjoint: g − softmax·Σg; forward rule: ṫ − Σ softmax·ṫ (sums over the same axes).
    """

    def __init__(self, axes=-1):
        self.axes = axes

    def compute(self, a):
        if a.ndim == 0:
            raise ValueError("logsoftmax: needs at least 1 dimension, got a 0-d input")
        axes = normalize_axes("logsoftmax", self.axes, a.shape)
        shifted = a - np.max(a, axis=axes, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=axes, keepdims=True))

    def gradient(self, out_grad, node):
        total = summation(out_grad, self.axes, keepdims=True)
        return out_grad - exp(node) * broadcast_to(total, node.shape)

    def jvp(self, tangents, node):
        (t,) = tangents
        weighted = summation(exp(node) * t, self.axes, keepdims=True)  # Σ softmax·ṫ
        return t - broadcast_to(weighted, node.shape)


@axis_aliases
def logsoftmax(a, axes=-1):
    return LogSoftmax(axes)(a)
