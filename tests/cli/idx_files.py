"""Small MNIST-like IDX files for the needle-train tests: any count, image size and labels."""
import gzip

import numpy as np

from needle.cli.download import TEST_FILES, TRAIN_FILES

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


def write_idx_gz(path, values, magic, dims):
    """Write `values` (uint8) as a gzipped IDX file with the given magic number and dimensions."""
    header = np.array([magic, *dims], dtype=">u4").tobytes()
    path.write_bytes(gzip.compress(header + np.asarray(values, dtype=np.uint8).tobytes(), compresslevel=1))


def write_pair(folder, names, labels, side=28):
    """An image file of len(labels) blank side x side images and its label file, named `names`."""
    count = len(labels)
    write_idx_gz(folder / names[0], np.zeros(count * side * side), IMAGES_MAGIC, (count, side, side))
    write_idx_gz(folder / names[1], labels, LABELS_MAGIC, (count,))


def write_mnist(folder, train_labels, test_labels=None, side=28):
    """The train pair (and the t10k pair when `test_labels` is given) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    write_pair(folder, TRAIN_FILES, train_labels, side)
    if test_labels is not None:
        write_pair(folder, TEST_FILES, test_labels, side)
    return folder
