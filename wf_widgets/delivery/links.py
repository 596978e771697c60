"""Signed, expiring download links.

A link is ``<base>/results/<job id>?expires=<unix seconds>[&kid=<key id>]&signature=<hex
HMAC-SHA256>``; the signed message is ``"<job id>:<expires>"``. The link carries no user
identity: whoever holds it may download until it expires. Where the keys are depends on
where the stores are (``WF_WIDGETS_DATABASE_URL``, :mod:`wf_widgets._db`):

**With a database URL**, the keys are rows of the ``signing_keys`` table (``id``, ``secret``
of at least :data:`MIN_KEY_BYTES` bytes, ``created``, ``retired``) of that database, which
every server and worker reads, whatever their home folders (:class:`KeyTable`). Links carry
``kid``, the id of the key that signed them; the newest key not retired signs. Every process
reads the table again at least every :data:`RECHECK_DB_S` seconds (and at once for a key id
it does not know yet), so a rotation (``wf-widgets keys rotate``: a new random key, every
other one retired) takes effect everywhere within seconds: new links are signed with the new
key, and links signed with a retired key are refused (403), as after deleting the key file
of a home. ``WF_WIDGETS_SIGNING_KEY`` (base64) only seeds the table when it has no key yet:
that first key gets an id derived from it, and links without ``kid`` (signed with that
shared key before keys lived in the database) verify against it until it is retired. The
home's key file is not used in this mode.

**In the embedded default** (no URL), the table is the home's key file: one key, 32 random
bytes in ``<home>/signing.key`` (mode 0600, made on first use). Links carry no ``kid`` (they
are as earlier versions made them, and those keep working), and one with a ``kid`` is refused.
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
* ``wf-widgets keys rotate`` replaces the file with a new random key (:meth:`Signer.rotate`).
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

from .. import _db
from .._context import SignerLike
from .._files import private_dir, temp_name, write_private
from ..config import Settings, signing_key_bytes
from ..errors import SigningKeyError, SigningKeyWarning

#: Shortest signing key accepted, in bytes (a key made here has exactly this many).
MIN_KEY_BYTES = 32
#: Seconds between two looks at the key file: a rotated key is in use this soon.
RECHECK_S = 1.0
#: Seconds between two reads of the ``signing_keys`` table (with a database URL).
RECHECK_DB_S = 2.0
#: Fewest seconds between two reads caused by unknown key ids (a flood of forged ids reads it no more).
UNKNOWN_KID_RECHECK_S = 0.5

#: The ``signing_keys`` table (its store's migrations; see :meth:`wf_widgets._db.Database.migrate`).
MIGRATIONS: tuple[str, ...] = (_db.Migration("""
CREATE TABLE IF NOT EXISTS signing_keys (
    id TEXT PRIMARY KEY,
    secret {blob} NOT NULL,
    created {real} NOT NULL,
    retired {int} NOT NULL DEFAULT 0
);
"""),)
#: The table's store name in the database (its ``schema_version`` row, its writers' lock).
STORE = "signing_keys"


def seed_key_id(key: bytes) -> str:
    """The id of the key seeded from ``WF_WIDGETS_SIGNING_KEY`` (the same in every process that has it)."""
    return "seed-" + hashlib.sha256(b"wf_widgets signing key id\0" + key).hexdigest()[:16]


class KeyTable:
    """The signing keys of a database (see the module doc), read again every :data:`RECHECK_DB_S` seconds.

    Parameters
    ----------
    settings : Settings
        Its ``database_url`` names the database; its ``signing_key`` seeds an empty table.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self._seed = signing_key_bytes(settings.signing_key) if settings.signing_key else None
        self._db: _db.Database | None = None
        self._keys: dict[str, tuple[bytes, float, bool]] = {}  # id -> (secret, created, retired)
        self._current: tuple[str, bytes] | None = None
        self._read_at = float("-inf")  # time.monotonic() of the last read
        self._unknown_at = float("-inf")
        self._lock = threading.Lock()

    @property
    def db(self) -> _db.Database:
        """The database (opened, and its table made, at first use)."""
        if self._db is None:
            db = _db.open_database(self.settings, STORE, None)
            try:
                db.migrate(MIGRATIONS)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    def _load(self) -> None:
        rows = self.db.read("SELECT id, secret, created, retired FROM signing_keys").fetchall()
        if not any(not r[3] for r in rows):
            rows = self._seed_first()
        keys = {r[0]: (bytes(r[1]), float(r[2]), bool(r[3])) for r in rows}
        for kid, (secret, _, _) in keys.items():
            if len(secret) < MIN_KEY_BYTES:
                raise SigningKeyError(f"The signing key {kid!r} in {self.db.where} is {len(secret)} byte(s) long; at "
                                      f"least {MIN_KEY_BYTES} are needed. Run `wf-widgets keys rotate` for a new key.")
        live = sorted((created, kid) for kid, (_, created, retired) in keys.items() if not retired)
        self._keys = keys
        self._current = (live[-1][1], keys[live[-1][1]][0])
        self._read_at = time.monotonic()

    def _seed_first(self) -> list:
        """The first key, when the table has none that may sign: ``WF_WIDGETS_SIGNING_KEY`` if the table is empty,
        else a random one. One transaction, so of processes starting at once one writes it."""
        with self.db.transaction():
            rows = self.db.read("SELECT id, secret, created, retired FROM signing_keys").fetchall()
            if not any(not r[3] for r in rows):
                if self._seed is not None and not rows:
                    kid, secret = seed_key_id(self._seed), self._seed
                else:
                    kid, secret = secrets.token_hex(8), secrets.token_bytes(MIN_KEY_BYTES)
                self.db.write("INSERT INTO signing_keys (id, secret, created, retired) VALUES (?, ?, ?, 0)",
                              (kid, secret, time.time()))
                rows = self.db.read("SELECT id, secret, created, retired FROM signing_keys").fetchall()
        return rows

    def _fresh(self, force: bool = False) -> None:
        if self._current is not None and not force and time.monotonic() - self._read_at < RECHECK_DB_S:
            return
        with self._lock:
            if self._current is None or force or time.monotonic() - self._read_at >= RECHECK_DB_S:
                self._load()

    def current(self) -> tuple[str, bytes]:
        """``(key id, secret)`` of the key that signs: the newest one not retired."""
        self._fresh()
        return self._current

    def secret(self, kid: str) -> bytes | None:
        """The secret of key ``kid`` if it may verify (it exists and is not retired), else None."""
        self._fresh()
        found = self._keys.get(kid)
        if found is None and time.monotonic() - self._unknown_at >= UNKNOWN_KID_RECHECK_S:
            self._unknown_at = time.monotonic()  # maybe a key made since the last read: read now
            self._fresh(force=True)
            found = self._keys.get(kid)
        return found[0] if found is not None and not found[2] else None

    def legacy(self) -> bytes | None:
        """The key links without a ``kid`` verify against: the one seeded from ``WF_WIDGETS_SIGNING_KEY``."""
        return self.secret(seed_key_id(self._seed)) if self._seed is not None else None

    def rotate(self) -> str:
        """Add a new random key and retire every other one; returns the new key's id."""
        kid = secrets.token_hex(8)
        with self.db.transaction():
            self.db.write("UPDATE signing_keys SET retired = 1 WHERE retired = 0")
            self.db.write("INSERT INTO signing_keys (id, secret, created, retired) VALUES (?, ?, ?, 0)",
                          (kid, secrets.token_bytes(MIN_KEY_BYTES), time.time()))
        self._fresh(force=True)
        return kid

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_ino, st.st_size, st.st_mtime_ns


