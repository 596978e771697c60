"""Stored results: encoded bytes under ``<home>/results/``, named ``<job id>.<ext>``.

Files are written to a temporary name and renamed, so a reader never sees half a result
and a failed job leaves nothing behind. Expiry lives in the job row; :meth:`ResultStore.sweep`
deletes expired files and marks their rows.
"""

from __future__ import annotations

import errno
import re
from pathlib import Path
from typing import Any, BinaryIO

from ..config import Settings
from ..errors import DiskFull
from ..jobs.store import TERMINAL

_JOB_ID = re.compile(r"^[0-9a-f]{48}$")
_NAME = re.compile(r"^[0-9a-f]{48}\.[a-z0-9]+$")


def valid_job_id(job_id: str) -> bool:
    """True for a well-formed job id (48 lowercase hex characters)."""
    return isinstance(job_id, str) and bool(_JOB_ID.match(job_id))


class ResultStore:
    """Encoded results of download and email jobs."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = settings.home / "results"
        self.root.mkdir(parents=True, exist_ok=True)

    def path_for(self, job_id: str, extension: str) -> Path:
        """Where a job's result lives; refuses anything but a job id (no path from user input)."""
        if not valid_job_id(job_id) or not extension.isalnum():
            raise ValueError(f"Not a job id: {job_id!r}")
        return self.root / f"{job_id}.{extension}"

    def write(self, job_id: str, extension: str, data: bytes) -> tuple[str, int]:
        """Store ``data``; returns (file name relative to the store, size).

        Nothing points at the file until the job row records it, so a failed write is
        simply removed: no reader ever sees a partial result.
        """
        path = self.path_for(job_id, extension)
        try:
            with open(path, "xb") as f:
                f.write(data)
        except BaseException as exc:
            path.unlink(missing_ok=True)
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFull.in_folder(self.root) from exc
            raise
        return path.name, len(data)

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
            self.resolve(name).unlink(missing_ok=True)

    def sweep(self, jobs: Any) -> int:
        """Delete results past their expiry and mark their rows; returns how many.

        Also removes orphans: files of jobs that ended without recording them (a worker
        killed while writing).
        """
        count = 0
        for row in jobs.expired(self.settings.time()):
            self.delete(row["result_path"])
            jobs.mark_deleted(row["id"])
            count += 1
        for path in self.root.iterdir():
            job_id = path.name.split(".", 1)[0]
            if valid_job_id(job_id):
                status = jobs.status(job_id)
                if status is None or (status["stage"] in TERMINAL and status["result_path"] != path.name):
                    path.unlink(missing_ok=True)
        return count
