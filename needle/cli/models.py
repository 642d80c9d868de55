"""The classifiers needle-train builds: softmax regression, a one-hidden-layer MLP, the MLP-ResNet,
and the CNNs of apps/models.py (MnistCNN as cnn, ResNet9 as resnet9).

ResidualBlock and MLPResNet follow the course's contract (apps/mlp_resnet.py re-exports them).
"""
import needle.nn as nn

from .cnn_models import MnistCNN, ResNet9

__all__ = ["MODELS", "ResidualBlock", "MLPResNet", "build_model"]

MODELS = ("softmax", "mlp", "resnet", "cnn", "resnet9")


def ResidualBlock(dim, hidden_dim, norm=nn.BatchNorm1d, drop_prob=0.1):
    """(B, dim) → (B, dim): relu(x + norm(W2 · dropout(relu(norm(W1 x))))), W1: dim → hidden_dim."""
    return nn.Sequential(
        nn.Residual(
            nn.Sequential(
                nn.Linear(dim, hidden_dim),
                norm(hidden_dim),
                nn.ReLU(),
                nn.Dropout(drop_prob),
                nn.Linear(hidden_dim, dim),
                norm(dim),
            )
        ),
        nn.ReLU(),
    )


def MLPResNet(dim, hidden_dim=100, num_blocks=3, num_classes=10, norm=nn.BatchNorm1d, drop_prob=0.1):
    """(B, dim) → logits (B, num_classes): Linear, ReLU, `num_blocks` residual blocks, Linear.

    Each block works at width hidden_dim with an inner width hidden_dim // 2. Layers are built in
    the order they run, so their initial weights draw from the RNG in that order.
    """
    return nn.Sequential(
        nn.Linear(dim, hidden_dim),
        nn.ReLU(),
        *[ResidualBlock(hidden_dim, hidden_dim // 2, norm, drop_prob) for _ in range(num_blocks)],
        nn.Linear(hidden_dim, num_classes),
    )


def build_model(name, in_features, num_classes, hidden, image_shape=None):
    """(B, in_features) → logits (B, num_classes). softmax: one Linear; mlp: Linear, ReLU, Linear;
    resnet: MLPResNet with 3 blocks. `hidden` is the hidden width (unused by softmax).
    cnn and resnet9 take images (B, *image_shape) instead: MnistCNN for (C, S, S), ResNet9 for (3, 32, 32)."""
    if name == "resnet9":
        return ResNet9()
    if name == "cnn":
        channels, side, _ = image_shape
        return MnistCNN(in_channels=channels, num_classes=num_classes, side=side)
    if name == "softmax":
        return nn.Linear(in_features, num_classes)
    if name == "mlp":
        return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))
    if name == "resnet":
        return MLPResNet(in_features, hidden_dim=hidden, num_classes=num_classes)
    raise ValueError(f"build_model: unknown model {name!r}; expected one of {', '.join(MODELS)}")
