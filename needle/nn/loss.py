"""Losses: softmax cross-entropy on integer labels and mean squared error; both give a 0-d Tensor."""
import numpy as np

from .. import ops
from ..autograd import Tensor
from .module import Module

__all__ = ["SoftmaxLoss", "MSELoss"]


class SoftmaxLoss(Module):
    """Cross-entropy: mean over the batch of logsumexp(z_i) − z_i[y_i]; logits (N, k), labels (N,) → ().

    One fused node (`ops.softmax_cross_entropy`): the row max is subtracted, so logits near 1e10
    give a finite loss and gradient, and the rule is built from ops, so it is differentiable twice.
    Labels may be any integer dtype, or floats holding whole numbers.
    """

    def forward(self, logits, y):
        labels = y.cached_data if isinstance(y, Tensor) else np.asarray(y)
        if logits.ndim != 2 or labels.shape != logits.shape[:1]:
            raise ValueError(
                f"SoftmaxLoss: logits must be (N, k) and labels (N,), got {logits.shape} and {labels.shape}"
            )
        if labels.dtype.kind not in "iu":
            if not np.array_equal(labels, np.round(labels)):
                raise TypeError(f"SoftmaxLoss: labels must be whole class indices, got {labels.dtype} values")
            labels = labels.astype(np.int64)
        if not isinstance(y, Tensor) or labels is not y.cached_data:
            y = Tensor.make_const(labels)
        return ops.softmax_cross_entropy(logits, y)


class MSELoss(Module):
    """Mean squared error over all entries: mean((prediction − target)²); equal shapes → ()."""

    def forward(self, prediction, target):
        if prediction.shape != target.shape:
            raise ValueError(
                f"MSELoss: prediction {prediction.shape} and target {target.shape} differ in shape"
            )
        difference = prediction - target
        return ops.mean(difference * difference)
