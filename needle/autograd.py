"""The graph's nodes (Value, Tensor, TensorTuple) and the base classes of every op.

An op's output is a node that remembers the op and its inputs. `compute` runs eagerly on NumPy
arrays; `gradient` maps the output adjoint to one adjoint per input and is written with needle ops,
so adjoints are graph nodes too and can be differentiated again. `jvp` is the forward-mode rule.

needle's layers, bottom up: `modes` (grad and anomaly mode, per thread), `anomaly`, this module
(with `tensor_methods`, the rest of Tensor's vocabulary), `ops` (built on Tensor), `sweeps` (built
on ops). Tensor's operators and methods are carried out by `ops` and `sweeps`, so they reach them
through the package at call time (`needle.ops.add`), as the course's skeleton does: the one lazy
access in needle, and the reason this module imports `needle`. The course's `autograd.find_topo_sort`
and `compute_gradient_of_variables` are reached the same way (`__getattr__` below).

Speed tricks, each paid for by a workload in `benchmarks/` (`python -m benchmarks.run`):
- `make_from_op` calls `compute` with one or two arrays directly, not through a list (a scalar
  chain like workload 4's runs about 15% slower without it), and keeps NumPy's 0-d results as NumPy scalars, which later
  ops take faster than 0-d arrays (workload 4, the 10^6-node scalar chain: 1.5x).
- The operators share one scalar op per float value (`_scalar_op`): a node of scalar arithmetic
  is then two objects instead of three (the same chain: about 15% slower without).
- `Value.__slots__`, six of them (no `__dict__`, no weak references), and no `__del__`: smaller
  nodes, cheaper to make and to release (workloads 2 and 4; `live_values` counts instead).
- The per-thread modes are read only while some thread has changed one (`modes.changed_anywhere`):
  a thread-local read costs 30 ns, two per node (workload 4: about 4%).
- The reverse sweep writes out its inner loop and reads the modes once per sweep
  (`sweeps._reverse_sweep`), and pauses the cycle collector (`sweeps._SweepModes`, workload 4).
"""
import gc
import re

import numpy as np

import needle

from . import anomaly, modes
from .anomaly import AnomalyError, detect_anomaly
from .device import as_device, cpu
from .tensor_methods import TensorMethods

__all__ = [
    "Value", "Tensor", "TensorTuple", "SavedTensor", "Op", "TensorOp", "TensorTupleOp", "SavingOp",
    "LinearOp", "MultilinearOp", "ZeroTangent", "TENSOR_COUNTER", "live_values", "last_write", "as_tensor",
    "constant_data", "find_topo_sort", "compute_gradient_of_variables", "grad",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "detect_anomaly", "AnomalyError",
]

# A clock that ticks whenever a Value is made or written in place. A node's `_order` is the
# reading when its data was last set: at creation, or by an in-place write (`bump_version`).
# Inputs exist before their node, so decreasing `_order` is a reverse topological order and the
# backward sweep needs no sort; an input with a later `_order` than its node was written after
# the node was made, and the node's rule would read changed data.
_clock = 0

# The clock reading of the latest in-place write to any node (`last_write`). A module global, not
# a class attribute of Value: writing a class attribute invalidates the interpreter's attribute
# caches for every node type, which an optimizer step (a write per parameter) then paid on every
# attribute read until they were rebuilt (a BatchNorm layer's backward: 17% slower; workload 5).
_last_write = 0

# This thread's modes, read on every op (`modes.current`).
_modes = modes.current

# The course's names for the sweeps, which live in `sweeps` (built on this module).
_SWEEP_NAMES = ("find_topo_sort", "compute_gradient_of_variables", "grad", "tangent_sweep")

no_grad, enable_grad = modes.no_grad, modes.enable_grad
set_grad_enabled, is_grad_enabled = modes.set_grad_enabled, modes.is_grad_enabled


def __getattr__(name):
    if name in _SWEEP_NAMES:
        return getattr(needle.sweeps, name)
    if name == "TENSOR_COUNTER":
        return live_values()
    raise AttributeError(f"module 'needle.autograd' has no attribute {name!r}")


