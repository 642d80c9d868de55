"""The course's array module over NumPy (`import needle.backend_ndarray as nd`): NDArray, its
module-level functions and the devices. needle's tensors store plain NumPy arrays, not NDArrays."""
from .ndarray import *  # noqa: F401,F403
from .ndarray import __all__  # noqa: F401
