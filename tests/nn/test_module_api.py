"""The PyTorch module API: modules, children, apply, to(dtype), requires_grad_, zero_grad,
num_parameters and load_state_dict(strict=)."""
import numpy as np
import pytest

import needle as ndl
from needle import nn


def model():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Residual(nn.Sequential(nn.Linear(4, 4))), nn.BatchNorm1d(4))


def test_modules_and_children_walk_the_tree_as_pytorch():
    net = model()
    modules = net.modules()
    assert modules[0] is net
    assert [type(m).__name__ for m in modules] == [
        "Sequential", "Linear", "ReLU", "Residual", "Sequential", "Linear", "BatchNorm1d",
    ]
    assert [m for _, m in net.named_modules()] == modules
    assert [name for name, _ in net.named_children()] == ["modules.0", "modules.1", "modules.2", "modules.3"]
    assert net.children() == [m for _, m in net.named_children()] == net.modules

    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(2, 2)

    custom = Custom()
    assert custom.modules() == [custom, custom.body]
    assert custom.named_children() == [("body", custom.body)]


def test_apply_visits_children_before_their_parent_and_returns_the_module():
    net = model()
    seen = []
    assert net.apply(seen.append) is net
    assert seen[-1] is net and seen[0] is net.modules[0]
    assert sorted(map(id, seen)) == sorted(map(id, net.modules()))

    def zero_linear(m):
        if isinstance(m, nn.Linear):
            m.weight.data = ndl.Tensor(np.zeros(m.weight.shape, dtype=np.float32))

    net.apply(zero_linear)
    assert all(not m.weight.numpy().any() for m in net.modules() if isinstance(m, nn.Linear))


def test_to_casts_parameters_buffers_and_grads_in_place():
    net = model()
    weight = net.modules[0].weight
    net(np.ones((2, 3), dtype=np.float32)).sum().backward()
    assert net.to("float64") is net
    assert net.modules[0].weight is weight  # the same Parameter, as an optimizer holds it
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in net.parameters())
    assert all(b.dtype == np.float64 for _, b in net.named_buffers())
    assert net(np.ones((2, 3))).dtype == np.float64
    with pytest.raises(TypeError, match="Sequential.to: only floating dtypes are allowed, got int32"):
        net.to(np.int32)


def test_requires_grad_freezes_and_unfreezes_every_parameter():
    net = model()
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    net.modules[0].requires_grad_()
    assert [p.requires_grad for p in net.parameters()] == [True, True] + [False] * 4


def test_zero_grad_clears_or_zeroes_the_gradients():
    layer = nn.Linear(2, 2)
    layer(np.ones((1, 2), dtype=np.float32)).sum().backward()
    layer.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in layer.parameters())
    layer.zero_grad()
    assert all(p.grad is None for p in layer.parameters())


def test_num_parameters_counts_entries_once():
    shared = nn.Linear(3, 4)
    assert nn.Sequential(shared, nn.ReLU(), shared).num_parameters() == 3 * 4 + 4
    assert model().num_parameters() == (12 + 4) + (16 + 4) + (4 + 4)


def test_load_state_dict_returns_pytorchs_incompatible_keys():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    state = {"weight": np.ones((2, 2)), "extra": np.zeros(1)}
    result = ours.load_state_dict(state, strict=False)
    expected = theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()}, strict=False)
    assert result == tuple(expected)
    assert result.missing_keys == expected.missing_keys and result.unexpected_keys == expected.unexpected_keys
    assert ours.load_state_dict(ours.state_dict()) == ([], [])


def test_load_state_dict_strict_false_loads_the_matching_keys():
    net = model()
    result = net.load_state_dict({"modules.0.bias": np.full((1, 4), 2.0), "modules.3.running_var": np.full(4, 3.0),
                                  "head.weight": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(net.modules[0].bias.numpy(), 2.0)
    np.testing.assert_array_equal(net.modules[3].running_var.numpy(), 3.0)
    assert net.modules[0].bias.dtype == np.float32
    assert result.unexpected_keys == ["head.weight"]
    assert "modules.0.weight" in result.missing_keys and "modules.3.running_mean" in result.missing_keys


def test_load_state_dict_names_every_problem_and_changes_nothing():
    net = model()
    before = {name: t.numpy().copy() for name, t in net.state_dict().items()}
    state = {name: np.full(t.shape, 5.0) for name, t in net.state_dict().items()}
    del state["modules.0.bias"]
    state["modules.3.running_mean"] = np.zeros(5)
    state["extra"] = np.zeros(1)
    with pytest.raises(ValueError) as error:
        net.load_state_dict(state)
    assert str(error.value) == (
        "Error(s) in loading state_dict for Sequential:\n"
        '\tMissing key(s) in state_dict: "modules.0.bias".\n'
        '\tUnexpected key(s) in state_dict: "extra".\n'
        "\tsize mismatch for modules.3.running_mean: copying a param with shape (5,) from checkpoint, "
        "the shape in current model is (4,)."
    )
    with pytest.raises(ValueError, match="size mismatch for modules.3.running_mean"):
        net.load_state_dict(state, strict=False)  # a size mismatch fails even when not strict
    for name, t in net.state_dict().items():
        np.testing.assert_array_equal(t.numpy(), before[name])


def test_module_methods_reject_unknown_keywords():
    with pytest.raises(TypeError):
        nn.Linear(2, 2).load_state_dict({}, stric=False)
    with pytest.raises(TypeError):
        nn.Linear(2, 2, biass=False)


@pytest.mark.parametrize("value", [np.ones((3, 2), dtype=np.float32), 1.0, [[1.0, 2.0]] * 3])
def test_a_parameter_cannot_be_replaced_by_an_array_or_a_number(value):
    layer = nn.Linear(3, 2)
    with pytest.raises(TypeError, match=r"Linear: cannot assign a (ndarray|float|list) as parameter 'weight'"):
        layer.weight = value
    assert isinstance(layer.weight, nn.Parameter) and len(layer.parameters()) == 2
    layer.weight = nn.Parameter(np.zeros((3, 2), dtype=np.float32))  # a Parameter is fine
    layer.bias = None
    assert len(layer.parameters()) == 1
