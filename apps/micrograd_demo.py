"""micrograd's classic demo in needle: an MLP 2-16-3 learns the three-arm spiral with Adam.

    python apps/micrograd_demo.py

Full-batch Adam with a little weight decay; the validation loss falls below 0.01 within 100 steps.
The arms all start at the origin, where the classes cannot be told apart, so points closer than
MIN_RADIUS to it are left out of the data.
"""
import numpy as np

import needle as ndl
import needle.nn as nn

POINTS_PER_CLASS = 300
NOISE = 0.1
MIN_RADIUS = 0.2


def spiral_splits(seed=0):
    """(train, val, test) NDArrayDatasets of the spiral without its ambiguous centre (60/20/20)."""
    X, y = ndl.data.make_spiral(POINTS_PER_CLASS, num_classes=3, noise=NOISE, seed=seed)
    keep = np.linalg.norm(X, axis=1) >= MIN_RADIUS
    return ndl.data.train_val_test_split(X[keep], y[keep], seed=seed)


def train_spiral(steps=100, lr=0.3, weight_decay=1e-5, hidden=16, seed=0, log=print):
    """Train the MLP 2-hidden-3 for `steps` full-batch Adam steps; returns the validation losses.

    Also logs the validation loss and accuracy every 10 steps and the test accuracy at the end.
    """
    train_set, val_set, test_set = spiral_splits()
    np.random.seed(seed)
    model = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 3))
    opt = ndl.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.SoftmaxLoss()
    X_train, y_train = (ndl.Tensor(a, requires_grad=False) for a in train_set.arrays)
    val_losses = []
    for step in range(1, steps + 1):
        model.train()
        loss = loss_fn(model(X_train), y_train)
        opt.reset_grad()
        loss.backward(create_graph=False)
        opt.step()
        val_loss, val_accuracy = evaluate(model, loss_fn, val_set)
        val_losses.append(val_loss)
        if step % 10 == 0:
            log(f"step {step:3d}  train loss {float(loss.numpy()):.4f}  val loss {val_loss:.4f}  "
                f"val accuracy {100 * val_accuracy:.1f}%")
    _, test_accuracy = evaluate(model, loss_fn, test_set)
    log(f"test accuracy {100 * test_accuracy:.1f}% on {len(test_set)} points")
    return val_losses


def evaluate(model, loss_fn, dataset):
    """(mean loss, accuracy) of `model` on a whole NDArrayDataset, without recording a graph."""
    X, y = dataset.arrays
    model.eval()
    with ndl.no_grad():
        logits = model(ndl.Tensor(X))
        loss = float(loss_fn(logits, ndl.Tensor(y)).numpy())
    return loss, float(np.mean(logits.numpy().argmax(axis=1) == y))


if __name__ == "__main__":
    losses = train_spiral()
    below = next((i + 1 for i, loss in enumerate(losses) if loss < 0.01), None)
    print(f"validation loss {losses[-1]:.4f} after {len(losses)} steps; first below 0.01 at step {below}")
