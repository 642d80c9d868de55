"""detect_anomaly(): the first NaN/Inf in a forward result or a gradient raises, naming op and line."""
import inspect
import os
import re

import numpy as np
import pytest

import needle as ndl
from needle import autograd
from needle.anomaly import AnomalyError, creation_sites, detect_anomaly, origin_of
from needle.modes import is_anomaly_enabled

HERE = os.path.basename(__file__)


def next_line():
    """The line number just after the caller's line."""
    return inspect.currentframe().f_back.f_lineno + 1


@pytest.fixture(autouse=True)
def quiet_numpy():
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        yield


def test_detect_anomaly_is_exported_from_autograd():
    assert autograd.detect_anomaly is detect_anomaly
    assert autograd.AnomalyError is AnomalyError
    assert issubclass(AnomalyError, FloatingPointError)


def test_a_nan_forward_result_names_the_op_and_the_user_line():
    x = ndl.Tensor(np.array([1.0, -1.0], dtype=np.float32))
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        line = next_line()
        ndl.log(x)
    message = str(caught.value)
    assert message.startswith("Log produced nan in its forward result (shape (2,), float32)")
    assert f"{HERE}:{line} in test_a_nan_forward_result_names_the_op_and_the_user_line" in message


def test_an_inf_forward_result_is_reported_as_inf_for_constants_too():
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"^Exp produced inf in its forward result"):
        ndl.exp(ndl.Tensor(np.array([1000.0], dtype=np.float32), requires_grad=False))


def test_an_input_that_already_held_nan_is_mentioned():
    x = ndl.Tensor(np.array([np.nan, 1.0]))
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"; input 0 already held NaN/Inf$"):
        x * 2.0


def test_an_infinite_gradient_names_the_op_and_the_line_that_created_its_node():
    x = ndl.Tensor(np.array([0.0, 4.0]))
    with detect_anomaly():
        line = next_line()
        root = x ** 0.5  # finite forward; d/dx = 0.5 / sqrt(x) is infinite at 0
        loss = root.sum()
        with pytest.raises(AnomalyError) as caught:
            loss.backward()
    message = str(caught.value)
    assert message.startswith("PowerScalar.gradient produced inf in adjoint 0 (shape (2,), float64)")
    site = rf"for the node created at \S*{re.escape(HERE)}:{line} in test_an_infinite_gradient"
    assert re.search(site, message)


def test_gradient_checks_cover_the_functional_transforms_and_name_the_users_function():
    def f(t):
        return ndl.sqrt(t).sum()

    line = inspect.getsourcelines(f)[1] + 1
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"^Sqrt\.gradient produced inf") as caught:
        ndl.func.grad(f)(np.array([0.0, 1.0]))
    assert f"{HERE}:{line} in f" in str(caught.value)


def test_without_detect_anomaly_nan_flows_silently():
    x = ndl.Tensor(np.array([-1.0]))
    y = ndl.log(x)
    y.backward()
    assert np.isnan(y.numpy()).all()
    assert not is_anomaly_enabled()


def test_the_mode_nests_restores_and_works_as_a_decorator():
    @detect_anomaly()
    def enabled_inside():
        return is_anomaly_enabled()

    with detect_anomaly():
        with detect_anomaly():
            assert is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    assert enabled_inside() and not is_anomaly_enabled()
    with pytest.raises(AnomalyError), detect_anomaly():
        ndl.log(ndl.Tensor(np.array([-1.0])))
    assert not is_anomaly_enabled()


def test_creation_sites_are_recorded_only_while_enabled():
    x = ndl.Tensor(np.array([1.0, 2.0]))
    outside = x * 2.0
    with detect_anomaly():
        line = next_line()
        inside = x * 3.0
    assert origin_of(outside) is None
    assert origin_of(inside).endswith(f"{HERE}:{line} in test_creation_sites_are_recorded_only_while_enabled")



def test_the_creation_sites_stay_as_many_as_the_nodes_alive_at_once():
    x = ndl.Tensor(np.array([1.0, 2.0]))
    before = len(creation_sites)
    with detect_anomaly():
        for _ in range(1000):
            y = (x * 3.0).sum()
    assert len(creation_sites) - before < 50  # 2,000 nodes made, a few alive at a time
    del y


def test_a_dead_nodes_site_is_not_given_to_a_node_at_its_reused_id():
    x = ndl.Tensor(np.array([1.0, 2.0]))
    with detect_anomaly():
        dead = x * 3.0
    address = id(dead)
    del dead
    for _ in range(100):
        later = x * 2.0
        if id(later) == address:
            break
        del later
    else:
        pytest.skip("the allocator did not reuse the dead node's address")
    assert origin_of(later) is None

def test_finite_graphs_pass_untouched_under_detect_anomaly():
    x = ndl.Tensor(np.array([[0.5, 1.5], [2.0, 3.0]], dtype=np.float32))
    with detect_anomaly():
        loss = ndl.logsumexp(ndl.log(x) @ x, axes=1).sum()
        loss.backward()
        hessian = ndl.func.hessian(lambda t: (ndl.exp(t) * t).sum())(np.array([0.1, 0.2]))
    assert np.isfinite(x.grad.numpy()).all()
    assert hessian.shape == (2, 2)
