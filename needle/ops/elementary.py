"""Elementary functions beyond the core: log1p, expm1, the inverse trigonometric and hyperbolic functions, ..."""
__all__ = []
