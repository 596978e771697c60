"""The Backend: the composition root, building the stores, the runner, the signer and the servers.

It sits at the top of the layers (only the command line, the demo and the widgets are
above it) and imports its parts at module level; importing it registers it as the factory
of :func:`wf_widgets._context.current`, through which every lower layer reaches the current
backend when a public call is made without one. ``wf_widgets.get_backend()`` returns the
current one (built from the environment at first use); tests build isolated ones on
temporary home folders and install them with ``set_backend``. Worker processes (Dask, process
pools) build theirs from their own environment (:func:`worker_backend`, cached per process):
a task carries a job's id, never the launcher's settings.

Building a Backend does no I/O: the home folder and each store are made (and migrated) at
their first use. Housekeeping (:meth:`Backend.sweep`) runs in ``wf-widgets sweep`` and hourly
in running servers; the first launch of a process and a server's start sweep only when no
process swept the home within ``Settings.sweep_interval_s`` (:meth:`Backend.ensure_swept`:
every sweep records its time in the job store, so a home is swept about once an interval
however many processes start there). Read-only commands never sweep.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from concurrent.futures import Executor
from typing import Any

from . import _context
from ._files import TEMP_GRACE_S, sweep_temp
from .catalog.store import CatalogStore
from .config import Settings
from .delivery import notify as _notify
from .delivery.links import Signer
from .delivery.results import ResultStore
from .jobs.runner import Runner, resume_due
from .jobs.store import JobStore
from .layers import LayerStore
from .server import links as _links
from .storage import Storage, open_storage


class Backend:
    """Stores and services rooted at one home folder.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to :meth:`Settings.from_env`.
    executor : concurrent.futures.Executor, optional
        Where jobs run; a thread pool of ``settings.workers`` threads by default.
    sweep : bool
        Sweep (reap dead jobs, delete expired results) at the first launch when the home is
        due one (default True; see :meth:`ensure_swept`); that sweep checks stored results
        by size only (no file is read: a launch stays quick).
    """

    def __init__(self, settings: Settings | None = None, executor: Executor | None = None, sweep: bool = True):
        self.settings = settings if settings is not None else Settings.from_env()
        self._executor = executor
        self._lock = threading.RLock()
        self._parts: dict[str, Any] = {}
        self._users: dict[tuple[str, str | None], Backend] = {}
        self._swept = not sweep

    # Each part is built once, on first use, so importing or building a Backend stays cheap.
    def _part(self, name: str, factory: Any) -> Any:
        part = self._parts.get(name)
        if part is None:
            with self._lock:
                part = self._parts.get(name)
                if part is None:
                    part = self._parts[name] = factory()
        return part

    @property
    def jobs(self) -> JobStore:
        """The job store."""
        return self._part("jobs", lambda: JobStore(self.settings))

    @property
    def results(self) -> ResultStore:
        """The stored download results."""
        return self._part("results", lambda: ResultStore(self.settings, self.storage))

    @property
    def storage(self) -> Storage:
        """The object store of results, catalog rasters and graph blobs (``settings.storage``)."""
        return self._part("storage", lambda: open_storage(self.settings))

    @property
    def signer(self) -> Signer:
        """Signs and verifies download links."""
        return self._part("signer", lambda: Signer(self.settings))

    @property
    def catalog(self) -> CatalogStore:
        """The local catalog."""
        return self._part("catalog", lambda: CatalogStore(self.settings))

    @property
    def layers(self) -> LayerStore:
        """Map layers the tile server renders."""
        return self._part("layers", lambda: LayerStore(self.settings))

    @property
    def runner(self) -> Runner:
        """Runs jobs on the executor."""
        return self._part("runner", lambda: Runner(self, self._executor))

    def as_user(self, user: str | None, email: str | None = None) -> "Backend":
        """This backend acting for ``user`` (with ``email``): what a worker runs a job with, as the user who launched it.

        The same stores, results, signer and runner; the catalog with that user's rights
        (:meth:`CatalogStore.as_user`) and settings naming that user and address (the email
        destination writes to it). Itself when ``user`` is None (a job recorded no owner) or
        is this backend's user with this address. Made once per user.
        """
        if user is None or (user == self.settings.user and email == self.settings.email):
            return self
        with self._lock:
            view = self._users.get((user, email))
            if view is None:
                view = self._users[(user, email)] = _UserBackend(
                    self, dataclasses.replace(self.settings, user=user, email=email))
        return view

    # -- links ------------------------------------------------------------------------------
    def link_base(self) -> str:
        """The base URL of download links, as this process sees it (may start a kernel-thread server)."""
        return _links.base_url(self)

    def link_note(self) -> str | None:
        """The note for links that work only while this process lives, else None (never starts a server)."""
        return _links.link_note(self)

    # -- housekeeping -----------------------------------------------------------------------
    def ensure_swept(self) -> None:
        """At the first launch of this Backend, sweep (see :meth:`sweep`, by size only) if the home is due one.

        Due: no process recorded a sweep of the home less than ``settings.sweep_interval_s``
        away from now (by ``settings.time()``; see :meth:`JobStore.claim_sweep`). Of
        processes starting at once, one sweeps (the claim is one statement); a sweep that
        fails gives its claim back.
        """
        if self._swept:
            return
        with self._lock:
            if self._swept:
                return
            self._swept = True
        jobs = self.jobs
        now, interval = self.settings.time(), self.settings.sweep_interval_s
        last = jobs.last_sweep()  # a read first: no write lock taken while the home is not due
        if last is not None and abs(now - last) < interval:
            return
        if jobs.claim_sweep(now, interval):
            self._sweep(checksums=False, claimed=now, previous=last)

    def sweep(self, checksums: bool = True) -> dict[str, int]:
        """Housekeeping now, whenever the last sweep was (recorded: launches within the interval skip theirs).

        Returns counts.

        ``reaped``: jobs whose worker died, marked FAILED; ``expired``: results past their
        expiry, deleted; ``damaged``: live results found missing or damaged (size, and with
        ``checksums`` the SHA-256 of every live result file, read whole), marked lost;
        ``leftovers``: temporary files of killed writers (results and catalog uploads) older
        than :data:`~wf_widgets._files.TEMP_GRACE_S`, deleted (on an object store, catalog
        objects no record names: :meth:`sweep_catalog_objects`). Also deletes the blob files of
        big graph literals no live row uses (:meth:`sweep_blobs`) and checkpoints the job
        store's WAL.
        """
        now = self.settings.time()
        previous = self.jobs.last_sweep()
        self.jobs.record_sweep(now)
        return self._sweep(checksums, claimed=now, previous=previous)

    def _sweep(self, checksums: bool, claimed: float, previous: float | None) -> dict[str, int]:
        try:
            return self._sweep_now(checksums)
        except BaseException:
            try:
                self.jobs.unclaim_sweep(claimed, previous)  # let the next launch try again
            except Exception:  # the store itself is what failed: the error below says so
                pass
            raise

    def _sweep_now(self, checksums: bool) -> dict[str, int]:
        reaped = self.jobs.reap_stale()
        expired = self.results.sweep(self.jobs)
        damaged = self.results.check(self.jobs, checksums=checksums)
        # Catalog uploads to a file:// store write temporaries next to their files
        # (catalog/files.py:temp_path); swept by folder, without loading the catalog package (rasterio).
        catalog_files = self.storage.local_path("catalog/files")
        leftovers = self.results.sweep_temp() + (
            sweep_temp(catalog_files, self.settings.time(), recursive=True) if catalog_files is not None else 0)
        leftovers += self.sweep_catalog_objects()
        self.sweep_blobs()
        due = self.sweep_due()
        self.jobs.checkpoint()
        return {"reaped": reaped, "expired": expired, "damaged": damaged, "leftovers": leftovers, **due}

    def sweep_due(self) -> dict[str, int]:
        """Run the jobs whose next attempt is due (on this backend's runner) and send the notifications due now.

        Returns counts: ``retried`` (attempts submitted), ``notified`` (notifications sent).
        Running servers do it every :data:`wf_widgets.server.sweeper.DUE_EVERY_S` seconds, and
        every sweep does it, so a retry or a redelivery outlives the process that planned it.
        """
        return {"retried": resume_due(self), "notified": _notify.deliver_due(self)}

    def sweep_catalog_objects(self) -> int:
        """On an object store (not ``file://``): delete catalog objects no image record names, older than
        :data:`~wf_widgets._files.TEMP_GRACE_S` (uploads killed between their PUT and their record); returns how many.

        Lists the catalog's objects first: the catalog's records are read only when an old object exists.
        """
        if self.storage.is_local:
            return 0
        cutoff = self.settings.time() - TEMP_GRACE_S
        old = [info.key for info in self.storage.list("catalog/files") if info.modified < cutoff]
        if not old:
            return 0
        store = self.catalog
        named = {f"catalog/{item['href']}" for product in store.list_products()
                 for image in store.list_images(product["id"]) for item in image.get("files") or ()}
        orphans = [key for key in old if key not in named]
        self.storage.delete_many(orphans)
        return len(orphans)

    def blob_refs(self) -> set[str]:
        """Keys of the blob files live rows use: jobs not ended or ended within the retention
        (result not deleted), and map layers. One query per store."""
        kept_since = self.settings.time() - self.settings.retention_days * 86400.0
        refs = self.jobs.blob_refs(kept_since)
        if "layers" in self._parts or LayerStore.exists(self.settings):
            refs |= self.layers.blob_refs()
        return refs

    def sweep_blobs(self) -> int:
        """Delete blob files no live row uses (sparing young ones, see :data:`wf_widgets.blobs.GRACE_S`)."""
        blobs = self.jobs.blobs
        if not blobs.any():
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
        self._users.clear()

    def __repr__(self) -> str:
        return f"Backend(home={str(self.settings.home)!r}, user={self.settings.user!r})"


class _UserBackend(Backend):
    """A Backend acting for another user (:meth:`Backend.as_user`): every part is its parent's but the catalog."""

    def __init__(self, parent: Backend, settings: Settings):
        super().__init__(settings, parent._executor, sweep=False)
        self._parent = parent

    def _part(self, name: str, factory: Any) -> Any:
        if name != "catalog":
            return getattr(self._parent, name)
        return super()._part(name, lambda: self._parent.catalog.as_user(self.settings))

    def as_user(self, user: str | None, email: str | None = None) -> Backend:
        return self._parent.as_user(user, email)

    def close(self) -> None:
        """Nothing of its own to close: the parts are its parent's."""
        self._parts.clear()


_workers_lock = threading.Lock()


def get_backend() -> Backend:
    """The current Backend, built from the environment at first use."""
    return _context.current()


def set_backend(backend: Backend | None) -> Backend | None:
    """Install ``backend`` as the current one (None resets); returns the previous one."""
    return _context.set_current(backend)


def _default_backend() -> Backend:
    return Backend()


#: Prefixes of the environment variables a worker's Backend depends on (its settings, the S3 credentials).
WORKER_ENV_PREFIXES = ("WF_WIDGETS_", "AWS_")
_workers: dict[tuple, Backend] = {}


def worker_backend() -> Backend:
    """The Backend of a worker process (Dask, a process pool), built from its own environment.

    ``Settings.from_env()``: ``WF_WIDGETS_DATABASE_URL``, ``WF_WIDGETS_STORAGE_URL``,
    ``WF_WIDGETS_HOME`` (its own folder; with both URLs set nothing shared lives there), the
    SMTP settings and so on, with the AWS variables for an ``s3://`` store. Built once per
    process and environment (a worker whose environment changes gets a new one; a forked
    process builds its own); it does not sweep.
    """
    key = (os.getpid(), *sorted((k, v) for k, v in os.environ.items() if k.startswith(WORKER_ENV_PREFIXES)))
    backend = _workers.get(key)
    if backend is None:
        with _workers_lock:
            backend = _workers.get(key)
            if backend is None:
                backend = _workers[key] = Backend(Settings.from_env(), sweep=False)
    return backend


_context.set_factory(_default_backend, worker_backend)
