"""Workload 9: one training step of a 2-layer pre-norm Transformer, needle vs PyTorch on the CPU.

d 128, 4 heads of 32 features, feed-forward hidden 256, T 64, batch 32, causal, dropout 0.1 (at
every place the course's layers drop), learned positions, Adam (lr 1e-3); the loss is the mean
squared distance of the outputs to a fixed random target. Both sides start from the same weights
(needle's, copied into the PyTorch layers). Each `*_step(dropout)` builds the model untimed and
returns `step()`, which makes one training step and returns its loss.
"""
import numpy as np

import needle as ndl

from .common import needle_training_step, optional_import

EMBEDDING = 128
HEADS = 4
DIM_HEAD = 32
HIDDEN = 256
LAYERS = 2
TIME = 64
BATCH = 32
DROPOUT = 0.1
LR = 1e-3


def _data():
    """(x (T, B, d), target (T, B, d)), float32."""
    rng = np.random.default_rng(9)
    shape = (TIME, BATCH, EMBEDDING)
    return rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)


def needle_model(dropout=DROPOUT):
    np.random.seed(9)
    return ndl.nn.Transformer(EMBEDDING, HIDDEN, LAYERS, num_head=HEADS, dim_head=DIM_HEAD, dropout=dropout,
                              sequence_len=TIME)


def needle_step(dropout=DROPOUT):
    model = needle_model(dropout).train()
    opt = ndl.optim.Adam(model.parameters(), lr=LR)
    x, target = (ndl.Tensor(a, requires_grad=False) for a in _data())

    return needle_training_step(lambda: ndl.nn.functional.mse_loss(model(x)[0], target), opt)


def torch_model(dropout=DROPOUT):
    """The same layers in PyTorch (scaled_dot_product_attention for the core), holding needle's weights."""
    torch = optional_import("torch")
    nn, F = torch.nn, torch.nn.functional

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            inner = HEADS * DIM_HEAD
            self.prenorm_q, self.prenorm_k, self.prenorm_v = (nn.LayerNorm(EMBEDDING) for _ in range(3))
            self.q_projection, self.k_projection, self.v_projection = (
                nn.Linear(EMBEDDING, inner, bias=False) for _ in range(3)
            )
            self.out_projection = nn.Linear(inner, EMBEDDING, bias=False)

        def forward(self, x):
            batch, time, _ = x.shape

            def heads(t):
                return t.view(batch, time, HEADS, DIM_HEAD).transpose(1, 2)

            q = heads(self.q_projection(self.prenorm_q(x)))
            k = heads(self.k_projection(self.prenorm_k(x)))
            v = heads(self.v_projection(self.prenorm_v(x)))
            p = dropout if self.training else 0.0
            attended = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
            return self.out_projection(attended.transpose(1, 2).reshape(batch, time, HEADS * DIM_HEAD))

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = Attention()
            self.norm = nn.LayerNorm(EMBEDDING)
            self.linear1 = nn.Linear(EMBEDDING, HIDDEN)
            self.linear2 = nn.Linear(HIDDEN, EMBEDDING)

        def forward(self, x):
            x = x + F.dropout(self.attention(x), dropout, self.training)
            hidden = F.dropout(F.relu(self.linear1(self.norm(x))), dropout, self.training)
            return x + F.dropout(self.linear2(hidden), dropout, self.training)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.positional_embedding = nn.Embedding(TIME, EMBEDDING)
            self.layers = nn.ModuleList([Layer() for _ in range(LAYERS)])

        def forward(self, x):  # (T, B, d), as needle's batch_first=False
            x = x.transpose(0, 1) + self.positional_embedding.weight[: x.shape[0]]
            for layer in self.layers:
                x = layer(x)
            return x.transpose(0, 1)

    model = Model()
    copy_weights(needle_model(dropout), model)
    return model


def copy_weights(source, model):
    """Copy a needle Transformer's parameters into the PyTorch model of the same names."""
    torch = optional_import("torch")
    ours = dict(source.named_parameters())
    with torch.no_grad():
        for name, param in model.named_parameters():
            value = ours[name].numpy()
            if name.endswith("weight") and param.ndim == 2 and "embedding" not in name:
                value = value.T  # needle's Linear weight is (in, out)
            param.copy_(torch.from_numpy(np.ascontiguousarray(value).reshape(param.shape)))


def torch_step(dropout=DROPOUT):
    torch = optional_import("torch")
    torch.manual_seed(9)
    model = torch_model(dropout).train()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    x, target = (torch.from_numpy(a) for a in _data())

    def step():
        loss = torch.nn.functional.mse_loss(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss.item())

    return step


STEP = {"needle": needle_step, "torch": torch_step}
