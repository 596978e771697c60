"""Content-addressed graph nodes, their JSON form, and the checks a loaded graph passes.

A :class:`Node` is an operation name, positional arguments and keyword arguments. Each
argument is another Node or a JSON literal. A node's id is the SHA-256 of its canonical
JSON with children replaced by their ids, so equal graphs have equal ids.

JSON form (what a job row stores, what the tile server renders)::

    {"kind": "Int", "root": "<id>",
     "nodes": {"<id>": {"op": "add", "args": [{"ref": "<id>"}, {"lit": 1}], "kwargs": {}}}}

``kind`` is the kind of the result (what the output formats go by: ``"Int"``, ``"List"``,
``"Dict"``, ...); a parametrised container also has ``"type"``, its full type
(``"List[Tuple[Str, Int]]"``), so :meth:`wf_widgets.values.Value.from_json` rebuilds it.

Loading (:func:`from_json`) turns any input into a valid graph or a
:class:`~wf_widgets.errors.ValidationError`, never another exception. A valid graph has:

* at most :data:`MAX_NODES` nodes; ids that are strings; a root among them;
* nodes ``{"op": str, "args": [...], "kwargs": {...}}`` (``kwargs`` may be left out) whose
  arguments are ``{"ref": "<id>"}`` of a node of the graph or ``{"lit": <JSON>}``;
* no cycle;
* literals of JSON types only (null, bool, numbers, str, lists and objects with str keys),
  nested at most :data:`MAX_LITERAL_DEPTH` deep, integers of at most :data:`MAX_INT_BITS` bits;
* only operations with a declared :class:`Signature`, called with the arguments it
  accepts: how many positional arguments, which keyword arguments, a literal where a
  literal is expected, of the literal's types and allowed values.

The signatures live next to the implementations of the operations
(:mod:`wf_widgets.engine.ops`, :mod:`wf_widgets.engine.imagery`), which :func:`declare`
them here when they register; this module imports nothing of the engine.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Callable, Iterator

from ..errors import ValidationError, ValidationTypeError

#: Most nodes a graph may have.
MAX_NODES = 100_000
#: Deepest nesting of lists and objects inside one literal.
MAX_LITERAL_DEPTH = 32
#: Largest integer literal, in bits (about 2,500 decimal digits).
MAX_INT_BITS = 8192
#: Longest ``type`` of a graph, in characters.
MAX_TYPE_NAME = 2000


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


class Node:
    """One operation in a graph. Immutable; hashed and compared by :attr:`id`."""

    __slots__ = ("op", "args", "kwargs", "_id", "_spec", "_order")

    @classmethod
    def _trusted(cls, op: str, args: tuple, kwargs: dict, spec: dict, node_id: str) -> "Node":
        """A node rebuilt from a stored graph whose id is already known (no rehashing)."""
        node = object.__new__(cls)
        node.op, node.args, node.kwargs, node._spec, node._id = op, args, kwargs, spec, node_id
        node._order = None
        return node

    def __init__(self, op: str, args: tuple = (), kwargs: dict | None = None):
        self.op = op
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        check_call(op, self.args, self.kwargs)  # a node that exists fits its op's signature
        spec = {
            "op": op,
            "args": [_encode_arg(a) for a in self.args],
            "kwargs": {k: _encode_arg(v) for k, v in sorted(self.kwargs.items())},
        }
        self._spec = spec
        self._order: tuple[Node, ...] | None = None
        self._id = hashlib.sha256(_canonical(spec).encode()).hexdigest()[:32]

    @property
    def id(self) -> str:
        """Content hash: equal graphs have equal ids."""
        return self._id

    def children(self) -> Iterator["Node"]:
        for a in self.args:
            if isinstance(a, Node):
                yield a
        for v in self.kwargs.values():
            if isinstance(v, Node):
                yield v

    def walk(self) -> tuple["Node", ...]:
        """Every distinct node below and including this one, children before parents (cached)."""
        if self._order is None:
            self._order = self._walk()
        return self._order

    def _walk(self) -> tuple["Node", ...]:
        order: list[Node] = []
        seen: set[str] = set()
        stack: list[tuple[Node, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if node._id in seen:
                continue
            if expanded:
                seen.add(node._id)
                order.append(node)
                continue
            stack.append((node, True))
            for child in node.children():
                if child._id not in seen:
                    stack.append((child, False))
        return tuple(order)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)

    def __repr__(self) -> str:
        return f"Node({self.op!r}, id={self._id[:8]})"


def _encode_arg(a: Any) -> dict:
    if isinstance(a, Node):
        return {"ref": a._id}
    return {"lit": a}


def to_json(node: Node, kind: str, type_name: str | None = None) -> dict:
    """The JSON-serialisable graph of ``node``, whose value has kind ``kind`` (and type ``type_name``, if given)."""
    graph = {"kind": kind, "root": node.id, "nodes": {n.id: n._spec for n in node.walk()}}
    if type_name is not None:
        graph["type"] = type_name
    return graph


# -- signatures ------------------------------------------------------------------------------
_REQUIRED: Any = object()


@dataclasses.dataclass(frozen=True)
class Param:
    """One argument of an operation.

    Attributes
    ----------
    name : str
        Named in errors as ``"<op>.<name>"``.
    literal : bool
        The argument must be a literal (``{"lit": ...}``), never another node's result.
    types : tuple of type, optional
        The Python types a literal may have (``type(None)`` for null; ``float`` also takes
        int; ``bool`` is not an int here). None: any JSON value.
    allowed : tuple, optional
        The values a literal may take.
    check : callable, optional
        ``check(value, field)`` for a literal, raising ValidationError (list contents, dates, ...).
    required : bool
        False: the argument may be left out (it has a default).
    """

    name: str
    literal: bool = False
    types: tuple[type, ...] | None = None
    allowed: tuple | None = None
    check: Callable[[Any, str], None] | None = None
    required: bool = True


@dataclasses.dataclass(frozen=True)
class Signature:
    """The arguments an operation accepts.

    Attributes
    ----------
    params : tuple of Param
        Positional parameters in order; the required ones first.
    varargs : Param, optional
        Any number of further positional arguments, each checked against it.
    keywords : bool
        Whether the optional parameters may also be given by keyword (``kwargs``).
    check : callable, optional
        ``check(op, args, kwargs)``: a check across arguments (as many keys as values, ...).
    """

    params: tuple[Param, ...] = ()
    varargs: Param | None = None
    keywords: bool = False
    check: Callable[[str, tuple, dict], None] | None = None

    def arity(self) -> str:
        """How many positional arguments, in words (``"2"``, ``"1 to 3"``, ``"at least 1"``)."""
        low = sum(p.required for p in self.params)
        high = len(self.params)
        if self.varargs is not None:
            return f"at least {low}"
        return str(low) if low == high else f"{low} to {high}"


#: Operation name -> its Signature, declared by the engine when it registers the operation.
SIGNATURES: dict[str, Signature] = {}


def declare(name: str, signature: Signature) -> None:
    """Declare the arguments operation ``name`` accepts (called where the operation is registered)."""
    SIGNATURES[name] = signature


def value(name: str, required: bool = True) -> Param:
    """A parameter taking another node's result or any literal."""
    return Param(name, required=required)


