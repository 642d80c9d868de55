"""`ndl.compile(fn, wrt=None)`: trace a function of Tensors once, then replay it as generated NumPy code.

    step = ndl.compile(lambda X, y: loss_fn(model(X), y), wrt=model.parameters())
    loss, grads = step(X, y)   # traced on the first calls of each signature, replayed after
    print(step.source)         # the generated Python, one NumPy call a line

A call's signature is its Tensor arguments' shapes and dtypes, its other arguments (constants of
the trace) and the grad mode; each new signature is traced (`retraces` counts them). The first
call of a signature runs eagerly and records every op (`trace.Tracer`); the second runs eagerly
again and its records are compared with the first: a constant or an op parameter that differs
means some code turned traced values into constants (a rule reading `cached_data`, a random mask
made outside the random factories), and that signature then keeps running eagerly, with one
warning naming the op. From the third call on, the generated program runs (`program`, `codegen`).
Parameters and buffers the function reads are read afresh on each call, never frozen.
"""
import warnings

import numpy as np

from .. import autograd, modes, sweeps
from ..autograd import Tensor, TensorTuple, Value
from .codegen import generate
from .program import Program
from .recipes import Recipe
from .recipes import op_params as _params
from .recipes import same as _same
from .trace import TraceError, Tracer, slot_of_output

__all__ = ["compile", "Compiled", "TraceError"]


def compile(fn, wrt=None):  # noqa: A001  (the issue's name, as torch.compile)
    """A callable running `fn` as a traced, generated NumPy program; with `wrt` (tensors `fn` reads),
    it returns `(outputs, gradients)`, the gradients of the first output with respect to `wrt`."""
    if not callable(fn):
        raise TypeError(f"compile: expected a function, got {type(fn).__name__}")
    return Compiled(fn, wrt)


class _Entry:
    """One signature's trace: its program, replay function and whether it was verified."""

    def __init__(self, tracer, output_slots, structure):
        self.tracer = tracer
        self.output_slots = output_slots
        self.structure = structure
        self.verified = False
        self.eager_reason = None
        self.replays = 0
        self.build()

    def build(self):
        self.program = Program(self.tracer, self.output_slots)
        self.source, namespace = generate(self.program)
        exec(compile_source(self.source), namespace)  # noqa: S102  (our own generated code)
        self.replay = namespace["replay"]

    def release(self):
        """Drop the trace's Values and intermediate arrays once the program is final (constants stay:
        the program reads them)."""
        self.tracer.slot_of.clear()
        self.tracer.array_slot.clear()
        self.tracer.rng_states.clear()
        self.tracer.snapshots.clear()
        for record in self.tracer.records:
            record.saved = None
            if record.kind != "const":
                record.data = None

    def derive(self, slots):
        """Make the constants at `slots` by their recipes on each replay, and regenerate."""
        for slot in slots:
            record = self.tracer.records[slot]
            record.kind, record.args, record.live = "derived", tuple(record.source.slots), True
            record.saved_from = record.source.saving_slot()
            for drawn in record.source.absorbed:  # drawn by the recipe itself on replay
                self.tracer.records[drawn].kind = "absorbed"
        made_by_recipes = set(slots)
        for record in self.tracer.records:  # a node a recipe makes keeps no saved data: compute again
            if record.saved_from in made_by_recipes:
                record.saved_from = None
        self.build()


def compile_source(source):
    import builtins
    return builtins.compile(source, "<needle.compile>", "exec")


