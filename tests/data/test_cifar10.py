"""CIFAR-10: the python batches through the restricted unpickler, the binary batches, the dataset,
and every error path (missing, truncated, miscounted, out of range, crafted to run code)."""
import os
import pickle
import struct

import numpy as np
import pytest

import needle as ndl
from needle.data import (
    CIFAR10Dataset, CIFAR10FormatError, DataLoader, RandomFlipHorizontal, read_cifar10_binary, read_cifar10_pickle,
)
from needle.data import cifar10

from .cifar10_files import binary_batch_bytes, python_batch_bytes, write_set


def _pixels(count, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, size=(count, 3072), dtype=np.uint8)
    pixels[0, 0], pixels[-1, -1] = 0, 255
    return pixels


@pytest.fixture(scope="module")
def python_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cifar") / "cifar-10-batches-py"
    return folder, write_set(folder, "python", per_batch=20, test=30)


# ---- reading batches -----------------------------------------------------------------------------

def test_python_batch_in_the_official_layout_is_read_exactly(tmp_path):
    pixels, labels = _pixels(7), [3, 1, 4, 1, 5, 9, 2]
    path = tmp_path / "data_batch_1"
    path.write_bytes(python_batch_bytes(pixels, labels))
    assert path.read_bytes()[:2] == b"\x80\x02"  # Python 2's protocol, as the official files
    got_pixels, got_labels = read_cifar10_pickle(path)
    assert got_pixels.dtype == np.uint8 and got_labels.dtype == np.uint8
    np.testing.assert_array_equal(got_pixels, pixels)
    np.testing.assert_array_equal(got_labels, labels)


@pytest.mark.parametrize("protocol", [3, 4, 5])
def test_python_batch_pickled_by_numpy_under_python_3_is_read(tmp_path, protocol):
    pixels = _pixels(4)
    batch = {"data": pixels, "labels": np.array([0, 9, 2, 7]), "batch_label": "x"}
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps(batch, protocol=protocol))
    got_pixels, got_labels = read_cifar10_pickle(path)
    np.testing.assert_array_equal(got_pixels, pixels)
    np.testing.assert_array_equal(got_labels, [0, 9, 2, 7])


def test_binary_batch_is_read_exactly(tmp_path):
    pixels, labels = _pixels(5), np.array([0, 9, 8, 1, 2], dtype=np.uint8)
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(binary_batch_bytes(pixels, labels))
    got_pixels, got_labels = read_cifar10_binary(path)
    np.testing.assert_array_equal(got_pixels, pixels)
    np.testing.assert_array_equal(got_labels, labels)


# ---- the dataset ---------------------------------------------------------------------------------

def test_dataset_holds_unit_float32_images_in_nchw_and_int_labels(python_set):
    folder, batches = python_set
    train = CIFAR10Dataset(folder, train=True)
    test = CIFAR10Dataset(folder.parent, train=False)  # the archive's subfolder is looked into
    assert len(train) == 100 and len(test) == 30
    pixels = np.concatenate([batches[f"data_batch_{i}"][0] for i in range(1, 6)])
    labels = np.concatenate([batches[f"data_batch_{i}"][1] for i in range(1, 6)])
    assert train.X.dtype == np.float32 and train.X.shape == (100, 3, 32, 32)
    np.testing.assert_array_equal(train.X, pixels.reshape(100, 3, 32, 32) / np.float32(255))
    np.testing.assert_array_equal(train.y, labels)
    assert 0.0 <= train.X.min() and train.X.max() <= 1.0
    image, label = train[3]
    assert image.shape == (3, 32, 32) and type(label) is int and label == labels[3]
    images, some = train[np.array([4, 0])]
    assert images.shape == (2, 3, 32, 32)
    np.testing.assert_array_equal(some, labels[[4, 0]])


