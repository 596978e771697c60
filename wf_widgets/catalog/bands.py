"""Catalog bands: SpectralBand, MicrowaveBand, MaskBand, ClassBand, GenericBand."""

from __future__ import annotations

from typing import Any, ClassVar

from ..errors import NotFound, ValidationError
from . import access
from ._common import ctime, optional_str
from ._object import CatalogObject, DeletedObjectError, ProductChild, deletes
from .attributes import _plain, check_derived_params, check_extra_properties, check_processing_levels, check_tags
from .datatypes import DataType
from .reads import is_alpha_row, range_scaling  # noqa: F401  (band-row helpers, long importable from here)
from .store import CatalogStore

_RESOLUTION_UNITS = ("meters", "degrees")



def _number(value: Any, field: str, positive: bool = False) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "item"):
        raise ValidationError(f"{field} must be a number, got {value!r}", field=field, value=value)
    value = value.item() if hasattr(value, "item") else value
    if positive and not value > 0:
        raise ValidationError(f"{field} must be a positive number, got {value!r}", field=field, value=value)
    return value


def _range(value: Any, field: str) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        lo, hi = (_number(v, field) for v in value)
    except (TypeError, ValueError):
        raise ValidationError(f"{field} must be two numbers (low, high), got {value!r}",
                              field=field, value=value) from None
    if lo is None or hi is None or not lo < hi:
        raise ValidationError(f"{field} must be two numbers with low < high, got {value!r}", field=field, value=value)
    return (lo, hi)


