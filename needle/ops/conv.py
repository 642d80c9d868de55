"""Convolution: dilate, undilate and conv (2-D, NHWC input, (K, K, C_in, C_out) kernel), and the
per-channel batch normalisation that follows a conv in a CNN (channel_norm and its input adjoint).

`conv` is a cross-correlation computed as im2col over a strided view and one BLAS product. Its input
adjoint is the transposed conv (`ConvTranspose`, col2im) and its kernel adjoint the forward's im2col times
the adjoint (`ConvKernelAdjoint`); the three are each other's rules, so gradients of gradients and jvps
work; hw_notes/ops_conv.md derives them.
"""
import math
import operator

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import LinearOp, MultilinearOp, SavingOp, Tensor, TensorOp, ZeroTangent, as_tensor
from .broadcast import Summation, broadcast_to, normalize_axes, summation
from .elementwise import EWiseMul
from .fused import InverseStd, Standardize
from .indexing import scatter_add
from .reduction import mean
from .shape import reshape

__all__ = [
    "Dilate", "dilate", "Undilate", "undilate", "Conv", "conv", "ConvTranspose", "ConvKernelAdjoint", "ChannelBias", "channel_bias", "ChannelNorm", "channel_norm",
    "ChannelNormInputAdjoint", "channel_norm_input_adjoint",
]


def _count(op_name, what, value, minimum):
    """`value` as an int of at least `minimum`, or a clear error naming the op."""
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{op_name}: {what} must be an integer, got {value!r}") from None
    if isinstance(value, bool) or number < minimum:
        raise ValueError(f"{op_name}: {what} must be an integer >= {minimum}, got {value!r}")
    return number


def _every_other(axes, step, ndim):
    """The index that keeps every `step`-th entry along `axes` (all entries along the rest)."""
    return tuple(slice(None, None, step) if i in axes else slice(None) for i in range(ndim))


class Dilate(LinearOp):
    """`dilation` zeros inserted after every entry along each of `axes`: size L becomes L·(dilation + 1).

    A (2, 5) array dilated by 1 along axis 0 is (4, 5) with zero rows 1 and 3. The adjoint is `undilate`.
    """

    def __init__(self, axes, dilation):
        self.axes = axes
        self.dilation = _count("dilate", "dilation", dilation, 0)

    def compute(self, a):
        axes = normalize_axes("dilate", self.axes, a.shape)
        step = self.dilation + 1
        shape = tuple(size * step if i in axes else size for i, size in enumerate(a.shape))
        out = np.zeros(shape, dtype=a.dtype)
        out[_every_other(axes, step, a.ndim)] = a
        return out

    def gradient(self, out_grad, node):
        return undilate(out_grad, self.axes, self.dilation)


def dilate(a, axes, dilation):
    """`a` with `dilation` zeros after every entry along each axis in `axes` (0: unchanged)."""
    return Dilate(axes, dilation)(a)


class Undilate(LinearOp):
    """Every (dilation + 1)-th entry along each of `axes`, from the first: size L becomes ⌈L / (dilation + 1)⌉.

    The adjoint puts the entries back with zeros between them: `dilate` where its size comes out
    right, else a scatter into zeros of the input's shape (a length that is not a multiple of the step).
    """

    def __init__(self, axes, dilation):
        self.axes = axes
        self.dilation = _count("undilate", "dilation", dilation, 0)

    def compute(self, a):
        axes = normalize_axes("undilate", self.axes, a.shape)
        return a[_every_other(axes, self.dilation + 1, a.ndim)]

    def gradient(self, out_grad, node):
        shape = node.inputs[0].shape
        axes = normalize_axes("undilate", self.axes, shape)
        step = self.dilation + 1
        if all(shape[axis] % step == 0 for axis in axes):
            return dilate(out_grad, self.axes, self.dilation)
        return scatter_add(out_grad, _every_other(axes, step, len(shape)), shape)


def undilate(a, axes, dilation):
    """Every (dilation + 1)-th entry of `a` along each axis in `axes`: the adjoint of `dilate`."""
    return Undilate(axes, dilation)(a)


