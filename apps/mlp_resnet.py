"""The course's MLP-ResNet for MNIST (built by needle.cli.models), and its epoch and training functions."""
import numpy as np

import needle as ndl
from needle.cli.epoch import run_epoch
from needle.cli.models import MLPResNet, ResidualBlock

__all__ = ["ResidualBlock", "MLPResNet", "epoch", "train_mnist"]


def epoch(dataloader, model, opt=None):
    """One pass over `dataloader`: trains when `opt` is given, else evaluates; (error rate, mean loss).

    needle: seeds NumPy's global RNG with 4 first, so dropout masks repeat from call to call.
    Images are flattened to (B, features); the loss is the mean over samples, not over batches.
    """
    np.random.seed(4)
    return run_epoch(dataloader, model, opt)


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
