"""Fused ops for the layers that dominate training: an affine map, softmax cross-entropy and the
standardisation inside batch and layer normalisation.

Each replaces a chain of small nodes with one, keeping rules built from needle ops, so the
adjoints are still differentiable.
"""
import numpy as np

from ..autograd import SavingOp, Tensor, TensorOp, ZeroTangent
from .broadcast import (
    broadcast_to, check_nonempty, mean_over, normalize_axes, reduced_count, sum_to_shape, summation,
)
from .linalg import batch_by_matrix, input_gradient, matmul, weight_gradient
from .reduction import Softmax, mean

__all__ = [
    "Affine", "linear", "SoftmaxCrossEntropy", "softmax_cross_entropy", "SoftmaxCrossEntropyDerivative",
    "softmax_cross_entropy_derivative", "Standardize", "standardize", "StandardizeProjection",
    "standardize_projection", "InverseStd", "inverse_std",
]


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
        out = batch_by_matrix(x, weight)
        out += bias  # in place: the product is a fresh array
        return out

    def gradient(self, out_grad, node):
        x, weight, bias = node.inputs
        grad_x = grad_weight = grad_bias = None
        # Only the adjoints someone needs: the input batch's would cost a whole product.
        if x.requires_grad:
            grad_x = input_gradient(out_grad, weight)
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


class SoftmaxCrossEntropy(SavingOp):
    """Mean over the batch of logsumexp(z_i) − z_i[y_i]: logits (N, C), integer labels (N,) -> ().

    Stable (the row max is subtracted). z̄ = ḡ·(softmax(z) − onehot(y)) / N: one
    `SoftmaxCrossEntropyDerivative` node times ḡ, over the softmax saved on the node. Labels
    get no adjoint.
    """

    def compute_saving(self, logits, labels):
        _check_logits_and_labels("softmax_cross_entropy", logits, labels)
        shifted = logits - logits.max(axis=1, keepdims=True)
        try:  # a label past the last class fails here
            picked = shifted[np.arange(len(labels)), labels]
        except IndexError:
            raise _label_range_error("softmax_cross_entropy", logits, labels) from None
        powers = np.exp(shifted)
        norm = powers.sum(axis=1, keepdims=True)
        loss = (np.log(norm[:, 0]) - picked).sum() / len(labels)  # a NumPy scalar of the logits' dtype
        return loss, powers / norm

    def _derivative(self, node):
        """∂ℓ/∂z as one recorded node, over the softmax this node saved."""
        logits, labels = node.inputs
        probs = node.saved
        derivative = _softmax_minus_onehot("softmax_cross_entropy", probs, logits.cached_data, labels.cached_data)
        return SoftmaxCrossEntropyDerivative().make_node(node.inputs, derivative, probs)

    def gradient(self, out_grad, node):
        return self._derivative(node) * out_grad, None

    def jvp(self, tangents, node):
        return summation(self._derivative(node) * tangents[0])


def softmax_cross_entropy(logits, labels):
    return SoftmaxCrossEntropy()(logits, labels)


class SoftmaxCrossEntropyDerivative(SavingOp):
    """∂ℓ/∂z = (softmax(z) − onehot(y)) / N of the mean softmax cross-entropy ℓ: logits (N, C),
    integer labels (N,) -> (N, C).

    Its rules are softmax's over N (the one-hot is constant; labels get no adjoint):
    z̄ = s·(v − Σ v·s)/N and ż ↦ s·(ż − Σ ż·s)/N, row sums, s = softmax(z) (saved on the node).
    """

    def compute_saving(self, logits, labels):
        name = "softmax_cross_entropy_derivative"
        _check_logits_and_labels(name, logits, labels)
        probs = Softmax(1).compute(logits)
        return _softmax_minus_onehot(name, probs, logits, labels), probs

    def _softmax_node(self, node):
        """softmax(z) as a recorded node whose data is the softmax saved on this node."""
        return Tensor.make_from_op(Softmax(1), node.inputs[:1], node.saved)

    def gradient(self, out_grad, node):
        return Softmax(1).gradient(out_grad / node.shape[0], self._softmax_node(node)), None

    def jvp(self, tangents, node):
        return Softmax(1).jvp((tangents[0] / node.shape[0],), self._softmax_node(node))


