"""Scalar values: Bool, Int, Float, Str, Datetime."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import numpy as np

from ..errors import GraphTypeError, ValidationError
from .base import ARITHMETIC, COMPARISON, KINDS, LOGICAL, Value, promote, register_promoter
from .graph import Node


def _literal(cls: type[Value], value: Any) -> Value:
    if isinstance(value, float) and not math.isfinite(value):
        return cls._from_node(Node("float_str", (repr(value),)))
    return cls._from_node(Node("lit", (value,)))


class Number(Value):
    """Base of Int, Float and Bool: arithmetic, comparisons, logic."""

    _rank = 10

    @classmethod
    def _result_type(cls, op: str, other: type[Value] | None) -> type[Value] | None:
        if other is None:
            if op in ("neg", "pos", "abs"):
                return Int if cls is Bool else cls
            if op == "invert":
                return cls if cls in (Bool, Int) else None
            return None
        if not issubclass(other, Number):
            return super()._result_type(op, other)
        both = {cls, other}
        if op in COMPARISON:
            return Bool
        if op in LOGICAL:
            if both == {Bool}:
                return Bool
            return Int if Float not in both else None
        if op == "truediv":
            return Float
        if op in ARITHMETIC:
            return Float if Float in both else Int
        return None


class Bool(Number):
    """A lazy boolean. ``&``, ``|``, ``^`` and ``~`` are the logical operators."""

    kind = "Bool"
    _rank = 11

    def __new__(cls, value: Any) -> "Bool":
        if isinstance(value, Value):
            if not isinstance(value, Number):
                raise GraphTypeError(f"Cannot make a wf.Bool from wf.{value.kind}")
            return cls._from_node(Node("bool", (value._node,)))
        if not isinstance(value, (bool, int)):
            raise GraphTypeError(f"wf.Bool needs a bool, got {type(value).__name__} {value!r}")
        return _literal(cls, bool(value))


class Int(Number):
    """A lazy integer (64-bit when encoded)."""

    kind = "Int"
    _rank = 12

    def __new__(cls, value: Any) -> "Int":
        if isinstance(value, Value):
            if not isinstance(value, Number):
                raise GraphTypeError(f"Cannot make a wf.Int from wf.{value.kind}")
            return cls._from_node(Node("int", (value._node,)))
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise GraphTypeError(f"wf.Int needs an int, got {type(value).__name__} {value!r}")
        return _literal(cls, int(value))


class Float(Number):
    """A lazy float (64-bit)."""

    kind = "Float"
    _rank = 13

    def __new__(cls, value: Any) -> "Float":
        if isinstance(value, Value):
            if not isinstance(value, Number):
                raise GraphTypeError(f"Cannot make a wf.Float from wf.{value.kind}")
            return cls._from_node(Node("float", (value._node,)))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise GraphTypeError(f"wf.Float needs a number, got {type(value).__name__} {value!r}")
        return _literal(cls, float(value))


class Str(Value):
    """A lazy string: ``+`` concatenates, ``* Int`` repeats, comparisons order."""

    kind = "Str"
    _rank = 20

    def __new__(cls, value: Any) -> "Str":
        if isinstance(value, Value):
            return cls._from_node(Node("str", (value._node,)))
        if not isinstance(value, str):
            raise GraphTypeError(f"wf.Str needs a str, got {type(value).__name__} {value!r}")
        return _literal(cls, value)

    @classmethod
    def _result_type(cls, op: str, other: type[Value] | None) -> type[Value] | None:
        if other is Str and op == "add":
            return Str
        if other in (Int, Bool) and op == "mul":
            return Str
        if other is Str and op in COMPARISON:
            return Bool
        return super()._result_type(op, other)

    def length(self) -> Int:
        """Number of characters."""
        return Int._from_node(Node("length", (self._node,)))


def _parse_datetime(value: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        dt = value
    elif isinstance(value, _dt.date):
        dt = _dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            dt = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                f"Cannot parse {value!r} as a date; use ISO 8601 like '2020-01-01' or '2020-01-01T12:00:00Z'",
                field="datetime", value=value,
            ) from None
    else:
        raise GraphTypeError(f"wf.Datetime needs a datetime, date or ISO string, got {type(value).__name__} {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_dt.timezone.utc)
    return dt.astimezone(_dt.timezone.utc)


class Datetime(Value):
    """A lazy UTC datetime. Naive datetimes and ISO strings are taken as UTC.

    ``Datetime - Datetime`` is a Float of seconds; ``Datetime + Number`` adds seconds.
    """

    kind = "Datetime"
    _rank = 21

    def __new__(cls, value: Any) -> "Datetime":
        if isinstance(value, Datetime):
            return value
        return cls._from_node(Node("datetime", (_parse_datetime(value).isoformat(),)))

    @classmethod
    def _result_type(cls, op: str, other: type[Value] | None) -> type[Value] | None:
        if other is Datetime:
            if op in COMPARISON:
                return Bool
            if op == "sub":
                return Float
        if other is not None and issubclass(other, Number) and other is not Bool and op in ("add", "sub"):
            return Datetime
        return super()._result_type(op, other)

    def _part(self, name: str) -> Int:
        return Int._from_node(Node("datetime_part", (self._node, name)))

    year = property(lambda self: self._part("year"), doc="The year (an Int).")
    month = property(lambda self: self._part("month"), doc="The month, 1..12 (an Int).")
    day = property(lambda self: self._part("day"), doc="The day of the month, 1..31 (an Int).")
    hour = property(lambda self: self._part("hour"), doc="The hour, 0..23 (an Int).")
    minute = property(lambda self: self._part("minute"), doc="The minute, 0..59 (an Int).")
    second = property(lambda self: self._part("second"), doc="The second, 0..59 (an Int).")


#: The parts of a Datetime its properties give (the names ``datetime_part`` accepts).
DATETIME_PARTS = ("year", "month", "day", "hour", "minute", "second")


class NoneType(Value):
    """The lazy ``None``."""

    kind = "None"
    _rank = 1

    def __new__(cls, value: Any = None) -> "NoneType":
        return _literal(cls, None)


@register_promoter
def _promote_scalar(obj: Any) -> Value | None:
    if obj is None:
        return NoneType()
    if isinstance(obj, bool):
        return Bool(obj)
    if isinstance(obj, int):
        return Int(obj)
    if isinstance(obj, float):
        return Float(obj)
    if isinstance(obj, str):
        return Str(obj)
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return Datetime(obj)
    try:  # numpy scalars
        if isinstance(obj, np.generic):
            return promote(obj.item())
    except ImportError:  # pragma: no cover
        pass
    return None


assert KINDS["Int"] is Int
