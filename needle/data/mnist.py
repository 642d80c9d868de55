"""MNIST from IDX files (gzipped or plain): the parser, the dataset, and where the files live.

IDX layout (all integers big-endian uint32): images are magic 2051, count, rows, cols, then
count * rows * cols pixel bytes; labels are magic 2049, count, then count label bytes.
Nothing here unpickles; the bytes are read with `np.frombuffer`.
"""
import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from .dataset import Dataset

__all__ = ["MNISTFormatError", "parse_mnist", "MNISTDataset", "default_mnist_dir"]

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
_GZIP_SIGNATURE = b"\x1f\x8b"


class MNISTFormatError(ValueError):
    """An MNIST file is not a well-formed IDX file (or gzip stream), or two files disagree."""


def default_mnist_dir():
    """The MNIST folder: $NEEDLE_MNIST_DIR, else shared/data/mnist beside the repository checkout."""
    configured = os.environ.get("NEEDLE_MNIST_DIR")
    if configured:
        return Path(configured)
    repo_root = Path(__file__).resolve().parents[2]
    return repo_root.parent / "shared" / "data" / "mnist"


def _read_idx_bytes(filename):
    """The file's IDX bytes, gunzipped when the file starts with the gzip signature."""
    raw = Path(filename).read_bytes()
    if not raw.startswith(_GZIP_SIGNATURE):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise MNISTFormatError(f"{filename}: bad gzip stream: {error}") from None


def _uint32_at(data, offset):
    """The big-endian unsigned 32-bit integer at byte `offset`."""
    return int.from_bytes(data[offset:offset + 4], "big")


def _parse_idx(filename, magic, dims):
    """The payload of an IDX file as a uint8 array of shape (count, *dims read from the header).

    `dims` is how many uint32 sizes follow the magic number (1 for labels, 3 for images).
    """
    data = _read_idx_bytes(filename)
    kind = "images" if magic == IMAGES_MAGIC else "labels"
    header_size = 4 * (1 + dims)
    if len(data) >= 4 and _uint32_at(data, 0) != magic:
        raise MNISTFormatError(
            f"{filename}: magic number {_uint32_at(data, 0)} is not {magic}: "
            f"not an IDX {kind} file, gzipped or plain"
        )
    if len(data) < header_size:
        raise MNISTFormatError(
            f"{filename}: truncated header: {len(data)} bytes, an IDX {kind} header has {header_size}"
        )
    shape = [_uint32_at(data, 4 * k) for k in range(1, 1 + dims)]
    if any(size == 0 for size in shape[1:]):
        raise MNISTFormatError(
            f"{filename}: image size {shape[1]} x {shape[2]}: rows and cols must be positive"
        )
    expected = math.prod(shape)
    found = len(data) - header_size
    if found < expected:
        raise MNISTFormatError(
            f"{filename}: truncated: header promises {' x '.join(map(str, shape))} = {expected} bytes "
            f"of {kind}, found {found}"
        )
    if found > expected:
        raise MNISTFormatError(
            f"{filename}: {found - expected} bytes of trailing data after {expected} bytes of {kind}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def _load(image_filename, label_filename):
    """(X float32 (N, rows * cols) = pixel / 255, y uint8 (N,), (rows, cols)) from matching files."""
    pixels = _parse_idx(image_filename, IMAGES_MAGIC, dims=3)
    labels = _parse_idx(label_filename, LABELS_MAGIC, dims=1)
    if pixels.shape[0] != labels.shape[0]:
        raise MNISTFormatError(
            f"{image_filename} holds {pixels.shape[0]} images but {label_filename} holds "
            f"{labels.shape[0]} labels"
        )
    count, rows, cols = pixels.shape
    images = pixels.reshape(count, rows * cols).astype(np.float32)
    images /= 255.0  # in place: the float copy is already a new array
    return images, labels.copy(), (rows, cols)


def parse_mnist(image_filename, label_filename):
    """(X float32 (N, rows * cols) in [0, 1], y uint8 (N,)) from IDX image and label files.

    X = pixel / 255, one flattened image per row (784 columns for MNIST's 28 x 28).
    Raises MNISTFormatError (a ValueError) naming the file for any malformed input.
    """
    images, labels, _ = _load(image_filename, label_filename)
    return images, labels


class MNISTDataset(Dataset):
    """MNIST images (float32 in [0, 1], each flattened to rows * cols = 784) and uint8 labels.

    `dataset[index]` with an int gives (image (784,), label); with a slice or an integer index array,
    (images (n, 784), labels (n,)). Transforms run on every access, one image at a time, each seen
    as (rows, cols, 1) = (28, 28, 1) and flattened back afterwards.
    """

    def __init__(self, image_filename, label_filename, transforms=None):
        super().__init__(transforms)
        self.images, self.labels, (rows, cols) = _load(image_filename, label_filename)
        self.image_shape = (rows, cols, 1)

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
        """One flattened image through the transforms, seen as (rows, cols, 1)."""
        return self.apply_transforms(image.reshape(self.image_shape)).reshape(image.shape)
