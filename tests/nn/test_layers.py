"""Layers: Linear's draws and forward, activations, containers and Dropout in both modes."""
import math

import numpy as np
import pytest

import needle as ndl
from needle import init, nn
from needle.testing import check_gradients


def constant(array):
    return ndl.Tensor(np.asarray(array, dtype=np.float32), requires_grad=False)


def rng_state():
    _, keys, position, *_ = np.random.get_state()
    return keys.tobytes(), position


def test_linear_draws_weight_then_bias_from_the_global_rng():
    np.random.seed(11)
    layer = nn.Linear(4, 3)
    after_layer = np.random.rand()
    np.random.seed(11)
    weight = (np.random.rand(4, 3) * 2 - 1) * math.sqrt(2) * math.sqrt(3 / 4)
    bias = (np.random.rand(3, 1) * 2 - 1) * math.sqrt(2) * math.sqrt(3 / 3)
    assert np.random.rand() == after_layer
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (1, 3)
    np.testing.assert_allclose(layer.weight.numpy(), weight, rtol=1e-6)
    np.testing.assert_allclose(layer.bias.numpy(), bias.reshape(1, 3), rtol=1e-6)
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.requires_grad
    assert layer.weight.dtype == np.float32


def test_linear_without_bias_draws_only_the_weight():
    np.random.seed(2)
    layer = nn.Linear(5, 2, bias=False)
    after = np.random.rand()
    np.random.seed(2)
    np.random.rand(5, 2)
    assert np.random.rand() == after
    assert layer.bias is None and len(layer.parameters()) == 1
    x = init.randn(3, 5)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() @ layer.weight.numpy(), rtol=1e-6)


def test_linear_forward_is_x_w_plus_b_on_any_leading_shape():
    layer = nn.Linear(4, 3)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    for shape in [(5, 4), (2, 5, 4), (4,)]:
        x = init.randn(*shape)
        out = layer(x)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.numpy(), x.numpy() @ w + b.reshape(-1), rtol=1e-5, atol=1e-6)


def test_linear_bias_replaced_through_data_by_a_1d_tensor_still_works():
    layer = nn.Linear(4, 3)
    layer.bias.data = constant([1.0, 2.0, 3.0])
    x = init.randn(2, 4)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() @ layer.weight.numpy() + [1, 2, 3], rtol=1e-5)
    layer(x).sum().backward()
    np.testing.assert_array_equal(layer.bias.grad.numpy(), [2.0, 2.0, 2.0])


def test_linear_rejects_a_wrong_input_width():
    with pytest.raises(ValueError, match=r"Linear: input of shape \(2, 5\) does not end in in_features=4"):
        nn.Linear(4, 3)(init.randn(2, 5))


def test_forwards_draw_nothing_except_dropout_in_training():
    layers = [nn.Linear(3, 4), nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Flatten(), nn.Residual(nn.Identity()),
              nn.LayerNorm1d(4), nn.BatchNorm1d(4)]
    x = init.randn(5, 3)
    for model in [nn.Sequential(*layers).train(), nn.Sequential(*layers, nn.Dropout(0.5)).eval()]:
        state = rng_state()
        nn.SoftmaxLoss()(model(x), np.array([0, 1, 2, 3, 0])).backward()
        nn.MSELoss()(model(x), x[:, :1].broadcast_to((5, 4))).backward()
        assert rng_state() == state


def test_linear_gradients():
    layer = nn.Linear(3, 2, dtype="float64")

    def linear(x, weight, bias):
        layer.weight, layer.bias = weight, bias
        return layer(x)

    check_gradients(linear, np.random.randn(4, 3), layer.weight.numpy(), layer.bias.numpy())


@pytest.mark.parametrize(
    "module, reference",
    [
        (nn.Identity(), lambda x: x),
        (nn.ReLU(), lambda x: np.maximum(x, 0)),
        (nn.Tanh(), np.tanh),
        (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    ],
    ids=["Identity", "ReLU", "Tanh", "Sigmoid"],
)
def test_activations_match_numpy(module, reference):
    x = np.random.randn(3, 4).astype(np.float32) * 3
    out = module(constant(x))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), reference(x), rtol=1e-6, atol=1e-7)


def test_flatten_keeps_the_batch_axis():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(nn.Flatten()(constant(x)).numpy(), x.reshape(2, 60))


