"""Case table and properties for the elementary functions: log1p … sinc (needle/ops/elementary.py)."""
import warnings

import numpy as np
import pytest

import needle as ndl
from tests.ops.case import Case


def np_softplus(a, beta=1.0):
    return np.logaddexp(0, beta * a) / beta


def np_xlogy(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a == 0, 0, a * np.log(b)).astype(np.result_type(a, b))


def _xlogy_zeros(rng):
    """x with zeros in it and y > 0: only y is differentiated (x·ln y has slope ln y in x at x = 0,
    where PyTorch's rule, kept here, gives 0)."""
    a = rng.uniform(-2, 2, size=(3, 4)).astype(np.float32)
    a[0, :2] = a[2, 3] = 0
    return [a, rng.uniform(0.5, 2, size=(3, 4)).astype(np.float32)]


def _sinc_near_zero(rng):
    """0, tiny and small values, where the derivative is the Taylor series, and a few far away."""
    near = np.float32([0.0, 1e-4, -2e-3, 0.05, -0.12, 0.15])
    return [np.concatenate([near, rng.uniform(-2, 2, size=3).astype(np.float32)])]


CASES = [
    Case(ndl.log1p, shapes=[(3, 4)], numpy=np.log1p, low=-0.5, high=2.0),
    Case(ndl.expm1, shapes=[(3, 4)], numpy=np.expm1),
    Case(ndl.log2, shapes=[(3, 4)], numpy=np.log2, low=0.5, high=3.0),
    Case(ndl.log10, shapes=[(3, 4)], numpy=np.log10, low=0.5, high=3.0),
    Case(ndl.exp2, shapes=[(3, 4)], numpy=np.exp2),
    Case(ndl.reciprocal, shapes=[(3, 4)], numpy=np.reciprocal, low=0.5, high=2.0),
    Case(ndl.rsqrt, shapes=[(3, 4)], numpy=lambda a: 1 / np.sqrt(a), low=0.5, high=3.0),
    Case(ndl.square, shapes=[(3, 4)], numpy=np.square),
    Case(ndl.sign, shapes=[(3, 4)], numpy=np.sign),
    Case(ndl.tan, shapes=[(3, 4)], numpy=np.tan, low=-1.2, high=1.2),
    Case(ndl.arcsin, shapes=[(3, 4)], numpy=np.arcsin, low=-0.9, high=0.9),
    Case(ndl.arccos, shapes=[(3, 4)], numpy=np.arccos, low=-0.9, high=0.9),
    Case(ndl.arctan, shapes=[(3, 4)], numpy=np.arctan, low=-3.0, high=3.0),
    Case(ndl.arctan2, shapes=[(3, 4), (4,)], numpy=np.arctan2),
    Case(ndl.arctan2, shapes=[(), (2, 3)], numpy=np.arctan2, low=0.5, high=2.0),
    Case(ndl.sinh, shapes=[(3, 4)], numpy=np.sinh),
    Case(ndl.cosh, shapes=[(3, 4)], numpy=np.cosh),
    Case(ndl.arcsinh, shapes=[(3, 4)], numpy=np.arcsinh, low=-3.0, high=3.0),
    Case(ndl.arccosh, shapes=[(3, 4)], numpy=np.arccosh, low=1.2, high=3.0),
    Case(ndl.arctanh, shapes=[(3, 4)], numpy=np.arctanh, low=-0.9, high=0.9),
    Case(ndl.softplus, shapes=[(3, 4)], numpy=np_softplus, low=-6.0, high=6.0),
    Case(ndl.softplus, shapes=[(2, 3)], numpy=np_softplus, kwargs={"beta": 2.5}),
    Case(ndl.logsigmoid, shapes=[(3, 4)], numpy=lambda a: -np.logaddexp(0, -a), low=-6.0, high=6.0),
    Case(ndl.logaddexp, shapes=[(3, 4), (3, 1)], numpy=np.logaddexp, low=-3.0, high=3.0),
    Case(ndl.hypot, shapes=[(3, 4), (4,)], numpy=np.hypot),
    Case(ndl.xlogy, shapes=[(3, 4), (3, 4)], numpy=np_xlogy, make_inputs=lambda rng: [
        rng.uniform(-2, 2, size=(3, 4)).astype(np.float32), rng.uniform(0.5, 2, size=(3, 4)).astype(np.float32)]),
    Case(ndl.xlogy, shapes=[(3, 4), (3, 4)], numpy=np_xlogy, make_inputs=_xlogy_zeros, grad_inputs=[1],
         name="xlogy_zero_x"),
    Case(ndl.sinc, shapes=[(3, 4)], numpy=np.sinc),
    Case(ndl.sinc, shapes=[(9,)], numpy=np.sinc, make_inputs=_sinc_near_zero, name="sinc_near_zero"),
]


# ---- values at the edges ------------------------------------------------------------------------


def test_log1p_and_expm1_are_exact_for_tiny_inputs():
    x = ndl.Tensor(np.float32([1e-10, -1e-12]))
    np.testing.assert_allclose(ndl.log1p(x).numpy(), [1e-10, -1e-12], rtol=1e-6)
    np.testing.assert_allclose(ndl.expm1(x).numpy(), [1e-10, -1e-12], rtol=1e-6)


