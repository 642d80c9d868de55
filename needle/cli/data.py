"""needle-train's data: the generated spiral, or MNIST from its IDX files, checked before training.

Each loader returns (train set, test set, a description). MNIST must hold images of 28 x 28 pixels
and labels 0-9 (the parser checks both) and at least one image in each set; anything else is a
UsageError naming the file.
"""
from pathlib import Path

import needle as ndl

from .download import DEFAULT_MIRROR, TEST_FILES, TRAIN_FILES, DownloadError, download_mnist, has_files
from .settings import SHAPES, UsageError

__all__ = ["load_spiral", "mnist_folder", "load_mnist"]

# The spiral set: three arms of 400 points, a quarter held out.
SPIRAL_POINTS_PER_CLASS = 400
SPIRAL_TEST_FRACTION = 0.25
# With only the t10k files, this many of its images train and the rest (at least SPLIT_TEST) test.
SPLIT_TRAIN = 8000
SPLIT_TEST = 2000


def load_spiral():
    """(train, test, description) of the three-arm spiral, fixed by its own seed."""
    X, y = ndl.data.make_spiral(SPIRAL_POINTS_PER_CLASS, num_classes=SHAPES["spiral"][1], seed=0)
    train_set, _, test_set = ndl.data.train_val_test_split(
        X, y, val_fraction=0.0, test_fraction=SPIRAL_TEST_FRACTION, seed=0
    )
    return train_set, test_set, "the 3-arm spiral"


def mnist_folder(data_dir, download):
    """`data_dir` when given, else needle's default MNIST folder (needle.data.default_mnist_dir)."""
    if data_dir is not None:
        return data_dir
    try:
        return Path(ndl.data.default_mnist_dir())
    except (OSError, ValueError) as error:
        where = "; pass --data-dir to choose where --download puts the files" if download else ""
        raise UsageError(f"{error}{where}") from None


def load_mnist(data_dir, download, mirror=None):
    """(train, test, description) from the MNIST files in `data_dir`, fetching them if asked (from
    `mirror`, a base URL; None means DEFAULT_MIRROR).

    With the train files the split is the standard 60,000/10,000; with only t10k, a fixed
    permutation of its images gives 8,000 for training and the rest (10,000: 2,000) held out.
    """
    if download:
        try:
            download_mnist(data_dir, mirror or DEFAULT_MIRROR)
        except DownloadError as error:
            raise UsageError(str(error)) from None
    train_paths = [Path(data_dir) / name for name in TRAIN_FILES]
    test_paths = [Path(data_dir) / name for name in TEST_FILES]
    try:
        if has_files(data_dir, TRAIN_FILES + TEST_FILES):
            train_set = ndl.data.MNISTDataset(*train_paths)
            test_set = ndl.data.MNISTDataset(*test_paths)
            _check_mnist(train_set.labels, train_paths[0])
            _check_mnist(test_set.labels, test_paths[0])
            return train_set, test_set, "MNIST"
        if has_files(data_dir, TEST_FILES):
            X, y = ndl.data.parse_mnist(*test_paths)
            _check_mnist(y, test_paths[0], needed=SPLIT_TRAIN + SPLIT_TEST)
            train_set, _, test_set = ndl.data.train_val_test_split(
                X, y, val_fraction=0.0, test_fraction=1.0 - SPLIT_TRAIN / len(y), seed=0
            )
            print(
                f"only the t10k files are in {data_dir}: training on {len(train_set)} of its "
                f"{len(y)} images and testing on the other {len(test_set)} (a fixed split)"
            )
            return train_set, test_set, "MNIST (t10k split)"
    except ndl.data.MNISTFormatError as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise UsageError(f"cannot read {error.filename}: {error.strerror or error}") from None
    raise UsageError(
        f"no MNIST files in {data_dir}: expected {TEST_FILES[0]} and {TEST_FILES[1]} (and the "
        f"train pair); pass --download to fetch them, or --data-dir"
    )


def _check_mnist(labels, image_path, needed=1):
    """`needed` or more images (the parser has checked their size and labels); else a UsageError."""
    if len(labels) == 0:
        raise UsageError(f"{image_path} holds no images")
    if len(labels) < needed:
        raise UsageError(
            f"{image_path} holds {len(labels)} images; with only the t10k files, the "
            f"{SPLIT_TRAIN}/{SPLIT_TEST} split needs at least {needed}"
        )
