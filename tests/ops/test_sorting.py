"""Case table and properties for sort, argsort and topk: stable order, gradients through the
permutation, PyTorch's (values, indices) result."""
import numpy as np
import pytest

import needle as ndl
from tests.ops.case import Case


def np_sort(a, dim=-1, descending=False):
    order = np.argsort(-a if descending else a, axis=dim, kind="stable")
    return np.take_along_axis(a, order, dim)


def np_topk(a, k, dim=-1, largest=True):
    return np_sort(a, dim, largest)[(slice(None),) * (dim % a.ndim) + (slice(0, k),)]


def _ties(rng):
    """Values with ties along the last axis (where the order, not the values, is in question)."""
    return [rng.integers(-2, 3, size=(3, 5)).astype(np.float32) + rng.uniform(0, 1e-3, size=(3, 1)).astype(np.float32)]


CASES = [
    Case(lambda a: ndl.sort(a).values, shapes=[(3, 5)], numpy=np_sort, name="sort"),
    Case(lambda a: ndl.sort(a, 0, descending=True).values, shapes=[(4, 3)],
         numpy=lambda a: np_sort(a, 0, True), name="sort_descending_dim_0"),
    Case(lambda a: ndl.sort(a * a, axis=1).values, shapes=[(2, 4)], numpy=lambda a: np_sort(a * a, 1),
         name="sort_of_square"),
    Case(lambda a: ndl.argsort(a, 1), shapes=[(3, 5)], order=0, make_inputs=_ties,
         numpy=lambda a: np.argsort(a, 1, kind="stable"), name="argsort"),
    Case(lambda a: ndl.topk(a, 2).values, shapes=[(3, 5)], numpy=lambda a: np_topk(a, 2), name="topk"),
    Case(lambda a: ndl.topk(a, 3, dim=0, largest=False).values, shapes=[(4, 2)],
         numpy=lambda a: np_topk(a, 3, 0, False), name="topk_smallest_dim_0"),
]


def test_sort_returns_values_and_int64_indices_as_a_named_pair():
    x = ndl.Tensor(np.float32([[3, 1, 2]]))
    result = ndl.sort(x, dim=1)
    values, indices = result
    assert isinstance(result, ndl.SortResult) and result.values is values and result.indices is indices
    assert indices.dtype == np.int64 and not indices.requires_grad and values.dtype == np.float32
    np.testing.assert_array_equal(indices.numpy(), [[1, 2, 0]])


def test_ties_keep_their_input_order_ascending_and_descending_and_nan_is_largest():
    a = np.array([2.0, 1.0, np.nan, 2.0, 1.0])
    np.testing.assert_array_equal(ndl.argsort(ndl.Tensor(a)).numpy(), [1, 4, 0, 3, 2])
    np.testing.assert_array_equal(ndl.argsort(ndl.Tensor(a), descending=True).numpy(), [2, 0, 3, 1, 4])
    np.testing.assert_array_equal(ndl.topk(ndl.Tensor(a[[0, 1, 3, 4]]), 2).indices.numpy(), [0, 2])


@pytest.mark.parametrize("largest", [True, False])
def test_topk_of_a_few_among_many_ties_keeps_the_stable_order(largest):
    """Small k takes the partition path; with ties across the cut the first entries win, as in the
    stable sort, ascending and descending, along either axis."""
    a = np.random.default_rng(3).integers(-3, 4, size=(6, 50)).astype(np.float32)
    for axis, k in ((1, 5), (0, 2)):
        expected = np.take(ndl.argsort(ndl.Tensor(a), axis, descending=largest).numpy(), np.arange(k), axis=axis)
        result = ndl.topk(ndl.Tensor(a), k, dim=axis, largest=largest)
        np.testing.assert_array_equal(result.indices.numpy(), expected)
        np.testing.assert_array_equal(result.values.numpy(), np.take_along_axis(a, expected, axis))


def test_sort_gradient_goes_back_through_the_permutation():
    x = ndl.Tensor(np.float32([[3, 1, 2], [0, 5, 4]]))
    weights = np.float32([[1, 10, 100]])
    (g,) = ndl.autograd.grad((ndl.sort(x, 1, descending=True).values * weights).sum(), [x])
    np.testing.assert_array_equal(g.numpy(), [[1, 100, 10], [100, 1, 10]])


def test_sort_and_topk_match_pytorch_with_gradients():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((4, 6))
    for ours, theirs in [
        (lambda t: ndl.sort(t, 0), lambda t: torch.sort(t, 0)),
        (lambda t: ndl.sort(t, descending=True), lambda t: torch.sort(t, descending=True)),
        (lambda t: ndl.topk(t, 3), lambda t: torch.topk(t, 3)),
        (lambda t: ndl.topk(t, 2, dim=0, largest=False), lambda t: torch.topk(t, 2, dim=0, largest=False)),
    ]:
        x, t = ndl.Tensor(a), torch.tensor(a, requires_grad=True)
        (values, indices), expected = ours(x), theirs(t)
        (values * values).sum().backward()
        (expected.values ** 2).sum().backward()
        np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())
        np.testing.assert_allclose(values.numpy(), expected.values.detach().numpy())
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


def test_topk_rejects_a_k_larger_than_the_axis():
    with pytest.raises(ValueError, match=r"^topk: k must be an integer in \[0, 3\] for dim -1 of \(2, 3\), got 4"):
        ndl.topk(ndl.Tensor(np.ones((2, 3), np.float32)), 4)
