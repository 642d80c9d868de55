"""The one device needle runs on: the CPU, with NumPy arrays as storage."""
import numpy as np

__all__ = ["CPUDevice", "cpu", "default_device", "all_devices"]


class CPUDevice:
    """NumPy on the host. The array factories draw from NumPy's global legacy RNG."""

    def __repr__(self):
        return "cpu()"

    def __eq__(self, other):
        return isinstance(other, CPUDevice)

    def __hash__(self):
        return hash("cpu")

    def enabled(self):
        return True

    def zeros(self, *shape, dtype="float32"):
        return np.zeros(shape, dtype=dtype)

    def ones(self, *shape, dtype="float32"):
        return np.ones(shape, dtype=dtype)

    def full(self, shape, fill_value, dtype="float32"):
        return np.full(shape, fill_value, dtype=dtype)

    def empty(self, shape, dtype="float32"):
        return np.empty(shape, dtype=dtype)

    def rand(self, *shape, dtype="float32"):
        return np.random.rand(*shape).astype(dtype, copy=False)

    def randn(self, *shape, dtype="float32"):
        return np.random.randn(*shape).astype(dtype, copy=False)

    def one_hot(self, n, i, dtype="float32"):
        return np.eye(n, dtype=dtype)[i]


_CPU = CPUDevice()


def cpu():
    """The CPU device (the only one)."""
    return _CPU


def default_device():
    return _CPU


def all_devices():
    """Every device needle can use: just the CPU."""
    return [_CPU]
