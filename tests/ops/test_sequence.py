"""Case table and properties for the recurrent layers' fused ops (gate activations, LSTM update)."""
import numpy as np
import pytest

import needle as ndl
from tests.ops.case import Case


def np_sigmoid(a):
    return 1 / (1 + np.exp(-a.astype(np.float64)))


def np_gate_activations(a, kinds):
    blocks = np.split(a.astype(np.float64), len(kinds), axis=-1)
    out = [np_sigmoid(b) if k == "s" else np.tanh(b) for k, b in zip(kinds, blocks)]
    return np.concatenate(out, -1).astype(a.dtype)


def np_lstm_update(gates, c):
    i, f, g, o = np.split(gates.astype(np.float64), 4, axis=-1)
    c_new = np_sigmoid(f) * c + np_sigmoid(i) * np.tanh(g)
    h_new = np_sigmoid(o) * np.tanh(c_new)
    return np.concatenate([h_new, c_new], -1).astype(gates.dtype)


CASES = [
    Case(ndl.gate_activations, shapes=[(3, 8)], numpy=np_gate_activations, kwargs={"kinds": "ssts"}, low=-4, high=4),
    Case(ndl.gate_activations, shapes=[(2, 2, 6)], numpy=np_gate_activations, kwargs={"kinds": "tss"},
         name="gate_activations_3d"),
    Case(ndl.lstm_update, shapes=[(3, 8), (3, 2)], numpy=np_lstm_update, low=-3, high=3),
    Case(ndl.lstm_update, shapes=[(2, 4), (2, 1)], numpy=np_lstm_update, grad_inputs=[0],
         name="lstm_update_constant_state"),
    Case(lambda z, c: ndl.lstm_update(z, c) ** 2, shapes=[(2, 8), (2, 2)],
         numpy=lambda z, c: np_lstm_update(z, c) ** 2, name="lstm_update_squared"),
]


def test_gate_activations_saturate_without_overflow_in_float32():
    a = ndl.Tensor(np.array([[-1e10, -90.0, 90.0, 1e10]], dtype=np.float32))
    out = ndl.gate_activations(a, "ssss").numpy()
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0, 0, 1, 1]])


def test_gate_activations_and_lstm_update_name_bad_shapes():
    with pytest.raises(ValueError, match="^gate_activations: input \\(2, 5\\).*4 equal blocks"):
        ndl.gate_activations(ndl.Tensor(np.zeros((2, 5), np.float32)), "ssts")
    with pytest.raises(ValueError, match="^gate_activations: kinds must be"):
        ndl.gate_activations(ndl.Tensor(np.zeros((2, 4), np.float32)), "sx")
    with pytest.raises(ValueError, match="^lstm_update: gates \\(2, 8\\) and cell state \\(2, 3\\)"):
        ndl.lstm_update(ndl.Tensor(np.zeros((2, 8), np.float32)), ndl.Tensor(np.zeros((2, 3), np.float32)))
