"""Attention: MultiHeadAttention, AttentionLayer, TransformerLayer, Transformer (pre-norm, causal).

Shapes: B batch, H heads, T time steps (T_q queries, T_kv keys and values), D features per head.
Heads are split from and merged into the feature axis: (B, T, H·D) ↔ (B, H, T, D). The course's
contract fixes the build order (so the parameters and `state_dict` come in that order) and the
order of the dropout draws (attention probabilities, attention output, after ReLU, after Linear2).
"""
import math

import numpy as np

from .. import init, ops
from ..autograd import Tensor
from .containers import ModuleList
from .embedding import Embedding
from .layers import Dropout, Linear, ReLU
from .module import Module
from .normalization import LayerNorm1d

__all__ = ["MultiHeadAttention", "AttentionLayer", "TransformerLayer", "Transformer"]

FLOAT32_MAX = float(np.finfo(np.float32).max)


def causal_mask(queries, keys, dtype="float32"):
    """−float32_max above the shifted diagonal, 0 elsewhere: (1, 1, T_q, T_kv), entry (i, j) masked
    when j > i + T_kv − T_q (query i, the last T_q of the keys' positions, sees no later key)."""
    above = np.triu(np.ones((1, 1, queries, keys), dtype=dtype), keys - queries + 1)
    return above * np.asarray(-FLOAT32_MAX, dtype=dtype)


def _check_ndim(layer, name, x, ndim, meaning):
    if x.ndim != ndim:
        raise ValueError(f"{layer}: {name} must be {meaning}, got shape {x.shape}")


class MultiHeadAttention(Module):
    """softmax(q kᵀ/√D + mask) v per head: q (B, H, T_q, D), k (B, H, T_kv, D), v (B, H, T_kv, D_v)
    → (result (B, H, T_q, D_v), probs (B, H, T_q, T_kv)). No parameters.

    probs = Dropout(softmax(q kᵀ/√D + mask)), result = probs v. With `causal` the mask adds
    −float32_max where a query would see a later key (`causal_mask`), a constant. q is scaled
    before the product (T_q·D entries rather than T_q·T_kv); both products are one batched matmul
    each, kᵀ read as it lies (no transpose node), and the softmax is one fused node over the last axis.
    A causal query that sees no key at all (a row with T_q > T_kv) gets uniform weights, as the
    contract's finite mask gives; its scores' gradient is then the softmax rule's, not zero.
    """

    def __init__(self, *, dropout=0.0, causal=False, device=None, dtype="float32"):
        super().__init__()
        self.device = device
        self.dtype = dtype
        self.causal = causal
        self.dropout = Dropout(dropout)

    def forward(self, q, k, v):
        for name, x in (("q", q), ("k", k), ("v", v)):
            _check_ndim("MultiHeadAttention", name, x, 4, "(batch, heads, time, features)")
        if q.shape[:2] != k.shape[:2] or k.shape[:3] != v.shape[:3] or q.shape[3] != k.shape[3]:
            raise ValueError(
                f"MultiHeadAttention: q {q.shape}, k {k.shape}, v {v.shape} do not fit: q and k need "
                "the same batch, heads and features, k and v the same batch, heads and time"
            )
        queries, keys, dim = q.shape[2], k.shape[2], q.shape[3]
        scores = ops.MatMul(transpose_b=True)(q * (1.0 / math.sqrt(dim)), k)
        if self.causal:
            scores = scores + Tensor.make_const(causal_mask(queries, keys, scores.dtype))
        probs = self.dropout(ops.softmax(scores, -1))
        return ops.matmul(probs, v), probs

    def extra_repr(self):
        return f"dropout={self.dropout.p}, causal={self.causal}"


def normed_projection(x, norm, projection, normed=None):
    """projection(norm(x)). For the plain LayerNorm1d and Linear the layers build, it is computed from
    x̂ = standardize(x) (`normed`, when the caller has it already) as x̂ (w ⊙ W) + (b W + c), one
    affine node; a norm or projection of any other type (a subclass, a replacement) is called as is.

    LayerNorm1d's affine part w ⊙ x̂ + b is folded into the Linear (W, bias c) that follows it, so
    the (in, out) weights are scaled rather than the (…, in) activations: two passes over the
    activations saved forward and more backward (workload 9). The gradients reach w, b, W and c
    through the folded weights, which are graph nodes.
    """
    if type(norm) is not LayerNorm1d or type(projection) is not Linear:
        return projection(norm(x))
    normed = standardized(x, norm) if normed is None else normed
    weight = projection.weight
    folded = ops.reshape(norm.weight, (weight.shape[0], 1)) * weight
    bias = ops.matmul(norm.bias, weight)
    if projection.bias is not None:
        bias = bias + ops.reshape(projection.bias, bias.shape)
    return ops.linear(normed, folded, bias)


