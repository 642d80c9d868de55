"""A generated CIFAR-shaped set written in the real file layouts, for the data, CLI and app tests.

`python_batch_bytes` writes what the official cifar-10-batches-py files hold: a Python 2 pickle at
protocol 2 of {b"data": uint8 ndarray (N, 3072), b"labels": [int], b"batch_label", b"filenames"},
the array as NumPy pickles it (_reconstruct, then a BUILD with the raw bytes as a string), written
opcode by opcode because Python 3's pickler writes bytes differently from Python 2's.
"""
import pickle
import struct

import numpy as np

from needle.data.cifar10 import PIXELS, RECORD, TEST_BATCH, TRAIN_BATCHES


def _string(data):
    """A Python 2 str: SHORT_BINSTRING under 256 bytes, else BINSTRING."""
    if len(data) < 256:
        return pickle.SHORT_BINSTRING + bytes([len(data)]) + data
    return pickle.BINSTRING + struct.pack("<I", len(data)) + data


def _int(value):
    return pickle.BININT + struct.pack("<i", value)


def _array(array):
    """NumPy's pickle of a C-ordered integer array, as NumPy 1 under Python 2 writes it."""
    code = array.dtype.str[1:].encode()  # b"u1"
    order = array.dtype.str[:1].encode()  # b"|"
    return b"".join([
        pickle.GLOBAL, b"numpy.core.multiarray\n_reconstruct\n",
        pickle.GLOBAL, b"numpy\nndarray\n", _int(0), pickle.TUPLE1, _string(b"b"), pickle.TUPLE3, pickle.REDUCE,
        pickle.MARK, _int(1), pickle.MARK, *(_int(n) for n in array.shape), pickle.TUPLE,
        pickle.GLOBAL, b"numpy\ndtype\n", _string(code), _int(0), _int(1), pickle.TUPLE3, pickle.REDUCE,
        pickle.MARK, _int(3), _string(order), pickle.NONE, pickle.NONE, pickle.NONE, _int(-1), _int(-1), _int(0),
        pickle.TUPLE, pickle.BUILD,
        pickle.NEWFALSE, _string(array.tobytes()), pickle.TUPLE, pickle.BUILD,
    ])


def python_batch_bytes(pixels, labels, batch_label=b"generated batch"):
    """The bytes of a CIFAR-10 python batch holding `pixels` (N, 3072) uint8 and `labels` (ints)."""
    entries = [
        (b"data", _array(np.ascontiguousarray(pixels, dtype=np.uint8))),
        (b"labels", pickle.EMPTY_LIST + pickle.MARK + b"".join(_int(int(v)) for v in labels) + pickle.APPENDS),
        (b"batch_label", _string(batch_label)),
        (b"filenames", pickle.EMPTY_LIST + pickle.MARK
         + b"".join(_string(b"image_%d.png" % k) for k in range(len(labels))) + pickle.APPENDS),
    ]
    body = b"".join(_string(key) + value for key, value in entries)
    return pickle.PROTO + b"\x02" + pickle.EMPTY_DICT + pickle.MARK + body + pickle.SETITEMS + pickle.STOP


def binary_batch_bytes(pixels, labels):
    """The bytes of a CIFAR-10 binary batch: one label byte, then 3072 pixel bytes, per image."""
    records = np.empty((len(labels), RECORD), dtype=np.uint8)
    records[:, 0] = labels
    records[:, 1:] = pixels
    return records.tobytes()


def generated_set(per_batch=40, test=100, seed=0):
    """{batch name: (pixels (n, 3072) uint8, labels (n,) uint8)}: five train batches and a test batch.

    Labels depend on the image (its brightest channel and whether its top half is brighter), so a
    model can learn them.
    """
    rng = np.random.default_rng(seed)
    batches = {}
    for name, count in [(name, per_batch) for name in TRAIN_BATCHES] + [(TEST_BATCH, test)]:
        labels = rng.integers(0, 10, size=count).astype(np.uint8)
        pixels = rng.integers(0, 128, size=(count, 3, 32, 32))
        pixels[np.arange(count), labels % 3] += 100  # a bright channel per class ...
        pixels[labels >= 5, :, :16, :] += 27  # ... and a bright top half for the upper five
        batches[name] = (pixels.reshape(count, PIXELS).astype(np.uint8), labels)
    return batches


def write_set(folder, layout="python", **kwargs):
    """Write `generated_set(**kwargs)` to `folder` as python or binary batches; returns the set."""
    folder.mkdir(parents=True, exist_ok=True)
    batches = generated_set(**kwargs)
    for name, (pixels, labels) in batches.items():
        if layout == "python":
            (folder / name).write_bytes(python_batch_bytes(pixels, labels))
        else:
            (folder / f"{name}.bin").write_bytes(binary_batch_bytes(pixels, labels))
    return batches
