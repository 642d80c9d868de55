"""Tensor factories and weight initialisers.

Every function returns a constant leaf Tensor, `requires_grad=False` unless asked otherwise, and,
as in PyTorch, float32 for floating data and int64 for integers unless `dtype` says otherwise.
needle: randomness comes only from NumPy's global legacy RNG (`manual_seed` seeds it), one call per
function with exactly the shape given, so seeding `np.random` reproduces the course's draws. The
random draws are made in float64 and scaled before the cast to `dtype`, as the course does.
"""
import math

import numpy as np

from . import modes
from .autograd import Tensor
from .device import as_device

__all__ = [
    "rand", "randn", "randint", "constant", "ones", "zeros", "randb", "one_hot", "zeros_like", "ones_like",
    "tensor", "arange", "linspace", "eye", "full", "manual_seed",
    "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
]

# Gains of PyTorch's `calculate_gain` for the nonlinearities whose gain is a plain number.
_GAINS = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0)}


def _shape(function, shape):
    """`shape` from `*shape`, also accepting one tuple or list (`zeros((2, 3))`)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for size in shape:
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 0:
            raise ValueError(f"{function}: sizes must be non-negative integers, got shape {shape}")
    return tuple(int(size) for size in shape)


def _leaf(function, array, device, dtype, requires_grad):
    if device is not None:
        as_device(function, device)
    array = np.asarray(array, dtype=None if dtype is None else np.dtype(dtype))
    if requires_grad and array.dtype.kind not in "fc":
        raise TypeError(f"{function}: only floating-point tensors can require grad, got dtype {array.dtype}")
    return Tensor.make_const(array, requires_grad=bool(requires_grad))


def _random_leaf(function, draw, device, dtype, requires_grad):
    """A leaf over `draw()`; under `ndl.compile` it is a random source, drawn again on each replay."""
    tracer = modes.current.tracer
    state = None if tracer is None else np.random.get_state()  # where the draw starts, for compile's checks
    leaf = _leaf(function, draw(), device, dtype, requires_grad)
    if tracer is not None:
        result_dtype = leaf.cached_data.dtype
        tracer.add_random(leaf, lambda: np.asarray(draw(), dtype=result_dtype), state)
    return leaf


def _default_dtype(array):
    """PyTorch's defaults for inferred data: float32 for floats, int64 for integers, else as is."""
    if array.dtype.kind == "f":
        return np.float32
    if array.dtype.kind in "iu":
        return np.int64
    return array.dtype


def manual_seed(seed):
    """Seed NumPy's global legacy RNG, which every random factory, initialiser and Dropout draws from."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: the seed must be an int, got {seed!r}")
    np.random.seed(int(seed) % 2**32)  # PyTorch takes any int; NumPy wants [0, 2^32)


def tensor(data, dtype=None, *, device=None, requires_grad=False):
    """A new leaf holding a copy of `data` (PyTorch's factory; needle's `Tensor` defaults differ).

    Lists and Python numbers give float32 or int64; arrays and Tensors keep their dtype.
    `requires_grad` defaults to False, where the course's `Tensor(...)` defaults to True.
    """
    if isinstance(data, Tensor):
        data = data.numpy()
    array = np.array(data)
    if dtype is None and not isinstance(data, (np.ndarray, np.generic)):
        dtype = _default_dtype(array)
    return _leaf("tensor", array, device, dtype, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """start, start + step, ... below `end` (one argument: 0 up to it); int64, or float32 if any
    argument is a float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError(f"arange: step must be nonzero, got start {start}, end {end}, step {step}")
    values = np.arange(start, end, step)
    return _leaf("arange", values, device, dtype or _default_dtype(values), requires_grad)


