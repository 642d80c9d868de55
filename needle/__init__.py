"""needle: a small deep-learning framework with NumPy tensors and differentiable adjoints."""
from . import autograd, ops
from .autograd import (
    Tensor,
    TensorTuple,
    Value,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
)
from .device import all_devices, cpu, default_device
from .ops import *  # noqa: F401,F403

__version__ = "0.1.0"
