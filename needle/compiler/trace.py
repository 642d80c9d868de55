"""Recording a traced call: every op the engine runs becomes a record of the program.

While `modes.tracing(tracer)` is on, the engine hands each op result to `Tracer.record` (and each
new leaf to `on_leaf`, each in-place write to `on_write`). A record is one slot of the program:

- `input`: the compiled function's k-th Tensor argument;
- `state`: a tensor that existed before the call (a parameter, a buffer): read afresh on each replay;
- `const`: data made during the call that depends on no input or state (folded at trace time);
- `random`: a draw of the random factories (`init.rand`, ...), drawn again on each replay;
- `op`: an op applied to earlier slots, when one of them is live (depends on an input, a state
  or a draw). An op over constants only is not recorded: its result is a constant (folding).

An op with a `compute_with_saved(forward, saved, *args)` method made inside a rule of a SavingOp
node (an adjoint built from the node's saved data, as `LSTMSequence.gradient` builds its
`LSTMSequenceAdjoint`) records that node's slot as `saved_from`: its replay takes the node's result
and saved data, which the node's own replay line keeps, instead of computing them again.

The forward pass, the reverse sweep (`sweeps.grad`) and any transform (`ndl.func.grad`) run as
in eager mode, so the records come from the same compute/gradient/jvp as eager results.
"""
import sys

import numpy as np

from ..autograd import SavedTensor, SavingOp, TensorTuple, Value
from .recipes import find_op_recipe, find_recipe, has_array_params

__all__ = ["Record", "Tracer", "TraceError"]

_MAX_DEPTH = 8  # frames searched above an op for the rule that made it


class TraceError(RuntimeError):
    """A traced function did something a replay could not repeat (read a value into Python, ...)."""


class Record:
    """One slot of a traced program: `kind`, the op and its argument slots, and its trace-time data."""

    __slots__ = ("kind", "op", "args", "data", "source", "live", "saved_from", "saved")

    def __init__(self, kind, data, *, op=None, args=(), source=None, live=True):
        self.kind = kind
        self.op = op
        self.args = args
        self.data = data
        self.source = source  # input position, state Value, random draw function
        self.live = live
        self.saved_from = None  # slot of the SavingOp node whose result and saved data the replay takes
        self.saved = None  # a SavingOp node's saved data at trace time, once a later record takes it

    def reads(self):
        """The slots this record's replay reads: its arguments, then the node it takes saved data from."""
        return self.args if self.saved_from is None else self.args + (self.saved_from,)


