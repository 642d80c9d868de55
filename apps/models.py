"""The course's models: ResNet9 for CIFAR-10, a small CNN for MNIST, and LanguageModel."""
import needle as ndl
import needle.nn as nn
from needle.cli.language_model import LanguageModel  # noqa: F401  (needle-train builds it; the course's name)
from needle.cli.cnn_models import ConvBN, MnistCNN, ResNet9  # noqa: F401  (needle-train builds them too)
