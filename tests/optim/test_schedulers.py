"""Learning-rate schedulers: closed forms, PyTorch's values, and argument checks."""
import math

import numpy as np
import pytest

import needle as ndl
from needle import nn, optim


def make_optimizer(lr=0.1):
    return optim.SGD([nn.Parameter(np.ones(2, dtype=np.float32))], lr=lr)


def rates(scheduler, steps):
    """The rate in force for steps 0..steps−1 (the scheduler steps once after each)."""
    seen = []
    for _ in range(steps):
        seen.append(scheduler.optimizer.lr)
        assert scheduler.get_last_lr() == [scheduler.optimizer.lr]
        scheduler.step()
    return seen


def test_step_lr_decays_every_step_size_steps():
    scheduler = optim.StepLR(make_optimizer(0.1), step_size=2, gamma=0.5)
    np.testing.assert_allclose(rates(scheduler, 6), [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


def test_exponential_lr_multiplies_the_rate_by_gamma_every_step():
    scheduler = optim.ExponentialLR(make_optimizer(0.2), gamma=0.5)
    np.testing.assert_allclose(rates(scheduler, 4), [0.2, 0.1, 0.05, 0.025])


def test_cosine_annealing_goes_from_the_base_rate_to_eta_min():
    scheduler = optim.CosineAnnealingLR(make_optimizer(0.1), T_max=4, eta_min=0.01)
    expected = [0.01 + 0.09 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)]
    np.testing.assert_allclose(rates(scheduler, 5), expected)
    assert expected[-1] == pytest.approx(0.01)


def test_linear_lr_warms_up_then_holds():
    scheduler = optim.LinearLR(make_optimizer(0.2), start_factor=0.25, end_factor=1.0, total_iters=3)
    np.testing.assert_allclose(rates(scheduler, 6), [0.05, 0.1, 0.15, 0.2, 0.2, 0.2])


def test_the_optimizer_steps_with_the_scheduled_rate():
    p = nn.Parameter(np.ones(1, dtype=np.float32))
    opt = optim.SGD([p], lr=1.0)
    scheduler = optim.LinearLR(opt, start_factor=0.5, total_iters=1)
    for _ in range(2):
        p.grad = ndl.Tensor(np.ones(1, dtype=np.float32), requires_grad=False)
        opt.step()
        scheduler.step()
    np.testing.assert_allclose(p.numpy(), [1.0 - 0.5 - 1.0])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda o: optim.StepLR(o, step_size=0), "StepLR: invalid step_size 0"),
        (lambda o: optim.StepLR(o, step_size=2, gamma=0.0), "StepLR: invalid gamma 0.0"),
        (lambda o: optim.ExponentialLR(o, gamma=-0.5), "ExponentialLR: invalid gamma -0.5: must be > 0"),
        (lambda o: optim.CosineAnnealingLR(o, T_max=2.5), "CosineAnnealingLR: invalid T_max 2.5"),
        (lambda o: optim.CosineAnnealingLR(o, T_max=3, eta_min=-1.0), "invalid eta_min -1.0"),
        (lambda o: optim.LinearLR(o, start_factor=0.0),
         r"LinearLR: invalid start_factor 0.0: must be in \(0, 1\]"),
        (lambda o: optim.LinearLR(o, end_factor=1.5), "LinearLR: invalid end_factor 1.5"),
        (lambda o: optim.LinearLR(o, total_iters=0), "LinearLR: invalid total_iters 0"),
    ],
)
def test_bad_arguments_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make(make_optimizer())


@pytest.mark.parametrize("name", ["StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR"])
def test_rates_match_torch(name):
    torch = pytest.importorskip("torch")
    kwargs = {"StepLR": {"step_size": 3, "gamma": 0.3}, "ExponentialLR": {"gamma": 0.8},
              "CosineAnnealingLR": {"T_max": 7, "eta_min": 0.001},
              "LinearLR": {"start_factor": 0.1, "end_factor": 0.9, "total_iters": 6}}[name]
    ours = getattr(optim, name)(make_optimizer(0.1), **kwargs)
    reference_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    theirs = getattr(torch.optim.lr_scheduler, name)(reference_opt, **kwargs)
    for _ in range(12):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-9, abs=1e-12)
        reference_opt.step()
        ours.step()
        theirs.step()
