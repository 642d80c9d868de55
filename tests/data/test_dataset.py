"""Dataset's transform pipeline, NDArrayDataset's and TensorDataset's indexing."""
import numpy as np
import pytest

import needle as ndl
from needle.data import Dataset, NDArrayDataset, TensorDataset


@pytest.mark.parametrize(
    "module, names",
    [
        ("dataset", ["Dataset", "NDArrayDataset", "TensorDataset"]),
        ("split", ["Subset", "random_split"]),
        ("collate", ["default_collate"]),
        ("loader", ["DataLoader"]),
        ("mnist", ["MNISTDataset", "MNISTFormatError", "parse_mnist", "read_idx", "default_mnist_dir"]),
        ("transforms", ["RandomFlipHorizontal", "RandomCrop"]),
        ("synthetic", ["make_spiral", "make_linear_regression", "train_val_test_split"]),
    ],
)
def test_data_names_are_reexported_flat(module, names):
    for name in names:
        assert getattr(ndl.data, name) is getattr(getattr(ndl.data, module), name)
        assert name in ndl.data.__all__


@pytest.mark.parametrize("method", [lambda d: d[0], len])
def test_base_dataset_access_is_abstract_and_names_the_class(method):
    class Empty(Dataset):
        pass

    with pytest.raises(NotImplementedError, match="Empty"):
        method(Empty())


def test_apply_transforms_runs_in_list_order():
    dataset = Dataset(transforms=[lambda x: x * 2, lambda x: x + 1, lambda x: -x])
    np.testing.assert_array_equal(dataset.apply_transforms(np.array([1.0, 3.0])), [-3.0, -7.0])


@pytest.mark.parametrize("transforms", [None, []])
def test_apply_transforms_without_transforms_returns_the_input_itself(transforms):
    x = np.arange(3)
    assert Dataset(transforms).apply_transforms(x) is x


INDICES = [
    2, slice(1, 4), np.array([4, 0, 0, 3]), np.array([], dtype=int), np.array([1, 2, 3]),
    np.array([1, 2, 4]), np.array([-3, -2, -1]), np.array([3]), np.array([0, 1], dtype=np.uint8),
]


@pytest.mark.parametrize("index", INDICES)
def test_ndarray_dataset_indexes_every_array_alike(index):
    features = np.arange(15, dtype=np.float32).reshape(5, 3)
    labels = np.array([9, 8, 7, 6, 5], dtype=np.uint8)
    item = NDArrayDataset(features, labels)[index]
    assert isinstance(item, tuple) and len(item) == 2
    np.testing.assert_array_equal(item[0], features[index])
    np.testing.assert_array_equal(item[1], labels[index])
    assert item[0].dtype == np.float32 and item[1].dtype == np.uint8


def test_an_index_array_counting_up_by_one_reads_a_view_and_any_other_a_copy():
    features = np.arange(15, dtype=np.float32).reshape(5, 3)
    dataset = NDArrayDataset(features)
    assert np.shares_memory(dataset[np.arange(1, 4)][0], features)
    for index in (np.array([1, 3, 2]), np.array([-2, -1]), np.array([0, 2, 3]), np.array([0, 2, 1, 3]),
                  np.array([1, 2, 2, 4])):
        assert not np.shares_memory(dataset[index][0], features)


def test_an_index_array_running_past_the_end_raises_like_numpy():
    with pytest.raises(IndexError):
        NDArrayDataset(np.zeros((5, 3)))[np.array([3, 4, 5])]


def test_ndarray_dataset_keeps_its_arrays_without_copying():
    features = np.zeros((4, 2))
    dataset = NDArrayDataset(features)
    assert len(dataset) == 4
    assert dataset.arrays[0] is features
    assert isinstance(dataset[1], tuple) and len(dataset[1]) == 1


def test_ndarray_dataset_accepts_nested_lists():
    dataset = NDArrayDataset([[1, 2], [3, 4], [5, 6]], [0, 1, 0])
    assert len(dataset) == 3
    np.testing.assert_array_equal(dataset[np.array([2, 0])][0], [[5, 6], [1, 2]])


@pytest.mark.parametrize(
    "arrays, message",
    [
        ((), "at least one array"),
        ((np.zeros((3, 2)), np.zeros(4)), r"\(3, 2\), \(4,\) differ in length"),
        ((np.float32(1.0),), "0-d"),
    ],
)
def test_ndarray_dataset_rejects_bad_arrays(arrays, message):
    with pytest.raises(ValueError, match=message):
        NDArrayDataset(*arrays)


def test_a_subclass_that_skips_the_base_initializer_has_no_transforms():
    class Plain(Dataset):
        def __init__(self):
            pass

    x = np.arange(3)
    assert Plain().apply_transforms(x) is x


def test_only_the_course_datasets_are_read_a_batch_at_a_time():
    class PerExample(Dataset):
        pass

    assert NDArrayDataset.batched and TensorDataset.batched and ndl.data.MNISTDataset.batched
    assert not Dataset.batched and not PerExample.batched


@pytest.mark.parametrize("index", INDICES)
def test_tensor_dataset_gives_constant_tensors_indexed_alike(index):
    features = np.arange(15, dtype=np.float32).reshape(5, 3)
    labels = ndl.Tensor(np.array([9, 8, 7, 6, 5]))
    item = TensorDataset(ndl.Tensor(features), labels)[index]
    assert isinstance(item, tuple) and len(item) == 2
    assert all(isinstance(t, ndl.Tensor) and not t.requires_grad and t.op is None for t in item)
    np.testing.assert_array_equal(item[0].numpy(), features[index])
    np.testing.assert_array_equal(item[1].numpy(), labels.numpy()[index])
    assert item[0].dtype == np.float32 and item[1].dtype == np.int64


def test_tensor_dataset_item_i_is_row_i_of_each_tensor_without_copying():
    x = ndl.Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    dataset = TensorDataset(x, np.array([0, 1, 0]))
    assert len(dataset) == 3
    row, label = dataset[1]
    assert row.shape == (2,) and label.shape == ()
    assert row.numpy().tolist() == [3.0, 4.0] and label.numpy() == 1
    assert np.shares_memory(row.numpy(), x.numpy())


def test_tensor_dataset_agrees_with_torch():
    torch = pytest.importorskip("torch")
    x, y = np.arange(12.0).reshape(4, 3), np.array([3, 1, 2, 0])
    ours, theirs = TensorDataset(x, y), torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y))
    assert len(ours) == len(theirs)
    for i in range(4):
        for mine, reference in zip(ours[i], theirs[i]):
            np.testing.assert_array_equal(mine.numpy(), reference.numpy())


@pytest.mark.parametrize(
    "tensors, message",
    [
        ((), "TensorDataset: needs at least one array"),
        ((ndl.Tensor(np.zeros((3, 2))), np.zeros(4)), r"TensorDataset: arrays \(3, 2\), \(4,\) differ"),
        ((ndl.Tensor(1.0),), "TensorDataset: every array needs a first axis"),
    ],
)
def test_tensor_dataset_rejects_tensors_of_different_lengths(tensors, message):
    with pytest.raises(ValueError, match=message):
        TensorDataset(*tensors)
