"""Running servers announce themselves: in the home folder, or in the database.

In the embedded default each server writes ``<home>/servers/<pid>.json``:
``{"url", "pid", "kind", "host", "started"}`` with ``kind`` one of ``"jupyter"``,
``"standalone"`` or ``"thread"``. A server writes its file when it starts listening and
removes it on exit (including at interpreter exit). A file whose process is gone, or that was
written on another host (its loopback URL would not be reachable from here), is *stale* and
ignored; a server killed hard leaves one behind, which is harmless and overwritten when the
pid is reused by another server.

With ``WF_WIDGETS_DATABASE_URL`` the same facts are rows of the database's ``servers`` table
(plus a ``heartbeat``), never files of a home folder: servers on other hosts are seen too. A
server's process refreshes its row's heartbeat every :data:`HEARTBEAT_S` seconds and deletes
it on exit. A row is live when its heartbeat is younger than :data:`STALE_AFTER_S` and, on
this host, its pid lives; a live row of another host counts unless its URL is a loopback one
(unreachable from here).
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import threading
from pathlib import Path
from urllib.parse import urlsplit

from .. import _db
from .._files import private_dir, temp_name, write_private
from ..config import Settings
from ..jobs.store import HOST, pid_alive

KINDS = ("jupyter", "standalone", "thread")
#: Seconds between two heartbeats of a server registered in the database.
HEARTBEAT_S = 15.0
#: A database row whose heartbeat is older than this is stale (its server died without deleting it).
STALE_AFTER_S = 60.0

#: The ``servers`` table (with a database URL; see :meth:`wf_widgets._db.Database.migrate`).
MIGRATIONS: tuple[str, ...] = (_db.Migration("""
CREATE TABLE IF NOT EXISTS servers (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    kind TEXT NOT NULL,
    host TEXT NOT NULL,
    pid {int} NOT NULL,
    started {real} NOT NULL,
    heartbeat {real} NOT NULL
);
"""),)
#: The table's store name in the database.
STORE = "servers"


def servers_dir(settings: Settings) -> Path:
    """``<home>/servers``."""
    return Path(settings.home) / "servers"


def _database(settings: Settings) -> _db.Database:
    db = _db.open_database(settings, STORE, None)
    try:
        db.migrate(MIGRATIONS)
    except BaseException:
        db.close()
        raise
    return db


class Registration:
    """A server's row in the database, kept alive by a heartbeat thread until :func:`unregister`.

    Attributes
    ----------
    id : str
        The row's id.
    info : dict
        What the row says (``url``, ``pid``, ``kind``, ``host``, ``started``).
    """

    def __init__(self, settings: Settings, info: dict):
        self.settings = settings
        self.info = info
        self.id = f"{HOST}:{info['pid']}:{secrets.token_hex(4)}"
        self._db = _database(settings)
        now = settings.time()
        self._db.write("INSERT INTO servers (id, url, kind, host, pid, started, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (self.id, info["url"], info["kind"], HOST, info["pid"], info["started"], now))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="wf-server-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                self._db.write("UPDATE servers SET heartbeat = ? WHERE id = ?", (self.settings.time(), self.id))
            except Exception:  # the database away for a while: the next beat tries again
                pass

    def close(self) -> None:
        """Stop the heartbeat and delete the row (once; only in the process that registered it)."""
        if self._stop.is_set() or self.info["pid"] != os.getpid():
            return
        self._stop.set()
        self._thread.join(5)
        try:
            self._db.write("DELETE FROM servers WHERE id = ?", (self.id,))
        finally:
            self._db.close()


def register(settings: Settings, url: str, kind: str) -> Path | Registration:
    """Announce this process's server; returns what :func:`unregister` takes.

    Parameters
    ----------
    settings : Settings
    url : str
        Base URL of the mount (links are ``<url>/results/...``), without a trailing slash.
    kind : str
        ``"jupyter"``, ``"standalone"`` or ``"thread"``.

    Returns
    -------
    Path or Registration
        The server file (embedded default), or the database row's registration.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    info = {"url": url.rstrip("/"), "pid": os.getpid(), "kind": kind, "host": HOST, "started": settings.time()}
    if _db.kind(settings) != "embedded":
        return Registration(settings, info)
    folder = servers_dir(settings)
    private_dir(folder)
    path = folder / f"{os.getpid()}.json"
    tmp = temp_name(path)
    try:
        write_private(tmp, json.dumps(info).encode())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def unregister(handle: Path | Registration | None) -> None:
    """Remove what :func:`register` made in this process (if still ours)."""
    if handle is None:
        return
    if isinstance(handle, Registration):
        handle.close()
        return
    try:
        info = json.loads(Path(handle).read_text())
    except (OSError, ValueError):
        return
    if info.get("pid") == os.getpid():
        Path(handle).unlink(missing_ok=True)


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def live_servers(settings: Settings, kind: str | None = None) -> list[dict]:
    """Live servers (see the module doc), most recently started first.

    Parameters
    ----------
    settings : Settings
    kind : str, optional
        Only servers of this kind.
    """
    if _db.kind(settings) != "embedded":
        return _live_in_database(settings, kind)
    folder = servers_dir(settings)
    found = []
    try:
        files = list(folder.glob("*.json"))
    except OSError:
        return []
    for path in files:
        try:
            info = json.loads(path.read_text())
            pid = int(info["pid"])
            url = str(info["url"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # half-written or foreign: ignore
        if kind is not None and info.get("kind") != kind:
            continue
        if info.get("host") != HOST or not pid_alive(pid):
            continue
        found.append({**info, "pid": pid, "url": url})
    found.sort(key=lambda i: i.get("started") or 0, reverse=True)
    return found


# The database each URL's reads of live servers use (links are resolved often: opened once per process).
_readers: dict[str, _db.Database] = {}
_readers_lock = threading.Lock()


def _reader(settings: Settings) -> _db.Database:
    url = settings.database_url
    db = _readers.get(url)
    if db is None:
        with _readers_lock:
            db = _readers.get(url)
            if db is None:
                db = _readers[url] = _database(settings)
    return db


def _forget_readers() -> None:
    global _readers_lock
    _readers_lock = threading.Lock()
    _readers.clear()


os.register_at_fork(after_in_child=_forget_readers)


def _live_in_database(settings: Settings, kind: str | None) -> list[dict]:
    rows = _reader(settings).read(
        "SELECT url, pid, kind, host, started FROM servers WHERE heartbeat >= ? ORDER BY started DESC",
        (settings.time() - STALE_AFTER_S,)).fetchall()
    found = []
    for r in rows:
        info = {"url": r[0], "pid": int(r[1]), "kind": r[2], "host": r[3], "started": r[4]}
        if kind is not None and info["kind"] != kind:
            continue
        if info["host"] == HOST and not pid_alive(info["pid"]):
            continue
        if info["host"] != HOST and _loopback(info["url"]):
            continue
        found.append(info)
    return found
