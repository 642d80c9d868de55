"""benchmarks/compiled.py computes what the hand-written NumPy computes."""
import numpy as np

from benchmarks import compiled, mlp, overhead


def test_compiled_chain_matches_the_hand_written_chain():
    total, grad = compiled.compiled_chain_runner()()
    expected_total, expected_grad = overhead.numpy_chain()
    np.testing.assert_allclose(total, expected_total, rtol=1e-6)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-6)


def test_compiled_mlp_epoch_replays_and_lowers_the_loss():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (300, 784)).astype(np.float32)
    y = rng.integers(0, 10, 300).astype(np.uint8)
    epoch = compiled.compiled_mlp_epoch(X, y, 0.1, 128)
    first = epoch()
    assert epoch.step.eager_reasons == [] and epoch.step.replays == 3  # 2 full batches and 1 short one
    assert epoch() < first
    assert np.isfinite(mlp.numpy_epoch(X, y, 0.1, 128)())
