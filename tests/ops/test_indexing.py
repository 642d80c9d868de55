"""Case table and properties for getitem, scatter_add, gather, masked_fill, tril/triu, flip and pad."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import needle as ndl
from tests.ops.case import Case
from tests.strategies import float32_arrays, shapes

REPEATED = np.array([0, 2, 0, 0])
GRID = np.array([[0, 1], [1, 1]])
ROW_MASK = np.array([True, False, True])
MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, False]])


def _index_inputs(rng):
    """A (3, 4) float32 array and an int64 index array with a repeat."""
    return [rng.uniform(-2, 2, size=(3, 4)).astype(np.float32), np.array([2, 0, 2], dtype=np.int64)]


def _mask_inputs(rng):
    return [rng.uniform(-2, 2, size=(3, 4)).astype(np.float32), MASK]


def _gather_inputs(index_shape, axis):
    """A (3, 4) float32 array and an index into `axis` of it, of `index_shape`, with repeats."""
    def make(rng):
        a = rng.uniform(-2, 2, size=(3, 4)).astype(np.float32)
        return [a, rng.integers(0, a.shape[axis], size=index_shape)]

    return make


def _scatter_reference(a, index, shape):
    out = np.zeros(shape, dtype=a.dtype)
    np.add.at(out, index, a)
    return out


def _scatter_inputs(axis):
    """a (3, 4), src and an index into `axis` of a with repeats (so some writes are overwritten)."""
    def make(rng):
        a = rng.uniform(-2, 2, size=(3, 4)).astype(np.float32)
        src_shape, index_shape = ((3, 5), (2, 4)) if axis == 0 else ((2, 3), (2, 3))
        src = rng.uniform(-2, 2, size=src_shape).astype(np.float32)
        return [a, src, rng.integers(0, a.shape[axis], size=index_shape)]

    return make


def _torch_scatter_reference(axis):
    """PyTorch's scatter written out with NumPy: out[index[i][j]][j] = src[i][j] (axis 0), last write wins."""
    def reference(a, src, index):
        out = a.copy()
        grids = list(np.indices(index.shape, sparse=True))
        grids[axis] = index
        out[tuple(grids)] = src[tuple(slice(0, n) for n in index.shape)]
        return out

    return reference


def _scatter_add_reference(a, src, index):
    """PyTorch's scatter_add along axis 0 with NumPy: out[index[i][j]][j] += src[i][j], repeats adding."""
    out = a.copy()
    np.add.at(out, (index, np.arange(index.shape[1])[None, :]), src[:index.shape[0], :index.shape[1]])
    return out


def _pad_reference(a, pad_width):
    return np.pad(a, pad_width) if a.ndim else a.copy()  # np.pad rejects the empty widths of a 0-d array


