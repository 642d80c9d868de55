"""Optimizers against hand-computed steps, the defining recurrences, and PyTorch where conventions match."""
import numpy as np
import pytest

import needle as ndl
from needle import nn, optim


def trajectory(make_optimizer, start, grads):
    """Parameter values after each step when the gradients are `grads` (set by hand, no model)."""
    p = nn.Parameter(np.array(start, dtype=np.float32))
    opt = make_optimizer([p])
    values = []
    for g in grads:
        p.grad = ndl.Tensor(np.array(g, dtype=np.float32), requires_grad=False)
        opt.step()
        values.append(p.numpy().copy())
    return np.array(values)


# Each row: optimizer, start, gradients, and the values worked out by hand.
HAND_COMPUTED = {
    # u = 0.5u + 0.5g: u = 1, 2.5, 0.25; p = 1 − 0.1u: 0.9, 0.65, 0.625.
    "sgd_momentum": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.5), 1.0, [2.0, 4.0, -2.0],
                     [0.9, 0.65, 0.625]),
    # g = grad + 0.5p: 1 + 1 = 2, p = 1.8; 1 + 0.9 = 1.9, p = 1.61.
    "sgd_weight_decay": (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.5), 2.0, [1.0, 1.0],
                         [1.8, 1.61]),
    # u = 1, 2.5; steps 0.1u / (1 − 0.5^t) = 0.1 / 0.5 = 0.2, 0.25 / 0.75 = 1/3.
    "momentum_unbiased": (lambda ps: optim.Momentum(ps, lr=0.1, beta=0.5, unbiased=True), 1.0,
                          [2.0, 4.0], [0.8, 0.8 - 1 / 3]),
    # Without the correction it is SGD with momentum: 0.9, 0.65.
    "momentum": (lambda ps: optim.Momentum(ps, lr=0.1, beta=0.5), 1.0, [2.0, 4.0], [0.9, 0.65]),
    # m = 0.2, 0.28, −0.048; v = 0.004, 0.004996, 0.013991; m̂ = 2, 1.47368, −0.17712;
    # v̂ = 4, 2.49925, 4.66833; p −= 0.1·m̂ / (√v̂ + 1e-8): 0.9, 0.806782, 0.814980.
    "adam": (lambda ps: optim.Adam(ps, lr=0.1), 1.0, [2.0, 1.0, -3.0], [0.9, 0.806782, 0.814980]),
    # Coupled L2 folds 0.5p into the gradient: g = 2.5, then 1 + 0.45 = 1.45; m = 0.25, 0.37;
    # v = 0.00625, 0.00834625; m̂ = 2.5, 1.947368; v̂ = 6.25, 4.175213; p = 0.9, 0.804697.
    "adam_weight_decay": (lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.5), 1.0, [2.0, 1.0],
                          [0.9, 0.804697]),
    # p ← p(1 − 0.1·0.5) then the Adam step: 0.95 − 0.1 = 0.85; 0.8075 − 0.0932178 = 0.714282.
    "adamw": (lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.5), 1.0, [2.0, 1.0], [0.85, 0.714282]),
}


@pytest.mark.parametrize("name", list(HAND_COMPUTED))
def test_steps_match_hand_computed_values(name):
    make_optimizer, start, grads, expected = HAND_COMPUTED[name]
    np.testing.assert_allclose(trajectory(make_optimizer, start, grads), expected, rtol=1e-5)


def test_momentum_without_correction_is_sgd_with_momentum_bit_for_bit():
    grads = np.random.randn(6, 3)
    start = np.random.randn(3)
    sgd = trajectory(lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8, weight_decay=0.1), start, grads)
    heavy = trajectory(lambda ps: optim.Momentum(ps, lr=0.05, beta=0.8, weight_decay=0.1), start, grads)
    np.testing.assert_array_equal(sgd, heavy)


def test_nesterov_follows_its_definition_with_the_look_ahead_gradient():
    """u ← βu + (1 − β)∇f(θ − lr·u), θ ← θ − lr·u on f(θ) = ½Σ aθ²; the parameter is θ − lr·u."""
    curvature = np.array([1.0, 3.0, 0.5])
    lr, beta = 0.1, 0.7
    theta, u = np.array([1.0, -2.0, 0.5]), np.zeros(3)
    p = nn.Parameter(theta.astype(np.float32))
    opt = optim.Nesterov([p], lr=lr, beta=beta)
    for _ in range(5):
        u = beta * u + (1 - beta) * curvature * (theta - lr * u)
        theta = theta - lr * u
        p.grad = ndl.Tensor(curvature * p.numpy(), dtype="float32", requires_grad=False)
        opt.step()
        np.testing.assert_allclose(p.numpy(), theta - lr * u, rtol=1e-6)


