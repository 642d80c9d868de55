"""Case table and properties for dilate, undilate, conv, its adjoint ops (ConvTranspose, ConvKernelAdjoint),
channel_bias and channel_norm; against NumPy loops and PyTorch."""
import tracemalloc

import numpy as np
import pytest
from hypothesis import strategies as st

import needle as ndl
from needle.ops import Conv, ConvKernelAdjoint, ConvTranspose
from tests.ops.case import Case


def conv_loops(a, b, stride=1, padding=1, dilation=1):
    """The cross-correlation by its definition: a loop over output pixels, each a window·kernel sum."""
    (top, bottom), (left, right) = padding if isinstance(padding, tuple) else ((padding,) * 2,) * 2
    n, h, w, _ = a.shape
    kh, kw, _, c_out = b.shape
    padded = np.zeros((n, h + top + bottom, w + left + right, a.shape[3]), dtype=np.float64)
    rows, cols = slice(max(0, -top), h - max(0, -bottom)), slice(max(0, -left), w - max(0, -right))
    inside = (slice(None), slice(max(0, top), padded.shape[1] - max(0, bottom)),
              slice(max(0, left), padded.shape[2] - max(0, right)))
    padded[inside] = a[:, rows, cols]
    out_h = (padded.shape[1] - dilation * (kh - 1) - 1) // stride + 1
    out_w = (padded.shape[2] - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, out_h, out_w, c_out))
    for i in range(out_h):
        for j in range(out_w):
            window = padded[:, i * stride:i * stride + dilation * (kh - 1) + 1:dilation,
                            j * stride:j * stride + dilation * (kw - 1) + 1:dilation]
            out[:, i, j] = np.tensordot(window, b, axes=3)
    return out.astype(np.result_type(a, b))


def dilate_reference(a, axes, dilation):
    axes = (axes,) if isinstance(axes, int) else axes
    for axis in axes:
        shape = list(a.shape)
        shape[axis] *= dilation + 1
        out = np.zeros(shape, dtype=a.dtype)
        index = [slice(None)] * a.ndim
        index[axis] = slice(None, None, dilation + 1)
        out[tuple(index)] = a
        a = out
    return a


def undilate_reference(a, axes, dilation):
    index = [slice(None)] * a.ndim
    for axis in (axes,) if isinstance(axes, int) else axes:
        index[axis] = slice(None, None, dilation + 1)
    return a[tuple(index)]


def conv_transpose_loops(g, b, stride, padding, dilation, size):
    """The transposed conv by its definition: every ȳ entry's products with the kernel added into its window."""
    (top, _), (left, _) = padding if isinstance(padding, tuple) else ((padding,) * 2,) * 2
    n, out_h, out_w, _ = g.shape
    kh, kw, c_in, _ = b.shape
    out = np.zeros((n,) + tuple(size) + (c_in,))
    for i, j, u, v in np.ndindex(out_h, out_w, kh, kw):
        row, col = i * stride + u * dilation - top, j * stride + v * dilation - left
        if 0 <= row < size[0] and 0 <= col < size[1]:
            out[:, row, col] += g[:, i, j].astype(np.float64) @ b[u, v].T
    return out.astype(np.result_type(g, b))


def _transpose_row(g_shape, b_shape, name, stride, padding, dilation, size):
    return Case(lambda g, b: ConvTranspose(stride, padding, dilation, size)(g, b), shapes=[g_shape, b_shape],
                numpy=lambda g, b: conv_transpose_loops(g, b, stride, padding, dilation, size), low=-1, high=1,
                name=name)


def kernel_adjoint_loops(a, g, stride, padding, dilation, kernel_size):
    """b̄[u, v, c, o] = Σ x_pad[n, i·s + u·d, j·s + v·d, c]·g[n, i, j, o] by its definition."""
    (top, _), (left, _) = padding if isinstance(padding, tuple) else ((padding,) * 2,) * 2
    kh, kw = kernel_size
    n, h, w, c_in = a.shape
    out = np.zeros((kh, kw, c_in, g.shape[3]))
    for i, j, u, v in np.ndindex(g.shape[1], g.shape[2], kh, kw):
        row, col = i * stride + u * dilation - top, j * stride + v * dilation - left
        if 0 <= row < h and 0 <= col < w:
            out[u, v] += a[:, row, col].astype(np.float64).T @ g[:, i, j]
    return out.astype(np.result_type(a, g))


