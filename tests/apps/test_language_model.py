"""LanguageModel and the course's PTB functions: construction, shapes, truncated backpropagation
through time (the state carried across chunks, detached), clipping, and sampling."""
import numpy as np
import pytest

import needle as ndl
import needle.nn as nn
from apps import simple_ml
from apps.models import LanguageModel
from needle.cli.language import run_language_epoch
from needle.cli.language_model import detach_state, sample

VOCABULARY = 7


@pytest.fixture(autouse=True)
def seeded():
    np.random.seed(0)


def _ids(length=600, period=VOCABULARY):
    """A learnable text: 0, 1, ..., period-1 repeated, with a little noise."""
    rng = np.random.default_rng(1)
    ids = np.arange(length) % period
    flips = rng.random(length) < 0.05
    ids[flips] = rng.integers(0, VOCABULARY, flips.sum())
    return ids


def _model(kind, seq_len=12):
    return LanguageModel(6, VOCABULARY, 8, num_layers=2, seq_model=kind, seq_len=seq_len)


@pytest.mark.parametrize(
    "kind, layer", [("rnn", nn.RNN), ("lstm", nn.LSTM), ("gru", nn.GRU), ("transformer", nn.Transformer)]
)
def test_language_model_is_embedding_then_sequence_model_then_linear(kind, layer):
    model = _model(kind)
    assert [name for name, _ in model.named_children()] == ["embedding", "model", "linear"]
    assert isinstance(model.embedding, nn.Embedding) and model.embedding.weight.shape == (VOCABULARY, 6)
    assert isinstance(model.model, layer)
    assert model.linear.weight.shape == ((6 if kind == "transformer" else 8), VOCABULARY)
    x = ndl.Tensor(np.array([[0, 1, 2], [3, 4, 5], [6, 0, 1], [2, 3, 4]]), requires_grad=False)
    logits, h = model(x)
    assert logits.shape == (12, VOCABULARY) and logits.dtype == np.float32
    if kind == "lstm":
        assert [t.shape for t in h] == [(2, 3, 8), (2, 3, 8)]
    elif kind != "transformer":
        assert h.shape == (2, 3, 8)


def test_language_model_errors_name_the_model():
    with pytest.raises(ValueError, match="LanguageModel: unknown seq_model 'cnn'"):
        LanguageModel(4, 5, 6, seq_model="cnn")
    with pytest.raises(ValueError, match=r"input must be token ids \(seq_len, batch\), got shape \(6,\)"):
        _model("rnn")(ndl.Tensor(np.arange(6), requires_grad=False))


def test_the_weights_are_drawn_in_build_order_from_the_global_rng():
    np.random.seed(3)
    first = [p.numpy().copy() for p in _model("lstm").parameters()]
    np.random.seed(3)
    second = [p.numpy() for p in _model("lstm").parameters()]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_evaluation_carries_the_state_across_chunks(kind):
    """Chunks of 5 steps with the state carried give the loss of one pass over the whole column."""
    model = _model(kind)
    batches = ndl.data.batchify(_ids(200), 4, None, None)  # 50 rows
    whole = run_language_epoch(batches, model, seq_len=49)
    chunked = run_language_epoch(batches, model, seq_len=5)
    np.testing.assert_allclose(chunked, whole, rtol=1e-5)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru", "transformer"])
def test_train_ptb_lowers_the_loss_and_evaluate_ptb_changes_nothing(kind):
    model = _model(kind, seq_len=10)
    batches = ndl.data.batchify(_ids(), 8, ndl.cpu(), "float32")
    before_acc, before_loss = simple_ml.evaluate_ptb(model, batches, seq_len=10)
    state = [p.numpy().copy() for p in model.parameters()]
    assert simple_ml.evaluate_ptb(model, batches, seq_len=10) == (before_acc, before_loss)
    assert not model.training and all(np.array_equal(a, p.numpy()) for a, p in zip(state, model.parameters()))
    acc, loss = simple_ml.train_ptb(model, batches, seq_len=10, n_epochs=4, optimizer=ndl.optim.Adam, lr=0.03,
                                    clip=5.0)
    assert model.training and np.isfinite(loss) and 0 <= acc <= 1
    after_acc, after_loss = simple_ml.evaluate_ptb(model, batches, seq_len=10)
    assert after_loss < 0.7 * before_loss and after_acc > before_acc


