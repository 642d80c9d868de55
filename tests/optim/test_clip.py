"""clip_grad_norm: the global norm, the scaling, float32 extremes, and PyTorch."""
import math

import numpy as np
import pytest

import needle as ndl
from needle import nn, optim


def with_grads(*grads, dtype=np.float32):
    params = []
    for g in grads:
        p = nn.Parameter(np.zeros(np.shape(g), dtype=dtype))
        p.grad = ndl.Tensor(np.asarray(g, dtype=dtype), requires_grad=False)
        params.append(p)
    return params


def test_returns_the_global_norm_and_scales_to_max_norm():
    params = with_grads([3.0, 0.0], [[4.0]])
    originals = [p.grad.numpy() for p in params]
    total = optim.clip_grad_norm(params, max_norm=1.0)
    assert isinstance(total, float) and total == pytest.approx(5.0)
    np.testing.assert_allclose(params[0].grad.numpy(), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(params[1].grad.numpy(), [[0.8]], rtol=1e-5)
    assert params[0].grad.dtype == np.float32
    np.testing.assert_array_equal(originals[0], [3.0, 0.0])  # the old gradient array is not written


def test_gradients_within_the_bound_are_left_alone():
    params = with_grads([0.3, 0.4])
    grad = params[0].grad
    assert optim.clip_grad_norm(params, max_norm=1.0) == pytest.approx(0.5)
    assert params[0].grad is grad


def test_norm_of_huge_float32_gradients_is_finite():
    params = with_grads(np.full(1000, 3e37), [1e38])
    total = optim.clip_grad_norm(params, max_norm=2.0)
    assert total == pytest.approx(math.sqrt(1000 * 3e37**2 + 1e38**2), rel=1e-6)
    norm = math.sqrt(sum(float(np.sum(p.grad.numpy().astype(np.float64) ** 2)) for p in params))
    assert norm == pytest.approx(2.0, rel=1e-5)


@pytest.mark.parametrize("bad, expected", [(np.inf, math.inf), (np.nan, None)])
def test_non_finite_norms_are_returned_and_gradients_left_alone(bad, expected):
    params = with_grads([1.0, bad], [2.0])
    grads = [p.grad for p in params]
    total = optim.clip_grad_norm(params, max_norm=1.0)
    assert total == expected if expected is not None else math.isnan(total)
    assert [p.grad for p in params] == grads


def test_parameters_without_gradients_and_a_single_tensor():
    (p,) = with_grads([6.0, 8.0])
    assert optim.clip_grad_norm([nn.Parameter(np.ones(2, dtype=np.float32))], 1.0) == 0.0
    assert optim.clip_grad_norm(p, max_norm=5.0) == pytest.approx(10.0)
    np.testing.assert_allclose(p.grad.numpy(), [3.0, 4.0], rtol=1e-5)


def test_negative_max_norm_is_rejected():
    with pytest.raises(ValueError, match="clip_grad_norm: invalid max_norm -1.0"):
        optim.clip_grad_norm(with_grads([1.0]), -1.0)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    grads = [np.random.randn(3, 4).astype(np.float32) * 5, np.random.randn(7).astype(np.float32)]
    params = with_grads(*grads)
    tensors = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for t, g in zip(tensors, grads):
        t.grad = torch.tensor(g)
    total = optim.clip_grad_norm(params, max_norm=2.0)
    expected = torch.nn.utils.clip_grad_norm_(tensors, max_norm=2.0)
    assert total == pytest.approx(expected.item(), rel=1e-6)
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-6)
