"""Devices: where a tensor's data lives. needle stores every tensor as a NumPy array on the CPU.

The course's names are all here: `cpu()`, `cpu_numpy()`, `cuda()`, `default_device()`,
`all_devices()`. needle: `cpu_numpy()` is the course's other name for the one NumPy CPU device
and returns the same object, so `cpu_numpy() == cpu()` (devices compare equal by kind, and a
tensor made on either reports `cpu()`). `cuda()` exists so that code written for a GPU build
runs up to the point where it asks for a GPU: its `enabled()` is False, and creating a tensor
on it is a clear error (`as_device`).

A device's array factories (`zeros`, `rand`, ...) return the course's NDArray
(`needle.backend_ndarray`), as the course's devices do; randomness comes from NumPy's global
legacy RNG.
"""
import numpy as np

__all__ = ["Device", "CPUDevice", "CUDADevice", "cpu", "cpu_numpy", "cuda", "default_device", "all_devices",
           "as_device", "is_device"]


class Device:
    """A place for tensor data, named by its kind ("cpu", "cuda"); devices of one kind are equal."""

    kind = None

    @property
    def name(self):
        return self.kind

    def __repr__(self):
        return f"{self.kind}()"  # the course builds file names from str(device)

    __str__ = __repr__

    def __eq__(self, other):
        return isinstance(other, Device) and other.kind == self.kind

    def __hash__(self):
        return hash(self.kind)

    def __reduce__(self):  # a pickled or deep-copied device is the same device object
        return _BY_NAME[self.kind], ()

    def enabled(self):
        raise NotImplementedError(f"{type(self).__name__}.enabled is not defined")


class CPUDevice(Device):
    """NumPy on the host: the device every needle tensor lives on."""

    kind = "cpu"

    def enabled(self):
        return True

    def zeros(self, *shape, dtype="float32"):
        return _wrap(np.zeros(_sizes(shape), dtype=dtype))

    def ones(self, *shape, dtype="float32"):
        return _wrap(np.ones(_sizes(shape), dtype=dtype))

    def full(self, shape, fill_value, dtype="float32"):
        return _wrap(np.full(shape, fill_value, dtype=dtype))

    def empty(self, shape, dtype="float32"):
        return _wrap(np.empty(shape, dtype=dtype))

    def rand(self, *shape, dtype="float32"):
        return _wrap(np.asarray(np.random.rand(*_sizes(shape))).astype(dtype, copy=False))

    def randn(self, *shape, dtype="float32"):
        return _wrap(np.asarray(np.random.randn(*_sizes(shape))).astype(dtype, copy=False))

    def one_hot(self, n, i, dtype="float32"):
        return _wrap(np.eye(n, dtype=dtype)[np.asarray(i, dtype=np.int64)])


class CUDADevice(Device):
    """A GPU. needle has no GPU backend, so this device is never enabled and holds no data."""

    kind = "cuda"

    def enabled(self):
        return False

    def _refuse(self, factory):
        raise ValueError(f"cuda().{factory}: the device is not enabled: needle has no GPU backend; use ndl.cpu()")

    def zeros(self, *shape, dtype="float32"):
        self._refuse("zeros")

    def ones(self, *shape, dtype="float32"):
        self._refuse("ones")

    def full(self, shape, fill_value, dtype="float32"):
        self._refuse("full")

    def empty(self, shape, dtype="float32"):
        self._refuse("empty")

    def rand(self, *shape, dtype="float32"):
        self._refuse("rand")

    def randn(self, *shape, dtype="float32"):
        self._refuse("randn")

    def one_hot(self, n, i, dtype="float32"):
        self._refuse("one_hot")


_CPU = CPUDevice()
_CUDA = CUDADevice()


def cpu():
    """The CPU device, NumPy storage."""
    return _CPU


def cpu_numpy():
    """The course's name for its NumPy CPU device: the same object as `cpu()` in needle."""
    return _CPU


def cuda():
    """The GPU device; `cuda().enabled()` is False (needle has no GPU backend)."""
    return _CUDA


def default_device():
    """Where tensors go when no device is given: `cpu()`."""
    return _CPU


def all_devices():
    """Every device needle knows, enabled or not (the course's list): [cpu(), cuda()].

    Filter with `enabled()` for the usable ones."""
    return [_CPU, _CUDA]


_BY_NAME = {"cpu": cpu, "cpu_numpy": cpu_numpy, "cuda": cuda}


def as_device(name, device):
    """The enabled Device that `device` names: None (the default), a Device, or "cpu", "cpu_numpy",
    "cuda", "cuda:N". A device that is not enabled or not known is a ValueError naming `name`."""
    if device is None:
        return _CPU
    if type(device) is CPUDevice:
        return device
    if isinstance(device, str):
        kind = device.split(":", 1)[0] if device.startswith("cuda:") else device
        if kind not in _BY_NAME:
            raise ValueError(f"{name}: unknown device {device!r}; expected cpu(), cpu_numpy() or cuda()")
        device = _BY_NAME[kind]()
    if not isinstance(device, Device):
        raise ValueError(f"{name}: unknown device {device!r}; expected cpu(), cpu_numpy() or cuda()")
    if not device.enabled():
        raise ValueError(f"{name}: device {device!r} is not enabled: needle has no GPU backend; use ndl.cpu()")
    return device


def is_device(value):
    """Whether `value` names a device (a Device or a device string), enabled or not."""
    if isinstance(value, Device):
        return True
    return isinstance(value, str) and (value in _BY_NAME or value.startswith("cuda:"))


def _sizes(shape):
    """`*shape` as a tuple, also accepting one tuple (`zeros((2, 3))`), as the course's devices do."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return shape


def _wrap(array):
    # backend_ndarray imports this module for its devices, so its class is reached at call time.
    from .backend_ndarray import NDArray

    return NDArray.from_numpy(array, copy=False)