def _kernel_adjoint_row(a_shape, g_shape, name, stride, padding, dilation, kernel_size):
    return Case(lambda a, g: ConvKernelAdjoint(stride, padding, dilation, kernel_size)(a, g), shapes=[a_shape, g_shape],
                numpy=lambda a, g: kernel_adjoint_loops(a, g, stride, padding, dilation, kernel_size), low=-1, high=1,
                name=name)


def _moved_rows(a, axis):
    """`a` as float64 rows (entries per channel, C) with the channel axis moved last."""
    moved = np.moveaxis(a.astype(np.float64), axis, -1)
    return moved.reshape(-1, moved.shape[-1]), moved.shape


def channel_norm_reference(x, weight, bias, axis=1, eps=1e-5):
    rows, shape = _moved_rows(x, axis)
    normed = (rows - rows.mean(0)) / np.sqrt(rows.var(0) + eps) * weight + bias
    return np.moveaxis(normed.reshape(shape), -1, axis).astype(x.dtype)


def channel_norm_input_adjoint_reference(g, z, scale, axis=1):
    (g_rows, shape), (z_rows, _) = _moved_rows(g, axis), _moved_rows(z, axis)
    out = scale * (g_rows - g_rows.mean(0) - z_rows * (g_rows * z_rows).mean(0))
    return np.moveaxis(out.reshape(shape), -1, axis).astype(g.dtype)


def _conv_shapes(max_kernel=3):
    """[input NHWC, kernel (K, K, C_in, C_out)] with matching channels and H, W at least K."""
    def shapes(n, k, c_in, c_out, extra_h, extra_w):
        return [(n, k + extra_h, k + extra_w, c_in), (k, k, c_in, c_out)]

    small = st.integers(1, 2)
    return st.builds(shapes, small, st.integers(1, max_kernel), small, small, st.integers(0, 3), st.integers(0, 3))


def _kernel_row(a_shape, b_shape, name, **kwargs):
    return Case(ndl.conv, shapes=[a_shape, b_shape], numpy=conv_loops, kwargs=kwargs, low=-1, high=1, name=name)


