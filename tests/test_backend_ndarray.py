"""needle.backend_ndarray: every NDArray method and module function against NumPy, with the
course's quirks (float32 by default, integer indices keep their axis, comparisons give 0/1)."""
import numpy as np
import pytest

import needle as ndl
import needle.backend_ndarray as nd


def sample(*shape):
    return np.random.randn(*shape).astype(np.float32)


def test_array_and_constructor_copy_and_default_to_float32():
    data = np.arange(6, dtype=np.int64).reshape(2, 3)
    a = nd.array(data)
    b = nd.NDArray(data, device=nd.cpu())
    c = nd.array(data, dtype="int64", device=nd.cpu_numpy())
    assert a.dtype == "float32" and b.dtype == np.float32 and c.dtype == np.int64
    assert nd.array(data, dtype=None).dtype == np.float32
    data[0, 0] = 100
    for x in (a, b, c):
        np.testing.assert_array_equal(x.numpy(), np.arange(6).reshape(2, 3))
        assert x.device == nd.cpu() and type(x.numpy()) is np.ndarray
    copied = nd.NDArray(a)
    copied[0, 0] = 5.0
    assert a.numpy()[0, 0] == 0.0
    np.testing.assert_array_equal(nd.array([[1, 2]], device=None).numpy(), [[1.0, 2.0]])


def test_metadata():
    a = nd.array(sample(2, 3, 4))
    assert a.shape == (2, 3, 4) and a.size == 24 and a.ndim == 3
    assert a.strides == (12, 4, 1)  # in elements, as the course counts them
    assert a.permute((2, 0, 1)).strides == (1, 12, 4)
    assert nd.array(3.5).shape == () and nd.array(3.5).size == 1


def test_numpy_returns_a_copy():
    a = nd.array([1.0, 2.0])
    a.numpy()[0] = 9.0
    assert a.numpy()[0] == 1.0
    assert np.asarray(a).dtype == np.float32 and np.asarray(a, dtype=np.float64).dtype == np.float64


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="array: expected numbers, got a <U1 array"):
        nd.array(["a"])
    with pytest.raises(TypeError, match="NDArray: expected numbers"):
        nd.NDArray([object()])
    with pytest.raises(ValueError, match=r"array: device cuda\(\) is not enabled"):
        nd.array([1.0], device=nd.cuda())
    with pytest.raises(ValueError, match=r"NDArray: device cuda\(\) is not enabled"):
        nd.NDArray([1.0], device=nd.cuda())
    with pytest.raises(TypeError, match="unsupported operand type"):
        nd.array([1.0]) + "x"
    with pytest.raises(TypeError, match="NDArray.__setitem__: expected an NDArray, array or number, got str"):
        nd.array([1.0])[0] = "x"


def test_pad_adds_zeros_like_np_pad():
    x = sample(2, 3, 4)
    pairs = ((0, 0), (1, 2), (3, 0))
    padded = nd.array(x).pad(pairs)
    np.testing.assert_array_equal(padded.numpy(), np.pad(x, pairs))
    np.testing.assert_array_equal(nd.pad(nd.array(x), pairs).numpy(), np.pad(x, pairs))
    for bad in (((1, 1),), ((0, 0), (0, -1), (0, 0)), ((0, 0), (0, 1.5), (0, 0)), ((0,), (0, 0), (0, 0))):
        with pytest.raises(ValueError, match=r"NDArray.pad: expected 3 pairs of non-negative integers"):
            nd.array(x).pad(bad)


@pytest.mark.parametrize("axes", [0, (1,), (0, 2), (0, 1, 2), (-1,)])
def test_flip_is_np_flip_and_a_new_compact_array(axes):
    x = sample(2, 3, 4)
    flipped = nd.array(x).flip(axes)
    np.testing.assert_array_equal(flipped.numpy(), np.flip(x, axes))
    assert flipped.is_compact()
    np.testing.assert_array_equal(nd.flip(nd.array(x), axes).numpy(), np.flip(x, axes))


def test_flip_refuses_an_axis_out_of_range():
    with pytest.raises(ValueError, match=r"NDArray.flip: axis 3 is out of range for shape \(2, 3\)"):
        nd.array(sample(2, 3)).flip((3,))


def test_permute_is_a_transpose_view():
    x = sample(2, 3, 4)
    a = nd.array(x)
    permuted = a.permute((2, 0, 1))
    np.testing.assert_array_equal(permuted.numpy(), x.transpose(2, 0, 1))
    assert not permuted.is_compact()
    permuted[0, 0, 0] = 42.0  # a view: writes reach the original
    assert a.numpy()[0, 0, 0] == 42.0
    np.testing.assert_array_equal(a.permute(1, 0, 2).numpy(), a.numpy().transpose(1, 0, 2))
    np.testing.assert_array_equal(nd.permute(a, (1, 2, 0)).numpy(), a.numpy().transpose(1, 2, 0))
    with pytest.raises(ValueError, match=r"NDArray.permute: \(0, 0, 1\) is not a permutation"):
        a.permute((0, 0, 1))