def softmax_cross_entropy_derivative(logits, labels):
    return SoftmaxCrossEntropyDerivative()(logits, labels)


def _softmax_minus_onehot(name, probs, logits, labels):
    """(probs − onehot(labels)) / N as a new array."""
    batch = len(labels)
    derivative = probs / batch
    try:
        derivative[np.arange(batch), labels] -= 1 / batch
    except IndexError:
        raise _label_range_error(name, logits, labels) from None
    return derivative


def _check_logits_and_labels(name, logits, labels):
    """Non-empty logits (N, C) and integer labels (N,), none negative (NumPy would wrap it around)."""
    if logits.ndim != 2 or labels.shape != logits.shape[:1] or 0 in logits.shape:
        raise ValueError(
            f"{name}: logits {logits.shape} and labels {labels.shape}: "
            "expected non-empty logits (N, C) and labels (N,)"
        )
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name}: labels must be integers, got {labels.dtype}")
    if labels.dtype.kind == "i" and labels.min() < 0:
        raise _label_range_error(name, logits, labels)


def _label_range_error(name, logits, labels):
    return ValueError(
        f"{name}: labels must lie in [0, {logits.shape[1]}), got {labels.min()}..{labels.max()}"
    )


def _moments(name, a, axes):
    """(mean μ, a − μ, biased variance σ²) of `a` over `axes`; μ and σ² keep the axes as size 1."""
    axes = normalize_axes(name, axes, a.shape)
    check_nonempty(name, a.shape, axes)
    average = mean_over(a, axes)
    centered = a - average
    return average, centered, mean_over(centered * centered, axes)


def _standardized(name, a, axes, eps):
    """(x̂, (μ, σ², s)) of `a` over `axes`: x̂ = (a − μ)/√(σ² + eps) and s = 1/√(σ² + eps)."""
    average, centered, var = _moments(name, a, axes)
    std = np.sqrt(var + eps)
    return centered / std, (average, var, 1 / std)


class Standardize(SavingOp):
    """x̂ = (a − μ)·s over `axes`: μ the mean, s = (σ² + eps)^(−1/2), σ² the biased variance.

    The core of batch norm (axes 0) and layer norm (axes −1); same shape and dtype as `a`. The
    Jacobian is symmetric, so ā = P(ḡ) and ẋ̂ = P(ȧ), P the `standardize_projection` of `a`. The
    node saves (μ, σ², s), axes kept as size 1: batch norm's running statistics read μ and σ², and
    the rules' projection node reuses x̂ and s instead of computing them again.
    """

    def __init__(self, axes, eps=1e-5):
        self.axes = axes
        self.eps = eps

    def compute_saving(self, a):
        return _standardized("standardize", a, self.axes, self.eps)

    def _project(self, v, node):
        """P(v) as one `standardize_projection` node of (v, a), computed from this node's x̂ and s."""
        op = StandardizeProjection(self.axes, self.eps)
        inputs = (v, node.inputs[0])
        projected = op.compute_with_saved(node.cached_data, node.saved, v.cached_data, inputs[1].cached_data)
        return Tensor.make_from_op(op, inputs, projected)

    def gradient(self, out_grad, node):
        return self._project(out_grad, node)

    def jvp(self, tangents, node):
        return self._project(tangents[0], node)


def standardize(a, axes, eps=1e-5):
    return Standardize(axes, eps)(a)


