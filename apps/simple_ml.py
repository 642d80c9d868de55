"""Softmax regression and a two-layer network on MNIST, the course's first exercises.

Two families: NumPy-only epochs whose gradients are derived by hand (`softmax_regression_epoch`,
`nn_epoch_numpy`), and the needle versions where autograd finds them (`softmax_loss`, `nn_epoch`,
`loss_err`). Labels are integers; one-hot matrices are built here where the needle loss needs them.
"""
import numpy as np

import needle as ndl
from needle.cli.language import run_language_epoch
from needle.data import parse_mnist

__all__ = [
    "parse_mnist", "softmax", "softmax_regression_epoch", "nn_epoch_numpy", "softmax_loss", "nn_epoch",
    "loss_err", "one_hot", "epoch_general_cifar10", "train_cifar10", "evaluate_cifar10",
    "epoch_general_ptb", "train_ptb", "evaluate_ptb",
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


def epoch_general_cifar10(dataloader, model, loss_fn=ndl.nn.SoftmaxLoss(), opt=None):
    """One pass over `dataloader`: training (model.train(), a step per batch) when `opt` is given,
    else evaluation (model.eval(), no graph). Returns (accuracy, mean loss) over the samples.

    needle: NumPy's global RNG is seeded with 4 first, as the course's version does.
    """
    np.random.seed(4)
    training = opt is not None
    model.train() if training else model.eval()
    correct, total_loss, count = 0, 0.0, 0
    with ndl.enable_grad() if training else ndl.no_grad():
        for X, y in dataloader:
            logits = model(X)
            loss = loss_fn(logits, y)
            if training:
                opt.reset_grad()
                loss.backward(create_graph=False)
                opt.step()
            correct += int(np.sum(logits.numpy().argmax(axis=1) == y.numpy()))
            total_loss += float(loss.numpy()) * X.shape[0]
            count += X.shape[0]
    if count == 0:
        raise ValueError("epoch_general_cifar10: the data loader yielded no samples")
    return correct / count, total_loss / count


def train_cifar10(model, dataloader, n_epochs=1, optimizer=ndl.optim.Adam, lr=0.001, weight_decay=0.001,
                  loss_fn=ndl.nn.SoftmaxLoss):
    """`n_epochs` training passes with `optimizer(model.parameters(), lr=lr, weight_decay=weight_decay)`
    and the loss `loss_fn()`; returns (accuracy, mean loss) of the last epoch."""
    np.random.seed(4)
    opt = optimizer(model.parameters(), lr=lr, weight_decay=weight_decay)
    result = None
    for _ in range(n_epochs):
        result = epoch_general_cifar10(dataloader, model, loss_fn(), opt)
    if result is None:
        raise ValueError(f"train_cifar10: n_epochs must be at least 1, got {n_epochs}")
    return result


def evaluate_cifar10(model, dataloader, loss_fn=ndl.nn.SoftmaxLoss):
    """(accuracy, mean loss) of `model` in eval mode over `dataloader`, with the loss `loss_fn()`."""
    np.random.seed(4)
    return epoch_general_cifar10(dataloader, model, loss_fn())


def epoch_general_ptb(data, model, seq_len=40, loss_fn=ndl.nn.SoftmaxLoss(), opt=None, clip=None, device=None,
                      dtype="float32"):
    """One pass over batchified ids `data` (nbatch, bs) in chunks of `seq_len`, training when `opt` is
    given; returns (average accuracy, average loss) over every predicted token.

    needle: seeds NumPy's global RNG with 4 first. Truncated backpropagation through time: the hidden
    state is carried across chunks, detached; gradients are clipped to the global norm `clip` when
    given. Ids reach the model as Tensors of `dtype`, as the course's get_batch makes them.
    """
    np.random.seed(4)
    return run_language_epoch(np.asarray(data), model, seq_len, opt, clip, dtype=dtype, loss_fn=loss_fn, device=device)


def train_ptb(model, data, seq_len=40, n_epochs=1, optimizer=ndl.optim.SGD, lr=4.0, weight_decay=0.0,
              loss_fn=ndl.nn.SoftmaxLoss, clip=None, device=None, dtype="float32"):
    """`n_epochs` training passes of `model` over `data` with `optimizer`(lr, weight_decay); returns the
    last epoch's (average accuracy, average loss). `loss_fn` is a class, as in the course."""
    if isinstance(n_epochs, bool) or not isinstance(n_epochs, int) or n_epochs < 1:
        raise ValueError(f"train_ptb: n_epochs must be a positive integer, got {n_epochs!r}")
    np.random.seed(4)
    opt = optimizer(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(n_epochs):
        result = epoch_general_ptb(data, model, seq_len, loss_fn(), opt, clip, device, dtype)
    return result


def evaluate_ptb(model, data, seq_len=40, loss_fn=ndl.nn.SoftmaxLoss, device=None, dtype="float32"):
    """(average accuracy, average loss) of `model` on `data` in eval mode, no gradients."""
    np.random.seed(4)
    return epoch_general_ptb(data, model, seq_len, loss_fn(), None, None, device, dtype)
