"""The seed demos: each one's claim, and each one run as a script."""
import numpy as np
import pytest

import needle as ndl
from apps.linear_regression import fit_line
from apps.micrograd_demo import train_spiral
from apps.quadratic import descend
from tests.processes import ROOT, run_python


def _quiet(message):
    """A log function that drops the progress lines."""


def test_gradient_descent_on_the_quadratic_reaches_the_minimum_in_ten_steps():
    final = descend(start=(1.0, 1.0), lr=0.3, steps=10, log=_quiet)
    assert np.linalg.norm(final) < 1e-3
    np.testing.assert_allclose(final, [0.4**10, 0.4**10], rtol=1e-5)  # each step scales by 1 - 2·lr


def test_linear_regression_recovers_slope_2_and_intercept_5():
    w, b, mse = fit_line(log=_quiet)
    X, y = ndl.data.make_linear_regression(200, slope=2.0, intercept=5.0, noise=0.1, seed=0)
    least_squares, *_ = np.linalg.lstsq(np.c_[X, np.ones_like(X)], y, rcond=None)
    assert abs(w - 2.0) < 0.05 and abs(b - 5.0) < 0.05
    np.testing.assert_allclose([w, b], least_squares.ravel(), atol=0.01)
    assert mse < 0.0107  # the noise variance is 0.01


def test_micrograd_demo_validation_loss_falls_below_001_within_100_steps():
    losses = train_spiral(steps=100, log=_quiet)
    assert len(losses) == 100 and losses[-1] < 0.01
    assert losses[0] > 0.5  # it starts from an untrained model


@pytest.mark.parametrize(
    "script, last_line",
    [
        ("quadratic.py", "distance from the minimum: 1.48e-04"),
        ("linear_regression.py", "w = 1.98"),
        ("micrograd_demo.py", "validation loss 0.00"),
    ],
)
def test_demo_runs_as_a_script(script, last_line):
    result = run_python(str(ROOT / "apps" / script))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith(last_line)


def test_course_code_can_import_the_apps_modules_by_name():
    code = (
        "import sys; sys.path.append('apps')\n"
        "from simple_ml import *\n"
        "from mlp_resnet import *\n"
        "print(parse_mnist.__module__, nn_epoch.__name__, loss_err.__name__, MLPResNet.__name__, epoch.__name__)\n"
    )
    result = run_python("-c", code, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["needle.data.mnist", "nn_epoch", "loss_err", "MLPResNet", "epoch"]