CASES = [
    Case(lambda a: a[1], shapes=[(3, 4)], numpy=lambda a: a[1], name="getitem_int"),
    Case(lambda a: a[-1, 2], shapes=[(3, 4)], numpy=lambda a: a[-1, 2], name="getitem_negative_int_pair"),
    Case(lambda a: a[::2, 1:3], shapes=[(3, 4)], numpy=lambda a: a[::2, 1:3], name="getitem_slices"),
    Case(lambda a: a[::-1, -2:], shapes=[(3, 4)], numpy=lambda a: a[::-1, -2:],
         name="getitem_negative_step"),
    Case(lambda a: a[..., None, 0], shapes=[(2, 3, 4)], numpy=lambda a: a[..., None, 0],
         name="getitem_ellipsis_newaxis"),
    Case(lambda a: a[()], shapes=[()], numpy=lambda a: a[()], name="getitem_scalar"),
    Case(lambda a: a[None], shapes=[()], numpy=lambda a: a[None], name="getitem_scalar_newaxis"),
    Case(lambda a: a[REPEATED], shapes=[(3, 4)], numpy=lambda a: a[REPEATED], name="getitem_repeated_rows"),
    Case(lambda a: a[GRID, 2], shapes=[(3, 4)], numpy=lambda a: a[GRID, 2], name="getitem_index_grid"),
    Case(lambda a: a[1:, np.array([3, 3, 0])], shapes=[(3, 4)], numpy=lambda a: a[1:, np.array([3, 3, 0])],
         name="getitem_slice_and_array"),
    Case(lambda a: a[[0, 2]], shapes=[(3, 4)], numpy=lambda a: a[[0, 2]], name="getitem_list"),
    Case(lambda a, index: a[index], shapes=[(3, 4), (3,)], numpy=lambda a, index: a[index],
         make_inputs=_index_inputs, name="getitem_int_tensor"),
    Case(lambda a: a[ROW_MASK], shapes=[(3, 4)], numpy=lambda a: a[ROW_MASK], name="getitem_row_mask"),
    Case(lambda a, mask: a[mask], shapes=[(3, 4), (3, 4)], numpy=lambda a, mask: a[mask],
         make_inputs=_mask_inputs, name="getitem_bool_tensor"),
    Case(lambda a: a[REPEATED] * a[REPEATED], shapes=[(3, 2)], numpy=lambda a: a[REPEATED] ** 2,
         name="getitem_squared_repeated_rows"),
    Case(lambda a: a[1:, ::2] * a[1:, ::2], shapes=[(3, 4)], numpy=lambda a: a[1:, ::2] ** 2,
         name="getitem_squared_slices"),
    Case(ndl.scatter_add, shapes=[(3, 4)], numpy=_scatter_reference,
         kwargs={"index": (np.array([0, 0, 2]),), "shape": (3, 4)}, name="scatter_add_repeated_rows"),
    Case(ndl.scatter_add, shapes=[(2, 2)], numpy=_scatter_reference,
         kwargs={"index": (slice(1, 3), slice(None)), "shape": (4, 2)}, name="scatter_add_slice"),
    Case(ndl.scatter_add, shapes=[()], numpy=_scatter_reference,
         kwargs={"index": (1, -1), "shape": (2, 3)}, name="scatter_add_one_entry"),
    Case(lambda a: ndl.scatter_add(a * a, (np.array([1, 1]),), (3, 2)), shapes=[(2, 2)],
         numpy=lambda a: _scatter_reference(a * a, (np.array([1, 1]),), (3, 2)),
         name="scatter_add_of_square"),
    Case(ndl.flip, shapes=[(2, 3)], numpy=np.flip),
    Case(ndl.flip, shapes=[(2, 3, 4)], numpy=lambda a, axes: np.flip(a, axes), kwargs={"axes": (0, -1)}),
    Case(ndl.flip, shapes=[(2, 1)], numpy=lambda a, axes: np.flip(a, axes), kwargs={"axes": 1}),
    Case(ndl.flip, shapes=[()], numpy=np.flip),
    Case(lambda a: ndl.flip(a, 0) * a, shapes=[(3,)], numpy=lambda a: a[::-1] * a, name="flip_times_input"),
    Case(ndl.pad, shapes=[(2, 3)], numpy=_pad_reference, kwargs={"pad_width": ((1, 2), (0, 1))}),
    Case(ndl.pad, shapes=[(3,)], numpy=_pad_reference, kwargs={"pad_width": ((0, 0),)}),
    Case(ndl.pad, shapes=[()], numpy=_pad_reference, kwargs={"pad_width": ()}),
    Case(ndl.pad, shapes=[(1, 2, 1)], numpy=_pad_reference, kwargs={"pad_width": ((0, 1), (2, 0), (1, 1))}),
    Case(lambda a: ndl.pad(a * a, ((1, 1),)), shapes=[(2,)], numpy=lambda a: np.pad(a * a, 1),
         name="pad_of_square"),
    Case(lambda a, index: ndl.gather(a, 1, index), shapes=[(3, 4), (3, 5)],
         numpy=lambda a, index: np.take_along_axis(a, index, 1), make_inputs=_gather_inputs((3, 5), 1),
         name="gather_axis_1_repeats"),
    Case(lambda a, index: ndl.gather(a, dim=0, index=index), shapes=[(3, 4), (2, 3)],
         numpy=lambda a, index: np.take_along_axis(a[:, :3], index, 0), make_inputs=_gather_inputs((2, 3), 0),
         name="gather_dim_0_smaller_index"),
    Case(lambda a, mask: ndl.masked_fill(a, mask, -1.5), shapes=[(3, 4), (3, 4)],
         numpy=lambda a, mask: np.where(mask, np.float32(-1.5), a), make_inputs=_mask_inputs,
         name="masked_fill"),
    Case(lambda a, value: ndl.masked_fill(a, ROW_MASK[:, None], value), shapes=[(3, 4), ()],
         numpy=lambda a, value: np.where(ROW_MASK[:, None], value, a), name="masked_fill_tensor_value"),
    Case(lambda a, src, index: ndl.scatter(a, 0, index, src), shapes=[(3, 4), (3, 5), (2, 4)],
         numpy=_torch_scatter_reference(0), make_inputs=_scatter_inputs(0), name="scatter_dim_0_repeats"),
    Case(lambda a, src, index: ndl.scatter(a, dim=1, index=index, src=src), shapes=[(3, 4), (2, 3), (2, 3)],
         numpy=_torch_scatter_reference(1), make_inputs=_scatter_inputs(1), name="scatter_dim_1"),
    Case(lambda a, src, index: ndl.scatter(a, 0, index, src, reduce="add"), shapes=[(3, 4), (3, 5), (2, 4)],
         numpy=_scatter_add_reference, make_inputs=_scatter_inputs(0), name="scatter_add_reduce"),
    Case(lambda a: ndl.scatter(a, 1, np.array([[0], [3], [1]]), value=2.5), shapes=[(3, 4)],
         numpy=lambda a: np.where(np.arange(4) == np.array([[0], [3], [1]]), np.float32(2.5), a),
         name="scatter_value"),
    Case(lambda a, index: ndl.take_along_axis(a, index, 1), shapes=[(3, 4), (1, 6)],
         numpy=lambda a, index: np.take_along_axis(a, index, 1),
         make_inputs=lambda rng: [rng.uniform(-2, 2, (3, 4)).astype(np.float32), rng.integers(-4, 4, (1, 6))],
         name="take_along_axis_broadcast_negative"),
    Case(lambda a: ndl.take_along_dim(a, np.array([5, 0, 5])), shapes=[(2, 3)],
         numpy=lambda a: np.take_along_axis(a, np.array([5, 0, 5]), None), name="take_along_dim_flat"),
    Case(lambda a: ndl.take(a, np.array([[0, -1], [4, 4]])), shapes=[(2, 3)],
         numpy=lambda a: np.take(a, np.array([[0, -1], [4, 4]])), name="take_flat"),
    Case(lambda a: ndl.take(a, np.array([2, 0, 2]), axis=1), shapes=[(2, 3)],
         numpy=lambda a: np.take(a, np.array([2, 0, 2]), axis=1), name="take_axis_1"),
    Case(ndl.tile, shapes=[(2, 3)], numpy=np.tile, kwargs={"reps": 2}),
    Case(ndl.tile, shapes=[(3,)], numpy=np.tile, kwargs={"reps": (2, 1, 2)}),
    Case(lambda a: ndl.repeat_interleave(a, 2), shapes=[(2, 3)], numpy=lambda a: np.repeat(a, 2),
         name="repeat_interleave_flat"),
    Case(lambda a: ndl.repeat_interleave(a, np.array([1, 0, 3]), dim=1), shapes=[(2, 3)],
         numpy=lambda a: np.repeat(a, [1, 0, 3], axis=1), name="repeat_interleave_counts"),
    Case(ndl.tril, shapes=[(3, 4)], numpy=np.tril),
    Case(ndl.tril, shapes=[(2, 4, 3)], numpy=lambda a, diagonal: np.tril(a, diagonal), kwargs={"diagonal": -1}),
    Case(ndl.triu, shapes=[(4, 3)], numpy=np.triu),
    Case(lambda a: ndl.triu(a * a, 1), shapes=[(2, 3, 3)], numpy=lambda a: np.triu(a * a, 1),
         name="triu_of_square"),
]


