"""Structured field values of catalog objects, as the original client had them.

:class:`TrackedDict` and :class:`TrackedList` are the dict and list fields (``extra_properties``,
``processing_levels``, a ``bands`` list): each change is checked before it is made and marks
the owning field modified. :class:`MappingAttribute` is a small record of checked fields
(:class:`ProcessingStepAttribute`, :class:`DerivedParamsAttribute`), read and set as attributes
(``band.derived_params.bands.append("red")`` marks the band modified).
"""

from __future__ import annotations

import copy
import datetime as _dt
import enum
import re
from typing import Any, Callable, ClassVar, Mapping

import numpy as np

from ..errors import ValidationError
from .datatypes import DataType

Changed = Callable[[], None] | None


class TrackedDict(dict):
    """A dict field whose changes are checked first and mark the field modified.

    ``product.extra_properties["k"] = "v"`` is a change of ``extra_properties`` (``state``
    becomes ``"modified"``), and a value the catalog can't store is refused at once (the dict
    is left as it was). Copies (``copy.copy``, ``copy.deepcopy``, pickling) are plain dicts.

    Parameters
    ----------
    data : mapping
        The items (already checked).
    check : callable, optional
        Called with the would-be items (a plain dict) before each change; raises to refuse
        it, and may return the items coerced (a dict) to store instead.
    changed : callable, optional
        Called after each change.
    """

    def __init__(self, data: Any = (), check: Callable[[dict], Any] | None = None, changed: Changed = None):
        super().__init__(data)
        self._check = check
        self._changed = changed

    def _change(self, method: str, *args: Any) -> Any:
        trial = dict(self)
        out = getattr(dict, method)(trial, *args)
        if self._check is not None:
            checked = self._check(trial)
            trial = checked if isinstance(checked, dict) else trial
        dict.clear(self)
        dict.update(self, trial)
        if self._changed is not None:
            self._changed()
        return out

    def __setitem__(self, key: Any, value: Any) -> None:
        self._change("__setitem__", key, value)

    def __delitem__(self, key: Any) -> None:
        self._change("__delitem__", key)

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self._change("update", dict(*args, **kwargs))

    def pop(self, key: Any, *default: Any) -> Any:  # type: ignore[override]
        return self._change("pop", key, *default)

    def popitem(self) -> tuple[Any, Any]:
        return self._change("popitem")

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self._change("__setitem__", key, default)
        return self[key]

    def clear(self) -> None:
        self._change("clear")

    def __ior__(self, other: Any) -> "TrackedDict":
        self.update(other)
        return self

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))

    def __copy__(self) -> dict:
        return dict(self)

    def __deepcopy__(self, memo: dict) -> dict:
        return copy.deepcopy(dict(self), memo)


class TrackedList(list):
    """A list field whose changes are checked first and mark the field modified (see :class:`TrackedDict`).

    ``check`` gets the would-be items (a plain list) and may return them coerced.
    """

    def __init__(self, data: Any = (), check: Callable[[list], Any] | None = None, changed: Changed = None):
        super().__init__(data)
        self._check = check
        self._changed = changed

    def _change(self, method: str, *args: Any, **kwargs: Any) -> Any:
        trial = list(self)
        out = getattr(list, method)(trial, *args, **kwargs)
        if self._check is not None:
            checked = self._check(trial)
            trial = checked if isinstance(checked, list) else trial
        list.__setitem__(self, slice(None), trial)
        if self._changed is not None:
            self._changed()
        return out

    def append(self, item: Any) -> None:
        self._change("append", item)

    def extend(self, items: Any) -> None:
        self._change("extend", list(items))

    def insert(self, index: Any, item: Any) -> None:
        self._change("insert", index, item)

    def remove(self, item: Any) -> None:
        self._change("remove", item)

    def pop(self, *index: Any) -> Any:
        return self._change("pop", *index)

    def clear(self) -> None:
        self._change("clear")

    def sort(self, *, key: Any = None, reverse: bool = False) -> None:
        self._change("sort", key=key, reverse=reverse)

    def reverse(self) -> None:
        self._change("reverse")

    def __setitem__(self, index: Any, value: Any) -> None:
        self._change("__setitem__", index, value)

    def __delitem__(self, index: Any) -> None:
        self._change("__delitem__", index)

    def __iadd__(self, other: Any) -> "TrackedList":
        self.extend(other)
        return self

    def __imul__(self, n: Any) -> "TrackedList":
        self._change("__imul__", n)
        return self

    def __reduce__(self) -> Any:
        return (list, (list(self),))

    def __copy__(self) -> list:
        return list(self)

    def __deepcopy__(self, memo: dict) -> list:
        return copy.deepcopy(list(self), memo)


