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
from ..values.base import check_parameter_name, check_type_name
from ..values.function import check_function, load_function
from ..values.graph import MAX_INT_BITS, Node, Param, Signature, declare, literal, value
from ..values.scalars import DATETIME_PARTS, STR_METHODS, check_format_template


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


#: Longest list or str a ``*`` repetition, a ``range`` or a padding method may make.
MAX_SEQUENCE = 10_000_000


def _mul(a: Any, b: Any) -> Any:
    # A repeated list, tuple or str may not grow past MAX_SEQUENCE items.
    for seq, times in ((a, b), (b, a)):
        if isinstance(seq, (list, tuple, str)) and isinstance(times, int) and len(seq) * times > MAX_SEQUENCE:
            raise ValidationError(f"Repeating a sequence of {len(seq)} items {times} times makes more than "
                                  f"{MAX_SEQUENCE:,} items", field="mul", value=times)
    return operator.mul(a, b)


def _shift(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def shift(a: Any, b: Any) -> Any:
        if isinstance(b, int) and b > MAX_INT_BITS:
            raise ValidationError(f"Shifting by {b} bits is more than {MAX_INT_BITS}", field="shift", value=b)
        return fn(a, b)

    shift.__name__ = fn.__name__
    return shift


def _divmod(a: Any, b: Any) -> tuple:
    return divmod(a, b)


def _logical(fn: Callable[[bool, bool], bool]) -> Callable[[Any, Any], bool]:
    def logical(a: Any, b: Any) -> bool:
        return bool(fn(bool(a), bool(b)))

    return logical


_BINARY.update(add=_add, sub=_sub, mul=_mul, lshift=_shift(operator.lshift), rshift=_shift(operator.rshift),
               divmod=_divmod, logical_and=_logical(operator.and_), logical_or=_logical(operator.or_),
               logical_xor=_logical(operator.xor))
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
    if isinstance(container, dict):
        key = _frozen(key)
        if key not in container:
            raise KeyError(f"Key {key!r} not in Dict; keys: {', '.join(map(repr, container))}")
    elif isinstance(container, (list, str, tuple)) and not isinstance(key, slice):
        if isinstance(key, bool) or not isinstance(key, int):
            raise ValidationTypeError(f"An index must be an int, got {type(key).__name__} {key!r}",
                                      field="getitem.key", value=type(key).__name__)
        if not -len(container) <= key < len(container):
            what = {list: "List", str: "Str", tuple: "Tuple"}[type(container)]
            raise IndexError(f"Index {key} out of range for a {what} of length {len(container)}")
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


def _frozen(key: Any) -> Any:
    """A list key as a tuple (lists come back from the wire formats where tuples went in)."""
    return tuple(_frozen(k) for k in key) if isinstance(key, list) else key


def _even(name: str, args: tuple, kwargs: dict) -> None:
    if len(args) % 2:
        raise ValidationError(f"{name!r} takes keys and values in pairs, got {len(args)} argument(s)",
                              field=f"{name}.args", value=len(args))


@op("tuple", varargs=value("item"))
def _tuple(*items: Any) -> tuple:
    return tuple(items)


@op("dict_kv", varargs=value("item"), check=_even)
def _dict_kv(*items: Any) -> dict:
    return {_frozen(k): v for k, v in zip(items[::2], items[1::2])}


@op("dict_items", value("dict"))
def _dict_items(d: dict) -> list:
    return [(k, v) for k, v in d.items()]


@op("dict_from_pairs", value("pairs"))
def _dict_from_pairs(pairs: Any) -> dict:
    return {_frozen(k): v for k, v in pairs}


@op("dict_get", value("dict"), value("key"), value("default"))
def _dict_get(d: dict, key: Any, default: Any) -> Any:
    return d.get(_frozen(key), default)


@op("contains", value("container"), value("item"))
def _contains(container: Any, item: Any) -> bool:
    return _frozen(item) in container if isinstance(container, dict) else item in container


@op("reversed", value("sequence"))
def _reversed(seq: Any) -> Any:
    if isinstance(seq, (str, list, tuple)):
        return seq[::-1]
    raise ValidationTypeError(f"reversed needs a Str, List or Tuple, got {type(seq).__name__}",
                              field="reversed.sequence", value=type(seq).__name__)


def _attribute_name(v: Any, field: str) -> None:
    if not v.isidentifier() or v.startswith("_"):
        raise ValidationError(f"{field!r} must be an identifier not starting with '_', got {v!r}", field=field, value=v)


@op("attr", value("value"), literal("name", str, check=_attribute_name))
def _attr(value: Any, name: str) -> Any:
    # ``any_value.name``: a field of a dict-like value, never a Python attribute.
    if not isinstance(value, dict):
        raise ValidationTypeError(f"Reading field {name!r} needs a dict-like value, got {type(value).__name__}",
                                  field="attr.value", value=type(value).__name__)
    if name not in value:
        raise KeyError(f"Field {name!r} not in the value; fields: {', '.join(map(repr, value))}")
    return value[name]


def _int_or_none(v: Any, where: str) -> None:
    if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
        raise ValidationTypeError(f"{where} must be an int or None, got {type(v).__name__} {v!r}", field=where,
                                  value=type(v).__name__)


@op("make_slice", value("start"), value("stop"), value("step"))
def _make_slice(start: Any, stop: Any, step: Any) -> slice:
    for v, name in ((start, "start"), (stop, "stop"), (step, "step")):
        _int_or_none(v, f"make_slice.{name}")
    return slice(start, stop, step)


@op("range", value("start"), value("stop"), value("step"))
def _range(start: Any, stop: Any, step: Any) -> list:
    for v, name in ((start, "start"), (stop, "stop"), (step, "step")):
        _int_or_none(v, f"range.{name}")
    r = range(start, stop, 1 if step is None else step)
    if len(r) > MAX_SEQUENCE:
        raise ValidationError(f"range({start}, {stop}, {step}) has {len(r):,} items, more than {MAX_SEQUENCE:,}",
                              field="range", value=len(r))
    return list(r)


# -- Str methods -------------------------------------------------------------------------------
#: ``str_method`` names (:data:`wf_widgets.values.scalars.STR_METHODS`) -> the str function.
STR_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "capitalize": str.capitalize, "center": str.center, "count": str.count, "endswith": str.endswith,
    "expandtabs": str.expandtabs, "find": str.find, "isalnum": str.isalnum, "isalpha": str.isalpha,
    "isdigit": str.isdigit, "islower": str.islower, "isspace": str.isspace, "istitle": str.istitle,
    "isupper": str.isupper, "join": str.join, "ljust": str.ljust, "lower": str.lower, "lstrip": str.lstrip,
    "partition": str.partition, "replace": str.replace, "rfind": str.rfind, "rjust": str.rjust,
    "rpartition": str.rpartition, "rsplit": str.rsplit, "rstrip": str.rstrip, "split": str.split,
    "splitlines": str.splitlines, "startswith": str.startswith, "strip": str.strip, "swapcase": str.swapcase,
    "title": str.title, "upper": str.upper, "zfill": str.zfill,
}
#: The methods whose first argument is a width (limited to MAX_SEQUENCE).
_WIDTHS = frozenset({"center", "ljust", "rjust", "zfill"})
#: Largest tab size of ``expandtabs``.
MAX_TABSIZE = 1000