CASES = [
    Case(ndl.dilate, shapes=[(2, 3)], numpy=dilate_reference, kwargs={"axes": 0, "dilation": 1}),
    Case(ndl.dilate, shapes=[(1, 2, 3, 1)], numpy=dilate_reference, kwargs={"axes": (1, 2), "dilation": 2}),
    Case(ndl.dilate, shapes=[(2, 3)], numpy=dilate_reference, kwargs={"axes": (0, 1), "dilation": 0}),
    Case(ndl.undilate, shapes=[(4, 3)], numpy=undilate_reference, kwargs={"axes": 0, "dilation": 1}),
    Case(ndl.undilate, shapes=[(5, 4, 2)], numpy=undilate_reference, kwargs={"axes": (0, 1), "dilation": 1},
         name="undilate_odd_length"),
    Case(lambda a: ndl.undilate(ndl.dilate(a * a, (0, 1), 2), (0, 1), 2), shapes=[(2, 3)],
         numpy=lambda a: a * a, name="undilate_of_dilate_of_square"),
    # stride 1 and 2, padding 0..2, K = 1, 3, 5, C_in or C_out = 1, batch 1
    _kernel_row((1, 4, 4, 2), (3, 3, 2, 2), "conv_k3_s1_p1_batch1", stride=1, padding=1),
    Case(ndl.conv, shapes=[(1, 3, 4, 2), (3, 3, 2, 1)], numpy=conv_loops, low=-1, high=1,
         name="conv_default_padding_cout1"),
    _kernel_row((2, 5, 5, 1), (3, 3, 1, 2), "conv_k3_s2_p0_cin1", stride=2, padding=0),
    _kernel_row((1, 6, 5, 2), (3, 3, 2, 1), "conv_k3_s2_p1_dropped_rows", stride=2, padding=1),
    _kernel_row((2, 3, 3, 3), (1, 1, 3, 2), "conv_k1_s1_p0", stride=1, padding=0),
    _kernel_row((1, 4, 3, 1), (1, 1, 1, 2), "conv_k1_s2_p0_dropped_rows", stride=2, padding=0),
    _kernel_row((1, 5, 4, 1), (5, 5, 1, 2), "conv_k5_s1_p2", stride=1, padding=2),
    _kernel_row((1, 6, 6, 1), (5, 5, 1, 1), "conv_k5_s2_p2", stride=2, padding=2),
    _kernel_row((1, 5, 5, 1), (3, 3, 1, 2), "conv_k3_dilation2", stride=1, padding=1, dilation=2),
    Case(lambda a, b: Conv(2, ((1, 0), (-1, 2)))(a, b), shapes=[(1, 4, 5, 1), (2, 3, 1, 2)],
         numpy=lambda a, b: conv_loops(a, b, 2, ((1, 0), (-1, 2))), low=-1, high=1,
         name="conv_class_uneven_and_cropping_padding"),
    Case(ndl.conv, shapes=[(1, 4, 4, 1), (3, 3, 1, 2)], numpy=conv_loops, kwargs={"stride": 2, "padding": 1},
         low=-1, high=1, drawn_shapes=_conv_shapes(), name="conv_drawn_shapes_s2_p1"),
    Case(lambda a, b: ndl.conv(a * a, b, padding=0), shapes=[(1, 3, 3, 1), (2, 2, 1, 2)],
         numpy=lambda a, b: conv_loops(a * a, b, 1, 0), low=-1, high=1, name="conv_of_square"),
    # the transposed conv (conv's input adjoint at a stride): dropped rows, cropping padding, dilation
    _transpose_row((1, 3, 3, 2), (3, 3, 1, 2), "conv_transpose_s2_p1_dropped_rows", 2, 1, 1, (6, 6)),
    _transpose_row((1, 2, 2, 2), (2, 3, 1, 2), "conv_transpose_uneven_and_cropping_padding", 2, ((1, 0), (-1, 2)), 1,
                   (4, 5)),
    _transpose_row((2, 2, 2, 1), (3, 3, 2, 1), "conv_transpose_s2_dilation2", 2, 1, 2, (5, 5)),
    Case(ndl.channel_bias, shapes=[(2, 3, 2, 4), (4,)], numpy=lambda x, b: x + b),
    Case(ndl.channel_bias, shapes=[(2, 3, 2), (3,)], numpy=lambda x, b, axis: x + b[:, None], kwargs={"axis": 1},
         name="channel_bias_axis1"),
    # conv's kernel adjoint: stride 1 and 2 (dropped rows), cropping padding, dilation
    _kernel_adjoint_row((2, 4, 4, 2), (2, 4, 4, 1), "conv_kernel_adjoint_s1_p1", 1, 1, 1, (3, 3)),
    _kernel_adjoint_row((1, 6, 5, 1), (1, 3, 3, 2), "conv_kernel_adjoint_s2_p1_dropped_rows", 2, 1, 1, (3, 3)),
    _kernel_adjoint_row((1, 4, 5, 1), (1, 2, 2, 2), "conv_kernel_adjoint_uneven_and_cropping_padding", 2,
                        ((1, 0), (-1, 2)), 1, (2, 3)),
    _kernel_adjoint_row((1, 5, 5, 2), (1, 3, 3, 1), "conv_kernel_adjoint_dilation2", 1, 1, 2, (3, 3)),
    # batch norm per channel: NCHW (C-ordered, read as planes), and channels last (read as folded rows)
    Case(ndl.channel_norm, shapes=[(3, 2, 2, 2), (2,), (2,)], numpy=channel_norm_reference),
    Case(ndl.channel_norm, shapes=[(6, 3), (3,), (3,)], numpy=channel_norm_reference, kwargs={"axis": -1},
         name="channel_norm_rows"),
    Case(lambda x, w, b: ndl.channel_norm(x * x, w, b), shapes=[(2, 2, 3), (2,), (2,)],
         numpy=lambda x, w, b: channel_norm_reference(x * x, w, b), name="channel_norm_of_square"),
    Case(ndl.channel_norm_input_adjoint, shapes=[(3, 2, 2, 1), (3, 2, 2, 1), (2,)],
         numpy=channel_norm_input_adjoint_reference),
    Case(ndl.channel_norm_input_adjoint, shapes=[(5, 2), (5, 2), (2,)], numpy=channel_norm_input_adjoint_reference,
         kwargs={"axis": -1}, name="channel_norm_input_adjoint_rows"),
]


# ---- against NumPy loops and PyTorch ----------------------------------------------------------