class Compiled:
    """A compiled function: call it like `fn`. `source`, `stats` and `retraces` describe its traces."""

    def __init__(self, fn, wrt):
        self.fn = fn
        if wrt is not None:
            wrt = [wrt] if isinstance(wrt, Value) else list(wrt)
            for i, w in enumerate(wrt):
                if not isinstance(w, Tensor):
                    raise TypeError(f"compile: wrt[{i}] is a {type(w).__name__}, not a Tensor")
        self.wrt = wrt
        self.retraces = 0
        self._entries = {}
        self._latest = None

    @property
    def source(self):
        """The generated Python of the latest traced signature."""
        if self._latest is None:
            raise RuntimeError("compile: not traced yet; call the compiled function first")
        return self._latest.source

    @property
    def replays(self):
        """How many calls ran generated code (not counting the two traced calls of each signature)."""
        return sum(entry.replays for entry in self._entries.values())

    @property
    def eager_reasons(self):
        """Why signatures run eagerly: [reason], empty when every verified one replays compiled."""
        return [entry.eager_reason for entry in self._entries.values() if entry.eager_reason is not None]

    @property
    def stats(self):
        """Counts of the latest program's passes (dead, folded, templated, inplace, reused)."""
        if self._latest is None:
            raise RuntimeError("compile: not traced yet; call the compiled function first")
        return dict(self._latest.program.stats)

    def __call__(self, *args):
        key, arrays = _signature(args)
        entry = self._entries.get(key)
        if entry is None:
            entry, result = self._trace(args)
            self._entries[key] = entry
            self._latest = entry
            self.retraces += 1
            return result
        if entry.eager_reason is not None:
            return self._eager(args)
        if not entry.verified:
            again, result = self._trace(args)
            difference, derived = _difference(entry, again)
            if difference is None:
                entry.verified = True
                if derived:
                    entry.derive(derived)
            else:
                entry.eager_reason = difference
                warnings.warn(f"compile: {_name(self.fn)} runs eagerly: {difference}", RuntimeWarning, stacklevel=2)
            entry.release()
            return result
        entry.replays += 1
        return self._wrap(entry, entry.replay(*arrays))

    # ---- tracing ------------------------------------------------------------------------------

    def _trace(self, args):
        tracer = Tracer(autograd._clock)
        call_args = []
        position = 0
        for a in args:
            if isinstance(a, Tensor):
                leaf = Tensor.make_const(a.cached_data, requires_grad=a.requires_grad)
                tracer.add_input(leaf, position)
                position += 1
                call_args.append(leaf)
            else:
                call_args.append(a)
        with modes.tracing(tracer):
            out = self.fn(*call_args)
            outputs, single = _outputs(self.fn, out)
            grads = self._gradients(outputs)
            output_slots = [slot_of_output(tracer, v, "compile") for v in outputs + grads]
        entry = _Entry(tracer, output_slots, (single, len(outputs)))
        data = [tracer.records[s].data for s in output_slots]
        return entry, self._wrap(entry, data)

    def _gradients(self, outputs):
        if self.wrt is None:
            return []
        return list(sweeps.grad(outputs[0], self.wrt, allow_unused=True))

    def _eager(self, args):
        out = self.fn(*args)
        outputs, single = _outputs(self.fn, out)
        data = [v.cached_data for v in outputs + self._gradients(outputs)]
        return self._pack(single, len(outputs), data)

    def _wrap(self, entry, data):
        single, count = entry.structure
        return self._pack(single, count, data)

    def _pack(self, single, count, data):
        tensors = [Tensor.make_const(d) for d in data]
        outputs = tensors[0] if single else tuple(tensors[:count])
        if self.wrt is None:
            return outputs
        return outputs, tensors[count:]


def _name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def _outputs(fn, out):
    if isinstance(out, TensorTuple):
        out = out.tuple()
    if isinstance(out, Tensor):
        return [out], True
    if isinstance(out, (tuple, list)) and out and all(isinstance(o, Tensor) for o in out):
        return list(out), False
    raise TypeError(f"compile: {_name(fn)} must return a Tensor or a tuple of Tensors, got {type(out).__name__}")


def _signature(args):
    """(hashable key, input arrays): Tensors by shape, dtype and requires_grad; other arguments by value."""
    key = [modes.current.grad_enabled]
    arrays = []
    for a in args:
        if isinstance(a, Tensor):
            data = a.cached_data
            key.append(("tensor", data.shape, data.dtype.str, a.requires_grad))
            arrays.append(data)
        elif isinstance(a, np.ndarray):
            raise TypeError("compile: pass arrays as Tensors (ndl.Tensor(array)); other arguments are constants")
        else:
            try:
                hash(a)
            except TypeError:
                raise TypeError(
                    f"compile: argument of type {type(a).__name__} is not hashable; arguments that are not "
                    "Tensors are constants of the trace and must be hashable"
                ) from None
            key.append(("const", type(a).__name__, a))
    return tuple(key), arrays


# ---- comparing two traces of one signature ------------------------------------------------------