class Op:
    """An operator: `compute` on arrays, `gradient` (reverse rule) and `jvp` (forward rule) on Tensors.

    Ops hold only their parameters (axes, a scalar), never per-call state, so one op object may
    make many nodes. What a rule needs from the forward pass is saved on the node (`SavingOp`).
    """

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
        if type(grads) is tuple:
            return grads
        if isinstance(grads, list):
            return tuple(grads)
        return (grads,)

    def jvp(self, tangents, node):
        """Tangent of the output given one tangent per input (forward mode)."""
        raise NotImplementedError(f"{type(self).__name__} has no forward-mode rule")


class TensorOp(Op):
    """An op whose output is one Tensor."""

    def __call__(self, *args):
        return Tensor.make_from_op(self, args)


class TensorTupleOp(Op):
    """An op whose output is a TensorTuple."""

    def __call__(self, *args):
        return TensorTuple.make_from_op(self, args)


class SavingOp(TensorOp):
    """A TensorOp whose rules reuse intermediate results of its forward pass, saved on the node.

    Subclasses write `compute_saving(*arrays) -> (result, saved)`; the node, a `SavedTensor`, keeps
    `saved` for the rules (as minitorch's `save_for_backward`), and `compute` returns the result alone.
    """

    def compute_saving(self, *args):
        raise NotImplementedError(f"{type(self).__name__}.compute_saving is not defined")

    def compute(self, *args):
        return self.compute_saving(*args)[0]

    def __call__(self, *args):
        inputs = _as_inputs(self, args)
        try:
            result, saved = self.compute_saving(*[x.cached_data for x in inputs])
        except (ValueError, TypeError, IndexError) as error:
            _raise_named(self, inputs, error)
        return self.make_node(inputs, result, saved)

    def make_node(self, inputs, result, saved):
        """This op's node over `inputs` from forward results already computed: `result`, `saved`."""
        node = SavedTensor.make_from_op(self, inputs, result)
        node.saved = saved
        return node


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


def last_write():
    """The clock reading of the latest in-place write: a node made after it (larger `_order`)
    cannot have a written input, so the sweep checks versions only for nodes older than this."""
    return _last_write


def live_values():
    """The number of Values alive now, unreachable ones not yet collected included: the course's
    `TENSOR_COUNTER`. Counted when asked, by a scan of the collector's objects, rather than by a
    finalizer on every node: a Python `__del__` costs each node's release about 0.1 µs (workload 2:
    8%)."""
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), Value))


def _raise_named(op, inputs, error):
    """Re-raise an error from `op.compute` so that it names the op and the input shapes.

    An op's own errors already start with its function name (`matmul: ...`) and pass unchanged;
    NumPy's get the op's class name and the input shapes in front.
    """
    message = str(error)
    if _NAMED_ERROR.match(message):
        raise error
    shapes = ", ".join(str(getattr(x.cached_data, "shape", "tuple")) for x in inputs)
    raise type(error)(f"{type(op).__name__}: inputs {shapes}: {message}") from error


def _as_inputs(op, args):
    """`args` with each one that is not a graph node made a constant leaf (`constant_data`)."""
    for x in args:
        if not isinstance(x, Value):
            break
    else:
        return args
    dtypes = [x.cached_data.dtype for x in args if isinstance(x, Tensor)]
    return tuple(
        x if isinstance(x, Value) else Tensor.make_const(constant_data(type(op).__name__, x, dtypes))
        for x in args
    )


def constant_data(name, x, dtypes=()):
    """The array a NumPy array, list or number stands for where a Tensor is expected.

    A number (Python's or NumPy's) is weak, as in PyTorch and NumPy 2: it takes the type the
    `dtypes` of the other inputs promote to with it, so float32 stays float32. An array keeps its
    dtype and NumPy's promotion applies.
    """
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, (bool, int, float, complex)):
        return np.asarray(x, dtype=np.result_type(*dtypes, x))
    if isinstance(x, (list, tuple)) and any(isinstance(item, Value) for item in x):
        raise TypeError(f"{name}: got a {type(x).__name__} of Tensors; join them with ndl.stack first")
    if isinstance(x, (np.ndarray, list, tuple)):
        data = np.asarray(x)
        if data.dtype.kind in "biufc":
            return data
    raise TypeError(f"{name}: expected a Tensor, a NumPy array or a number, got {_described(x)}")


