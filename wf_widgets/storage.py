"""The object store: where everything that outlives a process lives (results, catalog COGs, graph blobs).

One seam, two implementations, chosen by ``Settings.storage_url`` (``WF_WIDGETS_STORAGE_URL``):

* ``file://<folder>`` (the default: ``file://<home>``): :class:`FileStorage`, plain files under
  the folder, with today's layout (``results/<job id>.<ext>``, ``catalog/files/<product>/<name>.tif``,
  ``blobs/<sha256>``) and today's guarantees: folders 0700 and files 0600 (:mod:`~wf_widgets._files`),
  writes invisible until complete (an unnamed ``O_TMPFILE`` file linked to its name, else a
  hidden temporary name linked or renamed into place), and real paths for GDAL and the server.
* ``s3://<bucket>/<prefix>``: :class:`S3Storage`, the objects of an S3-compatible store,
  through `obstore <https://developmentseed.org/obstore/>`_ (``S3Store``). Credentials,
  region and endpoint come from the standard AWS variables (``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION``/``AWS_DEFAULT_REGION``,
  ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_S3``), read once when the store is made, so any
  S3-compatible server works (MinIO, Ceph, moto, ...); an ``http://`` endpoint is allowed.
  A PUT (or a multipart upload, for big objects) is atomic: readers see the whole object or
  none. GDAL reads objects in place through ``/vsis3/<bucket>/<key>`` with range requests
  (:meth:`S3Storage.gdal_path`, :meth:`S3Storage.gdal_options`: the same endpoint, region and
  credentials as GDAL configuration options, for the ``rasterio.Env`` the reads run in).

Why not obstore's ``LocalStore`` for ``file://``: it creates files with the process umask
(0644 where the home's files must be 0600), leaves its temporary files under names our sweep
does not know when a writer is killed, and a local path is what GDAL and the download
server's fast path want anyway; :class:`FileStorage` keeps the behaviour the home folder had.

Keys are ``/``-separated paths relative to the store's root (no leading ``/``, no ``.`` or
``..`` parts, no empty parts). A missing object raises ``FileNotFoundError``, an object that
exists when ``overwrite=False`` ``FileExistsError``, on both.

:func:`open_storage` returns the store of a Settings, one instance per URL and AWS
configuration in a process (they hold connection pools).
"""

from __future__ import annotations

import datetime as _dt
import errno
import hashlib
import os
import threading
from pathlib import Path
from typing import AsyncIterator, BinaryIO, Iterable, Iterator, Mapping, NamedTuple
from urllib.parse import unquote, urlsplit

import obstore
from obstore.exceptions import AlreadyExistsError
from obstore.store import S3Store

from ._files import FILE_MODE, create_private, private_dir, temp_name
from .config import Settings

#: Bytes read or written at a time when streaming.
CHUNK_SIZE = 1 << 20
#: Parts of a multipart upload (S3 allows 5 MiB at least, but the last).
PART_SIZE = 8 << 20
#: Most bytes of one PUT (S3's limit); bigger objects are multipart uploads.
SINGLE_PUT_MAX = 5 << 30
#: The AWS variables an :class:`S3Storage` reads (and hands to GDAL as configuration options).
AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
                 "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_VIRTUAL_HOSTING",
                 "AWS_NO_SIGN_REQUEST", "AWS_SKIP_SIGNATURE")
#: ``O_TMPFILE`` where the platform has it (Linux).
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
# What open(O_TMPFILE) fails with where the file system can't make unnamed files, and what
# linkat through /proc fails with without a /proc.
#: Flags of :meth:`FileStorage.put_new`'s create.
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_NO_TMPFILE = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT, errno.EXDEV, errno.EPERM, errno.EACCES)


class ObjectInfo(NamedTuple):
    """What :meth:`head`, :meth:`put` and :meth:`list` tell of an object.

    Attributes
    ----------
    key : str
    size : int
        Bytes.
    etag : str
        Changes whenever the object is replaced or written to: the store's ETag on S3; on
        files, device, inode, size, modification and change times.
    modified : float
        Last modification, Unix seconds.
    """

    key: str
    size: int
    etag: str
    modified: float


