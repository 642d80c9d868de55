"""Whole models trained compiled and eagerly from the same weights reach the same parameters."""
import numpy as np
import pytest

import needle as ndl
import needle.nn as nn
from needle.cli.cnn_models import MnistCNN
from needle.cli.models import build_model

STEPS = 50
BATCH = 16
SHORT = 10  # the last batch of an epoch: a new signature, traced once


def _batches(in_features, classes):
    rng = np.random.default_rng(5)
    sizes = [BATCH] * (STEPS - 1) + [SHORT]
    return [
        (ndl.Tensor(rng.standard_normal((n, in_features)).astype(np.float32), requires_grad=False),
         ndl.Tensor(rng.integers(0, classes, size=n), requires_grad=False))
        for n in sizes
    ]


def _sgd_step(opt, loss_of, compiled_step, *args):
    """One optimizer step on loss_of(*args), from `compiled_step`'s gradients when there is one (else
    eagerly); returns the loss."""
    opt.reset_grad()
    if compiled_step is not None:
        loss, grads = compiled_step(*args)
        for p, g in zip(opt.params, grads):
            p.grad = g
    else:
        loss = loss_of(*args)
        loss.backward(create_graph=False)
    opt.step()
    return loss


def _train(name, compiled, hidden=24, in_features=12, classes=5):
    np.random.seed(3)
    model = build_model(name, in_features, classes, hidden)
    model.train()
    params = model.parameters()
    opt = ndl.optim.SGD(params, lr=0.05, momentum=0.9)
    loss_fn = nn.SoftmaxLoss()
    step = ndl.compile(lambda X, y: loss_fn(model(X), y), wrt=params) if compiled else None
    losses = []
    for X, y in _batches(in_features, classes):
        loss = _sgd_step(opt, lambda X, y: loss_fn(model(X), y), step, X, y)
        losses.append(float(loss.numpy()))
    buffers = [b.numpy().copy() for b in model.buffers()] if hasattr(model, "buffers") else []
    return [p.numpy().copy() for p in params], buffers, losses, step


@pytest.mark.parametrize("name", ["mlp", "resnet"])
def test_compiled_training_reaches_the_eager_parameters(name):
    eager_params, eager_buffers, eager_losses, _ = _train(name, compiled=False)
    params, buffers, losses, step = _train(name, compiled=True)
    assert step.retraces == 2  # batches of 16, then the short last batch
    np.testing.assert_array_equal(losses, eager_losses)
    for got, want in zip(params, eager_params):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(buffers, eager_buffers):  # BatchNorm's running statistics
        np.testing.assert_array_equal(got, want)
    assert step.eager_reasons == []
    assert step.replays == STEPS - 3  # all but the two traced calls and the short batch


class _Recurrent(nn.Module):
    """(T, N, 3) sequences -> logits (N, 4) from the last step of a 2-layer LSTM, then of a GRU."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 6, num_layers=2)
        self.gru = nn.GRU(6, 5)
        self.head = nn.Linear(5, 4)

    def forward(self, x):
        out, _ = self.lstm(x)
        out, _ = self.gru(out)
        return self.head(out[-1])


@pytest.mark.parametrize("name", ["cnn", "recurrent"])
def test_convolutional_and_recurrent_models_train_to_the_eager_parameters(name):
    make, shape = {
        "cnn": (lambda: MnistCNN(in_channels=1, num_classes=4, side=8), (4, 1, 8, 8)),  # conv, batch norm, max pool
        "recurrent": (_Recurrent, (5, 4, 3)),
    }[name]
    steps = 20

    def train(compiled):
        np.random.seed(1)
        model = make()
        model.train()
        params = model.parameters()
        opt = ndl.optim.SGD(params, lr=0.05)
        loss_fn = nn.SoftmaxLoss()
        rng = np.random.default_rng(2)
        step = ndl.compile(lambda X, y: loss_fn(model(X), y), wrt=params) if compiled else None
        for _ in range(steps):
            X = ndl.Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=False)
            y = ndl.Tensor(rng.integers(0, 4, shape[0] if name == "cnn" else shape[1]), requires_grad=False)
            _sgd_step(opt, lambda X, y: loss_fn(model(X), y), step, X, y)
        return [p.numpy().copy() for p in params], step

    eager, _ = train(False)
    got, step = train(True)
    for a, b in zip(got, eager):
        # A rule that hands a node its forward result (a saved array) is replayed by the op's compute,
        # which may round differently in the last place (the CNN's fused normalisation adjoint).
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert step.eager_reasons == [] and step.replays == steps - 2


def test_a_language_model_with_an_embedding_trains_to_the_eager_parameters():
    """Embedding's lookup op holds the token ids as its index: Embedding.forward makes it again on each
    replay, and GetItem's rule makes its ScatterAdd from the remade op."""
    from needle.cli.language_model import LanguageModel

    steps, time, batch, vocabulary = 12, 5, 3, 11

    def train(compiled):
        np.random.seed(4)
        model = LanguageModel(4, vocabulary, 6, 1, seq_model="lstm", seq_len=time).train()
        params = model.parameters()
        opt = ndl.optim.SGD(params, lr=0.1)
        loss_fn = nn.SoftmaxLoss()

        def forward(data, target):
            logits, _ = model(data)
            return loss_fn(logits, target)

        step = ndl.compile(forward, wrt=params) if compiled else None
        rng = np.random.default_rng(6)
        for _ in range(steps):
            data = ndl.Tensor(rng.integers(0, vocabulary, (time, batch)), requires_grad=False)
            target = ndl.Tensor(rng.integers(0, vocabulary, time * batch), requires_grad=False)
            _sgd_step(opt, forward, step, data, target)
        return [p.numpy().copy() for p in params], step

    eager, _ = train(False)
    got, step = train(True)
    for a, b in zip(got, eager):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert step.eager_reasons == [] and step.replays == steps - 2 and step.stats["recipes"] >= 2
