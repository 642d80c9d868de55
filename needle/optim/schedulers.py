"""Learning-rate schedules that set `optimizer.lr` from a step count, PyTorch-style.

Making a scheduler applies the rate for step 0; each `step()` (usually once per epoch) advances one
step. Rates come from closed forms of the step count, so they do not drift.
"""
import math

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR"]


class LRScheduler:
    """Base class: `base_lr` is the optimizer's rate at construction; subclasses give `lr_at(step)`."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0
        self._apply()

    def lr_at(self, step):
        raise NotImplementedError(f"{type(self).__name__}.lr_at is not defined")

    def step(self):
        """Advance one step and set the optimizer's rate."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self):
        """[the rate last set], a list as in PyTorch (one entry: needle has one parameter group)."""
        return [self._last_lr]

    def _apply(self):
        self._last_lr = self.lr_at(self.last_epoch)
        self.optimizer.lr = self._last_lr


def _require(owner, name, value, holds, rule):
    if not holds:
        raise ValueError(f"{owner}: invalid {name} {value!r}: {rule}")


class StepLR(LRScheduler):
    """lr = base_lr · gamma^⌊step / step_size⌋."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        _require("StepLR", "step_size", step_size,
                 isinstance(step_size, int) and step_size > 0, "must be a positive integer")
        _require("StepLR", "gamma", gamma, gamma > 0, "must be > 0")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, step):
        return self.base_lr * self.gamma ** (step // self.step_size)


class ExponentialLR(LRScheduler):
    """lr = base_lr · gamma^step: the rate shrinks by `gamma` at every step."""

    def __init__(self, optimizer, gamma):
        _require("ExponentialLR", "gamma", gamma, gamma > 0, "must be > 0")
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, step):
        return self.base_lr * self.gamma ** step


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr − eta_min)·(1 + cos(π·step / T_max)) / 2 (periodic past T_max)."""

    def __init__(self, optimizer, T_max, eta_min=0.0):
        _require("CosineAnnealingLR", "T_max", T_max,
                 isinstance(T_max, int) and T_max > 0, "must be a positive integer")
        _require("CosineAnnealingLR", "eta_min", eta_min, eta_min >= 0, "must be >= 0")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer)

    def lr_at(self, step):
        cosine = (1.0 + math.cos(math.pi * step / self.T_max)) / 2.0
        return self.eta_min + (self.base_lr - self.eta_min) * cosine


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

    def lr_at(self, step):
        progress = min(step, self.total_iters) / self.total_iters
        return self.base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)
