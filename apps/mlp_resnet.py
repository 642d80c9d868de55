"""An MLP with residual blocks for MNIST, and the course's epoch and training functions."""
import contextlib

import numpy as np

import needle as ndl
import needle.nn as nn

__all__ = ["ResidualBlock", "MLPResNet", "epoch", "train_mnist"]


def ResidualBlock(dim, hidden_dim, norm=nn.BatchNorm1d, drop_prob=0.1):
    """(B, dim) → (B, dim): relu(x + norm(W2 · dropout(relu(norm(W1 x))))), W1: dim → hidden_dim."""
    return nn.Sequential(
        nn.Residual(
            nn.Sequential(
                nn.Linear(dim, hidden_dim),
                norm(hidden_dim),
                nn.ReLU(),
                nn.Dropout(drop_prob),
                nn.Linear(hidden_dim, dim),
                norm(dim),
            )
        ),
        nn.ReLU(),
    )


def MLPResNet(dim, hidden_dim=100, num_blocks=3, num_classes=10, norm=nn.BatchNorm1d, drop_prob=0.1):
    """(B, dim) → logits (B, num_classes): Linear, ReLU, `num_blocks` residual blocks, Linear.

    Each block works at width hidden_dim with an inner width hidden_dim // 2. Layers are built in
    the order they run, so their initial weights draw from the RNG in that order.
    """
    return nn.Sequential(
        nn.Linear(dim, hidden_dim),
        nn.ReLU(),
        *[ResidualBlock(hidden_dim, hidden_dim // 2, norm, drop_prob) for _ in range(num_blocks)],
        nn.Linear(hidden_dim, num_classes),
    )


def epoch(dataloader, model, opt=None):
    """One pass over `dataloader`: trains when `opt` is given, else evaluates; (error rate, mean loss).

    needle: seeds NumPy's global RNG with 4 first, so dropout masks repeat from call to call.
    Images are flattened to (B, features); the loss is the mean over samples, not over batches.
    """
    np.random.seed(4)
    training = opt is not None
    model.train() if training else model.eval()
    loss_fn = nn.SoftmaxLoss()
    errors, total_loss, count = 0, 0.0, 0
    with contextlib.nullcontext() if training else ndl.no_grad():
        for X, y in dataloader:
            X = X.reshape((X.shape[0], -1))
            logits = model(X)
            loss = loss_fn(logits, y)
            if training:
                opt.reset_grad()
                loss.backward(create_graph=False)
                opt.step()
            errors += int(np.sum(logits.numpy().argmax(axis=1) != y.numpy()))
            total_loss += float(loss.numpy()) * X.shape[0]
            count += X.shape[0]
    return errors / count, total_loss / count


def train_mnist(
    batch_size=100,
    epochs=10,
    optimizer=ndl.optim.Adam,
    lr=0.001,
    weight_decay=0.001,
    hidden_dim=100,
    data_dir="data",
):
    """Train MLPResNet(784, hidden_dim) on MNIST's train files in `data_dir`, then test on t10k.

    Seeds NumPy's global RNG with 4; returns (train error, train loss) of the last epoch followed by
    (test error, test loss).
    """
    np.random.seed(4)
    train_set = ndl.data.MNISTDataset(
        f"{data_dir}/train-images-idx3-ubyte.gz", f"{data_dir}/train-labels-idx1-ubyte.gz"
    )
    test_set = ndl.data.MNISTDataset(
        f"{data_dir}/t10k-images-idx3-ubyte.gz", f"{data_dir}/t10k-labels-idx1-ubyte.gz"
    )
    train_loader = ndl.data.DataLoader(train_set, batch_size, shuffle=True)
    test_loader = ndl.data.DataLoader(test_set, batch_size)
    model = MLPResNet(784, hidden_dim)
    opt = optimizer(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        train_error, train_loss = epoch(train_loader, model, opt)
    test_error, test_loss = epoch(test_loader, model)
    return train_error, train_loss, test_error, test_loss
