"""Small helpers shared by the catalog classes: ids, names, timestamps, the default store."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from .._context import current
from ..errors import ValidationError
from .store import CatalogStore

#: A product id: two or more segments of letters, digits, ``_``, ``.``, ``-`` joined by ``:``.
PRODUCT_ID = re.compile(r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)+$")
#: A product id as a user may give it: also one segment, which gets the org on save (:func:`namespace_id`).
GIVEN_PRODUCT_ID = re.compile(r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)*$")
#: Names of images and bands: no ``:`` (it separates ids), no path separators, no control characters,
#: no unpaired surrogates (they have no UTF-8 encoding).
_NAME = re.compile(r"^[^:/\\\x00-\x1f\x7f\ud800-\udfff]{1,200}$")
#: Longest image or band name, in bytes of its UTF-8 encoding: what one file name may hold on
#: common file systems (NAME_MAX). The catalog's own files never need the whole of it: an image
#: file's name is derived from the image name and shortened with a hash when too long
#: (:mod:`~wf_widgets.catalog.files`), so every valid name has a file.
MAX_NAME_BYTES = 255
#: Longest product id, in bytes (product ids are ASCII); its files folder is named like image files.
MAX_PRODUCT_ID_BYTES = 255


def _check_length(value: str, field: str, limit: int | None) -> None:
    if limit is None:
        return
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > limit:
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise ValidationError(
            f"{field} is too long: {size} bytes in UTF-8 ({len(value)} characters); the limit is {limit} bytes. "
            f"Got {shown!r}",
            field=field, value=value,
        )


def check_product_id(value: Any, field: str = "product_id", max_bytes: int | None = MAX_PRODUCT_ID_BYTES,
                     org_optional: bool = False) -> str:
    """Return ``value`` if it is a valid product id (``"org:name"``), else raise ValidationError.

    ``max_bytes`` None skips the length limit (rows stored by earlier versions).
    ``org_optional`` also accepts one segment (``"name"``: the org is added on save).
    """
    if isinstance(value, str):
        _check_length(value, field, max_bytes)
    if not isinstance(value, str) or not (GIVEN_PRODUCT_ID if org_optional else PRODUCT_ID).match(value):
        shape = "'org:name' or 'name'" if org_optional else "'org:name'"
        raise ValidationError(
            f"{field} must look like {shape} (letters, digits, '_', '.', '-' in segments joined "
            f"by ':'), got {value!r}",
            field=field, value=value,
        )
    return value


def namespace_id(id: str, settings: Any) -> str:
    """``id`` with the org of ``settings`` (:attr:`Settings.organization`) when it has none.

    ``"my_product"`` becomes ``"<org>:my_product"``; an id with a ``:`` is returned as is
    (the original client's ``Product.namespace_id``).
    """
    return id if ":" in id else f"{settings.organization}:{id}"


def check_name(value: Any, field: str = "name", max_bytes: int | None = MAX_NAME_BYTES) -> str:
    """Return ``value`` if it is a valid image or band name, else raise ValidationError.

    ``max_bytes`` None skips the length limit (rows stored by earlier versions).
    """
    if isinstance(value, str):
        _check_length(value, field, max_bytes)
    if not isinstance(value, str) or not _NAME.match(value) or value.strip(".") == "":
        raise ValidationError(
            f"{field} must be 1-200 characters (at most {MAX_NAME_BYTES} bytes in UTF-8) without ':', '/', '\\' "
            f"or control characters (and not only dots), got {value!r}",
            field=field, value=value,
        )
    return value


def optional_str(value: Any, field: str) -> str | None:
    """Return ``value`` if it is None or a string, else raise ValidationError."""
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"{field} must be a string, got {value!r}", field=field, value=value)
    return value


def split_child_id(value: Any, kind: str) -> tuple[str, str]:
    """Split an image or band id ``"<product id>:<name>"`` into product id and name.

    The product id may lack its org (``"my_product:band"``; see :func:`namespace_id`).
    """
    if not isinstance(value, str) or value.count(":") < 1:
        raise ValidationError(f"{kind} id must be '<product id>:<name>', got {value!r}", field="id", value=value)
    product_id, name = value.rsplit(":", 1)
    return (check_product_id(product_id, max_bytes=None, org_optional=True),  # lookups: any stored id
            check_name(name, max_bytes=None))


def to_datetime(value: Any, field: str) -> _dt.datetime | None:
    """An aware UTC datetime from a datetime, a date or an ISO 8601 string (naive means UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"{field} must be an ISO 8601 date or datetime, got {value!r}",
                                  field=field, value=value) from None
    elif isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, _dt.datetime):
        raise ValidationError(f"{field} must be a datetime, got {value!r}", field=field, value=value)
    if value.tzinfo is None:
        return value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc)


def ctime(value: _dt.datetime | None) -> str:
    """``Wed Jan  1 12:00:00 2020`` (UTC), the format of the original client's reprs."""
    return value.ctime() if value is not None else "(not saved)"


def default_store() -> CatalogStore:
    """The catalog store of the current backend (:func:`wf_widgets._context.current`).

    Raises
    ------
    TypeError
        If the current backend's catalog is not a :class:`CatalogStore` (the catalog's
        objects write through the store itself, not only read it).
    """
    store = current().catalog
    if not isinstance(store, CatalogStore):
        raise TypeError(f"The current backend's catalog is a {type(store).__name__}, not a CatalogStore")
    return store
