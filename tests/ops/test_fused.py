"""Fused ops (affine map, softmax cross-entropy, standardisation): the case table, agreement with
the unfused compositions they replace, and errors."""
import numpy as np
import pytest

import needle as ndl
from tests.ops.case import Case


def np_linear(x, weight, bias):
    return x @ weight + bias


def np_softmax_cross_entropy(logits, labels):
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return np.asarray(-log_probs[np.arange(len(labels)), labels].mean(), dtype=logits.dtype)


def np_softmax_cross_entropy_derivative(logits, labels):
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    probs[np.arange(len(labels)), labels] -= 1
    return (probs / len(labels)).astype(logits.dtype)


def np_standardize(a, axes, eps=1e-5):
    a64 = a.astype(np.float64)
    centered = a64 - a64.mean(axis=axes, keepdims=True)
    return (centered / np.sqrt((centered**2).mean(axis=axes, keepdims=True) + eps)).astype(a.dtype)


def np_standardize_projection(v, a, axes, eps=1e-5):
    v64, standardized = v.astype(np.float64), np_standardize(a.astype(np.float64), axes, eps)
    inverse = 1 / np.sqrt(a.astype(np.float64).var(axis=axes, keepdims=True) + eps)
    means = v64.mean(axis=axes, keepdims=True), (v64 * standardized).mean(axis=axes, keepdims=True)
    return (inverse * (v64 - means[0] - standardized * means[1])).astype(v.dtype)


def np_inverse_std(a, axes, eps=1e-5):
    return (1 / np.sqrt(a.astype(np.float64).var(axis=axes, keepdims=True) + eps)).astype(a.dtype)


def logits_and_labels(batch, classes, scale=3.0):
    def make(rng):
        logits = rng.uniform(-scale, scale, (batch, classes)).astype(np.float32)
        return [logits, rng.integers(0, classes, batch)]

    return make


CASES = [
    Case(ndl.linear, shapes=[(4, 3), (3, 5), (5,)], numpy=np_linear),
    Case(ndl.linear, shapes=[(4, 3), (3, 5), (1, 5)], numpy=np_linear, name="linear_row_bias"),
    Case(ndl.linear, shapes=[(2, 3, 4), (4, 2), (2,)], numpy=np_linear, name="linear_3d_input"),
    Case(ndl.linear, shapes=[(3,), (3, 2), (2,)], numpy=np_linear, name="linear_1d_input"),
    Case(ndl.linear, shapes=[(4, 3), (3, 5), (5,)], numpy=np_linear, grad_inputs=[1, 2],
         name="linear_constant_input"),
    Case(lambda x, w, b: ndl.linear(x, w, b) ** 2, shapes=[(3, 2), (2, 4), (4,)],
         numpy=lambda x, w, b: np_linear(x, w, b) ** 2, name="linear_squared"),
    Case(ndl.softmax_cross_entropy, shapes=[(5, 4), (5,)], numpy=np_softmax_cross_entropy,
         grad_inputs=[0], make_inputs=logits_and_labels(5, 4)),
    Case(ndl.softmax_cross_entropy, shapes=[(1, 3), (1,)], numpy=np_softmax_cross_entropy,
         grad_inputs=[0], make_inputs=logits_and_labels(1, 3), name="softmax_cross_entropy_one_row"),
    Case(ndl.softmax_cross_entropy_derivative, shapes=[(5, 4), (5,)], numpy=np_softmax_cross_entropy_derivative,
         grad_inputs=[0], make_inputs=logits_and_labels(5, 4)),
    Case(ndl.standardize, shapes=[(5, 4)], numpy=np_standardize, kwargs={"axes": 0}),
    Case(ndl.standardize, shapes=[(3, 4)], numpy=np_standardize, kwargs={"axes": -1}),
    Case(ndl.standardize, shapes=[(2, 3, 4)], numpy=np_standardize, kwargs={"axes": (0, 2)}),
    Case(lambda a: ndl.standardize(a, 0) ** 3, shapes=[(4, 3)], numpy=lambda a: np_standardize(a, 0) ** 3,
         name="standardize_cubed"),
    Case(ndl.standardize_projection, shapes=[(5, 4), (5, 4)], numpy=np_standardize_projection, kwargs={"axes": 0}),
    Case(ndl.standardize_projection, shapes=[(3, 4), (3, 4)], numpy=np_standardize_projection,
         kwargs={"axes": -1, "eps": 0.5}),
    Case(ndl.standardize_projection, shapes=[(2, 3, 4), (2, 3, 4)], numpy=np_standardize_projection,
         kwargs={"axes": (0, 2)}),
    Case(ndl.standardize_projection, shapes=[(4, 3), (4, 3)], numpy=np_standardize_projection, kwargs={"axes": 0},
         grad_inputs=[1], name="standardize_projection_through_a"),
    Case(ndl.inverse_std, shapes=[(5, 4)], numpy=np_inverse_std, kwargs={"axes": 0}),
    Case(ndl.inverse_std, shapes=[(3, 4)], numpy=np_inverse_std, kwargs={"axes": -1, "eps": 0.5}),
]


