"""Normalisation layers: LayerNorm1d (per row) and BatchNorm1d (per feature, with running statistics)."""
from .. import init, ops
from ..autograd import Tensor
from .module import Module, Parameter

__all__ = ["LayerNorm1d", "BatchNorm1d"]


def _affine(layer, normed):
    """w·normed + b with the layer's (dim,) weight and bias, broadcast by the elementwise ops."""
    return layer.weight * normed + layer.bias


class LayerNorm1d(Module):
    """y = w·(x − E[x]) / √(Var[x] + eps) + b over the last axis: (..., dim) → (..., dim).

    Var is the biased variance (divided by dim); w (ones) and b (zeros) have shape (dim,).
    """

    def __init__(self, dim, eps=1e-5, device=None, dtype="float32"):
        super().__init__()
        self.dim = dim
        self.eps = eps
        self.weight = Parameter(init.ones(dim, device=device, dtype=dtype))
        self.bias = Parameter(init.zeros(dim, device=device, dtype=dtype))

    def forward(self, x):
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"LayerNorm1d: input of shape {x.shape} does not end in dim={self.dim}")
        return _affine(self, ops.standardize(x, -1, self.eps))


class BatchNorm1d(Module):
    """y = w·(x − μ) / √(σ² + eps) + b per feature: (batch, dim) → (batch, dim).

    Training: μ and σ² are the batch mean and biased variance over axis 0, and
    running ← (1 − momentum)·running + momentum·observed (needle: the biased variance goes into
    `running_var`). Eval: μ, σ² are `running_mean` (zeros at first) and `running_var` (ones), unchanged.
    """

    def __init__(self, dim, eps=1e-5, momentum=0.1, device=None, dtype="float32"):
        super().__init__()
        self.dim = dim
        self.eps = eps
        self.momentum = momentum
        self.weight = Parameter(init.ones(dim, device=device, dtype=dtype))
        self.bias = Parameter(init.zeros(dim, device=device, dtype=dtype))
        self.register_buffer("running_mean", init.zeros(dim, device=device, dtype=dtype))
        self.register_buffer("running_var", init.ones(dim, device=device, dtype=dtype))

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"BatchNorm1d: expected input of shape (batch, {self.dim}), got {x.shape}")
        if self.training:
            if x.shape[0] < 2:
                raise ValueError(
                    f"BatchNorm1d: training needs more than one value per feature, got input {x.shape}"
                )
            normed = ops.standardize(x, 0, self.eps)  # one fused node; it saves the batch moments
            self._update_running(*normed.saved[:2])
        else:
            normed = (x - self.running_mean) / ops.sqrt(self.running_var + self.eps)
        return _affine(self, normed)

    def _update_running(self, mean, var):
        """EMA of the observed statistics, computed on detached arrays (no graph)."""
        keep = 1.0 - self.momentum
        new_mean = keep * self.running_mean.numpy() + self.momentum * mean.reshape(self.dim)
        new_var = keep * self.running_var.numpy() + self.momentum * var.reshape(self.dim)
        self.running_mean = Tensor.make_const(new_mean)
        self.running_var = Tensor.make_const(new_var)