# ---- getitem --------------------------------------------------------------------------------


def test_repeated_index_arrays_accumulate_the_gradient():
    x = ndl.Tensor(np.ones(3, np.float32))
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 0, 1])
    assert x.grad.dtype == np.float32


def test_mask_and_index_tensors_select_like_arrays():
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = ndl.Tensor(data)
    np.testing.assert_array_equal(x[ndl.Tensor(MASK)].numpy(), data[MASK])
    np.testing.assert_array_equal(x[ndl.Tensor(GRID), 1:].numpy(), data[GRID, 1:])


def test_iterating_a_tensor_yields_its_rows():
    data = np.arange(6, dtype=np.float32).reshape(3, 2)
    rows = [row.numpy() for row in ndl.Tensor(data)]
    np.testing.assert_array_equal(np.stack(rows), data)


@given(st.data())
def test_basic_indices_match_numpy_and_scatter_add_is_their_adjoint(data):
    """x[i] equals NumPy's, and ⟨x[i], y⟩ = ⟨x, scatter_add(y, i, x.shape)⟩."""
    shape = data.draw(shapes(max_dims=3))
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    _check_adjoint_pair(data, shape, index)


@given(st.data())
def test_index_arrays_match_numpy_and_scatter_add_is_their_adjoint(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    index = data.draw(hnp.integer_array_indices(shape, result_shape=shapes(min_dims=1, max_dims=2)))
    _check_adjoint_pair(data, shape, index)


def _check_adjoint_pair(data, shape, index):
    array = data.draw(float32_arrays(shape)).astype(np.float64)
    out = ndl.getitem(ndl.Tensor(array), index)
    np.testing.assert_array_equal(out.numpy(), array[index])
    y = data.draw(float32_arrays(out.shape)).astype(np.float64)
    back = ndl.scatter_add(ndl.Tensor(y), index, shape)
    assert back.shape == shape
    np.testing.assert_allclose(np.sum(out.numpy() * y), np.sum(array * back.numpy()), rtol=1e-9, atol=1e-9)


def test_getitem_errors_name_the_op_and_shape():
    x = ndl.Tensor(np.zeros(3, np.float32))
    with pytest.raises(IndexError, match=r"^getitem: shape \(3,\): index 5 is out of bounds"):
        x[5]
    with pytest.raises(IndexError, match=r"^getitem: index arrays must hold integers or booleans, not float"):
        x[np.array([0.0, 1.0], np.float32)]
    with pytest.raises(IndexError, match=r"^getitem: shape \(3,\): too many indices"):
        x[0, 0]


def test_an_empty_index_list_selects_nothing():
    x = ndl.Tensor(np.zeros((3, 2), np.float32))
    assert x[[]].shape == (0, 2)


# ---- scatter_add, flip, pad -----------------------------------------------------------------


def test_scatter_add_rejects_values_that_do_not_fit_the_index():
    values = ndl.Tensor(np.ones(2, np.float32))
    message = r"^scatter_add: values of shape \(2,\) do not fit the \(3,\) entries"
    with pytest.raises(ValueError, match=message):
        ndl.scatter_add(values, (np.array([0, 0, 1]),), (4,))


@given(st.data())
def test_pad_and_slicing_back_are_adjoint(data):
    """⟨pad(x, w), y⟩ = ⟨x, y[interior]⟩, and the gradient of pad is exactly that slice."""
    shape = data.draw(shapes(max_dims=3))
    widths = tuple(data.draw(st.tuples(st.integers(0, 2), st.integers(0, 2))) for _ in shape)
    x = ndl.Tensor(data.draw(float32_arrays(shape)).astype(np.float64))
    padded = ndl.pad(x, widths)
    np.testing.assert_array_equal(padded.numpy(), _pad_reference(x.numpy(), widths))
    y = data.draw(float32_arrays(padded.shape)).astype(np.float64)
    interior = tuple(slice(before, before + size) for (before, _), size in zip(widths, shape))
    g = ndl.autograd.grad(padded, x, out_grad=ndl.Tensor(y))
    np.testing.assert_array_equal(g.numpy(), y[interior])
    np.testing.assert_allclose(np.sum(padded.numpy() * y), np.sum(x.numpy() * y[interior]), rtol=1e-9)


@pytest.mark.parametrize("pad_width", [((1, 1),), ((1, 1), (0, -1)), ((1, 1, 1), (0, 0))])
def test_pad_rejects_widths_that_are_not_one_non_negative_pair_per_axis(pad_width):
    with pytest.raises(ValueError, match=r"^pad: pad_width .* must give one \(before, after\) pair"):
        ndl.pad(ndl.Tensor(np.zeros((2, 3), np.float32)), pad_width)


def test_flip_rejects_a_repeated_axis():
    with pytest.raises(ValueError, match=r"^flip: repeated axis"):
        ndl.flip(ndl.Tensor(np.zeros((2, 3), np.float32)), (1, -1))


# ---- gather and masked_fill ----------------------------------------------------------------------


def test_gather_picks_along_the_axis_and_its_adjoint_scatter_adds_repeats():
    a = np.float32([[1, 2, 3], [4, 5, 6]])
    x = ndl.Tensor(a)
    index = ndl.Tensor(np.array([[2, 2, 0], [1, 0, 0]]))
    out = ndl.gather(x, 1, index)
    np.testing.assert_array_equal(out.numpy(), [[3, 3, 1], [5, 4, 4]])
    (g,) = ndl.autograd.grad(out, [x], out_grad=ndl.Tensor(np.float32([[1, 10, 100], [1, 10, 100]])))
    np.testing.assert_array_equal(g.numpy(), [[100, 0, 11], [110, 1, 0]])


def test_gather_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a = rng.uniform(-2, 2, size=(3, 4)).astype(np.float32)
    index = rng.integers(0, 3, size=(2, 4))
    x, t = ndl.Tensor(a), torch.tensor(a, requires_grad=True)
    out, expected = ndl.gather(x, dim=0, index=index), torch.gather(t, 0, torch.tensor(index))
    (out * out).sum().backward()
    (expected * expected).sum().backward()
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)


