"""nn.Conv, the pooling layers and BatchNorm2d: against PyTorch and BatchNorm1d, init order, state, reprs."""
import numpy as np
import pytest

import needle as ndl
import needle.nn.functional as F
from needle import nn


def _input(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---- Conv --------------------------------------------------------------------------------------


def test_conv_weight_is_drawn_first_then_the_bias_with_the_contracts_seed_figure():
    """With np.random.seed(0) the weight is kaiming_uniform(144, 72, shape=(3, 3, 16, 8)), which sums to
    about −2.5719 (the contract's figure); the bias is the next draw, uniform on ±1/√144."""
    np.random.seed(0)
    layer = nn.Conv(16, 8, 3)
    assert layer.weight.shape == (3, 3, 16, 8) and layer.bias.shape == (8,)
    assert layer.weight.dtype == layer.bias.dtype == np.float32
    assert abs(float(layer.weight.numpy().sum()) - (-2.5719)) < 5e-5
    np.random.seed(0)
    weight = ndl.init.kaiming_uniform(144, 72, shape=(3, 3, 16, 8))
    bias = np.random.rand(8) * (2 / 12) - 1 / 12
    np.testing.assert_array_equal(layer.weight.numpy(), weight.numpy())
    np.testing.assert_allclose(layer.bias.numpy(), bias, rtol=1e-6)
    assert np.abs(layer.weight.numpy()).max() <= np.sqrt(2) * np.sqrt(3 / 144)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


@pytest.mark.parametrize("c_in, c_out, kernel_size, stride, bias, size", [
    (3, 4, 3, 1, True, (2, 7, 7)),
    (2, 5, 3, 2, True, (2, 8, 6)),
    (1, 2, 4, 1, False, (1, 6, 6)),
    (4, 3, (5, 5), (2, 2), True, (3, 9, 7)),
    (3, 2, 1, 1, True, (2, 4, 5)),
])
def test_conv_layer_matches_pytorch_values_and_all_gradients(c_in, c_out, kernel_size, stride, bias, size):
    torch = pytest.importorskip("torch")
    n, h, w = size
    layer = nn.Conv(c_in, c_out, kernel_size, stride=stride, bias=bias)
    k, s = layer.kernel_size, layer.stride
    a = _input((n, c_in, h, w))
    x = ndl.Tensor(a)
    y = layer(x)
    tx = torch.tensor(a, requires_grad=True)
    tw = torch.tensor(layer.weight.numpy(), requires_grad=True)
    tb = torch.tensor(layer.bias.numpy(), requires_grad=True) if bias else None
    ty = torch.nn.functional.conv2d(tx, tw.permute(3, 2, 0, 1), tb, s, padding=k // 2)
    assert y.shape == tuple(ty.shape) and y.dtype == np.float32
    out_grad = _input(y.shape, seed=1)
    y.backward(ndl.Tensor(out_grad))
    ty.backward(torch.tensor(out_grad))
    pairs = [(y, ty), (x.grad, tx.grad), (layer.weight.grad, tw.grad)] + ([(layer.bias.grad, tb.grad)] if bias else [])
    for ours, theirs in pairs:
        theirs = theirs.detach().numpy()
        np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-4, atol=1e-4 * np.abs(theirs).max())


def test_conv_layer_keeps_same_size_at_stride_one_and_refuses_wrong_input():
    layer = nn.Conv(3, 6, 5)
    assert layer(ndl.Tensor(np.zeros((2, 3, 7, 9), np.float32))).shape == (2, 6, 7, 9)
    with pytest.raises(ValueError, match=r"Conv: expected NCHW input with C=3 channels, got \(2, 7, 9, 3\)"):
        layer(ndl.Tensor(np.zeros((2, 7, 9, 3), np.float32)))
    with pytest.raises(ValueError, match="Conv: kernel_size must be a positive integer"):
        nn.Conv(3, 6, 0)
    with pytest.raises(ValueError, match="Conv: stride must be a positive integer"):
        nn.Conv(3, 6, 3, stride=1.5)


def test_conv_layer_takes_device_and_dtype_and_round_trips_its_state():
    layer = nn.Conv(2, 3, 3, device=ndl.cpu(), dtype="float64")
    assert layer.weight.dtype == layer.bias.dtype == np.float64
    assert layer(ndl.Tensor(np.zeros((1, 2, 4, 4)))).dtype == np.float64
    other = nn.Conv(2, 3, 3, dtype="float64")
    other.load_state_dict(layer.state_dict())
    x = ndl.Tensor(_input((1, 2, 5, 5)).astype(np.float64))
    np.testing.assert_array_equal(other(x).numpy(), layer(x).numpy())
    assert repr(nn.Conv(2, 3, 3, stride=2, bias=False)) == "Conv(2, 3, kernel_size=3, stride=2, padding=1, bias=False)"
    assert nn.Conv(2, 3, 3, bias=False).state_dict().keys() == {"weight"}


# ---- pooling layers -----------------------------------------------------------------------------


def test_pooling_layers_call_their_functions_and_match_pytorch():
    torch = pytest.importorskip("torch")
    a = _input((2, 3, 8, 6))
    for ours, theirs in (
        (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)),
        (nn.AvgPool2d(2, 1), torch.nn.AvgPool2d(2, 1)),
        (nn.AvgPool2d((3, 2), 2, (1, 0)), torch.nn.AvgPool2d((3, 2), 2, (1, 0))),
        (nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1)),
        (nn.AdaptiveAvgPool2d((2, 3)), torch.nn.AdaptiveAvgPool2d((2, 3))),
    ):
        x, tx = ndl.Tensor(a), torch.tensor(a, requires_grad=True)
        y, ty = ours(x), theirs(tx)
        out_grad = _input(y.shape, seed=2)
        y.backward(ndl.Tensor(out_grad))
        ty.backward(torch.tensor(out_grad))
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=repr(ours))
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=repr(ours))


