"""Workload 8: one training step of needle-train's default LSTM language model, needle vs PyTorch on the CPU.

Characters of the Python language reference, batch 32, 64 time steps, embedding 64, 2 LSTM layers
of 256, a Linear to the vocabulary (103 symbols on Python 3.11), cross-entropy, gradient clipping
to norm 1, Adam (lr 4e-3): the step needle-train --dataset pydoc --model lstm takes. Both sides
start from the same weights (needle's, copied into PyTorch's layers) and carry the hidden state,
detached, from chunk to chunk. Each `*_step()` builds the model untimed, takes one warm-up step,
and returns `step()`, which takes the next step and returns its loss.
"""
import numpy as np

import needle as ndl
from needle.cli.language_model import LanguageModel, detach_state

from .common import optional_import

EMBEDDING = 64
HIDDEN = 256
LAYERS = 2
TIME = 64
BATCH = 32
LR = 4e-3
CLIP = 1.0


def _batches():
    """(batches (nbatch, BATCH) of character ids, vocabulary size) from the pydoc corpus."""
    corpus = ndl.data.pydoc_corpus()
    return ndl.data.batchify(corpus.train, BATCH, None, None), len(corpus.dictionary)


def needle_model(vocabulary):
    np.random.seed(8)
    return LanguageModel(EMBEDDING, vocabulary, HIDDEN, LAYERS, seq_model="lstm", seq_len=TIME)


def needle_step():
    batches, vocabulary = _batches()
    model = needle_model(vocabulary).train()
    opt = ndl.optim.Adam(model.parameters(), lr=LR)
    loss_fn = ndl.nn.SoftmaxLoss()
    state = {"h": None, "i": 0}

    def step():
        data, target = ndl.data.get_batch(batches, state["i"], TIME)
        logits, h = model(data, state["h"])
        loss = loss_fn(logits, target)
        opt.reset_grad()
        loss.backward(create_graph=False)
        ndl.optim.clip_grad_norm(model.parameters(), CLIP)
        opt.step()
        state["h"], state["i"] = detach_state(h), state["i"] + TIME
        return float(loss.numpy())

    step()
    return step


def torch_model(vocabulary):
    """PyTorch's Embedding, LSTM and Linear holding needle's initial weights."""
    torch = optional_import("torch")
    nn = torch.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocabulary, EMBEDDING)
            self.lstm = nn.LSTM(EMBEDDING, HIDDEN, LAYERS)
            self.linear = nn.Linear(HIDDEN, vocabulary)

        def forward(self, x, h=None):
            out, h = self.lstm(self.embedding(x), h)
            return self.linear(out.reshape(-1, HIDDEN)), h

    model = Model()
    copy_weights(needle_model(vocabulary), model)
    return model


def copy_weights(source, model):
    """needle's (in, out) weights become PyTorch's (out, in); the gate order i, f, g, o is the same."""
    torch = optional_import("torch")

    def put(param, value):
        param.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32).reshape(param.shape)))

    with torch.no_grad():
        put(model.embedding.weight, source.embedding.weight.numpy())
        for layer, cell in enumerate(source.model.lstm_cells):
            put(getattr(model.lstm, f"weight_ih_l{layer}"), cell.W_ih.numpy().T)
            put(getattr(model.lstm, f"weight_hh_l{layer}"), cell.W_hh.numpy().T)
            put(getattr(model.lstm, f"bias_ih_l{layer}"), cell.bias_ih.numpy())
            put(getattr(model.lstm, f"bias_hh_l{layer}"), cell.bias_hh.numpy())
        put(model.linear.weight, source.linear.weight.numpy().T)
        put(model.linear.bias, source.linear.bias.numpy())


def torch_step():
    torch = optional_import("torch")
    batches, vocabulary = _batches()
    model = torch_model(vocabulary).train()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    ids = torch.from_numpy(batches)
    state = {"h": None, "i": 0}

    def step():
        i = state["i"]
        data, target = ids[i:i + TIME], ids[i + 1:i + 1 + TIME].reshape(-1)
        logits, h = model(data, state["h"])
        loss = loss_fn(logits, target)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        state["h"], state["i"] = tuple(t.detach() for t in h), i + TIME
        return float(loss.item())

    step()
    return step


STEP = {"needle": needle_step, "torch": torch_step}
