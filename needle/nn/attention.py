"""Attention: MultiHeadAttention, AttentionLayer, TransformerLayer, Transformer (pre-norm, causal)."""
__all__ = []
