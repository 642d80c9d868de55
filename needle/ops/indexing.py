"""Indexing and its adjoint (scatter-add), gathering along an axis, masked filling, triangles, flipping
and zero padding. All are linear in the indexed input."""
import numpy as np

from ..autograd import LinearOp, Tensor, Value
from .axes import axis_aliases
from .broadcast import normalize_axes
from .comparison import where
from .elementwise import cast
from .shape import normalize_axis

__all__ = [
    "GetItem", "getitem", "ScatterAdd", "scatter_add", "gather", "masked_fill", "tril", "triu",
    "Flip", "flip", "Pad", "pad",
]


def _index_part(part):
    """One entry of an index in the form NumPy takes: Tensors and lists become arrays."""
    if isinstance(part, Value):
        part = part.cached_data
    elif isinstance(part, list):
        part = np.asarray(part)
    if isinstance(part, np.ndarray):
        if part.dtype != bool and not np.issubdtype(part.dtype, np.integer):
            if part.size:
                raise IndexError(
                    f"getitem: index arrays must hold integers or booleans, not {part.dtype}"
                )
            part = part.astype(np.intp)  # an empty list selects nothing
        return part
    if isinstance(part, np.integer):
        return int(part)
    return part


def normalize_index(index):
    """`index` (ints, slices, None, Ellipsis, int or bool arrays or Tensors) as a tuple for NumPy."""
    parts = index if isinstance(index, tuple) else (index,)
    return tuple(_index_part(part) for part in parts)


def _has_index_array(index):
    """Whether an integer index array is present: only those can select an element twice."""
    return any(isinstance(part, np.ndarray) and part.dtype != bool for part in index)


class GetItem(LinearOp):
    """a[index], NumPy's basic and advanced indexing. The adjoint scatter-adds (repeats accumulate)."""

    def __init__(self, index):
        self.index = normalize_index(index)

    def compute(self, a):
        try:
            return a[self.index]
        except IndexError as error:
            raise IndexError(f"getitem: shape {a.shape}: {error}") from None

    def gradient(self, out_grad, node):
        return scatter_add(out_grad, self.index, node.inputs[0].shape)


def getitem(a, index):
    """a[index] with NumPy semantics: ints, slices, None, Ellipsis, integer arrays and boolean masks."""
    return GetItem(index)(a)


class ScatterAdd(LinearOp):
    """Zeros of `shape` with `a` added at `index`: out[index] += a, repeated entries accumulating.

    The adjoint of getitem (and its adjoint is getitem). NumPy-style `index`, unlike torch's scatter_add.
    """

    def __init__(self, index, shape):
        self.index = normalize_index(index)
        self.shape = tuple(shape)

    def compute(self, a):
        out = np.zeros(self.shape, dtype=a.dtype)
        try:
            target = out[self.index]
        except IndexError as error:
            raise IndexError(f"scatter_add: shape {self.shape}: {error}") from None
        if target.shape != a.shape:
            raise ValueError(
                f"scatter_add: values of shape {a.shape} do not fit the {target.shape} entries "
                f"that the index selects in {self.shape}"
            )
        if _has_index_array(self.index):
            np.add.at(out, self.index, a)
        else:
            out[self.index] = a  # slices, ints and masks select each entry at most once
        return out

    def gradient(self, out_grad, node):
        return getitem(out_grad, self.index)


def scatter_add(a, index, shape):
    """Zeros of `shape` with `a` added at NumPy-style `index` (np.add.at): the adjoint of getitem."""
    return ScatterAdd(index, shape)(a)


def _array(x):
    return np.asarray(x.cached_data if isinstance(x, Value) else x)


@axis_aliases
def gather(a, axes, index):
    """Entries of `a` picked along the axis `axes` by the integer `index` (PyTorch's gather): for
    axes=1, out[i][j] = a[i][index[i][j]]. out has index's shape; index may be smaller than `a` on
    the other axes. A getitem with open grids, so the adjoint scatter-adds (repeats accumulate)."""
    index = _array(index)
    shape = tuple(a.shape)
    if index.dtype.kind not in "iu":
        raise TypeError(f"gather: the index must hold integers, got dtype {index.dtype}")
    if index.ndim != len(shape):
        raise ValueError(f"gather: index {index.shape} and input {shape} differ in their number of axes")
    axis = normalize_axis("gather", axes, max(len(shape), 1))
    if any(i != axis and size > limit for i, (size, limit) in enumerate(zip(index.shape, shape))):
        raise ValueError(f"gather: index {index.shape} is larger than the input {shape} outside axis {axis}")
    length = shape[axis] if shape else 1
    if index.size and (index.min() < 0 or index.max() >= length):
        raise IndexError(
            f"gather: index values from {index.min()} to {index.max()} are out of range [0, {length}) "
            f"for axis {axis} of {shape}"
        )
    if not shape:
        return getitem(a, ())
    grids = list(np.indices(index.shape, sparse=True))
    grids[axis] = index
    return getitem(a, tuple(grids))