def test_gather_errors_name_the_op_and_the_shapes():
    x = ndl.Tensor(np.ones((2, 3), np.float32))
    with pytest.raises(IndexError, match=r"^gather: index values from -1 to 0 are out of range \[0, 3\)"):
        ndl.gather(x, 1, np.array([[-1], [0]]))
    with pytest.raises(ValueError, match=r"^gather: index \(3,\) and input \(2, 3\) differ in their number"):
        ndl.gather(x, 1, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"^gather: index \(3, 1\) is larger than the input \(2, 3\) outside"):
        ndl.gather(x, 1, np.zeros((3, 1), np.int64))
    with pytest.raises(TypeError, match="^gather: the index must hold integers, got dtype float64"):
        ndl.gather(x, 1, np.zeros((2, 1)))


def test_masked_fill_broadcasts_the_mask_and_its_adjoint_is_zero_where_filled():
    x = ndl.Tensor(np.float32([[1, 2, 3], [4, 5, 6]]))
    out = ndl.masked_fill(x, np.array([True, False, True]), 0.0)
    np.testing.assert_array_equal(out.numpy(), [[0, 2, 0], [0, 5, 0]])
    (g,) = ndl.autograd.grad(out, [x])
    np.testing.assert_array_equal(g.numpy(), [[0, 1, 0], [0, 1, 0]])
    with pytest.raises(ValueError, match=r"^masked_fill: mask \(3, 3\) does not broadcast to the input's shape"):
        ndl.masked_fill(x, np.ones((3, 3), bool), 0.0)
    with pytest.raises(TypeError, match="^masked_fill: the mask must be bool, got dtype int64"):
        ndl.masked_fill(x, np.array([1, 0, 1]), 0.0)


