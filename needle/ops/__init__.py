"""Every needle op: a class with `compute`, `gradient` and `jvp`, and a lowercase function.

One module per family; each imports the families it builds on, so the order here is free.
"""
from . import (
    broadcast, comparison, contraction, conv, decompositions, elementary, elementwise, fused, indexing, linalg, pooling,
    reduction, scan, sequence, shape, sorting, special, tuples,
)

# The families, kept before the star imports: the function `conv` replaces the module's name here.
_FAMILIES = (broadcast, comparison, contraction, conv, decompositions, elementary, elementwise, fused, indexing,
             linalg, pooling, reduction, scan, sequence, shape, sorting, special, tuples)

from .broadcast import *  # noqa: F401,F403
from .comparison import *  # noqa: F401,F403
from .contraction import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .decompositions import *  # noqa: F401,F403
from .elementary import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .fused import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .scan import *  # noqa: F401,F403
from .sequence import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from .tuples import *  # noqa: F401,F403

__all__ = [
    name
    for family in _FAMILIES
    for name in family.__all__
]
