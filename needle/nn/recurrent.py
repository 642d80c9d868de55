"""Recurrent layers: RNNCell, RNN, LSTMCell, LSTM, GRUCell, GRU (time-major input).

needle (the course's layout): weights are (in, gates·hidden), the transpose of PyTorch's, and
multiply from the right, x @ W_ih. Every field is drawn from U(−1/√hidden, 1/√hidden) in the order
W_ih, W_hh, bias_ih, bias_hh, and read at call time, so code may replace it after construction.

An LSTM layer projects its input for all time steps in one product and runs the recurrence in one
`lstm_sequence` node, whose backward pass forms W_hh's adjoint in one product too (workload 8).
A layer reads its plain cells' fields directly; a cell replaced by a module of another type (a
subclass, say) is called step by step instead. The cells, RNN and GRU run a Python loop over time
steps: an RNN or LSTM step multiplies [x_t, h] by [W_ih; W_hh] (stacked once per call) in one
product for all gates, and an LSTMCell step then
records `lstm_update` (the gate nonlinearities and the new state in one node) and two slices. Their
input is not projected for all steps at once: slicing one (T·bs, gates·H) product per step would
cost each step a (T, bs, gates·H) adjoint in the backward pass, which grows as T².
"""
import functools
import math

import numpy as np

from .. import init, ops
from .module import Module, Parameter

__all__ = ["RNNCell", "RNN", "LSTMCell", "LSTM", "GRUCell", "GRU"]

_NONLINEARITIES = ("tanh", "relu")


def _check_size(layer, name, size):
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {size!r}")
    return int(size)


def _project(x, weight, bias):
    """x @ weight (+ bias) as one node."""
    return ops.matmul(x, weight) if bias is None else ops.linear(x, weight, bias)


def _zeros(batch, hidden, like):
    return init.zeros(batch, hidden, dtype=like.dtype)


class _Cell(Module):
    """The fields and checks that the three cells share; `gates` blocks of `hidden_size` per weight."""

    gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype="float32"):
        super().__init__()
        layer = type(self).__name__
        self.input_size = _check_size(layer, "input_size", input_size)
        self.hidden_size = _check_size(layer, "hidden_size", hidden_size)
        width = self.gates * self.hidden_size
        bound = 1 / math.sqrt(self.hidden_size)

        def uniform(*shape):
            return Parameter.initialized(init.rand(*shape, low=-bound, high=bound, device=device, dtype=dtype))

        self.W_ih = uniform(self.input_size, width)
        self.W_hh = uniform(self.hidden_size, width)
        self.bias_ih = uniform(width) if bias else None
        self.bias_hh = uniform(width) if bias else None

    def _check_fields(self):
        """The fields as they are now (they may have been replaced), checked against the sizes."""
        width = self.gates * self.hidden_size
        expected = {"W_ih": (self.input_size, width), "W_hh": (self.hidden_size, width),
                    "bias_ih": (width,), "bias_hh": (width,)}
        for name, shape in expected.items():
            field = getattr(self, name)
            if field is not None and field.shape != shape:
                raise ValueError(f"{type(self).__name__}: {name} has shape {field.shape}, expected {shape}")
        if (self.bias_ih is None) != (self.bias_hh is None):
            raise ValueError(f"{type(self).__name__}: bias_ih and bias_hh must both be set or both be None")

    def _stacked(self):
        """([W_ih; W_hh] (input + hidden, gates·hidden), bias_ih + bias_hh or None) for this call."""
        self._check_fields()
        weight = ops.concatenate([self.W_ih, self.W_hh], 0)
        bias = None if self.bias_ih is None else self.bias_ih + self.bias_hh
        return weight, bias

    def _check_input(self, x):
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__}: input of shape {x.shape}, expected (bs, input_size={self.input_size})"
            )

    def _check_state(self, name, state, x):
        expected = (x.shape[0], self.hidden_size)
        if tuple(state.shape) != expected:
            raise ValueError(
                f"{type(self).__name__}: {name} of shape {tuple(state.shape)}, expected (bs, hidden_size) = {expected}"
            )

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}"


def _rnn_step(x, h, weight, bias, nonlinearity):
    z = _project(ops.concatenate([x, h], 1), weight, bias)
    return ops.tanh(z) if nonlinearity == "tanh" else ops.relu(z)