# ---- tril, triu -----------------------------------------------------------------------------


def test_tril_and_triu_zero_the_other_triangle_even_at_inf_and_its_adjoint():
    a = np.array([[1.0, np.inf], [np.nan, 2.0]], dtype=np.float32)
    x = ndl.Tensor(a)
    lower, upper = ndl.tril(x), ndl.triu(x, diagonal=1)
    np.testing.assert_array_equal(lower.numpy(), [[1, 0], [np.nan, 2]])
    np.testing.assert_array_equal(upper.numpy(), [[0, np.inf], [0, 0]])
    (g,) = ndl.autograd.grad(lower.sum(), [x])
    np.testing.assert_array_equal(g.numpy(), [[1, 0], [1, 1]])


def test_tril_and_triu_name_a_bad_input():
    with pytest.raises(ValueError, match=r"^tril: needs at least 2 dimensions, got shape \(3,\)"):
        ndl.tril(ndl.Tensor(np.ones(3, np.float32)))
    with pytest.raises(TypeError, match="^triu: diagonal must be an int"):
        ndl.triu(ndl.Tensor(np.ones((2, 2), np.float32)), 0.5)


# ---- scatter, take, repeats -------------------------------------------------------------------


def test_scatter_matches_pytorch_and_only_the_surviving_write_gets_an_adjoint():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, src = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    index = np.array([[0, 1, 2, 0], [1, 2, 0, 2]])  # distinct per column: PyTorch's result is defined
    x, s = ndl.Tensor(a), ndl.Tensor(src)
    out = ndl.scatter(x, 0, index, s)
    t, ts = torch.tensor(a, requires_grad=True), torch.tensor(src, requires_grad=True)
    expected = torch.scatter(t, 0, torch.tensor(index), ts)
    weights = rng.standard_normal((3, 4))
    (out * ndl.Tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())
    np.testing.assert_allclose(s.grad.numpy(), ts.grad.numpy())
    repeated = ndl.Tensor(np.float32([[1, 2], [3, 4]]))
    (g,) = ndl.autograd.grad(ndl.scatter(ndl.Tensor(np.zeros((1, 2), np.float32)), 0, np.zeros((2, 2), np.int64),
                                         repeated).sum(), [repeated])
    np.testing.assert_array_equal(g.numpy(), [[0, 0], [1, 1]])  # the second write wins


