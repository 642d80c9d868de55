"""Gradient checks against float64 central differences, usable on any function built from needle ops.

`check_gradients` tests reverse mode (and, with `order=2`, the gradient of the gradient);
`check_jvp` tests forward mode. Both project onto random directions, so one finite difference
checks a whole Jacobian; on small inputs the gradient is also checked entry by entry, which shows
which one is wrong.
"""
import numpy as np

from .autograd import Tensor
from .sweeps import grad, tangent_sweep

__all__ = ["check_gradients", "check_jvp"]

SMALL_INPUT_SIZE = 32  # up to this many differentiated entries, every entry is checked on its own


def check_gradients(fn, *inputs, order=2, eps=1e-6, rtol=1e-4, atol=1e-6, seed=0, elementwise=None,
                    wrt=None):
    """Check reverse mode of `fn(*tensors) -> Tensor` up to `order` against central differences.

    Order 1 compares ⟨Jᵀu, v⟩ from `grad(out, inputs, out_grad=u)` with ⟨u, J v⟩ from one central
    difference along a random v. Order k does the same for the order-(k−1) gradient x ↦ Jᵀu (built
    with `create_graph=True`, fresh random u). `elementwise` (default: on for small inputs) also
    checks each entry. Inputs become float64 leaves; integer ones stay integer. `wrt` lists the
    differentiated inputs (default: the floating ones). Raises AssertionError; returns None.
    """
    if order < 1:
        raise ValueError(f"check_gradients: order must be at least 1, got {order}")
    arrays, wrt = _float64_inputs("check_gradients", inputs, wrt)
    rng = np.random.default_rng(seed)
    if elementwise is None:
        elementwise = sum(arrays[i].size for i in wrt) <= SMALL_INPUT_SIZE
    chain = []  # the cotangents that turn each level's function into the next level's
    for level in range(1, order + 1):
        outputs, leaves = _evaluate(fn, arrays, wrt, chain)
        cotangents = [rng.standard_normal(out.shape) for out in outputs]
        seeds = [Tensor.make_const(u) for u in cotangents]
        # allow_unused: a level may not depend on an input (a linear map's gradient is constant); its
        # derivative is then zero, which the finite difference checks like any other.
        reverse = [
            g.numpy() for g in grad(outputs, [leaves[i] for i in wrt], out_grad=seeds, allow_unused=True)
        ]

        def projected(xs):
            """⟨u, F(xs)⟩ for this level's function F (used within this iteration only)."""
            outputs_at_xs = _evaluate(fn, xs, wrt, chain)[0]
            return sum(np.sum(u * out.numpy()) for u, out in zip(cotangents, outputs_at_xs))

        errors = [f"input {i}: {g.dtype} gradient for a float64 input" for i, g in zip(wrt, reverse)
                  if g.dtype != np.float64]
        if elementwise:
            for i, g in zip(wrt, reverse):
                for index in np.ndindex(g.shape):
                    unit = np.zeros(g.shape)
                    unit[index] = 1.0
                    numeric = _central_difference(projected, arrays, {i: unit}, eps)
                    if not _close(g[index], numeric, rtol, atol):
                        errors.append(f"input {i} entry {index}: reverse mode gives {float(g[index])!r}, "
                                      f"finite differences give {float(numeric)!r}")
        direction = {i: rng.standard_normal(arrays[i].shape) for i in wrt}
        numeric = _central_difference(projected, arrays, direction, eps)
        analytic = sum(np.sum(g * direction[i]) for i, g in zip(wrt, reverse))
        if not _close(analytic, numeric, rtol, atol):
            errors.append(f"along a random direction v: ⟨Jᵀu, v⟩ by reverse mode is "
                          f"{float(analytic)!r}, ⟨u, J v⟩ by finite differences is {float(numeric)!r}")
        what = "gradient" if level == 1 else f"order-{level} gradient"
        _report(f"check_gradients: {_name(fn)}: wrong {what}", errors)
        chain.append(cotangents)


