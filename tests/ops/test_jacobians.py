"""Forward mode against reverse mode for every differentiable row of every op case table.

For each row with order >= 1, the whole Jacobian built one column at a time by tangent sweeps
(`jacfwd`) must equal the one built one row at a time by reverse sweeps (`jacrev`), in float64.
Every jvp rule is thereby checked against its op's gradient rule, entry by entry.
"""
import numpy as np
import pytest

import needle as ndl
from tests.ops.harness import case_function, case_inputs, differentiated_inputs, table_cases

DIFFERENTIABLE_ROWS = [case for case in table_cases() if case.order >= 1]


def float64_inputs(case):
    """The row's inputs with every floating array in float64 (index and mask arrays unchanged)."""
    return [
        a.astype(np.float64) if np.issubdtype(a.dtype, np.floating) else a for a in case_inputs(case)
    ]


@pytest.mark.parametrize("case", DIFFERENTIABLE_ROWS, ids=[case.id for case in DIFFERENTIABLE_ROWS])
def test_forward_mode_jacobian_equals_reverse_mode_jacobian(case):
    arrays = float64_inputs(case)
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