class Tracer:
    """The records of one traced call, in execution order, and what they were made from."""

    def __init__(self, start_order):
        self.start_order = start_order  # values made at or before this clock reading are state
        self.records = []
        self.slot_of = {}  # Value -> slot (Values are hashed by identity and kept alive here)
        self.array_slot = {}  # id(array) -> slot of a live value holding it: detach/alias lookup
        self.writes = []  # (state Value, slot): `state.data = traced value`, repeated on replay
        self.effects = []  # (function, arg slots): in-place updates a replay repeats (BatchNorm)
        self.folded = 0  # ops over constants only, computed once at trace time
        self.applying_effect = False
        self.rng_states = {}  # random slot -> np.random state before its draw
        self.snapshots = {}  # state slot -> a copy of its data at trace time (recipes are checked on it)

    # ---- slots ------------------------------------------------------------------------------

    def _add(self, value, record):
        slot = len(self.records)
        self.records.append(record)
        self.slot_of[value] = slot
        if record.live and isinstance(record.data, np.ndarray):
            self.array_slot[id(record.data)] = slot
        return slot

    def add_input(self, value, position):
        return self._add(value, Record("input", value.cached_data, source=position))

    def slot(self, value):
        """The slot of `value`, classifying a value seen for the first time as state or constant."""
        slot = self.slot_of.get(value)
        if slot is not None:
            return slot
        if value._order <= self.start_order:
            slot = self._add(value, Record("state", value.cached_data, source=value))
            if isinstance(value.cached_data, np.ndarray):  # an optimizer may later write it in place
                self.snapshots[slot] = value.cached_data.copy()
            return slot
        return self._add(value, Record("const", value.cached_data, live=False))

    def data_of(self, slot):
        """The slot's data as the trace saw it (state as it was, even if written in place since)."""
        snapshot = self.snapshots.get(slot)
        return self.records[slot].data if snapshot is None else snapshot

    def is_live(self, value):
        slot = self.slot_of.get(value)
        return slot is not None and self.records[slot].live

    # ---- hooks called by the engine --------------------------------------------------------------

    def record(self, value, op, inputs):
        """An op result: a live record when any input is live, else a folded constant."""
        slots = tuple(self.slot(x) for x in inputs)
        if not any(self.records[s].live for s in slots):
            self.folded += 1
            return
        data = value.cached_data
        slot = self._add(value, Record("op", data, op=op, args=slots))
        if has_array_params(op):  # its parameters may come from input values: remember its maker
            self.records[slot].source = find_op_recipe(self, sys._getframe(1))
        if hasattr(op, "compute_with_saved"):
            node = _saving_rule_node(sys._getframe(1))
            forward = self.slot_of.get(node) if node is not None else None
            if forward is not None and self.records[forward].kind == "op":
                self.records[slot].saved_from = forward
                self.records[forward].saved = node.saved

    def on_leaf(self, value):
        """A new leaf (`make_const`) over a live value's array is a detached copy: the same slot."""
        slot = self.array_slot.get(id(value.cached_data))
        if slot is not None and self.records[slot].data is value.cached_data:
            self.slot_of[value] = slot
            return
        recipe = find_recipe(self, sys._getframe(2))  # made inside an op's rule: how to make it again
        if recipe is not None:
            # live: it depends on traced data, so ops over it are recorded, not folded
            self._add(value, Record("const", value.cached_data, live=True, source=recipe))

    def add_random(self, value, draw, state=None):
        """A random factory's leaf: `draw()` makes its data again on each replay; `state`: NumPy's
        RNG state before the draw."""
        slot = self._add(value, Record("random", value.cached_data, source=draw))
        self.rng_states[slot] = state

    def on_write(self, value):
        """An in-place write during the call: a state set to a live value is replayed; others refuse."""
        if self.applying_effect:
            return
        slot = self.array_slot.get(id(value.cached_data))
        if slot is not None and self.records[slot].data is value.cached_data:
            self.writes.append((value, slot))
            self.slot_of[value] = slot
            return
        slot = self.slot_of.get(value)
        if slot is not None and self.records[slot].kind == "const":
            return  # a constant made during the call, written before use: nothing to repeat
        raise TraceError(
            f"compile: a tensor of shape {getattr(value.cached_data, 'shape', '?')} was written in place "
            "during the traced call from data the trace cannot follow; a replay would not repeat it. "
            "Write `t.data = <traced tensor>` or keep the update outside the compiled function"
        )

    def add_effect(self, function, values):
        """`function(*arrays of values)`: an in-place update run now and on every replay."""
        slots = tuple(self.slot(v) for v in values)
        self.effects.append((function, slots))
        self.applying_effect = True
        try:
            function(*[self.records[s].data for s in slots])
        finally:
            self.applying_effect = False

    def refuse_read(self, value, what):
        if self.is_live(value):
            raise TraceError(
                f"compile: {what} on a traced value (shape {getattr(value.cached_data, 'shape', '?')}) "
                "would fix its trace-time data in the compiled program; Python control flow and "
                "conversions are fixed at trace time. Keep the computation in needle ops, or pass "
                "the value as a non-Tensor argument"
            )


def _saving_rule_node(frame):
    """The node whose rule is running above `frame` (the innermost method of an op with a `node`
    argument made by that op), when it is a SavingOp's node, else None."""
    for _ in range(_MAX_DEPTH):
        if frame is None:
            return None
        owner, node = frame.f_locals.get("self"), frame.f_locals.get("node")
        if isinstance(node, Value) and node.op is owner and owner is not None:
            return node if isinstance(owner, SavingOp) and isinstance(node, SavedTensor) else None
        frame = frame.f_back
    return None


def slot_of_output(tracer, value, name):
    """The slot of an output Value (a constant output gets a const slot)."""
    if not isinstance(value, Value) or isinstance(value, TensorTuple):
        raise TypeError(f"{name}: the compiled function must return a Tensor or a tuple of Tensors, "
                        f"got {type(value).__name__}")
    return tracer.slot(value)
