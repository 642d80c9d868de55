"""Devices: the course's names, equality by kind, refusal of devices that are not enabled, and
device=/dtype= on tensors, init functions and every module."""
import copy
import inspect
import pickle

import numpy as np
import pytest

import needle as ndl
import needle.backend_ndarray as nd
from needle import init, nn


def test_device_names_and_reprs():
    assert repr(ndl.cpu()) == str(ndl.cpu()) == "cpu()"
    assert repr(ndl.cuda()) == str(ndl.cuda()) == "cuda()"
    assert ndl.cpu().name == "cpu" and ndl.cuda().name == "cuda"
    assert f"model_{ndl.cpu()}.npz" == "model_cpu().npz"  # the course builds file names this way


def test_cpu_numpy_is_the_same_device_as_cpu():
    assert ndl.cpu_numpy() is ndl.cpu()
    assert ndl.cpu_numpy() == ndl.cpu() and hash(ndl.cpu_numpy()) == hash(ndl.cpu())
    assert nd.cpu() is nd.cpu_numpy() is ndl.cpu() and nd.cuda() is ndl.cuda()


def test_devices_compare_equal_by_kind_only():
    assert ndl.cpu() != ndl.cuda()
    assert type(ndl.cpu())() == ndl.cpu()  # a second object of the CPU kind
    assert ndl.cpu() != "cpu" and ndl.cpu() != None  # noqa: E711
    assert len({ndl.cpu(), ndl.cpu_numpy(), ndl.cuda()}) == 2


def test_enabled_default_and_all_devices():
    assert ndl.cpu().enabled() is True
    assert ndl.cuda().enabled() is False
    assert ndl.default_device() is ndl.cpu()
    assert ndl.all_devices() == [ndl.cpu(), ndl.cuda()]
    assert [d for d in ndl.all_devices() if d.enabled()] == [ndl.cpu()]
    for name in ("cpu", "cpu_numpy", "cuda", "default_device", "all_devices"):
        assert name in ndl.__all__


def test_a_copied_or_pickled_device_is_the_same_object():
    for device in (ndl.cpu(), ndl.cuda()):
        assert copy.deepcopy(device) is device
        assert pickle.loads(pickle.dumps(device)) is device


@pytest.mark.parametrize("device", [ndl.cpu(), ndl.cpu_numpy(), "cpu", "cpu_numpy", None])
def test_tensor_made_on_an_enabled_device_reports_it(device):
    t = ndl.Tensor([1.0, 2.0], device=device)
    assert t.device == ndl.cpu() and t.device == ndl.cpu_numpy()
    assert type(t.cached_data) is np.ndarray  # storage stays a plain NumPy array


@pytest.mark.parametrize("device", [ndl.cuda(), "cuda", "cuda:0"])
def test_tensor_on_a_device_that_is_not_enabled_is_refused_by_name(device):
    with pytest.raises(ValueError, match=r"Tensor: device cuda\(\) is not enabled: needle has no GPU backend"):
        ndl.Tensor([1.0], device=device)


@pytest.mark.parametrize("device", ["gpu", "cuda0", 3, np.float32])
def test_unknown_devices_are_refused(device):
    with pytest.raises(ValueError, match="Tensor: unknown device"):
        ndl.Tensor([1.0], device=device)


def test_op_results_and_gradients_are_on_their_inputs_device():
    x = ndl.Tensor(np.random.randn(3, 4), device=ndl.cpu())
    w = ndl.Tensor(np.random.randn(4, 2), device=ndl.cpu_numpy())
    out = ndl.ops.logsumexp(ndl.relu(x @ w) * 2 + 1, axes=(1,))
    out.sum().backward()
    for t in (x @ w, out, x.grad, w.grad, ndl.stack([x, x], 0), x.reshape((12,)), x.sum()):
        assert t.device == ndl.cpu()
        assert type(t.numpy()) is np.ndarray


def test_to_cpu_and_cuda():
    t = ndl.Tensor([1.0, 2.0])
    assert t.to(ndl.cpu()) is t and t.to("cpu") is t and t.to(device=ndl.cpu_numpy()) is t
    assert t.cpu() is t
    assert t.to(ndl.cpu(), "float64").dtype == np.float64
    with pytest.raises(ValueError, match=r"to: device cuda\(\) is not enabled"):
        t.cuda()
    with pytest.raises(ValueError, match=r"to: device cuda\(\) is not enabled"):
        t.to(ndl.cuda())


def test_tensor_takes_an_ndarray_and_copies_it_into_a_numpy_array():
    source = nd.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=nd.cpu())
    t = ndl.Tensor(source, device=ndl.cpu())
    assert type(t.cached_data) is np.ndarray and t.dtype == np.float32 and t.shape == (2, 3)
    np.testing.assert_array_equal(t.numpy(), source.numpy())
    source[0, 0] = 10.0
    assert t.numpy()[0, 0] == 1.0  # a copy
    transposed = ndl.Tensor(source.permute((1, 0)), dtype="float64")
    assert transposed.dtype == np.float64
    np.testing.assert_array_equal(transposed.numpy(), source.numpy().T)
    assert ndl.Tensor(nd.array([1, 2], dtype="int64")).dtype == np.int64
    (t * t).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), 2 * t.numpy())


