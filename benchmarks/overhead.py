"""Workloads 2 and 4: per-op overhead on tiny tensors, and a very deep chain of scalar ops."""
import numpy as np

import needle as ndl

from .common import optional_import

CHAIN_OPS = 1000  # workload 2: (×1.001, +0.01, relu) repeated, then a sum
SCALAR_NODES = 10**6  # workload 4: alternating ×(1 + 1e-6) and +1e-6 on a 0-d float64 tensor


def _start():
    return np.random.default_rng(0).uniform(-1, 1, 16).astype(np.float32)


def numpy_chain():
    """Forward keeping the ReLU masks, backward by hand: the cost of the NumPy calls alone."""
    x = _start()
    masks = []
    for _ in range(CHAIN_OPS // 3):
        x = x * 1.001 + 0.01
        mask = x > 0
        x = x * mask
        masks.append(mask)
    grad = np.ones_like(x)
    for mask in reversed(masks):
        grad = grad * mask * 1.001
    return float(x.sum()), grad


def needle_chain():
    x = ndl.Tensor(_start())
    y = x
    for _ in range(CHAIN_OPS // 3):
        y = ndl.relu(y * 1.001 + 0.01)
    total = y.sum()
    total.backward()
    return float(total.numpy()), x.grad.numpy()


def torch_chain():
    torch = optional_import("torch")
    x = torch.from_numpy(_start()).requires_grad_()
    y = x
    for _ in range(CHAIN_OPS // 3):
        y = torch.relu(y * 1.001 + 0.01)
    total = y.sum()
    total.backward()
    return float(total.item()), x.grad.numpy()


def autograd_chain():
    autograd = optional_import("autograd")
    import autograd.numpy as anp

    def chain(x):
        for _ in range(CHAIN_OPS // 3):
            x = anp.maximum(x * 1.001 + 0.01, 0.0)
        return anp.sum(x)

    x = _start()
    return float(chain(x)), autograd.grad(chain)(x)


CHAIN = {"numpy": numpy_chain, "needle": needle_chain, "torch": torch_chain, "autograd": autograd_chain}


def floats_scalar_chain(nodes=SCALAR_NODES):
    """Plain Python floats, derivative by hand: the chain's product of local slopes."""
    x = 0.5
    for _ in range(nodes // 2):
        x = x * (1 + 1e-6) + 1e-6
    return x, (1 + 1e-6) ** (nodes // 2)


def needle_scalar_chain(nodes=SCALAR_NODES):
    x = ndl.Tensor(0.5)  # float64, like the Python floats it is compared with
    y = x
    for _ in range(nodes // 2):
        y = y * (1 + 1e-6) + 1e-6
    y.backward()
    return float(y.numpy()), float(x.grad.numpy())


def torch_scalar_chain(nodes=SCALAR_NODES):
    torch = optional_import("torch")
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(nodes // 2):
        y = y * (1 + 1e-6) + 1e-6
    y.backward()
    return float(y.item()), float(x.grad.item())


SCALAR_CHAIN = {"floats": floats_scalar_chain, "needle": needle_scalar_chain, "torch": torch_scalar_chain}
