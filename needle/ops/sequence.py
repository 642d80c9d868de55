"""Fused ops of the recurrent layers: the gate nonlinearities of a block of gates in one node, the
LSTM state update (h', c') from the gates and c in one node, a whole LSTM layer's recurrence over
time in one node, and that recurrence's backward pass in one node.

The rules are written with needle ops over recorded nodes whose data the forward pass saved, so
the adjoints are differentiable again; the backward pass's own rules differentiate it unrolled
into `lstm_update` nodes. Derivations: hw_notes/ops_sequence.md.
"""
import numpy as np

from .. import modes
from ..autograd import SavingOp, Tensor, TensorTuple, TensorTupleOp, ZeroTangent
from .elementwise import ElementwiseFunction, Tanh
from .indexing import getitem
from .linalg import input_gradient, matmul, weight_gradient
from .shape import concatenate, reshape, stack
from .tuples import make_tuple, tuple_get_item

__all__ = [
    "GateActivations", "gate_activations", "LSTMUpdate", "lstm_update", "LSTMSequence", "lstm_sequence",
    "LSTMSequenceAdjoint", "lstm_sequence_adjoint",
]

_KINDS = {"s": "sigmoid", "t": "tanh"}


def _check_kinds(kinds):
    if not isinstance(kinds, str) or not kinds or set(kinds) - set(_KINDS):
        raise ValueError(
            f"gate_activations: kinds must be a non-empty string of 's' (sigmoid) and 't' (tanh), got {kinds!r}"
        )


def _block_constants(kinds, width, dtype):
    """(β, α) of shape (len(kinds)·width,): the derivative of each block is (β − y)·y + α, that is
    y(1 − y) for a sigmoid block (β 1, α 0) and 1 − y² for a tanh block (β 0, α 1)."""
    beta = np.repeat(np.array([k == "s" for k in kinds], dtype=dtype), width)
    return beta, 1 - beta


class GateActivations(ElementwiseFunction):
    """y = [φ_1(a_1), …, φ_k(a_k)]: the last axis cut into k = len(kinds) equal blocks, block j
    passed through the sigmoid ('s') or tanh ('t'). LSTM gates i, f, g, o are kinds "ssts".

    σ(x) is computed as (1 + tanh(x/2))/2: no overflow for any x, and one tanh pass for all blocks.
    ā = ȳ·y' and ẏ = y'·ȧ with y' = (β − y)·y + α from the output: y(1 − y) or 1 − y².
    """

    def __init__(self, kinds):
        _check_kinds(kinds)
        self.kinds = kinds

    def _width(self, shape):
        if not shape or shape[-1] % len(self.kinds):
            raise ValueError(
                f"gate_activations: input {tuple(shape)}: the last axis must split into "
                f"{len(self.kinds)} equal blocks for kinds {self.kinds!r}"
            )
        return shape[-1] // len(self.kinds)

    def compute(self, a):
        width = self._width(a.shape)
        half = np.array([0.5 if k == "s" else 1.0 for k in self.kinds], dtype=a.dtype)[:, None]
        blocks = a.reshape(a.shape[:-1] + (len(self.kinds), width))
        out = blocks * half  # sigmoid blocks take tanh(x/2)
        np.tanh(out, out=out)
        out *= half
        out += 1 - half  # + 1/2 on sigmoid blocks, + 0 on tanh blocks
        return out.reshape(a.shape)

    def scale_by_derivative(self, v, node):
        beta, alpha = _block_constants(self.kinds, self._width(node.shape), node.dtype)
        return v * ((Tensor.make_const(beta) - node) * node + Tensor.make_const(alpha))


def gate_activations(a, kinds):
    """Sigmoid or tanh per block of the last axis (kinds "ssts": the LSTM gates i, f, g, o)."""
    return GateActivations(kinds)(a)


def _check_lstm(gates, c):
    if (gates.ndim < 1 or c.ndim != gates.ndim or gates.shape[:-1] != c.shape[:-1]
            or gates.shape[-1] != 4 * c.shape[-1]):
        raise ValueError(
            f"lstm_update: gates {gates.shape} and cell state {c.shape}: expected gates (..., 4H) "
            "and a cell state (..., H) with the same leading axes"
        )


