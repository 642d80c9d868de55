"""Selections (maximum, minimum, where, clip) and comparison masks: the case table, then properties."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import needle as ndl
from needle.testing import check_gradients, check_jvp
from tests.ops.case import Case
from tests.strategies import broadcastable_shapes, float32_arrays


def small_integers(*shapes):
    """Inputs drawn from {−1, 0, 1, 2} as float32, so comparisons meet ties and both outcomes."""
    return lambda rng: [rng.integers(-1, 3, size=shape).astype(np.float32) for shape in shapes]


def mask_and_values(mask_shape, lhs_shape, rhs_shape, mask_dtype=bool):
    return lambda rng: [
        (rng.random(mask_shape) < 0.5).astype(mask_dtype),
        rng.uniform(-2, 2, size=lhs_shape).astype(np.float32),
        rng.uniform(-2, 2, size=rhs_shape).astype(np.float32),
    ]


def np_clip(a, min=None, max=None):
    return np.clip(a, min, max)


def comparison_rows(fn, reference):
    """A Tensor right-hand side (broadcast), a scalar one, and a 0-d left-hand side."""
    return [
        Case(fn, shapes=[(3, 4), (4,)], numpy=reference, order=0,
             make_inputs=small_integers((3, 4), (4,))),
        Case(fn, shapes=[(2, 3)], numpy=lambda a, b: reference(a, b), kwargs={"b": np.float64(1.0)},
             order=0, make_inputs=small_integers((2, 3))),
        Case(fn, shapes=[(), (2, 1)], numpy=reference, order=0, make_inputs=small_integers((), (2, 1))),
    ]


CASES = [
    Case(ndl.maximum, shapes=[(3, 4), (3, 4)], numpy=np.maximum),
    Case(ndl.maximum, shapes=[(2, 3), (3,)], numpy=np.maximum),
    Case(ndl.maximum, shapes=[(), (2, 2)], numpy=np.maximum),
    Case(ndl.minimum, shapes=[(3, 4), (1, 4)], numpy=np.minimum),
    Case(ndl.minimum, shapes=[(2, 1), (1, 3)], numpy=np.minimum),
    Case(ndl.where, shapes=[(3, 4), (3, 4), (4,)], numpy=np.where,
         make_inputs=mask_and_values((3, 4), (3, 4), (4,))),
    Case(ndl.where, shapes=[(2, 1), (1, 3), ()], numpy=np.where, grad_inputs=[1, 2],
         make_inputs=mask_and_values((2, 1), (1, 3), (), mask_dtype=np.float32), name="where_float_mask"),
    Case(lambda condition, a: ndl.where(condition, a, 0.0), shapes=[(2, 3), (2, 3)],
         numpy=lambda condition, a: np.where(condition, a, np.float32(0)),
         make_inputs=lambda rng: mask_and_values((2, 3), (2, 3), ())(rng)[:2], name="where_scalar_b"),
    Case(ndl.clip, shapes=[(3, 4)], numpy=np_clip, kwargs={"min": -1.0, "max": 1.0}),
    Case(ndl.clip, shapes=[(3, 4)], numpy=np_clip, kwargs={"max": np.float64(0.5)}),
    Case(ndl.clip, shapes=[()], numpy=np_clip, kwargs={"min": 0}, low=0.5),
    *comparison_rows(ndl.less, np.less),
    *comparison_rows(ndl.less_equal, np.less_equal),
    *comparison_rows(ndl.greater, np.greater),
    *comparison_rows(ndl.greater_equal, np.greater_equal),
    *comparison_rows(ndl.equal, np.equal),
    *comparison_rows(ndl.not_equal, np.not_equal),
    Case(ndl.clamp, shapes=[(3, 4)], numpy=np_clip, kwargs={"min": -1.0, "max": 0.5}),
    Case(lambda a, b: ndl.Tensor(ndl.allclose(a, b, atol=1e-3)), shapes=[(2, 3), (3,)],
         numpy=lambda a, b: np.array(np.allclose(a, b, atol=1e-3)), order=0, name="allclose",
         make_inputs=lambda rng: [np.ones((2, 3), np.float32), np.float32([1, 1.0005, 1.002])]),
    Case(lambda a, b: ndl.Tensor(ndl.allclose(a, b)), shapes=[(2, 3), (2, 3)],
         numpy=lambda a, b: np.array(np.allclose(a, b)), order=0, name="allclose_same",
         make_inputs=lambda rng: [np.full((2, 3), 0.25, np.float32)] * 2),
]


# ---- maximum and minimum ------------------------------------------------------------------------


@pytest.mark.parametrize("op", [ndl.maximum, ndl.minimum])
def test_pairwise_ties_split_the_adjoint_in_half(op):
    a = ndl.Tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32))
    b = ndl.Tensor(np.array([1.0, 1.0, 4.0], dtype=np.float32))
    grad_a, grad_b = ndl.autograd.grad(op(a, b), [a, b])
    a_wins = [0.5, 1.0, 0.0] if op is ndl.maximum else [0.5, 0.0, 1.0]
    np.testing.assert_array_equal(grad_a.numpy(), a_wins)
    np.testing.assert_array_equal(grad_b.numpy(), 1 - np.array(a_wins))
    # The forward rule uses the same split: the tangent at a tie is the mean of the two tangents.
    out = op(a, b)
    seeds = {a: ndl.Tensor(np.float32([2, 2, 2])), b: ndl.Tensor(np.float32([4, 4, 4]))}
    assert ndl.autograd.tangent_sweep([out], seeds)[out].numpy()[0] == 3.0


def test_maximum_adjoint_of_a_broadcast_tie_sums_the_halves():
    a = ndl.Tensor(np.float32(1.0))
    b = ndl.Tensor(np.array([1.0, 0.0, 2.0], dtype=np.float32))
    grad_a, grad_b = ndl.autograd.grad(ndl.maximum(a, b), [a, b])
    assert grad_a.shape == () and grad_a.numpy() == 1.5
    np.testing.assert_array_equal(grad_b.numpy(), [0.5, 0.0, 1.0])


@pytest.mark.parametrize("op, reference", [(ndl.maximum, np.maximum), (ndl.minimum, np.minimum)])
@given(data=st.data())
def test_pairwise_select_broadcasts_like_numpy_with_correct_gradients(op, reference, data):
    lhs_shape, rhs_shape = data.draw(broadcastable_shapes(max_dims=3, max_side=3))
    a = data.draw(float32_arrays(lhs_shape))
    b = data.draw(float32_arrays(rhs_shape))
    out = op(ndl.Tensor(a), ndl.Tensor(b))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), reference(a, b))
    if np.min(np.abs(np.subtract(a, b, dtype=np.float64)), initial=np.inf) > 1e-3:  # away from the kink
        check_gradients(op, a, b, order=1, elementwise=False)


# ---- where and clip -----------------------------------------------------------------------------


def test_where_does_not_differentiate_its_condition():
    condition = ndl.Tensor(np.array([True, False, True]))  # requires_grad by default
    a = ndl.Tensor(np.float32([1, 2, 3]))
    b = ndl.Tensor(np.float32([4, 5, 6]))
    out = ndl.where(condition, a, b)
    out.backward(ndl.Tensor(np.float32([10, 20, 30])))
    assert condition.grad is None
    np.testing.assert_array_equal(a.grad.numpy(), [10, 0, 30])
    np.testing.assert_array_equal(b.grad.numpy(), [0, 20, 0])
    np.testing.assert_array_equal(out.numpy(), [1, 5, 3])


def test_where_takes_an_array_condition_and_a_scalar_on_either_side():
    a = ndl.Tensor(np.float32([1, 2, 3]))
    mask = np.array([True, False, True])
    left = ndl.where(mask, 0.5, a)
    right = ndl.where(mask, a, np.float64(-1))
    assert left.dtype == np.float32 and right.dtype == np.float32
    np.testing.assert_array_equal(left.numpy(), [0.5, 2, 0.5])
    np.testing.assert_array_equal(right.numpy(), [1, -1, 3])
    with pytest.raises(TypeError, match="^where: a or b must be a Tensor"):
        ndl.where(mask, 1.0, 2.0)


def test_clip_adjoint_passes_strictly_inside_the_bounds():
    x = ndl.Tensor(np.float32([-2, -1, 0, 1, 2]))
    y = ndl.clip(x, -1, 1)
    (g,) = ndl.autograd.grad(y, [x])
    np.testing.assert_array_equal(y.numpy(), [-1, -1, 0, 1, 1])
    np.testing.assert_array_equal(g.numpy(), [0, 0, 1, 0, 0])
    check_jvp(lambda t: ndl.clip(t, -1, 1), np.array([-1.5, 0.3, 0.9, 1.2]))


def test_clip_with_min_above_max_gives_max_everywhere_like_numpy():
    x = np.float32([-2, 0, 2])
    np.testing.assert_array_equal(ndl.clip(ndl.Tensor(x), 1, 0).numpy(), np.clip(x, 1, 0))


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="^clip: at least one of min and max must be given"):
        ndl.clip(ndl.Tensor(np.ones(2)))
    with pytest.raises(TypeError, match="^clip: expected a real scalar, got str"):
        ndl.clip(ndl.Tensor(np.ones(2)), "0")


# ---- comparisons --------------------------------------------------------------------------------

COMPARISONS = [ndl.less, ndl.less_equal, ndl.greater, ndl.greater_equal, ndl.equal, ndl.not_equal]


@pytest.mark.parametrize("op", COMPARISONS, ids=lambda op: op.__name__)
def test_comparisons_return_bool_masks_and_record_no_graph(op):
    a = ndl.Tensor(np.float32([[1, 2, 3]]))
    b = ndl.Tensor(np.float32([[2], [3]]))
    for mask in (op(a, b), op(a, 2), op(a, np.float64(2))):
        assert mask.dtype == bool and not mask.requires_grad
        assert mask.op is None and mask.inputs == ()
    assert op(a, b).shape == (2, 3)


def test_tensor_comparison_operators_map_to_the_ops():
    x = ndl.Tensor(np.float32([1, 2, 3]))
    np.testing.assert_array_equal((x < 2).numpy(), [True, False, False])
    np.testing.assert_array_equal((x <= 2).numpy(), [True, True, False])
    np.testing.assert_array_equal((x > 2).numpy(), [False, False, True])
    np.testing.assert_array_equal((x >= 2).numpy(), [False, True, True])
    np.testing.assert_array_equal((2 < x).numpy(), [False, False, True])  # reflected to x > 2


def test_tensors_keep_identity_equality():
    x = ndl.Tensor(np.float32([1, 2]))
    y = ndl.Tensor(np.float32([1, 2]))
    assert x == x and x != y and len({x, y}) == 2
    np.testing.assert_array_equal(ndl.equal(x, y).numpy(), [True, True])


def test_comparison_errors_name_the_op():
    x = ndl.Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^Less: inputs \(2, 3\), \(4,\): "):
        ndl.less(x, ndl.Tensor(np.ones(4)))
    with pytest.raises(TypeError, match="^greater_equal: expected a real scalar, got str"):
        ndl.greater_equal(x, "1")


def test_masks_from_comparisons_drive_where():
    x = ndl.Tensor(np.float32([-1, 2, -3]))
    y = ndl.where(x > 0, x, x * 0.1)  # leaky ReLU
    (g,) = ndl.autograd.grad(y, [x])
    np.testing.assert_allclose(y.numpy(), [-0.1, 2, -0.3], rtol=1e-6)
    np.testing.assert_allclose(g.numpy(), [0.1, 1, 0.1], rtol=1e-6)