class Signer:
    """Signs and verifies download links with the home folder's key, or the database's keys (see the module doc).

    Attributes
    ----------
    table : KeyTable or None
        The database's keys (with a database URL), else None (the key file).
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.key_path = settings.home / "signing.key"
        self.table = KeyTable(settings) if _db.kind(settings) != "embedded" else None
        self._key: bytes | None = None
        self._identity: tuple[int, int, int] | None = None
        self._checked = float("-inf")  # time.monotonic() of the last look at the file
        self._lock = threading.Lock()

    @property
    def key(self) -> bytes:
        """The HMAC key that signs: read from (or first written to) ``<home>/signing.key``, or the table's current one.

        Looks at the file again when :data:`RECHECK_S` seconds have passed since the last look.

        Raises
        ------
        SigningKeyError
            If the file holds fewer than :data:`MIN_KEY_BYTES` bytes.
        """
        if self.table is not None:
            return self.table.current()[1]
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

    def signature(self, job_id: str, expires: int, key: bytes | None = None) -> str:
        """The hex HMAC-SHA256 of ``"<job id>:<expires>"`` with ``key`` (default :attr:`key`)."""
        return hmac.new(self.key if key is None else key, f"{job_id}:{int(expires)}".encode(), hashlib.sha256).hexdigest()

    def query(self, job_id: str, expires: float) -> str:
        """The query string of a link for ``job_id`` valid until ``expires`` (with ``kid`` with a database URL)."""
        exp = int(expires)
        if self.table is None:
            return urlencode({"expires": exp, "signature": self.signature(job_id, exp)})
        kid, key = self.table.current()
        return urlencode({"expires": exp, "kid": kid, "signature": self.signature(job_id, exp, key)})

    def verify(self, job_id: str, expires: str | int, signature: str, kid: str | None = None) -> bool:
        """True if ``signature`` signs ``job_id`` and ``expires`` (compared in constant time) with a key that may verify.

        ``kid``: the link's key id. With a database URL, that key if it is not retired (a link
        without one: the key seeded from ``WF_WIDGETS_SIGNING_KEY``); in the embedded default,
        links carry none (one that does is refused) and the home's key verifies.
        """
        try:
            exp = int(expires)
        except (TypeError, ValueError):
            return False
        if self.table is None:
            if kid is not None:
                return False
            key = self.key
        else:
            key = self.table.secret(str(kid)) if kid is not None else self.table.legacy()
            if key is None:
                return False
        # As bytes: compare_digest refuses non-ASCII str, and a link's text is anyone's to choose.
        given = str(signature).encode("utf-8", "surrogatepass")
        return hmac.compare_digest(self.signature(job_id, exp, key).encode(), given)

    def rotate(self) -> str:
        """A new signing key; links signed with the old ones stop working (403). Returns what was done.

        With a database URL: a new random key in the table, every other one retired (every
        process uses it within :data:`RECHECK_DB_S` seconds). In the embedded default: the key
        file replaced by a new random key (every process reads it within :data:`RECHECK_S`).
        """
        if self.table is not None:
            kid = self.table.rotate()
            return f"new signing key {kid} in {self.table.db.where}; every other key retired"
        private_dir(self.key_path.parent)
        tmp = temp_name(self.key_path)
        try:
            write_private(tmp, secrets.token_bytes(MIN_KEY_BYTES))
            os.replace(tmp, self.key_path)
        finally:
            tmp.unlink(missing_ok=True)
        with self._lock:
            self._refresh()
        return f"new signing key in {self.key_path}"

    def close(self) -> None:
        """Close the key table's connections (with a database URL)."""
        if self.table is not None:
            self.table.close()


def result_url(signer: SignerLike, base: str, job_id: str, expires: float) -> str:
    """The signed link of a job's stored result under the server base URL ``base``."""
    return f"{base.rstrip('/')}/results/{job_id}?{signer.query(job_id, expires)}"
