"""The import graph of src/citebot: each stage imports only the stages before it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "citebot"

# What each package may import from citebot (besides itself): data flows
# text -> corpus -> retrieval / reader -> pipeline, and the reader never sees retrieval.
# `binfile` (checksummed numpy files) and `atomic` (atomic writes) are shared
# infrastructure, like `errors`; feeds/ fetches pages and feeds and writes them as corpus
# files.
ALLOWED = {
    "text": {"errors"},
    "corpus": {"text", "errors", "binfile", "atomic"},
    "feeds": {"text", "corpus", "errors", "atomic"},
    "retrieval": {"text", "corpus", "errors", "binfile", "atomic"},
    "reader": {"text", "corpus", "errors"},
    "evaluation": {"text", "corpus", "retrieval", "reader", "pipeline", "cite", "errors"},
}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def citebot_parts(path: Path) -> set[str]:
    """The top-level citebot modules and packages a file imports ("reader", "cite" ...)."""
    return {
        name.split(".")[1]
        for name in imported_modules(path)
        if name.startswith("citebot.") and name.count(".") >= 1
    }


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_the_stages_before_it(package: str) -> None:
    """text, corpus, retrieval, reader and evaluation (their subpackages too: reader/neural/)
    import only what ALLOWED lists; in particular nothing in reader/ imports retrieval/ (it
    reads through the contract)."""
    files = sorted((SRC / package).rglob("*.py"))
    assert files, f"src/citebot/{package}/ has no modules"
    for path in files:
        extra = citebot_parts(path) - ALLOWED[package] - {package}
        assert not extra, f"{path.relative_to(SRC)} imports citebot.{sorted(extra)}"


def test_the_core_never_names_discord_or_the_bot_package() -> None:
    """No module of src/citebot imports discord or `bot`, even lazily or by name."""
    for path in sorted(SRC.rglob("*.py")):
        names = imported_modules(path)
        assert not {n for n in names if n.split(".")[0] in {"discord", "bot"}}, path


def test_the_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The graph check reads function-level and by-name imports, not only the top of a file."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import importlib\n"
        "def f():\n"
        "    from citebot.retrieval import index\n"
        "    importlib.import_module('bot.client')\n",
        encoding="utf-8",
    )
    assert citebot_parts(probe) == {"retrieval"}
    assert "bot.client" in imported_modules(probe)
