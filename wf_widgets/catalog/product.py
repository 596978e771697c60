"""Catalog products."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from .._cards import image_card
from ..errors import NotFound, ValidationError
from . import access, files, imports, stac_import
from ._common import (
    MAX_PRODUCT_ID_BYTES,
    check_product_id,
    ctime,
    default_store,
    namespace_id,
    optional_str,
    to_datetime,
)
from ._object import CatalogObject, DeletedObjectError, ProductChild, ReadOnlyFieldError, deletes
from .attributes import Resolution, ResolutionUnit, TrackedDict, band_resolution, check_extra_properties, check_tags
from .bands import Band
from .image import Image
from .search import Search
from .store import CatalogStore

_KINDS = ("user", "email", "group", "org")


def _principals(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or ":" not in item or item.split(":", 1)[0] not in _KINDS:
            raise ValidationError(
                f"{field} entries must look like 'user:NAME', 'email:ADDRESS', 'group:NAME' or 'org:NAME', "
                f"got {item!r}",
                field=field, value=item,
            )
        if item not in out:
            out.append(item)
    return out


def _minutes(value: Any, field: str) -> float | None:
    """A number of minutes, as a float (the original coerced them)."""
    if value is None:
        return None
    try:
        minutes = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{field} must be a number of minutes, got {value!r}", field=field, value=value) from None
    if not minutes >= 0:
        raise ValidationError(f"{field} must be >= 0, got {value!r}", field=field, value=value)
    return minutes


class Product(CatalogObject):
    """A catalog product: a named set of bands and images, with access lists.

    Parameters
    ----------
    id : str
        ``"org:name"``: segments of letters, digits, ``_``, ``.``, ``-`` joined by ``:``. An
        id without an org (``"my_product"``) gets the current one on save
        (``WF_WIDGETS_ORG``, default the user name), as the original service did.
    name : str, optional
        Display name (default: the last segment of the id).
    description : str, optional
    owners, readers, writers : list of str, optional
        Principals (``"user:alice"``, ``"email:a@b.org"``, ``"group:public"``). Owners may
        change and delete the product, writers (and owners) add bands and images, readers
        (and writers and owners) read; ``"group:public"`` in readers lets anyone read.
    tags : list of str, optional
    start_datetime, end_datetime : datetime, date or ISO 8601 str, optional
        The time span of the product's data (stored as UTC).
    extra_properties : dict, optional
        Any JSON-able properties; changing an item marks the product modified.
    revisit_period_minutes_min, revisit_period_minutes_max : float, optional
        The shortest and longest time between observations of a place, in minutes.
    store : CatalogStore, optional
        Default: the current backend's catalog.

    Attributes
    ----------
    created, modified : datetime.datetime or None
        Set by the catalog (UTC).
    state : str
        ``"unsaved"``, ``"saved"`` or ``"modified"``.
    """

    _fields = ("id", "name", "description", "owners", "readers", "writers", "tags", "start_datetime", "end_datetime",
               "extra_properties", "revisit_period_minutes_min", "revisit_period_minutes_max")
    #: Fields stored in the "attrs" JSON column (schema version 3).
    _attrs = ("tags", "start_datetime", "end_datetime", "extra_properties", "revisit_period_minutes_min",
              "revisit_period_minutes_max")
    _defaults = {"owners": [], "readers": [], "writers": [], "extra_properties": {}}

    # -- field checks ---------------------------------------------------------------
    def _check_id(self, value: Any) -> str:
        if self._saved and value != self._values.get("id"):
            raise AttributeError("The id of a saved product cannot be changed")
        return check_product_id(value, "id", max_bytes=None if self._loading else MAX_PRODUCT_ID_BYTES,
                                org_optional=True)

    def _check_name(self, value: Any) -> str | None:
        return optional_str(value, "name")

    def _check_description(self, value: Any) -> str | None:
        return optional_str(value, "description")

    def _check_owners(self, value: Any) -> list[str]:
        return _principals(value, "owners")

    def _check_readers(self, value: Any) -> list[str]:
        return _principals(value, "readers")

    def _check_writers(self, value: Any) -> list[str]:
        return _principals(value, "writers")

    def _check_tags(self, value: Any) -> list[str] | None:
        return check_tags(value, self._changed("tags"))

    def _check_start_datetime(self, value: Any):
        return to_datetime(value, "start_datetime")

    def _check_end_datetime(self, value: Any):
        return to_datetime(value, "end_datetime")

    def _check_revisit_period_minutes_min(self, value: Any) -> float | None:
        return _minutes(value, "revisit_period_minutes_min")

    def _check_revisit_period_minutes_max(self, value: Any) -> float | None:
        return _minutes(value, "revisit_period_minutes_max")

    def _check_extra_properties(self, value: Any) -> TrackedDict:
        return self._tracked("extra_properties", check_extra_properties(value), check_extra_properties)

    # -- store rows ----------------------------------------------------------------------
    def _row(self) -> dict[str, Any]:
        row = {name: self._values[name] for name in self._fields if name not in self._attrs}
        row["attrs"] = {name: self._values[name] for name in self._attrs}
        return row

    def _stored_row(self, store: CatalogStore) -> dict[str, Any] | None:
        return store.get_product(self.id)

    def _apply_row(self, row: dict[str, Any], store: CatalogStore) -> None:
        super()._apply_row({**{k: v for k, v in row.items() if k != "attrs"}, **(row.get("attrs") or {})}, store)

    # -- derived from the bands ----------------------------------------------------------
    def _resolutions(self) -> tuple[Resolution | None, Resolution | None]:
        if not self._saved:
            return (None, None)
        found = [band_resolution(row.get("resolution")) for row in self._catalog().list_bands(self.id)]
        found = [r for r in found if r is not None]
        if not found:
            return (None, None)
        unit = ResolutionUnit.METERS if any(r.unit is ResolutionUnit.METERS for r in found) else ResolutionUnit.DEGREES
        same = sorted((r for r in found if r.unit is unit), key=lambda r: r.value)
        return same[0], same[-1]

    @property
    def resolution_min(self) -> Resolution | None:
        """The finest resolution of the product's saved bands (meters if any band has meters); read-only."""
        return self._resolutions()[0]

    @resolution_min.setter
    def resolution_min(self, value: Any) -> None:
        raise ReadOnlyFieldError("Product.resolution_min comes from the product's bands and cannot be set",
                                 field="resolution_min", value=value)

    @property
    def resolution_max(self) -> Resolution | None:
        """The coarsest resolution of the product's saved bands (meters if any band has meters); read-only."""
        return self._resolutions()[1]

    @resolution_max.setter
    def resolution_max(self, value: Any) -> None:
        raise ReadOnlyFieldError("Product.resolution_max comes from the product's bands and cannot be set",
                                 field="resolution_max", value=value)

    # -- ids -------------------------------------------------------------------------
    @classmethod
    def namespace_id(cls, id: str, *, store: CatalogStore | None = None) -> str:
        """``id`` with the current org if it has none: ``"foo"`` -> ``"<org>:foo"``.

        The org is the ``WF_WIDGETS_ORG`` setting, default the user name (``user:alice`` ->
        ``alice``); an id with a ``:`` is returned as is.
        """
        check_product_id(id, "id", org_optional=True)
        return namespace_id(id, (store or default_store()).settings)

    def named_id(self, name: str) -> str:
        """The id of this product's band or image ``name``: ``"<product id>:<name>"``."""
        return f"{self.id}:{name}"

    # -- loading ---------------------------------------------------------------------
    @classmethod
    def _load(cls, id: str, store: CatalogStore, right: str = "read", action: str = "read") -> "Product | None":
        id = namespace_id(check_product_id(id, "id", max_bytes=None, org_optional=True), store.settings)
        row = store.get_product(id)  # a lookup: any stored id
        if row is None:
            return None
        access.require(store.settings, row, right, action)
        return cls._from_row(row, store)

    @classmethod
    def get(cls, id: str, *, store: CatalogStore | None = None) -> "Product | None":
        """The saved product ``id``, or None if there is none.

        Raises
        ------
        PermissionDenied
            If the current user may not read it.
        """
        return cls._load(id, store or default_store())

    @classmethod
    def exists(cls, id: str, *, store: CatalogStore | None = None) -> bool:
        """Whether ``id`` (an org is added if it has none) names a product the current user may read."""
        store = store or default_store()
        row = store.get_product(namespace_id(check_product_id(id, "id", max_bytes=None, org_optional=True),
                                             store.settings))
        return row is not None and access.has_right(store.settings, row, "read")

    @classmethod
    def get_many(cls, ids: Any, ignore_missing: bool = False, *,
                 store: CatalogStore | None = None) -> list["Product"]:
        """The saved products of ``ids``, in their order.

        Raises
        ------
        NotFound
            If some id names nothing, unless ``ignore_missing``.
        PermissionDenied
            If the current user may not read one of them.
        """
        store = store or default_store()
        if isinstance(ids, str):
            raise ValidationError(f"ids must be a list of product ids, got the str {ids!r}", field="ids", value=ids)
        found, missing = [], []
        for id in ids:
            product = cls._load(id, store)
            if product is None:
                missing.append(id)
            else:
                found.append(product)
        if missing and not ignore_missing:
            raise NotFound(f"No product(s) {', '.join(map(repr, missing))}; pass ignore_missing=True to skip them",
                           field="ids", value=missing)
        return found

    @classmethod
    def get_or_create(cls, id: str, *, store: CatalogStore | None = None, **kwargs: Any) -> "Product":
        """The saved product ``id`` with ``kwargs`` applied, or a new unsaved one.

        As in the original client, nothing is saved: call :meth:`save`. ``state`` tells
        which case happened (``"saved"``, ``"modified"`` or ``"unsaved"``).
        """
        product = cls.get(id, store=store)
        if product is None:
            return cls(id=id, store=store, **kwargs)
        product._apply_changes(kwargs)
        return product

    @classmethod
    def search(cls, *, store: CatalogStore | None = None) -> Search:
        """A search of the products the current user may read (by id unless sorted).

        Iterate it, or narrow it first (see :mod:`wf_widgets.catalog.search`)::

            Product.search().filter(properties.tags == "sar").sort("created", ascending=False).limit(5)
        """
        return Search(cls, store)

    # -- importing -------------------------------------------------------------------
    @classmethod
    def import_files(
        cls,
        product_id: str,
        paths_or_glob: Any,
        *,
        acquired: Any = None,
        copy: bool = False,
        on_error: str = "continue",
        progress: bool = True,
        product_fields: Mapping[str, Any] | None = None,
        store: CatalogStore | None = None,
    ) -> imports.ImportSummary:
        """Import raster files (GeoTIFFs) as images of a product, made if it does not exist.

        One image per file, named after the file (without ``.tif``): running the import
        again finds the same images (unchanged ones are left alone). Details in
        :mod:`wf_widgets.catalog.imports` and docs/catalog.md.

        Parameters
        ----------
        product_id : str
        paths_or_glob : str, path or iterable of them
            Files, folders (their ``*.tif``/``*.tiff``), glob patterns (``"data/*.tif"``), and
            ``http(s)://`` or ``s3://`` URLs.
        acquired : None, "tag", str pattern, dict, callable or date
            None: the ``TIFFTAG_DATETIME`` tag when there is one; ``"tag"``: that tag, required;
            a file name pattern like ``"S1_{date:%Y%m%d}_*.tif"``; a dict of path, file name or
            image name -> date; a callable (path -> date); one date for all.
        copy : bool
            Rewrite every file as a COG in the catalog's storage. By default COGs are
            referenced in place (never deleted by the catalog) and other files rewritten.
        on_error : {"continue", "raise"}
            Whether a file that can't be imported stops the import (``"raise"``) or is
            reported in the summary while the others go on.
        progress : bool
            Draw a progress bar on stderr.
        product_fields : dict, optional
            Fields of the product when the import makes it (``name``, ``readers``, ...).
        store : CatalogStore, optional

        Returns
        -------
        ImportSummary
            Image ids added, updated, unchanged; files failed with their reasons.

        Raises
        ------
        ValidationError
            Bad arguments (before anything is imported), or with ``on_error="raise"`` the
            first file that fails (named in the message).
        """
        return imports.import_files(cls, product_id, paths_or_glob, acquired=acquired, copy=copy, on_error=on_error,
                                    progress=progress, product_fields=product_fields, store=store)

    @classmethod
    def from_stac(
        cls,
        source: Any,
        *,
        assets: Iterable[str] | None = None,
        product_id: str | None = None,
        on_error: str = "continue",
        progress: bool = True,
        product_fields: Mapping[str, Any] | None = None,
        store: CatalogStore | None = None,
    ) -> "Product":
        """A product whose images are the items of a STAC collection, their assets read in place.

        Bands come from the ``eo``/``raster`` extensions, footprints (the ``proj`` grid) and
        dates from the items; each image is made of one file per asset, which may differ in
        resolution. Running it again finds the same images (named after the item ids).
        Details in :mod:`wf_widgets.catalog.stac_import` and docs/catalog.md.

        Parameters
        ----------
        source : pystac object, pystac_client ItemSearch, dict, iterable, str or path
            A Catalog, Collection, Item or ItemCollection; a search; item dicts; or the path
            or URL of a static catalog, collection or item.
        assets : list of str, optional
            Asset keys to read (in band order). Default: every GeoTIFF data asset.
        product_id : str, optional
            Default ``stac:<collection id>``. Made if it does not exist, with the
            collection's title and description.
        on_error : {"continue", "raise"}
            Whether an item that can't be imported stops the import.
        progress : bool
            Draw a progress bar and the summary on stderr.
        product_fields : dict, optional
            Fields of the product when it is made (``readers``, ``name``, ...).
        store : CatalogStore, optional

        Returns
        -------
        Product
            Its :attr:`import_summary` tells what was added, updated, unchanged or failed.
        """
        product, summary = stac_import.from_stac(cls, source, assets=assets, product_id=product_id, on_error=on_error,
                                                 progress=progress, product_fields=product_fields, store=store)
        object.__setattr__(product, "_import_summary", summary)
        return product

    @property
    def import_summary(self) -> imports.ImportSummary | None:
        """What :meth:`from_stac` did when it returned this product (None otherwise)."""
        return self.__dict__.get("_import_summary")

    # -- writing ---------------------------------------------------------------------
    def save(self) -> "Product":
        """Store the product. A new product makes the current user one of its owners.

        Raises
        ------
        ValidationError
            If ``id`` is missing, or a new product's id is taken.
        PermissionDenied
            If an existing product is changed by someone who is not an owner.
        """
        if self.id is None:
            raise ValidationError("A product needs an id ('org:name') to be saved", field="id", value=None)
        self._check_not_deleted("be saved")
        store = self._catalog()
        user = store.settings.user
        if not self._saved:
            self._values["id"] = namespace_id(self.id, store.settings)
        row = self._row()
        if not row["name"]:
            row["name"] = self.id.rsplit(":", 1)[-1]
        with store.transaction():
            existing = store.get_product(self.id)
            if not self._saved:
                if existing is not None:
                    raise ValidationError(
                        f"Product {self.id!r} already exists; use Product.get({self.id!r}) to change it, or "
                        "Product.get_or_create(...) in code that may run again",
                        field="id", value=self.id,
                    )
                if user not in row["owners"]:
                    row["owners"] = [user] + row["owners"]
                stored = store.insert_product(row)
            else:
                if existing is None:
                    self._mark_deleted()
                    raise DeletedObjectError(f"Product {self.id!r} was deleted", field="id", value=self.id)
                access.require(store.settings, existing, "own", "change")
                stored = store.update_product(row)
        self._apply_row(stored, store)
        return self

    @deletes
    def delete(self, cascade: bool = False) -> None:
        """Delete the product (owners only).

        Parameters
        ----------
        cascade : bool
            Also delete its bands and images (with their files). Without it, a product
            that still has bands or images is not deleted.

        ``Product.delete(id, cascade=...)`` deletes the product ``id`` and returns whether
        there was one (the original client's class form).

        Raises
        ------
        UnsavedObjectError
            If this product was never saved (``Product.get`` the stored one first).
        DeletedObjectError
            If it was deleted (``state`` becomes ``"deleted"``).
        """
        self._require_saved("be deleted")
        store = self._catalog()
        with store.transaction() as txn:
            row = store.get_product(self.id)
            if row is None:
                self._mark_deleted()
                raise DeletedObjectError(f"Product {self.id!r} does not exist", field="id", value=self.id)
            access.require(store.settings, row, "own", "delete")
            counts = store.count_children(self.id)
            if not cascade and any(counts.values()):
                raise ValidationError(
                    f"Product {self.id!r} still has {counts['bands']} band(s) and {counts['images']} "
                    "image(s); delete them first or call delete(cascade=True)",
                    field="cascade", value=False,
                )
            image_files = files.ImageFiles.of(store.settings)
            for image in store.delete_product(self.id):
                for item in image.get("files") or ():
                    image_files.take_out(txn, item["href"])
            txn.on_commit.append(lambda: image_files.remove_product_folder(self.id))
        self._mark_deleted()

    # -- children --------------------------------------------------------------------
    def _require(self, right: str, action: str) -> tuple[CatalogStore, dict[str, Any]]:
        store = self._catalog()
        row = store.get_product(self.id)
        if row is None:
            raise NotFound(f"Product {self.id!r} does not exist (save it first)", field="product_id", value=self.id)
        access.require(store.settings, row, right, action)
        return store, row

    def bands(self) -> list[Band]:
        """The product's bands, by band_index."""
        store, _ = self._require("read", "list the bands of")
        return [Band._from_row(row, store) for row in store.list_bands(self.id)]

    def images(self) -> list[Image]:
        """The product's images, by name."""
        store, _ = self._require("read", "list the images of")
        return [Image._from_row(row, store) for row in store.list_images(self.id)]

    def get_band(self, name: str) -> Band | None:
        """The product's band ``name``, or None."""
        return Band.get(self.named_id(name), store=self._store)

    def get_image(self, name: str) -> Image | None:
        """The product's image ``name``, or None."""
        return Image.get(self.named_id(name), store=self._store)

    # -- display ---------------------------------------------------------------------
    def __repr__(self) -> str:
        lines = [f"Product: {self.name or (self.id or '').rsplit(':', 1)[-1]}", f"  id: {self.id}"]
        if self.created is not None:
            lines.append(f"  created: {ctime(self.created)}")
        return "\n".join(lines + self._status_line())

    def _repr_html_(self) -> str:
        rows = [("id", self.id), ("name", self.name or ""), ("description", self.description or ""),
                ("owners", ", ".join(self.owners)), ("writers", ", ".join(self.writers)),
                ("readers", ", ".join(self.readers)), ("created", ctime(self.created))]
        return image_card(f"Product: {self.name or self.id}", rows)


ProductChild._get_product = Product.get
