"""Generic tests for an op case table: forward vs NumPy, reverse and forward mode vs finite differences.

A table module ends with `globals().update(generic_tests(CASES))`; every test is parametrized by row.
`table_cases()` gathers the rows of every table, for the tests that run over all of them.
"""
import importlib
from pathlib import Path

import numpy as np
import pytest

import needle as ndl
from needle.testing import check_gradients, check_jvp

FORWARD_RTOL = 1e-5  # float32 results against a NumPy reference that may sum in another order
FORWARD_ATOL = 1e-5


def table_cases():
    """Every row of every case table: the CASES of the test_*.py modules beside this file, in order."""
    cases = []
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        module = importlib.import_module(f"{__package__}.{path.stem}")
        cases.extend(getattr(module, "CASES", ()))
    return cases


def case_inputs(case, seed=0):
    """The row's input arrays: `case.make_inputs(rng)`, or float32 uniform in [low, high) per shape."""
    rng = np.random.default_rng(seed)
    if case.make_inputs is not None:
        return [np.asarray(a) for a in case.make_inputs(rng)]
    return [rng.uniform(case.low, case.high, size=shape).astype(np.float32) for shape in case.shapes]


def call_case(case, *inputs):
    """`case.fn` on Tensors with the row's keyword arguments."""
    return case.fn(*inputs, **case.kwargs)


def case_leaves(case, arrays):
    """Tensors over the arrays; the differentiated ones require grad."""
    wrt = differentiated_inputs(case, arrays)
    return [ndl.Tensor(a, requires_grad=i in wrt) for i, a in enumerate(arrays)]


def differentiated_inputs(case, arrays):
    """Positions of the differentiated inputs: `case.grad_inputs`, else every floating-point array."""
    if case.grad_inputs is not None:
        return list(case.grad_inputs)
    return [i for i, a in enumerate(arrays) if np.issubdtype(a.dtype, np.floating)]


def generic_tests(cases):
    """Parametrized test functions for the rows of `cases`, by name; ids are `case.id`."""
    differentiable = [case for case in cases if case.order >= 1]
    second_order = [case for case in cases if case.order >= 2]

    def rows(selected):
        return pytest.mark.parametrize("case", selected, ids=[case.id for case in selected])

    @rows(cases)
    def test_forward_matches_numpy(case):
        arrays = case_inputs(case)
        out = call_case(case, *case_leaves(case, arrays))
        expected = np.asarray(case.numpy(*[a.copy() for a in arrays], **case.kwargs))
        assert isinstance(out, ndl.Tensor), f"{case.id} returned a {type(out).__name__}"
        assert out.shape == expected.shape, f"shape {out.shape}, NumPy gives {expected.shape}"
        if np.issubdtype(expected.dtype, np.floating):
            assert out.dtype == np.float32, f"float32 inputs gave {out.dtype}"
        else:
            assert out.dtype == expected.dtype, f"dtype {out.dtype}, NumPy gives {expected.dtype}"
        np.testing.assert_allclose(out.numpy(), expected, rtol=FORWARD_RTOL, atol=FORWARD_ATOL)

    @rows(cases)
    def test_forward_leaves_inputs_unchanged(case):
        arrays = case_inputs(case)
        leaves = case_leaves(case, arrays)
        call_case(case, *leaves)
        for i, (leaf, array) in enumerate(zip(leaves, arrays)):
            np.testing.assert_array_equal(leaf.numpy(), array, err_msg=f"input {i} was written to")

    @rows(differentiable)
    def test_gradient_keeps_float32(case):
        arrays = case_inputs(case)
        leaves = case_leaves(case, arrays)
        out = call_case(case, *leaves)
        wrt = differentiated_inputs(case, arrays)
        grads = ndl.autograd.grad(out, [leaves[i] for i in wrt])
        for i, g in zip(wrt, grads):
            assert g.dtype == leaves[i].dtype, f"input {i}: {leaves[i].dtype} input, {g.dtype} gradient"
            assert g.shape == leaves[i].shape

    @rows(differentiable)
    def test_gradient_matches_finite_differences(case):
        check_gradients(case_function(case), *case_inputs(case), order=1, wrt=case.grad_inputs)

    @rows(second_order)
    def test_second_order_gradient(case):
        check_gradients(case_function(case), *case_inputs(case), order=2, wrt=case.grad_inputs)

    @rows(differentiable)
    def test_jvp_matches_finite_differences_and_vjp(case):
        check_jvp(case_function(case), *case_inputs(case), wrt=case.grad_inputs)

    tests = {
        "test_forward_matches_numpy": test_forward_matches_numpy,
        "test_forward_leaves_inputs_unchanged": test_forward_leaves_inputs_unchanged,
        "test_gradient_keeps_float32": test_gradient_keeps_float32,
        "test_gradient_matches_finite_differences": test_gradient_matches_finite_differences,
        "test_second_order_gradient": test_second_order_gradient,
        "test_jvp_matches_finite_differences_and_vjp": test_jvp_matches_finite_differences_and_vjp,
    }
    # An empty parameter list would only produce a skipped placeholder; leave those tests out.
    if not differentiable:
        for name in ("test_gradient_keeps_float32", "test_gradient_matches_finite_differences",
                     "test_jvp_matches_finite_differences_and_vjp"):
            del tests[name]
    if not second_order:
        del tests["test_second_order_gradient"]
    return tests


def case_function(case):
    """The row's function of Tensors alone, named by the row id for failure reports."""

    def fn(*inputs):
        return call_case(case, *inputs)

    fn.__name__ = case.id
    return fn
