"""Case table and properties for make_tuple and tuple_get_item (TensorTuple in the graph)."""
import numpy as np
import pytest

import needle as ndl
from tests.ops.case import Case

CASES = [
    Case(lambda a, b: ndl.tuple_get_item(ndl.make_tuple(a, b), 1) * 2, shapes=[(2,), (3,)],
         numpy=lambda a, b: b * 2, name="tuple_get_item_second_of_two"),
    Case(lambda a, b: ndl.tuple_get_item(ndl.make_tuple(a, b), -2), shapes=[(2, 2), ()],
         numpy=lambda a, b: a, name="tuple_get_item_negative_index"),
    Case(lambda a, b: ndl.make_tuple(a, b)[0] * ndl.make_tuple(a, b)[1], shapes=[(2, 3), (3,)],
         numpy=lambda a, b: a * b, name="tuple_items_product"),
    Case(lambda a, b: (ndl.make_tuple(a, b) + ndl.make_tuple(b, a))[1] * a, shapes=[(2,), (2,)],
         numpy=lambda a, b: (b + a) * a, name="tuple_sum_item"),
    Case(lambda a: ndl.make_tuple(a)[0], shapes=[()], numpy=lambda a: a, name="tuple_of_one_scalar"),
]


def test_unused_entries_get_zero_gradients():
    a = ndl.Tensor(np.ones(2, np.float32))
    b = ndl.Tensor(np.ones(3, np.float32))
    (ndl.make_tuple(a, b)[-1] * 3).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [3, 3, 3])
    np.testing.assert_array_equal(a.grad.numpy(), [0, 0])
    assert a.grad.dtype == np.float32


def test_tensor_tuple_length_iteration_and_detach():
    parts = ndl.make_tuple(ndl.Tensor(np.zeros(2, np.float32)), ndl.Tensor(np.ones(3, np.float32)))
    assert len(parts) == 2
    assert [p.shape for p in parts] == [(2,), (3,)]
    assert [p.shape for p in parts.tuple()] == [(2,), (3,)]
    assert not parts.detach().requires_grad


def test_tuple_get_item_out_of_range_names_op_and_length():
    parts = ndl.make_tuple(ndl.Tensor(np.zeros(2, np.float32)))
    with pytest.raises(IndexError, match=r"^tuple_get_item: index 1 is out of range for 1 entries"):
        parts[1]