def _same_standardization(norm, other):
    """Whether `norm` and `other` are plain LayerNorm1d with one eps: their x̂ is the same."""
    return type(norm) is LayerNorm1d and type(other) is LayerNorm1d and norm.eps == other.eps


def standardized(x, norm):
    """(x − E[x]) / √(Var[x] + eps) over the last axis, the eps of LayerNorm1d `norm`."""
    return ops.standardize(x, (-1,), norm.eps)


def split_heads(x, heads):
    """(B, T, H·D) → (B, H, T, D)."""
    batch, time, features = x.shape
    return ops.transpose(ops.reshape(x, (batch, time, heads, features // heads)), (1, 2))


def merge_heads(x):
    """(B, H, T, D) → (B, T, H·D)."""
    batch, heads, time, dim = x.shape
    return ops.reshape(ops.transpose(x, (1, 2)), (batch, time, heads * dim))


class AttentionLayer(Module):
    """Pre-norm multi-head attention: q (B, T_q, q_features), k and v (B, T_kv, k/v_features)
    → (B, T_q, out_features). k defaults to q, v to q (self-attention).

    Each input passes its own LayerNorm1d and bias-free projection to H·D features, is split into
    heads, attends (`MultiHeadAttention`), and the merged heads are projected to out_features.
    Built in the contract's order: prenorm_q, prenorm_k, prenorm_v, q_projection, k_projection,
    v_projection, attn, out_projection. k/v/out_features default to q_features. Each norm's affine
    part is folded into its projection (`normed_projection`), so forward reads the fields `weight`,
    `bias` and `eps` of the norms and `weight` (and `bias`) of the projections at call time; a norm or
    projection replaced by a module of another type is called instead.
    """

    def __init__(self, q_features, num_head, dim_head, *, k_features=None, v_features=None,
                 out_features=None, dropout=0.0, causal=True, device=None, dtype="float32"):
        super().__init__()
        k_features = q_features if k_features is None else k_features
        v_features = q_features if v_features is None else v_features
        out_features = q_features if out_features is None else out_features
        for name, size in (("num_head", num_head), ("dim_head", dim_head)):
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"AttentionLayer: {name} must be a positive integer, got {size!r}")
        self.num_head = num_head
        self.dim_head = dim_head
        self.q_features, self.k_features, self.v_features = q_features, k_features, v_features
        self.out_features = out_features
        inner = num_head * dim_head
        self.prenorm_q = LayerNorm1d(q_features, device=device, dtype=dtype)
        self.prenorm_k = LayerNorm1d(k_features, device=device, dtype=dtype)
        self.prenorm_v = LayerNorm1d(v_features, device=device, dtype=dtype)
        self.q_projection = Linear(q_features, inner, bias=False, device=device, dtype=dtype)
        self.k_projection = Linear(k_features, inner, bias=False, device=device, dtype=dtype)
        self.v_projection = Linear(v_features, inner, bias=False, device=device, dtype=dtype)
        self.attn = MultiHeadAttention(dropout=dropout, causal=causal, device=device, dtype=dtype)
        self.out_projection = Linear(inner, out_features, bias=False, device=device, dtype=dtype)

    def forward(self, q, k=None, v=None):
        k = q if k is None else k
        v = q if v is None else v
        for name, x, features in (("q", q, self.q_features), ("k", k, self.k_features),
                                  ("v", v, self.v_features)):
            _check_ndim("AttentionLayer", name, x, 3, f"(batch, time, {features})")
            if x.shape[2] != features:
                raise ValueError(f"AttentionLayer: {name} of shape {x.shape} does not end in "
                                 f"{name}_features={features}")
        if not q.shape[0] == k.shape[0] == v.shape[0] or k.shape[1] != v.shape[1]:
            raise ValueError(f"AttentionLayer: q {q.shape}, k {k.shape}, v {v.shape}: the batch sizes "
                             "must agree, and k and v need the same length")
        heads = self.num_head
        # Self-attention: the three norms share x̂ (they differ only in their affine parts).
        shared = standardized(q, self.prenorm_q) if type(self.prenorm_q) is LayerNorm1d else None
        normed_k = shared if k is q and _same_standardization(self.prenorm_q, self.prenorm_k) else None
        normed_v = shared if v is q and _same_standardization(self.prenorm_q, self.prenorm_v) else None
        q, k, v = (
            split_heads(normed_projection(q, self.prenorm_q, self.q_projection, shared), heads),
            split_heads(normed_projection(k, self.prenorm_k, self.k_projection, normed_k), heads),
            split_heads(normed_projection(v, self.prenorm_v, self.v_projection, normed_v), heads),
        )
        result, _ = self.attn(q, k, v)
        return self.out_projection(merge_heads(result))

    def extra_repr(self):
        return f"num_head={self.num_head}, dim_head={self.dim_head}"


class TransformerLayer(Module):
    """A pre-norm Transformer block on (B, T, q_features):
    x ← x + Dropout(AttentionLayer(x)); x ← x + Dropout(Linear2(Dropout(ReLU(Linear1(LayerNorm1d(x)))))).

    Built in the contract's order: attention, norm, linear1 (q_features → hidden_size), linear2
    (hidden_size → q_features), both with bias. One Dropout module serves the three places.
    """

    def __init__(self, q_features, num_head, dim_head, hidden_size, *, dropout=0.0, causal=True,
                 device=None, dtype="float32"):
        super().__init__()
        self.q_features = q_features
        self.attention = AttentionLayer(q_features, num_head, dim_head, dropout=dropout, causal=causal,
                                        device=device, dtype=dtype)
        self.norm = LayerNorm1d(q_features, device=device, dtype=dtype)
        self.linear1 = Linear(q_features, hidden_size, device=device, dtype=dtype)
        self.linear2 = Linear(hidden_size, q_features, device=device, dtype=dtype)
        self.relu = ReLU()
        self.dropout = Dropout(dropout)

    def forward(self, x):
        _check_ndim("TransformerLayer", "x", x, 3, f"(batch, time, {self.q_features})")
        if x.shape[2] != self.q_features:
            raise ValueError(f"TransformerLayer: x of shape {x.shape} does not end in q_features={self.q_features}")
        x = x + self.dropout(self.attention(x))
        hidden = normed_projection(x, self.norm, self.linear1)
        hidden = self.dropout(self.relu(hidden))
        return x + self.dropout(self.linear2(hidden))


class Transformer(Module):
    """A decoder stack: x + PositionalEmbedding(0..T−1), then `num_layers` TransformerLayers.

    Input (T, B, embedding_size), or (B, T, embedding_size) with `batch_first`; forward(x, h=None)
    → (x, zeros_like(x)) (the second output stands where a recurrent model returns its state).
    Built in order: positional_embedding (Embedding(sequence_len, embedding_size)), then layers.
    """

    def __init__(self, embedding_size, hidden_size, num_layers, *, num_head=8, dim_head=32, dropout=0.0,
                 causal=True, device=None, dtype="float32", batch_first=False, sequence_len=2048):
        super().__init__()
        self.embedding_size = embedding_size
        self.batch_first = batch_first
        self.sequence_len = sequence_len
        self.positional_embedding = Embedding(sequence_len, embedding_size, device=device, dtype=dtype)
        self.layers = ModuleList([
            TransformerLayer(embedding_size, num_head, dim_head, hidden_size, dropout=dropout, causal=causal,
                             device=device, dtype=dtype)
            for _ in range(num_layers)
        ])

    def forward(self, x, h=None):
        layout = "(batch, time, features)" if self.batch_first else "(time, batch, features)"
        _check_ndim("Transformer", "x", x, 3, f"{layout} with features={self.embedding_size}")
        if x.shape[2] != self.embedding_size:
            raise ValueError(f"Transformer: x of shape {x.shape} does not end in "
                             f"embedding_size={self.embedding_size}")
        time = x.shape[1] if self.batch_first else x.shape[0]
        if time > self.sequence_len:
            raise ValueError(f"Transformer: input of shape {x.shape} has {time} time steps, more than the "
                             f"positional table's sequence_len={self.sequence_len}")
        if not self.batch_first:
            x = ops.transpose(x, (0, 1))
        positions = np.arange(time).reshape(1, time)
        x = x + self.positional_embedding(positions)
        for layer in self.layers:
            x = layer(x)
        if not self.batch_first:
            x = ops.transpose(x, (0, 1))
        return x, init.zeros_like(x)
