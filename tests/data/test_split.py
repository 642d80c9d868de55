"""Subset and random_split: lengths and fractions, disjoint covers, reproducibility, the loader."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import needle as ndl
from needle.data import DataLoader, Dataset, NDArrayDataset, Subset, random_split


class Numbers(Dataset):
    """A per-example dataset: item i is (float(i), i)."""

    batched = False

    def __init__(self, size):
        self.size = size

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        if not isinstance(i, int):
            raise TypeError(f"Numbers takes one int, got {type(i).__name__}")
        return float(i), i


def rows(dataset):
    """The first field of every example of `dataset`, read one at a time."""
    return [int(np.asarray(dataset[i][0])) for i in range(len(dataset))]


def test_subset_reads_its_dataset_at_its_indices_in_order():
    dataset = NDArrayDataset(np.arange(10) * 10)
    subset = Subset(dataset, [7, 2, -1])
    assert len(subset) == 3
    assert subset.dataset is dataset and subset.indices.tolist() == [7, 2, 9]
    assert rows(subset) == [70, 20, 90]
    np.testing.assert_array_equal(subset[np.array([2, 0])][0], [90, 70])


def test_a_subset_is_read_the_way_its_dataset_is():
    assert Subset(NDArrayDataset(np.arange(4)), [1]).batched
    assert not Subset(Numbers(4), [1]).batched
    assert not Subset([(1.0,), (2.0,)], [1]).batched
    assert Subset(Numbers(5), [4, 0])[0] == (4.0, 4)


def test_subsets_of_subsets_compose():
    subset = Subset(Subset(NDArrayDataset(np.arange(10)), [9, 8, 7, 6]), [3, 0])
    assert rows(subset) == [6, 9]


@pytest.mark.parametrize(
    "indices, error, message",
    [([0, 5], IndexError, "index 5 is out of range for a dataset of 5"),
     ([-6], IndexError, "index -6 is out of range"),
     ([0.5], TypeError, "1-D list of ints, got dtype float64"),
     ([[0, 1]], TypeError, r"shape \(1, 2\)")],
)
def test_subset_rejects_bad_indices(indices, error, message):
    with pytest.raises(error, match=f"Subset: .*{message}"):
        Subset(NDArrayDataset(np.arange(5)), indices)


def test_an_empty_subset_is_allowed():
    assert len(Subset(NDArrayDataset(np.arange(5)), [])) == 0


def test_random_split_by_lengths_draws_one_global_permutation():
    np.random.seed(0)
    order = np.random.permutation(10)
    np.random.seed(0)
    splits = random_split(NDArrayDataset(np.arange(10)), [6, 3, 1])
    assert [len(s) for s in splits] == [6, 3, 1]
    assert all(isinstance(s, Subset) for s in splits)
    expected = [order[:6].tolist(), order[6:9].tolist(), order[9:].tolist()]
    assert [s.indices.tolist() for s in splits] == expected


def test_random_split_consumes_exactly_one_permutation_of_the_global_rng():
    np.random.seed(7)
    np.random.permutation(10)
    expected = np.random.get_state()
    np.random.seed(7)
    random_split(NDArrayDataset(np.arange(10)), [5, 5])
    after = np.random.get_state()
    assert expected[2:] == after[2:]
    np.testing.assert_array_equal(expected[1], after[1])


@pytest.mark.parametrize(
    "size, fractions, lengths",
    [(10, [0.7, 0.2, 0.1], [7, 2, 1]), (11, [0.5, 0.5], [6, 5]), (7, [0.3, 0.3, 0.4], [3, 2, 2]),
     (5, [1 / 3, 1 / 3, 1 / 3], [2, 2, 1]), (4, [1.0], [4]), (3, [0.25, 0.25, 0.5], [1, 1, 1])],
)
def test_random_split_by_fractions_floors_and_hands_out_the_rest_in_order(size, fractions, lengths):
    splits = random_split(NDArrayDataset(np.arange(size)), fractions, seed=0)
    assert [len(s) for s in splits] == lengths


@pytest.mark.parametrize("size, fractions", [(10, [0.7, 0.2, 0.1]), (11, [0.5, 0.5]), (7, [0.3, 0.3, 0.4]),
                                             (5, [1 / 3, 1 / 3, 1 / 3]), (3, [0.25, 0.25, 0.5])])
def test_random_split_lengths_agree_with_torch(size, fractions):
    torch = pytest.importorskip("torch")
    theirs = torch.utils.data.random_split(range(size), fractions, generator=torch.Generator().manual_seed(0))
    ours = random_split(NDArrayDataset(np.arange(size)), fractions, seed=0)
    assert [len(s) for s in ours] == [len(s) for s in theirs]


def test_a_fraction_that_rounds_to_no_examples_warns():
    with pytest.warns(UserWarning, match="split 1 of fractions"):
        splits = random_split(NDArrayDataset(np.arange(2)), [0.9, 0.1], seed=0)
    assert [len(s) for s in splits] == [2, 0]


def test_random_split_with_a_seed_or_a_generator_is_reproducible_and_leaves_the_global_rng_alone():
    dataset = NDArrayDataset(np.arange(20))
    before = np.random.get_state()
    first = [s.indices.tolist() for s in random_split(dataset, [0.5, 0.5], seed=3)]
    again = [s.indices.tolist() for s in random_split(dataset, [10, 10], seed=3)]
    from_generator = [s.indices.tolist() for s in random_split(dataset, [10, 10], np.random.default_rng(3))]
    other = [s.indices.tolist() for s in random_split(dataset, [10, 10], seed=4)]
    assert first == again == from_generator != other
    expected = np.random.default_rng(3).permutation(20).tolist()
    assert first[0] + first[1] == expected
    np.testing.assert_array_equal(np.random.get_state()[1], before[1])
    legacy = random_split(dataset, [10, 10], np.random.RandomState(3))
    assert legacy[0].indices.tolist() == np.random.RandomState(3).permutation(20)[:10].tolist()


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(0, 8), min_size=1, max_size=5), seed=st.integers(0, 2**32 - 1))
def test_random_split_covers_the_dataset_once_with_disjoint_subsets(lengths, seed):
    size = sum(lengths)
    splits = random_split(NDArrayDataset(np.arange(size)), lengths, seed=seed)
    assert [len(s) for s in splits] == lengths
    seen = np.concatenate([rows(s) for s in splits] + [np.array([], dtype=int)])
    assert sorted(seen.tolist()) == list(range(size))


@pytest.mark.parametrize(
    "lengths, error, message",
    [([3, 3], ValueError, r"lengths \[3, 3\] must be >= 0 and sum to the dataset's length 5"),
     ([6, -1], ValueError, "must be >= 0"),
     ([0.5, 0.6], ValueError, "must lie in \\[0, 1\\] and sum to 1"),
     ([1.5, -0.5], ValueError, "must lie in \\[0, 1\\]"),
     ([], ValueError, "lengths is empty"),
     ([True, 4], TypeError, "ints or fractions"),
     (["3", 2], TypeError, "ints or fractions")],
)
def test_random_split_rejects_bad_lengths(lengths, error, message):
    with pytest.raises(error, match=f"random_split: .*{message}"):
        random_split(NDArrayDataset(np.arange(5)), lengths)


def test_random_split_ints_that_sum_to_one_are_counts_not_fractions():
    splits = random_split(NDArrayDataset(np.arange(1)), [1, 0], seed=0)
    assert [len(s) for s in splits] == [1, 0]
    with pytest.raises(ValueError, match="sum to the dataset's length 5"):
        random_split(NDArrayDataset(np.arange(5)), [1, 0])


def test_random_split_takes_a_generator_or_a_seed_not_both_nor_other_things():
    dataset = NDArrayDataset(np.arange(4))
    with pytest.raises(TypeError, match="a generator or a seed, not both"):
        random_split(dataset, [2, 2], np.random.default_rng(0), seed=0)
    with pytest.raises(TypeError, match="NumPy Generator or RandomState, got int"):
        random_split(dataset, [2, 2], 0)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        random_split(dataset, [2, 2], sed=0)


@pytest.mark.parametrize("dataset", [NDArrayDataset(np.arange(9.0)), Numbers(9)])
def test_the_loader_reads_the_splits_of_either_kind_of_dataset(dataset):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train, test = random_split(dataset, [0.75, 0.25], seed=1)
    batches = list(DataLoader(train, batch_size=4)) + list(DataLoader(test, batch_size=4))
    assert [b[0].shape for b in batches] == [(4,), (3,), (2,)]
    seen = np.concatenate([b[0].numpy() for b in batches]).astype(int)
    order = np.concatenate([train.indices, test.indices])
    np.testing.assert_array_equal(seen, order)
    assert sorted(seen.tolist()) == list(range(9))
    assert all(isinstance(t, ndl.Tensor) for b in batches for t in b)
