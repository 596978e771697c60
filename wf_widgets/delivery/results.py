"""Stored results: encoded bytes in the object store (:mod:`wf_widgets.storage`), keys ``results/<job id>.<ext>``.

On the default ``file://<home>`` store they are files under ``<home>/results/``. Files are
written unnamed (``O_TMPFILE``, mode 0600) and then linked to their final name, so a reader
never sees half a result and a failed or killed writer leaves nothing behind. Where the file
system or platform has no ``O_TMPFILE``, they are written to a hidden temporary name
(``.<job id>.<ext>.<random>.tmp``) and linked from there: a writer killed mid-write then
leaves its temporary file, which the sweep deletes once older than
:data:`~wf_widgets._files.TEMP_GRACE_S`. On an ``s3://`` store a result is one conditional PUT
(``If-None-Match: *``: never replacing a stored result), atomic for readers; the row that
names it is written after it.

Integrity: the job row records the size (``result_size``) and the SHA-256 checksum
(``result_sha256``) of the bytes written. The server compares the object's size with the row
before every download (a stat, or a HEAD request on S3; no checksum); :meth:`ResultStore.read`
(``Job.result()``) checks size and checksum of the bytes it reads; :meth:`ResultStore.check`
(the sweep) and :meth:`ResultStore.verify` (``wf-widgets doctor``) check both. A result found
missing or damaged before its expiry is *lost*: its row gets ``result_deleted = 1`` and a note
in ``result_problem`` saying what was wrong, its object (if any) is deleted, and readers get
:class:`~wf_widgets.errors.ResultMissing` (410 on a link) with that note, not "expired".
Rows written before checksums existed (``result_sha256`` NULL) are checked by size only.

Expiry lives in the job row; :meth:`ResultStore.sweep` deletes expired objects and marks
their rows, and deletes orphans (:meth:`ResultStore.orphans`: objects no row owns, found
with one listing and one query).

The folder is made with the first stored result: opening the store (to read, to check, to
sweep) creates nothing.

The process that wrote a small result keeps its bytes for a while (:data:`RECENT_MAX_BYTES`
in all), so that the first :meth:`ResultStore.read` of it in this process (``Job.result()``
right after the job ran here) takes them from memory instead of reading the object back. A
stat (a HEAD request on S3) checks first that the object is still the one written (same
etag: on files inode, size, modification and change times; on S3 the store's ETag): an object
deleted, replaced or written to since is read and checked as usual (on a file system whose
times are coarser than its writes, a change within the same tick as the write goes unseen;
the bytes returned are still those written).
"""

from __future__ import annotations

import collections
import dataclasses
import errno
import hashlib
import io
import os
import re
import threading
from pathlib import Path
from typing import Any, AsyncIterator, BinaryIO, NamedTuple

from .._context import JobStoreLike, ObjectStoreLike
from .._files import sweep_temp
from ..config import Settings
from ..errors import DiskFull, ResultExpired, ResultMissing
from ..storage import CHUNK_SIZE, file_chunks, open_storage, sha256_of

_JOB_ID = re.compile(r"^[0-9a-f]{48}$")
_NAME = re.compile(r"^[0-9a-f]{48}\.[a-z0-9]+$")
#: Results up to this size are kept in memory by the process that wrote them, until first read.
RECENT_ITEM_MAX_BYTES = 1 << 20
#: Bytes of results kept in memory per result store (the oldest are dropped first).
RECENT_MAX_BYTES = 8 << 20
#: The folder (key prefix) of results in the object store.
FOLDER = "results"


def valid_job_id(job_id: str) -> bool:
    """True for a well-formed job id (48 lowercase hex characters)."""
    return isinstance(job_id, str) and bool(_JOB_ID.match(job_id))


def missing_note(job_id: str) -> str:
    """What a reader is told when a job's result file is gone before its expiry."""
    return (f"The stored result of job {job_id} is missing: its file was deleted before the result expired. "
            "Compute the result again.")


def damaged_note(job_id: str, size: int, expected: int) -> str:
    """What a reader is told when a job's result file has another size than was written."""
    return (f"The stored result of job {job_id} is damaged: its file holds {size} bytes, but {expected} were "
            "written (truncated or overwritten). Compute the result again.")


