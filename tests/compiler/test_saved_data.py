"""A replay hands a SavingOp node's saved data to the adjoint its rule built from it (`compute_with_saved`)."""
import numpy as np
import pytest

import needle as ndl
import needle.nn as nn
from needle.cli.language_model import LanguageModel
from needle.ops import pooling, sequence

TIME, BATCH, VOCABULARY, LAYERS, HIDDEN = 6, 3, 11, 2, 8


def _language_model_step():
    """(model, params, forward(data, target, h, c) -> (loss, h', c')) of a 2-layer LSTM language model."""
    np.random.seed(4)
    model = LanguageModel(5, VOCABULARY, HIDDEN, LAYERS, seq_model="lstm", seq_len=TIME).train()
    loss_fn = nn.SoftmaxLoss()

    def forward(data, target, h, c):
        logits, (h_next, c_next) = model(data, (h, c))
        return loss_fn(logits, target), h_next, c_next

    return model, model.parameters(), forward


def _batch(seed):
    """(data (T, N), target (T·N,), h0, c0 (layers, N, H)) drawn from `seed`."""
    rng = np.random.default_rng(seed)
    state = [ndl.Tensor(rng.standard_normal((LAYERS, BATCH, HIDDEN)).astype(np.float32), requires_grad=False)
             for _ in range(2)]
    return (ndl.Tensor(rng.integers(0, VOCABULARY, (TIME, BATCH)), requires_grad=False),
            ndl.Tensor(rng.integers(0, VOCABULARY, TIME * BATCH), requires_grad=False), *state)


def _counting(monkeypatch, module, name):
    """Replace `module.name` by a wrapper counting its calls; returns the list of calls (one None each)."""
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(None)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_a_replay_runs_each_lstm_forward_once(monkeypatch):
    _, params, forward = _language_model_step()
    step = ndl.compile(forward, wrt=params)
    for seed in range(3):  # two traced calls, then a replay
        step(*_batch(seed))
    assert step.replays == 1 and step.eager_reasons == []
    forwards = _counting(monkeypatch, sequence, "_lstm_forward")
    step(*_batch(3))
    assert len(forwards) == LAYERS  # not again for the adjoint, nor for the saved data
    assert step.stats["from_saved"] == LAYERS
    assert step.source.count(".compute_saving(") == LAYERS
    assert step.source.count(".compute_with_saved(") == LAYERS


def test_compiled_gradients_of_a_two_layer_lstm_language_model_equal_eager():
    _, params, forward = _language_model_step()
    step = ndl.compile(forward, wrt=params)
    for seed in range(6):
        batch = _batch(seed)
        (loss, h, c), grads = step(*batch)
        for p in params:
            p.grad = None
        eager_loss, eager_h, eager_c = forward(*batch)
        eager_grads = ndl.autograd.grad(eager_loss, params)
        np.testing.assert_array_equal(loss.numpy(), eager_loss.numpy())
        np.testing.assert_array_equal(h.numpy(), eager_h.numpy())
        np.testing.assert_array_equal(c.numpy(), eager_c.numpy())
        for got, want in zip(grads, eager_grads):
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert step.replays == 4 and step.eager_reasons == []


def test_an_adjoint_made_outside_its_forward_rule_is_computed_from_its_inputs(monkeypatch):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(shape).astype(np.float32)
              for shape in [(2, 4, BATCH, HIDDEN), (4, BATCH, 4 * HIDDEN), (HIDDEN, 4 * HIDDEN),
                            (BATCH, HIDDEN), (BATCH, HIDDEN)]]
    inputs = [ndl.Tensor(a, requires_grad=False) for a in arrays]
    step = ndl.compile(lambda *xs: sequence.lstm_sequence_adjoint(*xs)[0])
    for _ in range(3):
        got = step(*inputs)
    assert step.replays == 1 and step.stats["from_saved"] == 0 and ".compute(" in step.source
    np.testing.assert_array_equal(got.numpy(), sequence.lstm_sequence_adjoint(*inputs)[0].numpy())


def test_a_rule_made_again_on_replay_takes_the_saved_data_of_its_node(monkeypatch):
    """MaxPool's rule makes its index from the window positions the node saved: the recipe that
    makes it again on each replay gets them from the forward step instead of pooling again."""
    rng = np.random.default_rng(3)
    x = ndl.Tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    weight = ndl.Tensor(rng.standard_normal((2, 3, 3, 3)).astype(np.float32), requires_grad=False)
    step = ndl.compile(ndl.func.grad(lambda x, w: (pooling.max_pool2d(x, 2) * w).sum()))
    for _ in range(3):
        got = step(x, weight)
    assert step.replays == 1 and step.stats["from_saved"] == 1 and "saved=" in step.source
    pools = _counting(monkeypatch, pooling.MaxPool, "compute_saving")
    x.data = ndl.Tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))
    got = step(x, weight)
    assert len(pools) == 1
    np.testing.assert_array_equal(got.numpy(), ndl.func.grad(lambda x, w: (pooling.max_pool2d(x, 2) * w).sum())(
        x, weight).numpy())


@pytest.mark.parametrize("need_h0", [True, False])
def test_compute_with_saved_equals_compute(need_h0):
    rng = np.random.default_rng(2)
    out_grad, gates, weight, h0, c0 = [rng.standard_normal(shape).astype(np.float32)
                                       for shape in [(2, 4, BATCH, HIDDEN), (4, BATCH, 4 * HIDDEN),
                                                     (HIDDEN, 4 * HIDDEN), (BATCH, HIDDEN), (BATCH, HIDDEN)]]
    states, saved = sequence.LSTMSequence().compute_saving(gates, weight, h0, c0)
    op = sequence.LSTMSequenceAdjoint(need_h0)
    for got, want in zip(op.compute_with_saved(states, saved, out_grad, gates, weight, h0, c0),
                         op.compute(out_grad, gates, weight, h0, c0)):
        np.testing.assert_array_equal(got, want)


def test_a_replay_projects_normalisation_adjoints_from_the_saved_moments(monkeypatch):
    np.random.seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3), nn.LayerNorm1d(3))
    params = model.parameters()
    loss_fn = nn.SoftmaxLoss()
    step = ndl.compile(lambda X, y: loss_fn(model(X), y), wrt=params)
    rng = np.random.default_rng(0)
    for _ in range(3):
        X = ndl.Tensor(rng.standard_normal((8, 6)).astype(np.float32), requires_grad=False)
        y = ndl.Tensor(rng.integers(0, 3, 8), requires_grad=False)
        step(X, y)
    assert step.replays == 1 and step.eager_reasons == []
    assert step.stats["from_saved"] == 2 and step.source.count(".compute_with_saved(") == 2
    projection = ndl.ops.StandardizeProjection
    from_inputs = _counting(monkeypatch, projection, "compute")
    from_saved = _counting(monkeypatch, projection, "compute_with_saved")
    step(X, y)
    assert len(from_inputs) == 0 and len(from_saved) == 2  # no moments computed again for the adjoints


def test_standardize_projection_from_saved_moments_equals_compute():
    rng = np.random.default_rng(4)
    v, a = (rng.standard_normal((6, 5)).astype(np.float32) for _ in range(2))
    standardized, saved = ndl.ops.Standardize(0).compute_saving(a)
    op = ndl.ops.StandardizeProjection(0)
    np.testing.assert_array_equal(op.compute_with_saved(standardized, saved, v, a), op.compute(v, a))
