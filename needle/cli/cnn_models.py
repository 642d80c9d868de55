"""The CNNs of apps/models.py (which re-exports them) that needle-train builds: the course's ResNet9 for
CIFAR-10 and a small CNN for MNIST, both over NCHW images.
"""
import needle.nn as nn

__all__ = ["ConvBN", "ResNet9", "MnistCNN"]


def ConvBN(in_channels, out_channels, kernel_size, stride, device=None, dtype="float32"):
    """(N, C_in, H, W) → (N, C_out, H', W'): Conv (padding K // 2), BatchNorm2d, ReLU."""
    return nn.Sequential(
        nn.Conv(in_channels, out_channels, kernel_size, stride=stride, device=device, dtype=dtype),
        nn.BatchNorm2d(out_channels, device=device, dtype=dtype),
        nn.ReLU(),
    )


class ResNet9(nn.Module):
    """The course's ResNet9 for CIFAR-10: (N, 3, 32, 32) → logits (N, 10), 431,946 parameters.

    ConvBN(3,16,7,4), ConvBN(16,32,3,2), Residual of two ConvBN(32,32,3,1), ConvBN(32,64,3,2),
    ConvBN(64,128,3,2), Residual of two ConvBN(128,128,3,1), Flatten, Linear(128,128), ReLU,
    Linear(128,10), built in that order (so initial weights draw from the RNG in that order). The
    strides take 32 × 32 down to 1 × 1 before Flatten.
    """

    def __init__(self, device=None, dtype="float32"):
        super().__init__()
        kw = dict(device=device, dtype=dtype)
        self.model = nn.Sequential(
            ConvBN(3, 16, 7, 4, **kw),
            ConvBN(16, 32, 3, 2, **kw),
            nn.Residual(nn.Sequential(ConvBN(32, 32, 3, 1, **kw), ConvBN(32, 32, 3, 1, **kw))),
            ConvBN(32, 64, 3, 2, **kw),
            ConvBN(64, 128, 3, 2, **kw),
            nn.Residual(nn.Sequential(ConvBN(128, 128, 3, 1, **kw), ConvBN(128, 128, 3, 1, **kw))),
            nn.Flatten(),
            nn.Linear(128, 128, **kw),
            nn.ReLU(),
            nn.Linear(128, 10, **kw),
        )

    def forward(self, x):
        if len(x.shape) != 4 or tuple(x.shape[1:]) != (3, 32, 32):
            raise ValueError(f"ResNet9: input must be (N, 3, 32, 32), got {tuple(x.shape)}")
        return self.model(x)


class MnistCNN(nn.Module):
    """A small CNN: (N, C, S, S) → logits (N, num_classes); MNIST's is C = 1, S = 28.

    Two blocks of Conv(3 × 3) → BatchNorm2d → ReLU → MaxPool2d(2) (widths `width` and 2·width,
    halving S twice), then Flatten → Linear(2·width·(S//4)², hidden) → ReLU → Dropout(dropout) →
    Linear(hidden, classes).
    """

    def __init__(self, in_channels=1, num_classes=10, side=28, width=16, hidden=128, dropout=0.25, device=None,
                 dtype="float32"):
        super().__init__()
        if side < 4:
            raise ValueError(f"MnistCNN: side must be at least 4 (two 2 × 2 poolings), got {side}")
        self.input_shape = (in_channels, side, side)
        kw = dict(device=device, dtype=dtype)
        self.model = nn.Sequential(
            ConvBN(in_channels, width, 3, 1, **kw),
            nn.MaxPool2d(2),
            ConvBN(width, 2 * width, 3, 1, **kw),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * width * (side // 4) ** 2, hidden, **kw),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes, **kw),
        )

    def forward(self, x):
        if len(x.shape) != 4 or tuple(x.shape[1:]) != self.input_shape:
            expected = ", ".join(map(str, self.input_shape))
            raise ValueError(f"MnistCNN: input must be (N, {expected}), got {tuple(x.shape)}")
        return self.model(x)
