"""DataLoader: batch order, shuffling (one permutation per iteration), short and dropped last batches,
batched and per-example datasets, collate_fn."""
import doctest
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import needle as ndl
from needle.data import DataLoader, Dataset, NDArrayDataset, TensorDataset, default_collate


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


def test_a_batched_dataset_returning_a_bare_array_gives_one_tensor_batches():
    class Squares(ndl.data.Dataset):
        batched = True

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


class Pairs(Dataset):
    """A per-example dataset: item i is (features [i, i + 0.5] float32, label i % 3, weight i / 2)."""

    def __init__(self, size):
        super().__init__()
        self.size = size
        self.requests = []

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        self.requests.append(i)
        return np.array([i, i + 0.5], dtype=np.float32), i % 3, i / 2


class Records(Pairs):
    """Pairs as dicts."""

    def __getitem__(self, i):
        features, label, weight = super().__getitem__(i)
        return {"features": features, "label": label, "weight": weight}


def test_a_per_example_dataset_is_read_one_int_at_a_time_and_stacked():
    dataset = Pairs(5)
    batches = list(DataLoader(dataset, batch_size=2))
    assert dataset.requests == [0, 1, 2, 3, 4] and all(type(i) is int for i in dataset.requests)
    assert [len(b) for b in batches] == [3, 3, 3] and all(isinstance(b, tuple) for b in batches)
    features, labels, weights = batches[1]
    assert features.dtype == np.float32 and features.numpy().tolist() == [[2, 2.5], [3, 3.5]]
    assert labels.dtype == np.int64 and labels.numpy().tolist() == [2, 0]
    assert weights.dtype == np.float64 and weights.numpy().tolist() == [1.0, 1.5]
    assert [b[0].shape[0] for b in batches] == [2, 2, 1]
    assert all(not t.requires_grad and t.op is None for b in batches for t in b)


def test_dict_examples_give_dict_batches():
    batches = list(DataLoader(Records(4), batch_size=3))
    assert [set(b) for b in batches] == [{"features", "label", "weight"}] * 2
    assert batches[0]["features"].shape == (3, 2) and batches[1]["label"].numpy().tolist() == [0]
    np.testing.assert_array_equal(batches[0]["weight"].numpy(), [0.0, 0.5, 1.0])


def test_examples_that_are_one_array_or_one_number_give_one_tensor_a_batch():
    arrays = [np.full(2, k, dtype=np.float32) for k in range(3)]
    batches = list(DataLoader(arrays, batch_size=2))
    assert all(isinstance(b, ndl.Tensor) for b in batches)
    assert batches[0].numpy().tolist() == [[0, 0], [1, 1]] and batches[1].shape == (1, 2)
    numbers = list(DataLoader([0.5, 1.5, 2.5], batch_size=3))
    assert len(numbers) == 1 and numbers[0].dtype == np.float64
    assert numbers[0].numpy().tolist() == [0.5, 1.5, 2.5]


def test_a_per_example_dataset_shuffles_with_one_permutation_per_iteration():
    dataset = Pairs(7)
    np.random.seed(4)
    first, second = np.random.permutation(7), np.random.permutation(7)
    expected_state = np.random.get_state()
    np.random.seed(4)
    loader = DataLoader(dataset, batch_size=3, shuffle=True)
    for expected in (first, second):
        labels = np.concatenate([b[0].numpy()[:, 0] for b in loader]).astype(int)
        np.testing.assert_array_equal(labels, expected)
    assert_same_rng_state(np.random.get_state(), expected_state)
    assert dataset.requests == first.tolist() + second.tolist()


@pytest.mark.parametrize("size, batch_size, sizes", [(7, 3, [3, 3]), (6, 3, [3, 3]), (2, 3, [])])
def test_drop_last_drops_the_short_batch_of_a_per_example_dataset(size, batch_size, sizes):
    dataset = Pairs(size)
    loader = DataLoader(dataset, batch_size=batch_size, drop_last=True)
    assert [b[0].shape[0] for b in loader] == sizes and len(loader) == len(sizes)
    assert dataset.requests == list(range(sum(sizes)))


