"""DataLoader: batch order, shuffling (one permutation per iteration), short and dropped last batches."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import needle as ndl
from needle.data import DataLoader, NDArrayDataset


def make_dataset(size):
    """Rows that name their index: features[i] = [i, i + 0.5] (float32), labels[i] = i % 7 (uint8)."""
    index = np.arange(size)
    features = np.stack([index, index + 0.5], axis=1).astype(np.float32)
    return NDArrayDataset(features, (index % 7).astype(np.uint8))


def assert_same_rng_state(a, b):
    assert a[0] == b[0] and a[2:] == b[2:]
    np.testing.assert_array_equal(a[1], b[1])


class RecordingDataset(NDArrayDataset):
    """An NDArrayDataset that remembers every index it is asked for."""

    def __init__(self, *arrays):
        super().__init__(*arrays)
        self.requests = []

    def __getitem__(self, index):
        self.requests.append(index)
        return super().__getitem__(index)


def test_batches_are_consecutive_and_the_last_is_short():
    dataset = make_dataset(10)
    loader = DataLoader(dataset, batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    for batch, rows in zip(batches, [range(0, 4), range(4, 8), range(8, 10)]):
        expected = dataset[np.array(rows)]
        assert isinstance(batch, tuple) and len(batch) == 2
        for tensor, array in zip(batch, expected):
            assert isinstance(tensor, ndl.Tensor)
            np.testing.assert_array_equal(tensor.numpy(), array)
            assert tensor.dtype == array.dtype


def test_drop_last_drops_only_the_short_batch():
    assert [b[0].shape[0] for b in DataLoader(make_dataset(10), 4, drop_last=True)] == [4, 4]
    assert len(DataLoader(make_dataset(10), 4, drop_last=True)) == 2
    assert len(DataLoader(make_dataset(12), 4, drop_last=True)) == 3
    assert len(DataLoader(make_dataset(3), 4, drop_last=True)) == 0


def test_default_batch_size_is_one():
    batches = list(DataLoader(make_dataset(3)))
    assert [b[0].shape for b in batches] == [(1, 2)] * 3


def test_batches_are_constant_leaves():
    for features, labels in DataLoader(make_dataset(5), batch_size=2):
        for tensor in (features, labels):
            assert not tensor.requires_grad
            assert tensor.op is None and tensor.inputs == ()


def test_the_dataset_is_indexed_with_integer_index_arrays():
    dataset = RecordingDataset(np.arange(7))
    list(DataLoader(dataset, batch_size=3))
    assert all(isinstance(i, np.ndarray) and i.dtype.kind == "i" for i in dataset.requests)
    assert [i.tolist() for i in dataset.requests] == [[0, 1, 2], [3, 4, 5], [6]]


def test_shuffle_draws_one_permutation_and_batches_follow_it():
    dataset = make_dataset(11)
    np.random.seed(3)
    expected_order = np.random.permutation(11)
    expected_state = np.random.get_state()
    np.random.seed(3)
    batches = list(DataLoader(dataset, batch_size=4, shuffle=True))
    assert_same_rng_state(np.random.get_state(), expected_state)
    order = np.concatenate([b[0].numpy()[:, 0] for b in batches]).astype(int)
    np.testing.assert_array_equal(order, expected_order)
    assert [b[0].shape[0] for b in batches] == [4, 4, 3]


def test_each_iteration_draws_a_fresh_permutation():
    dataset = make_dataset(9)
    np.random.seed(5)
    first, second = np.random.permutation(9), np.random.permutation(9)
    np.random.seed(5)
    loader = DataLoader(dataset, batch_size=2, shuffle=True)
    for expected in (first, second):
        labels = np.concatenate([b[0].numpy()[:, 0] for b in loader]).astype(int)
        np.testing.assert_array_equal(labels, expected)


def test_the_permutation_is_drawn_when_iteration_starts():
    np.random.seed(2)
    expected_order = np.random.permutation(6)
    expected_state = np.random.get_state()
    np.random.seed(2)
    batches = iter(DataLoader(make_dataset(6), batch_size=2, shuffle=True))
    assert_same_rng_state(np.random.get_state(), expected_state)
    np.random.rand(100)  # draws between iter() and the first batch leave the epoch's order alone
    rows = np.concatenate([b[0].numpy()[:, 0] for b in batches]).astype(int)
    np.testing.assert_array_equal(rows, expected_order)


def test_without_shuffle_the_loader_draws_nothing():
    before = np.random.get_state()
    list(DataLoader(make_dataset(8), batch_size=3))
    assert_same_rng_state(np.random.get_state(), before)


def test_a_dataset_returning_a_bare_array_gives_one_tensor_batches():
    class Squares(ndl.data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, index):
            return np.asarray(index) ** 2

    batches = list(DataLoader(Squares(), batch_size=3))
    assert [len(b) for b in batches] == [1, 1]
    np.testing.assert_array_equal(batches[1][0].numpy(), [9, 16])


def test_an_empty_dataset_yields_no_batches():
    loader = DataLoader(make_dataset(0), batch_size=4, shuffle=True)
    assert len(loader) == 0 and list(loader) == []


@pytest.mark.parametrize(
    "batch_size, error, message",
    [(0, ValueError, "positive, got 0"), (-2, ValueError, "positive, got -2"),
     (2.5, TypeError, "int, got 2.5"), (True, TypeError, "int, got True")],
)
def test_bad_batch_sizes_are_rejected(batch_size, error, message):
    with pytest.raises(error, match=message):
        DataLoader(make_dataset(3), batch_size=batch_size)


@settings(max_examples=30, deadline=None)
@given(
    size=st.integers(0, 40),
    batch_size=st.integers(1, 12),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_batches_cover_the_order_in_chunks_of_batch_size(size, batch_size, shuffle, drop_last, seed):
    dataset = make_dataset(size)
    np.random.seed(seed)
    order = np.random.permutation(size) if shuffle else np.arange(size)
    kept = size - size % batch_size if drop_last else size
    np.random.seed(seed)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
    batches = list(loader)
    assert len(batches) == len(loader)
    sizes = [b[0].shape[0] for b in batches]
    assert all(n == batch_size for n in sizes[:-1]) and sum(sizes) == kept
    if batches:
        rows = np.concatenate([b[0].numpy()[:, 0] for b in batches]).astype(int)
        np.testing.assert_array_equal(rows, order[:kept])
        labels = np.concatenate([b[1].numpy() for b in batches])
        np.testing.assert_array_equal(labels, dataset.arrays[1][order[:kept]])
