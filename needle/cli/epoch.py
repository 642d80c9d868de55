"""One pass over a data loader, training or evaluating: the epoch of needle-train and of the course."""
import contextlib

import numpy as np
from tqdm import tqdm

import needle as ndl
import needle.nn as nn

__all__ = ["run_epoch"]


def run_epoch(dataloader, model, opt=None, description=None, input_shape=None, compiled=None):
    """One pass over `dataloader`, training when `opt` is given; returns (error rate, mean loss).

    Images are flattened to (B, features), or reshaped to (B, *input_shape) when it is given (the
    (C, H, W) of a convolutional model); the loss is the mean over samples, not over batches.
    A training pass with a `description` shows a progress bar of that name on a terminal.
    `compiled`: a `CompiledTraining` that runs the training steps (needle-train --compile).
    """
    training = opt is not None
    model.train() if training else model.eval()
    loss_fn = nn.SoftmaxLoss()
    errors, total_loss, count = 0, 0.0, 0
    batches = dataloader
    if training and description is not None:
        # disable=None: the bar shows on a terminal only, so logs and pipes get the epoch lines alone.
        batches = tqdm(dataloader, desc=description, leave=False, unit="batch", disable=None)
    with contextlib.nullcontext() if training else ndl.no_grad():
        for X, y in batches:
            X = X.reshape((X.shape[0],) + (tuple(input_shape) if input_shape else (-1,)))
            if training and compiled is not None:
                loss, logits = compiled.step(X, y, opt)
            else:
                logits = model(X)
                loss = loss_fn(logits, y)
            if training and compiled is None:
                opt.reset_grad()
                loss.backward(create_graph=False)
                opt.step()
            errors += int(np.sum(logits.numpy().argmax(axis=1) != y.numpy()))
            total_loss += float(loss.numpy()) * X.shape[0]
            count += X.shape[0]
            if batches is not dataloader:
                batches.set_postfix(loss=f"{total_loss / count:.4f}", refresh=False)
    if count == 0:
        raise ValueError("run_epoch: the data loader yielded no samples")
    return errors / count, total_loss / count
