"""Shared test setup: NumPy's global RNG seeded before every test; hypothesis kept quick."""
import os

import numpy as np
import pytest
from hypothesis import settings

# The default run is derandomized, so CI sees the same examples every time; "thorough" explores.
settings.register_profile("needle", deadline=None, max_examples=20, derandomize=True)
settings.register_profile("thorough", deadline=None, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "needle"))


@pytest.fixture(autouse=True)
def seeded_numpy():
    """Every test starts from np.random.seed(0), so init/data randomness is reproducible."""
    np.random.seed(0)
