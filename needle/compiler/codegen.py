"""Python source for a Program: one NumPy call (or one op's `compute`) per line, shapes in comments.

The source defines `replay(x0, x1, ...)` over the input arrays and returns a tuple of arrays: the
outputs, then the gradients. It runs on arrays alone, making no Tensor. Ops, constants, state
tensors and random draws are names in the namespace the source is executed in. A SavingOp step
whose saved data a later step takes is one `v18, saved18 = op.compute_saving(...)` line, and that
later step `op.compute_with_saved(v18, saved18, ...)` (or `recipe(..., saved=saved18)`).
"""
import re

import numpy as np

__all__ = ["generate"]

_WORD = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


# Op classes whose snake_case reads worse than their function's name.
_NAMES = {"ReLU": "relu", "MatMul": "matmul", "GELU": "gelu", "SiLU": "silu", "LogSumExp": "logsumexp"}


def op_name(op):
    """snake_case of the op's class: EWiseAdd -> ewise_add, MatMul -> matmul, ReLU -> relu."""
    name = type(op).__name__
    if name in _NAMES:
        return _NAMES[name]
    return _WORD.sub("_", name.replace("EWise", "Ewise")).lower()


def _described(data):
    if isinstance(data, tuple):
        return "tuple(" + ", ".join(_described(d) for d in data) + ")"
    shape = getattr(data, "shape", None)
    dtype = getattr(data, "dtype", None)
    return f"{tuple(shape)} {dtype}" if shape is not None else type(data).__name__


def _literal(x):
    if type(x) is float and np.isfinite(x):
        return repr(x)
    if type(x) is int:
        return repr(x)
    return None


class _Names:
    def __init__(self, program):
        self.program = program
        self.namespace = {"np": np}
        self.names = {}
        self.counts = {}

    def global_name(self, base, value):
        k = self.counts[base] = self.counts.get(base, -1) + 1
        name = f"{base}_{k}"
        self.namespace[name] = value
        return name

    def of(self, slot):
        """The expression for slot's array, emitting a global for constants and state."""
        name = self.names.get(slot)
        if name is not None:
            return name
        record = self.program.records[slot]
        if record.kind == "const":
            name = self.global_name("const", record.data)
        else:
            raise AssertionError(f"compile: slot {slot} ({record.kind}) used before it is made")
        self.names[slot] = name
        return name


def generate(program):
    """(source, namespace) for `program`: `exec(source, namespace)` defines `replay`."""
    names = _Names(program)
    records = program.records
    params = []
    for position, slot in program.input_slots:
        names.names[slot] = f"x{position}"
        params.append(f"x{position}")
    lines = [f"def replay({', '.join(params)}):"]
    for slot, record in enumerate(records):
        if record.kind == "state":
            holder = names.global_name("state", record.source)
            names.names[slot] = f"s{slot}"
            lines.append(f"    s{slot} = {holder}.cached_data  # state {_described(record.data)}")
    for step in program.steps:
        lines.append("    " + _line(step, names, records))
    for function, slots in program.effects:
        effect = names.global_name("effect", function)
        lines.append(f"    {effect}({', '.join(names.of(s) for s in slots)})  # in-place update of state")
    for target, slot in program.writes:
        holder = names.global_name("state", target)
        lines.append(f"    {holder}.cached_data = {names.of(slot)}  # state written by the call")
        lines.append(f"    {holder}.bump_version()")
    results = [names.of(s) for s in program.output_slots]
    lines.append(f"    return ({', '.join(results)}{',' if len(results) == 1 else ''})")
    return "\n".join(lines) + "\n", names.namespace


def _line(step, names, records):
    record = step.record
    target = f"v{step.slot}"
    if record.kind == "random":
        draw = names.global_name("random", record.source)
        names.names[step.slot] = target
        return f"{target} = {draw}()  # random draw {_described(record.data)}"
    args = [names.of(a) for a in record.args]
    if record.kind == "derived" and record.source.fast is not None:
        function, positions, extra = record.source.fast
        call = ", ".join([args[p] for p in positions] + [repr(x) for x in extra])
        names.names[step.slot] = target
        return f"{target} = {function}({call})  # the constant {record.source!r} makes: {_described(record.data)}"
    if record.kind == "derived":
        recipe = names.global_name("recipe", record.source)
        if record.saved_from is not None:
            args.append(f"saved={_saved_name(record.saved_from)}")
        names.names[step.slot] = target
        return f"{target} = {recipe}({', '.join(args)})  # the constant {record.source!r} makes: {_described(record.data)}"
    shapes = ", ".join(_described(records[a].data) for a in record.args)
    comment = f"  # {op_name(record.op)}: {shapes} -> {_described(record.data)}"
    if step.template is not None:
        extra = step.template.arguments(record.op, args)
        rendered = []
        for x in extra:
            if isinstance(x, str):
                rendered.append(x)
            else:
                literal = _literal(x)
                rendered.append(literal if literal is not None else names.global_name("scalar", x))
        if step.out is not None:
            rendered.append(f"out={names.of(step.out)}")
        call = f"{step.template.function}({', '.join(rendered)})"
    else:
        call = _compute_call(step, names, args)
    names.names[step.slot] = target
    if step.slot in names.program.saving:
        return f"{target}, {_saved_name(step.slot)} = {call}{comment}, saves {_described(record.saved)}"
    if record.saved_from is not None:
        comment += f", from the data {names.of(record.saved_from)} saved"
    return f"{target} = {call}{comment}"


def _compute_call(step, names, args):
    """The op's own call: `compute`, `compute_saving` for a step whose saved data a later step takes,
    `compute_with_saved` for that later step (the saving step's result and saved data first)."""
    record = step.record
    op = names.global_name(op_name(record.op), record.op)
    if step.slot in names.program.saving:
        return f"{op}.compute_saving({', '.join(args)})"
    if record.saved_from is not None:
        forward = [names.of(record.saved_from), _saved_name(record.saved_from)]
        return f"{op}.compute_with_saved({', '.join(forward + args)})"
    return f"{op}.compute({', '.join(args)})"


def _saved_name(slot):
    """The variable holding the saved data of the SavingOp step at `slot` (`v<slot>` its result)."""
    return f"saved{slot}"
