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
    Case(lambda a, b: ndl.one_hot_tuple(a * b, ndl.make_tuple(b, a), 1)[1] + ndl.one_hot_tuple(a, ndl.make_tuple(a, b), 0)[1],
         shapes=[(2, 3), (2, 3)], numpy=lambda a, b: a * b, name="one_hot_tuple"),
    Case(lambda a, b: ndl.add_tuples(ndl.make_tuple(a, b), ndl.make_tuple(b * a, a))[0] * b, shapes=[(2,), (2,)],
         numpy=lambda a, b: (a + b * a) * b, name="add_tuples"),
    Case(lambda a: ndl.stack([x * x * (i + 1) for i, x in enumerate(ndl.split(a, 0))], 0), shapes=[(4, 3)],
         numpy=lambda a: a * a * np.arange(1, 5, dtype=a.dtype)[:, None], name="split_every_piece_used"),
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


def split_backward_graph_size(steps):
    """(nodes, zero arrays) in the recorded gradient graph of a `steps`-way split whose every piece is used."""
    a = ndl.Tensor(np.ones((steps, 3), np.float32))
    out = ndl.stack([x * x * float(i + 1) for i, x in enumerate(ndl.split(a, 0))], 0)
    (grad,) = ndl.autograd.grad(out.sum(), [a], create_graph=True)
    nodes = ndl.autograd.find_topo_sort([grad])
    zero_buffers = {
        entry.__array_interface__["data"][0]
        for node in nodes if isinstance(node, ndl.TensorTuple)
        for entry in node.cached_data if not np.any(entry)
    }
    return len(nodes), len(zero_buffers)


def test_backward_of_a_split_into_t_pieces_makes_o_of_t_nodes_and_one_zero_array():
    small, large = split_backward_graph_size(16), split_backward_graph_size(64)
    assert large[0] <= 4 * small[0] + 16, f"16 pieces: {small[0]} nodes, 64 pieces: {large[0]} nodes"
    assert small[1] == large[1] == 1  # every tuple adjoint's zeros are one shared read-only buffer


def test_tuple_adjoint_zeros_come_out_writable_and_add_tuples_names_bad_shapes():
    a = ndl.Tensor(np.ones(2, np.float32))
    b = ndl.Tensor(np.ones(3, np.float32))
    adjoint = ndl.one_hot_tuple(b, ndl.make_tuple(a, b), 1)
    zeros = adjoint[0].numpy()
    assert zeros.flags.writeable and zeros.shape == (2,) and not zeros.any()
    with pytest.raises(ValueError, match=r"^add_tuples: tuples of shapes \[\(2,\), \(3,\)\] and \[\(3,\), \(2,\)\]"):
        ndl.add_tuples(ndl.make_tuple(a, b), ndl.make_tuple(b, a))