def test_binary_batches_give_the_same_dataset(tmp_path, python_set):
    folder, batches = python_set
    write_set(tmp_path, "binary", per_batch=20, test=30)
    for train in (True, False):
        from_binary, from_python = CIFAR10Dataset(tmp_path, train), CIFAR10Dataset(folder, train)
        np.testing.assert_array_equal(from_binary.X, from_python.X)
        np.testing.assert_array_equal(from_binary.y, from_python.y)


def test_loader_batches_are_nchw_tensors(python_set):
    loader = DataLoader(CIFAR10Dataset(python_set[0], train=False), batch_size=8)
    X, y = next(iter(loader))
    assert isinstance(X, ndl.Tensor) and X.shape == (8, 3, 32, 32) and X.dtype == np.float32 and y.shape == (8,)


def test_transforms_see_each_image_as_height_width_channels(python_set):
    plain = CIFAR10Dataset(python_set[0], train=False)
    flipped = CIFAR10Dataset(python_set[0], train=False, transforms=[RandomFlipHorizontal(p=1.0)])
    np.testing.assert_array_equal(flipped[2][0], plain[2][0][:, :, ::-1])  # the width axis mirrors
    np.testing.assert_array_equal(flipped[[1, 2]][0], plain[[1, 2]][0][:, :, :, ::-1])


def test_dataset_checks_p():
    with pytest.raises(ValueError, match=r"CIFAR10Dataset: p must lie in \[0, 1\], got 2"):
        CIFAR10Dataset("nowhere", train=True, p=2)


# ---- error paths ---------------------------------------------------------------------------------

def test_missing_batch_names_the_folder_and_the_files(tmp_path, python_set):
    write_set(tmp_path, "python", per_batch=2, test=2)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match=r"no training batches in .*data_batch_1, data_batch_2"):
        CIFAR10Dataset(tmp_path, train=True)
    assert len(CIFAR10Dataset(tmp_path, train=False)) == 2


def test_truncated_python_batch_is_refused(tmp_path):
    whole = python_batch_bytes(_pixels(3), [1, 2, 3])
    path = tmp_path / "test_batch"
    for cut in (len(whole) // 2, len(whole) - 1, 10):
        path.write_bytes(whole[:cut])
        with pytest.raises(CIFAR10FormatError, match=r"test_batch: not a pickle, or truncated"):
            read_cifar10_pickle(path)


def test_truncated_binary_batch_is_refused(tmp_path):
    path = tmp_path / "test_batch.bin"
    path.write_bytes(binary_batch_bytes(_pixels(3), [1, 2, 3])[:-100])
    with pytest.raises(CIFAR10FormatError, match=r"9119 bytes is not 1\.\.10000 records of 3073 bytes"):
        read_cifar10_binary(path)
    path.write_bytes(b"")
    with pytest.raises(CIFAR10FormatError, match="0 bytes"):
        read_cifar10_binary(path)


def test_array_shorter_than_its_declared_shape_is_refused_without_allocating_it(tmp_path):
    batch = python_batch_bytes(_pixels(2), [1, 2])
    declared = struct.pack("<i", 2) + pickle.BININT + struct.pack("<i", 3072)
    assert batch.count(declared) == 1
    forged = batch.replace(declared, struct.pack("<i", 10**9) + pickle.BININT + struct.pack("<i", 3072))
    path = tmp_path / "test_batch"
    path.write_bytes(forged)
    with pytest.raises(CIFAR10FormatError, match=r"truncated array: shape \(1000000000, 3072\) of uint8 needs"):
        read_cifar10_pickle(path)


def test_wrong_label_count_is_refused(tmp_path):
    path = tmp_path / "test_batch"
    path.write_bytes(python_batch_bytes(_pixels(3), [1, 2]))
    with pytest.raises(CIFAR10FormatError, match="test_batch: 3 images but 2 labels"):
        read_cifar10_pickle(path)


@pytest.mark.parametrize("label", [10, 255])
def test_label_outside_the_ten_classes_is_refused(tmp_path, label):
    path = tmp_path / "test_batch"
    path.write_bytes(python_batch_bytes(_pixels(3), [1, label, 2]))
    with pytest.raises(CIFAR10FormatError, match=f"label {label} at index 1 is outside 0..9"):
        read_cifar10_pickle(path)
    path = tmp_path / "test_batch.bin"
    path.write_bytes(binary_batch_bytes(_pixels(3), [1, 2, label]))
    with pytest.raises(CIFAR10FormatError, match=f"label {label} in record 2 is outside 0..9"):
        read_cifar10_binary(path)


@pytest.mark.parametrize("pixels", [np.zeros((2, 3072), dtype=np.float64), np.zeros((2, 100), dtype=np.uint8)],
                         ids=["float64", "wrong width"])
def test_data_that_is_not_uint8_rows_of_3072_is_refused(tmp_path, pixels):
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps({b"data": pixels, b"labels": [0, 1]}, protocol=4))
    refusal = r"test_batch: (the pickle asks for a NumPy dtype 'f8'|'data' is uint8 \(2, 100\))"
    with pytest.raises(CIFAR10FormatError, match=refusal):
        read_cifar10_pickle(path)


