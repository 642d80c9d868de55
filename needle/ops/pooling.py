"""Pooling over the spatial axes of NCHW input: max_pool2d and avg_pool2d."""
__all__ = []
