"""The table of graph operations: op name -> implementation and signature.

Each implementation takes the evaluated arguments (children already computed, literals
as they are). Ops registered with ``context=True`` also get the
:class:`~wf_widgets.engine.evaluate.EvalContext` first. ``extra_steps(ctx, node)`` says
how many work units beyond its own step an op will report with ``ctx.step()`` (scene
reads, for example), so ``steps_total`` is known before the job runs.

Every op declares, where it is registered, the arguments it accepts (a
:class:`~wf_widgets.values.graph.Signature`: positional and keyword parameters, which
must be literals, of which types and values); graphs loaded from JSON are checked
against them before anything is evaluated (:func:`wf_widgets.values.graph.from_json`).

No op looks anything up by a name that came from a graph (no ``getattr``): an op taking
a name maps it to a function through a dict and refuses any other name with a
ValidationError naming the field, the value and the allowed names.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as _dt
import operator
from typing import Any, Callable

import numpy as np

from ..errors import ValidationError, ValidationTypeError
from ..values.array import AXIS_REDUCTIONS, DTYPES
from ..values.graph import Param, Signature, declare, literal, value
from ..values.scalars import DATETIME_PARTS


@dataclasses.dataclass(frozen=True)
class OpSpec:
    fn: Callable[..., Any]
    context: bool = False
    extra_steps: Callable[..., int] | None = None
    needs_geoctx: bool = False


OPS: dict[str, OpSpec] = {}


def op(name: str, *params: Param, varargs: Param | None = None, keywords: bool = False,
       check: Callable[[str, tuple, dict], None] | None = None, context: bool = False,
       extra_steps: Callable[..., int] | None = None, needs_geoctx: bool = False):
    """Register the decorated function as the implementation of op ``name``, with its signature.

    Parameters
    ----------
    name : str
    *params : Param
        The positional parameters (:func:`~wf_widgets.values.graph.value` for any
        argument, :func:`~wf_widgets.values.graph.literal` for a literal), required first.
    varargs : Param, optional
        Any number of further positional arguments of this kind.
    keywords : bool
        The optional parameters may also be given by keyword.
    check : callable, optional
        ``check(op, args, kwargs)`` across arguments.
    context, extra_steps, needs_geoctx
        See the module docstring; ``needs_geoctx``: the op reads imagery, so ``compute()``
        refuses to start without a geoctx.
    """
    signature = Signature(tuple(params), varargs, keywords, check)

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        OPS[name] = OpSpec(fn, context, extra_steps, needs_geoctx)
        declare(name, signature)
        return fn

    return register


# -- literal checks --------------------------------------------------------------------------
def str_list(v: Any, field: str) -> None:
    """A list of str."""
    if not all(isinstance(x, str) for x in v):
        raise ValidationError(f"{field!r} must be a list of str, got {v!r}", field=field, value=v)


def same_length(keys_at: int) -> Callable[[str, tuple, dict], None]:
    """A call check: the list literal at position ``keys_at`` names one key per argument after it."""

    def check(name: str, args: tuple, kwargs: dict) -> None:
        keys, values = args[keys_at], args[keys_at + 1:]
        if len(keys) != len(values):
            raise ValidationError(f"{name!r} got {len(keys)} key(s) for {len(values)} value(s)",
                                  field=f"{name}.keys", value=len(keys))

    return check


def _shape(v: Any, field: str) -> None:
    if len(v) > 32 or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v):
        raise ValidationError(f"{field!r} must be a list of at most 32 integers >= 0, got {v!r}", field=field, value=v)


def _axis(v: Any, field: str) -> None:
    if isinstance(v, list) and not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        raise ValidationError(f"{field!r} must be None, an int or a list of int, got {v!r}", field=field, value=v)


def iso_date(v: Any, field: str) -> None:
    """None or an ISO 8601 date string."""
    if v is None:
        return
    try:
        _dt.datetime.fromisoformat(v)
    except ValueError:
        raise ValidationError(f"{field!r} is not an ISO 8601 date: {v!r}", field=field, value=v) from None


# -- generic operators -----------------------------------------------------------------------
_BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow,
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
    "ge": operator.ge, "and": operator.and_, "or": operator.or_, "xor": operator.xor,
}
_UNARY = {"neg": operator.neg, "pos": operator.pos, "abs": operator.abs, "invert": operator.invert}


def _invert(x: Any) -> Any:
    # ~True is -2 in Python; a wf.Bool inverts logically.
    return (not x) if isinstance(x, bool) else operator.invert(x)


def _add(a: Any, b: Any) -> Any:
    # Datetime + Number adds seconds.
    if isinstance(a, _dt.datetime) and not isinstance(b, _dt.datetime):
        return a + _dt.timedelta(seconds=b)
    if isinstance(b, _dt.datetime) and not isinstance(a, _dt.datetime):
        return b + _dt.timedelta(seconds=a)
    return operator.add(a, b)


def _sub(a: Any, b: Any) -> Any:
    # Datetime - Datetime is a Float of seconds; Datetime - Number subtracts seconds.
    if isinstance(a, _dt.datetime):
        if isinstance(b, _dt.datetime):
            return (a - b).total_seconds()
        return a - _dt.timedelta(seconds=b)
    return operator.sub(a, b)


_BINARY.update(add=_add, sub=_sub)
_UNARY.update(invert=_invert)
for _name, _fn in _BINARY.items():
    op(_name, value("left"), value("right"))(_fn)
for _name, _fn in _UNARY.items():
    op(_name, value("operand"))(_fn)


# -- scalars ---------------------------------------------------------------------------------
@op("lit", literal("value"))
def _lit(value: Any) -> Any:
    return value


@op("float_str", literal("text", str))
def _float_str(text: str) -> float:
    return float(text)


op("int", value("value"))(int)
op("float", value("value"))(float)
op("bool", value("value"))(bool)
op("str", value("value"))(str)


@op("datetime", literal("iso", str, check=iso_date))
def _datetime(iso: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(iso)


#: ``datetime_part`` names (what :class:`wf_widgets.values.Datetime` exposes) -> the part.
DATETIME_PART_FUNCTIONS: dict[str, Callable[[_dt.datetime], int]] = {
    "year": lambda d: d.year, "month": lambda d: d.month, "day": lambda d: d.day,
    "hour": lambda d: d.hour, "minute": lambda d: d.minute, "second": lambda d: d.second,
}


@op("datetime_part", value("value"), literal("name", str, allowed=DATETIME_PARTS))
def _datetime_part(value: _dt.datetime, name: str) -> int:
    part = DATETIME_PART_FUNCTIONS.get(name) if isinstance(name, str) else None
    if part is None:
        raise ValidationError.bad_value("datetime_part.name", name, DATETIME_PARTS)
    if not isinstance(value, _dt.datetime):
        raise ValidationTypeError(f"datetime_part needs a Datetime, got {type(value).__name__}",
                                  field="datetime_part.value", value=type(value).__name__)
    return part(value)


# -- containers ------------------------------------------------------------------------------
@op("list", varargs=value("item"))
def _list(*items: Any) -> list:
    return list(items)


@op("dict", literal("keys", list, check=str_list), varargs=value("value"), check=same_length(0))
def _dict(keys: list, *values: Any) -> dict:
    return dict(zip(keys, values))


@op("getitem", value("container"), value("key"))
def _getitem(container: Any, key: Any) -> Any:
    if isinstance(container, dict) and key not in container:
        raise KeyError(f"Key {key!r} not in Dict; keys: {', '.join(map(repr, container))}")
    if isinstance(container, (list, str)) and not -len(container) <= key < len(container):
        raise IndexError(f"Index {key} out of range for a List of length {len(container)}")
    return container[key]


@op("slice", value("container"), value("start"), value("stop"), value("step"))
def _slice(container: Any, start: Any, stop: Any, step: Any) -> Any:
    return container[start:stop:step]


@op("length", value("container"))
def _length(container: Any) -> int:
    return len(container)


@op("dict_keys", value("dict"))
def _dict_keys(d: dict) -> list:
    return list(d)


@op("dict_values", value("dict"))
def _dict_values(d: dict) -> list:
    return list(d.values())


# -- arrays ----------------------------------------------------------------------------------
@op("array", literal("dtype", str, allowed=DTYPES), literal("shape", list, check=_shape), literal("payload", str))
def _array(dtype: str, shape: list, payload: str) -> np.ndarray:
    if dtype not in DTYPES:
        raise ValidationError.bad_value("array.dtype", dtype, DTYPES)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("'array.payload' is not base64", field="array.payload") from None
    return np.frombuffer(data, dtype=np.dtype(dtype)).reshape(shape).copy()


#: ``array_reduce`` names (the reductions :class:`wf_widgets.values.Array` has) -> the numpy function.
ARRAY_REDUCERS: dict[str, Callable[..., Any]] = {
    "sum": np.sum, "mean": np.mean, "min": np.min, "max": np.max, "std": np.std, "median": np.median,
}


@op("array_reduce", value("array"), literal("name", str, allowed=AXIS_REDUCTIONS),
    literal("axis", type(None), int, list, check=_axis))
def _array_reduce(arr: np.ndarray, name: str, axis: Any) -> Any:
    reducer = ARRAY_REDUCERS.get(name) if isinstance(name, str) else None
    if reducer is None:
        raise ValidationError.bad_value("array_reduce.name", name, AXIS_REDUCTIONS)
    if not isinstance(arr, (np.ndarray, np.generic)) or arr.dtype.kind not in "biuf":
        raise ValidationTypeError(f"array_reduce needs a numeric Array, got {type(arr).__name__}",
                                  field="array_reduce.array", value=type(arr).__name__)
    axis = tuple(axis) if isinstance(axis, list) else axis
    return reducer(arr, axis=axis)
