"""Case table and properties for the shape ops: reshape, broadcast_to, transpose, permute, stack, split,
concatenate and sum_to_shape."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import needle as ndl
from tests.ops.case import Case
from tests.strategies import float32_arrays, shapes


def _swap(a, axes=None):
    i, j = (-1, -2) if axes is None else axes
    return np.swapaxes(a, i, j)


CASES = [
    Case(ndl.reshape, shapes=[(2, 3)], numpy=np.reshape, kwargs={"shape": (3, 2)}),
    Case(ndl.reshape, shapes=[(2, 3, 2)], numpy=np.reshape, kwargs={"shape": (-1, 4)}),
    Case(ndl.reshape, shapes=[()], numpy=np.reshape, kwargs={"shape": (1, 1)}),
    Case(ndl.reshape, shapes=[(1, 1)], numpy=np.reshape, kwargs={"shape": ()}),
    Case(lambda a: ndl.reshape(a, (3, 2)) * ndl.reshape(a, (3, 2)), shapes=[(6,)],
         numpy=lambda a: a.reshape(3, 2) ** 2, name="reshape_squared"),
    Case(ndl.broadcast_to, shapes=[(3, 1)], numpy=np.broadcast_to, kwargs={"shape": (2, 3, 4)}),
    Case(ndl.broadcast_to, shapes=[()], numpy=np.broadcast_to, kwargs={"shape": (2, 3)}),
    Case(ndl.broadcast_to, shapes=[(1,)], numpy=np.broadcast_to, kwargs={"shape": (3,)}),
    Case(ndl.broadcast_to, shapes=[(1, 3)], numpy=np.broadcast_to, kwargs={"shape": (1, 3)}),
    Case(lambda a: ndl.broadcast_to(a, (2, 3)) * ndl.broadcast_to(a, (2, 3)), shapes=[(3,)],
         numpy=lambda a: np.broadcast_to(a, (2, 3)) ** 2, name="broadcast_to_squared"),
    Case(ndl.transpose, shapes=[(2, 3, 4)], numpy=_swap),
    Case(ndl.transpose, shapes=[(2, 3, 4)], numpy=_swap, kwargs={"axes": (0, 2)}),
    Case(ndl.transpose, shapes=[(3, 4)], numpy=_swap, kwargs={"axes": (-1, 0)}),
    Case(lambda a: ndl.transpose(a) * ndl.transpose(a), shapes=[(2, 3)],
         numpy=lambda a: a.T ** 2, name="transpose_squared"),
    Case(ndl.permute, shapes=[(2, 3, 4)], numpy=np.transpose, kwargs={"axes": (2, 0, 1)}),
    Case(ndl.permute, shapes=[(2, 3, 4)], numpy=np.transpose, kwargs={"axes": (-1, -3, -2)}),
    Case(ndl.permute, shapes=[()], numpy=np.transpose, kwargs={"axes": ()}),
    Case(ndl.permute, shapes=[(1, 3)], numpy=np.transpose, kwargs={"axes": (1, 0)}),
    Case(lambda a: ndl.permute(a, (1, 2, 0)) * ndl.permute(a, (1, 2, 0)), shapes=[(2, 1, 3)],
         numpy=lambda a: np.transpose(a, (1, 2, 0)) ** 2, name="permute_squared"),
    Case(lambda a, b, c: ndl.stack([a, b, c]), shapes=[(2, 3)] * 3,
         numpy=lambda a, b, c: np.stack([a, b, c]), name="stack_three"),
    Case(lambda a, b: ndl.stack((a, b), axes=-1), shapes=[(2, 3)] * 2,
         numpy=lambda a, b: np.stack([a, b], axis=-1), name="stack_last_axis"),
    Case(lambda a, b: ndl.stack([a, b], axes=1), shapes=[(2, 3)] * 2,
         numpy=lambda a, b: np.stack([a, b], axis=1), name="stack_axis_1"),
    Case(lambda a, b: ndl.stack([a, b]), shapes=[(), ()],
         numpy=lambda a, b: np.stack([a, b]), name="stack_scalars"),
    Case(lambda a: ndl.stack([a]), shapes=[(3,)], numpy=lambda a: np.stack([a]), name="stack_one"),
    Case(lambda a, b: ndl.stack([a * b, b], axes=0), shapes=[(2,), (2,)],
         numpy=lambda a, b: np.stack([a * b, b]), name="stack_of_product"),
    Case(lambda a: ndl.split(a, 1)[2] * 2, shapes=[(2, 3)],
         numpy=lambda a: a[:, 2] * 2, name="split_item_axis_1"),
    Case(lambda a: ndl.split(a, -1)[0] * ndl.split(a, -1)[1], shapes=[(3, 2)],
         numpy=lambda a: a[:, 0] * a[:, 1], name="split_items_product"),
    Case(lambda a: ndl.stack(ndl.split(a, 0).tuple()[::-1], axes=1), shapes=[(3, 2)],
         numpy=lambda a: np.stack(list(a)[::-1], axis=1), name="split_restacked_reversed"),
    Case(lambda a: ndl.split(a, 0)[0], shapes=[(1,)], numpy=lambda a: a[0], name="split_item_of_one"),
    Case(lambda a: ndl.split(a, 0, sections=2)[2] * ndl.split(a, 0, sections=2)[0][:1],
         shapes=[(5, 2)], numpy=lambda a: a[4:] * a[:1], name="split_chunks_of_2"),
    Case(lambda a: ndl.concatenate(ndl.split(a, 1, sections=[1, 3]).tuple()[::-1], axes=1),
         shapes=[(2, 4)], numpy=lambda a: np.concatenate([a[:, 1:], a[:, :1]], axis=1),
         name="split_sections_reordered"),
    Case(lambda a, b: ndl.concatenate([a, b], axes=1), shapes=[(2, 3), (2, 1)],
         numpy=lambda a, b: np.concatenate([a, b], axis=1), name="concatenate_axis_1"),
    Case(lambda a, b, c: ndl.concatenate((a, b, c)), shapes=[(2,), (1,), (3,)],
         numpy=lambda a, b, c: np.concatenate([a, b, c]), name="concatenate_three"),
    Case(lambda a, b: ndl.cat([a, b], axes=-2), shapes=[(1, 2, 2), (1, 3, 2)],
         numpy=lambda a, b: np.concatenate([a, b], axis=-2), name="cat_axis_minus_2"),
    Case(lambda a, b: ndl.cat([a * b, b]), shapes=[(2, 2), (2, 2)],
         numpy=lambda a, b: np.concatenate([a * b, b]), name="cat_of_product"),
    Case(ndl.sum_to_shape, shapes=[(2, 3, 4)], numpy=lambda a, shape: a.sum(axis=(0, 2)).reshape(shape),
         kwargs={"shape": (3, 1)}),
    Case(ndl.sum_to_shape, shapes=[(2, 3)], numpy=lambda a, shape: a.sum().reshape(shape),
         kwargs={"shape": ()}),
    Case(lambda a: ndl.sum_to_shape(a * a, (1, 3)), shapes=[(2, 3)],
         numpy=lambda a: (a * a).sum(axis=0, keepdims=True), name="sum_to_shape_of_square"),
    Case(ndl.unsqueeze, shapes=[(2, 3)], numpy=lambda a, dim: np.expand_dims(a, dim), kwargs={"dim": 1}),
    Case(ndl.unsqueeze, shapes=[(2, 3)], numpy=lambda a, axes: np.expand_dims(a, axes), kwargs={"axes": -1}),
    Case(ndl.squeeze, shapes=[(2, 1, 3, 1)], numpy=np.squeeze),
    Case(ndl.squeeze, shapes=[(2, 1, 3, 1)], numpy=lambda a, dim: np.squeeze(a, 1), kwargs={"dim": (0, 1)}),
    Case(ndl.flatten, shapes=[(2, 3, 4)], numpy=np.ravel),
    Case(ndl.flatten, shapes=[(2, 3, 4, 2)], numpy=lambda a, start_dim, end_dim: a.reshape(2, 12, 2),
         kwargs={"start_dim": 1, "end_dim": -2}),
    Case(lambda a: ndl.expand(a, 2, -1, 4), shapes=[(3, 1)], numpy=lambda a: np.broadcast_to(a, (2, 3, 4)),
         name="expand_new_axis"),
    Case(lambda a: ndl.expand(a, (3, 2)), shapes=[(1, 2)], numpy=lambda a: np.broadcast_to(a, (3, 2)),
         name="expand_tuple"),
    Case(lambda a: ndl.repeat(a, 2, 3), shapes=[(2, 3)], numpy=lambda a: np.tile(a, (2, 3)), name="repeat"),
    Case(lambda a: ndl.repeat(a, (2, 1, 2)), shapes=[(3, 2)], numpy=lambda a: np.tile(a, (2, 1, 2)),
         name="repeat_new_axis"),
    Case(ndl.roll, shapes=[(3, 4)], numpy=lambda a, shifts: np.roll(a, shifts), kwargs={"shifts": 1}),
    Case(ndl.roll, shapes=[(2, 3, 4)], numpy=lambda a, shifts, dims: np.roll(a, shifts, dims),
         kwargs={"shifts": (1, -2), "dims": (0, 2)}),
    Case(lambda a: ndl.roll(a * a, -1, axis=0), shapes=[(3, 2)], numpy=lambda a: np.roll(a * a, -1, 0),
         name="roll_of_square"),
    Case(ndl.moveaxis, shapes=[(2, 3, 4)], numpy=np.moveaxis, kwargs={"source": 0, "destination": -1}),
    Case(ndl.moveaxis, shapes=[(2, 3, 4)], numpy=np.moveaxis, kwargs={"source": (0, 1), "destination": (-1, 0)}),
    Case(ndl.swapaxes, shapes=[(2, 3, 4)], numpy=lambda a, axis0, axis1: np.swapaxes(a, axis0, axis1),
         kwargs={"axis0": 0, "axis1": 2}),
    Case(ndl.expand_dims, shapes=[(2, 3)], numpy=np.expand_dims, kwargs={"axis": (0, -1)}),
    Case(ndl.expand_dims, shapes=[()], numpy=np.expand_dims, kwargs={"axis": 0}),
]


# ---- reshape, broadcast_to, transpose ---------------------------------------------------------


def test_reshape_error_names_op_and_shapes():
    x = ndl.Tensor(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"^reshape: cannot reshape \(2, 3\) \(6 elements\) into \(4, 2\)$"):
        ndl.reshape(x, (4, 2))
    with pytest.raises(ValueError, match=r"^reshape: cannot reshape \(2, 3\) \(6 elements\) into \(4, -1\)$"):
        x.reshape(4, -1)


def test_reshape_and_broadcast_to_accept_an_int_shape():
    x = ndl.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert ndl.reshape(x, 6).shape == (6,)
    assert ndl.broadcast_to(ndl.Tensor(np.float32(1.0)), 4).shape == (4,)


def test_broadcast_to_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"^broadcast_to: \(3,\) does not broadcast to \(4,\)$"):
        ndl.broadcast_to(ndl.Tensor(np.zeros(3, np.float32)), (4,))


def test_transpose_rejects_three_axes():
    x = ndl.Tensor(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"^transpose: axes must be a pair \(i, j\), got \(0, 1, 2\)"):
        ndl.transpose(x, (0, 1, 2))
    with pytest.raises(ValueError, match=r"^transpose: axes must be a pair"):
        ndl.transpose(x, 1)


def test_transpose_errors_name_the_shape():
    with pytest.raises(ValueError, match=r"^transpose: needs at least 2 dimensions, got shape \(3,\)"):
        ndl.transpose(ndl.Tensor(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match=r"^transpose: axis 3 is out of range for 3 dimensions"):
        ndl.transpose(ndl.Tensor(np.zeros((2, 3, 4), np.float32)), (0, 3))


def test_sum_to_shape_rejects_shapes_that_do_not_broadcast():
    g = ndl.Tensor(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"^sum_to_shape: \(2, 3\) does not broadcast from \(4,\)"):
        ndl.sum_to_shape(g, (4,))
    with pytest.raises(ValueError, match=r"^sum_to_shape: cannot reduce \(2, 3\) to the larger rank"):
        ndl.sum_to_shape(g, (1, 2, 3))


@given(st.data())
def test_sum_to_shape_undoes_broadcast_to(data):
    """⟨broadcast_to(x, S), y⟩ = ⟨x, sum_to_shape(y, x.shape)⟩: the adjoint of broadcasting."""
    shape = data.draw(shapes(max_dims=3))
    target = data.draw(st.lists(st.integers(1, 3), max_size=2).map(tuple)) + tuple(
        data.draw(st.sampled_from([size, 1, 2])) if size == 1 else size for size in shape
    )
    x = data.draw(float32_arrays(shape)).astype(np.float64)
    y = data.draw(float32_arrays(target)).astype(np.float64)
    forward = ndl.broadcast_to(ndl.Tensor(x), target).numpy()
    adjoint = ndl.sum_to_shape(ndl.Tensor(y), shape).numpy()
    assert adjoint.shape == shape
    np.testing.assert_allclose(np.sum(forward * y), np.sum(x * adjoint), rtol=1e-9, atol=1e-9)


# ---- permute --------------------------------------------------------------------------------


@given(st.data())
def test_permute_matches_numpy_and_its_gradient_undoes_it(data):
    shape = data.draw(shapes(max_dims=4))
    axes = tuple(data.draw(st.permutations(range(len(shape)))))
    x = ndl.Tensor(data.draw(float32_arrays(shape)))
    out = x.permute(*axes)
    np.testing.assert_array_equal(out.numpy(), np.transpose(x.numpy(), axes))
    seed = np.arange(out.numpy().size, dtype=np.float32).reshape(out.shape)
    g = ndl.autograd.grad(out, x, out_grad=ndl.Tensor(seed))
    np.testing.assert_array_equal(g.numpy(), np.transpose(seed, np.argsort(axes)))


@pytest.mark.parametrize("axes", [(0, 0, 1), (0, 1), (0, 1, 2, 3)])
def test_permute_rejects_axes_that_are_not_a_permutation(axes):
    with pytest.raises(ValueError, match=r"^permute: axes .* do not reorder the 3 axes of \(2, 3, 4\)"):
        ndl.permute(ndl.Tensor(np.zeros((2, 3, 4), np.float32)), axes)


# ---- stack, split, concatenate --------------------------------------------------------------


@given(st.data())
def test_split_undoes_stack_and_stack_undoes_split(data):
    shape = data.draw(shapes(max_dims=3))
    count = data.draw(st.integers(1, 4))
    axes = data.draw(st.integers(-len(shape) - 1, len(shape)))
    arrays = [data.draw(float32_arrays(shape)) for _ in range(count)]
    stacked = ndl.stack([ndl.Tensor(a) for a in arrays], axes=axes)
    np.testing.assert_array_equal(stacked.numpy(), np.stack(arrays, axis=axes))
    parts = ndl.split(stacked, axes)
    assert len(parts) == count
    for part, array in zip(parts.tuple(), arrays):
        np.testing.assert_array_equal(part.numpy(), array)
    np.testing.assert_array_equal(ndl.stack(parts, axes=axes).numpy(), stacked.numpy())


@given(st.data())
def test_split_in_sections_undoes_concatenate(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    axes = data.draw(st.integers(-len(shape), len(shape) - 1))
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=4))
    arrays = []
    for size in sizes:
        piece = list(shape)
        piece[axes] = size
        arrays.append(data.draw(float32_arrays(tuple(piece))))
    joined = ndl.concatenate([ndl.Tensor(a) for a in arrays], axes=axes)
    np.testing.assert_array_equal(joined.numpy(), np.concatenate(arrays, axis=axes))
    parts = ndl.split(joined, axes, sections=sizes).tuple()
    for part, array in zip(parts, arrays):
        np.testing.assert_array_equal(part.numpy(), array)


@pytest.mark.parametrize(
    "length, chunk, sizes", [(5, 2, [2, 2, 1]), (4, 2, [2, 2]), (3, 5, [3]), (0, 2, [0])]
)
def test_split_by_chunk_size_follows_pytorch(length, chunk, sizes):
    parts = ndl.split(ndl.Tensor(np.zeros((2, length), np.float32)), 1, sections=chunk)
    assert [p.shape for p in parts.tuple()] == [(2, size) for size in sizes]


def test_stack_gradient_reaches_each_input():
    a = ndl.Tensor(np.ones(3, np.float32))
    b = ndl.Tensor(np.ones(3, np.float32))
    weights = ndl.Tensor(np.array([[1, 2, 3], [4, 5, 6]], np.float32), requires_grad=False)
    (ndl.stack([a, b]) * weights).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 2, 3])
    np.testing.assert_array_equal(b.grad.numpy(), [4, 5, 6])
    assert a.grad.dtype == np.float32


def test_stack_and_concatenate_accept_a_tensor_tuple():
    pair = ndl.make_tuple(ndl.Tensor(np.zeros(2, np.float32)), ndl.Tensor(np.ones(2, np.float32)))
    assert ndl.stack(pair).shape == (2, 2)
    assert ndl.concatenate(pair).shape == (4,)


def test_stack_and_concatenate_errors_name_op_and_shapes():
    a = ndl.Tensor(np.zeros((2, 3), np.float32))
    b = ndl.Tensor(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"^stack: the shapes differ: \(2, 3\), \(2, 4\)$"):
        ndl.stack([a, b])
    with pytest.raises(ValueError, match=r"^stack: axis 3 is out of range for 3 dimensions"):
        ndl.stack([a, a], axes=3)
    with pytest.raises(ValueError, match=r"^stack: needs at least one tensor"):
        ndl.stack([])
    message = r"^concatenate: the shapes differ outside axis 0: \(2, 3\), \(2, 4\)$"
    with pytest.raises(ValueError, match=message):
        ndl.concatenate([a, b])
    with pytest.raises(ValueError, match=r"^concatenate: 0-d tensors have no axis to join along"):
        ndl.cat([ndl.Tensor(np.float32(1.0))])
    with pytest.raises(ValueError, match=r"^concatenate: needs at least one tensor"):
        ndl.cat(())


def test_split_errors_name_op_and_shapes():
    x = ndl.Tensor(np.zeros((5, 3), np.float32))
    message = r"^split: sections \[2, 2\] do not add up to the size 5 of axis 0 of \(5, 3\)"
    with pytest.raises(ValueError, match=message):
        ndl.split(x, 0, sections=[2, 2])
    with pytest.raises(ValueError, match=r"^split: the chunk size must be positive, got 0"):
        ndl.split(x, 0, sections=0)
    with pytest.raises(ValueError, match=r"^split: axis 2 is out of range for 2 dimensions"):
        ndl.split(x, 2)


@pytest.mark.parametrize("shape", [(-2, 3), (-1, -1), (2, -3)])
def test_reshape_refuses_sizes_below_minus_one_and_two_minus_ones(shape):
    with pytest.raises(ValueError, match=r"reshape: invalid shape .*at most one -1"):
        ndl.reshape(ndl.Tensor(np.ones(6)), shape)


def test_reshape_refuses_a_size_that_is_not_an_integer():
    with pytest.raises(TypeError, match=r"sizes must be integers"):
        ndl.reshape(ndl.Tensor(np.ones(6)), (2.0, 3))



# ---- unsqueeze, squeeze, flatten, expand, repeat --------------------------------------------------


def test_squeeze_leaves_a_named_axis_whose_size_is_not_1_as_pytorch_does():
    x = ndl.Tensor(np.ones((2, 1, 3), np.float32))
    assert ndl.squeeze(x, 0).shape == (2, 1, 3) and ndl.squeeze(x, dim=1).shape == (2, 3)
    assert ndl.unsqueeze(x, dim=3).shape == (2, 1, 3, 1) and ndl.unsqueeze(x, -4).shape == (1, 2, 1, 3)
    assert ndl.flatten(ndl.Tensor(np.float32(2))).shape == (1,)
    with pytest.raises(ValueError, match="^unsqueeze: axis 5 is out of range for 4 dimensions"):
        ndl.unsqueeze(x, 5)
    with pytest.raises(ValueError, match=r"^flatten: start_dim 2 comes after end_dim 1 for shape \(2, 1, 3\)"):
        ndl.flatten(x, 2, 1)


def test_repeat_tiles_as_numpy_and_its_adjoint_sums_the_tiles():
    a = np.float32([[1, 2], [3, 4]])
    x = ndl.Tensor(a)
    out = ndl.repeat(x, 3, 1, 2)
    np.testing.assert_array_equal(out.numpy(), np.tile(a, (3, 1, 2)))
    (g,) = ndl.autograd.grad(out, [x], out_grad=ndl.Tensor(np.arange(24, dtype=np.float32).reshape(3, 2, 4)))
    tiles = np.arange(24, dtype=np.float32).reshape(3, 2, 2, 2)  # (copy, row, tile, column)
    np.testing.assert_array_equal(g.numpy(), tiles.sum(axis=(0, 2)))
    with pytest.raises(ValueError, match=r"^repeat: sizes \(2,\) must be non-negative and at least as many"):
        ndl.repeat(x, 2)


def test_expand_keeps_sizes_for_minus_1_and_stretches_only_size_1_axes():
    x = ndl.Tensor(np.float32([[1], [2]]))
    np.testing.assert_array_equal(ndl.expand(x, -1, 3).numpy(), [[1, 1, 1], [2, 2, 2]])
    assert ndl.expand(x, (4, 2, 1)).shape == (4, 2, 1)
    with pytest.raises(ValueError, match=r"^expand: \(2, 1\) cannot expand to \(3, 1\): size 3 at axis 0"):
        ndl.expand(x, 3, 1)
    with pytest.raises(ValueError, match=r"^expand: \(2, 1\) cannot expand to \(-1, 2, 1\): size -1 at axis 0 \(a new"):
        ndl.expand(x, -1, 2, 1)


def test_repeat_and_expand_match_pytorch():
    torch = pytest.importorskip("torch")
    a = np.float32([[1, 2, 3]])
    assert np.array_equal(ndl.repeat(ndl.Tensor(a), 2, 1, 2).numpy(), torch.tensor(a).repeat(2, 1, 2).numpy())
    assert np.array_equal(ndl.expand(ndl.Tensor(a), 2, -1).numpy(), torch.tensor(a).expand(2, -1).numpy())


def test_axis_taking_functions_outside_the_reductions_take_dim_and_axis():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = ndl.Tensor(a)
    assert ndl.stack([x, x], dim=2).shape == ndl.stack([x, x], axis=2).shape == (2, 3, 2)
    assert ndl.concatenate([x, x], axis=1).shape == ndl.cat([x, x], dim=-1).shape == (2, 6)
    assert len(ndl.split(x, dim=1)) == 3 and ndl.split(x, axis=0, sections=1)[0].shape == (1, 3)
    np.testing.assert_array_equal(ndl.flip(x, dim=1).numpy(), a[:, ::-1])
    np.testing.assert_array_equal(ndl.cumsum(x, axis=0).numpy(), np.cumsum(a, 0))
    np.testing.assert_array_equal(ndl.gather(x, dim=1, index=np.array([[2], [0]])).numpy(), [[2], [3]])
    assert ndl.unsqueeze(x, axis=0).shape == (1, 2, 3) and ndl.squeeze(x[None], dim=0).shape == (2, 3)


# ---- roll, moveaxis, swapaxes, expand_dims ----------------------------------------------------------


def test_roll_moveaxis_and_swapaxes_match_pytorch():
    torch = pytest.importorskip("torch")
    a = np.arange(24.0).reshape(2, 3, 4)
    x, t = ndl.Tensor(a), torch.tensor(a)
    pairs = [
        (ndl.roll(x, 5), torch.roll(t, 5)),
        (ndl.roll(x, (1, -1), (2, 1)), torch.roll(t, (1, -1), (2, 1))),
        (ndl.movedim(x, (0, 2), (2, 0)), torch.movedim(t, (0, 2), (2, 0))),
        (ndl.swapdims(x, 0, 1), torch.swapdims(t, 0, 1)),
        (ndl.squeeze(ndl.expand_dims(x, (1, 3)), (1, 3)), t),
    ]
    for ours, theirs in pairs:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_shape_moves_name_bad_axes():
    x = ndl.Tensor(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="^moveaxis: 2 source axes but 1 destinations"):
        ndl.moveaxis(x, (0, 1), 0)
    with pytest.raises(ValueError, match="^expand_dims: repeated axis"):
        ndl.expand_dims(x, (0, 0))
    with pytest.raises(ValueError, match=r"^roll: shifts \(1, 2\) and dims 0 differ in length"):
        ndl.roll(x, (1, 2), 0)
    with pytest.raises(TypeError, match="^roll: the axes are given twice"):
        ndl.roll(x, 1, 0, axis=0)
