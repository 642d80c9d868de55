"""Grad mode and anomaly mode are per thread; `no_grad` works as a decorator of generators too."""
import threading

import numpy as np
import pytest

import needle as ndl
import needle.nn as nn
from needle.modes import is_anomaly_enabled


def _run_in_threads(targets):
    """Start one thread per callable, join them all, re-raise the first error any of them hit."""
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as error:  # reported to the test below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _model_and_data(seed):
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    for p in model.parameters():
        p.data = ndl.Tensor(rng.standard_normal(p.shape).astype(np.float32))
    X = rng.standard_normal((32, 6)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    return model, X, y


def _train(model, X, y, steps, create_graph):
    opt = ndl.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(steps):
        loss = nn.SoftmaxLoss()(model(ndl.Tensor(X, requires_grad=False)), ndl.Tensor(y))
        opt.reset_grad()
        loss.backward(create_graph=create_graph)
        opt.step()
        losses.append(float(loss.numpy()))
    return losses, [p.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("create_graph", [True, False])
def test_four_threads_training_their_own_models_match_their_solo_runs_bit_for_bit(create_graph):
    solo = [_train(*_model_and_data(seed), 40, create_graph) for seed in range(4)]
    jobs = [_model_and_data(seed) for seed in range(4)]
    results = [None] * 4

    def trainer(i):
        return lambda: results.__setitem__(i, _train(*jobs[i], 40, create_graph))

    _run_in_threads([trainer(i) for i in range(4)])
    for (solo_losses, solo_params), (losses, params) in zip(solo, results):
        assert losses == solo_losses
        for expected, got in zip(solo_params, params):
            np.testing.assert_array_equal(got, expected)


def test_a_trainer_beside_a_no_grad_evaluator_trains_every_step():
    model, X, y = _model_and_data(0)
    evaluator_model, _, _ = _model_and_data(1)
    stop = threading.Event()
    recorded = []

    def evaluate():
        while not stop.is_set():
            with ndl.no_grad():
                out = evaluator_model(ndl.Tensor(X))
                assert not out.requires_grad

    def train():
        opt = ndl.optim.SGD(model.parameters(), lr=0.1)
        try:
            for _ in range(300):
                loss = nn.SoftmaxLoss()(model(ndl.Tensor(X, requires_grad=False)), ndl.Tensor(y))
                recorded.append(loss.requires_grad)
                opt.reset_grad()
                loss.backward()
                opt.step()
        finally:
            stop.set()

    _run_in_threads([evaluate, train])
    assert recorded == [True] * 300


def test_interleaved_no_grad_blocks_leave_every_thread_in_the_mode_it_started_in():
    barrier = threading.Barrier(2)
    seen = {}

    def worker(name, first_wait):
        with ndl.no_grad():
            barrier.wait()  # both threads are inside their blocks now
            if first_wait:
                barrier.wait()  # the other thread leaves its block first
            seen[name + " inside"] = ndl.is_grad_enabled()
        if not first_wait:
            barrier.wait()
        seen[name + " after"] = ndl.is_grad_enabled()

    _run_in_threads([lambda: worker("a", True), lambda: worker("b", False)])
    assert seen == {"a inside": False, "b inside": False, "a after": True, "b after": True}
    assert ndl.is_grad_enabled()


def test_a_new_thread_starts_with_grad_on_and_anomaly_off_whatever_its_parent_is_in():
    seen = []
    with ndl.no_grad(), ndl.anomaly.detect_anomaly():
        _run_in_threads([lambda: seen.append((ndl.is_grad_enabled(), is_anomaly_enabled()))])
    assert seen == [(True, False)]


def test_anomaly_mode_in_one_thread_does_not_check_another():
    barrier = threading.Barrier(2)
    outcome = {}

    def checked():
        with ndl.anomaly.detect_anomaly():
            barrier.wait()
            barrier.wait()

    def unchecked():
        barrier.wait()
        with np.errstate(divide="ignore"):
            outcome["log"] = ndl.log(ndl.Tensor([0.0])).numpy()  # -inf, no AnomalyError here
        barrier.wait()

    _run_in_threads([checked, unchecked])
    assert outcome["log"][0] == -np.inf


def test_no_grad_decorates_a_generator_function_for_its_whole_body():
    x = ndl.Tensor([1.0, 2.0])

    @ndl.no_grad()
    def doubled(count):
        for _ in range(count):
            yield (x * 2).requires_grad, ndl.is_grad_enabled()

    steps = doubled(3)
    first = next(steps)
    assert ndl.is_grad_enabled()  # the caller's mode is back between steps
    assert [first, *steps] == [(False, False)] * 3
    assert (x * 2).requires_grad


def test_a_decorated_generator_passes_sent_values_and_its_return_value():
    @ndl.no_grad()
    def echo():
        received = yield "ready"
        while received is not None:
            received = yield (received, ndl.is_grad_enabled())
        return "done"

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send(5) == (5, False)
    with pytest.raises(StopIteration) as stop:
        gen.send(None)
    assert stop.value.value == "done"


def test_set_grad_enabled_switches_both_ways():
    with ndl.set_grad_enabled(False):
        assert not ndl.is_grad_enabled()
        with ndl.set_grad_enabled(True):
            assert ndl.is_grad_enabled()
    assert ndl.is_grad_enabled()


def test_one_no_grad_object_entered_in_two_threads_restores_each_threads_own_mode():
    shared = ndl.no_grad()
    barrier = threading.Barrier(2)
    after = {}

    def worker(name, start_enabled, leave_first):
        with ndl.set_grad_enabled(start_enabled):
            with shared:
                barrier.wait()  # both inside
                if not leave_first:
                    barrier.wait()
            if leave_first:
                barrier.wait()
            after[name] = ndl.is_grad_enabled()

    _run_in_threads([lambda: worker("a", True, True), lambda: worker("b", False, False)])
    assert after == {"a": True, "b": False}


def test_a_gradient_rule_running_in_one_thread_does_not_silence_anomaly_checks_in_another():
    stop = threading.Event()

    def sweeping():
        x = ndl.Tensor(np.linspace(1, 2, 50))
        with ndl.anomaly.detect_anomaly():
            while not stop.is_set():
                (ndl.exp(x) * x).sum().backward()

    missed = []

    def checking():
        try:
            with ndl.anomaly.detect_anomaly(), np.errstate(invalid="ignore"):
                for _ in range(300):
                    try:
                        ndl.log(ndl.Tensor([-1.0]))
                        missed.append(1)
                    except ndl.anomaly.AnomalyError:
                        pass
        finally:
            stop.set()

    _run_in_threads([sweeping, checking])
    assert not missed


def test_the_count_of_changed_modes_returns_to_zero_after_nested_blocks_and_errors():
    from needle import modes

    base = modes.changed_anywhere  # 0 unless another test left a block open
    with ndl.no_grad():
        assert modes.changed_anywhere == base + 1
        with ndl.enable_grad():  # back at the starting value: not a change
            assert modes.changed_anywhere == base
            with pytest.raises(ZeroDivisionError), ndl.autograd.detect_anomaly():
                assert modes.changed_anywhere == base + 1
                1 / 0
        assert modes.changed_anywhere == base + 1
    with ndl.set_grad_enabled(True):  # already on: not a change
        assert modes.changed_anywhere == base
    assert modes.changed_anywhere == base


def test_a_thread_in_no_grad_makes_every_other_thread_read_its_own_mode():
    from needle import modes

    base = modes.changed_anywhere
    entered, release = threading.Event(), threading.Event()

    def evaluator():
        with ndl.no_grad():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=evaluator)
    thread.start()
    entered.wait(10)
    try:
        assert modes.changed_anywhere == base + 1
        x = ndl.Tensor([1.0, 2.0])
        assert (x * 2.0).requires_grad  # this thread still records
        with ndl.no_grad():
            assert not (x * 2.0).requires_grad
    finally:
        release.set()
        thread.join()
    assert modes.changed_anywhere == base
