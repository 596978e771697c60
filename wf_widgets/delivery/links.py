"""Signed, expiring download links.

A link is ``<base>/results/<job id>?expires=<unix seconds>&signature=<hex HMAC-SHA256>``
where the HMAC key is 32 random bytes in ``<home>/signing.key`` (mode 0600, made on first
use) and the signed message is ``"<job id>:<expires>"``. The link carries no user identity:
whoever holds it may download until it expires.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from urllib.parse import urlencode

from ..config import Settings


class Signer:
    """Signs and verifies download links with the home folder's key."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.key_path = settings.home / "signing.key"
        self._key: bytes | None = None
        self._lock = threading.Lock()

    @property
    def key(self) -> bytes:
        """The 32-byte HMAC key, read from (or first written to) ``<home>/signing.key``."""
        if self._key is None:
            with self._lock:  # threads of one process: one creator
                if self._key is None:
                    self._key = self._load_or_create()
        return self._key

    def _load_or_create(self) -> bytes:
        try:
            with open(self.key_path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            pass
        key = secrets.token_bytes(32)
        # A name of its own per attempt: other processes may be creating the key too.
        tmp = self.key_path.with_name(f".signing.key.{os.getpid()}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        try:
            os.link(tmp, self.key_path)  # first writer wins; others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        with open(self.key_path, "rb") as f:
            return f.read()

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
        return hmac.compare_digest(self.signature(job_id, exp), str(signature))


def result_url(backend, job_id: str, expires: float) -> str:
    """The signed link of a job's stored result, on the best reachable base URL."""
    from .serving import base_url

    return f"{base_url(backend)}/results/{job_id}?{backend.signer.query(job_id, expires)}"
