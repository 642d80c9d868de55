"""needle.init: values, dtypes, statistics, and exactly one global-RNG call per random function."""
import math

import numpy as np
import pytest

import needle as ndl
from needle import init


def rng_state():
    _, keys, position, has_gauss, cached = np.random.get_state()
    return keys.tobytes(), position, has_gauss, cached


def drawn_as(make, expect, seed=7):
    """Seed, call `make()`; seed again, call `expect()` (the direct NumPy draw). Both results and
    the RNG states afterwards must agree, which pins down the number, kind and shape of the draws."""
    np.random.seed(seed)
    made = make()
    state_after_make = rng_state()
    np.random.seed(seed)
    expected = expect()
    assert rng_state() == state_after_make
    return made, expected


@pytest.mark.parametrize(
    "make, expect",
    [
        (lambda: init.rand(3, 4, low=-2.0, high=5.0),
         lambda: np.random.rand(3, 4) * 7.0 - 2.0),
        (lambda: init.randn(2, 5, mean=1.5, std=0.25),
         lambda: np.random.randn(2, 5) * 0.25 + 1.5),
        (lambda: init.randb(4, 3, p=0.3, dtype="float32"),
         lambda: np.random.rand(4, 3) <= 0.3),
        (lambda: init.xavier_uniform(5, 7, gain=2.0),
         lambda: (np.random.rand(5, 7) * 2 - 1) * 2.0 * math.sqrt(6 / 12)),
        (lambda: init.xavier_normal(5, 7, gain=0.5),
         lambda: np.random.randn(5, 7) * 0.5 * math.sqrt(2 / 12)),
        (lambda: init.kaiming_uniform(6, 3),
         lambda: (np.random.rand(6, 3) * 2 - 1) * math.sqrt(2) * math.sqrt(3 / 6)),
        (lambda: init.kaiming_normal(6, 3),
         lambda: np.random.randn(6, 3) * math.sqrt(2) / math.sqrt(6)),
        (lambda: init.rand(), lambda: np.random.rand()),
    ],
    ids=["rand", "randn", "randb", "xavier_uniform", "xavier_normal", "kaiming_uniform",
         "kaiming_normal", "rand_0d"],
)
def test_random_initialisers_make_one_draw_of_the_given_shape(make, expect):
    made, expected = drawn_as(make, expect)
    expected = np.asarray(expected)
    assert made.shape == expected.shape
    np.testing.assert_allclose(made.numpy(), expected.astype(np.float32), rtol=1e-6, atol=1e-7)


def test_rand_scales_in_float64_before_the_cast():
    np.random.seed(3)
    made = init.rand(50, low=-1.0, high=3.0).numpy()
    np.random.seed(3)
    np.testing.assert_array_equal(made, (np.random.rand(50) * 4.0 - 1.0).astype(np.float32))


@pytest.mark.parametrize(
    "make",
    [
        lambda: init.constant(2, 3, c=4.0),
        lambda: init.ones(2, 3),
        lambda: init.zeros(2, 3),
        lambda: init.one_hot(4, ndl.Tensor([0, 3, 1])),
        lambda: init.zeros_like(ndl.Tensor(np.ones((2, 2)))),
        lambda: init.ones_like(ndl.Tensor(np.ones((2, 2)))),
    ],
)
def test_deterministic_factories_draw_nothing(make):
    before = rng_state()
    make()
    assert rng_state() == before


def test_factories_give_float32_constant_leaves_by_default():
    made = [
        init.rand(2, 3), init.randn(2, 3), init.constant(2, 3, c=2.0), init.ones(2, 3), init.zeros(2, 3),
        init.xavier_uniform(2, 3), init.xavier_normal(2, 3), init.kaiming_uniform(2, 3),
        init.kaiming_normal(2, 3), init.one_hot(3, ndl.Tensor([0, 2])),
    ]
    for tensor in made:
        assert tensor.dtype == np.float32
        assert tensor.requires_grad is False
        assert tensor.op is None
    assert init.randb(2, 3).dtype == np.bool_


def test_factories_pass_dtype_and_requires_grad_through():
    tensor = init.kaiming_uniform(3, 4, dtype="float64", requires_grad=True)
    assert tensor.dtype == np.float64 and tensor.requires_grad
    assert init.ones(2, dtype="int32").dtype == np.int32
    assert init.zeros(2, device=ndl.cpu()).shape == (2,)


