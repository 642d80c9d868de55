"""Activation layers: values by hand, PyTorch's values and gradients, stability at |x| = 1e4,
gradient checks to second order, and their arguments."""
import math
import warnings

import numpy as np
import pytest

import needle as ndl
from needle import nn
from needle.testing import check_gradients

POINTS = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])

# (layer, the same layer in PyTorch's terms, reference formula in NumPy)
ACTIVATIONS = {
    "gelu": (lambda: nn.GELU(), "GELU()", lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    "gelu_tanh": (lambda: nn.GELU(approximate="tanh"), "GELU(approximate='tanh')",
                  lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    "silu": (lambda: nn.SiLU(), "SiLU()", lambda x: x / (1 + np.exp(-x))),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), "LeakyReLU(0.2)", lambda x: np.where(x > 0, x, 0.2 * x)),
    "elu": (lambda: nn.ELU(alpha=0.7), "ELU(alpha=0.7)", lambda x: np.where(x > 0, x, 0.7 * np.expm1(x))),
    "softplus": (lambda: nn.Softplus(beta=2.0, threshold=4.0), "Softplus(beta=2.0, threshold=4.0)",
                 lambda x: np.where(2 * x > 4, x, np.log1p(np.exp(2 * x)) / 2)),
}


def needs_erf(name):
    if name == "gelu":
        pytest.importorskip("scipy", reason='exact GELU needs SciPy: pip install "needle[special]"')


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_matches_its_formula(name):
    needs_erf(name)
    make, _, formula = ACTIVATIONS[name]
    out = make()(ndl.Tensor(POINTS.astype(np.float32)))
    assert out.dtype == np.float32 and out.shape == POINTS.shape
    np.testing.assert_allclose(out.numpy(), formula(POINTS), rtol=1e-6, atol=1e-7)


def test_activations_at_hand_computed_points():
    x = ndl.Tensor(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_allclose(nn.LeakyReLU()(x).numpy(), [-0.01, 0.0, 2.0])
    np.testing.assert_allclose(nn.ELU()(x).numpy(), [1 / math.e - 1, 0.0, 2.0])
    np.testing.assert_allclose(nn.SiLU()(x).numpy(), [-1 / (1 + math.e), 0.0, 2 / (1 + math.exp(-2))])
    np.testing.assert_allclose(nn.Softplus()(x).numpy(), [math.log(1 + 1 / math.e), math.log(2), math.log(1 + math.e ** 2)])
    np.testing.assert_allclose(nn.Softmax(dim=0)(x).numpy(), np.exp([-1, 0, 2]) / np.exp([-1, 0, 2]).sum())
    np.testing.assert_allclose(nn.LogSoftmax(dim=0)(x).numpy(), [-1, 0, 2] - np.log(np.exp([-1, 0, 2]).sum()))


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_matches_pytorch_values_and_gradients(name):
    needs_erf(name)
    torch = pytest.importorskip("torch")
    make, torch_layer, _ = ACTIVATIONS[name]
    a = np.random.default_rng(1).uniform(-4, 4, size=(5, 6))
    a[0, :3] = [0.0, 2.0, -2.0]  # the kinks and PyTorch's softplus threshold
    x = ndl.Tensor(a)
    out = make()(x)
    (out * out).sum().backward()
    t = torch.tensor(a, requires_grad=True)
    expected = eval(f"torch.nn.{torch_layer}")(t)
    (expected * expected).sum().backward()
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_match_pytorch_along_any_dim(dim):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(2).standard_normal((3, 4))
    for ours, theirs in ((nn.Softmax(dim), torch.nn.Softmax(dim)), (nn.LogSoftmax(dim), torch.nn.LogSoftmax(dim))):
        x = ndl.Tensor(a)
        out = ours(x)
        (out * out).sum().backward()
        t = torch.tensor(a, requires_grad=True)
        expected = theirs(t)
        (expected * expected).sum().backward()
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", list(ACTIVATIONS) + ["softmax", "log_softmax"])
def test_activation_is_finite_without_warnings_at_1e4_in_float32(name):
    layers = {"softmax": lambda: nn.Softmax(), "log_softmax": lambda: nn.LogSoftmax()}
    needs_erf(name)
    make = ACTIVATIONS[name][0] if name in ACTIVATIONS else layers[name]
    x = ndl.Tensor(np.array([[-1e4, -30.0, 0.0, 30.0, 1e4]], dtype=np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in any branch would warn
        out = make()(x)
        out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    assert np.isfinite(out.numpy()).all() and np.isfinite(x.grad.numpy()).all()
    if name in ACTIVATIONS:  # each behaves as the identity far right
        assert out.numpy()[0, -1] == pytest.approx(1e4)
        assert x.grad.numpy()[0, -1] == pytest.approx(1.0)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_gradients_to_second_order(name):
    needs_erf(name)
    make = ACTIVATIONS[name][0]
    # points away from the kinks at 0 (leaky_relu, elu) and the softplus threshold at x = 2
    a = np.array([[-2.5, -1.2, -0.4], [0.3, 0.9, 1.6]])
    check_gradients(make(), a, order=2)


@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_layers_gradients_to_second_order(dim):
    a = np.random.default_rng(3).standard_normal((3, 4))
    check_gradients(nn.Softmax(dim), a, order=2)
    check_gradients(nn.LogSoftmax(dim), a, order=2)


def test_kinks_take_pytorchs_one_sided_derivatives():
    x = ndl.Tensor(np.zeros(3))
    for layer, slope in ((nn.LeakyReLU(0.3), 0.3), (nn.ELU(alpha=2.0), 2.0), (nn.Softplus(), 0.5)):
        x.grad = None
        layer(x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), slope)


def test_activation_arguments_are_checked():
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh', got 'erf'"):
        nn.GELU(approximate="erf")
    with pytest.raises(ValueError, match="Softplus: beta must be positive, got 0"):
        nn.Softplus(beta=0)
    with pytest.raises(TypeError):
        nn.LeakyReLU(slope=0.1)  # PyTorch's name is negative_slope


def test_tanh_gelu_works_without_scipy(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "scipy.special", None)
    out = nn.GELU(approximate="tanh")(ndl.Tensor(np.array([1.0])))
    assert out.numpy()[0] == pytest.approx(0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * 1.044715)))
    with pytest.raises(ImportError, match=r'needle\[special\]'):
        nn.GELU()(ndl.Tensor(np.array([1.0])))
