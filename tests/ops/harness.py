"""The rows of every op case table, their inputs and their functions, for the tests that run over them.

`table_rows()` gathers the `CASES` of the test_*.py modules beside this file under ids
`family-label-k` (the k-th row of that label in the family's table). `on_fixed_and_drawn_inputs`
runs a check on a row's fixed draw, then on a few hypothesis-drawn ones.
"""
import importlib
from pathlib import Path

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

import needle as ndl
from tests.strategies import generator_seeds

# Rows x checks make over a thousand tests: each draws a fifth of the profile's examples (4 by default).
DRAWS_PER_ROW = max(1, settings.default.max_examples // 5)


def table_rows():
    """{row id: case} for every row of every case table, tables in file order, rows in table order."""
    rows = {}
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        family = path.stem[len("test_"):]
        counts = {}
        for case in getattr(importlib.import_module(f"{__package__}.{path.stem}"), "CASES", ()):
            k = counts[case.label] = counts.get(case.label, -1) + 1
            rows[f"{family}-{case.label}-{k}"] = case
    return rows


def case_inputs(case, seed=0, shapes=None):
    """The row's input arrays from `default_rng(seed)`: `case.make_inputs(rng)`, or float32 uniform
    in [low, high) for each of `shapes` (default the row's own)."""
    rng = np.random.default_rng(seed)
    if case.make_inputs is not None:
        return [np.asarray(a) for a in case.make_inputs(rng)]
    shapes = case.shapes if shapes is None else shapes
    return [rng.uniform(case.low, case.high, size=shape).astype(np.float32) for shape in shapes]


def on_fixed_and_drawn_inputs(case, check):
    """`check(arrays, seed)` on the fixed draw (seed 0, the row's shapes), then on hypothesis-drawn
    seeds, and shapes where the row draws them; a failure names the seed and shapes."""
    shapes = st.just(case.shapes) if case.drawn_shapes is None else case.drawn_shapes

    @settings(max_examples=DRAWS_PER_ROW)
    @example(seed=0, shapes=case.shapes)
    @given(seed=generator_seeds(), shapes=shapes)
    def row(seed, shapes):
        check(case_inputs(case, seed, shapes), seed)

    row()


def call_case(case, *inputs):
    """`case.fn` on Tensors with the row's keyword arguments."""
    return case.fn(*inputs, **case.kwargs)


def case_function(case):
    """The row's function of Tensors alone, named by the row's label for failure reports."""

    def fn(*inputs):
        return call_case(case, *inputs)

    fn.__name__ = case.label
    return fn


def case_leaves(case, arrays):
    """Tensors over the arrays; the differentiated ones require grad."""
    wrt = differentiated_inputs(case, arrays)
    return [ndl.Tensor(a, requires_grad=i in wrt) for i, a in enumerate(arrays)]


def differentiated_inputs(case, arrays):
    """Positions of the differentiated inputs: `case.grad_inputs`, else every floating-point array."""
    if case.grad_inputs is not None:
        return list(case.grad_inputs)
    return [i for i, a in enumerate(arrays) if np.issubdtype(a.dtype, np.floating)]
