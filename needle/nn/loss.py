"""Losses: cross-entropy on logits, negative log-likelihood, binary cross-entropy on logits, L1,
mean squared error and Huber. Each takes `reduction='mean' | 'sum' | 'none'` (a 0-d Tensor, or
one loss per entry with 'none') and calls its function in `needle.nn.functional`.
"""
import math

import numpy as np

from ..autograd import Tensor
from . import functional as F
from .module import Module

__all__ = [
    "SoftmaxLoss", "CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss", "L1Loss", "MSELoss", "HuberLoss",
]


class SoftmaxLoss(Module):
    """Cross-entropy: mean over the batch of logsumexp(z_i) − z_i[y_i]; logits (N, k), labels (N,) → ().

    One fused node (`ops.softmax_cross_entropy`): the row max is subtracted, so logits near 1e10
    give a finite loss and gradient, and the rule is built from ops, so it is differentiable twice.
    Labels may be any integer dtype, or floats holding whole numbers. Logits (..., k) with labels
    (...,) (a sequence model's (T, B, k)) are folded into rows: the mean is over every position.
    """

    def forward(self, logits, y):
        if isinstance(logits, Tensor) and logits.ndim != 2:
            logits, y = _as_rows(logits, y)
        return F.cross_entropy(logits, y)


def _as_rows(logits, y):
    """Logits (..., k) and labels (...,) as (rows, k) and (rows,)."""
    labels_shape = y.shape if isinstance(y, Tensor) else np.shape(y)
    if logits.ndim == 0 or tuple(labels_shape) != logits.shape[:-1]:
        raise ValueError(
            f"SoftmaxLoss: logits {logits.shape} and labels {tuple(labels_shape)}: "
            "expected logits (..., classes) and labels of the leading shape (...)"
        )
    rows = math.prod(logits.shape[:-1])
    y = y.reshape((rows,)) if isinstance(y, Tensor) else np.reshape(y, (rows,))
    return logits.reshape((rows, logits.shape[-1])), y


class _Loss(Module):
    """A loss with a `reduction`, checked when the loss is made."""

    def __init__(self, reduction="mean", *, device=None, dtype=None):
        super().__init__(device=device, dtype=dtype)
        F.check_reduction(type(self).__name__, reduction)
        self.reduction = reduction


class CrossEntropyLoss(_Loss):
    """−Σ_c q_c·log softmax(z)_c per row of logits (N, C), targets integer labels (N,) or class
    probabilities (N, C); with labels q = (1 − ε)·onehot + ε/C, ε = label_smoothing."""

    def __init__(self, reduction="mean", label_smoothing=0.0, *, device=None, dtype=None):
        super().__init__(reduction, device=device, dtype=dtype)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = label_smoothing

    def forward(self, input, target):  # noqa: A002  (PyTorch's name)
        return F.cross_entropy(input, target, self.reduction, self.label_smoothing)


class NLLLoss(_Loss):
    """−input[i, target_i] per row of log-probabilities (N, C), integer targets (N,)."""

    def forward(self, input, target):  # noqa: A002  (PyTorch's name)
        return F.nll_loss(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """−y·log σ(z) − (1 − y)·log(1 − σ(z)) per entry, computed stably from the logits z."""

    def forward(self, input, target):  # noqa: A002  (PyTorch's name)
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


class L1Loss(_Loss):
    """|input − target| per entry; equal shapes."""

    def forward(self, input, target):  # noqa: A002  (PyTorch's name)
        return F.l1_loss(input, target, self.reduction)


class MSELoss(_Loss):
    """(input − target)² per entry; equal shapes. The default is the mean over all entries."""

    def forward(self, input, target):  # noqa: A002  (PyTorch's name)
        return F.mse_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """d²/2 where |d| < delta, else delta·(|d| − delta/2), d = input − target; equal shapes."""

    def __init__(self, reduction="mean", delta=1.0, *, device=None, dtype=None):
        super().__init__(reduction, device=device, dtype=dtype)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta!r}")
        self.delta = delta

    def forward(self, input, target):  # noqa: A002  (PyTorch's name)
        return F.huber_loss(input, target, self.reduction, self.delta)
