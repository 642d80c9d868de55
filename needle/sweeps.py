"""The sweeps over a graph: the topological order, reverse mode (backward, grad) and forward mode.

Reverse mode visits the nodes that receive an adjoint in decreasing creation order (`_order`), a
reverse topological order, so it needs no sort. `needle.autograd` re-exports the course's names.
"""
import gc
import heapq

import numpy as np

from . import anomaly, autograd, modes, ops
from .autograd import Tensor, TensorTuple, Value, ZeroTangent

__all__ = ["find_topo_sort", "backward", "compute_gradient_of_variables", "grad", "tangent_sweep"]


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


# ---- reverse mode: the public entry points --------------------------------------------------


def backward(output, out_grad=None, *, create_graph=True):
    """`Tensor.backward`: seed `out_grad` (default ones) and store every node's adjoint as `.grad`."""
    seed = _seed("backward", output, out_grad)
    compute_gradient_of_variables(output, seed, create_graph=create_graph)


def compute_gradient_of_variables(output_tensor, out_grad, *, create_graph=True):
    """Reverse-mode sweep from `output_tensor` seeded with `out_grad`; sets `node.grad` everywhere.

    With `create_graph` the adjoints are recorded graphs (differentiable again); without it they
    are constants.
    """
    _require_graph("backward", output_tensor)
    with _SweepModes(create_graph and modes.current.grad_enabled):
        _reverse_sweep([output_tensor], [out_grad], store=True)


def grad(outputs, inputs, out_grad=None, create_graph=False, allow_unused=False):
    """Gradients of `outputs` with respect to `inputs`, returned without touching any `.grad`.

    `outputs`/`out_grad`: a Tensor or a sequence (seeds default to ones). `inputs`: a Tensor or a
    sequence; the result matches. An input the outputs do not reach is an error, as is an output
    recorded without grad; `allow_unused=True` gives zeros for them instead. With `create_graph`
    the results are recorded graphs, so they can be differentiated again.
    """
    single_input = isinstance(inputs, Value)
    inputs = [inputs] if single_input else list(inputs)
    outputs = [outputs] if isinstance(outputs, Value) else list(outputs)
    seeds = [None] * len(outputs) if out_grad is None else _as_list(out_grad)
    if len(seeds) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(seeds)} out_grads")
    seeds = [_seed("grad", output, seed) for output, seed in zip(outputs, seeds)]
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so it has no gradient")
    recorded = [(o, s) for o, s in zip(outputs, seeds) if o.requires_grad or not allow_unused]
    for output, _ in recorded:
        _require_graph("grad", output)
    with _SweepModes(create_graph and modes.current.grad_enabled):
        adjoints = _reverse_sweep([o for o, _ in recorded], [s for _, s in recorded], False, inputs)
    results = [_adjoint_of("grad", i, x, adjoints, allow_unused) for i, x in enumerate(inputs)]
    return results[0] if single_input else results


def _as_list(values):
    return [values] if isinstance(values, Value) else list(values)


def _seed(name, output, out_grad):
    """The adjoint seeded at `output`: ones by default, else `out_grad` (Tensor or array) of its shape."""
    if out_grad is None:
        return Tensor.make_const(np.ones(output.shape, dtype=output.dtype))
    if not isinstance(out_grad, Value):
        out_grad = Tensor.make_const(np.asarray(out_grad, dtype=output.dtype))
    if out_grad.shape != output.shape:
        raise ValueError(f"{name}: out_grad shape {out_grad.shape} differs from output {output.shape}")
    return out_grad


def _require_graph(name, output):
    """Refuse to differentiate a result that no recorded graph connects to a tensor requiring grad."""
    if not output.requires_grad:
        raise RuntimeError(
            f"{name}: the output (shape {getattr(output, 'shape', '?')}) does not require grad: it "
            "was computed under no_grad() or only from tensors with requires_grad=False, so nothing "
            "connects it to a gradient"
        )


def _adjoint_of(name, index, x, adjoints, allow_unused):
    """The adjoint the sweep found for input `x`; zeros with `allow_unused`, else an error."""
    adjoint = adjoints.get(x)
    if adjoint is not None:
        return adjoint
    if not allow_unused:
        raise RuntimeError(
            f"{name}: input {index} (shape {x.shape}) is not used in the graph of the outputs; "
            "pass allow_unused=True to get zeros for it"
        )
    return Tensor.make_const(np.zeros(x.shape, dtype=x.dtype))


class _SweepModes:
    """For one sweep: grad mode set to `record` (create_graph) in this thread, and the cycle collector
    paused, since a sweep makes many young objects and no garbage worth a scan (workload 4, the
    10^6-node scalar chain). A plain class, not a generator context manager: about 2 µs less per
    sweep (workload 1 sweeps once per step)."""

    __slots__ = ("record", "previous", "collecting")

    def __init__(self, record):
        self.record = bool(record)

    def __enter__(self):
        self.previous = modes.current.grad_enabled
        if self.previous is not self.record:  # `backward()` in grad mode changes nothing
            modes.set_mode("grad_enabled", self.record)
        self.collecting = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.collecting:
            gc.enable()
        if self.previous is not self.record:
            modes.set_mode("grad_enabled", self.previous)
        return False


