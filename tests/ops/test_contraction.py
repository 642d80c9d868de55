"""Case table and properties for the contractions: einsum in its forms (explicit and implicit outputs,
diagonals, '...', size-1 broadcasting, three operands), and tensordot, outer, inner, trace, diagonal,
diag and kron built on it."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import needle as ndl
from needle.testing import check_gradients
from tests.ops.case import Case


def einsum_case(subscripts, shapes, **extra):
    return Case(lambda *xs: ndl.einsum(subscripts, *xs), shapes=shapes,
                numpy=lambda *xs: np.einsum(subscripts, *xs), name=f"einsum_{_row_name(subscripts)}", **extra)


def _row_name(subscripts):
    return subscripts.replace("->", "_to_").replace(",", "_").replace("...", "dots").replace(" ", "") or "none"


CASES = [
    einsum_case("ij,jk->ik", [(3, 4), (4, 2)]),
    einsum_case("ij,jk", [(2, 3), (3, 2)]),  # implicit output: the labels seen once, sorted
    einsum_case("ii->i", [(3, 3)]),  # a diagonal: its adjoint is embedded back with an identity
    einsum_case("ii", [(3, 3)]),  # the trace
    einsum_case("iij,j->i", [(2, 2, 3), (3,)]),
    einsum_case("ij->", [(2, 3)]),  # a label summed out by its only operand: broadcast back with ones
    einsum_case("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    einsum_case("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),  # '...' broadcasts (a size-1 axis too)
    einsum_case("i,i->i", [(1,), (3,)]),  # a size-1 label broadcasts, as in NumPy
    einsum_case("ab,bc,cd->ad", [(2, 3), (3, 2), (2, 2)]),
    einsum_case("ij,ij,ij->i", [(2, 3), (2, 3), (2, 3)]),  # one operand's adjoint is the product of two others
    Case(ndl.tensordot, shapes=[(2, 3, 4), (3, 4, 2)], numpy=np.tensordot),
    Case(ndl.tensordot, shapes=[(3, 2), (2, 3)], numpy=lambda a, b, dims: np.tensordot(a, b, axes=dims),
         kwargs={"dims": ([0, 1], [1, 0])}),
    Case(ndl.outer, shapes=[(3,), (4,)], numpy=np.outer),
    Case(ndl.inner, shapes=[(2, 3), (4, 3)], numpy=np.inner),
    Case(ndl.trace, shapes=[(3, 3)], numpy=np.trace),
    Case(ndl.trace, shapes=[(3, 4)], numpy=np.trace, kwargs={"offset": 1}),
    Case(ndl.diagonal, shapes=[(2, 3, 4)], numpy=lambda a, **k: np.diagonal(a, k["offset"], k["dim1"], k["dim2"]),
         kwargs={"offset": -1, "dim1": 1, "dim2": 2}),
    Case(ndl.diagonal, shapes=[(3, 4)], numpy=np.diagonal),
    Case(ndl.diag, shapes=[(3,)], numpy=np.diag),
    Case(ndl.diag, shapes=[(3,)], numpy=lambda a, offset: np.diag(a, offset), kwargs={"offset": -2}),
    Case(ndl.diag, shapes=[(3, 4)], numpy=lambda a, offset: np.diag(a, offset), kwargs={"offset": 1}),
    Case(ndl.kron, shapes=[(2, 3), (2, 2)], numpy=np.kron),
    Case(ndl.kron, shapes=[(3,), (2, 2)], numpy=np.kron),
]


@pytest.mark.parametrize("subscripts, shapes, message", [
    ("ij,jk", [(2, 3), (4, 5)],
     r"^einsum: 'ij,jk' with operand shapes \(2, 3\), \(4, 5\): label 'j' stands for sizes 3 and 4$"),
    ("ij", [(2,)], r"term 'ij' does not fit shape \(2,\)"),
    ("ij->k", [(2, 3)], r"output labels 'k' are in no input term"),
    ("i,j", [(2,)], r"2 input terms for 1 operands"),
    ("ij->ii", [(2, 2)], r"the output 'ii' repeats a label"),
    ("i1", [(2, 2)], r"^einsum: term 'i1' of operand 0: only letters"),
    ("...i->i", [(2, 3)], r"the output has no '...'"),
    ("ii", [(2, 3)], r"label 'i' stands for sizes 2 and 3"),
])
def test_einsum_rejects_subscripts_that_do_not_fit_naming_the_shapes(subscripts, shapes, message):
    operands = [ndl.Tensor(np.ones(s, np.float32)) for s in shapes]
    with pytest.raises(ValueError, match=message):
        ndl.einsum(subscripts, *operands)


def test_einsum_takes_a_list_of_operands_and_keeps_float32():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = ndl.einsum("ij->ji", [ndl.Tensor(a)])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), a.T)


def test_einsum_adjoint_is_an_einsum_again():
    a = ndl.Tensor(np.ones((3, 3), np.float32))
    b = ndl.Tensor(np.full(3, 2, np.float32))
    (g,) = ndl.autograd.grad(ndl.einsum("ii,i->", a, b), [a], create_graph=True)
    assert isinstance(g.op, ndl.ops.Einsum)
    np.testing.assert_array_equal(g.numpy(), 2 * np.eye(3))


LABELS = "abcd"


@st.composite
def einsum_problems(draw):
    """Two operands over up to four labels of sizes 1-3, with a random (valid) explicit output."""
    sizes = {label: draw(st.integers(1, 3)) for label in LABELS}
    terms = [draw(st.lists(st.sampled_from(LABELS), min_size=1, max_size=3)) for _ in range(2)]
    seen = sorted(set(terms[0]) | set(terms[1]))
    out = draw(st.lists(st.sampled_from(seen), unique=True, max_size=len(seen)))
    subscripts = f"{''.join(terms[0])},{''.join(terms[1])}->{''.join(out)}"
    shapes = [tuple(sizes[label] for label in term) for term in terms]
    return subscripts, shapes


@settings(max_examples=25, deadline=None)
@given(einsum_problems(), st.integers(0, 2**16))
def test_einsum_matches_numpy_and_finite_differences_on_drawn_subscripts(problem, seed):
    subscripts, shapes = problem
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1, 1, size=s) for s in shapes]
    out = ndl.einsum(subscripts, *[ndl.Tensor(a) for a in arrays])
    np.testing.assert_allclose(out.numpy(), np.einsum(subscripts, *arrays), rtol=1e-12, atol=1e-12)
    check_gradients(lambda *xs: ndl.einsum(subscripts, *xs), *arrays, order=2, seed=seed)


def test_tensordot_and_diagonal_reject_bad_axes():
    a = ndl.Tensor(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"^tensordot: axis 1 of \(2, 3\) and axis 0 of \(2, 3\) differ in size"):
        ndl.tensordot(a, a, dims=([1], [0]))
    with pytest.raises(ValueError, match=r"^diagonal: dim1 and dim2 are both axis 1"):
        ndl.diagonal(a, 0, 1, -1)
    with pytest.raises(ValueError, match=r"^diag: takes a vector or a matrix, got shape \(1, 2, 3\)"):
        ndl.diag(ndl.Tensor(np.ones((1, 2, 3), np.float32)))
