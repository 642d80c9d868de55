"""needle-generate: sample text from a language model that needle-train saved.

    needle-generate --checkpoint runs/pydoc-lstm/checkpoint.npz --prompt "The " --length 300
    needle-generate --checkpoint ... --prompt "def " --temperature 0.5 --seed 3

The model and its vocabulary are rebuilt from the checkpoint alone (every field checked against the
schema first). Draws come from a NumPy Generator seeded with --seed, so the same checkpoint, prompt,
length, temperature and seed print the same text. Character models read the prompt character by
character; word models read whitespace-split words. Errors a user can fix (a missing or bad
checkpoint, a prompt with tokens outside the vocabulary) print one line to stderr and exit with 2.
"""
import argparse
import math
import sys
from pathlib import Path

from . import schema
from .checkpoint import read_checkpoint
from .language import build_language_model
from .language_model import sample
from .language_settings import CHARACTER_DATASETS
from .settings import MAX_SEED, UsageError

__all__ = ["PROG", "build_parser", "generate", "main"]

PROG = "needle-generate"
MAX_LENGTH = 1_000_000


class _Parser(argparse.ArgumentParser):
    """argparse with errors as one line, `needle-generate: error: ...`, and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _bounded(kind, low, high, rule):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (low <= value <= high and (kind is int or math.isfinite(value))):
            raise argparse.ArgumentTypeError(f"{text} {rule}")
        return value

    return parse


def build_parser():
    parser = _Parser(prog=PROG, description="Sample text from a language model trained by needle-train.")
    parser.add_argument("--checkpoint", type=Path, required=True, help="a needle-train language-model checkpoint")
    parser.add_argument("--prompt", required=True, help="the text to continue (at least one token)")
    parser.add_argument(
        "--length", type=_bounded(int, 0, MAX_LENGTH, f"must be in 0..{MAX_LENGTH}"), default=200,
        help="tokens to generate (default: %(default)s)",
    )
    parser.add_argument(
        "--temperature", type=_bounded(float, 0.0, 100.0, "must be in [0, 100]"), default=0.8,
        help="softmax temperature; 0 always takes the most likely token (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=_bounded(int, 0, MAX_SEED, f"must be in 0..{MAX_SEED}"), default=0,
        help="seed of the draws (default: %(default)s)",
    )
    return parser


def generate(checkpoint, prompt, length, temperature=0.8, seed=0):
    """The prompt followed by `length` sampled tokens, as text, from the model saved in `checkpoint`."""
    saved = read_checkpoint(Path(checkpoint), option="--checkpoint")
    if "vocabulary" not in saved:
        raise UsageError(f"--checkpoint {checkpoint}: a classifier's checkpoint, not a language model's")
    settings, vocabulary = saved["settings"], saved["vocabulary"]
    characters = settings["dataset"] in CHARACTER_DATASETS
    tokens = list(prompt) if characters else prompt.split()
    if not tokens:
        raise UsageError("--prompt: give at least one " + ("character" if characters else "word"))
    index = {token: i for i, token in enumerate(vocabulary)}
    unknown = sorted({token for token in tokens if token not in index})
    if unknown:
        shown = ", ".join(repr(token) for token in unknown[:10]) + (", ..." if len(unknown) > 10 else "")
        kind = "character" if characters else "word"
        raise UsageError(f"--prompt: {len(unknown)} {kind}(s) not in the model's vocabulary: {shown}")
    model = build_language_model(settings, len(vocabulary))
    try:
        schema.check_model_state(saved["model"], model)
    except schema.CheckpointError as error:
        raise UsageError(f"checkpoint {checkpoint}: {error}") from None
    model.load_state_dict(saved["model"])
    ids = sample(model, [index[token] for token in tokens], length, temperature, seed)
    new = [vocabulary[i] for i in ids]
    if characters:
        return prompt + "".join(new)
    words = tokens + new
    return " ".join(words).replace(" <eos> ", "\n").replace(" <eos>", "\n")


def main(argv=None):
    """Entry point of `needle-generate` and `python -m needle.cli.generate`; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        text = generate(args.checkpoint, args.prompt, args.length, args.temperature, args.seed)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
