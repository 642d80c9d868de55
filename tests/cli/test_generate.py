"""needle-generate: seeded, reproducible samples from a needle-train checkpoint, and one-line errors."""
import numpy as np
import pytest

import needle as ndl
from needle.cli.checkpoint import save_checkpoint
from needle.cli.generate import generate, main
from needle.cli.language import build_language_model, run_language_epoch
from needle.cli.language_settings import LANGUAGE_DEFAULTS
from needle.cli.optimizers import build_optimizer
from needle.cli.train import main as train_main

TEXT = "abcabcabd abcabc. cab bad dab.\n" * 40


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A character model's checkpoint (dataset pydoc) after one epoch on TEXT, written by the functions
    needle-train uses; the pydoc text itself would cost seconds per epoch."""
    folder = tmp_path_factory.mktemp("generate")
    np.random.seed(0)
    corpus = ndl.data.CharCorpus(TEXT)
    settings = dict(LANGUAGE_DEFAULTS["pydoc", "lstm"], model="lstm", dataset="pydoc", seed=0, hidden=16,
                    embedding=8, layers=1, seq_len=10, batch_size=4, epochs=1)
    model = build_language_model(settings, len(corpus.dictionary))
    opt = build_optimizer("adam", model.parameters(), 0.02, 0.0)
    run_language_epoch(ndl.data.batchify(corpus.train, 4, None, None), model, 10, opt, 1.0)
    history = {"train_loss": [1.0], "train_acc": [0.5], "test_loss": [1.0], "test_acc": [0.5]}
    path = folder / "checkpoint.npz"
    save_checkpoint(path, settings, 1, history, model, opt, corpus.dictionary.idx2word)
    return path


def _error_line(capsys):
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("needle-generate: error: ")
    return lines[0]


def test_the_same_seed_gives_the_same_text_and_another_seed_another(checkpoint, capsys):
    args = ["--checkpoint", str(checkpoint), "--prompt", "ab", "--length", "60", "--temperature", "1.0"]
    assert main([*args, "--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert main([*args, "--seed", "3"]) == 0
    assert capsys.readouterr().out == first
    assert main([*args, "--seed", "4"]) == 0
    assert capsys.readouterr().out != first
    assert first.startswith("ab") and len(first) == 2 + 60 + 1 and set(first) <= set(TEXT)


def test_temperature_zero_is_greedy_whatever_the_seed(checkpoint):
    greedy = generate(checkpoint, "abc", 30, temperature=0.0, seed=1)
    assert generate(checkpoint, "abc", 30, temperature=0.0, seed=2) == greedy
    assert greedy.startswith("abcab")  # the text's most common continuation, learnt in one epoch


def test_unknown_prompt_characters_are_named(checkpoint, capsys):
    assert main(["--checkpoint", str(checkpoint), "--prompt", "abXcY!"]) == 2
    line = _error_line(capsys)
    assert "--prompt: 3 character(s) not in the model's vocabulary: '!', 'X', 'Y'" in line


@pytest.mark.parametrize(
    "args, message",
    [
        (["--prompt", ""], "--prompt: give at least one character"),
        (["--prompt", "a", "--length", "-1"], "--length: -1 must be in 0..1000000"),
        (["--prompt", "a", "--temperature", "nan"], "--temperature: nan must be in [0, 100]"),
        (["--prompt", "a", "--seed", "x"], "--seed: 'x' is not a number"),
    ],
)
def test_bad_options_are_one_line_errors(checkpoint, args, message, capsys):
    try:
        code = main(["--checkpoint", str(checkpoint), *args])
    except SystemExit as exit_info:  # argparse's own checks exit from parse_args
        code = exit_info.code
    assert code == 2
    assert message in _error_line(capsys)


def test_a_missing_file_or_a_classifier_checkpoint_is_refused(tmp_path, monkeypatch, capsys):
    assert main(["--checkpoint", str(tmp_path / "none.npz"), "--prompt", "a"]) == 2
    assert f"--checkpoint: no checkpoint at {tmp_path / 'none.npz'}" in _error_line(capsys)
    monkeypatch.chdir(tmp_path)
    assert train_main(["--model", "softmax", "--epochs", "1", "--out", "spiral"]) == 0
    capsys.readouterr()
    assert main(["--checkpoint", "spiral/checkpoint.npz", "--prompt", "a"]) == 2
    assert "a classifier's checkpoint, not a language model's" in _error_line(capsys)


def test_a_forged_vocabulary_is_refused_naming_the_field(checkpoint, tmp_path, capsys):
    saved = ndl.load(checkpoint)
    saved["vocabulary"][2] = "ab"
    ndl.save(saved, tmp_path / "forged.npz")
    assert main(["--checkpoint", str(tmp_path / "forged.npz"), "--prompt", "a"]) == 2
    assert "field 'vocabulary.2' must be one character" in _error_line(capsys)
