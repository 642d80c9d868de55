"""`ndl.func`: derivatives of Python functions of Tensors, as transforms.

`grad`, `value_and_grad` and `vjp` run reverse mode; `jvp` runs a true forward sweep (the engine's
`tangent_sweep`); `jacrev` and `jacfwd` build a Jacobian a row or a column at a time; `hessian` and
`hvp` are forward-over-reverse. Transforms nest: a result stays a recorded graph when it depends on
a tensor that requires grad outside the transform (an outer transform's input, a closed-over
parameter), and is a constant otherwise. Inside `no_grad()` every result is a constant.
"""
import functools

import numpy as np

from .autograd import Tensor, TensorTuple
from .modes import enable_grad, is_grad_enabled, no_grad
from .sweeps import find_topo_sort, tangent_sweep
from .sweeps import grad as _reverse
from .init import zeros, zeros_like
from .ops import reshape, stack

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "hvp"]


# ---- the transforms ----------------------------------------------------------------------------


def grad(f, argnums=0):
    """The function x ↦ ∇f(x) for `f` returning a scalar (one-element) Tensor.

    `argnums` (an int or a tuple of ints) picks the positional arguments differentiated; the
    gradient of each has that argument's shape and dtype (a tuple of them for a tuple `argnums`).
    """
    value_and_grad_f = value_and_grad(f, argnums)

    @_named_after(f)
    def grad_f(*args):
        return value_and_grad_f(*args)[1]

    return grad_f


def value_and_grad(f, argnums=0):
    """The function x ↦ (f(x), ∇f(x)); `argnums` as in `grad`."""

    @_named_after(f)
    def value_and_grad_f(*args):
        call = _Call("grad", args, argnums)
        value = call.run_scalar(f)
        keep = call.keeps_graph([value])
        grads = _reverse(value, call.inputs, create_graph=keep, allow_unused=True)
        return _kept(value, keep), call.pick([_kept(g, keep) for g in grads])

    return value_and_grad_f


def vjp(f, *primals):
    """(f(*primals), pullback): pullback(v) = vᵀ J, a tuple with one cotangent per primal.

    `f` returns a Tensor or a tuple of Tensors; `v` has the same structure and shapes (Tensors or
    arrays). The pullback may be called any number of times.
    """
    call = _Call("vjp", primals, tuple(range(len(primals))))
    outputs, single = call.run(f)
    keep = call.keeps_graph(outputs)

    def pullback(cotangent):
        cotangents = _match_outputs("vjp", cotangent, outputs, single, "cotangent")
        keep_here = keep or (is_grad_enabled() and any(c.requires_grad for c in cotangents))
        grads = _reverse(
            outputs, call.inputs, out_grad=cotangents, create_graph=keep_here, allow_unused=True
        )
        return tuple(_kept(g, keep_here) for g in grads)

    return _structure([_kept(out, keep) for out in outputs], single), pullback


def jvp(f, primals, tangents):
    """(f(*primals), J·tangents) by one forward sweep; `tangents` has one entry per primal.

    `f` returns a Tensor or a tuple of Tensors and the output tangent has the same structure.
    """
    primals, tangents = _pairs("jvp", primals, tangents)
    call = _Call("jvp", primals, tuple(range(len(primals))))
    seeds = call.seeds(tangents)
    outputs, single = call.run(f)
    keep = call.keeps_graph(outputs, extra=[t for t in seeds.values() if t.requires_grad])
    with _recording(keep):
        known = tangent_sweep(outputs, seeds)
    out_tangents = [_kept(_tangent_of(out, known), keep) for out in outputs]
    return (
        _structure([_kept(out, keep) for out in outputs], single),
        _structure(out_tangents, single),
    )


def jacrev(f, argnums=0):
    """The Jacobian of `f` by reverse mode, one sweep per output entry (Jacobian row).

    Shape out.shape + in.shape; a tuple over `argnums` when it is a tuple, and a tuple over the
    outputs (outermost) when `f` returns a tuple.
    """

    @_named_after(f)
    def jacrev_f(*args):
        call = _Call("jacrev", args, argnums)
        outputs, single = call.run(f)
        keep = call.keeps_graph(outputs)
        jacobians = []
        for out in outputs:
            rows = [[] for _ in call.inputs]
            for seed in _basis(out.shape, out.dtype):
                grads = _reverse(out, call.inputs, out_grad=seed, create_graph=keep, allow_unused=True)
                for parts, g in zip(rows, grads):
                    parts.append(g)
            per_input = [_assemble(parts, 0, out, x) for parts, x in zip(rows, call.inputs)]
            jacobians.append(call.pick(per_input))
        return _structure(jacobians, single)

    return jacrev_f