class LSTMUpdate(SavingOp):
    """[h', c'] from the gate pre-activations z = [z_i, z_f, z_g, z_o] (..., 4H) and the cell state
    c (..., H): i, f, o = σ(z_i, z_f, z_o), g = tanh z_g, c' = f·c + i·g, h' = o·tanh c'. Output
    (..., 2H), h' first.

    With e = c̄' + h̄'·o·(1 − τ²), τ = tanh c': z̄ = y'·[e·g, e·c, e·i, h̄'·τ] (y' the gate
    activations' derivative) and c̄ = e·f. The node saves the activations and τ.
    """

    def compute_saving(self, gates, c):
        _check_lstm(gates, c)
        width = c.shape[-1]
        acts = GateActivations("ssts").compute(gates)
        i, f, g, o = (acts[..., k * width:(k + 1) * width] for k in range(4))
        out = np.empty(c.shape[:-1] + (2 * width,), dtype=np.result_type(gates, c))
        h_new, c_new = out[..., :width], out[..., width:]
        np.multiply(f, c, out=c_new)
        c_new += i * g
        tau = np.tanh(c_new)
        np.multiply(o, tau, out=h_new)
        return out, (acts, tau)

    def _recorded(self, node, gates):
        """(i, f, g, o, τ) as recorded nodes over the saved data: functions of z and of c'."""
        width = node.shape[-1] // 2
        acts = Tensor.make_from_op(GateActivations("ssts"), (gates,), node.saved[0])
        parts = [getitem(acts, (Ellipsis, slice(k * width, (k + 1) * width))) for k in range(4)]
        c_new = getitem(node, (Ellipsis, slice(width, 2 * width)))
        tau = Tensor.make_from_op(Tanh(), (c_new,), node.saved[1])
        return acts, parts, tau

    def gradient(self, out_grad, node):
        return self.adjoints(out_grad, node, *node.inputs)

    def adjoints(self, out_grad, node, gates, c):
        """The rule for a node made from (gates, c), given explicitly: `lstm_sequence` calls it on
        steps it rebuilds, which a sweep that records nothing leaves without inputs."""
        width = c.shape[-1]
        acts, (i, f, g, o), tau = self._recorded(node, gates)
        h_bar = getitem(out_grad, (Ellipsis, slice(0, width)))
        c_bar = getitem(out_grad, (Ellipsis, slice(width, 2 * width)))
        e = c_bar + Tanh().scale_by_derivative(h_bar * o, tau)  # all of c̄', through h' = o·tanh c' too
        grad_gates = grad_c = None
        if gates.requires_grad:
            by_gate = concatenate([e * g, e * c, e * i, h_bar * tau], -1)
            grad_gates = GateActivations("ssts").scale_by_derivative(by_gate, acts)
        if c.requires_grad:
            grad_c = e * f
        return grad_gates, grad_c

    def jvp(self, tangents, node):
        return self.tangent(tangents, node, *node.inputs)

    def tangent(self, tangents, node, gates, c):
        """The forward rule for a node made from (gates, c), given explicitly (as `adjoints`)."""
        t_gates, t_c = tangents
        width = c.shape[-1]
        acts, (i, f, g, o), tau = self._recorded(node, gates)
        t_acts = GateActivations("ssts").scale_by_derivative(t_gates, acts)
        t_i, t_f, t_g, t_o = (getitem(t_acts, (Ellipsis, slice(k * width, (k + 1) * width))) for k in range(4))
        t_c_new = t_f * c + t_i * g + i * t_g
        if type(t_c) is not ZeroTangent:
            t_c_new = t_c_new + f * t_c
        t_h_new = t_o * tau + Tanh().scale_by_derivative(o * t_c_new, tau)
        return concatenate([t_h_new, t_c_new], -1)


def lstm_update(gates, c):
    """[h', c'] (..., 2H) of one LSTM step from the gate pre-activations (..., 4H), order i, f, g, o,
    and the cell state c (..., H)."""
    return LSTMUpdate()(gates, c)


def _check_sequence(gates, weight, h0, c0):
    hidden = h0.shape[-1] if h0.ndim == 2 else -1
    if (gates.ndim != 3 or gates.shape[0] < 1 or h0.ndim != 2 or c0.shape != h0.shape
            or gates.shape[1:] != (h0.shape[0], 4 * hidden) or weight.shape != (hidden, 4 * hidden)):
        raise ValueError(
            f"lstm_sequence: input gates {gates.shape}, W_hh {weight.shape}, h0 {h0.shape}, c0 {c0.shape}: "
            "expected gates (T, N, 4H) with T >= 1, W_hh (H, 4H), h0 and c0 (N, H)"
        )


