"""The table of graph operations: op name -> implementation.

Each implementation takes the evaluated arguments (children already computed, literals
as they are). Ops registered with ``context=True`` also get the
:class:`~wf_widgets.engine.evaluate.EvalContext` first. ``extra_steps(ctx, node)`` says
how many work units beyond its own step an op will report with ``ctx.step()`` (scene
reads, for example), so ``steps_total`` is known before the job runs.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import operator
from typing import Any, Callable

import numpy as np


@dataclasses.dataclass(frozen=True)
class OpSpec:
    fn: Callable[..., Any]
    context: bool = False
    extra_steps: Callable[..., int] | None = None
    needs_geoctx: bool = False


OPS: dict[str, OpSpec] = {}


def op(name: str, *, context: bool = False, extra_steps: Callable[..., int] | None = None,
       needs_geoctx: bool = False):
    """Register the decorated function as the implementation of op ``name``.

    ``needs_geoctx``: the op reads imagery, so ``compute()`` refuses to start without a geoctx.
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        OPS[name] = OpSpec(fn, context, extra_steps, needs_geoctx)
        return fn

    return register


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
for _name, _fn in _BINARY.items():
    OPS[_name] = OpSpec(_fn)
for _name, _fn in _UNARY.items():
    OPS[_name] = OpSpec(_invert if _name == "invert" else _fn)


@op("lit")
def _lit(value: Any) -> Any:
    return value


@op("float_str")
def _float_str(text: str) -> float:
    return float(text)


op("int")(int)
op("float")(float)
op("bool")(bool)
op("str")(str)


@op("datetime")
def _datetime(iso: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(iso)


@op("datetime_part")
def _datetime_part(value: _dt.datetime, name: str) -> int:
    return getattr(value, name)


@op("list")
def _list(*items: Any) -> list:
    return list(items)


@op("dict")
def _dict(keys: list, *values: Any) -> dict:
    return dict(zip(keys, values))


@op("getitem")
def _getitem(container: Any, key: Any) -> Any:
    if isinstance(container, dict) and key not in container:
        raise KeyError(f"Key {key!r} not in Dict; keys: {', '.join(map(repr, container))}")
    if isinstance(container, (list, str)) and not -len(container) <= key < len(container):
        raise IndexError(f"Index {key} out of range for a List of length {len(container)}")
    return container[key]


@op("slice")
def _slice(container: Any, start: Any, stop: Any, step: Any) -> Any:
    return container[start:stop:step]


@op("length")
def _length(container: Any) -> int:
    return len(container)


@op("dict_keys")
def _dict_keys(d: dict) -> list:
    return list(d)


@op("dict_values")
def _dict_values(d: dict) -> list:
    return list(d.values())


@op("array")
def _array(dtype: str, shape: list, payload: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(payload), dtype=np.dtype(dtype)).reshape(shape).copy()


@op("array_reduce")
def _array_reduce(arr: np.ndarray, name: str, axis: Any) -> Any:
    axis = tuple(axis) if isinstance(axis, list) else axis
    return getattr(np, name)(arr, axis=axis)
