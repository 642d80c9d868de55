"""SoftmaxLoss and MSELoss: values, gradients (to second order), stability, and PyTorch."""
import numpy as np
import pytest

import needle as ndl
from needle import nn
from needle.testing import check_gradients


def cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels].mean()


def test_softmax_loss_is_the_batch_mean_cross_entropy():
    logits = np.random.randn(6, 4).astype(np.float32) * 3
    labels = np.array([0, 3, 1, 1, 2, 0])
    loss = nn.SoftmaxLoss()(ndl.Tensor(logits), ndl.Tensor(labels.astype(np.uint8)))
    assert loss.shape == () and loss.dtype == np.float32
    assert loss.numpy() == pytest.approx(cross_entropy(logits.astype(np.float64), labels), rel=1e-5)
    # Labels given as a NumPy array work the same.
    np.testing.assert_array_equal(nn.SoftmaxLoss()(ndl.Tensor(logits), labels).numpy(), loss.numpy())


def test_softmax_loss_gradient_is_softmax_minus_one_hot_over_n():
    logits = np.random.randn(5, 3)
    labels = np.array([2, 0, 1, 1, 0])
    z = ndl.Tensor(logits)
    nn.SoftmaxLoss()(z, labels).backward()
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(z.grad.numpy(), (probs - np.eye(3)[labels]) / 5, rtol=1e-10)


def test_softmax_loss_gradients_to_second_order():
    labels = np.array([1, 0, 2, 2])
    check_gradients(lambda z: nn.SoftmaxLoss()(z, labels), np.random.randn(4, 3), order=2)


def test_softmax_loss_is_stable_for_huge_logits():
    logits = np.array([[1e10, 0.0, -1e10], [3e9, 3e9, 0.0]], dtype=np.float32)
    z = ndl.Tensor(logits)
    loss = nn.SoftmaxLoss()(z, np.array([0, 2]))
    loss.backward()
    assert np.isfinite(loss.numpy()) and np.isfinite(z.grad.numpy()).all()
    # Row 0 is certain and right (loss 0); row 1 puts all mass on classes 0 and 1 (loss 3e9 + log 2).
    assert loss.numpy() == pytest.approx((0.0 + 3e9 + np.log(2)) / 2, rel=1e-6)
    np.testing.assert_allclose(z.grad.numpy(), [[0, 0, 0], [0.25, 0.25, -0.5]], atol=1e-7)


@pytest.mark.parametrize(
    "logits_shape, labels_shape",
    [((4, 3), (5,)), ((4, 3), (4, 1))],
)
def test_softmax_loss_rejects_mismatched_shapes(logits_shape, labels_shape):
    with pytest.raises(ValueError, match=r"cross_entropy: expected logits \(N, C\) and integer targets \(N,\)"):
        nn.SoftmaxLoss()(ndl.Tensor(np.zeros(logits_shape)), np.zeros(labels_shape, dtype=int))


@pytest.mark.parametrize(
    "logits_shape, labels_shape",
    [((4,), (4,)), ((2, 3, 4), (2, 4)), ((2, 3, 4), (6,)), ((), ())],
)
def test_softmax_loss_with_leading_axes_needs_labels_of_the_leading_shape(logits_shape, labels_shape):
    with pytest.raises(ValueError, match=r"SoftmaxLoss: logits .* expected logits \(\.\.\., classes\)"):
        nn.SoftmaxLoss()(ndl.Tensor(np.zeros(logits_shape)), np.zeros(labels_shape, dtype=int))


def test_softmax_loss_on_leading_axes_is_the_mean_over_every_position():
    logits = np.random.randn(3, 2, 5).astype(np.float32) * 3
    labels = np.random.randint(0, 5, size=(3, 2))
    z = ndl.Tensor(logits)
    loss = nn.SoftmaxLoss()(z, ndl.Tensor(labels.astype(np.float32)))  # float labels, as the course's
    assert loss.shape == () and loss.dtype == np.float32
    expected = cross_entropy(logits.reshape(6, 5).astype(np.float64), labels.reshape(6))
    assert loss.numpy() == pytest.approx(expected, rel=1e-5)
    loss.backward()
    assert z.grad.shape == (3, 2, 5)
    # One example: logits (classes,) with a 0-d label.
    single = nn.SoftmaxLoss()(ndl.Tensor(logits[0, 0]), labels[0, 0])
    assert single.numpy() == pytest.approx(cross_entropy(logits[:1, 0].astype(np.float64), labels[:1, 0]), rel=1e-5)
    check_gradients(lambda z: nn.SoftmaxLoss()(z, labels), np.random.randn(3, 2, 5), order=2)


def test_softmax_loss_on_leading_axes_matches_torch():
    torch = pytest.importorskip("torch")
    logits = np.random.randn(4, 3, 6).astype(np.float32) * 2
    labels = np.random.randint(0, 6, size=(4, 3))
    z = ndl.Tensor(logits)
    z_torch = torch.tensor(logits, requires_grad=True)
    loss = nn.SoftmaxLoss()(z, labels)
    # PyTorch puts the classes on axis 1 of (N, C, d); the course puts them last.
    expected = torch.nn.functional.cross_entropy(z_torch.permute(0, 2, 1), torch.tensor(labels))
    assert loss.numpy() == pytest.approx(expected.item(), rel=1e-5)
    loss.backward()
    expected.backward()
    np.testing.assert_allclose(z.grad.numpy(), z_torch.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_mse_loss_is_the_mean_of_squared_differences():
    prediction = np.random.randn(3, 4).astype(np.float32)
    target = np.random.randn(3, 4).astype(np.float32)
    loss = nn.MSELoss()(ndl.Tensor(prediction), ndl.Tensor(target))
    assert loss.shape == () and loss.dtype == np.float32
    assert loss.numpy() == pytest.approx(((prediction - target) ** 2).mean(), rel=1e-6)
    check_gradients(lambda p, t: nn.MSELoss()(p, t), np.random.randn(2, 3), np.random.randn(2, 3))


def test_mse_loss_rejects_different_shapes():
    with pytest.raises(ValueError, match=r"mse_loss: input \(3,\) and target \(3, 1\) differ in shape"):
        nn.MSELoss()(ndl.Tensor(np.zeros(3)), ndl.Tensor(np.zeros((3, 1))))


def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    logits = np.random.randn(7, 5).astype(np.float32) * 4
    labels = np.random.randint(0, 5, size=7)
    z = ndl.Tensor(logits)
    z_torch = torch.tensor(logits, requires_grad=True)
    loss = nn.SoftmaxLoss()(z, labels)
    expected = torch.nn.functional.cross_entropy(z_torch, torch.tensor(labels))
    assert loss.numpy() == pytest.approx(expected.item(), rel=1e-5)
    loss.backward()
    expected.backward()
    np.testing.assert_allclose(z.grad.numpy(), z_torch.grad.numpy(), rtol=1e-5, atol=1e-7)

    target = np.random.randn(7, 5).astype(np.float32)
    mse = nn.MSELoss()(ndl.Tensor(logits), ndl.Tensor(target))
    expected = torch.nn.functional.mse_loss(torch.tensor(logits), torch.tensor(target))
    assert mse.numpy() == pytest.approx(expected.item(), rel=1e-5)