def _described(x):
    dtype = getattr(x, "dtype", None)
    return type(x).__name__ if dtype is None else f"{type(x).__name__} of dtype {dtype}"


class Value:
    """A node of the computation graph: the op that made it, its inputs and its computed data."""

    # Six fields: at this size a node costs the allocator and the cycle collector less than at the
    # next (workload 4). A SavingOp's node adds `saved` (SavedTensor); the rest read None here.
    __slots__ = ("op", "inputs", "cached_data", "requires_grad", "grad", "_order")
    saved = None

    def _init(self, op, inputs, *, num_outputs=1, cached_data=None, requires_grad=None):
        """The course's spelling of `_set` (`num_outputs` is accepted and unused); `requires_grad`
        None: whether any input requires grad."""
        if requires_grad is None:
            requires_grad = _any_requires_grad(inputs)
        self._set(op, tuple(inputs), cached_data, requires_grad)

    def _set(self, op, inputs, data, requires_grad):
        """Set every field and stamp the node's `_order`: the one place a node is made."""
        global _clock
        _clock += 1
        self._order = _clock
        self.op = op
        self.inputs = inputs
        self.cached_data = data
        self.requires_grad = requires_grad
        self.grad = None

    def realize_cached_data(self):
        """The stored result (computed eagerly when the node was made); not a copy."""
        return self.cached_data

    def is_leaf(self):
        return self.op is None

    def bump_version(self):
        """Record an in-place write of this node's data: the rules of nodes made before it refuse
        to read it. A recorded node also becomes a leaf: its data no longer comes from its inputs."""
        global _clock, _last_write
        _clock += 1
        self._order = _last_write = _clock
        self.op, self.inputs = None, ()
        if modes.changed_anywhere and _modes.tracer is not None:
            _modes.tracer.on_write(self)

    @classmethod
    def make_const(cls, data, *, requires_grad=False):
        """A leaf holding `data` itself (no copy); only floating data may require grad."""
        if requires_grad and hasattr(data, "dtype"):
            leaf_requires_grad(f"{cls.__name__}.make_const", data, True)
        value = object.__new__(cls)
        value._set(None, (), data, requires_grad)
        if modes.changed_anywhere and _modes.tracer is not None:  # a detached traced value stays traced
            _modes.tracer.on_leaf(value)
        return value

    @classmethod
    def make_from_op(cls, op, inputs, result=None):
        """Run `op` now; record it and its inputs only when grad mode is on and an input needs grad.

        `inputs` is a tuple. `result`: op(*inputs), when the caller already has it.
        """
        if result is None:
            try:  # the common arities without building a list (a speed trick: see the module docstring)
                if len(inputs) == 1:
                    result = op.compute(inputs[0].cached_data)
                elif len(inputs) == 2:
                    result = op.compute(inputs[0].cached_data, inputs[1].cached_data)
                else:
                    result = op.compute(*[x.cached_data for x in inputs])
            except (ValueError, TypeError, IndexError) as error:
                _raise_named(op, inputs, error)
            except AttributeError:
                converted = _as_inputs(op, inputs)
                if converted is inputs:  # every input is a node: the error is the op's own
                    raise
                # needle: arrays and numbers where a Tensor is expected are constants. Converted
                # only here, after the attempt, so operators on Tensors pay nothing (workload 2).
                return cls.make_from_op(op, converted)
        value = object.__new__(cls)
        changed = modes.changed_anywhere  # 0: every thread has the starting modes (a speed trick)
        if (not changed or _modes.grad_enabled) and op.differentiable:
            for x in inputs:
                if x.requires_grad:
                    value._set(op, inputs, result, True)
                    break
            else:
                value._set(None, (), result, False)
        else:
            value._set(None, (), result, False)
        if changed and _modes.watched:  # anomaly mode or a trace (`needle.compile`)
            _watched_result(value, op, inputs)
        return value


