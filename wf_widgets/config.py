"""Settings, read from environment variables and an optional TOML file.

Every variable has the prefix ``WF_WIDGETS_``; an environment variable wins over the
TOML file (``WF_WIDGETS_CONFIG``, default ``<home>/config.toml``, keys in lower case
without the prefix, e.g. ``smtp_url = "smtp://..."``).

=========================  ==============================================================
variable                   meaning
=========================  ==============================================================
WF_WIDGETS_HOME            home folder for every store and file (default ``~/.wf_widgets``)
WF_WIDGETS_USER            identity, default ``"user:" + login name``
WF_WIDGETS_EMAIL           the user's e-mail address (recipient of the email destination)
WF_WIDGETS_SMTP_URL        ``smtp://user:pass@host:port`` (STARTTLS if offered) or ``smtps://``
WF_WIDGETS_PUBLIC_URL      base of download links, e.g. ``https://hub.example.org/wf-widgets``
WF_WIDGETS_RETENTION_DAYS  days a stored result stays downloadable (default 10)
WF_WIDGETS_WORKERS         threads of the default job executor (default ``min(32, cpus + 4)``)
WF_WIDGETS_NOW_OFFSET_S    seconds added to the clock (tests move time in subprocesses)
WF_WIDGETS_MAX_MEMORY      most memory one computation may need, in bytes or with a unit
                           (``"8GiB"``, ``"500MB"``); larger ones are refused before they start
                           (default: 3/4 of this machine's memory, 8 GiB if it can't be read)
WF_WIDGETS_MAX_TILES       most tiles ``DLTile.from_shape`` builds in one list (default 1,000,000)
=========================  ==============================================================

``WF_WIDGETS_MAX_LITERAL_BYTES``: the most bytes of literals (arrays, lists, strings) one
graph may carry (default 256 MiB); a bigger graph is refused before a job exists.
``WF_WIDGETS_SWEEP_INTERVAL_S``: seconds between the housekeeping sweeps that launches do in
one home (default 3600; 0: every process sweeps at its first launch).
``WF_WIDGETS_STORAGE_URL``: where results, catalog rasters and graph blobs are stored:
``file://<folder>`` (default ``file://<home>``) or ``s3://<bucket>/<prefix>`` (credentials,
region and endpoint from the standard AWS variables; see :mod:`wf_widgets.storage`).

``WF_WIDGETS_DATABASE_URL``: where the job, catalog and layer stores (and, with a URL, the
signing keys and the registry of servers) live. Unset: the embedded default, one SQLite file
per store in the home folder. ``sqlite:///path/file.sqlite`` (``sqlite:////abs/path`` for an
absolute path, as SQLAlchemy spells it): every store in that one SQLite file.
``postgresql://user:password@host:port/database``: PostgreSQL (see :mod:`wf_widgets._db`).
``WF_WIDGETS_STORAGE_ROOTS``: the folders the storage destination may write ``file://`` URLs
under, separated by ``:`` (absolute paths); unset (the default): none, so ``file://`` is off.
``WF_WIDGETS_MAX_LINK_DAYS``: the most days ``Job.renew_link`` may set a download link's expiry
ahead (default 30).
``WF_WIDGETS_SIGNING_KEY``: with a database URL, the first signing key (base64 of at least 32
bytes) when the database has none yet; later keys come from ``wf-widgets keys rotate``.

Notifications and retries (:mod:`wf_widgets.delivery.notify`, ``compute(retries=...)``):
``WF_WIDGETS_WEBHOOK_SECRET``: the secret webhooks are signed with (default: one generated per
user, stored in the job store; ``wf-widgets webhook-secret``). ``WF_WIDGETS_WEBHOOK_ALLOW``: hosts
and CIDRs (comma-separated) webhooks may reach although they are loopback, link-local or private.
``WF_WIDGETS_WEBHOOK_BACKOFF_S``: seconds before a webhook's first redelivery, doubled each time
(default 30). ``WF_WIDGETS_RETRY_BACKOFF_S``: seconds before a job's first retry, doubled each
time (default 10).

``WF_WIDGETS_ORG``: the org that catalog product ids given without one get on save
(``Product(id="my_product")`` is saved as ``<org>:my_product``, as the original catalog service
did); letters, digits, ``_``, ``.``, ``-``. Default: the user name (``user:alice`` -> ``alice``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as _dt
import getpass
import os
import re
import time
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import unquote, urlsplit

try:  # Python 3.11+
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    _toml = None

from .errors import ValidationError

PREFIX = "WF_WIDGETS_"
#: Default of :attr:`Settings.max_literal_bytes` (256 MiB).
DEFAULT_MAX_LITERAL_BYTES = 256 * 1024 * 1024
#: Default of :attr:`Settings.max_tiles`.
DEFAULT_MAX_TILES = 1_000_000
#: Default of :attr:`Settings.sweep_interval_s` (an hour).
DEFAULT_SWEEP_INTERVAL_S = 3600.0
#: :attr:`Settings.max_memory` when the machine's memory can't be read.
FALLBACK_MAX_MEMORY = 8 << 30
#: The schemes :attr:`Settings.database_url` accepts.
DATABASE_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")
#: Default of :attr:`Settings.max_link_days`.
DEFAULT_MAX_LINK_DAYS = 30.0
#: Fewest bytes of a signing key (:attr:`Settings.signing_key`).
MIN_SIGNING_KEY_BYTES = 32
#: :attr:`Settings.org`: one segment of a product id.
_ORG = re.compile(r"^[A-Za-z0-9_.-]+$")
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9, "t": 10**12,
          "tb": 10**12, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}


def _default_user() -> str:
    try:
        name = getpass.getuser()
    except Exception:  # no login name (containers)
        name = "anonymous"
    return f"user:{name}"


@dataclasses.dataclass
class Settings:
    """Configuration of one :class:`~wf_widgets.backend.Backend`.

    Attributes
    ----------
    home : Path
        Folder holding the job store, results, catalog and signing key.
    user : str
        Identity of the current user (``"user:alice"``).
    email : str or None
        The user's e-mail address.
    smtp_url : str or None
        SMTP server for the email destination.
    public_url : str or None
        Base URL of download links; overrides any running server.
    retention_days : float
        Days a result stays downloadable after its job completes.
    workers : int or None
        Threads of the default executor.
    now_offset_s : float
        Seconds added to the clock; :meth:`now` includes it.
    max_literal_bytes : int
        Most bytes of literals one graph (a job's, a map layer's) may carry.
    max_memory : int
        Bytes of memory one computation (a job, a map tile) may need by its estimate;
        larger ones are refused before they start. Accepts a str with a unit (``"8GiB"``).
        Default: three quarters of this machine's memory (:func:`default_max_memory`).
    max_tiles : int
        Most tiles :meth:`DLTile.from_shape <wf_widgets.geo.DLTile.from_shape>` builds in
        one list.
    sweep_interval_s : float
        Seconds between the housekeeping sweeps that launches do (``Backend.ensure_swept``):
        the first launch of a process sweeps the home only when no process recorded a sweep
        there within this interval. ``wf-widgets sweep`` and running servers sweep regardless.
    storage_url : str or None
        Where results, catalog rasters and graph blobs live: ``file://<folder>`` or
        ``s3://<bucket>/<prefix>``; None (the default) is ``file://<home>``
        (:attr:`storage`, the URL in force).
    database_url : str or None
        Where the stores live: None (the embedded default: SQLite files in the home),
        ``sqlite:///path`` (every store in one SQLite file) or ``postgresql://...``.
    signing_key : str or None
        Base64 of the first signing key of a database that has none yet (at least 32 bytes).
        Not shown by ``repr``.
    storage_roots : str or None
        Folders (``:``-separated absolute paths) the storage destination may write ``file://``
        URLs under; None: none (``file://`` is off). :attr:`storage_root_paths` has them resolved.
    max_link_days : float
        The most days ahead ``Job.renew_link`` may set a download link's expiry (default 30).
    webhook_secret : str or None
        The secret webhooks are signed with; None: one per user, generated and kept in the
        job store. Not shown by ``repr``.
    webhook_allow : str or None
        Hosts and CIDRs (comma-separated) a webhook may reach although they are loopback,
        link-local or private addresses.
    webhook_backoff_s, retry_backoff_s : float
        Seconds before the first redelivery of a webhook (default 30) and the first retry of
        a job (default 10); each next one waits twice as long (bounded).
    org : str or None
        The org of catalog product ids given without one (:attr:`organization`).
    """

    home: Path = dataclasses.field(default_factory=lambda: Path("~/.wf_widgets").expanduser())
    user: str = dataclasses.field(default_factory=_default_user)
    email: str | None = None
    smtp_url: str | None = None
    public_url: str | None = None
    retention_days: float = 10.0
    workers: int | None = None
    now_offset_s: float = 0.0
    max_literal_bytes: int = DEFAULT_MAX_LITERAL_BYTES
    max_memory: int | None = None
    max_tiles: int = DEFAULT_MAX_TILES
    sweep_interval_s: float = DEFAULT_SWEEP_INTERVAL_S
    storage_url: str | None = None
    database_url: str | None = None
    signing_key: str | None = dataclasses.field(default=None, repr=False)
    storage_roots: str | None = None
    max_link_days: float = DEFAULT_MAX_LINK_DAYS
    webhook_secret: str | None = dataclasses.field(default=None, repr=False)
    webhook_allow: str | None = None
    webhook_backoff_s: float = 30.0
    retry_backoff_s: float = 10.0
    org: str | None = None

    def __post_init__(self) -> None:
        self.max_memory = default_max_memory() if self.max_memory is None else parse_bytes(self.max_memory,
                                                                                          "max_memory")
        self.max_tiles = _number("max_tiles", self.max_tiles, int)
        if self.max_tiles < 1:
            raise ValidationError(f"max_tiles must be >= 1, got {self.max_tiles!r}", field="max_tiles",
                                  value=self.max_tiles)
        self.home = Path(self.home).expanduser().resolve()
        if self.retention_days is None or float(self.retention_days) <= 0:
            raise ValidationError(
                f"retention_days must be a positive number, got {self.retention_days!r}",
                field="retention_days", value=self.retention_days,
            )
        self.retention_days = float(self.retention_days)
        if self.workers is not None and int(self.workers) < 1:
            raise ValidationError(f"workers must be >= 1, got {self.workers!r}", field="workers", value=self.workers)
        if self.public_url:
            self.public_url = self.public_url.rstrip("/")
        if self.max_literal_bytes is None or int(self.max_literal_bytes) < 0:
            raise ValidationError(f"max_literal_bytes must be a number of bytes >= 0, got {self.max_literal_bytes!r}",
                                  field="max_literal_bytes", value=self.max_literal_bytes)
        self.max_literal_bytes = int(self.max_literal_bytes)
        self.sweep_interval_s = _number("sweep_interval_s", self.sweep_interval_s, float)
        if not self.sweep_interval_s >= 0 or self.sweep_interval_s == float("inf"):
            raise ValidationError(f"sweep_interval_s must be a number of seconds >= 0, got {self.sweep_interval_s!r}",
                                  field="sweep_interval_s", value=self.sweep_interval_s)
        self.database_url = self.database_url or None
        if self.database_url is not None and not (
                isinstance(self.database_url, str) and self.database_url.lower().startswith(DATABASE_SCHEMES)):
            raise ValidationError(
                f"{PREFIX}DATABASE_URL must start with one of {', '.join(DATABASE_SCHEMES)} (or be unset: SQLite files "
                f"in the home folder), got {self.database_url!r}", field="database_url", value=self.database_url,
                allowed=DATABASE_SCHEMES)
        self.signing_key = self.signing_key or None
        if self.signing_key is not None:
            signing_key_bytes(self.signing_key)  # raises naming the setting

        if self.storage_url is not None:
            self.storage_url = _storage_url(self.storage_url)
        self.storage_roots = self.storage_roots or None
        if self.storage_roots is not None:
            _storage_roots(self.storage_roots)  # raises naming the setting
        self.max_link_days = _number("max_link_days", self.max_link_days, float)
        if not 0 < self.max_link_days < float("inf"):
            raise ValidationError(f"max_link_days must be a positive number of days, got {self.max_link_days!r}",
                                  field="max_link_days", value=self.max_link_days)
        self.webhook_secret = self.webhook_secret or None
        self.webhook_allow = self.webhook_allow or None
        for name in ("webhook_backoff_s", "retry_backoff_s"):
            value = _number(name, getattr(self, name), float)
            if not 0 <= value < float("inf"):
                raise ValidationError(f"{name} must be a number of seconds >= 0, got {value!r}", field=name, value=value)
            setattr(self, name, value)
        self.org = self.org or None
        if self.org is not None and not (isinstance(self.org, str) and _ORG.match(self.org)):
            raise ValidationError(f"{PREFIX}ORG must be letters, digits, '_', '.' or '-' (one product id segment), "
                                  f"got {self.org!r}", field="org", value=self.org)

    @property
    def storage_root_paths(self) -> tuple[Path, ...]:
        """The folders of :attr:`storage_roots`, resolved (none when unset)."""
        return _storage_roots(self.storage_roots) if self.storage_roots else ()

    @property
    def storage(self) -> str:
        """The storage URL in force: :attr:`storage_url`, else ``file://<home>``."""
        return self.storage_url or self.home.as_uri()

    @property
    def organization(self) -> str:
        """The org of product ids given without one: :attr:`org`, else the user's name.

        ``"user:alice"`` gives ``"alice"``; characters a product id can't hold become ``_``
        (``"email:a@b.org"`` gives ``"a_b.org"``).
        """
        if self.org:
            return self.org
        return re.sub(r"[^A-Za-z0-9_.-]", "_", self.user.split(":", 1)[-1]) or "user"

    # -- clock -------------------------------------------------------------------
    def time(self) -> float:
        """Unix seconds, moved by ``now_offset_s``."""
        return time.time() + self.now_offset_s

    def now(self) -> _dt.datetime:
        """The current UTC datetime, moved by ``now_offset_s``."""
        return _dt.datetime.fromtimestamp(self.time(), tz=_dt.timezone.utc)

    @property
    def clock(self) -> "Clock":
        """This clock alone (what may be handed on without the rest of the settings)."""
        return Clock(self.now_offset_s)

    # -- (de)serialisation for worker processes ---------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain dict (picklable, JSON-able) that :meth:`from_dict` turns back into Settings."""
        d = dataclasses.asdict(self)
        d["home"] = str(self.home)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Settings":
        return cls(**d)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Settings from ``environ`` (default ``os.environ``), the TOML file, then ``overrides``."""
        env = os.environ if environ is None else environ
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        home = overrides.get("home") or env.get(PREFIX + "HOME")
        if home:
            values["home"] = home
        home_path = Path(values.get("home", "~/.wf_widgets")).expanduser()
        config_file = Path(env.get(PREFIX + "CONFIG", home_path / "config.toml")).expanduser()
        if config_file.is_file() and _toml is not None:
            with open(config_file, "rb") as f:
                data = _toml.load(f)
            for key, val in data.items():
                if key not in fields:
                    raise ValidationError.bad_value(f"{config_file}", key, sorted(fields), what="setting")
                values[key] = val
        for name in fields:
            raw = env.get(PREFIX + name.upper())
            if raw not in (None, ""):
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("retention_days", "now_offset_s", "max_link_days"):
            if name in values:
                values[name] = _number(name, values[name], float)
        for name in ("workers", "max_literal_bytes"):
            if name in values:
                values[name] = _number(name, values[name], int)
        return cls(**values)


def _storage_url(raw: Any) -> str:
    """``raw`` as a storage URL (``file:///folder`` or ``s3://bucket/prefix``, no trailing ``/``).

    Raises
    ------
    ValidationError
        Naming the setting, for another scheme, a relative folder or a missing bucket.
    """
    allowed = ["file:///<folder>", "s3://<bucket>/<prefix>"]
    text = raw.strip() if isinstance(raw, str) else raw
    parts = urlsplit(text) if isinstance(text, str) else None
    scheme = parts.scheme.lower() if parts is not None else ""
    if scheme == "file" and parts.netloc in ("", "localhost") and parts.path.startswith("/"):
        return Path(unquote(parts.path)).expanduser().resolve().as_uri()
    if scheme == "s3" and parts.netloc and not parts.query and not parts.fragment and ".." not in parts.path.split("/"):
        return f"s3://{parts.netloc}{parts.path.rstrip('/')}"
    raise ValidationError(
        f"{PREFIX}STORAGE_URL must be file:///<absolute folder> or s3://<bucket>/<prefix> (the prefix is optional), "
        f"got {raw!r}", field="storage_url", value=raw, allowed=allowed)


def _storage_roots(raw: Any) -> tuple[Path, ...]:
    """The folders of ``WF_WIDGETS_STORAGE_ROOTS`` (``:``-separated absolute paths), resolved.

    Raises
    ------
    ValidationError
        Naming the setting, for a relative or empty path.
    """
    if not isinstance(raw, str):
        raise ValidationError(f"{PREFIX}STORAGE_ROOTS must be a str of ':'-separated absolute folders, got {raw!r}",
                              field="storage_roots", value=raw)
    roots = []
    for part in raw.split(":"):
        path = Path(part.strip()).expanduser() if part.strip() else None
        if path is None or not path.is_absolute():
            raise ValidationError(
                f"{PREFIX}STORAGE_ROOTS must list absolute folders separated by ':', got {raw!r} (the entry "
                f"{part!r} is {'empty' if path is None else 'relative'})", field="storage_roots", value=raw)
        roots.append(path.resolve())
    return tuple(roots)


def signing_key_bytes(text: str) -> bytes:
    """The key of ``WF_WIDGETS_SIGNING_KEY`` (base64, standard or URL-safe alphabet).

    Raises
    ------
    ValidationError
        Not base64, or fewer than :data:`MIN_SIGNING_KEY_BYTES` bytes (the value is not shown).
    """
    try:
        key = base64.b64decode(text.strip(), altchars=b"-_" if ("-" in text or "_" in text) else None, validate=True)
    except (binascii.Error, ValueError, TypeError, AttributeError):
        raise ValidationError(f"{PREFIX}SIGNING_KEY must be base64 (e.g. the output of `openssl rand -base64 32`)",
                              field="signing_key", value="<hidden>") from None
    if len(key) < MIN_SIGNING_KEY_BYTES:
        raise ValidationError(f"{PREFIX}SIGNING_KEY must hold at least {MIN_SIGNING_KEY_BYTES} bytes, it holds "
                              f"{len(key)} (make one with `openssl rand -base64 32`)", field="signing_key",
                              value="<hidden>")
    return key


def _number(name: str, raw: Any, kind: type) -> Any:
    try:
        return kind(raw)
    except (TypeError, ValueError):
        raise ValidationError(
            f"{PREFIX}{name.upper()} must be a number, got {raw!r}", field=name, value=raw
        ) from None


@dataclasses.dataclass(frozen=True)
class Clock:
    """The clock of :class:`Settings`, without the settings: Unix time moved by ``offset_s``."""

    offset_s: float = 0.0

    def time(self) -> float:
        """Unix seconds, moved by ``offset_s``."""
        return time.time() + self.offset_s

    def now(self) -> _dt.datetime:
        """The current UTC datetime, moved by ``offset_s``."""
        return _dt.datetime.fromtimestamp(self.time(), tz=_dt.timezone.utc)


def parse_bytes(raw: Any, name: str = "max_memory") -> int:
    """A number of bytes from an int or a str with an optional unit (``"8GiB"``, ``"500 MB"``, ``"1e9"``).

    Units: B, kB/MB/GB/TB (powers of 1000; K, M, G, T too) and KiB/MiB/GiB/TiB (powers of 1024),
    in any case.

    Raises
    ------
    ValidationError
        Naming the setting's variable, for anything else or a value below 1.
    """
    number: float | None = None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        number = float(raw)
    elif isinstance(raw, str):
        text = raw.strip().lower().replace(" ", "").replace("_", "")
        unit = text.lstrip("0123456789.e+-")
        digits = text[: len(text) - len(unit)]
        if unit in _UNITS:
            try:
                number = float(digits) * _UNITS[unit]
            except ValueError:
                number = None
    if number is None or not number >= 1 or number == float("inf"):
        raise ValidationError(
            f"{PREFIX}{name.upper()} must be a number of bytes >= 1, optionally with a unit (like '8GiB' or "
            f"'500MB'), got {raw!r}", field=name, value=raw, allowed=sorted(u for u in _UNITS if u))
    return int(number)


def default_max_memory(total: int | None = None) -> int:
    """Three quarters of ``total`` bytes (default: this machine's memory, or its cgroup limit if lower).

    The estimate it is compared with is an upper bound (every array an evaluation holds
    at once); the last quarter is left to the system and the process itself. On a 24 GB
    machine that is 18 GB: a median composite of 20 scenes x 2 bands over a 4096-pixel
    square tile (12.7 GB by the estimate) runs, a 200,000-pixel tile does not.
    :data:`FALLBACK_MAX_MEMORY` when the memory can't be read.
    """
    if total is None:
        total = _machine_memory()
    return total * 3 // 4 if total else FALLBACK_MAX_MEMORY


def _machine_memory() -> int | None:
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        total = None
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                limit = int(f.read().strip())
        except (OSError, ValueError):  # absent, or "max"
            continue
        if limit > 0 and (total is None or limit < total):
            total = limit
    return total if total and total > 0 else None
