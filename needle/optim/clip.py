"""Gradient clipping by the global 2-norm."""
import math

import numpy as np

from ..autograd import Tensor

__all__ = ["clip_grad_norm"]

# Added to the norm before dividing, as in PyTorch, so a norm of exactly max_norm is left alone.
_NORM_EPS = 1e-6


def clip_grad_norm(params, max_norm):
    """Scale all gradients by max_norm / (‖g‖ + 1e-6) when that is below 1; returns ‖g‖ as a float.

    ‖g‖ is the 2-norm of every gradient together, computed in float64 after dividing by the largest
    magnitude, so float32 gradients near 1e38 give a finite norm. A gradient is replaced by a new
    constant Tensor (never written in place: its array may be shared). When ‖g‖ is inf or nan the
    gradients are left unchanged and that value is returned, so the caller can skip the step.
    """
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm: invalid max_norm {max_norm!r}: must be >= 0")
    params = [params] if isinstance(params, Tensor) else list(params)
    with_grad = [p for p in params if p.grad is not None and p.grad.numpy().size]
    if not with_grad:
        return 0.0
    peak = float(np.max([np.max(np.abs(p.grad.numpy())) for p in with_grad]))  # nan propagates
    if peak == 0.0 or not math.isfinite(peak):
        return peak
    squares = sum(float(np.sum(np.square(p.grad.numpy() / np.float64(peak)))) for p in with_grad)
    total = peak * math.sqrt(squares)
    scale = max_norm / (total + _NORM_EPS)
    if scale < 1.0:
        for p in with_grad:
            p.grad = Tensor.make_const(p.grad.numpy() * scale)
    return total