def _watched_result(value, op, inputs):
    if _modes.anomaly_enabled:
        anomaly.on_result(value, op, inputs)
    if _modes.tracer is not None:
        _modes.tracer.record(value, op, inputs)


def _refuse_traced(value, what):
    """Under `needle.compile`, reading a traced value's data would fix it at trace time: refuse."""
    if _modes.tracer is not None:
        _modes.tracer.refuse_read(value, what)


def _any_requires_grad(inputs):
    for x in inputs:
        if x.requires_grad:
            return True
    return False


class TensorTuple(Value):
    """A tuple of Tensors as one graph node (the output of a TensorTupleOp)."""

    __slots__ = ()

    def __len__(self):
        return len(self.cached_data)

    def __getitem__(self, index):
        return needle.ops.tuple_get_item(self, index)

    def tuple(self):
        return tuple(self[i] for i in range(len(self)))

    def __repr__(self):
        return f"needle.TensorTuple{self.tuple()!r}"

    def __str__(self):
        return "(" + ", ".join(str(x) for x in self.tuple()) + ")"

    def __add__(self, other):
        if not isinstance(other, TensorTuple) or len(self) != len(other):
            raise ValueError("TensorTuple + : both operands must be TensorTuples of one length")
        return needle.ops.add_tuples(self, other)  # one node (the sweep sums tuple adjoints with it)

    def detach(self):
        return TensorTuple.make_const(self.cached_data)


