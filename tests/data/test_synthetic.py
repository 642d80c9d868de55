"""Synthetic datasets: the spiral arms, the noisy line, and the seeded train/val/test split."""
import numpy as np
import pytest

from needle.data import DataLoader, NDArrayDataset, make_linear_regression, make_spiral, train_val_test_split


def assert_global_rng_untouched(make):
    before = np.random.get_state()
    make()
    after = np.random.get_state()
    np.testing.assert_array_equal(after[1], before[1])
    assert after[2] == before[2]


def test_spiral_shapes_dtypes_and_grouped_labels():
    features, labels = make_spiral(points_per_class=50, num_classes=3)
    assert features.shape == (150, 2) and features.dtype == np.float32
    assert labels.shape == (150,) and labels.dtype == np.int64
    np.testing.assert_array_equal(labels, np.repeat([0, 1, 2], 50))


def test_spiral_points_lie_on_their_arms():
    count = 20
    features, labels = make_spiral(points_per_class=count, num_classes=4, noise=0.0)
    radius = np.tile(np.linspace(0.0, 1.0, count), 4)
    angle = 4.0 * (labels + radius)
    expected = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    np.testing.assert_allclose(features, expected, rtol=0, atol=1e-6)


def test_spiral_noise_moves_angles_not_radii():
    features, _ = make_spiral(points_per_class=30, noise=0.5, seed=3)
    clean, _ = make_spiral(points_per_class=30, noise=0.0, seed=3)
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), np.linalg.norm(clean, axis=1), atol=1e-6)
    assert not np.allclose(features, clean)


def test_spiral_is_deterministic_per_seed_and_leaves_the_global_rng_alone():
    first, same = make_spiral(seed=7), make_spiral(seed=7)
    np.testing.assert_array_equal(first[0], same[0])
    assert not np.array_equal(first[0], make_spiral(seed=8)[0])
    assert_global_rng_untouched(lambda: make_spiral(seed=7))


def test_linear_regression_follows_the_line_plus_noise():
    features, targets = make_linear_regression(num_points=400, noise=0.1, seed=2)
    assert features.shape == targets.shape == (400, 1)
    assert features.dtype == targets.dtype == np.float32
    assert -1.0 <= features.min() and features.max() < 1.0
    slope, intercept = np.polyfit(features[:, 0], targets[:, 0], deg=1)
    assert abs(slope - 2.0) < 0.05 and abs(intercept - 5.0) < 0.05
    residual = targets - (2 * features + 5)
    assert 0.08 < residual.std() < 0.12


def test_linear_regression_without_noise_is_exactly_the_line():
    features, targets = make_linear_regression(num_points=10, slope=-3.0, intercept=0.5, noise=0.0)
    np.testing.assert_allclose(targets, -3.0 * features + 0.5, atol=1e-6)


def test_linear_regression_is_deterministic_per_seed_and_leaves_the_global_rng_alone():
    np.testing.assert_array_equal(make_linear_regression(seed=4)[1], make_linear_regression(seed=4)[1])
    assert not np.array_equal(make_linear_regression(seed=4)[1], make_linear_regression(seed=5)[1])
    assert_global_rng_untouched(lambda: make_linear_regression(seed=4))


def test_split_sizes_and_disjoint_cover_with_rows_kept_aligned():
    row_ids = np.arange(50)
    splits = train_val_test_split(row_ids, row_ids * 10, val_fraction=0.2, test_fraction=0.1, seed=1)
    assert all(isinstance(s, NDArrayDataset) for s in splits)
    assert [len(s) for s in splits] == [35, 10, 5]
    ids = [s.arrays[0] for s in splits]
    np.testing.assert_array_equal(np.sort(np.concatenate(ids)), row_ids)
    for split in splits:
        np.testing.assert_array_equal(split.arrays[1], split.arrays[0] * 10)


def test_split_follows_one_permutation_of_its_own_generator():
    row_ids = np.arange(20)
    train, val, test = train_val_test_split(row_ids, val_fraction=0.25, test_fraction=0.25, seed=9)
    order = np.random.default_rng(9).permutation(20)
    np.testing.assert_array_equal(train.arrays[0], order[:10])
    np.testing.assert_array_equal(val.arrays[0], order[10:15])
    np.testing.assert_array_equal(test.arrays[0], order[15:])
    assert_global_rng_untouched(lambda: train_val_test_split(row_ids, seed=9))


def test_spiral_splits_feed_a_loader():
    train, _, _ = train_val_test_split(*make_spiral(points_per_class=20), seed=0)
    batches = list(DataLoader(train, batch_size=16))
    assert [b[0].shape for b in batches] == [(16, 2), (16, 2), (4, 2)]
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


@pytest.mark.parametrize("fractions", [(-0.1, 0.2), (0.2, -0.1), (0.5, 0.5), (0.7, 0.4)])
def test_split_rejects_fractions_that_leave_no_training_share(fractions):
    with pytest.raises(ValueError, match="fractions must be >= 0 and leave rows for training"):
        train_val_test_split(np.arange(10), val_fraction=fractions[0], test_fraction=fractions[1])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: make_spiral(points_per_class=1), "points_per_class >= 2"),
        (lambda: make_spiral(num_classes=0), "num_classes >= 1"),
        (lambda: make_linear_regression(num_points=0), "num_points must be positive, got 0"),
    ],
)
def test_generators_reject_empty_sizes(make, message):
    with pytest.raises(ValueError, match=message):
        make()
