"""Tensor's Python protocols, in-place writes, arrays and numbers as constants, and PyTorch's method
vocabulary (each method checked against NumPy)."""
import operator

import numpy as np
import pytest

import needle as ndl
from needle import Tensor


def leaf(array, dtype="float64"):
    return Tensor(np.asarray(array, dtype=dtype))


# ---- conversions, length, iteration, equality --------------------------------------------------


def test_one_element_tensors_convert_to_python_numbers():
    assert bool(Tensor(2.0) > 1) is True
    assert bool(Tensor([0.0])) is False
    assert float(Tensor([[2.5]])) == 2.5
    assert int(Tensor(3.7)) == 3
    assert [10, 20, 30][Tensor(1)] == 20
    assert [10, 20, 30][Tensor([2])] == 30


@pytest.mark.parametrize("convert", [bool, float, int])
def test_several_elements_are_ambiguous(convert):
    error = RuntimeError if convert is bool else ValueError
    with pytest.raises(error, match=r"ambiguous|only one element"):
        convert(Tensor([1.0, 2.0]))


def test_an_empty_tensor_has_no_truth_value():
    with pytest.raises(RuntimeError, match="no values is ambiguous"):
        bool(Tensor(np.zeros(0)))


def test_only_integer_tensors_are_indices():
    with pytest.raises(TypeError, match="only integer tensors"):
        [1, 2][Tensor(1.0)]


def test_len_and_iteration_follow_the_first_axis():
    x = leaf(np.arange(6.0).reshape(3, 2))
    assert len(x) == 3
    rows = list(x)
    np.testing.assert_array_equal(rows[1].numpy(), [2.0, 3.0])
    (rows[0] * 2 + rows[2]).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 2], [0, 0], [1, 1]])


@pytest.mark.parametrize("use", [len, iter])
def test_a_0d_tensor_has_no_length_or_iteration(use):
    with pytest.raises(TypeError, match="0-d tensor"):
        use(Tensor(1.0))


def test_eq_and_ne_compare_elementwise_while_double_equals_stays_identity():
    a, b = leaf([1.0, 2.0]), leaf([1.0, 3.0])
    np.testing.assert_array_equal(a.eq(b).numpy(), [True, False])
    np.testing.assert_array_equal(a.ne(b).numpy(), [False, True])
    assert (a == b) is False and (a == a) is True and a != b
    assert {a: 1, b: 2}[b] == 2
    assert (np.ones(2) == a) is False and (np.ones(2) != a) is True


# ---- in-place writes ---------------------------------------------------------------------------


def test_an_update_under_no_grad_keeps_the_same_leaf():
    w = leaf([1.0, 2.0])
    (w * w).sum().backward()
    before = w
    with ndl.no_grad():
        w -= 0.5 * w.grad
    assert w is before and w.requires_grad and w.is_leaf()
    np.testing.assert_array_equal(w.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_in_place_arithmetic_matches_numpy_and_keeps_the_dtype(op):
    x = Tensor(np.array([1.0, 2.0, 4.0], dtype="float32"), requires_grad=False)
    storage = x.cached_data
    expected = {"+=": np.add, "-=": np.subtract, "*=": np.multiply, "/=": np.divide}[op](
        storage.copy(), np.array([2.0, 4.0, 8.0]))
    other = Tensor(np.array([2.0, 4.0, 8.0]), requires_grad=False)  # float64 into float32, as in PyTorch
    updated = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv}[op](x, other)
    assert updated is x
    assert x.dtype == np.float32 and x.cached_data is storage
    np.testing.assert_allclose(x.numpy(), expected)


def test_in_place_refuses_a_result_of_a_wider_kind():
    counts = Tensor([1, 2])
    with pytest.raises(RuntimeError, match="float64 can't be cast to the tensor's dtype int64"):
        counts += 0.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        counts /= 2
    counts += 1
    np.testing.assert_array_equal(counts.numpy(), [2, 3])


