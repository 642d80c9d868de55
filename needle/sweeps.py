"""The sweeps over a graph: the topological order, reverse mode (backward, grad) and forward mode.

`needle.autograd` re-exports the public ones, which is where the course's code looks for them.
"""
import contextlib
import gc
import heapq

import numpy as np

from . import anomaly as anomaly_hooks
from . import autograd
from .autograd import Tensor, TensorTuple, Value, ZeroTangent, _GradMode, _op_name


def find_topo_sort(node_list):
    """Post-order DFS from `node_list`: inputs left to right before their node, each node once.

    Iterative (an explicit stack of input iterators), so the depth of the graph is unbounded.
    """
    visited = set()
    order = []
    for root in node_list:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.inputs))]
        while stack:
            node, pending = stack[-1]
            for child in pending:
                if child not in visited:
                    visited.add(child)
                    stack.append((child, iter(child.inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


@contextlib.contextmanager
def _collector_paused():
    """Pause the cycle collector: a sweep makes many young objects and no garbage worth a scan."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _reverse_sweep(outputs, out_grads, store, wanted=()):
    """Reverse-mode sweep from `outputs` seeded with `out_grads`; returns {node: adjoint} for `wanted`.

    Visits the nodes that receive an adjoint in decreasing creation order, a reverse topological
    order. A node's adjoint is the sum of the partial adjoints sent to it, added up as they arrive
    and released once passed on. With `store`, each adjoint becomes `node.grad` (needle:
    overwritten, not accumulated): a leaf keeps the recorded adjoint, so its `.grad` can be
    differentiated again; an intermediate node keeps its value, detached, since a recorded adjoint
    usually refers back to the node itself and the cycle would outlive the graph.
    """
    pending = {}  # node: the sum of the adjoints sent to it so far
    ready = []  # heap of (-_order, node): the latest-made node with an adjoint comes out first
    for output, out_grad in zip(outputs, out_grads):
        previous = pending.get(output)
        if previous is None:
            pending[output] = out_grad
            heapq.heappush(ready, (-output._order, output))
        else:
            pending[output] = previous + out_grad
    wanted = set(wanted)
    found = {}
    anomaly = autograd._anomaly_enabled
    pop, push = heapq.heappop, heapq.heappush
    while ready:
        # Every node that consumes this one was made later, so its adjoint is complete.
        node = pop(ready)[1]
        adjoint = pending.pop(node)
        if store:
            node.grad = adjoint if node.op is None or not adjoint.requires_grad else adjoint.detach()
        if wanted and node in wanted:
            found[node] = adjoint
        op = node.op
        if op is None:
            continue
        grads = anomaly_hooks.checked_gradient(op, adjoint, node) if anomaly else op.gradient(adjoint, node)
        if type(grads) is not tuple:
            grads = tuple(grads) if isinstance(grads, list) else (grads,)
        inputs = node.inputs
        if len(grads) != len(inputs):
            raise ValueError(
                f"{_op_name(op)}.gradient: returned {len(grads)} adjoints for {len(inputs)} inputs"
            )
        for inp, grad in zip(inputs, grads):
            if grad is None or not inp.requires_grad:
                continue
            try:
                fits = type(inp) is TensorTuple or grad.cached_data.shape == inp.cached_data.shape
            except AttributeError:
                fits = False
            if not fits:
                _adjoint_error(op, inputs.index(inp), inp, grad)
            previous = pending.get(inp)
            if previous is None:
                pending[inp] = grad
                push(ready, (-inp._order, inp))
            else:
                pending[inp] = previous + grad
    return found


def _adjoint_error(op, i, inp, grad):
    if not isinstance(grad, Tensor):
        raise TypeError(f"{_op_name(op)}.gradient: adjoint {i} is a {type(grad).__name__}, not a Tensor")
    raise ValueError(
        f"{_op_name(op)}.gradient: adjoint {i} has shape {grad.shape}, but input {i} has shape {inp.shape}"
    )


def compute_gradient_of_variables(output_tensor, out_grad, *, create_graph=True):
    """Reverse-mode sweep from `output_tensor` seeded with `out_grad`; sets `node.grad` everywhere.

    With `create_graph` the adjoints are recorded graphs (differentiable again); without it they
    are constants.
    """
    with _GradMode(create_graph and autograd._grad_enabled), _collector_paused():
        _reverse_sweep([output_tensor], [out_grad], store=True)


def grad(outputs, inputs, out_grad=None, create_graph=False):
    """Gradients of `outputs` with respect to `inputs`, returned without touching any `.grad`.

    `outputs`/`out_grad`: a Tensor or a sequence (seeds default to ones). `inputs`: a Tensor or a
    sequence; the result matches (an input the outputs do not depend on gets zeros). With
    `create_graph` the results are recorded graphs, so they can be differentiated again.
    """
    single_input = isinstance(inputs, Value)
    inputs = [inputs] if single_input else list(inputs)
    outputs = [outputs] if isinstance(outputs, Value) else list(outputs)
    if out_grad is None:
        out_grads = [Tensor.make_const(np.ones(o.shape, dtype=o.dtype)) for o in outputs]
    else:
        out_grads = [out_grad] if isinstance(out_grad, Value) else list(out_grad)
    if len(out_grads) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(out_grads)} out_grads")
    for output, seed in zip(outputs, out_grads):
        if seed.shape != output.shape:
            raise ValueError(f"grad: out_grad shape {seed.shape} differs from output {output.shape}")
    with _GradMode(create_graph and autograd._grad_enabled), _collector_paused():
        adjoints = _reverse_sweep(outputs, out_grads, store=False, wanted=inputs)
    results = []
    for x in inputs:
        adjoint = adjoints.get(x)
        if adjoint is None:
            adjoint = Tensor.make_const(np.zeros(x.shape, dtype=x.dtype))
        results.append(adjoint)
    return results[0] if single_input else results


def tangent_sweep(outputs, tangents, order=None):
    """Forward-mode sweep: push `tangents` ({leaf: tangent}) through the graph of `outputs`.

    Visits the nodes in topological order and applies each op's `jvp`; inputs without a tangent
    count as zero. Returns {node: tangent} for every node that depends on a seeded leaf.
    `order`: `find_topo_sort(outputs)`, when the caller sweeps one graph many times.
    """
    known = dict(tangents)
    for node in find_topo_sort(list(outputs)) if order is None else order:
        if node in known or node.op is None:
            continue
        if not any(x in known for x in node.inputs):
            continue
        node_tangents = tuple(
            known[x] if x in known else _zero_tangent(x) for x in node.inputs
        )
        known[node] = node.op.jvp(node_tangents, node)
    return known


def _zero_tangent(value):
    if isinstance(value, TensorTuple):
        from .ops import make_tuple

        return make_tuple(*[ZeroTangent.make_const(np.zeros_like(a)) for a in value.cached_data])
    return ZeroTangent.make_const(np.zeros_like(value.cached_data))
