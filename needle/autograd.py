"""The autograd engine: graph nodes (Value, Tensor, TensorTuple), ops and grad mode.

An op's output is a node that remembers the op and its inputs. `compute` runs eagerly on NumPy
arrays; `gradient` maps the output adjoint to one adjoint per input and is written with needle ops,
so adjoints are graph nodes too and can be differentiated again. `jvp` is the forward-mode rule.
The sweeps over a graph live in `sweeps.py`; the public ones are re-exported here.
"""
import contextlib
import re

import numpy as np

from .device import cpu

# needle: the number of live Values, counted up whenever one is made and down in `__del__`.
TENSOR_COUNTER = 0

# How many Values have ever been made: each node's `_order`. A node's inputs exist before it does,
# so decreasing `_order` is a reverse topological order, and the backward sweep needs no sort.
_MADE = 0

_grad_enabled = True

# Set by anomaly.detect_anomaly(); when on, each result and each adjoint is checked for NaN/Inf.
_anomaly_enabled = False

# id(node) -> where user code made it, for nodes made under detect_anomaly(); dropped as they die.
_creation_sites = {}


def is_grad_enabled():
    """True unless inside `no_grad()`: whether new op results record their op and inputs."""
    return _grad_enabled


class _SwitchMode(contextlib.ContextDecorator):
    """Set one of this module's switches (the global named by `switch`) for a `with` block or a
    decorated function; blocks nest, and each restores the value it found."""

    switch = None

    def __init__(self, enabled):
        self.enabled = enabled
        self.previous = []

    def __enter__(self):
        self.previous.append(globals()[self.switch])
        globals()[self.switch] = self.enabled
        return self

    def __exit__(self, *exc):
        globals()[self.switch] = self.previous.pop()
        return False


class _GradMode(_SwitchMode):
    """Whether graphs are recorded."""

    switch = "_grad_enabled"


class _AnomalyMode(_SwitchMode):
    """Whether each result and adjoint is checked for NaN/Inf (`anomaly.detect_anomaly`)."""

    switch = "_anomaly_enabled"


def no_grad():
    """Context manager (and decorator) inside which ops record no graph: results are constants."""
    return _GradMode(False)


def enable_grad():
    """Context manager (and decorator) that turns graph recording back on inside `no_grad()`."""
    return _GradMode(True)


class Op:
    """An operator: `compute` on arrays, `gradient` (reverse rule) and `jvp` (forward rule) on Tensors."""

    differentiable = True

    def __call__(self, *args):
        raise NotImplementedError(f"{type(self).__name__}: use TensorOp or TensorTupleOp")

    def compute(self, *args):
        raise NotImplementedError(f"{type(self).__name__}.compute is not defined")

    def gradient(self, out_grad, node):
        """Adjoints of the inputs given the output adjoint `out_grad`; None marks an unneeded one."""
        raise NotImplementedError(f"{type(self).__name__} has no reverse-mode rule")

    def gradient_as_tuple(self, out_grad, node):
        """`gradient`, always as a tuple with one entry per input."""
        grads = self.gradient(out_grad, node)
        if isinstance(grads, tuple):
            return grads
        if isinstance(grads, list):
            return tuple(grads)
        return (grads,)

    def jvp(self, tangents, node):
        """Tangent of the output given one tangent per input (forward mode)."""
        raise NotImplementedError(f"{type(self).__name__} has no forward-mode rule")


def _op_name(op):
    return type(op).__name__


class TensorOp(Op):
    """An op whose output is one Tensor."""

    def __call__(self, *args):
        return Tensor.make_from_op(self, args)


class TensorTupleOp(Op):
    """An op whose output is a TensorTuple."""

    def __call__(self, *args):
        return TensorTuple.make_from_op(self, args)


class LinearOp(TensorOp):
    """An op linear in all its inputs together, f(a + b) = f(a) + f(b): its jvp is the op itself."""

    def jvp(self, tangents, node):
        return self(*tangents)


