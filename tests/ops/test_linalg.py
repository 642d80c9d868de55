"""Case table and properties for matmul: vectors, batches, broadcast batch dimensions, and the
products with a transposed operand that its rules use."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import needle as ndl
from needle.ops import MatMul
from needle.testing import check_gradients
from tests.ops.case import Case
from tests.strategies import broadcastable_shapes, float32_arrays


def transposed_case(flags, name, lhs, rhs):
    """A row for `MatMul(*flags)`: it multiplies `lhs` @ `rhs` shapes, each stored transposed where flagged."""
    def stored(shape, flip):
        return shape[:-2] + (shape[-1], shape[-2]) if flip else shape

    def reference(a, b):
        return np.matmul(*(np.swapaxes(x, -1, -2) if flip else x for x, flip in zip((a, b), flags)))

    return Case(
        lambda a, b: MatMul(*flags)(a, b), shapes=[stored(lhs, flags[0]), stored(rhs, flags[1])],
        numpy=reference, name=f"matmul_transposed_{flags[0]:d}{flags[1]:d}_{name}",
    )


def np_norm(a, p=2, axes=None, keepdims=False, **aliases):
    axes = aliases.get("dim", aliases.get("axis", axes))
    keepdims = aliases.get("keepdim", keepdims)
    axes = tuple(range(a.ndim)) if axes is None else axes
    if p == np.inf:
        return np.max(np.abs(a), axis=axes, keepdims=keepdims)
    return np.sum(np.abs(a.astype(np.float64)) ** p, axis=axes, keepdims=keepdims) ** (1 / p)


def _zero_row(rng):
    a = rng.uniform(-2, 2, size=(3, 4)).astype(np.float32)
    a[1] = 0
    return [a]


CASES = [
    Case(ndl.matmul, shapes=[(3, 4), (4, 5)], numpy=np.matmul),
    Case(ndl.matmul, shapes=[(3, 1), (1, 2)], numpy=np.matmul),
    Case(ndl.matmul, shapes=[(4,), (4,)], numpy=np.matmul),
    Case(ndl.matmul, shapes=[(4,), (4, 3)], numpy=np.matmul),
    Case(ndl.matmul, shapes=[(3, 4), (4,)], numpy=np.matmul),
    Case(ndl.matmul, shapes=[(3,), (2, 3, 4)], numpy=np.matmul),
    Case(ndl.matmul, shapes=[(2, 3, 4), (4,)], numpy=np.matmul),
    Case(ndl.matmul, shapes=[(2, 3, 4), (2, 4, 2)], numpy=np.matmul),
    Case(ndl.matmul, shapes=[(2, 1, 3, 4), (1, 2, 4, 2)], numpy=np.matmul),
    Case(ndl.matmul, shapes=[(2, 2, 3, 4), (4, 2)], numpy=np.matmul),
    Case(ndl.matmul, shapes=[(3, 4), (2, 2, 4, 2)], numpy=np.matmul),
    Case(ndl.matmul, shapes=[(1, 3, 4), (2, 4, 2)], numpy=np.matmul),
    # Attention's batches of heads, (B, H, T, D) @ (B, H, D, T): one np.matmul call.
    Case(ndl.matmul, shapes=[(2, 2, 3, 4), (2, 2, 4, 3)], numpy=np.matmul, name="matmul_attention_heads"),
    Case(ndl.matmul, shapes=[(2, 3, 4), (4, 2)], numpy=np.matmul, grad_inputs=[1],
         name="matmul_weight_only"),
    Case(ndl.matmul, shapes=[(2, 3, 4), (4, 2)], numpy=np.matmul, grad_inputs=[0],
         name="matmul_batch_only"),
    Case(lambda a: ndl.matmul(a, a), shapes=[(3, 3)], numpy=lambda a: a @ a, name="matmul_square"),
    # The products with a transposed operand that the rules use in place of a Transpose node.
    *[
        transposed_case(flags, name, lhs, rhs)
        for flags in ((True, False), (False, True), (True, True))
        for name, lhs, rhs in (
            ("matrices", (3, 4), (4, 5)),
            ("broadcast", (2, 1, 3, 4), (2, 4, 5)),
            ("batch_by_matrix", (2, 3, 4), (4, 5)),
            ("heads", (2, 2, 3, 4), (2, 2, 4, 3)),  # q kᵀ in attention: k read as it lies
        )
    ],
    Case(ndl.norm, shapes=[(3, 4)], numpy=lambda a: np.linalg.norm(a.ravel())),
    Case(ndl.norm, shapes=[(2, 3, 4)], numpy=np_norm, kwargs={"p": 1, "dim": (0, 2)}),
    Case(ndl.norm, shapes=[(3, 4)], numpy=np_norm, kwargs={"p": 3, "axis": 1, "keepdim": True}),
    Case(ndl.norm, shapes=[(3, 4)], numpy=np_norm, kwargs={"p": 0.5, "axes": 0}, low=0.5, high=2.0),
    Case(ndl.norm, shapes=[(3, 4)], numpy=np_norm, kwargs={"p": float("inf"), "dim": -1}),
    Case(ndl.norm, shapes=[(3, 4)], numpy=np_norm, kwargs={"axes": 1}, make_inputs=_zero_row, order=1,
         name="norm_zero_row"),  # not differentiable twice at 0: the direction a/‖a‖ jumps there
]


def test_inner_size_mismatch_names_op_and_shapes():
    a = ndl.Tensor(np.zeros((3, 4), np.float32))
    b = ndl.Tensor(np.zeros((5, 6), np.float32))
    with pytest.raises(ValueError, match=r"^matmul: \(3, 4\) @ \(5, 6\): inner sizes 4 and 5 differ$"):
        a @ b


@pytest.mark.parametrize("lhs, rhs, message", [
    ((4,), (5, 6), r"^matmul: \(4,\) @ \(5, 6\): inner sizes 4 and 5 differ$"),
    ((3, 4), (5,), r"^matmul: \(3, 4\) @ \(5,\): inner sizes 4 and 5 differ$"),
    ((4,), (5,), r"^matmul: \(4,\) @ \(5,\): inner sizes 4 and 5 differ$"),
    ((), (3,), r"^matmul: \(\) @ \(3,\): 0-d operands have no matrix product$"),
    ((2, 3, 4), (3, 4, 5),
     r"^matmul: \(2, 3, 4\) @ \(3, 4, 5\): batch dimensions \(2,\) and \(3,\) do not broadcast$"),
    ((2, 3, 4), (4,), None),
])
def test_shape_errors_name_op_and_original_shapes(lhs, rhs, message):
    a = ndl.Tensor(np.zeros(lhs, np.float32))
    b = ndl.Tensor(np.zeros(rhs, np.float32))
    if message is None:
        assert ndl.matmul(a, b).shape == (2, 3)
        return
    with pytest.raises(ValueError, match=message):
        ndl.matmul(a, b)


def test_transposed_operand_is_marked_in_the_shape_error():
    a = ndl.Tensor(np.zeros((4, 3), np.float32))
    b = ndl.Tensor(np.zeros((5, 6), np.float32))
    with pytest.raises(ValueError, match=r"^matmul: \(4, 3\)\.T @ \(5, 6\): inner sizes 4 and 5 differ$"):
        MatMul(transpose_a=True)(a, b)


def test_rules_multiply_by_transposes_without_transpose_nodes():
    rng = np.random.default_rng(0)
    x = ndl.Tensor(rng.standard_normal((3, 4)).astype(np.float32))
    w = ndl.Tensor(rng.standard_normal((4, 5)).astype(np.float32))
    grad_x, grad_w = ndl.autograd.grad(ndl.matmul(x, w), [x, w], create_graph=True)
    for adjoint in (grad_x, grad_w):
        assert isinstance(adjoint.op, MatMul)
        assert not any(isinstance(node.op, ndl.ops.Transpose) for node in ndl.autograd.find_topo_sort([adjoint]))


def test_attention_heads_are_one_numpy_matmul_call_per_product_forward_and_backward(monkeypatch):
    """q kᵀ and probs v over (B, H, T, D) batches: each product, and each adjoint, is one np.matmul
    of the whole 4-D operands (no broadcast-and-sum, no per-head loop, no Transpose node)."""
    rng = np.random.default_rng(0)
    q, k, v = (ndl.Tensor(rng.standard_normal((2, 3, 4, 5)).astype(np.float32)) for _ in range(3))
    calls = []
    real = np.matmul
    monkeypatch.setattr(np, "matmul", lambda a, b, **kw: calls.append((a.shape, b.shape)) or real(a, b, **kw))
    scores = MatMul(transpose_b=True)(q, k)
    out = ndl.matmul(scores, v)
    assert calls == [((2, 3, 4, 5), (2, 3, 5, 4)), ((2, 3, 4, 4), (2, 3, 4, 5))]
    calls.clear()
    ndl.autograd.grad(out.sum(), [q, k, v], create_graph=False)
    assert len(calls) == 4 and all(len(a) == len(b) == 4 for a, b in calls)
    kinds = {type(node.op).__name__ for node in ndl.autograd.find_topo_sort([out]) if node.op is not None}
    assert kinds == {"MatMul"}


def test_matmul_class_rejects_vectors_itself():
    a = ndl.Tensor(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"^matmul: \(3,\) @ \(3,\): MatMul takes 2 or more dimensions each"):
        ndl.ops.MatMul()(a, a)


@given(st.data())
def test_broadcast_batch_dimensions_match_numpy_and_finite_differences(data):
    """Batch shapes drawn to broadcast (size-1 axes, missing leading axes); gradients sum back."""
    batch_lhs, batch_rhs = data.draw(broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    a = data.draw(float32_arrays(batch_lhs + (n, k)))
    b = data.draw(float32_arrays(batch_rhs + (k, m)))
    out = ndl.matmul(ndl.Tensor(a), ndl.Tensor(b))
    np.testing.assert_allclose(out.numpy(), np.matmul(a, b), rtol=1e-5, atol=1e-5)
    assert out.dtype == np.float32
    check_gradients(ndl.matmul, a, b, order=1, elementwise=False)


def test_weight_gradient_of_a_batch_sums_over_every_batch_axis():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
    w = ndl.Tensor(rng.standard_normal((4, 6)).astype(np.float32))
    g = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    out = ndl.matmul(ndl.Tensor(x, requires_grad=False), w)
    grad_w = ndl.autograd.grad(out, w, out_grad=ndl.Tensor(g))
    expected = np.einsum("abnk,abnm->km", x, g)
    np.testing.assert_allclose(grad_w.numpy(), expected, rtol=1e-4, atol=1e-4)
    assert grad_w.dtype == np.float32


# ---- norm ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.5, 1, 2, 3, float("inf")])
def test_norm_of_zeros_has_gradient_zero_for_every_p(p):
    x = ndl.Tensor(np.float32([[0, 0, 0], [0, 3, -4]]))
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out = ndl.norm(x, p, dim=1)
        (g,) = ndl.autograd.grad(out, [x])
    assert out.numpy()[0] == 0 and np.all(np.isfinite(g.numpy()))
    np.testing.assert_array_equal(g.numpy()[0], [0, 0, 0])
    assert g.numpy()[1, 0] == 0  # a zero entry of a nonzero slice: 0 too (the limit for p > 1)


def test_norm_matches_pytorch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).uniform(-2, 2, size=(3, 4)).astype(np.float32)
    a[0, 1] = 0
    for p in (0.5, 1, 2, 3, float("inf")):
        x = ndl.Tensor(a)
        out = ndl.norm(x, p, dim=1)
        out.sum().backward()
        t = torch.tensor(a, requires_grad=True)
        expected = torch.linalg.vector_norm(t, p, dim=1)
        expected.sum().backward()
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, err_msg=f"p={p}")
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=f"p={p}")


def test_norm_rejects_p_at_or_below_zero_and_large_p_does_not_overflow():
    x = ndl.Tensor(np.float32([1e20, 2e20]))
    with pytest.raises(ValueError, match="^norm: p must be a number > 0 or inf, got 0"):
        ndl.norm(x, 0)
    np.testing.assert_allclose(ndl.norm(x, 4).numpy(), 2e20 * (1 + 2.0 ** -4) ** 0.25, rtol=1e-6)
