"""Pooling over the spatial axes of NCHW input: max_pool2d and avg_pool2d (PyTorch's signatures and sizes).

Max pooling is one op that saves where each window's maximum lies; its adjoint puts ȳ there (a scatter,
or a product with a constant mask when the windows tile the input) and its jvp gathers from there.
Average pooling is linear and has no op of its own: a mean over tiles, or a conv of each channel with a
constant 1/(KH·KW) kernel.
"""
import operator

import numpy as np

from ..autograd import SavingOp, Tensor, as_tensor
from .conv import Conv
from .indexing import getitem, pad, scatter_add
from .reduction import mean
from .shape import permute, reshape

__all__ = ["MaxPool", "max_pool2d", "avg_pool2d"]


def _pair(op_name, what, value, minimum):
    """An int or a pair of ints (each at least `minimum`) as a pair."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    try:
        values = tuple(operator.index(v) for v in values)
    except TypeError:
        raise TypeError(f"{op_name}: {what} must be an int or a pair of ints, got {value!r}") from None
    if len(values) != 2 or min(values) < minimum or any(isinstance(v, bool) for v in values):
        raise ValueError(f"{op_name}: {what} must be an int or a pair of ints >= {minimum}, got {value!r}")
    return values


def window_arguments(op_name, kernel_size, stride, padding):
    """((KH, KW), (SH, SW), (PH, PW)) with PyTorch's rules: stride None is the kernel size, and
    padding at most half the kernel (so every window holds an entry of the input)."""
    kernel = _pair(op_name, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else _pair(op_name, "stride", stride, 1)
    padding = _pair(op_name, "padding", padding, 0)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(f"{op_name}: padding {padding} must be at most half the kernel size {kernel}")
    return kernel, stride, padding


def _output_size(op_name, shape, kernel, stride, padding):
    if len(shape) != 4:
        raise ValueError(f"{op_name}: expected NCHW input (4-d) or CHW (3-d), got shape {tuple(shape)}")
    sizes = tuple((size + 2 * p - k) // s + 1 for size, k, s, p in zip(shape[2:], kernel, stride, padding))
    if min(sizes) < 1:
        raise ValueError(
            f"{op_name}: input {tuple(shape)} is smaller than the kernel {kernel} with padding {padding}"
        )
    return sizes


def _batched(op_name, a):
    """`a` as a Tensor with a batch axis: CHW input gets one (removed again by `_unbatched`)."""
    a = as_tensor(op_name, a)
    if a.ndim == 3:
        return reshape(a, (1,) + tuple(a.shape)), True
    return a, False


def _unbatched(out, added):
    return reshape(out, tuple(out.shape[1:])) if added else out


class MaxPool(SavingOp):
    """y[n, c, i, j] = max of x[n, c, i·SH + u − PH, j·SW + v − PW] over the window 0 ≤ u < KH, 0 ≤ v < KW,
    padding counting as −∞: (N, C, H, W) → (N, C, (H + 2PH − KH)//SH + 1, (W + 2PW − KW)//SW + 1).

    Ties: the adjoint goes to the first maximum in the window (row-major order), as in PyTorch; a NaN
    is the maximum of its window, as there. The node saves, per output, the window position u·KW + v of its
    maximum. A window whose real entries are all −∞ points at the real entry nearest its first one.
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        self.kernel, self.stride, self.padding = window_arguments("max_pool2d", kernel_size, stride, padding)

    def _tiles(self):
        """Whether the windows tile the input: stride equal to the kernel, no padding."""
        return self.stride == self.kernel and self.padding == (0, 0)

    def compute_saving(self, a):
        out_h, out_w = _output_size("max_pool2d", a.shape, self.kernel, self.stride, self.padding)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        if a.dtype.kind not in "fiu":
            raise TypeError(f"max_pool2d: expected a float or integer input, got dtype {a.dtype}")
        padded = a
        if ph or pw:
            lowest = -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min
            padded = _empty_in_layout_of(a, a.shape[:2] + (a.shape[2] + 2 * ph, a.shape[3] + 2 * pw), a.dtype)
            padded.fill(lowest)
            padded[:, :, ph:ph + a.shape[2], pw:pw + a.shape[3]] = a

        def window_entry(t):  # the entry at window position t of every window: a strided view
            u, v = divmod(t, kw)
            return padded[:, :, u:u + sh * (out_h - 1) + 1:sh, v:v + sw * (out_w - 1) + 1:sw]

        # One pass per window position (KH·KW of them) over the output, which keeps the input's memory
        # layout (a conv's NHWC memory seen as NCHW stays so, and so do the adjoints built from it).
        out = np.array(window_entry(0), order="K")
        index_type = np.dtype(np.uint8 if kh * kw <= 256 else np.intp)
        position, candidate = np.zeros_like(out, dtype=index_type), np.empty_like(out, dtype=index_type)
        larger = np.empty_like(out, dtype=bool)
        for t in range(1, kh * kw):
            entry = window_entry(t)
            np.greater(entry, out, out=larger)  # strictly: a tie keeps the first maximum (PyTorch's rule)
            # position = the last t at which the running maximum grew: max over t of t·[grew at t]
            # (integer products, many times faster than a masked copy).
            np.multiply(larger.view(np.uint8), index_type.type(t), out=candidate)
            np.maximum(position, candidate, out=position)
            np.maximum(out, entry, out=out)  # NaN propagates, as in PyTorch
        if a.dtype.kind == "f" and np.isnan(out).any():
            # A NaN maximum: the first NaN of the window (comparisons with NaN are false above).
            position[...] = 0
            for t in range(kh * kw - 1, -1, -1):
                np.copyto(position, t, where=_equal_or_both_nan(window_entry(t), out))
        return out, position

    def _flat_index(self, position, shape):
        """Each output's maximum as a flat index into the input of `shape`."""
        (_, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        n, c, h, w = shape
        out_h, out_w = position.shape[2:]
        position = position.astype(np.intp)
        rows = np.clip(np.arange(out_h)[:, None] * sh + position // kw - ph, 0, h - 1)
        cols = np.clip(np.arange(out_w) * sw + position % kw - pw, 0, w - 1)
        return np.arange(n * c).reshape(n, c, 1, 1) * (h * w) + rows * w + cols

    def gradient(self, out_grad, node):
        shape = node.inputs[0].shape
        if self._tiles():
            return _spread_to_maxima(out_grad, node.saved, self.kernel, shape, node.inputs[0].cached_data)
        flat = self._flat_index(node.saved, shape)
        return reshape(scatter_add(out_grad, (flat,), (int(np.prod(shape)),)), shape)

    def jvp(self, tangents, node):
        (t,) = tangents
        return getitem(reshape(t, (-1,)), (self._flat_index(node.saved, t.shape),))


def _equal_or_both_nan(value, maximum):
    return (value == maximum) | (np.isnan(value) & np.isnan(maximum))


def _spread_to_maxima(out_grad, position, kernel, shape, like):
    """The adjoint of tiling windows: each ȳ entry times a constant 0/1 mask of its tile's first maximum
    (one broadcasting product), with zeros for the rows and columns past the last tile. Every step is a
    needle op linear in ȳ (reshape, product with a constant, pad). The mask takes the memory layout of
    the input `like`, so the adjoint does too (an elementwise product of two layouts is slow in NumPy)."""
    (kh, kw), (n, c, h, w) = kernel, shape
    out_h, out_w = position.shape[2:]
    mask = _empty_in_layout_of(like, (n, c, out_h, kh, out_w, kw), out_grad.dtype)
    for t in range(kh * kw):
        np.equal(position, t, out=mask[:, :, :, t // kw, :, t % kw])
    if _channels_last(like) and not _channels_last(out_grad.cached_data):
        # ȳ in the input's layout first (one copy of the small ȳ; a product of two layouts is ~10x slower):
        # a permute to NHWC and a reshape that merges axes copies it into NHWC memory, then back to NCHW.
        rows = reshape(permute(out_grad, (0, 2, 3, 1)), (n * out_h * out_w, c))
        out_grad = permute(reshape(rows, (n, out_h, out_w, c)), (0, 3, 1, 2))
    spread = reshape(Tensor.make_const(mask) * reshape(out_grad, (n, c, out_h, 1, out_w, 1)),
                     (n, c, out_h * kh, out_w * kw))
    if spread.shape != tuple(shape):
        spread = pad(spread, ((0, 0), (0, 0), (0, h - out_h * kh), (0, w - out_w * kw)))
    return spread


def _channels_last(a):
    """Whether NCHW-indexed `a` lies in memory as NHWC (a conv's output, seen as NCHW)."""
    n, c, h, w = a.shape
    return c > 1 and a.strides[1] == a.itemsize and a.strides[3] == c * a.itemsize


def _empty_in_layout_of(like, shape, dtype):
    """An uninitialised NCHW-indexed array of `shape` ((N, C, H, W) or (N, C, H', KH, W', KW)) whose memory
    is channels-last when `like` (N, C, H, W) is, else C-ordered."""
    if not _channels_last(like):
        return np.empty(shape, dtype=dtype)
    order = (0,) + tuple(range(2, len(shape))) + (1,)  # N, the spatial axes, C
    memory = np.empty(tuple(shape[i] for i in order), dtype=dtype)
    return memory.transpose(np.argsort(order))


def max_pool2d(a, kernel_size, stride=None, padding=0):
    """Maximum over each KH×KW window of NCHW (or CHW) `a`, PyTorch's `max_pool2d` (stride defaults to
    the kernel size, padding counts as −∞). Ties send the adjoint to the first maximum in the window."""
    a, added = _batched("max_pool2d", a)
    return _unbatched(MaxPool(kernel_size, stride, padding)(a), added)


def avg_pool2d(a, kernel_size, stride=None, padding=0):
    """Mean over each KH×KW window of NCHW (or CHW) `a`, PyTorch's `avg_pool2d` with its default
    count_include_pad=True: padded zeros count, so every window divides by KH·KW.

    Windows that tile the input (stride equal to the kernel, no padding) take a mean over the tiles' axes;
    otherwise a conv of each channel (moved into the batch) with a constant kernel of 1/(KH·KW), one stride
    for both axes.
    """
    (kh, kw), (sh, sw), (ph, pw) = window_arguments("avg_pool2d", kernel_size, stride, padding)
    a, added = _batched("avg_pool2d", a)
    if a.dtype.kind != "f":
        raise TypeError(f"avg_pool2d: expected a floating-point input, got dtype {a.dtype}")
    n, c = a.shape[:2]
    out_h, out_w = _output_size("avg_pool2d", a.shape, (kh, kw), (sh, sw), (ph, pw))
    if (sh, sw) == (kh, kw) and (ph, pw) == (0, 0):
        # Tiling windows: a mean over the tiles' axes (rows and columns past the last tile cropped first).
        if (out_h * kh, out_w * kw) != tuple(a.shape[2:]):
            a = getitem(a, (slice(None), slice(None), slice(0, out_h * kh), slice(0, out_w * kw)))
        tiles = reshape(a, (n, c, out_h, kh, out_w, kw))
        return _unbatched(mean(tiles, (3, 5)), added)
    if sh != sw:
        raise NotImplementedError(
            f"avg_pool2d: strides ({sh}, {sw}) differ; only one stride for both axes is supported "
            "(or a stride equal to the kernel)"
        )
    kernel = Tensor.make_const(np.full((kh, kw, 1, 1), 1.0 / (kh * kw), dtype=a.dtype))
    planes = reshape(a, (n * c,) + tuple(a.shape[2:]) + (1,))
    out = Conv(sh, ((ph, ph), (pw, pw)))(planes, kernel)
    return _unbatched(reshape(out, (n, c, out_h, out_w)), added)
