"""Searches of the catalog as the original client wrote them: ``Product.search().filter(properties.tags == "x")``.

``properties.<name>`` is a :class:`Property`; comparing it (``==``, ``!=``, ``<``, ``<=``,
``>``, ``>=``, chained like ``1000 >= p.x > 100``), ``in_``, ``like`` and ``prefix`` make
:class:`Expression` objects, combined with ``&`` and ``|``. A :class:`Search` (from
``Product.search()``, ``Band.search()``, ``Image.search()``) is lazy and immutable: ``filter``,
``sort``, ``limit`` and ``find_text`` return new searches; iterating it (or ``collect()``,
``count()``) reads the catalog then, as the current user (unreadable products and their bands
and images never appear). :class:`ImageSearch` adds ``intersects(geometry)``.

Values compare as the fields hold them: a datetime field compares with datetimes, dates or ISO
8601 strings; a list field (``tags``, ``owners``) equals a value it contains; ``product``
compares product ids (a Product or an id; an id without an org gets the current one).
"""

from __future__ import annotations

import datetime as _dt
import enum
import re
from typing import Any, Iterator

from ..errors import ValidationError
from ..geo import to_shapely
from . import access
from ._common import default_store, namespace_id, to_datetime
from .store import CatalogStore

_ORDER_OPS = {"lt": lambda a, b: a < b, "lte": lambda a, b: a <= b, "gt": lambda a, b: a > b,
              "gte": lambda a, b: a >= b}


class Expression:
    """A condition on catalog objects; ``&`` and ``|`` combine two."""

    def __and__(self, other: "Expression") -> "Expression":
        return _Both(self, _expression(other))

    def __rand__(self, other: "Expression") -> "Expression":
        return _Both(_expression(other), self)

    def __or__(self, other: "Expression") -> "Expression":
        return _Either(self, _expression(other))

    def __ror__(self, other: "Expression") -> "Expression":
        return _Either(_expression(other), self)

    def matches(self, obj: Any, settings: Any) -> bool:
        """Whether catalog object ``obj`` meets the condition (``settings`` give the org of bare product ids)."""
        raise NotImplementedError


def _expression(value: Any) -> Expression:
    if not isinstance(value, Expression):
        raise ValidationError(f"Only filter expressions combine with & and | (like properties.tags == 'x'), got "
                              f"{value!r}", field="filter", value=value)
    return value


class _Both(Expression):
    def __init__(self, left: Expression, right: Expression):
        self.parts = (left, right)

    def matches(self, obj: Any, settings: Any) -> bool:
        return all(p.matches(obj, settings) for p in self.parts)

    def __repr__(self) -> str:
        return f"({self.parts[0]!r} & {self.parts[1]!r})"


class _Either(Expression):
    def __init__(self, left: Expression, right: Expression):
        self.parts = (left, right)

    def matches(self, obj: Any, settings: Any) -> bool:
        return any(p.matches(obj, settings) for p in self.parts)

    def __repr__(self) -> str:
        return f"({self.parts[0]!r} | {self.parts[1]!r})"


def _field_value(obj: Any, name: str) -> Any:
    if name == "product":
        name = "product_id"
    try:
        return getattr(obj, name)
    except AttributeError:
        return None  # a field of another band type: no value, so no match


def _operand(field: Any, value: Any, name: str, settings: Any) -> Any:
    """``value`` as the kind of value the field holds (datetimes, product ids, ...)."""
    if name in ("product", "product_id"):
        value = getattr(value, "id", value)
        return namespace_id(value, settings) if isinstance(value, str) else value
    if isinstance(field, _dt.datetime) and isinstance(value, (str, _dt.date)):
        return to_datetime(value, name)
    return value


