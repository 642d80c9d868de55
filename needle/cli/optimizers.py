"""The optimizers needle-train offers by name, and its learning-rate schedule."""
import needle as ndl

__all__ = ["OPTIMIZERS", "build_optimizer", "build_scheduler"]

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw")
MOMENTUM = 0.9  # β of the momentum and nesterov optimizers


def build_optimizer(name, params, lr, weight_decay):
    """sgd; heavy-ball or Nesterov momentum with β = 0.9; Adam (coupled L2) or AdamW (decoupled)."""
    if name == "sgd":
        return ndl.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return ndl.optim.Momentum(params, lr=lr, beta=MOMENTUM, weight_decay=weight_decay)
    if name == "nesterov":
        return ndl.optim.Nesterov(params, lr=lr, beta=MOMENTUM, weight_decay=weight_decay)
    if name == "adam":
        return ndl.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return ndl.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"build_optimizer: unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")


def build_scheduler(opt, lr_decay, epochs_done=0):
    """ExponentialLR(opt, lr_decay) advanced past `epochs_done` epochs: epoch i trains at lr · lr_decay^i."""
    scheduler = ndl.optim.ExponentialLR(opt, gamma=lr_decay)
    for _ in range(epochs_done):
        scheduler.step()
    return scheduler