# ---- reverse mode: the sweep ----------------------------------------------------------------


def _reverse_sweep(outputs, seeds, store, wanted=()):
    """Reverse-mode sweep from `outputs` seeded with `seeds`; returns {node: adjoint} for `wanted`.

    A node's adjoint is the sum of the partial adjoints sent to it, added up as they arrive and
    released once passed on. Every node that consumes a node was made later, so when the heap
    hands out a node (latest-made first) its adjoint is complete. With `store`, each adjoint
    becomes `node.grad` (needle: overwritten by each sweep, not accumulated): a leaf keeps the
    recorded adjoint, so its `.grad` can be differentiated again; an intermediate node keeps the
    value, detached, since its recorded adjoint usually refers back to the node itself and that
    cycle would outlive the graph.

    The loop is the engine's innermost one (workload 4), so the rule call and the accumulation are
    written out in it; the rare paths (anomaly mode, stale inputs, ill-fitting adjoints) are calls.
    """
    pending = {}  # node: the sum of the adjoints sent to it so far
    ready = []  # heap of (-_order, node)
    for output, seed in zip(outputs, seeds):
        _accumulate(pending, ready, output, seed)
    wanted = set(wanted)
    found = {}
    # Read once per sweep: neither changes while a sweep runs.
    checked = modes.current.anomaly_enabled
    last_write = autograd.last_write()
    pop, push = heapq.heappop, heapq.heappush
    while ready:
        node = pop(ready)[1]
        adjoint = pending.pop(node)
        if store:
            node.grad = adjoint if node.op is None or not adjoint.requires_grad else adjoint.detach()
        if wanted and node in wanted:
            found[node] = adjoint
        op = node.op
        if op is None:
            continue
        if last_write > node._order:  # an input may have been written since the node was made
            for x in node.inputs:
                if x._order > node._order:
                    _refuse_modified(node, x)
        if checked:
            partials = anomaly.checked_gradient(op, adjoint, node)
        else:  # op.gradient_as_tuple, written out
            partials = op.gradient(adjoint, node)
            if type(partials) is not tuple:
                partials = tuple(partials) if isinstance(partials, list) else (partials,)
        inputs = node.inputs
        if len(partials) != len(inputs):
            raise ValueError(f"{type(op).__name__}.gradient: returned {len(partials)} adjoints for {len(inputs)} inputs")
        for inp, partial in zip(inputs, partials):
            if partial is None or not inp.requires_grad:
                continue
            if type(partial) is not Tensor:
                partial = _fitted(op, partials, inp, partial)
            else:  # one type of NumPy scalar has one shape and dtype (workload 4's nodes)
                got, want = partial.cached_data, inp.cached_data
                if type(got) is not type(want) or type(got) is np.ndarray and (
                        got.shape != want.shape or got.dtype != want.dtype):
                    partial = _fitted(op, partials, inp, partial)
            previous = pending.get(inp)  # _accumulate, written out
            if previous is None:
                pending[inp] = partial
                push(ready, (-inp._order, inp))
            else:
                pending[inp] = previous + partial
    return found


def _accumulate(pending, ready, node, partial):
    """Add one partial adjoint to `node`'s sum; a node's first one puts it on the heap."""
    previous = pending.get(node)
    if previous is None:
        pending[node] = partial
        heapq.heappush(ready, (-node._order, node))
    else:
        pending[node] = previous + partial


def _refuse_modified(node, x):
    """The error for a rule whose input `x` was written in place after the node was made: the rule
    would read values the forward pass never saw."""
    i = node.inputs.index(x)
    raise RuntimeError(
        f"backward: input {i} of {type(node.op).__name__} (shape {getattr(x, 'shape', '?')}) was "
        "modified in place after use (an optimizer step, a `data` assignment or an in-place "
        "operator); its rule would read the new values. Recompute the graph after the update."
    )


def _fitted(op, partials, inp, partial):
    """`partial`, one of `op`'s `partials`, checked against its input `inp`: a Tensor of its shape,
    cast to its floating dtype."""
    index = next(i for i, p in enumerate(partials) if p is partial)
    if not isinstance(partial, Value):
        raise TypeError(
            f"{type(op).__name__}.gradient: adjoint {index} is a {type(partial).__name__}, not a Tensor"
        )
    if type(inp) is TensorTuple:
        return partial
    got, want = partial.cached_data, inp.cached_data
    if got.shape != want.shape:
        raise ValueError(
            f"{type(op).__name__}.gradient: adjoint {index} has shape {got.shape}, "
            f"but input {index} has shape {want.shape}"
        )
    if got.dtype != want.dtype and want.dtype.kind in "fc":
        return ops.cast(partial, want.dtype)  # a float32 input gets a float32 adjoint
    return partial


# ---- forward mode ---------------------------------------------------------------------------


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
        node_tangents = tuple(known[x] if x in known else _zero_tangent(x) for x in node.inputs)
        known[node] = node.op.jvp(node_tangents, node)
    return known


def _zero_tangent(value):
    if isinstance(value, TensorTuple):
        return ops.make_tuple(*[ZeroTangent.make_const(np.zeros_like(a)) for a in value.cached_data])
    return ZeroTangent.make_const(np.zeros_like(value.cached_data))
