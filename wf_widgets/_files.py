"""Private files and folders in the home folder, and the sweep of temporary leftovers.

Everything wf_widgets creates under its home holds the user's data (results, the catalog,
the job graphs) or a secret (the signing key), so it is made private to the owner: folders
``0700``, files ``0600``, given to ``os.mkdir``/``os.open`` at creation. The process umask
is never changed (a library must not); a stricter umask still applies on top.

Files that already exist keep their mode: homes made by older versions are not
rewritten behind the user's back.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import BinaryIO

#: Mode of every folder wf_widgets creates.
DIR_MODE = 0o700
#: Mode of every file wf_widgets creates.
FILE_MODE = 0o600
#: Seconds a temporary file may live before the sweeper deletes it as a leftover of a killed
#: writer. Generous: an upload or a result write in progress takes far less.
TEMP_GRACE_S = 3600.0
#: Names :func:`temp_name` makes: ``.<final name>.<32 hex digits>.tmp`` (full match).
TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{32}\.tmp")


def temp_name(final: str | os.PathLike) -> Path:
    """A unique hidden name next to ``final`` (same folder, so a rename is atomic) that the sweep recognises."""
    final = Path(final)
    return final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")


def private_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` and its missing parents with mode 0700 (existing folders are left as they are).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:  # made meanwhile by another thread or process
            pass
    if not path.is_dir():
        raise NotADirectoryError(f"{path} exists and is not a folder")
    return path


def touch_private(path: str | os.PathLike) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (an existing file is untouched).

    Used before ``sqlite3.connect`` opens a database: SQLite gives the ``-wal`` and ``-shm``
    files the mode of the database file. Its folder is made (0700) if missing.
    """
    private_dir(Path(path).parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def create_private(path: str | os.PathLike) -> BinaryIO:
    """Open a new file (which must not exist) for binary writing, with mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def write_private(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to a new file (which must not exist) with mode 0600."""
    with create_private(path) as f:
        f.write(data)


def sweep_temp(folder: str | os.PathLike, now: float, grace_s: float = TEMP_GRACE_S, recursive: bool = False,
               pattern: re.Pattern[str] = TEMP_NAME) -> int:
    """Delete temporary files under ``folder`` older than ``grace_s`` (leftovers of killed writers).

    Parameters
    ----------
    folder : path
        Where to look; a missing folder has nothing to sweep.
    now : float
        The current time (Unix seconds, the movable clock :meth:`Settings.time`), compared
        to each file's modification time.
    grace_s : float
        Minimum age of a deleted file.
    recursive : bool
        Look into sub-folders too.
    pattern : re.Pattern
        Full-matched against each file name; default the names :func:`temp_name` makes.

    Returns
    -------
    int
        How many files were deleted.
    """
    count = 0
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return 0
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                if recursive:
                    count += sweep_temp(entry.path, now, grace_s, recursive, pattern)
                continue
            if not pattern.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
                continue
            if now - entry.stat(follow_symlinks=False).st_mtime > grace_s:
                os.remove(entry.path)
                count += 1
        except FileNotFoundError:  # removed meanwhile (its writer finished or gave up)
            continue
    return count
