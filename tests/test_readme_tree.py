"""README's "How it works" lists every module of `src/citebot/` and `bot/`, and only those."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The section's code blocks, in order, and the folder each one draws.
TREES = ("src/citebot", "bot")


def tree_blocks(readme: str) -> list[str]:
    """The code blocks of the "How it works" section."""
    section = readme.split("\n## How it works\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.*?)```", section, flags=re.DOTALL)


def listed(block: str) -> set[str]:
    """The module paths a tree block names, folders resolved from its indentation."""
    found: set[str] = set()
    folders: list[str] = []
    for line in block.splitlines():
        if not line.strip() or line.startswith(" " * (2 * len(folders) + 1)):
            continue  # a wrapped description, indented past the names
        depth = (len(line) - len(line.lstrip())) // 2
        name = line.split()[0]
        folders = folders[:depth]
        if name.endswith("/"):
            folders.append(name.rstrip("/"))
        elif name.endswith(".py"):
            found.add("/".join([*folders, name]))
    return found


def modules(folder: str) -> set[str]:
    """Every module under `folder` but the package files, relative to it."""
    base = ROOT / folder
    return {p.relative_to(base).as_posix() for p in base.rglob("*.py") if p.name != "__init__.py"}


def test_the_readme_tree_names_each_module_once_and_no_other() -> None:
    """A module added, moved or deleted without its README line fails here, naming it."""
    blocks = tree_blocks((ROOT / "README.md").read_text("utf-8"))
    assert len(blocks) >= len(TREES)
    for folder, block in zip(TREES, blocks, strict=False):
        shown, real = listed(block), modules(folder)
        assert not real - shown, f"{folder}: add to README's How it works: {sorted(real - shown)}"
        assert not shown - real, (
            f"{folder}: README lists modules that are gone: {sorted(shown - real)}"
        )


def test_the_parser_follows_indentation_and_skips_wrapped_lines() -> None:
    """Folders nest by two spaces; a description's continuation line is not a module."""
    block = (
        "text/         shared\n"
        "  dates.py       dates, resolved\n"
        "                 against the article date\n"
        "  deep/          nested\n"
        "    a.py           module\n"
        "cite.py       citations\n"
    )
    assert listed(block) == {"text/dates.py", "text/deep/a.py", "cite.py"}
