"""Activation layers beyond ReLU, Tanh and Sigmoid: softmax, log-softmax and the smooth rectifiers.

Each calls its function in `needle.nn.functional`; all are stable for float32 inputs as large as 1e4.
"""
from . import functional as F
from .module import Module

__all__ = ["Softmax", "LogSoftmax", "GELU", "SiLU", "LeakyReLU", "ELU", "Softplus"]


class Softmax(Module):
    """y = e^x / Σ_dim e^x (default the last axis)."""

    def __init__(self, dim=-1, *, device=None, dtype=None):
        super().__init__(device=device, dtype=dtype)
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """y = x − logsumexp_dim(x) (default the last axis)."""

    def __init__(self, dim=-1, *, device=None, dtype=None):
        super().__init__(device=device, dtype=dtype)
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class GELU(Module):
    """y = x·Φ(x): exact with erf (`approximate='none'`, needs SciPy) or the tanh approximation."""

    def __init__(self, approximate="none", *, device=None, dtype=None):
        super().__init__(device=device, dtype=dtype)
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """y = x·σ(x)."""

    def forward(self, x):
        return F.silu(x)


class LeakyReLU(Module):
    """y = x where x > 0, else negative_slope·x."""

    def __init__(self, negative_slope=0.01, *, device=None, dtype=None):
        super().__init__(device=device, dtype=dtype)
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """y = x where x > 0, else alpha·(e^x − 1)."""

    def __init__(self, alpha=1.0, *, device=None, dtype=None):
        super().__init__(device=device, dtype=dtype)
        self.alpha = alpha

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Softplus(Module):
    """y = log(1 + e^(βx))/β, and x where βx > threshold."""

    def __init__(self, beta=1.0, threshold=20.0, *, device=None, dtype=None):
        super().__init__(device=device, dtype=dtype)
        if not beta > 0:
            raise ValueError(f"Softplus: beta must be positive, got {beta!r}")
        self.beta = beta
        self.threshold = threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"
