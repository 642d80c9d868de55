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
        (lambda o: optim.ExponentialLR(o, gamma=-0.5), "ExponentialLR: invalid gamma -0.5: must be finite and > 0"),
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


def test_one_cycle_rises_then_anneals_linearly_by_hand():
    # initial 1/4, peak 1, final 1/40; the rise ends at step 0.3·10 − 1 = 2, the fall at step 9.
    opt = make_optimizer()
    scheduler = optim.OneCycleLR(opt, max_lr=1.0, total_steps=10, div_factor=4.0, final_div_factor=10.0,
                                 anneal_strategy="linear")
    expected = [0.25, 0.625, 1.0] + [1.0 - 0.975 * k / 7 for k in range(1, 8)]
    np.testing.assert_allclose(rates(scheduler, 10), expected, rtol=1e-12)


def test_one_cycle_cosine_midpoints_and_three_phases_by_hand():
    scheduler = optim.OneCycleLR(make_optimizer(), max_lr=1.0, total_steps=10, div_factor=4.0,
                                 final_div_factor=10.0, three_phase=True)
    # Rise over steps 0..2, back down over 2..4, then to 1/40 over 4..9; cos halfway is the mean.
    seen = rates(scheduler, 10)
    np.testing.assert_allclose(seen[:5], [0.25, 0.625, 1.0, 0.625, 0.25], rtol=1e-12)
    np.testing.assert_allclose(seen[9], 0.025, rtol=1e-12)
    with pytest.raises(ValueError, match="OneCycleLR: stepped 11 times, past total_steps 10"):
        scheduler.step()


def test_one_cycle_takes_epochs_and_a_rate_per_group():
    opt = optim.SGD([{"params": [nn.Parameter(np.ones(1))]}, {"params": [nn.Parameter(np.ones(1))]}])
    scheduler = optim.OneCycleLR(opt, max_lr=[1.0, 0.1], epochs=2, steps_per_epoch=5)
    assert scheduler.total_steps == 10
    assert scheduler.get_last_lr() == pytest.approx([0.04, 0.004], rel=1e-12)


@pytest.mark.parametrize("kwargs", [
    {"max_lr": 0.5, "total_steps": 20},
    {"max_lr": 0.1, "epochs": 3, "steps_per_epoch": 7, "anneal_strategy": "linear", "pct_start": 0.4},
    {"max_lr": 2.0, "total_steps": 15, "three_phase": True, "div_factor": 10.0, "final_div_factor": 100.0},
    {"max_lr": 1.0, "total_steps": 1},
])
def test_one_cycle_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours = optim.OneCycleLR(make_optimizer(), **kwargs)
    reference_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    theirs = torch.optim.lr_scheduler.OneCycleLR(reference_opt, cycle_momentum=False, **kwargs)
    for step in range(ours.total_steps):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
        if step < ours.total_steps - 1:
            reference_opt.step()
            ours.step()
            theirs.step()


def test_reduce_on_plateau_halves_after_patience_and_cools_down_by_hand():
    opt = make_optimizer(1.0)
    scheduler = optim.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1)
    seen = []
    for metric in [5, 4, 4, 4, 4, 3, 3, 3]:
        scheduler.step(metric)
        seen.append(opt.lr)
    assert seen == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25]
    assert scheduler.get_last_lr() == [0.25]


def test_reduce_on_plateau_stops_at_min_lr_and_takes_tensors():
    opt = make_optimizer(1.0)
    scheduler = optim.ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=0, min_lr=0.05)
    for metric in [1.0, 0.5, 0.5, 0.5]:
        scheduler.step(ndl.Tensor(metric))
    assert opt.lr == 0.05  # 1 → 0.1 → max(0.01, 0.05) = 0.05, then no change
    with pytest.raises(ValueError, match="ReduceLROnPlateau.step: the metric must be one number"):
        scheduler.step(np.ones(2))


def test_reduce_on_plateau_state_dict_resumes_the_counters():
    opt = make_optimizer(1.0)
    scheduler = optim.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    for metric in [3.0, 4.0, 4.0]:
        scheduler.step(metric)
    state = scheduler.state_dict()
    assert (state["best"], state["num_bad_epochs"]) == (3.0, 2)
    resumed = optim.ReduceLROnPlateau(make_optimizer(1.0), factor=0.5, patience=2)
    resumed.load_state_dict(state)
    resumed.step(4.0)
    assert resumed.optimizer.lr == 0.5