def linspace(start, end, steps, *, dtype="float32", device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end, both included."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    return _leaf("linspace", np.linspace(start, end, steps), device, dtype, requires_grad)


def eye(n, m=None, *, dtype="float32", device=None, requires_grad=False):
    """The n×m identity (m defaults to n): ones on the diagonal, zeros elsewhere."""
    rows, cols = _shape("eye", (n, n if m is None else m))
    return _leaf("eye", np.eye(rows, cols), device, dtype, requires_grad)


def full(shape, fill_value, *, dtype=None, device=None, requires_grad=False):
    """Every entry `fill_value`; the dtype follows it (bool, int64 or float32) unless given."""
    shape = _shape("full", (shape,))
    value = np.asarray(fill_value)
    if value.ndim:
        raise ValueError(f"full: fill_value must be a scalar, got shape {value.shape}")
    dtype = dtype or _default_dtype(value)
    return _leaf("full", np.full(shape, fill_value, dtype=np.dtype(dtype)), device, dtype, requires_grad)


def randint(low, high=None, size=(), *, dtype="int64", device=None, requires_grad=False):
    """Integers uniform on [low, high) of shape `size`, one `np.random.randint` draw.

    `randint(high, size)` (PyTorch) and `randint(high)` (NumPy) take low = 0.
    """
    if high is None or (isinstance(high, (tuple, list)) and size == ()):
        low, high, size = 0, low, (() if high is None else high)
    if not high > low:
        raise ValueError(f"randint: the range [{low}, {high}) is empty")
    shape = _shape("randint", (size,))
    as_device("randint", device)
    return _random_leaf(
        "randint", lambda: np.random.randint(low, high, size=shape, dtype=np.int64), device, dtype, requires_grad
    )


def rand(*shape, low=0.0, high=1.0, device=None, dtype="float32", requires_grad=False):
    """Uniform on [low, high): low + (high − low)·U with U one `np.random.rand(*shape)` draw."""
    shape = _shape("rand", shape)
    as_device("rand", device)  # before the draw, so a refused call leaves the RNG as it was
    return _random_leaf(
        "rand", lambda: np.asarray(np.random.rand(*shape)) * (high - low) + low, device, dtype, requires_grad
    )


def randn(*shape, mean=0.0, std=1.0, device=None, dtype="float32", requires_grad=False):
    """Normal: mean + std·Z with Z one `np.random.randn(*shape)` draw."""
    shape = _shape("randn", shape)
    as_device("randn", device)
    return _random_leaf(
        "randn", lambda: np.asarray(np.random.randn(*shape)) * std + mean, device, dtype, requires_grad
    )


def _filled(function, shape, c, device, dtype, requires_grad):
    shape = _shape(function, shape)
    return _leaf(function, np.full(shape, c, dtype=np.dtype(dtype)), device, dtype, requires_grad)


def constant(*shape, c=1.0, device=None, dtype="float32", requires_grad=False):
    """Every entry equal to `c`. No RNG."""
    return _filled("constant", shape, c, device, dtype, requires_grad)


def ones(*shape, device=None, dtype="float32", requires_grad=False):
    """All ones. No RNG."""
    return _filled("ones", shape, 1, device, dtype, requires_grad)


def zeros(*shape, device=None, dtype="float32", requires_grad=False):
    """All zeros. No RNG."""
    return _filled("zeros", shape, 0, device, dtype, requires_grad)


def randb(*shape, p=0.5, device=None, dtype="bool", requires_grad=False):
    """Bernoulli(p): True (1) where one `np.random.rand(*shape)` draw is ≤ p."""
    shape = _shape("randb", shape)
    as_device("randb", device)
    return _random_leaf("randb", lambda: np.asarray(np.random.rand(*shape)) <= p, device, dtype, requires_grad)


def one_hot(n, i, device=None, dtype="float32", requires_grad=False):
    """Rows of the n×n identity picked by the integer labels `i` (a Tensor or array): shape i.shape + (n,)."""
    labels = np.asarray(i.numpy() if isinstance(i, Tensor) else i)
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind != "f" or not np.array_equal(labels, np.round(labels)):
            raise ValueError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
        labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= n):
        raise ValueError(
            f"one_hot: labels must lie in [0, {n}), got values from {labels.min()} to {labels.max()}"
        )
    return _leaf("one_hot", np.eye(n, dtype=np.dtype(dtype))[labels], device, dtype, requires_grad)


