"""The Tensor vocabulary beyond the engine's core: in-place writes, and the methods a PyTorch or
NumPy user types (`x.sum(dim=1)`, `x.view(...)`, `x.clamp(...)`, `x.to(dtype)`, ...).

`Tensor` inherits `TensorMethods`. The methods are thin calls into `needle.ops` and the engine,
reached through the package at call time as `Tensor`'s operators do (see `needle.autograd`).
"""
import operator

import numpy as np

import needle

from . import modes
from .device import as_device, is_device

__all__ = ["TensorMethods"]


def _op_method(name):
    """A Tensor method that calls `needle.ops.<name>` with the tensor first."""

    def method(self, *args, **kwargs):
        return getattr(needle.ops, name)(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"`needle.{name}` of this tensor."
    return method


class TensorMethods:
    """In-place writes and the PyTorch/NumPy methods of `needle.Tensor`."""

    __slots__ = ()

    # ---- in-place writes ---------------------------------------------------------------------
    # Safe where no recorded graph can read the old values: a leaf that does not require grad, or
    # any leaf under no_grad() (an optimizer step). A leaf that requires grad refuses with grad
    # mode on, as in PyTorch. A recorded result (or a write of a value that requires grad) is
    # recorded: the tensor keeps its identity and becomes the op's node over its old self.
    # Every write bumps the version, so graphs recorded before it refuse a second backward.

    def __iadd__(self, other):
        return self._update("+=", np.add, operator.add, other)

    def __isub__(self, other):
        return self._update("-=", np.subtract, operator.sub, other)

    def __imul__(self, other):
        return self._update("*=", np.multiply, operator.mul, other)

    def __itruediv__(self, other):
        return self._update("/=", np.true_divide, operator.truediv, other)

    def zero_(self):
        return self._assign("zero_", 0)

    def fill_(self, value):
        """Every entry set to `value`, a number or a one-element Tensor."""
        if np.size(value.cached_data if isinstance(value, needle.autograd.Value) else value) != 1:
            raise ValueError(f"fill_: expected a number or a one-element tensor, got shape {np.shape(value)}")
        return self._assign("fill_", value.reshape(()) if isinstance(value, needle.autograd.Tensor) else value)

    def copy_(self, src):
        """The entries of `src` (broadcast to this shape, converted to this dtype) written here."""
        return self._assign("copy_", src)

    def requires_grad_(self, requires_grad=True):
        """Set whether this leaf takes part in differentiation (floating dtypes only)."""
        if self.op is not None and not requires_grad:
            raise RuntimeError(
                f"requires_grad_: only a leaf's flag can change; this tensor is the result of a recorded "
                f"{type(self.op).__name__}: use detach() for a copy outside the graph"
            )
        self.requires_grad = needle.autograd.leaf_requires_grad("requires_grad_", self.cached_data, requires_grad)
        return self

    def _update(self, name, ufunc, operator, other):
        """`self name other` with `ufunc` writing in place, or recorded with the out-of-place `operator`."""
        if self._records(name, other):
            return self._rebuilt(name, lambda old: operator(old, other))
        data = self.cached_data
        value = other.cached_data if isinstance(other, needle.autograd.Value) else needle.autograd.constant_data(name, other)
        weak = type(other) if type(other) in (int, float) else np.result_type(value)  # numbers are weak
        result_dtype = ufunc.resolve_dtypes((data.dtype, weak, None))[-1]
        if not np.can_cast(result_dtype, data.dtype, "same_kind"):
            raise RuntimeError(
                f"{name}: the result type {result_dtype} can't be cast to the tensor's dtype {data.dtype}; "
                f"convert the tensor first (t = t.to({str(result_dtype)!r}))"
            )
        self._fits(name, value)
        return self._written(name, lambda out: ufunc(out, value, out=out, casting="same_kind"))

    def _assign(self, name, src):
        """`src` broadcast and converted into this tensor: written in place, or recorded."""
        if self._records(name, src):
            return self._rebuilt(name, lambda old: needle.ops.broadcast_to(src, self.shape))
        value = src.cached_data if isinstance(src, needle.autograd.Value) else needle.autograd.constant_data(name, src)
        self._fits(name, value)
        return self._written(name, lambda out: np.copyto(out, value, casting="unsafe"))

    def _records(self, name, other):
        """Whether a write of `other` must be recorded; raises where the write is unsafe."""
        grad_enabled = modes.current.grad_enabled
        if self.op is not None:
            if grad_enabled:
                return True
            raise RuntimeError(
                f"{name}: this tensor is the result of a recorded {type(self.op).__name__}; a write under "
                "no_grad() would cut it from its graph: detach() it first, or write outside no_grad()"
            )
        if self.requires_grad and grad_enabled:
            raise RuntimeError(
                f"{name}: a leaf tensor that requires grad (shape {self.shape}) is used in an in-place "
                "operation; update it inside `with ndl.no_grad():` (an optimizer step), or use an "
                "out-of-place op (w = w - ...) for a new tensor"
            )
        return grad_enabled and isinstance(other, needle.autograd.Value) and other.requires_grad

    def _fits(self, name, value):
        shape = np.shape(value)
        try:
            fits = np.broadcast_shapes(shape, self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"{name}: a value of shape {shape} does not broadcast to the tensor's shape {self.shape}")

    def _written(self, name, write):
        """Run `write(array)` on this tensor's storage and bump its version."""
        data = self.cached_data
        if type(data) is not np.ndarray:  # a 0-d op result, kept as an immutable NumPy scalar
            data = self.cached_data = np.array(data)
        elif not data.flags.writeable:
            raise RuntimeError(f"{name}: the tensor's storage (shape {self.shape}) is read-only; write to a clone()")
        write(data)
        self.bump_version()
        return self

    def _rebuilt(self, name, build):
        """Make this tensor the node `build(old)`, where `old` is a node taking over its current
        op, inputs and data: the write is recorded and the tensor keeps its identity."""
        old = object.__new__(type(self))
        old._set(self.op, self.inputs, self.cached_data, self.requires_grad)
        if self.saved is not None:
            old.saved = self.saved
        result = build(old)
        if result.shape != self.shape:
            raise ValueError(f"{name}: the result's shape {result.shape} differs from the tensor's {self.shape}")
        if result.dtype != self.dtype:
            result = needle.ops.cast(result, self.dtype)
        self.cached_data, self.requires_grad = result.cached_data, result.requires_grad
        self.bump_version()
        self.op, self.inputs = result.op, result.inputs
        if isinstance(self, needle.autograd.SavedTensor):
            self.saved = result.saved
        return self

    # ---- methods -----------------------------------------------------------------------------
    # Each forwards its arguments to the op function of its name, which takes PyTorch's `dim=` and
    # NumPy's `axis=` beside `axes=` (and `keepdim=` beside `keepdims=`), positionally too.

    def sum(self, *args, **kwargs):
        return needle.ops.summation(self, *args, **kwargs)

    def mean(self, *args, **kwargs):
        return needle.ops.mean(self, *args, **kwargs)

    def max(self, *args, **kwargs):
        return needle.ops.max(self, *args, **kwargs)

    def min(self, *args, **kwargs):
        return needle.ops.min(self, *args, **kwargs)

    def argmax(self, *args, **kwargs):
        return needle.ops.argmax(self, *args, **kwargs)

    def argmin(self, *args, **kwargs):
        return needle.ops.argmin(self, *args, **kwargs)

    def var(self, *args, **kwargs):
        return needle.ops.var(self, *args, **kwargs)

    def std(self, *args, **kwargs):
        return needle.ops.std(self, *args, **kwargs)

    def norm(self, *args, **kwargs):
        return needle.ops.norm(self, *args, **kwargs)

    def prod(self, *args, **kwargs):
        return needle.ops.prod(self, *args, **kwargs)

    def cumsum(self, *args, **kwargs):
        return needle.ops.cumsum(self, *args, **kwargs)

    def all(self, *args, **kwargs):
        return needle.ops.all(self, *args, **kwargs)

    def any(self, *args, **kwargs):
        return needle.ops.any(self, *args, **kwargs)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return needle.ops.reshape(self, tuple(shape))

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        return needle.ops.flatten(self, start_dim, end_dim)

    def unsqueeze(self, *args, **kwargs):
        return needle.ops.unsqueeze(self, *args, **kwargs)

    def squeeze(self, *args, **kwargs):
        return needle.ops.squeeze(self, *args, **kwargs)

    def broadcast_to(self, shape):
        return needle.ops.broadcast_to(self, shape)

    def expand(self, *sizes):
        return needle.ops.expand(self, *sizes)

    def repeat(self, *sizes):
        return needle.ops.repeat(self, *sizes)

    def transpose(self, *dims, axes=None):
        """Two axes swapped: `transpose(0, 1)` as in PyTorch, `transpose((0, 1))` or `transpose()`
        (the last two) as in the course."""
        if len(dims) > 2 or (dims and axes is not None):
            raise TypeError(f"transpose: expected two axes, one pair or none, got {dims}" + (f" and axes={axes}" if axes is not None else ""))
        if len(dims) == 2:
            axes = dims
        elif dims:
            axes = dims[0]
        return needle.ops.transpose(self, axes)

    def permute(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = axes[0]
        return needle.ops.permute(self, tuple(axes))

    @property
    def T(self):
        """All axes reversed (for 2-D, the matrix transpose)."""
        return needle.ops.permute(self, tuple(range(self.ndim))[::-1])

    @property
    def mT(self):
        """The last two axes swapped (a batch of matrices transposed)."""
        return needle.ops.transpose(self)

    def size(self, dim=None):
        """The shape, or the size of axis `dim`."""
        if dim is None:
            return self.shape
        if not -self.ndim <= dim < self.ndim:
            raise IndexError(f"size: dim {dim} is out of range for a tensor of shape {self.shape}")
        return self.shape[dim]

    def numel(self):
        return int(self.cached_data.size)

    def dim(self):
        return self.ndim

    def matmul(self, other):
        return needle.ops.matmul(self, other)

    def gather(self, dim, index):
        return needle.ops.gather(self, dim, index)

    def masked_fill(self, mask, value):
        return needle.ops.masked_fill(self, mask, value)

    def clamp(self, min=None, max=None):  # noqa: A002  (PyTorch's names for the bounds)
        return needle.ops.clamp(self, min, max)

    clip = clamp

    def pow(self, exponent):
        return self ** exponent

    def neg(self):
        return needle.ops.negate(self)

    def exp(self):
        return needle.ops.exp(self)

    def log(self):
        return needle.ops.log(self)

    def sin(self):
        return needle.ops.sin(self)

    def cos(self):
        return needle.ops.cos(self)

    def relu(self):
        return needle.ops.relu(self)

    def tanh(self):
        return needle.ops.tanh(self)

    def sigmoid(self):
        return needle.ops.sigmoid(self)

    def sqrt(self):
        return needle.ops.sqrt(self)

    def abs(self):
        return needle.ops.abs(self)

    # PyTorch's Tensor methods for the NumPy-style ops (needle/ops/elementary.py, special.py, scan.py,
    # sorting.py, indexing.py, shape.py): each calls the op function of its name on this tensor.
    log1p, expm1, log2, log10, exp2 = (_op_method(name) for name in ("log1p", "expm1", "log2", "log10", "exp2"))
    square, reciprocal, rsqrt, sign = (_op_method(name) for name in ("square", "reciprocal", "rsqrt", "sign"))
    tan, sinh, cosh, sinc = (_op_method(name) for name in ("tan", "sinh", "cosh", "sinc"))
    asin, acos, atan, asinh, acosh, atanh = (
        _op_method(name) for name in ("asin", "acos", "atan", "asinh", "acosh", "atanh"))
    arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
    erf, erfc, erfinv, lgamma, digamma = (_op_method(name) for name in ("erf", "erfc", "erfinv", "lgamma", "digamma"))
    atan2, hypot, logaddexp, xlogy = (_op_method(name) for name in ("atan2", "hypot", "logaddexp", "xlogy"))
    arctan2 = atan2
    cumprod, logcumsumexp = _op_method("cumprod"), _op_method("logcumsumexp")
    sort, argsort, topk = _op_method("sort"), _op_method("argsort"), _op_method("topk")
    roll, tile, repeat_interleave = _op_method("roll"), _op_method("tile"), _op_method("repeat_interleave")
    movedim, swapaxes, tril, triu = (_op_method(name) for name in ("movedim", "swapaxes", "tril", "triu"))
    moveaxis, swapdims = movedim, swapaxes
    scatter, take, take_along_dim = _op_method("scatter"), _op_method("take"), _op_method("take_along_dim")

    def polygamma(self, n):
        return needle.ops.polygamma(n, self)

    # ---- copies and conversions --------------------------------------------------------------

    def clone(self):
        """A recorded copy: new storage, and the gradient flows back unchanged."""
        return needle.ops.cast(self, self.dtype)

    def tolist(self):
        return self.cached_data.tolist()

    def to(self, *args, dtype=None, device=None):
        """This tensor on `device` and in `dtype` (a recorded cast; itself when nothing changes).

        Positional arguments may be a dtype, a device (`ndl.cpu()` or `"cpu"`; the only enabled
        one, so a move is no move) or a Tensor, whose dtype is taken."""
        for arg in args:
            if is_device(arg):
                device = arg
            elif dtype is None:
                dtype = arg.dtype if isinstance(arg, needle.autograd.Tensor) else arg
            else:
                raise TypeError(f"to: the dtype is given twice, as {dtype!r} and {arg!r}")
        if device is not None:
            as_device("to", device)
        if dtype is None or np.dtype(dtype) == self.dtype:
            return self
        return needle.ops.cast(self, dtype)

    def cpu(self):
        """This tensor on the CPU: itself, as every tensor lives there."""
        return self

    def cuda(self):
        """Refused: needle has no GPU backend (`ndl.cuda().enabled()` is False)."""
        return self.to(needle.device.cuda())

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to("float32")

    def double(self):
        return self.to("float64")

    def long(self):
        return self.to("int64")
