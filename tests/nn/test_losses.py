"""The PyTorch losses (CrossEntropyLoss, NLLLoss, BCEWithLogitsLoss, L1Loss, MSELoss, HuberLoss):
hand-computed values, PyTorch's values and gradients for every reduction, stability, gradient
checks to second order and argument errors."""
import math
import warnings

import numpy as np
import pytest

import needle as ndl
from needle import nn
from needle.testing import check_gradients

REDUCTIONS = ["mean", "sum", "none"]


def inputs(name, rng):
    """(input, target) arrays for the loss `name`, as PyTorch's version of it takes them."""
    if name in ("CrossEntropyLoss", "NLLLoss"):
        logits = rng.standard_normal((5, 4))
        if name == "NLLLoss":
            logits = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        return logits, rng.integers(0, 4, size=5)
    if name == "BCEWithLogitsLoss":
        return rng.uniform(-4, 4, size=(3, 4)), rng.uniform(0, 1, size=(3, 4))
    return rng.standard_normal((3, 4)) * 2, rng.standard_normal((3, 4))


LOSSES = {
    "CrossEntropyLoss": {},
    "NLLLoss": {},
    "BCEWithLogitsLoss": {},
    "L1Loss": {},
    "MSELoss": {},
    "HuberLoss": {"delta": 0.7},
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_pytorch_values_and_gradients(name, reduction):
    torch = pytest.importorskip("torch")
    a, target = inputs(name, np.random.default_rng(4))
    x = ndl.Tensor(a)
    out = getattr(nn, name)(reduction=reduction, **LOSSES[name])(x, target)
    t = torch.tensor(a, requires_grad=True)
    expected = getattr(torch.nn, name)(reduction=reduction, **LOSSES[name])(t, torch.tensor(target))
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    seed = np.random.default_rng(5).standard_normal(out.shape)
    (out * ndl.Tensor(seed)).sum().backward()
    (expected * torch.tensor(seed)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 1.0])
def test_cross_entropy_label_smoothing_matches_pytorch(smoothing, reduction):
    torch = pytest.importorskip("torch")
    logits, labels = inputs("CrossEntropyLoss", np.random.default_rng(6))
    out = nn.CrossEntropyLoss(reduction, label_smoothing=smoothing)(ndl.Tensor(logits), labels)
    expected = torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing)(
        torch.tensor(logits), torch.tensor(labels)
    )
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-10)


def test_cross_entropy_with_class_probabilities_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    logits, probs = rng.standard_normal((4, 3)), rng.dirichlet(np.ones(3), size=4)
    out = nn.CrossEntropyLoss(label_smoothing=0.2)(ndl.Tensor(logits), probs)
    expected = torch.nn.CrossEntropyLoss(label_smoothing=0.2)(torch.tensor(logits), torch.tensor(probs))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-10)


def test_losses_at_hand_computed_values():
    logits = ndl.Tensor(np.array([[0.0, 0.0], [math.log(3), 0.0]]))
    labels = np.array([0, 1])
    # rows: softmax (1/2, 1/2) and (3/4, 1/4); −log p of the labels: log 2 and log 4
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction="none")(logits, labels).numpy(), [math.log(2), math.log(4)])
    assert nn.CrossEntropyLoss()(logits, labels).numpy() == pytest.approx(1.5 * math.log(2))
    # smoothing 0.5 on two classes: q = (3/4, 1/4) on the label; row 2: −(1/4·log 3/4 + 3/4·log 1/4)
    smoothed = nn.CrossEntropyLoss(reduction="sum", label_smoothing=0.5)(logits, labels)
    assert smoothed.numpy() == pytest.approx(math.log(2) - 0.25 * math.log(0.75) - 0.75 * math.log(0.25))
    log_probs = ndl.Tensor(np.log(np.array([[0.5, 0.5], [0.75, 0.25]])))
    assert nn.NLLLoss(reduction="sum")(log_probs, labels).numpy() == pytest.approx(math.log(2) + math.log(4))
    # BCE: z = 0 gives log 2 whatever y; z = log 3, y = 1: −log σ = log(4/3)
    bce = nn.BCEWithLogitsLoss(reduction="none")(ndl.Tensor(np.array([0.0, math.log(3)])), np.array([0.3, 1.0]))
    np.testing.assert_allclose(bce.numpy(), [math.log(2), math.log(4 / 3)])
    prediction, target = ndl.Tensor(np.array([1.0, -2.0, 0.5])), np.array([0.0, 1.0, 0.5])
    assert nn.L1Loss()(prediction, target).numpy() == pytest.approx(4 / 3)
    assert nn.MSELoss()(prediction, target).numpy() == pytest.approx(10 / 3)
    assert nn.MSELoss(reduction="sum")(prediction, target).numpy() == pytest.approx(10.0)
    # Huber, delta 1: |d| = 1 is on the linear side (1 − 1/2); |d| = 3 gives 3 − 1/2; d = 0 gives 0
    np.testing.assert_allclose(nn.HuberLoss(reduction="none")(prediction, target).numpy(), [0.5, 2.5, 0.0])


