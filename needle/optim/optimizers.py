"""Optimizers: SGD, Momentum, Nesterov, Adam and AdamW over a list of parameters.

A step is NumPy arithmetic on the detached arrays of `p` and `p.grad`, so it records no graph.
State arrays (u, m, v) and the parameters' own storage are updated in place with `out=`, as in
PyTorch (an array taken earlier from `p.numpy()` sees the update). `p.grad` is never changed, and
a parameter keeps its dtype (float32 stays float32).
"""
import math
import numbers

import numpy as np

from ..autograd import Tensor

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "Adam", "AdamW"]

# Allowed values of each hyperparameter: a test and the words for the error message.
_RULES = {
    "lr": (lambda x: 0 <= x < math.inf, "must be finite and >= 0"),
    "momentum": (lambda x: 0 <= x < 1, "must be in [0, 1)"),
    "beta": (lambda x: 0 <= x < 1, "must be in [0, 1)"),
    "beta1": (lambda x: 0 <= x < 1, "must be in [0, 1)"),
    "beta2": (lambda x: 0 <= x < 1, "must be in [0, 1)"),
    "eps": (lambda x: 0 < x < math.inf, "must be finite and > 0"),
    "weight_decay": (lambda x: 0 <= x < math.inf, "must be finite and >= 0"),
}


def _ema(average, value, decay, scratch):
    """average ← decay·average + (1 − decay)·value, in place; `scratch` may be `value` itself."""
    average *= decay
    np.multiply(value, 1.0 - decay, out=scratch)
    average += scratch


class Optimizer:
    """Base class: holds `params`, counts steps in `t`, and saves hyperparameters and state.

    Subclasses name their hyperparameters (attributes, e.g. `lr`) and their per-parameter state
    (dicts keyed by parameter, e.g. `u`, holding detached Tensors) and implement `_update`.
    """

    hyperparameter_names = ()
    state_names = ()

    def __init__(self, params):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        first_index = {}
        for index, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: parameter {index} is a {type(p).__name__}, not a Tensor")
            if first_index.setdefault(p, index) != index:
                raise ValueError(
                    f"{type(self).__name__}: parameter {index} is parameter {first_index[p]} again; "
                    "each parameter may appear once (it would be stepped twice)"
                )
        self.t = 0
        for name in self.state_names:
            setattr(self, name, {})
        self._work = {}

    def _set_hyperparameters(self, values):
        """Check every value against its rule, then set them all as attributes."""
        owner = type(self).__name__
        for name, value in values.items():
            if name == "unbiased":
                if not isinstance(value, (bool, np.bool_)):
                    raise ValueError(f"{owner}: invalid unbiased {value!r}: must be True or False")
                continue
            test, rule = _RULES[name]
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or not test(value):
                raise ValueError(f"{owner}: invalid {name} {value!r}: {rule}")
        for name, value in values.items():
            setattr(self, name, bool(value) if name == "unbiased" else float(value))

    def reset_grad(self):
        """Set every parameter's `grad` to None."""
        for p in self.params:
            p.grad = None

    def zero_grad(self):
        """PyTorch's name for `reset_grad`."""
        self.reset_grad()

    def step(self):
        """One update of every parameter that has a gradient, in place; `t` counts the steps."""
        self.t += 1
        for p in self.params:
            if p.grad is None:
                continue
            param = p.cached_data
            if type(param) is not np.ndarray or not param.flags.writeable:  # a scalar, read-only
                param = p.cached_data = np.array(param)
            np.subtract(param, self._update(p, param, p.grad.cached_data), out=param)
            p.bump_version()  # graphs recorded before this step must not reuse p

    def _update(self, p, param, grad):
        """The step to subtract from `param` given its gradient; updates p's state in place."""
        raise NotImplementedError(f"{type(self).__name__}._update is not defined")

    def _state(self, name, p, param):
        """The state array `name` of parameter p (zeros at first), as a writable array."""
        table = getattr(self, name)
        if p not in table:
            table[p] = Tensor.make_const(np.zeros_like(param))
        array = table[p].cached_data
        if array.shape != param.shape:
            raise ValueError(
                f"{type(self).__name__}: state {name} has shape {array.shape} but the parameter "
                f"now has shape {param.shape}"
            )
        return array

    def _work_arrays(self, p, param, count):
        """`count` scratch arrays shaped like `param`, kept between steps (not state)."""
        work = self._work.get(p)
        if work is None or len(work) < count or work[0].shape != param.shape:
            work = self._work[p] = [np.empty_like(param) for _ in range(count)]
        return work

    def _coupled_gradient(self, param, grad, scratch):
        """g = ∇ + weight_decay·p (coupled L2), in `scratch` when the decay is on."""
        if self.weight_decay == 0:
            return grad
        np.multiply(param, self.weight_decay, out=scratch)
        scratch += grad
        return scratch

    # ---- saving ------------------------------------------------------------------------------

    def state_dict(self):
        """{"hyperparameters": {name: value}, "t": steps, "state": {param index: {name: Tensor copy}}}."""
        state = {}
        for index, p in enumerate(self.params):
            entry = {
                name: Tensor.make_const(getattr(self, name)[p].numpy().copy())
                for name in self.state_names
                if p in getattr(self, name)
            }
            if entry:
                state[index] = entry
        hyperparameters = {name: getattr(self, name) for name in self.hyperparameter_names}
        return {"hyperparameters": hyperparameters, "t": self.t, "state": state}

    def load_state_dict(self, state_dict):
        """Restore what `state_dict()` saved; everything is checked before anything changes."""
        owner = f"{type(self).__name__}.load_state_dict"
        if set(state_dict) != {"hyperparameters", "t", "state"}:
            raise ValueError(f"{owner}: expected keys hyperparameters, t, state; got {sorted(state_dict)}")
        hyperparameters = dict(state_dict["hyperparameters"])
        if set(hyperparameters) != set(self.hyperparameter_names):
            raise ValueError(
                f"{owner}: hyperparameters {sorted(hyperparameters)} differ from "
                f"{type(self).__name__}'s {sorted(self.hyperparameter_names)}"
            )
        steps = state_dict["t"]
        if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 0:
            raise ValueError(f"{owner}: invalid step count t={steps!r}")
        restored = {name: {} for name in self.state_names}
        for index, entry in state_dict["state"].items():
            if not isinstance(index, (int, np.integer)) or not 0 <= index < len(self.params):
                raise ValueError(f"{owner}: parameter index {index!r} out of range for {len(self.params)}")
            p = self.params[index]
            for name, value in entry.items():
                if name not in restored:
                    raise ValueError(f"{owner}: unknown state {name!r} for parameter {index}")
                array = np.array(value.numpy() if isinstance(value, Tensor) else value, dtype=p.dtype)
                if array.shape != p.shape:
                    raise ValueError(
                        f"{owner}: state {name} of parameter {index} has shape {array.shape}, "
                        f"the parameter {p.shape}"
                    )
                restored[name][p] = Tensor.make_const(array)
        self._set_hyperparameters(hyperparameters)
        self.t = int(steps)
        for name, table in restored.items():
            setattr(self, name, table)