def test_nesterov_two_steps_by_hand():
    # f = ½θ², lr 0.1, β 0.5, θ = 1: u = 0.5, θ = 0.95; look-ahead 0.9, u = 0.7, θ = 0.88.
    # The parameter holds θ − 0.1u: 0.9, then 0.81.
    p = nn.Parameter(np.array([1.0], dtype=np.float32))
    opt = optim.Nesterov([p], lr=0.1, beta=0.5)
    values = []
    for _ in range(2):
        p.grad = ndl.Tensor(p.numpy().copy(), requires_grad=False)
        opt.step()
        values.append(p.numpy()[0])
    np.testing.assert_allclose(values, [0.9, 0.81], rtol=1e-6)


def test_a_step_builds_no_graph_and_leaves_the_gradient_alone():
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.1)
    model(ndl.init.randn(4, 3)).sum().backward()
    grads = [(p.grad, p.grad.numpy().copy()) for p in model.parameters()]
    snapshots = [p.numpy() for p in model.parameters()]
    kept = [s.copy() for s in snapshots]
    opt.step()
    for p, (grad, grad_values), snapshot, old in zip(model.parameters(), grads, snapshots, kept):
        assert p.op is None and p.inputs == () and p.requires_grad
        assert p.dtype == np.float32
        assert p.grad is grad
        np.testing.assert_array_equal(grad.numpy(), grad_values)
        assert p.numpy() is snapshot  # updated in place, as in PyTorch: no new storage per step
        assert not np.array_equal(snapshot, old)


def test_steps_create_no_tensors_once_state_exists():
    model = nn.Linear(3, 2)
    model(ndl.init.randn(4, 3)).sum().backward()
    for opt in [optim.SGD(model.parameters(), momentum=0.9, weight_decay=0.1),
                optim.Nesterov(model.parameters(), weight_decay=0.1),
                optim.AdamW(model.parameters())]:
        opt.step()
        count = ndl.autograd.TENSOR_COUNTER
        opt.step()
        opt.step()
        assert ndl.autograd.TENSOR_COUNTER == count


def test_float32_parameters_stay_float32_with_float64_gradients():
    p = nn.Parameter(np.ones(3, dtype=np.float32))
    for opt in [optim.SGD([p], momentum=0.5, weight_decay=0.1), optim.Adam([p], weight_decay=0.1)]:
        p.grad = ndl.Tensor(np.ones(3, dtype=np.float64), requires_grad=False)
        opt.step()
        assert p.dtype == np.float32


@pytest.mark.parametrize("make", [lambda p: optim.SGD([p], lr=0.5), lambda p: optim.Adam([p])])
def test_a_parameter_holding_a_numpy_scalar_is_updated(make):
    p = nn.Parameter(np.float32(1.0))
    p.cached_data = (p * 2.0).cached_data  # a 0-d op result: a NumPy scalar, not an array
    p.grad = ndl.Tensor(np.float32(1.0), requires_grad=False)
    make(p).step()
    assert type(p.cached_data) is np.ndarray and p.dtype == np.float32 and p.numpy() < 2.0


def test_parameters_without_gradients_are_skipped():
    used, unused = nn.Parameter(np.ones(2, dtype=np.float32)), nn.Parameter(np.ones(2, dtype=np.float32))
    opt = optim.SGD([used, unused], lr=0.5)
    used.grad = ndl.Tensor(np.ones(2, dtype=np.float32), requires_grad=False)
    opt.step()
    np.testing.assert_array_equal(used.numpy(), [0.5, 0.5])
    np.testing.assert_array_equal(unused.numpy(), [1.0, 1.0])


def test_reset_grad_and_zero_grad_clear_gradients():
    model = nn.Linear(2, 2)
    opt = optim.SGD(model.parameters())
    for clear in (opt.reset_grad, opt.zero_grad):
        model(ndl.init.randn(3, 2)).sum().backward()
        clear()
        assert all(p.grad is None for p in model.parameters())