def _lstm_step(x, h, c, weight, bias):
    hidden = c.shape[-1]
    state = ops.lstm_update(_project(ops.concatenate([x, h], 1), weight, bias), c)
    return state[:, :hidden], state[:, hidden:]


def _gru_step(x, h, fields):
    W_ih, W_hh, bias_ih, bias_hh = fields
    hidden = h.shape[-1]
    from_x, from_h = _project(x, W_ih, bias_ih), _project(h, W_hh, bias_hh)
    gates = ops.gate_activations(from_x[:, :2 * hidden] + from_h[:, :2 * hidden], "ss")
    r, z = gates[:, :hidden], gates[:, hidden:]
    n = ops.tanh(from_x[:, 2 * hidden:] + r * from_h[:, 2 * hidden:])
    return n + z * (h - n)  # (1 − z)·n + z·h


class RNNCell(_Cell):
    """h' = φ(x W_ih + bias_ih + h W_hh + bias_hh), φ tanh or relu: x (bs, input), h (bs, hidden)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype="float32"):
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, X, h=None):
        self._check_input(X)
        if h is None:
            h = _zeros(X.shape[0], self.hidden_size, X)
        self._check_state("h", h, X)
        weight, bias = self._stacked()
        return _rnn_step(X, h, weight, bias, self.nonlinearity)

    def extra_repr(self):
        return f"{super().extra_repr()}, nonlinearity={self.nonlinearity!r}"


class LSTMCell(_Cell):
    """(h', c') with gates [i, f, g, o] = x W_ih + bias_ih + h W_hh + bias_hh (PyTorch's order):
    c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c'). x (bs, input), h and c (bs, hidden)."""

    gates = 4

    def forward(self, X, h=None):
        self._check_input(X)
        if h is None:
            h = c = _zeros(X.shape[0], self.hidden_size, X)
        else:
            h, c = _state_pair(type(self).__name__, h)
        self._check_state("h", h, X)
        self._check_state("c", c, X)
        weight, bias = self._stacked()
        return _lstm_step(X, h, c, weight, bias)


class GRUCell(_Cell):
    """h' = (1 − z)·n + z·h with [r, z] = σ(x W_ir + b_ir + h W_hr + b_hr, …) and
    n = tanh(x W_in + b_in + r·(h W_hn + b_hn)) (PyTorch's equations); blocks r, z, n along 3·hidden."""

    gates = 3

    def forward(self, X, h=None):
        self._check_input(X)
        if h is None:
            h = _zeros(X.shape[0], self.hidden_size, X)
        self._check_state("h", h, X)
        self._check_fields()
        return _gru_step(X, h, (self.W_ih, self.W_hh, self.bias_ih, self.bias_hh))


def _state_pair(layer, h):
    if not isinstance(h, (tuple, list)) or len(h) != 2:
        raise TypeError(f"{layer}: the state must be a pair (h, c) or None, got {type(h).__name__}")
    return h


class _StackedCells(Module):
    """A stack of cells run over time: X (seq_len, bs, input) -> (output (seq_len, bs, hidden), final)."""

    def _build(self, make_cell, input_size, hidden_size, num_layers):
        name = type(self).__name__
        self.input_size = _check_size(name, "input_size", input_size)
        self.hidden_size = _check_size(name, "hidden_size", hidden_size)
        self.num_layers = _check_size(name, "num_layers", num_layers)
        return [make_cell(self.input_size if k == 0 else self.hidden_size) for k in range(self.num_layers)]

    def _check_input(self, X):
        if X.ndim != 3 or X.shape[2] != self.input_size or X.shape[0] == 0:
            raise ValueError(
                f"{type(self).__name__}: input of shape {X.shape}, expected (seq_len, bs, "
                f"input_size={self.input_size}) with seq_len ≥ 1"
            )

    def _initial(self, name, state, X):
        """The per-layer initial states from `state` (num_layers, bs, hidden), zeros for None."""
        expected = (self.num_layers, X.shape[1], self.hidden_size)
        if state is None:
            zeros = _zeros(X.shape[1], self.hidden_size, X)
            return [zeros] * self.num_layers
        if tuple(state.shape) != expected:
            raise ValueError(
                f"{type(self).__name__}: {name} of shape {tuple(state.shape)}, expected "
                f"(num_layers, bs, hidden_size) = {expected}"
            )
        return [state[k] for k in range(self.num_layers)]

    @staticmethod
    def _steps(X):
        """The input's time steps, one slice each."""
        return [X[t] for t in range(X.shape[0])]

    def _run_cells(self, X, cells, h0, step_of):
        """(output (seq_len, bs, hidden) of the last layer, h_n (num_layers, bs, hidden)): each layer's
        step function `step_of(cell)`, (x, h) -> h, run over the time steps of the layer below."""
        self._check_input(X)
        inputs = self._steps(X)
        finals = []
        for cell, h in zip(cells, self._initial("h0", h0, X)):
            step = step_of(cell)
            outputs = []
            for x in inputs:
                h = step(x, h)
                outputs.append(h)
            inputs = outputs
            finals.append(h)
        return ops.stack(inputs, 0), ops.stack(finals, 0)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"


class RNN(_StackedCells):
    """`num_layers` RNNCells (`rnn_cells`) over time: forward(X (seq_len, bs, input), h0 (num_layers,
    bs, hidden) or None) -> (output (seq_len, bs, hidden) of the last layer, h_n (num_layers, bs, hidden))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, nonlinearity="tanh", device=None,
                 dtype="float32"):
        super().__init__()
        self.rnn_cells = self._build(
            lambda size: RNNCell(size, hidden_size, bias, nonlinearity, device, dtype),
            input_size, hidden_size, num_layers,
        )

    def forward(self, X, h0=None):
        return self._run_cells(X, self.rnn_cells, h0, self._step_of)

    @staticmethod
    def _step_of(cell):
        if type(cell) is RNNCell:  # its fields stacked once per call, not once per step
            weight, bias = cell._stacked()
            return functools.partial(_rnn_step, weight=weight, bias=bias, nonlinearity=cell.nonlinearity)
        return cell  # a cell replaced by a module of another type runs its own forward


class LSTM(_StackedCells):
    """`num_layers` LSTMCells (`lstm_cells`) over time: forward(X (seq_len, bs, input), (h0, c0) each
    (num_layers, bs, hidden), or None) -> (output (seq_len, bs, hidden), (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, device=None, dtype="float32"):
        super().__init__()
        self.lstm_cells = self._build(
            lambda size: LSTMCell(size, hidden_size, bias, device, dtype), input_size, hidden_size, num_layers,
        )

    def forward(self, X, h=None):
        self._check_input(X)
        if h is None:
            h0 = c0 = None
        else:
            h0, c0 = _state_pair(type(self).__name__, h)
        steps, batch = X.shape[:2]
        hidden = self.hidden_size
        inputs = X
        finals_h, finals_c = [], []
        for cell, h, c in zip(self.lstm_cells, self._initial("h0", h0, X), self._initial("c0", c0, X)):
            if type(cell) is not LSTMCell:  # a cell replaced by a module of another type runs its own forward
                outputs = []
                for t in range(steps):
                    h, c = cell(inputs[t], (h, c))
                    outputs.append(h)
                inputs = ops.stack(outputs, 0)
                finals_h.append(h)
                finals_c.append(c)
                continue
            cell._check_fields()
            bias = None if cell.bias_ih is None else cell.bias_ih + cell.bias_hh
            # The input's part of every gate at every step in one product, then the recurrence in one node.
            gates = _project(inputs.reshape((steps * batch, inputs.shape[-1])), cell.W_ih, bias)
            states = ops.lstm_sequence(gates.reshape((steps, batch, 4 * hidden)), cell.W_hh, h, c)
            inputs = states[0]
            finals_h.append(states[0, steps - 1])
            finals_c.append(states[1, steps - 1])
        return inputs, (ops.stack(finals_h, 0), ops.stack(finals_c, 0))


class GRU(_StackedCells):
    """`num_layers` GRUCells (`gru_cells`) over time: forward(X (seq_len, bs, input), h0 (num_layers,
    bs, hidden) or None) -> (output (seq_len, bs, hidden), h_n (num_layers, bs, hidden))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, device=None, dtype="float32"):
        super().__init__()
        self.gru_cells = self._build(
            lambda size: GRUCell(size, hidden_size, bias, device, dtype), input_size, hidden_size, num_layers,
        )

    def forward(self, X, h0=None):
        return self._run_cells(X, self.gru_cells, h0, self._step_of)

    @staticmethod
    def _step_of(cell):
        if type(cell) is GRUCell:
            cell._check_fields()
            return functools.partial(_gru_step, fields=(cell.W_ih, cell.W_hh, cell.bias_ih, cell.bias_hh))
        return cell  # a cell replaced by a module of another type runs its own forward
