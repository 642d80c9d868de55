"""Optimizers, learning-rate schedulers and gradient clipping."""
from .clip import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .schedulers import *  # noqa: F401,F403
