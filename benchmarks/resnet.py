"""Workload 5: one training epoch of needle-train's MLP-ResNet (BatchNorm, Dropout, Adam), needle vs PyTorch.

As in workload 1, each `*_resnet_epoch(X, y)` builds the model and returns `epoch()`, which trains
one shuffled epoch and returns the mean loss per example; only `epoch()` is timed.
"""
import numpy as np

import needle as ndl
from needle.cli.epoch import run_epoch
from needle.cli.models import MLPResNet

from .common import optional_import

BATCH = 100
HIDDEN = 100
BLOCKS = 3


def needle_resnet_epoch(X, y):
    np.random.seed(4)
    model = MLPResNet(784, HIDDEN, num_blocks=BLOCKS)
    opt = ndl.optim.Adam(model.parameters(), lr=0.001, weight_decay=0.001)
    loader = ndl.data.DataLoader(ndl.data.NDArrayDataset(X, y), batch_size=BATCH, shuffle=True)

    def train_one_epoch():
        error, loss = run_epoch(loader, model, opt)
        return float(loss)

    return train_one_epoch


def torch_resnet_epoch(X, y):
    torch = optional_import("torch")
    nn = torch.nn
    torch.manual_seed(4)

    def block(dim, hidden):
        inner = nn.Sequential(
            nn.Linear(dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(0.1),
            nn.Linear(hidden, dim), nn.BatchNorm1d(dim),
        )
        return inner

    class Residual(nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, x):
            return torch.relu(self.fn(x) + x)

    model = nn.Sequential(
        nn.Linear(784, HIDDEN), nn.ReLU(),
        *[Residual(block(HIDDEN, HIDDEN // 2)) for _ in range(BLOCKS)],
        nn.Linear(HIDDEN, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=0.001, weight_decay=0.001)
    loss_fn = nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))

    def epoch():
        model.train()
        order = torch.randperm(len(X))
        total = 0.0
        for start in range(0, len(X), BATCH):
            index = order[start:start + BATCH]
            loss = loss_fn(model(Xt[index]), yt[index])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(index)
        return total / len(X)

    return epoch


RESNET = {"needle": needle_resnet_epoch, "torch": torch_resnet_epoch}
