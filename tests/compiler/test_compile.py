"""ndl.compile: generated source, signatures, guards, random sources, state, and each pass counted."""
import time

import numpy as np
import pytest

import needle as ndl
from needle import autograd
from needle.compiler import TraceError


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def tensor(rng, *shape, requires_grad=False):
    return ndl.Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=requires_grad)


def replayed(step, *args):
    """Call `step` until it replays generated code (two traced calls first), then once more."""
    for _ in range(3):
        result = step(*args)
    assert step.replays >= 1 and step.eager_reasons == []
    return result


def test_source_is_one_numpy_call_a_line_with_shapes(rng):
    W = tensor(rng, 5, 3, requires_grad=True)
    step = ndl.compile(lambda x: ndl.tanh(x @ W).sum(), wrt=[W])
    x = tensor(rng, 4, 5)
    replayed(step, x)
    source = step.source
    assert source.startswith("def replay(x0):")
    assert "np.matmul(x0, s" in source and "np.tanh(" in source
    assert "# matmul: (4, 5) float32, (5, 3) float32 -> (4, 3) float32" in source
    assert "summation_0.compute(" in source  # no template: the op's own compute
    body = source.splitlines()[1:-1]
    assert all(line.count("np.") <= 1 or ".T" in line for line in body)


def test_gradients_equal_eager_on_new_inputs(rng):
    W = tensor(rng, 5, 3, requires_grad=True)
    b = tensor(rng, 3, requires_grad=True)

    def f(x):
        return (ndl.relu(x @ W + b) * 2.0).sum()

    step = ndl.compile(f, wrt=[W, b])
    for _ in range(5):
        x = tensor(rng, 4, 5)
        loss, grads = step(x)
        eager = f(x)
        expected = ndl.autograd.grad(eager, [W, b])
        assert loss.numpy() == eager.numpy()
        for g, e in zip(grads, expected):
            np.testing.assert_array_equal(g.numpy(), e.numpy())
    assert step.replays == 3


def test_a_new_batch_size_retraces_once(rng):
    step = ndl.compile(lambda x: (x * x).sum(axes=1))
    for n in (4, 4, 4, 7, 7, 7, 4):
        x = tensor(rng, n, 3)
        np.testing.assert_array_equal(step(x).numpy(), (x.numpy() * x.numpy()).sum(axis=1))
    assert step.retraces == 2


@pytest.mark.parametrize("read", [
    lambda t: t.item(), lambda t: t.numpy(), lambda t: bool(t), lambda t: float(t), lambda t: np.asarray(t),
])
def test_reading_a_traced_value_into_python_is_refused(rng, read):
    def f(x):
        total = x.sum()
        read(total)
        return total

    with pytest.raises(TraceError, match="compile: .* on a traced value"):
        ndl.compile(f)(tensor(rng, 3))


def test_random_draws_are_fresh_on_every_call_and_follow_the_eager_stream(rng):
    def f(x):
        return x * ndl.init.rand(*x.shape) + ndl.init.randn(*x.shape)

    x = tensor(rng, 3, 4)
    step = ndl.compile(f)
    np.random.seed(7)
    compiled = [step(x).numpy() for _ in range(5)]
    np.random.seed(7)
    eager = [f(x).numpy() for _ in range(5)]
    for got, want in zip(compiled, eager):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(compiled[3], compiled[4])
    assert step.replays == 3


def test_dead_code_is_dropped(rng):
    def f(x):
        ndl.exp(x) * 3.0  # nobody reads it
        return x * 2.0

    step = ndl.compile(f)
    replayed(step, tensor(rng, 3))
    assert step.stats["dead"] == 2
    assert "exp" not in step.source


def test_unused_adjoints_are_dropped(rng):
    W = tensor(rng, 3, 3, requires_grad=True)
    V = tensor(rng, 3, 3, requires_grad=True)
    step = ndl.compile(lambda x: ((x @ W) @ V).sum(), wrt=[V])  # W's adjoint is never needed
    replayed(step, tensor(rng, 2, 3))
    assert step.stats["dead"] >= 1
    assert step.source.count("np.matmul") == 3  # two forward, one for V's adjoint


def test_input_independent_subgraphs_are_folded(rng):
    def f(x):
        scale = ndl.exp(ndl.Tensor(np.ones(3, dtype=np.float32))) + 1.0
        return x * scale

    step = ndl.compile(f)
    x = tensor(rng, 3)
    out = replayed(step, x)
    np.testing.assert_array_equal(out.numpy(), x.numpy() * (np.exp(np.ones(3, np.float32)) + 1.0))
    assert step.stats["folded"] == 2
    assert "exp" not in step.source and "const_0" in step.source


def test_adjoints_accumulate_in_place(rng):
    W = tensor(rng, 4, 4, requires_grad=True)
    step = ndl.compile(lambda x: (ndl.tanh(x @ W) + ndl.exp(x @ W) + (x @ W) * 3.0).sum(), wrt=[W])
    replayed(step, tensor(rng, 2, 4))
    # the three uses' adjoints of W are summed in place
    assert any("np.add(" in line and "out=" in line for line in step.source.splitlines()[-6:])
    assert step.stats["inplace"] >= 3


