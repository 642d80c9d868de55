"""MNIST from IDX files (gzipped or plain): the streaming parser, the dataset, and where the files live.

IDX layout (all integers big-endian uint32): images are magic 2051, count, rows, cols, then
count * rows * cols pixel bytes; labels are magic 2049, count, then count label bytes.
Files are untrusted: the header is read and checked first, then exactly the declared payload is
read in bounded chunks into a preallocated array, so no file costs more memory than it honestly
declares. Nothing here unpickles.
"""
import contextlib
import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from .dataset import Dataset

__all__ = ["MNISTFormatError", "read_idx", "parse_mnist", "MNISTDataset", "default_mnist_dir"]

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
_KINDS = {"images": (IMAGES_MAGIC, 3), "labels": (LABELS_MAGIC, 1)}
SIDE = 28  # every MNIST image is 28 x 28
MAX_COUNT = 60_000  # the training set, the largest honest MNIST file
_MAX_DEFLATE_RATIO = 1032  # deflate's ceiling: no honest gzip file inflates to more than this per byte
_CHUNK_BYTES = 2**20
_GZIP_SIGNATURE = b"\x1f\x8b"
_TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


class MNISTFormatError(ValueError):
    """An MNIST file is not a well-formed IDX file (or gzip stream), or two files disagree."""


def _search_dirs():
    """Where MNIST is looked for, in order: $NEEDLE_MNIST_DIR, the user data folder, ./data."""
    places = [Path(os.environ["NEEDLE_MNIST_DIR"])] if os.environ.get("NEEDLE_MNIST_DIR") else []
    data_home = os.environ.get("XDG_DATA_HOME", "")
    if not os.path.isabs(data_home):  # the XDG spec ignores a relative value
        data_home = Path.home() / ".local" / "share"
    return places + [Path(data_home) / "needle" / "mnist", Path.cwd() / "data"]


def default_mnist_dir():
    """The first folder holding the t10k files: $NEEDLE_MNIST_DIR, the user data folder, then ./data.

    The user data folder is $XDG_DATA_HOME/needle/mnist, else ~/.local/share/needle/mnist.
    Raises FileNotFoundError naming every place tried when none holds the files.
    """
    places = _search_dirs()
    for place in places:
        if all((place / name).is_file() for name in _TEST_FILES):
            return place
    raise FileNotFoundError(
        f"no MNIST files ({' and '.join(_TEST_FILES)}) in {', '.join(map(str, places))}; "
        f"set NEEDLE_MNIST_DIR to the folder holding them"
    )


@contextlib.contextmanager
def _gzip_errors(filename):
    """gzip and deflate failures inside the block become MNISTFormatError naming `filename`."""
    try:
        yield
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise MNISTFormatError(f"{filename}: bad gzip stream: {error}") from None


@contextlib.contextmanager
def _opened_idx(filename, kind):
    """(stream positioned at the payload, payload shape) of an IDX file whose header checks out."""
    with open(filename, "rb") as file:
        gzipped = file.read(2) == _GZIP_SIGNATURE
        file.seek(0)
        size = os.fstat(file.fileno()).st_size
        stream = gzip.GzipFile(fileobj=file, mode="rb") if gzipped else file
        shape = _read_header(stream, filename, kind)
        room = size * _MAX_DEFLATE_RATIO if gzipped else size - 4 * (1 + len(shape))
        if math.prod(shape) > room:
            raise MNISTFormatError(
                f"{filename}: header promises {_describe(shape)} bytes of {kind}, more than "
                f"a {size}-byte {'gzip' if gzipped else 'plain'} file can hold ({room})"
            )
        yield stream, shape


def _describe(shape):
    """'6 x 28 x 28 = 4704' for a payload shape."""
    return f"{' x '.join(map(str, shape))} = {math.prod(shape)}"


