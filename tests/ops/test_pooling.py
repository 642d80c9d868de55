"""Case table and properties for max_pool2d and avg_pool2d; both against NumPy loops and PyTorch."""
import numpy as np
import pytest
from hypothesis import strategies as st

import needle as ndl
from tests.ops.case import Case


def _pairs(kernel_size, stride, padding):
    pair = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v, v)  # noqa: E731
    kernel = pair(kernel_size)
    return kernel, kernel if stride is None else pair(stride), pair(padding)


def pool_loops(a, kernel_size, stride=None, padding=0, reduce=np.max, fill=-np.inf):
    """Pooling by its definition: a loop over output pixels, `reduce` over each padded window."""
    batched = a if a.ndim == 4 else a[None]
    (kh, kw), (sh, sw), (ph, pw) = _pairs(kernel_size, stride, padding)
    padded = np.pad(batched, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    out_h = (padded.shape[2] - kh) // sh + 1
    out_w = (padded.shape[3] - kw) // sw + 1
    out = np.zeros(batched.shape[:2] + (out_h, out_w), dtype=a.dtype)
    for i in range(out_h):
        for j in range(out_w):
            out[:, :, i, j] = reduce(padded[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw], axis=(2, 3))
    return out if a.ndim == 4 else out[0]


def avg_loops(a, kernel_size, stride=None, padding=0):
    return pool_loops(a, kernel_size, stride, padding, reduce=np.mean, fill=0.0)


def _tied_inputs(rng):
    """Windows of 2×2 whose maximum appears twice or four times (and plateaus of equal values)."""
    a = rng.uniform(-2, 2, size=(1, 2, 4, 4)).astype(np.float32)
    a[0, 0, :2, :2] = 1.5
    a[0, 1, 2:, :] = [[0.5, 3.0, 3.0, -1.0], [3.0, 0.5, 3.0, 3.0]]
    return [a]


CASES = [
    Case(ndl.max_pool2d, shapes=[(1, 2, 4, 4)], numpy=pool_loops, kwargs={"kernel_size": 2}),
    Case(ndl.max_pool2d, shapes=[(2, 1, 5, 5)], numpy=pool_loops, kwargs={"kernel_size": 3, "stride": 2, "padding": 1}),
    Case(ndl.max_pool2d, shapes=[(1, 1, 5, 4)], numpy=pool_loops,
         kwargs={"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 1)}, name="max_pool2d_rectangular"),
    Case(ndl.max_pool2d, shapes=[(2, 3, 3)], numpy=pool_loops, kwargs={"kernel_size": 2, "stride": 1},
         name="max_pool2d_chw_overlapping"),
    Case(lambda a: ndl.max_pool2d(a * a, 2), shapes=[(1, 1, 4, 2)], numpy=lambda a: pool_loops(a * a, 2),
         name="max_pool2d_of_square"),
    Case(ndl.max_pool2d, shapes=[(2, 1, 5, 7)], numpy=pool_loops, kwargs={"kernel_size": (2, 3)},
         name="max_pool2d_tiles_with_leftover_rows"),
    Case(ndl.max_pool2d, shapes=[(1, 1, 3, 3)], numpy=pool_loops, kwargs={"kernel_size": 2, "stride": 1},
         drawn_shapes=st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(2, 5), st.integers(2, 5))
         .map(lambda shape: [shape]), name="max_pool2d_drawn_shapes_overlapping"),
    # Ties: the forward value only here (finite differences straddle the kink); the tie rule is tested below.
    Case(ndl.max_pool2d, shapes=[(1, 2, 4, 4)], numpy=pool_loops, kwargs={"kernel_size": 2}, order=0,
         make_inputs=_tied_inputs, name="max_pool2d_ties"),
    Case(ndl.avg_pool2d, shapes=[(1, 2, 4, 4)], numpy=avg_loops, kwargs={"kernel_size": 2}),
    Case(ndl.avg_pool2d, shapes=[(2, 1, 5, 7)], numpy=avg_loops, kwargs={"kernel_size": (2, 3)},
         name="avg_pool2d_tiles_with_leftover_rows"),
    Case(ndl.avg_pool2d, shapes=[(2, 1, 5, 5)], numpy=avg_loops, kwargs={"kernel_size": 3, "stride": 2, "padding": 1}),
    Case(ndl.avg_pool2d, shapes=[(1, 1, 4, 5)], numpy=avg_loops,
         kwargs={"kernel_size": (3, 2), "stride": 1, "padding": (1, 0)}, name="avg_pool2d_rectangular"),
    Case(lambda a: ndl.avg_pool2d(a * a, 2, 1), shapes=[(2, 3, 3)], numpy=lambda a: avg_loops(a * a, 2, 1),
         name="avg_pool2d_chw_of_square"),
]


SETTINGS = [  # (shape, kernel_size, stride, padding)
    ((2, 3, 8, 8), 2, None, 0),
    ((1, 2, 9, 7), 3, 2, 1),
    ((2, 2, 6, 7), (3, 2), 1, (1, 1)),
    ((1, 4, 5, 5), 5, 1, 2),
]
IDS = [f"{'x'.join(map(str, s[0]))}-k{s[1]}-s{s[2]}-p{s[3]}" for s in SETTINGS]


@pytest.mark.parametrize("setting", SETTINGS, ids=IDS)
@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_pooling_and_its_gradient_match_pytorch(name, setting):
    torch = pytest.importorskip("torch")
    shape, kernel_size, stride, padding = setting
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape).astype(np.float32)
    x = ndl.Tensor(a)
    y = getattr(ndl, name)(x, kernel_size, stride, padding)
    tx = torch.tensor(a, requires_grad=True)
    ty = getattr(torch.nn.functional, name)(tx, kernel_size, stride, padding)
    out_grad = rng.standard_normal(ty.shape).astype(np.float32)
    ty.backward(torch.tensor(out_grad))
    y.backward(ndl.Tensor(out_grad))
    assert y.dtype == x.grad.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_max_pool_sends_the_adjoint_to_the_first_maximum_of_each_window():
    """Ties: the whole adjoint goes to the first maximum in row-major order, as in PyTorch; with
    overlapping windows an entry that is the first maximum of several collects all their adjoints."""
    x = ndl.Tensor(_tied_inputs(np.random.default_rng(0))[0])
    ndl.max_pool2d(x, 2).sum().backward()
    grad = x.grad.numpy()
    np.testing.assert_array_equal(grad[0, 0, :2, :2], [[1, 0], [0, 0]])
    np.testing.assert_array_equal(grad[0, 1, 2:, :], [[0, 1, 1, 0], [0, 0, 0, 0]])
    overlapping = ndl.Tensor(np.array([[[[1, 2, 2], [0, 2, 1], [0, 0, 0]]]], dtype=np.float32))
    ndl.max_pool2d(overlapping, 2, stride=1).sum().backward()
    np.testing.assert_array_equal(overlapping.grad.numpy()[0, 0], [[0, 2, 0], [0, 2, 0], [0, 0, 0]])


def test_max_pool_ties_match_pytorch():
    torch = pytest.importorskip("torch")
    a = _tied_inputs(np.random.default_rng(0))[0]
    for kernel_size, stride in ((2, None), (2, 1), (3, 1)):
        x, tx = ndl.Tensor(a), torch.tensor(a, requires_grad=True)
        ndl.max_pool2d(x, kernel_size, stride).sum().backward()
        torch.nn.functional.max_pool2d(tx, kernel_size, stride).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_max_pool_propagates_nan_as_pytorch_does():
    torch = pytest.importorskip("torch")
    a = np.arange(32, dtype=np.float32).reshape(1, 2, 4, 4)
    a[0, 0, 1, 1] = a[0, 1, 0, 0] = np.nan  # the last and the first position of a 2×2 window
    for kernel_size, stride, padding in ((2, None, 0), (3, 1, 1)):
        ours = ndl.max_pool2d(ndl.Tensor(a), kernel_size, stride, padding).numpy()
        theirs = torch.nn.functional.max_pool2d(torch.tensor(a), kernel_size, stride, padding).numpy()
        np.testing.assert_array_equal(ours, theirs)


def test_pooling_pads_max_with_minus_infinity_and_averages_over_the_whole_window():
    a = -np.ones((1, 1, 2, 2), np.float32)
    np.testing.assert_array_equal(ndl.max_pool2d(ndl.Tensor(a), 3, 1, 1).numpy(), -np.ones((1, 1, 2, 2)))
    np.testing.assert_allclose(ndl.avg_pool2d(ndl.Tensor(a), 3, 1, 1).numpy(), np.full((1, 1, 2, 2), -4 / 9))


def test_pooling_refuses_bad_arguments_with_clear_errors():
    x = ndl.Tensor(np.zeros((1, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match="max_pool2d: padding .* at most half"):
        ndl.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match=r"avg_pool2d: expected NCHW input .* got shape \(4, 4\)"):
        ndl.avg_pool2d(ndl.Tensor(np.zeros((4, 4), np.float32)), 2)
    with pytest.raises(ValueError, match="max_pool2d: input .* smaller than the kernel"):
        ndl.max_pool2d(x, 5)
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair of ints >= 1"):
        ndl.max_pool2d(x, 0)
    with pytest.raises(NotImplementedError, match=r"avg_pool2d: strides \(1, 2\) differ"):
        ndl.avg_pool2d(x, 2, (1, 2))


def test_max_pool_keeps_a_channels_last_layout_and_so_does_its_adjoint():
    """A conv's NHWC memory seen as NCHW: the output and the adjoint stay channels-last (NumPy multiplies
    arrays of two layouts ~10x slower), also for a C-ordered ȳ (after Flatten), with the values of the
    C-ordered input's."""
    rng = np.random.default_rng(0)
    nhwc = np.maximum(rng.standard_normal((2, 6, 6, 3)), 0).astype(np.float32)  # zeros tie in many windows
    out_grad = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    results = []
    for a in (nhwc.transpose(0, 3, 1, 2), np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))):
        x = ndl.Tensor.from_numpy(a, requires_grad=True)
        y = ndl.max_pool2d(x, 2)
        y.backward(ndl.Tensor(out_grad))
        results.append((y.numpy(), x.grad.numpy()))
    (y_last, grad_last), (y_c, grad_c) = results
    np.testing.assert_array_equal(y_last, pool_loops(nhwc.transpose(0, 3, 1, 2), 2))
    np.testing.assert_array_equal(y_last, y_c)
    np.testing.assert_array_equal(grad_last, grad_c)
    for array in (y_last, grad_last):
        assert array.strides[1] == 4 and array.strides[3] == 3 * 4, array.strides
