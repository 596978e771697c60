"""Running servers announce themselves in ``<home>/servers/<pid>.json``.

Each file is ``{"url", "pid", "kind", "host", "started"}`` with ``kind`` one of
``"jupyter"``, ``"standalone"`` or ``"thread"``. A server writes its file when it starts
listening and removes it on exit (including at interpreter exit). A file whose process is
gone, or that was written on another host (its loopback URL would not be reachable
from here), is *stale* and ignored; a server killed hard leaves one behind, which is
harmless and overwritten when the pid is reused by another server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .._files import private_dir, temp_name, write_private
from ..config import Settings
from ..jobs.store import HOST, pid_alive

KINDS = ("jupyter", "standalone", "thread")


def servers_dir(settings: Settings) -> Path:
    """``<home>/servers``."""
    return Path(settings.home) / "servers"


def register(settings: Settings, url: str, kind: str) -> Path:
    """Write this process's server file; returns its path.

    Parameters
    ----------
    settings : Settings
    url : str
        Base URL of the mount (links are ``<url>/results/...``), without a trailing slash.
    kind : str
        ``"jupyter"``, ``"standalone"`` or ``"thread"``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    folder = servers_dir(settings)
    private_dir(folder)
    path = folder / f"{os.getpid()}.json"
    info = {"url": url.rstrip("/"), "pid": os.getpid(), "kind": kind, "host": HOST, "started": settings.time()}
    tmp = temp_name(path)
    try:
        write_private(tmp, json.dumps(info).encode())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def unregister(path: Path | None) -> None:
    """Remove a server file written by :func:`register` in this process (if still ours)."""
    if path is None:
        return
    try:
        info = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return
    if info.get("pid") == os.getpid():
        Path(path).unlink(missing_ok=True)


def live_servers(settings: Settings, kind: str | None = None) -> list[dict]:
    """Server files of live processes on this host, most recently started first.

    Parameters
    ----------
    settings : Settings
    kind : str, optional
        Only servers of this kind.
    """
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