@pytest.mark.parametrize("mode, threshold_mode", [("min", "rel"), ("min", "abs"), ("max", "rel"), ("max", "abs")])
def test_reduce_on_plateau_matches_torch(mode, threshold_mode):
    torch = pytest.importorskip("torch")
    kwargs = {"mode": mode, "threshold_mode": threshold_mode, "factor": 0.5, "patience": 2, "cooldown": 1,
              "threshold": 0.05, "min_lr": [0.01, 0.002]}
    ours_opt = optim.SGD([{"params": [nn.Parameter(np.ones(1))]}, {"params": [nn.Parameter(np.ones(1))],
                                                                   "lr": 0.05}], lr=0.1)
    theirs_opt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)]},
                                  {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.05}], lr=0.1)
    ours = optim.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs)
    metrics = np.cumsum(np.random.default_rng(3).normal(0.0, 1.0, 60))
    for metric in metrics:
        ours.step(float(metric))
        theirs.step(float(metric))
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
    assert ours.get_last_lr() != [0.1, 0.05]  # the walk did trigger reductions


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda o: optim.OneCycleLR(o, max_lr=1.0), "OneCycleLR: invalid total_steps None: give total_steps"),
        (lambda o: optim.OneCycleLR(o, max_lr=1.0, total_steps=0), "OneCycleLR: invalid total_steps 0"),
        (lambda o: optim.OneCycleLR(o, max_lr=1.0, epochs=2, steps_per_epoch=1.5), "invalid steps_per_epoch 1.5"),
        (lambda o: optim.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=1.5), "invalid pct_start 1.5"),
        (lambda o: optim.OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="cosine"),
         "invalid anneal_strategy 'cosine'"),
        (lambda o: optim.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=5), r"invalid max_lr \[1.0, 2.0\]: must be one"),
        (lambda o: optim.OneCycleLR(o, max_lr=-1.0, total_steps=5), "invalid max_lr -1.0"),
        (lambda o: optim.OneCycleLR(o, max_lr=1.0, total_steps=5, div_factor=0), "invalid div_factor 0"),
        (lambda o: optim.ReduceLROnPlateau(o, mode="minimum"), "ReduceLROnPlateau: invalid mode 'minimum'"),
        (lambda o: optim.ReduceLROnPlateau(o, factor=1.0), r"invalid factor 1.0: must be in \[0, 1\)"),
        (lambda o: optim.ReduceLROnPlateau(o, patience=-1), "invalid patience -1"),
        (lambda o: optim.ReduceLROnPlateau(o, threshold_mode="relative"), "invalid threshold_mode"),
        (lambda o: optim.ReduceLROnPlateau(o, cooldown=0.5), "invalid cooldown 0.5"),
        (lambda o: optim.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]), r"invalid min_lr \[0.1, 0.2\]"),
    ],
)
def test_bad_one_cycle_and_plateau_arguments_are_rejected(make, message):
    with pytest.raises(ValueError, match=message):
        make(make_optimizer())


@pytest.mark.parametrize("make", [
    lambda opt: optim.ExponentialLR(opt, gamma=float("inf")),
    lambda opt: optim.StepLR(opt, step_size=1, gamma=float("inf")),
    lambda opt: optim.ExponentialLR(opt, gamma=float("nan")),
])
def test_an_infinite_or_nan_gamma_is_refused(make):
    with pytest.raises(ValueError, match="invalid gamma .*: must be finite and > 0"):
        make(optim.SGD([nn.Parameter(np.ones(2))], lr=0.1))


def test_a_schedule_that_outgrows_a_float_raises_instead_of_setting_an_infinite_rate():
    opt = optim.SGD([nn.Parameter(np.ones(2))], lr=0.1)
    scheduler = optim.ExponentialLR(opt, gamma=10.0)
    with pytest.raises(ValueError, match=r"ExponentialLR: the learning rate at step \d+ is not finite"):
        for _ in range(400):
            scheduler.step()
    assert np.isfinite(opt.lr)

