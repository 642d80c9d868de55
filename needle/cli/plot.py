"""Training curves as a PNG: loss and accuracy per epoch, train and test side by side.

matplotlib is an optional extra (`pip install -e ".[plot]"`); `plot_curves` raises ImportError
without it, and callers decide what to say.
"""
from pathlib import Path

__all__ = ["plot_curves"]


def plot_curves(history, path, title=None):
    """Write a two-panel PNG to `path`: loss (left) and accuracy in % (right) against the epoch.

    `history` maps "train_loss", "test_loss", "train_acc", "test_acc" to equal-length lists, one
    value per epoch. Raises ImportError when matplotlib is not installed.
    """
    # The object-oriented API draws off-screen without touching pyplot's global backend.
    from matplotlib.figure import Figure

    epochs = range(1, len(history["train_loss"]) + 1)
    figure = Figure(figsize=(9.0, 3.6), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for axes, metric, label in ((loss_axes, "loss", "loss"), (accuracy_axes, "acc", "accuracy (%)")):
        for split, style in (("train", "-o"), ("test", "-s")):
            values = history[f"{split}_{metric}"]
            if metric == "acc":
                values = [100.0 * value for value in values]
            axes.plot(epochs, values, style, markersize=3, label=split)
        axes.set_xlabel("epoch")
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    return path
