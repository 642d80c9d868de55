"""Reductions (sum, mean, max, logsumexp, softmax, logsoftmax): the case table, properties, errors."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import needle as ndl
from tests.ops.case import Case
from tests.strategies import float32_arrays, reduction_axes, shapes


def np_sum(a, axes=None, keepdims=False):
    return np.sum(a, axis=axes, keepdims=keepdims)


def np_mean(a, axes=None, keepdims=False):
    return np.mean(a, axis=axes, keepdims=keepdims)


def np_max(a, axes=None, keepdims=False):
    return np.max(a, axis=axes, keepdims=keepdims)


def np_min(a, axes=None, keepdims=False, **aliases):
    return np.min(a, axis=aliases.get("dim", aliases.get("axis", axes)),
                  keepdims=aliases.get("keepdim", keepdims))


def np_prod(a, axes=None, keepdims=False):
    return np.prod(a, axis=axes, keepdims=keepdims)


def _with_zeros(rng):
    """Rows with no zero, one zero, two zeros and three: every case of the product rule at zeros."""
    a = rng.uniform(-2, 2, size=(4, 3)).astype(np.float32)
    a[1, 2] = a[2, 0] = a[2, 1] = 0
    a[3] = 0
    return [a]


def _bools(rng):
    return [rng.uniform(-1, 1, size=(3, 4)) > -0.6]


def np_logsumexp(a, axes=None, keepdims=False):
    peak = np.max(a, axis=axes, keepdims=True)
    out = np.log(np.sum(np.exp(a - peak), axis=axes, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axes)


def np_softmax(a, axes=-1):
    powers = np.exp(a - np.max(a, axis=axes, keepdims=True))
    return powers / np.sum(powers, axis=axes, keepdims=True)


# −float32_max above the diagonal: the constant attention adds to hide later keys.
CAUSAL_MASK = -np.finfo(np.float32).max * np.triu(np.ones((3, 3), dtype=np.float32), 1)


def np_logsoftmax(a):
    return np.log(np_softmax(a.astype(np.float64))).astype(a.dtype)


CASES = [
    Case(ndl.summation, shapes=[(3, 4)], numpy=np_sum),
    Case(ndl.summation, shapes=[(2, 3, 4)], numpy=np_sum, kwargs={"axes": (0, 2)}),
    Case(ndl.summation, shapes=[(2, 3, 4)], numpy=np_sum, kwargs={"axes": -1, "keepdims": True}),
    Case(ndl.summation, shapes=[(3, 1)], numpy=np_sum, kwargs={"axes": 1}),
    Case(ndl.summation, shapes=[()], numpy=np_sum),
    Case(ndl.mean, shapes=[(3, 4)], numpy=np_mean),
    Case(ndl.mean, shapes=[(2, 3, 4)], numpy=np_mean, kwargs={"axes": (0, -1), "keepdims": True}),
    Case(ndl.mean, shapes=[(4, 1)], numpy=np_mean, kwargs={"axes": 0}),
    Case(ndl.mean, shapes=[()], numpy=np_mean),
    # Uniform draws have no ties, so the maxima are isolated and finite differences apply.
    Case(ndl.max, shapes=[(3, 4)], numpy=np_max),
    Case(ndl.max, shapes=[(2, 3, 4)], numpy=np_max, kwargs={"axes": 1, "keepdims": True}),
    Case(ndl.max, shapes=[(2, 3, 4)], numpy=np_max, kwargs={"axes": (-1, 0)}),
    Case(ndl.max, shapes=[(1, 3)], numpy=np_max, kwargs={"axes": 0}),
    Case(ndl.max, shapes=[()], numpy=np_max),
    Case(ndl.logsumexp, shapes=[(3, 4)], numpy=np_logsumexp, kwargs={"axes": 1}),
    Case(ndl.logsumexp, shapes=[(3, 4)], numpy=np_logsumexp),
    Case(ndl.logsumexp, shapes=[(2, 3, 4)], numpy=np_logsumexp,
         kwargs={"axes": (0, 2), "keepdims": True}),
    Case(ndl.logsumexp, shapes=[(3, 1)], numpy=np_logsumexp, kwargs={"axes": -1}),
    Case(ndl.logsumexp, shapes=[()], numpy=np_logsumexp),
    Case(ndl.softmax, shapes=[(3, 4)], numpy=np_softmax),
    Case(ndl.softmax, shapes=[(2, 3, 4)], numpy=np_softmax, kwargs={"axes": 1}),
    Case(ndl.softmax, shapes=[(2, 3, 4)], numpy=np_softmax, kwargs={"axes": (0, 2)}),
    Case(ndl.softmax, shapes=[(5,)], numpy=np_softmax),
    Case(ndl.softmax, shapes=[()], numpy=np_softmax),
    # Attention's use: scores (B, H, T_q, T_kv) over the last axis, and with the causal mask added.
    Case(ndl.softmax, shapes=[(2, 2, 3, 4)], numpy=np_softmax, name="softmax_attention_scores"),
    Case(lambda a: ndl.softmax(a + CAUSAL_MASK), shapes=[(1, 2, 3, 3)], numpy=lambda a: np_softmax(a + CAUSAL_MASK),
         name="softmax_causal_mask"),
    Case(ndl.logsoftmax, shapes=[(3, 4)], numpy=np_logsoftmax),
    Case(ndl.logsoftmax, shapes=[(2, 1, 3)], numpy=np_logsoftmax),
    Case(ndl.logsoftmax, shapes=[(5,)], numpy=np_logsoftmax),
    Case(ndl.min, shapes=[(3, 4)], numpy=np_min),
    Case(ndl.min, shapes=[(2, 3, 4)], numpy=np_min, kwargs={"dim": 1, "keepdim": True}),
    Case(ndl.min, shapes=[(2, 3, 4)], numpy=np_min, kwargs={"axis": (-1, 0)}),
    Case(ndl.argmax, shapes=[(3, 4)], numpy=np.argmax, order=0),
    Case(ndl.argmax, shapes=[(2, 3, 4)], numpy=lambda a, dim: np.argmax(a, dim), kwargs={"dim": 1}, order=0),
    Case(ndl.argmin, shapes=[(2, 3, 4)], numpy=lambda a, axis, keepdims: np.argmin(a, axis, keepdims=keepdims),
         kwargs={"axis": -1, "keepdims": True}, order=0),
    Case(ndl.var, shapes=[(3, 4)], numpy=lambda a: np.var(a, ddof=1)),
    Case(ndl.var, shapes=[(2, 3, 4)], numpy=lambda a, dim, keepdim: np.var(a, dim, ddof=1, keepdims=keepdim),
         kwargs={"dim": (0, 2), "keepdim": True}),
    Case(ndl.var, shapes=[(3, 4)], numpy=lambda a, axes, correction: np.var(a, axes, ddof=correction),
         kwargs={"axes": 1, "correction": 0}),
    Case(ndl.std, shapes=[(3, 4)], numpy=lambda a, axis, ddof: np.std(a, axis, ddof=ddof),
         kwargs={"axis": 0, "ddof": 1}),
    Case(ndl.std, shapes=[(5,)], numpy=lambda a, unbiased: np.std(a, ddof=int(unbiased)),
         kwargs={"unbiased": False}),
    Case(ndl.prod, shapes=[(3, 4)], numpy=np_prod, kwargs={"axes": 1}, low=0.5, high=1.5),
    Case(ndl.prod, shapes=[(2, 3, 4)], numpy=np_prod, kwargs={"axes": (0, 2), "keepdims": True}),
    Case(ndl.prod, shapes=[(4, 3)], numpy=np_prod, make_inputs=_with_zeros, kwargs={"axes": 1}, name="prod_zeros"),
    Case(ndl.prod, shapes=[(4, 3)], numpy=np_prod, make_inputs=_with_zeros, name="prod_zeros_all_axes"),
    Case(ndl.all, shapes=[(3, 4)], numpy=lambda a, dim: np.all(a, dim), kwargs={"dim": 1}, order=0,
         make_inputs=_bools),
    Case(ndl.any, shapes=[(3, 4)], numpy=lambda a: np.any(a), order=0, make_inputs=_bools),
    Case(ndl.any, shapes=[(3, 4)], numpy=lambda a, axis, keepdims: np.any(a, axis, keepdims=keepdims),
         kwargs={"axis": 0, "keepdims": True}, order=0, make_inputs=lambda rng: [rng.uniform(-1, 1, (3, 4)) > 0.9]),
    Case(ndl.logsoftmax, shapes=[(2, 3, 4)], numpy=lambda a, dim: np.log(np_softmax(a.astype(np.float64), dim)),
         kwargs={"dim": 1}, name="logsoftmax_dim_1"),
]


# ---- properties on drawn shapes -----------------------------------------------------------------


@st.composite
def arrays_and_axes(draw, min_dims=0):
    shape = draw(shapes(min_dims=min_dims, max_dims=3))
    return draw(float32_arrays(shape, -10.0, 10.0)), draw(reduction_axes(len(shape)))


@given(drawn=arrays_and_axes(), shift=st.floats(-100, 100))
def test_logsumexp_shifts_with_its_input(drawn, shift):
    x, axes = drawn
    base = ndl.logsumexp(ndl.Tensor(x), axes).numpy()
    shifted = ndl.logsumexp(ndl.Tensor(x) + shift, axes)
    assert shifted.dtype == np.float32
    np.testing.assert_allclose(shifted.numpy(), base + np.float32(shift), rtol=1e-5, atol=1e-4)


@given(drawn=arrays_and_axes())
def test_softmax_sums_to_one_over_its_axes(drawn):
    x, axes = drawn
    y = ndl.softmax(ndl.Tensor(x), axes).numpy()  # axes None: over all axes at once
    assert y.dtype == np.float32 and np.all((y >= 0) & (y <= 1))
    np.testing.assert_allclose(np.sum(y, axis=axes), 1.0, rtol=1e-5)


@given(drawn=arrays_and_axes(min_dims=1), keepdims=st.booleans())
def test_reductions_match_numpy_on_drawn_axes(drawn, keepdims):
    x, axes = drawn
    for op, reference in ((ndl.summation, np_sum), (ndl.mean, np_mean), (ndl.max, np_max),
                          (ndl.logsumexp, np_logsumexp)):
        leaf = ndl.Tensor(x)
        out = op(leaf, axes, keepdims=keepdims)
        (g,) = ndl.autograd.grad(out, [leaf])
        assert out.dtype == np.float32 and g.dtype == np.float32 and g.shape == x.shape
        np.testing.assert_allclose(out.numpy(), reference(x, axes, keepdims), rtol=1e-5, atol=1e-5)


# ---- stability at |x| = 1e10 --------------------------------------------------------------------

HUGE = np.array([[1e10, -1e10, 0.0], [-1e10, -1e10, -1e10], [1e10, 1e10, -1e10]], dtype=np.float32)


def exact_softmax(x):
    """Softmax along axis 1 in float64, rounded to float32: the exact float32 answer."""
    x = x.astype(np.float64)
    powers = np.exp(x - x.max(axis=1, keepdims=True))
    return powers / powers.sum(axis=1, keepdims=True)


def run_quietly(fn, x, seed):
    """fn(x) and its gradient for the adjoint `seed`; any overflow or invalid-value warning fails."""
    leaf = ndl.Tensor(x)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out = fn(leaf)
        (g,) = ndl.autograd.grad(out, [leaf], out_grad=ndl.Tensor(seed))
    assert out.dtype == np.float32 and g.dtype == np.float32
    return out.numpy(), g.numpy()


def test_logsumexp_is_exact_and_its_gradient_is_stable_for_large_inputs():
    seed = np.float32([1, 2, 3])
    out, g = run_quietly(lambda t: ndl.logsumexp(t, 1), HUGE, seed)
    x = HUGE.astype(np.float64)
    expected = np.log(np.exp(x - x.max(axis=1, keepdims=True)).sum(axis=1)) + x.max(axis=1)
    np.testing.assert_allclose(out, expected.astype(np.float32), rtol=1e-7, atol=0)
    expected_grad = (seed[:, None] * exact_softmax(HUGE)).astype(np.float32)
    np.testing.assert_allclose(g, expected_grad, rtol=1e-6, atol=0)


def test_softmax_is_exact_and_its_gradient_is_stable_for_large_inputs():
    seed = np.arange(9, dtype=np.float32).reshape(3, 3)
    out, g = run_quietly(lambda t: ndl.softmax(t, 1), HUGE, seed)
    y = exact_softmax(HUGE)
    np.testing.assert_allclose(out, y.astype(np.float32), rtol=1e-6, atol=0)
    expected = y * (seed - np.sum(seed * y, axis=1, keepdims=True))
    np.testing.assert_allclose(g, expected.astype(np.float32), rtol=1e-6, atol=1e-6)


def test_logsoftmax_is_exact_and_its_gradient_is_stable_for_large_inputs():
    seed = np.ones((3, 3), dtype=np.float32)
    out, g = run_quietly(ndl.logsoftmax, HUGE, seed)
    x = HUGE.astype(np.float64)
    shifted = x - x.max(axis=1, keepdims=True)
    expected = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(out, expected.astype(np.float32), rtol=1e-7, atol=0)
    np.testing.assert_allclose(g, (1 - 3 * exact_softmax(HUGE)).astype(np.float32), rtol=1e-6, atol=1e-7)


# ---- max: ties and NaN --------------------------------------------------------------------------


def test_max_splits_the_adjoint_evenly_among_tied_maxima():
    x = ndl.Tensor(np.float32([[1, 3, 3], [2, 2, 2], [0, 5, 1]]))
    (g,) = ndl.autograd.grad(ndl.max(x, 1), [x])
    np.testing.assert_allclose(g.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3], [0, 1, 0]], rtol=1e-7)
    out = ndl.max(x, 1, keepdims=True)
    tangent = ndl.autograd.tangent_sweep([out], {x: ndl.Tensor(np.float32([[9, 2, 4]] * 3))})[out]
    np.testing.assert_allclose(tangent.numpy(), [[3], [5], [2]], rtol=1e-7)  # mean over the tied entries


def test_max_over_a_slice_with_nan_is_nan_and_sends_the_adjoint_to_the_nan():
    x = ndl.Tensor(np.float32([[np.nan, 2, 3], [1, 4, 0]]))
    out = ndl.max(x, 1)
    (g,) = ndl.autograd.grad(out, [x])
    assert np.isnan(out.numpy()[0]) and out.numpy()[1] == 4
    np.testing.assert_array_equal(g.numpy(), [[1, 0, 0], [0, 1, 0]])


# ---- methods, dtypes and errors -----------------------------------------------------------------


def test_tensor_methods_reduce_with_keepdims():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = ndl.Tensor(a)
    np.testing.assert_array_equal(x.sum((0, 2), keepdims=True).numpy(), a.sum((0, 2), keepdims=True))
    np.testing.assert_array_equal(x.mean(1).numpy(), a.mean(axis=1))
    np.testing.assert_array_equal(x.max(-1, keepdims=True).numpy(), a.max(axis=-1, keepdims=True))
    assert x.mean().shape == () and x.mean().dtype == np.float32


REDUCTIONS = [ndl.summation, ndl.mean, ndl.max, ndl.logsumexp, ndl.softmax]


@pytest.mark.parametrize("op", REDUCTIONS, ids=lambda op: op.__name__)
def test_bad_axes_name_the_op_and_the_shape(op):
    x = ndl.Tensor(np.ones((2, 3), dtype=np.float32))
    name = op.__name__
    with pytest.raises(ValueError, match=rf"^{name}: axis 2 is out of range for shape \(2, 3\)"):
        op(x, 2)
    with pytest.raises(ValueError, match=rf"^{name}: axis -3 is out of range for shape \(2, 3\)"):
        op(x, (0, -3))
    with pytest.raises(ValueError, match=rf"^{name}: repeated axis in \(1, -1\) for shape \(2, 3\)"):
        op(x, (1, -1))
    with pytest.raises(TypeError, match=rf"^{name}: axes must be ints, got 1.0 for shape \(2, 3\)"):
        op(x, 1.0)
    with pytest.raises(ValueError, match=rf"^{name}: axis 1 is out of range for shape \(\)"):
        op(ndl.Tensor(np.float32(1)), 1)


@pytest.mark.parametrize("op", REDUCTIONS, ids=lambda op: op.__name__)
def test_a_0d_input_takes_axis_0_or_minus_1_and_reduces_nothing(op):
    x = ndl.Tensor(np.float32(0.75))
    expected = np.float32(1.0) if op is ndl.softmax else np.float32(0.75)
    for axes in (0, -1, (0,), ()):
        out = op(x, axes)
        assert out.shape == () and out.dtype == np.float32 and out.numpy() == expected


@pytest.mark.parametrize("op", [ndl.mean, ndl.max, ndl.logsumexp], ids=lambda op: op.__name__)
def test_reducing_an_empty_axis_is_an_error(op):
    x = ndl.Tensor(np.ones((0, 3), dtype=np.float32))
    message = rf"^{op.__name__}: cannot reduce shape \(0, 3\) over an empty axis"
    with pytest.raises(ValueError, match=message):
        op(x, 0)
    assert op(x, 1).shape == (0,)  # reducing the non-empty axis of an empty array is fine


def test_sum_and_softmax_of_empty_inputs_are_empty():
    x = ndl.Tensor(np.ones((0, 3), dtype=np.float32))
    assert ndl.summation(x, 0).shape == (3,) and np.all(ndl.summation(x, 0).numpy() == 0)
    assert ndl.softmax(x).shape == (0, 3) and ndl.softmax(x).dtype == np.float32


def test_logsoftmax_needs_an_axis():
    with pytest.raises(ValueError, match="^logsoftmax: needs at least 1 dimension, got a 0-d input"):
        ndl.logsoftmax(ndl.Tensor(np.float32(1)))


def test_logsumexp_of_a_slice_holding_inf_is_inf_with_finite_weights():
    x = ndl.Tensor([[np.inf, 1.0, np.inf], [1.0, 2.0, 3.0]])
    out = ndl.logsumexp(x, axes=1)
    out.sum().backward()
    assert out.numpy()[0] == np.inf and np.isfinite(out.numpy()[1])
    expected_row = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 0.0, 0.5], expected_row])



# ---- min, argmax/argmin, all/any ------------------------------------------------------------------


def test_min_splits_the_adjoint_evenly_among_tied_minima():
    x = ndl.Tensor(np.float32([[1, 0, 0], [2, 2, 2], [0, -5, 1]]))
    (g,) = ndl.autograd.grad(ndl.min(x, dim=1), [x])
    np.testing.assert_allclose(g.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3], [0, 1, 0]], rtol=1e-7)


def test_argmax_and_argmin_return_int64_first_indices_and_record_no_graph():
    x = ndl.Tensor(np.float32([[1, 4, 4], [4, 0, 0]]))
    assert ndl.argmax(x).numpy() == 1 and ndl.argmax(x).dtype == np.int64  # flattened, first of ties
    np.testing.assert_array_equal(ndl.argmax(x, dim=1).numpy(), [1, 0])
    np.testing.assert_array_equal(ndl.argmin(x, axis=1, keepdim=True).numpy(), [[0], [1]])
    assert ndl.argmax(x, keepdims=True).shape == (1, 1)
    assert not ndl.argmax(x, 0).requires_grad and ndl.argmax(x, 0).is_leaf()
    with pytest.raises(TypeError, match=r"^argmax: takes one axis \(an int\) or None, got \(0, 1\)"):
        ndl.argmax(x, (0, 1))
    with pytest.raises(ValueError, match=r"^argmin: cannot reduce shape \(0, 3\) over an empty axis"):
        ndl.argmin(ndl.Tensor(np.ones((0, 3), np.float32)), 0)


def test_all_and_any_reduce_to_bools_and_record_no_graph():
    x = ndl.Tensor(np.float32([[1, 0.5, 0], [2, 3, 4]]))
    np.testing.assert_array_equal(ndl.all(x, dim=1).numpy(), [False, True])
    assert ndl.any(x).dtype == np.bool_ and ndl.any(x).numpy() and not ndl.all(x).numpy()
    assert ndl.all(ndl.Tensor(np.ones((0,), np.float32))).numpy()  # empty: True, as in PyTorch
    assert not ndl.all(x).requires_grad


# ---- var and std ----------------------------------------------------------------------------------


def test_var_and_std_default_to_the_sample_correction_and_take_numpys_and_pytorchs_spellings():
    a = np.float32([[1, 2, 4], [0, 0, 3]])
    x = ndl.Tensor(a)
    np.testing.assert_allclose(ndl.var(x).numpy(), np.var(a, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(ndl.var(x, 1, unbiased=False).numpy(), np.var(a, 1), rtol=1e-6)
    np.testing.assert_allclose(ndl.var(x, dim=0, correction=0).numpy(), np.var(a, 0), rtol=1e-6)
    np.testing.assert_allclose(ndl.std(x, axis=1, ddof=2, keepdim=True).numpy(),
                               np.std(a, 1, ddof=2, keepdims=True), rtol=1e-6)
    with pytest.raises(TypeError, match="^var: pass one of correction=, unbiased= and ddof=, got correction and ddof"):
        ndl.var(x, correction=0, ddof=1)
    with pytest.raises(TypeError, match="^std: unbiased must be a bool"):
        ndl.std(x, unbiased=1)


def test_var_without_degrees_of_freedom_warns_and_gives_nan_as_pytorch_does():
    x = ndl.Tensor(np.float32([3.0]))
    with pytest.warns(RuntimeWarning, match=r"^var: 1 entries per result of \(1,\) with correction 1"):
        with np.errstate(invalid="ignore"):
            out = ndl.var(x)
    assert np.isnan(out.numpy())


def test_var_is_exact_for_a_large_mean():
    a = np.float32([1e4 + 1, 1e4 + 2, 1e4 + 3])
    assert ndl.var(ndl.Tensor(a)).numpy() == np.float32(1.0)  # the naive E[a²] − E[a]² loses it


def test_std_of_a_constant_slice_has_gradient_zero_as_in_pytorch():
    x = ndl.Tensor(np.float32([[2, 2, 2], [1, 2, 3]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ndl.std(x, 1)
        (g,) = ndl.autograd.grad(out, [x])
    np.testing.assert_allclose(out.numpy(), [0, 1], rtol=1e-6)
    np.testing.assert_allclose(g.numpy(), [[0, 0, 0], [-0.5, 0, 0.5]], rtol=1e-6)


# ---- prod with zeros ------------------------------------------------------------------------------


def test_prod_gradient_at_one_zero_and_at_several_zeros():
    x = ndl.Tensor(np.float32([[2, 3, 4], [2, 0, 4], [0, 3, 0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero anywhere
        out = ndl.prod(x, 1)
        (g,) = ndl.autograd.grad(out, [x])
    np.testing.assert_array_equal(out.numpy(), [24, 0, 0])
    np.testing.assert_array_equal(g.numpy(), [[12, 8, 6], [0, 8, 0], [0, 0, 0]])


def test_prod_hessian_at_zeros_matches_the_product_of_the_others():
    """∂²(Π a)/∂a_i∂a_k = Π_{j≠i,k} a_j for i ≠ k (0 on the diagonal), zeros included."""
    a = np.array([0.0, 2.0, 0.0, 3.0])
    hessian = ndl.func.hessian(lambda t: ndl.prod(t))(a).numpy()
    expected = np.zeros((4, 4))
    for i in range(4):
        for k in range(4):
            if i != k:
                expected[i, k] = np.prod(np.delete(a, [i, k]))
    np.testing.assert_array_equal(hessian, expected)


# ---- the axis argument's spellings ----------------------------------------------------------------

AXIS_FUNCTIONS = [ndl.summation, ndl.mean, ndl.max, ndl.min, ndl.var, ndl.std, ndl.prod, ndl.logsumexp,
                  ndl.norm]


@pytest.mark.parametrize("op", AXIS_FUNCTIONS, ids=lambda op: op.__name__)
def test_dim_axis_and_keepdim_are_aliases_of_axes_and_keepdims(op):
    x = ndl.Tensor(np.arange(1, 25, dtype=np.float32).reshape(2, 3, 4))
    expected = op(x, axes=1, keepdims=True).numpy()
    for kwargs in ({"dim": 1, "keepdim": True}, {"axis": 1, "keepdims": True}, {"axes": 1, "keepdim": True}):
        np.testing.assert_array_equal(op(x, **kwargs).numpy(), expected, err_msg=str(kwargs))
    if op is not ndl.norm:
        np.testing.assert_array_equal(op(x, 1, keepdim=True).numpy(), expected)
    name = op.__name__
    with pytest.raises(TypeError, match=rf"^{name}: the axis is given twice, as axes and dim; pass one"):
        op(x, axes=1, dim=1)
    with pytest.raises(TypeError, match=rf"^{name}: the axis is given twice, as dim and axis; pass one"):
        op(x, dim=1, axis=1)
    with pytest.raises(TypeError, match=rf"^{name}: keepdims is given twice"):
        op(x, dim=1, keepdims=True, keepdim=True)
    with pytest.raises(TypeError, match="unexpected keyword argument 'dims'"):
        op(x, dims=1)


def test_a_positional_axis_and_an_alias_clash():
    x = ndl.Tensor(np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match=r"^summation: the axis is given twice, as axes \(positional\) and dim"):
        ndl.summation(x, 1, dim=1)
    with pytest.raises(TypeError, match=r"^stack: the axis is given twice, as axes \(positional\) and axis"):
        ndl.stack([x, x], 0, axis=0)


def test_functions_without_keepdims_reject_keepdim():
    x = ndl.Tensor(np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match="unexpected keyword argument 'keepdim'"):
        ndl.softmax(x, dim=1, keepdim=True)


def test_the_course_signatures_still_work():
    x = ndl.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(ndl.summation(x, 1).numpy(), [3, 12])
    np.testing.assert_array_equal(ndl.summation(x, axes=(0, 1)).numpy(), 15)
    np.testing.assert_allclose(ndl.logsoftmax(x).numpy(), ndl.logsoftmax(x, dim=-1).numpy())
    np.testing.assert_allclose(ndl.softmax(x, dim=0).numpy(), ndl.softmax(x, 0).numpy())
    assert ndl.cat([x, x], dim=1).shape == (2, 6) and ndl.split(x, dim=1)[0].shape == (2,)


def test_new_reductions_and_their_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    a = np.float32([[1, -2, 0, 4], [0.5, 3, 0, 0], [2, 2, -1, 1]])
    calls = [
        (lambda t: ndl.var(t, dim=1), lambda t: torch.var(t, dim=1)),
        (lambda t: ndl.std(t, 0, unbiased=False), lambda t: torch.std(t, 0, unbiased=False)),
        (lambda t: ndl.prod(t, dim=1), lambda t: torch.prod(t, dim=1)),
        (lambda t: ndl.prod(t), lambda t: torch.prod(t)),
        (lambda t: ndl.cumsum(t, dim=1), lambda t: torch.cumsum(t, dim=1)),
        (lambda t: ndl.min(t, dim=1), lambda t: torch.amin(t, dim=1)),
    ]
    for ours, theirs in calls:
        x, t = ndl.Tensor(a), torch.tensor(a, requires_grad=True)
        out, expected = ours(x), theirs(t)
        (out * out).sum().backward()
        (expected * expected).sum().backward()
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ndl.argmax(ndl.Tensor(a), 1).numpy(), torch.argmax(torch.tensor(a), 1).numpy())
