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
=========================  ==============================================================
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import getpass
import os
import time
from pathlib import Path
from typing import Any, Mapping

try:  # Python 3.11+
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    _toml = None

from .errors import ValidationError

PREFIX = "WF_WIDGETS_"


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
    """

    home: Path = dataclasses.field(default_factory=lambda: Path("~/.wf_widgets").expanduser())
    user: str = dataclasses.field(default_factory=_default_user)
    email: str | None = None
    smtp_url: str | None = None
    public_url: str | None = None
    retention_days: float = 10.0
    workers: int | None = None
    now_offset_s: float = 0.0

    def __post_init__(self) -> None:
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
        for name in ("retention_days", "now_offset_s"):
            if name in values:
                values[name] = _number(name, values[name], float)
        if "workers" in values:
            values["workers"] = _number("workers", values["workers"], int)
        return cls(**values)


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