def test_reshape():
    x = sample(2, 3, 4)
    a = nd.array(x)
    np.testing.assert_array_equal(a.reshape((6, 4)).numpy(), x.reshape(6, 4))
    np.testing.assert_array_equal(a.reshape(4, -1).numpy(), x.reshape(4, -1))
    np.testing.assert_array_equal(nd.reshape(a, (24,)).numpy(), x.reshape(24))
    np.testing.assert_array_equal(a.permute((2, 1, 0)).reshape((4, 6)).numpy(), x.transpose(2, 1, 0).reshape(4, 6))
    with pytest.raises(ValueError, match=r"NDArray.reshape: cannot reshape \(2, 3, 4\) \(size 24\) to \(5, 5\)"):
        a.reshape((5, 5))


def test_broadcast_to_is_a_read_only_view_until_compacted():
    x = sample(3, 1)
    a = nd.array(x).broadcast_to((2, 3, 4))
    np.testing.assert_array_equal(a.numpy(), np.broadcast_to(x, (2, 3, 4)))
    np.testing.assert_array_equal(nd.broadcast_to(nd.array(x), (3, 5)).numpy(), np.broadcast_to(x, (3, 5)))
    with pytest.raises(ValueError, match="NDArray.__setitem__: the array is a read-only broadcast view"):
        a[0, 0, 0] = 1.0
    compact = a.compact()
    assert compact.is_compact()
    compact[0, 0, 0] = 1.0
    assert compact.numpy()[0, 0, 0] == 1.0 and compact.numpy()[1, 0, 0] == x[0, 0]
    with pytest.raises(ValueError, match=r"NDArray.broadcast_to: cannot broadcast \(3, 1\) to \(2, 4\)"):
        nd.array(x).broadcast_to((2, 4))


def test_compact_returns_itself_when_already_compact():
    a = nd.array(sample(3, 4))
    assert a.compact() is a
    view = a.permute((1, 0))
    compact = view.compact()
    assert compact is not view and compact.is_compact() and compact.strides == (3, 1)
    np.testing.assert_array_equal(compact.numpy(), view.numpy())


@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_and_max_are_numpys(axis, keepdims):
    x = sample(2, 3, 4)
    a = nd.array(x)
    np.testing.assert_allclose(a.sum(axis, keepdims).numpy(), x.sum(axis=axis, keepdims=keepdims), rtol=1e-6)
    np.testing.assert_array_equal(a.max(axis=axis, keepdims=keepdims).numpy(), x.max(axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(nd.sum(a, axis, keepdims).numpy(), x.sum(axis=axis, keepdims=keepdims), rtol=1e-6)
    np.testing.assert_array_equal(nd.max(a, axis, keepdims).numpy(), x.max(axis=axis, keepdims=keepdims))
    assert a.sum(axis, keepdims).dtype == np.float32


def test_reductions_refuse_bad_axes_and_empty_max():
    with pytest.raises(ValueError, match="NDArray.sum: axis 3 is out of range for an array of 2 axes"):
        nd.array(sample(2, 3)).sum(3)
    with pytest.raises(ValueError, match=r"NDArray.max: the array of shape \(0, 3\) is empty"):
        nd.array(np.zeros((0, 3))).max()


def test_arithmetic_with_ndarrays_and_scalars():
    x, y = sample(2, 3), sample(2, 3) + 3
    a, b = nd.array(x), nd.array(y)
    cases = [
        (a + b, x + y), (a - b, x - y), (a * b, x * y), (a / b, x / y), (-a, -x), (a ** 2, x ** 2),
        (a + 1.5, x + 1.5), (2 - a, 2 - x), (a * 3, x * 3), (3 * a, 3 * x), (a / 2, x / 2), (1 / b, 1 / y),
        (a.maximum(b), np.maximum(x, y)), (a.maximum(0.0), np.maximum(x, 0)), (nd.maximum(a, b), np.maximum(x, y)),
        (b.log(), np.log(y)), (a.exp(), np.exp(x)), (a.tanh(), np.tanh(x)),
        (nd.log(b), np.log(y)), (nd.exp(a), np.exp(x)), (nd.tanh(a), np.tanh(x)),
        (a @ b.permute((1, 0)), x @ y.T), (a + nd.array(y[:1]), x + y[:1]),
        (np.ones(3, dtype=np.float32) + a, 1 + x),
    ]
    for got, expected in cases:
        assert isinstance(got, nd.NDArray)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match=r"NDArray \+: shapes \(2, 3\) and \(4,\) do not broadcast"):
        a + nd.array(np.zeros(4))


def test_comparisons_give_zero_or_one_in_the_arrays_dtype():
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    y = np.array([[3.0, 2.0, 1.0]], dtype=np.float32)
    a, b = nd.array(x), nd.array(y)
    for got, expected in [(a == b, x == y), (a != b, x != y), (a > b, x > y), (a >= b, x >= y),
                          (a < b, x < y), (a <= b, x <= y), (a == 2.0, x == 2.0), (a > 1.5, x > 1.5)]:
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got.numpy(), expected.astype(np.float32))