def test_sequential_and_residual_compose():
    first, second = nn.Linear(3, 3), nn.Linear(3, 3)
    model = nn.Sequential(first, nn.ReLU(), nn.Residual(second))
    assert model.modules[0] is first
    x = init.randn(4, 3)
    hidden = np.maximum(first(x).numpy(), 0)
    expected = hidden @ second.weight.numpy() + second.bias.numpy() + hidden
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert nn.Sequential()(x) is x


def test_dropout_in_training_keeps_where_one_draw_is_at_most_one_minus_p():
    x = np.random.randn(6, 5).astype(np.float32)
    layer = nn.Dropout(p=0.3)
    np.random.seed(5)
    out = layer(constant(x)).numpy()
    after = np.random.rand()
    np.random.seed(5)
    keep = np.random.rand(6, 5) <= 0.7
    assert np.random.rand() == after
    np.testing.assert_allclose(out, x * keep / np.float32(0.7), rtol=1e-6)
    assert out.dtype == np.float32


def test_dropout_gradient_is_the_scaled_mask():
    x = ndl.Tensor(np.ones((50, 4), dtype=np.float32))
    np.random.seed(9)
    nn.Dropout(p=0.25)(x).sum().backward()
    np.random.seed(9)
    keep = np.random.rand(50, 4) <= 0.75
    np.testing.assert_allclose(x.grad.numpy(), keep / 0.75, rtol=1e-6)


def test_dropout_in_eval_mode_is_the_identity_and_draws_nothing():
    x = init.randn(3, 4)
    layer = nn.Dropout(0.5).eval()
    state = rng_state()
    assert layer(x) is x
    assert rng_state() == state


def test_dropout_extremes():
    x = init.randn(3, 4)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    state = rng_state()
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).numpy(), np.zeros((3, 4)))
    assert rng_state() != state  # the draw is made even for p = 1


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", None, True])
def test_dropout_rejects_probabilities_outside_zero_one_and_non_numbers(p):
    with pytest.raises(ValueError, match=f"Dropout: invalid probability p={p!r}"):
        nn.Dropout(p)


@pytest.mark.parametrize("sizes", [(-1, 2), (3, 0), (2.5, 2), (True, 2)])
def test_linear_rejects_sizes_that_are_not_positive_integers(sizes):
    with pytest.raises(ValueError, match=r"Linear: (in|out)_features must be a positive integer"):
        nn.Linear(*sizes)


def test_linear_matches_torch_forward_and_gradients():
    torch = pytest.importorskip("torch")
    layer = nn.Linear(5, 3)
    reference = torch.nn.Linear(5, 3)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(layer.weight.numpy().T))
        reference.bias.copy_(torch.tensor(layer.bias.numpy().reshape(-1)))
    x = np.random.randn(4, 5).astype(np.float32)
    out = layer(constant(x))
    expected = reference(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    (out * out).sum().backward()
    (expected * expected).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), reference.weight.grad.numpy().T,
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.bias.grad.numpy().reshape(-1), reference.bias.grad.numpy(),
                               rtol=1e-4, atol=1e-5)


def test_composed_model_gradients_with_respect_to_its_input():
    block = nn.Sequential(
        nn.Linear(4, 3, dtype="float64"), nn.BatchNorm1d(3, dtype="float64"), nn.Tanh(), nn.Dropout(0.2),
        nn.Linear(3, 4, dtype="float64"), nn.LayerNorm1d(4, dtype="float64"),
    )
    model = nn.Sequential(nn.Residual(block), nn.Sigmoid(), nn.Flatten()).eval()
    check_gradients(model, np.random.randn(5, 4))


# ---- extra leading axes: (..., features), as sequence models and attention call these layers ----


def test_linear_on_leading_axes_is_one_product_of_the_folded_rows():
    layer = nn.Linear(4, 3)
    x = init.randn(2, 5, 4)
    calls = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(np, "matmul", lambda a, b: calls.append((a.shape, b.shape)) or a @ b)
        out = layer(x)
    assert type(out.op).__name__ == "Affine" and out.inputs[0] is x and out.shape == (2, 5, 3)
    assert calls == [((10, 4), (4, 3))]  # one product, not one per leading index
    rows = x.numpy().reshape(10, 4) @ layer.weight.numpy() + layer.bias.numpy()
    np.testing.assert_allclose(out.numpy(), rows.reshape(2, 5, 3), rtol=1e-6)
    assert layer(init.randn(0, 3, 4)).shape == (0, 3, 3)


