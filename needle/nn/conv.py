"""Convolutional modules over NCHW input: Conv, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten."""
__all__ = []
