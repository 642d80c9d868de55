"""Convolution: dilate, undilate and conv (2-D, NHWC input, (K, K, C_in, C_out) kernel).

`conv` is a cross-correlation computed as im2col over a strided view and one BLAS product. Its
adjoints are convs again (of the dilated adjoint with the flipped kernel, and of the permuted input
with the permuted adjoint), so gradients of gradients and jvps work; hw_notes/ops_conv.md derives them.
"""
import operator

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import LinearOp, MultilinearOp, as_tensor
from .broadcast import normalize_axes
from .indexing import flip, scatter_add
from .shape import permute

__all__ = ["Dilate", "dilate", "Undilate", "undilate", "Conv", "conv"]


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

    def compute(self, a, b):
        out_h, out_w = self._output_size(a.shape, b.shape)
        kh, kw, c_in, c_out = b.shape
        s, d = self.stride, self.dilation
        padded = _padded(a, self.padding)
        n, stride_h, stride_w, stride_c = padded.strides
        windows = as_strided(
            padded, (padded.shape[0], out_h, out_w, kh, kw, c_in),
            (n, stride_h * s, stride_w * s, stride_h * d, stride_w * d, stride_c), writeable=False,
        )
        # im2col: the one copy of the windows, (N·H'·W', KH·KW·C_in), then one BLAS product.
        columns = windows.reshape(-1, kh * kw * c_in)
        del padded, windows
        out = columns @ b.reshape(kh * kw * c_in, c_out)
        return out.reshape(a.shape[0], out_h, out_w, c_out)

    def gradient(self, out_grad, node):
        a, b = node.inputs
        s, d = self.stride, self.dilation
        (top, _), (left, _) = self.padding
        kh, kw = b.shape[:2]
        h, w = a.shape[1:3]
        out_h, out_w = out_grad.shape[1:3]
        grad_a = grad_b = None
        if a.requires_grad:
            # ā = full correlation of the adjoint (stride gaps filled with zeros) with the flipped kernel,
            # channels swapped; the padding makes the result exactly (N, H, W, C_in).
            spread = dilate(out_grad, (1, 2), s - 1) if s > 1 else out_grad
            kernel = permute(flip(b, (0, 1)), (0, 1, 3, 2))
            padding = ((d * (kh - 1) - top, h + top - out_h * s), (d * (kw - 1) - left, w + left - out_w * s))
            grad_a = Conv(1, padding, d)(spread, kernel)
        if b.requires_grad:
            # b̄[u, v, c, o] = Σ x_pad[n, u·d + i·s, v·d + j·s, c] ȳ[n, i, j, o]: a conv of the input with
            # channels as batch and batch as channels, the adjoint as kernel; stride and dilation trade
            # places, and the bottom/right padding ends where the last window ends (the rows a stride drops).
            bottom_used = d * (kh - 1) + (out_h - 1) * s + 1 - top - h
            right_used = d * (kw - 1) + (out_w - 1) * s + 1 - left - w
            by_channel = Conv(d, ((top, bottom_used), (left, right_used)), s)(
                permute(a, (3, 1, 2, 0)), permute(out_grad, (1, 2, 0, 3))
            )
            grad_b = permute(by_channel, (1, 2, 0, 3))
        return grad_a, grad_b


def conv(a, b, stride=1, padding=1, dilation=1):
    """2-D cross-correlation of NHWC `a` (N, H, W, C_in) with `b` (K, K, C_in, C_out), `padding` zeros on
    every side of H and W: (N, (H + 2p − K)//stride + 1, (W + 2p − K)//stride + 1, C_out).

    needle: the default padding is 1, as in the course (the class `Conv` defaults to 0). PyTorch's
    `conv2d(x_nchw, b.permute(3, 2, 0, 1), stride=, padding=)` computes the same in NCHW.
    """
    a, b = as_tensor("conv", a, b), as_tensor("conv", b, a)
    return Conv(stride, _count("conv", "padding", padding, 0), dilation)(a, b)