def test_in_place_refuses_a_value_that_would_grow_the_tensor():
    x = Tensor(np.zeros(2), requires_grad=False)
    with pytest.raises(ValueError, match=r"\+=: a value of shape \(3, 2\) does not broadcast to .* \(2,\)"):
        x += np.ones((3, 2))


def test_a_leaf_that_requires_grad_refuses_in_place_writes_with_grad_on():
    w = leaf([1.0])
    with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad .* ndl.no_grad\(\)"):
        w += 1
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.zero_()


def test_a_write_refuses_a_second_backward_of_an_older_graph():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    loss.backward()
    with ndl.no_grad():
        w -= 0.1 * w.grad
    with pytest.raises(RuntimeError, match="modified in place after use"):
        loss.backward()


def test_in_place_on_a_recorded_result_is_recorded_like_the_out_of_place_op():
    x = leaf([1.0, 2.0])
    h = x * x
    same = h
    h *= 3
    h += x
    assert h is same and not h.is_leaf()
    h.sum().backward()
    np.testing.assert_allclose(h.numpy(), [4.0, 14.0])
    np.testing.assert_allclose(x.grad.numpy(), [7.0, 13.0])  # d(3x^2 + x)/dx = 6x + 1


def test_a_constant_updated_with_a_tensor_that_requires_grad_joins_the_graph():
    total = Tensor(np.zeros(2), requires_grad=False)
    w = leaf([1.0, 2.0])
    total += w * 2
    total.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])


def test_a_recorded_result_refuses_writes_under_no_grad():
    h = leaf([1.0]) * 2
    with ndl.no_grad(), pytest.raises(RuntimeError, match=r"result of a recorded MulScalar.*detach\(\)"):
        h += 1


def test_zero_fill_and_copy_write_in_place_and_return_self():
    x = Tensor(np.ones((2, 3), dtype="float32"), requires_grad=False)
    assert x.zero_() is x and not x.numpy().any()
    assert x.fill_(Tensor(2.5)) is x
    np.testing.assert_array_equal(x.numpy(), np.full((2, 3), 2.5))
    assert x.copy_(np.arange(3)) is x and x.dtype == np.float32  # broadcast, converted
    np.testing.assert_array_equal(x.numpy(), [[0, 1, 2], [0, 1, 2]])
    with pytest.raises(ValueError, match="fill_: expected a number or a one-element tensor"):
        x.fill_(np.ones(2))
    with pytest.raises(ValueError, match=r"copy_: a value of shape \(4,\)"):
        x.copy_(np.ones(4))


def test_copy_into_a_parameter_under_no_grad_loads_it():
    w = leaf([[1.0, 2.0]])
    with ndl.no_grad():
        w.copy_(Tensor([[5.0, 6.0]]))
    assert w.requires_grad
    np.testing.assert_array_equal(w.numpy(), [[5.0, 6.0]])


def test_a_0d_result_stored_as_a_numpy_scalar_is_written_too():
    total = Tensor(np.arange(3.0), requires_grad=False).sum()
    total += 1
    assert float(total) == 4.0


def test_requires_grad_is_set_on_leaves_of_floating_dtype_only():
    x = Tensor([1.0], requires_grad=False)
    assert x.requires_grad_() is x and x.requires_grad
    assert not x.requires_grad_(False).requires_grad
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        Tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="only a leaf's flag can change"):
        (leaf([1.0]) * 2).requires_grad_(False)


# ---- arrays and numbers where a Tensor is expected ---------------------------------------------