def test_constant_ones_and_zeros_values():
    np.testing.assert_array_equal(init.constant(2, 3, c=-1.5).numpy(), np.full((2, 3), -1.5))
    np.testing.assert_array_equal(init.ones(4).numpy(), np.ones(4))
    np.testing.assert_array_equal(init.zeros(1, 2, 3).numpy(), np.zeros((1, 2, 3)))
    assert init.ones().shape == ()


def test_shape_may_be_given_as_one_tuple():
    assert init.zeros((2, 3)).shape == (2, 3)
    np.random.seed(1)
    made = init.rand((2, 3)).numpy()
    np.random.seed(1)
    np.testing.assert_array_equal(made, np.random.rand(2, 3).astype(np.float32))


@pytest.mark.parametrize("shape", [(-1, 2), (2.5,), (True, 2)])
def test_bad_shapes_are_rejected(shape):
    with pytest.raises(ValueError, match="rand: sizes must be non-negative integers"):
        init.rand(*shape)


def test_like_factories_copy_shape_and_dtype():
    source = ndl.Tensor(np.arange(6, dtype=np.float64).reshape(2, 3))
    zeros = init.zeros_like(source)
    ones = init.ones_like(source, requires_grad=True)
    assert zeros.shape == ones.shape == (2, 3)
    assert zeros.dtype == ones.dtype == np.float64
    np.testing.assert_array_equal(zeros.numpy(), 0)
    np.testing.assert_array_equal(ones.numpy(), 1)
    assert ones.requires_grad and not zeros.requires_grad


def test_top_level_reexports_are_the_init_functions():
    assert ndl.ones is init.ones and ndl.zeros is init.zeros
    assert ndl.ones_like is init.ones_like and ndl.zeros_like is init.zeros_like


def test_one_hot_picks_identity_rows():
    labels = ndl.Tensor(np.array([2, 0, 1, 2], dtype=np.uint8))
    np.testing.assert_array_equal(init.one_hot(3, labels).numpy(), np.eye(3, dtype=np.float32)[[2, 0, 1, 2]])
    assert init.one_hot(3, np.array([[0, 1], [2, 2]])).shape == (2, 2, 3)
    # Integer-valued float labels (a Tensor built with dtype="float32") are accepted too.
    np.testing.assert_array_equal(init.one_hot(2, ndl.Tensor([1.0, 0.0])).numpy(), [[0, 1], [1, 0]])


@pytest.mark.parametrize(
    "labels, message",
    [(np.array([0, 3]), r"labels must lie in \[0, 3\)"), (np.array([-1]), "labels must lie"),
     (np.array([0.5]), "labels must be integers")],
)
def test_one_hot_rejects_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        init.one_hot(3, labels)


def test_uniform_initialisers_fill_their_bounds():
    fan_in, fan_out = 300, 500
    for tensor, bound in [
        (init.xavier_uniform(fan_in, fan_out, gain=1.5), 1.5 * math.sqrt(6 / (fan_in + fan_out))),
        (init.kaiming_uniform(fan_in, fan_out), math.sqrt(2) * math.sqrt(3 / fan_in)),
    ]:
        values = tensor.numpy()
        assert values.shape == (fan_in, fan_out)
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.999 * bound
        assert abs(values.mean()) < 0.01 * bound
        assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)


def test_normal_initialisers_have_the_stated_std():
    fan_in, fan_out = 300, 500
    for tensor, std in [
        (init.xavier_normal(fan_in, fan_out, gain=2.0), 2.0 * math.sqrt(2 / (fan_in + fan_out))),
        (init.kaiming_normal(fan_in, fan_out), math.sqrt(2) / math.sqrt(fan_in)),
        (init.kaiming_normal(fan_in, fan_out, nonlinearity="tanh"), (5 / 3) / math.sqrt(fan_in)),
    ]:
        values = tensor.numpy()
        assert abs(values.mean()) < 0.01 * std
        assert values.std() == pytest.approx(std, rel=0.01)


def test_unknown_nonlinearity_is_rejected():
    with pytest.raises(ValueError, match="kaiming_uniform: unknown nonlinearity 'gelu'"):
        init.kaiming_uniform(3, 4, nonlinearity="gelu")


