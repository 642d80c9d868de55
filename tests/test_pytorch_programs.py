"""Five short programs written the PyTorch way (issue #14), each once with needle and checked by hand,
and once more against PyTorch itself when it is installed."""
import numpy as np
import pytest

import needle as ndl
import needle.nn as nn

# ---- 1. `if loss < best:` in a training loop ---------------------------------------------------

# Gradient descent on (w - 3)^2 from w = 2: each step multiplies the error e = w - 3 by (1 - 2·lr).
# With lr 0.25 the error halves, with lr 1.2 it is multiplied by -1.4, so the loss falls, then rises.
LEARNING_RATES = [0.25, 0.25, 1.2, 1.2]


def keep_the_best(lib, w):
    best, best_w, best_epoch = None, None, None
    for epoch, lr in enumerate(LEARNING_RATES + [0.0]):
        loss = ((w - 3) ** 2).sum()
        if best is None or loss < best:
            best, best_w, best_epoch = loss.item(), w.detach().numpy().copy(), epoch
        loss.backward()
        with lib.no_grad():
            w -= lr * w.grad
        w.grad = None
    return best, best_w, best_epoch


def test_the_best_loss_is_the_smallest_not_the_last():
    # losses 1, 0.25, 0.0625, 0.1225, 0.2401: the best is epoch 2's, at w = 2.75
    best, best_w, best_epoch = keep_the_best(ndl, ndl.Tensor([2.0]))
    assert best_epoch == 2 and best == pytest.approx(0.0625)
    np.testing.assert_allclose(best_w, [2.75])


def test_the_best_loss_is_pytorchs():
    torch = pytest.importorskip("torch")
    expected = keep_the_best(torch, torch.tensor([2.0], dtype=torch.float64, requires_grad=True))
    best, best_w, best_epoch = keep_the_best(ndl, ndl.Tensor([2.0]))
    assert best_epoch == expected[2] and best == pytest.approx(expected[0])
    np.testing.assert_allclose(best_w, expected[1])


# ---- 2. max() of tensors -----------------------------------------------------------------------


def test_max_and_min_of_tensors_pick_by_value():
    assert max(ndl.Tensor(2.0), ndl.Tensor(1.0)).item() == 2.0
    assert min(ndl.Tensor(2.0), ndl.Tensor(1.0)).item() == 1.0
    assert [t.item() for t in sorted([ndl.Tensor(3.0), ndl.Tensor(1.0), ndl.Tensor(2.0)])] == [1.0, 2.0, 3.0]


def test_max_of_tensors_is_pytorchs():
    torch = pytest.importorskip("torch")
    values = [2.0, 1.0, 3.5, -1.0]
    assert max(ndl.Tensor(v) for v in values).item() == max(torch.tensor(v) for v in values).item()


# ---- 3. manual SGD with `w -= lr * w.grad` under no_grad ---------------------------------------

X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
Y = np.array([1.0, 2.0, 0.0])


def manual_sgd(lib, w, steps=5, lr=0.1):
    start = w
    x, y = lib.tensor(X) if lib is not ndl else ndl.Tensor(X), Y
    for _ in range(steps):
        loss = ((x @ w - (lib.tensor(y) if lib is not ndl else ndl.Tensor(y))) ** 2).mean()
        if w.grad is not None:
            w.grad = None
        loss.backward()
        with lib.no_grad():
            w -= lr * w.grad
    assert w is start and w.requires_grad
    return w.detach().numpy()


def hand_sgd(steps=5, lr=0.1):
    w = np.zeros(2)
    for _ in range(steps):
        w = w - lr * 2 * X.T @ (X @ w - Y) / len(Y)  # d/dw mean((Xw - y)^2)
    return w


def test_manual_sgd_updates_the_same_parameter_each_step():
    np.testing.assert_allclose(manual_sgd(ndl, ndl.Tensor(np.zeros(2))), hand_sgd(), rtol=1e-12)


def test_manual_sgd_is_pytorchs():
    torch = pytest.importorskip("torch")
    expected = manual_sgd(torch, torch.zeros(2, dtype=torch.float64, requires_grad=True))
    np.testing.assert_allclose(manual_sgd(ndl, ndl.Tensor(np.zeros(2))), expected, rtol=1e-12)


# ---- 4. arrays and numbers where tensors are expected ------------------------------------------


def test_arrays_and_numbers_work_where_tensors_are_expected():
    layer = nn.Linear(3, 2)
    out = layer(np.ones((2, 3)))
    expected = layer.weight.numpy().sum(axis=0) + layer.bias.numpy().reshape(-1)
    np.testing.assert_allclose(out.numpy(), np.stack([expected, expected]), rtol=1e-5)
    assert ndl.exp(2.0).item() == pytest.approx(7.38905609893065)
    x = ndl.Tensor([-1.0, 2.0])
    np.testing.assert_array_equal(ndl.maximum(x, 0).numpy(), [0.0, 2.0])
    np.testing.assert_array_equal((x + np.ones(2)).numpy(), [0.0, 3.0])
    with pytest.raises(TypeError, match="use ndl.exp"):
        np.exp(x)


def test_arrays_and_numbers_give_pytorchs_answers():
    torch = pytest.importorskip("torch")
    layer, reference = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    with torch.no_grad():  # needle keeps the weight as (in, out), PyTorch as (out, in)
        reference.weight.copy_(torch.tensor(layer.weight.numpy().T))
        reference.bias.copy_(torch.tensor(layer.bias.numpy().reshape(-1)))
    inputs = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(layer(inputs).numpy(), reference(torch.tensor(inputs)).detach().numpy(), rtol=1e-6)
    x = np.array([-1.0, 2.0])
    np.testing.assert_array_equal(ndl.maximum(ndl.Tensor(x), 0).numpy(), torch.clamp(torch.tensor(x), min=0).numpy())
    np.testing.assert_array_equal((ndl.Tensor(x) + np.ones(2)).numpy(), (torch.tensor(x) + torch.tensor(np.ones(2))).numpy())


# ---- 5. print(model) ---------------------------------------------------------------------------


def make_mlp(lib):
    class MLP(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = lib.nn.Linear(3, 4)
            self.act = lib.nn.ReLU()
            self.fc2 = lib.nn.Linear(4, 2)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    return MLP()


def test_print_model_shows_the_module_tree():
    assert repr(make_mlp(ndl)) == (
        "MLP(\n"
        "  (fc1): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (act): ReLU()\n"
        "  (fc2): Linear(in_features=4, out_features=2, bias=True)\n"
        ")"
    )


def test_print_model_is_pytorchs():
    torch = pytest.importorskip("torch")
    assert repr(make_mlp(ndl)) == repr(make_mlp(torch))
