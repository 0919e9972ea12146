"""Size limits that keep the tree readable (issue 14): no module of `src/` or `bot/` over
450 lines, no function over 60.

How a function is measured: from its first decorator to its last line, docstring and
comments included (`end_lineno - lineno + 1`), because that is what a reader has to hold
in mind. A nested function or class is part of its parent's body and counts in the
parent's length (nesting does not make a long function shorter to read); it is also
measured on its own. Methods are functions; a class as a whole is bounded only by its
module's limit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("src", "bot")
MODULE_MAX = 450
FUNCTION_MAX = 60

# Generated tables, exempt from both limits: a file written by a program is read as data,
# and cutting it up would only hide that. None is in the tree today; each entry names the
# file (relative to the repository) and the program that writes it.
GENERATED: dict[str, str] = {}


def modules() -> list[Path]:
    """Every Python file under the checked folders, in a stable order."""
    return sorted(p for folder in CHECKED for p in (ROOT / folder).rglob("*.py"))


def exempt(path: Path) -> bool:
    """Whether `path` is a generated table."""
    name = path.relative_to(ROOT).as_posix()
    return name in GENERATED


def module_lines(source: str) -> int:
    """Lines as `wc -l` counts them for a file that ends with a newline."""
    return len(source.splitlines())


def function_lengths(source: str) -> Iterator[tuple[str, int]]:
    """(qualified name, lines) of every function and method, nested ones too."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = prefix + child.name
                if not isinstance(child, ast.ClassDef):
                    first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                    assert child.end_lineno is not None  # always set by ast.parse
                    yield name, child.end_lineno - first + 1
                yield from walk(child, name + ".")
            else:
                yield from walk(child, prefix)

    yield from walk(ast.parse(source), "")


def test_no_module_is_over_450_lines() -> None:
    """Every module outside the exemptions has at most 450 lines."""
    over = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for path in modules()
        if not exempt(path) and (lines := module_lines(path.read_text("utf-8"))) > MODULE_MAX
    ]
    assert not over, f"split these modules along their seams (max {MODULE_MAX}): {over}"


def test_no_function_is_over_60_lines() -> None:
    """Every function and method outside the exemptions has at most 60 lines."""
    over = [
        f"{path.relative_to(ROOT)}: {name} is {lines} lines"
        for path in modules()
        if not exempt(path)
        for name, lines in function_lengths(path.read_text("utf-8"))
        if lines > FUNCTION_MAX
    ]
    assert not over, f"split these functions into named steps (max {FUNCTION_MAX}): {over}"


def test_every_exemption_names_a_file_that_exists() -> None:
    """An exemption whose file is gone is stale: it must be removed, not kept for later."""
    gone = [name for name in GENERATED if not (ROOT / name).is_file()]
    assert not gone, f"no longer exist: remove them from tests/test_sizes.py: {gone}"


def test_a_function_counts_its_decorators_docstring_and_nested_functions() -> None:
    """The measure: decorator to last line, a nested function inside its parent's length."""
    body = "\n".join(f"    x{i} = {i}" for i in range(55))
    source = (
        "@decorator\n"
        "def outer():\n"
        '    """Docstring."""\n'
        "    def inner():\n"
        "        return 1\n"
        f"{body}\n"
        "class Holder:\n"
        "    async def method(self):\n"
        "        pass\n"
    )
    assert dict(function_lengths(source)) == {
        "outer": 60,
        "outer.inner": 2,
        "Holder.method": 2,
    }
    one_more = source.replace("    x0 = 0\n", "    x0 = 0\n    y = 1\n")
    assert dict(function_lengths(one_more))["outer"] == 61


def test_module_lines_match_wc() -> None:
    """A module's length is its number of lines, a last line without newline included."""
    assert module_lines("a\nb\n") == 2
    assert module_lines("a\nb") == 2
    assert module_lines("") == 0
