"""Neural-network modules: Module and Parameter, layers, activations, containers, normalisation and
losses; their functional forms are in `needle.nn.functional` (`import needle.nn.functional as F`)."""
from . import (
    activations, attention, containers, conv, embedding, functional, layers, loss, module, normalization, recurrent,
)
from . import parallel, sync_batchnorm
from .activations import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .containers import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .module import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .sync_batchnorm import *  # noqa: F401,F403

__all__ = [
    name
    for module in (activations, attention, containers, conv, embedding, layers, loss, module, normalization, recurrent)
    for name in module.__all__
] + sync_batchnorm.__all__
