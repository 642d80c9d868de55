"""Normalisation layers: LayerNorm1d (per row), BatchNorm1d (per feature, with running statistics) and
BatchNorm2d (per channel of NCHW input)."""
from .. import init, modes
from ..autograd import Tensor
from . import functional as F
from .module import Module, Parameter

__all__ = ["LayerNorm1d", "BatchNorm1d", "BatchNorm2d"]


class LayerNorm1d(Module):
    """y = w·(x − E[x]) / √(Var[x] + eps) + b over the last axis: (..., dim) → (..., dim).

    Var is the biased variance (divided by dim); w (ones) and b (zeros) have shape (dim,).
    """

    def __init__(self, dim, eps=1e-5, device=None, dtype="float32"):
        super().__init__(device=device, dtype=dtype)
        self.dim = dim
        self.eps = eps
        self.weight = Parameter.initialized(init.ones(dim, device=device, dtype=dtype))
        self.bias = Parameter.initialized(init.zeros(dim, device=device, dtype=dtype))

    def forward(self, x):
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"LayerNorm1d: input of shape {x.shape} does not end in dim={self.dim}")
        return F.layer_norm(x, self.dim, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.dim}, eps={self.eps}"


class BatchNorm1d(Module):
    """y = w·(x − μ) / √(σ² + eps) + b per feature: (batch, dim) → (batch, dim), or (batch, dim, length).

    Training: μ and σ² are the batch mean and biased variance over axis 0 (axes 0 and 2 of
    (batch, dim, length), as in PyTorch), and
    running ← (1 − momentum)·running + momentum·observed (needle: the biased variance goes into
    `running_var`). Eval: μ, σ² are `running_mean` (zeros at first) and `running_var` (ones), unchanged.
    """

    def __init__(self, dim, eps=1e-5, momentum=0.1, device=None, dtype="float32"):
        super().__init__(device=device, dtype=dtype)
        self.dim = dim
        self.eps = eps
        self.momentum = momentum
        self.weight = Parameter.initialized(init.ones(dim, device=device, dtype=dtype))
        self.bias = Parameter.initialized(init.zeros(dim, device=device, dtype=dtype))
        self.register_buffer("running_mean", init.zeros(dim, device=device, dtype=dtype))
        self.register_buffer("running_var", init.ones(dim, device=device, dtype=dtype))

    def forward(self, x):
        if x.ndim not in (2, 3) or x.shape[1] != self.dim:
            raise ValueError(
                f"BatchNorm1d: expected input of shape (batch, {self.dim}), got {x.shape}; "
                f"(batch, {self.dim}, length) is accepted too"
            )
        if x.ndim == 3:  # PyTorch's (N, C, L): statistics over N and L, as rows of (N·L, C)
            batch, _, length = x.shape
            rows = x.permute((0, 2, 1)).reshape((batch * length, self.dim))
            return self._normalize(rows).reshape((batch, length, self.dim)).permute((0, 2, 1))
        return self._normalize(x)

    def _normalize(self, x):
        tracer = modes.current.tracer
        if tracer is not None and self.training:
            # needle.compile: the running statistics are updated by an effect each replay repeats
            out = F.batch_norm(x, None, None, self.weight, self.bias, True, self.momentum, self.eps)
            tracer.add_effect(self._update_running_statistics, (x,))
            return out
        return F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, self.training, self.momentum, self.eps
        )

    def _update_running_statistics(self, x):
        """running ← (1 − momentum)·running + momentum·observed from the batch `x` (an array): the
        update of `F.batch_norm` in training, made by that function itself, so the two never differ."""
        with modes.no_grad():
            F.batch_norm(Tensor.make_const(x), self.running_mean, self.running_var, None, None, True,
                         self.momentum, self.eps)

    def extra_repr(self):
        return f"{self.dim}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm2d(BatchNorm1d):
    """BatchNorm1d over the channels of NCHW input: statistics per channel over N, H and W, with the same
    running statistics and rule; one `channel_norm` node in training, which keeps the input's memory
    layout (a conv's NHWC memory seen as NCHW stays so)."""

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.dim:
            raise ValueError(f"BatchNorm2d: expected NCHW input with C={self.dim} channels, got {x.shape}")
        return self._normalize(x)
