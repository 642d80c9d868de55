"""Contractions: einsum, and tensordot, outer, inner, trace, diagonal, diag and kron written with it.

One op class, `Einsum`, does the work. Its subscripts are normalized once by the `einsum` function
(ellipses and implicit outputs spelled out, size-1 broadcast axes given labels of their own), so the
class sees only explicit labels. Its adjoints are einsums again (see hw_notes/ops_linalg.md#einsum).
"""
import string

import numpy as np

from ..autograd import MultilinearOp, Tensor, as_tensor
from .indexing import getitem, pad
from .shape import reshape

__all__ = ["Einsum", "einsum", "tensordot", "outer", "inner", "trace", "diagonal", "diag", "kron"]

LABELS = string.ascii_letters


class Einsum(MultilinearOp):
    """Einstein summation: out[o] = Σ over the labels not in o of Π_k a_k[s_k], for explicit
    `subscripts` "s_1,…,s_n->o" (letters only; `einsum` spells out `...` and implicit outputs).

    Linear in each operand, so jvp = Σ_k einsum(…, ȧ_k, …). The adjoint of operand k is an einsum of
    the output adjoint with the other operands; a label repeated in s_k (a diagonal) is embedded back
    with identity matrices, and a label only s_k has (summed out) is broadcast back with ones.
    """

    def __init__(self, subscripts):
        self.subscripts = subscripts
        inputs, self.output = subscripts.split("->")
        self.inputs = inputs.split(",")

    def compute(self, *arrays):
        if len(arrays) == 1:
            return np.einsum(self.subscripts, arrays[0])
        return np.einsum(self.subscripts, *arrays, optimize=True)  # a contraction order; BLAS for pairs

    def gradient(self, out_grad, node):
        return tuple(
            self._adjoint(k, out_grad, node) if x.requires_grad else None for k, x in enumerate(node.inputs)
        )

    def _adjoint(self, k, out_grad, node):
        """The adjoint of operand k: einsum(ȳ, the other operands, identities, ones -> s_k)."""
        terms, operands = [self.output], [out_grad]
        for j, (term, x) in enumerate(zip(self.inputs, node.inputs)):
            if j != k:
                terms.append(term)
                operands.append(x)
        shape, dtype = node.inputs[k].shape, out_grad.dtype
        reached = set("".join(terms))
        fresh = iter(label for label in LABELS if label not in self.subscripts)
        target = []
        for position, label in enumerate(self.inputs[k]):
            size = shape[position]
            if label in target:  # a repeat: a new label, tied to the first by an identity matrix
                tied = next(fresh)
                terms.append(label + tied)
                operands.append(Tensor.make_const(np.eye(size, dtype=dtype)))
                label = tied
            elif label not in reached:  # summed out by this operand alone: its adjoint is constant along it
                terms.append(label)
                operands.append(Tensor.make_const(np.ones(size, dtype=dtype)))
            target.append(label)
        return Einsum(",".join(terms) + "->" + "".join(target))(*operands)


def _parse_term(term, position):
    """(labels before `...`, labels after, ellipsis present) of one operand's or the output's term."""
    head, dots, tail = term.partition("...")
    for part in (head, tail):
        bad = sorted(set(part) - set(LABELS))
        if bad or "." in part:
            raise ValueError(f"einsum: term {term!r} of {position}: only letters and one '...' are allowed")
    return head, tail, bool(dots)


