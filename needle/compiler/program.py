"""A traced call as a program: the records that reach its results, their liveness, and its buffers.

Passes, each counted in `Program.stats` (the tests read the counts):
- dead code: a record that no output, state write, effect or random draw reaches is dropped
  (`dead`); ops over constants were already folded while tracing (`folded`).
- liveness: the last step that reads each slot, extended through the ops whose result may be a
  view of it (any op without a template: reshape, transpose, getitem, ...).
- buffers: a templated ufunc or matmul writes through `out=` into an array the program made and
  no later step reads: the dying input itself for an elementwise op (`inplace`, an adjoint
  accumulated in place being the common case), else a freed array of the same shape and dtype
  (`reused`). Inputs, state, constants and draws are never written.
- saved data: a step that takes a SavingOp node's result and saved data (`Record.saved_from`)
  reads that node's slot; the node's step then keeps its saved data (`saving`), computed by the
  same `compute_saving` call as its result (`from_saved` counts the steps that take it).
"""
import numpy as np

from .templates import template_of

__all__ = ["Program", "Step"]

NEVER = float("inf")


class Step:
    """One line of the program: record `slot`, its template (or None) and the buffer it writes into."""

    __slots__ = ("slot", "record", "template", "out")

    def __init__(self, slot, record, template):
        self.slot = slot
        self.record = record
        self.template = template
        self.out = None  # slot whose array this step overwrites, when it reuses one


class Program:
    """The kept records of a trace in execution order, with liveness and the buffer plan."""

    def __init__(self, tracer, output_slots):
        self.records = tracer.records
        self.output_slots = list(output_slots)
        self.writes = list(tracer.writes)
        self.effects = list(tracer.effects)
        self.input_slots = sorted(
            (r.source, s) for s, r in enumerate(self.records) if r.kind == "input"
        )
        kept = self._reachable()
        ops = [s for s, r in enumerate(self.records) if r.kind == "op"]
        self.stats = {
            "traced_ops": len(ops),
            "dead": sum(1 for s in ops if s not in kept),
            "folded": tracer.folded,
            "templated": 0, "inplace": 0, "reused": 0,
        }
        takers = [r for s, r in enumerate(self.records) if s in kept and r.saved_from is not None]
        self.saving = {r.saved_from for r in takers}  # SavingOp steps whose saved data a later step takes
        self.stats["from_saved"] = len(takers)
        self.steps = [
            Step(s, r, None if s in self.saving else template_of(r)) for s, r in enumerate(self.records)
            if s in kept and r.kind in ("op", "random", "derived")
        ]
        self.stats["templated"] = sum(1 for step in self.steps if step.template is not None)
        self.stats["recipes"] = sum(
            1 for step in self.steps if step.record.kind == "derived" and step.record.source.fast is None
        )
        self.stats["fast_recipes"] = sum(
            1 for step in self.steps if step.record.kind == "derived" and step.record.source.fast is not None
        )
        self._plan_buffers()

    def _roots(self):
        roots = set(self.output_slots)
        roots.update(slot for _, slot in self.writes)
        for _, slots in self.effects:
            roots.update(slots)
        roots.update(s for s, r in enumerate(self.records) if r.kind == "random")
        return roots

    def _reachable(self):
        """Slots an output, a write, an effect or a draw depends on (draws are kept so that the
        random stream advances as in eager mode)."""
        kept = set()
        stack = list(self._roots())
        while stack:
            slot = stack.pop()
            if slot in kept:
                continue
            kept.add(slot)
            stack.extend(self.records[slot].reads())
        return kept

    # ---- liveness and buffers ---------------------------------------------------------------------

    def _plan_buffers(self):
        position = {step.slot: i for i, step in enumerate(self.steps)}
        last_use = {}
        for i, step in enumerate(self.steps):
            for a in step.record.reads():
                last_use[a] = i
        for slot in self._roots():
            if self.records[slot].kind != "random" or slot in self.output_slots:
                last_use[slot] = NEVER
        # A slot's array stays in use while any result that may view it is in use.
        end = {}
        for i in range(len(self.steps) - 1, -1, -1):
            step = self.steps[i]
            slot_end = max(last_use.get(step.slot, i), end.get(step.slot, i))
            end[step.slot] = slot_end
            if step.template is None:  # its result may be a view of its inputs (or of saved data)
                for a in step.record.reads():
                    if a in position:
                        end[a] = max(end.get(a, position[a]), slot_end)
        self.end = end
        owned = set()  # slots whose array the program itself allocated (a template's result)
        free = {}  # (shape, dtype) -> [slots whose arrays are dead]
        releases = {}  # step index -> slots whose arrays die after it
        for i, step in enumerate(self.steps):
            template, data = step.template, step.record.data
            if template is not None and type(data) is np.ndarray:
                step.out = self._buffer_for(i, step, owned, free)
                owned.add(step.slot)
            for a in set(step.record.args):
                if a in owned and end.get(a) == i and a != step.out:
                    releases.setdefault(i, []).append(a)
            if step.slot in owned and end.get(step.slot, i) <= i:
                releases.setdefault(i, []).append(step.slot)
            for slot in releases.pop(i, ()):
                data = self.records[slot].data
                free.setdefault((data.shape, data.dtype), []).append(slot)

    def _buffer_for(self, i, step, owned, free):
        data = step.record.data
        key = (data.shape, data.dtype)
        if step.template.elementwise:
            for a in step.record.args:
                arg = self.records[a].data
                if (a in owned and self.end.get(a) == i and type(arg) is np.ndarray
                        and arg.shape == data.shape and arg.dtype == data.dtype):
                    owned.discard(a)
                    self.stats["inplace"] += 1
                    return a
        pool = free.get(key)
        if pool and step.template.accepts_out(self.records, step.record):
            self.stats["reused"] += 1
            return pool.pop()
        return None