class _Compare(Expression):
    """``name <op> value`` with op one of eq, ne, lt, lte, gt, gte, like, prefix."""

    def __init__(self, name: str, op: str, value: Any):
        self.name, self.op, self.value = name, op, value

    def _one(self, field: Any, settings: Any) -> bool:
        value = _operand(field, self.value, self.name, settings)
        if self.op == "eq":
            return field == value
        if self.op == "ne":
            return field != value
        if field is None:
            return False
        if self.op in ("like", "prefix"):
            if not isinstance(field, str):
                return False
            if self.op == "prefix":
                return field.startswith(value)
            pattern = re.escape(value).replace("%", ".*").replace("_", ".")
            return re.fullmatch(pattern, field, re.DOTALL) is not None
        try:
            return _ORDER_OPS[self.op](field, value)
        except TypeError:
            raise ValidationError(f"Cannot compare {self.name} ({type(field).__name__} {field!r}) with "
                                  f"{type(value).__name__} {value!r}", field=self.name, value=value) from None

    def matches(self, obj: Any, settings: Any) -> bool:
        field = _field_value(obj, self.name)
        if isinstance(field, (list, tuple)) and not isinstance(self.value, (list, tuple)):
            # a list field (tags, owners): eq is "contains", ne "doesn't contain", others any item
            if self.op == "ne":
                return not any(self._eq(item, settings) for item in field)
            return any(self._one(item, settings) for item in field)
        return self._one(field, settings)

    def _eq(self, item: Any, settings: Any) -> bool:
        return item == _operand(item, self.value, self.name, settings)

    def __repr__(self) -> str:
        return f"properties.{self.name} {self.op} {self.value!r}"


class Property:
    """``properties.<name>``: a field of catalog objects to compare.

    A chained comparison (``1000 >= properties.x > 100``) keeps both bounds: each order
    comparison of one Property object adds to its range.
    """

    def __init__(self, name: str):
        self.name = name
        self._range: dict[str, Any] = {}

    def __eq__(self, value: Any) -> Expression:  # type: ignore[override]
        return _Compare(self.name, "eq", value)

    def __ne__(self, value: Any) -> Expression:  # type: ignore[override]
        return _Compare(self.name, "ne", value)

    __hash__ = None  # type: ignore[assignment]

    def _bound(self, op: str, value: Any) -> Expression:
        self._range[op] = value
        parts = [_Compare(self.name, o, v) for o, v in self._range.items()]
        expr = parts[0]
        for part in parts[1:]:
            expr = _Both(expr, part)
        return expr

    def __lt__(self, value: Any) -> Expression:
        return self._bound("lt", value)

    def __le__(self, value: Any) -> Expression:
        return self._bound("lte", value)

    def __gt__(self, value: Any) -> Expression:
        return self._bound("gt", value)

    def __ge__(self, value: Any) -> Expression:
        return self._bound("gte", value)

    def in_(self, values: Any) -> Expression:
        """Equal to one of ``values``."""
        values = list(values)
        if not values:
            raise ValidationError(f"{self.name}.in_() needs at least one value", field=self.name, value=values)
        expr: Expression = _Compare(self.name, "eq", values[0])
        for value in values[1:]:
            expr = _Either(expr, _Compare(self.name, "eq", value))
        return expr

    any_of = in_

    def like(self, pattern: str) -> Expression:
        """Matches the SQL LIKE ``pattern`` (``%``: any characters, ``_``: one character)."""
        return _Compare(self.name, "like", pattern)

    def prefix(self, prefix: str) -> Expression:
        """Starts with ``prefix``."""
        return _Compare(self.name, "prefix", prefix)

    def __repr__(self) -> str:
        return f"properties.{self.name}"


class Properties:
    """``properties.<name>`` (any field name) is a :class:`Property`."""

    def __getattr__(self, name: str) -> Property:
        if name.startswith("_"):
            raise AttributeError(name)
        return Property(name)


#: The original client's ``descarteslabs.catalog.properties``.
properties = Properties()


