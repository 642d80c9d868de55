"""Recurrent layers: draws and fields, forward against NumPy loops and PyTorch (outputs, final states,
every gradient), gradient checks of every layer in float64, node count per step, and errors."""
import math

import numpy as np
import pytest

import needle as ndl
from needle import nn
from needle.testing import check_gradients, check_jvp

T, BS, IN, HID = 4, 3, 5, 6  # the forward comparisons' sizes: seq_len, batch, input, hidden


# ---- NumPy references (float64 loops over time) ---------------------------------------------


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_rnn_cell(x, h, fields, nonlinearity="tanh"):
    W_ih, W_hh, b_ih, b_hh = fields
    z = x @ W_ih + h @ W_hh + (0 if b_ih is None else b_ih + b_hh)
    return np.tanh(z) if nonlinearity == "tanh" else np.maximum(z, 0)


def np_lstm_cell(x, h, c, fields):
    W_ih, W_hh, b_ih, b_hh = fields
    z = x @ W_ih + h @ W_hh + (0 if b_ih is None else b_ih + b_hh)
    i, f, g, o = np.split(z, 4, axis=-1)
    c = np_sigmoid(f) * c + np_sigmoid(i) * np.tanh(g)
    return np_sigmoid(o) * np.tanh(c), c


def np_gru_cell(x, h, fields):
    W_ih, W_hh, b_ih, b_hh = fields
    from_x = x @ W_ih + (0 if b_ih is None else b_ih)
    from_h = h @ W_hh + (0 if b_hh is None else b_hh)
    r_x, z_x, n_x = np.split(from_x, 3, axis=-1)
    r_h, z_h, n_h = np.split(from_h, 3, axis=-1)
    r, z = np_sigmoid(r_x + r_h), np_sigmoid(z_x + z_h)
    n = np.tanh(n_x + r * n_h)
    return (1 - z) * n + z * h


def fields_of(cell):
    return [None if p is None else p.numpy().astype(np.float64) for p in
            (cell.W_ih, cell.W_hh, cell.bias_ih, cell.bias_hh)]


def np_layers(kind, cells, X, h0=None, c0=None, nonlinearity="tanh"):
    """(output, h_n, c_n or None) of stacked cells over time, every state in float64."""
    inputs = X.astype(np.float64)
    finals_h, finals_c = [], []
    for k, cell in enumerate(cells):
        fields = fields_of(cell)
        h = np.zeros((X.shape[1], cell.hidden_size)) if h0 is None else h0[k].astype(np.float64)
        c = np.zeros_like(h) if c0 is None else c0[k].astype(np.float64)
        outputs = []
        for x in inputs:
            if kind == "lstm":
                h, c = np_lstm_cell(x, h, c, fields)
            elif kind == "gru":
                h = np_gru_cell(x, h, fields)
            else:
                h = np_rnn_cell(x, h, fields, nonlinearity)
            outputs.append(h)
        inputs = np.stack(outputs)
        finals_h.append(h)
        finals_c.append(c)
    return inputs, np.stack(finals_h), np.stack(finals_c) if kind == "lstm" else None


def cells_of(layer):
    return getattr(layer, {nn.RNN: "rnn_cells", nn.LSTM: "lstm_cells", nn.GRU: "gru_cells"}[type(layer)])


def make_layer(kind, num_layers, bias, nonlinearity="tanh", dtype="float32", sizes=(IN, HID)):
    if kind == "rnn":
        return nn.RNN(*sizes, num_layers=num_layers, bias=bias, nonlinearity=nonlinearity, dtype=dtype)
    return {"lstm": nn.LSTM, "gru": nn.GRU}[kind](*sizes, num_layers=num_layers, bias=bias, dtype=dtype)


LAYER_VARIANTS = [
    ("rnn", 1, True, "tanh", False), ("rnn", 2, False, "tanh", True), ("rnn", 3, True, "relu", True),
    ("rnn", 1, False, "relu", False), ("lstm", 1, True, "tanh", False), ("lstm", 2, False, "tanh", True),
    ("lstm", 3, True, "tanh", True), ("gru", 1, True, "tanh", True), ("gru", 2, False, "tanh", False),
    ("gru", 3, True, "tanh", True),
]
VARIANT_IDS = [f"{k}-{n}layers-{'bias' if b else 'nobias'}-{nl}-{'h0' if s else 'zeros'}"
               for k, n, b, nl, s in LAYER_VARIANTS]


