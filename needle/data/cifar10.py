"""CIFAR-10 from its batch files: the "python" pickles through a restricted unpickler, or the binary
records; the dataset, and where the files live.

Python batches (`data_batch_1` .. `data_batch_5`, `test_batch`) are pickles of a dict
{b"batch_label", b"labels": [int], b"data": uint8 ndarray (N, 3072), b"filenames"}, the array
rebuilt by NumPy's `_reconstruct` from `ndarray`, a `dtype` and the raw bytes. A pickle can name
any callable, so these files are untrusted code: the unpickler admits exactly those three NumPy
names, and even those are never called. Each is replaced by a stand-in that records the arguments
and the state the pickle passes and builds the array itself with `np.frombuffer` after checking
them, so nothing in NumPy runs on what the file says. Anything else named is refused before it is
looked up, with an error that names it. The opcode count is bounded by the number of images a batch
may hold, so no file makes more objects than its size justifies.

Binary batches (`data_batch_N.bin`, `test_batch.bin`) are records of one label byte followed by
3072 pixel bytes (1024 red, 1024 green, 1024 blue, each row-major 32 x 32).
"""
import io
import math
import os
import pickle
import pickletools
import reprlib
from pathlib import Path

import numpy as np

from .dataset import Dataset

__all__ = [
    "CIFAR10Dataset", "CIFAR10FormatError", "read_cifar10_batch", "read_cifar10_pickle",
    "read_cifar10_binary", "default_cifar10_dir", "cifar10_batch_names",
]

SIDE = 32
CHANNELS = 3
PIXELS = CHANNELS * SIDE * SIDE  # 3072 bytes per image
RECORD = 1 + PIXELS  # one label byte, then the pixels, in a binary batch
NUM_CLASSES = 10
BATCH_IMAGES = 10_000  # every official batch holds exactly this many; smaller ones are accepted
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
FOLDERS = ("cifar-10-batches-py", "cifar-10-batches-bin")  # the archives' top folders
# A real python batch is about 31.0 MB: the 30.72 MB of pixels, 10,000 labels and 10,000 file names.
MAX_PICKLE_BYTES = BATCH_IMAGES * PIXELS + 2 * 2**20
# A real batch runs about 6 opcodes per image (a label, a file name and their memo writes).
MAX_OPCODES = 16 * BATCH_IMAGES + 1000
_INTEGER_CODES = frozenset(f"{kind}{size}" for kind in "iu" for size in (1, 2, 4, 8))
_BYTE_ORDERS = {"|": "|", "=": "=", "<": "<", ">": ">"}


class CIFAR10FormatError(ValueError):
    """A CIFAR-10 batch file is malformed, or names something a CIFAR-10 batch never holds."""


def cifar10_batch_names(train):
    """The python batch names of the training set (data_batch_1..5) or of the test set (test_batch)."""
    return TRAIN_BATCHES if train else (TEST_BATCH,)


# ---- the restricted unpickler --------------------------------------------------------------------

class _NdarrayName:
    """Stands for `numpy.ndarray` where a pickle names it: only `_reconstruct` accepts it."""


class _PickledDtype:
    """Stands for `numpy.dtype(code, align, copy)`; BUILD hands it the dtype's state tuple."""

    def __init__(self, filename, code, align=False, copy=True):
        code = code.decode("ascii", "replace") if isinstance(code, bytes) else code
        if not isinstance(code, str) or code not in _INTEGER_CODES:
            raise CIFAR10FormatError(
                f"{filename}: the pickle asks for a NumPy dtype {code!r}; a CIFAR-10 batch holds only "
                f"integer arrays ({', '.join(sorted(_INTEGER_CODES))})"
            )
        self.filename, self.code, self.order = filename, code, "|"

    def __setstate__(self, state):
        # NumPy writes (version, byte order, subarray, names, fields, elsize, alignment, flags[, metadata]).
        order = state[1] if isinstance(state, tuple) and len(state) >= 5 else None
        order = order.decode("ascii", "replace") if isinstance(order, bytes) else order
        if order not in _BYTE_ORDERS or any(part is not None for part in state[2:5]):
            raise CIFAR10FormatError(
                f"{self.filename}: the pickled dtype state {_short(state)} is not a plain integer dtype's"
            )
        self.order = order

    def dtype(self):
        dtype = np.dtype(self.code)
        return dtype if dtype.itemsize == 1 else dtype.newbyteorder(_BYTE_ORDERS[self.order])


