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


def np_lstm_sequence(gates, weight, h0, c0):
    h, c = h0.astype(np.float64), c0.astype(np.float64)
    hs, cs = [], []
    for x in gates.astype(np.float64):
        state = np_lstm_update(x + h @ weight, c).astype(np.float64)
        h, c = np.split(state, 2, axis=-1)
        hs.append(h)
        cs.append(c)
    return np.stack([np.stack(hs), np.stack(cs)]).astype(gates.dtype)


def np_lstm_sequence_adjoint(out_grad, gates, weight, h0, c0, need_h0=True):
    """(z̄, h̄0, c̄0) flattened and joined: the reverse sweep of the recurrence composed of
    lstm_update steps (LSTMUpdate's rule), in float64; h̄0 zeros without `need_h0`."""
    leaves = [ndl.Tensor(a.astype(np.float64)) for a in (gates, weight, h0, c0)]
    states = np_composed_sequence(*leaves)
    grads = ndl.autograd.grad(states, [leaves[0], leaves[2], leaves[3]], out_grad=ndl.Tensor(out_grad.astype(np.float64)))
    grads = [g.numpy() for g in grads]
    if not need_h0:
        grads[1] = np.zeros_like(grads[1])
    return np.concatenate([g.ravel() for g in grads]).astype(gates.dtype)


def np_composed_sequence(gates, weight, h0, c0):
    """lstm_sequence composed of one lstm_update node per step."""
    hidden = h0.shape[-1]
    h, c, hs, cs = h0, c0, [], []
    for t in range(gates.shape[0]):
        state = ndl.lstm_update(gates[t] + h @ weight, c)
        h, c = state[:, :hidden], state[:, hidden:]
        hs.append(h)
        cs.append(c)
    return ndl.stack([ndl.stack(hs), ndl.stack(cs)])


def joined_adjoint(out_grad, gates, weight, h0, c0, need_h0=True):
    """lstm_sequence_adjoint's three results flattened and joined into one Tensor."""
    parts = ndl.lstm_sequence_adjoint(out_grad, gates, weight, h0, c0, need_h0).tuple()
    return ndl.concatenate([p.reshape((-1,)) for p in parts], 0)


CASES = [
    Case(ndl.gate_activations, shapes=[(3, 8)], numpy=np_gate_activations, kwargs={"kinds": "ssts"}, low=-4, high=4),
    Case(ndl.gate_activations, shapes=[(2, 2, 6)], numpy=np_gate_activations, kwargs={"kinds": "tss"},
         name="gate_activations_3d"),
    Case(ndl.lstm_update, shapes=[(3, 8), (3, 2)], numpy=np_lstm_update, low=-3, high=3),
    Case(ndl.lstm_update, shapes=[(2, 4), (2, 1)], numpy=np_lstm_update, grad_inputs=[0],
         name="lstm_update_constant_state"),
    Case(lambda z, c: ndl.lstm_update(z, c) ** 2, shapes=[(2, 8), (2, 2)],
         numpy=lambda z, c: np_lstm_update(z, c) ** 2, name="lstm_update_squared"),
    Case(ndl.lstm_sequence, shapes=[(3, 2, 8), (2, 8), (2, 2), (2, 2)], numpy=np_lstm_sequence, low=-1.5, high=1.5),
    Case(ndl.lstm_sequence, shapes=[(1, 1, 4), (1, 4), (1, 1), (1, 1)], numpy=np_lstm_sequence,
         name="lstm_sequence_one_step"),
    Case(ndl.lstm_sequence, shapes=[(2, 1, 4), (1, 4), (1, 1), (1, 1)], numpy=np_lstm_sequence, grad_inputs=[1, 2],
         name="lstm_sequence_constant_gates_and_cell"),
    Case(joined_adjoint, shapes=[(2, 2, 1, 1), (2, 1, 4), (1, 4), (1, 1), (1, 1)], numpy=np_lstm_sequence_adjoint,
         low=-1.5, high=1.5, name="lstm_sequence_adjoint"),
    Case(joined_adjoint, shapes=[(2, 1, 2, 2), (1, 2, 8), (2, 8), (2, 2), (2, 2)], numpy=np_lstm_sequence_adjoint,
         grad_inputs=[0, 2], name="lstm_sequence_adjoint_by_seed_and_weight"),
    Case(joined_adjoint, shapes=[(2, 2, 1, 1), (2, 1, 4), (1, 4), (1, 1), (1, 1)], kwargs={"need_h0": False},
         numpy=lambda *arrays, need_h0: np_lstm_sequence_adjoint(*arrays, need_h0=need_h0), low=-1.5, high=1.5,
         name="lstm_sequence_adjoint_without_h0"),
    Case(ndl.lstm_sequence, shapes=[(2, 2, 8), (2, 8), (2, 2), (2, 2)], numpy=np_lstm_sequence, grad_inputs=[0, 1, 3],
         name="lstm_sequence_constant_initial_state"),
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


def test_lstm_sequence_names_bad_shapes():
    zeros = [np.zeros(shape, np.float32) for shape in [(3, 2, 8), (2, 8), (2, 2), (2, 2)]]
    with pytest.raises(ValueError, match=r"^lstm_sequence: input gates \(3, 2, 8\), W_hh \(2, 4\)"):
        ndl.lstm_sequence(*[ndl.Tensor(a) for a in zeros[:1] + [np.zeros((2, 4), np.float32)] + zeros[2:]])
    with pytest.raises(ValueError, match=r"^lstm_sequence: .* h0 \(3, 2\), c0 \(2, 2\)"):
        ndl.lstm_sequence(*[ndl.Tensor(a) for a in zeros[:2] + [np.zeros((3, 2), np.float32)] + zeros[3:]])


def test_lstm_sequence_matches_lstm_update_step_by_step_with_gradients():
    rng = np.random.default_rng(1)
    gates, weight, h0, c0 = (ndl.Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
                             for shape in [(4, 3, 8), (2, 8), (3, 2), (3, 2)])
    fused = ndl.lstm_sequence(gates, weight, h0, c0)
    h, c, steps = h0, c0, []
    for t in range(4):
        state = ndl.lstm_update(gates[t] + h @ weight, c)
        h, c = state[:, :2], state[:, 2:]
        steps.append((h, c))
    composed = ndl.stack([ndl.stack([h for h, _ in steps]), ndl.stack([c for _, c in steps])])
    np.testing.assert_allclose(fused.numpy(), composed.numpy(), rtol=1e-6, atol=1e-7)
    seed = ndl.Tensor(rng.standard_normal(fused.shape).astype(np.float32))
    leaves = [gates, weight, h0, c0]
    for fast, slow in zip(ndl.autograd.grad(fused, leaves, out_grad=seed),
                          ndl.autograd.grad(composed, leaves, out_grad=seed)):
        np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-5, atol=1e-6)