def literal(name: str, *types: type, allowed: Any = None, check: Callable[[Any, str], None] | None = None,
            required: bool = True) -> Param:
    """A parameter taking a literal only, of ``types`` (any JSON value if none), ``allowed`` values."""
    return Param(name, literal=True, types=tuple(types) or None,
                 allowed=tuple(allowed) if allowed is not None else None, check=check, required=required)


_TYPE_NAMES = {type(None): "null", bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "object"}


def _type_ok(v: Any, types: tuple[type, ...]) -> bool:
    if v is None:
        return type(None) in types
    if isinstance(v, bool):
        return bool in types
    if isinstance(v, int):
        return int in types or float in types
    if isinstance(v, float):
        return float in types
    if isinstance(v, str):
        return str in types
    if isinstance(v, (list, tuple)):
        return list in types
    if isinstance(v, Mapping):
        return dict in types
    return False


def check_literal(v: Any, field: str) -> None:
    """Raise ValidationError unless ``v`` is a JSON value within the limits of the module docstring."""
    stack = [(v, 0)]
    while stack:
        item, depth = stack.pop()
        if item is None or isinstance(item, (bool, float, str)):
            continue
        if isinstance(item, int):
            if item.bit_length() > MAX_INT_BITS:
                raise ValidationError(f"Integer literal of {field!r} is too large (more than {MAX_INT_BITS} bits)",
                                      field=field, value=item.bit_length())
            continue
        if isinstance(item, (list, tuple, Mapping)):
            if depth >= MAX_LITERAL_DEPTH:
                raise ValidationError(f"Literal of {field!r} is nested more than {MAX_LITERAL_DEPTH} deep",
                                      field=field, value=depth)
            if isinstance(item, Mapping):
                for key in item:
                    if not isinstance(key, str):
                        raise ValidationError(f"Literal object of {field!r} has a key of type "
                                              f"{type(key).__name__}; keys must be str", field=field,
                                              value=type(key).__name__)
                items = item.values()
            else:
                items = item
            stack.extend((x, depth + 1) for x in items)
            continue
        raise ValidationError(
            f"Literal of {field!r} has type {type(item).__name__}; allowed: null, bool, int, float, str, list, object",
            field=field, value=type(item).__name__, allowed=tuple(_TYPE_NAMES.values()))