# -- checks of fields ----------------------------------------------------------------------------
def _json_problem(value: Any, where: str) -> str | None:
    """What in ``value`` the catalog can't store as JSON (see ``_check_extra_properties``), or None."""
    if value is None or isinstance(value, (bool, int, float, str, _dt.date, np.number, np.bool_)):
        return None
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return None
    if isinstance(value, (list, tuple)):
        return next((p for i, v in enumerate(value) if (p := _json_problem(v, f"{where}[{i}]")) is not None), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{where} has the key {key!r}, a {type(key).__name__}, not a str"
            problem = _json_problem(item, f"{where}[{key!r}]")
            if problem is not None:
                return problem
        return None
    return f"{where} is a {type(value).__name__} ({value!r})"


def check_extra_properties(value: Any) -> dict[str, Any]:
    """``extra_properties``: a dict the catalog can store as JSON (None is an empty dict)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(f"extra_properties must be a dict, got {value!r}",
                              field="extra_properties", value=value)
    problem = _json_problem(value, "extra_properties")
    if problem is not None:
        raise ValidationError(f"extra_properties must be JSON-able (str keys; None, bool, numbers, str, lists, "
                              f"dicts, dates and numpy numbers as values): {problem}",
                              field="extra_properties", value=value)
    return dict(value)


def check_tags(value: Any, changed: Changed = None) -> TrackedList | None:
    """``tags``: a list of str, or None; changes in place (``tags.append``) call ``changed``."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValidationError(f"tags must be a list of strings, got {value!r}", field="tags", value=value)
    return TrackedList(_tags(list(value)), check=_tags, changed=changed)


def _tags(items: list) -> list:
    if not all(isinstance(v, str) for v in items):
        raise ValidationError(f"tags must be a list of strings, got {items!r}", field="tags", value=items)
    return items


def _str(value: Any, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"{field} must be a string, got {value!r}", field=field, value=value)
    return value


def _int(value: Any, field: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValidationError(f"{field} must be an integer, got {value!r}", field=field, value=value)
    return value


def _data_type(value: Any, field: str) -> DataType | None:
    if value is None:
        return None
    try:
        return DataType.coerce(value)
    except ValidationError as exc:
        raise ValidationError(f"{field}: {exc}", field=field, value=value) from None


def _pair(value: Any, field: str) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValidationError(f"{field} must be two numbers, got {value!r}", field=field, value=value) from None
    return (lo, hi)


def _str_list(value: Any, field: str, changed: Changed = None) -> TrackedList | None:
    if value is None:
        return None

    def check(items: list) -> list:
        if not all(isinstance(v, str) for v in items):
            raise ValidationError(f"{field} must be a list of strings, got {items!r}", field=field, value=items)
        return items

    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValidationError(f"{field} must be a list of strings, got {value!r}", field=field, value=value)
    return TrackedList(check(list(value)), check=check, changed=changed)


def _plain(value: Any) -> Any:
    """``value`` with attribute records and tracked containers as plain dicts and lists (for JSON)."""
    if isinstance(value, MappingAttribute):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, DataType):
        return value.value
    return value


class UnknownAttributeError(ValidationError, AttributeError):
    """A field a record doesn't have (a ValidationError, and an AttributeError as in the original client)."""


class MappingAttribute:
    """A record of named, checked fields, read and set as attributes (the original client's name).

    Subclasses list their fields in ``_checks`` (name -> ``check(value, field)``) and the
    ones that must be set in ``_required``. Two records are equal when their fields are; a
    record also equals a mapping of the same fields (``{"function": "f", ...}``).

    Raises
    ------
    ValidationError
        An unknown field, a bad value, or a required field missing.
    """

    _checks: ClassVar[dict[str, Callable[[Any, str], Any]]] = {}
    _required: ClassVar[tuple[str, ...]] = ()
    _name: ClassVar[str] = ""

    def __init__(self, **kwargs: Any):
        object.__setattr__(self, "_values", dict.fromkeys(self._checks))
        object.__setattr__(self, "_changed", None)
        unknown = sorted(set(kwargs) - set(self._checks))
        if unknown:
            raise UnknownAttributeError(f"{self._name} has no field(s) {', '.join(map(repr, unknown))}; fields: "
                                  f"{', '.join(self._checks)}", field=self._name, value=unknown[0],
                                  allowed=tuple(self._checks))
        for name, value in kwargs.items():
            setattr(self, name, value)
        missing = [name for name in self._required if not self._values[name]]
        if missing:
            raise ValidationError(f"{self._name} needs {' and '.join(map(repr, missing))}", field=self._name,
                                  value=kwargs, allowed=self._required)

    @classmethod
    def coerce(cls, value: Any, field: str) -> "MappingAttribute":
        """``value`` (a record of this class or a mapping of its fields) as a new record."""
        if isinstance(value, cls):
            value = value.to_dict()
        if not isinstance(value, Mapping):
            raise ValidationError(f"{field} must be a {cls.__name__} or a dict of {', '.join(cls._checks)}, "
                                  f"got {value!r}", field=field, value=value)
        return cls(**value)

    def _bind(self, changed: Changed) -> "MappingAttribute":
        """Report every later change of this record (and of its lists) to ``changed``."""
        object.__setattr__(self, "_changed", changed)
        for value in self._values.values():
            if isinstance(value, TrackedList):
                value._changed = changed
        return self

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._checks:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}; fields: {', '.join(self._checks)}")
        self._values[name] = self._checks[name](value, f"{self._name}.{name}")
        if isinstance(self._values[name], TrackedList):
            self._values[name]._changed = self._changed
        if self._changed is not None:
            self._changed()

    def to_dict(self) -> dict[str, Any]:
        """The fields that are set, as JSON-able values."""
        return {k: _plain(v) for k, v in self._values.items() if v is not None}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MappingAttribute):
            return type(other) is type(self) and self.to_dict() == other.to_dict()
        if isinstance(other, Mapping):
            try:
                return self.to_dict() == type(self).coerce(other, self._name).to_dict()
            except ValidationError:
                return False
        return NotImplemented

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._values.items() if v is not None)})"

    def __deepcopy__(self, memo: dict) -> "MappingAttribute":
        return type(self)(**copy.deepcopy(self.to_dict(), memo))

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.to_dict()))