def test_getitem_keeps_every_axis_and_is_a_view():
    x = sample(4, 5, 6)
    a = nd.array(x)
    np.testing.assert_array_equal(a[1].numpy(), x[1:2])
    np.testing.assert_array_equal(a[1, 2:4].numpy(), x[1:2, 2:4])
    np.testing.assert_array_equal(a[-1, ::2, 1:5:3].numpy(), x[3:4, ::2, 1:5:3])
    np.testing.assert_array_equal(a[:, 3, -2].numpy(), x[:, 3:4, 4:5])
    view = a[1:3, :, 2]
    view[0, 0, 0] = 100.0
    assert a.numpy()[1, 0, 2] == 100.0


@pytest.mark.parametrize(
    "index, error, message",
    [(4, IndexError, r"index 4 is out of range for axis 0"), ((0, 0, 0, 0), IndexError, "4 indices"),
     ([0, 1], TypeError, "indices must be integers or slices, got list"),
     ((0, None), TypeError, "indices must be integers or slices, got NoneType"),
     (True, TypeError, "indices must be integers or slices, got bool")],
)
def test_getitem_refuses_what_the_course_does_not_index_with(index, error, message):
    with pytest.raises(error, match=rf"NDArray.__getitem__: {message}"):
        nd.array(sample(4, 5, 6))[index]


def test_setitem_writes_ndarrays_arrays_and_scalars():
    x = np.zeros((3, 4), dtype=np.float32)
    a = nd.array(x)
    a[0] = nd.array([1.0, 2.0, 3.0, 4.0])  # same size, another shape: the course copies it in
    a[1:3, 1:3] = 7.0
    a[2, :] = np.arange(4)
    x[0] = [1, 2, 3, 4]
    x[1:3, 1:3] = 7
    x[2, :] = np.arange(4)
    np.testing.assert_array_equal(a.numpy(), x)
    with pytest.raises(ValueError, match=r"NDArray.__setitem__: a value of shape \(3,\) does not fit the view \(2, 2\)"):
        a[1:3, 1:3] = nd.array([1.0, 2.0, 3.0])


def test_to_fill_astype_repr_and_str():
    a = nd.array([[1.0, 2.0]])
    assert a.to(nd.cpu()) is a and a.to(nd.cpu_numpy()) is a
    with pytest.raises(ValueError, match=r"NDArray.to: device cuda\(\) is not enabled"):
        a.to(nd.cuda())
    b = nd.array(np.zeros((2, 2)))
    b.fill(3.0)
    np.testing.assert_array_equal(b.numpy(), np.full((2, 2), 3.0))
    assert a.astype("float64").dtype == np.float64
    assert repr(a) == "NDArray([[1. 2.]], device=cpu())"
    assert str(a) == "[[1. 2.]]"
    assert bool(nd.array([1.0])) and not bool(nd.array([0.0]))
    with pytest.raises(ValueError, match="truth value of an array with more than one element"):
        bool(a)


def test_empty_full_and_from_numpy():
    assert nd.empty((2, 3)).shape == (2, 3) and nd.empty((2, 3)).dtype == np.float32
    np.testing.assert_array_equal(nd.full((2,), 4.0, device=nd.cpu()).numpy(), [4.0, 4.0])
    shared = np.ones(3)
    view = nd.NDArray.from_numpy(shared, copy=False)
    shared[0] = 5.0
    assert view.numpy()[0] == 5.0 and view.dtype == np.float64
    assert nd.NDArray.from_numpy(shared).numpy() is not shared


def test_the_course_pattern_of_tensors_over_ndarrays():
    x = nd.array(sample(2, 3), device=nd.cpu())
    t = ndl.Tensor(x, device=ndl.cpu(), requires_grad=True)
    padded = ndl.Tensor(x.pad(((1, 1), (0, 0))))
    assert t.device == x.device and padded.shape == (4, 3)
    np.testing.assert_array_equal(padded.numpy(), np.pad(x.numpy(), ((1, 1), (0, 0))))