def test_linear_gradients_on_leading_axes_with_and_without_bias():
    for bias in (True, False):
        layer = nn.Linear(3, 2, bias=bias, dtype="float64")

        def linear(x, weight, *bias_value):
            layer.weight = weight
            if bias_value:
                layer.bias = bias_value[0]
            return layer(x)

        parameters = [p.numpy() for p in layer.parameters()]
        check_gradients(linear, np.random.randn(2, 3, 3), *parameters)


def test_linear_on_leading_axes_matches_torch():
    torch = pytest.importorskip("torch")
    layer = nn.Linear(5, 3)
    weight = torch.tensor(layer.weight.numpy(), requires_grad=True)
    bias = torch.tensor(layer.bias.numpy().reshape(-1), requires_grad=True)
    x = np.random.randn(2, 3, 4, 5).astype(np.float32)
    x_torch = torch.tensor(x, requires_grad=True)
    source = ndl.Tensor(x)
    out = layer(source)
    expected = torch.nn.functional.linear(x_torch, weight.T, bias)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    (out * out).sum().backward()
    (expected * expected).sum().backward()
    np.testing.assert_allclose(source.grad.numpy(), x_torch.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.weight.grad.numpy(), weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.bias.grad.numpy().reshape(-1), bias.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_layer_norm_normalises_the_last_axis_of_any_leading_shape():
    layer = nn.LayerNorm1d(4)
    layer.weight.data = constant([1.0, 2.0, 0.5, -1.0])
    layer.bias.data = constant([0.0, 1.0, -1.0, 3.0])
    x = np.random.randn(2, 3, 4).astype(np.float32) * 3 + 1
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * [1.0, 2.0, 0.5, -1.0] + [0.0, 1.0, -1.0, 3.0]
    out = layer(constant(x))
    assert out.shape == (2, 3, 4) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)
    check_gradients(nn.LayerNorm1d(4, dtype="float64"), np.random.randn(2, 2, 4))


def test_layer_norm_on_leading_axes_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.randn(3, 2, 5).astype(np.float32)
    source = ndl.Tensor(x)
    x_torch = torch.tensor(x, requires_grad=True)
    out = nn.LayerNorm1d(5)(source)
    expected = torch.nn.LayerNorm(5)(x_torch)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)
    (out * out * out).sum().backward()
    (expected ** 3).sum().backward()
    np.testing.assert_allclose(source.grad.numpy(), x_torch.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_dropout_on_leading_axes_draws_one_mask_of_the_input_shape():
    x = np.random.randn(2, 3, 4).astype(np.float32)
    np.random.seed(6)
    out = nn.Dropout(0.4)(constant(x)).numpy()
    np.random.seed(6)
    keep = np.random.rand(2, 3, 4) <= 0.6
    np.testing.assert_allclose(out, x * keep / np.float32(0.6), rtol=1e-6)


def test_batch_norm_1d_on_batch_channels_length_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.randn(4, 3, 5).astype(np.float32) * 2 + 1
    layer = nn.BatchNorm1d(3)
    reference = torch.nn.BatchNorm1d(3)
    source = ndl.Tensor(x)
    x_torch = torch.tensor(x, requires_grad=True)
    out = layer(source)
    expected = reference(x_torch)
    assert out.shape == (4, 3, 5)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)
    (out * out * out).sum().backward()
    (expected ** 3).sum().backward()
    np.testing.assert_allclose(source.grad.numpy(), x_torch.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.running_mean.numpy(), reference.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    x = np.random.randn(2, 3, 5).astype(np.float32)
    mean = layer.running_mean.numpy().reshape(1, 3, 1)
    var = layer.running_var.numpy().reshape(1, 3, 1)  # needle: biased, unlike PyTorch's
    np.testing.assert_allclose(layer.eval()(constant(x)).numpy(), (x - mean) / np.sqrt(var + 1e-5),
                               rtol=1e-5, atol=1e-6)


def test_batch_norm_1d_on_batch_channels_length_is_batch_norm_of_the_rows():
    x = np.random.randn(3, 2, 4)
    rows = x.transpose(0, 2, 1).reshape(12, 2)
    expected = (rows - rows.mean(axis=0)) / np.sqrt(rows.var(axis=0) + 1e-5)
    out = nn.BatchNorm1d(2, dtype="float64")(ndl.Tensor(x))
    np.testing.assert_allclose(out.numpy(), expected.reshape(3, 4, 2).transpose(0, 2, 1), rtol=1e-10)
    check_gradients(nn.BatchNorm1d(2, dtype="float64"), np.random.randn(3, 2, 4))