class StandardizeProjection(TensorOp):
    """P(v) = s·(v − mean(v) − x̂·mean(v·x̂)) with x̂ = standardize(a) and s = inverse_std(a), means
    over `axes`: v, a of one shape -> that shape. Standardize's Jacobian, so its adjoint and tangent.

    Linear in v and symmetric, so v̄ = P(ḡ). Through a, with m = mean(v·x̂) and y the output:
    ā = P(−s·(ḡ·m + v·mean(ḡ·x̂))) − s·x̂·mean(ḡ·y) and ẏ = P(v̇) − s·(y·mean(x̂·ȧ) + ẋ̂·m + x̂·mean(v·ẋ̂))
    with ẋ̂ = P(ȧ); x̂ and s are recorded nodes of a.
    """

    def __init__(self, axes, eps=1e-5):
        self.axes = axes
        self.eps = eps

    def compute(self, v, a):
        return self.compute_with_saved(*_standardized("standardize_projection", a, self.axes, self.eps), v, a)

    def compute_with_saved(self, standardized, saved, v, a):
        """`compute`'s result from `standardize(a)` already made: its x̂ and saved (μ, σ², s)."""
        if v.shape != a.shape:
            raise ValueError(f"standardize_projection: v {v.shape} and a {a.shape} must have one shape")
        axes = normalize_axes("standardize_projection", self.axes, a.shape)
        out = np.subtract(v, mean_over(v, axes), dtype=np.result_type(v, standardized))
        out -= standardized * mean_over(v * standardized, axes)
        out *= saved[2]
        return out

    def _mean(self, x):
        return mean(x, self.axes, keepdims=True)

    def _standardized_and_inverse(self, a):
        """x̂ and s as recorded nodes of a (s: an `inverse_std` node over the s x̂ saved)."""
        standardized = standardize(a, self.axes, self.eps)
        inverse = Tensor.make_from_op(InverseStd(self.axes, self.eps), (a,), standardized.saved[2])
        return standardized, inverse

    def gradient(self, out_grad, node):
        v, a = node.inputs
        grad_v = grad_a = None
        if v.requires_grad:
            grad_v = self(out_grad, a)
        if a.requires_grad:
            standardized, inverse = self._standardized_and_inverse(a)
            grad_standardized = -inverse * (out_grad * self._mean(v * standardized)
                                            + v * self._mean(out_grad * standardized))
            grad_a = self(grad_standardized, a) - inverse * standardized * self._mean(out_grad * node)
        return grad_v, grad_a

    def jvp(self, tangents, node):
        v, a = node.inputs
        t_v, t_a = tangents
        if type(t_a) is ZeroTangent:
            return self(t_v, a)
        standardized, inverse = self._standardized_and_inverse(a)
        t_standardized = self(t_a, a)
        change = -inverse * (
            node * self._mean(standardized * t_a)
            + t_standardized * self._mean(v * standardized)
            + standardized * self._mean(v * t_standardized)
        )
        return change if type(t_v) is ZeroTangent else self(t_v, a) + change


def standardize_projection(v, a, axes, eps=1e-5):
    return StandardizeProjection(axes, eps)(v, a)


class InverseStd(TensorOp):
    """s = (σ² + eps)^(−1/2) over `axes`, kept as size 1: one over the standard deviation.

    ∂s/∂a = −s²·x̂/n with x̂ = standardize(a) and n the number of entries averaged, so
    ā = −x̂·ḡ·s²/n and ṡ = −s²·mean(x̂·ȧ).
    """

    def __init__(self, axes, eps=1e-5):
        self.axes = axes
        self.eps = eps

    def compute(self, a):
        _, _, var = _moments("inverse_std", a, self.axes)
        return 1 / np.sqrt(var + self.eps)

    def _count(self, shape):
        return reduced_count(shape, normalize_axes("inverse_std", self.axes, shape))

    def gradient(self, out_grad, node):
        (a,) = node.inputs
        return standardize(a, self.axes, self.eps) * (out_grad * node * node / -self._count(a.shape))

    def jvp(self, tangents, node):
        (a,) = node.inputs
        standardized = standardize(a, self.axes, self.eps)
        return -(node * node) * mean(standardized * tangents[0], self.axes, keepdims=True)


def inverse_std(a, axes, eps=1e-5):
    return InverseStd(axes, eps)(a)
