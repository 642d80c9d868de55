"""needle-train --compile: the same run as eager, and the speed-up line."""
import re

import pytest

from needle.cli.train import main

EPOCH_LOSSES = re.compile(r"epoch +\d+/\d+  train loss (\S+) .* test loss (\S+) ")


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("model", ["mlp", "resnet"])
def test_compiled_training_prints_the_eager_run_and_its_speed_up(model, capsys):
    argv = ["--epochs", "2", "--model", model]
    assert main(argv + ["--out", "eager"]) == 0
    eager = EPOCH_LOSSES.findall(capsys.readouterr().out)
    assert main(argv + ["--out", "compiled", "--compile"]) == 0
    output = capsys.readouterr().out
    assert EPOCH_LOSSES.findall(output) == eager and len(eager) == 2
    line = re.search(r"--compile: (\S+) ms per step compiled, (\S+) ms eager: (\S+)x speed-up", output)
    assert line and float(line[1]) > 0 and float(line[3]) > 0
    assert "runs eagerly" not in output


def test_compile_refuses_distributed_runs(capsys):
    assert main(["--compile", "--distributed"]) == 2
    assert "--compile: trains the classifiers" in capsys.readouterr().err
