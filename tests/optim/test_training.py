"""Whole training loops: no tensors leak over many steps, and small models learn."""
import gc

import numpy as np
import pytest

import needle as ndl
from apps.mlp_resnet import ResidualBlock
from needle import nn, optim


def test_live_tensor_count_stays_flat_over_ten_thousand_steps():
    model = nn.Linear(2, 1, bias=False)  # tiny, so that 10^4 steps take a few seconds
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = ndl.Tensor(np.random.randn(4, 2).astype(np.float32), requires_grad=False)
    y = ndl.Tensor(np.random.randn(4, 1).astype(np.float32), requires_grad=False)
    loss_fn = nn.MSELoss()
    counts = []
    for step in range(10_000):
        opt.reset_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        if step % 2500 == 99:
            # Default backward records differentiable adjoints, whose graphs hold reference cycles;
            # collect them, so that the count shows only what is kept alive.
            gc.collect()
            counts.append(ndl.autograd.TENSOR_COUNTER)
    assert len(counts) == 4 and len(set(counts)) == 1, counts


def two_blobs(n):
    labels = np.random.randint(0, 2, size=n)
    points = np.random.randn(n, 4).astype(np.float32) + 2.0 * labels[:, None].astype(np.float32)
    return points, labels


@pytest.mark.parametrize(
    "make_model, make_optimizer",
    [
        (lambda: nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)),
         lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9)),
        (lambda: nn.Sequential(nn.Linear(4, 16), nn.ReLU(), ResidualBlock(16, 8, nn.BatchNorm1d),
                               nn.Linear(16, 2)),
         lambda ps: optim.Adam(ps, lr=0.01, weight_decay=1e-3)),
        (lambda: nn.Sequential(nn.Linear(4, 16), nn.Tanh(), ResidualBlock(16, 8, nn.LayerNorm1d),
                               nn.Linear(16, 2)),
         lambda ps: optim.AdamW(ps, lr=0.01)),
    ],
    ids=["mlp-sgd", "resnet-batchnorm-adam", "resnet-layernorm-adamw"],
)
def test_small_models_learn_separable_blobs(make_model, make_optimizer):
    x_train, y_train = two_blobs(200)
    x_test, y_test = two_blobs(200)
    model = make_model()
    opt = make_optimizer(model.parameters())
    scheduler = optim.CosineAnnealingLR(opt, T_max=5)
    for _ in range(5):
        model.train()
        for start in range(0, 200, 25):
            opt.reset_grad()
            batch = ndl.Tensor(x_train[start:start + 25], requires_grad=False)
            nn.SoftmaxLoss()(model(batch), y_train[start:start + 25]).backward()
            optim.clip_grad_norm(model.parameters(), max_norm=5.0)
            opt.step()
        scheduler.step()
    model.eval()
    predictions = model(ndl.Tensor(x_test, requires_grad=False)).numpy().argmax(axis=1)
    assert (predictions == y_test).mean() > 0.9
