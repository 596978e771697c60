"""Big graph literals, kept out of the SQLite rows as content-addressed files.

A graph's literal (``{"lit": ...}`` in its JSON form, see :mod:`wf_widgets.values.graph`)
whose JSON text is longer than :data:`INLINE_MAX_BYTES` is written to the object store
(:mod:`wf_widgets.storage`) as ``blobs/<sha256 of the text>`` (on the default ``file://<home>``
store the file ``<home>/blobs/<sha256>``, written atomically: a temporary name, then a
rename; mode 0600; on S3 one PUT) and the stored graph holds ``{"blob": "<sha256>"}`` in its place
(:func:`externalize`). Whoever reads the graph back puts the literals back
(:func:`resolve`). Node ids are untouched: they hash the literal itself, not the file.

So a 24 MB array in a graph costs the job store a few bytes, and a full disk meets the
blob write (a clear :class:`~wf_widgets.errors.DiskFull`, nothing left behind) before any
row is written. Every graph's literals together are limited to
``Settings.max_literal_bytes``; a bigger graph is refused with a ValidationError before
anything is stored.

Stores list the blobs each row uses (a ``blobs`` column); the sweeper deletes the files
no live row names (:meth:`BlobStore.sweep`), sparing files younger than
:data:`GRACE_S` (one being written for a row not inserted yet). A blob stored again is
touched (on S3, written again once older than half the grace), so its age counts from its
last use.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any, Iterable

from .config import Settings
from .errors import DiskFull, ValidationError
from .storage import Storage, open_storage

#: Literals whose JSON text is longer than this many bytes are stored as blob files.
INLINE_MAX_BYTES = 64 * 1024
#: Unreferenced blob files younger than this (seconds) are kept: their row may not exist yet.
GRACE_S = 3600.0
#: The folder (key prefix) of blobs in the object store.
FOLDER = "blobs"

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
    """Content-addressed objects ``blobs/<sha256>`` of an object store.

    Parameters
    ----------
    home : Path
        The home folder (where the blobs are on the default store).
    storage : Storage, optional
        The object store; default a ``file://`` store at ``home``.

    Attributes
    ----------
    root : Path or None
        The folder of the blobs on a ``file://`` store; None on others.
    """

    def __init__(self, home: Path, storage: Storage | None = None):
        self.storage = storage if storage is not None else open_storage(Settings(home=home))
        self.root = self.storage.local_path(FOLDER)
        self.location = self.storage.location(FOLDER)

    @classmethod
    def for_settings(cls, settings: Settings) -> "BlobStore":
        """The blob store of ``settings`` (in its object store, ``settings.storage``)."""
        return cls(settings.home, open_storage(settings))

    @staticmethod
    def key(key: str) -> str:
        """The object key of blob ``key``; refuses anything but a SHA-256 in hex."""
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(f"Not a blob key: {key!r}")
        return f"{FOLDER}/{key}"

    def path(self, key: str) -> Path | None:
        """The file of blob ``key`` on a ``file://`` store (None on others)."""
        return self.storage.local_path(self.key(key))

    def put(self, data: bytes) -> str:
        """Store ``data`` (if not stored already); returns its key, the SHA-256 of ``data`` in hex.

        Raises
        ------
        DiskFull
            No room for it; nothing is left behind.
        """
        key = hashlib.sha256(data).hexdigest()
        name = self.key(key)
        path = self.storage.local_path(name)
        if path is not None:
            try:
                os.utime(path)  # used again: a fresh grace period
                return key
            except FileNotFoundError:
                pass
        else:
            try:
                if time.time() - self.storage.head(name).modified < GRACE_S / 2:
                    return key
            except FileNotFoundError:
                pass  # written below; an older copy is written again: a fresh grace period
        try:
            self.storage.put(name, data)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFull.in_folder(self.root) from exc
            raise
        return key

    def get(self, key: str) -> bytes:
        """The bytes of blob ``key``.

        Raises
        ------
        ValidationError
            The blob is gone (the row using it outlived it).
        """
        try:
            return self.storage.get(self.key(key))
        except FileNotFoundError:
            raise ValidationError(
                f"The graph's literal {key[:12]}... is gone from {self.location} (the job or layer using it is older "
                "than the sweeper keeps them); compute it again", field="graph", value=key) from None

    def any(self) -> bool:
        """Whether the blobs' folder exists (``file://``; always True on others: listing tells)."""
        return self.root is None or self.root.exists()

    def keys(self) -> list[str]:
        """Keys of every stored blob."""
        start = len(FOLDER) + 1
        return [k[start:] for k in self.storage.keys(FOLDER) if _KEY.match(k[start:])]

    def unreferenced(self, referenced: Iterable[str], grace_s: float = GRACE_S) -> list[str]:
        """Object keys of blobs (and leftover temporary files) older than ``grace_s`` that no key in ``referenced`` names."""
        referenced = set(referenced)
        cutoff = time.time() - grace_s
        start = len(FOLDER) + 1
        out = []
        for info in self.storage.list(FOLDER):
            name = info.key[start:]
            if name in referenced or "/" in name or not (_KEY.match(name) or name.endswith(".tmp")):
                continue
            if info.modified < cutoff:
                out.append(info.key)
        return out

    def sweep(self, referenced: Iterable[str], grace_s: float = GRACE_S) -> int:
        """Delete the blobs :meth:`unreferenced` lists; returns how many."""
        keys = self.unreferenced(referenced, grace_s)
        self.storage.delete_many(keys)
        return len(keys)


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
