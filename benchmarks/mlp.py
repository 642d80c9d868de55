"""Workloads 1 and 3: an MLP 784-256-10 (ReLU, softmax cross-entropy) trained by SGD, and its
Hessian-vector product, in needle, by hand in NumPy, in PyTorch and in HIPS autograd."""
import numpy as np

import needle as ndl

from .common import optional_import, seeded_weights

HIDDEN = 256
CLASSES = 10


def _weights():
    return seeded_weights([(784, HIDDEN), (HIDDEN, CLASSES)])


# ---- one SGD epoch ---------------------------------------------------------------------------
# Each `*_epoch(X, y, lr, batch)` builds its model from the shared weights and returns `epoch()`,
# which trains one epoch and returns the last batch's loss: only `epoch()` is timed, since building
# a model is not part of an epoch (a training run does it once).


def numpy_epoch(X, y, lr, batch):
    """Forward and backward derived by hand: the floor for any NumPy-backed framework."""
    W1, b1, W2, b2 = _weights()

    def epoch():
        losses = []
        for start in range(0, len(X), batch):
            xb, yb = X[start:start + batch], y[start:start + batch]
            rows = np.arange(len(xb))
            hidden = xb @ W1 + b1
            np.maximum(hidden, 0, out=hidden)
            logits = hidden @ W2 + b2
            logits -= logits.max(axis=1, keepdims=True)
            probs = np.exp(logits)
            probs /= probs.sum(axis=1, keepdims=True)
            losses.append(-np.log(probs[rows, yb]).mean())
            probs[rows, yb] -= 1
            probs /= len(xb)  # d loss / d logits
            grad_W2, grad_b2 = hidden.T @ probs, probs.sum(axis=0)
            d_hidden = probs @ W2.T
            d_hidden *= hidden > 0
            grad_W1, grad_b1 = xb.T @ d_hidden, d_hidden.sum(axis=0)
            for param, grad in ((W1, grad_W1), (b1, grad_b1), (W2, grad_W2), (b2, grad_b2)):
                param -= lr * grad
        return float(losses[-1])

    return epoch


def needle_model():
    """nn.Sequential(Linear, ReLU, Linear) holding the shared initial weights."""
    model = ndl.nn.Sequential(ndl.nn.Linear(784, HIDDEN), ndl.nn.ReLU(), ndl.nn.Linear(HIDDEN, CLASSES))
    W1, b1, W2, b2 = _weights()
    first, _, second = model.modules
    first.weight.data, first.bias.data = ndl.Tensor(W1), ndl.Tensor(b1.reshape(1, -1))
    second.weight.data, second.bias.data = ndl.Tensor(W2), ndl.Tensor(b2.reshape(1, -1))
    return model


def needle_epoch(X, y, lr, batch):
    """The same epoch written as a needle user writes it: DataLoader, nn modules, SGD."""
    model = needle_model()
    loss_fn = ndl.nn.SoftmaxLoss()
    opt = ndl.optim.SGD(model.parameters(), lr=lr)
    loader = ndl.data.DataLoader(ndl.data.NDArrayDataset(X, y), batch_size=batch)

    def epoch():
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.reset_grad()
            loss.backward()
            opt.step()
        return float(loss.numpy())

    return epoch


def torch_epoch(X, y, lr, batch):
    torch = optional_import("torch")
    W1, b1, W2, b2 = _weights()
    model = torch.nn.Sequential(torch.nn.Linear(784, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, CLASSES))
    with torch.no_grad():
        for layer, W, b in ((model[0], W1, b1), (model[2], W2, b2)):
            layer.weight.copy_(torch.from_numpy(W.T.copy()))
            layer.bias.copy_(torch.from_numpy(b))
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))

    def epoch():
        for start in range(0, len(X), batch):
            loss = loss_fn(model(Xt[start:start + batch]), yt[start:start + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return float(loss.item())

    return epoch


def _autograd_loss(anp):
    def loss(params, xb, yb):
        W1, b1, W2, b2 = params
        hidden = anp.maximum(anp.dot(xb, W1) + b1, 0.0)
        logits = anp.dot(hidden, W2) + b2
        shifted = logits - anp.max(logits, axis=1, keepdims=True)
        log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.mean(log_probs[np.arange(len(yb)), yb])

    return loss


def autograd_epoch(X, y, lr, batch):
    autograd = optional_import("autograd")
    import autograd.numpy as anp

    loss_grad = autograd.value_and_grad(_autograd_loss(anp))
    initial = _weights()

    def epoch():
        params = initial
        for start in range(0, len(X), batch):
            value, grads = loss_grad(params, X[start:start + batch], y[start:start + batch])
            params = [p - lr * g for p, g in zip(params, grads)]
        return float(value)

    return epoch


EPOCH = {"numpy": numpy_epoch, "needle": needle_epoch, "torch": torch_epoch, "autograd": autograd_epoch}


# ---- Hessian-vector product with respect to W1 on one batch ------------------------------------


def numpy_hvp(xb, yb, V):
    """Pearlmutter's R-operator by hand: push the direction V through the forward and backward pass."""
    W1, b1, W2, b2 = _weights()
    rows = np.arange(len(xb))
    pre = xb @ W1 + b1
    mask = pre > 0
    hidden = pre * mask
    logits = hidden @ W2 + b2
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    d_hidden = (xb @ V) * mask  # R{hidden}
    d_logits = d_hidden @ W2  # R{logits}
    d_probs = probs * (d_logits - (probs * d_logits).sum(axis=1, keepdims=True))  # R{softmax}
    grad_pre = ((d_probs / len(rows)) @ W2.T) * mask  # R{d loss / d pre}
    return xb.T @ grad_pre


def needle_hvp(xb, yb, V):
    """Reverse over reverse: the gradient as a graph, differentiated again along V."""
    model = needle_model()
    W1 = model.modules[0].weight
    loss = ndl.nn.SoftmaxLoss()(model(ndl.Tensor(xb, requires_grad=False)), ndl.Tensor(yb))
    grad_W1 = ndl.autograd.grad(loss, W1, create_graph=True)
    return ndl.autograd.grad(grad_W1, W1, out_grad=ndl.Tensor(V)).numpy()


def torch_hvp(xb, yb, V):
    torch = optional_import("torch")
    W1, b1, W2, b2 = (torch.from_numpy(w).requires_grad_() for w in _weights())
    logits = torch.relu(torch.from_numpy(xb) @ W1 + b1) @ W2 + b2
    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(yb.astype(np.int64)))
    (grad_W1,) = torch.autograd.grad(loss, W1, create_graph=True)
    (hv,) = torch.autograd.grad(grad_W1, W1, grad_outputs=torch.from_numpy(V))
    return hv.numpy()


def autograd_hvp(xb, yb, V):
    autograd = optional_import("autograd")
    import autograd.numpy as anp

    loss = _autograd_loss(anp)
    W1, b1, W2, b2 = _weights()
    grad_W1 = autograd.grad(lambda W: loss([W, b1, W2, b2], xb, yb))
    return autograd.grad(lambda W: anp.sum(grad_W1(W) * V))(W1)


HVP = {"numpy": numpy_hvp, "needle": needle_hvp, "torch": torch_hvp, "autograd": autograd_hvp}
