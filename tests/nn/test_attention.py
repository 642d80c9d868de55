"""Attention and the Transformer layers: against NumPy references written here (causal or not, with
the dropout draws in the contract's order), against PyTorch where it maps, the mask hiding the
future, gradient checks to second order, build order, parameter counts and bad input."""
import math

import numpy as np
import pytest

import needle as ndl
from needle import nn
from needle.testing import check_gradients, check_jvp


def tensor(array, dtype=np.float64, requires_grad=False):
    return ndl.Tensor(np.asarray(array, dtype=dtype), requires_grad=requires_grad)


# ---- NumPy references ------------------------------------------------------------------------


def np_softmax(scores):
    shifted = scores - scores.max(-1, keepdims=True)
    powers = np.exp(shifted)
    return powers / powers.sum(-1, keepdims=True)


def np_attention(q, k, v, causal=False, drop=lambda probs: probs):
    """(result, probs) of softmax(q kᵀ/√D) v per head; with `causal`, query i (the last T_q of the
    T_kv positions) sees keys j ≤ i + T_kv − T_q only."""
    queries, keys = q.shape[-2], k.shape[-2]
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if causal:
        future = np.arange(keys)[None, :] > np.arange(queries)[:, None] + (keys - queries)
        scores = np.where(future, -np.inf, scores)
    probs = drop(np_softmax(scores))
    return probs @ v, probs


def np_layer_norm(x, weight, bias, eps=1e-5):
    centered = x - x.mean(-1, keepdims=True)
    return centered / np.sqrt((centered ** 2).mean(-1, keepdims=True) + eps) * weight + bias


def np_dropout(p):
    """Dropout as the contract draws it: one np.random.rand of the input's shape, kept where ≤ 1 − p."""
    def drop(x):
        keep = np.random.rand(*x.shape) <= 1 - p
        return x * keep / (1 - p)
    return drop


def params_of(module):
    return {name: p.numpy().astype(np.float64) for name, p in module.named_parameters()}


def np_attention_layer(P, q, k, v, heads, causal, drop=lambda a: a, prefix=""):
    """AttentionLayer's forward from its parameters `P` (names as in named_parameters)."""
    def project(x, which):
        normed = np_layer_norm(x, P[f"{prefix}prenorm_{which}.weight"], P[f"{prefix}prenorm_{which}.bias"])
        out = normed @ P[f"{prefix}{which}_projection.weight"]
        batch, time, features = out.shape
        return out.reshape(batch, time, heads, features // heads).transpose(0, 2, 1, 3)

    result, _ = np_attention(project(q, "q"), project(k, "k"), project(v, "v"), causal, drop)
    batch, _, time, dim = result.shape
    merged = result.transpose(0, 2, 1, 3).reshape(batch, time, heads * dim)
    return merged @ P[f"{prefix}out_projection.weight"]


def np_transformer_layer(P, x, heads, causal=True, p=0.0, prefix=""):
    """TransformerLayer's forward; with p > 0 the four dropout draws come in the contract's order."""
    drop = np_dropout(p) if p > 0 else (lambda a: a)
    x = x + drop(np_attention_layer(P, x, x, x, heads, causal, drop, prefix + "attention."))
    normed = np_layer_norm(x, P[prefix + "norm.weight"], P[prefix + "norm.bias"])
    hidden = drop(np.maximum(normed @ P[prefix + "linear1.weight"] + P[prefix + "linear1.bias"], 0))
    return x + drop(hidden @ P[prefix + "linear2.weight"] + P[prefix + "linear2.bias"])


def np_transformer(P, x, heads, num_layers, batch_first=False):
    if not batch_first:
        x = x.transpose(1, 0, 2)
    x = x + P["positional_embedding.weight"][: x.shape[1]]
    for i in range(num_layers):
        x = np_transformer_layer(P, x, heads, prefix=f"layers.{i}.")
    return x if batch_first else x.transpose(1, 0, 2)


# ---- MultiHeadAttention ----------------------------------------------------------------------


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("queries, keys", [(4, 4), (2, 5)])
def test_multi_head_attention_matches_numpy(causal, queries, keys):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, t, 4)) for t in (queries, keys, keys))
    result, probs = nn.MultiHeadAttention(causal=causal)(tensor(q), tensor(k), tensor(v))
    expected, expected_probs = np_attention(q, k, v, causal)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(probs.numpy(), expected_probs, rtol=1e-12, atol=1e-12)
    assert result.shape == (2, 3, queries, 4) and probs.shape == (2, 3, queries, keys)


