"""ModuleList and ModuleDict: list and dict behaviour, and registration of what they hold."""
import copy
import gc
import pickle
import weakref

import numpy as np
import pytest

import needle as ndl
from needle import nn


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(2, 3), nn.ReLU()])
        self.heads = nn.ModuleDict({"a": nn.Linear(3, 1), "b": nn.Linear(3, 2, bias=False)})

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return {key: head(x) for key, head in self.heads.items()}


def test_held_modules_are_registered_under_pytorch_names():
    model = Stack()
    assert [name for name, _ in model.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "heads.a.weight", "heads.a.bias", "heads.b.weight",
    ]
    assert list(model.state_dict()) == [name for name, _ in model.named_parameters()]
    assert [name for name, _ in model.named_modules()] == ["", "layers", "layers.0", "layers.1", "heads", "heads.a", "heads.b"]
    model.eval()
    assert not any(m.training for m in model.modules())
    out = model(ndl.Tensor(np.ones((4, 2))))
    assert out["a"].shape == (4, 1) and out["b"].shape == (4, 2)


def test_module_list_behaves_as_a_list():
    first, second, third = nn.Linear(1, 1), nn.ReLU(), nn.Tanh()
    layers = nn.ModuleList([first])
    assert layers.append(second) is layers
    layers.extend([third])
    layers.insert(0, nn.Identity())
    assert len(layers) == 4 and layers[1] is first and layers[-1] is third
    assert list(layers) == [layers[0], first, second, third]
    part = layers[1:3]
    assert isinstance(part, nn.ModuleList) and list(part) == [first, second]
    layers[0] = nn.Sigmoid()
    del layers[0]
    assert list(layers) == [first, second, third]
    layers += [nn.Identity()]
    assert len(layers) == 4 and isinstance(layers[3], nn.Identity)
    assert [name for name, _ in layers.named_parameters()] == ["0.weight", "0.bias"]


def test_module_list_after_insertion_renames_parameters_by_position():
    layers = nn.ModuleList([nn.Linear(1, 1, bias=False)])
    layers.insert(0, nn.Linear(1, 1, bias=False))
    assert [name for name, _ in layers.named_parameters()] == ["0.weight", "1.weight"]


def test_module_dict_behaves_as_a_dict():
    heads = nn.ModuleDict([("x", nn.ReLU())])
    heads["y"] = nn.Linear(2, 2)
    heads.update({"z": nn.Tanh()})
    assert list(heads) == list(heads.keys()) == ["x", "y", "z"]
    assert "y" in heads and len(heads) == 3
    assert isinstance(heads.pop("x"), nn.ReLU)
    del heads["z"]
    assert [type(m).__name__ for m in heads.values()] == ["Linear"]
    assert len(heads.parameters()) == 2


def test_containers_reject_what_is_not_a_module():
    with pytest.raises(TypeError, match="ModuleList: expected a Module, got function"):
        nn.ModuleList([lambda x: x])
    with pytest.raises(TypeError, match="ModuleDict: keys must be strings, got int"):
        nn.ModuleDict({1: nn.ReLU()})
    with pytest.raises(TypeError, match="ModuleDict: expected a Module, got Tensor"):
        nn.ModuleDict({"w": ndl.Tensor(np.ones(2))})


def test_a_module_list_has_no_forward():
    with pytest.raises(NotImplementedError, match="ModuleList.forward is not defined"):
        nn.ModuleList([nn.ReLU()])(ndl.Tensor(np.ones(2)))


def test_sequential_indexes_and_iterates_like_pytorchs():
    first, second = nn.Linear(2, 2), nn.ReLU()
    model = nn.Sequential(first, second)
    assert model[0] is first and model[-1] is second and len(model) == 2 and list(model) == [first, second]
    assert isinstance(model[1:], nn.Sequential) and model[1:].modules == [second]
    assert model.modules == [first, second]  # the course's list is still there


def test_a_copied_or_pickled_sequential_lists_its_own_modules():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert clone.modules()[0] is clone
        assert clone.modules()[1] is clone.modules[0] and clone.modules[0] is not model.modules[0]


def test_a_dropped_sequential_is_freed_without_the_cycle_collector():
    """A Sequential is no reference cycle: its weights go when its last reference does (workload 3
    builds a model per call, and a cycle kept each one's weights until the collector ran)."""
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    alive = weakref.ref(model)
    collecting = gc.isenabled()
    gc.disable()
    try:
        del model
        assert alive() is None
    finally:
        if collecting:
            gc.enable()
