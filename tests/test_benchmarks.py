"""The benchmark workloads compute the same thing in every implementation (no timing here)."""
import numpy as np
import pytest

from benchmarks import conv, gp, lstm, mlp, overhead, transformer
from benchmarks.common import in_fresh_process


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, (384, 784)).astype(np.float32), rng.integers(0, 10, 384).astype(np.uint8)


def test_needle_mlp_epoch_ends_on_the_hand_written_loss(batch):
    X, y = batch
    np.testing.assert_allclose(mlp.needle_epoch(X, y, 0.1, 128)(), mlp.numpy_epoch(X, y, 0.1, 128)(), rtol=1e-5)


def test_needle_hessian_vector_product_matches_the_hand_derived_one(batch):
    X, y = batch
    V = np.random.default_rng(1).standard_normal((784, mlp.HIDDEN)).astype(np.float32)
    by_hand = mlp.numpy_hvp(X[:128], y[:128], V)
    np.testing.assert_allclose(mlp.needle_hvp(X[:128], y[:128], V), by_hand, atol=1e-5 * np.abs(by_hand).max())


def test_needle_small_op_chain_matches_numpy():
    total, grad = overhead.needle_chain()
    expected_total, expected_grad = overhead.numpy_chain()
    np.testing.assert_allclose(total, expected_total, rtol=1e-5)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-5)


def test_needle_scalar_chain_matches_plain_floats():
    value, slope = overhead.needle_scalar_chain(2000)
    expected_value, expected_slope = overhead.floats_scalar_chain(2000)
    np.testing.assert_allclose([value, slope], [expected_value, expected_slope], rtol=1e-5)


@pytest.mark.parametrize("name", ["numpy", "needle", "torch", "autograd"])
def test_every_epoch_implementation_agrees(batch, name):
    if name in ("torch", "autograd"):
        pytest.importorskip(name)
    X, y = batch
    np.testing.assert_allclose(mlp.EPOCH[name](X, y, 0.1, 128)(), mlp.numpy_epoch(X, y, 0.1, 128)(), rtol=1e-4)


def test_a_run_in_a_fresh_process_reports_its_own_time_and_result():
    seconds, (value, slope) = in_fresh_process("overhead", "needle_scalar_chain", [200], [10])()
    assert 0 < seconds < 10
    np.testing.assert_allclose([value, slope], overhead.floats_scalar_chain(200), rtol=1e-9)


def test_a_failing_run_in_a_fresh_process_raises_with_its_error():
    with pytest.raises(RuntimeError, match="needle_scalar_chain failed in its own process"):
        in_fresh_process("overhead", "needle_scalar_chain", [-1.5], [10])()


@pytest.mark.parametrize("name", ["needle", "torch"])
def test_conv_step_matches_the_hand_written_im2col(name):
    """Workload 6 on a small batch: output, input gradient and kernel gradient agree with NumPy's."""
    if name == "torch":
        pytest.importorskip("torch")
    x, kernel, out_grad = conv.operands(batch=2, size=6)
    expected = conv.as_nhwc("numpy", conv.numpy_step(x, kernel, out_grad)())
    for ours, theirs in zip(conv.as_nhwc(name, conv.CONV[name](x, kernel, out_grad)()), expected):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * np.abs(theirs).max())


def test_needle_transformer_step_matches_the_torch_layers_step_for_step():
    pytest.importorskip("torch")
    ours, theirs = transformer.needle_step(dropout=0.0), transformer.torch_step(dropout=0.0)
    for _ in range(2):  # the second loss is after one Adam step: the gradients agree too
        np.testing.assert_allclose(ours(), theirs(), rtol=1e-5)


def test_needle_transformer_step_with_dropout_lowers_its_loss():
    step = transformer.needle_step()
    first = step()
    assert step() < first


@pytest.mark.parametrize("name", ["needle", "needle_inv_quad_logdet", "needle_cholesky", "torch"])
def test_gp_gradient_matches_the_hand_derived_one(name):
    if name == "torch":
        pytest.importorskip("torch")
    x, y = gp.data(n=40)
    value, grads = gp.GRADIENT[name](x, y)
    expected_value, expected_grads = gp.numpy_gradient(x, y)
    np.testing.assert_allclose(value, expected_value, rtol=1e-10)
    np.testing.assert_allclose(grads, expected_grads, rtol=1e-8)


def test_needle_lstm_language_model_steps_match_pytorch_from_the_same_weights(monkeypatch):
    pytest.importorskip("torch")
    for name, value in (("EMBEDDING", 8), ("HIDDEN", 16), ("TIME", 8), ("BATCH", 4)):
        monkeypatch.setattr(lstm, name, value)  # workload 8's step at a test's size
    ours, theirs = lstm.needle_step(), lstm.torch_step()
    for _ in range(3):
        np.testing.assert_allclose(ours(), theirs(), rtol=1e-4)


def test_needle_resnet9_steps_match_pytorch_from_the_same_weights():
    pytest.importorskip("torch")
    from benchmarks import resnet9

    X, y = resnet9.batch()
    X, y = X[:8], y[:8]  # workload 7's step at a test's batch size
    ours, theirs = resnet9.needle_resnet9_step(X, y), resnet9.torch_resnet9_step(X, y)
    for _ in range(2):  # the second loss is after one Adam step: the gradients agree too
        np.testing.assert_allclose(ours(), theirs(), rtol=1e-4)
