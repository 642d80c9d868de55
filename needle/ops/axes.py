"""The spellings of an op function's axis argument: needle's `axes=`, PyTorch's `dim=`, NumPy's `axis=`.

`@axis_aliases` lets a function whose signature names `axes` (and maybe `keepdims`) also take `dim=`
or `axis=` for it, and `keepdim=` for `keepdims`. The function itself keeps the course's signature.
"""
import functools
import inspect

__all__ = ["axis_aliases"]

_AXIS_SPELLINGS = ("axes", "dim", "axis")


def axis_aliases(fn):
    """`fn` taking `dim=`/`axis=` for `axes` and `keepdim=` for `keepdims`; two spellings of one
    argument are a TypeError that names both."""
    parameters = list(inspect.signature(fn).parameters)
    position = parameters.index("axes")
    has_keepdims = "keepdims" in parameters
    keepdims_position = parameters.index("keepdims") if has_keepdims else None

    @functools.wraps(fn)
    def with_aliases(*args, **kwargs):
        if "dim" in kwargs or "axis" in kwargs or "keepdim" in kwargs:
            _rename(fn.__name__, args, kwargs, position, keepdims_position)
        return fn(*args, **kwargs)

    return with_aliases


def _rename(name, args, kwargs, position, keepdims_position):
    """Rewrite `kwargs` in place: the axis under `axes`, the keepdims flag under `keepdims`."""
    given = [spelling for spelling in _AXIS_SPELLINGS if spelling in kwargs]
    if len(args) > position:
        given.insert(0, "axes (positional)")
    if len(given) > 1:
        raise TypeError(f"{name}: the axis is given twice, as {' and '.join(given)}; pass one")
    for alias in ("dim", "axis"):
        if alias in kwargs:
            kwargs["axes"] = kwargs.pop(alias)
    if "keepdim" in kwargs and keepdims_position is not None:
        if "keepdims" in kwargs or len(args) > keepdims_position:
            raise TypeError(f"{name}: keepdims is given twice, as keepdims and keepdim; pass one")
        kwargs["keepdims"] = kwargs.pop("keepdim")