@op("str_method", value("string"), literal("name", str, allowed=tuple(STR_METHODS)), varargs=value("arg"))
def _str_method(s: Any, name: str, *args: Any) -> Any:
    fn = STR_FUNCTIONS.get(name) if isinstance(name, str) else None
    if fn is None:
        raise ValidationError.bad_value("str_method.name", name, tuple(STR_METHODS))
    if not isinstance(s, str):
        raise ValidationTypeError(f"Str.{name} needs a Str, got {type(s).__name__}", field="str_method.string",
                                  value=type(s).__name__)
    if name in _WIDTHS and args and isinstance(args[0], int) and args[0] > MAX_SEQUENCE:
        raise ValidationError(f"Str.{name} width {args[0]:,} is more than {MAX_SEQUENCE:,}", field="str_method.width",
                              value=args[0])
    if name == "expandtabs" and args and isinstance(args[0], int) and args[0] > MAX_TABSIZE:
        raise ValidationError(f"Str.expandtabs tab size {args[0]:,} is more than {MAX_TABSIZE}",
                              field="str_method.tabsize", value=args[0])
    if name == "replace" and args and args[0] == "" and isinstance(args[1], str) and \
            len(args[1]) * (len(s) + 1) > MAX_SEQUENCE:
        raise ValidationError(f"Str.replace would make more than {MAX_SEQUENCE:,} characters",
                              field="str_method.new", value=len(args[1]))
    return fn(s, *args)


def _format_keys(v: Any, field: str) -> None:
    if not all(k is None or (isinstance(k, str) and k.isidentifier()) for k in v):
        raise ValidationError(f"{field!r} must be a list of None (positional) or identifiers, got {v!r}", field=field,
                              value=v)