class _RunsCommand:
    """Pickles as a call of os.system(command): what a crafted batch would hide."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def _crafted_protocol_0(command):
    """A protocol-0 pickle naming the module os and the global system, the way Python 2 would."""
    return b"cos\nsystem\n(S'" + command.encode() + b"'\ntR."


@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_pickle_naming_os_system_is_refused_and_runs_nothing(tmp_path, protocol):
    marker = tmp_path / "ran"
    command = f"touch {marker}"
    payload = _crafted_protocol_0(command) if protocol == 0 else pickle.dumps(
        {"data": _RunsCommand(command), "labels": [0]}, protocol=protocol
    )
    path = tmp_path / "data_batch_1"
    path.write_bytes(payload)
    with pytest.raises(CIFAR10FormatError, match=r"data_batch_1: refused to load the global (os|posix)\.system"):
        read_cifar10_pickle(path)
    assert not marker.exists()
    pickle.loads(payload)  # the same bytes, unrestricted, do run it: the payload is live
    assert marker.exists()


@pytest.mark.parametrize("name", [b"builtins\neval\n", b"numpy\nload\n", b"numpy.core.multiarray\nscalar\n"])
def test_any_other_global_is_refused_by_name(tmp_path, name):
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.PROTO + b"\x02" + pickle.GLOBAL + name + pickle.STOP)
    module, attribute = name.decode().split()
    with pytest.raises(CIFAR10FormatError, match=f"refused to load the global {module}.{attribute}:"):
        read_cifar10_pickle(path)


def test_a_file_larger_than_a_batch_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "MAX_PICKLE_BYTES", 1000)
    path = tmp_path / "test_batch"
    path.write_bytes(python_batch_bytes(_pixels(1), [0]))
    with pytest.raises(CIFAR10FormatError, match=r"test_batch: \d+ bytes; a CIFAR-10 python batch .* is at most 1000"):
        read_cifar10_pickle(path)


def test_a_pickle_of_many_small_objects_is_refused_before_any_is_made(tmp_path):
    path = tmp_path / "test_batch"
    count = cifar10.MAX_OPCODES + 10
    path.write_bytes(pickle.PROTO + b"\x02" + pickle.MARK + pickle.EMPTY_LIST * count + pickle.LIST + pickle.STOP)
    with pytest.raises(CIFAR10FormatError, match=f"more than {cifar10.MAX_OPCODES} pickle opcodes"):
        read_cifar10_pickle(path)


def test_a_batch_that_is_not_a_dict_or_lacks_data_is_refused(tmp_path):
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(CIFAR10FormatError, match="holds a list; a CIFAR-10 batch is a dict"):
        read_cifar10_pickle(path)
    path.write_bytes(pickle.dumps({b"labels": [1]}, protocol=4))
    with pytest.raises(CIFAR10FormatError, match="the batch has no 'data' entry"):
        read_cifar10_pickle(path)
