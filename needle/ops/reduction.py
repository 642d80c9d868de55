"""Reductions over axes: sums, log-sum-exp and log-softmax (stable: the max is subtracted first)."""
import numpy as np

from ..autograd import LinearOp, TensorOp
from .elementwise import exp
from .shape import broadcast_to, reshape

__all__ = ["Summation", "summation", "LogSumExp", "logsumexp", "LogSoftmax", "logsoftmax"]


def normalize_axes(op_name, axes, ndim):
    """`axes` (None, an int or a sequence) as a sorted tuple of non-negative axes; None means all."""
    if axes is None:
        return tuple(range(ndim))
    if isinstance(axes, (int, np.integer)):
        axes = (axes,)
    result = []
    for axis in axes:
        if not -ndim <= axis < max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
            raise ValueError(f"{op_name}: axis {axis} is out of range for {ndim} dimensions")
        result.append(int(axis) % max(ndim, 1))
    if len(set(result)) != len(result):
        raise ValueError(f"{op_name}: repeated axis in {tuple(axes)}")
    return tuple(sorted(result)) if ndim else ()


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
        axes = normalize_axes("summation", self.axes, a.ndim)
        return np.sum(a, axis=axes, keepdims=self.keepdims)

    def gradient(self, out_grad, node):
        shape = node.inputs[0].shape
        return expand_reduced(out_grad, normalize_axes("summation", self.axes, len(shape)), shape)


def summation(a, axes=None, keepdims=False):
    return Summation(axes, keepdims)(a)


class LogSumExp(TensorOp):
    """log Σ_axes e^a, computed as m + log Σ e^(a − m) with m the max, so it never overflows.

    The adjoint is g·e^(a − lse): a softmax, bounded by 1, exact for inputs near 1e10.
    """

    def __init__(self, axes=None, keepdims=False):
        self.axes = axes
        self.keepdims = keepdims

    def compute(self, a):
        axes = normalize_axes("logsumexp", self.axes, a.ndim)
        if a.size == 0:
            raise ValueError(f"logsumexp: empty input of shape {a.shape}")
        peak = np.max(a, axis=axes, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0)  # all −inf rows give −inf, not nan
        out = np.log(np.sum(np.exp(a - peak), axis=axes, keepdims=True)) + peak
        return out if self.keepdims else np.squeeze(out, axis=axes)

    def _softmax(self, node):
        a = node.inputs[0]
        axes = normalize_axes("logsumexp", self.axes, a.ndim)
        return exp(a - expand_reduced(node, axes, a.shape)), axes

    def gradient(self, out_grad, node):
        probs, axes = self._softmax(node)
        return expand_reduced(out_grad, axes, probs.shape) * probs

    def jvp(self, tangents, node):
        probs, axes = self._softmax(node)
        return summation(tangents[0] * probs, axes, keepdims=self.keepdims)


def logsumexp(a, axes=None, keepdims=False):
    return LogSumExp(axes, keepdims)(a)


class LogSoftmax(TensorOp):
    """a − logsumexp(a) along the last axis (axis 1 of a 2-D batch of logits), stable.

    Adjoint: g − softmax·Σg; forward rule: ṫ − Σ softmax·ṫ (sums along the same axis).
    """

    def compute(self, a):
        if a.ndim == 0:
            raise ValueError("logsoftmax: needs at least 1 dimension, got a 0-d input")
        shifted = a - np.max(a, axis=-1, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))

    def gradient(self, out_grad, node):
        total = summation(out_grad, -1, keepdims=True)
        return out_grad - exp(node) * broadcast_to(total, node.shape)

    def jvp(self, tangents, node):
        (t,) = tangents
        mean = summation(exp(node) * t, -1, keepdims=True)
        return t - broadcast_to(mean, node.shape)


def logsoftmax(a):
    return LogSoftmax()(a)
