"""needle.nn.functional: the layers' and losses' functional forms, their PyTorch signatures, and
NumPy arrays and numbers taken as constants."""
import numpy as np
import pytest

import needle as ndl
import needle.nn.functional as F
from needle import nn


def test_functional_forms_give_what_their_layers_give():
    a = np.random.default_rng(0).standard_normal((4, 3))
    x = ndl.Tensor(a)
    pairs = [
        (F.relu(x), nn.ReLU()(x)), (F.sigmoid(x), nn.Sigmoid()(x)), (F.tanh(x), nn.Tanh()(x)),
        (F.softmax(x, dim=0), nn.Softmax(0)(x)), (F.log_softmax(x, 1), nn.LogSoftmax(1)(x)),
        (F.gelu(x, approximate="tanh"), nn.GELU("tanh")(x)), (F.silu(x), nn.SiLU()(x)),
        (F.leaky_relu(x, 0.3), nn.LeakyReLU(0.3)(x)), (F.elu(x, alpha=0.5), nn.ELU(0.5)(x)),
        (F.softplus(x, beta=3.0), nn.Softplus(3.0)(x)),
        (F.layer_norm(x, 3), nn.LayerNorm1d(3)(x)),
        (F.mse_loss(x, np.ones((4, 3)), reduction="sum"), nn.MSELoss("sum")(x, np.ones((4, 3)))),
        (F.cross_entropy(x, np.array([0, 2, 1, 1])), nn.SoftmaxLoss()(x, np.array([0, 2, 1, 1]))),
    ]
    for functional, layer in pairs:
        np.testing.assert_array_equal(functional.numpy(), layer.numpy())


def test_linear_and_layer_norm_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, weight, bias = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    expected = torch.nn.functional.linear(torch.tensor(x), torch.tensor(weight.T), torch.tensor(bias))
    # needle's weight is (in, out), the transpose of PyTorch's
    np.testing.assert_allclose(F.linear(x, ndl.Tensor(weight), ndl.Tensor(bias)).numpy(), expected.numpy(), rtol=1e-12)
    gamma, beta = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    out = F.layer_norm(ndl.Tensor(x), (3, 4), ndl.Tensor(gamma), ndl.Tensor(beta), eps=1e-3)
    expected = torch.nn.functional.layer_norm(
        torch.tensor(x), (3, 4), torch.tensor(gamma), torch.tensor(beta), eps=1e-3
    )
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


def test_batch_norm_updates_running_statistics_in_place():
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    running_mean, running_var = ndl.Tensor(np.zeros(2)), ndl.Tensor(np.ones(2))
    mean_before, var_before = running_mean, running_var
    out = F.batch_norm(ndl.Tensor(x), running_mean, running_var, training=True, momentum=0.5, eps=0.0)
    np.testing.assert_allclose(out.numpy(), [[-1.0, -1.0], [1.0, 1.0]])
    # batch mean (2, 4), biased variance (1, 4): running ← (running + observed) / 2
    assert running_mean is mean_before and running_var is var_before
    np.testing.assert_allclose(running_mean.numpy(), [1.0, 2.0])
    np.testing.assert_allclose(running_var.numpy(), [1.0, 2.5])
    evaluated = F.batch_norm(x, running_mean, running_var, eps=0.0)
    np.testing.assert_allclose(evaluated.numpy(), (x - [1.0, 2.0]) / np.sqrt([1.0, 2.5]))


def test_batch_norm_in_evaluation_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, mean, var = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.uniform(0.5, 2, size=3)
    weight, bias = rng.standard_normal(3), rng.standard_normal(3)
    out = F.batch_norm(x, ndl.Tensor(mean), ndl.Tensor(var), ndl.Tensor(weight), ndl.Tensor(bias))
    expected = torch.nn.functional.batch_norm(*map(torch.tensor, (x, mean, var, weight, bias)))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-10)


def test_dropout_keeps_the_expectation_and_is_the_identity_outside_training():
    x = ndl.Tensor(np.ones((200, 50)))
    np.random.seed(0)
    out = F.dropout(x, 0.3).numpy()
    assert set(np.unique(out)) <= {0.0, 1 / 0.7}
    assert abs((out == 0).mean() - 0.3) < 0.02
    assert F.dropout(x, 0.3, training=False) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), 0.0)
    with pytest.raises(ValueError, match=r"dropout: invalid probability p=1.5; must be in \[0, 1\]"):
        F.dropout(x, 1.5)


def test_functional_forms_take_numpy_arrays_and_numbers():
    np.testing.assert_allclose(F.relu(np.array([-1.0, 2.0])).numpy(), [0.0, 2.0])
    assert F.sigmoid(0.0).numpy() == pytest.approx(0.5)
    np.testing.assert_allclose(F.softmax(np.zeros(4)).numpy(), 0.25)
    target = np.array([1.0, 1.0], dtype=np.float64)
    loss = F.mse_loss(ndl.Tensor(np.zeros(2, dtype=np.float32)), target)
    assert loss.dtype == np.float32  # an array target takes the input's dtype


def test_layers_take_numpy_arrays_as_inputs():
    layer = nn.Linear(3, 2)
    out = layer(np.ones((2, 3), dtype=np.float32))
    expected = np.ones((2, 3)) @ layer.weight.numpy() + layer.bias.numpy()
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.full((3, 2), 2.0))
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 2))
    assert model(np.random.default_rng(3).standard_normal((5, 3))).shape == (5, 2)
    assert nn.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 1])).numpy() == pytest.approx(np.log(3))


def test_functional_forms_reject_unknown_and_misspelled_arguments():
    x = ndl.Tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError):
        F.softmax(x, axis_=1)
    with pytest.raises(TypeError):
        F.cross_entropy(x, np.array([0, 1]), ignore_index=-100)  # not supported: said, not ignored
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(x, approximate="fast")
    with pytest.raises(ValueError, match="l1_loss: reduction must be 'mean', 'sum' or 'none', got 'all'"):
        F.l1_loss(x, x, reduction="all")
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 3\) does not end in \(2,\)"):
        F.layer_norm(x, 2)