def test_linear_matches_matmul_plus_broadcast_bias_with_its_gradients():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(6, 4), (4, 3), (3,)]]
    fused = [ndl.Tensor(a) for a in arrays]
    plain = [ndl.Tensor(a) for a in arrays]
    (ndl.linear(*fused) ** 2).sum().backward()
    x, w, b = plain
    ((x @ w + ndl.broadcast_to(ndl.reshape(b, (1, 3)), (6, 3))) ** 2).sum().backward()
    for f, p in zip(fused, plain):
        np.testing.assert_allclose(f.grad.numpy(), p.grad.numpy(), rtol=1e-5)


def test_softmax_cross_entropy_matches_logsumexp_minus_true_logit():
    rng = np.random.default_rng(1)
    logits = ndl.Tensor(rng.standard_normal((8, 5)).astype(np.float32))
    labels = rng.integers(0, 5, 8)
    loss = ndl.softmax_cross_entropy(logits, ndl.Tensor(labels))
    onehot = ndl.Tensor(np.eye(5, dtype=np.float32)[labels])
    composed = (ndl.logsumexp(logits, axes=1) - (logits * onehot).sum(axes=1)).sum() / 8
    np.testing.assert_allclose(loss.numpy(), composed.numpy(), rtol=1e-6)
    assert loss.shape == () and loss.dtype == np.float32


def test_softmax_cross_entropy_adjoint_is_its_derivative_node_times_the_seed_over_the_saved_softmax():
    logits = ndl.Tensor(np.random.default_rng(5).standard_normal((4, 3)).astype(np.float32))
    loss = ndl.softmax_cross_entropy(logits, ndl.Tensor(np.array([0, 2, 1, 1])))
    (adjoint,) = ndl.autograd.grad(loss, [logits], create_graph=True)
    derivative, seed = adjoint.inputs
    assert isinstance(adjoint.op, ndl.ops.EWiseMul) and seed.shape == ()
    assert isinstance(derivative.op, ndl.ops.SoftmaxCrossEntropyDerivative)
    assert derivative.saved is loss.saved  # the forward's softmax, not computed again


def test_softmax_cross_entropy_is_exact_for_huge_logits():
    logits = ndl.Tensor(np.array([[1e10, -1e10, 0.0], [-1e10, -1e10, -1e10]], dtype=np.float32))
    loss = ndl.softmax_cross_entropy(logits, ndl.Tensor(np.array([0, 2])))
    loss.backward()
    np.testing.assert_allclose(loss.numpy(), np.log(3) / 2, rtol=1e-6)
    expected = np.array([[0, 0, 0], [1 / 3, 1 / 3, -2 / 3]], dtype=np.float32) / 2
    np.testing.assert_allclose(logits.grad.numpy(), expected, atol=1e-7)
    assert np.isfinite(logits.grad.numpy()).all()


def test_linear_gives_no_input_adjoint_when_the_input_is_constant():
    x = ndl.Tensor(np.ones((2, 3), np.float32), requires_grad=False)
    w = ndl.Tensor(np.ones((3, 4), np.float32))
    out = ndl.linear(x, w, ndl.Tensor(np.zeros(4, np.float32)))
    grads = out.op.gradient(ndl.Tensor(np.ones((2, 4), np.float32)), out)
    assert grads[0] is None and grads[1].shape == (3, 4)


@pytest.mark.parametrize("shapes, message", [
    ([(2, 3), (4, 5), (5,)], r"linear: input \(2, 3\) @ weight \(4, 5\)"),
    ([(2, 3), (3, 5), (4,)], r"linear: bias \(4,\) does not fit weight \(3, 5\)"),
])
def test_linear_errors_name_the_shapes(shapes, message):
    tensors = [ndl.Tensor(np.zeros(s, np.float32)) for s in shapes]
    with pytest.raises(ValueError, match=message):
        ndl.linear(*tensors)


