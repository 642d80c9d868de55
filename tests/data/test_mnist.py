"""MNIST: the streaming IDX parser and its errors, MNISTDataset's indexing and transforms, where the
files are looked for, and the real test set."""
import gzip
import tracemalloc

import numpy as np
import pytest

from needle.data import DataLoader, MNISTDataset, MNISTFormatError, RandomCrop, RandomFlipHorizontal
from needle.data import default_mnist_dir, parse_mnist, read_idx

from .conftest import MNIST_TEST_FILES

ROWS, COLS = 28, 28


def idx_images(pixels, count=None, rows=None, cols=None, magic=2051):
    """IDX image bytes: a big-endian uint32 header (magic, count, rows, cols), then the pixel bytes."""
    count = pixels.shape[0] if count is None else count
    rows = pixels.shape[1] if rows is None else rows
    cols = pixels.shape[2] if cols is None else cols
    return np.array([magic, count, rows, cols], dtype=">u4").tobytes() + pixels.astype(np.uint8).tobytes()


def idx_labels(labels, count=None, magic=2049):
    """IDX label bytes: a big-endian uint32 header (magic, count), then one byte per label."""
    count = len(labels) if count is None else count
    return np.array([magic, count], dtype=">u4").tobytes() + np.asarray(labels, dtype=np.uint8).tobytes()


def sample_pixels(count=6):
    """count x ROWS x COLS uint8 pixels including the extremes 0 and 255."""
    pixels = np.random.default_rng(1).integers(0, 256, size=(count, ROWS, COLS), dtype=np.uint8)
    pixels[0, 0, 0], pixels[-1, -1, -1] = 0, 255
    return pixels


SAMPLE_LABELS = np.array([7, 2, 1, 0, 4, 9], dtype=np.uint8)


def write_pair(folder, image_bytes, label_bytes, compress=True):
    """Write the two files (gzipped unless `compress` is False) and return their paths."""
    paths = (folder / "images.idx.gz", folder / "labels.idx.gz")
    for path, payload in zip(paths, (image_bytes, label_bytes)):
        path.write_bytes(gzip.compress(payload) if compress else payload)
    return paths


@pytest.fixture
def sample_files(tmp_path):
    return write_pair(tmp_path, idx_images(sample_pixels()), idx_labels(SAMPLE_LABELS))


# ---- the parser ------------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [True, False], ids=["gzipped", "plain"])
def test_parse_mnist_scales_pixels_to_unit_float32_rows(tmp_path, compress):
    pixels = sample_pixels()
    paths = write_pair(tmp_path, idx_images(pixels), idx_labels(SAMPLE_LABELS), compress)
    images, labels = parse_mnist(*paths)
    assert images.dtype == np.float32 and images.shape == (6, ROWS * COLS)
    assert labels.dtype == np.uint8
    np.testing.assert_array_equal(images, pixels.reshape(6, -1).astype(np.float32) / np.float32(255))
    assert images.min() == 0.0 and images.max() == 1.0
    np.testing.assert_array_equal(labels, SAMPLE_LABELS)


def test_read_idx_gives_the_raw_uint8_pixels_and_labels(sample_files):
    pixels, labels = read_idx(*sample_files)
    assert pixels.dtype == np.uint8 and labels.dtype == np.uint8
    np.testing.assert_array_equal(pixels, sample_pixels())
    np.testing.assert_array_equal(labels, SAMPLE_LABELS)


def test_parse_mnist_accepts_string_paths_and_an_empty_set(tmp_path):
    paths = write_pair(tmp_path, idx_images(np.zeros((0, 28, 28))), idx_labels([]))
    images, labels = parse_mnist(str(paths[0]), str(paths[1]))
    assert images.shape == (0, 784) and labels.shape == (0,)


def corrupt_deflate(payload):
    """Gzip bytes whose compressed body is damaged (header and trailer intact)."""
    data = bytearray(gzip.compress(payload))
    data[12:20] = b"\xff" * 8
    return bytes(data)


