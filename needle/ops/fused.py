"""Fused ops for the layers that dominate training: an affine map and softmax cross-entropy.

Each replaces a chain of small nodes with one, keeping rules built from needle ops, so the
adjoints are still differentiable.
"""
import numpy as np

from ..autograd import Tensor, TensorOp, ZeroTangent
from .linalg import matmul, weight_gradient
from .reduction import Softmax, summation
from .shape import broadcast_to, sum_to_shape, transpose

__all__ = ["Affine", "linear", "SoftmaxCrossEntropy", "softmax_cross_entropy"]


class Affine(TensorOp):
    """x @ W + b: x (..., in), W (in, out), b (out,) or (1, out) -> (..., out).

    x̄ = ȳ Wᵀ, W̄ = xᵀ ȳ (batch axes folded into rows), b̄ = ȳ summed to b's shape.
    """

    def compute(self, x, weight, bias):
        if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[0]:
            raise ValueError(
                f"linear: input {x.shape} @ weight {weight.shape}: "
                "the weight must be (in, out) with in equal to the input's last size"
            )
        if bias.shape not in ((weight.shape[1],), (1, weight.shape[1])):
            raise ValueError(
                f"linear: bias {bias.shape} does not fit weight {weight.shape}; "
                f"expected ({weight.shape[1]},) or (1, {weight.shape[1]})"
            )
        out = x @ weight
        out += bias  # in place: the product is a fresh array
        return out

    def gradient(self, out_grad, node):
        x, weight, bias = node.inputs
        grad_x = grad_weight = grad_bias = None
        # Only the adjoints someone needs: the input batch's would cost a whole product.
        if x.requires_grad:
            grad_x = matmul(out_grad, transpose(weight))
        if weight.requires_grad:
            grad_weight = weight_gradient(x, out_grad)
        if bias.requires_grad:
            grad_bias = sum_to_shape(out_grad, bias.shape)
        return grad_x, grad_weight, grad_bias

    def jvp(self, tangents, node):
        x, weight, _ = node.inputs
        t_x, t_weight, t_bias = tangents
        out = broadcast_to(t_bias, node.shape)
        if type(t_x) is not ZeroTangent:
            out = out + matmul(t_x, weight)
        if type(t_weight) is not ZeroTangent:
            out = out + matmul(x, t_weight)
        return out


def linear(x, weight, bias=None):
    """x @ weight + bias, one node (PyTorch's functional name; weight is (in, out) as in needle)."""
    if bias is None:
        return matmul(x, weight)
    return Affine()(x, weight, bias)


class SoftmaxCrossEntropy(TensorOp):
    """Mean over the batch of logsumexp(z_i) − z_i[y_i]: logits (N, C), integer labels (N,) -> ().

    Stable (the row max is subtracted). z̄ = ḡ·(softmax(z) − onehot(y)) / N; labels get no adjoint.
    The forward pass keeps softmax(z), which the rules reuse as the data of a recorded softmax node.
    """

    def compute(self, logits, labels):
        if logits.ndim != 2 or labels.shape != logits.shape[:1] or 0 in logits.shape:
            raise ValueError(
                f"softmax_cross_entropy: logits {logits.shape} and labels {labels.shape}: "
                "expected non-empty logits (N, C) and labels (N,)"
            )
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"softmax_cross_entropy: labels must be integers, got {labels.dtype}")
        low = labels.min() if labels.dtype.kind == "i" else 0  # unsigned labels are never negative
        if low < 0 or labels.max() >= logits.shape[1]:
            raise ValueError(
                f"softmax_cross_entropy: labels must lie in [0, {logits.shape[1]}), "
                f"got {labels.min()}..{labels.max()}"
            )
        shifted = logits - logits.max(axis=1, keepdims=True)
        powers = np.exp(shifted)
        norm = powers.sum(axis=1, keepdims=True)
        # Kept with the logits it belongs to: an op object may be called again on other inputs.
        self._softmax = (logits, powers / norm)
        picked = shifted[np.arange(len(labels)), labels]
        return np.asarray((np.log(norm[:, 0]) - picked).mean(), dtype=logits.dtype)

    def _residual(self, node):
        """softmax(z) − onehot(y), the per-row derivative of the loss before the 1/N."""
        logits, labels = node.inputs
        seen, probabilities = getattr(self, "_softmax", (None, None))
        kept = probabilities if seen is logits.cached_data else None
        minus_onehot = np.zeros(logits.shape, dtype=logits.dtype)
        minus_onehot[np.arange(logits.shape[0]), labels.cached_data] = -1
        return Tensor.make_from_op(Softmax(1), (logits,), kept) + Tensor.make_const(minus_onehot)

    def gradient(self, out_grad, node):
        batch = node.inputs[0].shape[0]
        return self._residual(node) * (out_grad / batch), None

    def jvp(self, tangents, node):
        batch = node.inputs[0].shape[0]
        return summation(self._residual(node) * tangents[0]) / batch


def softmax_cross_entropy(logits, labels):
    return SoftmaxCrossEntropy()(logits, labels)
