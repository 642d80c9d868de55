"""mlp_resnet: the blocks' structure and arithmetic, the epoch function, and train_mnist."""
import os

import numpy as np

import needle as ndl
import needle.nn as nn
from needle.cli.download import TEST_FILES, TRAIN_FILES
from apps.mlp_resnet import MLPResNet, ResidualBlock, epoch, train_mnist


def _types(sequential):
    return [type(m) for m in sequential.modules]


def _spiral_loader(batch_size=50, shuffle=False):
    X, y = ndl.data.make_spiral(60, num_classes=3, seed=0)
    return ndl.data.DataLoader(ndl.data.NDArrayDataset(X, y), batch_size, shuffle=shuffle)


def _state(model):
    return [p.numpy().copy() for p in model.parameters()]


def test_residual_block_is_built_as_the_contract_says():
    block = ResidualBlock(8, 4)
    assert _types(block) == [nn.Residual, nn.ReLU]
    inner = block.modules[0].fn
    assert _types(inner) == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout, nn.Linear, nn.BatchNorm1d]
    assert inner.modules[0].weight.shape == (8, 4) and inner.modules[4].weight.shape == (4, 8)
    assert inner.modules[3].p == 0.1


def test_residual_block_computes_relu_of_input_plus_branch():
    block = ResidualBlock(6, 3, norm=nn.LayerNorm1d, drop_prob=0.5).eval()
    x = ndl.Tensor(np.random.randn(5, 6).astype(np.float32))
    branch = block.modules[0].fn(x).numpy()
    out = block(x)
    assert out.shape == (5, 6) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), np.maximum(x.numpy() + branch, 0), rtol=1e-6, atol=1e-6)


def test_mlp_resnet_has_the_contract_layers_and_parameter_count():
    dim, hidden, blocks, classes = 15, 20, 2, 7
    model = MLPResNet(dim, hidden_dim=hidden, num_blocks=blocks, num_classes=classes)
    assert _types(model) == [nn.Linear, nn.ReLU] + [nn.Sequential] * blocks + [nn.Linear]
    half = hidden // 2
    per_block = (hidden * half + half) + 2 * half + (half * hidden + hidden) + 2 * hidden
    expected = (dim * hidden + hidden) + blocks * per_block + (hidden * classes + classes)
    assert sum(p.numpy().size for p in model.parameters()) == expected
    assert model(ndl.Tensor(np.zeros((4, dim), dtype=np.float32))).shape == (4, classes)


def test_mlp_resnet_draws_its_weights_in_execution_order():
    np.random.seed(7)
    model = MLPResNet(10, hidden_dim=8, num_blocks=1)
    np.random.seed(7)
    first_weight = ndl.init.kaiming_uniform(10, 8)
    first_bias = ndl.init.kaiming_uniform(8, 1)
    block_weight = ndl.init.kaiming_uniform(8, 4)
    weights = model.parameters()
    np.testing.assert_array_equal(weights[0].numpy(), first_weight.numpy())
    np.testing.assert_array_equal(weights[1].numpy().ravel(), first_bias.numpy().ravel())
    np.testing.assert_array_equal(weights[2].numpy(), block_weight.numpy())


def test_epoch_training_lowers_the_error_and_evaluation_changes_nothing():
    model = MLPResNet(2, hidden_dim=32, num_blocks=1, num_classes=3)
    opt = ndl.optim.Adam(model.parameters(), lr=0.01)
    loader = _spiral_loader()
    before = epoch(loader, model)
    weights = _state(model)
    assert epoch(loader, model) == before
    for left, right in zip(weights, _state(model)):
        np.testing.assert_array_equal(left, right)
    shuffled = _spiral_loader(shuffle=True)  # the rows are grouped by class
    for _ in range(15):
        epoch(shuffled, model, opt)
    error, loss = epoch(loader, model)
    assert 0.0 <= error < before[0] / 2 and loss < before[1]
    assert model.training is False


def test_epoch_seeds_the_global_rng_with_4_first():
    results = []
    for outside_seed in (1, 2):
        np.random.seed(0)
        model = MLPResNet(2, hidden_dim=16, num_blocks=1, num_classes=3, drop_prob=0.5)
        opt = ndl.optim.SGD(model.parameters(), lr=0.1)
        np.random.seed(outside_seed)
        results.append((epoch(_spiral_loader(shuffle=True), model, opt), _state(model)))
    assert results[0][0] == results[1][0]
    for left, right in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(left, right)


def test_epoch_flattens_images_and_averages_the_loss_over_samples():
    X = np.random.rand(7, 2, 2).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2, 0])
    model = nn.Linear(4, 3)
    loader = ndl.data.DataLoader(ndl.data.NDArrayDataset(X, y), batch_size=3)  # batches 3, 3, 1
    error, loss = epoch(loader, model)
    logits = X.reshape(7, 4) @ model.weight.numpy() + model.bias.numpy().reshape(1, 3)
    per_sample = np.log(np.exp(logits).sum(axis=1)) - logits[np.arange(7), y]
    np.testing.assert_allclose(loss, per_sample.mean(), rtol=1e-5)
    assert error == np.mean(logits.argmax(axis=1) != y)


def test_train_mnist_reads_the_four_files_and_reports_train_and_test(tmp_path, mnist_dir):
    for name, source in zip(TRAIN_FILES + TEST_FILES, TEST_FILES + TEST_FILES):
        os.symlink(mnist_dir / source, tmp_path / name)  # the t10k set stands in for the train set
    train_error, train_loss, test_error, test_loss = train_mnist(
        batch_size=200, epochs=1, lr=0.01, hidden_dim=16, data_dir=str(tmp_path)
    )
    assert 0.0 < test_error < 0.25 and 0.0 < train_error < 0.5
    assert 0.0 < test_loss < 0.7 and train_loss > test_loss


def test_untrained_mlp_resnet_on_the_test_set_matches_the_course_reference(mnist_dir):
    np.random.seed(1)
    test_set = ndl.data.MNISTDataset(*(str(mnist_dir / name) for name in TEST_FILES))
    model = MLPResNet(784, 10).eval()
    error, loss = epoch(ndl.data.DataLoader(test_set, batch_size=150), model)
    np.testing.assert_allclose([error, loss], [0.9164, 4.137814], rtol=1e-5, atol=1e-5)