def test_an_empty_parameter_list_is_rejected():
    with pytest.raises(ValueError, match="Adam: got an empty parameter list"):
        optim.Adam(iter([]))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda ps: optim.SGD(ps, lr=-0.1), "SGD: invalid lr -0.1: must be finite and >= 0"),
        (lambda ps: optim.SGD(ps, lr="0.1"), "SGD: invalid lr '0.1'"),
        (lambda ps: optim.SGD(ps, momentum=1.0), r"SGD: invalid momentum 1.0: must be in \[0, 1\)"),
        (lambda ps: optim.SGD(ps, weight_decay=-1e-4), "SGD: invalid weight_decay -0.0001: must be finite and >= 0"),
        (lambda ps: optim.Momentum(ps, beta=-0.5), "Momentum: invalid beta -0.5"),
        (lambda ps: optim.Momentum(ps, unbiased="yes"), "Momentum: invalid unbiased 'yes'"),
        (lambda ps: optim.Nesterov(ps, beta=1.0), "Nesterov: invalid beta 1.0"),
        (lambda ps: optim.Adam(ps, beta1=1.0), "Adam: invalid beta1 1.0"),
        (lambda ps: optim.Adam(ps, beta2=-0.1), "Adam: invalid beta2 -0.1"),
        (lambda ps: optim.Adam(ps, eps=0.0), "Adam: invalid eps 0.0: must be finite and > 0"),
        (lambda ps: optim.SGD(ps, lr=float("inf")), "SGD: invalid lr inf: must be finite"),
        (lambda ps: optim.Adam(ps, eps=float("inf")), "Adam: invalid eps inf: must be finite"),
        (lambda ps: optim.AdamW(ps, weight_decay=float("inf")), "AdamW: invalid weight_decay inf"),
        (lambda ps: optim.Adam(ps, lr=float("nan")), "Adam: invalid lr nan"),
        (lambda ps: optim.AdamW(ps, weight_decay=-0.01), "AdamW: invalid weight_decay -0.01"),
    ],
)
def test_bad_hyperparameters_are_rejected_naming_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make([nn.Parameter(np.ones(2, dtype=np.float32))])


def test_a_parameter_listed_twice_is_rejected_instead_of_stepped_twice():
    p, q = nn.Parameter(np.ones(2, dtype=np.float32)), nn.Parameter(np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match=r"SGD: parameter 2 is parameter 0 again"):
        optim.SGD([p, q, p])


def test_a_parameter_that_is_not_a_tensor_is_rejected():
    with pytest.raises(TypeError, match=r"Adam: parameter 0 is a ndarray, not a Tensor"):
        optim.Adam([np.ones(2)])


