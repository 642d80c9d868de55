"""The course's LanguageModel (apps/models.py re-exports it), its hidden-state handling, and sampling.

LanguageModel: Embedding → RNN, LSTM, GRU or Transformer → Linear to the vocabulary, time-major.
"""
import numpy as np

import needle as ndl
import needle.nn as nn

__all__ = ["SEQUENCE_MODELS", "LanguageModel", "detach_state", "sample"]

SEQUENCE_MODELS = ("rnn", "lstm", "gru", "transformer")


class LanguageModel(nn.Module):
    """Token ids (seq_len, bs) → logits (seq_len·bs, output_size) and the sequence model's state.

    Built in order: `embedding` (output_size tokens, embedding_size wide), `model` (the sequence
    model: nn.RNN, nn.LSTM or nn.GRU with `num_layers` layers of `hidden_size`, or nn.Transformer
    with `num_layers` layers whose feed-forward width is `hidden_size` and whose positional table
    holds `seq_len` positions), `linear` (to output_size; from embedding_size for the transformer).
    """

    def __init__(self, embedding_size, output_size, hidden_size, num_layers=1, seq_model="rnn", seq_len=40,
                 device=None, dtype="float32"):
        super().__init__()
        if seq_model not in SEQUENCE_MODELS:
            raise ValueError(
                f"LanguageModel: unknown seq_model {seq_model!r}; expected one of {', '.join(SEQUENCE_MODELS)}"
            )
        self.seq_model = seq_model
        self.seq_len = seq_len
        self.embedding = nn.Embedding(output_size, embedding_size, device=device, dtype=dtype)
        if seq_model == "transformer":
            self.model = nn.Transformer(
                embedding_size, hidden_size, num_layers, device=device, dtype=dtype, batch_first=False,
                sequence_len=seq_len,
            )
            features = embedding_size
        else:
            layer = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[seq_model]
            self.model = layer(embedding_size, hidden_size, num_layers, device=device, dtype=dtype)
            features = hidden_size
        self.linear = nn.Linear(features, output_size, device=device, dtype=dtype)

    def forward(self, x, h=None):
        if len(x.shape) != 2:
            raise ValueError(f"LanguageModel: input must be token ids (seq_len, batch), got shape {tuple(x.shape)}")
        seq_len, batch = x.shape
        out, h = self.model(self.embedding(x), h)
        logits = self.linear(out.reshape((seq_len * batch, out.shape[-1])))
        return logits, h


def detach_state(h):
    """The hidden state `h` (None, a Tensor, or a tuple of them) cut from its graph."""
    if h is None:
        return None
    if isinstance(h, (tuple, list)):
        return tuple(detach_state(part) for part in h)
    return h.detach()


@ndl.no_grad()
def sample(model, prompt, length, temperature=1.0, seed=0):
    """`length` token ids drawn after the ids `prompt` (at least one) from softmax(logits / temperature).

    temperature 0 takes the most likely token. A NumPy Generator seeded with `seed` makes the draws,
    so the same model, prompt and seed give the same tokens. Recurrent models carry their state from
    token to token; the transformer reads the last `seq_len` tokens again for each new one.
    """
    prompt = [int(i) for i in prompt]
    if not prompt:
        raise ValueError("sample: the prompt must hold at least one token")
    if not temperature >= 0:
        raise ValueError(f"sample: temperature must be >= 0, got {temperature!r}")
    model.eval()
    rng = np.random.default_rng(seed)
    tokens = list(prompt)
    recurrent = model.seq_model != "transformer"
    feed, h = prompt[-model.seq_len:] if not recurrent else prompt, None
    for _ in range(length):
        logits, h = model(ndl.Tensor(np.array(feed, dtype=np.int64)[:, None], requires_grad=False), h)
        last = logits.numpy()[-1].astype(np.float64)
        if temperature == 0:
            token = int(np.argmax(last))
        else:
            scaled = (last - last.max()) / temperature
            probs = np.exp(scaled - np.logaddexp.reduce(scaled))
            token = int(rng.choice(len(probs), p=probs / probs.sum()))
        tokens.append(token)
        feed = [token] if recurrent else tokens[-model.seq_len:]
    return tokens[len(prompt):]
