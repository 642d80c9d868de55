"""Constants a rule computes from its node's data, made again on each replay by the rule itself.

Some rules turn data into a constant with NumPy (ReLU's mask `x > 0`, Abs's sign, the extremes of
Max): the trace sees a leaf, not an op. When such a leaf is made inside a method of an op (found
on the call stack while tracing), its `Recipe` remembers the method and its arguments. If the
second trace finds that constant changed, the recipe is checked on both traces (it must give each
trace's constant) and the program then calls it on the replay's arrays: the method runs again on
stand-in Tensors over those arrays, and the recipe keeps the k-th leaf it makes. The op's own
rule stays the single source of the constant; a replay that uses a recipe makes a few Tensors.
"""
import sys

import numpy as np

from .. import modes
from ..autograd import Op, SavedTensor, SavingOp, Tensor, Value

__all__ = ["Recipe", "find_recipe", "find_op_recipe", "has_array_params", "FAST_RECIPES"]

# Rule constants written out as the NumPy call the rule makes, keyed by (op class name, method):
# (function, argument positions among the recipe's arrays, extra arguments). The fast form is used
# only where it gives the rule's constant on both traces (checked like the recipe itself).
FAST_RECIPES = {
    ("ReLU", "_mask"): ("np.greater", (1,), (0,)),
    ("Abs", "_sign"): ("np.sign", (1,), ()),
}

_MAX_DEPTH = 8
_VARARGS = 0x04


class _Capture:
    """A stand-in tracer that only collects the leaves made while a recipe runs."""

    def __init__(self):
        self.leaves = []
        self.results = []  # (op, result) of each op run
        self.draws = 0

    def record(self, value, op, inputs):
        self.results.append((op, value.cached_data))

    def on_leaf(self, value):
        self.leaves.append(value)

    def on_write(self, value):
        pass

    def add_random(self, value, draw, state=None):
        self.leaves.append(value)
        self.draws += 1

    def refuse_read(self, value, what):
        pass


