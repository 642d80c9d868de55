"""Workload 6: one conv layer's forward and backward pass (batch 32, 32×32, 16 → 32 channels, K 3,
stride 1, padding 1, float32) in needle, by hand in NumPy (im2col and col2im) and in PyTorch.

    python -m benchmarks.conv --per-op mnist     # where a CNN training step spends its time, per op class
    python -m benchmarks.conv --per-op resnet9   # (the MNIST CNN at batch 128, or workload 7's step)
"""
import argparse
import collections
import time

import numpy as np
from numpy.lib.stride_tricks import as_strided

import needle as ndl

from .common import needle_training_step, optional_import

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


# ---- time per op class -----------------------------------------------------------------------


def mnist_cnn_step(batch=128, seed=0):
    """One Adam step of needle-train's MNIST CNN on a fixed random batch (1 × 28 × 28): `step()` returns the loss."""
    from needle.cli.cnn_models import MnistCNN

    np.random.seed(seed)
    model = MnistCNN()
    model.train()
    opt = ndl.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)
    inputs = ndl.Tensor(rng.random((batch, 1, 28, 28), dtype=np.float32), requires_grad=False)
    labels = ndl.Tensor(rng.integers(0, 10, batch).astype(np.uint8), requires_grad=False)
    loss_fn = ndl.nn.SoftmaxLoss()

    return needle_training_step(lambda: loss_fn(model(inputs), labels), opt)


def time_per_op(step, steps=5):
    """({op class name: seconds per step in its forward computation}, seconds per step): each op's own
    time, nested op calls subtracted. Rules that form their results with NumPy outside an op's compute
    (batch norm's fused adjoints) count in the step's remainder."""
    classes, seen, stack = [], set(), []
    own = collections.Counter()
    pending = [ndl.autograd.Op]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                classes.append(sub)
                pending.append(sub)
    originals = [(cls, name, cls.__dict__[name]) for cls in classes
                 for name in ("compute", "compute_saving") if name in cls.__dict__]

    def timed(fn):
        def wrapper(self, *args):
            stack.append(0.0)
            start = time.perf_counter()
            try:
                return fn(self, *args)
            finally:
                spent = time.perf_counter() - start
                own[type(self).__name__] += spent - stack.pop()
                if stack:
                    stack[-1] += spent
        return wrapper

    step()  # warm-up, uninstrumented
    for cls, name, fn in originals:
        setattr(cls, name, timed(fn))
    try:
        start = time.perf_counter()
        for _ in range(steps):
            step()
        total = (time.perf_counter() - start) / steps
    finally:
        for cls, name, fn in originals:
            setattr(cls, name, fn)
    return {name: seconds / steps for name, seconds in own.most_common()}, total


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-op", choices=["mnist", "resnet9"], required=True)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    if args.per_op == "mnist":
        chosen = mnist_cnn_step()
    else:
        from .resnet9 import batch, needle_resnet9_step

        chosen = needle_resnet9_step(*batch())
    per_op, step_seconds = time_per_op(chosen, args.steps)
    print(f"{args.per_op}: {step_seconds * 1e3:.1f} ms per step (instrumented); "
          f"{sum(per_op.values()) * 1e3:.1f} ms inside op computations")
    for name, seconds in per_op.items():
        if seconds >= 1e-4:
            print(f"  {name:28s} {seconds * 1e3:7.2f} ms")
