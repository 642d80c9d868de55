"""PyTorch's factories at the top level: ndl.tensor, arange, linspace, eye, full, rand, randn, randint,
zeros/ones(_like), manual_seed and allclose, against NumPy, and against PyTorch where installed."""
import numpy as np
import pytest

import needle as ndl


def test_tensor_infers_float32_and_int64_and_does_not_require_grad():
    assert ndl.tensor([1.0, 2.0]).dtype == np.float32 and ndl.tensor(3).dtype == np.int64
    assert ndl.tensor([True]).dtype == np.bool_
    assert not ndl.tensor([1.0]).requires_grad and ndl.tensor([1.0], requires_grad=True).requires_grad
    assert ndl.Tensor([1.0]).dtype == np.float64 and ndl.Tensor([1.0]).requires_grad  # the course's Tensor
    assert ndl.tensor(np.ones(2)).dtype == np.float64  # arrays keep their dtype, as in PyTorch
    assert ndl.tensor([1, 2], dtype="float64").dtype == np.float64
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        ndl.tensor([1, 2], requires_grad=True)


def test_tensor_copies_its_data():
    data = np.zeros(2, np.float32)
    t = ndl.tensor(data)
    data[0] = 5
    assert t.numpy()[0] == 0
    source = ndl.Tensor(np.zeros(2, np.float32))
    copy = ndl.tensor(source)
    assert copy.numpy() is not source.numpy() and not copy.requires_grad


def test_arange_linspace_eye_full_match_numpy_with_pytorchs_dtypes():
    np.testing.assert_array_equal(ndl.arange(5).numpy(), np.arange(5))
    assert ndl.arange(5).dtype == np.int64 and ndl.arange(0, 1, 0.25).dtype == np.float32
    np.testing.assert_array_equal(ndl.arange(2, 9, 3).numpy(), [2, 5, 8])
    np.testing.assert_allclose(ndl.linspace(-1, 1, 5).numpy(), np.linspace(-1, 1, 5))
    assert ndl.linspace(0, 1, 3).dtype == np.float32
    np.testing.assert_array_equal(ndl.eye(2, 3).numpy(), np.eye(2, 3))
    assert ndl.eye(3).dtype == np.float32
    assert ndl.full((2, 3), 7).dtype == np.int64 and ndl.full((2,), 0.5).dtype == np.float32
    assert ndl.full(2, True).dtype == np.bool_
    np.testing.assert_array_equal(ndl.full([2, 2], 1.5).numpy(), np.full((2, 2), 1.5))
    with pytest.raises(ValueError, match="^arange: step must be nonzero"):
        ndl.arange(0, 3, 0)
    with pytest.raises(ValueError, match="^linspace: steps must be a non-negative int"):
        ndl.linspace(0, 1, 2.5)


def test_factories_match_pytorch():
    torch = pytest.importorskip("torch")
    pairs = [
        (ndl.tensor([1.5, 2]), torch.tensor([1.5, 2])), (ndl.tensor([[1, 2]]), torch.tensor([[1, 2]])),
        (ndl.arange(1, 2, 0.3), torch.arange(1, 2, 0.3)), (ndl.arange(4), torch.arange(4)),
        (ndl.linspace(0, 2, 4), torch.linspace(0, 2, 4)), (ndl.eye(2, 3), torch.eye(2, 3)),
        (ndl.full((2,), 3), torch.full((2,), 3)), (ndl.full((2,), 0.5), torch.full((2,), 0.5)),
        (ndl.zeros_like(ndl.tensor([1, 2])), torch.zeros_like(torch.tensor([1, 2]))),
    ]
    for ours, theirs in pairs:
        assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch.")), (ours, theirs)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_manual_seed_seeds_numpys_global_rng_which_init_and_dropout_use():
    ndl.manual_seed(3)
    first = (ndl.rand(2, 3).numpy(), ndl.randn(2).numpy(), ndl.randint(0, 10, (4,)).numpy())
    ndl.manual_seed(3)
    again = (ndl.rand(2, 3).numpy(), ndl.randn(2).numpy(), ndl.randint(0, 10, (4,)).numpy())
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    ndl.manual_seed(3)
    np.testing.assert_array_equal(np.random.rand(2, 3).astype(np.float32), first[0])
    dropout = ndl.nn.Dropout(0.5)
    x = ndl.ones(100)
    ndl.manual_seed(11)
    masked = dropout(x).numpy()
    ndl.manual_seed(11)
    np.testing.assert_array_equal(dropout(x).numpy(), masked)
    with pytest.raises(TypeError, match="^manual_seed: the seed must be an int"):
        ndl.manual_seed(1.5)


def test_randint_takes_pytorchs_and_numpys_argument_forms():
    ndl.manual_seed(0)
    a = ndl.randint(10, (3,))  # PyTorch: high and size
    ndl.manual_seed(0)
    b = ndl.randint(0, 10, (3,))
    ndl.manual_seed(0)
    c = ndl.randint(0, 10, size=(3,))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a.numpy(), c.numpy())
    assert a.dtype == np.int64 and a.shape == (3,) and np.all((a.numpy() >= 0) & (a.numpy() < 10))
    assert ndl.randint(5).shape == ()  # NumPy: high alone, one value
    with pytest.raises(ValueError, match=r"^randint: the range \[3, 3\) is empty"):
        ndl.randint(3, 3)


def test_zeros_and_ones_like_take_a_dtype():
    x = ndl.tensor([[1.0, 2.0]])
    assert ndl.zeros_like(x).dtype == np.float32 and ndl.ones_like(x, dtype="int64").dtype == np.int64
    np.testing.assert_array_equal(ndl.ones_like(x).numpy(), [[1, 1]])


def test_allclose_takes_tensors_and_arrays_and_returns_a_python_bool():
    x = ndl.tensor([1.0, 2.0])
    assert ndl.allclose(x, np.float32([1.0, 2.0 + 1e-6])) is True
    assert ndl.allclose(x, ndl.tensor([1.0, 2.1])) is False
    assert ndl.allclose(x, x + 1e-3, atol=1e-2) is True


def test_the_top_level_exports_exactly_its_public_names():
    for name in ("tensor", "arange", "linspace", "eye", "full", "rand", "randn", "randint", "manual_seed",
                 "allclose", "argmax", "argmin", "min", "var", "std", "norm", "prod", "cumsum", "all", "any",
                 "gather", "masked_fill", "clamp", "unsqueeze", "squeeze", "flatten", "expand", "repeat"):
        assert name in ndl.__all__ and callable(getattr(ndl, name)), name
    assert all(hasattr(ndl, name) for name in ndl.__all__)
    assert len(set(ndl.__all__)) == len(ndl.__all__)