def initial_state(kind, num_layers, given):
    """(h, state argument) for the layer: None, h0, or (h0, c0) for the LSTM."""
    if not given:
        return None, None, None
    h0 = np.random.randn(num_layers, BS, HID).astype(np.float32)
    c0 = np.random.randn(num_layers, BS, HID).astype(np.float32) if kind == "lstm" else None
    state = (ndl.Tensor(h0), ndl.Tensor(c0)) if kind == "lstm" else ndl.Tensor(h0)
    return h0, c0, state


@pytest.mark.parametrize("kind, num_layers, bias, nonlinearity, given_state", LAYER_VARIANTS, ids=VARIANT_IDS)
def test_layers_match_numpy_loops(kind, num_layers, bias, nonlinearity, given_state):
    layer = make_layer(kind, num_layers, bias, nonlinearity)
    X = np.random.randn(T, BS, IN).astype(np.float32)
    h0, c0, state = initial_state(kind, num_layers, given_state)
    output, final = layer(ndl.Tensor(X), state)
    expected, h_n, c_n = np_layers(kind, cells_of(layer), X, h0, c0, nonlinearity)
    assert output.dtype == np.float32 and output.shape == (T, BS, HID)
    np.testing.assert_allclose(output.numpy(), expected, rtol=1e-5, atol=1e-6)
    if kind == "lstm":
        final, c_final = final
        np.testing.assert_allclose(c_final.numpy(), c_n, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(final.numpy(), h_n, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["rnn-tanh", "rnn-relu", "lstm", "gru"])
def test_cells_match_numpy(kind):
    X = np.random.randn(BS, IN).astype(np.float32)
    h = np.random.randn(BS, HID).astype(np.float32)
    c = np.random.randn(BS, HID).astype(np.float32)
    if kind.startswith("rnn"):
        nonlinearity = kind.split("-")[1]
        cell = nn.RNNCell(IN, HID, nonlinearity=nonlinearity)
        out = cell(ndl.Tensor(X), ndl.Tensor(h))
        np.testing.assert_allclose(out.numpy(), np_rnn_cell(X, h, fields_of(cell), nonlinearity), rtol=1e-5, atol=1e-6)
    elif kind == "lstm":
        cell = nn.LSTMCell(IN, HID)
        h_new, c_new = cell(ndl.Tensor(X), (ndl.Tensor(h), ndl.Tensor(c)))
        expected_h, expected_c = np_lstm_cell(X, h, c, fields_of(cell))
        np.testing.assert_allclose(h_new.numpy(), expected_h, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(c_new.numpy(), expected_c, rtol=1e-5, atol=1e-6)
    else:
        cell = nn.GRUCell(IN, HID)
        out = cell(ndl.Tensor(X), ndl.Tensor(h))
        np.testing.assert_allclose(out.numpy(), np_gru_cell(X, h, fields_of(cell)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layer_class, cell_class, cells", [
    (nn.RNN, nn.RNNCell, "rnn_cells"), (nn.LSTM, nn.LSTMCell, "lstm_cells"), (nn.GRU, nn.GRUCell, "gru_cells"),
])
def test_a_cell_replaced_by_another_module_runs_its_own_forward(layer_class, cell_class, cells):
    class Halved(cell_class):
        def forward(self, X, h=None):
            out = super().forward(X, h)
            return tuple(state * 0.5 for state in out) if isinstance(out, tuple) else out * 0.5

    np.random.seed(3)
    layer = layer_class(3, 4, num_layers=2, dtype="float64")
    replaced = Halved(4, 4, dtype="float64")
    replaced.load_state_dict(getattr(layer, cells)[1].state_dict())
    getattr(layer, cells)[1] = replaced
    X = ndl.Tensor(np.random.randn(5, 2, 3))
    output = layer(X)[0].numpy()
    h = c = ndl.Tensor(np.zeros((2, 4)))
    expected = []
    for t in range(5):
        first = getattr(layer, cells)[0]
        if cell_class is nn.LSTMCell:
            h, c = first(X[t], (h, c))
        else:
            h = first(X[t], h)
        expected.append(h)
    h = c = ndl.Tensor(np.zeros((2, 4)))
    for t in range(5):
        if cell_class is nn.LSTMCell:
            h, c = replaced(expected[t], (h, c))
        else:
            h = replaced(expected[t], h)
        expected[t] = h.numpy()
    np.testing.assert_allclose(output, np.stack(expected), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell_class", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_cells_take_none_as_zero_state(cell_class):
    cell = cell_class(IN, HID)
    X = ndl.Tensor(np.random.randn(BS, IN).astype(np.float32))
    zeros = ndl.Tensor(np.zeros((BS, HID), dtype=np.float32))
    lstm = cell_class is nn.LSTMCell
    given = cell(X, (zeros, zeros) if lstm else zeros)
    default = cell(X)
    for a, b in zip(given, default) if lstm else [(given, default)]:
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# ---- PyTorch as the oracle ------------------------------------------------------------------


def torch_twin(torch, kind, layer, num_layers, bias, nonlinearity):
    """The same layer in PyTorch with needle's weights, transposed into PyTorch's (gates·hidden, in)."""
    if kind == "rnn":
        twin = torch.nn.RNN(IN, HID, num_layers, nonlinearity=nonlinearity, bias=bias)
    else:
        twin = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](IN, HID, num_layers, bias=bias)
    with torch.no_grad():
        for k, cell in enumerate(cells_of(layer)):
            getattr(twin, f"weight_ih_l{k}").copy_(torch.tensor(cell.W_ih.numpy().T))
            getattr(twin, f"weight_hh_l{k}").copy_(torch.tensor(cell.W_hh.numpy().T))
            if bias:
                getattr(twin, f"bias_ih_l{k}").copy_(torch.tensor(cell.bias_ih.numpy()))
                getattr(twin, f"bias_hh_l{k}").copy_(torch.tensor(cell.bias_hh.numpy()))
    return twin


def assert_close_float32(actual, expected, what):
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6 * scale, err_msg=what)


@pytest.mark.parametrize("kind, num_layers, bias, nonlinearity, given_state", LAYER_VARIANTS, ids=VARIANT_IDS)
def test_layers_match_pytorch_outputs_states_and_every_gradient(kind, num_layers, bias, nonlinearity, given_state):
    torch = pytest.importorskip("torch")
    layer = make_layer(kind, num_layers, bias, nonlinearity)
    twin = torch_twin(torch, kind, layer, num_layers, bias, nonlinearity)
    X = np.random.randn(T, BS, IN).astype(np.float32)
    h0, c0, state = initial_state(kind, num_layers, given_state)
    x = ndl.Tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    t_state = None if h0 is None else (
        (torch.tensor(h0, requires_grad=True), torch.tensor(c0, requires_grad=True)) if kind == "lstm"
        else torch.tensor(h0, requires_grad=True))
    output, final = layer(x, state)
    t_output, t_final = twin(tx, t_state)
    finals = final if kind == "lstm" else (final,)
    t_finals = t_final if kind == "lstm" else (t_final,)
    # One scalar that reaches every output: a fixed random weighting of output and final states.
    weights = [np.random.randn(*o.shape).astype(np.float32) for o in (output, *finals)]
    loss = sum((o * ndl.Tensor(w)).sum() for o, w in zip((output, *finals), weights))
    t_loss = sum((o * torch.tensor(w)).sum() for o, w in zip((t_output, *t_finals), weights))
    loss.backward()
    t_loss.backward()
    assert_close_float32(output.numpy(), t_output.detach().numpy(), "output")
    for k, (f, t_f) in enumerate(zip(finals, t_finals)):
        assert_close_float32(f.numpy(), t_f.detach().numpy(), f"final state {k}")
    assert_close_float32(x.grad.numpy(), tx.grad.numpy(), "input gradient")
    if state is not None:
        for k, (given, t_given) in enumerate(zip(state if kind == "lstm" else (state,),
                                                 t_state if kind == "lstm" else (t_state,))):
            assert_close_float32(given.grad.numpy(), t_given.grad.numpy(), f"initial state {k}")
    for k, cell in enumerate(cells_of(layer)):
        assert_close_float32(cell.W_ih.grad.numpy(), getattr(twin, f"weight_ih_l{k}").grad.numpy().T, f"W_ih {k}")
        assert_close_float32(cell.W_hh.grad.numpy(), getattr(twin, f"weight_hh_l{k}").grad.numpy().T, f"W_hh {k}")
        if bias:
            assert_close_float32(cell.bias_ih.grad.numpy(), getattr(twin, f"bias_ih_l{k}").grad.numpy(), f"b_ih {k}")
            assert_close_float32(cell.bias_hh.grad.numpy(), getattr(twin, f"bias_hh_l{k}").grad.numpy(), f"b_hh {k}")


@pytest.mark.parametrize("cell_class", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_pytorch_with_gradients(cell_class):
    torch = pytest.importorskip("torch")
    cell = getattr(nn, cell_class)(IN, HID)
    twin = getattr(torch.nn, cell_class)(IN, HID)
    with torch.no_grad():
        twin.weight_ih.copy_(torch.tensor(cell.W_ih.numpy().T))
        twin.weight_hh.copy_(torch.tensor(cell.W_hh.numpy().T))
        twin.bias_ih.copy_(torch.tensor(cell.bias_ih.numpy()))
        twin.bias_hh.copy_(torch.tensor(cell.bias_hh.numpy()))
    X = np.random.randn(BS, IN).astype(np.float32)
    h = np.random.randn(BS, HID).astype(np.float32)
    c = np.random.randn(BS, HID).astype(np.float32)
    x, tx = ndl.Tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    if cell_class == "LSTMCell":
        out = cell(x, (ndl.Tensor(h), ndl.Tensor(c)))
        t_out = twin(tx, (torch.tensor(h), torch.tensor(c)))
    else:
        out, t_out = (cell(x, ndl.Tensor(h)),), (twin(tx, torch.tensor(h)),)
    sum((o * o).sum() for o in out).backward()
    sum((o * o).sum() for o in t_out).backward()
    for o, t_o in zip(out, t_out):
        assert_close_float32(o.numpy(), t_o.detach().numpy(), "output")
    assert_close_float32(x.grad.numpy(), tx.grad.numpy(), "input gradient")
    assert_close_float32(cell.W_ih.grad.numpy(), twin.weight_ih.grad.numpy().T, "W_ih")
    assert_close_float32(cell.W_hh.grad.numpy(), twin.weight_hh.grad.numpy().T, "W_hh")
    assert_close_float32(cell.bias_hh.grad.numpy(), twin.bias_hh.grad.numpy(), "bias_hh")


# ---- gradient checks (float64, first and second order, and forward mode) --------------------


def as_function(layer, kind):
    """The layer as a function of (X, h0[, c0], every field), the fields replaced on each call."""
    cells = cells_of(layer)

    def fn(X, h0, c0, *fields):
        for k, cell in enumerate(cells):
            cell.W_ih, cell.W_hh, cell.bias_ih, cell.bias_hh = fields[4 * k:4 * k + 4]
        output, final = layer(X, (h0, c0) if kind == "lstm" else h0)
        finals = final if kind == "lstm" else (final,)
        out = (output * output).sum()
        for f in finals:
            out = out + (f * ndl.Tensor(np.linspace(-1, 1, math.prod(f.shape)).reshape(f.shape))).sum()
        return out

    fn.__name__ = type(layer).__name__
    return fn


@pytest.mark.parametrize("kind, nonlinearity", [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")])
def test_layer_gradients_of_first_and_second_order(kind, nonlinearity):
    layer = make_layer(kind, 2, True, nonlinearity, dtype="float64", sizes=(2, 2))
    fields = [p.numpy() for p in layer.parameters()]
    X, h0, c0 = np.random.randn(3, 2, 2), np.random.randn(2, 2, 2), np.random.randn(2, 2, 2)
    if nonlinearity == "relu":  # keep pre-activations away from the kink, where differences fail
        fields = [f * 0.5 + np.sign(f) * 0.5 for f in fields]
    check_gradients(as_function(layer, kind), X, h0, c0, *fields, order=2, elementwise=False)
    check_jvp(as_function(layer, kind), X, h0, c0, *fields)


@pytest.mark.parametrize("cell_class", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_cell_gradients_of_first_and_second_order(cell_class):
    cell = cell_class(2, 3, dtype="float64")
    lstm = cell_class is nn.LSTMCell

    def fn(X, h, c, W_ih, W_hh, bias_ih, bias_hh):
        cell.W_ih, cell.W_hh, cell.bias_ih, cell.bias_hh = W_ih, W_hh, bias_ih, bias_hh
        out = cell(X, (h, c) if lstm else h)
        return sum(((o * o).sum() for o in out), ndl.Tensor(0.0)) if lstm else (out * out).sum()

    fn.__name__ = cell_class.__name__
    args = [np.random.randn(2, 2), np.random.randn(2, 3), np.random.randn(2, 3)]
    args += [p.numpy() for p in cell.parameters()]
    check_gradients(fn, *args, order=2, elementwise=False)
    check_jvp(fn, *args)


# ---- construction: draws, fields, submodules ------------------------------------------------


@pytest.mark.parametrize("cell_class, gates", [(nn.RNNCell, 1), (nn.LSTMCell, 4), (nn.GRUCell, 3)])
def test_cells_draw_their_fields_in_order_from_the_global_rng(cell_class, gates):
    np.random.seed(5)
    cell = cell_class(4, 3)
    after = np.random.rand()
    np.random.seed(5)
    bound = 1 / math.sqrt(3)
    shapes = [(4, 3 * gates), (3, 3 * gates), (3 * gates,), (3 * gates,)]
    expected = [np.random.rand(*shape) * 2 * bound - bound for shape in shapes]
    assert np.random.rand() == after
    for name, value in zip(["W_ih", "W_hh", "bias_ih", "bias_hh"], expected):
        field = getattr(cell, name)
        assert isinstance(field, nn.Parameter) and field.dtype == np.float32, name
        np.testing.assert_allclose(field.numpy(), value, rtol=1e-6, err_msg=name)


def test_cells_without_bias_draw_only_the_weights():
    np.random.seed(1)
    cell = nn.LSTMCell(2, 3, bias=False)
    after = np.random.rand()
    np.random.seed(1)
    np.random.rand(2, 12), np.random.rand(3, 12)
    assert np.random.rand() == after
    assert cell.bias_ih is None and cell.bias_hh is None and len(cell.parameters()) == 2


@pytest.mark.parametrize("layer_class, cells", [(nn.RNN, "rnn_cells"), (nn.LSTM, "lstm_cells"), (nn.GRU, "gru_cells")])
def test_layers_hold_their_cells_as_submodules(layer_class, cells):
    layer = layer_class(3, 4, num_layers=3, dtype="float64")
    held = getattr(layer, cells)
    assert isinstance(held, list) and len(held) == 3
    assert held[0].W_ih.shape[0] == 3 and held[1].W_ih.shape[0] == 4
    assert len(layer.parameters()) == 12 and all(p.dtype == np.float64 for p in layer.parameters())
    names = [name for name, _ in layer.named_parameters()]
    assert names[:4] == [f"{cells}.0.{f}" for f in ("W_ih", "W_hh", "bias_ih", "bias_hh")]


def test_fields_replaced_after_construction_are_read_at_call_time():
    layer = nn.LSTM(3, 2)
    X = ndl.Tensor(np.random.randn(2, 1, 3).astype(np.float32))
    cell = layer.lstm_cells[0]
    cell.W_ih = nn.Parameter(np.zeros((3, 8), dtype=np.float32))
    cell.W_hh = nn.Parameter(np.zeros((2, 8), dtype=np.float32))
    cell.bias_ih = cell.bias_hh = nn.Parameter(np.full(8, 0.25, dtype=np.float32))
    output, (h_n, c_n) = layer(X)
    # Every gate is σ(0.5) or tanh(0.5), whatever the input: c grows by i·g each step.
    i = g_sig = 1 / (1 + np.exp(-0.5))
    c1 = i * np.tanh(0.5)
    c2 = g_sig * c1 + i * np.tanh(0.5)
    np.testing.assert_allclose(c_n.numpy(), np.full((1, 1, 2), c2), rtol=1e-6)
    np.testing.assert_allclose(output.numpy()[1], np.full((1, 2), g_sig * np.tanh(c2)), rtol=1e-6)


def graph_size(output):
    return len(ndl.autograd.find_topo_sort([output]))


def test_an_lstm_layer_records_the_same_nodes_for_any_number_of_steps():
    layer = nn.LSTM(3, 4, num_layers=2)

    def nodes(steps):
        output, _ = layer(ndl.Tensor(np.random.randn(steps, 2, 3).astype(np.float32), requires_grad=True))
        return graph_size(output)

    assert nodes(2) == nodes(7)


def test_one_lstm_cell_step_records_five_nodes():
    cell = nn.LSTMCell(3, 4)
    x = ndl.Tensor(np.random.randn(2, 3).astype(np.float32), requires_grad=True)
    h, c = cell(x)
    one = graph_size(h)
    h, c = cell(x, cell(x))
    # Per step: [x, h], the product with the stacked weights, lstm_update, and the slices h and c;
    # the stacked weights and the summed biases are made once per call.
    assert graph_size(h) - one == 5 + 2


# ---- errors ---------------------------------------------------------------------------------


def test_wrong_shapes_are_refused_with_the_layer_and_shapes_named():
    lstm = nn.LSTM(3, 4, num_layers=2)
    X = ndl.Tensor(np.zeros((5, 2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"^LSTM: input of shape \(5, 2, 7\), expected \(seq_len, bs, input_size=3\)"):
        lstm(ndl.Tensor(np.zeros((5, 2, 7), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"^LSTM: input of shape \(2, 3\)"):
        lstm(ndl.Tensor(np.zeros((2, 3), dtype=np.float32)))
    bad = ndl.Tensor(np.zeros((1, 2, 4), dtype=np.float32))
    good = ndl.Tensor(np.zeros((2, 2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"^LSTM: h0 of shape \(1, 2, 4\), expected .* = \(2, 2, 4\)"):
        lstm(X, (bad, good))
    with pytest.raises(ValueError, match=r"^LSTM: c0 of shape \(1, 2, 4\)"):
        lstm(X, (good, bad))
    with pytest.raises(TypeError, match="^LSTM: the state must be a pair"):
        lstm(X, good)
    with pytest.raises(ValueError, match=r"^GRU: h0 of shape \(2, 2, 4\), expected .* = \(1, 2, 4\)"):
        nn.GRU(3, 4)(X, good)
    with pytest.raises(ValueError, match=r"^RNNCell: input of shape \(2, 4\), expected \(bs, input_size=3\)"):
        nn.RNNCell(3, 4)(ndl.Tensor(np.zeros((2, 4), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"^LSTMCell: c of shape \(2, 5\), expected \(bs, hidden_size\) = \(2, 4\)"):
        state = (ndl.Tensor(np.zeros((2, 4), dtype=np.float32)), ndl.Tensor(np.zeros((2, 5), dtype=np.float32)))
        nn.LSTMCell(3, 4)(ndl.Tensor(np.zeros((2, 3), dtype=np.float32)), state)


def test_bad_arguments_and_replaced_fields_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match="^RNNCell: nonlinearity must be 'tanh' or 'relu', got 'gelu'"):
        nn.RNNCell(2, 3, nonlinearity="gelu")
    with pytest.raises(ValueError, match="^LSTM: hidden_size must be a positive integer, got 0"):
        nn.LSTM(2, 0)
    with pytest.raises(ValueError, match="^GRU: num_layers must be a positive integer"):
        nn.GRU(2, 3, num_layers=1.5)
    cell = nn.LSTMCell(2, 3)
    cell.W_hh = nn.Parameter(np.zeros((3, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"^LSTMCell: W_hh has shape \(3, 3\), expected \(3, 12\)"):
        cell(ndl.Tensor(np.zeros((1, 2), dtype=np.float32)))
