"""LayerNorm1d and BatchNorm1d against NumPy formulas (and PyTorch where conventions match)."""
import numpy as np
import pytest

import needle as ndl
from needle import nn
from needle.testing import check_gradients


def constant(array):
    return ndl.Tensor(np.asarray(array, dtype=np.float32), requires_grad=False)


def normalized(x, axis, eps):
    mean = x.mean(axis=axis, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axis, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def test_layernorm_normalises_each_row_with_the_biased_variance():
    x = np.random.randn(4, 6).astype(np.float32) * 3 + 1
    layer = nn.LayerNorm1d(6, eps=1e-3)
    assert layer.weight.shape == layer.bias.shape == (6,)
    np.testing.assert_allclose(layer(constant(x)).numpy(), normalized(x, 1, 1e-3), rtol=1e-5, atol=1e-5)
    layer.weight.data = constant(np.arange(6))
    layer.bias.data = constant(np.full(6, 0.5))
    out = layer(constant(x))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), normalized(x, 1, 1e-3) * np.arange(6) + 0.5, rtol=1e-5, atol=1e-5)


def test_layernorm_is_the_same_in_train_and_eval_and_works_on_leading_axes():
    x = constant(np.random.randn(2, 3, 5))
    layer = nn.LayerNorm1d(5)
    np.testing.assert_array_equal(layer.train()(x).numpy(), layer.eval()(x).numpy())
    np.testing.assert_allclose(layer(x).numpy(), normalized(x.numpy(), -1, 1e-5), rtol=1e-5, atol=1e-5)


def test_layernorm_gradients():
    layer = nn.LayerNorm1d(4, dtype="float64")

    def layernorm(x, weight, bias):
        layer.weight, layer.bias = weight, bias
        return layer(x)

    check_gradients(layernorm, np.random.randn(3, 4), np.random.randn(4), np.random.randn(4))


def test_batchnorm_training_uses_batch_statistics_and_updates_running_ones():
    x1 = np.random.randn(8, 3).astype(np.float32) * 2 + 1
    x2 = np.random.randn(5, 3).astype(np.float32) - 3
    layer = nn.BatchNorm1d(3, eps=1e-4, momentum=0.2)
    np.testing.assert_allclose(layer(constant(x1)).numpy(), normalized(x1, 0, 1e-4), rtol=1e-4, atol=1e-5)
    layer(constant(x2))
    running_mean, running_var = np.zeros(3), np.ones(3)
    for x in (x1, x2):
        running_mean = 0.8 * running_mean + 0.2 * x.mean(axis=0)
        running_var = 0.8 * running_var + 0.2 * x.var(axis=0)  # needle: biased, ddof=0
    np.testing.assert_allclose(layer.running_mean.numpy(), running_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.running_var.numpy(), running_var, rtol=1e-5, atol=1e-6)
    assert layer.running_mean.dtype == layer.running_var.dtype == np.float32
    assert not layer.running_mean.requires_grad and layer.running_mean.op is None


def test_batchnorm_eval_uses_running_statistics_without_updating_them():
    layer = nn.BatchNorm1d(3)
    layer(constant(np.random.randn(10, 3) * 4))
    mean, var = layer.running_mean.numpy().copy(), layer.running_var.numpy().copy()
    layer.weight.data = constant([1.0, 2.0, 3.0])
    layer.eval()
    x = np.random.randn(4, 3).astype(np.float32)
    out = layer(constant(x)).numpy()
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5) * [1, 2, 3], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(layer.running_mean.numpy(), mean)
    np.testing.assert_array_equal(layer.running_var.numpy(), var)
    # Eval mode normalises each row alone: the output of a row does not depend on the batch.
    np.testing.assert_allclose(layer(constant(x[:1])).numpy(), out[:1], rtol=1e-6)


def test_batchnorm_running_statistics_are_in_the_state_dict():
    layer = nn.BatchNorm1d(2)
    layer(constant(np.random.randn(6, 2)))
    state = layer.state_dict()
    np.testing.assert_array_equal(state["running_mean"].numpy(), layer.running_mean.numpy())
    fresh = nn.BatchNorm1d(2)
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.running_var.numpy(), layer.running_var.numpy())


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batchnorm_gradients(training):
    layer = nn.BatchNorm1d(3, dtype="float64").train(training)
    layer.running_var = ndl.Tensor(np.array([0.5, 1.0, 2.0]), requires_grad=False)

    def batchnorm(x, weight, bias):
        layer.weight, layer.bias = weight, bias
        return layer(x)

    check_gradients(batchnorm, np.random.randn(5, 3), np.random.randn(3), np.random.randn(3))


@pytest.mark.parametrize(
    "layer, shape, message",
    [(nn.BatchNorm1d(3), (4, 2), r"BatchNorm1d: expected input of shape \(batch, 3\), got \(4, 2\)"),
     (nn.BatchNorm1d(3), (4, 3, 1, 1), "BatchNorm1d: expected input"),
     (nn.LayerNorm1d(3), (4, 2), r"LayerNorm1d: input of shape \(4, 2\) does not end in dim=3")],
)
def test_normalisation_rejects_wrong_widths(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(constant(np.zeros(shape)))


def test_norms_match_torch_in_training():
    torch = pytest.importorskip("torch")
    x = np.random.randn(6, 4).astype(np.float32) * 2 + 0.5
    weight = np.random.rand(4).astype(np.float32) + 0.5
    bias = np.random.randn(4).astype(np.float32)
    pairs = [
        (nn.BatchNorm1d(4, eps=1e-5, momentum=0.1), torch.nn.BatchNorm1d(4, eps=1e-5, momentum=0.1)),
        (nn.LayerNorm1d(4, eps=1e-5), torch.nn.LayerNorm(4, eps=1e-5)),
    ]
    for ours, theirs in pairs:
        ours.weight.data = constant(weight)
        ours.bias.data = constant(bias)
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(weight))
            theirs.bias.copy_(torch.tensor(bias))
        x_ours = ndl.Tensor(x)
        x_theirs = torch.tensor(x, requires_grad=True)
        out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
        np.testing.assert_allclose(out_ours.numpy(), out_theirs.detach().numpy(), rtol=1e-4, atol=1e-5)
        (out_ours * out_ours * out_ours).sum().backward()
        (out_theirs ** 3).sum().backward()
        np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-3, atol=1e-4)
    batchnorm, torch_batchnorm = pairs[0]
    np.testing.assert_allclose(batchnorm.running_mean.numpy(), torch_batchnorm.running_mean.numpy(),
                               rtol=1e-5)
    # needle puts the biased variance into running_var; PyTorch the unbiased one (n / (n − 1) larger).
    observed = (torch_batchnorm.running_var.numpy() - 0.9) / 0.1
    np.testing.assert_allclose((batchnorm.running_var.numpy() - 0.9) / 0.1, observed * 5 / 6, rtol=1e-4)


def test_batchnorm_refuses_a_batch_of_one_in_training_and_accepts_it_in_eval():
    bn = nn.BatchNorm1d(3)
    x = ndl.Tensor(np.ones((1, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"batch_norm: training needs more than one value per feature, got input \(1, 3\)"):
        bn(x)
    assert bn.eval()(x).shape == (1, 3)

