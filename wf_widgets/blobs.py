"""Big graph literals, kept out of the SQLite rows as content-addressed files.

A graph's literal (``{"lit": ...}`` in its JSON form, see :mod:`wf_widgets.values.graph`)
whose JSON text is longer than :data:`INLINE_MAX_BYTES` is written to
``<home>/blobs/<sha256 of the text>`` (atomically: a temporary name, then a rename; mode
0600) and the stored graph holds ``{"blob": "<sha256>"}`` in its place
(:func:`externalize`). Whoever reads the graph back puts the literals back
(:func:`resolve`). Node ids are untouched: they hash the literal itself, not the file.

So a 24 MB array in a graph costs the job store a few bytes, and a full disk meets the
blob write (a clear :class:`~wf_widgets.errors.DiskFull`, nothing left behind) before any
row is written. Every graph's literals together are limited to
``Settings.max_literal_bytes``; a bigger graph is refused with a ValidationError before
anything is stored.

Stores list the blobs each row uses (a ``blobs`` column); the sweeper deletes the files
no live row names (:meth:`BlobStore.sweep`), sparing files younger than
:data:`GRACE_S` (one being written for a row not inserted yet).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any, Iterable

from .errors import DiskFull, ValidationError

#: Literals whose JSON text is longer than this many bytes are stored as blob files.
INLINE_MAX_BYTES = 64 * 1024
#: Unreferenced blob files younger than this (seconds) are kept: their row may not exist yet.
GRACE_S = 3600.0

_KEY = re.compile(r"^[0-9a-f]{64}$")
_NONE = object()
_SCALARS = (type(None), bool, int, float)


def _literal_size(lit: Any) -> int:
    """Bytes of a literal's JSON text; strings by their length, numbers and flags as 8."""
    if isinstance(lit, str):
        return len(lit) + 2
    if isinstance(lit, (list, dict)):
        return len(json.dumps(lit, separators=(",", ":")))
    return 8


def _fmt_bytes(n: int) -> str:
    return f"{n / 2 ** 20:.1f} MiB" if n >= 2 ** 20 else f"{n} bytes"


class BlobStore:
    """Content-addressed files under ``<home>/blobs``.

    Parameters
    ----------
    home : Path
        The home folder.
    """

    def __init__(self, home: Path):
        self.root = Path(home) / "blobs"

    def path(self, key: str) -> Path:
        """The file of blob ``key``; refuses anything but a SHA-256 in hex."""
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(f"Not a blob key: {key!r}")
        return self.root / key

    def put(self, data: bytes) -> str:
        """Store ``data`` (if not stored already); returns its key, the SHA-256 of ``data`` in hex.

        Raises
        ------
        DiskFull
            No room for it; nothing is left behind.
        """
        key = hashlib.sha256(data).hexdigest()
        path = self.path(key)
        if path.exists():
            os.utime(path)  # used again: a fresh grace period
            return key
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.root / f".{key}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFull.in_folder(self.root) from exc
            raise
        return key

    def get(self, key: str) -> bytes:
        """The bytes of blob ``key``.

        Raises
        ------
        ValidationError
            The file is gone (the row using it outlived it).
        """
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise ValidationError(
                f"The graph's literal {key[:12]}... is gone from {self.root} (the job or layer using it is older "
                "than the sweeper keeps them); compute it again", field="graph", value=key) from None

    def keys(self) -> list[str]:
        """Keys of every stored blob."""
        try:
            return [p.name for p in self.root.iterdir() if _KEY.match(p.name)]
        except FileNotFoundError:
            return []

    def unreferenced(self, referenced: Iterable[str], grace_s: float = GRACE_S) -> list[Path]:
        """Blob files (and leftover temporary files) older than ``grace_s`` that no key in ``referenced`` names."""
        referenced = set(referenced)
        cutoff = time.time() - grace_s
        out = []
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        for entry in entries:
            if entry.name in referenced or not (_KEY.match(entry.name) or entry.name.endswith(".tmp")):
                continue
            try:
                if entry.stat().st_mtime < cutoff:
                    out.append(Path(entry.path))
            except FileNotFoundError:
                pass
        return out

    def sweep(self, referenced: Iterable[str], grace_s: float = GRACE_S) -> int:
        """Delete the blobs :meth:`unreferenced` lists; returns how many."""
        paths = self.unreferenced(referenced, grace_s)
        for path in paths:
            path.unlink(missing_ok=True)
        return len(paths)