def test_scatter_take_and_repeat_interleave_name_bad_input():
    x = ndl.Tensor(np.ones((2, 3), np.float32))
    with pytest.raises(IndexError, match=r"^scatter: index values from 0 to 2 are out of range for axis 0"):
        ndl.scatter(x, 0, np.array([[2, 0, 0]]), value=1.0)
    with pytest.raises(TypeError, match="^scatter: pass exactly one of src and value"):
        ndl.scatter(x, 0, np.array([[0, 0, 0]]))
    with pytest.raises(TypeError, match="^take: the index must hold integers, got dtype float64"):
        ndl.take(x, np.array([0.5]))
    with pytest.raises(IndexError, match="^take: index values from 0 to 6 are out of range for the flattened"):
        ndl.take(x, np.array([0, 6]))
    with pytest.raises(ValueError, match="^repeat_interleave: repeats must be a count >= 0 or one per entry"):
        ndl.repeat_interleave(x, np.array([1, 2]), dim=1)


def test_repeat_is_pytorchs_tensor_repeat_and_repeat_interleave_is_numpys_repeat():
    a = np.float32([[1, 2], [3, 4]])
    x = ndl.Tensor(a)
    np.testing.assert_array_equal(ndl.repeat(x, 2, 1).numpy(), np.tile(a, (2, 1)))
    np.testing.assert_array_equal(ndl.tile(x, (2,)).numpy(), np.tile(a, 2))
    np.testing.assert_array_equal(ndl.repeat_interleave(x, 2, dim=0).numpy(), np.repeat(a, 2, axis=0))