def check_jvp(fn, *inputs, eps=1e-6, rtol=1e-4, atol=1e-6, seed=0, wrt=None):
    """Check forward mode of `fn(*tensors) -> Tensor`: J v from `tangent_sweep` against central differences.

    Also checks the dot-product identity ⟨u, J v⟩ (forward) = ⟨Jᵀu, v⟩ (reverse) for a random u.
    Inputs and `wrt` as in `check_gradients`. Raises AssertionError; returns None.
    """
    arrays, wrt = _float64_inputs("check_jvp", inputs, wrt)
    rng = np.random.default_rng(seed)
    direction = {i: rng.standard_normal(arrays[i].shape) for i in wrt}
    (out,), leaves = _evaluate(fn, arrays, wrt)
    tangent = tangent_sweep([out], {leaves[i]: Tensor.make_const(v) for i, v in direction.items()}).get(out)
    forward = np.zeros(out.shape) if tangent is None else tangent.numpy()
    if forward.shape != out.shape:
        _report(f"check_jvp: {_name(fn)}", [f"tangent shape {forward.shape}, output shape {out.shape}"])
    numeric = _central_difference(lambda xs: _evaluate(fn, xs, wrt)[0][0].numpy(), arrays, direction, eps)

    errors = []
    excess = np.abs(forward - numeric) - (atol + rtol * np.maximum(np.abs(forward), np.abs(numeric)))
    if excess.size and np.max(excess) > 0:
        worst = tuple(int(k) for k in np.unravel_index(np.argmax(excess), excess.shape))
        errors.append(f"output entry {worst}: forward mode gives {float(forward[worst])!r}, "
                      f"finite differences give {float(numeric[worst])!r}")
    cotangent = rng.standard_normal(out.shape)
    reverse = grad(out, [leaves[i] for i in wrt], out_grad=Tensor.make_const(cotangent), allow_unused=True)
    by_forward = np.sum(cotangent * forward)
    by_reverse = sum(np.sum(g.numpy() * direction[i]) for i, g in zip(wrt, reverse))
    if not _close(by_forward, by_reverse, rtol, atol):
        errors.append(f"⟨u, J v⟩ by forward mode is {float(by_forward)!r}, "
                      f"⟨Jᵀu, v⟩ by reverse mode is {float(by_reverse)!r}")
    _report(f"check_jvp: {_name(fn)}", errors)


def _float64_inputs(name, inputs, wrt):
    """The inputs as arrays, floating ones as float64, and the indices of those to differentiate."""
    arrays = []
    for x in inputs:
        a = np.asarray(x.numpy() if isinstance(x, Tensor) else x)
        arrays.append(a.astype(np.float64) if np.issubdtype(a.dtype, np.floating) else a)
    wrt = [i for i, a in enumerate(arrays) if a.dtype == np.float64] if wrt is None else list(wrt)
    for i in wrt:
        if arrays[i].dtype != np.float64:
            raise ValueError(f"{name}: input {i} has dtype {arrays[i].dtype}; only floating inputs are "
                             "differentiated")
    return arrays, wrt


def _evaluate(fn, arrays, wrt, chain=()):
    """([fn(*leaves)], leaves) at `arrays`; then, for each cotangent list u in `chain`, the outputs
    become [Jᵀu]_wrt of the previous ones, recorded so that they can be differentiated again."""
    leaves = [Tensor(a, requires_grad=i in wrt) for i, a in enumerate(arrays)]
    outputs = [fn(*leaves)]
    for cotangents in chain:
        seeds = [Tensor.make_const(u) for u in cotangents]
        outputs = grad(outputs, [leaves[i] for i in wrt], out_grad=seeds, create_graph=True, allow_unused=True)
    return outputs, leaves


def _central_difference(f, arrays, direction, eps):
    """(f(x + eps·v) − f(x − eps·v)) / 2eps, where `direction` maps input index -> v."""

    def moved(sign):
        return [a + sign * eps * direction[i] if i in direction else a for i, a in enumerate(arrays)]

    return (np.asarray(f(moved(1))) - np.asarray(f(moved(-1)))) / (2 * eps)


def _close(actual, expected, rtol, atol):
    return abs(actual - expected) <= atol + rtol * max(abs(actual), abs(expected))


def _report(title, errors, limit=12):
    """Raise AssertionError listing `errors` (the first `limit` of them) under `title`; no-op if none."""
    if errors:
        more = [f"... and {len(errors) - limit} more"] if len(errors) > limit else []
        raise AssertionError(f"{title}:\n  " + "\n  ".join(errors[:limit] + more))


def _name(fn):
    return getattr(fn, "__name__", repr(fn))
