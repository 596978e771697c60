"""Where catalog raster files live, and how they are replaced atomically.

An image's file is ``<home>/catalog/files/<product id>/<image name>.tif``. Both parts are
escaped (every character outside ``A-Z a-z 0-9 _ . - : ~`` becomes ``%XX``, as does a leading
dot), so a name can never leave its product's folder nor collide with another name, and
the result is checked to lie inside the files folder.

Names are *mapped* to file names that always fit, rather than limited to what fits: escaping
makes a name up to three times longer (``é`` is ``%C3%A9``), and file names hold at most
:data:`NAME_MAX` bytes. A part whose escaped form is longer than its budget
(:data:`MAX_FOLDER` for the product folder; :data:`MAX_STEM` for an image, which leaves room
for the suffix and the hidden temporary and backup names made next to it) becomes the start
of its escaped form, ``+`` and 32 hex digits of the SHA-256 of the name. ``+`` never appears
in an escaped name, so a shortened name can't collide with one that fits; names that fit keep
the file names earlier versions gave them. (Names themselves are limited too, to
``MAX_NAME_BYTES`` and ``MAX_PRODUCT_ID_BYTES`` of :mod:`~wf_widgets.catalog._common`, when an
object is created; stored rows keep the file name recorded in their ``files``.)

The files live in the object store (:mod:`wf_widgets.storage`) under the key
``catalog/<href>``: on the default ``file://<home>`` store that is the path above.

An upload to a ``file://`` store writes a hidden temporary file next to the final one first
(the slow part, outside any lock); then, inside the database transaction that stores the
record, :func:`swap_in` moves it into place and registers how to undo that if the
transaction rolls back, and how to drop the replaced file once it commits.

An object store has no rename: an upload there writes the COG to a local temporary file,
uploads it (one PUT or a multipart upload, atomic for readers) under a key of its own
(:func:`unique_href`: the name, then 32 hex digits), and only then stores the record that
names it. A rollback deletes the new object; a commit deletes the objects of the record it
replaced. Readers never see a half-written file, and an image being replaced stays readable
until its new record commits. GDAL reads the objects in place (:meth:`ImageFiles.gdal_path`).

Files referenced in place
-------------------------
An image may also name files the catalog does not own (:meth:`wf_widgets.catalog.Image.reference`,
``Product.import_files``, ``Product.from_stac``): an href that does not start with ``files/``
is an absolute local path, an ``http(s)://`` URL (read through GDAL's ``/vsicurl/``) or an
``s3://`` URL (``/vsis3/``). The catalog reads them where they are and never deletes them:
:meth:`ImageFiles.take_out` leaves them alone, and the sweep only lists the catalog's own folder.
An image's ``files`` entry may also carry ``"bands"``, the product band names the file holds
in its order (an image made of one file per band); without it the file holds every band.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from .._context import ObjectStoreLike
from .._files import create_private, private_dir, temp_name
from ..config import Settings
from ..storage import check_key, open_storage

if TYPE_CHECKING:  # pragma: no cover
    from .store import _Transaction

SUFFIX = ".tif"
_SAFE = "_.-:"
#: Longest file name (bytes) on common file systems (ext4, XFS, APFS, NTFS in UTF-16 units).
NAME_MAX = 255
#: What :func:`temp_path` and :func:`_set_aside` add to an image file's name (``.`` + name + ``.`` +
#: 32 hex digits + ``.tmp``/``.old``).
_HIDDEN_EXTRA = 1 + 1 + 32 + 4
#: Longest escaped image name in a file name (the suffix and the hidden names fit beside it).
MAX_STEM = NAME_MAX - len(SUFFIX) - _HIDDEN_EXTRA
#: Longest escaped product id in a folder name.
MAX_FOLDER = NAME_MAX
_HASH_HEX = 32


def _component(text: str, budget: int) -> str:
    """``text`` escaped for one file-name part of at most ``budget`` characters (see the module doc)."""
    escaped = quote(text, safe=_SAFE)
    if escaped.startswith("."):
        escaped = "%2E" + escaped[1:]
    if len(escaped) <= budget:
        return escaped
    head = escaped[: budget - 1 - _HASH_HEX]
    cut = head.rfind("%", len(head) - 2)
    if cut != -1:  # don't end inside a %XX
        head = head[:cut]
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_HEX]
    return f"{head}+{digest}"


def product_folder(product_id: str) -> str:
    """The folder of a product's files, relative to the catalog folder (``files/<product>``)."""
    return f"files/{_component(product_id, MAX_FOLDER)}"


def image_href(product_id: str, name: str) -> str:
    """The file of an image, relative to the catalog folder (``files/<product>/<name>.tif``)."""
    return f"{product_folder(product_id)}/{_component(name, MAX_STEM)}{SUFFIX}"


def remove_folder(root: Path, href: str) -> None:
    """Remove an empty folder under the files folder (a folder still holding files is kept)."""
    try:
        resolve(root, href).rmdir()
    except OSError:
        pass


def resolve(root: Path, href: str) -> Path:
    """Absolute path of ``href`` under the catalog folder ``root``; refuses anything outside."""
    files_root = (root / "files").resolve()
    path = (root / href).resolve()
    if files_root not in path.parents:
        raise ValueError(f"catalog file {href!r} is outside {files_root}")
    return path


