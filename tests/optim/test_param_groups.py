"""Parameter groups: per-group hyperparameters, `opt.lr` over groups, schedulers and saving."""
import numpy as np
import pytest

import needle as ndl
from needle import nn, optim


def parameter(*values):
    return nn.Parameter(np.array(values, dtype=np.float32))


def set_grads(*pairs):
    for p, g in pairs:
        p.grad = ndl.Tensor(np.array(g, dtype=np.float32), requires_grad=False)


def test_each_group_steps_with_its_own_lr_and_weight_decay():
    a, b = parameter(1.0), parameter(2.0)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5, "weight_decay": 0.5}], lr=0.1)
    set_grads((a, [1.0]), (b, [1.0]))
    opt.step()
    # a: 1 − 0.1·1 = 0.9; b: g = 1 + 0.5·2 = 2, 2 − 0.5·2 = 1.
    np.testing.assert_allclose([a.numpy()[0], b.numpy()[0]], [0.9, 1.0], rtol=1e-6)
    assert [group["lr"] for group in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["params"] == [a] and opt.param_groups[1]["params"] == [b]
    assert opt.params == [a, b] and opt.defaults == {"lr": 0.1, "momentum": 0.0, "weight_decay": 0.0}


def test_adam_groups_match_two_separate_optimizers():
    a, b = parameter(1.0, -2.0), parameter(0.5)
    a2, b2 = parameter(1.0, -2.0), parameter(0.5)
    grouped = optim.Adam([{"params": [a], "lr": 0.1}, {"params": [b], "betas": (0.5, 0.9)}], lr=0.01)
    separate = [optim.Adam([a2], lr=0.1), optim.Adam([b2], lr=0.01, beta1=0.5, beta2=0.9)]
    for g in ([0.3, -1.0], [2.0, 0.5]):
        set_grads((a, g), (b, g[:1]), (a2, g), (b2, g[:1]))
        grouped.step()
        for opt in separate:
            opt.step()
    np.testing.assert_array_equal(a.numpy(), a2.numpy())
    np.testing.assert_array_equal(b.numpy(), b2.numpy())
    assert grouped.param_groups[1]["beta1"] == 0.5 and "betas" not in grouped.param_groups[1]


def test_opt_lr_reads_the_shared_rate_and_writes_every_group():
    opt = optim.SGD([{"params": [parameter(1.0)]}, {"params": [parameter(1.0)], "lr": 0.5}], lr=0.1)
    with pytest.raises(AttributeError, match=r"SGD.lr: the 2 parameter groups differ \(\[0.1, 0.5\]\)"):
        opt.lr
    opt.lr = 0.2
    assert opt.lr == 0.2 and [group["lr"] for group in opt.param_groups] == [0.2, 0.2]
    with pytest.raises(ValueError, match="SGD: invalid lr -1"):
        opt.lr = -1
    assert opt.lr == 0.2


def test_a_parameter_in_two_groups_is_rejected():
    a, b = parameter(1.0), parameter(2.0)
    with pytest.raises(ValueError, match="SGD: group 1 parameter 1 is parameter 0 again"):
        optim.SGD([{"params": [a]}, {"params": [b, a]}])


@pytest.mark.parametrize(
    "groups, error, message",
    [
        ([{"params": [], "lr": 0.1}], ValueError, "SGD: parameter group 0 has an empty parameter list"),
        ([{"lr": 0.1}], TypeError, "SGD: parameter group 0 must be a dict with a 'params' entry"),
        ([{"params": [None]}], TypeError, "SGD: parameter 0 is a NoneType, not a Tensor"),
        ([{"params": [nn.Parameter(np.ones(1))], "lr_": 0.1}], TypeError, r"unknown keys \['lr_'\]"),
        ([{"params": [nn.Parameter(np.ones(1))], "lr": -0.1}], ValueError, "SGD: invalid lr -0.1"),
    ],
)
def test_bad_groups_are_rejected_naming_the_problem(groups, error, message):
    with pytest.raises(error, match=message):
        optim.SGD(groups)


def test_one_tensor_instead_of_a_list_is_rejected():
    with pytest.raises(TypeError, match="SGD: params must be an iterable"):
        optim.SGD(parameter(1.0))


def test_add_param_group_takes_the_defaults():
    a, b = parameter(1.0), parameter(2.0)
    opt = optim.Adam([a], lr=0.3, weight_decay=0.1)
    opt.add_param_group({"params": b, "eps": 1e-3})
    assert opt.params == [a, b]
    assert opt.param_groups[1] == {"params": [b], "lr": 0.3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-3,
                                   "weight_decay": 0.1}


@pytest.mark.parametrize("name, kwargs", [("StepLR", {"step_size": 2, "gamma": 0.5}),
                                          ("ExponentialLR", {"gamma": 0.5}),
                                          ("CosineAnnealingLR", {"T_max": 4}),
                                          ("LinearLR", {"start_factor": 0.25, "total_iters": 3})])
def test_schedulers_scale_each_group_from_its_own_base_rate(name, kwargs):
    opt = optim.SGD([{"params": [parameter(1.0)], "lr": 0.4}, {"params": [parameter(1.0)]}], lr=0.1)
    scheduler = getattr(optim, name)(opt, **kwargs)
    alone = getattr(optim, name)(optim.SGD([parameter(1.0)], lr=1.0), **kwargs)
    assert scheduler.base_lrs == [0.4, 0.1]
    for _ in range(6):
        factor = alone.get_last_lr()[0]
        assert scheduler.get_last_lr() == pytest.approx([0.4 * factor, 0.1 * factor], rel=1e-12)
        assert [group["lr"] for group in opt.param_groups] == scheduler.get_last_lr()
        scheduler.step()
        alone.step()


def test_schedulers_on_groups_match_torch():
    torch = pytest.importorskip("torch")
    ours = optim.SGD([{"params": [parameter(1.0)], "lr": 0.4}, {"params": [parameter(1.0)]}], lr=0.1)
    theirs = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.4},
                              {"params": [torch.zeros(1, requires_grad=True)]}], lr=0.1)
    pairs = [(optim.CosineAnnealingLR(ours, T_max=5, eta_min=0.01),
              torch.optim.lr_scheduler.CosineAnnealingLR(theirs, T_max=5, eta_min=0.01))]
    for _ in range(8):
        for mine, reference in pairs:
            assert mine.get_last_lr() == pytest.approx(reference.get_last_lr(), rel=1e-12)
            theirs.step()
            mine.step()
            reference.step()


