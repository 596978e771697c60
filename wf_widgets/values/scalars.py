"""Scalar values: Bool, Int, Float, Str, Datetime, NoneType.

Typing, as the original client typed it:

* ``Int`` and ``Float`` mix in arithmetic (``Int + Float`` is a Float, ``Int / Int`` a
  Float); ``Bool`` takes part as an Int (``Int + Bool`` is an Int) but has no arithmetic
  or ordering of its own (``Bool + Bool``, ``Bool < Bool`` are errors);
* ``&``, ``|``, ``^``: bitwise on Ints (``Int & Bool`` is an Int), logical when the left
  operand is a Bool (``Bool & Int`` is a Bool); ``<<``, ``>>`` on Ints; ``~`` on Int and
  Bool (logical not);
* ``divmod`` gives a ``Tuple[Int, Int]`` or ``Tuple[Float, Float]``;
* one numeric type is never converted to another implicitly: ``wf.List[wf.Int]`` refuses
  a ``wf.Float``; convert explicitly: ``wf.Int(wf.Float(2.5))``, ``wf.Float(wf.Str("1"))``.

Numpy scalars are accepted where the Python type of their kind is (``np.int32`` for an
Int, ``np.float32`` for a Float, ``np.bool_`` for a Bool).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import string
from typing import Any

import numpy as np

from ..errors import GraphTypeError, ValidationError
from .base import (
    ARITHMETIC,
    COMPARISON,
    KINDS,
    LOGICAL,
    SHIFTS,
    TYPES,
    Any_,
    Value,
    promote,
    register_promoter,
    type_from_name,
    type_name,
)
from .graph import Node


def _literal(cls: type[Value], value: Any) -> Value:
    if isinstance(value, float) and not math.isfinite(value):
        return cls._from_node(Node("float_str", (repr(value),)))
    return cls._from_node(Node("lit", (value,)))


class Primitive(Value):
    """Base of the scalar types (Int, Float, Bool, Str, NoneType); not a type of its own."""

    def __new__(cls, value: Any = None) -> "Primitive":
        raise GraphTypeError(f"Cannot instantiate a generic {cls.__name__}; use a concrete subclass "
                             "(wf.Int, wf.Float, wf.Bool, wf.Str, wf.NoneType)")


class Number(Primitive):
    """Base of Int, Float and Bool: arithmetic, comparisons, logic. Only for ``isinstance`` checks."""

    _rank = 10

    @classmethod
    def _result_type(cls, op: str, other: type[Value] | None) -> type[Value] | None:
        if other is None:
            if cls is Bool:
                return Bool if op == "invert" else None
            if op in ("neg", "pos", "abs"):
                return cls
            return Int if op == "invert" and cls is Int else None
        if not issubclass(other, Number):
            return None
        both = {cls, other}
        floaty = Float in both
        if op in ("eq", "ne"):
            return Bool
        if both == {Bool}:  # a Bool has only equality and logic of its own
            return Bool if op in LOGICAL else None
        if op in COMPARISON:
            return Bool
        if op in LOGICAL | SHIFTS:
            return None if floaty else Int
        if op == "truediv":
            return Float
        if op == "divmod":
            item = Float if floaty else Int
            return TYPES["Tuple"][item, item]
        if op in ARITHMETIC:
            return Float if floaty else Int
        return None

    @classmethod
    def _promote(cls, obj: Any) -> Value:
        if isinstance(obj, cls):
            return obj
        if cls is Number:
            raise GraphTypeError(f"Cannot promote {obj!r} to Number: it is abstract; use wf.Int or wf.Float")
        if isinstance(obj, Any_):
            return obj.cast(cls)
        if isinstance(obj, Bool) and cls in (Int, Float):  # as the original: a Bool counts as a number
            return cls(obj)
        if isinstance(obj, (Number, Str)):
            raise GraphTypeError(f"Cannot promote wf.{type_name(type(obj))} to {cls.__name__}. "
                                 f"You need to convert it explicitly, like `{cls.__name__}(x)`")
        if cls is Bool and not isinstance(obj, (bool, np.bool_)):
            raise GraphTypeError(f"Cannot promote {obj!r} to Bool: a Bool needs a bool")
        return super()._promote(obj)

    def __index__(self) -> int:
        raise GraphTypeError(f"Cannot convert wf.{type_name(type(self))} to a Python int: a lazy value can only "
                             "index other wf values")


def _numpy_item(value: np.generic, kinds: str, cls: type[Value]) -> Any:
    if value.dtype.kind not in kinds:
        raise GraphTypeError(f"Cannot promote {value!r} (numpy {value.dtype}) to {cls.__name__}")
    return value.item()


class Bool(Number):
    """A lazy boolean. ``&``, ``|``, ``^`` and ``~`` are the logical operators."""

    kind = "Bool"
    _rank = 11

    def __new__(cls, value: Any) -> "Bool":
        if isinstance(value, Bool):
            return value
        if isinstance(value, Any_):
            return cls._from_node(value._node)
        if isinstance(value, (Number, Str)):
            return cls._from_node(Node("bool", (value._node,)))
        if isinstance(value, Value):
            raise GraphTypeError(f"Cannot promote wf.{type_name(type(value))} to Bool")
        if isinstance(value, np.generic):
            value = _numpy_item(value, "b", cls)
        if not isinstance(value, (bool, int)):
            raise GraphTypeError(f"Cannot promote {value!r} to Bool: wf.Bool needs a bool, got "
                                 f"{type(value).__name__} {value!r}")
        return _literal(cls, bool(value))

    def _binary(self, op: str, other: Any, reflected: bool = False) -> Value:
        # A Bool on the left makes &, |, ^ logical (as numpy's logical_and): Bool & Int is a Bool.
        if op in LOGICAL:
            o = other
            if isinstance(o, (bool, int, np.bool_, np.integer)) and not isinstance(o, Value):
                o = promote(o)
            if isinstance(o, (Bool, Int)):
                left, right = (o, self) if reflected else (self, o)
                return Bool._from_node(Node("logical_" + op, (left._node, right._node)))
        return super()._binary(op, other, reflected)


class Int(Number):
    """A lazy integer (64-bit when encoded)."""

    kind = "Int"
    _rank = 12

    def __new__(cls, value: Any) -> "Int":
        if isinstance(value, Int):
            return value
        if isinstance(value, Any_):
            return cls._from_node(value._node)
        if isinstance(value, (Number, Str)):
            return cls._from_node(Node("int", (value._node,)))
        if isinstance(value, Value):
            raise GraphTypeError(f"Cannot promote wf.{type_name(type(value))} to Int")
        if isinstance(value, np.generic):
            value = _numpy_item(value, "iub", cls)
        if not isinstance(value, int):
            raise GraphTypeError(f"Cannot promote {value!r} to Int: wf.Int needs an int, got "
                                 f"{type(value).__name__} {value!r}")
        return _literal(cls, int(value))


class Float(Number):
    """A lazy float (64-bit)."""

    kind = "Float"
    _rank = 13

    def __new__(cls, value: Any) -> "Float":
        if isinstance(value, Float):
            return value
        if isinstance(value, Any_):
            return cls._from_node(value._node)
        if isinstance(value, (Number, Str)):
            return cls._from_node(Node("float", (value._node,)))
        if isinstance(value, Value):
            raise GraphTypeError(f"Cannot promote wf.{type_name(type(value))} to Float")
        if isinstance(value, np.generic):
            value = _numpy_item(value, "f", cls)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise GraphTypeError(f"Cannot promote {value!r} to Float: wf.Float needs a number, got "
                                 f"{type(value).__name__} {value!r}")
        return _literal(cls, float(value))


# -- Str -----------------------------------------------------------------------------------------
_REQUIRED: Any = object()

#: The string methods of Str (the names ``str_method`` accepts) -> (result type name,
#: ((argument, allowed type names, default), ...)), as the original client typed them.
STR_METHODS: dict[str, tuple[str, tuple]] = {
    "capitalize": ("Str", ()),
    "center": ("Str", (("width", ("Int",), _REQUIRED), ("fillchar", ("Str",), " "))),
    "count": ("Int", (("sub", ("Str",), _REQUIRED),)),
    "endswith": ("Bool", (("suffix", ("Str",), _REQUIRED),)),
    "expandtabs": ("Str", (("tabsize", ("Int",), 8),)),
    "find": ("Int", (("sub", ("Str",), _REQUIRED),)),
    "isalnum": ("Bool", ()),
    "isalpha": ("Bool", ()),
    "isdigit": ("Bool", ()),
    "islower": ("Bool", ()),
    "isspace": ("Bool", ()),
    "istitle": ("Bool", ()),
    "isupper": ("Bool", ()),
    "join": ("Str", (("strings", ("List[Str]",), _REQUIRED),)),
    "ljust": ("Str", (("width", ("Int",), _REQUIRED), ("fillchar", ("Str",), " "))),
    "lower": ("Str", ()),
    "lstrip": ("Str", (("chars", ("Str", "NoneType"), None),)),
    "partition": ("Tuple[Str, Str, Str]", (("sep", ("Str",), _REQUIRED),)),
    "replace": ("Str", (("old", ("Str",), _REQUIRED), ("new", ("Str",), _REQUIRED), ("count", ("Int",), -1))),
    "rfind": ("Int", (("sub", ("Str",), _REQUIRED),)),
    "rjust": ("Str", (("width", ("Int",), _REQUIRED), ("fillchar", ("Str",), " "))),
    "rpartition": ("Tuple[Str, Str, Str]", (("sep", ("Str",), _REQUIRED),)),
    "rsplit": ("List[Str]", (("sep", ("Str", "NoneType"), None), ("maxsplit", ("Int",), -1))),
    "rstrip": ("Str", (("chars", ("Str", "NoneType"), None),)),
    "split": ("List[Str]", (("sep", ("Str", "NoneType"), None), ("maxsplit", ("Int",), -1))),
    "splitlines": ("List[Str]", ()),
    "startswith": ("Bool", (("prefix", ("Str",), _REQUIRED),)),
    "strip": ("Str", (("chars", ("Str", "NoneType"), None),)),
    "swapcase": ("Str", ()),
    "title": ("Str", ()),
    "upper": ("Str", ()),
    "zfill": ("Str", (("width", ("Int",), _REQUIRED),)),
}

#: Largest number in a ``Str.format`` format spec (a width or precision).
MAX_FORMAT_NUMBER = 100_000
_FIELD_NAME = re.compile(r"\A(?:|\d+|[A-Za-z_][A-Za-z0-9_]*)\Z")


def check_format_template(template: Any, field: str = "template", depth: int = 0) -> None:
    """Refuse a ``str.format`` template that reads attributes or items (``{0.__class__}``, ``{0[x]}``)
    or asks for a huge width.

    Raises
    ------
    ValidationError
        Naming the first bad replacement field.
    """
    if not isinstance(template, str):
        raise ValidationError(f"{field!r} must be a str, got {type(template).__name__}", field=field,
                              value=type(template).__name__)
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValidationError(f"Bad format template {template!r}: {exc}", field=field, value=template) from None
    for _, name, spec, _ in parts:
        if name is None:
            continue
        if not _FIELD_NAME.match(name):
            raise ValidationError(
                f"Format field {{{name}}} of {template!r} is not allowed: a field is empty, a position or a name "
                "(no attribute or item access)", field=field, value=template)
        if spec:
            if depth >= 2:
                raise ValidationError(f"Format template {template!r} nests fields too deeply", field=field,
                                      value=template)
            if any(int(n) > MAX_FORMAT_NUMBER for n in re.findall(r"\d+", spec)):
                raise ValidationError(f"Format spec {spec!r} of {template!r} asks for more than "
                                      f"{MAX_FORMAT_NUMBER} characters", field=field, value=template)
            check_format_template(spec, field, depth + 1)


def _promote_arg(value: Any, names: tuple[str, ...], where: str, arg: str) -> Value:
    errors = []
    for name in names:
        try:
            return type_from_name(name)._promote(value)
        except GraphTypeError as exc:
            errors.append(f"{name}: {exc}")
    raise GraphTypeError(f"Argument {arg!r} to {where}: expected {' or '.join(names)} or an object promotable to "
                         f"{'that' if len(names) == 1 else 'those'}, but got {type(value).__name__}: {value!r}\n\n"
                         "While promoting, these errors occurred:\n\n" + "\n\n".join(errors))


def _str_method(name: str):
    result, spec = STR_METHODS[name]

    def method(self: "Str", *args: Any, **kwargs: Any) -> Value:
        where = f"Str.{name}()"
        if len(args) > len(spec):
            raise GraphTypeError(f"{where} takes at most {len(spec)} argument(s), got {len(args)}")
        values = []
        for i, (arg, types, default) in enumerate(spec):
            if i < len(args):
                if arg in kwargs:
                    raise GraphTypeError(f"{where} got multiple values for argument {arg!r}")
                given = args[i]
            elif arg in kwargs:
                given = kwargs.pop(arg)
            elif default is _REQUIRED:
                raise GraphTypeError(f"{where} missing required argument {arg!r}")
            else:
                given = default
            values.append(_promote_arg(given, types, where, arg))
        extra = [k for k in kwargs if k not in {s[0] for s in spec}]
        if extra:
            raise GraphTypeError(f"{where} got an unexpected keyword argument {extra[0]!r}")
        node = Node("str_method", (self._node, name) + tuple(v._node for v in values))
        return type_from_name(result)._from_node(node)

    method.__name__ = name
    method.__qualname__ = f"Str.{name}"
    args = ", ".join(a if d is _REQUIRED else f"{a}={d!r}" for a, _, d in spec)
    method.__doc__ = f"Python's ``str.{name}({args})``, lazily: a {result}."
    return method


class Str(Primitive):
    """A lazy string with the methods of Python's str.

    ``+`` concatenates, ``* Int`` repeats, comparisons order, ``s[i]`` and ``s[a:b]``
    index; ``contains``, ``length``, ``format`` and the str methods of :data:`STR_METHODS`
    (``split`` gives a ``List[Str]``, ``partition`` a ``Tuple[Str, Str, Str]``).
    """

    kind = "Str"
    _rank = 20

    def __new__(cls, value: Any) -> "Str":
        if isinstance(value, Str):
            return value
        if isinstance(value, Any_):
            return cls._from_node(value._node)
        if isinstance(value, Value):
            return cls._from_node(Node("str", (value._node,)))
        if isinstance(value, np.str_):
            value = str(value)
        if not isinstance(value, str):
            raise GraphTypeError(f"Cannot promote {value!r} to Str: wf.Str needs a str, got "
                                 f"{type(value).__name__} {value!r}")
        return _literal(cls, value)

    @classmethod
    def _promote(cls, obj: Any) -> Value:
        if isinstance(obj, Value) and not isinstance(obj, (Str, Any_)):
            raise GraphTypeError(f"Cannot promote wf.{type_name(type(obj))} to Str. "
                                 "You need to convert it explicitly, like `Str(x)`")
        return super()._promote(obj)

    @classmethod
    def _result_type(cls, op: str, other: type[Value] | None) -> type[Value] | None:
        if other is Str and op == "add":
            return Str
        if other in (Int, Bool) and op == "mul":
            return Str
        if other is Str and op in COMPARISON:
            return Bool
        return None

    def length(self) -> Int:
        """Number of characters."""
        return Int._from_node(Node("length", (self._node,)))

    def contains(self, other: Any) -> Bool:
        """Whether ``other`` is a substring of this string (Python's ``in``), a Bool."""
        sub = _promote_arg(other, ("Str",), "Str.contains()", "other")
        return Bool._from_node(Node("contains", (self._node, sub._node)))

    def __reversed__(self) -> "Str":
        return Str._from_node(Node("reversed", (self._node,)))

    def __getitem__(self, index: Any) -> "Str":
        if isinstance(index, slice):
            parts = (index.start, index.stop, index.step)
            args = tuple(_promote_arg(p, ("Int", "NoneType"), "Str[...]", "slice")._node for p in parts)
            return Str._from_node(Node("slice", (self._node,) + args))
        idx = _promote_arg(index, ("Int", "Slice"), "Str[...]", "index")
        return Str._from_node(Node("getitem", (self._node, idx._node)))

    def format(self, *args: Any, **kwargs: Any) -> "Str":
        """Python's ``str.format``, lazily.

        Replacement fields are positions or names (``"{} {0} {name}"``); attribute and item
        access in fields (``"{0.real}"``, ``"{0[1]}"``) is refused.
        """
        if self._node.op == "lit":
            check_format_template(self._node.args[0])
        values = [promote(a) for a in args] + [promote(v) for v in kwargs.values()]
        keys = [None] * len(args) + list(kwargs)
        return Str._from_node(Node("str_format", (self._node, keys) + tuple(v._node for v in values)))


for _name in STR_METHODS:
    setattr(Str, _name, _str_method(_name))


# -- Datetime, NoneType ---------------------------------------------------------------------------
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
        if isinstance(value, Any_):
            return cls._from_node(value._node)
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
        return None

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


class NoneType(Primitive):
    """The lazy ``None``."""

    kind = "None"
    _rank = 1

    def __new__(cls, value: Any = None) -> "NoneType":
        if isinstance(value, NoneType):
            return value
        if isinstance(value, Any_):
            return cls._from_node(value._node)
        if value is not None:
            raise GraphTypeError(f"Cannot promote {value!r} to NoneType: it takes only None")
        return _literal(cls, None)

    @classmethod
    def _result_type(cls, op: str, other: type[Value] | None) -> type[Value] | None:
        return Bool if other is NoneType and op in ("eq", "ne") else None


@register_promoter
def _promote_scalar(obj: Any) -> Value | None:
    if obj is None:
        return NoneType()
    if isinstance(obj, (bool, np.bool_)):
        return Bool(obj)
    if isinstance(obj, np.generic):
        item = obj.item()
        return None if isinstance(item, np.generic) else promote(item)
    if isinstance(obj, int):
        return Int(obj)
    if isinstance(obj, float):
        return Float(obj)
    if isinstance(obj, str):
        return Str(obj)
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return Datetime(obj)
    return None


TYPES.update(Bool=Bool, Int=Int, Float=Float, Str=Str, Datetime=Datetime, NoneType=NoneType)
assert KINDS["Int"] is Int
