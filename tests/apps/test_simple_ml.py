"""simple_ml: the hand-derived NumPy epochs against needle's autograd, and both against MNIST."""
import numpy as np
import pytest

import needle as ndl
from apps import simple_ml
from needle.cli.download import TEST_FILES
from needle.testing import check_gradients


def _problem(rng, n=60, features=8, hidden=6, classes=4):
    X = rng.standard_normal((n, features)).astype(np.float32)
    y = rng.integers(0, classes, n).astype(np.uint8)
    W1 = (rng.standard_normal((features, hidden)) / np.sqrt(hidden)).astype(np.float32)
    W2 = (rng.standard_normal((hidden, classes)) / np.sqrt(classes)).astype(np.float32)
    return X, y, W1, W2


def test_softmax_loss_is_the_mean_cross_entropy():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((5, 3)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0])
    loss = simple_ml.softmax_loss(ndl.Tensor(Z), ndl.Tensor(simple_ml.one_hot(y, 3)))
    expected = np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(5), y])
    assert loss.shape == () and loss.dtype == np.float32
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-6)


def test_softmax_loss_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    targets = simple_ml.one_hot(rng.integers(0, 4, 6), 4, dtype="float64")
    check_gradients(lambda Z: simple_ml.softmax_loss(Z, ndl.Tensor(targets)), rng.standard_normal((6, 4)))


def test_softmax_regression_epoch_steps_along_the_autograd_gradient():
    rng = np.random.default_rng(2)
    X, y, _, _ = _problem(rng)
    theta = rng.standard_normal((8, 4)).astype(np.float32)
    expected = theta.copy()
    for start in range(0, 60, 25):  # batches of 25, 25 and a short last one of 10
        weights = ndl.Tensor(expected)
        batch = slice(start, start + 25)
        targets = ndl.Tensor(simple_ml.one_hot(y[batch], 4))
        simple_ml.softmax_loss(ndl.Tensor(X[batch]) @ weights, targets).backward()
        expected = expected - 0.5 * weights.grad.numpy()
    simple_ml.softmax_regression_epoch(X, y, theta, lr=0.5, batch=25)
    assert theta.dtype == np.float32
    np.testing.assert_allclose(theta, expected, rtol=1e-5, atol=1e-6)


def test_the_numpy_and_needle_two_layer_epochs_agree():
    rng = np.random.default_rng(3)
    X, y, W1, W2 = _problem(rng)
    W1_needle, W2_needle = simple_ml.nn_epoch(X, y, ndl.Tensor(W1), ndl.Tensor(W2), lr=0.3, batch=16)
    simple_ml.nn_epoch_numpy(X, y, W1, W2, lr=0.3, batch=16)
    assert W1_needle.dtype == np.float32 and W2_needle.dtype == np.float32
    np.testing.assert_allclose(W1_needle.numpy(), W1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(W2_needle.numpy(), W2, rtol=1e-5, atol=1e-6)


def test_nn_epoch_returns_fresh_leaves_and_leaves_its_inputs_alone():
    rng = np.random.default_rng(4)
    X, y, W1, W2 = _problem(rng)
    W1_in, W2_in = ndl.Tensor(W1), ndl.Tensor(W2)
    W1_out, W2_out = simple_ml.nn_epoch(X, y, W1_in, W2_in, lr=0.1, batch=30)
    assert W1_out.is_leaf() and W2_out.is_leaf() and W1_out.requires_grad
    np.testing.assert_array_equal(W1_in.numpy(), W1)
    assert not np.allclose(W1_out.numpy(), W1)


def test_loss_err_gives_the_loss_and_the_error_rate():
    h = np.array([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0], [5.0, 0.0, 0.0]], dtype=np.float32)
    y = np.array([0, 1, 0, 0])
    loss, error = simple_ml.loss_err(ndl.Tensor(h), y)
    expected = np.mean(np.log(np.exp(h).sum(axis=1)) - h[np.arange(4), y])
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
    assert error == 0.25


@pytest.fixture(scope="module")
def mnist_arrays(mnist_dir):
    return simple_ml.parse_mnist(*(mnist_dir / name for name in TEST_FILES))


def test_parse_mnist_reads_the_test_set(mnist_arrays):
    X, y = mnist_arrays
    assert X.shape == (10_000, 784) and X.dtype == np.float32
    assert y.shape == (10_000,) and y.dtype == np.uint8
    assert X.min() == 0.0 and X.max() == 1.0 and set(np.unique(y)) == set(range(10))


def test_numpy_softmax_regression_and_two_layer_network_learn_mnist(mnist_arrays):
    X, y = mnist_arrays
    X_train, y_train, X_test, y_test = X[:3000], y[:3000], X[8000:], y[8000:]
    theta = np.zeros((784, 10), dtype=np.float32)
    for _ in range(2):
        simple_ml.softmax_regression_epoch(X_train, y_train, theta, lr=0.5, batch=100)
    _, softmax_error = simple_ml.loss_err(X_test @ theta, y_test)
    rng = np.random.default_rng(0)
    W1 = (rng.standard_normal((784, 100)) / 10).astype(np.float32)
    W2 = (rng.standard_normal((100, 10)) / np.sqrt(10)).astype(np.float32)
    for _ in range(2):
        simple_ml.nn_epoch_numpy(X_train, y_train, W1, W2, lr=0.5, batch=100)
    _, network_error = simple_ml.loss_err(np.maximum(X_test @ W1, 0) @ W2, y_test)
    assert softmax_error < 0.15 and network_error < 0.15
