"""Reductions over axes: means, maxima, log-sum-exp, softmax and log-softmax.

The exponential ones subtract the max first, so they are exact for inputs as large as 1e10.
This module defines `max`; it never uses the builtin of that name.
"""
import numpy as np

from ..autograd import LinearOp, Tensor, TensorOp
from .broadcast import broadcast_to, check_nonempty, expand_reduced, normalize_axes, reduced_count, summation
from .elementwise import exp

__all__ = [
    "Mean", "mean", "Max", "max", "LogSumExp", "logsumexp",
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
        return np.mean(a, axis=axes, keepdims=self.keepdims)

    def gradient(self, out_grad, node):
        shape = node.inputs[0].shape
        axes = normalize_axes("mean", self.axes, shape)
        count = reduced_count(shape, axes)
        return expand_reduced(out_grad / count, axes, shape)


def mean(a, axes=None, keepdims=False):
    return Mean(axes, keepdims)(a)


class Max(TensorOp):
    """Largest entry over axes (all when None); reduced axes are dropped unless `keepdims`.

    The adjoint goes to the maximum; ties split it evenly among the tied maxima (NaNs, when a slice
    has any, are its maximum and share it instead). Piecewise linear, so second derivatives are 0.
    """

    def __init__(self, axes=None, keepdims=False):
        self.axes = axes
        self.keepdims = keepdims

    def compute(self, a):
        axes = normalize_axes("max", self.axes, a.shape)
        check_nonempty("max", a.shape, axes)
        return np.max(a, axis=axes, keepdims=self.keepdims)

    def _shares(self, node, dtype):
        """A constant of the input's shape: 1/k at each of the k maxima of a slice, 0 elsewhere."""
        a = node.inputs[0].cached_data
        axes = normalize_axes("max", self.axes, a.shape)
        peak = node.cached_data if self.keepdims else np.expand_dims(node.cached_data, axes)
        hits = (a == peak) | np.isnan(a)
        return Tensor.make_const((hits / np.sum(hits, axis=axes, keepdims=True)).astype(dtype)), axes

    def gradient(self, out_grad, node):
        shares, axes = self._shares(node, out_grad.dtype)
        return expand_reduced(out_grad, axes, shares.shape) * shares

    def jvp(self, tangents, node):
        shares, axes = self._shares(node, tangents[0].dtype)
        return summation(tangents[0] * shares, axes, keepdims=self.keepdims)


def max(a, axes=None, keepdims=False):  # noqa: A001  (needle.max, like torch.max over axes)
    return Max(axes, keepdims)(a)


class LogSumExp(TensorOp):
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

    def _softmax(self, node):
        a = node.inputs[0]
        axes = normalize_axes("logsumexp", self.axes, a.shape)
        return softmax(a, axes), axes

    def gradient(self, out_grad, node):
        probs, axes = self._softmax(node)
        return expand_reduced(out_grad, axes, probs.shape) * probs

    def jvp(self, tangents, node):
        probs, axes = self._softmax(node)
        return summation(tangents[0] * probs, axes, keepdims=self.keepdims)


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
        weighted = summation(exp(node) * t, -1, keepdims=True)  # Σ softmax·ṫ
        return t - broadcast_to(weighted, node.shape)


def logsoftmax(a):
    return LogSoftmax()(a)
