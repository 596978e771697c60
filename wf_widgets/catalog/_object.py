"""Base class of catalog objects: declared fields, validation on assignment, save state."""

from __future__ import annotations

import copy
import datetime as _dt
import enum
import re
from typing import Any, Callable, ClassVar

from ..errors import NotFound, ValidationError
from . import access
from ._common import (
    MAX_NAME_BYTES,
    MAX_PRODUCT_ID_BYTES,
    check_name,
    check_product_id,
    default_store,
    namespace_id,
    split_child_id,
)
from .attributes import MappingAttribute, TrackedDict
from .search import ImageSearch, Search
from .store import CatalogStore


class DocumentState(str, enum.Enum):
    """The state of a catalog object (the original client's ``DocumentState``; equal to its str value)."""

    UNSAVED = "unsaved"
    SAVED = "saved"
    MODIFIED = "modified"
    DELETED = "deleted"

    def __str__(self) -> str:
        return self.value


class DeletedObjectError(NotFound):
    """The object was deleted from the catalog (the original client's name; a NotFound)."""


class UnknownFieldError(TypeError, AttributeError):
    """A keyword argument that names no field (a TypeError, and an AttributeError as in the original client)."""


class UnsavedObjectError(ValidationError):
    """The operation needs a saved object (``delete()`` of one never saved; the original client's name)."""


def _same(old: Any, new: Any) -> bool:
    """Whether a field's new value equals its old one, of the same type (``1`` is not ``True``)."""
    try:
        return type(old) is type(new) and bool(old == new)
    except Exception:  # noqa: BLE001 - values whose == raises (arrays) are changes
        return False


class deletes:
    """Decorator of ``delete``: ``obj.delete(...)`` deletes ``obj``; ``Cls.delete(id, ...)`` the object ``id``.

    The class form (the original client's) returns True if it deleted something, False if
    ``id`` named nothing (or a band of another type), and takes ``store=``.
    """

    def __init__(self, method: Callable[..., None]):
        self.method = method
        self.__doc__ = method.__doc__

    def __get__(self, obj: Any, cls: type) -> Callable[..., Any]:
        if obj is not None:
            return self.method.__get__(obj, cls)
        method = self.method

        def delete(id: str, *args: Any, store: CatalogStore | None = None, **kwargs: Any) -> bool:
            found = cls.get(id, store=store)
            if found is None:
                return False
            method(found, *args, **kwargs)
            return True

        delete.__doc__ = method.__doc__
        return delete


class ReadOnlyFieldError(ValidationError, AttributeError):
    """A field only the catalog sets (``created``, ``modified``, ...) was assigned."""


#: The original client's name of the error of a bad field value.
AttributeValidationError = ValidationError