class Band(ProductChild):
    """Base of the band classes; use one of the subclasses.

    Parameters
    ----------
    name : str
        Band name, unique in its product.
    product_id : str
        The product's id.
    data_type : DataType or str
        ``Byte``, ``UInt16``, ``Int16``, ``UInt32``, ``Int32``, ``Float32`` or ``Float64``
        (numpy names work too). Required to save, except for a MaskBand (Byte).
    nodata : number, optional
        Pixel value meaning "no data"; must fit the data type.
    data_range : (number, number), optional
        Range of the stored values; default the data type's range.
    display_range : (number, number), optional
        Range to stretch for display; default ``data_range``.
    resolution : number or dict, optional
        Metres, or ``{"value": number, "unit": "meters" | "degrees"}``.
    band_index : int, optional
        Position in the product's band order; default after the last band.
    description : str, optional
    vendor_band_name : str, optional
        The band's name in the data vendor's files.
    processing_levels : dict, optional
        Level name -> the default level's name (str) or a list of processing steps
        (:class:`~wf_widgets.catalog.ProcessingStepAttribute` or dicts of its fields).
    derived_params : DerivedParamsAttribute or dict, optional
        How the band derives from others (``function``, ``bands``, optional ``source_type``).
    tags : list of str, optional
    extra_properties : dict, optional
        Any JSON-able properties.
    id : str, optional
        ``"<product_id>:<name>"``, instead of ``name`` and ``product_id``.
    product : Product, optional
        Instead of ``product_id``.
    store : CatalogStore, optional
        Default: the current backend's catalog.

    Attributes
    ----------
    id : str
        ``"<product_id>:<name>"``.
    type : str
        ``"spectral"``, ``"microwave"``, ``"mask"``, ``"class"`` or ``"generic"``.
    created, modified : datetime.datetime or None
    """

    _kind = "band"

    _type: ClassVar[str] = ""
    _common: ClassVar[tuple[str, ...]] = (
        "name", "product_id", "data_type", "nodata", "data_range", "display_range",
        "resolution", "band_index", "description",
    )
    #: Fields of every band type (the original client's), stored in the "attrs" JSON column.
    _shared: ClassVar[tuple[str, ...]] = ("vendor_band_name", "processing_levels", "derived_params", "tags",
                                          "extra_properties")
    #: Fields of the subclass, stored in the "attrs" JSON column.
    _attrs: ClassVar[tuple[str, ...]] = ()
    _fields = _common + _shared
    _defaults = {"extra_properties": {}}
    _by_type: ClassVar[dict[str, type["Band"]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._fields = Band._common + Band._shared + cls._attrs
        cls._defaults = {**Band._defaults, **cls.__dict__.get("_defaults", {})}
        if cls._type:
            Band._by_type[cls._type] = cls

    def __init__(self, *, store: CatalogStore | None = None, **kwargs: Any):
        if type(self) is Band:
            raise TypeError("Band is abstract; use SpectralBand, MicrowaveBand, MaskBand, ClassBand or GenericBand")
        super().__init__(store=store, **kwargs)

    # -- identity ----------------------------------------------------------------------
    @property
    def type(self) -> str:
        """The band type name."""
        return self._type

    # -- field checks ------------------------------------------------------------------
    def _check_data_type(self, value: Any) -> DataType | None:
        return None if value is None else DataType.coerce(value)

    def _check_nodata(self, value: Any) -> float | int | None:
        return _number(value, "nodata")

    def _check_data_range(self, value: Any) -> tuple[float, float] | None:
        return _range(value, "data_range")

    def _check_display_range(self, value: Any) -> tuple[float, float] | None:
        return _range(value, "display_range")

    def _check_physical_range(self, value: Any) -> tuple[float, float] | None:
        return _range(value, "physical_range")

    def _check_resolution(self, value: Any) -> Any:
        if value is None or not isinstance(value, dict):
            return _number(value, "resolution", positive=True)
        unit = value.get("unit", "meters")
        if set(value) - {"value", "unit"} or unit not in _RESOLUTION_UNITS:
            raise ValidationError.bad_value("resolution.unit", unit, _RESOLUTION_UNITS)
        return {"value": _number(value.get("value"), "resolution.value", positive=True), "unit": unit}

    def _check_band_index(self, value: Any) -> int | None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValidationError(f"band_index must be an integer >= 0, got {value!r}", field="band_index", value=value)
        return value

    def _check_description(self, value: Any) -> str | None:
        return optional_str(value, "description")

    def _check_vendor_band_name(self, value: Any) -> str | None:
        return optional_str(value, "vendor_band_name")

    def _check_processing_levels(self, value: Any) -> Any:
        return check_processing_levels(value, self._changed("processing_levels"))

    def _check_derived_params(self, value: Any) -> Any:
        return check_derived_params(value, self._changed("derived_params"))

    def _check_tags(self, value: Any) -> list[str] | None:
        return check_tags(value, self._changed("tags"))

    def _check_extra_properties(self, value: Any) -> Any:
        return self._tracked("extra_properties", check_extra_properties(value), check_extra_properties)

    # -- store rows ----------------------------------------------------------------------
    def _row(self) -> dict[str, Any]:
        row = {name: self._values[name] for name in Band._common}
        row.update(id=self.id, type=self._type,
                   attrs={name: _plain(self._values[name]) for name in self._shared + self._attrs})
        return row

    def _apply_row(self, row: dict[str, Any], store: CatalogStore) -> None:
        if "attrs" in row:  # a store row: the attrs column holds the fields without a column
            row = {**{k: v for k, v in row.items() if k not in ("attrs", "id", "type")}, **(row["attrs"] or {})}
        super()._apply_row(row, store)

    @classmethod
    def _from_row(cls, row: dict[str, Any], store: CatalogStore) -> "Band":
        kind = Band._by_type.get(row.get("type"), GenericBand)
        flat = {**{k: v for k, v in row.items() if k not in ("attrs", "id", "type")}, **(row.get("attrs") or {})}
        return CatalogObject._from_row.__func__(kind, flat, store)

    def _complete(self, store: CatalogStore) -> dict[str, Any]:
        """The row to store, with defaults filled in and cross-field rules checked."""
        row = self._row()
        dtype = row["data_type"]
        if dtype is None:
            raise ValidationError.bad_value("data_type", None, [m.value for m in DataType], what="data type")
        row["data_type"] = dtype.value
        if row["nodata"] is not None and not dtype.holds(row["nodata"]):
            raise ValidationError(
                f"nodata {row['nodata']!r} does not fit the data type {dtype.value} (range {dtype.range})",
                field="nodata", value=row["nodata"],
            )
        row["data_range"] = row["data_range"] or dtype.range
        row["display_range"] = row["display_range"] or row["data_range"]
        if row["band_index"] is None:
            row["band_index"] = store.next_band_index(self.product_id)
        return row

    # -- catalog operations ----------------------------------------------------------------
    def save(self) -> "Band":
        """Store the band (writers and owners of the product).

        Raises
        ------
        NotFound
            If the product does not exist.
        PermissionDenied
            Without write access to the product.
        ValidationError
            If a field is missing or wrong, or a new band's name is taken in the product.
        """
        if self.name is None or self.product_id is None:
            raise ValidationError("A band needs a name and a product_id to be saved", field="name", value=self.name)
        self._check_not_deleted("be saved")
        store = self._catalog()
        if not self._saved:
            self._namespace(store)
        with store.transaction():
            product = store.get_product(self.product_id)
            if product is None:
                raise NotFound(f"Product {self.product_id!r} does not exist", field="product_id", value=self.product_id)
            access.require(store.settings, product, "write", f"save band {self.name!r} in")
            row = self._complete(store)
            existing = store.get_band(self.id)
            if not self._saved:
                if existing is not None:
                    raise ValidationError(
                        f"Band {self.id!r} already exists; use Band.get({self.id!r}) to change it, or "
                        f"{type(self).__name__}.get_or_create(...) in code that may run again",
                        field="name", value=self.name,
                    )
                stored = store.insert_band(row)
            else:
                if existing is None:
                    self._mark_deleted()
                    raise DeletedObjectError(f"Band {self.id!r} was deleted", field="id", value=self.id)
                stored = store.update_band(row)
        self._apply_row({**{k: v for k, v in stored.items() if k != "attrs"}, **stored["attrs"]}, store)
        return self

    @deletes
    def delete(self) -> None:
        """Delete the band (writers and owners of the product); ``Band.delete(id)`` deletes the band ``id``.

        Raises
        ------
        UnsavedObjectError, DeletedObjectError
            If the band was never saved, or was deleted.
        """
        self._require_saved("be deleted")
        store = self._catalog()
        with store.transaction():
            product = store.get_product(self.product_id)
            if product is None or store.get_band(self.id) is None:
                self._mark_deleted()
                raise DeletedObjectError(f"Band {self.id!r} does not exist", field="id", value=self.id)
            access.require(store.settings, product, "write", f"delete band {self.name!r} of")
            store.delete_band(self.id)
        self._mark_deleted()

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}: {self.name}", f"  id: {self.id}", f"  product: {self.product_id}"]
        if self.created is not None:
            lines.append(f"  created: {ctime(self.created)}")
        return "\n".join(lines + self._status_line())


class SpectralBand(Band):
    """A band of reflected light.

    Parameters
    ----------
    physical_range : (number, number), optional
        Physical values that ``data_range`` maps to (e.g. reflectance 0-1).
    physical_range_unit : str, optional
    wavelength_nm_center, wavelength_nm_min, wavelength_nm_max, wavelength_nm_fwhm : number, optional
        Wavelengths in nanometres.
    """

    _type = "spectral"
    _attrs = ("physical_range", "physical_range_unit", "wavelength_nm_center", "wavelength_nm_min",
              "wavelength_nm_max", "wavelength_nm_fwhm")

    def _check_physical_range_unit(self, value: Any) -> str | None:
        return optional_str(value, "physical_range_unit")

    def _check_wavelength_nm_center(self, value: Any) -> float | None:
        return _number(value, "wavelength_nm_center", positive=True)

    def _check_wavelength_nm_min(self, value: Any) -> float | None:
        return _number(value, "wavelength_nm_min", positive=True)

    def _check_wavelength_nm_max(self, value: Any) -> float | None:
        return _number(value, "wavelength_nm_max", positive=True)

    def _check_wavelength_nm_fwhm(self, value: Any) -> float | None:
        return _number(value, "wavelength_nm_fwhm", positive=True)


class MicrowaveBand(Band):
    """A radar band.

    Parameters
    ----------
    physical_range : (number, number), optional
    physical_range_unit : str, optional
    frequency : number, optional
        Centre frequency in GHz.
    bandwidth : number, optional
        Bandwidth in MHz.
    """

    _type = "microwave"
    _attrs = ("physical_range", "physical_range_unit", "frequency", "bandwidth")

    def _check_physical_range_unit(self, value: Any) -> str | None:
        return optional_str(value, "physical_range_unit")

    def _check_frequency(self, value: Any) -> float | None:
        return _number(value, "frequency", positive=True)

    def _check_bandwidth(self, value: Any) -> float | None:
        return _number(value, "bandwidth", positive=True)


class MaskBand(Band):
    """A 0/1 mask band; with ``is_alpha=True`` it is the product's alpha band.

    ``data_range`` is always ``(0, 1)`` and ``data_type`` defaults to Byte.

    Parameters
    ----------
    is_alpha : bool
        Whether the band is the alpha (validity) band of the product.
    """

    _type = "mask"
    _attrs = ("is_alpha",)
    _defaults = {"data_type": DataType.Byte, "data_range": (0, 1), "is_alpha": False}

    def _check_data_range(self, value: Any) -> tuple[int, int]:
        if value is not None and tuple(value) != (0, 1):
            raise ValidationError(f"A MaskBand's data_range is always (0, 1), got {value!r}",
                                  field="data_range", value=value, allowed=[(0, 1)])
        return (0, 1)

    def _check_is_alpha(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(f"is_alpha must be True or False, got {value!r}", field="is_alpha", value=value)
        return value


class ClassBand(Band):
    """A band of class numbers.

    Parameters
    ----------
    class_labels : list of str, optional
        Label of each class value, by value (0, 1, ...).
    """

    _type = "class"
    _attrs = ("class_labels",)

    def _check_class_labels(self, value: Any) -> list[str] | None:
        if value is None:
            return None
        if isinstance(value, str) or not all(isinstance(v, str) for v in value):
            raise ValidationError(f"class_labels must be a list of strings, got {value!r}",
                                  field="class_labels", value=value)
        return list(value)


class GenericBand(Band):
    """Any other band.

    Parameters
    ----------
    physical_range : (number, number), optional
    physical_range_unit : str, optional
    """

    _type = "generic"
    _attrs = ("physical_range", "physical_range_unit")

    def _check_physical_range_unit(self, value: Any) -> str | None:
        return optional_str(value, "physical_range_unit")


BAND_TYPES: dict[str, type[Band]] = dict(Band._by_type)
