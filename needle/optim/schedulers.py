"""Learning-rate schedules that set each parameter group's `lr`, PyTorch-style.

Making a scheduler applies the rate for step 0; each `step()` (usually once per epoch) advances one
step. Rates come from closed forms of the step count, so they do not drift. Every group follows the
schedule from its own base rate (its `lr` when the scheduler was made), as PyTorch's `base_lrs`.
ReduceLROnPlateau instead steps on a metric: `step(val_loss)`.
"""
import math

import numpy as np

from ..autograd import Tensor

__all__ = [
    "LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "OneCycleLR",
    "ReduceLROnPlateau",
]


class LRScheduler:
    """Base class: `base_lrs` are the groups' rates at construction; subclasses give `lr_at(step, base_lr)`."""

    def __init__(self, optimizer, base_lrs=None):
        self.optimizer = optimizer
        self.base_lrs = [group["lr"] for group in optimizer.param_groups] if base_lrs is None else base_lrs
        self.last_epoch = 0
        self._apply()

    @property
    def base_lr(self):
        """The first group's base rate (all of them: `base_lrs`)."""
        return self.base_lrs[0]

    def lr_at(self, step, base_lr):
        raise NotImplementedError(f"{type(self).__name__}.lr_at is not defined")

    def step(self):
        """Advance one step and set every group's rate."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self):
        """[the rate last set, one per parameter group], as in PyTorch."""
        return list(self._last_lr)

    def state_dict(self):
        """The scheduler's counters and settings (everything but the optimizer), as in PyTorch."""
        return {name: value for name, value in vars(self).items() if name != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore what `state_dict()` saved; the groups' rates are set again from it."""
        unknown = sorted(set(state_dict) - set(vars(self)) - {"optimizer"})
        if unknown:
            raise ValueError(f"{type(self).__name__}.load_state_dict: unknown entries {unknown}")
        self.__dict__.update(state_dict)
        self._set(self._last_lr)

    def _apply(self):
        try:
            rates = [float(self.lr_at(self.last_epoch, base)) for base in self.base_lrs]
        except OverflowError:
            rates = [math.inf]
        if not all(math.isfinite(lr) for lr in rates):
            raise ValueError(
                f"{type(self).__name__}: the learning rate at step {self.last_epoch} is not finite "
                f"(from base rates {self.base_lrs}); the schedule has grown past what a float holds"
            )
        self._set(rates)

    def _set(self, rates):
        self._last_lr = list(rates)
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr


def _require(owner, name, value, holds, rule):
    if not holds:
        raise ValueError(f"{owner}: invalid {name} {value!r}: {rule}")


def _positive_finite(value):
    return isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool) and 0 < value < math.inf


class StepLR(LRScheduler):
    """lr = base_lr · gamma^⌊step / step_size⌋."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        _require("StepLR", "step_size", step_size,
                 isinstance(step_size, int) and step_size > 0, "must be a positive integer")
        _require("StepLR", "gamma", gamma, _positive_finite(gamma), "must be finite and > 0")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, step, base_lr):
        return base_lr * self.gamma ** (step // self.step_size)


class ExponentialLR(LRScheduler):
    """lr = base_lr · gamma^step: the rate shrinks by `gamma` at every step."""

    def __init__(self, optimizer, gamma):
        _require("ExponentialLR", "gamma", gamma, _positive_finite(gamma), "must be finite and > 0")
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, step, base_lr):
        return base_lr * self.gamma ** step


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr − eta_min)·(1 + cos(π·step / T_max)) / 2 (periodic past T_max)."""

    def __init__(self, optimizer, T_max, eta_min=0.0):
        _require("CosineAnnealingLR", "T_max", T_max,
                 isinstance(T_max, int) and T_max > 0, "must be a positive integer")
        _require("CosineAnnealingLR", "eta_min", eta_min, eta_min >= 0, "must be >= 0")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer)

    def lr_at(self, step, base_lr):
        cosine = (1.0 + math.cos(math.pi * step / self.T_max)) / 2.0
        return self.eta_min + (base_lr - self.eta_min) * cosine