def test_adaptive_average_pooling_is_the_mean_over_an_even_grid():
    a = _input((2, 3, 4, 6))
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(ndl.Tensor(a)).numpy(), a.mean(axis=(2, 3), keepdims=True),
                               rtol=1e-6)
    expected = a.reshape(2, 3, 2, 2, 3, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(a, (2, 3)).numpy(), expected, rtol=1e-6)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output size \(3, 3\) must divide .* \(4, 6\)"):
        nn.AdaptiveAvgPool2d(3)(ndl.Tensor(a))


def test_pooling_layers_check_their_window_when_built_and_have_reprs():
    with pytest.raises(ValueError, match="max_pool2d: padding .* at most half"):
        nn.MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match="avg_pool2d: kernel_size"):
        nn.AvgPool2d(0)
    with pytest.raises(ValueError, match="AdaptiveAvgPool2d: output_size"):
        nn.AdaptiveAvgPool2d(0)
    assert repr(nn.MaxPool2d(3, 2, 1)) == "MaxPool2d(kernel_size=3, stride=2, padding=1)"
    assert repr(nn.AdaptiveAvgPool2d(1)) == "AdaptiveAvgPool2d(output_size=1)"
    assert nn.MaxPool2d(2).state_dict() == {} and list(nn.AvgPool2d(2).parameters()) == []


def test_flatten_after_conv_and_pooling_gives_rows():
    model = nn.Sequential(nn.Conv(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 2))
    out = model(ndl.Tensor(_input((5, 1, 6, 6))))
    assert out.shape == (5, 2)
    out.sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())


# ---- BatchNorm2d ----------------------------------------------------------------------------------


def _moved(a):
    """NCHW as rows (N·H·W, C), the layout BatchNorm2d hands to BatchNorm1d."""
    n, c, h, w = a.shape
    return a.transpose(0, 2, 3, 1).reshape(n * h * w, c)