def externalize(graph: dict, blobs: BlobStore, max_total: int,
                inline_max: int = INLINE_MAX_BYTES) -> tuple[dict, list[str]]:
    """The graph to store: literals over ``inline_max`` bytes written to ``blobs`` and referenced.

    Parameters
    ----------
    graph : dict
        A graph's JSON form (not modified).
    blobs : BlobStore
    max_total : int
        Most bytes all literals of the graph may take together.
    inline_max : int
        Bigger literals become blob files.

    Returns
    -------
    (dict, list of str)
        The graph to store (``graph`` itself when nothing moved) and the blob keys it uses.

    Raises
    ------
    ValidationError
        The literals take more than ``max_total`` bytes; nothing was written.
    DiskFull
        No room for a blob.
    """
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    if not isinstance(nodes, dict):
        return graph, []
    total = 0
    big: list[str] = []  # ids of nodes with a literal to move
    for node_id, spec in nodes.items():
        if not isinstance(spec, dict):  # malformed: left for the graph's validation to refuse
            continue
        args, kwargs = spec.get("args") or (), spec.get("kwargs")
        for arg in (*args, *kwargs.values()) if isinstance(kwargs, dict) and kwargs else args:
            lit = arg.get("lit", _NONE) if isinstance(arg, dict) else _NONE
            if lit.__class__ in _SCALARS:
                total += 8
            elif lit is not _NONE:
                size = _literal_size(lit)
                total += size
                if size > inline_max:
                    big.append(node_id)
    if total > max_total:
        raise ValidationError(
            f"The graph's literals take {_fmt_bytes(total)}, more than the {_fmt_bytes(max_total)} one graph may "
            "carry (setting max_literal_bytes, WF_WIDGETS_MAX_LITERAL_BYTES): compute smaller arrays, or read the "
            "data from the catalog instead of embedding it", field="value", value=total)
    if not big:
        return graph, []
    new_nodes = dict(nodes)
    keys: list[str] = []
    for node_id in dict.fromkeys(big):
        spec = new_nodes[node_id] = _copy_spec(nodes[node_id])  # the caller's graph (and its Nodes) stay as they are
        for where, pos, arg in _arguments(nodes[node_id]):
            if "lit" in arg and arg["lit"].__class__ not in _SCALARS and _literal_size(arg["lit"]) > inline_max:
                key = blobs.put(json.dumps(arg["lit"], separators=(",", ":")).encode())
                keys.append(key)
                spec[where][pos] = {"blob": key}
    return {**graph, "nodes": new_nodes}, sorted(set(keys))


def resolve(graph: dict, blobs: BlobStore) -> dict:
    """``graph`` with every ``{"blob": key}`` replaced by its literal again (``graph`` itself if none)."""
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    if not isinstance(nodes, dict):
        return graph
    loaded: dict[str, Any] = {}
    new_nodes = None
    for node_id, spec in nodes.items():
        for where, pos, arg in _arguments(spec):
            if "blob" not in arg:
                continue
            key = arg["blob"]
            if key not in loaded:
                loaded[key] = json.loads(blobs.get(key))
            if new_nodes is None:
                new_nodes = dict(nodes)
            if new_nodes[node_id] is spec:
                new_nodes[node_id] = _copy_spec(spec)
            new_nodes[node_id][where][pos] = {"lit": loaded[key]}
    return graph if new_nodes is None else {**graph, "nodes": new_nodes}


def _arguments(spec: Any) -> list[tuple[str, Any, dict]]:
    """(``"args"`` or ``"kwargs"``, index or name, argument) of every argument of a node spec."""
    if not isinstance(spec, dict):
        return []
    out = [("args", i, a) for i, a in enumerate(spec.get("args") or ()) if isinstance(a, dict)]
    kwargs = spec.get("kwargs")
    if isinstance(kwargs, dict):
        out.extend(("kwargs", k, a) for k, a in kwargs.items() if isinstance(a, dict))
    return out


def _copy_spec(spec: dict) -> dict:
    out = dict(spec)
    out["args"] = list(spec.get("args", ()))
    if "kwargs" in spec:
        out["kwargs"] = dict(spec["kwargs"])
    return out
