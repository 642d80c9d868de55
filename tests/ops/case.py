"""One row of an op case table: the op, its inputs' shapes and range, and a NumPy reference."""
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass
class Case:
    """`fn(*tensors, **kwargs)` on inputs of `shapes` drawn uniformly from [low, high).

    `numpy(*arrays, **kwargs)` is the forward reference. `order` is the highest derivative order
    checked (0 for non-differentiable ops such as comparisons). `grad_inputs` lists which inputs
    are differentiated (default every floating-point one); `make_inputs(rng)`, when given, returns
    the input arrays itself (index arrays, ties, masks).
    """

    fn: Callable
    shapes: list
    numpy: Callable
    kwargs: dict = field(default_factory=dict)
    low: float = -2.0
    high: float = 2.0
    order: int = 2
    grad_inputs: Optional[list] = None
    make_inputs: Optional[Callable] = None
    name: Optional[str] = None

    @property
    def id(self):
        if self.name:
            return self.name
        shapes = "-".join("x".join(map(str, s)) or "scalar" for s in self.shapes)
        extra = ",".join(f"{k}={v}" for k, v in self.kwargs.items())
        return f"{self.fn.__name__}[{shapes}{',' + extra if extra else ''}]"
