"""apps/models.py's CNNs (ResNet9 and MnistCNN) and simple_ml's CIFAR-10 epoch, train and evaluate
functions, on a generated CIFAR-shaped set."""
import numpy as np
import pytest

import needle as ndl
import needle.nn as nn
from apps.models import ConvBN, MnistCNN, ResNet9
from apps.simple_ml import epoch_general_cifar10, evaluate_cifar10, train_cifar10
from tests.data.cifar10_files import write_set


def _count(model):
    return sum(p.numpy().size for p in model.parameters())


def _images(shape, seed=0):
    return ndl.Tensor(np.random.default_rng(seed).random(shape, dtype=np.float32), requires_grad=False)


@pytest.fixture(scope="module")
def cifar_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cifar10")
    write_set(folder, "python", per_batch=16, test=24)
    return folder


def test_resnet9_has_the_contract_parameter_count_and_layer_order():
    model = ResNet9()
    assert _count(model) == 431_946
    kinds = [type(m).__name__ for m in model.model.modules]
    assert kinds == ["Sequential", "Sequential", "Residual", "Sequential", "Sequential", "Residual", "Flatten",
                     "Linear", "ReLU", "Linear"]
    first = model.model.modules[0]
    assert [type(m) for m in first.modules] == [nn.Conv, nn.BatchNorm2d, nn.ReLU]
    assert first.modules[0].weight.shape == (7, 7, 3, 16) and first.modules[0].stride == 4
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_resnet9_maps_a_batch_of_cifar_images_to_ten_logits_and_refuses_other_shapes():
    np.random.seed(0)
    model = ResNet9()
    logits = model(_images((2, 3, 32, 32)))
    assert logits.shape == (2, 10) and logits.dtype == np.float32
    with pytest.raises(ValueError, match=r"ResNet9: input must be \(N, 3, 32, 32\), got \(2, 1, 28, 28\)"):
        model(_images((2, 1, 28, 28)))


def test_conv_bn_is_conv_batchnorm_relu():
    block = ConvBN(3, 8, 3, 2)
    assert [type(m) for m in block.modules] == [nn.Conv, nn.BatchNorm2d, nn.ReLU]
    out = block(_images((2, 3, 9, 9)))
    assert out.shape == (2, 8, 5, 5) and out.numpy().min() >= 0


def test_resnet9_matches_pytorch_given_the_same_weights():
    torch = pytest.importorskip("torch")
    from benchmarks.resnet9 import torch_model

    np.random.seed(1)
    model = ResNet9()
    theirs = torch_model(model)
    x = np.random.default_rng(2).random((4, 3, 32, 32), dtype=np.float32)
    labels = np.array([1, 0, 9, 3])
    loss = nn.SoftmaxLoss()(model(ndl.Tensor(x)), ndl.Tensor(labels))
    loss.backward(create_graph=False)
    expected = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(labels))
    expected.backward()
    np.testing.assert_allclose(float(loss.numpy()), expected.item(), rtol=1e-4)
    first_conv = next(theirs.parameters())
    grad = model.model.modules[0].modules[0].weight.grad.numpy().transpose(3, 2, 0, 1)
    expected_grad = first_conv.grad.numpy()
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-3, atol=1e-4 * np.abs(expected_grad).max())


def test_resnet9_state_dict_round_trips_through_a_file(tmp_path):
    np.random.seed(3)
    model = ResNet9()
    model(_images((4, 3, 32, 32)))  # a training pass moves the running statistics
    ndl.save(model.state_dict(), tmp_path / "resnet9.npz")
    np.random.seed(4)
    copy = ResNet9()
    copy.load_state_dict(ndl.load(tmp_path / "resnet9.npz"))
    x = _images((3, 3, 32, 32), seed=5)
    np.testing.assert_array_equal(model.eval()(x).numpy(), copy.eval()(x).numpy())