def test_device_factories_draw_like_numpy_and_give_ndarrays():
    np.random.seed(3)
    drawn = ndl.cpu().rand(2, 3)
    np.random.seed(3)
    assert isinstance(drawn, nd.NDArray) and drawn.dtype == np.float32
    np.testing.assert_array_equal(drawn.numpy(), np.random.rand(2, 3).astype(np.float32))
    np.random.seed(4)
    normal = ndl.cpu().randn((4,), dtype="float64")
    np.random.seed(4)
    np.testing.assert_array_equal(normal.numpy(), np.random.randn(4))
    np.testing.assert_array_equal(ndl.cpu().zeros(2, 2).numpy(), np.zeros((2, 2)))
    np.testing.assert_array_equal(ndl.cpu().ones(3).numpy(), np.ones(3))
    np.testing.assert_array_equal(ndl.cpu().full((2,), 7.0).numpy(), [7.0, 7.0])
    assert ndl.cpu().empty((2, 5)).shape == (2, 5)
    np.testing.assert_array_equal(ndl.cpu().one_hot(3, nd.array([2, 0])).numpy(), [[0, 0, 1], [1, 0, 0]])
    assert ndl.Tensor(drawn, device=ndl.cpu()).shape == (2, 3)  # the course's init pattern


@pytest.mark.parametrize("factory", ["zeros", "ones", "rand", "randn"])
def test_cuda_factories_are_refused(factory):
    with pytest.raises(ValueError, match=rf"cuda\(\)\.{factory}: the device is not enabled"):
        getattr(ndl.cuda(), factory)(2, 2)


# ---- modules -----------------------------------------------------------------------------------

# The modules of activations, layers, normalization, losses and containers with the arguments
# they need; the other module families check device= through the same Module.__init__.
MODULES = [
    (nn.Identity, ()), (nn.Linear, (3, 2)), (nn.Flatten, ()), (nn.ReLU, ()), (nn.Tanh, ()), (nn.Sigmoid, ()),
    (nn.Sequential, ()), (nn.Residual, (nn.Identity(),)), (nn.Dropout, (0.1,)),
    (nn.Softmax, ()), (nn.LogSoftmax, ()), (nn.GELU, ()), (nn.SiLU, ()), (nn.LeakyReLU, ()), (nn.ELU, ()),
    (nn.Softplus, ()), (nn.LayerNorm1d, (3,)), (nn.BatchNorm1d, (3,)),
    (nn.SoftmaxLoss, ()), (nn.CrossEntropyLoss, ()), (nn.NLLLoss, ()), (nn.BCEWithLogitsLoss, ()),
    (nn.L1Loss, ()), (nn.MSELoss, ()), (nn.HuberLoss, ()), (nn.ModuleList, ()), (nn.ModuleDict, ()),
]


@pytest.mark.parametrize("cls, args", MODULES, ids=[cls.__name__ for cls, _ in MODULES])
def test_every_module_takes_device_and_dtype(cls, args):
    module = cls(*args, device=ndl.cpu(), dtype="float32")
    assert all(p.device == ndl.cpu() and p.dtype == np.float32 for p in module.parameters())
    module = cls(*args, device=ndl.cpu_numpy(), dtype="float64")
    assert all(p.dtype == np.float64 for p in module.parameters())
    with pytest.raises(ValueError, match=rf"{cls.__name__}: device cuda\(\) is not enabled"):
        cls(*args, device=ndl.cuda())
    with pytest.raises(ValueError, match=rf"{cls.__name__}: unknown device 'tpu'"):
        cls(*args, device="tpu")
    with pytest.raises(TypeError, match=rf"{cls.__name__}: parameters and activations need a floating dtype"):
        cls(*args, dtype="int32")
    with pytest.raises(TypeError, match=rf"{cls.__name__}: dtype 'no such type' is not a NumPy dtype"):
        cls(*args, dtype="no such type")


def test_every_exported_module_class_accepts_device_and_dtype():
    for name in nn.__all__:
        cls = getattr(nn, name)
        if isinstance(cls, type) and issubclass(cls, nn.Module):
            parameters = inspect.signature(cls.__init__).parameters
            assert "device" in parameters and "dtype" in parameters, name


def test_a_model_on_the_cpu_trains_one_step():
    model = nn.Sequential(nn.Linear(4, 8, device=ndl.cpu()), nn.ReLU(), nn.Linear(8, 3, device=ndl.cpu()))
    x = init.randn(5, 4, device=ndl.cpu())
    loss = nn.SoftmaxLoss()(model(x), np.array([0, 1, 2, 0, 1]))
    loss.backward()
    assert loss.device == ndl.cpu()
    assert all(p.grad.device == ndl.cpu() for p in model.parameters())
