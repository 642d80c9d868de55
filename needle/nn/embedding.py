"""Embedding: a lookup table of learned vectors, indexed by token id."""
import numpy as np

from .. import init, ops
from ..autograd import Value
from .module import Module, Parameter

__all__ = ["Embedding"]


def token_ids(layer, x, num_embeddings):
    """The integer array of ids in `x` (a Tensor or array, integer or integral float), each checked
    to lie in [0, num_embeddings); errors name `layer` and the shape."""
    ids = np.asarray(x.cached_data if isinstance(x, Value) else x)
    shape = ids.shape
    if ids.dtype.kind == "f":
        if not np.all(np.isfinite(ids)) or not np.array_equal(ids, np.round(ids)):
            raise ValueError(f"{layer}: token ids of shape {shape} must be whole numbers, got a non-integral value")
    elif ids.dtype.kind not in "iub":
        raise TypeError(f"{layer}: token ids must be integers (or integral floats), got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= num_embeddings):
        raise ValueError(
            f"{layer}: token ids of shape {shape} must lie in [0, {num_embeddings}), "
            f"got values from {ids.min():g} to {ids.max():g}"
        )
    return ids.astype(np.intp)


class Embedding(Module):
    """y[..., :] = weight[x[...], :]: ids of any shape, e.g. (seq_len, bs) -> (seq_len, bs, embedding_dim).

    `weight` (num_embeddings, embedding_dim) is drawn from N(0, 1). The ids (a Tensor or array; the
    course passes floats) get no gradient; the weight's adjoint adds each output row's adjoint into
    the row it was read from.
    """

    def __init__(self, num_embeddings, embedding_dim, device=None, dtype="float32"):
        super().__init__()
        for name, size in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"Embedding: {name} must be a positive integer, got {size!r}")
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.weight = Parameter.initialized(init.randn(num_embeddings, embedding_dim, device=device, dtype=dtype))

    def forward(self, x):
        ids = token_ids("Embedding", x, self.num_embeddings)
        return ops.getitem(self.weight, ids)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