def _read_header(stream, filename, kind):
    """The payload shape from a checked IDX header: (count, 28, 28) for images, (count,) for labels."""
    magic, dims = _KINDS[kind]
    header_size = 4 * (1 + dims)
    with _gzip_errors(filename):
        header = stream.read(header_size)
    if len(header) >= 4 and int.from_bytes(header[:4], "big") != magic:
        raise MNISTFormatError(
            f"{filename}: magic number {int.from_bytes(header[:4], 'big')} is not {magic}: "
            f"not an IDX {kind} file, gzipped or plain"
        )
    if len(header) < header_size:
        raise MNISTFormatError(
            f"{filename}: truncated header: {len(header)} bytes, an IDX {kind} header has {header_size}"
        )
    shape = tuple(int.from_bytes(header[k:k + 4], "big") for k in range(4, header_size, 4))
    if shape[1:] not in ((), (SIDE, SIDE)):
        raise MNISTFormatError(
            f"{filename}: images are {shape[1]} x {shape[2]}; MNIST images are {SIDE} x {SIDE}"
        )
    if shape[0] > MAX_COUNT:
        raise MNISTFormatError(
            f"{filename}: header declares {shape[0]} {kind}; an MNIST file holds at most {MAX_COUNT}"
        )
    return shape


def _read_payload(stream, filename, kind, shape):
    """The declared payload, read in chunks into a preallocated array; the file must end right after."""
    payload = np.empty(math.prod(shape), dtype=np.uint8)
    view = memoryview(payload)
    done = 0
    with _gzip_errors(filename):
        while done < payload.size:
            got = stream.readinto(view[done:done + _CHUNK_BYTES])
            if not got:
                raise MNISTFormatError(
                    f"{filename}: truncated: header promises {_describe(shape)} bytes of {kind}, "
                    f"found {done}"
                )
            done += got
        trailing = stream.read(1)
    if trailing:
        raise MNISTFormatError(
            f"{filename}: trailing data after the {payload.size} bytes of {kind} the header promises"
        )
    return payload.reshape(shape)


def read_idx(image_filename, label_filename):
    """(pixels uint8 (N, 28, 28), labels uint8 (N,)) from MNIST IDX image and label files.

    Streams both files; peak memory is the declared payload plus one chunk. Raises
    MNISTFormatError (a ValueError) naming the file for any malformed input.
    """
    with _opened_idx(image_filename, "images") as (images, image_shape), \
            _opened_idx(label_filename, "labels") as (labels, label_shape):
        if image_shape[0] != label_shape[0]:
            raise MNISTFormatError(
                f"{image_filename} holds {image_shape[0]} images but {label_filename} holds "
                f"{label_shape[0]} labels"
            )
        pixels = _read_payload(images, image_filename, "images", image_shape)
        digits = _read_payload(labels, label_filename, "labels", label_shape)
    bad = np.flatnonzero(digits > 9)
    if bad.size:
        raise MNISTFormatError(
            f"{label_filename}: label {digits[bad[0]]} at index {bad[0]} is outside 0..9 "
            f"({bad.size} such labels)"
        )
    return pixels, digits


def parse_mnist(image_filename, label_filename):
    """(X float32 (N, 784) in [0, 1], y uint8 (N,)) from IDX image and label files.

    X = pixel / 255, one flattened 28 x 28 image per row.
    Raises MNISTFormatError (a ValueError) naming the file for any malformed input.
    """
    pixels, labels = read_idx(image_filename, label_filename)
    images = pixels.reshape(len(pixels), SIDE * SIDE).astype(np.float32)
    images /= 255.0  # in place: the float copy is already a new array
    return images, labels


class MNISTDataset(Dataset):
    """MNIST images (float32 in [0, 1], each flattened to 28 * 28 = 784) and uint8 labels.

    `dataset[index]` with an int gives (image (784,), label); with a slice or an integer index array,
    (images (n, 784), labels (n,)). Transforms run on every access, one image at a time, each seen
    as (28, 28, 1) and flattened back afterwards.
    """

    batched = True  # the DataLoader reads dataset[index_array], a batch at a time
    image_shape = (SIDE, SIDE, 1)

    def __init__(self, image_filename, label_filename, transforms=None):
        super().__init__(transforms)
        self.images, self.labels = parse_mnist(image_filename, label_filename)

    def __len__(self):
        return self.images.shape[0]

    def __getitem__(self, index):
        images, labels = self.images[index], self.labels[index]
        if not self.transforms:
            return images, labels
        if images.ndim == 1:
            return self._transform(images), labels
        out = np.empty_like(images)
        for k in range(images.shape[0]):
            out[k] = self._transform(images[k])
        return out, labels

    def _transform(self, image):
        """One flattened image through the transforms, seen as (28, 28, 1)."""
        return self.apply_transforms(image.reshape(self.image_shape)).reshape(image.shape)