def zeros_like(array, *, dtype=None, device=None, requires_grad=False):
    """Zeros with the shape and dtype (unless `dtype` is given) of the Tensor or array `array`."""
    return zeros(*array.shape, dtype=dtype or array.dtype, device=device, requires_grad=requires_grad)


def ones_like(array, *, dtype=None, device=None, requires_grad=False):
    """Ones with the shape and dtype (unless `dtype` is given) of the Tensor or array `array`."""
    return ones(*array.shape, dtype=dtype or array.dtype, device=device, requires_grad=requires_grad)


def _fan_shape(function, fan_in, fan_out, shape):
    """The shape to draw: `shape` when given (a tuple or list of sizes), else (fan_in, fan_out)."""
    for name, fan in (("fan_in", fan_in), ("fan_out", fan_out)):
        if isinstance(fan, bool) or not isinstance(fan, (int, np.integer)) or fan < 1:
            raise ValueError(f"{function}: {name} must be a positive integer, got {fan!r}")
    if shape is None:
        return (int(fan_in), int(fan_out))
    if not isinstance(shape, (tuple, list)):
        raise TypeError(
            f"{function}: shape must be a tuple of sizes, got {shape!r} "
            "(pass nonlinearity= by keyword)"
        )
    return _shape(function, (shape,))


def xavier_uniform(fan_in, fan_out, gain=1.0, *, shape=None, **kwargs):
    """Uniform on ±a with a = gain·√(6 / (fan_in + fan_out)) (Glorot & Bengio); (fan_in, fan_out)
    unless `shape` is given."""
    shape = _fan_shape("xavier_uniform", fan_in, fan_out, shape)
    as_device("xavier_uniform", kwargs.get("device"))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rand(*shape, low=-bound, high=bound, **kwargs)


def xavier_normal(fan_in, fan_out, gain=1.0, *, shape=None, **kwargs):
    """Normal with mean 0 and std gain·√(2 / (fan_in + fan_out)); (fan_in, fan_out) unless `shape`
    is given."""
    shape = _fan_shape("xavier_normal", fan_in, fan_out, shape)
    as_device("xavier_normal", kwargs.get("device"))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return randn(*shape, mean=0.0, std=std, **kwargs)


def _gain(function, nonlinearity):
    if nonlinearity not in _GAINS:
        raise ValueError(
            f"{function}: unknown nonlinearity {nonlinearity!r}; expected one of {sorted(_GAINS)}"
        )
    return _GAINS[nonlinearity]


def kaiming_uniform(fan_in, fan_out, shape=None, nonlinearity="relu", **kwargs):
    """Uniform on ±gain·√(3 / fan_in), gain √2 for relu (He et al.); (fan_in, fan_out) unless
    `shape` is given (a conv kernel passes (K, K, C_in, C_out) with fan_in = C_in·K²)."""
    shape = _fan_shape("kaiming_uniform", fan_in, fan_out, shape)
    as_device("kaiming_uniform", kwargs.get("device"))
    bound = _gain("kaiming_uniform", nonlinearity) * math.sqrt(3.0 / fan_in)
    return rand(*shape, low=-bound, high=bound, **kwargs)


def kaiming_normal(fan_in, fan_out, nonlinearity="relu", *, shape=None, **kwargs):
    """Normal with mean 0 and std gain / √fan_in, gain √2 for relu; (fan_in, fan_out) unless
    `shape` is given."""
    shape = _fan_shape("kaiming_normal", fan_in, fan_out, shape)
    as_device("kaiming_normal", kwargs.get("device"))
    std = _gain("kaiming_normal", nonlinearity) / math.sqrt(fan_in)
    return randn(*shape, mean=0.0, std=std, **kwargs)
