"""Softmax regression and a two-layer network on MNIST, the course's first exercises.

Two families: NumPy-only epochs whose gradients are derived by hand (`softmax_regression_epoch`,
`nn_epoch_numpy`), and the needle versions where autograd finds them (`softmax_loss`, `nn_epoch`,
`loss_err`). Labels are integers; one-hot matrices are built here where the needle loss needs them.
"""
import numpy as np

import needle as ndl
from needle.data import parse_mnist

__all__ = [
    "parse_mnist", "softmax", "softmax_regression_epoch", "nn_epoch_numpy", "softmax_loss", "nn_epoch",
    "loss_err", "one_hot",
]


def one_hot(y, num_classes, dtype="float32"):
    """(N, k) array with row i equal to the unit vector e_{y_i}; y holds integer labels (N,)."""
    return np.eye(num_classes, dtype=dtype)[np.asarray(y)]


def softmax(Z):
    """Row-wise softmax of a NumPy array (N, k): exp(Z - max) / Σ exp(Z - max), stable for large Z."""
    shifted = np.exp(Z - Z.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def softmax_regression_epoch(X, y, theta, lr=0.1, batch=100):
    """One SGD epoch of softmax regression in NumPy, updating `theta` (n, k) in place.

    Minibatches of `batch` rows in order; each step is θ ← θ − lr/B · Xᵀ(softmax(Xθ) − I_y), the
    gradient of the mean cross-entropy. X (N, n) float, y (N,) integer labels.
    """
    for start in range(0, X.shape[0], batch):
        inputs, labels = X[start:start + batch], y[start:start + batch]
        residual = softmax(inputs @ theta)
        residual[np.arange(len(labels)), labels] -= 1
        theta -= (lr / len(labels)) * (inputs.T @ residual)


def nn_epoch_numpy(X, y, W1, W2, lr=0.1, batch=100):
    """One SGD epoch of logits = relu(X W1) W2 in NumPy with hand-derived gradients, in place.

    With H = relu(X W1), G2 = softmax(H W2) − I_y and G1 = 1[H > 0] ⊙ (G2 W2ᵀ), each step is
    W1 ← W1 − lr/B · Xᵀ G1 and W2 ← W2 − lr/B · Hᵀ G2. W1 (n, d), W2 (d, k); batches in order.
    """
    for start in range(0, X.shape[0], batch):
        inputs, labels = X[start:start + batch], y[start:start + batch]
        hidden = np.maximum(inputs @ W1, 0)
        grad_logits = softmax(hidden @ W2)
        grad_logits[np.arange(len(labels)), labels] -= 1
        grad_hidden = (hidden > 0) * (grad_logits @ W2.T)
        step = lr / len(labels)
        W1 -= step * (inputs.T @ grad_hidden)
        W2 -= step * (hidden.T @ grad_logits)


def softmax_loss(Z, y_one_hot):
    """Mean cross-entropy of logits Z (N, k) against one-hot targets (N, k): mean(log Σ exp Z − Σ Z·y).

    Both are Tensors; the result is a 0-d Tensor.
    """
    true_logits = ndl.summation(Z * y_one_hot, axes=(1,))
    return ndl.summation(ndl.logsumexp(Z, axes=(1,)) - true_logits) / Z.shape[0]


def nn_epoch(X, y, W1, W2, lr=0.1, batch=100):
    """One SGD epoch of logits = relu(X W1) W2 with needle's autograd; returns the new (W1, W2).

    X (N, n) and y (N,) are NumPy arrays, W1 (n, d) and W2 (d, k) Tensors. Minibatches run in order;
    after each backward pass the weights become fresh leaves W − lr·∇W computed in NumPy.
    """
    for start in range(0, X.shape[0], batch):
        inputs = ndl.Tensor(X[start:start + batch], requires_grad=False)
        targets = ndl.Tensor(one_hot(y[start:start + batch], W2.shape[1], W2.dtype), requires_grad=False)
        loss = softmax_loss(ndl.relu(inputs @ W1) @ W2, targets)
        loss.backward(create_graph=False)
        W1 = ndl.Tensor(W1.numpy() - lr * W1.grad.numpy())
        W2 = ndl.Tensor(W2.numpy() - lr * W2.grad.numpy())
    return W1, W2


def loss_err(h, y):
    """(mean softmax loss, error rate) of logits h (N, k), a Tensor or array, against labels y (N,)."""
    logits = ndl.Tensor(h, requires_grad=False)
    targets = ndl.Tensor(one_hot(y, logits.shape[1], logits.dtype), requires_grad=False)
    loss = softmax_loss(logits, targets).numpy()
    return loss, np.mean(logits.numpy().argmax(axis=1) != np.asarray(y))
