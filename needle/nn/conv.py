"""Convolutional modules over NCHW input: Conv, MaxPool2d, AvgPool2d and AdaptiveAvgPool2d.

(`Flatten` and `BatchNorm2d` live with their kin in `layers` and `normalization`.)
"""
import math
import operator

from .. import init, ops
from . import functional as F
from ..ops.pooling import window_arguments
from .module import Module, Parameter

__all__ = ["Conv", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


def _first(name, what, value):
    """A positive int; a tuple or list gives its first entry (the course's square kernels and strides)."""
    if isinstance(value, (tuple, list)):
        if not value:
            raise ValueError(f"{name}: {what} is an empty {type(value).__name__}")
        value = value[0]
    try:
        number = operator.index(value)
    except TypeError:
        number = None
    if number is None or isinstance(value, bool) or number < 1:
        raise ValueError(f"{name}: {what} must be a positive integer, got {value!r}")
    return number


class Conv(Module):
    """2-D convolution of NCHW input: (N, C_in, H, W) → (N, C_out, H', W'), padding K // 2 ("same" at
    stride 1), H' = (H + 2·(K // 2) − K) // stride + 1.

    `weight` is (K, K, C_in, C_out), drawn first with kaiming_uniform(C_in·K², C_out·K²); then `bias`
    (C_out,) uniform on ±1/√(C_in·K²). A tuple kernel_size or stride takes its first entry. The same as
    PyTorch's `conv2d(x, weight.permute(3, 2, 0, 1), bias, stride, padding=K // 2)`.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, bias=True, device=None, dtype="float32"):
        super().__init__(device=device, dtype=dtype)
        self.in_channels = _first("Conv", "in_channels", in_channels)
        self.out_channels = _first("Conv", "out_channels", out_channels)
        self.kernel_size = k = _first("Conv", "kernel_size", kernel_size)
        self.stride = _first("Conv", "stride", stride)
        self.padding = k // 2
        fan_in = self.in_channels * k * k
        self.weight = Parameter.initialized(init.kaiming_uniform(
            fan_in, self.out_channels * k * k, shape=(k, k, self.in_channels, self.out_channels),
            device=device, dtype=dtype,
        ))
        self.bias = None
        if bias:
            bound = 1.0 / math.sqrt(fan_in)
            drawn = init.rand(self.out_channels, low=-bound, high=bound, device=device, dtype=dtype)
            self.bias = Parameter.initialized(drawn)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv: expected NCHW input with C={self.in_channels} channels, got {x.shape}")
        out = ops.conv(x.permute((0, 2, 3, 1)), self.weight, self.stride, self.padding)
        if self.bias is not None:
            out = ops.channel_bias(out, self.bias, 3)  # (C_out,) along the NHWC output's channels
        return out.permute((0, 3, 1, 2))

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None}")


class _Pool2d(Module):
    """A pooling window: kernel_size, stride (None: the kernel size) and padding, each an int or a pair,
    checked when the layer is built."""

    name = None

    def __init__(self, kernel_size, stride=None, padding=0, device=None, dtype=None):
        super().__init__(device=device, dtype=dtype)
        window_arguments(self.name, kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        return getattr(F, self.name)(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Maximum over each window of NCHW input (`F.max_pool2d`); ties send the adjoint to the first maximum."""

    name = "max_pool2d"


class AvgPool2d(_Pool2d):
    """Mean over each window of NCHW input (`F.avg_pool2d`); padded zeros count, as in PyTorch."""

    name = "avg_pool2d"


class AdaptiveAvgPool2d(Module):
    """Mean over an even grid of NCHW input: (N, C, H, W) → (N, C, *output_size) (`F.adaptive_avg_pool2d`).

    `output_size` 1 is global average pooling; other sizes must divide H and W (else a clear error).
    """

    def __init__(self, output_size, device=None, dtype=None):
        super().__init__(device=device, dtype=dtype)
        sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
        if len(sizes) != 2:
            raise ValueError(f"AdaptiveAvgPool2d: output_size must be an int or a pair, got {output_size!r}")
        for size in sizes:
            _first("AdaptiveAvgPool2d", "output_size", size)
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
