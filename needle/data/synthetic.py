"""Small synthetic datasets that need no files: interleaved spirals, a noisy line, and a splitter.

These are generators, not contract functions: each takes a `seed` and draws only from its own
`np.random.default_rng(seed)`, so the same seed gives the same arrays and NumPy's global RNG (which
the contract functions consume) is left untouched. `seed=None` draws fresh OS entropy.
"""
import numpy as np

from .dataset import NDArrayDataset

__all__ = ["make_spiral", "make_linear_regression", "train_val_test_split"]


def make_spiral(points_per_class=100, num_classes=3, noise=0.2, seed=0):
    """(X float32 (K*N, 2), y int64 (K*N,)): K spiral arms of N points each, class k on arm k.

    Point i of arm k has radius r = i / (N - 1) and angle t = 4(k + r) + noise * z, z ~ N(0, 1),
    at (r sin t, r cos t); rows are grouped by class.
    """
    if points_per_class < 2 or num_classes < 1:
        raise ValueError(
            f"make_spiral: needs points_per_class >= 2 and num_classes >= 1, "
            f"got {points_per_class} and {num_classes}"
        )
    rng = np.random.default_rng(seed)
    radius = np.linspace(0.0, 1.0, points_per_class)
    features, labels = [], []
    for k in range(num_classes):
        angle = 4.0 * (k + radius) + noise * rng.standard_normal(points_per_class)
        features.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        labels.append(np.full(points_per_class, k, dtype=np.int64))
    return np.concatenate(features).astype(np.float32), np.concatenate(labels)


def make_linear_regression(num_points=100, slope=2.0, intercept=5.0, noise=0.1, seed=0):
    """(X float32 (N, 1), y float32 (N, 1)) with y = slope * x + intercept + noise * z.

    x ~ Uniform[-1, 1) and z ~ N(0, 1), drawn in that order.
    """
    if num_points < 1:
        raise ValueError(f"make_linear_regression: num_points must be positive, got {num_points}")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(num_points, 1))
    y = slope * x + intercept + noise * rng.standard_normal((num_points, 1))
    return x.astype(np.float32), y.astype(np.float32)


def train_val_test_split(*arrays, val_fraction=0.2, test_fraction=0.2, seed=0):
    """(train, val, test) NDArrayDatasets over one random permutation of the rows of `arrays`.

    The val and test sets get round(fraction * N) rows each; train gets the rest. Each split keeps
    the permuted order; the three are disjoint and together hold every row once.
    """
    dataset = NDArrayDataset(*arrays)
    size = len(dataset)
    if not (0.0 <= val_fraction and 0.0 <= test_fraction and val_fraction + test_fraction < 1.0):
        raise ValueError(
            f"train_val_test_split: fractions must be >= 0 and leave rows for training, "
            f"got val_fraction={val_fraction} and test_fraction={test_fraction}"
        )
    order = np.random.default_rng(seed).permutation(size)
    num_val, num_test = round(val_fraction * size), round(test_fraction * size)
    num_train = size - num_val - num_test
    bounds = [(0, num_train), (num_train, num_train + num_val), (num_train + num_val, size)]
    return tuple(NDArrayDataset(*dataset[order[start:stop]]) for start, stop in bounds)
