"""A throwaway PostgreSQL cluster on 127.0.0.1, for the tests and the benchmarks (never the package).

:class:`ThrowawayPostgres` runs Debian's ``initdb`` and ``pg_ctl`` from
``/usr/lib/postgresql/<version>/bin`` on a temporary folder and a free port, with ``trust``
authentication on loopback only. PostgreSQL refuses to run as root, so as root it runs them as
the ``postgres`` system user (``runuser``; the package creates that user) in a folder that
user owns; as anyone else, as that user. ``scripts/test`` installs the package when
``initdb`` is missing.

Use it as a context manager: the cluster is stopped (``pg_ctl stop -m immediate``) and its
folder removed on exit.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

#: Seconds to wait for the server to accept connections.
START_TIMEOUT_S = 60.0


def initdb_path() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin/initdb``, or None when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary folder on a free 127.0.0.1 port (see the module doc).

    Attributes
    ----------
    url : str
        ``postgresql://postgres@127.0.0.1:<port>/postgres`` (set once started).
    """

    def __init__(self) -> None:
        initdb = initdb_path()
        if initdb is None:
            raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
                               "`apt-get install -y postgresql`, or run scripts/test, which installs it")
        self.bin = initdb.parent
        self.root: Path | None = None
        self.port = 0
        self.url = ""

    def _run(self, *args: str) -> None:
        cmd = [str(a) for a in args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")

    def start(self) -> "ThrowawayPostgres":
        """initdb, then start the server and wait until it accepts connections."""
        self.root = Path(tempfile.mkdtemp(prefix="wf-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        data = self.root / "data"
        self._run(self.bin / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self.port = _free_port()
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(self.bin / "pg_ctl", "-D", data, "-o", options, "-l", self.root / "log", "-w",
                  "-t", str(int(START_TIMEOUT_S)), "start")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:  # pg_ctl -w waited on the socket; the TCP listener follows at once
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (immediately: it holds nothing worth a checkpoint) and remove its folder."""
        if self.root is None:
            return
        try:
            self._run(self.bin / "pg_ctl", "-D", self.root / "data", "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def new_schema_url(self) -> str:
        """The URL of a new, empty schema of its own (the connection's ``search_path``), for one test."""
        import psycopg

        name = f"t_{secrets.token_hex(6)}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return f"{self.url}?options=-csearch_path%3D{name}"

    def __enter__(self) -> "ThrowawayPostgres":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
