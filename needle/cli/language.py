"""needle-train for language models: `needle-train --dataset pydoc --model lstm` (or rnn, gru, transformer;
`--dataset ptb --data-dir DIR` for Penn Treebank's train.txt and test.txt).

Training runs truncated backpropagation through time: the batchified text is read in chunks of
seq_len steps, the hidden state is carried from chunk to chunk detached from the graph, and the
global gradient norm is clipped to `clip`. Each epoch prints the held-out loss in bits per character
(character data) or the perplexity (word data) and saves a checkpoint that holds the vocabulary too,
so `needle-generate` rebuilds the model from it alone.
"""
import contextlib
import math
import time

import numpy as np
from tqdm import tqdm

import needle as ndl
import needle.nn as nn

from .checkpoint import CHECKPOINT_NAME, read_checkpoint, save_checkpoint, start_or_resume
from .language_model import LanguageModel, detach_state
from .language_settings import CHARACTER_DATASETS, describe_language, resolve_language_settings
from .schema import HISTORY
from .settings import UsageError, default_out, epochs_done

__all__ = ["run_language_epoch", "load_text", "build_language_model", "held_out_figure", "train_language"]



def run_language_epoch(batches, model, seq_len, opt=None, clip=None, description=None, dtype=None, loss_fn=None,
                       device=None):
    """One pass over `batches` (nbatch, batch_size) of token ids in chunks of `seq_len` steps, training
    when `opt` is given; returns (accuracy, mean loss) over every predicted token.

    The hidden state starts at zeros and is carried across chunks, detached. `clip` > 0 scales the
    gradients to that global norm at most. `dtype` and `device` are the id tensors' (None: integers);
    `loss_fn` (logits, targets) → mean loss defaults to nn.SoftmaxLoss().
    """
    training = opt is not None
    model.train() if training else model.eval()
    loss_fn = nn.SoftmaxLoss() if loss_fn is None else loss_fn
    if batches.shape[0] < 2:
        raise ValueError(f"run_language_epoch: batches of shape {batches.shape} hold no next token to predict")
    starts = range(0, batches.shape[0] - 1, seq_len)
    chunks = starts
    if training and description is not None:
        # disable=None: the bar shows on a terminal only, so logs and pipes get the epoch lines alone.
        chunks = tqdm(starts, desc=description, leave=False, unit="step", disable=None)
    h, correct, total_loss, count = None, 0, 0.0, 0
    with contextlib.nullcontext() if training else ndl.no_grad():
        for i in chunks:
            data, target = ndl.data.get_batch(batches, i, seq_len, device=device, dtype=dtype)
            logits, h = model(data, h)
            loss = loss_fn(logits, target)
            if training:
                opt.reset_grad()
                loss.backward(create_graph=False)
                if clip:
                    ndl.optim.clip_grad_norm(model.parameters(), clip)
                opt.step()
            h = detach_state(h)
            tokens = target.shape[0]
            correct += int(np.sum(logits.numpy().argmax(axis=1) == target.numpy()))
            total_loss += float(loss.numpy()) * tokens
            count += tokens
            if chunks is not starts:
                chunks.set_postfix(loss=f"{total_loss / count:.4f}", refresh=False)
    return correct / count, total_loss / count


def load_text(settings, data_dir=None):
    """(train ids, test ids, vocabulary list, description) of the run's dataset."""
    if settings["dataset"] == "pydoc" and data_dir is not None:
        raise UsageError("--data-dir applies to --dataset ptb; pydoc is Python's own language reference")
    if settings["dataset"] == "ptb" and data_dir is None:
        raise UsageError("--dataset ptb needs --data-dir DIR, a folder holding train.txt and test.txt")
    if settings["dataset"] == "pydoc":
        corpus = ndl.data.pydoc_corpus()
        return corpus.train, corpus.test, corpus.dictionary.idx2word, "the Python language reference (pydoc)"
    try:
        corpus = ndl.data.Corpus(data_dir)
    except (OSError, ValueError) as error:
        raise UsageError(str(error)) from None
    return corpus.train, corpus.test, corpus.dictionary.idx2word, f"the word corpus in {data_dir}"