def test_the_batched_and_per_example_readings_of_an_ndarray_dataset_agree():
    dataset = make_dataset(7)
    np.random.seed(1)
    batched = list(DataLoader(dataset, batch_size=3, shuffle=True))
    np.random.seed(1)
    one_by_one = list(DataLoader(dataset, batch_size=3, shuffle=True, collate_fn=default_collate))
    for ours, theirs in zip(batched, one_by_one, strict=True):
        for a, b in zip(ours, theirs, strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_collate_fn_gets_the_list_of_examples_of_either_kind_of_dataset():
    seen = []

    def collate(examples):
        seen.append(examples)
        return len(examples)

    assert list(DataLoader(Pairs(5), batch_size=2, collate_fn=collate)) == [2, 2, 1]
    assert [len(examples) for examples in seen] == [2, 2, 1] and seen[2][0][1] == 4 % 3
    seen.clear()
    dataset = RecordingDataset(np.arange(5) * 10)
    assert list(DataLoader(dataset, batch_size=4, collate_fn=collate, drop_last=True)) == [4]
    assert dataset.requests == [0, 1, 2, 3]
    assert [example[0] for example in seen[0]] == [0, 10, 20, 30]


def test_collate_fn_must_be_callable_and_unknown_arguments_are_refused():
    with pytest.raises(TypeError, match="collate_fn must be callable, got str"):
        DataLoader(make_dataset(3), collate_fn="stack")
    with pytest.raises(TypeError, match="unexpected keyword argument 'num_worker'"):
        DataLoader(make_dataset(3), num_worker=0)


def test_a_tensor_dataset_gives_tuples_of_tensor_batches():
    x = ndl.Tensor(np.arange(10.0).reshape(5, 2))
    batches = list(DataLoader(TensorDataset(x, np.arange(5) % 2), batch_size=2))
    assert [(b[0].shape, b[1].shape) for b in batches] == [((2, 2), (2,)), ((2, 2), (2,)), ((1, 2), (1,))]
    np.testing.assert_array_equal(batches[2][0].numpy(), [[8.0, 9.0]])
    assert all(not t.requires_grad for b in batches for t in b)


class Declared(Dataset):
    """Says `batched = True` but takes one int: PyTorch's style under the wrong declaration."""

    batched = True

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return np.zeros(3), 7


class ListBacked(Declared):
    def __init__(self):
        super().__init__()
        self.examples = [(np.zeros(3), 0)] * 4

    def __getitem__(self, i):
        return self.examples[i]


def test_a_batched_dataset_that_returns_no_batch_is_refused_naming_its_declaration():
    with pytest.raises(ValueError, match=r"DataLoader: Declared\[index array of 2\] returned shape \(3,\), "
                                         r"not a batch of 2 along axis 0; Declared.batched is True"):
        list(DataLoader(Declared(), batch_size=2))
    with pytest.raises(ValueError, match=r"Declared\[index array of 3\] returned a value of type int"):
        list(DataLoader(Declared(), batch_size=3))


def test_a_batched_dataset_may_return_a_dict_of_batches():
    class Columns(NDArrayDataset):
        def __getitem__(self, index):
            features, labels = super().__getitem__(index)
            return {"x": features, "y": labels}

    batches = list(DataLoader(Columns(np.arange(10.0).reshape(5, 2), np.arange(5)), batch_size=3))
    assert [set(b) for b in batches] == [{"x", "y"}] * 2
    assert batches[1]["x"].numpy().tolist() == [[6.0, 7.0], [8.0, 9.0]] and batches[1]["y"].shape == (2,)


def test_a_per_example_dataset_is_never_given_an_index_array():
    class IntOnly(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.full(2, i, dtype=np.float32), i

    (features, labels), = DataLoader(IntOnly(), batch_size=4)
    assert features.numpy().tolist() == [[0, 0], [1, 1], [2, 2], [3, 3]]
    assert labels.numpy().tolist() == [0, 1, 2, 3]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes arrived in Python 3.11")
def test_an_error_reading_a_batched_dataset_notes_the_declaration():
    with pytest.raises(TypeError) as info:
        list(DataLoader(ListBacked(), batch_size=2))
    notes = "".join(info.value.__notes__)
    assert "ListBacked.batched is True, so its __getitem__ must take an index array" in notes


def test_the_dataset_docstring_example_runs():
    finder = doctest.DocTestFinder(recurse=False)
    (test,) = finder.find(Dataset, "Dataset", globs={"Dataset": Dataset, "DataLoader": DataLoader})
    result = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE).run(test)
    assert result.attempted == 3 and result.failed == 0


@pytest.mark.parametrize("size, batch_size, drop_last", [(7, 3, False), (7, 3, True), (4, 5, False)])
@pytest.mark.parametrize("kind", [Pairs, Records])
def test_per_example_batches_match_torch(kind, size, batch_size, drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    ours = list(DataLoader(kind(size), batch_size=batch_size, drop_last=drop_last))
    theirs = list(torch_data.DataLoader(kind(size), batch_size=batch_size, drop_last=drop_last))
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs):
        if isinstance(mine, dict):
            mine, reference = [mine[k] for k in sorted(mine)], [reference[k] for k in sorted(reference)]
        for a, b in zip(mine, reference, strict=True):
            assert a.shape == tuple(b.shape) and a.dtype == np.dtype(str(b.dtype).removeprefix("torch."))
            np.testing.assert_array_equal(a.numpy(), b.numpy())
