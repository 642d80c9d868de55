"""ndl.viz.to_dot: DOT text with one node per graph node, one edge per input, and the adjoint graph."""
import inspect
import os
import re

import numpy as np
import pytest

import needle as ndl
from needle.autograd import find_topo_sort

NODE = re.compile(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$')
EDGE = re.compile(r"^  (n\d+) -> (n\d+)(?: \[(.*)\])?;$")


def parse(dot):
    """({id: (label, attributes)}, [(source, target, attributes)]); fails on any other line."""
    lines = dot.splitlines()
    assert lines[0] == "digraph needle {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[2:-1]:
        node, edge = NODE.match(line), EDGE.match(line)
        if node:
            assert node.group(1) not in nodes, f"{node.group(1)} declared twice"
            nodes[node.group(1)] = (node.group(2).replace("\\n", "\n"), node.group(3))
        else:
            assert edge, f"not a node or an edge: {line!r}"
            assert edge.group(1) in nodes and edge.group(2) in nodes, f"edge to an undeclared node: {line}"
            edges.append((edge.group(1), edge.group(2), edge.group(3) or ""))
    return nodes, edges


@pytest.fixture
def small_graph():
    x = ndl.Tensor(np.ones((2, 3), dtype=np.float32))
    w = ndl.Tensor(np.full((3,), 0.5, dtype=np.float32))
    c = ndl.Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=False)
    y = (ndl.exp(x * ndl.broadcast_to(w, (2, 3))) + c).sum()
    return x, w, c, y


def test_forward_graph_has_one_node_per_value_and_one_edge_per_input(small_graph):
    *_, y = small_graph
    nodes, edges = parse(ndl.viz.to_dot(y))
    graph = find_topo_sort([y])
    assert len(nodes) == len(graph)
    assert len(edges) == sum(len(node.inputs) for node in graph)
    assert not any("dashed" in attributes or "grad" in attributes for _, attributes in nodes.values())


def test_labels_show_op_shape_and_dtype_and_mark_leaves(small_graph):
    *_, y = small_graph
    nodes, _ = parse(ndl.viz.to_dot(y))
    labels = sorted(label for label, _ in nodes.values())
    assert "Exp\n(2, 3) float32" in labels
    assert "Summation(axes=None, keepdims=False)\n() float32" in labels
    assert "BroadcastTo(shape=(2, 3))\n(2, 3) float32" in labels
    leaves = {label: attributes for label, attributes in nodes.values() if "ellipse" in attributes}
    assert set(leaves) == {"leaf (requires grad)\n(2, 3) float32", "leaf (requires grad)\n(3,) float32",
                           "constant\n(2, 3) float32"}
    assert "filled" in leaves["leaf (requires grad)\n(3,) float32"]
    assert "filled" not in leaves["constant\n(2, 3) float32"]
    (output,) = [label for label, attributes in nodes.values() if "peripheries=2" in attributes]
    assert output.startswith("Summation")


def test_include_backward_draws_the_adjoints_over_the_forward_nodes_they_reuse(small_graph):
    x, w, c, y = small_graph
    forward_nodes, _ = parse(ndl.viz.to_dot(y))
    nodes, edges = parse(ndl.viz.to_dot(y, include_backward=True))
    adjoint_ids = {i for i, (_, attributes) in nodes.items() if "dashed" in attributes}
    assert len(nodes) == len(forward_nodes) + len(adjoint_ids)
    grad_edges = [(source, target) for source, target, attributes in edges if 'label="grad"' in attributes]
    assert len(grad_edges) == 2  # x and w require grad, c does not
    assert all(source in adjoint_ids and "requires grad" in nodes[target][0] for source, target in grad_edges)
    reused = [(source, target) for source, target, attributes in edges if 'color="red"' in attributes]
    assert reused and all(source not in adjoint_ids and target in adjoint_ids for source, target in reused)
    # Exp's adjoint multiplies by the Exp node itself: the forward node feeds the backward graph.
    assert any(nodes[source][0].startswith("Exp") for source, _ in reused)
    assert x.grad is None and w.grad is None


def test_a_constant_tensor_is_one_node_and_several_outputs_share_a_graph():
    nodes, edges = parse(ndl.viz.to_dot(ndl.Tensor([1.0, 2.0], requires_grad=False), include_backward=True))
    assert [label for label, _ in nodes.values()] == ["constant\n(2,) float64"] and not edges
    x = ndl.Tensor(np.ones(3, dtype=np.float32))
    a, b = ndl.exp(x), ndl.log(x)
    nodes, edges = parse(ndl.viz.to_dot([a, b]))
    assert len(nodes) == 3 and len(edges) == 2
    assert sum("peripheries=2" in attributes for _, attributes in nodes.values()) == 2


def test_nodes_made_under_detect_anomaly_show_where_they_were_created():
    x = ndl.Tensor(np.ones(2))
    with ndl.autograd.detect_anomaly():
        line = inspect.currentframe().f_lineno + 1
        y = ndl.exp(x)
    nodes, _ = parse(ndl.viz.to_dot(y))
    expected = f"{os.path.basename(__file__)}:{line} in test_nodes_made_under_detect_anomaly"
    assert any(label.startswith("Exp") and expected in label for label, _ in nodes.values())


def test_to_dot_rejects_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="to_dot: expected a Tensor or a sequence of Tensors"):
        ndl.viz.to_dot(np.ones(2))
