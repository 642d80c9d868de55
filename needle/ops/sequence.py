"""Fused ops of the recurrent layers: the gate nonlinearities of a block of gates in one node, and
the LSTM state update (h', c') from the gates and c in one node.

Both rules are written with needle ops over recorded nodes whose data the forward pass saved, so
the adjoints are differentiable again. Derivations: hw_notes/ops_sequence.md.
"""
import numpy as np

from ..autograd import SavingOp, Tensor, ZeroTangent
from .elementwise import ElementwiseFunction, Tanh
from .indexing import getitem
from .shape import concatenate

__all__ = ["GateActivations", "gate_activations", "LSTMUpdate", "lstm_update"]

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

    def _recorded(self, node):
        """(i, f, g, o, τ) as recorded nodes over the saved data: functions of z and of c'."""
        gates, c = node.inputs
        width = c.shape[-1]
        acts = Tensor.make_from_op(GateActivations("ssts"), (gates,), node.saved[0])
        parts = [getitem(acts, (Ellipsis, slice(k * width, (k + 1) * width))) for k in range(4)]
        c_new = getitem(node, (Ellipsis, slice(width, 2 * width)))
        tau = Tensor.make_from_op(Tanh(), (c_new,), node.saved[1])
        return acts, parts, tau

    def gradient(self, out_grad, node):
        gates, c = node.inputs
        width = c.shape[-1]
        acts, (i, f, g, o), tau = self._recorded(node)
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
        t_gates, t_c = tangents
        _, c = node.inputs
        width = c.shape[-1]
        acts, (i, f, g, o), tau = self._recorded(node)
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