def _rebuild(cls: type[MappingAttribute], values: dict[str, Any]) -> MappingAttribute:
    return cls(**values)


class ProcessingStepAttribute(MappingAttribute):
    """One step of a band's processing level.

    Attributes
    ----------
    function : str
        Name of the processing function.
    parameter : str
        Name of the image property holding the function's coefficients.
    index : int
        Index into that property (an array) for this band.
    data_type : DataType, optional
    data_range, display_range, physical_range : (float, float), optional
    physical_range_unit : str, optional
    """

    _name = "processing step"
    _checks = {"function": _str, "parameter": _str, "index": _int, "data_type": _data_type, "data_range": _pair,
               "display_range": _pair, "physical_range": _pair, "physical_range_unit": _str}


class DerivedParamsAttribute(MappingAttribute):
    """How a band is derived from other bands.

    Attributes
    ----------
    function : str
        Name of the function. Required.
    bands : list of str
        Names of the bands it takes. Required.
    source_type : DataType, optional
        Data type of the pixels read from the source bands.
    """

    _name = "derived_params"
    _checks = {"function": _str, "bands": _str_list, "source_type": _data_type}
    _required = ("function", "bands")


class ResolutionUnit(str, enum.Enum):
    """The units of a :class:`Resolution`."""

    METERS = "meters"
    DEGREES = "degrees"


_RESOLUTION_TEXT = re.compile(r"^\s*([-0-9.]+)\s*([a-zA-Z.\u00b0]+)\s*$")
_UNIT_NAMES = {"m": "meters", "meter": "meters", "metre": "meters", "meters": "meters", "metres": "meters",
               "\u00b0": "degrees", "deg": "degrees", "degree": "degrees", "degrees": "degrees"}


def _unit(value: Any, field: str) -> ResolutionUnit | None:
    if value is None:
        return None
    try:
        return ResolutionUnit(getattr(value, "value", value))
    except ValueError:
        raise ValidationError.bad_value(field, value, [u.value for u in ResolutionUnit]) from None