def test_bce_with_logits_is_stable_for_large_logits():
    z = ndl.Tensor(np.array([1e4, -1e4, 1e4, -1e4], dtype=np.float32))
    y = np.array([1.0, 0.0, 0.0, 1.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = nn.BCEWithLogitsLoss(reduction="none")(z, y)
        loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [0.0, 0.0, 1e4, 1e4])
    np.testing.assert_allclose(z.grad.numpy(), [0.0, 0.0, 1.0, -1.0])
    assert loss.dtype == np.float32


def test_bce_with_logits_gradient_at_zero_is_one_half_minus_target():
    z = ndl.Tensor(np.zeros(2))
    nn.BCEWithLogitsLoss(reduction="sum")(z, np.array([0.0, 1.0])).backward()
    np.testing.assert_allclose(z.grad.numpy(), [0.5, -0.5])


def test_cross_entropy_is_stable_for_large_logits_with_every_reduction():
    logits = ndl.Tensor(np.array([[1e4, -1e4, 0.0]], dtype=np.float32))
    for reduction in REDUCTIONS:
        loss = nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1)(logits, np.array([1]))
        assert np.isfinite(loss.numpy()).all() and loss.dtype == np.float32


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradients_to_second_order(name, reduction):
    a, target = inputs(name, np.random.default_rng(8))
    if name in ("L1Loss", "HuberLoss"):  # away from the kinks at |d| = 0 and |d| = delta
        a = target + np.array([-1.3, -0.3, 0.4, 1.1])
    loss = getattr(nn, name)(reduction=reduction, **LOSSES[name])
    check_gradients(lambda x: loss(x, target), a, order=2)


def test_smoothed_cross_entropy_gradients_to_second_order():
    logits, labels = inputs("CrossEntropyLoss", np.random.default_rng(9))
    loss = nn.CrossEntropyLoss(label_smoothing=0.2)
    check_gradients(lambda x: loss(x, labels), logits, order=2)


def test_loss_arguments_are_checked():
    with pytest.raises(ValueError, match="MSELoss: reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: label_smoothing must be in \[0, 1\], got 1.5"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="HuberLoss: delta must be positive, got 0"):
        nn.HuberLoss(delta=0)
    with pytest.raises(TypeError):
        nn.L1Loss(size_average=True)
    logits = ndl.Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"cross_entropy: labels must lie in \[0, 3\), got 0..3"):
        nn.CrossEntropyLoss()(logits, np.array([0, 3]))  # the fused loss checks its labels
    with pytest.raises(ValueError, match=r"cross_entropy: targets must lie in \[0, 3\), got -1..0"):
        nn.CrossEntropyLoss(label_smoothing=0.1)(logits, np.array([0, -1]))
    with pytest.raises(ValueError, match=r"nll_loss: expected logits \(N, C\) and integer targets \(N,\), got \(2, 3\) and \(3,\)"):
        nn.NLLLoss()(logits, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"l1_loss: input \(2, 3\) and target \(3,\) differ in shape"):
        nn.L1Loss()(logits, np.zeros(3))


def test_mse_loss_default_is_the_mean_as_before():
    prediction, target = ndl.Tensor(np.array([[1.0, 2.0], [3.0, 5.0]])), ndl.Tensor(np.zeros((2, 2)))
    assert nn.MSELoss()(prediction, target).numpy() == pytest.approx(39 / 4)
