"""The storage destination: the encoded result written as one object (``s3://``, ``az://``) or file (``file://``).

``destination={"type": "storage", "url": "s3://bucket/exports/{job_id}.{ext}"}``; the URL's
syntax and templates are checked by ``normalize`` (:mod:`wf_widgets.outputs.storage_url`).
What depends on the environment is checked here, before a job exists (:meth:`StorageHandler.preflight`):

* a URL under the deployment's own storage (``WF_WIDGETS_STORAGE_URL``, default
  ``file://<home>``) is refused: results, catalog rasters and graph blobs live there, and
  an export must never overwrite one of them;
* ``file://`` writes only under a folder of ``WF_WIDGETS_STORAGE_ROOTS`` (none by default,
  so ``file://`` is off until allowed); the folder the template leads to is resolved
  (symbolic links followed) before the check, and again when the job writes;
* the bucket (or folder) must be reachable and writable: a small probe object
  (``<folder of the template>.wf-widgets-probe-<random>``) is written and deleted. The error
  names the URL and what failed.

Credentials come from the standard environment of each cloud, read in the process that writes
(the worker): for ``s3://`` the AWS variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN``, ``AWS_REGION``, ``AWS_ENDPOINT_URL``, ...), as for the deployment's own
``s3://`` storage (:class:`wf_widgets.storage.S3Storage`); for ``az://`` the ``AZURE_*`` ones
obstore reads (``AZURE_STORAGE_ACCOUNT_NAME`` with ``AZURE_STORAGE_ACCOUNT_KEY``,
``AZURE_STORAGE_SAS_TOKEN`` or a service principal; ``AZURE_STORAGE_USE_EMULATOR`` for Azurite).

Writes are atomic: on S3 one PUT, or for results over :data:`~wf_widgets.storage.PART_SIZE`
one multipart upload streamed part by part that completes only at its end; on Azure one Put
Blob, or blocks committed by one block list at the end; on files a
hidden temporary file in the same folder renamed into place (mode 0600). A failed write
leaves no partial object. An existing object of the same name is replaced (a job run again
writes the same key). The row records the object's URL and size (``result_ref``:
``{"url", "size"}``; ``result_size``); ``compute()`` returns the URL. No link and no expiry:
the object is the user's, in the user's storage.
"""

from __future__ import annotations

import datetime as _dt
import os
import secrets
import threading
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import obstore
from obstore.store import AzureStore, S3Store

from .._context import BackendLike
from ..config import Settings
from ..errors import JobDestination, ResultMissing, ValidationError
from ..outputs import FORMATS
from ..outputs import storage_url as urls
from ..outputs.codecs import encode
from ..storage import AWS_VARIABLES, PART_SIZE, FileStorage, S3Storage, check_key, parse_url

#: The name of preflight's probe objects, after the template's folder.
PROBE_PREFIX = ".wf-widgets-probe-"

_s3_stores: dict[tuple, S3Storage] = {}
_s3_lock = threading.Lock()


def s3_store(bucket: str) -> S3Storage:
    """An :class:`S3Storage` of ``bucket`` (no prefix) with the current AWS variables; one per bucket and variables."""
    key = (bucket, tuple((n, os.environ.get(n)) for n in AWS_VARIABLES))
    store = _s3_stores.get(key)
    if store is None:
        with _s3_lock:
            store = _s3_stores.get(key)
            if store is None:
                store = _s3_stores[key] = S3Storage(bucket, "")
    return store


#: How long preflight's probe may take: it runs while a person waits (the form probes as they type).
PROBE_RETRY = {"max_retries": 2, "retry_timeout": _dt.timedelta(seconds=10)}
PROBE_CLIENT = {"timeout": "10s", "connect_timeout": "5s"}
_probe_stores: dict[tuple, S3Store] = {}


def probe_store(bucket: str) -> S3Store:
    """The store preflight probes ``bucket`` with: :func:`s3_store`'s configuration, few retries and short timeouts.

    An unreachable endpoint fails in seconds (the writes of jobs keep obstore's patient defaults).
    """
    base = s3_store(bucket)
    key = (bucket, tuple(sorted(base.aws.items())))
    store = _probe_stores.get(key)
    if store is None:
        with _s3_lock:
            store = _probe_stores.get(key)
            if store is None:
                config = {k: v for k, v in base._store.config.items() if k != "bucket"}
                client = {**(base._store.client_options or {}), **PROBE_CLIENT}
                store = _probe_stores[key] = S3Store(bucket, config=config, client_options=client,
                                                     retry_config=PROBE_RETRY)
    return store


def _azure_env() -> tuple:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(("AZURE_", "AZURITE_"))))


