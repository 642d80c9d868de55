"""The generic checks, run on every row of every op case table (the CASES of tests/ops/test_<family>.py).

Each test runs on the row's fixed draw (seed 0), then on a few hypothesis-drawn seeds and shapes
(see `on_fixed_and_drawn_inputs`). Ids are `family-label-k`: `pytest -k sigmoid` selects sigmoid's rows.
"""
import numpy as np
import pytest

import needle as ndl
from needle.testing import check_gradients, check_jvp
from tests.ops.harness import (
    call_case, case_function, case_leaves, differentiated_inputs, on_fixed_and_drawn_inputs, table_rows,
)

FORWARD_RTOL = 1e-5  # float32 results against a NumPy reference that may sum in another order
FORWARD_ATOL = 1e-5

ROWS = table_rows()


def over_rows(min_order=0):
    """Parametrize `case` by the rows that are checked to derivative order `min_order` or higher."""
    selected = {row_id: case for row_id, case in ROWS.items() if case.order >= min_order}
    return pytest.mark.parametrize("case", list(selected.values()), ids=list(selected))


@over_rows()
def test_forward_matches_numpy(case):
    def check(arrays, seed):
        out = call_case(case, *case_leaves(case, arrays))
        expected = np.asarray(case.numpy(*[a.copy() for a in arrays], **case.kwargs))
        assert isinstance(out, ndl.Tensor), f"{case.label} returned a {type(out).__name__}"
        assert out.shape == expected.shape, f"shape {out.shape}, NumPy gives {expected.shape}"
        if np.issubdtype(expected.dtype, np.floating):
            assert out.dtype == np.float32, f"float32 inputs gave {out.dtype}"
        else:
            assert out.dtype == expected.dtype, f"dtype {out.dtype}, NumPy gives {expected.dtype}"
        np.testing.assert_allclose(out.numpy(), expected, rtol=FORWARD_RTOL, atol=FORWARD_ATOL)

    on_fixed_and_drawn_inputs(case, check)


@over_rows()
def test_forward_leaves_inputs_unchanged(case):
    def check(arrays, seed):
        leaves = case_leaves(case, arrays)
        call_case(case, *leaves)
        for i, (leaf, array) in enumerate(zip(leaves, arrays)):
            np.testing.assert_array_equal(leaf.numpy(), array, err_msg=f"input {i} was written to")

    on_fixed_and_drawn_inputs(case, check)


@over_rows(min_order=1)
def test_gradient_keeps_float32(case):
    def check(arrays, seed):
        leaves = case_leaves(case, arrays)
        wrt = differentiated_inputs(case, arrays)
        grads = ndl.autograd.grad(call_case(case, *leaves), [leaves[i] for i in wrt])
        for i, g in zip(wrt, grads):
            assert g.dtype == leaves[i].dtype, f"input {i}: {leaves[i].dtype} input, {g.dtype} gradient"
            assert g.shape == leaves[i].shape

    on_fixed_and_drawn_inputs(case, check)


@over_rows(min_order=1)
def test_gradient_matches_finite_differences(case):
    def check(arrays, seed):
        check_gradients(case_function(case), *arrays, order=1, wrt=case.grad_inputs, seed=seed)

    on_fixed_and_drawn_inputs(case, check)


@over_rows(min_order=2)
def test_second_order_gradient(case):
    def check(arrays, seed):
        check_gradients(case_function(case), *arrays, order=2, wrt=case.grad_inputs, seed=seed)

    on_fixed_and_drawn_inputs(case, check)


@over_rows(min_order=1)
def test_jvp_matches_finite_differences_and_vjp(case):
    def check(arrays, seed):
        check_jvp(case_function(case), *arrays, wrt=case.grad_inputs, seed=seed)

    on_fixed_and_drawn_inputs(case, check)


@over_rows(min_order=1)
def test_forward_mode_jacobian_equals_reverse_mode_jacobian(case):
    """jacfwd (one tangent sweep per input entry) equals jacrev (one reverse sweep per output entry)
    in float64, entry by entry: every jvp rule against its op's gradient rule."""

    def check(arrays, seed):
        arrays = [a.astype(np.float64) if np.issubdtype(a.dtype, np.floating) else a for a in arrays]
        argnums = tuple(differentiated_inputs(case, arrays))
        fn = case_function(case)
        forward = ndl.func.jacfwd(fn, argnums)(*arrays)
        reverse = ndl.func.jacrev(fn, argnums)(*arrays)
        out_shape = fn(*[ndl.Tensor(a, requires_grad=False) for a in arrays]).shape
        for i, fwd, rev in zip(argnums, forward, reverse):
            expected_shape = out_shape + arrays[i].shape
            assert fwd.shape == rev.shape == expected_shape, f"input {i}: {fwd.shape}, {rev.shape}"
            assert fwd.dtype == rev.dtype == np.float64
            np.testing.assert_allclose(
                fwd.numpy(), rev.numpy(), rtol=1e-9, atol=1e-12,
                err_msg=f"input {i}: jacfwd (jvp rule) and jacrev (gradient rule) disagree",
            )

    on_fixed_and_drawn_inputs(case, check)
