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
from . import init, nn, optim
from .init import ones, ones_like, zeros, zeros_like
from .serialization import load, save
from . import data
from . import derivatives, viz

func = derivatives  # needle.func: grad, jvp, vjp, jacfwd, jacrev, hessian, hvp

__version__ = "0.1.0"