@op("str_format", value("template"), literal("keys", list, check=_format_keys), varargs=value("value"),
    check=same_length(1))
def _str_format(template: Any, keys: list, *values: Any) -> str:
    check_format_template(template, "str_format.template")
    positional = [v for k, v in zip(keys, values) if k is None]
    named = {k: v for k, v in zip(keys, values) if k is not None}
    return template.format(*positional, **named)


# -- parameters and functions -----------------------------------------------------------------------
@op("parameter", literal("name", str, check=check_parameter_name), literal("type", str, check=check_type_name))
def _parameter(name: str, type_: str) -> Any:
    raise ValidationError(f"Parameter {name!r} has no value: pass it when computing, like compute({name}=...)",
                          field=name, value=None)


@op("arg", literal("depth", int), literal("index", int))
def _arg(depth: int, index: int) -> Any:
    raise ValidationError("A function argument was used outside its function", field="arg", value=[depth, index])


@op("capture", literal("index", int))
def _capture(index: int) -> Any:
    raise ValidationError("A function's captured value was used outside its function", field="capture", value=index)


def _call(ctx: Any, function: tuple[Node, int, int], captures: tuple, args: tuple) -> Any:
    """Evaluate a loaded function (:func:`wf_widgets.values.function.load_function`) for ``args``."""
    root, depth, _ = function
    values: dict[str, Any] = {}
    for node in root.walk():
        if node.op == "arg":
            values[node.id] = args[node.args[1]]
            continue
        if node.op == "capture":
            index = node.args[0]
            if not 0 <= index < len(captures):
                raise ValidationError(f"A function refers to captured value {index}, but has {len(captures)}",
                                      field="capture", value=index)
            values[node.id] = captures[index]
            continue
        spec = OPS[node.op]
        a = [values[x.id] if isinstance(x, Node) else x for x in node.args]
        kw = {k: values[v.id] if isinstance(v, Node) else v for k, v in node.kwargs.items()}
        values[node.id] = spec.fn(ctx, *a, **kw) if spec.context else spec.fn(*a, **kw)
    return values[root.id]


def _items(seq: Any, where: str) -> list:
    if not isinstance(seq, (list, tuple)):
        raise ValidationTypeError(f"{where} needs a List, got {type(seq).__name__}", field=f"{where}.list",
                                  value=type(seq).__name__)
    return list(seq)


def _key_function(v: Any, field: str) -> None:
    if v is not None:
        check_function(v, field)


@op("list_map", value("list"), literal("function", dict, check=check_function), varargs=value("capture"),
    context=True)
def _list_map(ctx: Any, seq: Any, function: dict, *captures: Any) -> list:
    fn = load_function(function, "list_map.function")
    out = []
    for item in _items(seq, "list_map"):
        out.append(_call(ctx, fn, captures, (item,)))
        ctx.step(0)  # lets a cancelled job stop between items
    return out


@op("list_filter", value("list"), literal("function", dict, check=check_function), varargs=value("capture"),
    context=True)
def _list_filter(ctx: Any, seq: Any, function: dict, *captures: Any) -> list:
    fn = load_function(function, "list_filter.function")
    out = []
    for item in _items(seq, "list_filter"):
        if _call(ctx, fn, captures, (item,)):
            out.append(item)
        ctx.step(0)
    return out


@op("list_reduce", value("list"), literal("function", dict, check=check_function), literal("has_initial", bool),
    value("initial"), varargs=value("capture"), context=True)
def _list_reduce(ctx: Any, seq: Any, function: dict, has_initial: bool, initial: Any, *captures: Any) -> Any:
    fn = load_function(function, "list_reduce.function")
    items = _items(seq, "list_reduce")
    if not has_initial:
        if not items:
            raise ValidationError("reduce of an empty List with no initial value", field="list_reduce.list", value=0)
        initial, items = items[0], items[1:]
    acc = initial
    for item in items:
        acc = _call(ctx, fn, captures, (acc, item))
        ctx.step(0)
    return acc


@op("list_sorted", value("list"), literal("key", dict, type(None), check=_key_function), value("reverse"),
    varargs=value("capture"), context=True)
def _list_sorted(ctx: Any, seq: Any, key: dict | None, reverse: Any, *captures: Any) -> list:
    items = _items(seq, "list_sorted")
    if key is None:
        return sorted(items, reverse=bool(reverse))
    fn = load_function(key, "list_sorted.key")
    keys = [_call(ctx, fn, captures, (item,)) for item in items]
    order = sorted(range(len(items)), key=keys.__getitem__, reverse=bool(reverse))
    return [items[i] for i in order]


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
