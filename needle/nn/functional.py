"""The functional forms of the layers and losses (`import needle.nn.functional as F`).

Each layer's `forward` calls its function here, so there is one implementation. Inputs may be
Tensors, NumPy arrays or Python numbers (arrays and numbers are constants). Losses take
`reduction='mean' | 'sum' | 'none'` as in PyTorch.
"""
import math

import numpy as np

from .. import init, ops
from ..autograd import Tensor, as_tensor
from .embedding import token_ids

__all__ = [
    "linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "gelu", "silu", "leaky_relu", "elu",
    "softplus", "dropout", "embedding", "layer_norm", "batch_norm", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "cross_entropy", "nll_loss",
    "binary_cross_entropy_with_logits", "l1_loss", "mse_loss", "huber_loss",
]

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(name, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(name, loss, reduction):
    check_reduction(name, reduction)
    if reduction == "mean":
        return ops.mean(loss)
    if reduction == "sum":
        return ops.summation(loss)
    return loss


# ---- layers ----------------------------------------------------------------------------------


def linear(x, weight, bias=None):
    """x @ weight + bias. needle: the weight is (in, out), the transpose of PyTorch's (out, in)."""
    return ops.linear(as_tensor("linear", x), weight, bias)


def relu(x):
    return ops.relu(as_tensor("relu", x))


def sigmoid(x):
    return ops.sigmoid(as_tensor("sigmoid", x))


def tanh(x):
    return ops.tanh(as_tensor("tanh", x))


def softmax(x, dim=-1):
    """e^x / Σ_dim e^x, the max subtracted first."""
    return ops.softmax(as_tensor("softmax", x), dim)


def log_softmax(x, dim=-1):
    """x − logsumexp_dim(x): one fused node along the last axis, composed along any other."""
    x = as_tensor("log_softmax", x)
    if x.ndim >= 1 and dim in (-1, x.ndim - 1):
        return ops.logsoftmax(x)
    return x - ops.logsumexp(x, dim, keepdims=True)


def gelu(x, approximate="none"):
    """x·Φ(x), Φ the standard normal CDF: x·(1 + erf(x/√2))/2 ('none', needs SciPy), or
    x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))/2 ('tanh')."""
    x = as_tensor("gelu", x)
    if approximate == "none":
        return x * (ops.erf(x * (1 / math.sqrt(2))) + 1) * 0.5
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2 / math.pi)
        return x * (ops.tanh(inner) + 1) * 0.5
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x):
    """x·σ(x) (also called swish)."""
    x = as_tensor("silu", x)
    return x * ops.sigmoid(x)


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope·x (the slope at 0, as in PyTorch)."""
    x = as_tensor("leaky_relu", x)
    return ops.where(x.cached_data > 0, x, x * negative_slope)


def elu(x, alpha=1.0):
    """x where x > 0, else alpha·(e^x − 1)."""
    x = as_tensor("elu", x)
    positive = x.cached_data > 0
    # e^x only of the non-positive part: e^(1e4) would overflow, and 0·inf in the adjoint is NaN.
    negative_part = ops.where(positive, 0.0, x)
    return ops.where(positive, x, (ops.exp(negative_part) - 1) * alpha)


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + e^(βx))/β, and x itself where βx > threshold (PyTorch's switch to linear)."""
    x = as_tensor("softplus", x)
    return ops.where(x.cached_data * beta > threshold, x, ops.softplus(x, beta))


def embedding(input, weight):  # noqa: A002  (PyTorch's name)
    """Rows of `weight` (num_embeddings, dim) picked by the ids in `input` (any shape, integers or
    integral floats, each in [0, num_embeddings)): input.shape + (dim,). The ids get no gradient."""
    return ops.getitem(weight, token_ids("embedding", input, weight.shape[0]))


