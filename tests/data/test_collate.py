"""default_collate: PyTorch's stacking rules for arrays, Tensors, numbers, strings and containers."""
import collections

import numpy as np
import pytest

import needle as ndl
from needle.data import default_collate

Point = collections.namedtuple("Point", ["x", "label"])


def test_arrays_and_tensors_stack_along_a_new_first_axis_keeping_their_dtype():
    rows = [np.array([1, 2], dtype=np.float32), np.array([3, 4], dtype=np.float32)]
    batch = default_collate(rows)
    assert isinstance(batch, ndl.Tensor) and not batch.requires_grad and batch.op is None
    assert batch.dtype == np.float32 and batch.numpy().tolist() == [[1, 2], [3, 4]]
    tensors = default_collate([ndl.Tensor([1.0, 2.0]), ndl.Tensor([3.0, 4.0])])
    assert tensors.shape == (2, 2) and not tensors.requires_grad and tensors.dtype == np.float64
    labels = default_collate([np.uint8(3), np.uint8(9)])
    assert labels.dtype == np.uint8 and labels.numpy().tolist() == [3, 9]


@pytest.mark.parametrize(
    "numbers, dtype",
    [([0.5, 2.0], np.float64), ([1, 2], np.int64), ([True, False], np.bool_), ([1, 2.5], np.float64),
     ([True, 2], np.int64)],
)
def test_python_numbers_become_float64_int64_or_bool_as_in_pytorch(numbers, dtype):
    batch = default_collate(numbers)
    assert batch.dtype == dtype and batch.shape == (2,)
    np.testing.assert_array_equal(batch.numpy(), np.array(numbers, dtype=dtype))


def test_containers_are_collated_field_by_field_keeping_their_kind():
    examples = [
        {"x": np.array([1.0, 2.0]), "meta": (1, "a")},
        {"x": np.array([3.0, 4.0]), "meta": (2, "b")},
    ]
    batch = default_collate(examples)
    assert set(batch) == {"x", "meta"} and isinstance(batch["meta"], tuple)
    assert batch["x"].numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert batch["meta"][0].numpy().tolist() == [1, 2] and batch["meta"][1] == ["a", "b"]
    as_lists = default_collate([[1.0, 2], [3.0, 4]])
    assert isinstance(as_lists, list) and [t.numpy().tolist() for t in as_lists] == [[1.0, 3.0], [2, 4]]
    points = default_collate([Point(np.zeros(3), 1), Point(np.ones(3), 0)])
    assert isinstance(points, Point) and points.x.shape == (2, 3) and points.label.numpy().tolist() == [1, 0]


@pytest.mark.parametrize(
    "examples",
    [[np.zeros(3, np.float32), np.ones(3, np.float32)], [1.5, 2.5], [3, 4], [True, False],
     [(np.zeros(2), 1), (np.ones(2), 0)], [{"a": 1.0, "b": np.arange(3)}, {"a": 2.0, "b": np.arange(3)}]],
)
def test_default_collate_agrees_with_torch(examples):
    torch_collate = pytest.importorskip("torch.utils.data").default_collate

    def flat(value):
        if isinstance(value, dict):
            return [leaf for key in sorted(value) for leaf in flat(value[key])]
        if isinstance(value, (tuple, list)):
            return [leaf for part in value for leaf in flat(part)]
        return [value]

    for ours, theirs in zip(flat(default_collate(examples)), flat(torch_collate(examples)), strict=True):
        assert ours.shape == tuple(theirs.shape)
        assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize(
    "batch, error, message",
    [(np.zeros((2, 3)), TypeError, "needs a list of examples, got ndarray"),
     ("ab", TypeError, "needs a list of examples, got str"),
     ([], ValueError, "at least one example"),
     ([None, None], TypeError, "got NoneType"),
     ([1, "a"], TypeError, r"mix numbers and other things \(int, str\)"),
     ([np.array(["a"]), np.array(["b"])], TypeError, "arrays of dtype <U1 cannot become Tensors"),
     ([np.zeros(3), np.zeros(2)], RuntimeError, r"shapes \(3,\) and \(2,\) cannot be stacked"),
     ([(1, 2), (3,)], RuntimeError, r"different lengths \[1, 2\]")],
)
def test_default_collate_rejects_what_it_cannot_stack(batch, error, message):
    with pytest.raises(error, match=f"default_collate: .*{message}"):
        default_collate(batch)