class Search:
    """A lazy search of catalog objects of ``model`` (Product, a band class, Image).

    Parameters
    ----------
    model : type
        The class searched: ``Product``, ``Band`` (or a band class: only its type), ``Image``.
    store : CatalogStore, optional
        Default: the current backend's catalog, when the search runs.
    """

    def __init__(self, model: type, store: CatalogStore | None = None):
        self._model = model
        self._store = store
        self._filters: tuple[Expression, ...] = ()
        self._limit: int | None = None
        self._sort: tuple[str, bool] | None = None
        self._text: str | None = None

    def _copy(self, **changes: Any) -> "Search":
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__, **{f"_{k}": v for k, v in changes.items()})
        return new

    # -- building ------------------------------------------------------------------------
    def filter(self, expression: Expression) -> "Search":
        """Only the objects meeting ``expression`` (and the filters given before)."""
        return self._copy(filters=self._filters + (_expression(expression),))

    def limit(self, limit: int | None) -> "Search":
        """At most ``limit`` objects (None: all)."""
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValidationError(f"limit must be an integer >= 0 or None, got {limit!r}", field="limit", value=limit)
        return self._copy(limit=limit)

    def sort(self, field: str, ascending: bool = True) -> "Search":
        """Ordered by ``field`` (objects without a value last); replaces an earlier sort."""
        if not isinstance(field, str):
            raise ValidationError(f"sort field must be a field name, got {field!r}", field="sort", value=field)
        return self._copy(sort=(field, bool(ascending)))

    def find_text(self, text: str) -> "Search":
        """Only objects whose id, name or description contains ``text`` (case-insensitive)."""
        return self._copy(text=str(text))

    # -- running ---------------------------------------------------------------------------
    def _candidates(self, store: CatalogStore) -> Iterator[Any]:
        settings = store.settings
        products = [row for row in store.list_products() if access.has_right(settings, row, "read")]
        kind = getattr(self._model, "_kind", "product")
        if kind == "product":
            for row in products:
                yield self._model._from_row(row, store)
            return
        only = self._product_ids(settings)
        if only is not None:  # a filter names the products: read only theirs
            products = [row for row in products if row["id"] in only]
        for product in products:
            for row in getattr(store, f"list_{kind}s")(product["id"]):
                obj = self._model._from_row(row, store)
                if isinstance(obj, self._model):  # a band class finds bands of its type only
                    yield obj

    def _product_ids(self, settings: Any) -> set[str] | None:
        """The product ids a filter limits the search to (``properties.product_id == ...`` and'ed in), or None."""
        only: set[str] | None = None
        stack = list(self._filters)
        while stack:
            expr = stack.pop()
            if isinstance(expr, _Both):
                stack.extend(expr.parts)
            elif isinstance(expr, _Compare) and expr.op == "eq" and expr.name in ("product", "product_id"):
                value = _operand(None, expr.value, expr.name, settings)
                only = {value} if only is None else only & {value}
        return only

    def _matches(self, obj: Any, settings: Any) -> bool:
        if self._text is not None:
            needle = self._text.lower()
            if not any(needle in (getattr(obj, f, None) or "").lower() for f in ("id", "name", "description")):
                return False
        return all(f.matches(obj, settings) for f in self._filters)

    def _run(self, limit: int | None) -> list[Any]:
        store = self._store or default_store()
        found = [obj for obj in self._candidates(store) if self._matches(obj, store.settings)]
        if self._sort is not None:
            field, ascending = self._sort
            have = [o for o in found if _field_value(o, field) is not None]
            try:
                have.sort(key=lambda o: _field_value(o, field), reverse=not ascending)
            except TypeError:
                raise ValidationError(f"Cannot sort by {field}: its values are of different types", field="sort",
                                      value=field) from None
            found = have + [o for o in found if _field_value(o, field) is None]
        return found if limit is None else found[:limit]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._run(self._limit))

    def collect(self) -> list[Any]:
        """The objects found, as a list."""
        return self._run(self._limit)

    def count(self) -> int:
        """How many objects meet the filters (regardless of ``limit``)."""
        return len(self._run(None))

    def __repr__(self) -> str:
        parts = [f"{self._model.__name__}.search()"]
        parts += [f".filter({f!r})" for f in self._filters]
        if self._text is not None:
            parts.append(f".find_text({self._text!r})")
        if self._sort is not None:
            parts.append(f".sort({self._sort[0]!r}, ascending={self._sort[1]})")
        if self._limit is not None:
            parts.append(f".limit({self._limit})")
        return "".join(parts)


class Interval(str, enum.Enum):
    """The intervals of :meth:`ImageSearch.summary_interval`."""

    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"
    WEEK = "week"
    DAY = "day"
    HOUR = "hour"
    MINUTE = "minute"


class AggregateDateField(str, enum.Enum):
    """The date fields :meth:`ImageSearch.summary_interval` aggregates on (images have no ``published``)."""

    ACQUIRED = "acquired"
    CREATED = "created"
    MODIFIED = "modified"


