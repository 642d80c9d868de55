"""Every worked example and stated formula of hw_notes/, recomputed with needle.

Each `worked_example(NAME)` test reads the table marked `<!-- check: NAME -->` and requires every
figure to the digits printed (tests/test_hw_notes.py has the reader and fails on unmatched tables).
The remaining tests compare formulas stated without numbers with needle's autograd on random inputs.
"""
import math

import numpy as np
import pytest

import needle as ndl
from apps import simple_ml
from needle import autograd
from tests.test_hw_notes import assert_stated, by_key, worked_example
from tests import test_linalg_examples  # noqa: F401  (registers gaussian_process.md's worked examples)

# ---- autodiff.md: finite differences; the traces of f = ln x1 + x1·x2 − sin x2 at (2, 5) --------


def float64(value, requires_grad=True):
    return ndl.Tensor(value, dtype="float64", requires_grad=requires_grad)


@worked_example("finite_differences")
def test_finite_difference_errors_match_notes(rows):
    """Forward differences of exp at 0 are off by about h/2, central ones by about h²/6."""
    x = float64(0.0)
    exact = autograd.grad(ndl.exp(x), x).numpy()
    forward_errors, central_errors = [], []
    for row in rows:
        h = float(row["h"])
        forward = (ndl.exp(x + h) - ndl.exp(x)) / h
        central = (ndl.exp(x + h) - ndl.exp(x - h)) / (2 * h)
        forward_errors.append(forward.numpy() - exact)
        central_errors.append(central.numpy() - exact)
        assert_stated(forward_errors[-1], row["forward error"], f"forward error at h={h}")
        assert_stated(central_errors[-1], row["central error"], f"central error at h={h}")
        assert_stated(h / 2, row["h/2"], f"h/2 at h={h}")
        assert_stated(h * h / 6, row["h²/6"], f"h²/6 at h={h}")
    for i in range(1, len(rows)):
        shrink = float(rows[i - 1]["h"]) / float(rows[i]["h"])
        assert forward_errors[i - 1] / forward_errors[i] == pytest.approx(shrink, rel=0.1)
        assert central_errors[i - 1] / central_errors[i] == pytest.approx(shrink**2, rel=0.1)


def seed_function(x1, x2):
    return ndl.log(x1) + x1 * x2 - ndl.sin(x2)


def seed_trace():
    """The evaluation trace v1..v7 of f = ln x1 + x1·x2 − sin x2 at (2, 5), in float64."""
    v = {"v1": float64(2.0), "v2": float64(5.0)}
    v["v3"] = ndl.log(v["v1"])
    v["v4"] = v["v1"] * v["v2"]
    v["v5"] = ndl.sin(v["v2"])
    v["v6"] = v["v3"] + v["v4"]
    v["v7"] = v["v6"] - v["v5"]
    return v


@worked_example("seed_forward")
def test_seed_tangent_trace_matches_notes(rows):
    """One forward sweep seeded with (ẋ1, ẋ2) = (1, 0) gives every v_i and its tangent."""
    v = seed_trace()
    tangents = autograd.tangent_sweep([v["v7"]], {v["v1"]: float64(1.0), v["v2"]: float64(0.0)})
    for node, row in by_key(rows, "node", v, "seed_forward").items():
        assert_stated(v[node].numpy(), row["value"], f"{node}")
        assert_stated(tangents[v[node]].numpy(), row["tangent"], f"tangent of {node}")


@worked_example("seed_reverse")
def test_seed_adjoint_trace_matches_notes(rows):
    """One reverse sweep from y = v7 gives the adjoint of every v_i."""
    v = seed_trace()
    adjoints = dict(zip(v, autograd.grad(v["v7"], list(v.values()))))
    for node, row in by_key(rows, "node", v, "seed_reverse").items():
        assert_stated(adjoints[node].numpy(), row["adjoint"], f"adjoint of {node}")