@pytest.mark.parametrize("labels, error, message", [
    (np.array([0, 1]), ValueError, r"logits \(3, 4\) and labels \(2,\)"),
    (np.array([0.0, 1.0, 2.0]), TypeError, "labels must be integers"),
    (np.array([0, 4, 1]), ValueError, r"labels must lie in \[0, 4\), got 0..4"),
    (np.array([0, -1, 1]), ValueError, r"labels must lie in \[0, 4\), got -1..1"),
    (np.array([0, 9, 1], dtype=np.uint8), ValueError, r"labels must lie in \[0, 4\), got 0..9"),
    (np.array([True, False, True]), TypeError, "labels must be integers"),
])
@pytest.mark.parametrize("name", ["softmax_cross_entropy", "softmax_cross_entropy_derivative"])
def test_softmax_cross_entropy_and_its_derivative_reject_bad_labels(name, labels, error, message):
    logits = ndl.Tensor(np.zeros((3, 4), np.float32))
    with pytest.raises(error, match=f"^{name}: {message}"):
        getattr(ndl, name)(logits, ndl.Tensor(labels))


def test_standardize_matches_the_composed_batch_norm_arithmetic_with_its_gradients():
    rng = np.random.default_rng(2)
    x_fused, x_plain = (ndl.Tensor(rng.standard_normal((6, 4)).astype(np.float32)) for _ in range(2))
    x_plain.data = x_fused
    seed = ndl.Tensor(rng.standard_normal((6, 4)).astype(np.float32))
    (ndl.standardize(x_fused, 0) * seed).sum().backward()
    mean = ndl.mean(x_plain, 0, keepdims=True)
    centered = x_plain - mean
    composed = centered / ndl.sqrt(ndl.mean(centered * centered, 0, keepdims=True) + 1e-5)
    (composed * seed).sum().backward()
    np.testing.assert_array_equal(ndl.standardize(x_fused, 0).numpy(), composed.numpy())
    np.testing.assert_allclose(x_fused.grad.numpy(), x_plain.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_standardize_adjoint_is_one_projection_node_over_the_saved_statistics(monkeypatch):
    x = ndl.Tensor(np.random.default_rng(6).standard_normal((5, 3)).astype(np.float32))
    standardized = ndl.standardize(x, 0)
    monkeypatch.setattr(ndl.ops.fused, "_moments", None)  # the rule must not compute them again
    seed = ndl.Tensor(np.random.default_rng(7).standard_normal((5, 3)).astype(np.float32))
    (adjoint,) = ndl.autograd.grad(standardized, [x], seed, create_graph=True)
    assert isinstance(adjoint.op, ndl.ops.StandardizeProjection)
    assert adjoint.inputs[0] is seed and adjoint.inputs[1] is x
    monkeypatch.undo()
    np.testing.assert_allclose(adjoint.numpy(), ndl.standardize_projection(seed, x, 0).numpy(), rtol=1e-6)


def test_standardize_saves_the_batch_moments_on_its_node_not_its_op():
    a = np.random.default_rng(3).standard_normal((7, 3)).astype(np.float32)
    op = ndl.ops.Standardize(0)
    node = op(ndl.Tensor(a))
    mean, var, inverse_std = node.saved
    assert vars(op) == {"axes": 0, "eps": 1e-5}
    np.testing.assert_allclose(inverse_std, 1 / np.sqrt(var + 1e-5), rtol=1e-6)
    np.testing.assert_allclose(mean, a.mean(axis=0, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(var, a.var(axis=0, keepdims=True), rtol=1e-5)


@pytest.mark.parametrize("make_op, make_inputs", [
    (lambda: ndl.ops.Standardize(0), lambda rng: [rng.standard_normal((4, 3))]),
    (lambda: ndl.ops.SoftmaxCrossEntropy(),
     lambda rng: [rng.standard_normal((4, 3)), np.array([0, 2, 1, 1])]),
    (lambda: ndl.ops.SoftmaxCrossEntropyDerivative(),
     lambda rng: [rng.standard_normal((4, 3)), np.array([0, 2, 1, 1])]),
])
def test_an_op_object_called_twice_gives_each_node_its_own_gradient(make_op, make_inputs):
    """The fused ops save forward results for their rules on the node; a second call of the same
    op object must not leak into the first node's rules."""
    rng = np.random.default_rng(4)
    op = make_op()
    first = [ndl.Tensor(a) for a in make_inputs(rng)]
    out = op(*first)
    op(*[ndl.Tensor(a) for a in make_inputs(rng)])  # a second node from the same op object
    weights = ndl.Tensor(rng.standard_normal(out.shape))  # a plain sum of standardised rows is 0
    (got,) = ndl.autograd.grad((out * weights).sum(), [first[0]])
    fresh = [ndl.Tensor(x.numpy()) for x in first]
    (expected,) = ndl.autograd.grad((make_op()(*fresh) * weights).sum(), [fresh[0]])
    assert np.abs(expected.numpy()).max() > 0.01
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)


def test_standardize_rejects_an_empty_axis():
    with pytest.raises(ValueError, match=r"standardize: cannot reduce shape \(0, 3\) over an empty axis"):
        ndl.standardize(ndl.Tensor(np.zeros((0, 3))), 0)