def test_arrays_and_numbers_are_constants_for_ops_and_operators():
    x = Tensor(np.array([1.0, -2.0], dtype="float32"))
    np.testing.assert_array_equal((x + np.ones(2)).numpy(), [2.0, -1.0])
    np.testing.assert_array_equal((np.ones(2) - x).numpy(), [0.0, 3.0])
    np.testing.assert_allclose((np.ones(2) / x).numpy(), [1.0, -0.5])
    np.testing.assert_allclose((np.full(2, 2.0) ** x).numpy(), [2.0, 0.25])
    np.testing.assert_array_equal((np.eye(2) @ x).numpy(), [1.0, -2.0])
    assert isinstance(np.ones(2) + x, Tensor) and isinstance(np.float64(2) * x, Tensor)
    assert (np.float64(2) * x).dtype == np.float32 and (x * np.float32(2)).dtype == np.float32
    assert ndl.maximum(x, 0).dtype == np.float32  # a number is weak, as in PyTorch
    assert (x + np.ones(2)).dtype == np.float64  # an array keeps its dtype, as in NumPy
    np.testing.assert_allclose(ndl.exp(2.0).numpy(), np.exp(2.0))
    np.testing.assert_array_equal(ndl.add(x, [1, 1]).numpy(), [2.0, -1.0])
    ndl.maximum(x, 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0])


def test_a_value_that_is_no_array_is_refused_naming_the_op():
    x = leaf([1.0])
    with pytest.raises(TypeError, match="EWiseAdd: expected a Tensor, a NumPy array or a number, got NoneType"):
        x + None
    with pytest.raises(TypeError, match="list of Tensors; join them with ndl.stack"):
        ndl.add(x, [x, x])


def test_numpy_functions_other_than_operators_point_to_needle():
    x = leaf([1.0])
    with pytest.raises(TypeError, match=r"numpy.exp does not take needle Tensors: use ndl.exp"):
        np.exp(x)
    with pytest.raises(TypeError, match=r"numpy.absolute .* use ndl.abs"):
        np.abs(x)
    with pytest.raises(TypeError, match=r"numpy.add.reduce does not take needle Tensors"):
        np.add.reduce(x)


def test_unknown_keywords_are_type_errors():
    with pytest.raises(TypeError):
        Tensor([1.0], requires_gard=False)
    with pytest.raises(TypeError):
        leaf([1.0]).to("float32", dtype="float64")
    with pytest.raises(TypeError):
        leaf([[1.0]]).transpose(0, 1, axes=(0, 1))


# ---- vocabulary --------------------------------------------------------------------------------

A = np.random.default_rng(0).standard_normal((3, 4))