#: What the original client's catalog reprs say about an object not up-to-date.
NOT_SAVED_LINE = "* Not up-to-date in the catalog. Call `.save()` to save or update this record."
DELETED_LINE = "* Deleted from the catalog."
#: A run of characters the original client didn't allow in names (:meth:`ProductChild.make_valid_name`).
_INVALID_NAME_RUN = re.compile(r"[^a-zA-Z0-9_.-]+")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, MappingAttribute):
        return _jsonable(value.to_dict())
    if hasattr(value, "__geo_interface__") and not isinstance(value, (dict, CatalogObject)):  # a shapely geometry
        return _jsonable(value.__geo_interface__)
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class CatalogObject:
    """Fields declared in ``_fields`` are checked by ``_check_<field>`` on every assignment.

    Unknown keyword arguments raise :class:`UnknownFieldError` (a TypeError and an
    AttributeError), unknown attributes AttributeError. ``created``
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
        object.__setattr__(self, "_deleted", False)
        object.__setattr__(self, "_modified", set())
        object.__setattr__(self, "_values", {name: None for name in self._fields + self._derived})
        unknown = sorted(set(kwargs) - set(self._fields) - set(self._aliases))
        if unknown:
            raise UnknownFieldError(
                f"{type(self).__name__}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(self._fields + tuple(self._aliases))}"
            )
        for name, value in self._defaults.items():
            setattr(self, name, copy.deepcopy(value))  # through the field's check (a TrackedDict, ...)
        self._modified.clear()
        for name, value in kwargs.items():  # as in the original client, they count as modified (is_modified)
            if value is not None or name not in self._defaults:
                setattr(self, self._aliases.get(name, name), value)

    # -- attribute access ----------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._derived:
            raise ReadOnlyFieldError(f"{type(self).__name__}.{name} is set by the catalog and cannot be changed",
                                     field=name, value=value)
        if name in self._fields:
            check = getattr(self, f"_check_{name}", None)
            new = check(value) if check is not None else value
            same = name in self._values and _same(self._values[name], new)
            self._values[name] = new
            if not same:  # assigning the value a field has is no change (as in the original client)
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
    def state(self) -> DocumentState:
        """``"unsaved"`` (never saved), ``"saved"``, ``"modified"`` (changed since loaded) or ``"deleted"``.

        A :class:`DocumentState`, equal to its str value.
        """
        if self._deleted:
            return DocumentState.DELETED
        if not self._saved:
            return DocumentState.UNSAVED
        return DocumentState.MODIFIED if self._modified else DocumentState.SAVED

    @property
    def is_modified(self) -> bool:
        """Whether a field changed since the object was made, loaded or saved.

        Assigning a field the value it has counts as a change, as in the original client's
        objects; ``get_or_create`` doesn't count the fields it leaves equal.
        """
        return bool(self._modified)

    def update(self, ignore_errors: bool = False, **kwargs: Any) -> None:
        """Set several fields at once (the original client's ``update``); nothing is saved.

        Parameters
        ----------
        ignore_errors : bool
            Skip the fields that are unknown or refuse their value, instead of raising.
        **kwargs
            Field names and values.

        Raises
        ------
        AttributeError, ValidationError
            An unknown field, or a bad value: then no field is changed.
        """
        self._check_not_deleted("be updated")
        values, modified = dict(self._values), set(self._modified)
        for name, value in kwargs.items():
            try:
                setattr(self, self._aliases.get(name, name), value)
            except (AttributeError, ValidationError):
                if ignore_errors:
                    continue
                object.__setattr__(self, "_values", values)
                object.__setattr__(self, "_modified", modified)
                raise

    def _stored_row(self, store: CatalogStore) -> dict[str, Any] | None:
        """This object's row in ``store`` (by its id), or None."""
        raise NotImplementedError

    def reload(self) -> None:
        """Take the stored values again (another process may have changed them).

        Raises
        ------
        ValidationError
            If the object is unsaved or modified (``get`` it anew to drop the changes).
        DeletedObjectError
            If it was deleted (here, or from the catalog meanwhile: ``state`` becomes ``"deleted"``).
        """
        self._check_not_deleted("reload")
        if self.state is not DocumentState.SAVED:
            raise ValidationError(f"{type(self).__name__} {getattr(self, 'id', None)!r} is {self.state.value}: only a "
                                  "saved, unmodified object reloads", field="state", value=self.state.value,
                                  allowed=[DocumentState.SAVED.value])
        store = self._catalog()
        row = self._stored_row(store)
        if row is None:
            self._mark_deleted()
            raise DeletedObjectError(f"{type(self).__name__} {self.id!r} was deleted", field="id", value=self.id)
        self._apply_row(row, store)

    def _require_saved(self, action: str) -> None:
        """Raise unless the object is saved (not new, not deleted): ``action`` names what needs it."""
        what = f"{type(self).__name__} {getattr(self, 'id', None)!r}"
        if self._deleted:
            raise DeletedObjectError(f"{what} was deleted; it can't {action}", field="id", value=getattr(self, "id", None))
        if not self._saved:
            raise UnsavedObjectError(f"{what} was never saved; it can't {action} (get the stored one with "
                                     f"{type(self).__name__}.get, or delete it by id: {type(self).__name__}.delete(id))",
                                     field="id", value=getattr(self, "id", None))

    def _check_not_deleted(self, action: str) -> None:
        if self._deleted:
            raise DeletedObjectError(f"{type(self).__name__} {getattr(self, 'id', None)!r} was deleted; it can't "
                                     f"{action} (make a new object to store it again)", field="id",
                                     value=getattr(self, "id", None))

    def _mark_deleted(self) -> None:
        """After a delete: ``state`` is ``"deleted"``; saving stores the object anew."""
        object.__setattr__(self, "_saved", False)
        object.__setattr__(self, "_deleted", True)
        for name in self._derived:
            self._values[name] = None

    def _status_line(self) -> list[str]:
        """The last line of a repr: the original client's note of an object not up-to-date, if it isn't."""
        if self._deleted:
            return [DELETED_LINE]
        return [] if self.state is DocumentState.SAVED else [NOT_SAVED_LINE]

    def _changed(self, field: str) -> Callable[[], None]:
        """A callback marking ``field`` modified (for the values of a field that change in place)."""
        return lambda: self._modified.add(field)

    def _tracked(self, field: str, value: dict, check: Callable[[dict], Any]) -> TrackedDict:
        """``value`` as a :class:`TrackedDict` of field ``field`` whose items ``check`` checks."""
        return TrackedDict(value, check=check, changed=self._changed(field))

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
        object.__setattr__(self, "_deleted", False)
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
        """Objects of one class, in one :attr:`state`, with equal fields (the original client's rule)."""
        if type(other) is not type(self):
            return NotImplemented
        return self.state == other.state and self._values == other._values

    __hash__ = None  # mutable


class ProductChild(CatalogObject):
    """A band or an image: its id is ``"<product_id>:<name>"`` and reading it needs read access to the product."""

    _kind: ClassVar[str]
    #: ``Product.get``: set by :mod:`~wf_widgets.catalog.product` when it defines Product (a
    #: product lists its bands and images, so its module imports theirs, not the other way round).
    _get_product: ClassVar[Callable[..., CatalogObject | None]]

    def __init__(self, *, store: CatalogStore | None = None, id: str | None = None, product: Any = None,
                 **kwargs: Any):
        """``id=`` (``"<product_id>:<name>"``) or ``product=`` (a Product) may stand for ``product_id`` and ``name``.

        Raises
        ------
        ValidationError
            An id that isn't ``"<product_id>:<name>"``, or one that disagrees with ``name`` or
            ``product_id``, or a ``product`` whose id disagrees with ``product_id``.
        """
        if product is not None:
            given = kwargs.get("product_id")
            if given is not None and given != product.id:
                raise ValidationError(f"product_id {given!r} disagrees with the product's id {product.id!r}",
                                      field="product_id", value=given, allowed=[product.id])
            kwargs["product_id"] = product.id
        if id is not None:
            id_product, id_name = split_child_id(id, self._kind)
            given = kwargs.get("product_id")
            if given is not None and given != id_product and self._same_product(given, id_product, store):
                id_product = max(given, id_product, key=len)  # the one with the org
            for field, expected in (("name", id_name), ("product_id", id_product)):
                given = kwargs.get(field)
                if given is not None and given != expected:
                    raise ValidationError(f"{field} {given!r} disagrees with the id {id!r} ({field} {expected!r})",
                                          field=field, value=given, allowed=[expected])
            kwargs.update(name=id_name, product_id=id_product)
        super().__init__(store=store, **kwargs)

    @staticmethod
    def _same_product(a: str, b: str, store: CatalogStore | None) -> bool:
        """Whether product ids ``a`` and ``b`` name one product, one of them without its org (``"p"``, ``"org:p"``)."""
        if (":" in a) == (":" in b):
            return False
        settings = (store or default_store()).settings
        return namespace_id(a, settings) == namespace_id(b, settings)

    @property
    def id(self) -> str | None:
        """``"<product_id>:<name>"``; setting it sets both (the original client's objects)."""
        if self.product_id is None or self.name is None:
            return None
        return f"{self.product_id}:{self.name}"

    @id.setter
    def id(self, value: str) -> None:
        product_id, name = split_child_id(value, self._kind)
        self.product_id, self.name = product_id, name

    @classmethod
    def _lookup(cls, id: str, store: CatalogStore) -> tuple[str, dict[str, Any] | None]:
        """The full id (the product's org added if it had none) and its stored row, or None."""
        product_id, name = split_child_id(id, cls._kind)
        full = f"{namespace_id(product_id, store.settings)}:{name}"
        return full, getattr(store, f"get_{cls._kind}")(full)

    @classmethod
    def get(cls, id: str, *, store: CatalogStore | None = None) -> Any:
        """The saved object ``id`` (``"<product_id>:<name>"``), or None.

        A product id without an org gets the current one (``WF_WIDGETS_ORG``). As in the
        original client, a band class gives None for a band of another type
        (``MaskBand.get`` of a spectral band); ``Band.get`` gives any band.

        Raises
        ------
        PermissionDenied
            If the current user may not read the product.
        """
        obj = cls._get_stored(id, store or default_store())
        return obj if isinstance(obj, cls) else None

    @classmethod
    def _get_stored(cls, id: str, store: CatalogStore) -> Any:
        """The saved band or image ``id`` of whatever class it is (``get`` leaves out other band types), or None.

        Raises
        ------
        PermissionDenied
            If the current user may not read the product.
        """
        full, row = cls._lookup(id, store)
        if row is None:
            return None
        access.require(store.settings, store.get_product(row["product_id"]), "read", f"read {cls._kind} {full!r} of")
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
        obj = cls._get_stored(f"{product_id}:{name}", store or default_store())
        if obj is None:
            return cls(name=name, product_id=product_id, store=store, **kwargs)
        if not isinstance(obj, cls):
            raise ValidationError(
                f"{cls._kind.capitalize()} {obj.id!r} exists as a {type(obj).__name__}, not a {cls.__name__}; "
                f"use {type(obj).__name__}.get_or_create, or delete it first",
                field="type", value=cls.__name__, allowed=[type(obj).__name__])
        obj._apply_changes(kwargs)
        return obj

    @classmethod
    def get_many(cls, ids: Any, ignore_missing: bool = False, *, store: CatalogStore | None = None) -> list[Any]:
        """The saved objects of ``ids``, in their order; objects of another band class are left out.

        Raises
        ------
        NotFound
            If some id names nothing, unless ``ignore_missing``.
        PermissionDenied
            If the current user may not read a product.
        """
        store = store or default_store()
        if isinstance(ids, str):
            raise ValidationError(f"ids must be a list of {cls._kind} ids, got the str {ids!r}", field="ids", value=ids)
        found, missing = [], []
        for id in ids:
            full, row = cls._lookup(id, store)
            if row is None:
                missing.append(id)
                continue
            access.require(store.settings, store.get_product(row["product_id"]), "read",
                           f"read {cls._kind} {full!r} of")
            obj = cls._from_row(row, store)
            if isinstance(obj, cls):
                found.append(obj)
        if missing and not ignore_missing:
            raise NotFound(f"No {cls._kind}(s) {', '.join(map(repr, missing))}; pass ignore_missing=True to skip them",
                           field="ids", value=missing)
        return found

    @classmethod
    def search(cls, *, store: CatalogStore | None = None) -> Search:
        """A search of the objects of this class in the products the current user may read.

        ``Band.search()`` finds every band, ``MaskBand.search()`` the mask bands;
        ``Image.search()`` is an :class:`~wf_widgets.catalog.search.ImageSearch` (with
        ``intersects``). See :mod:`wf_widgets.catalog.search`::

            Image.search().filter(properties.product_id == "my_product").filter(properties.acquired >= "2020-01-01")
        """
        return (ImageSearch if cls._kind == "image" else Search)(cls, store)

    @classmethod
    def exists(cls, id: str, *, store: CatalogStore | None = None) -> bool:
        """Whether ``id`` names a saved object the current user may read."""
        store = store or default_store()
        _, row = cls._lookup(id, store)
        return row is not None and access.has_right(store.settings, store.get_product(row["product_id"]), "read")

    @classmethod
    def make_valid_name(cls, name: str) -> str:
        """``name`` with each run of characters other than ASCII letters, digits, ``_``, ``.``, ``-`` as one ``_``.

        The original client's rule for band and image names (wf_widgets accepts more names;
        this gives one both accept).
        """
        return _INVALID_NAME_RUN.sub("_", name)

    @property
    def product(self) -> CatalogObject | None:
        """The :class:`~wf_widgets.catalog.Product` of this band or image (None if it does not exist)."""
        return self._get_product(self.product_id, store=self._catalog())

    def _stored_row(self, store: CatalogStore) -> dict[str, Any] | None:
        return getattr(store, f"get_{self._kind}")(self.id)

    def _namespace(self, store: CatalogStore) -> None:
        """Give ``product_id`` the current org if it has none (before a save or an upload)."""
        if self.product_id is not None and ":" not in self.product_id:
            self._values["product_id"] = namespace_id(self.product_id, store.settings)

    def _check_name(self, value: Any) -> str:
        if self._saved and value != self._values.get("name"):
            raise AttributeError(f"The name of a saved {self._kind} cannot be changed")
        return check_name(value, "name", max_bytes=None if self._loading else MAX_NAME_BYTES)

    def _check_product_id(self, value: Any) -> str:
        if self._saved and value != self._values.get("product_id"):
            raise AttributeError(f"The product_id of a saved {self._kind} cannot be changed")
        return check_product_id(value, max_bytes=None if self._loading else MAX_PRODUCT_ID_BYTES, org_optional=True)