GOOD_IMAGES = idx_images(sample_pixels())
GOOD_LABELS = idx_labels(SAMPLE_LABELS)
# (case, image file bytes, label file bytes, written as is (else gzipped)?, bad file, message pattern)
BAD_FILES = [
    ("labels-as-images", GOOD_LABELS, GOOD_LABELS, False, "images", "magic number 2049 is not 2051"),
    ("images-as-labels", GOOD_IMAGES, GOOD_IMAGES, False, "labels", "magic number 2051 is not 2049"),
    ("neither-gzip-nor-idx", b"no pixels here", GOOD_LABELS, True, "images",
     f"magic number {int.from_bytes(b'no p', 'big')} is not 2051: not an IDX images file, gzipped or plain"),
    ("zero-rows", idx_images(np.zeros((6, 0, 3))), GOOD_LABELS, False, "images",
     "images are 0 x 3; MNIST images are 28 x 28"),
    ("zero-cols", idx_images(np.zeros((6, 28, 0))), GOOD_LABELS, False, "images", "images are 28 x 0"),
    ("small-images", idx_images(np.zeros((6, 4, 3))), GOOD_LABELS, False, "images", "images are 4 x 3"),
    ("huge-images", idx_images(np.zeros((0, 28, 28)), count=6, rows=2**32 - 1), GOOD_LABELS, False, "images",
     "images are 4294967295 x 28"),
    ("over-60000-images", idx_images(np.zeros((0, 28, 28)), count=60001), idx_labels([0] * 60001), False,
     "images", "header declares 60001 images; an MNIST file holds at most 60000"),
    ("enormous-label-count", GOOD_IMAGES, idx_labels([], count=2**32 - 1), False, "labels",
     "header declares 4294967295 labels"),
    ("more-than-a-gzip-file-holds", idx_images(np.zeros((0, 28, 28)), count=60000), idx_labels([0] * 60000),
     False, "images", "promises 60000 x 28 x 28 = 47040000 bytes of images, more than a [0-9]+-byte gzip"),
    ("more-than-a-plain-file-holds", idx_images(np.zeros((1, 28, 28)), count=6), GOOD_LABELS, True, "images",
     "promises 6 x 28 x 28 = 4704 bytes of images, more than a 800-byte plain file can hold \\(784\\)"),
    ("short-image-header", GOOD_IMAGES[:10], GOOD_LABELS, False, "images", "truncated header: 10 bytes"),
    ("short-label-header", GOOD_IMAGES, GOOD_LABELS[:7], False, "labels", "truncated header: 7 bytes"),
    ("empty-image-file", b"", GOOD_LABELS, False, "images", "truncated header: 0 bytes"),
    ("truncated-pixels", GOOD_IMAGES[:-1], GOOD_LABELS, False, "images",
     "truncated: header promises 6 x 28 x 28 = 4704 bytes of images, found 4703"),
    ("truncated-labels", GOOD_IMAGES, GOOD_LABELS[:-2], False, "labels",
     "truncated: header promises 6 = 6 bytes of labels, found 4"),
    ("trailing-pixels", GOOD_IMAGES + b"\x00\x01", GOOD_LABELS, False, "images",
     "trailing data after the 4704 bytes of images the header promises"),
    ("trailing-labels", GOOD_IMAGES, GOOD_LABELS + b"\x05", False, "labels", "trailing data after the 6"),
    ("plain-trailing-pixels", GOOD_IMAGES + b"\x00", GOOD_LABELS, True, "images", "trailing data after the"),
    ("label-10", GOOD_IMAGES, idx_labels([7, 2, 1, 10, 4, 9]), False, "labels",
     "label 10 at index 3 is outside 0..9 \\(1 such labels\\)"),
    ("label-255", GOOD_IMAGES, idx_labels([255] * 6), False, "labels", "label 255 at index 0 is outside"),
    ("count-mismatch", GOOD_IMAGES, idx_labels(SAMPLE_LABELS[:5]), False, "both",
     "holds 6 images but .* holds 5 labels"),
    ("cut-gzip-stream", gzip.compress(GOOD_IMAGES)[:-12], gzip.compress(GOOD_LABELS), True, "images",
     "bad gzip stream"),
    ("damaged-gzip-body", gzip.compress(GOOD_IMAGES), corrupt_deflate(GOOD_LABELS), True, "labels",
     "bad gzip stream"),
    ("gzip-signature-only", b"\x1f\x8b" + b"\x00" * 30, gzip.compress(GOOD_LABELS), True, "images",
     "bad gzip stream"),
    ("junk-after-gzip-stream", gzip.compress(GOOD_IMAGES) + b"junk", gzip.compress(GOOD_LABELS), True,
     "images", "bad gzip stream"),
    ("cut-label-gzip-stream", gzip.compress(GOOD_IMAGES), gzip.compress(GOOD_LABELS)[:-3], True, "labels",
     "bad gzip stream"),
]