class SGD(Optimizer):
    """p ← p − lr·u with u ← momentum·u + (1 − momentum)·g and g = ∇ + weight_decay·p.

    needle: momentum averages the gradients (the (1 − momentum) factor), unlike PyTorch's u ← μu + g;
    with momentum 0 this is plain gradient descent and keeps no state. State `u`, from zeros.
    """

    hyperparameter_names = ("lr", "momentum", "weight_decay")
    state_names = ("u",)

    def __init__(self, params, lr=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(params)
        self._set_hyperparameters({"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    def _update(self, p, param, grad):
        return _heavy_ball_step(self, p, param, grad, self.momentum, 1.0)


def _heavy_ball_step(optimizer, p, param, grad, beta, correction):
    """u ← β·u + (1 − β)·g in place (g with coupled L2); returns the step lr·u / correction.

    With β = 0, u is g itself: no state is kept and the step is one multiplication.
    """
    (work,) = optimizer._work_arrays(p, param, 1)
    if beta == 0:
        return np.multiply(optimizer._coupled_gradient(param, grad, work), optimizer.lr, out=work)
    u = optimizer._state("u", p, param)
    _ema(u, optimizer._coupled_gradient(param, grad, work), beta, work)
    np.multiply(u, optimizer.lr, out=work)
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
        super().__init__(params)
        self._set_hyperparameters(
            {"lr": lr, "beta": beta, "weight_decay": weight_decay, "unbiased": unbiased}
        )

    def _update(self, p, param, grad):
        correction = 1.0 - self.beta**self.t if self.unbiased else 1.0
        return _heavy_ball_step(self, p, param, grad, self.beta, correction)


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
        super().__init__(params)
        self._set_hyperparameters({"lr": lr, "beta": beta, "weight_decay": weight_decay})

    def _update(self, p, param, grad):
        gradient_work, direction = self._work_arrays(p, param, 2)
        u = self._state("u", p, param)
        np.negative(u, out=direction)
        _ema(u, self._coupled_gradient(param, grad, gradient_work), self.beta, gradient_work)
        direction += u
        direction += u
        direction *= self.lr
        return direction


class Adam(Optimizer):
    """Adam with coupled L2: g = ∇ + weight_decay·p; m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²;
    p ← p − lr·m̂ / (√v̂ + eps) with m̂ = m / (1 − β₁^t), v̂ = v / (1 − β₂^t). State `t`, `m`, `v`.
    """

    hyperparameter_names = ("lr", "beta1", "beta2", "eps", "weight_decay")
    state_names = ("m", "v")

    def __init__(self, params, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        super().__init__(params)
        self._set_hyperparameters(
            {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay}
        )

    def _gradient(self, param, grad, scratch):
        return self._coupled_gradient(param, grad, scratch)

    def _decay(self, param):
        """Shrink the parameter in place before the step (AdamW's decoupled decay); Adam does not."""

    def _update(self, p, param, grad):
        first, second = self._work_arrays(p, param, 2)
        m = self._state("m", p, param)
        v = self._state("v", p, param)
        g = self._gradient(param, grad, first)
        _ema(m, g, self.beta1, second)
        np.multiply(g, g, out=first)
        _ema(v, first, self.beta2, first)
        np.divide(v, 1.0 - self.beta2**self.t, out=first)
        np.sqrt(first, out=first)
        first += self.eps
        np.divide(m, 1.0 - self.beta1**self.t, out=second)
        second *= self.lr
        second /= first
        self._decay(param)
        return second


class AdamW(Adam):
    """Adam with decoupled weight decay (PyTorch's convention): p ← p − lr·weight_decay·p, then the
    Adam step from the plain gradient. Defaults are PyTorch's (lr 0.001, weight_decay 0.01).
    """

    def __init__(self, params, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)

    def _gradient(self, param, grad, scratch):
        return grad

    def _decay(self, param):
        param *= 1.0 - self.lr * self.weight_decay