def test_mnist_cnn_has_two_conv_blocks_pooling_and_a_linear_head():
    model = MnistCNN()
    kinds = [type(m).__name__ for m in model.model.modules]
    assert kinds == ["Sequential", "MaxPool2d", "Sequential", "MaxPool2d", "Flatten", "Linear", "ReLU", "Dropout",
                     "Linear"]
    assert model.model.modules[7].p == 0.25
    assert _count(model) == (9 * 16 + 16 + 32) + (9 * 16 * 32 + 32 + 64) + (32 * 7 * 7 * 128 + 128) + (128 * 10 + 10)
    assert model(_images((3, 1, 28, 28))).shape == (3, 10)
    with pytest.raises(ValueError, match=r"MnistCNN: input must be \(N, 1, 28, 28\), got \(3, 784\)"):
        model(_images((3, 784)))
    assert MnistCNN(in_channels=3, side=32, num_classes=4)(_images((2, 3, 32, 32))).shape == (2, 4)


def test_mnist_cnn_learns_a_small_problem():
    np.random.seed(0)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 64)
    images = rng.random((64, 1, 12, 12), dtype=np.float32) * 0.5
    images[labels == 1, :, :6] += 0.5  # class 1 has a bright top half
    model = MnistCNN(side=12, num_classes=2, width=4, hidden=16, dropout=0.0)
    opt = ndl.optim.Adam(model.parameters(), lr=0.01)
    X, y = ndl.Tensor(images, requires_grad=False), ndl.Tensor(labels)
    for _ in range(15):
        loss = nn.SoftmaxLoss()(model(X), y)
        opt.reset_grad()
        loss.backward(create_graph=False)
        opt.step()
    model.eval()
    assert (model(X).numpy().argmax(axis=1) == labels).mean() >= 0.95


def test_train_and_evaluate_cifar10_return_accuracy_and_mean_loss(cifar_folder):
    np.random.seed(0)
    model = ResNet9()
    train_set = ndl.data.CIFAR10Dataset(cifar_folder, train=True)
    test_set = ndl.data.CIFAR10Dataset(cifar_folder, train=False)
    loader = ndl.data.DataLoader(train_set, batch_size=40, shuffle=True)
    acc, loss = train_cifar10(model, loader, n_epochs=2, lr=0.002)
    assert model.training
    assert 0.0 <= acc <= 1.0 and np.isfinite(loss) and loss > 0
    test_acc, test_loss = evaluate_cifar10(model, ndl.data.DataLoader(test_set, batch_size=16))
    assert not model.training
    assert 0.0 <= test_acc <= 1.0 and np.isfinite(test_loss)
    again = evaluate_cifar10(model, ndl.data.DataLoader(test_set, batch_size=24))
    np.testing.assert_allclose(again, (test_acc, test_loss), rtol=1e-5)  # eval changes nothing


def test_epoch_general_cifar10_seeds_the_rng_and_counts_per_sample(cifar_folder):
    test_set = ndl.data.CIFAR10Dataset(cifar_folder, train=False)
    np.random.seed(0)
    model = ResNet9().eval()
    X, y = ndl.Tensor(test_set.X), ndl.Tensor(test_set.y)
    with ndl.no_grad():
        logits = model(X)
        loss = float(nn.SoftmaxLoss()(logits, y).numpy())
    acc = float((logits.numpy().argmax(axis=1) == test_set.y).mean())
    np.random.seed(123)
    result = epoch_general_cifar10(ndl.data.DataLoader(test_set, batch_size=10), model)
    np.testing.assert_allclose(result, (acc, loss), rtol=1e-5)  # batches of 10, 10 and 4 weigh by size
    first_draw = np.random.rand()
    np.random.seed(4)  # the epoch seeded 4 first; an unshuffled loader and an eval pass draw nothing
    assert first_draw == np.random.rand()


def test_train_cifar10_makes_the_optimizer_it_is_given():
    made = []

    class Recording(ndl.optim.SGD):
        def __init__(self, params, lr, weight_decay):
            made.append((lr, weight_decay))
            super().__init__(params, lr=lr, weight_decay=weight_decay)

    X = np.random.default_rng(0).random((8, 3, 32, 32), dtype=np.float32)
    loader = ndl.data.DataLoader(ndl.data.NDArrayDataset(X, np.arange(8) % 10), batch_size=8)
    np.random.seed(0)
    train_cifar10(ResNet9(), loader, n_epochs=1, optimizer=Recording, lr=0.5, weight_decay=0.25)
    assert made == [(0.5, 0.25)]
    with pytest.raises(ValueError, match="train_cifar10: n_epochs must be at least 1, got 0"):
        train_cifar10(ResNet9(), loader, n_epochs=0)