@pytest.mark.parametrize(
    "image_bytes, label_bytes, as_is, bad_file, message",
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
@pytest.mark.parametrize("load", [parse_mnist, MNISTDataset], ids=["parse_mnist", "MNISTDataset"])
def test_malformed_files_raise_a_format_error_naming_the_file(
    tmp_path, load, image_bytes, label_bytes, as_is, bad_file, message
):
    image_path, label_path = write_pair(tmp_path, image_bytes, label_bytes, compress=not as_is)
    with pytest.raises(MNISTFormatError, match=message) as raised:
        load(image_path, label_path)
    assert isinstance(raised.value, ValueError)
    text = str(raised.value)
    if bad_file in ("images", "both"):
        assert str(image_path) in text
    if bad_file in ("labels", "both"):
        assert str(label_path) in text
    if bad_file == "images":
        assert str(label_path) not in text
    if bad_file == "labels":
        assert str(image_path) not in text


def test_a_missing_file_raises_file_not_found_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.gz"):
        parse_mnist(tmp_path / "nowhere.gz", tmp_path / "labels.gz")


def gzip_bomb(count, zero_bytes=2**31):
    """A gzip file of about 2 MB: an IDX header declaring `count` images, then `zero_bytes` of zeros.

    Built as one gzip member per 64 MiB of zeros (concatenated members are one valid gzip stream).
    """
    block = 2**26
    first = gzip.compress(idx_images(np.zeros((0, 28, 28)), count=count) + bytes(block))
    return first + gzip.compress(bytes(block)) * (zero_bytes // block - 1)


@pytest.mark.parametrize(
    "count, limit_mb, message",
    [
        (10, 8, "trailing data after the 7840 bytes of images"),
        (60000, 64, "trailing data after the 47040000 bytes of images"),  # the largest count allowed
        (2**32 - 1, 8, "header declares 4294967295 images"),
    ],
)
def test_a_gzip_bomb_is_refused_within_bounded_memory(tmp_path, count, limit_mb, message):
    image_path, label_path = tmp_path / "images.gz", tmp_path / "labels.gz"
    image_path.write_bytes(gzip_bomb(count))
    label_path.write_bytes(gzip.compress(idx_labels([0] * min(count, 60000))))
    assert image_path.stat().st_size < 3 * 2**20  # inflating it whole would take 2 GiB
    tracemalloc.start()
    try:
        with pytest.raises(MNISTFormatError, match=message):
            parse_mnist(image_path, label_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit_mb * 2**20, f"peak {peak / 2**20:.1f} MiB"


# ---- the dataset -----------------------------------------------------------------------------

def test_dataset_indexing_returns_flat_images_and_uint8_labels(sample_files):
    dataset = MNISTDataset(*sample_files)
    images, labels = parse_mnist(*sample_files)
    assert len(dataset) == 6
    image, label = dataset[4]
    assert image.shape == (ROWS * COLS,) and label == SAMPLE_LABELS[4] and label.dtype == np.uint8
    np.testing.assert_array_equal(image, images[4])
    for index in (slice(1, 4), np.array([5, 0, 5]), np.array([], dtype=int)):
        batch_images, batch_labels = dataset[index]
        np.testing.assert_array_equal(batch_images, images[index])
        np.testing.assert_array_equal(batch_labels, labels[index])
        assert batch_images.dtype == np.float32 and batch_labels.dtype == np.uint8


def test_transforms_see_one_rows_cols_1_image_at_a_time_in_order_on_every_access(sample_files):
    seen = []

    def record(name):
        def transform(img):
            seen.append((name, img.shape, float(img[0, 0, 0])))
            return img
        return transform

    dataset = MNISTDataset(*sample_files, transforms=[record("first"), record("second")])
    images, _ = parse_mnist(*sample_files)
    dataset[np.array([2, 0])]
    dataset[1]
    dataset[1]
    expected = []
    for index in (2, 0, 1, 1):
        expected += [(name, (ROWS, COLS, 1), float(images[index, 0])) for name in ("first", "second")]
    assert seen == expected


def test_transforms_outputs_are_flattened_back(sample_files):
    dataset = MNISTDataset(*sample_files, transforms=[RandomFlipHorizontal(p=1.0)])
    images, _ = parse_mnist(*sample_files)
    flipped = images.reshape(-1, ROWS, COLS)[:, :, ::-1].reshape(6, -1)
    np.testing.assert_array_equal(dataset[3][0], flipped[3])
    np.testing.assert_array_equal(dataset[1:5][0], flipped[1:5])
    np.testing.assert_array_equal(dataset.images, images)  # the stored images stay untransformed


def test_random_transforms_draw_per_image_in_list_order(sample_files):
    crop, flip = RandomCrop(2), RandomFlipHorizontal()
    dataset = MNISTDataset(*sample_files, transforms=[crop, flip])
    images, _ = parse_mnist(*sample_files)
    np.random.seed(11)
    expected = np.stack([flip(crop(images[i].reshape(ROWS, COLS, 1))).reshape(-1) for i in (3, 1, 4)])
    state_after = np.random.get_state()
    np.random.seed(11)
    np.testing.assert_array_equal(dataset[np.array([3, 1, 4])][0], expected)
    np.testing.assert_array_equal(np.random.get_state()[1], state_after[1])
    assert np.random.get_state()[2] == state_after[2]


def test_dataset_without_transforms_draws_nothing(sample_files):
    dataset = MNISTDataset(*sample_files)
    before = np.random.get_state()
    dataset[np.arange(6)]
    np.testing.assert_array_equal(np.random.get_state()[1], before[1])


# ---- where the files live --------------------------------------------------------------------

@pytest.fixture
def places(monkeypatch, tmp_path):
    """Three empty candidate folders wired up as $NEEDLE_MNIST_DIR, $XDG_DATA_HOME/needle/mnist, ./data."""
    env, xdg, cwd = tmp_path / "env", tmp_path / "xdg", tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.setenv("NEEDLE_MNIST_DIR", str(env))
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    monkeypatch.chdir(cwd)
    return {"env": env, "user": xdg / "needle" / "mnist", "cwd": cwd / "data"}


def fill(folder):
    """Put (empty) t10k files into `folder`; existence is all the lookup checks."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in MNIST_TEST_FILES:
        (folder / name).touch()


@pytest.mark.parametrize("filled, found", [
    (["env", "user", "cwd"], "env"), (["user", "cwd"], "user"), (["cwd"], "cwd"),
])
def test_default_mnist_dir_takes_the_first_place_holding_the_files(places, filled, found):
    for place in filled:
        fill(places[place])
    assert default_mnist_dir() == places[found]


def test_default_mnist_dir_names_every_place_tried(places):
    places["env"].mkdir()
    (places["env"] / MNIST_TEST_FILES[0]).touch()  # half a pair does not count
    with pytest.raises(FileNotFoundError) as raised:
        default_mnist_dir()
    message = str(raised.value)
    for place in places.values():
        assert str(place) in message
    assert "NEEDLE_MNIST_DIR" in message


def test_without_xdg_data_home_the_user_folder_is_under_the_home(places, monkeypatch, tmp_path):
    monkeypatch.delenv("NEEDLE_MNIST_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # the XDG spec says to ignore it
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    fill(tmp_path / "home" / ".local" / "share" / "needle" / "mnist")
    assert default_mnist_dir() == tmp_path / "home" / ".local" / "share" / "needle" / "mnist"


# ---- the real 10,000-image test set ----------------------------------------------------------

@pytest.fixture(scope="module")
def real_test_set(mnist_test_files):
    return parse_mnist(*mnist_test_files)


def test_real_test_set_has_the_known_size_labels_and_range(real_test_set):
    images, labels = real_test_set
    assert images.shape == (10000, 784) and images.dtype == np.float32 and labels.dtype == np.uint8
    assert labels[:4].tolist() == [7, 2, 1, 0]
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert images.min() == 0.0 and images.max() == 1.0


def test_real_test_set_matches_an_independent_decoding(real_test_set, mnist_test_files):
    images, labels = real_test_set
    with gzip.open(mnist_test_files[0]) as f:
        raw_pixels = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    with gzip.open(mnist_test_files[1]) as f:
        raw_labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    np.testing.assert_array_equal(images, (raw_pixels.astype(np.float32) / 255).reshape(10000, 784))
    np.testing.assert_array_equal(labels, raw_labels)


def test_real_test_set_through_the_loader(mnist_test_files, real_test_set):
    dataset = MNISTDataset(*mnist_test_files, transforms=[RandomCrop(3), RandomFlipHorizontal()])
    assert dataset[0][0].shape == (784,)
    loader = DataLoader(MNISTDataset(*mnist_test_files), batch_size=1000, shuffle=True)
    np.random.seed(0)
    order = np.random.permutation(10000)
    np.random.seed(0)
    labels = np.concatenate([batch_labels.numpy() for _, batch_labels in loader])
    np.testing.assert_array_equal(labels, real_test_set[1][order])