_az_stores: dict[tuple, AzureStore] = {}


def az_store(container: str, probe: bool = False) -> AzureStore:
    """An obstore ``AzureStore`` of ``container``, configured from the ``AZURE_*`` variables (account, key
    or SAS token or service principal, ``AZURE_STORAGE_USE_EMULATOR``); one per container and variables.

    ``probe``: with preflight's few retries and short timeouts.
    """
    key = (container, probe, _azure_env())
    store = _az_stores.get(key)
    if store is None:
        with _s3_lock:
            store = _az_stores.get(key)
            if store is None:
                extra = {"client_options": PROBE_CLIENT, "retry_config": PROBE_RETRY} if probe else {}
                store = _az_stores[key] = AzureStore(container, **extra)
    return store


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _refuse(url: str, message: str) -> ValidationError:
    return ValidationError(f"destination.url {url!r}: {message}", field="destination.url", value=url)


def own_storage_problem(target: urls.StorageURL, settings: Settings, key: str | None = None) -> str | None:
    """Why ``target`` (its folder, or the rendered ``key``) is under the deployment's own storage, or None."""
    scheme, bucket, prefix = parse_url(settings.storage)
    if scheme != target.scheme:
        return None
    where = key if key is not None else target.static
    if scheme == "s3":
        if bucket != target.bucket or (prefix and not (where + "/").startswith(prefix + "/")):
            return None
    elif not _within(_resolved(Path(where if key is None else Path(where).parent)), Path(prefix).resolve()):
        return None
    return (f"it is under this deployment's own storage ({settings.storage}, WF_WIDGETS_STORAGE_URL), where "
            "results, catalog rasters and graph blobs live; choose another bucket, prefix or folder")


def _resolved(folder: Path) -> Path:
    """``folder`` with its longest existing ancestor resolved (links followed), and the rest as written."""
    missing: list[str] = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe.name)
        probe = probe.parent
    return probe.resolve().joinpath(*reversed(missing))


def file_place(target: urls.StorageURL, settings: Settings, path: str | None = None) -> tuple[Path, Path]:
    """``(root, folder)``: the folder of the file target (or of ``path``), resolved, and the root of
    ``WF_WIDGETS_STORAGE_ROOTS`` it is under.

    Raises
    ------
    ValidationError
        Naming the URL, the roots and the setting, when it is under none.
    """
    url = f"file://{target.template}"
    roots = settings.storage_root_paths
    if not roots:
        raise _refuse(url, "file:// is off: no folder is allowed. Set WF_WIDGETS_STORAGE_ROOTS to the folders "
                           "exports may be written under (absolute paths separated by ':')")
    folder = _resolved(Path(path).parent if path is not None else Path(target.static or "/"))
    for root in roots:
        if _within(folder, root):
            return root, folder
    raise _refuse(url, f"{folder} is not under a folder of WF_WIDGETS_STORAGE_ROOTS "
                       f"({', '.join(map(str, roots))}); file:// writes only there")


def _file_key(root: Path, folder: Path, name: str) -> str:
    return check_key(str((folder / name).relative_to(root)))


def check_writable(target: urls.StorageURL, settings: Settings) -> None:
    """Write and delete a small probe object where ``target`` writes; raise naming the URL if that fails."""
    url = target.url(target.template)
    name = f"{PROBE_PREFIX}{secrets.token_hex(8)}"
    if target.scheme in ("s3", "az"):
        key = target.static + name
        try:
            store = probe_store(target.bucket) if target.scheme == "s3" else az_store(target.bucket, probe=True)
            obstore.put(store, key, b"wf_widgets probe")
            obstore.delete(store, key)
        except Exception as exc:  # obstore's errors (no bucket, refused credentials, no network) name no class of ours
            if target.scheme == "s3":
                what, check = "bucket", ("the bucket exists and the AWS credentials and endpoint (AWS_ACCESS_KEY_ID, "
                                         "AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL) allow writing to it")
            else:
                what, check = "container", ("the container exists and the Azure account and credentials "
                                            "(AZURE_STORAGE_ACCOUNT_NAME, AZURE_STORAGE_ACCOUNT_KEY or "
                                            "AZURE_STORAGE_SAS_TOKEN) allow writing to it")
            raise _refuse(url, f"the {what} {target.scheme}://{target.bucket} is not reachable or not writable "
                               f"({type(exc).__name__}: {_short(exc)}). Check {check}") from None
        return
    root, folder = file_place(target, settings)
    try:
        store = FileStorage(root)
        key = _file_key(root, folder, name)
        store.put(key, b"wf_widgets probe")
        store.delete(key)
    except OSError as exc:
        raise _refuse(url, f"the folder {folder} is not writable ({exc.strerror or exc})") from None


