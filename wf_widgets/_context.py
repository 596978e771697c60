"""The current backend, and the Protocols of what the lower layers need from it.

A leaf of the package: it imports only :mod:`~wf_widgets.config` and
:mod:`~wf_widgets.errors`. :mod:`wf_widgets.backend`, the composition root at the top,
registers itself as the factory (:func:`set_factory`) when it is imported (``import
wf_widgets`` does that); lower layers ask :func:`current` for the backend of a public call
made without one, and type what they receive with the Protocols below, never with the
Backend class (which they may not import).

Each Protocol lists what crosses a layer boundary, no more: a store's own module uses the
concrete class.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any, AsyncIterator, BinaryIO, Callable, Iterable, Iterator, Protocol

from .config import Settings
from .errors import NoBackendFactory

#: The stages of a job, in order; a job row's ``stage`` is one of them.
STAGES = ("QUEUED", "PREPARING", "RUNNING", "SAVING", "SUCCEEDED", "FAILED", "CANCELLED")
#: Stages of a job a worker is running.
ACTIVE = ("PREPARING", "RUNNING", "SAVING")
#: Stages a job ends in.
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


class JobStoreLike(Protocol):
    """The job store (:class:`wf_widgets.jobs.store.JobStore`): rows of jobs every process shares.

    Launching writes a row (``create``); a worker claims and runs it (``start``, ``progress``,
    ``finish``, ``heartbeat``); anyone reads (``get``, ``status``, ``list``, ``many``) and
    asks for cancellation; housekeeping reaps jobs whose worker died and finds expired or
    lost results. Rows are plain dicts (JSON columns decoded).
    """

    def create(self, job_id: str, *, kind: str, graph: dict, geoctx: dict | None, format: dict,
               destination: dict, label: str | None = None, claim: bool = False,
               link_base: str | None = None, link_note: str | None = None, notify: dict | None = None,
               retries: int = 0, defer: bool = False) -> dict: ...

    def write_held(self, job_ids: Iterable[str] | None = None) -> None: ...

    def holds(self, job_id: str) -> bool: ...

    def resolve(self, graph: dict) -> dict: ...

    def get(self, job_id: str, graph: bool = True) -> dict | None: ...

    def status(self, job_id: str) -> dict | None: ...

    def list(self, limit: int = 50, stages: Iterable[str] | None = None, owner: str | None = None) -> list[dict]: ...

    def many(self, job_ids: list[str]) -> dict[str, dict]: ...

    def find_ids(self, fragment: str, limit: int = 5) -> tuple[list[str], int]: ...

    def start(self, job_id: str) -> dict | None: ...

    def claim(self, job_id: str, started: float | None = None) -> dict | None: ...

    def progress(self, job_id: str, *, stage: str | None = None, steps_done: int | None = None,
                 steps_total: int | None = None) -> bool: ...

    def cancel_requested(self, job_id: str) -> bool: ...

    def finish(self, job_id: str, stage: str, *, error_code: str = "NONE", error_message: str | None = None,
               steps_done: int | None = None, steps_total: int | None = None, result_path: str | None = None,
               result_mimetype: str | None = None, result_size: int | None = None, result_ref: Any = None,
               expires: float | None = None, result_sha256: str | None = None, known: dict | None = None,
               unclaimed_started: float | None = None) -> dict | None: ...

    def heartbeat(self, job_ids: list[str]) -> None: ...

    def request_cancel(self, job_id: str) -> bool: ...

    def reap_stale(self, job_ids: Iterable[str] | None = None) -> int: ...

    def interrupt(self, job_id: str, message: str) -> bool: ...

    def requeue(self, job_id: str, error_code: str, error_message: str, retry_at: float, *, attempts: int,
                unclaimed_started: float | None = None) -> bool: ...

    def due_retries(self, now: float, limit: int = 100) -> list[str]: ...

    def claim_retry(self, job_id: str, now: float | None = None) -> bool: ...

    def due_notifications(self, now: float, limit: int = 100) -> list[str]: ...

    def claim_notification(self, job_id: str, now: float, lease_s: float) -> dict | None: ...

    def end_notification(self, job_id: str, state: str, *, next_at: float | None = None,
                         error: str | None = None) -> bool: ...

    def webhook_secret(self, owner: str, create: bool = True) -> str | None: ...

    def rotate_webhook_secret(self, owner: str) -> str: ...

    def expired(self, now: float) -> list[dict]: ...

    def live_results(self, now: float) -> list[dict]: ...

    def mark_deleted(self, job_id: str) -> None: ...

    def revoke_link(self, job_id: str) -> bool: ...

    def renew_link(self, job_id: str, expires: float) -> bool: ...

    def mark_result_lost(self, job_id: str, note: str) -> bool: ...

    def unowned_results(self, names: list[str]) -> list[str]: ...

    def close(self) -> None: ...


class ObjectStoreLike(Protocol):
    """The object store (:mod:`wf_widgets.storage`: files under a folder, or an S3 bucket).

    Keys are relative ``/``-separated paths; a missing object raises ``FileNotFoundError``.
    ``put`` is atomic from a reader's point of view (write, then publish the key in a row);
    ``local_path`` is the file of a key on ``file://`` stores and None on others;
    ``gdal_path`` and ``gdal_options`` are what GDAL opens a key with, in place.
    """

    url: str
    is_local: bool

    def put(self, key: str, data: bytes | bytearray | memoryview, *, overwrite: bool = True) -> Any: ...

    def put_new(self, key: str, data: bytes | bytearray | memoryview) -> Any: ...

    def put_stream(self, key: str, chunks: Iterable[bytes], *, overwrite: bool = True) -> Any: ...

    def put_file(self, key: str, source: Path) -> Any: ...

    def get(self, key: str) -> bytes: ...

    def get_range(self, key: str, start: int, end: int) -> bytes: ...

    def iter_chunks(self, key: str, chunk_size: int = ...) -> Iterator[bytes]: ...

    def stream(self, key: str, start: int, end: int, chunk_size: int = ...) -> AsyncIterator[bytes]: ...

    def head(self, key: str) -> Any: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def delete_many(self, keys: Iterable[str]) -> None: ...

    def keys(self, prefix: str) -> list[str]: ...

    def list(self, prefix: str) -> list[Any]: ...

    def local_path(self, key: str) -> Path | None: ...

    def location(self, key: str = "") -> str: ...

    def gdal_path(self, key: str) -> str: ...

    def gdal_options(self) -> dict[str, str]: ...


class ResultStoreLike(Protocol):
    """Stored download results (:class:`wf_widgets.delivery.results.ResultStore`)."""

    def store(self, job_id: str, extension: str, data: bytes) -> dict: ...

    def open(self, name: str) -> BinaryIO: ...

    def open_checked(self, jobs: JobStoreLike, row: dict) -> BinaryIO: ...

    async def serve(self, jobs: JobStoreLike, row: dict) -> Any: ...

    def read(self, jobs: JobStoreLike, row: dict) -> bytes: ...

    def delete(self, name: str | None) -> None: ...


class SignerLike(Protocol):
    """Signs and verifies links (:class:`wf_widgets.delivery.links.Signer`)."""

    def query(self, job_id: str, expires: float) -> str: ...

    def verify(self, job_id: str, expires: str | int, signature: str, kid: str | None = None) -> bool: ...


class CatalogStoreLike(Protocol):
    """The catalog store (:class:`wf_widgets.catalog.store.CatalogStore`): its settings say who reads.

    ``product_bands`` and ``image_product`` (as the settings' user, with the read checks) are
    the :class:`~wf_widgets.values.imagery_rules.Lookup` of graph building; the rows and the
    ``root`` of the raster files are what the engine reads (with its own checks).
    """

    settings: Settings
    root: Path

    def get_product(self, id: str) -> dict | None: ...

    def get_image(self, id: str) -> dict | None: ...

    def list_products(self) -> list[dict]: ...

    def list_bands(self, product_id: str) -> list[dict]: ...

    def list_images(self, product_id: str) -> list[dict]: ...

    def find_images(self, product_id: str, boxes: list[tuple[float, float, float, float]] | None = None,
                    start: datetime | None = None, end: datetime | None = None) -> list[dict]: ...

    def page_images(self, product_id: str, *, boxes: list[tuple[float, float, float, float]] | None = None,
                    start: datetime | None = None, end: datetime | None = None, names: list[str] | None = None,
                    after: str | None = None, limit: int = 100) -> list[dict]: ...

    def product_extent(self, product_id: str) -> dict: ...

    def product_bands(self, product_id: str) -> list[str]: ...

    def image_product(self, image_id: str) -> str: ...


class LayerStoreLike(Protocol):
    """Map layers the tile server renders (:class:`wf_widgets.layers.LayerStore`)."""

    def put(self, graph: dict, options: dict, name: str | None = None, layer_id: str | None = None) -> dict: ...

    def get(self, layer_id: str) -> dict | None: ...

    def version(self, layer_id: str) -> int | None: ...

    def delete(self, *layer_ids: str) -> None: ...

    def record_error(self, layer_id: str, version: int, z: int | None, x: int | None, y: int | None,
                     message: str | BaseException) -> None: ...

    def errors(self, layer_ids: list[str], after: int = 0) -> list[dict]: ...


class RunnerLike(Protocol):
    """Runs jobs (:class:`wf_widgets.jobs.runner.Runner`)."""

    @property
    def runs_here(self) -> bool: ...

    def run_here(self, row: dict, timeout: float | None = None,
                 on_progress: Callable[[str, int, int], None] | None = None, node: Any = None) -> dict: ...

    def submit(self, job_id: str, row: dict | None = None, node: Any = None) -> Any: ...

    def close(self) -> None: ...


class BackendLike(Protocol):
    """What every layer may use of a :class:`wf_widgets.backend.Backend`.

    Attributes
    ----------
    settings : Settings
    jobs, results, signer, catalog, layers, runner, storage
        The parts, each built at its first use.
    """

    settings: Settings

    @property
    def jobs(self) -> JobStoreLike: ...

    @property
    def results(self) -> ResultStoreLike: ...

    @property
    def signer(self) -> SignerLike: ...

    @property
    def catalog(self) -> CatalogStoreLike: ...

    @property
    def layers(self) -> LayerStoreLike: ...

    @property
    def runner(self) -> RunnerLike: ...

    @property
    def storage(self) -> ObjectStoreLike: ...

    def sweep(self, checksums: bool = True) -> dict[str, int]:
        """Housekeeping now: reap dead jobs, delete expired results, check stored ones; returns counts."""

    def ensure_swept(self) -> None:
        """Housekeeping once (the first launch of a process does it)."""

    def sweep_due(self) -> dict[str, int]:
        """Run the retries and send the notifications that are due now; returns counts."""

    def link_base(self) -> str:
        """The base URL of download links, resolved in this process (may start a server here)."""

    def link_note(self) -> str | None:
        """A note for links that work only while this process lives, else None (never starts a server)."""

    def as_user(self, user: str | None, email: str | None = None) -> "BackendLike":
        """This backend acting for ``user`` (a job's launcher): the same stores, the catalog with that user's rights."""


_factory: Callable[[], BackendLike] | None = None
_worker_factory: Callable[[], BackendLike] | None = None
_current: BackendLike | None = None
_lock = threading.Lock()


def set_factory(factory: Callable[[], BackendLike], worker_factory: Callable[[], BackendLike]) -> None:
    """Register what builds the default backend, and a worker process's backend from its environment
    (``wf_widgets.backend`` does, at import)."""
    global _factory, _worker_factory
    _factory, _worker_factory = factory, worker_factory


def worker_backend() -> BackendLike:
    """The backend of this worker process, built from its own environment (cached per process and environment)."""
    if _worker_factory is None:
        raise NoBackendFactory("No backend: import wf_widgets (its backend module registers the factory)")
    return _worker_factory()


def current() -> BackendLike:
    """The current backend: the one installed with :func:`set_current`, else built once by the factory.

    Raises
    ------
    NoBackendFactory
        When no factory is registered (``import wf_widgets`` registers one).
    """
    global _current
    backend = _current
    if backend is None:
        with _lock:
            if _current is None:
                if _factory is None:
                    raise NoBackendFactory("No backend: import wf_widgets (its backend module registers the factory)")
                _current = _factory()
            backend = _current
    return backend


def set_current(backend: BackendLike | None) -> BackendLike | None:
    """Install ``backend`` as the current one (None: the factory builds one at next use); returns the previous."""
    global _current
    with _lock:
        previous, _current = _current, backend
    return previous


def peek() -> BackendLike | None:
    """The current backend if one exists, without building one."""
    return _current