@worked_example("seed_second_order")
def test_seed_second_derivatives_match_notes(rows):
    """Differentiating the recorded adjoints of the trace gives the Hessian entries."""
    v = seed_trace()
    x1, x2 = v["v1"], v["v2"]
    grad_x1, grad_x2 = autograd.grad(v["v7"], [x1, x2], create_graph=True)
    d11, d12 = autograd.grad(grad_x1, [x1, x2])
    computed = {"d2y/dx1dx1": d11, "d2y/dx1dx2": d12, "d2y/dx2dx2": autograd.grad(grad_x2, x2)}
    table = by_key(rows, "derivative", computed, "seed_second_order")
    for key, row in table.items():
        assert_stated(computed[key].numpy(), row["value"], key)
    # Forward-over-reverse (ndl.func.hvp) along x2: the Hessian column (d2y/dx1dx2, d2y/dx2dx2).
    column = ndl.func.hvp(seed_function, (float64(2.0), float64(5.0)), (float64(0.0), float64(1.0)))
    assert_stated(column[0].numpy(), table["d2y/dx1dx2"]["value"], "hvp, entry x1")
    assert_stated(column[1].numpy(), table["d2y/dx2dx2"]["value"], "hvp, entry x2")


def test_backward_records_adjoints_as_graph_nodes():
    """autodiff.md §5: after y.backward(), x1.grad is a recorded node that reaches back to x1."""
    v = seed_trace()
    v["v7"].backward()
    x1_grad = v["v1"].grad
    assert x1_grad.op is not None and x1_grad.requires_grad
    assert v["v1"] in autograd.find_topo_sort([x1_grad])


# ---- training.md ---------------------------------------------------------------------------------

SOFTMAX_X = np.array([[1.0, 0.0], [0.0, 2.0]], dtype=np.float32)  # training.md §1
SOFTMAX_Y = np.array([0, 2])
SOFTMAX_CLASSES = 3


def softmax_regression():
    """(mean loss, Θ) for the example of training.md §1, after loss.backward() from Θ = 0."""
    theta = ndl.Tensor(np.zeros((2, SOFTMAX_CLASSES), dtype=np.float32), requires_grad=True)
    logits = ndl.Tensor(SOFTMAX_X, requires_grad=False) @ theta
    loss = ndl.nn.SoftmaxLoss()(logits, ndl.Tensor(SOFTMAX_Y))
    loss.backward()
    return loss, theta


@worked_example("softmax_regression_loss")
def test_softmax_regression_loss_matches_notes(rows):
    """Θ = 0 gives uniform probabilities, so every example's loss is ln 3."""
    loss, _ = softmax_regression()
    row = by_key(rows, "quantity", ["mean loss"], "softmax_regression_loss")["mean loss"]
    assert_stated(loss.numpy(), row["value"], "mean loss")


@worked_example("softmax_regression_gradient")
def test_softmax_regression_gradient_matches_notes(rows):
    """Autograd's gradient and the closed form Xᵀ(Z − I_y)/m, both with needle, give the table."""
    _, theta = softmax_regression()
    X = ndl.Tensor(SOFTMAX_X, requires_grad=False)
    logits = X @ ndl.Tensor(np.zeros((2, SOFTMAX_CLASSES), dtype=np.float32))
    Z = ndl.exp(logits - ndl.logsumexp(logits, axes=1, keepdims=True).broadcast_to(logits.shape))
    I_y = ndl.init.one_hot(SOFTMAX_CLASSES, ndl.Tensor(SOFTMAX_Y))
    closed_form = ndl.transpose(X) @ (Z - I_y) / len(SOFTMAX_Y)
    keys = [f"feature {i}" for i in range(SOFTMAX_X.shape[1])]
    table = by_key(rows, "row of the gradient", keys, "softmax_regression_gradient")
    for feature, key in enumerate(keys):
        for j in range(SOFTMAX_CLASSES):
            stated = table[key][f"class {j}"]
            assert_stated(theta.grad.numpy()[feature, j], stated, f"autograd [{feature}, {j}]")
            assert_stated(closed_form.numpy()[feature, j], stated, f"closed form [{feature}, {j}]")


