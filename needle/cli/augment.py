"""Random shifts of training images for needle-train's CNNs: a batched dataset wrapper, no loop over images."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from needle.data import Dataset

__all__ = ["shift_images", "RandomShifts"]


def shift_images(images, pixels):
    """(N, C, H, W) images, each moved by its own (dy, dx) drawn uniformly from −pixels..pixels, zero fill:
    out[n, :, i, j] = images[n, :, i + dy_n, j + dx_n] (0 outside). One `np.random.randint` draw of (2, N)."""
    if pixels == 0:
        return images
    n, _, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (pixels, pixels), (pixels, pixels)))
    windows = sliding_window_view(padded, (h, w), axis=(2, 3))  # (N, C, 2p + 1, 2p + 1, H, W), no copy
    dy, dx = np.random.randint(0, 2 * pixels + 1, size=(2, n))
    return windows[np.arange(n), :, dy, dx]  # the advanced indices' axis comes first: (N, C, H, W)


class RandomShifts(Dataset):
    """`dataset` (batched: dataset[index_array] → (images, labels)) with every image read shifted at
    random by up to `pixels` rows and columns (shift_images), a fresh draw per read; the images keep the
    shape the dataset gives them (flat MNIST rows too), seen as `image_shape` (C, H, W) for the shift."""

    batched = True

    def __init__(self, dataset, image_shape, pixels):
        super().__init__()
        if not getattr(dataset, "batched", False):
            raise TypeError(f"RandomShifts: needs a batched dataset, got {type(dataset).__name__}")
        self.dataset, self.image_shape, self.pixels = dataset, tuple(image_shape), pixels

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        images, labels = self.dataset[index]
        images = np.asarray(images)
        batch = images.reshape((-1,) + self.image_shape)
        return shift_images(batch, self.pixels).reshape(images.shape), labels
