"""A product as a static, self-contained STAC catalog on disk (``wf-widgets catalog export-stac``).

The folder it writes::

    DIR/collection.json            the product (a Collection: the root of the catalog)
    DIR/<item>/<item>.json         one Item per image (the documents of :mod:`wf_widgets.catalog.stac`)
    DIR/<item>/<item>.tif          its COG, hard-linked from the catalog's files when it can, else copied

Every ``href`` is relative (``./<item>/<item>.json``, ``../collection.json``, ``./<item>.tif``) and
there are no ``self`` links, so the folder can be moved, zipped or served as it is (STAC's
"self-contained" catalog). ``<item>`` is the image name escaped as the catalog's files escape
it (:mod:`wf_widgets.catalog.files`). A hard-linked file is the catalog's own file: the catalog
never writes into a stored file (a new upload replaces it with a new file), so the export keeps
the pixels it was made with. Files in an object store are downloaded.

After writing, :func:`check_export` reads the folder back: every document parses, every
``href`` is relative and names a file inside the folder, every item of the collection is
there; a failure is a :class:`~wf_widgets.errors.WfError`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Any

from .._context import CatalogStoreLike, ObjectStoreLike
from ..errors import ValidationError, WfError
from . import stac
from .files import ImageFiles, image_href
from .reads import CatalogReads, Identity

ROOT_FILE = "collection.json"


@dataclasses.dataclass
class ExportSummary:
    """What :func:`export_stac` wrote.

    Attributes
    ----------
    folder : Path
    items : int
        Items written.
    linked, copied : int
        COGs hard-linked, and copied or downloaded.
    bytes : int
        Size of the COGs.
    """

    folder: Path
    items: int = 0
    linked: int = 0
    copied: int = 0
    bytes: int = 0

    def __str__(self) -> str:
        return (f"exported {self.items} item(s) to {self.folder / ROOT_FILE} ({self.linked} COG(s) hard-linked, "
                f"{self.copied} copied, {self.bytes / 1e6:.1f} MB)")


def _write_json(path: Path, doc: dict) -> None:
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")


def _place(files: ImageFiles, href: str, target: Path, copy: bool) -> bool:
    """Put the file of ``href`` at ``target``; True if hard-linked."""
    source = files.path(href)
    if source is not None:
        if not copy:
            try:
                os.link(source, target)
                return True
            except OSError:  # another file system, or links not allowed: copy
                pass
        shutil.copyfile(source, target)
        return False
    storage: ObjectStoreLike = files.storage
    with open(target, "wb") as out:
        for chunk in storage.iter_chunks(files.key(href)):
            out.write(chunk)
    return False


def export_stac(store: CatalogStoreLike, storage: ObjectStoreLike, product_id: str, folder: str | os.PathLike,
                copy: bool = False) -> ExportSummary:
    """Write product ``product_id`` as a self-contained static STAC catalog in ``folder``.

    Parameters
    ----------
    store : CatalogStoreLike
        The catalog; its settings' user must be able to read the product.
    storage : ObjectStoreLike
        Where the catalog's files are.
    product_id : str
    folder : path
        A folder that does not exist yet, or an empty one.
    copy : bool
        Copy the COGs even where a hard link would do.

    Raises
    ------
    NotFound, PermissionDenied
        Unknown product (the message lists those you may read), or no read access.
    ValidationError
        ``folder`` exists and is not an empty folder; the product has no band.
    WfError
        The written folder does not read back (:func:`check_export`).
    """
    CatalogReads(store, Identity.of(store.settings)).product(product_id)  # NotFound (listing the readable ids), PermissionDenied
    product = store.get_product(product_id)
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValidationError(f"{folder} exists and is not an empty folder; export into a new or empty folder",
                              field="dir", value=str(folder), allowed=["a new or empty folder"])
    folder.mkdir(parents=True, exist_ok=True)
    bands = store.list_bands(product_id)
    files = ImageFiles(storage)
    summary = ExportSummary(folder)
    item_links = []
    after = None
    while True:
        rows = store.page_images(product_id, after=after, limit=500)
        for row in rows:
            stem = Path(image_href(product_id, row["name"])).name[:-len(".tif")]
            (folder / stem).mkdir()
            href = stac.asset_file(row)
            asset = None
            if href is not None:
                linked = _place(files, href, folder / stem / f"{stem}.tif", copy)
                summary.linked += linked
                summary.copied += not linked
                summary.bytes += (folder / stem / f"{stem}.tif").stat().st_size
                asset = f"./{stem}.tif"
            links = [{"rel": rel, "href": f"../{ROOT_FILE}", "type": "application/json"}
                     for rel in ("root", "parent", "collection")]
            _write_json(folder / stem / f"{stem}.json", stac.item(product, bands, row, asset, links))
            item_links.append({"rel": "item", "href": f"./{stem}/{stem}.json", "type": "application/geo+json",
                               "title": row["name"]})
            summary.items += 1
        if len(rows) < 500:
            break
        after = rows[-1]["name"]
    links = [{"rel": "root", "href": f"./{ROOT_FILE}", "type": "application/json"}, *item_links]
    _write_json(folder / ROOT_FILE, stac.collection(product, bands, store.product_extent(product_id), links))
    check_export(folder)
    return summary


def _hrefs(doc: dict) -> list[str]:
    return [link["href"] for link in doc.get("links", [])] + [a["href"] for a in doc.get("assets", {}).values()]


def check_export(folder: str | os.PathLike) -> int:
    """Read an exported catalog back; returns the number of items.

    Raises
    ------
    WfError
        A document that does not parse, an absolute ``href`` or one naming no file inside the
        folder, or an item the collection does not link to.
    """
    root = Path(folder).resolve()

    def load(path: Path) -> dict[str, Any]:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise WfError(f"The exported catalog {root} is broken: {path} does not read ({exc})") from None

    def target(base: Path, href: str) -> Path:
        if "://" in href or href.startswith("/"):
            raise WfError(f"The exported catalog {root} is not self-contained: {base} links to {href!r}")
        path = (base.parent / href).resolve()
        if root not in (path, *path.parents) or not path.is_file():
            raise WfError(f"The exported catalog {root} is broken: {base} links to {href!r}, which is not a file "
                          "inside it")
        return path

    collection_path = root / ROOT_FILE
    collection = load(collection_path)
    items = [target(collection_path, link["href"]) for link in collection.get("links", []) if link["rel"] == "item"]
    for href in _hrefs(collection):
        target(collection_path, href)
    for path in items:
        for href in _hrefs(load(path)):
            target(path, href)
    written = {p.resolve() for p in root.glob("*/*.json")}
    if written != set(items):
        raise WfError(f"The exported catalog {root} is broken: its collection does not link to every item")
    return len(items)


__all__ = ["ExportSummary", "ROOT_FILE", "check_export", "export_stac"]