class Tensor(TensorMethods, Value):
    """An n-dimensional array in the graph. `Tensor(array, device=None, dtype=None, requires_grad=True)`.

    The data (a list, number, NumPy array, Tensor or the course's NDArray) is copied into a plain
    NumPy array (`from_numpy` and `detach` share storage instead); every tensor is on `cpu()`.
    Only floating-point tensors can require grad: for integer and bool data `requires_grad`
    defaults to False.
    """

    __slots__ = ()

    def __init__(self, array, *, device=None, dtype=None, requires_grad=None):
        if device is not None:
            as_device("Tensor", device)  # only an enabled device: a tensor on cuda() is an error
        data = _array_from(array, dtype)
        self._init(None, (), cached_data=data, requires_grad=leaf_requires_grad("Tensor", data, requires_grad))

    @staticmethod
    def from_numpy(array, *, requires_grad=False):
        """A leaf over `array` itself, no copy."""
        array = np.asarray(array)
        return Tensor.make_const(array, requires_grad=leaf_requires_grad("from_numpy", array, requires_grad))

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
        self.bump_version()

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
        if _modes.watched:
            _refuse_traced(self, "numpy()")
        data = self.cached_data
        return data if type(data) is np.ndarray else np.asarray(data)

    def item(self):
        if _modes.watched:
            _refuse_traced(self, "item()")
        if self.cached_data.size != 1:
            raise ValueError(f"Tensor.item: only one-element tensors convert, got shape {self.shape}")
        return self.cached_data.item()

    # Python's conversions take one-element tensors only, as in PyTorch: `if loss < best:` and
    # `max(a, b)` read the mask's one entry; several entries are ambiguous.

    def __bool__(self):
        if _modes.watched:
            _refuse_traced(self, "bool()")
        size = self.cached_data.size
        if size != 1:
            amount = "no values" if size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {amount} is ambiguous (shape {self.shape})")
        return bool(self.cached_data.item())

    def __float__(self):
        return float(self._one_element("float"))

    def __int__(self):
        return int(self._one_element("int"))

    def __index__(self):
        if self.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors of a single element can be converted to an index, got dtype {self.dtype}")
        return int(self._one_element("index"))

    def _one_element(self, name):
        if _modes.watched:
            _refuse_traced(self, f"{name}()")
        if self.cached_data.size != 1:
            raise ValueError(
                f"{name}(): only one element tensors can be converted to Python scalars, got shape {self.shape}"
            )
        return self.cached_data.item()

    def __len__(self):
        if not self.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        """The entries along the first axis, each a recorded `self[i]`."""
        if not self.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self):
        return f"needle.Tensor({self.cached_data!r})"

    def __str__(self):
        return str(self.cached_data)

    def __array__(self, dtype=None, copy=None):
        if _modes.watched:
            _refuse_traced(self, "numpy.asarray()")
        return np.array(self.cached_data, dtype=dtype, copy=copy)

    # ---- differentiation ---------------------------------------------------------------------

    def backward(self, out_grad=None, *, create_graph=True):
        """Store d(self)/d(node) as `node.grad` for every node; seed `out_grad` (default ones).

        needle: by default the adjoints are recorded graphs, so `x.grad.backward()` works; pass
        `create_graph=False` for first-order gradients only (constants, cheaper).
        """
        needle.sweeps.backward(self, out_grad, create_graph=create_graph)

    # ---- operators ---------------------------------------------------------------------------
    # A number operand makes a scalar node and a Tensor an elementwise node (Python floats are
    # tested first: workloads 2 and 4). Arrays and lists become constants in the engine (`_as_inputs`).

    def __add__(self, other):
        if type(other) is float:
            return Tensor.make_from_op(_scalar_op(needle.ops.AddScalar, other), (self,))
        if isinstance(other, Tensor) or not _is_number(other):
            return Tensor.make_from_op(needle.ops.EWiseAdd(), (self, other))
        return Tensor.make_from_op(_scalar_op(needle.ops.AddScalar, other), (self,))

    __radd__ = __add__

    def __mul__(self, other):
        if type(other) is float:
            return Tensor.make_from_op(_scalar_op(needle.ops.MulScalar, other), (self,))
        if isinstance(other, Tensor) or not _is_number(other):
            return Tensor.make_from_op(needle.ops.EWiseMul(), (self, other))
        return Tensor.make_from_op(_scalar_op(needle.ops.MulScalar, other), (self,))

    __rmul__ = __mul__

    def __sub__(self, other):
        # needle: Tensor - Tensor is negate then add (two nodes); Tensor - scalar is one add_scalar.
        if type(other) is float:
            return Tensor.make_from_op(_scalar_op(needle.ops.AddScalar, -other), (self,))
        if isinstance(other, Tensor):
            return self + needle.ops.negate(other)
        if _is_number(other):
            return Tensor.make_from_op(_scalar_op(needle.ops.AddScalar, -other), (self,))
        return needle.ops.add(self, needle.ops.negate(other))

    def __rsub__(self, other):
        if _is_number(other):
            return needle.ops.add_scalar(needle.ops.negate(self), other)
        return needle.ops.add(other, needle.ops.negate(self))

    def __truediv__(self, other):
        if isinstance(other, Tensor) or not _is_number(other):
            return needle.ops.divide(self, other)
        return needle.ops.divide_scalar(self, other)

    def __rtruediv__(self, other):
        if _is_number(other):
            return needle.ops.mul_scalar(needle.ops.power_scalar(self, -1), other)
        return needle.ops.divide(other, self)

    def __pow__(self, other):
        if isinstance(other, Tensor) or not _is_number(other):
            return needle.ops.power(self, other)
        return needle.ops.power_scalar(self, other)

    def __rpow__(self, other):
        return needle.ops.power(other, self)

    def __neg__(self):
        return needle.ops.negate(self)

    def __abs__(self):
        return needle.ops.abs(self)

    def __matmul__(self, other):
        return needle.ops.matmul(self, other)

    def __rmatmul__(self, other):
        return needle.ops.matmul(other, self)

    def __getitem__(self, index):
        return needle.ops.getitem(self, index)

    def __lt__(self, other):
        return needle.ops.less(self, other)

    def __le__(self, other):
        return needle.ops.less_equal(self, other)

    def __gt__(self, other):
        return needle.ops.greater(self, other)

    def __ge__(self, other):
        return needle.ops.greater_equal(self, other)

    # needle: no elementwise ==; tensors keep identity equality and hashing (they are dict keys).
    # `eq` and `ne` compare elementwise.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def eq(self, other):
        return needle.ops.equal(self, other)

    def ne(self, other):
        return needle.ops.not_equal(self, other)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy's side of the operators: `np.ones(2) + t` and `np.float64(2) * t` run the Tensor's
        (reflected) operator and give a Tensor. Any other ufunc (`np.exp(t)`) is refused."""
        names = _OPERATOR_UFUNCS.get(ufunc)
        if names is not None and method == "__call__" and not kwargs:
            lhs, rhs = inputs
            if ufunc is np.equal or ufunc is np.not_equal:  # needle: == and != are identity
                return (lhs is rhs) == (ufunc is np.equal)
            if isinstance(lhs, Tensor):
                return getattr(lhs, names[0])(rhs)
            return getattr(rhs, names[1])(lhs)
        called = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        name = _NEEDLE_NAMES.get(ufunc.__name__, ufunc.__name__)
        instead = f"use ndl.{name}" if name in needle.ops.__all__ else f"needle has no {name}"
        raise TypeError(
            f"numpy.{called} does not take needle Tensors: {instead} (recorded for gradients), "
            "or pass t.numpy() for a plain array"
        )


class SavedTensor(Tensor):
    """A SavingOp's node: a Tensor that also keeps `saved`, what the op's rules reuse."""

    __slots__ = ("saved",)


class ZeroTangent(Tensor):
    """The tangent of an input with none seeded: zeros that product rules may skip."""

    __slots__ = ()


# The operators' scalar ops, one per float value (ops are stateless, so nodes may share one).
# Zero (its sign matters) and NaN are never shared; a table is emptied at 256 values.
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


def _is_number(x):
    """A real number, which operators take as a scalar op's parameter: Python's, NumPy's, or (the
    course's contract) a one-element array, which therefore never upcasts float32."""
    if type(x) is int or type(x) is float:
        return True
    return isinstance(x, (np.generic, np.ndarray)) and x.size == 1 and x.dtype.kind in "iuf"