def test_unknown_device_is_rejected():
    with pytest.raises(ValueError, match="ones: unknown device 'tpu'"):
        init.ones(2, device="tpu")


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda device: init.ones(2, device=device), "ones"),
        (lambda device: init.zeros(2, 3, device=device), "zeros"),
        (lambda device: init.constant(2, c=3.0, device=device), "constant"),
        (lambda device: init.rand(2, device=device), "rand"),
        (lambda device: init.randn(2, device=device), "randn"),
        (lambda device: init.randb(2, device=device), "randb"),
        (lambda device: init.randint(3, (2,), device=device), "randint"),
        (lambda device: init.one_hot(3, [0, 1], device=device), "one_hot"),
        (lambda device: init.xavier_uniform(2, 3, device=device), "xavier_uniform"),
        (lambda device: init.xavier_normal(2, 3, device=device), "xavier_normal"),
        (lambda device: init.kaiming_uniform(2, 3, shape=(1, 1, 2, 3), device=device), "kaiming_uniform"),
        (lambda device: init.kaiming_normal(2, 3, device=device), "kaiming_normal"),
        (lambda device: init.zeros_like(np.ones(2), device=device), "zeros"),
        (lambda device: init.tensor([1.0], device=device), "tensor"),
        (lambda device: init.arange(3, device=device), "arange"),
        (lambda device: init.linspace(0, 1, 3, device=device), "linspace"),
        (lambda device: init.eye(2, device=device), "eye"),
        (lambda device: init.full((2,), 1.0, device=device), "full"),
    ],
)
def test_every_factory_takes_device_and_refuses_one_that_is_not_enabled(make, name):
    for device in (ndl.cpu(), ndl.cpu_numpy(), "cpu", None):
        assert make(device).device == ndl.cpu()
    state = rng_state()
    with pytest.raises(ValueError, match=rf"{name}: device cuda\(\) is not enabled"):
        make(ndl.cuda())
    assert rng_state() == state  # refused before any draw


def test_kaiming_uniform_with_a_kernel_shape_matches_the_course_draw():
    np.random.seed(0)
    kernel = init.kaiming_uniform(144, 72, shape=(3, 3, 16, 8))
    assert kernel.shape == (3, 3, 16, 8) and kernel.dtype == np.float32
    assert kernel.numpy().sum() == pytest.approx(-2.5719, abs=1e-3)
    assert np.abs(kernel.numpy()).max() <= math.sqrt(2) * math.sqrt(3 / 144)


@pytest.mark.parametrize(
    "make, expect",
    [
        (lambda: init.kaiming_uniform(12, 5, (2, 2, 3, 5)),
         lambda: (np.random.rand(2, 2, 3, 5) * 2 - 1) * math.sqrt(2) * math.sqrt(3 / 12)),
        (lambda: init.kaiming_normal(12, 5, shape=(2, 2, 3, 5), nonlinearity="tanh"),
         lambda: np.random.randn(2, 2, 3, 5) * (5 / 3) / math.sqrt(12)),
        (lambda: init.xavier_uniform(4, 6, shape=[2, 2, 6]),
         lambda: (np.random.rand(2, 2, 6) * 2 - 1) * math.sqrt(6 / 10)),
        (lambda: init.xavier_normal(4, 6, 2.0, shape=(4, 3, 2)),
         lambda: np.random.randn(4, 3, 2) * 2.0 * math.sqrt(2 / 10)),
    ],
    ids=["kaiming_uniform", "kaiming_normal", "xavier_uniform", "xavier_normal"],
)
def test_shaped_initialisers_make_one_draw_of_that_shape_with_the_fan_bound(make, expect):
    made, expected = drawn_as(make, expect)
    assert made.shape == expected.shape
    np.testing.assert_allclose(made.numpy(), expected.astype(np.float32), rtol=1e-6, atol=1e-7)


def test_shape_must_be_a_tuple_and_fans_positive():
    with pytest.raises(TypeError, match="kaiming_uniform: shape must be a tuple.*nonlinearity= by keyword"):
        init.kaiming_uniform(3, 4, "relu")
    with pytest.raises(ValueError, match="kaiming_normal: sizes must be non-negative integers"):
        init.kaiming_normal(3, 4, shape=(2, -1))
    with pytest.raises(ValueError, match="xavier_uniform: fan_in must be a positive integer"):
        init.xavier_uniform(0, 4)


def test_shaped_initialisers_take_dtype_and_requires_grad():
    kernel = init.kaiming_uniform(8, 8, shape=(1, 1, 8, 8), dtype="float64", requires_grad=True)
    assert kernel.dtype == np.float64 and kernel.requires_grad
