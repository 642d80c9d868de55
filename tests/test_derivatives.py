"""The functional transforms of needle.derivatives (ndl.func): values, shapes, nesting and errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import needle as ndl
from needle import nn
from tests.strategies import shapes

func = ndl.func


def seed_example(x1, x2):
    """The worked example: f(x1, x2) = ln x1 + x1·x2 − sin x2."""
    return ndl.log(x1) + x1 * x2 - ndl.sin(x2)


def f32(*values):
    return np.array(values if len(values) != 1 else values[0], dtype=np.float32)


def constant(array):
    return ndl.Tensor(array, requires_grad=False)


def central_difference_jacobian(fn, x, eps=1e-6):
    """d fn / d x in float64, one central difference per input entry: shape fn(x).shape + x.shape."""
    columns = []
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = eps
        step = step.reshape(x.shape)
        columns.append((fn(x + step) - fn(x - step)) / (2 * eps))
    out_shape = np.shape(columns[0])
    return np.stack(columns, axis=-1).reshape(out_shape + x.shape)


def test_ndl_func_is_the_func_module():
    import needle.func

    assert ndl.func is needle.func
    assert {"grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "hvp"} <= set(vars(func))


# ---- the worked example ----------------------------------------------------------------------


def test_worked_example_forward_trace_gives_one_partial_per_tangent():
    primals = (f32(2.0), f32(5.0))
    value, along_x1 = func.jvp(seed_example, primals, (f32(1.0), f32(0.0)))
    _, along_x2 = func.jvp(seed_example, primals, (f32(0.0), f32(1.0)))
    assert value.item() == pytest.approx(np.log(2) + 10 - np.sin(5), rel=1e-6)
    assert along_x1.item() == pytest.approx(5.5, rel=1e-6)
    assert along_x2.item() == pytest.approx(2 - np.cos(5), rel=1e-6)  # 1.7163…
    assert along_x2.item() == pytest.approx(1.716, abs=1e-3)


def test_worked_example_reverse_trace_gives_both_partials_at_once():
    d_x1, d_x2 = func.grad(seed_example, argnums=(0, 1))(f32(2.0), f32(5.0))
    assert d_x1.item() == pytest.approx(5.5, rel=1e-6)
    assert d_x2.item() == pytest.approx(1.716, abs=1e-3)
    value, pullback = func.vjp(seed_example, f32(2.0), f32(5.0))
    assert [g.item() for g in pullback(f32(1.0))] == pytest.approx([5.5, 2 - np.cos(5)], rel=1e-6)


# ---- grad, value_and_grad ----------------------------------------------------------------------


def test_grad_matches_the_analytic_gradient_and_keeps_shape_and_float32():
    x = np.random.uniform(-1, 1, size=(3, 4)).astype(np.float32)
    g = func.grad(lambda t: (t ** 3).sum())(x)
    assert g.shape == (3, 4) and g.dtype == np.float32
    np.testing.assert_allclose(g.numpy(), 3 * x ** 2, rtol=1e-6)


def test_argnums_picks_arguments_and_an_int_gives_one_tensor():
    x, y = f32(1.0, 2.0), f32(3.0, -1.0)

    def f(a, b):
        return (a * a * b).sum()

    assert isinstance(func.grad(f, argnums=1)(x, y), ndl.Tensor)
    np.testing.assert_allclose(func.grad(f, argnums=1)(x, y).numpy(), x * x)
    np.testing.assert_allclose(func.grad(f, argnums=-2)(x, y).numpy(), 2 * x * y)
    d_b, d_a = func.grad(f, argnums=(1, 0))(x, y)
    np.testing.assert_allclose(d_a.numpy(), 2 * x * y)
    np.testing.assert_allclose(d_b.numpy(), x * x)


def test_value_and_grad_returns_the_value_and_the_gradient():
    x = f32(0.5, 1.5)
    value, g = func.value_and_grad(lambda t: ndl.exp(t).sum())(x)
    assert value.item() == pytest.approx(np.exp(x).sum(), rel=1e-6)
    np.testing.assert_allclose(g.numpy(), np.exp(x), rtol=1e-6)


def test_grad_accepts_tensors_lists_and_scalars_and_leaves_grad_fields_alone():
    weight = ndl.Tensor(f32(1.0, 2.0))
    g = func.grad(lambda w: (w * w).sum())(weight)
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])
    assert weight.grad is None
    assert func.grad(lambda t: t * t)(3.0).item() == pytest.approx(6.0)
    np.testing.assert_allclose(func.grad(lambda t: (t * t).sum())([1.0, 2.0]).numpy(), [2.0, 4.0])


def test_non_differentiated_array_arguments_arrive_as_tensors():
    logits = np.random.randn(4, 3).astype(np.float32)
    labels = np.array([0, 2, 1, 2])
    g = func.grad(nn.SoftmaxLoss())(logits, labels)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected = (shifted / shifted.sum(axis=1, keepdims=True) - np.eye(3)[labels]) / 4
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-5, atol=1e-7)


def test_results_are_constants_unless_something_outside_needs_them():
    x = f32(1.0, 2.0)
    g = func.grad(lambda t: (t * t).sum())(x)
    assert not g.requires_grad and g.op is None
    with ndl.no_grad():
        g = func.grad(lambda t: (t * t).sum())(ndl.Tensor(x))
    assert not g.requires_grad
    np.testing.assert_allclose(g.numpy(), 2 * x)


# ---- vjp and jvp -------------------------------------------------------------------------------


def test_vjp_pullback_is_the_transposed_jacobian_and_can_be_called_again():
    a = np.random.randn(3, 4).astype(np.float32)
    x = np.random.randn(4).astype(np.float32)

    def f(matrix, vector):
        return ndl.tanh(matrix @ vector)

    out, pullback = func.vjp(f, a, x)
    np.testing.assert_allclose(out.numpy(), np.tanh(a @ x), rtol=1e-6)
    scale = 1 - np.tanh(a @ x) ** 2
    for _ in range(2):
        u = np.random.randn(3).astype(np.float32)
        d_a, d_x = pullback(u)
        assert d_a.dtype == d_x.dtype == np.float32
        np.testing.assert_allclose(d_a.numpy(), np.outer(u * scale, x), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(d_x.numpy(), a.T @ (u * scale), rtol=1e-5, atol=1e-6)


def test_vjp_and_jvp_take_functions_with_several_outputs():
    x = np.random.randn(2, 3)

    def f(t):
        return ndl.exp(t), t.sum(axes=1)

    (e, s), pullback = func.vjp(f, x)
    u_e, u_s = np.random.randn(2, 3), np.random.randn(2)
    (d_x,) = pullback((u_e, u_s))
    np.testing.assert_allclose(d_x.numpy(), u_e * np.exp(x) + u_s[:, None])
    v = np.random.randn(2, 3)
    (_, _), (t_e, t_s) = func.jvp(f, (x,), (v,))
    np.testing.assert_allclose(t_e.numpy(), v * np.exp(x))
    np.testing.assert_allclose(t_s.numpy(), v.sum(axis=1))


@given(shape=shapes(max_dims=3, max_side=3), seed=st.integers(0, 2 ** 16))
def test_jvp_equals_jacobian_times_tangent(shape, seed):
    rng = np.random.default_rng(seed)
    x, v = rng.standard_normal(shape), rng.standard_normal(shape)

    def f(t):
        return ndl.sin(t) * ndl.exp(t).sum()

    _, tangent = func.jvp(f, (x,), (v,))
    jacobian = func.jacrev(f)(x).numpy().reshape(x.size, x.size)
    np.testing.assert_allclose(tangent.numpy().ravel(), jacobian @ v.ravel(), rtol=1e-10, atol=1e-12)


def test_jvp_of_an_output_that_ignores_the_input_is_zero():
    _, tangent = func.jvp(lambda t, c: c * 2.0, (f32(1.0, 2.0), f32(3.0)), (f32(1.0, 1.0), f32(0.0)))
    np.testing.assert_array_equal(tangent.numpy(), [0.0])
    assert tangent.dtype == np.float32


# ---- Jacobians -----------------------------------------------------------------------------------


@pytest.mark.parametrize("in_shape, out_fn", [
    ((3, 4), lambda t: ndl.exp(t) @ constant(np.ones((4, 2), np.float32))),
    ((), lambda t: ndl.broadcast_to(t, (2, 3)) * 2.0),
    ((2, 3), lambda t: ndl.logsumexp(t, axes=1)),
    ((4,), lambda t: (t * t).sum()),
])
def test_jacfwd_and_jacrev_agree_with_shape_out_plus_in(in_shape, out_fn):
    x = np.random.uniform(-1, 1, size=in_shape).astype(np.float32)
    forward, reverse = func.jacfwd(out_fn)(x), func.jacrev(out_fn)(x)
    out_shape = out_fn(constant(x)).shape
    assert forward.shape == reverse.shape == out_shape + in_shape
    assert forward.dtype == reverse.dtype == np.float32
    np.testing.assert_allclose(forward.numpy(), reverse.numpy(), rtol=1e-5, atol=1e-6)
    numeric = central_difference_jacobian(lambda a: out_fn(constant(a)).numpy(), x.astype(np.float64))
    np.testing.assert_allclose(forward.numpy(), numeric, rtol=1e-3, atol=1e-3)


def test_jacobians_nest_over_argnums_inside_outputs():
    x, y = np.random.randn(2), np.random.randn(3)

    def f(a, b):
        return a.sum() * b, a * a

    for jacobian in (func.jacfwd(f, (0, 1))(x, y), func.jacrev(f, (0, 1))(x, y)):
        (d1_da, d1_db), (d2_da, d2_db) = jacobian
        np.testing.assert_allclose(d1_da.numpy(), np.outer(y, np.ones(2)))
        np.testing.assert_allclose(d1_db.numpy(), x.sum() * np.eye(3))
        np.testing.assert_allclose(d2_da.numpy(), np.diag(2 * x))
        np.testing.assert_array_equal(d2_db.numpy(), np.zeros((2, 3)))


# ---- second order ------------------------------------------------------------------------------


def mlp_loss(w1, w2, x, y_onehot):
    """Mean softmax cross-entropy of a two-layer tanh MLP built from needle ops."""
    logits = ndl.tanh(x @ w1) @ w2
    return -(ndl.logsoftmax(logits) * y_onehot).sum() / x.shape[0]


@pytest.fixture
def mlp_problem():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 3))
    labels = rng.integers(0, 2, size=5)
    return {
        "w1": rng.standard_normal((3, 4)) * 0.7,
        "w2": rng.standard_normal((4, 2)) * 0.7,
        "x": constant(x),
        "y": constant(np.eye(2)[labels]),
    }


def test_hessian_of_an_mlp_loss_matches_finite_differences_of_its_gradient(mlp_problem):
    w1, w2, x, y = mlp_problem["w1"], mlp_problem["w2"], mlp_problem["x"], mlp_problem["y"]
    hessian = func.hessian(mlp_loss)(w1, w2, x, y)
    assert hessian.shape == (3, 4, 3, 4) and hessian.dtype == np.float64
    gradient = func.grad(mlp_loss)
    numeric = central_difference_jacobian(lambda w: gradient(w, w2, x, y).numpy(), w1)
    np.testing.assert_allclose(hessian.numpy(), numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hessian.numpy(), hessian.numpy().transpose(2, 3, 0, 1), atol=1e-12)


def test_hessian_blocks_over_several_arguments(mlp_problem):
    w1, w2, x, y = mlp_problem["w1"], mlp_problem["w2"], mlp_problem["x"], mlp_problem["y"]
    (h11, h12), (h21, h22) = func.hessian(mlp_loss, argnums=(0, 1))(w1, w2, x, y)
    assert h12.shape == (3, 4, 4, 2) and h21.shape == (4, 2, 3, 4)
    np.testing.assert_allclose(h12.numpy(), h21.numpy().transpose(2, 3, 0, 1), atol=1e-12)
    d_w2 = func.grad(mlp_loss, argnums=1)
    numeric = central_difference_jacobian(lambda w: d_w2(w, w2, x, y).numpy(), w1)
    np.testing.assert_allclose(h21.numpy(), numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(h11.numpy(), func.jacrev(func.grad(mlp_loss))(w1, w2, x, y).numpy(),
                               atol=1e-12)


def test_hvp_equals_the_hessian_times_the_vector(mlp_problem):
    w1, w2, x, y = mlp_problem["w1"], mlp_problem["w2"], mlp_problem["x"], mlp_problem["y"]
    v1, v2 = np.random.randn(3, 4), np.random.randn(4, 2)
    loss = lambda a, b: mlp_loss(a, b, x, y)  # noqa: E731
    hv1, hv2 = func.hvp(loss, (w1, w2), (v1, v2))
    (h11, h12), (h21, h22) = func.hessian(loss, argnums=(0, 1))(w1, w2)
    expected1 = np.tensordot(h11.numpy(), v1, 2) + np.tensordot(h12.numpy(), v2, 2)
    expected2 = np.tensordot(h21.numpy(), v1, 2) + np.tensordot(h22.numpy(), v2, 2)
    np.testing.assert_allclose(hv1.numpy(), expected1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv2.numpy(), expected2, rtol=1e-10, atol=1e-12)


def test_hessian_keeps_float32():
    hessian = func.hessian(lambda t: (ndl.exp(t) * t).sum())(f32(0.5, -1.0))
    assert hessian.dtype == np.float32 and hessian.shape == (2, 2)
    x = np.array([0.5, -1.0])
    np.testing.assert_allclose(hessian.numpy(), np.diag(np.exp(x) * (x + 2)), rtol=1e-6)


def test_grad_of_grad_of_grad():
    third = func.grad(func.grad(func.grad(lambda t: ndl.sin(t) * t)))
    x = 0.7
    assert third(x).item() == pytest.approx(-3 * np.sin(x) - x * np.cos(x), rel=1e-10)


# ---- nesting -------------------------------------------------------------------------------------


def test_nested_transforms_do_not_confuse_their_perturbations():
    # d/dx [x · (d/dy (x + y) at y = x)] = d/dx [x · 1] = 1; confusing y with x would give 2.
    def f(x):
        inner = func.grad(lambda y: (x + y).sum())(x)
        return (x * inner).sum()

    np.testing.assert_allclose(func.grad(f)(np.array([3.0, -2.0])).numpy(), [1.0, 1.0])
    _, tangent = func.jvp(f, (np.array([3.0]),), (np.array([1.0]),))
    assert tangent.item() == pytest.approx(1.0)


def test_a_closed_over_tensor_that_requires_grad_keeps_the_result_differentiable():
    w = ndl.Tensor(np.array([2.0, 3.0]))
    x = np.array([1.0, -1.0])
    g = func.grad(lambda t: (w * t * t).sum())(x)  # 2·w·x
    np.testing.assert_allclose(g.numpy(), 2 * w.numpy() * x)
    assert g.requires_grad
    (d_w,) = ndl.autograd.grad(g.sum(), [w])
    np.testing.assert_allclose(d_w.numpy(), 2 * x)


def test_jacobians_of_jacobians_agree():
    x = np.random.randn(3)
    f = lambda t: ndl.sin(t) * (t * t).sum()  # noqa: E731
    reference = func.jacrev(func.jacrev(f))(x).numpy()
    assert reference.shape == (3, 3, 3)
    for nested in (func.jacfwd(func.jacfwd(f)), func.jacfwd(func.jacrev(f)), func.jacrev(func.jacfwd(f))):
        np.testing.assert_allclose(nested(x).numpy(), reference, rtol=1e-12, atol=1e-12)


# ---- nn modules ----------------------------------------------------------------------------------


def test_transforms_run_through_nn_modules():
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    x = np.random.randn(4, 3).astype(np.float32)
    labels = np.array([0, 1, 1, 0])
    loss = lambda inputs: nn.SoftmaxLoss()(model(inputs), constant(labels))  # noqa: E731

    g = func.grad(loss)(x)
    assert g.shape == (4, 3) and g.dtype == np.float32
    numeric = central_difference_jacobian(
        lambda a: loss(constant(a.astype(np.float32))).numpy().astype(np.float64), x.astype(np.float64),
        eps=1e-2,
    )
    np.testing.assert_allclose(g.numpy(), numeric, rtol=2e-2, atol=2e-3)
    np.testing.assert_allclose(func.jacfwd(model)(x).numpy(), func.jacrev(model)(x).numpy(),
                               rtol=1e-5, atol=1e-6)
    hessian = func.hessian(loss)(x)
    assert hessian.shape == (4, 3, 4, 3) and hessian.dtype == np.float32
    for parameter in model.parameters():
        assert parameter.grad is None


# ---- errors --------------------------------------------------------------------------------------


def test_grad_rejects_a_function_with_a_non_scalar_result():
    with pytest.raises(ValueError, match=r"grad: f must return a scalar .* got shape \(2,\)"):
        func.grad(lambda t: t * 2.0)(f32(1.0, 2.0))


def test_transforms_reject_results_that_are_not_tensors():
    with pytest.raises(TypeError, match="jacrev: f must return a Tensor or a tuple of Tensors, got float"):
        func.jacrev(lambda t: 1.0)(f32(1.0))


def test_bad_argnums_are_rejected_with_the_transform_name():
    f = lambda a, b: (a * b).sum()  # noqa: E731
    with pytest.raises(ValueError, match="grad: argnums 2 is out of range for 2 positional arguments"):
        func.grad(f, argnums=2)(f32(1.0), f32(2.0))
    with pytest.raises(ValueError, match=r"jacfwd: argnums \(0, -2\) repeats an argument"):
        func.jacfwd(f, argnums=(0, -2))(f32(1.0), f32(2.0))
    with pytest.raises(TypeError, match="jacrev: argnums must be an int or a non-empty tuple"):
        func.jacrev(f, argnums="a")(f32(1.0), f32(2.0))


def test_integer_inputs_cannot_be_differentiated():
    with pytest.raises(TypeError, match="grad: argument 0 has dtype int64"):
        func.grad(lambda t: t.sum())(np.array([1, 2]))


def test_jvp_checks_tangents_against_primals():
    f = lambda t: t * 2.0  # noqa: E731
    with pytest.raises(ValueError, match=r"jvp: tangent 0 has shape \(3,\), but primal 0 has \(2,\)"):
        func.jvp(f, (f32(1.0, 2.0),), (f32(1.0, 2.0, 3.0),))
    with pytest.raises(ValueError, match="jvp: 1 primals but 2 tangents"):
        func.jvp(f, (f32(1.0, 2.0),), (f32(1.0, 2.0), f32(1.0)))
    with pytest.raises(TypeError, match="jvp: primals and tangents must be tuples"):
        func.jvp(f, f32(1.0, 2.0), f32(1.0, 2.0))


def test_transforms_need_an_argument():
    with pytest.raises(TypeError, match="vjp: f was given no arguments to differentiate"):
        func.vjp(lambda: ndl.Tensor([1.0]))


def test_vjp_checks_cotangents_against_outputs():
    _, pullback = func.vjp(lambda t: t * 2.0, f32(1.0, 2.0))
    with pytest.raises(ValueError, match=r"vjp: cotangent 0 has shape \(3,\), but output 0 has \(2,\)"):
        pullback(f32(1.0, 2.0, 3.0))
