"""needle-train's language models: a tiny run per model, checkpoints with the vocabulary, --resume
continuing exactly, the pydoc default path, and one-line errors."""
import re
from pathlib import Path

import numpy as np
import pytest

import needle as ndl
from needle.cli.generate import main as generate_main
from needle.cli.language_settings import LANGUAGE_DEFAULTS
from needle.cli.train import main
from needle.data import text as text_module

EPOCH_LINE = re.compile(
    r"epoch +(\d+)/(\d+)  train loss (\S+) acc +(\S+)%  test loss (\S+) acc +(\S+)%  "
    r"(?:(\S+) bits per character|perplexity (\S+))  \(\d+\.\d s\)"
)
TINY = ["--hidden", "12", "--embedding", "6", "--layers", "1", "--seq-len", "8", "--batch-size", "4"]
WORDS = "the cat sat on the mat . a dog ran to the cat . the dog sat on a mat .".split()


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Each test runs in its own folder, so the default runs/ output lands there."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def ptb(tmp_path):
    """A small word corpus in PTB's layout: sentences drawn from a 10-word vocabulary."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "ptb"
    folder.mkdir()
    for name, lines in (("train.txt", 40), ("test.txt", 10)):
        text = "".join(" ".join(rng.choice(WORDS, rng.integers(3, 9))) + "\n" for _ in range(lines))
        (folder / name).write_text(text)
    return folder


def _epochs(output):
    return [m.groups() for m in map(EPOCH_LINE.fullmatch, output.splitlines()) if m]


def _error_line(capsys, prog="needle-train"):
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"{prog}: error: ")
    return lines[0]


@pytest.mark.parametrize("model", ["rnn", "lstm", "gru", "transformer"])
def test_each_sequence_model_trains_on_a_word_corpus_and_reports_perplexity(ptb, model, capsys):
    args = ["--dataset", "ptb", "--data-dir", str(ptb), "--model", model, "--epochs", "2", *TINY, "--lr", "0.01"]
    assert main(args) == 0
    output = capsys.readouterr().out
    assert output.startswith(f"{model} language model on the word corpus in {ptb}: ")
    epochs = _epochs(output)
    assert [e[:2] for e in epochs] == [("1", "2"), ("2", "2")]
    loss = float(epochs[-1][4])
    assert float(epochs[-1][7]) == pytest.approx(np.exp(loss), abs=0.051)  # perplexity = e^loss, 1 decimal
    saved = ndl.load(Path(f"runs/ptb-{model}/checkpoint.npz"))
    assert saved["settings"]["model"] == model and saved["settings"]["seq_len"] == 8 and saved["epoch"] == 2
    assert "<eos>" in saved["vocabulary"] and set(WORDS) <= set(saved["vocabulary"])


def test_a_tiny_run_checkpoints_resumes_exactly_and_generates(ptb, capsys):
    common = ["--dataset", "ptb", "--data-dir", str(ptb), "--model", "lstm", *TINY]
    assert main([*common, "--epochs", "2", "--out", "straight"]) == 0
    assert main([*common, "--epochs", "1", "--out", "resumed"]) == 0
    assert main(["--resume", "--out", "resumed", "--epochs", "2", "--data-dir", str(ptb)]) == 0
    output = capsys.readouterr().out
    assert "resuming resumed/checkpoint.npz after epoch 1" in output
    straight, resumed = (ndl.load(Path(f"{out}/checkpoint.npz")) for out in ("straight", "resumed"))
    assert resumed["history"] == straight["history"] and resumed["vocabulary"] == straight["vocabulary"]
    for name, value in straight["model"].items():
        np.testing.assert_array_equal(resumed["model"][name], value)

    assert generate_main(["--checkpoint", "resumed/checkpoint.npz", "--prompt", "the cat", "--length", "12"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("the cat") and set(text.split()) <= set(WORDS)
    assert len(text.split()) + text.count("\n") - 1 == 2 + 12  # each <eos> is a line break


def test_the_default_text_is_the_python_reference_in_bits_per_character(monkeypatch, capsys):
    reference = ndl.data.pydoc_text()
    # The first 40,000 characters (a tenth) through the same corpus code: seconds, not tens.
    monkeypatch.setattr(text_module, "pydoc_text", lambda: reference[:40_000])
    args = ["--dataset", "pydoc", "--epochs", "1", "--hidden", "8", "--embedding", "4", "--layers", "1",
            "--seq-len", "32", "--batch-size", "256", "--lr", "0.02"]
    assert main(args) == 0
    output = capsys.readouterr().out
    corpus = ndl.data.CharCorpus(reference[:40_000])
    assert output.startswith(
        f"lstm language model on the Python language reference (pydoc): {len(corpus.train)} train / "
        f"{len(corpus.test)} test characters, vocabulary {len(corpus.dictionary)}; adam"
    )
    (epoch,) = _epochs(output)
    assert float(epoch[6]) == pytest.approx(float(epoch[4]) / np.log(2), abs=2e-3)
    assert float(epoch[6]) < np.log2(len(corpus.dictionary))  # better than uniform after one epoch
    saved = ndl.load(Path("runs/pydoc-lstm/checkpoint.npz"))
    assert saved["vocabulary"] == corpus.dictionary.idx2word
    assert generate_main(["--checkpoint", "runs/pydoc-lstm/checkpoint.npz", "--prompt", "def ", "--length", "30"]) == 0
    assert capsys.readouterr().out.startswith("def ")


def test_the_defaults_are_the_workload_8_model():
    row = LANGUAGE_DEFAULTS["pydoc", "lstm"]
    assert (row["batch_size"], row["seq_len"], row["embedding"], row["hidden"], row["layers"], row["optimizer"]) == (
        32, 64, 64, 256, 2, "adam"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset", "pydoc", "--data-dir", "x"], "--data-dir applies to --dataset ptb"),
        (["--dataset", "ptb"], "--dataset ptb needs --data-dir DIR"),
        (["--dataset", "pydoc", "--download"], "--download applies to --dataset mnist"),
        (["--dataset", "pydoc", "--model", "mlp"], "--dataset pydoc is text: use --model rnn or lstm"),
        (["--dataset", "spiral", "--model", "lstm"], "--model lstm is a language model: use --dataset pydoc or ptb"),
        (["--model", "mlp", "--seq-len", "8"], "--seq-len applies to language models"),
        (["--dataset", "ptb", "--data-dir", "nowhere"], "Corpus: no folder nowhere"),
        (["--dataset", "ptb", "--data-dir", "{ptb}", "--batch-size", "4000"], "--batch-size 4000: the training text"),
    ],
)
def test_usage_errors_are_one_line(args, message, ptb, capsys):
    assert main([arg.format(ptb=ptb) for arg in args]) == 2
    assert message in _error_line(capsys)


def test_a_resumed_run_keeps_its_settings_and_its_vocabulary(ptb, capsys):
    common = ["--dataset", "ptb", "--data-dir", str(ptb), "--model", "gru", *TINY, "--out", "run"]
    assert main([*common, "--epochs", "1"]) == 0
    capsys.readouterr()
    assert main(["--resume", "--out", "run", "--epochs", "2", "--data-dir", str(ptb), "--seq-len", "9"]) == 2
    assert "--seq-len 9 differs from the checkpoint's 8" in _error_line(capsys)
    assert main(["--resume", "--out", "run", "--epochs", "2"]) == 2
    assert "--dataset ptb needs --data-dir DIR" in _error_line(capsys)
    (ptb / "train.txt").write_text("other words entirely\n" * 20)
    assert main(["--resume", "--out", "run", "--epochs", "2", "--data-dir", str(ptb)]) == 2
    assert "its vocabulary (" in _error_line(capsys)


@pytest.mark.parametrize(
    "forge, field",
    [
        (lambda c: c["vocabulary"].__setitem__(3, 7), "vocabulary.3"),
        (lambda c: c["vocabulary"].append(c["vocabulary"][0]), "vocabulary"),
        (lambda c: c.pop("vocabulary"), "vocabulary"),
        (lambda c: c["settings"].__setitem__("layers", 0), "settings.layers"),
        (lambda c: c["settings"].__setitem__("clip", -1.0), "settings.clip"),
        (lambda c: c["settings"].pop("seq_len"), "settings.seq_len"),
        (lambda c: c["settings"].__setitem__("model", "mlp"), "settings.model"),
        (lambda c: c["model"].__setitem__("embedding.weight", np.zeros((2, 2), np.float32)), "model.embedding.weight"),
    ],
)
def test_a_forged_language_checkpoint_is_refused_naming_the_field(forge, field, ptb, capsys):
    assert main(["--dataset", "ptb", "--data-dir", str(ptb), "--model", "rnn", *TINY, "--out", "run",
                 "--epochs", "1"]) == 0
    checkpoint = ndl.load("run/checkpoint.npz")
    forge(checkpoint)
    ndl.save(checkpoint, "run/checkpoint.npz")
    capsys.readouterr()
    assert main(["--resume", "--out", "run", "--epochs", "2", "--data-dir", str(ptb)]) == 2
    assert f"field '{field}'" in _error_line(capsys)