REDUCTIONS = [
    ("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min),
    ("prod", np.prod), ("argmax", np.argmax), ("argmin", np.argmin),
]


@pytest.mark.parametrize("name, reference", REDUCTIONS)
def test_reductions_take_positional_and_every_spelling_of_the_axis(name, reference):
    x = leaf(A)
    method = getattr(x, name)
    expected = reference(A, axis=1)
    for out in (method(1), method(axes=1), method(dim=1), method(axis=1)):
        np.testing.assert_allclose(out.numpy(), expected)
    if name not in ("argmax", "argmin"):
        assert method(dim=1, keepdim=True).shape == (3, 1)
        np.testing.assert_allclose(method().numpy(), reference(A))


def test_statistics_and_scans_match_numpy():
    x = leaf(A)
    np.testing.assert_allclose(x.var(1).numpy(), A.var(axis=1, ddof=1))
    np.testing.assert_allclose(x.std(dim=0).numpy(), A.std(axis=0, ddof=1))
    np.testing.assert_allclose(x.norm().numpy(), np.linalg.norm(A))
    np.testing.assert_allclose(x.cumsum(1).numpy(), A.cumsum(axis=1))
    assert bool((x > -10).all()) and not bool((x > 10).any(dim=1).any())


def test_transpose_takes_two_ints_a_pair_or_nothing():
    x = leaf(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(x.transpose(0, 2).numpy(), np.swapaxes(x.numpy(), 0, 2))
    np.testing.assert_array_equal(x.transpose((0, 2)).numpy(), np.swapaxes(x.numpy(), 0, 2))
    np.testing.assert_array_equal(x.transpose().numpy(), np.swapaxes(x.numpy(), 1, 2))
    np.testing.assert_array_equal(x.transpose(axes=(0, 1)).numpy(), np.swapaxes(x.numpy(), 0, 1))
    np.testing.assert_array_equal(x.T.numpy(), x.numpy().T)
    np.testing.assert_array_equal(x.mT.numpy(), np.swapaxes(x.numpy(), -1, -2))


def test_shape_vocabulary_matches_numpy():
    x = leaf(np.arange(6.0).reshape(2, 3))
    assert x.size() == (2, 3) and x.size(-1) == 3 and x.numel() == 6 and x.dim() == 2
    with pytest.raises(IndexError, match="size: dim 2 is out of range"):
        x.size(2)
    assert x.view(3, 2).shape == (3, 2) and x.view(-1).shape == (6,)
    assert x.flatten().shape == (6,) and leaf(np.zeros((2, 3, 4))).flatten(1).shape == (2, 12)
    assert x.unsqueeze(0).shape == (1, 2, 3) and x.unsqueeze(dim=-1).shape == (2, 3, 1)
    assert leaf(np.zeros((1, 2, 1))).squeeze().shape == (2,)
    assert leaf(np.zeros((1, 2, 1))).squeeze(0).shape == (2, 1)
    np.testing.assert_array_equal(x[:1].expand(4, -1).numpy(), np.broadcast_to(x.numpy()[:1], (4, 3)))
    np.testing.assert_array_equal(x.repeat(2, 1).numpy(), np.tile(x.numpy(), (2, 1)))
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_clone_is_a_recorded_copy():
    x = leaf([1.0, 2.0])
    y = x.clone()
    assert y.cached_data is not x.cached_data
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_dtype_conversions():
    x = leaf([1.5, 2.0])
    assert x.float().dtype == np.float32 and x.float().float().dtype == np.float32
    assert x.float().double().dtype == np.float64 and x.long().tolist() == [1, 2]
    assert x.to("float32").dtype == np.float32 and x.to(np.float64) is x and x.to("cpu") is x
    assert x.to(ndl.cpu(), dtype="float32").dtype == np.float32
    assert x.type_as(Tensor([1], dtype="int32")).dtype == np.int32
    with pytest.raises(ValueError, match=r"device cuda\(\) is not enabled"):
        x.to(device="cuda")
    x.float().sum().backward()
    assert x.grad.dtype == np.float64


ELEMENTWISE = [
    ("exp", np.exp), ("log", np.log), ("sin", np.sin), ("cos", np.cos), ("tanh", np.tanh),
    ("sqrt", np.sqrt), ("abs", np.abs), ("neg", np.negative), ("relu", lambda a: np.maximum(a, 0)),
    ("sigmoid", lambda a: 1 / (1 + np.exp(-a))),
]


@pytest.mark.parametrize("name, reference", ELEMENTWISE)
def test_elementwise_methods_match_numpy(name, reference):
    a = np.array([0.5, 1.5, 3.0])
    np.testing.assert_allclose(getattr(leaf(a), name)().numpy(), reference(a))


def test_pow_clamp_gather_and_masked_fill_match_numpy():
    x = leaf(A)
    np.testing.assert_allclose(x.pow(2).numpy(), A ** 2)
    np.testing.assert_allclose(abs(x).numpy(), np.abs(A))
    np.testing.assert_allclose(x.clamp(min=-0.5, max=0.5).numpy(), np.clip(A, -0.5, 0.5))
    np.testing.assert_allclose(x.clip(max=0.0).numpy(), np.minimum(A, 0.0))
    index = np.array([[0, 3], [1, 1], [2, 0]])
    np.testing.assert_allclose(x.gather(1, Tensor(index)).numpy(), np.take_along_axis(A, index, 1))
    mask = A > 0
    np.testing.assert_allclose(x.masked_fill(Tensor(mask), 0.0).numpy(), np.where(mask, 0.0, A))


def test_mask_and_fancy_indexing_scatter_their_gradients():
    x = leaf([1.0, -2.0, 3.0])
    (x[x > 0] * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 2.0])
    x[[0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 1.0])