def _check_arg(op: str, param: Param, arg: Any) -> None:
    field = f"{op}.{param.name}"
    if isinstance(arg, Node):
        if param.literal:
            raise ValidationError(f"{field!r} must be a literal, not the result of operation {arg.op!r}",
                                  field=field, value=arg.op)
        return
    check_literal(arg, field)
    if param.types is not None and not _type_ok(arg, param.types):
        names = [_TYPE_NAMES.get(t, t.__name__) for t in param.types]
        raise ValidationError(f"{field!r} must be {' or '.join(names)}, got {type(arg).__name__} {_short(arg)}",
                              field=field, value=arg, allowed=names)
    if param.allowed is not None and not any(_same(arg, a) for a in param.allowed):
        raise ValidationError.bad_value(field, arg, param.allowed)
    if param.check is not None:
        param.check(arg, field)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _short(v: Any, n: int = 80) -> str:
    text = repr(v)
    return text if len(text) <= n else text[:n - 3] + "..."


def check_call(op: Any, args: tuple, kwargs: Mapping[str, Any]) -> None:
    """Raise ValidationError unless ``op(*args, **kwargs)`` fits the declared signature of ``op``.

    Arguments that are :class:`Node` stand for results of other operations.
    """
    sig = SIGNATURES.get(op) if isinstance(op, str) else None
    if sig is None:
        raise ValidationError.bad_value("graph.op", op if isinstance(op, str) else _short(op), sorted(SIGNATURES),
                                        what="operation")
    params = sig.params
    n = len(args)
    low = sum(p.required for p in params)
    if n < low or (n > len(params) and sig.varargs is None):
        raise ValidationError(f"Operation {op!r} takes {sig.arity()} positional argument(s), got {n}",
                              field=f"{op}.args", value=n)
    for i, arg in enumerate(args):
        _check_arg(op, params[i] if i < len(params) else sig.varargs, arg)
    if kwargs:
        allowed = [p.name for p in params[n:] if not p.required] if sig.keywords else []
        for key, arg in kwargs.items():
            if key not in allowed:
                raise ValidationError.bad_value(f"{op}.kwargs", key if isinstance(key, str) else _short(key), allowed,
                                                what="keyword argument")
            _check_arg(op, next(p for p in params if p.name == key), arg)
    if sig.check is not None:
        sig.check(op, tuple(args), dict(kwargs))