class LinearLR(LRScheduler):
    """Linear warm-up: lr = base_lr · (start + (end − start)·min(step, total_iters) / total_iters).

    PyTorch's defaults: start_factor 1/3, end_factor 1, total_iters 5; the rate then stays at
    base_lr · end_factor.
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
        _require("LinearLR", "start_factor", start_factor, 0 < start_factor <= 1, "must be in (0, 1]")
        _require("LinearLR", "end_factor", end_factor, 0 <= end_factor <= 1, "must be in [0, 1]")
        _require("LinearLR", "total_iters", total_iters,
                 isinstance(total_iters, int) and total_iters > 0, "must be a positive integer")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer)

    def lr_at(self, step, base_lr):
        progress = min(step, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (PyTorch's rates): from max_lr / div_factor up to max_lr over the first
    pct_start of total_steps, then down to max_lr / (div_factor · final_div_factor); with three_phase
    back to the start first, over as many steps as the rise. `anneal_strategy` 'cos' or 'linear'.

    Step once per batch. `max_lr` is one rate or one per group; the groups' own rates are replaced.
    needle: momentum is not cycled (PyTorch's cycle_momentum).
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", div_factor=25.0, final_div_factor=1e4, three_phase=False):
        owner = "OneCycleLR"
        if total_steps is None:
            _require(owner, "total_steps", total_steps, epochs is not None and steps_per_epoch is not None,
                     "give total_steps, or epochs and steps_per_epoch")
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                _require(owner, name, value, _positive_int(value), "must be a positive integer")
            total_steps = epochs * steps_per_epoch
        _require(owner, "total_steps", total_steps, _positive_int(total_steps), "must be a positive integer")
        _require(owner, "pct_start", pct_start, _real(pct_start) and 0 <= pct_start <= 1, "must be in [0, 1]")
        _require(owner, "anneal_strategy", anneal_strategy, anneal_strategy in ("cos", "linear"),
                 "must be 'cos' or 'linear'")
        for name, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            _require(owner, name, value, _real(value) and 0 < value < math.inf, "must be finite and > 0")
        _require(owner, "three_phase", three_phase, isinstance(three_phase, bool), "must be True or False")
        groups = len(optimizer.param_groups)
        max_lrs = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * groups
        _require(owner, "max_lr", max_lr, len(max_lrs) == groups, f"must be one rate or {groups} (one per group)")
        for value in max_lrs:
            _require(owner, "max_lr", value, _real(value) and 0 <= value < math.inf, "must be finite and >= 0")
        rise = float(pct_start * total_steps) - 1
        # Each phase: (its last step, its start and end as multiples of max_lr).
        start, low = 1.0 / div_factor, 1.0 / (div_factor * final_div_factor)
        if three_phase:
            self.phases = [(rise, start, 1.0), (2 * rise, 1.0, start), (total_steps - 1, start, low)]
        else:
            self.phases = [(rise, start, 1.0), (total_steps - 1, 1.0, low)]
        self.total_steps = total_steps
        self.anneal_strategy = anneal_strategy
        super().__init__(optimizer, base_lrs=[float(value) for value in max_lrs])

    def lr_at(self, step, base_lr):
        """base_lr is the group's max_lr; the phase holding `step` interpolates between its ends."""
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, past total_steps {self.total_steps}")
        phase_start = 0.0
        for index, (phase_end, begin, end) in enumerate(self.phases):
            if step <= phase_end or index == len(self.phases) - 1:
                progress = (step - phase_start) / (phase_end - phase_start) if phase_end != phase_start else 1.0
                if self.anneal_strategy == "cos":
                    factor = end + (begin - end) / 2.0 * (math.cos(math.pi * progress) + 1)
                else:
                    factor = (end - begin) * progress + begin
                return base_lr * factor
            phase_start = phase_end


class ReduceLROnPlateau(LRScheduler):
    """Multiply every group's rate by `factor` (not below its min_lr) once the metric passed to
    `step(metric)` has not improved for more than `patience` steps; then wait `cooldown` steps.

    Improvement, for mode 'min' and threshold_mode 'rel': metric < best·(1 − threshold); 'abs':
    metric < best − threshold (mode 'max' mirrors both). Changes smaller than `eps` are skipped.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0.0, eps=1e-8):
        owner = "ReduceLROnPlateau"
        _require(owner, "mode", mode, mode in ("min", "max"), "must be 'min' or 'max'")
        _require(owner, "factor", factor, _real(factor) and 0 <= factor < 1, "must be in [0, 1)")
        _require(owner, "patience", patience, _count(patience), "must be an integer >= 0")
        _require(owner, "threshold", threshold, _real(threshold) and 0 <= threshold < math.inf,
                 "must be finite and >= 0")
        _require(owner, "threshold_mode", threshold_mode, threshold_mode in ("rel", "abs"), "must be 'rel' or 'abs'")
        _require(owner, "cooldown", cooldown, _count(cooldown), "must be an integer >= 0")
        _require(owner, "eps", eps, _real(eps) and 0 <= eps < math.inf, "must be finite and >= 0")
        groups = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * groups
        _require(owner, "min_lr", min_lr, len(min_lrs) == groups, f"must be one rate or {groups} (one per group)")
        for value in min_lrs:
            _require(owner, "min_lr", value, _real(value) and 0 <= value < math.inf, "must be finite and >= 0")
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown, self.eps = threshold, threshold_mode, cooldown, eps
        self.min_lrs = [float(value) for value in min_lrs]
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        super().__init__(optimizer)

    def _apply(self):
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def step(self, metric):
        """Record one value of the metric (a number or a one-element Tensor) and reduce the rates if due."""
        current = _number("ReduceLROnPlateau.step", metric)
        self.last_epoch += 1
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                reduced = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - reduced > self.eps:
                    group["lr"] = reduced
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._apply()

    def _is_better(self, current):
        sign = 1.0 if self.mode == "min" else -1.0
        if self.threshold_mode == "rel":
            return sign * current < sign * self.best * (1.0 - sign * self.threshold)
        return sign * current < sign * self.best - self.threshold


def _real(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _positive_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def _count(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0


def _number(owner, metric):
    """`metric` as a float: a number, or an array or Tensor of one element."""
    array = np.asarray(metric.numpy() if isinstance(metric, Tensor) else metric)
    if array.size != 1 or array.dtype.kind not in "biuf":
        raise ValueError(f"{owner}: the metric must be one number, got {metric!r}")
    return float(array.reshape(()))
