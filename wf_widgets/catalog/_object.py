"""Base class of catalog objects: declared fields, validation on assignment, save state."""

from __future__ import annotations

import copy
import datetime as _dt
import enum
from typing import Any, Callable, ClassVar

from ..errors import ValidationError
from . import access
from ._common import MAX_NAME_BYTES, MAX_PRODUCT_ID_BYTES, check_name, check_product_id, default_store, split_child_id
from .store import CatalogStore


def _jsonable(value: Any) -> Any:
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class CatalogObject:
    """Fields declared in ``_fields`` are checked by ``_check_<field>`` on every assignment.

    Unknown keyword arguments raise TypeError, unknown attributes AttributeError. ``created``
    and ``modified`` (and ``_derived``) are set by the catalog only. Objects use the store
    given as ``store=``, else the current backend's catalog at the time
    of each call.
    """

    _fields: ClassVar[tuple[str, ...]] = ()
    _derived: ClassVar[tuple[str, ...]] = ("created", "modified")
    _defaults: ClassVar[dict[str, Any]] = {}
    _aliases: ClassVar[dict[str, str]] = {}

    def __init__(self, *, store: CatalogStore | None = None, **kwargs: Any):
        object.__setattr__(self, "_store", store)
        object.__setattr__(self, "_saved", False)
        object.__setattr__(self, "_modified", set())
        object.__setattr__(self, "_values", {name: None for name in self._fields + self._derived})
        unknown = sorted(set(kwargs) - set(self._fields) - set(self._aliases))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(self._fields + tuple(self._aliases))}"
            )
        for name, value in self._defaults.items():
            self._values[name] = copy.deepcopy(value)
        for name, value in kwargs.items():
            if value is not None or name not in self._defaults:
                setattr(self, self._aliases.get(name, name), value)
        self._modified.clear()

    # -- attribute access ----------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._derived:
            raise AttributeError(f"{type(self).__name__}.{name} is set by the catalog and cannot be changed")
        if name in self._fields:
            check = getattr(self, f"_check_{name}", None)
            self._values[name] = check(value) if check is not None else value
            self._modified.add(name)
            return
        if name.startswith("_") or isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)
            return
        raise AttributeError(
            f"{type(self).__name__} has no field {name!r}; fields: {', '.join(self._fields)}"
        )

    # -- state -------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """``"unsaved"`` (never saved), ``"saved"`` or ``"modified"`` (changed since loaded)."""
        if not self._saved:
            return "unsaved"
        return "modified" if self._modified else "saved"

    def _catalog(self) -> CatalogStore:
        return self._store if self._store is not None else default_store()

    def _row(self) -> dict[str, Any]:
        """The fields as a store row."""
        return {name: self._values[name] for name in self._fields}

    @property
    def _loading(self) -> bool:
        """True while the values of a stored row are taken (length limits added later don't apply)."""
        return self.__dict__.get("_loading_row", False)

    def _apply_row(self, row: dict[str, Any], store: CatalogStore) -> None:
        """Take the values of a stored row and mark the object saved."""
        object.__setattr__(self, "_saved", False)
        object.__setattr__(self, "_loading_row", True)
        try:
            for name in self._fields:
                if name in row:
                    setattr(self, name, row[name])
        finally:
            object.__setattr__(self, "_loading_row", False)
        for name in self._derived:
            if name in row:
                self._values[name] = row[name]
        object.__setattr__(self, "_store", store)
        object.__setattr__(self, "_saved", True)
        self._modified.clear()

    @classmethod
    def _from_row(cls, row: dict[str, Any], store: CatalogStore) -> "CatalogObject":
        obj = cls.__new__(cls)
        CatalogObject.__init__(obj, store=store)
        obj._apply_row(row, store)
        return obj

    def _apply_changes(self, changes: dict[str, Any]) -> None:
        """Set the fields of ``changes`` (what ``get_or_create`` does to a stored object).

        A field set to the value it has does not count as modified, so an object whose
        stored values all equal ``changes`` stays ``"saved"``.
        """
        for name, value in changes.items():
            name = self._aliases.get(name, name)
            if name not in self._fields:
                raise TypeError(f"{type(self).__name__}.get_or_create() got unexpected keyword argument {name!r}; "
                                f"allowed: {', '.join(self._fields + tuple(self._aliases))}")
            before = self._values.get(name)
            setattr(self, name, value)
            if self._values[name] == before:
                self._modified.discard(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict of the fields (and ``id``, ``created``, ``modified``); None for unset ones."""
        out = {"id": getattr(self, "id", None)}
        out.update((name, _jsonable(self._values[name])) for name in self._fields + self._derived)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, store: CatalogStore | None = None) -> "CatalogObject":
        """A new, unsaved object from the fields of a :meth:`to_dict` dict (other keys are ignored)."""
        return cls(store=store, **{k: v for k, v in data.items() if k in cls._fields and v is not None})

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values == other._values

    __hash__ = None  # mutable


class ProductChild(CatalogObject):
    """A band or an image: its id is ``"<product_id>:<name>"`` and reading it needs read access to the product."""

    _kind: ClassVar[str]
    #: ``Product.get``: set by :mod:`~wf_widgets.catalog.product` when it defines Product (a
    #: product lists its bands and images, so its module imports theirs, not the other way round).
    _get_product: ClassVar[Callable[..., CatalogObject | None]]

    @property
    def id(self) -> str | None:
        """``"<product_id>:<name>"``."""
        if self.product_id is None or self.name is None:
            return None
        return f"{self.product_id}:{self.name}"

    @classmethod
    def get(cls, id: str, *, store: CatalogStore | None = None) -> Any:
        """The saved object ``id`` (``"<product_id>:<name>"``), or None.

        Raises
        ------
        PermissionDenied
            If the current user may not read the product.
        """
        store = store or default_store()
        product_id, _ = split_child_id(id, cls._kind)
        row = getattr(store, f"get_{cls._kind}")(id)
        if row is None:
            return None
        access.require(store.settings, store.get_product(product_id), "read", f"read {cls._kind} {id!r} of")
        return cls._from_row(row, store)

    @classmethod
    def get_or_create(cls, id: str | None = None, *, store: CatalogStore | None = None, **kwargs: Any) -> Any:
        """The saved object ``id`` with ``kwargs`` applied, or a new unsaved one.

        Name the object by its id (``"<product_id>:<name>"``) or by ``name=`` and
        ``product_id=``. As in the original client, nothing is saved: call ``save()``, which
        then works on a first run and on every run after it. ``state`` tells which case
        happened: ``"unsaved"`` (new), ``"saved"`` (stored, and ``kwargs`` change nothing) or
        ``"modified"`` (stored, and ``kwargs`` change some fields; ``save()`` stores them)::

            band = dl.catalog.MicrowaveBand.get_or_create(name="vv", product_id="org:my_product_id",
                                                          data_type="Float32", nodata=-9999.0)
            band.save()

        Parameters
        ----------
        id : str, optional
            ``"<product_id>:<name>"``; else give ``name`` and ``product_id``.
        store : CatalogStore, optional
            Default: the current backend's catalog.
        **kwargs
            Fields to set (those of the class's constructor).

        Raises
        ------
        ValidationError
            Neither an id nor both ``name`` and ``product_id`` are given, they disagree with
            the id, or the stored object is of another class (a band of another type).
        PermissionDenied
            If the current user may not read the product.
        """
        name, product_id = kwargs.pop("name", None), kwargs.pop("product_id", None)
        if id is not None:
            id_product, id_name = split_child_id(id, cls._kind)
            for field, given, expected in (("name", name, id_name), ("product_id", product_id, id_product)):
                if given is not None and given != expected:
                    raise ValidationError(f"{field} {given!r} disagrees with the id {id!r} ({field} {expected!r})",
                                          field=field, value=given, allowed=[expected])
            name, product_id = id_name, id_product
        elif name is None or product_id is None:
            raise ValidationError(
                f"{cls.__name__}.get_or_create() needs an id ('<product id>:<name>') or both name= and product_id=",
                field="id", value=None)
        else:
            check_name(name)
            check_product_id(product_id)
        obj = cls.get(f"{product_id}:{name}", store=store)
        if obj is None:
            return cls(name=name, product_id=product_id, store=store, **kwargs)
        if not isinstance(obj, cls):
            raise ValidationError(
                f"{cls._kind.capitalize()} {obj.id!r} exists as a {type(obj).__name__}, not a {cls.__name__}; "
                f"use {type(obj).__name__}.get_or_create, or delete it first",
                field="type", value=cls.__name__, allowed=[type(obj).__name__])
        obj._apply_changes(kwargs)
        return obj

    def _check_name(self, value: Any) -> str:
        if self._saved and value != self._values.get("name"):
            raise AttributeError(f"The name of a saved {self._kind} cannot be changed")
        return check_name(value, "name", max_bytes=None if self._loading else MAX_NAME_BYTES)

    def _check_product_id(self, value: Any) -> str:
        if self._saved and value != self._values.get("product_id"):
            raise AttributeError(f"The product_id of a saved {self._kind} cannot be changed")
        return check_product_id(value, max_bytes=None if self._loading else MAX_PRODUCT_ID_BYTES)