class MultilinearOp(TensorOp):
    """An op linear in each input separately: its jvp is Σ_i f(x_1, …, ẋ_i, …, x_n)."""

    def jvp(self, tangents, node):
        inputs = node.inputs
        total = None
        for i, tangent in enumerate(tangents):
            if type(tangent) is ZeroTangent:
                continue  # a known-zero term: skip the product (a whole matmul for matmul)
            term = self(*inputs[:i], tangent, *inputs[i + 1:])
            total = term if total is None else total + term
        return total


_NAMED_ERROR = re.compile(r"^[a-z_]+: ")


def _raise_named(op, inputs, error):
    """Re-raise an error from `op.compute` so that it names the op and the input shapes.

    An op's own errors already start with its function name (`matmul: ...`) and pass unchanged;
    NumPy's get the op's class name and the input shapes in front.
    """
    message = str(error)
    if _NAMED_ERROR.match(message):
        raise error
    shapes = ", ".join(str(getattr(x.cached_data, "shape", "tuple")) for x in inputs)
    raise type(error)(f"{_op_name(op)}: inputs {shapes}: {message}") from error


class Value:
    """A node of the computation graph: the op that made it, its inputs and its computed data."""

    # Six fields, no weak references: at this size a deep graph costs the cycle collector half as
    # much as at the next allocation size (measured on a 10^6-node chain).
    __slots__ = ("op", "inputs", "cached_data", "requires_grad", "grad", "_order")

    def realize_cached_data(self):
        """The stored result (computed eagerly when the node was made); not a copy."""
        return self.cached_data

    def is_leaf(self):
        return self.op is None

    def __del__(self):
        global TENSOR_COUNTER
        TENSOR_COUNTER -= 1
        if _creation_sites:
            _creation_sites.pop(id(self), None)

    def _init(self, op, inputs, *, num_outputs=1, cached_data=None, requires_grad=None):
        """Set every field (the course's signature; `num_outputs` is accepted and unused)."""
        global TENSOR_COUNTER, _MADE
        TENSOR_COUNTER += 1
        _MADE += 1
        self._order = _MADE
        if requires_grad is None:
            requires_grad = any(x.requires_grad for x in inputs)
        self.op = op
        self.inputs = tuple(inputs)
        self.cached_data = cached_data
        self.requires_grad = requires_grad
        self.grad = None

    @classmethod
    def make_const(cls, data, *, requires_grad=False):
        """A leaf holding `data` itself (no copy)."""
        global TENSOR_COUNTER, _MADE
        value = object.__new__(cls)
        TENSOR_COUNTER += 1
        _MADE += 1
        value._order = _MADE
        value.op = None
        value.inputs = ()
        value.cached_data = data
        value.requires_grad = requires_grad
        value.grad = None
        return value

    @classmethod
    def make_from_op(cls, op, inputs, result=None):
        """Run `op` now; record it and its inputs only when grad mode is on and an input needs grad.

        `result`: op(*inputs) when the caller already has it (found while computing another op),
        taken as the node's data instead of running `compute` again.
        """
        global TENSOR_COUNTER, _MADE
        try:  # the common arities without building a list
            if result is not None:
                data = result
            elif len(inputs) == 1:
                data = op.compute(inputs[0].cached_data)
            elif len(inputs) == 2:
                data = op.compute(inputs[0].cached_data, inputs[1].cached_data)
            else:
                data = op.compute(*[x.cached_data for x in inputs])
        except (ValueError, TypeError, IndexError) as error:
            _raise_named(op, inputs, error)
        # NumPy's result as it comes: a 0-d result is a NumPy scalar, which later ops take faster
        # than a 0-d array (a 10^6-node scalar chain runs 1.5x faster). `numpy()` hands out arrays.
        value = object.__new__(cls)
        TENSOR_COUNTER += 1
        _MADE += 1
        value._order = _MADE
        value.cached_data = data
        value.grad = None
        if _anomaly_enabled:
            _anomaly.on_result(value, op, inputs)
        if _grad_enabled and op.differentiable:
            for x in inputs:
                if x.requires_grad:
                    value.op = op
                    value.inputs = inputs if type(inputs) is tuple else tuple(inputs)
                    value.requires_grad = True
                    return value
        value.op = None
        value.inputs = ()
        value.requires_grad = False
        return value


