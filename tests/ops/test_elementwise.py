"""Elementwise arithmetic and smooth functions: the case table, then properties and error messages."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import needle as ndl
from needle.testing import check_gradients
from tests.ops.case import Case
from tests.strategies import broadcastable_shapes, float32_arrays, shapes


# A unary row whose op takes any shape draws its input's shape (0-d included).
ONE_ANY_SHAPE = shapes(max_side=3).map(lambda shape: [shape])


def np_sigmoid(a):
    return 1 / (1 + np.exp(-a))


def np_power_scalar(a, scalar):
    return np.power(a, scalar)


CASES = [
    Case(ndl.add, shapes=[(3, 4), (3, 4)], numpy=np.add),
    Case(ndl.add, shapes=[(2, 3, 4), (3, 1)], numpy=np.add),
    Case(ndl.add, shapes=[(), (2, 3)], numpy=np.add),
    Case(ndl.add_scalar, shapes=[(3, 4)], numpy=lambda a, scalar: a + scalar, kwargs={"scalar": 1.5},
         drawn_shapes=ONE_ANY_SHAPE),
    Case(ndl.add_scalar, shapes=[()], numpy=lambda a, scalar: a + scalar,
         kwargs={"scalar": np.float64(-0.25)}),
    Case(ndl.multiply, shapes=[(3, 4), (4,)], numpy=np.multiply),
    Case(ndl.multiply, shapes=[(2, 1, 3), (1, 4, 1)], numpy=np.multiply),
    Case(ndl.mul_scalar, shapes=[(2, 3)], drawn_shapes=ONE_ANY_SHAPE, numpy=lambda a, scalar: a * scalar,
         kwargs={"scalar": np.float64(2.5)}),
    Case(ndl.mul_scalar, shapes=[(1, 3)], numpy=lambda a, scalar: a * scalar, kwargs={"scalar": -3}),
    # power's exponent adjoint needs ln a: the base is kept positive.
    Case(ndl.power, shapes=[(3, 4), (3, 4)], numpy=np.power, low=0.5, high=2.0),
    Case(ndl.power, shapes=[(2, 3), (3,)], numpy=np.power, low=0.5, high=2.0),
    Case(ndl.power, shapes=[(), (2, 1)], numpy=np.power, low=0.5, high=2.0),
    Case(ndl.power, shapes=[(3, 4), ()], numpy=np.power, grad_inputs=[0], name="power_negative_base",
         make_inputs=lambda rng: [rng.uniform(-2, 2, size=(3, 4)).astype(np.float32), np.float32(3)]),
    Case(ndl.power_scalar, shapes=[(3, 4)], numpy=np_power_scalar, kwargs={"scalar": 3},
         drawn_shapes=ONE_ANY_SHAPE),
    Case(ndl.power_scalar, shapes=[(3, 4)], numpy=np_power_scalar, kwargs={"scalar": -1.5}, low=0.5),
    Case(ndl.power_scalar, shapes=[(2, 3)], numpy=np_power_scalar, kwargs={"scalar": 0.5}, low=0.5),
    Case(ndl.power_scalar, shapes=[(2, 3)], numpy=np_power_scalar, kwargs={"scalar": 0}),
    Case(ndl.power_scalar, shapes=[()], numpy=np_power_scalar, kwargs={"scalar": np.float64(2.0)}),
    Case(ndl.divide, shapes=[(3, 4), (3, 4)], numpy=np.divide, low=0.5, high=2.0),
    Case(ndl.divide, shapes=[(2, 3), (1,)], numpy=np.divide, low=0.5, high=2.0),
    Case(ndl.divide, shapes=[(), (3, 1)], numpy=np.divide, low=0.5, high=2.0),
    Case(ndl.divide_scalar, shapes=[(3, 4)], numpy=lambda a, scalar: a / scalar, kwargs={"scalar": 4.0},
         drawn_shapes=ONE_ANY_SHAPE),
    Case(ndl.divide_scalar, shapes=[(3, 4)], numpy=lambda a, scalar: (a / scalar).astype(np.float32),
         kwargs={"scalar": np.array([2.0])}),
    Case(ndl.negate, shapes=[(3, 4)], drawn_shapes=ONE_ANY_SHAPE, numpy=np.negative),
    Case(ndl.negate, shapes=[()], numpy=np.negative),
    Case(ndl.log, shapes=[(3, 4)], drawn_shapes=ONE_ANY_SHAPE, numpy=np.log, low=0.5, high=3.0),
    Case(ndl.log, shapes=[()], numpy=np.log, low=0.5, high=3.0),
    Case(ndl.exp, shapes=[(3, 4)], drawn_shapes=ONE_ANY_SHAPE, numpy=np.exp),
    Case(ndl.exp, shapes=[(1,)], numpy=np.exp),
    Case(ndl.relu, shapes=[(3, 4)], drawn_shapes=ONE_ANY_SHAPE, numpy=lambda a: np.maximum(a, 0)),
    Case(ndl.tanh, shapes=[(3, 4)], drawn_shapes=ONE_ANY_SHAPE, numpy=np.tanh, low=-3.0, high=3.0),
    Case(ndl.tanh, shapes=[()], numpy=np.tanh),
    Case(ndl.sigmoid, shapes=[(3, 4)], drawn_shapes=ONE_ANY_SHAPE, numpy=np_sigmoid, low=-6.0, high=6.0),
    Case(ndl.sigmoid, shapes=[(1, 5)], numpy=np_sigmoid),
    Case(ndl.sqrt, shapes=[(3, 4)], drawn_shapes=ONE_ANY_SHAPE, numpy=np.sqrt, low=0.5, high=3.0),
    Case(ndl.sqrt, shapes=[()], numpy=np.sqrt, low=0.5, high=3.0),
    Case(ndl.sin, shapes=[(3, 4)], drawn_shapes=ONE_ANY_SHAPE, numpy=np.sin, low=-3.0, high=3.0),
    Case(ndl.cos, shapes=[(3, 4)], drawn_shapes=ONE_ANY_SHAPE, numpy=np.cos, low=-3.0, high=3.0),
    Case(ndl.cos, shapes=[()], numpy=np.cos),
    # Uniform draws stay off the kink at 0.
    Case(ndl.abs, shapes=[(3, 4)], drawn_shapes=ONE_ANY_SHAPE, numpy=np.abs),
    # to long double and back: both directions of a conversion (no precision lost for the checks)
    Case(lambda a: ndl.cast(ndl.cast(a, np.longdouble) ** 2, a.dtype), shapes=[(3, 4)],
         numpy=lambda a: (a.astype(np.longdouble) ** 2).astype(a.dtype), name="cast"),
]


# ---- numerical range ---------------------------------------------------------------------------


@pytest.mark.parametrize("fn, expected", [(ndl.sigmoid, [0.0, 1.0, 0.5]), (ndl.tanh, [-1.0, 1.0, 0.0])])
def test_sigmoid_and_tanh_saturate_without_overflow_warnings(fn, expected):
    x = ndl.Tensor(np.array([-1e4, 1e4, 0.0], dtype=np.float32))
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = fn(x)
        (g,) = ndl.autograd.grad(y, [x], create_graph=True)
        (gg,) = ndl.autograd.grad(g.sum(), [x])
    assert y.dtype == np.float32 and g.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), np.array(expected, dtype=np.float32))
    # Saturated: the slope is 0 at ±1e4; at 0 it is 1/4 for sigmoid and 1 for tanh.
    assert g.numpy()[0] == 0 and g.numpy()[1] == 0 and g.numpy()[2] > 0
    assert np.all(np.isfinite(gg.numpy()))


def test_sigmoid_is_within_three_float32_ulps_of_the_exact_value():
    a = np.linspace(-100, 100, 20001, dtype=np.float32)
    exact = 1 / (1 + np.exp(-a.astype(np.float64)))
    ulps = np.spacing(exact.astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(ndl.sigmoid(ndl.Tensor(a)).numpy() - exact) / ulps) <= 3


@pytest.mark.parametrize("fn", [ndl.abs, ndl.relu])
def test_subgradient_at_zero_is_zero(fn):
    x = ndl.Tensor(np.array([-1.5, 0.0, 2.0], dtype=np.float32))
    (g,) = ndl.autograd.grad(fn(x), [x])
    expected = [-1.0, 0.0, 1.0] if fn is ndl.abs else [0.0, 0.0, 1.0]
    np.testing.assert_array_equal(g.numpy(), np.array(expected, dtype=np.float32))


def test_power_with_a_constant_exponent_differentiates_negative_bases_cleanly():
    x = ndl.Tensor(np.float32([-2, 3]))
    exponent = ndl.Tensor(np.float32(2), requires_grad=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ln(−2) would warn: the exponent's adjoint is never formed
        y = x ** exponent
        (g,) = ndl.autograd.grad(y, [x])
        tangent = ndl.autograd.tangent_sweep([y], {x: ndl.Tensor(np.float32([1, 1]))})[y]
    np.testing.assert_array_equal(g.numpy(), [-4, 6])
    np.testing.assert_array_equal(tangent.numpy(), [-4, 6])


def test_power_gradients_at_a_zero_base_follow_pytorchs_convention():
    # PyTorch: d/da a^b is 0 where a = b = 0; d/db is 0 where a = 0 and b >= 0. No nan, no -inf.
    a = ndl.Tensor([0.0, 0.0, 0.0, 2.0])
    b = ndl.Tensor([0.0, 1.0, 2.5, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grad_a, grad_b = ndl.autograd.grad((a ** b).sum(), [a, b], create_graph=True)
        second = ndl.autograd.grad(grad_a.sum() + grad_b.sum(), [a, b])
    np.testing.assert_array_equal(grad_a.numpy(), [0.0, 1.0, 0.0, 12.0])
    np.testing.assert_allclose(grad_b.numpy(), [0.0, 0.0, 0.0, 8 * np.log(2)])
    assert all(np.isfinite(g.numpy()).all() for g in second)


# ---- dtypes -------------------------------------------------------------------------------------


SCALAR_OPS = [ndl.add_scalar, ndl.mul_scalar, ndl.power_scalar, ndl.divide_scalar]


@pytest.mark.parametrize("op", SCALAR_OPS, ids=lambda op: op.__name__)
@pytest.mark.parametrize(
    "scalar", [np.float64(1.5), np.float32(1.5), np.int64(2), 2, 1.5, np.array([1.5])],
    ids=["float64", "float32", "int64", "int", "float", "array1"],
)
def test_scalar_ops_keep_float32_for_any_scalar_type(op, scalar):
    x = ndl.Tensor(np.array([[0.5, 1.0], [2.0, 3.0]], dtype=np.float32))
    y = op(x, scalar)
    (g,) = ndl.autograd.grad(y, [x])
    assert y.dtype == np.float32 and g.dtype == np.float32


@pytest.mark.parametrize("op", [ndl.tanh, ndl.sigmoid, ndl.sqrt, ndl.sin, ndl.cos, ndl.abs, ndl.exp])
def test_float64_inputs_stay_float64(op):
    x = ndl.Tensor(np.array([0.5, 1.5]))
    (g,) = ndl.autograd.grad(op(x), [x])
    assert op(x).dtype == np.float64 and g.dtype == np.float64


def test_operators_with_scalars_keep_float32():
    x = ndl.Tensor(np.array([1.0, 2.0], dtype=np.float32))
    for y in (x + np.float64(1), x * np.float64(2), x - np.float64(1), x / np.float64(2),
              1 - x, 2 / x, 3 * x, x ** np.float64(2)):
        assert isinstance(y, ndl.Tensor) and y.dtype == np.float32


# ---- broadcasting, drawn shapes -----------------------------------------------------------------

BINARY_OPS = [(ndl.add, np.add, -2.0), (ndl.multiply, np.multiply, -2.0),
              (ndl.divide, np.divide, 0.5), (ndl.power, np.power, 0.5)]


@pytest.mark.parametrize("op, reference, low", BINARY_OPS, ids=[op.__name__ for op, _, _ in BINARY_OPS])
@given(data=st.data())
def test_binary_ops_broadcast_like_numpy_with_correct_gradients(op, reference, low, data):
    lhs_shape, rhs_shape = data.draw(broadcastable_shapes(max_dims=3, max_side=3))
    a = data.draw(float32_arrays(lhs_shape, low, 2.0))
    b = data.draw(float32_arrays(rhs_shape, low, 2.0))
    out = op(ndl.Tensor(a), ndl.Tensor(b))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), reference(a, b), rtol=1e-6)
    check_gradients(op, a, b, order=1, elementwise=False)


# ---- errors -------------------------------------------------------------------------------------


def test_mismatched_broadcast_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"^EWiseAdd: inputs \(2, 3\), \(4,\): "):
        ndl.add(ndl.Tensor(np.ones((2, 3))), ndl.Tensor(np.ones(4)))


@pytest.mark.parametrize("op", SCALAR_OPS, ids=lambda op: op.__name__)
def test_scalar_ops_reject_non_scalars(op):
    x = ndl.Tensor(np.ones(3, dtype=np.float32))
    with pytest.raises(TypeError, match=rf"^{op.__name__}: expected a real scalar, got str"):
        op(x, "2")
    message = rf"^{op.__name__}: the scalar must have one element, got shape \(2,\)"
    with pytest.raises(ValueError, match=message):
        op(x, np.array([1.0, 2.0]))