def _padding_pairs(padding):
    """`padding` as ((top, bottom), (left, right)): an int p is p on every side."""
    if isinstance(padding, (tuple, list)):
        pairs = tuple(tuple(int(operator.index(w)) for w in pair) for pair in padding)
        if len(pairs) != 2 or any(len(pair) != 2 for pair in pairs):
            raise ValueError(f"conv: padding must be an int or ((top, bottom), (left, right)), got {padding!r}")
        return pairs
    p = _count("conv", "padding", padding, 0)
    return (p, p), (p, p)


def _padded(a, padding):
    """NHWC `a` with zero rows and columns added per `padding` ((top, bottom), (left, right)), a negative
    width cropping instead, as a C-contiguous array (a new one unless `a` already is one and nothing
    changes), so that the window view reads memory in order (a permuted input is copied here once)."""
    (top, bottom), (left, right) = padding
    if top == bottom == left == right == 0 and a.flags.c_contiguous:
        return a
    n, h, w, c = a.shape
    out = np.zeros((n, h + top + bottom, w + left + right, c), dtype=a.dtype)
    rows = slice(max(0, -top), h - max(0, -bottom))
    cols = slice(max(0, -left), w - max(0, -right))
    if rows.start < rows.stop and cols.start < cols.stop:
        out[:, max(0, top):out.shape[1] - max(0, bottom), max(0, left):out.shape[2] - max(0, right)] = a[:, rows, cols]
    return out


class Conv(MultilinearOp):
    """2-D cross-correlation: y[n, i, j, o] = Σ_{u, v, c} x[n, i·s + u·d, j·s + v·d, c] · b[u, v, c, o], with x
    the input `a` (N, H, W, C_in) zero-padded, b (KH, KW, C_in, C_out), s the stride, d the kernel dilation.

    Output (N, (H + 2p − d(KH − 1) − 1)//s + 1, (W + …)//s + 1, C_out). needle: the class's padding
    defaults to 0 (the function's to 1); `padding` may also be ((top, bottom), (left, right)) with
    negative widths cropping, which the adjoints use. Bilinear: the jvp is conv(ȧ, b) + conv(a, ḃ).
    """

    def __init__(self, stride=1, padding=0, dilation=1):
        self.stride = _count("conv", "stride", stride, 1)
        self.padding = _padding_pairs(padding)
        self.dilation = _count("conv", "dilation", dilation, 1)

    def _output_size(self, a_shape, b_shape):
        """(out_h, out_w), or a ValueError naming the shapes when the op is undefined for them."""
        problem = None
        if len(a_shape) != 4 or len(b_shape) != 4:
            problem = "expects an NHWC input (4-d) and a (K, K, C_in, C_out) kernel (4-d)"
        elif a_shape[3] != b_shape[2]:
            problem = f"the input has {a_shape[3]} channels, the kernel takes {b_shape[2]}"
        else:
            spans = [self.dilation * (k - 1) + 1 for k in b_shape[:2]]
            sizes = [(size + lo + hi - span) // self.stride + 1
                     for size, span, (lo, hi) in zip(a_shape[1:3], spans, self.padding)]
            if min(b_shape[:2]) < 1 or min(sizes) < 1:
                problem = f"padding {self.padding} leaves the input smaller than the kernel's span"
        if problem:
            raise ValueError(
                f"conv: input {tuple(a_shape)}, kernel {tuple(b_shape)}, stride {self.stride}, "
                f"dilation {self.dilation}: {problem}"
            )
        return tuple(sizes)

    def _columns(self, a, kernel_size, out_size):
        """im2col: every window of the padded `a` as a row, (N·H'·W', KH·KW·C_in), the one copy (the padded
        buffer is released before this returns)."""
        (kh, kw), (out_h, out_w), c_in = kernel_size, out_size, a.shape[3]
        s, d = self.stride, self.dilation
        padded = _padded(a, self.padding)
        n, stride_h, stride_w, stride_c = padded.strides
        windows = as_strided(
            padded, (padded.shape[0], out_h, out_w, kh, kw, c_in),
            (n, stride_h * s, stride_w * s, stride_h * d, stride_w * d, stride_c), writeable=False,
        )
        return windows.reshape(-1, kh * kw * c_in)

    def compute(self, a, b):
        out_h, out_w = self._output_size(a.shape, b.shape)
        kh, kw, c_in, c_out = b.shape
        # im2col, then one BLAS product.
        out = self._columns(a, (kh, kw), (out_h, out_w)) @ b.reshape(kh * kw * c_in, c_out)
        return out.reshape(a.shape[0], out_h, out_w, c_out)

    def gradient(self, out_grad, node):
        a, b = node.inputs
        s, d = self.stride, self.dilation
        kh, kw = b.shape[:2]
        h, w = a.shape[1:3]
        grad_a = grad_b = None
        if a.requires_grad:
            # The transposed conv: each ȳ entry's products with the kernel added into its window. (A conv
            # of the dilated ȳ with the flipped kernel is the same sum, at s² the work and an im2col copy.)
            grad_a = ConvTranspose(s, self.padding, d, (h, w))(out_grad, b)
        if b.requires_grad:
            grad_b = ConvKernelAdjoint(s, self.padding, d, (kh, kw))(a, out_grad)
        return grad_a, grad_b