SETTINGS = [  # (N, H, W, C_in, C_out, K, stride, padding)
    (2, 7, 6, 3, 4, 3, 1, 1),
    (1, 8, 8, 2, 3, 3, 2, 1),
    (2, 9, 7, 1, 2, 5, 2, 2),
    (3, 5, 5, 4, 1, 1, 1, 0),
    (1, 7, 7, 2, 2, 3, 3, 0),
    (2, 6, 6, 3, 2, 5, 1, 0),
]
IDS = [f"N{n}H{h}W{w}C{c_in}-{c_out}K{k}s{s}p{p}" for n, h, w, c_in, c_out, k, s, p in SETTINGS]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _operands(rng, n, h, w, c_in, c_out, k):
    return (rng.standard_normal((n, h, w, c_in)).astype(np.float32),
            rng.standard_normal((k, k, c_in, c_out)).astype(np.float32))


@pytest.mark.parametrize("setting", SETTINGS, ids=IDS)
def test_conv_and_its_gradients_match_numpy_loops(rng, setting):
    """Forward against the loop definition; both adjoints against the loop's transpose: ā and b̄ are the
    derivatives of ⟨ȳ, conv(a, b)⟩, which the loops give as window-by-window sums."""
    n, h, w, c_in, c_out, k, stride, padding = setting
    a, b = _operands(rng, n, h, w, c_in, c_out, k)
    x, kernel = ndl.Tensor(a), ndl.Tensor(b)
    y = ndl.conv(x, kernel, stride=stride, padding=padding)
    expected = conv_loops(a.astype(np.float64), b.astype(np.float64), stride, padding)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)
    out_grad = rng.standard_normal(y.shape)
    y.backward(ndl.Tensor(out_grad.astype(np.float32)))
    padded = np.pad(a.astype(np.float64), ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    grad_padded, grad_b = np.zeros_like(padded), np.zeros(b.shape)
    for i in range(y.shape[1]):
        for j in range(y.shape[2]):
            rows, cols = slice(i * stride, i * stride + k), slice(j * stride, j * stride + k)
            grad_padded[:, rows, cols] += np.tensordot(out_grad[:, i, j], b, axes=([1], [3]))
            grad_b += np.tensordot(padded[:, rows, cols], out_grad[:, i, j], axes=([0], [0]))
    grad_a = grad_padded[:, padding:padding + h, padding:padding + w]
    assert x.grad.dtype == kernel.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), grad_a, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(kernel.grad.numpy(), grad_b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("setting", SETTINGS, ids=IDS)
def test_conv_matches_pytorch_values_and_gradients(rng, setting):
    torch = pytest.importorskip("torch")
    n, h, w, c_in, c_out, k, stride, padding = setting
    a, b = _operands(rng, n, h, w, c_in, c_out, k)
    x, kernel = ndl.Tensor(a), ndl.Tensor(b)
    y = ndl.conv(x, kernel, stride=stride, padding=padding)
    tx = torch.tensor(a).permute(0, 3, 1, 2).requires_grad_()
    tb = torch.tensor(b).requires_grad_()
    ty = torch.nn.functional.conv2d(tx, tb.permute(3, 2, 0, 1), stride=stride, padding=padding).permute(0, 2, 3, 1)
    out_grad = rng.standard_normal(ty.shape).astype(np.float32)
    ty.backward(torch.tensor(out_grad))
    y.backward(ndl.Tensor(out_grad))
    for ours, theirs in ((y, ty), (x.grad, tx.grad.permute(0, 2, 3, 1)), (kernel.grad, tb.grad)):
        theirs = theirs.detach().numpy()
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-4, atol=1e-4 * np.abs(theirs).max())


def test_conv_gradient_of_gradient_matches_pytorch(rng):
    """Second order through the adjoint convs: d/da ⟨∂⟨ȳ, y⟩/∂b, v⟩ against PyTorch's double backward."""
    torch = pytest.importorskip("torch")
    a, b = _operands(rng, 2, 7, 6, 2, 3, 3)
    out_grad = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    direction = rng.standard_normal(b.shape).astype(np.float32)
    x, kernel = ndl.Tensor(a), ndl.Tensor(b)
    (grad_b,) = ndl.autograd.grad(ndl.conv(x, kernel, 2, 1), [kernel], out_grad=ndl.Tensor(out_grad),
                                  create_graph=True)
    (second,) = ndl.autograd.grad(grad_b, [x], out_grad=ndl.Tensor(direction))
    tx, tb = torch.tensor(a).requires_grad_(), torch.tensor(b).requires_grad_()
    ty = torch.nn.functional.conv2d(tx.permute(0, 3, 1, 2), tb.permute(3, 2, 0, 1), stride=2, padding=1)
    (tgrad_b,) = torch.autograd.grad(ty.permute(0, 2, 3, 1), tb, torch.tensor(out_grad), create_graph=True)
    (tsecond,) = torch.autograd.grad(tgrad_b, tx, torch.tensor(direction))
    np.testing.assert_allclose(second.numpy(), tsecond.numpy(), rtol=1e-4, atol=1e-4 * np.abs(tsecond.numpy()).max())


