"""The course's NDArray API over a NumPy array, for code written against `needle.backend_ndarray`.

An NDArray holds one NumPy array and answers the course's methods with NumPy calls. needle's
own tensors never use it (a Tensor's storage is a plain NumPy array: a wrapper would cost
microseconds per op); `Tensor(ndarray)` copies the data out. The course's quirks are kept:
- `NDArray(x)` holds float32 (the course's one dtype); `array(x, dtype=...)` may keep another.
- An integer index keeps its axis with size 1 (`a[0]` of a (3, 4) array is (1, 4)); indices are
  integers and slices only, and `a[i:j]` is a view that writes through, as in the course.
- Comparisons give 0.0/1.0 in the array's dtype, not booleans.
- `permute`, `broadcast_to` and slicing are views; `compact()` makes a contiguous array (itself
  when it already is one); `flip` and `pad` make new arrays.
"""
import numbers

import numpy as np

from ..device import Device, all_devices, as_device, cpu, cpu_numpy, cuda, default_device

__all__ = [
    "NDArray", "BackendDevice", "array", "empty", "full", "broadcast_to", "reshape", "maximum", "log", "exp",
    "tanh", "sum", "max", "flip", "pad", "permute", "cpu", "cpu_numpy", "cuda", "default_device", "all_devices",
]

# The course's name for the device class.
BackendDevice = Device


def _numeric(name, data, dtype):
    """A new NumPy array of numbers (bools, integers, floats) from `data`, in `dtype` when given."""
    try:
        result = np.array(data)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise TypeError(f"{name}: expected numbers in a regular shape: {error}") from None
    if result.dtype.kind not in "biufc":
        raise TypeError(f"{name}: expected numbers, got a {result.dtype} array")
    if dtype is not None:
        result = result.astype(dtype, copy=False)
    return result


def _wrap(array):
    out = object.__new__(NDArray)
    out._array = np.asarray(array)  # a NumPy scalar from a reduction becomes a 0-d array
    return out


def _operand(other):
    """The NumPy form of an operand: an NDArray's array, a number, or an array; else None."""
    if isinstance(other, NDArray):
        return other._array
    if isinstance(other, (numbers.Number, np.ndarray, np.generic)):
        return other
    return None


