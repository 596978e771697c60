"""The Backend: one object owning the stores, the runner, the mailer and the servers.

``wf_widgets.get_backend()`` returns the default one (built from the environment on first
use); tests build isolated ones on temporary home folders and install them with
``set_backend``. Worker processes rebuild a Backend from ``Settings.to_dict()`` with
:func:`backend_for`, cached per home folder.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor
from typing import Any, Mapping

from . import _context
from ._files import private_dir, sweep_temp
from .config import Settings


class Backend:
    """Stores and services rooted at one home folder.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to :meth:`Settings.from_env`.
    executor : concurrent.futures.Executor, optional
        Where jobs run; a thread pool of ``settings.workers`` threads by default.
    sweep : bool
        Delete expired results and reap dead jobs now (default True); this start-up sweep
        checks stored results by size only (no file is read: a start stays quick).
    """

    def __init__(self, settings: Settings | None = None, executor: Executor | None = None, sweep: bool = True):
        self.settings = settings if settings is not None else Settings.from_env()
        private_dir(self.settings.home)  # 0700 when made here (see wf_widgets._files)
        self._executor = executor
        self._lock = threading.RLock()
        self._parts: dict[str, Any] = {}
        if sweep:
            self.sweep(checksums=False)

    # Each part is built once, on first use, so importing or building a Backend stays cheap.
    def _part(self, name: str, factory) -> Any:
        part = self._parts.get(name)
        if part is None:
            with self._lock:
                part = self._parts.get(name)
                if part is None:
                    part = self._parts[name] = factory()
        return part

    @property
    def jobs(self):
        """The job store (:class:`~wf_widgets.jobs.store.JobStore`)."""
        from .jobs.store import JobStore

        return self._part("jobs", lambda: JobStore(self.settings))

    @property
    def results(self):
        """The stored download results (:class:`~wf_widgets.delivery.results.ResultStore`)."""
        from .delivery.results import ResultStore

        return self._part("results", lambda: ResultStore(self.settings))

    @property
    def signer(self):
        """Signs and verifies download links (:class:`~wf_widgets.delivery.links.Signer`)."""
        from .delivery.links import Signer

        return self._part("signer", lambda: Signer(self.settings))

    @property
    def catalog(self):
        """The local catalog (:class:`~wf_widgets.catalog.store.CatalogStore`)."""
        from .catalog.store import CatalogStore

        return self._part("catalog", lambda: CatalogStore(self.settings))

    @property
    def layers(self):
        """Map layers the tile server renders (:class:`~wf_widgets.layers.LayerStore`)."""
        from .layers import LayerStore

        return self._part("layers", lambda: LayerStore(self.settings))

    @property
    def runner(self):
        """Runs jobs on the executor (:class:`~wf_widgets.jobs.runner.Runner`)."""
        from .jobs.runner import Runner

        return self._part("runner", lambda: Runner(self, self._executor))

    def sweep(self, checksums: bool = True) -> dict[str, int]:
        """Housekeeping; returns counts.

        ``reaped``: jobs whose worker died, marked FAILED; ``expired``: results past their
        expiry, deleted; ``damaged``: live results found missing or damaged (size, and with
        ``checksums`` the SHA-256 of every live result file, read whole), marked lost;
        ``leftovers``: temporary files of killed writers (results and catalog uploads) older
        than :data:`~wf_widgets._files.TEMP_GRACE_S`, deleted. Also deletes the blob files of
        big graph literals no live row uses (:meth:`sweep_blobs`) and checkpoints the job
        store's WAL.
        """
        reaped = self.jobs.reap_stale()
        expired = self.results.sweep(self.jobs)
        damaged = self.results.check(self.jobs, checksums=checksums)
        # Catalog uploads write temporaries next to their files (catalog/files.py:temp_path);
        # swept by folder, without loading the catalog package (rasterio).
        leftovers = self.results.sweep_temp() + sweep_temp(self.settings.home / "catalog" / "files",
                                                           self.settings.time(), recursive=True)
        self.sweep_blobs()
        self.jobs.checkpoint()
        return {"reaped": reaped, "expired": expired, "damaged": damaged, "leftovers": leftovers}

    def blob_refs(self) -> set[str]:
        """Keys of the blob files live rows use: jobs not ended or ended within the retention
        (result not deleted), and map layers. One query per store."""
        kept_since = self.settings.time() - self.settings.retention_days * 86400.0
        refs = self.jobs.blob_refs(kept_since)
        if "layers" in self._parts or (self.settings.home / "layers.sqlite").exists():
            refs |= self.layers.blob_refs()
        return refs

    def sweep_blobs(self) -> int:
        """Delete blob files no live row uses (sparing young ones, see :data:`wf_widgets.blobs.GRACE_S`)."""
        blobs = self.jobs.blobs
        if not blobs.root.exists():
            return 0
        return blobs.sweep(self.blob_refs())

    def close(self) -> None:
        """Stop the runner's own executor (waiting for running jobs), then close the stores."""
        runner = self._parts.pop("runner", None)
        if runner is not None:
            runner.close()
        for part in list(self._parts.values()):
            close = getattr(part, "close", None)
            if close is not None:
                close()
        self._parts.clear()

    def __repr__(self) -> str:
        return f"Backend(home={str(self.settings.home)!r}, user={self.settings.user!r})"


_default: Backend | None = None
_default_lock = threading.Lock()
_by_home: dict[str, Backend] = {}


def get_backend() -> Backend:
    """The default Backend, built from the environment on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Backend()
                _by_home[str(_default.settings.home)] = _default
    return _default


def set_backend(backend: Backend | None) -> Backend | None:
    """Install ``backend`` as the default (None resets); returns the previous one."""
    global _default
    with _default_lock:
        previous, _default = _default, backend
        if backend is not None:
            _by_home[str(backend.settings.home)] = backend
    _context.set_current(backend)
    return previous


def backend_for(settings: Mapping[str, Any]) -> Backend:
    """The Backend of a worker process for ``settings`` (a ``Settings.to_dict()``), cached per home."""
    key = str(settings["home"])
    backend = _by_home.get(key)
    if backend is None:
        with _default_lock:
            backend = _by_home.get(key)
            if backend is None:
                backend = _by_home[key] = Backend(Settings.from_dict(settings), sweep=False)
    return backend


_context.set_factory(get_backend)