def _normalize(subscripts, shapes):
    """Explicit subscripts for `shapes`: '...' replaced by labels (right-aligned, broadcast as NumPy
    does), the implicit output spelled out, and each size-1 axis that broadcasts against a larger
    one given a label of its own (it is then summed over, a no-op on size 1). Raises ValueError."""
    described = f"einsum: {subscripts!r} with operand shapes {', '.join(str(s) for s in shapes)}"
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"{described}: {len(terms)} input terms for {len(shapes)} operands")
    parsed = [_parse_term(term, f"operand {k}") for k, term in enumerate(terms)]
    used = set(spec) & set(LABELS)
    spare = [label for label in LABELS if label not in used]
    ellipsis_dims = []
    for (head, tail, dots), shape in zip(parsed, shapes):
        extra = len(shape) - len(head) - len(tail)
        if extra < 0 or (extra > 0 and not dots):
            raise ValueError(f"{described}: term {head + '...' * dots + tail!r} does not fit shape {shape}")
        ellipsis_dims.append(extra)
    width = max(ellipsis_dims, default=0)
    if width > len(spare):
        raise ValueError(f"{described}: too many axes under '...' ({width}) for the letters left")
    broadcast = spare[:width]
    spare = spare[width:]
    explicit = [head + "".join(broadcast[width - extra:]) + tail
                for (head, tail, _), extra in zip(parsed, ellipsis_dims)]
    if arrow:
        head, tail, dots = _parse_term(output, "the output")
        if width and not dots:
            # NumPy refuses this too: the '...' axes would have nowhere to go
            raise ValueError(f"{described}: the output has no '...' for the operands' '...' axes")
        out = head + "".join(broadcast) * dots + tail
        if len(set(out)) != len(out):
            raise ValueError(f"{described}: the output {output!r} repeats a label")
        missing = sorted(set(out) - set("".join(explicit)))
        if missing:
            raise ValueError(f"{described}: output labels {''.join(missing)!r} are in no input term")
    else:
        counts = {}
        for label in "".join(explicit):
            counts[label] = counts.get(label, 0) + 1
        out = "".join(broadcast) + "".join(sorted(l for l in counts if counts[l] == 1 and l not in broadcast))
    sizes = {}
    for term, shape in zip(explicit, shapes):
        for label, size in zip(term, shape):
            known = sizes.get(label, 1)
            if size != 1 and known != 1 and size != known:
                raise ValueError(f"{described}: label {label!r} stands for sizes {known} and {size}")
            sizes[label] = max(known, size)
    renamed = []
    for term, shape in zip(explicit, shapes):
        labels = []
        for label, size in zip(term, shape):
            if size == 1 and sizes[label] != 1:
                if term.count(label) > 1:
                    raise ValueError(f"{described}: repeated label {label!r} has sizes 1 and {sizes[label]}")
                if not spare:
                    raise ValueError(f"{described}: too many broadcast axes for the letters left")
                label = spare.pop(0)
            labels.append(label)
        renamed.append("".join(labels))
    return ",".join(renamed) + "->" + out


def einsum(subscripts, *operands):
    """Einstein summation as `numpy.einsum(subscripts, *operands)`: explicit ("ij,jk->ik") or
    implicit ("ij,jk") outputs, repeated labels (diagonals, "ii->i"), `...` for broadcast batch axes."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])  # torch.einsum("...", [a, b]) also works
    if not operands:
        raise ValueError(f"einsum: {subscripts!r} needs at least one operand")
    operands = [as_tensor("einsum", x, *operands) for x in operands]
    return Einsum(_normalize(subscripts, [x.shape for x in operands]))(*operands)


def _letters(count, skip=""):
    return [label for label in LABELS if label not in skip][:count]


def tensordot(a, b, dims=2, *, axes=None):
    """Σ over paired axes of a and b (PyTorch's `dims`, NumPy's `axes`): an int k pairs a's last k
    axes with b's first k; a pair of sequences pairs a's axes dims[0] with b's dims[1]."""
    a, b = as_tensor("tensordot", a, b), as_tensor("tensordot", b, a)
    dims = dims if axes is None else axes
    if isinstance(dims, (int, np.integer)):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims={dims} for shapes {a.shape} and {b.shape}")
        pairs = (list(range(a.ndim - dims, a.ndim)), list(range(dims)))
    else:
        pairs = [[d] if isinstance(d, (int, np.integer)) else list(d) for d in dims]
        if len(pairs) != 2 or len(pairs[0]) != len(pairs[1]):
            raise ValueError(f"tensordot: dims must be an int or two sequences of one length, got {dims!r}")
    labels_a = _letters(a.ndim)
    labels_b = _letters(b.ndim, labels_a)
    try:
        for i, j in zip(*pairs):
            if a.shape[i] != b.shape[j]:
                raise ValueError(
                    f"tensordot: axis {i} of {a.shape} and axis {j} of {b.shape} differ in size")
            labels_b[j] = labels_a[i]
    except IndexError:
        raise ValueError(f"tensordot: dims {dims!r} out of range for shapes {a.shape} and {b.shape}") from None
    contracted = {labels_a[i] for i in pairs[0]}
    out = [l for l in labels_a if l not in contracted] + [l for l in labels_b if l not in contracted]
    return Einsum(f"{''.join(labels_a)},{''.join(labels_b)}->{''.join(out)}")(a, b)