def test_train_ptb_is_reproducible():
    results = []
    for _ in range(2):
        np.random.seed(0)
        model = _model("lstm")
        results.append(simple_ml.train_ptb(model, ndl.data.batchify(_ids(300), 6, None, None), seq_len=8, lr=1.0))
    assert results[0] == results[1]


def test_the_ptb_functions_seed_the_global_rng_with_4_first():
    np.random.seed(4)
    expected = np.random.rand()
    np.random.seed(99)
    simple_ml.evaluate_ptb(_model("rnn"), ndl.data.batchify(_ids(100), 4, None, None), seq_len=8)
    assert np.random.rand() == expected


def test_clipping_bounds_each_sgd_step_by_lr_times_clip():
    model = _model("lstm")
    before = np.concatenate([p.numpy().ravel() for p in model.parameters()])
    batches = ndl.data.batchify(_ids(130), 4, None, None)  # 32 rows: one chunk of 31 steps
    simple_ml.epoch_general_ptb(batches, model, seq_len=31, opt=ndl.optim.SGD(model.parameters(), lr=2.0),
                                clip=1e-3)
    after = np.concatenate([p.numpy().ravel() for p in model.parameters()])
    assert 0 < np.linalg.norm(after - before) <= 2.0 * 1e-3 * (1 + 1e-4)


def test_epoch_general_ptb_refuses_batches_without_a_next_token():
    with pytest.raises(ValueError, match=r"run_language_epoch: batches of shape \(1, 4\) hold no next token"):
        simple_ml.epoch_general_ptb(np.zeros((1, 4), dtype=np.int64), _model("rnn"))
    with pytest.raises(ValueError, match="train_ptb: n_epochs must be a positive integer"):
        simple_ml.train_ptb(_model("rnn"), np.zeros((5, 4), dtype=np.int64), n_epochs=0)


def test_detach_state_cuts_tensors_and_tuples_from_the_graph():
    h = ndl.Tensor(np.ones((1, 2, 3), dtype=np.float32)) * 2
    c = ndl.Tensor(np.ones((1, 2, 3), dtype=np.float32)) * 3
    assert detach_state(None) is None
    single, (first, second) = detach_state(h), detach_state((h, c))
    assert all(t.op is None and not t.inputs for t in (single, first, second))
    assert not single.requires_grad and np.array_equal(second.numpy(), c.numpy())


@pytest.mark.parametrize("kind", ["lstm", "gru", "transformer"])
def test_greedy_sampling_matches_rereading_the_whole_text_each_time(kind):
    """Carrying the state token by token (or the transformer's window) picks what a full re-read picks."""
    model = _model(kind, seq_len=12)
    prompt = [1, 2, 3]
    tokens = sample(model, prompt, 8, temperature=0)
    text = list(prompt)
    for _ in range(8):
        window = text[-12:]
        logits, _ = model(ndl.Tensor(np.array(window)[:, None], requires_grad=False))
        text.append(int(logits.numpy()[-1].argmax()))
    assert tokens == text[3:]


def test_sampling_is_seeded_and_follows_the_temperature():
    model = _model("lstm")
    first = sample(model, [0], 40, temperature=1.0, seed=5)
    assert first == sample(model, [0], 40, temperature=1.0, seed=5)
    assert first != sample(model, [0], 40, temperature=1.0, seed=6)
    assert all(0 <= t < VOCABULARY for t in first)
    with pytest.raises(ValueError, match="sample: the prompt must hold at least one token"):
        sample(model, [], 3)
    with pytest.raises(ValueError, match="sample: temperature must be >= 0"):
        sample(model, [0], 3, temperature=-1.0)