def check_key(key: str) -> str:
    """``key`` if it is a relative ``/``-separated path without empty, ``.`` or ``..`` parts.

    Raises
    ------
    ValueError
        For anything else (nothing from a request may name an object outside the store).
    """
    if not isinstance(key, str) or not key or key.startswith("/") or "\\" in key or "\0" in key:
        raise ValueError(f"Not an object key: {key!r}")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"Not an object key: {key!r}")
    return key


def _file_etag(st: os.stat_result) -> str:
    return f"{st.st_dev:x}-{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}-{st.st_ctime_ns:x}"


class FileStorage:
    """Objects as private files under a folder (``file://``); see the module docstring.

    Parameters
    ----------
    root : Path
        The folder (made, 0700, with the first object written).
    """

    is_local = True

    def __init__(self, root: Path):
        self.root = Path(root)
        self.url = self.root.as_uri()
        self._tmpfile = bool(_O_TMPFILE)
        self._root_text = str(self.root)

    def __repr__(self) -> str:
        return f"FileStorage({str(self.root)!r})"

    # -- names ---------------------------------------------------------------------------
    def local_path(self, key: str) -> Path:
        """The file of ``key``."""
        return self.root / check_key(key)

    def location(self, key: str = "") -> str:
        """Where ``key`` (or the store) is, for a person: a path."""
        return str(self.root / check_key(key)) if key else str(self.root)

    def gdal_path(self, key: str) -> str:
        """What GDAL opens to read ``key``: its path."""
        return str(self.local_path(key))

    def gdal_options(self) -> dict[str, str]:
        """GDAL configuration options reads of this store need: none."""
        return {}

    # -- writing -----------------------------------------------------------------------------
    def put(self, key: str, data: bytes | bytearray | memoryview, *, overwrite: bool = True) -> ObjectInfo:
        """Write ``data`` as ``key``, atomically (readers see all of it or nothing); mode 0600.

        Raises
        ------
        FileExistsError
            ``overwrite`` is False and ``key`` exists (it is left as it was).
        """
        path = self.local_path(key)
        private_dir(path.parent)
        st = self._link_unnamed(path, data, overwrite) if self._tmpfile else None
        if st is None:
            st = self._link_named(path, [data], overwrite)
        return ObjectInfo(key, st.st_size, _file_etag(st), st.st_mtime)

    def put_new(self, key: str, data: bytes | bytearray | memoryview) -> ObjectInfo:
        """Create ``key`` holding ``data``, for a key no reader knows of yet (mode 0600).

        For objects whose name only becomes known once the caller records it (a job's
        result, named in its row after this returns): the file is created in place
        (``O_CREAT | O_EXCL``), without :meth:`put`'s temporary or unnamed file and link,
        one create instead of two steps (measured: about half the kernel time per small
        file here). A write that fails removes the file; a process killed while writing
        leaves a partial file under ``key``, which no row records (the owner's sweep
        deletes such files). Never replaces an existing object.

        Raises
        ------
        FileExistsError
            ``key`` exists (it is left as it was).
        """
        path = f"{self._root_text}/{check_key(key)}"
        try:
            fd = os.open(path, _NEW_FILE, FILE_MODE)
        except FileNotFoundError:  # the folder's first object
            private_dir(os.path.dirname(path))
            fd = os.open(path, _NEW_FILE, FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            st = os.fstat(fd)
        except BaseException:
            os.close(fd)
            os.unlink(path)
            raise
        os.close(fd)
        return ObjectInfo(key, st.st_size, _file_etag(st), st.st_mtime)

    def put_stream(self, key: str, chunks: Iterable[bytes], *, overwrite: bool = True) -> ObjectInfo:
        """Write the concatenated ``chunks`` as ``key``, atomically, without holding them all in memory."""
        path = self.local_path(key)
        private_dir(path.parent)
        st = self._link_named(path, chunks, overwrite)
        return ObjectInfo(key, st.st_size, _file_etag(st), st.st_mtime)

    def put_file(self, key: str, source: Path) -> ObjectInfo:
        """Move the local file ``source`` (same file system) into place as ``key``, replacing any."""
        path = self.local_path(key)
        private_dir(path.parent)
        os.replace(source, path)
        st = path.stat()
        return ObjectInfo(key, st.st_size, _file_etag(st), st.st_mtime)

    def _link_unnamed(self, path: Path, data: bytes | bytearray | memoryview, overwrite: bool) -> os.stat_result | None:
        """Write ``data`` to an unnamed file in the folder, then link it as ``path``; its stat, or None where unsupported."""
        if overwrite:  # linkat can't replace: the named route renames over the old file
            return None
        try:
            fd = os.open(path.parent, _O_TMPFILE | os.O_WRONLY, FILE_MODE)
        except OSError as exc:
            if exc.errno not in _NO_TMPFILE:
                raise
            self._tmpfile = False
            return None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            try:
                # linkat(AT_SYMLINK_FOLLOW) of the /proc link; a dir fd makes os.link call linkat
                # (it is ignored for an absolute path). Never replaces an existing file.
                os.link(f"/proc/self/fd/{fd}", path, src_dir_fd=fd, follow_symlinks=True)
            except FileExistsError:
                raise
            except OSError as exc:
                if exc.errno not in _NO_TMPFILE:
                    raise
                self._tmpfile = False
                return None
            return os.fstat(fd)
        finally:
            os.close(fd)

    def _link_named(self, path: Path, chunks: Iterable[bytes], overwrite: bool) -> os.stat_result:
        """Write ``chunks`` to a hidden temporary name next to ``path``, then link (or rename) it into place."""
        tmp = temp_name(path)
        try:
            with create_private(tmp) as f:
                for chunk in chunks:
                    f.write(chunk)
            if overwrite:
                os.replace(tmp, path)
            else:
                os.link(tmp, path)  # never replaces an existing file
            return path.stat()
        finally:
            tmp.unlink(missing_ok=True)

    # -- reading -------------------------------------------------------------------------
    def head(self, key: str) -> ObjectInfo:
        """Size, etag and modification time of ``key`` (a stat)."""
        st = os.stat(f"{self._root_text}/{check_key(key)}")  # (a str: no Path built per call)
        return ObjectInfo(key, st.st_size, _file_etag(st), st.st_mtime)

    def exists(self, key: str) -> bool:
        return self.local_path(key).is_file()

    def open(self, key: str) -> BinaryIO:
        """``key`` opened for binary reading."""
        return open(self.local_path(key), "rb")

    def get(self, key: str) -> bytes:
        """The bytes of ``key``."""
        with self.open(key) as f:
            return f.read()

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of ``key`` (fewer where it ends first)."""
        with self.open(key) as f:
            f.seek(start)
            return f.read(max(0, end - start))

    def iter_chunks(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The bytes of ``key`` in chunks (for checksums of big objects)."""
        with self.open(key) as f:
            yield from iter(lambda: f.read(chunk_size), b"")

    # -- deleting and listing ------------------------------------------------------------------
    def delete(self, key: str) -> None:
        """Delete ``key`` if it exists."""
        self.local_path(key).unlink(missing_ok=True)

    def delete_many(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.delete(key)

    def keys(self, prefix: str) -> list[str]:
        """Keys of the objects in the folder ``prefix`` and below (hidden temporaries too).

        Raises
        ------
        NotADirectoryError
            ``prefix`` is a file.
        """
        return [info.key for info in self._walk(prefix, stat=False)]

    def list(self, prefix: str) -> list[ObjectInfo]:
        """:class:`ObjectInfo` of the objects in the folder ``prefix`` and below (hidden temporaries too)."""
        return list(self._walk(prefix, stat=True))

    def _walk(self, prefix: str, stat: bool) -> Iterator[ObjectInfo]:
        prefix = check_key(prefix.rstrip("/"))
        stack = [(self.root / prefix, prefix)]
        top = True
        while stack:
            folder, rel = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except FileNotFoundError:  # never made (or removed meanwhile): nothing in it
                continue
            except NotADirectoryError:
                if top:  # a file where the folder should be: the caller must hear of it
                    raise
                continue
            top = False
            for entry in entries:
                key = f"{rel}/{entry.name}"
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((Path(entry.path), key))
                    elif entry.is_file(follow_symlinks=False):
                        if stat:
                            st = entry.stat(follow_symlinks=False)
                            yield ObjectInfo(key, st.st_size, _file_etag(st), st.st_mtime)
                        else:
                            yield ObjectInfo(key, -1, "", 0.0)
                except FileNotFoundError:  # removed meanwhile
                    continue

    # -- serving ---------------------------------------------------------------------------
    async def stream(self, key: str, start: int, end: int, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """Bytes ``[start, end)`` of ``key`` in chunks (see :class:`Served` for the server's own fast path)."""
        with self.open(key) as f:
            for chunk in file_chunks(f, start, end, chunk_size):
                yield chunk


def file_chunks(f: BinaryIO, start: int, end: int, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Bytes ``[start, end)`` of the open file ``f``, ``chunk_size`` at a time (fewer if the file is shorter)."""
    f.seek(start)
    remaining = end - start
    while remaining > 0:
        chunk = f.read(min(chunk_size, remaining))
        if not chunk:
            return
        remaining -= len(chunk)
        yield chunk


def _endpoint(env: Mapping[str, str]) -> str | None:
    return env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


class S3Storage:
    """Objects of an S3-compatible store (``s3://bucket/prefix``); see the module docstring.

    Parameters
    ----------
    bucket : str
    prefix : str
        Key prefix inside the bucket ('' for none), without leading or trailing ``/``.
    environ : mapping, optional
        Where the AWS variables are read (default ``os.environ``), once.
    """

    is_local = False

    def __init__(self, bucket: str, prefix: str = "", environ: Mapping[str, str] | None = None):
        env = os.environ if environ is None else environ
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        self.aws = {name: env[name] for name in AWS_VARIABLES if env.get(name)}
        endpoint = _endpoint(self.aws)
        config: dict[str, object] = {}
        region = self.aws.get("AWS_REGION") or self.aws.get("AWS_DEFAULT_REGION")
        if region:
            config["region"] = region
        if endpoint:
            config["endpoint"] = endpoint.rstrip("/")
        if _truthy(self.aws.get("AWS_VIRTUAL_HOSTING")):
            config["virtual_hosted_style_request"] = True
        if _truthy(self.aws.get("AWS_NO_SIGN_REQUEST")) or _truthy(self.aws.get("AWS_SKIP_SIGNATURE")):
            config["skip_signature"] = True
        for name, option in (("AWS_ACCESS_KEY_ID", "access_key_id"), ("AWS_SECRET_ACCESS_KEY", "secret_access_key"),
                             ("AWS_SESSION_TOKEN", "session_token")):
            if name in self.aws:
                config[option] = self.aws[name]
        client = {"allow_http": True} if endpoint and endpoint.lower().startswith("http://") else None
        self._store = S3Store(bucket, prefix=self.prefix or None, client_options=client, **config)

    def __repr__(self) -> str:
        return f"S3Storage({self.url!r})"

    # -- names ---------------------------------------------------------------------------
    def local_path(self, key: str) -> None:
        """None: objects have no local path."""
        check_key(key)
        return None

    def location(self, key: str = "") -> str:
        """Where ``key`` (or the store) is, for a person: an ``s3://`` URL."""
        return f"{self.url}/{check_key(key)}" if key else self.url

    def _full(self, key: str) -> str:
        return f"{self.prefix}/{check_key(key)}" if self.prefix else check_key(key)

    def gdal_path(self, key: str) -> str:
        """What GDAL opens to read ``key`` in place: ``/vsis3/<bucket>/<prefix>/<key>``."""
        return f"/vsis3/{self.bucket}/{self._full(key)}"

    def gdal_options(self) -> dict[str, str]:
        """GDAL configuration options for ``/vsis3/`` reads with this store's endpoint, region and credentials."""
        options = {"CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif", "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES"}
        endpoint = _endpoint(self.aws)
        if endpoint:
            parts = urlsplit(endpoint)
            options["AWS_S3_ENDPOINT"] = parts.netloc + parts.path.rstrip("/")
            options["AWS_HTTPS"] = "NO" if parts.scheme.lower() == "http" else "YES"
            options["AWS_VIRTUAL_HOSTING"] = "TRUE" if _truthy(self.aws.get("AWS_VIRTUAL_HOSTING")) else "FALSE"
        region = self.aws.get("AWS_REGION") or self.aws.get("AWS_DEFAULT_REGION")
        if region:
            options["AWS_REGION"] = region
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            if name in self.aws:
                options[name] = self.aws[name]
        if _truthy(self.aws.get("AWS_NO_SIGN_REQUEST")) or _truthy(self.aws.get("AWS_SKIP_SIGNATURE")):
            options["AWS_NO_SIGN_REQUEST"] = "YES"
        return options

    @staticmethod
    def _info(key: str, meta: Mapping) -> ObjectInfo:
        modified = meta.get("last_modified")
        when = modified.timestamp() if isinstance(modified, _dt.datetime) else 0.0
        return ObjectInfo(key, int(meta["size"]), meta.get("e_tag") or "", when)

    # -- writing -----------------------------------------------------------------------------
    def put(self, key: str, data: bytes | bytearray | memoryview, *, overwrite: bool = True) -> ObjectInfo:
        """Write ``data`` as ``key`` in one PUT (or, over :data:`PART_SIZE`, one multipart upload): atomic.

        Raises
        ------
        FileExistsError
            ``overwrite`` is False and ``key`` exists (a conditional PUT, ``If-None-Match: *``; over
            :data:`SINGLE_PUT_MAX` bytes, a HEAD first, then a multipart upload).
        """
        check_key(key)
        if not overwrite and len(data) > SINGLE_PUT_MAX:  # too big for one (conditional) PUT
            view = memoryview(data)
            return self.put_stream(key, (view[i:i + PART_SIZE] for i in range(0, len(view), PART_SIZE)),
                                   overwrite=False)
        try:
            if overwrite:
                obstore.put(self._store, key, memoryview(data), chunk_size=PART_SIZE)
            else:
                obstore.put(self._store, key, memoryview(data), mode="create")
        except AlreadyExistsError:
            raise FileExistsError(errno.EEXIST, "Object exists", self.location(key)) from None
        return self.head(key)

    def put_new(self, key: str, data: bytes | bytearray | memoryview) -> ObjectInfo:
        """Create ``key`` holding ``data`` (:meth:`put` with ``overwrite=False``: a PUT is atomic anyway).

        Raises
        ------
        FileExistsError
            ``key`` exists.
        """
        return self.put(key, data, overwrite=False)

    def put_stream(self, key: str, chunks: Iterable[bytes], *, overwrite: bool = True) -> ObjectInfo:
        """Upload the concatenated ``chunks`` as ``key`` (a multipart upload: atomic, streamed).

        ``overwrite=False`` checks first that ``key`` does not exist (S3 has no conditional
        multipart upload everywhere).
        """
        check_key(key)
        if not overwrite and self.exists(key):
            raise FileExistsError(errno.EEXIST, "Object exists", self.location(key))
        obstore.put(self._store, key, iter(chunks), chunk_size=PART_SIZE)
        return self.head(key)

    def put_file(self, key: str, source: Path) -> ObjectInfo:
        """Upload the local file ``source`` as ``key`` (streamed from disk; replaces any), then delete it."""
        check_key(key)
        obstore.put(self._store, key, Path(source), chunk_size=PART_SIZE)
        Path(source).unlink(missing_ok=True)
        return self.head(key)

    # -- reading -------------------------------------------------------------------------
    def head(self, key: str) -> ObjectInfo:
        """Size, ETag and modification time of ``key`` (a HEAD request)."""
        return self._info(key, obstore.head(self._store, check_key(key)))

    async def head_async(self, key: str) -> ObjectInfo:
        return self._info(key, await obstore.head_async(self._store, check_key(key)))

    def exists(self, key: str) -> bool:
        try:
            self.head(key)
        except FileNotFoundError:
            return False
        return True

    def get(self, key: str) -> bytes:
        """The bytes of ``key`` (one GET)."""
        return bytes(obstore.get(self._store, check_key(key)).bytes())

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of ``key`` (one ranged GET; fewer where it ends first)."""
        if end <= start:
            return b""
        return bytes(obstore.get_range(self._store, check_key(key), start=start, end=end))

    def iter_chunks(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The bytes of ``key`` in chunks, streamed from one GET."""
        for chunk in obstore.get(self._store, check_key(key)).stream(min_chunk_size=chunk_size):
            yield bytes(chunk)

    async def stream(self, key: str, start: int, end: int, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """Bytes ``[start, end)`` of ``key`` in chunks, from one ranged GET (asyncio)."""
        if end <= start:
            return
        result = await obstore.get_async(self._store, check_key(key), options={"range": (start, end)})
        async for chunk in result.stream(min_chunk_size=chunk_size):
            yield bytes(chunk)

    # -- deleting and listing ------------------------------------------------------------------
    def delete(self, key: str) -> None:
        """Delete ``key`` (deleting a missing object is no error)."""
        try:
            obstore.delete(self._store, check_key(key))
        except FileNotFoundError:
            pass

    def delete_many(self, keys: Iterable[str]) -> None:
        """Delete ``keys`` (batched: up to 1000 per request)."""
        keys = [check_key(k) for k in keys]
        for i in range(0, len(keys), 1000):
            try:
                obstore.delete(self._store, keys[i:i + 1000])
            except FileNotFoundError:
                pass

    def keys(self, prefix: str) -> list[str]:
        """Keys of the objects under ``prefix/``."""
        return [info.key for info in self.list(prefix)]

    def list(self, prefix: str) -> list[ObjectInfo]:
        """:class:`ObjectInfo` of the objects under ``prefix/`` (paged by the store, 1000 at a time)."""
        prefix = check_key(prefix.rstrip("/")) + "/"
        out = []
        for batch in obstore.list(self._store, prefix):
            out.extend(self._info(meta["path"], meta) for meta in batch)
        return out


Storage = FileStorage | S3Storage


def parse_url(url: str) -> tuple[str, str, str]:
    """``(scheme, bucket or '', folder or prefix)`` of a storage URL that :class:`Settings` checked."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return "file", "", unquote(parts.path)
    return parts.scheme, parts.netloc, unquote(parts.path).strip("/")


_stores: dict[tuple, Storage] = {}
_stores_lock = threading.Lock()


def open_storage(settings: Settings, environ: Mapping[str, str] | None = None) -> Storage:
    """The object store of ``settings`` (``settings.storage``), one per URL and AWS configuration in a process."""
    env = os.environ if environ is None else environ
    url = settings.storage
    scheme, bucket, path = parse_url(url)
    key = (url,) if scheme == "file" else (url, tuple((n, env.get(n)) for n in AWS_VARIABLES))
    store = _stores.get(key)
    if store is None:
        with _stores_lock:
            store = _stores.get(key)
            if store is None:
                store = FileStorage(Path(path)) if scheme == "file" else S3Storage(bucket, path, env)
                _stores[key] = store
    return store


def sha256_of(chunks: Iterable[bytes]) -> str:
    """The SHA-256 (hex) of the concatenated ``chunks``."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


__all__ = ["AWS_VARIABLES", "CHUNK_SIZE", "FileStorage", "ObjectInfo", "S3Storage", "Storage", "check_key",
           "open_storage", "parse_url", "sha256_of"]