class _PickledArray:
    """Stands for `numpy.core.multiarray._reconstruct(ndarray, shape, dtype)`; BUILD hands it the
    array's state (version, shape, dtype, Fortran order, raw bytes) and it builds the array."""

    def __init__(self, filename, subtype, shape=None, dtype=None):
        if subtype is not _NdarrayName:
            raise CIFAR10FormatError(
                f"{filename}: the pickle rebuilds an array of type {_short(subtype)}; only numpy.ndarray is admitted"
            )
        self.filename, self.array = filename, None

    def __setstate__(self, state):
        if not (isinstance(state, tuple) and len(state) == 5):
            raise CIFAR10FormatError(f"{self.filename}: the pickled array state {_short(state)} is not NumPy's")
        _, shape, dtype, fortran, raw = state
        if not isinstance(dtype, _PickledDtype):
            raise CIFAR10FormatError(f"{self.filename}: the pickled array has no integer dtype ({_short(dtype)})")
        if not (isinstance(shape, tuple) and len(shape) <= 2 and all(type(n) is int and n >= 0 for n in shape)):
            raise CIFAR10FormatError(f"{self.filename}: the pickled array's shape {_short(shape)} is not 1-D or 2-D")
        if not isinstance(raw, (bytes, bytearray)):
            raise CIFAR10FormatError(
                f"{self.filename}: the pickled array's data is {type(raw).__name__}, not raw bytes"
            )
        self.array = _array_from(self.filename, raw, dtype.dtype(), shape, "F" if fortran else "C")


def _from_buffer(filename, raw, dtype, shape, order):
    """Stands for NumPy 2's `_frombuffer(buffer, dtype, shape, order)` (pickle protocol 5)."""
    if not isinstance(dtype, _PickledDtype) or not isinstance(raw, (bytes, bytearray)) or order not in ("C", "F"):
        raise CIFAR10FormatError(f"{filename}: the pickled array is not raw bytes of an integer dtype")
    if not (isinstance(shape, tuple) and len(shape) <= 2 and all(type(n) is int and n >= 0 for n in shape)):
        raise CIFAR10FormatError(f"{filename}: the pickled array's shape {_short(shape)} is not 1-D or 2-D")
    stand_in = _PickledArray(filename, _NdarrayName)
    stand_in.array = _array_from(filename, raw, dtype.dtype(), shape, order)
    return stand_in


def _array_from(filename, raw, dtype, shape, order):
    """A read-only array over `raw`, whose length must be exactly what `shape` and `dtype` need."""
    if math.prod(shape) * dtype.itemsize != len(raw):
        raise CIFAR10FormatError(
            f"{filename}: truncated array: shape {shape} of {dtype} needs "
            f"{math.prod(shape) * dtype.itemsize} bytes, the pickle holds {len(raw)}"
        )
    return np.frombuffer(bytes(raw), dtype=dtype).reshape(shape, order=order)


