"""The engine's modes, per thread: whether graphs are recorded (grad mode) and whether results are
checked for NaN/Inf (anomaly mode).

Each thread starts with grad mode on and anomaly mode off, and a `with` block changes its own
thread only, as in PyTorch: an evaluator inside `no_grad()` never stops a trainer beside it.
"""
import contextlib
import functools
import inspect
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "is_anomaly_enabled"]


class _ThreadModes(threading.local):
    """The current thread's modes; the class attributes are every new thread's starting values."""

    grad_enabled = True
    anomaly_enabled = False
    # `ndl.compile`'s recorder while a function is traced in this thread, else None.
    tracer = None
    # anomaly_enabled or a tracer: the one flag the engine's hot paths read before calling a hook.
    watched = False


# Read by the engine's hot paths (`modes.current.grad_enabled`), written only by _Mode and `tracing`.
current = _ThreadModes()

# How many open blocks, in all threads together, set a mode away from its starting value. While it
# is 0 every thread runs with the starting modes, so the hot paths (`autograd.make_from_op`) skip
# the thread-local reads, 30 ns each (workload 4, the scalar chain: about 4% per node).
changed_anywhere = 0
_changed_lock = threading.Lock()
_STARTING = {"grad_enabled": True, "anomaly_enabled": False, "tracer": None}


def set_mode(name, value):
    """Set this thread's mode `name` to `value`; returns the value it replaces (the `with` blocks
    below are the public way; the sweeps call this directly, being cheaper). Counts the change
    in `changed_anywhere` before a mode leaves its starting value and after it returns to it."""
    global changed_anywhere
    previous = getattr(current, name)
    leaves, returns = previous is _STARTING[name], value is _STARTING[name]
    if leaves and not returns:
        with _changed_lock:
            changed_anywhere += 1
    setattr(current, name, value)
    current.watched = current.anomaly_enabled or current.tracer is not None
    if returns and not leaves:
        with _changed_lock:
            changed_anywhere -= 1
    return previous


def is_grad_enabled():
    """True unless inside `no_grad()` in this thread: whether op results record their op and inputs."""
    return current.grad_enabled


def is_anomaly_enabled():
    """True inside `anomaly.detect_anomaly()` in this thread."""
    return current.anomaly_enabled


class _Mode(contextlib.ContextDecorator):
    """Set one mode (`name`, an attribute of `current`) for a `with` block or a decorated function.

    Blocks nest and each restores the value it found. A decorated generator function runs in the
    mode each time it resumes, and its caller's mode is back whenever it yields.
    """

    def __init__(self, name, enabled):
        self.name = name
        self.enabled = bool(enabled)
        self._previous = threading.local()  # per thread: one object may be entered in several

    def __enter__(self):
        stack = self._previous.__dict__.setdefault("stack", [])
        stack.append(set_mode(self.name, self.enabled))
        return self

    def __exit__(self, *exc):
        set_mode(self.name, self._previous.stack.pop())
        return False

    def _recreate_cm(self):
        return _Mode(self.name, self.enabled)  # a fresh object per decorated call

    def __call__(self, function):
        if inspect.isgeneratorfunction(function):
            return self._wrap_generator(function)
        return super().__call__(function)

    def _wrap_generator(self, function):
        @functools.wraps(function)
        def generator(*args, **kwargs):
            inner = function(*args, **kwargs)
            try:
                with self._recreate_cm():
                    sent = inner.send(None)
                while True:
                    try:
                        received = yield sent
                    except GeneratorExit:
                        inner.close()
                        raise
                    except BaseException as error:  # thrown in by the caller: the generator's to handle
                        with self._recreate_cm():
                            sent = inner.throw(error)
                    else:
                        with self._recreate_cm():
                            sent = inner.send(received)
            except StopIteration as stop:
                return stop.value

        return generator


@contextlib.contextmanager
def tracing(tracer):
    """Record every op of this thread into `tracer` (`needle.compile`) for a `with` block."""
    previous = set_mode("tracer", tracer)
    try:
        yield tracer
    finally:
        set_mode("tracer", previous)


def no_grad():
    """Context manager (and decorator) inside which ops record no graph in this thread."""
    return _Mode("grad_enabled", False)


def enable_grad():
    """Context manager (and decorator) that turns graph recording back on inside `no_grad()`."""
    return _Mode("grad_enabled", True)


def set_grad_enabled(enabled):
    """Context manager (and decorator) that sets grad mode to `enabled` (PyTorch's switch)."""
    return _Mode("grad_enabled", enabled)


def anomaly_mode(enabled):
    """Context manager (and decorator) that sets anomaly mode; `anomaly.detect_anomaly` is the API."""
    return _Mode("anomaly_enabled", enabled)