# ---- properties ------------------------------------------------------------------------------


def test_dilate_inserts_zeros_after_every_entry_as_the_contract_states():
    a = ndl.Tensor(np.arange(1, 11, dtype=np.float32).reshape(2, 5))
    out = ndl.dilate(a, (0,), 1).numpy()
    assert out.shape == (4, 5)
    np.testing.assert_array_equal(out[[1, 3]], 0)
    np.testing.assert_array_equal(out[[0, 2]], a.numpy())
    np.testing.assert_array_equal(ndl.undilate(ndl.Tensor(out), (0,), 1).numpy(), a.numpy())


def test_dilate_and_undilate_are_each_others_adjoint(rng):
    """⟨dilate(x), y⟩ = ⟨x, undilate(y)⟩, also for a length that is not a multiple of the step."""
    x = rng.standard_normal((3, 2, 4))
    y = rng.standard_normal((3, 6, 12))
    lhs = np.sum(ndl.dilate(ndl.Tensor(x), (1, 2), 2).numpy() * y)
    assert np.isclose(lhs, np.sum(x * ndl.undilate(ndl.Tensor(y), (1, 2), 2).numpy()))
    z = ndl.Tensor(rng.standard_normal((5, 3)))
    ndl.undilate(z, 0, 1).sum().backward()
    np.testing.assert_array_equal(z.grad.numpy()[:, 0], [1, 0, 1, 0, 1])


def test_conv_keeps_float32_and_refuses_bad_shapes_and_arguments():
    a, b = np.zeros((1, 4, 4, 2), np.float32), np.zeros((3, 3, 2, 5), np.float32)
    assert ndl.conv(ndl.Tensor(a), ndl.Tensor(b)).dtype == np.float32
    with pytest.raises(ValueError, match=r"conv: input \(1, 4, 4, 2\), kernel \(3, 3, 3, 5\).*2 channels"):
        ndl.conv(ndl.Tensor(a), ndl.Tensor(np.zeros((3, 3, 3, 5), np.float32)))
    with pytest.raises(ValueError, match="conv: .*smaller than the kernel"):
        ndl.conv(ndl.Tensor(a), ndl.Tensor(np.zeros((7, 7, 2, 5), np.float32)), padding=1)
    with pytest.raises(ValueError, match="conv: .*4-d"):
        ndl.conv(ndl.Tensor(a[0]), ndl.Tensor(b))
    with pytest.raises(ValueError, match="conv: stride must be an integer >= 1"):
        ndl.conv(ndl.Tensor(a), ndl.Tensor(b), stride=0)
    with pytest.raises(ValueError, match="conv: padding must be an integer >= 0"):
        ndl.conv(ndl.Tensor(a), ndl.Tensor(b), padding=-1)
    with pytest.raises(ValueError, match="dilate: dilation must be an integer >= 0"):
        ndl.dilate(ndl.Tensor(a), (1,), -1)


def test_conv_forward_keeps_at_most_one_im2col_buffer_alive():
    """Peak traced memory of a forward pass stays under one im2col buffer plus the padded input and
    the output (each a fraction of it) - never two buffers."""
    a = np.ones((4, 16, 16, 8), np.float32)
    b = np.ones((3, 3, 8, 4), np.float32)
    x, kernel = ndl.Tensor(a), ndl.Tensor(b)
    columns = 4 * 16 * 16 * 3 * 3 * 8 * 4  # bytes of the (N·H·W, K·K·C_in) buffer
    tracemalloc.start()
    try:
        ndl.conv(x, kernel)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * columns, f"peak {peak} bytes for a {columns}-byte im2col buffer"


