"""Neural-network modules: Module and Parameter, layers, normalisation and losses."""
from . import layers, loss, module, normalization
from .layers import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .module import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403

__all__ = [name for module in (layers, loss, module, normalization) for name in module.__all__]
