"""Graphviz DOT text of a needle graph, written by hand (graphviz is not needed to produce it).

Render with `dot -Tsvg graph.dot -o graph.svg`, or paste the text into any DOT viewer.
"""

from .anomaly import origin_of
from .autograd import Tensor, Value, enable_grad, find_topo_sort, grad

__all__ = ["to_dot"]


def to_dot(tensor, include_backward=False):
    """DOT source of the graph behind `tensor` (a Tensor or a sequence of them).

    One node per graph node: the op's name and parameters, the shape and the dtype. Leaves are
    ellipses, filled when they require grad; outputs have a double border. With
    `include_backward`, the adjoints of every leaf that requires grad are built with
    `create_graph=True` and drawn as well: adjoint nodes dashed, edges from the forward nodes they
    reuse in red, and a dotted "grad" edge from each gradient to its leaf. That the adjoints are
    ordinary nodes over the forward graph is why gradients of gradients work.
    """
    roots = [tensor] if isinstance(tensor, Value) else list(tensor)
    if not roots or not all(isinstance(root, Value) for root in roots):
        raise TypeError("to_dot: expected a Tensor or a sequence of Tensors")
    order = find_topo_sort(roots)
    forward = set(order)
    gradients = _leaf_gradients(roots, order) if include_backward else {}
    nodes = find_topo_sort(roots + list(gradients.values())) if gradients else order
    ids = {node: f"n{i}" for i, node in enumerate(nodes)}
    outputs = set(roots)

    lines = ["digraph needle {", '  node [shape=box, fontname="Helvetica", fontsize=10];']
    for node in nodes:
        attributes = [f'label="{_escape(_label(node))}"'] + _style(node, node in forward, node in outputs)
        lines.append(f"  {ids[node]} [{', '.join(attributes)}];")
    for node in nodes:
        is_adjoint = node not in forward
        for inp in node.inputs:
            colour = ' [color="red"]' if is_adjoint and inp in forward else ""
            lines.append(f"  {ids[inp]} -> {ids[node]}{colour};")
    for leaf, gradient in gradients.items():
        lines.append(f'  {ids[gradient]} -> {ids[leaf]} [style=dotted, label="grad", constraint=false];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _leaf_gradients(roots, order):
    """{leaf: its adjoint}, built as a recorded graph, for the leaves in `order` that require grad."""
    if not all(isinstance(root, Tensor) for root in roots):
        raise TypeError("to_dot: include_backward needs Tensor outputs (not TensorTuples)")
    leaves = [node for node in order if node.op is None and node.requires_grad]
    if not leaves:
        return {}
    with enable_grad():
        adjoints = grad(roots, leaves, create_graph=True)
    return dict(zip(leaves, adjoints))


def _label(node):
    lines = [_op_text(node), _data_text(node.cached_data)]
    origin = origin_of(node, file_name_only=True)
    if origin is not None:
        lines.append(origin)
    return "\n".join(lines)


def _op_text(node):
    if node.op is None:
        return "leaf (requires grad)" if node.requires_grad else "constant"
    parameters = [
        f"{name}={value!r}" for name, value in getattr(node.op, "__dict__", {}).items()
        if not name.startswith("_") and isinstance(value, (bool, int, float, str, tuple, type(None)))
    ]
    name = type(node.op).__name__
    return f"{name}({', '.join(parameters)})" if parameters else name


def _data_text(data):
    if isinstance(data, tuple):
        return "tuple " + ", ".join(f"{a.shape} {a.dtype}" for a in data)
    return f"{data.shape} {data.dtype}"


def _style(node, in_forward, is_output):
    attributes = []
    if node.op is None:
        attributes.append("shape=ellipse")
    styles = []
    if node.op is None and node.requires_grad:
        styles.append("filled")
        attributes.append('fillcolor="lightblue"')
    if not in_forward:
        styles.append("dashed")
    if styles:
        attributes.append(f'style="{",".join(styles)}"')
    if is_output:
        attributes.append("peripheries=2")
    return attributes


def _escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
