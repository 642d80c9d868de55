"""Linear regression by minibatch SGD: fit y = w·x + b to points from y = 2x + 5 + noise.

    python apps/linear_regression.py      # prints the loss every 10 epochs, then w ≈ 2 and b ≈ 5
"""
import numpy as np

import needle as ndl
import needle.nn as nn


def fit_line(epochs=30, batch_size=10, lr=0.05, num_points=200, seed=0, log=print):
    """Fit nn.Linear(1, 1) with mean squared error and SGD; returns (w, b, final training loss).

    The data come from ndl.data.make_linear_regression (slope 2, intercept 5, noise 0.1).
    """
    np.random.seed(seed)
    X, y = ndl.data.make_linear_regression(num_points, slope=2.0, intercept=5.0, noise=0.1, seed=seed)
    loader = ndl.data.DataLoader(ndl.data.NDArrayDataset(X, y), batch_size, shuffle=True)
    model = nn.Linear(1, 1)
    loss_fn = nn.MSELoss()
    opt = ndl.optim.SGD(model.parameters(), lr=lr)

    def full_batch_loss():
        with ndl.no_grad():
            return float(loss_fn(model(ndl.Tensor(X)), ndl.Tensor(y)).numpy())

    for epoch in range(1, epochs + 1):
        for inputs, targets in loader:
            loss = loss_fn(model(inputs), targets)
            opt.reset_grad()
            loss.backward(create_graph=False)
            opt.step()
        if epoch % 10 == 0:
            log(f"epoch {epoch:3d}  mse {full_batch_loss():.5f}")
    return float(model.weight.numpy().item()), float(model.bias.numpy().item()), full_batch_loss()


if __name__ == "__main__":
    w, b, loss = fit_line()
    print(f"w = {w:.4f} (true 2), b = {b:.4f} (true 5), mse = {loss:.5f} (noise variance 0.01)")