def temp_path(final: Path) -> Path:
    """A unique hidden file next to ``final`` (same folder, so a rename is atomic), created empty, mode 0600.

    Writers (GDAL) write into the existing file, which keeps its mode. A writer killed
    before :func:`swap_in` leaves it behind; the sweep (``Backend.sweep``) deletes it once it
    is older than :data:`~wf_widgets._files.TEMP_GRACE_S`.
    """
    private_dir(final.parent)
    temp = temp_name(final)
    create_private(temp).close()
    return temp


def fsync(path: Path) -> None:
    """Flush a written file to disk, so a rename never exposes a half-written file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove(path: Path | None) -> None:
    """Delete a file if it exists."""
    if path is not None:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def swap_in(txn: "_Transaction", temp: Path, final: Path) -> None:
    """Move ``temp`` to ``final`` now; undo on rollback, drop the replaced file on commit."""
    _set_aside(txn, final)
    os.replace(temp, final)
    txn.on_rollback.append(lambda: remove(final))  # runs before the set-aside file comes back


def take_out(txn: "_Transaction", final: Path) -> None:
    """Remove ``final`` when the transaction commits; leave it in place on rollback."""
    _set_aside(txn, final)


def _set_aside(txn: "_Transaction", final: Path) -> Path | None:
    if not final.exists():
        return None
    backup = final.with_name(f".{final.name}.{uuid.uuid4().hex}.old")
    os.replace(final, backup)
    txn.on_rollback.append(lambda: os.replace(backup, final))
    txn.on_commit.append(lambda: remove(backup))
    return backup


#: The folder (key prefix) of the catalog in the object store: an image's key is ``catalog/<href>``.
FOLDER = "catalog"


def unique_href(product_id: str, name: str) -> str:
    """A new href for an image's file in an object store: :func:`image_href` with 32 random hex digits before the suffix."""
    return f"{image_href(product_id, name)[:-len(SUFFIX)]}.{uuid.uuid4().hex}{SUFFIX}"


#: Href prefixes of files read in place over the network, and what GDAL opens for them.
_REMOTE = {"http://": "/vsicurl/http://", "https://": "/vsicurl/https://", "s3://": "/vsis3/"}


def is_referenced(href: str) -> bool:
    """Whether ``href`` names a file referenced in place (not one of the catalog's own ``files/...``)."""
    return not href.startswith("files/")


def is_remote(href: str) -> bool:
    """Whether ``href`` is an ``http(s)://`` or ``s3://`` URL (or already a GDAL ``/vsi...`` path)."""
    return href.startswith(tuple(_REMOTE)) or href.startswith("/vsi")


def referenced_gdal_path(href: str) -> str:
    """What GDAL opens for a file referenced in place: the path, ``/vsicurl/<url>`` or ``/vsis3/<bucket>/<key>``."""
    for prefix, vsi in _REMOTE.items():
        if href.startswith(prefix):
            return vsi + href[len(prefix):]
    if href.startswith("file://"):
        return unquote(urlsplit(href).path)
    return href


class ImageFiles:
    """The raster files of a catalog in its object store: keys, GDAL paths, and how uploads publish them.

    Parameters
    ----------
    storage : ObjectStoreLike
    """

    def __init__(self, storage: ObjectStoreLike):
        self.storage = storage
        #: The catalog folder on a ``file://`` store (the hrefs are relative to it); None on others.
        self.root: Path | None = storage.local_path(FOLDER)

    @classmethod
    def of(cls, settings: Settings) -> "ImageFiles":
        """The files of the catalog of ``settings`` (in ``settings.storage``)."""
        return cls(open_storage(settings))

    @staticmethod
    def key(href: str) -> str:
        """The object key of ``href``; refuses anything but a file under ``files/``."""
        if not isinstance(href, str) or not href.startswith("files/"):
            raise ValueError(f"catalog file {href!r} is not under files/")
        try:
            return check_key(f"{FOLDER}/{href}")
        except ValueError:
            raise ValueError(f"catalog file {href!r} is not under files/") from None

    def path(self, href: str) -> Path | None:
        """The file of ``href`` on a ``file://`` store (checked to lie in the files folder); None on others.

        A local file referenced in place is its own path; a remote one None.
        """
        if is_referenced(href):
            return None if is_remote(href) else Path(referenced_gdal_path(href))
        return resolve(self.root, href) if self.root is not None else None

    def gdal_path(self, href: str) -> str:
        """What GDAL opens to read ``href`` in place (a path, ``/vsis3/...`` or ``/vsicurl/...``)."""
        if is_referenced(href):
            return referenced_gdal_path(href)
        path = self.path(href)
        return str(path) if path is not None else self.storage.gdal_path(self.key(href))

    def gdal_options(self) -> dict[str, str]:
        """GDAL configuration options the reads need (none on ``file://``)."""
        return self.storage.gdal_options()

    def exists(self, href: str) -> bool:
        """Whether the file of ``href`` exists (a remote file referenced in place is assumed to)."""
        if is_referenced(href) and is_remote(href):
            return True
        path = self.path(href)
        return path.exists() if path is not None else self.storage.exists(self.key(href))

    def take_out(self, txn: "_Transaction", href: str) -> None:
        """Delete the file of ``href`` when the transaction commits; leave it in place on rollback.

        A file referenced in place is not the catalog's: it is never deleted.
        """
        if is_referenced(href):
            return
        path = self.path(href)
        if path is not None:
            take_out(txn, path)
        else:
            key = self.key(href)
            txn.on_commit.append(lambda: self.storage.delete(key))

    def remove_product_folder(self, product_id: str) -> None:
        """Remove a product's empty folder (``file://``; objects have no folders)."""
        if self.root is not None:
            remove_folder(self.root, product_folder(product_id))
