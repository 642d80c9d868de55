"""Case table and properties for the scans: cumsum, cumprod (zeros included) and logcumsumexp."""
import warnings

import numpy as np
import pytest
from hypothesis import given

import needle as ndl
from tests.ops.case import Case
from tests.strategies import float32_arrays, shapes

def _with_zeros(rng):
    """A (4, 4) array whose rows hold no zero, one zero, two zeros and a leading zero."""
    a = rng.uniform(-2, 2, size=(4, 4)).astype(np.float32)
    a[1, 2] = a[2, 0] = a[2, 3] = a[3, 0] = 0
    return a


def _wide_range(rng):
    """Rows 0 and 2 have a running log-sum-exp that spans more than 60, where the O(n²) weights take
    over; row 1 keeps the O(n) rule."""
    a = rng.uniform(-2, 2, size=(3, 4)).astype(np.float32)
    a[[0, 2], 0] = [-100, -200]
    return a


CASES = [
    Case(ndl.cumsum, shapes=[(3, 4)], numpy=lambda a, dim: np.cumsum(a, dim), kwargs={"dim": 1}),
    Case(ndl.cumsum, shapes=[(2, 3, 4)], numpy=lambda a, axes: np.cumsum(a, axes), kwargs={"axes": 0}),
    Case(ndl.cumsum, shapes=[(5,)], numpy=lambda a, axis: np.cumsum(a, axis), kwargs={"axis": -1}),
    Case(ndl.cumsum, shapes=[()], numpy=lambda a, dim: a.copy(), kwargs={"dim": 0}),
    Case(lambda a: ndl.cumsum(a * a, 1), shapes=[(2, 3)], numpy=lambda a: np.cumsum(a * a, 1),
         name="cumsum_of_square"),
    Case(ndl.cumprod, shapes=[(3, 4)], numpy=lambda a, dim: np.cumprod(a, dim), kwargs={"dim": 1}),
    Case(ndl.cumprod, shapes=[(2, 3, 2)], numpy=lambda a, axis: np.cumprod(a, axis), kwargs={"axis": -2}),
    Case(ndl.cumprod, shapes=[()], numpy=lambda a, dim: a.copy(), kwargs={"dim": 0}),
    Case(ndl.cumprod, shapes=[(4, 4)], numpy=lambda a, dim: np.cumprod(a, dim), kwargs={"dim": 1},
         make_inputs=lambda rng: [_with_zeros(rng)], name="cumprod_zeros"),
    Case(ndl.cumprod, shapes=[(4, 4)], numpy=lambda a, dim: np.cumprod(a, dim), kwargs={"dim": 0},
         make_inputs=lambda rng: [_with_zeros(rng).T.copy()], name="cumprod_zeros_axis_0"),
    Case(ndl.logcumsumexp, shapes=[(3, 4)], numpy=lambda a, dim: np.logaddexp.accumulate(a, dim),
         kwargs={"dim": 1}, low=-3.0, high=3.0),
    Case(ndl.logcumsumexp, shapes=[(3, 2)], numpy=lambda a, dim: np.logaddexp.accumulate(a, dim),
         kwargs={"dim": 0}),
    Case(ndl.logcumsumexp, shapes=[(3, 4)], numpy=lambda a, dim: np.logaddexp.accumulate(a, dim),
         kwargs={"dim": 1}, make_inputs=lambda rng: [_wide_range(rng)], name="logcumsumexp_wide_range"),
]


@given(x=float32_arrays(shapes(min_dims=1, max_dims=3), -5.0, 5.0))
def test_cumsum_adjoint_is_the_reversed_running_sum(x):
    axis = x.ndim - 1
    leaf = ndl.Tensor(x)
    seed = np.arange(x.size, dtype=np.float32).reshape(x.shape)
    (g,) = ndl.autograd.grad(ndl.cumsum(leaf, axis), [leaf], out_grad=ndl.Tensor(seed))
    expected = np.flip(np.cumsum(np.flip(seed, axis), axis), axis)
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-6)


def test_cumsum_needs_its_axis_and_names_a_bad_one():
    x = ndl.Tensor(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="^cumsum: the axis is missing"):
        ndl.cumsum(x)
    with pytest.raises(ValueError, match="^cumsum: axis 2 is out of range for 2 dimensions"):
        ndl.cumsum(x, 2)


def test_cumsum_of_integers_stays_integer():
    out = ndl.cumsum(ndl.Tensor(np.array([1, 2, 3])), 0)
    assert out.dtype == np.int64 and out.numpy().tolist() == [1, 3, 6] and not out.requires_grad


def test_cumprod_gradient_at_zeros_is_the_product_of_the_others():
    """ā_j = Σ_{i≥j} Π_{k≤i, k≠j} a_k: no 0/0 at one zero, and the zero's own entry at two."""
    a = np.array([[2.0, 0.0, 3.0, 4.0], [0.0, 5.0, 0.0, 2.0]])
    x = ndl.Tensor(a)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = ndl.autograd.grad(ndl.cumprod(x, 1).sum(), [x])
    expected = [[1.0, 2 + 6 + 24, 0.0, 0.0], [1 + 5, 0.0, 0.0, 0.0]]
    np.testing.assert_allclose(g.numpy(), expected)


def test_cumprod_hessian_at_zeros_matches_pytorch():
    torch = pytest.importorskip("torch")
    a = np.array([[2.0, 0.0, 3.0, -1.5], [0.0, 1.5, 0.0, 2.0]])
    ours = ndl.func.hessian(lambda t: (ndl.cumprod(t, 1) ** 2).sum())(a).numpy()
    theirs = torch.autograd.functional.hessian(lambda t: (torch.cumprod(t, 1) ** 2).sum(), torch.tensor(a))
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-12)


@pytest.mark.parametrize("scale", [1e3, 1e30])
def test_logcumsumexp_does_not_overflow_at_large_inputs(scale):
    """e^1000 overflows; the scan and its weights e^(a_j − y_i) do not (at 1e30, y rounds to the
    max in float32 and the two weights of a tie round to 1 each: y's own precision)."""
    x = ndl.Tensor(np.float32([scale, scale, -scale]))
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise"):
        warnings.simplefilter("error")
        y = ndl.logcumsumexp(x, 0)
        (g,) = ndl.autograd.grad(y[2], [x])
    tie = np.float32(scale) + np.float32(np.log(2))
    np.testing.assert_allclose(y.numpy(), [scale, tie, tie], rtol=1e-7)
    expected = [0.5, 0.5, 0.0] if scale == 1e3 else [1.0, 1.0, 0.0]
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-4)


@pytest.mark.parametrize("op", [ndl.cumprod, ndl.logcumsumexp])
def test_scans_need_their_axis(op):
    with pytest.raises(TypeError, match=f"^{op.__name__}: the axis is missing"):
        op(ndl.Tensor(np.ones(3, np.float32)))
