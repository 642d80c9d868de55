"""The notes in hw_notes/ agree with the code: their structure, the tests they cite, their tables.

* The op pages (hw_notes/ops.md and the hw_notes/ops_<family>.md pages beside it) have one
  `## ClassName` section per op class exported by needle.ops (and no other), each with a **Gradient.** and a **jvp.** paragraph and a `Checked by:` line naming tests
  that exist.
* Every numeric worked example is a table right after a `<!-- check: NAME -->` line. The test
  registered for NAME with `worked_example` (in tests/test_notes_examples.py) recomputes each figure
  with needle and requires it to the digits printed; a table without a test fails, and so does a
  test without its table.
* Links between the pages resolve.
"""
import decimal
import importlib
import re
from pathlib import Path

from tests.ops.test_completeness import exported_op_classes

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "hw_notes"

CHECK_MARKER = re.compile(r"<!--\s*check:\s*([a-z0-9_]+)\s*-->")  # alone on its line
TABLE_RULE = re.compile(r":?-{3,}:?")
TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:\[([^`]*)\])?`")
MARKDOWN_LINK = re.compile(r"\]\(([\w.-]+\.md)(?:#([\w-]+))?\)")


# ---- reading the notes ---------------------------------------------------------------------------


def note_pages():
    return sorted(NOTES.glob("*.md"))


def parse_table(lines, where):
    """Rows (dicts keyed by the header) of the Markdown table that starts at `lines[0]`."""
    cells = []
    for line in lines:
        if not line.startswith("|"):
            break
        cells.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    assert len(cells) >= 3, f"{where}: the check marker must be followed directly by a table"
    header, rule, body = cells[0], cells[1], cells[2:]
    assert all(TABLE_RULE.fullmatch(cell) for cell in rule), f"{where}: no |---| rule under header"
    for row in body:
        assert len(row) == len(header), f"{where}: row {row} does not have {len(header)} cells"
    return [dict(zip(header, row)) for row in body]


def marked_tables():
    """{check name: table rows} for every `<!-- check: NAME -->` table in the notes."""
    tables = {}
    for page in note_pages():
        lines = page.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            marker = CHECK_MARKER.fullmatch(line.strip())
            if marker is None:
                continue
            name = marker.group(1)
            assert name not in tables, f"{page.name}: check {name!r} is marked twice"
            tables[name] = parse_table(lines[i + 1:], f"{page.name}, check {name}")
    return tables


def assert_stated(computed, cell, what):
    """`computed` equals the figure in `cell` to the digits printed (half a unit of the last)."""
    text = cell.replace("−", "-").strip()
    computed = float(computed)
    if text in ("inf", "-inf"):
        assert computed == float(text), f"{what}: the notes state {cell}, needle gives {computed!r}"
        return
    stated = decimal.Decimal(text)
    tolerance = 0.5 * 10.0 ** stated.as_tuple().exponent
    assert abs(computed - float(stated)) <= tolerance * (1 + 1e-9), (
        f"{what}: the notes state {cell}, needle computes {computed:.10g}"
    )


def by_key(rows, column, expected_keys, check):
    """The rows keyed by `column`; the keys must be exactly the `expected_keys` a test computes."""
    keyed = {row[column]: row for row in rows}
    assert sorted(keyed) == sorted(expected_keys), (
        f"check {check}: the table's rows are {sorted(keyed)}, the test's {sorted(expected_keys)}"
    )
    return keyed


CHECKED_EXAMPLES = set()


def worked_example(name):
    """Register a test of the table marked `<!-- check: name -->`; the test receives its rows."""

    def register(check):
        CHECKED_EXAMPLES.add(name)

        def test():
            tables = marked_tables()
            assert name in tables, f"no table is marked <!-- check: {name} --> in hw_notes/"
            check(tables[name])

        test.__name__ = check.__name__
        test.__doc__ = check.__doc__
        return test

    return register


def test_every_marked_table_has_a_test_and_every_test_its_table():
    importlib.import_module("tests.test_notes_examples")  # registers its worked examples
    marked = set(marked_tables())
    untested = sorted(marked - CHECKED_EXAMPLES)
    missing = sorted(CHECKED_EXAMPLES - marked)
    assert not untested, f"tables marked for a check that no test computes: {untested}"
    assert not missing, f"worked-example tests whose table is gone from hw_notes/: {missing}"


def heading_anchor(heading):
    """A heading's anchor as Markdown renderers make it: lowercase, no punctuation, '-' for ' '."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


def test_links_between_notes_resolve():
    """Every `[text](page.md#anchor)` names an existing page and one of its headings."""
    anchors = {
        page.name: {
            heading_anchor(line.lstrip("#"))
            for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("#")
        }
        for page in note_pages()
    }
    for page in note_pages():
        for target, anchor in MARKDOWN_LINK.findall(page.read_text(encoding="utf-8")):
            assert target in anchors, f"{page.name}: link to missing page {target}"
            if anchor:
                assert anchor in anchors[target], f"{page.name}: no heading #{anchor} in {target}"


# ---- the op pages: one section per exported op, each citing tests that exist --------------------


def op_pages():
    """hw_notes/ops.md and the per-family pages hw_notes/ops_<family>.md."""
    return sorted(NOTES.glob("ops*.md"))


def op_sections():
    """{ClassName: section text} for each `## ClassName` heading of the op pages."""
    sections = {}
    for page in op_pages():
        name = None
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.startswith("## "):
                name = line[3:].strip()
                assert name not in sections, f"{page.name}: a second section named {name}"
                sections[name] = []
            elif line.startswith("# "):
                name = None
            elif name is not None:
                sections[name].append(line)
    return {name: "\n".join(lines) for name, lines in sections.items()}


def checked_by_references(text):
    """(file, test name, parameter id or None) for each test on a section's `Checked by:` lines."""
    references = []
    for line in text.splitlines():
        if line.startswith("Checked by:"):
            references += TEST_REFERENCE.findall(line)
    return [(path, name, param or None) for path, name, param in references]


def parametrize_ids(test):
    """The explicit ids of a test's parametrize marks (the case-table tests use the row ids)."""
    ids = set()
    for mark in getattr(test, "pytestmark", []):
        if mark.name == "parametrize":
            ids.update(mark.kwargs.get("ids") or [])
    return ids


def test_every_exported_op_class_has_a_section():
    missing = sorted({cls.__name__ for cls in exported_op_classes()} - set(op_sections()))
    assert not missing, f"op classes in needle.ops with no `## ClassName` on an op page (hw_notes/ops*.md): {missing}"


def test_every_section_names_an_exported_op_class():
    stale = sorted(set(op_sections()) - {cls.__name__ for cls in exported_op_classes()})
    assert not stale, f"op-page sections for classes that needle.ops does not export: {stale}"


def test_every_section_states_gradient_and_jvp_and_its_tests():
    for name, text in op_sections().items():
        assert "**Gradient.**" in text, f"op pages, {name}: no **Gradient.** paragraph"
        assert "**jvp.**" in text, f"op pages, {name}: no **jvp.** paragraph"
        assert checked_by_references(text), f"op pages, {name}: no `Checked by: tests/…::test` line"


def test_checked_by_names_tests_that_exist():
    """Each cited file exists and defines the test by `def`; a cited parameter is one of the test's
    parametrize ids, for a case-table test (tests/ops/test_cases.py) a row id."""
    for op_name, text in op_sections().items():
        for path, test_name, param in checked_by_references(text):
            where = f"op pages, {op_name}: {path}::{test_name}"
            source_path = ROOT / path
            assert source_path.is_file(), f"{where}: no such file"
            source = source_path.read_text(encoding="utf-8")
            defined_here = re.search(rf"^def {test_name}\(", source, re.MULTILINE) is not None
            assert defined_here, f"{where}: the file defines no such test"
            module = importlib.import_module(path[:-len(".py")].replace("/", "."))
            test = getattr(module, test_name, None)
            assert test_name.startswith("test_") and callable(test), f"{where}: no such test"
            if param is not None:
                assert param in parametrize_ids(test), f"{where}: it has no parameter [{param}]"