class ConvKernelAdjoint(MultilinearOp):
    """b̄[u, v, c, o] = Σ_{n, i, j} x[n, i·s + u·d, j·s + v·d, c]·g[n, i, j, o]: the kernel adjoint of
    `Conv(stride, padding, dilation)` for input a (N, H, W, C_in) (x: a padded) and output adjoint g
    (N, H', W', C_out) → (KH, KW, C_in, C_out) for the given `kernel_size`.

    The forward's im2col of a, transposed, times g as (N·H'·W', C_out): one BLAS product, no copy of g.
    Bilinear; ā = conv_transpose(g, b̄') and ḡ = conv(a, b̄') for the output adjoint b̄'.
    """

    def __init__(self, stride, padding, dilation, kernel_size):
        self.stride = _count("conv_kernel_adjoint", "stride", stride, 1)
        self.padding = _padding_pairs(padding)
        self.dilation = _count("conv_kernel_adjoint", "dilation", dilation, 1)
        self.kernel_size = tuple(_count("conv_kernel_adjoint", "kernel_size", v, 1) for v in kernel_size)

    def _forward(self):
        return Conv(self.stride, self.padding, self.dilation)

    def compute(self, a, g):
        if a.ndim != 4 or g.ndim != 4 or a.shape[0] != g.shape[0]:
            raise ValueError(
                f"conv_kernel_adjoint: input {a.shape} and adjoint {g.shape}: expected (N, H, W, C_in) and "
                "(N, H', W', C_out) with the same N"
            )
        kh, kw = self.kernel_size
        conv = self._forward()
        expected = conv._output_size(a.shape, (kh, kw, a.shape[3], g.shape[3]))
        if tuple(g.shape[1:3]) != expected:
            raise ValueError(
                f"conv_kernel_adjoint: adjoint {g.shape} does not fit input {a.shape}: conv with kernel "
                f"{self.kernel_size}, stride {self.stride}, padding {self.padding} makes {expected}"
            )
        columns = conv._columns(a, (kh, kw), expected)
        return (columns.T @ g.reshape(-1, g.shape[3])).reshape(kh, kw, a.shape[3], g.shape[3])

    def gradient(self, out_grad, node):
        a, g = node.inputs
        grad_a = grad_g = None
        if a.requires_grad:
            grad_a = ConvTranspose(self.stride, self.padding, self.dilation, a.shape[1:3])(g, out_grad)
        if g.requires_grad:
            grad_g = self._forward()(a, out_grad)
        return grad_a, grad_g