def jacfwd(f, argnums=0):
    """The Jacobian of `f` by forward mode, one tangent sweep per input entry (Jacobian column).

    Shapes and structure as in `jacrev`.
    """

    @_named_after(f)
    def jacfwd_f(*args):
        call = _Call("jacfwd", args, argnums)
        outputs, single = call.run(f)
        keep = call.keeps_graph(outputs)
        columns = [[[] for _ in call.inputs] for _ in outputs]
        order = find_topo_sort(list(outputs))  # one graph, swept once per column
        for k, x in enumerate(call.inputs):
            for seed in _basis(x.shape, x.dtype):
                with _recording(keep):
                    known = tangent_sweep(outputs, {x: seed}, order)
                for parts, out in zip(columns, outputs):
                    parts[k].append(_tangent_of(out, known))
        jacobians = [
            call.pick([_assemble(column, -1, out, x) for column, x in zip(parts, call.inputs)])
            for parts, out in zip(columns, outputs)
        ]
        return _structure(jacobians, single)

    return jacfwd_f


def hessian(f, argnums=0):
    """The Hessian of scalar `f`: jacfwd of the reverse-mode gradient (forward-over-reverse).

    Shape in.shape + in.shape; for a tuple `argnums`, a tuple of tuples H[i][j] = ∂²f/∂x_i∂x_j.
    """
    return jacfwd(grad(f, argnums), argnums)


def hvp(f, primals, tangents):
    """Hessian-vector product H·v of scalar `f` at `primals`, forward-over-reverse.

    One tangent per primal; returns a tuple with (Σ_j ∂²f/∂x_i∂x_j v_j) for every primal i.
    """
    primals, tangents = _pairs("hvp", primals, tangents)
    gradient = grad(f, tuple(range(len(primals))))
    return jvp(gradient, primals, tangents)[1]


# ---- one call of a transform -------------------------------------------------------------------


class _Call:
    """The arguments of one transformed call, with the differentiated ones made into graph inputs.

    An argument that already requires grad (an outer transform's input) is wrapped in an identity
    node, so this transform differentiates only its own uses of it; any other becomes a fresh leaf.
    """

    def __init__(self, name, args, argnums):
        if not args:
            raise TypeError(f"{name}: f was given no arguments to differentiate")
        self.name = name
        self.outer_grad = is_grad_enabled()
        self.argnums, self.single = _argnums(name, argnums, len(args))
        self.connected = False
        self.args = [
            Tensor.make_const(a) if isinstance(a, np.ndarray) else a for a in args
        ]
        self.inputs = [self._input(i, args[i]) for i in self.argnums]
        for i, x in zip(self.argnums, self.inputs):
            self.args[i] = x

    def _input(self, position, arg):
        if isinstance(arg, Tensor) and arg.requires_grad and self.outer_grad:
            self.connected = True
            return reshape(arg, arg.shape)
        array = arg.cached_data if isinstance(arg, Tensor) else np.asarray(arg)
        if not np.issubdtype(array.dtype, np.floating):
            raise TypeError(
                f"{self.name}: argument {position} has dtype {array.dtype}; "
                "only floating-point inputs can be differentiated"
            )
        return Tensor.make_const(array, requires_grad=True)

    def seeds(self, tangents):
        """{input: tangent Tensor} for `jvp`, each tangent checked against its primal's shape."""
        seeds = {}
        for i, (x, t) in enumerate(zip(self.inputs, tangents)):
            if not (isinstance(t, Tensor) and t.requires_grad and self.outer_grad):
                t = Tensor.make_const(np.asarray(t.cached_data if isinstance(t, Tensor) else t, x.dtype))
            if t.shape != x.shape:
                raise ValueError(
                    f"{self.name}: tangent {i} has shape {t.shape}, but primal {i} has {x.shape}"
                )
            seeds[x] = t
        return seeds

    def run(self, f):
        """f on the prepared arguments, with the graph recorded: (list of output Tensors, single)."""
        with enable_grad():
            out = f(*self.args)
        if isinstance(out, TensorTuple):
            out = out.tuple()
        single = isinstance(out, Tensor)
        outputs = [out] if single else list(out) if isinstance(out, (tuple, list)) else None
        if outputs is None or not all(isinstance(o, Tensor) for o in outputs):
            raise TypeError(f"{self.name}: f must return a Tensor or a tuple of Tensors, got {_kind(out)}")
        return outputs, single

    def run_scalar(self, f):
        outputs, single = self.run(f)
        if not single or outputs[0].cached_data.size != 1:
            got = f"shape {outputs[0].shape}" if single else f"{len(outputs)} Tensors"
            raise ValueError(f"{self.name}: f must return a scalar (one-element) Tensor, got {got}")
        return outputs[0]

    def keeps_graph(self, outputs, extra=()):
        """Whether results must stay recorded graphs: they depend on something outside this call."""
        if not self.outer_grad:
            return False
        return self.connected or bool(extra) or _reaches_outside(outputs, self.inputs)

    def pick(self, per_input):
        """One result per differentiated argument, unwrapped when `argnums` was an int."""
        return per_input[0] if self.single else tuple(per_input)