def sequence_leaves(rng, shapes=((4, 3, 8), (2, 8), (3, 2), (3, 2))):
    return [ndl.Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True) for shape in shapes]


def test_lstm_sequence_gradient_is_one_adjoint_node_in_either_grad_mode():
    rng = np.random.default_rng(2)
    gates, weight, h0, c0 = leaves = sequence_leaves(rng)
    seed = ndl.Tensor(rng.standard_normal((2, 4, 3, 2)).astype(np.float32))
    out = ndl.lstm_sequence(gates, weight, h0, c0)
    constant = ndl.autograd.grad(out, leaves, out_grad=seed, create_graph=False)
    recorded = ndl.autograd.grad(out, leaves, out_grad=seed, create_graph=True)
    for g in constant:
        assert not g.requires_grad and g.op is None
    for i in (0, 2, 3):  # z̄, h̄0, c̄0: entries of one LSTMSequenceAdjoint node over (Ȳ, x, W_hh, h0, c0)
        (adjoints,) = recorded[i].inputs
        assert type(adjoints.op) is ndl.ops.LSTMSequenceAdjoint
        assert adjoints.inputs == (seed, gates, weight, h0, c0)
    assert recorded[0].inputs == recorded[2].inputs == recorded[3].inputs
    for fast, slow in zip(constant, recorded):
        np.testing.assert_array_equal(fast.numpy(), slow.numpy())  # one computation in both modes


def test_lstm_sequence_adjoint_computes_what_the_forward_node_hands_it():
    rng = np.random.default_rng(3)
    gates, weight, h0, c0 = sequence_leaves(rng)
    seed = ndl.Tensor(rng.standard_normal((2, 4, 3, 2)).astype(np.float32))
    out = ndl.lstm_sequence(gates, weight, h0, c0)
    from_saved = ndl.autograd.grad(out, [gates, h0, c0], out_grad=seed)
    recomputed = ndl.lstm_sequence_adjoint(seed, gates, weight, h0, c0).tuple()
    for a, b in zip(from_saved, recomputed):
        assert b.dtype == np.float32
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match=r"^lstm_sequence_adjoint: output adjoint \(2, 3, 3, 2\) for input gates"):
        ndl.lstm_sequence_adjoint(ndl.Tensor(np.zeros((2, 3, 3, 2), np.float32)), gates, weight, h0, c0)


def test_lstm_sequence_third_derivative_matches_the_composed_recurrence():
    """∂³ through lstm_sequence (the adjoint node's gradient, differentiated again) equals the same
    derivative through one lstm_update node per step, in float64."""
    rng = np.random.default_rng(4)
    arrays = [rng.uniform(-1, 1, shape) for shape in [(3, 2, 4), (1, 4), (2, 1), (2, 1)]]
    u, v, w = (rng.standard_normal(shape) for shape in [(2, 3, 2, 1), (3, 2, 4), (1, 4)])

    def third(sequence):
        gates, weight, h0, c0 = (ndl.Tensor(a) for a in arrays)
        out = sequence(gates, weight, h0, c0)
        (g_gates,) = ndl.autograd.grad(out, [gates], out_grad=ndl.Tensor(u), create_graph=True)
        (g_weight,) = ndl.autograd.grad(g_gates, [weight], out_grad=ndl.Tensor(v), create_graph=True)
        return [g.numpy() for g in ndl.autograd.grad(g_weight, [gates, weight, h0, c0], out_grad=ndl.Tensor(w))]

    for fused, composed in zip(third(ndl.lstm_sequence), third(np_composed_sequence)):
        np.testing.assert_allclose(fused, composed, rtol=1e-10, atol=1e-12)
