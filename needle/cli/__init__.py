"""needle-train, the training command line (`needle-train --help`, or `python -m needle.cli.train`).

train (entry point), arguments, settings, data, download, models, optimizers, epoch, checkpoint,
schema (what a checkpoint may hold) and plot: one job per module. cifar (CIFAR-10's download and
loading), cnn_models (ResNet9 and the MNIST CNN) and augment (random image shifts) serve the CNNs.
Nothing is imported here, so `python -m needle.cli.train` runs the module once.
"""
__all__ = []