def validate(root: Node) -> Node:
    """Check a graph built in Python as :func:`from_json` would, and that it can be computed; returns ``root``.

    Every node was checked against its op's signature when it was made (``Node.__init__``;
    :func:`from_json` checks what it loads), so what is left is the graph's size, and that
    no parameter is left without a value (``compute(**arguments)`` binds them first).

    Raises
    ------
    ValidationError
        Too many nodes.
    ValidationTypeError
        A parameter without a value.
    """
    nodes = root.walk()
    if len(nodes) > MAX_NODES:
        raise ValidationError(f"The graph has {len(nodes):,} nodes, more than {MAX_NODES:,}", field="graph",
                              value=len(nodes))
    unbound = sorted({n.args[0] for n in nodes if n.op == "parameter"})
    if unbound:
        raise ValidationTypeError(
            f"The graph depends on parameter(s) {', '.join(map(repr, unbound))} without a value: pass them when "
            f"computing, like value.compute({', '.join(f'{n}=...' for n in unbound)})", field="parameters",
            value=unbound)
    return root


# -- loading -----------------------------------------------------------------------------------
def parse(graph: Any) -> Mapping:
    """``graph`` as a mapping: JSON text or bytes are decoded; anything but an object is refused."""
    if isinstance(graph, (str, bytes, bytearray, memoryview)):
        try:
            graph = json.loads(bytes(graph) if isinstance(graph, memoryview) else graph)
        except RecursionError:
            raise ValidationError("The graph is not valid JSON: nested too deeply", field="graph") from None
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, too many digits
            raise ValidationError(f"The graph is not valid JSON: {exc}", field="graph") from None
    if not isinstance(graph, Mapping):
        raise ValidationError(f"A graph is a JSON object with 'root' and 'nodes', got {type(graph).__name__}",
                              field="graph", value=type(graph).__name__)
    return graph


def _bad(message: str, value: Any = None) -> ValidationError:
    return ValidationError(message, field="graph", value=value)


def _node_spec(nodes: Mapping, node_id: str) -> tuple[str, list, dict]:
    """The checked ``(op, args, kwargs)`` of node ``node_id`` (arguments still in JSON form)."""
    spec = nodes[node_id]
    if not isinstance(spec, Mapping):
        raise _bad(f"Graph node {node_id!r} is not an object", node_id)
    extra = [k for k in spec if k not in ("op", "args", "kwargs")]
    if extra:
        raise _bad(f"Graph node {node_id!r} has unknown key(s) {', '.join(map(_short, extra))}; allowed: 'op', "
                   "'args', 'kwargs'", node_id)
    op, args, kwargs = spec.get("op"), spec.get("args"), spec.get("kwargs", {})
    if not isinstance(op, str):
        raise _bad(f"Graph node {node_id!r} needs an 'op' string", node_id)
    if not isinstance(args, (list, tuple)):
        raise _bad(f"Graph node {node_id!r} needs an 'args' list", node_id)
    if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
        raise _bad(f"Graph node {node_id!r}: 'kwargs' must be an object", node_id)
    for arg in list(args) + list(kwargs.values()):
        if not isinstance(arg, Mapping) or len(arg) != 1 or next(iter(arg)) not in ("ref", "lit"):
            raise _bad(f"Graph node {node_id!r} has an argument {_short(arg)} that is neither {{'ref': id}} nor "
                       "{'lit': value}", node_id)
        if "ref" in arg:
            ref = arg["ref"]
            if not isinstance(ref, str) or ref not in nodes:
                raise _bad(f"Graph node {node_id!r} refers to unknown node {_short(ref)}", _short(ref))
    return op, list(args), dict(kwargs)


