"""Container values: List and Dict.

Items are promoted to values. When every item has the same type, indexing returns that
type; otherwise it returns :class:`~wf_widgets.values.base.Any_`, whose type is only
known once computed.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..errors import GraphTypeError
from .base import KINDS, Any_, Value, promote, register_promoter
from .graph import Node
from .scalars import Bool, Int, Number, Str


def _common_type(values: Iterable[Value]) -> type[Value]:
    types = {type(v) for v in values}
    return types.pop() if len(types) == 1 else Any_


class List(Value):
    """A lazy list. ``lst[i]`` indexes (negative too), ``lst[a:b]`` slices, ``+`` concatenates."""

    kind = "List"
    _rank = 30
    __slots__ = ("_item",)

    def __new__(cls, items: Iterable[Any] = ()) -> "List":
        if isinstance(items, List):
            return items
        if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
            raise GraphTypeError(f"wf.List needs a list or tuple, got {type(items).__name__} {items!r}")
        values = [promote(i) for i in items]
        return cls._typed(Node("list", tuple(v._node for v in values)), _common_type(values))

    @classmethod
    def _typed(cls, node: Node, item: type[Value]) -> "List":
        obj = cls._from_node(node)
        obj._item = item
        return obj

    @classmethod
    def _from_node(cls, node: Node) -> "List":
        obj = object.__new__(cls)
        obj._node = node
        obj._item = Any_
        return obj

    @classmethod
    def _result_type(cls, op: str, other: type[Value] | None) -> type[Value] | None:
        if other is List and op == "add":
            return List
        return super()._result_type(op, other)

    def _binary(self, op: str, other: Any, reflected: bool = False) -> Value:
        result = super()._binary(op, other, reflected)
        if isinstance(result, List) and isinstance(other, (List, list, tuple)):
            other_v = List(other)
            result._item = self._item if self._item is other_v._item else Any_
        return result

    def __getitem__(self, index: Any) -> Value:
        if isinstance(index, slice):
            parts = [index.start, index.stop, index.step]
            args = tuple(promote(p)._node for p in parts)
            return List._typed(Node("slice", (self._node,) + args), self._item)
        idx = promote(index)
        if not isinstance(idx, (Int, Any_)) or isinstance(idx, Bool):
            raise GraphTypeError(f"List indices must be Int, not {type(index).__name__} ({index!r})")
        return self._item._from_node(Node("getitem", (self._node, idx._node)))

    def length(self) -> Int:
        """Number of items."""
        return Int._from_node(Node("length", (self._node,)))

    def __iter__(self):
        raise GraphTypeError("A lazy wf.List cannot be iterated before it is computed; index it or call .compute()")


class Dict(Value):
    """A lazy dict with str keys. ``d["key"]`` indexes; ``keys()``, ``values()``, ``length()``."""

    kind = "Dict"
    _rank = 31
    __slots__ = ("_item",)

    def __new__(cls, items: Mapping[str, Any] | None = None, **kwargs: Any) -> "Dict":
        if isinstance(items, Dict):
            return items
        data = dict(items or {}, **kwargs)
        for key in data:
            if not isinstance(key, str):
                raise GraphTypeError(f"wf.Dict keys must be str, got {type(key).__name__} {key!r}")
        values = [promote(v) for v in data.values()]
        node = Node("dict", (list(data),) + tuple(v._node for v in values))
        obj = cls._from_node(node)
        obj._item = _common_type(values)
        return obj

    @classmethod
    def _from_node(cls, node: Node) -> "Dict":
        obj = object.__new__(cls)
        obj._node = node
        obj._item = Any_
        return obj

    def __getitem__(self, key: Any) -> Value:
        k = promote(key)
        if not isinstance(k, (Str, Any_)):
            raise GraphTypeError(f"Dict keys must be Str, not {type(key).__name__} ({key!r})")
        return self._item._from_node(Node("getitem", (self._node, k._node)))

    def length(self) -> Int:
        """Number of keys."""
        return Int._from_node(Node("length", (self._node,)))

    def keys(self) -> List:
        return List._typed(Node("dict_keys", (self._node,)), Str)

    def values(self) -> List:
        return List._typed(Node("dict_values", (self._node,)), self._item)

    def __iter__(self):
        raise GraphTypeError("A lazy wf.Dict cannot be iterated before it is computed; use .keys() or .compute()")


@register_promoter
def _promote_container(obj: Any) -> Value | None:
    if isinstance(obj, (list, tuple)):
        return List(obj)
    if isinstance(obj, Mapping):
        return Dict(obj)
    return None


assert KINDS["List"] is List and issubclass(Bool, Number)