@pytest.mark.parametrize("channels_last", [True, False], ids=["channels_last", "c_ordered"])
def test_channel_norm_matches_pytorch_in_both_layouts_and_keeps_the_layout(rng, channels_last):
    """Values, all three gradients and the saved moments against PyTorch's training-mode batch_norm, for
    a conv's NHWC memory seen as NCHW (folded rows) and for C-ordered NCHW (planes); y and x̄ keep x's layout."""
    torch = pytest.importorskip("torch")
    nhwc = (rng.standard_normal((4, 5, 6, 16)) * 3 + 2).astype(np.float32)
    a = nhwc.transpose(0, 3, 1, 2) if channels_last else np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))
    w, b = rng.standard_normal(16).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    out_grad = rng.standard_normal(a.shape).astype(np.float32)
    x, weight, bias = ndl.Tensor.from_numpy(a, requires_grad=True), ndl.Tensor(w), ndl.Tensor(b)
    y = ndl.channel_norm(x, weight, bias)
    y.backward(ndl.Tensor(out_grad))
    tx, tw, tb = (torch.tensor(np.ascontiguousarray(v), requires_grad=True) for v in (a, w, b))
    ty = torch.nn.functional.batch_norm(tx, None, None, tw, tb, training=True, eps=1e-5)
    ty.backward(torch.tensor(out_grad))
    for ours, theirs in ((y, ty), (x.grad, tx.grad), (weight.grad, tw.grad), (bias.grad, tb.grad)):
        theirs = theirs.detach().numpy()
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-4, atol=1e-4 * np.abs(theirs).max())
    average, var, inverse = y.saved
    np.testing.assert_allclose(average, a.mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(var, a.var(axis=(0, 2, 3)), rtol=1e-4)
    np.testing.assert_allclose(inverse, 1 / np.sqrt(var + 1e-5), rtol=1e-6)
    assert y.numpy().strides == x.grad.numpy().strides == a.strides


def test_channel_norm_refuses_bad_shapes():
    x = ndl.Tensor(np.zeros((2, 3, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"channel_norm: input \(2, 3, 4, 4\) has 3 channels .* must both be \(3,\)"):
        ndl.channel_norm(x, np.ones(4, np.float32), np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="channel_norm: needs more than one value per channel"):
        ndl.channel_norm(ndl.Tensor(np.zeros((1, 3), np.float32)), np.ones(3, np.float32), np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="channel_norm: needs more than one value per channel"):
        ndl.channel_norm(ndl.Tensor(np.zeros((0, 3, 2), np.float32)), np.ones(3, np.float32), np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="channel_norm: expected a floating-point input, got dtype int64"):
        ndl.channel_norm(ndl.Tensor(np.zeros((2, 3), np.int64)), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="channel_norm: expected input with a batch and a channel axis"):
        ndl.channel_norm(ndl.Tensor(np.zeros(3, np.float32)), np.ones(3, np.float32), np.zeros(3, np.float32))


def test_conv_transpose_refuses_an_adjoint_of_the_wrong_size():
    kernel = ndl.Tensor(np.zeros((3, 3, 2, 4), np.float32))
    with pytest.raises(ValueError, match=r"conv_transpose: adjoint \(1, 4, 4, 4\) does not fit size \(6, 6\)"):
        ConvTranspose(2, 1, 1, (6, 6))(ndl.Tensor(np.zeros((1, 4, 4, 4), np.float32)), kernel)
    with pytest.raises(ValueError, match="conv_transpose: adjoint .* same C_out"):
        ConvTranspose(2, 1, 1, (6, 6))(ndl.Tensor(np.zeros((1, 3, 3, 5), np.float32)), kernel)


def test_conv_kernel_adjoint_refuses_an_adjoint_of_the_wrong_size():
    a = ndl.Tensor(np.zeros((2, 6, 6, 3), np.float32))
    with pytest.raises(ValueError, match=r"conv_kernel_adjoint: adjoint \(2, 4, 4, 5\) does not fit input"):
        ConvKernelAdjoint(1, 1, 1, (3, 3))(a, ndl.Tensor(np.zeros((2, 4, 4, 5), np.float32)))
    with pytest.raises(ValueError, match="conv_kernel_adjoint: input .* with the same N"):
        ConvKernelAdjoint(1, 1, 1, (3, 3))(a, ndl.Tensor(np.zeros((3, 6, 6, 5), np.float32)))
