"""The Optimizer base class: parameter groups, hyperparameter checks, the step loop and saving.

`Optimizer(params, defaults)` takes Tensors or PyTorch's group dicts {"params": [...], "lr": ...};
a group's missing hyperparameters come from `defaults` (the constructor's arguments). A step is
NumPy arithmetic on the detached arrays of `p` and `p.grad`, so it records no graph; parameters and
state arrays are updated in place with `out=`, as in PyTorch.
"""
import math
import numbers

import numpy as np

from ..autograd import Tensor

__all__ = ["Optimizer"]

# Allowed values of each hyperparameter: a test and the words for the error message.
_RULES = {
    "lr": (lambda x: 0 <= x < math.inf, "must be finite and >= 0"),
    "momentum": (lambda x: 0 <= x < 1, "must be in [0, 1)"),
    "beta": (lambda x: 0 <= x < 1, "must be in [0, 1)"),
    "beta1": (lambda x: 0 <= x < 1, "must be in [0, 1)"),
    "beta2": (lambda x: 0 <= x < 1, "must be in [0, 1)"),
    "alpha": (lambda x: 0 <= x <= 1, "must be in [0, 1]"),
    "eps": (lambda x: 0 < x < math.inf, "must be finite and > 0"),
    "weight_decay": (lambda x: 0 <= x < math.inf, "must be finite and >= 0"),
    "lr_decay": (lambda x: 0 <= x < math.inf, "must be finite and >= 0"),
    "initial_accumulator_value": (lambda x: 0 <= x < math.inf, "must be finite and >= 0"),
}
_FLAGS = ("unbiased", "centered")  # hyperparameters that are True or False


def _checked_hyperparameters(owner, values):
    """`values` with each one checked against its rule: floats, and bools for the flags."""
    checked = {}
    for name, value in values.items():
        if name in _FLAGS:
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{owner}: invalid {name} {value!r}: must be True or False")
            checked[name] = bool(value)
            continue
        test, rule = _RULES[name]
        if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)) or not test(value):
            raise ValueError(f"{owner}: invalid {name} {value!r}: {rule}")
        checked[name] = float(value)
    return checked


class _Hyperparameter:
    """`opt.<name>`: the value every group shares (read), or a new value for every group (write).

    needle: the course reads and writes `opt.lr`; PyTorch has only `param_groups`. When the groups
    disagree, reading raises rather than pick one.
    """

    def __init__(self, name):
        self.name = name

    def __get__(self, opt, owner=None):
        if opt is None:
            return self
        values = [group[self.name] for group in opt.param_groups]
        if any(value != values[0] for value in values):
            raise AttributeError(
                f"{type(opt).__name__}.{self.name}: the {len(values)} parameter groups differ ({values}); "
                f"read opt.param_groups[i][{self.name!r}]"
            )
        return values[0]

    def __set__(self, opt, value):
        (value,) = _checked_hyperparameters(type(opt).__name__, {self.name: value}).values()
        for group in opt.param_groups:
            group[self.name] = value