def test_causal_mask_is_minus_float32_max_above_the_shifted_diagonal():
    mask = nn.attention.causal_mask(3, 5)
    assert mask.shape == (1, 1, 3, 5) and mask.dtype == np.float32
    expected = -np.finfo(np.float32).max * np.triu(np.ones((1, 1, 3, 5), dtype=np.float32), 5 - 3 + 1)
    np.testing.assert_array_equal(mask, expected)


def test_multi_head_attention_float32_stays_float32_and_masked_probabilities_are_exactly_zero():
    q = tensor(np.random.randn(1, 2, 4, 3) * 30, np.float32)  # large scores: the mask must still win
    result, probs = nn.MultiHeadAttention(causal=True)(q, q, q)
    assert result.dtype == np.float32 and probs.dtype == np.float32
    assert np.all(probs.numpy()[..., np.triu_indices(4, 1)[0], np.triu_indices(4, 1)[1]] == 0)
    np.testing.assert_allclose(probs.numpy().sum(-1), 1, rtol=1e-6)


def test_attention_core_records_one_node_per_product_and_one_softmax():
    q, k, v = (tensor(np.random.randn(2, 2, 3, 4), requires_grad=True) for _ in range(3))
    result, _ = nn.MultiHeadAttention(causal=True)(q, k, v)
    kinds = [type(node.op).__name__ for node in ndl.autograd.find_topo_sort([result]) if node.op is not None]
    assert sorted(kinds) == ["EWiseAdd", "MatMul", "MatMul", "MulScalar", "Softmax"]