class TensorTuple(Value):
    """A tuple of Tensors as one graph node (the output of a TensorTupleOp)."""

    __slots__ = ()

    def __len__(self):
        return len(self.cached_data)

    def __getitem__(self, index):
        from .ops import tuple_get_item

        return tuple_get_item(self, index)

    def tuple(self):
        return tuple(self[i] for i in range(len(self)))

    def __repr__(self):
        return f"needle.TensorTuple{self.tuple()!r}"

    def __str__(self):
        return "(" + ", ".join(str(x) for x in self.tuple()) + ")"

    def __add__(self, other):
        from .ops import make_tuple

        if not isinstance(other, TensorTuple) or len(self) != len(other):
            raise ValueError("TensorTuple + : both operands must be TensorTuples of one length")
        return make_tuple(*[self[i] + other[i] for i in range(len(self))])

    def detach(self):
        return TensorTuple.make_const(self.cached_data)


class Tensor(Value):
    """An n-dimensional array in the graph. `Tensor(array, dtype=None, requires_grad=True)`."""

    __slots__ = ()

    def __init__(self, array, *, device=None, dtype=None, requires_grad=True, **kwargs):
        if device is not None and device != cpu():
            raise ValueError(f"Tensor: unknown device {device!r}; needle runs on cpu()")
        if isinstance(array, Tensor):
            data = np.asarray(array.cached_data, dtype=dtype)
        else:
            data = _array_from(array, dtype)
        self._init(None, (), cached_data=data, requires_grad=requires_grad)

    @staticmethod
    def from_numpy(array, *, requires_grad=False):
        """A leaf over `array` itself, no copy."""
        return Tensor.make_const(np.asarray(array), requires_grad=requires_grad)

    # ---- data and metadata -------------------------------------------------------------------

    @property
    def data(self):
        """A new detached leaf sharing this tensor's storage."""
        return self.detach()

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data: expected a Tensor, got {type(value).__name__}")
        self.cached_data = np.asarray(value.cached_data)  # an array (a 0-d result is a scalar)

    def detach(self):
        """A constant leaf (no op, no inputs, requires_grad False) sharing this tensor's storage."""
        return Tensor.make_const(self.cached_data)

    @property
    def shape(self):
        return self.cached_data.shape

    @property
    def dtype(self):
        return self.cached_data.dtype

    @property
    def ndim(self):
        return self.cached_data.ndim

    @property
    def device(self):
        return cpu()

    def numpy(self):
        """The stored array itself (a 0-d op result, kept as a NumPy scalar, comes as a 0-d array)."""
        data = self.cached_data
        return data if type(data) is np.ndarray else np.asarray(data)

    def item(self):
        if self.cached_data.size != 1:
            raise ValueError(f"Tensor.item: only one-element tensors convert, got shape {self.shape}")
        return self.cached_data.item()

    def __repr__(self):
        return f"needle.Tensor({self.cached_data!r})"

    def __str__(self):
        return str(self.cached_data)

    def __array__(self, dtype=None, copy=None):
        return np.array(self.cached_data, dtype=dtype, copy=copy)

    # ---- differentiation ---------------------------------------------------------------------

    def backward(self, out_grad=None, *, create_graph=True):
        """Store d(self)/d(node) as `node.grad` for every node; seed `out_grad` (default ones).

        needle: by default the adjoints are recorded graphs, so `x.grad.backward()` works; pass
        `create_graph=False` for first-order gradients only (constants, cheaper).
        """
        if out_grad is None:
            out_grad = Tensor.make_const(np.ones(self.shape, dtype=self.dtype))
        compute_gradient_of_variables(self, out_grad, create_graph=create_graph)

    # ---- operators ---------------------------------------------------------------------------

    # The operators build op nodes directly: they are the hottest path of a small-tensor graph.

    def __add__(self, other):
        if isinstance(other, Tensor):
            return Tensor.make_from_op(EWiseAdd(), (self, other))
        return Tensor.make_from_op(_scalar_op(AddScalar, other), (self,))

    __radd__ = __add__

    def __mul__(self, other):
        if isinstance(other, Tensor):
            return Tensor.make_from_op(EWiseMul(), (self, other))
        return Tensor.make_from_op(_scalar_op(MulScalar, other), (self,))

    __rmul__ = __mul__

    def __sub__(self, other):
        # needle: Tensor - Tensor is negate then add (two nodes); Tensor - scalar is one add_scalar.
        if isinstance(other, Tensor):
            negated = Tensor.make_from_op(Negate(), (other,))
            return Tensor.make_from_op(EWiseAdd(), (self, negated))
        return Tensor.make_from_op(_scalar_op(AddScalar, -other), (self,))

    def __rsub__(self, other):
        return ops.add_scalar(ops.negate(self), other)

    def __truediv__(self, other):
        if isinstance(other, Tensor):
            return ops.divide(self, other)
        return ops.divide_scalar(self, other)

    def __rtruediv__(self, other):
        return ops.mul_scalar(ops.power_scalar(self, -1), other)

    def __pow__(self, other):
        if isinstance(other, Tensor):
            return ops.power(self, other)
        return ops.power_scalar(self, other)

    def __rpow__(self, other):
        return ops.power(Tensor.make_const(_array_from(other, self.dtype)), self)

    def __neg__(self):
        return ops.negate(self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    def __lt__(self, other):
        return ops.less(self, other)

    def __le__(self, other):
        return ops.less_equal(self, other)

    def __gt__(self, other):
        return ops.greater(self, other)

    def __ge__(self, other):
        return ops.greater_equal(self, other)

    # NumPy defers to the reflected operators, so `np.float64(2) * t` is a Tensor, not an array.
    __array_ufunc__ = None

    # needle: no elementwise ==; tensors keep identity equality and hashing (they are dict keys).
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    # ---- methods -----------------------------------------------------------------------------

    def sum(self, axes=None, keepdims=False):
        return ops.summation(self, axes, keepdims=keepdims)

    def mean(self, axes=None, keepdims=False):
        return ops.mean(self, axes, keepdims=keepdims)

    def max(self, axes=None, keepdims=False):
        return ops.max(self, axes, keepdims=keepdims)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return ops.reshape(self, tuple(shape))

    def broadcast_to(self, shape):
        return ops.broadcast_to(self, shape)

    def transpose(self, axes=None):
        return ops.transpose(self, axes)

    def permute(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = axes[0]
        return ops.permute(self, tuple(axes))

    def matmul(self, other):
        return ops.matmul(self, other)

    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def relu(self):
        return ops.relu(self)

    def tanh(self):
        return ops.tanh(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def sqrt(self):
        return ops.sqrt(self)

    def abs(self):
        return ops.abs(self)


# The operators' scalar ops, one per float value: ops are immutable, so nodes may share one, and
# a graph of scalar arithmetic then makes two objects per node instead of three (the op, the node
# and its inputs), a third less work for the cycle collector. Zero (its sign matters) and NaN are
# never shared; a table is emptied when it reaches 256 values.
_shared_scalar_ops = {}


def _scalar_op(op_class, scalar):
    if type(scalar) is not float or not scalar or scalar != scalar:
        return op_class(scalar)
    table = _shared_scalar_ops.get(op_class)
    if table is None:
        table = _shared_scalar_ops[op_class] = {}
    op = table.get(scalar)
    if op is None:
        if len(table) >= 256:
            table.clear()
        op = table[scalar] = op_class(scalar)
    return op


def _array_from(array, dtype):
    """An owned ndarray from a list, scalar or array; `dtype` None keeps NumPy's inference."""
    if isinstance(array, Value):
        array = array.cached_data
    return np.array(array, dtype=None if dtype is None else np.dtype(dtype))


class ZeroTangent(Tensor):
    """The tangent of an input with none seeded: zeros that product rules may skip."""

    __slots__ = ()


from .sweeps import compute_gradient_of_variables, find_topo_sort, grad, tangent_sweep  # noqa: E402,F401
from . import ops  # noqa: E402  (ops import Tensor from this module)
from .ops import AddScalar, EWiseAdd, EWiseMul, MulScalar, Negate  # noqa: E402
from . import anomaly as _anomaly  # noqa: E402  (the hooks above; it flips _anomaly_enabled)
from .anomaly import AnomalyError, detect_anomaly  # noqa: E402,F401
