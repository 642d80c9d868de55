"""Module.__repr__: the module tree printed as PyTorch prints it."""
import pytest

from needle import init, nn


def test_leaves_print_their_arguments():
    assert repr(nn.Linear(3, 2)) == "Linear(in_features=3, out_features=2, bias=True)"
    assert repr(nn.Linear(3, 2, bias=False)) == "Linear(in_features=3, out_features=2, bias=False)"
    assert repr(nn.BatchNorm1d(4)) == "BatchNorm1d(4, eps=1e-05, momentum=0.1)"
    assert repr(nn.LayerNorm1d(4, eps=1e-3)) == "LayerNorm1d(4, eps=0.001)"
    assert repr(nn.Dropout(0.1)) == "Dropout(p=0.1)"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.MSELoss()) == "MSELoss()"


def test_a_nested_model_prints_as_a_tree():
    model = nn.Sequential(
        nn.Linear(3, 4), nn.ReLU(), nn.Residual(nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.2))), nn.Linear(4, 2)
    )
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Residual(\n"
        "    (fn): Sequential(\n"
        "      (0): Linear(in_features=4, out_features=4, bias=True)\n"
        "      (1): Dropout(p=0.2)\n"
        "    )\n"
        "  )\n"
        "  (3): Linear(in_features=4, out_features=2, bias=True)\n"
        ")"
    )
    assert str(model) == repr(model)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 8)
        self.act = nn.GELU(approximate="tanh")
        self.blocks = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)] + [nn.SiLU()])
        self.heads = nn.ModuleDict({"score": nn.Linear(8, 1), "probs": nn.Softmax(dim=-1)})
        self.loss = nn.CrossEntropyLoss()


def test_a_model_prints_like_its_pytorch_twin():
    torch = pytest.importorskip("torch")

    class TorchMLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = torch.nn.Linear(3, 8)
            self.act = torch.nn.GELU(approximate="tanh")
            self.blocks = torch.nn.ModuleList([torch.nn.Linear(8, 8) for _ in range(3)] + [torch.nn.SiLU()])
            self.heads = torch.nn.ModuleDict({"score": torch.nn.Linear(8, 1), "probs": torch.nn.Softmax(dim=-1)})
            self.loss = torch.nn.CrossEntropyLoss()

    assert repr(MLP()).replace("MLP(", "TorchMLP(", 1) == repr(TorchMLP())
    for ours, theirs in [
        (nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Sigmoid(), nn.Identity(), nn.Sequential()),
         torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh(), torch.nn.Sigmoid(), torch.nn.Identity(),
                             torch.nn.Sequential())),
        (nn.ELU(alpha=0.5), torch.nn.ELU(alpha=0.5)), (nn.Softplus(), torch.nn.Softplus()),
        (nn.GELU(), torch.nn.GELU()), (nn.LogSoftmax(1), torch.nn.LogSoftmax(1)),
        (nn.HuberLoss(), torch.nn.HuberLoss()), (nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss()),
    ]:
        assert repr(ours) == repr(theirs)
    # needle's layers have fewer options than PyTorch's, and print only those they have
    assert repr(torch.nn.BatchNorm1d(4)).startswith(repr(nn.BatchNorm1d(4))[:-1] + ",")
    assert repr(torch.nn.Dropout(0.1)).startswith(repr(nn.Dropout(0.1))[:-1] + ",")


def test_a_module_list_folds_runs_of_equal_layers_as_pytorch_does():
    layers = nn.ModuleList([nn.ReLU(), nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()])
    assert repr(layers) == (
        "ModuleList(\n"
        "  (0): ReLU()\n"
        "  (1-2): 2 x Linear(in_features=2, out_features=2, bias=True)\n"
        "  (3): ReLU()\n"
        ")"
    )


def test_a_custom_leaf_with_parameters_lists_their_shapes():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.gain = nn.Parameter(init.ones(3, 2))
            self.shift = nn.Parameter(init.zeros(2, dtype="float64"))

    assert repr(Scale()) == (
        "Scale(\n"
        "  (gain): Parameter containing: [float32 of size 3x2]\n"
        "  (shift): Parameter containing: [float64 of size 2]\n"
        ")"
    )


def test_a_multi_line_extra_repr_is_indented():
    class Note(nn.Module):
        def extra_repr(self):
            return "first\nsecond"

    assert repr(nn.Sequential(Note())) == "Sequential(\n  (0): Note(\n    first\n    second\n  )\n)"
    assert repr(Note()) == "Note(\n  first\n  second\n)"
