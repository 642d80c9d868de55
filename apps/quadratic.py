"""Gradient descent on f(x, y) = x² + y² from (1, 1): ten steps at lr 0.3 reach (0, 0) within 1e-3.

    python apps/quadratic.py

Each step multiplies the point by 1 − 2·lr = 0.4, so after ten steps it is 0.4¹⁰ ≈ 1.0e-4 from 0.
"""
import numpy as np

import needle as ndl


def descend(start=(1.0, 1.0), lr=0.3, steps=10, log=print):
    """Plain gradient descent p ← p − lr·∇f(p), ∇f from autograd; returns the final point (2,)."""
    point = ndl.Tensor(np.array(start, dtype=np.float32))
    for step in range(1, steps + 1):
        value = ndl.summation(point * point)
        value.backward(create_graph=False)
        point = ndl.Tensor(point.numpy() - lr * point.grad.numpy())
        log(f"step {step:2d}: f(p) = {float(value.numpy()):.3e}, then p = {point.numpy()}")
    return point.numpy()


if __name__ == "__main__":
    final = descend()
    print(f"distance from the minimum: {np.linalg.norm(final):.2e}")
