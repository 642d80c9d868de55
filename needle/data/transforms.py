"""Random image augmentations on one H x W x C NumPy image, drawing from NumPy's global RNG."""
import numpy as np

__all__ = ["RandomFlipHorizontal", "RandomCrop"]


class RandomFlipHorizontal:
    """Mirror an H x W x C image left to right (axis 1) with probability p.

    needle: each call draws exactly one `np.random.rand()` and flips when the draw is < p.
    """

    def __init__(self, p=0.5):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomFlipHorizontal: p must lie in [0, 1], got {p}")
        self.p = p

    def __call__(self, img):
        if np.random.rand() < self.p:
            return np.flip(img, axis=1)
        return img

    def __repr__(self):
        return f"RandomFlipHorizontal(p={self.p})"


class RandomCrop:
    """Shift an H x W x C image by (sx, sy) with zero fill: out[i, j] = img[i + sx, j + sy], 0 outside.

    This is a crop of the image zero-padded by `padding` on each side of H and W.
    needle: each call draws exactly one `np.random.randint(low=-padding, high=padding + 1, size=2)`.
    """

    def __init__(self, padding=3):
        if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
            raise ValueError(f"RandomCrop: padding must be a non-negative int, got {padding!r}")
        self.padding = int(padding)

    def __call__(self, img):
        shift_x, shift_y = np.random.randint(low=-self.padding, high=self.padding + 1, size=2)
        out = np.zeros_like(img)
        rows_out, rows_in = _overlap(int(shift_x), img.shape[0])
        cols_out, cols_in = _overlap(int(shift_y), img.shape[1])
        out[rows_out, cols_out] = img[rows_in, cols_in]
        return out

    def __repr__(self):
        return f"RandomCrop(padding={self.padding})"


def _overlap(shift, size):
    """Slices (dst, src) with dst index k reading src index k + shift; both empty when |shift| >= size."""
    count = max(size - abs(shift), 0)
    dst_start, src_start = max(-shift, 0), max(shift, 0)
    return slice(dst_start, dst_start + count), slice(src_start, src_start + count)