class NDArray:
    """An n-dimensional array on a device (the CPU): `NDArray(data, device=None)` copies `data` as float32."""

    __slots__ = ("_array",)
    __array_ufunc__ = None  # `numpy_array + ndarray` calls NDArray.__radd__, as for any operand
    __hash__ = None  # `==` is elementwise

    def __init__(self, other, device=None):
        as_device("NDArray", device)
        if isinstance(other, NDArray):
            self._array = other._array.copy()
        else:
            self._array = _numeric("NDArray", other, np.float32)

    @classmethod
    def from_numpy(cls, array, copy=True):
        """An NDArray over `array` (a NumPy array of numbers); `copy=False` shares its storage."""
        if copy or not isinstance(array, np.ndarray):
            array = _numeric("NDArray.from_numpy", array, None)
        elif array.dtype.kind not in "biufc":
            raise TypeError(f"NDArray.from_numpy: expected numbers, got a {array.dtype} array")
        return _wrap(array)

    # ---- metadata and conversion -------------------------------------------------------------

    @property
    def shape(self):
        return self._array.shape

    @property
    def dtype(self):
        return self._array.dtype  # compares equal to the course's "float32"

    @property
    def device(self):
        return cpu()

    @property
    def size(self):
        return self._array.size

    @property
    def ndim(self):
        return self._array.ndim

    @property
    def strides(self):
        """Strides in elements, as the course counts them (NumPy's are in bytes)."""
        return tuple(stride // self._array.itemsize for stride in self._array.strides)

    def numpy(self):
        """A NumPy copy of the data."""
        return self._array.copy()

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._array, dtype=dtype)
        return self._array if dtype is None else self._array.astype(dtype, copy=False)

    def to(self, device):
        """This array on `device`: itself, since the CPU is the only enabled device."""
        as_device("NDArray.to", device)
        return self

    def astype(self, dtype="float32"):
        return _wrap(_numeric("NDArray.astype", self._array, dtype))

    def fill(self, value):
        """Set every entry to `value`, in place."""
        self._array.fill(value)

    def is_compact(self):
        return self._array.flags.c_contiguous

    def compact(self):
        """A contiguous array with these values: itself when it already is one, else a copy."""
        if self._array.flags.c_contiguous:
            return self
        return _wrap(np.ascontiguousarray(self._array))

    def __repr__(self):
        return f"NDArray({self._array}, device={self.device})"

    def __str__(self):
        return str(self._array)

    def __bool__(self):
        return bool(self._array)  # NumPy's rule: only one-element arrays have a truth value

    # ---- shape ---------------------------------------------------------------------------------

    def reshape(self, *new_shape):
        """The same entries in `new_shape` (one -1 is inferred); a view when the array is compact."""
        new_shape = _shape_argument(new_shape)
        try:
            return _wrap(self._array.reshape(new_shape))
        except (ValueError, TypeError):
            raise ValueError(f"NDArray.reshape: cannot reshape {self.shape} (size {self.size}) to {new_shape}") from None

    def permute(self, *new_axes):
        """A view with the axes in the order `new_axes` (a permutation of 0..ndim−1)."""
        new_axes = _shape_argument(new_axes)
        if sorted(new_axes) != list(range(self.ndim)):
            raise ValueError(f"NDArray.permute: {new_axes} is not a permutation of the axes of {self.shape}")
        return _wrap(self._array.transpose(new_axes))

    def broadcast_to(self, *new_shape):
        """A read-only view repeating size-1 axes (and new leading axes) up to `new_shape`."""
        new_shape = _shape_argument(new_shape)
        try:
            return _wrap(np.broadcast_to(self._array, new_shape))
        except (ValueError, TypeError):
            raise ValueError(f"NDArray.broadcast_to: cannot broadcast {self.shape} to {new_shape}") from None

    def flip(self, axes):
        """A new array with the order of entries reversed along `axes` (an int or a tuple)."""
        axes = (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
        for axis in axes:
            if not -self.ndim <= axis < self.ndim:
                raise ValueError(f"NDArray.flip: axis {axis} is out of range for shape {self.shape}")
        return _wrap(np.ascontiguousarray(np.flip(self._array, axes)))

    def pad(self, axes):
        """A new array with zeros added: `axes` holds one (before, after) pair per axis."""
        pairs = tuple(tuple(pair) for pair in axes)
        if len(pairs) != self.ndim or any(
            len(pair) != 2 or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0 for n in pair)
            for pair in pairs
        ):
            raise ValueError(
                f"NDArray.pad: expected {self.ndim} pairs of non-negative integers for shape {self.shape}, got {axes}"
            )
        return _wrap(np.pad(self._array, pairs))

    # ---- reductions ------------------------------------------------------------------------------

    def sum(self, axis=None, keepdims=False):
        return _wrap(self._array.sum(axis=_axis("sum", axis, self.ndim), keepdims=keepdims))

    def max(self, axis=None, keepdims=False):
        if self.size == 0:
            raise ValueError(f"NDArray.max: the array of shape {self.shape} is empty")
        return _wrap(self._array.max(axis=_axis("max", axis, self.ndim), keepdims=keepdims))

    # ---- indexing --------------------------------------------------------------------------------

    def _slices(self, name, idxs):
        """The course's index: a tuple of one slice per axis, an integer i standing for i:i+1."""
        idxs = idxs if isinstance(idxs, tuple) else (idxs,)
        if len(idxs) > self.ndim:
            raise IndexError(f"NDArray.{name}: {len(idxs)} indices for an array of shape {self.shape}")
        slices = []
        for axis, index in enumerate(idxs):
            if isinstance(index, slice):
                slices.append(index)
            elif isinstance(index, (int, np.integer)) and not isinstance(index, bool):
                size = self.shape[axis]
                if not -size <= index < size:
                    raise IndexError(f"NDArray.{name}: index {index} is out of range for axis {axis} of {self.shape}")
                index = int(index) % size
                slices.append(slice(index, index + 1))
            else:
                raise TypeError(f"NDArray.{name}: indices must be integers or slices, got {type(index).__name__}")
        return tuple(slices)

    def __getitem__(self, idxs):
        """A view of the entries picked by integers and slices; every axis is kept."""
        return _wrap(self._array[self._slices("__getitem__", idxs)])

    def __setitem__(self, idxs, other):
        """Write `other` (an NDArray, array or number of the view's size, or broadcastable) into the view."""
        view = self._array[self._slices("__setitem__", idxs)]
        value = _operand(other)
        if value is None:
            raise TypeError(f"NDArray.__setitem__: expected an NDArray, array or number, got {type(other).__name__}")
        if np.ndim(value) and np.size(value) == view.size and np.shape(value) != view.shape:
            value = np.reshape(value, view.shape)  # the course copies any array of the same size
        if not view.flags.writeable:
            raise ValueError("NDArray.__setitem__: the array is a read-only broadcast view; compact() it first")
        try:
            view[...] = value
        except ValueError:
            raise ValueError(
                f"NDArray.__setitem__: a value of shape {np.shape(value)} does not fit the view {view.shape}"
            ) from None

    # ---- arithmetic and comparisons: NumPy's broadcasting and type promotion --------------------

    def _binary(self, name, ufunc, other, reflected=False):
        operand = _operand(other)
        if operand is None:
            return NotImplemented  # Python then tries the other operand's method, then raises TypeError
        try:
            result = ufunc(operand, self._array) if reflected else ufunc(self._array, operand)
        except ValueError:
            raise ValueError(f"NDArray {name}: shapes {self.shape} and {np.shape(operand)} do not broadcast") from None
        return _wrap(result)

    def __add__(self, other):
        return self._binary("+", np.add, other)

    def __radd__(self, other):
        return self._binary("+", np.add, other, reflected=True)

    def __sub__(self, other):
        return self._binary("-", np.subtract, other)

    def __rsub__(self, other):
        return self._binary("-", np.subtract, other, reflected=True)

    def __mul__(self, other):
        return self._binary("*", np.multiply, other)

    def __rmul__(self, other):
        return self._binary("*", np.multiply, other, reflected=True)

    def __truediv__(self, other):
        return self._binary("/", np.true_divide, other)

    def __rtruediv__(self, other):
        return self._binary("/", np.true_divide, other, reflected=True)

    def __pow__(self, other):
        return self._binary("**", np.power, other)

    def __neg__(self):
        return _wrap(np.negative(self._array))

    def __matmul__(self, other):
        return self._binary("@", np.matmul, other)

    def __rmatmul__(self, other):
        return self._binary("@", np.matmul, other, reflected=True)

    def maximum(self, other):
        return self._binary("maximum", np.maximum, other)

    def log(self):
        return _wrap(np.log(self._array))

    def exp(self):
        return _wrap(np.exp(self._array))

    def tanh(self):
        return _wrap(np.tanh(self._array))

    def _compare(self, name, ufunc, other):
        # needle: the course's comparisons give 1.0 where true and 0.0 where false, in its dtype
        result = self._binary(name, ufunc, other)
        return result if result is NotImplemented else result.astype(self.dtype)

    def __eq__(self, other):
        return self._compare("==", np.equal, other)

    def __ne__(self, other):
        return self._compare("!=", np.not_equal, other)

    def __gt__(self, other):
        return self._compare(">", np.greater, other)

    def __ge__(self, other):
        return self._compare(">=", np.greater_equal, other)

    def __lt__(self, other):
        return self._compare("<", np.less, other)

    def __le__(self, other):
        return self._compare("<=", np.less_equal, other)