def _argnums(name, argnums, count):
    """(positions as a tuple, whether `argnums` was a single int); negative positions count back."""
    single = isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool)
    positions = (argnums,) if single else argnums
    if not isinstance(positions, (tuple, list)) or not positions:
        raise TypeError(f"{name}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    normalized = []
    for position in positions:
        if not isinstance(position, (int, np.integer)) or isinstance(position, bool):
            raise TypeError(f"{name}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
        if not -count <= position < count:
            raise ValueError(f"{name}: argnums {position} is out of range for {count} positional arguments")
        normalized.append(int(position) % count)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{name}: argnums {argnums!r} repeats an argument")
    return tuple(normalized), single


def _reaches_outside(roots, inside):
    """True when the graph of `roots` reaches a leaf requiring grad that is not one of `inside`."""
    seen = set(inside)
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in seen or not node.requires_grad:
            continue
        seen.add(node)
        if node.op is None:
            return True
        stack.extend(node.inputs)
    return False


def _pairs(name, primals, tangents):
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{name}: primals and tangents must be tuples (one entry per argument of f)")
    if len(primals) != len(tangents):
        raise ValueError(f"{name}: {len(primals)} primals but {len(tangents)} tangents")
    return tuple(primals), tuple(tangents)


def _match_outputs(name, given, outputs, single, what):
    """`given` (a Tensor/array, or a tuple of them for a tuple output) as Tensors shaped like `outputs`."""
    given = [given] if single else given
    if not isinstance(given, (tuple, list)) or len(given) != len(outputs):
        raise TypeError(f"{name}: f returned {len(outputs)} Tensors; give one {what} for each in a tuple")
    tensors = []
    for i, (g, out) in enumerate(zip(given, outputs)):
        if not isinstance(g, Tensor):
            g = Tensor.make_const(np.asarray(g, dtype=out.dtype))
        if g.shape != out.shape:
            raise ValueError(f"{name}: {what} {i} has shape {g.shape}, but output {i} has {out.shape}")
        tensors.append(g)
    return tensors


# ---- small utilities ---------------------------------------------------------------------------


def _named_after(f):
    """Give the transformed function f's name and docstring (a module's attributes are not copied)."""
    return functools.wraps(f, assigned=("__module__", "__name__", "__qualname__", "__doc__"), updated=())


def _recording(keep):
    """Record graphs (for an outer transform) or compute constants only."""
    return enable_grad() if keep else no_grad()


def _kept(tensor, keep):
    return tensor if keep or not tensor.requires_grad else tensor.detach()


def _structure(items, single):
    return items[0] if single else tuple(items)


def _kind(obj):
    if isinstance(obj, (tuple, list)):
        return f"a {type(obj).__name__} of " + ", ".join(type(o).__name__ for o in obj)
    return type(obj).__name__


def _tangent_of(out, known):
    """The tangent the sweep found for `out`; zeros when `out` does not depend on a seed."""
    tangent = known.get(out)
    return zeros_like(out) if tangent is None else tangent


def _basis(shape, dtype):
    """The unit Tensors e_0, e_1, … of `shape`, in C order."""
    size = int(np.prod(shape, dtype=np.int64))
    for k in range(size):
        unit = np.zeros(size, dtype=dtype)
        unit[k] = 1
        yield Tensor.make_const(unit.reshape(shape))


def _assemble(parts, axis, out, x):
    """The Jacobian d out / d x, shape out.shape + x.shape, from its rows (axis 0) or columns (axis -1).

    The parts are stacked with `stack`, which is linear, so a recorded Jacobian stays differentiable.
    No parts (`out` or `x` is empty) give zeros; a constant Jacobian takes the result type of the two.
    """
    shape, dtype = out.shape + x.shape, np.result_type(out.dtype, x.dtype)
    if not parts:
        return zeros(*shape, dtype=dtype)
    jacobian = reshape(stack(parts, axis), shape)
    if jacobian.requires_grad or jacobian.dtype == dtype:
        return jacobian  # needle has no cast op, so a recorded Jacobian keeps its parts' dtype
    return Tensor.make_const(jacobian.cached_data.astype(dtype))
