"""The real MNIST test-set files for the data tests, skipped with a reason when absent."""
import pytest

from needle.data import default_mnist_dir

MNIST_TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(scope="session")
def mnist_test_files():
    """(image path, label path) of the real 10,000-image MNIST test set."""
    try:
        folder = default_mnist_dir()
    except FileNotFoundError as error:
        pytest.skip(f"MNIST test set not found: {error}")
    return tuple(folder / name for name in MNIST_TEST_FILES)
