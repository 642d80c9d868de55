"""Module and Parameter: the building blocks of models, found by walking a module's attributes."""
import numpy as np

from ..autograd import Tensor

__all__ = ["Parameter", "Module"]


class Parameter(Tensor):
    """A Tensor that a Module owns and an optimizer updates; `requires_grad` True by default."""

    __slots__ = ()


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else str(name)


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


class Module:
    """A model part: Parameters, buffers and submodules held in attributes, and a `forward`.

    needle: `parameters()` walks the attributes in insertion order, entering Modules, dict values,
    lists and tuples; a Parameter or Module reachable twice is counted once.
    """

    training = True

    def __init__(self):
        self.training = True

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.forward is not defined")

    # ---- walking the module tree -------------------------------------------------------------

    def _walk(self):
        """(dotted name, member) for every Parameter and Module below this one, depth first, each once."""
        seen = {id(self)}
        stack = [iter(_members(vars(self), ""))]
        while stack:
            for name, member in stack[-1]:
                if id(member) in seen:
                    continue
                seen.add(id(member))
                yield name, member
                if isinstance(member, Module):
                    stack.append(iter(_members(vars(member), name)))
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

    def children(self):
        """The modules held directly by this one (through dicts, lists and tuples), in attribute order."""
        children, seen = [], set()
        for _, member in _members(vars(self), ""):
            if isinstance(member, Module) and id(member) not in seen:
                seen.add(id(member))
                children.append(member)
        return children

    def train(self, mode=True):
        """Set `training` on this module and every module inside it; returns the module."""
        # needle: no `modules()` method, since Sequential keeps its list in the attribute `modules`.
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self):
        """Evaluation mode (`training` False everywhere); returns the module."""
        return self.train(False)

    def zero_grad(self):
        """Set every parameter's `grad` to None."""
        for p in self.parameters():
            p.grad = None

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

    def load_state_dict(self, state_dict):
        """Copy the values of `state_dict` (Tensors or arrays) into the parameters and buffers.

        Everything is checked before anything is written: a missing or unexpected key or a shape
        mismatch raises ValueError and leaves the module unchanged. Values take the module's dtype.
        """
        owner = type(self).__name__
        targets = dict(self.named_parameters())
        buffers = dict(self.named_buffers())
        expected = list(targets) + list(buffers)
        missing = [key for key in expected if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets and key not in buffers]
        if missing or unexpected:
            raise ValueError(
                f"{owner}.load_state_dict: missing keys {missing}, unexpected keys {unexpected}"
            )
        arrays = {}
        for key in expected:
            current = targets[key] if key in targets else buffers[key]
            value = state_dict[key]
            array = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
            if array.shape != current.shape:
                raise ValueError(
                    f"{owner}.load_state_dict: {key!r} has shape {array.shape} in the state dict "
                    f"but {current.shape} in the module"
                )
            arrays[key] = np.array(array, dtype=current.dtype)
        modules = dict(self.named_modules())
        for key, array in arrays.items():
            if key in targets:
                targets[key].data = Tensor.make_const(array)
            else:
                module_name, _, name = key.rpartition(".")
                setattr(modules[module_name], name, Tensor.make_const(array))
