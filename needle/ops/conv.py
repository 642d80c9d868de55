"""Convolution: dilate, undilate and conv (2-D, NHWC input, (K, K, C_in, C_out) kernel)."""
__all__ = []