class ConvTranspose(MultilinearOp):
    """The transposed convolution: a[n, i·s + u·d − top, j·s + v·d − left, c] += Σ_o g[n, i, j, o]·b[u, v, c, o],
    g (N, H', W', C_out), b (KH, KW, C_in, C_out) → (N, H, W, C_in) for the given `size` (H, W).

    The adjoint of `Conv(stride, padding, dilation)` with respect to its input: conv's ā = conv_transpose(ȳ, b).
    Per window position (u, v): one BLAS product (N·H'·W', C_out) @ (C_out, C_in) added at its strided place
    (col2im), with no zeros between the strided entries. Bilinear; ḡ = conv(ā', b) and b̄ = conv's kernel adjoint of (ā', g).
    """

    def __init__(self, stride, padding, dilation, size):
        self.stride = _count("conv_transpose", "stride", stride, 1)
        self.padding = _padding_pairs(padding)
        self.dilation = _count("conv_transpose", "dilation", dilation, 1)
        self.size = tuple(_count("conv_transpose", "size", v, 1) for v in size)

    def _forward(self):
        return Conv(self.stride, self.padding, self.dilation)

    def compute(self, g, b):
        n, h, w = g.shape[0], *self.size
        if g.ndim != 4 or b.ndim != 4 or g.shape[3] != b.shape[3]:
            raise ValueError(
                f"conv_transpose: adjoint {g.shape} and kernel {b.shape}: expected (N, H', W', C_out) and "
                "(K, K, C_in, C_out) with the same C_out"
            )
        expected = self._forward()._output_size((n, h, w, b.shape[2]), b.shape)
        if tuple(g.shape[1:3]) != expected:
            raise ValueError(
                f"conv_transpose: adjoint {g.shape} does not fit size {self.size}: conv with stride "
                f"{self.stride}, padding {self.padding} makes {expected}"
            )
        kh, kw, c_in, c_out = b.shape
        s, d = self.stride, self.dilation
        (top, bottom), (left, right) = self.padding
        out_h, out_w = expected
        rows = g.reshape(-1, c_out)
        buffer = np.zeros((n, h + top + bottom, w + left + right, c_in), dtype=np.result_type(g, b))
        for u in range(kh):  # col2im, one window position at a time: its products added at its strided place
            for v in range(kw):
                products = (rows @ b[u, v].T).reshape(n, out_h, out_w, c_in)
                buffer[:, u * d:u * d + s * (out_h - 1) + 1:s, v * d:v * d + s * (out_w - 1) + 1:s] += products
        if top >= 0 and left >= 0 and bottom >= 0 and right >= 0:
            return buffer[:, top:top + h, left:left + w]
        out = np.zeros((n, h, w, c_in), dtype=buffer.dtype)  # cropped rows or columns get no adjoint
        rows, cols = slice(max(0, top), min(h + top, buffer.shape[1])), slice(max(0, left), min(w + left, buffer.shape[2]))
        out[:, rows.start - top:rows.stop - top, cols.start - left:cols.stop - left] = buffer[:, rows, cols]
        return out

    def gradient(self, out_grad, node):
        g, b = node.inputs
        grad_g = self._forward()(out_grad, b) if g.requires_grad else None
        grad_b = None
        if b.requires_grad:
            grad_b = ConvKernelAdjoint(self.stride, self.padding, self.dilation, b.shape[:2])(out_grad, g)
        return grad_g, grad_b


def conv(a, b, stride=1, padding=1, dilation=1):
    """2-D cross-correlation of NHWC `a` (N, H, W, C_in) with `b` (K, K, C_in, C_out), `padding` zeros on
    every side of H and W: (N, (H + 2p − K)//stride + 1, (W + 2p − K)//stride + 1, C_out).

    needle: the default padding is 1, as in the course (the class `Conv` defaults to 0). PyTorch's
    `conv2d(x_nchw, b.permute(3, 2, 0, 1), stride=, padding=)` computes the same in NCHW.
    """
    a, b = as_tensor("conv", a, b), as_tensor("conv", b, a)
    return Conv(stride, _count("conv", "padding", padding, 0), dilation)(a, b)


# ---- batch normalisation per channel ---------------------------------------------------------


