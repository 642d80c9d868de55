"""Sorting: sort, argsort and topk. Values carry gradients through the permutation; indices are int64.

The order is stable: equal entries keep their input order, ascending or descending (PyTorch's
`stable=True`). NaN sorts as the largest value, as in PyTorch and NumPy. The values are a gather
(`take_along_axis`) of the input by the indices, so their adjoint scatters back through the
permutation and every higher derivative follows.
"""
from collections import namedtuple

import numpy as np

from ..autograd import Tensor, Value
from .indexing import getitem, take_along_axis
from .shape import normalize_axis

__all__ = ["SortResult", "sort", "argsort", "topk"]

SortResult = namedtuple("SortResult", ["values", "indices"])
SortResult.__doc__ = """(values, indices), PyTorch's return type of sort and topk: a tuple of two Tensors
(values differentiable, indices int64 and constant), also read as `.values` and `.indices`."""


def _data(a):
    return a.cached_data if isinstance(a, Value) else np.asarray(a)


def _stable_order(data, axis, descending):
    """Stable argsort along `axis`; descending keeps equal entries in input order too (and puts NaN
    first): the ascending stable sort of the reversed input, read backwards."""
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    n = data.shape[axis]
    backwards = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
    return n - 1 - np.flip(backwards, axis)


def _axis(op_name, dim, ndim):
    return normalize_axis(op_name, dim, max(ndim, 1))


def argsort(a, dim=-1, descending=False, *, axis=None):
    """int64 indices that sort `a` along `dim` (NumPy's `axis=` too), stable. Records no graph."""
    dim = dim if axis is None else axis
    data = _data(a)
    _axis("argsort", dim, data.ndim)
    if data.ndim == 0:
        return Tensor.make_const(np.zeros((), dtype=np.int64))
    return Tensor.make_const(_stable_order(data, dim, descending).astype(np.int64))


def sort(a, dim=-1, descending=False, stable=True, *, axis=None):
    """`a` sorted along `dim` (NumPy's `axis=` too), as a SortResult (values, indices), PyTorch's sort.

    Always stable (`stable` is accepted for PyTorch's signature). The values' adjoint goes back to
    the entry each value came from.
    """
    dim = dim if axis is None else axis
    _axis("sort", dim, _data(a).ndim)
    indices = argsort(a, dim, descending)
    return SortResult(_pick(a, indices, dim), indices)


def topk(a, k, dim=-1, largest=True, sorted=True):  # noqa: A002  (PyTorch's argument name)
    """The `k` largest (or smallest) entries along `dim` and their indices, a SortResult, PyTorch's
    topk. Always in sorted order, ties by input position (so `sorted` is accepted, not needed)."""
    data = _data(a)
    axis = _axis("topk", dim, data.ndim)
    length = data.shape[axis] if data.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= length:
        raise ValueError(f"topk: k must be an integer in [0, {length}] for dim {dim} of {data.shape}, got {k!r}")
    if data.ndim == 0 or k == 0 or 2 * k >= length or data.dtype.kind not in "iuf" or (
            data.dtype.kind == "f" and np.isnan(data).any()):
        order = argsort(a, dim, descending=largest).cached_data
        if data.ndim:
            order = order[(slice(None),) * axis + (slice(0, k),)]
    else:
        order = _top_indices(data, k, axis, largest)
    indices = Tensor.make_const(order.astype(np.int64, copy=False))
    return SortResult(_pick(a, indices, dim), indices)


def _top_indices(data, k, axis, largest):
    """The indices of topk along `axis` in O(n + k log k) per slice, in the stable sorted order.

    A partition finds each slice's k-th value t; the entries beyond t, and the first entries equal to
    t (in input order) up to k, are the top k; a stable sort of those k orders them. No NaN here."""
    last = np.moveaxis(data, axis, -1)
    n = last.shape[-1]
    kth = np.partition(last, n - k if largest else k - 1, axis=-1)[..., [n - k if largest else k - 1]]
    beyond = last > kth if largest else last < kth
    tied = last == kth
    room = k - np.sum(beyond, axis=-1, keepdims=True)
    chosen = beyond | tied
    if (np.sum(tied, axis=-1, keepdims=True) > room).any():  # ties across the cut: the first ones stay
        chosen = beyond | (tied & (np.cumsum(tied, axis=-1) <= room))
    candidates = np.nonzero(chosen)[-1].reshape(last.shape[:-1] + (k,))  # row-major: positions ascending
    values = np.take_along_axis(last, candidates, -1)
    order = np.take_along_axis(candidates, _stable_order(values, -1, largest), -1)
    return np.moveaxis(order, -1, axis)


def _pick(a, indices, dim):
    """The values of `a` at `indices` along `dim`, as a recorded gather."""
    if indices.ndim == 0:
        return getitem(a, ())
    return take_along_axis(a, indices.cached_data, dim)
