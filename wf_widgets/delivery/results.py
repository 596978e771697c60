"""Stored results: encoded bytes under ``<home>/results/``, named ``<job id>.<ext>``.

Files are written unnamed (``O_TMPFILE``, mode 0600) and then linked to their final name,
so a reader never sees half a result and a failed or killed writer leaves nothing behind.
Where the file system or platform has no ``O_TMPFILE``, they are written to a hidden
temporary name (``.<job id>.<ext>.<random>.tmp``) and linked from there: a writer killed
mid-write then leaves its temporary file, which the sweep deletes once older than
:data:`~wf_widgets._files.TEMP_GRACE_S`.

Integrity: the job row records the size (``result_size``) and the SHA-256 checksum
(``result_sha256``) of the bytes written. The server compares the file's size with the row
before every download (a stat, no checksum); :meth:`ResultStore.read` (``Job.result()``)
checks size and checksum of the bytes it reads; :meth:`ResultStore.check` (the sweep) and
:meth:`ResultStore.verify` (``wf-widgets doctor``) check both. A result found missing or
damaged before its expiry is *lost*: its row gets ``result_deleted = 1`` and a note in
``result_problem`` saying what was wrong, its file (if any) is deleted, and readers get
:class:`~wf_widgets.errors.ResultMissing` (410 on a link) with that note, not "expired".
Rows written before checksums existed (``result_sha256`` NULL) are checked by size only.

Expiry lives in the job row; :meth:`ResultStore.sweep` deletes expired files and marks
their rows, and deletes orphans (:meth:`ResultStore.orphans`: files no row owns, found
with one query for the whole folder).

The folder is made with the first stored result: opening the store (to read, to check, to
sweep) creates nothing.

The process that wrote a small result keeps its bytes for a while (:data:`RECENT_MAX_BYTES`
in all), so that the first :meth:`ResultStore.read` of it in this process (``Job.result()``
right after the job ran here) takes them from memory instead of reading the file back. A
stat checks first that the file is still the one written (same inode, size, modification
and change times): a file deleted, replaced or written to since is read and checked as
usual (on a file system whose times are coarser than its writes, a change within the
same tick as the write goes unseen; the bytes returned are still those written).
"""

from __future__ import annotations

import collections
import errno
import hashlib
import os
import re
import threading
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from .._context import JobStoreLike
from .._files import FILE_MODE, create_private, private_dir, sweep_temp, temp_name
from ..config import Settings
from ..errors import DiskFull, ResultExpired, ResultMissing

_JOB_ID = re.compile(r"^[0-9a-f]{48}$")
_NAME = re.compile(r"^[0-9a-f]{48}\.[a-z0-9]+$")
_HASH_CHUNK = 1 << 20
#: Results up to this size are kept in memory by the process that wrote them, until first read.
RECENT_ITEM_MAX_BYTES = 1 << 20
#: Bytes of results kept in memory per result store (the oldest are dropped first).
RECENT_MAX_BYTES = 8 << 20
#: ``O_TMPFILE`` where the platform has it (Linux).
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
# What open(O_TMPFILE) fails with where the file system can't make unnamed files, and what
# linkat through /proc fails with without a /proc.
_NO_TMPFILE = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT, errno.EXDEV, errno.EPERM, errno.EACCES)


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
    """A result this process wrote: its bytes, their checksum, and :func:`_signature` of its file."""

    data: bytes
    sha256: str
    signature: tuple[int, ...]


