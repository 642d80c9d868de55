"""Losses: softmax cross-entropy on integer labels and mean squared error; both give a 0-d Tensor."""
from .. import init, ops
from .module import Module

__all__ = ["SoftmaxLoss", "MSELoss"]


class SoftmaxLoss(Module):
    """Cross-entropy: mean over the batch of logsumexp(z_i) − z_i[y_i]; logits (N, k), labels (N,) → ().

    logsumexp subtracts the row max, so logits near 1e10 give a finite loss and gradient; the
    true logit is picked by a constant one-hot mask, so the loss is differentiable twice.
    """

    def forward(self, logits, y):
        labels_shape = tuple(y.shape)
        if logits.ndim != 2 or labels_shape != logits.shape[:1]:
            raise ValueError(
                f"SoftmaxLoss: logits must be (N, k) and labels (N,), got {logits.shape} and {labels_shape}"
            )
        batch, classes = logits.shape
        picked = init.one_hot(classes, y, dtype=logits.dtype)
        true_logits = ops.summation(logits * picked, axes=1)
        return ops.summation(ops.logsumexp(logits, axes=1) - true_logits) / batch


class MSELoss(Module):
    """Mean squared error over all entries: mean((prediction − target)²); equal shapes → ()."""

    def forward(self, prediction, target):
        if prediction.shape != target.shape:
            raise ValueError(
                f"MSELoss: prediction {prediction.shape} and target {target.shape} differ in shape"
            )
        difference = prediction - target
        return ops.mean(difference * difference)
