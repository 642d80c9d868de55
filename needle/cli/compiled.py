"""needle-train --compile: each training step runs as one `ndl.compile`d program, timed against eager steps."""
import time

import needle as ndl
import needle.nn as nn

__all__ = ["CompiledTraining"]

EAGER_STEPS = 5  # the first steps run eagerly and are timed: the baseline of the reported speed-up


class CompiledTraining:
    """Forward, loss and gradients of `model` compiled (`ndl.compile`, wrt its parameters); the
    optimizer step stays eager. Compiled and eager steps compute the same values, so the first
    EAGER_STEPS steps run eagerly to measure the speed-up without changing the run."""

    def __init__(self, model):
        self.model = model
        self.params = model.parameters()
        self.loss_fn = nn.SoftmaxLoss()
        self.fn = ndl.compile(self._loss_and_logits, wrt=self.params)
        self.eager_seconds = []
        self.compiled_seconds = []

    def _loss_and_logits(self, X, y):
        logits = self.model(X)
        return self.loss_fn(logits, y), logits

    def step(self, X, y, opt):
        """One training step on (X, y); returns (loss, logits)."""
        started = time.perf_counter()
        opt.reset_grad()
        if len(self.eager_seconds) < EAGER_STEPS:
            logits = self.model(X)
            loss = self.loss_fn(logits, y)
            loss.backward(create_graph=False)
            opt.step()
            self.eager_seconds.append(time.perf_counter() - started)
            return loss, logits
        replays = self.fn.replays
        (loss, logits), grads = self.fn(X, y)
        for p, g in zip(self.params, grads):
            p.grad = g
        opt.step()
        if self.fn.replays > replays:  # a traced call is not a compiled one
            self.compiled_seconds.append(time.perf_counter() - started)
        return loss, logits

    def summary(self):
        """One line: eager and compiled milliseconds per step (medians) and their ratio."""
        if not self.eager_seconds or not self.compiled_seconds:
            return "--compile: too few steps to measure the speed-up"
        eager, compiled = _median(self.eager_seconds), _median(self.compiled_seconds)
        reasons = self.fn.eager_reasons
        note = f"; runs eagerly: {reasons[0]}" if reasons else ""
        return (
            f"--compile: {1e3 * compiled:.2f} ms per step compiled, {1e3 * eager:.2f} ms eager: "
            f"{eager / compiled:.2f}x speed-up ({self.fn.retraces} traced signature(s){note})"
        )


def _median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]
