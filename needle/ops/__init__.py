"""Every needle op: a class with `compute`, `gradient` and `jvp`, and a lowercase function."""
# shape first: sum_to_shape, which every broadcasting op imports, is built from its ops.
from .shape import *  # noqa: F401,F403  isort: skip
from .indexing import *  # noqa: F401,F403
from .comparison import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .tuples import *  # noqa: F401,F403
from .fused import *  # noqa: F401,F403
