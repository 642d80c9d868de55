"""Module: finding parameters and submodules, train/eval, state dicts."""
import numpy as np
import pytest

import needle as ndl
from needle import init, nn


class Holder(nn.Module):
    """Parameters and modules in every place a Module looks: attributes, dicts, lists, tuples."""

    def __init__(self):
        super().__init__()
        self.first = nn.Parameter(init.ones(2))
        self.layers = [nn.Linear(2, 3), nn.ReLU()]
        self.table = {"norm": nn.BatchNorm1d(3), "scale": nn.Parameter(init.ones(3))}
        self.pair = (nn.Identity(), nn.Linear(3, 1, bias=False))
        self.note = "not a member"
        self.plain = init.zeros(2)  # a plain Tensor is neither a parameter nor a buffer

    def forward(self, x):
        return x


def test_a_layer_keeps_its_initialised_weights_without_a_copy():
    drawn = init.rand(3, 2)
    weight = nn.Parameter.initialized(drawn)
    assert type(weight) is nn.Parameter and weight.requires_grad and weight.is_leaf()
    assert weight.cached_data is drawn.cached_data  # Parameter(drawn) would copy
    copied = nn.Parameter(drawn)
    assert copied.requires_grad and not np.shares_memory(copied.numpy(), drawn.numpy())


def test_parameters_follow_attribute_order_through_containers():
    holder = Holder()
    names = [name for name, _ in holder.named_parameters()]
    assert names == [
        "first", "layers.0.weight", "layers.0.bias", "table.norm.weight", "table.norm.bias",
        "table.scale", "pair.1.weight",
    ]
    assert holder.parameters() == [p for _, p in holder.named_parameters()]
    assert all(isinstance(p, nn.Parameter) for p in holder.parameters())


def test_a_shared_parameter_or_module_is_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(model.parameters()) == 2
    assert [name for name, _ in model.named_parameters()] == ["modules.0.weight", "modules.0.bias"]


def test_children_are_the_direct_submodules():
    holder = Holder()
    children = holder.children()
    assert [type(m).__name__ for m in children] == ["Linear", "ReLU", "BatchNorm1d", "Identity", "Linear"]
    nested = nn.Sequential(nn.Sequential(nn.ReLU()), nn.Identity())
    assert len(nested.children()) == 2


def test_train_and_eval_reach_every_module_and_return_it():
    model = nn.Sequential(Holder(), nn.Residual(nn.Sequential(nn.Dropout(0.5))))
    everything = [module for _, module in model.named_modules()]
    assert len(everything) == 10  # Sequential, Holder and its 5, Residual, Sequential, Dropout
    assert model.eval() is model
    assert not any(module.training for module in everything)
    assert model.train() is model
    assert all(module.training for module in everything)


def test_call_forwards_positional_and_keyword_arguments():
    class Affine(nn.Module):
        def forward(self, x, shift=0.0):
            return x * 2.0 + shift

    out = Affine()(ndl.Tensor([1.0, 2.0]), shift=1.0)
    np.testing.assert_array_equal(out.numpy(), [3.0, 5.0])


def test_forward_of_the_base_class_raises_naming_the_module():
    class Empty(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty.forward"):
        Empty()(ndl.Tensor([1.0]))


def test_a_module_without_super_init_is_still_in_training_mode():
    class Bare(nn.Module):
        def __init__(self):
            self.linear = nn.Linear(2, 2)

    assert Bare().training is True
    assert len(Bare().parameters()) == 2


def test_zero_grad_clears_every_gradient():
    model = nn.Linear(3, 2)
    model(init.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_state_dict_has_dotted_names_and_batchnorm_buffers():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    state = model.state_dict()
    assert list(state) == [
        "modules.0.weight", "modules.0.bias", "modules.1.weight", "modules.1.bias",
        "modules.1.running_mean", "modules.1.running_var",
    ]
    np.testing.assert_array_equal(state["modules.1.running_var"].numpy(), np.ones(3))
    assert all(t.dtype == np.float32 and not t.requires_grad for t in state.values())


def test_state_dict_is_a_copy():
    model = nn.Linear(2, 2)
    state = model.state_dict()
    kept = state["weight"].numpy().copy()
    model.weight.numpy()[...] = 5.0
    np.testing.assert_array_equal(state["weight"].numpy(), kept)


def test_load_state_dict_round_trip_restores_parameters_and_buffers():
    source = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    source(init.randn(5, 4))  # moves the running statistics
    target = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    weight = target.modules[0].weight
    target.load_state_dict(source.state_dict())
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert target.modules[0].weight is weight  # same Parameter object, so optimizers keep working
    x = init.randn(5, 4)
    np.testing.assert_array_equal(source.eval()(x).numpy(), target.eval()(x).numpy())


def test_load_state_dict_accepts_arrays_and_keeps_the_module_dtype():
    model = nn.Linear(2, 3)
    model.load_state_dict({"weight": np.ones((2, 3)), "bias": np.zeros((1, 3))})
    assert model.weight.dtype == np.float32
    np.testing.assert_array_equal(model.weight.numpy(), 1.0)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda state: state.pop("bias"), r'\n\tMissing key\(s\) in state_dict: "bias"\.$'),
        (lambda state: state.update(extra=np.zeros(1)), r'\n\tUnexpected key\(s\) in state_dict: "extra"\.$'),
        (lambda state: state.update(weight=np.zeros((3, 2))),
         r"\n\tsize mismatch for weight: copying a param with shape \(3, 2\) from checkpoint, "
         r"the shape in current model is \(2, 3\)\.$"),
    ],
    ids=["missing", "unexpected", "shape"],
)
def test_load_state_dict_errors_leave_the_module_unchanged(change, message):
    model = nn.Linear(2, 3)
    before = {name: t.numpy().copy() for name, t in model.state_dict().items()}
    state = {name: np.full(t.shape, 9.0) for name, t in model.state_dict().items()}
    change(state)
    with pytest.raises(ValueError, match="^Error\\(s\\) in loading state_dict for Linear:" + message):
        model.load_state_dict(state)
    for name, t in model.state_dict().items():
        np.testing.assert_array_equal(t.numpy(), before[name])