class Optimizer:
    """Base class: holds `param_groups` (and `params`, all of them in order), counts steps in `t`.

    Subclasses name their hyperparameters (`opt.lr` and friends read and write every group) and their
    per-parameter state (dicts keyed by parameter, e.g. `u`, holding detached Tensors) and implement
    `_update(p, param, grad, group)`. A course-style subclass that calls `super().__init__(params)`,
    keeps its own attributes and overrides `step` works too.
    """

    hyperparameter_names = ()
    state_names = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in cls.hyperparameter_names:
            if not isinstance(getattr(cls, name, None), _Hyperparameter):
                setattr(cls, name, _Hyperparameter(name))

    def __init__(self, params, defaults=None):
        owner = type(self).__name__
        self.defaults = _checked_hyperparameters(owner, defaults or {})
        self.param_groups = []
        self.params = []
        if isinstance(params, Tensor):
            raise TypeError(f"{owner}: params must be an iterable of Tensors or of group dicts, got one Tensor")
        params = list(params)
        if not params:
            raise ValueError(f"{owner}: got an empty parameter list")
        if all(isinstance(group, dict) for group in params):
            for group in params:
                self.add_param_group(group)
        else:
            self.add_param_group({"params": params})
        self.t = 0
        for name in self.state_names:
            setattr(self, name, {})
        self._work = {}

    def add_param_group(self, group):
        """Add {"params": [...], hyperparameter: value, ...}; missing values come from `defaults`."""
        owner = type(self).__name__
        index = len(self.param_groups)
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{owner}: parameter group {index} must be a dict with a 'params' entry, got {group!r}")
        values = self._group_values(dict(group))
        unknown = sorted(set(values) - {"params"} - set(self.hyperparameter_names))
        if unknown:
            raise TypeError(
                f"{owner}: parameter group {index} has unknown keys {unknown}; "
                f"expected params and {', '.join(self.hyperparameter_names)}"
            )
        params = values.pop("params")
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{owner}: parameter group {index} has an empty parameter list")
        where = {p: position for position, p in enumerate(self.params)}
        label = (lambda i: f"parameter {i}") if index == 0 else (lambda i: f"group {index} parameter {i}")
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{owner}: {label(i)} is a {type(p).__name__}, not a Tensor")
            if p in where:
                raise ValueError(
                    f"{owner}: {label(i)} is parameter {where[p]} again; "
                    "each parameter may appear once, in one group (it would be stepped twice)"
                )
            where[p] = len(self.params) + i
        hyperparameters = _checked_hyperparameters(owner, {**self.defaults, **values})
        self.param_groups.append({"params": params, **hyperparameters})
        self.params.extend(params)

    def keeps_state(self):
        """Whether a step keeps per-parameter state (momentum, moment estimates) with these settings."""
        return bool(self.state_names)

    def _group_values(self, group):
        """A group dict in the names this optimizer stores (Adam turns `betas` into beta1, beta2)."""
        return group

    def reset_grad(self):
        """Set every parameter's `grad` to None."""
        for p in self.params:
            p.grad = None

    def zero_grad(self, set_to_none=True):
        """PyTorch's name for `reset_grad`; with set_to_none=False each gradient becomes zeros instead.

        The zeros are a new tensor, not a write into the old gradient, which may belong to a graph.
        """
        if set_to_none:
            self.reset_grad()
            return
        for p in self.params:
            if p.grad is not None:
                p.grad = Tensor.make_const(np.zeros_like(p.grad.cached_data))

    def step(self):
        """One update of every parameter that has a gradient, in place; `t` counts the steps."""
        self.t += 1
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                param, grad = p.cached_data, p.grad.cached_data
                if grad.shape != param.shape:
                    raise ValueError(
                        f"{type(self).__name__}.step: a parameter of shape {param.shape} has a gradient of "
                        f"shape {grad.shape}"
                    )
                if type(param) is not np.ndarray or not param.flags.writeable:  # a scalar, read-only
                    param = p.cached_data = np.array(param)
                step = self._update(p, param, grad, group)
                if step is not None:
                    np.subtract(param, step, out=param)
                p.bump_version()  # graphs recorded before this step must not reuse p

    def _update(self, p, param, grad, group):
        """The step to subtract from `param` (or None, having written it); updates p's state in place."""
        raise NotImplementedError(f"{type(self).__name__}._update is not defined")

    def _state(self, name, p, param, fill=0.0):
        """The state array `name` of parameter p (`fill` at first), as a writable array."""
        table = getattr(self, name)
        if p not in table:
            table[p] = Tensor.make_const(np.full_like(param, fill))
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

    @staticmethod
    def _coupled_gradient(param, grad, scratch, weight_decay):
        """g = ∇ + weight_decay·p (coupled L2), in `scratch` when the decay is on."""
        if weight_decay == 0:
            return grad
        np.multiply(param, weight_decay, out=scratch)
        scratch += grad
        return scratch

    # ---- saving ------------------------------------------------------------------------------

    def state_dict(self):
        """{"param_groups": [{"params": [indices], name: value}], "t": steps, "state": {index: {name: copy}}}.

        Parameters are numbered in order across the groups, as in PyTorch.
        """
        groups, start = [], 0
        for group in self.param_groups:
            count = len(group["params"])
            values = {name: group[name] for name in self.hyperparameter_names}
            groups.append({"params": list(range(start, start + count)), **values})
            start += count
        state = {}
        for index, p in enumerate(self.params):
            entry = {
                name: Tensor.make_const(getattr(self, name)[p].numpy().copy())
                for name in self.state_names
                if p in getattr(self, name)
            }
            if entry:
                state[index] = entry
        return {"param_groups": groups, "t": self.t, "state": state}

    def load_state_dict(self, state_dict):
        """Restore what `state_dict()` saved; everything is checked before anything changes.

        A state dict from before parameter groups ({"hyperparameters", "t", "state"}) loads into an
        optimizer with one group.
        """
        owner = f"{type(self).__name__}.load_state_dict"
        state_dict = self._upgraded(owner, state_dict)
        groups = self._checked_groups(owner, state_dict["param_groups"])
        steps = state_dict["t"]
        if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 0:
            raise ValueError(f"{owner}: invalid step count t={steps!r}")
        restored = self._checked_state(owner, state_dict["state"])
        for group, values in zip(self.param_groups, groups):
            group.update(values)
        self.t = int(steps)
        for name, table in restored.items():
            setattr(self, name, table)

    def _upgraded(self, owner, state_dict):
        """`state_dict` in the current form, its keys checked; the old one-group form is converted."""
        if not isinstance(state_dict, dict):
            raise ValueError(f"{owner}: expected a dict, got a {type(state_dict).__name__}")
        if set(state_dict) == {"hyperparameters", "t", "state"}:
            if len(self.param_groups) != 1:
                raise ValueError(
                    f"{owner}: the state dict holds one set of hyperparameters (saved before parameter "
                    f"groups), this optimizer has {len(self.param_groups)} groups"
                )
            group = {"params": list(range(len(self.params))), **dict(state_dict["hyperparameters"])}
            return {"param_groups": [group], "t": state_dict["t"], "state": state_dict["state"]}
        if set(state_dict) != {"param_groups", "t", "state"}:
            raise ValueError(f"{owner}: expected keys param_groups, t, state; got {sorted(state_dict)}")
        return state_dict

    def _checked_groups(self, owner, saved_groups):
        """The saved groups' hyperparameters, checked against this optimizer's groups."""
        if not isinstance(saved_groups, (list, tuple)) or len(saved_groups) != len(self.param_groups):
            count = len(saved_groups) if isinstance(saved_groups, (list, tuple)) else saved_groups
            raise ValueError(f"{owner}: {count!r} parameter groups saved, this optimizer has {len(self.param_groups)}")
        checked, start = [], 0
        for index, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            expected = list(range(start, start + len(group["params"])))
            start += len(group["params"])
            values = dict(saved)
            if list(values.pop("params", None) or ()) != expected:
                raise ValueError(
                    f"{owner}: group {index} holds parameters {saved.get('params')!r}, "
                    f"this optimizer's group {index} holds {expected}"
                )
            if set(values) != set(self.hyperparameter_names):
                raise ValueError(
                    f"{owner}: group {index}'s hyperparameters {sorted(values)} differ from "
                    f"{type(self).__name__}'s {sorted(self.hyperparameter_names)}"
                )
            checked.append(_checked_hyperparameters(type(self).__name__, values))
        return checked

    def _checked_state(self, owner, entries):
        """{state name: {parameter: detached Tensor}} from the saved {index: {name: array}}."""
        restored = {name: {} for name in self.state_names}
        if not isinstance(entries, dict):
            raise ValueError(f"{owner}: state must be a dict {{parameter index: {{name: array}}}}, got a {type(entries).__name__}")
        for index, entry in entries.items():
            if not isinstance(entry, dict):
                raise ValueError(f"{owner}: the state of parameter {index!r} must be a dict, got a {type(entry).__name__}")
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
        return restored