class _Channels:
    """Per-channel sums and broadcasts over arrays laid out like `a` (channels along `axis`), without
    moving memory. Channels-last memory (a conv's NHWC output seen as NCHW) is read as rows (R, C)
    folded to (R/k, k·C), so each NumPy inner loop runs over k·C entries, not C (a sum over rows of
    (100352, 16) float32: 1.7 ms unfolded, 0.15 ms folded, and closer to the float64 sum); any other
    memory is read as (outer, C, inner), C-ordered (copied once if it is not)."""

    def __init__(self, a, axis):
        self.shape, self.axis = a.shape, axis
        channels = a.shape[axis]
        self.rows = channels > 1 and np.moveaxis(a, axis, -1).flags.c_contiguous
        if self.rows:
            count = a.size // channels
            fold = max(1, min(count, 2048 // channels))
            while count % fold:
                fold -= 1
            self.fold, self.view_shape = fold, (count // fold, fold * channels)
        else:
            self.view_shape = (math.prod(a.shape[:axis]), channels, math.prod(a.shape[axis + 1:]))

    def view(self, a):
        """`a` (this layout's shape) as the 2-d or 3-d working view; a copy if its memory differs."""
        if self.rows:
            return np.moveaxis(a, self.axis, -1).reshape(self.view_shape)
        return a.reshape(self.view_shape)

    def unview(self, v):
        """A working-view array back in the original shape (a view)."""
        if self.rows:
            moved = self.shape[:self.axis] + self.shape[self.axis + 1:] + (self.shape[self.axis],)
            return np.moveaxis(v.reshape(moved), -1, self.axis)
        return v.reshape(self.shape)

    def sum(self, v):
        """Per-channel sums (C,) of a working view."""
        if self.rows:
            return v.sum(axis=0).reshape(self.fold, -1).sum(axis=0)
        return v.sum(axis=(0, 2))

    def spread(self, vector):
        """A (C,) vector shaped to broadcast against a working view."""
        return np.tile(vector, self.fold) if self.rows else vector[:, None]


def _channel_axes(op_name, shape, axis):
    """(axis, the other axes) for `shape`, or a clear error."""
    if len(shape) < 2:
        raise ValueError(f"{op_name}: expected input with a batch and a channel axis, got shape {tuple(shape)}")
    axis = normalize_axes(op_name, axis, shape)
    if len(axis) != 1:
        raise ValueError(f"{op_name}: axis must be one axis, got {axis}")
    return axis[0], tuple(i for i in range(len(shape)) if i != axis[0])


def _broadcastable(vector, axis, ndim):
    """A (C,) tensor reshaped to (1, …, C, …, 1) with C at `axis`."""
    return reshape(vector, tuple(-1 if i == axis else 1 for i in range(ndim)))


class ChannelBias(LinearOp):
    """y = x + b per channel (index along `axis`): x (…, C, …), b (C,) → x's shape and memory layout.

    A conv's bias. The same as x + b broadcast, with the per-channel sum of its adjoint b̄ = Σ ȳ over
    all other axes formed by the folded rows of `_Channels` (NumPy's sum over the leading axes of an
    NHWC array runs an inner loop of C entries: 1.6 ms against 0.15 ms for the MNIST CNN's first layer).
    """

    def __init__(self, axis=-1):
        self.axis = axis

    def compute(self, x, bias):
        axis, _ = _channel_axes("channel_bias", x.shape, self.axis)
        if bias.shape != (x.shape[axis],):
            raise ValueError(f"channel_bias: input {x.shape} has {x.shape[axis]} channels along axis {axis}; "
                             f"the bias {bias.shape} must be ({x.shape[axis]},)")
        layout = _Channels(x, axis)
        return layout.unview(layout.view(x) + layout.spread(bias))

    def gradient(self, out_grad, node):
        axis, others = _channel_axes("channel_bias", out_grad.shape, self.axis)
        layout = _Channels(out_grad.cached_data, axis)
        total = layout.sum(layout.view(out_grad.cached_data))
        return out_grad, Tensor.make_from_op(Summation(others), (out_grad,), total)


def channel_bias(x, bias, axis=-1):
    """x + bias with the (C,) bias along `axis` (the last by default, a conv's NHWC channels)."""
    x = as_tensor("channel_bias", x)
    return ChannelBias(axis)(x, as_tensor("channel_bias", bias, x))


class ChannelNorm(SavingOp):
    """y = w·(x − μ)·s + b per channel (index along `axis`, default 1 of NCHW): μ and σ² the mean and
    biased variance over all other axes, s = (σ² + eps)^(−1/2); batch norm's training transform.

    x (N, C, …), w and b (C,) → x's shape, dtype and memory layout. The node saves (μ, σ², s), each (C,).
    With x̂ = (x − μ)·s and n entries per channel: b̄ = Σ ȳ, w̄ = Σ ȳ·x̂ and
    x̄ = `channel_norm_input_adjoint(ȳ, x̂, w·s)` = w·s·(ȳ − b̄/n − x̂·w̄/n) (hw_notes/ops_conv.md).
    """

    def __init__(self, axis=1, eps=1e-5):
        self.axis = axis
        self.eps = eps

    def compute_saving(self, x, weight, bias):
        axis, _ = _channel_axes("channel_norm", x.shape, self.axis)
        channels = x.shape[axis]
        if weight.shape != (channels,) or bias.shape != (channels,):
            raise ValueError(
                f"channel_norm: input {x.shape} has {channels} channels along axis {axis}; weight "
                f"{weight.shape} and bias {bias.shape} must both be ({channels},)"
            )
        if x.size < 2 * channels or channels == 0:
            raise ValueError(f"channel_norm: needs more than one value per channel, got input {x.shape}")
        if x.dtype.kind != "f":
            raise TypeError(f"channel_norm: expected a floating-point input, got dtype {x.dtype}")
        layout = _Channels(x, axis)
        count = x.size // channels
        rows = layout.view(x)
        average = layout.sum(rows) / count
        centered = rows - layout.spread(average)  # the output's storage from here on
        var = layout.sum(centered * centered) / count
        inverse = 1 / np.sqrt(var + self.eps)
        centered *= layout.spread(weight * inverse)
        centered += layout.spread(bias)
        return layout.unview(centered), (average, var, inverse)

    def _standardized(self, node):
        """x̂ = (x − μ)·s as a recorded `standardize` node of x (its data formed from the saved moments)."""
        x = node.inputs[0]
        average, var, inverse = node.saved
        axis, others = _channel_axes("channel_norm", x.shape, self.axis)
        layout = _Channels(x.cached_data, axis)
        rows = layout.view(x.cached_data) - layout.spread(average)
        rows *= layout.spread(inverse)
        kept = tuple(-1 if i == axis else 1 for i in range(x.ndim))
        saved = tuple(v.reshape(kept) for v in (average, var, inverse))
        return Standardize(others, self.eps).make_node((x,), layout.unview(rows), saved), layout

    def _inverse_std(self, node):
        """s as a (C,) node: the saved values as the data of an `inverse_std` node of x."""
        x = node.inputs[0]
        axis, others = _channel_axes("channel_norm", x.shape, self.axis)
        kept = tuple(-1 if i == axis else 1 for i in range(x.ndim))
        inverse = Tensor.make_from_op(InverseStd(others, self.eps), (x,), node.saved[2].reshape(kept))
        return reshape(inverse, (x.shape[axis],))

    def gradient(self, out_grad, node):
        x, weight, bias = node.inputs
        standardized, layout = self._standardized(node)
        _, others = _channel_axes("channel_norm", x.shape, self.axis)
        g_rows, z_rows = layout.view(out_grad.cached_data), layout.view(standardized.cached_data)
        products = g_rows * z_rows
        sum_g, sum_gz = layout.sum(g_rows), layout.sum(products)
        grad_bias = Tensor.make_from_op(Summation(others), (out_grad,), sum_g)
        grad_weight = Tensor.make_from_op(
            Summation(others), (Tensor.make_from_op(EWiseMul(), (out_grad, standardized), layout.unview(products)),),
            sum_gz,
        )
        scale = weight * self._inverse_std(node)
        data = _input_adjoint(layout, g_rows, z_rows, scale.cached_data, sum_g, sum_gz)
        grad_x = Tensor.make_from_op(ChannelNormInputAdjoint(self.axis), (out_grad, standardized, scale), data)
        return grad_x, grad_weight, grad_bias

    def jvp(self, tangents, node):
        x, weight, _ = node.inputs
        t_x, t_weight, t_bias = tangents
        axis, others = _channel_axes("channel_norm", x.shape, self.axis)
        standardized, _ = self._standardized(node)
        terms = []
        if type(t_x) is not ZeroTangent:  # ẋ̂ = s·(ẋ − m(ẋ) − x̂·m(ẋ·x̂)), standardize's jvp
            moments = mean(t_x, others, keepdims=True) + standardized * mean(t_x * standardized, others, keepdims=True)
            scale = _broadcastable(weight * self._inverse_std(node), axis, x.ndim)
            terms.append((t_x - moments) * scale)
        if type(t_weight) is not ZeroTangent:
            terms.append(_broadcastable(t_weight, axis, x.ndim) * standardized)
        if type(t_bias) is not ZeroTangent:
            terms.append(broadcast_to(_broadcastable(t_bias, axis, x.ndim), x.shape))
        return _total(terms, node)


def _total(terms, node):
    """The sum of a jvp's product-rule terms (zeros of the node's shape when every tangent is zero)."""
    if not terms:
        return ZeroTangent.make_const(np.zeros_like(node.cached_data))
    out = terms[0]
    for term in terms[1:]:
        out = out + term
    return out


def channel_norm(x, weight, bias, axis=1, eps=1e-5):
    """Batch normalisation with the batch's statistics, per channel along `axis`: w·(x − μ)/√(σ² + eps) + b.
    Keeps x's memory layout; the node saves μ, σ² (biased) and 1/√(σ² + eps) as `node.saved`."""
    x = as_tensor("channel_norm", x)
    weight, bias = as_tensor("channel_norm", weight, x), as_tensor("channel_norm", bias, x)
    return ChannelNorm(axis, eps)(x, weight, bias)


def _input_adjoint(layout, g_rows, z_rows, scale, sum_g, sum_gz):
    """k·(g − Σg/n − z·Σgz/n) in the working view's layout, as an array of the original shape."""
    count = g_rows.size // scale.size
    out = z_rows * layout.spread(sum_gz / count)
    out += layout.spread(sum_g / count)
    np.subtract(g_rows, out, out=out)
    out *= layout.spread(scale)
    return layout.unview(out)


class ChannelNormInputAdjoint(TensorOp):
    """x̄ = k·(g − m(g) − z·m(g·z)) per channel along `axis`: m the mean over all other axes, g the output
    adjoint ȳ, z the standardised input x̂, k (C,) = w·s. `channel_norm`'s input adjoint, as its own node
    so the first-order pass is a few fused NumPy passes; its rules are compositions (hw_notes/ops_conv.md).
    """

    def __init__(self, axis=1):
        self.axis = axis

    def compute(self, g, z, scale):
        axis, _ = _channel_axes("channel_norm_input_adjoint", z.shape, self.axis)
        if g.shape != z.shape or scale.shape != (z.shape[axis],):
            raise ValueError(
                f"channel_norm_input_adjoint: g {g.shape} and z {z.shape} must agree and the scale "
                f"{scale.shape} must be ({z.shape[axis]},)"
            )
        layout = _Channels(z, axis)
        g_rows, z_rows = layout.view(g), layout.view(z)
        return _input_adjoint(layout, g_rows, z_rows, scale, layout.sum(g_rows), layout.sum(g_rows * z_rows))

    def _parts(self, node):
        g, z, scale = node.inputs
        axis, others = _channel_axes("channel_norm_input_adjoint", z.shape, self.axis)

        def m(v):
            return mean(v, others, keepdims=True)

        return g, z, _broadcastable(scale, axis, z.ndim), axis, others, m

    def gradient(self, out_grad, node):
        g, z, scale, _, others, m = self._parts(node)
        scaled = out_grad * scale
        moment = m(scaled * z)
        grad_g = scaled - m(scaled) - z * moment
        grad_z = -(scaled * m(g * z)) - g * moment
        grad_scale = summation(out_grad * (g - m(g) - z * m(g * z)), others)
        return grad_g, grad_z, grad_scale

    def jvp(self, tangents, node):
        g, z, scale, axis, _, m = self._parts(node)
        t_g, t_z, t_scale = tangents
        terms = []
        if type(t_g) is not ZeroTangent:
            terms.append(scale * (t_g - m(t_g) - z * m(t_g * z)))
        if type(t_z) is not ZeroTangent:
            terms.append(-(scale * (t_z * m(g * z) + z * m(g * t_z))))
        if type(t_scale) is not ZeroTangent:
            terms.append(_broadcastable(t_scale, axis, z.ndim) * (g - m(g) - z * m(g * z)))
        return _total(terms, node)


def channel_norm_input_adjoint(g, z, scale, axis=1):
    """k·(g − m(g) − z·m(g·z)) per channel along `axis` (m: the mean over the other axes): the input
    adjoint of `channel_norm` given ȳ = g, x̂ = z and k = w·s."""
    g = as_tensor("channel_norm_input_adjoint", g)
    z, scale = as_tensor("channel_norm_input_adjoint", z, g), as_tensor("channel_norm_input_adjoint", scale, g)
    return ChannelNormInputAdjoint(axis)(g, z, scale)