def _difference(entry, again):
    """(None, slots of constants to derive) when the second trace recorded the same program as the
    first up to constants their rules' recipes make again, else (what differs, None)."""
    first, second = entry.tracer, again.tracer
    derived = []
    reason = _first_difference(first, second, derived)
    if reason is None and entry.output_slots != again.output_slots:
        reason = "the outputs differ"
    return reason, derived


def _first_difference(first, second, derived):
    if len(first.records) != len(second.records):
        return f"the second call recorded {len(second.records)} steps, the first {len(first.records)}"
    users = {}
    for slot, record in enumerate(first.records):
        for a in record.args:
            users.setdefault(a, record)
    for slot, (a, b) in enumerate(zip(first.records, second.records)):
        if a.kind != b.kind or a.args != b.args or a.saved_from != b.saved_from:
            return f"step {slot} differs ({a.kind} and {b.kind})"
        if a.kind == "op" and (type(a.op) is not type(b.op) or not _same(_params(a.op), _params(b.op))):
            if _op_recipe_fits(a, b, first, second):
                derived.append(slot)  # an op whose parameters come from values: its maker runs again
                continue
            return f"the parameters of {type(a.op).__name__} (step {slot}) depend on the input values"
        if (a.kind == "const" and isinstance(a.source, Recipe) and _recipe_fits(a, b, first, second)
                and (not _same(a.data, b.data) or a.source.depends_on_values(_arrays(first, a.source), a.data))):
            derived.append(slot)  # made by its rule on each replay (also when equal in both traces by chance)
            continue
        if a.kind == "const" and not _same(a.data, b.data):
            user = users.get(slot)
            where = f"used by {type(user.op).__name__}" if user is not None else "an output"
            return (
                f"a constant ({_shape(a.data)}, {where}) was computed from input values outside the "
                "recorded ops, so a replay would reuse stale data"
            )
        if a.kind == "state" and a.source is not b.source:
            return f"step {slot} reads a different tensor"
    if [s for _, s in first.writes] != [s for _, s in second.writes] or len(first.effects) != len(second.effects):
        return "the in-place updates differ"
    return None


def _recipe_fits(a, b, first, second):
    """Whether the first trace's recipe for a constant gives that trace's and the second's."""
    recipe = a.source
    if not isinstance(recipe, Recipe) or not isinstance(b.source, Recipe):
        return False
    slot = first.records.index(a)
    draws = _unused_draws_before(first, slot)
    first_state = first.rng_states.get(draws[0]) if draws else None
    second_state = second.rng_states.get(draws[0]) if draws else None
    if not recipe.fit([first.data_of(s) for s in recipe.slots], a.data, first_state):
        return False
    if recipe.draws:  # the recipe draws itself: it stands for the trace's last unused draws
        if len(draws) < recipe.draws:
            return False
        draws = draws[-recipe.draws:]
        first_state, second_state = first.rng_states.get(draws[0]), second.rng_states.get(draws[0])
        if first_state is None or not recipe.fit([first.data_of(s) for s in recipe.slots], a.data, first_state):
            return False
        recipe.absorbed = draws
    if not recipe.gives([second.data_of(s) for s in recipe.slots], b.data, second_state):
        return False
    recipe.check_fast((_arrays(first, recipe), a.data), (_arrays(second, recipe), b.data))
    return True


def _op_recipe_fits(a, b, first, second):
    """Whether the function or rule that made op record `a` makes each trace's op (parameters
    included) from that trace's arrays; the second trace's recipe holds that trace's own objects."""
    if type(a.op) is not type(b.op) or not isinstance(a.source, Recipe) or not isinstance(b.source, Recipe):
        return False
    if not a.source.fit_op(_arrays(first, a.source), a.op):
        return False
    b.source.target, b.source.index = "op", a.source.index
    return b.source.gives_op(_arrays(second, b.source), b.op)


def _arrays(tracer, recipe):
    return [tracer.data_of(s) for s in recipe.slots]


def _unused_draws_before(tracer, slot):
    """The random slots just before `slot` that no record reads (their data was used in NumPy)."""
    used = {a for r in tracer.records for a in r.args}
    draws = []
    for s in range(slot - 1, -1, -1):
        record = tracer.records[s]
        if record.kind == "random":
            if s in used:
                break
            draws.insert(0, s)
        elif record.kind == "op":
            break
    return draws


def _shape(data):
    return f"shape {getattr(data, 'shape', ())}"


