"""Signed, expiring download links.

A link is ``<base>/results/<job id>?expires=<unix seconds>&signature=<hex HMAC-SHA256>``
where the HMAC key is 32 random bytes in ``<home>/signing.key`` (mode 0600, made on first
use) and the signed message is ``"<job id>:<expires>"``. The link carries no user identity:
whoever holds it may download until it expires.

The key file is the one source of truth, for every process sharing the home folder:

* A key shorter than :data:`MIN_KEY_BYTES` is refused (:class:`~wf_widgets.errors.SigningKeyError`,
  naming the file, its size and the remedy: delete it).
* Rotation: delete the file (or replace it). Each :class:`Signer` looks at the file's
  identity (inode, size, modification time) at most every :data:`RECHECK_S` seconds and
  reloads it when it changed; a missing file is replaced by a new random key. So running
  servers and kernels sign and verify with the new key within about a second, and every
  link signed with the old one is refused (403).
* A key file that other users may read or write (mode bits beyond 0600) is used, with a
  :class:`~wf_widgets.errors.SigningKeyWarning` each time it is loaded.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import threading
import time
import warnings
from urllib.parse import urlencode

from .._context import SignerLike
from .._files import private_dir, write_private
from ..config import Settings
from ..errors import SigningKeyError, SigningKeyWarning

#: Shortest signing key accepted, in bytes (a key made here has exactly this many).
MIN_KEY_BYTES = 32
#: Seconds between two looks at the key file: a rotated key is in use this soon.
RECHECK_S = 1.0


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_ino, st.st_size, st.st_mtime_ns


class Signer:
    """Signs and verifies download links with the home folder's key (see the module doc)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.key_path = settings.home / "signing.key"
        self._key: bytes | None = None
        self._identity: tuple[int, int, int] | None = None
        self._checked = float("-inf")  # time.monotonic() of the last look at the file
        self._lock = threading.Lock()

    @property
    def key(self) -> bytes:
        """The HMAC key, read from (or first written to) ``<home>/signing.key``.

        Looks at the file again when :data:`RECHECK_S` seconds have passed since the last look.

        Raises
        ------
        SigningKeyError
            If the file holds fewer than :data:`MIN_KEY_BYTES` bytes.
        """
        key = self._key
        if key is not None and time.monotonic() - self._checked < RECHECK_S:
            return key
        with self._lock:  # threads of one process: one looks, one creates
            if self._key is None or time.monotonic() - self._checked >= RECHECK_S:
                self._refresh()
            return self._key

    def _refresh(self) -> None:
        try:
            current = _identity(os.stat(self.key_path))
        except FileNotFoundError:
            current = None
        if self._key is None or current is None or current != self._identity:
            self._key, self._identity = None, None
            self._key, self._identity = self._load_or_create()
        self._checked = time.monotonic()

    def _read(self) -> tuple[bytes, tuple[int, int, int]]:
        with open(self.key_path, "rb") as f:
            st = os.fstat(f.fileno())  # the identity of what we read, not of a later replacement
            key = f.read()
        if len(key) < MIN_KEY_BYTES:
            raise SigningKeyError(
                f"The signing key {self.key_path} is {len(key)} byte(s) long; at least {MIN_KEY_BYTES} are needed "
                f"to sign download links safely. Delete the file: a new random key is made on next use "
                f"(links signed with the old key stop working).")
        if stat.S_IMODE(st.st_mode) & 0o077:
            warnings.warn(
                f"The signing key {self.key_path} has mode {stat.S_IMODE(st.st_mode):04o}: other users can read "
                f"it and forge download links. Run `chmod 600 {self.key_path}` (or delete it to make a new key).",
                SigningKeyWarning, stacklevel=4)
        return key, _identity(st)

    def _load_or_create(self) -> tuple[bytes, tuple[int, int, int]]:
        try:
            return self._read()
        except FileNotFoundError:
            pass
        key = secrets.token_bytes(MIN_KEY_BYTES)
        # A name of its own per attempt: other processes may be creating the key too.
        tmp = self.key_path.with_name(f".signing.key.{os.getpid()}.{secrets.token_hex(8)}.tmp")
        private_dir(self.key_path.parent)
        write_private(tmp, key)
        try:
            os.link(tmp, self.key_path)  # first writer wins; others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        return self._read()

    def signature(self, job_id: str, expires: int) -> str:
        return hmac.new(self.key, f"{job_id}:{int(expires)}".encode(), hashlib.sha256).hexdigest()

    def query(self, job_id: str, expires: float) -> str:
        """The query string of a link for ``job_id`` valid until ``expires``."""
        exp = int(expires)
        return urlencode({"expires": exp, "signature": self.signature(job_id, exp)})

    def verify(self, job_id: str, expires: str | int, signature: str) -> bool:
        """True if ``signature`` signs ``job_id`` and ``expires`` (compared in constant time)."""
        try:
            exp = int(expires)
        except (TypeError, ValueError):
            return False
        # As bytes: compare_digest refuses non-ASCII str, and a link's text is anyone's to choose.
        given = str(signature).encode("utf-8", "surrogatepass")
        return hmac.compare_digest(self.signature(job_id, exp).encode(), given)


def result_url(signer: SignerLike, base: str, job_id: str, expires: float) -> str:
    """The signed link of a job's stored result under the server base URL ``base``."""
    return f"{base.rstrip('/')}/results/{job_id}?{signer.query(job_id, expires)}"