def _admitted(filename):
    """{(module, name): stand-in} for the NumPy names a CIFAR-10 python batch uses: the official files
    name ndarray, dtype and _reconstruct; NumPy 2 at pickle protocol 5 names _frombuffer instead."""
    reconstruct = lambda *args: _PickledArray(filename, *args)  # noqa: E731
    dtype = lambda *args: _PickledDtype(filename, *args)  # noqa: E731
    return {
        ("numpy.core.multiarray", "_reconstruct"): reconstruct,  # NumPy 1 (and the official files)
        ("numpy._core.multiarray", "_reconstruct"): reconstruct,  # NumPy 2
        ("numpy", "ndarray"): _NdarrayName,
        ("numpy", "dtype"): dtype,
        ("numpy._core.numeric", "_frombuffer"): lambda *args: _from_buffer(filename, *args),  # protocol 5
    }


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the names `_admitted` lists, to stand-ins; refuses every other global."""

    def __init__(self, stream, filename):
        super().__init__(stream, encoding="bytes")  # Python 2's str stays bytes, as in the files
        self._filename = filename
        self._names = _admitted(filename)

    def find_class(self, module, name):
        try:
            return self._names[module, name]
        except (KeyError, TypeError):
            raise CIFAR10FormatError(
                f"{self._filename}: refused to load the global {module}.{name}: a CIFAR-10 batch holds "
                f"only a dict, lists and a NumPy integer array (numpy.ndarray, numpy.dtype, "
                f"numpy.core.multiarray._reconstruct); the file is not a CIFAR-10 batch and may have "
                f"been crafted to run code"
            ) from None

    def persistent_load(self, pid):
        raise CIFAR10FormatError(f"{self._filename}: the pickle holds a persistent id; CIFAR-10 batches have none")


def _short(value):
    """A bounded repr: a pickle's values may be megabytes long."""
    return reprlib.repr(value)


def _count_opcodes(payload, filename):
    """The pickle's opcodes are counted (none run) and refused past MAX_OPCODES."""
    count = 0
    try:
        for _ in pickletools.genops(payload):
            count += 1
            if count > MAX_OPCODES:
                raise CIFAR10FormatError(
                    f"{filename}: more than {MAX_OPCODES} pickle opcodes; a CIFAR-10 batch of at most "
                    f"{BATCH_IMAGES} images has far fewer"
                )
    except ValueError as error:
        if isinstance(error, CIFAR10FormatError):
            raise
        raise CIFAR10FormatError(f"{filename}: not a pickle, or truncated: {error}") from None


def _read_bounded(filename, limit, what):
    """The bytes of `filename`, refused before reading when the file is larger than `limit`."""
    with open(filename, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size > limit:
            raise CIFAR10FormatError(
                f"{filename}: {size} bytes; a CIFAR-10 {what} batch of {BATCH_IMAGES} images is at most {limit}"
            )
        payload = file.read(size + 1)
    if len(payload) > limit:
        raise CIFAR10FormatError(f"{filename}: grew past {limit} bytes while being read")
    return payload


def read_cifar10_pickle(filename):
    """(pixels uint8 (N, 3072), labels uint8 (N,)) from a CIFAR-10 python batch file.

    The file is read whole (it must be at most MAX_PICKLE_BYTES), its opcodes counted, then
    unpickled with only NumPy's array names admitted, as stand-ins. Raises CIFAR10FormatError (a
    ValueError) naming the file for anything malformed or refused, FileNotFoundError when absent.
    """
    payload = _read_bounded(filename, MAX_PICKLE_BYTES, "python")
    _count_opcodes(payload, filename)
    try:
        batch = _RestrictedUnpickler(io.BytesIO(payload), filename).load()
    except CIFAR10FormatError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, UnicodeDecodeError, MemoryError, RecursionError) as error:
        raise CIFAR10FormatError(f"{filename}: not a CIFAR-10 python batch: {type(error).__name__}: {error}") from None
    return _checked_batch(batch, filename)


