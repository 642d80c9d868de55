"""Workload 6: one conv layer's forward and backward pass (batch 32, 32×32, 16 → 32 channels, K 3,
stride 1, padding 1, float32) in needle, by hand in NumPy (im2col and col2im) and in PyTorch."""
import numpy as np
from numpy.lib.stride_tricks import as_strided

import needle as ndl

from .common import optional_import

BATCH, SIZE, C_IN, C_OUT, K = 32, 32, 16, 32, 3
PADDING = K // 2


def operands(batch=BATCH, size=SIZE, seed=0):
    """(x NHWC, kernel (K, K, C_in, C_out), out_grad NHWC): float32, shared by every implementation."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, size, size, C_IN)).astype(np.float32)
    bound = np.sqrt(6.0 / (C_IN * K * K))
    kernel = rng.uniform(-bound, bound, (K, K, C_IN, C_OUT)).astype(np.float32)
    out_grad = rng.standard_normal((batch, size, size, C_OUT)).astype(np.float32)
    return x, kernel, out_grad


# Each `*_step(x, kernel, out_grad)` prepares untimed and returns `step()`, which runs the forward pass,
# the backward pass from `out_grad`, and returns (output, input gradient, kernel gradient) as NHWC /
# (K, K, C_in, C_out) NumPy arrays.


def numpy_step(x, kernel, out_grad):
    """im2col by hand: the windows of the padded input as one matrix, one product forward; backward
    reuses the forward's matrix for the kernel gradient and adds the K² shifted slices back (col2im)."""
    n, h, w, c_in = x.shape
    c_out = kernel.shape[3]
    weights = kernel.reshape(K * K * c_in, c_out)

    def step():
        padded = np.zeros((n, h + 2 * PADDING, w + 2 * PADDING, c_in), dtype=x.dtype)
        padded[:, PADDING:PADDING + h, PADDING:PADDING + w] = x
        s = padded.strides
        windows = as_strided(padded, (n, h, w, K, K, c_in), (s[0], s[1], s[2], s[1], s[2], s[3]))
        columns = windows.reshape(-1, K * K * c_in)
        out = (columns @ weights).reshape(n, h, w, c_out)
        grads = out_grad.reshape(-1, c_out)
        grad_kernel = (columns.T @ grads).reshape(kernel.shape)
        grad_columns = (grads @ weights.T).reshape(n, h, w, K, K, c_in)
        grad_padded = np.zeros_like(padded)
        for u in range(K):
            for v in range(K):
                grad_padded[:, u:u + h, v:v + w] += grad_columns[:, :, :, u, v]
        return out, grad_padded[:, PADDING:PADDING + h, PADDING:PADDING + w], grad_kernel

    return step


def needle_step(x, kernel, out_grad):
    """As a needle user writes it: leaves, ndl.conv, backward from the output adjoint."""
    seed = ndl.Tensor(out_grad)

    def step():
        inputs = ndl.Tensor.from_numpy(x, requires_grad=True)
        weights = ndl.Tensor.from_numpy(kernel, requires_grad=True)
        out = ndl.conv(inputs, weights, stride=1, padding=PADDING)
        out.backward(seed)
        return out.numpy(), inputs.grad.numpy(), weights.grad.numpy()

    return step


def torch_step(x, kernel, out_grad):
    """PyTorch CPU in its own NCHW layout with its (C_out, C_in, K, K) weight; converted back outside the step."""
    torch = optional_import("torch")
    x_nchw = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    weight = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
    seed = torch.from_numpy(np.ascontiguousarray(out_grad.transpose(0, 3, 1, 2)))

    def step():
        inputs = x_nchw.clone().requires_grad_()
        weights = weight.clone().requires_grad_()
        out = torch.nn.functional.conv2d(inputs, weights, padding=PADDING)
        out.backward(seed)
        return out.detach(), inputs.grad, weights.grad

    return step


def as_nhwc(name, result):
    """Implementation `name`'s step result as NumPy (output, input gradient, kernel gradient) in
    needle's layouts (PyTorch's NCHW and (C_out, C_in, K, K) transposed back)."""
    out, grad_x, grad_kernel = (np.asarray(r) for r in result)
    if name == "torch":
        return out.transpose(0, 2, 3, 1), grad_x.transpose(0, 2, 3, 1), grad_kernel.transpose(2, 3, 1, 0)
    return out, grad_x, grad_kernel


CONV = {"numpy": numpy_step, "needle": needle_step, "torch": torch_step}
