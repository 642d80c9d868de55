"""Module and Parameter: the building blocks of models, found by walking a module's attributes."""
from collections import namedtuple

import numpy as np

from ..autograd import Tensor, as_tensor
from ..device import as_device

__all__ = ["Parameter", "Module", "IncompatibleKeys"]

# What `load_state_dict(..., strict=False)` returns, as PyTorch's `_IncompatibleKeys`.
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Parameter(Tensor):
    """A Tensor that a Module owns and an optimizer updates; `requires_grad` True by default."""

    __slots__ = ()

    @classmethod
    def initialized(cls, tensor):
        """A Parameter over the data of `tensor` itself: a layer's freshly initialised weights,
        which nothing else holds. `Parameter(tensor)` copies, as every constructor does, and that
        copy made building a layer 4% slower (workload 3 builds a model per call)."""
        return cls.make_const(tensor.cached_data, requires_grad=True)


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else str(name)


def _indent(text):
    """`text` with every line after the first indented by two spaces (a child's repr inside its parent's)."""
    return text.replace("\n", "\n  ")


def _members(value, prefix):
    """(dotted name, member) for each Parameter or Module inside `value`, through dicts, lists and tuples.

    Modules are yielded, not entered; names follow PyTorch ("modules.0.weight").
    """
    if isinstance(value, (Parameter, Module)):
        yield prefix, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _members(item, _join(prefix, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _members(item, _join(prefix, index))


def check_device_and_dtype(name, device, dtype):
    """Refuse a device that is not enabled or unknown, and a dtype that is not a floating NumPy type."""
    as_device(name, device)
    if dtype is None:
        return
    try:
        kind = np.dtype(dtype).kind
    except TypeError:
        raise TypeError(f"{name}: dtype {dtype!r} is not a NumPy dtype") from None
    if kind != "f":
        raise TypeError(f"{name}: parameters and activations need a floating dtype, got {np.dtype(dtype)}")


class Module:
    """A model part: Parameters, buffers and submodules held in attributes, and a `forward`.

    needle: `parameters()` walks the attributes in insertion order, entering Modules, dict values,
    lists and tuples; a Parameter or Module reachable twice is counted once.
    """

    training = True

    def __init__(self, *, device=None, dtype=None):
        # needle: every module takes the course's device= and dtype=; one without parameters
        # checks them (an enabled device, a floating dtype) and keeps nothing.
        self.training = True
        if device is not None or dtype is not None:
            check_device_and_dtype(type(self).__name__, device, dtype)

    def __setattr__(self, name, value):
        # A Parameter is replaced by a Tensor (a Parameter, or a plain Tensor to differentiate the
        # layer as a function of it) or None, never silently by an array or a number.
        if not isinstance(value, Tensor) and value is not None and isinstance(self.__dict__.get(name), Parameter):
            raise TypeError(
                f"{type(self).__name__}: cannot assign a {type(value).__name__} as parameter {name!r} "
                "(a Parameter or None expected; to change its values use `.data = ...`)"
            )
        super().__setattr__(name, value)

    def __call__(self, *args, **kwargs):
        # NumPy arrays are taken as constants, so layers may read `.shape` and `.ndim` as on a Tensor.
        for a in args:
            if isinstance(a, np.ndarray):
                name = type(self).__name__
                args = tuple(as_tensor(name, a) if isinstance(a, np.ndarray) else a for a in args)
                break
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.forward is not defined")

    # ---- walking the module tree -------------------------------------------------------------

    def _contents(self):
        """Where this module's members live, walked through dicts, lists and tuples: its attributes
        (a container module returns its items instead)."""
        return vars(self)

    def _walk(self):
        """(dotted name, member) for every Parameter and Module below this one, depth first, each once."""
        seen = {id(self)}
        stack = [iter(_members(self._contents(), ""))]
        while stack:
            for name, member in stack[-1]:
                if id(member) in seen:
                    continue
                seen.add(id(member))
                yield name, member
                if isinstance(member, Module):
                    stack.append(iter(_members(member._contents(), name)))
                break
            else:
                stack.pop()

    def named_parameters(self):
        """(dotted name, Parameter) pairs in attribute order."""
        return [(name, p) for name, p in self._walk() if isinstance(p, Parameter)]

    def parameters(self):
        """The Parameters of this module and its submodules, in attribute order."""
        return [p for _, p in self.named_parameters()]

    def named_modules(self):
        """(dotted name, Module) for this module ("") and every module inside it, depth first."""
        return [("", self)] + [(name, m) for name, m in self._walk() if isinstance(m, Module)]

    def modules(self):
        """This module and every module inside it, depth first, each once.

        needle: a Sequential's `modules` is the course's list of its layers; calling that list
        (`seq.modules()`) gives this.
        """
        return [m for _, m in self.named_modules()]

    def named_children(self):
        """(dotted name, Module) for the modules held directly by this one, each once, in attribute order."""
        children, seen = [], set()
        for name, member in _members(self._contents(), ""):
            if isinstance(member, Module) and id(member) not in seen:
                seen.add(id(member))
                children.append((name, member))
        return children

    def children(self):
        """The modules held directly by this one (through dicts, lists and tuples), in attribute order."""
        return [m for _, m in self.named_children()]

    def apply(self, fn):
        """Call `fn(module)` on every submodule (children first, as PyTorch), then on this one; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def train(self, mode=True):
        """Set `training` on this module and every module inside it; returns the module."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self):
        """Evaluation mode (`training` False everywhere); returns the module."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Set every parameter's `grad` to None (or to zeros with `set_to_none=False`)."""
        for p in self.parameters():
            p.grad = None if set_to_none or p.grad is None else Tensor.make_const(np.zeros(p.shape, p.dtype))

    def requires_grad_(self, requires_grad=True):
        """Set `requires_grad` on every parameter (False freezes them); returns the module."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def num_parameters(self):
        """The number of entries in all parameters together (a shared parameter counts once)."""
        return sum(int(np.prod(p.shape)) for p in self.parameters())

    def to(self, dtype):
        """Cast every parameter (in place, with its grad) and buffer to the floating `dtype`; returns self."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}.to: only floating dtypes are allowed, got {dtype}")
        for p in self.parameters():
            if p.dtype != dtype:
                p.data = Tensor.make_const(p.numpy().astype(dtype))
            if p.grad is not None and p.grad.dtype != dtype:
                p.grad = Tensor.make_const(p.grad.numpy().astype(dtype))
        modules = dict(self.named_modules())
        for key, buffer in self.named_buffers():
            if buffer.dtype.kind == "f" and buffer.dtype != dtype:
                module_name, _, name = key.rpartition(".")
                setattr(modules[module_name], name, Tensor.make_const(buffer.numpy().astype(dtype)))
        return self

    # ---- printing ----------------------------------------------------------------------------

    def extra_repr(self):
        """The layer's arguments for its repr (`in_features=3, out_features=2, bias=True`); "" by default."""
        return ""

    def _repr_children(self):
        """(name, Module) lines of the repr: the direct children, repeats included."""
        return [(name, m) for name, m in _members(self._contents(), "") if isinstance(m, Module)]

    def __repr__(self):
        """The module tree as PyTorch prints it: `Name(extra)` for a leaf, children as `(name): repr`
        on indented lines. A module with no children and no `extra_repr` lists its parameters."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_indent(repr(m))}" for name, m in self._repr_children()]
        if not extra_lines and not child_lines:
            child_lines = [
                f"({name}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
                for name, p in _members(self._contents(), "") if isinstance(p, Parameter)
            ]
        lines = extra_lines + child_lines
        if len(extra_lines) == 1 and not child_lines:
            return f"{type(self).__name__}({extra_lines[0]})"
        if not lines:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    # ---- buffers and state -------------------------------------------------------------------

    def register_buffer(self, name, tensor):
        """Store `tensor` as attribute `name` and include it in the state dict (running statistics)."""
        names = self.__dict__.setdefault("_buffer_names", [])
        if name not in names:
            names.append(name)
        setattr(self, name, tensor)

    def named_buffers(self):
        """(dotted name, Tensor) for every registered buffer of this module and its submodules."""
        buffers = []
        for prefix, module in self.named_modules():
            for name in module.__dict__.get("_buffer_names", ()):
                buffers.append((_join(prefix, name), getattr(module, name)))
        return buffers

    def state_dict(self):
        """{dotted name: detached copy} of every parameter, then every buffer.

        Copies, so later training does not change a state dict kept as a checkpoint.
        """
        entries = self.named_parameters() + self.named_buffers()
        return {name: Tensor.make_const(tensor.numpy().copy()) for name, tensor in entries}

    def load_state_dict(self, state_dict, strict=True):
        """Copy the values of `state_dict` (Tensors or arrays) into the parameters and buffers.

        Everything is checked before anything is written, so a failure leaves the module unchanged.
        Missing or unexpected keys raise ValueError when `strict`, a shape mismatch always does; the
        message lists them as PyTorch's does. Values take the module's dtype. Returns
        `IncompatibleKeys(missing_keys, unexpected_keys)` (both empty when `strict`).
        """
        targets = dict(self.named_parameters())
        buffers = dict(self.named_buffers())
        expected = list(targets) + list(buffers)
        missing = [key for key in expected if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets and key not in buffers]
        problems = []
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        arrays = {}
        for key in expected:
            if key not in state_dict:
                continue
            current = targets[key] if key in targets else buffers[key]
            value = state_dict[key]
            array = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
            if array.shape != current.shape:
                problems.append(
                    f"size mismatch for {key}: copying a param with shape {array.shape} from checkpoint, "
                    f"the shape in current model is {current.shape}."
                )
            arrays[key] = np.array(array, dtype=current.dtype)
        if problems:
            raise ValueError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(problems)
            )
        for key, array in arrays.items():
            (targets[key] if key in targets else buffers[key]).data = Tensor.make_const(array)
        return IncompatibleKeys(missing, unexpected)