@pytest.mark.parametrize("make", [optim.SGD, optim.Momentum, optim.Nesterov, optim.Adam, optim.AdamW])
def test_a_step_makes_graphs_recorded_before_it_refuse_another_backward(make):
    p = nn.Parameter(np.ones(2, dtype=np.float32))
    loss = (p * p).sum()
    loss.backward()
    make([p], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified in place after use"):
        loss.backward()
    (p * p).sum().backward()  # a graph recorded after the step is fine


def test_betas_is_an_alias_of_beta1_and_beta2():
    ps = [nn.Parameter(np.ones(2, dtype=np.float32))]
    for make in (optim.Adam, optim.AdamW):
        opt = make(ps, betas=(0.8, 0.95))
        assert (opt.beta1, opt.beta2) == (0.8, 0.95) and opt.betas == (0.8, 0.95)
        assert make(ps, beta2=0.9).betas == (0.9, 0.9)
        with pytest.raises(TypeError, match=f"{make.__name__}: give betas or beta1/beta2, not both"):
            make(ps, betas=(0.8, 0.95), beta1=0.8)
        with pytest.raises(ValueError, match=r"invalid betas 0.9: must be a pair"):
            make(ps, betas=0.9)
        with pytest.raises(ValueError, match=f"{make.__name__}: invalid beta2 1.0"):
            make(ps, betas=(0.9, 1.0))


def test_betas_and_beta1_give_the_same_steps():
    by_pair = trajectory(lambda ps: optim.Adam(ps, lr=0.1, betas=(0.5, 0.9)), 1.0, [2.0, 1.0, -3.0])
    by_name = trajectory(lambda ps: optim.Adam(ps, lr=0.1, beta1=0.5, beta2=0.9), 1.0, [2.0, 1.0, -3.0])
    np.testing.assert_array_equal(by_pair, by_name)


def test_defaults_follow_the_contract_and_pytorch():
    ps = [nn.Parameter(np.ones(2, dtype=np.float32))]
    adam, adamw, sgd = optim.Adam(ps), optim.AdamW(ps), optim.SGD(ps)
    assert (adam.lr, adam.beta1, adam.beta2, adam.eps, adam.weight_decay) == (0.01, 0.9, 0.999, 1e-8, 0.0)
    assert (adamw.lr, adamw.weight_decay) == (0.001, 0.01)
    assert (sgd.lr, sgd.momentum, sgd.weight_decay) == (0.01, 0.0, 0.0)


def tiny_mlp():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_matches_torch_where_conventions_agree(name):
    """SGD without momentum, Adam (coupled L2) and AdamW (decoupled) share PyTorch's conventions.

    SGD with momentum does not (needle averages: u ← μu + (1 − μ)g from u = 0), nor Nesterov.
    """
    torch = pytest.importorskip("torch")
    ours_factory = {
        "sgd": lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.01),
        "adam": lambda ps: optim.Adam(ps, lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.01),
        "adamw": lambda ps: optim.AdamW(ps, lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.1),
    }[name]
    theirs_factory = {
        "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1, weight_decay=0.01),
        "adam": lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01),
        "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    }[name]
    model = tiny_mlp()
    reference = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    pairs = []
    weights_and_biases = list(model.parameters())  # weight, bias of each Linear, in order
    for ours, theirs in zip(weights_and_biases, reference.parameters()):
        transposed = ours.ndim == 2 and theirs.ndim == 2  # needle's weight is (in, out)
        with torch.no_grad():
            theirs.copy_(torch.tensor(ours.numpy().T if transposed else ours.numpy().reshape(-1)))
        pairs.append((ours, theirs, transposed))
    opt, reference_opt = ours_factory(model.parameters()), theirs_factory(reference.parameters())
    x = np.random.randn(16, 4).astype(np.float32)
    y = np.random.randint(0, 3, size=16)
    for _ in range(5):
        opt.reset_grad()
        nn.SoftmaxLoss()(model(ndl.Tensor(x, requires_grad=False)), y).backward()
        opt.step()
        reference_opt.zero_grad()
        torch.nn.functional.cross_entropy(reference(torch.tensor(x)), torch.tensor(y)).backward()
        reference_opt.step()
        for ours, theirs, transposed in pairs:
            expected = theirs.detach().numpy()
            expected = expected.T if transposed else expected.reshape(1, -1)
            np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "make",
    [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
     lambda ps: optim.Momentum(ps, lr=0.1, beta=0.9, unbiased=True),
     lambda ps: optim.Nesterov(ps, lr=0.1, beta=0.9),
     lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.01),
     lambda ps: optim.AdamW(ps, lr=0.01)],
    ids=["SGD", "Momentum", "Nesterov", "Adam", "AdamW"],
)
def test_resuming_from_state_dicts_reproduces_training_bit_for_bit(make, tmp_path):
    x = ndl.Tensor(np.random.randn(16, 4).astype(np.float32), requires_grad=False)
    y = np.random.randint(0, 3, size=16)

    def train(model, opt, steps):
        for _ in range(steps):
            opt.reset_grad()
            nn.SoftmaxLoss()(model(x), y).backward()
            opt.step()

    model = tiny_mlp()
    opt = make(model.parameters())
    train(model, opt, 3)
    ndl.save({"model": model, "optimizer": opt, "epoch": 3}, tmp_path / "checkpoint.npz")
    train(model, opt, 2)

    checkpoint = ndl.load(tmp_path / "checkpoint.npz")
    resumed = tiny_mlp()
    resumed_opt = make(resumed.parameters())
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    assert checkpoint["epoch"] == 3 and resumed_opt.t == 3
    train(resumed, resumed_opt, 2)
    for ours, theirs in zip(model.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_optimizer_state_dict_holds_groups_steps_and_state():
    p = nn.Parameter(np.ones(2, dtype=np.float32))
    opt = optim.Adam([p, nn.Parameter(np.ones(3, dtype=np.float32))], lr=0.5)
    p.grad = ndl.Tensor(np.ones(2, dtype=np.float32), requires_grad=False)
    opt.step()
    state = opt.state_dict()
    assert state["param_groups"] == [
        {"params": [0, 1], "lr": 0.5, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    ]
    assert state["t"] == 1
    assert list(state["state"]) == [0] and sorted(state["state"][0]) == ["m", "v"]
    np.testing.assert_allclose(state["state"][0]["m"].numpy(), [0.1, 0.1], rtol=1e-6)
    p.grad = ndl.Tensor(np.ones(2, dtype=np.float32), requires_grad=False)
    opt.step()
    np.testing.assert_allclose(state["state"][0]["m"].numpy(), [0.1, 0.1], rtol=1e-6)  # a copy


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s["param_groups"][0].pop("eps"), "group 0's hyperparameters .* differ from Adam's"),
        (lambda s: s["param_groups"][0].update(beta1=2.0), "Adam: invalid beta1 2.0"),
        (lambda s: s["param_groups"][0].update(params=[0, 1]), r"group 0 holds parameters \[0, 1\], .* holds \[0\]"),
        (lambda s: s["param_groups"].append(dict(s["param_groups"][0])), "2 parameter groups saved, .* has 1"),
        (lambda s: s.update(t=-1), "invalid step count t=-1"),
        (lambda s: s["state"].update({5: {}}), "parameter index 5 out of range for 1"),
        (lambda s: s["state"][0].update(u=np.zeros(2)), "unknown state 'u' for parameter 0"),
        (lambda s: s["state"][0].update(m=np.zeros(3)), r"state m of parameter 0 has shape \(3,\)"),
        (lambda s: s.pop("t"), "expected keys param_groups, t, state"),
    ],
)
def test_optimizer_load_state_dict_rejects_mismatches_and_changes_nothing(change, message):
    p = nn.Parameter(np.ones(2, dtype=np.float32))
    opt = optim.Adam([p])
    p.grad = ndl.Tensor(np.ones(2, dtype=np.float32), requires_grad=False)
    opt.step()
    state = opt.state_dict()
    change(state)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(state)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"] and after["t"] == before["t"]
    np.testing.assert_array_equal(after["state"][0]["m"].numpy(), before["state"][0]["m"].numpy())


