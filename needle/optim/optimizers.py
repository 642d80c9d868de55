"""Optimizers: SGD, Momentum, Nesterov, Adam, AdamW, RMSprop and Adagrad.

Each reads its hyperparameters from the parameter's group (`group["lr"]`, …), so every group may
have its own. State arrays (u, m, v, …) and the parameters' own storage are updated in place with
`out=`, as in PyTorch (an array taken earlier from `p.numpy()` sees the update). `p.grad` is never
changed, and a parameter keeps its dtype (float32 stays float32).
"""
import numpy as np

from .optimizer import Optimizer

__all__ = ["SGD", "Momentum", "Nesterov", "Adam", "AdamW", "RMSprop", "Adagrad"]


def _ema(average, value, decay, scratch):
    """average ← decay·average + (1 − decay)·value, in place; `scratch` may be `value` itself."""
    average *= decay
    np.multiply(value, 1.0 - decay, out=scratch)
    average += scratch


class SGD(Optimizer):
    """p ← p − lr·u with u ← momentum·u + (1 − momentum)·g and g = ∇ + weight_decay·p.

    needle: momentum averages the gradients (the (1 − momentum) factor), unlike PyTorch's u ← μu + g;
    with momentum 0 this is plain gradient descent and keeps no state. State `u`, from zeros.
    """

    hyperparameter_names = ("lr", "momentum", "weight_decay")
    state_names = ("u",)

    def __init__(self, params, lr=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    def keeps_state(self):
        return any(group["momentum"] != 0 for group in self.param_groups)

    def _update(self, p, param, grad, group):
        return _heavy_ball_step(self, p, param, grad, group, group["momentum"], 1.0)


def _heavy_ball_step(optimizer, p, param, grad, group, beta, correction):
    """u ← β·u + (1 − β)·g in place (g with coupled L2); returns the step lr·u / correction.

    With β = 0, u is g itself: no state is kept and the step is one multiplication.
    """
    (work,) = optimizer._work_arrays(p, param, 1)
    g = optimizer._coupled_gradient(param, grad, work, group["weight_decay"])
    if beta == 0:
        return np.multiply(g, group["lr"], out=work)
    u = optimizer._state("u", p, param)
    _ema(u, g, beta, work)
    np.multiply(u, group["lr"], out=work)
    if correction != 1.0:
        work /= correction
    return work


class Momentum(Optimizer):
    """Heavy ball: u ← β·u + (1 − β)·g, p ← p − lr·u, g = ∇ + weight_decay·p.

    With `unbiased`, the step is lr·u / (1 − β^t) at step t = 1, 2, … (u starts at 0, so the plain
    average is biased toward 0 early on). State `u`.
    """

    hyperparameter_names = ("lr", "beta", "weight_decay", "unbiased")
    state_names = ("u",)

    def __init__(self, params, lr=0.01, beta=0.9, weight_decay=0.0, unbiased=False):
        super().__init__(params, {"lr": lr, "beta": beta, "weight_decay": weight_decay, "unbiased": unbiased})

    def _update(self, p, param, grad, group):
        beta = group["beta"]
        correction = 1.0 - beta**self.t if group["unbiased"] else 1.0
        return _heavy_ball_step(self, p, param, grad, group, beta, correction)


class Nesterov(Optimizer):
    """Nesterov momentum: u ← β·u + (1 − β)·∇f(θ − lr·u), θ ← θ − lr·u, written without a look-ahead.

    The parameter holds the look-ahead point φ = θ − lr·u, where the model is evaluated, so the
    gradient it receives is ∇f(φ). Then φ' = θ' − lr·u' = θ − 2·lr·u' = φ + lr·u − 2·lr·u', i.e.
        u' = β·u + (1 − β)·∇f(φ),    φ' = φ − lr·(2u' − u).
    φ = θ at the start, since u starts at 0. Gradients include weight_decay·p. State `u`.
    """

    hyperparameter_names = ("lr", "beta", "weight_decay")
    state_names = ("u",)

    def __init__(self, params, lr=0.01, beta=0.9, weight_decay=0.0):
        super().__init__(params, {"lr": lr, "beta": beta, "weight_decay": weight_decay})

    def _update(self, p, param, grad, group):
        gradient_work, direction = self._work_arrays(p, param, 2)
        u = self._state("u", p, param)
        np.negative(u, out=direction)
        g = self._coupled_gradient(param, grad, gradient_work, group["weight_decay"])
        _ema(u, g, group["beta"], gradient_work)
        direction += u
        direction += u
        direction *= group["lr"]
        return direction


def _betas(owner, betas, beta1, beta2):
    """(β₁, β₂) from PyTorch's `betas` pair or the course's `beta1`, `beta2`; giving both is an error."""
    if betas is None:
        return (0.9 if beta1 is None else beta1), (0.999 if beta2 is None else beta2)
    if beta1 is not None or beta2 is not None:
        raise TypeError(f"{owner}: give betas or beta1/beta2, not both")
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{owner}: invalid betas {betas!r}: must be a pair (beta1, beta2)")
    return tuple(betas)


class Adam(Optimizer):
    """Adam with coupled L2: g = ∇ + weight_decay·p; m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²;
    p ← p − lr·m̂ / (√v̂ + eps) with m̂ = m / (1 − β₁^t), v̂ = v / (1 − β₂^t). State `t`, `m`, `v`.

    `betas=(β₁, β₂)` (PyTorch's spelling, also in a group dict) may replace `beta1` and `beta2`;
    `beta1`/`beta2` left as None mean the course's defaults, 0.9 and 0.999.
    """

    hyperparameter_names = ("lr", "beta1", "beta2", "eps", "weight_decay")
    state_names = ("m", "v")

    def __init__(self, params, lr=0.01, beta1=None, beta2=None, eps=1e-8, weight_decay=0.0, *, betas=None):
        beta1, beta2 = _betas(type(self).__name__, betas, beta1, beta2)
        super().__init__(
            params, {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay}
        )

    @property
    def betas(self):
        """(beta1, beta2), PyTorch's name for the pair."""
        return self.beta1, self.beta2

    def _group_values(self, group):
        if "betas" in group:
            betas = group.pop("betas")
            group["beta1"], group["beta2"] = _betas(
                type(self).__name__, betas, group.pop("beta1", None), group.pop("beta2", None)
            )
        return group

    def _gradient(self, param, grad, scratch, group):
        return self._coupled_gradient(param, grad, scratch, group["weight_decay"])

    def _decay(self, param, group):
        """Shrink the parameter in place before the step (AdamW's decoupled decay); Adam does not."""

    def _update(self, p, param, grad, group):
        first, second = self._work_arrays(p, param, 2)
        m = self._state("m", p, param)
        v = self._state("v", p, param)
        g = self._gradient(param, grad, first, group)
        _ema(m, g, group["beta1"], second)
        np.multiply(g, g, out=first)
        _ema(v, first, group["beta2"], first)
        np.divide(v, 1.0 - group["beta2"]**self.t, out=first)
        np.sqrt(first, out=first)
        first += group["eps"]
        np.divide(m, 1.0 - group["beta1"]**self.t, out=second)
        second *= group["lr"]
        second /= first
        self._decay(param, group)
        return second


class AdamW(Adam):
    """Adam with decoupled weight decay (PyTorch's convention): p ← p − lr·weight_decay·p, then the
    Adam step from the plain gradient. Defaults are PyTorch's (lr 0.001, weight_decay 0.01).
    """

    def __init__(self, params, lr=0.001, beta1=None, beta2=None, eps=1e-8, weight_decay=0.01, *, betas=None):
        super().__init__(params, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay, betas=betas)

    def _gradient(self, param, grad, scratch, group):
        return grad

    def _decay(self, param, group):
        param *= 1.0 - group["lr"] * group["weight_decay"]


class RMSprop(Optimizer):
    """PyTorch's RMSprop: g = ∇ + weight_decay·p; s ← α·s + (1 − α)·g²; d = √s + eps, or with
    `centered` d = √(s − ḡ²) + eps where ḡ ← α·ḡ + (1 − α)·g; then p ← p − lr·g / d, or with momentum
    b ← momentum·b + g / d and p ← p − lr·b. State `square_avg`, `grad_avg`, `momentum_buffer`.
    """

    hyperparameter_names = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")
    state_names = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                                  "momentum": momentum, "centered": centered})

    def _update(self, p, param, grad, group):
        gradient_work, denominator = self._work_arrays(p, param, 2)
        alpha = group["alpha"]
        g = self._coupled_gradient(param, grad, gradient_work, group["weight_decay"])
        square_avg = self._state("square_avg", p, param)
        square_avg *= alpha
        np.multiply(g, g, out=denominator)
        denominator *= 1.0 - alpha
        square_avg += denominator
        if group["centered"]:
            grad_avg = self._state("grad_avg", p, param)
            _ema(grad_avg, g, alpha, denominator)
            np.multiply(grad_avg, grad_avg, out=denominator)
            np.subtract(square_avg, denominator, out=denominator)
            np.sqrt(denominator, out=denominator)
        else:
            np.sqrt(square_avg, out=denominator)
        denominator += group["eps"]
        if group["momentum"] > 0:
            buffer = self._state("momentum_buffer", p, param)
            buffer *= group["momentum"]
            np.divide(g, denominator, out=denominator)
            buffer += denominator
            return np.multiply(buffer, group["lr"], out=denominator)
        np.divide(g, denominator, out=denominator)
        denominator *= group["lr"]
        return denominator


class Adagrad(Optimizer):
    """PyTorch's Adagrad: g = ∇ + weight_decay·p; s ← s + g² (s starts at initial_accumulator_value);
    p ← p − lr_t·g / (√s + eps) with lr_t = lr / (1 + (t − 1)·lr_decay). State `sum`.

    needle: t counts the optimizer's steps, as Adam's does; PyTorch counts each parameter's own steps,
    which differs only for a parameter that had no gradient at some step.
    """

    hyperparameter_names = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    state_names = ("sum",)

    def __init__(self, params, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value, "eps": eps})

    def _update(self, p, param, grad, group):
        gradient_work, denominator = self._work_arrays(p, param, 2)
        g = self._coupled_gradient(param, grad, gradient_work, group["weight_decay"])
        total = self._state("sum", p, param, fill=group["initial_accumulator_value"])
        np.multiply(g, g, out=denominator)
        total += denominator
        np.sqrt(total, out=denominator)
        denominator += group["eps"]
        np.divide(g, denominator, out=denominator)
        denominator *= group["lr"] / (1.0 + (self.t - 1) * group["lr_decay"])
        return denominator
