"""Ops that move, join or split data without arithmetic: reshapes, axis moves, rolls, stacking and
splitting."""
import operator

import numpy as np

from ..autograd import LinearOp, TensorTuple, TensorTupleOp
from .axes import axis_aliases

__all__ = [
    "Reshape", "reshape", "Transpose", "transpose", "Permute", "permute",
    "Stack", "stack", "Split", "split", "Concatenate", "concatenate", "cat",
    "unsqueeze", "squeeze", "flatten", "expand_dims", "moveaxis", "movedim", "swapaxes", "swapdims",
    "Roll", "roll",
]


def normalize_axis(op_name, axis, ndim):
    """One axis in [-ndim, ndim) as an int in [0, ndim)."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op_name}: an axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op_name}: axis {axis} is out of range for {ndim} dimensions")
    return int(axis) % ndim


def as_shape(shape):
    """A shape as a tuple of Python ints; an entry that is not an integer is a TypeError."""
    sizes = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        return tuple(operator.index(size) for size in sizes)
    except TypeError:
        raise TypeError(f"shape {sizes!r}: sizes must be integers") from None


class Reshape(LinearOp):
    """The same elements in a new shape (one entry may be -1)."""

    def __init__(self, shape):
        self.shape = as_shape(shape)
        if any(size < -1 for size in self.shape) or self.shape.count(-1) > 1:
            raise ValueError(
                f"reshape: invalid shape {self.shape}: sizes must be >= 0, with at most one -1"
            )

    def compute(self, a):
        try:
            return np.reshape(a, self.shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape {a.shape} ({a.size} elements) into {self.shape}"
            ) from None

    def gradient(self, out_grad, node):
        return reshape(out_grad, node.inputs[0].shape)


def reshape(a, shape):
    return Reshape(shape)(a)


@axis_aliases
def unsqueeze(a, axes):
    """`a` with a new size-1 axis at `axes` (in [-ndim - 1, ndim]), a reshape."""
    shape = tuple(a.shape)
    axis = normalize_axis("unsqueeze", axes, len(shape) + 1)
    return reshape(a, shape[:axis] + (1,) + shape[axis:])


@axis_aliases
def squeeze(a, axes=None):
    """`a` without its size-1 axes (all of them, or those among `axes`), a reshape.

    As in PyTorch, a named axis whose size is not 1 is left alone (NumPy raises instead).
    """
    shape = tuple(a.shape)
    if axes is None:
        axes = range(len(shape))
    elif isinstance(axes, (int, np.integer)):
        axes = (axes,)
    dropped = {normalize_axis("squeeze", axis, max(len(shape), 1)) for axis in axes}
    return reshape(a, tuple(size for i, size in enumerate(shape) if not (i in dropped and size == 1)))


def flatten(a, start_dim=0, end_dim=-1):
    """Axes start_dim..end_dim (inclusive) merged into one, a reshape; a 0-d input becomes shape (1,)."""
    shape = tuple(a.shape)
    if not shape:
        return reshape(a, (1,))
    start = normalize_axis("flatten", start_dim, len(shape))
    end = normalize_axis("flatten", end_dim, len(shape))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {shape}")
    merged = 1
    for size in shape[start:end + 1]:
        merged *= size
    return reshape(a, shape[:start] + (merged,) + shape[end + 1:])


def expand_dims(a, axis):
    """`a` with new size-1 axes at the positions `axis` (an int or a tuple) of the result, NumPy's
    expand_dims; a reshape."""
    shape = tuple(a.shape)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    ndim = len(shape) + len(axes)
    placed = sorted(normalize_axis("expand_dims", axis, ndim) for axis in axes)
    if len(set(placed)) != len(placed):
        raise ValueError(f"expand_dims: repeated axis in {axes} for shape {shape}")
    sizes = iter(shape)
    return reshape(a, tuple(1 if i in placed else next(sizes) for i in range(ndim)))


def _axis_list(op_name, axes, ndim):
    """An int or a sequence of ints as a list of distinct axes in [0, ndim)."""
    axes = [axes] if isinstance(axes, (int, np.integer)) else list(axes)
    normal = [normalize_axis(op_name, axis, ndim) for axis in axes]
    if len(set(normal)) != len(normal):
        raise ValueError(f"{op_name}: repeated axis in {tuple(axes)} for {ndim} dimensions")
    return normal


def moveaxis(a, source, destination):
    """The axes `source` moved to the positions `destination` (ints or sequences of one length), the
    others kept in order (NumPy's moveaxis, PyTorch's movedim); a permute."""
    ndim = len(a.shape)
    source = _axis_list("moveaxis", source, ndim)
    destination = _axis_list("moveaxis", destination, ndim)
    if len(source) != len(destination):
        raise ValueError(f"moveaxis: {len(source)} source axes but {len(destination)} destinations")
    order = [axis for axis in range(ndim) if axis not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return permute(a, tuple(order))


movedim = moveaxis


def swapaxes(a, axis0, axis1):
    """Axes `axis0` and `axis1` exchanged (NumPy's swapaxes, PyTorch's swapdims and transpose(i, j))."""
    return transpose(a, (axis0, axis1))


swapdims = swapaxes


class Transpose(LinearOp):
    """Swap two axes (needle: `axes` is a pair (i, j); default the last two)."""

    def __init__(self, axes=None):
        if axes is not None and (not isinstance(axes, (tuple, list)) or len(axes) != 2):
            raise ValueError(f"transpose: axes must be a pair (i, j), got {axes!r}; use permute")
        self.axes = None if axes is None else tuple(axes)

    def compute(self, a):
        if a.ndim < 2:
            raise ValueError(f"transpose: needs at least 2 dimensions, got shape {a.shape}")
        if self.axes is None:
            return np.swapaxes(a, -1, -2)
        i, j = (normalize_axis("transpose", axis, a.ndim) for axis in self.axes)
        return np.swapaxes(a, i, j)

    def gradient(self, out_grad, node):
        return transpose(out_grad, self.axes)  # a swap is its own inverse


def transpose(a, axes=None):
    return Transpose(axes)(a)


class Permute(LinearOp):
    """Axes reordered: out.shape[i] = a.shape[axes[i]] (PyTorch's permute). The adjoint permutes back."""

    def __init__(self, axes):
        self.axes = tuple(axes)

    def _normalized(self, ndim, shape):
        axes = tuple(normalize_axis("permute", axis, ndim) for axis in self.axes[:ndim])
        if len(self.axes) != ndim or sorted(axes) != list(range(ndim)):
            raise ValueError(f"permute: axes {self.axes} do not reorder the {ndim} axes of {shape}")
        return axes

    def compute(self, a):
        return np.transpose(a, self._normalized(a.ndim, a.shape))

    def gradient(self, out_grad, node):
        shape = node.inputs[0].shape
        axes = self._normalized(len(shape), shape)
        return permute(out_grad, tuple(int(i) for i in np.argsort(axes)))


def permute(a, axes):
    return Permute(axes)(a)


def _tensors(op_name, tensors):
    """A list or tuple of Tensors (or a TensorTuple) as a tuple; at least one is needed."""
    tensors = tensors.tuple() if isinstance(tensors, TensorTuple) else tuple(tensors)
    if not tensors:
        raise ValueError(f"{op_name}: needs at least one tensor")
    return tensors


def _shapes(arrays):
    return ", ".join(str(a.shape) for a in arrays)


class Stack(LinearOp):
    """n inputs of one shape S joined along a new axis: S with n inserted at `axes`.

    The inputs are separate arguments, `Stack(axes)(*tensors)`. The adjoint splits along that axis.
    """

    def __init__(self, axes=0):
        self.axes = axes

    def compute(self, *arrays):
        if any(a.shape != arrays[0].shape for a in arrays):
            raise ValueError(f"stack: the shapes differ: {_shapes(arrays)}")
        return np.stack(arrays, normalize_axis("stack", self.axes, arrays[0].ndim + 1))

    def gradient(self, out_grad, node):
        return split(out_grad, self.axes).tuple()


@axis_aliases
def stack(tensors, axes=0):
    """Tensors of one shape joined along a new axis `axes`: n × S -> S with n inserted at `axes`."""
    return Stack(axes)(*_tensors("stack", tensors))


class Concatenate(LinearOp):
    """Inputs joined end to end along the existing axis `axes`; their other axes must agree.

    The inputs are separate arguments, `Concatenate(axes)(*tensors)`. The adjoint cuts the same pieces.
    """

    def __init__(self, axes=0):
        self.axes = axes

    def compute(self, *arrays):
        ndim = arrays[0].ndim
        if ndim == 0:
            raise ValueError(
                f"concatenate: 0-d tensors have no axis to join along: {_shapes(arrays)}; use stack"
            )
        axis = normalize_axis("concatenate", self.axes, ndim)
        rest = arrays[0].shape[:axis] + arrays[0].shape[axis + 1:]
        if any(a.ndim != ndim or a.shape[:axis] + a.shape[axis + 1:] != rest for a in arrays):
            raise ValueError(
                f"concatenate: the shapes differ outside axis {self.axes}: {_shapes(arrays)}"
            )
        return np.concatenate(arrays, axis)

    def gradient(self, out_grad, node):
        axis = normalize_axis("concatenate", self.axes, out_grad.ndim)
        sizes = [x.shape[axis] for x in node.inputs]
        return split(out_grad, self.axes, sections=sizes).tuple()


@axis_aliases
def concatenate(tensors, axes=0):
    """Tensors joined along the existing axis `axes` (PyTorch's cat)."""
    return Concatenate(axes)(*_tensors("concatenate", tensors))


cat = concatenate


class Split(TensorTupleOp):
    """Slices of `a` along `axes`, as a TensorTuple.

    `sections` None (needle's split): one entry per index, the axis dropped; the inverse of stack.
    `sections` an int or a list of sizes (PyTorch's split): consecutive chunks of that size (the last
    may be shorter) or of those sizes, the axis kept; the inverse of concatenate.
    """

    def __init__(self, axes=0, sections=None):
        self.axes = axes
        if sections is None or isinstance(sections, (int, np.integer)):
            self.sections = sections
        else:
            self.sections = tuple(int(size) for size in sections)

    def _bounds(self, length, shape):
        """(start, stop) of each chunk along an axis of `length`."""
        if isinstance(self.sections, (int, np.integer)):
            if self.sections <= 0:
                raise ValueError(f"split: the chunk size must be positive, got {self.sections}")
            starts = range(0, max(length, 1), self.sections)
            return [(start, min(start + self.sections, length)) for start in starts]
        if any(size < 0 for size in self.sections) or sum(self.sections) != length:
            raise ValueError(
                f"split: sections {list(self.sections)} do not add up to the size {length} "
                f"of axis {self.axes} of {shape}"
            )
        stops = np.cumsum(self.sections).tolist()
        return list(zip([0] + stops[:-1], stops))

    def compute(self, a):
        axis = normalize_axis("split", self.axes, a.ndim)
        lead = (slice(None),) * axis
        if self.sections is None:
            return tuple(a[lead + (i,)] for i in range(a.shape[axis]))
        bounds = self._bounds(a.shape[axis], a.shape)
        return tuple(a[lead + (slice(start, stop),)] for start, stop in bounds)

    def gradient(self, out_grad, node):
        parts = out_grad.tuple()
        if self.sections is None:
            return stack(parts, self.axes)
        return concatenate(parts, self.axes)

    def jvp(self, tangents, node):
        return self(tangents[0])  # linear: the tangent is split the same way


@axis_aliases
def split(a, axes=0, sections=None):
    """`a` cut along `axes` into a TensorTuple: unstacked (sections None) or in chunks (as torch.split)."""
    return Split(axes, sections)(a)




class Roll(LinearOp):
    """Entries shifted cyclically by `shifts` along `axes` (NumPy's roll, PyTorch's roll with dims=);
    with `axes` None the flattened input rolls and keeps its shape. The adjoint rolls back by −shifts."""

    def __init__(self, shifts, axes=None):
        self.shifts = shifts if isinstance(shifts, (int, np.integer)) else tuple(int(s) for s in shifts)
        self.axes = axes if axes is None or isinstance(axes, (int, np.integer)) else tuple(axes)

    def _check(self, shape):
        counts = (1 if isinstance(self.shifts, (int, np.integer)) else len(self.shifts),
                  1 if self.axes is None or isinstance(self.axes, (int, np.integer)) else len(self.axes))
        if self.axes is None and counts[0] != 1 or self.axes is not None and counts[0] != counts[1]:
            raise ValueError(f"roll: shifts {self.shifts} and dims {self.axes} differ in length for shape {shape}")
        if self.axes is not None:
            _axis_list("roll", self.axes, max(len(shape), 1))

    def compute(self, a):
        self._check(a.shape)
        return np.roll(a, self.shifts, self.axes)

    def gradient(self, out_grad, node):
        back = -self.shifts if isinstance(self.shifts, (int, np.integer)) else tuple(-s for s in self.shifts)
        return roll(out_grad, back, self.axes)


def roll(a, shifts, dims=None, *, axis=None):
    """`a` rolled by `shifts` (an int or one per axis) along `dims` (PyTorch's name; NumPy's `axis=`
    too); with neither, the flattened input rolls."""
    if dims is not None and axis is not None:
        raise TypeError("roll: the axes are given twice, as dims and axis; pass one")
    return Roll(shifts, axis if dims is None else dims)(a)
