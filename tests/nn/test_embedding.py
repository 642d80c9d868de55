"""Embedding: its draw, the row gather for integer and float ids, the weight's adjoint (repeats add up),
agreement with PyTorch, gradient checks and the errors for bad ids."""
import numpy as np
import pytest

import needle as ndl
import needle.nn.functional as F
from needle import nn
from needle.testing import check_gradients, check_jvp


def test_weight_is_one_standard_normal_draw():
    np.random.seed(3)
    layer = nn.Embedding(7, 4)
    after = np.random.rand()
    np.random.seed(3)
    expected = np.random.randn(7, 4)
    assert np.random.rand() == after
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.dtype == np.float32
    np.testing.assert_allclose(layer.weight.numpy(), expected, rtol=1e-6)
    assert nn.Embedding(3, 2, dtype="float64").weight.dtype == np.float64


@pytest.mark.parametrize("ids_dtype", [np.int64, np.int32, np.float32, np.float64])
def test_rows_are_gathered_for_integer_and_integral_float_ids(ids_dtype):
    layer = nn.Embedding(10, 3)
    ids = np.array([[1, 9, 1], [0, 4, 4]], dtype=ids_dtype)  # (seq_len, bs)
    for given in (ids, ndl.Tensor(ids, requires_grad=False)):
        out = layer(given)
        assert out.shape == (2, 3, 3) and out.dtype == np.float32
        np.testing.assert_array_equal(out.numpy(), layer.weight.numpy()[ids.astype(np.int64)])


def test_gradient_reaches_the_weight_only_and_repeated_ids_add_up():
    layer = nn.Embedding(5, 2)
    ids = ndl.Tensor(np.array([[1.0, 3.0], [1.0, 1.0]], dtype=np.float32), requires_grad=True)
    out = layer(ids)
    seed = np.arange(8, dtype=np.float32).reshape(2, 2, 2)
    out.backward(ndl.Tensor(seed))
    expected = np.zeros((5, 2), dtype=np.float32)
    np.add.at(expected, np.array([[1, 3], [1, 1]]), seed)
    np.testing.assert_array_equal(layer.weight.grad.numpy(), expected)
    assert ids.grad is None


def test_embedding_matches_pytorch_forward_and_gradient():
    torch = pytest.importorskip("torch")
    layer = nn.Embedding(6, 3)
    twin = torch.nn.Embedding(6, 3)
    with torch.no_grad():
        twin.weight.copy_(torch.tensor(layer.weight.numpy()))
    ids = np.random.randint(0, 6, size=(4, 2))
    weights = np.random.randn(4, 2, 3).astype(np.float32)
    out, t_out = layer(ids.astype(np.float32)), twin(torch.tensor(ids))
    (out * ndl.Tensor(weights)).sum().backward()
    (t_out * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(out.numpy(), t_out.detach().numpy())
    np.testing.assert_allclose(layer.weight.grad.numpy(), twin.weight.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_embedding_gradients_of_first_and_second_order():
    layer = nn.Embedding(4, 3, dtype="float64")
    ids = np.array([[0, 3], [3, 2], [0, 0]])

    def embed(weight):
        layer.weight = weight
        out = layer(ids)
        return (out * out * out).sum()

    check_gradients(embed, layer.weight.numpy(), order=2)
    check_jvp(embed, layer.weight.numpy())


@pytest.mark.parametrize(
    "ids, message",
    [
        (np.array([[0, 5]]), r"^Embedding: token ids of shape \(1, 2\) must lie in \[0, 5\), got values from 0 to 5"),
        (np.array([[-1, 2]]), r"^Embedding: token ids of shape \(1, 2\) must lie in \[0, 5\), got values from -1 to 2"),
        (np.array([[0.5, 2.0]]), r"^Embedding: token ids of shape \(1, 2\) must be whole numbers"),
        (np.array([[np.nan]]), r"^Embedding: token ids of shape \(1, 1\) must be whole numbers"),
    ],
    ids=["past_the_end", "negative", "fractional", "nan"],
)
def test_bad_token_ids_are_refused_naming_the_layer(ids, message):
    with pytest.raises(ValueError, match=message):
        nn.Embedding(5, 2)(ids)


def test_functional_embedding_gathers_rows_and_checks_ids():
    weight = ndl.Tensor(np.arange(6, dtype=np.float32).reshape(3, 2))
    out = F.embedding(np.array([[2.0, 0.0]]), weight)
    np.testing.assert_array_equal(out.numpy(), [[[4, 5], [0, 1]]])
    with pytest.raises(ValueError, match=r"^embedding: token ids of shape \(1,\) must lie in \[0, 3\)"):
        F.embedding(np.array([3]), weight)


def test_bad_sizes_and_non_numeric_ids_are_refused():
    with pytest.raises(ValueError, match="^Embedding: num_embeddings must be a positive integer, got 0"):
        nn.Embedding(0, 3)
    with pytest.raises(ValueError, match="^Embedding: embedding_dim must be a positive integer"):
        nn.Embedding(3, 2.5)
    with pytest.raises(TypeError, match="^Embedding: token ids must be integers"):
        nn.Embedding(3, 2)(np.array([[1 + 0j]]))