class Recipe:
    """`op.<method>(*args)`, args rebuilt from slots: calling it with the slots' arrays gives the constant."""

    def __init__(self, op, method, specs, slots):
        self.op = op  # an op, or None for a plain function `method`
        self.method = method
        self.draws = 0  # random draws a call makes
        self.absorbed = ()  # the trace's random slots this recipe's own draws replace
        self.fast = None  # a FAST_RECIPES entry, once checked
        self.target = "leaf"  # what a call gives: its index-th "leaf" made, or its index-th "op" result
        self.owner_source = None  # the op recipe whose latest op stands for `op` (a rule of a remade op)
        self.last_op = None  # the op this recipe made on its latest call (target "op")
        self.specs = specs  # per argument: ("plain", x) | ("value", spec) | ("tuple", [specs])
        self.slots = slots  # the slots whose arrays a call takes, in order
        self.index = None  # which leaf of the method's call is the constant
        self.saved_from = None  # the slot of a SavingOp node among the arguments (the rule's node)

    def saving_slot(self):
        """The slot of the SavingOp node whose saved data a replay hands in, or None (a fast form
        needs none)."""
        return None if self.fast is not None else self.saved_from

    def leaves(self, *arrays, saved=None):
        """The leaves the method makes over `arrays` (one per slot); `saved`: the saved data of the
        node at `saved_from`, as the replay's forward step kept it (else computed again)."""
        data = dict(zip(self.slots, arrays))
        kept = {} if saved is None else {self.saved_from: saved}
        args = [_rebuilt(spec, data, kept) for spec in self.specs]
        capture = _Capture()
        owner = self.op
        if self.owner_source is not None and self.owner_source.last_op is not None:
            owner = self.owner_source.last_op  # the op as this replay remade it (an index from values)
        function = self.method if owner is None else getattr(owner, self.method)
        # errstate: a check on redrawn inputs may take a log of a negative; that is the rule's business
        with modes.no_grad(), modes.tracing(capture), np.errstate(all="ignore"):
            function(*args)
        self.draws = capture.draws
        self.results = capture.results
        return [leaf.cached_data for leaf in capture.leaves]

    def fit_op(self, arrays, op):
        """Make calls give the result of the first op they make equal to `op` (type and parameters)."""
        try:
            self.leaves_from(None, arrays)
        except Exception:
            return False
        for k, (made, _) in enumerate(self.results):
            if type(made) is type(op) and same(op_params(made), op_params(op)):
                self.target, self.index = "op", k
                return True
        return False

    def gives_op(self, arrays, op):
        try:
            self.leaves_from(None, arrays)
        except Exception:
            return False
        if self.index is None or self.index >= len(self.results):
            return False
        made = self.results[self.index][0]
        return type(made) is type(op) and same(op_params(made), op_params(op))

    def fit(self, arrays, constant, rng_state=None):
        """Set `index` to the first leaf equal to `constant` (True), or False when none is.
        `rng_state`: NumPy's RNG state the trace's draws started from (the RNG is restored after)."""
        try:
            leaves = self.leaves_from(rng_state, arrays)
        except Exception:  # a rule that needs more than the stand-ins give (saved data): no recipe
            return False
        for k, leaf in enumerate(leaves):
            if _equal(leaf, constant):
                self.index = k
                return True
        return False

    def gives(self, arrays, constant, rng_state=None):
        try:
            leaves = self.leaves_from(rng_state, arrays)
        except Exception:
            return False
        return self.index is not None and self.index < len(leaves) and _equal(leaves[self.index], constant)

    def depends_on_values(self, arrays, constant):
        """Whether the constant changes when the floating arrays are redrawn (a mask, a sign), not
        only with their shapes (ones of a shape, an identity): checked on one standard normal draw."""
        rng = np.random.default_rng(0)
        redrawn = [
            rng.standard_normal(np.shape(a)).astype(a.dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
            for a in arrays
        ]
        try:
            leaves = self.leaves_from(None, redrawn)
        except Exception:  # the rule refuses other values: treat the constant as value-dependent
            return True
        return not (self.index < len(leaves) and _equal(leaves[self.index], constant))

    def leaves_from(self, rng_state, arrays):
        saved = np.random.get_state()
        try:
            if rng_state is not None:
                np.random.set_state(rng_state)
            return self.leaves(*arrays)
        finally:
            np.random.set_state(saved)

    def check_fast(self, *cases):
        """Use the fast form when there is one and it gives each (arrays, constant) of `cases`."""
        entry = FAST_RECIPES.get((type(self.op).__name__, self.method)) if self.op is not None else None
        if entry is None:
            return
        name, positions, extra = entry
        function = getattr(np, name.split(".", 1)[1])
        for arrays, constant in cases:
            if max(positions) >= len(arrays) or not _equal(function(*[arrays[p] for p in positions], *extra), constant):
                return
        self.fast = entry

    def __call__(self, *arrays, saved=None):
        leaves = self.leaves(*arrays, saved=saved)
        if self.target == "op":
            self.last_op, result = self.results[self.index]
            return result
        return leaves[self.index]

    def __repr__(self):
        if self.op is None:
            return f"{self.method.__module__}.{self.method.__name__}"
        return f"{type(self.op).__name__}.{self.method}"


def _equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


def _rebuilt(spec, data, saved):
    """The argument `spec` describes, over the arrays `data` (slot -> array); `saved`: slot -> the
    saved data of SavingOp nodes the replay already has."""
    kind, content = spec
    if kind == "plain":
        return content
    if kind == "tuple":
        return tuple(_rebuilt(s, data, saved) for s in content)
    slot, requires_grad, op, input_specs = content
    saving = op is not None and isinstance(op, SavingOp)
    value = (SavedTensor if saving else Tensor).make_const(data[slot])
    value.requires_grad = requires_grad
    if op is not None:
        value.op = op
        value.inputs = tuple(_rebuilt(s, data, saved) for s in input_specs)
        if saving and slot in saved:  # what the replay's forward step saved
            value.saved = saved[slot]
        elif saving:  # what the forward pass saved, made again from the inputs
            value.saved = op.compute_saving(*[x.cached_data for x in value.inputs])[1]
    return value


def find_recipe(tracer, frame):
    """The recipe for a leaf made under `frame` inside an op's method over live values, or directly
    by a library function of live values (dropout's scaled mask), else None."""
    function = _library_function(frame)
    if function is not None:
        recipe = _recipe_of(tracer, None, function.__code__, frame.f_locals, function)
        if recipe is not None:
            return recipe
    for _ in range(_MAX_DEPTH):
        if frame is None:
            return None
        code = frame.f_code
        owner = frame.f_locals.get("self")
        if (isinstance(owner, Op) and not code.co_flags & _VARARGS
                and getattr(getattr(type(owner), code.co_name, None), "__code__", None) is code):
            return _recipe_of(tracer, owner, code, frame.f_locals)
        frame = frame.f_back
    return None


def _library_function(frame):
    """The needle function (not a method) running `frame`, when it takes a fixed list of arguments."""
    if frame is None or not frame.f_globals.get("__name__", "").startswith("needle."):
        return None
    code = frame.f_code
    function = frame.f_globals.get(code.co_name)
    if getattr(function, "__code__", None) is not code or code.co_flags & (_VARARGS | 0x08):
        return None
    return function


def _recipe_of(tracer, op, code, local, function=None, strict=False):
    names = code.co_varnames[(op is not None):code.co_argcount]
    if any(name not in local for name in names):
        return None
    slots = []
    live = [False]
    saving = []  # slots of the SavingOp nodes among the arguments

    def spec_of(x, depth=0):
        if isinstance(x, Value):
            if type(x.cached_data) is tuple:
                raise _NoRecipe
            slot = tracer.slot(x)
            live[0] |= tracer.records[slot].live
            if slot not in slots:
                slots.append(slot)
            inputs = [spec_of(i, depth + 1) for i in x.inputs] if depth == 0 and x.op is not None else []
            if depth == 0 and isinstance(x.op, SavingOp) and tracer.records[slot].kind == "op" and slot not in saving:
                saving.append(slot)
                tracer.records[slot].saved = x.saved
            return "value", (slot, x.requires_grad, x.op if depth == 0 else None, inputs)
        if isinstance(x, tuple) and any(isinstance(i, Value) for i in x):
            return "tuple", [spec_of(i, depth) for i in x]
        if (op is None or strict) and _holds_array(x):
            raise _NoRecipe  # an array handed to a function (a node's saved data): its op's rule is the recipe
        return "plain", x

    try:
        specs = [spec_of(local[name]) for name in names]
    except _NoRecipe:
        return None
    if not live[0]:
        return None
    recipe = Recipe(op, code.co_name if function is None else function, specs, slots)
    recipe.saved_from = saving[0] if len(saving) == 1 else None
    return recipe


class _NoRecipe(Exception):
    pass


def find_op_recipe(tracer, frame):
    """The recipe for an op whose parameters hold arrays (an index): the innermost needle function or
    method above the engine that takes live values and no array of its own (Embedding.forward,
    GetItem.gradient), else None. A rule of an op that is itself remade calls the remade op."""
    while frame is not None and frame.f_globals.get("__name__") == "needle.autograd":
        frame = frame.f_back
    for _ in range(_MAX_DEPTH):
        module = "" if frame is None else frame.f_globals.get("__name__", "")
        if not module.startswith("needle.") or module.startswith("needle.compiler"):
            return None  # only the library's own code, never the caller's or the tracer's
        code = frame.f_code
        if not code.co_flags & (_VARARGS | 0x08):
            owner = frame.f_locals.get("self")
            function = _library_function(frame)
            recipe = None
            if function is not None:
                recipe = _recipe_of(tracer, None, code, frame.f_locals, function, strict=True)
            elif (owner is not None and type(owner).__module__.startswith("needle.")
                    and getattr(getattr(type(owner), code.co_name, None), "__code__", None) is code):
                recipe = _recipe_of(tracer, owner, code, frame.f_locals, strict=True)
                if recipe is not None and isinstance(owner, Op):
                    node = frame.f_locals.get("node")
                    slot = tracer.slot_of.get(node) if isinstance(node, Value) and node.op is owner else None
                    source = tracer.records[slot].source if slot is not None else None
                    recipe.owner_source = source if isinstance(source, Recipe) else None
            if recipe is not None:
                return recipe
        frame = frame.f_back
    return None


def _holds_array(x):
    if isinstance(x, np.ndarray):
        return x.size > 1
    if isinstance(x, (tuple, list)):
        return any(_holds_array(i) for i in x)
    return False


def has_array_params(op):
    """Whether `op` holds an array parameter (an index array), which may come from input values."""
    for value in getattr(op, "__dict__", {}).values():
        if _holds_array(value):
            return True
    return False


def op_params(op):
    """An op's parameters: its attributes, slots included."""
    params = dict(getattr(op, "__dict__", {}))
    for cls in type(op).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if hasattr(op, name):
                params[name] = getattr(op, name)
    return params


def same(a, b):
    """Equality of parameters and data: arrays by shape, dtype and values (NaN equal to NaN)."""
    if a is b:
        return True
    if isinstance(a, (np.ndarray, np.generic)) or isinstance(b, (np.ndarray, np.generic)):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, Op) and isinstance(b, Op):
        return type(a) is type(b) and same(op_params(a), op_params(b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    try:
        return bool(a == b)
    except Exception:  # an object whose == is not a truth value: compare by identity
        return False
