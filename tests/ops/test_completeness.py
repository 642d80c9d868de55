"""Every op that needle.ops exports is exercised by some row of some case table (tests/ops/test_*.py).

Each row runs once (forward, then backward for differentiable rows) while a profiler records which
Python functions were called and, for every `compute` (or `compute_saving`) call, the class of the op that ran it.
Recording calls rather than walking the output graph also sees non-differentiable ops
(comparisons), which never record a graph.
"""
import inspect
import sys

import pytest

import needle.ops
from needle import autograd
from tests.ops.harness import call_case, case_inputs, case_leaves, table_rows


def exported_op_classes():
    """Op subclasses in the needle.ops namespace, without the engine's base classes."""
    return {
        obj for obj in vars(needle.ops).values()
        if inspect.isclass(obj) and issubclass(obj, autograd.Op) and obj.__module__ != autograd.__name__
    }


def exported_op_functions():
    """Public lowercase functions in the needle.ops namespace (each op's function, sum_to_shape, ...)."""
    return {
        name: obj for name, obj in vars(needle.ops).items()
        if inspect.isfunction(obj) and name.islower() and not name.startswith("_")
        and obj.__module__.startswith(needle.ops.__name__)
    }


@pytest.fixture(scope="module")
def exercised():
    """(op classes that computed, code objects that were called) while running every row."""
    classes, codes = set(), set()

    def record_call(frame, event, arg):
        if event == "call":
            codes.add(frame.f_code)
            computing = frame.f_code.co_name in ("compute", "compute_saving")
            if computing and isinstance(frame.f_locals.get("self"), autograd.Op):
                classes.add(type(frame.f_locals["self"]))

    rows = table_rows()
    sys.setprofile(record_call)
    try:
        for row_id, case in rows.items():
            _run_row(row_id, case)
    finally:
        sys.setprofile(None)
    return classes, codes


def _run_row(row_id, case):
    try:
        out = call_case(case, *case_leaves(case, case_inputs(case)))
        if case.order >= 1:
            out.backward()
    except Exception as error:
        raise AssertionError(f"row {row_id} failed to run: {error}") from error


def test_every_exported_op_class_has_a_row(exercised):
    classes, _ = exercised
    missing = sorted(cls.__name__ for cls in exported_op_classes() - classes)
    assert not missing, f"op classes that no case-table row exercises: {', '.join(missing)}"


def test_every_exported_op_function_is_called_by_a_row(exercised):
    _, codes = exercised
    # inspect.unwrap: the function itself, not the wrapper that `axis_aliases` shares among many.
    missing = sorted(
        name for name, fn in exported_op_functions().items() if inspect.unwrap(fn).__code__ not in codes
    )
    assert not missing, f"needle.ops functions that no case-table row calls: {', '.join(missing)}"