def _checked_batch(batch, filename):
    """The pixels and labels of an unpickled batch dict, checked for shape, count and range."""
    if not isinstance(batch, dict):
        raise CIFAR10FormatError(f"{filename}: holds a {type(batch).__name__}; a CIFAR-10 batch is a dict")
    fields = {key.decode("latin-1") if isinstance(key, bytes) else key: value for key, value in batch.items()}
    for key in ("data", "labels"):
        if key not in fields:
            found = ", ".join(map(str, fields))
            raise CIFAR10FormatError(f"{filename}: the batch has no '{key}' entry (found {found})")
    data = fields["data"]
    if not isinstance(data, _PickledArray) or data.array is None:
        raise CIFAR10FormatError(f"{filename}: 'data' is {type(data).__name__}, not a NumPy uint8 array")
    pixels = data.array
    if pixels.dtype != np.uint8 or pixels.ndim != 2 or pixels.shape[1] != PIXELS:
        raise CIFAR10FormatError(
            f"{filename}: 'data' is {pixels.dtype} {pixels.shape}; a CIFAR-10 batch holds uint8 (N, {PIXELS})"
        )
    labels = _checked_labels(fields["labels"], filename)
    _check_counts(len(pixels), len(labels), filename)
    return np.ascontiguousarray(pixels), labels


def _checked_labels(labels, filename):
    """Labels from a list of ints or an integer array, as uint8 (N,); each must lie in 0..9."""
    if isinstance(labels, _PickledArray) and labels.array is not None and labels.array.ndim == 1:
        values = labels.array
    elif isinstance(labels, list) and all(type(label) is int for label in labels):
        values = np.array(labels, dtype=np.int64) if labels else np.zeros(0, dtype=np.int64)
    else:
        raise CIFAR10FormatError(f"{filename}: 'labels' must be a list of ints or a 1-D integer array")
    bad = np.flatnonzero((values < 0) | (values >= NUM_CLASSES))
    if bad.size:
        raise CIFAR10FormatError(
            f"{filename}: label {values[bad[0]]} at index {bad[0]} is outside 0..{NUM_CLASSES - 1} "
            f"({bad.size} such labels)"
        )
    return values.astype(np.uint8)


def _check_counts(images, labels, filename):
    if images != labels:
        raise CIFAR10FormatError(f"{filename}: {images} images but {labels} labels")
    if not 1 <= images <= BATCH_IMAGES:
        raise CIFAR10FormatError(f"{filename}: {images} images; a CIFAR-10 batch holds 1..{BATCH_IMAGES}")