def _lstm_forward(gates, weight, h0, c0):
    """(Y, activations, τ): Y (2, T, N, H) the states h_t and c_t, the gate activations (T, N, 4H)
    and τ_t = tanh c_t, every step written into preallocated arrays."""
    steps, batch, width = gates.shape
    hidden = width // 4
    dtype = np.result_type(gates, weight, h0, c0)
    out = np.empty((2, steps, batch, hidden), dtype=dtype)
    acts = np.empty((steps, batch, 4, hidden), dtype=dtype)
    tau = np.empty((steps, batch, hidden), dtype=dtype)
    half = np.array([0.5, 0.5, 1.0, 0.5], dtype=dtype)[:, None]  # σ(x) = (1 + tanh(x/2))/2 on i, f, o
    h, c = h0, c0
    for t in range(steps):
        z = h @ weight
        z += gates[t]
        a = acts[t]
        np.multiply(z.reshape(batch, 4, hidden), half, out=a)
        np.tanh(a, out=a)
        a *= half
        a += 1 - half
        i, f, g, o = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
        h, c = out[0, t], out[1, t]
        np.multiply(f, c0 if t == 0 else out[1, t - 1], out=c)
        c += i * g
        np.tanh(c, out=tau[t])
        np.multiply(o, tau[t], out=h)
    return out, acts.reshape(gates.shape), tau


def _lstm_backward(weight, h0, c0, out, acts, tau, out_grad, need_h0=True):
    """Backpropagation through time in NumPy: (z̄ (T, N, 4H), h̄0, c̄0) from Ȳ (2, T, N, H) and the
    forward's results; lstm_update's rule per step and h̄_{t−1} = z̄_t W_hhᵀ. Without `need_h0` the
    last product is skipped and h̄0 is zeros (a carried, detached state needs none)."""
    steps, batch, width = acts.shape
    hidden = width // 4
    blocks = acts.reshape(steps, batch, 4, hidden)
    grad_gates = np.empty_like(blocks)
    beta = np.array([1, 1, 0, 1], dtype=acts.dtype)[:, None]  # y' = (β − y)·y + (1 − β)
    h_bar = np.zeros_like(h0, dtype=acts.dtype)
    c_bar = np.zeros_like(c0, dtype=acts.dtype)
    derivative = np.empty((batch, 4, hidden), dtype=acts.dtype)
    for t in range(steps - 1, -1, -1):
        a = blocks[t]
        i, f, g, o = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
        h_bar += out_grad[0, t]
        e = c_bar + out_grad[1, t]
        through_h = tau[t] * tau[t]
        np.subtract(1, through_h, out=through_h)
        through_h *= o
        through_h *= h_bar
        e += through_h  # c̄_t in full: directly and through h_t = o·tanh c_t
        dz = grad_gates[t]
        np.multiply(e, g, out=dz[:, 0])
        np.multiply(e, c0 if t == 0 else out[1, t - 1], out=dz[:, 1])
        np.multiply(e, i, out=dz[:, 2])
        np.multiply(h_bar, tau[t], out=dz[:, 3])
        np.subtract(beta, a, out=derivative)
        derivative *= a
        derivative += 1 - beta
        dz *= derivative
        c_bar = e * f
        if t or need_h0:
            h_bar = dz.reshape(batch, width) @ weight.T
        else:
            h_bar = np.zeros_like(h_bar)
    return grad_gates.reshape(acts.shape), h_bar, c_bar


def _steps(gates, weight, h0, c0):
    """The recurrence unrolled into needle ops: per step (z_t, c_{t−1}, its `lstm_update` node, h_{t−1})."""
    hidden = h0.shape[-1]
    h, c = h0, c0
    steps = []
    for t in range(gates.shape[0]):
        z = getitem(gates, t) + matmul(h, weight)
        state = lstm_update(z, c)
        steps.append((z, c, state, h))
        h, c = getitem(state, (slice(None), slice(0, hidden))), getitem(state, (slice(None), slice(hidden, None)))
    return steps


def _unrolled_adjoints(out_grad, gates, weight, h0, c0):
    """(z̄ stacked over time, h̄0, c̄0) as needle ops over the unrolled recurrence, step by step
    backwards: the expression `LSTMSequenceAdjoint` computes, which its rules differentiate."""
    steps = _steps(gates, weight, h0, c0)
    update = LSTMUpdate()
    by_step = [None] * len(steps)
    h_bar = c_bar = None
    for t in range(len(steps) - 1, -1, -1):
        z, c, state, _ = steps[t]
        h_grad, c_grad = getitem(out_grad, (0, t)), getitem(out_grad, (1, t))
        if h_bar is not None:
            h_grad, c_grad = h_grad + h_bar, c_grad + c_bar
        grad_z, grad_c = update.adjoints(concatenate([h_grad, c_grad], 1), state, z, c)
        by_step[t] = grad_z
        c_bar = grad_c
        h_bar = input_gradient(grad_z, weight)
    return stack(by_step, 0), h_bar, c_bar


