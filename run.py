#!/usr/bin/env python3
"""Quick start, on any machine with Python 3.11+ and nothing else installed.

    python3 run.py "When did the Hong Kong Science Park open its Shenzhen branch?"
                                  # answer from the shipped corpus (runs the Discord
                                  # bot instead when DISCORD_TOKEN is set)
    python3 run.py --test         # the whole test suite

Each creates `.venv/` beside this file on first use and installs what it needs
(again only when pyproject.toml changes); extra arguments go to the command.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
DEFAULT_QUESTION = "When did the Hong Kong Science Park open its Shenzhen branch?"


def venv_python() -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    return VENV / scripts / ("python.exe" if os.name == "nt" else "python")


def ensure_installed(extra: str | None) -> Path:
    """Create the virtual environment and install the project (with `extra`) when needed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - the one file an older Python may run
        sys.exit(f"citebot needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    python = venv_python()
    if not python.exists():
        print(f"Creating {VENV.name}/ ...", file=sys.stderr)
        venv.create(VENV, with_pip=True)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / f".installed-{extra or 'app'}"
    if not stamp.exists() or stamp.read_text() != digest:
        target = f".[{extra}]" if extra else "."
        print(
            f"Installing citebot{f'[{extra}]' if extra else ''} into {VENV.name}/ ...",
            file=sys.stderr,
        )
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-e",
                target,
            ],
            cwd=ROOT,
            check=True,
        )
        stamp.write_text(digest)
    return python


def token_is_set() -> bool:
    """DISCORD_TOKEN in the environment or in a .env file beside this script."""
    if os.environ.get("DISCORD_TOKEN"):
        return True
    env_file = ROOT / ".env"
    if env_file.is_file():
        for line in env_file.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "DISCORD_TOKEN" and value.strip().strip("'\""):
                return True
    return False


def main(argv: list[str]) -> int:
    if argv[:1] == ["--test"]:
        python = ensure_installed("dev")
        return subprocess.call([str(python), "-m", "pytest", *argv[1:]], cwd=ROOT)
    python = ensure_installed(None)
    if token_is_set():
        return subprocess.call([str(python), "-m", "bot"], cwd=ROOT)  # the bot's own entry point
    question = " ".join(argv) if argv else DEFAULT_QUESTION
    return subprocess.call([str(python), "-m", "citebot.cli", "ask", question], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