def dropout(x, p=0.5, training=True):
    """Training: x·(mask/(1 − p)), mask ~ Bernoulli(1 − p) drawn by `init.randb`. Otherwise x.

    With p = 1 every entry is dropped (y = 0), with p = 0 none (y is x); the draw is still made,
    so the RNG stream does not depend on p. The mask is scaled before the product, as in PyTorch:
    one pass over x forward and one backward (workload 9 drops four times per layer).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: invalid probability p={p!r}; must be in [0, 1]")
    x = as_tensor("dropout", x)
    if not training:
        return x
    keep = init.randb(*x.shape, p=1.0 - p).cached_data
    if p == 0.0:
        return x
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    scaled = np.multiply(keep, 0.0 if p == 1.0 else 1.0 / (1.0 - p), dtype=dtype)
    return x * Tensor.make_const(scaled)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x − E[x])/√(Var[x] + eps)·weight + bias over the trailing `normalized_shape` axes (biased Var)."""
    x = as_tensor("layer_norm", x)
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    count = len(normalized_shape)
    if count == 0 or x.shape[x.ndim - count:] != normalized_shape or x.ndim < count:
        raise ValueError(f"layer_norm: input of shape {x.shape} does not end in {normalized_shape}")
    return _affine(ops.standardize(x, tuple(range(-count, 0)), eps), weight, bias)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """Per feature (axis 1 of (batch, features), or of (N, C, …) as in PyTorch): (x − μ)/√(σ² + eps)·weight + bias.

    Training: μ, σ² are the batch's mean and biased variance, and the running statistics (when
    given) are updated in place, running ← (1 − momentum)·running + momentum·observed. needle: the
    biased variance goes into `running_var` (the course's rule; PyTorch stores the unbiased one).
    Otherwise μ, σ² are `running_mean` and `running_var`. (N, C, …) input is normalised per channel
    over all other axes by one `channel_norm` node, which keeps the input's memory layout.
    """
    x = as_tensor("batch_norm", x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (batch, features) or (N, C, ...), got {x.shape}")
    if x.ndim > 2:
        return _batch_norm_channels(x, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation needs running_mean and running_var")
        normed = (x - running_mean) / ops.sqrt(running_var + eps)
        return _affine(normed, weight, bias)
    if x.shape[0] < 2:
        raise ValueError(f"batch_norm: training needs more than one value per feature, got input {x.shape}")
    normed = ops.standardize(x, 0, eps)  # one fused node; it saves the batch moments
    _update_running(running_mean, running_var, *normed.saved[:2], momentum)
    return _affine(normed, weight, bias)


def _update_running(running_mean, running_var, mean, var, momentum):
    for running, observed in ((running_mean, mean), (running_var, var)):
        if running is not None:  # in place: two NumPy calls per statistic and layer
            stats = running.cached_data
            if type(stats) is not np.ndarray or not stats.flags.writeable:
                stats = running.cached_data = np.array(stats)
            stats *= 1.0 - momentum
            stats += momentum * observed.reshape(stats.shape)
            running.bump_version()


def _batch_norm_channels(x, running_mean, running_var, weight, bias, training, momentum, eps):
    """batch_norm of (N, C, …) per channel (axis 1)."""
    channels = x.shape[1]
    ones, zeros = np.ones(channels, dtype=x.dtype), np.zeros(channels, dtype=x.dtype)
    weight = ones if weight is None else weight
    bias = zeros if bias is None else bias
    if training:
        if x.size == channels:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got input {x.shape}")
        out = ops.channel_norm(x, weight, bias, 1, eps)  # one node; it saves the batch moments
        _update_running(running_mean, running_var, *out.saved[:2], momentum)
        return out
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: evaluation needs running_mean and running_var")
    # y = x·scale + shift per channel, the (C,) factors formed first (two passes over x).
    scale = as_tensor("batch_norm", weight, x) / ops.sqrt(as_tensor("batch_norm", running_var, x) + eps)
    shift = as_tensor("batch_norm", bias, x) - as_tensor("batch_norm", running_mean, x) * scale
    per_channel = (channels,) + (1,) * (x.ndim - 2)
    return x * ops.reshape(scale, per_channel) + ops.reshape(shift, per_channel)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Maximum over each window of NCHW (or CHW) x, padding −∞; ties send the adjoint to the first maximum."""
    return ops.max_pool2d(as_tensor("max_pool2d", x), kernel_size, stride, padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each window of NCHW (or CHW) x; padded zeros count (PyTorch's count_include_pad=True)."""
    return ops.avg_pool2d(as_tensor("avg_pool2d", x), kernel_size, stride, padding)


def adaptive_avg_pool2d(x, output_size):
    """Mean over an even (oh, ow) grid of NCHW x: (N, C, H, W) → (N, C, oh, ow). needle: oh and ow must
    divide H and W (PyTorch's uneven windows are not built); output_size 1 is global average pooling."""
    x = as_tensor("adaptive_avg_pool2d", x)
    out_h, out_w = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if x.ndim != 4:
        raise ValueError(f"adaptive_avg_pool2d: expected NCHW input, got shape {x.shape}")
    n, c, h, w = x.shape
    if out_h < 1 or out_w < 1 or h % out_h or w % out_w:
        raise ValueError(
            f"adaptive_avg_pool2d: output size ({out_h}, {out_w}) must divide the input's (H, W) = ({h}, {w}); "
            "uneven windows are not supported"
        )
    if (out_h, out_w) == (1, 1):
        return ops.mean(x, (2, 3), keepdims=True)
    cells = x.reshape((n, c, out_h, h // out_h, out_w, w // out_w))
    return ops.mean(cells, (3, 5))


def _affine(normed, weight, bias):
    """weight·normed + bias, each optional, broadcast by the elementwise ops."""
    if weight is not None:
        normed = weight * normed
    if bias is not None:
        normed = normed + bias
    return normed


# ---- losses ----------------------------------------------------------------------------------


def class_indices(name, logits, target, check_range=True):
    """`target` as a constant integer Tensor of labels (N,) for logits (N, C); floats holding whole
    numbers are accepted (the course's SoftmaxLoss takes them). `check_range`: refuse labels outside
    [0, C) (the fused loss checks them itself)."""
    labels = target.cached_data if isinstance(target, Tensor) else np.asarray(target)
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(
            f"{name}: expected logits (N, C) and integer targets (N,), got {logits.shape} and {labels.shape}"
        )
    if labels.dtype.kind not in "iu":
        if not np.array_equal(labels, np.round(labels)):
            raise TypeError(f"{name}: targets must be whole class indices, got {labels.dtype} values")
        labels = labels.astype(np.int64)
    classes = logits.shape[1]
    if check_range and labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"{name}: targets must lie in [0, {classes}), got {labels.min()}..{labels.max()}")
    if isinstance(target, Tensor) and labels is target.cached_data:
        return target
    return Tensor.make_const(labels)


def _one_hot(labels, classes, dtype):
    """A constant (N, classes) one-hot of integer labels (N,)."""
    out = np.zeros((labels.shape[0], classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels.cached_data] = 1
    return Tensor.make_const(out)


def cross_entropy(input, target, reduction="mean", label_smoothing=0.0):  # noqa: A002  (PyTorch's name)
    """−Σ_c q_c·log softmax(input)_c per row, logits (N, C); target: integer labels (N,), or class
    probabilities (N, C) (floats of the logits' shape).

    With labels, q = (1 − ε)·onehot(target) + ε/C, ε = label_smoothing, as in PyTorch. The
    unsmoothed mean is one fused node (`ops.softmax_cross_entropy`).
    """
    check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    logits = as_tensor("cross_entropy", input)
    target_array = target.cached_data if isinstance(target, Tensor) else np.asarray(target)
    if target_array.dtype.kind == "f" and target_array.shape == logits.shape and logits.ndim == 2:
        classes = logits.shape[1]
        q = _constant_like(target, logits) * (1 - label_smoothing) + label_smoothing / classes
        return _reduce("cross_entropy", -ops.summation(q * log_softmax(logits), 1), reduction)
    if reduction == "mean" and label_smoothing == 0.0:  # one fused node, which checks the labels
        return ops.softmax_cross_entropy(logits, class_indices("cross_entropy", logits, target, check_range=False))
    labels = class_indices("cross_entropy", logits, target)
    classes = logits.shape[1]
    q = _one_hot(labels, classes, logits.dtype) * (1 - label_smoothing) + label_smoothing / classes
    return _reduce("cross_entropy", -ops.summation(q * ops.logsoftmax(logits), 1), reduction)


def nll_loss(input, target, reduction="mean"):  # noqa: A002  (PyTorch's name)
    """−input[i, target_i] per row: the negative log-likelihood of log-probabilities (N, C)."""
    log_probs = as_tensor("nll_loss", input)
    labels = class_indices("nll_loss", log_probs, target)
    picked = ops.summation(log_probs * _one_hot(labels, log_probs.shape[1], log_probs.dtype), 1)
    return _reduce("nll_loss", -picked, reduction)


def _constant_like(target, like):
    """A Tensor target as it is; an array or number as a constant of `like`'s floating dtype."""
    if isinstance(target, Tensor):
        return target
    dtype = like.dtype if like.dtype.kind == "f" else None
    return Tensor.make_const(np.asarray(target, dtype=dtype))


def _pair(name, input, target):
    """(input, target) as Tensors of one shape; PyTorch's losses would broadcast them with a warning."""
    input = as_tensor("_pair", input)
    target = _constant_like(target, input)
    if input.shape != target.shape:
        raise ValueError(f"{name}: input {input.shape} and target {target.shape} differ in shape")
    return input, target


def binary_cross_entropy_with_logits(input, target, reduction="mean"):  # noqa: A002
    """softplus(z) − z·y per entry, z the logits and y ∈ [0, 1]: −y·log σ(z) − (1 − y)·log(1 − σ(z)),
    stable for any z."""
    logits, target = _pair("binary_cross_entropy_with_logits", input, target)
    return _reduce("binary_cross_entropy_with_logits", softplus(logits, threshold=math.inf) - logits * target,
                   reduction)


def l1_loss(input, target, reduction="mean"):  # noqa: A002  (PyTorch's name)
    """|input − target| per entry."""
    input, target = _pair("l1_loss", input, target)
    return _reduce("l1_loss", ops.abs(input - target), reduction)


def mse_loss(input, target, reduction="mean"):  # noqa: A002  (PyTorch's name)
    """(input − target)² per entry."""
    input, target = _pair("mse_loss", input, target)
    difference = input - target
    return _reduce("mse_loss", difference * difference, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):  # noqa: A002  (PyTorch's name)
    """d²/2 where |d| < delta, else delta·(|d| − delta/2), with d = input − target."""
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta!r}")
    input, target = _pair("huber_loss", input, target)
    difference = input - target
    size = ops.abs(difference)
    quadratic = difference * difference * 0.5
    linear_part = (size - 0.5 * delta) * delta
    return _reduce("huber_loss", ops.where(size.cached_data < delta, quadratic, linear_part), reduction)