def read_cifar10_binary(filename):
    """(pixels uint8 (N, 3072), labels uint8 (N,)) from a binary batch: N records of 1 + 3072 bytes.

    The size must be a whole number of records, at most BATCH_IMAGES of them; labels lie in 0..9.
    """
    with open(filename, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        count, rest = divmod(size, RECORD)
        if rest or not 1 <= count <= BATCH_IMAGES:
            raise CIFAR10FormatError(
                f"{filename}: {size} bytes is not 1..{BATCH_IMAGES} records of {RECORD} bytes "
                f"(a label byte and {PIXELS} pixel bytes); truncated or not a CIFAR-10 binary batch"
            )
        records = np.empty((count, RECORD), dtype=np.uint8)
        got = file.readinto(memoryview(records).cast("B"))
    if got != size:
        raise CIFAR10FormatError(f"{filename}: read {got} of {size} bytes; the file changed while being read")
    labels = records[:, 0].copy()
    bad = np.flatnonzero(labels >= NUM_CLASSES)
    if bad.size:
        raise CIFAR10FormatError(
            f"{filename}: label {labels[bad[0]]} in record {bad[0]} is outside 0..{NUM_CLASSES - 1} "
            f"({bad.size} such labels)"
        )
    return np.ascontiguousarray(records[:, 1:]), labels


def read_cifar10_batch(filename):
    """(pixels uint8 (N, 3072), labels uint8 (N,)): a `.bin` name is a binary batch, else a python one."""
    if str(filename).endswith(".bin"):
        return read_cifar10_binary(filename)
    return read_cifar10_pickle(filename)


# ---- where the files are -------------------------------------------------------------------------

def _batch_files(folder, train):
    """The batch paths of one set in `folder` (python batches, else binary), or None when absent."""
    names = cifar10_batch_names(train)
    for suffix in ("", ".bin"):
        paths = [Path(folder) / (name + suffix) for name in names]
        if all(path.is_file() for path in paths):
            return paths
    return None


def _find_batches(base_folder, train):
    """The batch paths in `base_folder` or in its cifar-10-batches-py/-bin subfolder."""
    for folder in (Path(base_folder),) + tuple(Path(base_folder) / sub for sub in FOLDERS):
        paths = _batch_files(folder, train)
        if paths is not None:
            return paths
    names = cifar10_batch_names(train)
    raise FileNotFoundError(
        f"CIFAR10Dataset: no {'training' if train else 'test'} batches in {base_folder} (nor in its "
        f"{' or '.join(FOLDERS)} subfolder): expected {', '.join(names)} (python) or the same names with "
        f".bin (binary)"
    )


def default_cifar10_dir():
    """The first folder holding CIFAR-10's test batch: $NEEDLE_CIFAR10_DIR, the user data folder
    ($XDG_DATA_HOME/needle/cifar10, else ~/.local/share/needle/cifar10), then ./data.

    Raises FileNotFoundError naming every place tried when none holds it.
    """
    places = [Path(os.environ["NEEDLE_CIFAR10_DIR"])] if os.environ.get("NEEDLE_CIFAR10_DIR") else []
    data_home = os.environ.get("XDG_DATA_HOME", "")
    if not os.path.isabs(data_home):  # the XDG spec ignores a relative value
        data_home = Path.home() / ".local" / "share"
    places += [Path(data_home) / "needle" / "cifar10", Path.cwd() / "data"]
    for place in places:
        try:
            _find_batches(place, train=False)
        except FileNotFoundError:
            continue
        return place
    raise FileNotFoundError(
        f"no CIFAR-10 batches ({TEST_BATCH} or {TEST_BATCH}.bin) in {', '.join(map(str, places))} or their "
        f"{FOLDERS[0]} subfolders; set NEEDLE_CIFAR10_DIR to the folder holding them"
    )


# ---- the dataset -----------------------------------------------------------------------------------

class CIFAR10Dataset(Dataset):
    """CIFAR-10 images, X float32 (N, 3, 32, 32) in [0, 1], and labels y uint8 (N,) in 0..9.

    Reads the python batches (data_batch_1..5 for `train`, else test_batch) from `base_folder`
    or its cifar-10-batches-py subfolder, else the binary ones (the same names with .bin).
    `dataset[i]` is (image (3, 32, 32), int label); an index array or slice gives the batch
    (images (n, 3, 32, 32), labels (n,)). Transforms run on every access, one image at a time,
    each seen as (32, 32, 3) (height, width, channels) and moved back to (3, 32, 32).
    needle: `p` is in the course's signature and unused there; it is checked and kept as `self.p`.
    """

    batched = True  # the DataLoader reads dataset[index_array], a batch at a time
    image_shape = (CHANNELS, SIDE, SIDE)

    def __init__(self, base_folder, train, p=0.5, transforms=None):
        super().__init__(transforms)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"CIFAR10Dataset: p must lie in [0, 1], got {p}")
        self.p = p
        parts = [read_cifar10_batch(path) for path in _find_batches(base_folder, train)]
        pixels = np.concatenate([part[0] for part in parts]) if len(parts) > 1 else parts[0][0]
        self.y = np.concatenate([part[1] for part in parts]) if len(parts) > 1 else parts[0][1]
        self.X = pixels.reshape((-1,) + self.image_shape).astype(np.float32)
        self.X /= 255.0  # in place: the float copy is already a new array

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, index):
        images, labels = self.X[index], self.y[index]
        if images.ndim == 3:
            return (self._transform(images) if self.transforms else images), int(labels)
        if not self.transforms:
            return images, labels
        out = np.empty_like(images)
        for k in range(images.shape[0]):
            out[k] = self._transform(images[k])
        return out, labels

    def _transform(self, image):
        """One (3, 32, 32) image through the transforms, seen as (32, 32, 3)."""
        return np.transpose(self.apply_transforms(np.transpose(image, (1, 2, 0))), (2, 0, 1))
