"""Real PostgreSQL and Redis servers for tests: on 127.0.0.1, a free port, a temp dir, removed after.

PostgreSQL refuses to run as root, so under root (CI) its commands run as the
`postgres` system user (`runuser`), in a directory given to that user. Where the
binaries are missing the tests that need them skip and say which; `.ci/run`
installs them so that CI always runs them.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

PG_USER = "postgres"  # the system user PostgreSQL runs as when the tests run as root


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def postgres_bin() -> Path | None:
    """The folder with initdb and pg_ctl: Debian's newest /usr/lib/postgresql/N/bin, or PATH."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def postgres_missing() -> str | None:
    """Why PostgreSQL cannot be started here, or None when it can."""
    if postgres_bin() is None:
        return "PostgreSQL is not installed (no initdb/pg_ctl); .ci/run installs postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            return f"running as root and there is no {PG_USER!r} user to run PostgreSQL as"
    return None


def redis_missing() -> str | None:
    """Why Redis cannot be started here, or None when it can."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed; .ci/run installs it (apt-get install redis-server)"
    return None


class PostgresServer:
    """One PostgreSQL cluster in a temp dir; `start`, `kill` (as a crash would), `start` again."""

    def __init__(self) -> None:
        folder = postgres_bin()
        assert folder is not None, postgres_missing()
        self.bin = folder
        self.root = Path(tempfile.mkdtemp(prefix="citebot-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            user = pwd.getpwnam(PG_USER)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "citebot",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",  # the cluster is thrown away; the server itself keeps fsync on
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://citebot@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", PG_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}")

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w",
            "start",
        )  # fmt: skip

    def kill(self) -> None:
        """Stop at once, without a checkpoint or goodbye to clients (like a crash)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # already stopped
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """A new, empty database on this server; its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "citebot", name)
        return self.url(name)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A started PostgreSQL, stopped and deleted afterwards."""
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.remove()


class RedisServer:
    """One redis-server in the foreground, no persistence, in a temp dir."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="citebot-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--dir", str(self.root),
                "--save", "",
                "--appendonly", "no",
                "--logfile", str(self.root / "log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start: {self._log()}")

    def _log(self) -> str:
        log = self.root / "log"
        return log.read_text(errors="replace") if log.exists() else "(no log)"

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(10)
        self._process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A started redis-server, stopped and deleted afterwards."""
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.remove()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL for the session (each test gets its own database from `postgres_url`)."""
    reason = postgres_missing()
    if reason is not None:
        pytest.skip(reason)
    with postgres_server() as server:
        yield server


@pytest.fixture
def postgres_url(pg_server: PostgresServer) -> str:
    """The URL of a new, empty database for this test."""
    return pg_server.create_database(f"test_{next(_databases)}")


_databases = itertools.count(1)


@pytest.fixture(scope="session")
def redis_srv() -> Iterator[RedisServer]:
    """One redis-server for the session (emptied after every test by `redis_url`)."""
    reason = redis_missing()
    if reason is not None:
        pytest.skip(reason)
    with redis_server() as server:
        yield server


@pytest.fixture
def redis_url(redis_srv: RedisServer) -> Iterator[str]:
    """The session's Redis, empty at the start of this test."""
    client = redis.Redis.from_url(redis_srv.url)
    try:
        client.flushall()
        yield redis_srv.url
    finally:
        client.close()