def test_a_state_dict_saved_before_parameter_groups_still_loads():
    p = nn.Parameter(np.ones(2, dtype=np.float32))
    opt = optim.Adam([p])
    old = {"hyperparameters": {"lr": 0.5, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1},
           "t": 4, "state": {0: {"m": np.full(2, 0.25), "v": np.full(2, 0.5)}}}
    opt.load_state_dict(old)
    assert opt.param_groups[0]["lr"] == 0.5 and opt.betas == (0.8, 0.99) and opt.t == 4
    np.testing.assert_array_equal(opt.m[p].numpy(), [0.25, 0.25])
    assert opt.m[p].dtype == np.float32
    two_groups = optim.Adam([{"params": [p]}, {"params": [nn.Parameter(np.ones(1, dtype=np.float32))]}])
    with pytest.raises(ValueError, match="saved before parameter groups.*has 2 groups"):
        two_groups.load_state_dict(old)


def test_a_gradient_of_another_shape_is_refused_not_broadcast():
    p = nn.Parameter(np.ones((2, 2), dtype=np.float32))
    p.grad = ndl.Tensor(np.ones((1, 2), dtype=np.float32))
    with pytest.raises(ValueError, match=r"SGD.step: a parameter of shape \(2, 2\) has a gradient of shape \(1, 2\)"):
        optim.SGD([p], lr=1.0).step()
    np.testing.assert_array_equal(p.numpy(), np.ones((2, 2)))


@pytest.mark.parametrize("state", [[1], {0: [1]}])
def test_load_state_dict_refuses_state_that_is_not_a_dict_naming_it(state):
    opt = optim.SGD([nn.Parameter(np.ones(2))])
    saved = {"hyperparameters": {"lr": 0.1, "momentum": 0.0, "weight_decay": 0.0}, "t": 0, "state": state}
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: (state|the state of parameter 0) must be a dict"):
        opt.load_state_dict(saved)