def _float(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValidationError(f"{field} must be a number, got {value!r}", field=field, value=value)
    return float(value)


class Resolution(MappingAttribute):
    """A pixel size with its unit: ``Resolution(value=10, unit="meters")``, ``Resolution("10m")``, ``Resolution("0.1 deg")``.

    Compared with a plain number, the number is in meters (as the original client's filters).
    """

    _name = "resolution"
    _checks = {"value": _float, "unit": _unit}

    def __init__(self, values: Any = None, **kwargs: Any):
        if isinstance(values, str):
            match = _RESOLUTION_TEXT.match(values)
            unit = match and _UNIT_NAMES.get(match.group(2).lower().rstrip("."))
            if not unit:
                raise ValidationError(f"The resolution {values!r} can't be read: give a number and a unit, like '10m' "
                                      f"or '0.1 deg'", field="resolution", value=values)
            kwargs = {"value": float(match.group(1)), "unit": unit, **kwargs}
        elif isinstance(values, Mapping):
            kwargs = {**values, **kwargs}
        elif values is not None:
            raise ValidationError(f"resolution must be a str like '10m' or a dict of value and unit, got {values!r}",
                                  field="resolution", value=values)
        super().__init__(**kwargs)

    def _meters(self, other: Any) -> tuple[float, float] | None:
        """(self, other) as numbers of one unit, or None when they can't be compared."""
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return (self.value, float(other)) if self.unit is ResolutionUnit.METERS else None
        if isinstance(other, Resolution) and other.unit is self.unit:
            return (self.value, other.value)
        return None

    def __eq__(self, other: object) -> bool:
        pair = self._meters(other)
        return pair[0] == pair[1] if pair is not None else super().__eq__(other)

    __hash__ = None  # mutable

    def _order(self, other: Any, op: Callable[[float, float], bool]) -> bool:
        pair = self._meters(other)
        if pair is None:
            return NotImplemented
        return op(*pair)

    def __lt__(self, other: Any) -> bool:
        return self._order(other, lambda a, b: a < b)

    def __le__(self, other: Any) -> bool:
        return self._order(other, lambda a, b: a <= b)

    def __gt__(self, other: Any) -> bool:
        return self._order(other, lambda a, b: a > b)

    def __ge__(self, other: Any) -> bool:
        return self._order(other, lambda a, b: a >= b)


def band_resolution(value: Any) -> Resolution | None:
    """A band's stored ``resolution`` (meters as a number, or a dict of value and unit) as a :class:`Resolution`."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return Resolution(value=value.get("value"), unit=value.get("unit", "meters"))
    return Resolution(value=value, unit="meters")


def check_processing_levels(value: Any, changed: Changed = None) -> TrackedDict | None:
    """``processing_levels``: a dict of level name -> a level name (str) or a list of processing steps.

    Steps may be given as :class:`ProcessingStepAttribute` or dicts of its fields.
    """
    if value is None:
        return None
    field = "processing_levels"

    def steps(items: list, key: str) -> TrackedList:
        return TrackedList([ProcessingStepAttribute.coerce(v, f"{field}[{key!r}]")._bind(changed) for v in items],
                           check=lambda trial: [ProcessingStepAttribute.coerce(v, f"{field}[{key!r}]")._bind(changed)
                                                for v in trial],
                           changed=changed)

    def check(levels: dict) -> dict:
        out = {}
        for key, level in levels.items():
            if not isinstance(key, str):
                raise ValidationError(f"{field} keys must be strings, got {key!r}", field=field, value=key)
            if isinstance(level, str):
                out[key] = level
            elif isinstance(level, (list, tuple)):
                out[key] = level if isinstance(level, TrackedList) and level._changed is changed else \
                    steps(list(level), key)
            else:
                raise ValidationError(f"{field}[{key!r}] must be a level name (str) or a list of processing steps, "
                                      f"got {level!r}", field=field, value=level)
        return out

    if not isinstance(value, Mapping):
        raise ValidationError(f"{field} must be a dict of level name -> str or list of processing steps, "
                              f"got {value!r}", field=field, value=value)
    return TrackedDict(check(dict(value)), check=check, changed=changed)


def check_derived_params(value: Any, changed: Changed = None) -> DerivedParamsAttribute | None:
    """``derived_params``: a :class:`DerivedParamsAttribute` or a dict of its fields."""
    if value is None:
        return None
    return DerivedParamsAttribute.coerce(value, "derived_params")._bind(changed)
