"""Layers without normalisation: affine maps, activations, containers and dropout."""
import math
import weakref

import numpy as np

from .. import init, ops
from . import functional as F
from .module import Module, Parameter

__all__ = [
    "Identity", "Linear", "Flatten", "ReLU", "Tanh", "Sigmoid", "Sequential", "Residual", "Dropout",
]


class Identity(Module):
    """y = x."""

    def forward(self, x):
        return x


class Linear(Module):
    """y = x W + b: (..., in_features) → (..., out_features); W is (in, out), b is (1, out).

    needle: the weight is drawn first, kaiming_uniform(in, out); then the bias, kaiming_uniform(out, 1)
    reshaped to (1, out). Nothing else draws from the RNG.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype="float32"):
        super().__init__(device=device, dtype=dtype)
        for name, size in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"Linear: {name} must be a positive integer, got {size!r}")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter.initialized(
            init.kaiming_uniform(in_features, out_features, device=device, dtype=dtype)
        )
        self.bias = None
        if bias:
            drawn = init.kaiming_uniform(out_features, 1, device=device, dtype=dtype)
            self.bias = Parameter.initialized(drawn.reshape((1, out_features)))

    def forward(self, x):
        """x (..., in) -> (..., out): the leading axes are folded into the rows of one product
        (`batch_by_matrix` in ops/linalg.py)."""
        shape = x.shape
        if shape[-1:] != (self.in_features,):
            raise ValueError(
                f"Linear: input of shape {shape} does not end in in_features={self.in_features}"
            )
        if self.bias is None:
            return x @ self.weight
        bias = self.bias
        # needle: the bias may have been replaced through `.data` by an (out,) tensor; the fused
        # op takes (out,) or (1, out), and a single example needs (out,).
        if len(shape) == 1 and bias.shape != (self.out_features,):
            bias = bias.reshape((self.out_features,))
        return ops.linear(x, self.weight, bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """(B, d1, d2, …) → (B, d1·d2·…)."""

    def forward(self, x):
        return x.reshape((x.shape[0], math.prod(x.shape[1:])))


class ReLU(Module):
    """y = max(x, 0), elementwise."""

    def forward(self, x):
        return F.relu(x)


class Tanh(Module):
    """y = tanh x, elementwise."""

    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    """y = 1 / (1 + e^−x), elementwise."""

    def forward(self, x):
        return F.sigmoid(x)


class Sequential(Module):
    """The modules applied in order, y = f_n(…f_1(x)); they live in the list `modules`.

    needle: the course's list attribute hides `Module.modules()`, so the list is callable too:
    `seq.modules()` gives every module of the Sequential, itself first, as in PyTorch.
    """

    def __init__(self, *modules, device=None, dtype=None):
        super().__init__(device=device, dtype=dtype)
        self.modules = _Layers(modules, self)

    def forward(self, x):
        for module in self.modules:
            x = module(x)
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.modules[index])
        return self.modules[index]

    def __len__(self):
        return len(self.modules)

    def __iter__(self):
        return iter(self.modules)

    def _repr_children(self):
        return [(str(i), m) for i, m in enumerate(self.modules)]

    def __setstate__(self, state):
        """A copied or unpickled Sequential: its list of layers calls back to it, not to the original."""
        self.__dict__.update(state)
        self.modules = _Layers(self.modules, self)


class _Layers(list):
    """Sequential's list of layers; calling it returns `Module.modules(owner)`.

    The owner is held weakly: a strong reference would make every Sequential a reference cycle, freed
    with its weights only when the cyclic collector runs. Copies and pickles are plain lists, which the
    new Sequential's `__setstate__` binds to itself.
    """

    def __init__(self, layers, owner):
        super().__init__(layers)
        self.owner = weakref.ref(owner)

    def __call__(self):
        return Module.modules(self.owner())

    def __reduce__(self):
        return list, (list(self),)


class Residual(Module):
    """y = fn(x) + x."""

    def __init__(self, fn, device=None, dtype=None):
        super().__init__(device=device, dtype=dtype)
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


class Dropout(Module):
    """Training: y = x·mask / (1 − p), mask ~ Bernoulli(1 − p) from one `rand(*x.shape)`. Eval: y = x.

    With p = 1 every entry is dropped (y = 0); the draw is still made, so the RNG stream does not
    depend on p.
    """

    def __init__(self, p=0.5, device=None, dtype=None):
        super().__init__(device=device, dtype=dtype)
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: invalid probability p={p!r}; must be a number in [0, 1]")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
