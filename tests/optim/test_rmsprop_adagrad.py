"""RMSprop and Adagrad: PyTorch's update rules, against NumPy written from them and against PyTorch."""
import numpy as np
import pytest

import needle as ndl
from needle import optim


def numpy_rmsprop(p, grads, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    """PyTorch's RMSprop, one line per formula, in float64."""
    square_avg, grad_avg, buffer, values = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for g in grads:
        g = g + weight_decay * p
        square_avg = alpha * square_avg + (1 - alpha) * g * g
        if centered:
            grad_avg = alpha * grad_avg + (1 - alpha) * g
            denominator = np.sqrt(square_avg - grad_avg * grad_avg) + eps
        else:
            denominator = np.sqrt(square_avg) + eps
        if momentum > 0:
            buffer = momentum * buffer + g / denominator
            p = p - lr * buffer
        else:
            p = p - lr * g / denominator
        values.append(p)
    return np.array(values)


def numpy_adagrad(p, grads, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    """PyTorch's Adagrad, one line per formula, in float64."""
    total, values = np.full_like(p, initial_accumulator_value), []
    for step, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        total = total + g * g
        p = p - lr / (1 + (step - 1) * lr_decay) * g / (np.sqrt(total) + eps)
        values.append(p)
    return np.array(values)


SETTINGS = {
    "RMSprop": [{}, {"lr": 0.05, "alpha": 0.9, "weight_decay": 0.1}, {"lr": 0.02, "momentum": 0.8},
                {"lr": 0.03, "centered": True, "eps": 1e-6}, {"centered": True, "momentum": 0.5, "weight_decay": 0.2}],
    "Adagrad": [{}, {"lr": 0.1, "lr_decay": 0.3}, {"lr": 0.05, "weight_decay": 0.2},
                {"initial_accumulator_value": 0.5, "eps": 1e-6}],
}
CASES = [(name, kwargs) for name, rows in SETTINGS.items() for kwargs in rows]
REFERENCE = {"RMSprop": numpy_rmsprop, "Adagrad": numpy_adagrad}


def needle_trajectory(name, kwargs, start, grads):
    p = ndl.Tensor(start.copy(), dtype="float64")
    opt = getattr(optim, name)([p], **kwargs)
    values = []
    for g in grads:
        p.grad = ndl.Tensor(g, dtype="float64", requires_grad=False)
        opt.step()
        values.append(p.numpy().copy())
    return np.array(values)


def draw(seed, steps=6):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(4), rng.standard_normal((steps, 4))


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_steps_match_the_numpy_formulas(name, kwargs):
    start, grads = draw(0)
    np.testing.assert_allclose(needle_trajectory(name, kwargs, start, grads),
                               REFERENCE[name](start, grads, **kwargs), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_steps_match_torch_in_float64(name, kwargs):
    torch = pytest.importorskip("torch")
    start, grads = draw(1)
    ours = needle_trajectory(name, kwargs, start, grads)
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, name)([p], **kwargs)
    for step, g in enumerate(grads):
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        np.testing.assert_allclose(ours[step], p.detach().numpy(), rtol=1e-12, atol=0)


def test_rmsprop_and_adagrad_by_hand():
    # RMSprop, lr 0.1, α 0.5, p = 1, g = 2 then 1: s = 2, p = 1 − 0.2/√2; s = 1.5, p −= 0.1/√1.5.
    # Adagrad, lr 0.1, lr_decay 0.5: s = 4, p = 1 − 0.1·2/2 = 0.9; s = 5, p −= (0.1/1.5)·1/√5.
    grads = np.array([[2.0], [1.0]])
    rms = needle_trajectory("RMSprop", {"lr": 0.1, "alpha": 0.5}, np.array([1.0]), grads)
    ada = needle_trajectory("Adagrad", {"lr": 0.1, "lr_decay": 0.5}, np.array([1.0]), grads)
    np.testing.assert_allclose(rms[:, 0], [0.858579, 0.776929], rtol=1e-6)
    np.testing.assert_allclose(ada[:, 0], [0.9, 0.870186], rtol=1e-6)


def test_float32_parameters_stay_float32_and_state_is_saved():
    p = ndl.nn.Parameter(np.ones(3, dtype=np.float32))
    for opt, names in [(optim.RMSprop([p], momentum=0.9, centered=True), ["grad_avg", "momentum_buffer",
                                                                          "square_avg"]),
                       (optim.Adagrad([p], initial_accumulator_value=0.1), ["sum"])]:
        p.grad = ndl.Tensor(np.ones(3), requires_grad=False)
        opt.step()
        assert p.dtype == np.float32
        assert sorted(opt.state_dict()["state"][0]) == names


def test_plain_rmsprop_keeps_no_momentum_or_average_state():
    p = ndl.nn.Parameter(np.ones(3, dtype=np.float32))
    opt = optim.RMSprop([p])
    p.grad = ndl.Tensor(np.ones(3, dtype=np.float32), requires_grad=False)
    opt.step()
    assert list(opt.state_dict()["state"][0]) == ["square_avg"]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda ps: optim.RMSprop(ps, alpha=1.5), r"RMSprop: invalid alpha 1.5: must be in \[0, 1\]"),
        (lambda ps: optim.RMSprop(ps, centered=1), "RMSprop: invalid centered 1: must be True or False"),
        (lambda ps: optim.RMSprop(ps, momentum=-0.1), "RMSprop: invalid momentum -0.1"),
        (lambda ps: optim.Adagrad(ps, lr_decay=-1.0), "Adagrad: invalid lr_decay -1.0: must be finite and >= 0"),
        (lambda ps: optim.Adagrad(ps, initial_accumulator_value=float("nan")),
         "Adagrad: invalid initial_accumulator_value nan"),
        (lambda ps: optim.Adagrad(ps, eps=0.0), "Adagrad: invalid eps 0.0: must be finite and > 0"),
    ],
)
def test_bad_hyperparameters_are_rejected_naming_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make([ndl.nn.Parameter(np.ones(2, dtype=np.float32))])


@pytest.mark.parametrize("make", [optim.RMSprop, optim.Adagrad])
def test_a_step_bumps_the_version(make):
    p = ndl.nn.Parameter(np.ones(2, dtype=np.float32))
    loss = (p * p).sum()
    loss.backward()
    make([p]).step()
    with pytest.raises(RuntimeError, match="modified in place after use"):
        loss.backward()
