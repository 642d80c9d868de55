"""The engine: the Tensor API of the contract, graph structure, the sweeps, no_grad, memory and depth."""
import gc
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import needle as ndl
from needle import autograd
from needle.autograd import LinearOp, Tensor, TensorOp
from needle.ops import (
    AddScalar, DivScalar, EWiseAdd, EWiseDiv, EWiseMul, EWisePow, MatMul, MulScalar, Negate, PowerScalar,
    TupleGetItem,
)


@pytest.fixture
def no_gc():
    """Only reference counting frees objects during the test (no cycle collector passes)."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


# ---- construction and data ---------------------------------------------------------------------


@pytest.mark.parametrize("array, dtype", [
    (np.array([1.0, 2.0]), np.float64),
    ([1.5, 2.5], np.float64),
    ([1, 2, 3], np.int64),
    (np.ones(3, dtype=np.float32), np.float32),
    (2.5, np.float64),
])
def test_constructor_keeps_numpys_inferred_dtype(array, dtype):
    assert Tensor(array).dtype == dtype


@pytest.mark.parametrize("dtype", ["float32", np.float32, np.dtype("float32")])
def test_constructor_takes_dtype_as_string_or_numpy_dtype(dtype):
    x = Tensor([1, 2], dtype=dtype)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])


def test_constructor_scalars_make_0d_tensors_and_require_grad_by_default():
    x = Tensor(3.0)
    assert x.shape == () and x.requires_grad and x.op is None and x.inputs == ()
    assert Tensor(np.float32(2.0)).dtype == np.float32


def test_constructor_from_tensor_copies_values_not_graph():
    a = Tensor([1.0, 2.0]) * 2.0
    b = Tensor(a, dtype="float32")
    assert b.op is None and b.dtype == np.float32
    np.testing.assert_array_equal(b.numpy(), [2.0, 4.0])


def test_constructor_rejects_an_unknown_device():
    with pytest.raises(ValueError, match="device"):
        Tensor([1.0], device="gpu")


def test_op_results_are_computed_eagerly():
    c = Tensor([1.0, 2.0]) + Tensor([10.0, 20.0])
    assert isinstance(c.cached_data, np.ndarray)
    np.testing.assert_array_equal(c.cached_data, [11.0, 22.0])


def test_a_0d_result_is_stored_as_numpy_returns_it_and_handed_out_as_an_array():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32))
    total = x.sum()
    assert isinstance(total.cached_data, np.float32)  # NumPy's own 0-d result, no wrapping
    assert type(total.numpy()) is np.ndarray and total.numpy().shape == () and total.numpy() == 3.0
    assert type(np.asarray(total)) is np.ndarray and np.asarray(total, dtype=np.float64).dtype == np.float64
    assert total.item() == 3.0 and total.shape == () and total.dtype == np.float32
    assert type(Tensor(total).cached_data) is np.ndarray
    leaf = Tensor(0.0)
    leaf.data = total
    assert type(leaf.cached_data) is np.ndarray and leaf.numpy() == 3.0


def test_array_protocol_shares_or_copies_as_asked():
    x = Tensor([1.0, 2.0])
    assert np.shares_memory(np.asarray(x), x.cached_data)
    assert not np.shares_memory(np.array(x, copy=True), x.cached_data)


def test_realize_cached_data_returns_the_stored_array():
    x = Tensor([1.0, 2.0])
    y = x * 3.0
    assert x.realize_cached_data() is x.cached_data
    assert y.realize_cached_data() is y.cached_data


def test_ops_read_their_inputs_current_storage():
    x = Tensor([1.0, 2.0])
    first = x * 2.0
    x.data = Tensor([5.0, 6.0])
    second = x * 2.0
    np.testing.assert_array_equal(first.numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(second.numpy(), [10.0, 12.0])


def test_data_getter_is_a_detached_leaf_sharing_storage():
    x = Tensor([1.0, 2.0]) * 2.0
    d = x.data
    assert d is not x and d.op is None and d.inputs == () and not d.requires_grad
    assert d.cached_data is x.cached_data


def test_data_setter_replaces_storage_and_keeps_the_node():
    x = Tensor([1.0, 2.0])
    new = Tensor([7.0, 8.0])
    x.data = new
    assert x.cached_data is new.cached_data and x.requires_grad and x.op is None
    with pytest.raises(TypeError, match="Tensor"):
        x.data = np.zeros(2)


def test_detach_is_a_constant_leaf_sharing_storage():
    y = Tensor([1.0, 2.0]) * 2.0
    d = y.detach()
    assert d.op is None and d.inputs == () and not d.requires_grad
    assert np.shares_memory(d.numpy(), y.numpy())


def test_tensors_compare_and_hash_by_identity():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    assert a == a and not (a == b) and a != b
    state = {a: "a", b: "b"}
    assert state[a] == "a" and state[b] == "b"


def test_tensor_counter_counts_live_values(no_gc):
    before = autograd.TENSOR_COUNTER
    x = Tensor([1.0])
    y = x + 1.0
    assert autograd.TENSOR_COUNTER == before + 2
    del y
    assert autograd.TENSOR_COUNTER == before + 1
    del x
    assert autograd.TENSOR_COUNTER == before


def test_tensor_tuple_has_length_indexing_and_addition():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0])
    pair = ndl.make_tuple(a, b)
    assert len(pair) == 2
    second = pair[1]
    assert isinstance(second.op, TupleGetItem) and second.inputs == (pair,)
    np.testing.assert_array_equal(second.numpy(), [3.0])
    np.testing.assert_array_equal((pair + pair)[0].numpy(), [2.0, 4.0])


# ---- operators and node structure --------------------------------------------------------------


def test_tensor_minus_tensor_is_negate_then_add():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 5.0])
    out = a - b
    assert isinstance(out.op, EWiseAdd) and out.inputs[0] is a
    negated = out.inputs[1]
    assert isinstance(negated.op, Negate) and negated.inputs == (b,)
    np.testing.assert_array_equal(out.numpy(), [-2.0, -3.0])


def test_tensor_minus_scalar_is_one_add_scalar_of_the_negated_scalar():
    a = Tensor([1.0, 2.0])
    out = a - 2.0
    assert isinstance(out.op, AddScalar) and out.op.scalar == -2.0 and out.inputs == (a,)
    np.testing.assert_array_equal(out.numpy(), [-1.0, 0.0])


@pytest.mark.parametrize("expression, op_class, expected", [
    (lambda a, b: a + b, EWiseAdd, [4.0, 7.0]),
    (lambda a, b: a * b, EWiseMul, [3.0, 10.0]),
    (lambda a, b: a / b, EWiseDiv, [1 / 3, 2 / 5]),
    (lambda a, b: a ** b, EWisePow, [1.0, 32.0]),
])
def test_binary_operators_make_one_node(expression, op_class, expected):
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 5.0])
    out = expression(a, b)
    assert isinstance(out.op, op_class) and out.inputs == (a, b)
    np.testing.assert_allclose(out.numpy(), expected)


@pytest.mark.parametrize("expression, op_class, expected", [
    (lambda a: a + 2.0, AddScalar, [3.0, 4.0]),
    (lambda a: 2.0 + a, AddScalar, [3.0, 4.0]),
    (lambda a: a * 3.0, MulScalar, [3.0, 6.0]),
    (lambda a: 3.0 * a, MulScalar, [3.0, 6.0]),
    (lambda a: a / 4.0, DivScalar, [0.25, 0.5]),
    (lambda a: a ** 2, PowerScalar, [1.0, 4.0]),
    (lambda a: -a, Negate, [-1.0, -2.0]),
])
def test_scalar_operators_make_one_node_on_either_side(expression, op_class, expected):
    a = Tensor([1.0, 2.0], dtype="float32")
    out = expression(a)
    assert isinstance(out.op, op_class) and out.inputs == (a,)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected)


@pytest.mark.parametrize("scalar", [np.float64(2.0), np.array([2.0]), 2])
def test_numpy_scalars_do_not_upcast_float32(scalar):
    a = Tensor([1.0, 2.0], dtype="float32")
    for out in (a + scalar, a * scalar, a / scalar, a - scalar):
        assert out.dtype == np.float32


def test_matmul_operator_makes_a_matmul_node():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((3, 4)))
    out = a @ b
    assert isinstance(out.op, MatMul) and out.inputs == (a, b) and out.shape == (2, 4)


# ---- topological order ---------------------------------------------------------------------------


def recursive_topo_sort(node_list):
    """The reference definition: post-order DFS, inputs left to right, each node once."""
    visited, order = set(), []

    def visit(node):
        if node in visited:
            return
        visited.add(node)
        for child in node.inputs:
            visit(child)
        order.append(node)

    for node in node_list:
        visit(node)
    return order


@st.composite
def random_graphs(draw):
    """(number of leaves, [(op name, operand indices)], root indices) describing a small DAG."""
    num_leaves = draw(st.integers(1, 3))
    steps = []
    for k in range(draw(st.integers(0, 12))):
        name = draw(st.sampled_from(["add", "multiply", "negate"]))
        arity = 1 if name == "negate" else 2
        operand = st.integers(0, num_leaves + k - 1)
        steps.append((name, draw(st.lists(operand, min_size=arity, max_size=arity))))
    roots = draw(st.lists(st.integers(0, num_leaves + len(steps) - 1), min_size=1, max_size=3))
    return num_leaves, steps, roots


@given(random_graphs())
def test_find_topo_sort_matches_the_recursive_definition(graph):
    num_leaves, steps, roots = graph
    nodes = [Tensor([float(i)]) for i in range(num_leaves)]
    for name, operands in steps:
        nodes.append(getattr(ndl, name)(*[nodes[i] for i in operands]))
    root_nodes = [nodes[i] for i in roots]
    order = autograd.find_topo_sort(root_nodes)
    assert [id(n) for n in order] == [id(n) for n in recursive_topo_sort(root_nodes)]


def test_find_topo_sort_puts_inputs_first_and_the_output_last():
    x = Tensor([1.0])
    h = ndl.exp(x)
    y = h * x
    assert autograd.find_topo_sort([y]) == [h.inputs[0], h, y]


# ---- reverse mode --------------------------------------------------------------------------------


def test_gradient_of_gradient_as_in_the_course():
    # The course writes Tensor([6]); integer tensors cannot require grad here (as in PyTorch).
    x2 = ndl.Tensor([6.0])
    x3 = ndl.Tensor([0.0])
    y = x2 * x2 + x2 * x3
    y.backward()
    grad_x2 = x2.grad
    grad_x3 = x3.grad
    grad_x2.backward()
    grad_x2_x2 = x2.grad
    grad_x2_x3 = x3.grad
    x2_val, x3_val = x2.numpy(), x3.numpy()
    assert y.numpy() == x2_val * x2_val + x2_val * x3_val
    assert grad_x2.numpy() == 2 * x2_val + x3_val
    assert grad_x3.numpy() == x2_val
    assert grad_x2_x2.numpy() == 2
    assert grad_x2_x3.numpy() == 1


def test_backward_seeds_ones_of_the_outputs_shape_and_dtype():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32))
    (x * x).backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.numpy())


def test_backward_overwrites_grad_instead_of_accumulating():
    x = Tensor([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_backward_sums_the_adjoints_of_every_path():
    x = Tensor([2.0])
    y = x * x + x * 3.0 + ndl.exp(x)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2.0 + 3.0 + math.exp(2.0))


def test_backward_without_create_graph_gives_constant_gradients():
    x = Tensor([1.0, 2.0])
    ndl.exp(x).sum().backward(create_graph=False)
    assert x.grad.op is None and not x.grad.requires_grad
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]))


def test_grad_returns_gradients_without_touching_dot_grad():
    x = Tensor([1.0, 2.0])
    h = ndl.exp(x)
    y = (h * x).sum()
    gx = ndl.autograd.grad(y, x)
    assert x.grad is None and h.grad is None and y.grad is None
    assert gx.op is None and not gx.requires_grad
    np.testing.assert_allclose(gx.numpy(), np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))


def test_grad_refuses_an_input_the_output_does_not_use():
    x, unused = Tensor([1.0, 2.0]), Tensor(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match=r"grad: input 1 \(shape \(2, 3\)\) is not used .*allow_unused=True"):
        ndl.autograd.grad((x * x).sum(), [x, unused])


def test_grad_gives_zeros_for_an_unused_input_with_allow_unused():
    x, unused = Tensor([1.0, 2.0]), Tensor(np.ones((2, 3)))
    gx, g_unused = ndl.autograd.grad((x * x).sum(), [x, unused], allow_unused=True)
    np.testing.assert_array_equal(gx.numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(g_unused.numpy(), np.zeros((2, 3)))


def test_grad_of_grad_of_a_cube_is_six_x():
    x = Tensor([0.5, -1.0, 2.0])
    first = ndl.autograd.grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(first.numpy(), 3 * x.numpy() ** 2)
    second = ndl.autograd.grad(first.sum(), x)
    np.testing.assert_allclose(second.numpy(), 6 * x.numpy())


def test_grad_with_out_grad_is_a_vector_jacobian_product():
    x = Tensor([1.0, 2.0, 3.0])
    u = Tensor([1.0, -1.0, 0.5])
    g = ndl.autograd.grad(x * x, x, out_grad=u)
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy() * u.numpy())


def test_grad_of_several_outputs_where_one_feeds_another_sums_every_path():
    x = Tensor([1.0, 2.0])
    y = x * 3.0
    z = y * y  # made after y, so the sweep must finish z before it passes y's adjoint on
    g = ndl.autograd.grad([z, y, z], x, out_grad=[Tensor([1.0, 1.0]), Tensor([2.0, 2.0]), Tensor([1.0, 1.0])])
    np.testing.assert_allclose(g.numpy(), 2 * (2 * 9 * x.numpy()) + 2 * 3)


def test_backward_reaches_a_leaf_made_after_the_nodes_that_do_not_use_it():
    early = Tensor([1.0, 2.0])
    a = early * 2.0
    late = Tensor([3.0, 4.0])  # made after `a`: creation order still puts it before its users
    (a * late + late).sum().backward()
    np.testing.assert_allclose(late.grad.numpy(), early.numpy() * 2.0 + 1)
    np.testing.assert_allclose(early.grad.numpy(), late.numpy() * 2.0)


def test_seed_example_value_and_gradients():
    x1, x2 = Tensor(2.0), Tensor(5.0)
    f = ndl.log(x1) + x1 * x2 - ndl.sin(x2)
    assert f.numpy() == pytest.approx(math.log(2) + 10 - math.sin(5))
    assert f.numpy() == pytest.approx(11.652071, abs=1e-6)
    f.backward()
    assert x1.grad.numpy() == pytest.approx(5.5)
    assert x2.grad.numpy() == pytest.approx(2 - math.cos(5))
    assert x2.grad.numpy() == pytest.approx(1.716338, abs=1e-6)
    tangents = autograd.tangent_sweep([f], {x1: Tensor.make_const(np.array(1.0))})
    assert tangents[f].numpy() == pytest.approx(5.5)


# ---- errors --------------------------------------------------------------------------------------


class SumWithWrongAdjoint(TensorOp):
    """Sum over axis 0 whose gradient forgets to broadcast back: a deliberately broken op."""

    def compute(self, a):
        return a.sum(axis=0)

    def gradient(self, out_grad, node):
        return out_grad


def test_engine_rejects_a_wrongly_shaped_adjoint_and_names_the_op():
    x = Tensor(np.ones((2, 3)))
    y = SumWithWrongAdjoint()(x)
    with pytest.raises(ValueError, match=r"SumWithWrongAdjoint.*\(3,\).*\(2, 3\)"):
        y.backward()


def test_compute_errors_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"EWiseAdd.*\(2, 3\).*\(4,\)"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"^matmul: \(3, 4\) @ \(5, 6\): inner sizes 4 and 5 differ$"):
        Tensor(np.ones((3, 4))) @ Tensor(np.ones((5, 6)))


# ---- grad mode and requires_grad -----------------------------------------------------------------


def test_requires_grad_propagates_from_any_input():
    needs, const = Tensor([1.0]), Tensor([2.0], requires_grad=False)
    mixed = needs * const
    assert mixed.requires_grad and mixed.op is not None and mixed.inputs == (needs, const)
    constant = const * const
    assert not constant.requires_grad and constant.op is None and constant.inputs == ()


def test_no_grad_records_no_graph_and_restores_the_mode():
    x = Tensor([1.0, 2.0])
    with ndl.no_grad():
        assert not ndl.is_grad_enabled()
        y = x * 2.0
        with ndl.enable_grad():
            z = x * 2.0
    assert ndl.is_grad_enabled()
    assert y.op is None and not y.requires_grad
    assert z.op is not None and z.requires_grad
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(RuntimeError):
        with ndl.no_grad():
            raise RuntimeError("inside")
    assert ndl.is_grad_enabled()


def test_no_grad_works_as_a_decorator():
    @ndl.no_grad()
    def doubled(t):
        return t * 2.0

    x = Tensor([1.0])
    assert doubled(x).op is None and doubled(x).op is None
    assert ndl.is_grad_enabled() and (x * 2.0).op is not None


# ---- memory and depth ----------------------------------------------------------------------------


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_finished_graph_is_released(create_graph, no_gc):
    before = autograd.TENSOR_COUNTER
    x = Tensor(np.arange(3.0))
    hidden = ndl.exp(x)
    loss = (ndl.exp(hidden) * 2.0).sum()
    del hidden
    loss.backward(create_graph=create_graph)
    del loss
    x.grad = None  # a leaf's recorded adjoint refers back to the graph until it is cleared
    assert autograd.TENSOR_COUNTER == before + 1  # x alone
    del x
    assert autograd.TENSOR_COUNTER == before


class PassThrough(LinearOp):
    """y = a: the cheapest op, so that a test can build a very deep graph quickly."""

    def compute(self, a):
        return a

    def gradient(self, out_grad, node):
        return out_grad


def test_a_million_node_chain_has_no_recursion_limit():
    x = Tensor([1.0])
    y = x
    step = PassThrough()
    for _ in range(1_000_000):
        y = step(y)
    y.backward(create_graph=False)
    np.testing.assert_array_equal(x.grad.numpy(), [1.0])
    del y  # freeing a million-deep chain must not overflow the C stack either


def test_grad_of_grad_through_a_hundred_thousand_node_chain():
    x, u = Tensor([3.0]), Tensor([2.0])
    y = x * x
    for _ in range(100_000):
        y = y * 1.0
    # The seed u requires grad, so the adjoint u·1·1·… is recorded as a chain just as deep.
    first = ndl.autograd.grad(y, x, out_grad=u, create_graph=True)
    d_dx, d_du = ndl.autograd.grad(first, [x, u])
    np.testing.assert_array_equal(first.numpy(), [12.0])  # 2xu
    np.testing.assert_array_equal(d_dx.numpy(), [4.0])  # 2u
    np.testing.assert_array_equal(d_du.numpy(), [6.0])  # 2x


# ---- refusing silent wrong answers -------------------------------------------------------------


def test_backward_of_a_result_of_constants_raises_instead_of_giving_zeros():
    c = Tensor([1.0, 2.0], requires_grad=False)
    loss = (c * c).sum()
    with pytest.raises(RuntimeError, match=r"backward: the output .* does not require grad"):
        loss.backward()
    assert c.grad is None


def test_backward_of_a_loss_computed_under_no_grad_raises():
    w = Tensor([1.0, 2.0])
    with ndl.no_grad():
        loss = (w * w).sum()
    with pytest.raises(RuntimeError, match=r"computed under no_grad\(\)"):
        loss.backward()


def test_grad_of_a_no_grad_output_raises_and_allow_unused_gives_zeros():
    w = Tensor([1.0, 2.0])
    with ndl.no_grad():
        out = (w * w).sum()
    with pytest.raises(RuntimeError, match=r"grad: the output .* does not require grad"):
        ndl.autograd.grad(out, w)
    np.testing.assert_array_equal(ndl.autograd.grad(out, w, allow_unused=True).numpy(), [0.0, 0.0])


def test_grad_refuses_an_input_that_does_not_require_grad():
    w, c = Tensor([1.0]), Tensor([2.0], requires_grad=False)
    with pytest.raises(RuntimeError, match=r"grad: input 1 does not require grad"):
        ndl.autograd.grad((w * c).sum(), [w, c])


def test_a_float32_leaf_gets_a_float32_gradient_from_a_float64_expression():
    x = Tensor(np.float32([1.0, 2.0]))
    scale = Tensor(np.float64([3.0, 4.0]), requires_grad=False)
    (x * scale).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    (g,) = ndl.autograd.grad(((x * scale) ** 2).sum(), [x], create_graph=True)
    assert g.dtype == np.float32 and ndl.autograd.grad(g.sum(), x).dtype == np.float32


# ---- integer tensors ---------------------------------------------------------------------------


@pytest.mark.parametrize("array", [[1, 2, 3], np.array([True, False]), np.uint8([7])])
def test_integer_and_bool_tensors_do_not_require_grad_by_default(array):
    assert not Tensor(array).requires_grad


def test_asking_an_integer_tensor_to_require_grad_is_an_error_naming_the_dtype():
    with pytest.raises(TypeError, match=r"Tensor: only floating-point tensors can require grad, got dtype int64"):
        Tensor([1, 2], requires_grad=True)


# ---- copies and in-place writes ----------------------------------------------------------------


def test_the_constructor_copies_a_tensors_storage():
    t = Tensor([1.0, 2.0])
    copy = Tensor(t)
    p = ndl.nn.Parameter(t)
    p.cached_data[0] = 5.0  # an in-place write to the parameter's storage
    assert copy.numpy()[0] == 1.0 and t.numpy()[0] == 1.0


def test_from_numpy_and_detach_still_share_storage():
    array = np.ones(2)
    assert np.shares_memory(Tensor.from_numpy(array).numpy(), array)
    t = Tensor(array)
    assert np.shares_memory(t.detach().numpy(), t.numpy())


def test_backward_through_a_graph_made_before_an_optimizer_step_raises():
    w = Tensor([1.0, 2.0])
    loss = (w * w).sum()
    loss.backward(create_graph=False)
    w.grad = Tensor([1.0, 1.0])
    ndl.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match=r"input \d of EWiseMul \(shape \(2,\)\) was modified in place after use"):
        loss.backward()


def test_backward_after_a_data_assignment_raises_and_a_new_graph_works():
    w = Tensor([1.0, 2.0])
    loss = (w * 3.0).sum() * (w * w).sum()
    w.data = Tensor([5.0, 5.0])
    with pytest.raises(RuntimeError, match=r"modified in place after use"):
        loss.backward()
    fresh = (w * w).sum()
    fresh.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [10.0, 10.0])


def test_a_rule_that_reads_nothing_written_still_runs_after_a_write_elsewhere():
    w, other = Tensor([1.0, 2.0]), Tensor([3.0])
    loss = (w * w).sum()
    other.data = Tensor([4.0])
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])


def test_assigning_the_data_of_a_recorded_node_makes_it_a_leaf():
    x = Tensor([1.0, 2.0])
    y = ndl.exp(x)
    stale = (y * 2.0).sum()
    y.data = Tensor([3.0, 4.0])
    assert y.op is None and y.inputs == ()
    with pytest.raises(RuntimeError, match=r"input 0 of MulScalar .* modified in place after use"):
        stale.backward()
    (y * 2.0).sum().backward()  # its rule would have paired exp's inputs with the new values
    np.testing.assert_array_equal(y.grad.numpy(), [2.0, 2.0])
    assert x.grad is None


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_make_const_refuses_to_make_an_integer_leaf_that_requires_grad(dtype):
    with pytest.raises(TypeError, match=f"only floating-point tensors can require grad, got dtype {dtype}"):
        Tensor.make_const(np.zeros(2, dtype=dtype), requires_grad=True)
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        ndl.init.ones(2, dtype=dtype, requires_grad=True)


@pytest.mark.parametrize("data, described", [(None, "NoneType"), ({"a": 1}, "dict"), (np.array(["a"]), "ndarray of dtype <U1")])
def test_the_constructor_refuses_data_that_is_not_numbers(data, described):
    with pytest.raises(TypeError, match=f"Tensor: expected numbers, got {described}"):
        Tensor(data)


def test_an_in_place_write_changes_no_class_attribute_of_the_node_types():
    # A class attribute write invalidates the interpreter's attribute caches for every node
    # (workload 5 lost 10% to one per optimizer write); the write clock is a module global.
    from needle.autograd import SavedTensor, Value

    snapshot = {cls: dict(vars(cls)) for cls in (Value, Tensor, SavedTensor)}
    x = Tensor(np.ones(3))
    x.data = Tensor(np.zeros(3))
    x.bump_version()
    assert {cls: dict(vars(cls)) for cls in snapshot} == snapshot
    assert autograd.last_write() == x._order