def checksum_note(job_id: str) -> str:
    """What a reader is told when a job's result file no longer has the checksum it was written with."""
    return (f"The stored result of job {job_id} is damaged: its content does not match the SHA-256 checksum "
            "recorded when it was written. Compute the result again.")


class _Recent(NamedTuple):
    """A result this process wrote: its bytes, their checksum, and the etag of its object."""

    data: bytes
    sha256: str
    etag: str


def _size_of(f: BinaryIO) -> int:
    size = f.seek(0, os.SEEK_END)
    f.seek(0)
    return size


def _etag(name: str, size: int, version: str) -> str:
    """The HTTP ETag of a served result: a strong tag of its name, size and version."""
    return '"' + hashlib.sha256(f"{name}:{size}:{version}".encode()).hexdigest()[:32] + '"'


@dataclasses.dataclass
class Served:
    """A stored result opened for serving: its size, its HTTP ETag, and its bytes by range.

    On a ``file://`` store ``file`` is the open file (the server reads it in chunks, the fast
    path); elsewhere the bytes come from ranged GETs of ``storage``.
    """

    name: str
    size: int
    etag: str
    file: BinaryIO | None = None
    storage: ObjectStoreLike | None = None
    key: str | None = None

    async def chunks(self, start: int, end: int, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """Bytes ``[start, end)``, ``chunk_size`` at a time."""
        if self.file is not None:
            for chunk in file_chunks(self.file, start, end, chunk_size):
                yield chunk
            return
        async for chunk in self.storage.stream(self.key, start, end, chunk_size):
            yield chunk

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class ResultStore:
    """Encoded results of download and email jobs.

    Parameters
    ----------
    settings : Settings
    storage : ObjectStoreLike, optional
        The object store; default the one of ``settings`` (:func:`wf_widgets.storage.open_storage`).

    Attributes
    ----------
    root : Path or None
        The folder of the results on a ``file://`` store; None on others.
    location : str
        Where the results are, for messages (a folder, or an ``s3://`` URL).
    """

    def __init__(self, settings: Settings, storage: ObjectStoreLike | None = None):
        self.settings = settings
        self.storage = storage if storage is not None else open_storage(settings)
        self.root: Path | None = self.storage.local_path(FOLDER)
        self.location = self.storage.location(FOLDER)
        self._recent: collections.OrderedDict[str, _Recent] = collections.OrderedDict()
        self._recent_bytes = 0
        self._recent_lock = threading.Lock()

    def name_for(self, job_id: str, extension: str) -> str:
        """The name of a job's result; refuses anything but a job id (no key from user input)."""
        if not valid_job_id(job_id) or not extension.isalnum():
            raise ValueError(f"Not a job id: {job_id!r}")
        return f"{job_id}.{extension}"

    @staticmethod
    def key(name: str) -> str:
        """The object key of a stored result; only names :meth:`store` makes are accepted."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"Not a stored result: {name!r}")
        return f"{FOLDER}/{name}"

    def store(self, job_id: str, extension: str, data: bytes) -> dict:
        """Store ``data``; returns the row's fields ``result_path``, ``result_size``, ``result_sha256``.

        Nothing points at the object until the job row records it, so a failed write is
        simply removed: no reader ever sees a partial result.

        Raises
        ------
        FileExistsError
            If the job already has a stored result of that extension.
        DiskFull
            No room for it in the folder (``file://``); nothing is left behind.
        """
        name = self.name_for(job_id, extension)
        try:
            info = self.storage.put_new(self.key(name), data)  # no row names it yet: created in place
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFull.in_folder(self.root or Path(self.location)) from exc
            raise
        sha256 = hashlib.sha256(data).hexdigest()
        if len(data) <= RECENT_ITEM_MAX_BYTES:
            self._remember(name, _Recent(bytes(data), sha256, info.etag))
        return {"result_path": name, "result_size": len(data), "result_sha256": sha256}

    # -- recent results, kept in memory --------------------------------------------------------
    def _remember(self, name: str, entry: _Recent) -> None:
        with self._recent_lock:
            self._recent[name] = entry
            self._recent_bytes += len(entry.data)
            while self._recent_bytes > RECENT_MAX_BYTES:
                _, old = self._recent.popitem(last=False)
                self._recent_bytes -= len(old.data)

    def _take_recent(self, name: str) -> _Recent | None:
        with self._recent_lock:
            entry = self._recent.pop(name, None)
            if entry is not None:
                self._recent_bytes -= len(entry.data)
        return entry

    def _recent_bytes_of(self, row: dict) -> bytes | None:
        """The bytes of ``row``'s result if this process wrote them and the object is still that one."""
        name = row.get("result_path")
        entry = self._take_recent(name) if isinstance(name, str) else None
        if entry is None or row.get("result_size") != len(entry.data) or row.get("result_sha256") not in (
                None, entry.sha256):
            return None
        try:
            now = self.storage.head(self.key(name))
        except (OSError, ValueError):
            return None
        return entry.data if now.etag == entry.etag else None

    def write(self, job_id: str, extension: str, data: bytes) -> tuple[str, int]:
        """Store ``data`` (see :meth:`store`); returns (name relative to the store, size)."""
        stored = self.store(job_id, extension, data)
        return stored["result_path"], stored["result_size"]

    def open(self, name: str) -> BinaryIO:
        """Open a stored result by the name :meth:`write` returned (on S3: its bytes, read with one GET)."""
        key = self.key(name)
        path = self.storage.local_path(key)
        return open(path, "rb") if path is not None else io.BytesIO(self.storage.get(key))

    def resolve(self, name: str) -> Path | None:
        """Path of a stored result on a ``file://`` store (None on others); only names :meth:`write` makes."""
        return self.storage.local_path(self.key(name))

    def delete(self, name: str | None) -> None:
        if name:
            key = self.key(name)
            self._take_recent(name)
            self.storage.delete(key)

    # -- integrity --------------------------------------------------------------------------
    def open_checked(self, jobs: JobStoreLike, row: dict) -> BinaryIO:
        """Open the stored result of ``row`` after comparing its size with the row's.

        Raises
        ------
        ResultMissing
            The object is missing or has another size; the row is marked lost (see the module doc).
        ResultExpired
            The object is gone because the sweep expired it meanwhile.
        """
        try:
            f = self.open(row["result_path"])
        except FileNotFoundError:
            raise self._lost(jobs, row, missing_note(row["id"])) from None
        size = _size_of(f)
        if row.get("result_size") is not None and size != row["result_size"]:
            f.close()
            raise self._lost(jobs, row, damaged_note(row["id"], size, row["result_size"]))
        return f

    async def serve(self, jobs: JobStoreLike, row: dict) -> Served:
        """The stored result of ``row`` opened for serving, after comparing its size with the row's.

        A stat of the open file on ``file://`` (the same check and ETag as ever), one HEAD
        request elsewhere (asyncio: the server's loop is not blocked). No checksum.

        Raises
        ------
        ResultMissing, ResultExpired
            As :meth:`open_checked`.
        ValueError
            The row names no stored result.
        """
        name = row["result_path"]
        key = self.key(name)
        path = self.storage.local_path(key)
        head_async = getattr(self.storage, "head_async", None)
        try:
            if path is not None:
                f = open(path, "rb")
                st = os.fstat(f.fileno())
                served = Served(name, st.st_size, _etag(name, st.st_size, str(st.st_mtime_ns)), file=f)
            else:
                info = await head_async(key) if head_async is not None else self.storage.head(key)
                served = Served(name, info.size, _etag(name, info.size, info.etag), storage=self.storage, key=key)
        except FileNotFoundError:
            raise self._lost(jobs, row, missing_note(row["id"])) from None
        if row.get("result_size") is not None and served.size != row["result_size"]:
            served.close()
            raise self._lost(jobs, row, damaged_note(row["id"], served.size, row["result_size"]))
        return served

    def read(self, jobs: JobStoreLike, row: dict) -> bytes:
        """The stored bytes of ``row``, checked against its size and checksum.

        The bytes of a result this process wrote come from memory the first time (see the
        module's docstring), once a stat shows its object in place, unchanged.

        Raises
        ------
        ResultMissing, ResultExpired
            As :meth:`open_checked`; also for bytes whose checksum differs from the row's.
        """
        data = self._recent_bytes_of(row)
        if data is not None:
            return data
        with self.open_checked(jobs, row) as f:
            data = f.read()
        expected = row.get("result_sha256")
        if expected and hashlib.sha256(data).hexdigest() != expected:
            raise self._lost(jobs, row, checksum_note(row["id"]))
        return data

    def verify(self, row: dict, checksum: bool = True) -> str | None:
        """What is wrong with the stored result of a job row, or None.

        None also when there is nothing to check: no stored result, already deleted, or
        past its expiry. Reads the whole object (streamed) when ``checksum`` is true and the
        row has a checksum (rows from before checksums are checked by size only: a stat, or
        a HEAD request). Changes nothing.

        Parameters
        ----------
        row : dict
            A job row (``JobStore.get``), with ``id``, ``result_path``, ``result_size``,
            ``result_sha256``, ``result_deleted`` and ``expires``.
        checksum : bool
            Also compare the SHA-256 checksum.

        Returns
        -------
        str or None
            A sentence for a person (the same note readers get), or None when intact.
        """
        if not row.get("result_path") or row.get("result_deleted"):
            return None
        if row.get("expires") is not None and row["expires"] <= self.settings.time():
            return None
        try:
            key = self.key(row["result_path"])
        except ValueError:
            return f"Job {row['id']} names {row['result_path']!r}, which is not a stored result."
        try:
            size = self.storage.head(key).size
            if row.get("result_size") is not None and size != row["result_size"]:
                return damaged_note(row["id"], size, row["result_size"])
            if checksum and row.get("result_sha256") and sha256_of(self.storage.iter_chunks(key)) != row["result_sha256"]:
                return checksum_note(row["id"])
        except FileNotFoundError:
            return missing_note(row["id"])
        return None

    def check(self, jobs: JobStoreLike, checksums: bool = True) -> int:
        """Verify every live stored result (size, and checksum unless ``checksums`` is False); mark lost ones.

        Returns
        -------
        int
            How many results were found missing or damaged (and marked).
        """
        count = 0
        for row in jobs.live_results(self.settings.time()):
            problem = self.verify(row, checksum=checksums)
            if problem is not None:
                self._lost(jobs, row, problem)
                count += 1
        return count

    def _lost(self, jobs: Any, row: dict, note: str) -> ResultExpired:
        """Mark ``row``'s result lost (once) and delete its object; returns the error to raise."""
        if jobs.mark_result_lost(row["id"], note):
            try:
                self.delete(row["result_path"])
            except ValueError:  # a row that names no stored result: nothing of ours to delete
                pass
            return ResultMissing(note)
        fresh = jobs.get(row["id"], graph=False) or {}
        if fresh.get("result_problem"):
            return ResultMissing(fresh["result_problem"])
        return ResultExpired(f"The result of job {row['id']} expired and was deleted. Compute it again.")

    # -- sweeping ---------------------------------------------------------------------------
    def sweep_temp(self) -> int:
        """Delete temporary files of killed writers older than the grace period; returns how many.

        Only ``file://`` stores have any: an S3 PUT or multipart upload leaves no object
        behind when it fails.
        """
        return sweep_temp(self.root, self.settings.time()) if self.root is not None else 0

    def orphans(self, jobs: JobStoreLike) -> list[str]:
        """Names of stored results no job row owns (see :meth:`JobStore.unowned_results`), found with one query.

        Objects of unknown jobs, of jobs that ended without recording them (a worker killed
        while writing), and of results marked deleted (expired or lost) whose deletion did
        not happen. Objects not named after a job id are no business of ours (temporaries
        are :meth:`sweep_temp`'s).
        """
        return jobs.unowned_results(self.names())

    def names(self) -> list[str]:
        """Names of the stored objects named after a job id (none when no result was ever stored)."""
        start = len(FOLDER) + 1
        names = (key[start:] for key in self.storage.keys(FOLDER))
        return [n for n in names if "/" not in n and valid_job_id(n.split(".", 1)[0])]

    def sweep(self, jobs: JobStoreLike) -> int:
        """Delete results past their expiry and mark their rows; returns how many.

        Then deletes :meth:`orphans` (uncounted).
        """
        count = 0
        for row in jobs.expired(self.settings.time()):
            self.delete(row["result_path"])
            jobs.mark_deleted(row["id"])
            count += 1
        self.storage.delete_many(self.key(name) for name in self.orphans(jobs))
        return count