@worked_example("logsumexp")
def test_logsumexp_example_matches_notes(rows):
    """float32 z = (1000, 1001, 1002): the naive formula overflows, needle's logsumexp does not."""
    z = ndl.Tensor(np.array([1000.0, 1001.0, 1002.0], dtype=np.float32), requires_grad=True)
    with np.errstate(over="ignore"):
        naive = ndl.log(ndl.summation(ndl.exp(z)))
    stable = ndl.logsumexp(z)
    gradient = autograd.grad(stable, z).numpy()
    computed = {"naive log(sum(exp(z)))": naive.numpy(), "logsumexp(z)": stable.numpy()}
    computed.update({f"gradient, entry {i + 1}": gradient[i] for i in range(3)})
    for key, row in by_key(rows, "computation", computed, "logsumexp").items():
        assert_stated(computed[key], row["result"], key)
    assert stable.dtype == np.float32


def test_mlp_backprop_by_hand_matches_autograd():
    """training.md §3, L = 3: D_i = G_{i+1} ⊙ σ'(Z_i W_i), G_i = D_i W_iᵀ and ∇W_i = Z_iᵀ D_i."""
    rng = np.random.default_rng(0)
    m, sizes, classes = 8, [5, 7, 6], 4
    X = rng.standard_normal((m, sizes[0])).astype(np.float32)
    y = rng.integers(0, classes, size=m)
    dims = sizes + [classes]
    weights = [rng.standard_normal((dims[i], dims[i + 1])).astype(np.float32) for i in range(3)]

    tensors = [ndl.Tensor(w, requires_grad=True) for w in weights]
    out = ndl.Tensor(X, requires_grad=False)
    for i, W in enumerate(tensors):
        out = out @ W
        out = ndl.relu(out) if i < len(tensors) - 1 else out
    ndl.nn.SoftmaxLoss()(out, ndl.Tensor(y)).backward()

    Z = [X]
    for i, W in enumerate(weights):
        pre = Z[-1] @ W
        Z.append(np.maximum(pre, 0) if i < len(weights) - 1 else pre)
    S = np.exp(Z[-1] - Z[-1].max(axis=1, keepdims=True))
    S /= S.sum(axis=1, keepdims=True)
    G = (S - np.eye(classes, dtype=np.float32)[y]) / m
    for i in reversed(range(len(weights))):
        local = G * ((Z[i + 1] > 0) if i < len(weights) - 1 else 1.0)
        np.testing.assert_allclose(tensors[i].grad.numpy(), Z[i].T @ local, rtol=1e-4, atol=1e-6)
        G = local @ weights[i].T


