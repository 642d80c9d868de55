"""Optimizers, learning-rate schedulers and gradient clipping."""
from . import clip, optimizer, optimizers, schedulers
from .clip import *  # noqa: F401,F403
from .optimizer import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .schedulers import *  # noqa: F401,F403

__all__ = [name for module in (clip, optimizer, optimizers, schedulers) for name in module.__all__]
