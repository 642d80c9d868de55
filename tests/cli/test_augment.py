"""needle-train's random shifts of training images: against a loop written here, and the wrapper's shapes."""
import numpy as np
import pytest

import needle as ndl
from needle.cli.augment import RandomShifts, shift_images


def _shifted_by_loop(images, dy, dx):
    out = np.zeros_like(images)
    _, _, h, w = images.shape
    for n in range(len(images)):
        for i in range(h):
            for j in range(w):
                if 0 <= i + dy[n] < h and 0 <= j + dx[n] < w:
                    out[n, :, i, j] = images[n, :, i + dy[n], j + dx[n]]
    return out


@pytest.mark.parametrize("pixels", [1, 2, 3])
def test_each_image_moves_by_its_own_draw_with_zero_fill(pixels):
    images = np.random.default_rng(0).random((6, 2, 7, 5), dtype=np.float32)
    np.random.seed(1)
    out = shift_images(images, pixels)
    np.random.seed(1)
    dy, dx = np.random.randint(0, 2 * pixels + 1, size=(2, 6)) - pixels
    assert out.shape == images.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out, _shifted_by_loop(images, dy, dx))


def test_zero_pixels_is_the_identity_and_draws_nothing():
    images = np.ones((2, 1, 4, 4), dtype=np.float32)
    np.random.seed(3)
    assert shift_images(images, 0) is images
    assert np.random.randint(1000) == np.random.RandomState(3).randint(1000)


def test_random_shifts_keep_the_dataset_shapes_and_labels():
    X = np.random.default_rng(0).random((10, 784), dtype=np.float32)
    y = np.arange(10)
    shifted = RandomShifts(ndl.data.NDArrayDataset(X, y), (1, 28, 28), 2)
    assert len(shifted) == 10
    images, labels = shifted[np.array([3, 1, 4])]
    assert images.shape == (3, 784) and images.dtype == np.float32
    np.testing.assert_array_equal(labels, [3, 1, 4])
    batch = next(iter(ndl.data.DataLoader(shifted, batch_size=4)))
    assert batch[0].shape == (4, 784)
    with pytest.raises(TypeError, match="RandomShifts: needs a batched dataset, got list"):
        RandomShifts([(X[0], 0)], (1, 28, 28), 2)