@pytest.mark.parametrize("fn, x, value, slope", [
    (ndl.softplus, 1e4, 1e4, 1.0), (ndl.softplus, -1e4, 0.0, 0.0),
    (ndl.logsigmoid, -1e4, -1e4, 1.0), (ndl.logsigmoid, 1e4, 0.0, 0.0),
], ids=["softplus+", "softplus-", "logsigmoid-", "logsigmoid+"])
def test_softplus_and_logsigmoid_do_not_overflow_in_either_tail(fn, x, value, slope):
    t = ndl.Tensor(np.float32([x]))
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = fn(t)
        (g,) = ndl.autograd.grad(y, [t], create_graph=True)
        (gg,) = ndl.autograd.grad(g.sum(), [t])
    assert y.dtype == np.float32
    assert y.numpy()[0] == pytest.approx(value) and g.numpy()[0] == slope and gg.numpy()[0] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_logsigmoid_and_logaddexp_agree_with_numpys_logaddexp(dtype):
    a = np.concatenate([np.linspace(-120, 120, 2001), [0, 1e-30, -1e-30, 1e10, -1e10, np.inf, -np.inf]]).astype(dtype)
    b = a[::-1].copy()
    tolerance = {"rtol": 4 * np.finfo(dtype).eps, "atol": 0}
    np.testing.assert_allclose(ndl.softplus(ndl.Tensor(a)).numpy(), np.logaddexp(0, a), **tolerance)
    np.testing.assert_allclose(ndl.logsigmoid(ndl.Tensor(a)).numpy(), -np.logaddexp(0, -a), **tolerance)
    with np.errstate(invalid="ignore"):  # NumPy's own inf − inf at a = b = ±inf
        expected = np.logaddexp(a, b)
    np.testing.assert_allclose(ndl.logaddexp(ndl.Tensor(a), ndl.Tensor(b)).numpy(), expected, **tolerance)
    same = np.array([np.inf, -np.inf], dtype=dtype)
    np.testing.assert_array_equal(ndl.logaddexp(ndl.Tensor(same), ndl.Tensor(same)).numpy(), same)


def test_logaddexp_weights_sum_to_one_at_large_equal_inputs():
    a, b = ndl.Tensor(np.float32([1e10])), ndl.Tensor(np.float32([1e10]))
    ga, gb = ndl.autograd.grad(ndl.logaddexp(a, b), [a, b])
    assert ga.numpy()[0] == 0.5 and gb.numpy()[0] == 0.5


def test_hypot_and_arctan2_gradients_are_zero_at_the_origin():
    a, b = ndl.Tensor([0.0, 3.0]), ndl.Tensor([0.0, 4.0])
    for fn in (ndl.hypot, ndl.arctan2):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ga, gb = ndl.autograd.grad(fn(a, b).sum(), [a, b])
        assert ga.numpy()[0] == 0 and gb.numpy()[0] == 0
    ga, gb = ndl.autograd.grad(ndl.hypot(a, b).sum(), [a, b])
    np.testing.assert_allclose([ga.numpy()[1], gb.numpy()[1]], [0.6, 0.8])


def test_xlogy_is_zero_where_x_is_zero_and_so_is_its_gradient():
    x, y = ndl.Tensor([0.0, 0.0, 2.0, 0.0]), ndl.Tensor([0.0, 3.0, np.e, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ndl.xlogy(x, y)
        gx, gy = ndl.autograd.grad(out[:3].sum(), [x, y])
    np.testing.assert_array_equal(out.numpy()[:3], [0.0, 0.0, 2.0])
    assert np.isnan(out.numpy()[3])  # nan in y stays nan, as in PyTorch and SciPy
    np.testing.assert_allclose(gx.numpy(), [0.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(gy.numpy(), [0.0, 0.0, 2 / np.e, 0.0])


def test_sinc_is_one_at_zero_with_slope_zero_and_curvature_minus_pi_squared_over_three():
    x = ndl.Tensor(np.array([0.0]))
    (g,) = ndl.autograd.grad(ndl.sinc(x), [x], create_graph=True)
    (gg,) = ndl.autograd.grad(g, [x])
    assert ndl.sinc(x).numpy()[0] == 1 and g.numpy()[0] == 0
    np.testing.assert_allclose(gg.numpy(), [-np.pi ** 2 / 3], rtol=1e-12)


def test_sinc_derivative_is_smooth_across_the_switch_to_the_series():
    """Just inside and outside |πa| = 1/2 the two forms agree with the float64 closed form."""
    a = np.array([0.5 / np.pi * (1 - 1e-7), 0.5 / np.pi * (1 + 1e-7)], dtype=np.float32)
    x = ndl.Tensor(a)
    (g,) = ndl.autograd.grad(ndl.sinc(x).sum(), [x])
    a64 = a.astype(np.float64)
    expected = (np.cos(np.pi * a64) - np.sinc(a64)) / a64
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-5)


def test_sign_has_derivative_zero_and_keeps_nan():
    x = ndl.Tensor(np.float32([-2, 0, 3, np.nan]))
    (g,) = ndl.autograd.grad(ndl.sign(x).sum(), [x])
    np.testing.assert_array_equal(ndl.sign(x).numpy(), [-1, 0, 1, np.nan])
    np.testing.assert_array_equal(g.numpy(), [0, 0, 0, 0])


def test_reciprocal_of_integers_is_float():
    out = ndl.reciprocal(ndl.Tensor(np.array([2, 4])))
    assert out.dtype == np.float64 and out.numpy().tolist() == [0.5, 0.25]


def test_pytorch_spellings_are_the_same_functions():
    assert ndl.asin is ndl.arcsin and ndl.atan2 is ndl.arctan2 and ndl.acosh is ndl.arccosh


def test_softplus_rejects_a_non_positive_beta():
    with pytest.raises(ValueError, match="^softplus: beta must be a positive number, got 0"):
        ndl.softplus(ndl.Tensor(np.ones(2, np.float32)), beta=0)