def build_language_model(settings, vocabulary_size):
    """LanguageModel of the run's settings over `vocabulary_size` tokens."""
    return LanguageModel(
        settings["embedding"], vocabulary_size, settings["hidden"], settings["layers"], seq_model=settings["model"],
        seq_len=settings["seq_len"],
    )


def held_out_figure(settings, loss):
    """The held-out loss (nats per token) as the README reports it: bits per character or perplexity."""
    if settings["dataset"] in CHARACTER_DATASETS:
        return f"{loss / math.log(2):.3f} bits per character"
    return f"perplexity {math.exp(min(loss, 700.0)):.1f}"


def _batchify(ids, batch_size, what):
    if len(ids) < 2 * batch_size:
        raise UsageError(
            f"--batch-size {batch_size}: the {what} text has {len(ids)} tokens, fewer than 2 per column"
        )
    return ndl.data.batchify(ids, batch_size, None, None)


def train_language(args, out=None, saved=None):
    """Train a language model from the options; returns (history {name: [one value per epoch]}, a
    title for the curves, the output folder). `saved` is the checkpoint in `out` when the caller has
    read it already (a --resume that named only --out)."""
    out = out or args.out
    if args.resume and saved is None:
        out = out or default_out(args.dataset or "pydoc", args.model or "lstm")
        saved = read_checkpoint(out / CHECKPOINT_NAME)
    if saved is not None and "vocabulary" not in saved:
        raise UsageError(
            f"checkpoint {out / CHECKPOINT_NAME} is a classifier's; resume it without --dataset pydoc/ptb "
            f"or a sequence --model"
        )
    settings = resolve_language_settings(args, saved["settings"] if saved else None)
    out = out or default_out(settings["dataset"], settings["model"])
    done = epochs_done(out, settings, saved)

    train_ids, test_ids, vocabulary, source = load_text(settings, args.data_dir)
    if saved and saved["vocabulary"] != list(vocabulary):
        raise UsageError(
            f"checkpoint {out / CHECKPOINT_NAME}: its vocabulary ({len(saved['vocabulary'])} tokens) is not "
            f"this data's ({len(vocabulary)}); resume on the data it was trained on"
        )
    train_batches = _batchify(train_ids, settings["batch_size"], "training")
    # The held-out text is read in as many columns as training uses (fewer when it is short); the
    # state carries along each column, so only the first few tokens of a column lack context.
    test_batches = _batchify(test_ids, max(1, min(settings["batch_size"], len(test_ids) // 2)), "held-out")

    np.random.seed(settings["seed"])
    model = build_language_model(settings, len(vocabulary))
    opt, scheduler, history = start_or_resume(settings, model, saved, out, done)

    print(describe_language(settings, source, len(train_ids), len(test_ids), len(vocabulary)))
    epochs = settings["epochs"]
    for index in range(done, epochs):
        started = time.perf_counter()
        train_acc, train_loss = run_language_epoch(
            train_batches, model, settings["seq_len"], opt, settings["clip"], f"epoch {index + 1}/{epochs}"
        )
        test_acc, test_loss = run_language_epoch(test_batches, model, settings["seq_len"])
        scheduler.step()
        for name, value in zip(HISTORY, (train_loss, train_acc, test_loss, test_acc)):
            history[name].append(value)
        print(
            f"epoch {index + 1:>3}/{epochs}  train loss {train_loss:.4f} acc {100 * train_acc:6.2f}%  "
            f"test loss {test_loss:.4f} acc {100 * test_acc:6.2f}%  {held_out_figure(settings, test_loss)}  "
            f"({time.perf_counter() - started:.1f} s)"
        )
        save_checkpoint(out / CHECKPOINT_NAME, settings, index + 1, history, model, opt, vocabulary)
    print(f"checkpoint: {out / CHECKPOINT_NAME}")
    title = f"{settings['model']} language model on {source}: {len(train_ids)} train / {len(test_ids)} test"
    return history, title, out