def test_simple_ml_hand_derived_steps_match_autograd():
    """training.md §1, §3: a full-batch step of the NumPy epochs is W − lr·(needle's gradient)."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((10, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=10)
    lr = 0.5
    loss = ndl.nn.SoftmaxLoss()

    theta = rng.standard_normal((6, 3)).astype(np.float32)
    theta_tensor = ndl.Tensor(theta, requires_grad=True)
    loss(ndl.Tensor(X, requires_grad=False) @ theta_tensor, ndl.Tensor(y)).backward()
    simple_ml.softmax_regression_epoch(X, y, theta, lr=lr, batch=len(y))
    expected = theta_tensor.numpy() - lr * theta_tensor.grad.numpy()
    np.testing.assert_allclose(theta, expected, rtol=1e-5, atol=1e-6)

    W1, W2 = (rng.standard_normal(shape).astype(np.float32) for shape in [(6, 5), (5, 3)])
    W1_tensor, W2_tensor = ndl.Tensor(W1, requires_grad=True), ndl.Tensor(W2, requires_grad=True)
    hidden = ndl.relu(ndl.Tensor(X, requires_grad=False) @ W1_tensor)
    loss(hidden @ W2_tensor, ndl.Tensor(y)).backward()
    simple_ml.nn_epoch_numpy(X, y, W1, W2, lr=lr, batch=len(y))
    for updated, tensor in [(W1, W1_tensor), (W2, W2_tensor)]:
        expected = tensor.numpy() - lr * tensor.grad.numpy()
        np.testing.assert_allclose(updated, expected, rtol=1e-5, atol=1e-6)


LEARNING_RATE = 0.1  # training.md §4: f(p) = p², p0 = 1, α = 0.1


def run_optimizer(optimizer_class, steps, state_names, **kwargs):
    """Minimize p² from p = 1: per step, the gradient g the update uses, the state, and p after it.

    g includes weight_decay·p (coupled L2), except for AdamW, which decays p itself. A state the
    optimizer does not keep for p (plain SGD's u) is reported as "–".
    """
    p = ndl.nn.Parameter(np.array([1.0], dtype=np.float32))
    optimizer = optimizer_class([p], lr=LEARNING_RATE, **kwargs)
    coupled_decay = 0.0 if optimizer_class is ndl.optim.AdamW else kwargs.get("weight_decay", 0.0)
    trace = []
    for _ in range(steps):
        optimizer.reset_grad()
        (p * p).sum().backward()
        g = p.grad.numpy()[0] + coupled_decay * p.numpy()[0]
        optimizer.step()
        assert p.dtype == np.float32
        states = {name: getattr(optimizer, name) for name in state_names}
        snapshot = {name: state[p].numpy()[0] if p in state else "–" for name, state in states.items()}
        trace.append({"g": g, **snapshot, "p": p.numpy()[0]})
    return trace


def optimizer_settings(label):
    """'Momentum beta=0.9 unbiased=True' → (ndl.optim.Momentum, {'beta': 0.9, 'unbiased': True})."""
    name, *settings = label.split()
    booleans = {"True": True, "False": False}
    kwargs = {}
    for key, value in (setting.split("=") for setting in settings):
        kwargs[key] = booleans[value] if value in booleans else float(value)
    return getattr(ndl.optim, name), kwargs


def assert_optimizer_steps(rows, state_names):
    """Run each optimizer named in the table for its steps (1, 2, …) and compare every column."""
    for label in dict.fromkeys(row["optimizer"] for row in rows):
        optimizer_class, kwargs = optimizer_settings(label)
        own = [row for row in rows if row["optimizer"] == label]
        assert [int(row["step"]) for row in own] == list(range(1, len(own) + 1)), f"{label}: steps"
        trace = run_optimizer(optimizer_class, len(own), state_names, **kwargs)
        for row, computed in zip(own, trace):
            for column, value in computed.items():
                what = f"{label}, step {row['step']}: {column}"
                if isinstance(value, str) or row[column] == "–":
                    assert value == row[column], f"{what}: the notes state {row[column]}, needle {value}"
                else:
                    assert_stated(value, row[column], what)


@worked_example("sgd_steps")
def test_momentum_family_steps_match_notes(rows):
    """SGD (with weight decay, with momentum), unbiased Momentum and Nesterov on f(p) = p²."""
    assert_optimizer_steps(rows, ["u"])


@worked_example("adam_steps")
def test_adam_steps_match_notes(rows):
    """Adam (coupled L2) and AdamW (decoupled decay) on f(p) = p²."""
    assert_optimizer_steps(rows, ["m", "v"])


FAN_IN, FAN_OUT = 784, 100  # training.md §5


@worked_example("init_scales")
def test_init_scales_match_notes(rows):
    """Each stated scale equals its formula, and needle's draws fill ±bound or have that std."""
    formulas = {
        "xavier_uniform bound": math.sqrt(6 / (FAN_IN + FAN_OUT)),
        "xavier_normal std": math.sqrt(2 / (FAN_IN + FAN_OUT)),
        "kaiming_uniform bound": math.sqrt(2) * math.sqrt(3 / FAN_IN),
        "kaiming_normal std": math.sqrt(2) / math.sqrt(FAN_IN),
    }
    for key, row in by_key(rows, "initializer", formulas, "init_scales").items():
        function, kind = key.split()
        scale = formulas[key]
        assert_stated(scale, row["scale"], key)
        weights = getattr(ndl.init, function)(FAN_IN, FAN_OUT).numpy()
        assert weights.shape == (FAN_IN, FAN_OUT) and weights.dtype == np.float32
        if kind == "bound":
            assert np.abs(weights).max() <= scale
            assert np.abs(weights).max() >= 0.999 * scale
            assert weights.std() == pytest.approx(scale / math.sqrt(3), rel=0.02)
        else:
            assert weights.std() == pytest.approx(scale, rel=0.02)
        assert abs(weights.mean()) < 0.02 * scale


@worked_example("batchnorm")
def test_batchnorm_example_matches_notes(rows):
    """One feature, batch (0, 4), momentum 0.1: biased variance 4 in training, then the EMAs."""
    norm = ndl.nn.BatchNorm1d(1, eps=1e-5, momentum=0.1)
    train_out = norm(ndl.Tensor(np.array([[0.0], [4.0]], dtype=np.float32))).numpy()
    norm.eval()
    eval_out = norm(ndl.Tensor(np.array([[0.0]], dtype=np.float32))).numpy()
    computed = {
        "training output for x = 0": train_out[0, 0],
        "training output for x = 4": train_out[1, 0],
        "running mean": norm.running_mean.numpy()[0],
        "running var": norm.running_var.numpy()[0],
        "evaluation output for x = 0": eval_out[0, 0],
    }
    for key, row in by_key(rows, "quantity", computed, "batchnorm").items():
        assert_stated(computed[key], row["value"], key)


@worked_example("dropout")
def test_dropout_scales_match_notes(rows):
    """Training: each survivor is x/(1 − p), about a fraction p is dropped; eval: the identity."""
    x = ndl.Tensor(np.ones((100, 100), dtype=np.float32))
    for row in rows:
        p = float(row["p"])
        dropout = ndl.nn.Dropout(p)
        out = dropout(x).numpy()
        survivors = out[out != 0]
        assert np.all(survivors == survivors[0])
        assert_stated(survivors[0], row["scale of survivors"], f"Dropout({p}) survivor")
        assert 1 - survivors.size / out.size == pytest.approx(p, abs=0.03)
        dropout.eval()
        np.testing.assert_array_equal(dropout(x).numpy(), x.numpy())


@pytest.mark.parametrize("layer, axis", [("LayerNorm1d", 1), ("BatchNorm1d", 0)])
def test_normalization_gradient_formula_matches_autograd(layer, axis):
    """training.md §6: x̄ = (x̂̄ − mean(x̂̄) − x̂·mean(x̂̄·x̂)) / s along the normalized axis."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    weight = rng.uniform(0.5, 2.0, size=4).astype(np.float32)
    out_grad = rng.standard_normal((6, 4)).astype(np.float32)
    norm = getattr(ndl.nn, layer)(4)
    norm.weight.data = ndl.Tensor(weight)
    x_tensor = ndl.Tensor(x, requires_grad=True)
    norm(x_tensor).backward(ndl.Tensor(out_grad))

    centered = x - x.mean(axis=axis, keepdims=True)
    s = np.sqrt((centered**2).mean(axis=axis, keepdims=True) + norm.eps)
    x_hat = centered / s
    x_hat_grad = out_grad * weight
    expected = (
        x_hat_grad - x_hat_grad.mean(axis=axis, keepdims=True)
        - x_hat * (x_hat_grad * x_hat).mean(axis=axis, keepdims=True)
    ) / s
    np.testing.assert_allclose(x_tensor.grad.numpy(), expected, rtol=1e-4, atol=1e-5)