def outer(a, b):
    """The outer product a_i b_j (both flattened first, as NumPy's outer)."""
    a, b = as_tensor("outer", a, b), as_tensor("outer", b, a)
    return Einsum("i,j->ij")(reshape(a, (-1,)), reshape(b, (-1,)))


def inner(a, b):
    """Σ over the last axis of both: out[..., ...] = Σ_k a[..., k] b[..., k] (NumPy's and PyTorch's inner)."""
    a, b = as_tensor("inner", a, b), as_tensor("inner", b, a)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner: last axes of {a.shape} and {b.shape} differ in size")
    labels_a = _letters(a.ndim)
    labels_b = _letters(b.ndim - 1, labels_a) + [labels_a[-1]]
    out = labels_a[:-1] + labels_b[:-1]
    return Einsum(f"{''.join(labels_a)},{''.join(labels_b)}->{''.join(out)}")(a, b)


def diagonal(a, offset=0, dim1=0, dim2=1):
    """The diagonal a[..., i, i + offset] of axes dim1 and dim2, as the last axis (NumPy's and
    PyTorch's diagonal; NumPy's axis1/axis2 are dim1/dim2)."""
    a = as_tensor("diagonal", a)
    if a.ndim < 2:
        raise ValueError(f"diagonal: needs at least 2 dimensions, got shape {a.shape}")
    if not (-a.ndim <= dim1 < a.ndim and -a.ndim <= dim2 < a.ndim):
        raise ValueError(f"diagonal: axes ({dim1}, {dim2}) out of range for shape {a.shape}")
    dim1, dim2 = dim1 % a.ndim, dim2 % a.ndim
    if dim1 == dim2:
        raise ValueError(f"diagonal: dim1 and dim2 are both axis {dim1}")
    if offset:
        index = [slice(None)] * a.ndim
        index[dim2 if offset > 0 else dim1] = slice(abs(offset), None)
        a = getitem(a, tuple(index))
    length = min(a.shape[dim1], a.shape[dim2])
    if a.shape[dim1] != a.shape[dim2]:  # the square part that holds the diagonal
        index = [slice(None)] * a.ndim
        index[dim1] = index[dim2] = slice(0, length)
        a = getitem(a, tuple(index))
    labels = _letters(a.ndim)
    labels[dim2] = labels[dim1]
    rest = [l for k, l in enumerate(labels) if k not in (dim1, dim2)]
    return Einsum(f"{''.join(labels)}->{''.join(rest + [labels[dim1]])}")(a)


def trace(a, offset=0, dim1=0, dim2=1):
    """Σ_i a[..., i, i + offset] over axes dim1 and dim2 (NumPy's trace; PyTorch's for matrices)."""
    return diagonal(a, offset, dim1, dim2).sum(-1)


def diag(a, offset=0):
    """For a vector, the square matrix with it on diagonal `offset`; for a matrix, its diagonal
    `offset` (NumPy's and PyTorch's diag)."""
    a = as_tensor("diag", a)
    if a.ndim == 2:
        return diagonal(a, offset)
    if a.ndim != 1:
        raise ValueError(f"diag: takes a vector or a matrix, got shape {a.shape}")
    n = a.shape[0]
    square = Einsum("i,ij->ij")(a, Tensor.make_const(np.eye(n, dtype=a.dtype)))
    k = abs(offset)
    return pad(square, ((0, k), (k, 0)) if offset > 0 else ((k, 0), (0, k)))


def kron(a, b):
    """The Kronecker product: out[i·m + j] = a[i] b[j] along each axis, b's shape m (NumPy's kron;
    the operand with fewer axes gets leading size-1 axes)."""
    a, b = as_tensor("kron", a, b), as_tensor("kron", b, a)
    ndim = max(a.ndim, b.ndim)
    a = reshape(a, (1,) * (ndim - a.ndim) + a.shape)
    b = reshape(b, (1,) * (ndim - b.ndim) + b.shape)
    labels_a = _letters(ndim)
    labels_b = _letters(ndim, labels_a)
    interleaved = "".join(x + y for x, y in zip(labels_a, labels_b))
    product = Einsum(f"{''.join(labels_a)},{''.join(labels_b)}->{interleaved}")(a, b)
    return reshape(product, tuple(x * y for x, y in zip(a.shape, b.shape)))
