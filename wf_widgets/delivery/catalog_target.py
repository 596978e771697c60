"""The product an Image is uploaded to, and the catalog destination's requirements.

Each requirement of the spec is one function raising a
:class:`~wf_widgets.errors.ValidationError` (or
:class:`~wf_widgets.errors.PermissionDenied` for write access) whose message says what
failed and how to fix it. :func:`~wf_widgets.delivery.catalog.preflight` runs them before
a job exists; :func:`~wf_widgets.delivery.catalog.deliver` runs them again when the job
uploads (the product may have changed meanwhile) and turns a failure into a job failure
with code DESTINATION. :func:`check_upload` runs every requirement but the image's absence
(:func:`check_image_free`); the export form's product picker runs it for each product it
might offer, with :func:`check_data_type`, the one rule the form adds (see there).

Band matching (:func:`plan_bands`):

* An alpha band is generated when the product has exactly one alpha band (a MaskBand with
  ``is_alpha=True``) and the Image has one band fewer than the product and no band of the
  alpha band's name.
* The Image's bands are matched to the product's by name when the two sets of names are
  equal; otherwise (any name differs) they are taken in the order they come.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

from ..catalog import access
from ..catalog.bands import is_alpha_row
from ..catalog.datatypes import DataType
from ..errors import NotFound, ValidationError
from ..outputs.cog import check_compression

#: Field named by the errors about the product and its bands.
FIELD = "destination.image"


@dataclasses.dataclass(frozen=True)
class Target:
    """A saved product the current user may write, with its bands.

    Attributes
    ----------
    product_id : str
    bands : tuple of dict
        Store rows of every band (the alpha band included), in band_index order: the order
        of the bands in the uploaded file.
    alpha_index : int or None
        Position in ``bands`` of the product's only alpha band (None: no alpha band, or more
        than one).
    """

    product_id: str
    bands: tuple[dict, ...]
    alpha_index: int | None

    @property
    def names(self) -> list[str]:
        """Band names in file order."""
        return [b["name"] for b in self.bands]

    @property
    def data_type(self) -> DataType:
        """The data type every band shares (checked by :func:`load_target`)."""
        return DataType(self.bands[0]["data_type"])

    @property
    def alpha_name(self) -> str | None:
        return None if self.alpha_index is None else self.bands[self.alpha_index]["name"]


@dataclasses.dataclass(frozen=True)
class BandPlan:
    """Where each band of the file comes from.

    Attributes
    ----------
    sources : tuple of int or None
        For each product band (file order): the index of the Image band that fills it, or
        None for the alpha band generated from the mask.
    by_name : bool
        Whether bands were matched by name (else by position).
    """

    sources: tuple[int | None, ...]
    by_name: bool

    @property
    def generates_alpha(self) -> bool:
        return None in self.sources


def _listing(bands: Sequence[dict]) -> str:
    return ", ".join(f"{b['name']} {b['data_type']}" for b in bands)


def load_target(store: Any, product_id: str, image_name: str) -> Target:
    """The product ``product_id``, checked against every requirement that depends on it alone.

    Parameters
    ----------
    store : CatalogStore
        The catalog (its settings name the current user).
    product_id : str
    image_name : str
        For the messages.

    Returns
    -------
    Target

    Raises
    ------
    NotFound
        The product is not saved.
    PermissionDenied
        The user may not write to it.
    ValidationError
        It has no bands, its bands have several data types, or it has neither an alpha
        band nor a nodata value on every band.
    """
    product = store.get_product(product_id)
    if product is None:
        raise NotFound(
            f"Can't upload to product {product_id!r}: it does not exist (it must be saved in the catalog). "
            f"Create it with wf.catalog.Product(id={product_id!r}).save() and add bands matching the Image "
            "before uploading",
            field=f"{FIELD}.product_id", value=product_id,
        )
    access.require(store.settings, product, "write", f"upload image {image_name!r} to")
    bands = tuple(store.list_bands(product_id))
    if not bands:
        raise ValidationError(
            f"Product {product_id!r} has no bands; add one band per band of the Image (with the same names), e.g. "
            f"wf.catalog.GenericBand(name='vv', product_id={product_id!r}, data_type='UInt16', nodata=0).save()",
            field=FIELD, value=product_id,
        )
    types = {b["data_type"] for b in bands}
    if len(types) > 1:
        raise ValidationError(
            f"All bands of product {product_id!r} must have the same data type to upload an Image, but they have "
            f"{len(types)} ({_listing(bands)}); save every band (the alpha band too) with one data_type, "
            "e.g. all UInt16",
            field=FIELD, value=sorted(types),
        )
    alphas = [i for i, b in enumerate(bands) if is_alpha_row(b)]
    missing = [b["name"] for b in bands if b.get("nodata") is None]
    if not alphas and missing:
        raise ValidationError(
            f"Product {product_id!r} needs an alpha band (a MaskBand with is_alpha=True) or a nodata value on "
            f"every band, to store the Image's mask; band(s) without nodata: {', '.join(missing)}. Set nodata on "
            "them (preferable: band.nodata = 0; band.save()), or add "
            f"wf.catalog.MaskBand(name='alpha', is_alpha=True, product_id={product_id!r}, "
            f"data_type={bands[0]['data_type']!r}).save()",
            field=FIELD, value=missing,
        )
    return Target(product_id, bands, alphas[0] if len(alphas) == 1 else None)


def plan_bands(target: Target, names: Sequence[str]) -> BandPlan:
    """Match the Image's bands ``names`` to the product's bands.

    Raises
    ------
    ValidationError
        The band counts differ (allowing for a generated alpha band).
    """
    names = list(names)
    product = target.names
    alpha = target.alpha_name
    if alpha is not None and len(names) == len(product) - 1 and alpha not in names:
        wanted = [n for n in product if n != alpha]
        slots = [i for i, n in enumerate(product) if n != alpha]
    elif len(names) == len(product):
        wanted, slots = product, list(range(len(product)))
    else:
        raise ValidationError(_count_message(target, names), field=FIELD, value=len(names))
    by_name = sorted(wanted) == sorted(names)
    sources: list[int | None] = [None] * len(product)
    for k, slot in enumerate(slots):
        sources[slot] = names.index(product[slot]) if by_name else k
    return BandPlan(tuple(sources), by_name)


def _count_message(target: Target, names: Sequence[str]) -> str:
    product = target.names
    alpha = target.alpha_name
    need = f"{len(product)}" if alpha is None else f"{len(product)}, or {len(product) - 1} without {alpha!r}"
    if alpha is not None:
        why = f" (the alpha band {alpha!r} is generated from the Image's mask when the Image lacks it)"
    else:
        why = ""
    keep = [n for n in product if n != alpha] if alpha is not None else product
    return (
        f"The Image has {len(names)} band(s) ({', '.join(names) or 'none'}) but product {target.product_id!r} has "
        f"{len(product)} ({', '.join(product)}){why}: an Image uploaded to it needs {need} bands. Pick or rename "
        f"bands to match, e.g. image.pick_bands({keep!r}), or add bands to the product"
    )


def check_upload(store: Any, product_id: str, image_name: str, names: Sequence[str] | None, format: dict) -> Target:
    """Every requirement of uploading an Image with bands ``names`` into ``product_id``, but the image's absence.

    :func:`load_target` (the product is saved, writable, has bands of one data type, an
    alpha band or nodata), :func:`plan_bands` (when the band names are known before
    computing) and :func:`check_format`. The catalog destination's preflight runs it (then
    :func:`check_image_free`); the export form's product picker runs it for each product it
    might offer.

    Returns
    -------
    Target

    Raises
    ------
    NotFound, PermissionDenied, ValidationError
        As those functions do.
    """
    target = load_target(store, product_id, image_name)
    if names is not None:
        plan_bands(target, names)
    check_format(target, format)
    return target


def check_data_type(target: Target, change_dtype: bool) -> None:
    """Raise if the product stores integers and ``change_dtype`` is False.

    Computed imagery is float64 (values read through a band's physical_range, means, ...), so
    an upload into an integer product without ``change_dtype=True`` fails on the data-loss
    guard unless every value happens to be a whole number. ``compute()`` lets the guard decide
    with the values (whole numbers do pass); the export form's product picker, which must not
    offer a product on which the job would fail, applies this rule before (and lists the
    product with this message until ``change_dtype`` is ticked).
    """
    dtype = target.data_type
    if not change_dtype and dtype.dtype.kind in "ui":
        raise ValidationError(
            f"Product {target.product_id!r} stores {dtype.value} and computed imagery is float64: tick change_dtype "
            "to convert the values (usually with rescale, to map physical_range to data_range first)",
            field="destination.change_dtype", value=False, allowed=(True,),
        )


def check_image_free(store: Any, image_id: str, overwrite: bool, pending: Mapping[str, str] | None = None) -> None:
    """Raise unless ``overwrite`` or no image ``image_id`` exists yet (nor is being uploaded).

    Parameters
    ----------
    store : CatalogStore
    image_id : str
    overwrite : bool
    pending : mapping, optional
        Image ids that unfinished jobs are uploading, to what uploads each (``"job 0123abcd,
        launched by this form at 14:02"``): once that job is done the image exists, so
        another upload would fail the same way.
    """
    if overwrite:
        return
    how = ("pass overwrite=True to replace it (destination={'type': 'catalog', 'image': image, 'overwrite': True}), "
           "or choose another name")
    if store.get_image(image_id) is not None:
        raise ValidationError(f"Image {image_id!r} already exists; {how}",
                              field="destination.overwrite", value=False, allowed=(True,))
    writer = (pending or {}).get(image_id)
    if writer is not None:
        raise ValidationError(f"Image {image_id!r} is being uploaded by {writer}, and would then already exist; {how}",
                              field="destination.overwrite", value=False, allowed=(True,))


def check_format(target: Target, format: dict) -> None:
    """Raise if the GeoTIFF options can't store the product's data type (jpeg needs Byte)."""
    check_compression(format.get("compression", "lzw"), target.data_type.dtype,
                      where=f"the data type of product {target.product_id!r}")
