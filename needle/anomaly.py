"""Anomaly detection: inside `detect_anomaly()`, the first NaN or Inf raises, naming the op and the line.

While enabled, every new node remembers where user code created it (the first stack frame outside
the needle package), each forward result is checked as it is computed, and each adjoint as the
reverse sweep produces it. Disabled, the engine pays one boolean test per op result and per
reverse-sweep step.
"""
import os
import sys
import threading

import numpy as np

from . import modes

__all__ = ["AnomalyError", "detect_anomaly", "origin_of"]

_PACKAGE_DIR = os.path.dirname(__file__) + os.sep

# id(node) -> (node._order, (file, line, function) of the user code that created it), for nodes
# made while enabled. An entry counts only for the node whose `_order` it holds, so a later node at
# a reused id is not given a dead node's site; a reused id overwrites the entry, which keeps the
# table about as large as the most nodes alive at once.
creation_sites = {}

class _RulesRunning(threading.local):
    """Per thread, the nodes whose gradient rule is running: the ops inside a rule are not
    checked one by one, the adjoints the rule returns are, so the error names the forward op
    whose derivative failed. Per thread, so a sweep in one thread never silences another."""

    def __init__(self):
        self.nodes = []


_differentiating = _RulesRunning()


class AnomalyError(FloatingPointError):
    """A NaN or Inf appeared in a forward result or a gradient while `detect_anomaly()` was on."""


def detect_anomaly():
    """Context manager (and decorator): raise AnomalyError at the first NaN/Inf result or gradient.

    The error names the op and the file:line of the user code that created the failing node.
    """
    return modes.anomaly_mode(True)


def origin_of(node, file_name_only=False):
    """"file:line in function" where user code created `node` under `detect_anomaly()`, else None.

    `file_name_only`: the file without its folder.
    """
    order, site = creation_sites.get(id(node), (None, None))
    if order != node._order:
        return None
    filename, line, function = site
    return _format_site((os.path.basename(filename), line, function) if file_name_only else site)


def on_result(value, op, inputs):
    """Engine hook after `op` computed `value`: remember the creation site, check for NaN/Inf."""
    site = _user_site()
    creation_sites[id(value)] = (value._order, site)
    if _differentiating.nodes:
        return
    bad = _nonfinite(value.cached_data)
    if bad:
        raise AnomalyError(
            f"{type(op).__name__} produced {bad} in its forward result "
            f"({_describe(value.cached_data)}) at {_format_site(site)}{_inputs_note(inputs)}"
        )


def checked_gradient(op, out_grad, node):
    """Engine hook: `op.gradient_as_tuple(out_grad, node)`, raising if an adjoint holds NaN/Inf."""
    _differentiating.nodes.append(node)
    try:
        grads = op.gradient_as_tuple(out_grad, node)
    finally:
        _differentiating.nodes.pop()
    for i, adjoint in enumerate(grads):
        bad = _nonfinite(adjoint.cached_data) if hasattr(adjoint, "cached_data") else None
        if bad:
            created = origin_of(node) or "a place outside detect_anomaly()"
            incoming = _nonfinite(out_grad.cached_data)
            note = f"; its incoming adjoint already held {incoming}" if incoming else ""
            raise AnomalyError(
                f"{type(op).__name__}.gradient produced {bad} in adjoint {i} "
                f"({_describe(adjoint.cached_data)}) for the node created at {created}{note}"
            )
    return grads


def _user_site():
    """(file, line, function) of the innermost frame outside the needle package."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return ("<unknown>", 0, "<unknown>")
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def _format_site(site):
    filename, line, function = site
    return f"{filename}:{line} in {function}"


def _nonfinite(data):
    """"nan" or "inf" when a floating array (or a tuple of them) holds one, else None."""
    arrays = data if isinstance(data, tuple) else (data,)
    for array in arrays:
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            return "nan" if np.isnan(array).any() else "inf"
    return None


def _describe(data):
    if isinstance(data, tuple):
        return "a tuple of shapes " + ", ".join(str(a.shape) for a in data)
    return f"shape {data.shape}, {data.dtype}"


def _inputs_note(inputs):
    held = [i for i, x in enumerate(inputs) if _nonfinite(x.cached_data)]
    if not held:
        return ""
    return f"; input{'s' if len(held) > 1 else ''} {', '.join(map(str, held))} already held NaN/Inf"