def _interval_start(when: _dt.datetime, interval: Interval) -> _dt.datetime:
    when = when.astimezone(_dt.timezone.utc)
    if interval is Interval.YEAR:
        return when.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if interval is Interval.QUARTER:
        return when.replace(month=(when.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if interval is Interval.MONTH:
        return when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if interval is Interval.WEEK:  # weeks start on Monday (ISO 8601)
        day = when.replace(hour=0, minute=0, second=0, microsecond=0)
        return day - _dt.timedelta(days=day.weekday())
    if interval is Interval.DAY:
        return when.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval is Interval.HOUR:
        return when.replace(minute=0, second=0, microsecond=0)
    return when.replace(second=0, microsecond=0)


class SummaryResult:
    """What :meth:`ImageSearch.summary` and :meth:`ImageSearch.summary_interval` give.

    Attributes
    ----------
    count : int
        Number of images.
    bytes : int
        Bytes of their stored files.
    products : list of str or None
        The ids of their products (:meth:`~ImageSearch.summary` only).
    interval_start : datetime.datetime or None
        The start of the interval (:meth:`~ImageSearch.summary_interval` only).
    """

    def __init__(self, count: int = 0, bytes: int = 0, products: list[str] | None = None,
                 interval_start: _dt.datetime | None = None):
        self.count = count
        self.bytes = bytes
        self.products = products
        self.interval_start = interval_start

    def __repr__(self) -> str:
        text = [f"\nSummary for {self.count} images:", f" - Total bytes: {self.bytes:,}"]
        if self.products:
            text.append(f" - Products: {', '.join(self.products)}")
        if self.interval_start:
            text.append(f" - Interval start: {self.interval_start}")
        return "\n".join(text)


def _bytes(image: Any) -> int:
    return sum(int(f.get("size") or 0) for f in image.files or ())


def _bound(value: Any, field: str) -> _dt.datetime | None:
    """A summary_interval bound: None or 0 (unbounded), else a datetime, date or ISO 8601 str."""
    if value is None or (not isinstance(value, bool) and value == 0):
        return None
    return to_datetime(value, field)


class ImageSearch(Search):
    """A :class:`Search` of images, which can also keep those whose geometry meets a shape, and summarise."""

    def __init__(self, model: type, store: CatalogStore | None = None):
        super().__init__(model, store)
        self._intersects: Any = None
        self._shape: Any = None

    def intersects(self, geometry: Any) -> "ImageSearch":
        """Only images whose :attr:`~wf_widgets.catalog.Image.geometry` meets ``geometry`` (lon/lat).

        ``geometry``: GeoJSON, a shapely geometry or an object with ``__geo_interface__``
        (an AOI, a DLTile). Images without a geometry are left out.
        """
        shape = to_shapely(getattr(geometry, "__geo_interface__", geometry), field="intersects")
        return self._copy(intersects=geometry, shape=shape)

    def summary(self) -> SummaryResult:
        """How many images the search finds (regardless of ``limit``), the bytes of their files, their products."""
        found = self._run(None)
        return SummaryResult(count=len(found), bytes=sum(map(_bytes, found)),
                             products=sorted({image.product_id for image in found}))

    def summary_interval(self, aggregate_date_field: str = "acquired", interval: str = "year",
                         start_datetime: Any = None, end_datetime: Any = None) -> list[SummaryResult]:
        """Counts and bytes of the images found, per interval of a date field.

        Parameters
        ----------
        aggregate_date_field : str
            ``"acquired"`` (default), ``"created"`` or ``"modified"``.
        interval : str
            ``"year"`` (default), ``"quarter"``, ``"month"``, ``"week"`` (from Monday),
            ``"day"``, ``"hour"`` or ``"minute"`` (UTC).
        start_datetime, end_datetime : datetime, date or ISO 8601 str, optional
            Keep the images whose date is within them (both included); None or ``0``:
            unbounded.

        Returns
        -------
        list of SummaryResult
            One per interval holding images, by ``interval_start``; images without the date
            are left out.
        """
        try:
            field = AggregateDateField(getattr(aggregate_date_field, "value", aggregate_date_field))
        except ValueError:
            raise ValidationError.bad_value("aggregate_date_field", aggregate_date_field,
                                            [f.value for f in AggregateDateField]) from None
        try:
            step = Interval(getattr(interval, "value", interval))
        except ValueError:
            raise ValidationError.bad_value("interval", interval, [i.value for i in Interval]) from None
        start, end = _bound(start_datetime, "start_datetime"), _bound(end_datetime, "end_datetime")
        groups: dict[_dt.datetime, list[Any]] = {}
        for image in self._run(None):
            when = getattr(image, field.value)
            if when is None or (start is not None and when < start) or (end is not None and when > end):
                continue
            groups.setdefault(_interval_start(when, step), []).append(image)
        return [SummaryResult(count=len(images), bytes=sum(map(_bytes, images)), interval_start=key)
                for key, images in sorted(groups.items())]

    def _matches(self, obj: Any, settings: Any) -> bool:
        if self._shape is not None:
            geometry = obj.geometry
            if geometry is None or not geometry.intersects(self._shape):
                return False
        return super()._matches(obj, settings)

