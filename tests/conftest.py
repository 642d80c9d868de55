"""Shared test setup: NumPy's global RNG seeded before every test; hypothesis kept quick; the real
MNIST files in the shared data folder beside the checkout unless $NEEDLE_MNIST_DIR names another."""
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from needle.data import default_mnist_dir

# The default run is derandomized, so CI sees the same examples every time; "thorough" explores.
settings.register_profile("needle", deadline=None, max_examples=20, derandomize=True)
settings.register_profile("thorough", deadline=None, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "needle"))

# Set at import, before any test or subprocess asks needle.data.default_mnist_dir() for the folder.
os.environ.setdefault("NEEDLE_MNIST_DIR", str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder holding the real 10,000-image MNIST test set (t10k files), else the test skips."""
    try:
        return default_mnist_dir()
    except FileNotFoundError as error:
        pytest.skip(f"MNIST test set not found: {error}")


@pytest.fixture(autouse=True)
def seeded_numpy():
    """Every test starts from np.random.seed(0), so init/data randomness is reproducible."""
    np.random.seed(0)
