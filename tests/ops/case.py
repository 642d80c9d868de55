"""One row of an op case table: the op, its inputs' shapes and range, and a NumPy reference."""
from dataclasses import dataclass, field
from typing import Callable, Optional

from hypothesis.strategies import SearchStrategy


@dataclass
class Case:
    """`fn(*tensors, **kwargs)` on inputs of `shapes` drawn uniformly from [low, high).

    `numpy(*arrays, **kwargs)` is the forward reference. `order` is the highest derivative order
    checked (0 for non-differentiable ops such as comparisons). `grad_inputs` lists which inputs
    are differentiated (default every floating-point one); `make_inputs(rng)`, when given, returns
    the input arrays itself (index arrays, ties, masks). `drawn_shapes`, for a row whose op takes
    inputs of any shape, is a hypothesis strategy of shape lists to use in place of `shapes`.
    `name` stands for `fn`'s name in the row's test id (lambdas, compositions, variants).
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
    drawn_shapes: Optional[SearchStrategy] = None
    name: Optional[str] = None

    @property
    def label(self):
        """The row's name, else its function's: the middle part of its test id."""
        return self.name or self.fn.__name__