def test_batchnorm2d_is_batchnorm1d_on_the_moved_axes_in_training_and_evaluation():
    a = _input((3, 4, 5, 2)) * 2 + 1
    bn2, bn1 = nn.BatchNorm2d(4, momentum=0.2), nn.BatchNorm1d(4, momentum=0.2)
    for layer in (bn2, bn1):
        layer.weight.data = ndl.Tensor(np.linspace(0.5, 2, 4, dtype=np.float32))
        layer.bias.data = ndl.Tensor(np.linspace(-1, 1, 4, dtype=np.float32))
    out_grad = _input(a.shape, seed=3)
    x2, x1 = ndl.Tensor(a), ndl.Tensor(_moved(a))
    y2, y1 = bn2(x2), bn1(x1)
    np.testing.assert_allclose(_moved(y2.numpy()), y1.numpy(), rtol=1e-5, atol=1e-6)
    y2.backward(ndl.Tensor(out_grad))
    y1.backward(ndl.Tensor(_moved(out_grad)))
    np.testing.assert_allclose(_moved(x2.grad.numpy()), x1.grad.numpy(), rtol=1e-5, atol=1e-6)
    for name in ("weight", "bias"):
        np.testing.assert_allclose(getattr(bn2, name).grad.numpy(), getattr(bn1, name).grad.numpy(), rtol=1e-5)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(bn2, name).numpy(), getattr(bn1, name).numpy(), rtol=1e-6)
    np.testing.assert_allclose(bn2.running_mean.numpy(), 0.2 * _moved(a).mean(axis=0), rtol=1e-5)
    bn2.eval(), bn1.eval()
    b = _input((2, 4, 3, 3), seed=4)
    np.testing.assert_allclose(_moved(bn2(ndl.Tensor(b)).numpy()), bn1(ndl.Tensor(_moved(b))).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_batchnorm2d_matches_pytorch_in_training():
    torch = pytest.importorskip("torch")
    a = _input((4, 3, 5, 5))
    layer, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    x, tx = ndl.Tensor(a), torch.tensor(a, requires_grad=True)
    y, ty = layer(x), theirs(tx)
    out_grad = _input(a.shape, seed=5)
    y.backward(ndl.Tensor(out_grad))
    ty.backward(torch.tensor(out_grad))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-5, atol=1e-7)


def test_batchnorm2d_state_dtype_repr_and_bad_input():
    layer = nn.BatchNorm2d(3, eps=1e-3, momentum=0.5, dtype="float64")
    layer(ndl.Tensor(_input((2, 3, 2, 2)).astype(np.float64)))
    assert layer.running_mean.dtype == np.float64
    other = nn.BatchNorm2d(3, dtype="float64")
    other.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(other.running_var.numpy(), layer.running_var.numpy())
    assert set(layer.state_dict()) == {"weight", "bias", "running_mean", "running_var"}
    assert repr(layer) == "BatchNorm2d(3, eps=0.001, momentum=0.5)"
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected NCHW input with C=3 channels, got \(2, 2, 2, 3\)"):
        layer(ndl.Tensor(np.zeros((2, 2, 2, 3))))


@pytest.mark.parametrize("build", [
    lambda **kw: nn.Conv(1, 2, 3, **kw), lambda **kw: nn.BatchNorm2d(3, **kw), lambda **kw: nn.MaxPool2d(2, **kw),
    lambda **kw: nn.AvgPool2d(2, **kw), lambda **kw: nn.AdaptiveAvgPool2d(1, **kw),
], ids=["Conv", "BatchNorm2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"])
def test_cnn_layers_take_the_cpu_and_refuse_a_device_that_is_not_enabled(build):
    build(device=ndl.cpu(), dtype="float32")
    with pytest.raises(ValueError, match="device cuda\\(\\) is not enabled"):
        build(device=ndl.cuda())


def test_a_conv_batchnorm_relu_pool_block_has_second_derivatives():
    """The fused CNN path end to end (conv at stride 2 → channel_bias → channel_norm → ReLU → max pooling,
    channels-last memory throughout), in float64: gradients and gradients of gradients against central
    differences, with respect to the input and the conv's weight."""
    from needle.testing import check_gradients

    np.random.seed(0)
    conv, norm = nn.Conv(2, 3, 3, stride=2, dtype="float64"), nn.BatchNorm2d(3, dtype="float64")

    def block(x, weight):
        out = ndl.ops.conv(x.permute((0, 2, 3, 1)), weight, 2, 1)
        out = ndl.ops.channel_bias(out, conv.bias, 3).permute((0, 3, 1, 2))
        return F.max_pool2d(F.relu(norm(out)), 2) * 1.5

    x = np.random.default_rng(1).standard_normal((2, 2, 8, 8))
    check_gradients(block, x, conv.weight.numpy().astype(np.float64), order=2)
