"""Indexing and its adjoint (scatter-add); gathering, taking and scattering along an axis (PyTorch's
gather/scatter, NumPy's take/take_along_axis); repeats (tile, repeat_interleave); masked filling,
triangles, flipping and zero padding. All are linear in the indexed input."""
import numpy as np

from ..autograd import LinearOp, Tensor, Value
from .axes import axis_aliases
from .broadcast import normalize_axes, repeat
from .comparison import where
from .elementwise import cast
from .shape import normalize_axis, reshape

__all__ = [
    "GetItem", "getitem", "ScatterAdd", "scatter_add", "gather", "Scatter", "scatter", "take_along_axis",
    "take_along_dim", "take", "tile", "repeat_interleave", "masked_fill", "tril", "triu",
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


def _integer_index(op_name, index):
    index = _array(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op_name}: the index must hold integers, got dtype {index.dtype}")
    return index


def _in_range(op_name, index, length, where):
    """`index` with negative entries counted from the end (NumPy's take); out of range is an IndexError."""
    if index.size and (index.min() < -length or index.max() >= length):
        raise IndexError(
            f"{op_name}: index values from {index.min()} to {index.max()} are out of range for {where} "
            f"of size {length}"
        )
    return np.where(index < 0, index + length, index) if index.size and index.min() < 0 else index


def take_along_axis(a, indices, axis):
    """Entries of `a` picked along `axis` by `indices` (NumPy's take_along_axis, PyTorch's
    take_along_dim): `indices` has a's number of axes and broadcasts against a on the others; axis None
    picks from the flattened input. Negative indices count from the end. A getitem."""
    indices = _integer_index("take_along_axis", indices)
    shape = tuple(a.shape)
    if axis is None:
        if indices.ndim != 1:
            raise ValueError(f"take_along_axis: with axis None the indices must be 1-d, got {indices.shape}")
        flat = reshape(a, (-1,))
        return getitem(flat, (_in_range("take_along_axis", indices, flat.shape[0], "the flattened input"),))
    if indices.ndim != len(shape):
        raise ValueError(f"take_along_axis: indices {indices.shape} and input {shape} differ in their number of axes")
    axis = normalize_axis("take_along_axis", axis, len(shape))
    for i, (size, limit) in enumerate(zip(indices.shape, shape)):
        if i != axis and size not in (1, limit) and limit != 1:
            raise ValueError(f"take_along_axis: indices {indices.shape} do not broadcast against input {shape} "
                             f"outside axis {axis}")
    grids = [np.arange(size).reshape((-1,) + (1,) * (len(shape) - i - 1)) for i, size in enumerate(shape)]
    grids[axis] = _in_range("take_along_axis", indices, shape[axis], f"axis {axis} of {shape}")
    return getitem(a, tuple(grids))


def take_along_dim(a, indices, dim=None):
    """PyTorch's name and argument order for `take_along_axis`."""
    return take_along_axis(a, indices, dim)


def take(a, indices, axis=None):
    """Entries of `a` at `indices` along `axis` (NumPy's take; with axis None, the default, from the
    flattened input as PyTorch's take). The result has a's shape with that axis replaced by
    indices' shape. Negative indices count from the end. A getitem."""
    indices = _integer_index("take", indices)
    if axis is None:
        flat = reshape(a, (-1,))
        return getitem(flat, (_in_range("take", indices, flat.shape[0], "the flattened input"),))
    shape = tuple(a.shape)
    axis = normalize_axis("take", axis, max(len(shape), 1))
    if not shape:
        raise ValueError("take: a 0-d input has no axis to take along; use axis=None")
    return getitem(a, (slice(None),) * axis + (_in_range("take", indices, shape[axis], f"axis {axis} of {shape}"),))


def tile(a, reps):
    """`a` repeated `reps[i]` times along axis i (NumPy's tile, PyTorch's tile): fewer reps than
    axes are padded with leading 1s, more add leading axes. The same as PyTorch's `Tensor.repeat`
    (needle's `repeat`) once the reps are padded; the adjoint sums the copies."""
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    reps = (1,) * (len(a.shape) - len(reps)) + reps
    return repeat(a, reps)


def repeat_interleave(a, repeats, dim=None):
    """Each entry repeated `repeats` times in place along `dim` (PyTorch's repeat_interleave, NumPy's
    np.repeat; needle's `repeat` is PyTorch's Tensor.repeat, NumPy's tile). `repeats` is an int or one
    count per entry along `dim`; with dim None the input is flattened first. A getitem, so the adjoint
    sums each entry's copies."""
    shape = tuple(a.shape)
    if dim is None:
        a, axis = reshape(a, (-1,)), 0
    else:
        axis = normalize_axis("repeat_interleave", dim, max(len(shape), 1))
        if not shape:
            a = reshape(a, (1,))
    length = a.shape[axis]
    counts = _integer_index("repeat_interleave", repeats)
    if counts.ndim > 1 or counts.ndim == 1 and counts.shape[0] not in (1, length) or (counts < 0).any():
        raise ValueError(f"repeat_interleave: repeats must be a count >= 0 or one per entry ({length}) along "
                         f"the axis of {shape}, got shape {counts.shape}")
    index = np.repeat(np.arange(length), counts)
    return getitem(a, (slice(None),) * axis + (index,))


class Scatter(LinearOp):
    """`a` with `src` written at `index` along the axis `axes` (PyTorch's scatter): for axes 0,
    out[index[i][j]][j] = src[i][j]. Only src's leading index-shaped block is used. Where an index
    repeats, the last write wins (NumPy's order; PyTorch leaves it unspecified), and only that src
    entry gets an adjoint. Linear in (a, src) together."""

    def __init__(self, axes, index):
        self.axes = axes
        self.index = np.asarray(index)

    def _targets(self, a_shape, src_shape):
        """(index tuple into a, slices of src's used block), checked against the shapes."""
        index, shape = self.index, tuple(a_shape)
        if index.ndim != len(shape) or len(src_shape) != len(shape):
            raise ValueError(f"scatter: index {index.shape}, input {shape} and src {tuple(src_shape)} must have "
                             "the same number of axes")
        axis = normalize_axis("scatter", self.axes, max(len(shape), 1))
        if any(size > limit for size, limit in zip(index.shape, src_shape)) or any(
                i != axis and size > limit for i, (size, limit) in enumerate(zip(index.shape, shape))):
            raise ValueError(f"scatter: index {index.shape} is larger than src {tuple(src_shape)}, or than the "
                             f"input {shape} outside axis {axis}")
        length = shape[axis] if shape else 1
        grids = list(np.indices(index.shape, sparse=True))
        if shape:
            grids[axis] = _in_range("scatter", index, length, f"axis {axis} of {shape}")
        return tuple(grids), tuple(slice(0, size) for size in index.shape)

    def compute(self, a, src):
        targets, block = self._targets(a.shape, src.shape)
        out = np.array(a, copy=True)
        out[targets] = src[block]
        return out

    def _masks(self, a_shape, src_shape, dtype):
        """(1 where a survives, 1 on the src entries whose write survives), as constants."""
        targets, block = self._targets(a_shape, src_shape)
        writer = np.full(a_shape, -1, dtype=np.int64)
        order = np.arange(self.index.size).reshape(self.index.shape)
        writer[targets] = order
        won = np.zeros(src_shape, dtype=dtype)
        won[block] = writer[targets] == order
        return Tensor.make_const((writer < 0).astype(dtype)), Tensor.make_const(won), targets, block

    def gradient(self, out_grad, node):
        lhs, src = node.inputs
        kept, won, targets, block = self._masks(lhs.shape, src.shape, out_grad.dtype)
        grad_src = None
        if src.requires_grad:
            picked = getitem(out_grad, targets)
            if picked.shape != tuple(src.shape):
                picked = pad(picked, [(0, full - used) for full, used in zip(src.shape, picked.shape)])
            grad_src = picked * won
        return (out_grad * kept if lhs.requires_grad else None), grad_src


def scatter(a, dim, index, src=None, *, value=None, reduce=None):
    """`a` with `src` (a Tensor, or the number `value`) written at `index` along `dim`: PyTorch's
    scatter(input, dim, index, src) and scatter(input, dim, index, value=v). See `Scatter`.

    reduce="add" adds instead of writing, repeats accumulating (PyTorch's scatter_add and
    scatter(..., reduce="add")): a + scatter_add of src, whose adjoint gathers."""
    index = _integer_index("scatter", index)
    if (src is None) == (value is None):
        raise TypeError("scatter: pass exactly one of src and value")
    if reduce not in (None, "add"):
        raise ValueError(f"scatter: reduce must be None or 'add', got {reduce!r}")
    if src is None or not isinstance(src, Value):
        filler = value if src is None else src
        if np.ndim(filler) != 0:
            raise TypeError(f"scatter: src must be a Tensor, or value a number, got shape {np.shape(filler)}")
        src = Tensor.make_const(np.full(index.shape, filler, dtype=a.dtype))
    op = Scatter(dim, index)
    if reduce is None:
        return op(a, src)
    targets, block = op._targets(a.shape, src.shape)
    return a + scatter_add(getitem(src, block), targets, a.shape)


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