def _signature(st: os.stat_result) -> tuple[int, ...]:
    """What changes when a file is replaced or written to: inode, size, modification and change times."""
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _file_sha256(f: BinaryIO) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: f.read(_HASH_CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


class ResultStore:
    """Encoded results of download and email jobs."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = settings.home / "results"
        self._made = False  # the folder, made with the first stored result
        self._recent: collections.OrderedDict[str, tuple[bytes, str]] = collections.OrderedDict()
        self._recent_bytes = 0
        self._recent_lock = threading.Lock()
        self._tmpfile = bool(_O_TMPFILE)

    def path_for(self, job_id: str, extension: str) -> Path:
        """Where a job's result lives; refuses anything but a job id (no path from user input)."""
        if not valid_job_id(job_id) or not extension.isalnum():
            raise ValueError(f"Not a job id: {job_id!r}")
        return self.root / f"{job_id}.{extension}"

    def store(self, job_id: str, extension: str, data: bytes) -> dict:
        """Store ``data``; returns the row's fields ``result_path``, ``result_size``, ``result_sha256``.

        Nothing points at the file until the job row records it, so a failed write is
        simply removed: no reader ever sees a partial result.

        Raises
        ------
        FileExistsError
            If the job already has a stored result of that extension.
        """
        path = self.path_for(job_id, extension)
        try:
            if not self._made:
                self._made = bool(private_dir(self.root))
            written = self._link_unnamed(path, data) if self._tmpfile else None
            if written is None:
                written = self._link_named(path, data)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFull.in_folder(self.root) from exc
            raise
        sha256 = hashlib.sha256(data).hexdigest()
        if len(data) <= RECENT_ITEM_MAX_BYTES:
            self._remember(path.name, _Recent(bytes(data), sha256, _signature(written)))
        return {"result_path": path.name, "result_size": len(data), "result_sha256": sha256}

    def _link_unnamed(self, path: Path, data: bytes) -> os.stat_result | None:
        """Write ``data`` to an unnamed file in the folder, then link it as ``path``; its stat, or None where unsupported."""
        try:
            fd = os.open(self.root, _O_TMPFILE | os.O_WRONLY, FILE_MODE)
        except OSError as exc:
            if exc.errno not in _NO_TMPFILE:
                raise
            self._tmpfile = False
            return None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            try:
                # linkat(AT_SYMLINK_FOLLOW) of the /proc link; a dir fd makes os.link call linkat
                # (it is ignored for an absolute path). Never replaces an existing result.
                os.link(f"/proc/self/fd/{fd}", path, src_dir_fd=fd, follow_symlinks=True)
            except FileExistsError:
                raise
            except OSError as exc:
                if exc.errno not in _NO_TMPFILE:
                    raise
                self._tmpfile = False
                return None
            return os.fstat(fd)
        finally:
            os.close(fd)

    def _link_named(self, path: Path, data: bytes) -> os.stat_result:
        """Write ``data`` to a hidden temporary name, then link it as ``path`` (and remove the temporary); its stat."""
        tmp = temp_name(path)
        try:
            private_dir(self.root)  # a stat once it exists
            with create_private(tmp) as f:
                f.write(data)
            os.link(tmp, path)  # never replaces an existing result
        finally:
            tmp.unlink(missing_ok=True)
        return path.stat()

    # -- recent results, kept in memory --------------------------------------------------------
    def _remember(self, name: str, entry: "_Recent") -> None:
        with self._recent_lock:
            self._recent[name] = entry
            self._recent_bytes += len(entry.data)
            while self._recent_bytes > RECENT_MAX_BYTES:
                _, old = self._recent.popitem(last=False)
                self._recent_bytes -= len(old.data)

    def _take_recent(self, name: str) -> "_Recent | None":
        with self._recent_lock:
            entry = self._recent.pop(name, None)
            if entry is not None:
                self._recent_bytes -= len(entry.data)
        return entry

    def _recent_bytes_of(self, row: dict) -> bytes | None:
        """The bytes of ``row``'s result if this process wrote them and the file is still that one (see the module doc)."""
        name = row.get("result_path")
        entry = self._take_recent(name) if isinstance(name, str) else None
        if entry is None or row.get("result_size") != len(entry.data) or row.get("result_sha256") not in (
                None, entry.sha256):
            return None
        try:
            now = self.resolve(name).stat()
        except (OSError, ValueError):
            return None
        return entry.data if _signature(now) == entry.signature else None

    def write(self, job_id: str, extension: str, data: bytes) -> tuple[str, int]:
        """Store ``data`` (see :meth:`store`); returns (file name relative to the store, size)."""
        stored = self.store(job_id, extension, data)
        return stored["result_path"], stored["result_size"]

    def open(self, name: str) -> BinaryIO:
        """Open a stored result by the name :meth:`write` returned."""
        return open(self.resolve(name), "rb")

    def resolve(self, name: str) -> Path:
        """Path of a stored result; only names :meth:`write` makes are accepted."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"Not a stored result: {name!r}")
        return self.root / name

    def delete(self, name: str | None) -> None:
        if name:
            path = self.resolve(name)
            self._take_recent(name)
            path.unlink(missing_ok=True)

    # -- integrity --------------------------------------------------------------------------
    def open_checked(self, jobs: JobStoreLike, row: dict) -> BinaryIO:
        """Open the stored result of ``row`` after comparing its size with the row's (a stat only).

        Raises
        ------
        ResultMissing
            The file is missing or has another size; the row is marked lost (see the module doc).
        ResultExpired
            The file is gone because the sweep expired it meanwhile.
        """
        try:
            f = self.open(row["result_path"])
        except FileNotFoundError:
            raise self._lost(jobs, row, missing_note(row["id"])) from None
        size = os.fstat(f.fileno()).st_size
        if row.get("result_size") is not None and size != row["result_size"]:
            f.close()
            raise self._lost(jobs, row, damaged_note(row["id"], size, row["result_size"]))
        return f

    def read(self, jobs: JobStoreLike, row: dict) -> bytes:
        """The stored bytes of ``row``, checked against its size and checksum.

        The bytes of a result this process wrote come from memory the first time (see the
        module's docstring), once a stat shows its file in place with the row's size.

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
        past its expiry. Reads the whole file when ``checksum`` is true and the row has a
        checksum (rows from before checksums are checked by size only). Changes nothing.

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
            if not (checksum and row.get("result_sha256")):  # by size: a stat, the file is not opened
                size = os.stat(self.resolve(row["result_path"])).st_size
                if row.get("result_size") is not None and size != row["result_size"]:
                    return damaged_note(row["id"], size, row["result_size"])
                return None
            f = self.open(row["result_path"])
        except ValueError:
            return f"Job {row['id']} names {row['result_path']!r}, which is not a stored result."
        except FileNotFoundError:
            return missing_note(row["id"])
        with f:
            size = os.fstat(f.fileno()).st_size
            if row.get("result_size") is not None and size != row["result_size"]:
                return damaged_note(row["id"], size, row["result_size"])
            if checksum and row.get("result_sha256") and _file_sha256(f) != row["result_sha256"]:
                return checksum_note(row["id"])
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
        """Mark ``row``'s result lost (once) and delete its file; returns the error to raise."""
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
        """Delete temporary files of killed writers older than the grace period; returns how many."""
        return sweep_temp(self.root, self.settings.time())

    def orphans(self, jobs: JobStoreLike) -> list[Path]:
        """Result files no job row owns (see :meth:`JobStore.unowned_results`), found with one query.

        Files of unknown jobs, of jobs that ended without recording them (a worker killed
        while writing), and of results marked deleted (expired or lost) whose deletion did
        not happen. Files not named after a job id are no business of ours (temporaries
        are :meth:`sweep_temp`'s).
        """
        return [self.root / name for name in jobs.unowned_results(self.names())]

    def names(self) -> list[str]:
        """Names of the files in the folder named after a job id (none when no result was ever stored)."""
        try:
            return [e.name for e in os.scandir(self.root) if valid_job_id(e.name.split(".", 1)[0])]
        except FileNotFoundError:
            return []

    def sweep(self, jobs: JobStoreLike) -> int:
        """Delete results past their expiry and mark their rows; returns how many.

        Then deletes :meth:`orphans` (uncounted).
        """
        count = 0
        for row in jobs.expired(self.settings.time()):
            self.delete(row["result_path"])
            jobs.mark_deleted(row["id"])
            count += 1
        for path in self.orphans(jobs):
            path.unlink(missing_ok=True)
        return count
