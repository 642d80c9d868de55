"""Neural-network modules: Module and Parameter, layers, activations, containers, normalisation and
losses; their functional forms are in `needle.nn.functional` (`import needle.nn.functional as F`)."""
from . import activations, containers, functional, layers, loss, module, normalization
from .activations import *  # noqa: F401,F403
from .containers import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .module import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403

__all__ = [
    name
    for module in (activations, containers, layers, loss, module, normalization)
    for name in module.__all__
]