def test_dead_buffers_are_reused_through_out(rng):
    W = tensor(rng, 8, 8, requires_grad=True)

    def f(x):
        for _ in range(4):
            x = ndl.tanh(x @ W)
        return x.sum()

    step = ndl.compile(f, wrt=[W])
    replayed(step, tensor(rng, 8, 8))
    assert step.stats["reused"] >= 3
    assert step.stats["inplace"] >= 4


def test_replay_makes_no_tensor(rng):
    """Without recipes (see test_rule_constants_are_made_again_by_their_rule) a replay is arrays only."""
    W = tensor(rng, 5, 3, requires_grad=True)
    step = ndl.compile(lambda x: ndl.sigmoid(ndl.tanh(x @ W)).sum(), wrt=[W])
    x = tensor(rng, 4, 5)
    replayed(step, x)
    entry = step._latest
    clock, count = autograd._clock, autograd.TENSOR_COUNTER
    entry.replay(x.numpy())
    assert autograd._clock == clock and autograd.TENSOR_COUNTER == count
    assert step.stats["recipes"] == 0


def test_rule_constants_are_made_again_by_their_rule(rng):
    """ReLU's mask is `x > 0` computed by its rule with NumPy: each replay makes it again, by the
    written-out call (checked against the rule on both traces)."""
    W = tensor(rng, 5, 3, requires_grad=True)
    step = ndl.compile(lambda x: ndl.relu(x @ W).sum(), wrt=[W])
    replayed(step, tensor(rng, 4, 5))
    assert step.stats["fast_recipes"] == 1 and "np.greater(" in step.source and "ReLU._mask" in step.source
    x = tensor(rng, 4, 5)
    _, (g,) = step(x)
    np.testing.assert_array_equal(g.numpy(), x.numpy().T @ (x.numpy() @ W.numpy() > 0).astype(np.float32))


def test_a_rule_without_a_written_out_form_is_called_on_replay(rng):
    """Max's extremes come from its rule (no fast form): the replay calls the rule itself."""
    step = ndl.compile(ndl.func.grad(lambda x: ndl.max(x, axes=1).sum()))
    for _ in range(4):
        x = tensor(rng, 3, 4)
        expected = (x.numpy() == x.numpy().max(axis=1, keepdims=True)).astype(np.float32)
        np.testing.assert_array_equal(step(x).numpy(), expected)
    assert step.stats["recipes"] == 1 and step.replays == 2


def test_parameters_are_read_afresh_on_each_call(rng):
    W = tensor(rng, 3, 2, requires_grad=True)
    step = ndl.compile(lambda x: x @ W)
    x = tensor(rng, 4, 3)
    replayed(step, x)
    W.data = W * 2.0
    np.testing.assert_array_equal(step(x).numpy(), x.numpy() @ W.numpy())


def test_state_written_by_the_call_is_written_by_each_replay(rng):
    W = tensor(rng, 3, 2, requires_grad=True)

    def sgd_step(x):
        loss = (x @ W).sum()
        (g,) = ndl.autograd.grad(loss, [W])
        W.data = W - g * 0.1
        return loss

    step = ndl.compile(sgd_step)
    x = tensor(rng, 4, 3)
    start = W.numpy().copy()
    for _ in range(4):
        step(x)
    expected = start - 4 * 0.1 * x.numpy().sum(axis=0)[:, None]
    np.testing.assert_allclose(W.numpy(), expected, rtol=1e-5)
    assert step.replays == 2


def test_a_gradient_transform_and_a_hessian_vector_product_compile(rng):
    def f(x):
        return (ndl.tanh(x) * x).sum()

    grad_f = ndl.compile(ndl.func.grad(f))
    hvp_f = ndl.compile(lambda x, v: ndl.func.hvp(f, (x,), (v,))[0])
    for _ in range(4):
        x, v = tensor(rng, 5), tensor(rng, 5)
        np.testing.assert_array_equal(grad_f(x).numpy(), ndl.func.grad(f)(x).numpy())
        np.testing.assert_allclose(hvp_f(x, v).numpy(), ndl.func.hvp(f, (x,), (v,))[0].numpy(), rtol=1e-6)
    assert grad_f.replays == 2 and hvp_f.replays == 2


def test_non_tensor_arguments_are_constants_of_the_signature(rng):
    step = ndl.compile(lambda x, k: x * k)
    x = tensor(rng, 3)
    for k in (2.0, 2.0, 3.0, 2.0):
        np.testing.assert_array_equal(step(x, k).numpy(), x.numpy() * np.float32(k))
    assert step.retraces == 2


def test_a_graph_of_a_hundred_thousand_nodes_compiles_in_seconds():
    def chain(x):
        for _ in range(50_000):
            x = x * 1.0001 + 0.001
        return x

    step = ndl.compile(chain)
    x = ndl.Tensor(np.ones(4, dtype=np.float32), requires_grad=False)
    start = time.perf_counter()
    step(x)
    elapsed = time.perf_counter() - start
    assert step.stats["traced_ops"] == 100_000
    assert elapsed < 30, f"tracing and generating 10^5 nodes took {elapsed:.1f} s"
