"""Container values: List, Tuple, Dict, KnownDict, Struct, Slice; ``range`` and ``zip``.

Containers are generic, written as the original client wrote them: ``wf.List[wf.Int]``,
``wf.Tuple[wf.Int, wf.Str]``, ``wf.Dict[wf.Str, wf.Float]``. Items are checked against the
element types while the graph is built (a :class:`~wf_widgets.errors.GraphTypeError`
naming the item), and indexing returns the element type.

Without type parameters the types are inferred (a superset of the original, which
refused): ``wf.List([1, 2])`` is a ``List[Int]``, ``wf.List([1, 2.5])`` a ``List[Float]``,
``wf.List([1, "a"])`` a ``List[Any]``; ``wf.Tuple((1, "a"))`` a ``Tuple[Int, Str]``;
``wf.Dict({"a": 1})`` a ``Dict[Str, Int]`` (keys that aren't str need the types:
``wf.Dict[wf.Int, wf.Float]({1: 2.5})``).

Computed: a List is a list, a Tuple a tuple, a Dict, KnownDict or Struct a dict. The wire
formats carry dicts with str keys only, so a Dict whose keys aren't Str is sent as its list
of ``(key, value)`` pairs (``dict.items()``) and ``compute()`` rebuilds the dict.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Iterable, Mapping
from typing import Any, Callable

from ..errors import GraphIndexError, GraphTypeError, TypeParametersError
from .base import (
    COMPARISON,
    KINDS,
    SYMBOLS,
    TYPES,
    Any_,
    Generic,
    Value,
    check_value_type,
    common_type,
    promote,
    register_promoter,
    type_name,
)
from .function import trace
from .graph import Node
from .scalars import Bool, Int, NoneType, Str, _promote_arg

#: Comparison op name -> the Python operator (for :func:`check_valid_binop_for`).
_COMPARE = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
            "ge": operator.ge}

DEFAULT_UNSUPPORTED_MSG = "{prefix}: {type_name} does not support operator {op_name}"
DEFAULT_INVALID_MSG = ("{prefix}: operator {op_name} on {type_name} produces type {result_name}. "
                       "Must produce one of: {valid_result_names}.")


def check_valid_binop_for(binop: Callable[[Any, Any], Any], type_: type[Value], error_prefix: str | None,
                          valid_result_types: tuple[type[Value], ...] = (Bool, Any_),
                          unsupported_msg: str = DEFAULT_UNSUPPORTED_MSG, invalid_msg: str = DEFAULT_INVALID_MSG) -> None:
    """Raise TypeError unless ``binop(x, x)`` is defined for values ``x`` of ``type_`` and gives one of
    ``valid_result_types`` (what comparing, sorting and the comparisons of containers need).

    The messages are formatted with ``prefix``, ``type_name``, ``op_name`` (and for an invalid
    result ``result_name`` and ``valid_result_names``).
    """
    item = _placeholder(type_)
    try:
        result = binop(item, item)
    except TypeError:
        raise GraphTypeError(unsupported_msg.format(prefix=error_prefix, type_name=type_name(type_),
                                                    op_name=binop.__name__)) from None
    if not isinstance(result, valid_result_types):
        raise GraphTypeError(invalid_msg.format(
            prefix=error_prefix, type_name=type_name(type_), op_name=binop.__name__,
            result_name=type_name(type(result)), valid_result_names=", ".join(type_name(t) for t in valid_result_types)))


def _placeholder(cls: type[Value]) -> Value:
    """A value of type ``cls`` that is never computed (for checking what operators give)."""
    return cls._placeholder() if hasattr(cls, "_placeholder") else cls._from_node(Node("lit", (None,)))


def _compare(self: Value, op: str, other: Any, reflected: bool, check: Callable[[], None]) -> Value:
    try:
        other = type(self)._promote(other)
    except GraphTypeError as exc:
        raise GraphTypeError(f"unsupported operand types for {SYMBOLS[op]}: wf.{type_name(type(self))} and "
                             f"{type_name(type(other)) if isinstance(other, Value) else type(other).__name__}: "
                             f"while promoting, {exc}") from None
    check()
    left, right = (other, self) if reflected else (self, other)
    return Bool._from_node(Node(op, (left._node, right._node)))


def _handed_over(self: Value, op: str, other: Any, reflected: bool) -> Any:
    """NotImplemented if ``other`` is a value of a higher-ranked type (Python then asks it), else None."""
    if isinstance(other, Value) and type(other)._rank > type(self)._rank:
        return NotImplemented
    return None


def _index_node(index: Any, where: str) -> Node:
    if isinstance(index, slice):
        parts = (index.start, index.stop, index.step)
        return tuple(_promote_arg(p, ("Int", "NoneType"), where, "slice")._node for p in parts)
    return _promote_arg(index, ("Int", "Slice"), where, "index")._node


def _items_of(iterable: Any) -> list:
    """The items of a Python iterable (as Python's ``list()``: a str gives its characters)."""
    if isinstance(iterable, Value) or not isinstance(iterable, Iterable):
        raise GraphTypeError(f"Expected an iterable (like a list or tuple), got {type(iterable).__name__} "
                             f"{iterable!r}")
    return list(iterable)


# -- collections ----------------------------------------------------------------------------------
_NO_INITIAL: Any = object()
REDUCE_INITIAL_DEFAULT = _NO_INITIAL


class CollectionMixin:
    """What a collection of one element type has: map, filter, reduce, sorted, length, contains, reversed.

    Functions given to ``map``, ``filter``, ``reduce`` and ``sorted`` are plain Python
    functions of wf values, called once while the graph is built (see
    :mod:`wf_widgets.values.function`).
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is CollectionMixin:
            raise GraphTypeError("Please use `List` instead.")
        return super().__new__(cls)

    @property
    def _element_type(self) -> type[Value]:
        return self._type_params[0]

    def map(self, func: Callable[[Value], Any]) -> "List":
        """``func`` applied to every item: a List of what ``func`` returns (the same type if it keeps the item type)."""
        fn = trace(func, (self._element_type,), "map")
        rtype = type(fn.result)
        container = type(self) if rtype is self._element_type else List[rtype]
        return container._from_node(Node("list_map", (self._node, fn.literal) + fn.captures))

    def filter(self, func: Callable[[Value], Any]) -> "List":
        """The items for which ``func`` (returning a Bool) is True."""
        def predicate(x: Value) -> Value:
            try:
                return Bool._promote(func(x))
            except GraphTypeError as exc:
                raise GraphTypeError(f"The function given to filter must return a Bool: {exc}") from None

        fn = trace(predicate, (self._element_type,), "filter")
        return type(self)._from_node(Node("list_filter", (self._node, fn.literal) + fn.captures))

    def reduce(self, func: Callable[[Value, Value], Any], initial: Any = _NO_INITIAL) -> Value:
        """Python's ``functools.reduce``: ``func(accumulated, item)`` over the items.

        Parameters
        ----------
        func : callable
            Takes the accumulated value (the type of ``initial``, else the item type) and an
            item; returns the new accumulated value (of the same type).
        initial : wf value, optional
            The start (a wf value, like ``wf.Float(0.0)``); default: the first item.
        """
        if initial is _NO_INITIAL:
            acc = self._element_type
        else:
            if not isinstance(initial, Value):
                raise GraphTypeError(f"The initial value must be a wf value (like wf.Int(0)), not "
                                     f"{type(initial).__name__} {initial!r}")
            acc = type(initial)

        def step(a: Value, x: Value) -> Value:
            try:
                return acc._promote(func(a, x))
            except GraphTypeError as exc:
                raise GraphTypeError(f"The function given to reduce must return a {type_name(acc)} (the type of the "
                                     f"accumulated value): {exc}") from None

        fn = trace(step, (acc, self._element_type), "reduce")
        has_initial = initial is not _NO_INITIAL
        start = initial._node if has_initial else None
        return acc._from_node(Node("list_reduce", (self._node, fn.literal, has_initial, start) + fn.captures))

    def length(self) -> Int:
        """Number of items."""
        return Int._from_node(Node("length", (self._node,)))

    def contains(self, other: Any) -> Bool:
        """Whether ``other`` (of the item type) is an item (Python's ``in``), a Bool."""
        try:
            item = self._element_type._promote(other)
        except GraphTypeError as exc:
            raise GraphTypeError(f"{type_name(type(self))}.contains() needs a {type_name(self._element_type)}: "
                                 f"{exc}") from None
        return Bool._from_node(Node("contains", (self._node, item._node)))

    def sorted(self, key: Callable[[Value], Any] | None = None, reverse: Any = False) -> "List":
        """The items sorted (by ``key(item)`` if given), as Python's ``sorted``.

        Raises
        ------
        GraphTypeError
            The items (or keys) can't be ordered: ``<`` on them is undefined or doesn't give a Bool.
        """
        rev = _promote_arg(reverse, ("Bool",), "sorted()", "reverse")
        if key is None or isinstance(key, NoneType):
            msg = (f"{type_name(type(self))} does not contain orderable items and cannot be sorted directly. "
                   "Please provide a key function.")
            check_valid_binop_for(operator.lt, self._element_type, None, unsupported_msg=msg, invalid_msg=msg)
            return type(self)._from_node(Node("list_sorted", (self._node, None, rev._node)))
        fn = trace(key, (self._element_type,), "sorted")
        check_valid_binop_for(
            operator.lt, type(fn.result), None,
            unsupported_msg="Sort key function produced non-orderable type {type_name}",
            invalid_msg=("Sort key function produced {type_name}, which is not orderable, since comparing "
                         "{type_name}s produces {result_name}, not Bool."))
        return type(self)._from_node(Node("list_sorted", (self._node, fn.literal, rev._node) + fn.captures))

    def __reversed__(self) -> Value:
        return type(self)._from_node(Node("reversed", (self._node,)))


class List(Generic, CollectionMixin):
    """A lazy list of one item type: ``wf.List[wf.Int]([1, 2, 3])``.

    ``lst[i]`` is an item (negative too), ``lst[a:b]`` a List; ``+`` concatenates Lists of
    the same type, ``* Int`` repeats; comparisons (of orderable items) give a Bool;
    ``map``, ``filter``, ``reduce``, ``sorted``, ``contains``, ``length``.
    """

    kind = "List"
    _rank = 30

    def __new__(cls, iterable: Iterable[Any] = ()) -> "List":
        if cls._type_params is None:
            if isinstance(iterable, List):
                return iterable
            items = _items_of(iterable)
            values = [promote(x) for x in items]
            item = common_type(type(v) for v in values)
            try:
                values = [item._promote(x) for x in items]
            except GraphTypeError:
                item = Any_
            return List[item]._make(values)
        if isinstance(iterable, cls):
            return iterable
        if isinstance(iterable, List):
            raise GraphTypeError(f"Cannot convert {type_name(type(iterable))} to {type_name(cls)}, since they have "
                                 "different value types")
        if isinstance(iterable, Any_):
            return iterable.cast(cls)
        items = _items_of(iterable)
        item = cls._type_params[0]
        values = []
        for i, x in enumerate(items):
            try:
                values.append(item._promote(x))
            except GraphTypeError:
                raise GraphTypeError(f"{type_name(cls)}: Expected iterable values of type {type_name(item)}, but for "
                                     f"item {i}, got {x!r}") from None
        return cls._make(values)

    @classmethod
    def _make(cls, values: list[Value]) -> "List":
        return cls._from_node(Node("list", tuple(v._node for v in values)))

    @classmethod
    def _validate_params(cls, params: tuple) -> None:
        if len(params) != 1:
            raise TypeParametersError(f"List can only have one element type specified, got {len(params)}")
        check_value_type(params[0], f"List type must be a Proxytype (a wf value type like wf.Int), got {params[0]!r}")

    def _binary(self, op: str, other: Any, reflected: bool = False) -> Value:
        handed = _handed_over(self, op, other, reflected)
        if handed is not None:
            return handed
        if op in COMPARISON:
            def check() -> None:
                check_valid_binop_for(_COMPARE[op], self._element_type,
                                      f"Operator `{SYMBOLS[op]}` invalid for {type_name(type(self))}")

            return _compare(self, op, other, reflected, check)
        if op == "add":
            try:
                other = type(self)._promote(other)
            except GraphTypeError as exc:
                raise GraphTypeError(f"{self._unsupported(op, other, reflected)}: while promoting, {exc}") from None
        elif op == "mul":
            try:
                other = Int._promote(other)
            except GraphTypeError as exc:
                raise GraphTypeError(f"{self._unsupported(op, other, reflected)}: while promoting, {exc}") from None
        else:
            raise self._unsupported(op, other, reflected)
        left, right = (other, self) if reflected else (self, other)
        return type(self)._from_node(Node(op, (left._node, right._node)))

    def __getitem__(self, index: Any) -> Value:
        if isinstance(index, str) or isinstance(index, (Str, float)):
            raise GraphTypeError(f"List indices must be Int, not {type(index).__name__} ({index!r})")
        node = _index_node(index, f"{type_name(type(self))}[...]")
        if isinstance(node, tuple):
            return type(self)._from_node(Node("slice", (self._node,) + node))
        if isinstance(index, Slice):
            return type(self)._from_node(Node("getitem", (self._node, node)))
        return self._element_type._from_node(Node("getitem", (self._node, node)))

    def __iter__(self):
        raise GraphTypeError("A lazy wf.List cannot be iterated before it is computed (it contains an unknown number "
                             "of elements): index it, use .map(...), or call .compute()")


class Tuple(Generic):
    """A lazy tuple of fixed item types: ``wf.Tuple[wf.Int, wf.Str]((1, "a"))``.

    ``len(t)`` and iterating work (the length is part of the type); ``t[0]`` has the
    first item type; ``+`` concatenates (the types too); comparisons need orderable items.
    """

    kind = "List"  # its wire form: a list (compute() gives a tuple back)
    _rank = 32

    def __new__(cls, iterable: Iterable[Any] = ()) -> "Tuple":
        if cls._type_params is None:
            if isinstance(iterable, Tuple):
                return iterable
            values = [promote(x) for x in _items_of(iterable)]
            return Tuple[tuple(type(v) for v in values)]._make(values)
        if isinstance(iterable, cls):
            return iterable
        if isinstance(iterable, Tuple):
            raise GraphTypeError(f"Cannot convert {type_name(type(iterable))} to {type_name(cls)}, since they have "
                                 "different item types")
        if isinstance(iterable, Any_):
            return iterable.cast(cls)
        items = _items_of(iterable)
        types = cls._type_params
        if len(items) != len(types):
            raise GraphTypeError(f"To construct {type_name(cls)}, expected an iterable of {len(types)} items, but got "
                                 f"{len(items)} items")
        values = []
        for i, (t, x) in enumerate(builtins.zip(types, items)):
            try:
                values.append(t._promote(x))
            except GraphTypeError:
                raise GraphTypeError(f"While constructing {type_name(cls)}, expected {type_name(t)} for tuple element "
                                     f"{i}, but got {x!r}") from None
        return cls._make(values)

    @classmethod
    def _make(cls, values: list[Value]) -> "Tuple":
        return cls._from_node(Node("tuple", tuple(v._node for v in values)))

    @classmethod
    def _validate_params(cls, params: tuple) -> None:
        for i, p in enumerate(params):
            check_value_type(p, f"Tuple type parameters must be Proxytypes (wf value types like wf.Int) but for "
                                f"parameter {i}, got {p!r}")

    def __len__(self) -> int:
        return len(self._type_params)

    def __iter__(self):
        for i in builtins.range(len(self._type_params)):
            yield self[i]

    def length(self) -> Int:
        """Number of items (an Int; ``len(t)`` gives it as a Python int)."""
        return Int._from_node(Node("length", (self._node,)))

    def __getitem__(self, index: Any) -> Value:
        types = self._type_params
        node = _index_node(index, f"{type_name(type(self))}[...]")
        if isinstance(node, tuple):
            literal = slice(*(n.args[0] if n.op == "lit" else _UNKNOWN for n in node))
            known = _UNKNOWN not in (literal.start, literal.stop, literal.step)
            rtype = Tuple[types[literal]] if known else Any_
            return rtype._from_node(Node("slice", (self._node,) + node))
        lit = node.args[0] if node.op == "lit" else None
        if isinstance(lit, int) and not isinstance(lit, bool):
            if not -len(types) <= lit < len(types):
                raise GraphIndexError(f"Tuple index {lit} out of range for {type_name(type(self))} "
                                      f"({len(types)} items)")
            return types[lit]._from_node(Node("getitem", (self._node, node)))
        if isinstance(index, Slice) and index.literal_value is not None:
            return Tuple[types[index.literal_value]]._from_node(Node("getitem", (self._node, node)))
        return Any_._from_node(Node("getitem", (self._node, node)))

    def _binary(self, op: str, other: Any, reflected: bool = False) -> Value:
        handed = _handed_over(self, op, other, reflected)
        if handed is not None:
            return handed
        if op in COMPARISON:
            def check() -> None:
                for t in dict.fromkeys(self._type_params):
                    check_valid_binop_for(_COMPARE[op], t, f"Operator `{SYMBOLS[op]}` invalid for element "
                                                           f"{type_name(t)} in {type_name(type(self))}")

            return _compare(self, op, other, reflected, check)
        if op == "add" and isinstance(other, (Tuple, tuple)):
            other = promote(other)
            left, right = (other, self) if reflected else (self, other)
            return Tuple[left._type_params + right._type_params]._from_node(Node("add", (left._node, right._node)))
        raise self._unsupported(op, other, reflected)

    def _unmarshal(self, result: Any) -> Any:
        return tuple(result) if isinstance(result, list) else result


_UNKNOWN: Any = object()


# -- dicts ------------------------------------------------------------------------------------------
def _frozen(key: Any) -> Any:
    return tuple(_frozen(k) for k in key) if isinstance(key, list) else key


class Dict(Generic):
    """A lazy dict of one key type and one value type: ``wf.Dict[wf.Str, wf.Int](a=1, b=2)``.

    ``d[key]`` is a value (the key is checked against the key type), ``get(key, default)``;
    ``keys()``, ``values()``, ``items()`` are Lists; ``contains``, ``length``;
    ``wf.Dict[K, V].from_pairs(list_of_pairs)``.
    """

    kind = "Dict"
    _rank = 31

    def __new__(cls, *args: Any, **kwargs: Any) -> "Dict":
        if len(args) > 1:
            raise GraphTypeError(f"Dict expected at most 1 arguments, got {len(args)}")
        source: Any = kwargs
        if args:
            source = {} if args[0] is None else args[0]
            if kwargs:
                if isinstance(source, Dict):
                    raise GraphTypeError("Cannot merge keyword arguments onto a lazy wf.Dict")
                if not isinstance(source, Mapping):
                    raise GraphTypeError(f"Expected a mapping, got {source!r}")
                source = {**source, **kwargs}
        if cls._type_params is None:
            if isinstance(source, Dict):
                return source
            if not isinstance(source, Mapping):
                raise GraphTypeError(f"Expected a mapping, got {source!r}")
            for key in source:
                if not isinstance(key, str):
                    raise GraphTypeError(
                        f"Cannot instantiate a generic Dict with keys that are not str: wf.Dict keys must be str, got "
                        f"{type(key).__name__} {key!r}; give the key and value types, like "
                        "wf.Dict[wf.Int, wf.Float]({1: 2.5})")
            values = [promote(v) for v in source.values()]
            item = common_type(type(v) for v in values)
            try:
                return Dict[Str, item](source)
            except GraphTypeError:
                return Dict[Str, Any_](source)
        key_type, value_type = cls._type_params[-2:]
        if isinstance(source, Dict):
            if not (issubclass(source.key_type, key_type) and issubclass(source.value_type, value_type)):
                raise GraphTypeError(f"Cannot convert {type_name(type(source))} to {type_name(cls)}, their element "
                                     "types are different")
            return source if type(source) is cls else cls._from_node(source._node)
        if isinstance(source, Any_):
            return source.cast(cls)
        if not isinstance(source, Mapping):
            raise GraphTypeError(f"Expected a mapping, got {source!r}")
        keys, values = [], []
        for key, val in source.items():
            try:
                keys.append(key if isinstance(key, str) and key_type is Str else key_type._promote(key))
            except GraphTypeError:
                raise GraphTypeError(f"Expected Dict keys of type {type_name(key_type)}, but got {key!r}") from None
            try:
                values.append(value_type._promote(val))
            except GraphTypeError:
                raise GraphTypeError(f"Expected Dict values of type {type_name(value_type)}, but got {val!r}") from None
        if all(isinstance(k, str) for k in keys):
            return cls._from_node(Node("dict", (keys,) + tuple(v._node for v in values)))
        pairs = []
        for k, v in builtins.zip(keys, values):
            pairs += [(Str(k) if isinstance(k, str) else k)._node, v._node]
        return cls._from_node(Node("dict_kv", tuple(pairs)))

    @classmethod
    def _validate_params(cls, params: tuple) -> None:
        if len(params) != 2:
            raise TypeParametersError(f"Both Dict key and value types must be specified, got {len(params)} type "
                                      "parameter(s)")
        for i, p in enumerate(params):
            check_value_type(p, f"Dict key and value types must be Proxytypes (wf value types like wf.Int) but for "
                                f"parameter {i}, got {p!r}")

    @property
    def key_type(self) -> type[Value]:
        """Type of the keys."""
        return self._type_params[-2]

    @property
    def value_type(self) -> type[Value]:
        """Type of the values."""
        return self._type_params[-1]

    @classmethod
    def from_pairs(cls, pairs: Any) -> "Dict":
        """A Dict from a ``List[Tuple[K, V]]`` (or a Python list of pairs) of this Dict's key and value types."""
        if cls._type_params is None:
            raise cls._generic_error("Dict[Str, Int].from_pairs(...)")
        pair_type = List[Tuple[cls._type_params[-2:]]]
        pairs = _promote_arg(pairs, (type_name(pair_type),), f"{type_name(cls)}.from_pairs()", "pairs")
        return cls._from_node(Node("dict_from_pairs", (pairs._node,)))

    def _promote_key(self, key: Any) -> Value:
        try:
            return self.key_type._promote(key)
        except GraphTypeError:
            raise GraphTypeError(f"Dict keys are of type {type_name(self.key_type)}, but indexed with {key!r}") \
                from None

    def _value_type_of(self, key: Any) -> type[Value]:
        return self.value_type

    def __getitem__(self, key: Any) -> Value:
        return self._value_type_of(key)._from_node(Node("getitem", (self._node, self._promote_key(key)._node)))

    def get(self, key: Any, default: Any) -> Value:
        """``d.get(key, default)``: the value of ``key``, or ``default`` (of the value type) if it is missing."""
        rtype = self._value_type_of(key)
        try:
            fallback = rtype._promote(default)
        except GraphTypeError:
            raise GraphTypeError(f"The `default` must be the same type as the Dict values. Expected something of type "
                                 f"{type_name(rtype)}, but got {type(default).__name__}.") from None
        return rtype._from_node(Node("dict_get", (self._node, self._promote_key(key)._node, fallback._node)))

    def __iter__(self):
        raise GraphTypeError(f"Proxy {type_name(type(self))} is not iterable. Consider .keys().map(...) to achieve "
                             "something similar.")

    def contains(self, key: Any) -> Bool:
        """Whether ``key`` is a key (Python's ``in``), a Bool."""
        return Bool._from_node(Node("contains", (self._node, self._promote_key(key)._node)))

    def length(self) -> Int:
        """Number of keys."""
        return Int._from_node(Node("length", (self._node,)))

    def keys(self) -> List:
        """The keys, a List of the key type."""
        return List[self.key_type]._from_node(Node("dict_keys", (self._node,)))

    def values(self) -> List:
        """The values, a List of the value type."""
        return List[self.value_type]._from_node(Node("dict_values", (self._node,)))

    def items(self) -> List:
        """The ``(key, value)`` pairs, a ``List[Tuple[K, V]]``."""
        return List[Tuple[self.key_type, self.value_type]]._from_node(Node("dict_items", (self._node,)))

    def _str_keys(self) -> bool:
        return issubclass(self.key_type, Str)

    def _for_compute(self) -> Value:
        return self if self._str_keys() else self.items()

    def _unmarshal(self, result: Any) -> Any:
        if not self._str_keys() and isinstance(result, list):
            return {_frozen(k): v for k, v in result}
        return result


class KnownDict(Dict):
    """A Dict whose values have a known type for some keys: ``wf.KnownDict[{"date": wf.Datetime}, wf.Str, wf.Any]``.

    Type parameters: ``(known, key type, value type)`` or ``(key type, value type)``; indexing
    with a known key gives its type, with any other key the value type. (The properties of
    an Image are one.) Made by operations, not constructed directly.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> "KnownDict":
        raise GraphTypeError("Cannot construct instances of KnownDict directly. If calling `.get`, pass an empty "
                             "Python dict `{}` as the default value.")

    @classmethod
    def _validate_params(cls, params: tuple) -> None:
        if len(params) not in (2, 3):
            raise GraphTypeError(f"KnownDict takes 2 or 3 type parameters, not {len(params)}")
        if len(params) == 3:
            if not isinstance(params[0], dict):
                raise TypeParametersError(f"The known items of a KnownDict are a dict of key to type, got {params[0]!r}")
            for key, cls_ in params[0].items():
                check_value_type(cls_, f"KnownDict item type parameters must be Proxytypes but for key {key!r}, "
                                       f"got {cls_!r}")
        check_value_type(params[-2], "KnownDict key type parameter must be a Proxytype, not a value")
        check_value_type(params[-1], "KnownDict value type parameter must be a Proxytype, not a value")

    @classmethod
    def _promote(cls, obj: Any) -> Value:
        if isinstance(obj, dict) and not obj:  # for `.get(key, {})`
            return cls._from_node(Node("dict", ([],)))
        return super()._promote(obj)

    def _value_type_of(self, key: Any) -> type[Value]:
        known = self._type_params[0] if len(self._type_params) == 3 else {}
        return known.get(key, self.value_type) if isinstance(key, str) else self.value_type


# -- structs ------------------------------------------------------------------------------------------
def _dict_repr_to_constructor_syntax(name: str) -> str:
    """A type name with its dicts written as ``dict(...)`` calls (sphinx-safe docstrings, evaluable):
    ``Struct[{'a': Int}]`` -> ``Struct[dict(a=Int)]``."""
    return name.replace("{", "dict(").replace("}", ")").replace(": ", "=").replace("'", "")


def _doc_name(cls: type[Value]) -> str:
    name = type_name(cls)
    return _dict_repr_to_constructor_syntax(name) if "{" in name else name


def _field(name: str, cls: type[Value], doc: str | None = None) -> property:
    def getter(self: "Struct") -> Value:
        return self._attr(name)

    getter.__name__ = name
    getter.__doc__ = _doc_name(cls) if doc is None else f"{_doc_name(cls)}: {doc}"
    return property(getter)


class Struct(Generic):
    """A lazy record of named fields of known types: ``wf.Struct[{"a": wf.Int, "b": wf.Str}](a=1, b="x")``.

    Fields are attributes (``s.a`` is an Int); computed, a Struct is a dict. Subclasses may
    set ``_doc`` (field -> docstring), ``_optional`` and ``_read_only`` (sets of field names).
    """

    kind = "Dict"
    _rank = 33
    _doc: dict | None = None
    _optional: set | None = None
    _read_only: set | None = None

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        params = cls._type_params
        docs = cls.__dict__.get("_doc")
        if params is None or docs is None:
            return
        for name, text in docs.items():
            if name not in params[0]:
                raise GraphTypeError(f"Cannot document field {name!r}: it does not exist in {type_name(cls)}")
            setattr(cls, name, _field(name, params[0][name], text))

    def __new__(cls, **kwargs: Any) -> "Struct":
        if cls._type_params is None:
            raise GraphTypeError("Cannot instantiate a generic Struct; the item types must be specified "
                                 "(like Struct[{'a': Str, 'b': Int}])")
        promoted = cls._promote_kwargs(kwargs, optional=cls._optional, read_only=cls._read_only)
        obj = cls._from_node(Node("dict", (list(promoted),) + tuple(v._node for v in promoted.values())))
        obj._items_cache = dict(promoted)
        return obj

    @classmethod
    def _from_node(cls, node: Node) -> "Struct":
        obj = super()._from_node(node)
        obj._items_cache = {}
        return obj

    @classmethod
    def _validate_params(cls, params: tuple) -> None:
        reserved = set(dir(Struct))
        for p in params:
            if not isinstance(p, dict):
                raise TypeParametersError("Struct type parameters must be specified with a dictionary of field name to "
                                          f"type, got {p!r}")
            for key, field_cls in p.items():
                if not isinstance(key, str):
                    raise TypeParametersError(f"Field names must be strings, but {key!r} is a {type(key)!r}")
                if key.startswith("_") or key in reserved:
                    raise GraphTypeError(f"Struct field name {key!r} is not allowed: it starts with '_' or is an "
                                         "attribute of every wf value")
                check_value_type(field_cls, f"Struct item type parameters must be Proxytypes (wf value types) but for "
                                            f"field {key!r}, got {field_cls!r}")

    @classmethod
    def _namespace(cls, params: tuple) -> dict:
        return {name: _field(name, field_cls) for name, field_cls in params[0].items()}

    @classmethod
    def _promote(cls, obj: Any) -> Value:
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, Any_):
            return obj.cast(cls)
        raise GraphTypeError(f"Cannot promote {obj!r} to {type_name(cls)}")

    @classmethod
    def _promote_kwargs(cls, kwargs: dict, optional: set | None = None, read_only: set | None = None) -> dict:
        optional = set() if optional is None else optional
        read_only = set() if read_only is None else read_only
        if not isinstance(optional, set):
            raise GraphTypeError(f"Optional kwargs must be given as a set, not {optional!r}")
        if not isinstance(read_only, set):
            raise GraphTypeError(f"Read only kwargs must be given as a set, not {read_only!r}")
        name = type_name(cls)
        fields = cls._type_params[0]
        missing = [f for f in fields if f not in kwargs and f not in optional and f not in read_only]
        if missing:
            raise GraphTypeError(f"Missing required keyword arguments to {name}: {', '.join(map(repr, missing))}")
        given_read_only = [k for k in kwargs if k in read_only]
        if given_read_only:
            raise GraphTypeError(f"Read only keyword argument to {name}: {', '.join(map(repr, given_read_only))}")
        promoted = {}
        for key, val in kwargs.items():
            if key not in fields:
                raise GraphTypeError(f"{name} has no field {key!r}")
            if key in optional and (val is None or isinstance(val, NoneType)):
                continue
            try:
                promoted[key] = fields[key]._promote(val)
            except GraphTypeError as exc:
                raise GraphTypeError(f"In field {key!r} of {name}, expected {type_name(fields[key])}, but got "
                                     f"{type(val).__name__}: {val!r} ({exc})") from None
        return promoted

    def _attr(self, name: str) -> Value:
        item = self._items_cache.get(name)
        if item is None:
            fields = self._type_params[0]
            if name not in fields:
                raise AttributeError(f"{type_name(type(self))} has no attribute {name!r}")
            item = self._items_cache[name] = fields[name]._from_node(Node("getitem", (self._node, Str(name)._node)))
        return item

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"{type_name(type(self))} has no attribute {name!r}")


# -- slices, range, zip -------------------------------------------------------------------------------
class Slice(Value):
    """A lazy slice ``start:stop:step`` of Ints (or None), for indexing Lists, Tuples and Strs."""

    kind = "Slice"
    _rank = 25

    def __new__(cls, start: Any = None, stop: Any = None, step: Any = None) -> "Slice":
        parts = [_promote_arg(p, ("Int", "NoneType"), "Slice()", name)
                 for p, name in ((start, "start"), (stop, "stop"), (step, "step"))]
        return cls._from_node(Node("make_slice", tuple(p._node for p in parts)))

    @classmethod
    def from_slice(cls, obj: slice) -> "Slice":
        """A Slice of a Python slice (whose parts may be wf Ints)."""
        return cls(obj.start, obj.stop, obj.step)

    @classmethod
    def _promote(cls, obj: Any) -> Value:
        if isinstance(obj, slice):
            return cls.from_slice(obj)
        if isinstance(obj, cls) or isinstance(obj, Any_):
            return super()._promote(obj)
        raise GraphTypeError(f"Cannot promote {obj!r} to Slice")

    @property
    def literal_value(self) -> slice | None:
        """The Python slice, if its parts are literals (or None), else None."""
        parts = self._node.args
        if all(p.op == "lit" for p in parts):
            return slice(*(p.args[0] for p in parts))
        return None


def range_(start: Any = None, stop: Any = None, step: Any = 1) -> List:
    """Python's ``range`` as a ``List[Int]``: ``wf.range(10)``, ``wf.range(0, 10, 2)``."""
    parts = [_promote_arg(p, ("Int", "NoneType"), "range()", name)
             for p, name in ((start, "start"), (stop, "stop"), (step, "step"))]
    if isinstance(parts[1], NoneType):
        if isinstance(parts[0], NoneType):
            raise GraphTypeError("Must pass the stop value to range")
        parts = [Int(0), parts[0], parts[2]]
    return List[Int]._from_node(Node("range", tuple(p._node for p in parts)))


#: What ``zip`` takes: Lists, Strs (their characters), ImageCollections (their Images)
#: and Images (their bands, each an Image).
ZIPPABLE = ("List", "ImageCollection", "Image", "Str")


def zip_(*sequences: Any) -> List:
    """Python's ``zip`` of wf sequences: a ``List[Tuple[...]]`` of their items, as long as the shortest.

    Raises
    ------
    GraphTypeError
        An argument that is not a wf List, Str, ImageCollection or Image (Python lists
        and strs too: make them wf values first).
    """
    types = []
    for i, seq in enumerate(sequences):
        if not (isinstance(seq, (List, Str)) or (isinstance(seq, Value) and seq.kind in ("Image", "ImageCollection"))):
            raise GraphTypeError(
                "All arguments to 'zip' must be Proxytype sequences (the Python equivalents are not supported): one "
                f"of {', '.join(ZIPPABLE)}.\nArgument {i} is {type(seq).__name__!r}: {seq!r}")
        types.append(getattr(seq, "_element_type", type(seq)))
    return List[Tuple[tuple(types)]]._from_node(Node("zip", tuple(s._node for s in sequences)))


@register_promoter
def _promote_container(obj: Any) -> Value | None:
    if isinstance(obj, list):
        return List(obj)
    if isinstance(obj, tuple):
        return Tuple(obj)
    if isinstance(obj, Mapping):
        return Dict(obj)
    if isinstance(obj, slice):
        return Slice.from_slice(obj)
    return None


TYPES.update(List=List, Tuple=Tuple, Dict=Dict, KnownDict=KnownDict, Struct=Struct, Slice=Slice)
# The kinds of the JSON form come back as these (item types are not part of the JSON form).
KINDS["List"] = List[Any_]
KINDS["Dict"] = Dict[Str, Any_]