def test_a_two_group_state_dict_round_trips_through_a_file(tmp_path):
    def build():
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        first, second = list(model.parameters())[:2], list(model.parameters())[2:]
        opt = optim.Adam([{"params": first, "lr": 0.05}, {"params": second, "weight_decay": 0.1}], lr=0.01)
        return model, opt

    x = ndl.Tensor(np.random.randn(8, 3).astype(np.float32), requires_grad=False)

    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            (model(x) ** 2).sum().backward()
            opt.step()

    model, opt = build()
    train(model, opt, 2)
    opt.param_groups[1]["lr"] = 0.02  # as a scheduler would
    state = opt.state_dict()
    assert [group["params"] for group in state["param_groups"]] == [[0, 1], [2, 3]]
    assert [group["lr"] for group in state["param_groups"]] == [0.05, 0.02]
    ndl.save({"model": model, "optimizer": opt}, tmp_path / "run.npz")
    train(model, opt, 2)

    resumed, resumed_opt = build()
    checkpoint = ndl.load(tmp_path / "run.npz")
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    assert [group["lr"] for group in resumed_opt.param_groups] == [0.05, 0.02]
    assert resumed_opt.param_groups[1]["weight_decay"] == 0.1
    train(resumed, resumed_opt, 2)
    for ours, theirs in zip(model.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_a_state_dict_with_other_groups_is_refused():
    a, b = parameter(1.0), parameter(2.0)
    saved = optim.SGD([{"params": [a]}, {"params": [b]}]).state_dict()
    with pytest.raises(ValueError, match="2 parameter groups saved, this optimizer has 1"):
        optim.SGD([a, b]).load_state_dict(saved)


def test_zero_grad_sets_none_or_fresh_zeros():
    a = parameter(1.0, 2.0)
    opt = optim.SGD([a])
    set_grads((a, [3.0, 4.0]))
    old = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is not old and a.grad.dtype == np.float32
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(old.numpy(), [3.0, 4.0])
    opt.zero_grad()
    assert a.grad is None


def test_a_course_style_subclass_with_its_own_step_still_works():
    class PlainSGD(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params)
            self.lr = lr

        def step(self):
            for p in self.params:
                p.data = ndl.Tensor(p.numpy() - self.lr * p.grad.numpy(), dtype="float32", requires_grad=False)

    a = parameter(1.0, 2.0)
    opt = PlainSGD([a], lr=0.5)
    set_grads((a, [1.0, 1.0]))
    opt.step()
    np.testing.assert_allclose(a.numpy(), [0.5, 1.5])
    assert opt.param_groups == [{"params": [a]}] and opt.lr == 0.5