def _on_stand_ins(values, derive):
    """`derive(*stand_ins)` recorded over stand-in leaves of `values`, then made again over `values`.

    The unrolled graph a rule differentiates is built over leaves, so the sweep inside the rule stops
    there instead of running on through everything that made the values. In grad mode the graph of
    the results is then made again op by op over the values themselves (so it can be differentiated
    again); otherwise the results are constants.
    """
    recording = modes.current.grad_enabled
    stand_ins = [Tensor.make_const(x.cached_data, requires_grad=True) for x in values]
    with modes.enable_grad():
        results = derive(*stand_ins)
    if not recording:
        return [Tensor.make_const(r.cached_data) for r in results]
    from .. import sweeps  # needle: sweeps are built on ops; only this rule runs one inside a rule

    made = dict(zip(stand_ins, values))
    for value in sweeps.find_topo_sort(results):
        if value not in made:
            made[value] = value if value.op is None else value.op(*[made[x] for x in value.inputs])
    return [made[r] for r in results]


class LSTMSequenceAdjoint(TensorTupleOp):
    """(z̄ (T, N, 4H), h̄0 (N, H), c̄0 (N, H)) from (Ȳ, x, W_hh, h0, c0): the adjoints `lstm_sequence`'s
    rule sends back from its output adjoint Ȳ (2, T, N, H), by backpropagation through time in
    one NumPy loop (the forward's activations are recomputed by `compute`, or taken from the
    forward node by `compute_with_saved`, as the forward's rule and a compiled replay do).

    Linear in Ȳ. Its own rules differentiate the same backward pass unrolled into `lstm_update`
    nodes (`_unrolled_adjoints`): the vector-Jacobian product by a reverse sweep over it, the jvp
    by a tangent sweep, so every order of `lstm_sequence` stays differentiable. With `need_h0`
    False, h̄0 is zeros and its last product is skipped (for an h0 that needs no adjoint).
    """

    def __init__(self, need_h0=True):
        self.need_h0 = bool(need_h0)

    def compute(self, out_grad, gates, weight, h0, c0):
        _check_sequence(gates, weight, h0, c0)
        steps, batch, width = gates.shape
        if out_grad.shape != (2, steps, batch, width // 4):
            raise ValueError(
                f"lstm_sequence_adjoint: output adjoint {out_grad.shape} for input gates {gates.shape}: "
                f"expected (2, {steps}, {batch}, {width // 4})"
            )
        out, acts, tau = _lstm_forward(gates, weight, h0, c0)
        return self.compute_with_saved(out, (acts, tau), out_grad, gates, weight, h0, c0)

    def compute_with_saved(self, states, saved, out_grad, gates, weight, h0, c0):
        """`compute`'s result from the forward pass `lstm_sequence(gates, weight, h0, c0)` already
        made: its states Y (2, T, N, H) and saved data (activations (T, N, 4H), τ (T, N, H))."""
        acts, tau = saved
        return _lstm_backward(weight, h0, c0, states, acts, tau, out_grad, self.need_h0)

    def gradient(self, out_grad, node):
        from .. import sweeps  # needle: sweeps are built on ops; see _on_stand_ins

        kept = (0, 1, 2) if self.need_h0 else (0, 2)  # a zero h̄0 sends nothing back
        cotangents = [tuple_get_item(out_grad, i) for i in kept]
        count = len(node.inputs)

        def vjp(*leaves):
            adjoints = _unrolled_adjoints(*leaves[:count])
            return sweeps.grad([adjoints[i] for i in kept], list(leaves[:count]), out_grad=list(leaves[count:]),
                               create_graph=True, allow_unused=True)

        return tuple(_on_stand_ins(list(node.inputs) + cotangents, vjp))

    def jvp(self, tangents, node):
        from .. import sweeps  # needle: sweeps are built on ops; see _on_stand_ins

        seeded = [i for i, t in enumerate(tangents) if type(t) is not ZeroTangent]
        count = len(node.inputs)

        def forward(*leaves):
            adjoints = _unrolled_adjoints(*leaves[:count])
            known = sweeps.tangent_sweep(adjoints, {leaves[i]: leaves[count + k] for k, i in enumerate(seeded)})
            return [known[a] if a in known and (i != 1 or self.need_h0) else ZeroTangent.make_const(
                np.zeros(a.shape, a.dtype)) for i, a in enumerate(adjoints)]

        return make_tuple(*_on_stand_ins(list(node.inputs) + [tangents[i] for i in seeded], forward))


def lstm_sequence_adjoint(out_grad, gates, weight, h0, c0, need_h0=True):
    """(z̄, h̄0, c̄0) as a TensorTuple: what `lstm_sequence(gates, weight, h0, c0)` sends back to its
    input gates (T, N, 4H) and initial states (N, H) from its output adjoint (2, T, N, H); with
    `need_h0` False, h̄0 is zeros."""
    return LSTMSequenceAdjoint(need_h0)(out_grad, gates, weight, h0, c0)


class LSTMSequence(SavingOp):
    """Y (2, T, N, H): Y[0, t] = h_t and Y[1, t] = c_t, [h_t, c_t] = lstm_update(x_t + h_{t−1} W_hh,
    c_{t−1}), from the input gates x (T, N, 4H) (the input's products and biases), W_hh (H, 4H),
    h0 and c0 (N, H).

    One node for a whole LSTM layer: per-step nodes would make the backward pass add a (H, 4H)
    adjoint of W_hh per step, where this rule makes one product over all steps.
    Adjoints: (z̄, h̄0, c̄0) by backpropagation through time, one `lstm_sequence_adjoint` node (a
    NumPy loop whose rules are needle ops), x̄ = z̄, W̄_hh = Σ_t h_{t−1}ᵀ z̄_t (one product).
    """

    def compute_saving(self, gates, weight, h0, c0):
        _check_sequence(gates, weight, h0, c0)
        out, acts, tau = _lstm_forward(gates, weight, h0, c0)
        return out, (acts, tau)

    def gradient(self, out_grad, node):
        gates, weight, h0, c0 = node.inputs
        # needle: the adjoint node reuses the activations this node saved instead of recomputing
        # them (its `compute` would): one NumPy loop, in any grad mode (workload 8). A compiled
        # replay does the same (`compute_with_saved` made in this rule takes this node's saved data).
        op = LSTMSequenceAdjoint(h0.requires_grad)
        inputs = (out_grad, gates, weight, h0, c0)
        arrays = op.compute_with_saved(node.cached_data, node.saved, *[x.cached_data for x in inputs])
        adjoints = TensorTuple.make_from_op(op, inputs, arrays)
        grad_gates = tuple_get_item(adjoints, 0)
        grad_weight = None
        if weight.requires_grad:
            earlier = getitem(node, (0, slice(0, gates.shape[0] - 1)))
            previous_h = concatenate([reshape(h0, (1,) + h0.shape), earlier], 0)
            grad_weight = weight_gradient(previous_h, grad_gates)
        return (grad_gates if gates.requires_grad else None, grad_weight,
                tuple_get_item(adjoints, 1) if h0.requires_grad else None,
                tuple_get_item(adjoints, 2) if c0.requires_grad else None)

    def jvp(self, tangents, node):
        t_gates, t_weight, t_h, t_c = tangents
        weight = node.inputs[1]
        hidden = node.shape[-1]
        update = LSTMUpdate()
        by_step_h, by_step_c = [], []
        for t, (z, c, state, h) in enumerate(_steps(*node.inputs)):
            t_z = getitem(t_gates, t)
            if type(t_h) is not ZeroTangent:
                t_z = t_z + matmul(t_h, weight)
            if type(t_weight) is not ZeroTangent:
                t_z = t_z + matmul(h, t_weight)
            t_state = update.tangent((t_z, t_c), state, z, c)
            t_h = getitem(t_state, (slice(None), slice(0, hidden)))
            t_c = getitem(t_state, (slice(None), slice(hidden, None)))
            by_step_h.append(t_h)
            by_step_c.append(t_c)
        return stack([stack(by_step_h, 0), stack(by_step_c, 0)], 0)


def lstm_sequence(gates, weight, h0, c0):
    """The states (2, T, N, H) of an LSTM layer over time, [0] the h_t and [1] the c_t, from its input
    gates (T, N, 4H) (x_t W_ih + biases), W_hh (H, 4H) and the initial states h0, c0 (N, H)."""
    return LSTMSequence()(gates, weight, h0, c0)