# NumPy's operator ufuncs: (this Tensor's operator, the reflected one). Binary operators with a
# NumPy left operand (`np.ones(2) + t`) reach the Tensor through these.
_OPERATOR_UFUNCS = {
    np.add: ("__add__", "__radd__"), np.subtract: ("__sub__", "__rsub__"),
    np.multiply: ("__mul__", "__rmul__"), np.true_divide: ("__truediv__", "__rtruediv__"),
    np.power: ("__pow__", "__rpow__"), np.matmul: ("__matmul__", "__rmatmul__"),
    np.less: ("__lt__", "__gt__"), np.less_equal: ("__le__", "__ge__"),
    np.greater: ("__gt__", "__lt__"), np.greater_equal: ("__ge__", "__le__"),
    np.equal: ("__eq__", "__eq__"), np.not_equal: ("__ne__", "__ne__"),
}

# needle's names for NumPy's ufuncs, where they differ.
_NEEDLE_NAMES = {"absolute": "abs", "negative": "negate", "true_divide": "divide", "clip": "clamp"}


def _array_from(array, dtype):
    """An owned ndarray (a copy) from a list, scalar, array or Tensor; `dtype` None keeps NumPy's.

    Only numbers and bools: objects, strings and bytes are refused (ops could not compute on them).
    """
    if isinstance(array, Value):
        array = array.cached_data
    data = np.array(array, dtype=None if dtype is None else np.dtype(dtype))
    if data.dtype.kind not in "biufc":
        raise TypeError(f"Tensor: expected numbers, got {_described(array)} (a {data.dtype} array)")
    return data


def as_tensor(name, x, *others):
    """`x` if it is a graph node, else a constant Tensor of what it stands for (`constant_data`),
    numbers taking the dtype of the `others` that are Tensors. For op functions that need an
    argument's shape before they build their op."""
    if isinstance(x, Value):
        return x
    return Tensor.make_const(constant_data(name, x, [o.cached_data.dtype for o in others if isinstance(o, Tensor)]))


def leaf_requires_grad(name, data, requires_grad):
    """The leaf's `requires_grad`: None means True for floating data, False otherwise."""
    differentiable = data.dtype.kind in "fc"
    if requires_grad is None:
        return differentiable
    if requires_grad and not differentiable:
        raise TypeError(
            f"{name}: only floating-point tensors can require grad, got dtype {data.dtype}"
        )
    return bool(requires_grad)
