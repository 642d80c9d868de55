"""RandomFlipHorizontal and RandomCrop: exact outputs and exactly the contract's RNG draws."""
import numpy as np
import pytest

from needle.data import RandomCrop, RandomFlipHorizontal


def image(height=5, width=4, channels=2):
    """An H x W x C float32 image whose entries are all distinct and nonzero."""
    return np.arange(1, height * width * channels + 1, dtype=np.float32).reshape(height, width, channels)


def shifted_by_definition(img, shift_x, shift_y):
    """out[i, j] = img[i + sx, j + sy] where that lies inside the image, else 0."""
    out = np.zeros_like(img)
    for i in range(img.shape[0]):
        for j in range(img.shape[1]):
            if 0 <= i + shift_x < img.shape[0] and 0 <= j + shift_y < img.shape[1]:
                out[i, j] = img[i + shift_x, j + shift_y]
    return out


def assert_same_rng_state(a, b):
    assert a[0] == b[0] and a[2:] == b[2:]
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 0.9, 1.0])
def test_flip_follows_one_rand_draw_compared_with_p(p):
    img = image()
    for seed in range(12):
        np.random.seed(seed)
        flips = np.random.rand() < p
        expected_state = np.random.get_state()
        np.random.seed(seed)
        out = RandomFlipHorizontal(p)(img)
        assert_same_rng_state(np.random.get_state(), expected_state)
        np.testing.assert_array_equal(out, img[:, ::-1, :] if flips else img)


def test_flip_mirrors_axis_one_only():
    img = image(2, 3, 1)
    out = RandomFlipHorizontal(p=1.0)(img)
    np.testing.assert_array_equal(out[..., 0], [[3, 2, 1], [6, 5, 4]])
    assert out.dtype == img.dtype


def test_flip_default_probability_is_one_half():
    assert RandomFlipHorizontal().p == 0.5


@pytest.mark.parametrize("padding", [0, 1, 3, 6])
def test_crop_makes_one_randint_call_with_the_contract_arguments(padding, monkeypatch):
    calls = []
    real_randint = np.random.randint

    def recording_randint(*args, **kwargs):
        calls.append((args, kwargs))
        return real_randint(*args, **kwargs)

    monkeypatch.setattr(np.random, "randint", recording_randint)
    RandomCrop(padding)(image())
    assert calls == [((), {"low": -padding, "high": padding + 1, "size": 2})]


@pytest.mark.parametrize("padding", [1, 3])
def test_crop_matches_the_definition_for_the_drawn_shift(padding):
    img = image()
    for seed in range(12):
        np.random.seed(seed)
        shift_x, shift_y = np.random.randint(low=-padding, high=padding + 1, size=2)
        expected_state = np.random.get_state()
        np.random.seed(seed)
        out = RandomCrop(padding)(img)
        assert_same_rng_state(np.random.get_state(), expected_state)
        np.testing.assert_array_equal(out, shifted_by_definition(img, shift_x, shift_y))


def test_crop_is_exact_for_every_shift_including_ones_past_the_edge(monkeypatch):
    img = image(3, 4, 2)
    padding = 5
    for shift_x in range(-padding, padding + 1):
        for shift_y in range(-padding, padding + 1):
            monkeypatch.setattr(np.random, "randint", lambda **_: np.array([shift_x, shift_y]))
            out = RandomCrop(padding)(img)
            np.testing.assert_array_equal(out, shifted_by_definition(img, shift_x, shift_y))


def test_crop_equals_a_window_of_the_zero_padded_image(monkeypatch):
    img = image(6, 5, 3)
    padded = np.pad(img, ((2, 2), (2, 2), (0, 0)))
    monkeypatch.setattr(np.random, "randint", lambda **_: np.array([-1, 2]))
    np.testing.assert_array_equal(RandomCrop(2)(img), padded[2 - 1:2 - 1 + 6, 2 + 2:2 + 2 + 5])


def test_crop_keeps_shape_and_dtype_and_leaves_the_input_alone():
    img = image().astype(np.float64)
    before = img.copy()
    for _ in range(5):
        out = RandomCrop(2)(img)
        assert out.shape == img.shape and out.dtype == img.dtype
    np.testing.assert_array_equal(img, before)


def test_crop_with_zero_padding_is_the_identity():
    img = image()
    np.testing.assert_array_equal(RandomCrop(0)(img), img)


def test_crop_default_padding_is_three():
    assert RandomCrop().padding == 3


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_flip_rejects_probabilities_outside_zero_one(p):
    with pytest.raises(ValueError, match=f"p must lie in \\[0, 1\\], got {p}"):
        RandomFlipHorizontal(p)


@pytest.mark.parametrize("padding", [-1, 2.0, True])
def test_crop_rejects_bad_padding(padding):
    with pytest.raises(ValueError, match="padding must be a non-negative int"):
        RandomCrop(padding)
