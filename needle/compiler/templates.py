"""Code templates: the NumPy call an op's `compute` makes, written out so a line can take `out=`.

A template must make exactly the NumPy call the op's `compute` makes on the same arguments, so
compiled and eager results are equal bit for bit; an op without one (or whose arguments fall
outside the template's case) is emitted as a call of its own `compute`.
"""
import numpy as np

from .. import ops

__all__ = ["Template", "template_of"]


class Template:
    """`function(*args, *extra(op))`; `elementwise`: an input of the output's shape may be `out`."""

    def __init__(self, function, extra=None, elementwise=True):
        self.function = function
        self.extra = extra
        self.elementwise = elementwise

    def arguments(self, op, names):
        extra = [] if self.extra is None else list(self.extra(op))
        return list(names) + extra

    def accepts_out(self, records, record):
        return True


class MatMulTemplate(Template):
    """np.matmul of two matrices, each transposed as the op says (MatMul.compute's 2-D case)."""

    def __init__(self):
        super().__init__("np.matmul", elementwise=False)

    def arguments(self, op, names):
        lhs, rhs = names
        return [f"{lhs}.T" if op.transpose_a else lhs, f"{rhs}.T" if op.transpose_b else rhs]

    def accepts_out(self, records, record):
        return all(records[a].data.dtype == record.data.dtype for a in record.args)


def _scalar(op):
    return (op.scalar,)


_ELEMENTWISE = {
    ops.EWiseAdd: Template("np.add"),
    ops.EWiseMul: Template("np.multiply"),
    ops.EWiseDiv: Template("np.divide"),
    ops.AddScalar: Template("np.add", _scalar),
    ops.MulScalar: Template("np.multiply", _scalar),
    ops.DivScalar: Template("np.divide", _scalar),
    ops.Negate: Template("np.negative"),
    ops.Exp: Template("np.exp"),
    ops.Log: Template("np.log"),
    ops.Tanh: Template("np.tanh"),
    ops.Sqrt: Template("np.sqrt"),
    ops.ReLU: Template("np.maximum", lambda op: (0,)),
}
_MATMUL = MatMulTemplate()


def template_of(record):
    """The template for `record` (an op record), or None when its compute must be called."""
    if record.kind != "op":
        return None
    op_type = type(record.op)
    template = _ELEMENTWISE.get(op_type)
    if template is not None:
        if op_type in (ops.AddScalar, ops.MulScalar, ops.DivScalar) and not _plain_number(record.op.scalar):
            return None
        return template
    if op_type is ops.MatMul and _is_plain_2d_matmul(record):
        return _MATMUL
    return None


def _plain_number(x):
    return type(x) in (int, float)


def _is_plain_2d_matmul(record):
    return (
        len(record.args) == 2 and type(record.data) is np.ndarray and record.data.ndim == 2
        and not type(record.op).__dict__.get("compute_saving")
        and hasattr(record.op, "transpose_a") and hasattr(record.op, "transpose_b")
    )