def test_multi_head_attention_dropout_drops_the_probabilities_with_one_draw():
    q = tensor(np.random.randn(2, 2, 3, 4))
    layer = nn.MultiHeadAttention(dropout=0.5)
    np.random.seed(3)
    result, probs = layer(q, q, q)
    after = np.random.rand()
    np.random.seed(3)
    expected, expected_probs = np_attention(q.numpy(), q.numpy(), q.numpy(), drop=np_dropout(0.5))
    assert np.random.rand() == after
    np.testing.assert_allclose(probs.numpy(), expected_probs, rtol=1e-12)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12, atol=1e-14)
    result, probs = layer.eval()(q, q, q)
    np.testing.assert_allclose(probs.numpy(), np_attention(q.numpy(), q.numpy(), q.numpy())[1], rtol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_matches_torch_scaled_dot_product_attention(causal):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((2, 3, 5, 4)).astype(np.float32) for _ in range(3)]
    ours = [tensor(a, np.float32, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    result, _ = nn.MultiHeadAttention(causal=causal)(*ours)
    expected = torch.nn.functional.scaled_dot_product_attention(*theirs, is_causal=causal)
    np.testing.assert_allclose(result.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    seed = rng.standard_normal(result.shape).astype(np.float32)
    (result * tensor(seed, np.float32)).sum().backward()
    (expected * torch.from_numpy(seed)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_gradients_to_second_order(causal):
    layer = nn.MultiHeadAttention(causal=causal)
    rng = np.random.default_rng(2)
    q, k, v = rng.standard_normal((1, 2, 2, 3)), rng.standard_normal((1, 2, 3, 3)), rng.standard_normal((1, 2, 3, 2))
    check_gradients(lambda q, k, v: layer(q, k, v)[0], q, k, v, order=2)
    check_gradients(lambda q, k, v: layer(q, k, v)[1], q, k, v, order=2)


@pytest.mark.parametrize("shapes, message", [
    ([(2, 3, 4), (2, 3, 4), (2, 3, 4)], r"MultiHeadAttention: q must be \(batch, heads, time, features\), got shape \(2, 3, 4\)"),
    ([(1, 2, 3, 4), (1, 2, 3, 5), (1, 2, 3, 4)], r"MultiHeadAttention: q \(1, 2, 3, 4\), k \(1, 2, 3, 5\), v \(1, 2, 3, 4\) do not fit"),
    ([(1, 2, 3, 4), (1, 2, 3, 4), (1, 2, 2, 4)], r"MultiHeadAttention: q \(1, 2, 3, 4\), k \(1, 2, 3, 4\), v \(1, 2, 2, 4\) do not fit"),
    ([(1, 2, 3, 4), (1, 1, 3, 4), (1, 1, 3, 4)], r"do not fit"),
])
def test_multi_head_attention_rejects_shapes_that_do_not_fit(shapes, message):
    with pytest.raises(ValueError, match=message):
        nn.MultiHeadAttention()(*(tensor(np.zeros(s)) for s in shapes))


# ---- AttentionLayer --------------------------------------------------------------------------


def test_attention_layer_builds_in_the_contract_order_without_projection_biases():
    layer = nn.AttentionLayer(6, 2, 3, k_features=5, v_features=4, out_features=7)
    assert [name for name, _ in layer.named_parameters()] == [
        "prenorm_q.weight", "prenorm_q.bias", "prenorm_k.weight", "prenorm_k.bias", "prenorm_v.weight",
        "prenorm_v.bias", "q_projection.weight", "k_projection.weight", "v_projection.weight",
        "out_projection.weight",
    ]
    shapes = {name: p.shape for name, p in layer.named_parameters()}
    assert shapes["q_projection.weight"] == (6, 6) and shapes["k_projection.weight"] == (5, 6)
    assert shapes["v_projection.weight"] == (4, 6) and shapes["out_projection.weight"] == (6, 7)
    assert list(layer.state_dict()) == [name for name, _ in layer.named_parameters()]
    assert isinstance(layer.attn, nn.MultiHeadAttention) and layer.attn.causal


@pytest.mark.parametrize("causal", [False, True])
def test_attention_layer_matches_numpy_for_self_and_cross_attention(causal):
    layer = nn.AttentionLayer(6, 2, 3, k_features=5, v_features=4, out_features=7, causal=causal, dtype="float64")
    for P in (params_of(layer),):  # non-trivial norms, so that the folding of their affine part shows
        for name in ("prenorm_q", "prenorm_k", "prenorm_v"):
            getattr(layer, name).weight.data = tensor(np.random.uniform(0.5, 1.5, P[name + ".weight"].shape))
            getattr(layer, name).bias.data = tensor(np.random.randn(*P[name + ".bias"].shape))
    P = params_of(layer)
    q, k, v = np.random.randn(2, 3, 6), np.random.randn(2, 4, 5), np.random.randn(2, 4, 4)
    out = layer(tensor(q), tensor(k), tensor(v))
    np.testing.assert_allclose(out.numpy(), np_attention_layer(P, q, k, v, 2, causal), rtol=1e-10, atol=1e-12)
    selfish = nn.AttentionLayer(6, 3, 2, causal=causal, dtype="float64")
    out = selfish(tensor(q))
    assert out.shape == (2, 3, 6)
    np.testing.assert_allclose(out.numpy(), np_attention_layer(params_of(selfish), q, q, q, 3, causal), rtol=1e-10,
                               atol=1e-12)


def test_a_norm_or_projection_replaced_by_another_module_is_called_not_folded():
    class DoubledNorm(nn.LayerNorm1d):
        def forward(self, x):
            return super().forward(x) * 2.0

    layer = nn.AttentionLayer(6, 2, 3, dtype="float64")
    x = tensor(np.random.randn(2, 3, 6))
    doubled = DoubledNorm(6, dtype="float64")
    layer.prenorm_q = doubled
    replaced = layer(x).numpy()
    # The same layer, its q norm plain again and its q projection doubled instead: equal results.
    layer.prenorm_q = nn.LayerNorm1d(6, dtype="float64")
    layer.q_projection.weight.data = layer.q_projection.weight * 2.0
    np.testing.assert_allclose(replaced, layer(x).numpy(), rtol=1e-12, atol=1e-12)
    block = nn.TransformerLayer(6, 2, 3, 8, dtype="float64")
    reference = block(x).numpy()
    block.linear1 = nn.Sequential(block.linear1)  # not a Linear: called as a module
    np.testing.assert_allclose(block(x).numpy(), reference, rtol=1e-12, atol=1e-12)


def test_attention_layer_gradients_to_second_order_for_every_parameter():
    # Causal with T_q ≤ T_kv: a query with no visible key (T_q > T_kv) has a softmax of constants,
    # whose finite differences are 0 while the rule (correctly for the formula) is not.
    layer = nn.AttentionLayer(4, 2, 2, k_features=3, v_features=3, out_features=3, dtype="float64")
    x, kv = np.random.randn(1, 2, 4), np.random.randn(1, 3, 3)
    check_gradients(*with_parameters(layer, lambda q, k: layer(q, k, k), x, kv), order=2)


def test_attention_layer_rejects_wrong_feature_sizes_and_lengths():
    layer = nn.AttentionLayer(4, 2, 2, k_features=3)
    with pytest.raises(ValueError, match=r"AttentionLayer: q of shape \(2, 3, 5\) does not end in q_features=4"):
        layer(tensor(np.zeros((2, 3, 5)), np.float32), tensor(np.zeros((2, 3, 3)), np.float32))
    with pytest.raises(ValueError, match=r"AttentionLayer: k of shape \(2, 3, 4\) does not end in k_features=3"):
        layer(tensor(np.zeros((2, 3, 4)), np.float32))
    with pytest.raises(ValueError, match=r"AttentionLayer: q must be \(batch, time, 4\), got shape \(3, 4\)"):
        layer(tensor(np.zeros((3, 4)), np.float32))
    with pytest.raises(ValueError, match=r"AttentionLayer: q \(2, 3, 4\), k \(2, 3, 3\), v \(2, 2, 4\)"):
        nn.AttentionLayer(4, 2, 2, k_features=3)(
            *(tensor(np.zeros(s), np.float32) for s in [(2, 3, 4), (2, 3, 3), (2, 2, 4)]))
    with pytest.raises(ValueError, match="AttentionLayer: num_head must be a positive integer, got 0"):
        nn.AttentionLayer(4, 0, 2)


# ---- TransformerLayer ------------------------------------------------------------------------


def with_parameters(module, fn, *inputs):
    """(g, *inputs, *parameters) for check_gradients: g(*inputs, *parameters) puts the parameters
    into `module` by name and returns fn(*inputs), so every parameter is differentiated too."""
    names = [name for name, _ in module.named_parameters()]

    def run(*tensors):
        for name, value in zip(names, tensors[len(inputs):]):
            owner = module
            *path, attribute = name.split(".")
            for part in path:
                owner = owner[int(part)] if part.isdigit() else getattr(owner, part)
            setattr(owner, attribute, value)
        return fn(*tensors[:len(inputs)])

    run.__name__ = type(module).__name__
    return (run, *inputs, *(p.numpy() for _, p in module.named_parameters()))


def test_transformer_layer_builds_attention_then_norm_then_the_two_linears():
    np.random.seed(5)
    layer = nn.TransformerLayer(4, 2, 3, 5)
    after = np.random.rand()
    names = [name for name, _ in layer.named_parameters()]
    assert names[:10] == ["attention." + name for name, _ in layer.attention.named_parameters()]
    assert names[10:] == ["norm.weight", "norm.bias", "linear1.weight", "linear1.bias", "linear2.weight",
                          "linear2.bias"]
    # The draws come in that order: q, k, v, out projections, then linear1's weight and bias, linear2's.
    np.random.seed(5)
    for name, (fan_in, fan_out) in [("attention.q_projection.weight", (4, 6)), ("attention.k_projection.weight", (4, 6)),
                                    ("attention.v_projection.weight", (4, 6)),
                                    ("attention.out_projection.weight", (6, 4)), ("linear1.weight", (4, 5)),
                                    ("linear1.bias", (5, 1)), ("linear2.weight", (5, 4)), ("linear2.bias", (4, 1))]:
        drawn = (np.random.rand(fan_in, fan_out) * 2 - 1) * math.sqrt(6 / fan_in)
        np.testing.assert_allclose(dict(layer.named_parameters())[name].numpy().reshape(drawn.shape), drawn,
                                   rtol=1e-6, err_msg=name)
    assert np.random.rand() == after
    assert sum(p.numpy().size for p in layer.parameters()) == 3 * 8 + 4 * 24 + 8 + (20 + 5) + (20 + 4)


def test_transformer_layer_draws_its_dropout_masks_in_forward_order():
    layer = nn.TransformerLayer(4, 2, 3, 6, dropout=0.3, dtype="float64")
    x = np.random.randn(2, 5, 4)
    np.random.seed(8)
    out = layer(tensor(x)).numpy()
    after = np.random.rand()
    np.random.seed(8)
    expected = np_transformer_layer(params_of(layer), x, 2, p=0.3)  # probs, attention output, ReLU, Linear2
    assert np.random.rand() == after
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_transformer_layer_matches_numpy_and_is_deterministic_in_eval_mode(causal):
    layer = nn.TransformerLayer(4, 2, 3, 6, dropout=0.5, causal=causal, dtype="float64").eval()
    x = np.random.randn(2, 5, 4)
    state = np.random.get_state()[2]
    out = layer(tensor(x)).numpy()
    assert np.random.get_state()[2] == state  # evaluation draws nothing
    np.testing.assert_allclose(out, np_transformer_layer(params_of(layer), x, 2, causal), rtol=1e-10, atol=1e-12)


def torch_transformer_layer(torch, P, x, heads, causal=True):
    """The pre-norm layer mapped by hand onto PyTorch: F.layer_norm, x @ W, scaled_dot_product_attention."""
    F = torch.nn.functional

    def norm(t, name):
        return F.layer_norm(t, (t.shape[-1],), P[name + ".weight"], P[name + ".bias"], eps=1e-5)

    def split(t):
        return t.reshape(t.shape[0], t.shape[1], heads, -1).transpose(1, 2)

    q, k, v = (split(norm(x, f"attention.prenorm_{w}") @ P[f"attention.{w}_projection.weight"]) for w in "qkv")
    attended = F.scaled_dot_product_attention(q, k, v, is_causal=causal).transpose(1, 2)
    x = x + attended.reshape(x.shape[0], x.shape[1], -1) @ P["attention.out_projection.weight"]
    hidden = F.relu(norm(x, "norm") @ P["linear1.weight"] + P["linear1.bias"])
    return x + hidden @ P["linear2.weight"] + P["linear2.bias"]


def test_transformer_layer_output_and_every_parameter_gradient_match_torch():
    torch = pytest.importorskip("torch")
    layer = nn.TransformerLayer(8, 2, 4, 16)
    for name in ("attention.prenorm_q", "attention.prenorm_k", "attention.prenorm_v", "norm"):
        norm = layer.attention if name != "norm" else layer
        module = getattr(norm, name.split(".")[-1])
        module.weight.data = tensor(np.random.uniform(0.5, 1.5, 8), np.float32)
        module.bias.data = tensor(np.random.randn(8), np.float32)
    P = {name: torch.tensor(p.numpy(), requires_grad=True) for name, p in layer.named_parameters()}
    x = np.random.randn(3, 6, 8).astype(np.float32)
    ours_x, theirs_x = tensor(x, np.float32, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = layer(ours_x), torch_transformer_layer(torch, P, theirs_x, 2)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)
    seed = np.random.randn(*out.shape).astype(np.float32)
    (out * tensor(seed, np.float32)).sum().backward()
    (expected * torch.from_numpy(seed)).sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-4, atol=1e-4)
    # atol: prenorm_k.bias has a zero gradient (a shift of every key shifts a query's scores alike),
    # so both sides give rounding noise there.
    for name, param in layer.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), P[name].grad.numpy(), rtol=1e-4, atol=2e-5, err_msg=name)


def test_transformer_layer_gradients_to_second_order_for_every_parameter():
    layer = nn.TransformerLayer(4, 2, 2, 3, dtype="float64")
    check_gradients(*with_parameters(layer, layer, np.random.randn(1, 3, 4)), order=2)


def test_transformer_layer_forward_mode_matches_finite_differences_and_reverse_mode():
    layer = nn.TransformerLayer(4, 2, 2, 3, dtype="float64")
    check_jvp(*with_parameters(layer, layer, np.random.randn(2, 3, 4)))


def test_transformer_layer_rejects_a_wrong_feature_size():
    with pytest.raises(ValueError, match=r"TransformerLayer: x of shape \(2, 3, 5\) does not end in q_features=4"):
        nn.TransformerLayer(4, 2, 2, 3)(tensor(np.zeros((2, 3, 5)), np.float32))


# ---- Transformer -----------------------------------------------------------------------------


def test_transformer_builds_the_positional_embedding_first_then_its_layers():
    np.random.seed(4)
    model = nn.Transformer(6, 10, 2, num_head=2, dim_head=3, sequence_len=9)
    np.random.seed(4)
    np.testing.assert_allclose(model.positional_embedding.weight.numpy(), np.random.randn(9, 6), rtol=1e-6)
    names = [name for name, _ in model.named_parameters()]
    assert names[0] == "positional_embedding.weight"
    layer_names = [name for name, _ in model.layers[0].named_parameters()]
    assert names[1:] == [f"layers.{i}.{name}" for i in range(2) for name in layer_names]
    assert isinstance(model.positional_embedding, nn.Embedding)


def test_transformer_parameter_count_matches_the_torch_layers_of_workload_9():
    model = nn.Transformer(128, 256, 2, num_head=4, dim_head=32, sequence_len=64)
    per_layer = 4 * 2 * 128 + 4 * 128 * 128 + (128 * 256 + 256) + (256 * 128 + 128)
    assert sum(p.numpy().size for p in model.parameters()) == 64 * 128 + 2 * per_layer == 273152


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_numpy_and_returns_zeros_as_its_state(batch_first):
    model = nn.Transformer(6, 10, 2, num_head=2, dim_head=3, dtype="float64", batch_first=batch_first,
                           sequence_len=7)
    x = np.random.randn(5, 3, 6)  # (T, B, d), or (B, T, d) with batch_first
    out, state = model(tensor(x), tensor(np.ones((2, 3, 6))))
    np.testing.assert_allclose(out.numpy(), np_transformer(params_of(model), x, 2, 2, batch_first), rtol=1e-10,
                               atol=1e-12)
    assert out.shape == x.shape and state.shape == x.shape and not state.numpy().any()


def test_transformer_causal_mask_hides_the_future():
    model = nn.Transformer(8, 12, 2, num_head=2, dim_head=4, sequence_len=10)
    x = np.random.randn(6, 2, 8).astype(np.float32)
    before, _ = model(tensor(x, np.float32))
    for t in (5, 3, 1):
        changed = x.copy()
        changed[t:] = np.random.randn(6 - t, 2, 8) * 10
        after, _ = model(tensor(changed, np.float32))
        np.testing.assert_array_equal(after.numpy()[:t], before.numpy()[:t])  # exactly: masked weights are 0
        assert not np.allclose(after.numpy()[t:], before.numpy()[t:])
    unmasked = nn.Transformer(8, 12, 1, num_head=2, dim_head=4, causal=False, sequence_len=10)
    changed = x.copy()
    changed[5] = np.random.randn(2, 8) * 10  # not a shift of the whole row, which the norms would undo
    assert not np.allclose(unmasked(tensor(changed, np.float32))[0].numpy()[:5], unmasked(tensor(x, np.float32))[0].numpy()[:5])


def test_transformer_gradients_to_second_order_for_every_parameter():
    model = nn.Transformer(4, 3, 2, num_head=2, dim_head=2, dtype="float64", sequence_len=4)
    check_gradients(*with_parameters(model, lambda x: model(x)[0], np.random.randn(3, 2, 4)), order=2)


def test_transformer_float32_step_with_adam_lowers_the_loss():
    model = nn.Transformer(8, 16, 1, num_head=2, dim_head=4, dropout=0.1, sequence_len=6)
    opt = ndl.optim.Adam(model.parameters(), lr=0.01)
    x = tensor(np.random.randn(6, 3, 8), np.float32)
    target = tensor(np.random.randn(6, 3, 8), np.float32)
    losses = []
    for _ in range(5):
        out, _ = model(x)
        loss = ndl.nn.functional.mse_loss(out, target)
        opt.reset_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.numpy()))
        assert out.dtype == np.float32 and all(p.grad.dtype == np.float32 for p in model.parameters())
    assert losses[-1] < losses[0]


def test_transformer_rejects_a_sequence_longer_than_its_positional_table_and_wrong_features():
    model = nn.Transformer(4, 6, 1, num_head=2, dim_head=2, sequence_len=5)
    with pytest.raises(ValueError, match=r"Transformer: input of shape \(6, 2, 4\) has 6 time steps, more than the "
                                         r"positional table's sequence_len=5"):
        model(tensor(np.zeros((6, 2, 4)), np.float32))
    with pytest.raises(ValueError, match=r"Transformer: x of shape \(5, 2, 3\) does not end in embedding_size=4"):
        model(tensor(np.zeros((5, 2, 3)), np.float32))
    with pytest.raises(ValueError, match=r"Transformer: x must be \(time, batch, features\) with features=4, got "
                                         r"shape \(5, 4\)"):
        model(tensor(np.zeros((5, 4)), np.float32))