def from_json(graph: Any, verify: bool = True) -> Node:
    """Rebuild the root :class:`Node` of a graph made by :func:`to_json`, checking it (module docstring).

    Parameters
    ----------
    graph : dict, str or bytes
        The graph, or its JSON text.
    verify : bool
        Also rehash every node and require it to match its id (the default); a worker
        reading a graph its own store wrote may skip that. The other checks always run.

    Raises
    ------
    ValidationError
        Whatever is wrong with ``graph`` (and nothing else).
    """
    graph = parse(graph)
    kind, nodes, root = graph.get("kind"), graph.get("nodes"), graph.get("root")
    extra = [k for k in graph if k not in ("kind", "type", "root", "nodes")]
    if extra:
        raise _bad(f"A graph has unknown key(s) {', '.join(map(_short, extra))}; allowed: 'kind', 'type', 'root', "
                   "'nodes'")
    if kind is not None and not isinstance(kind, str):
        raise _bad(f"A graph's 'kind' must be a str, got {type(kind).__name__}", _short(kind))
    type_ = graph.get("type")
    if type_ is not None and (not isinstance(type_, str) or len(type_) > MAX_TYPE_NAME):
        raise _bad(f"A graph's 'type' must be a str of at most {MAX_TYPE_NAME} characters, got {_short(type_)}",
                   _short(type_))
    if not isinstance(nodes, Mapping) or not isinstance(root, str):
        raise _bad("A graph needs 'root' (a node id) and 'nodes' (an object of nodes by id)")
    if len(nodes) > MAX_NODES:
        raise _bad(f"The graph has {len(nodes):,} nodes, more than {MAX_NODES:,}", len(nodes))
    if not all(isinstance(k, str) for k in nodes):
        raise _bad("A graph's node ids must be strings")
    if root not in nodes:
        raise _bad(f"Graph refers to unknown node {_short(root)}", root)

    built: dict[str, Node] = {}
    specs: dict[str, tuple[str, list, dict]] = {}
    # Depth first, iteratively (deep graphs don't hit the recursion limit); a node met again
    # while its own children are being built closes a cycle.
    stack: list[tuple[str, bool]] = [(root, False)]
    expanding: set[str] = set()
    while stack:
        node_id, ready = stack.pop()
        if node_id in built:
            continue
        if ready:
            expanding.discard(node_id)
            built[node_id] = _build(node_id, specs.pop(node_id), built, verify)
            continue
        if node_id in expanding:
            raise _bad(f"The graph has a cycle through node {node_id!r}", node_id)
        expanding.add(node_id)
        specs[node_id] = op, args, kwargs = _node_spec(nodes, node_id)
        stack.append((node_id, True))
        for arg in args + list(kwargs.values()):
            ref = arg.get("ref")
            if ref is not None and ref not in built:
                stack.append((ref, False))
    return built[root]


def _build(node_id: str, spec: tuple[str, list, dict], built: dict[str, Node], verify: bool) -> Node:
    op, args, kwargs = spec

    def decode(arg: Mapping) -> Any:
        return built[arg["ref"]] if "ref" in arg else arg["lit"]

    values = tuple(decode(a) for a in args)
    named = {k: decode(v) for k, v in kwargs.items()}
    check_call(op, values, named)
    if not verify:
        clean = {"op": op, "args": [dict(a) for a in args], "kwargs": {k: dict(v) for k, v in sorted(kwargs.items())}}
        return Node._trusted(op, values, named, clean, node_id)
    node = Node(op, values, named)
    if node.id != node_id:
        raise _bad(f"Graph node {node_id!r} does not match its content", node_id)
    return node


def graph_id(graph: dict) -> str:
    """The content id of a graph's root (equal graphs, equal ids)."""
    return graph["root"]
