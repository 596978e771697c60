"""The catalog as one user reads it: products, bands and images, with the user's read checks.

:class:`CatalogReads` answers what the static band rules ask
(:class:`wf_widgets.values.imagery_rules.Lookup`: a product's band names, an image's
product) and what reading rasters needs first (a readable product's bands, an image's row).
The store hands one out (:meth:`~wf_widgets.catalog.store.CatalogStore.reads`) and answers
the two lookups itself as its settings' user; the engine's
:class:`~wf_widgets.engine.reading.CatalogReader` adds the scenes.

Errors: an unknown product is :class:`~wf_widgets.errors.NotFound` listing the product ids
the user may read (never the others); a product the user may not read is
:class:`~wf_widgets.errors.PermissionDenied`.
"""

from __future__ import annotations

import dataclasses

from .._context import CatalogStoreLike
from ..config import Settings
from ..errors import NotFound, ValidationError
from ..values.imagery_rules import pick_names
from . import access

#: Band fields copied into a result's ``bandinfo``.
BANDINFO_FIELDS = ("id", "name", "type", "data_type", "nodata", "data_range", "display_range", "resolution",
                   "band_index", "description")


def is_alpha_row(row: dict) -> bool:
    """Whether a band's store row is an alpha band (a MaskBand with ``is_alpha``)."""
    return row.get("type") == "mask" and bool((row.get("attrs") or {}).get("is_alpha"))


def range_scaling(row: dict, to_data: bool = False) -> tuple[float, float] | None:
    """``(scale, offset)`` mapping a band row's data_range onto its physical_range.

    Reading imagery applies it (``physical = data * scale + offset``); with ``to_data`` it is
    the inverse (the catalog destination's ``rescale``). None when the band has no
    physical_range or a range is empty.
    """
    physical = (row.get("attrs") or {}).get("physical_range")
    data = row.get("data_range")
    if physical is None or data is None:
        return None
    src, dst = (physical, data) if to_data else (data, physical)
    if src[1] == src[0]:
        return None
    scale = (dst[1] - dst[0]) / (src[1] - src[0])
    return scale, dst[0] - src[0] * scale


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who reads the catalog: what the access checks of :mod:`wf_widgets.catalog.access` look at."""

    user: str
    email: str | None = None

    @classmethod
    def of(cls, settings: Settings) -> "Identity":
        """The identity of ``settings`` (its ``user`` and ``email``), without the rest of them."""
        return cls(settings.user, settings.email)


@dataclasses.dataclass(frozen=True)
class ProductMeta:
    """A readable product: its data bands in order and its alpha band.

    Attributes
    ----------
    id : str
    bands : list of dict
        Store rows of the data bands (every band except the alpha band), by band_index.
    alpha : dict or None
        Store row of the alpha band (a MaskBand with ``is_alpha``).
    file_index : dict
        Band name -> 1-based band number in the product's files (files hold every band,
        alpha included, in band_index order).
    """

    id: str
    bands: list
    alpha: dict | None
    file_index: dict

    @property
    def band_names(self) -> list[str]:
        return [b["name"] for b in self.bands]

    def band(self, name: str) -> dict:
        for b in self.bands:
            if b["name"] == name:
                return b
        pick_names(self.band_names, [name])  # raises the standard "unknown band" error
        raise AssertionError(name)  # pragma: no cover

    def bandinfo(self, name: str) -> dict:
        """JSON-able band information for a result's ``bandinfo``."""
        row = self.band(name)
        info = {k: row.get(k) for k in BANDINFO_FIELDS}
        info.update(row.get("attrs") or {})
        for key in ("data_range", "display_range", "physical_range"):
            if info.get(key) is not None:
                info[key] = list(info[key])
        return info

    def scaling(self, name: str) -> tuple[float, float] | None:
        """``(scale, offset)`` from data_range to physical_range, or None."""
        return range_scaling(self.band(name))


class CatalogReads:
    """Reads of one catalog as one user, with the user's read checks; products are cached.

    Parameters
    ----------
    store : CatalogStoreLike
        The catalog store read.
    identity : Identity
        The user whose read rights are checked.
    """

    def __init__(self, store: CatalogStoreLike, identity: Identity):
        self.store = store
        self.identity = identity
        self._products: dict[str, ProductMeta] = {}

    def product(self, product_id: str) -> ProductMeta:
        """The product ``product_id`` if the user may read it.

        Raises
        ------
        NotFound
            Unknown id; the message lists the product ids the user may read.
        PermissionDenied
            The product exists but the user may not read it.
        ValidationError
            The product has no band to read.
        """
        meta = self._products.get(product_id)
        if meta is not None:
            return meta
        row = self.store.get_product(product_id) if isinstance(product_id, str) else None
        if row is None:
            readable = [p["id"] for p in self.store.list_products() if access.has_right(self.identity, p, "read")]
            raise NotFound(
                f"Unknown product id {product_id!r}; products you may read: "
                f"{', '.join(map(repr, readable)) or '(none)'}",
                field="product_id", value=product_id, allowed=readable,
            )
        access.require(self.identity, row, "read", "read")
        rows = self.store.list_bands(product_id)
        alpha = next((b for b in rows if is_alpha_row(b)), None)
        bands = [b for b in rows if b is not alpha]
        if not bands:
            raise ValidationError(f"Product {product_id!r} has no bands to read; add bands to it first",
                                  field="product_id", value=product_id)
        meta = ProductMeta(product_id, bands, alpha, {b["name"]: i + 1 for i, b in enumerate(rows)})
        self._products[product_id] = meta
        return meta

    def product_bands(self, product_id: str) -> list[str]:
        """Names of the product's data bands (the alpha band is the mask), in band order."""
        return self.product(product_id).band_names

    def image_row(self, image_id: str) -> dict:
        """The store row of image ``image_id``, if its product is readable."""
        product_id = image_id.rsplit(":", 1)[0] if isinstance(image_id, str) and image_id.count(":") >= 2 else None
        if product_id is None:
            raise ValidationError(f"An image id is '<product id>:<name>', got {image_id!r}", field="image_id",
                                  value=image_id)
        self.product(product_id)
        row = self.store.get_image(image_id)
        if row is None:
            raise NotFound(f"Unknown image id {image_id!r} in product {product_id!r}", field="image_id",
                           value=image_id)
        return row

    def image_product(self, image_id: str) -> str:
        """The product id of image ``image_id``, if its product is readable."""
        return self.image_row(image_id)["product_id"]


__all__ = ["BANDINFO_FIELDS", "CatalogReads", "Identity", "ProductMeta", "is_alpha_row", "range_scaling"]
