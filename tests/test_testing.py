"""needle.testing: the gradient checks pass on correct rules and catch each kind of wrong one."""
import numpy as np
import pytest

import needle as ndl
from needle.autograd import Tensor, TensorOp
from needle.testing import check_gradients, check_jvp


class Cube(TensorOp):
    """a³ with correct rules, dy/da = 3a²; the subclasses below break one rule each."""

    def compute(self, a):
        return a ** 3

    def gradient(self, out_grad, node):
        a = node.inputs[0]
        return out_grad * a * a * 3.0

    def jvp(self, tangents, node):
        a = node.inputs[0]
        return tangents[0] * a * a * 3.0


class CubeWithWrongEntry(Cube):
    """The adjoint is off by one at entry (1, 2) only."""

    def gradient(self, out_grad, node):
        bump = np.zeros(node.shape)
        bump[1, 2] = 1.0
        return super().gradient(out_grad, node) + Tensor.make_const(bump)


class CubeWithScaledGradient(Cube):
    """The adjoint is 1% too large everywhere; the forward rule is right."""

    def gradient(self, out_grad, node):
        return super().gradient(out_grad, node) * 1.01


class CubeWithConstantSlope(Cube):
    """The first derivative is right but built from a constant 3a², so its own derivative is 0."""

    def gradient(self, out_grad, node):
        a = node.inputs[0].numpy()
        return out_grad * Tensor.make_const(3.0 * a * a)


class CubeWithWrongJvp(Cube):
    """The forward rule uses 2a² instead of 3a²."""

    def jvp(self, tangents, node):
        a = node.inputs[0]
        return tangents[0] * a * a * 2.0


def rand(*shape):
    return np.random.uniform(-2.0, 2.0, size=shape)


@pytest.mark.parametrize("shape", [(), (2, 3), (8, 9)])
def test_correct_rules_pass_both_checks(shape):
    x = rand(*shape)
    assert check_gradients(lambda a: Cube()(a), x) is None
    assert check_jvp(lambda a: Cube()(a), x) is None


def test_composite_ops_with_broadcasting_pass_both_checks():
    def fn(a, b):
        return ndl.logsumexp(ndl.exp(a) * b - a, axes=1)

    check_gradients(fn, rand(2, 3), rand(3))
    check_jvp(fn, rand(2, 3), rand(3))


def test_a_wrong_gradient_is_reported_by_input_and_entry():
    def fn(a, b):
        return a + CubeWithWrongEntry()(b)

    with pytest.raises(AssertionError, match=r"input 1 entry \(1, 2\)") as error:
        check_gradients(fn, rand(2, 3), rand(2, 3), order=1)
    assert "input 0" not in str(error.value) and "entry (0, 0)" not in str(error.value)


def test_a_wrong_gradient_on_a_large_input_is_caught_by_the_projection():
    with pytest.raises(AssertionError, match="along a random direction") as error:
        check_gradients(lambda a: CubeWithScaledGradient()(a), rand(10, 10), order=1)
    assert "entry" not in str(error.value)


def test_elementwise_checks_every_entry_of_a_large_input_when_asked():
    with pytest.raises(AssertionError, match=r"input 0 entry \(1, 2\)"):
        check_gradients(lambda a: CubeWithWrongEntry()(a), rand(6, 7), order=1, elementwise=True)


def test_a_wrong_second_derivative_is_caught_only_at_order_2():
    x = rand(2, 3)
    check_gradients(lambda a: CubeWithConstantSlope()(a), x, order=1)
    with pytest.raises(AssertionError, match="wrong order-2 gradient"):
        check_gradients(lambda a: CubeWithConstantSlope()(a), x, order=2)


def test_a_wrong_jvp_is_caught():
    with pytest.raises(AssertionError, match="forward mode gives"):
        check_jvp(lambda a: CubeWithWrongJvp()(a), rand(2, 3))


def test_check_jvp_catches_a_gradient_that_disagrees_with_the_jvp():
    with pytest.raises(AssertionError, match=r"⟨Jᵀu, v⟩ by reverse mode"):
        check_jvp(lambda a: CubeWithScaledGradient()(a), rand(2, 3))


def test_inputs_become_float64_leaves_and_integers_are_not_differentiated():
    seen = []

    def fn(a, b, c, n):
        seen.append([(x.dtype, x.requires_grad) for x in (a, b, c, n)])
        return a * b + c * n

    check_gradients(fn, rand(3).astype(np.float32), 0.5, Tensor(rand(3)), np.arange(3), order=1)
    dtypes = {tuple(str(dtype) for dtype, _ in row) for row in seen}
    assert dtypes == {("float64", "float64", "float64", "int64")}
    differentiated = {tuple(requires for _, requires in row) for row in seen}
    assert (True, True, True, False) in differentiated  # the reverse-mode call
    assert not any(row[3] for row in differentiated)


def test_wrt_limits_the_inputs_that_are_checked():
    def fn(a, b):
        return a * 2.0 + CubeWithScaledGradient()(b)

    x, y = rand(2, 2), rand(2, 2)
    check_gradients(fn, x, y, wrt=[0])
    with pytest.raises(AssertionError, match="input 1 entry"):
        check_gradients(fn, x, y, wrt=[1])
    with pytest.raises(ValueError, match="check_gradients: input 1 has dtype int64"):
        check_gradients(lambda a, n: a * n, x, np.ones((2, 2), dtype=np.int64), wrt=[0, 1])


def test_an_output_independent_of_the_inputs_has_zero_derivatives():
    constant = Tensor(rand(3), requires_grad=False)
    check_gradients(lambda a: constant * 2.0, rand(3))
    check_jvp(lambda a: constant * 2.0, rand(3))