def masked_fill(a, mask, value):
    """`a` with `value` where the bool `mask` (broadcasting to a's shape) is True (PyTorch's
    masked_fill). A where: the adjoint is 0 where filled; a 0-d Tensor `value` gets the rest."""
    mask = _array(mask)
    shape = tuple(a.shape)
    if mask.dtype != bool:
        raise TypeError(f"masked_fill: the mask must be bool, got dtype {mask.dtype}")
    try:
        fits = np.broadcast_shapes(mask.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"masked_fill: mask {mask.shape} does not broadcast to the input's shape {shape}")
    if isinstance(value, Value):
        if value.shape != ():
            raise ValueError(f"masked_fill: value must be a scalar or a 0-d Tensor, got shape {value.shape}")
        if value.dtype != a.dtype:
            value = cast(value, a.dtype)
    return where(Tensor.make_const(mask), value, a)


def _triangle(op_name, a, diagonal, keep):
    """`a` with the entries off one triangle of its last two axes set to 0 (a `where`, so inf and nan
    there give 0 too, and the adjoint is 0 there)."""
    shape = tuple(a.shape)
    if len(shape) < 2:
        raise ValueError(f"{op_name}: needs at least 2 dimensions, got shape {shape}")
    if isinstance(diagonal, bool) or not isinstance(diagonal, (int, np.integer)):
        raise TypeError(f"{op_name}: diagonal must be an int, got {diagonal!r}")
    rows, cols = shape[-2:]
    offset = np.arange(cols)[None, :] - np.arange(rows)[:, None]  # j − i
    return where(Tensor.make_const(keep(offset, int(diagonal))), a, 0)


def tril(a, diagonal=0):
    """The lower triangle of the last two axes, entries with j − i ≤ `diagonal` (PyTorch's tril,
    NumPy's np.tril with k=diagonal); the rest is 0."""
    return _triangle("tril", a, diagonal, lambda offset, k: offset <= k)


def triu(a, diagonal=0):
    """The upper triangle of the last two axes, entries with j − i ≥ `diagonal` (PyTorch's triu,
    NumPy's np.triu with k=diagonal); the rest is 0."""
    return _triangle("triu", a, diagonal, lambda offset, k: offset >= k)


class Flip(LinearOp):
    """The order of elements reversed along `axes` (all when None). Its own adjoint."""

    def __init__(self, axes=None):
        self.axes = axes

    def compute(self, a):
        return np.flip(a, normalize_axes("flip", self.axes, a.shape))

    def gradient(self, out_grad, node):
        return flip(out_grad, self.axes)


@axis_aliases
def flip(a, axes=None):
    return Flip(axes)(a)


class Pad(LinearOp):
    """Zeros around `a`: `pad_width` is NumPy's ((before, after), ...), one pair per axis.

    Constant zero padding only. The adjoint slices the interior back out.
    """

    def __init__(self, pad_width):
        self.pad_width = tuple(tuple(int(w) for w in pair) for pair in pad_width)

    def _interior(self, shape):
        """The slices that hold `a` inside the padded output."""
        widths = self.pad_width
        if len(widths) != len(shape) or any(len(pair) != 2 or min(pair) < 0 for pair in widths):
            raise ValueError(
                f"pad: pad_width {widths} must give one (before, after) pair of non-negative sizes "
                f"per axis of {shape}"
            )
        return tuple(slice(before, before + size) for (before, _), size in zip(widths, shape))

    def compute(self, a):
        interior = self._interior(a.shape)
        out_shape = tuple(size + sum(pair) for size, pair in zip(a.shape, self.pad_width))
        out = np.zeros(out_shape, dtype=a.dtype)
        out[interior] = a
        return out

    def gradient(self, out_grad, node):
        return getitem(out_grad, self._interior(node.inputs[0].shape))


def pad(a, pad_width):
    """`a` with zeros around it; `pad_width` is ((before, after), ...), one pair per axis."""
    return Pad(pad_width)(a)