def _shape_argument(shape):
    """A shape given as separate sizes or as one tuple/list."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(shape)


def _axis(name, axis, ndim):
    """`axis` as NumPy takes it (None, an int, or a tuple), checked against `ndim`."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise ValueError(f"NDArray.{name}: axis {axis} is out of range for an array of {ndim} axes")
    return axes


# ---- the course's module-level functions ------------------------------------------------------


def array(a, dtype="float32", device=None):
    """A new NDArray holding a copy of `a` (a list, NumPy array or NDArray) in `dtype` (float32 if None)."""
    as_device("array", device)
    data = a._array if isinstance(a, NDArray) else a
    return _wrap(_numeric("array", data, "float32" if dtype is None else dtype))


def empty(shape, dtype="float32", device=None):
    """An NDArray of `shape` with unset entries."""
    as_device("empty", device)
    return _wrap(np.empty(shape, dtype=dtype))


def full(shape, fill_value, dtype="float32", device=None):
    """An NDArray of `shape` with every entry `fill_value`."""
    as_device("full", device)
    return _wrap(np.full(shape, fill_value, dtype=dtype))


def broadcast_to(array, new_shape):
    return array.broadcast_to(new_shape)


def reshape(array, new_shape):
    return array.reshape(new_shape)


def permute(array, new_axes):
    return array.permute(new_axes)


def maximum(a, b):
    return a.maximum(b)


def log(a):
    return a.log()


def exp(a):
    return a.exp()


def tanh(a):
    return a.tanh()


def sum(a, axis=None, keepdims=False):  # noqa: A001  (the course's name)
    return a.sum(axis=axis, keepdims=keepdims)


def max(a, axis=None, keepdims=False):  # noqa: A001  (the course's name)
    return a.max(axis=axis, keepdims=keepdims)


def flip(a, axes):
    return a.flip(axes)


def pad(a, axes):
    return a.pad(axes)
