"""needle: a small deep-learning framework with NumPy tensors and differentiable adjoints."""
from . import anomaly, autograd, modes, ops, sweeps
from .autograd import Tensor, TensorTuple, Value
from .device import all_devices, cpu, cpu_numpy, cuda, default_device
from .modes import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import *  # noqa: F401,F403
from . import init, nn, optim
from .init import (
    arange, eye, full, linspace, manual_seed, ones, ones_like, rand, randint, randn, tensor, zeros, zeros_like,
)
from .serialization import load, save
from . import backend_ndarray, data, distributed, func, linalg, testing, viz
from .compiler import compile  # noqa: A001  (ndl.compile; kept out of __all__: it would hide the builtin)

__version__ = "0.1.0"

__all__ = [
    "Tensor", "TensorTuple", "Value", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "cpu", "cpu_numpy", "cuda", "default_device", "all_devices",
    "ones", "zeros", "ones_like", "zeros_like", "save", "load",
    "tensor", "arange", "linspace", "eye", "full", "rand", "randn", "randint", "manual_seed",
    "autograd", "ops", "init", "nn", "optim", "data", "func", "linalg", "testing", "viz", "anomaly", "backend_ndarray",
    "distributed",
] + ops.__all__