def _short(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _parts(data: bytes) -> Iterator[memoryview]:
    view = memoryview(data)
    for i in range(0, len(view), PART_SIZE):
        yield view[i:i + PART_SIZE]


def write(target: urls.StorageURL, settings: Settings, key: str, data: bytes) -> str:
    """Write ``data`` as the object ``key`` of ``target`` (the rendered template), atomically; returns its URL.

    Raises
    ------
    ValidationError
        The rendered key is under the deployment's own storage, or (``file://``) its folder
        resolves outside ``WF_WIDGETS_STORAGE_ROOTS`` (a link made since preflight).
    """
    problem = own_storage_problem(target, settings, key)
    if problem is not None:
        raise _refuse(target.url(key), problem)
    if target.scheme == "s3":
        store = s3_store(target.bucket)
        if len(data) > PART_SIZE:
            store.put_stream(key, _parts(data))  # one multipart upload, completed at its end
        else:
            store.put(key, data)
        return target.url(key)
    if target.scheme == "az":
        store = az_store(target.bucket)
        if len(data) > PART_SIZE:  # blocks, committed by one block list at the end
            obstore.put(store, key, _parts(data), chunk_size=PART_SIZE)
        else:  # one Put Blob
            obstore.put(store, key, memoryview(data))
        return target.url(key)
    root, folder = file_place(target, settings, key)
    FileStorage(root).put_stream(_file_key(root, folder, Path(key).name), _parts(data))  # temp file renamed into place
    return target.url(str(folder / Path(key).name))


def read_object(backend: BackendLike, url: str) -> bytes:
    """The bytes of the object at ``url`` (a URL the storage destination wrote), read back.

    Raises
    ------
    ResultMissing
        The object is gone (deleted or moved since), naming the URL.
    """
    parts = urlsplit(url)  # as written: no fields (literal braces are its own), not percent-encoded
    key = parts.path if parts.scheme == "file" else parts.path.lstrip("/")
    target = urls.StorageURL(parts.scheme, parts.netloc, key.replace("{", "{{").replace("}", "}}"))
    try:
        if target.scheme == "s3":
            return s3_store(target.bucket).get(key)
        if target.scheme == "az":
            return bytes(obstore.get(az_store(target.bucket), key).bytes())
        root, folder = file_place(target, backend.settings, key)
        return FileStorage(root).get(_file_key(root, folder, Path(key).name))
    except FileNotFoundError:
        raise ResultMissing(f"The object {url} that the job wrote is gone (deleted or moved since). "
                            "Compute the result again.") from None


class StorageHandler:
    """The storage destination (see :class:`~wf_widgets.delivery.handler.DestinationHandler` and the module doc)."""

    link_in_worker = False
    discardable = False  # an object was written into the user's storage

    def preflight(self, destination: dict, format: dict, value: object | None, backend: BackendLike) -> None:
        """Refuse the deployment's own storage and file:// outside WF_WIDGETS_STORAGE_ROOTS; probe that it is writable."""
        url = destination["url"]
        target = urls.parse(url)
        problem = own_storage_problem(target, backend.settings)
        if problem is not None:
            raise _refuse(url, problem)
        check_writable(target, backend.settings)

    def recheck(self, destination: dict, format: dict, backend: BackendLike) -> None:
        """Nothing cheap can change: the probe ran at preflight, and the job reports a failed write."""

    def deliver(self, backend: BackendLike, job: dict, value: object) -> dict:
        """Encode the result and write it where the URL says; returns ``result_ref`` (url, size) and ``result_size``."""
        fmt = job["format"]
        data = encode(fmt["type"], value, {k: v for k, v in fmt.items() if k != "type"})
        target = urls.parse(job["destination"]["url"])
        key = urls.render(target, job_id=job["id"], tile_key=job.get("label"),
                          date=backend.settings.now().strftime("%Y-%m-%d"), ext=FORMATS[fmt["type"]].extension)
        try:
            url = write(target, backend.settings, key, data)
        except ValidationError as exc:
            raise JobDestination(f"Could not write the result: {exc}") from exc
        except Exception as exc:
            raise JobDestination(f"Could not write the result to {target.url(key)}: {type(exc).__name__}: "
                                 f"{_short(exc)}") from exc
        return {"result_ref": {"url": url, "size": len(data)}, "result_size": len(data),
                "result_mimetype": FORMATS[fmt["type"]].mimetype}

    def result(self, backend: BackendLike, job: dict) -> object:
        """The object's URL."""
        return (job.get("result_ref") or {})["url"]
