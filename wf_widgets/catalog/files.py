"""Where catalog raster files live, and how they are replaced atomically.

An image's file is ``<home>/catalog/files/<product id>/<image name>.tif``. Both parts are
escaped (every character outside ``A-Z a-z 0-9 _ . - :`` becomes ``%XX``, as does a leading
dot), so a name can never leave its product's folder nor collide with another name, and
the result is checked to lie inside the files folder.

An upload writes a hidden temporary file next to the final one first (the slow part,
outside any lock); then, inside the database transaction that stores the record,
:func:`swap_in` moves it into place and registers how to undo that if the transaction
rolls back, and how to drop the replaced file once it commits.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from .._files import create_private, private_dir, temp_name

if TYPE_CHECKING:  # pragma: no cover
    from .store import _Transaction

SUFFIX = ".tif"
_SAFE = "_.-:"


def _component(text: str) -> str:
    escaped = quote(text, safe=_SAFE)
    return "%2E" + escaped[1:] if escaped.startswith(".") else escaped


def product_folder(product_id: str) -> str:
    """The folder of a product's files, relative to the catalog folder (``files/<product>``)."""
    return f"files/{_component(product_id)}"


def image_href(product_id: str, name: str) -> str:
    """The file of an image, relative to the catalog folder (``files/<product>/<name>.tif``)."""
    return f"{product_folder(product_id)}/{_component(name)}{SUFFIX}"


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
